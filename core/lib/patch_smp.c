/*
 * patch_smp.c - strategic merge patch (see patch_smp.h).
 *
 * The walk follows upstream mergeMap/mergeSlice: maps merge recursively and
 * null deletes a key; lists tagged patchStrategy=merge merge by their
 * patchMergeKey (or as a union for scalars); other lists are replaced.
 * Directives: $patch (replace/delete in maps; replace/delete in list
 * items), $retainKeys, $setElementOrder/<list>, $deleteFromPrimitiveList/<list>.
 *
 * Values the original lacks are merged into an empty container rather than
 * copied verbatim, so nulls and directives never leak into stored objects
 * (upstream discards unmatched nulls; the decoder drops the rest).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patch_smp.h"
#include "schema.h"

/* ---- patch metadata (upstream's struct tags) ------------------------- */

/* The Go struct a JSON object is; T_NONE for "unknown, no tags below". */
enum smp_type {
  T_NONE = 0,
  T_ROOT,          /* any top-level object: only metadata is known */
  T_OBJECT_META,
  T_POD,
  T_POD_TEMPLATE,  /* PodTemplateSpec */
  T_POD_SPEC,
  T_CONTAINER,
  T_POD_STATUS,
  T_NODE,
  T_NODE_SPEC,
  T_NODE_STATUS,
  T_CONDITIONED,   /* a status with conditions keyed by type */
  T_WORKLOAD,      /* ReplicaSet, Deployment, ... */
  T_WORKLOAD_SPEC,
  T_DEPLOYMENT,
  T_DEPLOYMENT_SPEC,
  T_POD_TEMPLATE_OBJ, /* the PodTemplate kind */
  T_SERVICE,
  T_SERVICE_SPEC,
};

enum {
  S_MERGE = 1,  /* patchStrategy:"merge" */
  S_RETAIN = 2, /* patchStrategy:"retainKeys" */
};

struct smp_field {
  enum smp_type parent;
  const char *field;
  enum smp_type child; /* the element type for lists */
  int strategy;
  const char *key;     /* patchMergeKey; NULL for scalar lists */
  const kj *schema;    /* the field's compact schema (borrowed) or NULL */
};

/* Fields absent here are atomic lists (tolerations, taints, command, args,
 * containerStatuses, affinity terms...) or untagged maps. */
