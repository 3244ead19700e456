/*
 * small-desc.c - fixture: a descriptor whose size stops before init
 * (as if built against a header that had no init/fini yet).
 * Expected refusal: descriptor too small (size): server needs >= 64
 * bytes, plugin has 48 (on LP64).
 *
 * cc -std=c11 -shared -fPIC -fvisibility=hidden -I include \
 *    -o tests/plugins/small-desc.so tests/plugins/small-desc.c
 */
#include <stddef.h>

#include "kapi/plugin.h"

KAPI_EXPORT const kapi_plugin_desc *kapi_plugin_describe(void);
const kapi_plugin_desc *kapi_plugin_describe(void)
{
  static const kapi_plugin_desc d = {
    .magic = KAPI_PLUGIN_MAGIC,
    .size = offsetof(kapi_plugin_desc, init),
    .abi_major = KAPI_ABI_MAJOR,
    .abi_minor = KAPI_ABI_MINOR,
    .ptr_size = sizeof(void *),
    .name = "small-desc",
    .version = "1.0.0",
  };
  return &d;
}
