/*
 * test_node_resources_fit.c - the NodeResourcesFit plugin with its args:
 * MostAllocated and RequestedToCapacityRatio scores by upstream's
 * formulas, resource weights, extended resources and ignoredResources,
 * pod-count limits, and refused args.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../scheduler/sched_test_util.h"

#define CFG(args)                                                       \
  "{\"apiVersion\":\"kubescheduler.config.k8s.io/v1\",\"profiles\":[{"  \
  "\"pluginConfig\":[{\"name\":\"NodeResourcesFit\",\"args\":" args    \
  "}]}]}"

static void open_env(sched_env *env, const char *cfg)
{
  char err[512];
  int r = sched_env_open(env, cfg, err, sizeof err);

  if (r < 0)
    fail_msg("%s", err);
}

/* The weighted NodeResourcesFit score of nodes a and b for the pod. */
static void fit_scores(sched_env *env, kapi_sched_cache *c, kapi_cobj *pod,
                       int64_t out[2])
{
  const size_t np = env->fw->n_points[KAPI_EP_SCORE];
  kapi_snapshot snap = {0};
  kapi_cycle *cs = kapi_cycle_new();
  kapi_sched_status s = {0};
  int64_t totals[2], *per = calloc(2 * np, sizeof *per);
  size_t k;
  char *err = NULL;

  for (k = 0; k < np; k++)
    if (!strcmp(env->fw->points[KAPI_EP_SCORE][k].name, "NodeResourcesFit"))
      break;
  assert_true(k < np);
  assert_int_equal(kapi_scache_snapshot(c, &snap), 0);
  assert_int_equal(kapi_fw_run_pre_filter(env->fw, cs, pod->obj, &s),
                   KAPI_SUCCESS);
  assert_int_equal(kapi_fw_prioritize(env->fw, cs, pod->obj, snap.nodes, 2,
                                      totals, per, &err),
                   KAPI_SUCCESS);
  out[0] = per[k];
  out[1] = per[np + k];
  free(per);
  kapi_status_free(&s);
  kapi_cycle_free(cs);
  kapi_snapshot_release(&snap);
}

/* a: 4 cpu / 8Gi with a pod of 1 cpu / 2Gi; b: 2 cpu / 4Gi, empty. */
static kapi_sched_cache *two_nodes(void)
{
  kapi_sched_cache *c = kapi_scache_new(0);
  kapi_cobj *a = make_node("a", "4", "8Gi", 110, NULL);
  kapi_cobj *b = make_node("b", "2", "4Gi", 110, NULL);
  kapi_cobj *x = bound(make_pod("x", "1", "2Gi", 0, NULL), "a");

  assert_int_equal(kapi_scache_add_node(c, a), 0);
  assert_int_equal(kapi_scache_add_node(c, b), 0);
  assert_int_equal(kapi_scache_add_pod(c, x), 0);
  kapi_cobj_unref(a);
  kapi_cobj_unref(b);
  kapi_cobj_unref(x);
  return c;
}

static void most_allocated_with_weights(void **state)
{
  sched_env env;
  kapi_sched_cache *c;
  kapi_cobj *pod = make_pod("p", "500m", "3Gi", 0, NULL);
  int64_t s[2];
  (void)state;

  open_env(&env, CFG("{\"scoringStrategy\":{\"type\":\"MostAllocated\","
                     "\"resources\":[{\"name\":\"cpu\",\"weight\":2},"
                     "{\"name\":\"memory\",\"weight\":1}]}}"));
  c = two_nodes();
  /*
   * a: cpu 1500*100/4000 = 37, memory 5Gi*100/8Gi = 62: (2*37+62)/3 = 45
   * b: cpu 500*100/2000 = 25, memory 3Gi*100/4Gi = 75: (2*25+75)/3 = 41
   */
  fit_scores(&env, c, pod, s);
  assert_int_equal(s[0], 45);
  assert_int_equal(s[1], 41);
  kapi_scache_free(c);
  kapi_cobj_unref(pod);
  sched_env_close(&env);
}

static void requested_to_capacity_ratio_rounds(void **state)
{
  sched_env env;
  kapi_sched_cache *c;
  kapi_cobj *pod = make_pod("p", "500m", "3Gi", 0, NULL);
  int64_t s[2];
  (void)state;

  open_env(&env, CFG("{\"scoringStrategy\":{\"type\":"
                     "\"RequestedToCapacityRatio\",\"requestedToCapacityRatio\":"
                     "{\"shape\":[{\"utilization\":0,\"score\":0},"
                     "{\"utilization\":100,\"score\":10}]}}}"));
  c = two_nodes();
  /*
   * The shape scaled to 0..100 is the identity: a: cpu 37, memory 62,
   * round(99/2) = 50; b: cpu 25, memory 75, round(100/2) = 50.
   */
  fit_scores(&env, c, pod, s);
  assert_int_equal(s[0], 50);
  assert_int_equal(s[1], 50);
  kapi_scache_free(c);
  kapi_cobj_unref(pod);
  sched_env_close(&env);
}

