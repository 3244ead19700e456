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

/* malloc and a compound literal rather than calloc: measured cheaper
 * with glibc, and a parse makes one node per value. */
static kj *node_new(kj_type t)
{
  kj *v = malloc(sizeof *v);
  if (v)
    *v = (kj){.type = t};
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

/*
 * Member storage.  An object's keys[] live in the block of its items[],
 * right after items[cap], followed by a trailer; the keys of an object
 * built by the parser or kj_clone are one pool (NUL-separated) after the
 * trailer, in the same block.  So a parsed object of n members costs one
 * allocation, not 2 + n.  Keys added later (kj_set) are malloc'ed one by
 * one; a key is freed only if it is not in the pool.
 *
 * Pooled keys never move (the borrowed pointers kj_key_at hands out stay
 * valid as before): when such an object outgrows its block, the members
 * move to a new block and the old one is kept, as the pool's home, until
 * the object is freed.
 *
 * Only this file allocates, grows or frees these blocks.  Elsewhere
 * items[i] pointers are only swapped and whole nodes exchanged, which
 * keeps block, keys and trailer together.
 */
struct keypool {
  const char *start; /* NULL: no pool */
  size_t len;
  void *home; /* the older block holding the pool, or NULL: this one */
};

static size_t members_size(kj_type t, size_t cap)
{
  if (t != KJ_OBJECT)
    return cap * sizeof(kj *);
  return cap * (sizeof(kj *) + sizeof(char *)) + sizeof(struct keypool);
}

/* Points an object's keys into the block after items[cap]. */
static char **keys_of_block(kj **items, size_t cap)
{
  return (char **)(items + cap);
}

/* The trailer after an object's keys[cap]; only for cap > 0. */
static struct keypool *pool_of(const kj *o)
{
  return (struct keypool *)(o->u.c.keys + o->u.c.cap);
}

static int key_pooled(const kj *o, const char *k)
{
  const struct keypool *p = pool_of(o);
  uintptr_t x = (uintptr_t)k, start = (uintptr_t)p->start;
  return p->start && x >= start && x < start + p->len;
}

/*
 * Gives object o (no members yet) a block for n members and a key pool
 * of pool_len bytes (0: none), which the caller fills and points keys[]
 * into.  Returns the pool, or NULL when out of memory.
 */
static char *object_block(kj *o, size_t n, size_t pool_len)
{
  size_t size = members_size(KJ_OBJECT, n);
  kj **items = malloc(size + pool_len);
  char *pool;
  if (!items)
    return NULL;
  pool = (char *)items + size;
  o->u.c.items = items;
  o->u.c.keys = keys_of_block(items, n);
  o->u.c.cap = n;
  *pool_of(o) = (struct keypool){pool_len ? pool : NULL, pool_len, NULL};
  return pool;
}

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
    for (i = 0; i < v->u.c.n; i++)
      kj_free(v->u.c.items[i]);
    free(v->u.c.items);
    break;
  case KJ_OBJECT:
    for (i = 0; i < v->u.c.n; i++) {
      kj_free(v->u.c.items[i]);
      if (!key_pooled(v, v->u.c.keys[i]))
        free(v->u.c.keys[i]);
    }
    if (v->u.c.cap)
      free(pool_of(v)->home);
    free(v->u.c.items); /* with keys[] and maybe the pool */
    break;
  default:
    break;
  }
  free(v);
}

