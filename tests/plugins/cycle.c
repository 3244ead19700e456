/*
 * cycle.c - fixture: admission components whose before/after edges form
 * a loop: cycle-a after cycle-b, cycle-b after cycle-c, cycle-a before
 * cycle-c; cycle-free is outside it.  Loading works; assembling without
 * a configured list must fail with
 *   ordering cycle: cycle-c -> cycle-b -> cycle-a -> cycle-c
 *
 * cc -std=c11 -shared -fPIC -fvisibility=hidden -I include \
 *    -o tests/plugins/cycle.so tests/plugins/cycle.c
 */
#include "kapi/plugin.h"

static int admit(void *st, kapi_req *r, kapi_obj *obj, kapi_error *e)
{
  (void)st, (void)r, (void)obj, (void)e;
  return 0;
}

static const kapi_admission_ops ops = {.size = sizeof ops,
                                       .handles = KAPI_OP_CREATE,
                                       .admit = admit};

static const char *const after_b[] = {"cycle-b", NULL};
static const char *const after_c[] = {"cycle-c", NULL};
static const char *const before_c[] = {"cycle-c", NULL};
static const kapi_order order_a = {.priority = KAPI_ORDER_MIDDLE,
                                   .after = after_b, .before = before_c};
static const kapi_order order_b = {.priority = KAPI_ORDER_MIDDLE,
                                   .after = after_c};

static int init(kapi_plugin *self, const kapi_host_api *api,
                const char *cfg, size_t len, kapi_error *e)
{
  int r;

  (void)cfg, (void)len, (void)e;
  r = api->register_admission(self, "cycle-a", &ops, NULL, &order_a);
  if (r == 0)
    r = api->register_admission(self, "cycle-b", &ops, NULL, &order_b);
  if (r == 0)
    r = api->register_admission(self, "cycle-c", &ops, NULL, NULL);
  if (r == 0)
    r = api->register_admission(self, "cycle-free", &ops, NULL, NULL);
  return r;
}

KAPI_PLUGIN_DEFINE(.name = "cycle", .version = "1.0.0", .init = init);
