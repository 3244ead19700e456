/*
 * server.c - the HTTP front end on libmicrohttpd.
 *
 * MHD runs a pool of event-loop threads (epoll where available).  Each
 * request's body is collected, then the handler chain runs and the answer
 * is queued - or, when the request wrote and its group commit is not
 * durable yet, held with the connection suspended until it is, so that
 * the thread serves other connections meanwhile.  Watches and pods/log
 * are chunked responses fed from a callback; when one has nothing to
 * send its connection is suspended, so hundreds of idle watchers cost no
 * thread.  The store wakes them through the wake hub: a single thread
 * that resumes connections (never from the store's own threads, which
 * must not block), fires watch timers and releases held answers.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <microhttpd.h>

#include "kapi/metrics.h"
#include "log.h"
#include "rest_log.h"
#include "server.h"
#include "audit.h"
#include "tls_peer.h"
#include "watch_http.h"

#define MAX_BODY (3 * 1024 * 1024) /* upstream's default request limit */

/* ---- responses ------------------------------------------------------ */

static void drop_body(kapi_response *resp)
{
  if (resp->shared)
    store_obj_unref(resp->shared);
  else
    free(resp->body);
  resp->shared = NULL;
  resp->body = NULL;
}

void kapi_response_reset(kapi_response *resp)
{
  drop_body(resp);
  free(resp->warnings);
  if (resp->stream)
    watch_stream_free(resp->stream);
  kapi_byte_stream_free(resp->bytes);
  memset(resp, 0, sizeof *resp);
}

void kapi_response_share(kapi_response *resp, int code, store_obj *o)
{
  drop_body(resp);
  resp->code = code;
  resp->content_type = "application/json";
  resp->shared = store_obj_ref(o);
  resp->body = o->json;
  resp->len = o->len;
}

void kapi_response_take(kapi_response *resp, int code, char *body,
                        size_t len)
{
  drop_body(resp);
  resp->code = code;
  resp->content_type = "application/json";
  resp->body = body;
  resp->len = len;
}

int kapi_response_json(kapi_response *resp, int code, const kj *obj)
{
  size_t len;
  char *body = kj_dump(obj, &len);
  if (!body)
    return -ENOMEM;
  kapi_response_take(resp, code, body, len);
  return 0;
}

void kapi_response_error(kapi_response *resp, const kapi_error *e)
{
  kj *st = kapi_error_to_status(e);
  if (!st || kapi_response_json(resp, e->code, st) < 0) {
    static const char oom[] = "{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                              "\"status\":\"Failure\",\"code\":500}";
    kapi_response_take(resp, 500, strdup(oom), sizeof oom - 1);
  }
  kj_free(st);
}

void kapi_response_fail(kapi_response *resp, int code, const char *reason,
                        const char *message)
{
  kapi_error e;
  kapi_error_init(&e);
  kapi_error_setf(&e, code, reason, "%s", message);
  kapi_response_error(resp, &e);
  kapi_error_clear(&e);
}

void kapi_response_not_found(kapi_response *resp)
{
  kapi_response_fail(resp, 404, "NotFound",
                     "the server could not find the requested resource");
}

void kapi_response_warn(kapi_response *resp, const char *text)
{
  size_t old = resp->warnings ? strlen(resp->warnings) : 0;
  char *w = realloc(resp->warnings, old + strlen(text) + 2);
  if (!w)
    return;
  if (old)
    w[old++] = '\n';
  strcpy(w + old, text);
  resp->warnings = w;
}

/* ---- metrics ---------------------------------------------------------- */

/* Upstream's apiserver request metrics (endpoints/metrics), in the
 * process-wide registry that GET /metrics serves. */
static struct {
  kapi_metric *total, *duration, *longrunning, *inflight, *watch_events;
  kapi_metric_series *readonly, *mutating;
} sm;
static pthread_once_t sm_once = PTHREAD_ONCE_INIT;

static void sm_init(void)
{
  static const char *const req[] = {"verb", "dry_run", "group", "version",
                                    "resource", "subresource", "scope",
                                    "component", "code", NULL};
  /* the same without the code, which is last: the histogram reads
   * only as many values as it has labels */
  static const char *const dur[] = {"verb", "dry_run", "group", "version",
                                    "resource", "subresource", "scope",
                                    "component", NULL};
  static const char *const lr[] = {"verb", "group", "version", "resource",
                                   "subresource", "scope", "component",
                                   NULL};
  static const char *const kind[] = {"request_kind", NULL};
  static const char *const gvk[] = {"group", "version", "kind", NULL};
  /* Upstream's request latency buckets, in seconds. */
  static const double buckets[] = {0.005, 0.025, 0.05, 0.1, 0.2, 0.4,
                                   0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4,
                                   5, 6, 8, 10, 15, 20, 30, 45, 60};
  kapi_metrics *m = kapi_metrics_default();

  sm.total = kapi_metrics_counter(
      m, "apiserver_request_total",
      "Requests answered, by verb, dry run, group, version, resource, "
      "subresource, scope, component and HTTP status code.",
      req);
  sm.duration = kapi_metrics_histogram(
      m, "apiserver_request_duration_seconds",
      "Time to answer a request in seconds, by verb, dry run, group, "
      "version, resource, subresource, scope and component.",
      dur, buckets, sizeof buckets / sizeof *buckets);
  sm.longrunning = kapi_metrics_gauge(
      m, "apiserver_longrunning_requests",
      "Long-running requests (watches) now open, by verb, group, version, "
      "resource, subresource, scope and component.",
      lr);
  sm.inflight = kapi_metrics_gauge(
      m, "apiserver_current_inflight_requests",
      "Requests being handled now, read-only or mutating.", kind);
  sm.watch_events = kapi_metrics_counter(
      m, "apiserver_watch_events_total",
      "Events sent to watch clients, by group, version and kind.", gvk);
  sm.readonly = kapi_metric_with(sm.inflight,
                                 (const char *const[]){"readOnly"});
  sm.mutating = kapi_metric_with(sm.inflight,
                                 (const char *const[]){"mutating"});
}

