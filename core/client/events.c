/*
 * events.c - the event recorder (client-go tools/record).
 *
 * kapi_recorder_eventf builds the Event in the caller's thread (so its
 * timestamps are when it happened) and queues it; a background thread
 * writes the queue to the API server.  Repeats of the same event (same
 * source, object, type, reason and message) within ten minutes update
 * the Event already written - count+1 and a new lastTimestamp, with a
 * merge patch - instead of creating another, like upstream's
 * EventCorrelator/eventLogger.  The queue is bounded (upstream's
 * broadcaster drops when its 1000-event channel is full): a control
 * plane under stress must not grow without bound because of events.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "log.h"

#define QUEUE_MAX 1000
#define AGGREGATE_SECONDS 600 /* upstream's 10-minute window */
#define CACHE_MAX 4096        /* upstream's LRU size */
#define CACHE_BUCKETS 1024
#define FLUSH_SECONDS 5

static const kapi_gvr events_gvr = {"", "v1", "events", 1};

typedef struct queued {
  struct queued *next;
  kj *event; /* count 1, both timestamps set */
  char *key; /* the aggregation key */
  time_t at;
} queued;

/* An Event already written, for aggregation (background thread only). */
typedef struct seen {
  struct seen *next;
  char *key;
  char *name;     /* the Event's metadata.name */
  char *first_ts; /* its firstTimestamp */
  int64_t count;
  time_t last;    /* when it was last written */
} seen;

struct kapi_recorder {
  kapi_client *c;
  char *component;
  char *host;

  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t work;  /* something queued, or stopping */
  pthread_cond_t idle;  /* queue empty and nothing being written */
  queued *head, *tail;
  size_t queued;
  int busy;
  int stopping;
  int abandon; /* flush timed out: drop what is left */

  seen *cache[CACHE_BUCKETS];
  size_t ncache;
};

/* ---- building Events ----------------------------------------------------- */

/* RFC 3339 in UTC, seconds (metav1.Time). */
static void rfc3339(time_t t, char *buf, size_t len)
{
  struct tm tm;

  gmtime_r(&t, &tm);
  strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int set_nonempty(kj *obj, const char *key, const char *s)
{
  return s && *s ? kj_set_str(obj, key, s) : 0;
}

/* The involvedObject: an ObjectReference to `o`. */
static kj *object_reference(const kj *o)
{
  const kj *m = kj_get(o, "metadata");
  kj *ref = kj_object();

  if (!ref || set_nonempty(ref, "kind", kj_get_str(o, "kind")) < 0 ||
      set_nonempty(ref, "namespace", kj_get_str(m, "namespace")) < 0 ||
      set_nonempty(ref, "name", kj_get_str(m, "name")) < 0 ||
      set_nonempty(ref, "uid", kj_get_str(m, "uid")) < 0 ||
      set_nonempty(ref, "apiVersion", kj_get_str(o, "apiVersion")) < 0 ||
      set_nonempty(ref, "resourceVersion",
                   kj_get_str(m, "resourceVersion")) < 0) {
    kj_free(ref);
    return NULL;
  }
  return ref;
}

static const char *or_empty(const char *s) { return s ? s : ""; }

/* upstream's getEventKey: every identifying field, joined. */
static char *event_key(const kapi_recorder *r, const kj *ref,
                       const char *type, const char *reason,
                       const char *message)
{
  char *key;

  if (asprintf(&key, "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s",
               r->component, or_empty(r->host),
               or_empty(kj_get_str(ref, "kind")),
               or_empty(kj_get_str(ref, "namespace")),
               or_empty(kj_get_str(ref, "name")),
               or_empty(kj_get_str(ref, "uid")),
               or_empty(kj_get_str(ref, "apiVersion")), type, reason,
               message) < 0)
    return NULL;
  return key;
}

/* The Event as upstream's recorder makes it (makeEvent). */
static kj *make_event(const kapi_recorder *r, kj *ref, const char *type,
                      const char *reason, const char *message,
                      const struct timespec *now)
{
  const char *ns = kj_get_str(ref, "namespace");
  kj *ev = kj_object(), *meta, *src;
  char name[512], ts[32];
  uint64_t nanos = (uint64_t)now->tv_sec * 1000000000ULL +
                   (uint64_t)now->tv_nsec;

  if (!ev) {
    kj_free(ref);
    return NULL;
  }
  /* "<name>.<UnixNano in hex>" keeps names unique and sortable. */
  snprintf(name, sizeof name, "%s.%" PRIx64,
           or_empty(kj_get_str(ref, "name")), nanos);
  rfc3339(now->tv_sec, ts, sizeof ts);
  if (kj_set_str(ev, "kind", "Event") < 0 ||
      kj_set_str(ev, "apiVersion", "v1") < 0 ||
      !(meta = kj_child_object(ev, "metadata")) ||
      kj_set_str(meta, "name", name) < 0 ||
      kj_set_str(meta, "namespace", ns && *ns ? ns : "default") < 0 ||
      kj_set(ev, "involvedObject", ref) < 0 ||
      kj_set_str(ev, "reason", reason) < 0 ||
      kj_set_str(ev, "message", message) < 0 ||
      !(src = kj_child_object(ev, "source")) ||
      kj_set_str(src, "component", r->component) < 0 ||
      set_nonempty(src, "host", r->host) < 0 ||
      kj_set_str(ev, "firstTimestamp", ts) < 0 ||
      kj_set_str(ev, "lastTimestamp", ts) < 0 ||
      kj_set_int(ev, "count", 1) < 0 || kj_set_str(ev, "type", type) < 0 ||
      kj_set(ev, "eventTime", kj_null()) < 0 ||
      kj_set_str(ev, "reportingComponent", r->component) < 0 ||
      kj_set_str(ev, "reportingInstance", or_empty(r->host)) < 0) {
    kj_free(ev);
    return NULL;
  }
  return ev;
}

/* ---- the aggregation cache ----------------------------------------------- */

static size_t key_hash(const char *s)
{
  uint64_t h = 1469598103934665603ULL; /* FNV-1a */

  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ULL;
  }
  return (size_t)(h % CACHE_BUCKETS);
}

