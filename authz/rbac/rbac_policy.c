/*
 * rbac_policy.c - the compiled RBAC policy: roles with their effective
 * rules, bindings resolved to their roles, and an index from subjects to
 * bindings.
 *
 * Upstream: pkg/registry/rbac/validation/rule.go (DefaultRuleResolver:
 * VisitRulesFor, GetRoleReferenceRules, appliesTo, the describers) and
 * pkg/controller/clusterroleaggregation (the rules of an aggregated
 * ClusterRole are the union of the rules of the ClusterRoles its
 * clusterRoleSelectors select).
 *
 * Upstream walks every ClusterRoleBinding and every RoleBinding of the
 * namespace on each request.  Here the walk happens once per change of
 * the store: the index maps (scope, user or group name) to the bindings
 * naming it, so a request costs one hash lookup for the user and one
 * per group, in the cluster scope and in its namespace.  Service
 * accounts are indexed under their user name,
 * "system:serviceaccount:<namespace>:<name>" (serviceaccount.
 * MatchesUsername).
 *
 * Aggregation is resolved here too, so an aggregated ClusterRole works
 * before (or without) an aggregation controller filling its rules.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rbac_internal.h"

const char *const rbac_resources[RBAC_N_RESOURCES] = {
    [RBAC_CLUSTER_ROLES] = "clusterroles",
    [RBAC_ROLES] = "roles",
    [RBAC_CLUSTER_ROLE_BINDINGS] = "clusterrolebindings",
    [RBAC_ROLE_BINDINGS] = "rolebindings",
};

/* One subject index entry: the bindings that name a user (or service
 * account) or a group in a scope ("" for ClusterRoleBindings, else the
 * RoleBindings' namespace).  scope NULL marks a free slot. */
struct rbac_slot {
  const char *scope;
  const char *name;
  uint32_t hash;
  int kind; /* RBAC_SUBJECT_USER (also service accounts) or _GROUP */
  const rbac_binding **refs;
  uint32_t n_refs;
};

/* ---- users -------------------------------------------------------------- */

rbac_user rbac_user_of(const kapi_req *r)
{
  const kapi_obj *u = rbac_api->req_user(r);
  const char *name = rbac_api->obj_get(u, "/username");
  rbac_user ret;

  ret.name = name ? name : "";
  ret.groups = rbac_api->obj_lookup(u, "/groups");
  if (rbac_api->obj_type(ret.groups) != KAPI_OBJ_ARRAY)
    ret.groups = NULL;
  return ret;
}

size_t rbac_user_ngroups(const rbac_user *u)
{
  return u->groups ? rbac_api->obj_len(u->groups) : 0;
}

const char *rbac_user_group(const rbac_user *u, size_t i)
{
  const char *g = rbac_api->obj_get(rbac_api->obj_index(u->groups, i), NULL);

  return g ? g : "";
}

int rbac_user_in_group(const rbac_user *u, const char *group)
{
  size_t n = rbac_user_ngroups(u), i;

  for (i = 0; i < n; i++)
    if (!strcmp(rbac_user_group(u, i), group))
      return 1;
  return 0;
}

/* ---- building ----------------------------------------------------------- */

static const char *name_of(const kapi_obj *o)
{
  const char *s = rbac_api->obj_get(o, "/metadata/name");

  return s ? s : "";
}

static const char *namespace_of(const kapi_obj *o)
{
  const char *s = rbac_api->obj_get(o, "/metadata/namespace");

  return s ? s : "";
}

static size_t list_len(const kapi_obj *list)
{
  return rbac_api->obj_type(list) == KAPI_OBJ_ARRAY ? rbac_api->obj_len(list)
                                                    : 0;
}

/* Objects of a list in (namespace, name) order, so that visits and
 * messages do not depend on the store's order. */
static int cmp_obj(const void *a, const void *b)
{
  const kapi_obj *x = *(const kapi_obj *const *)a;
  const kapi_obj *y = *(const kapi_obj *const *)b;
  int c = strcmp(namespace_of(x), namespace_of(y));

  return c ? c : strcmp(name_of(x), name_of(y));
}

