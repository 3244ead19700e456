/*
 * test_discovery.c - /api, /apis and the resource lists, in the legacy
 * and the aggregated (apidiscovery.k8s.io v2, v2beta1) forms that
 * kubectl reads (contract section 4), from a registry built by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "discovery.h"
#include "json.h"
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

static const char *const pod_short[] = {"po", NULL};
static const char *const node_short[] = {"no", NULL};
static const char *const rs_short[] = {"rs", NULL};
static const char *const all[] = {"all", NULL};

static const kapi_resource_ops pods = {
    .size = sizeof(kapi_resource_ops), .group = "", .version = "v1",
    .resource = "pods", .kind = "Pod", .singular = "pod",
    .short_names = pod_short, .categories = all, .namespaced = 1,
};
static const kapi_resource_ops nodes = {
    .size = sizeof(kapi_resource_ops), .group = "", .version = "v1",
    .resource = "nodes", .kind = "Node", .singular = "node",
    .short_names = node_short,
};
static const kapi_resource_ops replicasets = {
    .size = sizeof(kapi_resource_ops), .group = "apps", .version = "v1",
    .resource = "replicasets", .kind = "ReplicaSet",
    .singular = "replicaset", .short_names = rs_short, .categories = all,
    .namespaced = 1,
};
/* No singular: derived from the kind.  Beta registered before GA. */
static const kapi_resource_ops widgets_beta = {
    .size = sizeof(kapi_resource_ops), .group = "widgets.example.com",
    .version = "v1beta1", .resource = "widgets", .kind = "Widget",
};
static const kapi_resource_ops widgets = {
    .size = sizeof(kapi_resource_ops), .group = "widgets.example.com",
    .version = "v1", .resource = "widgets", .kind = "Widget",
    .namespaced = 1,
};

static kapi_resource resource(const kapi_resource_ops *ops)
{
  kapi_resource r = {.ops = ops, .group = ops->group};
  return r;
}

/* pods after nodes in registry order: lists must sort them. */
static kapi_resource items[5];
static kapi_registry registry = {items, 5};
static kapi_server server = {.registry = &registry, .port = 6443};

static int setup(void **state)
{
  (void)state;
  items[0] = resource(&pods);
  items[1] = resource(&replicasets);
  items[2] = resource(&widgets_beta);
  items[3] = resource(&nodes);
  items[4] = resource(&widgets);
  return 0;
}

/* ---- requests ----------------------------------------------------------- */

#define KUBECTL_ACCEPT                                                   \
  "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList," \
  "application/json;g=apidiscovery.k8s.io;v=v2beta1;"                    \
  "as=APIGroupDiscoveryList,application/json"
#define V2BETA1_ACCEPT                                                    \
  "application/json;g=apidiscovery.k8s.io;v=v2beta1;"                    \
  "as=APIGroupDiscoveryList,application/json"

struct fake_conn {
  const char *accept;
  const char *host;
};

static const char *fake_header(void *conn, const char *name)
{
  struct fake_conn *c = conn;
  if (!strcasecmp(name, "Accept"))
    return c->accept;
  if (!strcasecmp(name, "Host"))
    return c->host;
  return NULL;
}

static int request(kapi_server *srv, const char *method, const char *path,
                   const char *accept, const char *host,
                   kapi_response *resp)
{
  struct fake_conn c = {accept, host};
  kapi_req r;

  memset(&r, 0, sizeof r);
  r.method = method;
  r.path = (char *)path;
  r.conn = &c;
  r.header = fake_header;
  return kapi_discovery_handle(srv, &r, resp);
}

/* GETs path and checks the code, content type and exact body. */
static void assert_get(const char *path, const char *accept, int code,
                       const char *content_type, const char *body)
{
  kapi_response resp;

  memset(&resp, 0, sizeof resp);
  assert_int_equal(
      request(&server, "GET", path, accept, "127.0.0.1:6443", &resp), 1);
  assert_int_equal(resp.code, code);
  assert_string_equal(resp.content_type, content_type);
  assert_non_null(resp.body);
  assert_int_equal(strlen(resp.body), resp.len);
  assert_string_equal(resp.body, body);
  kapi_response_reset(&resp);
}

