/*
 * workqueue.c - client-go's util/workqueue: the basic queue (dirty and
 * processing sets), the delaying queue (a min-heap of keys with their
 * due time, served by a timer thread) and the default controller rate
 * limiter (per-key exponential backoff 5 ms * 2^n up to 1000 s, combined
 * by max with an overall 10 qps / 100 burst token bucket).
 *
 * Invariants of the basic queue, as upstream:
 *   - a key is in `queue` at most once, and then it is in `dirty`;
 *   - a key handed out by get() is in `processing` until done();
 *   - a key added while processing goes only to `dirty`, and done()
 *     puts it back in the queue, so no two workers ever hold the same
 *     key and no add is lost.
 */
#include "workqueue_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "strmap.h"

#define BASE_DELAY_NS 5000000ULL            /* 5 ms */
#define MAX_DELAY_NS 1000000000000ULL       /* 1000 s */
#define BUCKET_QPS 10
#define BUCKET_BURST 100
#define BUCKET_INTERVAL_NS (1000000000ULL / BUCKET_QPS)
/* The timer thread re-checks at least this often, as upstream's
 * heartbeat: a safety net should a wakeup ever be missed. */
#define HEARTBEAT_NS 10000000000ULL

typedef struct waiting {
  char *key;
  uint64_t ready_ns;
  uint64_t seq;  /* ties broken by insertion order */
  size_t pos;    /* index in the heap */
} waiting;

struct kapi_workqueue {
  char *name;
  pthread_mutex_t mu;
  pthread_cond_t cond;       /* getters: a key was queued, or shutdown */
  pthread_cond_t timer_cond; /* timer: new earliest deadline, or shutdown */

  char **queue; /* ring buffer of owned keys */
  size_t qhead, qlen, qcap;
  kapi__strmap *dirty;      /* keys to be processed */
  kapi__strmap *processing; /* keys handed out, not yet done */

  waiting **heap; /* min-heap by (ready_ns, seq) */
  size_t hlen, hcap;
  kapi__strmap *waiting; /* key -> waiting entry */
  uint64_t seq;
  pthread_t timer;

  kapi__strmap *failures; /* key -> (uintptr_t) failures so far */
  uint64_t bucket_tat;    /* token bucket as GCRA: theoretical arrival */

  kapi__workqueue_clock now;
  void *now_arg;
  int shutting_down;
};

