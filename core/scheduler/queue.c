/*
 * queue.c - the scheduling queue: activeQ and backoffQ heaps, the
 * unschedulable and gated pods, and the nominator (upstream's
 * backend/queue/scheduling_queue.go, nominator.go).
 */
#include "queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "strmap.h"

#define NS_PER_S 1000000000LL

/* A binary heap of queued pods; each knows its index. */
typedef struct heap {
  kapi_qpod **v;
  size_t n, cap;
  int (*less)(kapi_sched_queue *q, const kapi_qpod *a, const kapi_qpod *b);
} heap;

/* One nominated pod. */
typedef struct nomination {
  kapi_cobj *pod;
  char *node;
} nomination;

struct kapi_sched_queue {
  pthread_mutex_t mu;
  pthread_cond_t cond;
  kapi_sq_config cfg;
  kapi__strmap *pods; /* key -> kapi_qpod, every place */
  heap active, backoff;
  size_t count[KAPI_SQ_N];
  uint64_t scheduling_cycle;   /* pops so far */
  uint64_t move_request_cycle; /* scheduling_cycle at the last move_all */
  int closed;
  kapi__strmap *nominated; /* pod key -> nomination */
  int n_nominated;         /* atomic mirror of the map's size */
};

/* ---- time and backoff -------------------------------------------------- */

static int64_t monotonic_ns(void *arg)
{
  struct timespec ts;

  (void)arg;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static int64_t now_ns(const kapi_sched_queue *q)
{
  return q->cfg.now(q->cfg.now_arg);
}

/* Doubling from the initial backoff, capped (upstream doubles with an
 * overflow-safe loop). */
int64_t kapi_sq_backoff_duration(const kapi_sched_queue *q, int attempts)
{
  int64_t d = q->cfg.initial_backoff_ns, max = q->cfg.max_backoff_ns;

  for (int i = 1; i < attempts; i++) {
    if (d > max - d)
      return max;
    d += d;
  }
  return d < max ? d : max;
}

static int64_t backoff_expiry(const kapi_sched_queue *q, const kapi_qpod *qp)
{
  return qp->timestamp + kapi_sq_backoff_duration(q, qp->attempts);
}

static int backing_off(const kapi_sched_queue *q, const kapi_qpod *qp)
{
  return qp->attempts > 0 && backoff_expiry(q, qp) > now_ns(q);
}

/* ---- heaps ------------------------------------------------------------- */

static int active_less(kapi_sched_queue *q, const kapi_qpod *a,
                       const kapi_qpod *b)
{
  return q->cfg.less(q->cfg.less_arg, a->pod->obj, a->timestamp, b->pod->obj,
                     b->timestamp);
}

static int backoff_less(kapi_sched_queue *q, const kapi_qpod *a,
                        const kapi_qpod *b)
{
  return backoff_expiry(q, a) < backoff_expiry(q, b);
}

static void heap_swap(heap *h, size_t i, size_t j)
{
  kapi_qpod *t = h->v[i];

  h->v[i] = h->v[j];
  h->v[j] = t;
  h->v[i]->heap_idx = i;
  h->v[j]->heap_idx = j;
}

static void sift_up(kapi_sched_queue *q, heap *h, size_t i)
{
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!h->less(q, h->v[i], h->v[parent]))
      break;
    heap_swap(h, i, parent);
    i = parent;
  }
}

static void sift_down(kapi_sched_queue *q, heap *h, size_t i)
{
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, best = i;
    if (l < h->n && h->less(q, h->v[l], h->v[best]))
      best = l;
    if (r < h->n && h->less(q, h->v[r], h->v[best]))
      best = r;
    if (best == i)
      return;
    heap_swap(h, i, best);
    i = best;
  }
}

static int heap_push(kapi_sched_queue *q, heap *h, kapi_qpod *qp)
{
  if (h->n == h->cap) {
    size_t cap = h->cap ? h->cap * 2 : 64;
    kapi_qpod **v = realloc(h->v, cap * sizeof *v);
    if (!v)
      return -ENOMEM;
    h->v = v;
    h->cap = cap;
  }
  qp->heap_idx = h->n;
  h->v[h->n++] = qp;
  sift_up(q, h, qp->heap_idx);
  return 0;
}

