/*
 * test_replicaset.c - the replicaset resource plugin (registry/
 * replicaset), loaded from its built .so through the plugin loader:
 * registration, defaults, validation messages, status validation and
 * the table.
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
  *state = rt_load("registry/replicaset", "replicaset", KAPI_KIND_RESOURCE);
  return 0;
}

static kj *created(fixture *f, const char *json)
{
  kj *rs = rt_parse(json);
  f->ops->prepare_for_create(f->st, rs);
  return rs;
}

/* Fails unless validation counted `n` errors and the server would send
 * `want` for them ("" when valid). */
static void assert_message(const kj *errs, int n, const char *want)
{
  const char *got = rt_invalid_message("apps", "ReplicaSet", "web", errs);
  assert_int_equal((size_t)n, kj_len(errs));
  if (strcmp(got, want))
    fail_msg("\n got: %s\nwant: %s", got, want);
}

static void assert_create(fixture *f, const char *json, const char *want)
{
  kj *rs = created(f, json), *errs = kj_array();
  assert_message(errs, f->ops->validate(f->st, rs, errs), want);
  kj_free(errs);
  kj_free(rs);
}

#define RS(spec) "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"}," \
                 "\"spec\":" spec "}"
#define SEL "\"selector\":{\"matchLabels\":{\"app\":\"web\"}}"
#define TPL(spec) "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}}," \
                  "\"spec\":" spec "}"
#define CONTAINERS "{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}"
#define GOOD RS("{" SEL "," TPL(CONTAINERS) "}")

/* ---- registration ------------------------------------------------------ */

static void test_registration(void **state)
{
  fixture *f = *state;
  const kapi_resource_ops *o = f->ops;

  assert_string_equal(o->group, "apps");
  assert_string_equal(o->version, "v1");
  assert_string_equal(o->resource, "replicasets");
  assert_string_equal(o->kind, "ReplicaSet");
  assert_string_equal(o->singular, "replicaset");
  assert_string_equal(o->short_names[0], "rs");
  assert_null(o->short_names[1]);
  assert_string_equal(o->categories[0], "all");
  assert_int_equal(o->namespaced, 1);
  assert_int_equal(o->allow_unconditional_update, 1);
  assert_int_equal(o->allow_create_on_update, 0);
  assert_int_equal(o->subresources, KAPI_SUB_STATUS | KAPI_SUB_SCALE);
  assert_int_equal(o->track_generation, 1);
  assert_int_equal(o->return_deleted_object, 0);
  assert_string_equal(o->scale_selector, "/spec/selector");
  assert_non_null(o->validate_status_update);
  assert_string_equal(o->fields[0].label, "status.replicas");
  assert_int_equal(o->n_columns, 8);
  assert_string_equal(o->columns[1].name, "Desired");
  assert_string_equal(o->columns[7].name, "Selector");
  assert_int_equal(o->columns[7].priority, 1);
  kj_free(rt_parse(o->schema));
}

/* ---- defaults ------------------------------------------------------------ */

static void test_defaults(void **state)
{
  fixture *f = *state;
  kj *rs = created(f, RS("{" SEL "," TPL("{\"containers\":[{\"name\":\"c\","
                         "\"image\":\"nginx:1.27\",\"ports\":[{"
                         "\"containerPort\":80}]},{\"name\":\"d\","
                         "\"image\":\"busybox\"}]}") "}"));

  assert_string_equal(rt_json_at(rs, "/spec/replicas"), "1");
  assert_string_equal(rt_json_at(rs, "/status"), "{\"replicas\":0}");
  assert_string_equal(rt_json_at(rs, "/spec/template/spec/restartPolicy"),
                      "\"Always\"");
  assert_string_equal(rt_json_at(rs, "/spec/template/spec/dnsPolicy"),
                      "\"ClusterFirst\"");
  assert_string_equal(rt_json_at(rs, "/spec/template/spec/schedulerName"),
                      "\"default-scheduler\"");
  assert_string_equal(
      rt_json_at(rs, "/spec/template/spec/terminationGracePeriodSeconds"),
      "30");
  assert_string_equal(
      rt_json_at(rs, "/spec/template/spec/containers/0/imagePullPolicy"),
      "\"IfNotPresent\"");
  assert_string_equal(
      rt_json_at(rs, "/spec/template/spec/containers/1/imagePullPolicy"),
      "\"Always\"");
  assert_string_equal(
      rt_json_at(rs, "/spec/template/spec/containers/0/ports/0/protocol"),
      "\"TCP\"");
  assert_string_equal(
      rt_json_at(rs, "/spec/template/spec/containers/0/terminationMessagePath"),
      "\"/dev/termination-log\"");
  kj_free(rs);
}

