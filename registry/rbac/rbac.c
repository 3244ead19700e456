/*
 * rbac.c - the rbac.authorization.k8s.io/v1 kinds as one kapi plugin:
 * roles, clusterroles, rolebindings and clusterrolebindings, with
 * upstream's bootstrap policy as their initial objects.
 *
 * Mirrors upstream's RBAC strategies (pkg/registry/rbac/{role,
 * clusterrole,rolebinding,clusterrolebinding}/strategy.go: create and
 * unconditional update allowed), their validation (pkg/apis/rbac/
 * validation: policy rules, aggregation rules, roleRef, subjects, an
 * immutable roleRef) and printers (roles print upstream's default table,
 * NAME and CREATED AT; bindings NAME ROLE AGE and, wide, USERS GROUPS
 * SERVICEACCOUNTS).  Names follow ValidateRBACName (a path segment), so
 * "system:node" is a valid name.
 *
 * Not here: the escalation checks upstream's RBAC storage makes on
 * writes (ConfirmNoEscalation, "bind" and "escalate" verbs), and the
 * authorizer that reads these objects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapi/plugin.h"
#include "../common/workload.h"
#include "bootstrap_policy.h"
#include "policy_json.h"

/* Names are path segments (ValidateRBACName); a host that predates the
 * rule gives them its DNS subdomain check instead. */
#ifndef KAPI_NAME_PATH_SEGMENT
#define KAPI_NAME_PATH_SEGMENT 2
#endif

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

/* The string member `key` of `o`, "" when absent (Go's zero value). */
static const char *str_or_empty(const kapi_obj *o, const char *key)
{
  const char *s = str_of(member(o, key));
  return s ? s : "";
}

/*
 * field.Invalid with a value upstream prints with %#v (a struct, a
 * slice): the host prints a bad value as JSON, so the Go literal is put
 * in front of the detail, with no bad value, giving the same message.
 */
static void invalid_go(vctx *v, const char *field, const char *go_literal,
                       const char *detail)
{
  size_t n = strlen(go_literal) + strlen(detail) + 3;
  char *text = malloc(n);
  if (!text) {
    err(v, field, "FieldValueInvalid", NULL, detail);
    return;
  }
  snprintf(text, n, "%s: %s", go_literal, detail);
  err(v, field, "FieldValueInvalid", NULL, text);
  free(text);
}

/* %#v of a []string: []string{"a", "b"} (owned by `b`). */
static const char *go_string_slice(pj_buf *b, const kapi_obj *list)
{
  size_t i, n = count(list);
  char q[1024];

  pj_puts(b, "[]string{");
  for (i = 0; i < n; i++) {
    const char *s = str_of(api->obj_index(list, i));
    if (i)
      pj_puts(b, ", ");
    pj_puts(b, quote(s ? s : "", q, sizeof q));
  }
  pj_puts(b, "}");
  return b->oom ? "[]string{...}" : b->s;
}

/* path.IsValidPathSegmentName, each message as a FieldValueInvalid. */
static void check_path_segment(vctx *v, const char *field, const char *name)
{
  static const char *const may_not_be[] = {".", ".."};
  static const char *const may_not_contain[] = {"/", "%"};
  char bad[320], msg[64];
  size_t i;

  quote(name, bad, sizeof bad);
  for (i = 0; i < 2; i++)
    if (!strcmp(name, may_not_be[i])) {
      snprintf(msg, sizeof msg, "may not be '%s'", may_not_be[i]);
      err(v, field, "FieldValueInvalid", bad, msg);
      return;
    }
  for (i = 0; i < 2; i++)
    if (strstr(name, may_not_contain[i])) {
      snprintf(msg, sizeof msg, "may not contain '%s'", may_not_contain[i]);
      err(v, field, "FieldValueInvalid", bad, msg);
    }
}

/* field.NotSupported: the value, then the quoted valid ones. */
static void not_supported(vctx *v, const char *field, const char *value,
                          const char *supported)
{
  char bad[320];
  err(v, field, "FieldValueNotSupported", quote(value, bad, sizeof bad),
      supported);
}

/* ------------------------------------------------------------------ */
/* Policy rules (ValidatePolicyRule)                                   */
/* ------------------------------------------------------------------ */

