/*
 * test_namespace.c - the namespace resource plugin (registry/namespace)
 * and the NamespaceLifecycle admission plugin (admission/namespace-
 * lifecycle), each loaded from its built .so through the plugin loader.
 *
 * Plugins are looked up under $KAPI_BUILDDIR as libtool lays them out
 * (<dir>/.libs/<name>.so), else as <dir>/<name>.so.  The admission tests
 * serve namespaces from an in-memory map through the store_get hook.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "plugin_loader.h"
#include "request.h"
#include "registry_test_util.h"
#include "status.h"

static int setup_namespace(void **state)
{
  *state = rt_load("registry/namespace", "namespace", KAPI_KIND_RESOURCE);
  return 0;
}

static int setup_lifecycle(void **state)
{
  *state = rt_load("admission/namespace-lifecycle", "namespace-lifecycle",
                   KAPI_KIND_ADMISSION);
  return 0;
}

static int teardown(void **state)
{
  fixture *f = *state;

  kapi_host_set_store_get(NULL);
  rt_free(f);
  return 0;
}

static const kapi_resource_ops *ns_ops(fixture *f)
{
  return f->c->ops;
}

/* ---- the namespace resource -------------------------------------------- */

static void test_registration(void **state)
{
  static const char *const names[] = {"default", "kube-system",
                                      "kube-public", "kube-node-lease"};
  const kapi_resource_ops *o = ns_ops(*state);
  kj *initial;
  size_t i;

  assert_string_equal(o->resource, "namespaces");
  assert_string_equal(o->kind, "Namespace");
  assert_string_equal(o->singular, "namespace");
  assert_string_equal(o->short_names[0], "ns");
  assert_int_equal(o->namespaced, 0);
  assert_int_equal(o->name_rule, KAPI_NAME_DNS_LABEL);
  assert_int_equal(o->n_columns, 3);
  assert_string_equal(o->columns[1].name, "Status");
  assert_string_equal(o->fields[0].label, "status.phase");
  kj_free(rt_parse(o->schema));

  initial = rt_parse(o->initial_objects);
  assert_int_equal(kj_len(initial), 4);
  for (i = 0; i < 4; i++)
    assert_string_equal(kj_str(kj_ptr(kj_at(initial, i), "/metadata/name")),
                        names[i]);
  assert_string_equal(rt_json_at(initial, "/1"),
                      "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                      "\"metadata\":{\"name\":\"kube-system\",\"labels\":"
                      "{\"kubernetes.io/metadata.name\":\"kube-system\"}},"
                      "\"spec\":{\"finalizers\":[\"kubernetes\"]},"
                      "\"status\":{\"phase\":\"Active\"}}");
  kj_free(initial);
}

static void test_prepare_for_create(void **state)
{
  const kapi_resource_ops *o = ns_ops(*state);
  kj *ns = rt_parse("{\"metadata\":{\"name\":\"team\","
                    "\"labels\":{\"a\":\"b\"}},"
                    "\"status\":{\"phase\":\"Terminating\"}}");
  kj *other = rt_parse("{\"metadata\":{\"name\":\"x\"},"
                       "\"spec\":{\"finalizers\":[\"example.com/f\"]}}");

  o->prepare_for_create(NULL, ns);
  assert_string_equal(rt_json_at(ns, ""),
                      "{\"metadata\":{\"name\":\"team\",\"labels\":{\"a\":"
                      "\"b\",\"kubernetes.io/metadata.name\":\"team\"}},"
                      "\"status\":{\"phase\":\"Active\"},"
                      "\"spec\":{\"finalizers\":[\"kubernetes\"]}}");
  o->prepare_for_create(NULL, other);
  assert_string_equal(rt_json_at(other, "/spec/finalizers"),
                      "[\"example.com/f\",\"kubernetes\"]");
  kj_free(ns);
  kj_free(other);
}

