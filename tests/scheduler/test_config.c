/*
 * test_config.c - KubeSchedulerConfiguration v1: defaults, the merge of
 * a profile's plugin sets with upstream's default profile, validation
 * messages, YAML input, and the plugin loader's view of pluginConfig.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "sched_config.h"
#include "kyaml.h"

static int parse(const char *text, kapi_sched_config *cfg, char *err,
                 size_t len)
{
  kj *doc = NULL;
  int r;

  assert_int_equal(kapi_sched_config_default(cfg), 0);
  r = kapi_yaml_parse_one(text, strlen(text), &doc, err, len);
  assert_int_equal(r, 0);
  r = kapi_sched_config_parse(doc, cfg, err, len);
  kj_free(doc);
  return r;
}

#define HEAD                                                            \
  "apiVersion: kubescheduler.config.k8s.io/v1\n"                        \
  "kind: KubeSchedulerConfiguration\n"

static void defaults_are_upstreams(void **state)
{
  kapi_sched_config cfg;
  const kapi_plugin_set *mp;
  (void)state;

  assert_int_equal(kapi_sched_config_default(&cfg), 0);
  assert_int_equal(cfg.n_profiles, 1);
  assert_string_equal(cfg.profiles[0].scheduler_name, "default-scheduler");
  assert_int_equal(cfg.pod_initial_backoff_s, 1);
  assert_int_equal(cfg.pod_max_backoff_s, 10);
  assert_int_equal(cfg.parallelism, 16);
  assert_int_equal(cfg.percentage_of_nodes_to_score, 0);
  assert_true(cfg.leader_elect);
  assert_string_equal(cfg.lease_namespace, "kube-system");
  assert_string_equal(cfg.lease_name, "kube-scheduler");
  mp = &cfg.profiles[0].sets[KAPI_EP_MULTI_POINT];
  assert_int_equal(mp->n_enabled, kapi_n_default_plugins);
  assert_string_equal(mp->enabled[4].name, "TaintToleration");
  assert_int_equal(mp->enabled[4].weight, 3);
  assert_string_equal(mp->enabled[7].name, "NodeResourcesFit");
  assert_int_equal(mp->enabled[7].weight, 1);
  assert_int_equal(cfg.profiles[0].sets[KAPI_EP_SCORE].n_enabled, 0);
  kapi_sched_config_free(&cfg);
}

static void custom_sets_merge_with_the_defaults(void **state)
{
  kapi_sched_config cfg;
  char err[256];
  const kapi_plugin_set *mp;
  (void)state;

  assert_int_equal(parse(HEAD
                         "profiles:\n"
                         "- schedulerName: default-scheduler\n"
                         "  plugins:\n"
                         "    multiPoint:\n"
                         "      enabled:\n"
                         "      - {name: Mine, weight: 4}\n"
                         "      - {name: TaintToleration, weight: 9}\n"
                         "      disabled: [{name: NodeName}]\n",
                         &cfg, err, sizeof err),
                   0);
  mp = &cfg.profiles[0].sets[KAPI_EP_MULTI_POINT];
  /* NodeName dropped, TaintToleration re-weighted in place, Mine last. */
  assert_int_equal(mp->n_enabled, kapi_n_default_plugins);
  assert_string_equal(mp->enabled[3].name, "TaintToleration");
  assert_int_equal(mp->enabled[3].weight, 9);
  assert_string_equal(mp->enabled[mp->n_enabled - 1].name, "Mine");
  assert_int_equal(mp->n_disabled, 1);
  kapi_sched_config_free(&cfg);

  assert_int_equal(parse(HEAD
                         "profiles:\n"
                         "- plugins:\n"
                         "    multiPoint:\n"
                         "      disabled: [{name: '*'}]\n"
                         "      enabled: [{name: Mine}]\n",
                         &cfg, err, sizeof err),
                   0);
  mp = &cfg.profiles[0].sets[KAPI_EP_MULTI_POINT];
  assert_int_equal(mp->n_enabled, 1);
  assert_string_equal(mp->enabled[0].name, "Mine");
  kapi_sched_config_free(&cfg);
}

