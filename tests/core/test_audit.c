/*
 * test_audit.c - audit Policy matching (first rule wins, no match is
 * None) and the audit.k8s.io/v1 Event built for a request.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "audit.h"
#include "json.h"
#include "server.h"

static const char policy_json[] =
    "{\"apiVersion\":\"audit.k8s.io/v1\",\"kind\":\"Policy\","
    "\"omitStages\":[\"RequestReceived\"],\"rules\":["
    "{\"level\":\"None\",\"users\":[\"system:kube-proxy\"]},"
    "{\"level\":\"None\",\"nonResourceURLs\":[\"/healthz*\",\"/version\"]},"
    "{\"level\":\"RequestResponse\",\"resources\":[{\"group\":\"\","
    "\"resources\":[\"pods\"]}]},"
    "{\"level\":\"Request\",\"verbs\":[\"create\"],\"userGroups\":"
    "[\"devs\"]},"
    "{\"level\":\"Metadata\",\"resources\":[{\"group\":\"\","
    "\"resources\":[\"secrets\",\"configmaps/*\"]}]}]}";

static kapi_audit *policy(void)
{
  kapi_audit *a = NULL;
  char err[256];
  kj *doc = NULL;

  assert_int_equal(kj_parse(policy_json, strlen(policy_json), &doc, err,
                            sizeof err), 0);
  assert_int_equal(kapi_audit_policy_parse(doc, &a, err, sizeof err), 0);
  kj_free(doc);
  return a;
}

/* A request as the chain leaves it: every string borrowed. */
static kapi_req request(const char *user, const char *group, const char *verb,
                        const char *resource, const char *sub,
                        const char *path)
{
  kapi_req r;
  char json[256];
  char err[64];

  memset(&r, 0, sizeof r);
  snprintf(json, sizeof json,
           "{\"username\":\"%s\",\"groups\":[\"%s\",\"system:authenticated\"]}",
           user, group);
  kj_parse(json, strlen(json), &r.user, err, sizeof err);
  r.is_resource_request = resource != NULL;
  r.verb = (char *)verb;
  r.api_group = (char *)"";
  r.api_version = (char *)"v1";
  r.namespace_ = (char *)(resource ? "default" : "");
  r.resource = (char *)(resource ? resource : "");
  r.subresource = (char *)(sub ? sub : "");
  r.name = (char *)"";
  r.path = (char *)path;
  return r;
}

static kapi_audit_level level(kapi_audit *a, const char *user,
                              const char *group, const char *verb,
                              const char *res, const char *sub,
                              const char *path)
{
  kapi_req r = request(user, group, verb, res, sub, path);
  int omit = 0;
  kapi_audit_level l = kapi_audit_level_of(a, &r, &omit);

  assert_int_equal(omit, 1);
  kj_free(r.user);
  return l;
}

static void test_first_rule_wins(void **state)
{
  kapi_audit *a = policy();
  (void)state;
  assert_int_equal(level(a, "system:kube-proxy", "g", "get", "pods", NULL,
                         "/api/v1/namespaces/default/pods"),
                   KAPI_AUDIT_NONE);
  assert_int_equal(level(a, "bob", "g", "get", "pods", NULL,
                         "/api/v1/namespaces/default/pods"),
                   KAPI_AUDIT_REQUEST_RESPONSE);
  assert_int_equal(level(a, "bob", "devs", "create", "pods", NULL, "/x"),
                   KAPI_AUDIT_REQUEST_RESPONSE);
  assert_int_equal(level(a, "bob", "devs", "create", "services", NULL, "/x"),
                   KAPI_AUDIT_REQUEST);
  assert_int_equal(level(a, "bob", "ops", "create", "services", NULL, "/x"),
                   KAPI_AUDIT_NONE);
  kapi_audit_close(a);
}

static void test_resources_and_urls(void **state)
{
  kapi_audit *a = policy();
  (void)state;
  assert_int_equal(level(a, "bob", "g", "get", "secrets", NULL, "/x"),
                   KAPI_AUDIT_METADATA);
  /* "configmaps/*" covers subresources only, not the resource itself */
  assert_int_equal(level(a, "bob", "g", "get", "configmaps", NULL, "/x"),
                   KAPI_AUDIT_NONE);
  assert_int_equal(level(a, "bob", "g", "get", "configmaps", "status", "/x"),
                   KAPI_AUDIT_METADATA);
  assert_int_equal(level(a, "bob", "g", "get", NULL, NULL, "/healthz/ping"),
                   KAPI_AUDIT_NONE);
  kapi_audit_close(a);
}

static void test_event_shape(void **state)
{
  kapi_audit *a = policy();
  kapi_req r = request("bob", "devs", "create", "pods", NULL,
                       "/api/v1/namespaces/default/pods");
  kapi_response resp;
  struct timespec t = {1700000000, 123456000};
  const char body[] = "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
                      "\"managedFields\":[]}}";
  kj *ev = NULL;

  (void)state;
  memset(&resp, 0, sizeof resp);
  resp.code = 201;
  resp.body = (char *)body;
  resp.len = strlen(body);
  r.body = body;
  r.body_len = strlen(body);
  kapi_audit_record(a, &r, &resp, &t, &ev);
  assert_non_null(ev);
  assert_string_equal(kj_get_str(ev, "apiVersion"), "audit.k8s.io/v1");
  assert_string_equal(kj_get_str(ev, "kind"), "Event");
  assert_string_equal(kj_get_str(ev, "level"), "RequestResponse");
  assert_string_equal(kj_get_str(ev, "stage"), "ResponseComplete");
  assert_string_equal(kj_get_str(ev, "verb"), "create");
  assert_string_equal(kj_get_str(kj_get(ev, "user"), "username"), "bob");
  assert_string_equal(kj_get_str(kj_get(ev, "objectRef"), "resource"), "pods");
  assert_string_equal(kj_get_str(kj_get(ev, "objectRef"), "namespace"),
                      "default");
  assert_string_equal(kj_get_str(ev, "requestReceivedTimestamp"),
                      "2023-11-14T22:13:20.123456Z");
  assert_non_null(kj_ptr(ev, "/requestObject/metadata/managedFields"));
  assert_string_equal(kj_get_str(kj_get(ev, "responseObject"), "kind"), "Pod");
  {
    int64_t code = 0;
    assert_int_equal(kj_to_int(kj_ptr(ev, "/responseStatus/code"), &code), 0);
    assert_int_equal(code, 201);
  }
  kj_free(ev);
  kj_free(r.user);
  kapi_audit_close(a);
}

static void test_bad_policy(void **state)
{
  const char bad[] = "{\"apiVersion\":\"audit.k8s.io/v1\",\"kind\":\"Policy\","
                     "\"rules\":[{\"level\":\"Everything\"}]}";
  kapi_audit *a = NULL;
  char err[256];
  kj *doc = NULL;

  (void)state;
  assert_int_equal(kj_parse(bad, strlen(bad), &doc, err, sizeof err), 0);
  assert_true(kapi_audit_policy_parse(doc, &a, err, sizeof err) < 0);
  assert_non_null(strstr(err, "rules[0].level: Unsupported value"));
  assert_null(a);
  kj_free(doc);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_first_rule_wins),
      cmocka_unit_test(test_resources_and_urls),
      cmocka_unit_test(test_event_shape),
      cmocka_unit_test(test_bad_policy),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
