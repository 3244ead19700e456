/*
 * podstatus.c - the API status of a pod from the kubelet's view of its
 * containers (see podstatus.h).
 *
 * Upstream: pkg/kubelet/kubelet_pods.go (generateAPIPodStatus,
 * convertToAPIContainerStatuses, getPhase), pkg/kubelet/status/generate.go
 * (the four kubelet-owned conditions), pkg/kubelet/prober (ready/started
 * without probes: a running container is started and ready; an init
 * container is ready once it exited 0), pkg/kubelet/status/
 * status_manager.go (startTime, lastTransitionTime).
 */
#include "podstatus.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meta.h"
#include "sbuf.h"

/* ---- small readers ------------------------------------------------------ */

static const char *str_at(const kj *o, const char *ptr)
{
  return kj_str(kj_ptr(o, ptr));
}

static int streq(const char *a, const char *b)
{
  return a && b && !strcmp(a, b);
}

static const char *restart_policy(const kj *pod)
{
  const char *p = str_at(pod, "/spec/restartPolicy");
  return p && *p ? p : "Always";
}

int kl_phase_is_terminal(const char *phase)
{
  return streq(phase, "Succeeded") || streq(phase, "Failed");
}

static void add_ctrs(const kj *list, int init, kl_ctr *out, size_t *n)
{
  size_t i;
  for (i = 0; i < kj_len(list); i++) {
    const kj *c = kj_at(list, i);
    kl_ctr *k = &out[(*n)++];
    memset(k, 0, sizeof *k);
    snprintf(k->name, sizeof k->name, "%s",
             kj_get_str(c, "name") ? kj_get_str(c, "name") : "");
    k->init = init;
    k->sidecar = init && streq(kj_get_str(c, "restartPolicy"), "Always");
  }
}

int kl_ctrs_from_spec(const kj *pod, kl_ctr **ret, size_t *ret_n)
{
  const kj *init = kj_ptr(pod, "/spec/initContainers");
  const kj *regular = kj_ptr(pod, "/spec/containers");
  size_t total = kj_len(init) + kj_len(regular), n = 0;
  kl_ctr *v = calloc(total ? total : 1, sizeof *v);

  if (!v)
    return -ENOMEM;
  add_ctrs(init, 1, v, &n);
  add_ctrs(regular, 0, v, &n);
  *ret = v;
  *ret_n = n;
  return 0;
}

int kl_should_restart(const kj *pod, const kl_ctr *c)
{
  const char *policy = restart_policy(pod);
  if (kj_ptr(pod, "/metadata/deletionTimestamp"))
    return 0;
  if (!c->has_cur)
    return 1;
  if (c->cur.state == KAPI_CONTAINER_RUNNING)
    return 0;
  if (c->cur.state != KAPI_CONTAINER_EXITED)
    return 1; /* created or unknown */
  if (c->sidecar)
    return 1;
  if (streq(policy, "Never"))
    return 0;
  if (streq(policy, "OnFailure") && c->cur.exit_code == 0)
    return 0;
  return 1;
}

/* ---- container statuses ------------------------------------------------- */

static kj *time_value(int64_t ns)
{
  char buf[32];
  kapi_rfc3339(ns / 1000000000, buf, sizeof buf);
  return kj_string(buf);
}

static void container_id(const kl_pod_view *v, const kl_cinst *i, char *buf,
                         size_t len)
{
  snprintf(buf, len, "%s://%s", v->runtime ? v->runtime : "kapi", i->id);
}

static kj *terminated_state(const kl_pod_view *v, const kl_cinst *i)
{
  kj *t = kj_object();
  char cid[KAPI_ID_MAX + 32];
  container_id(v, i, cid, sizeof cid);
  kj_set_int(t, "exitCode", i->exit_code);
  if (i->reason[0])
    kj_set_str(t, "reason", i->reason);
  if (i->message[0])
    kj_set_str(t, "message", i->message);
  kj_set(t, "startedAt", time_value(i->started_at));
  kj_set(t, "finishedAt", time_value(i->finished_at));
  kj_set_str(t, "containerID", cid);
  return t;
}

