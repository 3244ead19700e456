/*
 * workqueue.h - a rate-limited, deduplicating work queue of string keys
 * (client-go util/workqueue): a key is never processed by two workers at
 * once, a key added while being processed is processed again after
 * done(), and add_rate_limited backs off per key (5 ms doubling to
 * 1000 s, as upstream's default controller rate limiter, combined with an
 * overall 10 qps / 100 burst bucket).
 */
#ifndef KAPI_WORKQUEUE_H
#define KAPI_WORKQUEUE_H

#include <stddef.h>

typedef struct kapi_workqueue kapi_workqueue;

kapi_workqueue *kapi_workqueue_new(const char *name);
void kapi_workqueue_free(kapi_workqueue *q);
void kapi_workqueue_add(kapi_workqueue *q, const char *key);
void kapi_workqueue_add_after(kapi_workqueue *q, const char *key,
                              int delay_ms);
void kapi_workqueue_add_rate_limited(kapi_workqueue *q, const char *key);
void kapi_workqueue_forget(kapi_workqueue *q, const char *key);
int kapi_workqueue_requeues(kapi_workqueue *q, const char *key);
/* Blocks for the next key: 0 and *ret (newly allocated; pass it to done
 * then free it), or -EPIPE after shutdown. */
int kapi_workqueue_get(kapi_workqueue *q, char **ret);
void kapi_workqueue_done(kapi_workqueue *q, const char *key);
size_t kapi_workqueue_len(kapi_workqueue *q);
/* Wakes every get() with -EPIPE; pending keys are dropped. */
void kapi_workqueue_shutdown(kapi_workqueue *q);

#endif
