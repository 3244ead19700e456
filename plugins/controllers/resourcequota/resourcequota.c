/*
 * resourcequota.c - the resource quota controller as a kapi controller
 * plugin for kapi-controller-manager.
 *
 * Mirrors upstream's pkg/controller/resourcequota
 * (resource_quota_controller.go: syncResourceQuota, addQuota, the full
 * resync every resourceQuotaSyncPeriod; resource_quota_monitor.go: the
 * replenishment of quotas when something they count is deleted or, for
 * pods and services, stops counting) with the evaluators of
 * pkg/quota/v1 shared with the ResourceQuota admission plugin
 * (admission/resource-quota/quota_usage.c).
 *
 * For every quota the controller sets status.hard to spec.hard and
 * recalculates status.used from its informer caches, and writes /status
 * when either changed, with the resourceVersion it read: a conflict (the
 * admission plugin charged meanwhile) requeues the quota.  Informers of
 * the counted resources other than pods are started when a quota first
 * counts them, once discovery shows the server serves them.
 *
 * Configuration (the plugin's config JSON): "concurrentSyncs" (workers,
 * default 5) and "resourceQuotaSyncPeriod" (a duration such as "5m0s" or
 * "2s", or seconds; default 5m).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kapi/plugin.h"
#include "../common/ctl_util.h"
#include "../../../admission/resource-quota/quota_usage.h"

#define DEFAULT_WORKERS 5          /* --concurrent-resource-quota-syncs */
#define DEFAULT_SYNC_PERIOD_MS (5 * 60 * 1000) /* --resource-quota-sync-period */
#define RESYNC_KEY "resync"
#define SYNC_WAIT_MS 10000         /* for informers started on demand */
#define DISCOVERY_RETRY_S 30       /* before asking again for a resource */

/* An informer of a resource some quota counts. */
typedef struct tracked {
  char group[256], resource[256];
  kapi_inf *inf;       /* NULL while the server does not serve it */
  int64_t checked_at;  /* when discovery said so */
  struct tracked *next;
} tracked;

typedef struct rqc {
  kapi_ctl *ctl;
  kapi_inf *quotas;
  kapi_queue *queue, *resync;
  int workers;
  int sync_period_ms;
  pthread_mutex_t mu; /* the tracked list */
  tracked *tracked;
} rqc;

static rqc the_rqc = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* ---- configuration ----------------------------------------------------------- */

/* A Go duration ("5m0s", "1h", "2.5s", "300ms") in milliseconds, or -1. */
static int64_t parse_duration_ms(const char *s)
{
  double total = 0;
  int any = 0;

  while (*s && *s != '"') {
    char *end;
    double v = strtod(s, &end);
    if (end == s)
      return -1;
    s = end;
    if (!strncmp(s, "ms", 2)) {
      total += v;
      s += 2;
    } else if (*s == 'h') {
      total += v * 3600e3;
      s++;
    } else if (*s == 'm') {
      total += v * 60e3;
      s++;
    } else if (*s == 's') {
      total += v * 1e3;
      s++;
    } else {
      return -1;
    }
    any = 1;
  }
  return any ? (int64_t)total : -1;
}

/* The setting `name`: a duration string ("5m0s") or a number of
 * seconds, in milliseconds; `dflt` when absent or not positive.  Read
 * before ctl_plugin_init, hence the host passed in. */
static int config_duration_ms(const kapi_host_api *host, const char *json,
                              size_t len, const char *name, int dflt)
{
  kapi_obj *cfg = NULL;
  const kapi_obj *v;
  char ptr[96];
  int64_t ms = -1;

  if (!json || !len || host->obj_parse(json, len, &cfg, NULL) < 0)
    return dflt;
  snprintf(ptr, sizeof ptr, "/%s", name);
  v = host->obj_lookup(cfg, ptr);
  if (host->obj_type(v) == KAPI_OBJ_STRING)
    ms = parse_duration_ms(host->obj_get(v, ""));
  else if (host->obj_type(v) == KAPI_OBJ_NUMBER)
    ms = (int64_t)(strtod(host->obj_get(v, ""), NULL) * 1000);
  host->obj_free(cfg);
  return ms > 0 && ms < INT32_MAX ? (int)ms : dflt;
}

