/*
 * dp.h - what the files of the Deployment controller plugin share.
 *
 * The plugin is split by concern, after upstream's files:
 *  - deployment.c: informers, event handlers, the queue, syncDeployment
 *    and claiming ReplicaSets (deployment_controller.go);
 *  - sync.c: the writes to ReplicaSets, the new ReplicaSet, scaling,
 *    cleanup, the rolling and recreate rollouts (sync.go, rolling.go,
 *    recreate.go);
 *  - progress.c: the status and its conditions (progress.go,
 *    calculateStatus);
 *  - rollout.c: the replica arithmetic on plain numbers, no host API,
 *    so that the unit tests drive it directly (util/deployment_util.go);
 *  - rs_util.c: the pod-template-hash, template comparison, revisions,
 *    annotations, object and time helpers.
 *
 * ctl_util.h keeps `api` and `self` as per-file statics, so every file
 * that includes it is handed the host table by its dp_*_bind() from the
 * plugin's init.
 */
#ifndef KAPI_PLUGINS_DEPLOYMENT_DP_H
#define KAPI_PLUGINS_DEPLOYMENT_DP_H

#include <stddef.h>
#include <stdint.h>

#include "kapi/plugin.h"

/* Upstream's annotation and label names (util/deployment_util.go). */
#define DP_HASH_LABEL "pod-template-hash"
#define DP_REVISION_ANN "deployment.kubernetes.io/revision"
#define DP_REVISION_HISTORY_ANN "deployment.kubernetes.io/revision-history"
#define DP_DESIRED_ANN "deployment.kubernetes.io/desired-replicas"
#define DP_MAX_ANN "deployment.kubernetes.io/max-replicas"
#define DP_ROLLBACK_ANN "deprecated.deployment.rollback.to"
#define DP_LAST_APPLIED_ANN "kubectl.kubernetes.io/last-applied-configuration"

/* Condition reasons (util/deployment_util.go). */
#define DP_NEW_RS_REASON "NewReplicaSetCreated"
#define DP_FOUND_NEW_RS_REASON "FoundNewReplicaSet"
#define DP_RS_UPDATED_REASON "ReplicaSetUpdated"
#define DP_NEW_RS_AVAILABLE_REASON "NewReplicaSetAvailable"
#define DP_TIMED_OUT_REASON "ProgressDeadlineExceeded"
#define DP_FAILED_RS_CREATE_REASON "ReplicaSetCreateError"
#define DP_PAUSED_REASON "DeploymentPaused"
#define DP_RESUMED_REASON "DeploymentResumed"
#define DP_MIN_AVAILABLE_REASON "MinimumReplicasAvailable"
#define DP_MIN_UNAVAILABLE_REASON "MinimumReplicasUnavailable"

/* ---- rollout.c: the arithmetic ------------------------------------------ */

/* One ReplicaSet as the arithmetic sees it. */
typedef struct dp_rs {
  void *obj;          /* the caller's (a kapi_obj *), untouched here */
  const char *name;   /* borrowed, for ties and events */
  int64_t created;    /* creationTimestamp, Unix ns */
  int64_t revision;   /* the revision annotation, 0 if none */
  int32_t replicas;   /* spec.replicas as stored */
  int32_t target;     /* spec.replicas wanted: starts equal to replicas */
  int32_t status_replicas, ready, available;
  int32_t max_ann;    /* max-replicas annotation, -1 if absent or bad */
} dp_rs;

/* The Deployment's numbers. */
typedef struct dp_spec {
  int32_t replicas;
  int rolling;            /* strategy RollingUpdate (else Recreate) */
  int32_t max_surge;      /* resolved against replicas (dp_fenceposts) */
  int32_t max_unavailable;
  int32_t status_replicas; /* status.replicas, the fraction's fallback */
} dp_spec;

/* intstr.GetScaledValueFromIntOrPercent on "N" or "N%" of total:
 * 0 and *out, or -EINVAL. */
int dp_scaled_value(const char *v, int32_t total, int round_up,
                    int32_t *out);
