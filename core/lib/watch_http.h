/*
 * watch_http.h - a watch as an HTTP stream: store events filtered by the
 * request's selectors, encoded one JSON event per line (or as Table rows),
 * with BOOKMARKs and the request's deadline.
 */
#ifndef KAPI_WATCH_HTTP_H
#define KAPI_WATCH_HTTP_H

#include <sys/types.h>
#include <time.h>

#include "server.h"

/* Starts the watch for a list-shaped request (resource, namespace and the
 * query: resourceVersion, labelSelector, fieldSelector, timeoutSeconds,
 * allowWatchBookmarks).  On success resp->stream is set; on a request
 * error resp holds the Status. */
void kapi_watch_start(kapi_server *srv, kapi_req *r, kapi_resource *res,
                      kapi_response *resp);

/* Writes up to max bytes of the stream into buf: >0 bytes written, 0
 * nothing now (the wake function will be called), -1 the stream ended. */
ssize_t watch_stream_fill(watch_stream *ws, char *buf, size_t max);
/* 1 when a timer (deadline, bookmark) needs the stream to run. */
int watch_stream_due(watch_stream *ws, time_t now);
/* Where the store's notifications go (see kapi_watch_notify_fn). */
void watch_stream_set_wake(watch_stream *ws, void (*wake)(void *), void *arg);
void watch_stream_free(watch_stream *ws);

#endif
