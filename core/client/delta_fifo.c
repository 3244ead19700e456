/*
 * delta_fifo.c - upstream's DeltaFIFO (client-go tools/cache
 * delta_fifo.go): a queue of object keys where each key carries the list
 * of changes (deltas) seen for it since it was last popped.
 *
 * The reflector produces (add/update/delete, replace on relist, resync);
 * one consumer (the informer) pops a key with all its deltas at once, so
 * it sees every intermediate state in order yet handles each key once.
 *
 * As upstream, the consumer's function runs under the FIFO's lock.  That
 * closes two races a lock-free pop would open: a Resync queueing a Sync
 * with the cache's state while the consumer is about to change it, and a
 * Replace missing a deletion for a key whose Added is being processed
 * (neither in the queue nor yet in the cache).  The cost is that the
 * producer waits while handlers run; handlers are expected to be quick
 * (typically: put a key on a work queue).
 */
#include "informer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "strmap.h"

/* The deltas of one key, oldest first. */
typedef struct item {
  kapi_delta *d;
  /* Parallel to d: this Deleted came from a relist that no longer had
   * the object (DeletedFinalStateUnknown): d[i].obj is only the last
   * state we knew. */
  unsigned char *unknown;
  size_t n, cap;
} item;

struct kapi_delta_fifo {
  pthread_mutex_t mu;
  pthread_cond_t cond;
  kapi__strmap *items; /* key -> item; a key is here iff it is queued */
  char **queue;        /* ring buffer of owned keys */
  size_t qhead, qlen, qcap;
  kapi_indexer *known; /* borrowed, may be NULL */
  int populated;       /* something (usually the first Replace) arrived */
  size_t initial_count; /* keys of the first Replace not yet popped */
  /* populated && initial_count == 0, kept up to date under mu but read
   * without it: handlers (running under mu) may ask. */
  int synced;
  int closed;
};

/* Caller holds mu, after changing populated or initial_count. */
static void update_synced(kapi_delta_fifo *f)
{
  __atomic_store_n(&f->synced, f->populated && f->initial_count == 0,
                   __ATOMIC_RELEASE);
}

static void item_free(void *p)
{
  item *it = p;

  if (!it)
    return;
  for (size_t i = 0; i < it->n; i++)
    kapi_cobj_unref(it->d[i].obj);
  free(it->d);
  free(it->unknown);
  free(it);
}

kapi_delta_fifo *kapi_delta_fifo_new(kapi_indexer *known)
{
  kapi_delta_fifo *f = calloc(1, sizeof *f);

  if (!f)
    return NULL;
  f->items = kapi__strmap_new();
  if (!f->items) {
    free(f);
    return NULL;
  }
  pthread_mutex_init(&f->mu, NULL);
  pthread_cond_init(&f->cond, NULL);
  f->known = known;
  return f;
}

void kapi_delta_fifo_free(kapi_delta_fifo *f)
{
  if (!f)
    return;
  for (size_t i = 0; i < f->qlen; i++)
    free(f->queue[(f->qhead + i) % f->qcap]);
  free(f->queue);
  kapi__strmap_free(f->items, item_free);
  pthread_cond_destroy(&f->cond);
  pthread_mutex_destroy(&f->mu);
  free(f);
}

/* ---- the key queue (caller holds mu) ----------------------------------- */

static int queue_push(kapi_delta_fifo *f, const char *key)
{
  char *k;

  if (f->qlen == f->qcap) {
    size_t ncap = f->qcap ? f->qcap * 2 : 64;
    char **nq = malloc(ncap * sizeof *nq);

    if (!nq)
      return -ENOMEM;
    for (size_t i = 0; i < f->qlen; i++)
      nq[i] = f->queue[(f->qhead + i) % f->qcap];
    free(f->queue);
    f->queue = nq;
    f->qcap = ncap;
    f->qhead = 0;
  }
  k = strdup(key);
  if (!k)
    return -ENOMEM;
  f->queue[(f->qhead + f->qlen) % f->qcap] = k;
  f->qlen++;
  return 0;
}

static char *queue_pop(kapi_delta_fifo *f)
{
  char *k = f->queue[f->qhead];

  f->qhead = (f->qhead + 1) % f->qcap;
  f->qlen--;
  return k;
}

/* ---- queueing deltas (caller holds mu) --------------------------------- */

/* Two Deleted in a row say the same thing: keep one, preferring the one
 * that carries the real final state (upstream's dedupDeltas). */
