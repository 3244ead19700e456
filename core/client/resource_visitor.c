/*
 * resource_visitor.c - the visitors of kapi/resource.h that neither read
 * nor build: error lists, infos, and the wrappers of cli-runtime's
 * visitor.go (FlattenListVisitor, DecoratedVisitor, FilteredVisitor,
 * ContinueOnErrorVisitor, VisitorList, EagerVisitorList) with the
 * SetNamespace and RequireNamespace decorators.
 *
 * The chain runs on the internal walk of resource_internal.h, where a
 * source hands a document's error to the function as upstream's
 * (info, err) callbacks do.  One difference, on purpose: the wrappers
 * pass such an error on to the function they wrap instead of returning
 * it, so a ContinueOnErrorVisitor anywhere above a source keeps the
 * stream going (upstream stops a stream at its first undecodable
 * document, which is what kubectl users complain about).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resource_internal.h"

/* ---- errors -------------------------------------------------------------- */

int kapi_errlist_add(kapi_errlist *l, const char *fmt, ...)
{
  va_list ap;
  char *msg;
  int r;

  if (!l)
    return 0;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 4;
    char **m = realloc(l->msgs, cap * sizeof *m);
    if (!m)
      return -ENOMEM;
    l->msgs = m;
    l->cap = cap;
  }
  va_start(ap, fmt);
  r = vasprintf(&msg, fmt, ap);
  va_end(ap);
  if (r < 0)
    return -ENOMEM;
  l->msgs[l->n++] = msg;
  return 0;
}

static int seen_before(const kapi_errlist *l, size_t i)
{
  size_t j;

  for (j = 0; j < i; j++)
    if (!strcmp(l->msgs[j], l->msgs[i]))
      return 1;
  return 0;
}

/* As utilerrors.Aggregate.Error(): duplicates are shown once, a single
 * message bare, several in brackets. */
char *kapi_errlist_join(const kapi_errlist *l)
{
  size_t i, len = 2, count = 0;
  char *out, *p;

  if (!l || !l->n)
    return NULL;
  for (i = 0; i < l->n; i++)
    if (!seen_before(l, i)) {
      len += strlen(l->msgs[i]) + 2;
      count++;
    }
  if (count == 1)
    return strdup(l->msgs[0]);
  if (!(out = malloc(len + 1)))
    return NULL;
  p = out;
  *p++ = '[';
  for (i = 0; i < l->n; i++) {
    size_t n;
    if (seen_before(l, i))
      continue;
    if (p != out + 1) {
      *p++ = ',';
      *p++ = ' ';
    }
    n = strlen(l->msgs[i]);
    memcpy(p, l->msgs[i], n);
    p += n;
  }
  *p++ = ']';
  *p = '\0';
  return out;
}

void kapi_errlist_clear(kapi_errlist *l)
{
  size_t i;

  if (!l)
    return;
  for (i = 0; i < l->n; i++)
    free(l->msgs[i]);
  free(l->msgs);
  memset(l, 0, sizeof *l);
}

/* ---- infos --------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
  return s ? strdup(s) : NULL;
}

static int mapping_dup(kapi_mapping *dst, const kapi_mapping *src)
{
  memset(dst, 0, sizeof *dst);
  dst->namespaced = src->namespaced;
  if ((src->group && !(dst->group = strdup(src->group))) ||
      (src->version && !(dst->version = strdup(src->version))) ||
      (src->resource && !(dst->resource = strdup(src->resource))) ||
      (src->kind && !(dst->kind = strdup(src->kind)))) {
    kapi_mapping_clear(dst);
    return -ENOMEM;
  }
  return 0;
}

kapi_info *kapi_info_clone(const kapi_info *info)
{
  kapi_info *c;

  if (!info || !(c = calloc(1, sizeof *c)))
    return NULL;
  c->index = info->index;
  c->source = dup_or_null(info->source);
  c->namespace_ = dup_or_null(info->namespace_);
  c->name = dup_or_null(info->name);
  c->object = info->object ? kj_clone(info->object) : NULL;
  if ((info->source && !c->source) || (info->namespace_ && !c->namespace_) ||
      (info->name && !c->name) || (info->object && !c->object) ||
      mapping_dup(&c->mapping, &info->mapping) < 0) {
    kapi_info_free(c);
    return NULL;
  }
  return c;
}

void kapi_info_free(kapi_info *info)
{
  if (!info)
    return;
  free(info->source);
  free(info->namespace_);
  free(info->name);
  kj_free(info->object);
  kapi_mapping_clear(&info->mapping);
  free(info);
}

/* `kind: List`, or a "*List" kind with an items array: a kind that
 * merely ends in "List" (a CRD's "AllowList") and has no items is an
 * object, not an empty list. */
