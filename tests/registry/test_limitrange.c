/*
 * test_limitrange.c - the limitrange resource plugin (registry/limitrange),
 * loaded from its built .so: registration, the decode-time defaults and
 * canonical quantities, ValidateLimitRange's messages and field paths,
 * and the table.
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

static int setup(void **state)
{
  *state = rt_load("registry/limitrange", "limitrange", KAPI_KIND_RESOURCE);
  return 0;
}

/* A LimitRange "l" with the given spec.limits items. */
#define LR(items)                                                            \
  "{\"metadata\":{\"name\":\"l\"},\"spec\":{\"limits\":[" items "]}}"

/* The 422 message of creating `json`: prepare_for_create (the decode
 * defaults), then validate, as the host runs them; "" when valid. */
static const char *create_msg(fixture *f, const char *json)
{
  kj *obj = rt_parse(json), *errs = kj_array();
  const char *msg;
  int n;

  f->ops->prepare_for_create(f->st, obj);
  n = f->ops->validate(f->st, obj, errs);
  assert_int_equal((size_t)n, kj_len(errs));
  msg = rt_invalid_message("", "LimitRange", "l", errs);
  kj_free(errs);
  kj_free(obj);
  return msg;
}

/* The object after prepare_for_create, at JSON pointer `ptr`. */
static const char *prepared(fixture *f, const char *json, const char *ptr)
{
  kj *obj = rt_parse(json);
  const char *s;

  f->ops->prepare_for_create(f->st, obj);
  s = rt_json_at(obj, ptr);
  kj_free(obj);
  return s;
}

#define GOQ(v, sc, s, fmt)                                                  \
  "resource.Quantity{i:resource.int64Amount{value:" v ", scale:" sc "}, " \
  "d:resource.infDecAmount{Dec:(*inf.Dec)(nil)}, s:\"" s "\", Format:\""  \
  fmt "\"}"

static void test_registration(void **state)
{
  fixture *f = *state;
  const kapi_resource_ops *o = f->ops;

  assert_string_equal(o->group, "");
  assert_string_equal(o->version, "v1");
  assert_string_equal(o->resource, "limitranges");
  assert_string_equal(o->kind, "LimitRange");
  assert_string_equal(o->singular, "limitrange");
  assert_string_equal(o->short_names[0], "limits");
  assert_null(o->short_names[1]);
  assert_null(o->categories);
  assert_int_equal(o->namespaced, 1);
  assert_int_equal(o->allow_create_on_update, 1);
  assert_int_equal(o->allow_unconditional_update, 1);
  assert_int_equal(o->n_columns, 2);
  assert_string_equal(o->columns[0].name, "Name");
  assert_string_equal(o->columns[1].name, "Created At");
  assert_string_equal(o->columns[1].type, "date");
  kj_free(rt_parse(o->schema));
}

/* SetDefaults_LimitRangeItem: default <- max, defaultRequest <- default,
 * else <- min; Container items only. */
static void test_defaults(void **state)
{
  fixture *f = *state;
  const char *c = LR("{\"type\":\"Container\",\"max\":{\"cpu\":\"2\"},"
                     "\"min\":{\"memory\":\"64Mi\"},"
                     "\"default\":{\"memory\":\"256Mi\"}}");

  assert_string_equal(prepared(f, c, "/spec/limits/0/default"),
                      "{\"memory\":\"256Mi\",\"cpu\":\"2\"}");
  assert_string_equal(prepared(f, c, "/spec/limits/0/defaultRequest"),
                      "{\"memory\":\"256Mi\",\"cpu\":\"2\"}");
  /* min fills only what default left open. */
  assert_string_equal(
      prepared(f, LR("{\"type\":\"Container\",\"min\":{\"cpu\":\"100m\"}}"),
               "/spec/limits/0/defaultRequest"),
      "{\"cpu\":\"100m\"}");
  /* Pod and PersistentVolumeClaim items get no defaults. */
  assert_string_equal(
      prepared(f, LR("{\"type\":\"Pod\",\"max\":{\"cpu\":\"2\"}}"),
               "/spec/limits/0/default"),
      "<absent>");
}

