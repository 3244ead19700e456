/*
 * test_rbac_rules.c - unit tests of the RBAC plugin (authz/rbac): rule
 * matching, Covers and its messages, subject matching, aggregation, the
 * policy cache, rules_for and escalation prevention.
 *
 * The plugin's sources are compiled into this test.  It runs against a
 * fake host: the real JSON accessors of libkapi's host API, with the
 * request, the store (four JSON arrays and their revisions), errors and
 * api->authorize (which asks the plugin's own authorizer, as the host's
 * chain would with RBAC alone) replaced by the fakes below.
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

#include "json.h"
#include "plugin_loader.h"
#include "../../authz/rbac/rbac_internal.h"

const kapi_plugin_desc *kapi_plugin_describe(void);

/* ---- the fake host ------------------------------------------------------- */

struct kapi_req {
  const char *verb, *group, *resource, *sub, *ns, *name, *path, *op;
  const kj *user;
  const kj *old;
};

struct kapi_error {
  int code;
  char reason[64];
  char msg[8192];
};

static kapi_host_api fake;
static const kapi_authz_ops *authz_ops;
static void *authz_st;
static const kapi_admission_ops *adm_ops;
static void *adm_st;
static kj *store[RBAC_N_RESOURCES];
static int served[RBAC_N_RESOURCES];
static int64_t revision[RBAC_N_RESOURCES];
static int store_lists; /* store_list calls, to see the cache work */

static int resource_index(const char *resource)
{
  int i;

  for (i = 0; i < RBAC_N_RESOURCES; i++)
    if (!strcmp(rbac_resources[i], resource))
      return i;
  return -1;
}

static const char *fake_req_get(const kapi_req *r, const char *key)
{
  if (!strcmp(key, "verb"))
    return r->verb;
  if (!strcmp(key, "apiGroup"))
    return r->group;
  if (!strcmp(key, "resource"))
    return r->resource;
  if (!strcmp(key, "subresource"))
    return r->sub;
  if (!strcmp(key, "namespace"))
    return r->ns;
  if (!strcmp(key, "name"))
    return r->name;
  if (!strcmp(key, "path"))
    return r->path;
  if (!strcmp(key, "operation"))
    return r->op;
  return NULL;
}

static const kapi_obj *fake_req_user(const kapi_req *r)
{
  return r->user;
}

static const kapi_obj *fake_req_old_object(const kapi_req *r)
{
  return r->old;
}

static int fake_store_list(const char *group, const char *resource,
                           const char *ns, const char *sel, kapi_obj **ret)
{
  int i = resource_index(resource);

  assert_string_equal(group, RBAC_GROUP);
  assert_null(ns);
  assert_null(sel);
  __atomic_add_fetch(&store_lists, 1, __ATOMIC_RELAXED);
  if (i < 0 || !served[i])
    return -ENOENT;
  *ret = kj_clone(store[i]);
  return *ret ? 0 : -ENOMEM;
}

static int64_t fake_store_revision(const char *group, const char *resource)
{
  int i = resource_index(resource);

  assert_string_equal(group, RBAC_GROUP);
  return i >= 0 && served[i] ? __atomic_load_n(&revision[i], __ATOMIC_ACQUIRE)
                             : 0;
}

static void fake_error_set(kapi_error *e, int code, const char *reason,
                           const char *fmt, ...)
{
  va_list ap;

  e->code = code;
  snprintf(e->reason, sizeof e->reason, "%s", reason);
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
}

