/*
 * chain.h - the handler chain, modelled on curl's connection filters: an
 * ordered list of small, replaceable stages, each of which either passes
 * the request on (0) or ends it with an error (<0, `e` set).
 *
 *   request-info -> authentication -> authorization -> registry
 *
 * Writes continue inside the registry stage through the admission
 * stages (admission.h): decode -> mutating admission -> strategy
 * (defaults, validation) -> validating admission -> storage, which is
 * where upstream runs them too.
 */
#ifndef KAPI_CHAIN_H
#define KAPI_CHAIN_H

#include "server.h"

typedef struct kapi_stage {
  const char *name;
  int (*run)(kapi_server *srv, kapi_req *r, kapi_response *resp,
             kapi_error *e);
} kapi_stage;

/* The stages in order, NULL-terminated (for --list-plugins and docs). */
const kapi_stage *const *kapi_chain_stages(void);

/* Runs the authorizer chain over r's RequestInfo and user (r borrowed;
 * a caller may build r by hand, as the access reviews do).  Returns
 * KAPI_ALLOW, KAPI_DENY or KAPI_NO_OPINION (no authorizer decided);
 * *reason, if reason is non-NULL, receives the deciding authorizer's
 * message, newly allocated (free it), or NULL. */
int kapi_authorize(kapi_server *srv, kapi_req *r, char **reason);

/* Runs the authenticators (anonymous aside) on a bearer token alone, as
 * a TokenReview does: *ret is the user (caller frees) or NULL when no
 * authenticator accepts it.  0 or -ENOMEM. */
int kapi_authenticate_token(kapi_server *srv, const char *token, kj **ret);

#endif
