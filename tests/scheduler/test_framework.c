/*
 * test_framework.c - the scheduling framework driven with in-memory
 * nodes and pods through the real plugins, loaded from their .so files:
 * the default profile, filter reasons, scores by upstream's formulas on
 * hand-computed examples, weights, tie-breaks, preemption, binding, and
 * the FailedScheduling message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "host_ext.h"
#include "sched_test_util.h"

static sched_env env;

static int setup(void **state)
{
  char err[512];
  int r = sched_env_open(&env, NULL, err, sizeof err);

  (void)state;
  if (r < 0)
    fprintf(stderr, "setup: %s (%d)\n", err, r);
  return r < 0 ? -1 : 0;
}

static int teardown(void **state)
{
  (void)state;
  sched_env_close(&env);
  return 0;
}

/* ---- a small world ----------------------------------------------------- */

typedef struct world {
  kapi_sched_cache *cache;
  kapi_snapshot snap;
} world;

static void world_init(world *w)
{
  w->cache = kapi_scache_new(0);
  memset(&w->snap, 0, sizeof w->snap);
  assert_non_null(w->cache);
  env.fw->next_start_node_index = 0;
  env.fw->queue = NULL;
  env.fw->io = NULL;
}

static void world_node(world *w, kapi_cobj *node)
{
  assert_int_equal(kapi_scache_add_node(w->cache, node), 0);
  kapi_cobj_unref(node);
}

static void world_pod(world *w, kapi_cobj *pod, const char *node)
{
  pod = bound(pod, node);
  assert_int_equal(kapi_scache_add_pod(w->cache, pod), 0);
  kapi_cobj_unref(pod);
}

static void world_snap(world *w)
{
  assert_int_equal(kapi_scache_snapshot(w->cache, &w->snap), 0);
}

static void world_free(world *w)
{
  kapi_snapshot_release(&w->snap);
  kapi_scache_free(w->cache);
}

/* Runs one scheduling attempt; returns its code, the message of a
 * failure (FitError + PostFilter) in *msg. */
static kapi_code attempt(world *w, kapi_cobj *pod, kapi_sched_result *res,
                         char **msg)
{
  kapi_cycle *cs = kapi_cycle_new();
  kapi_diagnosis diag = {0};
  char *err = NULL;
  kapi_code c;

  world_snap(w);
  *msg = NULL;
  c = kapi_fw_schedule_pod(env.fw, cs, &w->snap, pod->obj, res, &diag, &err);
  if (c == KAPI_UNSCHEDULABLE && !err) {
    kapi_fw_run_post_filter(env.fw, cs, pod->obj, &diag);
    *msg = kapi_fit_error_message(&diag);
  } else if (err) {
    *msg = err;
    err = NULL;
  }
  free(err);
  kapi_diagnosis_free(&diag);
  kapi_cycle_free(cs);
  return c;
}

/* ---- the profile ------------------------------------------------------- */

static void default_profile_is_upstreams(void **state)
{
  char buf[1024];
  (void)state;

  kapi_fw_describe(env.fw, buf, sizeof buf);
  assert_string_equal(
      buf, "queueSort: PrioritySort; preFilter: NodeAffinity NodePorts "
           "NodeResourcesFit; filter: NodeUnschedulable NodeName "
           "TaintToleration NodeAffinity NodePorts NodeResourcesFit; "
           "postFilter: DefaultPreemption; preScore: TaintToleration "
           "NodeAffinity NodeResourcesFit NodeResourcesBalancedAllocation; "
           "score: TaintToleration(3) NodeAffinity(2) NodeResourcesFit(1) "
           "NodeResourcesBalancedAllocation(1); reserve:; permit:; preBind:; "
           "bind: DefaultBinder; postBind:");
}

static kapi_framework *profile_from(const char *json, char *err, size_t len)
{
  kapi_sched_config cfg;
  kapi_framework *fw = NULL;
  kj *doc = parse_json(json);
  int r;

  assert_int_equal(kapi_sched_config_default(&cfg), 0);
  r = kapi_sched_config_parse(doc, &cfg, err, len);
  if (r == 0)
    r = kapi_fw_new(&cfg.profiles[0], &env.reg, &fw, err, len);
  kj_free(doc);
  kapi_sched_config_free(&cfg);
  return r == 0 ? fw : NULL;
}

