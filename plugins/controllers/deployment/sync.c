/*
 * sync.c - what the Deployment controller does to ReplicaSets: upstream's
 * sync.go (getAllReplicaSetsAndSyncRevision, getNewReplicaSet, scale,
 * cleanupDeployment, the paused/scaling sync), rolling.go
 * (rolloutRolling, reconcileNewReplicaSet, reconcileOldReplicaSets) and
 * recreate.go (rolloutRecreate, oldPodsRunning).  The numbers come from
 * rollout.c; the writes are here.
 *
 * A sync works on private copies of the Deployment and its ReplicaSets
 * (parsed from the cache) and writes them back whole; every write's
 * answer replaces the copy, so the next write carries the fresh
 * resourceVersion.  Conflicts fail the sync, which the queue retries.
 * The Deployment's revision annotation (which upstream writes along
 * with the status, its status strategy keeping metadata) goes through a
 * conditional merge patch, as kapi's /status keeps only .status.
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

#define MAX_REV_HISTORY_CHARS 2000 /* maxRevHistoryLengthInChars */

void dp_sync_bind(const kapi_host_api *host, kapi_plugin *p)
{
  api = host;
  self = p;
}

/* ---- one sync ----------------------------------------------------------- */

void dp_d_path(char *out, size_t len, const kapi_obj *d, const char *sub)
{
  snprintf(out, len, "/apis/apps/v1/namespaces/%s/deployments/%s%s%s",
           str_at(d, "/metadata/namespace"), str_at(d, "/metadata/name"),
           sub ? "/" : "", sub ? sub : "");
}

void dp_rs_path(char *out, size_t len, const char *ns, const char *name)
{
  snprintf(out, len, "/apis/apps/v1/namespaces/%s/replicasets/%s", ns, name);
}

/* Fills the numbers of r from its object. */
static void rs_refresh(dp_rs *r)
{
  const kapi_obj *o = r->obj;
  r->name = str_at(o, "/metadata/name");
  r->created = dp_parse_time(str_at(o, "/metadata/creationTimestamp"));
  r->revision = dp_revision_of(o);
  if (r->revision < 0)
    r->revision = 0;
  r->replicas = r->target = (int32_t)dp_int_at(o, "/spec/replicas", 1);
  r->status_replicas = (int32_t)dp_int_at(o, "/status/replicas", 0);
  r->ready = (int32_t)dp_int_at(o, "/status/readyReplicas", 0);
  r->available = (int32_t)dp_int_at(o, "/status/availableReplicas", 0);
  r->max_ann = dp_int_annotation(o, DP_MAX_ANN);
}

/* Takes `o` (owned) as one more ReplicaSet of the Deployment. */
dp_rs *dp_rs_add(dsync *s, kapi_obj *o)
{
  dp_rs *r;
  if (s->n_rs == s->cap_rs) {
    size_t cap = s->cap_rs ? 2 * s->cap_rs : 8;
    dp_rs **v = realloc(s->rs, cap * sizeof *v);
    if (!v)
      return NULL;
    s->rs = v;
    s->cap_rs = cap;
  }
  if (!(r = calloc(1, sizeof *r)))
    return NULL;
  r->obj = o;
  rs_refresh(r);
  s->rs[s->n_rs++] = r;
  return r;
}

void dp_sync_free(dsync *s)
{
  size_t i;
  for (i = 0; i < s->n_rs; i++) {
    api->obj_free(s->rs[i]->obj);
    free(s->rs[i]);
  }
  free(s->rs);
  free(s->old);
  if (s->d)
    api->obj_free(s->d);
}

/* The Deployment's numbers; the fenceposts resolved as upstream. */
int dp_spec_fill(dsync *s)
{
  const kapi_obj *d = s->d;
  const char *type = str_at(d, "/spec/strategy/type");
  dp_spec *sp = &s->spec;

  memset(sp, 0, sizeof *sp);
  sp->replicas = (int32_t)dp_int_at(d, "/spec/replicas", 1);
  sp->rolling = !streq(type, "Recreate");
  sp->status_replicas = (int32_t)dp_int_at(d, "/status/replicas", 0);
  if (!sp->rolling)
    return 0;
  return dp_fenceposts(
      api->obj_get(d, "/spec/strategy/rollingUpdate/maxSurge"),
      api->obj_get(d, "/spec/strategy/rollingUpdate/maxUnavailable"),
      sp->replicas, &sp->max_surge, &sp->max_unavailable);
}