static const struct smp_field fields[] = {
  {T_ROOT, "metadata", T_OBJECT_META, 0, NULL, NULL},
  {T_OBJECT_META, "ownerReferences", T_NONE, S_MERGE, "uid", NULL},
  {T_OBJECT_META, "finalizers", T_NONE, S_MERGE, NULL, NULL},

  {T_POD, "metadata", T_OBJECT_META, 0, NULL, NULL},
  {T_POD, "spec", T_POD_SPEC, 0, NULL, NULL},
  {T_POD, "status", T_POD_STATUS, 0, NULL, NULL},
  {T_POD_TEMPLATE, "metadata", T_OBJECT_META, 0, NULL, NULL},
  {T_POD_TEMPLATE, "spec", T_POD_SPEC, 0, NULL, NULL},
  {T_POD_TEMPLATE_OBJ, "metadata", T_OBJECT_META, 0, NULL, NULL},
  {T_POD_TEMPLATE_OBJ, "template", T_POD_TEMPLATE, 0, NULL, NULL},

  {T_POD_SPEC, "containers", T_CONTAINER, S_MERGE, "name", NULL},
  {T_POD_SPEC, "initContainers", T_CONTAINER, S_MERGE, "name", NULL},
  {T_POD_SPEC, "ephemeralContainers", T_CONTAINER, S_MERGE, "name", NULL},
  {T_POD_SPEC, "volumes", T_NONE, S_MERGE | S_RETAIN, "name", NULL},
  {T_POD_SPEC, "imagePullSecrets", T_NONE, S_MERGE, "name", NULL},
  {T_POD_SPEC, "hostAliases", T_NONE, S_MERGE, "ip", NULL},
  {T_POD_SPEC, "topologySpreadConstraints", T_NONE, S_MERGE, "topologyKey", NULL},
  {T_POD_SPEC, "schedulingGates", T_NONE, S_MERGE, "name", NULL},
  {T_POD_SPEC, "resourceClaims", T_NONE, S_MERGE | S_RETAIN, "name", NULL},

  {T_CONTAINER, "env", T_NONE, S_MERGE, "name", NULL},
  {T_CONTAINER, "ports", T_NONE, S_MERGE, "containerPort", NULL},
  {T_CONTAINER, "volumeMounts", T_NONE, S_MERGE, "mountPath", NULL},
  {T_CONTAINER, "volumeDevices", T_NONE, S_MERGE, "devicePath", NULL},

  {T_POD_STATUS, "conditions", T_NONE, S_MERGE, "type", NULL},
  {T_POD_STATUS, "podIPs", T_NONE, S_MERGE, "ip", NULL},
  {T_POD_STATUS, "hostIPs", T_NONE, S_MERGE, "ip", NULL},

  {T_NODE, "metadata", T_OBJECT_META, 0, NULL, NULL},
  {T_NODE, "spec", T_NODE_SPEC, 0, NULL, NULL},
  {T_NODE, "status", T_NODE_STATUS, 0, NULL, NULL},
  {T_NODE_SPEC, "podCIDRs", T_NONE, S_MERGE, NULL, NULL},
  {T_NODE_STATUS, "conditions", T_NONE, S_MERGE, "type", NULL},
  {T_NODE_STATUS, "addresses", T_NONE, S_MERGE, "type", NULL},

  {T_CONDITIONED, "conditions", T_NONE, S_MERGE, "type", NULL},

  {T_WORKLOAD, "metadata", T_OBJECT_META, 0, NULL, NULL},
  {T_WORKLOAD, "spec", T_WORKLOAD_SPEC, 0, NULL, NULL},
  {T_WORKLOAD, "status", T_CONDITIONED, 0, NULL, NULL},
  {T_WORKLOAD_SPEC, "template", T_POD_TEMPLATE, 0, NULL, NULL},
  {T_DEPLOYMENT, "metadata", T_OBJECT_META, 0, NULL, NULL},
  {T_DEPLOYMENT, "spec", T_DEPLOYMENT_SPEC, 0, NULL, NULL},
  {T_DEPLOYMENT, "status", T_CONDITIONED, 0, NULL, NULL},
  {T_DEPLOYMENT_SPEC, "template", T_POD_TEMPLATE, 0, NULL, NULL},
  {T_DEPLOYMENT_SPEC, "strategy", T_NONE, S_RETAIN, NULL, NULL},

  {T_SERVICE, "metadata", T_OBJECT_META, 0, NULL, NULL},
  {T_SERVICE, "spec", T_SERVICE_SPEC, 0, NULL, NULL},
  {T_SERVICE, "status", T_CONDITIONED, 0, NULL, NULL},
  {T_SERVICE_SPEC, "ports", T_NONE, S_MERGE, "port", NULL},
};

static const struct {
  const char *kind;
  enum smp_type type;
} kinds[] = {
  {"Pod", T_POD},
  {"Node", T_NODE},
  {"Namespace", T_WORKLOAD}, /* metadata + status.conditions */
  {"ReplicaSet", T_WORKLOAD},
  {"ReplicationController", T_WORKLOAD},
  {"StatefulSet", T_WORKLOAD},
  {"DaemonSet", T_WORKLOAD},
  {"Job", T_WORKLOAD},
  {"Deployment", T_DEPLOYMENT},
  {"PodTemplate", T_POD_TEMPLATE_OBJ},
  {"Service", T_SERVICE},
};

static const struct smp_field no_field = {T_NONE, "", T_NONE, 0, NULL, NULL};

static const struct smp_field *lookup(enum smp_type parent, const char *name)
{
  size_t i;
  if (parent == T_NONE)
    return &no_field;
  for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
    if (fields[i].parent == parent && !strcmp(fields[i].field, name))
      return &fields[i];
  return &no_field;
}

/* The object schema below a field's schema: the field's own when it is
 * an object, its element's when it is a list of objects, else NULL. */
static const kj *object_schema(const kj *schema)
{
  if (kapi_schema_type_of(schema) == KAPI_SCHEMA_LIST)
    schema = kapi_schema_list_item(schema);
  return kapi_schema_type_of(schema) == KAPI_SCHEMA_FIELDS ? schema : NULL;
}

/* 1 when comma-separated `list` ("merge,retainKeys"; may be NULL) holds
 * `token`, as upstream splits patchStrategy tags. */
