/*
 * host_ext.h - the parts of the host API that a daemon supplies.
 *
 * host_api.c holds the one kapi_host_api table every plugin gets.  The
 * members for scheduler and controller plugins, and api_request, depend
 * on the daemon hosting them (kapi-scheduler's framework,
 * kapi-controller-manager's informers); the daemon installs them here at
 * start, before loading plugins.  Until then those members answer
 * -ENOSYS (or NULL/0).
 */
#ifndef KAPI_HOST_EXT_H
#define KAPI_HOST_EXT_H

#include <stdint.h>

#include "kapi/plugin.h"

/* kapi-scheduler's framework (sched_reason gets a formatted message). */
typedef struct kapi_sched_host {
  void (*reason)(kapi_sched_status *s, const char *message);
  int (*cycle_write)(kapi_cycle *cs, const char *key, void *data,
                     const kapi_state_vtbl *vt);
  void *(*cycle_read)(kapi_cycle *cs, const char *key);
  const kapi_obj *(*node_obj)(const kapi_node_info *ni);
  const char *(*node_name)(const kapi_node_info *ni);
  size_t (*node_pod_count)(const kapi_node_info *ni);
  const kapi_obj *(*node_pod)(const kapi_node_info *ni, size_t i);
  int64_t (*node_requested)(const kapi_node_info *ni, const char *resource,
                            int non_zero);
  int64_t (*node_allocatable)(const kapi_node_info *ni,
                              const char *resource);
} kapi_sched_host;

/* kapi-controller-manager's controller context (ctl_event gets a
 * formatted message). */
typedef struct kapi_ctl_host {
  kapi_inf *(*informer)(kapi_ctl *c, const char *group, const char *version,
                        const char *resource);
  int (*inf_add_handler)(kapi_inf *inf, const kapi_inf_handler *h,
                         void *arg);
  int (*inf_add_index)(kapi_inf *inf, const char *index);
  int (*inf_wait_synced)(kapi_inf *inf, int timeout_ms);
  int (*inf_get)(kapi_inf *inf, const char *key, kapi_ref **ret);
  int (*inf_list)(kapi_inf *inf, const char *index, const char *value,
                  kapi_ref ***ret, size_t *ret_n);
  const kapi_obj *(*ref_obj)(const kapi_ref *r);
  void (*ref_put)(kapi_ref *r);
  void (*ref_array_put)(kapi_ref **v, size_t n);
  kapi_queue *(*queue)(kapi_ctl *c, const char *name);
  void (*queue_add)(kapi_queue *q, const char *key);
  void (*queue_add_after)(kapi_queue *q, const char *key, int delay_ms);
  void (*queue_add_rate_limited)(kapi_queue *q, const char *key);
  void (*queue_forget)(kapi_queue *q, const char *key);
  int (*run_workers)(kapi_ctl *c, kapi_queue *q, int n,
                     int (*sync)(void *st, const char *key), void *st);
  void (*event)(kapi_ctl *c, const kapi_obj *involved, const char *type,
                const char *reason, const char *message);
} kapi_ctl_host;

/* api_request: performs a request against the daemon's API server. */
typedef int (*kapi_api_request_hook)(const char *method, const char *path,
                                     const char *content_type,
                                     const char *body, kapi_obj **ret,
                                     kapi_error *e);

/* Each takes a table with static storage (or NULL to remove it). */
void kapi_host_set_sched(const kapi_sched_host *h);
void kapi_host_set_ctl(const kapi_ctl_host *h);
void kapi_host_set_api_request(kapi_api_request_hook fn);

#endif
