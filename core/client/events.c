/*
 * events.c - the event recorder (client-go tools/record).
 *
 * kapi_recorder_eventf builds the Event in the caller's thread (so its
 * timestamps are when it happened) and queues it; a background thread
 * writes the queue to the API server.  Repeats of the same event (same
 * source, object, type, reason and message) within ten minutes update
 * the Event already written - count+1 and a new lastTimestamp, with a
 * merge patch - instead of creating another.  Like upstream's
 * EventCorrelator, events that differ only in their message are combined
 * once ten of them came within ten minutes (one Event "(combined from
 * similar events): ...", counted), and a source may write 25 events
 * about one object, then one every five minutes: a ReplicaSet creating
 * a thousand pods writes 25 Events, not a thousand.  The queue is
 * bounded (upstream's
 * broadcaster drops when its 1000-event channel is full): a control
 * plane under stress must not grow without bound because of events.
 */
#include <errno.h>
#include <stddef.h>
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
#define AGGREGATE_MAX 10      /* similar events before they are combined */
#define SPAM_BURST 25         /* events a source may write about an object */
#define SPAM_REFILL 300.0     /* seconds per event after the burst */

static const kapi_gvr events_gvr = {"", "v1", "events", 1};

typedef struct queued {
  struct queued *next;
  kj *event; /* count 1, both timestamps set */
  char *key; /* the aggregation key */
  time_t at;
} queued;

/* One key's state in a correlation cache (background thread only).  One
 * type serves the three caches, each using its own fields. */
typedef struct entry {
  struct entry *next;
  char *key;
  time_t last;    /* last use: expiry and eviction order */
  /* the event log: the Event written for this key */
  char *name;     /* its metadata.name */
  char *first_ts; /* its firstTimestamp */
  int64_t count;
  /* the aggregator: the distinct messages seen in the window */
  char *msgs[AGGREGATE_MAX];
  size_t nmsgs;
  /* the spam filter: a token bucket */
  double tokens, filled_at;
} entry;

typedef struct cache {
  entry *b[CACHE_BUCKETS];
  size_t n;
  time_t window; /* an entry unused this long is as good as none */
} cache;

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

  cache log;       /* the Events written, by event key */
  cache similar;   /* the aggregator's records, by aggregate key */
  cache spam;      /* token buckets, by source and object */
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

/* The source and object's fields joined (upstream's getSpamKey), then
 * the n strings of `more`: with type and reason the aggregate key, with
 * the message too upstream's getEventKey.  Newly allocated, NULL when
 * out of memory. */
static char *object_key(const kapi_recorder *r, const kj *ref,
                        const char *const *more, size_t n)
{
  char *key, *longer;
  size_t i;

  if (asprintf(&key, "%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s", r->component,
               or_empty(r->host), or_empty(kj_get_str(ref, "kind")),
               or_empty(kj_get_str(ref, "namespace")),
               or_empty(kj_get_str(ref, "name")),
               or_empty(kj_get_str(ref, "uid")),
               or_empty(kj_get_str(ref, "apiVersion"))) < 0)
    return NULL;
  for (i = 0; i < n; i++) {
    if (asprintf(&longer, "%s\x1f%s", key, or_empty(more[i])) < 0) {
      free(key);
      return NULL;
    }
    free(key);
    key = longer;
  }
  return key;
}

