/*
 * config.c - KubeSchedulerConfiguration v1: defaults, parsing, and the
 * merge of a profile's plugin sets with the default profile (upstream's
 * pkg/scheduler/apis/config/v1/{defaults.go,default_plugins.go}).
 */
#include "sched_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define API_VERSION "kubescheduler.config.k8s.io/v1"
#define KIND "KubeSchedulerConfiguration"
#define DEFAULT_SCHEDULER "default-scheduler"

/* getDefaultPlugins(): one multiPoint list; weights are Score weights. */
const kapi_plugin_entry kapi_default_plugins[] = {
    {"SchedulingGates", 0},
    {"PrioritySort", 0},
    {"NodeUnschedulable", 0},
    {"NodeName", 0},
    {"TaintToleration", 3},
    {"NodeAffinity", 2},
    {"NodePorts", 0},
    {"NodeResourcesFit", 1},
    {"VolumeRestrictions", 0},
    {"NodeVolumeLimits", 0},
    {"VolumeBinding", 0},
    {"VolumeZone", 0},
    {"PodTopologySpread", 2},
    {"InterPodAffinity", 2},
    {"DefaultPreemption", 0},
    {"NodeResourcesBalancedAllocation", 1},
    {"ImageLocality", 1},
    {"DefaultBinder", 0},
};
const size_t kapi_n_default_plugins =
    sizeof kapi_default_plugins / sizeof kapi_default_plugins[0];

static const char *const ep_names[KAPI_EP_ALL] = {
    "queueSort", "preFilter", "filter",  "postFilter", "preScore",
    "score",     "reserve",   "permit",  "preBind",    "bind",
    "postBind",  "multiPoint", "preEnqueue"};

const char *kapi_ep_name(int point)
{
  return point >= 0 && point < KAPI_EP_ALL ? ep_names[point] : "?";
}

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

/* ---- plugin sets ------------------------------------------------------- */

static void set_free(kapi_plugin_set *s)
{
  for (size_t i = 0; i < s->n_enabled; i++)
    free(s->enabled[i].name);
  free(s->enabled);
  for (size_t i = 0; i < s->n_disabled; i++)
    free(s->disabled[i]);
  free(s->disabled);
  memset(s, 0, sizeof *s);
}

static int set_enable(kapi_plugin_set *s, const char *name, int32_t weight)
{
  kapi_plugin_entry *v = realloc(s->enabled, (s->n_enabled + 1) * sizeof *v);

  if (!v)
    return -ENOMEM;
  s->enabled = v;
  if (!(v[s->n_enabled].name = strdup(name)))
    return -ENOMEM;
  v[s->n_enabled++].weight = weight;
  return 0;
}

static int set_disable(kapi_plugin_set *s, const char *name)
{
  char **v = realloc(s->disabled, (s->n_disabled + 1) * sizeof *v);

  if (!v)
    return -ENOMEM;
  s->disabled = v;
  if (!(v[s->n_disabled] = strdup(name)))
    return -ENOMEM;
  s->n_disabled++;
  return 0;
}

static int set_has_disabled(const kapi_plugin_set *s, const char *name)
{
  for (size_t i = 0; i < s->n_disabled; i++)
    if (!strcmp(s->disabled[i], name))
      return 1;
  return 0;
}

/*
 * mergePluginSet: the custom disabled list (plus the default's) is kept
 * for the multiPoint expansion; defaults not disabled stay in their
 * order, replaced in place by a custom entry of the same name; the other
 * custom entries follow.
 */
static int merge_set(const kapi_plugin_set *def, const kapi_plugin_set *cus,
                     kapi_plugin_set *out)
{
  unsigned char *replaced = calloc(cus->n_enabled + 1, 1);
  int all = set_has_disabled(cus, "*") || set_has_disabled(def, "*");
  int r = replaced ? 0 : -ENOMEM;
  size_t i, j;

  memset(out, 0, sizeof *out);
  for (i = 0; r == 0 && i < cus->n_disabled; i++)
    r = set_disable(out, cus->disabled[i]);
  for (i = 0; r == 0 && i < def->n_disabled; i++)
    r = set_disable(out, def->disabled[i]);
  for (i = 0; r == 0 && !all && i < def->n_enabled; i++) {
    const kapi_plugin_entry *e = &def->enabled[i];
    if (set_has_disabled(cus, e->name))
      continue;
    for (j = 0; j < cus->n_enabled; j++)
      if (!strcmp(cus->enabled[j].name, e->name))
        break;
    if (j < cus->n_enabled) {
      LOG_V(2, "default plugin %s is explicitly re-configured; overriding",
            e->name);
      replaced[j] = 1;
      e = &cus->enabled[j];
    }
    r = set_enable(out, e->name, e->weight);
  }
  for (j = 0; r == 0 && j < cus->n_enabled; j++)
    if (!replaced[j])
      r = set_enable(out, cus->enabled[j].name, cus->enabled[j].weight);
  free(replaced);
  if (r < 0)
    set_free(out);
  return r;
}

