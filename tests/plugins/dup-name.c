/*
 * dup-name.c - fixture: a well-formed plugin that reuses the name of
 * good-authz.  Loaded after it, expected refusal: duplicate name (name):
 * "good-authz" is already loaded from ".../good-authz.so".  Its init
 * must never run.
 *
 * cc -std=c11 -shared -fPIC -fvisibility=hidden -I include \
 *    -o tests/plugins/dup-name.so tests/plugins/dup-name.c
 */
#include <stdlib.h>

#include "kapi/plugin.h"

static int init(kapi_plugin *self, const kapi_host_api *api,
                const char *cfg, size_t len, kapi_error *e)
{
  (void)self, (void)api, (void)cfg, (void)len, (void)e;
  abort(); /* the host must refuse before calling into the plugin */
}

KAPI_PLUGIN_DEFINE(.name = "good-authz", .version = "2.0.0", .init = init);