static void sm_ready(void) { pthread_once(&sm_once, sm_init); }

void kapi_request_inflight(const kapi_req *r, int delta)
{
  const char *v = r->verb ? r->verb : "";
  kapi_metric_series *s;

  sm_ready();
  /* upstream's non-mutating verbs */
  s = !strcmp(v, "get") || !strcmp(v, "list") || !strcmp(v, "watch")
          ? sm.readonly
          : sm.mutating;
  if (delta > 0)
    kapi_series_inc(s);
  else
    kapi_series_dec(s);
}

kapi_metric_series *kapi_watch_events_series(const kapi_resource *res)
{
  const char *const v[] = {res->group, res->ops->version, res->ops->kind};
  sm_ready();
  return kapi_metric_with(sm.watch_events, v);
}

/* What one request is recorded under. */
struct req_metrics {
  kapi_metric_series *total, *duration, *longrunning;
  struct timespec start;
};

/* Upstream's cleanVerb: the route's verb (POST for create, PUT for
 * update, LIST for a collection GET), WATCH for watches, APPLY for a
 * server-side apply, CONNECT for the streaming subresources. */
static const char *clean_verb(const kapi_req *r)
{
  static const char *const map[][2] = {
      {"get", "GET"},       {"list", "LIST"},     {"watch", "WATCH"},
      {"create", "POST"},   {"update", "PUT"},    {"patch", "PATCH"},
      {"delete", "DELETE"}, {"deletecollection", "DELETECOLLECTION"}};
  static const char *const methods[] = {"GET", "POST", "PUT", "PATCH",
                                        "DELETE", NULL};
  static const char *const connect[] = {"exec", "attach", "portforward",
                                        "proxy", NULL};

  if (!r->is_resource_request) {
    for (const char *const *m = methods; *m; m++)
      if (!strcmp(r->method, *m))
        return *m;
    return "other";
  }
  for (const char *const *c = connect; *r->subresource && *c; c++)
    if (!strcmp(r->subresource, *c))
      return "CONNECT";
  if (!strcmp(r->verb, "patch")) {
    const char *ct = kapi_req_header(r, "Content-Type");
    if (ct && !strncmp(ct, "application/apply-patch+yaml", 28) &&
        (!ct[28] || ct[28] == ';'))
      return "APPLY";
  }
  for (size_t i = 0; i < sizeof map / sizeof *map; i++)
    if (!strcmp(r->verb, map[i][0]))
      return map[i][1];
  return "other";
}

/* Upstream's CleanScope. */
static const char *clean_scope(const kapi_req *r)
{
  if (*r->name || !strcmp(r->verb, "create"))
    return "resource";
  if (*r->namespace_)
    return "namespace";
  return "cluster";
}

/* The code label, without snprintf's cost on every request. */
static void status_text(int code, char buf[12])
{
  if (code >= 100 && code <= 999) {
    buf[0] = (char)('0' + code / 100);
    buf[1] = (char)('0' + code / 10 % 10);
    buf[2] = (char)('0' + code % 10);
    buf[3] = '\0';
  } else {
    snprintf(buf, 12, "%d", code);
  }
}

/* Bounded label values.  Upstream only instruments routes it installed,
 * so a request for a resource or subresource nobody serves is not
 * recorded; neither is it here: resources must be in the registry (or
 * have been answered with success by a built-in handler, as the
 * reviews), subresources among upstream's, non-resource paths among
 * the fixed endpoints.  Returns 0 when the request is recorded. */
static int request_labels(kapi_server *srv, const kapi_req *r, int code,
                          const char **v, char codebuf[12])
{
  static const char *const subresources[] = {
      "status", "scale", "log", "binding", "eviction", "exec", "attach",
      "portforward", "proxy", "token", "ephemeralcontainers", "resize",
      "approval", "finalize", NULL};
  static const char *const paths[] = {
      "/healthz", "/livez", "/readyz", "/version", "/metrics", "/api",
      "/apis", "/openapi/v2", "/openapi/v3", NULL};
  const char *const *p;
  const char *sub = ""; /* static: the memo compares it by address */

  if (!r->verb) /* request-info failed */
    return -1;
  status_text(code, codebuf);
  v[0] = clean_verb(r);
  v[1] = r->dry_run ? "All" : "";
  v[8] = codebuf;
  if (!r->is_resource_request) {
    for (p = paths; *p && strcmp(r->path, *p); p++)
      ;
    if (!*p)
      return -1;
    v[2] = v[3] = v[4] = v[6] = v[7] = "";
    v[5] = *p;
    return 0;
  }
  if (!r->res && !(code >= 200 && code < 300) &&
      !kapi_registry_find(srv->registry, r->api_group, r->api_version,
                          r->resource))
    return -1;
  if (*r->subresource) {
    for (p = subresources; *p && strcmp(r->subresource, *p); p++)
      ;
    if (!*p)
      return -1;
    sub = *p;
  }
  v[2] = r->api_group;
  v[3] = r->api_version;
  v[4] = r->resource;
  v[5] = sub;
  v[6] = clean_scope(r);
  v[7] = "apiserver";
  return 0;
}

/*
 * A per-thread memo of resource requests' series.  Label tuples repeat
 * (the same resource, verb and code), and a hit costs a few compares
 * where the registry hashes and compares nine values, twice.  Verb,
 * subresource and scope are static strings, compared by address; the
 * rest by value, so an entry can never answer for other labels.  The
 * series live as long as the default registry, i.e. the process.
 */
