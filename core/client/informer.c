/*
 * informer.c - upstream's SharedIndexInformer (client-go tools/cache
 * shared_informer.go): a reflector feeds a DeltaFIFO; one thread pops
 * it, applies each delta to the indexer and tells the handlers, in
 * order; an optional timer queues resyncs.
 *
 * Locks, always taken in this order (never the reverse):
 *   FIFO lock (held by the FIFO while our pop callback runs)
 *     -> dispatch_mu (the handler list; held while delivering)
 *       -> the indexer's lock (inside each indexer call)
 *   mu (lifecycle and the sync condition) is never held while taking
 *   any of the above (the FIFO's has_synced takes no lock).  Handlers
 *   run under the first two: they may read the indexer, but must not
 *   add handlers to, wait for, or stop their own informer.
 * dispatch_mu is what makes a late handler see every object exactly
 * once: it gets the cache's contents and joins the list with no delta
 * being applied in between.
 */
#include "informer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "reflector.h"

typedef struct handler {
  kapi_event_handler h;
  void *arg;
} handler;

struct kapi_informer {
  kapi_indexer *ix;
  kapi_delta_fifo *fifo;
  kapi_reflector *refl;
  int resync_seconds;

  pthread_mutex_t dispatch_mu;
  handler *handlers;
  size_t nhandlers, hcap;

  pthread_mutex_t mu;
  pthread_cond_t cond; /* synced, stop (CLOCK_MONOTONIC) */
  int started, stopped;
  int stopping; /* atomic: also read by the delivery callback */
  pthread_t process_thread, resync_thread;
  int has_process_thread, has_resync_thread;
};

/* ---- delivery ------------------------------------------------------------ */

static void notify_add(kapi_informer *inf, kapi_cobj *o)
{
  for (size_t i = 0; i < inf->nhandlers; i++)
    if (inf->handlers[i].h.on_add)
      inf->handlers[i].h.on_add(inf->handlers[i].arg, o);
}

static void notify_update(kapi_informer *inf, kapi_cobj *old, kapi_cobj *o)
{
  for (size_t i = 0; i < inf->nhandlers; i++)
    if (inf->handlers[i].h.on_update)
      inf->handlers[i].h.on_update(inf->handlers[i].arg, old, o);
}

static void notify_delete(kapi_informer *inf, kapi_cobj *o)
{
  for (size_t i = 0; i < inf->nhandlers; i++)
    if (inf->handlers[i].h.on_delete)
      inf->handlers[i].h.on_delete(inf->handlers[i].arg, o);
}

static int same_rv(const kapi_cobj *a, const kapi_cobj *b)
{
  const char *ra = kj_get_str(kj_get(a->obj, "metadata"), "resourceVersion");
  const char *rb = kj_get_str(kj_get(b->obj, "metadata"), "resourceVersion");

  return ra && rb && strcmp(ra, rb) == 0;
}

/* Applies one delta to the cache, then tells the handlers (upstream's
 * processDeltas).  Caller holds dispatch_mu. */
static int apply(kapi_informer *inf, const kapi_delta *d)
{
  kapi_cobj *old = NULL;
  int r = 0;

  if (d->type == KAPI_DELTA_DELETED) {
    kapi_indexer_remove(inf->ix, d->obj->key);
    notify_delete(inf, d->obj);
    return 0;
  }
  if (kapi_indexer_get(inf->ix, d->obj->key, &old) < 0) {
    r = kapi_indexer_put(inf->ix, d->obj);
    if (r == 0)
      notify_add(inf, d->obj);
    return r;
  }
  if ((d->type == KAPI_DELTA_SYNC || d->type == KAPI_DELTA_REPLACED) &&
      same_rv(old, d->obj)) {
    /* Nothing changed: keep the cached object, so handlers get the very
     * same one as old and new and can tell a resync from a change. */
    notify_update(inf, old, old);
  } else {
    r = kapi_indexer_put(inf->ix, d->obj);
    if (r == 0)
      notify_update(inf, old, d->obj);
  }
  kapi_cobj_unref(old);
  return r;
}

