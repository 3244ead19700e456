/*
 * test_node.c - the node resource plugin (registry/node/node.c), loaded
 * from its built .so through the plugin loader ($KAPI_BUILDDIR/registry/
 * node/.libs/node.so, else $KAPI_BUILDDIR/registry/node/node.so).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "plugin_loader.h"
#include "registry_test_util.h"
#include "status.h"

static int setup(void **state)
{
  *state = rt_load("registry/node", "node", KAPI_KIND_RESOURCE);
  return 0;
}

static void test_registration(void **state)
{
  const kapi_resource_ops *o = ((fixture *)*state)->ops;
  static const char *const cols[] = {
      "Name",        "Status",      "Roles",    "Age",
      "Version",     "Internal-IP", "External-IP", "OS-Image",
      "Kernel-Version", "Container-Runtime"};
  size_t i;
  kj *schema;

  assert_string_equal(o->resource, "nodes");
  assert_string_equal(o->kind, "Node");
  assert_string_equal(o->singular, "node");
  assert_string_equal(o->short_names[0], "no");
  assert_int_equal(o->namespaced, 0);
  assert_int_equal(o->name_rule, KAPI_NAME_DNS_SUBDOMAIN);
  assert_int_equal(o->n_fields, 1);
  assert_string_equal(o->fields[0].label, "spec.unschedulable");
  assert_string_equal(o->fields[0].pointer, "/spec/unschedulable");
  assert_int_equal(o->n_columns, 10);
  for (i = 0; i < o->n_columns; i++) {
    assert_string_equal(o->columns[i].name, cols[i]);
    assert_int_equal(o->columns[i].priority, i < 5 ? 0 : 1);
  }
  /* Nodes keep their status on create. */
  assert_null(o->prepare_for_create);
  schema = rt_parse(o->schema);
  assert_string_equal(rt_json_at(schema, "/spec/taints/0"),
                      "{\"key\":\"string\",\"value\":\"string\","
                      "\"effect\":\"string\",\"timeAdded\":\"string\"}");
  assert_string_equal(rt_json_at(schema, "/status/nodeInfo/kubeletVersion"),
                      "\"string\"");
  kj_free(schema);
}

/* The cells of one node as JSON (static buffer). */
static const char *row(fixture *f, const char *node_json, int64_t now)
{
  static char buf[1024];
  kj *node = rt_parse(node_json), *cells = kj_array();

  assert_int_equal(f->ops->table_row(NULL, node, now, cells), 0);
  snprintf(buf, sizeof buf, "%s", rt_json_at(cells, ""));
  kj_free(cells);
  kj_free(node);
  return buf;
}

static void test_table_ready_node(void **state)
{
  assert_string_equal(
      row(*state,
          "{\"metadata\":{\"name\":\"node-1\",\"creationTimestamp\":"
          "\"2025-01-01T00:00:00Z\",\"labels\":{"
          "\"node-role.kubernetes.io/worker\":\"\","
          "\"node-role.kubernetes.io/control-plane\":\"\","
          "\"kubernetes.io/role\":\"worker\","
          "\"node-role.kubernetes.io/\":\"\",\"zone\":\"a\"}},"
          "\"status\":{\"conditions\":[{\"type\":\"MemoryPressure\","
          "\"status\":\"False\"},{\"type\":\"Ready\",\"status\":\"True\"}],"
          "\"addresses\":[{\"type\":\"Hostname\",\"address\":\"node-1\"},"
          "{\"type\":\"InternalIP\",\"address\":\"10.0.0.5\"}],"
          "\"nodeInfo\":{\"kubeletVersion\":\"v1.32.0\",\"osImage\":"
          "\"Debian GNU/Linux 12 (bookworm)\",\"kernelVersion\":\"6.1.0\","
          "\"containerRuntimeVersion\":\"kapi://0.1.0\"}}}",
          T0 + 600),
      "[\"node-1\",\"Ready\",\"control-plane,worker\",\"10m\",\"v1.32.0\","
      "\"10.0.0.5\",\"<none>\",\"Debian GNU/Linux 12 (bookworm)\","
      "\"6.1.0\",\"kapi://0.1.0\"]");
}

