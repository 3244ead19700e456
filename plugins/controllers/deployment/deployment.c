/*
 * deployment.c - the Deployment controller (apps/v1) as a kapi controller
 * plugin for kapi-controller-manager: informers, event handlers, the
 * work queue, syncDeployment and the claiming of ReplicaSets.
 *
 * Mirrors upstream's pkg/controller/deployment/deployment_controller.go
 * (the handlers, syncDeployment, getReplicaSetsForDeployment) and
 * controller_ref_manager.go (ClaimReplicaSets: adoption and release, by
 * JSON patches whose "test" operations guard uid and owner references).
 * The rollouts are in sync.c, the status in progress.c, the arithmetic in
 * rollout.c (see dp.h).  Reads go through the informers, writes through
 * api->api_request.
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

#define DEFAULT_WORKERS 5 /* --concurrent-deployment-syncs */

static dpc the_dpc;

/* ---- label selectors (metav1.LabelSelectorAsSelector) ------------------- */

static int selector_is_empty(const kapi_obj *sel)
{
  return api->obj_len(member(sel, "matchLabels")) == 0 &&
         api->obj_len(member(sel, "matchExpressions")) == 0;
}

/* ---- claiming ReplicaSets (ClaimReplicaSets) ---------------------------- */

/* RecheckDeletionTimestamp: a live read, same uid, not being deleted. */
static int can_adopt(const kapi_obj *d)
{
  char path[1024];
  kapi_obj *fresh = NULL;
  int rc;

  dp_d_path(path, sizeof path, d, NULL);
  if ((rc = ctl_request("GET", path, NULL, NULL, &fresh, NULL, 0, NULL)) < 0)
    return rc;
  if (!streq(str_at(fresh, "/metadata/uid"), str_at(d, "/metadata/uid")) ||
      api->obj_lookup(fresh, "/metadata/deletionTimestamp"))
    rc = -ENOENT;
  api->obj_free(fresh);
  return rc;
}

/* A JSON patch on a ReplicaSet guarded by its uid; *ret gets the answer. */
static int rs_patch(const kapi_obj *rs, const char *ops, kapi_obj **ret)
{
  char path[1024];
  buf b = {0};
  int rc;

  buf_puts(&b, "[{\"op\":\"test\",\"path\":\"/metadata/uid\",\"value\":");
  buf_json_str(&b, str_at(rs, "/metadata/uid"));
  buf_puts(&b, "},");
  buf_puts(&b, ops);
  buf_puts(&b, "]");
  if (b.oom) {
    free(b.s);
    return -ENOMEM;
  }
  dp_rs_path(path, sizeof path, str_at(rs, "/metadata/namespace"),
             str_at(rs, "/metadata/name"));
  rc = ctl_request("PATCH", path, "application/json-patch+json", b.s, ret, NULL,
                   0, NULL);
  free(b.s);
  return rc;
}

static int adopt_rs(const kapi_obj *d, const kapi_obj *rs, kapi_obj **ret)
{
  const kapi_obj *refs = api->obj_lookup(rs, "/metadata/ownerReferences");
  char *j = NULL;
  buf b = {0};
  int rc;

  if (api->obj_type(refs) == KAPI_OBJ_ARRAY) {
    j = api->obj_to_json(refs);
    buf_puts(&b, "{\"op\":\"test\",\"path\":\"/metadata/ownerReferences\","
                 "\"value\":");
    buf_puts(&b, j ? j : "[]");
    buf_puts(&b, "},{\"op\":\"add\",\"path\":\"/metadata/ownerReferences/-\","
                 "\"value\":");
    dp_buf_controller_ref(&b, d);
    buf_puts(&b, "}");
    api->free(j);
  } else {
    buf_puts(&b, "{\"op\":\"add\",\"path\":\"/metadata/ownerReferences\","
                 "\"value\":[");
    dp_buf_controller_ref(&b, d);
    buf_puts(&b, "]}");
  }
  rc = b.oom ? -ENOMEM : rs_patch(rs, b.s, ret);
  free(b.s);
  return rc;
}