static int has_token(const char *list, const char *token)
{
  size_t n = strlen(token);
  while (list && *list) {
    const char *comma = strchr(list, ',');
    size_t len = comma ? (size_t)(comma - list) : strlen(list);
    if (len == n && !strncmp(list, token, n))
      return 1;
    list = comma ? comma + 1 : NULL;
  }
  return 0;
}

/* The tags of field `name` of an object of table type `parent` whose
 * compact schema is `fields` (borrowed, may be NULL).  A list the schema
 * annotates is authoritative ("$listType":"atomic", or "$mergeKey" with
 * "$strategy"); the table covers the rest. */
static struct smp_field resolve(enum smp_type parent, const kj *fields,
                                const char *name)
{
  struct smp_field f = *lookup(parent, name);
  const kj *sub = kapi_schema_field(fields, name);
  const char *key, *strategy, *list_type;

  f.schema = sub;
  if (kapi_schema_type_of(sub) != KAPI_SCHEMA_LIST)
    return f;
  key = kapi_schema_merge_key(sub);
  strategy = kapi_schema_list_annotation(sub, "$strategy");
  list_type = kapi_schema_list_annotation(sub, "$listType");
  if (list_type && !strcmp(list_type, "atomic")) {
    f.strategy &= ~S_MERGE;
    f.key = NULL;
  } else if (key) {
    f.key = key;
    f.strategy = 0;
    if (has_token(strategy, "merge"))
      f.strategy |= S_MERGE;
    if (has_token(strategy, "retainKeys"))
      f.strategy |= S_RETAIN;
  }
  return f;
}

static enum smp_type type_of_kind(const char *kind)
{
  size_t i;
  for (i = 0; kind && i < sizeof kinds / sizeof kinds[0]; i++)
    if (!strcmp(kinds[i].kind, kind))
      return kinds[i].type;
  return T_ROOT;
}

/* ---- errors ------------------------------------------------------------ */

struct smp {
  char *err;
  size_t errlen;
};

static int fail(struct smp *s, int code, const char *fmt, ...)
{
  va_list ap;
  if (s->errlen) {
    va_start(ap, fmt);
    vsnprintf(s->err, s->errlen, fmt, ap);
    va_end(ap);
  }
  return code;
}

/* Error text quoting a JSON value, as upstream quotes the Go map. */
static int fail_with(struct smp *s, int code, const char *fmt, const kj *v,
                     const char *arg)
{
  char *text = kj_dump(v, NULL);
  int rc = fail(s, code, fmt, text ? text : "?", arg ? arg : "");
  free(text);
  return rc;
}

#define DIRECTIVE "$patch"
#define RETAIN_KEYS "$retainKeys"
#define ORDER_PREFIX "$setElementOrder/"
#define DELETE_PREFIX "$deleteFromPrimitiveList/"

static int has_prefix(const char *s, const char *p)
{
  return !strncmp(s, p, strlen(p));
}

/* Upstream ErrBadPatchType: "unknown patch type: <t> in map: <m>". */
static int fail_bad_type(struct smp *s, const kj *d, const kj *map)
{
  char *t = kj_str(d) ? NULL : kj_dump(d, NULL);
  char *m = kj_dump(map, NULL);
  int rc = fail(s, -EIO, "unknown patch type: %s in map: %s",
                kj_str(d) ? kj_str(d) : t ? t : "?", m ? m : "?");
  free(t);
  free(m);
  return rc;
}

/* ---- list helpers ------------------------------------------------------ */

/* The identity of a list item: its merge key value, or itself. */
static const kj *identity(const kj *item, const char *key)
{
  if (!key)
    return item;
  return item && item->type == KJ_OBJECT ? kj_get(item, key) : NULL;
}

/* Index of the item matching `item` in `list`, or -1. */
static long index_in(const kj *list, const kj *item, const char *key)
{
  const kj *id = identity(item, key);
  size_t i;
  if (!id || !list)
    return -1;
  for (i = 0; i < kj_len(list); i++) {
    const kj *other = identity(kj_at(list, i), key);
    if (other && kj_equal(other, id))
      return (long)i;
  }
  return -1;
}

/* Stable insertion sort of borrowed items by their index in `order`;
 * items absent from it go last, keeping their relative order. */
