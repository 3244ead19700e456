/*
 * reflector.h - upstream's Reflector (client-go tools/cache
 * reflector.go): keeps a DeltaFIFO fed with the state of one resource
 * type by List then Watch, forever.
 *
 *   - list in pages (limit = page size, following `continue`), then
 *     Replace the FIFO's contents with the result;
 *   - watch from the list's resourceVersion with bookmarks and a random
 *     300-600 s timeout, recording the resourceVersion of every event
 *     (bookmarks included); when a watch ends, watch again from there;
 *   - relist when the watch reports 410 Expired (or any other ERROR
 *     event), when it cannot be started for a reason other than the
 *     connection, or when it closes at once with no events;
 *   - between attempts, back off exponentially from 0.8 s to 30 s with
 *     jitter (reset after two quiet minutes).
 *
 * It runs on a thread of its own; the informer (informer.h) owns one.
 */
#ifndef KAPI_REFLECTOR_H
#define KAPI_REFLECTOR_H

#include <stdint.h>

#include "client.h"
#include "informer.h"

typedef struct kapi_reflector kapi_reflector;

typedef struct kapi_reflector_config {
  kapi_client *client;        /* borrowed; must outlive the reflector */
  const kapi_gvr *gvr;        /* copied */
  const char *ns;             /* NULL or "" = all namespaces; copied */
  const char *label_selector; /* may be NULL; copied */
  const char *field_selector; /* may be NULL; copied */
  int64_t page_size;          /* list page size; 0 = 500 */
  kapi_delta_fifo *fifo;      /* borrowed; receives every change */
  /* Called (may be NULL) on the reflector's thread after each Replace
   * of the FIFO, e.g. to wake those waiting for the first sync. */
  void (*on_replace)(void *arg);
  void *arg;                  /* borrowed, for on_replace */
} kapi_reflector_config;

/* *ret owned by the caller (kapi_reflector_free).  0 or -ENOMEM. */
int kapi_reflector_new(const kapi_reflector_config *cfg,
                       kapi_reflector **ret);
/* Starts the List/Watch thread.  0, -EALREADY, or -errno. */
int kapi_reflector_start(kapi_reflector *r);
/* Asks the thread to stop and joins it: promptly when it is backing off
 * or watching (the client checks at least every second), after the
 * request in flight otherwise.  Idempotent. */
void kapi_reflector_stop(kapi_reflector *r);
/* Asks the reflector to stop without waiting for it: a watch notices
 * within a second, so stopping many is quick when every one is asked
 * before any is joined (kapi_reflector_stop then joins). */
void kapi_reflector_request_stop(kapi_reflector *r);
/* Stops it if needed, then frees it.  NULL is fine. */
void kapi_reflector_free(kapi_reflector *r);

/* The resourceVersion last seen (list, event or bookmark); 0 before the
 * first list. */
int64_t kapi_reflector_last_rv(kapi_reflector *r);
/* How many lists completed (the first one included). */
unsigned kapi_reflector_lists(kapi_reflector *r);

#endif
