/*
 * sched.c - kapi-bench-sched: scheduling throughput of kapi-scheduler.
 *
 * Starts its own kapi-apiserver (fresh data directory, fsync off, the
 * build tree's plugins) on a free loopback port, creates N hollow nodes
 * (plain Node objects with status.allocatable, nothing behind them),
 * --bound B pods already bound (spec.nodeName set at create, spread over
 * the nodes round robin: the scheduler must count them) and M pending
 * pods, watches the pods, then starts kapi-scheduler and times the
 * bindings as the watch sees them (spec.nodeName appearing).  Prints
 *   scheduler_nodes 1000 count
 *   scheduler_pods 3000 count
 *   scheduler_pods_per_second 2345 pods/s   (first to last binding)
 *   scheduler_start_to_all_bound 1.52 s     (scheduler start to the last)
 * (with --bound, also scheduler_bound_pods).
 *
 * With --stream the scheduler starts first: once it has bound a probe
 * pod (so its informers are in sync and the watch is in place), the M
 * pods are created as fast as --connections allow, or at --rate pods/s,
 * and each pod's create -> bound latency (from its POST leaving to the
 * watch showing spec.nodeName) is recorded.  Prints, besides the lines
 * above (pods/s still first to last binding),
 *   scheduler_create_rate 3000 pods/s       (POSTs answered per second)
 *   scheduler_create_to_bound_p50 4.2 ms
 *   scheduler_create_to_bound_p99 15.0 ms
 * --label NAME replaces the "scheduler" of every name, so that one table
 * can hold several shapes.  Everything it starts is stopped (by pid) and
 * its directory removed.
 *
 * The shape follows upstream's scheduler_perf "SchedulingBasic": nodes of
 * 4 CPU / 32 Gi / 110 pods, pods of 10m / 10Mi.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

typedef struct opts {
  const char *build;
  const char *label;  /* prefix of the printed names */
  long nodes, pods, bound, connections, timeout;
  int stream;         /* scheduler first, pods created while it runs */
  double rate;        /* --stream: pods/s; 0 = as fast as possible */
} opts;

static void usage(FILE *f)
{
  fputs(
    "Usage: kapi-bench-sched [options]\n"
    "\n"
    "Measures how fast kapi-scheduler binds pending pods to hollow nodes.\n"
    "\n"
    "  --build DIR         build tree with kapi-apiserver, kapi-scheduler and\n"
    "                      the plugins (default $KAPI_BUILD, else .)\n"
    "  --nodes N           hollow nodes (default 1000)\n"
    "  --pods N            pending pods (default 3000)\n"
    "  --bound N           pods already bound to the nodes before the\n"
    "                      scheduler starts (default 0)\n"
    "  --stream            start the scheduler first, then create the pods\n"
    "                      and time each one's create -> bound latency\n"
    "  --rate R            with --stream, create R pods/s (default: as fast\n"
    "                      as --connections allow)\n"
    "  --connections N     connections creating them (default 32)\n"
    "  --timeout S         give up after S seconds of scheduling\n"
    "                      (default 120)\n"
    "  --label NAME        prefix of the printed names (default scheduler)\n"
    "  -h, --help          this help\n",
    f);
}

