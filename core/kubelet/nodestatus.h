/*
 * nodestatus.h - the Node and Lease objects a kubelet writes
 * (pkg/kubelet/kubelet_node_status.go initialNode, pkg/kubelet/nodestatus
 * setters, pkg/kubelet/nodelease).  Pure builders: no clock, no I/O.
 */
#ifndef KAPI_KUBELET_NODESTATUS_H
#define KAPI_KUBELET_NODESTATUS_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "machine.h"

#define KL_KUBELET_VERSION "v1.32.0-kapi"
#define KL_LEASE_NAMESPACE "kube-node-lease"
#define KL_LEASE_DURATION_S 40

/* One node as it is reported. */
typedef struct kl_node_spec {
  const char *name;
  const char *internal_ip;
  const char *hostname;  /* the Hostname address */
  const char *runtime;   /* "process" -> "kapi-process://0.1" */
  int64_t cpu_milli, memory_bytes, ephemeral_bytes, max_pods; /* capacity */
  const kl_machine *machine; /* nodeInfo (os image, kernel, ids) */
  int kubelet_port;      /* daemonEndpoints.kubeletEndpoint.Port */
} kl_node_spec;

/* The Node to register (POST): metadata with upstream's labels and
 * annotation, and a full status.  now: Unix seconds.  New object. */
kj *kl_node_object(const kl_node_spec *s, int64_t now);

/*
 * The node's status at `now`: capacity, allocatable (memory less the
 * 100Mi hard eviction threshold, ephemeral-storage less 10%), the four
 * conditions with lastHeartbeatTime = now and lastTransitionTime kept
 * from `old` (a previous status, may be NULL) while the status is
 * unchanged, addresses, daemonEndpoints and nodeInfo.  New object.
 */
kj *kl_node_status(const kl_node_spec *s, const kj *old, int64_t now);

/* The node's Lease in kube-node-lease, owned by the Node (node_uid may
 * be NULL: no ownerReference).  now_ns: Unix ns.  New object. */
kj *kl_lease_object(const char *node, const char *node_uid, int64_t now_ns);

/* metav1.MicroTime: "2025-01-01T00:00:00.123456Z". */
void kl_micro_time(int64_t ns, char *buf, size_t len);
/* Quantities as the API prints them: cpu "4" / "2500m"; bytes in the
 * largest binary suffix that divides them ("16Gi", "16318412Ki") or
 * plain ("94580335255"). */
void kl_format_cpu(int64_t milli, char *buf, size_t len);
void kl_format_bytes(int64_t bytes, char *buf, size_t len);

#endif
