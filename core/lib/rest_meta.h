/*
 * rest_meta.h - the metadata-only form of objects and lists
 * (meta.k8s.io/v1 PartialObjectMetadata and PartialObjectMetadataList),
 * what client-go's metadata client and kube-controller-manager's
 * metadata informers (garbage collector, namespace controller) ask for
 * with
 *   Accept: application/json;as=PartialObjectMetadata[List];g=meta.k8s.io;v=v1
 * Gets, lists and watches answer with it instead of the whole objects.
 */
#ifndef KAPI_REST_META_H
#define KAPI_REST_META_H

#include <stdint.h>

#include "json.h"

/*
 * 1 if the Accept header value (borrowed, may be NULL) asks for
 * PartialObjectMetadata or PartialObjectMetadataList (application/json,
 * g=meta.k8s.io, v=v1 or v1beta1) before it accepts plain JSON or a
 * Table, else 0.  Either name is accepted for gets, lists and watches.
 */
int kapi_wants_partial_metadata(const char *accept_header);

/*
 * {"kind":"PartialObjectMetadata","apiVersion":"meta.k8s.io/v1",
 *  "metadata":<obj.metadata>} of `obj` (borrowed).  The caller owns the
 * result (kj_free); NULL when out of memory.
 */
kj *kapi_partial_metadata(const kj *obj);

/* The same from the JSON text of an object (borrowed): a new text the
 * caller frees, its length in *ret_len; NULL on bad JSON or ENOMEM. */
char *kapi_partial_metadata_json(const char *json, size_t len,
                                 size_t *ret_len);

/*
 * An empty {"kind":"PartialObjectMetadataList","apiVersion":
 * "meta.k8s.io/v1","metadata":{"resourceVersion":...,"continue":...,
 * "remainingItemCount":...},"items":[]}; continue_token (borrowed) is left
 * out when NULL or "", remainingItemCount when `remaining` < 0 or there
 * is no token.  The caller owns the result; NULL when out of memory.
 */
kj *kapi_partial_metadata_list_new(const char *resource_version,
                                   const char *continue_token,
                                   int64_t remaining);

/* Appends the PartialObjectMetadata of `obj` (borrowed) to the items of
 * `list` (borrowed, modified).  Returns 0, -EINVAL or -ENOMEM. */
int kapi_partial_metadata_list_add(kj *list, const kj *obj);

#endif