/* ResolveFenceposts: surge rounds up, unavailable down, never both 0. */
int dp_fenceposts(const char *surge, const char *unavailable, int32_t desired,
                  int32_t *max_surge, int32_t *max_unavailable);
int32_t dp_max_unavailable(const dp_spec *d);
int32_t dp_max_surge(const dp_spec *d);

int32_t dp_sum_replicas(dp_rs *const *v, size_t n);  /* spec (target) */
int32_t dp_sum_actual(dp_rs *const *v, size_t n);    /* status.replicas */
int32_t dp_sum_ready(dp_rs *const *v, size_t n);
int32_t dp_sum_available(dp_rs *const *v, size_t n);

/* Orderings: oldest first (ReplicaSetsByCreationTimestamp), lowest
 * revision first (ReplicaSetsByRevision), larger then newer first
 * (ReplicaSetsBySizeNewer), larger then older first (BySizeOlder). */
void dp_sort_by_creation(dp_rs **v, size_t n);
void dp_sort_by_revision(dp_rs **v, size_t n);
void dp_sort_by_size_newer(dp_rs **v, size_t n);
void dp_sort_by_size_older(dp_rs **v, size_t n);

/* NewRSNewReplicas: the size the new ReplicaSet may grow to now. */
int32_t dp_new_rs_new_replicas(const dp_spec *d, dp_rs *const *all, size_t n,
                               const dp_rs *new_rs);
/* reconcileOldReplicaSets (with cleanupUnhealthyReplicas and
 * scaleDownOldReplicaSetsForRollingUpdate) on `old` (sorted here):
 * lowers their targets, returns how many replicas went. */
int32_t dp_reconcile_old(const dp_spec *d, dp_rs **old, size_t n_old,
                         const dp_rs *new_rs);
/* FindActiveOrLatest over new_rs (may be NULL) and old (sorted here). */
dp_rs *dp_active_or_latest(dp_rs *new_rs, dp_rs **old, size_t n_old);
/* IsSaturated: desired annotation (-1 if none) and size are the
 * Deployment's and every replica is available. */
int dp_is_saturated(const dp_spec *d, const dp_rs *rs, int32_t desired_ann);
/* The proportional part of scale(): `v` (n, the active ReplicaSets with
 * v[0..] sorted here) get targets summing to replicas + maxSurge. */
void dp_scale_proportionally(const dp_spec *d, dp_rs **v, size_t n);

/* The Deployment status numbers (calculateStatus). */
typedef struct dp_counts {
  int64_t observed_generation;
  int32_t replicas, updated, ready, available, unavailable;
} dp_counts;

void dp_calc_counts(dp_rs *const *all, size_t n, const dp_rs *new_rs,
                    dp_counts *out);
/* DeploymentComplete, DeploymentProgressing. */
int dp_complete(int32_t replicas, int64_t generation, const dp_counts *st);
int dp_progressing(const dp_counts *old, const dp_counts *cur);

/* ---- rs_util.c: ReplicaSets and revisions ------------------------------- */

void dp_rs_util_bind(const kapi_host_api *host, kapi_plugin *p);
/* An integer at a JSON pointer, or dflt. */
int64_t dp_int_at(const kapi_obj *o, const char *ptr, int64_t dflt);
int64_t dp_now_ns(void);
/* A private, mutable copy of a cached object (NULL if out of memory). */
kapi_obj *dp_copy_obj(const kapi_obj *o);
/* A JSON pointer to member `key` (escaped) of `base`. */
void dp_key_ptr(char *out, size_t len, const char *base, const char *key);
const char *dp_annotation(const kapi_obj *o, const char *key);
int dp_set_annotation(kapi_obj *o, const char *key, const char *value);
/* The owner reference with controller: true, or NULL. */
const kapi_obj *dp_controller_ref(const kapi_obj *obj);
/* ComputeHash: the pod-template-hash of a template and collisionCount
 * (-1 for none), written to out (>= 11 bytes). */
void dp_template_hash(const kapi_obj *template, int64_t collision_count,
                      char *out, size_t len);
