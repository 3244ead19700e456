/*
 * abi-minor.c - fixture: built against a newer minor of this ABI (it may
 * call host functions this server lacks).
 * Expected refusal: ABI mismatch: server 1.0, plugin built for 1.1.
 *
 * cc -std=c11 -shared -fPIC -fvisibility=hidden -I include \
 *    -o tests/plugins/abi-minor.so tests/plugins/abi-minor.c
 */
#include "kapi/plugin.h"

static int init(kapi_plugin *self, const kapi_host_api *api,
                const char *cfg, size_t len, kapi_error *e)
{
  (void)self, (void)api, (void)cfg, (void)len, (void)e;
  return 0;
}

KAPI_EXPORT const kapi_plugin_desc *kapi_plugin_describe(void);
const kapi_plugin_desc *kapi_plugin_describe(void)
{
  static const kapi_plugin_desc d = {
    .magic = KAPI_PLUGIN_MAGIC,
    .size = sizeof(kapi_plugin_desc),
    .abi_major = KAPI_ABI_MAJOR,
    .abi_minor = KAPI_ABI_MINOR + 1,
    .ptr_size = sizeof(void *),
    .name = "abi-minor",
    .version = "1.0.0",
    .init = init,
  };
  return &d;
}
