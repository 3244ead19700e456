/*
 * test_openapi.c - the OpenAPI v3 root and group-version documents:
 * what kubectl's fieldValidation check needs (contract section 5), the
 * operations upstream has, and components.schemas generated from the
 * compact schemas.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "json.h"
#include "openapi.h"
#include "server.h"
#include "watch_http.h"

/* ---- stand-ins for what server.c links but these tests never run -------- */

__attribute__((weak)) void kapi_chain_run(kapi_server *srv, kapi_req *r,
                                          kapi_response *resp)
{
  (void)srv;
  (void)r;
  (void)resp;
}

__attribute__((weak)) ssize_t watch_stream_fill(watch_stream *ws, char *buf,
                                                size_t max)
{
  (void)ws;
  (void)buf;
  (void)max;
  return -1;
}

__attribute__((weak)) int watch_stream_due(watch_stream *ws, time_t now)
{
  (void)ws;
  (void)now;
  return 0;
}

__attribute__((weak)) void watch_stream_set_wake(watch_stream *ws,
                                                 void (*wake)(void *),
                                                 void *arg)
{
  (void)ws;
  (void)wake;
  (void)arg;
}

__attribute__((weak)) void watch_stream_free(watch_stream *ws) { (void)ws; }

/* ---- the fake registry -------------------------------------------------- */

static const char pod_schema[] =
    "{\"metadata\":\"meta\",\"spec\":{\"nodeName\":\"string\","
    "\"containers\":[{\"name\":\"string\",\"ports\":[{\"containerPort\":"
    "\"integer\",\"targetPort\":\"int-or-string\"}],\"resources\":{"
    "\"cpu\":\"quantity\"},\"env\":\"object\"}],\"nodeSelector\":\"map\","
    "\"hostNetwork\":\"boolean\",\"weight\":\"number\"}}";

static const kapi_resource_ops pods = {
    .size = sizeof(kapi_resource_ops), .group = "", .version = "v1",
    .resource = "pods", .kind = "Pod", .singular = "pod", .namespaced = 1,
    .schema = pod_schema,
};
static const kapi_resource_ops nodes = {
    .size = sizeof(kapi_resource_ops), .group = "", .version = "v1",
    .resource = "nodes", .kind = "Node", .singular = "node",
    .schema = "{\"spec\":{\"unschedulable\":\"boolean\","
              "\"policy\":\"enum:Always|OnFailure|Never\","
              "\"taints\":[{\"$mergeKey\":\"key\",\"$strategy\":"
              "\"merge\",\"$required\":[\"key\"],\"key\":\"string\"}],"
              "\"tags\":[{\"$listType\":\"atomic\",\"k\":\"string\"}]}}",
};
static const kapi_resource_ops replicasets = {
    .size = sizeof(kapi_resource_ops), .group = "apps", .version = "v1",
    .resource = "replicasets", .kind = "ReplicaSet", .namespaced = 1,
    .schema = "{\"spec\":{\"replicas\":\"integer\"}}",
};
static const kapi_resource_ops widgets = {
    .size = sizeof(kapi_resource_ops), .group = "widgets.example.com",
    .version = "v1", .resource = "widgets", .kind = "Widget",
    .namespaced = 1,
};

static kapi_resource items[4];
static kapi_registry registry = {items, 4};
static kapi_server server = {.registry = &registry};

static kapi_resource resource(const kapi_resource_ops *ops)
{
  kapi_resource r = {.ops = ops, .group = ops->group};
  char err[128];
  if (ops->schema)
    assert_int_equal(kj_parse(ops->schema, strlen(ops->schema), &r.schema,
                              err, sizeof err),
                     0);
  return r;
}

static int setup(void **state)
{
  (void)state;
  items[0] = resource(&pods);
  items[1] = resource(&replicasets);
  items[2] = resource(&nodes);
  items[3] = resource(&widgets);
  return 0;
}

static int teardown(void **state)
{
  size_t i;
  (void)state;
  kapi_openapi_cache_free();
  for (i = 0; i < registry.n; i++)
    kj_free(items[i].schema);
  return 0;
}

/* ---- requests ----------------------------------------------------------- */

