/*
 * watch_http.c - watch streams.
 *
 * A stream owns one store watch.  Each store event is filtered by the
 * request's selectors against both the old and the new object, which
 * turns selector transitions into ADDED/DELETED as upstream's cacher
 * does, then encoded as one line of JSON.  Lines are buffered here so
 * that an event larger than the server's write buffer is sent across
 * several reads.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "kapi/metrics.h"
#include "meta.h"
#include "rest.h"
#include "rest_meta.h"
#include "table.h"
#include "watch_http.h"

#define BOOKMARK_INTERVAL 60 /* seconds, as upstream */

struct watch_stream {
  kapi_server *srv;
  struct kapi_metric_series *events; /* apiserver_watch_events_total */
  kapi_resource *res;
  kapi_watch *w;
  rest_selectors sel;
  int table;         /* Table rows instead of objects */
  int partial;       /* PartialObjectMetadata instead of objects */
  int sent_columns;  /* the first Table event carries the columns */
  int bookmarks;
  time_t deadline;
  _Atomic long next_bookmark;
  char *out;         /* encoded bytes not yet written */
  size_t out_len, out_off, out_cap;
  char *error_event; /* a last event to send (410), then end */
  int ended;
  _Atomic(void (*)(void *)) wake;
  _Atomic(void *) wake_arg;
};

/* ---- encoding ------------------------------------------------------------- */

static int out_add(watch_stream *ws, const char *s, size_t n)
{
  if (ws->out_len + n > ws->out_cap) {
    size_t cap = ws->out_cap ? ws->out_cap : 4096;
    char *p;
    while (ws->out_len + n > cap)
      cap *= 2;
    p = realloc(ws->out, cap);
    if (!p)
      return -ENOMEM;
    ws->out = p;
    ws->out_cap = cap;
  }
  memcpy(ws->out + ws->out_len, s, n);
  ws->out_len += n;
  return 0;
}

static int out_str(watch_stream *ws, const char *s)
{
  return out_add(ws, s, strlen(s));
}

static const char *type_name(kapi_event_type t)
{
  switch (t) {
  case KAPI_EVENT_ADDED:
    return "ADDED";
  case KAPI_EVENT_MODIFIED:
    return "MODIFIED";
  case KAPI_EVENT_DELETED:
    return "DELETED";
  }
  return "ERROR";
}

/* Encodes {"type":T,"object":O}\n; obj is the parsed object or NULL
 * (then the raw bytes are used). */
static int encode_event(watch_stream *ws, const char *type, const kj *obj,
                        const char *raw, size_t raw_len)
{
  int rc = out_str(ws, "{\"type\":\"");
  kapi_series_inc(ws->events);
  rc |= out_str(ws, type);
  rc |= out_str(ws, "\",\"object\":");
  if (ws->partial) {
    size_t n = 0;
    kj *p = obj ? kapi_partial_metadata(obj) : NULL;
    char *s = obj ? (p ? kj_dump(p, &n) : NULL)
                  : kapi_partial_metadata_json(raw, raw_len, &n);
    kj_free(p);
    if (!s)
      return -ENOMEM;
    rc |= out_add(ws, s, n);
    free(s);
  } else if (ws->table && obj) {
    char *rv = (char *)kj_get_str(kj_get(obj, "metadata"), "resourceVersion");
    kj *t = kapi_table_new(ws->res, !ws->sent_columns, rv, NULL);
    char *s;
    size_t n;
    if (!t || kapi_table_add_row(t, ws->res, obj, time(NULL)) < 0) {
      kj_free(t);
      return -ENOMEM;
    }
    ws->sent_columns = 1;
    s = kj_dump(t, &n);
    kj_free(t);
    if (!s)
      return -ENOMEM;
    rc |= out_add(ws, s, n);
    free(s);
  } else if (obj) {
    char *s;
    size_t n;
    s = kj_dump(obj, &n);
    if (!s)
      return -ENOMEM;
    rc |= out_add(ws, s, n);
    free(s);
  } else {
    rc |= out_add(ws, raw, raw_len);
  }
  rc |= out_str(ws, "}\n");
  return rc ? -ENOMEM : 0;
}

static int parse(const store_obj *o, kj **ret)
{
  char err[128];
  return kj_parse(o->json, o->len, ret, err, sizeof err);
}

/* Sets metadata.resourceVersion to the event's revision (for objects
 * that leave the selection: upstream sends the old object at the new
 * revision). */
static void set_rv(kj *obj, int64_t rv)
{
  char num[32];
  snprintf(num, sizeof num, "%" PRId64, rv);
  kj_set_ptr(obj, "/metadata/resourceVersion", kj_string(num));
}