#define CFG_HEAD                                                        \
  "{\"apiVersion\":\"kubescheduler.config.k8s.io/v1\","                 \
  "\"kind\":\"KubeSchedulerConfiguration\",\"profiles\":[{"

static void weights_and_disabling_follow_the_config(void **state)
{
  char err[512], buf[1024];
  kapi_framework *fw;
  (void)state;

  /* A Score weight overrides the multiPoint default in place. */
  fw = profile_from(CFG_HEAD "\"plugins\":{\"score\":{\"enabled\":[{\"name\":"
                    "\"TaintToleration\",\"weight\":7}]}}}]}", err, sizeof err);
  assert_non_null(fw);
  kapi_fw_describe(fw, buf, sizeof buf);
  assert_non_null(strstr(buf, "score: TaintToleration(7) NodeAffinity(2) "
                              "NodeResourcesFit(1) "
                              "NodeResourcesBalancedAllocation(1);"));
  kapi_fw_free(fw);

  /* "*" drops every default of a point; weight 0 becomes 1. */
  fw = profile_from(CFG_HEAD "\"plugins\":{\"score\":{\"disabled\":[{\"name\":"
                    "\"*\"}],\"enabled\":[{\"name\":"
                    "\"NodeResourcesFit\"}]}}}]}",
                    err, sizeof err);
  assert_non_null(fw);
  kapi_fw_describe(fw, buf, sizeof buf);
  assert_non_null(strstr(buf, "score: NodeResourcesFit(1);"));
  /* Other points keep their multiPoint plugins. */
  assert_non_null(strstr(buf, "preScore: TaintToleration NodeAffinity "
                              "NodeResourcesFit "
                              "NodeResourcesBalancedAllocation;"));
  kapi_fw_free(fw);

  /* Disabling one plugin at one point. */
  fw = profile_from(CFG_HEAD "\"plugins\":{\"filter\":{\"disabled\":[{\"name\":"
                    "\"TaintToleration\"}]}}}]}", err, sizeof err);
  assert_non_null(fw);
  kapi_fw_describe(fw, buf, sizeof buf);
  assert_non_null(strstr(buf, "filter: NodeUnschedulable NodeName "
                              "NodeAffinity NodePorts NodeResourcesFit;"));
  kapi_fw_free(fw);

  /* multiPoint disabled: gone everywhere. */
  fw = profile_from(CFG_HEAD "\"plugins\":{\"multiPoint\":{\"disabled\":[{"
                    "\"name\":\"TaintToleration\"}]}}}]}", err, sizeof err);
  assert_non_null(fw);
  kapi_fw_describe(fw, buf, sizeof buf);
  assert_null(strstr(buf, "TaintToleration"));
  kapi_fw_free(fw);
}

static void profile_errors_are_upstreams(void **state)
{
  char err[512];
  (void)state;

  assert_null(profile_from(CFG_HEAD "\"plugins\":{\"score\":{\"enabled\":[{"
                           "\"name\":\"Nope\"}]}}}]}", err, sizeof err));
  assert_string_equal(err, "ScorePlugin \"Nope\" does not exist");
  assert_null(profile_from(CFG_HEAD "\"plugins\":{\"score\":{\"enabled\":[{"
                           "\"name\":\"NodeName\"}]}}}]}", err, sizeof err));
  assert_string_equal(err,
                      "plugin \"NodeName\" does not extend ScorePlugin plugin");
  assert_null(profile_from(CFG_HEAD "\"plugins\":{\"bind\":{\"disabled\":[{"
                           "\"name\":\"*\"}]}}}]}", err, sizeof err));
  assert_string_equal(err, "at least one bind plugin is needed for profile "
                           "with scheduler name \"default-scheduler\"");
  assert_null(profile_from(CFG_HEAD "\"plugins\":{\"queueSort\":{\"disabled\":"
                           "[{\"name\":\"*\"}]}}}]}", err, sizeof err));
  assert_string_equal(err, "only one queue sort plugin required for profile "
                           "with scheduler name \"default-scheduler\", but "
                           "got 0");
}

/* ---- filters ----------------------------------------------------------- */

