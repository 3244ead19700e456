/*
 * table.c - Table responses (meta.k8s.io/v1) for `kubectl get`.
 *
 * The handler builds one with kapi_table_new(), adds a row per object
 * with kapi_table_add_row() and sends it as the body of a list, a get or
 * a watch event.  Columns and cells are the plugin's; kubectl prints the
 * cells verbatim and hides columns with priority > 0 unless -o wide.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "media.h"
#include "table.h"

/* ---- Accept negotiation ------------------------------------------------- */

static int is_table_range(const struct kapi__media_range *m)
{
  return !strcmp(m->as, "Table") && !strcmp(m->g, "meta.k8s.io") &&
         (!strcmp(m->v, "v1") || !strcmp(m->v, "v1beta1"));
}

int kapi_wants_table(const char *accept_header)
{
  struct kapi__media_range m;
  const char *p = accept_header;

  if (!p)
    return 0;
  while (kapi__media_next(&p, &m)) {
    if (!strcasecmp(m.type, "application/json")) {
      if (is_table_range(&m))
        return 1;
      if (!m.as[0])
        return 0; /* plain JSON is preferred over any later Table */
      continue;   /* a conversion we do not serve */
    }
    if (!strcmp(m.type, "*/*") || !strcasecmp(m.type, "application/*"))
      return 0;
    /* Other types (protobuf, yaml, cbor) are answered in JSON anyway,
     * so they neither ask for nor rule out a Table: look further. */
  }
  return 0;
}

/* ---- columns ------------------------------------------------------------ */

/* Upstream's default table (rest.DefaultTableConvertor), with
 * ObjectMeta's field descriptions as column descriptions. */
static const kapi_column default_columns[] = {
    {"Name", "string", "name",
     "Name must be unique within a namespace. Is required when creating "
     "resources, although some resources may allow a client to request the "
     "generation of an appropriate name automatically. Name is primarily "
     "intended for creation idempotence and configuration definition. "
     "Cannot be updated. More info: "
     "https://kubernetes.io/docs/concepts/overview/working-with-objects/"
     "names#names",
     0},
    {"Created At", "date", "",
     "CreationTimestamp is a timestamp representing the server time when "
     "this object was created. It is not guaranteed to be set in "
     "happens-before order across separate operations. Clients may not set "
     "this value. It is represented in RFC3339 form and is in UTC.\n\n"
     "Populated by the system. Read-only. Null for lists. More info: "
     "https://git.k8s.io/community/contributors/devel/sig-architecture/"
     "api-conventions.md#metadata",
     0},
};

/* The plugin's table needs both its columns and the callback that fills
 * them; with either missing the default table is the only coherent one. */
static int has_plugin_table(const kapi_resource *res)
{
  return res->ops->columns && res->ops->n_columns && res->ops->table_row;
}

static const kapi_column *table_columns(const kapi_resource *res, size_t *n)
{
  if (has_plugin_table(res)) {
    *n = res->ops->n_columns;
    return res->ops->columns;
  }
  *n = sizeof default_columns / sizeof default_columns[0];
  return default_columns;
}

static kj *column_definition(const kapi_column *c)
{
  kj *d = kj_object();
  if (!d || kj_set_str(d, "name", c->name ? c->name : "") < 0 ||
      kj_set_str(d, "type", c->type ? c->type : "string") < 0 ||
      kj_set_str(d, "format", c->format ? c->format : "") < 0 ||
      kj_set_str(d, "description", c->description ? c->description : "") <
          0 ||
      kj_set_int(d, "priority", c->priority) < 0) {
    kj_free(d);
    return NULL;
  }
  return d;
}

static int add_column_definitions(kj *defs, const kapi_resource *res)
{
  size_t i, n;
  const kapi_column *cols = table_columns(res, &n);
  for (i = 0; i < n; i++) {
    int r = kj_append(defs, column_definition(&cols[i]));
    if (r < 0)
      return r;
  }
  return 0;
}

/* ---- the table ---------------------------------------------------------- */

