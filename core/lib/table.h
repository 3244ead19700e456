/*
 * table.h - the Table form of a list or an object (meta.k8s.io/v1 Table),
 * what `kubectl get` asks for with
 *   Accept: application/json;as=Table;v=v1;g=meta.k8s.io,...
 *
 * The columns and cells come from the resource's plugin (columns,
 * table_row); a resource without them gets upstream's default table:
 * "Name" and "Created At".  Each row carries the object's metadata as a
 * PartialObjectMetadata, which kubectl needs for -A, --show-labels, -L.
 */
#ifndef KAPI_TABLE_H
#define KAPI_TABLE_H

#include <stdint.h>

#include "json.h"
#include "registry.h"

/*
 * 1 if the Accept header value (borrowed, may be NULL) asks for a Table
 * (application/json with as=Table, g=meta.k8s.io and v=v1 or v1beta1)
 * before it accepts plain JSON, else 0.  Media ranges are taken in the
 * order the client lists them.
 */
int kapi_wants_table(const char *accept_header);

/*
 * A new, empty Table for `res` (borrowed):
 *   {"kind":"Table","apiVersion":"meta.k8s.io/v1",
 *    "metadata":{"resourceVersion":...,"continue":...},
 *    "columnDefinitions":[...],"rows":[]}
 * columnDefinitions is [] unless with_column_definitions (watch events
 * after the first may leave them out).  resource_version and
 * continue_token (borrowed) are left out when NULL or "".  The caller
 * owns the result (kj_free); NULL when out of memory.
 */
kj *kapi_table_new(const kapi_resource *res, int with_column_definitions,
                   const char *resource_version, const char *continue_token);

/*
 * Appends the row of `obj` (borrowed) to `table` (borrowed, modified):
 *   {"cells":[...],"object":{"kind":"PartialObjectMetadata",
 *    "apiVersion":"meta.k8s.io/v1","metadata":<obj.metadata>}}
 * Cells come from res->ops->table_row (`now` is the request time in Unix
 * seconds, for ages), padded with null or cut to the number of columns;
 * without columns they are the name and creationTimestamp.  Returns 0,
 * -EINVAL if the plugin's table_row failed or `table` is not a Table,
 * or -ENOMEM; on error the table is unchanged.
 */
int kapi_table_add_row(kj *table, const kapi_resource *res, const kj *obj,
                       int64_t now);

#endif