static int request(kapi_server *srv, const char *method, const char *path,
                   kapi_response *resp)
{
  kapi_req r;
  memset(&r, 0, sizeof r);
  r.method = method;
  r.path = (char *)path;
  return kapi_openapi_handle(srv, &r, resp);
}

/* GETs path, checks the code and returns the parsed body. */
static kj *get_json(kapi_server *srv, const char *path, int code)
{
  kapi_response resp;
  kj *v = NULL;
  char err[128];

  memset(&resp, 0, sizeof resp);
  assert_int_equal(request(srv, "GET", path, &resp), 1);
  assert_int_equal(resp.code, code);
  assert_string_equal(resp.content_type, "application/json");
  assert_int_equal(kj_parse(resp.body, resp.len, &v, err, sizeof err), 0);
  kapi_response_reset(&resp);
  return v;
}

static void assert_json(const kj *v, const char *want)
{
  char *text = kj_dump(v, NULL);
  assert_non_null(text);
  assert_string_equal(text, want);
  free(text);
}

/* The member names of an object, as a JSON array. */
static void assert_keys(const kj *obj, const char *want)
{
  kj *keys = kj_array();
  size_t i;
  for (i = 0; i < kj_len(obj); i++)
    kj_append(keys, kj_string(kj_key_at(obj, i)));
  assert_json(keys, want);
  kj_free(keys);
}

#define NOT_FOUND                                                        \
  "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"          \
  "\"status\":\"Failure\",\"message\":\"the server could not find the "  \
  "requested resource\",\"reason\":\"NotFound\",\"code\":404}"

#define FIELD_VALIDATION                                                 \
  "{\"name\":\"fieldValidation\",\"in\":\"query\","                      \
  "\"schema\":{\"type\":\"string\"}}"

/* ---- the root ----------------------------------------------------------- */

static void sha512_hex(const char *body, size_t len, char out[129])
{
  unsigned char md[SHA512_DIGEST_LENGTH];
  size_t i;
  SHA512((const unsigned char *)body, len, md);
  for (i = 0; i < sizeof md; i++)
    sprintf(out + 2 * i, "%02X", md[i]);
}

static void test_root(void **state)
{
  kj *root = get_json(&server, "/openapi/v3", 200), *paths;
  size_t i;
  (void)state;

  paths = kj_get(root, "paths");
  assert_keys(paths, "[\"api/v1\",\"apis/apps/v1\","
                     "\"apis/widgets.example.com/v1\"]");
  for (i = 0; i < kj_len(paths); i++) {
    const char *key = kj_key_at(paths, i);
    const char *url = kj_get_str(kj_at(paths, i), "serverRelativeURL");
    char want[512], hash[129], doc_path[256];
    kapi_response resp;

    /* Served at the URL's path; the hash is that of the bytes. */
    snprintf(doc_path, sizeof doc_path, "/openapi/v3/%s", key);
    memset(&resp, 0, sizeof resp);
    assert_int_equal(request(&server, "GET", doc_path, &resp), 1);
    assert_int_equal(resp.code, 200);
    sha512_hex(resp.body, resp.len, hash);
    snprintf(want, sizeof want, "/openapi/v3/%s?hash=%s", key, hash);
    assert_string_equal(url, want);
    kapi_response_reset(&resp);
  }
  kj_free(root);
}

static void test_trailing_slashes(void **state)
{
  kj *a = get_json(&server, "/openapi/v3/", 200);
  kj *b = get_json(&server, "/openapi/v3", 200);
  kj *c = get_json(&server, "/openapi/v3/api/v1/", 200);
  (void)state;

  assert_true(kj_equal(a, b));
  assert_string_equal(kj_get_str(c, "openapi"), "3.0.0");
  kj_free(a);
  kj_free(b);
  kj_free(c);
}

/* ---- paths and operations ----------------------------------------------- */