static void sort_by(const kj **items, size_t n, const kj *order,
                    const char *key)
{
  size_t i, j;
  for (i = 1; i < n; i++) {
    const kj *v = items[i];
    long vi = index_in(order, v, key);
    if (vi < 0)
      continue;
    for (j = i; j > 0; j--) {
      long pj = index_in(order, items[j - 1], key);
      if (pj >= 0 && pj <= vi)
        break;
      items[j] = items[j - 1];
    }
    items[j] = v;
  }
}

/*
 * Upstream normalizeElementOrder: patch items sorted by `patch_order`,
 * server-only items by the live order, then interleaved: a server-only item
 * goes first only when both are in the live list and it was ahead there,
 * otherwise the patch item goes first.  `merged` is borrowed; the result
 * is a new array of clones.
 */
static kj *normalize_order(const kj *merged, const kj *patch_order,
                           const kj *server_order, const char *key)
{
  size_t n = kj_len(merged), np = 0, ns = 0, i, a = 0, b = 0;
  const kj **pitems = calloc(n + 1, sizeof *pitems);
  const kj **sitems = calloc(n + 1, sizeof *sitems);
  kj *out = kj_array();

  if (!pitems || !sitems || !out)
    goto oom;
  for (i = 0; i < n; i++) {
    const kj *v = kj_at(merged, i);
    if (index_in(patch_order, v, key) >= 0)
      pitems[np++] = v;
    else
      sitems[ns++] = v;
  }
  sort_by(pitems, np, patch_order, key);
  sort_by(sitems, ns, server_order, key);
  while (a < ns || b < np) {
    const kj *pick;
    if (a >= ns) {
      pick = pitems[b++];
    } else if (b >= np) {
      pick = sitems[a++];
    } else {
      long li = index_in(server_order, sitems[a], key);
      long ri = index_in(server_order, pitems[b], key);
      pick = (li >= 0 && ri >= 0 && li < ri) ? sitems[a++] : pitems[b++];
    }
    if (kj_append(out, kj_clone(pick)) < 0)
      goto oom;
  }
  free(pitems);
  free(sitems);
  return out;
oom:
  free(pitems);
  free(sitems);
  kj_free(out);
  return NULL;
}

/* ---- the merge --------------------------------------------------------- */

static int merge_map(struct smp *s, kj **orig, const kj *patch,
                     enum smp_type type, const kj *sch);

/* A patch value for a key the original lacks, with directives applied. */
static int fresh_value(struct smp *s, const kj *pv,
                       const struct smp_field *f, kj **out);

/* Checks the element types of both lists (upstream sliceElementType):
 * sets *maps when they hold objects. */
static int element_kind(struct smp *s, const kj *a, const kj *b, int *maps)
{
  const kj *lists[2] = {a, b};
  int seen = -1;
  size_t l, i;
  for (l = 0; l < 2; l++) {
    for (i = 0; lists[l] && i < kj_len(lists[l]); i++) {
      const kj *v = kj_at(lists[l], i);
      int t = v->type;
      if (t == KJ_ARRAY)
        return fail(s, -EDOM, "lists of lists are not supported");
      if (seen >= 0 && seen != t)
        return fail(s, -EIO, "list element types are not identical");
      seen = t;
    }
  }
  *maps = seen == KJ_OBJECT;
  return 0;
}

/* Upstream mergeSliceWithSpecialElements: applies $patch items of a
 * keyed list to `orig` (in place); *replace set for $patch:replace. */
static int apply_list_directives(struct smp *s, kj *orig, const kj *patch,
                                 const char *key, int *replace)
{
  size_t i, j;
  for (i = 0; i < kj_len(patch); i++) {
    const kj *item = kj_at(patch, i);
    const kj *d = kj_get(item, DIRECTIVE), *id;
    const char *ds = kj_str(d);
    if (!d)
      continue;
    if (ds && !strcmp(ds, "delete")) {
      id = kj_get(item, key);
      if (!id)
        return fail_with(s, -EIO, "map: %s does not contain declared merge "
                         "key: %s", item, key);
      for (j = kj_len(orig); j-- > 0;) {
        const kj *other = kj_get(kj_at(orig, j), key);
        if (other && kj_equal(other, id))
          kj_remove_at(orig, j);
      }
    } else if (ds && !strcmp(ds, "replace")) {
      *replace = 1;
    } else if (ds && !strcmp(ds, "merge")) {
      return fail(s, -EIO, "merging lists cannot yet be specified in the "
                  "patch");
    } else {
      return fail_bad_type(s, d, item);
    }
  }
  return 0;
}

