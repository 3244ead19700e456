/*
 * resource_quota.c - the ResourceQuota admission plugin.
 *
 * Upstream: staging/src/k8s.io/apiserver/pkg/admission/plugin/
 * resourcequota (admission.go, controller.go) with the evaluators of
 * pkg/quota/v1/evaluator/core (quota_usage.c).  A request that creates
 * (or, for services and claims, changes) something a quota in its
 * namespace tracks is charged to that quota before it is admitted: the
 * new usage is written into the quota's status.used, and a request that
 * would take usage past status.hard is refused with upstream's message
 * ("exceeded quota: q, requested: pods=1, used: pods=2, limited:
 * pods=2").  Deletes release nothing: the resourcequota controller
 * recalculates usage.
 *
 * Exactness: upstream batches the requests of a namespace through one
 * worker; here the check-and-charge of a namespace runs under a mutex
 * (striped by namespace hash) and writes status.used with the host's
 * store_update, conditional on the resourceVersion read, so concurrent
 * creates can never both take the last unit.  A conflict (the
 * controller wrote meanwhile) re-reads that quota and checks again, as
 * upstream's checkQuotas retries.
 *
 * Deviation: upstream refuses with "status unknown for quota" until the
 * controller has filled status.hard and status.used.  Here a quota whose
 * status.hard is empty is taken with status.hard = spec.hard, and usage
 * missing from status.used is computed from the store; both are written
 * with the charge.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kapi/plugin.h"
#include "quota_usage.h"

/* The host table lives in quota_usage.c (shared with the controller). */
#define api quota_api

#define LOCK_STRIPES 64
/* The first write and upstream's three retries after conflicts. */
#define WRITE_ATTEMPTS 4

static kapi_plugin *self;
static pthread_mutex_t ns_locks[LOCK_STRIPES] = {
    [0 ... LOCK_STRIPES - 1] = PTHREAD_MUTEX_INITIALIZER};

/* ---- the request -------------------------------------------------------------- */

typedef struct request {
  const kapi_req *r;
  const kapi_obj *obj; /* the incoming object */
  const kapi_obj *old; /* the stored one on UPDATE */
  const char *ns, *group, *resource, *op, *name;
  int dry_run;
  int64_t now;
} request;

static int nonempty(const char *s)
{
  return s && *s;
}

static const char *or_empty(const char *s)
{
  return s ? s : "";
}

/* admission.NewForbidden: `<resource>[.<group>] "<name>" is forbidden:
 * <reason>` as a 403. */
static int forbid(const request *q, kapi_error *e, const char *fmt, ...)
    KAPI_PRINTF(3, 4);
static int forbid(const request *q, kapi_error *e, const char *fmt, ...)
{
  char reason[2048];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  api->error_set(e, 403, "Forbidden", "%s%s%s \"%s\" is forbidden: %s",
                 q->resource, nonempty(q->group) ? "." : "",
                 or_empty(q->group), q->name, reason);
  return -EPERM;
}

static int internal_error(kapi_error *e, const char *what, int rc)
{
  api->error_set(e, 500, "InternalError", "Internal error occurred: %s: %s",
                 what, strerror(-rc));
  return rc;
}

/* The name errors use: the request's, else the object's name or
 * generateName, else "Unknown" (extractResourceName). */
static const char *object_name(const kapi_req *r, const kapi_obj *obj)
{
  const char *name = api->req_get(r, "name");
  if (!nonempty(name))
    name = api->obj_get(obj, "/metadata/name");
  if (!nonempty(name))
    name = api->obj_get(obj, "/metadata/generateName");
  return nonempty(name) ? name : "Unknown";
}

/* ---- quotas as read from the store ------------------------------------------------ */

typedef struct quota {
  kapi_obj *owned;      /* re-read after a conflict, else NULL */
  kapi_obj *obj;        /* owned or a member of the list we own */
  const char *name;     /* borrowed from obj */
  rq_list hard, used;   /* status.hard and status.used, completed */
  rq_list new_used;     /* status.used with the charge */
  rq_scope *scopes;
  size_t n_scopes;
  int fill_hard;        /* status.hard was empty: spec.hard is used */
  int filled;           /* usage computed from the store goes in too */
  int interesting;      /* the request is charged to this quota */
  int pending;          /* status to write */
} quota;

