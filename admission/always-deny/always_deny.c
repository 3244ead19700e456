/*
 * always_deny.c - the AlwaysDeny admission plugin.
 *
 * Upstream: plugin/pkg/admission/deny/admission.go.  Refuses every
 * request, for every operation, with 403 Forbidden; it is deprecated
 * upstream, which warns when it is set up.  It sorts last, where the
 * recommended order puts it.
 *
 * The descriptor is "admission-always-deny": the AlwaysDeny authorizer
 * plugin already owns "always-deny", and this one needs no
 * AdmissionConfiguration name since it takes no configuration.
 */
#include <errno.h>

#include "kapi/plugin.h"

static const kapi_host_api *api;

static int nonempty(const char *s)
{
  return s && *s;
}

/* admission.NewForbidden: `<resource>[.<group>] "<name>" is forbidden:
 * ...`, the name being the request's, else the object's name or
 * generateName, else "Unknown". */
static int deny(const kapi_req *r, const kapi_obj *obj, kapi_error *e)
{
  const char *resource = api->req_get(r, "resource");
  const char *group = api->req_get(r, "apiGroup");
  const char *name = api->req_get(r, "name");

  if (!nonempty(name) && obj)
    name = api->obj_get(obj, "/metadata/name");
  if (!nonempty(name) && obj)
    name = api->obj_get(obj, "/metadata/generateName");
  api->error_set(e, 403, "Forbidden",
                 "%s%s%s \"%s\" is forbidden: admission control is denying "
                 "all modifications",
                 resource ? resource : "", nonempty(group) ? "." : "",
                 nonempty(group) ? group : "",
                 nonempty(name) ? name : "Unknown");
  return -EPERM;
}

static int always_deny_admit(void *st, kapi_req *r, kapi_obj *obj,
                             kapi_error *e)
{
  (void)st;
  return deny(r, obj, e);
}

static int always_deny_validate(void *st, const kapi_req *r,
                                const kapi_obj *obj, kapi_error *e)
{
  (void)st;
  return deny(r, obj, e);
}

static const kapi_admission_ops always_deny_ops = {
    .size = sizeof(kapi_admission_ops),
    .handles =
        KAPI_OP_CREATE | KAPI_OP_UPDATE | KAPI_OP_DELETE | KAPI_OP_CONNECT,
    .admit = always_deny_admit,
    .validate = always_deny_validate,
};

static int always_deny_init(kapi_plugin *self, const kapi_host_api *host,
                            const char *config, size_t config_len,
                            kapi_error *e)
{
  static const kapi_order last = {.priority = KAPI_ORDER_LAST};

  (void)config;
  (void)config_len;
  (void)e;
  api = host;
  api->log(self, 1, /* loaded is not enabled: upstream warns when enabled */
           "AlwaysDeny admission controller is deprecated. Please remove "
           "this controller from your configuration files and scripts.");
  return api->register_admission(self, "AlwaysDeny", &always_deny_ops, NULL,
                                 &last);
}

KAPI_PLUGIN_DEFINE(.name = "admission-always-deny", .version = "0.1.0",
                   .description = "AlwaysDeny admission (deprecated): "
                                  "refuses everything",
                   .license = "Apache-2.0", .init = always_deny_init);
