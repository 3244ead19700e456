/*
 * bad-name.c - fixture: a plugin name outside ^[a-z0-9][a-z0-9-]{0,62}$.
 * Expected refusal: invalid name (name): ... plugin has "Bad_Name".
 *
 * cc -std=c11 -shared -fPIC -fvisibility=hidden -I include \
 *    -o tests/plugins/bad-name.so tests/plugins/bad-name.c
 */
#include "kapi/plugin.h"

static int init(kapi_plugin *self, const kapi_host_api *api,
                const char *cfg, size_t len, kapi_error *e)
{
  (void)self, (void)api, (void)cfg, (void)len, (void)e;
  return 0;
}

KAPI_PLUGIN_DEFINE(.name = "Bad_Name", .version = "1.0.0", .init = init);