/* Merges a keyed list of maps: `work` (owned, a copy of the live list)
 * receives the merged items. */
static int merge_keyed(struct smp *s, kj **work, const kj *patch,
                       const struct smp_field *f)
{
  int replace = 0, rc;
  size_t i;
  rc = apply_list_directives(s, *work, patch, f->key, &replace);
  if (rc < 0)
    return rc;
  if (replace) {
    kj *fresh = kj_array();
    if (!fresh)
      return -ENOMEM;
    kj_free(*work);
    *work = fresh;
  }
  for (i = 0; i < kj_len(patch); i++) {
    const kj *item = kj_at(patch, i);
    kj *v = NULL;
    long at;
    if (kj_get(item, DIRECTIVE))
      continue;
    if (!kj_get(item, f->key))
      return fail_with(s, -EIO, "map: %s does not contain declared merge "
                       "key: %s", item, f->key);
    at = replace ? -1 : index_in(*work, item, f->key);
    if (at >= 0) {
      kj *cur = kj_at(*work, (size_t)at);
      v = kj_clone(cur);
      if (!v)
        return -ENOMEM;
      rc = merge_map(s, &v, item, f->child, object_schema(f->schema));
      if (rc < 0) {
        kj_free(v);
        return rc;
      }
      /* Swap the merged copy in at the same position. */
      kj_free(cur);
      (*work)->u.c.items[at] = v;
    } else {
      rc = merge_map(s, &v, item, f->child, object_schema(f->schema));
      if (rc < 0 || (rc = kj_append(*work, v)) < 0) {
        kj_free(v);
        return rc;
      }
    }
  }
  return 0;
}

/* Upstream mergeSlice for a field with the merge strategy.  `live` is
 * borrowed (may be NULL); *out receives a new array. */
static int merge_list(struct smp *s, const kj *live, const kj *patch,
                      const struct smp_field *f, kj **out)
{
  kj *work, *sorted;
  int maps = 0, rc;
  size_t i;

  rc = element_kind(s, live, patch, &maps);
  if (rc < 0)
    return rc;
  work = live ? kj_clone(live) : kj_array();
  if (!work)
    return -ENOMEM;
  if (!kj_len(work) && !kj_len(patch)) {
    *out = work;
    return 0;
  }
  if (!maps) {
    /* Scalars: the union, live values first, no duplicates. */
    for (i = 0; i < kj_len(patch); i++) {
      if (index_in(work, kj_at(patch, i), NULL) >= 0)
        continue;
      if (kj_append(work, kj_clone(kj_at(patch, i))) < 0) {
        kj_free(work);
        return -ENOMEM;
      }
    }
  } else if (!f->key) {
    kj_free(work);
    return fail(s, -EIO, "cannot merge lists without merge key for %s",
                f->field);
  } else if ((rc = merge_keyed(s, &work, patch, f)) < 0) {
    kj_free(work);
    return rc;
  }
  sorted = normalize_order(work, patch, live, maps ? f->key : NULL);
  kj_free(work);
  if (!sorted)
    return -ENOMEM;
  *out = sorted;
  return 0;
}

/* A list value for a field: merged when tagged, else the patch itself. */
static int list_value(struct smp *s, const kj *live, const kj *pv,
                      const struct smp_field *f, kj **out)
{
  if (f->strategy & S_MERGE)
    return merge_list(s, live, pv, f, out);
  *out = kj_clone(pv);
  return *out ? 0 : -ENOMEM;
}

static int fresh_value(struct smp *s, const kj *pv,
                       const struct smp_field *f, kj **out)
{
  *out = NULL;
  if (pv->type == KJ_OBJECT)
    return merge_map(s, out, pv, f->child, object_schema(f->schema));
  if (pv->type == KJ_ARRAY)
    return list_value(s, NULL, pv, f, out);
  *out = kj_clone(pv);
  return *out ? 0 : -ENOMEM;
}

