/*
 * test_configmap.c - the configmap resource plugin (registry/configmap),
 * loaded from its built .so: registration, key validation, immutable
 * configmaps and the table.
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
  *state = rt_load("registry/configmap", "configmap", KAPI_KIND_RESOURCE);
  return 0;
}

static const char *validate_msg(fixture *f, const char *json)
{
  return rt_validate_msg(f, "", "ConfigMap", "c", json);
}

/* The 422 message of updating `old_json` to `json`, "" when valid. */
static const char *update_msg(fixture *f, const char *json,
                              const char *old_json)
{
  kj *obj = rt_parse(json), *old = rt_parse(old_json), *errs = kj_array();
  int n = f->ops->validate_update(f->st, obj, old, errs);
  const char *msg;

  assert_int_equal((size_t)n, kj_len(errs));
  msg = rt_invalid_message("", "ConfigMap", "c", errs);
  kj_free(errs);
  kj_free(old);
  kj_free(obj);
  return msg;
}

#define CM(rest) "{\"metadata\":{\"name\":\"c\"}" rest "}"

static void test_registration(void **state)
{
  fixture *f = *state;
  const kapi_resource_ops *o = f->ops;

  assert_string_equal(o->group, "");
  assert_string_equal(o->version, "v1");
  assert_string_equal(o->resource, "configmaps");
  assert_string_equal(o->kind, "ConfigMap");
  assert_string_equal(o->short_names[0], "cm");
  assert_null(o->short_names[1]);
  assert_null(o->categories); /* not in "all" */
  assert_int_equal(o->namespaced, 1);
  assert_int_equal(o->n_columns, 3);
  assert_string_equal(o->columns[1].name, "Data");
  kj_free(rt_parse(o->schema));
}

static void test_validate_keys(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      validate_msg(f, CM(",\"data\":{\"a.b-c_D9\":\"x\"},"
                         "\"binaryData\":{\"bin\":\"AAE=\"}")),
      "");
  assert_string_equal(
      validate_msg(f, CM(",\"data\":{\"a b\":\"x\"}")),
      "ConfigMap \"c\" is invalid: data[a b]: Invalid value: \"a b\": a "
      "valid config key must consist of alphanumeric characters, '-', '_' "
      "or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used "
      "for validation is '[-._a-zA-Z0-9]+')");
  assert_string_equal(validate_msg(f, CM(",\"binaryData\":{\"..x\":\"\"}")),
                      "ConfigMap \"c\" is invalid: binaryData[..x]: Invalid "
                      "value: \"..x\": must not start with '..'");
  assert_string_equal(validate_msg(f, CM(",\"data\":{\".\":\"\"}")),
                      "ConfigMap \"c\" is invalid: data[.]: Invalid "
                      "value: \".\": must not be '.'");
  assert_string_equal(
      validate_msg(f, CM(",\"data\":{\"k\":\"1\"},\"binaryData\":{\"k\":"
                         "\"AA==\"}")),
      "ConfigMap \"c\" is invalid: data[k]: Invalid value: \"k\": duplicate "
      "of key present in binaryData");
}

static void test_key_too_long(void **state)
{
  fixture *f = *state;
  char key[300], json[512];
  const char *msg;

  memset(key, 'k', 254);
  key[254] = '\0';
  snprintf(json, sizeof json, CM(",\"data\":{\"%s\":\"v\"}"), key);
  msg = validate_msg(f, json);
  assert_non_null(strstr(msg, "must be no more than 253 characters"));
  key[253] = '\0';
  snprintf(json, sizeof json, CM(",\"data\":{\"%s\":\"v\"}"), key);
  assert_string_equal(validate_msg(f, json), "");
}

static void test_immutable(void **state)
{
  fixture *f = *state;
  const char *old = CM(",\"immutable\":true,\"data\":{\"a\":\"1\",\"b\":\"2\"}");

  /* Same data in another order, and labels changed: allowed. */
  assert_string_equal(
      update_msg(f, CM(",\"immutable\":true,\"data\":{\"b\":\"2\",\"a\":\"1\"}"),
                 old),
      "");
  assert_string_equal(
      update_msg(f, CM(",\"data\":{\"a\":\"1\",\"b\":\"3\"}"), old),
      "ConfigMap \"c\" is invalid: [immutable: Forbidden: field is "
      "immutable when `immutable` is set, data: Forbidden: field is "
      "immutable when `immutable` is set]");
  assert_string_equal(
      update_msg(f, CM(",\"immutable\":true,\"data\":{\"a\":\"1\",\"b\":\"2\"},"
                       "\"binaryData\":{\"x\":\"AA==\"}"),
                 old),
      "ConfigMap \"c\" is invalid: binaryData: Forbidden: field is "
      "immutable when `immutable` is set");
  /* A mutable configmap may change and become immutable. */
  assert_string_equal(update_msg(f, CM(",\"immutable\":true,\"data\":{}"),
                                 CM(",\"data\":{\"a\":\"1\"}")),
                      "");
}

static void test_table(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      rt_row(f, "{\"metadata\":{\"name\":\"c\",\"creationTimestamp\":"
             "\"2025-01-01T00:00:00Z\"},\"data\":{\"a\":\"1\",\"b\":\"2\"},"
             "\"binaryData\":{\"c\":\"AA==\"}}", T0 + 120),
      "[\"c\",3,\"2m\"]");
  assert_string_equal(rt_row(f, CM(""), T0), "[\"c\",0,\"<unknown>\"]");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_registration, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_validate_keys, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_key_too_long, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_immutable, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_table, setup, rt_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
