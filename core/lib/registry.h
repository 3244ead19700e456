/*
 * registry.h - the resources the server serves, built from the resource
 * components the plugins registered (kapi_resource_ops), with what the
 * generic layers need precomputed: store key prefix, discovery names,
 * the parsed schema.
 */
#ifndef KAPI_REGISTRY_H
#define KAPI_REGISTRY_H

#include <stddef.h>

#include "json.h"
#include "kapi/plugin.h"
#include "plugin_loader.h"

typedef struct kapi_resource {
  const kapi_resource_ops *ops; /* static storage in the plugin */
  void *st;                     /* plugin state */
  const char *group;            /* never NULL: "" for core */
  char *group_version;          /* "v1", "apps/v1" */
  char *prefix;                 /* store key prefix "<group>/<resource>/" */
  kj *schema;                   /* parsed ops->schema, or NULL */
} kapi_resource;

typedef struct kapi_registry {
  kapi_resource *items;
  size_t n;
} kapi_registry;

/* Builds the registry from the plugins' resource components (borrowed:
 * they must outlive it).  Returns 0 or -errno with err filled. */
int kapi_registry_build(kapi_registry *reg, const kapi_plugins *ps,
                        char *err, size_t errlen);
void kapi_registry_free(kapi_registry *reg);

/* Finds a resource by group, version and plural name; NULL if none. */
kapi_resource *kapi_registry_find(const kapi_registry *reg, const char *group,
                                  const char *version, const char *resource);
/* By kind within a group (any version). */
kapi_resource *kapi_registry_find_kind(const kapi_registry *reg,
                                       const char *group, const char *kind);

/* Store key of an object: "<prefix><ns>/<name>" or "<prefix><name>";
 * newly allocated.  The list prefix for a namespace (ns may be NULL or ""
 * for all namespaces). */
char *kapi_resource_key(const kapi_resource *res, const char *ns,
                        const char *name);
char *kapi_resource_list_prefix(const kapi_resource *res, const char *ns);

/* "pods" or "replicasets.apps": how upstream names a resource in
 * messages.  Newly allocated. */
char *kapi_resource_qualified(const kapi_resource *res);

#endif
