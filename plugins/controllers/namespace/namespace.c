/*
 * namespace.c - the namespace controller as a kapi controller plugin for
 * kapi-controller-manager.
 *
 * Mirrors upstream's pkg/controller/namespace (namespace_controller.go,
 * deletion/namespaced_resources_deleter.go, status_condition_utils.go):
 * for a namespace with a deletionTimestamp, make sure it is Terminating,
 * delete every object of every namespaced resource in it (deletecollection
 * where the server has it, else list and delete each, propagation
 * Background), report what remains in the status conditions, look again
 * while something remains, and once it is empty remove the "kubernetes"
 * finalizer through namespaces/NAME/finalize, after which the server
 * removes the namespace.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kapi/plugin.h"
#include "../common/ctl_util.h"

#define DEFAULT_WORKERS 10
#define FINALIZER_TOKEN "kubernetes"
/* namespaceDeletionGracePeriod: let the caches of other controllers see
 * the deletion before content goes. */
#define DELETION_GRACE_MS 5000
/* finalizerEstimateSeconds: when objects wait on finalizers. */
#define FINALIZER_ESTIMATE_S 15
#define CONFLICT_RETRIES 5

/* ---- discovery ------------------------------------------------------------ */

typedef struct gvr {
  char *group, *version, *resource;
  int deletecollection; /* advertised, and not refused yet */
} gvr;

typedef struct gvr_list {
  gvr *v;
  size_t n;
} gvr_list;

static void gvrs_free(gvr_list *l)
{
  size_t i;
  for (i = 0; i < l->n; i++) {
    free(l->v[i].group);
    free(l->v[i].version);
    free(l->v[i].resource);
  }
  free(l->v);
  l->v = NULL;
  l->n = 0;
}

/* Namespaced resources of one group version that can be listed and
 * deleted (no subresources). */
static int discover_gv(gvr_list *l, const char *group, const char *version,
                       char *msg, size_t len)
{
  char path[512];
  kapi_obj *list = NULL;
  const kapi_obj *rs;
  size_t i, n;
  int rc;

  gv_path(path, sizeof path, group, version);
  if ((rc = ctl_request("GET", path, NULL, NULL, &list, msg, len, NULL)) < 0)
    return rc;
  rs = api->obj_lookup(list, "/resources");
  n = api->obj_len(rs);
  for (i = 0; i < n; i++) {
    const kapi_obj *r = api->obj_index(rs, i);
    const char *name = member_str(r, "name");
    const kapi_obj *verbs = member(r, "verbs");
    gvr *v;
    if (!name || strchr(name, '/') || !member_true(r, "namespaced") ||
        !has_verb(verbs, "list") || !has_verb(verbs, "delete"))
      continue;
    if (!(v = realloc(l->v, (l->n + 1) * sizeof *v))) {
      rc = -ENOMEM;
      break;
    }
    l->v = v;
    v = &l->v[l->n];
    v->group = strdup(group);
    v->version = strdup(version);
    v->resource = strdup(name);
    v->deletecollection = has_verb(verbs, "deletecollection");
    if (!v->group || !v->version || !v->resource) {
      free(v->group);
      free(v->version);
      free(v->resource);
      rc = -ENOMEM;
      break;
    }
    l->n++;
  }
  api->obj_free(list);
  return rc;
}

/* ServerPreferredNamespacedResources, filtered to list+delete. */
static int discover(gvr_list *l, char *msg, size_t len)
{
  kapi_obj *groups = NULL;
  const kapi_obj *gl;
  size_t i, n;
  int rc;

  if ((rc = discover_gv(l, "", "v1", msg, len)) < 0)
    return rc;
  if ((rc = ctl_request("GET", "/apis", NULL, NULL, &groups, msg, len,
                        NULL)) < 0)
    return rc;
  gl = api->obj_lookup(groups, "/groups");
  n = api->obj_len(gl);
  for (i = 0; i < n && rc == 0; i++) {
    const kapi_obj *g = api->obj_index(gl, i);
    const char *name = member_str(g, "name");
    const char *ver = str_at(g, "/preferredVersion/version");
    if (name && ver)
      rc = discover_gv(l, name, ver, msg, len);
  }
  api->obj_free(groups);
  return rc;
}