static void fields_are_read(void **state)
{
  kapi_sched_config cfg;
  char err[256];
  (void)state;

  assert_int_equal(parse(HEAD
                         "percentageOfNodesToScore: 30\n"
                         "podInitialBackoffSeconds: 2\n"
                         "podMaxBackoffSeconds: 20\n"
                         "parallelism: 4\n"
                         "clientConnection: {kubeconfig: /k, qps: 500, "
                         "burst: 900}\n"
                         "leaderElection:\n"
                         "  leaderElect: false\n"
                         "  leaseDuration: 1m30s\n"
                         "  renewDeadline: 20s\n"
                         "  retryPeriod: 500ms\n"
                         "  resourceName: other\n"
                         "profiles:\n"
                         "- schedulerName: a\n"
                         "  percentageOfNodesToScore: 50\n"
                         "  pluginConfig:\n"
                         "  - name: NodeResourcesFit\n"
                         "    args: {scoringStrategy: {type: MostAllocated}}\n"
                         "- schedulerName: b\n",
                         &cfg, err, sizeof err),
                   0);
  assert_int_equal(cfg.percentage_of_nodes_to_score, 30);
  assert_int_equal(cfg.pod_initial_backoff_s, 2);
  assert_int_equal(cfg.pod_max_backoff_s, 20);
  assert_int_equal(cfg.parallelism, 4);
  assert_string_equal(cfg.kubeconfig, "/k");
  assert_true(cfg.qps == 500);
  assert_int_equal(cfg.burst, 900);
  assert_false(cfg.leader_elect);
  assert_int_equal(cfg.lease_duration_s, 90);
  assert_int_equal(cfg.renew_deadline_s, 20);
  assert_int_equal(cfg.retry_period_s, 1);
  assert_string_equal(cfg.lease_name, "other");
  assert_int_equal(cfg.n_profiles, 2);
  assert_string_equal(cfg.profiles[1].scheduler_name, "b");
  assert_int_equal(cfg.profiles[0].percentage_of_nodes_to_score, 50);
  assert_int_equal(cfg.profiles[1].percentage_of_nodes_to_score, -1);
  assert_non_null(kj_ptr(cfg.profiles[0].plugin_args,
                         "/NodeResourcesFit/scoringStrategy/type"));
  kapi_sched_config_free(&cfg);
}

static void invalid_configurations_say_why(void **state)
{
  static const struct {
    const char *text, *err;
  } cases[] = {
      {"apiVersion: kubescheduler.config.k8s.io/v1beta3\n",
       "apiVersion \"kubescheduler.config.k8s.io/v1beta3\": want "
       "\"kubescheduler.config.k8s.io/v1\""},
      {HEAD "percentageOfNodesToScore: 101\n",
       "percentageOfNodesToScore: Invalid value: 101: not in valid range "
       "[0-100]"},
      {HEAD "podInitialBackoffSeconds: 5\npodMaxBackoffSeconds: 2\n",
       "podMaxBackoffSeconds: Invalid value: 2: must be greater than or equal "
       "to PodInitialBackoffSeconds"},
      {HEAD "profiles: [{schedulerName: a}, {schedulerName: a}]\n",
       "profiles[1].schedulerName: Duplicate value: \"a\""},
      {HEAD "profiles: [{schedulerName: a}, {}]\n",
       "profiles[1].schedulerName: Required value"},
      {HEAD "profiles: [{plugins: {score: {enabled: [{weight: 2}]}}}]\n",
       "profiles[0].plugins.score.enabled[0].name: Required value"},
      {HEAD "profiles: [{pluginConfig: [{name: A}, {name: A}]}]\n",
       "profiles[0].pluginConfig[1]: Duplicate value: \"A\""},
      {HEAD "leaderElection: {leaseDuration: soon}\n",
       "leaderElection.leaseDuration: invalid duration \"soon\""},
  };
  kapi_sched_config cfg;
  char err[256];
  (void)state;

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    err[0] = '\0';
    assert_int_equal(parse(cases[i].text, &cfg, err, sizeof err), -EINVAL);
    assert_string_equal(err, cases[i].err);
    kapi_sched_config_free(&cfg);
  }
}

static void kebab_case_names_plugins(void **state)
{
  char buf[64];
  (void)state;

  kapi_kebab_case("NodeResourcesFit", buf, sizeof buf);
  assert_string_equal(buf, "node-resources-fit");
  kapi_kebab_case("PrioritySort", buf, sizeof buf);
  assert_string_equal(buf, "priority-sort");
  kapi_kebab_case("HTTPServerX2", buf, sizeof buf);
  assert_string_equal(buf, "http-server-x2");
  kapi_kebab_case("gpu-fit", buf, sizeof buf);
  assert_string_equal(buf, "gpu-fit");
}

static const char *map(void *arg, const char *name)
{
  (void)arg;
  return !strcmp(name, "PreferLabel") ? "label-scorer" : NULL;
}

static void plugin_args_reach_the_loader(void **state)
{
  kapi_sched_config cfg;
  char err[256];
  kj *o;
  (void)state;

  assert_int_equal(parse(HEAD
                         "profiles:\n"
                         "- pluginConfig:\n"
                         "  - {name: PreferLabel, args: {label: x}}\n"
                         "  - {name: NodeResourcesFit, args: {a: 1}}\n",
                         &cfg, err, sizeof err),
                   0);
  o = kapi_sched_config_loader_object(&cfg, map, NULL);
  assert_string_equal(kj_get_str(kj_ptr(o, "/plugins/label-scorer"), "label"),
                      "x");
  assert_null(kj_ptr(o, "/plugins/PreferLabel"));
  /* Unknown to the map: under its name and its kebab-case form. */
  assert_non_null(kj_ptr(o, "/plugins/NodeResourcesFit/a"));
  assert_non_null(kj_ptr(o, "/plugins/node-resources-fit/a"));
  kj_free(o);
  kapi_sched_config_free(&cfg);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(defaults_are_upstreams),
      cmocka_unit_test(custom_sets_merge_with_the_defaults),
      cmocka_unit_test(fields_are_read),
      cmocka_unit_test(invalid_configurations_say_why),
      cmocka_unit_test(kebab_case_names_plugins),
      cmocka_unit_test(plugin_args_reach_the_loader),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
