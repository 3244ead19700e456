/*
 * leaderelection.c - leader election on a coordination.k8s.io/v1 Lease,
 * with client-go's LeaderElector semantics:
 *
 *  - tryAcquireOrRenew reads the Lease; a record that changed since the
 *    last look restarts the local expiry clock (observedTime), because
 *    clocks of different machines cannot be compared: only "I have seen
 *    no renewal for leaseDurationSeconds" counts as expired;
 *  - a Lease held by someone else and not expired is left alone;
 *  - otherwise it is written with the resourceVersion that was read, so
 *    of two candidates racing only one update succeeds (409 for the
 *    other);
 *  - the leader renews every retry period and gives up when no renewal
 *    succeeded within the renew deadline;
 *  - on stop a leader releases the Lease: empty holder and a 1 s
 *    duration, so the next candidate need not wait.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "leaderelection.h"
#include "log.h"

#define JITTER_FACTOR 1.2 /* upstream's JitterFactor */

static const kapi_gvr leases_gvr = {"coordination.k8s.io", "v1", "leases", 1};

typedef struct elector {
  kapi_client *c;
  const kapi_leader_config *cfg;
  int lease_s, renew_s, retry_s;
  kj *lease;              /* the Lease as last read or written */
  kj *observed;           /* its spec when last seen changing */
  struct timespec observed_at; /* monotonic */
  unsigned int seed;
} elector;

static double mono_now(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* MicroTime: RFC 3339 in UTC with exactly six fractional digits. */
static void micro_time(char *buf, size_t len)
{
  struct timespec ts;
  struct tm tm;
  char base[32];

  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf, len, "%s.%06ldZ", base, ts.tv_nsec / 1000);
}

/* *stop is set by another thread: read it atomically. */
static int stopped(volatile int *stop)
{
  return __atomic_load_n(stop, __ATOMIC_ACQUIRE);
}

/* Sleeps `s` seconds, waking early on *stop.  Returns 1 if stopped. */
static int sleep_s(double s, volatile int *stop)
{
  double end = mono_now() + s;

  while (!stopped(stop)) {
    double left = end - mono_now();
    struct timespec ts;
    if (left <= 0)
      return 0;
    if (left > 0.05)
      left = 0.05;
    ts.tv_sec = 0;
    ts.tv_nsec = (long)(left * 1e9);
    nanosleep(&ts, NULL);
  }
  return 1;
}

/* retry * [1, 1 + JITTER_FACTOR): candidates must not wake in lockstep. */
static double jittered(elector *e, double base)
{
  return base * (1 + JITTER_FACTOR * ((double)rand_r(&e->seed) / RAND_MAX));
}

static const char *holder_of(const kj *spec)
{
  const char *h = kj_get_str(spec, "holderIdentity");
  return h ? h : "";
}

static int64_t int_field(const kj *spec, const char *key, int64_t dflt)
{
  int64_t v;
  return kj_to_int(kj_get(spec, key), &v) == 0 ? v : dflt;
}

static int is_leader(const elector *e)
{
  return e->observed && !strcmp(holder_of(e->observed), e->cfg->identity);
}

/* The observed record is still within its lease duration. */
static int lease_valid(const elector *e)
{
  int64_t dur = int_field(e->observed, "leaseDurationSeconds", e->lease_s);
  double seen = (double)e->observed_at.tv_sec +
                (double)e->observed_at.tv_nsec / 1e9;
  return seen + (double)dur > mono_now();
}

static void observe(elector *e, const kj *spec)
{
  kj_free(e->observed);
  e->observed = kj_clone(spec);
  clock_gettime(CLOCK_MONOTONIC, &e->observed_at);
}

/* The spec this candidate writes. */
static kj *record(const char *holder, int64_t duration, const char *acquire,
                  const char *renew, int64_t transitions)
{
  kj *spec = kj_object();

  if (!spec || kj_set_str(spec, "holderIdentity", holder) < 0 ||
      kj_set_int(spec, "leaseDurationSeconds", duration) < 0 ||
      kj_set_str(spec, "acquireTime", acquire) < 0 ||
      kj_set_str(spec, "renewTime", renew) < 0 ||
      kj_set_int(spec, "leaseTransitions", transitions) < 0) {
    kj_free(spec);
    return NULL;
  }
  return spec;
}

static int create_lease(elector *e, const char *now)
{
  kj *lease = kj_object(), *meta, *spec = record(e->cfg->identity,
                                                e->lease_s, now, now, 0);
  kapi_result res;
  kj *out = NULL;
  int r = -ENOMEM;

  if (lease && spec && kj_set_str(lease, "apiVersion",
                                  "coordination.k8s.io/v1") == 0 &&
      kj_set_str(lease, "kind", "Lease") == 0 &&
      (meta = kj_child_object(lease, "metadata")) &&
      kj_set_str(meta, "name", e->cfg->name) == 0 &&
      kj_set_str(meta, "namespace", e->cfg->ns) == 0 &&
      kj_set(lease, "spec", spec) == 0) {
    spec = NULL;
    r = kapi_client_create(e->c, &leases_gvr, e->cfg->ns, lease, &out, &res);
    if (r < 0)
      LOG_ERROR("error initially creating leader election record: %s",
                res.message);
  }
  kj_free(spec);
  kj_free(lease);
  if (r == 0) {
    kj_free(e->lease);
    e->lease = out;
    observe(e, kj_get(out, "spec"));
  }
  return r;
}

