/*
 * test_podstatus.c - the pod status the kubelet writes, computed from its
 * view of the containers (core/kubelet/podstatus.c): phases for every
 * restart policy, the five kubelet-owned conditions with upstream's
 * reasons and messages and lastTransitionTime kept while unchanged,
 * containerStatuses (running / waiting / terminated, lastState,
 * CrashLoopBackOff, restartCount, ids), init containers and sidecars,
 * terminal phases that never revert, and ShouldContainerBeRestarted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podstatus.h"

#define T0 1735689600LL /* 2025-01-01T00:00:00Z */
#define NS 1000000000LL

static kj *parse(const char *json)
{
  char err[256];
  kj *v = NULL;
  if (kj_parse(json, strlen(json), &v, err, sizeof err) < 0)
    fail_msg("bad test JSON: %s (%s)", err, json);
  return v;
}

/* The value at ptr as compact JSON (static buffer). */
static const char *at(const kj *o, const char *ptr)
{
  static char buf[4096];
  char *s = kj_dump(kj_ptr(o, ptr), NULL);
  snprintf(buf, sizeof buf, "%s", s ? s : "<absent>");
  free(s);
  return buf;
}

/* A pod with the given restartPolicy, containers and init containers
 * (JSON arrays of names; "~name" makes a sidecar). */
static kj *make_pod(const char *policy, const char *const *init,
                    const char *const *regular, const char *extra_status)
{
  char buf[4096];
  size_t n = 0, i;
  n += (size_t)snprintf(buf + n, sizeof buf - n,
                        "{\"metadata\":{\"name\":\"web\",\"namespace\":"
                        "\"default\",\"uid\":\"u-1\"},\"spec\":{"
                        "\"restartPolicy\":\"%s\",\"nodeName\":\"n1\"",
                        policy);
  if (init) {
    n += (size_t)snprintf(buf + n, sizeof buf - n, ",\"initContainers\":[");
    for (i = 0; init[i]; i++)
      n += (size_t)snprintf(
          buf + n, sizeof buf - n,
          "%s{\"name\":\"%s\",\"image\":\"busybox:1.36\"%s}", i ? "," : "",
          init[i] + (init[i][0] == '~'),
          init[i][0] == '~' ? ",\"restartPolicy\":\"Always\"" : "");
    n += (size_t)snprintf(buf + n, sizeof buf - n, "]");
  }
  n += (size_t)snprintf(buf + n, sizeof buf - n, ",\"containers\":[");
  for (i = 0; regular[i]; i++)
    n += (size_t)snprintf(buf + n, sizeof buf - n,
                          "%s{\"name\":\"%s\",\"image\":\"nginx:1.27\"}",
                          i ? "," : "", regular[i]);
  snprintf(buf + n, sizeof buf - n,
           "]},\"status\":{\"phase\":\"Pending\",\"qosClass\":"
           "\"BestEffort\",\"conditions\":[{\"type\":\"PodScheduled\","
           "\"status\":\"True\",\"lastProbeTime\":null,"
           "\"lastTransitionTime\":\"2024-12-31T00:00:00Z\"}]%s}}",
           extra_status ? extra_status : "");
  return parse(buf);
}

typedef struct view {
  kj *pod;
  kl_ctr *ctrs;
  size_t n;
  kl_pod_view v;
} view;

static void view_init(view *w, kj *pod)
{
  memset(w, 0, sizeof *w);
  w->pod = pod;
  assert_int_equal(kl_ctrs_from_spec(pod, &w->ctrs, &w->n), 0);
  w->v.pod = pod;
  w->v.ctrs = w->ctrs;
  w->v.n_ctrs = w->n;
  w->v.host_ip = "10.0.0.5";
  w->v.runtime = "kapi";
}

static void view_free(view *w)
{
  free(w->ctrs);
  kj_free(w->pod);
}