static void collection_path(char *out, size_t len, const gvr *g,
                            const char *ns)
{
  if (*g->group)
    snprintf(out, len, "/apis/%s/%s/namespaces/%s/%s", g->group, g->version,
             ns, g->resource);
  else
    snprintf(out, len, "/api/%s/namespaces/%s/%s", g->version, ns,
             g->resource);
}

/* ---- deleting content ------------------------------------------------------ */

static const char background[] =
    "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\","
    "\"propagationPolicy\":\"Background\"}";

/* Finalizers seen on what remains, and how often. */
typedef struct fin_count {
  char *name;
  size_t n;
} fin_count;

typedef struct totals {
  buf remaining;     /* "pods. has 2 resource instances, ..." */
  fin_count *fins;
  size_t n_fins;
  buf errors;        /* content deletion failures */
  size_t n_errors;
  int64_t estimate;
} totals;

static void count_finalizer(totals *t, const char *name)
{
  fin_count *v;
  size_t i;
  for (i = 0; i < t->n_fins; i++)
    if (!strcmp(t->fins[i].name, name)) {
      t->fins[i].n++;
      return;
    }
  if (!(v = realloc(t->fins, (t->n_fins + 1) * sizeof *v)))
    return;
  t->fins = v;
  if ((v[t->n_fins].name = strdup(name))) {
    v[t->n_fins].n = 1;
    t->n_fins++;
  }
}

static void totals_free(totals *t)
{
  size_t i;
  for (i = 0; i < t->n_fins; i++)
    free(t->fins[i].name);
  free(t->fins);
  free(t->remaining.s);
  free(t->errors.s);
}

static void add_error(totals *t, const char *fmt, ...) KAPI_PRINTF(2, 3);
static void add_error(totals *t, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (t->n_errors++)
    buf_puts(&t->errors, ", ");
  buf_puts(&t->errors, msg);
}

/* estimateGracefulTerminationForPods: the longest grace period of the
 * pods still running. */
static int64_t estimate_pods(const char *ns)
{
  char path[512];
  kapi_obj *list = NULL;
  const kapi_obj *items;
  size_t i, n;
  int64_t est = 0;

  snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods", ns);
  if (ctl_request("GET", path, NULL, NULL, &list, NULL, 0, NULL) < 0)
    return 0;
  items = api->obj_lookup(list, "/items");
  n = api->obj_len(items);
  for (i = 0; i < n; i++) {
    const kapi_obj *p = api->obj_index(items, i);
    const char *phase = str_at(p, "/status/phase");
    int64_t grace;
    if (streq(phase, "Succeeded") || streq(phase, "Failed"))
      continue;
    if (api->obj_int(api->obj_lookup(p, "/spec/terminationGracePeriodSeconds"),
                     &grace) == 0 &&
        grace > est)
      est = grace;
  }
  api->obj_free(list);
  return est;
}

/* deleteEachItem: list, then delete one by one. */
static int delete_each(const gvr *g, const char *ns, char *msg, size_t len)
{
  char path[1024], item[1280];
  kapi_obj *list = NULL;
  const kapi_obj *items;
  size_t i, n;
  int rc;

  collection_path(path, sizeof path, g, ns);
  if ((rc = ctl_request("GET", path, NULL, NULL, &list, msg, len, NULL)) < 0)
    return rc == -ENOENT || rc == -EOPNOTSUPP ? 0 : rc;
  items = api->obj_lookup(list, "/items");
  n = api->obj_len(items);
  for (i = 0; i < n && rc == 0; i++) {
    const char *name = str_at(api->obj_index(items, i), "/metadata/name");
    if (!name)
      continue;
    snprintf(item, sizeof item, "%s/%s", path, name);
    rc = ctl_request("DELETE", item, "application/json", background, NULL,
                     msg, len, NULL);
    if (rc == -ENOENT)
      rc = 0;
  }
  api->obj_free(list);
  return rc;
}