/* Grows a container so one more member fits. */
static int container_reserve(kj *c)
{
  size_t cap, old = c->u.c.cap;
  struct keypool t = {NULL, 0, NULL};
  kj **items;
  if (c->u.c.n < old)
    return 0;
  cap = old ? old * 2 : 4;
  if (c->type != KJ_OBJECT) {
    items = realloc(c->u.c.items, members_size(c->type, cap));
    if (!items)
      return -ENOMEM;
    c->u.c.items = items;
    c->u.c.cap = cap;
    return 0;
  }
  if (old)
    t = *pool_of(c);
  if (t.start && !t.home) { /* the pool stays put: the block becomes its home */
    items = malloc(members_size(KJ_OBJECT, cap));
    if (!items)
      return -ENOMEM;
    memcpy(items, c->u.c.items, c->u.c.n * sizeof *items);
    memcpy(keys_of_block(items, cap), c->u.c.keys,
           c->u.c.n * sizeof *c->u.c.keys);
    t.home = c->u.c.items;
  } else {
    items = realloc(c->u.c.items, members_size(KJ_OBJECT, cap));
    if (!items)
      return -ENOMEM;
    /* keys move up past the larger items[] */
    memmove(keys_of_block(items, cap), keys_of_block(items, old),
            c->u.c.n * sizeof *c->u.c.keys);
  }
  c->u.c.items = items;
  c->u.c.keys = keys_of_block(items, cap);
  c->u.c.cap = cap;
  *pool_of(c) = t;
  return 0;
}

/* Member lookups compare the first byte inline: most keys differ there,
 * and a call to strcmp per member cost more than the comparison. */
static long object_find(const kj *obj, const char *key)
{
  char *const *keys = obj->u.c.keys;
  size_t i, n = obj->u.c.n;
  for (i = 0; i < n; i++)
    if (keys[i][0] == key[0] && !strcmp(keys[i], key))
      return (long)i;
  return -1;
}

/* Fills c's sized members with clones of v's; frees c on failure. */
static kj *clone_items(kj *c, const kj *v)
{
  size_t i;
  for (i = 0; i < v->u.c.n; i++) {
    kj *item = kj_clone(v->u.c.items[i]);
    if (!item) {
      kj_free(c); /* frees the c->u.c.n members cloned so far */
      return NULL;
    }
    c->u.c.items[c->u.c.n++] = item;
  }
  return c;
}

/* An object's keys go back to back into a pool in its members' block. */
static kj *clone_object(const kj *v)
{
  size_t i, n = v->u.c.n, pool_len = 0, l;
  kj *c = node_new(KJ_OBJECT);
  char *p;
  if (!c || !n)
    return c;
  for (i = 0; i < n; i++)
    pool_len += strlen(v->u.c.keys[i]) + 1;
  p = object_block(c, n, pool_len);
  if (!p) {
    kj_free(c);
    return NULL;
  }
  for (i = 0; i < n; i++, p += l) {
    l = strlen(v->u.c.keys[i]) + 1;
    c->u.c.keys[i] = memcpy(p, v->u.c.keys[i], l);
  }
  return clone_items(c, v);
}

/* Sized once and filled in order: the source's keys are already unique,
 * so no lookup per member (kj_set's would make a clone quadratic). */
kj *kj_clone(const kj *v)
{
  kj *c;
  size_t n;
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
  case KJ_OBJECT:
    return clone_object(v);
  default:
    break;
  }
  c = node_new(v->type);
  n = v->u.c.n;
  if (!c || !n)
    return c;
  c->u.c.items = malloc(members_size(v->type, n));
  if (!c->u.c.items) {
    kj_free(c);
    return NULL;
  }
  c->u.c.cap = n;
  return clone_items(c, v);
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

/* Whether NUL-terminated key k is the n bytes at seg (which hold no NUL):
 * a byte loop stops at k's NUL, so a shorter key is never read past. */
static int key_is(const char *k, const char *seg, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (k[i] != seg[i])
      return 0;
  return k[n] == '\0';
}

/* Member `seg` (n bytes, already unescaped) of an object, in place. */
static kj *member_n(const kj *obj, const char *seg, size_t n)
{
  char *const *keys = obj->u.c.keys;
  size_t i, nk = obj->u.c.n;
  if (!n) {
    for (i = 0; i < nk; i++)
      if (!keys[i][0])
        return obj->u.c.items[i];
    return NULL;
  }
  for (i = 0; i < nk; i++)
    if (keys[i][0] == seg[0] && key_is(keys[i] + 1, seg + 1, n - 1))
      return obj->u.c.items[i];
  return NULL;
}

