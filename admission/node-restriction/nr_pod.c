/*
 * nr_pod.c - NodeRestriction for pods (admitPod, admitPodCreate,
 * admitPodStatus, admitPodEviction).
 *
 * A kubelet creates pods only as mirrors of its static pods: bound to
 * itself, controlled by its own Node object, and referring to nothing a
 * mirror pod could use to reach other objects (the Node authorizer
 * grants a node the secrets, configmaps, claims and service account of
 * its pods).  It may delete, evict and report the status of the pods
 * bound to it, and nothing else.
 */
#include <errno.h>
#include <string.h>

#include "node_restriction.h"
#include "../../authz/node/pod_refs.h"

static int is(const char *a, const char *b)
{
  return a && b && !strcmp(a, b);
}

/* The stored pod named `name` in the request's namespace, or a refusal:
 * 404 when it does not exist, as upstream's lister error. */
static int stored_pod(const nr_req *q, const char *name, kapi_obj **ret,
                      kapi_error *e)
{
  int rc = nr_api->store_get("", "pods", q->ns, name, ret);

  if (rc == -ENOENT)
    return nr_not_found(e, "", "pods", name);
  if (rc < 0)
    return nr_forbid(q, e, "reading pod \"%s\": %s", name, strerror(-rc));
  return 0;
}

/* ---- create: mirror pods ------------------------------------------------- */

/* The Node's uid, to check the owner reference against. */
static int check_node_uid(const nr_req *q, const char *owner_uid,
                          kapi_error *e)
{
  kapi_obj *node = NULL;
  const char *uid;
  int rc = nr_api->store_get("", "nodes", NULL, q->node, &node);

  if (rc == -ENOENT)
    return nr_not_found(e, "", "nodes", q->node);
  if (rc < 0)
    return nr_forbid(q, e, "error looking up node %s to verify uid: %s",
                     q->node, strerror(-rc));
  uid = nr_api->obj_get(node, "/metadata/uid");
  rc = 0;
  /* Upstream's wording: "expected" is the owner's uid. */
  if (!is(owner_uid, uid ? uid : ""))
    rc = nr_forbid(q, e, "node %s UID mismatch: expected %s got %s", q->node,
                   owner_uid ? owner_uid : "", uid ? uid : "");
  nr_api->obj_free(node);
  return rc;
}

/* Exactly one owner: the node itself, as controller, without
 * blockOwnerDeletion. */
static int check_owner(const nr_req *q, kapi_error *e)
{
  const kapi_host_api *api = nr_api;
  const kapi_obj *owners = api->obj_lookup(q->obj, "/metadata/ownerReferences");
  const kapi_obj *owner;
  size_t n = api->obj_len(owners);

  if (n > 1)
    return nr_forbid(q, e, "node \"%s\" can only create pods with a single "
                           "owner reference set to itself",
                     q->node);
  if (n == 0)
    return nr_forbid(q, e, "node \"%s\" can only create pods with an owner "
                           "reference set to itself",
                     q->node);
  owner = api->obj_index(owners, 0);
  if (!is(api->obj_get(owner, "/apiVersion"), "v1") ||
      !is(api->obj_get(owner, "/kind"), "Node") ||
      !is(api->obj_get(owner, "/name"), q->node))
    return nr_forbid(q, e, "node \"%s\" can only create pods with an owner "
                           "reference set to itself",
                     q->node);
  if (!is(api->obj_get(owner, "/controller"), "true"))
    return nr_forbid(q, e, "node \"%s\" can only create pods with a "
                           "controller owner reference set to itself",
                     q->node);
  if (is(api->obj_get(owner, "/blockOwnerDeletion"), "true"))
    return nr_forbid(q, e, "node \"%s\" must not set blockOwnerDeletion on "
                           "an owner reference",
                     q->node);
  return check_node_uid(q, api->obj_get(owner, "/uid"), e);
}

/* Which kinds of objects the pod refers to (pod_refs_visit). */
typedef struct refs_seen {
  int secrets, configmaps, claims;
} refs_seen;

static int note_ref(void *arg, pod_ref_kind kind, const char *name)
{
  refs_seen *seen = arg;

  (void)name;
  if (kind == POD_REF_SECRET)
    seen->secrets = 1;
  else if (kind == POD_REF_CONFIGMAP)
    seen->configmaps = 1;
  else if (kind == POD_REF_PVC) /* not ephemeral ones, as upstream */
    seen->claims = 1;
  return 0;
}

static int uses_cluster_trust_bundles(const kapi_obj *pod)
{
  const kapi_host_api *api = nr_api;
  const kapi_obj *vols = api->obj_lookup(pod, "/spec/volumes");
  size_t i, j;

  for (i = 0; i < api->obj_len(vols); i++) {
    const kapi_obj *srcs =
        api->obj_lookup(api->obj_index(vols, i), "/projected/sources");
    for (j = 0; j < api->obj_len(srcs); j++)
      if (api->obj_lookup(api->obj_index(srcs, j), "/clusterTrustBundle"))
        return 1;
  }
  return 0;
}

