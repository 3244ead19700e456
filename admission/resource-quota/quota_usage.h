/*
 * quota_usage.h - the quota evaluators of upstream's pkg/quota/v1
 * (evaluator/core pods, services and persistentvolumeclaims, generic
 * object counts, scopes, and the usage of a namespace), shared by the
 * ResourceQuota admission plugin and the resourcequota controller.
 *
 * Objects are read through `quota_api` (resource_list.h).  Every
 * function is reentrant.  Ownership: kapi_obj arguments are borrowed;
 * rq_list contents are owned by the list (rq_list_free).
 */
#ifndef KAPI_RQ_QUOTA_USAGE_H
#define KAPI_RQ_QUOTA_USAGE_H

#include <stddef.h>
#include <stdint.h>

#include "kapi/plugin.h"
#include "quantity.h"
#include "resource_list.h"

/* ---- evaluators ------------------------------------------------------------ */

typedef enum rq_kind {
  RQ_KIND_GENERIC = 0, /* object count (NewObjectCountEvaluator) */
  RQ_KIND_PODS = 1,
  RQ_KIND_SERVICES = 2,
  RQ_KIND_PVCS = 3,
} rq_kind;

rq_kind rq_kind_of(const char *group, const char *resource);

/* install.DefaultIgnoredResources: never quota'd. */
int rq_is_ignored(const char *group, const char *resource);

/* Evaluator.Handles: can `op` ("CREATE", "UPDATE") change usage? */
int rq_handles(const char *group, const char *resource, const char *op);

/* Evaluator.MatchingResources for one name: does the evaluator of
 * group/resource track quota resource `name`? */
int rq_matches_name(const char *group, const char *resource,
                    const char *name);

/* The group/resource whose evaluator tracks quota resource `name`
 * ("requests.cpu" -> pods, "count/deployments.apps" -> apps
 * deployments).  0, or -ENOENT when no evaluator tracks it. */
int rq_tracker_of(const char *name, char *group, size_t glen, char *resource,
                  size_t rlen);

/* Evaluator.Usage of `obj` at `now` (Unix seconds) added to *out. */
int rq_usage(const char *group, const char *resource, const kapi_obj *obj,
             int64_t now, rq_list *out);

/* The count name of a group/resource ("count/pods",
 * "count/deployments.apps") into buf. */
char *rq_count_name(const char *group, const char *resource, char *buf,
                    size_t len);

/* ---- pods ------------------------------------------------------------------ */

/* resourcehelper.PodRequests and PodLimits (init containers, sidecars,
 * overhead), added to *out. */
int rq_pod_requests(const kapi_obj *pod, rq_list *out);
int rq_pod_limits(const kapi_obj *pod, rq_list *out);

/* core.QuotaV1Pod: not terminal, not past its deletion grace period. */
int rq_pod_counts(const kapi_obj *pod, int64_t now);

/* podEvaluator.Constraints: 0 when every container sets what the
 * quota's `required` names (cpu/memory ones) need; else 1 and msg gets
 * "must specify limits.cpu for: c; requests.memory for: c,d". */
int rq_pod_constraints(const rq_list *required, const kapi_obj *pod,
                       char *msg, size_t len);

/* ---- scopes ------------------------------------------------------------------ */

/* One ScopedResourceSelectorRequirement; strings borrowed from the quota. */
typedef struct rq_scope {
  const char *name;       /* "BestEffort", "PriorityClass", ... */
  const char *op;         /* "Exists", "In", ... */
  const kapi_obj *values; /* array or NULL */
} rq_scope;

/* getScopeSelectorsFromQuota: spec.scopes (as Exists) then
 * spec.scopeSelector.matchExpressions.  *ret: malloc'd (free()). */
int rq_quota_scopes(const kapi_obj *quota, rq_scope **ret, size_t *n);

/* Does obj (of group/resource) match the scope?  Only pods have scopes:
 * every other evaluator matches none (MatchesNoScopeFunc). */
int rq_scope_matches(const char *group, const char *resource,
                     const rq_scope *s, const kapi_obj *obj);

/* generic.Matches: the quota (its status.hard names `hard`, its scopes)
 * tracks a resource of obj's evaluator, and obj matches every scope. */
int rq_quota_matches(const char *group, const char *resource,
                     const rq_list *hard, const rq_scope *scopes,
                     size_t n_scopes, const kapi_obj *obj);

/* ---- usage of a namespace ---------------------------------------------------- */

typedef void (*rq_visit_fn)(void *ctx, const kapi_obj *obj);
/* Calls visit(ctx, obj) for every object of group/resource in ns.
 * Returns 0 or -errno (-ENOENT: no such resource). */
typedef int (*rq_lister_fn)(void *arg, const char *group,
                            const char *resource, const char *ns,
                            rq_visit_fn visit, void *ctx);

/*
 * quota.CalculateUsage: the usage in namespace `ns` of the quota
 * resources `names` (a list used as a set) that some evaluator tracks,
 * counting only the objects that match the scopes.  Entries start at
 * 0; names nobody tracks stay absent, and so do the names of a resource
 * the lister failed on (the first error is returned, the rest still
 * computed).
 */
int rq_calculate_usage(const char *ns, const rq_scope *scopes,
                       size_t n_scopes, const rq_list *names,
                       rq_lister_fn lister, void *arg, int64_t now,
                       rq_list *used);

#endif
