/*
 * limit_ranger.c - the LimitRanger admission plugin.
 *
 * Upstream: plugin/pkg/admission/limitranger/admission.go.  For every
 * LimitRange of the request's namespace:
 *  - admit (mutating), pods only: containers and init containers that
 *    lack a request or a limit get the Container items' defaultRequest
 *    and default, and the pod is annotated kubernetes.io/limit-ranger
 *    with what was set;
 *  - validate: Container items bound each container and init container
 *    (min, max, maxLimitRequestRatio), Pod items bound the pod's
 *    effective requests and limits (init containers and sidecars as in
 *    PodRequests), PersistentVolumeClaim items bound a claim's storage
 *    request.
 * The first LimitRange that refuses ends the request with 403 Forbidden;
 * its errors are joined as utilerrors.NewAggregate prints them.
 *
 * As upstream, pod updates and subresources are left alone (containers
 * cannot change on update) and so are objects being deleted.
 *
 * Two differences of kapi's request pipeline are bridged here:
 *  - kapi runs mutating admission before the pod registry applies the v1
 *    defaults that upstream applies while decoding; the one of them that
 *    changes LimitRanger's outcome (a limit without a request sets the
 *    request) is applied here first, as the registry would do next.
 *  - LimitRanges are read from the store at each request (store_list)
 *    instead of an informer cache, so there is no live-lookup cache.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapi/plugin.h"
#include "../../registry/common/quantity.h"

#define ANNOTATION "kubernetes.io/limit-ranger"
#define QTY_BUF 64

static const kapi_host_api *api;
static kapi_plugin *plugin;

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static int nonempty(const char *s)
{
  return s && *s;
}

static size_t obj_count(const kapi_obj *o)
{
  kapi_obj_type t = api->obj_type(o);
  return t == KAPI_OBJ_OBJECT || t == KAPI_OBJ_ARRAY ? api->obj_len(o) : 0;
}

/* The member `key` of the object `o`, or NULL. */
static const kapi_obj *member(const kapi_obj *o, const char *key)
{
  size_t i, n;

  if (api->obj_type(o) != KAPI_OBJ_OBJECT)
    return NULL;
  n = api->obj_len(o);
  for (i = 0; i < n; i++)
    if (!strcmp(api->obj_key(o, i), key))
      return api->obj_index(o, i);
  return NULL;
}

/* A JSON pointer token for `s` ('~' and '/' escaped). */
static void pointer_token(const char *s, char *buf, size_t len)
{
  size_t o = 0;

  for (; *s && o + 3 < len; s++) {
    if (*s == '~' || *s == '/') {
      buf[o++] = '~';
      buf[o++] = *s == '~' ? '0' : '1';
    } else {
      buf[o++] = *s;
    }
  }
  buf[o] = '\0';
}

/* A growable string, malloc'ed; `oom` sticks once an append failed. */
typedef struct sbuf {
  char *s;
  size_t len, cap;
  int oom;
} sbuf;

static void sb_add(sbuf *b, const char *text)
{
  size_t n = strlen(text);

  if (b->oom)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 128;
    char *s;
    while (cap < b->len + n + 1)
      cap *= 2;
    s = realloc(b->s, cap);
    if (!s) {
      b->oom = 1;
      return;
    }
    b->s = s;
    b->cap = cap;
  }
  memcpy(b->s + b->len, text, n + 1);
  b->len += n;
}

/* ------------------------------------------------------------------ */
/* Resource lists: name -> quantity                                    */
/* ------------------------------------------------------------------ */

typedef struct rentry {
  const char *name; /* borrowed from the object the list was read from */
  qty q;
} rentry;

typedef struct rlist {
  rentry *v;
  size_t n, cap;
  int oom;
} rlist;

static void rl_free(rlist *l)
{
  free(l->v);
  memset(l, 0, sizeof *l);
}