#define MEMO_SLOTS 32
#define MEMO_STR 48
struct series_memo {
  const char *verb, *sub, *scope; /* static strings, NULL = empty slot */
  int code, dry_run;
  char group[MEMO_STR], version[MEMO_STR], resource[MEMO_STR];
  kapi_metric_series *total, *duration;
};
static __thread struct series_memo memo[MEMO_SLOTS];

static struct series_memo *memo_slot(const char *const *v, int code,
                                     int dry_run, size_t rlen)
{
  const unsigned char *res = (const unsigned char *)v[4];
  size_t h = (size_t)code * 7 + ((uintptr_t)v[0] >> 4) +
             ((uintptr_t)v[6] >> 4) + rlen * 13 + (rlen ? res[0] : 0) +
             (rlen ? res[rlen - 1] * 3u : 0) + (size_t)dry_run;
  return &memo[h % MEMO_SLOTS];
}

static int memo_hit(const struct series_memo *m, const char *const *v,
                    int code, int dry_run)
{
  return m->verb == v[0] && m->sub == v[5] && m->scope == v[6] &&
         m->code == code && m->dry_run == dry_run &&
         !strcmp(m->resource, v[4]) && !strcmp(m->version, v[3]) &&
         !strcmp(m->group, v[2]);
}

static void memo_fill(struct series_memo *m, const char *const *v, int code,
                      int dry_run, kapi_metric_series *total,
                      kapi_metric_series *duration)
{
  if (!total || !duration || strlen(v[2]) >= MEMO_STR ||
      strlen(v[3]) >= MEMO_STR)
    return;
  m->verb = v[0];
  m->sub = v[5];
  m->scope = v[6];
  m->code = code;
  m->dry_run = dry_run;
  strcpy(m->group, v[2]);
  strcpy(m->version, v[3]);
  strcpy(m->resource, v[4]);
  m->total = total;
  m->duration = duration;
}

/* Finds the series for a finished request; rm->total NULL = not
 * recorded.  A watch also gets its long-running gauge. */
static void request_series(kapi_server *srv, const kapi_req *r,
                           const kapi_response *kr, struct req_metrics *rm)
{
  const char *v[9], *lr[7];
  struct series_memo *m = NULL;
  char code[12];
  size_t rlen;

  rm->total = rm->duration = rm->longrunning = NULL;
  if (request_labels(srv, r, kr->code, v, code) < 0)
    return;
  sm_ready();
  if (r->is_resource_request && (rlen = strlen(v[4])) < MEMO_STR) {
    m = memo_slot(v, kr->code, r->dry_run, rlen);
    if (memo_hit(m, v, kr->code, r->dry_run)) {
      rm->total = m->total;
      rm->duration = m->duration;
    }
  }
  if (!rm->total) {
    rm->total = kapi_metric_with(sm.total, v);
    rm->duration = kapi_metric_with(sm.duration, v);
    if (m)
      memo_fill(m, v, kr->code, r->dry_run, rm->total, rm->duration);
  }
  if (kr->stream) {
    lr[0] = v[0];
    memcpy(lr + 1, v + 2, 6 * sizeof *lr);
    rm->longrunning = kapi_metric_with(sm.longrunning, lr);
  }
}

