/*
 * events.h - the event recorder (client-go tools/record): core/v1 Events
 * about objects, written asynchronously by a background thread, with
 * upstream's aggregation of repeats (same object, type, reason and
 * message within 10 minutes: the existing Event's count and
 * lastTimestamp are updated instead of creating a new one).
 */
#ifndef KAPI_EVENTS_H
#define KAPI_EVENTS_H

#include "client.h"
#include "json.h"

typedef struct kapi_recorder kapi_recorder;

/* component: source.component / reportingComponent ("default-scheduler",
 * "kubelet", "replicaset-controller"); host: source.host (may be NULL).
 * The client is borrowed and must outlive the recorder. */
kapi_recorder *kapi_recorder_new(kapi_client *c, const char *component,
                                 const char *host);
/* Queues an Event about `involved` (borrowed; its kind, apiVersion,
 * namespace, name, uid and resourceVersion are copied).  type is
 * "Normal" or "Warning".  Never blocks on the network. */
void kapi_recorder_eventf(kapi_recorder *r, const kj *involved,
                          const char *type, const char *reason,
                          const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Writes what is queued (waits up to 5 s), stops the thread, frees. */
void kapi_recorder_free(kapi_recorder *r);

#endif
