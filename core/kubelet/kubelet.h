/*
 * kubelet.h - kapi-kubelet's process: one or more nodes (hollow nodes
 * share everything) on one container runtime plugin.
 *
 * Upstream (pkg/kubelet) runs a goroutine per pod; here a process holds:
 *
 *   pod informer (spec.nodeName=NODE, or every bound pod for hollow
 *     nodes) --handlers--> pod records (by uid) --> work queue of uids
 *   PLEG thread: relists the runtime every second; changes -> queue
 *   loop thread: the 1 s sync ticker (pods whose resync time is due)
 *     and the 2 s housekeeping (back-off GC, cleanup retries)
 *   pod workers: a pool taking uids off the queue; the queue never hands
 *     one uid to two workers, which makes each pod's sync serial
 *     (upstream's one-worker-per-pod) without a thread per pod
 *   heartbeat threads: node registration, status every
 *     --node-status-update-frequency, Lease renewal
 *
 * Locking: kl->mu guards the maps and the fields of records marked
 * "(mu)"; the other record fields belong to whichever worker currently
 * syncs the uid.
 */
#ifndef KAPI_KUBELET_H
#define KAPI_KUBELET_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "backoff.h"
#include "client.h"
#include "events.h"
#include "informer.h"
#include "json.h"
#include "kapi/plugin.h"
#include "machine.h"
#include "podstatus.h"
#include "static_pods.h"
#include "strmap.h"
#include "workqueue.h"

typedef struct kl kl;

typedef struct kl_options {
  const char *hostname;     /* node name (or prefix with hollow nodes) */
  const char *node_ip;      /* NULL: detected */
  const char *runtime;      /* runtime component name */
  const char *root_dir;
  int64_t cpu_milli, memory_bytes, max_pods; /* 0: from the machine */
  int hollow;               /* > 0: this many hollow nodes NAME-0.. */
  int64_t status_period_ns; /* --node-status-update-frequency */
  int workers;              /* pod workers; 0: by runtime */
  double qps;               /* API client QPS (main.c); 0: 50 per node */
  const char *address;      /* the kubelet server's address; NULL: 127.0.0.1 */
  int port;                 /* its port; 0: any free one */
  const char *pod_manifest_path; /* static pods' directory; NULL: none */
  int64_t file_check_ns;    /* --file-check-frequency; 0: 20 s */
} kl_options;

/* One node this process runs. */
typedef struct kl_node {
  kl *kl;
  size_t index;
  char name[256];
  char uid[64];          /* the Node's uid once registered */
  char internal_ip[64];
  int registered;        /* heartbeat thread only */
  kj *last_status;       /* heartbeat thread only: last status written */
  kj *lease;             /* heartbeat thread only: our Lease as last seen */
  int64_t next_beat_ns;  /* heartbeat thread only */
  unsigned char ip_used[256]; /* (mu) pod IP slots (non-process runtimes) */
  size_t pods;           /* (mu) records on this node */
} kl_node;

/* The kubelet's record of one pod (upstream: podSyncStatus + the
 * runtime cache + the status manager's entry). */
typedef struct kl_pod {
  char uid[64];
  char name[256], ns[64];
  kl_node *node;
  kapi_cobj *pod;        /* (mu) latest object from the informer */
  int removed;           /* (mu) gone from the API */
  int64_t next_sync_ns;  /* (mu) when the sync ticker queues it; 0 none */
  char sandbox_id[KAPI_ID_MAX];
  int has_sandbox;
  char pod_ip[64];
  int ip_slot;           /* 0 = none */
  kl_ctr *ctrs;
  size_t n_ctrs;
  int32_t *base_restarts; /* per ctr: restartCount in the API at adoption,
                             -1 if the container never ran */
  kj *status;            /* status manager: the last status written */
  int64_t status_written_ns;
  int terminated;        /* containers stopped after deletion */
  int final_deleted;     /* the final DELETE went through */
  int cleaned;           /* runtime objects removed */
} kl_pod;

