/*
 * test_rbac.c - the RBAC resource plugin (registry/rbac), loaded from its
 * built .so: the four resources it registers, upstream's validation of
 * rules, aggregation rules, roleRefs and subjects (messages and field
 * paths), the immutable roleRef, the rbac/v1 defaults, the binding
 * tables, and the bootstrap policy it declares as initial objects.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "plugin_loader.h"
#include "registry_test_util.h"

#define RBAC "rbac.authorization.k8s.io"

/* The plugin and a fixture view of each of its resources (the views
 * share the loaded set, which `all` owns). */
typedef struct rbac_fixture {
  fixture *all;
  fixture role, cluster_role, rolebinding, crb;
} rbac_fixture;

static void view_of(rbac_fixture *r, fixture *f, const char *resource)
{
  size_t i, n = kapi_plugins_count(r->all->ps, KAPI_KIND_RESOURCE);
  for (i = 0; i < n; i++) {
    const kapi_component *c = kapi_plugins_at(r->all->ps, KAPI_KIND_RESOURCE, i);
    const kapi_resource_ops *ops = c->ops;
    if (!strcmp(ops->resource, resource)) {
      f->ps = NULL;
      f->c = c;
      f->ops = ops;
      f->st = c->st;
      return;
    }
  }
  fail_msg("no resource %s", resource);
}

static int setup(void **state)
{
  rbac_fixture *r = calloc(1, sizeof *r);
  char err[512];

  assert_non_null(r);
  r->all = calloc(1, sizeof *r->all);
  assert_non_null(r->all);
  r->all->ps = kapi_plugins_new(NULL);
  if (kapi_plugins_load_file(r->all->ps,
                             rt_plugin_path("registry/rbac", "rbac-registry"),
                             err, sizeof err) < 0 ||
      kapi_plugins_assemble(r->all->ps, NULL, 0, err, sizeof err) < 0)
    fail_msg("%s", err);
  assert_int_equal(kapi_plugins_count(r->all->ps, KAPI_KIND_RESOURCE), 4);
  view_of(r, &r->role, "roles");
  view_of(r, &r->cluster_role, "clusterroles");
  view_of(r, &r->rolebinding, "rolebindings");
  view_of(r, &r->crb, "clusterrolebindings");
  *state = r;
  return 0;
}

static int teardown(void **state)
{
  rbac_fixture *r = *state;
  rt_free(r->all);
  free(r);
  return 0;
}

/* The 422 message of creating `json` as kind (name "x"), "" if valid. */
static const char *create_msg(fixture *f, const char *json)
{
  return rt_validate_msg(f, RBAC, f->ops->kind, "x", json);
}

/* The 422 message of updating `old_json` to `json`, "" when valid; the
 * host's strategy runs prepare_for_update before validate_update. */
static const char *update_msg(fixture *f, const char *json,
                              const char *old_json)
{
  kj *obj = rt_parse(json), *old = rt_parse(old_json), *errs = kj_array();
  const char *msg;
  int n;

  if (f->ops->prepare_for_update)
    f->ops->prepare_for_update(f->st, (kapi_obj *)obj, (const kapi_obj *)old);
  n = f->ops->validate_update(f->st, (const kapi_obj *)obj,
                              (const kapi_obj *)old, (kapi_obj *)errs);
  assert_int_equal((size_t)n, kj_len(errs));
  msg = rt_invalid_message(RBAC, f->ops->kind, "x", errs);
  kj_free(errs);
  kj_free(old);
  kj_free(obj);
  return msg;
}

#define META_NS "\"metadata\":{\"name\":\"x\",\"namespace\":\"ns\"}"
#define META "\"metadata\":{\"name\":\"x\"}"
#define ROLE(rules) "{" META_NS ",\"rules\":[" rules "]}"
#define CROLE(rest) "{" META "," rest "}"
#define PODS_RULE                                                      \
  "{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],\"resources\":[\"pods\"]}"
#define REF(kind, name)                                                \
  "\"roleRef\":{\"apiGroup\":\"" RBAC "\",\"kind\":\"" kind            \
  "\",\"name\":\"" name "\"}"
#define RB(rest) "{" META_NS "," rest "}"
#define CRB(rest) "{" META "," rest "}"

/* ---- registration ------------------------------------------------------- */

