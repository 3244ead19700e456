/*
 * test_resourcequota.c - the resourcequota resource plugin
 * (registry/resourcequota), loaded from its built .so: registration,
 * ValidateResourceQuota (names, quantities, scopes, scope selectors),
 * the update and status strategies, and the table.
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
  *state = rt_load("registry/resourcequota", "resourcequota",
                   KAPI_KIND_RESOURCE);
  return 0;
}

#define RQ(spec) "{\"metadata\":{\"name\":\"q\"},\"spec\":{" spec "}}"
#define PREFIX "ResourceQuota \"q\" is invalid: "

static const char *validate_msg(fixture *f, const char *json)
{
  return rt_validate_msg(f, "", "ResourceQuota", "q", json);
}

/* The 422 message of an update (main or /status) from old_json. */
static const char *update_msg(fixture *f, const char *json,
                              const char *old_json, int status)
{
  kj *obj = rt_parse(json), *old = rt_parse(old_json), *errs = kj_array();
  int n = status ? f->ops->validate_status_update(f->st, obj, old, errs)
                 : f->ops->validate_update(f->st, obj, old, errs);
  const char *msg;

  assert_int_equal((size_t)n, kj_len(errs));
  msg = rt_invalid_message("", "ResourceQuota", "q", errs);
  kj_free(errs);
  kj_free(old);
  kj_free(obj);
  return msg;
}

static void test_registration(void **state)
{
  fixture *f = *state;
  const kapi_resource_ops *o = f->ops;

  assert_string_equal(o->group, "");
  assert_string_equal(o->version, "v1");
  assert_string_equal(o->resource, "resourcequotas");
  assert_string_equal(o->kind, "ResourceQuota");
  assert_string_equal(o->singular, "resourcequota");
  assert_string_equal(o->short_names[0], "quota");
  assert_null(o->short_names[1]);
  assert_int_equal(o->namespaced, 1);
  assert_int_equal(o->subresources, KAPI_SUB_STATUS);
  assert_int_equal(o->allow_create_on_update, 0);
  assert_int_equal(o->n_columns, 4);
  assert_string_equal(o->columns[0].name, "Name");
  assert_string_equal(o->columns[1].name, "Age");
  assert_string_equal(o->columns[2].name, "Request");
  assert_string_equal(o->columns[3].name, "Limit");
  kj_free(rt_parse(o->schema));
}

static void test_valid(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      validate_msg(f, RQ("\"hard\":{\"pods\":\"10\",\"requests.cpu\":\"500m\","
                         "\"limits.memory\":\"2Gi\",\"count/deployments.apps\":"
                         "\"3\",\"requests.nvidia.com/gpu\":\"4\","
                         "\"hugepages-2Mi\":\"1Gi\",\"configmaps\":5,"
                         "\"gold.storageclass.storage.k8s.io/requests.storage\":"
                         "\"10Gi\"}")),
      "");
  assert_string_equal(
      validate_msg(f, RQ("\"hard\":{\"pods\":\"2\"},\"scopes\":[\"BestEffort\"]")),
      "");
  assert_string_equal(
      validate_msg(f, RQ("\"hard\":{\"pods\":\"2\",\"requests.cpu\":\"1\"},"
                         "\"scopeSelector\":{\"matchExpressions\":[{"
                         "\"scopeName\":\"PriorityClass\",\"operator\":\"In\","
                         "\"values\":[\"high\"]}]}")),
      "");
}

static void test_resource_names(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      validate_msg(f, RQ("\"hard\":{\"foo\":\"1\"}")),
      PREFIX "[spec.hard[foo]: Invalid value: \"foo\": must be a standard "
             "resource type or fully qualified, spec.hard[foo]: Invalid "
             "value: \"foo\": must be a standard resource for quota]");
  /* A standard resource, but not one quota tracks. */
  assert_string_equal(
      validate_msg(f, RQ("\"hard\":{\"storage\":\"1Gi\"}")),
      PREFIX "spec.hard[storage]: Invalid value: \"storage\": must be a "
             "standard resource for quota");
  assert_string_equal(
      validate_msg(f, RQ("\"hard\":{\"a/b/c\":\"1\"}")),
      PREFIX "spec.hard[a/b/c]: Invalid value: \"a/b/c\": a qualified name "
             "must consist of alphanumeric characters, '-', '_' or '.', and "
             "must start and end with an alphanumeric character (e.g. "
             "'MyName',  or 'my.name',  or '123-abc', regex used for "
             "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with "
             "an optional DNS subdomain prefix and '/' (e.g. "
             "'example.com/MyName')");
  assert_string_equal(
      validate_msg(f, RQ("\"hard\":{\"Example.com/x\":\"1\"}")),
      PREFIX "spec.hard[Example.com/x]: Invalid value: \"Example.com/x\": "
             "prefix part a lowercase RFC 1123 subdomain must consist of "
             "lower case alphanumeric characters, '-' or '.', and must start "
             "and end with an alphanumeric character (e.g. 'example.com', "
             "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?"
             "(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
}