/* Filter verdict and message of the pod on the only node. */
static kapi_code filter_one(sched_env *env, const char *node_json,
                            const char *pod_json, char **msg)
{
  kapi_sched_cache *c = kapi_scache_new(0);
  kapi_snapshot snap = {0};
  kapi_cycle *cs = kapi_cycle_new();
  kapi_sched_status s = {0};
  kapi_cobj *node = kapi_cobj_new(parse_json(node_json));
  kapi_cobj *pod = kapi_cobj_new(parse_json(pod_json));
  kapi_code code;

  assert_int_equal(kapi_scache_add_node(c, node), 0);
  assert_int_equal(kapi_scache_snapshot(c, &snap), 0);
  assert_int_equal(kapi_fw_run_pre_filter(env->fw, cs, pod->obj, &s),
                   KAPI_SUCCESS);
  code = kapi_fw_run_filters(env->fw, cs, pod->obj, snap.nodes[0], &s);
  *msg = kapi_status_message(&s);
  kapi_status_free(&s);
  kapi_cycle_free(cs);
  kapi_snapshot_release(&snap);
  kapi_cobj_unref(node);
  kapi_cobj_unref(pod);
  kapi_scache_free(c);
  return code;
}

#define GPU_NODE                                                        \
  "{\"metadata\":{\"name\":\"g\"},\"status\":{\"allocatable\":{"       \
  "\"cpu\":\"4\",\"memory\":\"8Gi\",\"pods\":\"110\","                 \
  "\"example.com/gpu\":\"2\"}}}"
#define GPU_POD(n)                                                      \
  "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"},\"spec\":{" \
  "\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":{"      \
  "\"example.com/gpu\":\"" n "\"}}}]}}"

static void extended_resources_fit_unless_ignored(void **state)
{
  sched_env env;
  char *msg;
  (void)state;

  open_env(&env, NULL);
  assert_int_equal(filter_one(&env, GPU_NODE, GPU_POD("2"), &msg),
                   KAPI_SUCCESS);
  free(msg);
  assert_int_equal(filter_one(&env, GPU_NODE, GPU_POD("3"), &msg),
                   KAPI_UNSCHEDULABLE_AND_UNRESOLVABLE);
  assert_string_equal(msg, "Insufficient example.com/gpu");
  free(msg);
  sched_env_close(&env);

  open_env(&env, CFG("{\"ignoredResources\":[\"example.com/gpu\"]}"));
  assert_int_equal(filter_one(&env, GPU_NODE, GPU_POD("3"), &msg),
                   KAPI_SUCCESS);
  free(msg);
  sched_env_close(&env);
  open_env(&env, CFG("{\"ignoredResourceGroups\":[\"example.com\"]}"));
  assert_int_equal(filter_one(&env, GPU_NODE, GPU_POD("3"), &msg),
                   KAPI_SUCCESS);
  free(msg);
  sched_env_close(&env);
}

static void pod_count_and_all_reasons(void **state)
{
  sched_env env;
  char *msg;
  (void)state;

  open_env(&env, NULL);
  /* No "pods" allocatable: nothing fits, even a pod asking nothing. */
  assert_int_equal(filter_one(&env,
                              "{\"metadata\":{\"name\":\"n\"},\"status\":{"
                              "\"allocatable\":{\"cpu\":\"1\"}}}",
                              "{\"metadata\":{\"name\":\"p\"},\"spec\":{"
                              "\"containers\":[{\"name\":\"c\"}]}}",
                              &msg),
                   KAPI_UNSCHEDULABLE);
  assert_string_equal(msg, "Too many pods");
  free(msg);
  /* Every shortage is listed; over the allocatable is unresolvable. */
  assert_int_equal(filter_one(&env,
                              "{\"metadata\":{\"name\":\"n\"},\"status\":{"
                              "\"allocatable\":{\"cpu\":\"1\",\"memory\":"
                              "\"1Gi\",\"pods\":\"0\"}}}",
                              "{\"metadata\":{\"name\":\"p\"},\"spec\":{"
                              "\"containers\":[{\"name\":\"c\",\"resources\":"
                              "{\"requests\":{\"cpu\":\"2\",\"memory\":"
                              "\"2Gi\"}}}]}}",
                              &msg),
                   KAPI_UNSCHEDULABLE_AND_UNRESOLVABLE);
  assert_string_equal(msg, "Too many pods, Insufficient cpu, Insufficient "
                           "memory");
  free(msg);
  sched_env_close(&env);
}

static void bad_args_are_refused(void **state)
{
  sched_env env;
  char err[512];
  (void)state;

  assert_true(sched_env_open(&env,
                             CFG("{\"scoringStrategy\":{\"resources\":[{"
                                 "\"name\":\"cpu\",\"weight\":0}]}}"),
                             err, sizeof err) < 0);
  assert_non_null(strstr(err, "NodeResourcesFit args: scoringStrategy."
                              "resources[0].weight: Invalid value: 0: "
                              "resource weight of cpu should be in range "
                              "[1, 100]"));
  sched_env_close(&env);
  assert_true(sched_env_open(&env,
                             CFG("{\"scoringStrategy\":{\"type\":\"Best\"}}"),
                             err, sizeof err) < 0);
  assert_non_null(strstr(err, "scoringStrategy.type: Unsupported value: "
                              "\"Best\""));
  sched_env_close(&env);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(most_allocated_with_weights),
      cmocka_unit_test(requested_to_capacity_ratio_rounds),
      cmocka_unit_test(extended_resources_fit_unless_ignored),
      cmocka_unit_test(pod_count_and_all_reasons),
      cmocka_unit_test(bad_args_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