static void quota_clear(quota *q)
{
  rq_list_free(&q->hard);
  rq_list_free(&q->used);
  rq_list_free(&q->new_used);
  free(q->scopes);
  q->scopes = NULL;
  q->n_scopes = 0;
  if (q->owned)
    api->obj_free(q->owned);
  q->owned = NULL;
  q->obj = NULL;
}

/* Reads hard, used and scopes of the quota object in q->obj. */
static int quota_load(quota *q)
{
  const kapi_obj *hard = api->obj_lookup(q->obj, "/status/hard");
  int rc;

  q->name = api->obj_get(q->obj, "/metadata/name");
  q->fill_hard = api->obj_type(hard) != KAPI_OBJ_OBJECT;
  if (q->fill_hard)
    hard = api->obj_lookup(q->obj, "/spec/hard");
  q->filled = q->interesting = q->pending = 0;
  if ((rc = rq_list_parse(hard, &q->hard)) < 0 ||
      (rc = rq_list_parse(api->obj_lookup(q->obj, "/status/used"),
                          &q->used)) < 0)
    return rc;
  return rq_quota_scopes(q->obj, &q->scopes, &q->n_scopes);
}

/* Every quota of the namespace; *list keeps the members alive. */
static int list_quotas(const char *ns, kapi_obj **list, quota **ret,
                       size_t *n)
{
  size_t i, k;
  quota *v;
  int rc;

  *ret = NULL;
  *n = 0;
  /* Without the resourcequotas resource there is no quota to check. */
  if ((rc = api->store_list("", "resourcequotas", ns, NULL, list)) < 0)
    return rc == -ENOENT ? 0 : rc;
  k = api->obj_len(*list);
  if (!k)
    return 0;
  if (!(v = calloc(k, sizeof *v)))
    return -ENOMEM;
  for (i = 0; i < k; i++) {
    /* The list is our copy, so its members are ours to change. */
    v[i].obj = (kapi_obj *)api->obj_index(*list, i);
    if ((rc = quota_load(&v[i])) < 0) {
      *n = i + 1;
      *ret = v;
      return rc;
    }
  }
  *ret = v;
  *n = k;
  return 0;
}

/* After a conflict: the quota as stored now.  -ENOENT if it is gone. */
static int reread_quota(const char *ns, quota *q)
{
  char name[254];
  kapi_obj *fresh = NULL;
  int rc;

  snprintf(name, sizeof name, "%s", or_empty(q->name));
  quota_clear(q);
  if ((rc = api->store_get("", "resourcequotas", ns, name, &fresh)) < 0)
    return rc;
  q->owned = q->obj = fresh;
  return quota_load(q);
}

/* ---- usage from the store (the deviation) ------------------------------------------ */

static int store_lister(void *arg, const char *group, const char *resource,
                        const char *ns, rq_visit_fn visit, void *ctx)
{
  kapi_obj *items = NULL;
  size_t i, n;
  int rc;

  (void)arg;
  if ((rc = api->store_list(group, resource, ns, NULL, &items)) < 0)
    return rc;
  n = api->obj_len(items);
  for (i = 0; i < n; i++)
    visit(ctx, api->obj_index(items, i));
  api->obj_free(items);
  return 0;
}

/*
 * hasUsageStats, completed: the usage status.used lacks is computed from
 * the store, for the names of `restricted`, or of all of status.hard the
 * first time (as the controller's first sync would).  Returns 0, 1 when
 * some usage of `restricted` still cannot be known (no such resource),
 * or -errno.
 */
static int complete_usage(const request *rq, quota *q,
                          const rq_list *restricted)
{
  const rq_list *wanted = q->fill_hard ? &q->hard : restricted;
  rq_list missing = {0}, computed = {0};
  size_t i;
  int rc = 0, unknown = 0;

  for (i = 0; i < wanted->n && rc == 0; i++)
    if (!rq_list_get(&q->used, wanted->v[i].name))
      rc = rq_list_set(&missing, wanted->v[i].name, &wanted->v[i].q);
  if (rc == 0 && missing.n) {
    rc = rq_calculate_usage(rq->ns, q->scopes, q->n_scopes, &missing,
                            store_lister, NULL, rq->now, &computed);
    if (rc == -ENOMEM)
      goto out;
    rc = 0;
    for (i = 0; i < computed.n && rc == 0; i++)
      rc = rq_list_set(&q->used, computed.v[i].name, &computed.v[i].q);
    q->filled = 1;
    api->log(self, 4, "quota %s/%s: usage of %zu resources computed from "
             "the store", rq->ns, q->name, computed.n);
  }
  for (i = 0; i < restricted->n && rc == 0; i++)
    if (!rq_list_get(&q->used, restricted->v[i].name))
      unknown = 1;
out:
  rq_list_free(&missing);
  rq_list_free(&computed);
  return rc < 0 ? rc : unknown;
}

