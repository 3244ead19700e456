/*
 * always_admit.c - the AlwaysAdmit admission plugin.
 *
 * Upstream: plugin/pkg/admission/admit/admission.go.  Admits every
 * request, for every operation; it changes nothing and is deprecated
 * upstream, which warns when it is set up.  It sorts first, where the
 * recommended order puts it.
 *
 * The descriptor is "admission-always-admit": no configuration, so it
 * needs no AdmissionConfiguration name, and the name stays apart from
 * the authorizers'.
 */
#include "kapi/plugin.h"

static const kapi_host_api *api;

static int always_admit(void *st, kapi_req *r, kapi_obj *obj, kapi_error *e)
{
  (void)st;
  (void)r;
  (void)obj;
  (void)e;
  return 0;
}

static int always_admit_validate(void *st, const kapi_req *r,
                                 const kapi_obj *obj, kapi_error *e)
{
  (void)st;
  (void)r;
  (void)obj;
  (void)e;
  return 0;
}

static const kapi_admission_ops always_admit_ops = {
    .size = sizeof(kapi_admission_ops),
    .handles =
        KAPI_OP_CREATE | KAPI_OP_UPDATE | KAPI_OP_DELETE | KAPI_OP_CONNECT,
    .admit = always_admit,
    .validate = always_admit_validate,
};

static int always_admit_init(kapi_plugin *self, const kapi_host_api *host,
                             const char *config, size_t config_len,
                             kapi_error *e)
{
  static const kapi_order first = {.priority = KAPI_ORDER_FIRST};

  (void)config;
  (void)config_len;
  (void)e;
  api = host;
  api->log(self, 1, /* loaded is not enabled: upstream warns when enabled */
           "AlwaysAdmit admission controller is deprecated. Please remove "
           "this controller from your configuration files and scripts.");
  return api->register_admission(self, "AlwaysAdmit", &always_admit_ops,
                                 NULL, &first);
}

KAPI_PLUGIN_DEFINE(.name = "admission-always-admit", .version = "0.1.0",
                   .description = "AlwaysAdmit admission (deprecated): "
                                  "admits everything",
                   .license = "Apache-2.0", .init = always_admit_init);