static const kapi_obj **sorted_items(const kapi_obj *list, size_t *ret_n)
{
  size_t n = list_len(list), i;
  const kapi_obj **v = calloc(n ? n : 1, sizeof *v);

  if (!v)
    return NULL;
  for (i = 0; i < n; i++)
    v[i] = rbac_api->obj_index(list, i);
  qsort(v, n, sizeof *v, cmp_obj);
  *ret_n = n;
  return v;
}

/* A ClusterRole while its aggregated rules are worked out. */
typedef struct cluster_role_build {
  const kapi_obj *labels;    /* borrowed from the list */
  const kapi_obj *selectors; /* clusterRoleSelectors, or NULL */
  int aggregated;            /* has an aggregationRule */
  const rbac_rule *raw;      /* its own .rules */
  size_t n_raw;
  int state; /* 0 unresolved, 1 resolving (a cycle), 2 done */
} cluster_role_build;

typedef struct build {
  rbac_policy *p;
  cluster_role_build *crs; /* parallel to p->cluster_roles */
} build;

typedef struct rule_vec {
  rbac_rule *v;
  size_t n, cap;
} rule_vec;

static int rule_vec_add_unique(rule_vec *rv, const rbac_rule *r)
{
  size_t i;

  for (i = 0; i < rv->n; i++)
    if (rbac_rule_equal(&rv->v[i], r))
      return 0;
  if (rv->n == rv->cap) {
    size_t cap = rv->cap ? rv->cap * 2 : 32;
    rbac_rule *v = realloc(rv->v, cap * sizeof *v);

    if (!v)
      return -ENOMEM;
    rv->v = v;
    rv->cap = cap;
  }
  rv->v[rv->n++] = *r; /* the strings stay in the arena */
  return 0;
}

/*
 * The effective rules of ClusterRole i: its own, or for an aggregated
 * role the union, in name order and without duplicates, of the rules of
 * every other ClusterRole a selector selects (as the aggregation
 * controller computes them; aggregated members are resolved first, so
 * "admin" gets "edit"'s rules even while "edit" holds none itself).
 * A cycle falls back to the members' own rules.
 */
static int resolve_cluster_role(build *bd, size_t i)
{
  cluster_role_build *c = &bd->crs[i];
  rbac_role *role = &bd->p->cluster_roles[i];
  size_t ns, s, j, k;
  rule_vec rv = {0};
  int rc = 0;

  if (c->state == 2)
    return 0;
  if (!c->aggregated) {
    role->rules = c->raw;
    role->n_rules = c->n_raw;
    c->state = 2;
    return 0;
  }
  c->state = 1;
  ns = c->selectors && rbac_api->obj_type(c->selectors) == KAPI_OBJ_ARRAY
           ? rbac_api->obj_len(c->selectors)
           : 0;
  for (s = 0; rc == 0 && s < ns; s++) {
    const kapi_obj *sel = rbac_api->obj_index(c->selectors, s);

    for (j = 0; rc == 0 && j < bd->p->n_cluster_roles; j++) {
      const rbac_rule *rules;
      size_t n;

      if (j == i || !rbac_selector_matches(sel, bd->crs[j].labels))
        continue;
      if (bd->crs[j].state == 0 && (rc = resolve_cluster_role(bd, j)) < 0)
        break;
      if (bd->crs[j].state == 2) {
        rules = bd->p->cluster_roles[j].rules;
        n = bd->p->cluster_roles[j].n_rules;
      } else {
        rules = bd->crs[j].raw;
        n = bd->crs[j].n_raw;
      }
      for (k = 0; rc == 0 && k < n; k++)
        rc = rule_vec_add_unique(&rv, &rules[k]);
    }
  }
  if (rc == 0 && rv.n) {
    rbac_rule *v = rbac_arena_alloc(&bd->p->arena, rv.n * sizeof *v);

    if (!v)
      rc = -ENOMEM;
    else {
      memcpy(v, rv.v, rv.n * sizeof *v);
      role->rules = v;
      role->n_rules = rv.n;
    }
  }
  free(rv.v);
  c->state = 2;
  return rc;
}

