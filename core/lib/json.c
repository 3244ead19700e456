/*
 * json.c - the JSON document model: parsing with yajl's event parser
 * into mutable nodes, and writing with yajl_gen.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#include "json.h"

/* ---- nodes ---------------------------------------------------------- */

static kj *node_new(kj_type t)
{
  kj *v = calloc(1, sizeof *v);
  if (v)
    v->type = t;
  return v;
}

kj *kj_null(void) { return node_new(KJ_NULL); }

kj *kj_bool(int b)
{
  kj *v = node_new(KJ_BOOL);
  if (v)
    v->u.boolean = !!b;
  return v;
}

static kj *text_node(kj_type t, const char *s, size_t n)
{
  kj *v = node_new(t);
  if (!v)
    return NULL;
  v->u.str.s = malloc(n + 1);
  if (!v->u.str.s) {
    free(v);
    return NULL;
  }
  memcpy(v->u.str.s, s, n);
  v->u.str.s[n] = '\0';
  v->u.str.len = n;
  return v;
}

kj *kj_int(int64_t i)
{
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%" PRId64, i);
  return text_node(KJ_NUMBER, buf, (size_t)n);
}

kj *kj_number_text(const char *text)
{
  return text_node(KJ_NUMBER, text, strlen(text));
}

kj *kj_string(const char *s) { return text_node(KJ_STRING, s, strlen(s)); }
kj *kj_stringn(const char *s, size_t n) { return text_node(KJ_STRING, s, n); }
kj *kj_array(void) { return node_new(KJ_ARRAY); }
kj *kj_object(void) { return node_new(KJ_OBJECT); }

void kj_free(kj *v)
{
  size_t i;
  if (!v)
    return;
  switch (v->type) {
  case KJ_NUMBER:
  case KJ_STRING:
    free(v->u.str.s);
    break;
  case KJ_ARRAY:
  case KJ_OBJECT:
    for (i = 0; i < v->u.c.n; i++) {
      kj_free(v->u.c.items[i]);
      if (v->u.c.keys)
        free(v->u.c.keys[i]);
    }
    free(v->u.c.items);
    free(v->u.c.keys);
    break;
  default:
    break;
  }
  free(v);
}

/* Grows a container so one more member fits. */
static int container_reserve(kj *c)
{
  size_t cap;
  kj **items;
  char **keys;
  if (c->u.c.n < c->u.c.cap)
    return 0;
  cap = c->u.c.cap ? c->u.c.cap * 2 : 4;
  items = realloc(c->u.c.items, cap * sizeof *items);
  if (!items)
    return -ENOMEM;
  c->u.c.items = items;
  if (c->type == KJ_OBJECT) {
    keys = realloc(c->u.c.keys, cap * sizeof *keys);
    if (!keys)
      return -ENOMEM;
    c->u.c.keys = keys;
  }
  c->u.c.cap = cap;
  return 0;
}

static long object_find(const kj *obj, const char *key)
{
  size_t i;
  for (i = 0; i < obj->u.c.n; i++)
    if (!strcmp(obj->u.c.keys[i], key))
      return (long)i;
  return -1;
}

/* Sized once and filled in order: the source's keys are already unique,
 * so no lookup per member (kj_set's would make a clone quadratic). */