static void check_rule(vctx *v, const kapi_obj *rule, size_t i,
                       int namespaced)
{
  const kapi_obj *urls = member(rule, "nonResourceURLs");
  char f[96];

  if (!count(member(rule, "verbs"))) {
    snprintf(f, sizeof f, "rules[%zu].verbs", i);
    err(v, f, "FieldValueRequired", NULL,
        "verbs must contain at least one value");
  }
  if (count(urls)) {
    pj_buf lit = {0};
    const char *go = go_string_slice(&lit, urls);
    snprintf(f, sizeof f, "rules[%zu].nonResourceURLs", i);
    if (namespaced)
      invalid_go(v, f, go, "namespaced rules cannot apply to non-resource URLs");
    if (count(member(rule, "apiGroups")) || count(member(rule, "resources")) ||
        count(member(rule, "resourceNames")))
      invalid_go(v, f, go,
                 "rules cannot apply to both regular resources and "
                 "non-resource URLs");
    free(lit.s);
    return;
  }
  if (!count(member(rule, "apiGroups"))) {
    snprintf(f, sizeof f, "rules[%zu].apiGroups", i);
    err(v, f, "FieldValueRequired", NULL,
        "resource rules must supply at least one api group");
  }
  if (!count(member(rule, "resources"))) {
    snprintf(f, sizeof f, "rules[%zu].resources", i);
    err(v, f, "FieldValueRequired", NULL,
        "resource rules must supply at least one resource");
  }
}

static void check_rules(vctx *v, int namespaced)
{
  const kapi_obj *rules = member(v->obj, "rules");
  size_t i, n = api->obj_type(rules) == KAPI_OBJ_ARRAY ? count(rules) : 0;
  for (i = 0; i < n; i++)
    check_rule(v, api->obj_index(rules, i), i, namespaced);
}

/* ------------------------------------------------------------------ */
/* Aggregation rules (label selectors)                                 */
/* ------------------------------------------------------------------ */

/* IsValidLabelValue, as a predicate. */
static int label_value_ok(const char *s)
{
  size_t n = s ? strlen(s) : 0;
  return n == 0 || (n <= 63 && is_label_word(s, n));
}

