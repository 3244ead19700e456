/*
 * clusterrole_aggregation.c - the ClusterRole aggregation controller as a
 * kapi controller plugin for kapi-controller-manager.
 *
 * Mirrors upstream's pkg/controller/clusterroleaggregation
 * (ClusterRoleAggregationController): a ClusterRole with an
 * aggregationRule gets as rules the union of the rules of every other
 * ClusterRole that one of its clusterRoleSelectors matches: selectors in
 * order, the matching roles by name, each rule once (semantic equality,
 * where an empty list equals an absent one).  The role is written only
 * when its rules differ.  Any change to any ClusterRole re-queues every
 * aggregated one, since the set is small.
 *
 * Upstream writes with server-side apply (field manager
 * "clusterrole-aggregation-controller", forced) and falls back to an
 * update; kapi always updates (PUT with that field manager), and a
 * conflict with a newer version is retried from the informer's cache.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapi/plugin.h"
#include "../common/ctl_util.h"

#define DEFAULT_WORKERS 5 /* kube-controller-manager runs it with 5 */
#define FIELD_MANAGER "clusterrole-aggregation-controller"
#define RBAC_GROUP "rbac.authorization.k8s.io"

/* ---- rules ------------------------------------------------------------------ */

/* The members of a list (0 for absent, null or anything else). */
static size_t list_len(const kapi_obj *list)
{
  return api->obj_type(list) == KAPI_OBJ_ARRAY ? api->obj_len(list) : 0;
}

/* Equal string lists, in order; absent equals empty (Semantic.DeepEqual
 * treats nil and empty slices alike). */
static int same_list(const kapi_obj *a, const kapi_obj *b)
{
  size_t i, n = list_len(a);
  if (n != list_len(b))
    return 0;
  for (i = 0; i < n; i++) {
    const char *x = api->obj_get(api->obj_index(a, i), "");
    const char *y = api->obj_get(api->obj_index(b, i), "");
    if (!x || !y || strcmp(x, y))
      return 0;
  }
  return 1;
}

/* Equal PolicyRules. */
static int same_rule(const kapi_obj *a, const kapi_obj *b)
{
  static const char *const lists[] = {"verbs", "apiGroups", "resources",
                                      "resourceNames", "nonResourceURLs"};
  size_t i;
  for (i = 0; i < sizeof lists / sizeof *lists; i++)
    if (!same_list(member(a, lists[i]), member(b, lists[i])))
      return 0;
  return 1;
}

/* Rules borrowed from the roles they come from. */
typedef struct rule_set {
  const kapi_obj **v;
  size_t n;
} rule_set;

static int rule_set_has(const rule_set *s, const kapi_obj *rule)
{
  size_t i;
  for (i = 0; i < s->n; i++)
    if (same_rule(s->v[i], rule))
      return 1;
  return 0;
}

/* Appends `rule` (borrowed) unless an equal one is there. */
static int rule_set_add(rule_set *s, const kapi_obj *rule)
{
  const kapi_obj **v;
  if (rule_set_has(s, rule))
    return 0;
  if (!(v = realloc(s->v, (s->n + 1) * sizeof *v)))
    return -ENOMEM;
  s->v = v;
  s->v[s->n++] = rule;
  return 0;
}

/* Are these the rules `role` has now? */
static int rule_set_is(const rule_set *s, const kapi_obj *role)
{
  const kapi_obj *rules = member(role, "rules");
  size_t i, n = list_len(rules);
  if (n != s->n)
    return 0;
  for (i = 0; i < n; i++)
    if (!same_rule(s->v[i], api->obj_index(rules, i)))
      return 0;
  return 1;
}

/* ---- label selectors ---------------------------------------------------------- */

static int in_list(const kapi_obj *values, const char *s)
{
  size_t i, n = list_len(values);
  for (i = 0; i < n; i++) {
    const char *v = api->obj_get(api->obj_index(values, i), "");
    if (v && s && !strcmp(v, s))
      return 1;
  }
  return 0;
}

/*
 * Does the metav1.LabelSelector `sel` match `labels`?  1 or 0; -EINVAL
 * when it cannot be made a selector (LabelSelectorAsSelector fails: an
 * unknown operator, or values that do not fit it), which fails the sync
 * as upstream.
 */