static void test_core_paths(void **state)
{
  kj *doc = get_json(&server, "/openapi/v3/api/v1", 200), *paths;
  (void)state;

  paths = kj_get(doc, "paths");
  assert_keys(paths, "[\"/api/v1/namespaces/{namespace}/pods\","
                     "\"/api/v1/namespaces/{namespace}/pods/{name}\","
                     "\"/api/v1/pods\",\"/api/v1/nodes\","
                     "\"/api/v1/nodes/{name}\"]");
  assert_keys(kj_get(paths, "/api/v1/namespaces/{namespace}/pods/{name}"),
              "[\"get\",\"put\",\"delete\",\"patch\",\"parameters\"]");
  assert_keys(kj_get(paths, "/api/v1/namespaces/{namespace}/pods"),
              "[\"get\",\"post\",\"delete\",\"parameters\"]");
  assert_keys(kj_get(paths, "/api/v1/pods"), "[\"get\",\"parameters\"]");
  assert_keys(kj_get(paths, "/api/v1/nodes/{name}"),
              "[\"get\",\"put\",\"delete\",\"patch\",\"parameters\"]");
  assert_json(kj_get(kj_get(paths, "/api/v1/namespaces/{namespace}/pods/"
                                   "{name}"),
                     "parameters"),
              "[{\"name\":\"name\",\"in\":\"path\",\"description\":"
              "\"name of the Pod\",\"required\":true,\"schema\":{\"type\":"
              "\"string\"}},{\"name\":\"namespace\",\"in\":\"path\","
              "\"description\":\"object name and auth scope, such as for "
              "teams and projects\",\"required\":true,\"schema\":{\"type\":"
              "\"string\"}},{\"name\":\"pretty\",\"in\":\"query\","
              "\"schema\":{\"type\":\"string\"}}]");
  assert_json(kj_get(kj_get(paths, "/api/v1/nodes"), "parameters"),
              "[{\"name\":\"pretty\",\"in\":\"query\","
              "\"schema\":{\"type\":\"string\"}}]");
  kj_free(doc);
}

/* The whole PATCH of a pod: what kubectl's verifier reads, exactly. */
static void test_pod_patch_operation(void **state)
{
  kj *doc = get_json(&server, "/openapi/v3/api/v1", 200);
  (void)state;

  assert_json(
      kj_get(kj_get(kj_get(doc, "paths"),
                    "/api/v1/namespaces/{namespace}/pods/{name}"),
             "patch"),
      "{\"description\":\"partially update the specified Pod\","
      "\"operationId\":\"patchCoreV1NamespacedPod\",\"tags\":[\"core_v1\"],"
      "\"parameters\":[{\"name\":\"dryRun\",\"in\":\"query\",\"schema\":"
      "{\"type\":\"string\"}},{\"name\":\"fieldManager\",\"in\":\"query\","
      "\"schema\":{\"type\":\"string\"}}," FIELD_VALIDATION ","
      "{\"name\":\"force\",\"in\":\"query\",\"schema\":{\"type\":"
      "\"boolean\"}}],"
      "\"requestBody\":{\"content\":{"
      "\"application/apply-patch+yaml\":{\"schema\":{\"$ref\":"
      "\"#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch\"}},"
      "\"application/json-patch+json\":{\"schema\":{\"$ref\":"
      "\"#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch\"}},"
      "\"application/merge-patch+json\":{\"schema\":{\"$ref\":"
      "\"#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch\"}}"
      "},\"required\":true},"
      "\"responses\":{\"200\":{\"description\":\"OK\",\"content\":{"
      "\"application/json\":{\"schema\":{\"$ref\":"
      "\"#/components/schemas/io.k8s.api.core.v1.Pod\"}}}},"
      "\"201\":{\"description\":\"Created\",\"content\":{"
      "\"application/json\":{\"schema\":{\"$ref\":"
      "\"#/components/schemas/io.k8s.api.core.v1.Pod\"}}}},"
      "\"401\":{\"description\":\"Unauthorized\"}},"
      "\"x-kubernetes-action\":\"patch\","
      "\"x-kubernetes-group-version-kind\":{\"group\":\"\",\"version\":"
      "\"v1\",\"kind\":\"Pod\"}}");
  kj_free(doc);
}