#define JSON "application/json"
#define AGG_V2                                                            \
  "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
#define AGG_V2BETA1                                                       \
  "application/json;g=apidiscovery.k8s.io;v=v2beta1;"                    \
  "as=APIGroupDiscoveryList"

#define VERBS                                                            \
  "[\"create\",\"delete\",\"deletecollection\",\"get\",\"list\","        \
  "\"patch\",\"update\",\"watch\"]"

#define NOT_FOUND                                                        \
  "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"          \
  "\"status\":\"Failure\",\"message\":\"the server could not find the "  \
  "requested resource\",\"reason\":\"NotFound\",\"code\":404}"

/* ---- legacy ------------------------------------------------------------- */

static void test_api_versions(void **state)
{
  (void)state;
  assert_get("/api", "application/json, */*", 200, JSON,
             "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],"
             "\"serverAddressByClientCIDRs\":[{\"clientCIDR\":\"0.0.0.0/0\","
             "\"serverAddress\":\"127.0.0.1:6443\"}]}");
}

static void test_api_versions_without_host(void **state)
{
  kapi_response resp;
  (void)state;

  memset(&resp, 0, sizeof resp);
  server.port = 7443;
  assert_int_equal(request(&server, "GET", "/api/", NULL, NULL, &resp), 1);
  server.port = 6443;
  assert_string_equal(resp.body,
                      "{\"kind\":\"APIVersions\",\"versions\":[\"v1\"],"
                      "\"serverAddressByClientCIDRs\":[{\"clientCIDR\":"
                      "\"0.0.0.0/0\",\"serverAddress\":\"127.0.0.1:7443\"}]}");
  kapi_response_reset(&resp);
}

#define APPS_GROUP                                                       \
  "\"name\":\"apps\",\"versions\":[{\"groupVersion\":\"apps/v1\","       \
  "\"version\":\"v1\"}],\"preferredVersion\":{\"groupVersion\":"        \
  "\"apps/v1\",\"version\":\"v1\"}"

/* The access reviews, served by the core, follow the registry's groups. */
#define REVIEW_GROUPS                                                      \
  "{\"name\":\"authentication.k8s.io\",\"versions\":[{\"groupVersion\":"  \
  "\"authentication.k8s.io/v1\",\"version\":\"v1\"}],\"preferredVersion\":" \
  "{\"groupVersion\":\"authentication.k8s.io/v1\",\"version\":\"v1\"}},"    \
  "{\"name\":\"authorization.k8s.io\",\"versions\":[{\"groupVersion\":"   \
  "\"authorization.k8s.io/v1\",\"version\":\"v1\"}],\"preferredVersion\":" \
  "{\"groupVersion\":\"authorization.k8s.io/v1\",\"version\":\"v1\"}}"

static void test_api_group_list(void **state)
{
  (void)state;
  assert_get(
      "/apis", "application/json", 200, JSON,
      "{\"kind\":\"APIGroupList\",\"apiVersion\":\"v1\",\"groups\":["
      "{" APPS_GROUP "},"
      "{\"name\":\"widgets.example.com\",\"versions\":["
      "{\"groupVersion\":\"widgets.example.com/v1\",\"version\":\"v1\"},"
      "{\"groupVersion\":\"widgets.example.com/v1beta1\","
      "\"version\":\"v1beta1\"}],"
      "\"preferredVersion\":{\"groupVersion\":\"widgets.example.com/v1\","
      "\"version\":\"v1\"}}," REVIEW_GROUPS "]}");
}

static void test_api_group(void **state)
{
  (void)state;
  assert_get("/apis/apps", NULL, 200, JSON,
             "{\"kind\":\"APIGroup\",\"apiVersion\":\"v1\"," APPS_GROUP "}");
}