static void heap_remove(kapi_sched_queue *q, heap *h, kapi_qpod *qp)
{
  size_t i = qp->heap_idx;

  if (i >= h->n || h->v[i] != qp)
    return;
  h->n--;
  if (i != h->n) {
    h->v[i] = h->v[h->n];
    h->v[i]->heap_idx = i;
    sift_down(q, h, i);
    sift_up(q, h, i);
  }
}

/* The element at i changed its key. */
static void heap_fix(kapi_sched_queue *q, heap *h, size_t i)
{
  sift_down(q, h, i);
  sift_up(q, h, i);
}

/* ---- placement (lock held) --------------------------------------------- */

static void qpod_free(kapi_qpod *qp)
{
  if (!qp)
    return;
  kapi_cobj_unref(qp->pod);
  kapi_cobj_unref(qp->cycle_pod);
  free(qp);
}

/* Takes qp out of wherever it is (not from the key map). */
static void unplace(kapi_sched_queue *q, kapi_qpod *qp)
{
  if (qp->where == KAPI_SQ_ACTIVE)
    heap_remove(q, &q->active, qp);
  else if (qp->where == KAPI_SQ_BACKOFF)
    heap_remove(q, &q->backoff, qp);
  q->count[qp->where]--;
}

/* Puts qp (currently nowhere) at `where`. */
static int place(kapi_sched_queue *q, kapi_qpod *qp, kapi_sq_where where)
{
  int r = 0;

  if (where == KAPI_SQ_ACTIVE)
    r = heap_push(q, &q->active, qp);
  else if (where == KAPI_SQ_BACKOFF)
    r = heap_push(q, &q->backoff, qp);
  if (r < 0) {
    /* Out of memory: park it; a flush retries. */
    where = KAPI_SQ_UNSCHEDULABLE;
  }
  qp->where = where;
  q->count[where]++;
  if (where == KAPI_SQ_ACTIVE)
    pthread_cond_signal(&q->cond);
  return r;
}

static void move(kapi_sched_queue *q, kapi_qpod *qp, kapi_sq_where where)
{
  unplace(q, qp);
  place(q, qp, where);
}

/* PreEnqueue (SchedulingGates): a gated pod waits outside the queues. */
static int gated(const kj *pod)
{
  return kj_len(kj_get(kj_get(pod, "spec"), "schedulingGates")) > 0;
}

/* Unschedulable pods go to backoffQ while backing off, else activeQ. */
static kapi_sq_where requeue_target(const kapi_sched_queue *q,
                                    const kapi_qpod *qp)
{
  if (gated(qp->pod->obj))
    return KAPI_SQ_GATED;
  return backing_off(q, qp) ? KAPI_SQ_BACKOFF : KAPI_SQ_ACTIVE;
}

/*
 * upstream's isPodUpdated: did anything but status and bookkeeping
 * change?  Our own status patches (PodScheduled=False) come back as
 * updates and must not requeue the pod.
 */
static int pod_changed(const kj *a, const kj *b)
{
  const kj *ma = kj_get(a, "metadata"), *mb = kj_get(b, "metadata");

  return !kj_equal(kj_get(a, "spec"), kj_get(b, "spec")) ||
         !kj_equal(kj_get(ma, "labels"), kj_get(mb, "labels")) ||
         !kj_equal(kj_get(ma, "annotations"), kj_get(mb, "annotations")) ||
         !kj_equal(kj_get(ma, "deletionTimestamp"),
                   kj_get(mb, "deletionTimestamp"));
}

/* ---- public ------------------------------------------------------------ */

kapi_sched_queue *kapi_sq_new(const kapi_sq_config *cfg)
{
  kapi_sched_queue *q;

  if (!cfg || !cfg->less)
    return NULL;
  q = calloc(1, sizeof *q);
  if (!q)
    return NULL;
  q->cfg = *cfg;
  if (!q->cfg.now)
    q->cfg.now = monotonic_ns;
  if (q->cfg.initial_backoff_ns <= 0)
    q->cfg.initial_backoff_ns = 1 * NS_PER_S;
  if (q->cfg.max_backoff_ns <= 0)
    q->cfg.max_backoff_ns = 10 * NS_PER_S;
  if (q->cfg.max_unschedulable_ns <= 0)
    q->cfg.max_unschedulable_ns = 300 * NS_PER_S;
  q->active.less = active_less;
  q->backoff.less = backoff_less;
  q->pods = kapi__strmap_new();
  q->nominated = kapi__strmap_new();
  if (!q->pods || !q->nominated) {
    kapi__strmap_free(q->pods, NULL);
    kapi__strmap_free(q->nominated, NULL);
    free(q);
    return NULL;
  }
  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->cond, NULL);
  return q;
}

