/*
 * test_clusterrole_aggregation.c - the ClusterRole aggregation controller
 * plugin: the union of the selected roles' rules (selectors in order,
 * roles by name, each rule once, itself left out), the update it sends
 * only when the rules differ, bad selectors, and what the informer
 * events queue.
 *
 * The plugin's .c is included (its helpers are static) and runs on the
 * real host table, with a fake informer and work queue (kapi_host_set_ctl)
 * over test objects and a fake api_request that records the writes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../plugins/controllers/clusterrole-aggregation/clusterrole_aggregation.c"

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

/* ---- fakes -------------------------------------------------------------------- */

#define MAX_ROLES 16
#define MAX_CALLS 8

static struct {
  kj *roles[MAX_ROLES]; /* the informer's cache */
  size_t n_roles;
  char queued[MAX_ROLES * 4][64];
  size_t n_queued;
  char method[MAX_CALLS][8];
  char path[MAX_CALLS][256];
  char body[MAX_CALLS][8192];
  int calls;
  int answer; /* what api_request returns */
} fake;

static int fake_request(const char *method, const char *path,
                        const char *content_type, const char *body,
                        kapi_obj **ret, kapi_error *e)
{
  int c = fake.calls < MAX_CALLS ? fake.calls++ : MAX_CALLS - 1;
  (void)content_type;
  (void)e;
  snprintf(fake.method[c], sizeof fake.method[c], "%s", method);
  snprintf(fake.path[c], sizeof fake.path[c], "%s", path);
  snprintf(fake.body[c], sizeof fake.body[c], "%s", body ? body : "");
  if (ret)
    *ret = fake.answer == 0 ? (kapi_obj *)parse(body ? body : "{}") : NULL;
  return fake.answer;
}

static int fake_inf_get(kapi_inf *inf, const char *key, kapi_ref **ret)
{
  size_t i;
  (void)inf;
  for (i = 0; i < fake.n_roles; i++)
    if (!strcmp(kj_str(kj_ptr(fake.roles[i], "/metadata/name")), key)) {
      *ret = (kapi_ref *)fake.roles[i];
      return 0;
    }
  *ret = NULL;
  return -ENOENT;
}

static int fake_inf_list(kapi_inf *inf, const char *index, const char *value,
                         kapi_ref ***ret, size_t *ret_n)
{
  kapi_ref **v = calloc(fake.n_roles ? fake.n_roles : 1, sizeof *v);
  size_t i;
  (void)inf;
  (void)index;
  (void)value;
  assert_non_null(v);
  for (i = 0; i < fake.n_roles; i++)
    v[i] = (kapi_ref *)fake.roles[i];
  *ret = v;
  *ret_n = fake.n_roles;
  return 0;
}

static const kapi_obj *fake_ref_obj(const kapi_ref *r)
{
  return (const kapi_obj *)r;
}

static void fake_ref_put(kapi_ref *r)
{
  (void)r;
}

static void fake_ref_array_put(kapi_ref **v, size_t n)
{
  (void)n;
  free(v);
}

static void fake_queue_add(kapi_queue *q, const char *key)
{
  (void)q;
  assert_true(fake.n_queued < sizeof fake.queued / sizeof *fake.queued);
  snprintf(fake.queued[fake.n_queued++], sizeof fake.queued[0], "%s", key);
}

static const kapi_ctl_host fake_ctl = {
    .inf_get = fake_inf_get,
    .inf_list = fake_inf_list,
    .ref_obj = fake_ref_obj,
    .ref_put = fake_ref_put,
    .ref_array_put = fake_ref_array_put,
    .queue_add = fake_queue_add,
};

static void add_role(const char *json)
{
  assert_true(fake.n_roles < MAX_ROLES);
  fake.roles[fake.n_roles++] = parse(json);
}

static int setup(void **state)
{
  (void)state;
  api = kapi_host_api_get();
  kapi_host_set_api_request(fake_request);
  kapi_host_set_ctl(&fake_ctl);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  kapi_host_set_api_request(NULL);
  kapi_host_set_ctl(NULL);
  return 0;
}

static int reset(void **state)
{
  size_t i;
  (void)state;
  for (i = 0; i < fake.n_roles; i++)
    kj_free(fake.roles[i]);
  memset(&fake, 0, sizeof fake);
  return 0;
}

