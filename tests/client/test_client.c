/*
 * test_client.c - core/client: kubeconfig, the REST client, watch,
 * throttling, retries, the event recorder and leader election.
 *
 * Most tests run against a real kapi-apiserver started by the fixture
 * (server_fixture.h).  Retry policy and error mapping of bodies that are
 * not Status objects are checked against a scripted HTTP server in this
 * file (fake_*), where the number of connections is exact.  No test
 * asserts on elapsed time; waits for something that must happen are
 * bounded only to turn a hang into a failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "events.h"
#include "json.h"
#include "kubeconfig.h"
#include "leaderelection.h"
#include "server_fixture.h"
#include "kyaml.h"

static const kapi_gvr pods = {"", "v1", "pods", 1};
static const kapi_gvr nodes = {"", "v1", "nodes", 0};
static const kapi_gvr events = {"", "v1", "events", 1};
static const kapi_gvr leases = {"coordination.k8s.io", "v1", "leases", 1};

static kts_server S;
static int server_up;

#define NEED_SERVER()                                                   \
  do {                                                                  \
    if (!server_up) {                                                   \
      print_message("skipped: no kapi-apiserver in %s\n",               \
                    kts_builddir());                                    \
      skip();                                                           \
    }                                                                   \
  } while (0)

/* ---- helpers ---------------------------------------------------------------- */

static void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static kj *parse(const char *json)
{
  char err[256];
  kj *v = NULL;

  if (kj_parse(json, strlen(json), &v, err, sizeof err) < 0)
    fail_msg("bad test JSON: %s: %s", err, json);
  return v;
}

static kj *make_pod(const char *name, const char *app)
{
  char buf[512];

  snprintf(buf, sizeof buf,
           "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
           "\"%s\",\"labels\":{\"app\":\"%s\"}},\"spec\":{\"containers\":"
           "[{\"name\":\"c\",\"image\":\"busybox\"}]}}",
           name, app);
  return parse(buf);
}

static kapi_client *new_client(const char *kubeconfig, const char *server,
                               double qps, int burst, int retries)
{
  kapi_client_config cfg;
  kapi_client *c = NULL;
  char err[512];

  memset(&cfg, 0, sizeof cfg);
  cfg.kubeconfig = kubeconfig;
  cfg.server = server;
  cfg.qps = qps;
  cfg.burst = burst;
  cfg.max_retries = retries;
  if (kapi_client_new(&cfg, &c, err, sizeof err) < 0)
    fail_msg("kapi_client_new: %s", err);
  return c;
}

static kapi_client *server_client(void)
{
  return new_client(S.kubeconfig, NULL, -1, 0, 0);
}

static void write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");

  assert_non_null(f);
  fputs(text, f);
  assert_int_equal(fclose(f), 0);
}

/* Joins with a bound, so that a thread that never ends fails the test
 * instead of hanging it. */
static void join_or_fail(pthread_t th, const char *what)
{
  struct timespec deadline;

  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 30;
  if (pthread_timedjoin_np(th, NULL, &deadline) != 0)
    fail_msg("%s did not return", what);
}

/* ---- kubeconfig ------------------------------------------------------------- */

/* "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" */
#define CA_PEM "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
#define CA_B64                                                          \
  "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNB" \
  "VEUtLS0tLQo="

static const char kubeconfig_text[] =
    "apiVersion: v1\n"
    "kind: Config\n"
    "clusters:\n"
    "- name: prod\n"
    "  cluster:\n"
    "    server: https://prod.example:6443\n"
    "    certificate-authority-data: " CA_B64 "\n"
    "- name: dev\n"
    "  cluster:\n"
    "    server: dev.example:8443\n"
    "    certificate-authority: pki/ca.crt\n"
    "    insecure-skip-tls-verify: true\n"
    "users:\n"
    "- name: admin\n"
    "  user:\n"
    "    token: 12345\n"
    "    client-certificate-data: aGVsbG8=\n"
    "    client-key-data: \"d29y\\nbGQ=\"\n"
    "- name: robot\n"
    "  user:\n"
    "    tokenFile: secrets/token\n"
    "    client-certificate: /abs/cert.pem\n"
    "    client-key: key.pem\n"
    "contexts:\n"
    "- name: prod-admin\n"
    "  context: {cluster: prod, user: admin, namespace: kube-system}\n"
    "- name: dev-robot\n"
    "  context: {cluster: dev, user: robot}\n"
    "- name: no-cluster\n"
    "  context: {cluster: nowhere, user: admin}\n"
    "- name: no-user\n"
    "  context: {cluster: prod, user: nobody}\n"
    "current-context: prod-admin\n";

static kj *kubeconfig_doc(void)
{
  kj *doc = NULL;
  char err[256];

  if (kapi_yaml_parse_one(kubeconfig_text, strlen(kubeconfig_text), &doc, err,
                          sizeof err) < 0)
    fail_msg("%s", err);
  return doc;
}

static void test_kubeconfig_current_context(void **state)
{
  kj *doc = kubeconfig_doc();
  kapi_kubeconfig *kc = NULL;
  char err[256];
  (void)state;

  assert_int_equal(kapi_kubeconfig_from_doc(doc, "/home/u/.kube", NULL, &kc,
                                            err, sizeof err), 0);
  assert_string_equal(kc->context, "prod-admin");
  assert_string_equal(kc->cluster, "prod");
  assert_string_equal(kc->user, "admin");
  assert_string_equal(kc->namespace, "kube-system");
  assert_string_equal(kc->server, "https://prod.example:6443");
  assert_int_equal(kc->insecure, 0);
  assert_null(kc->ca_file);
  assert_int_equal(kc->ca_len, strlen(CA_PEM));
  assert_memory_equal(kc->ca_data, CA_PEM, kc->ca_len);
  /* An unquoted numeric token is still the token's text. */
  assert_string_equal(kc->token, "12345");
  assert_int_equal(kc->cert_len, 5);
  assert_memory_equal(kc->cert_data, "hello", 5);
  /* Line breaks inside base64 data are skipped. */
  assert_int_equal(kc->key_len, 5);
  assert_memory_equal(kc->key_data, "world", 5);
  kapi_kubeconfig_free(kc);
  kj_free(doc);
}

static void test_kubeconfig_named_context(void **state)
{
  kj *doc = kubeconfig_doc();
  kapi_kubeconfig *kc = NULL;
  char err[256];
  (void)state;

  assert_int_equal(kapi_kubeconfig_from_doc(doc, "/home/u/.kube", "dev-robot",
                                            &kc, err, sizeof err), 0);
  assert_string_equal(kc->server, "dev.example:8443");
  assert_int_equal(kc->insecure, 1);
  /* Relative paths are relative to the kubeconfig's directory. */
  assert_string_equal(kc->ca_file, "/home/u/.kube/pki/ca.crt");
  assert_string_equal(kc->token_file, "/home/u/.kube/secrets/token");
  assert_string_equal(kc->cert_file, "/abs/cert.pem");
  assert_string_equal(kc->key_file, "/home/u/.kube/key.pem");
  assert_null(kc->token);
  assert_null(kc->namespace);
  kapi_kubeconfig_free(kc);
  kj_free(doc);
}

