/*
 * progress.c - the Deployment's status: upstream's calculateStatus and
 * syncDeploymentStatus (sync.go), syncRolloutStatus and
 * requeueStuckDeployment (progress.go), checkPausedConditions and the
 * condition helpers of util/deployment_util.go (SetDeploymentCondition,
 * DeploymentTimedOut).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kapi/plugin.h"
#include "../common/ctl_util.h"
#include "dp.h"

void dp_progress_bind(const kapi_host_api *host, kapi_plugin *p)
{
  api = host;
  self = p;
}

/* ---- conditions (util.SetDeploymentCondition and friends) --------------- */

/* The condition `type` of the status object `st`, or NULL. */
const kapi_obj *dp_cond_get(const kapi_obj *st, const char *type)
{
  const kapi_obj *conds = member(st, "conditions");
  size_t i, n = api->obj_len(conds);
  for (i = 0; i < n; i++)
    if (streq(member_str(api->obj_index(conds, i), "type"), type))
      return api->obj_index(conds, i);
  return NULL;
}

/* Rewrites st.conditions without `type`, plus the condition given (if
 * `status` is not NULL) at the end. */
static int cond_write(kapi_obj *st, const char *type, const char *status,
                      const char *reason, const char *msg, const char *now,
                      const char *transition)
{
  const kapi_obj *conds = member(st, "conditions");
  size_t i, n = api->obj_len(conds);
  int first = 1, rc;
  buf b = {0};

  buf_puts(&b, "[");
  for (i = 0; i < n; i++) {
    const kapi_obj *c = api->obj_index(conds, i);
    char *j;
    if (streq(member_str(c, "type"), type))
      continue;
    j = api->obj_to_json(c);
    if (!first)
      buf_puts(&b, ",");
    first = 0;
    buf_puts(&b, j ? j : "{}");
    api->free(j);
  }
  if (status) {
    if (!first)
      buf_puts(&b, ",");
    first = 0;
    buf_puts(&b, "{\"type\":");
    buf_json_str(&b, type);
    buf_puts(&b, ",\"status\":");
    buf_json_str(&b, status);
    buf_puts(&b, ",\"lastUpdateTime\":");
    buf_json_str(&b, now);
    buf_puts(&b, ",\"lastTransitionTime\":");
    buf_json_str(&b, transition);
    buf_puts(&b, ",\"reason\":");
    buf_json_str(&b, reason);
    buf_puts(&b, ",\"message\":");
    buf_json_str(&b, msg);
    buf_puts(&b, "}");
  }
  buf_puts(&b, "]");
  if (b.oom) {
    free(b.s);
    return -ENOMEM;
  }
  rc = first ? api->obj_remove(st, "/conditions")
             : api->obj_set_json(st, "/conditions", b.s);
  free(b.s);
  if (rc == -ENOENT)
    rc = 0;
  return rc;
}

/* SetDeploymentCondition: no change for the same status and reason; a
 * new reason keeps lastTransitionTime when the status stays.  Returns 1
 * when the conditions changed. */
int dp_cond_set(kapi_obj *st, const char *type, const char *status,
                const char *reason, const char *msg)
{
  const kapi_obj *cur = dp_cond_get(st, type);
  char now[64], ltt[64];

  if (cur && streq(member_str(cur, "status"), status) &&
      streq(member_str(cur, "reason"), reason))
    return 0;
  dp_format_time(dp_now_ns(), now, sizeof now);
  snprintf(ltt, sizeof ltt, "%s",
           cur && streq(member_str(cur, "status"), status) &&
                   member_str(cur, "lastTransitionTime")
               ? member_str(cur, "lastTransitionTime")
               : now);
  return cond_write(st, type, status, reason, msg, now, ltt) < 0 ? 0 : 1;
}

static void cond_remove(kapi_obj *st, const char *type)
{
  if (dp_cond_get(st, type))
    cond_write(st, type, NULL, NULL, NULL, NULL, NULL);
}

/* ---- status (calculateStatus, syncRolloutStatus) ------------------------ */

static void counts_of(const kapi_obj *st, dp_counts *c)
{
  c->observed_generation = dp_int_at(st, "/observedGeneration", 0);
  c->replicas = (int32_t)dp_int_at(st, "/replicas", 0);
  c->updated = (int32_t)dp_int_at(st, "/updatedReplicas", 0);
  c->ready = (int32_t)dp_int_at(st, "/readyReplicas", 0);
  c->available = (int32_t)dp_int_at(st, "/availableReplicas", 0);
  c->unavailable = (int32_t)dp_int_at(st, "/unavailableReplicas", 0);
}

