/*
 * framework.h - the scheduling framework (upstream's framework/runtime/
 * framework.go and the algorithm of schedule_one.go): profiles built
 * from KubeSchedulerConfiguration over the loaded plugins, the cycle
 * state, statuses, and the runs of each extension point:
 *
 *   PreFilter -> Filter (every node, from a rotating start, until enough
 *   feasible nodes) -> [PostFilter on no fit] -> PreScore -> Score ->
 *   NormalizeScore x weight -> select host (random among the best) ->
 *   Reserve -> Permit -> (binding cycle) PreBind -> Bind -> PostBind
 *
 * The framework also installs the scheduler members of the plugins' host
 * API (kapi_host_set_sched): statuses, cycle state, node infos.
 */
#ifndef KAPI_SCHED_FRAMEWORK_H
#define KAPI_SCHED_FRAMEWORK_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "sched_config.h"
#include "json.h"
#include "kapi/plugin.h"
#include "nodeinfo.h"
#include "plugin_loader.h"
#include "queue.h"

/* ---- statuses ------------------------------------------------------ */

/* framework.Status: a code, the plugin that set it, its reasons. */
struct kapi_sched_status {
  kapi_code code;
  const char *plugin; /* borrowed (the framework's plugin name) */
  char **reasons;     /* owned */
  size_t n, cap;
};
typedef struct kapi_sched_status kapi_sched_status;

/* A zeroed status is Success with no reasons. */
void kapi_status_reset(kapi_sched_status *s);
void kapi_status_free(kapi_sched_status *s);
int kapi_status_add_reason(kapi_sched_status *s, const char *reason);
/* Moves src's contents to dst (dst freed first); src is left empty. */
void kapi_status_move(kapi_sched_status *dst, kapi_sched_status *src);
int kapi_status_copy(kapi_sched_status *dst, const kapi_sched_status *src);
/* Reasons joined by ", " (upstream's Status.Message), newly allocated. */
char *kapi_status_message(const kapi_sched_status *s);
/* Unschedulable or UnschedulableAndUnresolvable (Status.IsRejected). */
int kapi_code_rejected(kapi_code c);

/* ---- profiles ---------------------------------------------------------- */

/* Extension points, in cycle order (sched_config.h names them). */

/* A plugin as a profile uses it. */
typedef struct kapi_fw_plugin {
  const char *name;          /* the registry's (borrowed) */
  const kapi_sched_ops *ops; /* static storage */
  void *st;
  int32_t weight;            /* Score only */
} kapi_fw_plugin;

/* The plugins a profile may use: every loaded KAPI_KIND_SCHED component
 * plus the built-in ones (DefaultPreemption, SchedulingGates). */
typedef struct kapi_sched_registry {
  kapi_fw_plugin *v;
  size_t n;
} kapi_sched_registry;

/* ps may be NULL (built-ins only).  Names are borrowed from ps. */
int kapi_sched_registry_build(kapi_sched_registry *reg, const kapi_plugins *ps);
void kapi_sched_registry_free(kapi_sched_registry *reg);
const kapi_fw_plugin *kapi_sched_registry_find(const kapi_sched_registry *reg,
                                         const char *name);
/* Whether a plugin implements an extension point (KAPI_EP_*). */
int kapi_plugin_implements(const kapi_sched_ops *ops, int point);

/* What the framework needs from the daemon: API writes made by
 * built-in plugins (preemption) and events.  Any member may be NULL. */
typedef struct kapi_sched_io {
  void *arg;
  /* A merge patch (JSON text) on the pod's status subresource. */
  int (*patch_status)(void *arg, const kj *pod, const char *patch);
  int (*delete_pod)(void *arg, const kj *pod);
  void (*event)(void *arg, const kj *obj, const char *type,
                const char *reason, const char *message);
} kapi_sched_io;

typedef struct kapi_framework {
  char *scheduler_name;
  int percentage_of_nodes_to_score; /* 0 = adaptive */
  kapi_fw_plugin *points[KAPI_EP_N];
  size_t n_points[KAPI_EP_N];
  /* Set by the daemon (all optional). */
  kapi_sched_queue *queue;   /* nominated pods */
  const kapi_sched_io *io;
  /* Round-robin start of the Filter walk across cycles. */
  size_t next_start_node_index;
  uint64_t rng; /* tie-break state */
  pthread_mutex_t rng_mu;
} kapi_framework;

/*
 * Builds a profile: expands its multiPoint plugins to the points each
 * implements, checks the specific lists, takes score weights (0 -> 1).
 * Upstream's errors: unknown plugin, a plugin that does not extend a
 * point, double registration, not exactly one QueueSort, no Bind.
 */
int kapi_fw_new(const kapi_profile_config *pc, const kapi_sched_registry *reg,
                kapi_framework **ret, char *err, size_t errlen);
void kapi_fw_free(kapi_framework *fw);
void kapi_fw_seed(kapi_framework *fw, uint64_t seed);
/* Writes "point: A, B(weight 3)" lines (for -v and --help debugging). */
void kapi_fw_describe(const kapi_framework *fw, char *buf, size_t len);

/* Installs the scheduler members of the host API (once per process). */
void kapi_fw_install_host(void);

/* ---- cycle state ------------------------------------------------------- */

typedef struct kapi_diagnosis kapi_diagnosis;