static kl_ctr *ctr(view *w, const char *name)
{
  size_t i;
  for (i = 0; i < w->n; i++)
    if (!strcmp(w->ctrs[i].name, name))
      return &w->ctrs[i];
  fail_msg("no container %s", name);
  abort(); /* not reached: keeps the compiler from seeing a NULL */
}

static void set_running(kl_ctr *c, const char *id, int64_t started)
{
  c->has_cur = 1;
  snprintf(c->cur.id, sizeof c->cur.id, "%s", id);
  c->cur.state = KAPI_CONTAINER_RUNNING;
  c->cur.created_at = started * NS;
  c->cur.started_at = started * NS;
}

static void set_exited(kl_cinst *i, const char *id, int64_t started,
                       int64_t finished, int code)
{
  snprintf(i->id, sizeof i->id, "%s", id);
  i->state = KAPI_CONTAINER_EXITED;
  i->created_at = started * NS;
  i->started_at = started * NS;
  i->finished_at = finished * NS;
  i->exit_code = code;
  snprintf(i->reason, sizeof i->reason, "%s", code ? "Error" : "Completed");
}

/* The condition of `type` in status as "Status/Reason/Message". */
static const char *cond(const kj *st, const char *type)
{
  static char buf[1024];
  const kj *l = kj_get(st, "conditions");
  size_t i;
  for (i = 0; i < kj_len(l); i++) {
    const kj *c = kj_at(l, i);
    if (!strcmp(kj_get_str(c, "type"), type)) {
      snprintf(buf, sizeof buf, "%s/%s/%s", kj_get_str(c, "status"),
               kj_get_str(c, "reason") ? kj_get_str(c, "reason") : "",
               kj_get_str(c, "message") ? kj_get_str(c, "message") : "");
      return buf;
    }
  }
  return "<absent>";
}

static const char *const ONE[] = {"app", NULL};

static void test_new_pod_pending(void **state)
{
  view w;
  kj *st;
  (void)state;
  view_init(&w, make_pod("Always", NULL, ONE, NULL));
  st = kl_pod_status(&w.v, NULL, T0);
  assert_non_null(st);
  assert_string_equal(at(st, "/phase"), "\"Pending\"");
  assert_string_equal(cond(st, "PodReadyToStartContainers"), "False//");
  assert_string_equal(cond(st, "Initialized"), "True//");
  assert_string_equal(cond(st, "Ready"),
                      "False/ContainersNotReady/containers with unready "
                      "status: [app]");
  assert_string_equal(cond(st, "ContainersReady"),
                      "False/ContainersNotReady/containers with unready "
                      "status: [app]");
  assert_string_equal(cond(st, "PodScheduled"), "True//");
  /* Upstream's order, and the shape of each condition. */
  assert_string_equal(at(st, "/conditions/0/type"),
                      "\"PodReadyToStartContainers\"");
  assert_string_equal(at(st, "/conditions/1/type"), "\"Initialized\"");
  assert_string_equal(at(st, "/conditions/2/type"), "\"Ready\"");
  assert_string_equal(at(st, "/conditions/3/type"), "\"ContainersReady\"");
  assert_string_equal(at(st, "/conditions/4"),
                      "{\"type\":\"PodScheduled\",\"status\":\"True\","
                      "\"lastProbeTime\":null,\"lastTransitionTime\":"
                      "\"2024-12-31T00:00:00Z\"}");
  assert_string_equal(at(st, "/conditions/2/lastTransitionTime"),
                      "\"2025-01-01T00:00:00Z\"");
  assert_string_equal(at(st, "/containerStatuses/0"),
                      "{\"name\":\"app\",\"state\":{\"waiting\":{\"reason\":"
                      "\"ContainerCreating\"}},\"lastState\":{},\"ready\":"
                      "false,\"restartCount\":0,\"image\":\"nginx:1.27\","
                      "\"imageID\":\"\",\"started\":false}");
  assert_string_equal(at(st, "/hostIP"), "\"10.0.0.5\"");
  assert_string_equal(at(st, "/hostIPs"), "[{\"ip\":\"10.0.0.5\"}]");
  assert_string_equal(at(st, "/podIP"), "<absent>");
  assert_string_equal(at(st, "/startTime"), "\"2025-01-01T00:00:00Z\"");
  assert_string_equal(at(st, "/qosClass"), "\"BestEffort\"");
  assert_string_equal(at(st, "/initContainerStatuses"), "<absent>");
  kj_free(st);
  view_free(&w);
}