static uint64_t monotonic_ns(void *arg)
{
  struct timespec ts;

  (void)arg;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- the basic queue (caller holds mu) ------------------------------- */

static int queue_push(kapi_workqueue *q, const char *key)
{
  char *k;

  if (q->qlen == q->qcap) {
    size_t ncap = q->qcap ? q->qcap * 2 : 16;
    char **nq = malloc(ncap * sizeof *nq);

    if (!nq)
      return -ENOMEM;
    for (size_t i = 0; i < q->qlen; i++)
      nq[i] = q->queue[(q->qhead + i) % q->qcap];
    free(q->queue);
    q->queue = nq;
    q->qcap = ncap;
    q->qhead = 0;
  }
  k = strdup(key);
  if (!k)
    return -ENOMEM;
  q->queue[(q->qhead + q->qlen) % q->qcap] = k;
  q->qlen++;
  pthread_cond_signal(&q->cond);
  return 0;
}

static void add_locked(kapi_workqueue *q, const char *key)
{
  if (q->shutting_down || kapi__strmap_find(q->dirty, key, NULL))
    return;
  if (kapi__strmap_put(q->dirty, key, NULL, NULL) < 0) {
    LOG_ERROR("workqueue %s: out of memory adding %s", q->name, key);
    return;
  }
  /* Being processed: done() queues it again. */
  if (kapi__strmap_find(q->processing, key, NULL))
    return;
  if (queue_push(q, key) < 0) {
    kapi__strmap_remove(q->dirty, key, NULL);
    LOG_ERROR("workqueue %s: out of memory adding %s", q->name, key);
  }
}

/* ---- the delay heap (caller holds mu) ------------------------------------ */

static int before(const waiting *a, const waiting *b)
{
  if (a->ready_ns != b->ready_ns)
    return a->ready_ns < b->ready_ns;
  return a->seq < b->seq;
}

static void heap_set(kapi_workqueue *q, size_t i, waiting *w)
{
  q->heap[i] = w;
  w->pos = i;
}

static void heap_up(kapi_workqueue *q, size_t i)
{
  waiting *w = q->heap[i];

  while (i > 0) {
    size_t parent = (i - 1) / 2;

    if (!before(w, q->heap[parent]))
      break;
    heap_set(q, i, q->heap[parent]);
    i = parent;
  }
  heap_set(q, i, w);
}

static void heap_down(kapi_workqueue *q, size_t i)
{
  waiting *w = q->heap[i];

  for (;;) {
    size_t l = 2 * i + 1, m = i;
    const waiting *best = w;

    if (l < q->hlen && before(q->heap[l], best)) {
      m = l;
      best = q->heap[l];
    }
    if (l + 1 < q->hlen && before(q->heap[l + 1], best))
      m = l + 1;
    if (m == i)
      break;
    heap_set(q, i, q->heap[m]);
    i = m;
  }
  heap_set(q, i, w);
}

static waiting *heap_pop(kapi_workqueue *q)
{
  waiting *top = q->heap[0];

  q->hlen--;
  if (q->hlen > 0) {
    heap_set(q, 0, q->heap[q->hlen]);
    heap_down(q, 0);
  }
  return top;
}

/* Schedules key at ready_ns; a key already waiting keeps the earlier of
 * its two times (upstream: AddAfter never postpones). */
static int schedule(kapi_workqueue *q, const char *key, uint64_t ready_ns)
{
  waiting *w = kapi__strmap_get(q->waiting, key);

  if (w) {
    if (ready_ns < w->ready_ns) {
      w->ready_ns = ready_ns;
      heap_up(q, w->pos);
    }
    return 0;
  }
  if (q->hlen == q->hcap) {
    size_t ncap = q->hcap ? q->hcap * 2 : 16;
    waiting **nh = realloc(q->heap, ncap * sizeof *nh);

    if (!nh)
      return -ENOMEM;
    q->heap = nh;
    q->hcap = ncap;
  }
  w = calloc(1, sizeof *w);
  if (!w || !(w->key = strdup(key)) ||
      kapi__strmap_put(q->waiting, key, w, NULL) < 0) {
    if (w)
      free(w->key);
    free(w);
    return -ENOMEM;
  }
  w->ready_ns = ready_ns;
  w->seq = q->seq++;
  q->heap[q->hlen] = w;
  w->pos = q->hlen;
  q->hlen++;
  heap_up(q, w->pos);
  return 0;
}

/* Queues every due key; returns the earliest remaining deadline, or
 * UINT64_MAX. */
static uint64_t move_ready(kapi_workqueue *q)
{
  uint64_t now = q->now(q->now_arg);

  while (q->hlen > 0 && q->heap[0]->ready_ns <= now) {
    waiting *w = heap_pop(q);

    kapi__strmap_remove(q->waiting, w->key, NULL);
    add_locked(q, w->key);
    free(w->key);
    free(w);
  }
  return q->hlen > 0 ? q->heap[0]->ready_ns : UINT64_MAX;
}

static void *timer_main(void *arg)
{
  kapi_workqueue *q = arg;

  pthread_mutex_lock(&q->mu);
  while (!q->shutting_down) {
    uint64_t next = move_ready(q), now = q->now(q->now_arg);
    uint64_t wait = next == UINT64_MAX || next - now > HEARTBEAT_NS
                        ? HEARTBEAT_NS
                        : next - now;
    uint64_t deadline = monotonic_ns(NULL) + wait;
    struct timespec ts = { .tv_sec = (time_t)(deadline / 1000000000ULL),
                           .tv_nsec = (long)(deadline % 1000000000ULL) };

    pthread_cond_timedwait(&q->timer_cond, &q->mu, &ts);
  }
  pthread_mutex_unlock(&q->mu);
  return NULL;
}

/* ---- the rate limiter (caller holds mu) --------------------------------- */

static uint64_t exponential_ns(kapi_workqueue *q, const char *key)
{
  uintptr_t n = (uintptr_t)kapi__strmap_get(q->failures, key);

  if (kapi__strmap_put(q->failures, key, (void *)(n + 1), NULL) < 0)
    LOG_ERROR("workqueue %s: out of memory counting %s", q->name, key);
  /* 5 ms << 28 already exceeds 1000 s; also keeps the shift defined. */
  if (n >= 28)
    return MAX_DELAY_NS;
  return BASE_DELAY_NS << n > MAX_DELAY_NS ? MAX_DELAY_NS
                                           : BASE_DELAY_NS << n;
}

/* x/time/rate's Reserve as a GCRA: each reservation advances the
 * theoretical arrival time by one interval; it must wait for whatever
 * exceeds the burst's worth of intervals ahead of now.  Integer
 * arithmetic keeps the computed delays exact. */
static uint64_t bucket_ns(kapi_workqueue *q)
{
  uint64_t now = q->now(q->now_arg);
  uint64_t tat = (q->bucket_tat > now ? q->bucket_tat : now) +
                 BUCKET_INTERVAL_NS;
  uint64_t allowance = BUCKET_BURST * BUCKET_INTERVAL_NS;

  q->bucket_tat = tat;
  return tat - now > allowance ? tat - now - allowance : 0;
}

static uint64_t when_locked(kapi_workqueue *q, const char *key)
{
  uint64_t a = exponential_ns(q, key), b = bucket_ns(q);

  return a > b ? a : b;
}

/* ---- public API ------------------------------------------------------------ */

static void queue_free_parts(kapi_workqueue *q)
{
  for (size_t i = 0; i < q->qlen; i++)
    free(q->queue[(q->qhead + i) % q->qcap]);
  free(q->queue);
  for (size_t i = 0; i < q->hlen; i++) {
    free(q->heap[i]->key);
    free(q->heap[i]);
  }
  free(q->heap);
  kapi__strmap_free(q->dirty, NULL);
  kapi__strmap_free(q->processing, NULL);
  kapi__strmap_free(q->waiting, NULL);
  kapi__strmap_free(q->failures, NULL);
  free(q->name);
}

kapi_workqueue *kapi_workqueue_new(const char *name)
{
  kapi_workqueue *q = calloc(1, sizeof *q);
  pthread_condattr_t ca;

  if (!q)
    return NULL;
  q->name = strdup(name ? name : "");
  q->dirty = kapi__strmap_new();
  q->processing = kapi__strmap_new();
  q->waiting = kapi__strmap_new();
  q->failures = kapi__strmap_new();
  q->now = monotonic_ns;
  if (!q->name || !q->dirty || !q->processing || !q->waiting ||
      !q->failures) {
    queue_free_parts(q);
    free(q);
    return NULL;
  }
  pthread_mutex_init(&q->mu, NULL);
  pthread_cond_init(&q->cond, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&q->timer_cond, &ca);
  pthread_condattr_destroy(&ca);
  if (pthread_create(&q->timer, NULL, timer_main, q) != 0) {
    pthread_cond_destroy(&q->timer_cond);
    pthread_cond_destroy(&q->cond);
    pthread_mutex_destroy(&q->mu);
    queue_free_parts(q);
    free(q);
    return NULL;
  }
  return q;
}

void kapi_workqueue_free(kapi_workqueue *q)
{
  if (!q)
    return;
  kapi_workqueue_shutdown(q);
  pthread_join(q->timer, NULL);
  pthread_cond_destroy(&q->timer_cond);
  pthread_cond_destroy(&q->cond);
  pthread_mutex_destroy(&q->mu);
  queue_free_parts(q);
  free(q);
}

void kapi_workqueue_add(kapi_workqueue *q, const char *key)
{
  pthread_mutex_lock(&q->mu);
  add_locked(q, key);
  pthread_mutex_unlock(&q->mu);
}

static void add_after_ns(kapi_workqueue *q, const char *key, uint64_t ns)
{
  if (q->shutting_down)
    return;
  if (ns == 0) {
    add_locked(q, key);
    return;
  }
  if (schedule(q, key, q->now(q->now_arg) + ns) < 0) {
    LOG_ERROR("workqueue %s: out of memory delaying %s", q->name, key);
    return;
  }
  /* The new key may be the earliest: let the timer recompute its wait. */
  pthread_cond_signal(&q->timer_cond);
}

void kapi_workqueue_add_after(kapi_workqueue *q, const char *key,
                              int delay_ms)
{
  pthread_mutex_lock(&q->mu);
  add_after_ns(q, key, delay_ms > 0 ? (uint64_t)delay_ms * 1000000ULL : 0);
  pthread_mutex_unlock(&q->mu);
}

void kapi_workqueue_add_rate_limited(kapi_workqueue *q, const char *key)
{
  pthread_mutex_lock(&q->mu);
  if (!q->shutting_down)
    add_after_ns(q, key, when_locked(q, key));
  pthread_mutex_unlock(&q->mu);
}

void kapi_workqueue_forget(kapi_workqueue *q, const char *key)
{
  pthread_mutex_lock(&q->mu);
  kapi__strmap_remove(q->failures, key, NULL);
  pthread_mutex_unlock(&q->mu);
}

int kapi_workqueue_requeues(kapi_workqueue *q, const char *key)
{
  uintptr_t n;

  pthread_mutex_lock(&q->mu);
  n = (uintptr_t)kapi__strmap_get(q->failures, key);
  pthread_mutex_unlock(&q->mu);
  return n > INT32_MAX ? INT32_MAX : (int)n;
}

int kapi_workqueue_get(kapi_workqueue *q, char **ret)
{
  char *key;

  *ret = NULL;
  pthread_mutex_lock(&q->mu);
  while (q->qlen == 0 && !q->shutting_down)
    pthread_cond_wait(&q->cond, &q->mu);
  if (q->shutting_down) {
    pthread_mutex_unlock(&q->mu);
    return -EPIPE;
  }
  key = q->queue[q->qhead];
  q->qhead = (q->qhead + 1) % q->qcap;
  q->qlen--;
  if (kapi__strmap_put(q->processing, key, NULL, NULL) < 0) {
    /* Cannot track it: put it back rather than risk two workers. */
    q->qhead = (q->qhead + q->qcap - 1) % q->qcap;
    q->qlen++;
    pthread_mutex_unlock(&q->mu);
    return -ENOMEM;
  }
  kapi__strmap_remove(q->dirty, key, NULL);
  pthread_mutex_unlock(&q->mu);
  *ret = key;
  return 0;
}

void kapi_workqueue_done(kapi_workqueue *q, const char *key)
{
  pthread_mutex_lock(&q->mu);
  if (kapi__strmap_remove(q->processing, key, NULL) == 0 &&
      kapi__strmap_find(q->dirty, key, NULL) && !q->shutting_down &&
      queue_push(q, key) < 0)
    LOG_ERROR("workqueue %s: out of memory requeueing %s", q->name, key);
  pthread_mutex_unlock(&q->mu);
}

size_t kapi_workqueue_len(kapi_workqueue *q)
{
  size_t n;

  pthread_mutex_lock(&q->mu);
  n = q->qlen;
  pthread_mutex_unlock(&q->mu);
  return n;
}

void kapi_workqueue_shutdown(kapi_workqueue *q)
{
  pthread_mutex_lock(&q->mu);
  q->shutting_down = 1;
  pthread_cond_broadcast(&q->cond);
  pthread_cond_broadcast(&q->timer_cond);
  pthread_mutex_unlock(&q->mu);
}

/* ---- test hooks (workqueue_internal.h) ------------------------------------ */

void kapi__workqueue_set_clock(kapi_workqueue *q, kapi__workqueue_clock now,
                               void *arg)
{
  pthread_mutex_lock(&q->mu);
  q->now = now ? now : monotonic_ns;
  q->now_arg = arg;
  pthread_cond_signal(&q->timer_cond);
  pthread_mutex_unlock(&q->mu);
}

uint64_t kapi__workqueue_when_ns(kapi_workqueue *q, const char *key)
{
  uint64_t ns;

  pthread_mutex_lock(&q->mu);
  ns = when_locked(q, key);
  pthread_mutex_unlock(&q->mu);
  return ns;
}

size_t kapi__workqueue_flush_ready(kapi_workqueue *q)
{
  size_t n;

  pthread_mutex_lock(&q->mu);
  move_ready(q);
  n = q->hlen;
  pthread_mutex_unlock(&q->mu);
  return n;
}
