/*
 * rbac_authz.c - the RBAC plugin: the "RBAC" authorizer, its rule
 * resolver, and the registration of both components.
 *
 * Upstream: plugin/pkg/auth/authorizer/rbac/rbac.go (RBACAuthorizer:
 * Authorize with an authorizingVisitor, RulesFor) over
 * pkg/registry/rbac/validation/rule.go (DefaultRuleResolver).
 *
 * RBAC only grants: a request no rule allows gets NO_OPINION, never
 * DENY, so that later authorizers may still allow it.  When a binding
 * points at a role that does not exist the reason says so ("RBAC:
 * clusterrole.rbac.authorization.k8s.io \"x\" not found"), as upstream
 * appends it to the 403.
 *
 * The hot path (rbac_authorize) allocates nothing of its own: the
 * attributes are borrowed from the request, the policy is read in place
 * under the cache's read lock, the allowed reason was composed when the
 * policy was built, and resolution errors are kept in a fixed array.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rbac_internal.h"

const kapi_host_api *rbac_api;
kapi_plugin *rbac_self;

static const char *attr(const kapi_req *r, const char *key)
{
  const char *v = rbac_api->req_get(r, key);

  return v ? v : "";
}

void rbac_attrs_of(const kapi_req *r, rbac_attrs *at)
{
  at->verb = attr(r, "verb");
  at->group = attr(r, "apiGroup");
  at->resource = attr(r, "resource");
  at->subresource = attr(r, "subresource");
  at->name = attr(r, "name");
  at->path = attr(r, "path");
  /* The host leaves the resource unset on non-resource requests
   * (/healthz, /api, /apis/apps/v1). */
  at->resource_request = rbac_api->req_get(r, "resource") != NULL;
}

/* ---- Authorize --------------------------------------------------------- */

typedef struct authz_visit {
  const rbac_attrs *at;
  const rbac_binding *allowed_by;
  rbac_errors errs;
} authz_visit;

/* authorizingVisitor.visit: stop at the first rule that allows. */
static int authz_visit_binding(void *arg, const rbac_binding *b)
{
  authz_visit *v = arg;
  size_t i;

  if (!b->role) {
    rbac_errors_add(&v->errs, b);
    return 0;
  }
  for (i = 0; i < b->role->n_rules; i++)
    if (rbac_rule_allows(&b->role->rules[i], v->at)) {
      v->allowed_by = b;
      return 1;
    }
  return 0;
}

kapi_decision rbac_authorize(void *st, const kapi_req *r, kapi_error *e)
{
  rbac_state *s = st;
  rbac_user u = rbac_user_of(r);
  const rbac_policy *p;
  const rbac_subject *subj;
  authz_visit v;
  rbac_attrs at;
  int rc;

  rbac_attrs_of(r, &at);
  if ((rc = rbac_cache_acquire(&s->cache, &p)) < 0) {
    rbac_api->error_set(e, 500, "InternalError", "RBAC: %s", strerror(-rc));
    return KAPI_NO_OPINION;
  }
  memset(&v, 0, sizeof v);
  v.at = &at;
  rbac_policy_visit(p, &u, rbac_api->req_get(r, "namespace"), NULL,
                    authz_visit_binding, &v);
  if (v.allowed_by) {
    subj = rbac_binding_subject_for(v.allowed_by, &u);
    if (subj && subj->reason)
      rbac_api->error_set(e, 200, "", "%s", subj->reason);
    rbac_cache_release(&s->cache);
    return KAPI_ALLOW;
  }
  if (v.errs.n) {
    rbac_buf why = {0};

    rbac_buf_puts(&why, "RBAC: ");
    rbac_errors_print(&why, &v.errs, 0);
    if (!why.oom)
      rbac_api->error_set(e, 403, "Forbidden", "%s", rbac_buf_str(&why));
    rbac_buf_free(&why);
  }
  rbac_cache_release(&s->cache);
  return KAPI_NO_OPINION;
}

/* ---- RulesFor ------------------------------------------------------------ */

typedef struct rules_visit {
  kapi_obj *resource_rules, *non_resource_rules;
  rbac_errors errs;
  int rc;
} rules_visit;

/* `"key":["a","b"]`, after a comma unless it is the first member;
 * an empty list is left out (omitempty) unless `always`. */
static void json_list(rbac_buf *b, const char *key, const rbac_strv *v,
                      int first, int always)
{
  uint32_t i;

  if (!v->n && !always)
    return;
  rbac_buf_printf(b, "%s\"%s\":[", first ? "" : ",", key);
  for (i = 0; i < v->n; i++) {
    if (i)
      rbac_buf_add(b, ",", 1);
    rbac_buf_json_string(b, v->v[i]);
  }
  rbac_buf_add(b, "]", 1);
}

static int append_json(kapi_obj *arr, rbac_buf *b)
{
  int rc = b->oom ? -ENOMEM
                  : rbac_api->obj_set_json(arr, "/-", rbac_buf_str(b));

  rbac_buf_free(b);
  return rc;
}

/* authorizer.ResourceRuleInfo / NonResourceRuleInfo in the shape of a
 * SelfSubjectRulesReview's status: a rule with resources gives a
 * resource rule, one with URLs a non-resource rule. */