static void test_running_and_transition_times(void **state)
{
  view w;
  kj *st, *st2, *st3;
  (void)state;
  view_init(&w, make_pod("Always", NULL, ONE, NULL));
  w.v.sandbox_ready = 1;
  w.v.pod_ip = "127.0.0.1";
  set_running(ctr(&w, "app"), "c1", T0 + 1);
  st = kl_pod_status(&w.v, NULL, T0 + 2);
  assert_string_equal(at(st, "/phase"), "\"Running\"");
  assert_string_equal(cond(st, "Ready"), "True//");
  assert_string_equal(cond(st, "ContainersReady"), "True//");
  assert_string_equal(cond(st, "PodReadyToStartContainers"), "True//");
  assert_string_equal(at(st, "/containerStatuses/0"),
                      "{\"name\":\"app\",\"state\":{\"running\":{"
                      "\"startedAt\":\"2025-01-01T00:00:01Z\"}},"
                      "\"lastState\":{},\"ready\":true,\"restartCount\":0,"
                      "\"image\":\"nginx:1.27\",\"imageID\":\"nginx:1.27\","
                      "\"containerID\":\"kapi://c1\",\"started\":true}");
  assert_string_equal(at(st, "/podIP"), "\"127.0.0.1\"");
  assert_string_equal(at(st, "/podIPs"), "[{\"ip\":\"127.0.0.1\"}]");
  assert_string_equal(at(st, "/startTime"), "\"2025-01-01T00:00:02Z\"");

  /* Recomputed later from the cached status: identical. */
  st2 = kl_pod_status(&w.v, st, T0 + 50);
  assert_true(kl_status_equal(st, st2));
  /* The container dies: Ready flips at the new time, the others keep
   * theirs; startTime stays. */
  ctr(&w, "app")->cur.state = KAPI_CONTAINER_EXITED;
  ctr(&w, "app")->cur.finished_at = (T0 + 60) * NS;
  ctr(&w, "app")->cur.exit_code = 2;
  snprintf(ctr(&w, "app")->cur.reason, 64, "Error");
  st3 = kl_pod_status(&w.v, st2, T0 + 61);
  assert_false(kl_status_equal(st2, st3));
  assert_string_equal(at(st3, "/conditions/2/lastTransitionTime"),
                      "\"2025-01-01T00:01:01Z\"");
  assert_string_equal(at(st3, "/conditions/0/lastTransitionTime"),
                      "\"2025-01-01T00:00:02Z\"");
  assert_string_equal(at(st3, "/startTime"), "\"2025-01-01T00:00:02Z\"");
  assert_string_equal(at(st3, "/containerStatuses/0/state"),
                      "{\"terminated\":{\"exitCode\":2,\"reason\":\"Error\","
                      "\"startedAt\":\"2025-01-01T00:00:01Z\",\"finishedAt\":"
                      "\"2025-01-01T00:01:00Z\",\"containerID\":"
                      "\"kapi://c1\"}}");
  /* Always: still Running while it restarts. */
  assert_string_equal(at(st3, "/phase"), "\"Running\"");
  kj_free(st);
  kj_free(st2);
  kj_free(st3);
  view_free(&w);
}

