/*
 * rbac_internal.h - what the files of the RBAC plugin share.
 *
 * The plugin has three faces: the "RBAC" authorizer (rbac_authz.c), its
 * rule resolver for SelfSubjectRulesReview (rules_for, same file) and
 * the "RBACEscalation" validating admission component
 * (rbac_escalation.c), which stands in for upstream's policybased
 * storage wrappers.  All three read one compiled policy (rbac_policy.c)
 * kept fresh by a cache (rbac_cache.c): the Roles, ClusterRoles and
 * their bindings are parsed once per change of the store, never per
 * request.
 *
 * Ownership: a policy owns every string and array it points to (one
 * arena); pointers into it are valid while the cache's read lock is held
 * (between rbac_cache_acquire and rbac_cache_release).
 */
#ifndef KAPI_RBAC_INTERNAL_H
#define KAPI_RBAC_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "kapi/plugin.h"

#define RBAC_GROUP "rbac.authorization.k8s.io"

/* The host API, set once by init before any component is registered
 * (static storage of the host). */
extern const kapi_host_api *rbac_api;
extern kapi_plugin *rbac_self;

/* ---- rbac_arena.c: memory of one policy, and message buffers ---------- */

typedef struct rbac_chunk rbac_chunk;
typedef struct rbac_arena {
  rbac_chunk *head;
} rbac_arena;

/* Zeroed, suitably aligned memory that lives until rbac_arena_free;
 * NULL when out of memory. */
void *rbac_arena_alloc(rbac_arena *a, size_t n);
/* A copy of s (NULL stays NULL) in the arena. */
char *rbac_arena_strdup(rbac_arena *a, const char *s);
void rbac_arena_free(rbac_arena *a);

/* A growing NUL-terminated text.  Appends never fail loudly: on out of
 * memory `oom` is set and the text stops growing; check it once at the
 * end.  Zero-initialise; free with rbac_buf_free. */
typedef struct rbac_buf {
  char *s;
  size_t len, cap;
  int oom;
} rbac_buf;