/* Quantities are stored canonical and rounded up to milli units. */
static void test_canonical(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      prepared(f,
               LR("{\"type\":\"Container\",\"max\":{\"cpu\":\"1000m\","
                  "\"memory\":\"1024Mi\",\"ephemeral-storage\":\"1.5Gi\"},"
                  "\"min\":{\"cpu\":0.5,\"memory\":\"100u\","
                  "\"ephemeral-storage\":\"1e3\"},"
                  "\"maxLimitRequestRatio\":{\"cpu\":\"1500m\","
                  "\"memory\":\"0.5Ki\"}}"),
               "/spec/limits/0"),
      "{\"type\":\"Container\",\"max\":{\"cpu\":\"1\",\"memory\":\"1Gi\","
      "\"ephemeral-storage\":\"1536Mi\"},\"min\":{\"cpu\":\"500m\","
      "\"memory\":\"1m\",\"ephemeral-storage\":\"1e3\"},"
      "\"maxLimitRequestRatio\":{\"cpu\":\"1500m\",\"memory\":\"512\"},"
      "\"default\":{\"cpu\":\"1\",\"memory\":\"1Gi\","
      "\"ephemeral-storage\":\"1536Mi\"},\"defaultRequest\":{\"cpu\":\"1\","
      "\"memory\":\"1Gi\",\"ephemeral-storage\":\"1536Mi\"}}");
}

/* A LimitRange without a name gets a UUID; generateName is left alone. */
static void test_uuid_name(void **state)
{
  fixture *f = *state;
  const char *name;

  name = prepared(f, "{\"metadata\":{},\"spec\":{\"limits\":[]}}",
                  "/metadata/name");
  assert_int_equal(strlen(name), 38); /* quoted */
  assert_int_equal(name[15], '4');    /* version 4 */
  assert_string_equal(
      prepared(f, "{\"metadata\":{\"generateName\":\"x-\"}}", "/metadata/name"),
      "<absent>");
}

static void test_valid(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      create_msg(f, LR("{\"type\":\"Container\",\"max\":{\"cpu\":\"2\","
                       "\"memory\":\"1Gi\"},\"min\":{\"cpu\":\"100m\"},"
                       "\"default\":{\"cpu\":\"500m\"},"
                       "\"defaultRequest\":{\"cpu\":\"200m\"},"
                       "\"maxLimitRequestRatio\":{\"cpu\":\"10\"}},"
                       "{\"type\":\"Pod\",\"max\":{\"cpu\":\"4\"}},"
                       "{\"type\":\"PersistentVolumeClaim\","
                       "\"min\":{\"storage\":\"1Gi\"}},"
                       "{\"type\":\"example.com/thing\","
                       "\"max\":{\"example.com/gpu\":\"1\"}}")),
      "");
  assert_string_equal(create_msg(f, "{\"metadata\":{\"name\":\"l\"}}"), "");
  /* Bounds may meet: min == default == max, ratio == max/min. */
  assert_string_equal(
      create_msg(f, LR("{\"type\":\"Container\",\"min\":{\"cpu\":\"1\"},"
                       "\"max\":{\"cpu\":\"1000m\"},"
                       "\"maxLimitRequestRatio\":{\"cpu\":\"1\"}}")),
      "");
}

static void test_min_max(void **state)
{
  fixture *f = *state;

  /* The defaults (from max) make two more errors, as upstream's decode
   * defaults do. */
  assert_string_equal(
      create_msg(f, LR("{\"type\":\"Container\",\"min\":{\"cpu\":\"2\"},"
                       "\"max\":{\"cpu\":\"1\"}}")),
      "LimitRange \"l\" is invalid: [spec.limits[0].min[cpu]: Invalid value: "
      GOQ("2", "0", "2", "DecimalSI") ": min value 2 is greater than max "
      "value 1, spec.limits[0].defaultRequest[cpu]: Invalid value: "
      GOQ("1", "0", "1", "DecimalSI") ": min value 2 is greater than default "
      "request value 1, spec.limits[0].default[cpu]: Invalid value: "
      GOQ("2", "0", "2", "DecimalSI") ": min value 2 is greater than default "
      "value 1]");
  assert_string_equal(
      create_msg(f, LR("{\"type\":\"PersistentVolumeClaim\","
                       "\"min\":{\"storage\":\"10Gi\"},"
                       "\"max\":{\"storage\":\"1Gi\"}}")),
      "LimitRange \"l\" is invalid: spec.limits[0].min[storage]: Invalid "
      "value: " GOQ("10737418240", "0", "10Gi", "BinarySI") ": min value "
      "10Gi is greater than max value 1Gi");
}