static void test_crash_loop_back_off(void **state)
{
  view w;
  kl_ctr *c;
  kj *st;
  (void)state;
  view_init(&w, make_pod("Always", NULL, ONE, NULL));
  w.v.sandbox_ready = 1;
  c = ctr(&w, "app");
  c->has_cur = c->has_last = 1;
  set_exited(&c->cur, "c4", T0 + 30, T0 + 31, 1);
  set_exited(&c->last, "c3", T0 + 10, T0 + 11, 1);
  c->restart_count = 3;
  snprintf(c->waiting_reason, sizeof c->waiting_reason, "CrashLoopBackOff");
  snprintf(c->waiting_message, sizeof c->waiting_message,
           "back-off 40s restarting failed container=app "
           "pod=web_default(u-1)");
  st = kl_pod_status(&w.v, NULL, T0 + 35);
  assert_string_equal(at(st, "/phase"), "\"Running\"");
  assert_string_equal(at(st, "/containerStatuses/0/state"),
                      "{\"waiting\":{\"reason\":\"CrashLoopBackOff\","
                      "\"message\":\"back-off 40s restarting failed "
                      "container=app pod=web_default(u-1)\"}}");
  /* lastState is the newest termination, not the one before. */
  assert_string_equal(at(st, "/containerStatuses/0/lastState"),
                      "{\"terminated\":{\"exitCode\":1,\"reason\":\"Error\","
                      "\"startedAt\":\"2025-01-01T00:00:30Z\",\"finishedAt\":"
                      "\"2025-01-01T00:00:31Z\",\"containerID\":"
                      "\"kapi://c4\"}}");
  assert_string_equal(at(st, "/containerStatuses/0/restartCount"), "3");
  assert_string_equal(at(st, "/containerStatuses/0/containerID"),
                      "\"kapi://c4\"");
  assert_string_equal(at(st, "/containerStatuses/0/ready"), "false");
  assert_string_equal(cond(st, "Ready"),
                      "False/ContainersNotReady/containers with unready "
                      "status: [app]");
  kj_free(st);

  /* Restarted: running again, lastState the previous termination. */
  c->last = c->cur;
  set_running(c, "c5", T0 + 71);
  c->restart_count = 4;
  c->waiting_reason[0] = '\0';
  st = kl_pod_status(&w.v, NULL, T0 + 72);
  assert_string_equal(at(st, "/containerStatuses/0/lastState/terminated/"
                             "containerID"),
                      "\"kapi://c4\"");
  assert_string_equal(at(st, "/containerStatuses/0/state/running/startedAt"),
                      "\"2025-01-01T00:01:11Z\"");
  kj_free(st);
  view_free(&w);
}

static void test_restart_policies(void **state)
{
  static const char *const TWO[] = {"a", "b", NULL};
  static const struct {
    const char *policy;
    int code_a, code_b;
    const char *phase, *ready;
  } cases[] = {
      {"Never", 0, 0, "Succeeded", "False/PodCompleted/"},
      {"Never", 0, 1, "Failed", "False/PodFailed/"},
      {"OnFailure", 0, 0, "Succeeded", "False/PodCompleted/"},
      {"OnFailure", 0, 1, "Running",
       "False/ContainersNotReady/containers with unready status: [a b]"},
      {"Always", 0, 0, "Running",
       "False/ContainersNotReady/containers with unready status: [a b]"},
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    view w;
    kj *st;
    view_init(&w, make_pod(cases[i].policy, NULL, TWO, NULL));
    w.v.sandbox_ready = 1;
    ctr(&w, "a")->has_cur = ctr(&w, "b")->has_cur = 1;
    set_exited(&ctr(&w, "a")->cur, "ca", T0, T0 + 5, cases[i].code_a);
    set_exited(&ctr(&w, "b")->cur, "cb", T0, T0 + 6, cases[i].code_b);
    st = kl_pod_status(&w.v, NULL, T0 + 7);
    assert_string_equal(kj_get_str(st, "phase"), cases[i].phase);
    assert_string_equal(cond(st, "Ready"), cases[i].ready);
    kj_free(st);
    view_free(&w);
  }
}