static void check_resource(const fixture *f, const char *kind,
                           const char *singular, int namespaced)
{
  const kapi_resource_ops *o = f->ops;
  assert_string_equal(o->group, RBAC);
  assert_string_equal(o->version, "v1");
  assert_string_equal(o->kind, kind);
  assert_string_equal(o->singular, singular);
  assert_int_equal(o->namespaced, namespaced);
  assert_null(o->short_names); /* upstream has none */
  assert_null(o->categories);
  assert_int_equal(o->name_rule, 2); /* path segments: "system:node" */
  assert_int_equal(o->allow_create_on_update, 1);
  assert_int_equal(o->allow_unconditional_update, 1);
  kj_free(rt_parse(o->schema));
}

static void test_registration(void **state)
{
  rbac_fixture *r = *state;
  size_t i;

  check_resource(&r->role, "Role", "role", 1);
  check_resource(&r->cluster_role, "ClusterRole", "clusterrole", 0);
  check_resource(&r->rolebinding, "RoleBinding", "rolebinding", 1);
  check_resource(&r->crb, "ClusterRoleBinding", "clusterrolebinding", 0);
  /* Roles print the default table (NAME, CREATED AT). */
  assert_null(r->role.ops->columns);
  assert_null(r->cluster_role.ops->columns);
  /* Bindings: NAME ROLE AGE, then wide USERS GROUPS SERVICEACCOUNTS. */
  for (i = 0; i < 2; i++) {
    const kapi_resource_ops *o = i ? r->crb.ops : r->rolebinding.ops;
    static const char *const names[] = {"Name",  "Role",   "Age",
                                        "Users", "Groups", "ServiceAccounts"};
    static const int prio[] = {0, 0, 0, 1, 1, 1};
    size_t j;
    assert_int_equal(o->n_columns, 6);
    for (j = 0; j < 6; j++) {
      assert_string_equal(o->columns[j].name, names[j]);
      assert_int_equal(o->columns[j].priority, prio[j]);
    }
  }
  assert_string_equal(r->crb.ops->columns[3].description,
                      "Users in the clusterRoleBinding");
  assert_string_equal(r->rolebinding.ops->columns[5].description,
                      "ServiceAccounts in the roleBinding");
}

/* ---- policy rules --------------------------------------------------------- */

static void test_role_rules(void **state)
{
  rbac_fixture *r = *state;

  assert_string_equal(create_msg(&r->role, ROLE(PODS_RULE)), "");
  assert_string_equal(create_msg(&r->role, "{" META_NS "}"), "");
  assert_string_equal(
      create_msg(&r->role, ROLE(PODS_RULE ",{\"apiGroups\":[\"\"],"
                                          "\"resources\":[\"pods\"]}")),
      "Role.rbac.authorization.k8s.io \"x\" is invalid: rules[1].verbs: "
      "Required value: verbs must contain at least one value");
  assert_string_equal(
      create_msg(&r->role, ROLE("{\"verbs\":[\"get\"]}")),
      "Role.rbac.authorization.k8s.io \"x\" is invalid: "
      "[rules[0].apiGroups: Required value: resource rules must supply at "
      "least one api group, rules[0].resources: Required value: resource "
      "rules must supply at least one resource]");
  /* Namespaced rules cannot name URLs; the value prints as Go's %#v. */
  assert_string_equal(
      create_msg(&r->role, ROLE("{\"verbs\":[\"get\"],\"nonResourceURLs\":"
                                "[\"/healthz\",\"/x/*\"]}")),
      "Role.rbac.authorization.k8s.io \"x\" is invalid: "
      "rules[0].nonResourceURLs: Invalid value: []string{\"/healthz\", "
      "\"/x/*\"}: namespaced rules cannot apply to non-resource URLs");
  /* Resource names on several resources are allowed today. */
  assert_string_equal(
      create_msg(&r->role, ROLE("{\"verbs\":[\"get\"],\"apiGroups\":[\"\"],"
                                "\"resources\":[\"pods\",\"secrets\"],"
                                "\"resourceNames\":[\"a\"]}")),
      "");
}

