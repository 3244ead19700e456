/*
 * plugin_internal.h - what host_api.c needs from the plugin loader.
 *
 * The host API table (host_api.c) is a thin layer: its register_*
 * members forward here, because only the loader knows which plugin is
 * in its init, what it staged, and which names are already taken.  Not
 * installed; plugins never see these declarations.
 */
#ifndef KAPI_PLUGIN_INTERNAL_H
#define KAPI_PLUGIN_INTERNAL_H

#include <stdint.h>

#include "kapi/plugin.h"

/*
 * Stages one component of `kind` for plugin `p` (borrowed).  `name` and
 * `order` (both borrowed, order may be NULL) are copied; `ops` must have
 * static storage in the plugin; `ops_size` is ops->size as the plugin
 * set it; `st` stays the plugin's.  Allowed only while p's init runs.
 *
 * Returns 0, -EPERM outside p's init, -EINVAL for bad arguments, -EEXIST
 * when the name is taken within the kind, or -ENOMEM.  Refusals during
 * init are also remembered: they fail the load even if init ignores the
 * return value (fail closed).
 */
int kapi__plugin_register(kapi_plugin *p, kapi_kind kind, const char *name,
                          const void *ops, uint32_t ops_size, void *st,
                          const kapi_order *order);

/* Stages a resource; its component name is "<resource>.<group>", or
 * "<resource>" for the core group.  Same contract as above. */
int kapi__plugin_register_resource(kapi_plugin *p,
                                   const kapi_resource_ops *ops, void *st);

/* The plugin's descriptor name (borrowed), or NULL if p is NULL. */
const char *kapi__plugin_name(const kapi_plugin *p);

/* "authn", "authz", "admission", "resource", ...; "?" if unknown. */
const char *kapi__kind_name(kapi_kind kind);

#endif