static void test_quantities(void **state)
{
  fixture *f = *state;
  const char *msg;

  assert_string_equal(
      validate_msg(f, RQ("\"hard\":{\"requests.cpu\":\"-1\"}")),
      PREFIX "spec.hard[requests.cpu]: Invalid value: \"-1\": must be "
             "greater than or equal to 0");
  assert_string_equal(
      validate_msg(f, RQ("\"hard\":{\"pods\":\"2x\"}")),
      PREFIX "spec.hard[pods]: Invalid value: \"2x\": quantities must match "
             "the regular expression "
             "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  /* Integer resources: Go prints the Quantity bad value with %#v. */
  msg = validate_msg(f, RQ("\"hard\":{\"pods\":\"1500m\"}"));
  assert_non_null(strstr(msg, PREFIX "spec.hard[pods]: Invalid value: "
                                     "resource.Quantity{"));
  assert_non_null(strstr(msg, "}: must be an integer"));
  msg = validate_msg(f, RQ("\"hard\":{\"count/pods\":\"0.5\"}"));
  assert_non_null(strstr(msg, "must be an integer"));
  /* requests.cpu may be fractional. */
  assert_string_equal(
      validate_msg(f, RQ("\"hard\":{\"requests.cpu\":\"0.5\"}")), "");
}

static void test_scopes(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      validate_msg(f, RQ("\"hard\":{\"requests.cpu\":\"1\"},"
                         "\"scopes\":[\"BestEffort\"]")),
      PREFIX "spec.scopes: Invalid value: []core.ResourceQuotaScope{"
             "\"BestEffort\"}: unsupported scope applied to resource");
  assert_string_equal(
      validate_msg(f, RQ("\"hard\":{\"pods\":\"1\"},\"scopes\":[\"Foo\"]")),
      PREFIX "spec.scopes: Invalid value: []core.ResourceQuotaScope{\"Foo\"}: "
             "unsupported scope");
  assert_string_equal(
      validate_msg(f, RQ("\"hard\":{\"pods\":\"1\"},\"scopes\":["
                         "\"Terminating\",\"NotTerminating\"]")),
      PREFIX "spec.scopes: Invalid value: []core.ResourceQuotaScope{"
             "\"Terminating\", \"NotTerminating\"}: conflicting scopes");
  /* Non-pod resources cannot be scoped by pod properties. */
  assert_string_equal(
      validate_msg(f, RQ("\"hard\":{\"configmaps\":\"1\"},"
                         "\"scopes\":[\"NotBestEffort\"]")),
      PREFIX "spec.scopes: Invalid value: []core.ResourceQuotaScope{"
             "\"NotBestEffort\"}: unsupported scope applied to resource");
  /* count/ names are not standard: any scope passes. */
  assert_string_equal(
      validate_msg(f, RQ("\"hard\":{\"count/pods\":\"1\"},"
                         "\"scopes\":[\"Terminating\"]")),
      "");
}

static void test_scope_selector(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      validate_msg(f, RQ("\"hard\":{\"pods\":\"1\"},\"scopeSelector\":{"
                         "\"matchExpressions\":[{\"scopeName\":"
                         "\"PriorityClass\",\"operator\":\"In\"}]}")),
      PREFIX "spec.scopeSelector.matchExpressions.values: Required value: "
             "must be at least one value when `operator` is 'In' or 'NotIn' "
             "for scope selector");
  assert_string_equal(
      validate_msg(f, RQ("\"hard\":{\"pods\":\"1\"},\"scopeSelector\":{"
                         "\"matchExpressions\":[{\"scopeName\":"
                         "\"BestEffort\",\"operator\":\"In\",\"values\":"
                         "[\"x\"]}]}")),
      PREFIX "spec.scopeSelector.matchExpressions.operator: Invalid value: "
             "\"In\": must be 'Exists' when scope is any of "
             "ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, "
             "ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or "
             "ResourceQuotaScopeCrossNamespacePodAffinity");
  assert_string_equal(
      validate_msg(f, RQ("\"hard\":{\"pods\":\"1\"},\"scopeSelector\":{"
                         "\"matchExpressions\":[{\"scopeName\":"
                         "\"Terminating\",\"operator\":\"Exists\",\"values\":"
                         "[\"x\"]}]}")),
      PREFIX "spec.scopeSelector.matchExpressions.values: Invalid value: "
             "[]string{\"x\"}: must be no value when `operator` is 'Exist' "
             "or 'DoesNotExist' for scope selector");
  assert_string_equal(
      validate_msg(f, RQ("\"hard\":{\"pods\":\"1\"},\"scopeSelector\":{"
                         "\"matchExpressions\":[{\"scopeName\":"
                         "\"PriorityClass\",\"operator\":\"Gt\",\"values\":"
                         "[\"x\"]}]}")),
      PREFIX "spec.scopeSelector.matchExpressions.operator: Invalid value: "
             "\"Gt\": not a valid selector operator");
  assert_string_equal(
      validate_msg(f, RQ("\"hard\":{\"pods\":\"1\"},\"scopeSelector\":{"
                         "\"matchExpressions\":[{\"scopeName\":\"Nope\","
                         "\"operator\":\"Exists\"}]}")),
      PREFIX "spec.scopeSelector.matchExpressions.scopeName: Invalid value: "
             "\"Nope\": unsupported scope");
}

