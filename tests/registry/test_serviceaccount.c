/*
 * test_serviceaccount.c - the serviceaccount resource plugin
 * (registry/serviceaccount), loaded from its built .so: registration,
 * schema and the table.
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
  *state = rt_load("registry/serviceaccount", "serviceaccount",
                   KAPI_KIND_RESOURCE);
  return 0;
}

static void test_registration(void **state)
{
  fixture *f = *state;
  const kapi_resource_ops *o = f->ops;
  kj *schema = rt_parse(o->schema);

  assert_string_equal(o->group, "");
  assert_string_equal(o->version, "v1");
  assert_string_equal(o->resource, "serviceaccounts");
  assert_string_equal(o->kind, "ServiceAccount");
  assert_string_equal(o->singular, "serviceaccount");
  assert_string_equal(o->short_names[0], "sa");
  assert_null(o->short_names[1]);
  assert_null(o->categories);
  assert_int_equal(o->namespaced, 1);
  assert_int_equal(o->n_columns, 3);
  assert_string_equal(o->columns[1].name, "Secrets");
  assert_string_equal(rt_json_at(schema, "/automountServiceAccountToken"),
                      "\"boolean\"");
  assert_string_equal(rt_json_at(schema, "/imagePullSecrets/0/name"),
                      "\"string\"");
  kj_free(schema);
}

static void test_table(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      rt_row(f, "{\"metadata\":{\"name\":\"default\",\"creationTimestamp\":"
             "\"2025-01-01T00:00:00Z\"},\"secrets\":[{\"name\":\"a\"},"
             "{\"name\":\"b\"}]}", T0 + 5),
      "[\"default\",2,\"5s\"]");
  assert_string_equal(rt_row(f, "{\"metadata\":{\"name\":\"x\"}}", T0),
                      "[\"x\",0,\"<unknown>\"]");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_registration, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_table, setup, rt_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