int kapi__is_list(const kj *obj)
{
  const char *kind;
  const kj *items;
  size_t n;

  if (!obj || obj->type != KJ_OBJECT || !(kind = kj_get_str(obj, "kind")))
    return 0;
  if (!strcmp(kind, "List"))
    return 1;
  n = strlen(kind);
  items = kj_get(obj, "items");
  return n > 4 && !strcmp(kind + n - 4, "List") && items &&
         items->type == KJ_ARRAY;
}

/* A string member: -ENOENT when absent or null, -EINVAL when not a
 * string (the two texts of kubectl's schema check), 0 when "" too. */
static int string_member(const kj *obj, const char *key, const char **ret)
{
  const kj *v = kj_get(obj, key);

  *ret = NULL;
  if (!v || v->type == KJ_NULL)
    return -ENOENT;
  if (v->type != KJ_STRING)
    return -EINVAL;
  *ret = kj_str(v);
  return 0;
}

/* kubectl's getObjectKind: what a document must have before decoding. */
static int validate_kind(const kj *obj, const char *source, const char *doc,
                         kapi_errlist *errs)
{
  kapi_errlist problems = {0};
  const char *s;
  char *text;
  int r;

  if (!obj || obj->type != KJ_OBJECT) {
    kapi_errlist_add(&problems, "invalid object to validate");
  } else {
    r = string_member(obj, "apiVersion", &s);
    if (r == -ENOENT || (r == 0 && !*s))
      kapi_errlist_add(&problems, "apiVersion not set");
    else if (r == -EINVAL)
      kapi_errlist_add(&problems, "apiVersion isn't string type");
    r = string_member(obj, "kind", &s);
    if (r == -ENOENT || (r == 0 && !*s))
      kapi_errlist_add(&problems, "kind not set");
    else if (r == -EINVAL)
      kapi_errlist_add(&problems, "kind isn't string type");
  }
  if (!problems.n)
    return 0;
  text = kapi_errlist_join(&problems);
  kapi_errlist_add(errs,
                   "error validating \"%s\"%s: error validating data: %s; if "
                   "you choose to ignore these errors, turn validation off "
                   "with --validate=false",
                   source, doc, text ? text : "");
  free(text);
  kapi_errlist_clear(&problems);
  return -EINVAL;
}

/* mapper.infoForData's lookup, with its texts around the mapper's. */
static int resolve_mapping(kapi_info *info, kapi_mapper *mapper,
                           kapi_errlist *errs)
{
  kapi_errlist why = {0};
  char *text;
  int r;

  r = kapi_mapper_kind(mapper, kj_get_str(info->object, "apiVersion"),
                       kj_get_str(info->object, "kind"), &info->mapping,
                       &why);
  if (r == 0) {
    kapi_errlist_clear(&why);
    return 0;
  }
  text = kapi_errlist_join(&why);
  if (r == -ENOENT)
    kapi_errlist_add(errs,
                     "resource mapping not found for name: \"%s\" namespace: "
                     "\"%s\" from \"%s\": %s\nensure CRDs are installed first",
                     info->name ? info->name : "",
                     info->namespace_ ? info->namespace_ : "", info->source,
                     text ? text : "no matches");
  else
    kapi_errlist_add(errs, "unable to recognize \"%s\": %s", info->source,
                     text ? text : strerror(-r));
  free(text);
  kapi_errlist_clear(&why);
  return r;
}

