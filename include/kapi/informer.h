/*
 * informer.h - client-side caches as upstream's client-go tools/cache:
 *
 *   Reflector (List+Watch) -> DeltaFIFO -> SharedInformer -> Indexer
 *                                                        -> event handlers
 *
 * plus a shared informer factory (one informer per resource type, shared
 * by every controller of a process) and a rate-limited work queue
 * (workqueue.h).
 *
 * Objects in caches are immutable, reference-counted kapi_cobj: handlers
 * and readers share them without copying.  Never modify cobj->obj; to
 * change an object, kj_clone it.
 */
#ifndef KAPI_INFORMER_H
#define KAPI_INFORMER_H

#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "json.h"

/* ---- cached objects -------------------------------------------------- */

typedef struct kapi_cobj {
  int refs;    /* atomic */
  char *key;   /* "<ns>/<name>" or "<name>" (MetaNamespaceKeyFunc) */
  kj *obj;     /* immutable */
} kapi_cobj;

/* Takes ownership of obj; computes the key.  refs = 1. */
kapi_cobj *kapi_cobj_new(kj *obj);
kapi_cobj *kapi_cobj_ref(kapi_cobj *o);
void kapi_cobj_unref(kapi_cobj *o); /* NULL is fine */
/* "<ns>/<name>" or "<name>", newly allocated. */
char *kapi_object_key(const kj *obj);
/* Frees an array of references returned by the list calls below. */
void kapi_cobj_array_free(kapi_cobj **v, size_t n);

/* ---- indexer ---------------------------------------------------------- */

typedef struct kapi_indexer kapi_indexer;

/* Computes the index values of an object: *ret is a newly allocated
 * array of *ret_n newly allocated strings (may be 0 values). */
typedef int (*kapi_index_fn)(const kj *obj, char ***ret, size_t *ret_n);

/* Upstream's common indices. */
int kapi_index_by_namespace(const kj *obj, char ***ret, size_t *ret_n);
int kapi_index_by_node_name(const kj *obj, char ***ret, size_t *ret_n);
/* The uid of the owner reference with controller=true. */
int kapi_index_by_controller_uid(const kj *obj, char ***ret, size_t *ret_n);

/* A thread-safe store of objects by key, with named indices. */
kapi_indexer *kapi_indexer_new(void);
void kapi_indexer_free(kapi_indexer *ix);
/* Indices must be added before the first object. */
int kapi_indexer_add_index(kapi_indexer *ix, const char *name,
                           kapi_index_fn fn);
/* Add or replace (by key); takes a reference of its own. */
int kapi_indexer_put(kapi_indexer *ix, kapi_cobj *o);
int kapi_indexer_remove(kapi_indexer *ix, const char *key);
/* New reference or -ENOENT. */
int kapi_indexer_get(kapi_indexer *ix, const char *key, kapi_cobj **ret);
int kapi_indexer_list(kapi_indexer *ix, kapi_cobj ***ret, size_t *ret_n);
int kapi_indexer_by_index(kapi_indexer *ix, const char *index,
                          const char *value, kapi_cobj ***ret,
                          size_t *ret_n);
/* All keys, newly allocated (for DeltaFIFO Replace/Resync). */
int kapi_indexer_keys(kapi_indexer *ix, char ***ret, size_t *ret_n);
size_t kapi_indexer_len(kapi_indexer *ix);

/* ---- DeltaFIFO ----------------------------------------------------------- */

typedef enum kapi_delta_type {
  KAPI_DELTA_ADDED = 1,
  KAPI_DELTA_UPDATED = 2,
  KAPI_DELTA_DELETED = 3,
  KAPI_DELTA_REPLACED = 4,
  KAPI_DELTA_SYNC = 5,
} kapi_delta_type;

typedef struct kapi_delta {
  kapi_delta_type type;
  kapi_cobj *obj; /* for a DELETED whose final state is unknown, the last
                     known state (DeletedFinalStateUnknown) */
} kapi_delta;

typedef struct kapi_delta_fifo kapi_delta_fifo;

/* `known` (borrowed, may be NULL) is the indexer the consumer keeps, used
 * by Replace to emit Deleted for objects missing from a relist and by
 * Resync to emit Sync deltas. */
