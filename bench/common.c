/*
 * common.c - the libcurl multi load loop, latency statistics and request
 * bodies shared by kapi-bench-create and kapi-bench-get.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "common.h"

struct bench_pool {
  CURLM *multi;
  CURLSH *share; /* the TLS session cache every handle uses */
  struct curl_slist *headers;
  bench_req *reqs;
  int n;
  int primed;    /* some request has completed on the pool */
};

double bench_now(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- buffers ------------------------------------------------------------ */

static int buf_reserve(bench_buf *b, size_t extra)
{
  size_t want = b->len + extra + 1, cap = b->cap ? b->cap : 256;
  char *p;

  if (want <= b->cap)
    return 0;
  while (cap < want)
    cap *= 2;
  p = realloc(b->data, cap);
  if (!p)
    return -1;
  b->data = p;
  b->cap = cap;
  return 0;
}

int bench_buf_append(bench_buf *b, const void *p, size_t n)
{
  if (buf_reserve(b, n) < 0)
    return -1;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int bench_buf_printf(bench_buf *b, const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || buf_reserve(b, (size_t)n) < 0)
    return -1;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return 0;
}

void bench_buf_reset(bench_buf *b)
{
  b->len = 0;
  if (b->data)
    b->data[0] = '\0';
}

void bench_buf_free(bench_buf *b)
{
  free(b->data);
  *b = (bench_buf){ 0 };
}

/* ---- the pool ------------------------------------------------------------ */

static size_t on_response_data(char *p, size_t size, size_t n, void *arg)
{
  bench_req *req = arg;

  if (bench_buf_append(&req->response, p, size * n) < 0)
    return 0; /* makes curl fail the transfer with CURLE_WRITE_ERROR */
  return size * n;
}

/* The TLS options of one handle; libcurl copies the strings. */
static int setup_tls(CURL *e, const bench_auth *auth)
{
  if (!auth)
    return 0;
  if ((auth->cacert &&
       curl_easy_setopt(e, CURLOPT_CAINFO, auth->cacert) != CURLE_OK) ||
      (auth->cert &&
       curl_easy_setopt(e, CURLOPT_SSLCERT, auth->cert) != CURLE_OK) ||
      (auth->key &&
       curl_easy_setopt(e, CURLOPT_SSLKEY, auth->key) != CURLE_OK))
    return -1;
  return 0;
}

static int setup_easy(bench_pool *p, bench_req *req, const bench_auth *auth)
{
  CURL *e = curl_easy_init();

  if (!e)
    return -1;
  req->easy = e;
  if (curl_easy_setopt(e, CURLOPT_PRIVATE, req) != CURLE_OK ||
      curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_response_data) ||
      curl_easy_setopt(e, CURLOPT_WRITEDATA, req) ||
      curl_easy_setopt(e, CURLOPT_HTTPHEADER, p->headers) ||
      curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1) ||
      curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L) ||
      curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) ||
      /* A multi shares its connections and DNS cache among its handles,
       * but each handle of libcurl 7.88 (Debian 12's) keeps its own TLS
       * session cache: without the share, no connection could resume
       * another's session. */
      curl_easy_setopt(e, CURLOPT_SHARE, p->share) ||
      /* A stuck server must not hang a benchmark run forever. */
      curl_easy_setopt(e, CURLOPT_TIMEOUT, 60L) ||
      setup_tls(e, auth) < 0)
    return -1;
  return 0;
}

/* The request headers of every handle: JSON both ways, and the bearer
 * token if there is one. */
static int setup_headers(bench_pool *p, const bench_auth *auth)
{
  static const char *const headers[] = {
    "Content-Type: application/json",
    "Accept: application/json",
    /* curl would otherwise wait for a 100 Continue before larger bodies. */
    "Expect:",
  };
  bench_buf bearer = { 0 };
  struct curl_slist *l;
  int rc = 0;

  for (size_t i = 0; i < sizeof headers / sizeof *headers; i++) {
    if (!(l = curl_slist_append(p->headers, headers[i])))
      return -1;
    p->headers = l;
  }
  if (!auth || !auth->token)
    return 0;
  if (bench_buf_printf(&bearer, "Authorization: Bearer %s", auth->token) < 0 ||
      !(l = curl_slist_append(p->headers, bearer.data)))
    rc = -1;
  else
    p->headers = l;
  if (bearer.data) /* a credential: do not leave it in freed memory */
    explicit_bzero(bearer.data, bearer.cap);
  bench_buf_free(&bearer);
  return rc;
}