static int selector_matches(const kapi_obj *sel, const kapi_obj *labels)
{
  const kapi_obj *ml = member(sel, "matchLabels");
  const kapi_obj *exprs = member(sel, "matchExpressions");
  size_t i, n = api->obj_type(ml) == KAPI_OBJ_OBJECT ? api->obj_len(ml) : 0;
  int match = 1;

  for (i = 0; i < n; i++) {
    const char *want = api->obj_get(api->obj_index(ml, i), "");
    const char *have = member_str(labels, api->obj_key(ml, i));
    if (!have || !want || strcmp(have, want))
      match = 0;
  }
  n = list_len(exprs);
  for (i = 0; i < n; i++) {
    const kapi_obj *e = api->obj_index(exprs, i);
    const char *op = member_str(e, "operator");
    const char *key = member_str(e, "key");
    const kapi_obj *values = member(e, "values");
    const char *have = key ? member_str(labels, key) : NULL;
    int in = streq(op, "In"), not_in = streq(op, "NotIn");
    int exists = streq(op, "Exists"), absent = streq(op, "DoesNotExist");

    if (!key || (!in && !not_in && !exists && !absent) ||
        ((in || not_in) != (list_len(values) > 0)))
      return -EINVAL;
    if ((in && !in_list(values, have)) || (not_in && have && in_list(values, have)) ||
        (exists && !have) || (absent && have))
      match = 0;
  }
  return match;
}

/* ---- aggregation --------------------------------------------------------------- */

static const char *name_of(const kapi_obj *o)
{
  const char *n = str_at(o, "/metadata/name");
  return n ? n : "";
}

static int by_name(const void *a, const void *b)
{
  return strcmp(name_of(*(const kapi_obj *const *)a),
                name_of(*(const kapi_obj *const *)b));
}

/*
 * The rules `role` should have: for each of its selectors in order, the
 * rules of every other ClusterRole in `all` (n of them, borrowed) it
 * matches, by name, each rule once.  `out` borrows from `all`; the
 * caller frees out->v.  `all` is sorted in place.  0, -EINVAL (a bad
 * selector) or -ENOMEM.
 */
static int aggregate_rules(const kapi_obj *role, const kapi_obj **all,
                           size_t n, rule_set *out)
{
  const kapi_obj *sels =
      member(member(role, "aggregationRule"), "clusterRoleSelectors");
  size_t i, j, k, n_sels = list_len(sels);
  int rc = 0;

  memset(out, 0, sizeof *out);
  qsort(all, n, sizeof *all, by_name);
  for (i = 0; i < n_sels && rc == 0; i++) {
    const kapi_obj *sel = api->obj_index(sels, i);
    for (j = 0; j < n && rc == 0; j++) {
      const kapi_obj *rules = member(all[j], "rules");
      int m;
      if (!strcmp(name_of(all[j]), name_of(role)))
        continue;
      m = selector_matches(sel, api->obj_lookup(all[j], "/metadata/labels"));
      if (m < 0)
        rc = m;
      for (k = 0; m > 0 && k < list_len(rules) && rc == 0; k++)
        rc = rule_set_add(out, api->obj_index(rules, k));
    }
  }
  if (rc < 0) {
    free(out->v);
    memset(out, 0, sizeof *out);
  }
  return rc;
}

/* Writes JSON `o` into `b`. */
static void buf_obj(buf *b, const kapi_obj *o)
{
  char *json = api->obj_to_json(o);
  if (!json) {
    b->oom = 1;
    return;
  }
  buf_puts(b, json);
  api->free(json);
}

/* The body of the update: `role` (its resourceVersion guards against a
 * lost update) with `rules` instead of its own.  Caller frees. */
static char *role_with_rules(const kapi_obj *role, const rule_set *rules)
{
  size_t i, n = api->obj_len(role);
  buf b = {0};
  int first = 1;

  buf_puts(&b, "{");
  for (i = 0; i < n; i++) {
    const char *k = api->obj_key(role, i);
    if (!k || !strcmp(k, "rules"))
      continue;
    if (!first)
      buf_puts(&b, ",");
    first = 0;
    buf_json_str(&b, k);
    buf_puts(&b, ":");
    buf_obj(&b, api->obj_index(role, i));
  }
  buf_puts(&b, first ? "\"rules\":[" : ",\"rules\":[");
  for (i = 0; i < rules->n; i++) {
    if (i)
      buf_puts(&b, ",");
    buf_obj(&b, rules->v[i]);
  }
  buf_puts(&b, "]}");
  if (b.oom) {
    free(b.s);
    return NULL;
  }
  return b.s;
}

/* ---- the controller ------------------------------------------------------------ */

typedef struct crac {
  kapi_ctl *ctl;
  kapi_inf *inf;
  kapi_queue *queue;
  int workers;
} crac;

static crac the_crac;

/* Writes `rules` into `role` (borrowed).  0, or -errno to retry. */
static int update_rules(const kapi_obj *role, const rule_set *rules)
{
  char path[1024], msg[512];
  char *body = role_with_rules(role, rules);
  int rc;

  if (!body)
    return -ENOMEM;
  snprintf(path, sizeof path,
           "/apis/" RBAC_GROUP "/v1/clusterroles/%s?fieldManager=" FIELD_MANAGER,
           name_of(role));
  rc = ctl_request("PUT", path, "application/json", body, NULL, msg,
                   sizeof msg, NULL);
  free(body);
  if (rc == -ENOENT)
    return 0; /* deleted meanwhile */
  if (rc == -EBUSY) /* the cache was behind: retried once it catches up */
    api->log(self, 2, "clusterrole %s: %s", name_of(role), msg);
  else if (rc < 0)
    api->log(self, KAPI_LOG_WARNING, "clusterrole %s: %s", name_of(role), msg);
  else
    api->log(self, 2, "clusterrole %s: %zu aggregated rules", name_of(role),
             rules->n);
  return rc;
}