/* step() for a token given as (seg, n); tok is scratch (and may be seg). */
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
  memmove(tok, seg, n); /* anything else: parse_index decides, as before */
  tok[n] = '\0';
  return step(v, tok);
}

/*
 * Plugins read fields by pointer hundreds of times a request, so each
 * token is scanned once: found in place when it has no escapes, decoded
 * into tok (once) when it has; then matched by length, with no copy,
 * strlen or strncmp per member.  Tokens of 512 bytes or more never
 * match (the limit of the decoding buffer).
 */
kj *kj_ptr(const kj *root, const char *pointer)
{
  char tok[512];
  const kj *v = root;
  const char *p = pointer ? pointer : "";
  while (*p && v) {
    const char *seg;
    size_t n;
    int esc = 0;
    if (*p != '/')
      return NULL;
    seg = ++p;
    p += strcspn(p, "/~");
    if (*p == '~') {
      esc = 1;
      p = strchrnul(p, '/');
    }
    n = (size_t)(p - seg);
    if (esc) {
      const char *from = seg - 1;
      if (pointer_token(&from, tok, sizeof tok) < 0)
        return NULL;
      seg = tok;
      n = strlen(tok);
    } else if (n >= sizeof tok) {
      return NULL;
    }
    v = step_n(v, seg, n, tok);
  }
  return (kj *)v;
}

/* ---- mutators ------------------------------------------------------- */

/* Appends member key (keylen bytes, copied) = val (owned, freed on
 * error) to obj, which must not have it yet. */
static int append_member(kj *obj, const char *key, size_t keylen, kj *val)
{
  char *k = malloc(keylen + 1);
  int r = k ? container_reserve(obj) : -ENOMEM;
  if (r < 0) {
    free(k);
    kj_free(val);
    return r;
  }
  memcpy(k, key, keylen);
  k[keylen] = '\0';
  obj->u.c.keys[obj->u.c.n] = k;
  obj->u.c.items[obj->u.c.n++] = val;
  return 0;
}

int kj_set(kj *obj, const char *key, kj *val)
{
  long i;
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
  return append_member(obj, key, strlen(key), val);
}

/* kj_set without the lookup, for callers that know the key is new. */
int kj_append_member(kj *obj, const char *key, size_t keylen, kj *val)
{
  if (!obj || obj->type != KJ_OBJECT || !val || !key) {
    kj_free(val);
    return -EINVAL;
  }
  return append_member(obj, key, keylen, val);
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
    if (!key_pooled(c, c->u.c.keys[i]))
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
#define PENDING_INLINE 64
#define KEYS_INLINE 1024

/*
 * A member parsed but not yet in its container.  An open container's
 * members wait in parse_ctx.pend (a stack shared by all open
 * containers: a nested container's members sit above its parent's) and
 * move into one block of exactly their number when it closes, so a
 * parse neither grows nor reallocs a container.  Their keys wait the
 * same way in parse_ctx.keys, back to back, and become the object's
 * key pool in one copy.
 */
struct pending {
  uint32_t koff; /* the key's offset in parse_ctx.keys (objects only) */
  uint32_t klen;
  kj *val; /* owned */
};

/* A growing buffer that starts on the stack. */
struct scratch {
  char *p;
  size_t len, cap;
  char *inline_p;
};

/* The parse in progress. */
struct parse_ctx {
  kj *root;
  kj *stack[MAX_DEPTH];      /* the open containers */
  uint32_t first[MAX_DEPTH]; /* pend index of stack[d]'s first member */
  struct pending *pend;      /* pend_inline until that is full */
  size_t npend, cappend;
  struct scratch keys; /* the pending keys, NUL-terminated */
  uint32_t koff, klen; /* the last key, awaiting its value */
  int have_key;
  int depth;
  int error; /* -errno */
  char **dups;
  size_t ndups;
  int want_dups;
  struct pending pend_inline[PENDING_INLINE];
  char keys_inline[KEYS_INLINE];
};

/* Appends n bytes and a NUL; 0 or -errno. */
static int scratch_add(struct scratch *b, const char *s, size_t n)
{
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap * 2;
    char *p;
    while (b->len + n + 1 > cap)
      cap *= 2;
    if (cap > UINT32_MAX) /* pending offsets hold 32 bits */
      return -EOVERFLOW;
    if (b->p == b->inline_p) {
      p = malloc(cap);
      if (p)
        memcpy(p, b->p, b->len);
    } else {
      p = realloc(b->p, cap);
    }
    if (!p)
      return -ENOMEM;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, s, n);
  b->p[b->len + n] = '\0';
  b->len += n + 1;
  return 0;
}