static double seconds_since(const struct timespec *t0)
{
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (double)(t1.tv_sec - t0->tv_sec) +
         (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Records a request that is over (a watch: when its stream ends, as
 * upstream's instrumented handler returns only then). */
static void request_done(const struct req_metrics *rm)
{
  if (!rm->total)
    return;
  kapi_series_inc(rm->total);
  kapi_series_observe(rm->duration, seconds_since(&rm->start));
}

/* ---- the wake hub ----------------------------------------------------- */

/* One streaming connection: a watch, or a proxied byte stream
 * (pods/log).  Either suspends its connection when it has nothing to
 * send and is resumed through the hub when it has, so an idle stream
 * costs no thread. */
struct stream_conn {
  struct MHD_Connection *conn;
  watch_stream *ws;      /* one of the two */
  kapi_byte_stream *bs;
  pthread_mutex_t mu; /* guards suspended and the stream reads */
  int suspended;
  int woken;          /* queued on the hub's wake list */
  int dead;           /* being freed: never queue it again */
  struct stream_conn *next_wake;
  struct stream_conn *prev, *next; /* all live streams */
  struct watch_hub *hub;
  struct req_metrics rm; /* recorded when the stream ends */
};

/* A request whose answer waits for its writes' group commit (part of
 * its req_ctx: holding an answer allocates nothing, so that nothing
 * short-lived sits between the stored objects of successive writes). */
struct held_write {
  struct MHD_Connection *conn;
  int64_t rv;
  int listed;              /* on the hub's list (hub->mu) */
  struct held_write *next;
};

struct watch_hub {
  pthread_mutex_t mu;
  pthread_cond_t cond;
  pthread_cond_t released; /* a held write was resumed */
  pthread_t thread;
  int stopping;
  struct stream_conn *wake_head;
  struct stream_conn *all;
  struct held_write *held; /* answers waiting for durability */
  int64_t durable_rv;      /* the store's, as its hook last told */
};

/* Called from the store's publishing thread: queue, never block long. */
static void stream_wake(void *arg)
{
  struct stream_conn *sc = arg;
  struct watch_hub *hub = sc->hub;
  pthread_mutex_lock(&hub->mu);
  if (!sc->woken && !sc->dead) {
    sc->woken = 1;
    sc->next_wake = hub->wake_head;
    hub->wake_head = sc;
    pthread_cond_signal(&hub->cond);
  }
  pthread_mutex_unlock(&hub->mu);
}

/* Resumes a suspended stream.  Caller holds hub->mu. */
static void stream_resume(struct stream_conn *sc)
{
  pthread_mutex_lock(&sc->mu);
  if (sc->suspended) {
    sc->suspended = 0;
    MHD_resume_connection(sc->conn);
  }
  pthread_mutex_unlock(&sc->mu);
}

/* Resumes the held answers whose writes are durable now (their
 * connections call on_request again, which sends them).  Caller holds
 * hub->mu.  Returns how many are still held. */
static size_t release_durable(struct watch_hub *hub)
{
  struct held_write **pp = &hub->held, *h;
  size_t left = 0, done = 0;

  while ((h = *pp)) {
    if (h->rv <= hub->durable_rv) {
      *pp = h->next;
      h->listed = 0;
      MHD_resume_connection(h->conn);
      done++;
    } else {
      pp = &h->next;
      left++;
    }
  }
  if (done)
    pthread_cond_broadcast(&hub->released);
  return left;
}

/* The store's durable hook (committer thread): note and wake the hub. */
static void on_durable(void *arg, int64_t rv)
{
  struct watch_hub *hub = arg;

  pthread_mutex_lock(&hub->mu);
  hub->durable_rv = rv;
  if (hub->held)
    pthread_cond_signal(&hub->cond);
  pthread_mutex_unlock(&hub->mu);
}

/* Holds conn's answer until revision rv is durable: suspends it (its
 * thread goes on with other connections) and lists h for the hub.
 * Returns 0 when rv already is durable (answer at once). */
static int hold_until_durable(struct watch_hub *hub, struct held_write *h,
                              struct MHD_Connection *conn, int64_t rv)
{
  pthread_mutex_lock(&hub->mu);
  if (rv <= hub->durable_rv) {
    pthread_mutex_unlock(&hub->mu);
    return 0;
  }
  *h = (struct held_write){conn, rv, 1, hub->held};
  hub->held = h;
  MHD_suspend_connection(conn);
  pthread_mutex_unlock(&hub->mu);
  return 1;
}

/* Takes h off the hub's list if it still is there (its connection is
 * going away). */
static void unhold(struct watch_hub *hub, struct held_write *h)
{
  struct held_write **pp;

  pthread_mutex_lock(&hub->mu);
  if (h->listed)
    for (pp = &hub->held; *pp; pp = &(*pp)->next)
      if (*pp == h) {
        *pp = h->next;
        h->listed = 0;
        break;
      }
  pthread_mutex_unlock(&hub->mu);
}

static void *hub_main(void *arg)
{
  struct watch_hub *hub = arg;
  struct timespec deadline;
  struct stream_conn *sc;

  pthread_mutex_lock(&hub->mu);
  while (!hub->stopping) {
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 1;
    if (!hub->wake_head &&
        !(hub->held && hub->held->rv <= hub->durable_rv))
      pthread_cond_timedwait(&hub->cond, &hub->mu, &deadline);
    release_durable(hub);
    while ((sc = hub->wake_head)) {
      hub->wake_head = sc->next_wake;
      sc->woken = 0;
      stream_resume(sc);
    }
    /* Timers: deadlines and bookmarks (a few checks per second). */
    for (sc = hub->all; sc; sc = sc->next)
      if (sc->ws && watch_stream_due(sc->ws, time(NULL)))
        stream_resume(sc);
  }
  /* Let every stream run to its end so MHD can close them. */
  for (sc = hub->all; sc; sc = sc->next)
    stream_resume(sc);
  pthread_mutex_unlock(&hub->mu);
  return NULL;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
  struct stream_conn *sc = cls;
  ssize_t n;
  (void)pos;
  pthread_mutex_lock(&sc->mu);
  if (sc->hub->stopping)
    n = -1;
  else if (sc->ws)
    n = watch_stream_fill(sc->ws, buf, max);
  else
    n = kapi_byte_stream_read(sc->bs, buf, max);
  if (n == 0) {
    sc->suspended = 1;
    MHD_suspend_connection(sc->conn);
  }
  pthread_mutex_unlock(&sc->mu);
  if (n < 0)
    return MHD_CONTENT_READER_END_OF_STREAM;
  return n;
}

/* Takes sc off the hub's lists.  Caller holds hub->mu. */
static void stream_unlink(struct watch_hub *hub, struct stream_conn *sc)
{
  struct stream_conn **pp;
  for (pp = &hub->wake_head; *pp; pp = &(*pp)->next_wake)
    if (*pp == sc) {
      *pp = sc->next_wake;
      break;
    }
  sc->woken = 0;
}

static void stream_free(void *cls)
{
  struct stream_conn *sc = cls;
  struct watch_hub *hub = sc->hub;

  /* Off the timer list first, so the hub thread stops looking at the
   * stream; `dead` keeps a late store notification from queueing it. */
  pthread_mutex_lock(&hub->mu);
  sc->dead = 1;
  stream_unlink(hub, sc);
  if (sc->prev)
    sc->prev->next = sc->next;
  else
    hub->all = sc->next;
  if (sc->next)
    sc->next->prev = sc->prev;
  pthread_mutex_unlock(&hub->mu);
  /* After this no notification can come from the store (or the
   * transfer, which kapi_byte_stream_free joins). */
  if (sc->ws)
    watch_stream_free(sc->ws);
  else
    kapi_byte_stream_free(sc->bs);
  pthread_mutex_destroy(&sc->mu);
  kapi_series_dec(sc->rm.longrunning);
  request_done(&sc->rm);
  free(sc);
}

/* The response streaming ws or bs (taken on success); rm (NULL for a
 * byte stream) is recorded when the stream ends. */
static struct MHD_Response *stream_response(kapi_server *srv,
                                            struct MHD_Connection *conn,
                                            watch_stream *ws,
                                            kapi_byte_stream *bs,
                                            const struct req_metrics *rm)
{
  struct watch_hub *hub = srv->watches;
  struct stream_conn *sc = calloc(1, sizeof *sc);
  struct MHD_Response *resp;

  if (!sc)
    return NULL;
  sc->conn = conn;
  sc->ws = ws;
  sc->bs = bs;
  sc->hub = hub;
  if (rm)
    sc->rm = *rm;
  pthread_mutex_init(&sc->mu, NULL);
  resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024,
                                           stream_read, sc, stream_free);
  if (!resp) {
    pthread_mutex_destroy(&sc->mu);
    free(sc);
    return NULL;
  }
  pthread_mutex_lock(&hub->mu);
  sc->next = hub->all;
  if (hub->all)
    hub->all->prev = sc;
  hub->all = sc;
  pthread_mutex_unlock(&hub->mu);
  kapi_series_inc(sc->rm.longrunning);
  if (ws)
    watch_stream_set_wake(ws, stream_wake, sc);
  else
    kapi_byte_stream_set_wake(bs, stream_wake, sc);
  return resp;
}

/* ---- requests --------------------------------------------------------- */

/* Per-request state kept by MHD between calls of the access handler. */
struct req_ctx {
  char *body;
  size_t len, cap;
  int too_large;
  /* An answer ready but held until its writes are durable. */
  int held;
  kapi_response held_kr;
  struct req_metrics held_rm;
  struct held_write hw;
};

static const char *conn_header(void *conn, const char *name)
{
  return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

struct each_ctx {
  int (*fn)(void *arg, const char *name, const char *value);
  void *arg;
};

static enum MHD_Result each_header(void *cls, enum MHD_ValueKind kind,
                                   const char *key, const char *value)
{
  struct each_ctx *c = cls;
  (void)kind;
  return c->fn(c->arg, key, value ? value : "") ? MHD_NO : MHD_YES;
}

static void conn_headers_each(void *conn,
                              int (*fn)(void *arg, const char *name,
                                        const char *value),
                              void *arg)
{
  struct each_ctx c = {fn, arg};
  MHD_get_connection_values(conn, MHD_HEADER_KIND, each_header, &c);
}

static const char *conn_query(void *conn, const char *name)
{
  return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *kapi_req_query(const kapi_req *r, const char *name)
{
  return r->query ? r->query(r->conn, name) : NULL;
}

static int body_append(struct req_ctx *ctx, const char *data, size_t n)
{
  if (ctx->len + n > MAX_BODY) {
    ctx->too_large = 1;
    return 0;
  }
  if (ctx->len + n + 1 > ctx->cap) {
    size_t cap = ctx->cap ? ctx->cap : 4096;
    char *b;
    while (ctx->len + n + 1 > cap)
      cap *= 2;
    b = realloc(ctx->body, cap);
    if (!b)
      return -ENOMEM;
    ctx->body = b;
    ctx->cap = cap;
  }
  memcpy(ctx->body + ctx->len, data, n);
  ctx->len += n;
  ctx->body[ctx->len] = '\0';
  return 0;
}

/* Adds each Warning as `299 - "text"` with inner quotes escaped. */
static void add_warnings(struct MHD_Response *resp, const char *warnings)
{
  const char *p = warnings;
  while (p && *p) {
    const char *end = strchr(p, '\n');
    size_t n = end ? (size_t)(end - p) : strlen(p), i, o = 0;
    char *hv = malloc(n * 2 + 16);
    if (!hv)
      return;
    o += (size_t)sprintf(hv, "299 - \"");
    for (i = 0; i < n; i++) {
      if (p[i] == '"' || p[i] == '\\')
        hv[o++] = '\\';
      hv[o++] = p[i];
    }
    hv[o++] = '"';
    hv[o] = '\0';
    MHD_add_response_header(resp, "Warning", hv);
    free(hv);
    p = end ? end + 1 : NULL;
  }
}

/* MHD is done with a shared stored object's bytes. */
static void release_shared(void *cls)
{
  store_obj_unref(cls);
}

/* rm: the request's metrics, recorded here unless a stream takes them
 * (to record when it ends). */
/* The MHD response for an answer that is not a watch (takes its body). */
static struct MHD_Response *make_response(kapi_server *srv,
                                          struct MHD_Connection *conn,
                                          kapi_response *kr)
{
  struct MHD_Response *resp;

  if (kr->bytes) {
    resp = stream_response(srv, conn, NULL, kr->bytes, NULL);
    if (!resp)
      return NULL;
    kr->bytes = NULL; /* now owned by the response */
  } else if (kr->shared) {
    resp = MHD_create_response_from_buffer_with_free_callback_cls(
        kr->len, kr->body, release_shared, kr->shared);
    if (!resp)
      return NULL;
    kr->shared = NULL; /* the response holds the reference now */
    kr->body = NULL;
  } else {
    resp = MHD_create_response_from_buffer(kr->len, kr->body,
                                           MHD_RESPMEM_MUST_FREE);
    if (!resp)
      return NULL;
    kr->body = NULL;
  }
  return resp;
}

static enum MHD_Result send_response(struct MHD_Connection *conn,
                                     const kapi_response *kr,
                                     struct MHD_Response *resp)
{
  enum MHD_Result ret;

  MHD_add_response_header(resp, "Content-Type",
                          kr->content_type ? kr->content_type
                                           : "application/json");
  MHD_add_response_header(resp, "Cache-Control", "no-cache, private");
  add_warnings(resp, kr->warnings);
  ret = MHD_queue_response(conn, (unsigned)kr->code, resp);
  MHD_destroy_response(resp);
  return ret;
}

/* Answers now, or, when its writes are not durable yet (need_rv), holds
 * the answer in ctx and suspends the connection until they are. */
static enum MHD_Result queue(kapi_server *srv, struct MHD_Connection *conn,
                             kapi_response *kr, const struct req_metrics *rm,
                             struct req_ctx *ctx, int64_t need_rv)
{
  struct MHD_Response *resp;

  if (kr->stream) {
    resp = stream_response(srv, conn, kr->stream, NULL, rm);
    if (!resp) {
      request_done(rm);
      return MHD_NO;
    }
    kr->stream = NULL; /* now owned by the response */
    return send_response(conn, kr, resp);
  }
  if (need_rv > 0) {
    /* The answer waits as it is (no MHD response yet): ctx owns it. */
    ctx->held_kr = *kr;
    ctx->held_rm = *rm;
    ctx->held = 1;
    switch (hold_until_durable(srv->watches, &ctx->hw, conn, need_rv)) {
    case 1:
      memset(kr, 0, sizeof *kr);
      return MHD_YES;
    case 0:
      break;
    default: /* cannot hold it: wait here rather than answer early */
      kapi_store_wait_durable(srv->store, need_rv);
    }
    ctx->held = 0;
  }
  if (!(resp = make_response(srv, conn, kr)))
    return MHD_NO;
  request_done(rm);
  return send_response(conn, kr, resp);
}

/* Sends an answer held for durability, once resumed. */
static enum MHD_Result send_held(kapi_server *srv, struct req_ctx *ctx,
                                 struct MHD_Connection *conn)
{
  struct MHD_Response *resp = make_response(srv, conn, &ctx->held_kr);
  enum MHD_Result ret = MHD_NO;

  ctx->held = 0;
  if (resp) {
    request_done(&ctx->held_rm);
    ret = send_response(conn, &ctx->held_kr, resp);
  }
  kapi_response_reset(&ctx->held_kr);
  return ret;
}

/* ---- TLS -------------------------------------------------------------- */

struct kapi_server_tls {
  char *cert_pem, *key_pem, *ca_pem; /* kept for the daemon's lifetime */
  kapi_tls_verifier *verifier;       /* NULL without --client-ca-file */
};

static void tls_free(struct kapi_server_tls *t)
{
  if (!t)
    return;
  free(t->cert_pem);
  if (t->key_pem) {
    explicit_bzero(t->key_pem, strlen(t->key_pem));
    free(t->key_pem);
  }
  free(t->ca_pem);
  kapi_tls_verifier_free(t->verifier);
  free(t);
}

static char *read_pem(const char *path, const char *flag, char *err,
                      size_t errlen)
{
  FILE *f = fopen(path, "r");
  char *buf = NULL;
  size_t len = 0, cap = 0, n;
  if (!f) {
    snprintf(err, errlen, "cannot read %s %s: %s", flag, path,
             strerror(errno));
    return NULL;
  }
  do {
    if (cap - len < 4097) {
      char *nb = realloc(buf, cap = cap ? cap * 2 : 8192);
      if (!nb) {
        free(buf);
        fclose(f);
        snprintf(err, errlen, "out of memory");
        return NULL;
      }
      buf = nb;
    }
    n = fread(buf + len, 1, cap - len - 1, f);
    len += n;
  } while (n);
  fclose(f);
  buf[len] = '\0';
  return buf;
}

static int tls_load(const kapi_server_options *opts,
                    struct kapi_server_tls **out, char *err, size_t errlen)
{
  struct kapi_server_tls *t;
  if (!opts->tls_key_file) {
    snprintf(err, errlen,
             "--tls-cert-file and --tls-private-key-file must be given "
             "together");
    return -EINVAL;
  }
  if (!(t = calloc(1, sizeof *t)))
    return -ENOMEM;
  if (!(t->cert_pem = read_pem(opts->tls_cert_file, "--tls-cert-file", err,
                               errlen)) ||
      !(t->key_pem = read_pem(opts->tls_key_file, "--tls-private-key-file",
                              err, errlen)))
    goto fail;
  if (opts->client_ca_file &&
      (!(t->ca_pem = read_pem(opts->client_ca_file, "--client-ca-file", err,
                              errlen)) ||
       kapi_tls_verifier_load(opts->client_ca_file, &t->verifier, err,
                              errlen) < 0))
    goto fail;
  *out = t;
  return 0;
fail:
  tls_free(t);
  return -EINVAL;
}

/* What a TLS connection's client certificate proved, verified once at
 * its first request: the chain cannot change within a connection
 * (TLS 1.3 has no renegotiation, and MHD offers none), so every later
 * request on it reuses the answer instead of verifying the chain again. */
struct conn_identity {
  int checked;
  int ok;
  kapi_tls_identity id;
};

static void on_connection(void *cls, struct MHD_Connection *conn,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
  struct conn_identity *ci = *socket_context;
  (void)cls;
  (void)conn;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    *socket_context = calloc(1, sizeof(struct conn_identity));
  } else if (ci) {
    kapi_tls_identity_clear(&ci->id);
    free(ci);
    *socket_context = NULL;
  }
}

/* A copy of the cached identity for one request (the request owns it). */
static int copy_identity(const kapi_tls_identity *from, kapi_req *r)
{
  size_t i;

  r->tls_client_cn = strdup(from->cn ? from->cn : "");
  r->tls_client_groups = from->ngroups
                             ? calloc(from->ngroups, sizeof(char *))
                             : NULL;
  if (!r->tls_client_cn || (from->ngroups && !r->tls_client_groups))
    return -ENOMEM;
  for (i = 0; i < from->ngroups; i++)
    if (!(r->tls_client_groups[i] = strdup(from->groups[i])))
      return -ENOMEM;
  r->tls_client_ngroups = from->ngroups;
  return 0;
}

/* Puts the identity of a verified client certificate on the request.
 * The handshake only asked for the certificate (MHD hands GnuTLS the
 * trust list with GNUTLS_CERT_REQUEST, which never fails the handshake),
 * so the verification is done here. */
static void tls_peer_identity(kapi_server *srv, struct MHD_Connection *conn,
                              kapi_req *r)
{
  enum { MAX_CHAIN = 16 };
  const union MHD_ConnectionInfo *ci, *sc;
  struct conn_identity *cached;
  const gnutls_datum_t *certs;
  const unsigned char *der[MAX_CHAIN];
  size_t len[MAX_CHAIN];
  unsigned n = 0, i;
  kapi_tls_identity id;
  char reason[256];

  if (!srv->tls || !srv->tls->verifier)
    return;
  sc = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  cached = sc ? sc->socket_context : NULL;
  if (cached && cached->checked) {
    if (cached->ok && copy_identity(&cached->id, r) < 0)
      LOG_WARN("out of memory copying a client identity");
    return;
  }
  if (cached)
    cached->checked = 1;
  ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
  if (!ci || !ci->tls_session)
    return;
  certs = gnutls_certificate_get_peers((gnutls_session_t)ci->tls_session, &n);
  if (!certs || !n)
    return;
  if (n > MAX_CHAIN)
    n = MAX_CHAIN;
  for (i = 0; i < n; i++) {
    der[i] = certs[i].data;
    len[i] = certs[i].size;
  }
  if (kapi_tls_verify_peer(srv->tls->verifier, der, len, n, &id, reason,
                           sizeof reason) < 0) {
    LOG_V(4, "client certificate not verified: %s", reason);
    return;
  }
  if (kapi_log_verbosity >= 4) {
    char groups[512];
    size_t off = 0;
    groups[0] = '\0';
    for (i = 0; i < id.ngroups && off < sizeof groups; i++)
      off += (size_t)snprintf(groups + off, sizeof groups - off, "%s%s",
                              i ? " " : "", id.groups[i]);
    LOG_V(4, "client certificate: CN=%s O=[%s] verified", id.cn, groups);
  }
  if (cached) {
    cached->ok = 1;
    cached->id = id;
    if (copy_identity(&cached->id, r) < 0)
      LOG_WARN("out of memory copying a client identity");
    return;
  }
  r->tls_client_cn = id.cn;
  r->tls_client_groups = id.groups;
  r->tls_client_ngroups = id.ngroups;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version,
                                  const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
  kapi_server *srv = cls;
  struct req_ctx *ctx = *con_cls;
  kapi_req r;
  kapi_response kr;
  struct timespec received;
  struct req_metrics rm;
  enum MHD_Result ret;
  int64_t need_rv = 0;
  (void)version;

  if (!ctx) {
    ctx = calloc(1, sizeof *ctx);
    if (!ctx)
      return MHD_NO;
    *con_cls = ctx;
    return MHD_YES;
  }
  if (ctx->held)
    return send_held(srv, ctx, conn);
  if (*upload_size) {
    if (body_append(ctx, upload_data, *upload_size) < 0)
      return MHD_NO;
    *upload_size = 0;
    return MHD_YES;
  }

  clock_gettime(CLOCK_MONOTONIC, &rm.start);
  memset(&r, 0, sizeof r);
  memset(&kr, 0, sizeof kr);
  if (srv->audit)
    clock_gettime(CLOCK_REALTIME, &received);
  r.method = method;
  r.path = strdup(url);
  r.conn = conn;
  r.header = conn_header;
  r.query = conn_query;
  r.headers_each = conn_headers_each;
  r.body = ctx->body;
  r.body_len = ctx->len;
  r.now = time(NULL);
  r.srv = srv;
  r.resp = &kr;
  if (!r.path)
    return MHD_NO;
  tls_peer_identity(srv, conn, &r);
  if (ctx->too_large) {
    kapi_error e;
    kapi_error_init(&e);
    kapi_error_setf(&e, 413, "RequestEntityTooLarge",
                    "Request entity too large: limit is %d", MAX_BODY);
    kapi_response_error(&kr, &e);
    kapi_error_clear(&e);
  } else {
    /* Writes do not hold this thread until durable: the answer is held
     * instead (see queue), and the thread serves other connections. */
    kapi_store_defer_begin();
    kapi_chain_run(srv, &r, &kr);
    need_rv = kapi_store_defer_end();
  }
  LOG_V(3, "%s %s: %d", method, url, kr.code);
  if (srv->audit)
    kapi_audit_record(srv->audit, &r, &kr, &received, NULL);
  request_series(srv, &r, &kr, &rm);
  ret = queue(srv, conn, &kr, &rm, ctx, need_rv);
  kapi_response_reset(&kr);
  kapi_req_reset(&r);
  return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn,
                         void **con_cls, enum MHD_RequestTerminationCode toe)
{
  kapi_server *srv = cls;
  struct req_ctx *ctx = *con_cls;
  (void)conn;
  (void)toe;
  if (ctx) {
    if (ctx->held) {
      if (srv->watches)
        unhold(srv->watches, &ctx->hw);
      kapi_response_reset(&ctx->held_kr);
    }
    free(ctx->body);
    free(ctx);
    *con_cls = NULL;
  }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
  char buf[512];
  size_t n;
  (void)cls;
  vsnprintf(buf, sizeof buf, fmt, ap);
  n = strlen(buf);
  if (n && buf[n - 1] == '\n')
    buf[n - 1] = '\0';
  LOG_V(2, "microhttpd: %s", buf);
}

/* ---- lifecycle -------------------------------------------------------- */

static int hub_start(kapi_server *srv)
{
  struct watch_hub *hub = calloc(1, sizeof *hub);
  if (!hub)
    return -ENOMEM;
  pthread_mutex_init(&hub->mu, NULL);
  pthread_cond_init(&hub->cond, NULL);
  pthread_cond_init(&hub->released, NULL);
  if (pthread_create(&hub->thread, NULL, hub_main, hub) != 0) {
    pthread_cond_destroy(&hub->released);
    pthread_cond_destroy(&hub->cond);
    pthread_mutex_destroy(&hub->mu);
    free(hub);
    return -EAGAIN;
  }
  if (srv->store) {
    int64_t rv;
    /* Hook first, then read: a commit in between still reaches us. */
    kapi_store_set_durable_hook(srv->store, on_durable, hub);
    rv = kapi_store_durable_revision(srv->store);
    pthread_mutex_lock(&hub->mu);
    if (rv > hub->durable_rv)
      hub->durable_rv = rv;
    pthread_mutex_unlock(&hub->mu);
  }
  srv->watches = hub;
  return 0;
}

/* Lets the held answers go out (their commits are still running) before
 * the hub stops; a store stuck for 5 s leaves them unanswered. */
static void drain_held(struct watch_hub *hub)
{
  struct timespec deadline;

  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 5;
  while (hub->held &&
         pthread_cond_timedwait(&hub->released, &hub->mu, &deadline) !=
             ETIMEDOUT)
    ;
  if (hub->held)
    LOG_WARN("stopping with writes not yet durable: their requests get "
             "no answer");
}

int kapi_server_start(kapi_server *srv, const kapi_server_options *opts,
                      char *err, size_t errlen)
{
  struct sockaddr_in addr;
  const union MHD_DaemonInfo *info;
  /* No request holds its thread for long: writes wait for their group
   * commit with the connection suspended, streams suspend when idle.
   * Two threads per CPU (at least four) keep each thread serving many
   * connections back to back instead of sleeping and waking per request
   * (measured: 16 threads 5,200 pod creates/s, 4 threads 5,900/s). */
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  unsigned threads = opts->threads > 0 ? (unsigned)opts->threads
                                       : (unsigned)(cpus * 2 > 4 ? cpus * 2
                                                                 : 4);
  const char *bind = opts->bind_address ? opts->bind_address : "127.0.0.1";
  struct kapi_server_tls *tls = NULL;
  struct MHD_Daemon *d;
  int rc;

  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)opts->port);
  if (inet_pton(AF_INET, bind, &addr.sin_addr) != 1) {
    snprintf(err, errlen, "invalid bind address %s", bind);
    return -EINVAL;
  }
  if (opts->tls_cert_file) {
    if (srv->mhd_secure) {
      snprintf(err, errlen, "already serving TLS");
      return -EBUSY;
    }
    if ((rc = tls_load(opts, &tls, err, errlen)) < 0)
      return rc;
  } else if (opts->tls_key_file || opts->client_ca_file) {
    snprintf(err, errlen, "%s needs --tls-cert-file",
             opts->tls_key_file ? "--tls-private-key-file"
                                : "--client-ca-file");
    return -EINVAL;
  }
  if (!srv->watches && hub_start(srv) < 0) {
    snprintf(err, errlen, "cannot start the watch thread");
    tls_free(tls);
    return -EAGAIN;
  }
  if (tls)
    /* MEM_TRUST makes MHD request (not require) a client certificate. */
    d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
            MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | MHD_USE_TLS,
        0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER,
        on_mhd_log, srv, MHD_OPTION_SOCK_ADDR, &addr,
        MHD_OPTION_THREAD_POOL_SIZE, threads ? threads : 1u,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_CONNECTION_LIMIT, 10000u,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
        MHD_OPTION_HTTPS_MEM_CERT, tls->cert_pem,
        MHD_OPTION_HTTPS_MEM_KEY, tls->key_pem,
        tls->ca_pem ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END,
        tls->ca_pem, MHD_OPTION_END);
  else
    d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
            MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER,
        on_mhd_log, srv, MHD_OPTION_SOCK_ADDR, &addr,
        MHD_OPTION_THREAD_POOL_SIZE, threads ? threads : 1u,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_CONNECTION_LIMIT, 10000u, MHD_OPTION_END);
  if (!d) {
    int e = errno;
    snprintf(err, errlen, "cannot listen on %s:%d%s: %s", bind, opts->port,
             tls ? " (TLS; check the certificate and key)" : "",
             strerror(e));
    tls_free(tls);
    if (!srv->mhd && !srv->mhd_secure)
      kapi_server_stop(srv);
    return -EADDRINUSE;
  }
  info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  if (tls) {
    srv->mhd_secure = d;
    srv->tls = tls;
    srv->secure_port = info ? info->port : opts->port;
  } else {
    srv->mhd = d;
    srv->port = info ? info->port : opts->port;
  }
  return 0;
}

void kapi_server_stop(kapi_server *srv)
{
  struct watch_hub *hub = srv->watches;
  if (hub) {
    pthread_mutex_lock(&hub->mu);
    drain_held(hub);
    hub->stopping = 1;
    pthread_cond_signal(&hub->cond);
    pthread_mutex_unlock(&hub->mu);
    pthread_join(hub->thread, NULL);
  }
  if (srv->mhd)
    MHD_stop_daemon(srv->mhd);
  srv->mhd = NULL;
  if (srv->mhd_secure)
    MHD_stop_daemon(srv->mhd_secure);
  srv->mhd_secure = NULL;
  tls_free(srv->tls);
  srv->tls = NULL;
  if (hub) {
    if (srv->store)
      kapi_store_set_durable_hook(srv->store, NULL, NULL);
    pthread_mutex_destroy(&hub->mu);
    pthread_cond_destroy(&hub->cond);
    pthread_cond_destroy(&hub->released);
    free(hub);
    srv->watches = NULL;
  }
}