/* The default profile's sets: everything in multiPoint. */
static int default_sets(kapi_plugin_set *sets)
{
  int r = 0;

  memset(sets, 0, KAPI_EP_ALL * sizeof *sets);
  for (size_t i = 0; r == 0 && i < kapi_n_default_plugins; i++)
    r = set_enable(&sets[KAPI_EP_MULTI_POINT], kapi_default_plugins[i].name,
                   kapi_default_plugins[i].weight);
  return r;
}

/* ---- profiles ---------------------------------------------------------- */

static void profile_free(kapi_profile_config *p)
{
  free(p->scheduler_name);
  for (int i = 0; i < KAPI_EP_ALL; i++)
    set_free(&p->sets[i]);
  kj_free(p->plugin_args);
  memset(p, 0, sizeof *p);
}

static int profile_default(kapi_profile_config *p, const char *name)
{
  memset(p, 0, sizeof *p);
  p->percentage_of_nodes_to_score = -1;
  p->scheduler_name = strdup(name);
  p->plugin_args = kj_object();
  if (!p->scheduler_name || !p->plugin_args || default_sets(p->sets) < 0) {
    profile_free(p);
    return -ENOMEM;
  }
  return 0;
}

static int parse_int_field(const kj *obj, const char *key, int64_t *out,
                           const char *where, char *err, size_t errlen)
{
  const kj *v = kj_get(obj, key);

  if (!v || v->type == KJ_NULL)
    return 0;
  if (kj_to_int(v, out) < 0)
    return fail(err, errlen, "%s.%s: must be an integer", where, key);
  return 0;
}

/* A custom PluginSet: {enabled: [{name, weight}], disabled: [{name}]}. */
static int parse_set(const kj *v, kapi_plugin_set *s, const char *where,
                     char *err, size_t errlen)
{
  const kj *en = kj_get(v, "enabled"), *dis = kj_get(v, "disabled");
  size_t i;
  int r;

  memset(s, 0, sizeof *s);
  if (!v || v->type == KJ_NULL)
    return 0;
  if (v->type != KJ_OBJECT)
    return fail(err, errlen, "%s: must be an object", where);
  for (i = 0; i < kj_len(en); i++) {
    const kj *e = kj_at(en, i);
    const char *name = kj_get_str(e, "name");
    int64_t w = 0;
    if (!name || !*name) {
      set_free(s);
      return fail(err, errlen, "%s.enabled[%zu].name: Required value",
                  where, i);
    }
    if (kj_get(e, "weight") && kj_to_int(kj_get(e, "weight"), &w) < 0) {
      set_free(s);
      return fail(err, errlen, "%s.enabled[%zu].weight: must be an integer",
                  where, i);
    }
    if (w < 0) {
      set_free(s);
      return fail(err, errlen, "%s.enabled[%zu].weight: Invalid value: %lld: "
                  "must be non-negative", where, i, (long long)w);
    }
    if ((r = set_enable(s, name, (int32_t)w)) < 0) {
      set_free(s);
      return r;
    }
  }
  for (i = 0; i < kj_len(dis); i++) {
    const char *name = kj_get_str(kj_at(dis, i), "name");
    if (!name || !*name) {
      set_free(s);
      return fail(err, errlen, "%s.disabled[%zu].name: Required value",
                  where, i);
    }
    if ((r = set_disable(s, name)) < 0) {
      set_free(s);
      return r;
    }
  }
  return 0;
}