static int handle_deltas(void *arg, const kapi_delta *d, size_t n)
{
  kapi_informer *inf = arg;
  int r = 0;

  /* Stopping: drain without delivering anything more. */
  if (__atomic_load_n(&inf->stopping, __ATOMIC_ACQUIRE))
    return 0;
  pthread_mutex_lock(&inf->dispatch_mu);
  for (size_t i = 0; i < n; i++) {
    int ri = apply(inf, &d[i]);

    if (ri < 0) {
      LOG_ERROR("informer: cannot cache %s: %d", d[i].obj->key, ri);
      r = ri;
    }
  }
  pthread_mutex_unlock(&inf->dispatch_mu);
  return r;
}

/* Wakes wait_synced (after a Replace and after each pop). */
static void wake_waiters(void *arg)
{
  kapi_informer *inf = arg;

  pthread_mutex_lock(&inf->mu);
  pthread_cond_broadcast(&inf->cond);
  pthread_mutex_unlock(&inf->mu);
}

static void *process_main(void *arg)
{
  kapi_informer *inf = arg;

  while (kapi_delta_fifo_pop(inf->fifo, handle_deltas, inf) != -EPIPE)
    wake_waiters(inf);
  return NULL;
}

/* ---- resync timer ---------------------------------------------------------- */

static struct timespec deadline_after_ms(long long ms)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += (time_t)(ms / 1000);
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

static void *resync_main(void *arg)
{
  kapi_informer *inf = arg;

  pthread_mutex_lock(&inf->mu);
  while (!inf->stopping) {
    struct timespec ts = deadline_after_ms(inf->resync_seconds * 1000LL);

    while (!inf->stopping &&
           pthread_cond_timedwait(&inf->cond, &inf->mu, &ts) != ETIMEDOUT)
      ;
    if (inf->stopping)
      break;
    /* Not under mu: the FIFO lock must never be taken inside it. */
    pthread_mutex_unlock(&inf->mu);
    LOG_V(4, "informer: resync");
    kapi_delta_fifo_resync(inf->fifo);
    pthread_mutex_lock(&inf->mu);
  }
  pthread_mutex_unlock(&inf->mu);
  return NULL;
}

/* ---- public API ---------------------------------------------------------------- */

kapi_informer *kapi_informer_new(kapi_client *c, const kapi_gvr *gvr,
                                 const char *ns,
                                 const kapi_informer_options *opts)
{
  kapi_informer_options none = { 0 };
  kapi_informer *inf = calloc(1, sizeof *inf);
  pthread_condattr_t ca;
  kapi_reflector_config rc;

  if (!opts)
    opts = &none;
  if (!inf)
    return NULL;
  pthread_mutex_init(&inf->dispatch_mu, NULL);
  pthread_mutex_init(&inf->mu, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&inf->cond, &ca);
  pthread_condattr_destroy(&ca);
  inf->resync_seconds = opts->resync_seconds > 0 ? opts->resync_seconds : 0;
  inf->ix = kapi_indexer_new();
  inf->fifo = inf->ix ? kapi_delta_fifo_new(inf->ix) : NULL;
  rc = (kapi_reflector_config){ .client = c,
                                .gvr = gvr,
                                .ns = ns,
                                .label_selector = opts->label_selector,
                                .field_selector = opts->field_selector,
                                .page_size = opts->page_size,
                                .fifo = inf->fifo,
                                .on_replace = wake_waiters,
                                .arg = inf };
  if (!inf->fifo || kapi_reflector_new(&rc, &inf->refl) < 0) {
    kapi_informer_free(inf);
    return NULL;
  }
  return inf;
}

int kapi_informer_add_handler(kapi_informer *inf,
                              const kapi_event_handler *h, void *arg)
{
  kapi_cobj **objs = NULL;
  size_t n = 0;
  int r = 0;

  pthread_mutex_lock(&inf->dispatch_mu);
  if (inf->nhandlers == inf->hcap) {
    size_t ncap = inf->hcap ? inf->hcap * 2 : 4;
    handler *nh = realloc(inf->handlers, ncap * sizeof *nh);

    if (!nh) {
      r = -ENOMEM;
      goto out;
    }
    inf->handlers = nh;
    inf->hcap = ncap;
  }
  /* A late handler first hears of everything already cached (upstream
   * replays the cache to a listener added to a running informer). */
  r = kapi_indexer_list(inf->ix, &objs, &n);
  if (r < 0)
    goto out;
  for (size_t i = 0; h->on_add && i < n; i++)
    h->on_add(arg, objs[i]);
  kapi_cobj_array_free(objs, n);
  inf->handlers[inf->nhandlers++] = (handler){ *h, arg };
out:
  pthread_mutex_unlock(&inf->dispatch_mu);
  return r;
}

