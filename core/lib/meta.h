/*
 * meta.h - ObjectMeta bookkeeping the generic registry does for every
 * kind: uids, timestamps, generated names, the system fields a client may
 * not set, and field-selector lookups.
 */
#ifndef KAPI_META_H
#define KAPI_META_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "registry.h"

/* A random RFC 4122 version 4 UUID into buf (at least 37 bytes). */
void kapi_uuid4(char *buf);
/* RFC 3339 UTC with seconds precision: "2026-11-27T12:00:00Z". */
void kapi_rfc3339(int64_t t, char *buf, size_t len);
/* Parses what kapi_rfc3339 writes (fractions allowed); -EINVAL. */
int kapi_parse_rfc3339(const char *s, int64_t *ret);
/* prefix (truncated to 58 chars) + 5 random chars without vowels;
 * newly allocated. */
char *kapi_generate_name(const char *prefix);

/* The value of a field-selector label on an object: metadata.name,
 * metadata.namespace, or one the resource declares.  Borrowed; "" when
 * the field is absent.  NULL if the resource does not support it. */
const char *kapi_object_field(const kapi_resource *res, const kj *obj,
                              const char *field);
/* 1 if the resource supports the field label. */
int kapi_resource_has_field(const kapi_resource *res, const char *field);

/* metadata.resourceVersion as a number (0 when absent or invalid). */
int64_t kapi_object_rv(const kj *obj);

#endif
