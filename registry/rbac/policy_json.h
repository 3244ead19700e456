/*
 * policy_json.h - expands the bootstrap policy tables
 * (bootstrap_policy.h) into the JSON arrays of Roles, ClusterRoles,
 * RoleBindings and ClusterRoleBindings the rbac plugin declares as its
 * initial_objects.
 *
 * Rules come out as upstream's rule builders make them: every list
 * sorted, empty lists left out (verbs always written).  The rules of an
 * aggregated ClusterRole are what upstream's aggregation controller
 * computes (the union, in order and without duplicates, of the rules of
 * the ClusterRoles its selector matches, taken by name), iterated to a
 * fixed point since an aggregated role may feed another (view -> edit ->
 * admin).
 *
 * Included once, by rbac.c, after bootstrap_policy.h.  Everything here
 * allocates with malloc: the texts belong to the plugin, which frees
 * them with policy_json_free().
 */
#ifndef KAPI_RBAC_POLICY_JSON_H
#define KAPI_RBAC_POLICY_JSON_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootstrap_policy.h"

#define BOOTSTRAP_LABEL "kubernetes.io/bootstrapping=rbac-defaults"
#define AUTOUPDATE_ANNOTATION "rbac.authorization.kubernetes.io/autoupdate"
#define SA_ROLE_PREFIX "system:controller:"
#define RBAC_GROUP "rbac.authorization.k8s.io"

/* The four initial_objects texts (JSON arrays), owned. */
typedef struct policy_json {
  char *roles, *cluster_roles, *role_bindings, *cluster_role_bindings;
} policy_json;

/* ---- a growing text ------------------------------------------------------ */

/* Appends never fail on the spot: an allocation failure sets `oom`, and
 * the caller checks it once at the end. */
typedef struct pj_buf {
  char *s;
  size_t len, cap;
  int oom;
} pj_buf;

