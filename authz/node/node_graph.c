/*
 * node_graph.c - relationships between objects and nodes, read from the
 * store at request time (see node_graph.h).
 *
 * Reading rather than caching is a deliberate trade: a kubelet asks for
 * a secret or configmap once per pod start (kapi's kubelet does not at
 * all), and scanning the pods of one namespace is cheap next to keeping
 * a second copy of every pod consistent with the store.
 */
#include <errno.h>
#include <string.h>

#include "node_graph.h"
#include "pod_refs.h"

static int same(const char *a, const char *b)
{
  return a && b && !strcmp(a, b);
}

/* obj -> node: a pod or volume attachment whose spec.nodeName is `node`. */
static int spec_node_is(const kapi_host_api *api, const kapi_obj *obj,
                        const char *node)
{
  return same(api->obj_get(obj, "/spec/nodeName"), node);
}

/* A cluster-scoped or namespaced object whose spec.nodeName is `node`. */
static int bound_to_node(const kapi_host_api *api, const char *group,
                         const char *resource, const char *ns,
                         const char *name, const char *node)
{
  kapi_obj *o = NULL;
  int rc = api->store_get(group, resource, ns, name, &o);

  if (rc == -ENOENT)
    return 0;
  if (rc < 0)
    return rc;
  rc = spec_node_is(api, o, node);
  api->obj_free(o);
  return rc;
}

/* What pod_refs_visit looks for: one reference. */
typedef struct wanted {
  node_vertex type;
  const char *name;
} wanted;

static int matches(void *arg, pod_ref_kind kind, const char *name)
{
  const wanted *w = arg;

  switch (kind) {
  case POD_REF_SERVICE_ACCOUNT:
    return w->type == NODE_VERTEX_SERVICE_ACCOUNT && !strcmp(name, w->name);
  case POD_REF_SECRET:
    return w->type == NODE_VERTEX_SECRET && !strcmp(name, w->name);
  case POD_REF_CONFIGMAP:
    return w->type == NODE_VERTEX_CONFIGMAP && !strcmp(name, w->name);
  case POD_REF_PVC:
  case POD_REF_EPHEMERAL_PVC:
    return w->type == NODE_VERTEX_PVC && !strcmp(name, w->name);
  }
  return 0;
}

/* object -> pod -> node: some pod of `ns` bound to `node` uses the
 * object.  Mirror pods give no edges (graph.go AddPod short-circuits
 * them: a node must not gain access by creating a pod). */
static int used_by_pod_on_node(const kapi_host_api *api, const char *node,
                               node_vertex type, const char *ns,
                               const char *name)
{
  wanted w = {type, name};
  kapi_obj *pods = NULL;
  size_t i, n;
  int rc, found = 0;

  if (!KAPI_API_HAS(api, store_list))
    return -ENOSYS;
  rc = api->store_list("", "pods", ns, NULL, &pods);
  if (rc == -ENOENT)
    return 0;
  if (rc < 0)
    return rc;
  n = api->obj_len(pods);
  for (i = 0; i < n && !found; i++) {
    const kapi_obj *pod = api->obj_index(pods, i);
    found = spec_node_is(api, pod, node) && !pod_refs_is_mirror(api, pod) &&
            pod_refs_visit(api, pod, matches, &w) != 0;
  }
  api->obj_free(pods);
  return found;
}

/* pv -> pvc -> pod -> node, through the volume's spec.claimRef. */
static int pv_path(const kapi_host_api *api, const char *node,
                   const char *name)
{
  kapi_obj *pv = NULL;
  const char *claim_ns, *claim;
  int rc = api->store_get("", "persistentvolumes", NULL, name, &pv);

  if (rc == -ENOENT)
    return 0;
  if (rc < 0)
    return rc;
  claim_ns = api->obj_get(pv, "/spec/claimRef/namespace");
  claim = api->obj_get(pv, "/spec/claimRef/name");
  rc = claim_ns && *claim_ns && claim && *claim
           ? used_by_pod_on_node(api, node, NODE_VERTEX_PVC, claim_ns, claim)
           : 0;
  api->obj_free(pv);
  return rc;
}

int node_graph_has_path(const kapi_host_api *api, const char *node,
                        node_vertex type, const char *ns, const char *name)
{
  if (!node || !*node || !name || !*name)
    return 0;
  switch (type) {
  case NODE_VERTEX_POD:
    return bound_to_node(api, "", "pods", ns, name, node);
  case NODE_VERTEX_VOLUME_ATTACHMENT:
    return bound_to_node(api, "storage.k8s.io", "volumeattachments", NULL,
                         name, node);
  case NODE_VERTEX_PV:
    return pv_path(api, node, name);
  case NODE_VERTEX_SECRET:
  case NODE_VERTEX_CONFIGMAP:
  case NODE_VERTEX_PVC:
  case NODE_VERTEX_SERVICE_ACCOUNT:
    if (!ns || !*ns)
      return 0;
    return used_by_pod_on_node(api, node, type, ns, name);
  }
  return 0;
}

const char *node_vertex_name(node_vertex type)
{
  switch (type) {
  case NODE_VERTEX_POD:
    return "pod";
  case NODE_VERTEX_SECRET:
    return "secret";
  case NODE_VERTEX_CONFIGMAP:
    return "configmap";
  case NODE_VERTEX_PVC:
    return "pvc";
  case NODE_VERTEX_PV:
    return "pv";
  case NODE_VERTEX_SERVICE_ACCOUNT:
    return "serviceAccount";
  case NODE_VERTEX_VOLUME_ATTACHMENT:
    return "volumeattachment";
  }
  return "unknown";
}