/* Operation ids, actions and GVKs of every operation of a document. */
static void assert_operations(const char *doc_path, const char *want)
{
  kj *doc = get_json(&server, doc_path, 200), *paths = kj_get(doc, "paths");
  kj *got = kj_array();
  size_t i, j;

  for (i = 0; i < kj_len(paths); i++) {
    kj *item = kj_at(paths, i);
    for (j = 0; j < kj_len(item); j++) {
      kj *op = kj_at(item, j), *gvk;
      char line[256];
      if (!strcmp(kj_key_at(item, j), "parameters"))
        continue;
      gvk = kj_get(op, "x-kubernetes-group-version-kind");
      snprintf(line, sizeof line, "%s %s %s/%s/%s %s",
               kj_key_at(item, j), kj_get_str(op, "operationId"),
               kj_get_str(gvk, "group"), kj_get_str(gvk, "version"),
               kj_get_str(gvk, "kind"), kj_get_str(op, "x-kubernetes-action"));
      kj_append(got, kj_string(line));
    }
  }
  assert_json(got, want);
  kj_free(got);
  kj_free(doc);
}

static void test_operation_ids(void **state)
{
  (void)state;
  assert_operations(
      "/openapi/v3/api/v1",
      "[\"get listCoreV1NamespacedPod /v1/Pod list\","
      "\"post createCoreV1NamespacedPod /v1/Pod post\","
      "\"delete deleteCoreV1CollectionNamespacedPod /v1/Pod "
      "deletecollection\","
      "\"get readCoreV1NamespacedPod /v1/Pod get\","
      "\"put replaceCoreV1NamespacedPod /v1/Pod put\","
      "\"delete deleteCoreV1NamespacedPod /v1/Pod delete\","
      "\"patch patchCoreV1NamespacedPod /v1/Pod patch\","
      "\"get listCoreV1PodForAllNamespaces /v1/Pod list\","
      "\"get listCoreV1Node /v1/Node list\","
      "\"post createCoreV1Node /v1/Node post\","
      "\"delete deleteCoreV1CollectionNode /v1/Node deletecollection\","
      "\"get readCoreV1Node /v1/Node get\","
      "\"put replaceCoreV1Node /v1/Node put\","
      "\"delete deleteCoreV1Node /v1/Node delete\","
      "\"patch patchCoreV1Node /v1/Node patch\"]");
  assert_operations(
      "/openapi/v3/apis/widgets.example.com/v1",
      "[\"get listWidgetsExampleComV1NamespacedWidget "
      "widgets.example.com/v1/Widget list\","
      "\"post createWidgetsExampleComV1NamespacedWidget "
      "widgets.example.com/v1/Widget post\","
      "\"delete deleteWidgetsExampleComV1CollectionNamespacedWidget "
      "widgets.example.com/v1/Widget deletecollection\","
      "\"get readWidgetsExampleComV1NamespacedWidget "
      "widgets.example.com/v1/Widget get\","
      "\"put replaceWidgetsExampleComV1NamespacedWidget "
      "widgets.example.com/v1/Widget put\","
      "\"delete deleteWidgetsExampleComV1NamespacedWidget "
      "widgets.example.com/v1/Widget delete\","
      "\"patch patchWidgetsExampleComV1NamespacedWidget "
      "widgets.example.com/v1/Widget patch\","
      "\"get listWidgetsExampleComV1WidgetForAllNamespaces "
      "widgets.example.com/v1/Widget list\"]");
}