/* FNV-32a of bytes, and SafeEncodeString of a number's decimal form. */
uint32_t dp_fnv32a(uint32_t h, const void *p, size_t n);
void dp_safe_encode(uint32_t v, char *out, size_t len);
/* EqualIgnoreHash: templates equal but for the pod-template-hash label. */
int dp_template_equal(const kapi_obj *a, const kapi_obj *b);
/* Deep equality of JSON values, object members in any order. */
int dp_json_equal(const kapi_obj *a, const kapi_obj *b);
/* The revision annotation as a number: 0 if absent, -1 if malformed. */
int64_t dp_revision_of(const kapi_obj *obj);
/* An int32 annotation of obj, or -1 when absent or malformed. */
int32_t dp_int_annotation(const kapi_obj *obj, const char *key);
/* Should an annotation of the Deployment be copied to its ReplicaSets? */
int dp_copyable_annotation(const char *key);
/* Appends old_rev to the revision-history text within `limit` chars. */
int dp_revision_history(const char *hist, const char *old_rev, size_t limit,
                        char *out, size_t len);
/* MaxRevision + 1. */
int64_t dp_next_revision(const int64_t *old_revs, size_t n);
/* RFC 3339 in Unix ns (0 when absent or bad), and back. */
int64_t dp_parse_time(const char *s);
void dp_format_time(int64_t ns, char *out, size_t len);

/* ---- the controller and one sync (deployment.c, sync.c, progress.c) ----- */

#define NO_DEADLINE INT32_MAX /* progressDeadlineSeconds "never" */

typedef struct dpc {
  kapi_ctl *ctl;
  kapi_inf *d_inf, *rs_inf, *pod_inf;
  kapi_queue *queue;
  int workers;
} dpc;

/* The state of one syncDeployment. */
typedef struct dsync {
  dpc *c;
  const char *key;
  kapi_obj *d;        /* private copy, replaced by every write's answer */
  dp_spec spec;
  dp_rs **rs;         /* every owned ReplicaSet; rs[i]->obj owned */
  size_t n_rs, cap_rs;
  dp_rs *new_rs;      /* NULL until found or created */
  dp_rs **old;        /* the others (upstream's allOldRSs) */
  size_t n_old;
} dsync;

struct buf;

/* sync.c */
void dp_sync_bind(const kapi_host_api *host, kapi_plugin *p);
void dp_d_path(char *out, size_t len, const kapi_obj *d, const char *sub);
void dp_rs_path(char *out, size_t len, const char *ns, const char *name);
dp_rs *dp_rs_add(dsync *s, kapi_obj *o); /* takes o */
void dp_sync_free(dsync *s);
int dp_spec_fill(dsync *s);
int64_t dp_deadline_of(const kapi_obj *d);
int dp_has_deadline(const kapi_obj *d); /* HasProgressDeadline */
kapi_obj *dp_d_status(dsync *s); /* the copy's status, made an object */
int dp_d_update_status(dsync *s);
dp_rs **dp_all_rs(const dsync *s, size_t *n); /* old + new; free() it */
void dp_buf_controller_ref(struct buf *b, const kapi_obj *d);
int dp_get_all(dsync *s, int create); /* getAllReplicaSetsAndSyncRevision */
int dp_cleanup(dsync *s);             /* cleanupDeployment */
int dp_is_scaling_event(dsync *s);
int dp_sync_scale(dsync *s);          /* sync(): scaling, paused */
int dp_rollout_rolling(dsync *s);
int dp_rollout_recreate(dsync *s);

/* progress.c */
void dp_progress_bind(const kapi_host_api *host, kapi_plugin *p);
const kapi_obj *dp_cond_get(const kapi_obj *st, const char *type);
int dp_cond_set(kapi_obj *st, const char *type, const char *status,
                const char *reason, const char *msg);
int dp_sync_status(dsync *s);          /* syncDeploymentStatus */
int dp_sync_rollout_status(dsync *s);  /* syncRolloutStatus */
int dp_complete_now(dsync *s);
int dp_check_paused(dsync *s);         /* checkPausedConditions */

#endif
