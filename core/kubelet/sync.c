/*
 * sync.c - one pod worker step (upstream: pod_workers.go podWorkerLoop ->
 * kubelet.go SyncPod / SyncTerminatingPod / SyncTerminatedPod,
 * kuberuntime_manager.go SyncPod, status_manager.go).
 *
 * A step reads the pod's latest object, refreshes the runtime state of
 * its containers, computes the actions (podactions.c), applies them
 * (sandbox, container starts with CrashLoopBackOff, kills), computes the
 * status (podstatus.c) and writes it if it changed.  A pod being deleted
 * is stopped with its grace period, gets its final status and is then
 * finally deleted (gracePeriodSeconds 0, uid precondition).
 */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kubelet.h"
#include "log.h"
#include "podactions.h"
#include "status.h"

#define RESYNC_NS (10 * KL_NS_PER_S)    /* status manager batch period */
#define RETRY_NS (2 * KL_NS_PER_S)      /* after a failed API write */
#define MIN_GRACE_S 2                   /* minimumGracePeriodInSeconds */
#define DEFAULT_GRACE_S 30

static const kapi_gvr pods_gvr = {"", "v1", "pods", 1};

/* ---- events ---------------------------------------------------------------- */

/* What the recorder needs of the pod (list items carry no kind). */
static kj *involved(const kj *pod)
{
  kj *o = kj_object(), *m = kj_object();
  const kj *src = kj_get(pod, "metadata");
  static const char *const keys[] = {"name", "namespace", "uid",
                                     "resourceVersion"};
  size_t i;
  kj_set_str(o, "kind", "Pod");
  kj_set_str(o, "apiVersion", "v1");
  for (i = 0; i < 4; i++)
    if (kj_get_str(src, keys[i]))
      kj_set_str(m, keys[i], kj_get_str(src, keys[i]));
  kj_set(o, "metadata", m);
  return o;
}

typedef struct ctx {
  kl *k;
  kl_pod *p;
  const kj *pod;
  kj *ref; /* involved object for events */
  int64_t now;
} ctx;

static void event(ctx *c, const char *type, const char *reason,
                  const char *fmt, ...) KAPI_PRINTF(4, 5);
static void event(ctx *c, const char *type, const char *reason,
                  const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (!c->ref)
    c->ref = involved(c->pod);
  if (c->k->recorder && c->ref)
    kapi_recorder_eventf(c->k->recorder, c->ref, type, reason, "%s", msg);
}

/* ---- runtime state ------------------------------------------------------------ */

static void copy_status(void *arg, const kapi_container_status *s)
{
  kl_cinst *i = arg;
  i->state = s->state;
  i->created_at = s->created_at;
  i->started_at = s->started_at;
  i->finished_at = s->finished_at;
  i->exit_code = s->exit_code;
  snprintf(i->reason, sizeof i->reason, "%s", s->reason ? s->reason : "");
  snprintf(i->message, sizeof i->message, "%s", s->message ? s->message : "");
}

/* Reads the current state of the pod's containers from the runtime
 * (upstream reads the PLEG's cache; one status call per container is as
 * cheap here). */
static void refresh(kl *k, kl_pod *p)
{
  size_t i;
  for (i = 0; i < p->n_ctrs; i++) {
    kl_ctr *c = &p->ctrs[i];
    if (c->has_cur &&
        k->rt->container_status(k->rt_st, c->cur.id, copy_status, &c->cur) ==
            -ENOENT)
      c->cur.state = KAPI_CONTAINER_UNKNOWN;
  }
}

static const kj *spec_of(const kj *pod, const kl_ctr *c)
{
  const kj *l = kj_ptr(pod, c->init ? "/spec/initContainers"
                                    : "/spec/containers");
  size_t i;
  for (i = 0; i < kj_len(l); i++)
    if (kj_get_str(kj_at(l, i), "name") &&
        !strcmp(kj_get_str(kj_at(l, i), "name"), c->name))
      return kj_at(l, i);
  return NULL;
}

/* The pod as the runtime sees it: with the IPs the downward API reads. */
static kj *runtime_pod(ctx *c)
{
  kj *pod = kj_clone(c->pod), *st;
  if (!pod)
    return NULL;
  st = kj_child_object(pod, "status");
  if (c->p->pod_ip[0])
    kj_set_str(st, "podIP", c->p->pod_ip);
  kj_set_str(st, "hostIP", c->p->node->internal_ip);
  return pod;
}