/* Upstream applyRetainKeysDirective (server side: lists merged). */
static int apply_retain_keys(struct smp *s, kj *orig, const kj *patch)
{
  const kj *keep = kj_get(patch, RETAIN_KEYS);
  size_t i;
  if (!keep)
    return 0;
  if (keep->type != KJ_ARRAY)
    return fail(s, -EINVAL, "invalid patch format of retainKeys");
  for (i = 0; i < kj_len(patch); i++) {
    const char *k = kj_key_at(patch, i);
    kj *tmp;
    long at;
    if (kj_at(patch, i)->type == KJ_NULL || has_prefix(k, DELETE_PREFIX) ||
        has_prefix(k, ORDER_PREFIX) || !strcmp(k, RETAIN_KEYS))
      continue;
    tmp = kj_string(k);
    if (!tmp)
      return -ENOMEM;
    at = index_in(keep, tmp, NULL);
    kj_free(tmp);
    if (at < 0)
      return fail(s, -EINVAL, "invalid patch format of retainKeys");
  }
  for (i = kj_len(orig); i-- > 0;) {
    kj *tmp = kj_string(kj_key_at(orig, i));
    long at;
    if (!tmp)
      return -ENOMEM;
    at = index_in(keep, tmp, NULL);
    kj_free(tmp);
    if (at < 0)
      kj_remove(orig, kj_key_at(orig, i));
  }
  return 0;
}

/* Upstream mergePatchIntoOriginal: each "$setElementOrder/<f>" merges
 * <f> now and orders the result by the directive's list.  Sets done[i]
 * for the patch keys consumed here. */
static int apply_element_orders(struct smp *s, kj *orig, const kj *patch,
                                enum smp_type type, const kj *sch,
                                char *done)
{
  size_t i;
  int rc;
  for (i = 0; i < kj_len(patch); i++) {
    const char *k = kj_key_at(patch, i), *field;
    const kj *order = kj_at(patch, i), *pv, *live;
    struct smp_field tags;
    const struct smp_field *f = &tags;
    kj *merged = NULL, *sorted;
    long pat;
    if (!has_prefix(k, ORDER_PREFIX))
      continue;
    done[i] = 1;
    if (order->type != KJ_ARRAY)
      return fail(s, -EINVAL, "invalid patch format of setElementOrder "
                  "list");
    field = k + strlen(ORDER_PREFIX);
    tags = resolve(type, sch, field);
    live = kj_get(orig, field);
    if (live && live->type != KJ_ARRAY)
      live = NULL;
    pv = kj_get(patch, field);
    if (pv && pv->type == KJ_ARRAY && kj_len(pv)) {
      rc = list_value(s, live, pv, f, &merged);
    } else {
      merged = live ? kj_clone(live) : kj_array();
      rc = merged ? 0 : -ENOMEM;
    }
    if (rc < 0)
      return rc;
    rc = element_kind(s, merged, order, &(int){0});
    if (rc < 0) {
      kj_free(merged);
      return rc;
    }
    {
      int maps = kj_len(merged) && kj_at(merged, 0)->type == KJ_OBJECT;
      sorted = normalize_order(merged, order, live, maps ? f->key : NULL);
    }
    kj_free(merged);
    if (!sorted)
      return -ENOMEM;
    if (!kj_len(sorted) && !kj_get(orig, field))
      kj_free(sorted);
    else if ((rc = kj_set(orig, field, sorted)) < 0)
      return rc;
    /* The list itself is consumed with its directive. */
    for (pat = 0; pv && pv->type == KJ_ARRAY && (size_t)pat < kj_len(patch);
         pat++)
      if (!strcmp(kj_key_at(patch, (size_t)pat), field))
        done[pat] = 1;
  }
  return 0;
}

/* "$deleteFromPrimitiveList/<f>": drops the values from the live list. */
static void delete_from_list(kj *orig, const char *field, const kj *values)
{
  kj *live = kj_get(orig, field);
  size_t i;
  if (!live || live->type != KJ_ARRAY || values->type != KJ_ARRAY)
    return;
  for (i = kj_len(live); i-- > 0;)
    if (index_in(values, kj_at(live, i), NULL) >= 0)
      kj_remove_at(live, i);
}

/* The value of one patch key merged with the live value (borrowed). */
static int merge_value(struct smp *s, const kj *live, const kj *pv,
                       const struct smp_field *f, kj **out)
{
  if (!live || live->type != pv->type ||
      (pv->type != KJ_OBJECT && pv->type != KJ_ARRAY))
    return fresh_value(s, pv, f, out);
  if (pv->type == KJ_ARRAY)
    return list_value(s, live, pv, f, out);
  *out = kj_clone(live);
  if (!*out)
    return -ENOMEM;
  return merge_map(s, out, pv, f->child, object_schema(f->schema));
}