void rbac_buf_add(rbac_buf *b, const char *s, size_t n);
void rbac_buf_puts(rbac_buf *b, const char *s);
void rbac_buf_printf(rbac_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* s as Go's %q prints a string ("a\"b"). */
void rbac_buf_go_quote(rbac_buf *b, const char *s);
/* s as a JSON string literal. */
void rbac_buf_json_string(rbac_buf *b, const char *s);
/* The text so far ("" when empty); borrowed from b. */
const char *rbac_buf_str(const rbac_buf *b);
void rbac_buf_free(rbac_buf *b);

/* ---- rbac_rules.c: PolicyRule matching and comparison ------------------ */

typedef struct rbac_strv {
  const char *const *v;
  uint32_t n;
} rbac_strv;

/* A compiled rbacv1.PolicyRule.  The any_* flags cache whether the
 * list holds "*", so that the hot path tests them first. */
typedef struct rbac_rule {
  rbac_strv verbs, groups, resources, names, urls;
  uint8_t any_verb, any_group, any_resource;
} rbac_rule;

/* The request as RBAC sees it (authorizer.Attributes).  Strings are
 * borrowed; absent ones are "". */
typedef struct rbac_attrs {
  const char *verb, *group, *resource, *subresource, *name, *path;
  int resource_request;
} rbac_attrs;

/* Compiles one rule object (verbs, apiGroups, resources, resourceNames,
 * nonResourceURLs) into `out`, strings copied into `a`.  0 or -ENOMEM. */
int rbac_rule_compile(rbac_arena *a, const kapi_obj *o, rbac_rule *out);
/* Compiles an array of rules (NULL or not an array: none). */
int rbac_rules_compile(rbac_arena *a, const kapi_obj *arr, rbac_rule **ret,
                       size_t *ret_n);
/* Builds a rule from NULL-terminated static lists (tests, fullAuthority). */
int rbac_rule_make(rbac_arena *a, const char *const *verbs,
                   const char *const *groups, const char *const *resources,
                   const char *const *names, const char *const *urls,
                   rbac_rule *out);

/* upstream's RuleAllows (plugin/pkg/auth/authorizer/rbac/rbac.go). */
int rbac_rule_allows(const rbac_rule *rule, const rbac_attrs *at);
/* Same lists in the same order (the aggregation controller's
 * ruleExists uses reflect.DeepEqual). */
int rbac_rule_equal(const rbac_rule *a, const rbac_rule *b);

/*
 * upstream's validation.Covers: whether the owner rules cover every
 * servant rule.  Returns 1 when they do, 0 when not, and then `missing`
 * (if not NULL) receives what ConfirmNoEscalation prints: the uncovered
 * rules, compacted (CompactRules), each as CompactString, sorted and
 * unique, one per line.  -ENOMEM on failure.
 */
int rbac_covers(const rbac_rule *const *owner, size_t n_owner,
                const rbac_rule *servant, size_t n_servant, rbac_buf *missing);

/* rbacv1helpers.CompactString of one rule. */
void rbac_rule_compact_string(rbac_buf *b, const rbac_rule *r);

/* ---- rbac_selector.c: metav1.LabelSelector ------------------------------ */

/* Whether `labels` (an object of strings, or NULL) matches the
 * LabelSelector object `sel`.  An empty selector matches everything; a
 * missing (NULL) or malformed one matches nothing. */
int rbac_selector_matches(const kapi_obj *sel, const kapi_obj *labels);

/* ---- rbac_policy.c: the compiled policy --------------------------------- */

enum { RBAC_CLUSTER_ROLES, RBAC_ROLES, RBAC_CLUSTER_ROLE_BINDINGS,
       RBAC_ROLE_BINDINGS, RBAC_N_RESOURCES };
extern const char *const rbac_resources[RBAC_N_RESOURCES];

typedef struct rbac_role {
  const char *ns; /* NULL for a ClusterRole */
  const char *name;
  const rbac_rule *rules; /* effective: aggregated for ClusterRoles */
  size_t n_rules;
} rbac_role;

enum { RBAC_SUBJECT_USER = 1, RBAC_SUBJECT_GROUP, RBAC_SUBJECT_SA };

typedef struct rbac_subject {
  int kind;          /* RBAC_SUBJECT_* */
  const char *match; /* the user or group name it matches; NULL: none */
  /* "allowed by ..." reason, as RBACAuthorizer words it. */
  const char *reason;
} rbac_subject;

/* Why a binding gives no rules. */
enum { RBAC_REF_OK = 0, RBAC_REF_NOT_FOUND, RBAC_REF_BAD_KIND };

typedef struct rbac_binding {
  uint32_t idx;     /* position in the policy's bindings */
  const char *ns;   /* NULL for a ClusterRoleBinding */
  const char *name;
  const char *role_kind, *role_name;
  const rbac_role *role; /* NULL when ref != RBAC_REF_OK */
  int ref;
  const rbac_subject *subjects;
  size_t n_subjects;
} rbac_binding;

typedef struct rbac_slot rbac_slot;

typedef struct rbac_policy {
  rbac_arena arena;
  int64_t revs[RBAC_N_RESOURCES]; /* store revisions it was built at */
  rbac_role *cluster_roles;       /* sorted by name */
  size_t n_cluster_roles;
  rbac_role *roles; /* sorted by namespace, name */
  size_t n_roles;
  rbac_binding *bindings; /* ClusterRoleBindings, then RoleBindings */
  size_t n_bindings;
  rbac_slot *slots; /* subject index: open addressing, power of two */
  size_t n_slots;
} rbac_policy;

/* The user a request acts as (user.Info).  Borrowed. */
typedef struct rbac_user {
  const char *name;        /* "" when none */
  const kapi_obj *groups;  /* array of strings, or NULL */
} rbac_user;

/* The user of a request (api->req_user). */
rbac_user rbac_user_of(const kapi_req *r);
size_t rbac_user_ngroups(const rbac_user *u);
const char *rbac_user_group(const rbac_user *u, size_t i);
int rbac_user_in_group(const rbac_user *u, const char *group);

/*
 * Builds a policy from the objects of the four resources in the store
 * (api->store_list), stamped with `revs` (read before listing, so that a
 * change racing the build makes the next request rebuild).  Resources
 * the host does not serve count as empty; their bits (1 << RBAC_ROLES...)
 * are set in *unserved.  The caller owns *ret.
 */
int rbac_policy_build(const int64_t revs[RBAC_N_RESOURCES],
                      unsigned *unserved, rbac_policy **ret);
/* The same from JSON arrays (NULL: none); for the unit tests. */
int rbac_policy_from_lists(const kapi_obj *const lists[RBAC_N_RESOURCES],
                           rbac_policy **ret);
void rbac_policy_free(rbac_policy *p);

const rbac_role *rbac_policy_cluster_role(const rbac_policy *p,
                                          const char *name);
const rbac_role *rbac_policy_role(const rbac_policy *p, const char *ns,
                                  const char *name);

/*
 * Visits the bindings that apply to `u` in the order upstream's
 * VisitRulesFor does: ClusterRoleBindings, then the RoleBindings of `ns`
 * (when not empty).  `fn` returns non-zero to stop.  With `seen` (an
 * array of p->n_bindings zeroed bytes) each binding is visited once even
 * when several of its subjects apply; without it, the hot path, a
 * binding may come twice.  Returns what the last fn returned.
 */
typedef int (*rbac_visit_fn)(void *arg, const rbac_binding *b);
int rbac_policy_visit(const rbac_policy *p, const rbac_user *u,
                      const char *ns, uint8_t *seen, rbac_visit_fn fn,
                      void *arg);

/* The first subject of b that applies to u (upstream's appliesTo). */
const rbac_subject *rbac_binding_subject_for(const rbac_binding *b,
                                             const rbac_user *u);

/*
 * Appends why b gives no rules: the lister's words for the authorizer
 * (`clusterrole.rbac.authorization.k8s.io "x" not found`) or, with
 * `registry`, the storage's (`clusterroles.rbac...`), as the
 * escalation check's resolver says it.
 */
void rbac_binding_error(rbac_buf *b, const rbac_binding *bd, int registry);

/*
 * Collects the distinct resolution errors of a visit and prints them as
 * utilerrors.NewAggregate does: one message alone, several as
 * "[a, b]".  Fixed size: no allocation on the request path.
 */
#define RBAC_MAX_ERRORS 16
typedef struct rbac_errors {
  const rbac_binding *b[RBAC_MAX_ERRORS];
  size_t n;
} rbac_errors;

void rbac_errors_add(rbac_errors *errs, const rbac_binding *b);
void rbac_errors_print(rbac_buf *out, const rbac_errors *errs, int registry);

/* ---- rbac_cache.c: the policy kept in step with the store -------------- */

typedef struct rbac_cache {
  pthread_rwlock_t lock;   /* guards `policy` (read: use, write: swap) */
  pthread_mutex_t rebuild; /* one rebuild at a time */
  rbac_policy *policy;
  int warned_unserved; /* resources the host does not serve: said once */
} rbac_cache;

int rbac_cache_init(rbac_cache *c);
void rbac_cache_destroy(rbac_cache *c);
/*
 * The current policy, rebuilt first if a store revision moved.  On
 * success returns 0 with the read lock held: release it with
 * rbac_cache_release.  On failure (no policy could be built) returns
 * <0 and holds nothing.
 */
int rbac_cache_acquire(rbac_cache *c, const rbac_policy **ret);
void rbac_cache_release(rbac_cache *c);

/* ---- rbac_authz.c / rbac_escalation.c ------------------------------------ */

/* The plugin's state (st of both components). */
typedef struct rbac_state {
  rbac_cache cache;
} rbac_state;

/* The "RBAC" authorizer and its rule resolver. */
kapi_decision rbac_authorize(void *st, const kapi_req *r, kapi_error *e);
int rbac_rules_for(void *st, const kapi_req *r, const char *ns,
                   kapi_obj *resource_rules, kapi_obj *non_resource_rules,
                   kapi_error *e);
/* Fills at from the request's attributes. */
void rbac_attrs_of(const kapi_req *r, rbac_attrs *at);

/* The "RBACEscalation" admission component. */
int rbac_escalation_validate(void *st, const kapi_req *r, const kapi_obj *obj,
                             kapi_error *e);

#endif
