/*
 * server_fixture.h - a real kapi-apiserver for client tests, started the
 * way tests/integration/lib.sh starts one: $KAPI_BUILDDIR/kapi-apiserver
 * on a loopback port, with its own data directory and a plugin directory
 * holding copies of the built plugins (mode 755 / 644), always stopped
 * and removed by the test that started it.
 *
 * Usage:
 *   kts_server s;
 *   if (kts_init(&s) < 0) ...;           temp dir + plugin copies
 *   if (kts_start(&s, 0) < 0) ...;       any free port; waits for /readyz
 *   ... s.url, s.kubeconfig ...
 *   kts_stop(&s); kts_start(&s, s.port); a restart on the same port
 *   kts_cleanup(&s);                     stops it, removes the temp dir
 */
#ifndef KAPI_TESTS_SERVER_FIXTURE_H
#define KAPI_TESTS_SERVER_FIXTURE_H

#include <sys/types.h>

typedef struct kts_server {
  char dir[256];        /* the temporary root */
  char data[300];       /* dir/data: the store (kept across restarts) */
  char plugins[300];    /* dir/plugins */
  char log[300];        /* dir/apiserver.log: the server's stderr */
  char kubeconfig[300]; /* dir/kubeconfig, written by kts_start */
  char url[64];         /* "http://127.0.0.1:PORT" */
  int port;
  pid_t pid;            /* 0 when not running */
} kts_server;

/* $KAPI_BUILDDIR, else "." (borrowed). */
const char *kts_builddir(void);

/* Whether a plugin was built: $KAPI_BUILDDIR/KIND/NAME/.libs/NAME.so,
 * e.g. kts_has_plugin("registry", "event"). */
int kts_has_plugin(const char *kind, const char *name);

/* Whether $KAPI_BUILDDIR/kapi-apiserver exists. */
int kts_have_server(void);

/* Makes the temporary directory and copies the built plugins into it.
 * 0 or -errno. */
int kts_init(kts_server *s);

/* Starts the server on `port` (0 = any free port; s->port is set), waits
 * until /readyz answers 200 (up to 20 s), writes s->kubeconfig (cluster
 * "t" at s->url, user "t" with no credentials, context "t" current).
 * `extra_args` (may be NULL) is a NULL-terminated list of more flags.
 * 0, or -errno after printing the server's log to stderr. */
int kts_start_args(kts_server *s, int port, const char *const *extra_args);
int kts_start(kts_server *s, int port);

/* SIGTERM and wait (SIGKILL after 10 s).  No-op when not running. */
void kts_stop(kts_server *s);

/* Stops the server and removes the temporary directory. */
void kts_cleanup(kts_server *s);

/* A free loopback TCP port (bound and released), or -errno. */
int kts_free_port(void);

/* Listens on 127.0.0.1:port (SO_REUSEADDR); returns the socket or -errno. */
int kts_listen(int port);

#endif
