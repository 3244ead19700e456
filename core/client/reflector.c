/*
 * reflector.c - List and Watch one resource type into a DeltaFIFO
 * (see reflector.h for the protocol; upstream: client-go tools/cache
 * reflector.go and tools/pager).
 */
#include "reflector.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define DEFAULT_PAGE_SIZE 500
#define BACKOFF_INITIAL_MS 800.0
#define BACKOFF_CAP_MS 30000.0
#define BACKOFF_RESET_MS 120000.0 /* quiet this long: start over */
#define WATCH_MIN_TIMEOUT_S 300   /* watches last 300-600 s */
#define SHORT_WATCH_MS 1000.0     /* closed sooner with no event: odd */

struct kapi_reflector {
  kapi_client *client;
  char *group, *version, *resource;
  kapi_gvr gvr; /* points at the copies above */
  char *ns, *label, *field;
  int64_t page_size;
  kapi_delta_fifo *fifo;
  void (*on_replace)(void *arg);
  void *arg;
  char name[256]; /* for logs: "pods in ns labels app=x" */

  pthread_mutex_t mu; /* last_rv, lists, backoff sleeps */
  pthread_cond_t cond; /* stop wakes sleepers (CLOCK_MONOTONIC) */
  char last_rv[32];
  unsigned lists;
  volatile int stop;  /* also polled by kapi_client_watch */
  int started, joined;
  pthread_t thread;

  /* Backoff state: only the reflector's thread touches it. */
  double backoff_ms;
  double last_backoff_at;
  uint64_t rng;
};

/* What to do after a watch. */
typedef enum watch_outcome {
  WATCH_AGAIN,   /* ended normally: watch again from the last RV */
  WATCH_BACKOFF, /* connection trouble: back off, then watch again */
  WATCH_RELIST,  /* history lost or server error: back off, then list */
} watch_outcome;

static double now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int stopping(kapi_reflector *r)
{
  return __atomic_load_n(&r->stop, __ATOMIC_ACQUIRE);
}

