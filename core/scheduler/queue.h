/*
 * queue.h - the scheduling queue (upstream's backend/queue/
 * scheduling_queue.go PriorityQueue):
 *
 *   activeQ          a heap ordered by the profile's QueueSort plugin;
 *                    the scheduling loop pops from it
 *   backoffQ         pods that failed, waiting out 1 s * 2^(attempts-1)
 *                    (capped at 10 s) before going back to activeQ
 *   unschedulable    pods no node fitted; moved back by cluster events
 *                    (move_all) or after 5 minutes (flush_unschedulable)
 *   gated            pods with spec.schedulingGates (the SchedulingGates
 *                    PreEnqueue plugin), until an update removes them
 *
 * plus the nominator: pods nominated to a node by preemption, which the
 * filters must account for.
 *
 * Time comes from a clock callback so tests compute backoffs instead of
 * sleeping.  Thread-safe.
 */
#ifndef KAPI_SCHED_QUEUE_H
#define KAPI_SCHED_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "informer.h"

typedef struct kapi_sched_queue kapi_sched_queue;

/* Where a queued pod is. */
typedef enum kapi_sq_where {
  KAPI_SQ_ACTIVE = 0,
  KAPI_SQ_BACKOFF = 1,
  KAPI_SQ_UNSCHEDULABLE = 2,
  KAPI_SQ_GATED = 3,
  KAPI_SQ_IN_FLIGHT = 4, /* popped, being scheduled */
  KAPI_SQ_N = 5
} kapi_sq_where;

/* A queued pod (QueuedPodInfo).  The loop reads these fields of a popped
 * pod; the queue owns the struct. */
typedef struct kapi_qpod {
  kapi_cobj *pod;          /* latest object (reference; private: informer
                              updates replace it under the queue's lock) */
  kapi_cobj *cycle_pod;    /* a popped pod's object as popped: stable for
                              the attempt (reference) */
  int64_t timestamp;       /* ns: when (re)queued; QueueSort's tie-break */
  int64_t initial_attempt; /* ns: first pop */
  int attempts;            /* pops so far */
  /* private */
  kapi_sq_where where;
  size_t heap_idx;
  uint64_t popped_cycle;
  int deleted;             /* deleted while in flight */
  int updated;             /* spec changed while in flight */
} kapi_qpod;

/* QueueSort: non-zero if a goes before b. */
typedef int (*kapi_sq_less_fn)(void *arg, const kj *a, int64_t ts_a,
                               const kj *b, int64_t ts_b);
typedef int64_t (*kapi_sq_clock_fn)(void *arg); /* ns */

typedef struct kapi_sq_config {
  kapi_sq_less_fn less; /* required */
  void *less_arg;
  kapi_sq_clock_fn now; /* NULL = CLOCK_MONOTONIC */
  void *now_arg;
  int64_t initial_backoff_ns; /* 0 = 1 s */
  int64_t max_backoff_ns;     /* 0 = 10 s */
  int64_t max_unschedulable_ns; /* 0 = 5 min */
} kapi_sq_config;

kapi_sched_queue *kapi_sq_new(const kapi_sq_config *cfg);
/* Frees every queued pod (in-flight ones must have been returned). */
void kapi_sq_free(kapi_sched_queue *q);

/* upstream's calculateBackoffDuration for a pod tried `attempts` times. */
int64_t kapi_sq_backoff_duration(const kapi_sched_queue *q, int attempts);

/* Informer events for unassigned pods.  Objects are borrowed (the queue
 * takes references). */
int kapi_sq_add(kapi_sched_queue *q, kapi_cobj *pod);
int kapi_sq_update(kapi_sched_queue *q, kapi_cobj *old, kapi_cobj *pod);
int kapi_sq_delete(kapi_sched_queue *q, const char *key);

/* Blocks until activeQ has a pod or the queue is closed (NULL).  The
 * popped pod is in flight until kapi_sq_done or kapi_sq_requeue. */
kapi_qpod *kapi_sq_pop(kapi_sched_queue *q);
/* Non-blocking variant: NULL when activeQ is empty. */
kapi_qpod *kapi_sq_try_pop(kapi_sched_queue *q);
/* The pod was scheduled (assumed): forget it. */
void kapi_sq_done(kapi_sched_queue *q, kapi_qpod *qp);
/* The attempt failed.  unschedulable: no node fitted (to the
 * unschedulable pods, unless a cluster event arrived meanwhile: then to
 * backoffQ); else an error (to backoffQ).  A pod deleted (or bound by
 * someone else) meanwhile is dropped. */
void kapi_sq_requeue(kapi_sched_queue *q, kapi_qpod *qp, int unschedulable);

/* A cluster event that may make unschedulable pods schedulable (node
 * added or changed, assigned pod deleted): all of them go to backoffQ if
 * still backing off, else to activeQ. */
void kapi_sq_move_all(kapi_sched_queue *q, const char *event);
/* Periodic work: backoffQ -> activeQ for expired backoffs (every 1 s
 * upstream), unschedulable pods parked longer than the maximum (every
 * 30 s upstream). */
void kapi_sq_flush_backoff(kapi_sched_queue *q);
void kapi_sq_flush_unschedulable(kapi_sched_queue *q);

/* Whether an in-flight pod was deleted (or bound elsewhere) meanwhile. */
int kapi_sq_is_deleted(kapi_sched_queue *q, const kapi_qpod *qp);

/* Pods in one place (tests, metrics). */
size_t kapi_sq_count(kapi_sched_queue *q, kapi_sq_where where);
/* Where a pod is: 0 and *ret, or -ENOENT. */
int kapi_sq_where_is(kapi_sched_queue *q, const char *key,
                     kapi_sq_where *ret);
/* Wakes pop() with NULL, now and forever. */
void kapi_sq_close(kapi_sched_queue *q);

/* ---- nominator ------------------------------------------------------- */

/* Records that `pod` (borrowed) is nominated to `node` (NULL or ""
 * removes the nomination). */
void kapi_sq_nominate(kapi_sched_queue *q, kapi_cobj *pod, const char *node);
void kapi_sq_unnominate(kapi_sched_queue *q, const char *key);
/* The pods nominated to `node` other than `except_key`: *ret (references,
 * kapi_cobj_array_free) and *n.  0 or -ENOMEM. */
int kapi_sq_nominated(kapi_sched_queue *q, const char *node,
                      const char *except_key, kapi_cobj ***ret, size_t *n);
/* Whether any pod is nominated (a fast check before the call above). */
int kapi_sq_has_nominated(kapi_sched_queue *q);

#endif