static int build_cluster_roles(build *bd, const kapi_obj *list)
{
  rbac_policy *p = bd->p;
  const kapi_obj **items;
  size_t n = 0, i;
  int rc = 0;

  if (!(items = sorted_items(list, &n)))
    return -ENOMEM;
  p->cluster_roles = rbac_arena_alloc(&p->arena, (n ? n : 1) *
                                                     sizeof *p->cluster_roles);
  bd->crs = calloc(n ? n : 1, sizeof *bd->crs);
  if (!p->cluster_roles || !bd->crs)
    rc = -ENOMEM;
  for (i = 0; rc == 0 && i < n; i++) {
    const kapi_obj *o = items[i];
    const kapi_obj *agg = rbac_api->obj_lookup(o, "/aggregationRule");
    cluster_role_build *c = &bd->crs[i];
    rbac_rule *raw = NULL;

    if (!(p->cluster_roles[i].name = rbac_arena_strdup(&p->arena, name_of(o))))
      rc = -ENOMEM;
    else
      rc = rbac_rules_compile(&p->arena, rbac_api->obj_lookup(o, "/rules"),
                              &raw, &c->n_raw);
    c->raw = raw;
    c->labels = rbac_api->obj_lookup(o, "/metadata/labels");
    c->aggregated = rbac_api->obj_type(agg) == KAPI_OBJ_OBJECT;
    c->selectors = rbac_api->obj_lookup(agg, "/clusterRoleSelectors");
  }
  p->n_cluster_roles = rc == 0 ? n : 0;
  for (i = 0; rc == 0 && i < n; i++)
    rc = resolve_cluster_role(bd, i);
  free(items);
  return rc;
}

static int build_roles(rbac_policy *p, const kapi_obj *list)
{
  const kapi_obj **items;
  size_t n = 0, i;
  int rc = 0;

  if (!(items = sorted_items(list, &n)))
    return -ENOMEM;
  if (!(p->roles = rbac_arena_alloc(&p->arena, (n ? n : 1) * sizeof *p->roles)))
    rc = -ENOMEM;
  for (i = 0; rc == 0 && i < n; i++) {
    rbac_role *r = &p->roles[i];
    rbac_rule *rules = NULL;

    r->ns = rbac_arena_strdup(&p->arena, namespace_of(items[i]));
    r->name = rbac_arena_strdup(&p->arena, name_of(items[i]));
    if (!r->ns || !r->name)
      rc = -ENOMEM;
    else
      rc = rbac_rules_compile(&p->arena,
                              rbac_api->obj_lookup(items[i], "/rules"), &rules,
                              &r->n_rules);
    r->rules = rules;
  }
  p->n_roles = rc == 0 ? n : 0;
  free(items);
  return rc;
}

/* describeSubject: `Kind "name"`, or for a service account
 * `ServiceAccount "name/namespace"`. */
static void describe_subject(rbac_buf *b, const char *kind, const char *name,
                             const char *sa_ns)
{
  rbac_buf_printf(b, "%s ", kind);
  if (!strcmp(kind, "ServiceAccount")) {
    rbac_buf q = {0};

    rbac_buf_printf(&q, "%s/%s", name, sa_ns);
    rbac_buf_go_quote(b, rbac_buf_str(&q));
    b->oom |= q.oom;
    rbac_buf_free(&q);
  } else {
    rbac_buf_go_quote(b, name);
  }
}

/* The reason RBACAuthorizer gives when this binding's subject allowed
 * a request: the clusterRoleBindingDescriber / roleBindingDescriber. */
static char *allowed_reason(rbac_arena *a, const rbac_binding *bd,
                            const char *kind, const char *name,
                            const char *sa_ns)
{
  rbac_buf b = {0};
  char *s;

  rbac_buf_puts(&b, "RBAC: allowed by ");
  if (bd->ns) {
    rbac_buf q = {0};

    rbac_buf_puts(&b, "RoleBinding ");
    rbac_buf_printf(&q, "%s/%s", bd->name, bd->ns);
    rbac_buf_go_quote(&b, rbac_buf_str(&q));
    b.oom |= q.oom;
    rbac_buf_free(&q);
  } else {
    rbac_buf_puts(&b, "ClusterRoleBinding ");
    rbac_buf_go_quote(&b, bd->name);
  }
  rbac_buf_printf(&b, " of %s ", bd->role_kind);
  rbac_buf_go_quote(&b, bd->role_name);
  rbac_buf_puts(&b, " to ");
  describe_subject(&b, kind, name, sa_ns);
  s = b.oom ? NULL : rbac_arena_strdup(a, rbac_buf_str(&b));
  rbac_buf_free(&b);
  return s;
}

