/*
 * preemption.c - the built-in DefaultPreemption PostFilter plugin
 * (upstream's plugins/defaultpreemption and framework/preemption): when
 * no node fits, find nodes where evicting lower-priority pods would make
 * room, pick the one that hurts least, evict, and nominate the pod there.
 *
 * Built in rather than a .so: it re-runs the profile's Filter plugins on
 * what-if copies of node infos, which the plugin ABI does not offer.
 * There are no PodDisruptionBudgets in kapi, so no victim violates one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "framework.h"
#include "log.h"

#define NOT_HELPFUL "Preemption is not helpful for scheduling"
#define NO_VICTIMS "No preemption victims found for incoming pod"

/* A node where preemption would work, and what it would cost. */
typedef struct candidate {
  kapi_node_info *ni; /* borrowed from the snapshot */
  kapi_cobj **victims; /* references, most important first */
  size_t n_victims;
} candidate;

static void candidate_free(candidate *c)
{
  kapi_cobj_array_free(c->victims, c->n_victims);
  memset(c, 0, sizeof *c);
}

static const char *start_time(const kj *pod)
{
  const char *t = kj_get_str(kj_get(pod, "status"), "startTime");

  /* upstream takes "now" for a pod that has not started: the latest. */
  return t ? t : "9999-12-31T23:59:59Z";
}

/* util.MoreImportantPod: higher priority, then the one started first. */
static int more_important(const kj *a, const kj *b)
{
  int32_t pa = kapi_pod_priority(a), pb = kapi_pod_priority(b);

  if (pa != pb)
    return pa > pb;
  return strcmp(start_time(a), start_time(b)) < 0;
}

static int cmp_importance(const void *x, const void *y)
{
  const kapi_cobj *a = *(kapi_cobj *const *)x, *b = *(kapi_cobj *const *)y;

  if (more_important(a->obj, b->obj))
    return -1;
  return more_important(b->obj, a->obj) ? 1 : 0;
}

/* Has the pod a DisruptionTarget condition set by a preemption? */
static int terminating_by_preemption(const kj *pod)
{
  const kj *conds = kj_ptr(pod, "/status/conditions");

  if (!kj_ptr(pod, "/metadata/deletionTimestamp"))
    return 0;
  for (size_t i = 0; i < kj_len(conds); i++) {
    const kj *c = kj_at(conds, i);
    const char *t = kj_get_str(c, "type"), *r = kj_get_str(c, "reason");
    const char *s = kj_get_str(c, "status");
    if (t && !strcmp(t, "DisruptionTarget") && s && !strcmp(s, "True") && r &&
        !strcmp(r, "PreemptionByScheduler"))
      return 1;
  }
  return 0;
}

/* PodEligibleToPreemptOthers: NULL if eligible, else why not. */
static const char *not_eligible(const kapi_cycle *cs, const kj *pod)
{
  const char *policy = kj_get_str(kj_get(pod, "spec"), "preemptionPolicy");
  const char *nnn = kj_get_str(kj_get(pod, "status"), "nominatedNodeName");
  const kapi_sched_status *st;
  kapi_node_info *ni;
  int32_t prio = kapi_pod_priority(pod);

  if (policy && !strcmp(policy, "Never"))
    return "not eligible due to preemptionPolicy=Never.";
  if (!nnn || !*nnn)
    return NULL;
  st = kapi_diagnosis_get(cs->diag, nnn);
  /* Absent counts as UnschedulableAndUnresolvable: try again. */
  if (!st || st->code == KAPI_UNSCHEDULABLE_AND_UNRESOLVABLE)
    return NULL;
  ni = kapi_snapshot_get(cs->snap, nnn);
  for (size_t i = 0; ni && i < ni->n_pods; i++)
    if (kapi_pod_priority(ni->pods[i]->obj) < prio &&
        terminating_by_preemption(ni->pods[i]->obj))
      return "not eligible due to a terminating pod on the nominated node.";
  return NULL;
}

