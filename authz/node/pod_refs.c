/*
 * pod_refs.c - the API objects a pod refers to by name (see pod_refs.h).
 *
 * Upstream's lists, walked over the pod's JSON:
 *  - secrets: spec.imagePullSecrets[].name; in every container (init,
 *    regular, ephemeral) envFrom[].secretRef.name and
 *    env[].valueFrom.secretKeyRef.name; in volumes the secret of
 *    azureFile, cephfs, cinder, flexVolume, projected sources, rbd,
 *    secret, scaleIO, iscsi, storageos and csi (nodePublishSecretRef);
 *  - configmaps: envFrom[].configMapRef.name,
 *    env[].valueFrom.configMapKeyRef.name, projected sources' configMap
 *    and configMap volumes;
 *  - claims: persistentVolumeClaim.claimName, and for a generic
 *    ephemeral volume the claim "<pod name>-<volume name>"
 *    (ephemeral.VolumeClaimName).
 * Empty names are skipped, as upstream's skipEmptyNames does.
 */
#include <stdio.h>
#include <string.h>

#include "pod_refs.h"

/* One walk: the visitor and where it stopped. */
typedef struct walk {
  const kapi_host_api *api;
  pod_ref_fn fn;
  void *arg;
} walk;

static int visit(walk *w, pod_ref_kind kind, const char *name)
{
  if (!name || !*name)
    return 0;
  return w->fn(w->arg, kind, name);
}

/* The string at `pointer` under `o`, if any, as a reference. */
static int visit_at(walk *w, const kapi_obj *o, const char *pointer,
                    pod_ref_kind kind)
{
  return visit(w, kind, w->api->obj_get(o, pointer));
}

/* ---- containers ---------------------------------------------------------- */

static int visit_container(walk *w, const kapi_obj *c, pod_ref_kind kind)
{
  const kapi_host_api *api = w->api;
  const kapi_obj *from = api->obj_lookup(c, "/envFrom");
  const kapi_obj *env = api->obj_lookup(c, "/env");
  const char *from_ptr = kind == POD_REF_SECRET ? "/secretRef/name"
                                                : "/configMapRef/name";
  const char *env_ptr = kind == POD_REF_SECRET
                            ? "/valueFrom/secretKeyRef/name"
                            : "/valueFrom/configMapKeyRef/name";
  size_t i;
  int rc;

  for (i = 0; i < api->obj_len(from); i++)
    if ((rc = visit_at(w, api->obj_index(from, i), from_ptr, kind)))
      return rc;
  for (i = 0; i < api->obj_len(env); i++)
    if ((rc = visit_at(w, api->obj_index(env, i), env_ptr, kind)))
      return rc;
  return 0;
}

/* Every container of the pod: AllContainers is init, regular and
 * ephemeral ones. */
static int visit_containers(walk *w, const kapi_obj *pod, pod_ref_kind kind)
{
  static const char *const lists[] = {"/spec/initContainers",
                                      "/spec/containers",
                                      "/spec/ephemeralContainers"};
  size_t l, i;
  int rc;

  for (l = 0; l < sizeof lists / sizeof *lists; l++) {
    const kapi_obj *cs = w->api->obj_lookup(pod, lists[l]);
    for (i = 0; i < w->api->obj_len(cs); i++)
      if ((rc = visit_container(w, w->api->obj_index(cs, i), kind)))
        return rc;
  }
  return 0;
}

/* ---- volumes ------------------------------------------------------------- */

/* Where a volume source names its secret. */
static const char *const volume_secret_ptrs[] = {
    "/azureFile/secretName",  "/cephfs/secretRef/name",
    "/cinder/secretRef/name", "/flexVolume/secretRef/name",
    "/rbd/secretRef/name",    "/secret/secretName",
    "/scaleIO/secretRef/name", "/iscsi/secretRef/name",
    "/storageos/secretRef/name", "/csi/nodePublishSecretRef/name",
};

