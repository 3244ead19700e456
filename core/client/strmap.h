/*
 * strmap.h - a hash map from strings to pointers, the building block of
 * the client caches (indexer items and indices, DeltaFIFO items, work
 * queue sets).  Not thread-safe: every user guards it with its own lock.
 *
 * Internal to libkapi (not installed): names start with `kapi__`.
 * The map copies keys (and frees its copies); values are opaque to it
 * and stay the caller's, except that kapi__strmap_free can free them.
 * A value may be NULL (a map used as a set).
 */
#ifndef KAPI_STRMAP_H
#define KAPI_STRMAP_H

#include <stddef.h>

typedef struct kapi__strmap kapi__strmap;

/* NULL when out of memory. */
kapi__strmap *kapi__strmap_new(void);
/* Frees the map and its keys; free_val (may be NULL) is called on every
 * value.  NULL is fine. */
void kapi__strmap_free(kapi__strmap *m, void (*free_val)(void *));

size_t kapi__strmap_len(const kapi__strmap *m);
/* 1 if key is present (its value, possibly NULL, in *val if not NULL),
 * else 0. */
int kapi__strmap_find(const kapi__strmap *m, const char *key, void **val);
/* The value of key, NULL if absent (or if the value is NULL). */
void *kapi__strmap_get(const kapi__strmap *m, const char *key);
/* Sets key to val.  If key was present its old value goes to *old (when
 * old is not NULL; else it is simply overwritten) and 1 is returned; 0
 * for a new key; -ENOMEM (map unchanged). */
int kapi__strmap_put(kapi__strmap *m, const char *key, void *val,
                     void **old);
/* Removes key: 0 and its value in *old (if not NULL), or -ENOENT. */
int kapi__strmap_remove(kapi__strmap *m, const char *key, void **old);

/* Iteration in no particular order.  No key may be added or removed
 * while iterating (putting a new value for an existing key is fine).
 * Usage:
 *   kapi__strmap_iter it = {0};
 *   while (kapi__strmap_next(m, &it)) use(it.key, it.val);
 */
typedef struct kapi__strmap_iter {
  const char *key; /* borrowed from the map */
  void *val;
  size_t bucket;   /* private */
  void *node;      /* private */
} kapi__strmap_iter;
int kapi__strmap_next(const kapi__strmap *m, kapi__strmap_iter *it);

#endif
