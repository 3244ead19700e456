/*
 * apiserver.c - a private kapi-apiserver for one benchmark run (see
 * apiserver.h), and bulk loading through the load generator pool.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_setaffinity */
#endif
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "apiserver.h"

/* ---- options ------------------------------------------------------------ */

static int parse_bool(const char *s, int *ret)
{
  if (!strcasecmp(s, "true") || !strcmp(s, "1")) {
    *ret = 1;
    return 0;
  }
  if (!strcasecmp(s, "false") || !strcmp(s, "0")) {
    *ret = 0;
    return 0;
  }
  return -1;
}

void bench_server_opts_init(bench_server_opts *o)
{
  const char *b = getenv("KAPI_BUILD"), *f = getenv("FSYNC"),
             *p = getenv("PIN");

  o->build = b && *b ? b : ".";
  o->fsync = 1;
  if (f && parse_bool(f, &o->fsync) < 0)
    o->fsync = 1;
  o->pin = p && !strcmp(p, "1");
}

int bench_server_opt(bench_server_opts *o, int c, const char *arg)
{
  switch (c) {
  case 'B':
    o->build = arg;
    return 1;
  case 'F':
    if (parse_bool(arg, &o->fsync) < 0) {
      fprintf(stderr, "--fsync: want true or false, not '%s'\n", arg);
      return -1;
    }
    return 1;
  case 'P':
    o->pin = 1;
    return 1;
  default:
    return 0;
  }
}

/* ---- files ---------------------------------------------------------------- */


static int copy_plugins(const bench_apiserver *s)
{
  static const char *const patterns[] = {
    "authn/*/.libs/*.so", "authz/*/.libs/*.so", "admission/*/.libs/*.so",
    "registry/*/.libs/*.so",
  };
  size_t copied = 0;

  if (mkdir(s->plugins, 0755) < 0)
    return -1;
  for (size_t i = 0; i < sizeof patterns / sizeof *patterns; i++) {
    char pat[4096];
    glob_t g;

    snprintf(pat, sizeof pat, "%s/%s", s->build, patterns[i]);
    if (glob(pat, 0, NULL, &g) != 0)
      continue;
    for (size_t j = 0; j < g.gl_pathc; j++)
      if (bench_copy_file(g.gl_pathv[j], s->plugins, NULL, 0) == 0)
        copied++;
    globfree(&g);
  }
  return copied ? 0 : -1;
}

int bench_apiserver_init(bench_apiserver *s, const bench_server_opts *o,
                         const char *name)
{
  char lib[4096], *old = getenv("LD_LIBRARY_PATH");

  memset(s, 0, sizeof *s);
  s->build = o->build;
  s->fsync = o->fsync;
  s->server_cpu = o->pin ? 1 : -1;
  if (bench_mkdtemp(s->dir, sizeof s->dir, name) < 0)
    return -1;
  snprintf(s->plugins, sizeof s->plugins, "%s/plugins", s->dir);
  snprintf(s->data, sizeof s->data, "%s/data", s->dir);
  snprintf(s->log, sizeof s->log, "%s/apiserver.log", s->dir);
  if (copy_plugins(s) < 0) {
    fprintf(stderr, "kapi-bench: no plugins under %s (see --build)\n",
            s->build);
    return -1;
  }
  /* The real binary behind libtool's wrapper script, so that start-up
   * times do not include a shell; it needs the build tree's libkapi
   * (its rpath points at the install directory). */
  snprintf(lib, sizeof lib, "%s/core/.libs%s%s", s->build, old ? ":" : "",
           old ? old : "");
  setenv("LD_LIBRARY_PATH", lib, 1);
  if (o->pin && bench_pin_self(0) < 0)
    fprintf(stderr, "kapi-bench: cannot pin to CPU 0; not pinned\n");
  return 0;
}

/* ---- processes ------------------------------------------------------------ */

int bench_pin_self(int cpu)
{
  cpu_set_t set;

  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set) < 0 ? -1 : 0;
}

/* A free loopback port: bound and released, so another process could in
 * theory take it first, which the start then reports. */
static int free_port(void)
{
  struct sockaddr_in a = { .sin_family = AF_INET };
  socklen_t len = sizeof a;
  int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0)
    return -1;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
      getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