/* ---- discovery ------------------------------------------------------------------- */

/* Does the group version at `path` serve `resource` with list and
 * watch? */
static int serves(const char *path, const char *resource)
{
  kapi_obj *list = NULL;
  const kapi_obj *rs;
  size_t i, n;
  int found = 0;

  if (ctl_call("GET", path, NULL, NULL, &list, NULL) < 0)
    return 0;
  rs = api->obj_lookup(list, "/resources");
  n = api->obj_len(rs);
  for (i = 0; i < n && !found; i++) {
    const kapi_obj *r = api->obj_index(rs, i);
    found = streq(member_str(r, "name"), resource) &&
            has_verb(member(r, "verbs"), "list") &&
            has_verb(member(r, "verbs"), "watch");
  }
  api->obj_free(list);
  return found;
}

/* The version to watch group/resource at (the group's preferred one),
 * into buf; -ENOENT when the server does not serve it. */
static int resolve_version(const char *group, const char *resource, char *buf,
                           size_t len)
{
  char path[600];
  kapi_obj *g = NULL;
  const char *v;
  int ok;

  if (!*group) {
    snprintf(buf, len, "v1");
    return serves("/api/v1", resource) ? 0 : -ENOENT;
  }
  snprintf(path, sizeof path, "/apis/%s", group);
  if (ctl_call("GET", path, NULL, NULL, &g, NULL) < 0)
    return -ENOENT;
  v = str_at(g, "/preferredVersion/version");
  if (!v) {
    api->obj_free(g);
    return -ENOENT;
  }
  snprintf(buf, len, "%s", v);
  api->obj_free(g);
  gv_path(path, sizeof path, group, buf);
  ok = serves(path, resource);
  return ok ? 0 : -ENOENT;
}

/* ---- replenishment (resource_quota_monitor.go) ------------------------------------------ */

static void enqueue_quota(rqc *c, const kapi_obj *quota)
{
  char *key = api->obj_cache_key(quota);
  if (key)
    api->queue_add(c->queue, key);
  api->free(key);
}

/* replenishQuota: every quota of the namespace that counts something of
 * group/resource is recalculated. */
static void replenish(rqc *c, const char *group, const char *resource,
                      const kapi_obj *obj)
{
  const char *ns = str_at(obj, "/metadata/namespace");
  kapi_ref **refs = NULL;
  size_t i, j, n = 0;

  if (!ns || api->inf_list(c->quotas, "namespace", ns, &refs, &n) < 0)
    return;
  for (i = 0; i < n; i++) {
    const kapi_obj *q = api->ref_obj(refs[i]);
    const kapi_obj *hard = api->obj_lookup(q, "/status/hard");
    size_t nh = api->obj_type(hard) == KAPI_OBJ_OBJECT ? api->obj_len(hard) : 0;
    for (j = 0; j < nh; j++)
      if (rq_matches_name(group, resource, api->obj_key(hard, j))) {
        enqueue_quota(c, q);
        break;
      }
  }
  api->ref_array_put(refs, n);
}

/* The service types quota tells apart (GetQuotaServiceType). */
static const char *quota_service_type(const kapi_obj *svc)
{
  const char *t = str_at(svc, "/spec/type");
  return streq(t, "NodePort") || streq(t, "LoadBalancer") ? t : "";
}

static int same_text(const char *a, const char *b)
{
  return !strcmp(a ? a : "", b ? b : "");
}

/* DefaultUpdateFilter: which updates can lower usage. */
static int update_matters(const tracked *t, const kapi_obj *old,
                          const kapi_obj *obj)
{
  int64_t now = (int64_t)time(NULL);

  if (*t->group)
    return 0;
  if (!strcmp(t->resource, "pods"))
    return rq_pod_counts(old, now) && !rq_pod_counts(obj, now);
  if (!strcmp(t->resource, "services"))
    return strcmp(quota_service_type(old), quota_service_type(obj)) != 0;
  if (!strcmp(t->resource, "persistentvolumeclaims"))
    return !same_text(
        api->obj_get(api->obj_lookup(old, "/status/allocatedResources/storage"),
                     ""),
        api->obj_get(api->obj_lookup(obj, "/status/allocatedResources/storage"),
                     ""));
  return 0;
}

