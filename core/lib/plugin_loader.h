/*
 * plugin_loader.h - loading plugins (dlopen) and assembling the chains.
 *
 * A plugin set is built in three steps: load every .so of the drop-in
 * directories (descriptor checks, then init, which registers
 * components), then kapi_plugins_assemble() orders each kind's chain
 * (from the configuration when it names one, else by priority, name and
 * before/after edges), then the server reads the chains.  Any failure is
 * reported with the file, the field and both values, and is fatal to the
 * caller (fail closed).  Plugins are never unloaded while running.
 */
#ifndef KAPI_PLUGIN_LOADER_H
#define KAPI_PLUGIN_LOADER_H

#include <stddef.h>
#include <stdio.h>

#include "json.h"
#include "kapi/plugin.h"

/* One registered component. */
typedef struct kapi_component {
  kapi_kind kind;
  char *name;         /* owned copy */
  const void *ops;    /* static storage in the plugin */
  void *st;           /* plugin-owned state */
  int32_t priority;
  char **after;       /* owned, NULL-terminated, may be NULL */
  char **before;
  kapi_plugin *plugin;
} kapi_component;

typedef struct kapi_plugins kapi_plugins;

/* `config` (borrowed, may be NULL) is the server configuration object;
 * each plugin's init gets the JSON text of its own configuration (see
 * kapi_plugins_config_for). */
kapi_plugins *kapi_plugins_new(const kj *config);
/* Loads every *.so in dir, in strcmp order.  Refuses a directory or file
 * that is group- or world-writable.  0 or -errno with err filled. */
int kapi_plugins_load_dir(kapi_plugins *ps, const char *dir, char *err,
                          size_t errlen);
int kapi_plugins_load_file(kapi_plugins *ps, const char *path, char *err,
                           size_t errlen);
/*
 * Orders every chain.  `order` (borrowed, may be NULL) maps a kind to
 * the component names enabled in that kind's chain, in order: a config
 * list is authoritative (unknown name = error; unlisted components are
 * left out).  Kinds without a list are sorted by (priority, name), then
 * before/after edges; a cycle is an error naming it.
 */
typedef struct kapi_chain_order {
  kapi_kind kind;
  const char *const *names; /* NULL-terminated */
} kapi_chain_order;
int kapi_plugins_assemble(kapi_plugins *ps, const kapi_chain_order *order,
                          size_t n_order, char *err, size_t errlen);

/* The chain of a kind, after assemble. */
size_t kapi_plugins_count(const kapi_plugins *ps, kapi_kind kind);
const kapi_component *kapi_plugins_at(const kapi_plugins *ps, kapi_kind kind,
                                      size_t i);
/* Writes one line per loaded plugin and per component, chain order. */
void kapi_plugins_print(const kapi_plugins *ps, FILE *out);
/* Calls fini in reverse load order, dlcloses (unless KAPI_NO_DLCLOSE),
 * frees. */
void kapi_plugins_free(kapi_plugins *ps);

/* The host API table handed to every plugin. */
const kapi_host_api *kapi_host_api_get(void);

/* Hook the server installs so plugins can read stored objects
 * (host_api.store_get).  Until set, store_get returns -ENOSYS. */
typedef int (*kapi_store_get_hook)(const char *group, const char *resource,
                                   const char *ns, const char *name,
                                   kapi_obj **ret);
void kapi_host_set_store_get(kapi_store_get_hook fn);

#endif
