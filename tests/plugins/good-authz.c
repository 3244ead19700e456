/*
 * good-authz.c - fixture: a well-formed plugin with two authorizers.
 *
 * AlwaysDeny is registered first but has priority LAST, so the default
 * chain must be AlwaysAllow, AlwaysDeny (sorted, not registration order).
 * The `st` of each component is a struct fixture_state (same layout in
 * tests/core/test_plugin_loader.c): the component name and the
 * configuration text init received ("(null)" if none).  fini appends the
 * plugin name to $KAPI_TEST_FINI_LOG, to check the unload order.
 *
 * cc -std=c11 -shared -fPIC -fvisibility=hidden -I include \
 *    -o tests/plugins/good-authz.so tests/plugins/good-authz.c
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
static char *config_copy; /* owned, freed in fini */
static struct fixture_state allow_state = {"AlwaysAllow", NULL};
static struct fixture_state deny_state = {"AlwaysDeny", NULL};

static kapi_decision allow(void *st, const kapi_req *r, kapi_error *e)
{
  (void)st;
  (void)r;
  (void)e;
  return KAPI_ALLOW;
}

static kapi_decision deny(void *st, const kapi_req *r, kapi_error *e)
{
  (void)r;
  api->error_set(e, 403, "Forbidden", "denied by %s",
                 ((struct fixture_state *)st)->name);
  return KAPI_DENY;
}

static const kapi_authz_ops allow_ops = {.size = sizeof allow_ops,
                                         .authorize = allow};
static const kapi_authz_ops deny_ops = {.size = sizeof deny_ops,
                                        .authorize = deny};

/* The configuration as a C string, in the host's allocator. */
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
  static const kapi_order last = {.priority = KAPI_ORDER_LAST};
  int r;

  (void)e;
  api = a;
  config_copy = copy_config(cfg, len);
  if (!config_copy)
    return -ENOMEM;
  allow_state.config = deny_state.config = config_copy;
  r = api->register_authz(self, "AlwaysDeny", &deny_ops, &deny_state, &last);
  if (r == 0)
    r = api->register_authz(self, "AlwaysAllow", &allow_ops, &allow_state,
                            NULL);
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
  record_fini("good-authz");
  api->free(config_copy);
  config_copy = NULL;
}

KAPI_PLUGIN_DEFINE(.name = "good-authz", .version = "1.0.0",
                   .description = "test fixture: AlwaysAllow, AlwaysDeny",
                   .license = "Apache-2.0", .init = init, .fini = fini);
