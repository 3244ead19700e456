/*
 * store.h - the generic Store: every API object, kept in memory as its
 * serialized JSON and made durable through a storage backend (leveldb by
 * default), with a global monotonic revision and watch.
 *
 * Keys are opaque strings chosen by the registry layer, e.g.
 * "core/pods/default/nginx" or "core/nodes/n1"; a list or watch covers
 * every key that starts with a prefix.  Values are compact JSON objects
 * whose metadata.resourceVersion the store sets to the revision of the
 * write (as a decimal string).
 *
 * Writes are serialized under one lock: the update callback sees the
 * current object and decides.  The revision is assigned, the new bytes
 * become visible to readers, and the write is queued for the committer
 * thread, which writes every queued write in one atomic, fsync'ed batch
 * (group commit).  kapi_store_update() returns only after the batch is
 * durable, so every acknowledged write survives kill -9.  Watch events
 * are published by the committer after the batch is durable, in
 * revision order.  A failed commit aborts the process: memory never
 * runs ahead of disk on an acknowledged write.
 */
#ifndef KAPI_STORE_H
#define KAPI_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"

typedef struct kapi_store kapi_store;
typedef struct kapi_watch kapi_watch;

/* One stored object version.  Immutable and reference-counted: readers
 * hold it without copying. */
typedef struct store_obj {
  int refs;       /* atomic */
  int64_t rv;     /* revision of the write that made it */
  char *key;
  char *json;     /* compact JSON, NUL-terminated */
  size_t len;
} store_obj;

store_obj *store_obj_ref(store_obj *o);
void store_obj_unref(store_obj *o); /* NULL is fine */

typedef struct kapi_store_options {
  const char *dir;         /* data directory (created if missing) */
  int fsync;               /* 1 (default): every commit is fsync'ed */
  size_t history;          /* watch events kept for resumption; 0 = 10000 */
  size_t watch_queue;      /* events buffered per watcher; 0 = 10000 */
} kapi_store_options;

/* Opens or creates the store and loads every object into memory.
 * *ret is owned by the caller; close with kapi_store_close. */
int kapi_store_open(const kapi_store_options *opts, kapi_store **ret,
                    char *err, size_t errlen);
void kapi_store_close(kapi_store *s);

/*
 * Deferred durability, for threads that serve many clients (the
 * apiserver's HTTP threads): between kapi_store_defer_begin and
 * kapi_store_defer_end, this thread's kapi_store_update calls return as
 * soon as their write is applied and queued, without waiting for the
 * group commit.  kapi_store_defer_end returns the revision that must be
 * durable before anything those calls returned may be told to a client
 * (0: nothing to wait for): the caller holds its answer until then (see
 * kapi_store_set_durable_hook).  Writes to another store than the first
 * one written in the section wait as usual.
 */
void kapi_store_defer_begin(void);
int64_t kapi_store_defer_end(void);

/* The latest revision known durable; waiting until rv is. */
int64_t kapi_store_durable_revision(kapi_store *s);
void kapi_store_wait_durable(kapi_store *s, int64_t rv);

/* fn(arg, rv) is called on the committer thread each time revisions up
 * to rv have become durable; it must return quickly and not call into
 * the store.  One hook per store; NULL removes it.  `arg` is borrowed. */
void kapi_store_set_durable_hook(kapi_store *s,
                                 void (*fn)(void *arg, int64_t rv),
                                 void *arg);

/* The revision of the latest write (0 in an empty store). */
int64_t kapi_store_revision(kapi_store *s);
/* The revision of the latest published change under `prefix` (key
 * prefix, borrowed): caches derived from a list rebuild when it moves.
 * Tracking starts at the first call (answering the latest published
 * revision then); at most 64 prefixes are tracked, later ones always
 * answer the latest published revision. */
int64_t kapi_store_prefix_revision(kapi_store *s, const char *prefix);
/* The oldest revision a watch can still start from (exclusive). */
int64_t kapi_store_oldest_watchable(kapi_store *s);

/* Reads the current version.  *ret is a new reference; -ENOENT. */
int kapi_store_get(kapi_store *s, const char *key, store_obj **ret);

/*
 * Collects every object whose key starts with `prefix` and sorts after
 * `start` (or from the first when start is NULL or ""), in key order.
 * *ret is a newly allocated array of new references (free each with
 * store_obj_unref, then free the array); *ret_rev is the revision the
 * snapshot was taken at.
 */
