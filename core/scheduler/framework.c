/*
 * framework.c - profiles, cycle state, statuses and the extension point
 * runs (upstream's framework/runtime/framework.go, framework/types.go
 * FitError, and the algorithm half of schedule_one.go).
 */
#include "framework.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host_ext.h"
#include "log.h"
#include "sbuf.h"

/* A member of a plugin's ops table, if its table is long enough. */
#define OPS_HAS(ops, m)                                                 \
  ((ops)->size >= offsetof(kapi_sched_ops, m) + sizeof((ops)->m) &&     \
   (ops)->m)

/* ---- statuses ---------------------------------------------------------- */

void kapi_status_reset(kapi_sched_status *s)
{
  for (size_t i = 0; i < s->n; i++)
    free(s->reasons[i]);
  s->n = 0;
  s->code = KAPI_SUCCESS;
  s->plugin = NULL;
}

void kapi_status_free(kapi_sched_status *s)
{
  kapi_status_reset(s);
  free(s->reasons);
  memset(s, 0, sizeof *s);
}

int kapi_status_add_reason(kapi_sched_status *s, const char *reason)
{
  char *copy;

  if (!s || !reason)
    return -EINVAL;
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 4;
    char **v = realloc(s->reasons, cap * sizeof *v);
    if (!v)
      return -ENOMEM;
    s->reasons = v;
    s->cap = cap;
  }
  if (!(copy = strdup(reason)))
    return -ENOMEM;
  s->reasons[s->n++] = copy;
  return 0;
}

void kapi_status_move(kapi_sched_status *dst, kapi_sched_status *src)
{
  kapi_status_free(dst);
  *dst = *src;
  memset(src, 0, sizeof *src);
}

int kapi_status_copy(kapi_sched_status *dst, const kapi_sched_status *src)
{
  kapi_status_reset(dst);
  for (size_t i = 0; i < src->n; i++)
    if (kapi_status_add_reason(dst, src->reasons[i]) < 0)
      return -ENOMEM;
  dst->code = src->code;
  dst->plugin = src->plugin;
  return 0;
}

char *kapi_status_message(const kapi_sched_status *s)
{
  struct kapi__sbuf b = {0};

  for (size_t i = 0; i < s->n; i++) {
    if (i)
      kapi__sb_puts(&b, ", ");
    kapi__sb_puts(&b, s->reasons[i]);
  }
  kapi__sb_puts(&b, "");
  return kapi__sb_take(&b);
}

int kapi_code_rejected(kapi_code c)
{
  return c == KAPI_UNSCHEDULABLE || c == KAPI_UNSCHEDULABLE_AND_UNRESOLVABLE;
}

/* "<prefix>: <reasons>" as a new string, for error messages. */
static char *status_error(const char *fmt, const char *plugin,
                          const kapi_sched_status *s)
{
  char *msg = kapi_status_message(s), *out = NULL;

  if (asprintf(&out, fmt, plugin, msg && *msg ? msg : "error") < 0)
    out = NULL;
  free(msg);
  return out;
}

static char *error_text(const char *fmt, ...) KAPI_PRINTF(1, 2);
static char *error_text(const char *fmt, ...)
{
  va_list ap;
  char *out;

  va_start(ap, fmt);
  if (vasprintf(&out, fmt, ap) < 0)
    out = NULL;
  va_end(ap);
  return out;
}

/* ---- cycle state ------------------------------------------------------- */

kapi_cycle *kapi_cycle_new(void)
{
  kapi_cycle *cs = calloc(1, sizeof *cs);

  if (cs)
    pthread_rwlock_init(&cs->lock, NULL);
  return cs;
}

void kapi_cycle_free(kapi_cycle *cs)
{
  if (!cs)
    return;
  for (size_t i = 0; i < cs->n; i++) {
    if (cs->v[i].vt && cs->v[i].vt->free)
      cs->v[i].vt->free(cs->v[i].data);
    free(cs->v[i].key);
  }
  free(cs->v);
  free(cs->skip_filter);
  free(cs->skip_score);
  free(cs->nominated_node);
  pthread_rwlock_destroy(&cs->lock);
  free(cs);
}

int kapi_cycle_write(kapi_cycle *cs, const char *key, void *data,
                     const kapi_state_vtbl *vt)
{
  size_t i;
  int r = 0;

  if (!cs || !key)
    return -EINVAL;
  pthread_rwlock_wrlock(&cs->lock);
  for (i = 0; i < cs->n; i++)
    if (!strcmp(cs->v[i].key, key))
      break;
  if (i < cs->n) {
    /* Replaced: the old data is the framework's to free. */
    if (cs->v[i].vt && cs->v[i].vt->free && cs->v[i].data != data)
      cs->v[i].vt->free(cs->v[i].data);
  } else {
    if (cs->n == cs->cap) {
      size_t cap = cs->cap ? cs->cap * 2 : 8;
      struct cycle_entry *v = realloc(cs->v, cap * sizeof *v);
      if (!v) {
        r = -ENOMEM;
        goto out;
      }
      cs->v = v;
      cs->cap = cap;
    }
    if (!(cs->v[i].key = strdup(key))) {
      r = -ENOMEM;
      goto out;
    }
    cs->n++;
  }
  cs->v[i].data = data;
  cs->v[i].vt = vt;
out:
  pthread_rwlock_unlock(&cs->lock);
  if (r < 0 && vt && vt->free)
    vt->free(data);
  return r;
}