/* Turns one store event into zero or one stream event. */
static int encode_store_event(watch_stream *ws, kapi_event *ev)
{
  int filter = !rest_selectors_empty(&ws->sel);
  kj *obj = NULL, *old = NULL;
  int now_match, was_match, rc = 0;
  const char *type = type_name(ev->type);

  if (!filter && !ws->table)
    return encode_event(ws, type, NULL, ev->obj->json, ev->obj->len);
  if (parse(ev->obj, &obj) < 0)
    return 0;
  if (!filter) {
    rc = encode_event(ws, type, obj, NULL, 0);
    kj_free(obj);
    return rc;
  }
  {
    now_match = ev->type != KAPI_EVENT_DELETED &&
                rest_selectors_match(&ws->sel, ws->res, obj);
    if (ev->type == KAPI_EVENT_DELETED)
      was_match = rest_selectors_match(&ws->sel, ws->res, obj);
    else if (ev->old && parse(ev->old, &old) == 0)
      was_match = rest_selectors_match(&ws->sel, ws->res, old);
    else
      was_match = 0;
  }
  if (ev->type == KAPI_EVENT_DELETED) {
    if (was_match)
      rc = encode_event(ws, "DELETED", obj, NULL, 0);
  } else if (now_match && was_match) {
    rc = encode_event(ws, "MODIFIED", obj, NULL, 0);
  } else if (now_match) {
    rc = encode_event(ws, "ADDED", obj, NULL, 0);
  } else if (was_match && old) {
    set_rv(old, ev->rv);
    rc = encode_event(ws, "DELETED", old, NULL, 0);
  }
  kj_free(obj);
  kj_free(old);
  return rc;
}

/* When the next BOOKMARK is due (upstream's nextBookmarkTime): a minute
 * from now, or 2 s before the deadline if that comes first, so that the
 * client can resume from a recent revision; none once that has passed. */
static long next_bookmark_at(const watch_stream *ws, time_t now)
{
  long t = (long)now + BOOKMARK_INTERVAL, pre = (long)ws->deadline - 2;
  if (pre < t)
    t = pre;
  return t > (long)now ? t : LONG_MAX;
}

static int encode_bookmark(watch_stream *ws)
{
  char line[512];
  snprintf(line, sizeof line,
           "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"%s\","
           "\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":\"%"
           PRId64 "\",\"creationTimestamp\":null}}}\n",
           ws->partial ? "PartialObjectMetadata" : ws->res->ops->kind,
           ws->partial ? "meta.k8s.io/v1" : ws->res->group_version,
           kapi_watch_revision(ws->w));
  kapi_series_inc(ws->events);
  return out_str(ws, line);
}

/* ---- the stream ---------------------------------------------------------- */

/* Appends the next ready event (or bookmark, or the final error event)
 * to ws->out: 1 when one was taken (a filtered-out event adds no bytes),
 * 0 when nothing is ready, -1 once the stream has ended. */
static int pull_one(watch_stream *ws)
{
  kapi_event *ev;
  time_t now;
  int rc;

  if (ws->ended)
    return -1;
  if (ws->error_event) {
    ws->ended = 1;
    return out_str(ws, ws->error_event) < 0 ? -1 : 1;
  }
  now = time(NULL);
  if (now >= ws->deadline) {
    ws->ended = 1;
    return -1;
  }
  rc = kapi_watch_next(ws->w, &ev);
  if (rc == -EAGAIN) {
    if (ws->bookmarks && now >= atomic_load(&ws->next_bookmark)) {
      atomic_store(&ws->next_bookmark, next_bookmark_at(ws, now));
      encode_bookmark(ws);
      return 1;
    }
    return 0;
  }
  if (rc == 0) {
    rc = encode_store_event(ws, ev);
    kapi_event_unref(ev);
  }
  if (rc < 0) {
    ws->ended = 1;
    return -1;
  }
  return 1;
}

/*
 * Every event queued while the connection was busy goes out in one
 * write (up to FILL_BATCH bytes): with many watchers and a steady event
 * rate, one write and one wake-up per event per watcher is what limits
 * the fan-out, and a watcher that fell behind catches up in large
 * writes instead of one event at a time.  The cap keeps each stream's
 * buffer small.  Bytes already encoded are always sent before the end.
 */
#define FILL_BATCH (16 * 1024)

ssize_t watch_stream_fill(watch_stream *ws, char *buf, size_t max)
{
  size_t want = max < FILL_BATCH ? max : FILL_BATCH;
  int rc = 1;

  if (ws->out_off == ws->out_len)
    ws->out_off = ws->out_len = 0;
  while (ws->out_len - ws->out_off < want && (rc = pull_one(ws)) > 0)
    ;
  if (ws->out_off == ws->out_len)
    return rc < 0 ? -1 : 0;
  if (max > ws->out_len - ws->out_off)
    max = ws->out_len - ws->out_off;
  memcpy(buf, ws->out + ws->out_off, max);
  ws->out_off += max;
  return (ssize_t)max;
}

