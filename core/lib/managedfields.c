/*
 * managedfields.c - field sets, managedFields entries and server-side
 * apply (see managedfields.h).
 *
 * Internally a set is a tree of JSON objects keyed by path elements in
 * which every member node carries "." (so set algebra never confuses "a
 * leaf" with "emptied by a difference"); fieldsV1 writes a member without
 * children as {} instead, as upstream does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "managedfields.h"
#include "meta.h"
#include "patch_smp.h"

#define MAX_DEPTH 64

/* ---- computing the set of an object ------------------------------------ */

static int add_member(kj *node)
{
  return kj_set(node, ".", kj_object());
}

static int walk_map(kj *set, const kj *v, int type);

/* The path element "<kind>:<s>" in buf when it fits, else allocated
 * (free it when it is not buf): asprintf was a tenth of a pod create's
 * field-set cost. */
static char *el_name(char *buf, size_t cap, char kind, const char *s)
{
  size_t n = strlen(s);
  char *out = n + 3 <= cap ? buf : malloc(n + 3);
  if (!out)
    return NULL;
  out[0] = kind;
  out[1] = ':';
  memcpy(out + 2, s, n + 1);
  return out;
}

static int walk_list(kj *node, const kj *arr, int type, const char *key)
{
  size_t i;
  for (i = 0; i < kj_len(arr); i++) {
    const kj *item = kj_at(arr, i);
    char buf[256], *name, *json;
    kj *child, *id;
    int rc;
    if (key) {
      if (!kj_get(item, key))
        continue;
      id = kj_object();
      if (!id || kj_set(id, key, kj_clone(kj_get(item, key))) < 0) {
        kj_free(id);
        return -ENOMEM;
      }
      json = kj_dump(id, NULL);
      kj_free(id);
    } else {
      json = kj_dump(item, NULL);
    }
    name = json ? el_name(buf, sizeof buf, key ? 'k' : 'v', json) : NULL;
    free(json);
    if (!name)
      return -ENOMEM;
    child = kj_child_object(node, name);
    if (name != buf)
      free(name);
    if (!child || add_member(child) < 0)
      return -ENOMEM;
    if (key && item->type == KJ_OBJECT && (rc = walk_map(child, item, type)) < 0)
      return rc;
  }
  return 0;
}

static int walk_map(kj *set, const kj *v, int type)
{
  size_t i;
  for (i = 0; i < kj_len(v); i++) {
    const char *k = kj_key_at(v, i);
    const kj *val = kj_at(v, i);
    const char *key = NULL;
    int merge = 0, ct = kapi_smp_field_type(type, k, &merge, &key), rc;
    char buf[128], *fk = el_name(buf, sizeof buf, 'f', k);
    kj *child;
    if (!fk)
      return -ENOMEM;
    child = kj_child_object(set, fk);
    if (fk != buf)
      free(fk);
    if (!child)
      return -ENOMEM;
    if (val->type == KJ_OBJECT && kj_len(val))
      rc = walk_map(child, val, ct);
    else if (val->type == KJ_ARRAY && merge && kj_len(val))
      rc = walk_list(child, val, ct, key);
    else
      rc = add_member(child);
    if (rc < 0)
      return rc;
  }
  return 0;
}

/* Internal form (every member marked with "."). */
static kj *set_of(const kj *obj, const char *kind)
{
  static const char *const meta[] = {"f:name", "f:namespace", "f:uid",
    "f:creationTimestamp", "f:selfLink", "f:clusterName", "f:generation",
    "f:managedFields", "f:resourceVersion", NULL};
  const char *const *m;
  kj *set = kj_object(), *md;
  if (!set)
    return NULL;
  if (obj && obj->type == KJ_OBJECT &&
      walk_map(set, obj, kapi_smp_kind_type(kind)) < 0) {
    kj_free(set);
    return NULL;
  }
  kj_remove(set, "f:apiVersion");
  kj_remove(set, "f:kind");
  md = kj_get(set, "f:metadata");
  for (m = meta; md && *m; m++)
    kj_remove(md, *m);
  if (md && !kj_len(md))
    kj_remove(set, "f:metadata");
  return set;
}