static void nomination_free(void *p)
{
  nomination *n = p;

  if (!n)
    return;
  kapi_cobj_unref(n->pod);
  free(n->node);
  free(n);
}

void kapi_sq_free(kapi_sched_queue *q)
{
  if (!q)
    return;
  kapi__strmap_free(q->pods, (void (*)(void *))qpod_free);
  kapi__strmap_free(q->nominated, nomination_free);
  free(q->active.v);
  free(q->backoff.v);
  pthread_cond_destroy(&q->cond);
  pthread_mutex_destroy(&q->mu);
  free(q);
}

/* Lock held. */
static int update_locked(kapi_sched_queue *q, kapi_qpod *qp, kapi_cobj *pod)
{
  kapi_cobj *old = qp->pod;
  int changed = pod_changed(old->obj, pod->obj);

  qp->pod = kapi_cobj_ref(pod);
  switch (qp->where) {
  case KAPI_SQ_ACTIVE:
    heap_fix(q, &q->active, qp->heap_idx);
    break;
  case KAPI_SQ_BACKOFF:
    heap_fix(q, &q->backoff, qp->heap_idx);
    break;
  case KAPI_SQ_IN_FLIGHT:
    qp->updated |= changed;
    break;
  case KAPI_SQ_GATED:
  case KAPI_SQ_UNSCHEDULABLE:
    /* An update may be what the pod was waiting for. */
    if (changed || (qp->where == KAPI_SQ_GATED && !gated(pod->obj)))
      move(q, qp, requeue_target(q, qp));
    break;
  default:
    break;
  }
  kapi_cobj_unref(old);
  return 0;
}

int kapi_sq_add(kapi_sched_queue *q, kapi_cobj *pod)
{
  kapi_qpod *qp;
  int r;

  pthread_mutex_lock(&q->mu);
  qp = kapi__strmap_get(q->pods, pod->key);
  if (qp) {
    r = update_locked(q, qp, pod);
    pthread_mutex_unlock(&q->mu);
    return r;
  }
  qp = calloc(1, sizeof *qp);
  if (!qp) {
    pthread_mutex_unlock(&q->mu);
    return -ENOMEM;
  }
  qp->pod = kapi_cobj_ref(pod);
  qp->timestamp = now_ns(q);
  r = kapi__strmap_put(q->pods, pod->key, qp, NULL);
  if (r < 0) {
    qpod_free(qp);
  } else {
    place(q, qp, gated(pod->obj) ? KAPI_SQ_GATED : KAPI_SQ_ACTIVE);
    r = 0;
  }
  pthread_mutex_unlock(&q->mu);
  return r;
}

int kapi_sq_update(kapi_sched_queue *q, kapi_cobj *old, kapi_cobj *pod)
{
  kapi_qpod *qp;

  (void)old;
  pthread_mutex_lock(&q->mu);
  qp = kapi__strmap_get(q->pods, pod->key);
  if (!qp) {
    pthread_mutex_unlock(&q->mu);
    return kapi_sq_add(q, pod);
  }
  update_locked(q, qp, pod);
  pthread_mutex_unlock(&q->mu);
  return 0;
}

int kapi_sq_delete(kapi_sched_queue *q, const char *key)
{
  kapi_qpod *qp;
  int r = -ENOENT;

  pthread_mutex_lock(&q->mu);
  qp = kapi__strmap_get(q->pods, key);
  if (qp && qp->where == KAPI_SQ_IN_FLIGHT) {
    qp->deleted = 1; /* the loop still holds it */
    r = 0;
  } else if (qp) {
    unplace(q, qp);
    kapi__strmap_remove(q->pods, key, NULL);
    qpod_free(qp);
    r = 0;
  }
  pthread_mutex_unlock(&q->mu);
  kapi_sq_unnominate(q, key);
  return r;
}

