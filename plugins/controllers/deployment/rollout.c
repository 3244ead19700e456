/*
 * rollout.c - the replica arithmetic of the Deployment controller, on
 * plain numbers: upstream's util/deployment_util.go (ResolveFenceposts,
 * MaxSurge, MaxUnavailable, NewRSNewReplicas, FindActiveOrLatest,
 * IsSaturated, GetReplicaSetProportion, DeploymentComplete,
 * DeploymentProgressing), rolling.go (reconcileOldReplicaSets,
 * cleanupUnhealthyReplicas, scaleDownOldReplicaSetsForRollingUpdate),
 * sync.go (the proportional part of scale, calculateStatus) and
 * controller_utils.go's ReplicaSet orderings.
 *
 * Nothing here talks to the host: callers fill dp_rs and dp_spec from
 * the objects, let these functions move `target`, and write back the
 * ReplicaSets whose target differs from their replicas.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dp.h"

/* ---- int-or-percent (intstr.GetScaledValueFromIntOrPercent) ------------- */

int dp_scaled_value(const char *v, int32_t total, int round_up, int32_t *out)
{
  char *end;
  long n;
  size_t len;

  if (!v || !*v)
    return -EINVAL;
  len = strlen(v);
  errno = 0;
  n = strtol(v, &end, 10);
  if (errno || end == v || n < INT32_MIN || n > INT32_MAX)
    return -EINVAL;
  if (*end == '\0') { /* a plain integer */
    *out = (int32_t)n;
    return 0;
  }
  if (end != v + len - 1 || *end != '%')
    return -EINVAL;
  /* Go computes in float64 and then takes ceil or floor. */
  if (round_up)
    *out = (int32_t)ceil((double)n * total / 100.0);
  else
    *out = (int32_t)floor((double)n * total / 100.0);
  return 0;
}

int dp_fenceposts(const char *surge, const char *unavailable, int32_t desired,
                  int32_t *max_surge, int32_t *max_unavailable)
{
  int rc;

  /* ValueOrDefault: an unset value counts as 0. */
  *max_surge = 0;
  *max_unavailable = 0;
  if (surge && (rc = dp_scaled_value(surge, desired, 1, max_surge)) < 0)
    return rc;
  if (unavailable &&
      (rc = dp_scaled_value(unavailable, desired, 0, max_unavailable)) < 0)
    return rc;
  /* Both zero would deadlock the rollout; validation refuses it, and a
   * percentage rounding down to 0 is why the fencepost exists. */
  if (*max_surge == 0 && *max_unavailable == 0)
    *max_unavailable = 1;
  return 0;
}

int32_t dp_max_unavailable(const dp_spec *d)
{
  if (!d->rolling || d->replicas == 0)
    return 0;
  return d->max_unavailable > d->replicas ? d->replicas : d->max_unavailable;
}

int32_t dp_max_surge(const dp_spec *d)
{
  return d->rolling ? d->max_surge : 0;
}

/* ---- sums over ReplicaSets ---------------------------------------------- */

int32_t dp_sum_replicas(dp_rs *const *v, size_t n)
{
  int32_t s = 0;
  size_t i;
  for (i = 0; i < n; i++)
    if (v[i])
      s += v[i]->target;
  return s;
}

int32_t dp_sum_actual(dp_rs *const *v, size_t n)
{
  int32_t s = 0;
  size_t i;
  for (i = 0; i < n; i++)
    if (v[i])
      s += v[i]->status_replicas;
  return s;
}

int32_t dp_sum_ready(dp_rs *const *v, size_t n)
{
  int32_t s = 0;
  size_t i;
  for (i = 0; i < n; i++)
    if (v[i])
      s += v[i]->ready;
  return s;
}

int32_t dp_sum_available(dp_rs *const *v, size_t n)
{
  int32_t s = 0;
  size_t i;
  for (i = 0; i < n; i++)
    if (v[i])
      s += v[i]->available;
  return s;
}

/* ---- orderings ---------------------------------------------------------- */

static int by_name(const dp_rs *a, const dp_rs *b)
{
  return strcmp(a->name ? a->name : "", b->name ? b->name : "");
}

/* Oldest first; the name breaks ties, as upstream. */
static int cmp_creation(const void *pa, const void *pb)
{
  const dp_rs *a = *(dp_rs *const *)pa, *b = *(dp_rs *const *)pb;
  if (a->created != b->created)
    return a->created < b->created ? -1 : 1;
  return by_name(a, b);
}

static int cmp_revision(const void *pa, const void *pb)
{
  const dp_rs *a = *(dp_rs *const *)pa, *b = *(dp_rs *const *)pb;
  if (a->revision != b->revision)
    return a->revision < b->revision ? -1 : 1;
  return cmp_creation(pa, pb);
}