static int add_status(kapi_diagnosis *d, const char *node, kapi_code code,
                      const char *reason)
{
  kapi_sched_status s = {0};

  s.code = code;
  if (reason)
    kapi_status_add_reason(&s, reason);
  return kapi_diagnosis_add(d, node, &s);
}

/*
 * SelectVictimsOnNode: remove every lower-priority pod; if the pod then
 * fits, put them back most important first while it still fits.  The
 * ones that could not go back are the victims.  On failure the node's
 * status goes to `out`.
 */
static int select_victims(kapi_cycle *cs, const kj *pod, kapi_node_info *ni,
                          candidate *cand, kapi_diagnosis *out)
{
  kapi_framework *fw = cs->fw;
  kapi_node_info *what_if = kapi_ni_clone(ni);
  kapi_cobj **pot = NULL;
  size_t n_pot = 0, i;
  int32_t prio = kapi_pod_priority(pod);
  kapi_sched_status s = {0};
  int r = 0;

  memset(cand, 0, sizeof *cand);
  if (!what_if)
    return -ENOMEM;
  pot = calloc(ni->n_pods + 1, sizeof *pot);
  if (!pot) {
    kapi_ni_unref(what_if);
    return -ENOMEM;
  }
  for (i = 0; i < ni->n_pods; i++)
    if (kapi_pod_priority(ni->pods[i]->obj) < prio)
      pot[n_pot++] = kapi_cobj_ref(ni->pods[i]);
  for (i = 0; i < n_pot; i++)
    kapi_ni_remove_pod(what_if, pot[i]->key);
  if (n_pot == 0) {
    r = add_status(out, ni->name, KAPI_UNSCHEDULABLE_AND_UNRESOLVABLE,
                   NO_VICTIMS);
    goto done;
  }
  if (kapi_fw_run_filters(fw, cs, pod, what_if, &s) != KAPI_SUCCESS) {
    r = kapi_diagnosis_add(out, ni->name, &s);
    goto done;
  }
  qsort(pot, n_pot, sizeof *pot, cmp_importance);
  cand->victims = calloc(n_pot, sizeof *cand->victims);
  if (!cand->victims) {
    r = -ENOMEM;
    goto done;
  }
  for (i = 0; i < n_pot; i++) {
    kapi_ni_add_pod(what_if, pot[i]);
    if (kapi_fw_run_filters(fw, cs, pod, what_if, &s) == KAPI_SUCCESS)
      continue; /* reprieved */
    kapi_ni_remove_pod(what_if, pot[i]->key);
    cand->victims[cand->n_victims++] = kapi_cobj_ref(pot[i]);
  }
  cand->ni = ni;
  r = 1;
done:
  kapi_status_free(&s);
  kapi_cobj_array_free(pot, n_pot);
  kapi_ni_unref(what_if);
  return r;
}

/* Sum of victim priorities, each shifted to be non-negative as upstream
 * does (prio + MaxInt32 + 1). */
static int64_t priority_sum(const candidate *c)
{
  int64_t sum = 0;

  for (size_t i = 0; i < c->n_victims; i++)
    sum += (int64_t)kapi_pod_priority(c->victims[i]->obj) + 2147483648LL;
  return sum;
}

/* GetEarliestPodStartTime over the highest-priority victims. */
static const char *earliest_start(const candidate *c)
{
  int32_t top = kapi_pod_priority(c->victims[0]->obj);
  const char *best = start_time(c->victims[0]->obj);

  for (size_t i = 1; i < c->n_victims; i++) {
    const kj *p = c->victims[i]->obj;
    if (kapi_pod_priority(p) == top && strcmp(start_time(p), best) < 0)
      best = start_time(p);
  }
  return best;
}

/* pickOneNodeForPreemption, without PDBs: lowest highest victim
 * priority, then smallest priority sum, fewest victims, latest start of
 * the most important victims, first found. */