struct kapi_cycle {
  pthread_rwlock_t lock;
  struct cycle_entry {
    char *key;
    void *data;
    const kapi_state_vtbl *vt;
  } *v;
  size_t n, cap;
  /* Framework-internal: plugins whose PreFilter / PreScore said Skip. */
  const kapi_sched_ops **skip_filter, **skip_score;
  size_t n_skip_filter, n_skip_score;
  /* For built-in plugins: the cycle being run. */
  kapi_framework *fw;
  const kapi_snapshot *snap;
  kapi_diagnosis *diag;
  /* Set by PostFilter (preemption): NULL = leave the pod's nomination,
   * "" = clear it, else the node nominated. */
  char *nominated_node;
};
typedef struct kapi_cycle kapi_cycle;

kapi_cycle *kapi_cycle_new(void);
void kapi_cycle_free(kapi_cycle *cs);
int kapi_cycle_write(kapi_cycle *cs, const char *key, void *data,
                     const kapi_state_vtbl *vt);
void *kapi_cycle_read(kapi_cycle *cs, const char *key);

/* ---- one scheduling attempt -------------------------------------------- */

/* The status of one node that did not pass the filters. */
typedef struct kapi_node_status {
  const char *node; /* borrowed from the snapshot */
  kapi_sched_status st;
} kapi_node_status;

/* Why a pod fitted no node (upstream's FitError.Diagnosis). */
struct kapi_diagnosis {
  size_t num_all_nodes;
  kapi_node_status *nodes; /* failed nodes */
  size_t n, cap;
  /* PreFilter rejected the pod: every node has this status. */
  int pre_filter_rejected;
  kapi_sched_status pre_filter;
  char *post_filter_msg; /* owned */
};

void kapi_diagnosis_free(kapi_diagnosis *d);
int kapi_diagnosis_add(kapi_diagnosis *d, const char *node,
                       kapi_sched_status *st);
/* The status a node got (or the PreFilter one, or NULL: absent, which
 * counts as UnschedulableAndUnresolvable). */
const kapi_sched_status *kapi_diagnosis_get(const kapi_diagnosis *d,
                                            const char *node);
/* "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) ... ." plus
 * the PostFilter message: FitError.Error(), newly allocated. */
char *kapi_fit_error_message(const kapi_diagnosis *d);
/* The histogram part only: "1 Insufficient cpu, 2 ..." (used by
 * preemption for its own message), newly allocated. */
char *kapi_diagnosis_histogram(const kapi_diagnosis *d);

typedef struct kapi_sched_result {
  char node[256];    /* the suggested host */
  size_t evaluated;  /* nodes filtered */
  size_t feasible;   /* nodes that passed */
} kapi_sched_result;

/*
 * schedulePod: Success with res->node; Unschedulable (a FitError in
 * diag; the caller runs PostFilter); Error with *err (newly allocated).
 * The snapshot must stay alive until the binding cycle ends if plugins
 * keep node infos (ours do not).
 */
kapi_code kapi_fw_schedule_pod(kapi_framework *fw, kapi_cycle *cs,
                               const kapi_snapshot *snap, const kj *pod,
                               kapi_sched_result *res, kapi_diagnosis *diag,
                               char **err);

/* The pieces of schedule_pod, for preemption and tests. */
kapi_code kapi_fw_run_pre_filter(kapi_framework *fw, kapi_cycle *cs,
                                 const kj *pod, kapi_sched_status *s);
/* Filter on one node, with the nominated pods of higher or equal
 * priority added first (RunFilterPluginsWithNominatedPods). */
kapi_code kapi_fw_run_filters(kapi_framework *fw, kapi_cycle *cs,
                              const kj *pod, const kapi_node_info *ni,
                              kapi_sched_status *s);
/* PreScore + Score + NormalizeScore + weights: totals[i] for nodes[i];
 * per_plugin (may be NULL) gets n * n_points[KAPI_EP_SCORE] weighted
 * scores, node-major. */
kapi_code kapi_fw_prioritize(kapi_framework *fw, kapi_cycle *cs,
                             const kj *pod, kapi_node_info *const *nodes,
                             size_t n, int64_t *totals, int64_t *per_plugin,
                             char **err);
/* selectHost: the index of a highest total, ties broken uniformly at
 * random (reservoir sampling). */
size_t kapi_fw_select_host(kapi_framework *fw, const int64_t *totals,
                           size_t n);
/* upstream's numFeasibleNodesToFind. */
size_t kapi_fw_num_feasible_to_find(const kapi_framework *fw, size_t n);

/* PostFilter: on Unschedulable sets diag->post_filter_msg; a nominated
 * node (preemption) ends up in cs->nominated_node. */
kapi_code kapi_fw_run_post_filter(kapi_framework *fw, kapi_cycle *cs,
                                  const kj *pod, kapi_diagnosis *diag);
kapi_code kapi_fw_run_reserve(kapi_framework *fw, kapi_cycle *cs,
                              const kj *pod, const char *node,
                              kapi_sched_status *s);
void kapi_fw_run_unreserve(kapi_framework *fw, kapi_cycle *cs,
                           const kj *pod, const char *node);
/* Wait: *wait_ms is the longest timeout asked for, s->plugin the plugin
 * that asked for it. */
kapi_code kapi_fw_run_permit(kapi_framework *fw, kapi_cycle *cs,
                             const kj *pod, const char *node,
                             kapi_sched_status *s, uint32_t *wait_ms);
kapi_code kapi_fw_run_pre_bind(kapi_framework *fw, kapi_cycle *cs,
                               const kj *pod, const char *node,
                               kapi_sched_status *s);
kapi_code kapi_fw_run_bind(kapi_framework *fw, kapi_cycle *cs,
                           const kj *pod, const char *node,
                           kapi_sched_status *s);
void kapi_fw_run_post_bind(kapi_framework *fw, kapi_cycle *cs,
                           const kj *pod, const char *node);

/* The built-in DefaultPreemption plugin (preemption.c). */
extern const kapi_sched_ops kapi_default_preemption_ops;

#endif