static char *event_key(const kapi_recorder *r, const kj *ref,
                       const char *type, const char *reason,
                       const char *message)
{
  const char *more[] = {type, reason, message};
  return object_key(r, ref, more, 3);
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

static entry *cache_find(cache *c, const char *key)
{
  entry *e;

  for (e = c->b[key_hash(key)]; e; e = e->next)
    if (!strcmp(e->key, key))
      return e;
  return NULL;
}

static void entry_free(entry *e)
{
  free(e->key);
  free(e->name);
  free(e->first_ts);
  for (size_t i = 0; i < e->nmsgs; i++)
    free(e->msgs[i]);
  free(e);
}

/* Drops entries outside the window; if still full, the oldest one. */
static void cache_prune(cache *c, time_t now)
{
  entry **pp, **oldest = NULL;
  size_t b;

  for (b = 0; b < CACHE_BUCKETS; b++)
    for (pp = &c->b[b]; *pp;) {
      if (now - (*pp)->last > c->window) {
        entry *dead = *pp;
        *pp = dead->next;
        entry_free(dead);
        c->n--;
      } else {
        if (!oldest || (*pp)->last < (*oldest)->last)
          oldest = pp;
        pp = &(*pp)->next;
      }
    }
  if (c->n >= CACHE_MAX && oldest) {
    entry *dead = *oldest;
    *oldest = dead->next;
    entry_free(dead);
    c->n--;
  }
}

/* The entry for key, made (zeroed) when absent or expired; NULL when out
 * of memory.  Marks it used at `now`. */
static entry *cache_get(cache *c, const char *key, time_t now)
{
  entry *e = cache_find(c, key);

  if (e && now - e->last > c->window) {
    for (size_t i = 0; i < e->nmsgs; i++)
      free(e->msgs[i]);
    free(e->name);
    free(e->first_ts);
    memset(&e->name, 0, sizeof *e - offsetof(entry, name));
  }
  if (!e) {
    if (c->n >= CACHE_MAX)
      cache_prune(c, now);
    if (!(e = calloc(1, sizeof *e)) || !(e->key = strdup(key))) {
      free(e);
      return NULL;
    }
    e->next = c->b[key_hash(key)];
    c->b[key_hash(key)] = e;
    c->n++;
  }
  e->last = now;
  return e;
}

static void cache_clear(cache *c)
{
  for (size_t b = 0; b < CACHE_BUCKETS; b++)
    while (c->b[b]) {
      entry *e = c->b[b];
      c->b[b] = e->next;
      entry_free(e);
    }
  c->n = 0;
}

/* Records the Event written (or about to be) for key. */
static void log_put(kapi_recorder *r, const char *key, const char *name,
                    const char *first_ts, int64_t count, time_t now)
{
  entry *e = cache_get(&r->log, key, now);
  char *n = strdup(or_empty(name)), *f = strdup(or_empty(first_ts));

  if (!e || !n || !f) {
    free(n);
    free(f);
    return;
  }
  free(e->name);
  free(e->first_ts);
  e->name = n;
  e->first_ts = f;
  e->count = count;
}

/* ---- correlation (upstream's EventCorrelator) ------------------------------ */

/* upstream's EventAggregatorByReasonFunc key: the event key without the
 * message (reportingController/Instance are the source's here). */
static char *aggregate_key(const kapi_recorder *r, const kj *ev)
{
  const char *more[] = {kj_get_str(ev, "type"), kj_get_str(ev, "reason")};
  return object_key(r, kj_get(ev, "involvedObject"), more, 2);
}

/* upstream's EventAggregate: once AGGREGATE_MAX distinct messages came
 * for the same source, object, type and reason within the window, the
 * event becomes the combined one, logged under the aggregate key (so
 * the next ones count on it).  Returns the key to log the event under
 * (newly allocated), NULL when out of memory. */
static char *aggregate(kapi_recorder *r, queued *q)
{
  const char *msg = or_empty(kj_get_str(q->event, "message"));
  char *akey = aggregate_key(r, q->event), *combined;
  entry *e = akey ? cache_get(&r->similar, akey, q->at) : NULL;
  size_t i;

  if (!e) {
    free(akey);
    return NULL;
  }
  for (i = 0; i < e->nmsgs && strcmp(e->msgs[i], msg); i++)
    ;
  if (i == e->nmsgs && e->nmsgs < AGGREGATE_MAX &&
      (e->msgs[i] = strdup(msg)))
    e->nmsgs++;
  if (e->nmsgs < AGGREGATE_MAX) {
    free(akey);
    return strdup(q->key);
  }
  /* Keep the set below the threshold, so the next distinct one also
   * counts on the combined event. */
  free(e->msgs[--e->nmsgs]);
  if (asprintf(&combined, "(combined from similar events): %s", msg) < 0) {
    free(akey);
    return NULL;
  }
  if (kj_set_str(q->event, "message", combined) < 0) {
    free(combined);
    free(akey);
    return NULL;
  }
  free(combined);
  /* The combined event is built afresh upstream: no reporting fields. */
  kj_remove(q->event, "reportingComponent");
  kj_remove(q->event, "reportingInstance");
  return akey;
}

/* upstream's EventSourceObjectSpamFilter: a token bucket per source and
 * object; nonzero when the event must be dropped. */
static int spam_filtered(kapi_recorder *r, const queued *q)
{
  const kj *ref = kj_get(q->event, "involvedObject");
  struct timespec ts;
  double now;
  char *key;
  entry *e;

  if (!(key = object_key(r, ref, NULL, 0)))
    return 0;
  e = cache_get(&r->spam, key, q->at);
  free(key);
  if (!e)
    return 0;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  now = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
  if (e->filled_at == 0) {
    e->tokens = SPAM_BURST;
  } else {
    e->tokens += (now - e->filled_at) / SPAM_REFILL;
    if (e->tokens > SPAM_BURST)
      e->tokens = SPAM_BURST;
  }
  e->filled_at = now;
  if (e->tokens < 1)
    return 1;
  e->tokens -= 1;
  return 0;
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

/* Sends the merge patch of a repeat: count, lastTimestamp and message,
 * as upstream's eventObserve.  -ENOENT when the Event is gone. */
static int patch_event(kapi_recorder *r, const kj *ev, kj **out,
                       kapi_result *res)
{
  const char *ns = kj_get_str(kj_get(ev, "metadata"), "namespace");
  const char *name = kj_get_str(kj_get(ev, "metadata"), "name");
  kj *patch = kj_object();
  char *text = NULL;
  int rc = -ENOMEM;

  if (patch && kj_set(patch, "count", kj_clone(kj_get(ev, "count"))) == 0 &&
      kj_set_str(patch, "lastTimestamp",
                 kj_get_str(ev, "lastTimestamp")) == 0 &&
      kj_set_str(patch, "message", kj_get_str(ev, "message")) == 0)
    text = kj_dump(patch, NULL);
  kj_free(patch);
  if (text)
    rc = kapi_client_patch(r->c, &events_gvr, ns, name, NULL,
                           "application/merge-patch+json", text, out, res);
  free(text);
  return rc;
}

/* Correlates one queued Event and writes it: a PATCH of the earlier one
 * when it repeats within the window (same name, count+1, first time
 * kept), else a POST; nothing when the spam filter drops it.  Like
 * upstream, a repeat is counted even when dropped. */
static void write_event(kapi_recorder *r, queued *q)
{
  kj *ev = q->event, *meta = kj_get(ev, "metadata");
  const char *ns = kj_get_str(meta, "namespace");
  char *key = aggregate(r, q);
  entry *prev = key ? cache_find(&r->log, key) : NULL;
  int repeat = prev && prev->name && q->at - prev->last <= AGGREGATE_SECONDS;
  kapi_result res;
  kj *out = NULL;
  int rc = -ENOENT;

  if (!key)
    return;
  if (repeat && (kj_set_str(meta, "name", prev->name) < 0 ||
                 kj_set_int(ev, "count", prev->count + 1) < 0 ||
                 kj_set_str(ev, "firstTimestamp", prev->first_ts) < 0))
    goto out;
  log_put(r, key, kj_get_str(meta, "name"), kj_get_str(ev, "firstTimestamp"),
          repeat ? prev->count + 1 : 1, q->at);
  if (spam_filtered(r, q))
    goto out;
  if (repeat) {
    rc = patch_event(r, ev, &out, &res);
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
    log_put(r, key, kj_get_str(kj_get(out, "metadata"), "name"),
            kj_get_str(out, "firstTimestamp"), count, q->at);
  } else {
    log_rejected(ev, rc, &res);
  }
out:
  kj_free(out);
  free(key);
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
  r->log.window = r->similar.window = AGGREGATE_SECONDS;
  /* A bucket unused this long has refilled: as good as a new one. */
  r->spam.window = (time_t)(SPAM_BURST * SPAM_REFILL);
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
  cache_clear(&r->log);
  cache_clear(&r->similar);
  cache_clear(&r->spam);
  pthread_cond_destroy(&r->idle);
  pthread_cond_destroy(&r->work);
  pthread_mutex_destroy(&r->mu);
  free(r->component);
  free(r->host);
  free(r);
}
