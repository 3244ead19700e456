/*
 * schedule_one.c - the scheduler: informer handlers (upstream's
 * eventhandlers.go), the scheduling loop (schedule_one.go ScheduleOne,
 * schedulingCycle), the asynchronous binding cycles, and failure
 * handling (handleSchedulingFailure).
 *
 * Threads: the informers' (handlers), one scheduling loop (cycles are
 * serial, as upstream's), `binders` binding threads (upstream starts a
 * goroutine per binding), and a ticker for the queue's periodic flushes.
 */
#include "schedule_one.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "log.h"
#include "sched_api.h"

#define NOTE_LENGTH_LIMIT 1024 /* validation.NoteLengthLimit */
#define MAX_PENDING_BINDINGS 1024
#define NS_PER_S 1000000000LL

static const kapi_gvr pods_gvr = {"", "v1", "pods", 1};
static const kapi_gvr nodes_gvr = {"", "v1", "nodes", 0};

/* One binding cycle waiting for a binder. */
typedef struct bind_job {
  struct bind_job *next;
  size_t profile;
  kapi_cycle *cs;
  kapi_qpod *qp;       /* in flight until the binding ends */
  kapi_cobj *assumed;  /* the pod with spec.nodeName set */
  char node[256];
  uint32_t wait_ms;    /* Permit said Wait */
  const char *waiter;  /* ...this plugin */
} bind_job;

struct kapi_scheduler {
  kapi_scheduler_config cfg;
  kapi_sched_queue *queue;
  kapi_sched_cache *cache;
  kapi_snapshot snap; /* the loop's */
  kapi_recorder **recorders; /* one per profile */
  kapi_sched_io io;
  kapi_informer *pods, *nodes;

  pthread_t loop, ticker, *binders;
  int n_binders;
  int loop_started, ticker_started;

  pthread_mutex_t mu; /* the binding queue and stop */
  pthread_cond_t work, room, tick;
  bind_job *head, *tail;
  size_t pending;
  int stopping;

  uint64_t scheduled, failed; /* atomic */
};

/* ---- helpers ----------------------------------------------------------- */