static void test_cluster_role_rules(void **state)
{
  rbac_fixture *r = *state;

  assert_string_equal(
      create_msg(&r->cluster_role,
                 CROLE("\"rules\":[{\"verbs\":[\"get\"],\"nonResourceURLs\":"
                       "[\"/healthz\"]}," PODS_RULE "]")),
      "");
  assert_string_equal(
      create_msg(&r->cluster_role,
                 CROLE("\"rules\":[{\"verbs\":[\"*\"],\"nonResourceURLs\":"
                       "[\"*\"],\"resources\":[\"pods\"]}]")),
      "ClusterRole.rbac.authorization.k8s.io \"x\" is invalid: "
      "rules[0].nonResourceURLs: Invalid value: []string{\"*\"}: rules "
      "cannot apply to both regular resources and non-resource URLs");
  assert_string_equal(
      create_msg(&r->cluster_role, CROLE("\"rules\":[{\"verbs\":[],"
                                         "\"nonResourceURLs\":[\"/a\"]}]")),
      "ClusterRole.rbac.authorization.k8s.io \"x\" is invalid: "
      "rules[0].verbs: Required value: verbs must contain at least one "
      "value");
}

/* ---- aggregation rules ------------------------------------------------------ */

#define AGG(sels) CROLE("\"aggregationRule\":{\"clusterRoleSelectors\":[" sels "]}")

static void test_aggregation_rule(void **state)
{
  rbac_fixture *r = *state;
  fixture *f = &r->cluster_role;

  assert_string_equal(
      create_msg(f, AGG("{\"matchLabels\":{\"" RBAC
                        "/aggregate-to-view\":\"true\"}},{\"matchExpressions\":"
                        "[{\"key\":\"a\",\"operator\":\"In\",\"values\":"
                        "[\"b\"]}]}")),
      "");
  assert_string_equal(
      create_msg(f, AGG("")),
      "ClusterRole.rbac.authorization.k8s.io \"x\" is invalid: "
      "aggregationRule.clusterRoleSelectors: Required value: at least one "
      "clusterRoleSelector required if aggregationRule is non-nil");
  assert_string_equal(
      create_msg(f, AGG("{\"matchExpressions\":[{\"key\":\"a\","
                        "\"operator\":\"Foo\"}]}")),
      "ClusterRole.rbac.authorization.k8s.io \"x\" is invalid: "
      "[aggregationRule.clusterRoleSelectors[0].matchExpressions[0]."
      "operator: Invalid value: \"Foo\": not a valid selector operator, "
      "aggregationRule.clusterRoleSelectors[0]: Invalid value: null: "
      "invalid label selector.]");
  assert_string_equal(
      create_msg(f, AGG("{},{\"matchExpressions\":[{\"key\":\"a\","
                        "\"operator\":\"In\"}]}")),
      "ClusterRole.rbac.authorization.k8s.io \"x\" is invalid: "
      "[aggregationRule.clusterRoleSelectors[1].matchExpressions[0]."
      "values: Required value: must be specified when `operator` is 'In' "
      "or 'NotIn', aggregationRule.clusterRoleSelectors[1]: Invalid value: "
      "null: invalid label selector.]");
  assert_non_null(strstr(
      create_msg(f, AGG("{\"matchLabels\":{\"bad key\":\"v\"}}")),
      "aggregationRule.clusterRoleSelectors[0].matchLabels: Invalid value: "
      "\"bad key\": name part must consist of alphanumeric characters"));
}

static void test_aggregation_rule_update(void **state)
{
  rbac_fixture *r = *state;
  fixture *f = &r->cluster_role;
  const char *bad_value = AGG("{\"matchExpressions\":[{\"key\":\"a\","
                              "\"operator\":\"In\",\"values\":[\"-x-\"]}]}");
  const char *good = AGG("{\"matchLabels\":{\"a\":\"b\"}}");

  /* A stored invalid value may stay (AllowInvalidLabelValueInSelector);
   * the selector is still not a valid one. */
  assert_string_equal(
      update_msg(f, bad_value, bad_value),
      "ClusterRole.rbac.authorization.k8s.io \"x\" is invalid: "
      "aggregationRule.clusterRoleSelectors[0]: Invalid value: null: "
      "invalid label selector.");
  assert_non_null(strstr(update_msg(f, bad_value, good),
                         "aggregationRule.clusterRoleSelectors[0]."
                         "matchExpressions[0].values[0]: Invalid value: "
                         "\"-x-\": a valid label must be an empty string"));
  assert_string_equal(update_msg(f, good, bad_value), "");
}