/* ---- logs --------------------------------------------------------------------- */

static void pod_log_dir(ctx *c, char *buf, size_t len)
{
  snprintf(buf, len, "%s/pods/%s_%s_%s", c->k->opt.root_dir, c->p->ns,
           c->p->name, c->p->uid);
}

/* upstream: /var/log/pods/<ns>_<name>_<uid>/<container>/<restart>.log.
 * Hollow nodes log nowhere. */
static void log_path(ctx *c, const kl_ctr *ctr, char *buf, size_t len)
{
  char dir[3072];
  if (c->k->opt.hollow) {
    snprintf(buf, len, "/dev/null");
    return;
  }
  pod_log_dir(c, dir, sizeof dir);
  snprintf(buf, len, "%s/%s", dir, ctr->name);
  if (kl_mkdirs(buf) < 0)
    LOG_WARN("cannot create log directory %s: %s", buf, strerror(errno));
  snprintf(buf, len, "%s/%s/%d.log", dir, ctr->name, (int)ctr->restart_count);
}

static int unlink_cb(const char *path, const struct stat *sb, int flag,
                     struct FTW *ftw)
{
  (void)sb;
  (void)flag;
  (void)ftw;
  remove(path);
  return 0;
}

/* ---- container starts --------------------------------------------------------- */

static void set_waiting(kl_ctr *c, const char *reason, const char *message)
{
  snprintf(c->waiting_reason, sizeof c->waiting_reason, "%s", reason);
  snprintf(c->waiting_message, sizeof c->waiting_message, "%.511s",
           message ? message : "");
}

/*
 * doBackOff: an exited container restarts only when its back-off since
 * it finished has passed; otherwise it waits in CrashLoopBackOff and
 * *retry_at is pulled in to when the back-off ends.  Returns 1 to skip.
 */
static int in_backoff(ctx *c, kl_ctr *ctr, int64_t *retry_at)
{
  kl_pod *p = c->p;
  char key[512], d[32];
  int64_t fin = ctr->cur.finished_at, dur;

  snprintf(key, sizeof key, "%s_%s_%s_%s", p->name, p->ns, p->uid, ctr->name);
  if (!kl_backoff_in_backoff_since(c->k->backoff, key, fin, c->now)) {
    kl_backoff_next(c->k->backoff, key, fin, c->now);
    return 0;
  }
  dur = kl_backoff_get(c->k->backoff, key);
  kl_format_duration(dur, d, sizeof d);
  {
    char msg[1024];
    snprintf(msg, sizeof msg,
             "back-off %s restarting failed container=%s pod=%s_%s(%s)", d,
             ctr->name, p->name, p->ns, p->uid);
    set_waiting(ctr, "CrashLoopBackOff", msg);
  }
  event(c, "Warning", "BackOff",
        "Back-off restarting failed container %s in pod %s_%s(%s)",
        ctr->name, p->name, p->ns, p->uid);
  if (!*retry_at || fin + dur < *retry_at)
    *retry_at = fin + dur;
  return 1;
}

