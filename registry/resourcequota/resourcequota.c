/*
 * resourcequota.c - the "resourcequotas" resource (core/v1 ResourceQuota)
 * as a kapi plugin.
 *
 * Mirrors upstream's resourcequota strategy (pkg/registry/core/
 * resourcequota/strategy.go: status is dropped on create, kept on
 * update, and only status changes through /status), ValidateResourceQuota,
 * ValidateResourceQuotaUpdate and ValidateResourceQuotaStatusUpdate
 * (pkg/apis/core/validation with the helpers of pkg/apis/core/helper:
 * quota resource names, non-negative quantities, integer resources,
 * scopes and scope selectors consistent with the resources) and
 * printResourceQuota (NAME AGE REQUEST LIMIT, "pods: 1/2, requests.cpu:
 * 100m/1").
 *
 * Quantities are stored in their canonical form ("1000m" as "1"), as
 * upstream's serialization writes them; the strategy runs where upstream
 * decodes.  A value that is no quantity is refused with upstream's
 * decoding message, as a field error (upstream answers 400 from the
 * decoder, kapi 422 from validation).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapi/plugin.h"
#include "../common/registry_util.h"
#include "../common/quantity.h"
#include "../../admission/resource-quota/quantity.h"

#define QTY_REGEX_MSG                                                        \
  "quantities must match the regular expression "                           \
  "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
#define QUALIFIED_NAME_MSG                                                   \
  "must consist of alphanumeric characters, '-', '_' or '.', and must "    \
  "start and end with an alphanumeric character (e.g. 'MyName',  or "      \
  "'my.name',  or '123-abc', regex used for validation is "                \
  "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define DNS_SUBDOMAIN_MSG                                                    \
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric " \
  "characters, '-' or '.', and must start and end with an alphanumeric "   \
  "character (e.g. 'example.com', regex used for validation is "           \
  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define EXISTS_ONLY_MSG                                                      \
  "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, "   \
  "ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, "        \
  "ResourceQuotaScopeNotBestEffort or "                                     \
  "ResourceQuotaScopeCrossNamespacePodAffinity"

/* ------------------------------------------------------------------ */
/* Names (pkg/apis/core/helper, apimachinery validation)               */
/* ------------------------------------------------------------------ */

static int in_set(const char *s, const char *const *set)
{
  for (; *set; set++)
    if (!strcmp(s, *set))
      return 1;
  return 0;
}

static int has_prefix(const char *s, const char *p)
{
  return !strncmp(s, p, strlen(p));
}

static int is_hugepages_quota_name(const char *s)
{
  return has_prefix(s, "hugepages-") || has_prefix(s, "requests.hugepages-");
}

/* helper.IsStandardResourceName. */
static int is_standard_resource(const char *s)
{
  static const char *const names[] = {
      "cpu", "memory", "ephemeral-storage", "requests.cpu",
      "requests.memory", "requests.ephemeral-storage", "limits.cpu",
      "limits.memory", "limits.ephemeral-storage", "pods", "resourcequotas",
      "services", "replicationcontrollers", "secrets", "configmaps",
      "persistentvolumeclaims", "storage", "requests.storage",
      "services.nodeports", "services.loadbalancers", NULL};
  return in_set(s, names) || is_hugepages_quota_name(s);
}

/* helper.IsStandardQuotaResourceName. */
static int is_standard_quota_resource(const char *s)
{
  static const char *const names[] = {
      "cpu", "memory", "ephemeral-storage", "requests.cpu",
      "requests.memory", "requests.storage", "requests.ephemeral-storage",
      "limits.cpu", "limits.memory", "limits.ephemeral-storage", "pods",
      "resourcequotas", "services", "replicationcontrollers", "secrets",
      "persistentvolumeclaims", "configmaps", "services.nodeports",
      "services.loadbalancers", NULL};
  return in_set(s, names) || is_hugepages_quota_name(s);
}