static void test_core_resource_list(void **state)
{
  (void)state;
  assert_get("/api/v1", "application/json, */*", 200, JSON,
             "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\","
             "\"groupVersion\":\"v1\",\"resources\":["
             "{\"name\":\"nodes\",\"singularName\":\"node\","
             "\"namespaced\":false,\"kind\":\"Node\",\"verbs\":" VERBS ","
             "\"shortNames\":[\"no\"]},"
             "{\"name\":\"pods\",\"singularName\":\"pod\","
             "\"namespaced\":true,\"kind\":\"Pod\",\"verbs\":" VERBS ","
             "\"shortNames\":[\"po\"],\"categories\":[\"all\"]}]}");
}

static void test_group_resource_list(void **state)
{
  (void)state;
  assert_get("/apis/apps/v1", KUBECTL_ACCEPT, 200, JSON,
             "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\","
             "\"groupVersion\":\"apps/v1\",\"resources\":["
             "{\"name\":\"replicasets\",\"singularName\":\"replicaset\","
             "\"namespaced\":true,\"kind\":\"ReplicaSet\",\"verbs\":" VERBS
             ",\"shortNames\":[\"rs\"],\"categories\":[\"all\"]}]}");
  assert_get("/apis/widgets.example.com/v1beta1/", NULL, 200, JSON,
             "{\"kind\":\"APIResourceList\",\"apiVersion\":\"v1\","
             "\"groupVersion\":\"widgets.example.com/v1beta1\","
             "\"resources\":[{\"name\":\"widgets\",\"singularName\":"
             "\"widget\",\"namespaced\":false,\"kind\":\"Widget\","
             "\"verbs\":" VERBS "}]}");
}

/* ---- aggregated --------------------------------------------------------- */

#define CORE_AGGREGATED                                                   \
  "{\"metadata\":{\"creationTimestamp\":null},\"versions\":[{"           \
  "\"version\":\"v1\",\"resources\":["                                   \
  "{\"resource\":\"nodes\",\"responseKind\":{\"group\":\"\","            \
  "\"version\":\"v1\",\"kind\":\"Node\"},\"scope\":\"Cluster\","         \
  "\"singularResource\":\"node\",\"verbs\":" VERBS ","                   \
  "\"shortNames\":[\"no\"]},"                                            \
  "{\"resource\":\"pods\",\"responseKind\":{\"group\":\"\","             \
  "\"version\":\"v1\",\"kind\":\"Pod\"},\"scope\":\"Namespaced\","       \
  "\"singularResource\":\"pod\",\"verbs\":" VERBS ","                    \
  "\"shortNames\":[\"po\"],\"categories\":[\"all\"]}],"                  \
  "\"freshness\":\"Current\"}]}"

static void test_aggregated_api(void **state)
{
  (void)state;
  assert_get("/api", KUBECTL_ACCEPT, 200, AGG_V2,
             "{\"kind\":\"APIGroupDiscoveryList\","
             "\"apiVersion\":\"apidiscovery.k8s.io/v2\",\"metadata\":{},"
             "\"items\":[" CORE_AGGREGATED "]}");
}

#define GROUPS_AGGREGATED                                                 \
  "{\"metadata\":{\"name\":\"apps\",\"creationTimestamp\":null},"        \
  "\"versions\":[{\"version\":\"v1\",\"resources\":["                    \
  "{\"resource\":\"replicasets\",\"responseKind\":{\"group\":\"apps\","  \
  "\"version\":\"v1\",\"kind\":\"ReplicaSet\"},\"scope\":\"Namespaced\"," \
  "\"singularResource\":\"replicaset\",\"verbs\":" VERBS ","             \
  "\"shortNames\":[\"rs\"],\"categories\":[\"all\"]}],"                  \
  "\"freshness\":\"Current\"}]},"                                        \
  "{\"metadata\":{\"name\":\"widgets.example.com\","                     \
  "\"creationTimestamp\":null},\"versions\":["                           \
  "{\"version\":\"v1\",\"resources\":[{\"resource\":\"widgets\","         \
  "\"responseKind\":{\"group\":\"widgets.example.com\",\"version\":"     \
  "\"v1\",\"kind\":\"Widget\"},\"scope\":\"Namespaced\","                \
  "\"singularResource\":\"widget\",\"verbs\":" VERBS "}],"               \
  "\"freshness\":\"Current\"},"                                          \
  "{\"version\":\"v1beta1\",\"resources\":[{\"resource\":\"widgets\","    \
  "\"responseKind\":{\"group\":\"widgets.example.com\",\"version\":"     \
  "\"v1beta1\",\"kind\":\"Widget\"},\"scope\":\"Cluster\","              \
  "\"singularResource\":\"widget\",\"verbs\":" VERBS "}],"               \
  "\"freshness\":\"Current\"}]}," REVIEWS_AGGREGATED