static int release_rs(const kapi_obj *d, const kapi_obj *rs)
{
  const kapi_obj *refs = api->obj_lookup(rs, "/metadata/ownerReferences");
  const char *uid = str_at(d, "/metadata/uid");
  size_t i, n = api->obj_len(refs);
  char ops[512];
  int rc;

  for (i = 0; i < n; i++)
    if (streq(member_str(api->obj_index(refs, i), "uid"), uid))
      break;
  if (i == n)
    return 0;
  /* The last reference takes the list with it, as omitempty would. */
  if (n == 1)
    snprintf(ops, sizeof ops,
             "{\"op\":\"test\",\"path\":\"/metadata/ownerReferences/0/uid\","
             "\"value\":\"%s\"},{\"op\":\"remove\",\"path\":"
             "\"/metadata/ownerReferences\"}",
             uid);
  else
    snprintf(ops, sizeof ops,
             "{\"op\":\"test\",\"path\":\"/metadata/ownerReferences/%zu/uid\","
             "\"value\":\"%s\"},{\"op\":\"remove\",\"path\":"
             "\"/metadata/ownerReferences/%zu\"}",
             i, uid, i);
  rc = rs_patch(rs, ops, NULL);
  /* Gone, or changed under us: not ours any more either way. */
  return rc == -ENOENT || rc == -EINVAL ? 0 : rc;
}

/*
 * getReplicaSetsForDeployment: the ReplicaSets of the namespace this
 * Deployment controls and that its selector matches, after adopting
 * matching orphans and releasing those that stopped matching.
 */
static int claim_replicasets(dsync *s)
{
  const kapi_obj *d = s->d, *sel = api->obj_lookup(d, "/spec/selector");
  const char *uid = str_at(d, "/metadata/uid");
  int deleting = api->obj_lookup(d, "/metadata/deletionTimestamp") != NULL;
  int checked = 0, adopt_rc = 0, err = 0, rc;
  kapi_ref **v = NULL;
  size_t i, n = 0;

  if ((rc = api->inf_list(s->c->rs_inf, "namespace",
                          str_at(d, "/metadata/namespace"), &v, &n)) < 0)
    return rc;
  for (i = 0; i < n && !err; i++) {
    const kapi_obj *rs = api->ref_obj(v[i]);
    const kapi_obj *ref = dp_controller_ref(rs);
    int match =
        ctl_selector_matches(sel, api->obj_lookup(rs, "/metadata/labels"));
    kapi_obj *mine = NULL;

    if (ref) {
      if (!streq(member_str(ref, "uid"), uid))
        continue;
      if (match == 1) {
        if (!(mine = dp_copy_obj(rs)) || !dp_rs_add(s, mine)) {
          if (mine)
            api->obj_free(mine);
          err = -ENOMEM;
        }
      } else if (!deleting && (rc = release_rs(d, rs)) < 0) {
        err = rc;
      }
      continue;
    }
    if (deleting || match != 1 ||
        api->obj_lookup(rs, "/metadata/deletionTimestamp"))
      continue;
    if (!checked) {
      adopt_rc = can_adopt(d);
      checked = 1;
    }
    if (adopt_rc < 0) {
      err = adopt_rc;
      continue;
    }
    rc = adopt_rs(d, rs, &mine);
    if (rc == -ENOENT)
      continue;
    if (rc < 0) {
      err = rc;
    } else if (!dp_rs_add(s, mine)) {
      api->obj_free(mine);
      err = -ENOMEM;
    }
  }
  api->ref_array_put(v, n);
  return err;
}

/* ---- syncDeployment ----------------------------------------------------- */

static int sync_deployment(void *st, const char *key)
{
  dpc *c = st;
  dsync s = {.c = c, .key = key};
  kapi_ref *ref = NULL;
  const kapi_obj *sel;
  int rc;

  rc = api->inf_get(c->d_inf, key, &ref);
  if (rc == -ENOENT) {
    api->log(self, 4, "deployment %s has been deleted", key);
    return 0;
  }
  if (rc < 0)
    return rc;
  s.d = dp_copy_obj(api->ref_obj(ref));
  api->ref_put(ref);
  if (!s.d)
    return -ENOMEM;
  if (dp_spec_fill(&s) < 0) {
    /* Not retried: only a new spec helps. */
    api->log(self, KAPI_LOG_ERROR,
             "deployment %s: bad rolling update parameters", key);
    goto out;
  }
  sel = api->obj_lookup(s.d, "/spec/selector");
  if (selector_is_empty(sel)) {
    api->ctl_event(c->ctl, s.d, "Warning", "SelectingAll",
                   "This deployment is selecting all pods. A non-empty "
                   "selector is required.");
    if (dp_int_at(s.d, "/status/observedGeneration", 0) <
        dp_int_at(s.d, "/metadata/generation", 0)) {
      api->obj_set_int(dp_d_status(&s), "/observedGeneration",
                       dp_int_at(s.d, "/metadata/generation", 0));
      rc = dp_d_update_status(&s);
    }
    goto out;
  }
  if (ctl_selector_matches(sel, NULL) < 0) {
    /* Validation refuses these; not retried, only a new spec helps. */
    api->log(self, KAPI_LOG_ERROR, "deployment %s has an invalid selector",
             key);
    goto out;
  }
  if ((rc = claim_replicasets(&s)) < 0)
    goto out;
  if (api->obj_lookup(s.d, "/metadata/deletionTimestamp")) {
    /* syncStatusOnly */
    if ((rc = dp_get_all(&s, 0)) >= 0)
      rc = dp_sync_status(&s);
    goto out;
  }
  if ((rc = dp_check_paused(&s)) < 0)
    goto out;
  if (member_true(api->obj_lookup(s.d, "/spec"), "paused")) {
    rc = dp_sync_scale(&s);
    goto out;
  }
  if ((rc = dp_is_scaling_event(&s)) < 0)
    goto out;
  if (rc > 0) {
    rc = dp_sync_scale(&s);
    goto out;
  }
  rc = s.spec.rolling ? dp_rollout_rolling(&s) : dp_rollout_recreate(&s);
out:
  if (rc < 0)
    api->log(self, 2, "error syncing deployment %s: %s", key, strerror(-rc));
  dp_sync_free(&s);
  return rc < 0 ? rc : 0;
}