static int64_t mono_ns(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

static void now_rfc3339(char *buf, size_t len)
{
  time_t t = time(NULL);
  struct tm tm;

  gmtime_r(&t, &tm);
  strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *meta(const kj *o, const char *key)
{
  const char *v = kj_get_str(kj_get(o, "metadata"), key);

  return v ? v : "";
}

static int assigned(const kj *pod)
{
  const char *n = kj_get_str(kj_get(pod, "spec"), "nodeName");

  return n && *n;
}

/* The profile whose schedulerName the pod asks for, or -1. */
static long profile_of(const kapi_scheduler *s, const kj *pod)
{
  const char *name = kj_get_str(kj_get(pod, "spec"), "schedulerName");

  if (!name || !*name)
    name = "default-scheduler";
  for (size_t i = 0; i < s->cfg.n_profiles; i++)
    if (!strcmp(s->cfg.profiles[i]->scheduler_name, name))
      return (long)i;
  return -1;
}

static void record(kapi_scheduler *s, size_t profile, const kj *obj,
                   const char *type, const char *reason, const char *msg)
{
  if (s->recorders && s->recorders[profile])
    kapi_recorder_eventf(s->recorders[profile], obj, type, reason, "%s", msg);
}

/* truncateMessage: events carry at most NoteLengthLimit bytes. */
static void truncate_note(const char *msg, char *buf, size_t len)
{
  size_t n = strlen(msg);

  if (n <= NOTE_LENGTH_LIMIT) {
    snprintf(buf, len, "%s", msg);
    return;
  }
  snprintf(buf, len, "%.*s ...", NOTE_LENGTH_LIMIT - 4, msg);
}

/* Go's time.Duration String() for whole milliseconds ("500ms", "10s",
 * "1.5s"). */
static void go_duration(uint32_t ms, char *buf, size_t len)
{
  char frac[8];
  int n;

  if (ms < 1000) {
    snprintf(buf, len, "%ums", ms);
    return;
  }
  n = snprintf(frac, sizeof frac, "%03u", ms % 1000);
  while (n > 0 && frac[n - 1] == '0')
    frac[--n] = '\0';
  snprintf(buf, len, "%u%s%ss", ms / 1000, n ? "." : "", frac);
}

/* ---- framework io: preemption's writes --------------------------------- */

static int io_patch(void *arg, const kj *pod, const char *patch)
{
  kapi_scheduler *s = arg;

  return kapi_sched_patch_pod_status(s->cfg.client, pod, patch);
}

static int io_delete(void *arg, const kj *pod)
{
  kapi_scheduler *s = arg;

  return kapi_sched_delete_pod(s->cfg.client, pod);
}

static void io_event(void *arg, const kj *obj, const char *type,
                     const char *reason, const char *message)
{
  record(arg, 0, obj, type, reason, message);
}

/* ---- failures ---------------------------------------------------------- */

/*
 * handleSchedulingFailure: back to the queue (unschedulable, or backoff
 * for errors), the nomination as PostFilter decided, a FailedScheduling
 * event, and the PodScheduled=False condition.  `nominated`: NULL leaves
 * the nomination, "" clears it.
 */
static void handle_failure(kapi_scheduler *s, size_t profile, kapi_qpod *qp,
                           const char *reason, const char *msg,
                           const char *nominated, int unschedulable)
{
  kapi_cobj *pod = kapi_cobj_ref(qp->cycle_pod);
  int gone = kapi_sq_is_deleted(s->queue, qp);
  char note[NOTE_LENGTH_LIMIT + 8], now[32], *patch;

  if (unschedulable)
    LOG_V(2, "Unable to schedule pod; no fit; waiting pod=\"%s\" err=\"%s\"",
          pod->key, msg);
  else
    LOG_ERROR("Error scheduling pod; retrying pod=\"%s\" err=\"%s\"",
              pod->key, msg);
  __atomic_add_fetch(&s->failed, 1, __ATOMIC_RELAXED);
  kapi_sq_requeue(s->queue, qp, unschedulable);
  if (!gone && nominated)
    kapi_sq_nominate(s->queue, pod, nominated);
  truncate_note(msg, note, sizeof note);
  record(s, profile, pod->obj, "Warning", "FailedScheduling", note);
  if (!gone) {
    now_rfc3339(now, sizeof now);
    patch = kapi_sched_failure_patch(pod->obj, reason, msg, nominated, now);
    if (patch)
      kapi_sched_patch_pod_status(s->cfg.client, pod->obj, patch);
    free(patch);
  }
  kapi_cobj_unref(pod);
}

/* A rejection at Reserve or Permit reads as a FitError over one node. */
static char *one_node_fit_error(const char *node, kapi_sched_status *st)
{
  kapi_diagnosis d = {0};
  char *msg;

  d.num_all_nodes = 1;
  kapi_diagnosis_add(&d, node, st);
  msg = kapi_fit_error_message(&d);
  kapi_diagnosis_free(&d);
  return msg;
}

/* The message of a failed Reserve/Permit/bind status. */
static char *failure_message(const char *what, kapi_sched_status *st,
                             const char *node)
{
  char *reasons, *msg = NULL;

  if (kapi_code_rejected(st->code))
    return one_node_fit_error(node, st);
  reasons = kapi_status_message(st);
  if (asprintf(&msg, "running %s plugin \"%s\": %s", what,
               st->plugin ? st->plugin : "?",
               reasons && *reasons ? reasons : "error") < 0)
    msg = NULL;
  free(reasons);
  return msg;
}

/* ---- binding cycles ---------------------------------------------------- */

static void job_free(bind_job *j)
{
  kapi_cycle_free(j->cs);
  kapi_cobj_unref(j->assumed);
  free(j);
}

/* Undo an assumption: Unreserve, drop it from the cache.  Returns 1 if
 * the cache still had it (its resources are free again). */
static int undo_assume(kapi_scheduler *s, kapi_framework *fw, bind_job *j)
{
  kapi_fw_run_unreserve(fw, j->cs, j->assumed->obj, j->node);
  return kapi_scache_forget_pod(s->cache, j->assumed->key) == 0;
}

/* Waits up to ms, or until stopping; returns 1 if stopping. */
static int wait_ms(kapi_scheduler *s, uint32_t ms)
{
  struct timespec until;
  int stopping;

  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += ms / 1000;
  until.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&s->mu);
  while (!s->stopping &&
         pthread_cond_timedwait(&s->tick, &s->mu, &until) != ETIMEDOUT)
    ;
  stopping = s->stopping;
  pthread_mutex_unlock(&s->mu);
  return stopping;
}

/* bindingCycle: WaitOnPermit, PreBind, Bind, PostBind. */
static void binding_cycle(kapi_scheduler *s, bind_job *j)
{
  kapi_framework *fw = s->cfg.profiles[j->profile];
  const kj *pod = j->assumed->obj;
  kapi_sched_status st = {0};
  kapi_code c = KAPI_SUCCESS;
  char *msg = NULL, buf[600];

  if (j->wait_ms) {
    /* No plugin can allow a waiting pod through this ABI: it waits out
     * its timeout and is rejected, as upstream's WaitOnPermit would. */
    char d[32];
    wait_ms(s, j->wait_ms);
    go_duration(j->wait_ms, d, sizeof d);
    snprintf(buf, sizeof buf, "rejected due to timeout after waiting %s at "
             "plugin %s", d, j->waiter ? j->waiter : "?");
    st.code = c = KAPI_UNSCHEDULABLE;
    st.plugin = j->waiter;
    kapi_status_add_reason(&st, buf);
  }
  if (c == KAPI_SUCCESS)
    c = kapi_fw_run_pre_bind(fw, j->cs, pod, j->node, &st);
  if (c == KAPI_SUCCESS)
    c = kapi_fw_run_bind(fw, j->cs, pod, j->node, &st);
  kapi_scache_finish_binding(s->cache, j->assumed->key, mono_ns());
  if (c == KAPI_SUCCESS) {
    LOG_V(2, "Successfully bound pod to node pod=\"%s\" node=\"%s\"",
          j->assumed->key, j->node);
    snprintf(buf, sizeof buf, "Successfully assigned %s/%s to %s",
             meta(pod, "namespace"), meta(pod, "name"), j->node);
    record(s, j->profile, pod, "Normal", "Scheduled", buf);
    kapi_fw_run_post_bind(fw, j->cs, pod, j->node);
    __atomic_add_fetch(&s->scheduled, 1, __ATOMIC_RELAXED);
    kapi_sq_done(s->queue, j->qp);
  } else {
    const char *what = j->wait_ms ? "Permit" : "Bind";
    msg = failure_message(what, &st, j->node);
    /* The assumed pod's resources are free again: pods waiting for room
     * may fit now (upstream treats it as an assigned pod deletion). */
    if (undo_assume(s, fw, j))
      kapi_sq_move_all(s->queue, "AssignedPodDelete");
    handle_failure(s, j->profile, j->qp,
                   kapi_code_rejected(c) ? "Unschedulable" : "SchedulerError",
                   msg ? msg : "binding failed", "", kapi_code_rejected(c));
  }
  free(msg);
  kapi_status_free(&st);
  job_free(j);
}

static void *binder_main(void *arg)
{
  kapi_scheduler *s = arg;
  bind_job *j;

  for (;;) {
    pthread_mutex_lock(&s->mu);
    while (!s->head && !s->stopping)
      pthread_cond_wait(&s->work, &s->mu);
    j = s->head;
    if (j) {
      s->head = j->next;
      if (!s->head)
        s->tail = NULL;
      s->pending--;
      pthread_cond_signal(&s->room);
    }
    if (!j || s->stopping) {
      pthread_mutex_unlock(&s->mu);
      if (!j)
        return NULL;
      /* Shutting down: give the assumption back, bind nothing. */
      undo_assume(s, s->cfg.profiles[j->profile], j);
      kapi_sq_done(s->queue, j->qp);
      job_free(j);
      continue;
    }
    pthread_mutex_unlock(&s->mu);
    binding_cycle(s, j);
  }
}

/* Queues a binding; blocks while too many are pending (backpressure on
 * the loop).  Returns -ECANCELED when stopping (the job is not queued). */
static int submit(kapi_scheduler *s, bind_job *j)
{
  pthread_mutex_lock(&s->mu);
  while (s->pending >= MAX_PENDING_BINDINGS && !s->stopping)
    pthread_cond_wait(&s->room, &s->mu);
  if (s->stopping) {
    pthread_mutex_unlock(&s->mu);
    return -ECANCELED;
  }
  if (s->tail)
    s->tail->next = j;
  else
    s->head = j;
  s->tail = j;
  s->pending++;
  pthread_cond_signal(&s->work);
  pthread_mutex_unlock(&s->mu);
  return 0;
}

/* ---- the scheduling cycle ---------------------------------------------- */

/* A copy of the pod with spec.nodeName set (the cache's assumed pod). */
static kapi_cobj *assumed_copy(const kj *pod, const char *node)
{
  kj *copy = kj_clone(pod);

  if (!copy || kj_set_str(kj_child_object(copy, "spec"), "nodeName", node) <
                   0) {
    kj_free(copy);
    return NULL;
  }
  return kapi_cobj_new(copy);
}

/* The algorithm failed: FitError (with PostFilter) or error. */
static void algorithm_failure(kapi_scheduler *s, size_t profile,
                              kapi_qpod *qp, kapi_cycle *cs,
                              kapi_diagnosis *diag, kapi_code c, char *err)
{
  kapi_framework *fw = s->cfg.profiles[profile];
  const kj *pod = qp->cycle_pod->obj;
  char *msg = NULL;

  if (kapi_code_rejected(c) && !err) {
    /* Try to make room (preemption) for a later cycle. */
    kapi_fw_run_post_filter(fw, cs, pod, diag);
    msg = kapi_fit_error_message(diag);
    handle_failure(s, profile, qp, "Unschedulable", msg ? msg : "",
                   cs->nominated_node, 1);
  } else {
    /* No nodes, or an error: any nomination is cleared. */
    handle_failure(s, profile, qp,
                   kapi_code_rejected(c) ? "Unschedulable" : "SchedulerError",
                   err ? err : "scheduling error", "", kapi_code_rejected(c));
  }
  free(msg);
}

/* Reserve or Permit failed after the pod was assumed. */
static void late_failure(kapi_scheduler *s, bind_job *j, const char *what,
                         kapi_sched_status *st)
{
  char *msg = failure_message(what, st, j->node);

  undo_assume(s, s->cfg.profiles[j->profile], j);
  handle_failure(s, j->profile, j->qp,
                 kapi_code_rejected(st->code) ? "Unschedulable"
                                              : "SchedulerError",
                 msg ? msg : what, "", kapi_code_rejected(st->code));
  free(msg);
  job_free(j);
}

static void schedule_one(kapi_scheduler *s, kapi_qpod *qp)
{
  const kj *pod = qp->cycle_pod->obj;
  long profile = profile_of(s, pod);
  kapi_framework *fw;
  kapi_sched_result res;
  kapi_diagnosis diag = {0};
  kapi_sched_status st = {0};
  bind_job *j;
  char *err = NULL, buf[600];
  kapi_code c;

  if (profile < 0) {
    kapi_sq_done(s->queue, qp); /* not ours (any more) */
    return;
  }
  fw = s->cfg.profiles[profile];
  if (kj_ptr(pod, "/metadata/deletionTimestamp")) {
    snprintf(buf, sizeof buf, "skip schedule deleting pod: %s/%s",
             meta(pod, "namespace"), meta(pod, "name"));
    record(s, (size_t)profile, pod, "Warning", "FailedScheduling", buf);
    kapi_sq_done(s->queue, qp);
    return;
  }
  LOG_V(3, "Attempting to schedule pod pod=\"%s\"", qp->cycle_pod->key);
  j = calloc(1, sizeof *j);
  if (!j || !(j->cs = kapi_cycle_new()) ||
      kapi_scache_snapshot(s->cache, &s->snap) < 0) {
    if (j)
      kapi_cycle_free(j->cs);
    free(j);
    handle_failure(s, (size_t)profile, qp, "SchedulerError", "out of memory",
                   NULL, 0);
    return;
  }
  j->profile = (size_t)profile;
  j->qp = qp;
  c = kapi_fw_schedule_pod(fw, j->cs, &s->snap, pod, &res, &diag, &err);
  if (c != KAPI_SUCCESS) {
    algorithm_failure(s, (size_t)profile, qp, j->cs, &diag, c, err);
    free(err);
    kapi_diagnosis_free(&diag);
    job_free(j);
    return;
  }
  kapi_diagnosis_free(&diag);
  snprintf(j->node, sizeof j->node, "%s", res.node);
  /* Assume: the next cycle already counts this pod on its node. */
  j->assumed = assumed_copy(pod, j->node);
  if (!j->assumed || kapi_scache_assume_pod(s->cache, j->assumed) < 0) {
    handle_failure(s, (size_t)profile, qp, "SchedulerError",
                   "assuming the pod in the scheduler cache failed", "", 0);
    job_free(j);
    return;
  }
  kapi_sq_unnominate(s->queue, qp->cycle_pod->key);
  if (kapi_fw_run_reserve(fw, j->cs, j->assumed->obj, j->node, &st) !=
      KAPI_SUCCESS) {
    late_failure(s, j, "Reserve", &st);
    kapi_status_free(&st);
    return;
  }
  c = kapi_fw_run_permit(fw, j->cs, j->assumed->obj, j->node, &st,
                         &j->wait_ms);
  if (c != KAPI_SUCCESS && c != KAPI_WAIT) {
    late_failure(s, j, "Permit", &st);
    kapi_status_free(&st);
    return;
  }
  j->waiter = c == KAPI_WAIT ? st.plugin : NULL;
  if (c != KAPI_WAIT)
    j->wait_ms = 0;
  kapi_status_free(&st);
  if (submit(s, j) < 0) {
    undo_assume(s, fw, j);
    kapi_sq_done(s->queue, qp);
    job_free(j);
  }
}

static void *loop_main(void *arg)
{
  kapi_scheduler *s = arg;
  kapi_qpod *qp;

  while ((qp = kapi_sq_pop(s->queue)))
    schedule_one(s, qp);
  return NULL;
}

/* Periodic queue work: backoffQ every second, leftovers every 30 s. */
static void *ticker_main(void *arg)
{
  kapi_scheduler *s = arg;
  int n = 0;

  while (!wait_ms(s, 1000)) {
    kapi_sq_flush_backoff(s->queue);
    if (++n % 30 == 0) {
      kapi_sq_flush_unschedulable(s->queue);
      kapi_scache_cleanup_expired(s->cache, mono_ns());
    }
  }
  return NULL;
}

/* ---- informer handlers ------------------------------------------------- */

static void nominate_from_status(kapi_scheduler *s, kapi_cobj *pod)
{
  const char *nnn = kj_get_str(kj_get(pod->obj, "status"),
                               "nominatedNodeName");

  if (nnn && *nnn)
    kapi_sq_nominate(s->queue, pod, nnn);
  else
    kapi_sq_unnominate(s->queue, pod->key);
}

static void on_pod_add(void *arg, kapi_cobj *pod)
{
  kapi_scheduler *s = arg;

  if (assigned(pod->obj)) {
    kapi_scache_add_pod(s->cache, pod);
    return;
  }
  if (profile_of(s, pod->obj) < 0)
    return;
  kapi_sq_add(s->queue, pod);
  nominate_from_status(s, pod);
}

static void on_pod_update(void *arg, kapi_cobj *old, kapi_cobj *pod)
{
  kapi_scheduler *s = arg;

  if (assigned(pod->obj)) {
    /* Bound (by us, usually): out of the queue, into the cache, which
     * confirms the assumption. */
    if (!assigned(old->obj))
      kapi_sq_delete(s->queue, pod->key);
    kapi_scache_update_pod(s->cache, old, pod);
    return;
  }
  if (profile_of(s, pod->obj) < 0) {
    kapi_sq_delete(s->queue, pod->key);
    return;
  }
  kapi_sq_update(s->queue, old, pod);
  nominate_from_status(s, pod);
}

static void on_pod_delete(void *arg, kapi_cobj *pod)
{
  kapi_scheduler *s = arg;

  if (assigned(pod->obj)) {
    /* Terminal pods leave the field selector: deleted here too. */
    kapi_scache_remove_pod(s->cache, pod);
    kapi_sq_move_all(s->queue, "AssignedPodDelete");
    return;
  }
  kapi_sq_delete(s->queue, pod->key);
}

/* Node changes that can make a pod fit (upstream's
 * nodeSchedulingPropertiesChange): not heartbeats. */
static int node_changed(const kj *a, const kj *b)
{
  return !kj_equal(kj_get(a, "spec"), kj_get(b, "spec")) ||
         !kj_equal(kj_ptr(a, "/metadata/labels"),
                   kj_ptr(b, "/metadata/labels")) ||
         !kj_equal(kj_ptr(a, "/status/allocatable"),
                   kj_ptr(b, "/status/allocatable"));
}

static void on_node_add(void *arg, kapi_cobj *node)
{
  kapi_scheduler *s = arg;

  kapi_scache_add_node(s->cache, node);
  kapi_sq_move_all(s->queue, "NodeAdd");
}

static void on_node_update(void *arg, kapi_cobj *old, kapi_cobj *node)
{
  kapi_scheduler *s = arg;

  kapi_scache_add_node(s->cache, node);
  if (node_changed(old->obj, node->obj))
    kapi_sq_move_all(s->queue, "NodeUpdate");
}

static void on_node_delete(void *arg, kapi_cobj *node)
{
  kapi_scheduler *s = arg;

  kapi_scache_remove_node(s->cache, meta(node->obj, "name"));
}

static const kapi_event_handler pod_handler = {on_pod_add, on_pod_update,
                                               on_pod_delete};
static const kapi_event_handler node_handler = {on_node_add, on_node_update,
                                                on_node_delete};

/* ---- lifecycle --------------------------------------------------------- */

/* QueueSort through the first profile's plugin (upstream requires every
 * profile to use the same one). */
static int queue_less(void *arg, const kj *a, int64_t ts_a, const kj *b,
                      int64_t ts_b)
{
  const kapi_fw_plugin *p = arg;

  return p->ops->less(p->st, a, ts_a, b, ts_b);
}

kapi_scheduler *kapi_scheduler_new(const kapi_scheduler_config *cfg)
{
  kapi_scheduler *s = calloc(1, sizeof *s);
  kapi_sq_config qc = {0};

  if (!s || !cfg->n_profiles ||
      !cfg->profiles[0]->n_points[KAPI_EP_QUEUE_SORT]) {
    free(s);
    return NULL;
  }
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->work, NULL);
  pthread_cond_init(&s->room, NULL);
  pthread_cond_init(&s->tick, NULL);
  s->cfg = *cfg;
  if (s->cfg.binders <= 0)
    s->cfg.binders = 16;
  qc.less = queue_less;
  qc.less_arg = &cfg->profiles[0]->points[KAPI_EP_QUEUE_SORT][0];
  qc.initial_backoff_ns = cfg->initial_backoff_s * NS_PER_S;
  qc.max_backoff_ns = cfg->max_backoff_s * NS_PER_S;
  s->queue = kapi_sq_new(&qc);
  s->cache = kapi_scache_new(0);
  s->recorders = calloc(cfg->n_profiles, sizeof *s->recorders);
  if (!s->queue || !s->cache || !s->recorders) {
    kapi_scheduler_free(s);
    return NULL;
  }
  for (size_t i = 0; i < cfg->n_profiles; i++)
    s->recorders[i] = kapi_recorder_new(cfg->client,
                                        cfg->profiles[i]->scheduler_name, NULL);
  s->io = (kapi_sched_io){s, io_patch, io_delete, io_event};
  for (size_t i = 0; i < cfg->n_profiles; i++) {
    cfg->profiles[i]->queue = s->queue;
    cfg->profiles[i]->io = &s->io;
  }
  return s;
}