static size_t pick_candidate(const candidate *c, size_t n)
{
  size_t best = 0;

  for (size_t i = 0; i < n; i++)
    if (c[i].n_victims == 0)
      return i;
  for (size_t i = 1; i < n; i++) {
    int32_t hi = kapi_pod_priority(c[i].victims[0]->obj);
    int32_t hb = kapi_pod_priority(c[best].victims[0]->obj);
    int64_t si = priority_sum(&c[i]), sb = priority_sum(&c[best]);
    int cmp;
    if (hi != hb) {
      if (hi < hb)
        best = i;
      continue;
    }
    if (si != sb) {
      if (si < sb)
        best = i;
      continue;
    }
    if (c[i].n_victims != c[best].n_victims) {
      if (c[i].n_victims < c[best].n_victims)
        best = i;
      continue;
    }
    cmp = strcmp(earliest_start(&c[i]), earliest_start(&c[best]));
    if (cmp > 0)
      best = i;
  }
  return best;
}

static void now_rfc3339(char *buf, size_t len)
{
  time_t t = time(NULL);
  struct tm tm;

  gmtime_r(&t, &tm);
  strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The victim's conditions with DisruptionTarget set, as a status patch. */
static char *disruption_patch(const kj *victim, const char *scheduler)
{
  const kj *conds = kj_ptr(victim, "/status/conditions");
  kj *patch = kj_object(), *list = kj_array(), *c;
  char ts[32], msg[300];
  char *out = NULL;

  if (!patch || !list)
    goto done;
  for (size_t i = 0; i < kj_len(conds); i++) {
    const char *t = kj_get_str(kj_at(conds, i), "type");
    if (!t || strcmp(t, "DisruptionTarget") != 0)
      kj_append(list, kj_clone(kj_at(conds, i)));
  }
  now_rfc3339(ts, sizeof ts);
  snprintf(msg, sizeof msg, "%s: preempting to accommodate a higher priority "
           "pod", scheduler);
  c = kj_object();
  if (!c)
    goto done;
  kj_set_str(c, "type", "DisruptionTarget");
  kj_set_str(c, "status", "True");
  kj_set(c, "lastProbeTime", kj_null());
  kj_set_str(c, "lastTransitionTime", ts);
  kj_set_str(c, "reason", "PreemptionByScheduler");
  kj_set_str(c, "message", msg);
  kj_append(list, c);
  kj_set(kj_child_object(patch, "status"), "conditions", list);
  list = NULL;
  out = kj_dump(patch, NULL);
done:
  kj_free(list);
  kj_free(patch);
  return out;
}

/* prepareCandidate: evict the victims, drop lower-priority nominations
 * to that node (they would not fit any more). */
static void prepare_candidate(kapi_cycle *cs, const kj *pod,
                              const candidate *c)
{
  kapi_framework *fw = cs->fw;
  const kapi_sched_io *io = fw->io;
  const char *sched = kj_get_str(kj_get(pod, "spec"), "schedulerName");
  const char *uid = kj_get_str(kj_get(pod, "metadata"), "uid");
  int32_t prio = kapi_pod_priority(pod);
  kapi_cobj **nom = NULL;
  size_t n_nom = 0;
  char msg[512];

  for (size_t i = 0; i < c->n_victims; i++) {
    const kj *v = c->victims[i]->obj;
    if (io && io->patch_status) {
      char *patch = disruption_patch(v, sched ? sched : "default-scheduler");
      if (patch)
        io->patch_status(io->arg, v, patch);
      free(patch);
    }
    if (io && io->delete_pod)
      io->delete_pod(io->arg, v);
    snprintf(msg, sizeof msg, "Preempted by pod %s on node %s",
             uid ? uid : "", c->ni->name);
    if (io && io->event)
      io->event(io->arg, v, "Normal", "Preempted", msg);
    LOG_V(2, "preempting %s on %s for %s", c->victims[i]->key, c->ni->name,
          kj_get_str(kj_get(pod, "metadata"), "name"));
  }
  if (!fw->queue ||
      kapi_sq_nominated(fw->queue, c->ni->name, NULL, &nom, &n_nom) < 0)
    return;
  for (size_t i = 0; i < n_nom; i++) {
    if (kapi_pod_priority(nom[i]->obj) >= prio)
      continue;
    if (io && io->patch_status)
      io->patch_status(io->arg, nom[i]->obj,
                       "{\"status\":{\"nominatedNodeName\":null}}");
    kapi_sq_unnominate(fw->queue, nom[i]->key);
  }
  kapi_cobj_array_free(nom, n_nom);
}

/* Sets the FitError of a failed preemption as the status reason. */
static void fail_with(kapi_sched_status *s, kapi_diagnosis *result)
{
  char *msg = kapi_fit_error_message(result);
  char *full = NULL;

  if (msg && asprintf(&full, "preemption: %s", msg) >= 0) {
    kapi_status_add_reason(s, full);
    free(full);
  }
  free(msg);
}

static uint64_t offset_rand(void)
{
  static __thread unsigned seed;

  if (!seed)
    seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)&seed;
  return (uint64_t)rand_r(&seed);
}