kj *kj_clone(const kj *v)
{
  kj *c;
  size_t i, n;
  if (!v)
    return NULL;
  switch (v->type) {
  case KJ_NULL:
    return kj_null();
  case KJ_BOOL:
    return kj_bool(v->u.boolean);
  case KJ_NUMBER:
  case KJ_STRING:
    return text_node(v->type, v->u.str.s, v->u.str.len);
  default:
    break;
  }
  c = node_new(v->type);
  n = v->u.c.n;
  if (!c || !n)
    return c;
  c->u.c.items = malloc(n * sizeof *c->u.c.items);
  if (v->type == KJ_OBJECT)
    c->u.c.keys = malloc(n * sizeof *c->u.c.keys);
  if (!c->u.c.items || (v->type == KJ_OBJECT && !c->u.c.keys)) {
    kj_free(c);
    return NULL;
  }
  c->u.c.cap = n;
  for (i = 0; i < n; i++) {
    kj *item = kj_clone(v->u.c.items[i]);
    char *k = NULL;
    if (item && v->type == KJ_OBJECT && !(k = strdup(v->u.c.keys[i]))) {
      kj_free(item);
      item = NULL;
    }
    if (!item) {
      kj_free(c); /* frees the c->u.c.n members cloned so far */
      return NULL;
    }
    if (k)
      c->u.c.keys[i] = k;
    c->u.c.items[c->u.c.n++] = item;
  }
  return c;
}

/* ---- accessors ------------------------------------------------------ */

kj *kj_get(const kj *obj, const char *key)
{
  long i;
  if (!obj || obj->type != KJ_OBJECT)
    return NULL;
  i = object_find(obj, key);
  return i < 0 ? NULL : obj->u.c.items[i];
}

kj *kj_at(const kj *arr, size_t i)
{
  if (!arr || (arr->type != KJ_ARRAY && arr->type != KJ_OBJECT) ||
      i >= arr->u.c.n)
    return NULL;
  return arr->u.c.items[i];
}

size_t kj_len(const kj *v)
{
  if (!v || (v->type != KJ_ARRAY && v->type != KJ_OBJECT))
    return 0;
  return v->u.c.n;
}

const char *kj_key_at(const kj *obj, size_t i)
{
  if (!obj || obj->type != KJ_OBJECT || i >= obj->u.c.n)
    return NULL;
  return obj->u.c.keys[i];
}

const char *kj_str(const kj *v)
{
  return v && v->type == KJ_STRING ? v->u.str.s : NULL;
}

const char *kj_get_str(const kj *obj, const char *key)
{
  return kj_str(kj_get(obj, key));
}

int kj_to_int(const kj *v, int64_t *ret)
{
  char *end;
  long long x;
  if (!v || v->type != KJ_NUMBER)
    return -EINVAL;
  errno = 0;
  x = strtoll(v->u.str.s, &end, 10);
  if (errno || *end)
    return -EINVAL;
  *ret = x;
  return 0;
}

int kj_is_true(const kj *v) { return v && v->type == KJ_BOOL && v->u.boolean; }

int kj_equal(const kj *a, const kj *b)
{
  size_t i;
  if (!a || !b)
    return a == b;
  if (a->type != b->type)
    return 0;
  switch (a->type) {
  case KJ_NULL:
    return 1;
  case KJ_BOOL:
    return a->u.boolean == b->u.boolean;
  case KJ_NUMBER:
    if (a->u.str.len == b->u.str.len &&
        !memcmp(a->u.str.s, b->u.str.s, a->u.str.len))
      return 1;
    return strtod(a->u.str.s, NULL) == strtod(b->u.str.s, NULL);
  case KJ_STRING:
    return a->u.str.len == b->u.str.len &&
           !memcmp(a->u.str.s, b->u.str.s, a->u.str.len);
  case KJ_ARRAY:
    if (a->u.c.n != b->u.c.n)
      return 0;
    for (i = 0; i < a->u.c.n; i++)
      if (!kj_equal(a->u.c.items[i], b->u.c.items[i]))
        return 0;
    return 1;
  case KJ_OBJECT:
    if (a->u.c.n != b->u.c.n)
      return 0;
    for (i = 0; i < a->u.c.n; i++)
      if (!kj_equal(a->u.c.items[i], kj_get(b, a->u.c.keys[i])))
        return 0;
    return 1;
  }
  return 0;
}

/*
 * Decodes the next reference token of a JSON pointer into tok (with ~1
 * and ~0 unescaped).  *p points at the '/' before it; it is advanced.
 */
