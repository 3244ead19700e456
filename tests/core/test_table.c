/*
 * test_table.c - the Table form of `kubectl get`: the Accept check, the
 * Table shape (contract section 6), rows from a plugin's columns and
 * upstream's default Name / Created At table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "registry.h"
#include "table.h"

/* ---- fake resources ----------------------------------------------------- */

static const kapi_column pod_columns[] = {
    {"Name", "string", "name", "Name of the pod", 0},
    {"Status", "string", "", "The phase", 0},
    {"Restarts", "integer", "", "Container restarts", 0},
    {"Node", "string", "", "Where it runs", 1},
};

/* Host side: cells is a kj array, so the plugin API is not needed. */
static int pod_row(void *st, const kapi_obj *obj, int64_t now, kapi_obj *cells)
{
  const kj *o = (const kj *)obj;
  kj *c = (kj *)cells;
  const char *phase = kj_get_str(kj_get(o, "status"), "phase");
  const char *name = kj_get_str(kj_get(o, "metadata"), "name");
  (void)st;
  kj_append(c, kj_string(name ? name : ""));
  kj_append(c, kj_string(phase ? phase : "Pending"));
  kj_append(c, kj_int(now % 10));
  kj_append(c, kj_string("node-1"));
  return 0;
}

static const kapi_resource_ops pod_ops = {
    .size = sizeof(kapi_resource_ops),
    .group = "",
    .version = "v1",
    .resource = "pods",
    .kind = "Pod",
    .singular = "pod",
    .namespaced = 1,
    .columns = pod_columns,
    .n_columns = 4,
    .table_row = pod_row,
};

static const kapi_resource_ops rs_ops = {
    .size = sizeof(kapi_resource_ops),
    .group = "apps",
    .version = "v1",
    .resource = "replicasets",
    .kind = "ReplicaSet",
    .singular = "replicaset",
    .namespaced = 1,
};

/* Returns 2 cells for 4 columns. */
static int short_row(void *st, const kapi_obj *obj, int64_t now,
                     kapi_obj *cells)
{
  (void)st;
  (void)obj;
  (void)now;
  kj_append((kj *)cells, kj_string("a"));
  kj_append((kj *)cells, kj_string("b"));
  return 0;
}

static int failing_row(void *st, const kapi_obj *obj, int64_t now,
                       kapi_obj *cells)
{
  (void)st;
  (void)obj;
  (void)now;
  kj_append((kj *)cells, kj_string("half"));
  return -EINVAL;
}

static const kapi_resource_ops short_ops = {
    .size = sizeof(kapi_resource_ops), .group = "", .version = "v1",
    .resource = "shorts", .kind = "Short", .namespaced = 1,
    .columns = pod_columns, .n_columns = 4, .table_row = short_row,
};

static const kapi_resource_ops failing_ops = {
    .size = sizeof(kapi_resource_ops), .group = "", .version = "v1",
    .resource = "fails", .kind = "Fail", .namespaced = 1,
    .columns = pod_columns, .n_columns = 4, .table_row = failing_row,
};

/* Columns without a row callback: the default table is used. */
static const kapi_resource_ops half_ops = {
    .size = sizeof(kapi_resource_ops), .group = "", .version = "v1",
    .resource = "halves", .kind = "Half", .namespaced = 1,
    .columns = pod_columns, .n_columns = 4,
};

static kapi_resource resource(const kapi_resource_ops *ops)
{
  kapi_resource r = {.ops = ops, .group = ops->group};
  return r;
}

/* ---- helpers ------------------------------------------------------------ */

static kj *parse(const char *text)
{
  kj *v = NULL;
  char err[128];
  assert_int_equal(kj_parse(text, strlen(text), &v, err, sizeof err), 0);
  return v;
}

static void assert_json(const kj *v, const char *want)
{
  char *text = kj_dump(v, NULL);
  assert_non_null(text);
  assert_string_equal(text, want);
  free(text);
}

#define NGINX                                                            \
  "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"      \
  "\"nginx\",\"namespace\":\"default\",\"labels\":{\"app\":\"web\"},"    \
  "\"uid\":\"u-1\",\"resourceVersion\":\"106\",\"creationTimestamp\":"   \
  "\"2025-01-01T00:00:00Z\"},\"spec\":{},\"status\":{\"phase\":"         \
  "\"Running\"}}"

#define NGINX_META                                                       \
  "{\"name\":\"nginx\",\"namespace\":\"default\",\"labels\":{\"app\":"   \
  "\"web\"},\"uid\":\"u-1\",\"resourceVersion\":\"106\","               \
  "\"creationTimestamp\":\"2025-01-01T00:00:00Z\"}"

#define POD_COLUMNS                                                      \
  "[{\"name\":\"Name\",\"type\":\"string\",\"format\":\"name\","         \
  "\"description\":\"Name of the pod\",\"priority\":0},"                 \
  "{\"name\":\"Status\",\"type\":\"string\",\"format\":\"\","            \
  "\"description\":\"The phase\",\"priority\":0},"                       \
  "{\"name\":\"Restarts\",\"type\":\"integer\",\"format\":\"\","         \
  "\"description\":\"Container restarts\",\"priority\":0},"              \
  "{\"name\":\"Node\",\"type\":\"string\",\"format\":\"\","              \
  "\"description\":\"Where it runs\",\"priority\":1}]"

