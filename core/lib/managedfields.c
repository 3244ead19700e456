/*
 * managedfields.c - field sets, managedFields entries and server-side
 * apply (see managedfields.h).
 *
 * Internally a set is a tree of JSON objects keyed by path elements in
 * which every member node carries "." (so set algebra never confuses "a
 * leaf" with "emptied by a difference"); fieldsV1 writes a member without
 * children as {} instead, as upstream does.
 *
 * Writes that are not applies (every create and update) take faster
 * roads to the same bytes: a create builds its fieldsV1 in one walk
 * (record_create); an update walks the object and its old version
 * together (update_sets) and works on the stored entries in fieldsV1
 * form (diff_v1, union_v1, isect_v1v1).  Shapes those roads do not
 * reproduce (repeated list keys, names needing JSON escapes, odd
 * fieldsV1 from clients, very deep objects) take the general path.
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

/* 1 when the n bytes at s are printable ASCII without '"' or '\\': yajl
 * writes them verbatim between quotes, and they parse back unchanged. */
static int plain_chars(const char *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
      return 0;
  }
  return 1;
}

/* A value whose JSON we can write without yajl_gen: a plain string or a
 * number (yajl_gen writes a number's source text as is). */
static int plain_value(const kj *v)
{
  return v->type == KJ_NUMBER ||
         (v->type == KJ_STRING && plain_chars(v->u.str.s, v->u.str.len));
}

/* Appends the JSON of plain value v at out. */
static char *put_plain(char *out, const kj *v)
{
  if (v->type == KJ_STRING)
    *out++ = '"';
  memcpy(out, v->u.str.s, v->u.str.len);
  out += v->u.str.len;
  if (v->type == KJ_STRING)
    *out++ = '"';
  return out;
}

/* The path element of list item `item`: "k:{\"<key>\":<json>}" for a
 * merge-keyed list (`key` set; the item must have it), "v:<json>" for a
 * list of scalars; in buf when it fits, else allocated (free it when it
 * is not buf); NULL when out of memory.  Plain values are written
 * directly (a pod's containers, ports and env are all named so), with
 * the bytes kj_dump would give, and *plain is set: the name then parses
 * back to the item's own value.  Anything else goes through kj_dump. */
static char *item_name(char *buf, size_t cap, const char *key, const kj *item,
                       int *plain)
{
  const kj *val = key ? kj_get(item, key) : item;
  size_t klen = key ? strlen(key) : 0, n;
  char *json, *name, *o;
  kj *id;

  *plain = plain_value(val) && plain_chars(key ? key : "", klen);
  if (*plain) {
    /* "k:{" "\"" key "\":" value "}" NUL, or "v:" value NUL */
    n = 2 + (key ? klen + 5 : 0) + val->u.str.len + 2 + 1;
    name = o = n <= cap ? buf : malloc(n);
    if (!name)
      return NULL;
    *o++ = key ? 'k' : 'v';
    *o++ = ':';
    if (key) {
      memcpy(o, "{\"", 2);
      memcpy(o + 2, key, klen);
      memcpy(o + 2 + klen, "\":", 2);
      o += klen + 4;
    }
    o = put_plain(o, val);
    if (key)
      *o++ = '}';
    *o = '\0';
    return name;
  }
  if (key) {
    id = kj_object();
    if (!id || kj_set(id, key, kj_clone(val)) < 0) {
      kj_free(id);
      return NULL;
    }
    json = kj_dump(id, NULL);
    kj_free(id);
  } else {
    json = kj_dump(item, NULL);
  }
  name = json ? el_name(buf, cap, key ? 'k' : 'v', json) : NULL;
  free(json);
  return name;
}