/* Creates and starts a new instance of ctrs[idx] (startContainer). */
static void start_container(ctx *c, size_t idx, int64_t *retry_at)
{
  kl *k = c->k;
  kl_pod *p = c->p;
  kl_ctr *ctr = &p->ctrs[idx];
  const kj *spec = spec_of(c->pod, ctr);
  char id[KAPI_ID_MAX], path[4096];
  kapi_error e;
  kj *pod;

  if (!spec)
    return;
  if (ctr->has_cur && ctr->cur.state == KAPI_CONTAINER_EXITED &&
      in_backoff(c, ctr, retry_at))
    return;
  /* The instance being replaced becomes lastState; older ones go. */
  if (ctr->has_cur) {
    if (ctr->has_last)
      k->rt->remove_container(k->rt_st, ctr->last.id);
    ctr->last = ctr->cur;
    ctr->has_last = 1;
    ctr->has_cur = 0;
    ctr->restart_count++;
  } else if (!ctr->has_last && p->base_restarts[idx] >= 0) {
    ctr->restart_count = p->base_restarts[idx] + 1; /* adopted */
    p->base_restarts[idx] = -1;
  }
  log_path(c, ctr, path, sizeof path);
  pod = runtime_pod(c);
  kapi_error_init(&e);
  if (!pod || k->rt->create_container(k->rt_st, p->sandbox_id, pod, spec, path,
                                      id, &e) < 0) {
    const char *msg = e.message ? e.message : "cannot create the container";
    set_waiting(ctr, "CreateContainerError", msg);
    event(c, "Warning", "Failed", "Error: %s", msg);
    if (!*retry_at || c->now + KL_BACKOFF_INITIAL < *retry_at)
      *retry_at = c->now + KL_BACKOFF_INITIAL;
    kapi_error_clear(&e);
    kj_free(pod);
    return;
  }
  kj_free(pod);
  event(c, "Normal", "Created", "Created container: %s", ctr->name);
  memset(&ctr->cur, 0, sizeof ctr->cur);
  snprintf(ctr->cur.id, sizeof ctr->cur.id, "%s", id);
  ctr->cur.state = KAPI_CONTAINER_CREATED;
  ctr->has_cur = 1;
  if (k->rt->start_container(k->rt_st, id, &e) < 0) {
    const char *msg = e.message ? e.message : "cannot start the container";
    set_waiting(ctr, "RunContainerError", msg);
    event(c, "Warning", "Failed", "Error: %s", msg);
  } else {
    set_waiting(ctr, "", NULL);
    event(c, "Normal", "Started", "Started container %s", ctr->name);
  }
  kapi_error_clear(&e);
}

/* killContainer for every container still running, within one grace
 * period (each stop gets what is left of it, at least 2 s). */
static void kill_containers(ctx *c, int64_t grace_s)
{
  kl *k = c->k;
  int64_t deadline = kl_now_ns() + grace_s * KL_NS_PER_S;
  size_t i;
  for (i = 0; i < c->p->n_ctrs; i++) {
    kl_ctr *ctr = &c->p->ctrs[i];
    int64_t left;
    if (!ctr->has_cur || (ctr->cur.state != KAPI_CONTAINER_RUNNING &&
                          ctr->cur.state != KAPI_CONTAINER_CREATED))
      continue;
    left = (deadline - kl_now_ns()) / KL_NS_PER_S;
    if (left < MIN_GRACE_S)
      left = MIN_GRACE_S;
    event(c, "Normal", "Killing", "Stopping container %s", ctr->name);
    k->rt->stop_container(k->rt_st, ctr->cur.id, left);
  }
  refresh(k, c->p);
}

/* ---- the status manager ------------------------------------------------------------ */

/* Fields a merge patch must null when the new status lacks them. */
static void null_dropped(kj *patch_status, const kj *prev)
{
  static const char *const keys[] = {"message", "reason", "podIP", "podIPs",
                                     "initContainerStatuses",
                                     "nominatedNodeName", NULL};
  size_t i;
  for (i = 0; keys[i]; i++)
    if (kj_get(prev, keys[i]) && !kj_get(patch_status, keys[i]))
      kj_set(patch_status, keys[i], kj_null());
}

/*
 * Writes the pod's status when it differs from the last one written, or
 * (the 10 s batch reconcile) from the API's.  merge-patch on
 * pods/NAME/status with metadata.uid, so a recreated pod of the same
 * name is never written to.
 */