/* Larger first; among equals the newer (ties on time: by name). */
static int cmp_size_newer(const void *pa, const void *pb)
{
  const dp_rs *a = *(dp_rs *const *)pa, *b = *(dp_rs *const *)pb;
  if (a->target != b->target)
    return a->target > b->target ? -1 : 1;
  if (a->created != b->created)
    return a->created > b->created ? -1 : 1;
  return by_name(a, b);
}

static int cmp_size_older(const void *pa, const void *pb)
{
  const dp_rs *a = *(dp_rs *const *)pa, *b = *(dp_rs *const *)pb;
  if (a->target != b->target)
    return a->target > b->target ? -1 : 1;
  return cmp_creation(pa, pb);
}

void dp_sort_by_creation(dp_rs **v, size_t n)
{
  if (n > 1)
    qsort(v, n, sizeof *v, cmp_creation);
}

void dp_sort_by_revision(dp_rs **v, size_t n)
{
  if (n > 1)
    qsort(v, n, sizeof *v, cmp_revision);
}

void dp_sort_by_size_newer(dp_rs **v, size_t n)
{
  if (n > 1)
    qsort(v, n, sizeof *v, cmp_size_newer);
}

void dp_sort_by_size_older(dp_rs **v, size_t n)
{
  if (n > 1)
    qsort(v, n, sizeof *v, cmp_size_older);
}

/* ---- rolling update ----------------------------------------------------- */

int32_t dp_new_rs_new_replicas(const dp_spec *d, dp_rs *const *all, size_t n,
                               const dp_rs *new_rs)
{
  int32_t current, max_total, up;

  if (!d->rolling)
    return d->replicas; /* Recreate: the old ones are gone by now */
  current = dp_sum_replicas(all, n);
  max_total = d->replicas + d->max_surge;
  if (current >= max_total)
    return new_rs->target; /* no room to surge */
  up = max_total - current;
  /* Never past the Deployment's size. */
  if (up > d->replicas - new_rs->target)
    up = d->replicas - new_rs->target;
  return new_rs->target + up;
}

/*
 * cleanupUnhealthyReplicas: first take away old replicas that are not
 * available anyway (they cost no availability), oldest ReplicaSet first,
 * at most max_cleanup in all.
 */
static int32_t cleanup_unhealthy(dp_rs **old, size_t n, int32_t max_cleanup)
{
  int32_t total = 0;
  size_t i;

  dp_sort_by_creation(old, n);
  for (i = 0; i < n && total < max_cleanup; i++) {
    int32_t unhealthy, down;
    if (old[i]->target == 0)
      continue;
    unhealthy = old[i]->target - old[i]->available;
    if (unhealthy <= 0)
      continue;
    down = max_cleanup - total < unhealthy ? max_cleanup - total : unhealthy;
    old[i]->target -= down;
    total += down;
  }
  return total;
}

/* scaleDownOldReplicaSetsForRollingUpdate: then available ones, as far
 * as minAvailable allows. */
static int32_t scale_down_old(const dp_spec *d, dp_rs **old, size_t n,
                              int32_t available)
{
  int32_t min_available = d->replicas - dp_max_unavailable(d);
  int32_t budget, total = 0;
  size_t i;

  if (available <= min_available)
    return 0;
  budget = available - min_available;
  dp_sort_by_creation(old, n);
  for (i = 0; i < n && total < budget; i++) {
    int32_t down;
    if (old[i]->target == 0)
      continue;
    down = old[i]->target < budget - total ? old[i]->target : budget - total;
    old[i]->target -= down;
    total += down;
  }
  return total;
}

int32_t dp_reconcile_old(const dp_spec *d, dp_rs **old, size_t n_old,
                         const dp_rs *new_rs)
{
  int32_t old_pods = dp_sum_replicas(old, n_old);
  int32_t all_pods, min_available, new_unavailable, max_down, cleaned;
  int32_t available = 0;
  size_t i;

  if (old_pods == 0)
    return 0;
  all_pods = old_pods + (new_rs ? new_rs->target : 0);
  min_available = d->replicas - dp_max_unavailable(d);
  new_unavailable = new_rs ? new_rs->target - new_rs->available : 0;
  /* Pods of the new ReplicaSet that are not available yet will count
   * against availability once they are: keep room for them. */
  max_down = all_pods - min_available - new_unavailable;
  if (max_down <= 0)
    return 0;
  cleaned = cleanup_unhealthy(old, n_old, max_down);
  /* GetAvailableReplicaCountForReplicaSets over old and new. */
  for (i = 0; i < n_old; i++)
    available += old[i]->available;
  if (new_rs)
    available += new_rs->available;
  return cleaned + scale_down_old(d, old, n_old, available);
}

