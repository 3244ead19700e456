/*
 * good-resource.c - fixture: two resources, "widgets.example.io"
 * (namespaced, group example.io) and "gadgets" (core group).  validate
 * checks metadata.name with api->validate_dns_label.  `st` is a struct
 * fixture_state (see good-authz.c).
 *
 * cc -std=c11 -shared -fPIC -fvisibility=hidden -I include \
 *    -o tests/plugins/good-resource.so tests/plugins/good-resource.c
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
static struct fixture_state widget_state = {"widgets.example.io", NULL};
static struct fixture_state gadget_state = {"gadgets", NULL};

static int validate(void *st, const kapi_obj *obj, kapi_obj *errs)
{
  (void)st;
  return api->validate_dns_label(errs, "metadata.name",
                                 api->obj_get(obj, "/metadata/name"));
}

static const kapi_column widget_columns[] = {
  {"Name", "string", "name", "Name of the widget", 0},
  {"Size", "integer", "", "Size of the widget", 0},
};

static const kapi_resource_ops widgets = {
  .size = sizeof widgets,
  .group = "example.io",
  .version = "v1",
  .resource = "widgets",
  .kind = "Widget",
  .singular = "widget",
  .namespaced = 1,
  .name_rule = KAPI_NAME_DNS_LABEL,
  .schema = "{\"spec\":{\"size\":\"integer\"}}",
  .columns = widget_columns,
  .n_columns = sizeof widget_columns / sizeof widget_columns[0],
  .validate = validate,
};

static const kapi_resource_ops gadgets = {
  .size = sizeof gadgets,
  .group = "",
  .version = "v1",
  .resource = "gadgets",
  .kind = "Gadget",
  .singular = "gadget",
  .namespaced = 0,
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
  int r;

  (void)e;
  api = a;
  config_copy = copy_config(cfg, len);
  if (!config_copy)
    return -ENOMEM;
  widget_state.config = gadget_state.config = config_copy;
  r = api->register_resource(self, &widgets, &widget_state);
  if (r == 0)
    r = api->register_resource(self, &gadgets, &gadget_state);
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
  record_fini("good-resource");
  api->free(config_copy);
  config_copy = NULL;
}

KAPI_PLUGIN_DEFINE(.name = "good-resource", .version = "1.0.0",
                   .description = "test fixture: widgets and gadgets",
                   .license = "Apache-2.0", .init = init, .fini = fini);
