/*
 * managedfields.h - metadata.managedFields and server-side apply, as
 * upstream's apiserver fieldmanager over structured-merge-diff.
 *
 * Field sets use upstream's fieldsV1 JSON: {"f:metadata":{"f:labels":
 * {"f:app":{}}}}, list items of merge-keyed lists as "k:{\"name\":\"x\"}",
 * items of scalar merge lists as "v:<json>", "." for a node that is itself
 * a member.  List keys come from patch_smp.c's table of struct tags.
 */
#ifndef KAPI_MANAGEDFIELDS_H
#define KAPI_MANAGEDFIELDS_H

#include <stdint.h>

#include "json.h"
#include "status.h"

/* The fieldsV1 set of the fields `obj` (borrowed) sets for an object of
 * `kind` (borrowed; NULL = unknown), without the system fields upstream
 * strips (apiVersion, kind, metadata.name/namespace/uid/...).  Newly
 * allocated; NULL only when out of memory. */
kj *kapi_fieldset_of(const kj *obj, const char *kind);

/* Records a write (create when `old` is NULL, else update) by `manager`
 * as an Update entry in obj's metadata.managedFields: the entry gains the
 * fields this write changed, taken from every other entry; entries keep
 * only fields the object still has.  `obj` is modified; when it carries no
 * managedFields, old's are the starting point.  All strings borrowed.
 * Returns 0 or -ENOMEM. */
int kapi_managed_record_update(kj *obj, const kj *old, const char *kind,
                               const char *manager, const char *api_version,
                               int64_t now);

/* Server-side apply of `applied` (borrowed) by `manager` onto *obj (owned
 * by the caller; an empty object when creating): conflicts with other
 * managers' fields holding other values fail with a 409 in `e` unless
 * `force`; fields the manager applied before and no longer does are
 * removed unless someone else owns them.  Returns 0, -EBUSY (conflict, e
 * set) or -ENOMEM. */
int kapi_managed_apply(kj **obj, const kj *applied, const char *kind,
                       const char *manager, const char *api_version,
                       int force, int64_t now, kapi_error *e);

/* The default manager of a non-apply write: the user agent up to its
 * first '/' (upstream prefixFromUserAgent), at most 128 bytes, into buf. */
void kapi_default_manager(const char *user_agent, char *buf, size_t len);

#endif
