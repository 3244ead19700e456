/*
 * sched_config.h - KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1)
 * as kapi-scheduler reads it: profiles with their plugin sets (merged
 * with upstream's default profile as v1 defaulting does), plugin
 * arguments, queue backoffs, leader election.
 */
#ifndef KAPI_SCHED_SCONFIG_H
#define KAPI_SCHED_SCONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"

/* Extension points, in cycle order; KAPI_EP_MULTI_POINT last. */
enum {
  KAPI_EP_QUEUE_SORT = 0,
  KAPI_EP_PRE_FILTER,
  KAPI_EP_FILTER,
  KAPI_EP_POST_FILTER,
  KAPI_EP_PRE_SCORE,
  KAPI_EP_SCORE,
  KAPI_EP_RESERVE,
  KAPI_EP_PERMIT,
  KAPI_EP_PRE_BIND,
  KAPI_EP_BIND,
  KAPI_EP_POST_BIND,
  KAPI_EP_N,
  KAPI_EP_MULTI_POINT = KAPI_EP_N,
  KAPI_EP_PRE_ENQUEUE, /* read, but handled by the queue */
  KAPI_EP_ALL
};

/* The YAML key of a point: "queueSort", "preFilter", ... "multiPoint". */
const char *kapi_ep_name(int point);

typedef struct kapi_plugin_entry {
  char *name;
  int32_t weight;
} kapi_plugin_entry;

/* PluginSet: enabled (in order) and disabled ("*" = every default). */
typedef struct kapi_plugin_set {
  kapi_plugin_entry *enabled;
  size_t n_enabled;
  char **disabled;
  size_t n_disabled;
} kapi_plugin_set;

typedef struct kapi_profile_config {
  char *scheduler_name;
  int percentage_of_nodes_to_score; /* -1 = the global one */
  kapi_plugin_set sets[KAPI_EP_ALL]; /* after merging with the defaults */
  kj *plugin_args; /* object: plugin name -> args (owned) */
} kapi_profile_config;

typedef struct kapi_sched_config {
  kapi_profile_config *profiles;
  size_t n_profiles;
  int percentage_of_nodes_to_score;  /* 0 = adaptive */
  int64_t pod_initial_backoff_s;     /* 1 */
  int64_t pod_max_backoff_s;         /* 10 */
  int parallelism;                   /* 16 */
  char *kubeconfig;                  /* clientConnection.kubeconfig */
  double qps;                        /* clientConnection.qps (50) */
  int burst;                         /* clientConnection.burst (100) */
  int leader_elect;                  /* 1 */
  char *lease_namespace;             /* kube-system */
  char *lease_name;                  /* kube-scheduler */
  int lease_duration_s, renew_deadline_s, retry_period_s; /* 15, 10, 2 */
} kapi_sched_config;

/* The defaults: one profile "default-scheduler" with upstream's default
 * plugins (config v1 default_plugins.go). */
int kapi_sched_config_default(kapi_sched_config *cfg);
/* Parses a KubeSchedulerConfiguration document (from YAML or JSON) over
 * the defaults.  -EINVAL with a message naming the field. */
int kapi_sched_config_parse(const kj *doc, kapi_sched_config *cfg,
                            char *err, size_t errlen);
void kapi_sched_config_free(kapi_sched_config *cfg);

/*
 * The plugin loader's configuration object: {"plugins": {"<key>": args}}
 * for every pluginConfig entry of every profile (the first profile that
 * configures a plugin wins: a plugin is loaded once per process).  Each
 * entry is keyed by `name_to_key(name)` when it returns a name, else by
 * the configured name and its kebab-case form ("NodeResourcesFit" ->
 * "node-resources-fit"), the convention of in-tree plugin files.
 * Newly allocated.
 */
kj *kapi_sched_config_loader_object(const kapi_sched_config *cfg,
                                    const char *(*name_to_key)(void *arg,
                                                               const char *),
                                    void *arg);
/* "NodeResourcesFit" -> "node-resources-fit" into buf. */
void kapi_kebab_case(const char *name, char *buf, size_t len);

/* upstream's default multiPoint plugins and weights, in order. */
extern const kapi_plugin_entry kapi_default_plugins[];
extern const size_t kapi_n_default_plugins;

#endif