static kapi_informer *start_informer(kapi_scheduler *s, const kapi_gvr *gvr,
                                     const kapi_informer_options *opts,
                                     const kapi_event_handler *h)
{
  kapi_informer *inf = kapi_informer_new(s->cfg.client, gvr, NULL, opts);

  if (!inf)
    return NULL;
  if (kapi_informer_add_handler(inf, h, s) < 0 ||
      kapi_informer_start(inf) < 0) {
    kapi_informer_free(inf);
    return NULL;
  }
  return inf;
}

int kapi_scheduler_start(kapi_scheduler *s, int timeout_ms)
{
  /* Terminal pods hold no resources (upstream's scheduler field
   * selector). */
  static const kapi_informer_options pod_opts = {
      .field_selector = "status.phase!=Succeeded,status.phase!=Failed"};
  int r;

  s->nodes = start_informer(s, &nodes_gvr, NULL, &node_handler);
  s->pods = start_informer(s, &pods_gvr, &pod_opts, &pod_handler);
  if (!s->nodes || !s->pods)
    return -ENOMEM;
  if ((r = kapi_informer_wait_synced(s->nodes, timeout_ms)) < 0 ||
      (r = kapi_informer_wait_synced(s->pods, timeout_ms)) < 0) {
    LOG_ERROR("the pod and node caches did not sync: %s", strerror(-r));
    return r;
  }
  LOG_INFO("caches synced: %zu node(s), %zu assigned pod(s)",
           kapi_scache_node_count(s->cache), kapi_scache_pod_count(s->cache));
  s->binders = calloc((size_t)s->cfg.binders, sizeof *s->binders);
  if (!s->binders)
    return -ENOMEM;
  for (int i = 0; i < s->cfg.binders; i++) {
    if (pthread_create(&s->binders[i], NULL, binder_main, s) != 0)
      return -EAGAIN;
    s->n_binders++;
  }
  if (pthread_create(&s->ticker, NULL, ticker_main, s) != 0)
    return -EAGAIN;
  s->ticker_started = 1;
  if (pthread_create(&s->loop, NULL, loop_main, s) != 0)
    return -EAGAIN;
  s->loop_started = 1;
  return 0;
}