static void dedup_tail(item *it)
{
  size_t a, b;

  if (it->n < 2)
    return;
  a = it->n - 2;
  b = it->n - 1;
  if (it->d[a].type != KAPI_DELTA_DELETED ||
      it->d[b].type != KAPI_DELTA_DELETED)
    return;
  if (it->unknown[b]) {
    kapi_cobj_unref(it->d[b].obj);
  } else {
    kapi_cobj_unref(it->d[a].obj);
    it->d[a] = it->d[b];
    it->unknown[a] = it->unknown[b];
  }
  it->n--;
}

static int item_append(item *it, kapi_delta_type type, kapi_cobj *o,
                       int unknown)
{
  if (it->n == it->cap) {
    size_t ncap = it->cap ? it->cap * 2 : 2;
    kapi_delta *nd = realloc(it->d, ncap * sizeof *nd);
    unsigned char *nu;

    if (!nd)
      return -ENOMEM;
    it->d = nd;
    nu = realloc(it->unknown, ncap);
    if (!nu)
      return -ENOMEM;
    it->unknown = nu;
    it->cap = ncap;
  }
  it->d[it->n].type = type;
  it->d[it->n].obj = kapi_cobj_ref(o);
  it->unknown[it->n] = (unsigned char)unknown;
  it->n++;
  dedup_tail(it);
  return 0;
}

static int queue_action(kapi_delta_fifo *f, kapi_delta_type type,
                        kapi_cobj *o, int unknown)
{
  item *it = kapi__strmap_get(f->items, o->key);
  int r;

  if (!it) {
    it = calloc(1, sizeof *it);
    if (!it)
      return -ENOMEM;
    r = kapi__strmap_put(f->items, o->key, it, NULL);
    if (r < 0) {
      free(it);
      return r;
    }
    r = queue_push(f, o->key);
    if (r < 0) {
      kapi__strmap_remove(f->items, o->key, NULL);
      free(it);
      return r;
    }
  }
  r = item_append(it, type, o, unknown);
  pthread_cond_broadcast(&f->cond);
  return r;
}

/* ---- producers ---------------------------------------------------------- */

int kapi_delta_fifo_add(kapi_delta_fifo *f, kapi_cobj *o)
{
  int r;

  pthread_mutex_lock(&f->mu);
  f->populated = 1;
  update_synced(f);
  r = queue_action(f, KAPI_DELTA_ADDED, o, 0);
  pthread_mutex_unlock(&f->mu);
  return r;
}

int kapi_delta_fifo_update(kapi_delta_fifo *f, kapi_cobj *o)
{
  int r;

  pthread_mutex_lock(&f->mu);
  f->populated = 1;
  update_synced(f);
  r = queue_action(f, KAPI_DELTA_UPDATED, o, 0);
  pthread_mutex_unlock(&f->mu);
  return r;
}

/* Is key in the consumer's cache? */
static int is_known(kapi_delta_fifo *f, const char *key)
{
  kapi_cobj *o = NULL;
  int r = kapi_indexer_get(f->known, key, &o);

  kapi_cobj_unref(o);
  return r == 0;
}

int kapi_delta_fifo_delete(kapi_delta_fifo *f, kapi_cobj *o)
{
  int r = 0;

  pthread_mutex_lock(&f->mu);
  f->populated = 1;
  update_synced(f);
  /* A deletion of something neither cached nor queued was already
   * reported (by a relist): do not report it twice. */
  if (kapi__strmap_find(f->items, o->key, NULL) ||
      (f->known && is_known(f, o->key)))
    r = queue_action(f, KAPI_DELTA_DELETED, o, 0);
  pthread_mutex_unlock(&f->mu);
  return r;
}

/* The newest state queued for an item: for a Deleted that is already
 * "final state unknown", that is the state it carries. */
static kapi_cobj *newest(const item *it)
{
  return it->n ? it->d[it->n - 1].obj : NULL;
}

/* Deleted (final state unknown) for known keys missing from the list
 * and not queued; returns how many were queued, or -errno. */
static int delete_missing_known(kapi_delta_fifo *f, kapi__strmap *listed)
{
  char **keys = NULL;
  size_t nkeys = 0;
  int r, queued = 0;

  r = kapi_indexer_keys(f->known, &keys, &nkeys);
  for (size_t i = 0; r == 0 && i < nkeys; i++) {
    kapi_cobj *last = NULL;

    if (kapi__strmap_find(listed, keys[i], NULL) ||
        kapi__strmap_find(f->items, keys[i], NULL))
      continue;
    /* We hold mu and the consumer only writes the cache under mu, so
     * the key cannot have vanished since kapi_indexer_keys. */
    if (kapi_indexer_get(f->known, keys[i], &last) < 0)
      continue;
    r = queue_action(f, KAPI_DELTA_DELETED, last, 1);
    kapi_cobj_unref(last);
    queued++;
  }
  for (size_t i = 0; i < nkeys; i++)
    free(keys[i]);
  free(keys);
  return r < 0 ? r : queued;
}

