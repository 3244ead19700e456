/*
 * priority_sort.c - the PrioritySort QueueSort plugin.
 *
 * Upstream: pkg/scheduler/framework/plugins/queuesort/priority_sort.go.
 * Pods with a higher spec.priority go first; among equals, the one
 * queued earlier.
 */
#include <errno.h>
#include <stdint.h>

#include "kapi/plugin.h"

static const kapi_host_api *api;

/* corev1helpers.PodPriority: spec.priority, 0 when unset. */
static int64_t pod_priority(const kapi_obj *pod)
{
  int64_t p;

  if (api->obj_int(api->obj_lookup(pod, "/spec/priority"), &p) < 0)
    return 0;
  return p;
}

static int priority_less(void *st, const kapi_obj *a, int64_t ts_a,
                         const kapi_obj *b, int64_t ts_b)
{
  int64_t pa = pod_priority(a), pb = pod_priority(b);

  (void)st;
  return pa > pb || (pa == pb && ts_a < ts_b);
}

static const kapi_sched_ops priority_sort_ops = {
    .size = sizeof(kapi_sched_ops),
    .less = priority_less,
};

static int priority_sort_init(kapi_plugin *self, const kapi_host_api *host,
                              const char *config, size_t config_len,
                              kapi_error *e)
{
  (void)config;
  (void)config_len;
  (void)e;
  api = host;
  if (!KAPI_API_HAS(api, register_sched))
    return -ENOSYS; /* a host older than ABI 1.1 */
  return api->register_sched(self, "PrioritySort", &priority_sort_ops, NULL,
                             NULL);
}

KAPI_PLUGIN_DEFINE(.name = "priority-sort", .version = "0.1.0",
                   .description = "PrioritySort: the scheduling queue orders "
                                  "pods by priority, then queue time",
                   .license = "Apache-2.0", .init = priority_sort_init);