static int is_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)* */
static int is_dns_subdomain(const char *s, size_t n)
{
  size_t i, start = 0;

  if (!n)
    return 0;
  for (i = 0; i <= n; i++) {
    if (i < n && s[i] != '.') {
      if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
            s[i] == '-'))
        return 0;
      continue;
    }
    if (i == start || s[start] == '-' || s[i - 1] == '-')
      return 0;
    start = i + 1;
  }
  return 1;
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] */
static int is_qualified_word(const char *s)
{
  size_t i, n = strlen(s);

  if (!n || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
    return 0;
  for (i = 0; i < n; i++)
    if (!is_alnum(s[i]) && !strchr("-_.", s[i]))
      return 0;
  return 1;
}

/* validation.IsQualifiedName: its messages, in order, into msgs[];
 * returns how many (at most 4). */
static int qualified_name_errors(const char *value, const char *msgs[4])
{
  const char *slash = strchr(value, '/'), *name = value;
  int n = 0;

  if (slash && strchr(slash + 1, '/')) {
    msgs[n++] = "a qualified name " QUALIFIED_NAME_MSG
                " with an optional DNS subdomain prefix and '/' (e.g. "
                "'example.com/MyName')";
    return n;
  }
  if (slash) {
    size_t plen = (size_t)(slash - value);
    name = slash + 1;
    if (!plen) {
      msgs[n++] = "prefix part must be non-empty";
    } else {
      if (plen > 253)
        msgs[n++] = "prefix part must be no more than 253 characters";
      if (!is_dns_subdomain(value, plen))
        msgs[n++] = "prefix part " DNS_SUBDOMAIN_MSG;
    }
  }
  if (!*name)
    msgs[n++] = "name part must be non-empty";
  else if (strlen(name) > 63)
    msgs[n++] = "name part must be no more than 63 characters";
  if (!is_qualified_word(name))
    msgs[n++] = "name part " QUALIFIED_NAME_MSG;
  return n;
}

/* helper.IsExtendedResourceName. */
static int is_extended_resource(const char *s)
{
  char quota_name[600];
  const char *msgs[4];

  if (!strchr(s, '/') || strstr(s, "kubernetes.io/") ||
      has_prefix(s, "requests."))
    return 0;
  snprintf(quota_name, sizeof quota_name, "requests.%s", s);
  return qualified_name_errors(quota_name, msgs) == 0;
}

/* helper.IsIntegerResourceName. */
static int is_integer_resource(const char *s)
{
  static const char *const names[] = {
      "pods", "resourcequotas", "services", "replicationcontrollers",
      "secrets", "configmaps", "persistentvolumeclaims", "services.nodeports",
      "services.loadbalancers", NULL};
  return in_set(s, names) || is_extended_resource(s);
}

/* helper.IsStandardResourceQuotaScope. */
static int is_standard_scope(const char *s)
{
  static const char *const scopes[] = {
      "Terminating", "NotTerminating", "BestEffort", "NotBestEffort",
      "PriorityClass", "CrossNamespacePodAffinity", NULL};
  return s && in_set(s, scopes);
}

/* helper.IsResourceQuotaScopeValidForResource. */
static int scope_valid_for(const char *scope, const char *resource)
{
  static const char *const pod_compute[] = {
      "pods", "cpu", "memory", "limits.cpu", "limits.memory",
      "requests.cpu", "requests.memory", NULL};
  static const char *const pod_scopes[] = {
      "Terminating", "NotTerminating", "NotBestEffort", "PriorityClass",
      "CrossNamespacePodAffinity", NULL};

  if (!scope)
    return 1;
  if (in_set(scope, pod_scopes))
    return in_set(resource, pod_compute);
  if (!strcmp(scope, "BestEffort"))
    return !strcmp(resource, "pods");
  return 1;
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */
/* ------------------------------------------------------------------ */

typedef struct vctx {
  kapi_obj *errs;
  int n;
} vctx;

static void add_error(vctx *v, const char *field, const char *type,
                      const char *bad, const char *detail)
{
  if (api->field_error(v->errs, field, type, bad, detail) == 0)
    v->n++;
}

/* The JSON text of a value (for bad values), "null" when absent; into
 * buf. */
static const char *json_of(const kapi_obj *o, char *buf, size_t len)
{
  char *s = o ? api->obj_to_json(o) : NULL;
  snprintf(buf, len, "%s", s ? s : "null");
  api->free(s);
  return buf;
}

/* Go's %#v of a []core.ResourceQuotaScope or []string: the bad value
 * upstream prints for a slice (no fmt.Stringer). */
static const char *go_slice(const char *type, const kapi_obj *arr, char *buf,
                            size_t len)
{
  size_t i, n, o;

  if (api->obj_type(arr) != KAPI_OBJ_ARRAY) {
    snprintf(buf, len, "[]%s(nil)", type);
    return buf;
  }
  n = api->obj_len(arr);
  o = (size_t)snprintf(buf, len, "[]%s{", type);
  for (i = 0; i < n && o < len; i++) {
    char q[400];
    json_quote(or_empty(api->obj_get(api->obj_index(arr, i), "")), q,
               sizeof q);
    o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", q);
  }
  if (o < len)
    snprintf(buf + o, len - o, "}");
  return buf;
}

/* Go's %#v of the core.ScopeSelector (the pointer's element). */
static const char *go_scope_selector(const kapi_obj *sel, char *buf,
                                     size_t len)
{
  const kapi_obj *exprs = api->obj_lookup(sel, "/matchExpressions");
  size_t i, n, o;

  if (api->obj_type(exprs) != KAPI_OBJ_ARRAY) {
    snprintf(buf, len, "core.ScopeSelector{MatchExpressions:[]core."
                       "ScopedResourceSelectorRequirement(nil)}");
    return buf;
  }
  n = api->obj_len(exprs);
  o = (size_t)snprintf(buf, len, "core.ScopeSelector{MatchExpressions:[]"
                                 "core.ScopedResourceSelectorRequirement{");
  for (i = 0; i < n && o < len; i++) {
    const kapi_obj *e = api->obj_index(exprs, i);
    char name[300], op[100], values[1000];
    json_quote(or_empty(str_at(e, "/scopeName")), name, sizeof name);
    json_quote(or_empty(str_at(e, "/operator")), op, sizeof op);
    go_slice("string", api->obj_lookup(e, "/values"), values, sizeof values);
    o += (size_t)snprintf(buf + o, len - o,
                          "%score.ScopedResourceSelectorRequirement{"
                          "ScopeName:%s, Operator:%s, Values:%s}",
                          i ? ", " : "", name, op, values);
  }
  if (o < len)
    snprintf(buf + o, len - o, "}}");
  return buf;
}

/* A "field.Invalid" whose bad value is Go-printed text: the host prints
 * JSON values only, so the text leads the detail. */
static void invalid_go(vctx *v, const char *field, const char *go,
                       const char *detail)
{
  size_t len = strlen(go) + strlen(detail) + 3;
  char *msg = malloc(len);
  if (!msg)
    return;
  snprintf(msg, len, "%s: %s", go, detail);
  add_error(v, field, "FieldValueInvalid", NULL, msg);
  free(msg);
}

/* ValidateResourceQuotaResourceName (validateResourceName first). */
static void check_resource_name(vctx *v, const char *field, const char *name)
{
  const char *msgs[4];
  char bad[700];
  int i, n = qualified_name_errors(name, msgs);

  json_quote(name, bad, sizeof bad);
  for (i = 0; i < n; i++)
    add_error(v, field, "FieldValueInvalid", bad, msgs[i]);
  if (n || strchr(name, '/'))
    return;
  if (!is_standard_resource(name))
    add_error(v, field, "FieldValueInvalid", bad,
              "must be a standard resource type or fully qualified");
  if (!is_standard_quota_resource(name))
    add_error(v, field, "FieldValueInvalid", bad,
              "must be a standard resource for quota");
}

/* ValidateResourceQuantityValue (non-negative; whole for integer
 * resources). */
static void check_quantity(vctx *v, const char *field, const char *name,
                           const kapi_obj *value)
{
  kapi_obj_type t = api->obj_type(value);
  char canon[RQ_QTY_TEXT], bad[RQ_QTY_TEXT + 8], go[400];
  rq_qty q;

  if ((t != KAPI_OBJ_STRING && t != KAPI_OBJ_NUMBER) ||
      rq_qty_parse(api->obj_get(value, ""), &q) < 0) {
    char text[512];
    add_error(v, field, "FieldValueInvalid",
              json_of(value, text, sizeof text), QTY_REGEX_MSG);
    return;
  }
  rq_qty_format(&q, canon, sizeof canon);
  if (rq_qty_sign(&q) < 0) {
    json_quote(canon, bad, sizeof bad);
    add_error(v, field, "FieldValueInvalid", bad,
              "must be greater than or equal to 0");
  }
  if (is_integer_resource(name) && !rq_qty_is_integer(&q))
    invalid_go(v, field, qty_go_value(canon, qty_format_of(canon), go,
                                      sizeof go),
               "must be an integer");
}

/* Every entry of the resource list at `ptr`, reported under `path`. */
static void check_resource_list(vctx *v, const kapi_obj *rq, const char *ptr,
                                const char *path)
{
  const kapi_obj *list = api->obj_lookup(rq, ptr);
  size_t i, n = api->obj_type(list) == KAPI_OBJ_OBJECT ? api->obj_len(list)
                                                         : 0;
  char field[700];

  for (i = 0; i < n; i++) {
    const char *name = api->obj_key(list, i);
    snprintf(field, sizeof field, "%s[%s]", path, name);
    check_resource_name(v, field, name);
    check_quantity(v, field, name, api->obj_index(list, i));
  }
}

/* The names of spec.hard (a Go map iterated as sets.List: sorted). */
static size_t sorted_hard(const kapi_obj *rq, const char ***ret)
{
  const kapi_obj *hard = api->obj_lookup(rq, "/spec/hard");
  size_t i, j, n = api->obj_type(hard) == KAPI_OBJ_OBJECT ? api->obj_len(hard)
                                                          : 0;
  const char **v = n ? calloc(n, sizeof *v) : NULL;

  *ret = v;
  if (!v)
    return 0;
  for (i = 0; i < n; i++) {
    const char *k = api->obj_key(hard, i);
    for (j = i; j > 0 && strcmp(v[j - 1], k) > 0; j--)
      v[j] = v[j - 1];
    v[j] = k;
  }
  return n;
}

/* Is scope pair (a, b) both in the set of scopes seen? */
static int conflicting(const char *const *seen, size_t n, const char *a,
                       const char *b)
{
  size_t i;
  int has_a = 0, has_b = 0;
  for (i = 0; i < n; i++) {
    has_a |= seen[i] && !strcmp(seen[i], a);
    has_b |= seen[i] && !strcmp(seen[i], b);
  }
  return has_a && has_b;
}

/* validateResourceQuotaScopes. */
static void check_scopes(vctx *v, const kapi_obj *rq, const char **hard,
                         size_t n_hard)
{
  const kapi_obj *scopes = api->obj_lookup(rq, "/spec/scopes");
  size_t i, j, n = api->obj_type(scopes) == KAPI_OBJ_ARRAY
                       ? api->obj_len(scopes)
                       : 0;
  const char **seen;
  char go[2048];

  if (!n || !(seen = calloc(n, sizeof *seen)))
    return;
  go_slice("core.ResourceQuotaScope", scopes, go, sizeof go);
  for (i = 0; i < n; i++) {
    const char *scope = api->obj_get(api->obj_index(scopes, i), "");
    if (!is_standard_scope(scope))
      invalid_go(v, "spec.scopes", go, "unsupported scope");
    for (j = 0; j < n_hard; j++)
      if (is_standard_quota_resource(hard[j]) &&
          !scope_valid_for(scope, hard[j]))
        invalid_go(v, "spec.scopes", go,
                   "unsupported scope applied to resource");
    seen[i] = scope;
  }
  if (conflicting(seen, n, "BestEffort", "NotBestEffort"))
    invalid_go(v, "spec.scopes", go, "conflicting scopes");
  if (conflicting(seen, n, "Terminating", "NotTerminating"))
    invalid_go(v, "spec.scopes", go, "conflicting scopes");
  free(seen);
}

static int op_is(const char *op, const char *a, const char *b)
{
  return op && (!strcmp(op, a) || !strcmp(op, b));
}

/* validateScopeSelector / validateScopedResourceSelectorRequirement. */
static void check_scope_selector(vctx *v, const kapi_obj *rq,
                                 const char **hard, size_t n_hard)
{
  const kapi_obj *sel = api->obj_lookup(rq, "/spec/scopeSelector");
  const kapi_obj *exprs = api->obj_lookup(sel, "/matchExpressions");
  size_t i, j, n = api->obj_type(exprs) == KAPI_OBJ_ARRAY
                       ? api->obj_len(exprs)
                       : 0;
  const char *path = "spec.scopeSelector.matchExpressions";
  const char **seen = NULL;
  char go_sel[4096], go_scopes[2048], bad[400];

  if (api->obj_type(sel) != KAPI_OBJ_OBJECT)
    return;
  if (n && !(seen = calloc(n, sizeof *seen)))
    return;
  go_scope_selector(sel, go_sel, sizeof go_sel);
  for (i = 0; i < n; i++) {
    const kapi_obj *e = api->obj_index(exprs, i);
    const char *scope = str_at(e, "/scopeName");
    const char *op = str_at(e, "/operator");
    const kapi_obj *values = api->obj_lookup(e, "/values");
    size_t n_values = api->obj_type(values) == KAPI_OBJ_ARRAY
                          ? api->obj_len(values)
                          : 0;
    if (!is_standard_scope(scope)) {
      json_quote(or_empty(scope), bad, sizeof bad);
      add_error(v, "spec.scopeSelector.matchExpressions.scopeName",
                "FieldValueInvalid", bad, "unsupported scope");
    }
    for (j = 0; j < n_hard; j++)
      if (is_standard_quota_resource(hard[j]) &&
          !scope_valid_for(scope, hard[j]))
        invalid_go(v, path, go_sel, "unsupported scope applied to resource");
    if (scope && (in_set(scope, (const char *const[]){
                                    "BestEffort", "NotBestEffort",
                                    "Terminating", "NotTerminating",
                                    "CrossNamespacePodAffinity", NULL})) &&
        !op_is(op, "Exists", "Exists")) {
      json_quote(or_empty(op), bad, sizeof bad);
      add_error(v, "spec.scopeSelector.matchExpressions.operator",
                "FieldValueInvalid", bad, EXISTS_ONLY_MSG);
    }
    if (op_is(op, "In", "NotIn")) {
      if (!n_values)
        add_error(v, "spec.scopeSelector.matchExpressions.values",
                  "FieldValueRequired", NULL,
                  "must be at least one value when `operator` is 'In' or "
                  "'NotIn' for scope selector");
    } else if (op_is(op, "Exists", "DoesNotExist")) {
      if (n_values) {
        char go_values[1000];
        invalid_go(v, "spec.scopeSelector.matchExpressions.values",
                   go_slice("string", values, go_values, sizeof go_values),
                   "must be no value when `operator` is 'Exist' or "
                   "'DoesNotExist' for scope selector");
      }
    } else {
      json_quote(or_empty(op), bad, sizeof bad);
      add_error(v, "spec.scopeSelector.matchExpressions.operator",
                "FieldValueInvalid", bad, "not a valid selector operator");
    }
    seen[i] = scope;
  }
  /* Upstream reports spec.scopes as the bad value here. */
  go_slice("core.ResourceQuotaScope", api->obj_lookup(rq, "/spec/scopes"),
           go_scopes, sizeof go_scopes);
  if (conflicting(seen, n, "BestEffort", "NotBestEffort"))
    invalid_go(v, path, go_scopes, "conflicting scopes");
  if (conflicting(seen, n, "Terminating", "NotTerminating"))
    invalid_go(v, path, go_scopes, "conflicting scopes");
  free(seen);
}

/* ValidateResourceQuotaSpec. */
static void check_spec(vctx *v, const kapi_obj *rq)
{
  const char **hard = NULL;
  size_t n_hard = sorted_hard(rq, &hard);

  check_resource_list(v, rq, "/spec/hard", "spec.hard");
  check_scopes(v, rq, hard, n_hard);
  check_scope_selector(v, rq, hard, n_hard);
  free(hard);
}

/* ValidateResourceQuotaStatus. */
static void check_status(vctx *v, const kapi_obj *rq)
{
  check_resource_list(v, rq, "/status/hard", "status.hard");
  check_resource_list(v, rq, "/status/used", "status.used");
}

static int rq_validate(void *st, const kapi_obj *rq, kapi_obj *errs)
{
  vctx v = {errs, 0};

  (void)st;
  check_spec(&v, rq);
  check_status(&v, rq);
  return v.n;
}

/* Are the scopes of a and b the same set? */
static int same_scopes(const kapi_obj *a, const kapi_obj *b)
{
  const kapi_obj *sa = api->obj_lookup(a, "/spec/scopes");
  const kapi_obj *sb = api->obj_lookup(b, "/spec/scopes");
  const kapi_obj *x = sa, *y = sb;
  size_t i, j, pass;

  for (pass = 0; pass < 2; pass++) {
    size_t nx = api->obj_type(x) == KAPI_OBJ_ARRAY ? api->obj_len(x) : 0;
    size_t ny = api->obj_type(y) == KAPI_OBJ_ARRAY ? api->obj_len(y) : 0;
    for (i = 0; i < nx; i++) {
      const char *s = or_empty(api->obj_get(api->obj_index(x, i), ""));
      for (j = 0; j < ny; j++)
        if (!strcmp(s, or_empty(api->obj_get(api->obj_index(y, j), ""))))
          break;
      if (j == ny)
        return 0;
    }
    x = sb;
    y = sa;
  }
  return 1;
}

/* ValidateResourceQuotaUpdate: the spec again, and scopes are fixed. */
static int rq_validate_update(void *st, const kapi_obj *rq,
                              const kapi_obj *old, kapi_obj *errs)
{
  vctx v = {errs, 0};
  char go[2048];

  (void)st;
  check_spec(&v, rq);
  if (!same_scopes(rq, old))
    invalid_go(&v, "spec.scopes",
               go_slice("core.ResourceQuotaScope",
                        api->obj_lookup(rq, "/spec/scopes"), go, sizeof go),
               "field is immutable");
  return v.n;
}

/* ValidateResourceQuotaStatusUpdate. */
static int rq_validate_status_update(void *st, const kapi_obj *rq,
                                     const kapi_obj *old, kapi_obj *errs)
{
  vctx v = {errs, 0};

  (void)st;
  (void)old;
  if (!*or_empty(str_at(rq, "/metadata/resourceVersion")))
    add_error(&v, "resourceVersion", "FieldValueRequired", NULL, "");
  check_status(&v, rq);
  return v.n;
}

/* ------------------------------------------------------------------ */
/* Strategy                                                            */
/* ------------------------------------------------------------------ */

/* The pointer to member `key` of the object at `ptr` (keys may hold '/'
 * and '~': escaped as RFC 6901 says). */
static void member_pointer(const char *ptr, const char *key, char *buf,
                           size_t len)
{
  size_t o = (size_t)snprintf(buf, len, "%s/", ptr);
  for (; *key && o + 3 < len; key++) {
    if (*key == '~' || *key == '/') {
      buf[o++] = '~';
      buf[o++] = *key == '~' ? '0' : '1';
    } else {
      buf[o++] = *key;
    }
  }
  buf[o] = '\0';
}

/* Rewrites every quantity of the list at `ptr` in its canonical form, as
 * upstream's decoding and encoding do; other values are left for
 * validation to refuse. */
static void canonicalize(kapi_obj *rq, const char *ptr)
{
  const kapi_obj *list = api->obj_lookup(rq, ptr);
  size_t i, n = api->obj_type(list) == KAPI_OBJ_OBJECT ? api->obj_len(list)
                                                         : 0;
  for (i = 0; i < n; i++) {
    const kapi_obj *val = api->obj_index(list, i);
    kapi_obj_type t = api->obj_type(val);
    char canon[RQ_QTY_TEXT], p[700];
    rq_qty q;
    const char *text = api->obj_get(val, "");
    if ((t != KAPI_OBJ_STRING && t != KAPI_OBJ_NUMBER) ||
        rq_qty_parse(text, &q) < 0)
      continue;
    rq_qty_format(&q, canon, sizeof canon);
    if (t == KAPI_OBJ_STRING && !strcmp(text, canon))
      continue;
    member_pointer(ptr, api->obj_key(list, i), p, sizeof p);
    /* Setting a member keeps the map's other members and its order. */
    api->obj_set_str(rq, p, canon);
    list = api->obj_lookup(rq, ptr);
  }
}

/* PrepareForCreate: status is the controller's, never the creator's. */
static void rq_prepare_for_create(void *st, kapi_obj *rq)
{
  (void)st;
  api->obj_remove(rq, "/status");
  canonicalize(rq, "/spec/hard");
}

/* PrepareForUpdate: status stays as stored (the host already kept it;
 * done here too so the strategy reads as upstream's). */
static void rq_prepare_for_update(void *st, kapi_obj *rq, const kapi_obj *old)
{
  const kapi_obj *status = api->obj_lookup(old, "/status");
  char *json = status ? api->obj_to_json(status) : NULL;

  (void)st;
  if (json)
    api->obj_set_json(rq, "/status", json);
  else
    api->obj_remove(rq, "/status");
  api->free(json);
  canonicalize(rq, "/spec/hard");
}

/* The status strategy: only status changes (the host keeps the spec). */
static void rq_prepare_for_status_update(void *st, kapi_obj *rq,
                                         const kapi_obj *old)
{
  (void)st;
  (void)old;
  canonicalize(rq, "/status/hard");
  canonicalize(rq, "/status/used");
}

/* ------------------------------------------------------------------ */
/* Table (printResourceQuota)                                          */
/* ------------------------------------------------------------------ */

static const kapi_column rq_columns[] = {
    REG_NAME_COLUMN,
    REG_AGE_COLUMN,
    {"Request", "string", "",
     "Request represents a minimum amount of cpu/memory that a container "
     "may consume.",
     0},
    {"Limit", "string", "",
     "Limits control the maximum amount of cpu/memory that a container may "
     "use independent of contention on the node.",
     0},
};

/* The canonical text of the quantity named `name` in the list at `ptr`,
 * "0" when there is none (a zero Quantity). */
static const char *status_value(const kapi_obj *rq, const char *ptr,
                                const char *name, char *buf, size_t len)
{
  const kapi_obj *list = api->obj_lookup(rq, ptr);
  size_t i, n = api->obj_type(list) == KAPI_OBJ_OBJECT ? api->obj_len(list)
                                                         : 0;
  rq_qty q;

  snprintf(buf, len, "0");
  for (i = 0; i < n; i++)
    if (!strcmp(api->obj_key(list, i), name)) {
      const char *text = api->obj_get(api->obj_index(list, i), "");
      if (text && rq_qty_parse(text, &q) == 0)
        rq_qty_format(&q, buf, len);
      break;
    }
  return buf;
}

/* Appends "name: used/hard, " to one of the two columns. */
static void append_cell(char **cell, size_t *len, const char *text)
{
  size_t n = strlen(text);
  char *p = realloc(*cell, *len + n + 1);
  if (!p)
    return;
  memcpy(p + *len, text, n + 1);
  *cell = p;
  *len += n;
}

static int rq_table_row(void *st, const kapi_obj *rq, int64_t now,
                        kapi_obj *cells)
{
  const char **names = NULL;
  size_t i, n = sorted_hard(rq, &names), len[2] = {0, 0};
  char *cell[2] = {NULL, NULL}, age[64];

  (void)st;
  for (i = 0; i < n; i++) {
    char used[RQ_QTY_TEXT], hard[RQ_QTY_TEXT], *text;
    /* "limits.*" goes to LIMIT, everything else to REQUEST. */
    int which = has_prefix(names[i], "limits.") ? 1 : 0;
    size_t tlen = strlen(names[i]) + 2 * RQ_QTY_TEXT + 8;
    if (!(text = malloc(tlen)))
      continue;
    snprintf(text, tlen, "%s%s: %s/%s", len[which] ? ", " : "", names[i],
             status_value(rq, "/status/used", names[i], used, sizeof used),
             status_value(rq, "/status/hard", names[i], hard, sizeof hard));
    append_cell(&cell[which], &len[which], text);
    free(text);
  }
  free(names);
  format_age_of(rq, now, age, sizeof age);
  api->obj_append_str(cells, "", or_empty(str_at(rq, "/metadata/name")));
  api->obj_append_str(cells, "", age);
  api->obj_append_str(cells, "", cell[0] ? cell[0] : "");
  api->obj_append_str(cells, "", cell[1] ? cell[1] : "");
  free(cell[0]);
  free(cell[1]);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Schema and registration                                             */
/* ------------------------------------------------------------------ */

/* Resource lists are free-form objects: a quantity may be sent as a JSON
 * string or number. */
static const char rq_schema[] =
    "{\"apiVersion\":\"string\",\"kind\":\"string\",\"metadata\":\"meta\","
    "\"spec\":{\"hard\":\"object\",\"scopes\":[\"string\"],"
    "\"scopeSelector\":{\"matchExpressions\":[{\"scopeName\":\"string\","
    "\"operator\":\"string\",\"values\":[\"string\"],"
    "\"$required\":[\"scopeName\",\"operator\"]}]}},"
    "\"status\":{\"hard\":\"object\",\"used\":\"object\"}}";

static const char *const rq_short_names[] = {"quota", NULL};

static const kapi_resource_ops rq_ops = {
    .size = sizeof(kapi_resource_ops),
    .group = "",
    .version = "v1",
    .resource = "resourcequotas",
    .kind = "ResourceQuota",
    .singular = "resourcequota",
    .short_names = rq_short_names,
    .namespaced = 1,
    .name_rule = KAPI_NAME_DNS_SUBDOMAIN,
    .allow_unconditional_update = 1,
    .schema = rq_schema,
    .columns = rq_columns,
    .n_columns = sizeof rq_columns / sizeof *rq_columns,
    .prepare_for_create = rq_prepare_for_create,
    .validate = rq_validate,
    .prepare_for_update = rq_prepare_for_update,
    .validate_update = rq_validate_update,
    .table_row = rq_table_row,
    .subresources = KAPI_SUB_STATUS,
    .prepare_for_status_update = rq_prepare_for_status_update,
    .validate_status_update = rq_validate_status_update,
};

static int rq_init(kapi_plugin *self, const kapi_host_api *host,
                   const char *config, size_t config_len, kapi_error *e)
{
  (void)config;
  (void)config_len;
  (void)e;
  return reg_register(self, host, &rq_ops);
}

KAPI_PLUGIN_DEFINE(.name = "resourcequota-registry", .version = "0.1.0",
                   .description = "core/v1 resourcequotas: validation, "
                                  "the status subresource and the table",
                   .license = "Apache-2.0", .init = rq_init);