/* Lock held, activeQ not empty. */
static kapi_qpod *pop_locked(kapi_sched_queue *q)
{
  kapi_qpod *qp = q->active.v[0];

  move(q, qp, KAPI_SQ_IN_FLIGHT);
  qp->attempts++;
  if (!qp->initial_attempt)
    qp->initial_attempt = now_ns(q);
  qp->popped_cycle = ++q->scheduling_cycle;
  qp->updated = 0;
  kapi_cobj_unref(qp->cycle_pod);
  qp->cycle_pod = kapi_cobj_ref(qp->pod);
  return qp;
}

kapi_qpod *kapi_sq_pop(kapi_sched_queue *q)
{
  kapi_qpod *qp = NULL;

  pthread_mutex_lock(&q->mu);
  while (!q->closed && q->active.n == 0)
    pthread_cond_wait(&q->cond, &q->mu);
  if (!q->closed)
    qp = pop_locked(q);
  pthread_mutex_unlock(&q->mu);
  return qp;
}

kapi_qpod *kapi_sq_try_pop(kapi_sched_queue *q)
{
  kapi_qpod *qp = NULL;

  pthread_mutex_lock(&q->mu);
  if (!q->closed && q->active.n > 0)
    qp = pop_locked(q);
  pthread_mutex_unlock(&q->mu);
  return qp;
}

/* Lock held: forget an in-flight pod. */
static void forget_locked(kapi_sched_queue *q, kapi_qpod *qp)
{
  q->count[qp->where]--;
  kapi__strmap_remove(q->pods, qp->pod->key, NULL);
  qpod_free(qp);
}

void kapi_sq_done(kapi_sched_queue *q, kapi_qpod *qp)
{
  pthread_mutex_lock(&q->mu);
  forget_locked(q, qp);
  pthread_mutex_unlock(&q->mu);
}

void kapi_sq_requeue(kapi_sched_queue *q, kapi_qpod *qp, int unschedulable)
{
  kapi_sq_where where;

  pthread_mutex_lock(&q->mu);
  if (qp->deleted) {
    forget_locked(q, qp);
    pthread_mutex_unlock(&q->mu);
    return;
  }
  /* Refreshed: the backoff counts from now, and QueueSort sees it as
   * newly queued (upstream's AddUnschedulableIfNotPresent). */
  qp->timestamp = now_ns(q);
  kapi_cobj_unref(qp->cycle_pod);
  qp->cycle_pod = NULL;
  if (gated(qp->pod->obj))
    where = KAPI_SQ_GATED;
  else if (unschedulable && !qp->updated &&
           q->move_request_cycle < qp->popped_cycle)
    where = KAPI_SQ_UNSCHEDULABLE;
  else
    where = KAPI_SQ_BACKOFF;
  move(q, qp, where);
  pthread_mutex_unlock(&q->mu);
}

void kapi_sq_move_all(kapi_sched_queue *q, const char *event)
{
  kapi__strmap_iter it = {0};
  size_t moved = 0;

  pthread_mutex_lock(&q->mu);
  while (kapi__strmap_next(q->pods, &it)) {
    kapi_qpod *qp = it.val;
    if (qp->where != KAPI_SQ_UNSCHEDULABLE)
      continue;
    move(q, qp, requeue_target(q, qp));
    moved++;
  }
  /* Pods in flight now go to backoffQ if they fail: the event may
   * concern them. */
  q->move_request_cycle = q->scheduling_cycle;
  pthread_mutex_unlock(&q->mu);
  if (moved)
    LOG_V(4, "%s: moved %zu unschedulable pod(s) back to the queue",
          event ? event : "event", moved);
}

void kapi_sq_flush_backoff(kapi_sched_queue *q)
{
  int64_t now;

  pthread_mutex_lock(&q->mu);
  now = now_ns(q);
  while (q->backoff.n > 0 && backoff_expiry(q, q->backoff.v[0]) <= now)
    move(q, q->backoff.v[0], KAPI_SQ_ACTIVE);
  pthread_mutex_unlock(&q->mu);
}