static void test_table_status(void **state)
{
  assert_string_equal(
      row(*state,
          "{\"metadata\":{\"name\":\"n\"},\"spec\":{\"unschedulable\":true},"
          "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":"
          "\"Unknown\"}]}}",
          T0),
      "[\"n\",\"NotReady,SchedulingDisabled\",\"<none>\",\"<unknown>\",\"\","
      "\"<none>\",\"<none>\",\"<unknown>\",\"<unknown>\",\"<unknown>\"]");
  assert_string_equal(
      row(*state, "{\"metadata\":{\"name\":\"n\"}}", T0),
      "[\"n\",\"Unknown\",\"<none>\",\"<unknown>\",\"\",\"<none>\","
      "\"<none>\",\"<unknown>\",\"<unknown>\",\"<unknown>\"]");
  assert_string_equal(
      row(*state,
          "{\"metadata\":{\"name\":\"n\"},\"spec\":{\"unschedulable\":false},"
          "\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":"
          "\"False\"}],\"addresses\":[{\"type\":\"ExternalIP\",\"address\":"
          "\"203.0.113.9\"}]}}",
          T0),
      "[\"n\",\"NotReady\",\"<none>\",\"<unknown>\",\"\",\"<none>\","
      "\"203.0.113.9\",\"<unknown>\",\"<unknown>\",\"<unknown>\"]");
}

/* Field errors of validate (update when old_json is set), as JSON. */
static const char *errors(fixture *f, const char *json, const char *old_json)
{
  static char buf[2048];
  kj *node = rt_parse(json), *errs = kj_array(), *old = NULL;
  int n;

  if (old_json) {
    old = rt_parse(old_json);
    n = f->ops->validate_update(NULL, node, old, errs);
  } else {
    n = f->ops->validate(NULL, node, errs);
  }
  assert_int_equal((size_t)n, kj_len(errs));
  snprintf(buf, sizeof buf, "%s", rt_json_at(errs, ""));
  kj_free(errs);
  kj_free(node);
  kj_free(old);
  return buf;
}

/* The 422 message for a node's field errors. */
static const char *message(fixture *f, const char *json, const char *old_json)
{
  static char buf[2048];
  kj *errs = rt_parse(errors(f, json, old_json));
  kapi_error e;

  kapi_error_init(&e);
  kapi_error_invalid(&e, "", "Node", "n", errs);
  snprintf(buf, sizeof buf, "%s", e.message);
  kapi_error_clear(&e);
  kj_free(errs);
  return buf;
}

static void test_validate_taints(void **state)
{
  fixture *f = *state;

  assert_string_equal(errors(f, "{\"spec\":{\"taints\":[{\"key\":\"k\","
                                "\"effect\":\"NoSchedule\"},{\"key\":\"k\","
                                "\"effect\":\"NoExecute\"}]}}",
                             NULL),
                      "[]");
  assert_string_equal(message(f, "{\"spec\":{\"taints\":[{\"key\":\"k\"}]}}",
                              NULL),
                      "Node \"n\" is invalid: spec.taints[0].effect: "
                      "Required value");
  assert_string_equal(message(f, "{\"spec\":{\"taints\":[{\"key\":\"k\","
                                 "\"effect\":\"Sometimes\"}]}}",
                              NULL),
                      "Node \"n\" is invalid: spec.taints[0].effect: "
                      "Unsupported value: \"Sometimes\": supported values: "
                      "\"NoSchedule\", \"PreferNoSchedule\", \"NoExecute\"");
  assert_string_equal(
      errors(f, "{\"spec\":{\"taints\":[{\"key\":\"k\",\"effect\":"
                "\"NoSchedule\"},{\"key\":\"k\",\"value\":\"v\",\"effect\":"
                "\"NoSchedule\"}]}}",
             NULL),
      "[{\"field\":\"spec.taints[1]\",\"type\":\"FieldValueDuplicate\","
      "\"badValue\":{\"key\":\"k\",\"value\":\"v\",\"effect\":\"NoSchedule\"},"
      "\"detail\":\"taints must be unique by key and effect pair\"}]");
}