int64_t dp_deadline_of(const kapi_obj *d)
{
  return dp_int_at(d, "/spec/progressDeadlineSeconds", NO_DEADLINE);
}

/* HasProgressDeadline. */
int dp_has_deadline(const kapi_obj *d)
{
  return dp_deadline_of(d) != NO_DEADLINE &&
         api->obj_lookup(d, "/spec/progressDeadlineSeconds") != NULL;
}

/* The Deployment's status as a mutable object: its copy's member. */
kapi_obj *dp_d_status(dsync *s)
{
  if (api->obj_type(api->obj_lookup(s->d, "/status")) != KAPI_OBJ_OBJECT)
    api->obj_set_json(s->d, "/status", "{}");
  return (kapi_obj *)api->obj_lookup(s->d, "/status");
}

/* ---- writes ------------------------------------------------------------- */

/* Replaces the Deployment copy with a write's answer. */
static void d_replace(dsync *s, kapi_obj *fresh)
{
  if (!fresh)
    return;
  api->obj_free(s->d);
  s->d = fresh;
}

/* PUT .../status with the copy's status. */
int dp_d_update_status(dsync *s)
{
  char path[1024], msg[512];
  kapi_obj *out = NULL;
  char *body;
  int rc;

  dp_d_path(path, sizeof path, s->d, "status");
  if (!(body = api->obj_to_json(s->d)))
    return -ENOMEM;
  rc = ctl_request("PUT", path, "application/json", body, &out, msg, sizeof msg,
                   NULL);
  api->free(body);
  if (rc < 0) {
    api->log(self, 2, "deployment %s: status update failed: %s", s->key, msg);
    return rc;
  }
  d_replace(s, out);
  return 0;
}

/* SetDeploymentRevision, written at once with a merge patch (kapi's
 * /status would drop it).  Returns 1 if it was written. */
static int d_set_revision(dsync *s, int64_t rev)
{
  char path[1024], msg[512], val[32];
  kapi_obj *out = NULL;
  buf b = {0};
  int rc;

  snprintf(val, sizeof val, "%" PRId64, rev);
  if (streq(dp_annotation(s->d, DP_REVISION_ANN), val))
    return 0;
  /* The resourceVersion makes it conditional, like the PUT upstream
   * does: a spec changed meanwhile must not be marked as seen. */
  buf_puts(&b, "{\"metadata\":{\"resourceVersion\":");
  buf_json_str(&b, str_at(s->d, "/metadata/resourceVersion"));
  buf_puts(&b, ",\"annotations\":{");
  buf_json_str(&b, DP_REVISION_ANN);
  buf_puts(&b, ":");
  buf_json_str(&b, val);
  buf_puts(&b, "}}}");
  if (b.oom) {
    free(b.s);
    return -ENOMEM;
  }
  dp_d_path(path, sizeof path, s->d, NULL);
  rc = ctl_request("PATCH", path, "application/merge-patch+json", b.s, &out,
                   msg, sizeof msg, NULL);
  free(b.s);
  if (rc < 0) {
    api->log(self, 2, "deployment %s: revision update failed: %s", s->key, msg);
    return rc;
  }
  if (dp_int_at(out, "/metadata/generation", 0) !=
      dp_int_at(s->d, "/metadata/generation", 0)) {
    /* The spec moved under us after all: start over from the cache. */
    api->obj_free(out);
    return -EAGAIN;
  }
  d_replace(s, out);
  return 1;
}