static void test_defaults_keep_values(void **state)
{
  fixture *f = *state;
  kj *rs = created(f, RS("{\"replicas\":0," SEL "," TPL(
                             "{\"restartPolicy\":\"Never\","
                             "\"containers\":[{\"name\":\"c\",\"image\":"
                             "\"x\",\"imagePullPolicy\":\"Never\"}]}") "}"));
  kj *old = kj_clone(rs);

  assert_string_equal(rt_json_at(rs, "/spec/replicas"), "0");
  assert_string_equal(rt_json_at(rs, "/spec/template/spec/restartPolicy"),
                      "\"Never\"");
  assert_string_equal(
      rt_json_at(rs, "/spec/template/spec/containers/0/imagePullPolicy"),
      "\"Never\"");
  /* Updates are defaulted the same way: a PUT of the manifest as it was
   * first sent equals the stored object. */
  kj_remove(kj_get(rs, "spec"), "replicas");
  f->ops->prepare_for_update(f->st, rs, old);
  assert_string_equal(rt_json_at(rs, "/spec/replicas"), "1");
  kj_free(old);
  kj_free(rs);
}

/* ---- validation ---------------------------------------------------------- */

static void test_validate_ok(void **state)
{
  assert_create(*state, GOOD, "");
  assert_create(*state,
                RS("{\"selector\":{\"matchExpressions\":[{\"key\":\"app\","
                   "\"operator\":\"In\",\"values\":[\"web\",\"api\"]}]},"
                   TPL(CONTAINERS) "}"),
                "");
}

static void test_validate_selector(void **state)
{
  fixture *f = *state;

  assert_create(f, RS("{" TPL(CONTAINERS) "}"),
                "ReplicaSet.apps \"web\" is invalid: spec.selector: Required "
                "value");
  assert_create(f, RS("{\"selector\":{}," TPL(CONTAINERS) "}"),
                "ReplicaSet.apps \"web\" is invalid: spec.selector: Invalid "
                "value: {}: empty selector is invalid for deployment");
  assert_create(f, RS("{\"selector\":{\"matchLabels\":{\"app\":\"db\"}},"
                      TPL(CONTAINERS) "}"),
                "ReplicaSet.apps \"web\" is invalid: spec.template.metadata."
                "labels: Invalid value: {\"app\":\"web\"}: `selector` does not "
                "match template `labels`");
  assert_create(f, RS("{\"selector\":{\"matchExpressions\":[{\"key\":"
                      "\"app\",\"operator\":\"In\"}]}," TPL(CONTAINERS) "}"),
                "ReplicaSet.apps \"web\" is invalid: [spec.selector."
                "matchExpressions[0].values: Required value: must be "
                "specified when `operator` is 'In' or 'NotIn', spec.selector: "
                "Invalid value: {\"matchExpressions\":[{\"key\":\"app\","
                "\"operator\":\"In\"}]}: invalid label selector]");
  assert_create(f, RS("{\"selector\":{\"matchLabels\":{\"a b\":\"web\"}},"
                      TPL(CONTAINERS) "}"),
                "ReplicaSet.apps \"web\" is invalid: [spec.selector."
                "matchLabels: Invalid value: \"a b\": name part must consist "
                "of alphanumeric characters, '-', '_' or '.', and must start "
                "and end with an alphanumeric character (e.g. 'MyName',  or "
                "'my.name',  or '123-abc', regex used for validation is "
                "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'), spec.template."
                "metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` "
                "does not match template `labels`]");
}

static void test_validate_spec(void **state)
{
  fixture *f = *state;

  assert_create(f, RS("{\"replicas\":-1," SEL "," TPL(CONTAINERS) "}"),
                "ReplicaSet.apps \"web\" is invalid: spec.replicas: Invalid "
                "value: -1: must be greater than or equal to 0");
  assert_create(f, RS("{" SEL "," TPL("{\"restartPolicy\":\"OnFailure\","
                      "\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}")
                      "}"),
                "ReplicaSet.apps \"web\" is invalid: spec.template.spec."
                "restartPolicy: Unsupported value: \"OnFailure\": supported "
                "values: \"Always\"");
  assert_create(f, RS("{" SEL "," TPL("{}") "}"),
                "ReplicaSet.apps \"web\" is invalid: spec.template.spec."
                "containers: Required value");
  assert_create(f, RS("{" SEL "," TPL("{\"containers\":[{\"name\":\"c\","
                      "\"image\":\"x\"},{\"name\":\"c\"}]}") "}"),
                "ReplicaSet.apps \"web\" is invalid: [spec.template.spec."
                "containers[1].name: Duplicate value: \"c\", spec.template."
                "spec.containers[1].image: Required value]");
  assert_create(f, RS("{" SEL "," TPL("{\"activeDeadlineSeconds\":5,"
                      "\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}")
                      "}"),
                "ReplicaSet.apps \"web\" is invalid: spec.template.spec."
                "activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in "
                "ReplicaSet is not Supported");
}

