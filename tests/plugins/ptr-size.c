/*
 * ptr-size.c - fixture: claims 4-byte pointers (built for a 32-bit ABI).
 * Expected refusal: pointer size mismatch (ptr_size): server 8, plugin 4.
 *
 * cc -std=c11 -shared -fPIC -fvisibility=hidden -I include \
 *    -o tests/plugins/ptr-size.so tests/plugins/ptr-size.c
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
    .abi_minor = KAPI_ABI_MINOR,
    .ptr_size = sizeof(void *) == 4 ? 8 : 4,
    .name = "ptr-size",
    .version = "1.0.0",
    .init = init,
  };
  return &d;
}
