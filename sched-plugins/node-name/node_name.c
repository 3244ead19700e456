/*
 * node_name.c - the NodeName Filter plugin.
 *
 * Upstream: pkg/scheduler/framework/plugins/nodename/node_name.go.  A pod
 * that names a node (spec.nodeName) fits that node only.
 */
#include <errno.h>
#include <string.h>

#include "kapi/plugin.h"

#define ERR_REASON "node(s) didn't match the requested node name"

static const kapi_host_api *api;

static kapi_code node_name_filter(void *st, kapi_cycle *cs,
                                  const kapi_obj *pod,
                                  const kapi_node_info *node,
                                  kapi_sched_status *s)
{
  const char *want = api->obj_get(pod, "/spec/nodeName");
  const char *name = api->node_name(node);

  (void)st;
  (void)cs;
  if (!want || !*want || (name && !strcmp(want, name)))
    return KAPI_SUCCESS;
  api->sched_reason(s, "%s", ERR_REASON);
  return KAPI_UNSCHEDULABLE_AND_UNRESOLVABLE;
}

static const kapi_sched_ops node_name_ops = {
    .size = sizeof(kapi_sched_ops),
    .filter = node_name_filter,
};

static int node_name_init(kapi_plugin *self, const kapi_host_api *host,
                          const char *config, size_t config_len, kapi_error *e)
{
  (void)config;
  (void)config_len;
  (void)e;
  api = host;
  if (!KAPI_API_HAS(api, register_sched))
    return -ENOSYS;
  return api->register_sched(self, "NodeName", &node_name_ops, NULL, NULL);
}

KAPI_PLUGIN_DEFINE(.name = "node-name", .version = "0.1.0",
                   .description = "NodeName: a pod naming a node fits only "
                                  "that node",
                   .license = "Apache-2.0", .init = node_name_init);