int kapi_informer_add_index(kapi_informer *inf, const char *name,
                            kapi_index_fn fn)
{
  return kapi_indexer_add_index(inf->ix, name, fn);
}

kapi_indexer *kapi_informer_indexer(kapi_informer *inf)
{
  return inf->ix;
}

int kapi_informer_start(kapi_informer *inf)
{
  int r;

  pthread_mutex_lock(&inf->mu);
  if (inf->started || inf->stopped) {
    pthread_mutex_unlock(&inf->mu);
    return -EALREADY;
  }
  r = -pthread_create(&inf->process_thread, NULL, process_main, inf);
  inf->has_process_thread = r == 0;
  if (r == 0)
    r = kapi_reflector_start(inf->refl);
  if (r == 0 && inf->resync_seconds > 0) {
    r = -pthread_create(&inf->resync_thread, NULL, resync_main, inf);
    inf->has_resync_thread = r == 0;
  }
  /* Whatever did start is stopped and joined by kapi_informer_stop. */
  inf->started = 1;
  pthread_mutex_unlock(&inf->mu);
  if (r < 0)
    LOG_ERROR("informer: cannot start: %d", r);
  return r;
}

int kapi_informer_has_synced(kapi_informer *inf)
{
  return kapi_delta_fifo_has_synced(inf->fifo);
}

int kapi_informer_wait_synced(kapi_informer *inf, int timeout_ms)
{
  struct timespec ts = deadline_after_ms(timeout_ms < 0 ? 0 : timeout_ms);
  int r = 0;

  pthread_mutex_lock(&inf->mu);
  while (!kapi_delta_fifo_has_synced(inf->fifo)) {
    if (inf->stopping) {
      r = -ECANCELED;
      break;
    }
    if (timeout_ms < 0) {
      /* Waking every second guards against a wakeup lost between the
       * check and the wait (has_synced is not guarded by mu). */
      struct timespec tick = deadline_after_ms(1000);

      pthread_cond_timedwait(&inf->cond, &inf->mu, &tick);
    } else if (pthread_cond_timedwait(&inf->cond, &inf->mu, &ts) ==
               ETIMEDOUT) {
      r = kapi_delta_fifo_has_synced(inf->fifo) ? 0 : -ETIMEDOUT;
      break;
    }
  }
  pthread_mutex_unlock(&inf->mu);
  return r;
}

int64_t kapi_informer_last_rv(kapi_informer *inf)
{
  return kapi_reflector_last_rv(inf->refl);
}

void kapi_informer_request_stop(kapi_informer *inf)
{
  kapi_reflector_request_stop(inf->refl);
}

void kapi_informer_stop(kapi_informer *inf)
{
  int started;

  pthread_mutex_lock(&inf->mu);
  started = inf->started && !inf->stopped;
  inf->stopped = 1;
  __atomic_store_n(&inf->stopping, 1, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&inf->cond);
  pthread_mutex_unlock(&inf->mu);
  if (!started)
    return;
  /* Producer first, so nothing is queued after the FIFO closes. */
  kapi_reflector_stop(inf->refl);
  kapi_delta_fifo_close(inf->fifo);
  if (inf->has_process_thread)
    pthread_join(inf->process_thread, NULL);
  if (inf->has_resync_thread)
    pthread_join(inf->resync_thread, NULL);
}

void kapi_informer_free(kapi_informer *inf)
{
  if (!inf)
    return;
  kapi_informer_stop(inf);
  kapi_reflector_free(inf->refl);
  kapi_delta_fifo_free(inf->fifo);
  kapi_indexer_free(inf->ix);
  free(inf->handlers);
  pthread_cond_destroy(&inf->cond);
  pthread_mutex_destroy(&inf->mu);
  pthread_mutex_destroy(&inf->dispatch_mu);
  free(inf);
}