kapi_delta_fifo *kapi_delta_fifo_new(kapi_indexer *known);
void kapi_delta_fifo_free(kapi_delta_fifo *f);
/* Each queues a delta (deduplicated per key as upstream: two Deleted in
 * a row collapse to one). */
int kapi_delta_fifo_add(kapi_delta_fifo *f, kapi_cobj *o);
int kapi_delta_fifo_update(kapi_delta_fifo *f, kapi_cobj *o);
int kapi_delta_fifo_delete(kapi_delta_fifo *f, kapi_cobj *o);
/* A relist: Replaced for each object, Deleted for known ones missing. */
int kapi_delta_fifo_replace(kapi_delta_fifo *f, kapi_cobj **objs, size_t n);
int kapi_delta_fifo_resync(kapi_delta_fifo *f);
/* Blocks until a key is ready (or close), then calls fn with all its
 * deltas, oldest first.  Returns fn's result, or -EPIPE once closed and
 * drained. */
typedef int (*kapi_deltas_fn)(void *arg, const kapi_delta *d, size_t n);
int kapi_delta_fifo_pop(kapi_delta_fifo *f, kapi_deltas_fn fn, void *arg);
/* True once the first Replace was popped entirely (HasSynced). */
int kapi_delta_fifo_has_synced(kapi_delta_fifo *f);
void kapi_delta_fifo_close(kapi_delta_fifo *f);

/* ---- shared informer ------------------------------------------------------ */

typedef struct kapi_informer kapi_informer;

/* Event handlers, called from the informer's thread, in order, for each
 * change; objects are borrowed for the call (take a reference to keep
 * them).  Any member may be NULL.  On a relist (or resync) update is
 * called with old == new. */
typedef struct kapi_event_handler {
  void (*on_add)(void *arg, kapi_cobj *obj);
  void (*on_update)(void *arg, kapi_cobj *old, kapi_cobj *obj);
  void (*on_delete)(void *arg, kapi_cobj *obj);
} kapi_event_handler;

typedef struct kapi_informer_options {
  const char *label_selector; /* may be NULL */
  const char *field_selector; /* may be NULL */
  int resync_seconds;         /* 0 = never */
  int64_t page_size;          /* list page size; 0 = 500 */
} kapi_informer_options;

kapi_informer *kapi_informer_new(kapi_client *c, const kapi_gvr *gvr,
                                 const char *ns,
                                 const kapi_informer_options *opts);
/* Handlers added before or after start (a late handler gets on_add for
 * every cached object first).  arg borrowed. */
int kapi_informer_add_handler(kapi_informer *inf,
                              const kapi_event_handler *h, void *arg);
int kapi_informer_add_index(kapi_informer *inf, const char *name,
                            kapi_index_fn fn);
kapi_indexer *kapi_informer_indexer(kapi_informer *inf); /* borrowed */
int kapi_informer_start(kapi_informer *inf);
int kapi_informer_has_synced(kapi_informer *inf);
/* Waits until synced or timeout_ms (<0 = forever): 0 or -ETIMEDOUT. */
int kapi_informer_wait_synced(kapi_informer *inf, int timeout_ms);
/* The resourceVersion last seen (for tests and bookmarks). */
int64_t kapi_informer_last_rv(kapi_informer *inf);
void kapi_informer_stop(kapi_informer *inf); /* joins its threads */
/* Only asks it to stop (no wait): ask many, then stop (join) each. */
void kapi_informer_request_stop(kapi_informer *inf);
void kapi_informer_free(kapi_informer *inf);

/* ---- factory --------------------------------------------------------------- */

typedef struct kapi_informer_factory kapi_informer_factory;

kapi_informer_factory *kapi_informer_factory_new(kapi_client *c,
                                                 int resync_seconds);
/* The shared informer for a type (and namespace, NULL = all); created on
 * first use, started by factory_start.  Borrowed. */
kapi_informer *kapi_informer_factory_get(kapi_informer_factory *f,
                                         const kapi_gvr *gvr, const char *ns,
                                         const kapi_informer_options *opts);
int kapi_informer_factory_start(kapi_informer_factory *f);
int kapi_informer_factory_wait_synced(kapi_informer_factory *f,
                                      int timeout_ms);
void kapi_informer_factory_free(kapi_informer_factory *f); /* stops all */

#endif