static char *metadata_string(const kj *obj, const char *key)
{
  const char *s = kj_get_str(kj_get(obj, "metadata"), key);

  return s && *s ? strdup(s) : NULL;
}

int kapi__info_new(kj *obj, const char *source, size_t index,
                   const char *doc, kapi_mapper *mapper, kapi_info **ret,
                   kapi_errlist *errs)
{
  kapi_info *info;
  int r;

  *ret = NULL;
  if ((r = validate_kind(obj, source, doc ? doc : "", errs)) < 0) {
    kj_free(obj);
    return r;
  }
  if (!(info = calloc(1, sizeof *info))) {
    kj_free(obj);
    return -ENOMEM;
  }
  info->object = obj;
  info->index = index;
  info->source = strdup(source ? source : "");
  info->namespace_ = metadata_string(obj, "namespace");
  info->name = metadata_string(obj, "name");
  if (!info->source) {
    kapi_info_free(info);
    return -ENOMEM;
  }
  if (mapper && !kapi__is_list(obj) &&
      (r = resolve_mapping(info, mapper, errs)) < 0) {
    kapi_info_free(info);
    return r;
  }
  *ret = info;
  return 0;
}

/* ---- visiting ------------------------------------------------------------ */

typedef struct user_call {
  kapi_visit_fn fn;
  void *arg;
} user_call;

/* The top of every chain: an error that reaches the caller's function
 * stops the walk, as upstream's functions that return the err they get. */
static int call_user(kapi_info *info, int err, void *arg, kapi_errlist *errs)
{
  user_call *u = arg;

  if (err < 0)
    return err;
  return u->fn(info, u->arg, errs);
}

int kapi_visit(kapi_visitor *v, kapi_visit_fn fn, void *arg,
               kapi_errlist *errs)
{
  user_call u = {fn, arg};

  if (!v || !fn)
    return -EINVAL;
  return kapi__walk(v, call_user, &u, errs);
}

void kapi_visitor_free(kapi_visitor *v)
{
  if (v)
    v->destroy(v);
}

/* ---- FlattenListVisitor -------------------------------------------------- */

typedef struct flatten {
  kapi_visitor base;
  kapi_visitor *inner;
  kapi_mapper *mapper;
} flatten;

typedef struct flatten_call {
  flatten *f;
  kapi__walk_fn fn;
  void *arg;
} flatten_call;

static int ptr_push(const kj ***arr, size_t *n, size_t *cap, const kj *v)
{
  if (*n == *cap) {
    size_t c = *cap ? *cap * 2 : 8;
    const kj **a = realloc(*arr, c * sizeof *a);
    if (!a)
      return -ENOMEM;
    *arr = a;
    *cap = c;
  }
  (*arr)[(*n)++] = v;
  return 0;
}

/* Breadth first, as upstream: a list's plain items come before the
 * items of the lists nested in it. */
static int collect_items(const kj *list, const kj ***items, size_t *n)
{
  const kj **queue = NULL;
  size_t qn = 0, qcap = 0, icap = 0, i, j;
  int r = ptr_push(&queue, &qn, &qcap, list);

  *items = NULL;
  *n = 0;
  for (i = 0; r == 0 && i < qn; i++) {
    const kj *cur = queue[i];
    const kj *arr;
    if (!kapi__is_list(cur)) {
      r = ptr_push(items, n, &icap, cur);
      continue;
    }
    arr = kj_get(cur, "items");
    if (!arr || arr->type != KJ_ARRAY)
      continue; /* null or missing: an empty list */
    for (j = 0; r == 0 && j < kj_len(arr); j++)
      r = ptr_push(&queue, &qn, &qcap, kj_at(arr, j));
  }
  free(queue);
  if (r < 0) {
    free(*items);
    *items = NULL;
  }
  return r;
}