static int walk_list(kj *node, const kj *arr, int type, const char *key)
{
  size_t i;
  for (i = 0; i < kj_len(arr); i++) {
    const kj *item = kj_at(arr, i);
    char buf[256], *name;
    kj *child;
    int rc, plain;
    if (key && !kj_get(item, key))
      continue;
    if (!(name = item_name(buf, sizeof buf, key, item, &plain)))
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

/* The metadata fields upstream leaves out of field sets. */
static const char *const system_meta[] = {"name", "namespace", "uid",
  "creationTimestamp", "selfLink", "clusterName", "generation",
  "managedFields", "resourceVersion", NULL};

static int is_system_meta(const char *k)
{
  const char *const *m;
  for (m = system_meta; *m; m++)
    if (!strcmp(k, *m))
      return 1;
  return 0;
}

/* Internal form (every member marked with "."). */
static kj *set_of(const kj *obj, const char *kind)
{
  const char *const *m;
  kj *set = kj_object(), *md;
  char buf[64];
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
  for (m = system_meta; md && *m; m++)
    kj_remove(md, el_name(buf, sizeof buf, 'f', *m));
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

/* 1 when fieldsV1 node b (may be NULL) is a member: {} or holding ".". */
static int v1_member(const kj *b)
{
  return b && (!kj_len(b) || kj_get(b, "."));
}

/* a minus b (fieldsV1 form) in place: set_diff with b's internal form,
 * without copying a; nodes left without a member go.  Returns nonzero
 * when a still holds one. */
static int diff_into(kj *a, const kj *b)
{
  size_t i = 0;
  while (i < kj_len(a)) {
    const char *k = kj_key_at(a, i);
    int keep = strcmp(k, ".") ? diff_into(kj_at(a, i), kj_get(b, k))
                              : !v1_member(b);
    if (keep)
      i++;
    else
      kj_remove(a, k);
  }
  return kj_len(a) > 0;
}

/* a intersected with b in place (set_intersect without copying a). */
static int intersect_into(kj *a, const kj *b)
{
  size_t i = 0;
  while (i < kj_len(a)) {
    const char *k = kj_key_at(a, i);
    const kj *bk = kj_get(b, k);
    if (bk && (!strcmp(k, ".") || intersect_into(kj_at(a, i), bk)))
      i++;
    else
      kj_remove(a, k);
  }
  return kj_len(a) > 0;
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
  kj *set; /* owned; NULL = empty */
  int v1;  /* set is in normal fieldsV1 form (see v1_normal), else internal */
};

struct entries {
  struct entry *e;
  size_t n;
  kj *src; /* owned copy of the managedFields array the strings point
            * into, or NULL when they point into a borrowed one */
};

/* 1 when fieldsV1 node v is what to_v1 writes, so that the internal form
 * round-trips to it unchanged: objects all the way down, "." (empty)
 * only next to fields and never at the root.  Clients can send anything;
 * what the apiserver stores is normal. */
static int v1_normal(const kj *v, int root)
{
  size_t i, n;
  if (v->type != KJ_OBJECT)
    return 0;
  /* The node's own fields: this runs over every stored entry. */
  for (i = 0, n = v->u.c.n; i < n; i++) {
    const char *k = v->u.c.keys[i];
    const kj *c = v->u.c.items[i];
    if (k[0] == '.' && !k[1] ? root || n == 1 || c->type != KJ_OBJECT ||
                                   c->u.c.n
                             : !v1_normal(c, 0))
      return 0;
  }
  return 1;
}

/* An entry's set: a copy of fieldsV1 v (non-empty) when `v1` is allowed
 * and v is normal (cheaper than the internal form, and stored back as
 * is), else its internal form. */
static kj *entry_set(const kj *v, int v1, int *is_v1)
{
  *is_v1 = v1 && v1_normal(v, 1);
  return *is_v1 ? kj_clone(v) : from_v1(v);
}

/* The entries of managedFields array `managed`, whose strings point into
 * it when `borrow` (it must then outlive their use), else into a copy:
 * kapi_managed_apply's strategic merge may rebuild the object.  Borrowed
 * entries (record_update's) may hold their sets in fieldsV1 form. */
static int load_entries(struct entries *es, const kj *managed, int borrow)
{
  const kj *src = managed;
  size_t i;
  es->src = borrow ? NULL : kj_clone(managed);
  es->n = 0;
  es->e = calloc(kj_len(managed) + 1, sizeof *es->e);
  if (!es->e || (managed && !borrow && !es->src))
    return -ENOMEM;
  if (!borrow)
    src = es->src;
  for (i = 0; i < kj_len(src); i++) {
    const kj *m = kj_at(src, i);
    struct entry *e = &es->e[es->n];
    if (!kj_get_str(m, "manager") || !kj_get_str(m, "operation"))
      continue;
    e->manager = kj_get_str(m, "manager");
    e->operation = kj_get_str(m, "operation");
    e->api_version = kj_get_str(m, "apiVersion");
    e->time = kj_get_str(m, "time");
    e->set = kj_len(kj_get(m, "fieldsV1"))
                 ? entry_set(kj_get(m, "fieldsV1"), borrow, &e->v1) : NULL;
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
    if (es->e[i].set && !intersect_into(es->e[i].set, objset)) {
      kj_free(es->e[i].set);
      es->e[i].set = NULL;
    }
  }
}

/* Takes e's set (fieldsV1 form as it is, internal form converted). */
static kj *take_v1(struct entry *e)
{
  kj *v = e->v1 ? e->set : to_v1(e->set);
  if (e->v1)
    e->set = NULL;
  return v;
}

static int store_entries(kj *obj, struct entries *es)
{
  kj *arr = kj_array(), *meta = kj_child_object(obj, "metadata");
  size_t i;
  if (!arr || !meta) {
    kj_free(arr);
    return -ENOMEM;
  }
  for (i = 0; i < es->n; i++) {
    struct entry *e = &es->e[i];
    kj *m;
    if (!e->set)
      continue;
    m = kj_object();
    if (!m || kj_set_str(m, "manager", e->manager) < 0 ||
        kj_set_str(m, "operation", e->operation) < 0 ||
        (e->api_version && kj_set_str(m, "apiVersion", e->api_version) < 0) ||
        (e->time && kj_set_str(m, "time", e->time) < 0) ||
        kj_set_str(m, "fieldsType", "FieldsV1") < 0 ||
        kj_set(m, "fieldsV1", take_v1(e)) < 0 || kj_append(arr, m) < 0) {
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

/* ---- a create's set, straight in fieldsV1 -------------------------------- */

/* What a walk leaves out (set_of's removals): nothing, the apiVersion and
 * kind of the top level, or the system fields of its metadata. */
enum skip { SKIP_NONE, SKIP_TOP, SKIP_META };

static int skipped(enum skip skip, const char *k)
{
  if (skip == SKIP_TOP)
    return !strcmp(k, "apiVersion") || !strcmp(k, "kind");
  return skip == SKIP_META && is_system_meta(k);
}

static enum skip skip_below(enum skip skip, const char *k)
{
  return skip == SKIP_TOP && !strcmp(k, "metadata") ? SKIP_META : SKIP_NONE;
}

/* Whether a field's tags matter: only a non-empty map or list is walked
 * into.  The table lookup was a sixth of a create's cost when made for
 * every scalar too. */
static int needs_type(const kj *val)
{
  return (val->type == KJ_OBJECT || val->type == KJ_ARRAY) && kj_len(val);
}

static int v1_map(kj *out, const kj *v, int type, enum skip skip);

/* Keyed item `item` into its new node: "." first (set_of marks the item
 * before walking it), kept only when fields follow, as to_v1 writes. */
static int v1_item(kj *node, const kj *item, int type)
{
  int rc = kj_set(node, ".", kj_object());
  if (rc < 0 || (rc = v1_map(node, item, type, SKIP_NONE)) < 0)
    return rc;
  if (kj_len(node) == 1)
    kj_remove(node, ".");
  return 0;
}

/* The items of merge list arr into out, as walk_list.  Item names may
 * repeat: a scalar again is the same member; a key again merges two
 * items' fields in an order (a "." after fields, a member-less node
 * filled later) only the general path reproduces: -EAGAIN. */
static int v1_list(kj *out, const kj *arr, int type, const char *key)
{
  size_t i;
  for (i = 0; i < kj_len(arr); i++) {
    const kj *item = kj_at(arr, i);
    char buf[256], *name;
    kj *child;
    int rc = 0, plain;
    if (key && !kj_get(item, key))
      continue;
    if (!(name = item_name(buf, sizeof buf, key, item, &plain)))
      return -ENOMEM;
    if (kj_get(out, name))
      rc = key ? -EAGAIN : 0;
    else if (!(child = kj_object()) || kj_set(out, name, child) < 0)
      rc = -ENOMEM;
    else if (key)
      rc = v1_item(child, item, type);
    if (name != buf)
      free(name);
    if (rc < 0)
      return rc;
  }
  return 0;
}

/* The fieldsV1 of the members of object v into out, in one pass: what
 * set_of, drop_memberless and to_v1 give, without the "." of every leaf.
 * Keys of one object are unique, so each child is new: no merging. */
static int v1_map(kj *out, const kj *v, int type, enum skip skip)
{
  size_t i;
  for (i = 0; i < kj_len(v); i++) {
    const char *k = kj_key_at(v, i), *key = NULL;
    const kj *val = kj_at(v, i);
    char buf[128], *fk;
    int merge = 0, ct, rc = 0, leaf = 0;
    kj *child;
    if (skipped(skip, k))
      continue;
    ct = needs_type(val) ? kapi_smp_field_type(type, k, &merge, &key) : 0;
    fk = el_name(buf, sizeof buf, 'f', k);
    child = fk ? kj_object() : NULL;
    if (!child) {
      if (fk != buf)
        free(fk);
      return -ENOMEM;
    }
    if (val->type == KJ_OBJECT && kj_len(val))
      rc = v1_map(child, val, ct, skip_below(skip, k));
    else if (val->type == KJ_ARRAY && merge && kj_len(val))
      rc = v1_list(child, val, ct, key);
    else
      leaf = 1;
    /* A map or list left without a member goes (drop_memberless). */
    if (rc == 0 && (leaf || kj_len(child)))
      rc = kj_set(out, fk, child);
    else
      kj_free(child);
    if (fk != buf)
      free(fk);
    if (rc < 0)
      return rc;
  }
  return 0;
}

/* The general path's create set (set_of, drop_memberless, to_v1): an
 * empty object when the object has no member; NULL when out of memory. */
static kj *create_set_general(const kj *obj, const char *kind)
{
  kj *set = set_of(obj, kind), *v1;
  if (!set)
    return NULL;
  v1 = drop_memberless(set) ? to_v1(set) : kj_object();
  kj_free(set);
  return v1;
}

/* A create without managedFields (the common case, every pod a
 * controller or client creates): every field of the object is the
 * manager's, so its one entry is the object's own set, with none of the
 * diff, union and pruning a general update needs.  Same result as the
 * general path: there each member is "changed" (no old value), and the
 * changed set is the object's set without member-less nodes. */
static int record_create(kj *obj, const char *kind, const char *manager,
                         const char *api_version, int64_t now)
{
  kj *meta = kj_get(obj, "metadata"), *fields = kj_object(), *arr, *m;
  char ts[32];
  int rc;

  rc = fields ? v1_map(fields, obj, kapi_smp_kind_type(kind), SKIP_TOP)
              : -ENOMEM;
  if (rc == -EAGAIN) {
    kj_free(fields);
    fields = create_set_general(obj, kind);
    rc = fields ? 0 : -ENOMEM;
  }
  if (rc < 0 || !kj_len(fields)) {
    kj_free(fields);
    return rc;
  }
  kapi_rfc3339(now, ts, sizeof ts);
  arr = kj_array();
  m = kj_object();
  if (!arr || !m || kj_set_str(m, "manager", manager) < 0 ||
      kj_set_str(m, "operation", "Update") < 0 ||
      (api_version && kj_set_str(m, "apiVersion", api_version) < 0) ||
      kj_set_str(m, "time", ts) < 0 ||
      kj_set_str(m, "fieldsType", "FieldsV1") < 0) {
    kj_free(fields);
    kj_free(m);
    kj_free(arr);
    return -ENOMEM;
  }
  if (kj_set(m, "fieldsV1", fields) < 0) { /* fields is freed by kj_set */
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

/* ---- an update's sets in one walk ---------------------------------------- */

/* A node of the changed set, made when its first changed member is
 * found: nodes then come in the order add_path gives them when
 * each_member visits the object's set. */
struct lazy {
  struct lazy *up; /* NULL at the root, whose node is always there */
  const char *el;  /* path element (borrowed) */
  kj *node;        /* NULL until made */
};

static kj *lazy_node(struct lazy *l)
{
  if (!l->node && l->up) {
    kj *parent = lazy_node(l->up);
    l->node = parent ? kj_child_object(parent, l->el) : NULL;
  }
  return l->node;
}

/* Marks l's node changed.  The changed set is in fieldsV1 form: a leaf
 * is a bare node, a keyed item gets "." before its fields come. */
static int lazy_member(struct lazy *l, int dot)
{
  kj *n = lazy_node(l);
  if (!n)
    return -ENOMEM;
  return dot ? add_member(n) : 0;
}

/* The item of `was` (an array, else none) find_item takes for the name of
 * `item` when that name is plain (it parses back to item's own value). */
static const kj *old_item(const kj *was, const char *key, const kj *item)
{
  size_t i;
  if (!was || was->type != KJ_ARRAY)
    return NULL;
  for (i = 0; i < kj_len(was); i++) {
    const kj *o = kj_at(was, i);
    if (key ? kj_equal(kj_get(o, key), kj_get(item, key)) : kj_equal(o, item))
      return o;
  }
  return NULL;
}

/* 1 when an item before arr[i] has an equal key: resolve_n would take
 * that one for arr[i]'s fields. */
static int key_seen(const kj *arr, size_t i, const char *key)
{
  const kj *v = kj_get(kj_at(arr, i), key);
  size_t j;
  for (j = 0; j < i; j++)
    if (kj_equal(kj_get(kj_at(arr, j), key), v))
      return 1;
  return 0;
}

static int upd_map(const kj *v, const kj *was, int type, struct lazy *ch,
                   size_t depth, enum skip skip);

/* note_changed for the items of merge list arr (walk_list's): an item is
 * changed when the old list lacks it.  `depth` as in upd_map. */
static int upd_list(const kj *arr, const kj *was, int type, const char *key,
                    struct lazy *ch, size_t depth)
{
  size_t i;
  if (depth >= MAX_DEPTH)
    return -EAGAIN;
  for (i = 0; i < kj_len(arr); i++) {
    const kj *item = kj_at(arr, i), *wi;
    char buf[256], *name;
    int rc = 0, plain;
    if (key && !kj_get(item, key))
      continue;
    if (!(name = item_name(buf, sizeof buf, key, item, &plain)))
      return -ENOMEM;
    if (!plain || (key && key_seen(arr, i, key))) {
      rc = -EAGAIN; /* the general path parses such names back */
    } else {
      struct lazy lc = {ch, name, NULL};
      wi = old_item(was, key, item);
      if (!wi)
        rc = lazy_member(&lc, key != NULL);
      if (!rc && key && item->type == KJ_OBJECT)
        rc = upd_map(item, wi, type, &lc, depth + 1, SKIP_NONE);
    }
    if (name != buf)
      free(name);
    if (rc < 0)
      return rc;
  }
  return 0;
}

/* note_changed for the members under object v (walk_map's), whose old
 * value is `was` (anything, or NULL): a leaf is changed when its old
 * value is missing or differs.  `depth` is the path length of v's node;
 * the general path looks at members up to MAX_DEPTH only (-EAGAIN
 * beyond). */
static int upd_map(const kj *v, const kj *was, int type, struct lazy *ch,
                   size_t depth, enum skip skip)
{
  size_t i;
  if (depth >= MAX_DEPTH)
    return -EAGAIN;
  if (was && was->type != KJ_OBJECT)
    was = NULL;
  for (i = 0; i < kj_len(v); i++) {
    const char *k = kj_key_at(v, i), *key = NULL;
    const kj *val = kj_at(v, i), *wv;
    char buf[128], *fk;
    int merge = 0, ct, rc;
    struct lazy lc = {ch, NULL, NULL};
    if (skipped(skip, k))
      continue;
    ct = needs_type(val) ? kapi_smp_field_type(type, k, &merge, &key) : 0;
    if (!(fk = el_name(buf, sizeof buf, 'f', k)))
      return -ENOMEM;
    lc.el = fk;
    wv = kj_get(was, k);
    if (val->type == KJ_OBJECT && kj_len(val))
      rc = upd_map(val, wv, ct, &lc, depth + 1, skip_below(skip, k));
    else if (val->type == KJ_ARRAY && merge && kj_len(val))
      rc = upd_list(val, wv, ct, key, &lc, depth + 1);
    else /* a member, changed unless its old value is the same */
      rc = kj_equal(wv, val) ? 0 : lazy_member(&lc, 0);
    if (fk != buf)
      free(fk);
    if (rc < 0)
      return rc;
  }
  return 0;
}

/* ---- pruning against the object itself ----------------------------------- */

static int v1_settle(kj *a);

/* The node of the object's set an entry node is matched with: value v
 * (the root object, a field's value, or a list item), as set_of sees it. */
enum onode { O_ROOT, O_FIELD, O_KEYED_ITEM, O_SCALAR_ITEM };

struct oref {
  const kj *v;
  enum onode kind;
  int type;        /* smp type of v's fields (or of a list's items) */
  int merge;       /* a field: its list merges */
  const char *key; /* a merging field: its items' key, NULL for scalars */
  enum skip skip;
};

/* Whether set_of marks the node a member. */
static int oref_member(const struct oref *o)
{
  if (o->kind == O_KEYED_ITEM || o->kind == O_SCALAR_ITEM)
    return 1;
  if (o->kind == O_ROOT)
    return 0;
  return !(o->v->type == KJ_OBJECT && kj_len(o->v)) &&
         !(o->v->type == KJ_ARRAY && o->merge && kj_len(o->v));
}

/* The child of o that set_of names `el`, into *c; 0 when there is none. */
static int oref_child(const struct oref *o, const char *el, struct oref *c)
{
  size_t i;
  memset(c, 0, sizeof *c);
  if (o->kind == O_SCALAR_ITEM || (o->kind == O_FIELD && oref_member(o)))
    return 0;
  if (o->kind != O_FIELD || o->v->type == KJ_OBJECT) { /* a map */
    if (el[0] != 'f' || el[1] != ':' || skipped(o->skip, el + 2) ||
        !(c->v = kj_get(o->v, el + 2)))
      return 0;
    c->kind = O_FIELD;
    if (needs_type(c->v))
      c->type = kapi_smp_field_type(o->type, el + 2, &c->merge, &c->key);
    c->skip = skip_below(o->skip, el + 2);
    return 1;
  }
  for (i = 0; i < kj_len(o->v); i++) { /* a merging list */
    const kj *item = kj_at(o->v, i);
    char buf[256], *name;
    int plain, same;
    if (o->key && !kj_get(item, o->key))
      continue;
    if (!(name = item_name(buf, sizeof buf, o->key, item, &plain)))
      return -ENOMEM;
    same = !strcmp(name, el);
    if (name != buf)
      free(name);
    if (same) {
      c->v = item;
      c->kind = o->key ? O_KEYED_ITEM : O_SCALAR_ITEM;
      c->type = o->type;
      return 1;
    }
  }
  return 0;
}

/* a (fieldsV1 form when `v1`, else internal) intersected in place with
 * the object's set at o, as prune with set_of's set; the caller made sure
 * no two items of a list share a name (set_of would merge them).
 * Returns 1 when something is left, 0 when not, or -ENOMEM. */
static int isect_obj(kj *a, const struct oref *o, int v1)
{
  int member = oref_member(o), rc;
  size_t i = 0;
  if (v1 && !kj_len(a))
    return member;
  while (i < kj_len(a)) {
    const char *k = kj_key_at(a, i);
    struct oref c;
    if (!strcmp(k, "."))
      rc = member;
    else if ((rc = oref_child(o, k, &c)) > 0)
      rc = isect_obj(kj_at(a, i), &c, v1);
    if (rc < 0)
      return rc;
    if (rc)
      i++;
    else
      kj_remove(a, k);
  }
  return v1 ? v1_settle(a) : kj_len(a) > 0;
}

/* a (internal form) intersected in place with b (fieldsV1 form: a node is
 * a member when it is empty or holds "."; the root never is), as
 * intersect_into with b's internal form. */
static int intersect_v1(kj *a, const kj *b, int root)
{
  int member = !root && (!kj_len(b) || kj_get(b, "."));
  size_t i = 0;
  while (i < kj_len(a)) {
    const char *k = kj_key_at(a, i);
    const kj *bk;
    if (strcmp(k, ".") ? (bk = kj_get(b, k)) && intersect_v1(kj_at(a, i), bk, 0)
                       : member)
      i++;
    else
      kj_remove(a, k);
  }
  return kj_len(a) > 0;
}

/* ---- set algebra on entries in fieldsV1 form ------------------------------ */

/* What is left of fieldsV1 node a (not a leaf before) after removals, as
 * to_v1 would write it: 0 when nothing (a goes); a lone "." makes it a
 * leaf member, {}. */
static int v1_settle(kj *a)
{
  if (!kj_len(a))
    return 0;
  if (kj_len(a) == 1 && !strcmp(kj_key_at(a, 0), "."))
    kj_remove(a, ".");
  return 1;
}

/* a minus b (both normal fieldsV1 form) in place, as set_diff on their
 * internal forms then to_v1; 0 when nothing is left. */
static int diff_v1(kj *a, const kj *b)
{
  size_t i = 0;
  if (!kj_len(a)) /* a leaf member */
    return !v1_member(b);
  while (i < kj_len(a)) {
    const char *k = kj_key_at(a, i);
    if (strcmp(k, ".") ? diff_v1(kj_at(a, i), kj_get(b, k)) : !v1_member(b))
      i++;
    else
      kj_remove(a, k);
  }
  return v1_settle(a);
}

/* a (normal fieldsV1 form) intersected with b (fieldsV1 form, see
 * intersect_v1) in place; 0 when nothing is left. */
static int isect_v1v1(kj *a, const kj *b, int root)
{
  int member = !root && (!kj_len(b) || kj_get(b, "."));
  size_t i = 0;
  if (!kj_len(a))
    return member;
  while (i < kj_len(a)) {
    const char *k = kj_key_at(a, i);
    const kj *bk;
    if (strcmp(k, ".") ? (bk = kj_get(b, k)) && isect_v1v1(kj_at(a, i), bk, 0)
                       : member)
      i++;
    else
      kj_remove(a, k);
  }
  return v1_settle(a);
}

/* Adds b's members to a (both normal fieldsV1 form), as set_union_into
 * on their internal forms then to_v1: a leaf's "." stays first, a "."
 * joining fields goes last, new nodes are copies of b's. */
static int union_v1(kj *a, const kj *b)
{
  int leaf = !kj_len(a);
  size_t i;
  if (!kj_len(b)) /* a leaf member: a is one too, now */
    return leaf || kj_get(a, ".") ? 0 : kj_set(a, ".", kj_object());
  for (i = 0; i < kj_len(b); i++) {
    const char *k = kj_key_at(b, i);
    kj *c;
    if (!strcmp(k, ".")) {
      if (!leaf && !kj_get(a, ".") && kj_set(a, ".", kj_object()) < 0)
        return -ENOMEM;
      continue;
    }
    if (leaf && kj_set(a, ".", kj_object()) < 0)
      return -ENOMEM;
    leaf = 0;
    if ((c = kj_get(a, k))) {
      if (union_v1(c, kj_at(b, i)) < 0)
        return -ENOMEM;
    } else if (kj_set(a, k, kj_clone(kj_at(b, i))) < 0) {
      return -ENOMEM;
    }
  }
  return 0;
}

/* Adds b's members (normal fieldsV1 form) to a (internal form), as
 * set_union_into with b's internal form. */
static int union_into_v1(kj *a, const kj *b)
{
  size_t i;
  if (!kj_len(b))
    return kj_child_object(a, ".") ? 0 : -ENOMEM;
  for (i = 0; i < kj_len(b); i++) {
    const char *k = kj_key_at(b, i);
    kj *c = kj_child_object(a, k);
    if (!c || (strcmp(k, ".") && union_into_v1(c, kj_at(b, i)) < 0))
      return -ENOMEM;
  }
  return 0;
}

/* prune for record_update: against the object's set in fieldsV1 form
 * when update_sets made one, else against obj itself.  0 or -ENOMEM. */
static int prune_v1(struct entries *es, const kj *objset, const kj *obj,
                    const char *kind)
{
  struct oref root = {obj, O_ROOT, kapi_smp_kind_type(kind), 0, NULL,
                      SKIP_TOP};
  size_t i;
  int rc;
  for (i = 0; i < es->n; i++) {
    struct entry *e = &es->e[i];
    if (!e->set)
      continue;
    if (!objset)
      rc = isect_obj(e->set, &root, e->v1);
    else
      rc = e->v1 ? isect_v1v1(e->set, objset, 1)
                 : intersect_v1(e->set, objset, 1);
    if (rc < 0)
      return rc;
    if (!rc) {
      kj_free(e->set);
      e->set = NULL;
    }
  }
  return 0;
}

/* The members this write changed into *changed (new, fieldsV1 form: fewer
 * nodes than the internal form, and it may become an entry as it is): one
 * walk over obj and old together, where the general path resolves every
 * member's path from the root in both, parsing each list item's name back.
 * Falls back to that path for what the walk does not reproduce, which
 * also gives *objset, the object's set (new, fieldsV1 form) for prune to
 * use; else *objset is NULL: prune can match entries against obj itself,
 * no two of its list items sharing a name. */
static int update_sets(const kj *obj, const kj *old, const char *kind,
                       kj **objset, kj **changed)
{
  struct changed_ctx c = {obj, old, NULL};
  struct path p = {.n = 0};
  struct lazy root = {NULL, NULL, NULL};
  kj *set;
  int rc;

  *objset = NULL;
  *changed = root.node = kj_object();
  if (!*changed)
    return -ENOMEM;
  rc = upd_map(obj, old, kapi_smp_kind_type(kind), &root, 0, SKIP_TOP);
  if (rc != -EAGAIN)
    return rc;
  kj_free(*changed);
  *changed = c.changed = kj_object();
  set = set_of(obj, kind);
  if (!set || !*changed ||
      (rc = each_member(set, &p, note_changed, &c)) < 0) {
    kj_free(set);
    return -ENOMEM;
  }
  *objset = drop_memberless(set) ? to_v1(set) : kj_object();
  kj_free(set);
  /* Every node of changed holds a member: to_v1 keeps them all. */
  *changed = to_v1(c.changed);
  kj_free(c.changed);
  return *objset && *changed ? 0 : -ENOMEM;
}

int kapi_managed_record_update(kj *obj, const kj *old, const char *kind,
                               const char *manager, const char *api_version,
                               int64_t now)
{
  struct entries es = {0};
  kj *meta = kj_get(obj, "metadata"), *objset = NULL, *changed = NULL;
  char ts[32];
  size_t i;
  int rc = -ENOMEM;

  if (!meta)
    goto out;
  if (!old && !kj_get(meta, "managedFields")) {
    rc = record_create(obj, kind, manager, api_version, now);
    goto out;
  }
  if (!kj_get(meta, "managedFields") && kj_ptr(old, "/metadata/managedFields") &&
      kj_set(meta, "managedFields",
             kj_clone(kj_ptr(old, "/metadata/managedFields"))) < 0)
    goto out;
  /* The entries borrow obj's own managedFields: store_entries replaces
   * them only once it has copied what it needs. */
  if (load_entries(&es, kj_get(meta, "managedFields"), 1) < 0 ||
      update_sets(obj, old, kind, &objset, &changed) < 0)
    goto out;
  if (kj_len(changed)) {
    struct entry *mine = entry_of(&es, manager, "Update");
    for (i = 0; i < es.n; i++) {
      struct entry *x = &es.e[i];
      if (x == mine || !x->set ||
          (x->v1 ? diff_v1(x->set, changed) : diff_into(x->set, changed)))
        continue;
      kj_free(x->set);
      x->set = NULL;
    }
    if (!mine->set) { /* the union would copy changed as it is */
      mine->set = changed;
      mine->v1 = 1;
      changed = NULL;
    } else if ((mine->v1 ? union_v1(mine->set, changed)
                         : union_into_v1(mine->set, changed)) < 0) {
      goto out;
    }
    kapi_rfc3339(now, ts, sizeof ts);
    mine->api_version = api_version;
    mine->time = ts;
  } else if (!kj_get(meta, "managedFields")) {
    rc = 0;
    goto out;
  }
  if (prune_v1(&es, objset, obj, kind) < 0)
    goto out;
  rc = store_entries(obj, &es);
out:
  free_entries(&es);
  kj_free(changed);
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
      load_entries(&es, kj_ptr(*obj, "/metadata/managedFields"), 0) < 0)
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