static void test_kubeconfig_errors(void **state)
{
  kj *doc = kubeconfig_doc(), *bad;
  kapi_kubeconfig *kc = NULL;
  char err[256];
  (void)state;

  assert_int_equal(kapi_kubeconfig_from_doc(doc, NULL, "nope", &kc, err,
                                            sizeof err), -EINVAL);
  assert_string_equal(err, "context was not found for specified context: nope");
  assert_int_equal(kapi_kubeconfig_from_doc(doc, NULL, "no-cluster", &kc, err,
                                            sizeof err), -EINVAL);
  assert_string_equal(err,
                      "context \"no-cluster\": cluster \"nowhere\" does not exist");
  assert_int_equal(kapi_kubeconfig_from_doc(doc, NULL, "no-user", &kc, err,
                                            sizeof err), -EINVAL);
  assert_string_equal(err, "auth info \"nobody\" does not exist");
  assert_null(kc);

  bad = parse("{\"clusters\":[{\"name\":\"c\",\"cluster\":{\"server\":\"x\","
              "\"certificate-authority-data\":\"!!notbase64\"}}],"
              "\"contexts\":[{\"name\":\"x\",\"context\":{\"cluster\":\"c\"}}],"
              "\"current-context\":\"x\"}");
  assert_int_equal(kapi_kubeconfig_from_doc(bad, NULL, NULL, &kc, err,
                                            sizeof err), -EINVAL);
  assert_string_equal(err, "certificate-authority-data: illegal base64 data");
  kj_free(bad);
  bad = parse("{\"clusters\":[{\"name\":\"c\",\"cluster\":{}}],"
              "\"contexts\":[{\"name\":\"x\",\"context\":{\"cluster\":\"c\"}}],"
              "\"current-context\":\"x\"}");
  assert_int_equal(kapi_kubeconfig_from_doc(bad, NULL, NULL, &kc, err,
                                            sizeof err), -EINVAL);
  assert_string_equal(err, "no server found for cluster \"c\"");
  kj_free(bad);
  bad = parse("{\"apiVersion\":\"v1\"}");
  assert_int_equal(kapi_kubeconfig_from_doc(bad, NULL, NULL, &kc, err,
                                            sizeof err), -EINVAL);
  assert_string_equal(err, "invalid configuration: no context chosen "
                           "(current-context is not set)");
  kj_free(bad);
  kj_free(doc);
}

/* $KUBECONFIG is a list: missing files are skipped, the first file to
 * name an entry wins, and so does the first current-context. */
static void test_kubeconfig_merge(void **state)
{
  char dir[] = "/tmp/kapi-kc-XXXXXX", a[64], b[64], list[256];
  const char *old = getenv("KUBECONFIG");
  char *saved = old ? strdup(old) : NULL;
  kapi_kubeconfig *kc = NULL;
  char err[256];
  (void)state;

  assert_non_null(mkdtemp(dir));
  snprintf(a, sizeof a, "%s/a", dir);
  snprintf(b, sizeof b, "%s/b", dir);
  write_file(a, "clusters:\n- name: c\n  cluster: {server: http://first:1}\n"
                "users:\n- name: u\n  user: {token: from-a}\n");
  write_file(b, "clusters:\n- name: c\n  cluster: {server: http://second:2}\n"
                "- name: d\n  cluster: {server: http://d:4}\n"
                "contexts:\n- name: x\n  context: {cluster: c, user: u}\n"
                "- name: other\n  context: {cluster: d}\n"
                "current-context: x\n");
  snprintf(list, sizeof list, "%s/missing:%s:%s", dir, a, b);
  setenv("KUBECONFIG", list, 1);
  if (kapi_kubeconfig_load(NULL, NULL, &kc, err, sizeof err) != 0)
    fail_msg("%s", err);
  assert_string_equal(kc->context, "x");
  assert_string_equal(kc->server, "http://first:1");
  assert_string_equal(kc->token, "from-a");
  kapi_kubeconfig_free(kc);
  assert_int_equal(kapi_kubeconfig_load(NULL, "other", &kc, err, sizeof err), 0);
  assert_string_equal(kc->server, "http://d:4");
  assert_null(kc->user);
  kapi_kubeconfig_free(kc);

  /* An explicit path must exist. */
  snprintf(list, sizeof list, "%s/missing", dir);
  assert_int_equal(kapi_kubeconfig_load(list, NULL, &kc, err, sizeof err),
                   -ENOENT);
  assert_non_null(strstr(err, "No such file or directory"));
  unlink(a);
  unlink(b);
  rmdir(dir);
  if (saved)
    setenv("KUBECONFIG", saved, 1);
  else
    unsetenv("KUBECONFIG");
  free(saved);
}

static void test_base64(void **state)
{
  unsigned char *out = NULL;
  size_t n = 0;
  (void)state;

  assert_int_equal(kapi_base64_decode("aGVsbG8=", 8, &out, &n), 0);
  assert_int_equal(n, 5);
  assert_string_equal((char *)out, "hello");
  free(out);
  assert_int_equal(kapi_base64_decode("aGVs\nbG8=\n", 10, &out, &n), 0);
  assert_string_equal((char *)out, "hello");
  free(out);
  assert_int_equal(kapi_base64_decode("", 0, &out, &n), 0);
  assert_int_equal(n, 0);
  free(out);
  assert_int_equal(kapi_base64_decode("a$b", 3, &out, &n), -EINVAL);
}

/* The server URL: kubeconfig, --server override, scheme defaulting. */
static void test_client_server_url(void **state)
{
  char dir[] = "/tmp/kapi-kc-XXXXXX", path[64];
  kapi_client *c;
  kapi_client_config cfg;
  char err[256];
  (void)state;

  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/config", dir);
  write_file(path, "clusters:\n- name: c\n  cluster: {server: 'http://h:1/'}\n"
                   "- name: s\n  cluster: {server: 'h:2', "
                   "insecure-skip-tls-verify: true}\n"
                   "contexts:\n- {name: x, context: {cluster: c}}\n"
                   "- {name: secure, context: {cluster: s}}\n"
                   "current-context: x\n");
  c = new_client(path, NULL, 0, 0, 0);
  assert_string_equal(kapi_client_server(c), "http://h:1");
  kapi_client_free(c);
  c = new_client(path, "127.0.0.1:9", 0, 0, 0);
  assert_string_equal(kapi_client_server(c), "http://127.0.0.1:9");
  kapi_client_free(c);
  memset(&cfg, 0, sizeof cfg);
  cfg.kubeconfig = path;
  cfg.context = "secure";
  if (kapi_client_new(&cfg, &c, err, sizeof err) != 0)
    fail_msg("%s", err);
  assert_string_equal(kapi_client_server(c), "https://h:2");
  kapi_client_free(c);
  cfg.context = "z";
  assert_int_equal(kapi_client_new(&cfg, &c, err, sizeof err), -EINVAL);
  assert_string_equal(err, "context was not found for specified context: z");
  /* With only a server, no kubeconfig is needed. */
  memset(&cfg, 0, sizeof cfg);
  cfg.server = "http://127.0.0.1:9";
  assert_int_equal(kapi_client_new(&cfg, &c, err, sizeof err), 0);
  kapi_client_free(c);
  unlink(path);
  rmdir(dir);
}

/* ---- a scripted HTTP server ---------------------------------------------------- */

/* Answers connection i with responses[i] (NULL: close without a word),
 * one request per connection, and records what it was sent. */
typedef struct fake {
  int fd;
  char url[64];
  const char *const *responses;
  size_t nresp;
  int connections;
  char request[8192]; /* the first request */
  volatile int stop;
  pthread_t th;
} fake;

static void read_request(int cfd, char *buf, size_t len)
{
  size_t got = 0;
  char *end;
  long clen = 0;

  buf[0] = '\0';
  while (got + 1 < len) {
    struct pollfd p = {cfd, POLLIN, 0};
    ssize_t n;
    if (poll(&p, 1, 5000) <= 0)
      break;
    if ((n = read(cfd, buf + got, len - 1 - got)) <= 0)
      break;
    got += (size_t)n;
    buf[got] = '\0';
    if ((end = strstr(buf, "\r\n\r\n"))) {
      const char *cl = strcasestr(buf, "\r\nContent-Length:");
      if (cl)
        clen = strtol(cl + 17, NULL, 10);
      if ((size_t)(end + 4 - buf) + (size_t)clen <= got)
        break;
    }
  }
}

static void *fake_main(void *arg)
{
  fake *f = arg;

  while (!f->stop) {
    struct pollfd p = {f->fd, POLLIN, 0};
    char req[8192];
    const char *resp;
    int cfd;
    if (poll(&p, 1, 50) <= 0)
      continue;
    if ((cfd = accept(f->fd, NULL, NULL)) < 0)
      continue;
    read_request(cfd, req, sizeof req);
    if (f->connections == 0)
      snprintf(f->request, sizeof f->request, "%s", req);
    resp = (size_t)f->connections < f->nresp ? f->responses[f->connections]
                                             : NULL;
    f->connections++;
    if (resp && write(cfd, resp, strlen(resp)) < 0)
      perror("fake write");
    shutdown(cfd, SHUT_RDWR);
    close(cfd);
  }
  return NULL;
}

