/*
 * patch_smp.h - strategic merge patch (application/strategic-merge-patch+json)
 * as applied by the API server (upstream apimachinery
 * pkg/util/strategicpatch, StrategicMergeMapPatch with the server's
 * options: parallel deletion lists merged, unmatched nulls ignored).
 *
 * Upstream reads list merge keys and strategies from Go struct tags; kapi
 * has no Go types, so the tags of the built-in kinds live in a static table
 * inside patch_smp.c, looked up by (parent type, field name).  Kinds the
 * table does not know merge maps recursively and replace every list.
 */
#ifndef KAPI_PATCH_SMP_H
#define KAPI_PATCH_SMP_H

#include <stddef.h>

#include "json.h"

/*
 * Applies `patch` (borrowed; a JSON object) to *target (owned by the
 * caller; may be replaced, e.g. by a top-level {"$patch":"replace"}) for an
 * object of `kind` ("Pod", "Node", ...; borrowed, NULL = unknown).
 * Returns 0, or on error writes a message into err and returns
 *   -EINVAL  a malformed directive upstream answers with 400 BadRequest
 *   -EDOM    upstream answers 422 (lists of lists, retainKeys mismatch)
 *   -EIO     other patch errors (unknown $patch value, missing merge key),
 *            which upstream returns unwrapped, i.e. as a 500
 *   -ENOMEM
 * On error *target is unchanged.
 */
int kapi_strategic_merge_patch(kj **target, const kj *patch, const char *kind,
                               char *err, size_t errlen);

/*
 * The same, with the resource's parsed compact schema (`schema`,
 * borrowed, may be NULL; see schema.h): a list whose element declares
 * "$mergeKey"/"$strategy" or "$listType":"atomic" is merged as declared,
 * the schema being authoritative; other lists use the built-in tags of
 * upstream's Go structs.
 */
int kapi_strategic_merge_patch_schema(kj **target, const kj *patch,
                                      const char *kind, const kj *schema,
                                      char *err, size_t errlen);

/*
 * The same tags for other walkers (managedfields.c): the type of a kind's
 * top level (never 0), and the type of field `field` of type `parent`
 * (0 = unknown: no tags below).  *merge is set to 1 for
 * patchStrategy=merge lists, else 0; *key to their patchMergeKey (static)
 * or NULL for scalar lists.
 */
int kapi_smp_kind_type(const char *kind);
int kapi_smp_field_type(int parent, const char *field, int *merge,
                        const char **key);

#endif
