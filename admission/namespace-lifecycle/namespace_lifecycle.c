/*
 * namespace_lifecycle.c - the NamespaceLifecycle admission plugin.
 *
 * Upstream: staging/src/k8s.io/apiserver/pkg/admission/plugin/namespace/
 * lifecycle/admission.go.  New objects may only be created in a
 * namespace that exists and is not being terminated, so that the
 * namespace controller, once it has emptied a namespace, is not raced by
 * fresh content.  Updates and deletes always pass; the system
 * namespaces' own protection lives in the namespace resource plugin.
 *
 * kapi reads the namespace straight from the store, so upstream's cache
 * re-checks (the 50 ms wait, the forced live lookup) have no equivalent.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kapi/plugin.h"

static const kapi_host_api *api;

static int nonempty(const char *s)
{
  return s && *s;
}

/* Access reviews answer about permissions, not content: rejecting them
 * would tell the caller which namespaces exist. */
static int is_access_review(const kapi_req *r)
{
  const char *group = api->req_get(r, "apiGroup");
  const char *resource = api->req_get(r, "resource");

  return group && resource && !strcmp(group, "authorization.k8s.io") &&
         !strcmp(resource, "localsubjectaccessreviews");
}

static int is_namespace_resource(const kapi_req *r)
{
  const char *group = api->req_get(r, "apiGroup");
  const char *resource = api->req_get(r, "resource");

  return !nonempty(group) && resource && !strcmp(resource, "namespaces");
}

/* The name admission errors use: the request's, else the object's name
 * or generateName, else "Unknown" (admission.NewForbidden). */
static const char *object_name(const kapi_req *r, const kapi_obj *obj)
{
  const char *name = api->req_get(r, "name");

  if (!nonempty(name))
    name = api->obj_get(obj, "/metadata/name");
  if (!nonempty(name))
    name = api->obj_get(obj, "/metadata/generateName");
  return nonempty(name) ? name : "Unknown";
}

static void refuse_terminating(const kapi_req *r, const kapi_obj *obj,
                               const char *ns, kapi_error *e)
{
  const char *resource = api->req_get(r, "resource");
  const char *group = api->req_get(r, "apiGroup");
  char message[320];

  api->error_set(e, 403, "Forbidden",
                 "%s%s%s \"%s\" is forbidden: unable to create new content in "
                 "namespace %s because it is being terminated",
                 resource ? resource : "", nonempty(group) ? "." : "",
                 nonempty(group) ? group : "", object_name(r, obj), ns);
  snprintf(message, sizeof message, "namespace %s is being terminated", ns);
  api->error_add_cause(e, "NamespaceTerminating", message,
                       "metadata.namespace");
}

/* Upstream's NamespaceLifecycle is a mutating plugin: it runs before
 * the name is generated, so errors name the generateName. */
static int lifecycle_admit(void *st, kapi_req *r, kapi_obj *obj,
                           kapi_error *e)
{
  const char *ns = api->req_get(r, "namespace");
  const char *op = api->req_get(r, "operation");
  kapi_obj *namespace = NULL;
  const char *phase;
  int rc;

  (void)st;
  if (!op || strcmp(op, "CREATE") || !nonempty(ns) ||
      is_namespace_resource(r) || is_access_review(r))
    return 0;

  rc = api->store_get("", "namespaces", NULL, ns, &namespace);
  if (rc == -ENOENT) {
    api->error_set(e, 404, "NotFound", "namespaces \"%s\" not found", ns);
    return rc;
  }
  if (rc < 0) {
    api->error_set(e, 500, "InternalError",
                   "Internal error occurred: reading namespace %s: %s", ns,
                   strerror(-rc));
    return rc;
  }
  phase = api->obj_get(namespace, "/status/phase");
  rc = 0;
  if (phase && !strcmp(phase, "Terminating")) {
    refuse_terminating(r, obj, ns, e);
    rc = -EPERM;
  }
  api->obj_free(namespace);
  return rc;
}

static const kapi_admission_ops lifecycle_ops = {
    .size = sizeof(kapi_admission_ops),
    .handles = KAPI_OP_CREATE,
    .admit = lifecycle_admit,
};

static int lifecycle_init(kapi_plugin *self, const kapi_host_api *host,
                          const char *config, size_t config_len,
                          kapi_error *e)
{
  (void)config;
  (void)config_len;
  (void)e;
  api = host;
  return api->register_admission(self, "NamespaceLifecycle", &lifecycle_ops,
                                 NULL, NULL);
}

KAPI_PLUGIN_DEFINE(.name = "namespace-lifecycle", .version = "0.1.0",
                   .description = "NamespaceLifecycle admission: no new "
                                  "objects in missing or terminating "
                                  "namespaces",
                   .license = "Apache-2.0", .init = lifecycle_init);
