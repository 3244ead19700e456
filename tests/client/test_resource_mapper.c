/*
 * test_resource_mapper.c - core/client/resource_mapper.c and
 * resource_helper.c: kinds and typed names to resources through a real
 * kapi-apiserver's discovery (server_fixture.h), the static mapper, and
 * the REST helper's verbs on infos, server-side apply included.
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

#include "kapi/resource.h"
#include "server_fixture.h"

static kts_server S;
static int server_up;
static kapi_client *C;

#define NEED_SERVER()                                                   \
  do {                                                                  \
    if (!server_up) {                                                   \
      print_message("skipped: no kapi-apiserver in %s\n",               \
                    kts_builddir());                                    \
      skip();                                                           \
    }                                                                   \
  } while (0)

static kj *parse(const char *json)
{
  kj *v = NULL;
  char err[128];

  assert_int_equal(kj_parse(json, strlen(json), &v, err, sizeof err), 0);
  return v;
}

/* ---- the static mapper ------------------------------------------------------- */

static void test_static_mapper(void **state)
{
  static const kapi_mapping table[] = {
      {"", "v1", "pods", "Pod", 1},
      {"apps", "v1", "deployments", "Deployment", 1},
      {"", "v1", "namespaces", "Namespace", 0},
  };
  kapi_mapper *m = kapi_mapper_static(table, 3);
  kapi_errlist errs = {0};
  kapi_mapping out;
  kapi_gvr g;
  char *msg;
  (void)state;

  assert_non_null(m);
  assert_int_equal(kapi_mapper_kind(m, "apps/v1", "Deployment", &out, &errs),
                   0);
  assert_string_equal(out.group, "apps");
  assert_string_equal(out.resource, "deployments");
  assert_int_equal(out.namespaced, 1);
  g = kapi_mapping_gvr(&out);
  assert_string_equal(g.group, "apps");
  assert_string_equal(g.version, "v1");
  assert_string_equal(g.resource, "deployments");
  kapi_mapping_clear(&out);

  assert_int_equal(kapi_mapper_resource(m, "namespace", &out, &errs), 0);
  assert_string_equal(out.kind, "Namespace");
  assert_int_equal(out.namespaced, 0);
  kapi_mapping_clear(&out);
  assert_int_equal(kapi_mapper_resource(m, "deployment.apps", &out, &errs),
                   0);
  assert_string_equal(out.resource, "deployments");
  kapi_mapping_clear(&out);
  assert_int_equal(errs.n, 0);

  assert_int_equal(kapi_mapper_kind(m, "v1", "Deployment", &out, &errs),
                   -ENOENT);
  msg = kapi_errlist_join(&errs);
  assert_string_equal(msg, "no matches for kind \"Deployment\" in version "
                           "\"v1\"");
  free(msg);
  kapi_errlist_clear(&errs);
  kapi_mapper_free(m);
}

/* ---- discovery --------------------------------------------------------------- */

static void test_discovery_kinds(void **state)
{
  kapi_mapper *m;
  kapi_errlist errs = {0};
  kapi_mapping out;
  char *msg;
  (void)state;
  NEED_SERVER();

  m = kapi_mapper_new(C);
  assert_non_null(m);
  assert_int_equal(kapi_mapper_kind(m, "v1", "Pod", &out, &errs), 0);
  assert_string_equal(out.group, "");
  assert_string_equal(out.version, "v1");
  assert_string_equal(out.resource, "pods");
  assert_string_equal(out.kind, "Pod");
  assert_int_equal(out.namespaced, 1);
  kapi_mapping_clear(&out);

  assert_int_equal(kapi_mapper_kind(m, "apps/v1", "ReplicaSet", &out, &errs),
                   0);
  assert_string_equal(out.group, "apps");
  assert_string_equal(out.resource, "replicasets");
  assert_int_equal(out.namespaced, 1);
  kapi_mapping_clear(&out);

  assert_int_equal(kapi_mapper_kind(m, "v1", "Namespace", &out, &errs), 0);
  assert_int_equal(out.namespaced, 0);
  kapi_mapping_clear(&out);
  assert_int_equal(errs.n, 0);

  assert_int_equal(kapi_mapper_kind(m, "v1", "Frobnicator", &out, &errs),
                   -ENOENT);
  assert_null(out.resource);
  msg = kapi_errlist_join(&errs);
  assert_string_equal(msg,
                      "no matches for kind \"Frobnicator\" in version \"v1\"");
  free(msg);
  kapi_errlist_clear(&errs);

  /* A kind of the wrong group, and a version the server lacks. */
  assert_int_equal(kapi_mapper_kind(m, "v1", "ReplicaSet", &out, &errs),
                   -ENOENT);
  assert_int_equal(kapi_mapper_kind(m, "apps/v9", "ReplicaSet", &out, &errs),
                   -ENOENT);
  msg = kapi_errlist_join(&errs);
  assert_string_equal(msg, "[no matches for kind \"ReplicaSet\" in version "
                           "\"v1\", no matches for kind \"ReplicaSet\" in "
                           "version \"apps/v9\"]");
  free(msg);
  kapi_errlist_clear(&errs);
  kapi_mapper_free(m);
}