/* One GET /readyz on a fresh connection: 1 when it answered 200. */
static int probe_ready(int port)
{
  static const char req[] =
    "GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
  char buf[64];
  ssize_t n;
  size_t got = 0;
  int fd = socket(AF_INET, SOCK_STREAM, 0), ok = 0;

  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0)
    return 0;
  if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
      write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1)) {
    while (got < 12 && (n = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
      got += (size_t)n;
    buf[got] = '\0';
    ok = !strncmp(buf, "HTTP/1.1 200", 12);
  }
  close(fd);
  return ok;
}

static void show_log_tail(const bench_apiserver *s)
{
  char cmd[512];

  snprintf(cmd, sizeof cmd, "tail -n 20 '%s' >&2", s->log);
  if (system(cmd) != 0)
    fprintf(stderr, "(no log)\n");
}

/* What the server says of its own start-up: "... ready in 11.8 ms)"
 * on its serving line; -1 if it does not say. */
static double logged_ready_ms(const char *log)
{
  static const char marker[] = "ready in ";
  char line[1024];
  double ms = -1;
  FILE *f = fopen(log, "r");

  while (f && fgets(line, sizeof line, f)) {
    char *p = strstr(line, "serving on ");

    if (p && (p = strstr(p, marker)))
      ms = strtod(p + sizeof marker - 1, NULL);
  }
  if (f)
    fclose(f);
  return ms;
}

static pid_t spawn_pinned(bench_apiserver *s, char *const argv[])
{
  pid_t pid;

  /* The child inherits our affinity: take the server's CPU for the
   * fork, then go back to ours. */
  if (s->server_cpu >= 0)
    bench_pin_self(s->server_cpu);
  pid = bench_spawn(argv, s->log);
  if (s->server_cpu >= 0)
    bench_pin_self(0);
  return pid;
}

int bench_apiserver_start(bench_apiserver *s, double timeout,
                          double *ready_ms)
{
  char bin[4096], port_s[16];
  int port = free_port();
  double t0, deadline;

  snprintf(bin, sizeof bin, "%s/.libs/kapi-apiserver", s->build);
  if (access(bin, X_OK) < 0)
    snprintf(bin, sizeof bin, "%s/kapi-apiserver", s->build);
  if (port < 0 || (mkdir(s->data, 0755) < 0 && errno != EEXIST))
    return -1;
  snprintf(port_s, sizeof port_s, "%d", port);
  /* A log per start: the port check below reads the last one's. */
  if (truncate(s->log, 0) < 0 && errno != ENOENT)
    return -1;
  {
    char *argv[] = { bin, "--data-dir", s->data, "--insecure-port", port_s,
                     "--no-default-plugins", "--plugin-dir", s->plugins,
                     "--authorization-mode", "AlwaysAllow",
                     /* no controller-manager makes default accounts */
                     "--disable-admission-plugins", "ServiceAccount",
                     "--fsync", s->fsync ? "true" : "false", NULL };
    t0 = bench_now();
    s->pid = spawn_pinned(s, argv);
  }
  if (s->pid < 0) {
    s->pid = 0;
    return -1;
  }
  deadline = t0 + timeout;
  while (!probe_ready(port)) {
    if (waitpid(s->pid, NULL, WNOHANG) == s->pid || bench_now() > deadline) {
      fprintf(stderr, "kapi-bench: the apiserver did not become ready; "
              "its log (%s) ends:\n", s->log);
      show_log_tail(s);
      if (waitpid(s->pid, NULL, WNOHANG) == 0)
        bench_stop(&s->pid);
      s->pid = 0;
      return -1;
    }
    usleep(500);
  }
  if (ready_ms)
    *ready_ms = (bench_now() - t0) * 1e3;
  /* The port was free when we looked: make sure it was ours who
   * answered, not another process that took it meanwhile. */
  if (bench_server_port(s->log, s->pid) != port) {
    fprintf(stderr, "kapi-bench: the apiserver is not serving on port %d\n",
            port);
    bench_stop(&s->pid);
    return -1;
  }
  s->logged_ready_ms = logged_ready_ms(s->log);
  snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", port);
  return 0;
}

void bench_apiserver_stop(bench_apiserver *s)
{
  bench_stop(&s->pid);
}

void bench_apiserver_free(bench_apiserver *s)
{
  char cmd[512];

  bench_apiserver_stop(s);
  if (!s->dir[0])
    return;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
  if (system(cmd) != 0)
    fprintf(stderr, "kapi-bench: cannot remove %s\n", s->dir);
  s->dir[0] = '\0';
}

long bench_proc_kb(pid_t pid, const char *field)
{
  char path[64], line[256];
  size_t n = strlen(field);
  long kb = -1;
  FILE *f;

  snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
  if (!(f = fopen(path, "r")))
    return -1;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, field, n) && line[n] == ':') {
      kb = strtol(line + n + 1, NULL, 10);
      break;
    }
  fclose(f);
  return kb;
}

/* ---- loading ---------------------------------------------------------------- */

int bench_create_n(bench_prepare_fn prepare, void *arg, long first, long n,
                   int conns, const char *what)
{
  bench_phase ph = { .prepare = prepare, .arg = arg, .first_seq = first,
                     .requests = n, .expect_status = 201 };
  bench_pool *pool = bench_pool_new(conns);
  bench_stats st = { 0 };
  int r = -1;

  if (pool && bench_pool_run(pool, &ph, &st) == 0 && st.errors == 0)
    r = 0;
  if (r == 0)
    fprintf(stderr, "created %ld %s in %.2f s (%.0f/s)\n", n, what,
            st.elapsed, st.elapsed > 0 ? n / st.elapsed : 0.0);
  else
    fprintf(stderr, "creating %s failed (%ld of %ld)\n", what, st.errors, n);
  bench_stats_free(&st);
  bench_pool_free(pool);
  return r;
}

typedef struct ns_ctx {
  char *url;
  const char *name;
} ns_ctx;

static int prepare_namespace(bench_req *req, long seq, void *arg)
{
  ns_ctx *c = arg;

  (void)seq;
  bench_buf_reset(&req->body);
  if (bench_buf_printf(&req->body,
                       "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                       "\"metadata\":{\"name\":\"%s\"}}", c->name) < 0)
    return -1;
  return bench_req_post(req, c->url);
}

int bench_create_namespace(const char *server, const char *name)
{
  ns_ctx c = { bench_url(server, "/api/v1/namespaces"), name };
  bench_phase ph = { .prepare = prepare_namespace, .arg = &c, .requests = 1,
                     .expect_status = 201 };
  bench_pool *pool = c.url ? bench_pool_new(1) : NULL;
  bench_stats st = { 0 };
  int r = -1;

  if (pool && bench_pool_run(pool, &ph, &st) == 0 && st.errors == 0)
    r = 0;
  bench_stats_free(&st);
  bench_pool_free(pool);
  free(c.url);
  if (r < 0)
    fprintf(stderr, "cannot create namespace %s\n", name);
  return r;
}