/* IsQualifiedName (a label key), as a predicate. */
static int label_key_ok(const char *key)
{
  const char *slash = key ? strchr(key, '/') : NULL;
  const char *name = slash ? slash + 1 : key;
  size_t n;

  if (!key)
    return 0;
  if (slash) {
    size_t plen = (size_t)(slash - key);
    if (!plen || plen > 253 || key[0] == '-' || key[0] == '.' ||
        key[plen - 1] == '-' || key[plen - 1] == '.' ||
        strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789-.") != plen)
      return 0;
  }
  n = strlen(name);
  return n > 0 && n <= 63 && is_label_word(name, n);
}

static int known_operator(const char *op, int *with_values)
{
  if (op && (!strcmp(op, "In") || !strcmp(op, "NotIn"))) {
    *with_values = 1;
    return 1;
  }
  if (op && (!strcmp(op, "Exists") || !strcmp(op, "DoesNotExist"))) {
    *with_values = 0;
    return 1;
  }
  return 0;
}

/* Does metav1.LabelSelectorAsSelector accept `sel`? */
static int selector_convertible(const kapi_obj *sel)
{
  const kapi_obj *ml = member(sel, "matchLabels");
  const kapi_obj *exprs = member(sel, "matchExpressions");
  size_t i, j, n = api->obj_type(ml) == KAPI_OBJ_OBJECT ? count(ml) : 0;
  int with_values;

  for (i = 0; i < n; i++)
    if (!label_key_ok(api->obj_key(ml, i)) ||
        !label_value_ok(str_of(api->obj_index(ml, i))))
      return 0;
  n = count(exprs);
  for (i = 0; i < n; i++) {
    const kapi_obj *e = api->obj_index(exprs, i);
    const kapi_obj *values = member(e, "values");
    if (!known_operator(str_of(member(e, "operator")), &with_values) ||
        with_values != (count(values) > 0) ||
        !label_key_ok(str_of(member(e, "key"))))
      return 0;
    for (j = 0; j < count(values); j++)
      if (!label_value_ok(str_of(api->obj_index(values, j))))
        return 0;
  }
  return 1;
}

/* ValidateLabelSelectorRequirement at `path` ("...matchExpressions[i]"). */
static void check_requirement(vctx *v, const kapi_obj *e, const char *path,
                              int allow_invalid_values)
{
  const char *op = str_of(member(e, "operator"));
  const char *key = str_of(member(e, "key"));
  const kapi_obj *values = member(e, "values");
  size_t j, nv = count(values);
  char f[256], bad[320];
  int with_values;

  if (!known_operator(op, &with_values)) {
    snprintf(f, sizeof f, "%s.operator", path);
    err(v, f, "FieldValueInvalid", quote(op ? op : "", bad, sizeof bad),
        "not a valid selector operator");
  } else if (with_values && !nv) {
    snprintf(f, sizeof f, "%s.values", path);
    err(v, f, "FieldValueRequired", NULL,
        "must be specified when `operator` is 'In' or 'NotIn'");
  } else if (!with_values && nv) {
    snprintf(f, sizeof f, "%s.values", path);
    err(v, f, "FieldValueForbidden", NULL,
        "may not be specified when `operator` is 'Exists' or "
        "'DoesNotExist'");
  }
  snprintf(f, sizeof f, "%s.key", path);
  check_label_key(v, f, key ? key : "");
  for (j = 0; !allow_invalid_values && j < nv; j++) {
    const char *val = str_of(api->obj_index(values, j));
    snprintf(f, sizeof f, "%s.values[%zu]", path, j);
    check_label_value(v, f, val ? val : "");
  }
}

/* ValidateLabelSelector, then the conversion upstream tries next. */
static void check_cluster_role_selector(vctx *v, const kapi_obj *sel,
                                        size_t i, int allow_invalid_values)
{
  const kapi_obj *exprs = member(sel, "matchExpressions");
  char path[96], f[160];
  size_t j;

  snprintf(path, sizeof path, "aggregationRule.clusterRoleSelectors[%zu]", i);
  snprintf(f, sizeof f, "%s.matchLabels", path);
  check_labels(v, member(sel, "matchLabels"), f);
  for (j = 0; j < count(exprs); j++) {
    snprintf(f, sizeof f, "%s.matchExpressions[%zu]", path, j);
    check_requirement(v, api->obj_index(exprs, j), f, allow_invalid_values);
  }
  /* The selector the failed conversion returns is nil. */
  if (!selector_convertible(sel))
    err(v, path, "FieldValueInvalid", "null", "invalid label selector.");
}

static void check_aggregation_rule(vctx *v, int allow_invalid_values)
{
  const kapi_obj *rule = member(v->obj, "aggregationRule");
  const kapi_obj *sels = member(rule, "clusterRoleSelectors");
  size_t i, n;

  if (api->obj_type(rule) != KAPI_OBJ_OBJECT)
    return;
  n = api->obj_type(sels) == KAPI_OBJ_ARRAY ? count(sels) : 0;
  if (!n)
    err(v, "aggregationRule.clusterRoleSelectors", "FieldValueRequired", NULL,
        "at least one clusterRoleSelector required if aggregationRule is "
        "non-nil");
  for (i = 0; i < n; i++)
    check_cluster_role_selector(v, api->obj_index(sels, i), i,
                                allow_invalid_values);
}

/* hasInvalidLabelValueInLabelSelector: would the strict ValidateLabelSelector
 * find anything wrong in the stored role's selectors? */
static int has_invalid_selector(const kapi_obj *role)
{
  const kapi_obj *sels =
      member(member(role, "aggregationRule"), "clusterRoleSelectors");
  size_t i, n = api->obj_type(sels) == KAPI_OBJ_ARRAY ? count(sels) : 0;

  /* Every strict finding also defeats the conversion, and conversely. */
  for (i = 0; i < n; i++)
    if (!selector_convertible(api->obj_index(sels, i)))
      return 1;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Roles                                                               */
/* ------------------------------------------------------------------ */

static int role_validate(void *st, const kapi_obj *obj, kapi_obj *errs)
{
  vctx v = {obj, errs, 0};
  (void)st;
  check_rules(&v, 1);
  return v.n;
}

static int role_validate_update(void *st, const kapi_obj *obj,
                                const kapi_obj *old, kapi_obj *errs)
{
  (void)old;
  return role_validate(st, obj, errs);
}

static int cluster_role_validate_with(const kapi_obj *obj, kapi_obj *errs,
                                      int allow_invalid_values)
{
  vctx v = {obj, errs, 0};
  check_rules(&v, 0);
  check_aggregation_rule(&v, allow_invalid_values);
  return v.n;
}

static int cluster_role_validate(void *st, const kapi_obj *obj,
                                 kapi_obj *errs)
{
  (void)st;
  return cluster_role_validate_with(obj, errs, 0);
}

static int cluster_role_validate_update(void *st, const kapi_obj *obj,
                                        const kapi_obj *old, kapi_obj *errs)
{
  (void)st;
  return cluster_role_validate_with(obj, errs, has_invalid_selector(old));
}

/* ------------------------------------------------------------------ */
/* Bindings                                                            */
/* ------------------------------------------------------------------ */

/* Is the string at `ptr` absent or ""? */
static int unset_at(const kapi_obj *o, const char *ptr)
{
  const char *s = str_at(o, ptr);
  return !s || !*s;
}

/*
 * rbac/v1 defaults (SetDefaults_RoleBinding, _ClusterRoleBinding,
 * _Subject), applied on every write as upstream applies them on decode:
 * roleRef.apiGroup and the apiGroup of User and Group subjects default
 * to the RBAC group.
 */
static void default_binding(kapi_obj *obj)
{
  const kapi_obj *subjects = api->obj_lookup(obj, "/subjects");
  size_t i, n = api->obj_type(subjects) == KAPI_OBJ_ARRAY ? count(subjects) : 0;
  char ptr[64];

  if (api->obj_type(api->obj_lookup(obj, "/roleRef")) == KAPI_OBJ_OBJECT &&
      unset_at(obj, "/roleRef/apiGroup"))
    api->obj_set_str(obj, "/roleRef/apiGroup", RBAC_GROUP);
  for (i = 0; i < n; i++) {
    const char *kind;
    snprintf(ptr, sizeof ptr, "/subjects/%zu/kind", i);
    kind = str_at(obj, ptr);
    snprintf(ptr, sizeof ptr, "/subjects/%zu/apiGroup", i);
    if (kind && (!strcmp(kind, "User") || !strcmp(kind, "Group")) &&
        unset_at(obj, ptr))
      api->obj_set_str(obj, ptr, RBAC_GROUP);
  }
}

static void binding_prepare_for_create(void *st, kapi_obj *obj)
{
  (void)st;
  default_binding(obj);
}

static void binding_prepare_for_update(void *st, kapi_obj *obj,
                                       const kapi_obj *old)
{
  (void)st;
  (void)old;
  default_binding(obj);
}

static void check_role_ref(vctx *v, int cluster)
{
  const kapi_obj *ref = member(v->obj, "roleRef");
  const char *group = str_or_empty(ref, "apiGroup");
  const char *kind = str_or_empty(ref, "kind");
  const char *name = str_or_empty(ref, "name");

  if (strcmp(group, RBAC_GROUP))
    not_supported(v, "roleRef.apiGroup", group,
                  "supported values: \"" RBAC_GROUP "\"");
  if (cluster && strcmp(kind, "ClusterRole"))
    not_supported(v, "roleRef.kind", kind,
                  "supported values: \"ClusterRole\"");
  else if (!cluster && strcmp(kind, "Role") && strcmp(kind, "ClusterRole"))
    not_supported(v, "roleRef.kind", kind,
                  "supported values: \"Role\", \"ClusterRole\"");
  if (!*name)
    err(v, "roleRef.name", "FieldValueRequired", NULL, NULL);
  else
    check_path_segment(v, "roleRef.name", name);
}

/* ValidateRoleBindingSubject. */
static void check_subject(vctx *v, const kapi_obj *s, size_t i,
                          int namespaced)
{
  const char *kind = str_or_empty(s, "kind");
  const char *name = str_or_empty(s, "name");
  const char *group = str_or_empty(s, "apiGroup");
  char f[96];

  if (!*name) {
    snprintf(f, sizeof f, "subjects[%zu].name", i);
    err(v, f, "FieldValueRequired", NULL, NULL);
  }
  if (!strcmp(kind, "ServiceAccount")) {
    if (*name) {
      snprintf(f, sizeof f, "subjects[%zu].name", i);
      v->n += api->validate_dns_subdomain(v->errs, f, name);
    }
    if (*group) {
      snprintf(f, sizeof f, "subjects[%zu].apiGroup", i);
      not_supported(v, f, group, "supported values: \"\"");
    }
    if (!namespaced && !*str_or_empty(s, "namespace")) {
      snprintf(f, sizeof f, "subjects[%zu].namespace", i);
      err(v, f, "FieldValueRequired", NULL, NULL);
    }
  } else if (!strcmp(kind, "User") || !strcmp(kind, "Group")) {
    if (strcmp(group, RBAC_GROUP)) {
      snprintf(f, sizeof f, "subjects[%zu].apiGroup", i);
      not_supported(v, f, group, "supported values: \"" RBAC_GROUP "\"");
    }
  } else {
    snprintf(f, sizeof f, "subjects[%zu].kind", i);
    not_supported(v, f, kind,
                  "supported values: \"ServiceAccount\", \"User\", "
                  "\"Group\"");
  }
}

static int binding_validate_with(const kapi_obj *obj, kapi_obj *errs,
                                 int cluster)
{
  vctx v = {obj, errs, 0};
  const kapi_obj *subjects = member(obj, "subjects");
  size_t i, n = api->obj_type(subjects) == KAPI_OBJ_ARRAY ? count(subjects) : 0;

  check_role_ref(&v, cluster);
  for (i = 0; i < n; i++)
    check_subject(&v, api->obj_index(subjects, i), i, !cluster);
  return v.n;
}

/* The roleRef may not change: a binding's meaning is its role. */
static int role_ref_unchanged(const kapi_obj *obj, const kapi_obj *old,
                              kapi_obj *errs)
{
  static const char *const keys[] = {"apiGroup", "kind", "name"};
  const kapi_obj *ref = member(obj, "roleRef");
  const kapi_obj *old_ref = member(old, "roleRef");
  vctx v = {obj, errs, 0};
  char lit[1024], g[320], k[320], n[320];
  size_t i;

  for (i = 0; i < 3; i++)
    if (strcmp(str_or_empty(ref, keys[i]), str_or_empty(old_ref, keys[i])))
      break;
  if (i == 3)
    return 0;
  /* Upstream prints the internal rbac.RoleRef struct with %#v. */
  snprintf(lit, sizeof lit, "rbac.RoleRef{APIGroup:%s, Kind:%s, Name:%s}",
           quote(str_or_empty(ref, "apiGroup"), g, sizeof g),
           quote(str_or_empty(ref, "kind"), k, sizeof k),
           quote(str_or_empty(ref, "name"), n, sizeof n));
  invalid_go(&v, "roleRef", lit, "cannot change roleRef");
  return v.n;
}

static int rolebinding_validate(void *st, const kapi_obj *obj, kapi_obj *errs)
{
  (void)st;
  return binding_validate_with(obj, errs, 0);
}

static int rolebinding_validate_update(void *st, const kapi_obj *obj,
                                       const kapi_obj *old, kapi_obj *errs)
{
  int n = rolebinding_validate(st, obj, errs);
  return n + role_ref_unchanged(obj, old, errs);
}

static int crb_validate(void *st, const kapi_obj *obj, kapi_obj *errs)
{
  (void)st;
  return binding_validate_with(obj, errs, 1);
}

static int crb_validate_update(void *st, const kapi_obj *obj,
                               const kapi_obj *old, kapi_obj *errs)
{
  int n = crb_validate(st, obj, errs);
  return n + role_ref_unchanged(obj, old, errs);
}

/* ------------------------------------------------------------------ */
/* Binding tables (printRoleBinding, printClusterRoleBinding)          */
/* ------------------------------------------------------------------ */

#define ROLE_REF_DOC_RB                                                  \
  "RoleRef can reference a Role in the current namespace or a "          \
  "ClusterRole in the global namespace. If the RoleRef cannot be "       \
  "resolved, the Authorizer must return an error. This field is "        \
  "immutable."
#define ROLE_REF_DOC_CRB                                                 \
  "RoleRef can only reference a ClusterRole in the global namespace. If " \
  "the RoleRef cannot be resolved, the Authorizer must return an error. " \
  "This field is immutable."

static const kapi_column rb_columns[] = {
    REG_NAME_COLUMN,
    {"Role", "string", "", ROLE_REF_DOC_RB, 0},
    REG_AGE_COLUMN,
    {"Users", "string", "", "Users in the roleBinding", 1},
    {"Groups", "string", "", "Groups in the roleBinding", 1},
    {"ServiceAccounts", "string", "", "ServiceAccounts in the roleBinding", 1},
};

static const kapi_column crb_columns[] = {
    REG_NAME_COLUMN,
    {"Role", "string", "", ROLE_REF_DOC_CRB, 0},
    REG_AGE_COLUMN,
    {"Users", "string", "", "Users in the clusterRoleBinding", 1},
    {"Groups", "string", "", "Groups in the clusterRoleBinding", 1},
    {"ServiceAccounts", "string", "",
     "ServiceAccounts in the clusterRoleBinding", 1},
};

/* Appends `s` to a ", "-joined list. */
static void join_item(pj_buf *b, const char *s)
{
  if (b->len)
    pj_puts(b, ", ");
  pj_puts(b, s);
}

/* SubjectsStrings: users, groups and "namespace/name" of accounts. */
static int binding_table_row(void *st, const kapi_obj *obj, int64_t now,
                             kapi_obj *cells)
{
  const kapi_obj *ref = member(obj, "roleRef");
  const kapi_obj *subjects = member(obj, "subjects");
  pj_buf users = {0}, groups = {0}, sas = {0}, role = {0};
  size_t i, n = api->obj_type(subjects) == KAPI_OBJ_ARRAY ? count(subjects) : 0;
  char age[64];

  (void)st;
  for (i = 0; i < n; i++) {
    const kapi_obj *s = api->obj_index(subjects, i);
    const char *kind = str_or_empty(s, "kind");
    if (!strcmp(kind, "User")) {
      join_item(&users, str_or_empty(s, "name"));
    } else if (!strcmp(kind, "Group")) {
      join_item(&groups, str_or_empty(s, "name"));
    } else if (!strcmp(kind, "ServiceAccount")) {
      join_item(&sas, str_or_empty(s, "namespace"));
      pj_puts(&sas, "/");
      pj_puts(&sas, str_or_empty(s, "name"));
    }
  }
  pj_puts(&role, str_or_empty(ref, "kind"));
  pj_puts(&role, "/");
  pj_puts(&role, str_or_empty(ref, "name"));
  format_age_of(obj, now, age, sizeof age);
  api->obj_append_str(cells, "", or_empty(str_at(obj, "/metadata/name")));
  api->obj_append_str(cells, "", role.oom ? "" : or_empty(role.s));
  api->obj_append_str(cells, "", age);
  api->obj_append_str(cells, "", users.oom ? "" : or_empty(users.s));
  api->obj_append_str(cells, "", groups.oom ? "" : or_empty(groups.s));
  api->obj_append_str(cells, "", sas.oom ? "" : or_empty(sas.s));
  free(users.s);
  free(groups.s);
  free(sas.s);
  free(role.s);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Schemas and registration                                            */
/* ------------------------------------------------------------------ */

/* JSON tokens turned into one C string (see node.c). */
#define STR(...) STR_(__VA_ARGS__)
#define STR_(...) #__VA_ARGS__

#define S_RULE                                                          \
  { "$listType": "atomic", "$required": ["verbs"],                     \
    "verbs": ["string"], "apiGroups": ["string"],                      \
    "resources": ["string"], "resourceNames": ["string"],              \
    "nonResourceURLs": ["string"] }
#define S_SELECTOR                                                      \
  { "$listType": "atomic", "matchLabels": "map",                       \
    "matchExpressions": [{ "$required": ["key", "operator"],           \
                           "key": "string", "operator": "string",      \
                           "values": ["string"] }] }
#define S_SUBJECT                                                       \
  { "$listType": "atomic", "$required": ["kind", "name"],              \
    "kind": "string", "apiGroup": "string", "name": "string",          \
    "namespace": "string" }

static const char role_schema[] = STR({
  "apiVersion": "string", "kind": "string", "metadata": "meta",
  "rules": [S_RULE]
});

static const char cluster_role_schema[] = STR({
  "apiVersion": "string", "kind": "string", "metadata": "meta",
  "rules": [S_RULE],
  "aggregationRule": { "clusterRoleSelectors": [S_SELECTOR] }
});

static const char binding_schema[] = STR({
  "$required": ["roleRef"],
  "apiVersion": "string", "kind": "string", "metadata": "meta",
  "subjects": [S_SUBJECT],
  "roleRef": { "$required": ["apiGroup", "kind", "name"],
               "apiGroup": "string", "kind": "string", "name": "string" }
});

/* Not const: init points initial_objects at the expanded policy. */
static kapi_resource_ops role_ops = {
    .size = sizeof(kapi_resource_ops),
    .group = RBAC_GROUP,
    .version = "v1",
    .resource = "roles",
    .kind = "Role",
    .singular = "role",
    .namespaced = 1,
    .name_rule = KAPI_NAME_PATH_SEGMENT,
    .allow_create_on_update = 1,
    .allow_unconditional_update = 1,
    .schema = role_schema,
    .validate = role_validate,
    .validate_update = role_validate_update,
};

static kapi_resource_ops cluster_role_ops = {
    .size = sizeof(kapi_resource_ops),
    .group = RBAC_GROUP,
    .version = "v1",
    .resource = "clusterroles",
    .kind = "ClusterRole",
    .singular = "clusterrole",
    .namespaced = 0,
    .name_rule = KAPI_NAME_PATH_SEGMENT,
    .allow_create_on_update = 1,
    .allow_unconditional_update = 1,
    .schema = cluster_role_schema,
    .validate = cluster_role_validate,
    .validate_update = cluster_role_validate_update,
};

static kapi_resource_ops rolebinding_ops = {
    .size = sizeof(kapi_resource_ops),
    .group = RBAC_GROUP,
    .version = "v1",
    .resource = "rolebindings",
    .kind = "RoleBinding",
    .singular = "rolebinding",
    .namespaced = 1,
    .name_rule = KAPI_NAME_PATH_SEGMENT,
    .allow_create_on_update = 1,
    .allow_unconditional_update = 1,
    .schema = binding_schema,
    .columns = rb_columns,
    .n_columns = sizeof rb_columns / sizeof *rb_columns,
    .prepare_for_create = binding_prepare_for_create,
    .prepare_for_update = binding_prepare_for_update,
    .validate = rolebinding_validate,
    .validate_update = rolebinding_validate_update,
    .table_row = binding_table_row,
};

static kapi_resource_ops crb_ops = {
    .size = sizeof(kapi_resource_ops),
    .group = RBAC_GROUP,
    .version = "v1",
    .resource = "clusterrolebindings",
    .kind = "ClusterRoleBinding",
    .singular = "clusterrolebinding",
    .namespaced = 0,
    .name_rule = KAPI_NAME_PATH_SEGMENT,
    .allow_create_on_update = 1,
    .allow_unconditional_update = 1,
    .schema = binding_schema,
    .columns = crb_columns,
    .n_columns = sizeof crb_columns / sizeof *crb_columns,
    .prepare_for_create = binding_prepare_for_create,
    .prepare_for_update = binding_prepare_for_update,
    .validate = crb_validate,
    .validate_update = crb_validate_update,
    .table_row = binding_table_row,
};

/* The expanded bootstrap policy; the ops tables point into it. */
static policy_json policy;

static void rbac_forget_policy(void)
{
  role_ops.initial_objects = NULL;
  cluster_role_ops.initial_objects = NULL;
  rolebinding_ops.initial_objects = NULL;
  crb_ops.initial_objects = NULL;
  policy_json_free(&policy);
}

static int rbac_init(kapi_plugin *self, const kapi_host_api *host,
                     const char *config, size_t config_len, kapi_error *e)
{
  int rc;

  (void)config;
  (void)config_len;
  api = host;
  if ((rc = policy_json_build(&policy)) < 0) {
    api->error_set(e, 500, "InternalError",
                   "rbac: cannot build the bootstrap policy");
    return rc;
  }
  role_ops.initial_objects = policy.roles;
  cluster_role_ops.initial_objects = policy.cluster_roles;
  rolebinding_ops.initial_objects = policy.role_bindings;
  crb_ops.initial_objects = policy.cluster_role_bindings;
  if ((rc = api->register_resource(self, &role_ops, NULL)) < 0 ||
      (rc = api->register_resource(self, &cluster_role_ops, NULL)) < 0 ||
      (rc = api->register_resource(self, &rolebinding_ops, NULL)) < 0 ||
      (rc = api->register_resource(self, &crb_ops, NULL)) < 0) {
    /* The host rolls the registrations back and will not call fini. */
    rbac_forget_policy();
    return rc;
  }
  return 0;
}

static void rbac_fini(kapi_plugin *self)
{
  (void)self;
  rbac_forget_policy();
}

KAPI_PLUGIN_DEFINE(.name = "rbac-registry", .version = "0.1.0",
                   .description = "rbac.authorization.k8s.io/v1 roles, "
                                  "clusterroles, rolebindings and "
                                  "clusterrolebindings, with upstream's "
                                  "bootstrap policy",
                   .license = "Apache-2.0", .init = rbac_init,
                   .fini = rbac_fini);