static int pointer_token(const char **p, char *tok, size_t toklen)
{
  const char *s = *p;
  size_t n = 0;
  if (*s != '/')
    return -EINVAL;
  s++;
  while (*s && *s != '/') {
    char ch = *s++;
    if (ch == '~') {
      if (*s == '0')
        ch = '~';
      else if (*s == '1')
        ch = '/';
      else
        return -EINVAL;
      s++;
    }
    if (n + 1 >= toklen)
      return -ENAMETOOLONG;
    tok[n++] = ch;
  }
  tok[n] = '\0';
  *p = s;
  return 0;
}

static int parse_index(const char *tok, size_t *ret)
{
  char *end;
  unsigned long i;
  if (!*tok || (tok[0] == '0' && tok[1]))
    return -EINVAL;
  errno = 0;
  i = strtoul(tok, &end, 10);
  if (errno || *end || tok[0] == '-')
    return -EINVAL;
  *ret = i;
  return 0;
}

static kj *step(const kj *v, const char *tok)
{
  size_t i;
  if (!v)
    return NULL;
  if (v->type == KJ_OBJECT)
    return kj_get(v, tok);
  if (v->type == KJ_ARRAY && parse_index(tok, &i) == 0)
    return kj_at(v, i);
  return NULL;
}

/* Member `seg` (n bytes, no escapes) of an object: no copy of the token. */
static kj *member_n(const kj *obj, const char *seg, size_t n)
{
  size_t i;
  for (i = 0; i < obj->u.c.n; i++)
    if (!strncmp(obj->u.c.keys[i], seg, n) && obj->u.c.keys[i][n] == '\0')
      return obj->u.c.items[i];
  return NULL;
}

/* step() for an unescaped token given as (seg, n); tok is scratch. */
static kj *step_n(const kj *v, const char *seg, size_t n, char *tok)
{
  size_t i, idx = 0;
  if (v->type == KJ_OBJECT)
    return member_n(v, seg, n);
  if (v->type != KJ_ARRAY)
    return NULL;
  for (i = 0; i < n && i < 18 && seg[i] >= '0' && seg[i] <= '9'; i++)
    idx = idx * 10 + (size_t)(seg[i] - '0');
  if (i == n && n && !(seg[0] == '0' && n > 1))
    return kj_at(v, idx);
  memcpy(tok, seg, n); /* anything else: parse_index decides, as before */
  tok[n] = '\0';
  return step(v, tok);
}

/* Plugins read fields by pointer hundreds of times a request: tokens
 * without escapes are matched in place instead of copied out first. */
kj *kj_ptr(const kj *root, const char *pointer)
{
  char tok[512];
  const kj *v = root;
  const char *p = pointer ? pointer : "";
  while (*p && v) {
    const char *seg = p + 1, *end;
    size_t n;
    if (*p != '/')
      return NULL;
    end = seg + strcspn(seg, "/~");
    if (*end == '~') {
      if (pointer_token(&p, tok, sizeof tok) < 0)
        return NULL;
      v = step(v, tok);
      continue;
    }
    n = (size_t)(end - seg);
    if (n >= sizeof tok)
      return NULL;
    v = step_n(v, seg, n, tok);
    p = end;
  }
  return (kj *)v;
}

/* ---- mutators ------------------------------------------------------- */

int kj_set(kj *obj, const char *key, kj *val)
{
  long i;
  int r;
  char *k;
  if (!obj || obj->type != KJ_OBJECT || !val) {
    kj_free(val);
    return -EINVAL;
  }
  i = object_find(obj, key);
  if (i >= 0) {
    kj_free(obj->u.c.items[i]);
    obj->u.c.items[i] = val;
    return 0;
  }
  k = strdup(key);
  r = k ? container_reserve(obj) : -ENOMEM;
  if (r < 0) {
    free(k);
    kj_free(val);
    return r;
  }
  obj->u.c.keys[obj->u.c.n] = k;
  obj->u.c.items[obj->u.c.n++] = val;
  return 0;
}

