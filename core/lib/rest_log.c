/*
 * rest_log.c - pods/log (see rest_log.h).
 *
 * The apiserver validates the container name as upstream's LogLocation,
 * finds the node's kubelet (status.addresses InternalIP and
 * status.daemonEndpoints.kubeletEndpoint.Port) and proxies
 * GET /containerLogs/<ns>/<pod>/<container>?<options> with libcurl.  The
 * transfer runs on a thread of its own feeding a bounded buffer that the
 * HTTP response drains, so a follow stream lasts as long as the kubelet
 * keeps sending and ends when the client goes away.
 */
#include "rest_log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "log.h"
#include "rest.h"
#include "sbuf.h"

#define BUF_MAX (1024 * 1024) /* pending bytes before the kubelet waits */
#define ERR_MAX 4096          /* bytes of an error body kept (upstream 4K) */

struct kapi_byte_stream {
  pthread_t thread;
  int started;
  char *url;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  char *buf; /* (mu) pending bytes */
  size_t len, cap;
  int headers;  /* (mu) the status line and headers arrived */
  long code;    /* (mu) the kubelet's HTTP status */
  int done;     /* (mu) the transfer ended */
  int abort;    /* (mu) the client left */
  void (*wake)(void *); /* (mu) told when bytes or the end arrive */
  void *wake_arg;
  char error[CURL_ERROR_SIZE];
};

/* Tells the reader that bytes or the end arrived.  Caller holds bs->mu
 * (the wake only queues: it never calls back into bs). */
static void wake_reader(kapi_byte_stream *bs)
{
  pthread_cond_broadcast(&bs->cv);
  if (bs->wake)
    bs->wake(bs->wake_arg);
}

/* ---- the transfer thread -------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
  kapi_byte_stream *bs = arg;
  size_t len = size * n;
  pthread_mutex_lock(&bs->mu);
  /* Backpressure: a slow client slows the kubelet, not our memory. */
  while (!bs->abort && bs->len > BUF_MAX)
    pthread_cond_wait(&bs->cv, &bs->mu);
  if (bs->abort) {
    pthread_mutex_unlock(&bs->mu);
    return 0; /* aborts the transfer */
  }
  if (bs->len + len > bs->cap) {
    size_t cap = bs->cap ? bs->cap : 16384;
    char *b;
    while (bs->len + len > cap)
      cap *= 2;
    b = realloc(bs->buf, cap);
    if (!b) {
      pthread_mutex_unlock(&bs->mu);
      return 0;
    }
    bs->buf = b;
    bs->cap = cap;
  }
  memcpy(bs->buf + bs->len, data, len);
  bs->len += len;
  wake_reader(bs);
  pthread_mutex_unlock(&bs->mu);
  return len;
}

/* The status line gives the code; the blank line ends the headers. */
static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
  kapi_byte_stream *bs = arg;
  size_t len = size * n;
  long code;
  pthread_mutex_lock(&bs->mu);
  if (len > 9 && !strncmp(data, "HTTP/", 5) &&
      sscanf(data, "HTTP/%*s %ld", &code) == 1)
    bs->code = code;
  else if (len <= 2 && (data[0] == '\r' || data[0] == '\n'))
    bs->headers = 1;
  pthread_cond_broadcast(&bs->cv);
  pthread_mutex_unlock(&bs->mu);
  return len;
}

/* Lets an idle follow stream notice that its client left. */
static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c,
                       curl_off_t d)
{
  kapi_byte_stream *bs = arg;
  int stop;
  (void)a, (void)b, (void)c, (void)d;
  pthread_mutex_lock(&bs->mu);
  stop = bs->abort;
  pthread_mutex_unlock(&bs->mu);
  return stop;
}

static void *transfer_main(void *arg)
{
  kapi_byte_stream *bs = arg;
  CURL *c = curl_easy_init();
  long code = 0;

  if (c) {
    curl_easy_setopt(c, CURLOPT_URL, bs->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, bs);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, bs);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, bs);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, bs->error);
    if (curl_easy_perform(c) == CURLE_OK || bs->headers)
      curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
  } else {
    snprintf(bs->error, sizeof bs->error, "out of memory");
  }
  pthread_mutex_lock(&bs->mu);
  if (code)
    bs->code = code;
  bs->done = 1;
  wake_reader(bs);
  pthread_mutex_unlock(&bs->mu);
  return NULL;
}

/* ---- the response side ---------------------------------------------------- */

ssize_t kapi_byte_stream_read(kapi_byte_stream *bs, char *buf, size_t max)
{
  ssize_t n;

  pthread_mutex_lock(&bs->mu);
  if (bs->len) {
    n = (ssize_t)(bs->len < max ? bs->len : max);
    memcpy(buf, bs->buf, (size_t)n);
    memmove(bs->buf, bs->buf + n, bs->len - (size_t)n);
    bs->len -= (size_t)n;
    pthread_cond_broadcast(&bs->cv); /* room for the transfer again */
  } else {
    n = bs->done ? -1 : 0;
  }
  pthread_mutex_unlock(&bs->mu);
  return n;
}