/* One TLS session cache for the pool.  No lock functions: a pool is only
 * ever driven by one thread. */
static int setup_share(bench_pool *p)
{
  if (!(p->share = curl_share_init()))
    return -1;
  if (curl_share_setopt(p->share, CURLSHOPT_SHARE,
                        CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)
    return -1;
  return 0;
}

bench_pool *bench_pool_new(int connections)
{
  return bench_pool_new_auth(connections, NULL);
}

bench_pool *bench_pool_new_auth(int connections, const bench_auth *auth)
{
  bench_pool *p = calloc(1, sizeof *p);

  if (!p)
    return NULL;
  p->n = connections;
  p->multi = curl_multi_init();
  p->reqs = calloc((size_t)connections, sizeof *p->reqs);
  if (!p->multi || !p->reqs || setup_share(p) < 0 ||
      setup_headers(p, auth) < 0)
    goto fail;
  /* Exactly one connection per handle, all kept in the cache, and no
   * pipelining: each connection carries one request at a time. */
  if (curl_multi_setopt(p->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                        (long)connections) != CURLM_OK ||
      curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, (long)connections) ||
      curl_multi_setopt(p->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING))
    goto fail;
  for (int i = 0; i < connections; i++)
    if (setup_easy(p, &p->reqs[i], auth) < 0)
      goto fail;
  return p;
fail:
  fprintf(stderr, "cannot set up %d libcurl handles\n", connections);
  bench_pool_free(p);
  return NULL;
}

void bench_pool_free(bench_pool *p)
{
  if (!p)
    return;
  for (int i = 0; p->reqs && i < p->n; i++) {
    curl_easy_cleanup(p->reqs[i].easy);
    bench_buf_free(&p->reqs[i].body);
    bench_buf_free(&p->reqs[i].response);
  }
  free(p->reqs);
  if (p->multi)
    curl_multi_cleanup(p->multi);
  /* Last: a share still used by a handle cannot be cleaned up. */
  if (p->share)
    curl_share_cleanup(p->share);
  curl_slist_free_all(p->headers);
  free(p);
}

/* ---- one phase ------------------------------------------------------------ */

typedef struct phase_run {
  bench_pool *pool;
  const bench_phase *ph;
  bench_stats *st;
  long submitted, in_flight;
  double deadline;
} phase_run;

static int may_submit(const phase_run *r, double now)
{
  if (r->ph->requests > 0 && r->submitted >= r->ph->requests)
    return 0;
  if (r->deadline > 0 && now >= r->deadline)
    return 0;
  return 1;
}

static int submit(phase_run *r, bench_req *req)
{
  CURLMcode mc;

  bench_buf_reset(&req->response);
  if (r->ph->prepare(req, r->ph->first_seq + r->submitted, r->ph->arg) < 0) {
    fprintf(stderr, "cannot prepare request %ld\n",
            r->ph->first_seq + r->submitted);
    return -1;
  }
  req->submitted = bench_now();
  mc = curl_multi_add_handle(r->pool->multi, req->easy);
  if (mc != CURLM_OK) {
    fprintf(stderr, "curl_multi_add_handle: %s\n", curl_multi_strerror(mc));
    return -1;
  }
  req->busy = 1;
  r->submitted++;
  r->in_flight++;
  return 0;
}

static int record_latency(bench_stats *st, double ms)
{
  if (st->n_latency == st->cap_latency) {
    size_t cap = st->cap_latency ? st->cap_latency * 2 : 4096;
    double *l = realloc(st->latency_ms, cap * sizeof *l);

    if (!l)
      return -1;
    st->latency_ms = l;
    st->cap_latency = cap;
  }
  st->latency_ms[st->n_latency++] = ms;
  return 0;
}

/* Only the first error is shown: with thousands of requests in a run, the
 * rest are almost always the same one. */