/* ---- bindings ----------------------------------------------------------------- */

static void test_rolebinding(void **state)
{
  rbac_fixture *r = *state;
  fixture *f = &r->rolebinding;

  assert_string_equal(
      create_msg(f, RB(REF("Role", "r") ",\"subjects\":[{\"kind\":\"User\","
                       "\"apiGroup\":\"" RBAC "\",\"name\":\"alice\"},"
                       "{\"kind\":\"Group\",\"apiGroup\":\"" RBAC "\","
                       "\"name\":\"devs\"},{\"kind\":\"ServiceAccount\","
                       "\"name\":\"default\"}]")),
      "");
  assert_string_equal(create_msg(f, RB(REF("ClusterRole", "system:view"))),
                      "");
  assert_string_equal(
      create_msg(f, RB("\"roleRef\":{\"apiGroup\":\"x\",\"kind\":\"Pod\","
                       "\"name\":\"a%b/c\"}")),
      "RoleBinding.rbac.authorization.k8s.io \"x\" is invalid: "
      "[roleRef.apiGroup: Unsupported value: \"x\": supported values: "
      "\"rbac.authorization.k8s.io\", roleRef.kind: Unsupported value: "
      "\"Pod\": supported values: \"Role\", \"ClusterRole\", roleRef.name: "
      "Invalid value: \"a%b/c\": may not contain '/', roleRef.name: Invalid "
      "value: \"a%b/c\": may not contain '%']");
  assert_string_equal(
      create_msg(f, RB("\"roleRef\":{\"apiGroup\":\"" RBAC "\",\"kind\":"
                       "\"Role\",\"name\":\"..\"}")),
      "RoleBinding.rbac.authorization.k8s.io \"x\" is invalid: "
      "roleRef.name: Invalid value: \"..\": may not be '..'");
  assert_string_equal(
      create_msg(f, RB("\"roleRef\":{\"apiGroup\":\"" RBAC "\",\"kind\":"
                       "\"Role\"}")),
      "RoleBinding.rbac.authorization.k8s.io \"x\" is invalid: "
      "roleRef.name: Required value");
  assert_string_equal(
      create_msg(f, RB(REF("Role", "r") ",\"subjects\":[{\"kind\":"
                       "\"ServiceAccount\",\"apiGroup\":\"" RBAC "\","
                       "\"name\":\"A_b\"},{\"kind\":\"User\",\"apiGroup\":"
                       "\"v1\",\"name\":\"\"},{\"kind\":\"Node\",\"name\":"
                       "\"n\"}]")),
      "RoleBinding.rbac.authorization.k8s.io \"x\" is invalid: "
      "[subjects[0].name: Invalid value: \"A_b\": a lowercase RFC 1123 "
      "subdomain must consist of lower case alphanumeric characters, '-' "
      "or '.', and must start and end with an alphanumeric character (e.g. "
      "'example.com', regex used for validation is "
      "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*'), "
      "subjects[0].apiGroup: Unsupported value: \"rbac.authorization.k8s.io\": "
      "supported values: \"\", subjects[1].name: Required value, "
      "subjects[1].apiGroup: Unsupported value: \"v1\": supported values: "
      "\"rbac.authorization.k8s.io\", subjects[2].kind: Unsupported value: "
      "\"Node\": supported values: \"ServiceAccount\", \"User\", \"Group\"]");
}

static void test_clusterrolebinding(void **state)
{
  rbac_fixture *r = *state;
  fixture *f = &r->crb;

  assert_string_equal(
      create_msg(f, CRB(REF("ClusterRole", "cluster-admin")
                        ",\"subjects\":[{\"kind\":\"ServiceAccount\","
                        "\"name\":\"sa\",\"namespace\":\"kube-system\"}]")),
      "");
  assert_string_equal(
      create_msg(f, CRB(REF("Role", "r"))),
      "ClusterRoleBinding.rbac.authorization.k8s.io \"x\" is invalid: "
      "roleRef.kind: Unsupported value: \"Role\": supported values: "
      "\"ClusterRole\"");
  /* Outside a namespace an account needs one. */
  assert_string_equal(
      create_msg(f, CRB(REF("ClusterRole", "view")
                        ",\"subjects\":[{\"kind\":\"ServiceAccount\","
                        "\"name\":\"sa\"}]")),
      "ClusterRoleBinding.rbac.authorization.k8s.io \"x\" is invalid: "
      "subjects[0].namespace: Required value");
}