static kj *waiting_state(const char *reason, const char *message)
{
  kj *w = kj_object();
  if (reason && *reason)
    kj_set_str(w, "reason", reason);
  if (message && *message)
    kj_set_str(w, "message", message);
  return w;
}

/* The state object of an instance: {"running":...} and so on. */
static kj *instance_state(const kl_pod_view *v, const kl_cinst *i,
                          const char *default_reason)
{
  kj *s = kj_object();
  switch (i->state) {
  case KAPI_CONTAINER_RUNNING: {
    kj *r = kj_object();
    kj_set(r, "startedAt", time_value(i->started_at));
    kj_set(s, "running", r);
    break;
  }
  case KAPI_CONTAINER_EXITED:
    kj_set(s, "terminated", terminated_state(v, i));
    break;
  default: /* created but not started, or unknown: "waiting to run" */
    kj_set(s, "waiting", waiting_state(default_reason, NULL));
    break;
  }
  return s;
}

static const kj *spec_container(const kj *pod, const kl_ctr *c)
{
  const kj *list = kj_ptr(pod, c->init ? "/spec/initContainers"
                                       : "/spec/containers");
  size_t i;
  for (i = 0; i < kj_len(list); i++)
    if (streq(kj_get_str(kj_at(list, i), "name"), c->name))
      return kj_at(list, i);
  return NULL;
}

static kj *container_status(const kl_pod_view *v, const kl_ctr *c,
                            int has_init)
{
  const char *image = kj_get_str(spec_container(v->pod, c), "image");
  const char *def = has_init ? "PodInitializing" : "ContainerCreating";
  kj *st = kj_object(), *state, *last;
  int running, ready = 0;

  kj_set_str(st, "name", c->name);
  if (c->has_cur) {
    state = instance_state(v, &c->cur, def);
  } else {
    state = kj_object();
    kj_set(state, "waiting", waiting_state(def, NULL));
  }
  last = kj_object();
  if (c->has_last && c->last.state == KAPI_CONTAINER_EXITED)
    kj_set(last, "terminated", terminated_state(v, &c->last));

  /* A container that should run but does not says why (CrashLoopBackOff,
   * RunContainerError...); its termination moves to lastState.  An init
   * container that completed is never restarted. */
  if (c->waiting_reason[0] && kl_should_restart(v->pod, c) &&
      !(c->init && !c->sidecar && c->has_cur &&
        c->cur.state == KAPI_CONTAINER_EXITED && c->cur.exit_code == 0)) {
    kj *term = kj_get(state, "terminated");
    if (term) {
      kj_free(last);
      last = kj_object();
      kj_set(last, "terminated", kj_clone(term));
    }
    kj_free(state);
    state = kj_object();
    kj_set(state, "waiting",
           waiting_state(c->waiting_reason, c->waiting_message));
  }

  running = kj_get(state, "running") != NULL;
  if (c->init && !c->sidecar) {
    const kj *term = kj_get(state, "terminated");
    int64_t code = -1;
    ready = term && kj_to_int(kj_get(term, "exitCode"), &code) == 0 &&
            code == 0;
  } else {
    ready = running; /* no readiness probes: running is ready */
  }
  kj_set(st, "state", state);
  kj_set(st, "lastState", last);
  kj_set(st, "ready", kj_bool(ready));
  kj_set_int(st, "restartCount", c->restart_count);
  kj_set_str(st, "image", image ? image : "");
  kj_set_str(st, "imageID", c->has_cur && image ? image : "");
  if (c->has_cur) {
    char cid[KAPI_ID_MAX + 32];
    container_id(v, &c->cur, cid, sizeof cid);
    kj_set_str(st, "containerID", cid);
  }
  kj_set(st, "started", kj_bool(running));
  return st;
}

