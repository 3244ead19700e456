/*
 * taint_toleration.c - the TaintToleration Filter and Score plugin.
 *
 * Upstream: pkg/scheduler/framework/plugins/tainttoleration/
 * taint_toleration.go and pkg/apis/core/v1/helper ToleratesTaint.
 *
 * Filter: the first NoSchedule or NoExecute taint the pod does not
 * tolerate rejects the node.  Score: the number of PreferNoSchedule
 * taints not tolerated, normalized in reverse (fewer is better).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kapi/plugin.h"

#define STATE_KEY "PreScoreTaintToleration"

static const kapi_host_api *api;

static int str_is(const char *s, const char *want)
{
  return s && !strcmp(s, want);
}

static int empty(const char *s)
{
  return !s || !*s;
}

/* Toleration.ToleratesTaint. */
static int tolerates(const kapi_obj *tol, const kapi_obj *taint)
{
  const char *tkey = api->obj_get(tol, "/key");
  const char *op = api->obj_get(tol, "/operator");
  const char *teffect = api->obj_get(tol, "/effect");
  const char *tvalue = api->obj_get(tol, "/value");
  const char *key = api->obj_get(taint, "/key");
  const char *effect = api->obj_get(taint, "/effect");
  const char *value = api->obj_get(taint, "/value");

  if (!empty(teffect) && !str_is(teffect, effect ? effect : ""))
    return 0;
  /* An empty key with Exists matches every key. */
  if (!empty(tkey) && !str_is(tkey, key ? key : ""))
    return 0;
  if (str_is(op, "Exists"))
    return 1;
  if (empty(op) || str_is(op, "Equal"))
    return !strcmp(tvalue ? tvalue : "", value ? value : "");
  return 0;
}

static int tolerated_by_any(const kapi_obj *tols, const kapi_obj *taint)
{
  size_t n = api->obj_len(tols);

  for (size_t i = 0; i < n; i++)
    if (tolerates(api->obj_index(tols, i), taint))
      return 1;
  return 0;
}

static kapi_code tt_filter(void *st, kapi_cycle *cs, const kapi_obj *pod,
                           const kapi_node_info *node, kapi_sched_status *s)
{
  const kapi_obj *taints = api->obj_lookup(api->node_obj(node),
                                           "/spec/taints");
  const kapi_obj *tols = api->obj_lookup(pod, "/spec/tolerations");
  size_t n = api->obj_len(taints);

  (void)st;
  (void)cs;
  for (size_t i = 0; i < n; i++) {
    const kapi_obj *taint = api->obj_index(taints, i);
    const char *effect = api->obj_get(taint, "/effect");
    const char *key, *value;
    if (!str_is(effect, "NoSchedule") && !str_is(effect, "NoExecute"))
      continue;
    if (tolerated_by_any(tols, taint))
      continue;
    key = api->obj_get(taint, "/key");
    value = api->obj_get(taint, "/value");
    api->sched_reason(s, "node(s) had untolerated taint {%s: %s}",
                      key ? key : "", value ? value : "");
    return KAPI_UNSCHEDULABLE_AND_UNRESOLVABLE;
  }
  return KAPI_SUCCESS;
}

/* PreScore state: the indices of the pod's tolerations that can match a
 * PreferNoSchedule taint (effect empty or PreferNoSchedule). */
typedef struct prescore {
  size_t n;
  size_t idx[];
} prescore;

static void prescore_free(void *p)
{
  free(p);
}

static void *prescore_clone(const void *p)
{
  const prescore *src = p;
  size_t sz = sizeof *src + src->n * sizeof src->idx[0];
  prescore *c = malloc(sz);

  if (c)
    memcpy(c, src, sz);
  return c;
}

static const kapi_state_vtbl prescore_vt = {prescore_clone, prescore_free};

static int prefer_no_schedule_toleration(const kapi_obj *tol)
{
  const char *effect = api->obj_get(tol, "/effect");

  return empty(effect) || str_is(effect, "PreferNoSchedule");
}