static int parse_args(int argc, char **argv, opts *o)
{
  static const struct option longopts[] = {
    {"build", required_argument, NULL, 'b'},
    {"nodes", required_argument, NULL, 'n'},
    {"pods", required_argument, NULL, 'p'},
    {"bound", required_argument, NULL, 'B'},
    {"stream", no_argument, NULL, 'S'},
    {"rate", required_argument, NULL, 'r'},
    {"label", required_argument, NULL, 'l'},
    {"connections", required_argument, NULL, 'c'},
    {"timeout", required_argument, NULL, 't'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
  int c;
  long v;

  o->build = getenv("KAPI_BUILD") ? getenv("KAPI_BUILD") : ".";
  o->label = "scheduler";
  o->nodes = 1000;
  o->pods = 3000;
  o->bound = 0;
  o->stream = 0;
  o->rate = 0;
  o->connections = 32;
  o->timeout = 120;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'b': o->build = optarg; break;
    case 'n':
      if (bench_parse_long("--nodes", optarg, 1, 100000, &o->nodes) < 0)
        return -1;
      break;
    case 'p':
      if (bench_parse_long("--pods", optarg, 2, 1000000, &o->pods) < 0)
        return -1;
      break;
    case 'B':
      if (bench_parse_long("--bound", optarg, 0, 1000000, &o->bound) < 0)
        return -1;
      break;
    case 'S': o->stream = 1; break;
    case 'r':
      if (bench_parse_long("--rate", optarg, 1, 1000000, &v) < 0)
        return -1;
      o->rate = (double)v;
      break;
    case 'l':
      if (!*optarg || strlen(optarg) > 64) {
        fprintf(stderr, "--label: want 1 to 64 characters\n");
        return -1;
      }
      o->label = optarg;
      break;
    case 'c':
      if (bench_parse_long("--connections", optarg, 1, 1024,
                           &o->connections) < 0)
        return -1;
      break;
    case 't':
      if (bench_parse_long("--timeout", optarg, 1, 3600, &o->timeout) < 0)
        return -1;
      break;
    case 'h': usage(stdout); exit(0);
    default: usage(stderr); return -1;
    }
  }
  if (o->rate > 0 && !o->stream) {
    fprintf(stderr, "--rate needs --stream\n");
    return -1;
  }
  return 0;
}

/* ---- files and processes ----------------------------------------------- */

static char workdir[256];


/* Copies every match of build/<pattern> into a fresh 0755 directory (the
 * plugin loaders refuse writable ones). */
static int plugin_dir(const char *build, const char *const *patterns,
                      const char *name, char *out, size_t len)
{
  char pat[4096];
  glob_t g;
  size_t copied = 0;

  snprintf(out, len, "%s/%s", workdir, name);
  if (mkdir(out, 0755) < 0)
    return -1;
  for (; *patterns; patterns++) {
    snprintf(pat, sizeof pat, "%s/%s", build, *patterns);
    if (glob(pat, 0, NULL, &g) != 0)
      continue;
    for (size_t i = 0; i < g.gl_pathc; i++)
      if (bench_copy_file(g.gl_pathv[i], out, NULL, 0) == 0)
        copied++;
    globfree(&g);
  }
  return copied ? 0 : -1;
}

/* ---- creating nodes and pods ------------------------------------------- */

enum { MAKE_NODES, MAKE_BOUND, MAKE_PENDING };

typedef struct create_ctx {
  char *url;
  int what;           /* MAKE_* */
  long nodes;         /* MAKE_BOUND: spread over this many nodes */
  double rate;        /* MAKE_PENDING: pods/s, 0 = no pacing */
  double start;       /* bench_now() of the first request, when pacing */
  double *sent;       /* MAKE_PENDING: per pod, when its POST left; or NULL */
} create_ctx;

/* The pod every shape uses: 10m CPU / 10Mi, as scheduler_perf's. */
#define POD_HEAD \
  "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
#define POD_CONTAINERS \
  "\"containers\":[{\"name\":\"c\",\"image\":\"registry.k8s.io/pause:3.10\"," \
  "\"resources\":{\"requests\":{\"cpu\":\"10m\",\"memory\":\"10Mi\"}}}]"

/* With a rate, holds request `seq` back until its time: start + seq /
 * rate.  The pool calls prepare when a connection is free, so this only
 * ever delays a request, and a slow server lowers the rate rather than
 * piling requests up. */
static void pace(create_ctx *c, long seq)
{
  double due, now = bench_now();

  if (c->rate <= 0)
    return;
  if (seq == 0)
    c->start = now;
  due = c->start + (double)seq / c->rate;
  if (due > now)
    usleep((useconds_t)((due - now) * 1e6));
}

