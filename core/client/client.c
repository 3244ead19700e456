/*
 * client.c - the REST client over libcurl.
 *
 * Threads share one kapi_client.  Each request borrows an easy handle
 * from a small pool: a handle keeps its idle keep-alive connection, so
 * the pool is the connection cache (libcurl does not support sharing one
 * connection cache between concurrent threads).  DNS results and TLS
 * sessions are shared through a curl share handle with a mutex per data
 * kind.
 *
 * Every attempt first takes a token from the client's token bucket
 * (client-go's flowcontrol: qps, burst).  Failed attempts are retried
 * with exponential backoff, or after Retry-After: reads (GET, watch) on
 * connection errors, 429 and 5xx; writes only when the request cannot
 * have reached the server (connection refused, name resolution) or the
 * server refused it unprocessed (429), so a write is never applied twice.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "client.h"
#include "config.h"
#include "kubeconfig.h"
#include "log.h"
#include "sbuf.h"

#define DEFAULT_QPS 50.0
#define DEFAULT_BURST 100
#define DEFAULT_RETRIES 5
#define POOL_MAX 32
#define BACKOFF_BASE_MS 200
#define BACKOFF_MAX_MS 5000
#define RETRY_AFTER_MAX_S 30
#define TOKEN_FILE_TTL_S 60 /* client-go re-reads token files each minute */
#define STALL_SECONDS 30    /* a non-watch response that stalls this long fails */

struct kapi_client {
  char *server; /* no trailing slash */
  char *user_agent;
  kapi_kubeconfig *kc; /* TLS and credentials (never NULL) */
  int max_retries;

  /* token bucket */
  pthread_mutex_t limiter_mu;
  double qps; /* <= 0: no limit */
  double burst;
  double tokens;
  struct timespec last;

  /* easy handle pool (the connection cache) */
  pthread_mutex_t pool_mu;
  CURL *pool[POOL_MAX];
  size_t npool;

  CURLSH *share;
  pthread_mutex_t share_mu[CURL_LOCK_DATA_LAST];

  /* tokenFile contents, re-read every TOKEN_FILE_TTL_S */
  pthread_mutex_t token_mu;
  char *file_token;
  time_t file_token_read;
};

/* ---- time and sleeping ----------------------------------------------------- */