int watch_stream_due(watch_stream *ws, time_t now)
{
  return now >= ws->deadline ||
         (ws->bookmarks && now >= atomic_load(&ws->next_bookmark));
}

static void on_store_notify(void *arg)
{
  watch_stream *ws = arg;
  void (*wake)(void *) = atomic_load(&ws->wake);
  if (wake)
    wake(atomic_load(&ws->wake_arg));
}

void watch_stream_set_wake(watch_stream *ws, void (*wake)(void *), void *arg)
{
  atomic_store(&ws->wake_arg, arg);
  atomic_store(&ws->wake, wake);
}

void watch_stream_free(watch_stream *ws)
{
  if (!ws)
    return;
  if (ws->w)
    kapi_watch_close(ws->w);
  rest_selectors_free(&ws->sel);
  free(ws->out);
  free(ws->error_event);
  free(ws);
}

/* The 410 the stream opens with when resourceVersion is too old. */
static char *expired_event(int64_t rv, int64_t oldest)
{
  char *s;
  if (asprintf(&s,
               "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\","
               "\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
               "\"message\":\"too old resource version: %" PRId64 " (%" PRId64
               ")\",\"reason\":\"Expired\",\"code\":410}}\n",
               rv, oldest) < 0)
    return NULL;
  return s;
}

/* Upstream: timeoutSeconds, else a random time in [30, 60) minutes. */
static time_t watch_deadline(const kapi_req *r)
{
  const char *t = kapi_req_query(r, "timeoutSeconds");
  long secs = t && *t ? strtol(t, NULL, 10) : 0;
  if (secs <= 0)
    secs = 1800 + (long)(random() % 1800);
  return time(NULL) + secs;
}

void kapi_watch_start(kapi_server *srv, kapi_req *r, kapi_resource *res,
                      kapi_response *resp)
{
  const char *rv_s = kapi_req_query(r, "resourceVersion");
  const char *bm = kapi_req_query(r, "allowWatchBookmarks");
  const char *accept = kapi_req_header(r, "Accept");
  watch_stream *ws = calloc(1, sizeof *ws);
  char *prefix = NULL;
  int64_t rv, oldest = 0;
  kapi_error e;
  int rc, flags = 0;

  kapi_error_init(&e);
  if (!ws)
    return;
  rv = rest_query_rv(r, "resourceVersion", &e);
  if (rv < 0 || rest_selectors_parse(r, res, &ws->sel, &e) < 0)
    goto fail;
  if (*r->name) { /* a single object: as fieldSelector metadata.name */
    const char *fname = ws->sel.fields
                            ? kapi_field_selector_requires(ws->sel.fields,
                                                           "metadata.name")
                            : NULL;
    char fs[300], err[128];
    if (fname && strcmp(fname, r->name)) {
      kapi_error_bad_request(&e, "fieldSelector metadata.name doesn't match "
                                 "requested name");
      goto fail;
    }
    snprintf(fs, sizeof fs, "metadata.name=%s", r->name);
    kapi_field_selector_free(ws->sel.fields);
    ws->sel.fields = NULL;
    if (kapi_field_selector_parse(fs, &ws->sel.fields, err, sizeof err) < 0)
      goto fail;
  }
  ws->srv = srv;
  ws->res = res;
  ws->events = kapi_watch_events_series(res);
  ws->partial = accept && kapi_wants_partial_metadata(accept);
  ws->table = !ws->partial && accept && kapi_wants_table(accept);
  ws->bookmarks = kapi_query_bool(bm);
  ws->deadline = watch_deadline(r);
  atomic_store(&ws->next_bookmark, next_bookmark_at(ws, time(NULL)));
  if (!rv_s || !*rv_s || !strcmp(rv_s, "0"))
    flags |= KAPI_WATCH_INITIAL;
  prefix = kapi_resource_list_prefix(res, r->namespace_);
  if (!prefix)
    goto fail;
  rc = kapi_store_watch(srv->store, prefix, rv, flags, on_store_notify, ws,
                        &ws->w, &oldest);
  if (rc == -ERANGE) {
    ws->error_event = expired_event(rv, oldest);
    ws->w = NULL;
  } else if (rc < 0) {
    kapi_error_internal(&e, "cannot watch: %s", strerror(-rc));
    goto fail;
  }
  free(prefix);
  resp->code = 200;
  resp->content_type = "application/json";
  resp->stream = ws;
  return;
fail:
  free(prefix);
  if (!kapi_error_isset(&e))
    kapi_error_internal(&e, "cannot start the watch");
  kapi_response_error(resp, &e);
  kapi_error_clear(&e);
  watch_stream_free(ws);
}