static void report_error(const bench_stats *st, const bench_req *req,
                         CURLcode rc, long status)
{
  if (st->errors != 1)
    return;
  if (rc != CURLE_OK)
    fprintf(stderr, "first error: %s\n", curl_easy_strerror(rc));
  else
    fprintf(stderr, "first error: HTTP %ld: %s\n", status,
            req->response.len ? req->response.data : "(empty body)");
}

static int complete(phase_run *r, bench_req *req, CURLcode rc, double now)
{
  bench_stats *st = r->st;
  long status = 0, connects = 0;

  curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
  if (curl_easy_getinfo(req->easy, CURLINFO_NUM_CONNECTS, &connects) ==
      CURLE_OK)
    st->connects += connects;
  if (rc == CURLE_OK && status == r->ph->expect_status) {
    st->ok++;
  } else {
    st->errors++;
    report_error(st, req, rc, status);
  }
  req->busy = 0;
  r->in_flight--;
  r->pool->primed = 1;
  if (r->ph->record && record_latency(st, (now - req->submitted) * 1e3) < 0) {
    fprintf(stderr, "out of memory for latencies\n");
    return -1;
  }
  return 0;
}

/* Reaps every finished transfer and puts its handle straight back to work,
 * so that each connection is idle for as little time as possible. */
static int reap_and_resubmit(phase_run *r)
{
  CURLMsg *msg;
  int left;

  while ((msg = curl_multi_info_read(r->pool->multi, &left))) {
    bench_req *req = NULL;
    CURLcode rc = msg->data.result;
    CURL *e = msg->easy_handle;
    double now = bench_now();

    if (msg->msg != CURLMSG_DONE)
      continue;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&req);
    if (complete(r, req, rc, now) < 0)
      return -1;
    curl_multi_remove_handle(r->pool->multi, e);
    if (may_submit(r, now) && submit(r, req) < 0)
      return -1;
  }
  return 0;
}

/* Puts idle handles to work: those a phase of fewer requests than
 * connections left idle, and, once the pool's first request is done, the
 * ones that waited for it (see bench_pool_run). */
static int fill_idle(phase_run *r)
{
  bench_pool *p = r->pool;
  double now = bench_now();

  for (int i = 0; i < p->n && r->in_flight < p->n && may_submit(r, now); i++)
    if (!p->reqs[i].busy && submit(r, &p->reqs[i]) < 0)
      return -1;
  return 0;
}

int bench_pool_run(bench_pool *p, const bench_phase *ph, bench_stats *st)
{
  phase_run r = { .pool = p, .ph = ph, .st = st };
  double start = bench_now();
  int rc = 0;

  *st = (bench_stats){ 0 };
  if (ph->duration > 0)
    r.deadline = start + ph->duration;
  /* A new pool's first request goes alone: its TLS session lands in the
   * shared cache before the other connections open, and they resume it
   * (when the server issues tickets) rather than all doing a full
   * handshake at once.  One request's delay, once per pool. */
  for (int i = 0; i < (p->primed ? p->n : 1) && may_submit(&r, start); i++)
    if (submit(&r, &p->reqs[i]) < 0)
      return -1;
  while (r.in_flight > 0) {
    int running;
    CURLMcode mc = curl_multi_perform(p->multi, &running);

    if (mc == CURLM_OK &&
        (reap_and_resubmit(&r) < 0 || (p->primed && fill_idle(&r) < 0))) {
      rc = -1;
      break;
    }
    if (mc == CURLM_OK && r.in_flight > 0)
      mc = curl_multi_poll(p->multi, NULL, 0, 1000, NULL);
    if (mc != CURLM_OK) {
      fprintf(stderr, "libcurl multi: %s\n", curl_multi_strerror(mc));
      rc = -1;
      break;
    }
  }
  st->elapsed = bench_now() - start;
  /* On failure, leave no handle attached, or the next phase could not
   * add it again. */
  for (int i = 0; rc < 0 && i < p->n; i++) {
    curl_multi_remove_handle(p->multi, p->reqs[i].easy);
    p->reqs[i].busy = 0;
  }
  return rc;
}

/* ---- a measurement ----------------------------------------------------------- */

