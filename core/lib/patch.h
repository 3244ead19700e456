/*
 * patch.h - patch formats applied by PATCH requests: JSON Merge Patch
 * (RFC 7386) and JSON Patch (RFC 6902).  Strategic merge patch and
 * server-side apply build on these (a later step).
 */
#ifndef KAPI_PATCH_H
#define KAPI_PATCH_H

#include <stddef.h>

#include "json.h"

/* Applies `patch` (borrowed) to *target, which may be replaced. */
int kapi_merge_patch(kj **target, const kj *patch);
/* Applies the operations array to doc in place.  -ENOENT/-EINVAL for a
 * patch that does not apply, -EPROTO for a failed test, -E2BIG for more
 * than 10000 operations; err holds the message. */
int kapi_json_patch(kj *doc, const kj *ops, char *err, size_t errlen);

#endif
