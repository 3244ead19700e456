/*
 * registry.c - the table of served resources.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

static int resource_init(kapi_resource *res, const kapi_component *c,
                         char *err, size_t errlen)
{
  const kapi_resource_ops *ops = c->ops;
  char perr[256];
  int r;

  memset(res, 0, sizeof *res);
  res->ops = ops;
  res->st = c->st;
  res->group = ops->group ? ops->group : "";
  if (asprintf(&res->group_version, "%s%s%s", res->group,
               *res->group ? "/" : "", ops->version) < 0 ||
      asprintf(&res->prefix, "%s/%s/", *res->group ? res->group : "core",
               ops->resource) < 0)
    return -ENOMEM;
  if (ops->schema) {
    r = kj_parse(ops->schema, strlen(ops->schema), &res->schema, perr,
                 sizeof perr);
    if (r < 0) {
      snprintf(err, errlen, "resource %s: schema is not valid JSON: %s",
               ops->resource, perr);
      return r;
    }
  }
  return 0;
}

static void resource_free(kapi_resource *res)
{
  free(res->group_version);
  free(res->prefix);
  kj_free(res->schema);
}

int kapi_registry_build(kapi_registry *reg, const kapi_plugins *ps,
                        char *err, size_t errlen)
{
  size_t n = kapi_plugins_count(ps, KAPI_KIND_RESOURCE), i;
  int r;

  reg->n = 0;
  reg->items = calloc(n ? n : 1, sizeof *reg->items);
  if (!reg->items)
    return -ENOMEM;
  for (i = 0; i < n; i++) {
    r = resource_init(&reg->items[i], kapi_plugins_at(ps, KAPI_KIND_RESOURCE, i),
                      err, errlen);
    reg->n++;
    if (r < 0) {
      kapi_registry_free(reg);
      return r;
    }
  }
  return 0;
}

void kapi_registry_free(kapi_registry *reg)
{
  size_t i;
  for (i = 0; i < reg->n; i++)
    resource_free(&reg->items[i]);
  free(reg->items);
  reg->items = NULL;
  reg->n = 0;
}

kapi_resource *kapi_registry_find(const kapi_registry *reg, const char *group,
                                  const char *version, const char *resource)
{
  size_t i;
  for (i = 0; i < reg->n; i++) {
    kapi_resource *res = &reg->items[i];
    if (!strcmp(res->group, group ? group : "") &&
        !strcmp(res->ops->version, version) &&
        !strcmp(res->ops->resource, resource))
      return res;
  }
  return NULL;
}

kapi_resource *kapi_registry_find_kind(const kapi_registry *reg,
                                       const char *group, const char *kind)
{
  size_t i;
  for (i = 0; i < reg->n; i++) {
    kapi_resource *res = &reg->items[i];
    if (!strcmp(res->group, group ? group : "") &&
        !strcmp(res->ops->kind, kind))
      return res;
  }
  return NULL;
}

char *kapi_resource_key(const kapi_resource *res, const char *ns,
                        const char *name)
{
  char *key;
  int r = res->ops->namespaced
              ? asprintf(&key, "%s%s/%s", res->prefix, ns ? ns : "", name)
              : asprintf(&key, "%s%s", res->prefix, name);
  return r < 0 ? NULL : key;
}

char *kapi_resource_list_prefix(const kapi_resource *res, const char *ns)
{
  char *p;
  int r = res->ops->namespaced && ns && *ns
              ? asprintf(&p, "%s%s/", res->prefix, ns)
              : asprintf(&p, "%s", res->prefix);
  return r < 0 ? NULL : p;
}

char *kapi_resource_qualified(const kapi_resource *res)
{
  char *s;
  int r = *res->group ? asprintf(&s, "%s.%s", res->ops->resource, res->group)
                      : asprintf(&s, "%s", res->ops->resource);
  return r < 0 ? NULL : s;
}
