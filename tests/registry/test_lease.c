/*
 * test_lease.c - the lease resource plugin (registry/lease), loaded from
 * its built .so: registration, validation and the table.
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
  *state = rt_load("registry/lease", "lease", KAPI_KIND_RESOURCE);
  return 0;
}

/* The 422 message for a lease, "" when it is valid. */
static const char *validate_msg(fixture *f, const char *json)
{
  return rt_validate_msg(f, "coordination.k8s.io", "Lease", "l", json);
}

static void test_registration(void **state)
{
  fixture *f = *state;
  const kapi_resource_ops *o = f->ops;

  assert_string_equal(o->group, "coordination.k8s.io");
  assert_string_equal(o->version, "v1");
  assert_string_equal(o->resource, "leases");
  assert_string_equal(o->kind, "Lease");
  assert_null(o->short_names);
  assert_int_equal(o->namespaced, 1);
  assert_int_equal(o->allow_create_on_update, 1);
  assert_int_equal(o->allow_unconditional_update, 1);
  assert_int_equal(o->n_columns, 3);
  assert_string_equal(o->columns[1].name, "Holder");
  kj_free(rt_parse(o->schema));
}

#define LEASE(spec) "{\"metadata\":{\"name\":\"l\"},\"spec\":" spec "}"

static void test_validate(void **state)
{
  fixture *f = *state;

  assert_string_equal(validate_msg(f, LEASE("{\"holderIdentity\":\"n1\","
                                            "\"leaseDurationSeconds\":40,"
                                            "\"leaseTransitions\":0}")),
                      "");
  assert_string_equal(
      validate_msg(f, LEASE("{\"leaseDurationSeconds\":0,"
                            "\"leaseTransitions\":-1}")),
      "Lease.coordination.k8s.io \"l\" is invalid: [spec."
      "leaseDurationSeconds: Invalid value: 0: must be greater than 0, "
      "spec.leaseTransitions: Invalid value: -1: must be greater than or "
      "equal to 0]");
  assert_string_equal(
      validate_msg(f, LEASE("{\"preferredHolder\":\"n2\"}")),
      "Lease.coordination.k8s.io \"l\" is invalid: spec.strategy: "
      "Forbidden: strategy must be set if preferredHolder is set");
}

static void test_table(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      rt_row(f, "{\"metadata\":{\"name\":\"node-1\",\"creationTimestamp\":"
             "\"2025-01-01T00:00:00Z\"},\"spec\":{\"holderIdentity\":"
             "\"node-1\"}}", T0 + 30),
      "[\"node-1\",\"node-1\",\"30s\"]");
  assert_string_equal(rt_row(f, "{\"metadata\":{\"name\":\"x\"}}", T0),
                      "[\"x\",\"\",\"<unknown>\"]");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_registration, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_validate, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_table, setup, rt_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
