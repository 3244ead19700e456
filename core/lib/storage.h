/*
 * storage.h - the durable backend under the Store.
 *
 * The Store (store.h) keeps every object in memory and owns the
 * revision; a backend only has to hand everything back at startup and
 * apply atomic batches of writes.  That keeps backends small, and lets
 * one other than leveldb (etcd, a plain log...) be added by filling in
 * another kapi_storage_ops.
 *
 * A backend is used by one Store at a time and its functions are never
 * called concurrently (open, load and close by the opening thread, commit
 * by the Store's committer thread), so a backend needs no locking.
 *
 * All functions return 0 or a negative errno and, on error, write a
 * one-line message into err (errlen bytes, always NUL-terminated).
 */
#ifndef KAPI_STORAGE_H
#define KAPI_STORAGE_H

#include <stddef.h>
#include <stdint.h>

typedef struct kapi_storage kapi_storage; /* a backend's open handle */

/* One write of a commit batch.  Every pointer is borrowed for the
 * duration of the commit call. */
typedef struct kapi_storage_write {
  const char *key; /* NUL-terminated */
  const char *val; /* the object's JSON, or NULL to delete the key */
  size_t len;      /* bytes of val */
  int64_t rv;      /* revision of the write; kept with the value */
} kapi_storage_write;

/* Receives one stored object during load.  key (keylen bytes, not
 * NUL-terminated) and val (len bytes, not NUL-terminated) are borrowed
 * for the call only.  rv is the revision the object was written at.
 * Returning a negative errno stops the load with that error. */
typedef int (*kapi_storage_load_fn)(void *arg, const char *key,
                                    size_t keylen, int64_t rv,
                                    const char *val, size_t len);

/*
 * The table of a backend.  `size` is sizeof(kapi_storage_ops) as the
 * backend was compiled: members are only ever appended, and a caller
 * treats any member beyond `size` as missing.
 */
typedef struct kapi_storage_ops {
  size_t size;
  const char *name; /* "leveldb"; static */

  /* Opens (creating if missing) the store in directory `dir` (borrowed).
   * *ret is owned by the caller and released with close. */
  int (*open)(const char *dir, kapi_storage **ret, char *err, size_t errlen);
  /* Flushes and frees the handle.  NULL is fine. */
  void (*close)(kapi_storage *st);

  /* Calls fn for every stored object, in key order, then sets *ret_rev to
   * the last committed revision (0 for a new store).  The revision is a
   * record of its own: deletes advance it without leaving an object. */
  int (*load)(kapi_storage *st, kapi_storage_load_fn fn, void *arg,
              int64_t *ret_rev, char *err, size_t errlen);

  /* Applies writes[0..n) and records `rev` as the last committed
   * revision, all or nothing.  With sync, returns only once the batch is
   * on stable storage; without, once the OS has it (survives a crash of
   * the process, not of the machine).  writes is borrowed. */
  int (*commit)(kapi_storage *st, const kapi_storage_write *writes, size_t n,
                int64_t rev, int sync, char *err, size_t errlen);
} kapi_storage_ops;

/* The leveldb backend (storage_leveldb.c). */
extern const kapi_storage_ops kapi_storage_leveldb;

#endif
