/*
 * sched.c - kapi-bench-sched: scheduling throughput of kapi-scheduler.
 *
 * Starts its own kapi-apiserver (fresh data directory, fsync off, the
 * build tree's plugins) on a free loopback port, creates N hollow nodes
 * (plain Node objects with status.allocatable, nothing behind them) and M
 * pending pods, watches the pods, then starts kapi-scheduler and times
 * the bindings as the watch sees them (spec.nodeName appearing).  Prints
 *   scheduler_nodes 1000 count
 *   scheduler_pods 3000 count
 *   scheduler_pods_per_second 2345 pods/s   (first to last binding)
 *   scheduler_start_to_all_bound 1.52 s     (scheduler start to the last)
 * Everything it starts is stopped (by pid) and its directory removed.
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
  long nodes, pods, connections, timeout;
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
    "  --connections N     connections creating them (default 32)\n"
    "  --timeout S         give up after S seconds of scheduling\n"
    "                      (default 120)\n"
    "  -h, --help          this help\n",
    f);
}

static int parse_args(int argc, char **argv, opts *o)
{
  static const struct option longopts[] = {
    {"build", required_argument, NULL, 'b'},
    {"nodes", required_argument, NULL, 'n'},
    {"pods", required_argument, NULL, 'p'},
    {"connections", required_argument, NULL, 'c'},
    {"timeout", required_argument, NULL, 't'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
  int c;

  o->build = getenv("KAPI_BUILD") ? getenv("KAPI_BUILD") : ".";
  o->nodes = 1000;
  o->pods = 3000;
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
  return 0;
}

/* ---- files and processes ----------------------------------------------- */

static char workdir[64];


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

typedef struct create_ctx {
  char *url;
  int pods; /* else nodes */
} create_ctx;

static int prepare_create(bench_req *req, long seq, void *arg)
{
  create_ctx *c = arg;

  bench_buf_reset(&req->body);
  if (c->pods)
    bench_buf_printf(&req->body,
      "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
      "\"bs-%07ld\",\"namespace\":\"default\"},\"spec\":{\"containers\":[{"
      "\"name\":\"c\",\"image\":\"registry.k8s.io/pause:3.10\",\"resources\":"
      "{\"requests\":{\"cpu\":\"10m\",\"memory\":\"10Mi\"}}}]}}", seq);
  else
    bench_buf_printf(&req->body,
      "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":"
      "\"hollow-%06ld\",\"labels\":{\"kubernetes.io/hostname\":"
      "\"hollow-%06ld\"}},\"status\":{\"capacity\":{\"cpu\":\"4\",\"memory\":"
      "\"32Gi\",\"pods\":\"110\"},\"allocatable\":{\"cpu\":\"4\",\"memory\":"
      "\"32Gi\",\"pods\":\"110\"},\"conditions\":[{\"type\":\"Ready\","
      "\"status\":\"True\"}]}}", seq, seq);
  return bench_req_post(req, c->url);
}

static int create_all(const char *server, int pods, long n, long conns)
{
  create_ctx c = {bench_url(server, pods ? "/api/v1/namespaces/default/pods"
                                         : "/api/v1/nodes"), pods};
  bench_phase ph = {prepare_create, &c, 0, n, 0, 201, 0};
  bench_pool *pool = bench_pool_new((int)conns);
  bench_stats st = {0};
  int r = -1;

  if (c.url && pool && bench_pool_run(pool, &ph, &st) == 0 && st.errors == 0)
    r = 0;
  if (r == 0)
    fprintf(stderr, "created %ld %s in %.2f s\n", n, pods ? "pods" : "nodes",
            st.elapsed);
  else
    fprintf(stderr, "creating %s failed (%ld errors)\n",
            pods ? "pods" : "nodes", st.errors);
  bench_stats_free(&st);
  bench_pool_free(pool);
  free(c.url);
  return r;
}

/* ---- watching bindings ------------------------------------------------- */

typedef struct watcher {
  char *url;
  long pods;
  unsigned char *bound;   /* one flag per pod */
  long n_added, n_bound;  /* guarded by mu */
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

  if (!name)
    return;
  i = strtol(name + strlen("\"name\":\"bs-"), NULL, 10);
  if (i < 0 || i >= w->pods)
    return;
  pthread_mutex_lock(&w->mu);
  if (!strncmp(ev, "{\"type\":\"ADDED\"", 15))
    w->n_added++;
  if (strstr(ev, "\"nodeName\":\"") && !w->bound[i]) {
    double now = bench_now();
    w->bound[i] = 1;
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
  char alog[4096] = "", slog[4096] = "", cfg[4096], server[64], cmd[8300];
  pid_t api_pid = 0, sched_pid = 0;
  watcher w;
  double t0;
  int port, rc = 1;
  FILE *f;

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
  snprintf(workdir, sizeof workdir, "/tmp/kapi-bench-sched.XXXXXX");
  if (!mkdtemp(workdir) || chmod(workdir, 0755) < 0) {
    perror("mkdtemp");
    return 2;
  }
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
  if (create_all(server, 0, o.nodes, o.connections) < 0 ||
      create_all(server, 1, o.pods, o.connections) < 0)
    goto out;

  /* The watch first: its initial ADDED burst says it is in place. */
  w.pods = o.pods;
  w.bound = calloc((size_t)o.pods, 1);
  w.url = bench_url(server, "/api/v1/namespaces/default/pods?watch=1");
  pthread_mutex_init(&w.mu, NULL);
  pthread_cond_init(&w.cond, NULL);
  if (!w.bound || !w.url || pthread_create(&w.th, NULL, watch_main, &w) != 0)
    goto out;
  w.running = 1;
  if (wait_until(&w, &w.n_added, o.pods, bench_now() + 30) < 0) {
    fprintf(stderr, "kapi-bench-sched: the watch saw %ld of %ld pods\n",
            w.n_added, o.pods);
    goto out;
  }

  /* Client limits out of the way: the figure is the scheduler's. */
  snprintf(cfg, sizeof cfg, "%s/sched.yaml", workdir);
  f = fopen(cfg, "w");
  if (!f)
    goto out;
  fprintf(f, "apiVersion: kubescheduler.config.k8s.io/v1\n"
             "kind: KubeSchedulerConfiguration\n"
             "clientConnection: {qps: 100000, burst: 100000}\n"
             "leaderElection: {leaderElect: false}\n");
  fclose(f);
  {
    char *argv_s[] = {scheduler, "--master", server, "--no-default-plugins",
                      "--plugin-dir", sdir, "--config", cfg, NULL};
    t0 = bench_now();
    sched_pid = bench_spawn(argv_s, slog);
  }
  if (wait_until(&w, &w.n_bound, o.pods, t0 + (double)o.timeout) < 0) {
    fprintf(stderr, "kapi-bench-sched: %ld of %ld pods bound after %ld s "
            "(see %s)\n", w.n_bound, o.pods, o.timeout, slog);
    goto out;
  }
  printf("scheduler_nodes %ld count\n", o.nodes);
  printf("scheduler_pods %ld count\n", o.pods);
  printf("scheduler_pods_per_second %.0f pods/s\n",
         (double)(o.pods - 1) / (w.last - w.first));
  printf("scheduler_start_to_all_bound %.2f s\n", w.last - t0);
  rc = 0;
out:
  bench_stop(&sched_pid);
  w.stop = 1;
  bench_stop(&api_pid); /* ends the watch stream too */
  if (w.running)
    pthread_join(w.th, NULL);
  free(w.url);
  free(w.bound);
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
