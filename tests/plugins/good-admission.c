/*
 * good-admission.c - fixture: admission plugins ordered by priority and
 * before/after edges.
 *
 *   NamespaceLifecycle        FIRST
 *   AlwaysPullImages          MIDDLE, after ServiceAccount
 *   DefaultTolerationSeconds  MIDDLE, before NamespaceLifecycle
 *   LimitRanger               MIDDLE
 *   ServiceAccount            MIDDLE
 *   ResourceQuota             LAST, before "NotLoaded" (unknown: ignored)
 *
 * Sorted by (priority, name) then edges, the chain must be:
 * DefaultTolerationSeconds, NamespaceLifecycle, LimitRanger,
 * ServiceAccount, AlwaysPullImages, ResourceQuota.
 *
 * admit appends the component name to the array "/chain" of the object;
 * validate refuses when "/deny" names the component.  `st` is a struct
 * fixture_state (see good-authz.c).
 *
 * cc -std=c11 -shared -fPIC -fvisibility=hidden -I include \
 *    -o tests/plugins/good-admission.so tests/plugins/good-admission.c
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapi/plugin.h"

struct fixture_state {
  const char *name;
  char *config;
};

static const kapi_host_api *api;
static char *config_copy;

static struct fixture_state states[] = {
  {"NamespaceLifecycle", NULL}, {"AlwaysPullImages", NULL},
  {"DefaultTolerationSeconds", NULL}, {"LimitRanger", NULL},
  {"ServiceAccount", NULL}, {"ResourceQuota", NULL},
};

static const char *const after_sa[] = {"ServiceAccount", NULL};
static const char *const before_nl[] = {"NamespaceLifecycle", NULL};
static const char *const before_missing[] = {"NotLoaded", NULL};
static const kapi_order orders[] = {
  {.priority = KAPI_ORDER_FIRST},
  {.priority = KAPI_ORDER_MIDDLE, .after = after_sa},
  {.priority = KAPI_ORDER_MIDDLE, .before = before_nl},
  {.priority = KAPI_ORDER_MIDDLE},
  {.priority = KAPI_ORDER_MIDDLE},
  {.priority = KAPI_ORDER_LAST, .before = before_missing},
};

static int admit(void *st, kapi_req *r, kapi_obj *obj, kapi_error *e)
{
  (void)r;
  (void)e;
  return api->obj_append_str(obj, "/chain",
                             ((struct fixture_state *)st)->name);
}

static int validate(void *st, const kapi_req *r, const kapi_obj *obj,
                    kapi_error *e)
{
  const char *name = ((struct fixture_state *)st)->name;
  const char *deny = api->obj_get(obj, "/deny");

  (void)r;
  if (deny && !strcmp(deny, name)) {
    api->error_set(e, 403, "Forbidden", "%s says no", name);
    return -EPERM;
  }
  return 0;
}

static const kapi_admission_ops ops = {
  .size = sizeof ops,
  .handles = KAPI_OP_CREATE | KAPI_OP_UPDATE,
  .admit = admit,
  .validate = validate,
};

static char *copy_config(const char *json, size_t len)
{
  const char *src = json ? json : "(null)";
  size_t n = json ? len : strlen(src);
  char *s = api->alloc(n + 1);

  if (s) {
    memcpy(s, src, n);
    s[n] = '\0';
  }
  return s;
}

static int init(kapi_plugin *self, const kapi_host_api *a, const char *cfg,
                size_t len, kapi_error *e)
{
  size_t i;
  int r = 0;

  (void)e;
  api = a;
  config_copy = copy_config(cfg, len);
  if (!config_copy)
    return -ENOMEM;
  for (i = 0; i < sizeof states / sizeof states[0] && r == 0; i++) {
    states[i].config = config_copy;
    r = api->register_admission(self, states[i].name, &ops, &states[i],
                                &orders[i]);
  }
  if (r < 0) {
    api->free(config_copy);
    config_copy = NULL;
  }
  return r;
}

static void record_fini(const char *name)
{
  const char *path = getenv("KAPI_TEST_FINI_LOG");
  FILE *f;

  if (!path || !(f = fopen(path, "a")))
    return;
  fprintf(f, "%s\n", name);
  fclose(f);
}

static void fini(kapi_plugin *self)
{
  (void)self;
  record_fini("good-admission");
  api->free(config_copy);
  config_copy = NULL;
}

KAPI_PLUGIN_DEFINE(.name = "good-admission", .version = "1.0.0",
                   .description = "test fixture: ordered admission",
                   .license = "Apache-2.0", .init = init, .fini = fini);