/* The key naming open container stack[d] (d >= 1), or NULL in an array.
 * Only duplicate reports ask, so a scan of the parent's members is fine
 * (a duplicate container replaced an earlier one in place, so the entry
 * is not always the parent's last). */
static const char *container_name(const struct parse_ctx *c, int d)
{
  size_t i;
  if (c->stack[d - 1]->type != KJ_OBJECT)
    return NULL;
  for (i = c->first[d - 1]; i < c->first[d]; i++)
    if (c->pend[i].val == c->stack[d])
      return c->keys.p + c->pend[i].koff;
  return NULL;
}

/* The dotted path of the member `key` being added at the current depth:
 * the names of the open containers below the root, then key. */
static char *current_path(struct parse_ctx *c, const char *key)
{
  size_t len = strlen(key) + 1;
  const char *name;
  char *s, *p;
  int d;
  for (d = 1; d < c->depth; d++)
    if ((name = container_name(c, d)))
      len += strlen(name) + 1;
  s = p = malloc(len);
  if (!s)
    return NULL;
  for (d = 1; d < c->depth; d++)
    if ((name = container_name(c, d))) {
      p = stpcpy(p, name);
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

/* Index in pend of the open object's member named by the last key, or
 * -1.  Lengths first: most keys differ in length or first byte. */
static long pending_find(const struct parse_ctx *c)
{
  const char *key = c->keys.p + c->koff;
  size_t i;
  for (i = c->first[c->depth - 1]; i < c->npend; i++) {
    const struct pending *m = &c->pend[i];
    const char *k = c->keys.p + m->koff;
    if (m->klen == c->klen && k[0] == key[0] && !memcmp(k, key, c->klen))
      return (long)i;
  }
  return -1;
}

static int pending_grow(struct parse_ctx *c)
{
  size_t cap = c->cappend * 2;
  struct pending *p;
  if (c->pend == c->pend_inline) {
    p = malloc(cap * sizeof *p);
    if (p)
      memcpy(p, c->pend, c->npend * sizeof *p);
  } else {
    p = realloc(c->pend, cap * sizeof *p);
  }
  if (!p)
    return -ENOMEM;
  c->pend = p;
  c->cappend = cap;
  return 0;
}

/*
 * Adds v (owned; NULL means out of memory) as the next member of the
 * open container, with the last key if that is an object, or makes it
 * the root.  A duplicate key replaces the earlier value in its place
 * (the last wins, as in encoding/json), is reported, and its copy in
 * keys (the last thing there) dropped.  1 to go on, 0 to stop.
 */
static int place(struct parse_ctx *c, kj *v)
{
  struct pending *m;
  long j;
  if (!v) {
    c->error = -ENOMEM;
    return 0;
  }
  if (c->depth == 0) {
    c->root = v;
    return 1;
  }
  if (c->have_key && (j = pending_find(c)) >= 0) {
    note_duplicate(c, c->keys.p + c->koff);
    kj_free(c->pend[j].val);
    c->pend[j].val = v;
    c->keys.len = c->koff;
    c->have_key = 0;
    return c->error == 0;
  }
  if (c->npend == c->cappend && pending_grow(c) < 0) {
    kj_free(v);
    c->error = -ENOMEM;
    return 0;
  }
  m = &c->pend[c->npend++];
  m->koff = c->koff; /* not read in an array: no key came */
  m->klen = c->klen;
  m->val = v;
  c->have_key = 0;
  return 1;
}

static int on_null(void *ctx) { return place(ctx, kj_null()); }
static int on_bool(void *ctx, int b) { return place(ctx, kj_bool(b)); }

static int on_number(void *ctx, const char *s, size_t n)
{
  return place(ctx, text_node(KJ_NUMBER, s, n));
}

static int on_string(void *ctx, const unsigned char *s, size_t n)
{
  return place(ctx, text_node(KJ_STRING, (const char *)s, n));
}

/* The container is placed in its parent now, and filled when it ends. */
static int open_container(struct parse_ctx *c, kj_type t)
{
  kj *v;
  if (c->depth >= MAX_DEPTH) {
    c->error = -E2BIG;
    return 0;
  }
  if (c->npend >= UINT32_MAX) { /* first[] holds 32 bits */
    c->error = -EOVERFLOW;
    return 0;
  }
  v = node_new(t);
  if (!place(c, v))
    return 0;
  c->first[c->depth] = (uint32_t)c->npend;
  c->stack[c->depth++] = v;
  return 1;
}

static int on_start_map(void *ctx) { return open_container(ctx, KJ_OBJECT); }
static int on_start_array(void *ctx) { return open_container(ctx, KJ_ARRAY); }

/* Keys are cut at a NUL ("\u0000"), as the C strings they become: two
 * keys equal up to it are duplicates, as they always were. */
static int on_map_key(void *ctx, const unsigned char *s, size_t n)
{
  struct parse_ctx *c = ctx;
  size_t len = strnlen((const char *)s, n), off = c->keys.len;
  int r = scratch_add(&c->keys, (const char *)s, len);
  if (r < 0) {
    c->error = r;
    return 0;
  }
  c->koff = (uint32_t)off;
  c->klen = (uint32_t)len;
  c->have_key = 1;
  return 1;
}

/* Moves the closing container's members into one block of their size;
 * an object's keys (the end of keys, in member order) become its pool. */
static int on_end(void *ctx)
{
  struct parse_ctx *c = ctx;
  kj *top = c->stack[c->depth - 1];
  size_t first = c->first[c->depth - 1], n = c->npend - first, i, koff;
  char *pool;
  c->depth--;
  if (!n)
    return 1;
  if (top->type == KJ_OBJECT) {
    koff = c->pend[first].koff;
    pool = object_block(top, n, c->keys.len - koff);
    if (!pool) {
      c->error = -ENOMEM; /* the members stay in pend, freed with it */
      return 0;
    }
    memcpy(pool, c->keys.p + koff, c->keys.len - koff);
    for (i = 0; i < n; i++)
      top->u.c.keys[i] = pool + (c->pend[first + i].koff - koff);
    c->keys.len = koff;
  } else {
    top->u.c.items = malloc(n * sizeof *top->u.c.items);
    if (!top->u.c.items) {
      c->error = -ENOMEM;
      return 0;
    }
    top->u.c.cap = n;
  }
  for (i = 0; i < n; i++)
    top->u.c.items[i] = c->pend[first + i].val;
  top->u.c.n = n;
  c->npend = first;
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

/* Frees what a parse left: members still pending (open containers among
 * them hold none yet), the root, the duplicate paths not handed out. */
static void parse_ctx_free(struct parse_ctx *c)
{
  size_t i;
  for (i = 0; i < c->npend; i++)
    kj_free(c->pend[i].val);
  if (c->pend != c->pend_inline)
    free(c->pend);
  if (c->keys.p != c->keys_inline)
    free(c->keys.p);
  for (i = 0; i < c->ndups; i++)
    free(c->dups[i]);
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
   * stack[], first[], pend[] and the key buffer are only read below
   * depth, npend and keys.len. */
  struct parse_ctx ctx, *c = &ctx;
  yajl_handle h;
  yajl_status st;
  int r = 0;

  c->root = NULL;
  c->keys = (struct scratch){c->keys_inline, 0, KEYS_INLINE, c->keys_inline};
  c->koff = c->klen = 0;
  c->have_key = 0;
  c->pend = c->pend_inline;
  c->npend = 0;
  c->cappend = PENDING_INLINE;
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
      else if (c->error == -EOVERFLOW)
        snprintf(err, errlen, "JSON document too large");
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

/*
 * Output sink for yajl_gen.  yajl calls it once per fragment (a quote,
 * a colon, a run of plain bytes): ~1,400 times for a 3.7 KB Pod.  So the
 * common case is one compare and one copy; growing is out of line, and
 * the NUL is written once, at the end, not per fragment.  Invariant once
 * buf is set: len < cap, so the NUL always fits.
 */
struct sink {
  char *buf;
  size_t len, cap;
  char *stack; /* kj_dump's on-stack first buffer, or NULL */
  int error;
};

/* Makes room for n more bytes and the NUL; 0 or -ENOMEM (kept in k). */
static int sink_grow(struct sink *k, size_t n)
{
  size_t cap = k->cap ? k->cap : 256;
  char *b;
  if (k->error)
    return k->error;
  while (k->len + n + 1 > cap)
    cap *= 2;
  if (k->buf && k->buf == k->stack) { /* leave the stack buffer */
    b = malloc(cap);
    if (b)
      memcpy(b, k->buf, k->len);
  } else {
    b = realloc(k->buf, cap);
  }
  if (!b)
    return k->error = -ENOMEM;
  k->buf = b;
  k->cap = cap;
  return 0;
}

/* Growing path of sink_write; kept apart so sink_write only makes tail
 * calls and needs no stack frame. */
static void sink_write_slow(struct sink *k, const char *s, size_t n)
{
  if (sink_grow(k, n) < 0)
    return;
  memcpy(k->buf + k->len, s, n);
  k->len += n;
}

static void sink_write(void *ctx, const char *s, size_t n)
{
  struct sink *k = ctx;
  size_t at = k->len;
  if (at + n >= k->cap)
    return sink_write_slow(k, s, n);
  k->len = at + n;
  if (n == 1) /* quotes, colons, commas, brackets: most calls */
    k->buf[at] = *s;
  else
    memcpy(k->buf + at, s, n);
}

/* Writes v into k; NUL-terminates what was written. */
static int dump_into(const kj *v, struct sink *k)
{
  yajl_gen g = yajl_gen_alloc(NULL);
  int r;
  if (!g)
    return -ENOMEM;
  yajl_gen_config(g, yajl_gen_print_callback, sink_write, k);
  r = gen_value(g, v) == yajl_gen_status_ok ? 0 : -EINVAL;
  yajl_gen_free(g);
  if (k->buf && k->len < k->cap) /* else nothing was written to a full one */
    k->buf[k->len] = '\0';
  return k->error ? k->error : r;
}

int kj_dump_append(const kj *v, char **buf, size_t *len, size_t *cap)
{
  struct sink k = {*buf, *len, *cap, NULL, 0};
  int r = dump_into(v, &k);
  *buf = k.buf;
  *len = k.len;
  *cap = k.cap;
  return r;
}

/* Most documents fit the stack buffer: the result is then one malloc of
 * exactly the output's size, instead of a realloc per doubling. */
#define DUMP_STACK 4096

char *kj_dump(const kj *v, size_t *ret_len)
{
  char stack[DUMP_STACK], *out;
  struct sink k = {stack, 0, sizeof stack, stack, 0};
  if (!v || dump_into(v, &k) < 0) {
    if (k.buf != stack)
      free(k.buf);
    return NULL;
  }
  if (k.buf == stack) {
    out = malloc(k.len + 1);
    if (!out)
      return NULL;
    memcpy(out, stack, k.len + 1);
  } else {
    out = k.buf;
  }
  if (ret_len)
    *ret_len = k.len;
  return out;
}
