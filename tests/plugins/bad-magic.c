/*
 * bad-magic.c - fixture: a descriptor whose magic is not "KAPI".
 * Expected refusal: bad magic (magic): server 0x4b415049, plugin 0xdeadbeef.
 *
 * cc -std=c11 -shared -fPIC -fvisibility=hidden -I include \
 *    -o tests/plugins/bad-magic.so tests/plugins/bad-magic.c
 */
#include "kapi/plugin.h"

static int init(kapi_plugin *self, const kapi_host_api *api,
                const char *cfg, size_t len, kapi_error *e)
{
  (void)self, (void)api, (void)cfg, (void)len, (void)e;
  return 0;
}

/* Written out by hand: KAPI_PLUGIN_DEFINE always sets the right magic. */
KAPI_EXPORT const kapi_plugin_desc *kapi_plugin_describe(void);
const kapi_plugin_desc *kapi_plugin_describe(void)
{
  static const kapi_plugin_desc d = {
    .magic = 0xdeadbeefu,
    .size = sizeof(kapi_plugin_desc),
    .abi_major = KAPI_ABI_MAJOR,
    .abi_minor = KAPI_ABI_MINOR,
    .ptr_size = sizeof(void *),
    .name = "bad-magic",
    .version = "1.0.0",
    .init = init,
  };
  return &d;
}