/* Each item is an info of its own, with the list's source and index;
 * its errors go to fn one by one, and, as upstream, every item is
 * tried before the first error is returned. */
static int flatten_one(kapi_info *info, int err, void *arg,
                       kapi_errlist *errs)
{
  flatten_call *c = arg;
  const kj **items;
  size_t n, i;
  int first = 0, r;

  if (err < 0 || !info->object || !kapi__is_list(info->object))
    return c->fn(info, err, c->arg, errs);
  if ((r = collect_items(info->object, &items, &n)) < 0)
    return r;
  for (i = 0; i < n; i++) {
    kapi_info *item = NULL;
    kj *copy = kj_clone(items[i]);
    if (!copy) {
      r = -ENOMEM;
    } else {
      r = kapi__info_new(copy, info->source, info->index, "", c->f->mapper,
                         &item, errs);
      r = r < 0 ? c->fn(NULL, r, c->arg, errs) : c->fn(item, 0, c->arg, errs);
    }
    kapi_info_free(item);
    if (r < 0 && !first)
      first = r;
  }
  free(items);
  return first;
}

static int flatten_walk(kapi_visitor *v, kapi__walk_fn fn, void *arg,
                        kapi_errlist *errs)
{
  flatten *f = (flatten *)v;
  flatten_call c = {f, fn, arg};

  return kapi__walk(f->inner, flatten_one, &c, errs);
}

static void flatten_destroy(kapi_visitor *v)
{
  flatten *f = (flatten *)v;

  kapi_visitor_free(f->inner);
  free(f);
}

kapi_visitor *kapi_flatten_list_visitor(kapi_visitor *inner,
                                        kapi_mapper *mapper)
{
  flatten *f;

  if (!inner)
    return NULL;
  if (!(f = calloc(1, sizeof *f))) {
    kapi_visitor_free(inner);
    return NULL;
  }
  f->base.walk = flatten_walk;
  f->base.destroy = flatten_destroy;
  f->inner = inner;
  f->mapper = mapper;
  return &f->base;
}

/* ---- DecoratedVisitor ---------------------------------------------------- */

typedef struct decorated {
  kapi_visitor base;
  kapi_visitor *inner;
  kapi_decorate_fn *fns;
  size_t n;
  void *arg;
} decorated;

typedef struct decorated_call {
  decorated *d;
  kapi__walk_fn fn;
  void *arg;
} decorated_call;

static int decorate_one(kapi_info *info, int err, void *arg,
                        kapi_errlist *errs)
{
  decorated_call *c = arg;
  size_t i;
  int r;

  if (err < 0)
    return c->fn(NULL, err, c->arg, errs);
  for (i = 0; i < c->d->n; i++)
    if ((r = c->d->fns[i](info, c->d->arg, errs)) < 0)
      return r;
  return c->fn(info, 0, c->arg, errs);
}

static int decorated_walk(kapi_visitor *v, kapi__walk_fn fn, void *arg,
                          kapi_errlist *errs)
{
  decorated *d = (decorated *)v;
  decorated_call c = {d, fn, arg};

  return kapi__walk(d->inner, decorate_one, &c, errs);
}

static void decorated_destroy(kapi_visitor *v)
{
  decorated *d = (decorated *)v;

  kapi_visitor_free(d->inner);
  free(d->fns);
  free(d);
}

