/*
 * footprint.c - kapi-bench-footprint: the apiserver's memory and start-up
 * time, empty and loaded.
 *
 * Starts its own kapi-apiserver (see apiserver.h) and measures:
 *   - start -> /readyz with an empty store (fresh data directory; the
 *     median of --starts starts) and the idle RSS once it has settled;
 *   - RSS growth per stored object: --pods realistic ~1.5 KB Pods
 *     (bench_pod_json), then --configmaps ConfigMaps with a 100-byte
 *     value, each against the size of that object's JSON as the server
 *     returns it (GET; that is what it keeps) and as it was sent;
 *   - the store topped up with ConfigMaps to --total objects, the server
 *     stopped and restarted on it: start -> /readyz (median of --starts)
 *     and the RSS the restarted server settles at.
 * Before the first count, a few hundred untimed creates warm up the
 * server's connections, threads and allocator arenas, so that the deltas
 * are the objects' and not the first request's.  RSS is VmRSS from
 * /proc/PID/status, read after --settle seconds of quiet.
 *
 * Loading runs with --fsync as given (the default is true; `--fsync
 * false` saves minutes and changes no figure here but the load time).
 * Prints `name value unit` lines:
 *   footprint_ready_empty 12.3 ms
 *   footprint_rss_idle 9.8 MB
 *   footprint_pod_rss_per_object 4100 bytes
 *   footprint_pod_json_bytes 3700 bytes
 *   footprint_pod_rss_over_json 1.11 ratio
 *   footprint_configmap_... likewise
 *   footprint_ready_100000_objects 400.0 ms
 *   footprint_rss_restarted_100000_objects 350.0 MB
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apiserver.h"
#include "common.h"

#define WARMUP 500

typedef struct fp_opts {
  bench_server_opts server;
  long pods, configmaps, total, starts, connections;
  double settle;
} fp_opts;

typedef struct fp_ctx {
  const char *server;
  const char *ns;
  int pods;           /* else ConfigMaps */
  char *url;
} fp_ctx;

static void usage(FILE *f)
{
  fputs(
    "Usage: kapi-bench-footprint [options]\n"
    "\n"
    "Starts a kapi-apiserver and prints its start-up time, idle RSS and\n"
    "RSS per stored object as `name value unit` lines.\n"
    "\n"
    BENCH_SERVER_USAGE
    "  --pods N            pods for the per-object figure (default 10000)\n"
    "  --configmaps N      ConfigMaps for it (default 20000)\n"
    "  --total N           objects stored before the timed restart\n"
    "                      (default 100000; 0 = no restart)\n"
    "  --starts N          starts timed, the median printed (default 3)\n"
    "  --connections N     connections creating objects (default 16)\n"
    "  --settle S          quiet seconds before reading RSS (default 1)\n"
    "  -h, --help          this help\n",
    f);
}