static int parse_profile(const kj *pv, size_t idx, kapi_profile_config *p,
                         int global_pct, char *err, size_t errlen)
{
  const char *name = kj_get_str(pv, "schedulerName");
  const kj *plugins = kj_get(pv, "plugins"), *pcfg = kj_get(pv, "pluginConfig");
  kapi_plugin_set def[KAPI_EP_ALL];
  char where[96];
  int64_t pct = -1;
  int r, i;

  (void)global_pct;
  if (!name || !*name)
    name = DEFAULT_SCHEDULER;
  if ((r = profile_default(p, name)) < 0)
    return r;
  snprintf(where, sizeof where, "profiles[%zu]", idx);
  r = parse_int_field(pv, "percentageOfNodesToScore", &pct, where, err,
                      errlen);
  if (r == 0 && pct != -1 && (pct < 0 || pct > 100))
    r = fail(err, errlen, "%s.percentageOfNodesToScore: Invalid value: %lld: "
             "not in valid range [0-100]", where, (long long)pct);
  p->percentage_of_nodes_to_score = (int)pct;
  /* Merge each point with the defaults (only multiPoint has any). */
  memcpy(def, p->sets, sizeof def);
  memset(p->sets, 0, sizeof p->sets);
  for (i = 0; r == 0 && i < KAPI_EP_ALL; i++) {
    kapi_plugin_set cus;
    char w[128];
    snprintf(w, sizeof w, "%s.plugins.%s", where, ep_names[i]);
    r = parse_set(kj_get(plugins, ep_names[i]), &cus, w, err, errlen);
    if (r == 0)
      r = merge_set(&def[i], &cus, &p->sets[i]);
    set_free(&cus);
  }
  for (i = 0; i < KAPI_EP_ALL; i++)
    set_free(&def[i]);
  for (size_t k = 0; r == 0 && k < kj_len(pcfg); k++) {
    const kj *e = kj_at(pcfg, k);
    const char *pname = kj_get_str(e, "name");
    const kj *args = kj_get(e, "args");
    if (!pname || !*pname) {
      r = fail(err, errlen, "%s.pluginConfig[%zu].name: Required value",
               where, k);
      break;
    }
    for (size_t j = 0; j < k; j++)
      if (!strcmp(kj_get_str(kj_at(pcfg, j), "name"), pname))
        r = fail(err, errlen, "%s.pluginConfig[%zu]: Duplicate value: "
                 "\"%s\"", where, k, pname);
    if (r < 0)
      break;
    if (args && args->type != KJ_NULL)
      r = kj_set(p->plugin_args, pname, kj_clone(args));
  }
  if (r < 0)
    profile_free(p);
  return r;
}

/* ---- durations --------------------------------------------------------- */

/* Go's time.ParseDuration for "15s", "1m30s", "500ms": whole seconds. */
static int parse_duration_s(const char *s, int *ret)
{
  double total = 0;
  char *end;

  if (!s || !*s)
    return -EINVAL;
  while (*s) {
    double v = strtod(s, &end);
    double unit;
    if (end == s)
      return -EINVAL;
    s = end;
    if (!strncmp(s, "ms", 2)) {
      unit = 0.001;
      s += 2;
    } else if (*s == 'h') {
      unit = 3600;
      s++;
    } else if (*s == 'm') {
      unit = 60;
      s++;
    } else if (*s == 's') {
      unit = 1;
      s++;
    } else {
      return -EINVAL;
    }
    total += v * unit;
  }
  *ret = total < 1 ? 1 : (int)total;
  return 0;
}

static int parse_duration_field(const kj *obj, const char *key, int *out,
                                char *err, size_t errlen)
{
  const char *s = kj_get_str(obj, key);

  if (!s)
    return 0;
  if (parse_duration_s(s, out) < 0)
    return fail(err, errlen, "leaderElection.%s: invalid duration \"%s\"", key,
                s);
  return 0;
}

/* ---- the configuration ------------------------------------------------- */

int kapi_sched_config_default(kapi_sched_config *cfg)
{
  memset(cfg, 0, sizeof *cfg);
  cfg->pod_initial_backoff_s = 1;
  cfg->pod_max_backoff_s = 10;
  cfg->parallelism = 16;
  cfg->qps = 50;
  cfg->burst = 100;
  cfg->leader_elect = 1;
  cfg->lease_duration_s = 15;
  cfg->renew_deadline_s = 10;
  cfg->retry_period_s = 2;
  cfg->lease_namespace = strdup("kube-system");
  cfg->lease_name = strdup("kube-scheduler");
  cfg->profiles = calloc(1, sizeof *cfg->profiles);
  if (!cfg->lease_namespace || !cfg->lease_name || !cfg->profiles ||
      profile_default(&cfg->profiles[0], DEFAULT_SCHEDULER) < 0) {
    kapi_sched_config_free(cfg);
    return -ENOMEM;
  }
  cfg->n_profiles = 1;
  return 0;
}

void kapi_sched_config_free(kapi_sched_config *cfg)
{
  for (size_t i = 0; i < cfg->n_profiles; i++)
    profile_free(&cfg->profiles[i]);
  free(cfg->profiles);
  free(cfg->kubeconfig);
  free(cfg->lease_namespace);
  free(cfg->lease_name);
  memset(cfg, 0, sizeof *cfg);
}

