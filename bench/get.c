/*
 * get.c - kapi-bench-get: latency and throughput of GETting one object
 * over N keep-alive HTTP/1.1 connections (http:// or https://), for a
 * duration or a count.
 *
 * By default it creates its own ~1.5 KB Pod in namespace default, reads
 * it back again and again, and deletes it at the end; --path reads an
 * existing object instead.  Prints:
 *   get_c16_throughput 45678 req/s
 *   get_c16_p50 0.310 ms
 *   get_c16_p99 0.900 ms
 *   get_c16_errors 0 count
 * Anything but 200 OK is an error; the first one is shown on stderr.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

typedef struct get_opts {
  bench_load_opts load;
  const char *path;
  double duration;
} get_opts;

/* The URL every request of a phase goes to, and the pod to create. */
typedef struct get_target {
  char *url;
  char name[96];
} get_target;

static void usage(FILE *f)
{
  fputs(
    "Usage: kapi-bench-get [options]\n"
    "\n"
    "GETs one object over keep-alive connections, one request in flight\n"
    "per connection, and prints throughput and latency percentiles as\n"
    "`name value unit` lines.\n"
    "\n"
    "  --server URL        API server (default http://127.0.0.1:8080)\n"
    "  --connections N     concurrent connections (default 16)\n"
    "  --duration SECONDS  how long to time (default 5, unless --requests)\n"
    "  --requests N        how many GETs to time (instead of a duration)\n"
    "  --warmup N          untimed GETs first (default 1000)\n"
    "  --path PATH         object to read, e.g.\n"
    "                      /api/v1/namespaces/default/pods/web-0 (default:\n"
    "                      create a Pod, read it, delete it afterwards)\n"
    BENCH_LOAD_USAGE
    "  -h, --help          this help\n"
    "\n"
    "Exits 1 if any GET did not answer 200.\n",
    f);
}

static int parse_args(int argc, char **argv, get_opts *o)
{
  static const struct option longopts[] = {
    BENCH_LOAD_LONGOPTS,
    { "duration", required_argument, NULL, 'd' },
    { "path", required_argument, NULL, 'p' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c, r;

  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    if ((r = bench_load_opt(&o->load, c, optarg, 1000000000L)) < 0)
      return -1;
    if (r)
      continue;
    switch (c) {
    case 'p': o->path = optarg; break;
    case 'd':
      if (bench_parse_seconds("--duration", optarg, &o->duration) < 0)
        return -1;
      break;
    case 'h': usage(stdout); exit(0);
    default: return -1;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "unexpected argument '%s'\n", argv[optind]);
    return -1;
  }
  if (o->path && o->path[0] != '/') {
    fprintf(stderr, "--path must start with '/'\n");
    return -1;
  }
  if (!o->load.requests && !o->duration)
    o->duration = 5;
  return bench_load_check(&o->load);
}

static int prepare_create(bench_req *req, long seq, void *arg)
{
  get_target *t = arg;

  (void)seq;
  if (bench_pod_json(&req->body, "default", t->name) < 0)
    return -1;
  return bench_req_post(req, t->url);
}

static int prepare_get(bench_req *req, long seq, void *arg)
{
  (void)seq;
  return bench_req_get(req, ((get_target *)arg)->url);
}

static int prepare_delete(bench_req *req, long seq, void *arg)
{
  (void)seq;
  return bench_req_delete(req, ((get_target *)arg)->url);
}

/* Runs a single request through the pool; 0 if it answered `status`. */
static int request_once(bench_pool *pool, bench_prepare_fn prepare,
                        get_target *t, long status)
{
  bench_phase ph = { .prepare = prepare, .arg = t, .requests = 1,
                     .expect_status = status };
  bench_stats st;
  int rc = bench_pool_run(pool, &ph, &st);

  if (rc == 0 && st.errors)
    rc = -1;
  bench_stats_free(&st);
  return rc;
}

/* Creates the pod to read; t->url ends up naming it. */
static int create_target(bench_pool *pool, const get_opts *o, get_target *t)
{
  char prefix[64], path[256];

  bench_unique_prefix(prefix, sizeof prefix);
  snprintf(t->name, sizeof t->name, "%s-get", prefix);
  t->url = bench_url(o->load.server, "/api/v1/namespaces/default/pods");
  if (!t->url || request_once(pool, prepare_create, t, 201) < 0) {
    fprintf(stderr, "cannot create the pod to read\n");
    free(t->url);
    t->url = NULL;
    return -1;
  }
  free(t->url);
  snprintf(path, sizeof path, "/api/v1/namespaces/default/pods/%s", t->name);
  t->url = bench_url(o->load.server, path);
  return t->url ? 0 : -1;
}

static int run(const void *arg)
{
  const get_opts *o = arg;
  get_target t = { 0 };
  bench_phase ph = { .prepare = prepare_get, .arg = &t, .expect_status = 200 };
  bench_pool *pool = bench_pool_new_auth((int)o->load.connections,
                                         &o->load.auth);
  char label[64];
  int rc = 1, created = 0;

  if (!pool)
    return 1;
  if (o->path)
    t.url = bench_url(o->load.server, o->path);
  else if (create_target(pool, o, &t) == 0)
    created = 1;
  if (!t.url)
    goto out;
  ph.requests = o->load.requests;
  ph.duration = o->load.requests ? 0 : o->duration;
  snprintf(label, sizeof label, "get_c%ld", o->load.connections);
  rc = bench_run_measured(pool, &ph, o->load.warmup, "GETs", label,
                          (int)o->load.connections) != 0;
out:
  /* Leave the server as we found it. */
  if (created && request_once(pool, prepare_delete, &t, 200) < 0)
    fprintf(stderr, "could not delete pod %s\n", t.name);
  bench_pool_free(pool);
  free(t.url);
  return rc;
}

int main(int argc, char **argv)
{
  get_opts o = { .load = { .server = "http://127.0.0.1:8080",
                          .connections = 16, .warmup = 1000 } };

  if (parse_args(argc, argv, &o) < 0) {
    usage(stderr);
    return 2;
  }
  return bench_with_curl(run, &o);
}
