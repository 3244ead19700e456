/*
 * test_secret.c - the secret resource plugin (registry/secret), loaded
 * from its built .so: registration, stringData and type defaulting,
 * validation of keys and types, immutability and the table.
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
  *state = rt_load("registry/secret", "secret", KAPI_KIND_RESOURCE);
  return 0;
}

#define SECRET(rest) "{\"metadata\":{\"name\":\"s\"}" rest "}"

static kj *created(fixture *f, const char *json)
{
  kj *s = rt_parse(json);
  f->ops->prepare_for_create(f->st, s);
  return s;
}

/* The 422 message for creating `json` (after prepare), "" when valid. */
static const char *create_msg(fixture *f, const char *json)
{
  kj *obj = created(f, json), *errs = kj_array();
  int n = f->ops->validate(f->st, obj, errs);
  const char *msg;

  assert_int_equal((size_t)n, kj_len(errs));
  msg = rt_invalid_message("", "Secret", "s", errs);
  kj_free(errs);
  kj_free(obj);
  return msg;
}

static const char *update_msg(fixture *f, const char *json,
                              const char *old_json)
{
  kj *obj = rt_parse(json), *old = created(f, old_json), *errs = kj_array();
  int n;
  const char *msg;

  f->ops->prepare_for_update(f->st, obj, old);
  n = f->ops->validate_update(f->st, obj, old, errs);
  assert_int_equal((size_t)n, kj_len(errs));
  msg = rt_invalid_message("", "Secret", "s", errs);
  kj_free(errs);
  kj_free(old);
  kj_free(obj);
  return msg;
}

static void test_registration(void **state)
{
  fixture *f = *state;
  const kapi_resource_ops *o = f->ops;

  assert_string_equal(o->resource, "secrets");
  assert_string_equal(o->kind, "Secret");
  assert_null(o->short_names);
  assert_null(o->categories);
  assert_int_equal(o->n_fields, 1);
  assert_string_equal(o->fields[0].label, "type");
  assert_string_equal(o->fields[0].pointer, "/type");
  assert_int_equal(o->n_columns, 4);
  assert_string_equal(o->columns[1].name, "Type");
  kj_free(rt_parse(o->schema));
}

static void test_string_data(void **state)
{
  fixture *f = *state;
  kj *s = created(f, SECRET(",\"data\":{\"keep\":\"AA==\",\"over\":\"AA==\"},"
                            "\"stringData\":{\"over\":\"ab\",\"u\":\"admin\","
                            "\"e\":\"\",\"p\":\"abc\",\"x/y~z\":\"a\"}"));

  assert_string_equal(rt_json_at(s, "/type"), "\"Opaque\"");
  assert_string_equal(rt_json_at(s, "/stringData"), "<absent>");
  assert_string_equal(rt_json_at(s, "/data/keep"), "\"AA==\"");
  assert_string_equal(rt_json_at(s, "/data/over"), "\"YWI=\"");
  assert_string_equal(rt_json_at(s, "/data/u"), "\"YWRtaW4=\"");
  assert_string_equal(rt_json_at(s, "/data/e"), "\"\"");
  assert_string_equal(rt_json_at(s, "/data/p"), "\"YWJj\"");
  assert_string_equal(rt_json_at(s, "/data/x~1y~0z"), "\"YQ==\"");
  kj_free(s);

  s = created(f, SECRET(",\"type\":\"kubernetes.io/tls\""));
  assert_string_equal(rt_json_at(s, "/type"), "\"kubernetes.io/tls\"");
  kj_free(s);
}

static void test_validate(void **state)
{
  fixture *f = *state;

  assert_string_equal(create_msg(f, SECRET(",\"stringData\":{\"a\":\"b\"}")),
                      "");
  assert_string_equal(
      create_msg(f, SECRET(",\"stringData\":{\"a:b\":\"b\"}")),
      "Secret \"s\" is invalid: data[a:b]: Invalid value: \"a:b\": a valid "
      "config key must consist of alphanumeric characters, '-', '_' or '.' "
      "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for "
      "validation is '[-._a-zA-Z0-9]+')");
  assert_string_equal(
      create_msg(f, SECRET(",\"type\":\"kubernetes.io/tls\","
                           "\"stringData\":{\"tls.crt\":\"x\"}")),
      "Secret \"s\" is invalid: data[tls.key]: Required value");
  assert_string_equal(
      create_msg(f, SECRET(",\"type\":\"kubernetes.io/basic-auth\"")),
      "Secret \"s\" is invalid: [data[username]: Required value, "
      "data[password]: Required value]");
  assert_string_equal(
      create_msg(f, SECRET(",\"type\":\"kubernetes.io/basic-auth\","
                           "\"data\":{\"password\":\"\"}")),
      "");
  assert_string_equal(
      create_msg(f, SECRET(",\"type\":\"kubernetes.io/service-account-"
                           "token\"")),
      "Secret \"s\" is invalid: metadata.annotations[kubernetes.io/service-"
      "account.name]: Required value");
  assert_string_equal(
      create_msg(f, "{\"metadata\":{\"name\":\"s\",\"annotations\":{"
                    "\"kubernetes.io/service-account.name\":\"default\"}},"
                    "\"type\":\"kubernetes.io/service-account-token\"}"),
      "");
  assert_string_equal(
      create_msg(f, SECRET(",\"type\":\"kubernetes.io/ssh-auth\","
                           "\"data\":{\"ssh-privatekey\":\"\"}")),
      "Secret \"s\" is invalid: data[ssh-privatekey]: Required value");
  assert_string_equal(
      create_msg(f, SECRET(",\"type\":\"kubernetes.io/dockerconfigjson\"")),
      "Secret \"s\" is invalid: data[.dockerconfigjson]: Required value");
}

static void test_update(void **state)
{
  fixture *f = *state;

  /* An update without a type is defaulted to Opaque again. */
  assert_string_equal(update_msg(f, SECRET(",\"data\":{\"a\":\"Yg==\"}"),
                                 SECRET(",\"data\":{\"a\":\"YQ==\"}")),
                      "");
  assert_string_equal(
      update_msg(f, SECRET(",\"type\":\"foo\""), SECRET("")),
      "Secret \"s\" is invalid: type: Invalid value: \"foo\": field is "
      "immutable");
  /* stringData equal to the stored data is no change. */
  assert_string_equal(
      update_msg(f, SECRET(",\"immutable\":true,\"stringData\":{\"a\":\"b\"}"),
                 SECRET(",\"immutable\":true,\"stringData\":{\"a\":\"b\"}")),
      "");
  assert_string_equal(
      update_msg(f, SECRET(",\"stringData\":{\"a\":\"c\"}"),
                 SECRET(",\"immutable\":true,\"stringData\":{\"a\":\"b\"}")),
      "Secret \"s\" is invalid: [immutable: Forbidden: field is immutable "
      "when `immutable` is set, data: Forbidden: field is immutable when "
      "`immutable` is set]");
}

static void test_table(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      rt_row(f, "{\"metadata\":{\"name\":\"s\",\"creationTimestamp\":"
             "\"2025-01-01T00:00:00Z\"},\"type\":\"Opaque\",\"data\":{"
             "\"a\":\"\",\"b\":\"\"}}", T0 + 3600),
      "[\"s\",\"Opaque\",2,\"60m\"]");
  assert_string_equal(rt_row(f, SECRET(""), T0),
                      "[\"s\",\"\",0,\"<unknown>\"]");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_registration, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_string_data, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_validate, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_update, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_table, setup, rt_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
