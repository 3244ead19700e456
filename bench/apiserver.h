/*
 * apiserver.h - a private kapi-apiserver for one benchmark run.
 *
 * kapi-bench-list, -watch and -footprint each start their own server
 * from the build tree: a fresh directory under $TMPDIR or /tmp (0755, since the
 * plugin loader refuses writable plugin directories) holding a copy of
 * the build tree's plugins, the data directory and the server's log.
 * The server serves plain HTTP on a loopback port picked here, with
 * AlwaysAllow and without ServiceAccount admission (nothing creates
 * default ServiceAccounts without a controller-manager).
 *
 * Start is timed from fork() to the first 200 from /readyz, polled every
 * 0.5 ms, so the same call measures start-to-ready.  With pinning on,
 * the server runs on one CPU and the calling process on the other.
 */
#ifndef KAPI_BENCH_APISERVER_H
#define KAPI_BENCH_APISERVER_H

#include <sys/types.h>

#include "common.h"

typedef struct bench_apiserver {
  const char *build;   /* build tree (borrowed) */
  char dir[256];       /* our directory, removed by bench_apiserver_free */
  char plugins[320], data[320], log[320];
  char url[64];        /* http://127.0.0.1:PORT once started */
  int fsync;           /* --fsync true/false */
  int server_cpu;      /* -1: not pinned */
  pid_t pid;           /* 0 when not running */
  double logged_ready_ms; /* the server's own start-up time, from its
                             log; -1 if it does not say */
} bench_apiserver;

/* The options all three programs take, and their getopt_long entries. */
typedef struct bench_server_opts {
  const char *build;   /* --build DIR (default $KAPI_BUILD, else .) */
  int fsync;           /* --fsync BOOL (default $FSYNC, else true) */
  int pin;             /* --pin, or PIN=1: server CPU 1, us CPU 0 */
} bench_server_opts;

#define BENCH_SERVER_LONGOPTS                        \
  { "build", required_argument, NULL, 'B' },         \
  { "fsync", required_argument, NULL, 'F' },         \
  { "pin", no_argument, NULL, 'P' }

#define BENCH_SERVER_USAGE                                                  \
  "  --build DIR         build tree with kapi-apiserver and the plugins\n"  \
  "                      (default $KAPI_BUILD, else .)\n"                    \
  "  --fsync BOOL        the server's --fsync (default $FSYNC, else true)\n" \
  "  --pin               server on CPU 1, this program on CPU 0 (also\n"     \
  "                      PIN=1)\n"

/* Defaults from the environment. */
void bench_server_opts_init(bench_server_opts *o);
/* Like bench_load_opt: 1 taken, 0 not ours, -1 bad value (said). */
int bench_server_opt(bench_server_opts *o, int c, const char *arg);

/* Makes the directory and the plugin copy; -1 (said on stderr) if not. */
int bench_apiserver_init(bench_apiserver *s, const bench_server_opts *o,
                         const char *name);
/* Starts the server on the existing data directory (empty or not) and
 * waits up to `timeout` seconds for /readyz; *ready_ms (if not NULL) is
 * the time from fork to ready.  0, or -1 with the log's tail on stderr. */
int bench_apiserver_start(bench_apiserver *s, double timeout,
                          double *ready_ms);
/* SIGTERM, then SIGKILL after 5 s. */
void bench_apiserver_stop(bench_apiserver *s);
/* Stops it and removes the directory. */
void bench_apiserver_free(bench_apiserver *s);

/* The server's VmRSS or VmHWM ("VmRSS", "VmHWM") in KiB, -1 if unknown. */
long bench_proc_kb(pid_t pid, const char *field);

/* Pins the calling thread to `cpu`; -1 if it cannot. */
int bench_pin_self(int cpu);

/* POSTs `n` objects (seqs first..first+n-1, bodies from prepare) over
 * `conns` connections; 0 when every one answered 201.  Says how long it
 * took on stderr under `what`. */
int bench_create_n(bench_prepare_fn prepare, void *arg, long first, long n,
                   int conns, const char *what);
/* Creates namespace `name`, which must not exist yet. */
int bench_create_namespace(const char *server, const char *name);

#endif