/* ---- CheckRequest ---------------------------------------------------------------- */

/* Does the quota's restricted set need the request's constraints, and
 * have usage for all of it?  Marks the quota interesting. */
static int check_quota(const request *rq, quota *q, kapi_error *e)
{
  rq_list restricted = {0};
  char msg[2048];
  size_t i;
  int rc = 0;

  if (!rq_quota_matches(rq->group, rq->resource, &q->hard, q->scopes,
                        q->n_scopes, rq->obj))
    return 0;
  for (i = 0; i < q->hard.n && rc == 0; i++)
    if (rq_matches_name(rq->group, rq->resource, q->hard.v[i].name))
      rc = rq_list_set(&restricted, q->hard.v[i].name, &q->hard.v[i].q);
  if (rc == 0 && rq_kind_of(rq->group, rq->resource) == RQ_KIND_PODS &&
      rq_pod_constraints(&restricted, rq->obj, msg, sizeof msg))
    rc = forbid(rq, e, "failed quota: %s: %s", q->name, msg);
  if (rc == 0 && (rc = complete_usage(rq, q, &restricted)) == 1)
    rc = forbid(rq, e, "status unknown for quota: %s, resources: %s",
                q->name, rq_list_names(&restricted, msg, sizeof msg));
  else if (rc < 0 && rc != -EPERM)
    rc = internal_error(e, "computing quota usage", rc);
  if (rc == 0)
    q->interesting = 1;
  rq_list_free(&restricted);
  return rc;
}

/* The usage of the request: the object's, or on UPDATE what it adds to
 * the stored object's, per quota (a quota that did not match the old
 * object is charged the whole). */
static int request_usage(const request *rq, rq_list *input, rq_list *delta,
                         int *have_delta, kapi_error *e)
{
  rq_list prev = {0}, neg = {0};
  char names[1024];
  size_t i;
  int rc;

  *have_delta = 0;
  if ((rc = rq_usage(rq->group, rq->resource, rq->obj, rq->now, input)) < 0)
    return internal_error(e, "measuring usage", rc);
  for (i = 0; i < input->n; i++)
    if (rq_qty_sign(&input->v[i].q) < 0)
      rq_list_set(&neg, input->v[i].name, &input->v[i].q);
  if (neg.n) {
    rc = forbid(rq, e, "quota usage is negative for resource(s): %s",
                rq_list_names(&neg, names, sizeof names));
    rq_list_free(&neg);
    return rc;
  }
  if (strcmp(rq->op, "UPDATE"))
    return 0;
  if (!rq->old)
    return forbid(rq, e, "unable to get previous usage since prior version "
                         "of object was not found");
  /* An update that creates the object (no resourceVersion yet) is
   * charged in full. */
  if (!nonempty(api->obj_get(rq->old, "/metadata/resourceVersion")))
    return 0;
  if ((rc = rq_usage(rq->group, rq->resource, rq->old, rq->now, &prev)) == 0)
    rc = rq_list_sub_nonneg(input, &prev, delta);
  rq_list_free(&prev);
  if (rc < 0)
    return internal_error(e, "measuring usage", rc);
  *have_delta = 1;
  return 0;
}