/* deleteAllContentForGroupVersionResource. */
static void delete_content(gvr *g, const char *ns, totals *t)
{
  char path[1024], msg[1024];
  kapi_obj *list = NULL;
  const kapi_obj *items;
  size_t i, n;
  int64_t estimate = 0;
  int rc = -EOPNOTSUPP, has_fins = 0;

  if (!*g->group && !strcmp(g->resource, "pods"))
    estimate = estimate_pods(ns);
  collection_path(path, sizeof path, g, ns);
  if (g->deletecollection) {
    rc = ctl_request("DELETE", path, "application/json", background, NULL,
                     msg, sizeof msg, NULL);
    /* Advertised but refused: remember, and go one by one. */
    if (rc == -EOPNOTSUPP || rc == -ENOENT)
      g->deletecollection = 0;
  }
  if (!g->deletecollection)
    rc = delete_each(g, ns, msg, sizeof msg);
  if (rc < 0) {
    add_error(t, "%s", msg);
    t->estimate = t->estimate > estimate ? t->estimate : estimate;
    return;
  }
  /* What is left? */
  if (ctl_request("GET", path, NULL, NULL, &list, msg, sizeof msg, NULL) < 0) {
    add_error(t, "%s", msg);
    return;
  }
  items = api->obj_lookup(list, "/items");
  n = api->obj_len(items);
  if (n == 0) {
    api->obj_free(list);
    return;
  }
  for (i = 0; i < n; i++) {
    const kapi_obj *f =
        api->obj_lookup(api->obj_index(items, i), "/metadata/finalizers");
    size_t j, nf = api->obj_len(f);
    for (j = 0; j < nf; j++) {
      const char *name = api->obj_get(api->obj_index(f, j), "");
      if (name) {
        count_finalizer(t, name);
        has_fins = 1;
      }
    }
  }
  api->obj_free(list);
  if (t->remaining.len)
    buf_puts(&t->remaining, ", ");
  buf_printf(&t->remaining, "%s.%s has %zu resource instances", g->resource,
             g->group, n);
  if (estimate == 0 && has_fins)
    estimate = FINALIZER_ESTIMATE_S;
  if (estimate == 0)
    add_error(t, "unexpected items still remain in namespace: %s for gvr: "
              "%s/%s, Resource=%s", ns, g->group, g->version, g->resource);
  if (estimate > t->estimate)
    t->estimate = estimate;
}

/* ---- status conditions (status_condition_utils.go) ----------------------------- */

typedef struct condition {
  const char *type, *status, *reason;
  char *message; /* owned */
} condition;

enum { C_DISCOVERY, C_GVPARSING, C_CONTENT_FAILURE, C_REMAINING,
       C_FINALIZERS, N_CONDITIONS };

static const struct {
  const char *type, *ok_reason, *ok_message;
} cond_types[N_CONDITIONS] = {
    {"NamespaceDeletionDiscoveryFailure", "ResourcesDiscovered",
     "All resources successfully discovered"},
    {"NamespaceDeletionGroupVersionParsingFailure", "ParsedGroupVersions",
     "All legacy kube types successfully parsed"},
    {"NamespaceDeletionContentFailure", "ContentDeleted",
     "All content successfully deleted, may be waiting on finalization"},
    {"NamespaceContentRemaining", "ContentRemoved",
     "All content successfully removed"},
    {"NamespaceFinalizersRemaining", "ContentHasNoFinalizers",
     "All content-preserving finalizers finished"},
};

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Joins ", "-separated parts in sorted order ("sort for stable updates"). */
static char *sorted_join(const char *list)
{
  char *copy = strdup(list), **parts = NULL, *save = NULL, *tok, *out;
  size_t n = 0, i;
  buf b = {0};

  if (!copy)
    return NULL;
  for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char **v = realloc(parts, (n + 1) * sizeof *v);
    if (!v)
      break;
    parts = v;
    while (*tok == ' ')
      tok++;
    parts[n++] = tok;
  }
  qsort(parts, n, sizeof *parts, cmp_str);
  for (i = 0; i < n; i++) {
    if (i)
      buf_puts(&b, ", ");
    buf_puts(&b, parts[i]);
  }
  free(parts);
  free(copy);
  out = b.oom ? NULL : b.s;
  if (!out)
    free(b.s);
  return out ? out : strdup("");
}