static void test_update_rules(void **state)
{
  fixture *f = *state;
  const char *old = "{\"spec\":{\"podCIDR\":\"10.244.1.0/24\",\"podCIDRs\":"
                    "[\"10.244.1.0/24\"],\"providerID\":\"kapi://n\"}}";

  assert_string_equal(errors(f, old, old), "[]");
  /* Set once, from empty. */
  assert_string_equal(errors(f, old, "{\"spec\":{}}"), "[]");
  assert_string_equal(
      message(f, "{\"spec\":{\"podCIDRs\":[\"10.244.2.0/24\"],"
                 "\"providerID\":\"kapi://n\"}}",
              old),
      "Node \"n\" is invalid: spec.podCIDRs: Forbidden: node updates may "
      "not change podCIDR except from \"\" to valid");
  assert_string_equal(
      message(f, "{\"spec\":{\"podCIDRs\":[\"10.244.1.0/24\"],"
                 "\"providerID\":\"other://n\"}}",
              old),
      "Node \"n\" is invalid: spec.providerID: Forbidden: node updates may "
      "not change providerID except from \"\" to valid");
}

static void test_update_keeps_status(void **state)
{
  fixture *f = *state;
  kj *old = rt_parse("{\"metadata\":{\"name\":\"n\"},\"status\":{\"phase\":"
                     "\"Running\"}}");
  kj *node = rt_parse("{\"metadata\":{\"name\":\"n\"},\"spec\":"
                      "{\"unschedulable\":true},\"status\":{}}");
  kj *bare = rt_parse("{\"metadata\":{\"name\":\"n\"},\"status\":{\"phase\":"
                      "\"Running\"}}");
  kj *old_bare = rt_parse("{\"metadata\":{\"name\":\"n\"}}");

  f->ops->prepare_for_update(NULL, node, old);
  assert_string_equal(rt_json_at(node, ""),
                      "{\"metadata\":{\"name\":\"n\"},\"spec\":"
                      "{\"unschedulable\":true},\"status\":{\"phase\":"
                      "\"Running\"}}");
  f->ops->prepare_for_update(NULL, bare, old_bare);
  assert_string_equal(rt_json_at(bare, "/status"), "<absent>");
  kj_free(old);
  kj_free(node);
  kj_free(bare);
  kj_free(old_bare);
}

/* /status: the host serves it; a status write is checked like any node
 * update (the host has restored the spec by then). */
static void test_status_subresource(void **state)
{
  fixture *f = *state;
  const char *old = "{\"spec\":{\"providerID\":\"kapi://n\"}}";
  kj *errs = kj_array();
  kj *node = rt_parse("{\"spec\":{\"providerID\":\"other://n\"},"
                      "\"status\":{\"phase\":\"Running\"}}");
  kj *prev = rt_parse(old);

  assert_int_equal(f->ops->subresources, KAPI_SUB_STATUS);
  assert_int_equal(f->ops->return_deleted_object, 0);
  assert_int_equal(f->ops->track_generation, 0);
  assert_null(f->ops->prepare_for_status_update);
  assert_non_null(f->ops->validate_status_update);
  assert_int_equal(f->ops->validate_status_update(NULL, node, prev, errs), 1);
  assert_string_equal(rt_json_at(errs, "/0/field"), "\"spec.providerID\"");
  kj_free(errs);
  kj_free(node);
  kj_free(prev);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_registration, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_table_ready_node, setup,
                                      rt_teardown),
      cmocka_unit_test_setup_teardown(test_table_status, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_validate_taints, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_update_rules, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_update_keeps_status, setup,
                                      rt_teardown),
      cmocka_unit_test_setup_teardown(test_status_subresource, setup,
                                      rt_teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