static void write_status(ctx *c, int terminal)
{
  kl_pod *p = c->p;
  kl_pod_view v = {
      .pod = c->pod,
      .ctrs = p->ctrs,
      .n_ctrs = p->n_ctrs,
      .sandbox_ready = p->has_sandbox,
      .pod_ip = p->has_sandbox ? p->pod_ip : NULL,
      .host_ip = p->node->internal_ip,
      .runtime = "kapi",
      .terminal = terminal,
  };
  const kj *api = kj_get(c->pod, "status");
  kj *st, *patch, *ps, *mirror_status = NULL;
  kapi_result res;
  char *body, uid[64];
  int rc;

  /* A static pod's status goes to its mirror pod (none yet: the mirror
   * pod's arrival queues the pod again). */
  snprintf(uid, sizeof uid, "%s", p->uid);
  if (kl_static_is_static(c->pod)) {
    if (kl_static_mirror_of(c->k, c->pod, uid, sizeof uid,
                            &mirror_status) < 0)
      return;
    api = mirror_status;
  }
  st = kl_pod_status(&v, p->status, c->now / KL_NS_PER_S);
  if (!st || (p->status && kl_status_equal(st, p->status) &&
              (kj_equal(st, api) ||
               c->now - p->status_written_ns < RESYNC_NS))) {
    kj_free(st);
    kj_free(mirror_status);
    return;
  }
  patch = kj_object();
  kj_set_str(kj_child_object(patch, "metadata"), "uid", uid);
  ps = kj_clone(st);
  null_dropped(ps, p->status ? p->status : api);
  kj_free(mirror_status);
  kj_set(patch, "status", ps);
  body = kj_dump(patch, NULL);
  kj_free(patch);
  rc = body ? kapi_client_patch(c->k->client, &pods_gvr, p->ns, p->name,
                                "status", "application/merge-patch+json",
                                body, NULL, &res)
            : -ENOMEM;
  free(body);
  if (rc == 0) {
    LOG_V(3, "status of pod %s/%s written: %s", p->ns, p->name,
          kj_get_str(st, "phase"));
    kj_free(p->status);
    p->status = st;
    p->status_written_ns = c->now;
    return;
  }
  kj_free(st);
  if (rc != -ENOENT) {
    LOG_WARN("cannot update the status of pod %s/%s: %s", p->ns, p->name,
             rc == -ENOMEM ? "out of memory" : res.message);
    kl_schedule(c->k, p, c->now + RETRY_NS);
  }
}

/* ---- syncing a live pod -------------------------------------------------------------- */

static void create_sandbox(ctx *c, int64_t *retry_at)
{
  kl *k = c->k;
  kl_pod *p = c->p;
  kapi_error e;
  kj *pod;

  kl_pod_ip_assign(k, p);
  pod = runtime_pod(c);
  kapi_error_init(&e);
  if (pod && k->rt->run_pod_sandbox(k->rt_st, pod, p->sandbox_id, &e) == 0) {
    p->has_sandbox = 1;
    kl_sandbox_register(k, p->sandbox_id, p->uid);
  } else {
    event(c, "Warning", "FailedCreatePodSandBox",
          "Failed to create pod sandbox: %s",
          e.message ? e.message : "out of memory");
    kl_pod_ip_release(k, p);
    p->pod_ip[0] = '\0';
    *retry_at = c->now + KL_BACKOFF_INITIAL;
  }
  kapi_error_clear(&e);
  kj_free(pod);
}

static int64_t pod_grace(const kj *pod)
{
  int64_t g;
  if (kj_to_int(kj_ptr(pod, "/metadata/deletionGracePeriodSeconds"), &g) ==
          0 ||
      kj_to_int(kj_ptr(pod, "/spec/terminationGracePeriodSeconds"), &g) == 0)
    return g;
  return DEFAULT_GRACE_S;
}

static void sync_live(ctx *c)
{
  kl_pod *p = c->p;
  const char *phase = kj_str(kj_ptr(c->pod, "/status/phase"));
  kl_actions a;
  int64_t retry_at = 0, next;
  size_t i;

  if (kl_phase_is_terminal(phase)) {
    /* Terminal in the API: nothing runs again.  A pod that ran here is
     * stopped (if anything still runs) and its status kept current. */
    if (!p->has_sandbox)
      return;
    refresh(c->k, p);
    kill_containers(c, pod_grace(c->pod));
    write_status(c, 1);
    return;
  }
  refresh(c->k, p);
  if (kl_pod_actions(c->pod, p->ctrs, p->n_ctrs, p->has_sandbox, &a) < 0) {
    kl_schedule(c->k, p, c->now + RETRY_NS);
    return;
  }
  if (a.create_sandbox)
    create_sandbox(c, &retry_at);
  if (p->has_sandbox) {
    if (a.kill_pod)
      kill_containers(c, pod_grace(c->pod));
    for (i = 0; i < a.n_start; i++)
      start_container(c, a.start[i], &retry_at);
    refresh(c->k, p);
  }
  kl_actions_free(&a);
  write_status(c, 0);
  next = c->now + RESYNC_NS;
  if (retry_at && retry_at < next)
    next = retry_at;
  kl_schedule(c->k, p, next);
}