static kj *to_v1(const kj *s)
{
  kj *out = kj_object();
  size_t i;
  if (!out)
    return NULL;
  for (i = 0; i < kj_len(s); i++) {
    const char *k = kj_key_at(s, i);
    const kj *c = kj_at(s, i);
    kj *v;
    if (!strcmp(k, ".")) {
      if (kj_len(s) > 1 && kj_set(out, ".", kj_object()) < 0)
        goto fail;
      continue;
    }
    v = to_v1(c);
    if (!v || kj_set(out, k, v) < 0)
      goto fail;
  }
  return out;
fail:
  kj_free(out);
  return NULL;
}

static kj *from_v1(const kj *v)
{
  kj *out = kj_object();
  size_t i;
  if (!out)
    return NULL;
  if (!kj_len(v))
    add_member(out);
  for (i = 0; i < kj_len(v); i++) {
    const char *k = kj_key_at(v, i);
    kj *c = strcmp(k, ".") ? from_v1(kj_at(v, i)) : kj_object();
    if (!c || kj_set(out, k, c) < 0) {
      kj_free(out);
      return NULL;
    }
  }
  return out;
}

kj *kapi_fieldset_of(const kj *obj, const char *kind)
{
  kj *s = set_of(obj, kind), *v;
  if (!s)
    return NULL;
  v = to_v1(s);
  kj_free(s);
  return v;
}

/* ---- set algebra (internal form) --------------------------------------- */

/* a minus b, newly allocated (NULL when empty or out of memory). */
static kj *set_diff(const kj *a, const kj *b)
{
  kj *out = kj_object();
  size_t i;
  for (i = 0; out && i < kj_len(a); i++) {
    const char *k = kj_key_at(a, i);
    kj *c;
    if (!strcmp(k, ".")) {
      if (!kj_get(b, "."))
        add_member(out);
      continue;
    }
    c = set_diff(kj_at(a, i), kj_get(b, k));
    if (c)
      kj_set(out, k, c);
  }
  if (out && !kj_len(out)) {
    kj_free(out);
    out = NULL;
  }
  return out;
}

static kj *set_intersect(const kj *a, const kj *b)
{
  kj *out = kj_object();
  size_t i;
  for (i = 0; out && b && i < kj_len(a); i++) {
    const char *k = kj_key_at(a, i);
    kj *c;
    if (!kj_get(b, k))
      continue;
    if (!strcmp(k, ".")) {
      add_member(out);
      continue;
    }
    c = set_intersect(kj_at(a, i), kj_get(b, k));
    if (c)
      kj_set(out, k, c);
  }
  if (out && !kj_len(out)) {
    kj_free(out);
    out = NULL;
  }
  return out;
}

/* Adds b's members to a. */
static int set_union_into(kj *a, const kj *b)
{
  size_t i;
  for (i = 0; i < kj_len(b); i++) {
    const char *k = kj_key_at(b, i);
    kj *c = kj_child_object(a, k);
    if (!c || set_union_into(c, kj_at(b, i)) < 0)
      return -ENOMEM;
  }
  return 0;
}

/* ---- paths ----------------------------------------------------------------- */

struct path {
  const char *el[MAX_DEPTH];
  size_t n;
};

typedef int (*member_fn)(const struct path *p, void *arg);

/* Calls fn for every member, parents before children. */
static int each_member(const kj *s, struct path *p, member_fn fn, void *arg)
{
  size_t i;
  int rc;
  if (kj_get(s, ".") && p->n && (rc = fn(p, arg)) < 0)
    return rc;
  if (p->n == MAX_DEPTH)
    return 0;
  for (i = 0; i < kj_len(s); i++) {
    if (!strcmp(kj_key_at(s, i), "."))
      continue;
    p->el[p->n++] = kj_key_at(s, i);
    rc = each_member(kj_at(s, i), p, fn, arg);
    p->n--;
    if (rc < 0)
      return rc;
  }
  return 0;
}