static void fit_error_counts_reasons_over_nodes(void **state)
{
  world w;
  kapi_sched_result res;
  kapi_cobj *pod = make_pod("big", "3", "1Gi", 0, NULL);
  char *msg;
  (void)state;

  world_init(&w);
  world_node(&w, make_node("n1", "2", "4Gi", 110, NULL));
  world_node(&w, make_node("n2", "4", "4Gi", 110,
                           "\"taints\":[{\"key\":\"k\",\"value\":\"v\","
                           "\"effect\":\"NoSchedule\"}]"));
  world_node(&w, make_node("n3", "4", "4Gi", 110,
                           "\"taints\":[{\"key\":\"k\",\"value\":\"v\","
                           "\"effect\":\"NoExecute\"}]"));
  assert_int_equal(attempt(&w, pod, &res, &msg), KAPI_UNSCHEDULABLE);
  assert_string_equal(msg, "0/3 nodes are available: 1 Insufficient cpu, 2 "
                           "node(s) had untolerated taint {k: v}. preemption: "
                           "0/3 nodes are available: 3 Preemption is not "
                           "helpful for scheduling..");
  free(msg);

  /* Tolerated: n2 and n3 fit; the pod goes to one of them. */
  kapi_cobj_unref(pod);
  pod = make_pod("big", "3", "1Gi", 0,
                 "\"tolerations\":[{\"key\":\"k\",\"operator\":\"Exists\"}]");
  assert_int_equal(attempt(&w, pod, &res, &msg), KAPI_SUCCESS);
  assert_true(!strcmp(res.node, "n2") || !strcmp(res.node, "n3"));
  assert_int_equal(res.feasible, 2);
  kapi_cobj_unref(pod);
  world_free(&w);
}

static void every_filter_has_its_reason(void **state)
{
  world w;
  kapi_sched_result res;
  kapi_cobj *pod = make_pod("p", "500m", "1Gi", 0,
                            "\"nodeName\":\"elsewhere\"");
  char *msg;
  (void)state;

  world_init(&w);
  world_node(&w, make_node("cordoned", "4", "8Gi", 110,
                           "\"unschedulable\":true"));
  world_node(&w, make_node("full", "4", "8Gi", 1, NULL));
  world_node(&w, make_node("small", "4", "512Mi", 110, NULL));
  world_node(&w, make_node("busy", "1", "8Gi", 110, NULL));
  world_pod(&w, make_pod("existing", "100m", NULL, 0, NULL), "full");
  world_pod(&w, make_pod("hog", "800m", NULL, 0, NULL), "busy");
  /* spec.nodeName: only NodeName speaks, first failing plugin wins.  The
   * PostFilter message is itself a FitError ending in "." and upstream
   * adds its own: real FailedScheduling events end in "..". */
  assert_int_equal(attempt(&w, pod, &res, &msg), KAPI_UNSCHEDULABLE);
  assert_string_equal(msg, "0/4 nodes are available: 1 node(s) were "
                           "unschedulable, 3 node(s) didn't match the "
                           "requested node name. preemption: 0/4 nodes are "
                           "available: 4 Preemption is not helpful for "
                           "scheduling..");
  free(msg);
  kapi_cobj_unref(pod);
  /* Resources: Too many pods and Insufficient * are resolvable when the
   * request fits the allocatable; "small" cannot ever hold 1Gi. */
  pod = make_pod("p", "500m", "1Gi", 0, NULL);
  assert_int_equal(attempt(&w, pod, &res, &msg), KAPI_UNSCHEDULABLE);
  assert_string_equal(msg, "0/4 nodes are available: 1 Insufficient cpu, 1 "
                           "Insufficient memory, 1 Too many pods, 1 node(s) "
                           "were unschedulable. preemption: 0/4 nodes are "
                           "available: 2 No preemption victims found for "
                           "incoming pod, 2 Preemption is not helpful for "
                           "scheduling..");
  free(msg);
  kapi_cobj_unref(pod);
  world_free(&w);
}

static void no_nodes_is_its_own_message(void **state)
{
  world w;
  kapi_sched_result res;
  kapi_cobj *pod = make_pod("p", NULL, NULL, 0, NULL);
  char *msg;
  (void)state;

  world_init(&w);
  assert_int_equal(attempt(&w, pod, &res, &msg),
                   KAPI_UNSCHEDULABLE_AND_UNRESOLVABLE);
  assert_string_equal(msg, "no nodes available to schedule pods");
  free(msg);
  kapi_cobj_unref(pod);
  world_free(&w);
}