int kj_append(kj *arr, kj *val)
{
  int r;
  if (!arr || arr->type != KJ_ARRAY || !val) {
    kj_free(val);
    return -EINVAL;
  }
  r = container_reserve(arr);
  if (r < 0) {
    kj_free(val);
    return r;
  }
  arr->u.c.items[arr->u.c.n++] = val;
  return 0;
}

static void container_delete(kj *c, size_t i)
{
  kj_free(c->u.c.items[i]);
  memmove(&c->u.c.items[i], &c->u.c.items[i + 1],
          (c->u.c.n - i - 1) * sizeof *c->u.c.items);
  if (c->u.c.keys) {
    free(c->u.c.keys[i]);
    memmove(&c->u.c.keys[i], &c->u.c.keys[i + 1],
            (c->u.c.n - i - 1) * sizeof *c->u.c.keys);
  }
  c->u.c.n--;
}

int kj_remove(kj *obj, const char *key)
{
  long i;
  if (!obj || obj->type != KJ_OBJECT)
    return -EINVAL;
  i = object_find(obj, key);
  if (i < 0)
    return -ENOENT;
  container_delete(obj, (size_t)i);
  return 0;
}

int kj_remove_at(kj *arr, size_t i)
{
  if (!arr || arr->type != KJ_ARRAY || i >= arr->u.c.n)
    return -EINVAL;
  container_delete(arr, i);
  return 0;
}

/* Sets `val` as member `tok` of container c (see kj_set_ptr). */
static int set_member(kj *c, const char *tok, kj *val)
{
  size_t i;
  if (c->type == KJ_OBJECT)
    return kj_set(c, tok, val);
  if (c->type == KJ_ARRAY) {
    if (!strcmp(tok, "-"))
      return kj_append(c, val);
    if (parse_index(tok, &i) == 0 && i < c->u.c.n) {
      kj_free(c->u.c.items[i]);
      c->u.c.items[i] = val;
      return 0;
    }
  }
  kj_free(val);
  return -EINVAL;
}

int kj_set_ptr(kj *root, const char *pointer, kj *val)
{
  char tok[512];
  const char *p = pointer;
  kj *v = root;
  int r;
  if (!root || !val || !*pointer) {
    kj_free(val);
    return -EINVAL;
  }
  for (;;) {
    r = pointer_token(&p, tok, sizeof tok);
    if (r < 0) {
      kj_free(val);
      return r;
    }
    if (!*p)
      return set_member(v, tok, val);
    kj *next = step(v, tok);
    if (!next) {
      if (v->type != KJ_OBJECT) {
        kj_free(val);
        return -EINVAL;
      }
      next = kj_child_object(v, tok);
      if (!next) {
        kj_free(val);
        return -ENOMEM;
      }
    }
    v = next;
  }
}

int kj_remove_ptr(kj *root, const char *pointer)
{
  char tok[512];
  const char *last;
  char *parent_ptr;
  kj *parent;
  size_t i;
  if (!pointer || !*pointer)
    return -EINVAL;
  last = strrchr(pointer, '/');
  if (!last)
    return -EINVAL;
  parent_ptr = strndup(pointer, (size_t)(last - pointer));
  if (!parent_ptr)
    return -ENOMEM;
  parent = kj_ptr(root, parent_ptr);
  free(parent_ptr);
  if (pointer_token(&last, tok, sizeof tok) < 0 || !parent)
    return -ENOENT;
  if (parent->type == KJ_OBJECT)
    return kj_remove(parent, tok);
  if (parent->type == KJ_ARRAY && parse_index(tok, &i) == 0)
    return kj_remove_at(parent, i) < 0 ? -ENOENT : 0;
  return -ENOENT;
}