static int build_subjects(rbac_arena *a, rbac_binding *bd,
                          const kapi_obj *subjects)
{
  size_t n = list_len(subjects), i;
  rbac_subject *v;

  bd->subjects = NULL;
  bd->n_subjects = 0;
  if (!n)
    return 0;
  if (!(v = rbac_arena_alloc(a, n * sizeof *v)))
    return -ENOMEM;
  for (i = 0; i < n; i++) {
    const kapi_obj *s = rbac_api->obj_index(subjects, i);
    const char *kind = rbac_api->obj_get(s, "/kind");
    const char *name = rbac_api->obj_get(s, "/name");
    const char *sns = rbac_api->obj_get(s, "/namespace");
    const char *sa_ns;

    kind = kind ? kind : "";
    name = name ? name : "";
    /* A service account named without a namespace is in the binding's
     * (a ClusterRoleBinding has none: such a subject matches nobody). */
    sa_ns = sns && *sns ? sns : bd->ns ? bd->ns : "";
    if (!strcmp(kind, "User")) {
      v[i].kind = RBAC_SUBJECT_USER;
      v[i].match = rbac_arena_strdup(a, name);
    } else if (!strcmp(kind, "Group")) {
      v[i].kind = RBAC_SUBJECT_GROUP;
      v[i].match = rbac_arena_strdup(a, name);
    } else if (!strcmp(kind, "ServiceAccount")) {
      v[i].kind = RBAC_SUBJECT_SA;
      if (*sa_ns) {
        rbac_buf u = {0};

        rbac_buf_printf(&u, "system:serviceaccount:%s:%s", sa_ns, name);
        v[i].match = u.oom ? NULL : rbac_arena_strdup(a, rbac_buf_str(&u));
        rbac_buf_free(&u);
        if (!v[i].match)
          return -ENOMEM;
      }
    } else {
      continue; /* an unknown kind applies to nobody */
    }
    if ((v[i].kind != RBAC_SUBJECT_SA && !v[i].match) ||
        !(v[i].reason = allowed_reason(a, bd, kind, name, sa_ns)))
      return -ENOMEM;
  }
  bd->subjects = v;
  bd->n_subjects = n;
  return 0;
}

static void resolve_ref(const rbac_policy *p, rbac_binding *bd)
{
  if (!strcmp(bd->role_kind, "ClusterRole"))
    bd->role = rbac_policy_cluster_role(p, bd->role_name);
  else if (!strcmp(bd->role_kind, "Role"))
    bd->role = bd->ns ? rbac_policy_role(p, bd->ns, bd->role_name) : NULL;
  else {
    bd->ref = RBAC_REF_BAD_KIND;
    return;
  }
  bd->ref = bd->role ? RBAC_REF_OK : RBAC_REF_NOT_FOUND;
}

static int build_bindings(rbac_policy *p, const kapi_obj *crbs,
                          const kapi_obj *rbs)
{
  const kapi_obj **items[2];
  size_t n[2] = {0, 0}, total, i, k = 0;
  int rc = 0, list;

  items[0] = sorted_items(crbs, &n[0]);
  items[1] = sorted_items(rbs, &n[1]);
  total = n[0] + n[1];
  if (!items[0] || !items[1] ||
      !(p->bindings = rbac_arena_alloc(&p->arena,
                                       (total ? total : 1) * sizeof *p->bindings)))
    rc = -ENOMEM;
  for (list = 0; rc == 0 && list < 2; list++)
    for (i = 0; rc == 0 && i < n[list]; i++, k++) {
      const kapi_obj *o = items[list][i];
      rbac_binding *bd = &p->bindings[k];
      const char *kind = rbac_api->obj_get(o, "/roleRef/kind");
      const char *name = rbac_api->obj_get(o, "/roleRef/name");

      bd->idx = (uint32_t)k;
      bd->ns = list ? rbac_arena_strdup(&p->arena, namespace_of(o)) : NULL;
      bd->name = rbac_arena_strdup(&p->arena, name_of(o));
      bd->role_kind = rbac_arena_strdup(&p->arena, kind ? kind : "");
      bd->role_name = rbac_arena_strdup(&p->arena, name ? name : "");
      if ((list && !bd->ns) || !bd->name || !bd->role_kind || !bd->role_name)
        rc = -ENOMEM;
      else {
        resolve_ref(p, bd);
        rc = build_subjects(&p->arena, bd,
                            rbac_api->obj_lookup(o, "/subjects"));
      }
    }
  p->n_bindings = rc == 0 ? total : 0;
  free(items[0]);
  free(items[1]);
  return rc;
}

