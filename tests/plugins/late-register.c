/*
 * late-register.c - fixture: registers "LateRegister" from init, and
 * tries to register "TooLate" from its authorize callback, i.e. after
 * init.  The host must answer -EPERM; authorize reports what it got:
 * ALLOW if it was -EPERM, DENY (with the code in the error) otherwise.
 *
 * cc -std=c11 -shared -fPIC -fvisibility=hidden -I include \
 *    -o tests/plugins/late-register.so tests/plugins/late-register.c
 */
#include <errno.h>

#include "kapi/plugin.h"

static const kapi_host_api *api;
static kapi_plugin *me;

static kapi_decision authorize(void *st, const kapi_req *r, kapi_error *e);
static const kapi_authz_ops ops = {.size = sizeof ops,
                                   .authorize = authorize};

static kapi_decision authorize(void *st, const kapi_req *r, kapi_error *e)
{
  int rc = api->register_authz(me, "TooLate", &ops, NULL, NULL);

  (void)st, (void)r;
  if (rc == -EPERM)
    return KAPI_ALLOW;
  api->error_set(e, 500, "InternalError", "late register returned %d", rc);
  return KAPI_DENY;
}

static int init(kapi_plugin *self, const kapi_host_api *a, const char *cfg,
                size_t len, kapi_error *e)
{
  (void)cfg, (void)len, (void)e;
  api = a;
  me = self;
  return api->register_authz(self, "LateRegister", &ops, NULL, NULL);
}

KAPI_PLUGIN_DEFINE(.name = "late-register", .version = "1.0.0",
                   .init = init);