/* The new conditions from what deleting the content found. */
static void make_conditions(condition *c, const char *discovery_error,
                            const totals *t)
{
  size_t i;
  for (i = 0; i < N_CONDITIONS; i++) {
    c[i].type = cond_types[i].type;
    c[i].status = "False";
    c[i].reason = cond_types[i].ok_reason;
    c[i].message = strdup(cond_types[i].ok_message);
  }
  if (discovery_error) {
    c[C_DISCOVERY].status = "True";
    c[C_DISCOVERY].reason = "DiscoveryFailed";
    free(c[C_DISCOVERY].message);
    c[C_DISCOVERY].message = strdup(discovery_error);
  }
  if (t->n_errors) {
    char *joined = sorted_join(t->errors.s);
    c[C_CONTENT_FAILURE].status = "True";
    c[C_CONTENT_FAILURE].reason = "ContentDeletionFailed";
    free(c[C_CONTENT_FAILURE].message);
    if (asprintf(&c[C_CONTENT_FAILURE].message,
                 "Failed to delete all resource types, %zu remaining: %s",
                 t->n_errors, joined ? joined : "") < 0)
      c[C_CONTENT_FAILURE].message = NULL;
    free(joined);
  }
  if (t->remaining.len) {
    char *joined = sorted_join(t->remaining.s);
    c[C_REMAINING].status = "True";
    c[C_REMAINING].reason = "SomeResourcesRemain";
    free(c[C_REMAINING].message);
    if (asprintf(&c[C_REMAINING].message, "Some resources are remaining: %s",
                 joined ? joined : "") < 0)
      c[C_REMAINING].message = NULL;
    free(joined);
  }
  if (t->n_fins) {
    buf b = {0};
    char *joined;
    for (i = 0; i < t->n_fins; i++) {
      if (i)
        buf_puts(&b, ", ");
      buf_printf(&b, "%s in %zu resource instances", t->fins[i].name,
                 t->fins[i].n);
    }
    joined = b.s ? sorted_join(b.s) : NULL;
    free(b.s);
    c[C_FINALIZERS].status = "True";
    c[C_FINALIZERS].reason = "SomeFinalizersRemain";
    free(c[C_FINALIZERS].message);
    if (asprintf(&c[C_FINALIZERS].message,
                 "Some content in the namespace has finalizers remaining: %s",
                 joined ? joined : "") < 0)
      c[C_FINALIZERS].message = NULL;
    free(joined);
  }
}

static const kapi_obj *find_condition(const kapi_obj *conds, const char *type)
{
  size_t i, n = api->obj_len(conds);
  for (i = 0; i < n; i++)
    if (streq(member_str(api->obj_index(conds, i), "type"), type))
      return api->obj_index(conds, i);
  return NULL;
}

static void buf_condition(buf *b, const char *type, const char *status,
                          const char *ts, const char *reason, const char *msg)
{
  buf_puts(b, "{\"type\":");
  buf_json_str(b, type);
  buf_puts(b, ",\"status\":");
  buf_json_str(b, status);
  buf_puts(b, ",\"lastTransitionTime\":");
  buf_json_str(b, ts);
  buf_puts(b, ",\"reason\":");
  buf_json_str(b, reason);
  buf_puts(b, ",\"message\":");
  buf_json_str(b, msg);
  buf_puts(b, "}");
}

/*
 * updateConditions: the status.conditions array to write, or NULL when
 * nothing changed.  Conditions of other types are kept; ours keep their
 * lastTransitionTime unless their status flips.
 */
static char *merge_conditions(const kapi_obj *ns, const condition *c,
                              const char *now)
{
  const kapi_obj *old = api->obj_lookup(ns, "/status/conditions");
  size_t i, j, n = api->obj_len(old);
  int changed = 0, first = 1;
  buf b = {0};

  buf_puts(&b, "[");
  /* Other controllers' conditions first, as they were. */
  for (i = 0; i < n; i++) {
    const kapi_obj *o = api->obj_index(old, i);
    const char *t = member_str(o, "type");
    char *j_text;
    for (j = 0; j < N_CONDITIONS && !streq(t, cond_types[j].type); j++)
      ;
    if (j < N_CONDITIONS)
      continue;
    if (!first)
      buf_puts(&b, ",");
    first = 0;
    j_text = api->obj_to_json(o);
    buf_puts(&b, j_text ? j_text : "null");
    api->free(j_text);
  }
  for (i = 0; i < N_CONDITIONS; i++) {
    const kapi_obj *o = find_condition(old, c[i].type);
    const char *ts = now;
    if (!o) {
      changed = 1;
    } else {
      const char *os = member_str(o, "status");
      if (!streq(os, c[i].status))
        changed = 1;
      else if (member_str(o, "lastTransitionTime"))
        ts = member_str(o, "lastTransitionTime");
      if (!streq(member_str(o, "reason"), c[i].reason) ||
          !streq(member_str(o, "message"), c[i].message))
        changed = 1;
    }
    if (!first)
      buf_puts(&b, ",");
    first = 0;
    buf_condition(&b, c[i].type, c[i].status, ts, c[i].reason,
                  c[i].message ? c[i].message : "");
  }
  buf_puts(&b, "]");
  if (!changed || b.oom) {
    free(b.s);
    return NULL;
  }
  return b.s;
}