int kj_set_str(kj *obj, const char *key, const char *s)
{
  return kj_set(obj, key, kj_string(s));
}

int kj_set_int(kj *obj, const char *key, int64_t i)
{
  return kj_set(obj, key, kj_int(i));
}

kj *kj_child_object(kj *obj, const char *key)
{
  kj *c = kj_get(obj, key);
  if (c)
    return c->type == KJ_OBJECT ? c : NULL;
  c = kj_object();
  if (!c || kj_set(obj, key, c) < 0)
    return NULL;
  return c;
}

/* ---- parsing -------------------------------------------------------- */

#define MAX_DEPTH 256

/* The parse in progress: a stack of open containers and the pending key
 * of each open object. */
struct parse_ctx {
  kj *root;
  kj *stack[MAX_DEPTH];
  char *keys[MAX_DEPTH];
  int depth;
  int error; /* -errno */
  char **dups;
  size_t ndups;
  int want_dups;
};

/* The dotted path of the member being added at the current depth. */
static char *current_path(struct parse_ctx *c, const char *key)
{
  size_t len = 0, i;
  char *s, *p;
  /* keys[0..depth-2] name the open containers; the last is `key`. */
  for (i = 0; i + 1 < (size_t)c->depth; i++)
    if (c->keys[i])
      len += strlen(c->keys[i]) + 1;
  len += strlen(key) + 1;
  s = p = malloc(len);
  if (!s)
    return NULL;
  for (i = 0; i + 1 < (size_t)c->depth; i++)
    if (c->keys[i]) {
      p = stpcpy(p, c->keys[i]);
      *p++ = '.';
    }
  strcpy(p, key);
  return s;
}

static void note_duplicate(struct parse_ctx *c, const char *key)
{
  char **d;
  char *path;
  if (!c->want_dups)
    return;
  path = current_path(c, key);
  d = path ? realloc(c->dups, (c->ndups + 1) * sizeof *d) : NULL;
  if (!d) {
    free(path);
    c->error = -ENOMEM;
    return;
  }
  c->dups = d;
  c->dups[c->ndups++] = path;
}

/*
 * Adds a value to the open container (or makes it the root).  The key
 * naming a container is kept until the container ends, so duplicate
 * paths can name their parents.
 */
static int attach(struct parse_ctx *c, kj *v, int keep_key)
{
  kj *top;
  char *key;
  long i;
  int r;
  if (!v) {
    c->error = -ENOMEM;
    return 0;
  }
  if (c->depth == 0) {
    c->root = v;
    return 1;
  }
  top = c->stack[c->depth - 1];
  if (top->type == KJ_ARRAY) {
    r = kj_append(top, v);
    if (r < 0)
      c->error = r;
    return c->error == 0;
  }
  /* One lookup per member: a duplicate replaces the earlier value (the
   * last wins), a new key is appended.  A scalar's key is handed to the
   * object instead of copied; a container's stays in keys[] until the
   * container ends, so duplicate paths can name their parents. */
  key = c->keys[c->depth - 1];
  i = object_find(top, key);
  if (i >= 0) {
    note_duplicate(c, key);
    kj_free(top->u.c.items[i]);
    top->u.c.items[i] = v;
    if (!keep_key) {
      free(key);
      c->keys[c->depth - 1] = NULL;
    }
    return c->error == 0;
  }
  if (!keep_key)
    c->keys[c->depth - 1] = NULL;
  else
    key = strdup(key);
  r = key ? container_reserve(top) : -ENOMEM;
  if (r < 0) {
    free(key);
    kj_free(v);
    c->error = r;
    return 0;
  }
  top->u.c.keys[top->u.c.n] = key;
  top->u.c.items[top->u.c.n++] = v;
  return c->error == 0;
}

static int add_value(struct parse_ctx *c, kj *v) { return attach(c, v, 0); }

