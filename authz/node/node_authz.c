/*
 * node_authz.c - the Node authorizer (--authorization-mode Node,RBAC).
 *
 * Upstream: plugin/pkg/auth/authorizer/node/node_authorizer.go.  It only
 * speaks for kubelets, users named system:node:<nodeName> in the group
 * system:nodes, and lets each of them reach what its own work needs:
 *
 *  - nodes: create, update and patch (NodeRestriction limits them to the
 *    node's own object), get/list/watch of its own Node only (a list or
 *    watch names it with fieldSelector=metadata.name=<node>), and
 *    nodes/status update/patch;
 *  - pods: get of a pod bound to it, list/watch with
 *    fieldSelector=spec.nodeName=<node> (or of one such pod by
 *    metadata.name), create (mirror pods, checked by NodeRestriction),
 *    delete, pods/status update/patch and pods/eviction create;
 *  - secrets, configmaps (get/list/watch of one named object), PVCs and
 *    PVs (get) and PVC status (update/patch) used by a pod bound to it;
 *    serviceaccounts/token create for a service account such a pod
 *    runs as; volume attachments (get) to it;
 *  - coordination.k8s.io leases in kube-node-lease of its own name
 *    (create of any name: NodeRestriction checks it), CSINodes of its
 *    own name;
 *  - the static rules of node_rules.c (events, services, CSRs...).
 * Everything else, non-resource URLs included, is NO_OPINION so that the
 * next authorizer (RBAC) decides.  Reasons are upstream's, word for word.
 *
 * Deliberate differences from upstream:
 *  - No graph: relationships are read from the store at request time
 *    (node_graph.c), so they are never stale; edges to resource claims,
 *    resource slices and from PVs to their secrets are not modelled
 *    (kapi serves none of those types), so those requests get no opinion.
 *  - Tighter on pods: delete, pods/status and pods/eviction of a pod
 *    that exists and is bound to another node are refused here already
 *    ("no relationship found ..."), not only by NodeRestriction.  A pod
 *    that does not exist is still allowed through, so that the request
 *    answers 404 as upstream (kapi's kubelet treats a 404 on its final
 *    delete as done; a 403 would make it retry forever).
 *  - The AuthorizeNodeWithSelectors gate is taken as on (its default
 *    since 1.32): node reads and pod lists are always subdivided.
 *  - A list/watch names its object through fieldSelector=metadata.name,
 *    which upstream's request-info parser turns into the request's name;
 *    kapi's core does not, so the authorizer reads the selector itself.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kapi/plugin.h"
#include "field_selector.h"
#include "node_graph.h"
#include "node_rules.h"

#define NODE_USER_PREFIX "system:node:"
#define NODES_GROUP "system:nodes"
#define NODE_LEASE_NAMESPACE "kube-node-lease"

static const kapi_host_api *api;
static kapi_plugin *self;

/* One request as the authorizer sees it; every string is borrowed from
 * the request, except name which may come from the field selector. */
typedef struct node_req {
  const kapi_req *r;
  const char *node; /* the requesting node */
  const char *verb, *group, *resource, *sub, *ns;
  const char *fields; /* the raw fieldSelector, or NULL */
  char name[256];     /* the object name, "" if none */
} node_req;

static const char *or_empty(const char *s)
{
  return s ? s : "";
}

static int is(const char *a, const char *b)
{
  return !strcmp(or_empty(a), b);
}

/* ---- identity (pkg/auth/nodeidentifier) ---------------------------------- */

/* 1 and *node set when the user is a node (its name may be ""). */
static int node_identity(const kapi_req *r, const char **node)
{
  const char *user = api->req_get(r, "user.name");
  const char *g;
  size_t i;

  if (!user || strncmp(user, NODE_USER_PREFIX, strlen(NODE_USER_PREFIX)))
    return 0;
  for (i = 0; (g = api->req_group(r, i)); i++)
    if (!strcmp(g, NODES_GROUP)) {
      *node = user + strlen(NODE_USER_PREFIX);
      return 1;
    }
  return 0;
}

/* ---- reasons ------------------------------------------------------------- */

static kapi_decision allow(void)
{
  return KAPI_ALLOW;
}

/* NO_OPINION with upstream's reason (or none when fmt is NULL), logged
 * at -v 2 as upstream's "NODE DENY" lines. */