static int prepare_create(bench_req *req, long seq, void *arg)
{
  create_ctx *c = arg;

  bench_buf_reset(&req->body);
  switch (c->what) {
  case MAKE_PENDING:
    bench_buf_printf(&req->body,
      POD_HEAD "\"bs-%07ld\",\"namespace\":\"default\"},\"spec\":{"
      POD_CONTAINERS "}}", seq);
    pace(c, seq);
    if (c->sent)
      c->sent[seq] = bench_now();
    break;
  case MAKE_BOUND:
    /* Not "bs-": the watch counts only the pods being scheduled. */
    bench_buf_printf(&req->body,
      POD_HEAD "\"bb-%07ld\",\"namespace\":\"default\"},\"spec\":{"
      "\"nodeName\":\"hollow-%06ld\"," POD_CONTAINERS "}}", seq,
      seq % c->nodes);
    break;
  default:
    bench_buf_printf(&req->body,
      "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":"
      "\"hollow-%06ld\",\"labels\":{\"kubernetes.io/hostname\":"
      "\"hollow-%06ld\"}},\"status\":{\"capacity\":{\"cpu\":\"4\",\"memory\":"
      "\"32Gi\",\"pods\":\"110\"},\"allocatable\":{\"cpu\":\"4\",\"memory\":"
      "\"32Gi\",\"pods\":\"110\"},\"conditions\":[{\"type\":\"Ready\","
      "\"status\":\"True\"}]}}", seq, seq);
  }
  return bench_req_post(req, c->url);
}

/* Creates n objects; *elapsed (if not NULL) gets the seconds it took. */
static int create_all(const char *server, create_ctx *c, long n, long conns,
                      double *elapsed)
{
  static const char *const what[] = {"nodes", "bound pods", "pods"};
  bench_phase ph = {prepare_create, c, 0, n, 0, 201, 0};
  bench_pool *pool = bench_pool_new((int)conns);
  bench_stats st = {0};
  int r = -1;

  c->url = bench_url(server, c->what == MAKE_NODES
                                 ? "/api/v1/nodes"
                                 : "/api/v1/namespaces/default/pods");
  if (c->url && pool && bench_pool_run(pool, &ph, &st) == 0 && st.errors == 0)
    r = 0;
  if (r == 0)
    fprintf(stderr, "created %ld %s in %.2f s\n", n, what[c->what],
            st.elapsed);
  else
    fprintf(stderr, "creating %s failed (%ld errors)\n", what[c->what],
            st.errors);
  if (elapsed)
    *elapsed = st.elapsed;
  bench_stats_free(&st);
  bench_pool_free(pool);
  free(c->url);
  c->url = NULL;
  return r;
}

/* One pod through the plain easy interface: 0 when it answered 201. */
static int create_probe(const char *server)
{
  static const char body[] =
    POD_HEAD "\"bench-probe\",\"namespace\":\"default\"},\"spec\":{"
    POD_CONTAINERS "}}";
  char *url = bench_url(server, "/api/v1/namespaces/default/pods");
  struct curl_slist *h = curl_slist_append(NULL,
                                           "Content-Type: application/json");
  CURL *e = curl_easy_init();
  long status = 0;
  FILE *null = fopen("/dev/null", "w");

  if (url && h && e && null) {
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, null);
    if (curl_easy_perform(e) == CURLE_OK)
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  }
  if (null)
    fclose(null);
  if (e)
    curl_easy_cleanup(e);
  curl_slist_free_all(h);
  free(url);
  return status == 201 ? 0 : -1;
}

/* ---- watching bindings ------------------------------------------------- */

typedef struct watcher {
  char *url;
  long pods;
  unsigned char *bound;   /* one flag per pod */
  double *bound_at;       /* per pod: bench_now() of its binding */
  long n_added, n_bound;  /* guarded by mu */
  long probe_bound;       /* the probe pod was seen bound; guarded by mu */
  double first, last;     /* bench_now() of the first and last binding */
  pthread_mutex_t mu;
  pthread_cond_t cond;
  volatile int stop;
  bench_buf line;
  pthread_t th;
  int running;
} watcher;