/* PUT of a ReplicaSet copy; its answer replaces the copy. */
static int rs_write(dsync *s, dp_rs *r)
{
  char path[1024], msg[512];
  kapi_obj *out = NULL;
  char *body;
  int rc;

  dp_rs_path(path, sizeof path, str_at(r->obj, "/metadata/namespace"), r->name);
  if (!(body = api->obj_to_json(r->obj)))
    return -ENOMEM;
  rc = ctl_request("PUT", path, "application/json", body, &out, msg, sizeof msg,
                   NULL);
  api->free(body);
  if (rc < 0) {
    api->log(self, 2, "deployment %s: updating replica set %s failed: %s",
             s->key, r->name, msg);
    return rc;
  }
  api->obj_free(r->obj);
  r->obj = out;
  rs_refresh(r);
  return 0;
}

/* SetReplicasAnnotations on the copy; 1 if something changed. */
static int set_replicas_annotations(dp_rs *r, int32_t desired, int32_t max)
{
  char d[16], m[16];
  int changed = 0;

  snprintf(d, sizeof d, "%" PRId32, desired);
  snprintf(m, sizeof m, "%" PRId32, max);
  if (!streq(dp_annotation(r->obj, DP_DESIRED_ANN), d)) {
    dp_set_annotation(r->obj, DP_DESIRED_ANN, d);
    changed = 1;
  }
  if (!streq(dp_annotation(r->obj, DP_MAX_ANN), m)) {
    dp_set_annotation(r->obj, DP_MAX_ANN, m);
    changed = 1;
  }
  return changed;
}

/*
 * scaleReplicaSet: writes the new size and the replicas annotations if
 * either differs; records ScalingReplicaSet when the size moved.
 */
static int scale_rs(dsync *s, dp_rs *r, int32_t size, const char *op)
{
  int32_t from = r->replicas;
  char desired[16], max[16];
  int need_size = r->replicas != size, need_ann, rc;

  snprintf(desired, sizeof desired, "%" PRId32, s->spec.replicas);
  snprintf(max, sizeof max, "%" PRId32,
           s->spec.replicas + dp_max_surge(&s->spec));
  need_ann = !streq(dp_annotation(r->obj, DP_DESIRED_ANN), desired) ||
             !streq(dp_annotation(r->obj, DP_MAX_ANN), max);
  if (!need_size && !need_ann)
    return 0;
  api->obj_set_int(r->obj, "/spec/replicas", size);
  set_replicas_annotations(r, s->spec.replicas,
                           s->spec.replicas + dp_max_surge(&s->spec));
  if ((rc = rs_write(s, r)) < 0)
    return rc;
  if (need_size)
    api->ctl_event(s->c->ctl, s->d, "Normal", "ScalingReplicaSet",
                   "Scaled %s replica set %s from %" PRId32 " to %" PRId32, op,
                   r->name, from, size);
  return 0;
}

/* scaleReplicaSetAndRecordEvent: 1 if it scaled. */
static int scale_rs_event(dsync *s, dp_rs *r, int32_t size)
{
  int rc;
  if (r->replicas == size)
    return 0;
  rc = scale_rs(s, r, size, r->replicas > size ? "down" : "up");
  return rc < 0 ? rc : 1;
}

/* ---- owner references --------------------------------------------------- */