/* The new status (owned): numbers, the old conditions, Available. */
static kapi_obj *calc_status(dsync *s, dp_counts *c)
{
  const kapi_obj *old = api->obj_lookup(s->d, "/status");
  const kapi_obj *conds = member(old, "conditions");
  kapi_obj *st = NULL;
  dp_rs **all;
  size_t n;

  if (!(all = dp_all_rs(s, &n)))
    return NULL;
  dp_calc_counts(all, n, s->new_rs, c);
  free(all);
  c->observed_generation = dp_int_at(s->d, "/metadata/generation", 0);
  if (api->obj_parse("{}", 2, &st, NULL) < 0)
    return NULL;
  /* omitempty, as DeploymentStatus is serialised. */
  if (c->observed_generation)
    api->obj_set_int(st, "/observedGeneration", c->observed_generation);
  if (c->replicas)
    api->obj_set_int(st, "/replicas", c->replicas);
  if (c->updated)
    api->obj_set_int(st, "/updatedReplicas", c->updated);
  if (c->ready)
    api->obj_set_int(st, "/readyReplicas", c->ready);
  if (c->available)
    api->obj_set_int(st, "/availableReplicas", c->available);
  if (c->unavailable)
    api->obj_set_int(st, "/unavailableReplicas", c->unavailable);
  if (api->obj_lookup(old, "/collisionCount"))
    api->obj_set_int(st, "/collisionCount",
                     dp_int_at(old, "/collisionCount", 0));
  if (api->obj_len(conds)) {
    char *j = api->obj_to_json(conds);
    if (j)
      api->obj_set_json(st, "/conditions", j);
    api->free(j);
  }
  if (c->available >= s->spec.replicas - dp_max_unavailable(&s->spec))
    dp_cond_set(st, "Available", "True", DP_MIN_AVAILABLE_REASON,
                "Deployment has minimum availability.");
  else
    dp_cond_set(st, "Available", "False", DP_MIN_UNAVAILABLE_REASON,
                "Deployment does not have minimum availability.");
  return st;
}

/* Status equality with absent numbers as 0 (omitempty). */
static int status_equal(const kapi_obj *a, const kapi_obj *b)
{
  static const char *const nums[] = {
      "/observedGeneration", "/replicas",           "/updatedReplicas",
      "/readyReplicas",      "/availableReplicas",  "/unavailableReplicas",
      "/collisionCount",     "/terminatingReplicas"};
  const kapi_obj *ca = member(a, "conditions"), *cb = member(b, "conditions");
  size_t i;

  for (i = 0; i < sizeof nums / sizeof *nums; i++)
    if (dp_int_at(a, nums[i], 0) != dp_int_at(b, nums[i], 0))
      return 0;
  if (api->obj_len(ca) == 0 && api->obj_len(cb) == 0)
    return 1;
  return dp_json_equal(ca, cb);
}

/* Writes st (owned, consumed) as the status if it differs. */
static int write_status(dsync *s, kapi_obj *st, int *written)
{
  char *j;
  int rc;

  *written = 0;
  if (status_equal(api->obj_lookup(s->d, "/status"), st)) {
    api->obj_free(st);
    return 0;
  }
  j = api->obj_to_json(st);
  api->obj_free(st);
  if (!j)
    return -ENOMEM;
  rc = api->obj_set_json(s->d, "/status", j);
  api->free(j);
  if (rc < 0)
    return rc;
  *written = 1;
  return dp_d_update_status(s);
}

/* syncDeploymentStatus: the numbers and Available only. */
int dp_sync_status(dsync *s)
{
  dp_counts c;
  kapi_obj *st = calc_status(s, &c);
  int written;
  return st ? write_status(s, st, &written) : -ENOMEM;
}

/* DeploymentTimedOut on the new status. */
static int timed_out(const kapi_obj *d, const kapi_obj *st)
{
  const kapi_obj *cond = dp_cond_get(st, "Progressing");
  int64_t from;

  if (!dp_has_deadline(d) || !cond)
    return 0;
  if (streq(member_str(cond, "reason"), DP_NEW_RS_AVAILABLE_REASON))
    return 0;
  if (streq(member_str(cond, "reason"), DP_TIMED_OUT_REASON))
    return 1;
  from = dp_parse_time(member_str(cond, "lastUpdateTime"));
  return from + dp_deadline_of(d) * 1000000000LL < dp_now_ns();
}

/* The first ReplicaFailure of the new ReplicaSet, else of any. */
static const kapi_obj *replica_failure(const dsync *s)
{
  const kapi_obj *c = NULL;
  size_t i;

  if (s->new_rs && (c = dp_cond_get(api->obj_lookup(s->new_rs->obj, "/status"),
                                    "ReplicaFailure")))
    return c;
  for (i = 0; i < s->n_old && !c; i++)
    c = dp_cond_get(api->obj_lookup(s->old[i]->obj, "/status"),
                    "ReplicaFailure");
  return c;
}