static void test_defaults_order(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      create_msg(f, LR("{\"type\":\"Container\","
                       "\"default\":{\"memory\":\"512Mi\"},"
                       "\"defaultRequest\":{\"memory\":\"1Gi\"}}")),
      "LimitRange \"l\" is invalid: spec.limits[0].defaultRequest[memory]: "
      "Invalid value: " GOQ("1073741824", "0", "1Gi", "BinarySI")
      ": default request value 1Gi is greater than default limit value "
      "512Mi");
  /* s is cached only when the text passes upstream's own test: 512 is a
   * multiple of 8. */
  assert_string_equal(
      create_msg(f, LR("{\"type\":\"Container\",\"max\":{\"memory\":\"512Mi\"},"
                       "\"default\":{\"memory\":\"1Gi\"}}")),
      "LimitRange \"l\" is invalid: [spec.limits[0].defaultRequest[memory]: "
      "Invalid value: " GOQ("1073741824", "0", "1Gi", "BinarySI")
      ": default request value 1Gi is greater than max value 512Mi, "
      "spec.limits[0].default[memory]: Invalid value: "
      GOQ("536870912", "0", "", "BinarySI")
      ": default value 1Gi is greater than max value 512Mi]");
}

static void test_ratio(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      create_msg(f, LR("{\"type\":\"Pod\","
                       "\"maxLimitRequestRatio\":{\"cpu\":\"500m\"}}")),
      "LimitRange \"l\" is invalid: spec.limits[0].maxLimitRequestRatio[cpu]: "
      "Invalid value: " GOQ("500", "-3", "500m", "DecimalSI")
      ": ratio 500m is less than 1");
  assert_string_equal(
      create_msg(f, LR("{\"type\":\"Pod\",\"max\":{\"memory\":\"2Gi\"},"
                       "\"min\":{\"memory\":\"512Mi\"},"
                       "\"maxLimitRequestRatio\":{\"memory\":\"10\"}}")),
      "LimitRange \"l\" is invalid: spec.limits[0].maxLimitRequestRatio"
      "[memory]: Invalid value: " GOQ("10", "0", "10", "DecimalSI")
      ": ratio 10 is greater than max/min = 4.000000");
}

static void test_pod_defaults_forbidden(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      create_msg(f, LR("{\"type\":\"Pod\",\"default\":{\"cpu\":\"1\"},"
                       "\"defaultRequest\":{\"cpu\":\"1\"}}")),
      "LimitRange \"l\" is invalid: [spec.limits[0].default: Forbidden: may "
      "not be specified when `type` is 'Pod', "
      "spec.limits[0].defaultRequest: Forbidden: may not be specified when "
      "`type` is 'Pod']");
}

static void test_types(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      create_msg(f, LR("{\"type\":\"PersistentVolumeClaim\"}")),
      "LimitRange \"l\" is invalid: spec.limits[0].limits: Required value: "
      "either minimum or maximum storage value is required, but neither was "
      "provided");
  assert_string_equal(
      create_msg(f, LR("{\"type\":\"foo\"}")),
      "LimitRange \"l\" is invalid: spec.limits[0].type: Invalid value: "
      "\"foo\": must be a standard limit type or fully qualified");
  assert_string_equal(
      create_msg(f, LR("{\"type\":\"Pod\"},{\"type\":\"Pod\"}")),
      "LimitRange \"l\" is invalid: spec.limits[1].type: Duplicate value: "
      "\"Pod\"");
  assert_string_equal(
      create_msg(f, LR("{}")),
      "LimitRange \"l\" is invalid: [spec.limits[0].type: Invalid value: "
      "\"\": name part must be non-empty, spec.limits[0].type: Invalid "
      "value: \"\": name part must consist of alphanumeric characters, '-', "
      "'_' or '.', and must start and end with an alphanumeric character "
      "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
      "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')]");
}

