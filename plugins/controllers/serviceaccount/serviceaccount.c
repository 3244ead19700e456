/*
 * serviceaccount.c - the service accounts controller as a kapi controller
 * plugin for kapi-controller-manager (--controllers name "serviceaccount",
 * upstream's "serviceaccount-controller").
 *
 * Mirrors upstream's pkg/controller/serviceaccount/serviceaccounts_
 * controller.go: every active namespace has a ServiceAccount "default".
 * A namespace is looked at when it is added or updated (a resync counts)
 * and when a service account in it is deleted; a namespace that is not
 * Active (being terminated) is left alone, and a create refused because
 * the namespace is terminating is not an error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kapi/plugin.h"
#include "../common/ctl_util.h"

/* Upstream runs one worker for this controller. */
#define DEFAULT_WORKERS 1

/* DefaultServiceAccountsControllerOptions: the accounts to ensure. */
static const char *const accounts_to_ensure[] = {"default"};
#define N_ACCOUNTS (sizeof accounts_to_ensure / sizeof *accounts_to_ensure)

typedef struct sac {
  kapi_ctl *ctl;
  kapi_inf *ns_inf, *sa_inf;
  kapi_queue *queue;
  int workers;
} sac;

static sac the_sac;

/* Does the informer hold ns/name? */
static int cached(kapi_inf *inf, const char *ns, const char *name)
{
  char key[512];
  kapi_ref *r = NULL;

  snprintf(key, sizeof key, "%s/%s", ns, name);
  if (api->inf_get(inf, key, &r) < 0)
    return 0;
  api->ref_put(r);
  return 1;
}

/* POST the service account; 0 when created, already there, or refused
 * because the namespace is going away. */
static int create_account(const char *ns, const char *name)
{
  char path[512], msg[512];
  buf body = {0};
  int terminating = 0, rc;

  snprintf(path, sizeof path, "/api/v1/namespaces/%s/serviceaccounts", ns);
  buf_puts(&body, "{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\","
                  "\"metadata\":{\"name\":");
  buf_json_str(&body, name);
  buf_puts(&body, ",\"namespace\":");
  buf_json_str(&body, ns);
  buf_puts(&body, "}}");
  if (body.oom) {
    free(body.s);
    return -ENOMEM;
  }
  rc = ctl_request("POST", path, "application/json", body.s, NULL, msg,
                   sizeof msg, &terminating);
  free(body.s);
  if (rc == 0)
    api->log(self, 2, "created service account %s/%s", ns, name);
  if (rc == -EEXIST || (rc < 0 && terminating))
    return 0;
  if (rc < 0)
    api->log(self, KAPI_LOG_WARNING, "creating service account %s/%s: %s",
             ns, name, msg);
  return rc;
}

/* syncNamespace: the key is the namespace's name. */
static int sync_namespace(void *st, const char *key)
{
  sac *c = st;
  kapi_ref *r = NULL;
  const char *phase;
  size_t i;
  int rc = api->inf_get(c->ns_inf, key, &r), failed = 0;

  if (rc == -ENOENT)
    return 0;
  if (rc < 0)
    return rc;
  phase = str_at(api->ref_obj(r), "/status/phase");
  /* Only Active namespaces: nothing is created in one being deleted.  A
   * namespace not yet given a phase is Active (the server defaults it). */
  if (phase && strcmp(phase, "Active")) {
    api->ref_put(r);
    return 0;
  }
  api->ref_put(r);
  for (i = 0; i < N_ACCOUNTS; i++)
    if (!cached(c->sa_inf, key, accounts_to_ensure[i]) &&
        create_account(key, accounts_to_ensure[i]) < 0)
      failed = 1;
  return failed ? -EIO : 0;
}

/* ---- event handlers ----------------------------------------------------------- */

static void enqueue_name(sac *c, const kapi_obj *ns)
{
  const char *name = str_at(ns, "/metadata/name");
  if (name)
    api->queue_add(c->queue, name);
}

static void ns_added(void *arg, const kapi_obj *ns) { enqueue_name(arg, ns); }

static void ns_updated(void *arg, const kapi_obj *old, const kapi_obj *ns)
{
  (void)old;
  enqueue_name(arg, ns);
}

static void sa_deleted(void *arg, const kapi_obj *sa)
{
  sac *c = arg;
  const char *ns = str_at(sa, "/metadata/namespace");
  if (ns)
    api->queue_add(c->queue, ns);
}

static const kapi_inf_handler ns_handler = {
    .size = sizeof(kapi_inf_handler),
    .on_add = ns_added,
    .on_update = ns_updated,
};

static const kapi_inf_handler sa_handler = {
    .size = sizeof(kapi_inf_handler),
    .on_delete = sa_deleted,
};

/* ---- lifecycle --------------------------------------------------------------------- */

static int sac_start(void *st, kapi_ctl *ctl, kapi_error *e)
{
  sac *c = st;

  c->ctl = ctl;
  c->ns_inf = api->ctl_informer(ctl, "", "v1", "namespaces");
  c->sa_inf = api->ctl_informer(ctl, "", "v1", "serviceaccounts");
  c->queue = api->ctl_queue(ctl, "serviceaccount");
  if (!c->ns_inf || !c->sa_inf || !c->queue ||
      api->inf_add_handler(c->ns_inf, &ns_handler, c) < 0 ||
      api->inf_add_handler(c->sa_inf, &sa_handler, c) < 0) {
    api->error_set(e, 500, "InternalError",
                   "serviceaccount: cannot watch namespaces and service "
                   "accounts");
    return -EIO;
  }
  return api->ctl_run_workers(ctl, c->queue, c->workers, sync_namespace, c);
}

static const kapi_controller_ops sac_ops = {
    .size = sizeof(kapi_controller_ops),
    .start = sac_start,
};

static int sac_init(kapi_plugin *p, const kapi_host_api *host,
                    const char *config, size_t config_len, kapi_error *e)
{
  static const ctl_plugin_spec spec = {
      .name = "serviceaccount",
      .who = "serviceaccount controller",
      .needs_cache_key = 0,
      .ops = &sac_ops,
      .state = &the_sac,
      .workers = &the_sac.workers,
      .default_workers = DEFAULT_WORKERS,
  };
  return ctl_plugin_init(p, host, config, config_len, e, &spec);
}

KAPI_PLUGIN_DEFINE(.name = "serviceaccount-controller", .version = "1.0.0",
                   .description = "service accounts controller (a default "
                                  "ServiceAccount in every namespace)",
                   .license = "Apache-2.0", .init = sac_init);