static void test_one_running_one_done(void **state)
{
  static const char *const TWO[] = {"a", "b", NULL};
  view w;
  kj *st;
  (void)state;
  view_init(&w, make_pod("Never", NULL, TWO, NULL));
  w.v.sandbox_ready = 1;
  set_running(ctr(&w, "a"), "ca", T0);
  ctr(&w, "b")->has_cur = 1;
  set_exited(&ctr(&w, "b")->cur, "cb", T0, T0 + 1, 0);
  st = kl_pod_status(&w.v, NULL, T0 + 2);
  assert_string_equal(kj_get_str(st, "phase"), "Running");
  assert_string_equal(cond(st, "ContainersReady"),
                      "False/ContainersNotReady/containers with unready "
                      "status: [b]");
  kj_free(st);
  view_free(&w);
}

static void test_init_containers(void **state)
{
  static const char *const INIT[] = {"init1", "init2", NULL};
  view w;
  kj *st;
  (void)state;
  view_init(&w, make_pod("Always", INIT, ONE, NULL));
  w.v.sandbox_ready = 1;
  set_running(ctr(&w, "init1"), "i1", T0);
  st = kl_pod_status(&w.v, NULL, T0 + 1);
  assert_string_equal(kj_get_str(st, "phase"), "Pending");
  assert_string_equal(cond(st, "Initialized"),
                      "False/ContainersNotInitialized/containers with "
                      "incomplete status: [init1 init2]");
  assert_string_equal(at(st, "/containerStatuses/0/state"),
                      "{\"waiting\":{\"reason\":\"PodInitializing\"}}");
  assert_string_equal(at(st, "/initContainerStatuses/1/state"),
                      "{\"waiting\":{\"reason\":\"PodInitializing\"}}");
  assert_string_equal(at(st, "/initContainerStatuses/0/ready"), "false");
  assert_string_equal(at(st, "/initContainerStatuses/0/started"), "true");
  kj_free(st);

  /* Both done, the app running. */
  ctr(&w, "init1")->has_cur = ctr(&w, "init2")->has_cur = 1;
  set_exited(&ctr(&w, "init1")->cur, "i1", T0, T0 + 1, 0);
  set_exited(&ctr(&w, "init2")->cur, "i2", T0 + 1, T0 + 2, 0);
  set_running(ctr(&w, "app"), "a1", T0 + 3);
  st = kl_pod_status(&w.v, NULL, T0 + 4);
  assert_string_equal(kj_get_str(st, "phase"), "Running");
  assert_string_equal(cond(st, "Initialized"), "True//");
  assert_string_equal(cond(st, "Ready"), "True//");
  assert_string_equal(at(st, "/initContainerStatuses/0/ready"), "true");
  assert_string_equal(at(st, "/initContainerStatuses/1/state/terminated/"
                             "reason"),
                      "\"Completed\"");
  assert_string_equal(at(st, "/initContainerStatuses/1/started"), "false");
  kj_free(st);
  view_free(&w);
}

