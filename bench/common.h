/*
 * common.h - the load generator shared by the kapi HTTP benchmarks.
 *
 * A bench_pool is a libcurl multi handle with one easy handle per
 * connection.  An easy handle that is removed and re-added keeps its
 * keep-alive connection in the multi's cache, so N handles make N
 * persistent HTTP/1.1 connections, each carrying one request at a time
 * (a closed loop: the next request leaves when the previous answer is in).
 *
 * A benchmark describes a phase (how to fill in request number `seq`, how
 * many requests or for how long, which status counts as success) and
 * bench_pool_run() drives it, timing each request from submission (the
 * moment its handle is added to the multi) to completion (the moment the
 * multi reports it done).
 *
 * Against an https:// server every handle verifies it with the pool's CA
 * bundle and may present a client certificate or a bearer token; the
 * handles share one TLS session cache, and a pool's very first request
 * goes out alone, so that the other connections can resume its session
 * instead of each doing a full handshake.
 */
#ifndef KAPI_BENCH_COMMON_H
#define KAPI_BENCH_COMMON_H

#include <stddef.h>
#include <sys/types.h>

#include <curl/curl.h>

/* A growable byte buffer, always NUL-terminated once non-empty. */
typedef struct bench_buf {
  char *data;
  size_t len, cap;
} bench_buf;

int bench_buf_append(bench_buf *b, const void *p, size_t n);
int bench_buf_printf(bench_buf *b, const char *fmt, ...)
  __attribute__((format(printf, 2, 3)));
void bench_buf_reset(bench_buf *b);
void bench_buf_free(bench_buf *b);

/* One connection's worth of state. */
typedef struct bench_req {
  CURL *easy;
  bench_buf body;     /* request body; must outlive the transfer */
  bench_buf response; /* response body of the request in flight */
  double submitted;   /* bench_now() when it was handed to the multi */
  int busy;           /* attached to the multi */
} bench_req;

/* Sets up req for request number seq (URL, method, body), or returns -1. */
typedef int (*bench_prepare_fn)(bench_req *req, long seq, void *arg);

typedef struct bench_phase {
  bench_prepare_fn prepare;
  void *arg;
  long first_seq;      /* seq of the phase's first request */
  long requests;       /* submit at most this many; 0 = no limit */
  double duration;     /* stop submitting after this many seconds; 0 = none */
  long expect_status;  /* any other status, or a transport error, is an error */
  int record;          /* keep per-request latencies */
} bench_phase;

typedef struct bench_stats {
  long ok, errors;
  long connects;       /* new connections opened during the phase */
  double elapsed;      /* seconds, first submission to last completion */
  double *latency_ms;  /* one per completed request when recording */
  size_t n_latency, cap_latency;
} bench_stats;

typedef struct bench_pool bench_pool;

/* How the pool's requests authenticate, all optional (NULL: not set):
 * the CA bundle that verifies an https:// server (default: the system's),
 * a client certificate and its key, a bearer token.  The strings are
 * borrowed only while bench_pool_new_auth() runs. */
typedef struct bench_auth {
  const char *cacert; /* --cacert FILE */
  const char *cert;   /* --cert FILE */
  const char *key;    /* --key FILE */
  const char *token;  /* --token TOKEN */
} bench_auth;

/* `connections` handles; auth may be NULL (plain requests). */
bench_pool *bench_pool_new_auth(int connections, const bench_auth *auth);
bench_pool *bench_pool_new(int connections);
void bench_pool_free(bench_pool *p);

/* Runs one phase to completion: stats are filled in (and must be freed
 * with bench_stats_free); returns 0, or -1 if the load could not be
 * driven at all (a request error is not a failure here). */
int bench_pool_run(bench_pool *p, const bench_phase *ph, bench_stats *st);

/* What every HTTP benchmark measures: `warmup` untimed requests of
 * `timed` (seqs from 0; an error count for them goes to stderr, naming
 * the requests `what`, e.g. "creates"), then `timed` itself, recorded and
 * printed as `label` (see bench_stats_print).  Returns 0 when every timed
 * request succeeded, 1 when some failed, -1 when the load could not be
 * driven at all. */
int bench_run_measured(bench_pool *p, const bench_phase *timed, long warmup,
                       const char *what, const char *label, int connections);

/* Runs run(opts) between curl_global_init() and curl_global_cleanup();
 * returns what it returns, or 1 when libcurl cannot start. */
int bench_with_curl(int (*run)(const void *opts), const void *opts);