static kapi_decision KAPI_PRINTF(3, 4)
    no_opinion(const node_req *q, kapi_error *e, const char *fmt, ...)
{
  char reason[512] = "";
  va_list ap;

  if (fmt) {
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    api->error_set(e, 403, "Forbidden", "%s", reason);
  }
  api->log(self, 2, "NODE DENY: '%s' %s %s%s%s%s%s %s/%s: %s", q->node,
           q->verb, q->resource, *q->sub ? "/" : "", q->sub,
           *q->group ? "." : "", q->group, q->ns, q->name,
           *reason ? reason : "no opinion");
  return KAPI_NO_OPINION;
}

static kapi_decision no_relationship(const node_req *q, kapi_error *e)
{
  return no_opinion(q, e, "no relationship found between node '%s' and "
                          "this object",
                    q->node);
}

/* ---- relationships ------------------------------------------------------- */

/* authorize(): the named object must lead to the node. */
static kapi_decision related(const node_req *q, node_vertex type,
                             kapi_error *e)
{
  int rc;

  if (!*q->name)
    return no_opinion(q, e, "No Object name found");
  rc = node_graph_has_path(api, q->node, type, q->ns, q->name);
  if (rc < 0)
    api->log(self, 2, "NODE DENY: node '%s' cannot get %s %s/%s: store "
                      "error %d",
             q->node, node_vertex_name(type), q->ns, q->name, rc);
  return rc > 0 ? allow() : no_relationship(q, e);
}

/* authorizeGet: get of one object, no subresource. */
static kapi_decision get_related(const node_req *q, node_vertex type,
                                 kapi_error *e)
{
  if (!is(q->verb, "get"))
    return no_opinion(q, e, "can only get individual resources of this "
                            "type");
  if (*q->sub)
    return no_opinion(q, e, "cannot get subresource");
  return related(q, type, e);
}

/* authorizeReadNamespacedObject: get/list/watch of one named object. */
static kapi_decision read_related(const node_req *q, node_vertex type,
                                  kapi_error *e)
{
  if (!is(q->verb, "get") && !is(q->verb, "list") && !is(q->verb, "watch"))
    return no_opinion(q, e, "can only read resources of this type");
  if (*q->sub)
    return no_opinion(q, e, "cannot read subresource");
  if (!*q->ns)
    return no_opinion(q, e, "can only read namespaced object of this type");
  return related(q, type, e);
}

/* authorizeStatusUpdate: update/patch of the status subresource. */
static kapi_decision status_related(const node_req *q, node_vertex type,
                                    kapi_error *e)
{
  if (!is(q->verb, "update") && !is(q->verb, "patch"))
    return no_opinion(q, e, "can only get/update/patch this type");
  if (!is(q->sub, "status"))
    return no_opinion(q, e, "can only update status subresource");
  return related(q, type, e);
}

/* ---- per resource -------------------------------------------------------- */

/* authorizeCreateToken: serviceaccounts/token of a pod's account. */
static kapi_decision service_account(const node_req *q, kapi_error *e)
{
  if (!is(q->verb, "create") || !*q->name)
    return no_opinion(q, e, "can only create tokens for individual service "
                            "accounts");
  if (!is(q->sub, "token"))
    return no_opinion(q, e, "can only create token subresource of "
                            "serviceaccount");
  return node_graph_has_path(api, q->node, NODE_VERTEX_SERVICE_ACCOUNT,
                             q->ns, q->name) > 0
             ? allow()
             : no_relationship(q, e);
}

static kapi_decision lease(const node_req *q, kapi_error *e)
{
  static const char *const verbs[] = {"get", "create", "update", "patch",
                                      "delete"};
  size_t i;

  for (i = 0; i < sizeof verbs / sizeof *verbs; i++)
    if (is(q->verb, verbs[i]))
      break;
  if (i == sizeof verbs / sizeof *verbs)
    return no_opinion(q, e, "can only get, create, update, patch, or delete "
                            "a node lease");
  if (!is(q->ns, NODE_LEASE_NAMESPACE))
    return no_opinion(q, e, "can only access leases in the \"%s\" system "
                            "namespace",
                      NODE_LEASE_NAMESPACE);
  /* A create carries its name in the body: NodeRestriction checks it. */
  if (!is(q->verb, "create") && strcmp(q->name, q->node))
    return no_opinion(q, e, "can only access node lease with the same name "
                            "as the requesting node");
  return allow();
}