static void pj_add(pj_buf *b, const char *s, size_t n)
{
  if (b->oom)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 1024;
    char *p;
    while (cap < b->len + n + 1)
      cap *= 2;
    if (!(p = realloc(b->s, cap))) {
      b->oom = 1;
      return;
    }
    b->s = p;
    b->cap = cap;
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

static void pj_puts(pj_buf *b, const char *s)
{
  pj_add(b, s, strlen(s));
}

/* A JSON string of the n bytes at s (the tables hold plain ASCII). */
static void pj_str_n(pj_buf *b, const char *s, size_t n)
{
  size_t i;
  pj_add(b, "\"", 1);
  for (i = 0; i < n; i++) {
    if (s[i] == '"' || s[i] == '\\')
      pj_add(b, "\\", 1);
    pj_add(b, s + i, 1);
  }
  pj_add(b, "\"", 1);
}

static void pj_str(pj_buf *b, const char *s)
{
  pj_str_n(b, s, strlen(s));
}

/* "key=value" as a JSON member "key":"value". */
static void pj_label(pj_buf *b, const char *kv)
{
  const char *eq = strchr(kv, '=');
  pj_str_n(b, kv, (size_t)(eq - kv));
  pj_puts(b, ":");
  pj_str(b, eq + 1);
}

/* ---- rules ---------------------------------------------------------------- */

static int pj_cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "key":[items of csv, sorted], preceded by a comma unless first.  An
 * empty item is kept (the core group). */
static void pj_list(pj_buf *b, const char *key, const char *csv, int first)
{
  char *copy = strdup(csv), **items, *p;
  size_t n = 1, i;

  for (p = copy; p && (p = strchr(p, ',')); p++)
    n++;
  items = copy ? malloc(n * sizeof *items) : NULL;
  if (!items) {
    free(copy);
    b->oom = 1;
    return;
  }
  for (n = 0, p = copy;;) {
    char *comma = strchr(p, ',');
    items[n++] = p;
    if (!comma)
      break;
    *comma = '\0';
    p = comma + 1;
  }
  qsort(items, n, sizeof *items, pj_cmp_str);
  if (!first)
    pj_puts(b, ",");
  pj_str(b, key);
  pj_puts(b, ":[");
  for (i = 0; i < n; i++) {
    if (i)
      pj_puts(b, ",");
    pj_str(b, items[i]);
  }
  pj_puts(b, "]");
  free(items);
  free(copy);
}

/* One PolicyRule as JSON, members in rbacv1.PolicyRule's order. */
static char *pj_rule(const rule_def *r)
{
  pj_buf b = {0};

  pj_puts(&b, "{");
  pj_list(&b, "verbs", r->verbs, 1);
  if (r->groups)
    pj_list(&b, "apiGroups", r->groups, 0);
  if (r->resources)
    pj_list(&b, "resources", r->resources, 0);
  if (r->names)
    pj_list(&b, "resourceNames", r->names, 0);
  if (r->urls)
    pj_list(&b, "nonResourceURLs", r->urls, 0);
  pj_puts(&b, "}");
  if (b.oom) {
    free(b.s);
    return NULL;
  }
  return b.s;
}

/* A role's rules as JSON texts, owned. */
typedef struct pj_rules {
  char **v;
  size_t n;
} pj_rules;

static void pj_rules_free(pj_rules *r)
{
  size_t i;
  for (i = 0; i < r->n; i++)
    free(r->v[i]);
  free(r->v);
  r->v = NULL;
  r->n = 0;
}

/* Appends `rule` (ownership transferred) unless an equal one is there;
 * the texts are canonical, so equal rules are equal strings. */
static int pj_rules_add(pj_rules *r, char *rule)
{
  char **v;
  size_t i;

  if (!rule)
    return -ENOMEM;
  for (i = 0; i < r->n; i++)
    if (!strcmp(r->v[i], rule)) {
      free(rule);
      return 0;
    }
  if (!(v = realloc(r->v, (r->n + 1) * sizeof *v))) {
    free(rule);
    return -ENOMEM;
  }
  r->v = v;
  r->v[r->n++] = rule;
  return 0;
}

static int pj_rules_from_table(pj_rules *out, const rule_def *defs)
{
  int rc = 0;
  for (; defs && defs->verbs && rc == 0; defs++)
    rc = pj_rules_add(out, pj_rule(defs));
  return rc;
}

static int pj_rules_equal(const pj_rules *a, const pj_rules *b)
{
  size_t i;
  if (a->n != b->n)
    return 0;
  for (i = 0; i < a->n; i++)
    if (strcmp(a->v[i], b->v[i]))
      return 0;
  return 1;
}

/* ---- aggregation -------------------------------------------------------- */

#define N_CLUSTER_ROLES (sizeof cluster_roles / sizeof *cluster_roles)

/* Does cluster_roles[i] carry the label "key=value" `sel`? */
static int pj_has_label(size_t i, const char *sel)
{
  return !strcmp(sel, BOOTSTRAP_LABEL) ||
         (cluster_roles[i].label && !strcmp(cluster_roles[i].label, sel));
}

static int pj_cmp_role_index(const void *a, const void *b)
{
  return strcmp(cluster_roles[*(const size_t *)a].name,
                cluster_roles[*(const size_t *)b].name);
}

/*
 * Fills rules[i] for every aggregated ClusterRole: the union of the
 * rules of the roles its selector matches, by name, itself excluded
 * (syncClusterRole), repeated until nothing changes.
 */
static int pj_aggregate(pj_rules *rules)
{
  size_t by_name[N_CLUSTER_ROLES], i, j, k, round;
  int changed = 1, rc = 0;

  for (i = 0; i < N_CLUSTER_ROLES; i++)
    by_name[i] = i;
  qsort(by_name, N_CLUSTER_ROLES, sizeof *by_name, pj_cmp_role_index);
  for (round = 0; changed && round <= N_CLUSTER_ROLES && rc == 0; round++) {
    changed = 0;
    for (i = 0; i < N_CLUSTER_ROLES && rc == 0; i++) {
      pj_rules fresh = {0};
      const char *sel = cluster_roles[i].aggregate;
      if (!sel)
        continue;
      for (j = 0; j < N_CLUSTER_ROLES && rc == 0; j++) {
        size_t from = by_name[j];
        if (from == i || !pj_has_label(from, sel))
          continue;
        for (k = 0; k < rules[from].n && rc == 0; k++)
          rc = pj_rules_add(&fresh, strdup(rules[from].v[k]));
      }
      if (rc == 0 && !pj_rules_equal(&fresh, &rules[i])) {
        pj_rules_free(&rules[i]);
        rules[i] = fresh;
        changed = 1;
      } else {
        pj_rules_free(&fresh);
      }
    }
  }
  return rc;
}

/* ---- objects ------------------------------------------------------------ */

static void pj_metadata(pj_buf *b, const char *name, const char *ns,
                        const char *label)
{
  pj_puts(b, "\"metadata\":{\"name\":");
  pj_str(b, name);
  if (ns) {
    pj_puts(b, ",\"namespace\":");
    pj_str(b, ns);
  }
  pj_puts(b, ",\"labels\":{");
  pj_label(b, BOOTSTRAP_LABEL);
  if (label) {
    pj_puts(b, ",");
    pj_label(b, label);
  }
  pj_puts(b, "},\"annotations\":{\"" AUTOUPDATE_ANNOTATION "\":\"true\"}}");
}

static void pj_role(pj_buf *b, const char *name, const char *ns,
                    const char *label, const char *aggregate,
                    const pj_rules *rules)
{
  size_t i;

  if (b->len > 1)
    pj_puts(b, ",");
  pj_puts(b, "{");
  pj_metadata(b, name, ns, label);
  if (aggregate) {
    pj_puts(b, ",\"aggregationRule\":{\"clusterRoleSelectors\":["
               "{\"matchLabels\":{");
    pj_label(b, aggregate);
    pj_puts(b, "}}]}");
  }
  pj_puts(b, ",\"rules\":[");
  for (i = 0; i < rules->n; i++) {
    if (i)
      pj_puts(b, ",");
    pj_puts(b, rules->v[i]);
  }
  pj_puts(b, "]}");
}

/* One Subject from "Kind:name" (n bytes), as rbacv1helpers makes them:
 * User and Group in the RBAC group, ServiceAccount "ns/name" with its
 * namespace and no group. */
static void pj_subject(pj_buf *b, const char *s, size_t n)
{
  const char *colon = memchr(s, ':', n), *name = colon + 1;
  size_t kind_len = (size_t)(colon - s), name_len = n - kind_len - 1;

  pj_puts(b, "{\"kind\":");
  pj_str_n(b, s, kind_len);
  if (kind_len == 14 && !strncmp(s, "ServiceAccount", 14)) {
    const char *slash = memchr(name, '/', name_len);
    pj_puts(b, ",\"name\":");
    pj_str_n(b, slash + 1, name_len - (size_t)(slash + 1 - name));
    pj_puts(b, ",\"namespace\":");
    pj_str_n(b, name, (size_t)(slash - name));
  } else {
    pj_puts(b, ",\"apiGroup\":\"" RBAC_GROUP "\",\"name\":");
    pj_str_n(b, name, name_len);
  }
  pj_puts(b, "}");
}

static void pj_binding(pj_buf *b, const binding_def *d)
{
  if (b->len > 1)
    pj_puts(b, ",");
  pj_puts(b, "{");
  pj_metadata(b, d->name, d->ns, NULL);
  pj_puts(b, ",\"roleRef\":{\"apiGroup\":\"" RBAC_GROUP "\",\"kind\":");
  pj_str(b, d->role_kind);
  pj_puts(b, ",\"name\":");
  pj_str(b, d->role);
  pj_puts(b, "}");
  if (d->subjects) {
    const char *p = d->subjects;
    pj_puts(b, ",\"subjects\":[");
    for (;;) {
      const char *comma = strchr(p, ',');
      size_t n = comma ? (size_t)(comma - p) : strlen(p);
      if (p != d->subjects)
        pj_puts(b, ",");
      pj_subject(b, p, n);
      if (!comma)
        break;
      p = comma + 1;
    }
    pj_puts(b, "]");
  }
  pj_puts(b, "}");
}

/*
 * A controller's binding, "system:controller:<name>" to its account and,
 * unlike upstream, to the controller manager's own user: kapi's
 * controller manager runs every controller under its one identity
 * (upstream's --use-service-account-credentials=false), so it holds
 * exactly the union of the controllers' roles and nothing more.
 */
static void pj_controller_binding(pj_buf *b, const char *controller)
{
  char name[128], subject[256];
  binding_def d = {name, NULL, "ClusterRole", name, subject};

  snprintf(name, sizeof name, SA_ROLE_PREFIX "%s", controller);
  snprintf(subject, sizeof subject,
           "ServiceAccount:kube-system/%s,User:system:kube-controller-manager",
           controller);
  pj_binding(b, &d);
}

/* Takes the text out of `b` (NULL, and b freed, on allocation failure). */
static char *pj_take(pj_buf *b)
{
  if (b->oom) {
    free(b->s);
    return NULL;
  }
  return b->s;
}

static int pj_cluster_roles(char **out)
{
  pj_rules rules[N_CLUSTER_ROLES];
  pj_buf b = {0};
  size_t i;
  int rc = 0;

  memset(rules, 0, sizeof rules);
  for (i = 0; i < N_CLUSTER_ROLES && rc == 0; i++)
    rc = pj_rules_from_table(&rules[i], cluster_roles[i].rules);
  if (rc == 0)
    rc = pj_aggregate(rules);
  pj_puts(&b, "[");
  for (i = 0; i < N_CLUSTER_ROLES && rc == 0; i++)
    pj_role(&b, cluster_roles[i].name, NULL, cluster_roles[i].label,
            cluster_roles[i].aggregate, &rules[i]);
  for (i = 0; i < sizeof controller_roles / sizeof *controller_roles &&
              rc == 0; i++) {
    pj_rules r = {0};
    char name[128];
    snprintf(name, sizeof name, SA_ROLE_PREFIX "%s", controller_roles[i].name);
    rc = pj_rules_from_table(&r, controller_roles[i].rules);
    if (rc == 0)
      pj_role(&b, name, NULL, NULL, NULL, &r);
    pj_rules_free(&r);
  }
  pj_puts(&b, "]");
  for (i = 0; i < N_CLUSTER_ROLES; i++)
    pj_rules_free(&rules[i]);
  if (rc < 0) {
    free(b.s);
    return rc;
  }
  return (*out = pj_take(&b)) ? 0 : -ENOMEM;
}

static int pj_namespace_roles(char **out)
{
  pj_buf b = {0};
  size_t i;
  int rc = 0;

  pj_puts(&b, "[");
  for (i = 0; i < sizeof namespace_roles / sizeof *namespace_roles && rc == 0;
       i++) {
    pj_rules r = {0};
    rc = pj_rules_from_table(&r, namespace_roles[i].rules);
    if (rc == 0)
      pj_role(&b, namespace_roles[i].name, namespace_roles[i].ns, NULL, NULL,
              &r);
    pj_rules_free(&r);
  }
  pj_puts(&b, "]");
  if (rc < 0) {
    free(b.s);
    return rc;
  }
  return (*out = pj_take(&b)) ? 0 : -ENOMEM;
}

static int pj_bindings(char **out, const binding_def *defs, size_t n,
                       int with_controllers)
{
  pj_buf b = {0};
  size_t i;

  pj_puts(&b, "[");
  for (i = 0; i < n; i++)
    pj_binding(&b, &defs[i]);
  for (i = 0; with_controllers &&
              i < sizeof controller_roles / sizeof *controller_roles; i++)
    pj_controller_binding(&b, controller_roles[i].name);
  pj_puts(&b, "]");
  return (*out = pj_take(&b)) ? 0 : -ENOMEM;
}

static void policy_json_free(policy_json *p)
{
  free(p->roles);
  free(p->cluster_roles);
  free(p->role_bindings);
  free(p->cluster_role_bindings);
  memset(p, 0, sizeof *p);
}

/* Builds the four texts into `p` (emptied first).  0 or -ENOMEM. */
static int policy_json_build(policy_json *p)
{
  int rc;

  policy_json_free(p);
  rc = pj_cluster_roles(&p->cluster_roles);
  if (rc == 0)
    rc = pj_namespace_roles(&p->roles);
  if (rc == 0)
    rc = pj_bindings(&p->cluster_role_bindings, cluster_role_bindings,
                     sizeof cluster_role_bindings /
                         sizeof *cluster_role_bindings,
                     1);
  if (rc == 0)
    rc = pj_bindings(&p->role_bindings, namespace_role_bindings,
                     sizeof namespace_role_bindings /
                         sizeof *namespace_role_bindings,
                     0);
  if (rc < 0)
    policy_json_free(p);
  return rc;
}

#endif /* KAPI_RBAC_POLICY_JSON_H */
