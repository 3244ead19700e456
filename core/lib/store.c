/*
 * store.c - the generic Store (see store.h for the contract).
 *
 * Everything lives in memory: an AVL tree maps each key to its current
 * store_obj, so gets are a tree walk and lists are an in-order walk from
 * a lower bound.  Readers take references; nothing is copied.
 *
 * A write runs under write_mu: read the current version, ask the update
 * callback, assign the next revision, swap the new version into the
 * tree (briefly under index_lock, so readers are only blocked for the
 * swap), and queue the change as a kapi_event for the committer thread.
 * The writer then sleeps until the committer reports its revision
 * durable (so does a NOOP or a refused write, until what it saw is).
 * The committer takes everything queued, writes it in ONE
 * backend batch (so concurrent writers share one fsync), wakes the
 * writers, and only then publishes the events to the watch history and
 * the watchers, in revision order.
 *
 * Every write makes exactly one event, so the history ring holds
 * consecutive revisions.  Watchers have bounded queues of shared,
 * refcounted events; one that falls behind is closed, never waited for.
 *
 * Locks, always taken in this order:
 *   write_mu -> index_lock   writers are serialized; readers share
 *   write_mu -> queue_mu     writers hand changes to the committer
 *   watch_mu -> index_lock   INITIAL snapshots and lists at a revision
 *                            are atomic w.r.t. publishing
 *   watch_mu -> w->mu        publishing into one watcher
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapi/metrics.h"
#include "log.h"
#include "storage.h"
#include "store.h"

#define DEFAULT_HISTORY 10000
#define DEFAULT_WATCH_QUEUE 10000
#define WATCH_QUEUE_MIN 16 /* watcher queues start small and grow */

typedef struct index_node {
  struct index_node *left, *right;
  store_obj *obj; /* the current version; its key is the node's key */
  int height;
} index_node;

/* A growable array of event references. */
typedef struct event_vec {
  kapi_event **items;
  size_t n, cap;
} event_vec;

struct kapi_watch {
  kapi_watch *prev, *next; /* in the store's list, under watch_mu */
  kapi_store *store;       /* NULL once detached; set under watch_mu+mu */
  char *prefix;
  size_t prefix_len;
  kapi_watch_notify_fn notify;
  void *arg;
  int64_t from_rv; /* events at or below it are covered by the start */

  pthread_mutex_t mu; /* everything below */
  store_obj **init;   /* INITIAL snapshot, handed out as ADDED */
  size_t init_n, init_pos;
  kapi_event **q; /* ring of queued events */
  size_t q_head, q_n, q_cap, q_max;
  int64_t last_rv; /* rv of the last live event taken (or the start) */
  int64_t seen_rv; /* last revision published while attached */
  int closed;
};

struct kapi_store {
  const kapi_storage_ops *ops;
  kapi_storage *backend;
  int fsync;
  size_t watch_queue;

  pthread_mutex_t write_mu;
  pthread_rwlock_t index_lock; /* root, against readers */
  index_node *root;
  int64_t rev; /* last assigned revision; atomic */

  pthread_mutex_t queue_mu;
  pthread_cond_t queue_cv;   /* committer: work queued, or stopping */
  pthread_cond_t durable_cv; /* writers: durable_rv advanced */
  event_vec queue;           /* changes waiting for the committer */
  int64_t durable_rv;
  void (*durable_hook)(void *arg, int64_t rv); /* under queue_mu */
  void *durable_hook_arg;
  int stopping;
  int committer_running;
  pthread_t committer;
  kapi_storage_write *writes; /* committer's scratch */
  size_t writes_cap;

  pthread_mutex_t watch_mu;
  pthread_cond_t published_cv; /* listers at a revision: published_rv moved */
  kapi_event **hist; /* ring of the last hist_cap events */
  size_t hist_head, hist_n, hist_cap;
  int64_t published_rv;
  kapi_watch *watchers;

  /* Prefixes whose latest change is tracked (kapi_store_prefix_revision);
   * few, registered on first ask, guarded by watch_mu. */
  struct prefix_mark {
    char *prefix;
    size_t len;
    int64_t rv;
  } marks[64];
  size_t n_marks;
};

/* ---- objects and events ------------------------------------------------- */

store_obj *store_obj_ref(store_obj *o)
{
  if (o)
    __atomic_add_fetch(&o->refs, 1, __ATOMIC_RELAXED);
  return o;
}

void store_obj_unref(store_obj *o)
{
  if (o && __atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL) == 0)
    free(o);
}

/* One allocation holds the struct, the key and the JSON, so a version
 * costs a single malloc and a single free.  Returns refs == 1. */
static store_obj *obj_new(const char *key, size_t klen, int64_t rv,
                          const char *json, size_t len)
{
  store_obj *o = malloc(sizeof *o + klen + 1 + len + 1);

  if (!o)
    return NULL;
  o->refs = 1;
  o->rv = rv;
  o->key = (char *)(o + 1);
  memcpy(o->key, key, klen);
  o->key[klen] = '\0';
  o->json = o->key + klen + 1;
  memcpy(o->json, json, len);
  o->json[len] = '\0';
  o->len = len;
  return o;
}

/* Takes new references to obj and old.  Returns refs == 1. */
static kapi_event *event_new(kapi_event_type type, int64_t rv, store_obj *obj,
                             store_obj *old)
{
  kapi_event *e = malloc(sizeof *e);

  if (!e)
    return NULL;
  e->refs = 1;
  e->type = type;
  e->rv = rv;
  e->obj = store_obj_ref(obj);
  e->old = store_obj_ref(old);
  return e;
}

static kapi_event *event_ref(kapi_event *e)
{
  __atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
  return e;
}

void kapi_event_unref(kapi_event *e)
{
  if (!e || __atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) != 0)
    return;
  store_obj_unref(e->obj);
  store_obj_unref(e->old);
  free(e);
}

static int event_vec_push(event_vec *v, kapi_event *e)
{
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 64;
    kapi_event **p = realloc(v->items, cap * sizeof *p);

    if (!p)
      return -ENOMEM;
    v->items = p;
    v->cap = cap;
  }
  v->items[v->n++] = e;
  return 0;
}

static int has_prefix(const char *key, const char *prefix, size_t plen)
{
  return strncmp(key, prefix, plen) == 0;
}

/* ---- index: AVL tree of current versions -------------------------------- */

static int node_height(const index_node *n)
{
  return n ? n->height : 0;
}

static void node_fix_height(index_node *n)
{
  int l = node_height(n->left), r = node_height(n->right);

  n->height = 1 + (l > r ? l : r);
}

