/*
 * dup-component.c - fixture: registers admission "UniqueOne", then
 * "LimitRanger", which good-admission already registered.  Loaded after
 * good-admission the load must fail and UniqueOne be rolled back.  With
 * the configuration {"ignore": true} init ignores the refusal and
 * returns 0: the load must fail all the same (fail closed).
 *
 * cc -std=c11 -shared -fPIC -fvisibility=hidden -I include \
 *    -o tests/plugins/dup-component.so tests/plugins/dup-component.c
 */
#include <string.h>

#include "kapi/plugin.h"

static int admit(void *st, kapi_req *r, kapi_obj *obj, kapi_error *e)
{
  (void)st, (void)r, (void)obj, (void)e;
  return 0;
}

static const kapi_admission_ops ops = {.size = sizeof ops,
                                       .handles = KAPI_OP_CREATE,
                                       .admit = admit};

static int init(kapi_plugin *self, const kapi_host_api *api,
                const char *cfg, size_t len, kapi_error *e)
{
  int ignore = cfg && strstr(cfg, "\"ignore\":true") != NULL;
  int r;

  (void)len, (void)e;
  r = api->register_admission(self, "UniqueOne", &ops, NULL, NULL);
  if (r == 0)
    r = api->register_admission(self, "LimitRanger", &ops, NULL, NULL);
  return ignore ? 0 : r;
}

KAPI_PLUGIN_DEFINE(.name = "dup-component", .version = "1.0.0",
                   .init = init);