void kapi_sq_flush_unschedulable(kapi_sched_queue *q)
{
  kapi__strmap_iter it = {0};
  int64_t now;

  pthread_mutex_lock(&q->mu);
  now = now_ns(q);
  while (kapi__strmap_next(q->pods, &it)) {
    kapi_qpod *qp = it.val;
    if (qp->where == KAPI_SQ_UNSCHEDULABLE &&
        now - qp->timestamp > q->cfg.max_unschedulable_ns)
      move(q, qp, requeue_target(q, qp));
  }
  pthread_mutex_unlock(&q->mu);
}

int kapi_sq_is_deleted(kapi_sched_queue *q, const kapi_qpod *qp)
{
  int d;

  pthread_mutex_lock(&q->mu);
  d = qp->deleted;
  pthread_mutex_unlock(&q->mu);
  return d;
}

size_t kapi_sq_count(kapi_sched_queue *q, kapi_sq_where where)
{
  size_t n;

  if ((int)where < 0 || where >= KAPI_SQ_N)
    return 0;
  pthread_mutex_lock(&q->mu);
  n = q->count[where];
  pthread_mutex_unlock(&q->mu);
  return n;
}

int kapi_sq_where_is(kapi_sched_queue *q, const char *key,
                     kapi_sq_where *ret)
{
  kapi_qpod *qp;

  pthread_mutex_lock(&q->mu);
  qp = kapi__strmap_get(q->pods, key);
  if (qp)
    *ret = qp->where;
  pthread_mutex_unlock(&q->mu);
  return qp ? 0 : -ENOENT;
}

void kapi_sq_close(kapi_sched_queue *q)
{
  pthread_mutex_lock(&q->mu);
  q->closed = 1;
  pthread_cond_broadcast(&q->cond);
  pthread_mutex_unlock(&q->mu);
}

/* ---- nominator --------------------------------------------------------- */

void kapi_sq_nominate(kapi_sched_queue *q, kapi_cobj *pod, const char *node)
{
  nomination *n, *old = NULL;

  if (!node || !*node) {
    kapi_sq_unnominate(q, pod->key);
    return;
  }
  n = calloc(1, sizeof *n);
  if (!n || !(n->node = strdup(node))) {
    free(n);
    return;
  }
  n->pod = kapi_cobj_ref(pod);
  pthread_mutex_lock(&q->mu);
  if (kapi__strmap_put(q->nominated, pod->key, n, (void **)&old) < 0) {
    nomination_free(n);
  } else {
    nomination_free(old);
    __atomic_store_n(&q->n_nominated, (int)kapi__strmap_len(q->nominated),
                     __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&q->mu);
}

void kapi_sq_unnominate(kapi_sched_queue *q, const char *key)
{
  nomination *old = NULL;

  if (!kapi_sq_has_nominated(q))
    return;
  pthread_mutex_lock(&q->mu);
  if (kapi__strmap_remove(q->nominated, key, (void **)&old) == 0) {
    nomination_free(old);
    __atomic_store_n(&q->n_nominated, (int)kapi__strmap_len(q->nominated),
                     __ATOMIC_RELEASE);
  }
  pthread_mutex_unlock(&q->mu);
}

int kapi_sq_has_nominated(kapi_sched_queue *q)
{
  return __atomic_load_n(&q->n_nominated, __ATOMIC_ACQUIRE) > 0;
}

int kapi_sq_nominated(kapi_sched_queue *q, const char *node,
                      const char *except_key, kapi_cobj ***ret, size_t *n)
{
  kapi__strmap_iter it = {0};
  kapi_cobj **v = NULL;
  size_t cnt = 0, cap = 0;
  int r = 0;

  *ret = NULL;
  *n = 0;
  if (!kapi_sq_has_nominated(q))
    return 0;
  pthread_mutex_lock(&q->mu);
  while (kapi__strmap_next(q->nominated, &it)) {
    nomination *nm = it.val;
    if (strcmp(nm->node, node) != 0 ||
        (except_key && !strcmp(it.key, except_key)))
      continue;
    if (cnt == cap) {
      kapi_cobj **nv = realloc(v, (cap = cap ? cap * 2 : 4) * sizeof *nv);
      if (!nv) {
        r = -ENOMEM;
        break;
      }
      v = nv;
    }
    v[cnt++] = kapi_cobj_ref(nm->pod);
  }
  pthread_mutex_unlock(&q->mu);
  if (r < 0) {
    kapi_cobj_array_free(v, cnt);
    return r;
  }
  *ret = v;
  *n = cnt;
  return 0;
}