static int on_null(void *ctx) { return add_value(ctx, kj_null()); }
static int on_bool(void *ctx, int b) { return add_value(ctx, kj_bool(b)); }

static int on_number(void *ctx, const char *s, size_t n)
{
  return add_value(ctx, text_node(KJ_NUMBER, s, n));
}

static int on_string(void *ctx, const unsigned char *s, size_t n)
{
  return add_value(ctx, kj_stringn((const char *)s, n));
}

static int open_container(struct parse_ctx *c, kj_type t)
{
  kj *v;
  if (c->depth >= MAX_DEPTH) {
    c->error = -E2BIG;
    return 0;
  }
  v = node_new(t);
  if (!v) {
    c->error = -ENOMEM;
    return 0;
  }
  /* The container is attached to its parent now, and filled later. */
  if (c->depth > 0 && !attach(c, v, 1))
    return 0;
  if (c->depth == 0)
    c->root = v;
  c->keys[c->depth] = NULL;
  c->stack[c->depth++] = v;
  if (c->depth < MAX_DEPTH)
    c->keys[c->depth] = NULL; /* keys[0..depth] stay initialized */
  return 1;
}

static int on_start_map(void *ctx) { return open_container(ctx, KJ_OBJECT); }
static int on_start_array(void *ctx) { return open_container(ctx, KJ_ARRAY); }

static int on_map_key(void *ctx, const unsigned char *s, size_t n)
{
  struct parse_ctx *c = ctx;
  free(c->keys[c->depth - 1]);
  c->keys[c->depth - 1] = strndup((const char *)s, n);
  if (!c->keys[c->depth - 1]) {
    c->error = -ENOMEM;
    return 0;
  }
  return 1;
}

static int on_end(void *ctx)
{
  struct parse_ctx *c = ctx;
  c->depth--;
  free(c->keys[c->depth]);
  c->keys[c->depth] = NULL;
  if (c->depth > 0) { /* the key that named the closed container */
    free(c->keys[c->depth - 1]);
    c->keys[c->depth - 1] = NULL;
  }
  return 1;
}

static const yajl_callbacks parse_callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_bool,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end,
};

static void parse_ctx_free(struct parse_ctx *c)
{
  int i;
  for (i = 0; i < MAX_DEPTH && i <= c->depth; i++)
    free(c->keys[i]);
  for (size_t d = 0; d < c->ndups; d++)
    free(c->dups[d]);
  free(c->dups);
  kj_free(c->root);
}

/* Copies yajl's error text, folded onto one line. */
static void copy_error(yajl_handle h, const char *buf, size_t len, char *err,
                       size_t errlen)
{
  unsigned char *msg = yajl_get_error(h, 0, (const unsigned char *)buf, len);
  char *p;
  snprintf(err, errlen, "%s", msg ? (char *)msg : "invalid JSON");
  for (p = err; *p; p++)
    if (*p == '\n')
      *p = ' ';
  if (p > err && p[-1] == ' ')
    p[-1] = '\0';
  yajl_free_error(h, msg);
}

int kj_parse_dups(const char *buf, size_t len, kj **ret, char ***dups,
                  size_t *ndups, char *err, size_t errlen)
{
  /* On the stack and not zeroed: a 4 KB calloc per parse cost a memset
   * and, being a large request, a consolidation of glibc's fastbins.
   * keys[0..depth] are kept initialized (see open_container). */
  struct parse_ctx ctx, *c = &ctx;
  yajl_handle h;
  yajl_status st;
  int r = 0;

  c->root = NULL;
  c->keys[0] = NULL;
  c->depth = 0;
  c->error = 0;
  c->dups = NULL;
  c->ndups = 0;
  c->want_dups = dups != NULL;
  h = yajl_alloc(&parse_callbacks, NULL, c);
  if (!h)
    return -ENOMEM;
  st = yajl_parse(h, (const unsigned char *)buf, len);
  if (st == yajl_status_ok)
    st = yajl_complete_parse(h);
  if (st != yajl_status_ok || c->error || !c->root) {
    r = c->error ? c->error : -EINVAL;
    if (err && errlen) {
      if (c->error == -E2BIG)
        snprintf(err, errlen, "JSON nesting deeper than %d", MAX_DEPTH);
      else if (st != yajl_status_ok)
        copy_error(h, buf, len, err, errlen);
      else
        snprintf(err, errlen, "empty JSON document");
    }
    yajl_free(h);
    parse_ctx_free(c);
    return r;
  }
  yajl_free(h);
  *ret = c->root;
  c->root = NULL;
  if (dups) {
    *dups = c->dups;
    *ndups = c->ndups;
    c->dups = NULL;
    c->ndups = 0;
  }
  parse_ctx_free(c);
  return 0;
}