static index_node *rotate_left(index_node *n)
{
  index_node *r = n->right;

  n->right = r->left;
  r->left = n;
  node_fix_height(n);
  node_fix_height(r);
  return r;
}

static index_node *rotate_right(index_node *n)
{
  index_node *l = n->left;

  n->left = l->right;
  l->right = n;
  node_fix_height(n);
  node_fix_height(l);
  return l;
}

static index_node *rebalance(index_node *n)
{
  int balance;

  node_fix_height(n);
  balance = node_height(n->right) - node_height(n->left);
  if (balance > 1) {
    if (node_height(n->right->left) > node_height(n->right->right))
      n->right = rotate_right(n->right);
    return rotate_left(n);
  }
  if (balance < -1) {
    if (node_height(n->left->right) > node_height(n->left->left))
      n->left = rotate_left(n->left);
    return rotate_right(n);
  }
  return n;
}

static index_node *index_find(index_node *n, const char *key)
{
  while (n) {
    int c = strcmp(key, n->obj->key);

    if (c == 0)
      return n;
    n = c < 0 ? n->left : n->right;
  }
  return NULL;
}

/* Inserts `node`, whose key must be absent.  Returns the new root. */
static index_node *index_insert(index_node *n, index_node *node)
{
  if (!n)
    return node;
  if (strcmp(node->obj->key, n->obj->key) < 0)
    n->left = index_insert(n->left, node);
  else
    n->right = index_insert(n->right, node);
  return rebalance(n);
}

static index_node *index_unlink_min(index_node *n, index_node **min)
{
  if (!n->left) {
    *min = n;
    return n->right;
  }
  n->left = index_unlink_min(n->left, min);
  return rebalance(n);
}

/* Unlinks the node of `key` into *removed (left NULL if absent).
 * Returns the new root. */
static index_node *index_remove(index_node *n, const char *key,
                                index_node **removed)
{
  index_node *min, *rest;
  int c;

  if (!n)
    return NULL;
  c = strcmp(key, n->obj->key);
  if (c < 0) {
    n->left = index_remove(n->left, key, removed);
    return rebalance(n);
  }
  if (c > 0) {
    n->right = index_remove(n->right, key, removed);
    return rebalance(n);
  }
  *removed = n;
  if (!n->left || !n->right)
    return n->left ? n->left : n->right;
  rest = index_unlink_min(n->right, &min);
  min->left = n->left;
  min->right = rest;
  return rebalance(min);
}

static void index_free(index_node *n)
{
  if (!n)
    return;
  index_free(n->left);
  index_free(n->right);
  store_obj_unref(n->obj);
  free(n);
}

/* The range of a scan: keys >= lo (> lo when strict) having the prefix. */
typedef struct scan_range {
  const char *lo;
  int strict;
  const char *prefix;
  size_t plen;
} scan_range;

typedef int (*scan_fn)(store_obj *o, void *arg);

/* Calls fn on every node in range, in key order.  Returns 1 once the
 * walk passed the end of the range (or fn asked to stop, by returning
 * nonzero), which ends the whole walk; negative fn results are passed
 * up as they are. */
static int index_scan(index_node *n, const scan_range *rg, scan_fn fn,
                      void *arg)
{
  int c, r;

  if (!n)
    return 0;
  c = strcmp(n->obj->key, rg->lo);
  if (c < 0 || (c == 0 && rg->strict))
    return index_scan(n->right, rg, fn, arg);
  r = index_scan(n->left, rg, fn, arg);
  if (r)
    return r;
  /* Keys with the prefix are contiguous from the prefix on, and lo is
   * at or above the prefix: the first key without it ends the range. */
  if (!has_prefix(n->obj->key, rg->prefix, rg->plen))
    return 1;
  r = fn(n->obj, arg);
  if (r)
    return r;
  return index_scan(n->right, rg, fn, arg);
}

static scan_range range_of(const char *prefix, const char *start)
{
  scan_range rg = { prefix, 0, prefix, strlen(prefix) };

  if (start && *start && strcmp(start, prefix) >= 0) {
    rg.lo = start;
    rg.strict = 1;
  }
  return rg;
}

/* Collects new references into a growing array. */
typedef struct obj_vec {
  store_obj **items;
  size_t n, cap;
} obj_vec;

static int collect_obj(store_obj *o, void *arg)
{
  obj_vec *v = arg;

  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 64;
    store_obj **p = realloc(v->items, cap * sizeof *p);

    if (!p)
      return -ENOMEM;
    v->items = p;
    v->cap = cap;
  }
  v->items[v->n++] = store_obj_ref(o);
  return 0;
}

static void obj_vec_free(obj_vec *v)
{
  for (size_t i = 0; i < v->n; i++)
    store_obj_unref(v->items[i]);
  free(v->items);
  v->items = NULL;
  v->n = v->cap = 0;
}

/* Snapshot of the objects under prefix (after start).  Caller holds
 * index_lock. */
static int index_collect(kapi_store *s, const char *prefix, const char *start,
                         obj_vec *v)
{
  scan_range rg = range_of(prefix, start);
  int r = index_scan(s->root, &rg, collect_obj, v);

  if (r < 0) {
    obj_vec_free(v);
    return r;
  }
  return 0;
}

/* ---- history: the last hist_cap published events ------------------------ */

static kapi_event *hist_at(kapi_store *s, size_t i)
{
  return s->hist[(s->hist_head + i) % s->hist_cap];
}

/* Takes a new reference to e.  Caller holds watch_mu. */
static void hist_push(kapi_store *s, kapi_event *e)
{
  if (s->hist_n == s->hist_cap) {
    kapi_event_unref(s->hist[s->hist_head]);
    s->hist[s->hist_head] = event_ref(e);
    s->hist_head = (s->hist_head + 1) % s->hist_cap;
    return;
  }
  s->hist[(s->hist_head + s->hist_n) % s->hist_cap] = event_ref(e);
  s->hist_n++;
}

/* A watch can start from any rv >= this: every later event is kept (or
 * not yet published).  Caller holds watch_mu. */
static int64_t hist_oldest(kapi_store *s)
{
  return s->hist_n ? hist_at(s, 0)->rv - 1 : s->published_rv;
}

/* Index of the first kept event with rv > from_rv.  Caller holds
 * watch_mu. */