/* ---- Accept ------------------------------------------------------------- */

static void test_wants_table(void **state)
{
  (void)state;
  /* kubectl get */
  assert_int_equal(
      kapi_wants_table("application/json;as=Table;v=v1;g=meta.k8s.io,"
                       "application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
                       "application/json"),
      1);
  assert_int_equal(
      kapi_wants_table("application/json;as=Table;v=v1beta1;g=meta.k8s.io"), 1);
  assert_int_equal(
      kapi_wants_table(" application/json ; g=meta.k8s.io ; v=v1 ; as=Table "),
      1);
  assert_int_equal(kapi_wants_table("Application/JSON;as=\"Table\";"
                                    "v=v1;g=meta.k8s.io"),
                   1);
  /* Protobuf Table first: answered in JSON, the JSON Table still wins. */
  assert_int_equal(
      kapi_wants_table("application/vnd.kubernetes.protobuf;as=Table;v=v1;"
                       "g=meta.k8s.io,application/json;as=Table;v=v1;"
                       "g=meta.k8s.io"),
      1);

  assert_int_equal(kapi_wants_table(NULL), 0);
  assert_int_equal(kapi_wants_table(""), 0);
  assert_int_equal(kapi_wants_table("application/json"), 0);
  assert_int_equal(kapi_wants_table("application/json, */*"), 0);
  assert_int_equal(kapi_wants_table("application/vnd.kubernetes.protobuf,"
                                    "application/json"),
                   0);
  /* Plain JSON listed first is preferred. */
  assert_int_equal(
      kapi_wants_table("application/json,application/json;as=Table;v=v1;"
                       "g=meta.k8s.io"),
      0);
  assert_int_equal(kapi_wants_table("*/*,application/json;as=Table;v=v1;"
                                    "g=meta.k8s.io"),
                   0);
  /* Versions and groups we do not serve. */
  assert_int_equal(
      kapi_wants_table("application/json;as=Table;v=v1alpha1;g=meta.k8s.io"),
      0);
  assert_int_equal(kapi_wants_table("application/json;as=Table;v=v1;g=x.io"),
                   0);
  assert_int_equal(kapi_wants_table("application/json;as=Table;v=v1"), 0);
  assert_int_equal(
      kapi_wants_table("application/vnd.kubernetes.protobuf;as=Table;v=v1;"
                       "g=meta.k8s.io"),
      0);
  assert_int_equal(
      kapi_wants_table("application/json;as=PartialObjectMetadataList;v=v1;"
                       "g=meta.k8s.io"),
      0);
}

/* ---- tables ------------------------------------------------------------- */

static void test_new_table(void **state)
{
  kapi_resource pods = resource(&pod_ops);
  kj *t = kapi_table_new(&pods, 1, "108", NULL);
  (void)state;

  assert_non_null(t);
  assert_json(t, "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\","
                 "\"metadata\":{\"resourceVersion\":\"108\"},"
                 "\"columnDefinitions\":" POD_COLUMNS ",\"rows\":[]}");
  kj_free(t);
}

static void test_new_table_without_columns(void **state)
{
  kapi_resource pods = resource(&pod_ops);
  kj *t = kapi_table_new(&pods, 0, "110", "");
  (void)state;

  assert_json(t, "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\","
                 "\"metadata\":{\"resourceVersion\":\"110\"},"
                 "\"columnDefinitions\":[],\"rows\":[]}");
  kj_free(t);

  t = kapi_table_new(&pods, 0, NULL, NULL);
  assert_json(t, "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\","
                 "\"metadata\":{},\"columnDefinitions\":[],\"rows\":[]}");
  kj_free(t);
}

static void test_plugin_rows(void **state)
{
  kapi_resource pods = resource(&pod_ops);
  kj *t = kapi_table_new(&pods, 0, "108", NULL);
  kj *nginx = parse(NGINX);
  kj *bare = parse("{\"spec\":{}}");
  (void)state;

  assert_int_equal(kapi_table_add_row(t, &pods, nginx, 1003), 0);
  assert_int_equal(kapi_table_add_row(t, &pods, bare, 1000), 0);
  assert_json(kj_get(t, "rows"),
              "[{\"cells\":[\"nginx\",\"Running\",3,\"node-1\"],"
              "\"object\":{\"kind\":\"PartialObjectMetadata\","
              "\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":" NGINX_META
              "}},"
              "{\"cells\":[\"\",\"Pending\",0,\"node-1\"],"
              "\"object\":{\"kind\":\"PartialObjectMetadata\","
              "\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":{}}}]");
  kj_free(bare);
  kj_free(nginx);
  kj_free(t);
}