/* LessThanOrEqual over the names charged: the refusal, or 0. */
static int charge_quota(const request *rq, quota *q, const rq_list *usage,
                        kapi_error *e)
{
  rq_list requested = {0}, masked = {0}, exceeded = {0};
  rq_list f_req = {0}, f_used = {0}, f_hard = {0};
  char a[1024], b[1024], c[1024];
  size_t i;
  int rc;

  if ((rc = rq_list_copy(&requested, usage)) < 0)
    goto out;
  rq_list_mask(&requested, &q->hard);
  if ((rc = rq_list_copy(&q->new_used, &q->used)) < 0 ||
      (rc = rq_list_add(&q->new_used, &requested)) < 0 ||
      (rc = rq_list_copy(&masked, &q->new_used)) < 0)
    goto out;
  rq_list_mask(&masked, &requested);
  for (i = 0; i < q->hard.n && rc == 0; i++) {
    const rq_qty *v = rq_list_get(&masked, q->hard.v[i].name);
    if (v && rq_qty_cmp(v, &q->hard.v[i].q) > 0)
      rc = rq_list_set(&exceeded, q->hard.v[i].name, &q->hard.v[i].q);
  }
  if (rc == 0 && exceeded.n) {
    if ((rc = rq_list_copy(&f_req, &requested)) == 0 &&
        (rc = rq_list_copy(&f_used, &q->used)) == 0 &&
        (rc = rq_list_copy(&f_hard, &q->hard)) == 0) {
      rq_list_mask(&f_req, &exceeded);
      rq_list_mask(&f_used, &exceeded);
      rq_list_mask(&f_hard, &exceeded);
      rc = forbid(rq, e,
                  "exceeded quota: %s, requested: %s, used: %s, limited: %s",
                  q->name, rq_list_pretty(&f_req, a, sizeof a),
                  rq_list_pretty(&f_used, b, sizeof b),
                  rq_list_pretty(&f_hard, c, sizeof c));
    }
  }
  if (rc == 0)
    q->pending = q->fill_hard || q->filled ||
                 !rq_list_equal(&q->new_used, &q->used);
out:
  if (rc == -ENOMEM)
    rc = internal_error(e, "checking quota", rc);
  rq_list_free(&requested);
  rq_list_free(&masked);
  rq_list_free(&exceeded);
  rq_list_free(&f_req);
  rq_list_free(&f_used);
  rq_list_free(&f_hard);
  return rc;
}

/*
 * CheckRequest over the quotas still to be settled (q->obj set): on
 * success the interesting ones have new_used and pending set.
 */
static int check_request(const request *rq, quota *quotas, size_t n,
                         kapi_error *e)
{
  rq_list input = {0}, update_delta = {0};
  size_t i;
  int rc = 0, have_delta = 0, any = 0;

  for (i = 0; i < n && rc == 0; i++) {
    quotas[i].interesting = quotas[i].pending = 0;
    if (quotas[i].obj && (rc = check_quota(rq, &quotas[i], e)) == 0)
      any |= quotas[i].interesting;
  }
  if (rc < 0 || !any)
    return rc;
  if ((rc = request_usage(rq, &input, &update_delta, &have_delta, e)) < 0)
    goto out;
  for (i = 0; i < n && rc == 0; i++) {
    quota *q = &quotas[i];
    const rq_list *usage = &input;
    rq_list nonzero = {0};
    if (!q->interesting)
      continue;
    if (have_delta &&
        rq_quota_matches(rq->group, rq->resource, &q->hard, q->scopes,
                         q->n_scopes, rq->old))
      usage = &update_delta;
    if ((rc = rq_list_copy(&nonzero, usage)) == 0) {
      rq_list_remove_zeros(&nonzero);
      /* Nothing to charge here: no update either. */
      if (nonzero.n)
        rc = charge_quota(rq, q, &nonzero, e);
    } else {
      rc = internal_error(e, "checking quota", rc);
    }
    rq_list_free(&nonzero);
  }
out:
  rq_list_free(&input);
  rq_list_free(&update_delta);
  return rc;
}

/* ---- writing status ------------------------------------------------------------- */

/* The quota's status with the charge (and, the first time, hard). */
static int write_status(quota *q)
{
  char *used = rq_list_json(&q->new_used), *hard = NULL;
  int rc = used ? 0 : -ENOMEM;

  if (rc == 0 && q->fill_hard) {
    hard = rq_list_json(&q->hard);
    rc = hard ? api->obj_set_json(q->obj, "/status/hard", hard) : -ENOMEM;
  }
  if (rc == 0)
    rc = api->obj_set_json(q->obj, "/status/used", used);
  if (rc == 0)
    rc = api->store_update("", "resourcequotas", q->obj, NULL);
  free(used);
  free(hard);
  return rc;
}

/*
 * checkQuotas: charge, write, and on conflicts re-read the quotas that
 * failed and check them again.  Returns 0 or -errno with `e` set.
 */