static void test_role_ref_immutable(void **state)
{
  rbac_fixture *r = *state;
  const char *old = RB(REF("Role", "a") ",\"subjects\":[]");

  /* Subjects may change. */
  assert_string_equal(
      update_msg(&r->rolebinding,
                 RB(REF("Role", "a") ",\"subjects\":[{\"kind\":\"User\","
                    "\"name\":\"u\"}]"),
                 old),
      "");
  /* A roleRef whose apiGroup the defaults fill is the same one. */
  assert_string_equal(
      update_msg(&r->rolebinding,
                 RB("\"roleRef\":{\"kind\":\"Role\",\"name\":\"a\"}"), old),
      "");
  assert_string_equal(
      update_msg(&r->rolebinding, RB(REF("ClusterRole", "a")), old),
      "RoleBinding.rbac.authorization.k8s.io \"x\" is invalid: roleRef: "
      "Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", "
      "Kind:\"ClusterRole\", Name:\"a\"}: cannot change roleRef");
  assert_string_equal(
      update_msg(&r->crb, CRB(REF("ClusterRole", "edit")),
                 CRB(REF("ClusterRole", "view"))),
      "ClusterRoleBinding.rbac.authorization.k8s.io \"x\" is invalid: "
      "roleRef: Invalid value: rbac.RoleRef{APIGroup:"
      "\"rbac.authorization.k8s.io\", Kind:\"ClusterRole\", Name:\"edit\"}: "
      "cannot change roleRef");
}

static void test_binding_defaults(void **state)
{
  rbac_fixture *r = *state;
  kj *obj = rt_parse(
      RB("\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":\"view\"},"
         "\"subjects\":[{\"kind\":\"User\",\"name\":\"u\"},{\"kind\":"
         "\"Group\",\"name\":\"g\",\"apiGroup\":\"\"},{\"kind\":"
         "\"ServiceAccount\",\"name\":\"s\"}]"));

  r->rolebinding.ops->prepare_for_create(r->rolebinding.st, (kapi_obj *)obj);
  assert_string_equal(rt_json_at(obj, "/roleRef/apiGroup"), "\"" RBAC "\"");
  assert_string_equal(rt_json_at(obj, "/subjects/0/apiGroup"), "\"" RBAC "\"");
  assert_string_equal(rt_json_at(obj, "/subjects/1/apiGroup"), "\"" RBAC "\"");
  assert_string_equal(rt_json_at(obj, "/subjects/2/apiGroup"), "<absent>");
  kj_free(obj);
}

/* ---- tables ------------------------------------------------------------------ */

static void test_binding_tables(void **state)
{
  rbac_fixture *r = *state;

  assert_string_equal(
      rt_row(&r->rolebinding,
             "{\"metadata\":{\"name\":\"rb\",\"namespace\":\"ns\","
             "\"creationTimestamp\":\"2025-01-01T00:00:00Z\"},"
             REF("Role", "pod-reader") ",\"subjects\":[{\"kind\":\"User\","
             "\"name\":\"alice\"},{\"kind\":\"ServiceAccount\",\"name\":"
             "\"sa1\",\"namespace\":\"ns\"},{\"kind\":\"User\",\"name\":"
             "\"bob\"},{\"kind\":\"Group\",\"name\":\"devs\"},{\"kind\":"
             "\"ServiceAccount\",\"name\":\"sa2\"}]}",
             T0 + 3600),
      "[\"rb\",\"Role/pod-reader\",\"60m\",\"alice, bob\",\"devs\","
      "\"ns/sa1, /sa2\"]");
  assert_string_equal(
      rt_row(&r->crb, CRB(REF("ClusterRole", "cluster-admin")), T0),
      "[\"x\",\"ClusterRole/cluster-admin\",\"<unknown>\",\"\",\"\",\"\"]");
}

/* ---- the bootstrap policy --------------------------------------------------- */

static const kj *find_named(const kj *list, const char *ns, const char *name)
{
  size_t i;
  for (i = 0; i < kj_len(list); i++) {
    const kj *o = kj_at(list, i);
    const char *n = kj_str(kj_ptr(o, "/metadata/name"));
    const char *s = kj_str(kj_ptr(o, "/metadata/namespace"));
    if (n && !strcmp(n, name) &&
        (ns ? s && !strcmp(s, ns) : !s))
      return o;
  }
  return NULL;
}