/* ---- event handlers ----------------------------------------------------- */

static void enqueue(dpc *c, const kapi_obj *d)
{
  char *key = api->obj_cache_key(d);
  if (key)
    api->queue_add(c->queue, key);
  api->free(key);
}

/* resolveControllerRef: the cached Deployment a controller reference
 * names (same uid), or NULL; put it after use. */
static kapi_ref *resolve_ref(dpc *c, const char *ns, const kapi_obj *ref)
{
  char key[512];
  kapi_ref *r = NULL;

  if (!ref || !ns || !streq(member_str(ref, "kind"), "Deployment") ||
      !streq(member_str(ref, "apiVersion"), "apps/v1") ||
      !member_str(ref, "name"))
    return NULL;
  snprintf(key, sizeof key, "%s/%s", ns, member_str(ref, "name"));
  if (api->inf_get(c->d_inf, key, &r) < 0)
    return NULL;
  if (!streq(str_at(api->ref_obj(r), "/metadata/uid"),
             member_str(ref, "uid"))) {
    api->ref_put(r);
    return NULL;
  }
  return r;
}

static void enqueue_owner(dpc *c, const kapi_obj *rs, const kapi_obj *ref)
{
  kapi_ref *r = resolve_ref(c, str_at(rs, "/metadata/namespace"), ref);
  if (r) {
    enqueue(c, api->ref_obj(r));
    api->ref_put(r);
  }
}

/* getDeploymentsForReplicaSet: an orphan may be adopted by any
 * Deployment whose selector takes it. */
static void enqueue_matching(dpc *c, const kapi_obj *rs)
{
  const kapi_obj *labels = api->obj_lookup(rs, "/metadata/labels");
  kapi_ref **v = NULL;
  size_t i, n = 0;

  if (api->obj_len(labels) == 0 ||
      api->inf_list(c->d_inf, "namespace", str_at(rs, "/metadata/namespace"),
                    &v, &n) < 0)
    return;
  for (i = 0; i < n; i++) {
    const kapi_obj *sel = api->obj_lookup(api->ref_obj(v[i]), "/spec/selector");
    if (!selector_is_empty(sel) && ctl_selector_matches(sel, labels) == 1)
      enqueue(c, api->ref_obj(v[i]));
  }
  api->ref_array_put(v, n);
}

static void on_d_add(void *arg, const kapi_obj *d)
{
  enqueue(arg, d);
}

static void on_d_update(void *arg, const kapi_obj *old, const kapi_obj *cur)
{
  (void)old;
  enqueue(arg, cur);
}

static void on_d_delete(void *arg, const kapi_obj *d)
{
  enqueue(arg, d);
}

static void on_rs_delete(void *arg, const kapi_obj *rs)
{
  const kapi_obj *ref = dp_controller_ref(rs);
  if (ref)
    enqueue_owner(arg, rs, ref);
}

static void on_rs_add(void *arg, const kapi_obj *rs)
{
  const kapi_obj *ref;
  if (api->obj_lookup(rs, "/metadata/deletionTimestamp")) {
    on_rs_delete(arg, rs);
    return;
  }
  if ((ref = dp_controller_ref(rs)))
    enqueue_owner(arg, rs, ref);
  else
    enqueue_matching(arg, rs);
}

static void on_rs_update(void *arg, const kapi_obj *old, const kapi_obj *cur)
{
  const kapi_obj *oref = dp_controller_ref(old), *cref = dp_controller_ref(cur);
  int ref_changed = !dp_json_equal(oref, cref);

  if (streq(str_at(old, "/metadata/resourceVersion"),
            str_at(cur, "/metadata/resourceVersion")))
    return; /* a resync */
  if (ref_changed && oref)
    enqueue_owner(arg, old, oref);
  if (cref) {
    enqueue_owner(arg, cur, cref);
    return;
  }
  if (ref_changed || !dp_json_equal(api->obj_lookup(old, "/metadata/labels"),
                                    api->obj_lookup(cur, "/metadata/labels")))
    enqueue_matching(arg, cur);
}

