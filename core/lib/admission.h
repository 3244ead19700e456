/*
 * admission.h - running the admission chain (admission/chain.go): every
 * mutating admit in chain order, then every validate; the first error
 * ends the request.  Plugins that do not handle the operation are
 * skipped.
 */
#ifndef KAPI_ADMISSION_H
#define KAPI_ADMISSION_H

#include "server.h"

/* obj may be NULL (DELETE).  Return 0 or <0 with e set. */
int kapi_admission_mutate(kapi_server *srv, kapi_req *r, kj *obj,
                          kapi_error *e);
int kapi_admission_validate(kapi_server *srv, kapi_req *r, const kj *obj,
                            kapi_error *e);

#endif