/* ---- the subject index ------------------------------------------------------ */

/* FNV-1a over scope, kind and name, with separators so that the parts
 * cannot run into each other. */
static uint32_t key_hash(const char *scope, int kind, const char *name)
{
  uint32_t h = 2166136261u;
  const unsigned char *s;

  for (s = (const unsigned char *)scope; *s; s++)
    h = (h ^ *s) * 16777619u;
  h = (h ^ 0xffu) * 16777619u;
  h = (h ^ (unsigned)kind) * 16777619u;
  for (s = (const unsigned char *)name; *s; s++)
    h = (h ^ *s) * 16777619u;
  return h;
}

typedef struct index_key {
  const char *scope, *name;
  int kind;
  const rbac_binding *b;
} index_key;

static int cmp_key(const void *a, const void *b)
{
  const index_key *x = a, *y = b;
  int c;

  if (x->kind != y->kind)
    return x->kind < y->kind ? -1 : 1;
  if ((c = strcmp(x->scope, y->scope)) || (c = strcmp(x->name, y->name)))
    return c;
  return x->b->idx < y->b->idx ? -1 : x->b->idx > y->b->idx;
}

static int same_key(const index_key *x, const index_key *y)
{
  return x->kind == y->kind && !strcmp(x->scope, y->scope) &&
         !strcmp(x->name, y->name);
}

static void slot_insert(rbac_policy *p, const index_key *k,
                        const rbac_binding **refs, uint32_t n)
{
  uint32_t h = key_hash(k->scope, k->kind, k->name);
  size_t mask = p->n_slots - 1, i = h & mask;

  while (p->slots[i].scope)
    i = (i + 1) & mask;
  p->slots[i].scope = k->scope;
  p->slots[i].name = k->name;
  p->slots[i].kind = k->kind;
  p->slots[i].hash = h;
  p->slots[i].refs = refs;
  p->slots[i].n_refs = n;
}

static int build_index(rbac_policy *p)
{
  index_key *keys;
  const rbac_binding **refs;
  size_t n = 0, i, j, groups = 0, r = 0;

  for (i = 0; i < p->n_bindings; i++)
    n += p->bindings[i].n_subjects;
  keys = calloc(n ? n : 1, sizeof *keys);
  refs = rbac_arena_alloc(&p->arena, (n ? n : 1) * sizeof *refs);
  if (!keys || !refs) {
    free(keys);
    return -ENOMEM;
  }
  n = 0;
  for (i = 0; i < p->n_bindings; i++) {
    const rbac_binding *b = &p->bindings[i];

    for (j = 0; j < b->n_subjects; j++) {
      const rbac_subject *s = &b->subjects[j];

      if (!s->match)
        continue;
      keys[n].scope = b->ns ? b->ns : "";
      keys[n].name = s->match;
      keys[n].kind =
          s->kind == RBAC_SUBJECT_GROUP ? RBAC_SUBJECT_GROUP : RBAC_SUBJECT_USER;
      keys[n].b = b;
      n++;
    }
  }
  qsort(keys, n, sizeof *keys, cmp_key);
  for (i = 0; i < n; i++)
    if (i == 0 || !same_key(&keys[i], &keys[i - 1]))
      groups++;
  for (p->n_slots = 8; p->n_slots < 2 * groups; p->n_slots *= 2)
    ;
  if (!(p->slots = rbac_arena_alloc(&p->arena, p->n_slots * sizeof *p->slots))) {
    free(keys);
    return -ENOMEM;
  }
  for (i = 0; i < n; i = j) {
    size_t first = r;

    for (j = i; j < n && same_key(&keys[j], &keys[i]); j++)
      if (j == i || keys[j].b != keys[j - 1].b)
        refs[r++] = keys[j].b; /* a binding naming one subject twice */
    slot_insert(p, &keys[i], refs + first, (uint32_t)(r - first));
  }
  free(keys);
  return 0;
}

