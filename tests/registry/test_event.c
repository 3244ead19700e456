/*
 * test_event.c - the event resource plugin (registry/event), loaded from
 * its built .so: registration and field selectors, the legacy
 * validation, and the event table.
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
  *state = rt_load("registry/event", "event", KAPI_KIND_RESOURCE);
  return 0;
}

/* The 422 message for an event, "" when it is valid. */
static const char *validate_msg(fixture *f, const char *json)
{
  return rt_validate_msg(f, "", "Event", "e", json);
}

static void test_registration(void **state)
{
  fixture *f = *state;
  const kapi_resource_ops *o = f->ops;
  static const char *const labels[] = {
      "involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
      "involvedObject.uid", "involvedObject.apiVersion",
      "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
      "reportingComponent", "source", "type"};
  size_t i;

  assert_string_equal(o->resource, "events");
  assert_string_equal(o->kind, "Event");
  assert_string_equal(o->group, "");
  assert_string_equal(o->short_names[0], "ev");
  assert_null(o->categories);
  assert_int_equal(o->namespaced, 1);
  assert_int_equal(o->allow_create_on_update, 1);
  assert_int_equal(o->subresources, 0);
  assert_int_equal(o->n_fields, sizeof labels / sizeof *labels);
  for (i = 0; i < o->n_fields; i++)
    assert_string_equal(o->fields[i].label, labels[i]);
  assert_int_equal(o->n_columns, 10);
  assert_string_equal(o->columns[0].name, "Last Seen");
  assert_string_equal(o->columns[6].name, "Message");
  kj_free(rt_parse(o->schema));
}

#define NS "\"metadata\":{\"name\":\"e\",\"namespace\":\"default\"}"

static void test_validate(void **state)
{
  fixture *f = *state;

  assert_string_equal(validate_msg(f, "{" NS ",\"involvedObject\":{\"kind\":"
                                      "\"Pod\",\"namespace\":\"default\"}}"),
                      "");
  /* Cluster-scoped objects: events live in "default". */
  assert_string_equal(validate_msg(f, "{" NS ",\"involvedObject\":{\"kind\":"
                                      "\"Node\",\"name\":\"n1\"}}"),
                      "");
  assert_string_equal(
      validate_msg(f, "{" NS ",\"involvedObject\":{\"namespace\":\"x\"}}"),
      "Event \"e\" is invalid: involvedObject.namespace: Invalid value: "
      "\"x\": does not match event.namespace");
  assert_string_equal(
      validate_msg(f, "{\"metadata\":{\"name\":\"e\",\"namespace\":\"t\"},"
                      "\"involvedObject\":{\"kind\":\"Node\"}}"),
      "Event \"e\" is invalid: involvedObject.namespace: Invalid value: "
      "\"\": does not match event.namespace");
  /* New-style events (eventTime set) need their reporting fields. */
  assert_string_equal(
      validate_msg(f, "{" NS ",\"eventTime\":\"2025-01-01T00:00:00.000000Z\","
                      "\"involvedObject\":{\"namespace\":\"default\"}}"),
      "Event \"e\" is invalid: [reportingComponent: Required value, "
      "reportingInstance: Required value, action: Required value, reason: "
      "Required value]");
}

#define META "\"metadata\":{\"name\":\"web.1\"}"

static void test_table(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      rt_row(f, "{" META ",\"involvedObject\":{\"kind\":\"ReplicaSet\","
             "\"name\":\"web\",\"fieldPath\":\"spec\"},\"reason\":"
             "\"SuccessfulCreate\",\"message\":\" Created pod: web-x \\n\","
             "\"source\":{\"component\":\"replicaset-controller\"},"
             "\"firstTimestamp\":\"2025-01-01T00:00:00Z\",\"lastTimestamp\":"
             "\"2025-01-01T00:01:00Z\",\"count\":3,\"type\":\"Normal\"}",
             T0 + 120),
      "[\"60s\",\"Normal\",\"SuccessfulCreate\",\"replicaset/web\",\"spec\","
      "\"replicaset-controller\",\"Created pod: web-x\",\"2m\",3,"
      "\"web.1\"]");
  /* New-style: eventTime (a MicroTime: 4.88 s ago prints as 4s) and the
   * reporting fields stand in; no count. */
  assert_string_equal(
      rt_row(f, "{" META ",\"involvedObject\":{\"kind\":\"Node\"},"
             "\"eventTime\":\"2025-01-01T00:00:00.123456Z\","
             "\"reportingComponent\":\"kubelet\",\"reportingInstance\":"
             "\"node-1\",\"type\":\"Warning\"}",
             T0 + 5),
      "[\"4s\",\"Warning\",\"\",\"node\",\"\",\"kubelet, node-1\",\"\","
      "\"4s\",1,\"web.1\"]");
  assert_string_equal(
      rt_row(f, "{" META ",\"involvedObject\":{\"kind\":\"Pod\","
             "\"name\":\"p\"},\"series\":{\"count\":7,\"lastObservedTime\":"
             "\"2025-01-01T00:00:30.000000Z\"},\"eventTime\":"
             "\"2025-01-01T00:00:00.000000Z\"}",
             T0 + 40),
      "[\"10s\",\"\",\"\",\"pod/p\",\"\",\"\",\"\",\"40s\",7,\"web.1\"]");
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
