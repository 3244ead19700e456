/*
 * list.c - kapi-bench-list: LIST latency over one keep-alive connection.
 *
 * Starts its own kapi-apiserver (see apiserver.h), creates --pods
 * realistic ~1.5 KB Pods (bench_pod_json) in each of --namespaces
 * namespaces, and times two LISTs, one request in flight:
 *   - one namespace (--pods pods): GET /api/v1/namespaces/list-0/pods
 *     (the namespace is filled and timed before the others are created);
 *   - cluster-wide: GET /api/v1/pods (pods x namespaces).
 * Prints, e.g. for the defaults:
 *   list_ns_1000_pods_bytes 2345678 bytes      (one response body)
 *   list_ns_1000_pods_p50 4.200 ms
 *   list_ns_1000_pods_p99 9.800 ms
 *   list_cluster_10000_pods_p50 45.000 ms
 * plus _throughput and _errors lines as every HTTP benchmark.  Exits 1 if
 * a request failed or a LIST did not hold every pod.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apiserver.h"
#include "common.h"

typedef struct list_opts {
  bench_server_opts server;
  long pods, namespaces, ns_requests, cluster_requests, warmup, connections;
} list_opts;

typedef struct list_ctx {
  char *url;     /* where prepare sends its request */
  long per_ns;   /* pods per namespace, for naming */
  const char *server;
  bench_buf body;
} list_ctx;

static void usage(FILE *f)
{
  fputs(
    "Usage: kapi-bench-list [options]\n"
    "\n"
    "Starts a kapi-apiserver, fills it with Pods and prints LIST latency\n"
    "over one keep-alive connection as `name value unit` lines.\n"
    "\n"
    BENCH_SERVER_USAGE
    "  --pods N              pods per namespace (default 1000)\n"
    "  --namespaces N        namespaces (default 10)\n"
    "  --requests N          namespace LISTs to time (default 200)\n"
    "  --cluster-requests N  cluster-wide LISTs to time (default 30)\n"
    "  --warmup N            untimed LISTs before each (default 5)\n"
    "  --connections N       connections creating the pods (default 16)\n"
    "  -h, --help            this help\n",
    f);
}

static int parse_args(int argc, char **argv, list_opts *o)
{
  static const struct option longopts[] = {
    BENCH_SERVER_LONGOPTS,
    { "pods", required_argument, NULL, 'p' },
    { "namespaces", required_argument, NULL, 'N' },
    { "requests", required_argument, NULL, 'n' },
    { "cluster-requests", required_argument, NULL, 'C' },
    { "warmup", required_argument, NULL, 'w' },
    { "connections", required_argument, NULL, 'c' },
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
    case 'p': r = bench_parse_long("--pods", optarg, 1, 1000000, &o->pods);
      break;
    case 'N': r = bench_parse_long("--namespaces", optarg, 1, 1000,
                                   &o->namespaces);
      break;
    case 'n': r = bench_parse_long("--requests", optarg, 1, 1000000,
                                   &o->ns_requests);
      break;
    case 'C': r = bench_parse_long("--cluster-requests", optarg, 1, 1000000,
                                   &o->cluster_requests);
      break;
    case 'w': r = bench_parse_long("--warmup", optarg, 0, 1000000,
                                   &o->warmup);
      break;
    case 'c': r = bench_parse_long("--connections", optarg, 1, 1024,
                                   &o->connections);
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

/* ---- loading ----------------------------------------------------------- */

static int prepare_pod(bench_req *req, long seq, void *arg)
{
  list_ctx *c = arg;
  char ns[32], name[32], path[96];

  snprintf(ns, sizeof ns, "list-%ld", seq / c->per_ns);
  snprintf(name, sizeof name, "p-%07ld", seq);
  snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods", ns);
  free(c->url);
  if (!(c->url = bench_url(c->server, path)) ||
      bench_pod_json(&req->body, ns, name) < 0)
    return -1;
  return bench_req_post(req, c->url);
}

/* Fills namespaces [first_ns, last_ns) with per_ns pods each. */
static int load(list_ctx *c, const list_opts *o, long first_ns, long last_ns)
{
  for (long i = first_ns; i < last_ns; i++) {
    char ns[32];

    snprintf(ns, sizeof ns, "list-%ld", i);
    if (bench_create_namespace(c->server, ns) < 0)
      return -1;
  }
  return bench_create_n(prepare_pod, c, first_ns * o->pods,
                        (last_ns - first_ns) * o->pods,
                        (int)o->connections, "pods");
}

/* ---- one LIST, untimed: its size and item count -------------------------- */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
  return bench_buf_append(arg, p, size * n) < 0 ? 0 : size * n;
}

/* Every bench pod carries this label once; managedFields name it as
 * "f:pod-template-hash", which this does not match. */
static long count_items(const bench_buf *b)
{
  static const char mark[] = "\"pod-template-hash\":\"";
  const char *p = b->data;
  long n = 0;

  while (p && (p = strstr(p, mark))) {
    n++;
    p += sizeof mark - 1;
  }
  return n;
}

static int list_once(list_ctx *c, const char *url, long want,
                     const char *label)
{
  CURL *e = curl_easy_init();
  long status = 0, items;
  CURLcode rc;

  if (!e)
    return -1;
  bench_buf_reset(&c->body);
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &c->body);
  rc = curl_easy_perform(e);
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(e);
  if (rc != CURLE_OK || status != 200) {
    fprintf(stderr, "%s: LIST failed: %s, HTTP %ld\n", label,
            curl_easy_strerror(rc), status);
    return -1;
  }
  items = count_items(&c->body);
  printf("%s_bytes %zu bytes\n", label, c->body.len);
  printf("%s_bytes_per_item %.0f bytes\n", label,
         items ? (double)c->body.len / (double)items : 0.0);
  fflush(stdout);
  if (items != want) {
    fprintf(stderr, "%s: the LIST held %ld pods, not %ld\n", label, items,
            want);
    return -1;
  }
  return 0;
}