static void fake_log(kapi_plugin *p, int level, const char *fmt, ...)
{
  va_list ap;

  (void)p;
  if (!getenv("RBAC_TEST_LOG"))
    return;
  va_start(ap, fmt);
  fprintf(stderr, "log %d: ", level);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* The host's SubjectAccessReview-from-inside: the same user, other
 * attributes, through the authorizer chain (here RBAC alone). */
static kapi_decision fake_authorize(const kapi_req *r, const char *verb,
                                    const char *group, const char *resource,
                                    const char *sub, const char *ns,
                                    const char *name)
{
  kapi_req q = {.verb = verb, .group = group, .resource = resource,
                .sub = sub, .ns = ns, .name = name, .path = "",
                .user = r->user};
  kapi_error e = {0};

  return authz_ops->authorize(authz_st, &q, &e) == KAPI_ALLOW ? KAPI_ALLOW
                                                             : KAPI_DENY;
}

static int fake_register_authz(kapi_plugin *p, const char *name,
                               const kapi_authz_ops *ops, void *st,
                               const kapi_order *order)
{
  (void)p;
  (void)order;
  assert_string_equal(name, "RBAC");
  authz_ops = ops;
  authz_st = st;
  return 0;
}

static int fake_register_admission(kapi_plugin *p, const char *name,
                                   const kapi_admission_ops *ops, void *st,
                                   const kapi_order *order)
{
  (void)p;
  assert_string_equal(name, "RBACEscalation");
  assert_non_null(order);
  assert_int_equal(order->priority, KAPI_ORDER_REALLY_LAST);
  assert_int_equal(ops->handles, KAPI_OP_CREATE | KAPI_OP_UPDATE);
  adm_ops = ops;
  adm_st = st;
  return 0;
}

/* ---- helpers ------------------------------------------------------------- */

static kj *J(const char *json)
{
  char err[256];
  kj *v = NULL;

  if (kj_parse(json, strlen(json), &v, err, sizeof err) < 0)
    fail_msg("bad test JSON: %s: %s", err, json);
  return v;
}

/* Replaces the objects of one resource (a JSON array) and moves its
 * revision, as a write to the store would. */
static void set_store(int i, const char *json)
{
  kj_free(store[i]);
  store[i] = J(json);
  served[i] = 1;
  revision[i]++;
}

static int setup(void **state)
{
  const kapi_host_api *real = kapi_host_api_get();
  kapi_error e = {0};
  int i;

  (void)state;
  memset(&fake, 0, sizeof fake);
  memcpy(&fake, real, real->size < sizeof fake ? real->size : sizeof fake);
  fake.size = sizeof fake;
  fake.abi_minor = KAPI_ABI_MINOR;
  fake.req_get = fake_req_get;
  fake.req_user = fake_req_user;
  fake.req_old_object = fake_req_old_object;
  fake.store_list = fake_store_list;
  fake.store_revision = fake_store_revision;
  fake.error_set = fake_error_set;
  fake.log = fake_log;
  fake.authorize = fake_authorize;
  fake.register_authz = fake_register_authz;
  fake.register_admission = fake_register_admission;
  for (i = 0; i < RBAC_N_RESOURCES; i++) {
    store[i] = NULL;
    served[i] = 0;
    revision[i] = 0;
    set_store(i, "[]");
  }
  store_lists = 0;
  assert_int_equal(kapi_plugin_describe()->init(NULL, &fake, NULL, 0, &e), 0);
  assert_non_null(authz_ops);
  assert_non_null(adm_ops);
  return 0;
}

static int teardown(void **state)
{
  int i;

  (void)state;
  kapi_plugin_describe()->fini(NULL);
  for (i = 0; i < RBAC_N_RESOURCES; i++) {
    kj_free(store[i]);
    store[i] = NULL;
  }
  return 0;
}

/* A user: {"username":..., "groups":[...]} (kept until the test ends). */
static kj *user(const char *name, const char *groups_json)
{
  char buf[1024];

  snprintf(buf, sizeof buf, "{\"username\":\"%s\",\"groups\":%s}", name,
           groups_json);
  return J(buf);
}

static kapi_decision decide(const kj *u, const char *verb, const char *group,
                            const char *resource, const char *sub,
                            const char *ns, const char *name, kapi_error *e)
{
  kapi_req r = {.verb = verb, .group = group, .resource = resource,
                .sub = sub, .ns = ns, .name = name, .path = "", .user = u};

  memset(e, 0, sizeof *e);
  return authz_ops->authorize(authz_st, &r, e);
}

static kapi_decision decide_url(const kj *u, const char *verb,
                                const char *path)
{
  kapi_req r = {.verb = verb, .path = path, .user = u};
  kapi_error e = {0};

  return authz_ops->authorize(authz_st, &r, &e);
}

#define ALLOWED(u, verb, group, res, sub, ns, name)                            \
  ({                                                                           \
    kapi_error e_;                                                             \
    decide(u, verb, group, res, sub, ns, name, &e_) == KAPI_ALLOW;             \
  })

/* Compiles one rule from JSON into `a`. */
static rbac_rule rule(rbac_arena *a, const char *json)
{
  kj *o = J(json);
  rbac_rule r;

  assert_int_equal(rbac_rule_compile(a, o, &r), 0);
  kj_free(o);
  return r;
}

static int allows(const char *rule_json, const rbac_attrs *at)
{
  rbac_arena a = {0};
  rbac_rule r = rule(&a, rule_json);
  int ok = rbac_rule_allows(&r, at);

  rbac_arena_free(&a);
  return ok;
}

static rbac_attrs res_attrs(const char *verb, const char *group,
                            const char *resource, const char *sub,
                            const char *name)
{
  rbac_attrs at = {.verb = verb, .group = group, .resource = resource,
                   .subresource = sub, .name = name, .path = "",
                   .resource_request = 1};
  return at;
}

static rbac_attrs url_attrs(const char *verb, const char *path)
{
  rbac_attrs at = {.verb = verb, .group = "", .resource = "",
                   .subresource = "", .name = "", .path = path,
                   .resource_request = 0};
  return at;
}

/* Covers of JSON rule arrays; *missing gets the message lines. */
static int covers(const char *owner_json, const char *servant_json,
                  char *missing, size_t len)
{
  rbac_arena a = {0};
  kj *o = J(owner_json), *s = J(servant_json);
  rbac_rule *owner, *servant;
  const rbac_rule **ptrs;
  size_t no, ns, i;
  rbac_buf b = {0};
  int rc;

  assert_int_equal(rbac_rules_compile(&a, o, &owner, &no), 0);
  assert_int_equal(rbac_rules_compile(&a, s, &servant, &ns), 0);
  ptrs = calloc(no ? no : 1, sizeof *ptrs);
  for (i = 0; i < no; i++)
    ptrs[i] = &owner[i];
  rc = rbac_covers(ptrs, no, servant, ns, &b);
  snprintf(missing, len, "%s", rbac_buf_str(&b));
  rbac_buf_free(&b);
  free(ptrs);
  kj_free(o);
  kj_free(s);
  rbac_arena_free(&a);
  return rc;
}

/* ---- rule matching ------------------------------------------------------- */

static void test_verbs_and_groups(void **state)
{
  rbac_attrs get = res_attrs("get", "", "pods", "", "p");
  rbac_attrs deploy = res_attrs("get", "apps", "deployments", "", "");

  (void)state;
  assert_true(allows("{\"verbs\":[\"get\",\"list\"],\"apiGroups\":[\"\"],"
                     "\"resources\":[\"pods\"]}", &get));
  assert_false(allows("{\"verbs\":[\"list\"],\"apiGroups\":[\"\"],"
                      "\"resources\":[\"pods\"]}", &get));
  assert_true(allows("{\"verbs\":[\"*\"],\"apiGroups\":[\"\"],"
                     "\"resources\":[\"pods\"]}", &get));
  assert_false(allows("{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
                      "\"resources\":[\"deployments\"]}", &deploy));
  assert_true(allows("{\"verbs\":[\"get\"],\"apiGroups\":[\"apps\"],"
                     "\"resources\":[\"deployments\"]}", &deploy));
  assert_true(allows("{\"verbs\":[\"get\"],\"apiGroups\":[\"*\"],"
                     "\"resources\":[\"deployments\"]}", &deploy));
  /* No apiGroups at all matches no resource request. */
  assert_false(allows("{\"verbs\":[\"get\"],\"resources\":[\"pods\"]}", &get));
}

static void test_resources_and_subresources(void **state)
{
  rbac_attrs log = res_attrs("get", "", "pods", "log", "p");
  rbac_attrs pod = res_attrs("get", "", "pods", "", "p");
  rbac_attrs scale = res_attrs("update", "apps", "deployments", "scale", "d");
  rbac_attrs deploy = res_attrs("update", "apps", "deployments", "", "d");

  (void)state;
  assert_false(allows("{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
                      "\"resources\":[\"pods\"]}", &log));
  assert_true(allows("{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
                     "\"resources\":[\"pods/log\"]}", &log));
  assert_false(allows("{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
                      "\"resources\":[\"pods/log\"]}", &pod));
  assert_false(allows("{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
                      "\"resources\":[\"pods/lo\"]}", &log));
  assert_true(allows("{\"verbs\":[\"update\"],\"apiGroups\":[\"apps\"],"
                     "\"resources\":[\"*/scale\"]}", &scale));
  assert_false(allows("{\"verbs\":[\"update\"],\"apiGroups\":[\"apps\"],"
                      "\"resources\":[\"*/scale\"]}", &deploy));
  assert_false(allows("{\"verbs\":[\"update\"],\"apiGroups\":[\"apps\"],"
                      "\"resources\":[\"*/scal\"]}", &scale));
  assert_true(allows("{\"verbs\":[\"update\"],\"apiGroups\":[\"apps\"],"
                     "\"resources\":[\"*\"]}", &scale));
}

static void test_resource_names(void **state)
{
  const char *r = "{\"verbs\":[\"*\"],\"apiGroups\":[\"\"],"
                  "\"resources\":[\"secrets\"],\"resourceNames\":[\"a\",\"b\"]}";
  rbac_attrs get_a = res_attrs("get", "", "secrets", "", "a");
  rbac_attrs get_c = res_attrs("get", "", "secrets", "", "c");
  rbac_attrs list = res_attrs("list", "", "secrets", "", "");
  rbac_attrs create = res_attrs("create", "", "secrets", "", "");

  (void)state;
  assert_true(allows(r, &get_a));
  assert_false(allows(r, &get_c));
  assert_false(allows(r, &list));
  assert_false(allows(r, &create));
}

static void test_non_resource_urls(void **state)
{
  rbac_attrs healthz = url_attrs("get", "/healthz");
  rbac_attrs api = url_attrs("get", "/api/v1");
  rbac_attrs apis = url_attrs("get", "/apis");
  rbac_attrs post = url_attrs("post", "/healthz");
  rbac_attrs pods = res_attrs("get", "", "pods", "", "");

  (void)state;
  assert_true(allows("{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/healthz\"]}",
                     &healthz));
  assert_false(allows("{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/healthz\"]}",
                      &post));
  assert_false(allows("{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/healthz\"]}",
                      &api));
  assert_true(allows("{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/api/*\"]}",
                     &api));
  assert_false(allows("{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/api/*\"]}",
                      &apis));
  assert_true(allows("{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/api*\"]}",
                     &apis));
  assert_true(allows("{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"*\"]}", &apis));
  /* URL rules never match resource requests, resource rules never URLs. */
  assert_false(allows("{\"verbs\":[\"*\"],\"nonResourceURLs\":[\"*\"]}", &pods));
  assert_false(allows("{\"verbs\":[\"*\"],\"apiGroups\":[\"*\"],"
                      "\"resources\":[\"*\"]}", &healthz));
}

/* ---- covers -------------------------------------------------------------- */

static void test_covers(void **state)
{
  char m[2048];

  (void)state;
  assert_int_equal(covers("[{\"verbs\":[\"get\",\"list\"],\"apiGroups\":[\"\"],"
                          "\"resources\":[\"pods\"]}]",
                          "[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
                          "\"resources\":[\"pods\"]}]", m, sizeof m), 1);
  assert_string_equal(m, "");
  assert_int_equal(covers("[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
                          "\"resources\":[\"pods\"]}]",
                          "[{\"verbs\":[\"get\",\"create\"],\"apiGroups\":[\"\"],"
                          "\"resources\":[\"pods\"]}]", m, sizeof m), 0);
  assert_string_equal(m, "{APIGroups:[\"\"], Resources:[\"pods\"], "
                         "Verbs:[\"create\"]}");
  /* Missing verbs of one group/resource merge; lines come sorted. */
  assert_int_equal(covers("[]",
                          "[{\"verbs\":[\"delete\",\"create\"],"
                          "\"apiGroups\":[\"\"],"
                          "\"resources\":[\"services\",\"pods\"]}]",
                          m, sizeof m), 0);
  assert_string_equal(m,
                      "{APIGroups:[\"\"], Resources:[\"pods\"], "
                      "Verbs:[\"delete\" \"create\"]}\n"
                      "{APIGroups:[\"\"], Resources:[\"services\"], "
                      "Verbs:[\"delete\" \"create\"]}");
  /* Stars cover everything of their kind. */
  assert_int_equal(covers("[{\"verbs\":[\"*\"],\"apiGroups\":[\"*\"],"
                          "\"resources\":[\"*\"]},"
                          "{\"verbs\":[\"*\"],\"nonResourceURLs\":[\"*\"]}]",
                          "[{\"verbs\":[\"get\"],\"apiGroups\":[\"apps\"],"
                          "\"resources\":[\"deployments/scale\"],"
                          "\"resourceNames\":[\"x\"]},"
                          "{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/x\"]}]",
                          m, sizeof m), 1);
  /* An empty grant is always covered. */
  assert_int_equal(covers("[]", "[{\"verbs\":[],\"apiGroups\":[\"\"],"
                                "\"resources\":[\"pods\"]}]", m, sizeof m), 1);
}

static void test_covers_subresources_and_names(void **state)
{
  char m[2048];

  (void)state;
  assert_int_equal(covers("[{\"verbs\":[\"update\"],\"apiGroups\":[\"apps\"],"
                          "\"resources\":[\"*/scale\"]}]",
                          "[{\"verbs\":[\"update\"],\"apiGroups\":[\"apps\"],"
                          "\"resources\":[\"deployments/scale\"]}]",
                          m, sizeof m), 1);
  assert_int_equal(covers("[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
                          "\"resources\":[\"pods\"]}]",
                          "[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
                          "\"resources\":[\"pods/log\"]}]", m, sizeof m), 0);
  assert_string_equal(m, "{APIGroups:[\"\"], Resources:[\"pods/log\"], "
                         "Verbs:[\"get\"]}");
  /* A named owner rule covers those names only, never the nameless. */
  assert_int_equal(covers("[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
                          "\"resources\":[\"secrets\"],"
                          "\"resourceNames\":[\"s1\"]}]",
                          "[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
                          "\"resources\":[\"secrets\"],"
                          "\"resourceNames\":[\"s1\"]}]", m, sizeof m), 1);
  assert_int_equal(covers("[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
                          "\"resources\":[\"secrets\"],"
                          "\"resourceNames\":[\"s1\"]}]",
                          "[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
                          "\"resources\":[\"secrets\"]}]", m, sizeof m), 0);
  assert_int_equal(covers("[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
                          "\"resources\":[\"secrets\"]}]",
                          "[{\"verbs\":[\"get\",\"list\"],\"apiGroups\":[\"\"],"
                          "\"resources\":[\"secrets\"],"
                          "\"resourceNames\":[\"s2\",\"s1\"]}]",
                          m, sizeof m), 0);
  /* Named rules are not merged (CompactRules: not "simple"). */
  assert_string_equal(m,
                      "{APIGroups:[\"\"], Resources:[\"secrets\"], "
                      "ResourceNames:[\"s1\"], Verbs:[\"list\"]}\n"
                      "{APIGroups:[\"\"], Resources:[\"secrets\"], "
                      "ResourceNames:[\"s2\"], Verbs:[\"list\"]}");
}

static void test_covers_urls_and_quoting(void **state)
{
  char m[2048];

  (void)state;
  assert_int_equal(covers("[{\"verbs\":[\"get\"],"
                          "\"nonResourceURLs\":[\"/api/*\"]}]",
                          "[{\"verbs\":[\"get\"],"
                          "\"nonResourceURLs\":[\"/api/v1\",\"/metrics\"]}]",
                          m, sizeof m), 0);
  assert_string_equal(m, "{NonResourceURLs:[\"/metrics\"], Verbs:[\"get\"]}");
  /* A rule with resourceNames covers no URL. */
  assert_int_equal(covers("[{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"*\"],"
                          "\"resourceNames\":[\"x\"]}]",
                          "[{\"verbs\":[\"get\"],"
                          "\"nonResourceURLs\":[\"/healthz\"]}]",
                          m, sizeof m), 0);
  /* Go's %q escapes. */
  assert_int_equal(covers("[]",
                          "[{\"verbs\":[\"g\\\"et\"],\"apiGroups\":[\"a\\\\b\"],"
                          "\"resources\":[\"p\\nq\"]}]", m, sizeof m), 0);
  assert_string_equal(m, "{APIGroups:[\"a\\\\b\"], Resources:[\"p\\nq\"], "
                         "Verbs:[\"g\\\"et\"]}");
}

/* ---- subjects and bindings ----------------------------------------------- */

#define POD_READER                                                             \
  "{\"metadata\":{\"name\":\"pod-reader\"},\"rules\":[{\"verbs\":[\"get\","     \
  "\"list\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}]}"

static void test_subject_kinds(void **state)
{
  kj *bob = user("bob", "[\"system:authenticated\"]");
  kj *alice = user("alice", "[\"devs\",\"system:authenticated\"]");
  kj *carol = user("carol", "[\"system:authenticated\"]");
  kj *sa = user("system:serviceaccount:ns1:robot",
                "[\"system:serviceaccounts\",\"system:serviceaccounts:ns1\"]");
  kj *sa2 = user("system:serviceaccount:ns2:robot", "[]");

  (void)state;
  set_store(RBAC_CLUSTER_ROLES, "[" POD_READER "]");
  set_store(RBAC_CLUSTER_ROLE_BINDINGS,
            "[{\"metadata\":{\"name\":\"b1\"},\"roleRef\":{\"apiGroup\":"
            "\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\",\"name\":"
            "\"pod-reader\"},\"subjects\":[{\"kind\":\"User\",\"name\":\"bob\"},"
            "{\"kind\":\"Group\",\"name\":\"devs\"},{\"kind\":\"ServiceAccount\","
            "\"name\":\"robot\",\"namespace\":\"ns1\"},"
            "{\"kind\":\"ServiceAccount\",\"name\":\"robot\"}]}]");
  assert_true(ALLOWED(bob, "get", "", "pods", NULL, "default", "p"));
  assert_true(ALLOWED(bob, "list", "", "pods", NULL, NULL, NULL));
  assert_false(ALLOWED(bob, "delete", "", "pods", NULL, "default", "p"));
  assert_false(ALLOWED(bob, "get", "", "secrets", NULL, "default", "p"));
  assert_true(ALLOWED(alice, "get", "", "pods", NULL, "x", "p"));
  assert_false(ALLOWED(carol, "get", "", "pods", NULL, "x", "p"));
  assert_true(ALLOWED(sa, "get", "", "pods", NULL, "x", "p"));
  /* A namespace-less service account in a ClusterRoleBinding: nobody. */
  assert_false(ALLOWED(sa2, "get", "", "pods", NULL, "ns2", "p"));
  kj_free(bob);
  kj_free(alice);
  kj_free(carol);
  kj_free(sa);
  kj_free(sa2);
}

static void test_role_bindings_scope(void **state)
{
  kj *bob = user("bob", "[]");
  kj *sa = user("system:serviceaccount:ns1:robot", "[]");
  kj *sa_other = user("system:serviceaccount:ns2:robot", "[]");

  (void)state;
  set_store(RBAC_CLUSTER_ROLES, "[" POD_READER "]");
  set_store(RBAC_ROLES,
            "[{\"metadata\":{\"name\":\"cm\",\"namespace\":\"ns1\"},"
            "\"rules\":[{\"verbs\":[\"*\"],\"apiGroups\":[\"\"],"
            "\"resources\":[\"configmaps\"]}]}]");
  set_store(RBAC_ROLE_BINDINGS,
            "[{\"metadata\":{\"name\":\"rb\",\"namespace\":\"ns1\"},"
            "\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"pod-reader\"},"
            "\"subjects\":[{\"kind\":\"User\",\"name\":\"bob\"},"
            "{\"kind\":\"ServiceAccount\",\"name\":\"robot\"}]},"
            "{\"metadata\":{\"name\":\"rb2\",\"namespace\":\"ns1\"},"
            "\"roleRef\":{\"kind\":\"Role\",\"name\":\"cm\"},"
            "\"subjects\":[{\"kind\":\"User\",\"name\":\"bob\"}]},"
            "{\"metadata\":{\"name\":\"rb3\",\"namespace\":\"ns2\"},"
            "\"roleRef\":{\"kind\":\"Role\",\"name\":\"cm\"},"
            "\"subjects\":[{\"kind\":\"User\",\"name\":\"bob\"}]}]");
  assert_true(ALLOWED(bob, "get", "", "pods", NULL, "ns1", "p"));
  assert_false(ALLOWED(bob, "get", "", "pods", NULL, "ns2", "p"));
  assert_false(ALLOWED(bob, "list", "", "pods", NULL, NULL, NULL));
  assert_true(ALLOWED(bob, "delete", "", "configmaps", NULL, "ns1", "c"));
  /* rb3 names a Role "cm" of ns2, which does not exist. */
  assert_false(ALLOWED(bob, "delete", "", "configmaps", NULL, "ns2", "c"));
  /* The service account defaults to the binding's namespace. */
  assert_true(ALLOWED(sa, "get", "", "pods", NULL, "ns1", "p"));
  assert_false(ALLOWED(sa_other, "get", "", "pods", NULL, "ns1", "p"));
  kj_free(bob);
  kj_free(sa);
  kj_free(sa_other);
}

static void test_reasons(void **state)
{
  kj *bob = user("bob", "[\"devs\"]");
  kapi_error e;

  (void)state;
  set_store(RBAC_CLUSTER_ROLES, "[" POD_READER "]");
  set_store(RBAC_CLUSTER_ROLE_BINDINGS,
            "[{\"metadata\":{\"name\":\"b1\"},\"roleRef\":{\"kind\":"
            "\"ClusterRole\",\"name\":\"pod-reader\"},\"subjects\":["
            "{\"kind\":\"Group\",\"name\":\"devs\"},"
            "{\"kind\":\"User\",\"name\":\"bob\"}]},"
            "{\"metadata\":{\"name\":\"b2\"},\"roleRef\":{\"kind\":"
            "\"ClusterRole\",\"name\":\"gone\"},\"subjects\":["
            "{\"kind\":\"User\",\"name\":\"bob\"}]}]");
  set_store(RBAC_ROLE_BINDINGS,
            "[{\"metadata\":{\"name\":\"rb\",\"namespace\":\"ns1\"},"
            "\"roleRef\":{\"kind\":\"Role\",\"name\":\"missing\"},"
            "\"subjects\":[{\"kind\":\"Group\",\"name\":\"devs\"}]}]");
  /* Allowed: the first applying subject of the binding is named. */
  assert_int_equal(decide(bob, "get", "", "pods", NULL, "ns1", "p", &e),
                   KAPI_ALLOW);
  assert_string_equal(e.msg, "RBAC: allowed by ClusterRoleBinding \"b1\" of "
                             "ClusterRole \"pod-reader\" to Group \"devs\"");
  /* No opinion, with what was missing. */
  assert_int_equal(decide(bob, "delete", "", "pods", NULL, NULL, "p", &e),
                   KAPI_NO_OPINION);
  assert_string_equal(
      e.msg, "RBAC: clusterrole.rbac.authorization.k8s.io \"gone\" not found");
  assert_int_equal(decide(bob, "delete", "", "pods", NULL, "ns1", "p", &e),
                   KAPI_NO_OPINION);
  assert_string_equal(e.msg,
                      "RBAC: [clusterrole.rbac.authorization.k8s.io \"gone\" "
                      "not found, role.rbac.authorization.k8s.io \"missing\" "
                      "not found]");
  kj_free(bob);
}

static void test_role_binding_reason(void **state)
{
  kj *sa = user("system:serviceaccount:ns1:robot", "[]");
  kapi_error e;

  (void)state;
  set_store(RBAC_ROLES,
            "[{\"metadata\":{\"name\":\"r\",\"namespace\":\"ns1\"},"
            "\"rules\":[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
            "\"resources\":[\"pods\"]}]}]");
  set_store(RBAC_ROLE_BINDINGS,
            "[{\"metadata\":{\"name\":\"rb\",\"namespace\":\"ns1\"},"
            "\"roleRef\":{\"kind\":\"Role\",\"name\":\"r\"},"
            "\"subjects\":[{\"kind\":\"ServiceAccount\",\"name\":\"robot\"}]}]");
  assert_int_equal(decide(sa, "get", "", "pods", NULL, "ns1", "p", &e),
                   KAPI_ALLOW);
  assert_string_equal(e.msg, "RBAC: allowed by RoleBinding \"rb/ns1\" of Role "
                             "\"r\" to ServiceAccount \"robot/ns1\"");
  kj_free(sa);
}

static void test_non_resource_requests(void **state)
{
  kj *anon = user("system:anonymous", "[\"system:unauthenticated\"]");

  (void)state;
  set_store(RBAC_CLUSTER_ROLES,
            "[{\"metadata\":{\"name\":\"public\"},\"rules\":[{\"verbs\":"
            "[\"get\"],\"nonResourceURLs\":[\"/healthz\",\"/version\","
            "\"/readyz*\"]}]}]");
  set_store(RBAC_CLUSTER_ROLE_BINDINGS,
            "[{\"metadata\":{\"name\":\"public\"},\"roleRef\":{\"kind\":"
            "\"ClusterRole\",\"name\":\"public\"},\"subjects\":["
            "{\"kind\":\"Group\",\"name\":\"system:unauthenticated\"}]}]");
  assert_int_equal(decide_url(anon, "get", "/healthz"), KAPI_ALLOW);
  assert_int_equal(decide_url(anon, "get", "/readyz/ping"), KAPI_ALLOW);
  assert_int_equal(decide_url(anon, "post", "/healthz"), KAPI_NO_OPINION);
  assert_int_equal(decide_url(anon, "get", "/metrics"), KAPI_NO_OPINION);
  kj_free(anon);
}

/* ---- the cache ----------------------------------------------------------- */

static void test_cache_follows_revisions(void **state)
{
  kj *bob = user("bob", "[]");
  int lists;

  (void)state;
  set_store(RBAC_CLUSTER_ROLES, "[" POD_READER "]");
  assert_false(ALLOWED(bob, "get", "", "pods", NULL, "x", "p"));
  lists = store_lists;
  assert_false(ALLOWED(bob, "get", "", "pods", NULL, "x", "p"));
  assert_int_equal(store_lists, lists); /* no rebuild without a change */

  set_store(RBAC_CLUSTER_ROLE_BINDINGS,
            "[{\"metadata\":{\"name\":\"b\"},\"roleRef\":{\"kind\":"
            "\"ClusterRole\",\"name\":\"pod-reader\"},\"subjects\":["
            "{\"kind\":\"User\",\"name\":\"bob\"}]}]");
  assert_true(ALLOWED(bob, "get", "", "pods", NULL, "x", "p"));
  assert_int_equal(store_lists, lists + RBAC_N_RESOURCES);

  /* A change the revision does not announce is not seen: the policy
   * is compiled, not read per request. */
  kj_free(store[RBAC_CLUSTER_ROLE_BINDINGS]);
  store[RBAC_CLUSTER_ROLE_BINDINGS] = J("[]");
  assert_true(ALLOWED(bob, "get", "", "pods", NULL, "x", "p"));
  revision[RBAC_CLUSTER_ROLE_BINDINGS]++;
  assert_false(ALLOWED(bob, "get", "", "pods", NULL, "x", "p"));
  kj_free(bob);
}

static void test_unserved_resources(void **state)
{
  kj *bob = user("bob", "[]");
  kapi_error e;
  int i;

  (void)state;
  for (i = 0; i < RBAC_N_RESOURCES; i++)
    served[i] = 0;
  assert_int_equal(decide(bob, "get", "", "pods", NULL, "x", "p", &e),
                   KAPI_NO_OPINION);
  assert_string_equal(e.msg, "");
  kj_free(bob);
}

/* Readers race rebuilds: every decision stays right while revisions
 * move under them (run it under -fsanitize=thread to see the locking). */
static void *reader(void *arg)
{
  const kj *bob = arg;
  kapi_error e;
  long bad = 0;
  int i;

  for (i = 0; i < 3000; i++) {
    bad += decide(bob, "get", "", "pods", NULL, "x", "p", &e) != KAPI_ALLOW;
    bad += decide(bob, "delete", "", "pods", NULL, "x", "p", &e) !=
           KAPI_NO_OPINION;
  }
  return (void *)bad;
}

static void test_concurrent_rebuilds(void **state)
{
  kj *bob = user("bob", "[\"system:authenticated\"]");
  pthread_t t[4];
  void *bad;
  int i, rebuilds;

  (void)state;
  set_store(RBAC_CLUSTER_ROLES, "[" POD_READER "]");
  set_store(RBAC_CLUSTER_ROLE_BINDINGS,
            "[{\"metadata\":{\"name\":\"b\"},\"roleRef\":{\"kind\":"
            "\"ClusterRole\",\"name\":\"pod-reader\"},\"subjects\":["
            "{\"kind\":\"Group\",\"name\":\"system:authenticated\"}]}]");
  rebuilds = __atomic_load_n(&store_lists, __ATOMIC_RELAXED);
  for (i = 0; i < 4; i++)
    assert_int_equal(pthread_create(&t[i], NULL, reader, bob), 0);
  for (i = 0; i < 300; i++) /* a write the lists do not show */
    __atomic_add_fetch(&revision[RBAC_ROLES], 1, __ATOMIC_RELEASE);
  for (i = 0; i < 4; i++) {
    assert_int_equal(pthread_join(t[i], &bad), 0);
    assert_int_equal((long)bad, 0);
  }
  /* The last revision is always rebuilt for, by some thread. */
  assert_true(ALLOWED(bob, "get", "", "pods", NULL, "x", "p"));
  assert_true(__atomic_load_n(&store_lists, __ATOMIC_RELAXED) > rebuilds);
  kj_free(bob);
}

/* ---- aggregation --------------------------------------------------------- */

static void test_aggregation(void **state)
{
  kj *bob = user("bob", "[]");

  (void)state;
  /* admin <- edit (aggregated itself, no rules of its own) <- pieces. */
  set_store(RBAC_CLUSTER_ROLES,
            "["
            "{\"metadata\":{\"name\":\"admin\"},\"aggregationRule\":{"
            "\"clusterRoleSelectors\":[{\"matchLabels\":{\"example.com/"
            "aggregate-to-admin\":\"true\"}}]},\"rules\":[]},"
            "{\"metadata\":{\"name\":\"edit\",\"labels\":{\"example.com/"
            "aggregate-to-admin\":\"true\"}},\"aggregationRule\":{"
            "\"clusterRoleSelectors\":[{\"matchLabels\":{\"example.com/"
            "aggregate-to-edit\":\"true\"}}]}},"
            "{\"metadata\":{\"name\":\"piece-edit\",\"labels\":{\"example.com/"
            "aggregate-to-edit\":\"true\"}},\"rules\":[{\"verbs\":[\"create\"],"
            "\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}]},"
            "{\"metadata\":{\"name\":\"piece-admin\",\"labels\":{\"example.com/"
            "aggregate-to-admin\":\"true\"}},\"rules\":[{\"verbs\":[\"*\"],"
            "\"apiGroups\":[\"rbac.authorization.k8s.io\"],\"resources\":["
            "\"rolebindings\"]}]},"
            "{\"metadata\":{\"name\":\"expr\"},\"aggregationRule\":{"
            "\"clusterRoleSelectors\":[{\"matchExpressions\":[{\"key\":"
            "\"tier\",\"operator\":\"In\",\"values\":[\"a\",\"b\"]},{\"key\":"
            "\"x\",\"operator\":\"DoesNotExist\"}]}]}},"
            "{\"metadata\":{\"name\":\"tier-a\",\"labels\":{\"tier\":\"a\"}},"
            "\"rules\":[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
            "\"resources\":[\"secrets\"]}]},"
            "{\"metadata\":{\"name\":\"tier-b-x\",\"labels\":{\"tier\":\"b\","
            "\"x\":\"1\"}},\"rules\":[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
            "\"resources\":[\"nodes\"]}]}"
            "]");
  set_store(RBAC_CLUSTER_ROLE_BINDINGS,
            "[{\"metadata\":{\"name\":\"b\"},\"roleRef\":{\"kind\":"
            "\"ClusterRole\",\"name\":\"admin\"},\"subjects\":[{\"kind\":"
            "\"User\",\"name\":\"bob\"}]},"
            "{\"metadata\":{\"name\":\"c\"},\"roleRef\":{\"kind\":"
            "\"ClusterRole\",\"name\":\"expr\"},\"subjects\":[{\"kind\":"
            "\"User\",\"name\":\"bob\"}]}]");
  assert_true(ALLOWED(bob, "create", "", "pods", NULL, "x", NULL));
  assert_true(ALLOWED(bob, "delete", RBAC_GROUP, "rolebindings", NULL, "x",
                      "r"));
  assert_true(ALLOWED(bob, "get", "", "secrets", NULL, "x", "s"));
  assert_false(ALLOWED(bob, "get", "", "nodes", NULL, NULL, "n"));
  assert_false(ALLOWED(bob, "delete", "", "pods", NULL, "x", "p"));
  kj_free(bob);
}

static void test_selector(void **state)
{
  kj *labels = J("{\"a\":\"1\",\"b/c\":\"2\"}");
  kj *sel;

  (void)state;
#define SEL(json, want)                                                        \
  do {                                                                         \
    sel = J(json);                                                             \
    assert_int_equal(rbac_selector_matches(sel, labels), want);                \
    kj_free(sel);                                                              \
  } while (0)
  SEL("{}", 1);
  SEL("{\"matchLabels\":{\"b/c\":\"2\"}}", 1);
  SEL("{\"matchLabels\":{\"a\":\"2\"}}", 0);
  SEL("{\"matchLabels\":null}", 1);
  SEL("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"NotIn\","
      "\"values\":[\"2\"]}]}", 1);
  SEL("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"NotIn\","
      "\"values\":[\"1\"]}]}", 0);
  SEL("{\"matchExpressions\":[{\"key\":\"z\",\"operator\":\"NotIn\","
      "\"values\":[\"1\"]}]}", 1);
  SEL("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\"}]}", 1);
  SEL("{\"matchExpressions\":[{\"key\":\"z\",\"operator\":\"Exists\"}]}", 0);
  SEL("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Bogus\"}]}", 0);
  assert_int_equal(rbac_selector_matches(NULL, labels), 0);
#undef SEL
  kj_free(labels);
}

/* ---- rules_for ----------------------------------------------------------- */

static void test_rules_for(void **state)
{
  kj *bob = user("bob", "[\"devs\"]");
  kapi_req r = {.user = bob};
  kj *rr = kj_array(), *nr = kj_array();
  kapi_error e = {0};
  char *s;

  (void)state;
  set_store(RBAC_CLUSTER_ROLES,
            "[" POD_READER ",{\"metadata\":{\"name\":\"urls\"},\"rules\":["
            "{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/healthz\"]}]}]");
  set_store(RBAC_ROLES,
            "[{\"metadata\":{\"name\":\"r\",\"namespace\":\"ns1\"},"
            "\"rules\":[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
            "\"resources\":[\"secrets\"],\"resourceNames\":[\"s\"]}]}]");
  /* bob matches b1 twice (user and group): its rules come once. */
  set_store(RBAC_CLUSTER_ROLE_BINDINGS,
            "[{\"metadata\":{\"name\":\"b1\"},\"roleRef\":{\"kind\":"
            "\"ClusterRole\",\"name\":\"pod-reader\"},\"subjects\":["
            "{\"kind\":\"User\",\"name\":\"bob\"},"
            "{\"kind\":\"Group\",\"name\":\"devs\"}]},"
            "{\"metadata\":{\"name\":\"b2\"},\"roleRef\":{\"kind\":"
            "\"ClusterRole\",\"name\":\"urls\"},\"subjects\":["
            "{\"kind\":\"Group\",\"name\":\"devs\"}]}]");
  set_store(RBAC_ROLE_BINDINGS,
            "[{\"metadata\":{\"name\":\"rb\",\"namespace\":\"ns1\"},"
            "\"roleRef\":{\"kind\":\"Role\",\"name\":\"r\"},"
            "\"subjects\":[{\"kind\":\"User\",\"name\":\"bob\"}]}]");
  assert_int_equal(authz_ops->rules_for(authz_st, &r, "ns1", rr, nr, &e), 0);
  s = kj_dump(rr, NULL);
  assert_string_equal(s, "[{\"verbs\":[\"get\",\"list\"],\"apiGroups\":[\"\"],"
                         "\"resources\":[\"pods\"]},{\"verbs\":[\"get\"],"
                         "\"apiGroups\":[\"\"],\"resources\":[\"secrets\"],"
                         "\"resourceNames\":[\"s\"]}]");
  free(s);
  s = kj_dump(nr, NULL);
  assert_string_equal(s, "[{\"verbs\":[\"get\"],"
                         "\"nonResourceURLs\":[\"/healthz\"]}]");
  free(s);
  kj_free(rr);
  kj_free(nr);

  /* Cluster-wide only: no RoleBindings. */
  rr = kj_array();
  nr = kj_array();
  assert_int_equal(authz_ops->rules_for(authz_st, &r, "", rr, nr, &e), 0);
  assert_int_equal(kj_len(rr), 1);
  kj_free(rr);
  kj_free(nr);

  /* A missing role: what can be listed, and the error. */
  set_store(RBAC_ROLES, "[]");
  rr = kj_array();
  nr = kj_array();
  assert_int_equal(authz_ops->rules_for(authz_st, &r, "ns1", rr, nr, &e), 1);
  assert_int_equal(kj_len(rr), 1);
  assert_string_equal(e.msg, "role.rbac.authorization.k8s.io \"r\" not found");
  kj_free(rr);
  kj_free(nr);
  kj_free(bob);
}

/* ---- escalation ---------------------------------------------------------- */

#define EDIT_ROLE                                                              \
  "{\"metadata\":{\"name\":\"edit\"},\"rules\":[{\"verbs\":[\"get\",\"list\","  \
  "\"create\",\"delete\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\","        \
  "\"configmaps\"]},{\"verbs\":[\"get\"],\"apiGroups\":[\"rbac."              \
  "authorization.k8s.io\"],\"resources\":[\"rolebindings\"]}]}"
#define CLUSTER_ADMIN                                                          \
  "{\"metadata\":{\"name\":\"cluster-admin\"},\"rules\":[{\"verbs\":[\"*\"],"   \
  "\"apiGroups\":[\"*\"],\"resources\":[\"*\"]},{\"verbs\":[\"*\"],"            \
  "\"nonResourceURLs\":[\"*\"]}]}"

/* bob holds edit in ns1 (RoleBinding) and nothing else. */
static void escalation_policy(void)
{
  set_store(RBAC_CLUSTER_ROLES, "[" EDIT_ROLE "," CLUSTER_ADMIN "]");
  set_store(RBAC_ROLE_BINDINGS,
            "[{\"metadata\":{\"name\":\"bob-edit\",\"namespace\":\"ns1\"},"
            "\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"edit\"},"
            "\"subjects\":[{\"kind\":\"User\",\"name\":\"bob\"}]}]");
}

static int admit(const kj *u, const char *op, const char *resource,
                 const char *ns, const char *obj_json, const char *old_json,
                 kapi_error *e)
{
  kj *obj = J(obj_json), *old = old_json ? J(old_json) : NULL;
  kapi_req r = {.verb = !strcmp(op, "CREATE") ? "create" : "update",
                .group = RBAC_GROUP, .resource = resource, .ns = ns,
                .name = !strcmp(op, "CREATE")
                            ? NULL
                            : kj_get_str(kj_get(obj, "metadata"), "name"),
                .path = "", .op = op, .user = u, .old = old};
  int rc;

  memset(e, 0, sizeof *e);
  rc = adm_ops->validate(adm_st, &r, obj, e);
  kj_free(obj);
  kj_free(old);
  return rc;
}

#define BIND(name, kind, role)                                                 \
  "{\"metadata\":{\"name\":\"" name "\"},\"roleRef\":{\"apiGroup\":"            \
  "\"rbac.authorization.k8s.io\",\"kind\":\"" kind "\",\"name\":\"" role      \
  "\"},\"subjects\":[{\"kind\":\"User\",\"name\":\"eve\"}]}"

static void test_escalation_bindings(void **state)
{
  kj *bob = user("bob", "[\"system:authenticated\"]");
  kj *root = user("root", "[\"system:masters\"]");
  kapi_error e;

  (void)state;
  escalation_policy();
  /* bob holds every rule of edit in ns1: he may hand it on there. */
  assert_int_equal(admit(bob, "CREATE", "rolebindings", "ns1",
                         BIND("x", "ClusterRole", "edit"), NULL, &e), 0);
  /* ... not in ns2, where he holds nothing. */
  assert_int_equal(admit(bob, "CREATE", "rolebindings", "ns2",
                         BIND("x", "ClusterRole", "edit"), NULL, &e), -EPERM);
  assert_int_equal(e.code, 403);
  assert_string_equal(e.reason, "Forbidden");
  assert_string_equal(
      e.msg,
      "rolebindings.rbac.authorization.k8s.io \"x\" is forbidden: user "
      "\"bob\" (groups=[\"system:authenticated\"]) is attempting to grant "
      "RBAC permissions not currently held:\n"
      "{APIGroups:[\"\"], Resources:[\"configmaps\"], Verbs:[\"get\" \"list\" "
      "\"create\" \"delete\"]}\n"
      "{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"get\" \"list\" "
      "\"create\" \"delete\"]}\n"
      "{APIGroups:[\"rbac.authorization.k8s.io\"], "
      "Resources:[\"rolebindings\"], Verbs:[\"get\"]}");
  /* cluster-admin is more than edit. */
  assert_int_equal(admit(bob, "CREATE", "rolebindings", "ns1",
                         BIND("y", "ClusterRole", "cluster-admin"), NULL, &e),
                   -EPERM);
  assert_string_equal(
      e.msg,
      "rolebindings.rbac.authorization.k8s.io \"y\" is forbidden: user "
      "\"bob\" (groups=[\"system:authenticated\"]) is attempting to grant "
      "RBAC permissions not currently held:\n"
      "{APIGroups:[\"*\"], Resources:[\"*\"], Verbs:[\"*\"]}\n"
      "{NonResourceURLs:[\"*\"], Verbs:[\"*\"]}");
  /* A ClusterRoleBinding counts cluster-wide rules only. */
  assert_int_equal(admit(bob, "CREATE", "clusterrolebindings", NULL,
                         BIND("z", "ClusterRole", "edit"), NULL, &e), -EPERM);
  assert_non_null(strstr(e.msg, "clusterrolebindings.rbac.authorization.k8s.io"
                                " \"z\" is forbidden: user \"bob\""));
  /* system:masters may do anything. */
  assert_int_equal(admit(root, "CREATE", "clusterrolebindings", NULL,
                         BIND("z", "ClusterRole", "cluster-admin"), NULL, &e),
                   0);
  /* A role that does not exist. */
  assert_int_equal(admit(bob, "CREATE", "rolebindings", "ns1",
                         BIND("w", "ClusterRole", "nope"), NULL, &e), -ENOENT);
  assert_int_equal(e.code, 404);
  assert_string_equal(
      e.msg, "clusterroles.rbac.authorization.k8s.io \"nope\" not found");
  assert_int_equal(admit(bob, "CREATE", "rolebindings", "ns1",
                         BIND("w", "Role", "nope"), NULL, &e), -ENOENT);
  assert_string_equal(e.msg, "roles.rbac.authorization.k8s.io \"nope\" not found");
  kj_free(bob);
  kj_free(root);
}

static void test_escalation_bind_verb(void **state)
{
  kj *bob = user("bob", "[]");
  kapi_error e;

  (void)state;
  escalation_policy();
  set_store(RBAC_CLUSTER_ROLES,
            "[" EDIT_ROLE "," CLUSTER_ADMIN ",{\"metadata\":{\"name\":"
            "\"binder\"},\"rules\":[{\"verbs\":[\"bind\"],\"apiGroups\":["
            "\"rbac.authorization.k8s.io\"],\"resources\":[\"clusterroles\"],"
            "\"resourceNames\":[\"cluster-admin\"]}]}]");
  set_store(RBAC_ROLE_BINDINGS,
            "[{\"metadata\":{\"name\":\"bob-binder\",\"namespace\":\"ns1\"},"
            "\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"binder\"},"
            "\"subjects\":[{\"kind\":\"User\",\"name\":\"bob\"}]}]");
  /* "bind" on cluster-admin in ns1: a RoleBinding there, not a
   * ClusterRoleBinding, and not of another role. */
  assert_int_equal(admit(bob, "CREATE", "rolebindings", "ns1",
                         BIND("x", "ClusterRole", "cluster-admin"), NULL, &e),
                   0);
  assert_int_equal(admit(bob, "CREATE", "clusterrolebindings", NULL,
                         BIND("x", "ClusterRole", "cluster-admin"), NULL, &e),
                   -EPERM);
  assert_int_equal(admit(bob, "CREATE", "rolebindings", "ns1",
                         BIND("x", "ClusterRole", "edit"), NULL, &e), -EPERM);
  kj_free(bob);
}

#define ROLE(name, ns, rules)                                                  \
  "{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"" ns "\"},"             \
  "\"rules\":" rules "}"

static void test_escalation_roles(void **state)
{
  kj *bob = user("bob", "[\"g1\",\"g2\"]");
  kapi_error e;

  (void)state;
  escalation_policy();
  assert_int_equal(admit(bob, "CREATE", "roles", "ns1",
                         ROLE("r", "ns1",
                              "[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
                              "\"resources\":[\"pods\"]}]"),
                         NULL, &e), 0);
  assert_int_equal(admit(bob, "CREATE", "roles", "ns1",
                         ROLE("r", "ns1",
                              "[{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
                              "\"resources\":[\"secrets\"]}]"),
                         NULL, &e), -EPERM);
  assert_string_equal(
      e.msg, "roles.rbac.authorization.k8s.io \"r\" is forbidden: user \"bob\" "
             "(groups=[\"g1\" \"g2\"]) is attempting to grant RBAC permissions "
             "not currently held:\n{APIGroups:[\"\"], Resources:[\"secrets\"], "
             "Verbs:[\"get\"]}");
  /* A ClusterRole: bob's RoleBinding does not count cluster-wide. */
  assert_int_equal(admit(bob, "CREATE", "clusterroles", NULL,
                         "{\"metadata\":{\"name\":\"c\"},\"rules\":[{\"verbs\":"
                         "[\"get\"],\"apiGroups\":[\"\"],\"resources\":"
                         "[\"pods\"]}]}",
                         NULL, &e), -EPERM);
  kj_free(bob);
}

static void test_escalation_escalate_verb_and_aggregation(void **state)
{
  kj *bob = user("bob", "[]");
  kapi_error e;

  (void)state;
  set_store(RBAC_CLUSTER_ROLES,
            "[{\"metadata\":{\"name\":\"pods\"},\"rules\":[{\"verbs\":[\"*\"],"
            "\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}]},"
            "{\"metadata\":{\"name\":\"escalator\"},\"rules\":[{\"verbs\":"
            "[\"escalate\"],\"apiGroups\":[\"rbac.authorization.k8s.io\"],"
            "\"resources\":[\"roles\"]}]}]");
  set_store(RBAC_CLUSTER_ROLE_BINDINGS,
            "[{\"metadata\":{\"name\":\"b\"},\"roleRef\":{\"kind\":"
            "\"ClusterRole\",\"name\":\"pods\"},\"subjects\":[{\"kind\":"
            "\"User\",\"name\":\"bob\"}]},"
            "{\"metadata\":{\"name\":\"e\"},\"roleRef\":{\"kind\":"
            "\"ClusterRole\",\"name\":\"escalator\"},\"subjects\":[{\"kind\":"
            "\"User\",\"name\":\"bob\"}]}]");
  /* "escalate" on roles: any Role goes. */
  assert_int_equal(admit(bob, "CREATE", "roles", "ns1",
                         ROLE("r", "ns1",
                              "[{\"verbs\":[\"*\"],\"apiGroups\":[\"*\"],"
                              "\"resources\":[\"*\"]}]"),
                         NULL, &e), 0);
  /* A ClusterRole whose rules bob holds, but with an aggregationRule. */
  assert_int_equal(admit(bob, "CREATE", "clusterroles", NULL,
                         "{\"metadata\":{\"name\":\"agg\"},\"aggregationRule\":"
                         "{\"clusterRoleSelectors\":[{\"matchLabels\":{\"a\":"
                         "\"b\"}}]},\"rules\":[{\"verbs\":[\"get\"],"
                         "\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}]}",
                         NULL, &e), -EPERM);
  assert_string_equal(e.msg, "clusterroles.rbac.authorization.k8s.io \"agg\" "
                             "is forbidden: must have cluster-admin "
                             "privileges to use the aggregationRule");
  assert_int_equal(admit(bob, "CREATE", "clusterroles", NULL,
                         "{\"metadata\":{\"name\":\"plain\"},\"rules\":["
                         "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
                         "\"resources\":[\"pods\"]}]}",
                         NULL, &e), 0);
  kj_free(bob);
}

static void test_escalation_gc_only_update(void **state)
{
  kj *bob = user("bob", "[]");
  kapi_error e;
  const char *old =
      "{\"metadata\":{\"name\":\"x\",\"namespace\":\"ns2\","
      "\"resourceVersion\":\"5\"},\"roleRef\":{\"apiGroup\":"
      "\"rbac.authorization.k8s.io\",\"kind\":\"ClusterRole\",\"name\":"
      "\"cluster-admin\"},\"subjects\":[{\"kind\":\"User\",\"name\":\"eve\"}]}";

  (void)state;
  escalation_policy();
  /* Only finalizers change: the garbage collector's kind of update. */
  assert_int_equal(
      admit(bob, "UPDATE", "rolebindings", "ns2",
            "{\"metadata\":{\"name\":\"x\",\"namespace\":\"ns2\","
            "\"resourceVersion\":\"6\",\"finalizers\":[\"f\"]},\"roleRef\":{"
            "\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":"
            "\"ClusterRole\",\"name\":\"cluster-admin\"},\"subjects\":["
            "{\"kind\":\"User\",\"name\":\"eve\"}]}",
            old, &e),
      0);
  /* A label is not GC's business. */
  assert_int_equal(
      admit(bob, "UPDATE", "rolebindings", "ns2",
            "{\"metadata\":{\"name\":\"x\",\"namespace\":\"ns2\","
            "\"labels\":{\"a\":\"b\"}},\"roleRef\":{"
            "\"apiGroup\":\"rbac.authorization.k8s.io\",\"kind\":"
            "\"ClusterRole\",\"name\":\"cluster-admin\"},\"subjects\":["
            "{\"kind\":\"User\",\"name\":\"eve\"}]}",
            old, &e),
      -EPERM);
  kj_free(bob);
}

static void test_escalation_ignores_others(void **state)
{
  kj *bob = user("bob", "[]");
  kapi_req r = {.verb = "create", .group = "", .resource = "pods",
                .ns = "ns1", .path = "", .op = "CREATE", .user = bob};
  kj *obj = J("{\"metadata\":{\"name\":\"p\"}}");
  kapi_error e = {0};

  (void)state;
  assert_int_equal(adm_ops->validate(adm_st, &r, obj, &e), 0);
  kj_free(obj);
  kj_free(bob);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_verbs_and_groups),
      cmocka_unit_test(test_resources_and_subresources),
      cmocka_unit_test(test_resource_names),
      cmocka_unit_test(test_non_resource_urls),
      cmocka_unit_test(test_covers),
      cmocka_unit_test(test_covers_subresources_and_names),
      cmocka_unit_test(test_covers_urls_and_quoting),
      cmocka_unit_test(test_selector),
      cmocka_unit_test_setup_teardown(test_subject_kinds, setup, teardown),
      cmocka_unit_test_setup_teardown(test_role_bindings_scope, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_reasons, setup, teardown),
      cmocka_unit_test_setup_teardown(test_role_binding_reason, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_non_resource_requests, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_cache_follows_revisions, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_unserved_resources, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_concurrent_rebuilds, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_aggregation, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rules_for, setup, teardown),
      cmocka_unit_test_setup_teardown(test_escalation_bindings, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_escalation_bind_verb, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_escalation_roles, setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_escalation_escalate_verb_and_aggregation, setup, teardown),
      cmocka_unit_test_setup_teardown(test_escalation_gc_only_update, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_escalation_ignores_others, setup,
                                      teardown),
  };

  /* The rule tests call the plugin's compilers before any init. */
  rbac_api = kapi_host_api_get();
  return cmocka_run_group_tests(tests, NULL, NULL);
}