void *kapi_cycle_read(kapi_cycle *cs, const char *key)
{
  void *data = NULL;

  if (!cs || !key)
    return NULL;
  pthread_rwlock_rdlock(&cs->lock);
  for (size_t i = 0; i < cs->n; i++)
    if (!strcmp(cs->v[i].key, key)) {
      data = cs->v[i].data;
      break;
    }
  pthread_rwlock_unlock(&cs->lock);
  return data;
}

static int skip_add(const kapi_sched_ops ***v, size_t *n,
                    const kapi_sched_ops *ops)
{
  const kapi_sched_ops **nv = realloc(*v, (*n + 1) * sizeof *nv);

  if (!nv)
    return -ENOMEM;
  nv[(*n)++] = ops;
  *v = nv;
  return 0;
}

static int skipped(const kapi_sched_ops *const *v, size_t n,
                   const kapi_sched_ops *ops)
{
  for (size_t i = 0; i < n; i++)
    if (v[i] == ops)
      return 1;
  return 0;
}

/* ---- the host API's scheduler members ---------------------------------- */

static void host_reason(kapi_sched_status *s, const char *message)
{
  kapi_status_add_reason(s, message);
}

static const kapi_obj *host_node_obj(const kapi_node_info *ni)
{
  return ni && ni->node ? ni->node->obj : NULL;
}

static const char *host_node_name(const kapi_node_info *ni)
{
  return ni ? ni->name : NULL;
}

static size_t host_node_pod_count(const kapi_node_info *ni)
{
  return ni ? ni->n_pods : 0;
}

static const kapi_obj *host_node_pod(const kapi_node_info *ni, size_t i)
{
  return ni && i < ni->n_pods ? ni->pods[i]->obj : NULL;
}

static int64_t host_node_requested(const kapi_node_info *ni,
                                   const char *resource, int non_zero)
{
  return ni && resource ? kapi_ni_requested(ni, resource, non_zero) : 0;
}

static int64_t host_node_allocatable(const kapi_node_info *ni,
                                     const char *resource)
{
  return ni && resource ? kapi_ni_allocatable(ni, resource) : 0;
}

static const kapi_sched_host sched_host = {
    .reason = host_reason,
    .cycle_write = kapi_cycle_write,
    .cycle_read = kapi_cycle_read,
    .node_obj = host_node_obj,
    .node_name = host_node_name,
    .node_pod_count = host_node_pod_count,
    .node_pod = host_node_pod,
    .node_requested = host_node_requested,
    .node_allocatable = host_node_allocatable,
};

void kapi_fw_install_host(void)
{
  kapi_host_set_sched(&sched_host);
}

/* ---- the registry ------------------------------------------------------ */

/* SchedulingGates is a PreEnqueue plugin: the queue applies it. */
static const kapi_sched_ops scheduling_gates_ops = {
    .size = sizeof(kapi_sched_ops)};

static int registry_add(kapi_sched_registry *reg, const char *name,
                        const kapi_sched_ops *ops, void *st)
{
  kapi_fw_plugin *v;

  for (size_t i = 0; i < reg->n; i++)
    if (!strcmp(reg->v[i].name, name))
      return 0; /* a loaded plugin overrides a built-in one */
  v = realloc(reg->v, (reg->n + 1) * sizeof *v);
  if (!v)
    return -ENOMEM;
  reg->v = v;
  v[reg->n++] = (kapi_fw_plugin){name, ops, st, 0};
  return 0;
}

int kapi_sched_registry_build(kapi_sched_registry *reg, const kapi_plugins *ps)
{
  size_t n = ps ? kapi_plugins_count(ps, KAPI_KIND_SCHED) : 0;
  int r = 0;

  memset(reg, 0, sizeof *reg);
  for (size_t i = 0; r == 0 && i < n; i++) {
    const kapi_component *c = kapi_plugins_at(ps, KAPI_KIND_SCHED, i);
    r = registry_add(reg, c->name, c->ops, c->st);
  }
  if (r == 0)
    r = registry_add(reg, "DefaultPreemption", &kapi_default_preemption_ops,
                     NULL);
  if (r == 0)
    r = registry_add(reg, "SchedulingGates", &scheduling_gates_ops, NULL);
  if (r < 0)
    kapi_sched_registry_free(reg);
  return r;
}

void kapi_sched_registry_free(kapi_sched_registry *reg)
{
  free(reg->v);
  memset(reg, 0, sizeof *reg);
}

const kapi_fw_plugin *kapi_sched_registry_find(const kapi_sched_registry *reg,
                                         const char *name)
{
  for (size_t i = 0; i < reg->n; i++)
    if (!strcmp(reg->v[i].name, name))
      return &reg->v[i];
  return NULL;
}