/* ---- terminating and terminated pods ---------------------------------------------------- */

static void remove_runtime_objects(ctx *c)
{
  kl *k = c->k;
  kl_pod *p = c->p;
  size_t i;
  for (i = 0; i < p->n_ctrs; i++) {
    kl_ctr *ctr = &p->ctrs[i];
    if (ctr->has_last)
      k->rt->remove_container(k->rt_st, ctr->last.id);
    if (ctr->has_cur)
      k->rt->remove_container(k->rt_st, ctr->cur.id);
  }
  if (p->has_sandbox) {
    k->rt->remove_pod_sandbox(k->rt_st, p->sandbox_id);
    kl_sandbox_forget(k, p->sandbox_id);
  }
  kl_pod_ip_release(k, p);
  if (!k->opt.hollow) {
    char dir[4096];
    pod_log_dir(c, dir, sizeof dir);
    nftw(dir, unlink_cb, 16, FTW_DEPTH | FTW_PHYS);
  }
  p->cleaned = 1;
}

/* The final delete: the object goes once its containers are stopped. */
static void final_delete(ctx *c)
{
  kl_pod *p = c->p;
  kapi_result res;
  kj *opts = kj_object();
  int rc;
  kj_set_str(opts, "kind", "DeleteOptions");
  kj_set_str(opts, "apiVersion", "v1");
  kj_set_int(opts, "gracePeriodSeconds", 0);
  kj_set_str(kj_child_object(opts, "preconditions"), "uid", p->uid);
  rc = kapi_client_delete(c->k->client, &pods_gvr, p->ns, p->name, opts,
                          &res);
  kj_free(opts);
  /* 404: already gone; 409: a new pod of that name (uid precondition). */
  if (rc == 0 || rc == -ENOENT || rc == -EBUSY || rc == -EEXIST) {
    p->final_deleted = 1;
    LOG_V(2, "pod %s/%s finally deleted", p->ns, p->name);
  } else {
    LOG_WARN("cannot delete pod %s/%s: %s", p->ns, p->name, res.message);
    kl_schedule(c->k, p, c->now + RETRY_NS);
  }
}

static void sync_terminating(ctx *c, int removed)
{
  kl *k = c->k;
  kl_pod *p = c->p;

  if (!p->terminated) {
    /* A pod removed from the API without grace is killed with the
     * minimum one; a static pod removed from its file, with its own. */
    refresh(k, p);
    kill_containers(c, removed && !kl_static_is_static(c->pod)
                           ? MIN_GRACE_S
                           : pod_grace(c->pod));
    if (p->has_sandbox)
      k->rt->stop_pod_sandbox(k->rt_st, p->sandbox_id);
    refresh(k, p);
    p->terminated = 1;
  }
  if (!removed && !p->final_deleted) {
    /* A terminal pod that never ran here (a kubelet restart lost its
     * containers) keeps the status it has. */
    if (p->has_sandbox ||
        !kl_phase_is_terminal(kj_str(kj_ptr(c->pod, "/status/phase"))))
      write_status(c, 1);
    final_delete(c);
  }
  if (!p->cleaned && (removed || p->final_deleted))
    remove_runtime_objects(c);
}

void kl_sync(kl *k, const char *uid)
{
  ctx c = {.k = k, .now = kl_now_ns()};
  kapi_cobj *o;
  int removed;

  pthread_mutex_lock(&k->mu);
  c.p = kapi__strmap_get(k->pods, uid);
  if (!c.p) {
    pthread_mutex_unlock(&k->mu);
    return;
  }
  o = kapi_cobj_ref(c.p->pod);
  removed = c.p->removed;
  c.p->next_sync_ns = 0;
  pthread_mutex_unlock(&k->mu);

  c.pod = o->obj;
  if (removed || kj_ptr(c.pod, "/metadata/deletionTimestamp"))
    sync_terminating(&c, removed);
  else
    sync_live(&c);
  kj_free(c.ref);
  kapi_cobj_unref(o);
  if (removed && c.p->cleaned)
    kl_pod_forget(k, c.p);
}