/* ---- scores ------------------------------------------------------------ */

/* Scores of two nodes for a pod: totals and per plugin (weighted), node
 * major: TaintToleration, NodeAffinity, NodeResourcesFit,
 * NodeResourcesBalancedAllocation. */
enum { TT, NA, FIT, BA, NSCORE };

static void score_two(world *w, kapi_cobj *pod, int64_t totals[2],
                      int64_t per[2 * NSCORE])
{
  kapi_cycle *cs = kapi_cycle_new();
  kapi_sched_status s = {0};
  char *err = NULL;

  world_snap(w);
  assert_int_equal(w->snap.n, 2);
  assert_int_equal(env.fw->n_points[KAPI_EP_SCORE], NSCORE);
  assert_int_equal(kapi_fw_run_pre_filter(env.fw, cs, pod->obj, &s),
                   KAPI_SUCCESS);
  assert_int_equal(kapi_fw_prioritize(env.fw, cs, pod->obj, w->snap.nodes, 2,
                                      totals, per, &err),
                   KAPI_SUCCESS);
  assert_null(err);
  kapi_status_free(&s);
  kapi_cycle_free(cs);
}

static void least_allocated_and_taints_score_as_upstream(void **state)
{
  world w;
  kapi_cobj *pod = make_pod("p", "500m", "1Gi", 0, NULL);
  int64_t totals[2], per[2 * NSCORE];
  (void)state;

  world_init(&w);
  world_node(&w, make_node("a", "4", "8Gi", 110, NULL));
  world_node(&w, make_node("b", "2", "4Gi", 110, NULL));
  world_pod(&w, make_pod("x", "1", "2Gi", 0, NULL), "a");
  /*
   * a: cpu (4000-1500)*100/4000 = 62, memory (8-3)*100/8 = 62 -> 62
   * b: cpu (2000-500)*100/2000 = 75, memory (4-1)*100/4 = 75 -> 75
   * TaintToleration: no PreferNoSchedule taints, reversed -> 100, x3.
   * NodeAffinity: no preferred terms, skipped (0).
   * BalancedAllocation: a 0.375/0.375, b 0.25/0.25: std 0 -> 100.
   */
  score_two(&w, pod, totals, per);
  assert_int_equal(per[TT], 300);
  assert_int_equal(per[NA], 0);
  assert_int_equal(per[FIT], 62);
  assert_int_equal(per[BA], 100);
  assert_int_equal(per[NSCORE + TT], 300);
  assert_int_equal(per[NSCORE + FIT], 75);
  assert_int_equal(per[NSCORE + BA], 100);
  assert_int_equal(totals[0], 462);
  assert_int_equal(totals[1], 475);

  /* One PreferNoSchedule taint on b: a 100-0, b 100-100, x3. */
  world_node(&w, make_node("b", "2", "4Gi", 110,
                           "\"taints\":[{\"key\":\"soft\",\"effect\":"
                           "\"PreferNoSchedule\"}]"));
  score_two(&w, pod, totals, per);
  assert_int_equal(totals[0], 462);
  assert_int_equal(totals[1], 175);
  /* ...unless tolerated. */
  kapi_cobj_unref(pod);
  pod = make_pod("p", "500m", "1Gi", 0,
                 "\"tolerations\":[{\"key\":\"soft\",\"operator\":\"Exists\","
                 "\"effect\":\"PreferNoSchedule\"}]");
  score_two(&w, pod, totals, per);
  assert_int_equal(totals[1], 475);
  kapi_cobj_unref(pod);
  world_free(&w);
}

static void requests_default_to_non_zero_for_scoring(void **state)
{
  world w;
  kapi_cobj *pod = make_pod("p", NULL, NULL, 0, NULL);
  int64_t totals[2], per[2 * NSCORE];
  (void)state;

  world_init(&w);
  world_node(&w, make_node("c", "1", "1Gi", 110, NULL));
  world_node(&w, make_node("d", "1", "1Gi", 110, NULL));
  /* An existing pod without requests counts 100m / 200Mi too. */
  world_pod(&w, make_pod("x", NULL, NULL, 0, NULL), "d");
  /*
   * c: cpu (1000-100)*100/1000 = 90,
   *    memory (1073741824-209715200)*100/1073741824 = 80 -> 85
   * d: cpu (1000-200)*100/1000 = 80,
   *    memory (1073741824-419430400)*100/1073741824 = 60 -> 70
   */
  score_two(&w, pod, totals, per);
  assert_int_equal(per[FIT], 85);
  assert_int_equal(per[NSCORE + FIT], 70);
  /* Nothing requested: BalancedAllocation skips the pod. */
  assert_int_equal(per[BA], 0);
  assert_int_equal(per[NSCORE + BA], 0);
  kapi_cobj_unref(pod);
  world_free(&w);
}

