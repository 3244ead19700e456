/*
 * schema.h - kapi's compact field schema (kapi_resource_ops.schema).
 *
 * A compact schema is JSON: an object maps each known field to its own
 * schema, an array of one element is a list of that schema, and a string
 * names a leaf ("string", "integer", "number", "boolean", "quantity",
 * "int-or-string", "object" for free-form, "map" for string->string,
 * "meta" for ObjectMeta, "enum:A|B|C" for a string with these values).
 *
 * Keys that start with "$" are annotations, never fields (no Kubernetes
 * field name starts with "$"):
 *   in an object schema   "$required": ["name", ...]
 *   in a list's element   "$mergeKey": "name" with "$strategy": "merge"
 *                         (upstream patchMergeKey/patchStrategy), or
 *                         "$listType": "atomic" (a list replaced whole)
 * The apiserver emits them in /openapi/v3 and uses merge keys for
 * strategic merge patches.  This file classifies schema nodes, finds the
 * fields an object has that its schema does not know (upstream's strict
 * decoding, fieldValidation=Strict/Warn), and holds the compact schema of
 * ObjectMeta that "meta" stands for.
 *
 * The root of a resource's schema always knows "apiVersion", "kind"
 * (strings) and "metadata" (ObjectMeta), even when the plugin leaves
 * them out, as every Kubernetes object has them.
 */
#ifndef KAPI_SCHEMA_H
#define KAPI_SCHEMA_H

#include <stddef.h>

#include "json.h"

typedef enum kapi_schema_type {
  KAPI_SCHEMA_ANY = 0,       /* "object", NULL or an unknown leaf name */
  KAPI_SCHEMA_FIELDS,        /* {...}: an object with exactly these fields */
  KAPI_SCHEMA_LIST,          /* [x]: a list of x ([] is a list of ANY) */
  KAPI_SCHEMA_MAP,           /* "map": string keys to strings */
  KAPI_SCHEMA_META,          /* "meta": ObjectMeta */
  KAPI_SCHEMA_STRING,
  KAPI_SCHEMA_INTEGER,
  KAPI_SCHEMA_NUMBER,
  KAPI_SCHEMA_BOOLEAN,
  KAPI_SCHEMA_QUANTITY,      /* "100m", "1Gi" or a number */
  KAPI_SCHEMA_INT_OR_STRING, /* 8080 or "http" */
} kapi_schema_type;

/* What a compact schema node (borrowed, may be NULL) describes.  Unknown
 * leaf names count as ANY: a typo in a plugin's schema must not make the
 * server reject valid objects. */
kapi_schema_type kapi_schema_type_of(const kj *schema);

/* The element schema of a LIST node (borrowed), or NULL (= ANY). */
const kj *kapi_schema_list_item(const kj *schema);

#define KAPI_SCHEMA_ENUM_PREFIX "enum:"

/* 1 when an object schema's key is an annotation ("$..."), not a field. */
int kapi_schema_is_annotation(const char *key);

/* The schema of field `key` in object schema `fields` (both borrowed;
 * result borrowed), or NULL when unknown; annotations are never fields. */
const kj *kapi_schema_field(const kj *fields, const char *key);

/* The "A|B|C" of an "enum:A|B|C" leaf (borrowed), or NULL. */
const char *kapi_schema_enum(const kj *schema);

/* The "$mergeKey" of a LIST node's element (borrowed), or NULL. */
const char *kapi_schema_merge_key(const kj *list);

/* Annotation `name` ("$strategy", "$listType", ...) of a LIST node's
 * element when it is a string (borrowed), or NULL. */
const char *kapi_schema_list_annotation(const kj *list, const char *name);

/*
 * The compact schema of ObjectMeta: name, generateName, namespace,
 * selfLink, uid, resourceVersion, generation, creationTimestamp,
 * deletionTimestamp, deletionGracePeriodSeconds, labels, annotations,
 * ownerReferences, finalizers, managedFields.  Built once on first use;
 * the result is borrowed and lives as long as the process.  NULL only if
 * memory ran out on that first use.
 */
const kj *kapi_schema_object_meta(void);

/*
 * Collects the paths of the fields of `obj` that `schema` does not know,
 * in document order, named as upstream's strict decoder names them in
 * `unknown field "<path>"`: "foo", "spec.foo", "spec.containers[0].foo",
 * "metadata.foo".  `schema` is a resource's root schema (the implicit
 * apiVersion/kind/metadata apply); NULL knows every field.  Both are
 * borrowed.  Type mismatches are not reported here (they are not
 * unknown fields).
 *
 * On success *ret_paths is a newly allocated array of *ret_n newly
 * allocated strings, or NULL when there are none; free it with
 * kapi_schema_paths_free().  Returns 0 or -ENOMEM (then *ret_paths is
 * NULL and *ret_n 0).
 */
int kapi_schema_unknown_fields(const kj *schema, const kj *obj,
                               char ***ret_paths, size_t *ret_n);

/*
 * kapi_schema_unknown_fields, and in the same walk the first value whose
 * JSON type the schema's type cannot hold (a string where a list is
 * declared, 1.5 for an integer; null fits everything), as decoding into
 * upstream's typed structs refuses it.  That one is described into
 * type_msg (type_len bytes; none when 0) in encoding/json's words:
 * "json: cannot unmarshal string into Go struct field
 * <kind>.spec.containers.ports of type slice".  Returns 1 when a type
 * mismatch was found, else as kapi_schema_unknown_fields.  `kind` is
 * borrowed.
 */
int kapi_schema_check(const kj *schema, const kj *obj, const char *kind,
                      char ***ret_paths, size_t *ret_n, char *type_msg,
                      size_t type_len);

/* Frees what kapi_schema_unknown_fields() returned (NULL is fine). */
void kapi_schema_paths_free(char **paths, size_t n);

/*
 * Removes from `obj` (borrowed, modified) every field that
 * kapi_schema_unknown_fields() would report, as upstream's decoding into
 * typed structs drops them (fieldValidation=Warn/Ignore).  `schema` is
 * borrowed; NULL removes nothing.  Returns the number of fields removed.
 */
size_t kapi_schema_prune(const kj *schema, kj *obj);

#endif