static int is_item(const char *el)
{
  return el[0] == 'k' || el[0] == 'v';
}

/* The index of the list item `el` names in arr, or -1. */
static long find_item(const kj *arr, const char *el)
{
  kj *want = NULL;
  char err[64];
  size_t i, j;
  long found = -1;
  if (kj_parse(el + 2, strlen(el + 2), &want, err, sizeof err) < 0)
    return -1;
  for (i = 0; found < 0 && i < kj_len(arr); i++) {
    const kj *item = kj_at(arr, i);
    if (el[0] == 'v') {
      if (kj_equal(item, want))
        found = (long)i;
      continue;
    }
    for (j = 0; j < kj_len(want); j++)
      if (!kj_equal(kj_get(item, kj_key_at(want, j)), kj_at(want, j)))
        break;
    if (j == kj_len(want))
      found = (long)i;
  }
  kj_free(want);
  return found;
}

static kj *resolve_n(const kj *root, const struct path *p, size_t n)
{
  const kj *cur = root;
  size_t i;
  for (i = 0; cur && i < n; i++) {
    const char *el = p->el[i];
    if (el[0] == 'f') {
      cur = cur->type == KJ_OBJECT ? kj_get(cur, el + 2) : NULL;
    } else {
      long at = cur->type == KJ_ARRAY ? find_item(cur, el) : -1;
      cur = at < 0 ? NULL : kj_at(cur, (size_t)at);
    }
  }
  return (kj *)cur;
}

/* Upstream's fieldpath.Path String(): .spec.containers[name="x"].image */
static void path_string(const struct path *p, char *buf, size_t len)
{
  size_t i, o = 0;
  buf[0] = '\0';
  for (i = 0; i < p->n && o < len; i++) {
    const char *el = p->el[i];
    if (el[0] == 'f') {
      o += snprintf(buf + o, len - o, ".%s", el + 2);
    } else if (el[0] == 'v') {
      o += snprintf(buf + o, len - o, "[=%s]", el + 2);
    } else {
      kj *id = NULL;
      char err[64];
      size_t j;
      if (kj_parse(el + 2, strlen(el + 2), &id, err, sizeof err) < 0)
        continue;
      o += snprintf(buf + o, len - o, "[");
      for (j = 0; j < kj_len(id) && o < len; j++) {
        char *v = kj_dump(kj_at(id, j), NULL);
        o += snprintf(buf + o, len - o, "%s%s=%s", j ? "," : "",
                      kj_key_at(id, j), v ? v : "?");
        free(v);
      }
      if (o < len)
        o += snprintf(buf + o, len - o, "]");
      kj_free(id);
    }
  }
}

/* ---- managedFields entries --------------------------------------------- */

struct entry {
  const char *manager, *operation, *api_version, *time;
  kj *set; /* internal form, owned; NULL = empty */
};

struct entries {
  struct entry *e;
  size_t n;
  kj *src; /* the managedFields array the strings point into */
};

static int load_entries(struct entries *es, const kj *managed)
{
  size_t i;
  es->src = kj_clone(managed);
  es->n = 0;
  es->e = calloc(kj_len(managed) + 1, sizeof *es->e);
  if (!es->e || (managed && !es->src))
    return -ENOMEM;
  for (i = 0; i < kj_len(es->src); i++) {
    const kj *m = kj_at(es->src, i);
    struct entry *e = &es->e[es->n];
    if (!kj_get_str(m, "manager") || !kj_get_str(m, "operation"))
      continue;
    e->manager = kj_get_str(m, "manager");
    e->operation = kj_get_str(m, "operation");
    e->api_version = kj_get_str(m, "apiVersion");
    e->time = kj_get_str(m, "time");
    e->set = kj_len(kj_get(m, "fieldsV1")) ? from_v1(kj_get(m, "fieldsV1"))
                                            : NULL;
    es->n++;
  }
  return 0;
}

static void free_entries(struct entries *es)
{
  size_t i;
  for (i = 0; i < es->n; i++)
    kj_free(es->e[i].set);
  free(es->e);
  kj_free(es->src);
}

