/*
 * node_ports.c - the NodePorts PreFilter and Filter plugin.
 *
 * Upstream: pkg/scheduler/framework/plugins/nodeports/node_ports.go and
 * framework.HostPortInfo.  A pod asking for a host port fits a node only
 * if no pod there holds the same protocol and port on an overlapping
 * address (the same one, or 0.0.0.0 on either side).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "kapi/plugin.h"

#define ERR_REASON "node(s) didn't have free ports for the requested pod ports"

static const kapi_host_api *api;

/* Calls fn for every host port of the pod's containers and sidecar init
 * containers; stops (returning 1) when fn does. */
typedef int (*port_fn)(void *arg, const char *ip, const char *proto,
                       int64_t port);

static const char *or_default(const char *s, const char *def)
{
  return s && *s ? s : def;
}

static int each_list(const kapi_obj *containers, int sidecars_only,
                     port_fn fn, void *arg)
{
  size_t n = api->obj_len(containers);

  for (size_t i = 0; i < n; i++) {
    const kapi_obj *c = api->obj_index(containers, i);
    const kapi_obj *ports = api->obj_lookup(c, "/ports");
    const char *policy = api->obj_get(c, "/restartPolicy");
    size_t np = api->obj_len(ports);
    if (sidecars_only && !(policy && !strcmp(policy, "Always")))
      continue;
    for (size_t k = 0; k < np; k++) {
      const kapi_obj *p = api->obj_index(ports, k);
      int64_t hp;
      if (api->obj_int(api->obj_lookup(p, "/hostPort"), &hp) < 0 || hp <= 0)
        continue;
      if (fn(arg, or_default(api->obj_get(p, "/hostIP"), "0.0.0.0"),
             or_default(api->obj_get(p, "/protocol"), "TCP"), hp))
        return 1;
    }
  }
  return 0;
}

static int each_host_port(const kapi_obj *pod, port_fn fn, void *arg)
{
  return each_list(api->obj_lookup(pod, "/spec/initContainers"), 1, fn,
                   arg) ||
         each_list(api->obj_lookup(pod, "/spec/containers"), 0, fn, arg);
}

static int found(void *arg, const char *ip, const char *proto, int64_t port)
{
  (void)arg;
  (void)ip;
  (void)proto;
  (void)port;
  return 1;
}

static kapi_code np_pre_filter(void *st, kapi_cycle *cs, const kapi_obj *pod,
                               kapi_sched_status *s)
{
  (void)st;
  (void)cs;
  (void)s;
  return each_host_port(pod, found, NULL) ? KAPI_SUCCESS : KAPI_SKIP;
}

/* One wanted port against the ports of the pods on the node. */
typedef struct want {
  const char *ip, *proto;
  int64_t port;
} want;

static int conflicts(void *arg, const char *ip, const char *proto,
                     int64_t port)
{
  const want *w = arg;

  return port == w->port && !strcmp(proto, w->proto) &&
         (!strcmp(ip, w->ip) || !strcmp(ip, "0.0.0.0") ||
          !strcmp(w->ip, "0.0.0.0"));
}

typedef struct node_ctx {
  const kapi_node_info *node;
} node_ctx;

static int taken_on_node(void *arg, const char *ip, const char *proto,
                         int64_t port)
{
  const node_ctx *nc = arg;
  want w = {ip, proto, port};
  size_t n = api->node_pod_count(nc->node);

  for (size_t i = 0; i < n; i++)
    if (each_host_port(api->node_pod(nc->node, i), conflicts, &w))
      return 1;
  return 0;
}

static kapi_code np_filter(void *st, kapi_cycle *cs, const kapi_obj *pod,
                           const kapi_node_info *node, kapi_sched_status *s)
{
  node_ctx nc = {node};

  (void)st;
  (void)cs;
  if (!each_host_port(pod, taken_on_node, &nc))
    return KAPI_SUCCESS;
  api->sched_reason(s, "%s", ERR_REASON);
  return KAPI_UNSCHEDULABLE;
}

static const kapi_sched_ops node_ports_ops = {
    .size = sizeof(kapi_sched_ops),
    .pre_filter = np_pre_filter,
    .filter = np_filter,
};

static int node_ports_init(kapi_plugin *self, const kapi_host_api *host,
                           const char *config, size_t config_len,
                           kapi_error *e)
{
  (void)config;
  (void)config_len;
  (void)e;
  api = host;
  if (!KAPI_API_HAS(api, register_sched))
    return -ENOSYS;
  return api->register_sched(self, "NodePorts", &node_ports_ops, NULL, NULL);
}

KAPI_PLUGIN_DEFINE(.name = "node-ports", .version = "0.1.0",
                   .description = "NodePorts: host ports are not shared",
                   .license = "Apache-2.0", .init = node_ports_init);