/* Every initial object of `f` passes its own validation and carries
 * the bootstrap label and annotation. */
static kj *checked_initial_objects(fixture *f, size_t min)
{
  kj *list = rt_parse(f->ops->initial_objects);
  size_t i;

  assert_true(kj_len(list) >= min);
  for (i = 0; i < kj_len(list); i++) {
    kj *o = kj_at(list, i), *errs = kj_array();
    const char *name = kj_str(kj_ptr(o, "/metadata/name"));
    if (f->ops->prepare_for_create)
      f->ops->prepare_for_create(f->st, (kapi_obj *)o);
    assert_int_equal(f->ops->validate(f->st, (kapi_obj *)o, (kapi_obj *)errs),
                     0);
    kj_free(errs);
    assert_string_equal(
        rt_json_at(o, "/metadata/labels/kubernetes.io~1bootstrapping"),
        "\"rbac-defaults\"");
    assert_string_equal(
        rt_json_at(o, "/metadata/annotations/"
                      "rbac.authorization.kubernetes.io~1autoupdate"),
        "\"true\"");
    assert_int_equal(!!kj_ptr(o, "/metadata/namespace"), f->ops->namespaced);
    assert_non_null(name);
  }
  return list;
}

static size_t rule_count(const kj *role)
{
  return kj_len(kj_get(role, "rules"));
}

/* Does `role` hold a rule equal to the JSON `rule`? */
static int has_rule(const kj *role, const char *rule)
{
  kj *want = rt_parse(rule);
  const kj *rules = kj_get(role, "rules");
  size_t i;
  int found = 0;
  for (i = 0; i < kj_len(rules) && !found; i++)
    found = kj_equal(kj_at(rules, i), want);
  kj_free(want);
  return found;
}

/* Is every rule of `small` also in `big`? */
static int rules_within(const kj *small, const kj *big)
{
  const kj *rs = kj_get(small, "rules"), *rb = kj_get(big, "rules");
  size_t i, j;
  for (i = 0; i < kj_len(rs); i++) {
    for (j = 0; j < kj_len(rb) && !kj_equal(kj_at(rs, i), kj_at(rb, j)); j++)
      ;
    if (j == kj_len(rb))
      return 0;
  }
  return 1;
}