static void test_validate_update(void **state)
{
  fixture *f = *state;
  kj *old = created(f, GOOD);
  kj *rs = kj_clone(old), *errs = kj_array();

  kj_set_int(kj_get(rs, "spec"), "replicas", 4);
  assert_message(errs, f->ops->validate_update(f->st, rs, old, errs), "");
  kj_free(errs);
  errs = kj_array();
  kj_set(kj_get(rs, "spec"), "selector",
         rt_parse("{\"matchLabels\":{\"app\":\"web\",\"tier\":\"x\"}}"));
  kj_set(kj_ptr(rs, "/spec/template/metadata"), "labels",
         rt_parse("{\"app\":\"web\",\"tier\":\"x\"}"));
  assert_message(errs, f->ops->validate_update(f->st, rs, old, errs),
                 "ReplicaSet.apps \"web\" is invalid: spec.selector: Invalid "
                 "value: {\"matchLabels\":{\"app\":\"web\",\"tier\":\"x\"}}: "
                 "field is immutable");
  kj_free(errs);
  kj_free(rs);
  kj_free(old);
}

static void test_validate_status(void **state)
{
  fixture *f = *state;
  kj *old = created(f, GOOD), *rs = kj_clone(old), *errs = kj_array();

  kj_set(rs, "status", rt_parse("{\"replicas\":3,\"readyReplicas\":2,"
                                "\"availableReplicas\":2,"
                                "\"observedGeneration\":1}"));
  assert_message(errs, f->ops->validate_status_update(f->st, rs, old, errs),
                 "");
  kj_free(errs);
  errs = kj_array();
  kj_set(rs, "status", rt_parse("{\"replicas\":1,\"readyReplicas\":2,"
                                "\"availableReplicas\":3}"));
  assert_message(errs, f->ops->validate_status_update(f->st, rs, old, errs),
                 "ReplicaSet.apps \"web\" is invalid: [status.readyReplicas: "
                 "Invalid value: 2: cannot be greater than status.replicas, "
                 "status.availableReplicas: Invalid value: 3: cannot be "
                 "greater than status.replicas, status.availableReplicas: "
                 "Invalid value: 3: cannot be greater than readyReplicas]");
  kj_free(errs);
  errs = kj_array();
  kj_set(rs, "status", rt_parse("{\"replicas\":0,\"observedGeneration\":-1}"));
  assert_message(errs, f->ops->validate_status_update(f->st, rs, old, errs),
                 "ReplicaSet.apps \"web\" is invalid: status."
                 "observedGeneration: Invalid value: -1: must be greater than "
                 "or equal to 0");
  kj_free(errs);
  kj_free(rs);
  kj_free(old);
}

/* ---- table -------------------------------------------------------------------- */

static void test_table(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      rt_row(f, "{\"metadata\":{\"name\":\"web\",\"creationTimestamp\":"
             "\"2025-01-01T00:00:00Z\"},\"spec\":{\"replicas\":3,"
             "\"selector\":{\"matchLabels\":{\"tier\":\"fe\",\"app\":\"web\"},"
             "\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"NotIn\","
             "\"values\":[\"qa\",\"dev\"]},{\"key\":\"gone\",\"operator\":"
             "\"DoesNotExist\"}]},\"template\":{\"spec\":{\"containers\":["
             "{\"name\":\"a\",\"image\":\"nginx\"},{\"name\":\"b\","
             "\"image\":\"redis:7\"}]}}},\"status\":{\"replicas\":2,"
             "\"readyReplicas\":1}}",
             T0 + 125),
      "[\"web\",3,2,1,\"2m5s\",\"a,b\",\"nginx,redis:7\","
      "\"app=web,env notin (dev,qa),!gone,tier=fe\"]");
  assert_string_equal(
      rt_row(f, "{\"metadata\":{\"name\":\"x\"},\"spec\":{}}", T0),
      "[\"x\",0,0,0,\"<unknown>\",\"\",\"\",\"<none>\"]");
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