static void counted_update(void *arg, const kapi_obj *old, const kapi_obj *obj)
{
  tracked *t = arg;
  if (update_matters(t, old, obj))
    replenish(&the_rqc, t->group, t->resource, obj);
}

static void counted_delete(void *arg, const kapi_obj *obj)
{
  tracked *t = arg;
  replenish(&the_rqc, t->group, t->resource, obj);
}

static const kapi_inf_handler counted_handler = {
    .size = sizeof(kapi_inf_handler),
    .on_update = counted_update,
    .on_delete = counted_delete,
};

/* The informer of group/resource, started on first use; NULL when the
 * server does not serve it.  *fresh says it was just started. */
static kapi_inf *counted_informer(rqc *c, const char *group,
                                  const char *resource, int *fresh)
{
  int64_t now = (int64_t)time(NULL);
  char version[64];
  tracked *t;
  kapi_inf *inf = NULL;

  *fresh = 0;
  pthread_mutex_lock(&c->mu);
  for (t = c->tracked; t; t = t->next)
    if (!strcmp(t->group, group) && !strcmp(t->resource, resource))
      break;
  if (!t && (t = calloc(1, sizeof *t))) {
    snprintf(t->group, sizeof t->group, "%s", group);
    snprintf(t->resource, sizeof t->resource, "%s", resource);
    t->next = c->tracked;
    c->tracked = t;
  }
  if (t && !t->inf && (!t->checked_at || now - t->checked_at >= DISCOVERY_RETRY_S)) {
    t->checked_at = now;
    if (resolve_version(group, resource, version, sizeof version) == 0 &&
        (t->inf = api->ctl_informer(c->ctl, group, version, resource))) {
      api->inf_add_index(t->inf, "namespace");
      api->inf_add_handler(t->inf, &counted_handler, t);
      *fresh = 1;
      api->log(self, 2, "counting %s%s%s from an informer",
               resource, *group ? "." : "", group);
    }
  }
  if (t)
    inf = t->inf;
  pthread_mutex_unlock(&c->mu);
  return inf;
}

/* rq_lister_fn over the informer caches. */
static int cache_lister(void *arg, const char *group, const char *resource,
                        const char *ns, rq_visit_fn visit, void *ctx)
{
  rqc *c = arg;
  kapi_ref **refs = NULL;
  size_t i, n = 0;
  int fresh, rc;
  kapi_inf *inf = counted_informer(c, group, resource, &fresh);

  if (!inf)
    return -ENOENT;
  /* Synced already, unless it was just started (here or by another
   * worker): then its first list is awaited. */
  (void)fresh;
  if ((rc = api->inf_wait_synced(inf, SYNC_WAIT_MS)) < 0)
    return rc == -ETIMEDOUT ? -EAGAIN : rc;
  if ((rc = api->inf_list(inf, "namespace", ns, &refs, &n)) < 0)
    return rc;
  for (i = 0; i < n; i++)
    visit(ctx, api->ref_obj(refs[i]));
  api->ref_array_put(refs, n);
  return 0;
}

/* ---- syncResourceQuota -------------------------------------------------------------------- */

/* The /status body: the quota as cached with the new status. */
static char *status_body(const kapi_obj *quota, const rq_list *hard,
                         const rq_list *used)
{
  char *h = rq_list_json(hard), *u = rq_list_json(used), *m, *s;
  buf b = {0};

  m = api->obj_to_json(api->obj_lookup(quota, "/metadata"));
  s = api->obj_to_json(api->obj_lookup(quota, "/spec"));
  if (h && u && m) {
    buf_puts(&b, "{\"apiVersion\":\"v1\",\"kind\":\"ResourceQuota\","
                 "\"metadata\":");
    buf_puts(&b, m);
    if (s) {
      buf_puts(&b, ",\"spec\":");
      buf_puts(&b, s);
    }
    buf_printf(&b, ",\"status\":{\"hard\":%s,\"used\":%s}}", h, u);
  }
  free(h);
  free(u);
  api->free(m);
  api->free(s);
  if (b.oom || !b.s) {
    free(b.s);
    return NULL;
  }
  return b.s;
}

