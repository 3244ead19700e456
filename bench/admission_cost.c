/*
 * admission_cost.c - kapi-bench-admission: what the admission chain adds
 * to a pod create.
 *
 * Over HTTP: starts its own kapi-apiserver (the build tree's, fsync off,
 * fresh data directory) once per configuration,
 *   - "none": no admission plugin loaded (the baseline),
 *   - "all": every admission plugin of the build (plus --plugin ones),
 *   - then each plugin alone,
 * sets up namespace bench-adm as the plugins want it (Pod Security
 * "restricted" labels, a LimitRange, a ResourceQuota, a default service
 * account; whatever the build serves), and times N pod creates with
 * dryRun=All (admission without storage) and N real creates, one at a
 * time over one keep-alive connection.  The pod is restricted-compliant,
 * with requests and limits, so every plugin admits it.  The
 * configurations run in interleaved rounds and each figure is the median
 * of the rounds' p50s:
 *   admission.none.create_dryrun_p50_us 93 us
 *   admission.none.create_p50_us 126 us
 *   admission.LimitRanger.create_dryrun_p50_us 107 us
 *   admission.LimitRanger.added_dryrun_p50_us 14 us   (vs "none")
 *   ...
 *
 * In process: loads the "all" configuration's plugins with the plugin
 * loader over the store that server left behind (so store reads find the
 * namespace, limits and quota), and times each admission component's
 * admit+validate on the same pod (dry run) against a bare clone loop:
 *   admission_micro.LimitRanger.admit_validate_ns 12500 ns/op
 * which isolates a plugin's own cost from HTTP, JSON and threads.
 *
 * Everything it starts is stopped (by pid) and its directory removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#include "admission_config.h"
#include "host_server.h"
#include "json.h"
#include "log.h"
#include "plugin_loader.h"
#include "registry.h"
#include "request.h"
#include "server.h"
#include "status.h"
#include "store.h"

#define MAX_PLUGINS 32
#define MAX_COMPONENTS 8
#define NAMESPACE "bench-adm"

typedef struct opts {
  const char *build;
  long requests, real_requests, warmup, iterations, rounds;
  const char *extra[MAX_PLUGINS]; /* --plugin FILE */
  int n_extra;
  const char *admission_config;   /* --admission-config FILE */
  int skip_micro, skip_http;
} opts;

/* One admission plugin file and the components it registers. */
typedef struct adm_plugin {
  char file[256]; /* basename */
  char path[4096];
  char names[MAX_COMPONENTS][64];
  int n;
} adm_plugin;

/* One apiserver configuration and what it measured. */
#define MAX_ROUNDS 15

typedef struct config {
  char label[256];
  int with[MAX_PLUGINS]; /* 1 = that plugin's file is loaded */
  double dryrun_p50_us[MAX_ROUNDS], real_p50_us[MAX_ROUNDS]; /* per round */
  double dryrun_us, real_us; /* medians over the rounds */
  long errors;
} config;

static char workdir[256];
static adm_plugin plugins[MAX_PLUGINS];
static int n_plugins;

static void usage(FILE *f)
{
  fputs(
    "Usage: kapi-bench-admission [options]\n"
    "\n"
    "Measures the cost the admission plugins add to a pod create: over\n"
    "HTTP against kapi-apiserver with none, all and each of them, and in\n"
    "process through the plugin loader.\n"
    "\n"
    "  --build DIR             build tree with kapi-apiserver and the plugins\n"
    "                          (default $KAPI_BUILD, else .)\n"
    "  --requests N            dry-run creates timed per configuration\n"
    "                          (default 2000)\n"
    "  --real-requests N       real creates timed per configuration\n"
    "                          (default 500)\n"
    "  --warmup N              untimed creates before each timed run\n"
    "                          (default 200)\n"
    "  --rounds N              servers per configuration, interleaved; the\n"
    "                          figures are medians over them (default 3)\n"
    "  --iterations N          in-process admit+validate calls per plugin\n"
    "                          (default 20000)\n"
    "  --plugin FILE.so        an extra admission plugin (repeatable), e.g.\n"
    "                          your own\n"
    "  --admission-config FILE AdmissionConfiguration for the plugins that\n"
    "                          need one\n"
    "  --skip-http             only the in-process figures\n"
    "  --skip-micro            only the HTTP figures\n"
    "  -h, --help              this help\n",
    f);
}