static void fake_start(fake *f, const char *const *responses, size_t n)
{
  struct sockaddr_in a;
  socklen_t len = sizeof a;

  memset(f, 0, sizeof *f);
  f->responses = responses;
  f->nresp = n;
  f->fd = kts_listen(0);
  assert_true(f->fd >= 0);
  assert_int_equal(getsockname(f->fd, (struct sockaddr *)&a, &len), 0);
  snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d", ntohs(a.sin_port));
  assert_int_equal(pthread_create(&f->th, NULL, fake_main, f), 0);
}

static void fake_stop(fake *f)
{
  f->stop = 1;
  join_or_fail(f->th, "the fake server");
  close(f->fd);
}

/* Scripted answers; their Content-Lengths are checked by
 * test_status_body_length_constants. */
#define R503_STATUS                                                     \
  "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"           \
  "Content-Type: application/json\r\nContent-Length: 124\r\n\r\n"       \
  "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","  \
  "\"message\":\"storage is down\",\"reason\":\"ServiceUnavailable\","  \
  "\"code\":503}\n"
#define R200_POD                                                        \
  "HTTP/1.1 200 OK\r\nConnection: close\r\n"                            \
  "Content-Type: application/json\r\nContent-Length: 39\r\n\r\n"        \
  "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"}}\n"
#define R429                                                            \
  "HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\n"             \
  "Retry-After: 0\r\nContent-Length: 0\r\n\r\n"
#define R201_EMPTY_OBJECT                                               \
  "HTTP/1.1 201 Created\r\nConnection: close\r\n"                       \
  "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"

static void test_status_body_length_constants(void **state)
{
  /* The hand-written Content-Lengths above must be right. */
  const char *b = strstr(R503_STATUS, "\r\n\r\n") + 4;
  (void)state;
  assert_int_equal(strlen(b), 124);
  b = strstr(R200_POD, "\r\n\r\n") + 4;
  assert_int_equal(strlen(b), 39);
}

/* GETs are retried on 5xx; the retry's answer is the result. */
static void test_retry_read_on_5xx(void **state)
{
  static const char *const script[] = {R503_STATUS, R200_POD};
  kapi_result res;
  kapi_client *c;
  kj *pod = NULL;
  fake f;
  (void)state;

  fake_start(&f, script, 2);
  c = new_client(NULL, f.url, -1, 0, 3);
  assert_int_equal(kapi_client_get(c, &pods, "default", "p", &pod, &res), 0);
  assert_int_equal(res.code, 200);
  assert_string_equal(kj_get_str(kj_get(pod, "metadata"), "name"), "p");
  kj_free(pod);
  kapi_client_free(c);
  fake_stop(&f);
  assert_int_equal(f.connections, 2);
}

/* A write is not repeated after the server saw it (5xx). */
static void test_no_retry_write_on_5xx(void **state)
{
  static const char *const script[] = {R503_STATUS, R201_EMPTY_OBJECT};
  kapi_result res;
  kapi_client *c;
  kj *pod = make_pod("p", "x"), *out = NULL;
  fake f;
  (void)state;

  fake_start(&f, script, 2);
  c = new_client(NULL, f.url, -1, 0, 3);
  assert_int_equal(kapi_client_create(c, &pods, "default", pod, &out, &res),
                   -EIO);
  assert_null(out);
  assert_int_equal(res.code, 503);
  assert_string_equal(res.reason, "ServiceUnavailable");
  assert_string_equal(res.message, "storage is down");
  kapi_client_free(c);
  fake_stop(&f);
  assert_int_equal(f.connections, 1);
  /* The request carried the object as JSON. */
  assert_non_null(strstr(f.request, "POST /api/v1/namespaces/default/pods "));
  assert_non_null(strstr(f.request, "Content-Type: application/json\r\n"));
  assert_non_null(strstr(f.request, "\"name\":\"p\""));
  kj_free(pod);
}

/* 429: the server refused the write unprocessed, so it is retried. */
static void test_retry_write_on_429(void **state)
{
  static const char *const script[] = {R429, R201_EMPTY_OBJECT};
  kapi_result res;
  kapi_client *c;
  kj *pod = make_pod("p", "x"), *out = NULL;
  fake f;
  (void)state;

  fake_start(&f, script, 2);
  c = new_client(NULL, f.url, -1, 0, 3);
  assert_int_equal(kapi_client_create(c, &pods, "default", pod, &out, &res),
                   0);
  assert_int_equal(res.code, 201);
  assert_non_null(out);
  kj_free(out);
  kapi_client_free(c);
  fake_stop(&f);
  assert_int_equal(f.connections, 2);
  kj_free(pod);
}

/* A dropped connection: reads retry (up to max_retries), writes not. */
static void test_dropped_connections(void **state)
{
  static const char *const drop3[] = {NULL, NULL, R200_POD};
  kapi_result res;
  kapi_client *c;
  kj *pod = make_pod("p", "x"), *out = NULL;
  fake f;
  (void)state;

  fake_start(&f, drop3, 3);
  c = new_client(NULL, f.url, -1, 0, 5);
  assert_int_equal(kapi_client_get(c, &pods, "default", "p", &out, &res), 0);
  kj_free(out);
  kapi_client_free(c);
  fake_stop(&f);
  assert_int_equal(f.connections, 3);

  /* One retry allowed: two attempts, then the transport error. */
  fake_start(&f, drop3, 3);
  c = new_client(NULL, f.url, -1, 0, 1);
  assert_int_equal(kapi_client_get(c, &pods, "default", "p", &out, &res),
                   -EIO);
  assert_null(out);
  assert_int_equal(res.code, 0);
  assert_string_equal(res.reason, "");
  assert_non_null(strstr(res.message, "GET "));
  kapi_client_free(c);
  fake_stop(&f);
  assert_int_equal(f.connections, 2);

  fake_start(&f, drop3, 3);
  c = new_client(NULL, f.url, -1, 0, 5);
  assert_int_equal(kapi_client_create(c, &pods, "default", pod, &out, &res),
                   -EIO);
  assert_int_equal(res.code, 0);
  kapi_client_free(c);
  fake_stop(&f);
  assert_int_equal(f.connections, 1);
  kj_free(pod);
}

/* Writes are retried when the connection was refused: nothing was sent. */
static void test_retry_write_on_refused(void **state)
{
  kapi_result res;
  kapi_client *c;
  kj *pod = make_pod("p", "x"), *out = NULL;
  int port = kts_free_port();
  char url[64];
  (void)state;

  assert_true(port > 0);
  snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
  c = new_client(NULL, url, -1, 0, 1);
  assert_int_equal(kapi_client_create(c, &pods, "default", pod, &out, &res),
                   -EIO);
  assert_int_equal(res.code, 0);
  assert_non_null(strstr(res.message, "POST "));
  kapi_client_free(c);
  kj_free(pod);
}

/* Error bodies that are not Status objects get upstream's generic
 * reasons and messages. */
static void test_generic_errors(void **state)
{
  static const char *const script[] = {
      "HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 9\r\n"
      "\r\nnot here\n",
      "HTTP/1.1 409 Conflict\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 409 Conflict\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 10\r\n"
      "\r\nno access!",
      "HTTP/1.1 500 Oops\r\nConnection: close\r\nContent-Length: 4\r\n\r\nboom",
      "HTTP/1.1 410 Gone\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
      "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\n{bad}",
  };
  kapi_result res;
  kapi_client *c;
  kj *pod = make_pod("p", "x"), *out = NULL;
  fake f;
  (void)state;

  kj_set_str(kj_get(pod, "metadata"), "namespace", "default");
  fake_start(&f, script, sizeof script / sizeof script[0]);
  c = new_client(NULL, f.url, -1, 0, -1);
  assert_int_equal(kapi_client_get(c, &pods, "default", "p", &out, &res),
                   -ENOENT);
  assert_int_equal(res.code, 404);
  assert_string_equal(res.reason, "NotFound");
  assert_string_equal(res.message,
                      "the server could not find the requested resource");
  assert_int_equal(kapi_client_create(c, &pods, "default", pod, &out, &res),
                   -EEXIST);
  assert_string_equal(res.reason, "AlreadyExists");
  assert_string_equal(res.message, "the server reported a conflict");
  assert_int_equal(kapi_client_update(c, &pods, "default", pod, NULL, &out,
                                      &res), -EBUSY);
  assert_string_equal(res.reason, "Conflict");
  assert_int_equal(kapi_client_get(c, &pods, "default", "p", &out, &res),
                   -EACCES);
  assert_string_equal(res.reason, "Forbidden");
  assert_string_equal(res.message, "no access!");
  assert_int_equal(kapi_client_get(c, &pods, "default", "p", &out, &res),
                   -EIO);
  assert_int_equal(res.code, 500);
  assert_string_equal(res.reason, "InternalError");
  assert_string_equal(res.message, "an error on the server (\"boom\") has "
                                   "prevented the request from succeeding");
  assert_int_equal(kapi_client_get(c, &pods, "default", "p", &out, &res),
                   -EIO);
  assert_int_equal(res.code, 410);
  assert_string_equal(res.reason, "Unknown");
  assert_string_equal(res.message, "the server responded with the status "
                                   "code 410 but did not return more "
                                   "information");
  assert_int_equal(kapi_client_get(c, &pods, "default", "p", &out, &res),
                   -EIO);
  assert_int_equal(res.code, 200);
  assert_non_null(strstr(res.message, "invalid JSON in the response"));
  assert_null(out);
  kapi_client_free(c);
  fake_stop(&f);
  kj_free(pod);
}