/* ---- phase (getPhase) ------------------------------------------------------ */

static const kj *status_named(const kj *list, const char *name)
{
  size_t i;
  for (i = 0; i < kj_len(list); i++)
    if (streq(kj_get_str(kj_at(list, i), "name"), name))
      return kj_at(list, i);
  return NULL;
}

static int exit_code_of(const kj *term)
{
  int64_t c = 0;
  kj_to_int(kj_get(term, "exitCode"), &c);
  return (int)c;
}

static int any_regular_started(const kj *pod, const kj *statuses)
{
  const kj *list = kj_ptr(pod, "/spec/containers");
  size_t i;
  for (i = 0; i < kj_len(list); i++) {
    const kj *s = status_named(statuses,
                               kj_get_str(kj_at(list, i), "name"));
    if (kj_is_true(kj_get(s, "started")))
      return 1;
  }
  return 0;
}

const char *kl_pod_phase(const kj *pod, const kj *status, int terminal)
{
  const kj *init = kj_ptr(pod, "/spec/initContainers");
  const kj *regular = kj_ptr(pod, "/spec/containers");
  const kj *istat = kj_get(status, "initContainerStatuses");
  const kj *cstat = kj_get(status, "containerStatuses");
  const char *policy = restart_policy(pod);
  int pending_init = 0, failed_init = 0;
  int unknown = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0;
  size_t i;

  for (i = 0; i < kj_len(init); i++) {
    const kj *spec = kj_at(init, i), *s, *state, *last;
    int sidecar = streq(kj_get_str(spec, "restartPolicy"), "Always");
    s = status_named(istat, kj_get_str(spec, "name"));
    state = kj_get(s, "state");
    last = kj_get(kj_get(s, "lastState"), "terminated");
    if (!s) {
      if (sidecar)
        unknown++;
      else
        pending_init++;
    } else if (kj_get(state, "running")) {
      if (sidecar) {
        if (!kj_is_true(kj_get(s, "started")))
          pending_init++;
        running++;
      } else {
        pending_init++;
      }
    } else if (kj_get(state, "terminated")) {
      if (!sidecar && exit_code_of(kj_get(state, "terminated")) != 0)
        failed_init++;
    } else if (kj_get(state, "waiting")) {
      if (last) {
        if (!sidecar && exit_code_of(last) != 0)
          failed_init++;
      } else {
        pending_init++;
        if (sidecar)
          waiting++;
      }
    } else {
      pending_init++;
      if (sidecar)
        unknown++;
    }
  }
  for (i = 0; i < kj_len(regular); i++) {
    const kj *s = status_named(cstat, kj_get_str(kj_at(regular, i), "name"));
    const kj *state = kj_get(s, "state");
    if (!s)
      unknown++;
    else if (kj_get(state, "running"))
      running++;
    else if (kj_get(state, "terminated")) {
      stopped++;
      if (exit_code_of(kj_get(state, "terminated")) == 0)
        succeeded++;
    } else if (kj_get(state, "waiting")) {
      if (kj_get(kj_get(s, "lastState"), "terminated"))
        stopped++;
      else
        waiting++;
    } else
      unknown++;
  }

  if (failed_init > 0 && streq(policy, "Never"))
    return "Failed";
  if ((pending_init > 0 && !any_regular_started(pod, cstat)) || waiting > 0)
    return "Pending";
  if (running > 0 && unknown == 0)
    return "Running";
  if (running == 0 && stopped > 0 && unknown == 0) {
    if (terminal)
      return stopped == succeeded ? "Succeeded" : "Failed";
    if (streq(policy, "Always"))
      return "Running";
    if (stopped == succeeded)
      return "Succeeded";
    if (streq(policy, "Never"))
      return "Failed";
    return "Running";
  }
  return "Pending";
}

/* ---- conditions (status/generate.go) --------------------------------------- */

