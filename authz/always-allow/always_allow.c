/*
 * always_allow.c - the AlwaysAllow authorizer.
 *
 * Upstream: staging/src/k8s.io/apiserver/pkg/authorization/authorizerfactory
 * (alwaysAllowAuthorizer).  Every request is allowed: for development
 * clusters and tests, or behind a chain whose earlier authorizers deny
 * what must be denied.
 */
#include "kapi/plugin.h"

static kapi_decision always_allow(void *st, const kapi_req *r, kapi_error *e)
{
  (void)st;
  (void)r;
  (void)e;
  return KAPI_ALLOW;
}

static const kapi_authz_ops always_allow_ops = {
    .size = sizeof(kapi_authz_ops),
    .authorize = always_allow,
};

static int always_allow_init(kapi_plugin *self, const kapi_host_api *api,
                             const char *config, size_t config_len,
                             kapi_error *e)
{
  (void)config;
  (void)config_len;
  (void)e;
  return api->register_authz(self, "AlwaysAllow", &always_allow_ops, NULL,
                             NULL);
}

KAPI_PLUGIN_DEFINE(.name = "always-allow", .version = "0.1.0",
                   .description = "AlwaysAllow authorizer: allows every "
                                  "request",
                   .license = "Apache-2.0", .init = always_allow_init);