/*
 * Recalculates one quota: status.hard = spec.hard, status.used = the
 * usage the caches show (kept as it was for resources the caches cannot
 * count yet), written when it differs.  0, or -errno to retry.
 */
static int sync_quota(rqc *c, const kapi_obj *quota)
{
  const char *ns = str_at(quota, "/metadata/namespace");
  const char *name = str_at(quota, "/metadata/name");
  rq_list hard = {0}, status_hard = {0}, status_used = {0}, used = {0},
          fresh = {0};
  rq_scope *scopes = NULL;
  size_t n_scopes = 0, i;
  int rc, usage_rc, dirty;
  char path[700], *body;

  if (!ns || !name)
    return 0;
  rc = rq_list_parse(api->obj_lookup(quota, "/spec/hard"), &hard);
  if (rc == 0)
    rc = rq_list_parse(api->obj_lookup(quota, "/status/hard"), &status_hard);
  if (rc == 0)
    rc = rq_list_parse(api->obj_lookup(quota, "/status/used"), &status_used);
  if (rc == 0)
    rc = rq_quota_scopes(quota, &scopes, &n_scopes);
  if (rc < 0)
    goto out;
  dirty = !rq_list_equal(&hard, &status_hard) ||
          api->obj_type(api->obj_lookup(quota, "/status/hard")) !=
              KAPI_OBJ_OBJECT ||
          api->obj_type(api->obj_lookup(quota, "/status/used")) !=
              KAPI_OBJ_OBJECT;

  /* By default the past usage is kept; what can be counted replaces it. */
  usage_rc = rq_calculate_usage(ns, scopes, n_scopes, &hard, cache_lister, c,
                                (int64_t)time(NULL), &fresh);
  if (usage_rc == -ENOMEM) {
    rc = usage_rc;
    goto out;
  }
  if ((rc = rq_list_copy(&used, &status_used)) < 0)
    goto out;
  for (i = 0; i < fresh.n && rc == 0; i++)
    rc = rq_list_set(&used, fresh.v[i].name, &fresh.v[i].q);
  if (rc < 0)
    goto out;
  rq_list_mask(&used, &hard);
  dirty = dirty || !rq_list_equal(&used, &status_used);

  if (dirty) {
    if (!(body = status_body(quota, &hard, &used))) {
      rc = -ENOMEM;
      goto out;
    }
    snprintf(path, sizeof path,
             "/api/v1/namespaces/%s/resourcequotas/%s/status", ns, name);
    rc = ctl_call("PUT", path, "application/json", body, NULL, NULL);
    free(body);
    if (rc == -ENOENT)
      rc = 0; /* deleted meanwhile */
    else if (rc == 0)
      api->log(self, 4, "quota %s/%s: status updated", ns, name);
  }
  /* Some usage could not be counted (an informer not synced yet): try
   * again later, as upstream returns the aggregate error. */
  if (rc == 0 && usage_rc < 0 && usage_rc != -ENOENT)
    rc = usage_rc;
out:
  rq_list_free(&hard);
  rq_list_free(&status_hard);
  rq_list_free(&status_used);
  rq_list_free(&used);
  rq_list_free(&fresh);
  free(scopes);
  return rc;
}

static int sync_key(void *st, const char *key)
{
  rqc *c = st;
  kapi_ref *ref = NULL;
  int rc = api->inf_get(c->quotas, key, &ref);

  if (rc == -ENOENT)
    return 0; /* deleted: nothing to keep */
  if (rc < 0)
    return rc;
  rc = sync_quota(c, api->ref_obj(ref));
  api->ref_put(ref);
  if (rc < 0)
    api->log(self, 2, "syncing quota %s: %s", key, strerror(-rc));
  return rc;
}