/* The entry of (manager, op), added (empty) when missing. */
static struct entry *entry_of(struct entries *es, const char *manager,
                              const char *op)
{
  size_t i;
  for (i = 0; i < es->n; i++)
    if (!strcmp(es->e[i].manager, manager) && !strcmp(es->e[i].operation, op))
      return &es->e[i];
  es->e[es->n].manager = manager;
  es->e[es->n].operation = op;
  return &es->e[es->n++];
}

/* Entries keep only fields the object has; empty ones go. */
static void prune(struct entries *es, const kj *objset)
{
  size_t i;
  for (i = 0; i < es->n; i++) {
    kj *s = set_intersect(es->e[i].set, objset);
    kj_free(es->e[i].set);
    es->e[i].set = s;
  }
}

static int store_entries(kj *obj, const struct entries *es)
{
  kj *arr = kj_array(), *meta = kj_child_object(obj, "metadata");
  size_t i;
  if (!arr || !meta) {
    kj_free(arr);
    return -ENOMEM;
  }
  for (i = 0; i < es->n; i++) {
    const struct entry *e = &es->e[i];
    kj *m;
    if (!e->set)
      continue;
    m = kj_object();
    if (!m || kj_set_str(m, "manager", e->manager) < 0 ||
        kj_set_str(m, "operation", e->operation) < 0 ||
        (e->api_version && kj_set_str(m, "apiVersion", e->api_version) < 0) ||
        (e->time && kj_set_str(m, "time", e->time) < 0) ||
        kj_set_str(m, "fieldsType", "FieldsV1") < 0 ||
        kj_set(m, "fieldsV1", to_v1(e->set)) < 0 || kj_append(arr, m) < 0) {
      kj_free(arr);
      return -ENOMEM;
    }
  }
  if (!kj_len(arr)) {
    kj_free(arr);
    kj_remove(meta, "managedFields");
    return 0;
  }
  return kj_set(meta, "managedFields", arr);
}

/* ---- Update ------------------------------------------------------------ */

struct changed_ctx {
  const kj *obj, *old;
  kj *changed;
};

static int add_path(kj *set, const struct path *p)
{
  size_t i;
  for (i = 0; i < p->n; i++)
    if (!(set = kj_child_object(set, p->el[i])))
      return -ENOMEM;
  return add_member(set);
}

static int note_changed(const struct path *p, void *arg)
{
  struct changed_ctx *c = arg;
  const kj *was = resolve_n(c->old, p, p->n);
  if (was && (is_item(p->el[p->n - 1]) ||
              kj_equal(was, resolve_n(c->obj, p, p->n))))
    return 0;
  return add_path(c->changed, p);
}

/* Removes the nodes under s that hold no member (a merge-keyed list whose
 * items all lack the key); nonzero when s still holds one. */
static int drop_memberless(kj *s)
{
  size_t i = 0;
  while (i < kj_len(s)) {
    if (strcmp(kj_key_at(s, i), ".") && !drop_memberless(kj_at(s, i))) {
      kj_remove(s, kj_key_at(s, i));
      continue;
    }
    i++;
  }
  return kj_len(s) > 0;
}

/* A create without managedFields (the common case, every pod a
 * controller or client creates): every field of the object is the
 * manager's, so its one entry is the object's own set, with none of the
 * diff, union and pruning a general update needs.  Same result as the
 * general path: there each member is "changed" (no old value), and the
 * changed set is the object's set without member-less nodes. */
static int record_create(kj *obj, kj *objset, const char *manager,
                         const char *api_version, int64_t now)
{
  kj *meta = kj_get(obj, "metadata"), *arr, *m;
  char ts[32];

  if (!drop_memberless(objset))
    return 0;
  kapi_rfc3339(now, ts, sizeof ts);
  arr = kj_array();
  m = kj_object();
  if (!arr || !m || kj_set_str(m, "manager", manager) < 0 ||
      kj_set_str(m, "operation", "Update") < 0 ||
      (api_version && kj_set_str(m, "apiVersion", api_version) < 0) ||
      kj_set_str(m, "time", ts) < 0 ||
      kj_set_str(m, "fieldsType", "FieldsV1") < 0 ||
      kj_set(m, "fieldsV1", to_v1(objset)) < 0) {
    kj_free(m);
    kj_free(arr);
    return -ENOMEM;
  }
  if (kj_append(arr, m) < 0) { /* m is freed by kj_append */
    kj_free(arr);
    return -ENOMEM;
  }
  return kj_set(meta, "managedFields", arr);
}

