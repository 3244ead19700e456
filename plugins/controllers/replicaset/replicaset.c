/*
 * replicaset.c - the ReplicaSet controller (apps/v1) as a kapi controller
 * plugin for kapi-controller-manager.
 *
 * Mirrors upstream's pkg/controller/replicaset/replica_set.go
 * (syncReplicaSet, manageReplicas, the pod and ReplicaSet event
 * handlers), replica_set_utils.go (calculateStatus,
 * updateReplicaSetStatus), pkg/controller/controller_utils.go
 * (UIDTrackingControllerExpectations, slowStartBatch via manageReplicas,
 * ActivePodsWithRanks, GetPodFromTemplate) and controller_ref_manager.go
 * (ClaimPods: adoption and release).
 *
 * The host API offers no strategic merge patch, so adoption and release
 * use JSON patches whose "test" operations guard the pod's uid and the
 * owner reference being removed: the same preconditions upstream's SMP
 * carries.
 *
 * Everything runs on informer threads (handlers) and worker threads
 * (sync); the only shared mutable state is the expectations store, which
 * has its own lock.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kapi/plugin.h"
#include "../common/ctl_util.h"

/* Upstream's constants (replica_set.go, controller_utils.go). */
#define BURST_REPLICAS 500
#define SLOW_START_INITIAL_BATCH 1
#define EXPECTATIONS_TIMEOUT_NS (5LL * 60 * 1000000000LL)
#define DEFAULT_WORKERS 5
#define STATUS_UPDATE_RETRIES 1
/* Creates and deletes of one batch run on at most this many threads. */
#define MAX_PARALLEL 32

#define DELETION_COST_ANNOTATION "controller.kubernetes.io/pod-deletion-cost"

/* ---- small helpers ------------------------------------------------------ */

static int64_t int_at(const kapi_obj *o, const char *ptr, int64_t dflt)
{
  int64_t v;
  const kapi_obj *x = api->obj_lookup(o, ptr);
  return x && api->obj_int(x, &v) == 0 ? v : dflt;
}

static int nonempty(const char *s) { return s && *s; }

/* Do two values serialise the same (reflect.DeepEqual for our inputs)? */
static int same_json(const kapi_obj *a, const kapi_obj *b)
{
  char *ja, *jb;
  int eq;
  if (!a || !b)
    return !a && !b;
  ja = api->obj_to_json(a);
  jb = api->obj_to_json(b);
  eq = ja && jb && !strcmp(ja, jb);
  api->free(ja);
  api->free(jb);
  return eq;
}

/* The JSON of a value (or "null"). */
static void buf_obj(buf *b, const kapi_obj *o)
{
  char *j = o ? api->obj_to_json(o) : NULL;
  buf_puts(b, j ? j : "null");
  api->free(j);
}

/* An object's JSON with member `key` replaced by (or given) the JSON text
 * `value`: how an object read from a cache is written back changed. */
static void buf_obj_with(buf *b, const kapi_obj *obj, const char *key,
                         const char *value)
{
  size_t i, n = api->obj_len(obj);
  int first = 1, done = 0;

  buf_puts(b, "{");
  for (i = 0; i < n; i++) {
    const char *k = api->obj_key(obj, i);
    if (!k)
      continue;
    if (!first)
      buf_puts(b, ",");
    first = 0;
    buf_json_str(b, k);
    buf_puts(b, ":");
    if (!strcmp(k, key)) {
      buf_puts(b, value);
      done = 1;
    } else {
      buf_obj(b, api->obj_index(obj, i));
    }
  }
  if (!done) {
    if (!first)
      buf_puts(b, ",");
    buf_json_str(b, key);
    buf_puts(b, ":");
    buf_puts(b, value);
  }
  buf_puts(b, "}");
}

/* ---- time ------------------------------------------------------------ */

static int64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* RFC 3339 ("2025-01-01T00:00:00Z", fractions and offsets allowed) in
 * Unix nanoseconds; 0 (the zero Time) if absent or malformed. */
static int64_t parse_time(const char *s)
{
  struct tm tm;
  const char *p;
  int64_t ns = 0, scale = 100000000;
  time_t t;

  if (!nonempty(s))
    return 0;
  memset(&tm, 0, sizeof tm);
  p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!p)
    return 0;
  if (*p == '.')
    for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
      ns += (*p - '0') * scale;
  t = timegm(&tm);
  if (*p == '+' || *p == '-') {
    int hh = 0, mm = 0, sign = *p == '-' ? -1 : 1;
    if (sscanf(p + 1, "%d:%d", &hh, &mm) >= 1)
      t -= sign * (hh * 3600 + mm * 60);
  }
  return (int64_t)t * 1000000000LL + ns;
}

