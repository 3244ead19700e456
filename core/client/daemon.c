/*
 * daemon.c - the plumbing every client daemon shares: signals, the
 * client, leader election, start thread and exit status.
 *
 * Signals are taken synchronously by the main thread (sigwait) and by it
 * alone: other threads ask it to end the process by raising SIGUSR1,
 * which it waits for with SIGINT and SIGTERM.  So nothing but the main
 * thread ever runs shutdown, and no async-signal handler is needed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

int kapi_daemon_flag(kapi_daemon_flags *f, int c, const char *arg)
{
  switch (c) {
  case KAPI_DAEMON_O_KUBECONFIG: f->kubeconfig = arg; return 1;
  case KAPI_DAEMON_O_MASTER: f->master = arg; return 1;
  case KAPI_DAEMON_O_PLUGIN_DIR:
    if (f->n_plugin_dirs == KAPI_DAEMON_MAX_DIRS) {
      fprintf(stderr, "too many --plugin-dir\n");
      return -1;
    }
    f->plugin_dirs[f->n_plugin_dirs++] = arg;
    return 1;
  case 'v': kapi_log_verbosity = atoi(arg + (*arg == '=')); return 1;
  default: return 0;
  }
}

void kapi_daemon_init(kapi_daemon *d)
{
  memset(d, 0, sizeof *d);
  pthread_mutex_init(&d->mu, NULL);
  sigemptyset(&d->sigs);
  sigaddset(&d->sigs, SIGINT);
  sigaddset(&d->sigs, SIGTERM);
  sigaddset(&d->sigs, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &d->sigs, NULL);
  signal(SIGPIPE, SIG_IGN);
}

int kapi_daemon_client(kapi_daemon *d, const char *kubeconfig,
                       const char *master, double qps, int burst,
                       const char *user_agent)
{
  kapi_client_config cc = {0};
  char err[1024];
  int rc;

  cc.kubeconfig = kubeconfig;
  cc.server = master;
  cc.qps = qps;
  cc.burst = burst;
  cc.user_agent = user_agent;
  if ((rc = kapi_client_new(&cc, &d->client, err, sizeof err)) < 0)
    LOG_ERROR("cannot build the client: %s", err);
  return rc;
}

/* Wakes the main thread, the only one taking signals. */
void kapi_daemon_fail(kapi_daemon *d, const char *why)
{
  pthread_mutex_lock(&d->mu);
  if (!d->fatal)
    d->fatal = why;
  pthread_mutex_unlock(&d->mu);
  kill(getpid(), SIGUSR1);
}

static void *starter_main(void *arg)
{
  kapi_daemon *d = arg;

  d->start(d->start_arg);
  return NULL;
}

/* Called when leading, on the elector's thread, which must not wait. */
static void on_started_leading(void *arg)
{
  kapi_daemon *d = arg;

  pthread_mutex_lock(&d->mu);
  if (!d->starter_running &&
      pthread_create(&d->starter, NULL, starter_main, d) == 0)
    d->starter_running = 1;
  pthread_mutex_unlock(&d->mu);
}

static void on_stopped_leading(void *arg)
{
  kapi_daemon *d = arg;

  if (!d->stop)
    kapi_daemon_fail(d, "leaderelection lost");
}

static void *elector_main(void *arg)
{
  kapi_daemon *d = arg;
  int rc = kapi_leader_run(d->client, &d->lease, &d->stop);

  if (rc < 0 && !d->stop)
    kapi_daemon_fail(d, rc == -ECONNABORTED ? "leaderelection lost"
                                            : "leader election failed");
  return NULL;
}

/* "<hostname>_<uuid>", as upstream's identity. */
static void make_identity(char *out, size_t len)
{
  unsigned char b[16];
  char host[128] = "localhost";
  FILE *f = fopen("/dev/urandom", "rb");
  size_t got = f ? fread(b, 1, sizeof b, f) : 0;

  if (f)
    fclose(f);
  for (; got < sizeof b; got++)
    b[got] = (unsigned char)rand();
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  gethostname(host, sizeof host - 1);
  snprintf(out, len,
           "%s_%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
           "%02x%02x%02x%02x%02x%02x",
           host, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
           b[10], b[11], b[12], b[13], b[14], b[15]);
}

int kapi_daemon_lead(kapi_daemon *d, const kapi_leader_config *lease,
                     kapi_daemon_start_fn start, void *arg)
{
  int rc;

  d->start = start;
  d->start_arg = arg;
  if (!lease) {
    on_started_leading(d);
    return 0;
  }
  d->lease = *lease;
  make_identity(d->identity, sizeof d->identity);
  d->lease.identity = d->identity;
  d->lease.on_started = on_started_leading;
  d->lease.on_stopped = on_stopped_leading;
  d->lease.arg = d;
  if ((rc = pthread_create(&d->elector, NULL, elector_main, d)) != 0) {
    LOG_ERROR("cannot start the leader elector");
    return -rc;
  }
  d->elector_running = 1;
  return 0;
}

int kapi_daemon_wait(kapi_daemon *d)
{
  int sig = 0;

  sigwait(&d->sigs, &sig);
  if (d->fatal) {
    LOG_ERROR("%s", d->fatal);
    return 1;
  }
  LOG_INFO("received signal %d, shutting down", sig);
  return 0;
}

void kapi_daemon_stop(kapi_daemon *d)
{
  __atomic_store_n(&d->stop, 1, __ATOMIC_SEQ_CST);
  if (d->elector_running)
    pthread_join(d->elector, NULL); /* releases the Lease if we held it */
  d->elector_running = 0;
  if (d->starter_running)
    pthread_join(d->starter, NULL);
  d->starter_running = 0;
}

void kapi_daemon_free(kapi_daemon *d)
{
  kapi_client_free(d->client);
  d->client = NULL;
  pthread_mutex_destroy(&d->mu);
}