int bench_run_measured(bench_pool *p, const bench_phase *timed, long warmup,
                       const char *what, const char *label, int connections)
{
  bench_phase ph = *timed;
  bench_stats st = { 0 };
  int rc;

  if (warmup > 0) {
    bench_phase w = { .prepare = timed->prepare, .arg = timed->arg,
                      .requests = warmup,
                      .expect_status = timed->expect_status };
    if (bench_pool_run(p, &w, &st) < 0) {
      bench_stats_free(&st);
      return -1;
    }
    if (st.errors)
      fprintf(stderr, "warmup: %ld of %ld %s failed\n", st.errors, warmup,
              what);
    bench_stats_free(&st);
  }
  ph.record = 1;
  rc = bench_pool_run(p, &ph, &st);
  if (rc == 0) {
    bench_stats_print(&st, label, connections);
    rc = st.errors ? 1 : 0;
  }
  bench_stats_free(&st);
  return rc;
}

int bench_with_curl(int (*run)(const void *opts), const void *opts)
{
  CURLcode cc = curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc;

  if (cc != CURLE_OK) {
    fprintf(stderr, "curl_global_init: %s\n", curl_easy_strerror(cc));
    return 1;
  }
  rc = run(opts);
  curl_global_cleanup();
  return rc;
}

/* ---- statistics ------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return (x > y) - (x < y);
}

/* Nearest-rank percentile of n sorted values: the smallest value that at
 * least `percent` % of the values are at or below. */
static double percentile(const double *v, size_t n, unsigned percent)
{
  size_t rank = (n * percent + 99) / 100; /* ceil(n * percent / 100) */

  if (n == 0)
    return 0;
  return v[rank ? rank - 1 : 0];
}

void bench_stats_print(bench_stats *st, const char *prefix, int connections)
{
  double *v = st->latency_ms;
  size_t n = st->n_latency;

  qsort(v, n, sizeof *v, cmp_double);
  /* Throughput counts successes only: fast failures are not service. */
  printf("%s_throughput %.0f req/s\n", prefix,
         st->elapsed > 0 ? (double)st->ok / st->elapsed : 0.0);
  printf("%s_p50 %.3f ms\n", prefix, percentile(v, n, 50));
  printf("%s_p99 %.3f ms\n", prefix, percentile(v, n, 99));
  printf("%s_errors %ld count\n", prefix, st->errors);
  fflush(stdout);
  /* More connections than handles means the server closed some: every
   * reconnect is a TCP handshake inside someone's latency. */
  if (st->connects > connections)
    fprintf(stderr,
            "%s: warning: %ld connections opened for %d keep-alive slots\n",
            prefix, st->connects, connections);
}

void bench_stats_free(bench_stats *st)
{
  free(st->latency_ms);
  *st = (bench_stats){ 0 };
}

/* ---- requests -------------------------------------------------------------- */

int bench_req_get(bench_req *req, const char *url)
{
  if (curl_easy_setopt(req->easy, CURLOPT_URL, url) != CURLE_OK ||
      curl_easy_setopt(req->easy, CURLOPT_HTTPGET, 1L) ||
      curl_easy_setopt(req->easy, CURLOPT_CUSTOMREQUEST, NULL))
    return -1;
  return 0;
}

int bench_req_post(bench_req *req, const char *url)
{
  if (curl_easy_setopt(req->easy, CURLOPT_URL, url) != CURLE_OK ||
      curl_easy_setopt(req->easy, CURLOPT_CUSTOMREQUEST, NULL) ||
      curl_easy_setopt(req->easy, CURLOPT_POSTFIELDSIZE, (long)req->body.len) ||
      curl_easy_setopt(req->easy, CURLOPT_POSTFIELDS, req->body.data))
    return -1;
  return 0;
}

int bench_req_delete(bench_req *req, const char *url)
{
  if (bench_req_get(req, url) < 0 ||
      curl_easy_setopt(req->easy, CURLOPT_CUSTOMREQUEST, "DELETE"))
    return -1;
  return 0;
}

/* What a Deployment's pod looks like when a client submits it: the server
 * fills in uid, timestamps and status. */