static kapi_decision csinode(const node_req *q, kapi_error *e)
{
  static const char *const verbs[] = {"get", "create", "update", "patch",
                                      "delete"};
  size_t i;

  for (i = 0; i < sizeof verbs / sizeof *verbs; i++)
    if (is(q->verb, verbs[i]))
      break;
  if (i == sizeof verbs / sizeof *verbs)
    return no_opinion(q, e, "can only get, create, update, patch, or delete "
                            "a CSINode");
  if (*q->sub)
    return no_opinion(q, e, "cannot authorize CSINode subresources");
  if (!is(q->verb, "create") && strcmp(q->name, q->node))
    return no_opinion(q, e, "can only access CSINode with the same name as "
                            "the requesting node");
  return allow();
}

/* authorizeNode: writes pass to NodeRestriction, reads are by name so
 * that a kubelet can look for its Node before registering it. */
static kapi_decision node(const node_req *q, kapi_error *e)
{
  if (!*q->sub) {
    if (is(q->verb, "create") || is(q->verb, "update") ||
        is(q->verb, "patch"))
      return allow();
    if (is(q->verb, "get") || is(q->verb, "list") || is(q->verb, "watch")) {
      if (!strcmp(q->name, q->node))
        return allow();
      if (!*q->name)
        return no_opinion(q, e, "node '%s' cannot read all nodes, only its "
                                "own Node object",
                          q->node);
      return no_opinion(q, e, "node '%s' cannot read '%s', only its own "
                              "Node object",
                        q->node, q->name);
    }
  } else if (is(q->sub, "status") &&
             (is(q->verb, "update") || is(q->verb, "patch"))) {
    return allow();
  }
  return no_opinion(q, e, NULL);
}

/* A write to one pod (delete, status, eviction): allowed unless the pod
 * exists and is bound elsewhere; NodeRestriction checks it again. */
static kapi_decision pod_write(const node_req *q, kapi_error *e)
{
  kapi_obj *pod = NULL;
  const char *bound;
  int rc, mine;

  if (!*q->name)
    return allow();
  rc = api->store_get("", "pods", q->ns, q->name, &pod);
  if (rc < 0) /* missing: let the request answer 404 */
    return allow();
  bound = api->obj_get(pod, "/spec/nodeName");
  mine = bound && !strcmp(bound, q->node);
  api->obj_free(pod);
  return mine ? allow() : no_relationship(q, e);
}

/* authorizePod. */
static kapi_decision pod(const node_req *q, kapi_error *e)
{
  char bound[256];

  if (!*q->sub) {
    if (is(q->verb, "get"))
      return get_related(q, NODE_VERTEX_POD, e);
    if (is(q->verb, "list") || is(q->verb, "watch")) {
      if (field_selector_value(q->fields, "spec.nodeName", bound,
                               sizeof bound) &&
          !strcmp(bound, q->node))
        return allow();
      if (*q->name)
        return related(q, NODE_VERTEX_POD, e);
      return no_opinion(q, e, "can only list/watch pods with spec.nodeName "
                              "field selector");
    }
    if (is(q->verb, "create"))
      return allow(); /* mirror pods: NodeRestriction */
    if (is(q->verb, "delete"))
      return pod_write(q, e);
  } else if (is(q->sub, "status")) {
    if (is(q->verb, "update") || is(q->verb, "patch"))
      return pod_write(q, e);
  } else if (is(q->sub, "eviction")) {
    if (is(q->verb, "create"))
      return pod_write(q, e);
  }
  return no_opinion(q, e, NULL);
}

/* ---- the request --------------------------------------------------------- */

/* upstream's path.IsValidPathSegmentName: what can be a request name. */
static int valid_segment(const char *s)
{
  return *s && strcmp(s, ".") && strcmp(s, "..") && !strpbrk(s, "/%");
}

static void read_request(const kapi_req *r, const char *node, node_req *q)
{
  const char *name = api->req_get(r, "name");

  memset(q, 0, sizeof *q);
  q->r = r;
  q->node = node;
  q->verb = or_empty(api->req_get(r, "verb"));
  q->group = or_empty(api->req_get(r, "apiGroup"));
  q->resource = or_empty(api->req_get(r, "resource"));
  q->sub = or_empty(api->req_get(r, "subresource"));
  q->ns = or_empty(api->req_get(r, "namespace"));
  q->fields = api->req_get(r, "fieldSelector");
  if (name && *name) {
    snprintf(q->name, sizeof q->name, "%s", name);
  } else if ((is(q->verb, "list") || is(q->verb, "watch")) &&
             (!field_selector_value(q->fields, "metadata.name", q->name,
                                    sizeof q->name) ||
              !valid_segment(q->name))) {
    q->name[0] = '\0';
  }
}