static double elapsed_s(const struct timespec *a, const struct timespec *b)
{
  return (double)(b->tv_sec - a->tv_sec) +
         (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* The flag is set by another thread: read it atomically. */
static int stopped(volatile int *stop)
{
  return stop && __atomic_load_n(stop, __ATOMIC_ACQUIRE);
}

/* Sleeps ms milliseconds in short slices so that *stop is seen quickly.
 * Returns -ECANCELED if stopped. */
static int sleep_ms(long ms, volatile int *stop)
{
  while (ms > 0) {
    long slice = ms > 50 ? 50 : ms;
    struct timespec ts = {0, slice * 1000000L};
    if (stopped(stop))
      return -ECANCELED;
    nanosleep(&ts, NULL);
    ms -= slice;
  }
  return stopped(stop) ? -ECANCELED : 0;
}

/* ---- the token bucket ------------------------------------------------------ */

/* Takes one token, waiting for it if the bucket is empty.  Tokens are
 * reserved under the lock (the bucket may go negative), so concurrent
 * waiters queue up in order instead of racing. */
static int limiter_wait(kapi_client *c, volatile int *stop)
{
  struct timespec now;
  double wait_s;
  int r;

  if (c->qps <= 0)
    return 0;
  pthread_mutex_lock(&c->limiter_mu);
  clock_gettime(CLOCK_MONOTONIC, &now);
  c->tokens += elapsed_s(&c->last, &now) * c->qps;
  if (c->tokens > c->burst)
    c->tokens = c->burst;
  c->last = now;
  c->tokens -= 1;
  wait_s = c->tokens < 0 ? -c->tokens / c->qps : 0;
  pthread_mutex_unlock(&c->limiter_mu);
  if (wait_s <= 0)
    return 0;
  if (wait_s > 1)
    LOG_V(3, "waited for %.3fs due to client-side throttling", wait_s);
  r = sleep_ms((long)(wait_s * 1000) + 1, stop);
  if (r < 0) {
    /* Not used after all: give the reservation back. */
    pthread_mutex_lock(&c->limiter_mu);
    c->tokens += 1;
    pthread_mutex_unlock(&c->limiter_mu);
  }
  return r;
}

/* ---- curl plumbing ----------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

/* curl_global_init is not thread-safe on every libcurl: run it once. */
static void curl_global_once(void)
{
  curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access,
                       void *arg)
{
  kapi_client *c = arg;
  (void)h;
  (void)access;
  pthread_mutex_lock(&c->share_mu[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *arg)
{
  kapi_client *c = arg;
  (void)h;
  pthread_mutex_unlock(&c->share_mu[data]);
}

static CURL *handle_get(kapi_client *c)
{
  CURL *h = NULL;

  pthread_mutex_lock(&c->pool_mu);
  if (c->npool > 0)
    h = c->pool[--c->npool];
  pthread_mutex_unlock(&c->pool_mu);
  return h ? h : curl_easy_init();
}

/* Back into the pool with its options reset; its live connection stays
 * (curl_easy_reset keeps connections). */
static void handle_put(kapi_client *c, CURL *h)
{
  curl_easy_reset(h);
  pthread_mutex_lock(&c->pool_mu);
  if (c->npool < POOL_MAX) {
    c->pool[c->npool++] = h;
    h = NULL;
  }
  pthread_mutex_unlock(&c->pool_mu);
  if (h)
    curl_easy_cleanup(h);
}

/* ---- one request ------------------------------------------------------------- */

/* A watch stream being split into events. */
typedef struct watch_ctx {
  kapi_client_watch_fn fn;
  void *arg;
  volatile int *stop;
  struct kapi__sbuf line; /* bytes of the event not complete yet */
  int fn_ret;             /* what fn returned, if not 0 */
  int bad;                /* an undecodable line ended the stream */
  char bad_msg[256];
  int started;            /* a 2xx answer began: no retry after this */
} watch_ctx;

typedef struct call {
  const char *method;
  const char *url;
  const char *content_type;
  const char *body;
  size_t len;
  int idempotent;     /* a read: retried on any transient failure */
  watch_ctx *watch;   /* streams events when set */
  volatile int *stop; /* watch only */

  CURL *h;
  long code;               /* HTTP status of the last attempt, 0 = none */
  struct kapi__sbuf resp;  /* the body (for a watch: an error body) */
  long retry_after;        /* seconds, -1 when absent */
  CURLcode cc;
  char errbuf[CURL_ERROR_SIZE];
} call;

static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
  call *k = arg;
  size_t len = size * n;
  static const char name[] = "retry-after:";

  if (len > sizeof name - 1 && !strncasecmp(buf, name, sizeof name - 1)) {
    char tmp[32];
    size_t m = len - (sizeof name - 1);
    char *end;
    long v;
    if (m >= sizeof tmp)
      m = sizeof tmp - 1;
    memcpy(tmp, buf + sizeof name - 1, m);
    tmp[m] = '\0';
    v = strtol(tmp, &end, 10);
    /* Only the delay-seconds form; an HTTP date is left to backoff. */
    if (end != tmp && v >= 0)
      k->retry_after = v;
  }
  return len;
}

/* One line of a watch stream: {"type":"ADDED","object":{...}}. */
static int watch_line(watch_ctx *w, const char *s, size_t n)
{
  kj *ev = NULL;
  char err[128];
  const char *type;
  int r;

  while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' '))
    n--;
  if (n == 0)
    return 0;
  if (kj_parse(s, n, &ev, err, sizeof err) < 0 ||
      !(type = kj_get_str(ev, "type"))) {
    w->bad = 1;
    snprintf(w->bad_msg, sizeof w->bad_msg,
             "undecodable watch event: %s", ev ? "no type" : err);
    kj_free(ev);
    return -1;
  }
  r = w->fn(w->arg, type, kj_get(ev, "object"));
  kj_free(ev);
  if (r != 0) {
    w->fn_ret = r;
    return -1;
  }
  return 0;
}

/* Splits the stream into lines; returns -1 to end the transfer. */
static int watch_feed(watch_ctx *w, const char *data, size_t len)
{
  const char *nl;

  while (len > 0) {
    if (stopped(w->stop))
      return -1;
    nl = memchr(data, '\n', len);
    if (!nl) {
      kapi__sb_putn(&w->line, data, len);
      return w->line.oom ? -1 : 0;
    }
    if (w->line.len > 0) {
      int r;
      kapi__sb_putn(&w->line, data, (size_t)(nl - data));
      if (w->line.oom)
        return -1;
      r = watch_line(w, w->line.s, w->line.len);
      kapi__sb_reset(&w->line);
      if (r < 0)
        return -1;
    } else if (watch_line(w, data, (size_t)(nl - data)) < 0) {
      return -1;
    }
    len -= (size_t)(nl - data) + 1;
    data = nl + 1;
  }
  return 0;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
  call *k = arg;
  size_t len = size * n;

  if (k->watch) {
    long code = 0;
    curl_easy_getinfo(k->h, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200 && code < 300) {
      k->watch->started = 1;
      return watch_feed(k->watch, data, len) < 0 ? 0 : len;
    }
  }
  kapi__sb_putn(&k->resp, data, len);
  return k->resp.oom ? 0 : len;
}

/* Watches must notice *stop even when no byte arrives: libcurl calls
 * this about once a second on an idle transfer. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
  call *k = arg;
  (void)dltotal;
  (void)dlnow;
  (void)ultotal;
  (void)ulnow;
  return stopped(k->stop) ? 1 : 0;
}

/* The bearer token: inline, or the tokenFile's contents (cached). */
static char *bearer_token(kapi_client *c)
{
  time_t now = time(NULL);
  char *tok = NULL;

  if (c->kc->token)
    return strdup(c->kc->token);
  if (!c->kc->token_file)
    return NULL;
  pthread_mutex_lock(&c->token_mu);
  if (!c->file_token || now - c->file_token_read >= TOKEN_FILE_TTL_S) {
    FILE *f = fopen(c->kc->token_file, "r");
    char buf[8192];
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) {
      fclose(f);
      while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
                       buf[n - 1] == ' '))
        n--;
      buf[n] = '\0';
      free(c->file_token);
      c->file_token = strdup(buf);
      c->file_token_read = now;
    } else if (!c->file_token) {
      LOG_WARN("cannot read token file %s", c->kc->token_file);
    }
  }
  if (c->file_token)
    tok = strdup(c->file_token);
  pthread_mutex_unlock(&c->token_mu);
  return tok;
}

