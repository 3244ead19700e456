/*
 * nodeinfo.h - the scheduler's view of one node (upstream's
 * framework.NodeInfo): the Node object, the pods on it (bound and
 * assumed), and the sums of their requests, precomputed so that Filter
 * and Score read them in O(1).
 *
 * A node info is reference-counted and, once shared, immutable: the
 * cache changes a node by copying its info when a snapshot still holds
 * it (copy-on-write), so a scheduling cycle reads a consistent picture
 * without holding any lock.  Preemption clones infos to try removing
 * pods.
 *
 * This is also where the node_* members of the plugins' host API are
 * implemented (kapi_sched_host, installed by the framework).
 */
#ifndef KAPI_SCHED_NODEINFO_H
#define KAPI_SCHED_NODEINFO_H

#include <stddef.h>
#include <stdint.h>

#include "informer.h"
#include "json.h"
#include "kapi/plugin.h"

/* Resources with precomputed sums. */
enum {
  KAPI_RES_CPU = 0,      /* millicores */
  KAPI_RES_MEMORY = 1,   /* bytes */
  KAPI_RES_EPHEMERAL = 2, /* bytes (ephemeral-storage) */
  KAPI_RES_N = 3
};

struct kapi_node_info {
  int refs;               /* atomic */
  kapi_cobj *node;        /* reference; NULL while only pods are known */
  char *name;             /* owned */
  kapi_cobj **pods;       /* references; bound and assumed pods */
  size_t n_pods, cap_pods;
  int64_t requested[KAPI_RES_N];  /* actual requests */
  int64_t nonzero[2];             /* cpu, memory with the scheduler's
                                     defaults for containers without */
  int64_t allocatable[KAPI_RES_N];
  int64_t allowed_pods;           /* status.allocatable.pods */
  uint64_t generation;            /* bumped on every change */
};

typedef struct kapi_node_info kapi_node_info;

/* A new info named `name` (copied), refs = 1, no node object. */
kapi_node_info *kapi_ni_new(const char *name);
/* A deep copy (the pods array is copied, pods and node are shared by
 * reference), refs = 1. */
kapi_node_info *kapi_ni_clone(const kapi_node_info *ni);
kapi_node_info *kapi_ni_ref(kapi_node_info *ni);
void kapi_ni_unref(kapi_node_info *ni); /* NULL is fine */

/* Mutators: only on an info nobody else holds (refs == 1).  `node` and
 * `pod` are borrowed (a reference is taken). */
void kapi_ni_set_node(kapi_node_info *ni, kapi_cobj *node);
int kapi_ni_add_pod(kapi_node_info *ni, kapi_cobj *pod);
/* Removes the pod with this key ("ns/name"): 0 or -ENOENT. */
int kapi_ni_remove_pod(kapi_node_info *ni, const char *key);

/* Requests and allocatable of any resource, as the host API defines
 * them: "cpu" in millicores, others in units; "pods" is the pod count
 * (requested) or the allowed count (allocatable). */
int64_t kapi_ni_requested(const kapi_node_info *ni, const char *resource,
                          int non_zero);
int64_t kapi_ni_allocatable(const kapi_node_info *ni, const char *resource);

/* spec.priority of a pod, 0 when unset (upstream's PodPriority). */
int32_t kapi_pod_priority(const kj *pod);

#endif