static void balanced_allocation_scores_the_spread(void **state)
{
  world w;
  kapi_cobj *pod = make_pod("p", "1", "1Gi", 0, NULL);
  int64_t totals[2], per[2 * NSCORE];
  (void)state;

  world_init(&w);
  world_node(&w, make_node("e", "4", "4Gi", 110, NULL));
  world_node(&w, make_node("f", "4", "4Gi", 110, NULL));
  world_pod(&w, make_pod("cpu-hog", "2", NULL, 0, NULL), "e");
  /*
   * e: cpu 3/4 = 0.75, memory 1/4 = 0.25: std 0.25 -> 75
   * f: cpu 1/4, memory 1/4: std 0 -> 100
   */
  score_two(&w, pod, totals, per);
  assert_int_equal(per[BA], 75);
  assert_int_equal(per[NSCORE + BA], 100);
  kapi_cobj_unref(pod);
  world_free(&w);
}

static void preferred_node_affinity_scores(void **state)
{
  world w;
  kapi_cobj *pod = make_pod(
      "p", "100m", NULL, 0,
      "\"affinity\":{\"nodeAffinity\":{"
      "\"preferredDuringSchedulingIgnoredDuringExecution\":["
      "{\"weight\":10,\"preference\":{\"matchExpressions\":[{\"key\":"
      "\"disk\",\"operator\":\"In\",\"values\":[\"ssd\"]}]}},"
      "{\"weight\":5,\"preference\":{\"matchExpressions\":[{\"key\":"
      "\"disk\",\"operator\":\"Exists\"}]}}]}}");
  int64_t totals[2], per[2 * NSCORE];
  kapi_cobj *n1 = make_node("n1", "4", "8Gi", 110, NULL);
  kapi_cobj *n2 = make_node("n2", "4", "8Gi", 110, NULL);
  (void)state;

  kj_set_str(kj_ptr(n1->obj, "/metadata/labels"), "disk", "ssd");
  kj_set_str(kj_ptr(n2->obj, "/metadata/labels"), "disk", "hdd");
  world_init(&w);
  world_node(&w, n1);
  world_node(&w, n2);
  /* n1 matches both (15), n2 the second (5): 100 and 33, x2. */
  score_two(&w, pod, totals, per);
  assert_int_equal(per[NA], 200);
  assert_int_equal(per[NSCORE + NA], 66);
  kapi_cobj_unref(pod);
  world_free(&w);
}

/* A pod with a host port and optional extra spec members. */
static kapi_cobj *port_pod(const char *name, int port, const char *extra)
{
  char buf[1024];

  snprintf(buf, sizeof buf,
           "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\"},"
           "\"spec\":{\"containers\":[{\"name\":\"c\",\"ports\":[{"
           "\"containerPort\":80,\"hostPort\":%d}]}]%s%s}}",
           name, port, extra ? "," : "", extra ? extra : "");
  return kapi_cobj_new(parse_json(buf));
}