static kapi_code tt_pre_score(void *st, kapi_cycle *cs, const kapi_obj *pod,
                              const kapi_node_info *const *nodes, size_t n,
                              kapi_sched_status *s)
{
  const kapi_obj *tols = api->obj_lookup(pod, "/spec/tolerations");
  size_t nt = api->obj_len(tols);
  prescore *ps = malloc(sizeof *ps + (nt ? nt : 1) * sizeof ps->idx[0]);

  (void)st;
  (void)nodes;
  (void)n;
  if (!ps) {
    api->sched_reason(s, "out of memory");
    return KAPI_ERROR;
  }
  ps->n = 0;
  for (size_t i = 0; i < nt; i++)
    if (prefer_no_schedule_toleration(api->obj_index(tols, i)))
      ps->idx[ps->n++] = i;
  if (api->cycle_write(cs, STATE_KEY, ps, &prescore_vt) < 0) {
    api->sched_reason(s, "writing %s to the cycle state failed", STATE_KEY);
    return KAPI_ERROR;
  }
  return KAPI_SUCCESS;
}

/* countIntolerableTaintsPreferNoSchedule. */
static kapi_code tt_score(void *st, kapi_cycle *cs, const kapi_obj *pod,
                          const kapi_node_info *node, int64_t *score,
                          kapi_sched_status *s)
{
  const kapi_obj *taints = api->obj_lookup(api->node_obj(node),
                                           "/spec/taints");
  const kapi_obj *tols = api->obj_lookup(pod, "/spec/tolerations");
  const prescore *ps = api->cycle_read(cs, STATE_KEY);
  size_t n = api->obj_len(taints), nt = api->obj_len(tols);
  int64_t count = 0;

  (void)st;
  (void)s;
  for (size_t i = 0; i < n; i++) {
    const kapi_obj *taint = api->obj_index(taints, i);
    int ok = 0;
    if (!str_is(api->obj_get(taint, "/effect"), "PreferNoSchedule"))
      continue;
    if (ps) {
      for (size_t k = 0; k < ps->n && !ok; k++)
        ok = tolerates(api->obj_index(tols, ps->idx[k]), taint);
    } else {
      for (size_t k = 0; k < nt && !ok; k++)
        ok = prefer_no_schedule_toleration(api->obj_index(tols, k)) &&
             tolerates(api->obj_index(tols, k), taint);
    }
    count += !ok;
  }
  *score = count;
  return KAPI_SUCCESS;
}

/* helper.DefaultNormalizeScore(MaxNodeScore, reverse=true). */
static kapi_code tt_normalize(void *st, kapi_cycle *cs, const kapi_obj *pod,
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
  for (size_t i = 0; i < n; i++) {
    if (max == 0) {
      scores[i] = KAPI_MAX_NODE_SCORE;
      continue;
    }
    scores[i] = KAPI_MAX_NODE_SCORE * scores[i] / max;
    scores[i] = KAPI_MAX_NODE_SCORE - scores[i];
  }
  return KAPI_SUCCESS;
}

static const kapi_sched_ops taint_toleration_ops = {
    .size = sizeof(kapi_sched_ops),
    .filter = tt_filter,
    .pre_score = tt_pre_score,
    .score = tt_score,
    .normalize_score = tt_normalize,
};

static int taint_toleration_init(kapi_plugin *self, const kapi_host_api *host,
                                 const char *config, size_t config_len,
                                 kapi_error *e)
{
  (void)config;
  (void)config_len;
  (void)e;
  api = host;
  if (!KAPI_API_HAS(api, register_sched))
    return -ENOSYS;
  return api->register_sched(self, "TaintToleration", &taint_toleration_ops,
                             NULL, NULL);
}

KAPI_PLUGIN_DEFINE(.name = "taint-toleration", .version = "0.1.0",
                   .description = "TaintToleration: untolerated NoSchedule/"
                                  "NoExecute taints repel pods; "
                                  "PreferNoSchedule ones lower the score",
                   .license = "Apache-2.0", .init = taint_toleration_init);
