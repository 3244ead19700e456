/*
 * pod_refs.h - the API objects a pod refers to by name, as upstream's
 * podutil.VisitPodSecretNames / VisitPodConfigmapNames and the Node
 * authorizer graph's AddPod (plugin/pkg/auth/authorizer/node/graph.go)
 * see them.
 *
 * Shared by the Node authorizer (a kubelet may read what the pods bound
 * to it use) and the NodeRestriction admission plugin (a kubelet may
 * not create a mirror pod that uses anything).  Only libc and the host
 * API table are needed, so both plugins compile this file in.
 */
#ifndef KAPI_NODE_POD_REFS_H
#define KAPI_NODE_POD_REFS_H

#include "kapi/plugin.h"

typedef enum pod_ref_kind {
  POD_REF_SERVICE_ACCOUNT, /* spec.serviceAccountName */
  POD_REF_SECRET,          /* imagePullSecrets, env, envFrom, volumes */
  POD_REF_CONFIGMAP,       /* env, envFrom, configMap/projected volumes */
  POD_REF_PVC,             /* volumes[].persistentVolumeClaim.claimName */
  POD_REF_EPHEMERAL_PVC,   /* volumes[].ephemeral: "<pod>-<volume>" */
} pod_ref_kind;

/*
 * Called once per reference, with a non-empty name (borrowed for the
 * call).  A non-zero return stops the walk and is returned by
 * pod_refs_visit.
 */
typedef int (*pod_ref_fn)(void *arg, pod_ref_kind kind, const char *name);

/*
 * Walks every reference of `pod` (borrowed) in upstream's order: the
 * service account, secrets, configmaps, then claims.  Returns 0 after a
 * complete walk, else the first non-zero value of fn.
 */
int pod_refs_visit(const kapi_host_api *api, const kapi_obj *pod,
                   pod_ref_fn fn, void *arg);

/* Whether `pod` carries the kubernetes.io/config.mirror annotation. */
int pod_refs_is_mirror(const kapi_host_api *api, const kapi_obj *pod);

#define POD_MIRROR_ANNOTATION "kubernetes.io/config.mirror"

#endif