int kapi_managed_record_update(kj *obj, const kj *old, const char *kind,
                               const char *manager, const char *api_version,
                               int64_t now)
{
  struct changed_ctx c = {obj, old, kj_object()};
  struct entries es = {0};
  struct path p = {.n = 0};
  kj *meta = kj_get(obj, "metadata"), *objset = set_of(obj, kind);
  char ts[32];
  size_t i;
  int rc = -ENOMEM;

  if (!meta || !c.changed || !objset)
    goto out;
  if (!old && !kj_get(meta, "managedFields")) {
    rc = record_create(obj, objset, manager, api_version, now);
    goto out;
  }
  if (!kj_get(meta, "managedFields") && kj_ptr(old, "/metadata/managedFields") &&
      kj_set(meta, "managedFields",
             kj_clone(kj_ptr(old, "/metadata/managedFields"))) < 0)
    goto out;
  if (load_entries(&es, kj_get(meta, "managedFields")) < 0 ||
      each_member(objset, &p, note_changed, &c) < 0)
    goto out;
  if (kj_len(c.changed)) {
    struct entry *mine = entry_of(&es, manager, "Update");
    for (i = 0; i < es.n; i++) {
      kj *s;
      if (&es.e[i] == mine)
        continue;
      s = set_diff(es.e[i].set, c.changed);
      kj_free(es.e[i].set);
      es.e[i].set = s;
    }
    if (!mine->set && !(mine->set = kj_object()))
      goto out;
    if (set_union_into(mine->set, c.changed) < 0)
      goto out;
    kapi_rfc3339(now, ts, sizeof ts);
    mine->api_version = api_version;
    mine->time = ts;
  } else if (!kj_get(meta, "managedFields")) {
    rc = 0;
    goto out;
  }
  prune(&es, objset);
  rc = store_entries(obj, &es);
out:
  free_entries(&es);
  kj_free(c.changed);
  kj_free(objset);
  return rc;
}

/* ---- Apply --------------------------------------------------------------- */

struct conflict_ctx {
  const kj *applied, *live;
  kj *found; /* internal set of conflicting paths */
  kj *causes;  /* [{manager, path}] */
  const char *who;
};

static int note_conflict(const struct path *p, void *arg)
{
  struct conflict_ctx *c = arg;
  const kj *live = resolve_n(c->live, p, p->n);
  char buf[512];
  kj *cause;
  if (is_item(p->el[p->n - 1]) || !live ||
      kj_equal(live, resolve_n(c->applied, p, p->n)))
    return 0;
  path_string(p, buf, sizeof buf);
  cause = kj_object();
  if (!cause || kj_set_str(cause, "manager", c->who) < 0 ||
      kj_set_str(cause, "path", buf) < 0 || kj_append(c->causes, cause) < 0)
    return -ENOMEM;
  return add_path(c->found, p);
}

/* upstream printManager: Update managers name their version and time. */
static void describe_manager(const struct entry *e, char *buf, size_t len)
{
  if (strcmp(e->operation, "Update"))
    snprintf(buf, len, "\"%s\"", e->manager);
  else if (e->time)
    snprintf(buf, len, "\"%s\" using %s at %s", e->manager,
             e->api_version ? e->api_version : "", e->time);
  else
    snprintf(buf, len, "\"%s\" using %s", e->manager,
             e->api_version ? e->api_version : "");
}

static int cmp_cause(const void *a, const void *b)
{
  return strcmp(kj_get_str(*(kj *const *)a, "manager"),
                kj_get_str(*(kj *const *)b, "manager"));
}