static const char pod_format[] =
  "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\","
  "\"namespace\":\"%s\",\"labels\":{\"app\":\"web\",\"tier\":\"frontend\","
  "\"release\":\"stable\",\"pod-template-hash\":\"5d8f7c9b6d\"},"
  "\"annotations\":{\"prometheus.io/scrape\":\"true\","
  "\"prometheus.io/port\":\"9102\","
  "\"kubernetes.io/change-cause\":\"kapi-bench\"}},"
  "\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.25.3\","
  "\"ports\":[{\"name\":\"http\",\"containerPort\":80,\"protocol\":\"TCP\"}],"
  "\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\"},"
  "\"limits\":{\"cpu\":\"500m\",\"memory\":\"256Mi\"}},"
  "\"env\":[{\"name\":\"MODE\",\"value\":\"production\"},"
  "{\"name\":\"LOG_LEVEL\",\"value\":\"info\"}],"
  "\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/var/lib/web\"}],"
  "\"readinessProbe\":{\"httpGet\":{\"path\":\"/healthz\",\"port\":80},"
  "\"periodSeconds\":10},"
  "\"terminationMessagePath\":\"/dev/termination-log\","
  "\"terminationMessagePolicy\":\"File\","
  "\"imagePullPolicy\":\"IfNotPresent\"},"
  "{\"name\":\"log-shipper\",\"image\":\"busybox:1.36\","
  "\"command\":[\"sh\",\"-c\",\"tail -F /var/lib/web/access.log\"],"
  "\"resources\":{\"requests\":{\"cpu\":\"10m\",\"memory\":\"16Mi\"},"
  "\"limits\":{\"cpu\":\"50m\",\"memory\":\"32Mi\"}},"
  "\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/var/lib/web\","
  "\"readOnly\":true}],"
  "\"terminationMessagePath\":\"/dev/termination-log\","
  "\"terminationMessagePolicy\":\"File\","
  "\"imagePullPolicy\":\"IfNotPresent\"}],"
  "\"volumes\":[{\"name\":\"data\",\"emptyDir\":{}}],"
  "\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,"
  "\"dnsPolicy\":\"ClusterFirst\",\"serviceAccountName\":\"default\","
  "\"schedulerName\":\"default-scheduler\",\"enableServiceLinks\":true,"
  "\"priority\":0}}";

int bench_pod_json(bench_buf *b, const char *ns, const char *name)
{
  bench_buf_reset(b);
  return bench_buf_printf(b, pod_format, name, ns);
}

char *bench_url(const char *server, const char *path)
{
  bench_buf b = { 0 };
  size_t n = strlen(server);

  while (n > 0 && server[n - 1] == '/')
    n--;
  if (bench_buf_printf(&b, "%.*s%s", (int)n, server, path) < 0) {
    bench_buf_free(&b);
    return NULL;
  }
  return b.data;
}

void bench_unique_prefix(char *buf, size_t size)
{
  /* Time and pid: runs against a long-lived server must not collide
   * with the names of earlier runs. */
  snprintf(buf, size, "kb-%lx-%ld", (unsigned long)time(NULL),
           (long)getpid());
}

/* ---- options --------------------------------------------------------------- */

int bench_parse_long(const char *opt, const char *s, long min, long max,
                     long *ret)
{
  char *end;
  long v;

  errno = 0;
  v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < min || v > max) {
    fprintf(stderr, "%s: want a number from %ld to %ld, not '%s'\n", opt, min,
            max, s);
    return -1;
  }
  *ret = v;
  return 0;
}

int bench_parse_seconds(const char *opt, const char *s, double *ret)
{
  char *end;
  double v;

  errno = 0;
  v = strtod(s, &end);
  if (errno || end == s || *end || !(v > 0) || v > 86400) {
    fprintf(stderr, "%s: want a number of seconds, not '%s'\n", opt, s);
    return -1;
  }
  *ret = v;
  return 0;
}

/* A token goes into a header line: no control characters, which would
 * end the line and start another. */
static int parse_token(const char *arg, const char **ret)
{
  if (!*arg) {
    fprintf(stderr, "--token: empty\n");
    return -1;
  }
  for (const char *c = arg; *c; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f) {
      fprintf(stderr, "--token: control characters are not allowed\n");
      return -1;
    }
  *ret = arg;
  return 0;
}