static kapi_code preempt(void *st, kapi_cycle *cs, const kj *pod,
                         kapi_sched_status *s)
{
  const kapi_snapshot *snap = cs->snap;
  kapi_diagnosis result = {0};
  kapi_node_info **pot = NULL;
  candidate *cands = NULL;
  size_t n_pot = 0, n_cands = 0, want, offset, i;
  const char *why;
  kapi_code rc = KAPI_UNSCHEDULABLE;

  (void)st;
  if (!cs->fw || !snap || !cs->diag)
    return KAPI_UNSCHEDULABLE;
  if ((why = not_eligible(cs, pod))) {
    char *full = NULL;
    if (asprintf(&full, "preemption: %s", why) >= 0)
      kapi_status_add_reason(s, full);
    free(full);
    return KAPI_UNSCHEDULABLE;
  }
  result.num_all_nodes = snap->n;
  pot = calloc(snap->n + 1, sizeof *pot);
  if (!pot)
    return KAPI_ERROR;
  /* nodesWherePreemptionMightHelp: only where the filters said
   * Unschedulable (resolvable). */
  for (i = 0; i < snap->n; i++) {
    const kapi_sched_status *ns = kapi_diagnosis_get(cs->diag,
                                                     snap->nodes[i]->name);
    if (ns && ns->code == KAPI_UNSCHEDULABLE)
      pot[n_pot++] = snap->nodes[i];
    else
      add_status(&result, snap->nodes[i]->name,
                 KAPI_UNSCHEDULABLE_AND_UNRESOLVABLE, NOT_HELPFUL);
  }
  cands = calloc(n_pot + 1, sizeof *cands);
  if (!cands) {
    rc = KAPI_ERROR;
    goto out;
  }
  /* GetOffsetAndNumCandidates: at least 100 or 10%, from a random
   * offset, so big clusters are not searched whole. */
  want = n_pot / 10 > 100 ? n_pot / 10 : 100;
  offset = n_pot ? (size_t)(offset_rand() % n_pot) : 0;
  for (i = 0; i < n_pot && n_cands < want; i++) {
    int r = select_victims(cs, pod, pot[(offset + i) % n_pot], &cands[n_cands],
                           &result);
    if (r < 0) {
      rc = KAPI_ERROR;
      goto out;
    }
    if (r == 1)
      n_cands++;
  }
  if (n_cands == 0) {
    fail_with(s, &result);
    /* No candidate: an old nomination no longer holds (upstream returns
     * NewPostFilterResultWithNominatedNode("")). */
    free(cs->nominated_node);
    cs->nominated_node = strdup("");
    goto out;
  }
  i = pick_candidate(cands, n_cands);
  prepare_candidate(cs, pod, &cands[i]);
  free(cs->nominated_node);
  cs->nominated_node = strdup(cands[i].ni->name);
  rc = KAPI_SUCCESS;
out:
  for (i = 0; i < n_cands; i++)
    candidate_free(&cands[i]);
  free(cands);
  free(pot);
  kapi_diagnosis_free(&result);
  return rc;
}

const kapi_sched_ops kapi_default_preemption_ops = {
    .size = sizeof(kapi_sched_ops),
    .post_filter = preempt,
};
