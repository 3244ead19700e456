/*
 * pod_start.c - kapi-bench-pod-start: pod startup latency, create ->
 * Running as seen through a watch (upstream's density test measures the
 * same "pod startup latency", from creation to the watch reporting the
 * pod running).
 *
 * Pods bound to one node (spec.nodeName set, no scheduler involved) are
 * created at a fixed rate; a watch on their label records when each is
 * first reported Running.  Prints `name value unit` lines:
 *   pod_start_p50 12.345 ms
 *   pod_start_p99 20.100 ms
 *   pod_start_max 25.000 ms
 *   pod_start_errors 0 count
 * and exits 1 if a pod did not reach Running within --timeout.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "json.h"
#include "log.h"

static const kapi_gvr pods_gvr = {"", "v1", "pods", 1};

typedef struct bench {
  kapi_client *c;
  const char *ns, *node;
  char label[64];
  long count;
  double rate, timeout;
  double *created;  /* per pod: when its POST left, seconds */
  double *running;  /* per pod: when the watch said Running; 0 = not yet */
  long n_running;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  volatile int stop;
  const char *rv;   /* where the watch starts */
} bench;

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
  fputs("Usage: kapi-bench-pod-start [options]\n"
        "\n"
        "Creates pods bound to NODE at RATE pods/s and prints the create ->\n"
        "Running latency percentiles seen through a watch.\n"
        "\n"
        "  --server URL      API server (default http://127.0.0.1:8080)\n"
        "  --node NAME       node the pods are bound to (required)\n"
        "  --rate R          pods per second (default 2)\n"
        "  --count N         pods (default 20)\n"
        "  --namespace NS    (default default)\n"
        "  --timeout S       seconds to wait for the last pod (default 60)\n"
        "  --keep            leave the pods (default: delete them)\n"
        "  --label NAME      prefix of the printed names (default pod_start)\n"
        "  -h, --help        this help\n",
        f);
}

/* The pod's index from its name "<label>-<i>", or -1. */
static long index_of(const bench *b, const char *name)
{
  size_t n = strlen(b->label);
  char *end;
  long i;
  if (!name || strncmp(name, b->label, n) || name[n] != '-')
    return -1;
  i = strtol(name + n + 1, &end, 10);
  return *end || i < 0 || i >= b->count ? -1 : i;
}

static int on_event(void *arg, const char *type, const kj *obj)
{
  bench *b = arg;
  const char *phase = kj_str(kj_ptr(obj, "/status/phase"));
  long i;
  if (strcmp(type, "ADDED") && strcmp(type, "MODIFIED"))
    return 0;
  i = index_of(b, kj_str(kj_ptr(obj, "/metadata/name")));
  if (i < 0 || !phase || strcmp(phase, "Running"))
    return 0;
  pthread_mutex_lock(&b->mu);
  if (!b->running[i]) {
    b->running[i] = now_s();
    if (++b->n_running == b->count)
      pthread_cond_broadcast(&b->cv);
  }
  pthread_mutex_unlock(&b->mu);
  return 0;
}

static void *watch_main(void *arg)
{
  bench *b = arg;
  char sel[96];
  kapi_list_opts lo = {0};
  snprintf(sel, sizeof sel, "bench=%s", b->label);
  lo.label_selector = sel;
  lo.resource_version = b->rv;
  lo.timeout_seconds = 3600;
  while (!b->stop) {
    kapi_result res;
    if (kapi_client_watch(b->c, &pods_gvr, b->ns, &lo, on_event, b, &b->stop,
                          &res) < 0 && !b->stop) {
      fprintf(stderr, "watch: %s\n", res.message);
      sleep(1);
    }
  }
  return NULL;
}