#define REVIEW_AGG(res, kind, sing)                                        \
  "{\"resource\":\"" res "\",\"responseKind\":{\"group\":\"" GRP "\","     \
  "\"version\":\"v1\",\"kind\":\"" kind "\"},\"scope\":\"" SCOPE "\","      \
  "\"singularResource\":\"" sing "\",\"verbs\":[\"create\"]}"
#define REVIEWS_AGGREGATED                                                 \
  "{\"metadata\":{\"name\":\"authentication.k8s.io\","                     \
  "\"creationTimestamp\":null},\"versions\":[{\"version\":\"v1\","          \
  "\"resources\":[" AUTHN_REVIEWS "],\"freshness\":\"Current\"}]},"          \
  "{\"metadata\":{\"name\":\"authorization.k8s.io\","                      \
  "\"creationTimestamp\":null},\"versions\":[{\"version\":\"v1\","          \
  "\"resources\":[" AUTHZ_REVIEWS "],\"freshness\":\"Current\"}]}"
#define GRP "authentication.k8s.io"
#define SCOPE "Cluster"
#define AUTHN_REVIEWS                                                      \
  REVIEW_AGG("selfsubjectreviews", "SelfSubjectReview",                    \
             "selfsubjectreview") ","                                      \
  REVIEW_AGG("tokenreviews", "TokenReview", "tokenreview")
#define AUTHZ_REVIEWS                                                      \
  "{\"resource\":\"localsubjectaccessreviews\",\"responseKind\":"          \
  "{\"group\":\"authorization.k8s.io\",\"version\":\"v1\",\"kind\":"       \
  "\"LocalSubjectAccessReview\"},\"scope\":\"Namespaced\","                 \
  "\"singularResource\":\"localsubjectaccessreview\",\"verbs\":[\"create\"]}," \
  AUTHZ_CLUSTER("selfsubjectaccessreviews", "SelfSubjectAccessReview",      \
                "selfsubjectaccessreview") ","                             \
  AUTHZ_CLUSTER("selfsubjectrulesreviews", "SelfSubjectRulesReview",        \
                "selfsubjectrulesreview") ","                              \
  AUTHZ_CLUSTER("subjectaccessreviews", "SubjectAccessReview",              \
                "subjectaccessreview")
#define AUTHZ_CLUSTER(res, kind, sing)                                     \
  "{\"resource\":\"" res "\",\"responseKind\":{\"group\":"                 \
  "\"authorization.k8s.io\",\"version\":\"v1\",\"kind\":\"" kind "\"},"     \
  "\"scope\":\"Cluster\",\"singularResource\":\"" sing "\","                \
  "\"verbs\":[\"create\"]}"

static void test_aggregated_apis(void **state)
{
  (void)state;
  assert_get("/apis", KUBECTL_ACCEPT, 200, AGG_V2,
             "{\"kind\":\"APIGroupDiscoveryList\","
             "\"apiVersion\":\"apidiscovery.k8s.io/v2\",\"metadata\":{},"
             "\"items\":[" GROUPS_AGGREGATED "]}");
}

