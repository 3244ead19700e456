/*
 * discovery.h - API discovery: what groups, versions and resources the
 * server has, as kubectl reads them before every command.
 *
 *   GET /api                 APIVersions, or the aggregated
 *   GET /apis                APIGroupList, or the aggregated
 *   GET /api/<v>             APIResourceList of the core group
 *   GET /apis/<g>/<v>        APIResourceList
 *   GET /apis/<g>            APIGroup
 *
 * /api and /apis answer in the aggregated form (apidiscovery.k8s.io
 * APIGroupDiscoveryList, v2 or v2beta1) when the Accept header asks for
 * it first; that response's Content-Type carries the g/v/as parameters,
 * without which kubectl reads the body as legacy and sees no resources.
 * Everything is computed from the registry, which never changes after
 * start.
 */
#ifndef KAPI_DISCOVERY_H
#define KAPI_DISCOVERY_H

#include "server.h"

/*
 * Answers a discovery request.  Returns 1 if r->path (borrowed) is a
 * discovery path and `resp` holds the answer (a 404 Status for an
 * unknown group or version), 0 if it is not a discovery path or not a
 * GET/HEAD (resp untouched: the caller routes it on).  srv and r are
 * borrowed; resp's previous body, if any, is replaced.
 */
int kapi_discovery_handle(kapi_server *srv, kapi_req *r, kapi_response *resp);

#endif
