/*
 * schedule_one.h - the scheduler proper (upstream's pkg/scheduler
 * scheduler.go, schedule_one.go, eventhandlers.go): informer handlers
 * feeding the queue and the cache, the loop that schedules one pod at a
 * time, binder threads running each binding cycle asynchronously, and
 * the reporting of failures (FailedScheduling events, the PodScheduled
 * condition).
 */
#ifndef KAPI_SCHED_SCHEDULE_ONE_H
#define KAPI_SCHED_SCHEDULE_ONE_H

#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "framework.h"
#include "informer.h"

typedef struct kapi_scheduler kapi_scheduler;

typedef struct kapi_scheduler_config {
  kapi_client *client;          /* borrowed; outlives the scheduler */
  kapi_framework **profiles;    /* borrowed; profiles[0] has the queue sort */
  size_t n_profiles;
  int64_t initial_backoff_s;    /* 1 */
  int64_t max_backoff_s;        /* 10 */
  int binders;                  /* binding threads; 0 = 16 */
} kapi_scheduler_config;

/* Also points every profile's queue and io at the scheduler's. */
kapi_scheduler *kapi_scheduler_new(const kapi_scheduler_config *cfg);
/* Creates the pod and node informers, starts them, waits until both
 * have synced (timeout_ms, <0 forever), then starts the loop, the
 * binders and the periodic flushes.  0 or -errno. */
int kapi_scheduler_start(kapi_scheduler *s, int timeout_ms);
/* Stops everything (waits for bindings in flight); idempotent. */
void kapi_scheduler_stop(kapi_scheduler *s);
void kapi_scheduler_free(kapi_scheduler *s);

/* Counters, for logs and the benchmark. */
uint64_t kapi_scheduler_scheduled(kapi_scheduler *s);
uint64_t kapi_scheduler_failed(kapi_scheduler *s);

#endif