static rentry *rl_find(const rlist *l, const char *name)
{
  size_t i;

  for (i = 0; i < l->n; i++)
    if (!strcmp(l->v[i].name, name))
      return &l->v[i];
  return NULL;
}

static void rl_put(rlist *l, const char *name, const qty *q)
{
  rentry *e = rl_find(l, name);

  if (e) {
    e->q = *q;
    return;
  }
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 8;
    rentry *v = realloc(l->v, cap * sizeof *v);
    if (!v) {
      l->oom = 1;
      return;
    }
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n].name = name;
  l->v[l->n++].q = *q;
}

/* The quantities of a ResourceList object; values that do not parse are
 * left out (upstream refuses them before admission). */
static void rl_read(rlist *l, const kapi_obj *list)
{
  size_t i, n = api->obj_type(list) == KAPI_OBJ_OBJECT ? api->obj_len(list)
                                                       : 0;

  for (i = 0; i < n; i++) {
    qty q;
    if (qty_of(api, api->obj_index(list, i), &q) == 0)
      rl_put(l, api->obj_key(list, i), &q);
  }
}

/* addResourceList: list += add, resource by resource. */
static void rl_add(rlist *l, const rlist *add)
{
  size_t i;

  for (i = 0; i < add->n; i++) {
    rentry *e = rl_find(l, add->v[i].name);
    if (e)
      qty_add(&e->q, &add->v[i].q);
    else
      rl_put(l, add->v[i].name, &add->v[i].q);
  }
}

/* maxResourceList: list = max(list, other), resource by resource. */
static void rl_max(rlist *l, const rlist *other)
{
  size_t i;

  for (i = 0; i < other->n; i++) {
    rentry *e = rl_find(l, other->v[i].name);
    if (!e || qty_cmp(&other->v[i].q, &e->q) > 0)
      rl_put(l, other->v[i].name, &other->v[i].q);
  }
}

static void rl_copy(rlist *dst, const rlist *src)
{
  size_t i;

  for (i = 0; i < src->n; i++)
    rl_put(dst, src->v[i].name, &src->v[i].q);
}

/* ------------------------------------------------------------------ */
/* Aggregated errors (utilerrors.NewAggregate)                         */
/* ------------------------------------------------------------------ */

typedef struct agg {
  char **msg;
  size_t n, cap;
  int oom;
} agg;

static void agg_addf(agg *a, const char *fmt, ...) KAPI_PRINTF(2, 3);

