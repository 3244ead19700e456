/*
 * daemon.h - what every client daemon (kapi-scheduler,
 * kapi-controller-manager, ...) does around its own work: take
 * SIGINT/SIGTERM on the main thread only, build its API client from
 * --kubeconfig/--master, start its work once it leads (leader election
 * on a Lease) or at once, and exit with status 1 when a thread says it
 * must (leadership lost, a start that failed).
 *
 *   kapi_daemon d;
 *   kapi_daemon_init(&d);          before any other thread exists
 *   kapi_daemon_client(&d, ...);   d.client
 *   kapi_daemon_lead(&d, lease or NULL, start, arg);
 *   rc = kapi_daemon_wait(&d);     0 on a signal, 1 after kapi_daemon_fail
 *   kapi_daemon_stop(&d);          d.stop set, elector and start joined
 *   ... free what start() used ...
 *   kapi_daemon_free(&d);          the client
 *
 * The "stop" flag is the one every loop of the daemon polls (it is what
 * kapi_leader_run and informer runs take).
 */
#ifndef KAPI_DAEMON_H
#define KAPI_DAEMON_H

#include <pthread.h>
#include <signal.h>

#include "client.h"
#include "leaderelection.h"

/* ---- flags ---------------------------------------------------------------- */

#define KAPI_DAEMON_MAX_DIRS 32

/* The flags every client daemon takes; the strings are borrowed from
 * argv. */
typedef struct kapi_daemon_flags {
  const char *kubeconfig;                        /* --kubeconfig PATH */
  const char *master;                            /* --master URL */
  const char *plugin_dirs[KAPI_DAEMON_MAX_DIRS]; /* --plugin-dir DIR ... */
  int n_plugin_dirs;
} kapi_daemon_flags;

/* Their getopt_long values; a daemon numbers its own flags from
 * KAPI_DAEMON_O_END. */
enum {
  KAPI_DAEMON_O_KUBECONFIG = 256,
  KAPI_DAEMON_O_MASTER,
  KAPI_DAEMON_O_PLUGIN_DIR,
  KAPI_DAEMON_O_END
};

/* Takes getopt_long's result `c` (with its argument `arg`) if it is one
 * of those flags or -v/--v N (the log verbosity).  Returns 1 when it
 * was, 0 when it is the daemon's own, -1 (said on stderr) when
 * --plugin-dir is repeated more than KAPI_DAEMON_MAX_DIRS times. */
int kapi_daemon_flag(kapi_daemon_flags *f, int c, const char *arg);

/* ---- running --------------------------------------------------------------- */

/* The daemon's work, started on a thread of its own once leading:
 * starting may wait for caches, which the elector must not. */
typedef void (*kapi_daemon_start_fn)(void *arg);

typedef struct kapi_daemon {
  kapi_client *client; /* owned: built by kapi_daemon_client */
  volatile int stop;   /* non-zero once shutting down */

  /* Private. */
  sigset_t sigs;
  pthread_mutex_t mu;
  const char *fatal; /* why the process must exit 1 (static text) */
  kapi_daemon_start_fn start;
  void *start_arg;
  pthread_t starter;
  int starter_running;
  kapi_leader_config lease;
  char identity[256];
  pthread_t elector;
  int elector_running;
} kapi_daemon;

/* Zeroes `d`, blocks SIGINT, SIGTERM and SIGUSR1 (taken by
 * kapi_daemon_wait) and ignores SIGPIPE.  Call before starting any
 * thread, so that every thread inherits the mask. */
void kapi_daemon_init(kapi_daemon *d);

/* Builds d->client from a kubeconfig path (NULL = $KUBECONFIG, else
 * ~/.kube/config), a server URL overriding it (may be NULL), the client
 * rate limits and the User-Agent; all borrowed.  Logs why not and
 * returns -errno on failure. */
int kapi_daemon_client(kapi_daemon *d, const char *kubeconfig,
                       const char *master, double qps, int burst,
                       const char *user_agent);

/* Makes kapi_daemon_wait return 1, logging `why` (static text; the first
 * reason wins).  Any thread. */
void kapi_daemon_fail(kapi_daemon *d, const char *why);

/* Runs start(arg) on a thread of its own: once this process holds the
 * Lease lease->ns/lease->name (its durations are used; the identity and
 * callbacks are the daemon's), or at once when `lease` is NULL.  Losing
 * the Lease fails the daemon.  The strings of `lease` and `arg` must
 * outlive kapi_daemon_stop.  Returns 0, or -errno (logged) when the
 * elector cannot start. */
int kapi_daemon_lead(kapi_daemon *d, const kapi_leader_config *lease,
                     kapi_daemon_start_fn start, void *arg);

/* Waits for SIGINT/SIGTERM or a failure; returns the exit status: 0
 * for a signal, 1 for a failure (both logged). */
int kapi_daemon_wait(kapi_daemon *d);

/* Sets d->stop and joins the elector (which releases the Lease if held)
 * and the start thread.  Safe whatever was started. */
void kapi_daemon_stop(kapi_daemon *d);

/* Frees the client; after kapi_daemon_stop. */
void kapi_daemon_free(kapi_daemon *d);

#endif