/* Every operation that decodes a body announces fieldValidation. */
static void test_write_operations_take_field_validation(void **state)
{
  kj *doc = get_json(&server, "/openapi/v3/apis/apps/v1", 200);
  kj *paths = kj_get(doc, "paths");
  kj *item = kj_get(paths, "/apis/apps/v1/namespaces/{namespace}/"
                           "replicasets/{name}");
  kj *coll = kj_get(paths, "/apis/apps/v1/namespaces/{namespace}/"
                           "replicasets");
  (void)state;

  assert_json(kj_at(kj_get(kj_get(item, "put"), "parameters"), 2),
              FIELD_VALIDATION);
  assert_json(kj_at(kj_get(kj_get(item, "patch"), "parameters"), 2),
              FIELD_VALIDATION);
  assert_json(kj_at(kj_get(kj_get(coll, "post"), "parameters"), 2),
              FIELD_VALIDATION);
  assert_json(kj_get(kj_get(item, "patch"), "x-kubernetes-group-version-kind"),
              "{\"group\":\"apps\",\"version\":\"v1\","
              "\"kind\":\"ReplicaSet\"}");
  assert_json(kj_get(kj_get(coll, "post"), "requestBody"),
              "{\"content\":{\"*/*\":{\"schema\":{\"$ref\":\"#/components/"
              "schemas/io.k8s.api.apps.v1.ReplicaSet\"}}},\"required\":true}");
  assert_json(kj_get(kj_get(coll, "get"), "parameters"),
              "[{\"name\":\"allowWatchBookmarks\",\"in\":\"query\","
              "\"schema\":{\"type\":\"boolean\"}},{\"name\":\"continue\","
              "\"in\":\"query\",\"schema\":{\"type\":\"string\"}},"
              "{\"name\":\"fieldSelector\",\"in\":\"query\",\"schema\":"
              "{\"type\":\"string\"}},{\"name\":\"labelSelector\",\"in\":"
              "\"query\",\"schema\":{\"type\":\"string\"}},{\"name\":"
              "\"limit\",\"in\":\"query\",\"schema\":{\"type\":\"integer\"}},"
              "{\"name\":\"resourceVersion\",\"in\":\"query\",\"schema\":"
              "{\"type\":\"string\"}},{\"name\":\"resourceVersionMatch\","
              "\"in\":\"query\",\"schema\":{\"type\":\"string\"}},"
              "{\"name\":\"sendInitialEvents\",\"in\":\"query\",\"schema\":"
              "{\"type\":\"boolean\"}},{\"name\":\"timeoutSeconds\",\"in\":"
              "\"query\",\"schema\":{\"type\":\"integer\"}},{\"name\":"
              "\"watch\",\"in\":\"query\",\"schema\":{\"type\":\"boolean\"}}]");
  assert_null(kj_get(kj_get(item, "get"), "parameters"));
  kj_free(doc);
}

/*
 * kubectl's query_param_verifier_v3: in the GV document, some PATCH
 * operation whose x-kubernetes-group-version-kind is the kind lists a
 * query parameter named fieldValidation.
 */
static int kubectl_supports_field_validation(const char *doc_path,
                                             const char *group,
                                             const char *version,
                                             const char *kind)
{
  kj *doc = get_json(&server, doc_path, 200), *paths = kj_get(doc, "paths");
  size_t i, j;
  int found = 0;

  for (i = 0; i < kj_len(paths) && !found; i++) {
    kj *op = kj_get(kj_at(paths, i), "patch");
    kj *gvk = kj_get(op, "x-kubernetes-group-version-kind");
    kj *params = kj_get(op, "parameters");
    if (!op || strcmp(kj_get_str(gvk, "group"), group) ||
        strcmp(kj_get_str(gvk, "version"), version) ||
        strcmp(kj_get_str(gvk, "kind"), kind))
      continue;
    for (j = 0; j < kj_len(params); j++)
      if (!strcmp(kj_get_str(kj_at(params, j), "name"), "fieldValidation") &&
          !strcmp(kj_get_str(kj_at(params, j), "in"), "query"))
        found = 1;
  }
  kj_free(doc);
  return found;
}

static void test_kubectl_validation_check(void **state)
{
  (void)state;
  assert_true(
      kubectl_supports_field_validation("/openapi/v3/api/v1", "", "v1", "Pod"));
  assert_true(kubectl_supports_field_validation("/openapi/v3/api/v1", "",
                                                "v1", "Node"));
  assert_true(kubectl_supports_field_validation(
      "/openapi/v3/apis/apps/v1", "apps", "v1", "ReplicaSet"));
  assert_true(kubectl_supports_field_validation(
      "/openapi/v3/apis/widgets.example.com/v1", "widgets.example.com", "v1",
      "Widget"));
  assert_false(kubectl_supports_field_validation(
      "/openapi/v3/apis/apps/v1", "apps", "v1", "Pod"));
}

/* ---- schemas ------------------------------------------------------------ */