void kapi__kubeconfig_curl_tls(const kapi_kubeconfig *kc, void *handle)
{
  CURL *h = handle;

  if (kc->insecure) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (kc->ca_data) {
    struct curl_blob b = {kc->ca_data, kc->ca_len, CURL_BLOB_COPY};
    curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &b);
  } else if (kc->ca_file) {
    curl_easy_setopt(h, CURLOPT_CAINFO, kc->ca_file);
  }
  if (kc->cert_data) {
    struct curl_blob b = {kc->cert_data, kc->cert_len, CURL_BLOB_COPY};
    curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &b);
    curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
  } else if (kc->cert_file) {
    curl_easy_setopt(h, CURLOPT_SSLCERT, kc->cert_file);
  }
  if (kc->key_data) {
    struct curl_blob b = {kc->key_data, kc->key_len, CURL_BLOB_COPY};
    curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &b);
    curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
  } else if (kc->key_file) {
    curl_easy_setopt(h, CURLOPT_SSLKEY, kc->key_file);
  }
  if (kc->username && kc->password) {
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_USERNAME, kc->username);
    curl_easy_setopt(h, CURLOPT_PASSWORD, kc->password);
  }
}

static void set_tls(kapi_client *c, CURL *h)
{
  kapi__kubeconfig_curl_tls(c->kc, h);
}

static struct curl_slist *make_headers(kapi_client *c, const call *k)
{
  struct curl_slist *hs = NULL, *t;
  char *tok = bearer_token(c), *line = NULL;
  int ok = 1;

#define ADD(s)                                                          \
  do {                                                                  \
    if (ok && (t = curl_slist_append(hs, (s))))                         \
      hs = t;                                                           \
    else                                                                \
      ok = 0;                                                           \
  } while (0)
  ADD("Accept: application/json");
  /* No "Expect: 100-continue" round trip for larger bodies. */
  ADD("Expect:");
  if (k->content_type) {
    if (asprintf(&line, "Content-Type: %s", k->content_type) < 0)
      line = NULL, ok = 0;
    else
      ADD(line);
    free(line);
    line = NULL;
  }
  if (tok) {
    if (asprintf(&line, "Authorization: Bearer %s", tok) < 0)
      line = NULL, ok = 0;
    else
      ADD(line);
    if (line)
      memset(line, 0, strlen(line));
    free(line);
    memset(tok, 0, strlen(tok));
    free(tok);
  }
#undef ADD
  if (!ok) {
    curl_slist_free_all(hs);
    return NULL;
  }
  return hs;
}

/* One attempt: fills k->code, k->resp, k->cc. */
static void perform_once(kapi_client *c, call *k)
{
  struct curl_slist *hs;
  CURL *h = handle_get(c);

  k->code = 0;
  k->retry_after = -1;
  k->errbuf[0] = '\0';
  kapi__sb_reset(&k->resp);
  if (k->watch)
    kapi__sb_reset(&k->watch->line);
  if (!h || !(hs = make_headers(c, k))) {
    k->cc = CURLE_OUT_OF_MEMORY;
    if (h)
      handle_put(c, h);
    return;
  }
  k->h = h;
  curl_easy_setopt(h, CURLOPT_URL, k->url);
  curl_easy_setopt(h, CURLOPT_SHARE, c->share);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, k->errbuf);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, k);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, k);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  if (k->watch) {
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, k);
  } else {
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)STALL_SECONDS);
  }
  set_tls(c, h);
  if (!strcmp(k->method, "GET")) {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, k->method);
    if (k->body) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)k->len);
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, k->body);
    } else if (!strcmp(k->method, "POST") || !strcmp(k->method, "PUT") ||
               !strcmp(k->method, "PATCH")) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    }
  }
  k->cc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &k->code);
  if (k->cc != CURLE_OK && !k->errbuf[0])
    snprintf(k->errbuf, sizeof k->errbuf, "%s", curl_easy_strerror(k->cc));
  k->h = NULL;
  handle_put(c, h);
  curl_slist_free_all(hs);
}