static int set_list_meta(kj *table, const char *resource_version,
                         const char *continue_token)
{
  kj *meta = kj_child_object(table, "metadata");
  if (!meta)
    return -ENOMEM;
  if (resource_version && *resource_version &&
      kj_set_str(meta, "resourceVersion", resource_version) < 0)
    return -ENOMEM;
  if (continue_token && *continue_token &&
      kj_set_str(meta, "continue", continue_token) < 0)
    return -ENOMEM;
  return 0;
}

kj *kapi_table_new(const kapi_resource *res, int with_column_definitions,
                   const char *resource_version, const char *continue_token)
{
  kj *t = kj_object();

  /* Members are attached as soon as they exist, so freeing t frees all. */
  if (!t || kj_set_str(t, "kind", "Table") < 0 ||
      kj_set_str(t, "apiVersion", "meta.k8s.io/v1") < 0 ||
      set_list_meta(t, resource_version, continue_token) < 0 ||
      kj_set(t, "columnDefinitions", kj_array()) < 0 ||
      (with_column_definitions &&
       add_column_definitions(kj_get(t, "columnDefinitions"), res) < 0) ||
      kj_set(t, "rows", kj_array()) < 0) {
    kj_free(t);
    return NULL;
  }
  return t;
}

/* ---- rows --------------------------------------------------------------- */

/* The cells of upstream's default table.  A missing timestamp prints as
 * Go's zero time, as upstream's formatting of a zero metav1.Time does. */
static int default_cells(const kj *obj, kj *cells)
{
  const kj *meta = kj_get(obj, "metadata");
  const char *name = kj_get_str(meta, "name");
  const char *created = kj_get_str(meta, "creationTimestamp");
  int r = kj_append(cells, kj_string(name ? name : ""));
  if (r < 0)
    return r;
  return kj_append(cells,
                   kj_string(created ? created : "0001-01-01T00:00:00Z"));
}

/* kubectl pairs cells with columns by position, so a plugin's row of the
 * wrong length is made to fit rather than misprint every later column
 * (a missing cell is null, which kubectl prints as <none>). */
static int fit_cells(kj *cells, size_t n_columns)
{
  while (kj_len(cells) > n_columns)
    kj_remove_at(cells, kj_len(cells) - 1);
  while (kj_len(cells) < n_columns) {
    int r = kj_append(cells, kj_null());
    if (r < 0)
      return r;
  }
  return 0;
}

static int row_cells(const kapi_resource *res, const kj *obj, int64_t now,
                     kj *cells)
{
  if (!has_plugin_table(res))
    return default_cells(obj, cells);
  if (res->ops->table_row(res->st, (const kapi_obj *)obj, now,
                          (kapi_obj *)cells) < 0)
    return -EINVAL;
  return fit_cells(cells, res->ops->n_columns);
}

static kj *partial_object_metadata(const kj *obj)
{
  const kj *meta = kj_get(obj, "metadata");
  kj *p = kj_object();
  if (!p || kj_set_str(p, "kind", "PartialObjectMetadata") < 0 ||
      kj_set_str(p, "apiVersion", "meta.k8s.io/v1") < 0 ||
      kj_set(p, "metadata", meta ? kj_clone(meta) : kj_object()) < 0) {
    kj_free(p);
    return NULL;
  }
  return p;
}

int kapi_table_add_row(kj *table, const kapi_resource *res, const kj *obj,
                       int64_t now)
{
  kj *rows = kj_get(table, "rows"), *row, *cells;
  int r;

  if (!rows || rows->type != KJ_ARRAY)
    return -EINVAL;
  row = kj_object();
  if (!row || kj_set(row, "cells", kj_array()) < 0) {
    kj_free(row);
    return -ENOMEM;
  }
  cells = kj_get(row, "cells");
  r = row_cells(res, obj, now, cells);
  if (r == 0)
    r = kj_set(row, "object", partial_object_metadata(obj)) < 0 ? -ENOMEM : 0;
  if (r < 0) {
    kj_free(row);
    return r;
  }
  return kj_append(rows, row);
}