void kapi_byte_stream_set_wake(kapi_byte_stream *bs, void (*wake)(void *),
                               void *arg)
{
  pthread_mutex_lock(&bs->mu);
  bs->wake = wake;
  bs->wake_arg = arg;
  if (wake && (bs->len || bs->done))
    wake(arg);
  pthread_mutex_unlock(&bs->mu);
}

void kapi_byte_stream_free(kapi_byte_stream *bs)
{
  if (!bs)
    return;
  if (bs->started) {
    pthread_mutex_lock(&bs->mu);
    bs->abort = 1;
    pthread_cond_broadcast(&bs->cv);
    pthread_mutex_unlock(&bs->mu);
    pthread_join(bs->thread, NULL);
  }
  pthread_mutex_destroy(&bs->mu);
  pthread_cond_destroy(&bs->cv);
  free(bs->buf);
  free(bs->url);
  free(bs);
}

static kapi_byte_stream *byte_stream_start(char *url)
{
  kapi_byte_stream *bs = calloc(1, sizeof *bs);
  if (!bs) {
    free(url);
    return NULL;
  }
  bs->url = url;
  pthread_mutex_init(&bs->mu, NULL);
  pthread_cond_init(&bs->cv, NULL);
  if (pthread_create(&bs->thread, NULL, transfer_main, bs) != 0) {
    kapi_byte_stream_free(bs);
    return NULL;
  }
  bs->started = 1;
  return bs;
}

/* ---- the request -------------------------------------------------------- */

static void names_of(const kj *list, struct kapi__sbuf *out)
{
  size_t i;
  for (i = 0; i < kj_len(list); i++) {
    const char *n = kj_get_str(kj_at(list, i), "name");
    kapi__sb_printf(out, "%s%s", i ? " " : "", n ? n : "");
  }
}

static int has_container(const kj *spec, const char *name)
{
  static const char *const lists[] = {"containers", "initContainers",
                                      "ephemeralContainers"};
  size_t l, i;
  for (l = 0; l < 3; l++) {
    const kj *list = kj_get(spec, lists[l]);
    for (i = 0; i < kj_len(list); i++) {
      const char *n = kj_get_str(kj_at(list, i), "name");
      if (n && !strcmp(n, name))
        return 1;
    }
  }
  return 0;
}

/* upstream pod.LogLocation's container choice; NULL with e set. */
static const char *pick_container(const kj *pod, const char *name,
                                  const char *want, kapi_error *e)
{
  const kj *spec = kj_get(pod, "spec");
  const kj *ctrs = kj_get(spec, "containers");
  if (want && *want) {
    if (has_container(spec, want))
      return want;
    kapi_error_bad_request(e, "container %s is not valid for pod %s", want,
                           name);
    return NULL;
  }
  if (kj_len(ctrs) == 1)
    return kj_get_str(kj_at(ctrs, 0), "name");
  if (!kj_len(ctrs)) {
    kapi_error_bad_request(e, "a container name must be specified for pod %s",
                           name);
  } else {
    struct kapi__sbuf s = {0}, init = {0};
    names_of(ctrs, &s);
    names_of(kj_get(spec, "initContainers"), &init);
    kapi_error_bad_request(e, "a container name must be specified for pod "
                              "%s, choose one of: [%s]%s%s%s",
                           name, s.s ? s.s : "",
                           init.len ? " or one of the init containers: [" : "",
                           init.len ? init.s : "", init.len ? "]" : "");
    kapi__sb_free(&s);
    kapi__sb_free(&init);
  }
  return NULL;
}

static kj *load(kapi_server *srv, const char *resource, const char *ns,
                const char *name)
{
  kapi_resource *res = kapi_registry_find(srv->registry, "", "v1", resource);
  char *key = res ? kapi_resource_key(res, ns, name) : NULL;
  store_obj *o = NULL;
  kj *obj = NULL;
  char err[128];
  if (key && kapi_store_get(srv->store, key, &o) == 0)
    kj_parse(o->json, o->len, &obj, err, sizeof err);
  store_obj_unref(o);
  free(key);
  return obj;
}

/* http://<InternalIP>:<port> of the node's kubelet into buf; -ENOENT. */
static int kubelet_base(kapi_server *srv, const char *node, char *buf,
                        size_t len)
{
  kj *n = load(srv, "nodes", NULL, node);
  const kj *st = kj_get(n, "status"), *addrs = kj_get(st, "addresses");
  const kj *port = kj_get(kj_get(kj_get(st, "daemonEndpoints"),
                                 "kubeletEndpoint"),
                          "Port");
  const char *ip = NULL;
  int64_t p = 0;
  size_t i;
  for (i = 0; i < kj_len(addrs) && !ip; i++) {
    const char *t = kj_get_str(kj_at(addrs, i), "type");
    if (t && !strcmp(t, "InternalIP"))
      ip = kj_get_str(kj_at(addrs, i), "address");
  }
  if (!ip || !port || kj_to_int(port, &p) < 0 || p <= 0) {
    kj_free(n);
    return -ENOENT;
  }
  snprintf(buf, len, "http://%s:%lld", ip, (long long)p);
  kj_free(n);
  return 0;
}

