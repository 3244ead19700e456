/*
 * node_affinity.c - the NodeAffinity PreFilter, Filter, PreScore and
 * Score plugin.
 *
 * Upstream: pkg/scheduler/framework/plugins/nodeaffinity/node_affinity.go
 * and component-helpers/scheduling/corev1/nodeaffinity.
 *
 * Filter: every spec.nodeSelector pair must equal the node's label, and
 * one of the required nodeSelectorTerms must match (the expressions of a
 * term are ANDed; matchFields knows metadata.name only; a term with
 * nothing in it matches no node).  Score: the sum of the weights of the
 * preferred terms the node matches, normalized to 0..100.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kapi/plugin.h"

#define ERR_REASON_POD "node(s) didn't match Pod's node affinity/selector"
#define REQUIRED "/spec/affinity/nodeAffinity/" \
                 "requiredDuringSchedulingIgnoredDuringExecution"
#define PREFERRED "/spec/affinity/nodeAffinity/" \
                  "preferredDuringSchedulingIgnoredDuringExecution"

static const kapi_host_api *api;

static int str_is(const char *s, const char *want)
{
  return s && !strcmp(s, want);
}

static const char *node_label(const kapi_obj *node, const char *key)
{
  const kapi_obj *labels = api->obj_lookup(node, "/metadata/labels");
  size_t n = api->obj_len(labels);

  for (size_t i = 0; i < n; i++)
    if (!strcmp(api->obj_key(labels, i), key))
      return api->obj_get(api->obj_index(labels, i), "");
  return NULL;
}

static int in_values(const kapi_obj *values, const char *v)
{
  size_t n = api->obj_len(values);

  for (size_t i = 0; i < n; i++)
    if (str_is(api->obj_get(api->obj_index(values, i), ""), v))
      return 1;
  return 0;
}

/* A decimal integer, all of s; 0 on success. */
static int parse_int(const char *s, long long *out)
{
  char *end;

  if (!s || !*s)
    return -1;
  *out = strtoll(s, &end, 10);
  return *end ? -1 : 0;
}

/* One NodeSelectorRequirement against a value (NULL = absent).  Parsing
 * errors make it fail, as upstream's selector does. */
static int requirement_matches(const kapi_obj *req, const char *value)
{
  const char *op = api->obj_get(req, "/operator");
  const kapi_obj *values = api->obj_lookup(req, "/values");
  long long a, b;

  if (str_is(op, "In"))
    return value && in_values(values, value);
  if (str_is(op, "NotIn"))
    return !value || !in_values(values, value);
  if (str_is(op, "Exists"))
    return value != NULL;
  if (str_is(op, "DoesNotExist"))
    return value == NULL;
  if (str_is(op, "Gt") || str_is(op, "Lt")) {
    if (api->obj_len(values) != 1 || parse_int(value, &a) < 0 ||
        parse_int(api->obj_get(api->obj_index(values, 0), ""), &b) < 0)
      return 0;
    return str_is(op, "Gt") ? a > b : a < b;
  }
  return 0;
}

/* NodeSelectorTerm: expressions and fields ANDed; empty matches none. */
static int term_matches(const kapi_obj *term, const kapi_obj *node)
{
  const kapi_obj *exprs = api->obj_lookup(term, "/matchExpressions");
  const kapi_obj *fields = api->obj_lookup(term, "/matchFields");
  const char *name = api->obj_get(node, "/metadata/name");
  size_t ne = api->obj_len(exprs), nf = api->obj_len(fields), i;

  if (ne == 0 && nf == 0)
    return 0;
  for (i = 0; i < ne; i++) {
    const kapi_obj *r = api->obj_index(exprs, i);
    if (!requirement_matches(r, node_label(node, api->obj_get(r, "/key"))))
      return 0;
  }
  for (i = 0; i < nf; i++) {
    const kapi_obj *r = api->obj_index(fields, i);
    if (!str_is(api->obj_get(r, "/key"), "metadata.name") ||
        !requirement_matches(r, name))
      return 0;
  }
  return 1;
}