kapi_visitor *kapi_decorated_visitor(kapi_visitor *inner,
                                     const kapi_decorate_fn *fns, size_t n,
                                     void *arg)
{
  decorated *d;

  if (!inner)
    return NULL;
  if (!(d = calloc(1, sizeof *d)) ||
      (n && !(d->fns = malloc(n * sizeof *fns)))) {
    free(d);
    kapi_visitor_free(inner);
    return NULL;
  }
  if (n)
    memcpy(d->fns, fns, n * sizeof *fns);
  d->base.walk = decorated_walk;
  d->base.destroy = decorated_destroy;
  d->inner = inner;
  d->n = n;
  d->arg = arg;
  return &d->base;
}

/* ---- FilteredVisitor ----------------------------------------------------- */

typedef struct filtered {
  kapi_visitor base;
  kapi_visitor *inner;
  kapi_filter_fn fn;
  void *arg;
} filtered;

typedef struct filtered_call {
  filtered *f;
  kapi__walk_fn fn;
  void *arg;
} filtered_call;

static int filter_one(kapi_info *info, int err, void *arg,
                      kapi_errlist *errs)
{
  filtered_call *c = arg;
  int r;

  if (err < 0)
    return c->fn(NULL, err, c->arg, errs);
  r = c->f->fn(info, c->f->arg, errs);
  if (r <= 0)
    return r; /* dropped, or the filter's error */
  return c->fn(info, 0, c->arg, errs);
}

static int filtered_walk(kapi_visitor *v, kapi__walk_fn fn, void *arg,
                         kapi_errlist *errs)
{
  filtered *f = (filtered *)v;
  filtered_call c = {f, fn, arg};

  return kapi__walk(f->inner, filter_one, &c, errs);
}

static void filtered_destroy(kapi_visitor *v)
{
  filtered *f = (filtered *)v;

  kapi_visitor_free(f->inner);
  free(f);
}

kapi_visitor *kapi_filtered_visitor(kapi_visitor *inner, kapi_filter_fn fn,
                                    void *arg)
{
  filtered *f;

  if (!inner)
    return NULL;
  if (!fn || !(f = calloc(1, sizeof *f))) {
    kapi_visitor_free(inner);
    return NULL;
  }
  f->base.walk = filtered_walk;
  f->base.destroy = filtered_destroy;
  f->inner = inner;
  f->fn = fn;
  f->arg = arg;
  return &f->base;
}

/* ---- ContinueOnErrorVisitor and EagerVisitorList -------------------------- */

/* Both keep going: an error, handed in or returned by fn, is noted (its
 * text is already in errs) and the walk goes on.  The first code is the
 * result, as the aggregate's first error. */
typedef struct keep_going {
  kapi__walk_fn fn;
  void *arg;
  int first;
} keep_going;

static void note(keep_going *k, int r)
{
  if (r < 0 && !k->first)
    k->first = r;
}

static int keep_going_one(kapi_info *info, int err, void *arg,
                          kapi_errlist *errs)
{
  keep_going *k = arg;

  if (err < 0)
    note(k, err);
  else
    note(k, k->fn(info, 0, k->arg, errs));
  return 0;
}

typedef struct continuing {
  kapi_visitor base;
  kapi_visitor *inner;
} continuing;

static int continuing_walk(kapi_visitor *v, kapi__walk_fn fn, void *arg,
                           kapi_errlist *errs)
{
  continuing *c = (continuing *)v;
  keep_going k = {fn, arg, 0};

  note(&k, kapi__walk(c->inner, keep_going_one, &k, errs));
  return k.first;
}

static void continuing_destroy(kapi_visitor *v)
{
  continuing *c = (continuing *)v;

  kapi_visitor_free(c->inner);
  free(c);
}

kapi_visitor *kapi_continue_on_error_visitor(kapi_visitor *inner)
{
  continuing *c;

  if (!inner)
    return NULL;
  if (!(c = calloc(1, sizeof *c))) {
    kapi_visitor_free(inner);
    return NULL;
  }
  c->base.walk = continuing_walk;
  c->base.destroy = continuing_destroy;
  c->inner = inner;
  return &c->base;
}

/* ---- VisitorList and EagerVisitorList ------------------------------------ */