/* Prints `<prefix>_throughput`, `_p50`, `_p99`, `_errors` lines. */
void bench_stats_print(bench_stats *st, const char *prefix, int connections);
void bench_stats_free(bench_stats *st);

/* Request setters for prepare functions; each fully sets the method, since
 * handles are reused across phases.  bench_req_post sends req->body. */
int bench_req_get(bench_req *req, const char *url);
int bench_req_post(bench_req *req, const char *url);
int bench_req_delete(bench_req *req, const char *url);

/* A realistic Pod (~1.5 KB: two containers, resources, labels, probes). */
int bench_pod_json(bench_buf *b, const char *ns, const char *name);

/* server (trailing slashes dropped) + path, malloc()ed; NULL if out of
 * memory. */
char *bench_url(const char *server, const char *path);

/* A name prefix unique to this process run, e.g. "kb-65a1f0c2-1234". */
void bench_unique_prefix(char *buf, size_t size);

/* The options every load generator takes. */
typedef struct bench_load_opts {
  const char *server; /* --server URL */
  long connections;   /* --connections N */
  long requests;      /* --requests N: requests to time */
  long warmup;        /* --warmup N: untimed requests first */
  bench_auth auth;    /* --cacert, --cert, --key, --token */
} bench_load_opts;

/* getopt_long values of the options without a short form; above any
 * character, so that a program's own short options cannot collide. */
enum {
  BENCH_OPT_CACERT = 0x100,
  BENCH_OPT_CERT,
  BENCH_OPT_KEY,
  BENCH_OPT_TOKEN,
};

/* Their getopt_long entries, with the values bench_load_opt takes. */
#define BENCH_LOAD_LONGOPTS                                   \
  { "server", required_argument, NULL, 's' },                 \
  { "connections", required_argument, NULL, 'c' },            \
  { "requests", required_argument, NULL, 'n' },               \
  { "warmup", required_argument, NULL, 'w' },                 \
  { "cacert", required_argument, NULL, BENCH_OPT_CACERT },    \
  { "cert", required_argument, NULL, BENCH_OPT_CERT },        \
  { "key", required_argument, NULL, BENCH_OPT_KEY },          \
  { "token", required_argument, NULL, BENCH_OPT_TOKEN }

/* Their lines for a usage message. */
#define BENCH_LOAD_USAGE                                                   \
  "  --cacert FILE       CA bundle to verify an https:// server with\n"     \
  "  --cert FILE, --key FILE  client certificate (PEM) and its key\n"      \
  "  --token TOKEN       bearer token (Authorization header)\n"

/* Takes getopt_long's `c` (with argument `arg`, borrowed) if it is one of
 * those options: returns 1 when it was, 0 when it is not, -1 (said on
 * stderr) for a bad value.  --requests and --warmup go up to
 * max_requests. */
int bench_load_opt(bench_load_opts *o, int c, const char *arg,
                   long max_requests);

/* Checks the options together once all are parsed (--cert needs --key
 * and the other way round); 0, or -1 said on stderr. */
int bench_load_check(const bench_load_opts *o);

/* Parses a decimal option value in [min, max]; prints why not and
 * returns -1 on error. */
int bench_parse_long(const char *opt, const char *s, long min, long max,
                     long *ret);
int bench_parse_seconds(const char *opt, const char *s, double *ret);

double bench_now(void);

/* Daemons a benchmark starts: fork/exec with stdout and stderr appended
 * to `log`; SIGTERM then, after 5 s, SIGKILL (*pid set to 0); the port a
 * kapi-apiserver logged ("serving on http://127.0.0.1:PORT"), waiting up
 * to 20 s, -1 if it exited first. */
pid_t bench_spawn(char *const argv[], const char *log);
/* Copies src into dir as mode 0644 (the plugin loader refuses group- or
 * world-writable files); the new path goes to dst when dst is not NULL.
 * 0 or -1. */
int bench_copy_file(const char *src, const char *dir, char *dst, size_t len);
void bench_stop(pid_t *pid);
/* A fresh 0755 directory "$TMPDIR/kapi-bench-NAME.XXXXXX" (/tmp when
 * TMPDIR is not set: a benchmark runner points TMPDIR into a directory it
 * removes, so that nothing of ours outlives it even if we are killed);
 * 0, or -1 said on stderr with buf emptied. */
int bench_mkdtemp(char *buf, size_t len, const char *name);
int bench_server_port(const char *log, pid_t pid);

#endif