/*
 * syncClusterRole: `role` (borrowed, with an aggregationRule) and every
 * ClusterRole the informer holds (`all`, n, borrowed, reordered).
 */
static int sync_role(const kapi_obj *role, const kapi_obj **all, size_t n)
{
  rule_set rules;
  int rc = aggregate_rules(role, all, n, &rules);

  if (rc < 0)
    return rc;
  if (!rule_set_is(&rules, role))
    rc = update_rules(role, &rules);
  free(rules.v);
  return rc;
}

static int sync_key(void *st, const char *key)
{
  crac *c = st;
  kapi_ref *ref = NULL, **refs = NULL;
  const kapi_obj **all = NULL;
  size_t i, n = 0;
  int rc;

  rc = api->inf_get(c->inf, key, &ref);
  if (rc == -ENOENT)
    return 0;
  if (rc < 0)
    return rc;
  if (!member(api->ref_obj(ref), "aggregationRule")) {
    api->ref_put(ref);
    return 0;
  }
  rc = api->inf_list(c->inf, NULL, NULL, &refs, &n);
  if (rc == 0 && n && !(all = calloc(n, sizeof *all)))
    rc = -ENOMEM;
  for (i = 0; rc == 0 && i < n; i++)
    all[i] = api->ref_obj(refs[i]);
  if (rc == 0)
    rc = sync_role(api->ref_obj(ref), all, n);
  free(all);
  if (refs)
    api->ref_array_put(refs, n);
  api->ref_put(ref);
  return rc;
}

/* enqueue(): every ClusterRole with an aggregationRule. */
static void enqueue_aggregated(crac *c)
{
  kapi_ref **refs = NULL;
  size_t i, n = 0;

  if (api->inf_list(c->inf, NULL, NULL, &refs, &n) < 0)
    return;
  for (i = 0; i < n; i++) {
    const kapi_obj *o = api->ref_obj(refs[i]);
    if (member(o, "aggregationRule"))
      api->queue_add(c->queue, name_of(o));
  }
  if (refs)
    api->ref_array_put(refs, n);
}

static void on_add(void *arg, const kapi_obj *o)
{
  (void)o;
  enqueue_aggregated(arg);
}

static void on_update(void *arg, const kapi_obj *old, const kapi_obj *o)
{
  (void)old;
  (void)o;
  enqueue_aggregated(arg);
}

static void on_delete(void *arg, const kapi_obj *o)
{
  (void)o;
  enqueue_aggregated(arg);
}

static const kapi_inf_handler handler = {
    .size = sizeof(kapi_inf_handler),
    .on_add = on_add,
    .on_update = on_update,
    .on_delete = on_delete,
};

/* ---- lifecycle ------------------------------------------------------------------ */

static int crac_start(void *st, kapi_ctl *ctl, kapi_error *e)
{
  crac *c = st;
  c->ctl = ctl;
  c->inf = api->ctl_informer(ctl, RBAC_GROUP, "v1", "clusterroles");
  c->queue = api->ctl_queue(ctl, "ClusterRoleAggregator");
  if (!c->inf || !c->queue ||
      api->inf_add_handler(c->inf, &handler, c) < 0) {
    api->error_set(e, 500, "InternalError",
                   "clusterrole-aggregation: cannot watch clusterroles");
    return -EIO;
  }
  return api->ctl_run_workers(ctl, c->queue, c->workers, sync_key, c);
}

static const kapi_controller_ops crac_ops = {
    .size = sizeof(kapi_controller_ops),
    .start = crac_start,
};

static int crac_init(kapi_plugin *p, const kapi_host_api *host,
                     const char *config, size_t config_len, kapi_error *e)
{
  static const ctl_plugin_spec spec = {
      .name = "clusterrole-aggregation",
      .who = "clusterrole-aggregation controller",
      .needs_cache_key = 0,
      .ops = &crac_ops,
      .state = &the_crac,
      .workers = &the_crac.workers,
      .default_workers = DEFAULT_WORKERS,
  };
  return ctl_plugin_init(p, host, config, config_len, e, &spec);
}

KAPI_PLUGIN_DEFINE(.name = "clusterrole-aggregation", .version = "1.0.0",
                   .description = "ClusterRole aggregation controller "
                                  "(aggregationRule -> rules)",
                   .license = "Apache-2.0", .init = crac_init);