static int parse_args(int argc, char **argv, opts *o)
{
  static const struct option longopts[] = {
    {"build", required_argument, NULL, 'b'},
    {"requests", required_argument, NULL, 'n'},
    {"real-requests", required_argument, NULL, 'r'},
    {"warmup", required_argument, NULL, 'w'},
    {"iterations", required_argument, NULL, 'i'},
    {"rounds", required_argument, NULL, 'R'},
    {"plugin", required_argument, NULL, 'p'},
    {"admission-config", required_argument, NULL, 'a'},
    {"skip-http", no_argument, NULL, 'H'},
    {"skip-micro", no_argument, NULL, 'M'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
  int c;

  o->build = getenv("KAPI_BUILD") ? getenv("KAPI_BUILD") : ".";
  o->requests = 2000;
  o->real_requests = 500;
  o->warmup = 200;
  o->iterations = 20000;
  o->rounds = 3;
  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 'b': o->build = optarg; break;
    case 'n':
      if (bench_parse_long("--requests", optarg, 1, 10000000, &o->requests))
        return -1;
      break;
    case 'r':
      if (bench_parse_long("--real-requests", optarg, 0, 10000000,
                           &o->real_requests))
        return -1;
      break;
    case 'w':
      if (bench_parse_long("--warmup", optarg, 0, 10000000, &o->warmup))
        return -1;
      break;
    case 'i':
      if (bench_parse_long("--iterations", optarg, 1, 100000000,
                           &o->iterations))
        return -1;
      break;
    case 'R':
      if (bench_parse_long("--rounds", optarg, 1, MAX_ROUNDS, &o->rounds))
        return -1;
      break;
    case 'p':
      if (o->n_extra == MAX_PLUGINS) {
        fprintf(stderr, "too many --plugin\n");
        return -1;
      }
      o->extra[o->n_extra++] = optarg;
      break;
    case 'a': o->admission_config = optarg; break;
    case 'H': o->skip_http = 1; break;
    case 'M': o->skip_micro = 1; break;
    case 'h': usage(stdout); exit(0);
    default: usage(stderr); return -1;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "unexpected argument '%s'\n", argv[optind]);
    return -1;
  }
  return 0;
}

/* ---- files and processes --------------------------------------------- */


/* A fresh 0755 directory under the work directory. */
static int make_dir(const char *name, char *out, size_t len)
{
  snprintf(out, len, "%s/%s", workdir, name);
  if (mkdir(out, 0755) < 0 || chmod(out, 0755) < 0) {
    fprintf(stderr, "mkdir %s: %s\n", out, strerror(errno));
    return -1;
  }
  return 0;
}

/* Copies every match of build/<pattern> into dir; the number copied. */
static int copy_glob(const char *build, const char *pattern, const char *dir)
{
  char pat[4096], dst[4096];
  glob_t g;
  int n = 0;

  snprintf(pat, sizeof pat, "%s/%s", build, pattern);
  if (glob(pat, 0, NULL, &g) != 0)
    return 0;
  for (size_t i = 0; i < g.gl_pathc; i++)
    if (bench_copy_file(g.gl_pathv[i], dir, dst, sizeof dst) == 0)
      n++;
  globfree(&g);
  return n;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
  (void)st, (void)flag, (void)ftw;
  if (remove(path) < 0)
    fprintf(stderr, "cannot remove %s: %s\n", path, strerror(errno));
  return 0;
}