static void test_prepare_for_update(void **state)
{
  const kapi_resource_ops *o = ns_ops(*state);
  kj *old = rt_parse("{\"metadata\":{\"name\":\"team\"}}");
  kj *ns = rt_parse("{\"metadata\":{\"name\":\"team\",\"labels\":{"
                    "\"kubernetes.io/metadata.name\":\"other\",\"x\":\"y\"}},"
                    "\"spec\":{\"finalizers\":[]},"
                    "\"status\":{\"phase\":\"Terminating\"}}");

  o->prepare_for_create(NULL, old);
  o->prepare_for_update(NULL, ns, old);
  assert_string_equal(rt_json_at(ns, "/status"), "{\"phase\":\"Active\"}");
  assert_string_equal(rt_json_at(ns, "/spec/finalizers"), "[\"kubernetes\"]");
  assert_string_equal(rt_json_at(ns, "/metadata/labels"),
                      "{\"kubernetes.io/metadata.name\":\"team\","
                      "\"x\":\"y\"}");
  kj_free(old);
  kj_free(ns);
}

/* before_delete on a namespace; returns its result and leaves the
 * message (if any) in msg. */
static int delete_ns(const kapi_resource_ops *o, kj *ns, char *msg,
                     size_t len, int *code)
{
  int64_t grace = -1;
  kapi_error e;
  int rc;

  kapi_error_init(&e);
  rc = o->before_delete(NULL, ns, &grace, &e);
  snprintf(msg, len, "%s", kapi_error_isset(&e) ? e.message : "");
  *code = e.code;
  kapi_error_clear(&e);
  return rc;
}

static void test_delete_immortal(void **state)
{
  const kapi_resource_ops *o = ns_ops(*state);
  static const char *const names[] = {"default", "kube-system",
                                      "kube-public"};
  char msg[256], want[256], json[128];
  size_t i;
  int code;

  for (i = 0; i < 3; i++) {
    kj *ns;
    snprintf(json, sizeof json, "{\"metadata\":{\"name\":\"%s\"}}", names[i]);
    ns = rt_parse(json);
    o->prepare_for_create(NULL, ns);
    assert_true(delete_ns(o, ns, msg, sizeof msg, &code) < 0);
    assert_int_equal(code, 403);
    snprintf(want, sizeof want,
             "namespaces \"%s\" is forbidden: this namespace may not be "
             "deleted",
             names[i]);
    assert_string_equal(msg, want);
    kj_free(ns);
  }
}

static void test_delete_two_phases(void **state)
{
  const kapi_resource_ops *o = ns_ops(*state);
  kj *ns = rt_parse("{\"metadata\":{\"name\":\"kube-node-lease\"}}");
  char msg[512];
  int code;

  o->prepare_for_create(NULL, ns);
  /* First DELETE: marked Terminating and kept for the controller. */
  assert_int_equal(delete_ns(o, ns, msg, sizeof msg, &code), 1);
  assert_string_equal(msg, "");
  assert_string_equal(rt_json_at(ns, "/status/phase"), "\"Terminating\"");

  /* Again while the controller is still at work. */
  kj_set_ptr(ns, "/metadata/deletionTimestamp",
             kj_string("2025-01-01T00:00:00Z"));
  assert_true(delete_ns(o, ns, msg, sizeof msg, &code) < 0);
  assert_int_equal(code, 409);
  assert_string_equal(msg, "Operation cannot be fulfilled on namespaces "
                           "\"kube-node-lease\": The system is ensuring all "
                           "content is removed from this namespace.  Upon "
                           "completion, this namespace will automatically "
                           "be purged by the system.");

  /* Finalized: the host may remove it. */
  kj_set_ptr(ns, "/spec/finalizers", kj_array());
  assert_int_equal(delete_ns(o, ns, msg, sizeof msg, &code), 0);
  kj_free(ns);
}