static seen *cache_find(kapi_recorder *r, const char *key)
{
  seen *s;

  for (s = r->cache[key_hash(key)]; s; s = s->next)
    if (!strcmp(s->key, key))
      return s;
  return NULL;
}

static void seen_free(seen *s)
{
  free(s->key);
  free(s->name);
  free(s->first_ts);
  free(s);
}

/* Drops entries outside the window; if still full, the oldest one. */
static void cache_prune(kapi_recorder *r, time_t now)
{
  seen **pp, **oldest = NULL;
  size_t b;

  for (b = 0; b < CACHE_BUCKETS; b++)
    for (pp = &r->cache[b]; *pp;) {
      if (now - (*pp)->last > AGGREGATE_SECONDS) {
        seen *dead = *pp;
        *pp = dead->next;
        seen_free(dead);
        r->ncache--;
      } else {
        if (!oldest || (*pp)->last < (*oldest)->last)
          oldest = pp;
        pp = &(*pp)->next;
      }
    }
  if (r->ncache >= CACHE_MAX && oldest) {
    seen *dead = *oldest;
    *oldest = dead->next;
    seen_free(dead);
    r->ncache--;
  }
}

static void cache_put(kapi_recorder *r, const char *key, const char *name,
                      const char *first_ts, int64_t count, time_t now)
{
  seen *s = cache_find(r, key);

  if (!s) {
    if (r->ncache >= CACHE_MAX)
      cache_prune(r, now);
    if (!(s = calloc(1, sizeof *s)) || !(s->key = strdup(key))) {
      free(s);
      return;
    }
    s->next = r->cache[key_hash(key)];
    r->cache[key_hash(key)] = s;
    r->ncache++;
  }
  free(s->name);
  free(s->first_ts);
  s->name = strdup(name);
  s->first_ts = strdup(first_ts ? first_ts : "");
  s->count = count;
  s->last = now;
}

/* ---- writing ------------------------------------------------------------- */

static void log_rejected(const kj *ev, int rc, const kapi_result *res)
{
  const char *name = kj_get_str(kj_get(ev, "metadata"), "name");

  if (res->code >= 400 && res->code < 500)
    LOG_WARN("Server rejected event '%s' (will not retry!): %s (%d %s)",
             or_empty(name), res->message, res->code, res->reason);
  else
    LOG_WARN("Unable to write event '%s': %s (%d)", or_empty(name),
             res->message, rc);
}

/* Writes one queued Event: a PATCH of the earlier one when it repeats
 * within the window, else a POST. */
static void write_event(kapi_recorder *r, queued *q)
{
  kj *ev = q->event;
  const char *ns = kj_get_str(kj_get(ev, "metadata"), "namespace");
  seen *prev = cache_find(r, q->key);
  kapi_result res;
  kj *out = NULL;
  int rc = -ENOENT;

  if (prev && q->at - prev->last <= AGGREGATE_SECONDS && prev->name) {
    /* upstream's eventObserve: same name, count+1, first time kept. */
    kj *patch = kj_object();
    char *text = NULL;
    int64_t count = prev->count + 1;
    if (patch && kj_set_int(patch, "count", count) == 0 &&
        kj_set_str(patch, "lastTimestamp",
                   kj_get_str(ev, "lastTimestamp")) == 0 &&
        kj_set_str(patch, "message", kj_get_str(ev, "message")) == 0)
      text = kj_dump(patch, NULL);
    kj_free(patch);
    kj_set_str(kj_get(ev, "metadata"), "name", prev->name);
    kj_set_int(ev, "count", count);
    kj_set_str(ev, "firstTimestamp", prev->first_ts);
    if (text) {
      rc = kapi_client_patch(r->c, &events_gvr, ns, prev->name, NULL,
                             "application/merge-patch+json", text, &out,
                             &res);
      free(text);
    }
    /* Deleted meanwhile: create it again with the count it has. */
    if (rc == -ENOENT) {
      kj_free(out);
      out = NULL;
    }
  }
  if (rc == -ENOENT)
    rc = kapi_client_create(r->c, &events_gvr, ns, ev, &out, &res);
  if (rc == 0) {
    int64_t count = 1;
    kj_to_int(kj_get(out, "count"), &count);
    cache_put(r, q->key, kj_get_str(kj_get(out, "metadata"), "name"),
              kj_get_str(out, "firstTimestamp"), count, q->at);
  } else {
    log_rejected(ev, rc, &res);
  }
  kj_free(out);
}

