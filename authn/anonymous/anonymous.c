/*
 * anonymous.c - the Anonymous authenticator.
 *
 * Upstream: staging/src/k8s.io/apiserver/pkg/authentication/request/
 * anonymous.  A request no other authenticator claimed is served as
 * system:anonymous in group system:unauthenticated (authorization then
 * decides what that user may do).  It runs last so it never hides a real
 * identity.
 *
 * Configuration: {"enabled": false} turns it off (the plugin then
 * registers nothing, like kube-apiserver --anonymous-auth=false).
 */
#include <errno.h>
#include <string.h>

#include "kapi/plugin.h"

static const kapi_host_api *api;

static int anonymous_authenticate(void *st, const kapi_req *r,
                                  kapi_obj *user, kapi_error *e)
{
  int rc;

  (void)st;
  (void)r;
  rc = api->obj_set_str(user, "/username", "system:anonymous");
  if (rc == 0)
    rc = api->obj_set_json(user, "/groups", "[\"system:unauthenticated\"]");
  if (rc < 0) {
    api->error_set(e, 500, "InternalError",
                   "Internal error occurred: anonymous user: %s",
                   strerror(-rc));
    return rc;
  }
  return 1;
}

/* ------------------------------------------------------------------ */
/* Configuration: the host parses the JSON text (obj_parse, ABI 1.2);  */
/* the plugin only reads the one key from the value.                   */
/* ------------------------------------------------------------------ */

/*
 * Reads "enabled" from the configuration object: 1 (the default), 0, or
 * -EINVAL when the text is not an object or "enabled" is not a boolean.
 * No text, or a JSON null, is no configuration.
 */
static int config_enabled(const char *json, size_t len)
{
  kapi_obj *cfg = NULL;
  const kapi_obj *v;
  int enabled = -EINVAL;

  if (!json || !len)
    return 1;
  if (api->obj_parse(json, len, &cfg, NULL) < 0)
    return -EINVAL;
  if (api->obj_type(cfg) == KAPI_OBJ_NULL) {
    enabled = 1;
  } else if (api->obj_type(cfg) == KAPI_OBJ_OBJECT) {
    v = api->obj_lookup(cfg, "/enabled");
    if (!v)
      enabled = 1;
    else if (api->obj_type(v) == KAPI_OBJ_BOOL)
      enabled = !strcmp(api->obj_get(v, ""), "true");
  }
  api->obj_free(cfg);
  return enabled;
}

static const kapi_authn_ops anonymous_ops = {
    .size = sizeof(kapi_authn_ops),
    .authenticate = anonymous_authenticate,
};

static int anonymous_init(kapi_plugin *self, const kapi_host_api *host,
                          const char *config, size_t config_len,
                          kapi_error *e)
{
  static const kapi_order last = {.priority = KAPI_ORDER_LAST};
  int enabled;

  api = host;
  /* Plugins load only into hosts of their ABI minor or newer, but the
   * ABI asks to test members newer than 1.0 all the same. */
  if (config && config_len && !KAPI_API_HAS(api, obj_parse)) {
    api->error_set(e, 500, "InternalError",
                   "Anonymous needs a host API of ABI 1.2 (obj_parse) to "
                   "read its configuration");
    return -ENOTSUP;
  }
  enabled = config_enabled(config, config_len);
  if (enabled < 0) {
    api->error_set(e, 500, "InternalError",
                   "invalid configuration: expected {\"enabled\": true|false}");
    return enabled;
  }
  if (!enabled)
    return 0;
  return api->register_authn(self, "Anonymous", &anonymous_ops, NULL, &last);
}

KAPI_PLUGIN_DEFINE(.name = "anonymous", .version = "0.1.0",
                   .description = "Anonymous authenticator: unclaimed "
                                  "requests are system:anonymous",
                   .license = "Apache-2.0", .init = anonymous_init);