/* What goes on the wire: path, escaped query, headers, credentials. */
static void test_request_headers(void **state)
{
  static const char *const script[] = {R200_POD};
  char dir[] = "/tmp/kapi-kc-XXXXXX", path[64];
  kapi_list_opts o;
  kapi_result res;
  kapi_client_config cfg;
  kapi_client *c;
  kj *out = NULL;
  char err[256];
  fake f;
  (void)state;

  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/config", dir);
  fake_start(&f, script, 1);
  write_file(path, "clusters:\n- name: c\n  cluster: {server: 'http://h:1'}\n"
                   "users:\n- name: u\n  user: {token: s3cr3t}\n"
                   "contexts:\n- {name: x, context: {cluster: c, user: u}}\n"
                   "current-context: x\n");
  memset(&cfg, 0, sizeof cfg);
  cfg.kubeconfig = path;
  cfg.server = f.url;
  cfg.user_agent = "kube-scheduler/v1.32.0 (linux/amd64) kapi";
  assert_int_equal(kapi_client_new(&cfg, &c, err, sizeof err), 0);
  memset(&o, 0, sizeof o);
  o.label_selector = "app in (a,b),tier!=db";
  o.field_selector = "spec.nodeName=";
  o.limit = 500;
  o.continue_token = "a+b/c=";
  assert_int_equal(kapi_client_list(c, &pods, NULL, &o, &out, &res), 0);
  kj_free(out);
  kapi_client_free(c);
  fake_stop(&f);
  assert_non_null(strstr(f.request,
                         "GET /api/v1/pods?labelSelector=app%20in%20%28a%2Cb"
                         "%29%2Ctier%21%3Ddb&fieldSelector=spec.nodeName%3D"
                         "&limit=500&continue=a%2Bb%2Fc%3D HTTP/1.1\r\n"));
  assert_non_null(strstr(f.request, "\r\nAuthorization: Bearer s3cr3t\r\n"));
  assert_non_null(strstr(f.request, "\r\nAccept: application/json\r\n"));
  assert_non_null(strstr(f.request, "\r\nUser-Agent: kube-scheduler/v1.32.0 "
                                    "(linux/amd64) kapi\r\n"));
  unlink(path);
  rmdir(dir);
}

/* ---- against the real server ---------------------------------------------------- */

static void test_crud_and_error_mapping(void **state)
{
  kapi_client *c;
  kapi_result res;
  kj *pod, *out = NULL, *got = NULL, *stale;
  const char *rv;
  (void)state;
  NEED_SERVER();

  c = server_client();
  pod = make_pod("crud", "web");
  assert_int_equal(kapi_client_create(c, &pods, "default", pod, &out, &res), 0);
  assert_int_equal(res.code, 201);
  assert_non_null(kj_get_str(kj_get(out, "metadata"), "uid"));
  rv = kj_get_str(kj_get(out, "metadata"), "resourceVersion");
  assert_non_null(rv);
  rv = strdupa(rv);
  kj_free(out);
  out = NULL;

  assert_int_equal(kapi_client_get(c, &pods, "default", "crud", &got, &res), 0);
  assert_int_equal(res.code, 200);
  assert_string_equal(kj_get_str(kj_get(got, "metadata"), "resourceVersion"),
                      rv);
  stale = kj_clone(got);

  /* 409 AlreadyExists */
  assert_int_equal(kapi_client_create(c, &pods, "default", pod, NULL, &res),
                   -EEXIST);
  assert_int_equal(res.code, 409);
  assert_string_equal(res.reason, "AlreadyExists");
  assert_string_equal(res.message, "pods \"crud\" already exists");

  /* 404 NotFound */
  assert_int_equal(kapi_client_get(c, &pods, "default", "nope", &out, &res),
                   -ENOENT);
  assert_null(out);
  assert_int_equal(res.code, 404);
  assert_string_equal(res.reason, "NotFound");
  assert_string_equal(res.message, "pods \"nope\" not found");

  /* PUT with the current resourceVersion, then a stale one: 409 Conflict */
  kj_set_str(kj_child_object(kj_get(got, "metadata"), "annotations"), "a",
             "1");
  assert_int_equal(kapi_client_update(c, &pods, "default", got, NULL, &out,
                                      &res), 0);
  assert_string_equal(
      kj_get_str(kj_get(kj_get(out, "metadata"), "annotations"), "a"), "1");
  kj_free(out);
  out = NULL;
  assert_int_equal(kapi_client_update(c, &pods, "default", stale, NULL, &out,
                                      &res), -EBUSY);
  assert_int_equal(res.code, 409);
  assert_string_equal(res.reason, "Conflict");
  assert_string_equal(res.message,
                      "Operation cannot be fulfilled on pods \"crud\": the "
                      "object has been modified; please apply your changes "
                      "to the latest version and try again");

  /* 422 Invalid */
  {
    kj *bad = parse("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
                    "{\"name\":\"bad\"},\"spec\":{}}");
    assert_int_equal(kapi_client_create(c, &pods, "default", bad, NULL, &res),
                     -EINVAL);
    assert_int_equal(res.code, 422);
    assert_string_equal(res.reason, "Invalid");
    assert_string_equal(res.message,
                        "Pod \"bad\" is invalid: spec.containers: Required "
                        "value");
    kj_free(bad);
  }

  /* merge patch */
  assert_int_equal(kapi_client_patch(c, &pods, "default", "crud", NULL,
                                     "application/merge-patch+json",
                                     "{\"metadata\":{\"labels\":{\"tier\":"
                                     "\"front\"}}}", &out, &res), 0);
  assert_string_equal(
      kj_get_str(kj_get(kj_get(out, "metadata"), "labels"), "tier"), "front");
  assert_string_equal(
      kj_get_str(kj_get(kj_get(out, "metadata"), "labels"), "app"), "web");
  kj_free(out);
  out = NULL;
  /* 400 for a patch that is not JSON */
  assert_int_equal(kapi_client_patch(c, &pods, "default", "crud", NULL,
                                     "application/merge-patch+json", "{nope",
                                     &out, &res), -EINVAL);
  assert_int_equal(res.code, 400);
  assert_string_equal(res.reason, "BadRequest");

  /* delete, twice */
  assert_int_equal(kapi_client_delete(c, &pods, "default", "crud", NULL, &res),
                   0);
  assert_int_equal(res.code, 200);
  assert_int_equal(kapi_client_delete(c, &pods, "default", "crud", NULL, &res),
                   -ENOENT);
  assert_string_equal(res.reason, "NotFound");

  /* a cluster-scoped resource */
  {
    kj *node = parse("{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":"
                     "{\"name\":\"n1\"}}");
    kj *opts = parse("{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\","
                     "\"gracePeriodSeconds\":0}");
    assert_int_equal(kapi_client_create(c, &nodes, NULL, node, NULL, &res), 0);
    assert_int_equal(kapi_client_get(c, &nodes, "ignored", "n1", &out, &res),
                     0);
    assert_string_equal(kj_get_str(out, "kind"), "Node");
    kj_free(out);
    out = NULL;
    assert_int_equal(kapi_client_delete(c, &nodes, NULL, "n1", opts, &res), 0);
    kj_free(node);
    kj_free(opts);
  }
  kj_free(stale);
  kj_free(got);
  kj_free(pod);
  kapi_client_free(c);
}