static void test_bootstrap_cluster_roles(void **state)
{
  rbac_fixture *r = *state;
  kj *roles = checked_initial_objects(&r->cluster_role, 30);
  const kj *admin = find_named(roles, NULL, "admin");
  const kj *edit = find_named(roles, NULL, "edit");
  const kj *view = find_named(roles, NULL, "view");
  const kj *o;
  static const char *const wanted[] = {
      "cluster-admin", "system:basic-user", "system:discovery",
      "system:public-info-viewer", "system:monitoring",
      "system:auth-delegator", "system:kube-scheduler",
      "system:kube-controller-manager", "system:node", "system:node-proxier",
      "system:volume-scheduler", "system:service-account-issuer-discovery",
      "system:aggregate-to-admin", "system:aggregate-to-edit",
      "system:aggregate-to-view",
      "system:controller:replicaset-controller",
      "system:controller:deployment-controller",
      "system:controller:generic-garbage-collector",
      "system:controller:namespace-controller",
      "system:controller:service-account-controller",
      "system:controller:resourcequota-controller",
      "system:controller:clusterrole-aggregation-controller",
      "system:controller:node-controller", NULL};
  const char *const *w;

  for (w = wanted; *w; w++)
    if (!find_named(roles, NULL, *w))
      fail_msg("no ClusterRole %s", *w);
  o = find_named(roles, NULL, "cluster-admin");
  assert_string_equal(
      rt_json_at(o, "/rules"),
      "[{\"verbs\":[\"*\"],\"apiGroups\":[\"*\"],\"resources\":[\"*\"]},"
      "{\"verbs\":[\"*\"],\"nonResourceURLs\":[\"*\"]}]");

  /* Aggregated roles: their rule, and rules filled as the controller
   * would, view within edit within admin. */
  assert_non_null(admin);
  assert_string_equal(rt_json_at(admin, "/aggregationRule"),
                      "{\"clusterRoleSelectors\":[{\"matchLabels\":{\"" RBAC
                      "/aggregate-to-admin\":\"true\"}}]}");
  assert_string_equal(rt_json_at(edit, "/metadata/labels/" RBAC
                                       "~1aggregate-to-admin"),
                      "\"true\"");
  assert_int_equal(rule_count(view),
                   rule_count(find_named(roles, NULL,
                                         "system:aggregate-to-view")));
  assert_true(rule_count(view) > 0);
  assert_int_equal(rule_count(edit),
                   rule_count(view) +
                       rule_count(find_named(roles, NULL,
                                             "system:aggregate-to-edit")));
  assert_int_equal(rule_count(admin),
                   rule_count(edit) +
                       rule_count(find_named(roles, NULL,
                                             "system:aggregate-to-admin")));
  assert_true(rules_within(view, edit));
  assert_true(rules_within(edit, admin));
  /* Lists sorted as RuleOrDie sorts them. */
  assert_true(has_rule(admin, "{\"verbs\":[\"create\",\"delete\","
                              "\"deletecollection\",\"get\",\"list\","
                              "\"patch\",\"update\",\"watch\"],"
                              "\"apiGroups\":[\"" RBAC "\"],\"resources\":"
                              "[\"rolebindings\",\"roles\"]}"));
  assert_true(has_rule(view, "{\"verbs\":[\"get\",\"list\",\"watch\"],"
                             "\"apiGroups\":[\"apps\"],\"resources\":"
                             "[\"controllerrevisions\",\"daemonsets\","
                             "\"daemonsets/status\",\"deployments\","
                             "\"deployments/scale\",\"deployments/status\","
                             "\"replicasets\",\"replicasets/scale\","
                             "\"replicasets/status\",\"statefulsets\","
                             "\"statefulsets/scale\","
                             "\"statefulsets/status\"]}"));

  /* Leader election of the scheduler and the controller manager. */
  o = find_named(roles, NULL, "system:kube-scheduler");
  assert_true(has_rule(o, "{\"verbs\":[\"create\"],\"apiGroups\":"
                          "[\"coordination.k8s.io\"],\"resources\":"
                          "[\"leases\"]}"));
  assert_true(has_rule(o, "{\"verbs\":[\"get\",\"update\"],\"apiGroups\":"
                          "[\"coordination.k8s.io\"],\"resources\":"
                          "[\"leases\"],\"resourceNames\":"
                          "[\"kube-scheduler\"]}"));
  o = find_named(roles, NULL, "system:kube-controller-manager");
  assert_true(has_rule(o, "{\"verbs\":[\"get\",\"update\"],\"apiGroups\":"
                          "[\"coordination.k8s.io\"],\"resources\":"
                          "[\"leases\"],\"resourceNames\":"
                          "[\"kube-controller-manager\"]}"));
  assert_true(has_rule(o, "{\"verbs\":[\"list\",\"watch\"],\"apiGroups\":"
                          "[\"*\"],\"resources\":[\"*\"]}"));
  o = find_named(roles, NULL, "system:discovery");
  assert_true(has_rule(o, "{\"verbs\":[\"get\"],\"nonResourceURLs\":"
                          "[\"/api\",\"/api/*\",\"/apis\",\"/apis/*\","
                          "\"/healthz\",\"/livez\",\"/openapi\","
                          "\"/openapi/*\",\"/readyz\",\"/version\","
                          "\"/version/\"]}"));
  kj_free(roles);
}

/* The subjects of a binding as compact JSON. */
static const char *subjects_of(const kj *list, const char *ns,
                               const char *name)
{
  const kj *b = find_named(list, ns, name);
  if (!b)
    fail_msg("no binding %s/%s", ns ? ns : "", name);
  return rt_json_at(b, "/subjects");
}