static void selectors_and_host_ports_filter(void **state)
{
  world w;
  kapi_sched_result res;
  kapi_cobj *n1 = make_node("n1", "4", "8Gi", 110, NULL);
  kapi_cobj *n2 = make_node("n2", "4", "8Gi", 110, NULL);
  kapi_cobj *pod;
  char *msg;
  (void)state;

  kj_set_str(kj_ptr(n1->obj, "/metadata/labels"), "disk", "ssd");
  kj_set_str(kj_ptr(n2->obj, "/metadata/labels"), "disk", "hdd");
  world_init(&w);
  world_node(&w, n1);
  world_node(&w, n2);
  world_pod(&w, port_pod("web", 8080, NULL), "n1");
  /* n1 has the label but not the port, n2 the port but not the label. */
  pod = port_pod("p", 8080, "\"nodeSelector\":{\"disk\":\"ssd\"}");
  assert_int_equal(attempt(&w, pod, &res, &msg), KAPI_UNSCHEDULABLE);
  assert_string_equal(msg, "0/2 nodes are available: 1 node(s) didn't have "
                           "free ports for the requested pod ports, 1 "
                           "node(s) didn't match Pod's node affinity/"
                           "selector. preemption: 0/2 nodes are available: "
                           "1 No preemption victims found for incoming pod, "
                           "1 Preemption is not helpful for scheduling..");
  free(msg);
  kapi_cobj_unref(pod);
  /* Another port fits n1; required affinity with NotIn picks n1 too. */
  pod = port_pod("q", 8081,
                 "\"affinity\":{\"nodeAffinity\":{"
                 "\"requiredDuringSchedulingIgnoredDuringExecution\":{"
                 "\"nodeSelectorTerms\":[{\"matchExpressions\":[{\"key\":"
                 "\"disk\",\"operator\":\"NotIn\",\"values\":["
                 "\"hdd\"]}]}]}}}");
  assert_int_equal(attempt(&w, pod, &res, &msg), KAPI_SUCCESS);
  assert_string_equal(res.node, "n1");
  kapi_cobj_unref(pod);
  world_free(&w);
}

static void ties_are_broken_uniformly(void **state)
{
  int64_t totals[] = {5, 9, 9, 1, 9};
  int hits[5] = {0};
  (void)state;

  kapi_fw_seed(env.fw, 42);
  for (int i = 0; i < 3000; i++)
    hits[kapi_fw_select_host(env.fw, totals, 5)]++;
  assert_int_equal(hits[0], 0);
  assert_int_equal(hits[3], 0);
  /* Each of the three best gets about a third. */
  for (int i = 1; i < 5; i += i == 2 ? 2 : 1) {
    assert_true(hits[i] > 800);
    assert_true(hits[i] < 1200);
  }
}

static void feasible_nodes_to_find_as_upstream(void **state)
{
  (void)state;

  env.fw->percentage_of_nodes_to_score = 0;
  assert_int_equal(kapi_fw_num_feasible_to_find(env.fw, 50), 50);
  assert_int_equal(kapi_fw_num_feasible_to_find(env.fw, 200), 100);
  assert_int_equal(kapi_fw_num_feasible_to_find(env.fw, 1000), 420);
  assert_int_equal(kapi_fw_num_feasible_to_find(env.fw, 1500), 570);
  assert_int_equal(kapi_fw_num_feasible_to_find(env.fw, 5000), 500);
  assert_int_equal(kapi_fw_num_feasible_to_find(env.fw, 10000), 500);
  env.fw->percentage_of_nodes_to_score = 100;
  assert_int_equal(kapi_fw_num_feasible_to_find(env.fw, 1000), 1000);
  env.fw->percentage_of_nodes_to_score = 0;
}

static void filter_walk_rotates_across_cycles(void **state)
{
  world w;
  kapi_sched_result res;
  kapi_cobj *pod = make_pod("p", "100m", NULL, 0, NULL);
  char name[16], *msg;
  (void)state;

  world_init(&w);
  for (int i = 0; i < 150; i++) {
    snprintf(name, sizeof name, "n%03d", i);
    world_node(&w, make_node(name, "4", "8Gi", 110, NULL));
  }
  /* 150 nodes: stop at 100 feasible, next cycle starts at node 100. */
  assert_int_equal(attempt(&w, pod, &res, &msg), KAPI_SUCCESS);
  assert_int_equal(res.feasible, 100);
  assert_int_equal(env.fw->next_start_node_index, 100);
  assert_int_equal(attempt(&w, pod, &res, &msg), KAPI_SUCCESS);
  assert_int_equal(env.fw->next_start_node_index, 50);
  kapi_cobj_unref(pod);
  world_free(&w);
}

/* ---- preemption -------------------------------------------------------- */

typedef struct io_log {
  char deleted[8][64];
  int n_deleted;
  char patches[8][1024];
  int n_patches;
  char events[8][256];
  int n_events;
} io_log;

static int fake_patch(void *arg, const kj *pod, const char *patch)
{
  io_log *l = arg;
  (void)pod;
  snprintf(l->patches[l->n_patches++ % 8], sizeof l->patches[0], "%s", patch);
  return 0;
}

