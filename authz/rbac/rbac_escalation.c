/*
 * rbac_escalation.c - the "RBACEscalation" validating admission
 * component: nobody grants through RBAC what they do not hold.
 *
 * Upstream does this in storage wrappers, not admission:
 * pkg/registry/rbac/{role,clusterrole,rolebinding,clusterrolebinding}/
 * policybased/storage.go, with pkg/registry/rbac/escalation_check.go
 * (EscalationAllowed, RoleEscalationAuthorized, BindingAuthorized),
 * helpers.go (IsOnlyMutatingGCFields) and validation/rule.go
 * (ConfirmNoEscalation).  kapi's generic store has no such hook, so the
 * plugin that owns RBAC's rules runs the same checks as the very last
 * validating admission step of CREATE and UPDATE:
 *
 *  - members of system:masters (and requests without a user) pass;
 *  - a Role or ClusterRole passes if the user may "escalate" it, or
 *    holds every rule it grants; a ClusterRole with an aggregationRule
 *    also needs "*" on everything;
 *  - a RoleBinding or ClusterRoleBinding passes if the user may "bind"
 *    the role it references, or holds every rule of that role;
 *  - updates that only touch what the garbage collector touches
 *    (ownerReferences, finalizers) pass.
 *
 * Refusals are upstream's 403: `rolebindings.rbac.authorization.k8s.io
 * "x" is forbidden: user "bob" (groups=["system:authenticated"]) is
 * attempting to grant RBAC permissions not currently held:\n{...}`.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rbac_internal.h"

static int nonempty(const char *s)
{
  return s && *s;
}

/* ---- IsOnlyMutatingGCFields ---------------------------------------------- */

/* metadata fields a GC-only update may change, plus those the server
 * itself rewrites on every write (the incoming object already carries
 * them when admission sees it). */
static int gc_or_server_field(const char *key)
{
  static const char *const keys[] = {
      "ownerReferences", "finalizers", "selfLink", "managedFields",
      "resourceVersion", "generation", "creationTimestamp", "uid", NULL};
  size_t i;

  for (i = 0; keys[i]; i++)
    if (!strcmp(key, keys[i]))
      return 1;
  return 0;
}

static int json_equal(const kapi_obj *a, const kapi_obj *b, int metadata);

static const kapi_obj *member(const kapi_obj *o, const char *key)
{
  size_t n = rbac_api->obj_len(o), i;

  for (i = 0; i < n; i++) {
    const char *k = rbac_api->obj_key(o, i);

    if (k && !strcmp(k, key))
      return rbac_api->obj_index(o, i);
  }
  return NULL;
}

static size_t counted_members(const kapi_obj *o, int metadata)
{
  size_t n = rbac_api->obj_len(o), i, c = 0;

  for (i = 0; i < n; i++)
    if (!metadata || !gc_or_server_field(rbac_api->obj_key(o, i)))
      c++;
  return c;
}

static int objects_equal(const kapi_obj *a, const kapi_obj *b, int metadata)
{
  size_t n = rbac_api->obj_len(a), i;

  if (counted_members(a, metadata) != counted_members(b, metadata))
    return 0;
  for (i = 0; i < n; i++) {
    const char *k = rbac_api->obj_key(a, i);
    const kapi_obj *other;

    if (!k || (metadata && gc_or_server_field(k)))
      continue;
    other = member(b, k);
    if (!other || !json_equal(rbac_api->obj_index(a, i), other,
                              !metadata && !strcmp(k, "metadata") ? 2 : 0))
      return 0;
  }
  return 1;
}

/* metadata: 1 at the top level (whose "metadata" is compared loosely),
 * 2 inside metadata, 0 elsewhere. */
static int json_equal(const kapi_obj *a, const kapi_obj *b, int metadata)
{
  kapi_obj_type t = rbac_api->obj_type(a);
  size_t n, i;

  if (t != rbac_api->obj_type(b))
    return 0;
  switch (t) {
  case KAPI_OBJ_OBJECT:
    return objects_equal(a, b, metadata == 2);
  case KAPI_OBJ_ARRAY:
    n = rbac_api->obj_len(a);
    if (n != rbac_api->obj_len(b))
      return 0;
    for (i = 0; i < n; i++)
      if (!json_equal(rbac_api->obj_index(a, i), rbac_api->obj_index(b, i), 0))
        return 0;
    return 1;
  case KAPI_OBJ_STRING:
  case KAPI_OBJ_NUMBER:
  case KAPI_OBJ_BOOL: {
    const char *x = rbac_api->obj_get(a, NULL), *y = rbac_api->obj_get(b, NULL);

    return x && y && !strcmp(x, y);
  }
  default:
    return 1;
  }
}