static void test_table_row(void **state)
{
  const kapi_resource_ops *o = ns_ops(*state);
  kj *ns = rt_parse("{\"metadata\":{\"name\":\"team\",\"creationTimestamp\":"
                    "\"2025-01-01T00:00:00Z\"},\"status\":{\"phase\":"
                    "\"Active\"}}");
  kj *cells = kj_array();

  assert_int_equal(o->table_row(NULL, ns, T0 + 3 * 86400 + 5 * 3600, cells),
                   0);
  assert_string_equal(rt_json_at(cells, ""), "[\"team\",\"Active\",\"3d5h\"]");
  kj_free(cells);
  kj_free(ns);
}

/* ---- NamespaceLifecycle ------------------------------------------------- */

/* The namespaces the fake store holds. */
static const char *const stored_namespaces =
    "{\"team\":{\"metadata\":{\"name\":\"team\"},\"status\":{\"phase\":"
    "\"Active\"}},\"old\":{\"metadata\":{\"name\":\"old\"},\"status\":"
    "{\"phase\":\"Terminating\"}}}";

static int fake_store_get(const char *group, const char *resource,
                          const char *ns, const char *name, kapi_obj **ret)
{
  kj *all = rt_parse(stored_namespaces);
  kj *found = kj_get(all, name);

  assert_string_equal(group, "");
  assert_string_equal(resource, "namespaces");
  assert_null(ns);
  *ret = found ? kj_clone(found) : NULL;
  kj_free(all);
  return *ret ? 0 : -ENOENT;
}

/* Runs the validating admission for one request. */
static int admit(fixture *f, const char *op, const char *group,
                 const char *resource, const char *ns, const char *name,
                 const char *obj_json, kapi_error *e)
{
  const kapi_admission_ops *ops = f->c->ops;
  kapi_req r;
  kj *obj = obj_json ? rt_parse(obj_json) : NULL;
  int rc;

  memset(&r, 0, sizeof r);
  r.operation = op;
  r.api_group = (char *)group;
  r.resource = (char *)resource;
  r.namespace_ = (char *)ns;
  r.name = (char *)name;
  kapi_host_set_store_get(fake_store_get);
  rc = ops->admit(f->c->st, &r, obj, e);
  kj_free(obj);
  return rc;
}

static void test_lifecycle_registration(void **state)
{
  fixture *f = *state;
  const kapi_admission_ops *ops = f->c->ops;

  assert_string_equal(f->c->name, "NamespaceLifecycle");
  assert_int_equal(ops->handles, KAPI_OP_CREATE);
  /* Mutating, as upstream: it runs before names are generated. */
  assert_non_null(ops->admit);
  assert_null(ops->validate);
}

static void test_lifecycle_allows(void **state)
{
  fixture *f = *state;
  kapi_error e;

  kapi_error_init(&e);
  assert_int_equal(admit(f, "CREATE", "", "pods", "team", NULL,
                         "{\"metadata\":{\"name\":\"p\"}}", &e), 0);
  /* Only creates are checked; namespaces themselves always pass. */
  assert_int_equal(admit(f, "UPDATE", "", "pods", "old", "p",
                         "{\"metadata\":{\"name\":\"p\"}}", &e), 0);
  assert_int_equal(admit(f, "DELETE", "", "pods", "gone", "p", NULL, &e), 0);
  assert_int_equal(admit(f, "CREATE", "", "namespaces", NULL, NULL,
                         "{\"metadata\":{\"name\":\"new\"}}", &e), 0);
  assert_int_equal(admit(f, "CREATE", "", "nodes", NULL, NULL,
                         "{\"metadata\":{\"name\":\"n\"}}", &e), 0);
  assert_false(kapi_error_isset(&e));
}

static void test_lifecycle_missing_namespace(void **state)
{
  fixture *f = *state;
  kapi_error e;

  kapi_error_init(&e);
  assert_int_equal(admit(f, "CREATE", "", "pods", "nope", NULL,
                         "{\"metadata\":{\"name\":\"p\"}}", &e),
                   -ENOENT);
  assert_int_equal(e.code, 404);
  assert_string_equal(e.reason, "NotFound");
  assert_string_equal(e.message, "namespaces \"nope\" not found");
  kapi_error_clear(&e);
}