static void test_list_selectors_paging(void **state)
{
  kapi_client *c;
  kapi_result res;
  kapi_list_opts o;
  kj *out = NULL;
  char name[32];
  const char *cont;
  int i;
  (void)state;
  NEED_SERVER();

  c = server_client();
  for (i = 0; i < 3; i++) {
    kj *p;
    snprintf(name, sizeof name, "list-%d", i);
    p = make_pod(name, i == 1 ? "db" : "web");
    assert_int_equal(kapi_client_create(c, &pods, "default", p, NULL, &res), 0);
    kj_free(p);
  }
  memset(&o, 0, sizeof o);
  o.label_selector = "app=db";
  assert_int_equal(kapi_client_list(c, &pods, "default", &o, &out, &res), 0);
  assert_string_equal(kj_get_str(out, "kind"), "PodList");
  assert_int_equal(kj_len(kj_get(out, "items")), 1);
  assert_string_equal(
      kj_get_str(kj_get(kj_at(kj_get(out, "items"), 0), "metadata"), "name"),
      "list-1");
  kj_free(out);

  memset(&o, 0, sizeof o);
  o.label_selector = "app in (web, db)";
  o.limit = 2;
  assert_int_equal(kapi_client_list(c, &pods, "default", &o, &out, &res), 0);
  assert_int_equal(kj_len(kj_get(out, "items")), 2);
  cont = kj_get_str(kj_get(out, "metadata"), "continue");
  assert_non_null(cont);
  o.continue_token = cont;
  {
    kj *more = NULL;
    assert_int_equal(kapi_client_list(c, &pods, "default", &o, &more, &res), 0);
    assert_int_equal(kj_len(kj_get(more, "items")), 1);
    kj_free(more);
  }
  kj_free(out);

  memset(&o, 0, sizeof o);
  o.label_selector = "app in";
  assert_int_equal(kapi_client_list(c, &pods, "default", &o, &out, &res),
                   -EINVAL);
  assert_int_equal(res.code, 400);
  for (i = 0; i < 3; i++) {
    snprintf(name, sizeof name, "list-%d", i);
    assert_int_equal(kapi_client_delete(c, &pods, "default", name, NULL, &res),
                     0);
  }
  kapi_client_free(c);
}

static void test_raw_do(void **state)
{
  kapi_client *c;
  char *body = NULL;
  size_t len = 0;
  int code = 0;
  kj *v = NULL;
  char err[128];
  (void)state;
  NEED_SERVER();

  c = server_client();
  assert_int_equal(kapi_client_do(c, "GET", "/version", NULL, NULL, 0, &code,
                                  &body, &len), 0);
  assert_int_equal(code, 200);
  assert_int_equal(kj_parse(body, len, &v, err, sizeof err), 0);
  assert_non_null(kj_get_str(v, "gitVersion"));
  kj_free(v);
  free(body);
  assert_int_equal(kapi_client_do(c, "POST", "/api/v1/namespaces/default/pods",
                                  "application/json", "{bad", 4, &code, &body,
                                  &len), 0);
  assert_int_equal(code, 400);
  assert_non_null(strstr(body, "\"reason\":\"BadRequest\""));
  free(body);
  kapi_client_free(c);
}

/* Many threads on one client. */
typedef struct par_arg {
  kapi_client *c;
  int id;
  int failures;
} par_arg;

static void *parallel_worker(void *arg)
{
  par_arg *a = arg;
  kapi_result res;
  char name[32];
  int i;

  for (i = 0; i < 10; i++) {
    kj *p, *out = NULL;
    snprintf(name, sizeof name, "par-%d-%d", a->id, i);
    p = make_pod(name, "par");
    if (kapi_client_create(a->c, &pods, "default", p, NULL, &res) != 0 ||
        kapi_client_get(a->c, &pods, "default", name, &out, &res) != 0 ||
        strcmp(kj_get_str(kj_get(out, "metadata"), "name"), name) != 0 ||
        kapi_client_delete(a->c, &pods, "default", name, NULL, &res) != 0)
      a->failures++;
    kj_free(out);
    kj_free(p);
  }
  return NULL;
}

static void test_concurrent_requests(void **state)
{
  pthread_t th[8];
  par_arg args[8];
  kapi_client *c;
  int i;
  (void)state;
  NEED_SERVER();

  c = server_client();
  for (i = 0; i < 8; i++) {
    args[i].c = c;
    args[i].id = i;
    args[i].failures = 0;
    assert_int_equal(pthread_create(&th[i], NULL, parallel_worker, &args[i]),
                     0);
  }
  for (i = 0; i < 8; i++) {
    join_or_fail(th[i], "a worker");
    assert_int_equal(args[i].failures, 0);
  }
  kapi_client_free(c);
}

/* ---- watch ------------------------------------------------------------------ */

typedef struct watch_rec {
  pthread_mutex_t mu;
  pthread_cond_t cond;
  char types[16][16];
  char names[16][64];
  int n;
  int ret_after; /* return 7 from the callback after this many (0: never) */
  /* the thread's side */
  kapi_client *c;
  kapi_list_opts opts;
  volatile int stop;
  int rc;
  kapi_result res;
  int done;
} watch_rec;

static int on_event(void *arg, const char *type, const kj *obj)
{
  watch_rec *w = arg;
  int r = 0;

  pthread_mutex_lock(&w->mu);
  if (w->n < 16) {
    snprintf(w->types[w->n], sizeof w->types[0], "%s", type);
    snprintf(w->names[w->n], sizeof w->names[0], "%s",
             kj_get_str(kj_get(obj, "metadata"), "name")
                 ? kj_get_str(kj_get(obj, "metadata"), "name")
                 : "");
  }
  w->n++;
  if (w->ret_after && w->n >= w->ret_after)
    r = 7;
  pthread_cond_broadcast(&w->cond);
  pthread_mutex_unlock(&w->mu);
  return r;
}

static void *watch_thread(void *arg)
{
  watch_rec *w = arg;

  w->rc = kapi_client_watch(w->c, &pods, "default", &w->opts, on_event, w,
                            &w->stop, &w->res);
  pthread_mutex_lock(&w->mu);
  w->done = 1;
  pthread_cond_broadcast(&w->cond);
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

static void watch_init(watch_rec *w, kapi_client *c)
{
  memset(w, 0, sizeof *w);
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cond, NULL);
  w->c = c;
}

static void watch_destroy(watch_rec *w)
{
  pthread_cond_destroy(&w->cond);
  pthread_mutex_destroy(&w->mu);
}

/* Waits until `n` events arrived (or the watch ended); 0 on time-out. */
static int wait_events(watch_rec *w, int n, int seconds)
{
  struct timespec deadline;
  int ok;

  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += seconds;
  pthread_mutex_lock(&w->mu);
  while (w->n < n && !w->done &&
         pthread_cond_timedwait(&w->cond, &w->mu, &deadline) == 0)
    ;
  ok = w->n >= n;
  pthread_mutex_unlock(&w->mu);
  return ok;
}

static void test_watch_order_and_stop(void **state)
{
  kapi_client *c;
  kapi_result res;
  watch_rec w;
  pthread_t th;
  kj *list = NULL, *p;
  (void)state;
  NEED_SERVER();

  c = server_client();
  assert_int_equal(kapi_client_list(c, &pods, "default", NULL, &list, &res), 0);
  watch_init(&w, c);
  w.opts.resource_version = kj_get_str(kj_get(list, "metadata"),
                                       "resourceVersion");
  w.opts.label_selector = "app=watched";
  assert_int_equal(pthread_create(&th, NULL, watch_thread, &w), 0);

  p = make_pod("w1", "watched");
  assert_int_equal(kapi_client_create(c, &pods, "default", p, NULL, &res), 0);
  assert_int_equal(kapi_client_patch(c, &pods, "default", "w1", NULL,
                                     "application/merge-patch+json",
                                     "{\"metadata\":{\"annotations\":{\"x\":"
                                     "\"y\"}}}", NULL, &res), 0);
  assert_int_equal(kapi_client_delete(c, &pods, "default", "w1", NULL, &res),
                   0);
  if (!wait_events(&w, 3, 20))
    fail_msg("only %d of 3 watch events arrived", w.n);
  assert_int_equal(w.n, 3);
  assert_string_equal(w.types[0], "ADDED");
  assert_string_equal(w.types[1], "MODIFIED");
  assert_string_equal(w.types[2], "DELETED");
  assert_string_equal(w.names[0], "w1");
  assert_string_equal(w.names[2], "w1");
  /* The stream is idle now; *stop must still end it. */
  w.stop = 1;
  join_or_fail(th, "the watch");
  assert_int_equal(w.rc, 0);
  assert_int_equal(w.res.code, 200);
  watch_destroy(&w);
  kj_free(p);
  kj_free(list);
  kapi_client_free(c);
}

