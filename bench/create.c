/*
 * create.c - kapi-bench-create: create throughput and latency over N
 * keep-alive HTTP/1.1 connections (http:// or https://).
 *
 * Every request creates a new object under a unique name (a realistic
 * ~1.5 KB Pod or a ConfigMap with a 100-byte value, in namespace
 * default, or a Namespace), so the server does the full create path each
 * time: decode, admission, validation, store commit (fsync'ed if the
 * server has fsync on), encode.  Prints:
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

/* What --kind can create: where it is posted and its body. */
typedef struct create_kind {
  const char *name;
  const char *path;
  int (*body)(bench_buf *b, const char *name);
} create_kind;

typedef struct create_opts {
  bench_load_opts load;
  const create_kind *kind;
  const char *prefix;
} create_opts;

typedef struct create_ctx {
  const char *prefix;
  const create_kind *kind;
  char *url;
} create_ctx;

static int pod_body(bench_buf *b, const char *name)
{
  return bench_pod_json(b, "default", name);
}

/* A ConfigMap as perf-targets.md has it: one 100-byte value. */
static int configmap_body(bench_buf *b, const char *name)
{
  static const char value[] =
    "log.level=info;cache.size=512Mi;feature.flags=fast-path,compact-json;"
    "retry.backoff=250ms;max.conn=64";

  _Static_assert(sizeof value - 1 == 100, "the value is 100 bytes");
  return bench_buf_printf(b,
                          "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
                          "\"metadata\":{\"name\":\"%s\","
                          "\"namespace\":\"default\",\"labels\":"
                          "{\"app\":\"web\"}},\"data\":{\"config\":\"%s\"}}",
                          name, value);
}

static int namespace_body(bench_buf *b, const char *name)
{
  return bench_buf_printf(b,
                          "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                          "\"metadata\":{\"name\":\"%s\",\"labels\":"
                          "{\"team\":\"bench\",\"env\":\"test\"}}}",
                          name);
}

static const create_kind kinds[] = {
  { "pod", "/api/v1/namespaces/default/pods", pod_body },
  { "configmap", "/api/v1/namespaces/default/configmaps", configmap_body },
  { "namespace", "/api/v1/namespaces", namespace_body },
};

static const create_kind *find_kind(const char *name)
{
  for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
    if (!strcmp(kinds[i].name, name))
      return &kinds[i];
  return NULL;
}

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
    "  --kind pod|configmap|namespace  what to create (default pod; pods\n"
    "                      and configmaps go to namespace default)\n"
    "  --name-prefix P     object name prefix (default unique per run)\n"
    BENCH_LOAD_USAGE
    "  -h, --help          this help\n"
    "\n"
    "Exits 1 if any create did not answer 201.\n",
    f);
}

static int parse_args(int argc, char **argv, create_opts *o)
{
  static const struct option longopts[] = {
    BENCH_LOAD_LONGOPTS,
    { "kind", required_argument, NULL, 'k' },
    { "name-prefix", required_argument, NULL, 'p' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c, r;

  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    if ((r = bench_load_opt(&o->load, c, optarg, 100000000L)) < 0)
      return -1;
    if (r)
      continue;
    switch (c) {
    case 'k':
      if (!(o->kind = find_kind(optarg))) {
        fprintf(stderr, "--kind: want pod, configmap or namespace, not '%s'\n",
                optarg);
        return -1;
      }
      break;
    case 'p': o->prefix = optarg; break;
    case 'h': usage(stdout); exit(0);
    default: return -1;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "unexpected argument '%s'\n", argv[optind]);
    return -1;
  }
  return bench_load_check(&o->load);
}

static int prepare_create(bench_req *req, long seq, void *arg)
{
  create_ctx *c = arg;
  char name[128];

  snprintf(name, sizeof name, "%s-%ld", c->prefix, seq);
  bench_buf_reset(&req->body);
  if (c->kind->body(&req->body, name) < 0)
    return -1;
  return bench_req_post(req, c->url);
}

static int run(const void *arg)
{
  const create_opts *o = arg;
  char unique[64], label[64];
  create_ctx ctx = { .prefix = o->prefix, .kind = o->kind };
  bench_phase ph = { .prepare = prepare_create, .arg = &ctx,
                     .expect_status = 201 };
  bench_pool *pool = NULL;
  int rc = 1;

  if (!ctx.prefix) {
    bench_unique_prefix(unique, sizeof unique);
    ctx.prefix = unique;
  }
  ctx.url = bench_url(o->load.server, o->kind->path);
  pool = bench_pool_new_auth((int)o->load.connections, &o->load.auth);
  if (!ctx.url || !pool)
    goto out;
  /* The timed creates follow the warmup's names. */
  ph.first_seq = o->load.warmup;
  ph.requests = o->load.requests;
  snprintf(label, sizeof label, "create_%s_c%ld", o->kind->name,
           o->load.connections);
  rc = bench_run_measured(pool, &ph, o->load.warmup, "creates", label,
                          (int)o->load.connections) != 0;
out:
  bench_pool_free(pool);
  free(ctx.url);
  return rc;
}

int main(int argc, char **argv)
{
  create_opts o = { .load = { .server = "http://127.0.0.1:8080",
                             .connections = 16, .requests = 20000 },
                    .kind = &kinds[0] };

  if (parse_args(argc, argv, &o) < 0) {
    usage(stderr);
    return 2;
  }
  return bench_with_curl(run, &o);
}
