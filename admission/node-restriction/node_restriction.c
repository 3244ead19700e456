/*
 * node_restriction.c - the NodeRestriction admission plugin.
 *
 * Upstream: plugin/pkg/admission/noderestriction/admission.go.  The Node
 * authorizer lets kubelets write nodes, pods, leases... in general; this
 * plugin, which sees the objects, keeps each kubelet (system:node:<name>
 * in group system:nodes) to its own:
 *
 *  - pods: create only mirror pods bound to itself, owned by its Node and
 *    using no other API object; delete, pods/status and pods/eviction
 *    only of pods bound to itself (nr_pod.c);
 *  - nodes: only its own, created without configSource, with neither
 *    taints nor restricted labels changed (nr_node.c);
 *  - persistentvolumeclaims: only status.capacity and status.conditions;
 *  - serviceaccounts/token: only bound to a pod of its own;
 *  - leases: its own, in kube-node-lease; CSINodes: its own.
 * Other users and other resources pass.  Messages are upstream's, in
 * admission.NewForbidden's shape.
 *
 * Deliberate differences from upstream:
 *  - It runs in the validating phase (upstream's Admit is mutating but
 *    changes nothing): kapi offers DELETE to validating plugins only, and
 *    validation sees the final object.
 *  - Objects are read from the store (store_get) where upstream uses
 *    informer listers: never stale.
 *  - The PVC status message names the first differing field instead of
 *    go-cmp's diff text.
 *  - Resource slices, PodCertificateRequests and the
 *    ServiceAccountNodeAudienceRestriction audience checks are not
 *    implemented: kapi serves none of them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "node_restriction.h"

#define NODE_USER_PREFIX "system:node:"
#define NODES_GROUP "system:nodes"
#define NODE_LEASE_NAMESPACE "kube-node-lease"

const kapi_host_api *nr_api;
kapi_plugin *nr_self;

static const char *or_empty(const char *s)
{
  return s ? s : "";
}

static int is(const char *a, const char *b)
{
  return !strcmp(or_empty(a), b);
}

/* ---- errors -------------------------------------------------------------- */

/* extractResourceName: the object's name or generateName, else
 * "Unknown". */
static const char *subject_name(const nr_req *q)
{
  const char *name = nr_api->obj_get(q->obj, "/metadata/name");

  if (!name || !*name)
    name = nr_api->obj_get(q->obj, "/metadata/generateName");
  return name && *name ? name : "Unknown";
}

int nr_forbid(const nr_req *q, kapi_error *e, const char *fmt, ...)
{
  char why[1024];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  nr_api->error_set(e, 403, "Forbidden", "%s%s%s \"%s\" is forbidden: %s",
                    q->resource, *q->group ? "." : "", q->group,
                    subject_name(q), why);
  nr_api->log(nr_self, 2, "NODE-FORBIDDEN: %s %s %s/%s: %s", q->op,
              q->resource, q->ns, q->name, why);
  return -EPERM;
}

int nr_not_found(kapi_error *e, const char *group, const char *resource,
                 const char *name)
{
  nr_api->error_set(e, 404, "NotFound", "%s%s%s \"%s\" not found", resource,
                    *group ? "." : "", group, name);
  return -ENOENT;
}

/* ---- persistentvolumeclaims ---------------------------------------------- */

/* A node may change a claim's status.capacity and status.conditions and,
 * with RecoverVolumeExpansionFailure (on by default), its allocated
 * resources: nothing else, metadata included. */
static int admit_pvc(const nr_req *q, kapi_error *e)
{
  static const char *const allowed[] = {
      "/metadata/resourceVersion",  "/metadata/managedFields",
      "/status/capacity",           "/status/conditions",
      "/status/allocatedResourceStatuses", "/status/allocatedResources",
      NULL};
  char diff[512];

  if (!is(q->sub, "status"))
    return nr_forbid(q, e, "may only update PVC status");
  if (!is(q->op, "UPDATE"))
    return nr_forbid(q, e, "unexpected operation \"%s\"", q->op);
  if (!nr_equal(q->old, q->obj, allowed, diff, sizeof diff))
    return nr_forbid(q, e, "node \"%s\" is not allowed to update fields "
                           "other than status.capacity and "
                           "status.conditions: %s differs",
                     q->node, diff);
  return 0;
}

/* ---- serviceaccounts/token ----------------------------------------------- */

/* A token for a node must be bound to a pod of that node: the pod
 * binding is what lets the apiserver infer the node binding. */
static int admit_token(const nr_req *q, kapi_error *e)
{
  const kapi_host_api *api = nr_api;
  const kapi_obj *ref;
  const char *pod_name, *uid, *pod_uid, *bound;
  kapi_obj *pod = NULL;
  int rc;

  if (!is(q->op, "CREATE") || !is(q->sub, "token"))
    return 0;
  ref = api->obj_lookup(q->obj, "/spec/boundObjectRef");
  pod_name = api->obj_get(ref, "/name");
  if (api->obj_type(ref) != KAPI_OBJ_OBJECT ||
      !is(api->obj_get(ref, "/apiVersion"), "v1") ||
      !is(api->obj_get(ref, "/kind"), "Pod") || !pod_name || !*pod_name)
    return nr_forbid(q, e, "node requested token not bound to a pod");
  uid = api->obj_get(ref, "/uid");
  if (!uid || !*uid)
    return nr_forbid(q, e, "node requested token with a pod binding "
                           "without a uid");
  rc = api->store_get("", "pods", q->ns, pod_name, &pod);
  if (rc == -ENOENT)
    return nr_not_found(e, "", "pods", pod_name);
  if (rc < 0)
    return nr_forbid(q, e, "reading pod \"%s\": %s", pod_name,
                     strerror(-rc));
  pod_uid = api->obj_get(pod, "/metadata/uid");
  bound = api->obj_get(pod, "/spec/nodeName");
  if (!is(pod_uid, uid))
    rc = nr_forbid(q, e, "the UID in the bound object reference (%s) does "
                         "not match the UID in record. The object might "
                         "have been deleted and then recreated",
                   uid);
  else if (!is(bound, q->node))
    rc = nr_forbid(q, e, "node requested token bound to a pod scheduled "
                         "on a different node");
  else
    rc = 0;
  api->obj_free(pod);
  return rc;
}