static void test_aggregated_v2beta1(void **state)
{
  (void)state;
  assert_get("/apis", V2BETA1_ACCEPT, 200, AGG_V2BETA1,
             "{\"kind\":\"APIGroupDiscoveryList\","
             "\"apiVersion\":\"apidiscovery.k8s.io/v2beta1\","
             "\"metadata\":{},\"items\":[" GROUPS_AGGREGATED "]}");
  assert_get("/api", " application/json ; g=apidiscovery.k8s.io ; "
                     "v=v2beta1 ; as=APIGroupDiscoveryList",
             200, AGG_V2BETA1,
             "{\"kind\":\"APIGroupDiscoveryList\","
             "\"apiVersion\":\"apidiscovery.k8s.io/v2beta1\","
             "\"metadata\":{},\"items\":[" CORE_AGGREGATED "]}");
}

/* The first range the client lists that we serve decides. */
static void test_accept_order(void **state)
{
  kapi_response resp;
  static const struct {
    const char *accept;
    const char *content_type;
  } cases[] = {
      {"application/json," AGG_V2, JSON},
      {"*/*," AGG_V2, JSON},
      {AGG_V2 ",application/json", AGG_V2},
      {"application/json;g=apidiscovery.k8s.io;v=v3;"
       "as=APIGroupDiscoveryList," AGG_V2BETA1,
       AGG_V2BETA1},
      {"application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;"
       "as=APIGroupDiscoveryList," AGG_V2,
       AGG_V2},
      {"application/json;as=Table;v=v1;g=meta.k8s.io", JSON},
      {"text/html", JSON},
      {"", JSON},
  };
  size_t i;
  (void)state;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    memset(&resp, 0, sizeof resp);
    assert_int_equal(request(&server, "GET", "/apis", cases[i].accept,
                             "h:1", &resp),
                     1);
    assert_string_equal(resp.content_type, cases[i].content_type);
    kapi_response_reset(&resp);
  }
}

/* ---- what is not discovery ---------------------------------------------- */

static void test_not_found(void **state)
{
  (void)state;
  assert_get("/api/v2", NULL, 404, JSON, NOT_FOUND);
  assert_get("/apis/nope", NULL, 404, JSON, NOT_FOUND);
  assert_get("/apis/nope/v1", NULL, 404, JSON, NOT_FOUND);
  assert_get("/apis/apps/v2", NULL, 404, JSON, NOT_FOUND);
  assert_get("/apis/apps/v1beta1", KUBECTL_ACCEPT, 404, JSON, NOT_FOUND);
}

static void test_not_discovery(void **state)
{
  static const char *const paths[] = {
      "/api/v1/pods", "/api/v1/namespaces/default/pods",
      "/apis/apps/v1/replicasets", "/healthz", "/version", "/",
      "/apix", "/openapi/v3", "/apis/apps/v1/namespaces/x/replicasets/y",
  };
  kapi_response resp;
  size_t i;
  (void)state;

  memset(&resp, 0, sizeof resp);
  for (i = 0; i < sizeof paths / sizeof paths[0]; i++)
    assert_int_equal(
        request(&server, "GET", paths[i], KUBECTL_ACCEPT, "h:1", &resp), 0);
  assert_int_equal(request(&server, "POST", "/api", NULL, "h:1", &resp), 0);
  assert_int_equal(request(&server, "DELETE", "/apis/apps", NULL, "h:1", &resp),
                   0);
  assert_null(resp.body);
  assert_int_equal(request(&server, "HEAD", "/api/v1", NULL, "h:1", &resp), 1);
  assert_int_equal(resp.code, 200);
  kapi_response_reset(&resp);
}

/* ---- ordering and edge cases -------------------------------------------- */