static void format_time(int64_t ns, char *out, size_t len)
{
  time_t t = (time_t)(ns / 1000000000LL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- label selectors (metav1.LabelSelectorAsSelector) ------------------- */

static int selector_is_empty(const kapi_obj *sel)
{
  return api->obj_len(member(sel, "matchLabels")) == 0 &&
         api->obj_len(member(sel, "matchExpressions")) == 0;
}

/* ---- pods (pkg/api/v1/pod, controller_utils.go) -------------------------- */

static int pod_is_active(const kapi_obj *pod)
{
  const char *phase = str_at(pod, "/status/phase");
  return !(phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"))) &&
         !api->obj_lookup(pod, "/metadata/deletionTimestamp");
}

/* The Ready condition, or NULL. */
static const kapi_obj *ready_condition(const kapi_obj *pod)
{
  const kapi_obj *conds = api->obj_lookup(pod, "/status/conditions");
  size_t i, n = api->obj_len(conds);
  for (i = 0; i < n; i++) {
    const kapi_obj *c = api->obj_index(conds, i);
    const char *t = member_str(c, "type");
    if (t && !strcmp(t, "Ready"))
      return c;
  }
  return NULL;
}

static int pod_is_ready(const kapi_obj *pod)
{
  const char *s = member_str(ready_condition(pod), "status");
  return s && !strcmp(s, "True");
}

/* IsPodAvailable: ready for at least minReadySeconds. */
static int pod_is_available(const kapi_obj *pod, int64_t min_ready,
                            int64_t now)
{
  int64_t since;
  if (!pod_is_ready(pod))
    return 0;
  if (min_ready == 0)
    return 1;
  since = parse_time(member_str(ready_condition(pod), "lastTransitionTime"));
  return since != 0 && since + min_ready * 1000000000LL < now;
}

/* podReadyTime: when the pod became ready (0 when not ready). */
static int64_t pod_ready_time(const kapi_obj *pod)
{
  if (!pod_is_ready(pod))
    return 0;
  return parse_time(member_str(ready_condition(pod), "lastTransitionTime"));
}

static int64_t max_container_restarts(const kapi_obj *pod)
{
  const kapi_obj *cs = api->obj_lookup(pod, "/status/containerStatuses");
  size_t i, n = api->obj_len(cs);
  int64_t max = 0;
  for (i = 0; i < n; i++) {
    int64_t r = int_at(api->obj_index(cs, i), "/restartCount", 0);
    if (r > max)
      max = r;
  }
  return max;
}

/* GetDeletionCostFromPodAnnotations: an int32, 0 when absent or bad. */
static int64_t pod_deletion_cost(const kapi_obj *pod)
{
  const char *s = member_str(api->obj_lookup(pod, "/metadata/annotations"),
                             DELETION_COST_ANNOTATION);
  char *end;
  long long v;
  if (!nonempty(s))
    return 0;
  errno = 0;
  v = strtoll(s, &end, 10);
  if (errno || *end || v < INT32_MIN || v > INT32_MAX)
    return 0;
  return v;
}

static int phase_ordinal(const kapi_obj *pod)
{
  const char *phase = str_at(pod, "/status/phase");
  if (phase && !strcmp(phase, "Unknown"))
    return 1;
  if (phase && !strcmp(phase, "Running"))
    return 2;
  return 0; /* Pending, and what Go's map gives for anything else */
}

/* The owner reference with controller: true (GetControllerOf), or NULL. */
static const kapi_obj *controller_ref(const kapi_obj *obj)
{
  const kapi_obj *refs = api->obj_lookup(obj, "/metadata/ownerReferences");
  size_t i, n = api->obj_len(refs);
  for (i = 0; i < n; i++) {
    const kapi_obj *r = api->obj_index(refs, i);
    const char *c = api->obj_get(member(r, "controller"), "");
    if (c && !strcmp(c, "true"))
      return r;
  }
  return NULL;
}

/* ---- ranking pods for deletion (ActivePodsWithRanks) -------------------- */

typedef struct ranked_pod {
  const kapi_obj *pod;
  int rank; /* related active pods on the same node */
} ranked_pod;

/* floor(log2(now - t)) in nanoseconds, -1 when t is not in the past. */
static int64_t log_age(int64_t t, int64_t now)
{
  int64_t d = now - t;
  return d > 0 ? 63 - __builtin_clzll((unsigned long long)d) : -1;
}

static int after_or_zero(int64_t t1, int64_t t2)
{
  if (t1 == 0 || t2 == 0)
    return t1 == 0;
  return t1 > t2;
}

/* Newer first, compared in log2 buckets of age (LogarithmicScaleDown),
 * ties broken by uid for a pseudo-random spread. */
static int newer_first(const kapi_obj *a, const kapi_obj *b, int64_t ta,
                       int64_t tb, int64_t now)
{
  int64_t diff;
  const char *ua, *ub;
  if (now == 0 || ta == 0 || tb == 0)
    return after_or_zero(ta, tb);
  diff = log_age(ta, now) - log_age(tb, now);
  if (diff == 0) {
    ua = str_at(a, "/metadata/uid");
    ub = str_at(b, "/metadata/uid");
    return strcmp(ua ? ua : "", ub ? ub : "") < 0;
  }
  return diff < 0;
}

/* Should pod a be deleted before pod b?  upstream's Less, rule by rule. */
static int pod_less(const ranked_pod *a, const ranked_pod *b, int64_t now)
{
  const char *na = str_at(a->pod, "/spec/nodeName");
  const char *nb = str_at(b->pod, "/spec/nodeName");
  int ra, rb;
  int64_t x, y;

  na = na ? na : "";
  nb = nb ? nb : "";
  /* 1. unassigned < assigned */
  if (strcmp(na, nb) && (!*na || !*nb))
    return !*na;
  /* 2. Pending < Unknown < Running */
  if (phase_ordinal(a->pod) != phase_ordinal(b->pod))
    return phase_ordinal(a->pod) < phase_ordinal(b->pod);
  /* 3. not ready < ready */
  ra = pod_is_ready(a->pod);
  rb = pod_is_ready(b->pod);
  if (ra != rb)
    return !ra;
  /* 4. lower pod-deletion-cost first */
  x = pod_deletion_cost(a->pod);
  y = pod_deletion_cost(b->pod);
  if (x != y)
    return x < y;
  /* 5. doubled up (more related pods on the node) first */
  if (a->rank != b->rank)
    return a->rank > b->rank;
  /* 6. ready more recently first */
  if (ra && rb) {
    x = pod_ready_time(a->pod);
    y = pod_ready_time(b->pod);
    if (x != y)
      return newer_first(a->pod, b->pod, x, y, now);
  }
  /* 7. more container restarts first */
  x = max_container_restarts(a->pod);
  y = max_container_restarts(b->pod);
  if (x != y)
    return x > y;
  /* 8. created more recently first */
  x = parse_time(str_at(a->pod, "/metadata/creationTimestamp"));
  y = parse_time(str_at(b->pod, "/metadata/creationTimestamp"));
  if (x != y)
    return newer_first(a->pod, b->pod, x, y, now);
  return 0;
}

static int pod_cmp(const void *pa, const void *pb, void *arg)
{
  const ranked_pod *a = pa, *b = pb;
  int64_t now = *(const int64_t *)arg;
  if (pod_less(a, b, now))
    return -1;
  return pod_less(b, a, now) ? 1 : 0;
}

/*
 * getPodsToDelete: ranks `pods` (n) by the active `related` pods sharing
 * their node and sorts them, earliest to delete first.  Unless every pod
 * goes anyway (diff >= n), when no sorting is needed.
 */
static void rank_pods_for_deletion(ranked_pod *pods, size_t n,
                                   const kapi_obj *const *related,
                                   size_t n_related, size_t diff, int64_t now)
{
  size_t i, j;

  if (diff >= n)
    return;
  for (i = 0; i < n; i++) {
    const char *node = str_at(pods[i].pod, "/spec/nodeName");
    pods[i].rank = 0;
    for (j = 0; j < n_related; j++) {
      const char *rn = str_at(related[j], "/spec/nodeName");
      if (pod_is_active(related[j]) &&
          !strcmp(node ? node : "", rn ? rn : ""))
        pods[i].rank++;
    }
  }
  qsort_r(pods, n, sizeof *pods, pod_cmp, &now);
}

/* ---- expectations (UIDTrackingControllerExpectations) ------------------- */

#define EXP_BUCKETS 256

typedef struct exp_rec {
  char *key;                  /* the ReplicaSet's "<ns>/<name>" */
  int64_t add, del;
  int64_t stamp;              /* when set: records expire after 5 min */
  char **dels;                /* pod keys whose deletion we wait for */
  size_t n_dels;
  struct exp_rec *next;
} exp_rec;

typedef struct exp_store {
  pthread_mutex_t mu;
  exp_rec *b[EXP_BUCKETS];
} exp_store;

static void exp_init(exp_store *s)
{
  memset(s, 0, sizeof *s);
  pthread_mutex_init(&s->mu, NULL);
}

static unsigned exp_hash(const char *k)
{
  unsigned h = 2166136261u;
  for (; *k; k++)
    h = (h ^ (unsigned char)*k) * 16777619u;
  return h % EXP_BUCKETS;
}

static void exp_rec_free(exp_rec *r)
{
  size_t i;
  for (i = 0; i < r->n_dels; i++)
    free(r->dels[i]);
  free(r->dels);
  free(r->key);
  free(r);
}

/* Caller holds the lock. */
static exp_rec **exp_slot(exp_store *s, const char *key)
{
  exp_rec **p = &s->b[exp_hash(key)];
  while (*p && strcmp((*p)->key, key))
    p = &(*p)->next;
  return p;
}

/* Caller holds the lock.  A fresh record replaces any old one. */
static exp_rec *exp_set_locked(exp_store *s, const char *key, int64_t add,
                               int64_t del, int64_t now)
{
  exp_rec **p = exp_slot(s, key), *r = *p;
  if (r) {
    *p = r->next;
    exp_rec_free(r);
  }
  r = calloc(1, sizeof *r);
  if (!r || !(r->key = strdup(key))) {
    free(r);
    return NULL;
  }
  r->add = add;
  r->del = del;
  r->stamp = now;
  r->next = s->b[exp_hash(key)];
  s->b[exp_hash(key)] = r;
  return r;
}

static void exp_expect_creations(exp_store *s, const char *key, int64_t n,
                                 int64_t now)
{
  pthread_mutex_lock(&s->mu);
  exp_set_locked(s, key, n, 0, now);
  pthread_mutex_unlock(&s->mu);
}

/* ExpectDeletions: the pods (keys, borrowed) we are about to delete. */
static void exp_expect_deletions(exp_store *s, const char *key,
                                 const char *const *pods, size_t n,
                                 int64_t now)
{
  exp_rec *r;
  size_t i;
  pthread_mutex_lock(&s->mu);
  r = exp_set_locked(s, key, 0, (int64_t)n, now);
  if (r && n && (r->dels = calloc(n, sizeof *r->dels)))
    for (i = 0; i < n; i++)
      if ((r->dels[r->n_dels] = strdup(pods[i])))
        r->n_dels++;
  pthread_mutex_unlock(&s->mu);
}

/* LowerExpectations: adds and deletes seen (or that will never be). */
static void exp_lower(exp_store *s, const char *key, int64_t add,
                      int64_t del)
{
  exp_rec *r;
  pthread_mutex_lock(&s->mu);
  if ((r = *exp_slot(s, key))) {
    r->add -= add;
    r->del -= del;
  }
  pthread_mutex_unlock(&s->mu);
}

static void exp_creation_observed(exp_store *s, const char *key)
{
  exp_lower(s, key, 1, 0);
}

/* Counts only the deletions we asked for, once each. */
static void exp_deletion_observed(exp_store *s, const char *key,
                                  const char *pod_key)
{
  exp_rec *r;
  size_t i;
  pthread_mutex_lock(&s->mu);
  if ((r = *exp_slot(s, key))) {
    for (i = 0; i < r->n_dels && strcmp(r->dels[i], pod_key); i++)
      ;
    if (i < r->n_dels) {
      free(r->dels[i]);
      r->dels[i] = r->dels[--r->n_dels];
      r->del--;
    }
  }
  pthread_mutex_unlock(&s->mu);
}

/* SatisfiedExpectations: no record, fulfilled, or expired. */
static int exp_satisfied(exp_store *s, const char *key, int64_t now)
{
  exp_rec *r;
  int ok;
  pthread_mutex_lock(&s->mu);
  r = *exp_slot(s, key);
  ok = !r || (r->add <= 0 && r->del <= 0) ||
       now - r->stamp > EXPECTATIONS_TIMEOUT_NS;
  pthread_mutex_unlock(&s->mu);
  return ok;
}

static void exp_delete(exp_store *s, const char *key)
{
  exp_rec **p, *r;
  pthread_mutex_lock(&s->mu);
  p = exp_slot(s, key);
  if ((r = *p)) {
    *p = r->next;
    exp_rec_free(r);
  }
  pthread_mutex_unlock(&s->mu);
}

static void exp_destroy(exp_store *s)
{
  size_t i;
  for (i = 0; i < EXP_BUCKETS; i++)
    while (s->b[i]) {
      exp_rec *r = s->b[i];
      s->b[i] = r->next;
      exp_rec_free(r);
    }
  pthread_mutex_destroy(&s->mu);
}

/* ---- parallel batches (slowStartBatch) ------------------------------------ */

/* One call of a batch: 0 on success, else -errno. */
typedef int (*batch_fn)(void *arg, size_t i);

typedef struct batch_run {
  batch_fn fn;
  void *arg;
  size_t next, end; /* items [next, end) remain */
  size_t ok;
  int err;          /* the first error */
  pthread_mutex_t mu;
} batch_run;

static void *batch_thread(void *p)
{
  batch_run *b = p;
  for (;;) {
    size_t i;
    int rc;
    pthread_mutex_lock(&b->mu);
    if (b->next == b->end) {
      pthread_mutex_unlock(&b->mu);
      return NULL;
    }
    i = b->next++;
    pthread_mutex_unlock(&b->mu);
    rc = b->fn(b->arg, i);
    pthread_mutex_lock(&b->mu);
    if (rc < 0 && !b->err)
      b->err = rc;
    else if (rc >= 0)
      b->ok++;
    pthread_mutex_unlock(&b->mu);
  }
}

/* Calls fn for items [from, from+n) in parallel; returns the successes,
 * *err the first failure (0 if none). */
static size_t run_parallel(batch_fn fn, void *arg, size_t from, size_t n,
                           int *err)
{
  batch_run b = {.fn = fn, .arg = arg, .next = from, .end = from + n};
  pthread_t th[MAX_PARALLEL];
  size_t t, nt = n < MAX_PARALLEL ? n : MAX_PARALLEL, started = 0;

  pthread_mutex_init(&b.mu, NULL);
  for (t = 1; t < nt; t++)
    if (pthread_create(&th[started], NULL, batch_thread, &b) == 0)
      started++;
  batch_thread(&b); /* this thread works too */
  for (t = 0; t < started; t++)
    pthread_join(th[t], NULL);
  pthread_mutex_destroy(&b.mu);
  *err = b.err;
  return b.ok;
}

/*
 * slowStartBatch: calls fn `count` times in batches of 1, 2, 4, ...
 * (starting at `initial`), each batch in parallel, and stops after the
 * first batch with a failure, so that a doomed create (quota, admission)
 * costs one call rather than hundreds.  Returns the successes; *err gets
 * the first error.
 */
static size_t slow_start_batch(size_t count, size_t initial, batch_fn fn,
                               void *arg, int *err)
{
  size_t remaining = count, done = 0, ok = 0, size;

  *err = 0;
  for (size = remaining < initial ? remaining : initial; size > 0;
       size = 2 * size < remaining ? 2 * size : remaining) {
    ok += run_parallel(fn, arg, done, size, err);
    if (*err)
      return ok;
    done += size;
    remaining -= size;
  }
  return ok;
}

/* ---- the controller --------------------------------------------------------- */

typedef struct rsc {
  kapi_ctl *ctl;
  kapi_inf *rs_inf, *pod_inf;
  kapi_queue *queue;
  exp_store exp;
  int workers;
  int started;
} rsc;

static rsc the_rsc;

static void enqueue_obj(rsc *c, const kapi_obj *rs)
{
  char *key = api->obj_cache_key(rs);
  if (key)
    api->queue_add(c->queue, key);
  api->free(key);
}

/* resolveControllerRef: the cached ReplicaSet a controller reference
 * names (same uid), or NULL; put the reference after use. */
static kapi_ref *resolve_controller_ref(rsc *c, const char *ns,
                                        const kapi_obj *ref)
{
  const char *kind = member_str(ref, "kind");
  const char *av = member_str(ref, "apiVersion");
  const char *name = member_str(ref, "name");
  const char *uid = member_str(ref, "uid");
  const char *slash = av ? strchr(av, '/') : NULL;
  kapi_ref *r = NULL;
  char key[512];
  const char *have;

  if (!kind || strcmp(kind, "ReplicaSet") || !slash ||
      strncmp(av, "apps", (size_t)(slash - av)) || slash - av != 4 ||
      !name || !ns)
    return NULL;
  snprintf(key, sizeof key, "%s/%s", ns, name);
  if (api->inf_get(c->rs_inf, key, &r) < 0)
    return NULL;
  have = str_at(api->ref_obj(r), "/metadata/uid");
  if (!have || !uid || strcmp(have, uid)) {
    api->ref_put(r);
    return NULL;
  }
  return r;
}

/* getPodReplicaSets: enqueue every ReplicaSet whose selector matches. */
static void enqueue_matching(rsc *c, const kapi_obj *pod)
{
  const kapi_obj *labels = api->obj_lookup(pod, "/metadata/labels");
  const char *ns = str_at(pod, "/metadata/namespace");
  kapi_ref **v = NULL;
  size_t i, n = 0;

  if (!ns || api->obj_len(labels) == 0)
    return;
  if (api->inf_list(c->rs_inf, "namespace", ns, &v, &n) < 0)
    return;
  for (i = 0; i < n; i++) {
    const kapi_obj *rs = api->ref_obj(v[i]);
    const kapi_obj *sel = api->obj_lookup(rs, "/spec/selector");
    if (!selector_is_empty(sel) && ctl_selector_matches(sel, labels) == 1)
      enqueue_obj(c, rs);
  }
  api->ref_array_put(v, n);
}

/* ---- event handlers --------------------------------------------------------- */

static void on_rs_add(void *arg, const kapi_obj *rs)
{
  enqueue_obj(arg, rs);
}

static void on_rs_delete(void *arg, const kapi_obj *rs)
{
  rsc *c = arg;
  char *key = api->obj_cache_key(rs);
  if (!key)
    return;
  exp_delete(&c->exp, key);
  api->queue_add(c->queue, key);
  api->free(key);
}

static void on_rs_update(void *arg, const kapi_obj *old, const kapi_obj *cur)
{
  const char *ou = str_at(old, "/metadata/uid");
  const char *cu = str_at(cur, "/metadata/uid");
  /* Same name, new object: forget what we expected of the old one. */
  if (ou && cu && strcmp(ou, cu))
    on_rs_delete(arg, old);
  enqueue_obj(arg, cur);
}

static void pod_deleted(rsc *c, const kapi_obj *pod)
{
  const kapi_obj *ref = controller_ref(pod);
  kapi_ref *r;
  char *rs_key, *pod_key;

  if (!ref)
    return;
  r = resolve_controller_ref(c, str_at(pod, "/metadata/namespace"), ref);
  if (!r)
    return;
  rs_key = api->obj_cache_key(api->ref_obj(r));
  pod_key = api->obj_cache_key(pod);
  if (rs_key && pod_key) {
    exp_deletion_observed(&c->exp, rs_key, pod_key);
    api->queue_add(c->queue, rs_key);
  }
  api->free(rs_key);
  api->free(pod_key);
  api->ref_put(r);
}

static void on_pod_add(void *arg, const kapi_obj *pod)
{
  rsc *c = arg;
  const kapi_obj *ref;
  kapi_ref *r;
  char *key;

  if (api->obj_lookup(pod, "/metadata/deletionTimestamp")) {
    /* Seen already being deleted (after a relist, say). */
    pod_deleted(c, pod);
    return;
  }
  ref = controller_ref(pod);
  if (!ref) {
    enqueue_matching(c, pod); /* an orphan: someone may adopt it */
    return;
  }
  r = resolve_controller_ref(c, str_at(pod, "/metadata/namespace"), ref);
  if (!r)
    return;
  key = api->obj_cache_key(api->ref_obj(r));
  if (key) {
    exp_creation_observed(&c->exp, key);
    api->queue_add(c->queue, key);
  }
  api->free(key);
  api->ref_put(r);
}

static void on_pod_update(void *arg, const kapi_obj *old, const kapi_obj *cur)
{
  rsc *c = arg;
  const char *orv = str_at(old, "/metadata/resourceVersion");
  const char *crv = str_at(cur, "/metadata/resourceVersion");
  const char *ns = str_at(cur, "/metadata/namespace");
  const kapi_obj *oref, *cref;
  int label_changed, ref_changed;
  kapi_ref *r;

  /* A resync: nothing changed. */
  if (orv && crv && !strcmp(orv, crv))
    return;
  label_changed = !same_json(api->obj_lookup(old, "/metadata/labels"),
                             api->obj_lookup(cur, "/metadata/labels"));
  if (api->obj_lookup(cur, "/metadata/deletionTimestamp")) {
    /* Graceful deletion: count the pod as gone now, so that its
     * replacement is not held up by the grace period. */
    pod_deleted(c, cur);
    if (label_changed)
      pod_deleted(c, old);
    return;
  }
  oref = controller_ref(old);
  cref = controller_ref(cur);
  ref_changed = !same_json(oref, cref);
  if (ref_changed && oref &&
      (r = resolve_controller_ref(c, str_at(old, "/metadata/namespace"),
                                  oref))) {
    enqueue_obj(c, api->ref_obj(r));
    api->ref_put(r);
  }
  if (cref) {
    const kapi_obj *rs;
    int64_t min_ready;
    char *key;
    if (!(r = resolve_controller_ref(c, ns, cref)))
      return;
    rs = api->ref_obj(r);
    enqueue_obj(c, rs);
    min_ready = int_at(rs, "/spec/minReadySeconds", 0);
    /* Becomes available minReadySeconds after becoming ready: look
     * again then. */
    if (!pod_is_ready(old) && pod_is_ready(cur) && min_ready > 0 &&
        (key = api->obj_cache_key(rs))) {
      api->queue_add_after(c->queue, key, (int)(min_ready * 1000 + 1000));
      api->free(key);
    }
    api->ref_put(r);
    return;
  }
  if (label_changed || ref_changed)
    enqueue_matching(c, cur);
}

static void on_pod_delete(void *arg, const kapi_obj *pod)
{
  pod_deleted(arg, pod);
}

static const kapi_inf_handler rs_handler = {
    .size = sizeof(kapi_inf_handler),
    .on_add = on_rs_add,
    .on_update = on_rs_update,
    .on_delete = on_rs_delete,
};

static const kapi_inf_handler pod_handler = {
    .size = sizeof(kapi_inf_handler),
    .on_add = on_pod_add,
    .on_update = on_pod_update,
    .on_delete = on_pod_delete,
};

/* ---- claiming pods (PodControllerRefManager.ClaimPods) --------------------- */

static void pod_path(char *out, size_t len, const kapi_obj *pod)
{
  snprintf(out, len, "/api/v1/namespaces/%s/pods/%s",
           str_at(pod, "/metadata/namespace"), str_at(pod, "/metadata/name"));
}

static void rs_path(char *out, size_t len, const kapi_obj *rs,
                    const char *sub)
{
  snprintf(out, len, "/apis/apps/v1/namespaces/%s/replicasets/%s%s%s",
           str_at(rs, "/metadata/namespace"), str_at(rs, "/metadata/name"),
           sub ? "/" : "", sub ? sub : "");
}

/* The controller reference our pods carry (NewControllerRef). */
static void buf_controller_ref(buf *b, const kapi_obj *rs)
{
  buf_puts(b, "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":");
  buf_json_str(b, str_at(rs, "/metadata/name"));
  buf_puts(b, ",\"uid\":");
  buf_json_str(b, str_at(rs, "/metadata/uid"));
  buf_puts(b, ",\"controller\":true,\"blockOwnerDeletion\":true}");
}

/* RecheckDeletionTimestamp: adopt only for a ReplicaSet that (still)
 * exists live, with our uid, and is not being deleted. */
static int can_adopt(const kapi_obj *rs)
{
  char path[1024];
  kapi_obj *fresh = NULL;
  const char *uid, *want = str_at(rs, "/metadata/uid");
  int rc;

  rs_path(path, sizeof path, rs, NULL);
  rc = ctl_request("GET", path, NULL, NULL, &fresh, NULL, 0, NULL);
  if (rc < 0)
    return rc;
  uid = str_at(fresh, "/metadata/uid");
  if (!uid || !want || strcmp(uid, want)) {
    api->log(self, KAPI_LOG_WARNING,
             "original ReplicaSet %s/%s is gone: got uid %s, wanted %s",
             str_at(rs, "/metadata/namespace"), str_at(rs, "/metadata/name"),
             uid ? uid : "", want ? want : "");
    rc = -ENOENT;
  } else if (api->obj_lookup(fresh, "/metadata/deletionTimestamp")) {
    api->log(self, 2, "%s/%s has just been deleted at %s",
             str_at(rs, "/metadata/namespace"), str_at(rs, "/metadata/name"),
             str_at(fresh, "/metadata/deletionTimestamp"));
    rc = -ENOENT;
  }
  api->obj_free(fresh);
  return rc;
}

/* Adds our controller reference to an orphan, guarded by the pod's uid
 * and by its current owner references being unchanged. */
static int adopt_pod(const kapi_obj *rs, const kapi_obj *pod)
{
  const kapi_obj *refs = api->obj_lookup(pod, "/metadata/ownerReferences");
  buf b = {0};
  char path[1024];
  int rc;

  buf_puts(&b, "[{\"op\":\"test\",\"path\":\"/metadata/uid\",\"value\":");
  buf_json_str(&b, str_at(pod, "/metadata/uid"));
  buf_puts(&b, "},");
  if (api->obj_type(refs) == KAPI_OBJ_ARRAY) {
    buf_puts(&b, "{\"op\":\"test\",\"path\":\"/metadata/ownerReferences\","
                 "\"value\":");
    buf_obj(&b, refs);
    buf_puts(&b, "},{\"op\":\"add\",\"path\":\"/metadata/ownerReferences/-\","
                 "\"value\":");
    buf_controller_ref(&b, rs);
  } else {
    buf_puts(&b, "{\"op\":\"add\",\"path\":\"/metadata/ownerReferences\","
                 "\"value\":[");
    buf_controller_ref(&b, rs);
    buf_puts(&b, "]");
  }
  buf_puts(&b, "}]");
  if (b.oom) {
    free(b.s);
    return -ENOMEM;
  }
  pod_path(path, sizeof path, pod);
  rc = ctl_request("PATCH", path, "application/json-patch+json", b.s, NULL,
                   NULL, 0, NULL);
  free(b.s);
  return rc;
}

/* Removes our controller reference from a pod that no longer matches. */
static int release_pod(const kapi_obj *rs, const kapi_obj *pod)
{
  const kapi_obj *refs = api->obj_lookup(pod, "/metadata/ownerReferences");
  const char *uid = str_at(rs, "/metadata/uid");
  size_t i, n = api->obj_len(refs);
  char path[1024];
  buf b = {0};
  int rc;

  for (i = 0; i < n; i++) {
    const char *u = member_str(api->obj_index(refs, i), "uid");
    if (u && uid && !strcmp(u, uid))
      break;
  }
  if (i == n)
    return 0;
  buf_puts(&b, "[{\"op\":\"test\",\"path\":\"/metadata/uid\",\"value\":");
  buf_json_str(&b, str_at(pod, "/metadata/uid"));
  buf_printf(&b, "},{\"op\":\"test\",\"path\":\"/metadata/ownerReferences/%zu"
                 "/uid\",\"value\":", i);
  buf_json_str(&b, uid);
  /* The last reference takes the list with it, as a Go round trip
   * (omitempty) would leave it. */
  if (n == 1)
    buf_puts(&b, "},{\"op\":\"remove\",\"path\":\"/metadata/ownerReferences\"}]");
  else
    buf_printf(&b, "},{\"op\":\"remove\",\"path\":\"/metadata/"
                   "ownerReferences/%zu\"}]", i);
  if (b.oom) {
    free(b.s);
    return -ENOMEM;
  }
  pod_path(path, sizeof path, pod);
  rc = ctl_request("PATCH", path, "application/json-patch+json", b.s, NULL,
                   NULL, 0, NULL);
  free(b.s);
  /* Gone, or changed under us (the test failed): not ours to keep. */
  if (rc == -ENOENT || rc == -EINVAL)
    rc = 0;
  return rc;
}

/*
 * ClaimPods: keeps the active pods this ReplicaSet controls and that
 * match its selector, adopts matching orphans, releases controlled pods
 * that stopped matching.  `pods` (n) in, the claimed ones written to
 * `out`; returns their count, or -errno (after claiming what it could).
 */
static long claim_pods(const kapi_obj *rs, const kapi_obj *sel,
                       const kapi_obj *const *pods, size_t n,
                       const kapi_obj **out)
{
  const char *uid = str_at(rs, "/metadata/uid");
  int deleting = api->obj_lookup(rs, "/metadata/deletionTimestamp") != NULL;
  int adopt_checked = 0, adopt_rc = 0, err = 0;
  size_t i, k = 0;

  for (i = 0; i < n; i++) {
    const kapi_obj *pod = pods[i];
    const kapi_obj *ref = controller_ref(pod);
    int match = ctl_selector_matches(sel, api->obj_lookup(pod, "/metadata/labels"));
    int rc;

    if (ref) {
      const char *ru = member_str(ref, "uid");
      if (!ru || !uid || strcmp(ru, uid))
        continue; /* someone else's */
      if (match == 1) {
        out[k++] = pod;
        continue;
      }
      if (deleting)
        continue;
      if ((rc = release_pod(rs, pod)) < 0 && !err)
        err = rc;
      continue;
    }
    /* An orphan. */
    if (deleting || match != 1 ||
        api->obj_lookup(pod, "/metadata/deletionTimestamp"))
      continue;
    if (!adopt_checked) {
      adopt_rc = can_adopt(rs);
      adopt_checked = 1;
    }
    if (adopt_rc < 0) {
      if (!err)
        err = adopt_rc;
      continue;
    }
    rc = adopt_pod(rs, pod);
    if (rc == -ENOENT)
      continue;
    if (rc < 0) {
      if (!err)
        err = rc;
      continue;
    }
    out[k++] = pod;
  }
  return err ? err : (long)k;
}

/* ---- pods from the template (GetPodFromTemplate) --------------------------- */

/* The body of a pod created for `rs`, newly allocated (NULL if OOM). */
static char *pod_from_template(const kapi_obj *rs)
{
  const kapi_obj *tm = api->obj_lookup(rs, "/spec/template/metadata");
  const kapi_obj *v;
  buf b = {0};

  buf_puts(&b, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
               "\"generateName\":");
  buf_printf(&b, "\"%s-\"", str_at(rs, "/metadata/name"));
  buf_puts(&b, ",\"namespace\":");
  buf_json_str(&b, str_at(rs, "/metadata/namespace"));
  if ((v = member(tm, "labels"))) {
    buf_puts(&b, ",\"labels\":");
    buf_obj(&b, v);
  }
  if ((v = member(tm, "annotations"))) {
    buf_puts(&b, ",\"annotations\":");
    buf_obj(&b, v);
  }
  buf_puts(&b, ",\"ownerReferences\":[");
  buf_controller_ref(&b, rs);
  buf_puts(&b, "]");
  if ((v = member(tm, "finalizers"))) {
    buf_puts(&b, ",\"finalizers\":");
    buf_obj(&b, v);
  }
  buf_puts(&b, "},\"spec\":");
  v = api->obj_lookup(rs, "/spec/template/spec");
  if (v)
    buf_obj(&b, v);
  else
    buf_puts(&b, "{}");
  buf_puts(&b, "}");
  if (b.oom) {
    free(b.s);
    return NULL;
  }
  return b.s;
}

/* ---- manageReplicas --------------------------------------------------------- */

typedef struct manage_ctx {
  rsc *c;
  const kapi_obj *rs;
  const char *key;
  char *body;               /* the pod to create */
  const ranked_pod *del;    /* the pods to delete */
  pthread_mutex_t mu;
  char err_msg[1024];       /* the first failure's message */
} manage_ctx;

static void note_error(manage_ctx *m, const char *msg)
{
  pthread_mutex_lock(&m->mu);
  if (!m->err_msg[0])
    snprintf(m->err_msg, sizeof m->err_msg, "%s", msg);
  pthread_mutex_unlock(&m->mu);
}

static int create_one(void *arg, size_t i)
{
  manage_ctx *m = arg;
  char path[512], msg[900];
  kapi_obj *pod = NULL;
  int rc, terminating;

  (void)i;
  snprintf(path, sizeof path, "/api/v1/namespaces/%s/pods",
           str_at(m->rs, "/metadata/namespace"));
  rc = ctl_request("POST", path, "application/json", m->body, &pod, msg,
                   sizeof msg, &terminating);
  if (rc < 0) {
    /* Every create fails in a terminating namespace: not an error. */
    if (terminating)
      return 0;
    api->ctl_event(m->c->ctl, m->rs, "Warning", "FailedCreate",
                   "Error creating: %s", msg);
    note_error(m, msg);
    return rc;
  }
  api->log(self, 4, "controller %s created pod %s", m->key,
           str_at(pod, "/metadata/name"));
  api->ctl_event(m->c->ctl, m->rs, "Normal", "SuccessfulCreate",
                 "Created pod: %s", str_at(pod, "/metadata/name"));
  api->obj_free(pod);
  return 0;
}

static int delete_one(void *arg, size_t i)
{
  manage_ctx *m = arg;
  const kapi_obj *pod = m->del[i].pod;
  char path[1024], msg[900], *pod_key;
  int rc;

  pod_path(path, sizeof path, pod);
  rc = ctl_request("DELETE", path, NULL, NULL, NULL, msg, sizeof msg, NULL);
  if (rc == 0) {
    api->ctl_event(m->c->ctl, m->rs, "Normal", "SuccessfulDelete",
                   "Deleted pod: %s", str_at(pod, "/metadata/name"));
    return 0;
  }
  /* The informer will never see this deletion: stop waiting for it. */
  pod_key = api->obj_cache_key(pod);
  if (pod_key)
    exp_deletion_observed(&m->c->exp, m->key, pod_key);
  api->free(pod_key);
  if (rc == -ENOENT) {
    api->log(self, 4, "pod %s/%s has already been deleted",
             str_at(pod, "/metadata/namespace"), str_at(pod, "/metadata/name"));
    return 0;
  }
  api->ctl_event(m->c->ctl, m->rs, "Warning", "FailedDelete",
                 "Error deleting: %s", msg);
  note_error(m, msg);
  return rc;
}

/* The active pods of every ReplicaSet with the same controller as rs
 * (getIndirectlyRelatedPods), deduplicated by uid; references in *refs
 * to put.  None for a ReplicaSet without a controller. */
static size_t related_pods(rsc *c, const kapi_obj *rs, kapi_ref ***refs,
                           size_t *n_refs, const kapi_obj ***ret)
{
  const kapi_obj *ref = controller_ref(rs);
  const char *ns = str_at(rs, "/metadata/namespace");
  kapi_ref **rss = NULL, **pods = NULL;
  size_t n_rss = 0, n_pods = 0, i, j, k = 0;
  const kapi_obj **out;

  *refs = NULL;
  *n_refs = 0;
  *ret = NULL;
  if (!ref || !member_str(ref, "uid") ||
      api->inf_list(c->rs_inf, "controllerUID", member_str(ref, "uid"), &rss,
                    &n_rss) < 0)
    return 0;
  if (api->inf_list(c->pod_inf, "namespace", ns, &pods, &n_pods) < 0 ||
      !(out = calloc(n_pods ? n_pods : 1, sizeof *out))) {
    api->ref_array_put(rss, n_rss);
    api->ref_array_put(pods, n_pods);
    return 0;
  }
  for (i = 0; i < n_pods; i++) {
    const kapi_obj *pod = api->ref_obj(pods[i]);
    const kapi_obj *labels = api->obj_lookup(pod, "/metadata/labels");
    for (j = 0; j < n_rss; j++) {
      const kapi_obj *other = api->ref_obj(rss[j]);
      const char *ons = str_at(other, "/metadata/namespace");
      if (ons && ns && !strcmp(ons, ns) &&
          ctl_selector_matches(api->obj_lookup(other, "/spec/selector"),
                           labels) == 1) {
        out[k++] = pod;
        break;
      }
    }
  }
  api->ref_array_put(rss, n_rss);
  *refs = pods;
  *n_refs = n_pods;
  *ret = out;
  return k;
}

/*
 * manageReplicas: creates or deletes pods to move the claimed count
 * towards spec.replicas, at most BURST_REPLICAS per sync.  0, or -errno
 * with `err_msg` filled.
 */
static int manage_replicas(rsc *c, const kapi_obj *rs, const char *key,
                           const kapi_obj *const *pods, size_t n,
                           char *err_msg, size_t err_len)
{
  int64_t want = int_at(rs, "/spec/replicas", 1);
  int64_t diff = (int64_t)n - want;
  manage_ctx m = {.c = c, .rs = rs, .key = key};
  int err = 0;

  err_msg[0] = '\0';
  if (diff == 0)
    return 0;
  pthread_mutex_init(&m.mu, NULL);
  if (diff < 0) {
    size_t count = (size_t)(-diff), ok, skipped;
    if (count > BURST_REPLICAS)
      count = BURST_REPLICAS;
    /* Expect them all before the first create: the informer may see a
     * new pod before this thread sees its answer. */
    exp_expect_creations(&c->exp, key, (int64_t)count, now_ns());
    api->log(self, 2, "Too few replicas for ReplicaSet %s, need %lld, "
             "creating %zu", key, (long long)want, count);
    m.body = pod_from_template(rs);
    if (!m.body) {
      exp_lower(&c->exp, key, (int64_t)count, 0);
      pthread_mutex_destroy(&m.mu);
      snprintf(err_msg, err_len, "out of memory");
      return -ENOMEM;
    }
    ok = slow_start_batch(count, SLOW_START_INITIAL_BATCH, create_one, &m,
                          &err);
    /* Creates never attempted will never be observed. */
    skipped = count - ok;
    if (err && skipped > 0) {
      api->log(self, 2, "Slow-start failure. Skipping creation of %zu pods, "
               "decrementing expectations for ReplicaSet %s", skipped, key);
      exp_lower(&c->exp, key, (int64_t)skipped, 0);
    }
    free(m.body);
  } else {
    size_t count = (size_t)diff, i, n_rel, n_rel_refs;
    ranked_pod *rp = calloc(n ? n : 1, sizeof *rp);
    const char **keys = calloc(n ? n : 1, sizeof *keys);
    const kapi_obj **rel;
    kapi_ref **rel_refs;

    if (count > BURST_REPLICAS)
      count = BURST_REPLICAS;
    if (!rp || !keys) {
      free(rp);
      free(keys);
      pthread_mutex_destroy(&m.mu);
      snprintf(err_msg, err_len, "out of memory");
      return -ENOMEM;
    }
    api->log(self, 2, "Too many replicas for ReplicaSet %s, need %lld, "
             "deleting %zu", key, (long long)want, count);
    for (i = 0; i < n; i++)
      rp[i].pod = pods[i];
    n_rel = related_pods(c, rs, &rel_refs, &n_rel_refs, &rel);
    rank_pods_for_deletion(rp, n, rel, n_rel, count, now_ns());
    free(rel);
    for (i = 0; i < count; i++)
      keys[i] = api->obj_cache_key(rp[i].pod);
    exp_expect_deletions(&c->exp, key, keys, count, now_ns());
    for (i = 0; i < count; i++)
      api->free((void *)keys[i]);
    free(keys);
    m.del = rp;
    run_parallel(delete_one, &m, 0, count, &err);
    api->ref_array_put(rel_refs, n_rel_refs);
    free(rp);
  }
  snprintf(err_msg, err_len, "%s", m.err_msg[0] ? m.err_msg : "");
  pthread_mutex_destroy(&m.mu);
  return err;
}

/* ---- status (calculateStatus, updateReplicaSetStatus) ---------------------- */

typedef struct rs_status {
  int64_t replicas, fully_labeled, ready, available;
} rs_status;

static void calculate_counts(const kapi_obj *rs, const kapi_obj *const *pods,
                             size_t n, int64_t now, rs_status *st)
{
  const kapi_obj *tl = api->obj_lookup(rs, "/spec/template/metadata/labels");
  int64_t min_ready = int_at(rs, "/spec/minReadySeconds", 0);
  size_t i, j, nl = api->obj_len(tl);

  memset(st, 0, sizeof *st);
  st->replicas = (int64_t)n;
  for (i = 0; i < n; i++) {
    const kapi_obj *labels = api->obj_lookup(pods[i], "/metadata/labels");
    int full = 1;
    for (j = 0; j < nl && full; j++) {
      const char *k = api->obj_key(tl, j);
      const char *want = api->obj_get(api->obj_index(tl, j), "");
      const char *have = k ? member_str(labels, k) : NULL;
      full = have && want && !strcmp(have, want);
    }
    st->fully_labeled += full;
    if (pod_is_ready(pods[i])) {
      st->ready++;
      st->available += pod_is_available(pods[i], min_ready, now);
    }
  }
}

/* The ReplicaFailure condition of the status, or NULL. */
static const kapi_obj *failure_condition(const kapi_obj *rs)
{
  const kapi_obj *conds = api->obj_lookup(rs, "/status/conditions");
  size_t i, n = api->obj_len(conds);
  for (i = 0; i < n; i++) {
    const char *t = member_str(api->obj_index(conds, i), "type");
    if (t && !strcmp(t, "ReplicaFailure"))
      return api->obj_index(conds, i);
  }
  return NULL;
}

/*
 * The new status as JSON, or NULL when nothing changed.  manage_err and
 * its message set or clear the ReplicaFailure condition; `diff` (claimed
 * minus wanted) names its reason.
 */
static char *build_status(const kapi_obj *rs, const rs_status *st,
                          int manage_err, const char *msg, int64_t diff,
                          int64_t now)
{
  const kapi_obj *failure = failure_condition(rs);
  const kapi_obj *conds = api->obj_lookup(rs, "/status/conditions");
  int64_t gen = int_at(rs, "/metadata/generation", 0);
  int add_failure = manage_err && !failure, drop_failure = !manage_err && failure;
  size_t i, n = api->obj_len(conds);
  int first = 1;
  buf b = {0};

  if (int_at(rs, "/status/replicas", 0) == st->replicas &&
      int_at(rs, "/status/fullyLabeledReplicas", 0) == st->fully_labeled &&
      int_at(rs, "/status/readyReplicas", 0) == st->ready &&
      int_at(rs, "/status/availableReplicas", 0) == st->available &&
      int_at(rs, "/status/observedGeneration", 0) == gen && !add_failure &&
      !drop_failure)
    return NULL;
  /* Field order and omitempty as apps/v1 ReplicaSetStatus. */
  buf_printf(&b, "{\"replicas\":%lld", (long long)st->replicas);
  if (st->fully_labeled)
    buf_printf(&b, ",\"fullyLabeledReplicas\":%lld",
               (long long)st->fully_labeled);
  if (st->ready)
    buf_printf(&b, ",\"readyReplicas\":%lld", (long long)st->ready);
  if (st->available)
    buf_printf(&b, ",\"availableReplicas\":%lld", (long long)st->available);
  if (gen)
    buf_printf(&b, ",\"observedGeneration\":%lld", (long long)gen);
  if (n - (drop_failure ? 1 : 0) + (add_failure ? 1 : 0) > 0) {
    buf_puts(&b, ",\"conditions\":[");
    for (i = 0; i < n; i++) {
      const kapi_obj *cnd = api->obj_index(conds, i);
      if (drop_failure && cnd == failure)
        continue;
      if (!first)
        buf_puts(&b, ",");
      first = 0;
      buf_obj(&b, cnd);
    }
    if (add_failure) {
      char ts[64];
      format_time(now, ts, sizeof ts);
      if (!first)
        buf_puts(&b, ",");
      buf_puts(&b, "{\"type\":\"ReplicaFailure\",\"status\":\"True\","
                   "\"lastTransitionTime\":");
      buf_json_str(&b, ts);
      buf_printf(&b, ",\"reason\":\"%s\",\"message\":",
                 diff < 0 ? "FailedCreate" : diff > 0 ? "FailedDelete" : "");
      buf_json_str(&b, msg);
      buf_puts(&b, "}");
    }
    buf_puts(&b, "]");
  }
  buf_puts(&b, "}");
  if (b.oom) {
    free(b.s);
    return NULL;
  }
  return b.s;
}

/* PUT .../status, retried once on a fresh copy (statusUpdateRetries). */
static int update_status(const kapi_obj *rs, const char *status)
{
  kapi_obj *fresh = NULL;
  char path[1024], msg[512];
  int i, rc = 0;

  rs_path(path, sizeof path, rs, "status");
  for (i = 0;; i++) {
    buf b = {0};
    buf_obj_with(&b, fresh ? fresh : rs, "status", status);
    if (b.oom) {
      free(b.s);
      rc = -ENOMEM;
      break;
    }
    rc = ctl_request("PUT", path, "application/json", b.s, NULL, msg,
                     sizeof msg, NULL);
    free(b.s);
    if (rc == -ENOENT) {
      /* Deleted meanwhile: the next sync finds it gone. */
      rc = 0;
      break;
    }
    if (rc == 0 || i >= STATUS_UPDATE_RETRIES)
      break;
    if (fresh)
      api->obj_free(fresh);
    fresh = NULL;
    rs_path(path, sizeof path, rs, NULL);
    if (ctl_request("GET", path, NULL, NULL, &fresh, NULL, 0, NULL) < 0)
      break;
    rs_path(path, sizeof path, rs, "status");
  }
  if (rc < 0)
    api->log(self, KAPI_LOG_WARNING, "failed to update status of %s/%s: %s",
             str_at(rs, "/metadata/namespace"), str_at(rs, "/metadata/name"),
             msg);
  if (fresh)
    api->obj_free(fresh);
  return rc;
}

/* ---- syncReplicaSet ---------------------------------------------------------- */

static int sync_rs(void *st, const char *key)
{
  rsc *c = st;
  kapi_ref *ref = NULL, **all = NULL;
  const kapi_obj *rs, *sel, **active = NULL, **claimed = NULL;
  size_t n_all = 0, n_active = 0, i;
  long n_claimed;
  int64_t now = now_ns(), want, min_ready;
  int need_sync, rc, manage_rc = 0;
  char msg[1024] = "", *status;
  rs_status counts;
  const char *ns;

  rc = api->inf_get(c->rs_inf, key, &ref);
  if (rc == -ENOENT) {
    api->log(self, 4, "ReplicaSet %s has been deleted", key);
    exp_delete(&c->exp, key);
    return 0;
  }
  if (rc < 0)
    return rc;
  rs = api->ref_obj(ref);
  ns = str_at(rs, "/metadata/namespace");
  need_sync = exp_satisfied(&c->exp, key, now);
  sel = api->obj_lookup(rs, "/spec/selector");
  if (ctl_selector_matches(sel, NULL) < 0) {
    /* Not retried: only a new spec can fix it. */
    api->log(self, KAPI_LOG_ERROR, "ReplicaSet %s has an invalid selector",
             key);
    api->ref_put(ref);
    return 0;
  }
  if (api->inf_list(c->pod_inf, "namespace", ns, &all, &n_all) < 0) {
    api->ref_put(ref);
    return -EIO;
  }
  active = calloc(n_all ? n_all : 1, sizeof *active);
  claimed = calloc(n_all ? n_all : 1, sizeof *claimed);
  if (!active || !claimed) {
    rc = -ENOMEM;
    goto out;
  }
  for (i = 0; i < n_all; i++)
    if (pod_is_active(api->ref_obj(all[i])))
      active[n_active++] = api->ref_obj(all[i]);
  n_claimed = claim_pods(rs, sel, active, n_active, claimed);
  if (n_claimed < 0) {
    rc = (int)n_claimed;
    goto out;
  }
  if (need_sync && !api->obj_lookup(rs, "/metadata/deletionTimestamp"))
    manage_rc = manage_replicas(c, rs, key, claimed, (size_t)n_claimed, msg,
                                sizeof msg);
  calculate_counts(rs, claimed, (size_t)n_claimed, now, &counts);
  want = int_at(rs, "/spec/replicas", 1);
  status = build_status(rs, &counts, manage_rc < 0, msg,
                        (int64_t)n_claimed - want, now);
  if (status) {
    rc = update_status(rs, status);
    free(status);
    if (rc < 0)
      goto out;
  }
  /* Pods that are ready become available minReadySeconds later. */
  min_ready = int_at(rs, "/spec/minReadySeconds", 0);
  if (manage_rc == 0 && min_ready > 0 && counts.ready == want &&
      counts.available != want)
    api->queue_add_after(c->queue, key, (int)(min_ready * 1000));
  rc = manage_rc;
out:
  free(active);
  free(claimed);
  api->ref_array_put(all, n_all);
  api->ref_put(ref);
  return rc;
}

/* ---- lifecycle ------------------------------------------------------------- */

static int rs_start(void *st, kapi_ctl *ctl, kapi_error *e)
{
  rsc *c = st;

  c->ctl = ctl;
  c->rs_inf = api->ctl_informer(ctl, "apps", "v1", "replicasets");
  c->pod_inf = api->ctl_informer(ctl, "", "v1", "pods");
  c->queue = api->ctl_queue(ctl, "replicaset");
  if (!c->rs_inf || !c->pod_inf || !c->queue) {
    api->error_set(e, 500, "InternalError",
                   "replicaset: cannot get informers or a queue");
    return -ENOMEM;
  }
  exp_init(&c->exp);
  c->started = 1;
  if (api->inf_add_index(c->rs_inf, "namespace") < 0 ||
      api->inf_add_index(c->rs_inf, "controllerUID") < 0 ||
      api->inf_add_index(c->pod_inf, "namespace") < 0 ||
      api->inf_add_handler(c->rs_inf, &rs_handler, c) < 0 ||
      api->inf_add_handler(c->pod_inf, &pod_handler, c) < 0) {
    api->error_set(e, 500, "InternalError",
                   "replicaset: cannot set up the informers");
    return -EIO;
  }
  return api->ctl_run_workers(ctl, c->queue, c->workers, sync_rs, c);
}

static void rs_stop(void *st)
{
  rsc *c = st;
  if (c->started)
    exp_destroy(&c->exp);
  c->started = 0;
}

static const kapi_controller_ops rs_ops = {
    .size = sizeof(kapi_controller_ops),
    .start = rs_start,
    .stop = rs_stop,
};

static int rs_init(kapi_plugin *p, const kapi_host_api *host,
                   const char *config, size_t config_len, kapi_error *e)
{
  static const ctl_plugin_spec spec = {
      .name = "replicaset",
      .who = "replicaset",
      .needs_cache_key = 1,
      .ops = &rs_ops,
      .state = &the_rsc,
      .workers = &the_rsc.workers,
      .default_workers = DEFAULT_WORKERS,
  };
  return ctl_plugin_init(p, host, config, config_len, e, &spec);
}

KAPI_PLUGIN_DEFINE(.name = "replicaset", .version = "1.0.0",
                   .description = "ReplicaSet controller (apps/v1)",
                   .license = "Apache-2.0", .init = rs_init);