/* upstream internal/conflict.go NewConflictError. */
static void conflict_error(kapi_error *e, const kj *causes)
{
  size_t i, n = kj_len(causes), len = 0, cap = 0;
  char *msg = NULL;
  const char *last = NULL;
  kj **sorted = calloc(n ? n : 1, sizeof *sorted);
  FILE *f;
  if (!sorted)
    return;
  for (i = 0; i < n; i++)
    sorted[i] = kj_at(causes, i);
  qsort(sorted, n, sizeof *sorted, cmp_cause);
  f = open_memstream(&msg, &len);
  (void)cap;
  if (!f) {
    free(sorted);
    return;
  }
  if (n == 1) {
    fprintf(f, "Apply failed with 1 conflict: conflict with %s: %s",
            kj_get_str(sorted[0], "manager"), kj_get_str(sorted[0], "path"));
  } else {
    fprintf(f, "Apply failed with %zu conflicts: ", n);
    for (i = 0; i < n; i++) {
      const char *m = kj_get_str(sorted[i], "manager");
      if (!last || strcmp(last, m))
        fprintf(f, "%sconflicts with %s:", i ? "\n" : "", m);
      fprintf(f, "\n- %s", kj_get_str(sorted[i], "path"));
      last = m;
    }
  }
  fclose(f);
  kapi_error_setf(e, 409, "Conflict", "%s", msg ? msg : "");
  for (i = 0; i < n; i++) {
    char cm[300];
    snprintf(cm, sizeof cm, "conflict with %s", kj_get_str(kj_at(causes, i),
                                                          "manager"));
    kapi_error_add_cause(e, "FieldManagerConflict", cm,
                         kj_get_str(kj_at(causes, i), "path"));
  }
  free(msg);
  free(sorted);
}

struct remove_ctx {
  struct path *paths;
  size_t n, cap;
};

static int collect(const struct path *p, void *arg)
{
  struct remove_ctx *r = arg;
  if (r->n == r->cap) {
    size_t cap = r->cap ? 2 * r->cap : 16;
    struct path *np = realloc(r->paths, cap * sizeof *np);
    if (!np)
      return -ENOMEM;
    r->paths = np;
    r->cap = cap;
  }
  r->paths[r->n++] = *p;
  return 0;
}

static void remove_path(kj *obj, const struct path *p)
{
  kj *parent = resolve_n(obj, p, p->n - 1);
  const char *el = p->el[p->n - 1];
  if (!parent)
    return;
  if (el[0] == 'f') {
    if (parent->type == KJ_OBJECT)
      kj_remove(parent, el + 2);
  } else if (parent->type == KJ_ARRAY) {
    long at = find_item(parent, el);
    if (at >= 0)
      kj_remove_at(parent, (size_t)at);
  }
}

/* Equal as objects, whatever their managedFields say. */
static int same_but_managed(const kj *a, const kj *b)
{
  size_t i, n = kj_len(a);

  if (!a || !b || a->type != KJ_OBJECT || b->type != KJ_OBJECT ||
      n != kj_len(b))
    return 0;
  for (i = 0; i < n; i++) {
    const char *k = kj_key_at(a, i);
    const kj *x = kj_at(a, i), *y = kj_get(b, k);
    if (!strcmp(k, "metadata")) {
      size_t j, m = kj_len(x), mx = m, my = kj_len(y);
      mx -= kj_get(x, "managedFields") != NULL;
      my -= kj_get(y, "managedFields") != NULL;
      if (!y || mx != my)
        return 0;
      for (j = 0; j < m; j++)
        if (strcmp(kj_key_at(x, j), "managedFields") &&
            !kj_equal(kj_at(x, j), kj_get(y, kj_key_at(x, j))))
          return 0;
    } else if (!kj_equal(x, y)) {
      return 0;
    }
  }
  return 1;
}