static int replace_str(char **dst, const char *src)
{
  char *s;

  if (!src)
    return 0;
  if (!(s = strdup(src)))
    return -ENOMEM;
  free(*dst);
  *dst = s;
  return 0;
}

static int parse_leader_election(const kj *le, kapi_sched_config *cfg,
                                 char *err, size_t errlen)
{
  const kj *b = kj_get(le, "leaderElect");
  int r = 0;

  if (!le)
    return 0;
  if (b && b->type == KJ_BOOL)
    cfg->leader_elect = b->u.boolean;
  if (r == 0)
    r = replace_str(&cfg->lease_namespace,
                    kj_get_str(le, "resourceNamespace"));
  if (r == 0)
    r = replace_str(&cfg->lease_name, kj_get_str(le, "resourceName"));
  if (r == 0)
    r = parse_duration_field(le, "leaseDuration", &cfg->lease_duration_s,
                             err, errlen);
  if (r == 0)
    r = parse_duration_field(le, "renewDeadline", &cfg->renew_deadline_s,
                             err, errlen);
  if (r == 0)
    r = parse_duration_field(le, "retryPeriod", &cfg->retry_period_s, err,
                             errlen);
  return r;
}

static int parse_client_connection(const kj *cc, kapi_sched_config *cfg,
                                   char *err, size_t errlen)
{
  int64_t burst = cfg->burst;
  const kj *qps = kj_get(cc, "qps");
  int r;

  if (!cc)
    return 0;
  r = replace_str(&cfg->kubeconfig, kj_get_str(cc, "kubeconfig"));
  if (r == 0 && qps && qps->type == KJ_NUMBER)
    cfg->qps = strtod(qps->u.str.s, NULL);
  if (r == 0)
    r = parse_int_field(cc, "burst", &burst, "clientConnection", err, errlen);
  cfg->burst = (int)burst;
  return r;
}

static int parse_profiles(const kj *list, kapi_sched_config *cfg, char *err,
                          size_t errlen)
{
  kapi_profile_config *v;
  size_t n = kj_len(list), i, j;
  int r = 0;

  if (!list || n == 0)
    return 0;
  if (list->type != KJ_ARRAY)
    return fail(err, errlen, "profiles: must be a list");
  v = calloc(n, sizeof *v);
  if (!v)
    return -ENOMEM;
  for (i = 0; r == 0 && i < n; i++) {
    const char *name = kj_get_str(kj_at(list, i), "schedulerName");
    /* v1 defaulting names only a lone profile. */
    if (n > 1 && (!name || !*name))
      r = fail(err, errlen, "profiles[%zu].schedulerName: Required value", i);
    else
      r = parse_profile(kj_at(list, i), i, &v[i],
                        cfg->percentage_of_nodes_to_score, err, errlen);
  }
  for (i = 0; r == 0 && i < n; i++)
    for (j = 0; r == 0 && j < i; j++)
      if (!strcmp(v[i].scheduler_name, v[j].scheduler_name))
        r = fail(err, errlen, "profiles[%zu].schedulerName: Duplicate value: "
                 "\"%s\"", i, v[i].scheduler_name);
  if (r < 0) {
    for (j = 0; j < n; j++)
      profile_free(&v[j]);
    free(v);
    return r;
  }
  for (i = 0; i < cfg->n_profiles; i++)
    profile_free(&cfg->profiles[i]);
  free(cfg->profiles);
  cfg->profiles = v;
  cfg->n_profiles = n;
  return 0;
}