static void expect_resource(kapi_mapper *m, const char *arg,
                            const char *group, const char *resource)
{
  kapi_errlist errs = {0};
  kapi_mapping out;

  if (kapi_mapper_resource(m, arg, &out, &errs) != 0)
    fail_msg("%s: %s", arg, errs.n ? errs.msgs[0] : "?");
  assert_string_equal(out.group, group);
  assert_string_equal(out.resource, resource);
  kapi_mapping_clear(&out);
  kapi_errlist_clear(&errs);
}

static void test_discovery_names(void **state)
{
  kapi_mapper *m;
  kapi_errlist errs = {0};
  kapi_mapping out;
  char *msg;
  (void)state;
  NEED_SERVER();

  m = kapi_mapper_new(C);
  expect_resource(m, "po", "", "pods");
  expect_resource(m, "pod", "", "pods");
  expect_resource(m, "pods", "", "pods");
  expect_resource(m, "Pod", "", "pods");
  expect_resource(m, "PODS", "", "pods");
  expect_resource(m, "rs", "apps", "replicasets");
  expect_resource(m, "cm", "", "configmaps");
  expect_resource(m, "ns", "", "namespaces");
  expect_resource(m, "deployment.apps", "apps", "deployments");
  expect_resource(m, "deployments.v1.apps", "apps", "deployments");
  expect_resource(m, "ReplicaSet", "apps", "replicasets");

  assert_int_equal(kapi_mapper_resource(m, "frob", &out, &errs), -ENOENT);
  assert_int_equal(kapi_mapper_resource(m, "pods.apps", &out, &errs),
                   -ENOENT);
  msg = kapi_errlist_join(&errs);
  assert_string_equal(msg, "[the server doesn't have a resource type "
                           "\"frob\", the server doesn't have a resource "
                           "type \"pods.apps\"]");
  free(msg);
  kapi_errlist_clear(&errs);
  kapi_mapper_free(m);
}

static void test_discovery_unreachable(void **state)
{
  kapi_client_config cfg = {0};
  kapi_client *c = NULL;
  kapi_mapper *m;
  kapi_errlist errs = {0};
  kapi_mapping out;
  char err[256], url[64];
  int port = kts_free_port();
  (void)state;

  assert_true(port > 0);
  snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
  cfg.server = url;
  cfg.kubeconfig = "/dev/null/none";
  cfg.max_retries = -1;
  if (kapi_client_new(&cfg, &c, err, sizeof err) < 0) {
    /* An explicit unusable kubeconfig: retry without one. */
    cfg.kubeconfig = NULL;
    assert_int_equal(kapi_client_new(&cfg, &c, err, sizeof err), 0);
  }
  m = kapi_mapper_new(c);
  assert_int_equal(kapi_mapper_kind(m, "v1", "Pod", &out, &errs), -EIO);
  assert_true(errs.n >= 1);
  kapi_errlist_clear(&errs);
  kapi_mapper_free(m);
  kapi_client_free(c);
}

/* ---- the helper -------------------------------------------------------------- */