/* Go prints a []string as "[a b c]". */
static void go_list(struct kapi__sbuf *b, const char *what,
                    char **names, size_t n)
{
  size_t i;
  if (!n)
    return;
  if (b->len)
    kapi__sb_puts(b, ", ");
  kapi__sb_printf(b, "%s: [", what);
  for (i = 0; i < n; i++)
    kapi__sb_printf(b, "%s%s", i ? " " : "", names[i]);
  kapi__sb_putc(b, ']');
}

typedef struct cond {
  const char *type, *status, *reason;
  char *message; /* owned */
} cond;

/* ContainersReady over sidecars and regular containers. */
static cond containers_ready(const kj *pod, const kj *st, const char *phase)
{
  const kj *all[2] = {kj_get(st, "initContainerStatuses"),
                      kj_get(st, "containerStatuses")};
  const kj *specs[2] = {kj_ptr(pod, "/spec/initContainers"),
                        kj_ptr(pod, "/spec/containers")};
  char *unknown[64], *unready[64];
  size_t nu = 0, nr = 0, k, i;
  struct kapi__sbuf b = {0};
  cond c = {"ContainersReady", "True", NULL, NULL};

  for (k = 0; k < 2; k++)
    for (i = 0; i < kj_len(specs[k]); i++) {
      const kj *spec = kj_at(specs[k], i);
      const char *name = kj_get_str(spec, "name");
      const kj *s;
      if (k == 0 && !streq(kj_get_str(spec, "restartPolicy"), "Always"))
        continue;
      s = status_named(all[k], name);
      if (!s) {
        if (nu < 64)
          unknown[nu++] = (char *)name;
      } else if (!kj_is_true(kj_get(s, "ready")) && nr < 64) {
        unready[nr++] = (char *)name;
      }
    }
  if ((streq(phase, "Succeeded") && nu == 0) || streq(phase, "Failed")) {
    c.status = "False";
    c.reason = streq(phase, "Failed") ? "PodFailed" : "PodCompleted";
    return c;
  }
  go_list(&b, "containers with unknown status", unknown, nu);
  go_list(&b, "containers with unready status", unready, nr);
  if (b.len) {
    c.status = "False";
    c.reason = "ContainersNotReady";
    c.message = kapi__sb_take(&b);
  }
  kapi__sb_free(&b);
  return c;
}

static const kj *condition_of(const kj *conds, const char *type)
{
  size_t i;
  for (i = 0; i < kj_len(conds); i++)
    if (streq(kj_get_str(kj_at(conds, i), "type"), type))
      return kj_at(conds, i);
  return NULL;
}

/* Ready: ContainersReady, then every readiness gate True. */
static cond pod_ready(const kj *pod, const cond *cr, const kj *conds)
{
  const kj *gates = kj_ptr(pod, "/spec/readinessGates");
  struct kapi__sbuf b = {0};
  cond c = {"Ready", cr->status, cr->reason, NULL};
  size_t i;

  if (!streq(cr->status, "True")) {
    c.message = cr->message ? strdup(cr->message) : NULL;
    return c;
  }
  for (i = 0; i < kj_len(gates); i++) {
    const char *type = kj_get_str(kj_at(gates, i), "conditionType");
    const kj *g = condition_of(conds, type);
    const char *status = kj_get_str(g, "status");
    if (g && streq(status, "True"))
      continue;
    if (b.len)
      kapi__sb_puts(&b, ", ");
    if (!g)
      kapi__sb_printf(&b, "corresponding condition of pod readiness gate "
                          "\"%s\" does not exist.",
                      type ? type : "");
    else
      kapi__sb_printf(&b, "the status of pod readiness gate \"%s\" is not "
                          "\"True\", but %s",
                      type ? type : "", status ? status : "");
  }
  if (b.len) {
    c.status = "False";
    c.reason = "ReadinessGatesNotReady";
    c.message = kapi__sb_take(&b);
  }
  kapi__sb_free(&b);
  return c;
}