static kapi_decision by_resource(const node_req *q, kapi_error *e)
{
  const char *res = q->resource;

  if (!*q->group) {
    if (!strcmp(res, "secrets"))
      return read_related(q, NODE_VERTEX_SECRET, e);
    if (!strcmp(res, "configmaps"))
      return read_related(q, NODE_VERTEX_CONFIGMAP, e);
    if (!strcmp(res, "persistentvolumeclaims"))
      return is(q->sub, "status") ? status_related(q, NODE_VERTEX_PVC, e)
                                  : get_related(q, NODE_VERTEX_PVC, e);
    if (!strcmp(res, "persistentvolumes"))
      return get_related(q, NODE_VERTEX_PV, e);
    if (!strcmp(res, "serviceaccounts"))
      return service_account(q, e);
    if (!strcmp(res, "nodes"))
      return node(q, e);
    if (!strcmp(res, "pods"))
      return pod(q, e);
  } else if (!strcmp(q->group, "coordination.k8s.io") &&
             !strcmp(res, "leases")) {
    return lease(q, e);
  } else if (!strcmp(q->group, "storage.k8s.io")) {
    if (!strcmp(res, "volumeattachments"))
      return get_related(q, NODE_VERTEX_VOLUME_ATTACHMENT, e);
    if (!strcmp(res, "csinodes"))
      return csinode(q, e);
  }
  /* Not subdivided: the static node rules. */
  return node_rules_allow(q->verb, q->group, res, q->sub) ? allow()
                                                          : KAPI_NO_OPINION;
}

static kapi_decision node_authorize(void *st, const kapi_req *r,
                                    kapi_error *e)
{
  const char *node = NULL;
  node_req q;

  (void)st;
  if (!node_identity(r, &node))
    return KAPI_NO_OPINION;
  if (!*node) {
    const char *user = api->req_get(r, "user.name");
    api->log(self, 2, "NODE DENY: unknown node for user \"%s\"", user);
    api->error_set(e, 403, "Forbidden", "unknown node for user \"%s\"",
                   user);
    return KAPI_NO_OPINION;
  }
  read_request(r, node, &q);
  if (!*q.resource) /* non-resource URLs: no node rule covers them */
    return KAPI_NO_OPINION;
  return by_resource(&q, e);
}

/* Nodes' permissions depend on the objects, not on rules: say so, as
 * upstream's RulesFor does, so that SelfSubjectRulesReview reports an
 * incomplete list. */
static int node_rules_for(void *st, const kapi_req *r, const char *ns,
                          kapi_obj *resource_rules,
                          kapi_obj *non_resource_rules, kapi_error *e)
{
  const char *node;

  (void)st;
  (void)ns;
  (void)resource_rules;
  (void)non_resource_rules;
  if (!node_identity(r, &node))
    return 0;
  api->error_set(e, 500, "InternalError",
                 "node authorizer does not support user rule resolution");
  return 1;
}

static const kapi_authz_ops node_ops = {
    .size = sizeof(kapi_authz_ops),
    .authorize = node_authorize,
    .rules_for = node_rules_for,
};

static int node_init(kapi_plugin *p, const kapi_host_api *host,
                     const char *config, size_t config_len, kapi_error *e)
{
  static const kapi_order first = {.priority = KAPI_ORDER_FIRST};

  (void)config;
  (void)config_len;
  (void)e;
  api = host;
  self = p;
  if (!KAPI_API_HAS(api, store_list))
    api->log(p, KAPI_LOG_WARNING,
             "host has no store_list: secrets, configmaps, PVCs and "
             "service accounts of pods will not be readable by nodes");
  return api->register_authz(p, "Node", &node_ops, NULL, &first);
}

KAPI_PLUGIN_DEFINE(.name = "node-authz", .version = "0.1.0",
                   .description = "Node authorizer: kubelets may reach "
                                  "their own Node and Lease, the pods "
                                  "bound to them and what those pods use",
                   .license = "Apache-2.0", .init = node_init);
