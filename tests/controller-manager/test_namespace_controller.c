/*
 * test_namespace_controller.c - the namespace controller plugin against
 * a fake API server: content deleted by collection, the status
 * conditions upstream writes, the requeue estimate while pods remain, and
 * the finalize call once the namespace is empty.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../plugins/controllers/namespace/namespace.c"

#include "host_ext.h"
#include "json.h"
#include "plugin_loader.h"

static kj *parse(const char *text)
{
  char err[256];
  kj *v = NULL;
  if (kj_parse(text, strlen(text), &v, err, sizeof err) < 0)
    fail_msg("bad test JSON: %s: %s", err, text);
  return v;
}

#define MAX_CALLS 32

static struct {
  const char *pods;       /* the pod list served */
  int deletecollection;   /* advertised */
  char method[MAX_CALLS][8];
  char path[MAX_CALLS][256];
  char body[MAX_CALLS][4096];
  int calls;
} srv;

static const char ns_json[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":"
    "\"t\",\"uid\":\"t-uid\",\"deletionTimestamp\":\"2025-01-01T00:00:00Z\"},"
    "\"spec\":{\"finalizers\":[\"kubernetes\"]},\"status\":{\"phase\":"
    "\"Terminating\"}}";

static const char *answer(const char *method, const char *path)
{
  if (strcmp(method, "GET"))
    return "{}";
  if (!strcmp(path, "/api/v1/namespaces/t"))
    return ns_json;
  if (!strcmp(path, "/api/v1"))
    return srv.deletecollection
               ? "{\"resources\":[{\"name\":\"pods\",\"namespaced\":true,"
                 "\"kind\":\"Pod\",\"verbs\":[\"list\",\"delete\","
                 "\"deletecollection\"]},{\"name\":\"pods/status\","
                 "\"namespaced\":true,\"verbs\":[\"get\"]},{\"name\":"
                 "\"nodes\",\"namespaced\":false,\"verbs\":[\"list\","
                 "\"delete\"]}]}"
               : "{\"resources\":[{\"name\":\"pods\",\"namespaced\":true,"
                 "\"kind\":\"Pod\",\"verbs\":[\"list\",\"delete\"]}]}";
  if (!strcmp(path, "/apis"))
    return "{\"groups\":[]}";
  if (!strcmp(path, "/api/v1/namespaces/t/pods"))
    return srv.pods;
  return NULL;
}

static int fake_request(const char *method, const char *path,
                        const char *content_type, const char *body,
                        kapi_obj **ret, kapi_error *e)
{
  int c = srv.calls < MAX_CALLS ? srv.calls++ : MAX_CALLS - 1;
  const char *a = answer(method, path);
  (void)content_type;
  (void)e;
  snprintf(srv.method[c], sizeof srv.method[c], "%s", method);
  snprintf(srv.path[c], sizeof srv.path[c], "%s", path);
  snprintf(srv.body[c], sizeof srv.body[c], "%s", body ? body : "");
  if (ret)
    *ret = a ? parse(a) : NULL;
  return a ? 0 : -ENOENT;
}

static const char *writes(void)
{
  static char out[4096];
  int i;
  out[0] = '\0';
  for (i = 0; i < srv.calls; i++)
    if (strcmp(srv.method[i], "GET")) {
      strcat(out, srv.method[i]);
      strcat(out, " ");
      strcat(out, srv.path[i]);
      strcat(out, "\n");
    }
  return out;
}

static kj *body_of(const char *method, const char *path)
{
  int i;
  for (i = 0; i < srv.calls; i++)
    if (!strcmp(srv.method[i], method) && !strcmp(srv.path[i], path))
      return parse(srv.body[i]);
  fail_msg("no %s %s", method, path);
  return NULL;
}

static const kj *condition_of(const kj *ns, const char *type)
{
  const kj *conds = kj_ptr(ns, "/status/conditions");
  size_t i;
  for (i = 0; i < kj_len(conds); i++)
    if (!strcmp(kj_get_str(kj_at(conds, i), "type"), type))
      return kj_at(conds, i);
  return NULL;
}

static int setup(void **state)
{
  (void)state;
  api = kapi_host_api_get();
  kapi_host_set_api_request(fake_request);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  kapi_host_set_api_request(NULL);
  return 0;
}

static int reset(void **state)
{
  (void)state;
  memset(&srv, 0, sizeof srv);
  srv.pods = "{\"items\":[]}";
  srv.deletecollection = 1;
  return 0;
}

static void test_empty_namespace_is_finalized(void **state)
{
  kj *b;
  (void)state;
  assert_int_equal(delete_namespace("t"), 0);
  assert_string_equal(writes(), "DELETE /api/v1/namespaces/t/pods\n"
                                "PUT /api/v1/namespaces/t/status\n"
                                "PUT /api/v1/namespaces/t/finalize\n");
  b = body_of("DELETE", "/api/v1/namespaces/t/pods");
  assert_string_equal(kj_get_str(b, "propagationPolicy"), "Background");
  kj_free(b);
  b = body_of("PUT", "/api/v1/namespaces/t/status");
  assert_int_equal(kj_len(kj_ptr(b, "/status/conditions")), 5);
  assert_string_equal(
      kj_get_str(condition_of(b, "NamespaceContentRemaining"), "reason"),
      "ContentRemoved");
  assert_string_equal(
      kj_get_str(condition_of(b, "NamespaceContentRemaining"), "status"),
      "False");
  assert_string_equal(
      kj_get_str(condition_of(b, "NamespaceDeletionDiscoveryFailure"),
                 "message"),
      "All resources successfully discovered");
  kj_free(b);
  b = body_of("PUT", "/api/v1/namespaces/t/finalize");
  assert_int_equal(kj_len(kj_ptr(b, "/spec/finalizers")), 0);
  assert_string_equal(kj_str(kj_ptr(b, "/metadata/name")), "t");
  kj_free(b);
}

static void test_remaining_pods_requeue(void **state)
{
  kj *b;
  (void)state;
  srv.pods = "{\"items\":[{\"metadata\":{\"name\":\"p\",\"finalizers\":"
             "[\"x/y\"]},\"spec\":{\"terminationGracePeriodSeconds\":30},"
             "\"status\":{\"phase\":\"Running\"}}]}";
  assert_int_equal(delete_namespace("t"), 30);
  assert_string_equal(writes(), "DELETE /api/v1/namespaces/t/pods\n"
                                "PUT /api/v1/namespaces/t/status\n");
  b = body_of("PUT", "/api/v1/namespaces/t/status");
  assert_string_equal(
      kj_get_str(condition_of(b, "NamespaceContentRemaining"), "message"),
      "Some resources are remaining: pods. has 1 resource instances");
  assert_string_equal(
      kj_get_str(condition_of(b, "NamespaceContentRemaining"), "reason"),
      "SomeResourcesRemain");
  assert_string_equal(
      kj_get_str(condition_of(b, "NamespaceFinalizersRemaining"), "message"),
      "Some content in the namespace has finalizers remaining: x/y in 1 "
      "resource instances");
  kj_free(b);
}

static void test_without_deletecollection_deletes_each(void **state)
{
  (void)state;
  srv.deletecollection = 0;
  srv.pods = "{\"items\":[{\"metadata\":{\"name\":\"a\"}},{\"metadata\":"
             "{\"name\":\"b\"}}]}";
  /* They never go (the fake keeps serving them), with no grace period
   * and no finalizer: an error, retried with backoff. */
  assert_true(delete_namespace("t") < 0);
  assert_non_null(strstr(writes(), "DELETE /api/v1/namespaces/t/pods/a\n"
                                   "DELETE /api/v1/namespaces/t/pods/b\n"));
}

static void test_not_deleting_is_left_alone(void **state)
{
  (void)state;
  assert_int_equal(delete_namespace("gone"), 0);
  assert_string_equal(writes(), "");
}

static void test_conditions_unchanged_not_rewritten(void **state)
{
  condition c[N_CONDITIONS];
  totals t;
  char *merged;
  kj *ns;
  size_t i;
  (void)state;

  memset(&t, 0, sizeof t);
  make_conditions(c, NULL, &t);
  ns = parse(ns_json);
  merged = merge_conditions(ns, c, "2025-01-01T00:00:00Z");
  assert_non_null(merged);
  kj_set_ptr(ns, "/status/conditions", parse(merged));
  free(merged);
  /* Same again: nothing to write. */
  assert_null(merge_conditions(ns, c, "2025-01-01T00:00:09Z"));
  for (i = 0; i < N_CONDITIONS; i++)
    free(c[i].message);
  kj_free(ns);
  merged = sorted_join("b x, a y, c z");
  assert_string_equal(merged, "a y, b x, c z");
  free(merged);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_empty_namespace_is_finalized, reset),
      cmocka_unit_test_setup(test_remaining_pods_requeue, reset),
      cmocka_unit_test_setup(test_without_deletecollection_deletes_each,
                             reset),
      cmocka_unit_test_setup(test_not_deleting_is_left_alone, reset),
      cmocka_unit_test_setup(test_conditions_unchanged_not_rewritten, reset),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