/* The callback's non-zero return ends the watch with that value; with no
 * resourceVersion the existing objects come first, as ADDED. */
static void test_watch_callback_return(void **state)
{
  kapi_client *c;
  kapi_result res;
  watch_rec w;
  kj *p;
  (void)state;
  NEED_SERVER();
  p = make_pod("w2", "cb");

  c = server_client();
  assert_int_equal(kapi_client_create(c, &pods, "default", p, NULL, &res), 0);
  watch_init(&w, c);
  w.opts.label_selector = "app=cb";
  w.ret_after = 1;
  watch_thread(&w);
  assert_int_equal(w.rc, 7);
  assert_int_equal(w.n, 1);
  assert_string_equal(w.types[0], "ADDED");
  assert_string_equal(w.names[0], "w2");
  watch_destroy(&w);

  /* A bad selector: the server's 400, mapped. */
  watch_init(&w, c);
  w.opts.label_selector = "app in";
  watch_thread(&w);
  assert_int_equal(w.rc, -EINVAL);
  assert_int_equal(w.res.code, 400);
  assert_string_equal(w.res.reason, "BadRequest");
  assert_int_equal(w.n, 0);
  watch_destroy(&w);

  /* The server's timeoutSeconds ends the stream: 0. */
  watch_init(&w, c);
  w.opts.label_selector = "app=cb";
  w.opts.timeout_seconds = 1;
  watch_thread(&w);
  assert_int_equal(w.rc, 0);
  assert_int_equal(w.n, 1);
  watch_destroy(&w);
  assert_int_equal(kapi_client_delete(c, &pods, "default", "w2", NULL, &res),
                   0);
  kj_free(p);
  kapi_client_free(c);
}

/* ---- the QPS limiter ------------------------------------------------------------- */

/* Starts `n` watches at once on a client whose bucket holds `burst`
 * tokens and refills one token every 1000 s.  Each watch that gets a
 * token receives the ADDED of the existing pod at once; the others wait
 * in the limiter.  Returns how many started. */
static int watches_started(int n, int burst, double qps)
{
  kapi_client *c = new_client(S.kubeconfig, NULL, qps, burst, 0);
  watch_rec *w = calloc((size_t)n, sizeof *w);
  pthread_t *th = calloc((size_t)n, sizeof *th);
  int i, started = 0;

  assert_non_null(w);
  assert_non_null(th);
  for (i = 0; i < n; i++) {
    watch_init(&w[i], c);
    w[i].opts.label_selector = "app=qps";
    assert_int_equal(pthread_create(&th[i], NULL, watch_thread, &w[i]), 0);
  }
  /* Those that can start must: wait for min(n, burst) of them. */
  for (i = 0; i < 400; i++) {
    int j;
    for (started = 0, j = 0; j < n; j++)
      started += wait_events(&w[j], 1, 0);
    if (started >= (n < burst || qps < 0 ? n : burst))
      break;
    sleep_ms(50);
  }
  /* Give any extra (wrongly admitted) watch time to show up. */
  sleep_ms(1000);
  for (started = 0, i = 0; i < n; i++)
    started += wait_events(&w[i], 1, 0);
  for (i = 0; i < n; i++)
    w[i].stop = 1;
  for (i = 0; i < n; i++) {
    join_or_fail(th[i], "a throttled watch");
    assert_int_equal(w[i].rc, 0);
    watch_destroy(&w[i]);
  }
  free(w);
  free(th);
  kapi_client_free(c);
  return started;
}

static void test_qps_burst(void **state)
{
  kapi_client *c;
  kapi_result res;
  kj *p;
  (void)state;
  NEED_SERVER();
  p = make_pod("qps", "qps");

  c = server_client();
  assert_int_equal(kapi_client_create(c, &pods, "default", p, NULL, &res), 0);
  /* A bucket of 3 lets exactly 3 of 6 requests start... */
  assert_int_equal(watches_started(6, 3, 0.001), 3);
  /* ...and 6 when it holds 6 (so the count above can fail). */
  assert_int_equal(watches_started(6, 6, 0.001), 6);
  /* No limit at all (qps < 0). */
  assert_int_equal(watches_started(6, 1, -1), 6);
  assert_int_equal(kapi_client_delete(c, &pods, "default", "qps", NULL, &res),
                   0);
  kj_free(p);
  kapi_client_free(c);
}

/* ---- retry across a server restart ------------------------------------------------ */

typedef struct get_arg {
  kapi_client *c;
  int rc;
  kapi_result res;
  kj *out;
} get_arg;

static void *get_thread(void *arg)
{
  get_arg *g = arg;

  g->rc = kapi_client_get(g->c, &pods, "default", "survivor", &g->out,
                          &g->res);
  return NULL;
}

static void test_retry_after_restart(void **state)
{
  kapi_client *c;
  kapi_result res;
  kj *p;
  get_arg g;
  pthread_t th;
  struct pollfd pfd;
  int lfd, cfd, port;
  (void)state;
  NEED_SERVER();
  p = make_pod("survivor", "r");

  c = new_client(S.kubeconfig, NULL, -1, 0, 10);
  assert_int_equal(kapi_client_create(c, &pods, "default", p, NULL, &res), 0);
  port = S.port;
  kts_stop(&S);
  server_up = 0;
  /* While the server is down, its port answers and hangs up: the GET
   * fails there first, for certain, before the server is back. */
  lfd = kts_listen(port);
  assert_true(lfd >= 0);
  memset(&g, 0, sizeof g);
  g.c = c;
  assert_int_equal(pthread_create(&th, NULL, get_thread, &g), 0);
  pfd.fd = lfd;
  pfd.events = POLLIN;
  assert_int_equal(poll(&pfd, 1, 20000), 1);
  cfd = accept(lfd, NULL, NULL);
  assert_true(cfd >= 0);
  close(cfd);
  close(lfd);
  assert_int_equal(kts_start(&S, port), 0);
  server_up = 1;
  join_or_fail(th, "the GET across the restart");
  assert_int_equal(g.rc, 0);
  assert_string_equal(kj_get_str(kj_get(g.out, "metadata"), "name"),
                      "survivor");
  kj_free(g.out);
  assert_int_equal(kapi_client_delete(c, &pods, "default", "survivor", NULL,
                                      &res), 0);
  kj_free(p);
  kapi_client_free(c);
}

/* ---- events ------------------------------------------------------------------ */

static int have_plugin(const char *name)
{
  if (!kts_has_plugin("registry", name)) {
    print_message("skipped: the %s plugin (registry/%s) is not built yet\n",
                  name, name);
    return 0;
  }
  return 1;
}

/* The Events about one object, by involvedObject.name. */
static kj *events_about(kapi_client *c, const char *ns, const char *name)
{
  kapi_list_opts o;
  kapi_result res;
  char sel[128];
  kj *out = NULL;

  memset(&o, 0, sizeof o);
  snprintf(sel, sizeof sel, "involvedObject.name=%s", name);
  o.field_selector = sel;
  if (kapi_client_list(c, &events, ns, &o, &out, &res) != 0)
    fail_msg("listing events: %d %s: %s", res.code, res.reason, res.message);
  return out;
}

