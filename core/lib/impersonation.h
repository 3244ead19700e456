/*
 * impersonation.h - the chain stage between authentication and
 * authorization that applies Impersonate-* headers (impersonation.c).
 */
#ifndef KAPI_IMPERSONATION_H
#define KAPI_IMPERSONATION_H

#include "server.h"

/* Replaces r->user by the impersonated user (the authenticated one moves
 * to r->impersonator) when every requested value may be impersonated;
 * 400 for groups/uid/extra without a user, 403 as upstream otherwise. */
int kapi_stage_impersonation(kapi_server *srv, kapi_req *r,
                             kapi_response *resp, kapi_error *e);
#endif
