/*
 * always_deny.c - the AlwaysDeny authorizer.
 *
 * Upstream: staging/src/k8s.io/apiserver/pkg/authorization/authorizerfactory
 * (alwaysDenyAuthorizer).  Every request that reaches it is denied with
 * upstream's reason; it sorts last so that it only closes a chain whose
 * other authorizers had no opinion.
 */
#include "kapi/plugin.h"

static const kapi_host_api *api;

static kapi_decision always_deny(void *st, const kapi_req *r, kapi_error *e)
{
  (void)st;
  (void)r;
  api->error_set(e, 403, "Forbidden", "Everything is forbidden.");
  return KAPI_DENY;
}

static const kapi_authz_ops always_deny_ops = {
    .size = sizeof(kapi_authz_ops),
    .authorize = always_deny,
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
  return api->register_authz(self, "AlwaysDeny", &always_deny_ops, NULL,
                             &last);
}

KAPI_PLUGIN_DEFINE(.name = "always-deny", .version = "0.1.0",
                   .description = "AlwaysDeny authorizer: denies every "
                                  "request",
                   .license = "Apache-2.0", .init = always_deny_init);