/* Initialized over the init containers. */
static cond initialized(const kj *pod, const kj *st, const char *phase)
{
  const kj *specs = kj_ptr(pod, "/spec/initContainers");
  const kj *istat = kj_get(st, "initContainerStatuses");
  char *unknown[64], *incomplete[64];
  size_t nu = 0, ni = 0, i;
  struct kapi__sbuf b = {0};
  cond c = {"Initialized", "True", NULL, NULL};

  for (i = 0; i < kj_len(specs); i++) {
    const kj *spec = kj_at(specs, i);
    const char *name = kj_get_str(spec, "name");
    const kj *s = status_named(istat, name);
    int done;
    if (!s) {
      if (nu < 64)
        unknown[nu++] = (char *)name;
      continue;
    }
    done = streq(kj_get_str(spec, "restartPolicy"), "Always")
               ? kj_is_true(kj_get(s, "started"))
               : kj_is_true(kj_get(s, "ready"));
    if (!done && ni < 64)
      incomplete[ni++] = (char *)name;
  }
  if (streq(phase, "Succeeded") && nu == 0) {
    c.reason = "PodCompleted";
    return c;
  }
  if (any_regular_started(pod, kj_get(st, "containerStatuses")))
    return c;
  go_list(&b, "containers with unknown status", unknown, nu);
  go_list(&b, "containers with incomplete status", incomplete, ni);
  if (b.len) {
    c.status = "False";
    c.reason = "ContainersNotInitialized";
    c.message = kapi__sb_take(&b);
  }
  kapi__sb_free(&b);
  return c;
}

/* Appends a condition; lastTransitionTime is kept from `old` when the
 * status did not change (the status manager's updateLastTransitionTime). */
static void append_condition(kj *conds, const cond *c, const kj *old,
                             int64_t now)
{
  const kj *prev = condition_of(kj_get(old, "conditions"), c->type);
  const char *ltt = kj_get_str(prev, "lastTransitionTime");
  kj *o = kj_object();
  char buf[32];

  kj_set_str(o, "type", c->type);
  kj_set_str(o, "status", c->status);
  kj_set(o, "lastProbeTime", kj_null());
  if (prev && ltt && streq(kj_get_str(prev, "status"), c->status)) {
    kj_set_str(o, "lastTransitionTime", ltt);
  } else {
    kapi_rfc3339(now, buf, sizeof buf);
    kj_set_str(o, "lastTransitionTime", buf);
  }
  if (c->reason)
    kj_set_str(o, "reason", c->reason);
  if (c->message && *c->message)
    kj_set_str(o, "message", c->message);
  kj_append(conds, o);
}

static int kubelet_owned(const char *type)
{
  static const char *const owned[] = {"PodScheduled", "Ready", "Initialized",
                                      "ContainersReady",
                                      "PodReadyToStartContainers", NULL};
  size_t i;
  for (i = 0; owned[i]; i++)
    if (streq(type, owned[i]))
      return 1;
  return 0;
}

static kj *ip_list(const char *ip)
{
  kj *l = kj_array(), *o = kj_object();
  kj_set_str(o, "ip", ip);
  kj_append(l, o);
  return l;
}

/* ---- the status -------------------------------------------------------------- */