/* ---- timing -------------------------------------------------------------- */

static int prepare_list(bench_req *req, long seq, void *arg)
{
  (void)seq;
  return bench_req_get(req, arg);
}

static int time_list(list_ctx *c, const char *path, long want, long requests,
                     long warmup, const char *label)
{
  char *url = bench_url(c->server, path);
  bench_phase ph = { .prepare = prepare_list, .requests = requests,
                     .expect_status = 200 };
  bench_pool *pool = bench_pool_new(1);
  int rc = -1;

  ph.arg = url;
  if (url && pool && list_once(c, url, want, label) == 0)
    rc = bench_run_measured(pool, &ph, warmup, "LISTs", label, 1);
  bench_pool_free(pool);
  free(url);
  return rc;
}

static int run(const void *arg)
{
  const list_opts *o = arg;
  bench_apiserver s;
  list_ctx c = { .per_ns = o->pods };
  char path[96], label[64];
  int rc = 1;

  if (bench_apiserver_init(&s, &o->server, "list") < 0 ||
      bench_apiserver_start(&s, 30, NULL) < 0)
    goto out;
  c.server = s.url;
  printf("list_fsync %d bool\n", s.fsync);
  if (load(&c, o, 0, 1) < 0)
    goto out;
  snprintf(path, sizeof path, "/api/v1/namespaces/list-0/pods");
  snprintf(label, sizeof label, "list_ns_%ld_pods", o->pods);
  if (time_list(&c, path, o->pods, o->ns_requests, o->warmup, label) != 0)
    goto out;
  if (o->namespaces > 1 && load(&c, o, 1, o->namespaces) < 0)
    goto out;
  snprintf(label, sizeof label, "list_cluster_%ld_pods",
           o->pods * o->namespaces);
  if (time_list(&c, "/api/v1/pods", o->pods * o->namespaces,
                o->cluster_requests, o->warmup, label) != 0)
    goto out;
  printf("list_server_rss %.1f MB\n", bench_proc_kb(s.pid, "VmRSS") / 1024.0);
  rc = 0;
out:
  bench_apiserver_free(&s);
  free(c.url);
  bench_buf_free(&c.body);
  return rc;
}

int main(int argc, char **argv)
{
  list_opts o = { .pods = 1000, .namespaces = 10, .ns_requests = 200,
                  .cluster_requests = 30, .warmup = 5, .connections = 16 };

  bench_server_opts_init(&o.server);
  if (parse_args(argc, argv, &o) < 0) {
    usage(stderr);
    return 2;
  }
  return bench_with_curl(run, &o);
}