static int admit_create(const nr_req *q, kapi_error *e)
{
  const char *sa, *bound;
  refs_seen seen = {0, 0, 0};
  int rc;

  if (!pod_refs_is_mirror(nr_api, q->obj))
    return nr_forbid(q, e, "pod does not have \"%s\" annotation, node \"%s\" "
                           "can only create mirror pods",
                     POD_MIRROR_ANNOTATION, q->node);
  bound = nr_api->obj_get(q->obj, "/spec/nodeName");
  if (!is(bound ? bound : "", q->node))
    return nr_forbid(q, e, "node \"%s\" can only create pods with "
                           "spec.nodeName set to itself",
                     q->node);
  if ((rc = check_owner(q, e)) < 0)
    return rc;
  sa = nr_api->obj_get(q->obj, "/spec/serviceAccountName");
  if (sa && *sa)
    return nr_forbid(q, e, "node \"%s\" can not create pods that reference "
                           "a service account",
                     q->node);
  pod_refs_visit(nr_api, q->obj, note_ref, &seen);
  if (seen.secrets)
    return nr_forbid(q, e, "node \"%s\" can not create pods that reference "
                           "secrets",
                     q->node);
  if (seen.configmaps)
    return nr_forbid(q, e, "node \"%s\" can not create pods that reference "
                           "configmaps",
                     q->node);
  if (uses_cluster_trust_bundles(q->obj))
    return nr_forbid(q, e, "node \"%s\" can not create pods that reference "
                           "clustertrustbundles",
                     q->node);
  if (seen.claims)
    return nr_forbid(q, e, "node \"%s\" can not create pods that reference "
                           "persistentvolumeclaims",
                     q->node);
  return 0;
}

/* ---- delete, status, eviction -------------------------------------------- */

static int admit_delete(const nr_req *q, kapi_error *e)
{
  kapi_obj *stored = NULL;
  const kapi_obj *pod = q->old;
  const char *bound;
  int rc = 0;

  if (!pod) {
    if ((rc = stored_pod(q, q->name, &stored, e)) < 0)
      return rc;
    pod = stored;
  }
  bound = nr_api->obj_get(pod, "/spec/nodeName");
  if (!is(bound ? bound : "", q->node))
    rc = nr_forbid(q, e, "node \"%s\" can only delete pods with "
                         "spec.nodeName set to itself",
                   q->node);
  nr_api->obj_free(stored);
  return rc;
}

/* Name by name and claim by claim: only the names matter, the rest of
 * a claim status is the node's to report. */
static int claim_statuses_equal(const kapi_obj *a, const kapi_obj *b)
{
  const kapi_host_api *api = nr_api;
  size_t i, n = api->obj_len(a);

  if (n != api->obj_len(b))
    return 0;
  for (i = 0; i < n; i++) {
    const kapi_obj *x = api->obj_index(a, i), *y = api->obj_index(b, i);
    const char *cx = api->obj_get(x, "/resourceClaimName");
    const char *cy = api->obj_get(y, "/resourceClaimName");
    const char *nx = api->obj_get(x, "/name"), *ny = api->obj_get(y, "/name");
    if (strcmp(nx ? nx : "", ny ? ny : ""))
      return 0;
    if (!cx != !cy || (cx && strcmp(cx, cy)))
      return 0;
  }
  return 1;
}

static int admit_status(const nr_req *q, kapi_error *e)
{
  const kapi_host_api *api = nr_api;
  const char *bound;

  if (!is(q->op, "UPDATE"))
    return nr_forbid(q, e, "unexpected operation \"%s\"", q->op);
  bound = api->obj_get(q->old, "/spec/nodeName");
  if (!is(bound ? bound : "", q->node))
    return nr_forbid(q, e, "node \"%s\" can only update pod status for pods "
                           "with spec.nodeName set to itself",
                     q->node);
  if (!nr_equal(api->obj_lookup(q->old, "/metadata/labels"),
                api->obj_lookup(q->obj, "/metadata/labels"), NULL, NULL, 0))
    return nr_forbid(q, e, "node \"%s\" cannot update labels through pod "
                           "status",
                     q->node);
  if (!claim_statuses_equal(
          api->obj_lookup(q->old, "/status/resourceClaimStatuses"),
          api->obj_lookup(q->obj, "/status/resourceClaimStatuses")))
    return nr_forbid(q, e, "node \"%s\" cannot update resource claim statues",
                     q->node);
  return 0;
}

static int admit_eviction(const nr_req *q, kapi_error *e)
{
  kapi_obj *pod = NULL;
  const char *name = q->name, *bound;
  int rc;

  if (!is(q->op, "CREATE"))
    return nr_forbid(q, e, "unexpected operation %s", q->op);
  /* The URL's pod name wins over the Eviction's own. */
  if (!*name)
    name = nr_api->obj_get(q->obj, "/metadata/name");
  if (!name || !*name)
    return nr_forbid(q, e, "could not determine pod from request data");
  if ((rc = stored_pod(q, name, &pod, e)) < 0)
    return rc;
  bound = nr_api->obj_get(pod, "/spec/nodeName");
  if (!is(bound ? bound : "", q->node))
    rc = nr_forbid(q, e, "node %s can only evict pods with spec.nodeName set "
                         "to itself",
                   q->node);
  nr_api->obj_free(pod);
  return rc;
}

int nr_admit_pod(const nr_req *q, kapi_error *e)
{
  if (!*q->sub) {
    if (is(q->op, "CREATE"))
      return admit_create(q, e);
    if (is(q->op, "DELETE"))
      return admit_delete(q, e);
    return nr_forbid(q, e, "unexpected operation \"%s\", node \"%s\" can only "
                           "create and delete mirror pods",
                     q->op, q->node);
  }
  if (!strcmp(q->sub, "status"))
    return admit_status(q, e);
  if (!strcmp(q->sub, "eviction"))
    return admit_eviction(q, e);
  return nr_forbid(q, e, "unexpected pod subresource \"%s\", only 'status' "
                         "and 'eviction' are allowed",
                   q->sub);
}