static int only_gc_fields(const kapi_obj *obj, const kapi_obj *old)
{
  return obj && old && json_equal(obj, old, 1);
}

/* ---- ConfirmNoEscalation ---------------------------------------------------- */

typedef struct owner_rules {
  const rbac_rule **v;
  size_t n, cap;
  rbac_errors errs;
  int rc;
} owner_rules;

static int owner_visit(void *arg, const rbac_binding *b)
{
  owner_rules *o = arg;
  size_t i;

  if (!b->role) {
    rbac_errors_add(&o->errs, b);
    return 0;
  }
  for (i = 0; i < b->role->n_rules; i++) {
    if (o->n == o->cap) {
      size_t cap = o->cap ? o->cap * 2 : 64;
      const rbac_rule **v = realloc(o->v, cap * sizeof *v);

      if (!v) {
        o->rc = -ENOMEM;
        return 1;
      }
      o->v = v;
      o->cap = cap;
    }
    o->v[o->n++] = &b->role->rules[i];
  }
  return 0;
}

/* `["a" "b"]`: the user's groups as %q prints them. */
static void quote_groups(rbac_buf *b, const rbac_user *u)
{
  size_t n = rbac_user_ngroups(u), i;

  rbac_buf_add(b, "[", 1);
  for (i = 0; i < n; i++) {
    if (i)
      rbac_buf_add(b, " ", 1);
    rbac_buf_go_quote(b, rbac_user_group(u, i));
  }
  rbac_buf_add(b, "]", 1);
}

/*
 * Whether the user's own rules in `ns` (RulesFor: ClusterRoleBindings,
 * and the RoleBindings of ns) cover `rules`.  Returns 1 when they do,
 * 0 with upstream's explanation in `why` when not, <0 on error.
 */
static int confirm_no_escalation(const rbac_policy *p, const rbac_user *u,
                                 const char *ns, const rbac_rule *rules,
                                 size_t n, rbac_buf *why)
{
  owner_rules o;
  rbac_buf missing = {0};
  uint8_t *seen = calloc(p->n_bindings ? p->n_bindings : 1, 1);
  int rc;

  if (!seen)
    return -ENOMEM;
  memset(&o, 0, sizeof o);
  rbac_policy_visit(p, u, ns, seen, owner_visit, &o);
  rc = o.rc;
  if (rc == 0)
    rc = rbac_covers(o.v, o.n, rules, n, &missing);
  if (rc == 0) {
    rbac_buf_puts(why, "user ");
    rbac_buf_go_quote(why, u->name);
    rbac_buf_puts(why, " (groups=");
    quote_groups(why, u);
    rbac_buf_puts(why, ") is attempting to grant RBAC permissions not "
                       "currently held:\n");
    rbac_buf_puts(why, rbac_buf_str(&missing));
    if (o.errs.n) {
      rbac_buf_puts(why, "; resolution errors: [");
      rbac_errors_print(why, &o.errs, 1);
      rbac_buf_add(why, "]", 1);
    }
    if (why->oom || missing.oom)
      rc = -ENOMEM;
  }
  rbac_buf_free(&missing);
  free(o.v);
  free(seen);
  return rc;
}

/* errors.NewForbidden(rbac.Resource(resource), name, err); a nameless
 * object is not quoted. */
static void forbid(kapi_error *e, const char *resource, const char *name,
                   const char *why)
{
  rbac_buf b = {0};

  rbac_buf_printf(&b, "%s.%s", resource, RBAC_GROUP);
  if (*name) {
    rbac_buf_add(&b, " ", 1);
    rbac_buf_go_quote(&b, name);
  }
  rbac_buf_printf(&b, " is forbidden: %s", why);
  rbac_api->error_set(e, 403, "Forbidden", "%s",
                      b.oom ? "forbidden" : rbac_buf_str(&b));
  rbac_buf_free(&b);
}