static const rbac_slot *slot_find(const rbac_policy *p, const char *scope,
                                  int kind, const char *name)
{
  uint32_t h = key_hash(scope, kind, name);
  size_t mask = p->n_slots - 1, i = h & mask;

  for (; p->slots[i].scope; i = (i + 1) & mask) {
    const rbac_slot *s = &p->slots[i];

    if (s->hash == h && s->kind == kind && !strcmp(s->name, name) &&
        !strcmp(s->scope, scope))
      return s;
  }
  return NULL;
}

/* ---- lifecycle ---------------------------------------------------------------- */

int rbac_policy_from_lists(const kapi_obj *const lists[RBAC_N_RESOURCES],
                           rbac_policy **ret)
{
  rbac_policy *p = calloc(1, sizeof *p);
  build bd = {p, NULL};
  int rc;

  if (!p)
    return -ENOMEM;
  rc = build_cluster_roles(&bd, lists[RBAC_CLUSTER_ROLES]);
  if (rc == 0)
    rc = build_roles(p, lists[RBAC_ROLES]);
  if (rc == 0)
    rc = build_bindings(p, lists[RBAC_CLUSTER_ROLE_BINDINGS],
                        lists[RBAC_ROLE_BINDINGS]);
  if (rc == 0)
    rc = build_index(p);
  free(bd.crs);
  if (rc < 0) {
    rbac_policy_free(p);
    return rc;
  }
  *ret = p;
  return 0;
}

int rbac_policy_build(const int64_t revs[RBAC_N_RESOURCES],
                      unsigned *unserved, rbac_policy **ret)
{
  kapi_obj *lists[RBAC_N_RESOURCES] = {NULL};
  rbac_policy *p = NULL;
  int rc = 0, i;

  *unserved = 0;
  for (i = 0; i < RBAC_N_RESOURCES && rc == 0; i++) {
    rc = rbac_api->store_list(RBAC_GROUP, rbac_resources[i], NULL, NULL,
                              &lists[i]);
    if (rc == -ENOENT) { /* registry/rbac is not loaded: nothing bound */
      *unserved |= 1u << i;
      lists[i] = NULL;
      rc = 0;
    }
  }
  if (rc == 0)
    rc = rbac_policy_from_lists((const kapi_obj *const *)lists, &p);
  for (i = 0; i < RBAC_N_RESOURCES; i++)
    if (lists[i])
      rbac_api->obj_free(lists[i]);
  if (rc < 0)
    return rc;
  memcpy(p->revs, revs, sizeof p->revs);
  *ret = p;
  return 0;
}

void rbac_policy_free(rbac_policy *p)
{
  if (!p)
    return;
  rbac_arena_free(&p->arena);
  free(p);
}

/* ---- lookups -------------------------------------------------------------------- */

