/*
 * json.h - kapi's JSON document model.
 *
 * A small mutable DOM built with yajl's event parser and written with
 * yajl_gen.  It is the in-memory form of every API object: the handler
 * chain, the Store and the plugins (through kapi_host_api) all work on
 * it.  The node type is the public opaque `struct kapi_obj`, so host API
 * calls need no casts.
 *
 * Numbers keep their source text, so 64-bit integers and decimals
 * round-trip unchanged.  Objects keep insertion order (kubectl prints
 * what it gets, and users expect their field order back).
 *
 * Ownership: a node belongs to its parent once added (kj_set, kj_append
 * transfer ownership of `val`); kj_free frees a node and its subtree.
 * Returned const char * point into the node (borrowed).  The members'
 * storage (items, keys, the key strings) is json.c's to allocate, grow
 * and free: other code may read it and swap items[i] pointers, but must
 * not free or reallocate items, keys or keys[i] (an object's keys share
 * one block with its items).
 */
#ifndef KAPI_JSON_H
#define KAPI_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "kapi/plugin.h"

typedef struct kapi_obj kj;

typedef enum kj_type {
  KJ_NULL = KAPI_OBJ_NULL,
  KJ_BOOL = KAPI_OBJ_BOOL,
  KJ_NUMBER = KAPI_OBJ_NUMBER,
  KJ_STRING = KAPI_OBJ_STRING,
  KJ_ARRAY = KAPI_OBJ_ARRAY,
  KJ_OBJECT = KAPI_OBJ_OBJECT,
} kj_type;

struct kapi_obj {
  kj_type type;
  union {
    int boolean;
    struct {
      char *s; /* NUL-terminated; numbers: the source text */
      size_t len;
    } str;
    struct {
      kj **items;
      char **keys; /* objects only: keys[i] names items[i] */
      size_t n, cap;
    } c;
  } u;
};

/* Parsing.  `dups`, if not NULL, receives a newly allocated array of the
 * dotted paths of duplicate object keys found ("metadata.name"), and
 * `ndups` their count; the last value wins, as in encoding/json.  On
 * error returns -EINVAL and writes a one-line message into err. */
int kj_parse(const char *buf, size_t len, kj **ret, char *err, size_t errlen);
int kj_parse_dups(const char *buf, size_t len, kj **ret, char ***dups,
                  size_t *ndups, char *err, size_t errlen);

/* Serialising: compact JSON, newly allocated, NUL-terminated. */
char *kj_dump(const kj *v, size_t *ret_len);
/* Appends compact JSON of v to a growing buffer (*buf may be NULL). */
int kj_dump_append(const kj *v, char **buf, size_t *len, size_t *cap);

/* Constructors.  Return NULL only when out of memory. */
kj *kj_null(void);
kj *kj_bool(int b);
kj *kj_int(int64_t i);
kj *kj_number_text(const char *text); /* text must be a valid number */
kj *kj_string(const char *s);          /* copied */
kj *kj_stringn(const char *s, size_t n);
kj *kj_array(void);
kj *kj_object(void);
kj *kj_clone(const kj *v);
void kj_free(kj *v);

/* Accessors; all tolerate NULL and wrong types (they return NULL/0). */
kj *kj_get(const kj *obj, const char *key);
kj *kj_at(const kj *arr, size_t i);
size_t kj_len(const kj *v); /* members of an array or object */
const char *kj_key_at(const kj *obj, size_t i);
const char *kj_str(const kj *v);       /* strings only */
const char *kj_get_str(const kj *obj, const char *key);
int kj_to_int(const kj *v, int64_t *ret); /* 0, or -EINVAL */
int kj_is_true(const kj *v);
int kj_equal(const kj *a, const kj *b);
/* RFC 6901 pointer ("" is the root); NULL if absent. */
kj *kj_ptr(const kj *root, const char *pointer);

/* Mutators.  Return 0 or -errno; on error `val` is freed. */
int kj_set(kj *obj, const char *key, kj *val);  /* replaces an old value */
int kj_append(kj *arr, kj *val);
/* kj_set for a key the caller knows obj does not have yet (it is building
 * obj from unique keys, e.g. managedFields' sets): appends with no lookup,
 * so building an object of n members costs O(n), not O(n^2).  key is
 * keylen bytes (no NUL among them; need not be NUL-terminated), copied.
 * A key already present would be duplicated, not replaced: when unsure,
 * use kj_set. */
int kj_append_member(kj *obj, const char *key, size_t keylen, kj *val);
int kj_remove(kj *obj, const char *key);        /* -ENOENT if absent */
int kj_remove_at(kj *arr, size_t i);
/* Sets by pointer, creating missing intermediate objects; a last token
 * "-" appends to an array. */
int kj_set_ptr(kj *root, const char *pointer, kj *val);
int kj_remove_ptr(kj *root, const char *pointer);
/* kj_set(obj, key, kj_string(s)) and friends. */
int kj_set_str(kj *obj, const char *key, const char *s);
int kj_set_int(kj *obj, const char *key, int64_t i);
/* Returns obj[key], creating an empty object there if absent. */
kj *kj_child_object(kj *obj, const char *key);

#endif