/* The request cannot have reached the server. */
static int never_sent(CURLcode cc)
{
  return cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
         cc == CURLE_COULDNT_RESOLVE_PROXY;
}

/* A failure a read may retry: the connection broke or timed out. */
static int transient(CURLcode cc)
{
  return never_sent(cc) || cc == CURLE_GOT_NOTHING || cc == CURLE_RECV_ERROR ||
         cc == CURLE_SEND_ERROR || cc == CURLE_OPERATION_TIMEDOUT ||
         cc == CURLE_PARTIAL_FILE || cc == CURLE_SSL_CONNECT_ERROR;
}

/* -1 no retry, else the delay before the next attempt. */
static long retry_delay_ms(const call *k, int attempt)
{
  long backoff = (long)BACKOFF_BASE_MS << (attempt < 10 ? attempt : 10);
  int retry;

  if (backoff > BACKOFF_MAX_MS)
    backoff = BACKOFF_MAX_MS;
  if (k->watch && (k->watch->started || k->watch->fn_ret))
    return -1;
  if (k->cc != CURLE_OK) {
    if (k->cc == CURLE_ABORTED_BY_CALLBACK || stopped(k->stop))
      return -1;
    retry = k->idempotent ? transient(k->cc) : never_sent(k->cc);
  } else if (k->code == 429) {
    retry = 1;
  } else {
    retry = k->idempotent && k->code >= 500 && k->code != 501 &&
            k->code != 505;
  }
  if (!retry)
    return -1;
  if (k->cc == CURLE_OK && k->retry_after >= 0)
    return (k->retry_after > RETRY_AFTER_MAX_S ? RETRY_AFTER_MAX_S
                                               : k->retry_after) * 1000L;
  return backoff;
}

/* Runs a call with throttling and retries.  0 when an HTTP answer came
 * (any status), -EIO on transport failure, -ECANCELED when stopped. */
static int execute(kapi_client *c, call *k)
{
  int attempt, r;

  for (attempt = 0;; attempt++) {
    long delay;
    if ((r = limiter_wait(c, k->stop)) < 0)
      return r;
    perform_once(c, k);
    if (stopped(k->stop))
      return -ECANCELED;
    delay = attempt < c->max_retries ? retry_delay_ms(k, attempt) : -1;
    if (delay < 0)
      break;
    if (k->cc != CURLE_OK)
      LOG_V(2, "%s %s failed (%s); retrying in %ldms (attempt %d of %d)",
            k->method, k->url, k->errbuf, delay, attempt + 1, c->max_retries);
    else
      LOG_V(2, "%s %s: HTTP %ld; retrying in %ldms (attempt %d of %d)",
            k->method, k->url, k->code, delay, attempt + 1, c->max_retries);
    if ((r = sleep_ms(delay, k->stop)) < 0)
      return r;
  }
  return k->cc == CURLE_OK ? 0 : -EIO;
}

/* ---- results ----------------------------------------------------------------- */

/* The reason and message of an answer whose body is not a Status,
 * worded as apimachinery's NewGenericServerResponse; `text` is the body
 * (the server's message). */
static void generic_status(long code, const char *method, const char *text,
                           char *reason, size_t rlen, char *msg, size_t mlen)
{
  const char *r = "Unknown", *m = NULL;

  switch (code) {
  case 409:
    r = !strcmp(method, "POST") ? "AlreadyExists" : "Conflict";
    m = "the server reported a conflict";
    break;
  case 404:
    r = "NotFound";
    m = "the server could not find the requested resource";
    break;
  case 400:
    r = "BadRequest";
    m = "the server rejected our request for an unknown reason";
    break;
  case 401:
    r = "Unauthorized";
    m = "the server has asked for the client to provide credentials";
    break;
  case 403:
    r = "Forbidden";
    m = text;
    break;
  case 406:
    r = "NotAcceptable";
    m = *text && strcmp(text, "unknown")
            ? text
            : "the server was unable to respond with a content type that "
              "the client supports";
    break;
  case 415:
    r = "UnsupportedMediaType";
    m = text;
    break;
  case 405:
    r = "MethodNotAllowed";
    m = "the server does not allow this method on the requested resource";
    break;
  case 422:
    r = "Invalid";
    m = "the server rejected our request due to an error in our request";
    break;
  case 503:
    r = "ServiceUnavailable";
    m = "the server is currently unable to handle the request";
    break;
  case 504:
    r = "Timeout";
    m = "the server was unable to return a response in the time allotted, "
        "but may still be processing the request";
    break;
  case 429:
    r = "TooManyRequests";
    m = "the server has received too many requests and has asked us to try "
        "again later";
    break;
  default:
    if (code >= 500) {
      r = "InternalError";
      snprintf(msg, mlen,
               "an error on the server (\"%s\") has prevented the request "
               "from succeeding", text);
      snprintf(reason, rlen, "%s", r);
      return;
    }
  }
  snprintf(reason, rlen, "%s", r);
  if (m)
    snprintf(msg, mlen, "%s", m);
  else
    snprintf(msg, mlen,
             "the server responded with the status code %ld but did not "
             "return more information", code);
}