static void test_version_priority(void **state)
{
  static const char *const versions[] = {
      "v1alpha1", "v2", "foo10", "v1beta1", "foo1", "v1",
      "v10beta3", "v11alpha2", "v3beta1", "v11beta2", "v10",
  };
  kapi_resource_ops ops[sizeof versions / sizeof versions[0]];
  kapi_resource res[sizeof versions / sizeof versions[0]];
  kapi_registry reg = {res, sizeof versions / sizeof versions[0]};
  kapi_server srv = {.registry = &reg};
  kapi_response resp;
  kj *list = NULL, *gvs;
  char err[128], *text;
  size_t i;
  (void)state;

  for (i = 0; i < reg.n; i++) {
    memset(&ops[i], 0, sizeof ops[i]);
    ops[i].group = "sort.example.com";
    ops[i].version = versions[i];
    ops[i].resource = "things";
    ops[i].kind = "Thing";
    res[i] = resource(&ops[i]);
  }
  memset(&resp, 0, sizeof resp);
  assert_int_equal(request(&srv, "GET", "/apis/sort.example.com", NULL, NULL,
                           &resp),
                   1);
  assert_int_equal(kj_parse(resp.body, resp.len, &list, err, sizeof err), 0);
  gvs = kj_array();
  for (i = 0; i < kj_len(kj_get(list, "versions")); i++)
    kj_append(gvs, kj_string(kj_get_str(kj_at(kj_get(list, "versions"), i),
                                        "version")));
  text = kj_dump(gvs, NULL);
  /* GA, beta, alpha, each newest first; then the rest by name. */
  assert_string_equal(text, "[\"v10\",\"v2\",\"v1\",\"v11beta2\","
                            "\"v10beta3\",\"v3beta1\",\"v1beta1\","
                            "\"v11alpha2\",\"v1alpha1\",\"foo1\",\"foo10\"]");
  assert_string_equal(
      kj_get_str(kj_get(list, "preferredVersion"), "groupVersion"),
      "sort.example.com/v10");
  free(text);
  kj_free(gvs);
  kj_free(list);
  kapi_response_reset(&resp);
}

/* /apis must answer even with no plugin groups (a 404 there breaks
 * kubectl): the core's access reviews are still there. */
static void test_empty_registry(void **state)
{
  kapi_registry reg = {NULL, 0};
  kapi_server srv = {.registry = &reg, .port = 1};
  kapi_response resp;
  (void)state;

  memset(&resp, 0, sizeof resp);
  assert_int_equal(request(&srv, "GET", "/apis", NULL, NULL, &resp), 1);
  assert_string_equal(resp.body, "{\"kind\":\"APIGroupList\","
                                 "\"apiVersion\":\"v1\",\"groups\":["
                                 REVIEW_GROUPS "]}");
  assert_int_equal(
      request(&srv, "GET", "/apis", KUBECTL_ACCEPT, NULL, &resp), 1);
  assert_string_equal(resp.body, "{\"kind\":\"APIGroupDiscoveryList\","
                                 "\"apiVersion\":\"apidiscovery.k8s.io/v2\","
                                 "\"metadata\":{},\"items\":["
                                 REVIEWS_AGGREGATED "]}");
  assert_int_equal(request(&srv, "GET", "/api", KUBECTL_ACCEPT, NULL, &resp),
                   1);
  assert_string_equal(resp.body, "{\"kind\":\"APIGroupDiscoveryList\","
                                 "\"apiVersion\":\"apidiscovery.k8s.io/v2\","
                                 "\"metadata\":{},\"items\":[]}");
  kapi_response_reset(&resp);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_api_versions),
      cmocka_unit_test(test_api_versions_without_host),
      cmocka_unit_test(test_api_group_list),
      cmocka_unit_test(test_api_group),
      cmocka_unit_test(test_core_resource_list),
      cmocka_unit_test(test_group_resource_list),
      cmocka_unit_test(test_aggregated_api),
      cmocka_unit_test(test_aggregated_apis),
      cmocka_unit_test(test_aggregated_v2beta1),
      cmocka_unit_test(test_accept_order),
      cmocka_unit_test(test_not_found),
      cmocka_unit_test(test_not_discovery),
      cmocka_unit_test(test_version_priority),
      cmocka_unit_test(test_empty_registry),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