/* xorshift64*: jitter only, no need for anything stronger. */
static double rand01(kapi_reflector *r)
{
  r->rng ^= r->rng >> 12;
  r->rng ^= r->rng << 25;
  r->rng ^= r->rng >> 27;
  return (double)((r->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* ---- lifecycle ---------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
  return s && *s ? strdup(s) : NULL;
}

void kapi_reflector_free(kapi_reflector *r)
{
  if (!r)
    return;
  kapi_reflector_stop(r);
  pthread_cond_destroy(&r->cond);
  pthread_mutex_destroy(&r->mu);
  free(r->group);
  free(r->version);
  free(r->resource);
  free(r->ns);
  free(r->label);
  free(r->field);
  free(r);
}

int kapi_reflector_new(const kapi_reflector_config *cfg,
                       kapi_reflector **ret)
{
  kapi_reflector *r = calloc(1, sizeof *r);
  pthread_condattr_t ca;

  *ret = NULL;
  if (!r)
    return -ENOMEM;
  pthread_mutex_init(&r->mu, NULL);
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&r->cond, &ca);
  pthread_condattr_destroy(&ca);
  r->client = cfg->client;
  r->group = strdup(cfg->gvr->group ? cfg->gvr->group : "");
  r->version = strdup(cfg->gvr->version ? cfg->gvr->version : "v1");
  r->resource = strdup(cfg->gvr->resource);
  r->ns = dup_or_null(cfg->ns);
  r->label = dup_or_null(cfg->label_selector);
  r->field = dup_or_null(cfg->field_selector);
  if (!r->group || !r->version || !r->resource ||
      (cfg->ns && *cfg->ns && !r->ns) ||
      (cfg->label_selector && *cfg->label_selector && !r->label) ||
      (cfg->field_selector && *cfg->field_selector && !r->field)) {
    kapi_reflector_free(r);
    return -ENOMEM;
  }
  r->gvr = (kapi_gvr){ r->group, r->version, r->resource,
                       cfg->gvr->namespaced };
  r->page_size = cfg->page_size > 0 ? cfg->page_size : DEFAULT_PAGE_SIZE;
  r->fifo = cfg->fifo;
  r->on_replace = cfg->on_replace;
  r->arg = cfg->arg;
  snprintf(r->name, sizeof r->name, "%s%s%s%s%s%s%s%s%s", r->resource,
           *r->group ? "." : "", r->group, r->ns ? " in " : "",
           r->ns ? r->ns : "", r->label ? " labels " : "",
           r->label ? r->label : "", r->field ? " fields " : "",
           r->field ? r->field : "");
  r->backoff_ms = BACKOFF_INITIAL_MS;
  r->last_backoff_at = now_ms();
  r->rng = ((uint64_t)(uintptr_t)r ^ (uint64_t)time(NULL) << 20) | 1;
  strcpy(r->last_rv, "");
  *ret = r;
  return 0;
}

/* ---- waiting ------------------------------------------------------------- */

/* Sleeps ms unless stopped first. */
static void sleep_ms(kapi_reflector *r, double ms)
{
  struct timespec ts;
  double until;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  until = (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6 + ms;
  ts.tv_sec = (time_t)(until / 1e3);
  ts.tv_nsec = (long)((until - (double)ts.tv_sec * 1e3) * 1e6);
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&r->mu);
  while (!stopping(r) &&
         pthread_cond_timedwait(&r->cond, &r->mu, &ts) != ETIMEDOUT)
    ;
  pthread_mutex_unlock(&r->mu);
}

/* Upstream's exponential backoff manager: 0.8 s doubling to 30 s, each
 * wait jittered up to twice as long, back to 0.8 s after two minutes
 * without needing one. */
static void backoff(kapi_reflector *r)
{
  double now = now_ms(), d;

  if (now - r->last_backoff_at > BACKOFF_RESET_MS)
    r->backoff_ms = BACKOFF_INITIAL_MS;
  d = r->backoff_ms;
  r->backoff_ms = r->backoff_ms * 2 > BACKOFF_CAP_MS ? BACKOFF_CAP_MS
                                                     : r->backoff_ms * 2;
  d += d * rand01(r);
  LOG_V(4, "reflector %s: backing off %.0f ms", r->name, d);
  sleep_ms(r, d);
  r->last_backoff_at = now_ms();
}

/* ---- resource versions ---------------------------------------------------- */

static void set_last_rv(kapi_reflector *r, const char *rv)
{
  if (!rv || !*rv)
    return;
  pthread_mutex_lock(&r->mu);
  snprintf(r->last_rv, sizeof r->last_rv, "%s", rv);
  pthread_mutex_unlock(&r->mu);
}

static void get_last_rv(kapi_reflector *r, char *buf, size_t len)
{
  pthread_mutex_lock(&r->mu);
  snprintf(buf, len, "%s", r->last_rv);
  pthread_mutex_unlock(&r->mu);
}

int64_t kapi_reflector_last_rv(kapi_reflector *r)
{
  char buf[32];

  get_last_rv(r, buf, sizeof buf);
  return strtoll(buf, NULL, 10);
}

unsigned kapi_reflector_lists(kapi_reflector *r)
{
  unsigned n;

  pthread_mutex_lock(&r->mu);
  n = r->lists;
  pthread_mutex_unlock(&r->mu);
  return n;
}

static const char *object_rv(const kj *obj)
{
  return kj_get_str(kj_get(obj, "metadata"), "resourceVersion");
}

/* ---- list ------------------------------------------------------------------ */

typedef struct objvec {
  kapi_cobj **v;
  size_t n, cap;
} objvec;

static void objvec_clear(objvec *o)
{
  kapi_cobj_array_free(o->v, o->n);
  *o = (objvec){ 0 };
}

/* Typed list items carry no kind/apiVersion; watch events do.  Give the
 * listed ones the same, so cached objects look alike however they
 * arrived (and can be sent back as they are). */
static int add_type_meta(kj *item, const kj *list)
{
  const char *lk = kj_get_str(list, "kind"), *av = kj_get_str(list,
                                                              "apiVersion");
  size_t n = lk ? strlen(lk) : 0;

  if (!kj_get(item, "apiVersion") && av && kj_set_str(item, "apiVersion",
                                                      av) < 0)
    return -ENOMEM;
  if (!kj_get(item, "kind") && n > 4 && strcmp(lk + n - 4, "List") == 0) {
    kj *k = kj_stringn(lk, n - 4);

    if (!k || kj_set(item, "kind", k) < 0)
      return -ENOMEM;
  }
  return 0;
}

/* Moves the items of one page into out. */
static int take_items(kj *page, objvec *out)
{
  kj *items = kj_get(page, "items");

  for (size_t i = 0; i < kj_len(items); i++) {
    kj *item = kj_clone(kj_at(items, i));
    kapi_cobj *o;

    if (!item || add_type_meta(item, page) < 0) {
      kj_free(item);
      return -ENOMEM;
    }
    o = kapi_cobj_new(item);
    if (!o)
      return -ENOMEM;
    if (out->n == out->cap) {
      size_t ncap = out->cap ? out->cap * 2 : 64;
      kapi_cobj **nv = realloc(out->v, ncap * sizeof *nv);

      if (!nv) {
        kapi_cobj_unref(o);
        return -ENOMEM;
      }
      out->v = nv;
      out->cap = ncap;
    }
    out->v[out->n++] = o;
  }
  return 0;
}

/* A full list, in pages; *rv gets the snapshot's resourceVersion.  As
 * upstream's pager, an expired continue token restarts the list whole
 * (unpaged) rather than stitching pages of different snapshots. */
static int list_all(kapi_reflector *r, objvec *out, char *rv, size_t rvlen)
{
  char *cont = NULL;
  int64_t limit = r->page_size;
  int rc = 0;

  rv[0] = '\0';
  for (;;) {
    kapi_list_opts o = { .label_selector = r->label,
                         .field_selector = r->field,
                         .limit = limit,
                         .continue_token = cont };
    kapi_result res = { 0 };
    kj *page = NULL;
    const char *next;

    rc = kapi_client_list(r->client, &r->gvr, r->ns, &o, &page, &res);
    if (rc < 0 && cont && res.code == 410) {
      LOG_V(2, "reflector %s: continue token expired, listing whole",
            r->name);
      free(cont);
      cont = NULL;
      limit = 0;
      objvec_clear(out);
      continue;
    }
    if (rc < 0) {
      LOG_WARN("reflector %s: list failed: %d %s", r->name, res.code,
               res.message);
      break;
    }
    if (!cont)
      snprintf(rv, rvlen, "%s", object_rv(page) ? object_rv(page) : "");
    rc = take_items(page, out);
    next = kj_get_str(kj_get(page, "metadata"), "continue");
    free(cont);
    cont = next && *next ? strdup(next) : NULL;
    kj_free(page);
    if (rc < 0 || !cont || stopping(r))
      break;
  }
  free(cont);
  if (rc == 0 && stopping(r))
    rc = -ECANCELED;
  return rc;
}

static int relist(kapi_reflector *r)
{
  objvec items = { 0 };
  char rv[32];
  int rc = list_all(r, &items, rv, sizeof rv);

  if (rc == 0)
    rc = kapi_delta_fifo_replace(r->fifo, items.v, items.n);
  if (rc == 0) {
    set_last_rv(r, rv);
    pthread_mutex_lock(&r->mu);
    r->lists++;
    pthread_mutex_unlock(&r->mu);
    LOG_V(2, "reflector %s: listed %zu objects at resourceVersion %s",
          r->name, items.n, rv);
    if (r->on_replace)
      r->on_replace(r->arg);
  }
  objvec_clear(&items);
  return rc;
}

/* ---- watch ---------------------------------------------------------------- */

typedef struct watch_state {
  kapi_reflector *r;
  unsigned events;
  int error_code;          /* from an ERROR event's Status */
  char error_message[256];
} watch_state;

static int queue_event(kapi_reflector *r, const char *type, const kj *obj)
{
  kapi_cobj *o;
  int rc;

  if (strcmp(type, "ADDED") != 0 && strcmp(type, "MODIFIED") != 0 &&
      strcmp(type, "DELETED") != 0) {
    LOG_WARN("reflector %s: unknown watch event type %s", r->name, type);
    return 0;
  }
  o = kapi_cobj_new(kj_clone(obj));
  if (!o)
    return -ENOMEM;
  if (type[0] == 'A')
    rc = kapi_delta_fifo_add(r->fifo, o);
  else if (type[0] == 'M')
    rc = kapi_delta_fifo_update(r->fifo, o);
  else
    rc = kapi_delta_fifo_delete(r->fifo, o);
  kapi_cobj_unref(o);
  return rc;
}

static int on_event(void *arg, const char *type, const kj *obj)
{
  watch_state *w = arg;
  kapi_reflector *r = w->r;

  w->events++;
  if (strcmp(type, "ERROR") == 0) {
    int64_t code = 0;

    kj_to_int(kj_get(obj, "code"), &code);
    w->error_code = code ? (int)code : 500;
    snprintf(w->error_message, sizeof w->error_message, "%s",
             kj_get_str(obj, "message") ? kj_get_str(obj, "message") : "");
    return 1; /* ends the watch */
  }
  if (strcmp(type, "BOOKMARK") != 0 && queue_event(r, type, obj) < 0) {
    /* Out of memory: the cache would silently diverge; relist. */
    w->error_code = 500;
    snprintf(w->error_message, sizeof w->error_message,
             "could not queue a %s event", type);
    return 1;
  }
  /* Only now: a resume from here must not skip this event. */
  set_last_rv(r, object_rv(obj));
  return 0;
}

static watch_outcome watch_once(kapi_reflector *r)
{
  watch_state w = { .r = r };
  char rv[32];
  kapi_list_opts o = { .label_selector = r->label,
                       .field_selector = r->field,
                       .resource_version = rv,
                       .allow_bookmarks = 1 };
  kapi_result res = { 0 };
  double start = now_ms();
  int rc;

  get_last_rv(r, rv, sizeof rv);
  /* Random, so that many clients do not all rewatch at once. */
  o.timeout_seconds = WATCH_MIN_TIMEOUT_S +
                      (int)(rand01(r) * (WATCH_MIN_TIMEOUT_S + 1));
  if (o.timeout_seconds > 2 * WATCH_MIN_TIMEOUT_S)
    o.timeout_seconds = 2 * WATCH_MIN_TIMEOUT_S;
  LOG_V(4, "reflector %s: watching from resourceVersion %s (%d s)", r->name,
        rv, o.timeout_seconds);
  rc = kapi_client_watch(r->client, &r->gvr, r->ns, &o, on_event, &w,
                         &r->stop, &res);
  if (stopping(r))
    return WATCH_AGAIN; /* the loop sees stop and leaves */
  if (w.error_code == 410) {
    LOG_V(2, "reflector %s: watch closed: %s", r->name, w.error_message);
    return WATCH_RELIST;
  }
  if (w.error_code) {
    LOG_WARN("reflector %s: watch ended with error %d: %s", r->name,
             w.error_code, w.error_message);
    return WATCH_RELIST;
  }
  if (rc < 0) {
    /* No answer (connection refused, reset...) or too many requests:
     * the resourceVersion is still good, only the server is not. */
    if (res.code == 0 || res.code == 429) {
      LOG_V(2, "reflector %s: watch failed: %d %s", r->name, res.code,
            res.message);
      return WATCH_BACKOFF;
    }
    LOG_WARN("reflector %s: watch failed: %d %s", r->name, res.code,
             res.message);
    return WATCH_RELIST;
  }
  if (w.events == 0 && now_ms() - start < SHORT_WATCH_MS) {
    LOG_WARN("reflector %s: very short watch: unexpected watch close - "
             "watch lasted less than a second and no items received",
             r->name);
    return WATCH_RELIST;
  }
  return WATCH_AGAIN;
}

/* ---- the loop ----------------------------------------------------------------- */

/* One List then Watch until the watch calls for a relist. */
static void list_and_watch(kapi_reflector *r)
{
  if (relist(r) < 0)
    return;
  while (!stopping(r)) {
    switch (watch_once(r)) {
    case WATCH_AGAIN:
      break;
    case WATCH_BACKOFF:
      backoff(r);
      break;
    case WATCH_RELIST:
      return;
    }
  }
}

static void *reflector_main(void *arg)
{
  kapi_reflector *r = arg;

  LOG_V(2, "reflector %s: starting", r->name);
  while (!stopping(r)) {
    list_and_watch(r);
    if (!stopping(r))
      backoff(r);
  }
  LOG_V(2, "reflector %s: stopped", r->name);
  return NULL;
}

int kapi_reflector_start(kapi_reflector *r)
{
  int rc;

  pthread_mutex_lock(&r->mu);
  if (r->started) {
    pthread_mutex_unlock(&r->mu);
    return -EALREADY;
  }
  rc = pthread_create(&r->thread, NULL, reflector_main, r);
  if (rc == 0)
    r->started = 1;
  pthread_mutex_unlock(&r->mu);
  return -rc;
}

void kapi_reflector_request_stop(kapi_reflector *r)
{
  pthread_mutex_lock(&r->mu);
  __atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&r->cond);
  pthread_mutex_unlock(&r->mu);
}

void kapi_reflector_stop(kapi_reflector *r)
{
  int join;

  pthread_mutex_lock(&r->mu);
  __atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&r->cond);
  join = r->started && !r->joined;
  r->joined = r->joined || join;
  pthread_mutex_unlock(&r->mu);
  if (join)
    pthread_join(r->thread, NULL);
}