int kapi_plugin_implements(const kapi_sched_ops *ops, int point)
{
  switch (point) {
  case KAPI_EP_QUEUE_SORT: return OPS_HAS(ops, less);
  case KAPI_EP_PRE_FILTER: return OPS_HAS(ops, pre_filter);
  case KAPI_EP_FILTER: return OPS_HAS(ops, filter);
  case KAPI_EP_POST_FILTER: return OPS_HAS(ops, post_filter);
  case KAPI_EP_PRE_SCORE: return OPS_HAS(ops, pre_score);
  case KAPI_EP_SCORE: return OPS_HAS(ops, score);
  case KAPI_EP_RESERVE: return OPS_HAS(ops, reserve) || OPS_HAS(ops, unreserve);
  case KAPI_EP_PERMIT: return OPS_HAS(ops, permit);
  case KAPI_EP_PRE_BIND: return OPS_HAS(ops, pre_bind);
  case KAPI_EP_BIND: return OPS_HAS(ops, bind);
  case KAPI_EP_POST_BIND: return OPS_HAS(ops, post_bind);
  default: return 0;
  }
}

/* ---- building a profile ------------------------------------------------ */

/* upstream's interface names, as its errors print them. */
static const char *const ep_types[KAPI_EP_N] = {
    "QueueSortPlugin", "PreFilterPlugin", "FilterPlugin", "PostFilterPlugin",
    "PreScorePlugin",  "ScorePlugin",     "ReservePlugin", "PermitPlugin",
    "PreBindPlugin",   "BindPlugin",      "PostBindPlugin"};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    KAPI_PRINTF(3, 4);
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
  va_list ap;

  if (err && errlen) {
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return -EINVAL;
}

static int is_default_plugin(const char *name)
{
  for (size_t i = 0; i < kapi_n_default_plugins; i++)
    if (!strcmp(kapi_default_plugins[i].name, name))
      return 1;
  return 0;
}

static int name_in(const char *const *v, size_t n, const char *name)
{
  for (size_t i = 0; i < n; i++)
    if (!strcmp(v[i], name))
      return 1;
  return 0;
}

static int set_disables(const kapi_plugin_set *s, const char *name)
{
  for (size_t i = 0; i < s->n_disabled; i++)
    if (!strcmp(s->disabled[i], name))
      return 1;
  return 0;
}

/*
 * One point's plugins: the specific list, then the multiPoint expansion
 * (upstream's updatePluginList + expandMultiPointPlugins): plugins of
 * the specific list that multiPoint also names come first (an explicit
 * override), then the multiPoint ones, then the rest of the specific
 * list.
 */
static int build_point(kapi_framework *fw, const kapi_profile_config *pc,
                       const kapi_sched_registry *reg, int point, char *err,
                       size_t errlen)
{
  const kapi_plugin_set *set = &pc->sets[point];
  const kapi_plugin_set *multi = &pc->sets[KAPI_EP_MULTI_POINT];
  size_t cap = set->n_enabled + multi->n_enabled, n_spec = 0, n_multi = 0;
  const char **spec = calloc(cap + 1, sizeof *spec);
  const char **mp = calloc(cap + 1, sizeof *mp);
  unsigned char *override = calloc(cap + 1, 1);
  kapi_fw_plugin *out = calloc(cap + 1, sizeof *out);
  size_t n_out = 0, i, j;
  int r = 0;

  if (!spec || !mp || !override || !out) {
    r = -ENOMEM;
    goto done;
  }
  for (i = 0; i < set->n_enabled; i++) {
    const char *name = set->enabled[i].name;
    const kapi_fw_plugin *p = kapi_sched_registry_find(reg, name);
    if (!p) {
      r = fail(err, errlen, "%s \"%s\" does not exist", ep_types[point], name);
      goto done;
    }
    if (!kapi_plugin_implements(p->ops, point)) {
      r = fail(err, errlen, "plugin \"%s\" does not extend %s plugin", name,
               ep_types[point]);
      goto done;
    }
    if (name_in(spec, n_spec, name)) {
      r = fail(err, errlen, "plugin \"%s\" already registered as \"%s\"",
               name, ep_types[point]);
      goto done;
    }
    spec[n_spec++] = p->name;
  }
  if (!set_disables(set, "*")) {
    for (i = 0; i < multi->n_enabled; i++) {
      const char *name = multi->enabled[i].name;
      const kapi_fw_plugin *p = kapi_sched_registry_find(reg, name);
      if (!p) {
        /* Upstream compiles every default plugin in; kapi ships some of
         * them only.  A missing default is left out, quietly. */
        if (is_default_plugin(name))
          continue;
        r = fail(err, errlen, "%s \"%s\" does not exist", ep_types[point],
                 name);
        goto done;
      }
      if (!kapi_plugin_implements(p->ops, point) || set_disables(set, name))
        continue;
      for (j = 0; j < n_spec && strcmp(spec[j], name) != 0; j++)
        ;
      if (j < n_spec) {
        LOG_V(2, "MultiPoint plugin %s is explicitly re-configured for %s; "
              "overriding", name, kapi_ep_name(point));
        override[j] = 1;
        continue;
      }
      if (name_in(mp, n_multi, name)) {
        r = fail(err, errlen, "plugin \"%s\" already registered as \"%s\"",
                 name, ep_types[point]);
        goto done;
      }
      mp[n_multi++] = p->name;
    }
  }
  for (i = 0; i < n_spec; i++)
    if (override[i])
      out[n_out++] = *kapi_sched_registry_find(reg, spec[i]);
  for (i = 0; i < n_multi; i++)
    out[n_out++] = *kapi_sched_registry_find(reg, mp[i]);
  for (i = 0; i < n_spec; i++)
    if (!override[i])
      out[n_out++] = *kapi_sched_registry_find(reg, spec[i]);
  fw->points[point] = out;
  fw->n_points[point] = n_out;
  out = NULL;
done:
  free(spec);
  free(mp);
  free(override);
  free(out);
  return r;
}