static int fake_delete(void *arg, const kj *pod)
{
  io_log *l = arg;
  snprintf(l->deleted[l->n_deleted++ % 8], sizeof l->deleted[0], "%s",
           kj_get_str(kj_get(pod, "metadata"), "name"));
  return 0;
}

static void fake_event(void *arg, const kj *obj, const char *type,
                       const char *reason, const char *message)
{
  io_log *l = arg;
  (void)obj;
  snprintf(l->events[l->n_events++ % 8], sizeof l->events[0], "%s %s %s",
           type, reason, message);
}

static void preemption_evicts_the_cheapest_victims(void **state)
{
  world w;
  io_log log = {0};
  kapi_sched_io io = {&log, fake_patch, fake_delete, fake_event};
  kapi_sched_result res;
  kapi_cycle *cs;
  kapi_diagnosis diag = {0};
  kapi_cobj *pod = make_pod("vip", "1", NULL, 100, NULL);
  char *err = NULL;
  (void)state;

  world_init(&w);
  env.fw->io = &io;
  world_node(&w, make_node("n1", "2", "4Gi", 110, NULL));
  world_node(&w, make_node("n2", "2", "4Gi", 110, NULL));
  /* n1: two low pods of 1 cpu (priority 10 and 1); n2: one of priority
   * 50.  Either node needs one victim; n1's lowest is cheaper (its
   * highest victim priority is 1 vs 50). */
  world_pod(&w, make_pod("low10", "1", NULL, 10, NULL), "n1");
  world_pod(&w, make_pod("low1", "1", NULL, 1, NULL), "n1");
  world_pod(&w, make_pod("mid50", "2", NULL, 50, NULL), "n2");
  world_snap(&w);
  cs = kapi_cycle_new();
  assert_int_equal(kapi_fw_schedule_pod(env.fw, cs, &w.snap, pod->obj, &res,
                                        &diag, &err),
                   KAPI_UNSCHEDULABLE);
  assert_int_equal(kapi_fw_run_post_filter(env.fw, cs, pod->obj, &diag),
                   KAPI_SUCCESS);
  assert_string_equal(cs->nominated_node, "n1");
  assert_int_equal(log.n_deleted, 1);
  assert_string_equal(log.deleted[0], "low1");
  assert_non_null(strstr(log.patches[0], "\"type\":\"DisruptionTarget\""));
  assert_non_null(
      strstr(log.patches[0], "\"reason\":\"PreemptionByScheduler\""));
  assert_non_null(strstr(log.patches[0], "default-scheduler: preempting to "
                                         "accommodate a higher priority pod"));
  assert_string_equal(log.events[0],
                      "Normal Preempted Preempted by pod uid-vip on node n1");
  /* The FitError still reads as usual, with no PostFilter message. */
  err = kapi_fit_error_message(&diag);
  assert_string_equal(err, "0/2 nodes are available: 2 Insufficient cpu.");
  free(err);
  kapi_diagnosis_free(&diag);
  kapi_cycle_free(cs);

  /* preemptionPolicy: Never. */
  kapi_cobj_unref(pod);
  pod = make_pod("polite", "1", NULL, 100, "\"preemptionPolicy\":\"Never\"");
  cs = kapi_cycle_new();
  memset(&diag, 0, sizeof diag);
  kapi_fw_schedule_pod(env.fw, cs, &w.snap, pod->obj, &res, &diag, &err);
  assert_int_equal(kapi_fw_run_post_filter(env.fw, cs, pod->obj, &diag),
                   KAPI_UNSCHEDULABLE);
  err = kapi_fit_error_message(&diag);
  assert_string_equal(err, "0/2 nodes are available: 2 Insufficient cpu. "
                           "preemption: not eligible due to "
                           "preemptionPolicy=Never..");
  free(err);
  kapi_diagnosis_free(&diag);
  kapi_cycle_free(cs);
  kapi_cobj_unref(pod);
  world_free(&w);
}

static int no_order(void *arg, const kj *a, int64_t ts_a, const kj *b,
                    int64_t ts_b)
{
  (void)arg;
  (void)a;
  (void)b;
  return ts_a < ts_b;
}