/* An info as a visitor would hand it over, for a document. */
static void make_info(kapi_info *info, kapi_mapper *m, const char *json)
{
  kapi_errlist errs = {0};
  const kj *meta;

  memset(info, 0, sizeof *info);
  info->source = strdup("test");
  info->object = parse(json);
  meta = kj_get(info->object, "metadata");
  if (kj_get_str(meta, "name"))
    info->name = strdup(kj_get_str(meta, "name"));
  info->namespace_ = strdup(kj_get_str(meta, "namespace")
                                ? kj_get_str(meta, "namespace")
                                : "default");
  assert_int_equal(kapi_mapper_kind(m, kj_get_str(info->object, "apiVersion"),
                                    kj_get_str(info->object, "kind"),
                                    &info->mapping, &errs),
                   0);
}

static void info_clear(kapi_info *info)
{
  free(info->source);
  kj_free(info->object);
  free(info->name);
  free(info->namespace_);
  kapi_mapping_clear(&info->mapping);
}

static void test_helper_verbs(void **state)
{
  kapi_mapper *m;
  kapi_info info;
  kapi_result res;
  kj *got = NULL, *list = NULL;
  const char *rv1;
  char rv[64];
  (void)state;
  NEED_SERVER();

  m = kapi_mapper_new(C);
  make_info(&info, m,
            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":"
            "{\"name\":\"h1\",\"labels\":{\"t\":\"helper\"}},"
            "\"data\":{\"a\":\"1\"}}");
  assert_int_equal(kapi_helper_create(C, &info, &got, &res), 0);
  assert_int_equal(res.code, 201);
  assert_string_equal(kj_get_str(kj_get(got, "metadata"), "namespace"),
                      "default");
  kj_free(got);
  assert_int_equal(kapi_helper_create(C, &info, NULL, &res), -EEXIST);
  assert_string_equal(res.reason, "AlreadyExists");

  assert_int_equal(kapi_helper_get(C, &info, &got, &res), 0);
  assert_string_equal(kj_get_str(kj_get(got, "data"), "a"), "1");
  rv1 = kj_get_str(kj_get(got, "metadata"), "resourceVersion");
  assert_non_null(rv1);
  snprintf(rv, sizeof rv, "%s", rv1);
  kj_free(got);

  /* Replace without a resourceVersion overwrites. */
  assert_int_equal(kj_set_str(kj_get(info.object, "data"), "a", "2"), 0);
  assert_int_equal(kapi_helper_replace(C, &info, &got, &res), 0);
  assert_string_equal(kj_get_str(kj_get(got, "data"), "a"), "2");
  assert_string_not_equal(
      kj_get_str(kj_get(got, "metadata"), "resourceVersion"), rv);
  kj_free(got);

  assert_int_equal(kapi_helper_patch(C, &info, "application/merge-patch+json",
                                     "{\"data\":{\"b\":\"3\"}}", &got, &res),
                   0);
  assert_string_equal(kj_get_str(kj_get(got, "data"), "b"), "3");
  kj_free(got);

  assert_int_equal(
      kapi_helper_list(C, &info.mapping, "default", "t=helper", &list, &res),
      0);
  assert_int_equal(kj_len(kj_get(list, "items")), 1);
  kj_free(list);
  assert_int_equal(
      kapi_helper_list(C, &info.mapping, NULL, "t=none", &list, &res), 0);
  assert_int_equal(kj_len(kj_get(list, "items")), 0);
  kj_free(list);

  assert_int_equal(kapi_helper_delete(C, &info, &res), 0);
  assert_int_equal(kapi_helper_get(C, &info, NULL, &res), -ENOENT);
  assert_string_equal(res.reason, "NotFound");
  assert_string_equal(res.message, "configmaps \"h1\" not found");
  assert_int_equal(kapi_helper_delete(C, &info, &res), -ENOENT);
  info_clear(&info);
  kapi_mapper_free(m);
}