/* Removes the work directory and all it holds (depth first). */
static void remove_tree(const char *dir)
{
  nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The last n lines of a file, to stderr (the work directory goes away). */
static void print_tail(const char *path, int n)
{
  char lines[20][512];
  int count = 0;
  FILE *f = fopen(path, "r");

  if (n > 20)
    n = 20;
  while (f && fgets(lines[count % n], sizeof lines[0], f))
    count++;
  if (f)
    fclose(f);
  for (int i = count > n ? count - n : 0; i < count; i++)
    fprintf(stderr, "    %s", lines[i % n]);
}

/* ---- discovering the admission plugins ------------------------------- */

/* The admission components one plugin file registers when loaded alone
 * (with cfg, borrowed).  0, or -1 if the loader refuses it. */
static int components_of(adm_plugin *p, const kj *cfg)
{
  kapi_plugins *ps = kapi_plugins_new(cfg);
  char err[1024];
  size_t i, n;

  if (!ps)
    return -1;
  if (kapi_plugins_load_file(ps, p->path, err, sizeof err) < 0) {
    fprintf(stderr, "skipping %s: %s\n", p->file, err);
    kapi_plugins_free(ps);
    return -1;
  }
  n = kapi_plugins_count(ps, KAPI_KIND_ADMISSION);
  for (i = 0; i < n && p->n < MAX_COMPONENTS; i++) {
    const char *name = kapi_plugins_at(ps, KAPI_KIND_ADMISSION, i)->name;
    /* Refuses every create: nothing of a create's cost to measure. */
    if (!strcmp(name, "AlwaysDeny"))
      continue;
    snprintf(p->names[p->n++], sizeof p->names[0], "%s", name);
  }
  kapi_plugins_free(ps);
  if (p->n == 0)
    fprintf(stderr, "skipping %s: no admission component\n", p->file);
  return p->n ? 0 : -1;
}

static void add_plugin_file(const char *src, const char *dir, const kj *cfg)
{
  adm_plugin *p = &plugins[n_plugins];
  const char *base = strrchr(src, '/');

  if (n_plugins == MAX_PLUGINS)
    return;
  memset(p, 0, sizeof *p);
  snprintf(p->file, sizeof p->file, "%s", base ? base + 1 : src);
  if (bench_copy_file(src, dir, p->path, sizeof p->path) < 0) {
    fprintf(stderr, "skipping %s: cannot copy it\n", src);
    return;
  }
  if (components_of(p, cfg) == 0)
    n_plugins++;
}

static int discover(const opts *o, const kj *cfg)
{
  char dir[4096], pat[4096];
  glob_t g;

  if (make_dir("admission", dir, sizeof dir) < 0)
    return -1;
  snprintf(pat, sizeof pat, "%s/admission/*/.libs/*.so", o->build);
  if (glob(pat, 0, NULL, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; i++)
      add_plugin_file(g.gl_pathv[i], dir, cfg);
    globfree(&g);
  }
  for (int i = 0; i < o->n_extra; i++)
    add_plugin_file(o->extra[i], dir, cfg);
  for (int i = 0; i < n_plugins; i++) {
    fprintf(stderr, "admission plugin %s:", plugins[i].file);
    for (int j = 0; j < plugins[i].n; j++)
      fprintf(stderr, " %s", plugins[i].names[j]);
    fputc('\n', stderr);
  }
  return 0;
}

/* ---- HTTP: setting up the namespace ------------------------------------ */

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
  (void)p, (void)arg;
  return size * n;
}

/* POSTs one object; the HTTP status, or -1. */
static long post(const char *server, const char *path, const char *body)
{
  CURL *e = curl_easy_init();
  struct curl_slist *h = curl_slist_append(NULL,
                                           "Content-Type: application/json");
  char *url = bench_url(server, path);
  long status = -1;

  if (e && h && url) {
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 30L);
    if (curl_easy_perform(e) == CURLE_OK)
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  }
  free(url);
  curl_slist_free_all(h);
  if (e)
    curl_easy_cleanup(e);
  return status;
}

/* The namespace and what the plugins read in it.  Resources the build
 * does not serve (404) are skipped: their plugins are not there either. */