/* enqueueAll, then again after the sync period. */
static int resync_all(void *st, const char *key)
{
  rqc *c = st;
  kapi_ref **refs = NULL;
  size_t i, n = 0;

  if (api->inf_list(c->quotas, NULL, NULL, &refs, &n) == 0) {
    for (i = 0; i < n; i++)
      enqueue_quota(c, api->ref_obj(refs[i]));
    api->ref_array_put(refs, n);
  }
  api->log(self, 4, "full resync of %zu quotas", n);
  api->queue_add_after(c->resync, key, c->sync_period_ms);
  return 0;
}

/* ---- the quota informer (addQuota) --------------------------------------------------- */

static void quota_added(void *arg, const kapi_obj *q)
{
  enqueue_quota(arg, q);
}

/* Only spec.hard drives a recalculation: status updates are ours (or
 * the admission plugin's charges). */
static void quota_updated(void *arg, const kapi_obj *old, const kapi_obj *q)
{
  rq_list a = {0}, b = {0};
  int same;

  rq_list_parse(api->obj_lookup(old, "/spec/hard"), &a);
  rq_list_parse(api->obj_lookup(q, "/spec/hard"), &b);
  same = rq_list_equal(&a, &b);
  rq_list_free(&a);
  rq_list_free(&b);
  if (!same)
    enqueue_quota(arg, q);
}

static const kapi_inf_handler quota_handler = {
    .size = sizeof(kapi_inf_handler),
    .on_add = quota_added,
    .on_update = quota_updated,
};

/* ---- lifecycle ------------------------------------------------------------------------- */

static int rq_start(void *st, kapi_ctl *ctl, kapi_error *e)
{
  rqc *c = st;
  int fresh;

  c->ctl = ctl;
  /* Without the resource there is nothing to do, and an informer that
   * never syncs would hold back every controller. */
  if (!serves("/api/v1", "resourcequotas")) {
    api->log(self, KAPI_LOG_WARNING,
             "the server does not serve resourcequotas; "
             "the controller stays idle");
    return 0;
  }
  c->quotas = api->ctl_informer(ctl, "", "v1", "resourcequotas");
  c->queue = api->ctl_queue(ctl, "resourcequota_primary");
  c->resync = api->ctl_queue(ctl, "resourcequota_resync");
  if (!c->quotas || !c->queue || !c->resync ||
      api->inf_add_index(c->quotas, "namespace") < 0 ||
      api->inf_add_handler(c->quotas, &quota_handler, c) < 0) {
    api->error_set(e, 500, "InternalError",
                   "resourcequota: cannot watch resourcequotas");
    return -EIO;
  }
  /* Pods are what quotas count most: watched from the start. */
  counted_informer(c, "", "pods", &fresh);
  api->queue_add_after(c->resync, RESYNC_KEY, c->sync_period_ms);
  if (api->ctl_run_workers(ctl, c->resync, 1, resync_all, c) < 0)
    return -EIO;
  return api->ctl_run_workers(ctl, c->queue, c->workers, sync_key, c);
}

static void rq_stop(void *st)
{
  rqc *c = st;
  pthread_mutex_lock(&c->mu);
  while (c->tracked) {
    tracked *t = c->tracked;
    c->tracked = t->next;
    free(t);
  }
  pthread_mutex_unlock(&c->mu);
}

static const kapi_controller_ops rq_ops = {
    .size = sizeof(kapi_controller_ops),
    .start = rq_start,
    .stop = rq_stop,
};

static int rq_init(kapi_plugin *p, const kapi_host_api *host,
                   const char *config, size_t config_len, kapi_error *e)
{
  static const ctl_plugin_spec spec = {
      .name = "resourcequota",
      .who = "resourcequota controller",
      .needs_cache_key = 1,
      .ops = &rq_ops,
      .state = &the_rqc,
      .workers = &the_rqc.workers,
      .default_workers = DEFAULT_WORKERS,
  };
  quota_api = host;
  the_rqc.sync_period_ms = config_duration_ms(
      host, config, config_len, "resourceQuotaSyncPeriod",
      DEFAULT_SYNC_PERIOD_MS);
  return ctl_plugin_init(p, host, config, config_len, e, &spec);
}

KAPI_PLUGIN_DEFINE(.name = "resourcequota", .version = "0.1.0",
                   .description = "resource quota controller (status.hard "
                                  "and status.used of every quota)",
                   .license = "Apache-2.0", .init = rq_init);