static int parse_args(int argc, char **argv, fp_opts *o)
{
  static const struct option longopts[] = {
    BENCH_SERVER_LONGOPTS,
    { "pods", required_argument, NULL, 'p' },
    { "configmaps", required_argument, NULL, 'm' },
    { "total", required_argument, NULL, 't' },
    { "starts", required_argument, NULL, 's' },
    { "connections", required_argument, NULL, 'c' },
    { "settle", required_argument, NULL, 'S' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c, r;

  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    if ((r = bench_server_opt(&o->server, c, optarg)) < 0)
      return -1;
    if (r)
      continue;
    switch (c) {
    case 'p': r = bench_parse_long("--pods", optarg, 1, 10000000, &o->pods);
      break;
    case 'm': r = bench_parse_long("--configmaps", optarg, 1, 10000000,
                                   &o->configmaps);
      break;
    case 't': r = bench_parse_long("--total", optarg, 0, 10000000, &o->total);
      break;
    case 's': r = bench_parse_long("--starts", optarg, 1, 100, &o->starts);
      break;
    case 'c': r = bench_parse_long("--connections", optarg, 1, 1024,
                                   &o->connections);
      break;
    case 'S': r = bench_parse_seconds("--settle", optarg, &o->settle);
      break;
    case 'h': usage(stdout); exit(0);
    default: return -1;
    }
    if (r < 0)
      return -1;
  }
  if (optind < argc) {
    fprintf(stderr, "unexpected argument '%s'\n", argv[optind]);
    return -1;
  }
  return 0;
}

/* ---- objects ---------------------------------------------------------------- */

static int configmap_json(bench_buf *b, const char *ns, const char *name)
{
  /* 100 bytes of value, as perf-targets.md's ConfigMap. */
  static const char value[] =
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUV"
    "WXYZ0123456789abcdefghijklmnopqr";

  bench_buf_reset(b);
  return bench_buf_printf(b,
    "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
    "\"%s\",\"namespace\":\"%s\",\"labels\":{\"app\":\"web\"}},"
    "\"data\":{\"config\":\"%s\"}}", name, ns, value);
}

static void object_name(char *buf, size_t size, long seq)
{
  snprintf(buf, size, "o-%07ld", seq);
}

static int object_json(const fp_ctx *c, bench_buf *b, long seq)
{
  char name[32];

  object_name(name, sizeof name, seq);
  return c->pods ? bench_pod_json(b, c->ns, name)
                 : configmap_json(b, c->ns, name);
}

static int prepare_create(bench_req *req, long seq, void *arg)
{
  fp_ctx *c = arg;

  if (object_json(c, &req->body, seq) < 0)
    return -1;
  return bench_req_post(req, c->url);
}

static const char *resource(const fp_ctx *c)
{
  return c->pods ? "pods" : "configmaps";
}

static int create_objects(fp_ctx *c, long first, long n, long conns)
{
  char path[128];
  int r;

  snprintf(path, sizeof path, "/api/v1/namespaces/%s/%s", c->ns,
           resource(c));
  if (!(c->url = bench_url(c->server, path)))
    return -1;
  r = bench_create_n(prepare_create, c, first, n, (int)conns, resource(c));
  free(c->url);
  c->url = NULL;
  return r;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
  return bench_buf_append(arg, p, size * n) < 0 ? 0 : size * n;
}

/* The size of object `seq`'s JSON as the server returns it; -1 if not. */
static long stored_size(const fp_ctx *c, long seq)
{
  char path[160], name[32];
  bench_buf body = { 0 };
  CURL *e = curl_easy_init();
  long status = 0, size = -1;
  char *url;

  object_name(name, sizeof name, seq);
  snprintf(path, sizeof path, "/api/v1/namespaces/%s/%s/%s", c->ns,
           resource(c), name);
  url = bench_url(c->server, path);
  if (e && url) {
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
    if (curl_easy_perform(e) == CURLE_OK &&
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK &&
        status == 200)
      size = (long)body.len;
  }
  if (e)
    curl_easy_cleanup(e);
  free(url);
  bench_buf_free(&body);
  return size;
}

/* ---- measurements ------------------------------------------------------------ */

static long settled_rss_kb(const bench_apiserver *s, double settle)
{
  usleep((useconds_t)(settle * 1e6));
  return bench_proc_kb(s->pid, "VmRSS");
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return (x > y) - (x < y);
}

static double median_of(double *t, long n)
{
  qsort(t, (size_t)n, sizeof *t, cmp_double);
  return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

/* Starts the server `n` times (each from a fresh data directory when
 * `fresh`), leaving the last one running; prints the median time to
 * ready seen from here as `name`, and the median the server logged as
 * `name`_logged (its own clock: no exec, no dynamic loading; with a busy
 * machine the difference shows how long it waited for a CPU). */
static int timed_starts(bench_apiserver *s, long n, int fresh,
                        const char *name)
{
  double t[100], logged[100];
  char cmd[256];

  for (long i = 0; i < n; i++) {
    bench_apiserver_stop(s);
    if (fresh) {
      snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->data);
      if (system(cmd) != 0)
        return -1;
    }
    if (bench_apiserver_start(s, 120, &t[i]) < 0)
      return -1;
    logged[i] = s->logged_ready_ms;
    fprintf(stderr, "start %ld: ready in %.1f ms (server says %.1f ms)\n",
            i + 1, t[i], logged[i]);
  }
  printf("%s %.1f ms\n", name, median_of(t, n));
  printf("%s_logged %.1f ms\n", name, median_of(logged, n));
  return 0;
}

/* Loads `n` objects of one kind and prints what each costs in RSS. */
static int per_object(bench_apiserver *s, const fp_opts *o, fp_ctx *c,
                      long n, long *rss_kb)
{
  const char *kind = c->pods ? "pod" : "configmap";
  long before = *rss_kb, json, sent;
  double per;
  bench_buf b = { 0 };

  if (create_objects(c, 0, n, o->connections) < 0)
    return -1;
  *rss_kb = settled_rss_kb(s, o->settle);
  json = stored_size(c, 0);
  if (object_json(c, &b, 0) < 0 || json < 0 || *rss_kb < 0) {
    bench_buf_free(&b);
    return -1;
  }
  sent = (long)b.len;
  bench_buf_free(&b);
  per = (double)(*rss_kb - before) * 1024.0 / (double)n;
  printf("footprint_%s_count %ld count\n", kind, n);
  printf("footprint_%s_rss_per_object %.0f bytes\n", kind, per);
  printf("footprint_%s_json_bytes %ld bytes\n", kind, json);
  printf("footprint_%s_sent_json_bytes %ld bytes\n", kind, sent);
  printf("footprint_%s_rss_over_json %.2f ratio\n", kind, per / (double)json);
  fflush(stdout);
  return 0;
}

static int warm_up(bench_apiserver *s, const fp_opts *o)
{
  fp_ctx c = { .server = s->url, .ns = "fp-warm", .pods = 1 };

  if (bench_create_namespace(s->url, c.ns) < 0 ||
      create_objects(&c, 0, WARMUP, o->connections) < 0)
    return -1;
  return 0;
}

static int run(const void *arg)
{
  const fp_opts *o = arg;
  bench_apiserver s;
  fp_ctx pods, cms;
  long rss, stored;
  int rc = 1;

  if (bench_apiserver_init(&s, &o->server, "footprint") < 0)
    goto out;
  printf("footprint_fsync %d bool\n", s.fsync);
  if (timed_starts(&s, o->starts, 1, "footprint_ready_empty") < 0)
    goto out;
  rss = settled_rss_kb(&s, o->settle);
  printf("footprint_rss_idle %.1f MB\n", rss / 1024.0);
  fflush(stdout);

  pods = (fp_ctx){ .server = s.url, .ns = "fp-pods", .pods = 1 };
  cms = (fp_ctx){ .server = s.url, .ns = "fp-configmaps", .pods = 0 };
  if (warm_up(&s, o) < 0 || bench_create_namespace(s.url, pods.ns) < 0 ||
      bench_create_namespace(s.url, cms.ns) < 0)
    goto out;
  rss = settled_rss_kb(&s, o->settle);
  printf("footprint_rss_warm %.1f MB\n", rss / 1024.0);
  if (per_object(&s, o, &pods, o->pods, &rss) < 0 ||
      per_object(&s, o, &cms, o->configmaps, &rss) < 0)
    goto out;
  stored = WARMUP + o->pods + o->configmaps;
  if (o->total > stored) {
    if (create_objects(&cms, o->configmaps, o->total - stored,
                       o->connections) < 0)
      goto out;
    stored = o->total;
  }
  printf("footprint_rss_%ld_objects %.1f MB\n", stored,
         settled_rss_kb(&s, o->settle) / 1024.0);
  printf("footprint_rss_peak_loading %.1f MB\n",
         bench_proc_kb(s.pid, "VmHWM") / 1024.0);
  if (o->total > 0) {
    char name[64];

    snprintf(name, sizeof name, "footprint_ready_%ld_objects", stored);
    if (timed_starts(&s, o->starts, 0, name) < 0)
      goto out;
    printf("footprint_rss_restarted_%ld_objects %.1f MB\n", stored,
           settled_rss_kb(&s, o->settle) / 1024.0);
  }
  rc = 0;
out:
  bench_apiserver_free(&s);
  return rc;
}

int main(int argc, char **argv)
{
  fp_opts o = { .pods = 10000, .configmaps = 20000, .total = 100000,
                .starts = 3, .connections = 16, .settle = 1 };

  bench_server_opts_init(&o.server);
  if (parse_args(argc, argv, &o) < 0) {
    usage(stderr);
    return 2;
  }
  return bench_with_curl(run, &o);
}
