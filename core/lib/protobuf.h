/*
 * protobuf.h - Kubernetes protobuf request bodies, transcoded to JSON.
 *
 * kubectl's typed commands (create namespace|configmap|secret, auth
 * can-i, auth whoami) send Content-Type application/vnd.kubernetes.protobuf
 * and never retry with JSON.  The body is the magic "k8s\0" followed by
 * a runtime.Unknown {1 typeMeta{1 apiVersion, 2 kind}, 2 raw, 3
 * contentEncoding, 4 contentType}; raw is the object's own message.
 *
 * Rather than one decoder per kind, a static table describes the
 * messages (field number -> JSON name and type) and one walker turns
 * any described kind into the JSON object the JSON endpoint would have
 * received.  Zero values, which gogo-proto writes for non-pointer
 * fields, are skipped; nested messages stay as objects ("metadata": {}).
 */
#ifndef KAPI_PROTOBUF_H
#define KAPI_PROTOBUF_H

#include <stddef.h>

#include "kapi/json.h"

/* 1 if the Content-Type (parameters allowed) is
 * application/vnd.kubernetes.protobuf, else 0.  ct may be NULL. */
int kapi_protobuf_is_type(const char *ct);

/* 1 if bodies of this kind can be transcoded (both strings borrowed). */
int kapi_protobuf_supports(const char *api_version, const char *kind);

/*
 * Decodes a "k8s\0" + runtime.Unknown body into a newly allocated JSON
 * object with apiVersion and kind set; *ret is owned by the caller
 * (kj_free).  body is borrowed.  Returns 0, -EINVAL for a malformed
 * body, -ENOTSUP for a kind with no schema, or -ENOMEM; on error writes
 * a one-line message into err and leaves *ret NULL.
 */
int kapi_protobuf_to_json(const char *body, size_t len, kj **ret, char *err,
                          size_t errlen);

#endif
