/*
 * node_unschedulable.c - the NodeUnschedulable Filter plugin.
 *
 * Upstream: pkg/scheduler/framework/plugins/nodeunschedulable/
 * node_unschedulable.go.  A cordoned node (spec.unschedulable) takes
 * only pods that tolerate the node.kubernetes.io/unschedulable:NoSchedule
 * taint, which is what cordoning means.
 */
#include <errno.h>
#include <string.h>

#include "kapi/plugin.h"

#define ERR_REASON "node(s) were unschedulable"
#define TAINT_KEY "node.kubernetes.io/unschedulable"
#define TAINT_EFFECT "NoSchedule"

static const kapi_host_api *api;

static int str_is(const char *s, const char *want)
{
  return s && !strcmp(s, want);
}

static int empty(const char *s)
{
  return !s || !*s;
}

/* v1helper ToleratesTaint for the unschedulable taint (no value). */
static int tolerates(const kapi_obj *tol)
{
  const char *key = api->obj_get(tol, "/key");
  const char *op = api->obj_get(tol, "/operator");
  const char *effect = api->obj_get(tol, "/effect");
  const char *value = api->obj_get(tol, "/value");

  if (!empty(effect) && !str_is(effect, TAINT_EFFECT))
    return 0;
  if (!empty(key) && !str_is(key, TAINT_KEY))
    return 0;
  if (str_is(op, "Exists"))
    return 1;
  if (empty(op) || str_is(op, "Equal"))
    return empty(value);
  return 0;
}

static kapi_code node_unschedulable_filter(void *st, kapi_cycle *cs,
                                           const kapi_obj *pod,
                                           const kapi_node_info *node,
                                           kapi_sched_status *s)
{
  const kapi_obj *tols = api->obj_lookup(pod, "/spec/tolerations");
  const char *unsched = api->obj_get(api->node_obj(node),
                                     "/spec/unschedulable");
  size_t i, n = api->obj_len(tols);

  (void)st;
  (void)cs;
  if (!str_is(unsched, "true"))
    return KAPI_SUCCESS;
  for (i = 0; i < n; i++)
    if (tolerates(api->obj_index(tols, i)))
      return KAPI_SUCCESS;
  api->sched_reason(s, "%s", ERR_REASON);
  return KAPI_UNSCHEDULABLE_AND_UNRESOLVABLE;
}

static const kapi_sched_ops node_unschedulable_ops = {
    .size = sizeof(kapi_sched_ops),
    .filter = node_unschedulable_filter,
};

static int node_unschedulable_init(kapi_plugin *self,
                                   const kapi_host_api *host,
                                   const char *config, size_t config_len,
                                   kapi_error *e)
{
  (void)config;
  (void)config_len;
  (void)e;
  api = host;
  if (!KAPI_API_HAS(api, register_sched))
    return -ENOSYS;
  return api->register_sched(self, "NodeUnschedulable",
                             &node_unschedulable_ops, NULL, NULL);
}

KAPI_PLUGIN_DEFINE(.name = "node-unschedulable", .version = "0.1.0",
                   .description = "NodeUnschedulable: cordoned nodes take "
                                  "only pods tolerating the unschedulable "
                                  "taint",
                   .license = "Apache-2.0", .init = node_unschedulable_init);