kj *kl_pod_status(const kl_pod_view *v, const kj *old, int64_t now)
{
  const kj *api = kj_ptr(v->pod, "/status");
  const kj *base = old ? old : api; /* the status manager's oldPodStatus */
  int has_init = kj_len(kj_ptr(v->pod, "/spec/initContainers")) > 0;
  const char *phase, *api_phase = kj_get_str(api, "phase");
  const char *old_phase = kj_get_str(base, "phase");
  kj *st = kj_object(), *istat = kj_array(), *cstat = kj_array(), *conds;
  cond cr, rd, in, sched = {"PodScheduled", "True", NULL, NULL};
  cond ready_start = {"PodReadyToStartContainers",
                      v->sandbox_ready ? "True" : "False", NULL, NULL};
  const char *start;
  size_t i;
  char buf[32];

  if (!st || !istat || !cstat) {
    kj_free(st);
    kj_free(istat);
    kj_free(cstat);
    return NULL;
  }
  for (i = 0; i < v->n_ctrs; i++)
    kj_append(v->ctrs[i].init ? istat : cstat,
              container_status(v, &v->ctrs[i], has_init));
  kj_set(st, "initContainerStatuses", istat);
  kj_set(st, "containerStatuses", cstat);

  /* Terminal phases never revert (three-way merge with the cache and
   * the API). */
  phase = kl_pod_phase(v->pod, st, v->terminal);
  if (!kl_phase_is_terminal(phase)) {
    if (kl_phase_is_terminal(old_phase))
      phase = old_phase;
    else if (kl_phase_is_terminal(api_phase))
      phase = api_phase;
  }
  if (kl_phase_is_terminal(api_phase) && !streq(phase, api_phase))
    phase = api_phase;

  /* The final object, in the Go struct's field order. */
  {
    kj *out = kj_object();
    const char *reason = NULL, *message = NULL;
    size_t k;

    kj_set_str(out, "phase", phase);
    conds = kj_array();
    for (k = 0; k < kj_len(kj_get(api, "conditions")); k++) {
      const kj *c = kj_at(kj_get(api, "conditions"), k);
      if (!kubelet_owned(kj_get_str(c, "type")))
        kj_append(conds, kj_clone(c));
    }
    cr = containers_ready(v->pod, st, phase);
    rd = pod_ready(v->pod, &cr, conds);
    in = initialized(v->pod, st, phase);
    append_condition(conds, &ready_start, base, now);
    append_condition(conds, &in, base, now);
    append_condition(conds, &rd, base, now);
    append_condition(conds, &cr, base, now);
    append_condition(conds, &sched, base, now);
    free(cr.message);
    free(rd.message);
    free(in.message);
    kj_set(out, "conditions", conds);

    if (streq(phase, old_phase)) {
      reason = kj_get_str(base, "reason");
      message = kj_get_str(base, "message");
      if (!reason || !*reason)
        reason = kj_get_str(api, "reason");
      if (!message || !*message)
        message = kj_get_str(api, "message");
    }
    if (message && *message)
      kj_set_str(out, "message", message);
    if (reason && *reason)
      kj_set_str(out, "reason", reason);
    if (kj_get_str(api, "nominatedNodeName"))
      kj_set_str(out, "nominatedNodeName",
                 kj_get_str(api, "nominatedNodeName"));
    if (v->host_ip && *v->host_ip) {
      kj_set_str(out, "hostIP", v->host_ip);
      kj_set(out, "hostIPs", ip_list(v->host_ip));
    }
    if (v->pod_ip && *v->pod_ip) {
      kj_set_str(out, "podIP", v->pod_ip);
      kj_set(out, "podIPs", ip_list(v->pod_ip));
    }
    start = kj_get_str(base, "startTime");
    if (!start || !*start)
      start = kj_get_str(api, "startTime");
    if (!start || !*start) {
      kapi_rfc3339(now, buf, sizeof buf);
      start = buf;
    }
    kj_set_str(out, "startTime", start);
    if (has_init)
      kj_set(out, "initContainerStatuses",
             kj_clone(kj_get(st, "initContainerStatuses")));
    kj_set(out, "containerStatuses",
           kj_clone(kj_get(st, "containerStatuses")));
    if (kj_get_str(api, "qosClass"))
      kj_set_str(out, "qosClass", kj_get_str(api, "qosClass"));
    kj_free(st);
    return out;
  }
}

int kl_status_equal(const kj *a, const kj *b)
{
  return kj_equal(a, b);
}
