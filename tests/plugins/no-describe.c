/*
 * no-describe.c - fixture: exports a misspelt entry point, so
 * dlsym("kapi_plugin_describe") finds nothing.
 * Expected refusal: missing entry point (kapi_plugin_describe).
 *
 * cc -std=c11 -shared -fPIC -fvisibility=hidden -I include \
 *    -o tests/plugins/no-describe.so tests/plugins/no-describe.c
 */
#include "kapi/plugin.h"

KAPI_EXPORT int kapi_plugin_descibe(void);
int kapi_plugin_descibe(void)
{
  return 0;
}