void kapi_scheduler_stop(kapi_scheduler *s)
{
  if (!s)
    return;
  /* No more events, then no more cycles, then no more bindings. */
  if (s->pods)
    kapi_informer_stop(s->pods);
  if (s->nodes)
    kapi_informer_stop(s->nodes);
  kapi_sq_close(s->queue);
  pthread_mutex_lock(&s->mu);
  s->stopping = 1;
  pthread_cond_broadcast(&s->work);
  pthread_cond_broadcast(&s->room);
  pthread_cond_broadcast(&s->tick);
  pthread_mutex_unlock(&s->mu);
  if (s->loop_started)
    pthread_join(s->loop, NULL);
  s->loop_started = 0;
  for (int i = 0; i < s->n_binders; i++)
    pthread_join(s->binders[i], NULL);
  s->n_binders = 0;
  if (s->ticker_started)
    pthread_join(s->ticker, NULL);
  s->ticker_started = 0;
}

void kapi_scheduler_free(kapi_scheduler *s)
{
  if (!s)
    return;
  if (s->queue)
    kapi_scheduler_stop(s);
  kapi_informer_free(s->pods);
  kapi_informer_free(s->nodes);
  for (size_t i = 0; s->recorders && i < s->cfg.n_profiles; i++)
    kapi_recorder_free(s->recorders[i]);
  free(s->recorders);
  for (size_t i = 0; i < s->cfg.n_profiles; i++) {
    s->cfg.profiles[i]->queue = NULL;
    s->cfg.profiles[i]->io = NULL;
  }
  kapi_snapshot_release(&s->snap);
  kapi_sq_free(s->queue);
  kapi_scache_free(s->cache);
  free(s->binders);
  pthread_cond_destroy(&s->work);
  pthread_cond_destroy(&s->room);
  pthread_cond_destroy(&s->tick);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

uint64_t kapi_scheduler_scheduled(kapi_scheduler *s)
{
  return __atomic_load_n(&s->scheduled, __ATOMIC_RELAXED);
}

uint64_t kapi_scheduler_failed(kapi_scheduler *s)
{
  return __atomic_load_n(&s->failed, __ATOMIC_RELAXED);
}