int bench_load_opt(bench_load_opts *o, int c, const char *arg,
                   long max_requests)
{
  switch (c) {
  case 's':
    o->server = arg;
    return 1;
  case 'c':
    return bench_parse_long("--connections", arg, 1, 4096,
                            &o->connections) < 0 ? -1 : 1;
  case 'n':
    return bench_parse_long("--requests", arg, 1, max_requests,
                            &o->requests) < 0 ? -1 : 1;
  case 'w':
    return bench_parse_long("--warmup", arg, 0, max_requests,
                            &o->warmup) < 0 ? -1 : 1;
  case BENCH_OPT_CACERT:
    o->auth.cacert = arg;
    return 1;
  case BENCH_OPT_CERT:
    o->auth.cert = arg;
    return 1;
  case BENCH_OPT_KEY:
    o->auth.key = arg;
    return 1;
  case BENCH_OPT_TOKEN:
    return parse_token(arg, &o->auth.token) < 0 ? -1 : 1;
  default:
    return 0;
  }
}

int bench_load_check(const bench_load_opts *o)
{
  if (!o->auth.cert != !o->auth.key) {
    fprintf(stderr, "--cert and --key go together\n");
    return -1;
  }
  return 0;
}

/* ---- daemons ------------------------------------------------------------ */

pid_t bench_spawn(char *const argv[], const char *log)
{
  pid_t pid = fork();

  if (pid == 0) {
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execv(argv[0], argv);
    _exit(127);
  }
  return pid;
}

int bench_mkdtemp(char *buf, size_t len, const char *name)
{
  const char *parent = getenv("TMPDIR");
  int n;

  if (!parent || !*parent)
    parent = "/tmp";
  n = snprintf(buf, len, "%s/kapi-bench-%s.XXXXXX", parent, name);
  if (n < 0 || (size_t)n >= len) {
    fprintf(stderr, "kapi-bench: TMPDIR %s is too long\n", parent);
    buf[0] = '\0';
    return -1;
  }
  if (!mkdtemp(buf) || chmod(buf, 0755) < 0) {
    fprintf(stderr, "kapi-bench: mkdtemp %s: %s\n", buf, strerror(errno));
    buf[0] = '\0';
    return -1;
  }
  return 0;
}

void bench_stop(pid_t *pid)
{
  if (*pid <= 0)
    return;
  kill(*pid, SIGTERM);
  for (int i = 0; i < 100; i++) {
    if (waitpid(*pid, NULL, WNOHANG) == *pid) {
      *pid = 0;
      return;
    }
    usleep(50000);
  }
  kill(*pid, SIGKILL);
  waitpid(*pid, NULL, 0);
  *pid = 0;
}

int bench_server_port(const char *log, pid_t pid)
{
  static const char marker[] = "serving on http://127.0.0.1:";
  char line[1024];
  int port = 0;

  for (int i = 0; i < 400 && !port; i++) {
    FILE *f = fopen(log, "r");
    while (f && fgets(line, sizeof line, f)) {
      char *p = strstr(line, marker);
      if (p)
        port = atoi(p + strlen(marker));
    }
    if (f)
      fclose(f);
    if (!port && waitpid(pid, NULL, WNOHANG) == pid)
      return -1;
    if (!port)
      usleep(50000);
  }
  return port ? port : -1;
}

int bench_copy_file(const char *src, const char *dir, char *dst, size_t len)
{
  const char *base = strrchr(src, '/');
  char path[4096], buf[65536];
  ssize_t n;
  int in, out, r = 0;

  snprintf(path, sizeof path, "%s/%s", dir, base ? base + 1 : src);
  if (dst)
    snprintf(dst, len, "%s", path);
  in = open(src, O_RDONLY);
  out = in >= 0 ? open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644) : -1;
  if (in < 0 || out < 0)
    r = -1;
  while (r == 0 && (n = read(in, buf, sizeof buf)) > 0)
    if (write(out, buf, (size_t)n) != n)
      r = -1;
  /* The loader refuses group- or world-writable files, whatever umask. */
  if (out >= 0 && fchmod(out, 0644) < 0)
    r = -1;
  if (in >= 0)
    close(in);
  if (out >= 0)
    close(out);
  return r;
}