static int merge_fields(struct smp *s, kj *orig, const kj *patch,
                        enum smp_type type, const kj *sch)
{
  size_t i, n = kj_len(patch);
  char *done = calloc(n + 1, 1);
  int rc;

  if (!done)
    return -ENOMEM;
  rc = apply_retain_keys(s, orig, patch);
  if (rc == 0)
    rc = apply_element_orders(s, orig, patch, type, sch, done);
  for (i = 0; rc == 0 && i < n; i++) {
    const char *k = kj_key_at(patch, i);
    const kj *pv = kj_at(patch, i);
    kj *v = NULL;
    struct smp_field tags;
    if (done[i] || !strcmp(k, RETAIN_KEYS))
      continue;
    if (has_prefix(k, DELETE_PREFIX)) {
      delete_from_list(orig, k + strlen(DELETE_PREFIX), pv);
      continue;
    }
    if (pv->type == KJ_NULL) {
      kj_remove(orig, k);
      continue;
    }
    tags = resolve(type, sch, k);
    rc = merge_value(s, kj_get(orig, k), pv, &tags, &v);
    if (rc == 0 && (rc = kj_set(orig, k, v)) < 0)
      kj_free(v);
    else if (rc < 0)
      kj_free(v);
  }
  free(done);
  return rc;
}

/* Upstream mergeMap; *orig (owned, may be NULL) is merged in place or
 * replaced. */
static int merge_map(struct smp *s, kj **orig, const kj *patch,
                     enum smp_type type, const kj *sch)
{
  const kj *d = kj_get(patch, DIRECTIVE);
  if (d) {
    const char *ds = kj_str(d);
    kj *fresh = NULL, *body;
    size_t i;
    int rc;
    if (ds && !strcmp(ds, "delete")) {
      fresh = kj_object();
    } else if (ds && !strcmp(ds, "replace")) {
      /* The patch without its marker, directives applied to nothing. */
      body = kj_object();
      for (i = 0; body && i < kj_len(patch); i++)
        if (strcmp(kj_key_at(patch, i), DIRECTIVE) &&
            kj_set(body, kj_key_at(patch, i), kj_clone(kj_at(patch, i))) < 0)
          break;
      if (!body)
        return -ENOMEM;
      rc = merge_map(s, &fresh, body, type, sch);
      kj_free(body);
      if (rc < 0) {
        kj_free(fresh);
        return rc;
      }
    } else {
      return fail_bad_type(s, d, patch);
    }
    if (!fresh)
      return -ENOMEM;
    kj_free(*orig);
    *orig = fresh;
    return 0;
  }
  if (!*orig || (*orig)->type != KJ_OBJECT) {
    kj_free(*orig);
    *orig = kj_object();
    if (!*orig)
      return -ENOMEM;
  }
  return merge_fields(s, *orig, patch, type, sch);
}

int kapi_strategic_merge_patch(kj **target, const kj *patch, const char *kind,
                               char *err, size_t errlen)
{
  return kapi_strategic_merge_patch_schema(target, patch, kind, NULL, err,
                                           errlen);
}

int kapi_strategic_merge_patch_schema(kj **target, const kj *patch,
                                      const char *kind, const kj *schema,
                                      char *err, size_t errlen)
{
  struct smp s = {err, errlen};
  kj *work;
  int rc;

  if (errlen)
    err[0] = '\0';
  if (!patch || patch->type != KJ_OBJECT)
    return fail(&s, -EINVAL, "strategic merge patch format is not "
                "supported");
  work = kj_clone(*target);
  if (*target && !work)
    return -ENOMEM;
  rc = merge_map(&s, &work, patch, type_of_kind(kind), object_schema(schema));
  if (rc < 0) {
    kj_free(work);
    if (rc == -ENOMEM && errlen && !err[0])
      fail(&s, rc, "out of memory");
    return rc;
  }
  kj_free(*target);
  *target = work;
  return 0;
}

/* ---- tags for other walkers ------------------------------------------ */

int kapi_smp_kind_type(const char *kind)
{
  return (int)type_of_kind(kind);
}

int kapi_smp_field_type(int parent, const char *field, int *merge,
                        const char **key)
{
  const struct smp_field *f = lookup((enum smp_type)parent, field);
  *merge = (f->strategy & S_MERGE) != 0;
  *key = f->key;
  return (int)f->child;
}