/* ---- test data ------------------------------------------------------------------ */

#define R_PODS "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}"
#define R_PODS_EMPTY_NAMES                                                    \
  "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"],"  \
  "\"resourceNames\":[]}"
#define R_SECRETS                                                             \
  "{\"verbs\":[\"list\"],\"apiGroups\":[\"\"],\"resources\":[\"secrets\"]}"
#define R_URL "{\"verbs\":[\"get\"],\"nonResourceURLs\":[\"/metrics\"]}"

#define LABELED(name, labels, rules)                                          \
  "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":"          \
  "\"ClusterRole\",\"metadata\":{\"name\":\"" name "\",\"labels\":{"    \
  labels "}},\"rules\":[" rules "]}"
#define AGGREGATED(name, selectors, rules)                                    \
  "{\"apiVersion\":\"rbac.authorization.k8s.io/v1\",\"kind\":"          \
  "\"ClusterRole\",\"metadata\":{\"name\":\"" name "\","                \
  "\"resourceVersion\":\"7\"},\"aggregationRule\":{"                    \
  "\"clusterRoleSelectors\":[" selectors "]},\"rules\":[" rules "]}"
#define SEL(k, v) "{\"matchLabels\":{\"" k "\":\"" v "\"}}"

static kj *body_of_call(int i)
{
  assert_true(i < fake.calls);
  return parse(fake.body[i]);
}