/* GetRequiredNodeAffinity(pod).Match(node). */
static int required_matches(const kapi_obj *pod, const kapi_obj *node)
{
  const kapi_obj *sel = api->obj_lookup(pod, "/spec/nodeSelector");
  const kapi_obj *req = api->obj_lookup(pod, REQUIRED);
  const kapi_obj *terms = api->obj_lookup(req, "/nodeSelectorTerms");
  size_t i, n = api->obj_len(sel);

  for (i = 0; i < n; i++)
    if (!str_is(node_label(node, api->obj_key(sel, i)),
                api->obj_get(api->obj_index(sel, i), "")))
      return 0;
  if (!req)
    return 1;
  /* Terms are ORed; no term at all matches nothing. */
  n = api->obj_len(terms);
  for (i = 0; i < n; i++)
    if (term_matches(api->obj_index(terms, i), node))
      return 1;
  return 0;
}

static kapi_code na_pre_filter(void *st, kapi_cycle *cs, const kapi_obj *pod,
                               kapi_sched_status *s)
{
  (void)st;
  (void)cs;
  (void)s;
  /* Nothing to check: the Filter is skipped for this pod. */
  if (!api->obj_lookup(pod, REQUIRED) &&
      !api->obj_lookup(pod, "/spec/nodeSelector"))
    return KAPI_SKIP;
  return KAPI_SUCCESS;
}

static kapi_code na_filter(void *st, kapi_cycle *cs, const kapi_obj *pod,
                           const kapi_node_info *node, kapi_sched_status *s)
{
  (void)st;
  (void)cs;
  if (required_matches(pod, api->node_obj(node)))
    return KAPI_SUCCESS;
  api->sched_reason(s, "%s", ERR_REASON_POD);
  return KAPI_UNSCHEDULABLE_AND_UNRESOLVABLE;
}

static kapi_code na_pre_score(void *st, kapi_cycle *cs, const kapi_obj *pod,
                              const kapi_node_info *const *nodes, size_t n,
                              kapi_sched_status *s)
{
  (void)st;
  (void)cs;
  (void)nodes;
  (void)n;
  (void)s;
  return api->obj_len(api->obj_lookup(pod, PREFERRED)) ? KAPI_SUCCESS
                                                        : KAPI_SKIP;
}

static kapi_code na_score(void *st, kapi_cycle *cs, const kapi_obj *pod,
                          const kapi_node_info *node, int64_t *score,
                          kapi_sched_status *s)
{
  const kapi_obj *prefs = api->obj_lookup(pod, PREFERRED);
  size_t n = api->obj_len(prefs);
  int64_t sum = 0, w;

  (void)st;
  (void)cs;
  (void)s;
  for (size_t i = 0; i < n; i++) {
    const kapi_obj *t = api->obj_index(prefs, i);
    if (api->obj_int(api->obj_lookup(t, "/weight"), &w) < 0 || w == 0)
      continue;
    if (term_matches(api->obj_lookup(t, "/preference"), api->node_obj(node)))
      sum += w;
  }
  *score = sum;
  return KAPI_SUCCESS;
}

/* helper.DefaultNormalizeScore(MaxNodeScore, reverse=false). */
static kapi_code na_normalize(void *st, kapi_cycle *cs, const kapi_obj *pod,
                              int64_t *scores, size_t n, kapi_sched_status *s)
{
  int64_t max = 0;

  (void)st;
  (void)cs;
  (void)pod;
  (void)s;
  for (size_t i = 0; i < n; i++)
    if (scores[i] > max)
      max = scores[i];
  if (max == 0)
    return KAPI_SUCCESS;
  for (size_t i = 0; i < n; i++)
    scores[i] = KAPI_MAX_NODE_SCORE * scores[i] / max;
  return KAPI_SUCCESS;
}

static const kapi_sched_ops node_affinity_ops = {
    .size = sizeof(kapi_sched_ops),
    .pre_filter = na_pre_filter,
    .filter = na_filter,
    .pre_score = na_pre_score,
    .score = na_score,
    .normalize_score = na_normalize,
};

static int node_affinity_init(kapi_plugin *self, const kapi_host_api *host,
                              const char *config, size_t config_len,
                              kapi_error *e)
{
  (void)config;
  (void)config_len;
  (void)e;
  api = host;
  if (!KAPI_API_HAS(api, register_sched))
    return -ENOSYS;
  return api->register_sched(self, "NodeAffinity", &node_affinity_ops, NULL,
                             NULL);
}

KAPI_PLUGIN_DEFINE(.name = "node-affinity", .version = "0.1.0",
                   .description = "NodeAffinity: nodeSelector and node "
                                  "affinity, required and preferred",
                   .license = "Apache-2.0", .init = node_affinity_init);