struct kl {
  kl_options opt;
  kl_machine machine;
  kapi_client *client;   /* borrowed: outlives kl */
  kapi_informer *informer;
  kapi_recorder *recorder;
  const kapi_runtime_ops *rt;
  void *rt_st;
  int fake_ips;          /* pod IPs from 10.x (not the process runtime) */
  kl_backoff *backoff;
  kapi_workqueue *queue; /* uids */

  pthread_mutex_t mu;
  kapi__strmap *pods;       /* uid -> kl_pod */
  kapi__strmap *nodes;      /* name -> kl_node */
  kapi__strmap *sandboxes;  /* sandbox id -> uid (strdup) */
  kl_node *node;            /* array of n_nodes */
  size_t n_nodes;

  volatile int stopping;
  pthread_mutex_t stop_mu;  /* with stop_cv: interruptible sleeps */
  pthread_cond_t stop_cv;
  pthread_t *threads;
  size_t n_threads;
  struct kl_heartbeat *beats; /* one per heartbeat thread */
  size_t n_beats;
  struct kl_logserver *logserver; /* NULL with hollow nodes */
  int kubelet_port;         /* reported as daemonEndpoints; 0 = none */
  kl_static *statics;       /* the file pod source; NULL without one */
};

/* ---- lifecycle (kubelet.c) ---------------------------------------------- */

/* Builds the process (machine facts, nodes, maps, queue).  opt is
 * copied (its strings borrowed); client and the runtime component
 * rt/rt_st are borrowed and must outlive kl.  0 or -errno with err
 * filled. */
int kl_new(const kl_options *opt, kapi_client *client,
           const kapi_runtime_ops *rt, void *rt_st, kl **ret, char *err,
           size_t errlen);
/* Starts every thread (nodes register in the background). */
int kl_start(kl *k, char *err, size_t errlen);
/* Stops and joins every thread (safe if kl_start failed half-way);
 * containers are left to the runtime. */
void kl_stop(kl *k);
void kl_free(kl *k);
/* Sleeps up to ns or until kl_stop; returns non-zero when stopping. */
int kl_sleep(kl *k, int64_t ns);
int64_t kl_now_ns(void);
/* mkdir -p with mode 0755: 0 or -errno. */
int kl_mkdirs(const char *path);

/* ---- pods (pods.c) -------------------------------------------------------- */

/* Informer handlers feeding records and the queue. */
extern const kapi_event_handler kl_pod_handler;
/* Queues uid now (dedup by the work queue). */
void kl_enqueue(kl *k, const char *uid);
/* Sets when the ticker queues uid next (keeps the earlier time). */
void kl_schedule(kl *k, kl_pod *p, int64_t at_ns);
/* The uid owning a sandbox, copied into buf; 0 or -ENOENT. */
int kl_sandbox_owner(kl *k, const char *sandbox_id, char *buf, size_t len);
void kl_sandbox_register(kl *k, const char *sandbox_id, const char *uid);
void kl_sandbox_forget(kl *k, const char *sandbox_id);
/* Allocates a pod IP for p on its node (10.x for fake runtimes). */
void kl_pod_ip_assign(kl *k, kl_pod *p);
void kl_pod_ip_release(kl *k, kl_pod *p);
/* Drops a record (removed, cleaned): from the map, then freed. */
void kl_pod_forget(kl *k, kl_pod *p);
void kl_pod_free(kl_pod *p);

/* ---- syncing (sync.c) ------------------------------------------------------- */

/* One pod worker step for uid (the work queue's sync function). */
void kl_sync(kl *k, const char *uid);

/* ---- PLEG (pleg.c) ---------------------------------------------------------- */

typedef struct kl_pleg kl_pleg;
kl_pleg *kl_pleg_new(kl *k);
void kl_pleg_free(kl_pleg *pl);
/* One relist: diffs the runtime against the last one and queues the
 * owners of containers that changed.  Returns the number queued. */
size_t kl_pleg_relist(kl_pleg *pl);
void *kl_pleg_main(void *arg);

/* ---- nodes (heartbeat.c) -------------------------------------------------------- */

void *kl_heartbeat_main(void *arg); /* arg: kl_heartbeat */
typedef struct kl_heartbeat {
  kl *k;
  size_t first, step; /* nodes first, first+step, ... */
} kl_heartbeat;

#endif