/* ---- leases and CSINodes ------------------------------------------------- */

/* The object is the node's own: on create the name is in the body. */
static int own_name(const nr_req *q)
{
  const char *name = is(q->op, "CREATE")
                         ? nr_api->obj_get(q->obj, "/metadata/name")
                         : q->name;
  return is(name, q->node);
}

static int admit_lease(const nr_req *q, kapi_error *e)
{
  if (!is(q->ns, NODE_LEASE_NAMESPACE))
    return nr_forbid(q, e, "can only access leases in the \"%s\" system "
                           "namespace",
                     NODE_LEASE_NAMESPACE);
  if (!own_name(q))
    return nr_forbid(q, e, "can only access node lease with the same name "
                           "as the requesting node");
  return 0;
}

static int admit_csinode(const nr_req *q, kapi_error *e)
{
  if (!own_name(q))
    return nr_forbid(q, e, "can only access CSINode with the same name as "
                           "the requesting node");
  return 0;
}

/* ---- the request --------------------------------------------------------- */

/* 1 and *node set when the user is a node (NodeIdentity). */
static int node_identity(const kapi_req *r, const char **node)
{
  const char *user = nr_api->req_get(r, "user.name");
  const char *g;
  size_t i;

  if (!user || strncmp(user, NODE_USER_PREFIX, strlen(NODE_USER_PREFIX)))
    return 0;
  for (i = 0; (g = nr_api->req_group(r, i)); i++)
    if (!strcmp(g, NODES_GROUP)) {
      *node = user + strlen(NODE_USER_PREFIX);
      return 1;
    }
  return 0;
}

static void read_request(const kapi_req *r, const char *node,
                         const kapi_obj *obj, nr_req *q)
{
  const kapi_host_api *api = nr_api;

  memset(q, 0, sizeof *q);
  q->r = r;
  q->node = node;
  q->op = or_empty(api->req_get(r, "operation"));
  q->group = or_empty(api->req_get(r, "apiGroup"));
  q->resource = or_empty(api->req_get(r, "resource"));
  q->sub = or_empty(api->req_get(r, "subresource"));
  q->ns = or_empty(api->req_get(r, "namespace"));
  q->name = or_empty(api->req_get(r, "name"));
  q->old = api->req_old_object(r);
  /* kapi hands a DELETE the stored object; upstream's has none. */
  if (is(q->op, "DELETE")) {
    if (!q->old)
      q->old = obj;
    q->obj = NULL;
  } else {
    q->obj = obj;
  }
}

static int nr_validate(void *st, const kapi_req *r, const kapi_obj *obj,
                       kapi_error *e)
{
  const char *node = NULL;
  nr_req q;

  (void)st;
  if (!node_identity(r, &node))
    return 0; /* our job is only to restrict nodes */
  read_request(r, node, obj, &q);
  if (!*node)
    return nr_forbid(&q, e, "could not determine node from user \"%s\"",
                     nr_api->req_get(r, "user.name"));
  if (!*q.group) {
    if (!strcmp(q.resource, "pods"))
      return nr_admit_pod(&q, e);
    if (!strcmp(q.resource, "nodes"))
      return nr_admit_node(&q, e);
    if (!strcmp(q.resource, "persistentvolumeclaims"))
      return admit_pvc(&q, e);
    if (!strcmp(q.resource, "serviceaccounts"))
      return admit_token(&q, e);
  } else if (!strcmp(q.group, "coordination.k8s.io") &&
             !strcmp(q.resource, "leases")) {
    return admit_lease(&q, e);
  } else if (!strcmp(q.group, "storage.k8s.io") &&
             !strcmp(q.resource, "csinodes")) {
    return admit_csinode(&q, e);
  }
  return 0;
}

static const kapi_admission_ops nr_ops = {
    .size = sizeof(kapi_admission_ops),
    .handles = KAPI_OP_CREATE | KAPI_OP_UPDATE | KAPI_OP_DELETE,
    .validate = nr_validate,
};

static int nr_init(kapi_plugin *self, const kapi_host_api *host,
                   const char *config, size_t config_len, kapi_error *e)
{
  (void)config;
  (void)config_len;
  (void)e;
  nr_api = host;
  nr_self = self;
  return nr_api->register_admission(self, "NodeRestriction", &nr_ops, NULL,
                                    NULL);
}

KAPI_PLUGIN_DEFINE(.name = "node-restriction", .version = "0.1.0",
                   .description = "NodeRestriction admission: kubelets may "
                                  "modify only their own Node, Lease and "
                                  "the pods bound to them",
                   .license = "Apache-2.0", .init = nr_init);
