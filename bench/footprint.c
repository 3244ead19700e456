/*
 * footprint.c - kapi-bench-footprint: the apiserver's memory and start-up
 * time, empty and loaded.
 *
 * Starts its own kapi-apiserver (see apiserver.h) and measures:
 *   - the whole control plane idle: kapi-scheduler, kapi-controller-manager
 *     and a kapi-kubelet with one hollow node (fake runtime) started
 *     against the fresh server, and once the node is Ready, the
 *     controllers started and --idle seconds have passed, each daemon's
 *     VmRSS and their sum (the server is then restarted on a fresh data
 *     directory, so nothing of this shows in the figures below);
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
 *   footprint_cp_rss_apiserver 10.1 MB   (likewise _scheduler,
 *   footprint_cp_rss_total 30.2 MB        _controller_manager, _kubelet)
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
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "apiserver.h"
#include "common.h"

#define WARMUP 500

typedef struct fp_opts {
  bench_server_opts server;
  long pods, configmaps, total, starts, connections;
  double settle, idle;
  int control_plane;  /* measure the four daemons idle first */
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
    "  --idle S            seconds the whole control plane idles before\n"
    "                      its RSS is read (default 2)\n"
    "  --no-control-plane  skip the scheduler, controller-manager and\n"
    "                      kubelet\n"
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
    { "idle", required_argument, NULL, 'I' },
    { "no-control-plane", no_argument, NULL, 'N' },
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
    case 'I': r = bench_parse_seconds("--idle", optarg, &o->idle);
      break;
    case 'N': o->control_plane = 0; break;
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

/* GETs server+path into *body (bench_buf_free it); the HTTP status, or
 * 0 when there was no answer. */
static long get_body(const char *server, const char *path, bench_buf *body)
{
  CURL *e = curl_easy_init();
  char *url = bench_url(server, path);
  long status = 0;

  if (e && url) {
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, body);
    if (curl_easy_perform(e) != CURLE_OK ||
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
      status = 0;
  }
  if (e)
    curl_easy_cleanup(e);
  free(url);
  return status;
}