int kapi_store_list(kapi_store *s, const char *prefix, const char *start,
                    store_obj ***ret, size_t *ret_n, int64_t *ret_rev);

/*
 * Like kapi_store_list, but the objects as they were at revision `rv`
 * (the pages of a continued list, resourceVersionMatch=Exact): the
 * current snapshot rolled back through the watch history.  Each object
 * is the version that was current at rv, with its resourceVersion of
 * then.  Returns -ERANGE when the history no longer reaches back to rv
 * (the caller answers 410 Expired), -EAGAIN when rv is past the latest
 * revision.  May wait for writes already visible but not yet published
 * (at most the commit in flight).  *ret as for kapi_store_list.
 */
int kapi_store_list_at(kapi_store *s, const char *prefix, const char *start,
                       int64_t rv, store_obj ***ret, size_t *ret_n);

/* How an update callback answers. */
enum {
  KAPI_STORE_PUT = 1,    /* write *ret_new (transferred to the store) */
  KAPI_STORE_DELETE = 2, /* remove the key */
  KAPI_STORE_NOOP = 3,   /* change nothing, succeed */
};

/*
 * The decision of a write.  `cur` is the parsed current object, or NULL
 * when the key is absent; it is borrowed.  Return one of KAPI_STORE_*, or
 * a negative errno (the update fails with it, nothing written).  For PUT
 * set *ret_new to the new object (ownership moves to the store, which
 * sets metadata.resourceVersion on it).  Runs under the store's write
 * lock: keep it short and never call the store from it.
 */
typedef int (*kapi_store_update_fn)(const kj *cur, void *arg, kj **ret_new);

/*
 * Atomically reads `key`, calls fn, and applies its decision.  On success
 * returns the decision (PUT/DELETE/NOOP) and, if ret is not NULL, a new
 * reference to the resulting object: the new version on PUT, the
 * current one on NOOP (NULL if absent), and on DELETE the removed object
 * with resourceVersion set to the deletion's revision.
 */
int kapi_store_update(kapi_store *s, const char *key, kapi_store_update_fn fn,
                      void *arg, store_obj **ret);

/* Watch. */
typedef enum kapi_event_type {
  KAPI_EVENT_ADDED = 1,
  KAPI_EVENT_MODIFIED = 2,
  KAPI_EVENT_DELETED = 3,
} kapi_event_type;

/* One change.  `obj` is the new version (for DELETED: the last version
 * with the deletion's resourceVersion); `old` the previous version
 * (NULL for ADDED and for synthetic initial events).  Reference-counted
 * and shared by every watcher. */
typedef struct kapi_event {
  int refs;
  kapi_event_type type;
  int64_t rv;
  store_obj *obj;
  store_obj *old;
} kapi_event;

void kapi_event_unref(kapi_event *e);

/* Called by the publishing thread when a watcher goes from empty to
 * non-empty, or is closed by the store.  Must not block nor call back
 * into the watch. */
typedef void (*kapi_watch_notify_fn)(void *arg);

enum {
  KAPI_WATCH_INITIAL = 1 << 0, /* first, synthetic ADDED for every object */
};

/*
 * Starts a watch on every key under `prefix` for changes with revision
 * greater than from_rv (with KAPI_WATCH_INITIAL, from_rv is ignored and
 * the current state comes first as ADDED events, then every later
 * change).  Returns -ERANGE if from_rv is older than the kept history
 * (the caller answers 410 Expired "too old resource version"); then
 * *ret_oldest holds the oldest revision still available.
 */
int kapi_store_watch(kapi_store *s, const char *prefix, int64_t from_rv,
                     int flags, kapi_watch_notify_fn notify, void *arg,
                     kapi_watch **ret, int64_t *ret_oldest);

/* Takes the next event: 0 and *ret (a reference the caller unrefs),
 * -EAGAIN when none is queued (notify will be called), -EPIPE when the
 * store closed the watch (the watcher fell too far behind, or the store
 * is closing). */
int kapi_watch_next(kapi_watch *w, kapi_event **ret);
/* The revision up to which this watcher has been offered every event
 * (for BOOKMARKs). */
int64_t kapi_watch_revision(kapi_watch *w);
/* Ends the watch and frees it; no notify is called after it returns. */
void kapi_watch_close(kapi_watch *w);

#endif