static int internal_error(kapi_error *e, int rc)
{
  rbac_api->error_set(e, 500, "InternalError",
                      "Internal error occurred: RBAC escalation check: %s",
                      strerror(-rc));
  return rc;
}

/* ---- the checks ---------------------------------------------------------------- */

/* What a check needs to know about the request. */
typedef struct check {
  rbac_state *st;
  const kapi_req *r;
  rbac_user u;
  const kapi_obj *obj, *old; /* old: NULL on CREATE */
  const char *resource;      /* "roles", ... */
  const char *ns;            /* the request's namespace, NULL if none */
  const char *name;          /* the object's name, for messages */
  int cluster_role;          /* resource is "clusterroles" */
} check;

/* Runs confirm_no_escalation on the current policy and turns its
 * answer into the admission result. */
static int confirm(const check *c, const rbac_policy *p, const rbac_rule *rules,
                   size_t n, kapi_error *e)
{
  rbac_buf why = {0};
  int rc = confirm_no_escalation(p, &c->u, c->ns, rules, n, &why);

  if (rc == 0)
    forbid(e, c->resource, c->name, rbac_buf_str(&why));
  rbac_buf_free(&why);
  if (rc < 0)
    return internal_error(e, rc);
  return rc == 1 ? 0 : -EPERM;
}

static int has_aggregation_rule(const kapi_obj *o)
{
  const kapi_obj *sel =
      rbac_api->obj_lookup(o, "/aggregationRule/clusterRoleSelectors");

  return rbac_api->obj_type(sel) == KAPI_OBJ_ARRAY && rbac_api->obj_len(sel) > 0;
}

/* Setting an aggregationRule gathers anything: it needs "*" on "*.*"
 * and on every URL (upstream's fullAuthority). */
static int confirm_full_authority(const check *c, const rbac_policy *p,
                                  kapi_error *e)
{
  static const char *const star[] = {"*", NULL};
  rbac_arena a = {0};
  rbac_rule full[2];
  rbac_buf why = {0};
  int rc;

  if (rbac_rule_make(&a, star, star, star, NULL, NULL, &full[0]) < 0 ||
      rbac_rule_make(&a, star, NULL, NULL, NULL, star, &full[1]) < 0) {
    rbac_arena_free(&a);
    return internal_error(e, -ENOMEM);
  }
  rc = confirm_no_escalation(p, &c->u, c->ns, full, 2, &why);
  rbac_buf_free(&why);
  rbac_arena_free(&a);
  if (rc < 0)
    return internal_error(e, rc);
  if (rc == 0) {
    forbid(e, c->resource, c->name,
           "must have cluster-admin privileges to use the aggregationRule");
    return -EPERM;
  }
  return 0;
}

static int check_role(const check *c, kapi_error *e)
{
  const rbac_policy *p;
  rbac_arena a = {0};
  rbac_rule *rules = NULL;
  size_t n = 0;
  int rc;

  /* RoleEscalationAuthorized: the request's own name (none on create). */
  if (rbac_api->authorize(c->r, "escalate", RBAC_GROUP, c->resource, NULL,
                          c->ns, rbac_api->req_get(c->r, "name")) ==
      KAPI_ALLOW)
    return 0;
  if (c->old && only_gc_fields(c->obj, c->old))
    return 0;
  if ((rc = rbac_rules_compile(&a, rbac_api->obj_lookup(c->obj, "/rules"),
                               &rules, &n)) < 0) {
    rbac_arena_free(&a);
    return internal_error(e, rc);
  }
  if ((rc = rbac_cache_acquire(&c->st->cache, &p)) < 0) {
    rbac_arena_free(&a);
    return internal_error(e, rc);
  }
  rc = confirm(c, p, rules, n, e);
  if (rc == 0 && c->cluster_role &&
      (has_aggregation_rule(c->obj) || has_aggregation_rule(c->old)))
    rc = confirm_full_authority(c, p, e);
  rbac_cache_release(&c->st->cache);
  rbac_arena_free(&a);
  return rc;
}

/* The role a binding references, as the registry would resolve it:
 * NotFound in the storage's words. */