static void test_bootstrap_bindings(void **state)
{
  rbac_fixture *r = *state;
  kj *crbs = checked_initial_objects(&r->crb, 20);
  kj *rbs = checked_initial_objects(&r->rolebinding, 5);
  kj *roles = checked_initial_objects(&r->role, 5);
  const kj *o;

#define GROUP(n) "{\"kind\":\"Group\",\"apiGroup\":\"" RBAC "\",\"name\":\"" n "\"}"
#define USER(n) "{\"kind\":\"User\",\"apiGroup\":\"" RBAC "\",\"name\":\"" n "\"}"
#define SA(ns, n) "{\"kind\":\"ServiceAccount\",\"name\":\"" n "\",\"namespace\":\"" ns "\"}"
  assert_string_equal(subjects_of(crbs, NULL, "cluster-admin"),
                      "[" GROUP("system:masters") "]");
  assert_string_equal(rt_json_at(find_named(crbs, NULL, "cluster-admin"),
                                 "/roleRef"),
                      "{\"apiGroup\":\"" RBAC "\",\"kind\":\"ClusterRole\","
                      "\"name\":\"cluster-admin\"}");
  assert_string_equal(subjects_of(crbs, NULL, "system:basic-user"),
                      "[" GROUP("system:authenticated") "]");
  assert_string_equal(subjects_of(crbs, NULL, "system:discovery"),
                      "[" GROUP("system:authenticated") "]");
  assert_string_equal(subjects_of(crbs, NULL, "system:public-info-viewer"),
                      "[" GROUP("system:authenticated") ","
                      GROUP("system:unauthenticated") "]");
  assert_string_equal(subjects_of(crbs, NULL, "system:kube-scheduler"),
                      "[" USER("system:kube-scheduler") "]");
  assert_string_equal(subjects_of(crbs, NULL, "system:volume-scheduler"),
                      "[" USER("system:kube-scheduler") "]");
  assert_string_equal(subjects_of(crbs, NULL,
                                  "system:kube-controller-manager"),
                      "[" USER("system:kube-controller-manager") "]");
  assert_string_equal(subjects_of(crbs, NULL, "system:monitoring"),
                      "[" GROUP("system:monitoring") "]");
  assert_string_equal(subjects_of(crbs, NULL,
                                  "system:service-account-issuer-discovery"),
                      "[" GROUP("system:serviceaccounts") "]");
  assert_string_equal(subjects_of(crbs, NULL, "system:node"), "<absent>");
  assert_string_equal(
      subjects_of(crbs, NULL, "system:controller:replicaset-controller"),
      "[" SA("kube-system", "replicaset-controller") ","
      USER("system:kube-controller-manager") "]");
  assert_string_equal(
      subjects_of(crbs, NULL,
                  "system:controller:clusterrole-aggregation-controller"),
      "[" SA("kube-system", "clusterrole-aggregation-controller") ","
      USER("system:kube-controller-manager") "]");

  /* kube-system: leader election by leases, authentication reader. */
  assert_string_equal(
      subjects_of(rbs, "kube-system", "system::leader-locking-kube-scheduler"),
      "[" USER("system:kube-scheduler") "," SA("kube-system",
                                               "kube-scheduler") "]");
  o = find_named(roles, "kube-system",
                 "system::leader-locking-kube-controller-manager");
  assert_non_null(o);
  assert_true(has_rule(o, "{\"verbs\":[\"create\",\"get\",\"list\","
                          "\"update\",\"watch\"],\"apiGroups\":"
                          "[\"coordination.k8s.io\"],\"resources\":"
                          "[\"leases\"]}"));
  assert_non_null(find_named(roles, "kube-system",
                             "extension-apiserver-authentication-reader"));
  assert_non_null(find_named(roles, "kube-public",
                             "system:controller:bootstrap-signer"));
  assert_string_equal(
      rt_json_at(find_named(rbs, "kube-system",
                            "system::extension-apiserver-authentication-"
                            "reader"),
                 "/roleRef/kind"),
      "\"Role\"");
  kj_free(roles);
  kj_free(rbs);
  kj_free(crbs);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registration),
      cmocka_unit_test(test_role_rules),
      cmocka_unit_test(test_cluster_role_rules),
      cmocka_unit_test(test_aggregation_rule),
      cmocka_unit_test(test_aggregation_rule_update),
      cmocka_unit_test(test_rolebinding),
      cmocka_unit_test(test_clusterrolebinding),
      cmocka_unit_test(test_role_ref_immutable),
      cmocka_unit_test(test_binding_defaults),
      cmocka_unit_test(test_binding_tables),
      cmocka_unit_test(test_bootstrap_cluster_roles),
      cmocka_unit_test(test_bootstrap_bindings),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
