/*
 * test_lease.c - the lease resource plugin (registry/lease), loaded from
 * its built .so: registration, validation and the table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "plugin_loader.h"
#include "status.h"

/* 2025-01-01T00:00:00Z */
#define T0 1735689600

typedef struct fixture {
  kapi_plugins *ps;
  const kapi_resource_ops *ops;
  void *st;
} fixture;

static const char *plugin_path(const char *dir, const char *name)
{
  static char path[1024];
  const char *build = getenv("KAPI_BUILDDIR");

  snprintf(path, sizeof path, "%s/%s/.libs/%s.so", build ? build : ".", dir,
           name);
  if (access(path, R_OK) != 0)
    snprintf(path, sizeof path, "%s/%s/%s.so", build ? build : ".", dir,
             name);
  return path;
}

static int setup(void **state)
{
  fixture *f = calloc(1, sizeof *f);
  const kapi_component *c;
  char err[512];

  assert_non_null(f);
  f->ps = kapi_plugins_new(NULL);
  assert_non_null(f->ps);
  if (kapi_plugins_load_file(f->ps, plugin_path("registry/lease", "lease"),
                             err, sizeof err) < 0 ||
      kapi_plugins_assemble(f->ps, NULL, 0, err, sizeof err) < 0)
    fail_msg("%s", err);
  assert_int_equal(kapi_plugins_count(f->ps, KAPI_KIND_RESOURCE), 1);
  c = kapi_plugins_at(f->ps, KAPI_KIND_RESOURCE, 0);
  f->ops = c->ops;
  f->st = c->st;
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fixture *f = *state;

  kapi_plugins_free(f->ps);
  free(f);
  return 0;
}

static kj *parse(const char *json)
{
  char err[256];
  kj *v = NULL;

  if (kj_parse(json, strlen(json), &v, err, sizeof err) < 0)
    fail_msg("bad test JSON: %s: %s", err, json);
  return v;
}

/* The 422 message for a lease, "" when it is valid. */
static const char *validate_msg(fixture *f, const char *json)
{
  static char buf[2048];
  kj *obj = parse(json), *errs = kj_array();
  int n = f->ops->validate(f->st, obj, errs);
  kapi_error e;

  assert_int_equal((size_t)n, kj_len(errs));
  buf[0] = '\0';
  if (n) {
    kapi_error_init(&e);
    kapi_error_invalid(&e, "coordination.k8s.io", "Lease", "l", errs);
    snprintf(buf, sizeof buf, "%s", e.message);
    kapi_error_clear(&e);
  }
  kj_free(errs);
  kj_free(obj);
  return buf;
}

static const char *row(fixture *f, const char *json, int64_t now)
{
  static char buf[2048];
  kj *obj = parse(json), *cells = kj_array();
  char *s;

  assert_int_equal(f->ops->table_row(f->st, obj, now, cells), 0);
  assert_int_equal(kj_len(cells), f->ops->n_columns);
  s = kj_dump(cells, NULL);
  snprintf(buf, sizeof buf, "%s", s);
  free(s);
  kj_free(cells);
  kj_free(obj);
  return buf;
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
  kj_free(parse(o->schema));
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
      row(f, "{\"metadata\":{\"name\":\"node-1\",\"creationTimestamp\":"
             "\"2025-01-01T00:00:00Z\"},\"spec\":{\"holderIdentity\":"
             "\"node-1\"}}", T0 + 30),
      "[\"node-1\",\"node-1\",\"30s\"]");
  assert_string_equal(row(f, "{\"metadata\":{\"name\":\"x\"}}", T0),
                      "[\"x\",\"\",\"<unknown>\"]");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_registration, setup, teardown),
      cmocka_unit_test_setup_teardown(test_validate, setup, teardown),
      cmocka_unit_test_setup_teardown(test_table, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
