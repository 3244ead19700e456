/*
 * node_graph.h - "is this object related to that node?", the question
 * upstream's Node authorizer answers with its in-memory graph
 * (plugin/pkg/auth/authorizer/node/graph.go, hasPathFrom).
 *
 * kapi asks the store instead of keeping a graph: the edges are derived
 * from the stored objects at the time of the request, so they are never
 * stale and there is no informer to feed.  The edges are upstream's:
 *
 *   pod -> node                       (spec.nodeName)
 *   secret, configmap, pvc, sa -> pod (references, see pod_refs.h;
 *                                      none for mirror pods)
 *   pv -> pvc                         (spec.claimRef)
 *   volumeattachment -> node          (spec.nodeName)
 */
#ifndef KAPI_NODE_GRAPH_H
#define KAPI_NODE_GRAPH_H

#include "kapi/plugin.h"

typedef enum node_vertex {
  NODE_VERTEX_POD,
  NODE_VERTEX_SECRET,
  NODE_VERTEX_CONFIGMAP,
  NODE_VERTEX_PVC,
  NODE_VERTEX_PV,
  NODE_VERTEX_SERVICE_ACCOUNT,
  NODE_VERTEX_VOLUME_ATTACHMENT,
} node_vertex;

/*
 * 1 when object (type, ns, name) leads to node `node`, 0 when it does
 * not or does not exist, <0 (-errno) when the store could not be read.
 * All strings are borrowed; ns is NULL or "" for cluster-scoped types.
 */
int node_graph_has_path(const kapi_host_api *api, const char *node,
                        node_vertex type, const char *ns, const char *name);

/* "pod", "secret"...: upstream's vertex type names, for log lines. */
const char *node_vertex_name(node_vertex type);

#endif