static void on_event(watcher *w, const char *ev)
{
  const char *name = strstr(ev, "\"name\":\"bs-");
  long i;

  if (!name) {
    if (strstr(ev, "\"name\":\"bench-probe\"") &&
        strstr(ev, "\"nodeName\":\"")) {
      pthread_mutex_lock(&w->mu);
      w->probe_bound = 1;
      pthread_cond_broadcast(&w->cond);
      pthread_mutex_unlock(&w->mu);
    }
    return;
  }
  i = strtol(name + strlen("\"name\":\"bs-"), NULL, 10);
  if (i < 0 || i >= w->pods)
    return;
  pthread_mutex_lock(&w->mu);
  if (!strncmp(ev, "{\"type\":\"ADDED\"", 15))
    w->n_added++;
  if (strstr(ev, "\"nodeName\":\"") && !w->bound[i]) {
    double now = bench_now();
    w->bound[i] = 1;
    w->bound_at[i] = now;
    if (w->n_bound++ == 0)
      w->first = now;
    w->last = now;
  }
  pthread_cond_broadcast(&w->cond);
  pthread_mutex_unlock(&w->mu);
}
/* Splits the stream into lines (one event each). */
static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
  watcher *w = arg;
  size_t len = size * n, start = 0;

  for (size_t i = 0; i < len; i++) {
    if (p[i] != '\n')
      continue;
    bench_buf_append(&w->line, p + start, i - start);
    if (w->line.len)
      on_event(w, w->line.data);
    bench_buf_reset(&w->line);
    start = i + 1;
  }
  bench_buf_append(&w->line, p + start, len - start);
  return w->stop ? 0 : len;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c,
                       curl_off_t d)
{
  watcher *w = arg;

  (void)a, (void)b, (void)c, (void)d;
  return w->stop;
}

static void *watch_main(void *arg)
{
  watcher *w = arg;
  CURL *easy = curl_easy_init();

  if (!easy)
    return NULL;
  curl_easy_setopt(easy, CURLOPT_URL, w->url);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, w);
  curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(easy, CURLOPT_XFERINFODATA, w);
  curl_easy_perform(easy);
  curl_easy_cleanup(easy);
  return NULL;
}

/* Waits until `cond` holds or the deadline passes; 0 or -1. */
static int wait_until(watcher *w, long *counter, long want, double deadline)
{
  struct timespec ts;
  int ok;

  pthread_mutex_lock(&w->mu);
  while (*counter < want && bench_now() < deadline) {
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 100000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&w->cond, &w->mu, &ts);
  }
  ok = *counter >= want;
  pthread_mutex_unlock(&w->mu);
  return ok ? 0 : -1;
}

/* ---- figures ----------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return (x > y) - (x < y);
}

/* The nearest-rank percentile of v[0..n) (sorted here). */
static double percentile(double *v, long n, int percent)
{
  long rank = (n * percent + 99) / 100;

  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n ? v[rank ? rank - 1 : 0] : 0;
}

/* --stream: each pod's create -> bound latency, in ms, as p50 and p99
 * lines.  Called once the watcher has seen every pod bound, so bound_at
 * is complete; read under mu all the same. */
static int print_latencies(const opts *o, watcher *w, const double *sent)
{
  double *lat = malloc((size_t)o->pods * sizeof *lat);

  if (!lat)
    return -1;
  pthread_mutex_lock(&w->mu);
  for (long i = 0; i < o->pods; i++)
    lat[i] = (w->bound_at[i] - sent[i]) * 1e3;
  pthread_mutex_unlock(&w->mu);
  printf("%s_create_to_bound_p50 %.3f ms\n", o->label,
         percentile(lat, o->pods, 50));
  printf("%s_create_to_bound_p99 %.3f ms\n", o->label,
         percentile(lat, o->pods, 99));
  free(lat);
  return 0;
}