static int visit_projected(walk *w, const kapi_obj *vol, pod_ref_kind kind)
{
  const kapi_obj *srcs = w->api->obj_lookup(vol, "/projected/sources");
  const char *ptr = kind == POD_REF_SECRET ? "/secret/name"
                                           : "/configMap/name";
  size_t i;
  int rc;

  for (i = 0; i < w->api->obj_len(srcs); i++)
    if ((rc = visit_at(w, w->api->obj_index(srcs, i), ptr, kind)))
      return rc;
  return 0;
}

static int visit_volume_secrets(walk *w, const kapi_obj *vol)
{
  size_t i;
  int rc;

  if ((rc = visit_projected(w, vol, POD_REF_SECRET)))
    return rc;
  for (i = 0; i < sizeof volume_secret_ptrs / sizeof *volume_secret_ptrs;
       i++)
    if ((rc = visit_at(w, vol, volume_secret_ptrs[i], POD_REF_SECRET)))
      return rc;
  return 0;
}

static int visit_volume_configmaps(walk *w, const kapi_obj *vol)
{
  int rc = visit_projected(w, vol, POD_REF_CONFIGMAP);
  return rc ? rc : visit_at(w, vol, "/configMap/name", POD_REF_CONFIGMAP);
}

static int visit_volume_claims(walk *w, const kapi_obj *pod,
                               const kapi_obj *vol)
{
  const kapi_host_api *api = w->api;
  const char *pod_name = api->obj_get(pod, "/metadata/name");
  const char *vol_name = api->obj_get(vol, "/name");
  char claim[512];

  if (api->obj_lookup(vol, "/persistentVolumeClaim"))
    return visit_at(w, vol, "/persistentVolumeClaim/claimName",
                    POD_REF_PVC);
  if (api->obj_type(api->obj_lookup(vol, "/ephemeral")) != KAPI_OBJ_OBJECT ||
      !pod_name || !vol_name)
    return 0;
  snprintf(claim, sizeof claim, "%s-%s", pod_name, vol_name);
  return visit(w, POD_REF_EPHEMERAL_PVC, claim);
}

typedef int (*volume_fn)(walk *w, const kapi_obj *vol);

static int visit_volumes(walk *w, const kapi_obj *pod, volume_fn fn)
{
  const kapi_obj *vols = w->api->obj_lookup(pod, "/spec/volumes");
  size_t i;
  int rc;

  for (i = 0; i < w->api->obj_len(vols); i++)
    if ((rc = fn(w, w->api->obj_index(vols, i))))
      return rc;
  return 0;
}

/* ---- the walk ------------------------------------------------------------ */

int pod_refs_visit(const kapi_host_api *api, const kapi_obj *pod,
                   pod_ref_fn fn, void *arg)
{
  walk w = {api, fn, arg};
  const kapi_obj *pulls = api->obj_lookup(pod, "/spec/imagePullSecrets");
  const kapi_obj *vols = api->obj_lookup(pod, "/spec/volumes");
  size_t i;
  int rc;

  if ((rc = visit_at(&w, pod, "/spec/serviceAccountName",
                     POD_REF_SERVICE_ACCOUNT)))
    return rc;
  for (i = 0; i < api->obj_len(pulls); i++)
    if ((rc = visit_at(&w, api->obj_index(pulls, i), "/name",
                       POD_REF_SECRET)))
      return rc;
  if ((rc = visit_containers(&w, pod, POD_REF_SECRET)) ||
      (rc = visit_volumes(&w, pod, visit_volume_secrets)) ||
      (rc = visit_containers(&w, pod, POD_REF_CONFIGMAP)) ||
      (rc = visit_volumes(&w, pod, visit_volume_configmaps)))
    return rc;
  for (i = 0; i < api->obj_len(vols); i++)
    if ((rc = visit_volume_claims(&w, pod, api->obj_index(vols, i))))
      return rc;
  return 0;
}

int pod_refs_is_mirror(const kapi_host_api *api, const kapi_obj *pod)
{
  /* "~1" is "/" in a JSON pointer token. */
  return api->obj_lookup(pod, "/metadata/annotations/"
                              "kubernetes.io~1config.mirror") != NULL;
}
