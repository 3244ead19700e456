/*
 * rest_review.h - the review APIs: authentication.k8s.io/v1
 * selfsubjectreviews and authorization.k8s.io/v1 selfsubjectaccessreviews,
 * subjectaccessreviews and selfsubjectrulesreviews.  They are computed
 * per request and never stored, so they are served here rather than
 * through the registry (kubectl auth whoami / auth can-i).
 */
#ifndef KAPI_REST_REVIEW_H
#define KAPI_REST_REVIEW_H

#include "server.h"

/* 1 if r names a review resource (answered into resp), else 0 and
 * resp is untouched.  All pointers borrowed. */
int kapi_review_handle(kapi_server *srv, kapi_req *r, kapi_response *resp);

#endif
