/*
 * init-fail.c - fixture: registers two components, then fails (as if
 * its policy file were missing) with a message in the kapi_error.  The
 * host must roll both registrations back and report the message.
 *
 * cc -std=c11 -shared -fPIC -fvisibility=hidden -I include \
 *    -o tests/plugins/init-fail.so tests/plugins/init-fail.c
 */
#include <errno.h>

#include "kapi/plugin.h"

static kapi_decision authorize(void *st, const kapi_req *r, kapi_error *e)
{
  (void)st, (void)r, (void)e;
  return KAPI_ALLOW;
}

static int admit(void *st, kapi_req *r, kapi_obj *obj, kapi_error *e)
{
  (void)st, (void)r, (void)obj, (void)e;
  return 0;
}

static const kapi_authz_ops authz_ops = {.size = sizeof authz_ops,
                                         .authorize = authorize};
static const kapi_admission_ops admission_ops = {
  .size = sizeof admission_ops, .handles = KAPI_OP_CREATE, .admit = admit};

static int init(kapi_plugin *self, const kapi_host_api *api,
                const char *cfg, size_t len, kapi_error *e)
{
  void *policy;

  (void)cfg, (void)len;
  if (api->register_authz(self, "Doomed", &authz_ops, NULL, NULL) < 0 ||
      api->register_admission(self, "Doomed", &admission_ops, NULL, NULL) < 0)
    return -EINVAL;
  policy = api->alloc(64); /* freed again: the contract on failure */
  api->free(policy);
  api->error_set(e, 500, "InternalError", "cannot read %s: %s",
                 "/nonexistent/policy.json", "No such file or directory");
  return -ENOENT;
}

KAPI_PLUGIN_DEFINE(.name = "init-fail", .version = "1.0.0", .init = init);