static void test_events(void **state)
{
  kapi_client *c;
  kapi_recorder *r;
  kapi_result res;
  kj *pod, *created = NULL, *list, *node;
  const kj *items, *a, *b, *ev3 = NULL, *ev1 = NULL;
  const char *uid;
  size_t i;
  int64_t count = 0;
  (void)state;
  NEED_SERVER();
  if (!have_plugin("event"))
    skip();

  c = server_client();
  pod = make_pod("evp", "ev");
  assert_int_equal(kapi_client_create(c, &pods, "default", pod, &created,
                                      &res), 0);
  uid = kj_get_str(kj_get(created, "metadata"), "uid");
  r = kapi_recorder_new(c, "default-scheduler", "node-a");
  assert_non_null(r);
  kapi_recorder_eventf(r, created, "Normal", "Scheduled",
                       "Successfully assigned default/%s to %s", "evp", "n1");
  kapi_recorder_eventf(r, created, "Warning", "BackOff", "Back-off %d", 1);
  kapi_recorder_eventf(r, created, "Warning", "BackOff", "Back-off %d", 1);
  kapi_recorder_eventf(r, created, "Warning", "BackOff", "Back-off %d", 1);
  node = parse("{\"kind\":\"Node\",\"apiVersion\":\"v1\",\"metadata\":"
               "{\"name\":\"evnode\",\"uid\":\"u-1\"}}");
  kapi_recorder_eventf(r, node, "Normal", "Starting", "Starting kubelet.");
  kapi_recorder_free(r); /* flushes */

  list = events_about(c, "default", "evp");
  items = kj_get(list, "items");
  assert_int_equal(kj_len(items), 2);
  for (i = 0; i < kj_len(items); i++) {
    const kj *e = kj_at(items, i);
    if (!strcmp(kj_get_str(e, "reason"), "BackOff"))
      ev3 = e;
    else
      ev1 = e;
  }
  assert_non_null(ev1);
  assert_non_null(ev3);
  /* The first: exactly as upstream's recorder makes it. */
  assert_int_equal(strncmp(kj_get_str(kj_get(ev1, "metadata"), "name"),
                           "evp.", 4), 0);
  assert_int_equal(strlen(kj_get_str(kj_get(ev1, "metadata"), "name")),
                   4 + 16);
  assert_string_equal(kj_get_str(kj_get(ev1, "metadata"), "namespace"),
                      "default");
  a = kj_get(ev1, "involvedObject");
  assert_string_equal(kj_get_str(a, "kind"), "Pod");
  assert_string_equal(kj_get_str(a, "namespace"), "default");
  assert_string_equal(kj_get_str(a, "name"), "evp");
  assert_string_equal(kj_get_str(a, "uid"), uid);
  assert_string_equal(kj_get_str(a, "apiVersion"), "v1");
  assert_string_equal(kj_get_str(a, "resourceVersion"),
                      kj_get_str(kj_get(created, "metadata"),
                                 "resourceVersion"));
  assert_string_equal(kj_get_str(ev1, "type"), "Normal");
  assert_string_equal(kj_get_str(ev1, "message"),
                      "Successfully assigned default/evp to n1");
  b = kj_get(ev1, "source");
  assert_string_equal(kj_get_str(b, "component"), "default-scheduler");
  assert_string_equal(kj_get_str(b, "host"), "node-a");
  assert_string_equal(kj_get_str(ev1, "reportingComponent"),
                      "default-scheduler");
  assert_string_equal(kj_get_str(ev1, "reportingInstance"), "node-a");
  assert_int_equal(kj_to_int(kj_get(ev1, "count"), &count), 0);
  assert_int_equal(count, 1);
  assert_int_equal(strlen(kj_get_str(ev1, "firstTimestamp")), 20);
  /* The repeats: one Event, count 3. */
  assert_int_equal(kj_to_int(kj_get(ev3, "count"), &count), 0);
  assert_int_equal(count, 3);
  assert_string_equal(kj_get_str(ev3, "message"), "Back-off 1");
  assert_string_equal(kj_get_str(ev3, "type"), "Warning");
  assert_true(strcmp(kj_get_str(ev3, "firstTimestamp"),
                     kj_get_str(ev3, "lastTimestamp")) <= 0);
  kj_free(list);

  /* A cluster-scoped object's events go to "default". */
  list = events_about(c, "default", "evnode");
  assert_int_equal(kj_len(kj_get(list, "items")), 1);
  a = kj_get(kj_at(kj_get(list, "items"), 0), "involvedObject");
  assert_string_equal(kj_get_str(a, "kind"), "Node");
  assert_null(kj_get(a, "namespace"));
  kj_free(list);

  assert_int_equal(kapi_client_delete(c, &pods, "default", "evp", NULL, &res),
                   0);
  kj_free(node);
  kj_free(created);
  kj_free(pod);
  kapi_client_free(c);
}

/* upstream's EventCorrelator: the tenth distinct message about the same
 * object and reason starts one combined Event that the next ones count
 * on, and after 25 writes about one object the rest are dropped. */
static void test_events_correlated(void **state)
{
  kapi_client *c;
  kapi_recorder *r;
  kj *rs, *list;
  const kj *items, *combined = NULL, *repeated = NULL;
  size_t i, plain = 0;
  int64_t count = 0;
  (void)state;
  NEED_SERVER();
  if (!have_plugin("event"))
    skip();

  c = server_client();
  rs = parse("{\"kind\":\"ReplicaSet\",\"apiVersion\":\"apps/v1\","
             "\"metadata\":{\"name\":\"evrs\",\"namespace\":\"default\","
             "\"uid\":\"u-rs\"}}");
  r = kapi_recorder_new(c, "replicaset-controller", NULL);
  assert_non_null(r);
  for (i = 0; i < 40; i++)
    kapi_recorder_eventf(r, rs, "Normal", "SuccessfulCreate",
                         "Created pod: evrs-%zu", i);
  kapi_recorder_free(r);

  list = events_about(c, "default", "evrs");
  items = kj_get(list, "items");
  for (i = 0; i < kj_len(items); i++) {
    const char *msg = kj_get_str(kj_at(items, i), "message");
    if (!strncmp(msg, "(combined from similar events): ", 32))
      combined = kj_at(items, i);
    else
      plain++;
  }
  /* Nine as they are, then one combined: 9 creates + 1 create + 15
   * patches use the 25 writes; the last 15 events are dropped. */
  assert_int_equal(plain, 9);
  assert_non_null(combined);
  assert_int_equal(kj_len(items), 10);
  assert_string_equal(kj_get_str(combined, "message"),
                      "(combined from similar events): Created pod: evrs-24");
  assert_int_equal(kj_to_int(kj_get(combined, "count"), &count), 0);
  assert_int_equal(count, 16);
  assert_null(kj_get(combined, "reportingComponent"));
  kj_free(list);

  /* The same message over and over: one Event counted up to the burst. */
  kj_free(rs);
  rs = parse("{\"kind\":\"ReplicaSet\",\"apiVersion\":\"apps/v1\","
             "\"metadata\":{\"name\":\"evrs2\",\"namespace\":\"default\","
             "\"uid\":\"u-rs2\"}}");
  r = kapi_recorder_new(c, "replicaset-controller", NULL);
  for (i = 0; i < 30; i++)
    kapi_recorder_eventf(r, rs, "Warning", "FailedCreate", "quota exceeded");
  kapi_recorder_free(r);
  list = events_about(c, "default", "evrs2");
  items = kj_get(list, "items");
  assert_int_equal(kj_len(items), 1);
  repeated = kj_at(items, 0);
  assert_string_equal(kj_get_str(repeated, "message"), "quota exceeded");
  assert_int_equal(kj_to_int(kj_get(repeated, "count"), &count), 0);
  assert_int_equal(count, 25);
  kj_free(list);

  kj_free(rs);
  kapi_client_free(c);
}

/* ---- leader election ------------------------------------------------------------ */

typedef struct candidate {
  kapi_client *c;
  kapi_leader_config cfg;
  volatile int stop;
  pthread_mutex_t mu;
  pthread_cond_t cond;
  int started, stopped;
  int rc;
  int done;
  pthread_t th;
} candidate;

static void on_started(void *arg)
{
  candidate *k = arg;
  pthread_mutex_lock(&k->mu);
  k->started++;
  pthread_cond_broadcast(&k->cond);
  pthread_mutex_unlock(&k->mu);
}

static void on_stopped(void *arg)
{
  candidate *k = arg;
  pthread_mutex_lock(&k->mu);
  k->stopped++;
  pthread_cond_broadcast(&k->cond);
  pthread_mutex_unlock(&k->mu);
}

static void *candidate_main(void *arg)
{
  candidate *k = arg;
  int rc = kapi_leader_run(k->c, &k->cfg, &k->stop);
  pthread_mutex_lock(&k->mu);
  k->rc = rc;
  k->done = 1;
  pthread_cond_broadcast(&k->cond);
  pthread_mutex_unlock(&k->mu);
  return NULL;
}