static void test_update(void **state)
{
  fixture *f = *state;
  const char *old = RQ("\"hard\":{\"pods\":\"1\"},\"scopes\":[\"BestEffort\"]");

  assert_string_equal(
      update_msg(f, RQ("\"hard\":{\"pods\":\"5\"},\"scopes\":[\"BestEffort\"]"),
                 old, 0),
      "");
  assert_string_equal(
      update_msg(f, RQ("\"hard\":{\"pods\":\"5\"},\"scopes\":"
                       "[\"NotBestEffort\"]"),
                 old, 0),
      PREFIX "spec.scopes: Invalid value: []core.ResourceQuotaScope{"
             "\"NotBestEffort\"}: field is immutable");
  /* /status: a resourceVersion is required, the lists are checked. */
  assert_string_equal(
      update_msg(f, "{\"metadata\":{\"name\":\"q\",\"resourceVersion\":\"3\"},"
                    "\"status\":{\"hard\":{\"pods\":\"1\"},\"used\":{\"pods\":"
                    "\"-2\"}}}",
                 old, 1),
      PREFIX "status.used[pods]: Invalid value: \"-2\": must be greater than "
             "or equal to 0");
  assert_string_equal(
      update_msg(f, "{\"metadata\":{\"name\":\"q\"},\"status\":{}}", old, 1),
      PREFIX "resourceVersion: Required value");
}

static void test_strategy(void **state)
{
  fixture *f = *state;
  kj *q = rt_parse("{\"metadata\":{\"name\":\"q\"},\"spec\":{\"hard\":{"
                   "\"requests.cpu\":\"1000m\",\"requests.memory\":"
                   "\"1024Mi\",\"pods\":2,\"limits.cpu\":\"0.5\",\"bad\":"
                   "\"x\"}},\"status\":{\"used\":{\"pods\":\"9\"}}}");
  kj *old = rt_parse("{\"metadata\":{\"name\":\"q\"},\"spec\":{},\"status\":"
                     "{\"hard\":{\"pods\":\"2\"},\"used\":{\"pods\":\"1\"}}}");

  /* Create: no status, quantities canonical. */
  f->ops->prepare_for_create(f->st, q);
  assert_string_equal(rt_json_at(q, "/status"), "<absent>");
  assert_string_equal(rt_json_at(q, "/spec/hard"),
                      "{\"requests.cpu\":\"1\",\"requests.memory\":\"1Gi\","
                      "\"pods\":\"2\",\"limits.cpu\":\"500m\",\"bad\":\"x\"}");
  /* Update: the stored status stays. */
  kj_set(q, "status", rt_parse("{\"used\":{\"pods\":\"7\"}}"));
  f->ops->prepare_for_update(f->st, q, old);
  assert_string_equal(rt_json_at(q, "/status"),
                      "{\"hard\":{\"pods\":\"2\"},\"used\":{\"pods\":\"1\"}}");
  /* /status: canonical too. */
  kj_set(q, "status", rt_parse("{\"hard\":{\"memory\":\"2048Ki\"},\"used\":"
                               "{\"memory\":\"1.5\"}}"));
  f->ops->prepare_for_status_update(f->st, q, old);
  assert_string_equal(rt_json_at(q, "/status"),
                      "{\"hard\":{\"memory\":\"2Mi\"},\"used\":{\"memory\":"
                      "\"1500m\"}}");
  kj_free(old);
  kj_free(q);
}

static void test_table(void **state)
{
  fixture *f = *state;

  /* Cells print canonical quantities in the format they were written
   * in: a plain number of bytes stays decimal. */
  assert_string_equal(
      rt_row(f, "{\"metadata\":{\"name\":\"q\",\"creationTimestamp\":"
                "\"2025-01-01T00:00:00Z\"},\"spec\":{\"hard\":{\"requests.cpu\":"
                "\"1\",\"pods\":\"2\",\"limits.cpu\":\"2\",\"limits.memory\":"
                "\"1Gi\"}},\"status\":{\"hard\":{\"requests.cpu\":\"1\","
                "\"pods\":\"2\",\"limits.cpu\":\"2\",\"limits.memory\":"
                "\"1Gi\"},\"used\":{\"requests.cpu\":\"100m\",\"pods\":\"1\","
                "\"limits.memory\":\"536870912\"}}}",
             T0 + 90),
      "[\"q\",\"90s\",\"pods: 1/2, requests.cpu: 100m/1\","
      "\"limits.cpu: 0/2, limits.memory: 536870912/1Gi\"]");
  /* No status yet: zeros, as a zero Quantity prints. */
  assert_string_equal(
      rt_row(f, RQ("\"hard\":{\"pods\":\"2\"}"), T0),
      "[\"q\",\"<unknown>\",\"pods: 0/0\",\"\"]");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_registration, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_valid, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_resource_names, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_quantities, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_scopes, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_scope_selector, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_update, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_strategy, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_table, setup, rt_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
