/*
 * test_deployment.c - the deployment resource plugin (registry/
 * deployment), loaded from its built .so through the plugin loader:
 * registration, upstream's defaults, validation messages, status
 * validation and the table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "plugin_loader.h"
#include "registry_test_util.h"
#include "status.h"

static int setup(void **state)
{
  *state = rt_load("registry/deployment", "deployment", KAPI_KIND_RESOURCE);
  return 0;
}

static kj *created(fixture *f, const char *json)
{
  kj *d = rt_parse(json);
  f->ops->prepare_for_create(f->st, d);
  return d;
}

/* Fails unless validation counted `n` errors and the server would send
 * `want` for them ("" when valid). */
static void assert_message(const kj *errs, int n, const char *want)
{
  const char *got = rt_invalid_message("apps", "Deployment", "web", errs);
  assert_int_equal((size_t)n, kj_len(errs));
  if (strcmp(got, want))
    fail_msg("\n got: %s\nwant: %s", got, want);
}

static void assert_create(fixture *f, const char *json, const char *want)
{
  kj *d = created(f, json), *errs = kj_array();
  assert_message(errs, f->ops->validate(f->st, d, errs), want);
  kj_free(errs);
  kj_free(d);
}

#define DEP(spec) "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"}," \
                  "\"spec\":" spec "}"
#define SEL "\"selector\":{\"matchLabels\":{\"app\":\"web\"}}"
#define TPL(spec) "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}}," \
                  "\"spec\":" spec "}"
#define CONTAINERS "{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}"
#define GOOD DEP("{" SEL "," TPL(CONTAINERS) "}")
#define PREFIX "Deployment.apps \"web\" is invalid: "

/* ---- registration ------------------------------------------------------ */

static void test_registration(void **state)
{
  fixture *f = *state;
  const kapi_resource_ops *o = f->ops;

  assert_string_equal(o->group, "apps");
  assert_string_equal(o->version, "v1");
  assert_string_equal(o->resource, "deployments");
  assert_string_equal(o->kind, "Deployment");
  assert_string_equal(o->singular, "deployment");
  assert_string_equal(o->short_names[0], "deploy");
  assert_null(o->short_names[1]);
  assert_string_equal(o->categories[0], "all");
  assert_null(o->categories[1]);
  assert_int_equal(o->namespaced, 1);
  assert_int_equal(o->allow_unconditional_update, 1);
  assert_int_equal(o->allow_create_on_update, 0);
  assert_int_equal(o->subresources, KAPI_SUB_STATUS | KAPI_SUB_SCALE);
  assert_int_equal(o->track_generation, 1);
  assert_string_equal(o->scale_selector, "/spec/selector");
  assert_non_null(o->validate_status_update);
  assert_int_equal(o->n_columns, 8);
  assert_string_equal(o->columns[1].name, "Ready");
  assert_string_equal(o->columns[2].name, "Up-to-date");
  assert_string_equal(o->columns[3].name, "Available");
  assert_string_equal(o->columns[4].name, "Age");
  assert_int_equal(o->columns[4].priority, 0);
  assert_string_equal(o->columns[7].name, "Selector");
  assert_int_equal(o->columns[7].priority, 1);
  kj_free(rt_parse(o->schema));
}

/* ---- defaults ------------------------------------------------------------ */

static void test_defaults(void **state)
{
  fixture *f = *state;
  kj *d = created(f, DEP("{" SEL "," TPL("{\"containers\":[{\"name\":\"c\","
                         "\"image\":\"nginx:1.27\",\"ports\":[{"
                         "\"containerPort\":80}]}]}") "}"));

  assert_string_equal(rt_json_at(d, "/spec/replicas"), "1");
  assert_string_equal(rt_json_at(d, "/spec/strategy"),
                      "{\"type\":\"RollingUpdate\",\"rollingUpdate\":{"
                      "\"maxUnavailable\":\"25%\",\"maxSurge\":\"25%\"}}");
  assert_string_equal(rt_json_at(d, "/spec/revisionHistoryLimit"), "10");
  assert_string_equal(rt_json_at(d, "/spec/progressDeadlineSeconds"), "600");
  assert_string_equal(rt_json_at(d, "/status"), "{}");
  assert_string_equal(rt_json_at(d, "/spec/template/spec/restartPolicy"),
                      "\"Always\"");
  assert_string_equal(rt_json_at(d, "/spec/template/spec/dnsPolicy"),
                      "\"ClusterFirst\"");
  assert_string_equal(
      rt_json_at(d, "/spec/template/spec/terminationGracePeriodSeconds"),
      "30");
  assert_string_equal(
      rt_json_at(d, "/spec/template/spec/containers/0/imagePullPolicy"),
      "\"IfNotPresent\"");
  assert_string_equal(
      rt_json_at(d, "/spec/template/spec/containers/0/ports/0/protocol"),
      "\"TCP\"");
  kj_free(d);
}