static void candidate_start(candidate *k, kapi_client *c, const char *id)
{
  memset(k, 0, sizeof *k);
  pthread_mutex_init(&k->mu, NULL);
  pthread_cond_init(&k->cond, NULL);
  k->c = c;
  k->cfg.ns = "default";
  k->cfg.name = "test-lock";
  k->cfg.identity = id;
  /* Generous against a loaded machine: the holder renews every second
   * and only loses after 4 s without one success. */
  k->cfg.lease_seconds = 6;
  k->cfg.renew_deadline_seconds = 4;
  k->cfg.retry_seconds = 1;
  k->cfg.on_started = on_started;
  k->cfg.on_stopped = on_stopped;
  k->cfg.arg = k;
  assert_int_equal(pthread_create(&k->th, NULL, candidate_main, k), 0);
}

static int wait_started(candidate *k, int seconds)
{
  struct timespec deadline;
  int ok;

  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += seconds;
  pthread_mutex_lock(&k->mu);
  while (!k->started && !k->done &&
         pthread_cond_timedwait(&k->cond, &k->mu, &deadline) == 0)
    ;
  ok = k->started;
  pthread_mutex_unlock(&k->mu);
  return ok;
}

static void candidate_end(candidate *k)
{
  k->stop = 1;
  join_or_fail(k->th, "kapi_leader_run");
  pthread_cond_destroy(&k->cond);
  pthread_mutex_destroy(&k->mu);
}

static kj *get_lease(kapi_client *c)
{
  kapi_result res;
  kj *l = NULL;

  if (kapi_client_get(c, &leases, "default", "test-lock", &l, &res) != 0)
    fail_msg("get lease: %s", res.message);
  return l;
}

static void test_leader_election(void **state)
{
  kapi_client *c;
  candidate a, b;
  kj *lease;
  const kj *spec;
  int64_t v;
  (void)state;
  NEED_SERVER();
  if (!have_plugin("lease"))
    skip();

  c = server_client();
  candidate_start(&a, c, "node-a_1");
  if (!wait_started(&a, 20))
    fail_msg("the first candidate never led (rc %d)", a.rc);
  lease = get_lease(c);
  spec = kj_get(lease, "spec");
  assert_string_equal(kj_get_str(spec, "holderIdentity"), "node-a_1");
  assert_int_equal(kj_to_int(kj_get(spec, "leaseDurationSeconds"), &v), 0);
  assert_int_equal(v, 6);
  assert_int_equal(kj_to_int(kj_get(spec, "leaseTransitions"), &v), 0);
  assert_int_equal(v, 0);
  /* MicroTime: 2025-01-01T00:00:00.000000Z */
  assert_int_equal(strlen(kj_get_str(spec, "renewTime")), 27);
  assert_int_equal(kj_get_str(spec, "renewTime")[19], '.');
  kj_free(lease);

  /* The second waits while the first renews... */
  candidate_start(&b, c, "node-b_2");
  assert_int_equal(wait_started(&b, 4), 0);
  lease = get_lease(c);
  assert_string_equal(kj_get_str(kj_get(lease, "spec"), "holderIdentity"),
                      "node-a_1");
  kj_free(lease);

  /* ...and takes over when the first stops and releases. */
  candidate_end(&a);
  assert_int_equal(a.rc, 0);
  assert_int_equal(a.started, 1);
  assert_int_equal(a.stopped, 1);
  if (!wait_started(&b, 20))
    fail_msg("the second candidate never led");
  lease = get_lease(c);
  spec = kj_get(lease, "spec");
  assert_string_equal(kj_get_str(spec, "holderIdentity"), "node-b_2");
  assert_int_equal(kj_to_int(kj_get(spec, "leaseTransitions"), &v), 0);
  assert_int_equal(v, 1);
  kj_free(lease);

  candidate_end(&b);
  assert_int_equal(b.rc, 0);
  assert_int_equal(b.stopped, 1);
  lease = get_lease(c);
  spec = kj_get(lease, "spec");
  assert_string_equal(kj_get_str(spec, "holderIdentity"), "");
  assert_int_equal(kj_to_int(kj_get(spec, "leaseDurationSeconds"), &v), 0);
  assert_int_equal(v, 1);
  kj_free(lease);
  kapi_client_free(c);
}

/* A leader whose Lease is taken over loses leadership: -ECONNABORTED. */
static void test_leader_loses_lease(void **state)
{
  kapi_client *c;
  kapi_result res;
  candidate a;
  kj *lease;
  int i;
  (void)state;
  NEED_SERVER();
  if (!have_plugin("lease"))
    skip();

  c = server_client();
  candidate_start(&a, c, "node-a_3");
  if (!wait_started(&a, 20))
    fail_msg("the candidate never led");
  /* Someone else writes the Lease with a long duration (retrying on
   * conflicts with the renewals). */
  for (i = 0; i < 50; i++) {
    lease = get_lease(c);
    kj_set_str(kj_get(lease, "spec"), "holderIdentity", "intruder");
    kj_set_int(kj_get(lease, "spec"), "leaseDurationSeconds", 3600);
    if (kapi_client_update(c, &leases, "default", lease, NULL, NULL, &res) ==
        0) {
      kj_free(lease);
      break;
    }
    kj_free(lease);
  }
  assert_true(i < 50);
  pthread_mutex_lock(&a.mu);
  {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    while (!a.done && pthread_cond_timedwait(&a.cond, &a.mu, &deadline) == 0)
      ;
  }
  pthread_mutex_unlock(&a.mu);
  assert_int_equal(a.done, 1);
  assert_int_equal(a.rc, -ECONNABORTED);
  assert_int_equal(a.stopped, 1);
  candidate_end(&a);
  assert_int_equal(kapi_client_delete(c, &leases, "default", "test-lock",
                                      NULL, &res), 0);
  kapi_client_free(c);
}

/* ---- main ------------------------------------------------------------------- */

static int group_setup(void **state)
{
  const char *unit_only = getenv("KAPI_UNIT_ONLY");
  (void)state;
  if (unit_only && !strcmp(unit_only, "1")) {
    print_message("KAPI_UNIT_ONLY=1: server tests will be skipped\n");
    return 0;
  }
  if (!kts_have_server()) {
    print_message("no %s/kapi-apiserver: server tests will be skipped\n",
                  kts_builddir());
    return 0;
  }
  if (kts_init(&S) < 0 || kts_start(&S, 0) < 0) {
    kts_cleanup(&S);
    return -1;
  }
  server_up = 1;
  return 0;
}

static int group_teardown(void **state)
{
  (void)state;
  kts_cleanup(&S);
  return 0;
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kubeconfig_current_context),
      cmocka_unit_test(test_kubeconfig_named_context),
      cmocka_unit_test(test_kubeconfig_errors),
      cmocka_unit_test(test_kubeconfig_merge),
      cmocka_unit_test(test_base64),
      cmocka_unit_test(test_client_server_url),
      cmocka_unit_test(test_status_body_length_constants),
      cmocka_unit_test(test_retry_read_on_5xx),
      cmocka_unit_test(test_no_retry_write_on_5xx),
      cmocka_unit_test(test_retry_write_on_429),
      cmocka_unit_test(test_dropped_connections),
      cmocka_unit_test(test_retry_write_on_refused),
      cmocka_unit_test(test_generic_errors),
      cmocka_unit_test(test_request_headers),
      cmocka_unit_test(test_crud_and_error_mapping),
      cmocka_unit_test(test_list_selectors_paging),
      cmocka_unit_test(test_raw_do),
      cmocka_unit_test(test_concurrent_requests),
      cmocka_unit_test(test_watch_order_and_stop),
      cmocka_unit_test(test_watch_callback_return),
      cmocka_unit_test(test_qps_burst),
      cmocka_unit_test(test_retry_after_restart),
      cmocka_unit_test(test_events),
      cmocka_unit_test(test_events_correlated),
      cmocka_unit_test(test_leader_election),
      cmocka_unit_test(test_leader_loses_lease),
  };

  /* Hermetic: no kubeconfig of the user's leaks into the tests. */
  setenv("KUBECONFIG", "/nonexistent/kapi-test-kubeconfig", 1);
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