/* The size of object `seq`'s JSON as the server returns it; -1 if not. */
static long stored_size(const fp_ctx *c, long seq)
{
  char path[160], name[32];
  bench_buf body = { 0 };
  long size;

  object_name(name, sizeof name, seq);
  snprintf(path, sizeof path, "/api/v1/namespaces/%s/%s/%s", c->ns,
           resource(c), name);
  size = get_body(c->server, path, &body) == 200 ? (long)body.len : -1;
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
  char cmd[512];

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

/* ---- the whole control plane, idle ---------------------------------------- */

/* The daemons besides the apiserver, in the order they are started. */
enum { CP_SCHEDULER, CP_CONTROLLER_MANAGER, CP_KUBELET, CP_N };

typedef struct cp_daemon {
  const char *binary;     /* under the build tree */
  const char *figure;     /* footprint_cp_rss_<figure> */
  const char *plugins;    /* glob under the build tree of its plugins */
  char dir[320];          /* its plugin directory */
  char log[320];
  pid_t pid;
} cp_daemon;

/* The real binary behind libtool's wrapper when there is one (see
 * bench_apiserver_init: LD_LIBRARY_PATH already points at libkapi), so
 * that the pid is the daemon's and not a shell's. */
static void daemon_binary(const char *build, const char *name, char *out,
                          size_t len)
{
  snprintf(out, len, "%s/.libs/%s", build, name);
  if (access(out, X_OK) < 0)
    snprintf(out, len, "%s/%s", build, name);
}

/* Copies build/<pattern> into dir, made 0755 (the loaders refuse
 * writable plugin directories); -1 when nothing matched. */
static int copy_glob(const char *build, const char *pattern, const char *dir)
{
  char pat[4096];
  size_t copied = 0;
  glob_t g;

  if (mkdir(dir, 0755) < 0)
    return -1;
  snprintf(pat, sizeof pat, "%s/%s", build, pattern);
  if (glob(pat, 0, NULL, &g) != 0)
    return -1;
  for (size_t i = 0; i < g.gl_pathc; i++)
    if (bench_copy_file(g.gl_pathv[i], dir, NULL, 0) == 0)
      copied++;
  globfree(&g);
  return copied ? 0 : -1;
}

/* 1 when `file` contains `a` and, after it on the same line, `b`. */
static int log_says(const char *file, const char *a, const char *b)
{
  char line[2048];
  int found = 0;
  FILE *f = fopen(file, "r");

  while (f && !found && fgets(line, sizeof line, f)) {
    char *p = strstr(line, a);
    found = p && strstr(p + strlen(a), b);
  }
  if (f)
    fclose(f);
  return found;
}

/* 1 when node `name` reports the kubelet Ready. */
static int node_ready(const char *server, const char *name)
{
  char path[128];
  bench_buf body = { 0 };
  int ready;

  snprintf(path, sizeof path, "/api/v1/nodes/%s", name);
  ready = get_body(server, path, &body) == 200 && body.data &&
          strstr(body.data, "\"KubeletReady\"") != NULL;
  bench_buf_free(&body);
  return ready;
}

static int spawn_daemon(const bench_apiserver *s, cp_daemon *d)
{
  char bin[4096], cfg[320], root[320];

  daemon_binary(s->build, d->binary, bin, sizeof bin);
  snprintf(d->log, sizeof d->log, "%s/%s.log", s->dir, d->binary);
  if (copy_glob(s->build, d->plugins, d->dir) < 0) {
    fprintf(stderr, "kapi-bench-footprint: no %s under %s\n", d->plugins,
            s->build);
    return -1;
  }
  if (!strcmp(d->binary, "kapi-scheduler")) {
    FILE *f;

    snprintf(cfg, sizeof cfg, "%s/scheduler.yaml", s->dir);
    if (!(f = fopen(cfg, "w")))
      return -1;
    fputs("apiVersion: kubescheduler.config.k8s.io/v1\n"
          "kind: KubeSchedulerConfiguration\n"
          "leaderElection: {leaderElect: false}\n", f);
    if (fclose(f) != 0)
      return -1;
    char *argv[] = { bin, "--master", (char *)s->url, "--no-default-plugins",
                     "--plugin-dir", d->dir, "--config", cfg, NULL };
    d->pid = bench_spawn(argv, d->log);
  } else if (!strcmp(d->binary, "kapi-controller-manager")) {
    char *argv[] = { bin, "--master", (char *)s->url, "--plugin-dir", d->dir,
                     "--leader-elect=false", NULL };
    d->pid = bench_spawn(argv, d->log);
  } else {
    snprintf(root, sizeof root, "%s/kubelet", s->dir);
    char *argv[] = { bin, "--master", (char *)s->url, "--hollow-nodes", "1",
                     "--hostname-override", "fp", "--runtime", "fake",
                     "--plugin-dir", d->dir, "--root-dir", root, NULL };
    d->pid = bench_spawn(argv, d->log);
  }
  if (d->pid <= 0) {
    d->pid = 0;
    return -1;
  }
  return 0;
}

/* Every daemon still running (not exited, nor a zombie we reaped). */
static int daemons_alive(cp_daemon *d)
{
  for (int i = 0; i < CP_N; i++)
    if (waitpid(d[i].pid, NULL, WNOHANG) != 0) {
      char cmd[512];

      fprintf(stderr, "kapi-bench-footprint: %s exited; its log (%s) "
              "ends:\n", d[i].binary, d[i].log);
      snprintf(cmd, sizeof cmd, "tail -n 10 '%s' >&2", d[i].log);
      if (system(cmd) != 0)
        fprintf(stderr, "(no log)\n");
      d[i].pid = 0;
      return 0;
    }
  return 1;
}

/* Starts the three other daemons against the running server, waits for
 * them to be up and idle, prints each one's RSS and the sum, and stops
 * them again. */
static int control_plane(bench_apiserver *s, const fp_opts *o)
{
  cp_daemon d[CP_N] = {
    [CP_SCHEDULER] = { "kapi-scheduler", "scheduler",
                       "sched-plugins/*/.libs/*.so" },
    [CP_CONTROLLER_MANAGER] = { "kapi-controller-manager",
                                "controller_manager",
                                "plugins/controllers/*/.libs/*.so" },
    [CP_KUBELET] = { "kapi-kubelet", "kubelet",
                     "plugins/runtime/fake/.libs/*.so" },
  };
  double deadline = bench_now() + 60;
  long kb[CP_N], api_kb, total;
  int rc = -1, up = 0;

  for (int i = 0; i < CP_N; i++) {
    snprintf(d[i].dir, sizeof d[i].dir, "%s/%s-plugins", s->dir,
             d[i].figure);
    if (spawn_daemon(s, &d[i]) < 0)
      goto out;
  }
  /* Up: the hollow node Ready (the kubelet registered it and reports
   * status) and the controllers started. */
  while (!up && bench_now() < deadline && daemons_alive(d)) {
    up = node_ready(s->url, "fp-0") &&
         log_says(d[CP_CONTROLLER_MANAGER].log, "Started ", " controllers");
    if (!up)
      usleep(50000);
  }
  if (!up) {
    char cmd[1200];

    fprintf(stderr, "kapi-bench-footprint: the control plane did not come "
            "up; the daemons' logs end:\n");
    snprintf(cmd, sizeof cmd, "tail -n 10 '%s' '%s' '%s' >&2",
             d[0].log, d[1].log, d[2].log);
    if (system(cmd) != 0)
      fprintf(stderr, "(no logs)\n");
    goto out;
  }
  usleep((useconds_t)(o->idle * 1e6));
  if (!daemons_alive(d))
    goto out;
  total = api_kb = bench_proc_kb(s->pid, "VmRSS");
  for (int i = 0; i < CP_N; i++) {
    if ((kb[i] = bench_proc_kb(d[i].pid, "VmRSS")) < 0 || api_kb < 0)
      goto out;
    total += kb[i];
  }
  printf("footprint_cp_rss_apiserver %.1f MB\n", api_kb / 1024.0);
  for (int i = 0; i < CP_N; i++)
    printf("footprint_cp_rss_%s %.1f MB\n", d[i].figure, kb[i] / 1024.0);
  printf("footprint_cp_rss_total %.1f MB\n", total / 1024.0);
  fflush(stdout);
  rc = 0;
out:
  for (int i = CP_N - 1; i >= 0; i--)
    bench_stop(&d[i].pid);
  return rc;
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
  /* The control plane first, on a server of its own: the starts below
   * begin from a fresh data directory, so the objects the daemons made
   * (the node, leases, service accounts, events) are gone again. */
  if (o->control_plane &&
      (bench_apiserver_start(&s, 30, NULL) < 0 || control_plane(&s, o) < 0))
    goto out;
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
                .starts = 3, .connections = 16, .settle = 1, .idle = 2,
                .control_plane = 1 };

  bench_server_opts_init(&o.server);
  if (parse_args(argc, argv, &o) < 0) {
    usage(stderr);
    return 2;
  }
  return bench_with_curl(run, &o);
}
