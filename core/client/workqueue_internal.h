/*
 * workqueue_internal.h - test hooks of the work queue (workqueue.h):
 * a replaceable clock, and the rate limiter's decision without waiting,
 * so tests compute backoff sequences and delayed-add ordering instead
 * of timing them.  Internal to libkapi: names start with `kapi__`.
 */
#ifndef KAPI_WORKQUEUE_INTERNAL_H
#define KAPI_WORKQUEUE_INTERNAL_H

#include <stdint.h>

#include "workqueue.h"

/* A monotonic clock in nanoseconds. */
typedef uint64_t (*kapi__workqueue_clock)(void *arg);

/* Replaces the queue's clock (CLOCK_MONOTONIC by default) for delayed
 * adds and rate limiting; arg borrowed.  Call before using the queue. */
void kapi__workqueue_set_clock(kapi_workqueue *q, kapi__workqueue_clock now,
                               void *arg);
/* The delay add_rate_limited(key) would use now, in nanoseconds: the
 * larger of the key's exponential backoff and the overall token bucket.
 * Like add_rate_limited it counts a requeue of key and takes a token. */
uint64_t kapi__workqueue_when_ns(kapi_workqueue *q, const char *key);
/* Moves every delayed key that is due by the queue's clock into the
 * queue, now, in the caller's thread (the queue's timer thread does the
 * same on its own); returns how many keys are still waiting. */
size_t kapi__workqueue_flush_ready(kapi_workqueue *q);

#endif