/* ---- scale (sync.go) ---------------------------------------------------- */

dp_rs *dp_active_or_latest(dp_rs *new_rs, dp_rs **old, size_t n_old)
{
  dp_rs *active = NULL;
  size_t i, n_active = 0;

  if (!new_rs && n_old == 0)
    return NULL;
  dp_sort_by_creation(old, n_old); /* then read newest first */
  if (new_rs && new_rs->target > 0) {
    active = new_rs;
    n_active++;
  }
  for (i = 0; i < n_old; i++)
    if (old[i]->target > 0 && old[i] != new_rs) {
      active = old[i];
      n_active++;
    }
  if (n_active == 1)
    return active;
  if (n_active > 1)
    return NULL;
  /* Nothing active: the new one, else the latest old one. */
  return new_rs ? new_rs : old[n_old - 1];
}

int dp_is_saturated(const dp_spec *d, const dp_rs *rs, int32_t desired_ann)
{
  return rs && desired_ann >= 0 && desired_ann == d->replicas &&
         rs->target == d->replicas && rs->available == d->replicas;
}

/* RoundToInt32: half away from zero, as math.Round. */
static int32_t round_i32(double x)
{
  return (int32_t)round(x);
}

/* getReplicaSetFraction: how much of the new size this one should take,
 * in proportion to its share of the size it was made for. */
static int32_t rs_fraction(const dp_spec *d, const dp_rs *rs)
{
  int32_t full, annotated;

  if (d->replicas == 0)
    return -rs->target;
  full = d->replicas + dp_max_surge(d);
  annotated = rs->max_ann >= 0 ? rs->max_ann : d->status_replicas;
  if (annotated == 0) /* Go yields +Inf there; keep the size */
    return 0;
  return round_i32((double)rs->target * full / annotated) - rs->target;
}

/* GetReplicaSetProportion. */
static int32_t rs_proportion(const dp_spec *d, const dp_rs *rs, int32_t to_add,
                             int32_t added)
{
  int32_t fraction, allowed;

  if (!rs || rs->target == 0 || to_add == 0 || to_add == added)
    return 0;
  fraction = rs_fraction(d, rs);
  allowed = to_add - added;
  if (allowed > 0)
    return fraction < allowed ? fraction : allowed;
  return fraction > allowed ? fraction : allowed;
}

void dp_scale_proportionally(const dp_spec *d, dp_rs **v, size_t n)
{
  int32_t allowed = 0, to_add, added = 0;
  int32_t *sizes;
  size_t i;

  if (n == 0)
    return;
  if (d->replicas > 0)
    allowed = d->replicas + dp_max_surge(d);
  to_add = allowed - dp_sum_replicas(v, n);
  if (to_add > 0)
    dp_sort_by_size_newer(v, n);
  else if (to_add < 0)
    dp_sort_by_size_older(v, n);
  if (to_add == 0)
    return;
  /* Proportions are computed on the sizes before any change. */
  sizes = calloc(n, sizeof *sizes);
  if (!sizes)
    return;
  for (i = 0; i < n; i++) {
    int32_t p = rs_proportion(d, v[i], to_add, added);
    sizes[i] = v[i]->target + p;
    added += p;
  }
  /* The rounding leftover goes to the first (largest) one. */
  sizes[0] += to_add - added;
  if (sizes[0] < 0)
    sizes[0] = 0;
  for (i = 0; i < n; i++)
    v[i]->target = sizes[i];
  free(sizes);
}

/* ---- status (calculateStatus, progress) --------------------------------- */

void dp_calc_counts(dp_rs *const *all, size_t n, const dp_rs *new_rs,
                    dp_counts *out)
{
  int32_t total = dp_sum_replicas(all, n);

  out->available = dp_sum_available(all, n);
  out->replicas = dp_sum_actual(all, n);
  out->updated = new_rs ? new_rs->status_replicas : 0;
  out->ready = dp_sum_ready(all, n);
  out->unavailable = total - out->available;
  if (out->unavailable < 0)
    out->unavailable = 0;
}

int dp_complete(int32_t replicas, int64_t generation, const dp_counts *st)
{
  return st->updated == replicas && st->replicas == replicas &&
         st->available == replicas && st->observed_generation >= generation;
}

int dp_progressing(const dp_counts *old, const dp_counts *cur)
{
  int32_t old_old = old->replicas - old->updated;
  int32_t cur_old = cur->replicas - cur->updated;
  return cur->updated > old->updated || cur_old < old_old ||
         cur->ready > old->ready || cur->available > old->available;
}
