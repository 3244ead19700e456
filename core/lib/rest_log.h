/*
 * rest_log.h - GET .../pods/<name>/log: the container's log, proxied from
 * the kubelet of the pod's node (upstream: pod LogREST + LogLocation +
 * genericrest.LocationStreamer).
 */
#ifndef KAPI_REST_LOG_H
#define KAPI_REST_LOG_H

#include <sys/types.h>

#include "server.h"

typedef struct kapi_byte_stream kapi_byte_stream;

/* Answers the request: a Status for an error, else resp->bytes streams the
 * kubelet's answer (text/plain). */
void rest_log(kapi_server *srv, kapi_req *r, kapi_resource *res,
              kapi_response *resp);

/* For the HTTP front end: up to max bytes into buf; >0 bytes, 0 nothing
 * yet (call again after the wake), -1 the end.  Never waits. */
ssize_t kapi_byte_stream_read(kapi_byte_stream *bs, char *buf, size_t max);
/* wake(arg) is called (from the transfer's thread, with the stream's lock
 * held: it must only queue) when bytes or the end arrive, and at once if
 * some are already there.  `arg` is borrowed. */
void kapi_byte_stream_set_wake(kapi_byte_stream *bs, void (*wake)(void *),
                               void *arg);
/* Aborts the transfer if still running and frees bs (NULL is fine). */
void kapi_byte_stream_free(kapi_byte_stream *bs);

#endif
