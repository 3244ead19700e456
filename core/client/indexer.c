/*
 * indexer.c - upstream's thread-safe store with indices
 * (client-go tools/cache threadSafeMap): objects by key, and for every
 * named index a map from index value to the set of keys having it.
 *
 * A read-write lock lets any number of readers (listers in controllers)
 * run beside each other; only the informer's thread writes.  Index
 * values of an object are computed before taking the lock, so a slow
 * index function never blocks readers.
 */
#include "informer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

typedef struct index {
  char *name;
  kapi_index_fn fn;
  kapi__strmap *values; /* value -> kapi__strmap set of keys */
} index_t;

struct kapi_indexer {
  pthread_rwlock_t lock;
  kapi__strmap *items; /* key -> kapi_cobj (one reference) */
  index_t *idx;
  size_t nidx;
};

/* The values of one object for every index. */
typedef struct values {
  char **v;
  size_t n;
} values_t;

static void strv_free(char **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

static void values_free(values_t *vals, size_t nidx)
{
  if (!vals)
    return;
  for (size_t i = 0; i < nidx; i++)
    strv_free(vals[i].v, vals[i].n);
  free(vals);
}

static void set_free(void *set)
{
  kapi__strmap_free(set, NULL);
}

kapi_indexer *kapi_indexer_new(void)
{
  kapi_indexer *ix = calloc(1, sizeof *ix);

  if (!ix)
    return NULL;
  ix->items = kapi__strmap_new();
  if (!ix->items || pthread_rwlock_init(&ix->lock, NULL) != 0) {
    kapi__strmap_free(ix->items, NULL);
    free(ix);
    return NULL;
  }
  return ix;
}

static void unref_cobj(void *o)
{
  kapi_cobj_unref(o);
}

void kapi_indexer_free(kapi_indexer *ix)
{
  if (!ix)
    return;
  for (size_t i = 0; i < ix->nidx; i++) {
    free(ix->idx[i].name);
    kapi__strmap_free(ix->idx[i].values, set_free);
  }
  free(ix->idx);
  kapi__strmap_free(ix->items, unref_cobj);
  pthread_rwlock_destroy(&ix->lock);
  free(ix);
}

/* ---- index maintenance (caller holds the write lock) --------------------- */

static int index_insert(index_t *x, const char *value, const char *key)
{
  kapi__strmap *set = kapi__strmap_get(x->values, value);
  int r;

  if (!set) {
    set = kapi__strmap_new();
    if (!set)
      return -ENOMEM;
    r = kapi__strmap_put(x->values, value, set, NULL);
    if (r < 0) {
      kapi__strmap_free(set, NULL);
      return r;
    }
  }
  r = kapi__strmap_put(set, key, NULL, NULL);
  return r < 0 ? r : 0;
}

static void index_erase(index_t *x, const char *value, const char *key)
{
  kapi__strmap *set = kapi__strmap_get(x->values, value);

  if (!set)
    return;
  kapi__strmap_remove(set, key, NULL);
  /* Drop empty sets: index values (node names, uids) come and go. */
  if (kapi__strmap_len(set) == 0) {
    kapi__strmap_remove(x->values, value, NULL);
    kapi__strmap_free(set, NULL);
  }
}

/* Computes every index's values for obj.  *ret has ix->nidx entries
 * (NULL when there are no indices). */
static int compute_values(const index_t *idx, size_t nidx, const kj *obj,
                          values_t **ret)
{
  values_t *vals;

  *ret = NULL;
  if (nidx == 0)
    return 0;
  vals = calloc(nidx, sizeof *vals);
  if (!vals)
    return -ENOMEM;
  for (size_t i = 0; i < nidx; i++) {
    int r = idx[i].fn(obj, &vals[i].v, &vals[i].n);

    if (r < 0) {
      values_free(vals, nidx);
      return r;
    }
  }
  *ret = vals;
  return 0;
}

static void unindex_all(kapi_indexer *ix, const values_t *vals,
                        const char *key)
{
  for (size_t i = 0; vals && i < ix->nidx; i++)
    for (size_t j = 0; j < vals[i].n; j++)
      index_erase(&ix->idx[i], vals[i].v[j], key);
}

static int index_all(kapi_indexer *ix, const values_t *vals,
                     const char *key)
{
  for (size_t i = 0; vals && i < ix->nidx; i++)
    for (size_t j = 0; j < vals[i].n; j++) {
      int r = index_insert(&ix->idx[i], vals[i].v[j], key);

      if (r < 0)
        return r;
    }
  return 0;
}

/* The index values of an object already stored.  Index functions are
 * pure and objects immutable, so recomputing them gives what was
 * indexed (upstream does the same rather than remembering them). */
static void unindex_object(kapi_indexer *ix, const kapi_cobj *o)
{
  values_t *vals;

  if (compute_values(ix->idx, ix->nidx, o->obj, &vals) < 0)
    return;
  unindex_all(ix, vals, o->key);
  values_free(vals, ix->nidx);
}

/* ---- public API ------------------------------------------------------------ */

int kapi_indexer_add_index(kapi_indexer *ix, const char *name,
                           kapi_index_fn fn)
{
  index_t *grown, *x;
  kapi__strmap_iter it = {0};
  int r = 0;

  pthread_rwlock_wrlock(&ix->lock);
  for (size_t i = 0; i < ix->nidx; i++)
    if (strcmp(ix->idx[i].name, name) == 0) {
      r = -EEXIST;
      goto out;
    }
  grown = realloc(ix->idx, (ix->nidx + 1) * sizeof *grown);
  if (!grown) {
    r = -ENOMEM;
    goto out;
  }
  ix->idx = grown;
  x = &ix->idx[ix->nidx];
  x->name = strdup(name);
  x->fn = fn;
  x->values = kapi__strmap_new();
  if (!x->name || !x->values) {
    free(x->name);
    kapi__strmap_free(x->values, NULL);
    r = -ENOMEM;
    goto out;
  }
  ix->nidx++;
  /* Objects already stored are indexed too (more lenient than the
   * header demands, and what current client-go does). */
  while (r == 0 && kapi__strmap_next(ix->items, &it)) {
    kapi_cobj *o = it.val;
    values_t *vals;

    r = compute_values(x, 1, o->obj, &vals);
    if (r == 0) {
      for (size_t j = 0; r == 0 && j < vals[0].n; j++)
        r = index_insert(x, vals[0].v[j], o->key);
      values_free(vals, 1);
    }
  }
out:
  pthread_rwlock_unlock(&ix->lock);
  return r;
}

int kapi_indexer_put(kapi_indexer *ix, kapi_cobj *o)
{
  values_t *vals = NULL;
  void *oldv = NULL;
  size_t nidx;
  int r;

  /* The index list only grows, and entries never move once added except
   * by realloc under the write lock: snapshot the count, then compute
   * under the read lock so add_index cannot realloc meanwhile. */
  pthread_rwlock_rdlock(&ix->lock);
  nidx = ix->nidx;
  r = compute_values(ix->idx, nidx, o->obj, &vals);
  pthread_rwlock_unlock(&ix->lock);
  if (r < 0)
    return r;

  pthread_rwlock_wrlock(&ix->lock);
  if (ix->nidx != nidx) {
    /* An index was added in between: recompute (rare). */
    values_free(vals, nidx);
    nidx = ix->nidx;
    r = compute_values(ix->idx, nidx, o->obj, &vals);
    if (r < 0)
      goto out;
  }
  r = kapi__strmap_put(ix->items, o->key, kapi_cobj_ref(o), &oldv);
  if (r < 0) {
    kapi_cobj_unref(o);
    goto out;
  }
  if (r == 1) {
    unindex_object(ix, oldv);
    kapi_cobj_unref(oldv);
  }
  r = index_all(ix, vals, o->key);
out:
  pthread_rwlock_unlock(&ix->lock);
  values_free(vals, nidx);
  return r;
}

int kapi_indexer_remove(kapi_indexer *ix, const char *key)
{
  void *old = NULL;
  int r;

  pthread_rwlock_wrlock(&ix->lock);
  r = kapi__strmap_remove(ix->items, key, &old);
  if (r == 0)
    unindex_object(ix, old);
  pthread_rwlock_unlock(&ix->lock);
  kapi_cobj_unref(old);
  return r;
}

int kapi_indexer_get(kapi_indexer *ix, const char *key, kapi_cobj **ret)
{
  void *o = NULL;
  int found;

  pthread_rwlock_rdlock(&ix->lock);
  found = kapi__strmap_find(ix->items, key, &o);
  if (found)
    kapi_cobj_ref(o);
  pthread_rwlock_unlock(&ix->lock);
  *ret = o;
  return found ? 0 : -ENOENT;
}

/* Collects new references to the objects of `m` (values are cobj, or
 * NULL for a key set resolved through items). */
static int collect(kapi_indexer *ix, const kapi__strmap *m, int keys_only,
                   kapi_cobj ***ret, size_t *ret_n)
{
  size_t n = kapi__strmap_len(m), i = 0;
  kapi__strmap_iter it = {0};
  kapi_cobj **v;

  *ret = NULL;
  *ret_n = 0;
  v = calloc(n ? n : 1, sizeof *v);
  if (!v)
    return -ENOMEM;
  while (kapi__strmap_next(m, &it)) {
    kapi_cobj *o = keys_only ? kapi__strmap_get(ix->items, it.key) : it.val;

    if (o)
      v[i++] = kapi_cobj_ref(o);
  }
  *ret = v;
  *ret_n = i;
  return 0;
}

int kapi_indexer_list(kapi_indexer *ix, kapi_cobj ***ret, size_t *ret_n)
{
  int r;

  pthread_rwlock_rdlock(&ix->lock);
  r = collect(ix, ix->items, 0, ret, ret_n);
  pthread_rwlock_unlock(&ix->lock);
  return r;
}

int kapi_indexer_by_index(kapi_indexer *ix, const char *index,
                          const char *value, kapi_cobj ***ret,
                          size_t *ret_n)
{
  const kapi__strmap *set = NULL;
  int r = -EINVAL;

  *ret = NULL;
  *ret_n = 0;
  pthread_rwlock_rdlock(&ix->lock);
  for (size_t i = 0; i < ix->nidx; i++)
    if (strcmp(ix->idx[i].name, index) == 0) {
      set = kapi__strmap_get(ix->idx[i].values, value);
      r = 0;
      break;
    }
  if (r == 0) {
    if (set)
      r = collect(ix, set, 1, ret, ret_n);
    else if (!(*ret = calloc(1, sizeof **ret)))
      r = -ENOMEM;
  }
  pthread_rwlock_unlock(&ix->lock);
  return r;
}

int kapi_indexer_keys(kapi_indexer *ix, char ***ret, size_t *ret_n)
{
  kapi__strmap_iter it = {0};
  size_t i = 0, n;
  char **v;
  int r = 0;

  pthread_rwlock_rdlock(&ix->lock);
  n = kapi__strmap_len(ix->items);
  v = calloc(n ? n : 1, sizeof *v);
  if (!v)
    r = -ENOMEM;
  while (v && kapi__strmap_next(ix->items, &it)) {
    v[i] = strdup(it.key);
    if (!v[i]) {
      strv_free(v, i);
      v = NULL;
      r = -ENOMEM;
      break;
    }
    i++;
  }
  pthread_rwlock_unlock(&ix->lock);
  *ret = v;
  *ret_n = v ? i : 0;
  return r;
}

size_t kapi_indexer_len(kapi_indexer *ix)
{
  size_t n;

  pthread_rwlock_rdlock(&ix->lock);
  n = kapi__strmap_len(ix->items);
  pthread_rwlock_unlock(&ix->lock);
  return n;
}