int kj_parse(const char *buf, size_t len, kj **ret, char *err, size_t errlen)
{
  return kj_parse_dups(buf, len, ret, NULL, NULL, err, errlen);
}

/* ---- writing -------------------------------------------------------- */

static int gen_value(yajl_gen g, const kj *v)
{
  size_t i;
  switch (v->type) {
  case KJ_NULL:
    return yajl_gen_null(g);
  case KJ_BOOL:
    return yajl_gen_bool(g, v->u.boolean);
  case KJ_NUMBER:
    return yajl_gen_number(g, v->u.str.s, v->u.str.len);
  case KJ_STRING:
    return yajl_gen_string(g, (const unsigned char *)v->u.str.s,
                           v->u.str.len);
  case KJ_ARRAY:
    yajl_gen_array_open(g);
    for (i = 0; i < v->u.c.n; i++)
      if (gen_value(g, v->u.c.items[i]) != yajl_gen_status_ok)
        return -EINVAL;
    return yajl_gen_array_close(g);
  case KJ_OBJECT:
    yajl_gen_map_open(g);
    for (i = 0; i < v->u.c.n; i++) {
      const char *k = v->u.c.keys[i];
      yajl_gen_string(g, (const unsigned char *)k, strlen(k));
      if (gen_value(g, v->u.c.items[i]) != yajl_gen_status_ok)
        return -EINVAL;
    }
    return yajl_gen_map_close(g);
  }
  return -EINVAL;
}

/* Output sink for yajl_gen: appends to a growing buffer. */
struct sink {
  char **buf;
  size_t *len, *cap;
  int error;
};

static void sink_write(void *ctx, const char *s, size_t n)
{
  struct sink *k = ctx;
  if (k->error)
    return;
  if (*k->len + n + 1 > *k->cap) {
    size_t cap = *k->cap ? *k->cap : 256;
    char *b;
    while (*k->len + n + 1 > cap)
      cap *= 2;
    b = realloc(*k->buf, cap);
    if (!b) {
      k->error = -ENOMEM;
      return;
    }
    *k->buf = b;
    *k->cap = cap;
  }
  memcpy(*k->buf + *k->len, s, n);
  *k->len += n;
  (*k->buf)[*k->len] = '\0';
}

int kj_dump_append(const kj *v, char **buf, size_t *len, size_t *cap)
{
  struct sink k = {buf, len, cap, 0};
  yajl_gen g = yajl_gen_alloc(NULL);
  int r;
  if (!g)
    return -ENOMEM;
  yajl_gen_config(g, yajl_gen_print_callback, sink_write, &k);
  r = gen_value(g, v) == yajl_gen_status_ok ? 0 : -EINVAL;
  yajl_gen_free(g);
  return k.error ? k.error : r;
}

char *kj_dump(const kj *v, size_t *ret_len)
{
  char *buf = NULL;
  size_t len = 0, cap = 0;
  if (!v || kj_dump_append(v, &buf, &len, &cap) < 0) {
    free(buf);
    return NULL;
  }
  if (ret_len)
    *ret_len = len;
  return buf;
}