int kapi_delta_fifo_replace(kapi_delta_fifo *f, kapi_cobj **objs, size_t n)
{
  kapi__strmap *listed = kapi__strmap_new();
  kapi__strmap_iter it = {0};
  int r = 0, queued = 0;

  if (!listed)
    return -ENOMEM;
  pthread_mutex_lock(&f->mu);
  for (size_t i = 0; r >= 0 && i < n; i++) {
    r = kapi__strmap_put(listed, objs[i]->key, NULL, NULL);
    if (r >= 0)
      r = queue_action(f, KAPI_DELTA_REPLACED, objs[i], 0);
  }
  /* Queued keys missing from the list: their deletion happened while we
   * were not watching.  queue_action on an existing key adds no key, so
   * iterating items meanwhile is safe. */
  while (r >= 0 && kapi__strmap_next(f->items, &it)) {
    kapi_cobj *last;

    if (kapi__strmap_find(listed, it.key, NULL))
      continue;
    last = kapi_cobj_ref(newest(it.val));
    if (!last)
      continue;
    r = queue_action(f, KAPI_DELTA_DELETED, last, 1);
    kapi_cobj_unref(last);
    queued++;
  }
  if (r >= 0 && f->known) {
    r = delete_missing_known(f, listed);
    if (r > 0)
      queued += r;
  }
  if (!f->populated) {
    f->populated = 1;
    f->initial_count = kapi__strmap_len(listed) + (size_t)queued;
    update_synced(f);
  }
  pthread_mutex_unlock(&f->mu);
  kapi__strmap_free(listed, NULL);
  return r < 0 ? r : 0;
}

int kapi_delta_fifo_resync(kapi_delta_fifo *f)
{
  char **keys = NULL;
  size_t nkeys = 0;
  int r = 0;

  if (!f->known)
    return 0;
  pthread_mutex_lock(&f->mu);
  r = kapi_indexer_keys(f->known, &keys, &nkeys);
  for (size_t i = 0; r == 0 && i < nkeys; i++) {
    kapi_cobj *o = NULL;

    /* A queued change is newer than the cache: a Sync with the cached
     * state would be stale once that change is applied. */
    if (kapi__strmap_find(f->items, keys[i], NULL))
      continue;
    if (kapi_indexer_get(f->known, keys[i], &o) < 0)
      continue;
    r = queue_action(f, KAPI_DELTA_SYNC, o, 0);
    kapi_cobj_unref(o);
  }
  pthread_mutex_unlock(&f->mu);
  for (size_t i = 0; i < nkeys; i++)
    free(keys[i]);
  free(keys);
  return r;
}

/* ---- consumer ----------------------------------------------------------- */

int kapi_delta_fifo_pop(kapi_delta_fifo *f, kapi_deltas_fn fn, void *arg)
{
  item *it = NULL;
  char *key;
  int r;

  pthread_mutex_lock(&f->mu);
  while (f->qlen == 0 && !f->closed)
    pthread_cond_wait(&f->cond, &f->mu);
  if (f->qlen == 0) {
    pthread_mutex_unlock(&f->mu);
    return -EPIPE;
  }
  key = queue_pop(f);
  if (kapi__strmap_remove(f->items, key, (void **)&it) < 0 || !it) {
    /* Cannot happen: a queued key always has its item. */
    LOG_ERROR("delta fifo: queued key %s has no deltas", key);
    r = -EIO;
  } else {
    r = fn(arg, it->d, it->n);
  }
  if (f->initial_count > 0)
    f->initial_count--;
  update_synced(f);
  pthread_mutex_unlock(&f->mu);
  item_free(it);
  free(key);
  return r;
}

int kapi_delta_fifo_has_synced(kapi_delta_fifo *f)
{
  return __atomic_load_n(&f->synced, __ATOMIC_ACQUIRE);
}

void kapi_delta_fifo_close(kapi_delta_fifo *f)
{
  pthread_mutex_lock(&f->mu);
  f->closed = 1;
  pthread_cond_broadcast(&f->cond);
  pthread_mutex_unlock(&f->mu);
}