/* ---- the namespace ------------------------------------------------------------------ */

static void now_rfc3339(char *out, size_t len)
{
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* PUTs `ns` (owned, changed by the caller) to path; 0 or -errno. */
static int put(const char *path, kapi_obj *ns)
{
  char *body = api->obj_to_json(ns);
  int rc;
  if (!body)
    return -ENOMEM;
  rc = ctl_request("PUT", path, "application/json", body, NULL, NULL, 0, NULL);
  api->free(body);
  return rc;
}

static int get_ns(const char *name, kapi_obj **ret)
{
  char path[512];
  snprintf(path, sizeof path, "/api/v1/namespaces/%s", name);
  return ctl_request("GET", path, NULL, NULL, ret, NULL, 0, NULL);
}

/* updateNamespaceStatusFunc: phase Terminating, retried on conflict. */
static int ensure_terminating(const char *name, kapi_obj **ns)
{
  char path[512];
  int i, rc = 0;

  snprintf(path, sizeof path, "/api/v1/namespaces/%s/status", name);
  for (i = 0; i < CONFLICT_RETRIES; i++) {
    if (streq(str_at(*ns, "/status/phase"), "Terminating"))
      return 0;
    api->obj_set_str(*ns, "/status/phase", "Terminating");
    rc = put(path, *ns);
    if (rc != -EBUSY)
      break;
    api->obj_free(*ns);
    *ns = NULL;
    if ((rc = get_ns(name, ns)) < 0)
      break;
  }
  if (rc == 0) {
    api->obj_free(*ns);
    *ns = NULL;
    rc = get_ns(name, ns);
  }
  return rc;
}

/* finalizeNamespace: spec.finalizers without ours, via /finalize. */
static int finalize(const char *name, kapi_obj *ns)
{
  const kapi_obj *f = api->obj_lookup(ns, "/spec/finalizers");
  char path[512], ptr[64];
  size_t i = api->obj_len(f);
  int rc;

  while (i-- > 0)
    if (streq(api->obj_get(api->obj_index(f, i), ""), FINALIZER_TOKEN)) {
      snprintf(ptr, sizeof ptr, "/spec/finalizers/%zu", i);
      api->obj_remove(ns, ptr);
    }
  snprintf(path, sizeof path, "/api/v1/namespaces/%s/finalize", name);
  rc = put(path, ns);
  return rc == -ENOENT ? 0 : rc;
}

typedef struct nsc {
  kapi_ctl *ctl;
  kapi_inf *inf;
  kapi_queue *queue;
  int workers;
} nsc;

static nsc the_nsc;

/*
 * Delete(nsName): returns 0 when done (or nothing to do), >0 the seconds
 * to wait while content remains, <0 on error.
 */
static int64_t delete_namespace(const char *name)
{
  kapi_obj *ns = NULL;
  gvr_list gvrs = {0};
  totals t;
  condition conds[N_CONDITIONS];
  char disc_msg[1024], now[64], *merged;
  const char *derr = NULL;
  size_t i;
  int rc;

  rc = get_ns(name, &ns);
  if (rc == -ENOENT)
    return 0;
  if (rc < 0)
    return rc;
  if (!api->obj_lookup(ns, "/metadata/deletionTimestamp")) {
    api->obj_free(ns);
    return 0;
  }
  if ((rc = ensure_terminating(name, &ns)) < 0) {
    if (ns)
      api->obj_free(ns);
    return rc == -ENOENT ? 0 : rc;
  }
  if (!api->obj_lookup(ns, "/metadata/deletionTimestamp") ||
      api->obj_len(api->obj_lookup(ns, "/spec/finalizers")) == 0) {
    api->obj_free(ns); /* already finalized */
    return 0;
  }

  /* deleteAllContent. */
  memset(&t, 0, sizeof t);
  if (discover(&gvrs, disc_msg, sizeof disc_msg) < 0)
    derr = disc_msg;
  for (i = 0; i < gvrs.n; i++)
    delete_content(&gvrs.v[i], name, &t);
  make_conditions(conds, derr, &t);
  now_rfc3339(now, sizeof now);
  merged = merge_conditions(ns, conds, now);
  if (merged) {
    char path[512];
    kapi_obj *fresh = NULL;
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/status", name);
    /* Written on the namespace as read at the start, as upstream. */
    if (api->obj_set_json(ns, "/status/conditions", merged) == 0 &&
        put(path, ns) == 0 && get_ns(name, &fresh) == 0) {
      api->obj_free(ns);
      ns = fresh;
    }
    free(merged);
  }
  for (i = 0; i < N_CONDITIONS; i++)
    free(conds[i].message);
  gvrs_free(&gvrs);
  api->log(self, 4, "namespace %s: estimate %lld s, %zu errors", name,
           (long long)t.estimate, t.n_errors);
  if (derr || t.n_errors) {
    /* Retried with backoff; the conditions say what went wrong. */
    totals_free(&t);
    api->obj_free(ns);
    return -EIO;
  }
  if (t.estimate > 0) {
    int64_t e = t.estimate;
    totals_free(&t);
    api->obj_free(ns);
    return e;
  }
  totals_free(&t);
  rc = finalize(name, ns);
  api->obj_free(ns);
  if (rc == 0)
    api->log(self, 2, "namespace %s finalized", name);
  return rc;
}

static int sync_ns(void *st, const char *key)
{
  nsc *c = st;
  int64_t rc = delete_namespace(key);
  if (rc > 0) {
    /* ResourcesRemainingError: look again in about half the estimate. */
    api->log(self, 4, "content remains in namespace %s, estimate %lld s",
             key, (long long)rc);
    api->queue_add_after(c->queue, key, (int)((rc / 2 + 1) * 1000));
    return 0;
  }
  return (int)rc;
}

static void enqueue_ns(nsc *c, const kapi_obj *ns)
{
  const char *name = str_at(ns, "/metadata/name");
  /* Only namespaces being deleted are our business. */
  if (name && api->obj_lookup(ns, "/metadata/deletionTimestamp"))
    api->queue_add_after(c->queue, name, DELETION_GRACE_MS);
}

static void on_add(void *arg, const kapi_obj *ns) { enqueue_ns(arg, ns); }

static void on_update(void *arg, const kapi_obj *old, const kapi_obj *ns)
{
  (void)old;
  enqueue_ns(arg, ns);
}

static const kapi_inf_handler handler = {
    .size = sizeof(kapi_inf_handler),
    .on_add = on_add,
    .on_update = on_update,
};

/* ---- lifecycle ------------------------------------------------------------------ */

static int ns_start(void *st, kapi_ctl *ctl, kapi_error *e)
{
  nsc *c = st;
  c->ctl = ctl;
  c->inf = api->ctl_informer(ctl, "", "v1", "namespaces");
  c->queue = api->ctl_queue(ctl, "namespace");
  if (!c->inf || !c->queue ||
      api->inf_add_handler(c->inf, &handler, c) < 0) {
    api->error_set(e, 500, "InternalError",
                   "namespace: cannot watch namespaces");
    return -EIO;
  }
  return api->ctl_run_workers(ctl, c->queue, c->workers, sync_ns, c);
}

static const kapi_controller_ops ns_ops = {
    .size = sizeof(kapi_controller_ops),
    .start = ns_start,
};

static int ns_init(kapi_plugin *p, const kapi_host_api *host,
                   const char *config, size_t config_len, kapi_error *e)
{
  static const ctl_plugin_spec spec = {
      .name = "namespace",
      .who = "namespace controller",
      .needs_cache_key = 0,
      .ops = &ns_ops,
      .state = &the_nsc,
      .workers = &the_nsc.workers,
      .default_workers = DEFAULT_WORKERS,
  };
  return ctl_plugin_init(p, host, config, config_len, e, &spec);
}

KAPI_PLUGIN_DEFINE(.name = "namespace-controller", .version = "1.0.0",
                   .description = "namespace controller (deletes the content "
                                  "of terminating namespaces)",
                   .license = "Apache-2.0", .init = ns_init);