/* getScoreWeights: the Score list's weight, else multiPoint's; 0 -> 1. */
static void score_weights(kapi_framework *fw, const kapi_profile_config *pc)
{
  const kapi_plugin_set *sets[2] = {&pc->sets[KAPI_EP_SCORE],
                                    &pc->sets[KAPI_EP_MULTI_POINT]};

  for (size_t k = 0; k < fw->n_points[KAPI_EP_SCORE]; k++) {
    kapi_fw_plugin *p = &fw->points[KAPI_EP_SCORE][k];
    int found = 0;
    for (int s = 0; s < 2 && !found; s++)
      for (size_t i = 0; i < sets[s]->n_enabled && !found; i++)
        if (!strcmp(sets[s]->enabled[i].name, p->name)) {
          p->weight = sets[s]->enabled[i].weight;
          found = 1;
        }
    if (p->weight == 0)
      p->weight = 1;
  }
}

int kapi_fw_new(const kapi_profile_config *pc, const kapi_sched_registry *reg,
                kapi_framework **ret, char *err, size_t errlen)
{
  kapi_framework *fw = calloc(1, sizeof *fw);
  int r = 0;

  *ret = NULL;
  if (!fw || !(fw->scheduler_name = strdup(pc->scheduler_name))) {
    free(fw);
    return -ENOMEM;
  }
  pthread_mutex_init(&fw->rng_mu, NULL);
  fw->percentage_of_nodes_to_score =
      pc->percentage_of_nodes_to_score < 0 ? 0
                                           : pc->percentage_of_nodes_to_score;
  kapi_fw_seed(fw, (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)fw);
  for (int p = 0; r == 0 && p < KAPI_EP_N; p++)
    r = build_point(fw, pc, reg, p, err, errlen);
  if (r == 0 && fw->n_points[KAPI_EP_QUEUE_SORT] != 1)
    r = fail(err, errlen, "only one queue sort plugin required for profile "
             "with scheduler name \"%s\", but got %zu", pc->scheduler_name,
             fw->n_points[KAPI_EP_QUEUE_SORT]);
  if (r == 0 && fw->n_points[KAPI_EP_BIND] == 0)
    r = fail(err, errlen, "at least one bind plugin is needed for profile "
             "with scheduler name \"%s\"", pc->scheduler_name);
  if (r < 0) {
    kapi_fw_free(fw);
    return r;
  }
  score_weights(fw, pc);
  *ret = fw;
  return 0;
}

void kapi_fw_free(kapi_framework *fw)
{
  if (!fw)
    return;
  for (int p = 0; p < KAPI_EP_N; p++)
    free(fw->points[p]);
  free(fw->scheduler_name);
  pthread_mutex_destroy(&fw->rng_mu);
  free(fw);
}

void kapi_fw_seed(kapi_framework *fw, uint64_t seed)
{
  fw->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
}

/* xorshift64*: the tie-break needs uniformity, not secrecy. */
static uint64_t fw_rand(kapi_framework *fw)
{
  uint64_t x;

  pthread_mutex_lock(&fw->rng_mu);
  x = fw->rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  fw->rng = x;
  pthread_mutex_unlock(&fw->rng_mu);
  return x * 0x2545F4914F6CDD1DULL;
}

void kapi_fw_describe(const kapi_framework *fw, char *buf, size_t len)
{
  size_t o = 0;
  int n;

  if (!len)
    return;
  buf[0] = '\0';
  for (int p = 0; p < KAPI_EP_N && o < len; p++) {
    n = snprintf(buf + o, len - o, "%s%s:", o ? "; " : "", kapi_ep_name(p));
    o += n > 0 ? (size_t)n : 0;
    for (size_t i = 0; i < fw->n_points[p] && o < len; i++) {
      const kapi_fw_plugin *pl = &fw->points[p][i];
      if (p == KAPI_EP_SCORE)
        n = snprintf(buf + o, len - o, " %s(%d)", pl->name, pl->weight);
      else
        n = snprintf(buf + o, len - o, " %s", pl->name);
      o += n > 0 ? (size_t)n : 0;
    }
  }
}

/* ---- diagnosis and FitError -------------------------------------------- */

void kapi_diagnosis_free(kapi_diagnosis *d)
{
  for (size_t i = 0; i < d->n; i++)
    kapi_status_free(&d->nodes[i].st);
  free(d->nodes);
  kapi_status_free(&d->pre_filter);
  free(d->post_filter_msg);
  memset(d, 0, sizeof *d);
}

int kapi_diagnosis_add(kapi_diagnosis *d, const char *node,
                       kapi_sched_status *st)
{
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 16;
    kapi_node_status *v = realloc(d->nodes, cap * sizeof *v);
    if (!v)
      return -ENOMEM;
    d->nodes = v;
    d->cap = cap;
  }
  d->nodes[d->n].node = node;
  memset(&d->nodes[d->n].st, 0, sizeof d->nodes[d->n].st);
  kapi_status_move(&d->nodes[d->n].st, st);
  d->n++;
  return 0;
}