static size_t hist_first_after(kapi_store *s, int64_t from_rv)
{
  size_t lo = 0, hi = s->hist_n;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;

    if (hist_at(s, mid)->rv <= from_rv)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static void hist_free(kapi_store *s)
{
  for (size_t i = 0; i < s->hist_n; i++)
    kapi_event_unref(hist_at(s, i));
  free(s->hist);
}

/* ---- watchers ----------------------------------------------------------- */

/* Caller holds w->mu. */
static int watcher_empty(const kapi_watch *w)
{
  return w->init_pos == w->init_n && w->q_n == 0;
}

/* Makes room for one more event, growing the ring up to q_max. */
static int watcher_reserve(kapi_watch *w)
{
  kapi_event **q;
  size_t cap;

  if (w->q_n < w->q_cap)
    return 0;
  if (w->q_cap >= w->q_max)
    return -ENOBUFS;
  cap = w->q_cap ? w->q_cap * 2 : WATCH_QUEUE_MIN;
  if (cap > w->q_max)
    cap = w->q_max;
  q = malloc(cap * sizeof *q);
  if (!q)
    return -ENOMEM;
  for (size_t i = 0; i < w->q_n; i++)
    q[i] = w->q[(w->q_head + i) % w->q_cap];
  free(w->q);
  w->q = q;
  w->q_head = 0;
  w->q_cap = cap;
  return 0;
}

/* Queues a new reference to e; a full queue closes the watcher.  Caller
 * holds w->mu.  Returns 0, or -ENOBUFS when the watcher got closed. */
static int watcher_push(kapi_watch *w, kapi_event *e)
{
  if (w->closed)
    return -ENOBUFS;
  if (watcher_reserve(w) < 0) {
    w->closed = 1;
    return -ENOBUFS;
  }
  w->q[(w->q_head + w->q_n) % w->q_cap] = event_ref(e);
  w->q_n++;
  return 0;
}

static int watcher_wants(const kapi_watch *w, const kapi_event *e)
{
  return e->rv > w->from_rv &&
         has_prefix(e->obj->key, w->prefix, w->prefix_len);
}

/* Caller holds watch_mu. */
static void watcher_link(kapi_store *s, kapi_watch *w)
{
  w->store = s;
  w->prev = NULL;
  w->next = s->watchers;
  if (s->watchers)
    s->watchers->prev = w;
  s->watchers = w;
}

/* Removes w from the store's list.  Only ever done under watch_mu and
 * after any notify of w: kapi_watch_close synchronizes on watch_mu while
 * w->store is set, so once it returns no notify can follow. */
static void watcher_unlink(kapi_store *s, kapi_watch *w)
{
  if (w->prev)
    w->prev->next = w->next;
  else
    s->watchers = w->next;
  if (w->next)
    w->next->prev = w->prev;
  w->prev = w->next = NULL;
  pthread_mutex_lock(&w->mu);
  w->store = NULL;
  pthread_mutex_unlock(&w->mu);
}

static void watcher_notify(kapi_watch *w)
{
  if (w->notify)
    w->notify(w->arg);
}

/* What publishing a batch did to one watcher. */
enum { OFFER_QUIET, OFFER_NOTIFY, OFFER_OVERFLOW };

/* Offers a published batch to one watcher: OFFER_NOTIFY when it went
 * from empty to non-empty, OFFER_OVERFLOW when its queue is full (it is
 * now closed).  Caller holds watch_mu. */
static int watcher_offer(kapi_watch *w, kapi_event **ev, size_t n)
{
  int was_empty, res;

  pthread_mutex_lock(&w->mu);
  was_empty = watcher_empty(w);
  for (size_t i = 0; i < n && !w->closed; i++)
    if (watcher_wants(w, ev[i]))
      watcher_push(w, ev[i]);
  if (!w->closed && ev[n - 1]->rv > w->seen_rv)
    w->seen_rv = ev[n - 1]->rv;
  if (w->closed)
    res = OFFER_OVERFLOW;
  else
    res = was_empty && !watcher_empty(w) ? OFFER_NOTIFY : OFFER_QUIET;
  pthread_mutex_unlock(&w->mu);
  return res;
}

/* Closes a watcher from the store side (overflow, store closing): its
 * queued events stay readable, then next returns -EPIPE.  Caller holds
 * watch_mu. */
static void watcher_close_by_store(kapi_store *s, kapi_watch *w)
{
  pthread_mutex_lock(&w->mu);
  w->closed = 1;
  pthread_mutex_unlock(&w->mu);
  watcher_notify(w);
  watcher_unlink(s, w);
}

/* Queues the kept events after from_rv.  Caller holds watch_mu. */
static void watcher_replay(kapi_store *s, kapi_watch *w)
{
  pthread_mutex_lock(&w->mu);
  for (size_t i = hist_first_after(s, w->from_rv); i < s->hist_n; i++) {
    kapi_event *e = hist_at(s, i);

    if (watcher_wants(w, e) && watcher_push(w, e) < 0)
      break;
  }
  w->seen_rv = s->published_rv;
  pthread_mutex_unlock(&w->mu);
}

static void watcher_free(kapi_watch *w)
{
  for (size_t i = w->init_pos; i < w->init_n; i++)
    store_obj_unref(w->init[i]);
  free(w->init);
  for (size_t i = 0; i < w->q_n; i++)
    kapi_event_unref(w->q[(w->q_head + i) % w->q_cap]);
  free(w->q);
  free(w->prefix);
  pthread_mutex_destroy(&w->mu);
  free(w);
}

/* ---- committer ---------------------------------------------------------- */

/* Moves the revision of every tracked prefix the event falls under. */
static void mark_event(kapi_store *s, const kapi_event *e)
{
  for (size_t i = 0; i < s->n_marks; i++)
    if (has_prefix(e->obj->key, s->marks[i].prefix, s->marks[i].len))
      __atomic_store_n(&s->marks[i].rv, e->rv, __ATOMIC_RELEASE);
}

/* Adds the batch to the history, then hands it to every watcher.  Runs
 * on the committer thread after the batch is durable. */
static void publish(kapi_store *s, kapi_event **ev, size_t n)
{
  kapi_watch *w, *next;

  pthread_mutex_lock(&s->watch_mu);
  for (size_t i = 0; i < n; i++) {
    hist_push(s, ev[i]);
    mark_event(s, ev[i]);
  }
  s->published_rv = ev[n - 1]->rv;
  pthread_cond_broadcast(&s->published_cv);
  for (w = s->watchers; w; w = next) {
    next = w->next; /* an overflowing w leaves the list */
    switch (watcher_offer(w, ev, n)) {
    case OFFER_NOTIFY:
      watcher_notify(w);
      break;
    case OFFER_OVERFLOW:
      LOG_WARN("store: watch on \"%s\" fell %zu events behind, closing it",
               w->prefix, w->q_max);
      watcher_close_by_store(s, w);
      break;
    }
  }
  pthread_mutex_unlock(&s->watch_mu);
}

/* ---- metrics ----------------------------------------------------------- */

/* kapi's stand-ins for upstream's etcd metrics, named for what they
 * measure here: one group commit is one backend batch (one fsync). */
static struct {
  kapi_metric_series *commit_seconds, *batch_size, *writes;
} stm;
static pthread_once_t stm_once = PTHREAD_ONCE_INIT;

static void stm_init(void)
{
  /* upstream's etcd_disk_wal_fsync_duration_seconds: 1 ms doubling
   * 14 times */
  static const double secs[] = {0.001, 0.002, 0.004, 0.008, 0.016,
                                0.032, 0.064, 0.128, 0.256, 0.512,
                                1.024, 2.048, 4.096, 8.192};
  static const double sizes[] = {1,  2,   4,   8,   16,  32,
                                 64, 128, 256, 512, 1024};
  kapi_metrics *m = kapi_metrics_default();

  stm.commit_seconds = kapi_metric_with(
      kapi_metrics_histogram(m, "kapi_store_commit_duration_seconds",
                             "Time to write one group commit to the "
                             "backend, fsync included when enabled.",
                             NULL, secs, sizeof secs / sizeof *secs),
      NULL);
  stm.batch_size = kapi_metric_with(
      kapi_metrics_histogram(m, "kapi_store_commit_batch_size",
                             "Writes carried by one group commit.", NULL,
                             sizes, sizeof sizes / sizeof *sizes),
      NULL);
  stm.writes = kapi_metric_with(
      kapi_metrics_counter(m, "kapi_store_writes_total",
                           "Writes (creates, updates, deletes) committed "
                           "to the backend.",
                           NULL),
      NULL);
}

static void commit_batch(kapi_store *s, kapi_event **ev, size_t n)
{
  char err[256];
  struct timespec t0, t1;
  int r;

  if (n > s->writes_cap) {
    size_t cap = s->writes_cap ? s->writes_cap : 64;
    kapi_storage_write *p;

    while (cap < n)
      cap *= 2;
    p = realloc(s->writes, cap * sizeof *p);
    if (!p)
      LOG_FATAL("store: out of memory committing %zu writes", n);
    s->writes = p;
    s->writes_cap = cap;
  }
  for (size_t i = 0; i < n; i++) {
    kapi_storage_write *w = &s->writes[i];
    int del = ev[i]->type == KAPI_EVENT_DELETED;

    w->key = ev[i]->obj->key;
    w->val = del ? NULL : ev[i]->obj->json;
    w->len = del ? 0 : ev[i]->obj->len;
    w->rv = ev[i]->rv;
  }
  pthread_once(&stm_once, stm_init);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  r = s->ops->commit(s->backend, s->writes, n, ev[n - 1]->rv, s->fsync, err,
                     sizeof err);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  kapi_series_observe(stm.commit_seconds,
                      (double)(t1.tv_sec - t0.tv_sec) +
                          (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
  kapi_series_observe(stm.batch_size, (double)n);
  kapi_series_add(stm.writes, (double)n);
  /* The writes are already visible in memory: carrying on would let
   * readers and watchers see what a restart forgets. */
  if (r < 0)
    LOG_FATAL("store: commit of revisions %" PRId64 "..%" PRId64
              " failed: %s", ev[0]->rv, ev[n - 1]->rv, err);
}

/* Waits for work; swaps the queue into *batch.  Returns 0 once stopping
 * and drained. */
static int take_queue(kapi_store *s, event_vec *batch)
{
  event_vec empty = *batch;

  pthread_mutex_lock(&s->queue_mu);
  while (s->queue.n == 0 && !s->stopping)
    pthread_cond_wait(&s->queue_cv, &s->queue_mu);
  /* Swap buffers instead of copying: the queue gets the drained one. */
  *batch = s->queue;
  s->queue = empty;
  s->queue.n = 0;
  pthread_mutex_unlock(&s->queue_mu);
  return batch->n > 0;
}

static void *committer_main(void *arg)
{
  kapi_store *s = arg;
  event_vec batch = { 0 };

  while (take_queue(s, &batch)) {
    commit_batch(s, batch.items, batch.n);
    pthread_mutex_lock(&s->queue_mu);
    s->durable_rv = batch.items[batch.n - 1]->rv;
    pthread_cond_broadcast(&s->durable_cv);
    if (s->durable_hook)
      s->durable_hook(s->durable_hook_arg, s->durable_rv);
    pthread_mutex_unlock(&s->queue_mu);
    publish(s, batch.items, batch.n);
    for (size_t i = 0; i < batch.n; i++)
      kapi_event_unref(batch.items[i]);
    batch.n = 0;
  }
  free(batch.items);
  return NULL;
}

/* Hands the committer one change (the queue's reference).  Caller holds
 * write_mu, so the queue is in revision order. */
static int enqueue(kapi_store *s, kapi_event *e)
{
  int r;

  pthread_mutex_lock(&s->queue_mu);
  r = event_vec_push(&s->queue, e);
  if (r == 0 && s->queue.n == 1)
    pthread_cond_signal(&s->queue_cv);
  pthread_mutex_unlock(&s->queue_mu);
  return r;
}

/* This thread's deferred-durability section (kapi_store_defer_begin). */
static __thread struct {
  int active;
  kapi_store *store; /* the store written in the section */
  int64_t rv;        /* the revision to wait for */
} deferred;

void kapi_store_defer_begin(void)
{
  deferred.active = 1;
  deferred.store = NULL;
  deferred.rv = 0;
}

int64_t kapi_store_defer_end(void)
{
  int64_t rv = deferred.rv;

  deferred.active = 0;
  deferred.store = NULL;
  deferred.rv = 0;
  return rv;
}

int64_t kapi_store_durable_revision(kapi_store *s)
{
  int64_t rv;

  pthread_mutex_lock(&s->queue_mu);
  rv = s->durable_rv;
  pthread_mutex_unlock(&s->queue_mu);
  return rv;
}

void kapi_store_set_durable_hook(kapi_store *s,
                                 void (*fn)(void *arg, int64_t rv), void *arg)
{
  pthread_mutex_lock(&s->queue_mu);
  s->durable_hook = fn;
  s->durable_hook_arg = arg;
  pthread_mutex_unlock(&s->queue_mu);
}

/* In a deferred section, notes rv for the caller to wait for later;
 * nonzero when it did (then there is nothing to wait for now). */
static int defer_wait(kapi_store *s, int64_t rv)
{
  if (!deferred.active || (deferred.store && deferred.store != s))
    return 0;
  deferred.store = s;
  if (rv > deferred.rv)
    deferred.rv = rv;
  return 1;
}

void kapi_store_wait_durable(kapi_store *s, int64_t rv)
{
  pthread_mutex_lock(&s->queue_mu);
  while (s->durable_rv < rv)
    pthread_cond_wait(&s->durable_cv, &s->queue_mu);
  pthread_mutex_unlock(&s->queue_mu);
}

static void wait_durable(kapi_store *s, int64_t rv)
{
  if (!defer_wait(s, rv))
    kapi_store_wait_durable(s, rv);
}

/* ---- open / close ------------------------------------------------------- */

static void store_init_locks(kapi_store *s)
{
  pthread_rwlockattr_t attr;

  pthread_mutex_init(&s->write_mu, NULL);
  pthread_rwlockattr_init(&attr);
  /* Under a stream of gets and lists, glibc's default reader preference
   * would starve writers of the short swap they need. */
  pthread_rwlockattr_setkind_np(&attr,
                                PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init(&s->index_lock, &attr);
  pthread_rwlockattr_destroy(&attr);
  pthread_mutex_init(&s->queue_mu, NULL);
  pthread_cond_init(&s->queue_cv, NULL);
  pthread_cond_init(&s->durable_cv, NULL);
  pthread_mutex_init(&s->watch_mu, NULL);
  pthread_cond_init(&s->published_cv, NULL);
}

static void store_free(kapi_store *s)
{
  index_free(s->root);
  hist_free(s);
  for (size_t i = 0; i < s->queue.n; i++)
    kapi_event_unref(s->queue.items[i]);
  free(s->queue.items);
  free(s->writes);
  for (size_t i = 0; i < s->n_marks; i++)
    free(s->marks[i].prefix);
  if (s->backend)
    s->ops->close(s->backend);
  pthread_mutex_destroy(&s->write_mu);
  pthread_rwlock_destroy(&s->index_lock);
  pthread_mutex_destroy(&s->queue_mu);
  pthread_cond_destroy(&s->queue_cv);
  pthread_cond_destroy(&s->durable_cv);
  pthread_mutex_destroy(&s->watch_mu);
  pthread_cond_destroy(&s->published_cv);
  free(s);
}

/* Load callback: one stored object into the index. */
static int load_obj(void *arg, const char *key, size_t klen, int64_t rv,
                    const char *val, size_t len)
{
  kapi_store *s = arg;
  index_node *node = malloc(sizeof *node);
  store_obj *o = obj_new(key, klen, rv, val, len);

  if (!node || !o) {
    free(node);
    free(o);
    return -ENOMEM;
  }
  if (rv > s->rev)
    s->rev = rv;
  *node = (index_node){ .obj = o, .height = 1 };
  s->root = index_insert(s->root, node);
  return 0;
}

static int store_load(kapi_store *s, char *err, size_t errlen)
{
  int64_t rev = 0;
  int r = s->ops->load(s->backend, load_obj, s, &rev, err, errlen);

  if (r < 0)
    return r;
  /* s->rev holds the newest object's rv; the revision record can only
   * be ahead of it (deletes).  Behind it means damage, but moving on from
   * the larger value keeps revisions unique. */
  if (rev < s->rev)
    LOG_WARN("store: revision record %" PRId64 " is behind object rv %"
             PRId64, rev, s->rev);
  else
    s->rev = rev;
  s->durable_rv = s->published_rv = s->rev;
  return 0;
}

int kapi_store_open(const kapi_store_options *opts, kapi_store **ret,
                    char *err, size_t errlen)
{
  kapi_store *s;
  int r;

  if (!opts || !opts->dir || !*opts->dir) {
    snprintf(err, errlen, "store: no data directory");
    return -EINVAL;
  }
  s = calloc(1, sizeof *s);
  if (!s)
    return -ENOMEM;
  store_init_locks(s);
  s->ops = &kapi_storage_leveldb;
  s->fsync = opts->fsync;
  s->watch_queue = opts->watch_queue ? opts->watch_queue : DEFAULT_WATCH_QUEUE;
  s->hist_cap = opts->history ? opts->history : DEFAULT_HISTORY;
  s->hist = calloc(s->hist_cap, sizeof *s->hist);
  if (!s->hist) {
    store_free(s);
    return -ENOMEM;
  }
  r = s->ops->open(opts->dir, &s->backend, err, errlen);
  if (r == 0)
    r = store_load(s, err, errlen);
  if (r == 0) {
    r = -pthread_create(&s->committer, NULL, committer_main, s);
    if (r < 0)
      snprintf(err, errlen, "store: cannot start committer: %s",
               strerror(-r));
  }
  if (r < 0) {
    store_free(s);
    return r;
  }
  s->committer_running = 1;
  *ret = s;
  return 0;
}

/* Writers must be gone: drains the queue, stops the committer. */
static void stop_committer(kapi_store *s)
{
  if (!s->committer_running)
    return;
  pthread_mutex_lock(&s->queue_mu);
  s->stopping = 1;
  pthread_cond_signal(&s->queue_cv);
  pthread_mutex_unlock(&s->queue_mu);
  pthread_join(s->committer, NULL);
  s->committer_running = 0;
}

void kapi_store_close(kapi_store *s)
{
  if (!s)
    return;
  stop_committer(s);
  pthread_mutex_lock(&s->watch_mu);
  while (s->watchers)
    watcher_close_by_store(s, s->watchers);
  pthread_mutex_unlock(&s->watch_mu);
  store_free(s);
}

/* ---- reads -------------------------------------------------------------- */

int64_t kapi_store_revision(kapi_store *s)
{
  return __atomic_load_n(&s->rev, __ATOMIC_ACQUIRE);
}

/* Lock-free for prefixes already tracked: an entry is complete before
 * n_marks counts it (release), and its rv is only stored atomically. */
static int64_t find_mark(kapi_store *s, const char *prefix, int *found)
{
  size_t i, n = __atomic_load_n(&s->n_marks, __ATOMIC_ACQUIRE);

  for (i = 0; i < n; i++)
    if (!strcmp(s->marks[i].prefix, prefix)) {
      *found = 1;
      return __atomic_load_n(&s->marks[i].rv, __ATOMIC_ACQUIRE);
    }
  *found = 0;
  return 0;
}

int64_t kapi_store_prefix_revision(kapi_store *s, const char *prefix)
{
  size_t i, len = strlen(prefix);
  int64_t rv;
  int found;

  rv = find_mark(s, prefix, &found);
  if (found)
    return rv;
  pthread_mutex_lock(&s->watch_mu);
  for (i = 0; i < s->n_marks; i++)
    if (!strcmp(s->marks[i].prefix, prefix))
      break;
  if (i == s->n_marks) {
    /* Untracked so far: nothing cached against it can be older than the
     * latest published write, so that is a safe starting point. */
    char *copy = strdup(prefix);
    if (!copy || s->n_marks == sizeof s->marks / sizeof s->marks[0]) {
      free(copy);
      rv = s->published_rv;
      pthread_mutex_unlock(&s->watch_mu);
      return rv;
    }
    s->marks[i].prefix = copy;
    s->marks[i].len = len;
    s->marks[i].rv = s->published_rv;
    __atomic_store_n(&s->n_marks, s->n_marks + 1, __ATOMIC_RELEASE);
  }
  rv = s->marks[i].rv;
  pthread_mutex_unlock(&s->watch_mu);
  return rv;
}

int64_t kapi_store_oldest_watchable(kapi_store *s)
{
  int64_t rv;

  pthread_mutex_lock(&s->watch_mu);
  rv = hist_oldest(s);
  pthread_mutex_unlock(&s->watch_mu);
  return rv;
}

int kapi_store_get(kapi_store *s, const char *key, store_obj **ret)
{
  index_node *n;

  pthread_rwlock_rdlock(&s->index_lock);
  n = index_find(s->root, key);
  *ret = n ? store_obj_ref(n->obj) : NULL;
  pthread_rwlock_unlock(&s->index_lock);
  return n ? 0 : -ENOENT;
}

int kapi_store_list(kapi_store *s, const char *prefix, const char *start,
                    store_obj ***ret, size_t *ret_n, int64_t *ret_rev)
{
  obj_vec v = { 0 };
  int64_t rev;
  int r;

  pthread_rwlock_rdlock(&s->index_lock);
  r = index_collect(s, prefix ? prefix : "", start, &v);
  rev = s->rev;
  pthread_rwlock_unlock(&s->index_lock);
  if (r < 0)
    return r;
  *ret = v.items;
  *ret_n = v.n;
  if (ret_rev)
    *ret_rev = rev;
  return 0;
}

/* ---- lists at a past revision ------------------------------------------ */

/* What one key was at the target revision, as its oldest later event
 * tells: the version it replaced, or absent when it was ADDED. */
typedef struct past_value {
  const char *key; /* borrowed from the event */
  store_obj *obj;  /* borrowed; NULL = absent at the target */
  int64_t rv;      /* the event's revision */
} past_value;

static int in_range(const scan_range *rg, const char *key)
{
  int c = strcmp(key, rg->lo);

  return has_prefix(key, rg->prefix, rg->plen) && (c > 0 ||
                                                   (c == 0 && !rg->strict));
}

/* Oldest event first within a key, so the first of each key wins. */
static int cmp_past_value(const void *a, const void *b)
{
  const past_value *x = a, *y = b;
  int c = strcmp(x->key, y->key);

  if (c)
    return c;
  return x->rv < y->rv ? -1 : x->rv > y->rv;
}

/* New references to the kept events in range with from_rv < rv <= to_rv,
 * oldest first.  Writes up to to_rv are already in the index, but the
 * committer may not have published them yet: wait until it has (they
 * are queued, so that is at most one commit), since the history is the
 * only record of what they replaced.  Caller holds watch_mu. */
static int hist_collect(kapi_store *s, const scan_range *rg, int64_t from_rv,
                        int64_t to_rv, event_vec *ev)
{
  while (s->published_rv < to_rv)
    pthread_cond_wait(&s->published_cv, &s->watch_mu);
  if (from_rv < hist_oldest(s))
    return -ERANGE;
  for (size_t i = hist_first_after(s, from_rv); i < s->hist_n; i++) {
    kapi_event *e = hist_at(s, i);

    if (e->rv > to_rv)
      break;
    if (!in_range(rg, e->obj->key))
      continue;
    if (event_vec_push(ev, event_ref(e)) < 0) {
      kapi_event_unref(e);
      return -ENOMEM;
    }
  }
  return 0;
}

/* The value each changed key had before the events (sorted by key, one
 * per key).  Rolling back newest first ends on what the oldest event of
 * a key replaced, so only that one matters. */
static int past_values(const event_vec *ev, past_value **ret, size_t *ret_n)
{
  past_value *pv = malloc((ev->n ? ev->n : 1) * sizeof *pv);
  size_t n = 0;

  if (!pv)
    return -ENOMEM;
  for (size_t i = 0; i < ev->n; i++) {
    kapi_event *e = ev->items[i];

    pv[i] = (past_value){ e->obj->key,
                          e->type == KAPI_EVENT_ADDED ? NULL : e->old, e->rv };
  }
  qsort(pv, ev->n, sizeof *pv, cmp_past_value);
  for (size_t i = 0; i < ev->n; i++)
    if (n == 0 || strcmp(pv[n - 1].key, pv[i].key) != 0)
      pv[n++] = pv[i];
  *ret = pv;
  *ret_n = n;
  return 0;
}

/* Merges the current objects (sorted) with the past values of the keys
 * changed since (sorted): where a key changed, its past value replaces
 * it (or drops it, or brings it back).  *out gets new references. */
static int merge_past(const obj_vec *now, const past_value *pv, size_t npv,
                      obj_vec *out)
{
  size_t i = 0, j = 0;
  int r = 0;

  while (r == 0 && (i < now->n || j < npv)) {
    int c = i == now->n ? 1 : j == npv ? -1
                                       : strcmp(now->items[i]->key, pv[j].key);

    if (c < 0) {
      r = collect_obj(now->items[i++], out);
      continue;
    }
    if (c == 0)
      i++;
    if (pv[j].obj)
      r = collect_obj(pv[j].obj, out);
    j++;
  }
  if (r < 0)
    obj_vec_free(out);
  return r;
}

static int roll_back(const obj_vec *now, const event_vec *ev, obj_vec *out)
{
  past_value *pv = NULL;
  size_t npv = 0;
  int r = past_values(ev, &pv, &npv);

  if (r == 0)
    r = merge_past(now, pv, npv, out);
  free(pv);
  return r;
}

int kapi_store_list_at(kapi_store *s, const char *prefix, const char *start,
                       int64_t rv, store_obj ***ret, size_t *ret_n)
{
  scan_range rg = range_of(prefix ? prefix : "", start);
  obj_vec now = { 0 }, past = { 0 };
  event_vec later = { 0 };
  int64_t snap_rv;
  int r;

  /* As for INITIAL watches: snapshot and history under watch_mu, so the
   * history read belongs to the snapshot's revision. */
  pthread_mutex_lock(&s->watch_mu);
  pthread_rwlock_rdlock(&s->index_lock);
  r = index_collect(s, rg.prefix, start, &now);
  snap_rv = s->rev;
  pthread_rwlock_unlock(&s->index_lock);
  if (r == 0 && rv > snap_rv)
    r = -EAGAIN;
  if (r == 0 && rv < snap_rv)
    r = hist_collect(s, &rg, rv, snap_rv, &later);
  pthread_mutex_unlock(&s->watch_mu);

  if (r == 0 && later.n > 0) {
    r = roll_back(&now, &later, &past);
  } else if (r == 0) {
    past = now; /* nothing changed since rv under the prefix */
    now = (obj_vec){ 0 };
  }
  for (size_t i = 0; i < later.n; i++)
    kapi_event_unref(later.items[i]);
  free(later.items);
  obj_vec_free(&now);
  if (r < 0)
    return r;
  *ret = past.items;
  *ret_n = past.n;
  return 0;
}

/* ---- update ------------------------------------------------------------- */

/* Sets metadata.resourceVersion on doc and serializes it into a new
 * version of key.  doc stays the caller's. */
static int version_of(kj *doc, const char *key, int64_t rv, store_obj **ret)
{
  char buf[24];
  kj *val;
  char *json;
  size_t len;
  int r;

  snprintf(buf, sizeof buf, "%" PRId64, rv);
  val = kj_string(buf);
  if (!val)
    return -ENOMEM;
  r = kj_set_ptr(doc, "/metadata/resourceVersion", val);
  if (r < 0)
    return r;
  json = kj_dump(doc, &len);
  if (!json)
    return -ENOMEM;
  *ret = obj_new(key, strlen(key), rv, json, len);
  free(json);
  return *ret ? 0 : -ENOMEM;
}

/* Makes `obj` the current version of its key (cur_node: the key's node,
 * or NULL when absent).  Publishes the revision to readers with it. */
static int index_put(kapi_store *s, index_node *cur_node, store_obj *obj)
{
  index_node *node = NULL;
  store_obj *old = NULL;

  if (!cur_node) {
    node = malloc(sizeof *node);
    if (!node)
      return -ENOMEM;
    *node = (index_node){ .obj = store_obj_ref(obj), .height = 1 };
  }
  pthread_rwlock_wrlock(&s->index_lock);
  if (cur_node) {
    old = cur_node->obj;
    cur_node->obj = store_obj_ref(obj);
  } else {
    s->root = index_insert(s->root, node);
  }
  __atomic_store_n(&s->rev, obj->rv, __ATOMIC_RELEASE);
  pthread_rwlock_unlock(&s->index_lock);
  store_obj_unref(old);
  return 0;
}

static void index_delete(kapi_store *s, const char *key, int64_t rv)
{
  index_node *removed = NULL;

  pthread_rwlock_wrlock(&s->index_lock);
  s->root = index_remove(s->root, key, &removed);
  __atomic_store_n(&s->rev, rv, __ATOMIC_RELEASE);
  pthread_rwlock_unlock(&s->index_lock);
  if (removed) {
    store_obj_unref(removed->obj);
    free(removed);
  }
}

/* PUT: new_doc (taken) becomes the next version of key.  *ret_ev is the
 * change for the committer. */
static int apply_put(kapi_store *s, const char *key, index_node *cur_node,
                     kj *new_doc, kapi_event **ret_ev)
{
  store_obj *cur = cur_node ? cur_node->obj : NULL;
  store_obj *obj = NULL;
  kapi_event *e = NULL;
  int64_t rv = s->rev + 1;
  int r;

  r = version_of(new_doc, key, rv, &obj);
  kj_free(new_doc);
  if (r == 0) {
    e = event_new(cur ? KAPI_EVENT_MODIFIED : KAPI_EVENT_ADDED, rv, obj, cur);
    r = e ? 0 : -ENOMEM;
  }
  if (r == 0)
    r = index_put(s, cur_node, obj);
  store_obj_unref(obj);
  if (r < 0) {
    kapi_event_unref(e);
    return r;
  }
  *ret_ev = e;
  return 0;
}

/* DELETE: cur_doc (the parsed current version, borrowed) is
 * re-serialized with the deletion's revision for the event. */
static int apply_delete(kapi_store *s, index_node *cur_node, kj *cur_doc,
                        kapi_event **ret_ev)
{
  store_obj *last = NULL;
  kapi_event *e;
  int64_t rv = s->rev + 1;
  int r;

  if (!cur_node)
    return -ENOENT;
  r = version_of(cur_doc, cur_node->obj->key, rv, &last);
  if (r < 0)
    return r;
  e = event_new(KAPI_EVENT_DELETED, rv, last, cur_node->obj);
  store_obj_unref(last);
  if (!e)
    return -ENOMEM;
  index_delete(s, e->obj->key, rv);
  *ret_ev = e;
  return 0;
}

/* Calls fn and applies its decision.  Caller holds write_mu.  On
 * success *ret_ev is the change to commit (NULL for NOOP) and *ret_obj a
 * new reference to the resulting version (may be NULL). */
static int decide_and_apply(kapi_store *s, const char *key,
                            kapi_store_update_fn fn, void *arg,
                            kapi_event **ret_ev, store_obj **ret_obj)
{
  index_node *cur_node = index_find(s->root, key);
  kj *cur_doc = NULL, *new_doc = NULL;
  char perr[128];
  int decision, r;

  /* Only writers change the tree and we are the writer: no need for
   * index_lock to read it here. */
  if (cur_node) {
    r = kj_parse(cur_node->obj->json, cur_node->obj->len, &cur_doc, perr,
                 sizeof perr);
    if (r < 0) {
      LOG_ERROR("store: stored object %s is not JSON: %s", key, perr);
      return -EIO;
    }
  }
  decision = fn(cur_doc, arg, &new_doc);
  switch (decision) {
  case KAPI_STORE_PUT:
    r = new_doc ? apply_put(s, key, cur_node, new_doc, ret_ev) : -EINVAL;
    break;
  case KAPI_STORE_DELETE:
    r = apply_delete(s, cur_node, cur_doc, ret_ev);
    break;
  case KAPI_STORE_NOOP:
    r = 0;
    *ret_obj = cur_node ? store_obj_ref(cur_node->obj) : NULL;
    break;
  default:
    r = decision < 0 ? decision : -EINVAL;
    break;
  }
  kj_free(cur_doc);
  if (r == 0 && *ret_ev)
    *ret_obj = store_obj_ref((*ret_ev)->obj);
  return r < 0 ? r : decision;
}

int kapi_store_update(kapi_store *s, const char *key, kapi_store_update_fn fn,
                      void *arg, store_obj **ret)
{
  kapi_event *e = NULL;
  store_obj *obj = NULL;
  int64_t rv;
  int r;

  pthread_mutex_lock(&s->write_mu);
  r = decide_and_apply(s, key, fn, arg, &e, &obj);
  /* Already visible in memory: a change that cannot reach the committer
   * would be acknowledged to nobody yet seen by everybody. */
  if (e && enqueue(s, e) < 0)
    LOG_FATAL("store: out of memory queueing revision %" PRId64, e->rv);
  rv = s->rev; /* ours if we wrote, else the one the decision saw */
  pthread_mutex_unlock(&s->write_mu);
  /* Not only writes wait: a NOOP or an error (say -EEXIST) may rest on a
   * write still in flight, and must not be answered before it is as
   * durable as the writes it saw. */
  wait_durable(s, rv);
  if (r < 0 || !ret)
    store_obj_unref(obj);
  else
    *ret = obj;
  return r;
}

/* ---- watch -------------------------------------------------------------- */

static kapi_watch *watcher_new(kapi_store *s, const char *prefix,
                               kapi_watch_notify_fn notify, void *arg)
{
  kapi_watch *w = calloc(1, sizeof *w);

  if (!w)
    return NULL;
  w->prefix = strdup(prefix);
  if (!w->prefix) {
    free(w);
    return NULL;
  }
  w->prefix_len = strlen(prefix);
  w->notify = notify;
  w->arg = arg;
  w->q_max = s->watch_queue;
  pthread_mutex_init(&w->mu, NULL);
  return w;
}

/* Snapshots the objects under the prefix as the initial ADDED events;
 * later events are those after the snapshot's revision.  Caller holds
 * watch_mu, so nothing is published between snapshot and link: no gap,
 * no duplicate. */
static int watch_start_initial(kapi_store *s, kapi_watch *w)
{
  obj_vec v = { 0 };
  int r;

  pthread_rwlock_rdlock(&s->index_lock);
  r = index_collect(s, w->prefix, NULL, &v);
  w->from_rv = s->rev;
  pthread_rwlock_unlock(&s->index_lock);
  if (r < 0)
    return r;
  w->init = v.items;
  w->init_n = v.n;
  w->last_rv = w->from_rv;
  w->seen_rv = s->published_rv;
  return 0;
}

/* Replays the kept events after from_rv; later ones arrive live.
 * Caller holds watch_mu. */
static int watch_start_from(kapi_store *s, kapi_watch *w, int64_t from_rv,
                            int64_t *ret_oldest)
{
  int64_t oldest = hist_oldest(s);

  if (from_rv < oldest) {
    if (ret_oldest)
      *ret_oldest = oldest;
    return -ERANGE;
  }
  w->from_rv = w->last_rv = from_rv;
  watcher_replay(s, w);
  return 0;
}

int kapi_store_watch(kapi_store *s, const char *prefix, int64_t from_rv,
                     int flags, kapi_watch_notify_fn notify, void *arg,
                     kapi_watch **ret, int64_t *ret_oldest)
{
  kapi_watch *w = watcher_new(s, prefix ? prefix : "", notify, arg);
  int r;

  if (!w)
    return -ENOMEM;
  pthread_mutex_lock(&s->watch_mu);
  if (flags & KAPI_WATCH_INITIAL)
    r = watch_start_initial(s, w);
  else
    r = watch_start_from(s, w, from_rv, ret_oldest);
  /* A replay that overflowed leaves the watcher closed: it is handed
   * out detached, its events readable, then -EPIPE. */
  if (r == 0 && !w->closed)
    watcher_link(s, w);
  pthread_mutex_unlock(&s->watch_mu);
  if (r < 0) {
    watcher_free(w);
    return r;
  }
  *ret = w;
  return 0;
}

/* The next synthetic ADDED of the initial snapshot.  Caller holds
 * w->mu. */
static int next_initial(kapi_watch *w, kapi_event **ret)
{
  store_obj *o = w->init[w->init_pos];
  kapi_event *e = event_new(KAPI_EVENT_ADDED, o->rv, o, NULL);

  if (!e)
    return -ENOMEM;
  store_obj_unref(o); /* the event holds it now */
  w->init[w->init_pos++] = NULL;
  if (w->init_pos == w->init_n) {
    free(w->init);
    w->init = NULL;
    w->init_n = w->init_pos = 0;
  }
  *ret = e;
  return 0;
}

int kapi_watch_next(kapi_watch *w, kapi_event **ret)
{
  int r = 0;

  pthread_mutex_lock(&w->mu);
  if (w->init_pos < w->init_n) {
    r = next_initial(w, ret);
  } else if (w->q_n > 0) {
    *ret = w->q[w->q_head]; /* the queue's reference moves to the caller */
    w->q_head = (w->q_head + 1) % w->q_cap;
    w->q_n--;
    w->last_rv = (*ret)->rv;
  } else {
    r = w->closed ? -EPIPE : -EAGAIN;
  }
  pthread_mutex_unlock(&w->mu);
  return r;
}

int64_t kapi_watch_revision(kapi_watch *w)
{
  int64_t rv;

  pthread_mutex_lock(&w->mu);
  if (w->init_pos < w->init_n)
    rv = 0; /* the initial state has not been offered in full yet */
  else if (w->q_n == 0 && w->seen_rv > w->last_rv)
    rv = w->seen_rv; /* everything published since was not wanted */
  else
    rv = w->last_rv;
  pthread_mutex_unlock(&w->mu);
  return rv;
}

void kapi_watch_close(kapi_watch *w)
{
  kapi_store *s;

  if (!w)
    return;
  pthread_mutex_lock(&w->mu);
  s = w->store;
  pthread_mutex_unlock(&w->mu);
  if (s) {
    pthread_mutex_lock(&s->watch_mu);
    if (w->store)
      watcher_unlink(s, w);
    pthread_mutex_unlock(&s->watch_mu);
  }
  watcher_free(w);
}