static void queued_free(queued *q)
{
  kj_free(q->event);
  free(q->key);
  free(q);
}

static void *recorder_thread(void *arg)
{
  kapi_recorder *r = arg;

  pthread_mutex_lock(&r->mu);
  for (;;) {
    queued *q;
    while (!r->head && !r->stopping)
      pthread_cond_wait(&r->work, &r->mu);
    if (!r->head)
      break;
    q = r->head;
    r->head = q->next;
    if (!r->head)
      r->tail = NULL;
    r->queued--;
    if (r->abandon) {
      queued_free(q);
      continue;
    }
    r->busy = 1;
    pthread_mutex_unlock(&r->mu);
    write_event(r, q);
    queued_free(q);
    pthread_mutex_lock(&r->mu);
    r->busy = 0;
    if (!r->head)
      pthread_cond_broadcast(&r->idle);
  }
  pthread_cond_broadcast(&r->idle);
  pthread_mutex_unlock(&r->mu);
  return NULL;
}

/* ---- the API ------------------------------------------------------------- */

kapi_recorder *kapi_recorder_new(kapi_client *c, const char *component,
                                 const char *host)
{
  kapi_recorder *r = calloc(1, sizeof *r);

  if (!r)
    return NULL;
  r->c = c;
  r->component = strdup(component ? component : "");
  r->host = host && *host ? strdup(host) : NULL;
  if (!r->component || (host && *host && !r->host)) {
    free(r->component);
    free(r->host);
    free(r);
    return NULL;
  }
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->work, NULL);
  pthread_cond_init(&r->idle, NULL);
  if (pthread_create(&r->thread, NULL, recorder_thread, r) != 0) {
    pthread_cond_destroy(&r->idle);
    pthread_cond_destroy(&r->work);
    pthread_mutex_destroy(&r->mu);
    free(r->component);
    free(r->host);
    free(r);
    return NULL;
  }
  return r;
}

void kapi_recorder_eventf(kapi_recorder *r, const kj *involved,
                          const char *type, const char *reason,
                          const char *fmt, ...)
{
  struct timespec now;
  char message[4096];
  va_list ap;
  queued *q;
  kj *ref;

  if (!r || !involved || !fmt)
    return;
  type = or_empty(type);
  reason = or_empty(reason);
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  clock_gettime(CLOCK_REALTIME, &now);
  if (!(q = calloc(1, sizeof *q)) || !(ref = object_reference(involved))) {
    free(q);
    return;
  }
  q->at = now.tv_sec;
  q->key = event_key(r, ref, type, reason, message);
  q->event = make_event(r, ref, type, reason, message, &now);
  if (!q->key || !q->event) {
    queued_free(q);
    return;
  }
  LOG_V(4, "Event(%s/%s): type: '%s' reason: '%s' %s",
        or_empty(kj_get_str(kj_get(q->event, "involvedObject"), "namespace")),
        or_empty(kj_get_str(kj_get(q->event, "involvedObject"), "name")),
        type, reason, message);
  pthread_mutex_lock(&r->mu);
  if (r->stopping || r->queued >= QUEUE_MAX) {
    pthread_mutex_unlock(&r->mu);
    LOG_WARN("dropping event %s: the event queue is full",
             kj_get_str(kj_get(q->event, "metadata"), "name"));
    queued_free(q);
    return;
  }
  if (r->tail)
    r->tail->next = q;
  else
    r->head = q;
  r->tail = q;
  r->queued++;
  pthread_cond_signal(&r->work);
  pthread_mutex_unlock(&r->mu);
}

void kapi_recorder_free(kapi_recorder *r)
{
  struct timespec deadline;
  size_t b;

  if (!r)
    return;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += FLUSH_SECONDS;
  pthread_mutex_lock(&r->mu);
  r->stopping = 1;
  pthread_cond_signal(&r->work);
  while ((r->head || r->busy) &&
         pthread_cond_timedwait(&r->idle, &r->mu, &deadline) != ETIMEDOUT)
    ;
  if (r->head || r->busy) {
    LOG_WARN("dropping %zu events not written within %ds", r->queued,
             FLUSH_SECONDS);
    r->abandon = 1;
  }
  pthread_mutex_unlock(&r->mu);
  pthread_join(r->thread, NULL);
  while (r->head) {
    queued *q = r->head;
    r->head = q->next;
    queued_free(q);
  }
  for (b = 0; b < CACHE_BUCKETS; b++)
    while (r->cache[b]) {
      seen *s = r->cache[b];
      r->cache[b] = s->next;
      seen_free(s);
    }
  pthread_cond_destroy(&r->idle);
  pthread_cond_destroy(&r->work);
  pthread_mutex_destroy(&r->mu);
  free(r->component);
  free(r->host);
  free(r);
}