static int errno_for(long code, const char *reason)
{
  switch (code) {
  case 404:
    return -ENOENT;
  case 409:
    return !strcmp(reason, "AlreadyExists") ? -EEXIST : -EBUSY;
  case 401:
  case 403:
    return -EACCES;
  case 400:
  case 422:
    return -EINVAL;
  default:
    return -EIO;
  }
}

static void result_clear(kapi_result *res)
{
  if (res) {
    res->code = 0;
    res->reason[0] = '\0';
    res->message[0] = '\0';
  }
}

/* Turns a finished call into the verb's return value and result. */
static int finish(call *k, int r, kj **ret, kapi_result *res)
{
  const char *reason = "", *msg = "";
  char rbuf[48], mbuf[512];
  kj *body = NULL;
  char err[128];
  int rc;

  result_clear(res);
  if (r < 0) {
    if (res)
      snprintf(res->message, sizeof res->message, "%s %s: %s", k->method,
               k->url, k->errbuf[0] ? k->errbuf : strerror(-r));
    return r == -ECANCELED ? r : -EIO;
  }
  if (res)
    res->code = (int)k->code;
  if (k->code >= 200 && k->code < 300) {
    if (!ret || k->resp.len == 0)
      return 0;
    if (kj_parse(k->resp.s, k->resp.len, ret, err, sizeof err) < 0) {
      if (res)
        snprintf(res->message, sizeof res->message,
                 "invalid JSON in the response: %s", err);
      return -EIO;
    }
    return 0;
  }
  if (k->resp.len > 0 &&
      kj_parse(k->resp.s, k->resp.len, &body, err, sizeof err) == 0 &&
      body->type == KJ_OBJECT && kj_get_str(body, "kind") &&
      !strcmp(kj_get_str(body, "kind"), "Status")) {
    reason = kj_get_str(body, "reason") ? kj_get_str(body, "reason") : "";
    msg = kj_get_str(body, "message") ? kj_get_str(body, "message") : "";
  } else {
    generic_status(k->code, k->method, k->resp.s ? k->resp.s : "", rbuf,
                   sizeof rbuf, mbuf, sizeof mbuf);
    reason = rbuf;
    msg = mbuf;
  }
  rc = errno_for(k->code, reason);
  if (res) {
    snprintf(res->reason, sizeof res->reason, "%s", reason);
    snprintf(res->message, sizeof res->message, "%s", msg);
  }
  kj_free(body);
  return rc;
}

/* ---- URLs -------------------------------------------------------------------- */

/* server + /api/v1[/namespaces/NS]/RESOURCE[/NAME[/SUB]] */
static void put_path(struct kapi__sbuf *b, const kapi_client *c,
                     const kapi_gvr *g, const char *ns, const char *name,
                     const char *sub)
{
  kapi__sb_puts(b, c->server);
  if (g->group && *g->group)
    kapi__sb_printf(b, "/apis/%s/%s", g->group, g->version);
  else
    kapi__sb_printf(b, "/api/%s", g->version);
  if (g->namespaced && ns && *ns) {
    kapi__sb_puts(b, "/namespaces/");
    kapi__sb_put_escaped(b, ns);
  }
  kapi__sb_putc(b, '/');
  kapi__sb_puts(b, g->resource);
  if (name) {
    kapi__sb_putc(b, '/');
    kapi__sb_put_escaped(b, name);
    if (sub && *sub) {
      kapi__sb_putc(b, '/');
      kapi__sb_puts(b, sub);
    }
  }
}

static void put_param(struct kapi__sbuf *b, int *first, const char *k,
                      const char *v)
{
  kapi__sb_putc(b, *first ? '?' : '&');
  *first = 0;
  kapi__sb_puts(b, k);
  kapi__sb_putc(b, '=');
  kapi__sb_put_escaped(b, v);
}