static void agg_addf(agg *a, const char *fmt, ...)
{
  va_list ap;
  char *m;
  int len;

  if (a->n == a->cap) {
    size_t cap = a->cap ? 2 * a->cap : 4;
    char **v = realloc(a->msg, cap * sizeof *v);
    if (!v) {
      a->oom = 1;
      return;
    }
    a->msg = v;
    a->cap = cap;
  }
  va_start(ap, fmt);
  len = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  m = len < 0 ? NULL : malloc((size_t)len + 1);
  if (!m) {
    a->oom = 1;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(m, (size_t)len + 1, fmt, ap);
  va_end(ap);
  a->msg[a->n++] = m;
}

static void agg_free(agg *a)
{
  size_t i;

  for (i = 0; i < a->n; i++)
    free(a->msg[i]);
  free(a->msg);
  memset(a, 0, sizeof *a);
}

/* aggregate.Error(): one message as is; several, duplicates dropped,
 * joined with ", " inside brackets (no brackets if one remains). */
static void agg_text(const agg *a, sbuf *out)
{
  size_t i, j, distinct = 0;

  if (a->n == 1) {
    sb_add(out, a->msg[0]);
    return;
  }
  for (i = 0; i < a->n; i++) {
    for (j = 0; j < i; j++)
      if (!strcmp(a->msg[i], a->msg[j]))
        break;
    if (j < i)
      continue;
    if (distinct++ == 0)
      sb_add(out, "[");
    else
      sb_add(out, ", ");
    sb_add(out, a->msg[i]);
  }
  if (distinct == 1)
    memmove(out->s, out->s + 1, out->len--); /* drop the "[" */
  else if (distinct > 1)
    sb_add(out, "]");
}

/* ------------------------------------------------------------------ */
/* Which requests: SupportsAttributes                                  */
/* ------------------------------------------------------------------ */

enum target { T_NONE, T_POD, T_PVC };

static enum target target_of(const kapi_req *r)
{
  const char *group = api->req_get(r, "apiGroup");
  const char *resource = api->req_get(r, "resource");
  const char *op = api->req_get(r, "operation");

  if (nonempty(api->req_get(r, "subresource")) || nonempty(group) ||
      !resource)
    return T_NONE;
  /* Containers cannot change on a pod update: nothing to default or
   * check (upstream skips pod updates for that reason). */
  if (!strcmp(resource, "pods"))
    return op && !strcmp(op, "UPDATE") ? T_NONE : T_POD;
  if (!strcmp(resource, "persistentvolumeclaims"))
    return T_PVC;
  return T_NONE;
}

/* Objects marked for deletion are not limited. */
static int old_is_deleting(const kapi_req *r)
{
  const kapi_obj *old = api->req_old_object(r);
  return old && api->obj_lookup(old, "/metadata/deletionTimestamp") &&
         api->obj_type(api->obj_lookup(old, "/metadata/deletionTimestamp")) !=
             KAPI_OBJ_NULL;
}

/* The name admission errors use (admission.NewForbidden). */
static const char *object_name(const kapi_req *r, const kapi_obj *obj)
{
  const char *name = api->req_get(r, "name");

  if (!nonempty(name) && obj)
    name = api->obj_get(obj, "/metadata/name");
  if (!nonempty(name) && obj)
    name = api->obj_get(obj, "/metadata/generateName");
  return nonempty(name) ? name : "Unknown";
}

/* The LimitRanges of the request's namespace into *ret (obj_free), or
 * <0 with e set.  No limitranges resource means no LimitRange. */
static int limit_ranges(const kapi_req *r, const kapi_obj *obj,
                        kapi_obj **ret, kapi_error *e)
{
  const char *ns = api->req_get(r, "namespace");
  const char *resource = api->req_get(r, "resource");
  const char *op = api->req_get(r, "operation");
  int rc;

  *ret = NULL;
  if (!nonempty(ns))
    return 0;
  rc = api->store_list("", "limitranges", ns, NULL, ret);
  if (rc == -ENOENT)
    return 0;
  if (rc < 0) {
    api->log(plugin, KAPI_LOG_ERROR, "listing limitranges in %s: %s", ns,
             strerror(-rc));
    api->error_set(e, 403, "Forbidden",
                   "%s \"%s\" is forbidden: unable to %s /v1, Resource=%s at "
                   "this time because there was an error enforcing limit "
                   "ranges",
                   resource, object_name(r, obj), op ? op : "", resource);
  }
  return rc;
}

/* ------------------------------------------------------------------ */
/* Mutation: defaults and the annotation                               */
/* ------------------------------------------------------------------ */

/* SetDefaults_Pod's "a limit without a request sets the request", for
 * the containers of list `which`; the registry would apply it after
 * admission, upstream applies it before. */
static void requests_from_limits(kapi_obj *pod, const char *which)
{
  char ptr[64], rptr[640], token[520];
  const kapi_obj *list;
  size_t i, k, n;

  snprintf(ptr, sizeof ptr, "/spec/%s", which);
  list = api->obj_lookup(pod, ptr);
  n = api->obj_type(list) == KAPI_OBJ_ARRAY ? api->obj_len(list) : 0;
  for (i = 0; i < n; i++) {
    char lim_ptr[96];
    const kapi_obj *lim;

    snprintf(lim_ptr, sizeof lim_ptr, "/spec/%s/%zu/resources/limits", which,
             i);
    lim = api->obj_lookup(pod, lim_ptr);
    for (k = 0; k < obj_count(lim) && api->obj_type(lim) == KAPI_OBJ_OBJECT;
         k++) {
      const char *name = api->obj_key(lim, k);
      char *json;
      snprintf(rptr, sizeof rptr, "/spec/%s/%zu/resources/requests", which,
               i);
      if (member(api->obj_lookup(pod, rptr), name))
        continue;
      json = api->obj_to_json(api->obj_index(lim, k));
      if (!json)
        continue;
      pointer_token(name, token, sizeof token);
      snprintf(rptr, sizeof rptr, "/spec/%s/%zu/resources/requests/%s",
               which, i, token);
      api->obj_set_json(pod, rptr, json);
      api->free(json);
      lim = api->obj_lookup(pod, lim_ptr);
    }
  }
}

/* A default from a LimitRange: the resource and its canonical text. */
typedef struct dflt {
  const char *name; /* borrowed from the LimitRange */
  char value[QTY_BUF];
} dflt;

typedef struct dflts {
  dflt *v;
  size_t n;
} dflts;

static void dflts_put(dflts *d, const char *name, const kapi_obj *value)
{
  size_t i;
  dflt *v;

  for (i = 0; i < d->n; i++)
    if (!strcmp(d->v[i].name, name))
      break;
  if (i == d->n) {
    v = realloc(d->v, (d->n + 1) * sizeof *v);
    if (!v)
      return;
    d->v = v;
    d->v[d->n++].name = name;
  }
  qty_canonical_of(api, value, d->v[i].value, sizeof d->v[i].value);
}

/* defaultContainerResourceRequirements: the defaultRequest (requests)
 * and default (limits) of every Container item, later items winning. */
static void container_defaults(const kapi_obj *lr, dflts *requests,
                               dflts *limits)
{
  const kapi_obj *items = api->obj_lookup(lr, "/spec/limits");
  size_t i, k;

  for (i = 0; i < obj_count(items); i++) {
    const kapi_obj *item = api->obj_index(items, i);
    const kapi_obj *dr = member(item, "defaultRequest");
    const kapi_obj *dl = member(item, "default");
    const char *type = api->obj_get(item, "/type");

    if (!type || strcmp(type, "Container"))
      continue;
    for (k = 0; k < obj_count(dr) && api->obj_type(dr) == KAPI_OBJ_OBJECT;
         k++)
      dflts_put(requests, api->obj_key(dr, k), api->obj_index(dr, k));
    for (k = 0; k < obj_count(dl) && api->obj_type(dl) == KAPI_OBJ_OBJECT;
         k++)
      dflts_put(limits, api->obj_key(dl, k), api->obj_index(dl, k));
  }
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sets in resources.<kind> of the container at `cptr` every default it
 * lacks; appends what it set ("cpu, memory") to `set` (sorted names). */
static void apply_defaults(kapi_obj *pod, const char *cptr, const char *kind,
                           const dflts *d, sbuf *set)
{
  char lptr[128], ptr[700], token[520];
  const char **names;
  size_t i, n = 0;

  if (!d->n)
    return;
  names = calloc(d->n, sizeof *names);
  if (!names) {
    set->oom = 1;
    return;
  }
  snprintf(lptr, sizeof lptr, "%s/resources/%s", cptr, kind);
  for (i = 0; i < d->n; i++) {
    if (member(api->obj_lookup(pod, lptr), d->v[i].name))
      continue;
    pointer_token(d->v[i].name, token, sizeof token);
    snprintf(ptr, sizeof ptr, "%s/%s", lptr, token);
    if (api->obj_set_str(pod, ptr, d->v[i].value) == 0)
      names[n++] = d->v[i].name;
  }
  qsort(names, n, sizeof *names, cmp_str);
  for (i = 0; i < n; i++) {
    if (i)
      sb_add(set, ", ");
    sb_add(set, names[i]);
  }
  free(names);
}

/* mergeContainerResources for one list of containers ("containers" as
 * "container", "initContainers" as "init container"). */
static void merge_containers(kapi_obj *pod, const char *which,
                             const char *label, const dflts *requests,
                             const dflts *limits, sbuf *annotation)
{
  char ptr[128], cptr[96];
  size_t i, n;

  snprintf(ptr, sizeof ptr, "/spec/%s", which);
  n = obj_count(api->obj_lookup(pod, ptr));
  for (i = 0; i < n; i++) {
    sbuf set_limits = {0}, set_requests = {0};
    const char *name;

    snprintf(cptr, sizeof cptr, "/spec/%s/%zu", which, i);
    apply_defaults(pod, cptr, "limits", limits, &set_limits);
    apply_defaults(pod, cptr, "requests", requests, &set_requests);
    snprintf(ptr, sizeof ptr, "%s/name", cptr);
    name = api->obj_get(pod, ptr);
    name = name ? name : "";
    if (set_requests.len) {
      sb_add(annotation, annotation->len ? "; " : "");
      sb_add(annotation, set_requests.s);
      sb_add(annotation, " request for ");
      sb_add(annotation, label);
      sb_add(annotation, " ");
      sb_add(annotation, name);
    }
    if (set_limits.len) {
      sb_add(annotation, annotation->len ? "; " : "");
      sb_add(annotation, set_limits.s);
      sb_add(annotation, " limit for ");
      sb_add(annotation, label);
      sb_add(annotation, " ");
      sb_add(annotation, name);
    }
    annotation->oom |= set_limits.oom || set_requests.oom;
    free(set_limits.s);
    free(set_requests.s);
  }
}

/* PodMutateLimitFunc: 0, or -ENOMEM. */
static int mutate_pod(const kapi_obj *lr, kapi_obj *pod)
{
  dflts requests = {0}, limits = {0};
  sbuf annotation = {0};
  int rc = 0;

  container_defaults(lr, &requests, &limits);
  merge_containers(pod, "containers", "container", &requests, &limits,
                   &annotation);
  merge_containers(pod, "initContainers", "init container", &requests,
                   &limits, &annotation);
  if (annotation.oom) {
    rc = -ENOMEM;
  } else if (annotation.len) {
    sbuf value = {0};
    sb_add(&value, "LimitRanger plugin set: ");
    sb_add(&value, annotation.s);
    if (value.oom ||
        api->obj_set_str(pod, "/metadata/annotations/kubernetes.io~1"
                              "limit-ranger", value.s) < 0)
      rc = -ENOMEM;
    free(value.s);
  }
  free(annotation.s);
  free(requests.v);
  free(limits.v);
  return rc;
}

static int lr_admit(void *st, kapi_req *r, kapi_obj *obj, kapi_error *e)
{
  kapi_obj *list = NULL;
  size_t i, n;
  int rc;

  (void)st;
  if (!obj || target_of(r) != T_POD || old_is_deleting(r))
    return 0;
  rc = limit_ranges(r, obj, &list, e);
  if (rc < 0)
    return rc;
  n = obj_count(list);
  if (n) {
    requests_from_limits(obj, "containers");
    requests_from_limits(obj, "initContainers");
  }
  for (i = 0; i < n && rc == 0; i++)
    rc = mutate_pod(api->obj_index(list, i), obj);
  if (list)
    api->obj_free(list);
  if (rc < 0)
    api->error_set(e, 500, "InternalError",
                   "Internal error occurred: applying limit range defaults: "
                   "%s", strerror(-rc));
  return rc;
}

/* ------------------------------------------------------------------ */
/* Validation: the constraints                                         */
/* ------------------------------------------------------------------ */

#define CANON(q, buf) qty_format_canonical(q, buf, sizeof buf)

/* minConstraint. */
static void min_constraint(agg *a, const char *type, const char *name,
                           const qty *enforced, const rlist *requests,
                           const rlist *limits)
{
  const rentry *req = rl_find(requests, name), *lim = rl_find(limits, name);
  char e[QTY_BUF], v[QTY_BUF];

  if (!req)
    agg_addf(a, "minimum %s usage per %s is %s.  No request is specified",
             name, type, CANON(enforced, e));
  else if (qty_cmp(&req->q, enforced) < 0)
    agg_addf(a, "minimum %s usage per %s is %s, but request is %s", name,
             type, CANON(enforced, e), CANON(&req->q, v));
  else if (lim && qty_cmp(&lim->q, enforced) < 0)
    agg_addf(a, "minimum %s usage per %s is %s, but limit is %s", name, type,
             CANON(enforced, e), CANON(&lim->q, v));
}

/* maxConstraint. */
static void max_constraint(agg *a, const char *type, const char *name,
                           const qty *enforced, const rlist *requests,
                           const rlist *limits)
{
  const rentry *req = rl_find(requests, name), *lim = rl_find(limits, name);
  char e[QTY_BUF], v[QTY_BUF];

  if (!lim)
    agg_addf(a, "maximum %s usage per %s is %s.  No limit is specified",
             name, type, CANON(enforced, e));
  else if (qty_cmp(&lim->q, enforced) > 0)
    agg_addf(a, "maximum %s usage per %s is %s, but limit is %s", name, type,
             CANON(enforced, e), CANON(&lim->q, v));
  else if (req && qty_cmp(&req->q, enforced) > 0)
    agg_addf(a, "maximum %s usage per %s is %s, but request is %s", name,
             type, CANON(enforced, e), CANON(&req->q, v));
}

/* maxRequestConstraint: for claims, whose limits are not user input. */
static void max_request_constraint(agg *a, const char *type,
                                   const char *name, const qty *enforced,
                                   const rlist *requests)
{
  const rentry *req = rl_find(requests, name);
  char e[QTY_BUF], v[QTY_BUF];

  if (!req)
    agg_addf(a, "maximum %s usage per %s is %s.  No request is specified",
             name, type, CANON(enforced, e));
  else if (qty_cmp(&req->q, enforced) > 0)
    agg_addf(a, "maximum %s usage per %s is %s, but request is %s", name,
             type, CANON(enforced, e), CANON(&req->q, v));
}

/* limitRequestRatioConstraint: limit/request against the ratio, at milli
 * precision (the ratio printed is the plain quotient). */
static void ratio_constraint(agg *a, const char *type, const char *name,
                             const qty *enforced, const rlist *requests,
                             const rlist *limits)
{
  const rentry *req = rl_find(requests, name), *lim = rl_find(limits, name);
  char e[QTY_BUF];
  double observed;

  if (!req || req->q.milli == 0) {
    agg_addf(a, "%s max limit to request ratio per %s is %s, but no request "
                "is specified or request is 0",
             name, type, CANON(enforced, e));
    return;
  }
  if (!lim || lim->q.milli == 0) {
    agg_addf(a, "%s max limit to request ratio per %s is %s, but no limit "
                "is specified or limit is 0",
             name, type, CANON(enforced, e));
    return;
  }
  observed = (double)lim->q.milli / (double)req->q.milli;
  if (observed * 1000 > (double)enforced->milli)
    agg_addf(a, "%s max limit to request ratio per %s is %s, but provided "
                "ratio is %f",
             name, type, CANON(enforced, e), observed);
}

/* Runs fn over every quantity of item.<list>. */
typedef void (*constraint_fn)(agg *a, const char *type, const char *name,
                              const qty *enforced, const rlist *requests,
                              const rlist *limits);

static void each_bound(agg *a, const kapi_obj *item, const char *list,
                       const char *type, constraint_fn fn,
                       const rlist *requests, const rlist *limits)
{
  const kapi_obj *m = member(item, list);
  size_t k;

  for (k = 0; k < obj_count(m) && api->obj_type(m) == KAPI_OBJ_OBJECT; k++) {
    qty q;
    if (qty_of(api, api->obj_index(m, k), &q) == 0)
      fn(a, type, api->obj_key(m, k), &q, requests, limits);
  }
}

static void check_bounds(agg *a, const kapi_obj *item, const char *type,
                         const rlist *requests, const rlist *limits)
{
  each_bound(a, item, "min", type, min_constraint, requests, limits);
  each_bound(a, item, "max", type, max_constraint, requests, limits);
  each_bound(a, item, "maxLimitRequestRatio", type, ratio_constraint,
             requests, limits);
}

/* The Container item against every container of list `which`. */
static void check_containers(agg *a, const kapi_obj *item,
                             const kapi_obj *pod, const char *which)
{
  const kapi_obj *list = member(member(pod, "spec"), which);
  size_t i;

  for (i = 0; i < obj_count(list) && api->obj_type(list) == KAPI_OBJ_ARRAY;
       i++) {
    const kapi_obj *res = member(api->obj_index(list, i), "resources");
    rlist requests = {0}, limits = {0};

    rl_read(&requests, member(res, "requests"));
    rl_read(&limits, member(res, "limits"));
    a->oom |= requests.oom || limits.oom;
    check_bounds(a, item, "Container", &requests, &limits);
    rl_free(&requests);
    rl_free(&limits);
  }
}

static int is_sidecar(const kapi_obj *c)
{
  const char *policy = api->obj_get(c, "/restartPolicy");
  return policy && !strcmp(policy, "Always");
}

/* podRequests / podLimits (kind "requests" or "limits"): the containers'
 * sum; each init container runs alone (with the sidecars started before
 * it), so the pod needs the larger of that and the sum; sidecars keep
 * running and add to the sum. */
static void pod_total(const kapi_obj *pod, const char *kind, rlist *total)
{
  const kapi_obj *spec = member(pod, "spec");
  const kapi_obj *cs = member(spec, "containers");
  const kapi_obj *inits = member(spec, "initContainers");
  rlist sidecars = {0}, init_max = {0};
  size_t i;

  for (i = 0; i < obj_count(cs) && api->obj_type(cs) == KAPI_OBJ_ARRAY; i++) {
    rlist c = {0};
    rl_read(&c, member(member(api->obj_index(cs, i), "resources"), kind));
    rl_add(total, &c);
    total->oom |= c.oom;
    rl_free(&c);
  }
  for (i = 0;
       i < obj_count(inits) && api->obj_type(inits) == KAPI_OBJ_ARRAY; i++) {
    const kapi_obj *ic = api->obj_index(inits, i);
    rlist c = {0}, tmp = {0};

    rl_read(&c, member(member(ic, "resources"), kind));
    if (is_sidecar(ic)) {
      rl_add(total, &c);
      rl_add(&sidecars, &c);
      rl_max(&init_max, &sidecars);
    } else {
      rl_copy(&tmp, &c);
      rl_add(&tmp, &sidecars);
      rl_max(&init_max, &tmp);
    }
    total->oom |= c.oom || tmp.oom || sidecars.oom || init_max.oom;
    rl_free(&c);
    rl_free(&tmp);
  }
  rl_max(total, &init_max);
  rl_free(&sidecars);
  rl_free(&init_max);
}

/* PodValidateLimitFunc. */
static void validate_pod(agg *a, const kapi_obj *lr, const kapi_obj *pod)
{
  const kapi_obj *items = api->obj_lookup(lr, "/spec/limits");
  size_t i;

  for (i = 0; i < obj_count(items); i++) {
    const kapi_obj *item = api->obj_index(items, i);
    const char *type = api->obj_get(item, "/type");

    if (type && !strcmp(type, "Container")) {
      check_containers(a, item, pod, "containers");
      check_containers(a, item, pod, "initContainers");
    } else if (type && !strcmp(type, "Pod")) {
      rlist requests = {0}, limits = {0};
      pod_total(pod, "requests", &requests);
      pod_total(pod, "limits", &limits);
      a->oom |= requests.oom || limits.oom;
      check_bounds(a, item, "Pod", &requests, &limits);
      rl_free(&requests);
      rl_free(&limits);
    }
  }
}

/* PersistentVolumeClaimValidateLimitFunc: storage is a required part of
 * a claim, so claims get no defaults, only bounds on their requests. */
static void validate_pvc(agg *a, const kapi_obj *lr, const kapi_obj *pvc)
{
  const kapi_obj *items = api->obj_lookup(lr, "/spec/limits");
  rlist requests = {0}, none = {0};
  size_t i, k;

  rl_read(&requests, api->obj_lookup(pvc, "/spec/resources/requests"));
  a->oom |= requests.oom;
  for (i = 0; i < obj_count(items); i++) {
    const kapi_obj *item = api->obj_index(items, i);
    const char *type = api->obj_get(item, "/type");
    const kapi_obj *max = member(item, "max");

    if (!type || strcmp(type, "PersistentVolumeClaim"))
      continue;
    each_bound(a, item, "min", type, min_constraint, &requests, &none);
    for (k = 0; k < obj_count(max) && api->obj_type(max) == KAPI_OBJ_OBJECT;
         k++) {
      qty q;
      if (qty_of(api, api->obj_index(max, k), &q) == 0)
        max_request_constraint(a, type, api->obj_key(max, k), &q, &requests);
    }
  }
  rl_free(&requests);
}

static int lr_validate(void *st, const kapi_req *r, const kapi_obj *obj,
                       kapi_error *e)
{
  enum target t = obj ? target_of(r) : T_NONE;
  kapi_obj *list = NULL;
  size_t i, n;
  int rc;

  (void)st;
  if (t == T_NONE || old_is_deleting(r))
    return 0;
  rc = limit_ranges(r, obj, &list, e);
  if (rc < 0)
    return rc;
  n = obj_count(list);
  for (i = 0; i < n && rc == 0; i++) {
    agg a = {0};
    if (t == T_POD)
      validate_pod(&a, api->obj_index(list, i), obj);
    else
      validate_pvc(&a, api->obj_index(list, i), obj);
    if (a.oom) {
      api->error_set(e, 500, "InternalError",
                     "Internal error occurred: out of memory");
      rc = -ENOMEM;
    } else if (a.n) {
      sbuf text = {0};
      agg_text(&a, &text);
      api->error_set(e, 403, "Forbidden", "%s \"%s\" is forbidden: %s",
                     api->req_get(r, "resource"), object_name(r, obj),
                     text.s ? text.s : "");
      free(text.s);
      rc = -EPERM;
    }
    agg_free(&a);
  }
  if (list)
    api->obj_free(list);
  return rc;
}

static const kapi_admission_ops limit_ranger_ops = {
    .size = sizeof(kapi_admission_ops),
    .handles = KAPI_OP_CREATE | KAPI_OP_UPDATE,
    .admit = lr_admit,
    .validate = lr_validate,
};

static int lr_init(kapi_plugin *self, const kapi_host_api *host,
                   const char *config, size_t config_len, kapi_error *e)
{
  (void)config;
  (void)config_len;
  api = host;
  plugin = self;
  if (!KAPI_API_HAS(api, store_list) || !KAPI_API_HAS(api, quantity_milli)) {
    api->error_set(e, 500, "InternalError",
                   "LimitRanger needs a host with store_list (ABI 1.2)");
    return -ENOSYS;
  }
  return api->register_admission(self, "LimitRanger", &limit_ranger_ops,
                                 NULL, NULL);
}

KAPI_PLUGIN_DEFINE(.name = "limit-ranger", .version = "0.1.0",
                   .description = "LimitRanger admission: LimitRange "
                                  "defaults and bounds for pods and claims",
                   .license = "Apache-2.0", .init = lr_init);