static void test_init_failure(void **state)
{
  static const char *const INIT[] = {"init1", NULL};
  view w;
  kj *st;
  (void)state;
  /* Never: the pod fails. */
  view_init(&w, make_pod("Never", INIT, ONE, NULL));
  w.v.sandbox_ready = 1;
  ctr(&w, "init1")->has_cur = 1;
  set_exited(&ctr(&w, "init1")->cur, "i1", T0, T0 + 1, 3);
  st = kl_pod_status(&w.v, NULL, T0 + 2);
  assert_string_equal(kj_get_str(st, "phase"), "Failed");
  assert_string_equal(cond(st, "Initialized"),
                      "False/ContainersNotInitialized/containers with "
                      "incomplete status: [init1]");
  kj_free(st);
  view_free(&w);

  /* Always: back-off, the pod stays Pending (Init:CrashLoopBackOff). */
  view_init(&w, make_pod("Always", INIT, ONE, NULL));
  w.v.sandbox_ready = 1;
  ctr(&w, "init1")->has_cur = 1;
  set_exited(&ctr(&w, "init1")->cur, "i1", T0, T0 + 1, 3);
  snprintf(ctr(&w, "init1")->waiting_reason, 48, "CrashLoopBackOff");
  st = kl_pod_status(&w.v, NULL, T0 + 2);
  assert_string_equal(kj_get_str(st, "phase"), "Pending");
  assert_string_equal(at(st, "/initContainerStatuses/0/state/waiting/reason"),
                      "\"CrashLoopBackOff\"");
  assert_string_equal(at(st, "/initContainerStatuses/0/lastState/terminated/"
                             "exitCode"),
                      "3");
  kj_free(st);
  view_free(&w);
}

static void test_sidecar(void **state)
{
  static const char *const INIT[] = {"~proxy", NULL};
  view w;
  kj *st;
  (void)state;
  view_init(&w, make_pod("Never", INIT, ONE, NULL));
  assert_true(w.ctrs[0].sidecar && w.ctrs[0].init);
  assert_false(w.ctrs[1].init);
  w.v.sandbox_ready = 1;
  set_running(ctr(&w, "proxy"), "p1", T0);
  set_running(ctr(&w, "app"), "a1", T0 + 1);
  st = kl_pod_status(&w.v, NULL, T0 + 2);
  assert_string_equal(kj_get_str(st, "phase"), "Running");
  assert_string_equal(cond(st, "Initialized"), "True//");
  assert_string_equal(cond(st, "ContainersReady"), "True//");
  kj_free(st);
  /* The sidecar dies: it is restarted even under Never, and is unready. */
  ctr(&w, "proxy")->cur.state = KAPI_CONTAINER_EXITED;
  assert_true(kl_should_restart(w.pod, ctr(&w, "proxy")));
  st = kl_pod_status(&w.v, NULL, T0 + 3);
  assert_string_equal(cond(st, "ContainersReady"),
                      "False/ContainersNotReady/containers with unready "
                      "status: [proxy]");
  kj_free(st);
  view_free(&w);
}

static void test_terminal_is_sticky(void **state)
{
  view w;
  kj *st;
  (void)state;
  /* The API says Failed (evicted): the phase and reason stay. */
  view_init(&w, make_pod("Always", NULL, ONE,
                         ",\"reason\":\"Evicted\",\"message\":\"gone\""));
  kj_set_str(kj_ptr(w.pod, "/status"), "phase", "Failed");
  w.v.sandbox_ready = 1;
  set_running(ctr(&w, "app"), "a1", T0);
  st = kl_pod_status(&w.v, NULL, T0 + 1);
  assert_string_equal(kj_get_str(st, "phase"), "Failed");
  assert_string_equal(kj_get_str(st, "reason"), "Evicted");
  assert_string_equal(kj_get_str(st, "message"), "gone");
  kj_free(st);
  view_free(&w);
}

static void test_deleted_pod_terminal(void **state)
{
  view w;
  kj *st;
  (void)state;
  view_init(&w, make_pod("Always", NULL, ONE, NULL));
  kj_set_str(kj_ptr(w.pod, "/metadata"), "deletionTimestamp",
             "2025-01-01T00:01:00Z");
  w.v.sandbox_ready = 1;
  w.v.terminal = 1;
  ctr(&w, "app")->has_cur = 1;
  set_exited(&ctr(&w, "app")->cur, "a1", T0, T0 + 60, 143);
  /* Being deleted: no restart, so no waiting override either. */
  snprintf(ctr(&w, "app")->waiting_reason, 48, "CrashLoopBackOff");
  assert_false(kl_should_restart(w.pod, ctr(&w, "app")));
  st = kl_pod_status(&w.v, NULL, T0 + 61);
  assert_string_equal(kj_get_str(st, "phase"), "Failed");
  assert_string_equal(at(st, "/containerStatuses/0/state/terminated/"
                             "exitCode"),
                      "143");
  kj_free(st);
  ctr(&w, "app")->cur.exit_code = 0;
  st = kl_pod_status(&w.v, NULL, T0 + 61);
  assert_string_equal(kj_get_str(st, "phase"), "Succeeded");
  assert_string_equal(cond(st, "Ready"), "False/PodCompleted/");
  kj_free(st);
  view_free(&w);
}