/* PUT the last read Lease with a new spec (takes ownership of spec). */
static int update_lease(elector *e, kj *spec)
{
  kapi_result res;
  kj *out = NULL;
  int r;

  if (!spec || kj_set(e->lease, "spec", spec) < 0)
    return -ENOMEM;
  r = kapi_client_update(e->c, &leases_gvr, e->cfg->ns, e->lease, NULL, &out,
                         &res);
  if (r < 0) {
    LOG_V(r == -EBUSY ? 4 : 1, "failed to update lease %s/%s: %s",
          e->cfg->ns, e->cfg->name, res.message);
    return r;
  }
  kj_free(e->lease);
  e->lease = out;
  observe(e, kj_get(out, "spec"));
  return 0;
}

/* upstream's tryAcquireOrRenew: 1 when this candidate holds the Lease. */
static int try_acquire_or_renew(elector *e)
{
  char now[64];
  kapi_result res;
  kj *lease = NULL, *spec;
  const char *holder, *acquire;
  int64_t transitions;
  int r;

  micro_time(now, sizeof now);
  r = kapi_client_get(e->c, &leases_gvr, e->cfg->ns, e->cfg->name, &lease,
                      &res);
  if (r == -ENOENT)
    return create_lease(e, now) == 0;
  if (r < 0) {
    LOG_ERROR("error retrieving resource lock %s/%s: %s", e->cfg->ns,
              e->cfg->name, res.message);
    return 0;
  }
  kj_free(e->lease);
  e->lease = lease;
  spec = kj_get(lease, "spec");
  if (spec && (!e->observed || !kj_equal(spec, e->observed)))
    observe(e, spec);
  holder = holder_of(spec);
  if (*holder && strcmp(holder, e->cfg->identity) && lease_valid(e)) {
    LOG_V(4, "lock is held by %s and has not yet expired", holder);
    return 0;
  }
  transitions = int_field(spec, "leaseTransitions", 0);
  acquire = now;
  if (is_leader(e)) {
    if (kj_get_str(spec, "acquireTime"))
      acquire = kj_get_str(spec, "acquireTime");
  } else {
    transitions++;
  }
  /* record() copies `acquire` before the old spec is replaced. */
  return update_lease(e, record(e->cfg->identity, e->lease_s, acquire, now,
                                transitions)) == 0;
}

/* On stop: give the Lease up so the next candidate need not wait. */
static void release(elector *e)
{
  char now[64];

  if (!is_leader(e) || !e->lease)
    return;
  micro_time(now, sizeof now);
  if (update_lease(e, record("", 1, now, now,
                             int_field(e->observed, "leaseTransitions", 0))) <
      0)
    LOG_ERROR("Failed to release lock %s/%s", e->cfg->ns, e->cfg->name);
}

/* Renews until stopped (0) or until no renewal succeeded within the
 * renew deadline (-ECONNABORTED). */
static int renew_loop(elector *e, volatile int *stop)
{
  for (;;) {
    double deadline;
    int ok = 0;
    if (sleep_s(e->retry_s, stop))
      return 0;
    deadline = mono_now() + e->renew_s;
    while (!stopped(stop)) {
      if (try_acquire_or_renew(e)) {
        ok = 1;
        break;
      }
      if (mono_now() + e->retry_s > deadline)
        break;
      if (sleep_s(e->retry_s, stop))
        return 0;
    }
    if (stopped(stop))
      return 0;
    if (!ok) {
      LOG_INFO("failed to renew lease %s/%s: timed out waiting for the "
               "condition", e->cfg->ns, e->cfg->name);
      return -ECONNABORTED;
    }
    LOG_V(5, "successfully renewed lease %s/%s", e->cfg->ns, e->cfg->name);
  }
}

int kapi_leader_run(kapi_client *c, const kapi_leader_config *cfg,
                    volatile int *stop)
{
  elector e;
  int r;

  if (!c || !cfg || !cfg->ns || !cfg->name || !cfg->identity ||
      !*cfg->identity || !stop)
    return -EINVAL;
  memset(&e, 0, sizeof e);
  e.c = c;
  e.cfg = cfg;
  e.lease_s = cfg->lease_seconds > 0 ? cfg->lease_seconds : 15;
  e.renew_s = cfg->renew_deadline_seconds > 0 ? cfg->renew_deadline_seconds
                                              : 10;
  e.retry_s = cfg->retry_seconds > 0 ? cfg->retry_seconds : 2;
  e.seed = (unsigned int)time(NULL) ^ (unsigned int)(uintptr_t)&e;

  LOG_INFO("attempting to acquire leader lease %s/%s...", cfg->ns, cfg->name);
  while (!stopped(stop) && !try_acquire_or_renew(&e))
    sleep_s(jittered(&e, e.retry_s), stop);
  if (stopped(stop)) {
    r = 0;
    goto out;
  }
  LOG_INFO("successfully acquired lease %s/%s", cfg->ns, cfg->name);
  if (cfg->on_started)
    cfg->on_started(cfg->arg);
  r = renew_loop(&e, stop);
  if (r == 0)
    release(&e);
  if (cfg->on_stopped)
    cfg->on_stopped(cfg->arg);
out:
  kj_free(e.lease);
  kj_free(e.observed);
  return r;
}