void dp_buf_controller_ref(buf *b, const kapi_obj *d)
{
  buf_puts(b, "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":");
  buf_json_str(b, str_at(d, "/metadata/name"));
  buf_puts(b, ",\"uid\":");
  buf_json_str(b, str_at(d, "/metadata/uid"));
  buf_puts(b, ",\"controller\":true,\"blockOwnerDeletion\":true}");
}

/* ---- the new ReplicaSet (getNewReplicaSet) ------------------------------ */

/* FindNewReplicaSet and FindOldReplicaSets: the oldest ReplicaSet with
 * the Deployment's template is the new one, the others are old. */
static int classify(dsync *s)
{
  const kapi_obj *tmpl = api->obj_lookup(s->d, "/spec/template");
  dp_rs **sorted;
  size_t i;

  free(s->old);
  s->old = calloc(s->n_rs ? s->n_rs : 1, sizeof *s->old);
  sorted = calloc(s->n_rs ? s->n_rs : 1, sizeof *sorted);
  if (!s->old || !sorted) {
    free(sorted);
    return -ENOMEM;
  }
  memcpy(sorted, s->rs, s->n_rs * sizeof *sorted);
  dp_sort_by_creation(sorted, s->n_rs);
  s->new_rs = NULL;
  s->n_old = 0;
  for (i = 0; i < s->n_rs; i++) {
    if (!s->new_rs &&
        dp_template_equal(api->obj_lookup(sorted[i]->obj, "/spec/template"),
                          tmpl))
      s->new_rs = sorted[i];
    else
      s->old[s->n_old++] = sorted[i];
  }
  free(sorted);
  return 0;
}

static int64_t max_old_revision(const dsync *s)
{
  int64_t max = 0;
  size_t i;
  for (i = 0; i < s->n_old; i++)
    if (s->old[i]->revision > max)
      max = s->old[i]->revision;
  return max;
}

/* copyDeploymentAnnotationsToReplicaSet; 1 if it changed something. */
static int copy_annotations(const kapi_obj *d, kapi_obj *rs)
{
  const kapi_obj *ann = api->obj_lookup(d, "/metadata/annotations");
  size_t i, n = api->obj_len(ann);
  int changed = 0;

  for (i = 0; i < n; i++) {
    const char *k = api->obj_key(ann, i);
    const char *v = api->obj_get(api->obj_index(ann, i), "");
    if (!k || !v || !dp_copyable_annotation(k) ||
        streq(dp_annotation(rs, k), v))
      continue;
    dp_set_annotation(rs, k, v);
    changed = 1;
  }
  return changed;
}

/* SetNewReplicaSetAnnotations; 1 if the ReplicaSet copy changed. */
static int set_new_rs_annotations(dsync *s, kapi_obj *rs, int64_t new_rev,
                                  int exists)
{
  const char *old_txt = dp_annotation(rs, DP_REVISION_ANN);
  int64_t old_rev = dp_revision_of(rs);
  int changed = copy_annotations(s->d, rs);
  char rev[32], hist[MAX_REV_HISTORY_CHARS + 32];

  if (old_rev < 0) /* malformed: upstream leaves the ReplicaSet alone */
    return 0;
  if (old_rev < new_rev) {
    char *old_copy = old_txt ? strdup(old_txt) : NULL;
    snprintf(rev, sizeof rev, "%" PRId64, new_rev);
    /* Rolling back to this template: remember its old revisions. */
    if (old_copy && dp_revision_history(
                        dp_annotation(rs, DP_REVISION_HISTORY_ANN), old_copy,
                        MAX_REV_HISTORY_CHARS, hist, sizeof hist) == 0)
      dp_set_annotation(rs, DP_REVISION_HISTORY_ANN, hist);
    dp_set_annotation(rs, DP_REVISION_ANN, rev);
    free(old_copy);
    changed = 1;
  }
  if (!exists) {
    dp_rs tmp = {.obj = rs};
    changed |= set_replicas_annotations(
        &tmp, s->spec.replicas, s->spec.replicas + dp_max_surge(&s->spec));
  }
  return changed;
}

/* The new ReplicaSet's body: the template with its hash label, an
 * ownerReference to the Deployment, `replicas` replicas. */
static kapi_obj *new_rs_object(dsync *s, const char *hash, int32_t replicas)
{
  const kapi_obj *d = s->d;
  char name[512], ptr[256];
  kapi_obj *rs = NULL;
  kapi_obj *tmpl = dp_copy_obj(api->obj_lookup(d, "/spec/template"));
  kapi_obj *sel = dp_copy_obj(api->obj_lookup(d, "/spec/selector"));
  char *tj = NULL, *sj = NULL, *lj = NULL;
  buf b = {0};

  if (!tmpl || !sel)
    goto out;
  dp_key_ptr(ptr, sizeof ptr, "/metadata/labels", DP_HASH_LABEL);
  api->obj_set_str(tmpl, ptr, hash);
  dp_key_ptr(ptr, sizeof ptr, "/matchLabels", DP_HASH_LABEL);
  api->obj_set_str(sel, ptr, hash);
  tj = api->obj_to_json(tmpl);
  sj = api->obj_to_json(sel);
  lj = api->obj_to_json(api->obj_lookup(tmpl, "/metadata/labels"));
  snprintf(name, sizeof name, "%s-%s", str_at(d, "/metadata/name"), hash);
  buf_puts(&b, "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\","
               "\"metadata\":{\"name\":");
  buf_json_str(&b, name);
  buf_puts(&b, ",\"namespace\":");
  buf_json_str(&b, str_at(d, "/metadata/namespace"));
  buf_printf(&b, ",\"labels\":%s,\"ownerReferences\":[", lj ? lj : "{}");
  dp_buf_controller_ref(&b, d);
  buf_printf(&b,
             "]},\"spec\":{\"replicas\":%" PRId32
             ",\"minReadySeconds\":%" PRId64 ",\"selector\":%s,"
             "\"template\":%s}}",
             replicas, dp_int_at(d, "/spec/minReadySeconds", 0), sj ? sj : "{}",
             tj ? tj : "{}");
  if (!b.oom && tj && sj)
    api->obj_parse(b.s, b.len, &rs, NULL);
out:
  api->free(tj);
  api->free(sj);
  api->free(lj);
  free(b.s);
  if (tmpl)
    api->obj_free(tmpl);
  if (sel)
    api->obj_free(sel);
  return rs;
}

/* Creating the new ReplicaSet met one of that name: ours with the same
 * template is the one we made before the cache saw it (use it); anything
 * else is a hash collision (bump collisionCount, retry later). */
static int create_conflict(dsync *s, const char *ns, const char *name)
{
  char path[1024];
  kapi_obj *live = NULL;
  const kapi_obj *ref;
  int64_t cc;
  int rc;

  dp_rs_path(path, sizeof path, ns, name);
  if ((rc = ctl_request("GET", path, NULL, NULL, &live, NULL, 0, NULL)) < 0)
    return rc;
  ref = dp_controller_ref(live);
  if (ref && streq(member_str(ref, "uid"), str_at(s->d, "/metadata/uid")) &&
      dp_template_equal(api->obj_lookup(live, "/spec/template"),
                        api->obj_lookup(s->d, "/spec/template"))) {
    if (!(s->new_rs = dp_rs_add(s, live))) {
      api->obj_free(live);
      return -ENOMEM;
    }
    return 0;
  }
  api->obj_free(live);
  cc = dp_int_at(s->d, "/status/collisionCount", 0);
  api->obj_set_int(dp_d_status(s), "/collisionCount", cc + 1);
  if ((rc = dp_d_update_status(s)) < 0)
    return rc;
  return -EEXIST;
}

/* getNewReplicaSet for an existing one: its annotations and
 * minReadySeconds first (one write per sync, as upstream), then the
 * Deployment's revision and a Progressing condition if it has none. */
static int sync_existing_new_rs(dsync *s, int64_t new_rev)
{
  dp_rs *r = s->new_rs;
  int64_t min_ready = dp_int_at(s->d, "/spec/minReadySeconds", 0);
  char msg[600];
  int rc;

  if (set_new_rs_annotations(s, r->obj, new_rev, 1) ||
      dp_int_at(r->obj, "/spec/minReadySeconds", 0) != min_ready) {
    api->obj_set_int(r->obj, "/spec/minReadySeconds", min_ready);
    return rs_write(s, r);
  }
  if ((rc = d_set_revision(s, r->revision)) < 0)
    return rc;
  if (!dp_has_deadline(s->d) || dp_cond_get(dp_d_status(s), "Progressing"))
    return 0;
  snprintf(msg, sizeof msg, "Found new replica set \"%s\"", r->name);
  dp_cond_set(dp_d_status(s), "Progressing", "True", DP_FOUND_NEW_RS_REASON,
              msg);
  return dp_d_update_status(s);
}

/* NewRSNewReplicas for a ReplicaSet not made yet: one of size 0 among
 * the old ones.  -ENOMEM, or the size. */
static int64_t initial_size(dsync *s)
{
  dp_rs probe, **all = calloc(s->n_old + 1, sizeof *all);
  int32_t n;

  if (!all)
    return -ENOMEM;
  memset(&probe, 0, sizeof probe);
  memcpy(all, s->old, s->n_old * sizeof *all);
  all[s->n_old] = &probe;
  n = dp_new_rs_new_replicas(&s->spec, all, s->n_old + 1, &probe);
  free(all);
  return n;
}

/* A failed create: Progressing False (ReplicaSetCreateError) and a
 * FailedCreate event, as upstream. */
static void create_failed(dsync *s, const char *name, const char *why)
{
  char msg[1200];

  snprintf(msg, sizeof msg, "Failed to create new replica set \"%s\": %s", name,
           why);
  if (dp_has_deadline(s->d)) {
    dp_cond_set(dp_d_status(s), "Progressing", "False",
                DP_FAILED_RS_CREATE_REASON, msg);
    dp_d_update_status(s);
  }
  api->ctl_event(s->c->ctl, s->d, "Warning", "FailedCreate", "%s", msg);
}

/* POSTs `body` (consumed); the answer becomes s->new_rs. */
static int post_new_rs(dsync *s, kapi_obj *body)
{
  const char *ns = str_at(s->d, "/metadata/namespace");
  char path[512], name[512], msg[600];
  char *json = api->obj_to_json(body);
  kapi_obj *out = NULL;
  int rc;

  snprintf(name, sizeof name, "%s", str_at(body, "/metadata/name"));
  api->obj_free(body);
  if (!json)
    return -ENOMEM;
  snprintf(path, sizeof path, "/apis/apps/v1/namespaces/%s/replicasets", ns);
  rc = ctl_request("POST", path, "application/json", json, &out, msg,
                   sizeof msg, NULL);
  api->free(json);
  if (rc == -EEXIST || rc == -EBUSY)
    return create_conflict(s, ns, name);
  if (rc < 0) {
    create_failed(s, name, msg);
    return rc;
  }
  if (!(s->new_rs = dp_rs_add(s, out))) {
    api->obj_free(out);
    return -ENOMEM;
  }
  return 1; /* created */
}

/*
 * getNewReplicaSet: brings the new ReplicaSet up to date, or creates it
 * when `create` says so, and keeps the Deployment's revision and
 * Progressing condition in step.
 */
static int get_new_rs(dsync *s, int create)
{
  int64_t new_rev = max_old_revision(s) + 1, size;
  kapi_obj *body;
  char msg[600], hash[16];
  int rc;

  if (s->new_rs)
    return sync_existing_new_rs(s, new_rev);
  if (!create)
    return 0;
  dp_template_hash(api->obj_lookup(s->d, "/spec/template"),
                   dp_int_at(s->d, "/status/collisionCount", -1), hash,
                   sizeof hash);
  if ((size = initial_size(s)) < 0)
    return (int)size;
  if (!(body = new_rs_object(s, hash, (int32_t)size)))
    return -ENOMEM;
  set_new_rs_annotations(s, body, new_rev, 0);
  if ((rc = post_new_rs(s, body)) <= 0)
    return rc; /* failed, or ours already (made before the cache knew) */
  if (size > 0)
    api->ctl_event(s->c->ctl, s->d, "Normal", "ScalingReplicaSet",
                   "Scaled up replica set %s from 0 to %" PRId64,
                   s->new_rs->name, size);
  if ((rc = d_set_revision(s, new_rev)) < 0)
    return rc;
  if (!dp_has_deadline(s->d))
    return 0;
  snprintf(msg, sizeof msg, "Created new replica set \"%s\"", s->new_rs->name);
  dp_cond_set(dp_d_status(s), "Progressing", "True", DP_NEW_RS_REASON, msg);
  return dp_d_update_status(s);
}

/* getAllReplicaSetsAndSyncRevision. */
int dp_get_all(dsync *s, int create)
{
  int rc = classify(s);
  return rc < 0 ? rc : get_new_rs(s, create);
}

/* The new and old ReplicaSets in one array (allRSs); caller frees. */
dp_rs **dp_all_rs(const dsync *s, size_t *n)
{
  dp_rs **v = calloc(s->n_old + 1, sizeof *v);
  if (!v)
    return NULL;
  memcpy(v, s->old, s->n_old * sizeof *v);
  *n = s->n_old;
  if (s->new_rs)
    v[(*n)++] = s->new_rs;
  return v;
}

/* ---- cleanup (cleanupDeployment) ---------------------------------------- */

int dp_cleanup(dsync *s)
{
  int64_t limit = dp_int_at(s->d, "/spec/revisionHistoryLimit", -1);
  dp_rs **v;
  size_t i, n = 0;
  int64_t diff;

  if (limit < 0 || !api->obj_lookup(s->d, "/spec/revisionHistoryLimit"))
    return 0;
  if (!(v = calloc(s->n_old ? s->n_old : 1, sizeof *v)))
    return -ENOMEM;
  for (i = 0; i < s->n_old; i++)
    if (!api->obj_lookup(s->old[i]->obj, "/metadata/deletionTimestamp"))
      v[n++] = s->old[i];
  diff = (int64_t)n - limit;
  dp_sort_by_revision(v, n);
  for (i = 0; diff > 0 && i < (size_t)diff; i++) {
    const kapi_obj *o = v[i]->obj;
    char path[1024];
    int rc;
    /* Only ReplicaSets that are empty and settled go. */
    if (v[i]->status_replicas != 0 || v[i]->replicas != 0 ||
        dp_int_at(o, "/metadata/generation", 0) >
            dp_int_at(o, "/status/observedGeneration", 0))
      continue;
    dp_rs_path(path, sizeof path, str_at(o, "/metadata/namespace"), v[i]->name);
    api->log(self, 4, "deployment %s: trying to clean up replica set %s",
             s->key, v[i]->name);
    rc = ctl_request("DELETE", path, NULL, NULL, NULL, NULL, 0, NULL);
    if (rc < 0 && rc != -ENOENT) {
      free(v);
      return rc;
    }
  }
  free(v);
  return 0;
}

/* ---- sync (scaling and paused), rolling, recreate ----------------------- */

/* The active ReplicaSets among old and new (FilterActiveReplicaSets). */
static dp_rs **active_rs(const dsync *s, size_t *n)
{
  dp_rs **v = dp_all_rs(s, n), **w;
  size_t i, k = 0;
  if (!v)
    return NULL;
  for (i = 0, w = v; i < *n; i++)
    if (v[i]->target > 0)
      w[k++] = v[i];
  *n = k;
  return v;
}

/* scale(): a scaling event, or a paused Deployment. */
static int scale(dsync *s)
{
  dp_rs *r, **v;
  size_t i, n;
  int rc = 0;

  if ((r = dp_active_or_latest(s->new_rs, s->old, s->n_old))) {
    if (r->replicas == s->spec.replicas)
      return 0;
    rc = scale_rs_event(s, r, s->spec.replicas);
    return rc < 0 ? rc : 0;
  }
  if (dp_is_saturated(
          &s->spec, s->new_rs,
          s->new_rs ? dp_int_annotation(s->new_rs->obj, DP_DESIRED_ANN) : -1)) {
    for (i = 0; i < s->n_old && rc >= 0; i++)
      if (s->old[i]->replicas > 0)
        rc = scale_rs_event(s, s->old[i], 0);
    return rc < 0 ? rc : 0;
  }
  if (!s->spec.rolling)
    return 0;
  if (!(v = active_rs(s, &n)))
    return -ENOMEM;
  {
    int32_t before = dp_sum_replicas(v, n);
    const char *op;
    dp_scale_proportionally(&s->spec, v, n);
    op = dp_sum_replicas(v, n) > before ? "up" : "down";
    for (i = 0; i < n && rc >= 0; i++)
      rc = scale_rs(s, v[i], v[i]->target, op);
  }
  free(v);
  return rc < 0 ? rc : 0;
}

int dp_sync_scale(dsync *s)
{
  int rc;
  if ((rc = dp_get_all(s, 0)) < 0 || (rc = scale(s)) < 0)
    return rc;
  if (member_true(api->obj_lookup(s->d, "/spec"), "paused") &&
      (rc = dp_cleanup(s)) < 0)
    return rc;
  return dp_sync_status(s);
}

/* isScalingEvent: an active ReplicaSet made for another size. */
int dp_is_scaling_event(dsync *s)
{
  size_t i, n;
  dp_rs **v;
  int rc, yes = 0;

  if ((rc = dp_get_all(s, 0)) < 0)
    return rc;
  if (!(v = active_rs(s, &n)))
    return -ENOMEM;
  for (i = 0; i < n && !yes; i++) {
    int32_t desired = dp_int_annotation(v[i]->obj, DP_DESIRED_ANN);
    yes = desired >= 0 && desired != s->spec.replicas;
  }
  free(v);
  return yes;
}

/* Writes the ReplicaSets whose target moved; 1 if any did. */
static int apply_targets(dsync *s, dp_rs **v, size_t n)
{
  size_t i;
  int any = 0, rc;
  for (i = 0; i < n; i++) {
    if (v[i]->target == v[i]->replicas)
      continue;
    rc = scale_rs_event(s, v[i], v[i]->target);
    if (rc < 0)
      return rc;
    any |= rc;
  }
  return any;
}

int dp_rollout_rolling(dsync *s)
{
  dp_rs **all;
  size_t n;
  int32_t want;
  int rc;

  if ((rc = dp_get_all(s, 1)) < 0)
    return rc;
  if (!s->new_rs) /* cannot happen: created, or an error above */
    return -EAGAIN;
  if (!(all = dp_all_rs(s, &n)))
    return -ENOMEM;
  /* reconcileNewReplicaSet */
  if (s->new_rs->replicas != s->spec.replicas) {
    want = s->new_rs->replicas > s->spec.replicas
               ? s->spec.replicas
               : dp_new_rs_new_replicas(&s->spec, all, n, s->new_rs);
    rc = scale_rs_event(s, s->new_rs, want);
    if (rc != 0) {
      free(all);
      return rc < 0 ? rc : dp_sync_rollout_status(s);
    }
  }
  free(all);
  /* reconcileOldReplicaSets */
  if (dp_reconcile_old(&s->spec, s->old, s->n_old, s->new_rs) > 0) {
    if ((rc = apply_targets(s, s->old, s->n_old)) < 0)
      return rc;
    return dp_sync_rollout_status(s);
  }
  if (dp_complete_now(s) && (rc = dp_cleanup(s)) < 0)
    return rc;
  return dp_sync_rollout_status(s);
}

/* oldPodsRunning: an old ReplicaSet still counts pods, or one of its
 * pods has not reached a terminal phase. */
static int old_pods_running(dsync *s)
{
  size_t i, j;

  for (i = 0; i < s->n_old; i++)
    if (s->old[i]->status_replicas > 0)
      return 1;
  for (i = 0; i < s->n_old; i++) {
    kapi_ref **v = NULL;
    size_t n = 0;
    int running = 0;
    if (api->inf_list(s->c->pod_inf, "controllerUID",
                      str_at(s->old[i]->obj, "/metadata/uid"), &v, &n) < 0)
      continue;
    for (j = 0; j < n && !running; j++) {
      const char *phase = str_at(api->ref_obj(v[j]), "/status/phase");
      running = !streq(phase, "Failed") && !streq(phase, "Succeeded");
    }
    api->ref_array_put(v, n);
    if (running)
      return 1;
  }
  return 0;
}

int dp_rollout_recreate(dsync *s)
{
  size_t i;
  int rc, down = 0;

  if ((rc = dp_get_all(s, 0)) < 0)
    return rc;
  /* scaleDownOldReplicaSetsForRecreate */
  for (i = 0; i < s->n_old; i++) {
    if (s->old[i]->replicas == 0)
      continue;
    if ((rc = scale_rs_event(s, s->old[i], 0)) < 0)
      return rc;
    down |= rc;
  }
  if (down || old_pods_running(s))
    return dp_sync_rollout_status(s);
  if (!s->new_rs && (rc = dp_get_all(s, 1)) < 0)
    return rc;
  if (!s->new_rs)
    return -EAGAIN;
  if ((rc = scale_rs_event(s, s->new_rs, s->spec.replicas)) < 0)
    return rc;
  if (dp_complete_now(s) && (rc = dp_cleanup(s)) < 0)
    return rc;
  return dp_sync_rollout_status(s);
}