static void put_list_opts(struct kapi__sbuf *b, const kapi_list_opts *o,
                          int watch)
{
  char num[32];
  int first = 1;

  if (watch)
    put_param(b, &first, "watch", "true");
  if (!o)
    return;
  if (o->label_selector && *o->label_selector)
    put_param(b, &first, "labelSelector", o->label_selector);
  if (o->field_selector && *o->field_selector)
    put_param(b, &first, "fieldSelector", o->field_selector);
  if (o->resource_version)
    put_param(b, &first, "resourceVersion", o->resource_version);
  if (o->limit > 0 && !watch) {
    snprintf(num, sizeof num, "%" PRId64, o->limit);
    put_param(b, &first, "limit", num);
  }
  if (o->continue_token && *o->continue_token && !watch)
    put_param(b, &first, "continue", o->continue_token);
  if (o->timeout_seconds > 0) {
    snprintf(num, sizeof num, "%d", o->timeout_seconds);
    put_param(b, &first, "timeoutSeconds", num);
  }
  if (o->allow_bookmarks && watch)
    put_param(b, &first, "allowWatchBookmarks", "true");
}

/* ---- verbs ------------------------------------------------------------------- */

static int url_oom(struct kapi__sbuf *b, kapi_result *res)
{
  kapi__sb_free(b);
  result_clear(res);
  if (res)
    snprintf(res->message, sizeof res->message, "out of memory");
  return -ENOMEM;
}

/* Sends one request with an optional JSON object as the body. */
static int request(kapi_client *c, const char *method, struct kapi__sbuf *url,
                   const char *content_type, const char *body, size_t len,
                   kj **ret, kapi_result *res)
{
  call k;
  int r;

  if (ret)
    *ret = NULL;
  if (url->oom || !url->s)
    return url_oom(url, res);
  memset(&k, 0, sizeof k);
  k.method = method;
  k.url = url->s;
  k.content_type = body ? content_type : NULL;
  k.body = body;
  k.len = len;
  k.idempotent = !strcmp(method, "GET");
  r = execute(c, &k);
  r = finish(&k, r, ret, res);
  kapi__sb_free(&k.resp);
  kapi__sb_free(url);
  return r;
}

static int request_obj(kapi_client *c, const char *method,
                       struct kapi__sbuf *url, const kj *obj, kj **ret,
                       kapi_result *res)
{
  size_t len = 0;
  char *body = NULL;
  int r;

  if (obj && !(body = kj_dump(obj, &len))) {
    kapi__sb_free(url);
    return url_oom(url, res);
  }
  r = request(c, method, url, "application/json", body, len, ret, res);
  free(body);
  return r;
}

static const char *meta_str(const kj *obj, const char *key)
{
  return kj_get_str(kj_get(obj, "metadata"), key);
}

int kapi_client_get(kapi_client *c, const kapi_gvr *gvr, const char *ns,
                    const char *name, kj **ret, kapi_result *res)
{
  struct kapi__sbuf url = {0};

  put_path(&url, c, gvr, ns, name, NULL);
  return request(c, "GET", &url, NULL, NULL, 0, ret, res);
}

int kapi_client_list(kapi_client *c, const kapi_gvr *gvr, const char *ns,
                     const kapi_list_opts *opts, kj **ret, kapi_result *res)
{
  struct kapi__sbuf url = {0};

  put_path(&url, c, gvr, ns, NULL, NULL);
  put_list_opts(&url, opts, 0);
  return request(c, "GET", &url, NULL, NULL, 0, ret, res);
}

int kapi_client_create(kapi_client *c, const kapi_gvr *gvr, const char *ns,
                       const kj *obj, kj **ret, kapi_result *res)
{
  struct kapi__sbuf url = {0};

  put_path(&url, c, gvr, ns ? ns : meta_str(obj, "namespace"), NULL, NULL);
  return request_obj(c, "POST", &url, obj, ret, res);
}

int kapi_client_update(kapi_client *c, const kapi_gvr *gvr, const char *ns,
                       const kj *obj, const char *subresource, kj **ret,
                       kapi_result *res)
{
  struct kapi__sbuf url = {0};
  const char *name = meta_str(obj, "name");

  if (!name) {
    if (ret)
      *ret = NULL;
    result_clear(res);
    if (res)
      snprintf(res->message, sizeof res->message,
               "update: the object has no metadata.name");
    return -EINVAL;
  }
  put_path(&url, c, gvr, ns ? ns : meta_str(obj, "namespace"), name,
           subresource);
  return request_obj(c, "PUT", &url, obj, ret, res);
}

int kapi_client_patch(kapi_client *c, const kapi_gvr *gvr, const char *ns,
                      const char *name, const char *subresource,
                      const char *patch_type, const char *patch, kj **ret,
                      kapi_result *res)
{
  struct kapi__sbuf url = {0};

  put_path(&url, c, gvr, ns, name, subresource);
  return request(c, "PATCH", &url,
                 patch_type ? patch_type : "application/merge-patch+json",
                 patch ? patch : "{}", patch ? strlen(patch) : 2, ret, res);
}

