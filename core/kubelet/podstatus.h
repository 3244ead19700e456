/*
 * podstatus.h - the kubelet's view of a pod's containers, and the API
 * status computed from it (pkg/kubelet/kubelet_pods.go generateAPIPodStatus,
 * convertToAPIContainerStatuses, getPhase; pkg/kubelet/status/generate.go;
 * the status manager's lastTransitionTime and startTime rules).
 *
 * Everything here is a pure function of its inputs (no clock, no I/O),
 * so the status of any situation can be computed in tests.
 */
#ifndef KAPI_KUBELET_PODSTATUS_H
#define KAPI_KUBELET_PODSTATUS_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "kapi/plugin.h"

/* One container instance as the runtime reported it. */
typedef struct kl_cinst {
  char id[KAPI_ID_MAX];
  kapi_container_state state;
  int64_t created_at, started_at, finished_at; /* Unix ns; 0 = unset */
  int32_t exit_code;
  char reason[64];
  char message[512];
} kl_cinst;

/* The kubelet's record of one container of the pod spec. */
typedef struct kl_ctr {
  char name[64];
  int init;     /* spec.initContainers[] */
  int sidecar;  /* an init container with restartPolicy Always */
  int has_cur;  /* cur: the newest instance */
  int has_last; /* last: the one before it (lastState) */
  kl_cinst cur, last;
  int32_t restart_count;
  /* Why it is not running although it should (upstream's reasonCache):
   * "CrashLoopBackOff", "RunContainerError", ...; "" when none. */
  char waiting_reason[48];
  char waiting_message[512];
} kl_ctr;

/* Everything the status is computed from. */
typedef struct kl_pod_view {
  const kj *pod;        /* the pod (spec, metadata, API status); borrowed */
  kl_ctr *ctrs;         /* init containers in order, then containers */
  size_t n_ctrs;
  int sandbox_ready;    /* a sandbox exists (PodReadyToStartContainers) */
  const char *pod_ip;   /* NULL until the sandbox has one */
  const char *host_ip;  /* the node's InternalIP */
  const char *runtime;  /* containerID scheme: "kapi" -> "kapi://<id>" */
  int terminal;         /* podIsTerminal: deleted and all stopped */
} kl_pod_view;

/*
 * Fills v->ctrs for v->pod's spec (names, init/sidecar flags, nothing
 * running): *ret newly allocated (free), *ret_n its length.  0 or
 * -ENOMEM.
 */
int kl_ctrs_from_spec(const kj *pod, kl_ctr **ret, size_t *ret_n);

/* ShouldContainerBeRestarted, for the pod's restartPolicy (sidecars
 * always restart) and deletion state. */
int kl_should_restart(const kj *pod, const kl_ctr *c);

/*
 * The pod's new status.  `old` is the last status the kubelet computed
 * (the status manager's cache) or NULL for the API's; it supplies
 * startTime and the lastTransitionTime of unchanged conditions.  now is
 * Unix seconds.  Returns a new object (kj_free) or NULL when out of
 * memory.
 */
kj *kl_pod_status(const kl_pod_view *v, const kj *old, int64_t now);

/* getPhase over containerStatuses + initContainerStatuses as generated
 * (an object with those two arrays), for the pod's spec. */
const char *kl_pod_phase(const kj *pod, const kj *status, int terminal);

/* True for "Succeeded" and "Failed". */
int kl_phase_is_terminal(const char *phase);

/* 1 if a and b are the same status.  Statuses computed from the same
 * state compare equal: no field carries the time of the computation
 * (transition times and startTime are carried over from `old`). */
int kl_status_equal(const kj *a, const kj *b);

#endif