static int evaluate(const request *rq, kapi_error *e)
{
  kapi_obj *list = NULL;
  quota *quotas = NULL;
  size_t n = 0, i;
  int rc, attempt, conflicts = 0;
  char conflicted[254] = "";

  if ((rc = list_quotas(rq->ns, &list, &quotas, &n)) < 0) {
    internal_error(e, "listing resource quotas", rc);
    goto out;
  }
  for (attempt = 0; attempt < WRITE_ATTEMPTS && n; attempt++) {
    if ((rc = check_request(rq, quotas, n, e)) < 0 || rq->dry_run)
      goto out;
    conflicts = 0;
    for (i = 0; i < n; i++) {
      quota *q = &quotas[i];
      if (!q->obj || !q->pending) {
        quota_clear(q); /* settled: not checked again */
        continue;
      }
      rc = write_status(q);
      if (rc == -EBUSY) {
        conflicts++;
        snprintf(conflicted, sizeof conflicted, "%s", or_empty(q->name));
        api->log(self, 4, "quota %s/%s changed under the charge, retrying",
                 rq->ns, q->name);
        if ((rc = reread_quota(rq->ns, q)) == -ENOENT) {
          quota_clear(q); /* deleted meanwhile: nothing to charge */
          conflicts--;
        } else if (rc < 0) {
          internal_error(e, "reading resource quota", rc);
          goto out;
        }
        continue;
      }
      if (rc < 0) {
        internal_error(e, "updating resource quota status", rc);
        goto out;
      }
      quota_clear(q);
    }
    if (!conflicts)
      break;
  }
  rc = 0;
  if (conflicts) {
    api->error_set(e, 409, "Conflict",
                   "Operation cannot be fulfilled on resourcequotas \"%s\": "
                   "the object has been modified; please apply your changes "
                   "to the latest version and try again",
                   conflicted);
    rc = -EBUSY;
  }
out:
  for (i = 0; i < n; i++)
    quota_clear(&quotas[i]);
  free(quotas);
  if (list)
    api->obj_free(list);
  return rc;
}

/* ---- the plugin ------------------------------------------------------------------ */

static unsigned stripe_of(const char *ns)
{
  unsigned h = 5381;
  for (; *ns; ns++)
    h = h * 33 + (unsigned char)*ns;
  return h % LOCK_STRIPES;
}

static int quota_validate(void *st, const kapi_req *r, const kapi_obj *obj,
                          kapi_error *e)
{
  request rq;
  const char *sub = api->req_get(r, "subresource");
  unsigned stripe;
  int rc;

  (void)st;
  memset(&rq, 0, sizeof rq);
  rq.r = r;
  rq.obj = obj;
  rq.ns = api->req_get(r, "namespace");
  rq.group = or_empty(api->req_get(r, "apiGroup"));
  rq.resource = api->req_get(r, "resource");
  rq.op = or_empty(api->req_get(r, "operation"));
  /* Subresources, cluster-scoped objects (namespaces among them) and the
   * ignored resources are never charged. */
  if (nonempty(sub) || !nonempty(rq.ns) || !nonempty(rq.resource) || !obj ||
      rq_is_ignored(rq.group, rq.resource) ||
      !rq_handles(rq.group, rq.resource, rq.op))
    return 0;
  rq.old = api->req_old_object(r);
  rq.name = object_name(r, obj);
  rq.dry_run = !strcmp(or_empty(api->req_get(r, "dryRun")), "true");
  rq.now = (int64_t)time(NULL);

  stripe = stripe_of(rq.ns);
  pthread_mutex_lock(&ns_locks[stripe]);
  rc = evaluate(&rq, e);
  pthread_mutex_unlock(&ns_locks[stripe]);
  return rc;
}

static const kapi_admission_ops quota_ops = {
    .size = sizeof(kapi_admission_ops),
    .handles = KAPI_OP_CREATE | KAPI_OP_UPDATE,
    .validate = quota_validate,
};

static int quota_init(kapi_plugin *p, const kapi_host_api *host,
                      const char *config, size_t config_len, kapi_error *e)
{
  /* Upstream orders ResourceQuota after every other validating plugin. */
  static const kapi_order order = {KAPI_ORDER_LAST, NULL, NULL};

  (void)config;
  (void)config_len;
  quota_api = host;
  self = p;
  if (!KAPI_API_HAS(api, store_list) || !KAPI_API_HAS(api, store_update)) {
    api->error_set(e, 500, "InternalError",
                   "ResourceQuota needs a host API of ABI 1.2 (store_list, "
                   "store_update)");
    return -ENOTSUP;
  }
  return api->register_admission(p, "ResourceQuota", &quota_ops, NULL,
                                 &order);
}

KAPI_PLUGIN_DEFINE(.name = "resource-quota", .version = "0.1.0",
                   .description = "ResourceQuota admission: charges "
                                  "creates to the namespace's quotas and "
                                  "refuses what exceeds them",
                   .license = "Apache-2.0", .init = quota_init);