int kapi_managed_apply(kj **obj, const kj *applied, const char *kind,
                       const char *manager, const char *api_version,
                       int force, int64_t now, kapi_error *e)
{
  struct entries es = {0};
  struct conflict_ctx cc = {applied, *obj, NULL, kj_array(), NULL};
  struct remove_ctx rm = {0};
  struct path p = {.n = 0};
  kj *sa = set_of(applied, kind), *others = kj_object(), *cfg = NULL;
  kj *removed = NULL, *prev = NULL, *objset = NULL, *orig = NULL;
  struct entry *mine;
  char ts[32], who[300], err[256];
  size_t i;
  int rc = -ENOMEM, same;

  if (!sa || !others || !cc.causes ||
      load_entries(&es, kj_ptr(*obj, "/metadata/managedFields")) < 0)
    goto out;
  for (i = 0; i < es.n; i++) {
    struct entry *x = &es.e[i];
    kj *common;
    if (!strcmp(x->manager, manager) && !strcmp(x->operation, "Apply"))
      continue;
    common = set_intersect(sa, x->set);
    if (!common)
      continue;
    describe_manager(x, who, sizeof who);
    cc.who = who;
    cc.found = kj_object();
    p.n = 0;
    rc = cc.found ? each_member(common, &p, note_conflict, &cc) : -ENOMEM;
    kj_free(common);
    if (rc < 0) {
      kj_free(cc.found);
      goto out;
    }
    if (force) {
      kj *s = set_diff(x->set, cc.found);
      kj_free(x->set);
      x->set = s;
    }
    kj_free(cc.found);
  }
  if (kj_len(cc.causes) && !force) {
    conflict_error(e, cc.causes);
    rc = -EBUSY;
    goto out;
  }
  rc = -ENOMEM;
  /* The configuration merges like a strategic merge patch. */
  if (!(cfg = kj_clone(applied)))
    goto out;
  kj_remove(kj_get(cfg, "metadata"), "managedFields");
  if (!(orig = kj_clone(*obj)))
    goto out;
  if (kapi_strategic_merge_patch(obj, cfg, kind, err, sizeof err) < 0) {
    kapi_error_bad_request(e, "%s", err);
    rc = -EINVAL;
    goto out;
  }
  mine = entry_of(&es, manager, "Apply");
  for (i = 0; i < es.n; i++)
    if (&es.e[i] != mine && es.e[i].set &&
        set_union_into(others, es.e[i].set) < 0)
      goto out;
  prev = set_diff(mine->set, sa);
  removed = prev ? set_diff(prev, others) : NULL;
  p.n = 0;
  if (removed && each_member(removed, &p, collect, &rm) < 0)
    goto out;
  for (i = rm.n; i-- > 0;)
    remove_path(*obj, &rm.paths[i]);
  /* An apply that changes nothing of the manager's keeps its timestamp,
   * so that it stays a no-op (upstream's
   * IgnoreManagedFieldsTimestampsTransformer). */
  same = mine->set && mine->time && mine->api_version &&
         !strcmp(mine->api_version, api_version) && kj_equal(mine->set, sa) &&
         same_but_managed(*obj, orig);
  kj_free(mine->set);
  mine->set = kj_clone(sa);
  if (!same) {
    kapi_rfc3339(now, ts, sizeof ts);
    mine->api_version = api_version;
    mine->time = ts;
  }
  if (!(objset = set_of(*obj, kind)))
    goto out;
  prune(&es, objset);
  /* Apply's set stays whole: it declares intent, even for fields that
   * defaulting or admission dropped. */
  kj_free(mine->set);
  mine->set = kj_clone(sa);
  rc = store_entries(*obj, &es);
out:
  free(rm.paths);
  free_entries(&es);
  kj_free(cc.causes);
  kj_free(sa);
  kj_free(others);
  kj_free(cfg);
  kj_free(prev);
  kj_free(removed);
  kj_free(objset);
  kj_free(orig);
  return rc;
}

void kapi_default_manager(const char *user_agent, char *buf, size_t len)
{
  size_t n = user_agent ? strcspn(user_agent, "/") : 0;
  if (n > 128)
    n = 128;
  if (n >= len)
    n = len - 1;
  memcpy(buf, user_agent ? user_agent : "", n);
  buf[n] = '\0';
}