static void test_defaults_keep_values(void **state)
{
  fixture *f = *state;
  kj *d = created(f, DEP("{\"replicas\":0,\"revisionHistoryLimit\":0,"
                         "\"strategy\":{\"type\":\"Recreate\"},"
                         SEL "," TPL(CONTAINERS) "}"));
  kj *old = kj_clone(d), *rolling;

  assert_string_equal(rt_json_at(d, "/spec/replicas"), "0");
  assert_string_equal(rt_json_at(d, "/spec/revisionHistoryLimit"), "0");
  /* Recreate gets no rolling update parameters. */
  assert_string_equal(rt_json_at(d, "/spec/strategy"),
                      "{\"type\":\"Recreate\"}");
  rolling = rt_parse("{\"type\":\"RollingUpdate\",\"rollingUpdate\":{"
                     "\"maxSurge\":1}}");
  kj_set(kj_get(d, "spec"), "strategy", rolling);
  kj_remove(kj_get(d, "spec"), "replicas");
  f->ops->prepare_for_update(f->st, d, old);
  assert_string_equal(rt_json_at(d, "/spec/replicas"), "1");
  assert_string_equal(rt_json_at(d, "/spec/strategy/rollingUpdate"),
                      "{\"maxSurge\":1,\"maxUnavailable\":\"25%\"}");
  kj_free(old);
  kj_free(d);
}

/* ---- validation ---------------------------------------------------------- */

static void test_validate_ok(void **state)
{
  assert_create(*state, GOOD, "");
  assert_create(*state,
                DEP("{\"strategy\":{\"type\":\"RollingUpdate\","
                    "\"rollingUpdate\":{\"maxUnavailable\":0,\"maxSurge\":"
                    "\"100%\"}}," SEL "," TPL(CONTAINERS) "}"),
                "");
}

static void test_validate_selector(void **state)
{
  fixture *f = *state;

  assert_create(f, DEP("{" TPL(CONTAINERS) "}"),
                PREFIX "spec.selector: Required value");
  assert_create(f, DEP("{\"selector\":{}," TPL(CONTAINERS) "}"),
                PREFIX "spec.selector: Invalid value: {}: empty selector is "
                "invalid for deployment");
  assert_create(f, DEP("{\"selector\":{\"matchLabels\":{\"app\":\"db\"}},"
                       TPL(CONTAINERS) "}"),
                PREFIX "spec.template.metadata.labels: Invalid value: "
                "{\"app\":\"web\"}: `selector` does not match template "
                "`labels`");
}

static void test_validate_spec(void **state)
{
  fixture *f = *state;

  assert_create(f, DEP("{\"replicas\":-1," SEL "," TPL(CONTAINERS) "}"),
                PREFIX "spec.replicas: Invalid value: -1: must be greater "
                "than or equal to 0");
  assert_create(f, DEP("{" SEL "," TPL("{}") "}"),
                PREFIX "spec.template.spec.containers: Required value");
  assert_create(f, DEP("{\"strategy\":{\"type\":\"Fast\"}," SEL ","
                       TPL(CONTAINERS) "}"),
                PREFIX "spec.strategy.type: Unsupported value: \"Fast\": "
                "supported values: \"Recreate\", \"RollingUpdate\"");
  assert_create(f, DEP("{\"strategy\":{\"type\":\"Recreate\","
                       "\"rollingUpdate\":{}}," SEL "," TPL(CONTAINERS) "}"),
                PREFIX "spec.strategy.rollingUpdate: Forbidden: may not be "
                "specified when strategy `type` is 'Recreate'");
  assert_create(f, DEP("{\"strategy\":{\"rollingUpdate\":{\"maxUnavailable\":"
                       "0,\"maxSurge\":\"0%\"}}," SEL "," TPL(CONTAINERS)
                       "}"),
                PREFIX "spec.strategy.rollingUpdate.maxUnavailable: Invalid "
                "value: 0: may not be 0 when `maxSurge` is 0");
  assert_create(f, DEP("{\"strategy\":{\"rollingUpdate\":{\"maxUnavailable\":"
                       "\"150%\",\"maxSurge\":\"x\"}}," SEL ","
                       TPL(CONTAINERS) "}"),
                PREFIX "[spec.strategy.rollingUpdate.maxUnavailable: Invalid "
                "value: \"150%\": must not be greater than 100%, spec."
                "strategy.rollingUpdate.maxSurge: Invalid value: \"x\": a "
                "valid percent string must be a numeric string followed by "
                "an ending '%' (e.g. '1%',  or '93%', regex used for "
                "validation is '[0-9]+%')]");
  assert_create(f, DEP("{\"minReadySeconds\":700," SEL "," TPL(CONTAINERS)
                       "}"),
                PREFIX "spec.progressDeadlineSeconds: Invalid value: 600: "
                "must be greater than minReadySeconds");
  assert_create(f, DEP("{\"revisionHistoryLimit\":-1," SEL ","
                       TPL(CONTAINERS) "}"),
                PREFIX "spec.revisionHistoryLimit: Invalid value: -1: must "
                "be greater than or equal to 0");
  assert_create(f, DEP("{" SEL "," TPL("{\"activeDeadlineSeconds\":5,"
                       "\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}")
                       "}"),
                PREFIX "spec.template.spec.activeDeadlineSeconds: Forbidden: "
                "activeDeadlineSeconds in Deployment is not Supported");
}