int kapi_sched_config_parse(const kj *doc, kapi_sched_config *cfg, char *err,
                            size_t errlen)
{
  static const char *const known[] = {
      "apiVersion", "kind", "profiles", "percentageOfNodesToScore",
      "podInitialBackoffSeconds", "podMaxBackoffSeconds", "parallelism",
      "clientConnection", "leaderElection", "extenders",
      "delayCacheUntilActive", "enableProfiling", "enableContentionProfiling",
      "healthzBindAddress", "metricsBindAddress", NULL};
  const char *av = kj_get_str(doc, "apiVersion");
  const char *kind = kj_get_str(doc, "kind");
  int64_t pct = 0, pib = cfg->pod_initial_backoff_s,
          pmb = cfg->pod_max_backoff_s, par = cfg->parallelism;
  int r;

  if (!doc || doc->type != KJ_OBJECT)
    return fail(err, errlen, "not a KubeSchedulerConfiguration object");
  if (!av || strcmp(av, API_VERSION) != 0)
    return fail(err, errlen, "apiVersion \"%s\": want \"" API_VERSION "\"",
                av ? av : "");
  if (kind && strcmp(kind, KIND) != 0)
    return fail(err, errlen, "kind \"%s\": want \"" KIND "\"", kind);
  for (size_t i = 0; i < kj_len(doc); i++) {
    const char *k = kj_key_at(doc, i);
    const char *const *p;
    for (p = known; *p && strcmp(*p, k) != 0; p++)
      ;
    if (!*p)
      LOG_WARN("scheduler configuration: unknown field \"%s\"", k);
  }
  r = parse_int_field(doc, "percentageOfNodesToScore", &pct, "config", err,
                      errlen);
  if (r == 0 && (pct < 0 || pct > 100))
    r = fail(err, errlen, "percentageOfNodesToScore: Invalid value: %lld: not "
             "in valid range [0-100]", (long long)pct);
  if (r == 0)
    r = parse_int_field(doc, "podInitialBackoffSeconds", &pib, "config", err,
                        errlen);
  if (r == 0)
    r = parse_int_field(doc, "podMaxBackoffSeconds", &pmb, "config", err,
                        errlen);
  if (r == 0)
    r = parse_int_field(doc, "parallelism", &par, "config", err, errlen);
  if (r == 0 && pib <= 0)
    r = fail(err, errlen, "podInitialBackoffSeconds: Invalid value: %lld: "
             "must be greater than 0", (long long)pib);
  if (r == 0 && pmb < pib)
    r = fail(err, errlen, "podMaxBackoffSeconds: Invalid value: %lld: must be "
             "greater than or equal to PodInitialBackoffSeconds",
             (long long)pmb);
  if (r == 0 && par <= 0)
    r = fail(err, errlen, "parallelism: Invalid value: %lld: should be an "
             "integer value greater than zero", (long long)par);
  if (r < 0)
    return r;
  cfg->percentage_of_nodes_to_score = (int)pct;
  cfg->pod_initial_backoff_s = pib;
  cfg->pod_max_backoff_s = pmb;
  cfg->parallelism = (int)par;
  r = parse_client_connection(kj_get(doc, "clientConnection"), cfg, err,
                              errlen);
  if (r == 0)
    r = parse_leader_election(kj_get(doc, "leaderElection"), cfg, err, errlen);
  if (r == 0)
    r = parse_profiles(kj_get(doc, "profiles"), cfg, err, errlen);
  return r;
}

/* ---- the loader's view ------------------------------------------------- */

void kapi_kebab_case(const char *name, char *buf, size_t len)
{
  size_t o = 0;

  if (!len)
    return;
  for (size_t i = 0; name[i] && o + 2 < len; i++) {
    unsigned char c = (unsigned char)name[i];
    if (isupper(c)) {
      /* A new word starts at an upper case letter after a lower case
       * one or a digit, or before a lower case one ("HTTPServer"). */
      int prev_lower = i > 0 && (islower((unsigned char)name[i - 1]) ||
                                 isdigit((unsigned char)name[i - 1]));
      int next_lower = islower((unsigned char)name[i + 1]);
      if (o > 0 && buf[o - 1] != '-' &&
          (prev_lower || (next_lower && isupper((unsigned char)name[i - 1]))))
        buf[o++] = '-';
      buf[o++] = (char)tolower(c);
    } else {
      buf[o++] = (char)c;
    }
  }
  buf[o] = '\0';
}

kj *kapi_sched_config_loader_object(const kapi_sched_config *cfg,
                                    const char *(*name_to_key)(void *arg,
                                                               const char *),
                                    void *arg)
{
  kj *root = kj_object(), *plugins = root ? kj_child_object(root, "plugins")
                                          : NULL;

  if (!plugins) {
    kj_free(root);
    return NULL;
  }
  for (size_t p = 0; p < cfg->n_profiles; p++) {
    const kj *args = cfg->profiles[p].plugin_args;
    for (size_t i = 0; i < kj_len(args); i++) {
      const char *name = kj_key_at(args, i);
      const char *key = name_to_key ? name_to_key(arg, name) : NULL;
      char kebab[256];
      if (key) {
        if (!kj_get(plugins, key))
          kj_set(plugins, key, kj_clone(kj_at(args, i)));
        continue;
      }
      kapi_kebab_case(name, kebab, sizeof kebab);
      if (!kj_get(plugins, name))
        kj_set(plugins, name, kj_clone(kj_at(args, i)));
      if (!kj_get(plugins, kebab))
        kj_set(plugins, kebab, kj_clone(kj_at(args, i)));
    }
  }
  return root;
}