/* The kubelet URL with the request's log options. */
static char *kubelet_url(kapi_req *r, const char *base, const char *ctr)
{
  static const char *const opts[] = {"follow", "tailLines", "timestamps",
                                     "previous", "sinceSeconds",
                                     "limitBytes", "sinceTime"};
  struct kapi__sbuf s = {0};
  char sep = '?';
  size_t i;
  char *ens = curl_easy_escape(NULL, r->namespace_, 0);
  char *ename = curl_easy_escape(NULL, r->name, 0);
  char *ectr = curl_easy_escape(NULL, ctr, 0);
  if (ens && ename && ectr)
    kapi__sb_printf(&s, "%s/containerLogs/%s/%s/%s", base, ens, ename, ectr);
  curl_free(ens);
  curl_free(ename);
  curl_free(ectr);
  for (i = 0; s.s && !s.oom && i < sizeof opts / sizeof opts[0]; i++) {
    const char *v = kapi_req_query(r, opts[i]);
    char *ev = v ? curl_easy_escape(NULL, v, 0) : NULL;
    if (ev) {
      kapi__sb_printf(&s, "%c%s=%s", sep, opts[i], ev);
      sep = '&';
    }
    curl_free(ev);
  }
  if (s.oom) {
    kapi__sb_free(&s);
    return NULL;
  }
  return s.s;
}

static const char *reason_of(long code)
{
  switch (code) {
  case 400: return "BadRequest";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "NotFound";
  case 503: return "ServiceUnavailable";
  default: return "InternalError";
  }
}

/* The kubelet said no: its (text) body becomes the Status message, as
 * upstream's GenericHttpResponseChecker. */
static void answer_kubelet_error(kapi_byte_stream *bs, kapi_response *resp)
{
  char msg[ERR_MAX + 1];
  size_t n;
  pthread_mutex_lock(&bs->mu);
  while (!bs->done && bs->len < ERR_MAX)
    pthread_cond_wait(&bs->cv, &bs->mu);
  n = bs->len < ERR_MAX ? bs->len : ERR_MAX;
  memcpy(msg, bs->buf ? bs->buf : "", n);
  pthread_mutex_unlock(&bs->mu);
  while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
    n--;
  msg[n] = '\0';
  kapi_response_fail(resp, (int)bs->code, reason_of(bs->code), msg);
}

void rest_log(kapi_server *srv, kapi_req *r, kapi_resource *res,
              kapi_response *resp)
{
  kj *pod = load(srv, res->ops->resource, r->namespace_, r->name);
  const char *ctr, *node;
  kapi_byte_stream *bs;
  char base[512];
  kapi_error e;
  char *url;
  int ok;

  kapi_error_init(&e);
  if (!pod) {
    kapi_error_not_found(&e, res->group, res->ops->resource, r->name);
    goto fail;
  }
  ctr = pick_container(pod, r->name, kapi_req_query(r, "container"), &e);
  if (!ctr)
    goto fail;
  node = kj_get_str(kj_get(pod, "spec"), "nodeName");
  if (!node || !*node) {
    kapi_error_bad_request(&e, "pod %s does not have a host assigned",
                           r->name);
    goto fail;
  }
  if (kubelet_base(srv, node, base, sizeof base) < 0) {
    kapi_error_setf(&e, 503, "ServiceUnavailable",
                    "no kubelet endpoint known for node \"%s\"", node);
    goto fail;
  }
  url = kubelet_url(r, base, ctr);
  bs = url ? byte_stream_start(url) : NULL;
  if (!bs) {
    kapi_error_internal(&e, "out of memory");
    goto fail;
  }
  pthread_mutex_lock(&bs->mu);
  while (!bs->headers && !bs->done)
    pthread_cond_wait(&bs->cv, &bs->mu);
  ok = bs->headers && bs->code;
  pthread_mutex_unlock(&bs->mu);
  if (!ok) {
    kapi_error_setf(&e, 503, "ServiceUnavailable", "Get \"%s\": %s", bs->url,
                    *bs->error ? bs->error : "no answer");
    kapi_byte_stream_free(bs);
    goto fail;
  }
  if (bs->code != 200) {
    answer_kubelet_error(bs, resp);
    kapi_byte_stream_free(bs);
    kj_free(pod);
    return;
  }
  kapi_response_reset(resp);
  resp->code = 200;
  resp->content_type = "text/plain";
  resp->bytes = bs;
  kj_free(pod);
  return;
fail:
  kapi_response_error(resp, &e);
  kapi_error_clear(&e);
  kj_free(pod);
}