int kapi_client_delete(kapi_client *c, const kapi_gvr *gvr, const char *ns,
                       const char *name, const kj *options, kapi_result *res)
{
  struct kapi__sbuf url = {0};

  put_path(&url, c, gvr, ns, name, NULL);
  return request_obj(c, "DELETE", &url, options, NULL, res);
}

int kapi_client_post(kapi_client *c, const kapi_gvr *gvr, const char *ns,
                     const char *name, const char *subresource, const kj *obj,
                     kj **ret, kapi_result *res)
{
  struct kapi__sbuf url = {0};

  put_path(&url, c, gvr, ns, name, subresource);
  return request_obj(c, "POST", &url, obj, ret, res);
}

int kapi_client_watch(kapi_client *c, const kapi_gvr *gvr, const char *ns,
                      const kapi_list_opts *opts, kapi_client_watch_fn fn,
                      void *arg, volatile int *stop, kapi_result *res)
{
  struct kapi__sbuf url = {0};
  watch_ctx w;
  call k;
  int r;

  put_path(&url, c, gvr, ns, NULL, NULL);
  put_list_opts(&url, opts, 1);
  if (url.oom)
    return url_oom(&url, res);
  memset(&w, 0, sizeof w);
  w.fn = fn;
  w.arg = arg;
  w.stop = stop;
  memset(&k, 0, sizeof k);
  k.method = "GET";
  k.url = url.s;
  k.idempotent = 1;
  k.watch = &w;
  k.stop = stop;
  r = execute(c, &k);
  if (r == 0 && k.code >= 200 && k.code < 300 && !w.fn_ret && !w.bad &&
      w.line.len > 0)
    watch_line(&w, w.line.s, w.line.len); /* a last line without "\n" */
  if (w.fn_ret) {
    result_clear(res);
    if (res)
      res->code = (int)k.code;
    r = w.fn_ret;
  } else if (stopped(stop)) {
    result_clear(res);
    if (res)
      res->code = (int)k.code;
    r = 0;
  } else if (w.bad) {
    result_clear(res);
    if (res) {
      res->code = (int)k.code;
      snprintf(res->message, sizeof res->message, "%s", w.bad_msg);
    }
    r = -EIO;
  } else {
    /* Includes a stream that broke after it began (-EIO): the caller
     * re-watches from the last resourceVersion it saw. */
    r = finish(&k, r, NULL, res);
  }
  kapi__sb_free(&w.line);
  kapi__sb_free(&k.resp);
  kapi__sb_free(&url);
  return r;
}

int kapi_client_do(kapi_client *c, const char *method, const char *path,
                   const char *content_type, const char *body, size_t len,
                   int *ret_code, char **ret_body, size_t *ret_len)
{
  struct kapi__sbuf url = {0};
  call k;
  int r;

  kapi__sb_puts(&url, c->server);
  kapi__sb_puts(&url, path);
  if (url.oom) {
    kapi__sb_free(&url);
    return -ENOMEM;
  }
  memset(&k, 0, sizeof k);
  k.method = method;
  k.url = url.s;
  k.content_type = body ? (content_type ? content_type : "application/json")
                        : NULL;
  k.body = body;
  k.len = len;
  k.idempotent = !strcmp(method, "GET") || !strcmp(method, "HEAD");
  r = execute(c, &k);
  if (r == 0) {
    if (ret_code)
      *ret_code = (int)k.code;
    if (ret_len)
      *ret_len = k.resp.len;
    if (ret_body) {
      *ret_body = k.resp.s ? kapi__sb_take(&k.resp) : strdup("");
      if (!*ret_body)
        r = -ENOMEM;
    }
  } else {
    LOG_V(2, "%s %s: %s", method, url.s, k.errbuf);
    r = -EIO;
  }
  kapi__sb_free(&k.resp);
  kapi__sb_free(&url);
  return r;
}

/* ---- the client -------------------------------------------------------------- */

const char *kapi_client_server(const kapi_client *c) { return c->server; }