#define REF(name) "{\"$ref\":\"#/components/schemas/" name "\"}"
#define TYPE_AND_META                                                     \
  "\"apiVersion\":{\"type\":\"string\",\"description\":\"The versioned "  \
  "schema of this representation of an object.\"},"                      \
  "\"kind\":{\"type\":\"string\",\"description\":\"The REST resource "    \
  "this object represents.\"},"

static void test_pod_schema(void **state)
{
  kj *doc = get_json(&server, "/openapi/v3/api/v1", 200);
  kj *schemas = kj_get(kj_get(doc, "components"), "schemas");
  (void)state;

  assert_keys(schemas,
              "[\"io.k8s.api.core.v1.Pod\",\"io.k8s.api.core.v1.PodList\","
              "\"io.k8s.api.core.v1.Node\",\"io.k8s.api.core.v1.NodeList\","
              "\"io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta\","
              "\"io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta\","
              "\"io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions\","
              "\"io.k8s.apimachinery.pkg.apis.meta.v1.Status\","
              "\"io.k8s.apimachinery.pkg.apis.meta.v1.Patch\","
              "\"io.k8s.apimachinery.pkg.api.resource.Quantity\","
              "\"io.k8s.apimachinery.pkg.util.intstr.IntOrString\"]");
  assert_json(
      kj_get(schemas, "io.k8s.api.core.v1.Pod"),
      "{\"type\":\"object\",\"properties\":{" TYPE_AND_META
      "\"metadata\":" REF("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")
      ",\"spec\":{\"type\":\"object\",\"properties\":{"
      "\"nodeName\":{\"type\":\"string\"},"
      "\"containers\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
      "\"properties\":{\"name\":{\"type\":\"string\"},"
      "\"ports\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
      "\"properties\":{\"containerPort\":{\"type\":\"integer\"},"
      "\"targetPort\":" REF("io.k8s.apimachinery.pkg.util.intstr."
                            "IntOrString") "}}},"
      "\"resources\":{\"type\":\"object\",\"properties\":{\"cpu\":"
      REF("io.k8s.apimachinery.pkg.api.resource.Quantity") "}},"
      "\"env\":{\"type\":\"object\","
      "\"x-kubernetes-preserve-unknown-fields\":true}}}},"
      "\"nodeSelector\":{\"type\":\"object\",\"additionalProperties\":"
      "{\"type\":\"string\"}},"
      "\"hostNetwork\":{\"type\":\"boolean\"},"
      "\"weight\":{\"type\":\"number\"}}}},"
      "\"x-kubernetes-group-version-kind\":[{\"group\":\"\",\"version\":"
      "\"v1\",\"kind\":\"Pod\"}]}");
  assert_json(
      kj_get(schemas, "io.k8s.api.core.v1.PodList"),
      "{\"type\":\"object\",\"properties\":{" TYPE_AND_META
      "\"metadata\":" REF("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")
      ",\"items\":{\"type\":\"array\",\"items\":"
      REF("io.k8s.api.core.v1.Pod") "}},"
      "\"description\":\"PodList is a list of Pod.\","
      "\"required\":[\"items\"],"
      "\"x-kubernetes-group-version-kind\":[{\"group\":\"\",\"version\":"
      "\"v1\",\"kind\":\"PodList\"}]}");
  assert_json(kj_get(schemas, "io.k8s.apimachinery.pkg.api.resource.Quantity"),
              "{\"description\":\"A fixed-point number: 128974848, "
              "\\\"129e6\\\", \\\"129M\\\", \\\"123Mi\\\", \\\"100m\\\".\","
              "\"x-kubernetes-int-or-string\":true,\"anyOf\":[{\"type\":"
              "\"integer\"},{\"type\":\"string\"}]}");
  assert_true(kj_is_true(
      kj_get(kj_get(schemas, "io.k8s.apimachinery.pkg.util.intstr."
                             "IntOrString"),
             "x-kubernetes-int-or-string")));
  kj_free(doc);
}