/* Runs the sync of `key` and returns its result. */
static int sync(const char *key)
{
  return sync_key(&the_crac, key);
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_union_by_name_without_duplicates(void **state)
{
  kj *b;
  (void)state;
  /* Added out of name order; "b" repeats a rule of "a" (with an empty
   * resourceNames: semantically the same rule). */
  add_role(LABELED("b", "\"agg\":\"yes\"", R_PODS_EMPTY_NAMES "," R_URL));
  add_role(LABELED("a", "\"agg\":\"yes\"", R_PODS "," R_SECRETS));
  add_role(LABELED("c", "\"agg\":\"no\"", R_SECRETS));
  add_role(AGGREGATED("top", SEL("agg", "yes"), ""));

  assert_int_equal(sync("top"), 0);
  assert_int_equal(fake.calls, 1);
  assert_string_equal(fake.method[0], "PUT");
  assert_string_equal(fake.path[0],
                      "/apis/rbac.authorization.k8s.io/v1/clusterroles/top"
                      "?fieldManager=clusterrole-aggregation-controller");
  b = body_of_call(0);
  assert_int_equal(kj_len(kj_get(b, "rules")), 3);
  assert_true(kj_equal(kj_at(kj_get(b, "rules"), 0), kj_at(kj_get(fake.roles[1], "rules"), 0)));
  assert_true(kj_equal(kj_at(kj_get(b, "rules"), 1), kj_at(kj_get(fake.roles[1], "rules"), 1)));
  assert_true(kj_equal(kj_at(kj_get(b, "rules"), 2), kj_at(kj_get(fake.roles[0], "rules"), 1)));
  /* The rest of the object goes back as read: the update is guarded by
   * its resourceVersion, and the aggregation rule stays. */
  assert_string_equal(kj_str(kj_ptr(b, "/metadata/resourceVersion")), "7");
  assert_non_null(kj_ptr(b, "/aggregationRule/clusterRoleSelectors/0"));
  assert_string_equal(kj_str(kj_ptr(b, "/kind")), "ClusterRole");
  kj_free(b);
}

static void test_selectors_in_order_and_self_excluded(void **state)
{
  kj *b;
  (void)state;
  add_role(LABELED("a", "\"x\":\"1\"", R_SECRETS));
  add_role(LABELED("z", "\"y\":\"1\"", R_PODS));
  /* The aggregated role matches its own selector: it is left out. */
  add_role("{\"metadata\":{\"name\":\"m\",\"labels\":{\"y\":\"1\"}},"
           "\"aggregationRule\":{\"clusterRoleSelectors\":["
           SEL("y", "1") ",{\"matchExpressions\":[{\"key\":\"x\","
           "\"operator\":\"In\",\"values\":[\"1\",\"2\"]}]}]},"
           "\"rules\":[" R_URL "]}");

  assert_int_equal(sync("m"), 0);
  assert_int_equal(fake.calls, 1);
  b = body_of_call(0);
  /* First selector's roles (z), then the second's (a). */
  assert_int_equal(kj_len(kj_get(b, "rules")), 2);
  assert_string_equal(kj_str(kj_ptr(b, "/rules/0/resources/0")), "pods");
  assert_string_equal(kj_str(kj_ptr(b, "/rules/1/resources/0")), "secrets");
  kj_free(b);
}

static void test_no_write_when_equal(void **state)
{
  (void)state;
  add_role(LABELED("a", "\"agg\":\"yes\"", R_PODS "," R_SECRETS));
  /* Equal up to an empty list that stands for an absent one. */
  add_role(AGGREGATED("top", SEL("agg", "yes"),
                      R_PODS_EMPTY_NAMES "," R_SECRETS));
  assert_int_equal(sync("top"), 0);
  assert_int_equal(fake.calls, 0);
}

static void test_nothing_selected_clears_rules(void **state)
{
  kj *b;
  (void)state;
  add_role(LABELED("a", "\"agg\":\"no\"", R_PODS));
  add_role(AGGREGATED("top", SEL("agg", "yes"), R_PODS));
  assert_int_equal(sync("top"), 0);
  assert_int_equal(fake.calls, 1);
  b = body_of_call(0);
  assert_int_equal(kj_len(kj_get(b, "rules")), 0);
  assert_non_null(kj_get(b, "rules"));
  kj_free(b);
}

static void test_left_alone(void **state)
{
  (void)state;
  add_role(LABELED("plain", "\"agg\":\"yes\"", R_PODS));
  assert_int_equal(sync("plain"), 0); /* no aggregationRule */
  assert_int_equal(sync("gone"), 0);  /* not in the cache */
  assert_int_equal(fake.calls, 0);
}

static void test_bad_selector_fails(void **state)
{
  (void)state;
  add_role(LABELED("a", "\"agg\":\"yes\"", R_PODS));
  add_role(AGGREGATED("top", "{\"matchExpressions\":[{\"key\":\"agg\","
                             "\"operator\":\"Between\"}]}", ""));
  assert_int_equal(sync("top"), -EINVAL);
  assert_int_equal(fake.calls, 0);
}

static void test_conflict_is_retried(void **state)
{
  (void)state;
  add_role(LABELED("a", "\"agg\":\"yes\"", R_PODS));
  add_role(AGGREGATED("top", SEL("agg", "yes"), ""));
  fake.answer = -EBUSY;
  assert_int_equal(sync("top"), -EBUSY); /* requeued rate-limited */
  fake.answer = -ENOENT;
  assert_int_equal(sync("top"), 0); /* deleted meanwhile */
}

static void test_events_queue_every_aggregated_role(void **state)
{
  (void)state;
  add_role(LABELED("a", "\"agg\":\"yes\"", R_PODS));
  add_role(AGGREGATED("top", SEL("agg", "yes"), ""));
  add_role(AGGREGATED("other", SEL("x", "y"), ""));
  on_update(&the_crac, fake.roles[0], fake.roles[0]);
  assert_int_equal(fake.n_queued, 2);
  assert_string_equal(fake.queued[0], "top");
  assert_string_equal(fake.queued[1], "other");
  on_delete(&the_crac, fake.roles[0]);
  assert_int_equal(fake.n_queued, 4);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_union_by_name_without_duplicates, reset),
      cmocka_unit_test_setup(test_selectors_in_order_and_self_excluded,
                             reset),
      cmocka_unit_test_setup(test_no_write_when_equal, reset),
      cmocka_unit_test_setup(test_nothing_selected_clears_rules, reset),
      cmocka_unit_test_setup(test_left_alone, reset),
      cmocka_unit_test_setup(test_bad_selector_fails, reset),
      cmocka_unit_test_setup(test_conflict_is_retried, reset),
      cmocka_unit_test_setup(test_events_queue_every_aggregated_role, reset),
  };
  int rc = cmocka_run_group_tests(tests, setup, teardown);
  reset(NULL);
  return rc;
}