static void nominated_pods_hold_their_room(void **state)
{
  world w;
  kapi_sq_config qc = {0};
  kapi_sched_queue *q;
  kapi_sched_result res;
  kapi_cobj *vip = make_pod("vip", "1500m", NULL, 100, NULL);
  kapi_cobj *small = make_pod("small", "1", NULL, 0, NULL);
  char *msg;
  (void)state;

  world_init(&w);
  world_node(&w, make_node("n1", "2", "4Gi", 110, NULL));
  qc.less = no_order; /* nothing is queued: only the nominator is used */
  q = kapi_sq_new(&qc);
  env.fw->queue = q;
  kapi_sq_nominate(q, vip, "n1");
  assert_int_equal(attempt(&w, small, &res, &msg), KAPI_UNSCHEDULABLE);
  free(msg);
  /* The nominated pod itself fits there. */
  assert_int_equal(attempt(&w, vip, &res, &msg), KAPI_SUCCESS);
  assert_string_equal(res.node, "n1");
  env.fw->queue = NULL;
  kapi_sq_free(q);
  kapi_cobj_unref(vip);
  kapi_cobj_unref(small);
  world_free(&w);
}

/* ---- binding ----------------------------------------------------------- */

static char bound_path[256], bound_body[1024];

static int fake_api_request(const char *method, const char *path,
                            const char *content_type, const char *body,
                            kapi_obj **ret, kapi_error *e)
{
  (void)e;
  assert_string_equal(method, "POST");
  assert_string_equal(content_type, "application/json");
  snprintf(bound_path, sizeof bound_path, "%s", path);
  snprintf(bound_body, sizeof bound_body, "%s", body);
  if (strstr(path, "/pods/gone/")) {
    *ret = parse_json("{\"kind\":\"Status\",\"message\":\"pods \\\"gone\\\" "
                      "not found\",\"code\":404}");
    return -ENOENT;
  }
  *ret = NULL;
  return 0;
}

static void default_binder_posts_a_binding(void **state)
{
  kapi_cycle *cs = kapi_cycle_new();
  kapi_sched_status s = {0};
  kapi_cobj *pod = make_pod("p", NULL, NULL, 0, NULL);
  kapi_cobj *gone = make_pod("gone", NULL, NULL, 0, NULL);
  char *msg;
  (void)state;

  kapi_host_set_api_request(fake_api_request);
  assert_int_equal(kapi_fw_run_bind(env.fw, cs, pod->obj, "n7", &s),
                   KAPI_SUCCESS);
  assert_string_equal(bound_path, "/api/v1/namespaces/default/pods/p/binding");
  assert_string_equal(bound_body,
                      "{\"apiVersion\":\"v1\",\"kind\":\"Binding\","
                      "\"metadata\":{\"name\":\"p\",\"namespace\":"
                      "\"default\",\"uid\":\"uid-p\"},\"target\":{"
                      "\"kind\":\"Node\",\"name\":\"n7\"}}");
  assert_int_equal(kapi_fw_run_bind(env.fw, cs, gone->obj, "n7", &s),
                   KAPI_ERROR);
  assert_string_equal(s.plugin, "DefaultBinder");
  msg = kapi_status_message(&s);
  assert_string_equal(msg, "pods \"gone\" not found");
  free(msg);
  kapi_host_set_api_request(NULL);
  kapi_status_free(&s);
  kapi_cycle_free(cs);
  kapi_cobj_unref(pod);
  kapi_cobj_unref(gone);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(default_profile_is_upstreams),
      cmocka_unit_test(weights_and_disabling_follow_the_config),
      cmocka_unit_test(profile_errors_are_upstreams),
      cmocka_unit_test(fit_error_counts_reasons_over_nodes),
      cmocka_unit_test(every_filter_has_its_reason),
      cmocka_unit_test(no_nodes_is_its_own_message),
      cmocka_unit_test(least_allocated_and_taints_score_as_upstream),
      cmocka_unit_test(requests_default_to_non_zero_for_scoring),
      cmocka_unit_test(balanced_allocation_scores_the_spread),
      cmocka_unit_test(preferred_node_affinity_scores),
      cmocka_unit_test(selectors_and_host_ports_filter),
      cmocka_unit_test(ties_are_broken_uniformly),
      cmocka_unit_test(feasible_nodes_to_find_as_upstream),
      cmocka_unit_test(filter_walk_rotates_across_cycles),
      cmocka_unit_test(preemption_evicts_the_cheapest_victims),
      cmocka_unit_test(nominated_pods_hold_their_room),
      cmocka_unit_test(default_binder_posts_a_binding),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