static int setup_namespace(const char *server)
{
  static const struct {
    const char *path, *body;
  } objects[] = {
    {"/api/v1/namespaces",
     "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":"
     "\"" NAMESPACE "\",\"labels\":{\"pod-security.kubernetes.io/enforce\":"
     "\"restricted\",\"pod-security.kubernetes.io/enforce-version\":"
     "\"latest\"}}}"},
    {"/api/v1/namespaces/" NAMESPACE "/serviceaccounts",
     "{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\",\"metadata\":"
     "{\"name\":\"default\"}}"},
    {"/api/v1/namespaces/" NAMESPACE "/limitranges",
     "{\"apiVersion\":\"v1\",\"kind\":\"LimitRange\",\"metadata\":{\"name\":"
     "\"limits\"},\"spec\":{\"limits\":[{\"type\":\"Container\",\"default\":"
     "{\"cpu\":\"100m\",\"memory\":\"64Mi\"},\"defaultRequest\":{\"cpu\":"
     "\"10m\",\"memory\":\"16Mi\"},\"max\":{\"cpu\":\"2\",\"memory\":"
     "\"1Gi\"}}]}}"},
    {"/api/v1/namespaces/" NAMESPACE "/resourcequotas",
     "{\"apiVersion\":\"v1\",\"kind\":\"ResourceQuota\",\"metadata\":{\"name\":"
     "\"quota\"},\"spec\":{\"hard\":{\"pods\":\"10000000\",\"requests.cpu\":"
     "\"100000\",\"requests.memory\":\"100000Gi\",\"limits.cpu\":\"100000\","
     "\"limits.memory\":\"100000Gi\"}}}"},
  };
  size_t i;
  long status;

  for (i = 0; i < sizeof objects / sizeof objects[0]; i++) {
    status = post(server, objects[i].path, objects[i].body);
    /* 409: the serviceaccount controller's, or a plugin's, got there. */
    if (status == 201 || status == 200 || status == 409 ||
        (status == 404 && i > 0))
      continue;
    fprintf(stderr, "setting up %s: HTTP %ld\n", objects[i].path, status);
    return -1;
  }
  return 0;
}

/* ---- HTTP: timing creates ---------------------------------------------- */

