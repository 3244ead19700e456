/*
 * podactions.h - what a pod sync must do to move the runtime toward the
 * pod's spec (pkg/kubelet/kuberuntime/kuberuntime_manager.go
 * computePodActions / computeInitContainerActions, minus probes, resizes
 * and ephemeral containers).  A pure function of the pod and the
 * kubelet's view of its containers.
 */
#ifndef KAPI_KUBELET_PODACTIONS_H
#define KAPI_KUBELET_PODACTIONS_H

#include <stddef.h>

#include "json.h"
#include "podstatus.h"

typedef struct kl_actions {
  int create_sandbox; /* no sandbox yet: create one first */
  int kill_pod;       /* the pod failed (init container failed, restart
                         policy Never): stop everything, start nothing */
  size_t *start;      /* indices into ctrs to (re)start, in order; owned */
  size_t n_start;
} kl_actions;

/*
 * Fills `out` (zeroed first) for a pod that is neither being deleted nor
 * terminal (callers handle those).  Init containers run one at a time,
 * each to completion (a sidecar only until it runs); regular containers
 * start together once every init container is done; exited containers
 * restart per restartPolicy.  Back-off is applied by the caller.
 * 0 or -ENOMEM.
 */
int kl_pod_actions(const kj *pod, const kl_ctr *ctrs, size_t n,
                   int sandbox_ready, kl_actions *out);
void kl_actions_free(kl_actions *a);

#endif