static void test_validate_update(void **state)
{
  fixture *f = *state;
  kj *old = created(f, GOOD);
  kj *d = kj_clone(old), *errs = kj_array();

  kj_set_int(kj_get(d, "spec"), "replicas", 4);
  assert_message(errs, f->ops->validate_update(f->st, d, old, errs), "");
  kj_free(errs);
  errs = kj_array();
  kj_set(kj_get(d, "spec"), "selector",
         rt_parse("{\"matchLabels\":{\"app\":\"web\",\"tier\":\"x\"}}"));
  kj_set(kj_ptr(d, "/spec/template/metadata"), "labels",
         rt_parse("{\"app\":\"web\",\"tier\":\"x\"}"));
  assert_message(errs, f->ops->validate_update(f->st, d, old, errs),
                 PREFIX "spec.selector: Invalid value: {\"matchLabels\":{"
                 "\"app\":\"web\",\"tier\":\"x\"}}: field is immutable");
  kj_free(errs);
  kj_free(d);
  kj_free(old);
}

static void test_validate_status(void **state)
{
  fixture *f = *state;
  kj *old = created(f, GOOD), *d = kj_clone(old), *errs = kj_array();

  kj_set(d, "status", rt_parse("{\"replicas\":3,\"updatedReplicas\":3,"
                               "\"readyReplicas\":2,\"availableReplicas\":2,"
                               "\"observedGeneration\":1}"));
  assert_message(errs, f->ops->validate_status_update(f->st, d, old, errs),
                 "");
  kj_free(errs);
  errs = kj_array();
  kj_set(d, "status", rt_parse("{\"replicas\":1,\"updatedReplicas\":2,"
                               "\"readyReplicas\":1,\"availableReplicas\":1,"
                               "\"collisionCount\":-1}"));
  assert_message(errs, f->ops->validate_status_update(f->st, d, old, errs),
                 PREFIX "[status.collisionCount: Invalid value: -1: must be "
                 "greater than or equal to 0, status.updatedReplicas: Invalid "
                 "value: 2: cannot be greater than status.replicas]");
  kj_free(errs);
  kj_free(d);
  kj_free(old);
}

/* ---- table -------------------------------------------------------------------- */

static void test_table(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      rt_row(f, "{\"metadata\":{\"name\":\"web\",\"creationTimestamp\":"
             "\"2025-01-01T00:00:00Z\"},\"spec\":{\"replicas\":3,"
             "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
             "\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\","
             "\"image\":\"nginx\"},{\"name\":\"b\",\"image\":\"redis:7\"}]}}"
             "},\"status\":{\"replicas\":3,\"updatedReplicas\":2,"
             "\"readyReplicas\":1,\"availableReplicas\":1}}",
             T0 + 125),
      "[\"web\",\"1/3\",2,1,\"2m5s\",\"a,b\",\"nginx,redis:7\","
      "\"app=web\"]");
  assert_string_equal(
      rt_row(f, "{\"metadata\":{\"name\":\"x\"},\"spec\":{}}", T0),
      "[\"x\",\"0/0\",0,0,\"<unknown>\",\"\",\"\",\"<none>\"]");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_registration, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_defaults, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_defaults_keep_values, setup,
                                      rt_teardown),
      cmocka_unit_test_setup_teardown(test_validate_ok, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_validate_selector, setup,
                                      rt_teardown),
      cmocka_unit_test_setup_teardown(test_validate_spec, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_validate_update, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_validate_status, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_table, setup, rt_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