static void test_schema_annotations(void **state)
{
  kj *doc = get_json(&server, "/openapi/v3/api/v1", 200);
  kj *spec = kj_get(kj_get(kj_get(kj_get(kj_get(doc, "components"),
                                         "schemas"),
                                  "io.k8s.api.core.v1.Node"),
                           "properties"),
                    "spec");
  (void)state;

  assert_json(
      spec,
      "{\"type\":\"object\",\"properties\":{"
      "\"unschedulable\":{\"type\":\"boolean\"},"
      "\"policy\":{\"type\":\"string\",\"enum\":[\"Always\",\"OnFailure\","
      "\"Never\"]},"
      "\"taints\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
      "\"properties\":{\"key\":{\"type\":\"string\"}},"
      "\"required\":[\"key\"]},"
      "\"x-kubernetes-patch-merge-key\":\"key\","
      "\"x-kubernetes-patch-strategy\":\"merge\","
      "\"x-kubernetes-list-type\":\"map\","
      "\"x-kubernetes-list-map-keys\":[\"key\"]},"
      "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
      "\"properties\":{\"k\":{\"type\":\"string\"}}},"
      "\"x-kubernetes-list-type\":\"atomic\"}}}");
  kj_free(doc);
}

static void test_object_meta_schema(void **state)
{
  kj *doc = get_json(&server, "/openapi/v3/api/v1", 200);
  kj *meta = kj_get(kj_get(kj_get(doc, "components"), "schemas"),
                    "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  kj *props = kj_get(meta, "properties");
  (void)state;

  assert_string_equal(kj_get_str(meta, "type"), "object");
  assert_keys(props, "[\"name\",\"generateName\",\"namespace\",\"selfLink\","
                     "\"uid\",\"resourceVersion\",\"generation\","
                     "\"creationTimestamp\",\"deletionTimestamp\","
                     "\"deletionGracePeriodSeconds\",\"labels\","
                     "\"annotations\",\"ownerReferences\",\"finalizers\","
                     "\"managedFields\"]");
  assert_json(kj_get(props, "labels"),
              "{\"type\":\"object\",\"additionalProperties\":{\"type\":"
              "\"string\"}}");
  assert_json(kj_get(props, "finalizers"),
              "{\"type\":\"array\",\"items\":{\"type\":\"string\"}}");
  assert_json(kj_get(kj_get(props, "ownerReferences"), "items"),
              "{\"type\":\"object\",\"properties\":{\"apiVersion\":{\"type\":"
              "\"string\"},\"kind\":{\"type\":\"string\"},\"name\":{\"type\":"
              "\"string\"},\"uid\":{\"type\":\"string\"},\"controller\":"
              "{\"type\":\"boolean\"},\"blockOwnerDeletion\":{\"type\":"
              "\"boolean\"}}}");
  kj_free(doc);
}

/* Group names outside k8s.io are reversed, as upstream does for CRDs;
 * a resource without a schema is free-form below its metadata. */
static void test_schemaless_custom_group(void **state)
{
  kj *doc = get_json(&server, "/openapi/v3/apis/widgets.example.com/v1", 200);
  kj *schemas = kj_get(kj_get(doc, "components"), "schemas");
  (void)state;

  assert_json(kj_get(schemas, "com.example.widgets.v1.Widget"),
              "{\"type\":\"object\",\"properties\":{" TYPE_AND_META
              "\"metadata\":{\"$ref\":\"#/components/schemas/io.k8s."
              "apimachinery.pkg.apis.meta.v1.ObjectMeta\",\"description\":"
              "\"Standard object's metadata.\"}},"
              "\"x-kubernetes-preserve-unknown-fields\":true,"
              "\"x-kubernetes-group-version-kind\":[{\"group\":"
              "\"widgets.example.com\",\"version\":\"v1\",\"kind\":"
              "\"Widget\"}]}");
  assert_non_null(kj_get(schemas, "com.example.widgets.v1.WidgetList"));
  assert_json(kj_get(kj_get(kj_get(kj_get(doc, "paths"),
                                   "/apis/widgets.example.com/v1/namespaces/"
                                   "{namespace}/widgets/{name}"),
                            "get"),
                     "tags"),
              "[\"widgetsExampleCom_v1\"]");
  kj_free(doc);
}

/* ---- errors, routing, cache --------------------------------------------- */

static void assert_not_found(const char *path)
{
  kapi_response resp;
  memset(&resp, 0, sizeof resp);
  assert_int_equal(request(&server, "GET", path, &resp), 1);
  assert_int_equal(resp.code, 404);
  assert_string_equal(resp.body, NOT_FOUND);
  kapi_response_reset(&resp);
}

static void test_not_found(void **state)
{
  (void)state;
  assert_not_found("/openapi/v2");
  assert_not_found("/openapi");
  assert_not_found("/openapi/v3/apis/nope/v1");
  assert_not_found("/openapi/v3/api/v2");
  assert_not_found("/openapi/v3/apis/apps");
  assert_not_found("/openapi/v3/apis/apps/v1/extra");
}

static void test_not_openapi(void **state)
{
  kapi_response resp;
  (void)state;

  memset(&resp, 0, sizeof resp);
  assert_int_equal(request(&server, "GET", "/openapix", &resp), 0);
  assert_int_equal(request(&server, "GET", "/api/v1", &resp), 0);
  assert_int_equal(request(&server, "POST", "/openapi/v3", &resp), 0);
  assert_null(resp.body);
  assert_int_equal(request(&server, "HEAD", "/openapi/v3", &resp), 1);
  assert_int_equal(resp.code, 200);
  kapi_response_reset(&resp);
}

static void test_cache_follows_registry(void **state)
{
  kapi_resource one[1];
  kapi_registry small = {one, 1};
  kapi_server other = {.registry = &small};
  kj *a, *b;
  (void)state;

  one[0] = resource(&replicasets);
  a = get_json(&other, "/openapi/v3", 200);
  assert_keys(kj_get(a, "paths"), "[\"apis/apps/v1\"]");
  assert_not_found("/openapi/v3/apis/nope/v1"); /* back to `server` */
  b = get_json(&server, "/openapi/v3", 200);
  assert_int_equal(kj_len(kj_get(b, "paths")), 3);
  kj_free(a);
  kj_free(one[0].schema);
  kapi_openapi_cache_free();
  a = get_json(&server, "/openapi/v3", 200);
  assert_true(kj_equal(a, b)); /* rebuilt: same bytes, same hashes */
  kj_free(a);
  kj_free(b);
}

#define THREADS 8

static void *fetch_many(void *arg)
{
  char **out = arg;
  int i;
  for (i = 0; i < 20; i++) {
    kapi_response resp;
    memset(&resp, 0, sizeof resp);
    if (request(&server, "GET", "/openapi/v3/api/v1", &resp) != 1 ||
        resp.code != 200) {
      kapi_response_reset(&resp);
      return NULL;
    }
    free(*out);
    *out = resp.body;
    resp.body = NULL;
    kapi_response_reset(&resp);
  }
  return arg;
}

static void test_concurrent_first_use(void **state)
{
  pthread_t t[THREADS];
  char *bodies[THREADS] = {0};
  void *ret;
  int i;
  (void)state;

  kapi_openapi_cache_free();
  for (i = 0; i < THREADS; i++)
    assert_int_equal(pthread_create(&t[i], NULL, fetch_many, &bodies[i]), 0);
  for (i = 0; i < THREADS; i++) {
    assert_int_equal(pthread_join(t[i], &ret), 0);
    assert_non_null(ret);
  }
  for (i = 0; i < THREADS; i++) {
    assert_non_null(bodies[i]);
    assert_string_equal(bodies[i], bodies[0]);
  }
  for (i = 0; i < THREADS; i++)
    free(bodies[i]);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_root),
      cmocka_unit_test(test_trailing_slashes),
      cmocka_unit_test(test_core_paths),
      cmocka_unit_test(test_pod_patch_operation),
      cmocka_unit_test(test_operation_ids),
      cmocka_unit_test(test_write_operations_take_field_validation),
      cmocka_unit_test(test_kubectl_validation_check),
      cmocka_unit_test(test_pod_schema),
      cmocka_unit_test(test_schema_annotations),
      cmocka_unit_test(test_object_meta_schema),
      cmocka_unit_test(test_schemaless_custom_group),
      cmocka_unit_test(test_not_found),
      cmocka_unit_test(test_not_openapi),
      cmocka_unit_test(test_cache_follows_registry),
      cmocka_unit_test(test_concurrent_first_use),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