typedef struct vlist {
  kapi_visitor base;
  kapi_visitor **vs;
  size_t n;
} vlist;

/* Stops at the first visitor that fails. */
static int list_walk(kapi_visitor *v, kapi__walk_fn fn, void *arg,
                     kapi_errlist *errs)
{
  vlist *l = (vlist *)v;
  size_t i;
  int r;

  for (i = 0; i < l->n; i++)
    if ((r = kapi__walk(l->vs[i], fn, arg, errs)) < 0)
      return r;
  return 0;
}

/* Visits every visitor and every info, then reports the first error. */
static int eager_walk(kapi_visitor *v, kapi__walk_fn fn, void *arg,
                      kapi_errlist *errs)
{
  vlist *l = (vlist *)v;
  keep_going k = {fn, arg, 0};
  size_t i;

  for (i = 0; i < l->n; i++)
    note(&k, kapi__walk(l->vs[i], keep_going_one, &k, errs));
  return k.first;
}

static void list_destroy(kapi_visitor *v)
{
  vlist *l = (vlist *)v;
  size_t i;

  for (i = 0; i < l->n; i++)
    kapi_visitor_free(l->vs[i]);
  free(l->vs);
  free(l);
}

static kapi_visitor *list_new(kapi_visitor **vs, size_t n, int eager)
{
  vlist *l = calloc(1, sizeof *l);
  size_t i;

  if (!l || (n && !(l->vs = malloc(n * sizeof *vs)))) {
    free(l);
    for (i = 0; i < n; i++)
      kapi_visitor_free(vs[i]);
    return NULL;
  }
  if (n)
    memcpy(l->vs, vs, n * sizeof *vs);
  l->n = n;
  l->base.walk = eager ? eager_walk : list_walk;
  l->base.destroy = list_destroy;
  return &l->base;
}

kapi_visitor *kapi_visitor_list(kapi_visitor **vs, size_t n)
{
  return list_new(vs, n, 0);
}

kapi_visitor *kapi_eager_visitor_list(kapi_visitor **vs, size_t n)
{
  return list_new(vs, n, 1);
}

/* ---- namespace decorators ------------------------------------------------ */

/* Without a mapping (no mapper) the scope is unknown; the object is
 * taken as namespaced, since most kinds are and a caller that wanted
 * cluster scopes respected passes a mapper. */
static int is_namespaced(const kapi_info *info)
{
  return info->mapping.resource ? info->mapping.namespaced : 1;
}

/* The info and its object both name ns (upstream's UpdateObjectNamespace). */
static int put_namespace(kapi_info *info, const char *ns)
{
  char *copy = strdup(ns);
  kj *meta;

  if (!copy)
    return -ENOMEM;
  free(info->namespace_);
  info->namespace_ = copy;
  if (info->object && (meta = kj_child_object(info->object, "metadata")) &&
      kj_set_str(meta, "namespace", ns) < 0)
    return -ENOMEM;
  return 0;
}

int kapi_set_namespace(kapi_info *info, void *arg, kapi_errlist *errs)
{
  const char *ns = arg;

  (void)errs;
  if (!ns || !*ns || !is_namespaced(info))
    return 0;
  if (info->namespace_ && *info->namespace_)
    return 0;
  return put_namespace(info, ns);
}

int kapi_require_namespace(kapi_info *info, void *arg, kapi_errlist *errs)
{
  const char *ns = arg ? arg : "";

  if (!is_namespaced(info))
    return 0;
  if (!info->namespace_ || !*info->namespace_)
    return *ns ? put_namespace(info, ns) : 0;
  if (strcmp(info->namespace_, ns)) {
    kapi_errlist_add(errs,
                     "the namespace from the provided object \"%s\" does not "
                     "match the namespace \"%s\". You must pass "
                     "'--namespace=%s' to perform this operation.",
                     info->namespace_, ns, info->namespace_);
    return -EINVAL;
  }
  return 0;
}