/* Restricted-compliant, with requests and limits: every plugin admits it. */
static const char pod_format[] =
  "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
  "\"adm-%s-%07ld\",\"labels\":{\"app\":\"bench\"}},\"spec\":{"
  "\"securityContext\":{\"runAsNonRoot\":true,\"runAsUser\":1000,"
  "\"seccompProfile\":{\"type\":\"RuntimeDefault\"}},\"containers\":[{"
  "\"name\":\"app\",\"image\":\"registry.k8s.io/pause:3.10\",\"resources\":{"
  "\"requests\":{\"cpu\":\"10m\",\"memory\":\"16Mi\"},\"limits\":{\"cpu\":"
  "\"100m\",\"memory\":\"64Mi\"}},\"securityContext\":{"
  "\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":[\"ALL\"]}"
  "}}]}}";

typedef struct create_ctx {
  char *url;
  const char *tag; /* keeps names unique across phases */
} create_ctx;

static int prepare_create(bench_req *req, long seq, void *arg)
{
  create_ctx *c = arg;

  bench_buf_reset(&req->body);
  if (bench_buf_printf(&req->body, pod_format, c->tag, seq) < 0)
    return -1;
  return bench_req_post(req, c->url);
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return (x > y) - (x < y);
}

/* Median of the recorded latencies, in microseconds. */
static double p50_us(bench_stats *st)
{
  if (!st->n_latency)
    return 0;
  qsort(st->latency_ms, st->n_latency, sizeof *st->latency_ms, cmp_double);
  return st->latency_ms[(st->n_latency - 1) / 2] * 1e3;
}

/* warmup untimed creates, then n timed ones; *p50 in us.  Returns the
 * number of failed requests, or -1 if the load could not be driven. */
static long time_creates(bench_pool *pool, const char *server, int dry_run,
                         long warmup, long n, double *p50)
{
  create_ctx c = {bench_url(server, dry_run ? "/api/v1/namespaces/" NAMESPACE
                                              "/pods?dryRun=All"
                                            : "/api/v1/namespaces/" NAMESPACE
                                              "/pods"),
                  dry_run ? "d" : "r"};
  bench_phase ph = {prepare_create, &c, 0, warmup, 0, 201, 0};
  bench_stats st = {0};
  long errors = -1;

  *p50 = 0;
  if (!c.url)
    return -1;
  if (warmup > 0) {
    c.tag = dry_run ? "dw" : "rw";
    if (bench_pool_run(pool, &ph, &st) < 0)
      goto out;
    errors = st.errors;
    bench_stats_free(&st);
  }
  c.tag = dry_run ? "d" : "r";
  ph.requests = n;
  ph.record = 1;
  if (bench_pool_run(pool, &ph, &st) < 0)
    goto out;
  errors = (errors > 0 ? errors : 0) + st.errors;
  *p50 = p50_us(&st);
out:
  bench_stats_free(&st);
  free(c.url);
  return errors;
}

/* "A,B,C": every component of the configuration, for
 * --enable-admission-plugins (default-off upstream ones need it). */
static void enable_list(const config *c, char *buf, size_t len)
{
  size_t used = 0;

  buf[0] = '\0';
  for (int i = 0; i < n_plugins; i++)
    for (int j = 0; c->with[i] && j < plugins[i].n; j++)
      used += (size_t)snprintf(buf + used, used < len ? len - used : 0,
                               "%s%s", used ? "," : "", plugins[i].names[j]);
}

/* Starts a server for c, measures, stops it.  data and pdir are left
 * behind (the micro benchmark reuses the "all" ones). */
static int run_config(const opts *o, config *c, int round, int index,
                      char *pdir, char *data, size_t len)
{
  char name[32], apiserver[4096], log[4096], server[64], enable[2048], dst[4096];
  char *argv[20];
  pid_t pid = 0;
  bench_pool *pool = NULL;
  int argc = 0, port, rc = -1;
  long errors;

  snprintf(name, sizeof name, "plugins-%d-%d", round, index);
  if (make_dir(name, pdir, len) < 0)
    return -1;
  copy_glob(o->build, "authn/*/.libs/*.so", pdir);
  copy_glob(o->build, "authz/*/.libs/*.so", pdir);
  if (copy_glob(o->build, "registry/*/.libs/*.so", pdir) == 0) {
    fprintf(stderr, "no registry plugins under %s\n", o->build);
    return -1;
  }
  for (int i = 0; i < n_plugins; i++)
    if (c->with[i] && bench_copy_file(plugins[i].path, pdir, dst, sizeof dst) < 0)
      return -1;
  snprintf(data, len, "%s/data-%d-%d", workdir, round, index);
  snprintf(log, sizeof log, "%s/apiserver-%d-%d.log", workdir, round, index);
  snprintf(apiserver, sizeof apiserver, "%s/kapi-apiserver", o->build);
  enable_list(c, enable, sizeof enable);

  argv[argc++] = apiserver;
  argv[argc++] = "--data-dir";
  argv[argc++] = data;
  argv[argc++] = "--insecure-port";
  argv[argc++] = "0";
  argv[argc++] = "--no-default-plugins";
  argv[argc++] = "--plugin-dir";
  argv[argc++] = pdir;
  argv[argc++] = "--authorization-mode";
  argv[argc++] = "AlwaysAllow";
  argv[argc++] = "--fsync";
  argv[argc++] = "false";
  if (enable[0]) {
    argv[argc++] = "--enable-admission-plugins";
    argv[argc++] = enable;
  }
  if (o->admission_config) {
    argv[argc++] = "--admission-control-config-file";
    argv[argc++] = (char *)o->admission_config;
  }
  argv[argc] = NULL;

  fprintf(stderr, "round %d, %s:%s%s\n", round + 1, c->label,
          enable[0] ? " " : " (no admission)", enable);
  pid = bench_spawn(argv, log);
  port = pid > 0 ? bench_server_port(log, pid) : -1;
  if (port < 0) {
    fprintf(stderr, "the apiserver did not start; its log ends:\n");
    print_tail(log, 20);
    goto out;
  }
  snprintf(server, sizeof server, "http://127.0.0.1:%d", port);
  if (setup_namespace(server) < 0 || !(pool = bench_pool_new(1)))
    goto out;
  errors = time_creates(pool, server, 1, o->warmup, o->requests,
                        &c->dryrun_p50_us[round]);
  if (errors < 0)
    goto out;
  c->errors += errors;
  if (o->real_requests > 0) {
    errors = time_creates(pool, server, 0, o->warmup, o->real_requests,
                          &c->real_p50_us[round]);
    if (errors < 0)
      goto out;
    c->errors += errors;
  }
  rc = 0;
out:
  bench_pool_free(pool);
  bench_stop(&pid);
  return rc;
}

/* Whole microseconds; differences near zero print as 0, never -0. */
static long us(double v)
{
  return (long)(v < 0 ? v - 0.5 : v + 0.5);
}

/* Median of the first n values (n small; v is reordered). */
static double median(double *v, long n)
{
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void summarize(const opts *o, config *c)
{
  c->dryrun_us = median(c->dryrun_p50_us, o->rounds);
  c->real_us = median(c->real_p50_us, o->rounds);
}

static void print_config(const opts *o, const config *c, const config *base)
{
  printf("admission.%s.create_dryrun_p50_us %ld us\n", c->label,
         us(c->dryrun_us));
  if (o->real_requests > 0)
    printf("admission.%s.create_p50_us %ld us\n", c->label,
           us(c->real_us));
  if (base) {
    printf("admission.%s.added_dryrun_p50_us %ld us\n", c->label,
           us(c->dryrun_us - base->dryrun_us));
    if (o->real_requests > 0)
      printf("admission.%s.added_p50_us %ld us\n", c->label,
             us(c->real_us - base->real_us));
  }
  printf("admission.%s.errors %ld count\n", c->label, c->errors);
  fflush(stdout);
}

/* ---- in process ---------------------------------------------------------- */

static double now_ns(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Calls c's admit and validate `n` times, each on a fresh clone of pod
 * (admit may change it); *errors counts refusals.  Elapsed ns.  With c
 * NULL, only the clones: the loop's own cost. */
static double time_component(const kapi_component *c, kapi_req *r,
                             const kj *pod, long n, long *errors)
{
  const kapi_admission_ops *ops = c ? c->ops : NULL;
  kapi_error e;
  double t0;
  long i;
  int rc;

  kapi_error_init(&e);
  *errors = 0;
  t0 = now_ns();
  for (i = 0; i < n; i++) {
    kj *obj = kj_clone(pod);
    rc = 0;
    if (ops && ops->admit)
      rc = ops->admit(c->st, r, obj, &e);
    if (ops && rc == 0 && ops->validate)
      rc = ops->validate(c->st, r, obj, &e);
    if (rc < 0) {
      if (++*errors == 1)
        fprintf(stderr, "%s refused the pod: %s\n", c->name,
                e.message ? e.message : "(no message)");
      kapi_error_clear(&e);
    }
    kj_free(obj);
  }
  return now_ns() - t0;
}

/*
 * The clone loop alone costs about as much as a cheap plugin, and a
 * shared machine's hiccups cost more: time both in alternating blocks
 * and keep each one's fastest block (noise only ever adds).  *base and
 * *with are ns per iteration; *errors counts c's refusals.
 */
#define MICRO_BLOCKS 10

static void time_blocks(const kapi_component *c, kapi_req *r, const kj *pod,
                        long iterations, double *base, double *with,
                        long *errors)
{
  long block = iterations / MICRO_BLOCKS > 0 ? iterations / MICRO_BLOCKS : 1;
  long e;
  double t;

  *base = *with = -1;
  *errors = 0;
  for (int b = 0; b < MICRO_BLOCKS; b++) {
    t = time_component(NULL, r, pod, block, &e) / (double)block;
    if (*base < 0 || t < *base)
      *base = t;
    t = time_component(c, r, pod, block, &e) / (double)block;
    if (*with < 0 || t < *with)
      *with = t;
    *errors += e;
  }
}

/* The pod as the handler chain hands it to admission (defaults applied
 * or not makes little difference to the plugins' work). */
static kj *sample_pod(void)
{
  char json[2048], err[256];
  kj *pod = NULL;

  snprintf(json, sizeof json, pod_format, "m", 0L);
  if (kj_parse(json, strlen(json), &pod, err, sizeof err) < 0)
    return NULL;
  kj_set_str(kj_get(pod, "metadata"), "namespace", NAMESPACE);
  return pod;
}

static void run_micro(const opts *o, const char *pdir, const char *data)
{
  kapi_store_options so = {.dir = data, .fsync = 0};
  kapi_registry reg = {0};
  kapi_server srv = {0};
  kapi_store *store = NULL;
  kapi_plugins *ps = NULL;
  kapi_req r;
  kj *cfg = kj_object(), *pod = sample_pod();
  char err[1024], user[] = "{\"username\":\"bench-user\",\"uid\":\"u1\","
                          "\"groups\":[\"system:authenticated\"],"
                          "\"extra\":{}}";
  long errors;
  size_t i, n;

  if (!cfg || !pod)
    goto out;
  if (o->admission_config &&
      kapi_admission_config_read(o->admission_config, cfg, err,
                                 sizeof err) < 0) {
    fprintf(stderr, "%s\n", err);
    goto out;
  }
  ps = kapi_plugins_new(cfg);
  if (!ps || kapi_plugins_load_dir(ps, pdir, err, sizeof err) < 0 ||
      kapi_plugins_assemble(ps, NULL, 0, err, sizeof err) < 0 ||
      kapi_registry_build(&reg, ps, err, sizeof err) < 0 ||
      kapi_store_open(&so, &store, err, sizeof err) < 0) {
    fprintf(stderr, "in-process setup: %s\n", err);
    goto out;
  }
  srv.store = store;
  srv.plugins = ps;
  srv.registry = &reg;
  kapi_host_bind_server(&srv);
  kapi_host_set_store_get(kapi_host_store_get);

  memset(&r, 0, sizeof r);
  r.method = "POST";
  r.is_resource_request = 1;
  r.verb = "create";
  r.api_prefix = "api";
  r.api_group = "";
  r.api_version = "v1";
  r.namespace_ = NAMESPACE;
  r.resource = "pods";
  r.operation = "CREATE";
  r.dry_run = 1; /* plugins that write (quota usage) must not */
  r.srv = &srv;
  r.res = kapi_registry_find(&reg, "", "v1", "pods");
  r.now = time(NULL);
  if (kj_parse(user, strlen(user), &r.user, err, sizeof err) < 0)
    goto out;

  n = kapi_plugins_count(ps, KAPI_KIND_ADMISSION);
  for (i = 0; i < n; i++) {
    const kapi_component *c = kapi_plugins_at(ps, KAPI_KIND_ADMISSION, i);
    const kapi_admission_ops *ops = c->ops;
    double base, t;

    if (!(ops->handles & KAPI_OP_CREATE)) {
      fprintf(stderr, "%s does not handle CREATE: not timed\n", c->name);
      continue;
    }
    time_blocks(c, &r, pod, o->iterations, &base, &t, &errors);
    if (i == 0)
      printf("admission_micro.clone_only %.0f ns/op\n", base);
    printf("admission_micro.%s.admit_validate_ns %.0f ns/op\n", c->name,
           t - base);
    printf("admission_micro.%s.errors %ld count\n", c->name, errors);
    fflush(stdout);
  }
  kj_free(r.user);
  kj_free(r.audit_annotations); /* what plugins added, as a request owns */
out:
  kapi_host_bind_server(NULL);
  kapi_host_set_store_get(NULL);
  if (store)
    kapi_store_close(store);
  kapi_registry_free(&reg);
  kapi_plugins_free(ps);
  kj_free(pod);
  kj_free(cfg);
}

/* ---- main ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
  static config configs[2 + MAX_PLUGINS];
  char apiserver[4096], pdir_all[4096] = "", data_all[4096] = "";
  char pdir[4096], data[4096], err[1024];
  int n_configs = 0, rc = 1;
  kj *cfg = NULL;
  opts o;

  memset(&o, 0, sizeof o);
  if (parse_args(argc, argv, &o) < 0)
    return 2;
  snprintf(apiserver, sizeof apiserver, "%s/kapi-apiserver", o.build);
  if (access(apiserver, X_OK) < 0) {
    fprintf(stderr, "kapi-bench-admission: %s is not built (see --build)\n",
            apiserver);
    return 2;
  }
  if (bench_mkdtemp(workdir, sizeof workdir, "admission") < 0)
    return 2;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  cfg = kj_object();
  if (!cfg || (o.admission_config &&
               kapi_admission_config_read(o.admission_config, cfg, err,
                                          sizeof err) < 0)) {
    fprintf(stderr, "%s\n", cfg ? err : "out of memory");
    goto out;
  }
  if (discover(&o, cfg) < 0)
    goto out;
  if (n_plugins == 0)
    fprintf(stderr, "no admission plugins found: only the baseline\n");

  /* none, all, then each alone. */
  snprintf(configs[n_configs++].label, sizeof configs[0].label, "none");
  if (n_plugins > 1) {
    config *all = &configs[n_configs++];
    snprintf(all->label, sizeof all->label, "all");
    for (int i = 0; i < n_plugins; i++)
      all->with[i] = 1;
  }
  for (int i = 0; i < n_plugins; i++) {
    config *one = &configs[n_configs++];
    snprintf(one->label, sizeof one->label, "%s", plugins[i].names[0]);
    for (int j = 1; j < plugins[i].n; j++)
      snprintf(one->label + strlen(one->label),
               sizeof one->label - strlen(one->label), "+%s",
               plugins[i].names[j]);
    one->with[i] = 1;
  }
  printf("admission.plugins %d count\n", n_plugins);

  /* Rounds interleave the configurations, so that a slow spell of a
   * shared machine spreads over all of them instead of one. */
  for (int r = 0; r < o.rounds && !o.skip_http; r++)
    for (int i = 0; i < n_configs; i++) {
      if (run_config(&o, &configs[i], r, i, pdir, data, sizeof pdir) < 0)
        goto out;
      /* The configuration with every plugin serves the micro benchmark. */
      if (i == 1 || n_configs == 2) {
        snprintf(pdir_all, sizeof pdir_all, "%s", pdir);
        snprintf(data_all, sizeof data_all, "%s", data);
      }
    }
  for (int i = 0; i < n_configs && !o.skip_http; i++) {
    summarize(&o, &configs[i]);
    print_config(&o, &configs[i], i ? &configs[0] : NULL);
  }
  if (!o.skip_micro && n_plugins > 0) {
    if (!data_all[0]) {
      /* --skip-http: one server run only to lay out the namespace. */
      config *all = &configs[n_configs > 2 ? 1 : n_configs - 1];
      long saved = o.requests, saved_real = o.real_requests;
      o.requests = 1;
      o.real_requests = 0;
      if (run_config(&o, all, 0, 99, pdir_all, data_all, sizeof pdir_all) < 0)
        goto out;
      o.requests = saved;
      o.real_requests = saved_real;
    }
    run_micro(&o, pdir_all, data_all);
  }
  /* Figures from failed requests are no figures: say so in the status. */
  rc = 0;
  for (int i = 0; i < n_configs; i++)
    if (configs[i].errors)
      rc = 1;
out:
  kj_free(cfg);
  curl_global_cleanup();
  remove_tree(workdir);
  return rc;
}