const rbac_role *rbac_policy_cluster_role(const rbac_policy *p,
                                          const char *name)
{
  size_t lo = 0, hi = p->n_cluster_roles;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(p->cluster_roles[mid].name, name);

    if (c == 0)
      return &p->cluster_roles[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

const rbac_role *rbac_policy_role(const rbac_policy *p, const char *ns,
                                  const char *name)
{
  size_t lo = 0, hi = p->n_roles;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(p->roles[mid].ns, ns);

    if (c == 0)
      c = strcmp(p->roles[mid].name, name);
    if (c == 0)
      return &p->roles[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

/* ---- visiting ---------------------------------------------------------------------- */

/* Calls fn for the bindings of one slot; with `seen`, only marks them. */
static int visit_slot(const rbac_slot *s, uint8_t *seen, rbac_visit_fn fn,
                      void *arg)
{
  uint32_t i;
  int rc;

  if (!s)
    return 0;
  for (i = 0; i < s->n_refs; i++) {
    if (seen) {
      seen[s->refs[i]->idx] = 1;
      continue;
    }
    if ((rc = fn(arg, s->refs[i])))
      return rc;
  }
  return 0;
}

static int visit_scope(const rbac_policy *p, const char *scope,
                       const rbac_user *u, uint8_t *seen, rbac_visit_fn fn,
                       void *arg)
{
  size_t n = rbac_user_ngroups(u), i;
  int rc;

  if ((rc = visit_slot(slot_find(p, scope, RBAC_SUBJECT_USER, u->name), seen,
                       fn, arg)))
    return rc;
  for (i = 0; i < n; i++)
    if ((rc = visit_slot(slot_find(p, scope, RBAC_SUBJECT_GROUP,
                                   rbac_user_group(u, i)),
                         seen, fn, arg)))
      return rc;
  return 0;
}

int rbac_policy_visit(const rbac_policy *p, const rbac_user *u,
                      const char *ns, uint8_t *seen, rbac_visit_fn fn,
                      void *arg)
{
  int has_ns = ns && *ns, rc;
  size_t i;

  if (!seen) { /* the hot path: straight from the index */
    if ((rc = visit_scope(p, "", u, NULL, fn, arg)))
      return rc;
    return has_ns ? visit_scope(p, ns, u, NULL, fn, arg) : 0;
  }
  /* Mark, then walk in binding order: each binding once, in an order
   * that does not depend on how the user matched it. */
  visit_scope(p, "", u, seen, fn, arg);
  if (has_ns)
    visit_scope(p, ns, u, seen, fn, arg);
  for (i = 0; i < p->n_bindings; i++)
    if (seen[i] && (rc = fn(arg, &p->bindings[i])))
      return rc;
  return 0;
}

const rbac_subject *rbac_binding_subject_for(const rbac_binding *b,
                                             const rbac_user *u)
{
  size_t i;

  for (i = 0; i < b->n_subjects; i++) {
    const rbac_subject *s = &b->subjects[i];

    if (!s->match)
      continue;
    if (s->kind == RBAC_SUBJECT_GROUP ? rbac_user_in_group(u, s->match)
                                      : !strcmp(s->match, u->name))
      return s;
  }
  return NULL;
}

/* ---- resolution errors ------------------------------------------------------------ */

void rbac_binding_error(rbac_buf *b, const rbac_binding *bd, int registry)
{
  if (bd->ref == RBAC_REF_BAD_KIND) {
    rbac_buf_puts(b, "unsupported role reference kind: ");
    rbac_buf_go_quote(b, bd->role_kind);
    return;
  }
  /* The authorizer reads listers (NewNotFound(Resource("clusterrole"))),
   * the escalation check the storage ("clusterroles"). */
  rbac_buf_printf(b, "%s%s.%s ",
                  !strcmp(bd->role_kind, "ClusterRole") ? "clusterrole" : "role",
                  registry ? "s" : "", RBAC_GROUP);
  rbac_buf_go_quote(b, bd->role_name);
  rbac_buf_puts(b, " not found");
}

/* Two bindings whose errors read the same. */
static int same_error(const rbac_binding *a, const rbac_binding *b)
{
  if (a->ref != b->ref || strcmp(a->role_kind, b->role_kind))
    return 0;
  return a->ref == RBAC_REF_BAD_KIND || !strcmp(a->role_name, b->role_name);
}

void rbac_errors_add(rbac_errors *errs, const rbac_binding *b)
{
  size_t i;

  for (i = 0; i < errs->n; i++)
    if (same_error(errs->b[i], b))
      return;
  if (errs->n < RBAC_MAX_ERRORS)
    errs->b[errs->n++] = b;
}

void rbac_errors_print(rbac_buf *out, const rbac_errors *errs, int registry)
{
  size_t i;

  if (errs->n > 1)
    rbac_buf_add(out, "[", 1);
  for (i = 0; i < errs->n; i++) {
    if (i)
      rbac_buf_puts(out, ", ");
    rbac_binding_error(out, errs->b[i], registry);
  }
  if (errs->n > 1)
    rbac_buf_add(out, "]", 1);
}