static int referenced_rules(const check *c, const rbac_policy *p,
                            const char *kind, const char *name,
                            const char *bns, const rbac_role **ret,
                            kapi_error *e)
{
  const char *resource;
  rbac_buf b = {0};

  if (!strcmp(kind, "ClusterRole")) {
    *ret = rbac_policy_cluster_role(p, name);
    resource = "clusterroles";
  } else if (!strcmp(kind, "Role")) {
    *ret = bns ? rbac_policy_role(p, bns, name) : NULL;
    resource = "roles";
  } else {
    rbac_buf_puts(&b, "Internal error occurred: unsupported role reference "
                      "kind: ");
    rbac_buf_go_quote(&b, kind);
    rbac_api->error_set(e, 500, "InternalError", "%s", rbac_buf_str(&b));
    rbac_buf_free(&b);
    return -EINVAL;
  }
  (void)c;
  if (*ret)
    return 0;
  rbac_buf_printf(&b, "%s.%s ", resource, RBAC_GROUP);
  rbac_buf_go_quote(&b, name);
  rbac_buf_puts(&b, " not found");
  rbac_api->error_set(e, 404, "NotFound", "%s", rbac_buf_str(&b));
  rbac_buf_free(&b);
  return -ENOENT;
}

static int check_binding(const check *c, kapi_error *e)
{
  const char *kind = rbac_api->obj_get(c->obj, "/roleRef/kind");
  const char *name = rbac_api->obj_get(c->obj, "/roleRef/name");
  const char *group = rbac_api->obj_get(c->obj, "/roleRef/apiGroup");
  int namespaced = !strcmp(c->resource, "rolebindings");
  const char *bns = namespaced ? c->ns : NULL;
  const rbac_policy *p;
  const rbac_role *role;
  int rc;

  kind = kind ? kind : "";
  name = name ? name : "";
  if (namespaced && !nonempty(bns)) {
    rbac_api->error_set(e, 400, "BadRequest", "namespace is required");
    return -EINVAL;
  }
  if (c->old && only_gc_fields(c->obj, c->old))
    return 0;
  /* BindingAuthorized: "bind" on the role, in the binding's namespace
   * (none for a ClusterRoleBinding). */
  if ((!strcmp(kind, "ClusterRole") || !strcmp(kind, "Role")) &&
      rbac_api->authorize(c->r, "bind", group ? group : "",
                          !strcmp(kind, "Role") ? "roles" : "clusterroles",
                          NULL, bns, name) == KAPI_ALLOW)
    return 0;
  if ((rc = rbac_cache_acquire(&c->st->cache, &p)) < 0)
    return internal_error(e, rc);
  rc = referenced_rules(c, p, kind, name, bns, &role, e);
  if (rc == 0)
    rc = confirm(c, p, role->rules, role->n_rules, e);
  rbac_cache_release(&c->st->cache);
  return rc;
}

int rbac_escalation_validate(void *st, const kapi_req *r, const kapi_obj *obj,
                             kapi_error *e)
{
  const char *group = rbac_api->req_get(r, "apiGroup");
  const char *resource = rbac_api->req_get(r, "resource");
  const char *op = rbac_api->req_get(r, "operation");
  const char *name;
  check c;

  if (!group || strcmp(group, RBAC_GROUP) || !resource || !obj ||
      nonempty(rbac_api->req_get(r, "subresource")))
    return 0;
  if (strcmp(resource, "roles") && strcmp(resource, "clusterroles") &&
      strcmp(resource, "rolebindings") && strcmp(resource, "clusterrolebindings"))
    return 0;
  /* EscalationAllowed: no user (nothing authenticates), or
   * system:masters, which the server itself acts as. */
  if (!rbac_api->req_user(r))
    return 0;
  memset(&c, 0, sizeof c);
  c.u = rbac_user_of(r);
  if (rbac_user_in_group(&c.u, "system:masters"))
    return 0;
  c.st = st;
  c.r = r;
  c.obj = obj;
  c.old = op && !strcmp(op, "UPDATE") ? rbac_api->req_old_object(r) : NULL;
  c.resource = resource;
  c.ns = rbac_api->req_get(r, "namespace");
  c.ns = nonempty(c.ns) ? c.ns : NULL;
  name = rbac_api->obj_get(obj, "/metadata/name");
  c.name = nonempty(name) ? name : rbac_api->req_get(r, "name");
  c.name = c.name ? c.name : "";
  if (!strcmp(resource, "roles") || !strcmp(resource, "clusterroles")) {
    c.cluster_role = !strcmp(resource, "clusterroles");
    return check_role(&c, e);
  }
  return check_binding(&c, e);
}
