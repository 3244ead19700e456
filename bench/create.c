/*
 * create.c - kapi-bench-create: create throughput and latency over N
 * keep-alive HTTP/1.1 connections.
 *
 * Every request creates a new object under a unique name (a realistic
 * ~1.5 KB Pod in namespace default, or a Namespace), so the server does
 * the full create path each time: decode, admission, validation, store
 * commit (fsync'ed if the server has fsync on), encode.  Prints:
 *   create_pod_c16_throughput 12345 req/s
 *   create_pod_c16_p50 0.840 ms
 *   create_pod_c16_p99 3.100 ms
 *   create_pod_c16_errors 0 count
 * Anything but 201 Created is an error; the first one is shown on stderr.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

typedef struct create_opts {
  const char *server;
  const char *kind;
  const char *prefix;
  long connections, requests, warmup;
} create_opts;

typedef struct create_ctx {
  const char *prefix;
  int is_pod;
  char *url;
} create_ctx;

static void usage(FILE *f)
{
  fputs(
    "Usage: kapi-bench-create [options]\n"
    "\n"
    "Creates objects over keep-alive connections, one request in flight\n"
    "per connection, and prints throughput and latency percentiles as\n"
    "`name value unit` lines.\n"
    "\n"
    "  --server URL        API server (default http://127.0.0.1:8080)\n"
    "  --connections N     concurrent connections (default 16)\n"
    "  --requests N        creates to time (default 20000)\n"
    "  --warmup N          untimed creates first (default 0)\n"
    "  --kind pod|namespace  what to create (default pod; pods go to\n"
    "                      namespace default)\n"
    "  --name-prefix P     object name prefix (default unique per run)\n"
    "  -h, --help          this help\n"
    "\n"
    "Exits 1 if any create did not answer 201.\n",
    f);
}

static int parse_args(int argc, char **argv, create_opts *o)
{
  static const struct option longopts[] = {
    { "server", required_argument, NULL, 's' },
    { "connections", required_argument, NULL, 'c' },
    { "requests", required_argument, NULL, 'n' },
    { "warmup", required_argument, NULL, 'w' },
    { "kind", required_argument, NULL, 'k' },
    { "name-prefix", required_argument, NULL, 'p' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    switch (c) {
    case 's': o->server = optarg; break;
    case 'k': o->kind = optarg; break;
    case 'p': o->prefix = optarg; break;
    case 'c':
      if (bench_parse_long("--connections", optarg, 1, 4096,
                           &o->connections) < 0)
        return -1;
      break;
    case 'n':
      if (bench_parse_long("--requests", optarg, 1, 100000000L,
                           &o->requests) < 0)
        return -1;
      break;
    case 'w':
      if (bench_parse_long("--warmup", optarg, 0, 100000000L, &o->warmup) < 0)
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
  if (strcmp(o->kind, "pod") && strcmp(o->kind, "namespace")) {
    fprintf(stderr, "--kind: want pod or namespace, not '%s'\n", o->kind);
    return -1;
  }
  return 0;
}

static int prepare_create(bench_req *req, long seq, void *arg)
{
  create_ctx *c = arg;
  char name[128];
  int rc;

  snprintf(name, sizeof name, "%s-%ld", c->prefix, seq);
  bench_buf_reset(&req->body);
  if (c->is_pod)
    rc = bench_pod_json(&req->body, "default", name);
  else
    rc = bench_buf_printf(&req->body,
                          "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                          "\"metadata\":{\"name\":\"%s\",\"labels\":"
                          "{\"team\":\"bench\",\"env\":\"test\"}}}",
                          name);
  if (rc < 0)
    return -1;
  return bench_req_post(req, c->url);
}

static int run(const create_opts *o)
{
  char unique[64], label[64];
  create_ctx ctx = { .prefix = o->prefix, .is_pod = !strcmp(o->kind, "pod") };
  bench_phase ph = { .prepare = prepare_create, .arg = &ctx,
                     .expect_status = 201 };
  bench_stats st = { 0 };
  bench_pool *pool = NULL;
  int rc = 1;

  if (!ctx.prefix) {
    bench_unique_prefix(unique, sizeof unique);
    ctx.prefix = unique;
  }
  ctx.url = bench_url(o->server, ctx.is_pod
                                      ? "/api/v1/namespaces/default/pods"
                                      : "/api/v1/namespaces");
  pool = bench_pool_new((int)o->connections);
  if (!ctx.url || !pool)
    goto out;
  if (o->warmup > 0) {
    ph.requests = o->warmup;
    if (bench_pool_run(pool, &ph, &st) < 0)
      goto out;
    if (st.errors)
      fprintf(stderr, "warmup: %ld of %ld creates failed\n", st.errors,
              o->warmup);
    bench_stats_free(&st);
  }
  ph.first_seq = o->warmup;
  ph.requests = o->requests;
  ph.record = 1;
  if (bench_pool_run(pool, &ph, &st) < 0)
    goto out;
  snprintf(label, sizeof label, "create_%s_c%ld", o->kind, o->connections);
  bench_stats_print(&st, label, (int)o->connections);
  rc = st.errors ? 1 : 0;
out:
  bench_stats_free(&st);
  bench_pool_free(pool);
  free(ctx.url);
  return rc;
}

int main(int argc, char **argv)
{
  create_opts o = { .server = "http://127.0.0.1:8080", .kind = "pod",
                    .connections = 16, .requests = 20000 };
  CURLcode cc;
  int rc;

  if (parse_args(argc, argv, &o) < 0) {
    usage(stderr);
    return 2;
  }
  cc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (cc != CURLE_OK) {
    fprintf(stderr, "curl_global_init: %s\n", curl_easy_strerror(cc));
    return 1;
  }
  rc = run(&o);
  curl_global_cleanup();
  return rc;
}
