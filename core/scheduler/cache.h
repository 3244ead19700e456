/*
 * cache.h - the scheduler cache (upstream's pkg/scheduler/backend/cache):
 * every node and every pod assigned to one, including the pods the
 * scheduler has only *assumed* onto a node while their binding is in
 * flight, so the next cycle already sees their requests.
 *
 * Pod lifecycle as upstream:
 *
 *   assume -> finish_binding -> (expiry, only with a TTL) -> gone
 *     |            |
 *     |            +-> add (informer sees the bound pod) -> confirmed
 *     +-> forget (binding failed)
 *
 * Thread-safe: informer handlers, the scheduling loop and the binders
 * all call in.  Each cycle reads a snapshot: references to the node
 * infos of that moment, which the cache never changes in place
 * afterwards (nodeinfo.h).
 */
#ifndef KAPI_SCHED_CACHE_H
#define KAPI_SCHED_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "informer.h"
#include "nodeinfo.h"

typedef struct kapi_sched_cache kapi_sched_cache;

/* assumed_ttl_ns: how long an assumed pod whose binding finished stays
 * without the informer confirming it; 0 = forever (upstream's default
 * since 1.30). */
kapi_sched_cache *kapi_scache_new(int64_t assumed_ttl_ns);
void kapi_scache_free(kapi_sched_cache *c);

/* Nodes (add also updates).  `node` is borrowed (a reference is taken). */
int kapi_scache_add_node(kapi_sched_cache *c, kapi_cobj *node);
int kapi_scache_remove_node(kapi_sched_cache *c, const char *name);

/* Pods seen by the informer with spec.nodeName set.  Borrowed. */
int kapi_scache_add_pod(kapi_sched_cache *c, kapi_cobj *pod);
int kapi_scache_update_pod(kapi_sched_cache *c, kapi_cobj *old,
                           kapi_cobj *pod);
int kapi_scache_remove_pod(kapi_sched_cache *c, kapi_cobj *pod);

/* `pod` (borrowed) is the scheduler's copy with spec.nodeName set.
 * -EEXIST if the cache already has a pod with that key. */
int kapi_scache_assume_pod(kapi_sched_cache *c, kapi_cobj *pod);
/* The binding ended (either way); starts the expiry clock.  `now` in ns. */
int kapi_scache_finish_binding(kapi_sched_cache *c, const char *key,
                               int64_t now);
/* Drops an assumed pod (binding failed): 0, or -ENOENT if the pod is
 * not assumed (already confirmed or unknown). */
int kapi_scache_forget_pod(kapi_sched_cache *c, const char *key);
int kapi_scache_is_assumed(kapi_sched_cache *c, const char *key);
/* Removes assumed pods whose binding finished more than the TTL before
 * `now`; returns how many. */
size_t kapi_scache_cleanup_expired(kapi_sched_cache *c, int64_t now);

size_t kapi_scache_node_count(kapi_sched_cache *c);
size_t kapi_scache_pod_count(kapi_sched_cache *c);

/* ---- snapshots ----------------------------------------------------- */

/* The node infos of the nodes that exist, in the order nodes were
 * added; each entry is a reference.  A zeroed struct is empty. */
typedef struct kapi_snapshot {
  kapi_node_info **nodes;
  size_t n, cap;
} kapi_snapshot;

/* Brings `snap` up to date, reusing its memory and the references that
 * did not change (cheap when little changed). */
int kapi_scache_snapshot(kapi_sched_cache *c, kapi_snapshot *snap);
/* The snapshot's info of a node (borrowed), or NULL. */
kapi_node_info *kapi_snapshot_get(const kapi_snapshot *snap,
                                  const char *name);
/* Drops every reference and frees the array. */
void kapi_snapshot_release(kapi_snapshot *snap);

#endif