/* deletePod: a Recreate rollout waits for the old pods to be gone. */
static void on_pod_delete(void *arg, const kapi_obj *pod)
{
  dpc *c = arg;
  const kapi_obj *ref = dp_controller_ref(pod), *dref;
  const char *ns = str_at(pod, "/metadata/namespace");
  kapi_ref *r = NULL, *d;
  char key[512];

  if (!ref || !ns || !streq(member_str(ref, "kind"), "ReplicaSet") ||
      !member_str(ref, "name"))
    return;
  snprintf(key, sizeof key, "%s/%s", ns, member_str(ref, "name"));
  if (api->inf_get(c->rs_inf, key, &r) < 0)
    return;
  dref = dp_controller_ref(api->ref_obj(r));
  if ((d = resolve_ref(c, ns, dref))) {
    if (streq(str_at(api->ref_obj(d), "/spec/strategy/type"), "Recreate"))
      enqueue(c, api->ref_obj(d));
    api->ref_put(d);
  }
  api->ref_put(r);
}

static const kapi_inf_handler d_handler = {
    .size = sizeof(kapi_inf_handler),
    .on_add = on_d_add,
    .on_update = on_d_update,
    .on_delete = on_d_delete,
};

static const kapi_inf_handler rs_handler = {
    .size = sizeof(kapi_inf_handler),
    .on_add = on_rs_add,
    .on_update = on_rs_update,
    .on_delete = on_rs_delete,
};

static const kapi_inf_handler pod_handler = {
    .size = sizeof(kapi_inf_handler),
    .on_delete = on_pod_delete,
};

/* ---- lifecycle ---------------------------------------------------------- */

static int dp_start(void *st, kapi_ctl *ctl, kapi_error *e)
{
  dpc *c = st;

  c->ctl = ctl;
  c->d_inf = api->ctl_informer(ctl, "apps", "v1", "deployments");
  c->rs_inf = api->ctl_informer(ctl, "apps", "v1", "replicasets");
  c->pod_inf = api->ctl_informer(ctl, "", "v1", "pods");
  c->queue = api->ctl_queue(ctl, "deployment");
  if (!c->d_inf || !c->rs_inf || !c->pod_inf || !c->queue) {
    api->error_set(e, 500, "InternalError",
                   "deployment: cannot get informers or a queue");
    return -ENOMEM;
  }
  if (api->inf_add_index(c->d_inf, "namespace") < 0 ||
      api->inf_add_index(c->rs_inf, "namespace") < 0 ||
      api->inf_add_index(c->pod_inf, "controllerUID") < 0 ||
      api->inf_add_handler(c->d_inf, &d_handler, c) < 0 ||
      api->inf_add_handler(c->rs_inf, &rs_handler, c) < 0 ||
      api->inf_add_handler(c->pod_inf, &pod_handler, c) < 0) {
    api->error_set(e, 500, "InternalError",
                   "deployment: cannot set up the informers");
    return -EIO;
  }
  return api->ctl_run_workers(ctl, c->queue, c->workers, sync_deployment, c);
}

static void dp_stop(void *st)
{
  (void)st;
}

static const kapi_controller_ops dp_ops = {
    .size = sizeof(kapi_controller_ops),
    .start = dp_start,
    .stop = dp_stop,
};

static int dp_init(kapi_plugin *p, const kapi_host_api *host,
                   const char *config, size_t config_len, kapi_error *e)
{
  static const ctl_plugin_spec spec = {
      .name = "deployment",
      .who = "deployment",
      .needs_cache_key = 1,
      .ops = &dp_ops,
      .state = &the_dpc,
      .workers = &the_dpc.workers,
      .default_workers = DEFAULT_WORKERS,
  };
  /* obj_parse makes the private copies every sync works on. */
  if (!KAPI_API_HAS(host, obj_parse)) {
    host->error_set(e, 500, "InternalError",
                    "deployment needs a host API of ABI 1.2 (obj_parse)");
    return -ENOTSUP;
  }
  dp_rs_util_bind(host, p);
  dp_sync_bind(host, p);
  dp_progress_bind(host, p);
  return ctl_plugin_init(p, host, config, config_len, e, &spec);
}

KAPI_PLUGIN_DEFINE(.name = "deployment", .version = "1.0.0",
                   .description = "Deployment controller (apps/v1)",
                   .license = "Apache-2.0", .init = dp_init);