/* Starts kapi-scheduler with its client limits out of the way (the
 * figure is the scheduler's); the pid, or -1. */
static pid_t start_scheduler(const char *scheduler, const char *server,
                             const char *sdir, const char *slog)
{
  char cfg[4096];
  FILE *f;

  snprintf(cfg, sizeof cfg, "%s/sched.yaml", workdir);
  if (!(f = fopen(cfg, "w")))
    return -1;
  fprintf(f, "apiVersion: kubescheduler.config.k8s.io/v1\n"
             "kind: KubeSchedulerConfiguration\n"
             "clientConnection: {qps: 100000, burst: 100000}\n"
             "leaderElection: {leaderElect: false}\n");
  if (fclose(f) != 0)
    return -1;
  {
    char *argv_s[] = {(char *)scheduler, "--master", (char *)server,
                      "--no-default-plugins", "--plugin-dir", (char *)sdir,
                      "--config", cfg, NULL};
    return bench_spawn(argv_s, slog);
  }
}

/* ---- main -------------------------------------------------------------- */

int main(int argc, char **argv)
{
  static const char *const server_plugins[] = {
      "authn/*/.libs/*.so", "authz/*/.libs/*.so", "admission/*/.libs/*.so",
      "registry/*/.libs/*.so", NULL};
  static const char *const sched_plugins[] = {"sched-plugins/*/.libs/*.so",
                                              NULL};
  opts o;
  char apiserver[4096], scheduler[4096], pdir[4096], sdir[4096], data[4096];
  char alog[4096] = "", slog[4096] = "", server[64], cmd[8300];
  pid_t api_pid = 0, sched_pid = 0;
  watcher w;
  create_ctx nodes = {.what = MAKE_NODES}, bound = {.what = MAKE_BOUND},
             pending = {.what = MAKE_PENDING};
  double t0, create_s = 0, *sent = NULL;
  int port, rc = 1;

  if (parse_args(argc, argv, &o) < 0)
    return 2;
  memset(&w, 0, sizeof w);
  snprintf(apiserver, sizeof apiserver, "%s/kapi-apiserver", o.build);
  snprintf(scheduler, sizeof scheduler, "%s/kapi-scheduler", o.build);
  if (access(apiserver, X_OK) < 0 || access(scheduler, X_OK) < 0) {
    fprintf(stderr, "kapi-bench-sched: %s or %s is not built (see --build)\n",
            apiserver, scheduler);
    return 2;
  }
  if (bench_mkdtemp(workdir, sizeof workdir, "sched") < 0)
    return 2;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (plugin_dir(o.build, server_plugins, "plugins", pdir, sizeof pdir) < 0 ||
      plugin_dir(o.build, sched_plugins, "sched", sdir, sizeof sdir) < 0) {
    fprintf(stderr, "kapi-bench-sched: no plugins under %s\n", o.build);
    goto out;
  }
  snprintf(data, sizeof data, "%s/data", workdir);
  snprintf(alog, sizeof alog, "%s/apiserver.log", workdir);
  snprintf(slog, sizeof slog, "%s/scheduler.log", workdir);
  {
    char *argv_api[] = {apiserver, "--data-dir", data, "--insecure-port", "0",
                        "--no-default-plugins", "--plugin-dir", pdir,
                        "--authorization-mode", "AlwaysAllow", "--fsync",
                        "false",
                        /* no controller-manager makes default accounts */
                        "--disable-admission-plugins", "ServiceAccount",
                        NULL};
    api_pid = bench_spawn(argv_api, alog);
  }
  port = api_pid > 0 ? bench_server_port(alog, api_pid) : -1;
  if (port < 0) {
    fprintf(stderr, "kapi-bench-sched: the apiserver did not start (%s)\n",
            alog);
    goto out;
  }
  snprintf(server, sizeof server, "http://127.0.0.1:%d", port);
  bound.nodes = o.nodes;
  if (create_all(server, &nodes, o.nodes, o.connections, NULL) < 0 ||
      (o.bound && create_all(server, &bound, o.bound, o.connections,
                             NULL) < 0) ||
      (!o.stream && create_all(server, &pending, o.pods, o.connections,
                               NULL) < 0))
    goto out;

  /* The watch first: with pre-created pods, its initial ADDED burst says
   * it is in place; when streaming, the probe pod's binding says so. */
  w.pods = o.pods;
  w.bound = calloc((size_t)o.pods, 1);
  w.bound_at = calloc((size_t)o.pods, sizeof *w.bound_at);
  w.url = bench_url(server, "/api/v1/namespaces/default/pods?watch=1");
  pthread_mutex_init(&w.mu, NULL);
  pthread_cond_init(&w.cond, NULL);
  if (!w.bound || !w.bound_at || !w.url ||
      pthread_create(&w.th, NULL, watch_main, &w) != 0)
    goto out;
  w.running = 1;
  if (!o.stream && wait_until(&w, &w.n_added, o.pods, bench_now() + 30) < 0) {
    fprintf(stderr, "kapi-bench-sched: the watch saw %ld of %ld pods\n",
            w.n_added, o.pods);
    goto out;
  }

  t0 = bench_now();
  if ((sched_pid = start_scheduler(scheduler, server, sdir, slog)) <= 0) {
    sched_pid = 0;
    goto out;
  }
  if (o.stream) {
    /* The scheduler has synced and the watch is in place once the probe
     * pod is seen bound; only then do the measured pods go in. */
    if (create_probe(server) < 0 ||
        wait_until(&w, &w.probe_bound, 1, t0 + 30) < 0) {
      fprintf(stderr, "kapi-bench-sched: the probe pod was not bound\n");
      goto out;
    }
    if (!(sent = calloc((size_t)o.pods, sizeof *sent)))
      goto out;
    pending.rate = o.rate;
    pending.sent = sent;
    t0 = bench_now();
    if (create_all(server, &pending, o.pods, o.connections, &create_s) < 0)
      goto out;
  }
  if (wait_until(&w, &w.n_bound, o.pods, t0 + (double)o.timeout) < 0) {
    fprintf(stderr, "kapi-bench-sched: %ld of %ld pods bound after %ld s "
            "(see %s)\n", w.n_bound, o.pods, o.timeout, slog);
    goto out;
  }
  printf("%s_nodes %ld count\n", o.label, o.nodes);
  if (o.bound)
    printf("%s_bound_pods %ld count\n", o.label, o.bound);
  printf("%s_pods %ld count\n", o.label, o.pods);
  printf("%s_pods_per_second %.0f pods/s\n", o.label,
         (double)(o.pods - 1) / (w.last - w.first));
  printf("%s_start_to_all_bound %.2f s\n", o.label, w.last - t0);
  if (o.stream) {
    printf("%s_create_rate %.0f pods/s\n", o.label,
           create_s > 0 ? (double)o.pods / create_s : 0.0);
    if (print_latencies(&o, &w, sent) < 0)
      goto out;
  }
  rc = 0;
out:
  bench_stop(&sched_pid);
  w.stop = 1;
  bench_stop(&api_pid); /* ends the watch stream too */
  if (w.running)
    pthread_join(w.th, NULL);
  free(w.url);
  free(w.bound);
  free(w.bound_at);
  free(sent);
  bench_buf_free(&w.line);
  if (rc != 0) {
    snprintf(cmd, sizeof cmd, "tail -n 20 '%s' '%s' >&2", alog, slog);
    if (system(cmd) != 0)
      fprintf(stderr, "(no logs)\n");
  }
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", workdir);
  if (system(cmd) != 0)
    fprintf(stderr, "cannot remove %s\n", workdir);
  curl_global_cleanup();
  return rc;
}