static void test_conditions_preserved_and_gates(void **state)
{
  view w;
  kj *st;
  (void)state;
  view_init(&w, make_pod("Always", NULL, ONE, NULL));
  kj_append(kj_ptr(w.pod, "/status/conditions"),
            parse("{\"type\":\"example.com/ready\",\"status\":\"False\"}"));
  kj_set(kj_ptr(w.pod, "/spec"), "readinessGates",
         parse("[{\"conditionType\":\"example.com/ready\"},"
               "{\"conditionType\":\"example.com/missing\"}]"));
  w.v.sandbox_ready = 1;
  set_running(ctr(&w, "app"), "a1", T0);
  st = kl_pod_status(&w.v, NULL, T0 + 1);
  /* Not the kubelet's: kept, first. */
  assert_string_equal(at(st, "/conditions/0"),
                      "{\"type\":\"example.com/ready\",\"status\":"
                      "\"False\"}");
  assert_string_equal(cond(st, "ContainersReady"), "True//");
  assert_string_equal(
      cond(st, "Ready"),
      "False/ReadinessGatesNotReady/the status of pod readiness gate "
      "\"example.com/ready\" is not \"True\", but False, corresponding "
      "condition of pod readiness gate \"example.com/missing\" does not "
      "exist.");
  assert_int_equal(kj_len(kj_get(st, "conditions")), 6);
  kj_free(st);
  view_free(&w);
}

static void test_should_restart(void **state)
{
  static const struct {
    const char *policy;
    int has_cur;
    kapi_container_state s;
    int code, want;
  } cases[] = {
      {"Always", 0, 0, 0, 1},
      {"Never", 0, 0, 0, 1},
      {"Always", 1, KAPI_CONTAINER_RUNNING, 0, 0},
      {"Always", 1, KAPI_CONTAINER_CREATED, 0, 1},
      {"Never", 1, KAPI_CONTAINER_UNKNOWN, 0, 1},
      {"Always", 1, KAPI_CONTAINER_EXITED, 0, 1},
      {"OnFailure", 1, KAPI_CONTAINER_EXITED, 0, 0},
      {"OnFailure", 1, KAPI_CONTAINER_EXITED, 1, 1},
      {"Never", 1, KAPI_CONTAINER_EXITED, 1, 0},
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    view w;
    view_init(&w, make_pod(cases[i].policy, NULL, ONE, NULL));
    w.ctrs[0].has_cur = cases[i].has_cur;
    w.ctrs[0].cur.state = cases[i].s;
    w.ctrs[0].cur.exit_code = cases[i].code;
    assert_int_equal(kl_should_restart(w.pod, &w.ctrs[0]), cases[i].want);
    view_free(&w);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_new_pod_pending),
      cmocka_unit_test(test_running_and_transition_times),
      cmocka_unit_test(test_crash_loop_back_off),
      cmocka_unit_test(test_restart_policies),
      cmocka_unit_test(test_one_running_one_done),
      cmocka_unit_test(test_init_containers),
      cmocka_unit_test(test_init_failure),
      cmocka_unit_test(test_sidecar),
      cmocka_unit_test(test_terminal_is_sticky),
      cmocka_unit_test(test_deleted_pod_terminal),
      cmocka_unit_test(test_conditions_preserved_and_gates),
      cmocka_unit_test(test_should_restart),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