static void test_helper_apply(void **state)
{
  kapi_mapper *m;
  kapi_info info;
  kapi_result res;
  kj *got = NULL;
  char rv[64];
  const kj *mf;
  int64_t n = 0;
  (void)state;
  NEED_SERVER();

  m = kapi_mapper_new(C);
  make_info(&info, m,
            "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":"
            "{\"name\":\"ap1\"},\"spec\":{\"replicas\":0,\"selector\":"
            "{\"matchLabels\":{\"app\":\"ap1\"}},\"template\":{\"metadata\":"
            "{\"labels\":{\"app\":\"ap1\"}},\"spec\":{\"containers\":[{"
            "\"name\":\"c\",\"image\":\"busybox\"}]}}}}");
  /* Apply creates a missing object. */
  assert_int_equal(kapi_helper_apply(C, &info, "test-mgr", &got, &res), 0);
  assert_int_equal(res.code, 201);
  snprintf(rv, sizeof rv, "%s",
           kj_get_str(kj_get(got, "metadata"), "resourceVersion"));
  mf = kj_get(kj_get(got, "metadata"), "managedFields");
  assert_true(kj_len(mf) >= 1);
  assert_string_equal(kj_get_str(kj_at(mf, 0), "manager"), "test-mgr");
  assert_string_equal(kj_get_str(kj_at(mf, 0), "operation"), "Apply");
  kj_free(got);

  /* The same again changes nothing. */
  assert_int_equal(kapi_helper_apply(C, &info, "test-mgr", &got, &res), 0);
  assert_int_equal(res.code, 200);
  assert_string_equal(kj_get_str(kj_get(got, "metadata"), "resourceVersion"),
                      rv);
  kj_free(got);

  /* A change is applied. */
  assert_int_equal(kj_set_ptr(info.object, "/spec/replicas", kj_int(2)), 0);
  assert_int_equal(kapi_helper_apply(C, &info, "test-mgr", &got, &res), 0);
  assert_string_not_equal(
      kj_get_str(kj_get(got, "metadata"), "resourceVersion"), rv);
  kj_free(got);
  assert_int_equal(kapi_helper_get(C, &info, &got, &res), 0);
  assert_int_equal(kj_to_int(kj_ptr(got, "/spec/replicas"), &n), 0);
  assert_int_equal(n, 2);
  kj_free(got);

  /* Errors come back as the server's Status. */
  assert_int_equal(kj_set_ptr(info.object, "/spec/replicas", kj_int(-1)), 0);
  assert_int_equal(kapi_helper_apply(C, &info, "test-mgr", &got, &res),
                   -EINVAL);
  assert_null(got);
  assert_int_equal(res.code, 422);
  assert_string_equal(res.reason, "Invalid");

  assert_int_equal(kapi_helper_delete(C, &info, &res), 0);
  info_clear(&info);
  kapi_mapper_free(m);
}

/* ---- setup ------------------------------------------------------------------- */

static int group_setup(void **state)
{
  const char *unit_only = getenv("KAPI_UNIT_ONLY");
  kapi_client_config cfg = {0};
  char err[256];
  (void)state;

  if (unit_only && !strcmp(unit_only, "1")) {
    print_message("KAPI_UNIT_ONLY=1: server tests will be skipped\n");
    return 0;
  }
  if (!kts_have_server()) {
    print_message("no %s/kapi-apiserver: server tests will be skipped\n",
                  kts_builddir());
    return 0;
  }
  if (kts_init(&S) < 0 || kts_start(&S, 0) < 0) {
    kts_cleanup(&S);
    return -1;
  }
  cfg.kubeconfig = S.kubeconfig;
  if (kapi_client_new(&cfg, &C, err, sizeof err) < 0) {
    print_message("client: %s\n", err);
    kts_cleanup(&S);
    return -1;
  }
  server_up = 1;
  return 0;
}

static int group_teardown(void **state)
{
  (void)state;
  kapi_client_free(C);
  kts_cleanup(&S);
  return 0;
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_static_mapper),
      cmocka_unit_test(test_discovery_kinds),
      cmocka_unit_test(test_discovery_names),
      cmocka_unit_test(test_discovery_unreachable),
      cmocka_unit_test(test_helper_verbs),
      cmocka_unit_test(test_helper_apply),
  };

  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