static void test_lifecycle_terminating(void **state)
{
  fixture *f = *state;
  kapi_error e;

  kapi_error_init(&e);
  assert_true(admit(f, "CREATE", "", "pods", "old", NULL,
                    "{\"metadata\":{\"name\":\"p\"}}", &e) < 0);
  assert_int_equal(e.code, 403);
  assert_string_equal(e.reason, "Forbidden");
  assert_string_equal(e.message,
                      "pods \"p\" is forbidden: unable to create new content "
                      "in namespace old because it is being terminated");
  assert_string_equal(rt_json_at(e.details, "/causes"),
                      "[{\"reason\":\"NamespaceTerminating\",\"message\":"
                      "\"namespace old is being terminated\",\"field\":"
                      "\"metadata.namespace\"}]");
  kapi_error_clear(&e);

  /* A grouped resource, named by generateName. */
  kapi_error_init(&e);
  assert_true(admit(f, "CREATE", "apps", "replicasets", "old", NULL,
                    "{\"metadata\":{\"generateName\":\"web-\"}}", &e) < 0);
  assert_string_equal(e.message,
                      "replicasets.apps \"web-\" is forbidden: unable to "
                      "create new content in namespace old because it is "
                      "being terminated");
  kapi_error_clear(&e);
}

/* /status and /finalize: the host serves them; DELETE answers the
 * namespace; the phase must agree with the deletion timestamp. */
static void test_status_subresource(void **state)
{
  const kapi_resource_ops *o = ns_ops(*state);
  kj *ns = rt_parse("{\"metadata\":{\"name\":\"t\"}}"), *errs = kj_array();

  assert_int_equal(o->subresources, KAPI_SUB_STATUS);
  assert_int_equal(o->return_deleted_object, 1);
  o->prepare_for_create(NULL, ns);
  assert_int_equal(o->validate_status_update(NULL, ns, ns, errs), 0);
  kj_set_ptr(ns, "/status/phase", kj_string("Terminating"));
  assert_int_equal(o->validate_status_update(NULL, ns, ns, errs), 1);
  assert_string_equal(rt_json_at(errs, "/0"),
                      "{\"field\":\"status.Phase\",\"type\":"
                      "\"FieldValueInvalid\",\"badValue\":\"Terminating\","
                      "\"detail\":\"may only be in active status if it does "
                      "not have a deletion timestamp.\"}");
  kj_set_ptr(ns, "/metadata/deletionTimestamp",
             kj_string("2025-01-01T00:00:00Z"));
  assert_int_equal(o->validate_status_update(NULL, ns, ns, errs), 0);
  kj_set_ptr(ns, "/status/phase", kj_string("Active"));
  assert_int_equal(o->validate_status_update(NULL, ns, ns, errs), 1);
  assert_string_equal(rt_json_at(errs, "/1/detail"),
                      "\"may only be in terminating status if it has a "
                      "deletion timestamp.\"");
  kj_free(errs);
  kj_free(ns);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_registration, setup_namespace,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_prepare_for_create,
                                      setup_namespace, teardown),
      cmocka_unit_test_setup_teardown(test_prepare_for_update,
                                      setup_namespace, teardown),
      cmocka_unit_test_setup_teardown(test_delete_immortal, setup_namespace,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_delete_two_phases,
                                      setup_namespace, teardown),
      cmocka_unit_test_setup_teardown(test_table_row, setup_namespace,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_status_subresource,
                                      setup_namespace, teardown),
      cmocka_unit_test_setup_teardown(test_lifecycle_registration,
                                      setup_lifecycle, teardown),
      cmocka_unit_test_setup_teardown(test_lifecycle_allows, setup_lifecycle,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_lifecycle_missing_namespace,
                                      setup_lifecycle, teardown),
      cmocka_unit_test_setup_teardown(test_lifecycle_terminating,
                                      setup_lifecycle, teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