static int errorf(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int errorf(char *err, size_t errlen, int code, const char *fmt, ...)
{
  va_list ap;

  if (err && errlen) {
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return code;
}

/* The config's direct settings over the kubeconfig's (kc borrowed). */
static int apply_direct(const kapi_client_config *cfg, kapi_kubeconfig *kc)
{
  if (cfg->token) {
    free(kc->token);
    free(kc->token_file);
    kc->token_file = NULL;
    if (!(kc->token = strdup(cfg->token)))
      return -ENOMEM;
  }
  if (cfg->ca_file) {
    free(kc->ca_data);
    kc->ca_data = NULL;
    kc->ca_len = 0;
    free(kc->ca_file);
    if (!(kc->ca_file = strdup(cfg->ca_file)))
      return -ENOMEM;
  }
  if (cfg->insecure)
    kc->insecure = 1;
  return 0;
}

/* The kubeconfig settings; with an explicit server and no explicit file
 * or context, a missing or unusable kubeconfig is no error (the server
 * flag alone is enough, as with kubectl --server). */
static int load_config(const kapi_client_config *cfg, kapi_kubeconfig **ret,
                       char *err, size_t errlen)
{
  int direct = cfg->server && cfg->token && !cfg->kubeconfig && !cfg->context;
  int r = direct ? -ENOENT
                 : kapi_kubeconfig_load(cfg->kubeconfig, cfg->context, ret,
                                        err, errlen);

  if (r < 0 && cfg->server && !cfg->kubeconfig && !cfg->context) {
    if (!direct)
      LOG_V(2, "ignoring the kubeconfig: %s", err ? err : "");
    if (!(*ret = calloc(1, sizeof **ret)))
      return -ENOMEM;
    r = 0;
  }
  if (r == 0 && (r = apply_direct(cfg, *ret)) < 0) {
    kapi_kubeconfig_free(*ret);
    *ret = NULL;
  }
  return r;
}

/* client-go's DefaultServerURL: a bare host:port gets https when TLS is
 * configured, http otherwise. */
static char *server_url(const char *server, const kapi_kubeconfig *kc)
{
  int tls = kc->ca_file || kc->ca_data || kc->cert_file || kc->cert_data ||
            kc->insecure;
  size_t n;
  char *s;

  if (strstr(server, "://"))
    s = strdup(server);
  else if (asprintf(&s, "%s://%s", tls ? "https" : "http", server) < 0)
    s = NULL;
  if (!s)
    return NULL;
  n = strlen(s);
  while (n > 0 && s[n - 1] == '/')
    s[--n] = '\0';
  return s;
}

int kapi_client_new(const kapi_client_config *cfg, kapi_client **ret,
                    char *err, size_t errlen)
{
  static const kapi_client_config none;
  kapi_client *c;
  int r, i;

  if (!cfg)
    cfg = &none;
  pthread_once(&curl_once, curl_global_once);
  if (curl_init_rc != CURLE_OK)
    return errorf(err, errlen, -EIO, "curl_global_init: %s",
                  curl_easy_strerror(curl_init_rc));
  if (!(c = calloc(1, sizeof *c)))
    return errorf(err, errlen, -ENOMEM, "out of memory");
  pthread_mutex_init(&c->limiter_mu, NULL);
  pthread_mutex_init(&c->pool_mu, NULL);
  pthread_mutex_init(&c->token_mu, NULL);
  for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_init(&c->share_mu[i], NULL);
  if ((r = load_config(cfg, &c->kc, err, errlen)) < 0) {
    c->kc = NULL;
    kapi_client_free(c);
    return r;
  }
  if (!cfg->server && !c->kc->server) {
    kapi_client_free(c);
    return errorf(err, errlen, -EINVAL, "no server configured");
  }
  c->server = server_url(cfg->server ? cfg->server : c->kc->server, c->kc);
  c->user_agent = strdup(cfg->user_agent ? cfg->user_agent
                                         : "kapi/" PACKAGE_VERSION);
  c->share = curl_share_init();
  if (!c->server || !c->user_agent || !c->share) {
    kapi_client_free(c);
    return errorf(err, errlen, -ENOMEM, "out of memory");
  }
  curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
  curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
  curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);

  c->qps = cfg->qps == 0 ? DEFAULT_QPS : cfg->qps; /* < 0: unlimited */
  c->burst = cfg->burst > 0 ? cfg->burst : DEFAULT_BURST;
  c->tokens = c->burst;
  clock_gettime(CLOCK_MONOTONIC, &c->last);
  c->max_retries = cfg->max_retries == 0  ? DEFAULT_RETRIES
                   : cfg->max_retries < 0 ? 0
                                          : cfg->max_retries;
  *ret = c;
  return 0;
}

void kapi_client_free(kapi_client *c)
{
  int i;

  if (!c)
    return;
  while (c->npool > 0)
    curl_easy_cleanup(c->pool[--c->npool]);
  if (c->share)
    curl_share_cleanup(c->share);
  for (i = 0; i < CURL_LOCK_DATA_LAST; i++)
    pthread_mutex_destroy(&c->share_mu[i]);
  pthread_mutex_destroy(&c->limiter_mu);
  pthread_mutex_destroy(&c->pool_mu);
  pthread_mutex_destroy(&c->token_mu);
  kapi_kubeconfig_free(c->kc);
  free(c->file_token);
  free(c->server);
  free(c->user_agent);
  free(c);
}
