/*
 * openapi.h - the OpenAPI v3 documents kubectl reads.
 *
 *   GET /openapi/v3            {"paths":{"api/v1":{"serverRelativeURL":
 *                               "/openapi/v3/api/v1?hash=<hex>"},...}}
 *   GET /openapi/v3/api/v1     one OpenAPI 3.0 document per group version
 *   GET /openapi/v3/apis/<g>/<v>
 *   GET /openapi/v2            404 (kubectl then relies on v3 alone)
 *
 * kubectl's default --validate=strict looks for a PATCH operation tagged
 * with the kind's x-kubernetes-group-version-kind that lists the
 * fieldValidation query parameter; finding it, it leaves validation to
 * the server.  `kubectl explain` reads components.schemas, generated
 * from each resource's compact schema.
 *
 * The documents depend only on the registry, which never changes after
 * start: they are built once, on first use, and served from a cache.
 */
#ifndef KAPI_OPENAPI_H
#define KAPI_OPENAPI_H

#include "server.h"

/*
 * Answers a request under /openapi.  Returns 1 if r->path (borrowed) is
 * under /openapi and `resp` holds the answer (a 404 Status for unknown
 * documents and for /openapi/v2), 0 otherwise (resp untouched).  Only
 * GET and HEAD are answered.  The hash query parameter is ignored: a
 * document is always served in its current (and only) version.  srv and
 * r are borrowed; resp's previous body, if any, is replaced.
 * Thread-safe.
 */
int kapi_openapi_handle(kapi_server *srv, kapi_req *r, kapi_response *resp);

/* Frees the cached documents; the next request rebuilds them.  For exit
 * and for tests that swap registries.  Thread-safe. */
void kapi_openapi_cache_free(void);

#endif