static kj *pod(const bench *b, long i)
{
  char json[1024], err[128];
  kj *o = NULL;
  snprintf(json, sizeof json,
           "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
           "\"%s-%ld\",\"labels\":{\"bench\":\"%s\"}},\"spec\":{\"nodeName\":"
           "\"%s\",\"containers\":[{\"name\":\"app\",\"image\":"
           "\"registry.k8s.io/pause:3.10\",\"command\":[\"sleep\","
           "\"3600\"]}]}}",
           b->label, i, b->label, b->node);
  kj_parse(json, strlen(json), &o, err, sizeof err);
  return o;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The p-th percentile (nearest rank: ceil(p/100 * n)) of sorted v. */
static double percentile(const double *v, size_t n, unsigned p)
{
  size_t rank = (p * n + 99) / 100;
  return n ? v[rank ? rank - 1 : 0] : 0;
}

int main(int argc, char **argv)
{
  static const struct option longopts[] = {
      {"server", required_argument, NULL, 's'},
      {"node", required_argument, NULL, 'n'},
      {"rate", required_argument, NULL, 'r'},
      {"count", required_argument, NULL, 'c'},
      {"namespace", required_argument, NULL, 'N'},
      {"timeout", required_argument, NULL, 't'},
      {"keep", no_argument, NULL, 'k'},
      {"label", required_argument, NULL, 'l'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  kapi_client_config cc = {0};
  bench b;
  pthread_t watcher;
  double t0, *lat;
  char err[256], rv[32];
  long i, errors = 0, done;
  size_t n_lat = 0;
  const char *label = "pod_start";
  int opt, keep = 0, rc = 0;
  kj *list = NULL;
  kapi_result res;

  memset(&b, 0, sizeof b);
  cc.server = "http://127.0.0.1:8080";
  b.ns = "default";
  b.rate = 2;
  b.count = 20;
  b.timeout = 60;
  while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (opt) {
    case 's': cc.server = optarg; break;
    case 'n': b.node = optarg; break;
    case 'r': b.rate = atof(optarg); break;
    case 'c': b.count = atol(optarg); break;
    case 'N': b.ns = optarg; break;
    case 't': b.timeout = atof(optarg); break;
    case 'k': keep = 1; break;
    case 'l': label = optarg; break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (!b.node || b.rate <= 0 || b.count <= 0) {
    usage(stderr);
    return 2;
  }
  cc.qps = 1000;
  cc.burst = 1000;
  kapi_log_verbosity = -1;
  if (kapi_client_new(&cc, &b.c, err, sizeof err) < 0) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  snprintf(b.label, sizeof b.label, "ps-%lx-%d", (long)time(NULL) & 0xfffff,
           (int)getpid());
  b.created = calloc((size_t)b.count, sizeof *b.created);
  b.running = calloc((size_t)b.count, sizeof *b.running);
  lat = calloc((size_t)b.count, sizeof *lat);
  pthread_mutex_init(&b.mu, NULL);
  pthread_cond_init(&b.cv, NULL);
  if (!b.created || !b.running || !lat)
    return 1;

  /* Start the watch where a list leaves off, so nothing is missed. */
  if (kapi_client_list(b.c, &pods_gvr, b.ns, NULL, &list, &res) < 0) {
    fprintf(stderr, "list pods: %s\n", res.message);
    return 1;
  }
  snprintf(rv, sizeof rv, "%s",
           kj_str(kj_ptr(list, "/metadata/resourceVersion"))
               ? kj_str(kj_ptr(list, "/metadata/resourceVersion"))
               : "0");
  kj_free(list);
  b.rv = rv;
  pthread_create(&watcher, NULL, watch_main, &b);

  t0 = now_s();
  for (i = 0; i < b.count; i++) {
    double due = t0 + (double)i / b.rate, now = now_s();
    kj *p = pod(&b, i);
    if (due > now)
      usleep((useconds_t)((due - now) * 1e6));
    b.created[i] = now_s();
    if (!p || kapi_client_create(b.c, &pods_gvr, b.ns, p, NULL, &res) < 0) {
      if (!errors++)
        fprintf(stderr, "create: %s\n", res.message);
      b.created[i] = 0;
    }
    kj_free(p);
  }

  /* Wait for the last one (or the timeout). */
  pthread_mutex_lock(&b.mu);
  while (b.n_running < b.count - errors) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    pthread_cond_timedwait(&b.cv, &b.mu, &ts);
    if (now_s() - t0 > (double)b.count / b.rate + b.timeout)
      break;
  }
  done = b.n_running;
  pthread_mutex_unlock(&b.mu);
  b.stop = 1;
  pthread_join(watcher, NULL);

  for (i = 0; i < b.count; i++)
    if (b.created[i] && b.running[i])
      lat[n_lat++] = (b.running[i] - b.created[i]) * 1e3;
  qsort(lat, n_lat, sizeof *lat, cmp_double);
  printf("# %ld pods bound to %s at %.1f pods/s: %ld Running\n", b.count,
         b.node, b.rate, done);
  printf("%s_p50 %.3f ms\n", label, percentile(lat, n_lat, 50));
  printf("%s_p99 %.3f ms\n", label, percentile(lat, n_lat, 99));
  printf("%s_max %.3f ms\n", label, n_lat ? lat[n_lat - 1] : 0.0);
  printf("%s_errors %ld count\n", label,
         errors + (b.count - errors - done));
  if (done < b.count - errors || errors)
    rc = 1;

  if (!keep) {
    kj *opts = NULL;
    char json[] = "{\"gracePeriodSeconds\":0}";
    kj_parse(json, strlen(json), &opts, err, sizeof err);
    for (i = 0; i < b.count; i++) {
      char name[96];
      snprintf(name, sizeof name, "%s-%ld", b.label, i);
      kapi_client_delete(b.c, &pods_gvr, b.ns, name, opts, NULL);
    }
    kj_free(opts);
  }
  free(lat);
  free(b.created);
  free(b.running);
  kapi_client_free(b.c);
  return rc;
}