#define DEFAULT_COLUMNS                                                     \
  "[{\"name\":\"Name\",\"type\":\"string\",\"format\":\"name\","            \
  "\"description\":\"Name must be unique within a namespace. Is required "  \
  "when creating resources, although some resources may allow a client "    \
  "to request the generation of an appropriate name automatically. Name "  \
  "is primarily intended for creation idempotence and configuration "       \
  "definition. Cannot be updated. More info: "                              \
  "https://kubernetes.io/docs/concepts/overview/working-with-objects/"      \
  "names#names\",\"priority\":0},"                                          \
  "{\"name\":\"Created At\",\"type\":\"date\",\"format\":\"\","             \
  "\"description\":\"CreationTimestamp is a timestamp representing the "    \
  "server time when this object was created. It is not guaranteed to be "   \
  "set in happens-before order across separate operations. Clients may "    \
  "not set this value. It is represented in RFC3339 form and is in UTC."    \
  "\\n\\nPopulated by the system. Read-only. Null for lists. More info: "   \
  "https://git.k8s.io/community/contributors/devel/sig-architecture/"      \
  "api-conventions.md#metadata\",\"priority\":0}]"

static void test_default_table(void **state)
{
  kapi_resource rs = resource(&rs_ops);
  kj *t = kapi_table_new(&rs, 1, "200", "tok");
  kj *obj = parse("{\"metadata\":{\"name\":\"web\",\"namespace\":\"ns\","
                  "\"creationTimestamp\":\"2025-02-03T04:05:06Z\"}}");
  kj *fresh = parse("{\"metadata\":{\"name\":\"new\"}}");
  (void)state;

  assert_int_equal(kapi_table_add_row(t, &rs, obj, 0), 0);
  assert_int_equal(kapi_table_add_row(t, &rs, fresh, 0), 0);
  assert_json(t,
              "{\"kind\":\"Table\",\"apiVersion\":\"meta.k8s.io/v1\","
              "\"metadata\":{\"resourceVersion\":\"200\",\"continue\":\"tok\"},"
              "\"columnDefinitions\":" DEFAULT_COLUMNS ","
              "\"rows\":[{\"cells\":[\"web\",\"2025-02-03T04:05:06Z\"],"
              "\"object\":{\"kind\":\"PartialObjectMetadata\","
              "\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":{\"name\":"
              "\"web\",\"namespace\":\"ns\",\"creationTimestamp\":"
              "\"2025-02-03T04:05:06Z\"}}},"
              "{\"cells\":[\"new\",\"0001-01-01T00:00:00Z\"],"
              "\"object\":{\"kind\":\"PartialObjectMetadata\","
              "\"apiVersion\":\"meta.k8s.io/v1\",\"metadata\":{\"name\":"
              "\"new\"}}}]}");
  kj_free(fresh);
  kj_free(obj);
  kj_free(t);
}

/* Columns with no row callback cannot be filled: default table. */
static void test_columns_without_callback(void **state)
{
  kapi_resource half = resource(&half_ops);
  kj *t = kapi_table_new(&half, 1, "1", NULL);
  kj *obj = parse("{\"metadata\":{\"name\":\"h\"}}");
  (void)state;

  assert_json(kj_get(t, "columnDefinitions"), DEFAULT_COLUMNS);
  assert_int_equal(kapi_table_add_row(t, &half, obj, 0), 0);
  assert_json(kj_get(kj_at(kj_get(t, "rows"), 0), "cells"),
              "[\"h\",\"0001-01-01T00:00:00Z\"]");
  kj_free(obj);
  kj_free(t);
}

static void test_short_row_is_padded(void **state)
{
  kapi_resource s = resource(&short_ops);
  kj *t = kapi_table_new(&s, 1, "1", NULL);
  kj *obj = parse("{\"metadata\":{\"name\":\"s\"}}");
  (void)state;

  assert_int_equal(kapi_table_add_row(t, &s, obj, 0), 0);
  assert_json(kj_get(kj_at(kj_get(t, "rows"), 0), "cells"),
              "[\"a\",\"b\",null,null]");
  kj_free(obj);
  kj_free(t);
}

static void test_failing_row_leaves_table_unchanged(void **state)
{
  kapi_resource f = resource(&failing_ops);
  kj *t = kapi_table_new(&f, 1, "1", NULL);
  kj *obj = parse("{\"metadata\":{\"name\":\"f\"}}");
  kj *not_table = kj_object();
  (void)state;

  assert_int_equal(kapi_table_add_row(t, &f, obj, 0), -EINVAL);
  assert_int_equal(kj_len(kj_get(t, "rows")), 0);
  assert_int_equal(kapi_table_add_row(not_table, &f, obj, 0), -EINVAL);
  kj_free(not_table);
  kj_free(obj);
  kj_free(t);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_wants_table),
      cmocka_unit_test(test_new_table),
      cmocka_unit_test(test_new_table_without_columns),
      cmocka_unit_test(test_plugin_rows),
      cmocka_unit_test(test_default_table),
      cmocka_unit_test(test_columns_without_callback),
      cmocka_unit_test(test_short_row_is_padded),
      cmocka_unit_test(test_failing_row_leaves_table_unchanged),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