/* requeueStuckDeployment: look again when the deadline passes. */
static void requeue_stuck(dsync *s, const dp_counts *c)
{
  const kapi_obj *cur =
      dp_cond_get(api->obj_lookup(s->d, "/status"), "Progressing");
  int64_t after;

  if (!dp_has_deadline(s->d) || !cur)
    return;
  if (dp_complete(s->spec.replicas, dp_int_at(s->d, "/metadata/generation", 0),
                  c) ||
      streq(member_str(cur, "reason"), DP_TIMED_OUT_REASON))
    return;
  after = dp_parse_time(member_str(cur, "lastUpdateTime")) +
          dp_deadline_of(s->d) * 1000000000LL - dp_now_ns();
  if (after < 1000000000LL) {
    api->queue_add_rate_limited(s->c->queue, s->key);
    return;
  }
  /* In ms, a second late as upstream; huge deadlines are capped (a
   * resync or any change looks again long before). */
  after = after / 1000000 + 1000;
  api->queue_add_after(s->c->queue, s->key,
                       after > INT32_MAX ? INT32_MAX : (int)after);
}

/* syncRolloutStatus: the status plus the Progressing condition. */
int dp_sync_rollout_status(dsync *s)
{
  const kapi_obj *cur =
      dp_cond_get(api->obj_lookup(s->d, "/status"), "Progressing");
  const kapi_obj *failure;
  dp_counts c, old_c;
  kapi_obj *st = calc_status(s, &c);
  int written, complete, rc;
  const char *what = s->new_rs ? "ReplicaSet" : "Deployment";
  const char *who =
      s->new_rs ? s->new_rs->name : str_at(s->d, "/metadata/name");
  char msg[600];

  if (!st)
    return -ENOMEM;
  counts_of(api->obj_lookup(s->d, "/status"), &old_c);
  if (!dp_has_deadline(s->d))
    cond_remove(st, "Progressing");
  complete = c.replicas == c.updated && cur &&
             streq(member_str(cur, "reason"), DP_NEW_RS_AVAILABLE_REASON);
  if (dp_has_deadline(s->d) && !complete) {
    if (dp_complete(s->spec.replicas,
                    dp_int_at(s->d, "/metadata/generation", 0), &c)) {
      snprintf(msg, sizeof msg, "%s \"%s\" has successfully progressed.", what,
               who);
      dp_cond_set(st, "Progressing", "True", DP_NEW_RS_AVAILABLE_REASON, msg);
    } else if (dp_progressing(&old_c, &c)) {
      /* Always a fresh lastUpdateTime: progress pushes the deadline. */
      const kapi_obj *pc = dp_cond_get(st, "Progressing");
      char now[64], ltt[64];
      dp_format_time(dp_now_ns(), now, sizeof now);
      snprintf(ltt, sizeof ltt, "%s",
               pc && streq(member_str(pc, "status"), "True") &&
                       member_str(pc, "lastTransitionTime")
                   ? member_str(pc, "lastTransitionTime")
                   : now);
      snprintf(msg, sizeof msg, "%s \"%s\" is progressing.", what, who);
      cond_write(st, "Progressing", "True", DP_RS_UPDATED_REASON, msg, now,
                 ltt);
    } else if (timed_out(s->d, st)) {
      snprintf(msg, sizeof msg, "%s \"%s\" has timed out progressing.", what,
               who);
      dp_cond_set(st, "Progressing", "False", DP_TIMED_OUT_REASON, msg);
    }
  }
  if ((failure = replica_failure(s)))
    dp_cond_set(st, "ReplicaFailure", member_str(failure, "status"),
                member_str(failure, "reason"), member_str(failure, "message"));
  else
    cond_remove(st, "ReplicaFailure");
  if ((rc = write_status(s, st, &written)) < 0)
    return rc;
  if (!written)
    requeue_stuck(s, &c);
  return 0;
}

/* DeploymentComplete on the status as it would be written now. */
int dp_complete_now(dsync *s)
{
  dp_rs **all;
  dp_counts c;
  size_t n;

  if (!(all = dp_all_rs(s, &n)))
    return 0;
  dp_calc_counts(all, n, s->new_rs, &c);
  free(all);
  c.observed_generation = dp_int_at(s->d, "/metadata/generation", 0);
  return dp_complete(s->spec.replicas, c.observed_generation, &c);
}

/* checkPausedConditions: Progressing Unknown while paused. */
int dp_check_paused(dsync *s)
{
  const kapi_obj *cond =
      dp_cond_get(api->obj_lookup(s->d, "/status"), "Progressing");
  int paused = member_true(api->obj_lookup(s->d, "/spec"), "paused");
  int exists, changed = 0;

  if (!dp_has_deadline(s->d))
    return 0;
  if (cond && streq(member_str(cond, "reason"), DP_TIMED_OUT_REASON))
    return 0;
  exists = cond && streq(member_str(cond, "reason"), DP_PAUSED_REASON);
  if (paused && !exists)
    changed = dp_cond_set(dp_d_status(s), "Progressing", "Unknown",
                          DP_PAUSED_REASON, "Deployment is paused");
  else if (!paused && exists)
    changed = dp_cond_set(dp_d_status(s), "Progressing", "Unknown",
                          DP_RESUMED_REASON, "Deployment is resumed");
  return changed ? dp_d_update_status(s) : 0;
}