const kapi_sched_status *kapi_diagnosis_get(const kapi_diagnosis *d,
                                            const char *node)
{
  for (size_t i = 0; i < d->n; i++)
    if (!strcmp(d->nodes[i].node, node))
      return &d->nodes[i].st;
  return d->pre_filter_rejected ? &d->pre_filter : NULL;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * FitError's histogram: each reason counted over the nodes ("2
 * Insufficient cpu"), the lines sorted as strings (so "10 x" sorts
 * before "2 y", as upstream's sort.Strings does), joined by ", ".
 */
char *kapi_diagnosis_histogram(const kapi_diagnosis *d)
{
  const char **all;
  char **lines = NULL;
  size_t total = 0, k = 0, n_lines = 0, i, j;
  struct kapi__sbuf b = {0};

  for (i = 0; i < d->n; i++)
    total += d->nodes[i].st.n;
  all = calloc(total + 1, sizeof *all);
  lines = calloc(total + 1, sizeof *lines);
  if (!all || !lines) {
    free(all);
    free(lines);
    return NULL;
  }
  for (i = 0; i < d->n; i++)
    for (j = 0; j < d->nodes[i].st.n; j++)
      all[k++] = d->nodes[i].st.reasons[j];
  qsort(all, total, sizeof *all, cmp_str);
  for (i = 0; i < total; i = j) {
    for (j = i + 1; j < total && !strcmp(all[i], all[j]); j++)
      ;
    if (asprintf(&lines[n_lines], "%zu %s", j - i, all[i]) < 0)
      b.oom = 1;
    else
      n_lines++;
  }
  qsort(lines, n_lines, sizeof *lines, cmp_str);
  kapi__sb_puts(&b, "");
  for (i = 0; i < n_lines; i++) {
    if (i)
      kapi__sb_puts(&b, ", ");
    kapi__sb_puts(&b, lines[i]);
    free(lines[i]);
  }
  free(lines);
  free(all);
  return kapi__sb_take(&b);
}

char *kapi_fit_error_message(const kapi_diagnosis *d)
{
  struct kapi__sbuf b = {0};
  char *part;

  kapi__sb_printf(&b, "0/%zu nodes are available:", d->num_all_nodes);
  if (d->pre_filter_rejected) {
    /* Every node has the PreFilter status: said once, not counted. */
    part = kapi_status_message(&d->pre_filter);
    if (part && *part)
      kapi__sb_printf(&b, " %s.", part);
  } else {
    part = kapi_diagnosis_histogram(d);
    if (part && *part)
      kapi__sb_printf(&b, " %s.", part);
  }
  free(part);
  if (d->post_filter_msg && *d->post_filter_msg)
    kapi__sb_printf(&b, " %s.", d->post_filter_msg);
  return kapi__sb_take(&b);
}

/* ---- running the points ------------------------------------------------ */

kapi_code kapi_fw_run_pre_filter(kapi_framework *fw, kapi_cycle *cs,
                                 const kj *pod, kapi_sched_status *s)
{
  for (size_t i = 0; i < fw->n_points[KAPI_EP_PRE_FILTER]; i++) {
    const kapi_fw_plugin *p = &fw->points[KAPI_EP_PRE_FILTER][i];
    kapi_code c;

    kapi_status_reset(s);
    c = p->ops->pre_filter(p->st, cs, pod, s);
    if (c == KAPI_SKIP) {
      kapi_status_reset(s);
      if (skip_add(&cs->skip_filter, &cs->n_skip_filter, p->ops) < 0)
        return KAPI_ERROR;
      continue;
    }
    if (c != KAPI_SUCCESS) {
      s->code = kapi_code_rejected(c) ? c : KAPI_ERROR;
      s->plugin = p->name;
      return s->code;
    }
  }
  kapi_status_reset(s);
  return KAPI_SUCCESS;
}

/* RunFilterPlugins: the first plugin that fails decides. */
static kapi_code run_filter_plugins(kapi_framework *fw, kapi_cycle *cs,
                                    const kj *pod, const kapi_node_info *ni,
                                    kapi_sched_status *s)
{
  kapi_status_reset(s);
  for (size_t i = 0; i < fw->n_points[KAPI_EP_FILTER]; i++) {
    const kapi_fw_plugin *p = &fw->points[KAPI_EP_FILTER][i];
    kapi_code c;

    if (cs->n_skip_filter &&
        skipped(cs->skip_filter, cs->n_skip_filter, p->ops))
      continue;
    c = p->ops->filter(p->st, cs, pod, ni, s);
    if (c != KAPI_SUCCESS) {
      s->code = kapi_code_rejected(c) ? c : KAPI_ERROR;
      s->plugin = p->name;
      return s->code;
    }
    kapi_status_reset(s); /* reasons on success mean nothing */
  }
  return KAPI_SUCCESS;
}

/*
 * A copy of `ni` with the pods nominated to it that are at least as
 * important as `pod` (upstream's addGENominatedPods), or NULL when there
 * are none.
 */
static kapi_node_info *with_nominated(kapi_framework *fw, const kj *pod,
                                      const kapi_node_info *ni)
{
  kapi_cobj **v;
  size_t n, i;
  kapi_node_info *copy = NULL;
  int32_t prio = kapi_pod_priority(pod);
  char *key;

  if (!fw->queue || !kapi_sq_has_nominated(fw->queue))
    return NULL;
  key = kapi_object_key(pod);
  if (kapi_sq_nominated(fw->queue, ni->name, key, &v, &n) < 0) {
    free(key);
    return NULL;
  }
  free(key);
  for (i = 0; i < n; i++) {
    if (kapi_pod_priority(v[i]->obj) < prio)
      continue;
    if (!copy && !(copy = kapi_ni_clone(ni)))
      break;
    kapi_ni_add_pod(copy, v[i]);
  }
  kapi_cobj_array_free(v, n);
  return copy;
}

kapi_code kapi_fw_run_filters(kapi_framework *fw, kapi_cycle *cs,
                              const kj *pod, const kapi_node_info *ni,
                              kapi_sched_status *s)
{
  kapi_node_info *plus = with_nominated(fw, pod, ni);
  kapi_code c;

  /* Twice when pods are nominated here: with them (they will take their
   * room) and without (the pod must not depend on them, e.g. through
   * affinity). */
  if (plus) {
    c = run_filter_plugins(fw, cs, pod, plus, s);
    kapi_ni_unref(plus);
    if (c != KAPI_SUCCESS)
      return c;
  }
  return run_filter_plugins(fw, cs, pod, ni, s);
}

size_t kapi_fw_num_feasible_to_find(const kapi_framework *fw, size_t n)
{
  long pct = fw->percentage_of_nodes_to_score;
  size_t k;

  if (n < 100)
    return n;
  if (pct == 0) {
    pct = 50 - (long)(n / 125);
    if (pct < 5)
      pct = 5;
  }
  k = n * (size_t)pct / 100;
  return k < 100 ? 100 : k;
}

size_t kapi_fw_select_host(kapi_framework *fw, const int64_t *totals,
                           size_t n)
{
  size_t best = 0, ties = 1;

  for (size_t i = 1; i < n; i++) {
    if (totals[i] > totals[best]) {
      best = i;
      ties = 1;
    } else if (totals[i] == totals[best]) {
      /* Reservoir sampling: the i-th tie replaces with chance 1/ties. */
      ties++;
      if (fw_rand(fw) % ties == 0)
        best = i;
    }
  }
  return best;
}

kapi_code kapi_fw_prioritize(kapi_framework *fw, kapi_cycle *cs,
                             const kj *pod, kapi_node_info *const *nodes,
                             size_t n, int64_t *totals, int64_t *per_plugin,
                             char **err)
{
  const size_t np = fw->n_points[KAPI_EP_SCORE];
  kapi_sched_status s = {0};
  int64_t *scores = NULL;
  kapi_code rc = KAPI_SUCCESS;
  size_t i, k;

  memset(totals, 0, n * sizeof *totals);
  if (per_plugin)
    memset(per_plugin, 0, n * np * sizeof *per_plugin);
  if (np == 0) {
    for (i = 0; i < n; i++)
      totals[i] = 1;
    return KAPI_SUCCESS;
  }
  for (k = 0; k < fw->n_points[KAPI_EP_PRE_SCORE]; k++) {
    const kapi_fw_plugin *p = &fw->points[KAPI_EP_PRE_SCORE][k];
    kapi_code c;
    kapi_status_reset(&s);
    c = p->ops->pre_score(p->st, cs, pod,
                          (const kapi_node_info *const *)nodes, n, &s);
    if (c == KAPI_SKIP) {
      if (skip_add(&cs->skip_score, &cs->n_skip_score, p->ops) < 0)
        rc = KAPI_ERROR;
    } else if (c != KAPI_SUCCESS) {
      *err = status_error("running PreScore plugin \"%s\": %s", p->name, &s);
      rc = KAPI_ERROR;
    }
    if (rc != KAPI_SUCCESS)
      goto out;
  }
  scores = calloc(n ? n : 1, sizeof *scores);
  if (!scores) {
    rc = KAPI_ERROR;
    goto out;
  }
  for (k = 0; k < np; k++) {
    const kapi_fw_plugin *p = &fw->points[KAPI_EP_SCORE][k];
    if (cs->n_skip_score && skipped(cs->skip_score, cs->n_skip_score, p->ops))
      continue;
    for (i = 0; i < n; i++) {
      kapi_status_reset(&s);
      scores[i] = 0;
      if (p->ops->score(p->st, cs, pod, nodes[i], &scores[i], &s) !=
          KAPI_SUCCESS) {
        *err = status_error("running Score plugin \"%s\": %s", p->name, &s);
        rc = KAPI_ERROR;
        goto out;
      }
    }
    if (OPS_HAS(p->ops, normalize_score)) {
      kapi_status_reset(&s);
      if (p->ops->normalize_score(p->st, cs, pod, scores, n, &s) !=
          KAPI_SUCCESS) {
        *err = status_error("running Normalize on Score plugins \"%s\": %s",
                            p->name, &s);
        rc = KAPI_ERROR;
        goto out;
      }
    }
    for (i = 0; i < n; i++) {
      if (scores[i] < 0 || scores[i] > KAPI_MAX_NODE_SCORE) {
        *err = error_text("plugin \"%s\" returns an invalid score %lld, it "
                          "should in the range of [0, %d] after normalizing",
                          p->name, (long long)scores[i], KAPI_MAX_NODE_SCORE);
        rc = KAPI_ERROR;
        goto out;
      }
      totals[i] += scores[i] * p->weight;
      if (per_plugin)
        per_plugin[i * np + k] = scores[i] * p->weight;
    }
  }
out:
  free(scores);
  kapi_status_free(&s);
  return rc;
}

/* The pod's nominated node, if it passes the filters (upstream tries it
 * first: preemption made room there). */
static kapi_node_info *try_nominated(kapi_framework *fw, kapi_cycle *cs,
                                     const kapi_snapshot *snap, const kj *pod)
{
  const char *nnn = kj_get_str(kj_get(pod, "status"), "nominatedNodeName");
  kapi_node_info *ni;
  kapi_sched_status s = {0};
  kapi_code c;

  if (!nnn || !*nnn || !(ni = kapi_snapshot_get(snap, nnn)))
    return NULL;
  c = kapi_fw_run_filters(fw, cs, pod, ni, &s);
  kapi_status_free(&s);
  return c == KAPI_SUCCESS ? ni : NULL;
}

static void set_node(kapi_sched_result *res, const char *name)
{
  snprintf(res->node, sizeof res->node, "%s", name);
}

kapi_code kapi_fw_schedule_pod(kapi_framework *fw, kapi_cycle *cs,
                               const kapi_snapshot *snap, const kj *pod,
                               kapi_sched_result *res, kapi_diagnosis *diag,
                               char **err)
{
  const size_t n = snap->n;
  kapi_sched_status s = {0};
  kapi_node_info **feasible = NULL, *nom;
  int64_t *totals = NULL;
  size_t to_find, n_feasible = 0, start, i;
  kapi_code c;

  memset(res, 0, sizeof *res);
  *err = NULL;
  cs->fw = fw;
  cs->snap = snap;
  cs->diag = diag;
  diag->num_all_nodes = n;
  if (n == 0) {
    *err = strdup("no nodes available to schedule pods");
    return KAPI_UNSCHEDULABLE_AND_UNRESOLVABLE;
  }
  c = kapi_fw_run_pre_filter(fw, cs, pod, &s);
  if (kapi_code_rejected(c)) {
    diag->pre_filter_rejected = 1;
    kapi_status_move(&diag->pre_filter, &s);
    return KAPI_UNSCHEDULABLE;
  }
  if (c != KAPI_SUCCESS) {
    *err = status_error("running PreFilter plugin \"%s\": %s", s.plugin, &s);
    kapi_status_free(&s);
    return KAPI_ERROR;
  }
  if ((nom = try_nominated(fw, cs, snap, pod))) {
    set_node(res, nom->name);
    res->evaluated = res->feasible = 1;
    return KAPI_SUCCESS;
  }
  to_find = fw->n_points[KAPI_EP_SCORE] ? kapi_fw_num_feasible_to_find(fw, n)
                                        : 1;
  feasible = malloc(to_find * sizeof *feasible);
  if (!feasible)
    return KAPI_ERROR;
  start = fw->next_start_node_index % n;
  for (i = 0; i < n && n_feasible < to_find; i++) {
    kapi_node_info *ni = snap->nodes[(start + i) % n];
    c = fw->n_points[KAPI_EP_FILTER] ? kapi_fw_run_filters(fw, cs, pod, ni, &s)
                                     : KAPI_SUCCESS;
    if (c == KAPI_SUCCESS) {
      feasible[n_feasible++] = ni;
    } else if (c == KAPI_ERROR) {
      *err = status_error("running \"%s\" filter plugin: %s", s.plugin, &s);
      break;
    } else if (kapi_diagnosis_add(diag, ni->name, &s) < 0) {
      c = KAPI_ERROR;
      break;
    }
  }
  /* Next cycle starts where this one stopped, so every node gets its
   * turn (processed = feasible + failed). */
  fw->next_start_node_index = (start + i) % n;
  kapi_status_free(&s);
  if (c == KAPI_ERROR) {
    free(feasible);
    return KAPI_ERROR;
  }
  res->evaluated = i;
  res->feasible = n_feasible;
  if (n_feasible == 0) {
    free(feasible);
    return KAPI_UNSCHEDULABLE;
  }
  if (n_feasible == 1) {
    set_node(res, feasible[0]->name);
    free(feasible);
    return KAPI_SUCCESS;
  }
  totals = malloc(n_feasible * sizeof *totals);
  c = totals ? kapi_fw_prioritize(fw, cs, pod, feasible, n_feasible, totals,
                                  NULL, err)
             : KAPI_ERROR;
  if (c == KAPI_SUCCESS)
    set_node(res, feasible[kapi_fw_select_host(fw, totals, n_feasible)]->name);
  free(totals);
  free(feasible);
  return c;
}

/* ---- after the algorithm ----------------------------------------------- */

kapi_code kapi_fw_run_post_filter(kapi_framework *fw, kapi_cycle *cs,
                                  const kj *pod, kapi_diagnosis *diag)
{
  kapi_sched_status s = {0}, all = {0};
  kapi_code rc = KAPI_UNSCHEDULABLE;
  size_t i, k;

  cs->diag = diag;
  for (i = 0; i < fw->n_points[KAPI_EP_POST_FILTER]; i++) {
    const kapi_fw_plugin *p = &fw->points[KAPI_EP_POST_FILTER][i];
    kapi_code c;
    kapi_status_reset(&s);
    c = p->ops->post_filter(p->st, cs, pod, &s);
    if (c == KAPI_SUCCESS || c == KAPI_UNSCHEDULABLE_AND_UNRESOLVABLE ||
        !kapi_code_rejected(c)) {
      /* Decided: success (e.g. a nominated node), no hope, or error. */
      rc = c == KAPI_SUCCESS || kapi_code_rejected(c) ? c : KAPI_ERROR;
      free(diag->post_filter_msg);
      diag->post_filter_msg = kapi_status_message(&s);
      goto out;
    }
    for (k = 0; k < s.n; k++)
      kapi_status_add_reason(&all, s.reasons[k]);
  }
  if (fw->n_points[KAPI_EP_POST_FILTER]) {
    free(diag->post_filter_msg);
    diag->post_filter_msg = kapi_status_message(&all);
  }
out:
  kapi_status_free(&s);
  kapi_status_free(&all);
  return rc;
}

kapi_code kapi_fw_run_reserve(kapi_framework *fw, kapi_cycle *cs,
                              const kj *pod, const char *node,
                              kapi_sched_status *s)
{
  for (size_t i = 0; i < fw->n_points[KAPI_EP_RESERVE]; i++) {
    const kapi_fw_plugin *p = &fw->points[KAPI_EP_RESERVE][i];
    kapi_code c;
    if (!OPS_HAS(p->ops, reserve))
      continue;
    kapi_status_reset(s);
    c = p->ops->reserve(p->st, cs, pod, node, s);
    if (c != KAPI_SUCCESS) {
      s->code = kapi_code_rejected(c) ? c : KAPI_ERROR;
      s->plugin = p->name;
      return s->code;
    }
  }
  kapi_status_reset(s);
  return KAPI_SUCCESS;
}

void kapi_fw_run_unreserve(kapi_framework *fw, kapi_cycle *cs, const kj *pod,
                           const char *node)
{
  /* Reverse order, every plugin: Unreserve must be idempotent. */
  for (size_t i = fw->n_points[KAPI_EP_RESERVE]; i-- > 0;) {
    const kapi_fw_plugin *p = &fw->points[KAPI_EP_RESERVE][i];
    if (OPS_HAS(p->ops, unreserve))
      p->ops->unreserve(p->st, cs, pod, node);
  }
}

kapi_code kapi_fw_run_permit(kapi_framework *fw, kapi_cycle *cs,
                             const kj *pod, const char *node,
                             kapi_sched_status *s, uint32_t *wait_ms)
{
  const char *waiter = NULL;
  int waiting = 0;

  *wait_ms = 0;
  for (size_t i = 0; i < fw->n_points[KAPI_EP_PERMIT]; i++) {
    const kapi_fw_plugin *p = &fw->points[KAPI_EP_PERMIT][i];
    uint32_t w = 0;
    kapi_code c;
    kapi_status_reset(s);
    c = p->ops->permit(p->st, cs, pod, node, &w, s);
    if (c == KAPI_WAIT) {
      waiting = 1;
      if (w >= *wait_ms) {
        *wait_ms = w;
        waiter = p->name;
      }
      continue;
    }
    if (c != KAPI_SUCCESS) {
      s->code = kapi_code_rejected(c) ? c : KAPI_ERROR;
      s->plugin = p->name;
      return s->code;
    }
  }
  kapi_status_reset(s);
  if (!waiting)
    return KAPI_SUCCESS;
  s->code = KAPI_WAIT;
  s->plugin = waiter;
  return KAPI_WAIT;
}

kapi_code kapi_fw_run_pre_bind(kapi_framework *fw, kapi_cycle *cs,
                               const kj *pod, const char *node,
                               kapi_sched_status *s)
{
  for (size_t i = 0; i < fw->n_points[KAPI_EP_PRE_BIND]; i++) {
    const kapi_fw_plugin *p = &fw->points[KAPI_EP_PRE_BIND][i];
    kapi_code c;
    kapi_status_reset(s);
    c = p->ops->pre_bind(p->st, cs, pod, node, s);
    if (c != KAPI_SUCCESS) {
      s->code = kapi_code_rejected(c) ? c : KAPI_ERROR;
      s->plugin = p->name;
      return s->code;
    }
  }
  kapi_status_reset(s);
  return KAPI_SUCCESS;
}

kapi_code kapi_fw_run_bind(kapi_framework *fw, kapi_cycle *cs, const kj *pod,
                           const char *node, kapi_sched_status *s)
{
  kapi_code c = KAPI_SKIP;

  for (size_t i = 0; i < fw->n_points[KAPI_EP_BIND]; i++) {
    const kapi_fw_plugin *p = &fw->points[KAPI_EP_BIND][i];
    kapi_status_reset(s);
    c = p->ops->bind(p->st, cs, pod, node, s);
    if (c == KAPI_SKIP)
      continue;
    if (c != KAPI_SUCCESS) {
      s->code = kapi_code_rejected(c) ? c : KAPI_ERROR;
      s->plugin = p->name;
      return s->code;
    }
    return KAPI_SUCCESS;
  }
  /* Every binder passed: nobody bound the pod. */
  s->code = c;
  return c;
}

void kapi_fw_run_post_bind(kapi_framework *fw, kapi_cycle *cs, const kj *pod,
                           const char *node)
{
  for (size_t i = 0; i < fw->n_points[KAPI_EP_POST_BIND]; i++) {
    const kapi_fw_plugin *p = &fw->points[KAPI_EP_POST_BIND][i];
    p->ops->post_bind(p->st, cs, pod, node);
  }
}
