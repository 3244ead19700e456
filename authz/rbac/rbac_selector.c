/*
 * rbac_selector.c - metav1.LabelSelector matching, for the
 * clusterRoleSelectors of aggregated ClusterRoles.
 *
 * Upstream: apimachinery/pkg/apis/meta/v1/helpers.go
 * (LabelSelectorAsSelector) and pkg/labels/selector.go.  Labels are
 * read by iterating the object's keys, never through JSON pointers:
 * label keys carry "/" ("rbac.authorization.k8s.io/aggregate-to-view").
 */
#include <string.h>

#include "rbac_internal.h"

/* The value of label `key`, or NULL if the object has no such label. */
static const char *label(const kapi_obj *labels, const char *key)
{
  size_t n, i;

  if (rbac_api->obj_type(labels) != KAPI_OBJ_OBJECT)
    return NULL;
  n = rbac_api->obj_len(labels);
  for (i = 0; i < n; i++) {
    const char *k = rbac_api->obj_key(labels, i);

    if (k && !strcmp(k, key))
      return rbac_api->obj_get(rbac_api->obj_index(labels, i), NULL);
  }
  return NULL;
}

static int in_values(const kapi_obj *values, const char *v)
{
  size_t n = rbac_api->obj_type(values) == KAPI_OBJ_ARRAY
                 ? rbac_api->obj_len(values)
                 : 0,
         i;

  for (i = 0; i < n; i++) {
    const char *s = rbac_api->obj_get(rbac_api->obj_index(values, i), NULL);

    if (s && !strcmp(s, v))
      return 1;
  }
  return 0;
}

static int match_labels(const kapi_obj *want, const kapi_obj *labels)
{
  kapi_obj_type t = rbac_api->obj_type(want);
  size_t n, i;

  if (t == KAPI_OBJ_NONE || t == KAPI_OBJ_NULL)
    return 1;
  if (t != KAPI_OBJ_OBJECT)
    return 0;
  n = rbac_api->obj_len(want);
  for (i = 0; i < n; i++) {
    const char *k = rbac_api->obj_key(want, i);
    const char *v = rbac_api->obj_get(rbac_api->obj_index(want, i), NULL);
    const char *have = k ? label(labels, k) : NULL;

    if (!v || !have || strcmp(have, v))
      return 0;
  }
  return 1;
}

/* One LabelSelectorRequirement.  Unknown operators make the selector
 * invalid, which selects nothing (the aggregation controller gives up
 * on it). */
static int match_expression(const kapi_obj *req, const kapi_obj *labels)
{
  const char *key = rbac_api->obj_get(req, "/key");
  const char *op = rbac_api->obj_get(req, "/operator");
  const kapi_obj *values = rbac_api->obj_lookup(req, "/values");
  const char *have;

  if (!key || !op)
    return 0;
  have = label(labels, key);
  if (!strcmp(op, "In"))
    return have && in_values(values, have);
  if (!strcmp(op, "NotIn"))
    return !have || !in_values(values, have);
  if (!strcmp(op, "Exists"))
    return have != NULL;
  if (!strcmp(op, "DoesNotExist"))
    return have == NULL;
  return 0;
}

int rbac_selector_matches(const kapi_obj *sel, const kapi_obj *labels)
{
  const kapi_obj *exprs;
  size_t n, i;

  if (rbac_api->obj_type(sel) != KAPI_OBJ_OBJECT)
    return 0;
  if (!match_labels(rbac_api->obj_lookup(sel, "/matchLabels"), labels))
    return 0;
  exprs = rbac_api->obj_lookup(sel, "/matchExpressions");
  if (rbac_api->obj_type(exprs) == KAPI_OBJ_NONE ||
      rbac_api->obj_type(exprs) == KAPI_OBJ_NULL)
    return 1;
  if (rbac_api->obj_type(exprs) != KAPI_OBJ_ARRAY)
    return 0;
  n = rbac_api->obj_len(exprs);
  for (i = 0; i < n; i++)
    if (!match_expression(rbac_api->obj_index(exprs, i), labels))
      return 0;
  return 1;
}