static int append_rule(rules_visit *v, const rbac_rule *r)
{
  rbac_buf b = {0};
  int rc = 0;

  if (r->resources.n) {
    rbac_buf_add(&b, "{", 1);
    json_list(&b, "verbs", &r->verbs, 1, 1);
    json_list(&b, "apiGroups", &r->groups, 0, 0);
    json_list(&b, "resources", &r->resources, 0, 0);
    json_list(&b, "resourceNames", &r->names, 0, 0);
    rbac_buf_add(&b, "}", 1);
    rc = append_json(v->resource_rules, &b);
  }
  if (rc == 0 && r->urls.n) {
    rbac_buf_add(&b, "{", 1);
    json_list(&b, "verbs", &r->verbs, 1, 1);
    json_list(&b, "nonResourceURLs", &r->urls, 0, 0);
    rbac_buf_add(&b, "}", 1);
    rc = append_json(v->non_resource_rules, &b);
  }
  return rc;
}

static int rules_visit_binding(void *arg, const rbac_binding *b)
{
  rules_visit *v = arg;
  size_t i;

  if (!b->role) {
    rbac_errors_add(&v->errs, b);
    return 0;
  }
  for (i = 0; i < b->role->n_rules; i++)
    if ((v->rc = append_rule(v, &b->role->rules[i])) < 0)
      return 1;
  return 0;
}

/*
 * Upstream returns incomplete=false from RBAC even when a binding's role
 * is missing, with the error as the review's evaluationError; the ABI
 * says "may be incomplete" through the return value, so a missing role
 * answers 1 with the error, which is true: its rules are not listed.
 */
int rbac_rules_for(void *st, const kapi_req *r, const char *ns,
                   kapi_obj *resource_rules, kapi_obj *non_resource_rules,
                   kapi_error *e)
{
  rbac_state *s = st;
  rbac_user u = rbac_user_of(r);
  const rbac_policy *p;
  rules_visit v;
  uint8_t *seen;
  int rc;

  if ((rc = rbac_cache_acquire(&s->cache, &p)) < 0) {
    rbac_api->error_set(e, 500, "InternalError", "%s", strerror(-rc));
    return rc;
  }
  if (!(seen = calloc(p->n_bindings ? p->n_bindings : 1, 1))) {
    rbac_cache_release(&s->cache);
    return -ENOMEM;
  }
  memset(&v, 0, sizeof v);
  v.resource_rules = resource_rules;
  v.non_resource_rules = non_resource_rules;
  rbac_policy_visit(p, &u, ns, seen, rules_visit_binding, &v);
  rc = v.rc;
  if (rc == 0 && v.errs.n) {
    rbac_buf why = {0};

    rbac_errors_print(&why, &v.errs, 0);
    rbac_api->error_set(e, 500, "InternalError", "%s", rbac_buf_str(&why));
    rbac_buf_free(&why);
    rc = 1;
  }
  rbac_cache_release(&s->cache);
  free(seen);
  return rc;
}

/* ---- the plugin ------------------------------------------------------------ */

static const kapi_authz_ops rbac_authz_ops = {
    .size = sizeof(kapi_authz_ops),
    .authorize = rbac_authorize,
    .rules_for = rbac_rules_for,
};

static const kapi_admission_ops rbac_escalation_ops = {
    .size = sizeof(kapi_admission_ops),
    .handles = KAPI_OP_CREATE | KAPI_OP_UPDATE,
    .validate = rbac_escalation_validate,
};

static rbac_state *state;

static int rbac_init(kapi_plugin *self, const kapi_host_api *host,
                     const char *config, size_t config_len, kapi_error *e)
{
  static const kapi_order last = {.priority = KAPI_ORDER_REALLY_LAST};
  int rc;

  (void)config;
  (void)config_len;
  rbac_api = host;
  rbac_self = self;
  if (!KAPI_API_HAS(host, store_list) || !KAPI_API_HAS(host, store_revision) ||
      !KAPI_API_HAS(host, authorize) || !KAPI_API_HAS(host, req_user)) {
    host->error_set(e, 500, "InternalError",
                    "rbac: the host API is %u.%u; RBAC needs 1.2 "
                    "(store_list, store_revision, authorize, req_user)",
                    host->abi_major, host->abi_minor);
    return -ENOTSUP;
  }
  if (!(state = calloc(1, sizeof *state)))
    return -ENOMEM;
  if ((rc = rbac_cache_init(&state->cache)) < 0) {
    free(state);
    state = NULL;
    return rc;
  }
  if ((rc = host->register_authz(self, "RBAC", &rbac_authz_ops, state,
                                 NULL)) < 0 ||
      (rc = host->register_admission(self, "RBACEscalation",
                                     &rbac_escalation_ops, state, &last)) < 0) {
    rbac_cache_destroy(&state->cache);
    free(state);
    state = NULL;
    return rc;
  }
  return 0;
}

static void rbac_fini(kapi_plugin *self)
{
  (void)self;
  if (!state)
    return;
  rbac_cache_destroy(&state->cache);
  free(state);
  state = NULL;
}

KAPI_PLUGIN_DEFINE(.name = "rbac", .version = "0.1.0",
                   .description = "RBAC authorizer (Roles, ClusterRoles and "
                                  "their bindings) with escalation "
                                  "prevention for rbac.authorization.k8s.io",
                   .license = "Apache-2.0", .init = rbac_init,
                   .fini = rbac_fini);
