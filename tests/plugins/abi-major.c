/*
 * abi-major.c - fixture: built for the next ABI major.
 * Expected refusal: ABI mismatch: server 1.0, plugin built for 2.0.
 *
 * cc -std=c11 -shared -fPIC -fvisibility=hidden -I include \
 *    -o tests/plugins/abi-major.so tests/plugins/abi-major.c
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
    .abi_major = KAPI_ABI_MAJOR + 1,
    .abi_minor = 0,
    .ptr_size = sizeof(void *),
    .name = "abi-major",
    .version = "1.0.0",
    .init = init,
  };
  return &d;
}
