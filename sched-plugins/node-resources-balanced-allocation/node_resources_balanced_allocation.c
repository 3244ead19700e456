/*
 * node_resources_balanced_allocation.c - the
 * NodeResourcesBalancedAllocation PreScore and Score plugin.
 *
 * Upstream: pkg/scheduler/framework/plugins/noderesources/
 * balanced_allocation.go.  Favors nodes whose resources would be used in
 * even proportions: per resource fraction = min(requested / allocatable,
 * 1) with the pod's and the node's actual requests (no defaults); score
 * = (1 - standard deviation of the fractions) * 100, truncated.  Pods
 * requesting none of the resources are not scored (Skip).
 *
 * Args: {"resources": [{"name": "cpu", "weight": 1}, ...]} (the weights
 * are accepted and, as upstream, unused).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kapi/plugin.h"

#define MAX_RESOURCES 8
#define NAME_LEN 128

static const kapi_host_api *api;
static char resources[MAX_RESOURCES][NAME_LEN] = {"cpu", "memory"};
static size_t n_resources = 2;

/* Newton's square root: the plugin links no libm. */
static double sqrt_of(double x)
{
  double r = x > 1 ? x : 1;

  if (x <= 0)
    return 0;
  for (int i = 0; i < 64; i++)
    r = 0.5 * (r + x / r);
  return r;
}

static kapi_code ba_pre_score(void *st, kapi_cycle *cs, const kapi_obj *pod,
                              const kapi_node_info *const *nodes, size_t n,
                              kapi_sched_status *s)
{
  (void)st;
  (void)cs;
  (void)nodes;
  (void)n;
  (void)s;
  for (size_t i = 0; i < n_resources; i++)
    if (api->pod_request(pod, resources[i], 0) > 0)
      return KAPI_SUCCESS;
  return KAPI_SKIP;
}

static kapi_code ba_score(void *st, kapi_cycle *cs, const kapi_obj *pod,
                          const kapi_node_info *node, int64_t *score,
                          kapi_sched_status *s)
{
  double f[MAX_RESOURCES], total = 0, std = 0;
  size_t k = 0;

  (void)st;
  (void)cs;
  (void)s;
  for (size_t i = 0; i < n_resources; i++) {
    int64_t req = api->pod_request(pod, resources[i], 0);
    int64_t alloc = api->node_allocatable(node, resources[i]);
    int builtin = !strcmp(resources[i], "cpu") ||
                  !strcmp(resources[i], "memory") ||
                  !strcmp(resources[i], "ephemeral-storage");
    /* Extended resources the pod does not ask for are left out. */
    if (alloc == 0 || (!builtin && req == 0))
      continue;
    req += api->node_requested(node, resources[i], 0);
    f[k] = (double)req / (double)alloc;
    if (f[k] > 1)
      f[k] = 1;
    total += f[k++];
  }
  if (k == 2) {
    std = (f[0] - f[1]) / 2;
    if (std < 0)
      std = -std;
  } else if (k > 2) {
    double mean = total / (double)k, sum = 0;
    for (size_t i = 0; i < k; i++)
      sum += (f[i] - mean) * (f[i] - mean);
    std = sqrt_of(sum / (double)k);
  }
  *score = (int64_t)((1 - std) * KAPI_MAX_NODE_SCORE);
  return KAPI_SUCCESS;
}

static const kapi_sched_ops balanced_ops = {
    .size = sizeof(kapi_sched_ops),
    .pre_score = ba_pre_score,
    .score = ba_score,
};

/* The names of "resources": [{"name": ...}, ...]; the rest is ignored. */
static int parse_args(const char *json, size_t len)
{
  const char *p = json, *end = json + len;
  size_t n = 0;

  if (!json || !len)
    return 0;
  p = strstr(json, "\"resources\"");
  if (!p || p >= end)
    return 0;
  while ((p = strstr(p, "\"name\"")) && p < end) {
    p = strchr(p + 6, '"');
    if (!p || n == MAX_RESOURCES)
      return -EINVAL;
    if (sscanf(p + 1, "%127[^\"]", resources[n]) != 1)
      return -EINVAL;
    n++;
    p++;
  }
  if (n)
    n_resources = n;
  return 0;
}

static int balanced_init(kapi_plugin *self, const kapi_host_api *host,
                         const char *config, size_t config_len, kapi_error *e)
{
  api = host;
  if (!KAPI_API_HAS(api, register_sched))
    return -ENOSYS;
  if (parse_args(config, config_len) < 0) {
    api->error_set(e, 400, "Invalid", "NodeResourcesBalancedAllocation args: "
                   "cannot read resources");
    return -EINVAL;
  }
  return api->register_sched(self, "NodeResourcesBalancedAllocation",
                             &balanced_ops, NULL, NULL);
}

KAPI_PLUGIN_DEFINE(.name = "node-resources-balanced-allocation", .version = "0.1.0",
                   .description = "NodeResourcesBalancedAllocation: favors "
                                  "nodes using their resources evenly",
                   .license = "Apache-2.0", .init = balanced_init);