static void test_resource_names(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      create_msg(f, LR("{\"type\":\"Pod\",\"max\":{\"storage\":\"1\"}}")),
      "LimitRange \"l\" is invalid: spec.limits[0].max[storage]: Invalid "
      "value: \"storage\": must be a standard resource for containers");
  assert_string_equal(
      create_msg(f, LR("{\"type\":\"PersistentVolumeClaim\","
                       "\"max\":{\"storage\":\"1\",\"foo\":\"1\"}}")),
      "LimitRange \"l\" is invalid: spec.limits[0].max[foo]: Invalid value: "
      "\"foo\": must be a standard resource type or fully qualified");
  assert_string_equal(
      create_msg(f, LR("{\"type\":\"Container\","
                       "\"max\":{\"foo\":\"1\",\"example.com/gpu\":\"1\"}}")),
      "LimitRange \"l\" is invalid: [spec.limits[0].max[foo]: Invalid value: "
      "\"foo\": must be a standard resource type or fully qualified, "
      "spec.limits[0].max[foo]: Invalid value: \"foo\": must be a standard "
      "resource for containers, spec.limits[0].default[foo]: Invalid value: "
      "\"foo\": must be a standard resource type or fully qualified, "
      "spec.limits[0].default[foo]: Invalid value: \"foo\": must be a "
      "standard resource for containers, spec.limits[0].defaultRequest[foo]: "
      "Invalid value: \"foo\": must be a standard resource type or fully "
      "qualified, spec.limits[0].defaultRequest[foo]: Invalid value: \"foo\": "
      "must be a standard resource for containers]");
}

/* Resources that may not be overcommitted need default == request. */
static void test_hugepages(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      create_msg(f, LR("{\"type\":\"Container\","
                       "\"default\":{\"hugepages-2Mi\":\"4Mi\"},"
                       "\"defaultRequest\":{\"hugepages-2Mi\":\"2Mi\"}}")),
      "LimitRange \"l\" is invalid: spec.limits[0].defaultRequest"
      "[hugepages-2Mi]: Invalid value: " GOQ("2097152", "0", "2Mi", "BinarySI")
      ": default value 4Mi must equal to defaultRequest value 2Mi in "
      "hugepages-2Mi");
}

static void test_bad_quantity(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      create_msg(f, LR("{\"type\":\"Pod\",\"max\":{\"cpu\":\"lots\"}}")),
      "LimitRange \"l\" is invalid: spec.limits[0].max[cpu]: Invalid value: "
      "\"lots\": quantities must match the regular expression "
      "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
}

static void test_update(void **state)
{
  fixture *f = *state;
  kj *obj =
      rt_parse(LR("{\"type\":\"Container\",\"max\":{\"cpu\":\"2000m\"}}"));
  kj *old = rt_parse(LR(""));
  kj *errs = kj_array();

  f->ops->prepare_for_update(f->st, obj, old);
  assert_string_equal(rt_json_at(obj, "/spec/limits/0/default/cpu"), "\"2\"");
  assert_int_equal(f->ops->validate_update(f->st, obj, old, errs), 0);
  kj_free(errs);
  kj_free(old);
  kj_free(obj);
}

static void test_table(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      rt_row(f, "{\"metadata\":{\"name\":\"l\",\"creationTimestamp\":"
             "\"2025-01-01T00:00:00Z\"}}", T0 + 120),
      "[\"l\",\"2025-01-01T00:00:00Z\"]");
  assert_string_equal(rt_row(f, "{\"metadata\":{\"name\":\"l\"}}", T0),
                      "[\"l\",null]");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_registration, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_defaults, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_canonical, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_uuid_name, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_valid, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_min_max, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_defaults_order, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_ratio, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_pod_defaults_forbidden, setup,
                                      rt_teardown),
      cmocka_unit_test_setup_teardown(test_types, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_resource_names, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_hugepages, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_bad_quantity, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_update, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_table, setup, rt_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
