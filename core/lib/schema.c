/*
 * schema.c - the compact field schema: node types, ObjectMeta, and the
 * unknown-field walk behind fieldValidation=Strict/Warn.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

/* ---- node types --------------------------------------------------------- */

static const struct {
  const char *name;
  kapi_schema_type type;
} leaf_names[] = {
    {"string", KAPI_SCHEMA_STRING},
    {"integer", KAPI_SCHEMA_INTEGER},
    {"number", KAPI_SCHEMA_NUMBER},
    {"boolean", KAPI_SCHEMA_BOOLEAN},
    {"quantity", KAPI_SCHEMA_QUANTITY},
    {"int-or-string", KAPI_SCHEMA_INT_OR_STRING},
    {"object", KAPI_SCHEMA_ANY},
    {"map", KAPI_SCHEMA_MAP},
    {"meta", KAPI_SCHEMA_META},
};

kapi_schema_type kapi_schema_type_of(const kj *schema)
{
  size_t i;
  if (!schema)
    return KAPI_SCHEMA_ANY;
  switch (schema->type) {
  case KJ_OBJECT:
    return KAPI_SCHEMA_FIELDS;
  case KJ_ARRAY:
    return KAPI_SCHEMA_LIST;
  case KJ_STRING:
    for (i = 0; i < sizeof leaf_names / sizeof leaf_names[0]; i++)
      if (!strcmp(schema->u.str.s, leaf_names[i].name))
        return leaf_names[i].type;
    if (!strncmp(schema->u.str.s, KAPI_SCHEMA_ENUM_PREFIX,
                 strlen(KAPI_SCHEMA_ENUM_PREFIX)))
      return KAPI_SCHEMA_STRING;
    return KAPI_SCHEMA_ANY;
  default:
    return KAPI_SCHEMA_ANY;
  }
}

const kj *kapi_schema_list_item(const kj *schema)
{
  return kj_at(schema, 0);
}

int kapi_schema_is_annotation(const char *key)
{
  return key && key[0] == '$';
}

const kj *kapi_schema_field(const kj *fields, const char *key)
{
  /* An object's own "$..." key never matches an annotation: it is
   * unknown like any other key the schema does not list. */
  if (kapi_schema_is_annotation(key) || !fields || fields->type != KJ_OBJECT)
    return NULL;
  return kj_get(fields, key);
}

const char *kapi_schema_enum(const kj *schema)
{
  const char *s = kj_str(schema);
  size_t n = strlen(KAPI_SCHEMA_ENUM_PREFIX);
  if (!s || strncmp(s, KAPI_SCHEMA_ENUM_PREFIX, n))
    return NULL;
  return s + n;
}

const char *kapi_schema_merge_key(const kj *list)
{
  const kj *item = kapi_schema_list_item(list);
  if (kapi_schema_type_of(list) != KAPI_SCHEMA_LIST ||
      kapi_schema_type_of(item) != KAPI_SCHEMA_FIELDS)
    return NULL;
  return kj_str(kj_get(item, "$mergeKey"));
}

const char *kapi_schema_list_annotation(const kj *list, const char *name)
{
  const kj *item = kapi_schema_list_item(list);
  if (kapi_schema_type_of(list) != KAPI_SCHEMA_LIST ||
      kapi_schema_type_of(item) != KAPI_SCHEMA_FIELDS)
    return NULL;
  return kj_str(kj_get(item, name));
}

/* ---- ObjectMeta --------------------------------------------------------- */

/* Timestamps are RFC 3339 strings on the wire, hence "string". */
static const char object_meta_text[] =
    "{\"name\":\"string\",\"generateName\":\"string\","
    "\"namespace\":\"string\",\"selfLink\":\"string\",\"uid\":\"string\","
    "\"resourceVersion\":\"string\",\"generation\":\"integer\","
    "\"creationTimestamp\":\"string\",\"deletionTimestamp\":\"string\","
    "\"deletionGracePeriodSeconds\":\"integer\","
    "\"labels\":\"map\",\"annotations\":\"map\","
    "\"ownerReferences\":[{\"apiVersion\":\"string\",\"kind\":\"string\","
    "\"name\":\"string\",\"uid\":\"string\",\"controller\":\"boolean\","
    "\"blockOwnerDeletion\":\"boolean\"}],"
    "\"finalizers\":[\"string\"],"
    "\"managedFields\":[\"object\"]}";

static kj *object_meta;
static pthread_once_t object_meta_once = PTHREAD_ONCE_INIT;

static void object_meta_build(void)
{
  char err[128];
  if (kj_parse(object_meta_text, sizeof object_meta_text - 1, &object_meta,
               err, sizeof err) < 0)
    object_meta = NULL;
}

const kj *kapi_schema_object_meta(void)
{
  pthread_once(&object_meta_once, object_meta_build);
  return object_meta;
}

/* ---- the unknown-field walk --------------------------------------------- */

/* The walk's state: the path of the value being looked at (grown and
 * shrunk in place as the walk goes down and back up) and the result. */
struct walk {
  char *path;
  size_t len, cap;
  char **found;
  size_t n, found_cap;
  int err; /* first -errno */
  /* The first value of the wrong JSON type, as upstream's decoder says
   * it (when asked for: type_msg not NULL). */
  const char *kind;
  char *type_msg;
  size_t type_len;
  int type_found;
};

static void walk_reserve(struct walk *w, size_t more)
{
  char *p;
  size_t cap;
  if (w->len + more + 1 <= w->cap)
    return;
  cap = w->cap ? w->cap : 64;
  while (cap < w->len + more + 1)
    cap *= 2;
  p = realloc(w->path, cap);
  if (!p) {
    w->err = -ENOMEM;
    return;
  }
  w->path = p;
  w->cap = cap;
}

/* Appends ".key" ("key" at the root).  Returns the length to pop to. */
static size_t push_key(struct walk *w, const char *key)
{
  size_t mark = w->len, n = strlen(key);
  walk_reserve(w, n + 1);
  if (w->err)
    return mark;
  if (w->len)
    w->path[w->len++] = '.';
  memcpy(w->path + w->len, key, n);
  w->len += n;
  w->path[w->len] = '\0';
  return mark;
}

static size_t push_index(struct walk *w, size_t i)
{
  size_t mark = w->len;
  char buf[32];
  int n = snprintf(buf, sizeof buf, "[%zu]", i);
  walk_reserve(w, (size_t)n);
  if (w->err)
    return mark;
  memcpy(w->path + w->len, buf, (size_t)n + 1);
  w->len += (size_t)n;
  return mark;
}

static void pop_to(struct walk *w, size_t mark)
{
  w->len = mark;
  if (w->path)
    w->path[mark] = '\0';
}

/* Records the current path as an unknown field. */
static void record(struct walk *w)
{
  char *copy;
  if (w->err)
    return;
  if (w->n == w->found_cap) {
    size_t cap = w->found_cap ? w->found_cap * 2 : 4;
    char **p = realloc(w->found, cap * sizeof *p);
    if (!p) {
      w->err = -ENOMEM;
      return;
    }
    w->found = p;
    w->found_cap = cap;
  }
  copy = strdup(w->path ? w->path : "");
  if (!copy) {
    w->err = -ENOMEM;
    return;
  }
  w->found[w->n++] = copy;
}

static void walk_value(struct walk *w, const kj *schema, const kj *v);

/* The fields every object's root knows without the plugin saying so. */
static const kj *implicit_root_field(const char *key)
{
  static const char string_leaf[] = "string";
  /* A read-only node: the cast only fits the DOM's mutable field. */
  static const kj string_schema = {
      .type = KJ_STRING,
      .u.str = {.s = (char *)string_leaf, .len = sizeof string_leaf - 1}};

  if (!strcmp(key, "apiVersion") || !strcmp(key, "kind"))
    return &string_schema;
  if (!strcmp(key, "metadata"))
    return kapi_schema_object_meta();
  return NULL;
}

/* An object checked against a field schema.  `root` adds the implicit
 * root fields. */
static void walk_fields(struct walk *w, const kj *fields, const kj *obj,
                        int root)
{
  size_t i;
  if (!obj || obj->type != KJ_OBJECT)
    return; /* a type mismatch, not an unknown field */
  for (i = 0; i < obj->u.c.n && !w->err; i++) {
    const char *key = obj->u.c.keys[i];
    const kj *sub = kapi_schema_field(fields, key);
    size_t mark = push_key(w, key);
    int known = sub != NULL;

    if (!sub && root) {
      sub = implicit_root_field(key);
      known = sub != NULL;
    }
    if (!known)
      record(w);
    else
      walk_value(w, sub, obj->u.c.items[i]);
    pop_to(w, mark);
  }
}

static void walk_list(struct walk *w, const kj *item, const kj *arr)
{
  size_t i;
  if (!arr || arr->type != KJ_ARRAY)
    return;
  for (i = 0; i < arr->u.c.n && !w->err; i++) {
    size_t mark = push_index(w, i);
    walk_value(w, item, arr->u.c.items[i]);
    pop_to(w, mark);
  }
}

/* ---- type mismatches ---------------------------------------------------- */

/* What encoding/json calls a JSON value in its UnmarshalTypeError. */
static const char *json_kind(const kj *v)
{
  switch (v->type) {
  case KJ_STRING:
    return "string";
  case KJ_NUMBER:
    return "number";
  case KJ_BOOL:
    return "bool";
  case KJ_ARRAY:
    return "array";
  case KJ_OBJECT:
    return "object";
  default:
    return "null";
  }
}

/* The Go type standing for a schema type (kapi's schema has no Go type
 * names: these name the shape). */
static const char *go_type(kapi_schema_type t)
{
  switch (t) {
  case KAPI_SCHEMA_FIELDS:
    return "struct";
  case KAPI_SCHEMA_LIST:
    return "slice";
  case KAPI_SCHEMA_MAP:
    return "map[string]string";
  case KAPI_SCHEMA_META:
    return "v1.ObjectMeta";
  case KAPI_SCHEMA_STRING:
    return "string";
  case KAPI_SCHEMA_INTEGER:
    return "int64";
  case KAPI_SCHEMA_NUMBER:
    return "float64";
  case KAPI_SCHEMA_BOOLEAN:
    return "bool";
  case KAPI_SCHEMA_QUANTITY:
    return "resource.Quantity";
  case KAPI_SCHEMA_INT_OR_STRING:
    return "intstr.IntOrString";
  default:
    return "interface {}";
  }
}

static int is_integer_text(const char *s)
{
  return !strpbrk(s, ".eE");
}

/* Whether Go would decode v into a field of type t (null decodes into
 * anything: the zero value). */
static int type_fits(kapi_schema_type t, const kj *v)
{
  if (v->type == KJ_NULL)
    return 1;
  switch (t) {
  case KAPI_SCHEMA_FIELDS:
  case KAPI_SCHEMA_META:
  case KAPI_SCHEMA_MAP:
    return v->type == KJ_OBJECT;
  case KAPI_SCHEMA_LIST:
    return v->type == KJ_ARRAY;
  case KAPI_SCHEMA_STRING:
    return v->type == KJ_STRING;
  case KAPI_SCHEMA_INTEGER:
    return v->type == KJ_NUMBER && is_integer_text(v->u.str.s);
  case KAPI_SCHEMA_NUMBER:
    return v->type == KJ_NUMBER;
  case KAPI_SCHEMA_BOOLEAN:
    return v->type == KJ_BOOL;
  case KAPI_SCHEMA_QUANTITY:
    return v->type == KJ_STRING || v->type == KJ_NUMBER;
  case KAPI_SCHEMA_INT_OR_STRING:
    return v->type == KJ_STRING ||
           (v->type == KJ_NUMBER && is_integer_text(v->u.str.s));
  default:
    return 1;
  }
}

/* Records the first mismatch in encoding/json's words: "json: cannot
 * unmarshal string into Go struct field Pod.spec.containers.ports of
 * type slice" (the field path without list indexes, as Go prints it). */
static void type_mismatch(struct walk *w, kapi_schema_type t, const kj *v)
{
  char field[512];
  size_t o = 0;
  const char *p;

  if (w->type_found || !w->type_msg)
    return;
  w->type_found = 1;
  for (p = w->path ? w->path : ""; *p && o + 1 < sizeof field; p++) {
    if (*p == '[') { /* drop "[n]" */
      while (*p && *p != ']')
        p++;
      if (!*p)
        break;
      continue;
    }
    field[o++] = *p;
  }
  field[o] = '\0';
  if (v->type == KJ_NUMBER && (t == KAPI_SCHEMA_INTEGER ||
                               t == KAPI_SCHEMA_INT_OR_STRING))
    snprintf(w->type_msg, w->type_len,
             "json: cannot unmarshal number %s into Go struct field %s.%s "
             "of type %s", v->u.str.s, w->kind, field, go_type(t));
  else
    snprintf(w->type_msg, w->type_len,
             "json: cannot unmarshal %s into Go struct field %s.%s of type %s",
             json_kind(v), w->kind, field, go_type(t));
}

/* Map values are strings (or null); Go names the map field itself. */
static void check_map(struct walk *w, const kj *map)
{
  for (size_t i = 0; i < map->u.c.n && !w->type_found; i++) {
    const kj *v = map->u.c.items[i];
    if (v->type != KJ_STRING && v->type != KJ_NULL)
      type_mismatch(w, KAPI_SCHEMA_STRING, v);
  }
}

static void walk_value(struct walk *w, const kj *schema, const kj *v)
{
  kapi_schema_type t = kapi_schema_type_of(schema);

  if (w->err)
    return;
  if (w->type_msg && v && !w->type_found) {
    if (!type_fits(t, v)) {
      type_mismatch(w, t, v);
      return;
    }
    if (t == KAPI_SCHEMA_MAP && v->type == KJ_OBJECT)
      check_map(w, v);
  }
  switch (t) {
  case KAPI_SCHEMA_FIELDS:
    walk_fields(w, schema, v, 0);
    break;
  case KAPI_SCHEMA_LIST:
    walk_list(w, kapi_schema_list_item(schema), v);
    break;
  case KAPI_SCHEMA_META:
    walk_fields(w, kapi_schema_object_meta(), v, 0);
    break;
  default:
    break; /* leaves, maps and free-form values hold no unknown fields */
  }
}

void kapi_schema_paths_free(char **paths, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    free(paths[i]);
  free(paths);
}

int kapi_schema_unknown_fields(const kj *schema, const kj *obj,
                               char ***ret_paths, size_t *ret_n)
{
  return kapi_schema_check(schema, obj, NULL, ret_paths, ret_n, NULL, 0);
}

int kapi_schema_check(const kj *schema, const kj *obj, const char *kind,
                      char ***ret_paths, size_t *ret_n, char *type_msg,
                      size_t type_len)
{
  struct walk w = {.kind = kind ? kind : "",
                   .type_msg = type_len ? type_msg : NULL,
                   .type_len = type_len};

  *ret_paths = NULL;
  *ret_n = 0;
  if (!schema)
    return 0;
  /* Built here once so that the walk never meets a missing ObjectMeta. */
  if (!kapi_schema_object_meta())
    return -ENOMEM;
  if (kapi_schema_type_of(schema) == KAPI_SCHEMA_FIELDS)
    walk_fields(&w, schema, obj, 1);
  else
    walk_value(&w, schema, obj);
  free(w.path);
  if (w.err) {
    kapi_schema_paths_free(w.found, w.n);
    return w.err;
  }
  *ret_paths = w.found;
  *ret_n = w.n;
  return w.type_found;
}

/* ---- pruning ------------------------------------------------------------ */

static size_t prune_value(const kj *schema, kj *v);

static size_t prune_fields(const kj *fields, kj *obj, int root)
{
  size_t i = 0, removed = 0;
  if (!obj || obj->type != KJ_OBJECT)
    return 0;
  while (i < obj->u.c.n) {
    const char *key = obj->u.c.keys[i];
    const kj *sub = kapi_schema_field(fields, key);
    if (!sub && root)
      sub = implicit_root_field(key);
    if (!sub) {
      kj_remove(obj, key); /* keys are unique: this is member i */
      removed++;
      continue;
    }
    removed += prune_value(sub, obj->u.c.items[i]);
    i++;
  }
  return removed;
}

static size_t prune_value(const kj *schema, kj *v)
{
  size_t i, removed = 0;
  switch (kapi_schema_type_of(schema)) {
  case KAPI_SCHEMA_FIELDS:
    return prune_fields(schema, v, 0);
  case KAPI_SCHEMA_LIST:
    if (!v || v->type != KJ_ARRAY)
      return 0;
    for (i = 0; i < v->u.c.n; i++)
      removed += prune_value(kapi_schema_list_item(schema), v->u.c.items[i]);
    return removed;
  case KAPI_SCHEMA_META:
    return prune_fields(kapi_schema_object_meta(), v, 0);
  default:
    return 0;
  }
}

size_t kapi_schema_prune(const kj *schema, kj *obj)
{
  /* Without ObjectMeta (out of memory) metadata cannot be told apart
   * from unknown fields: keep everything rather than drop real data. */
  if (!schema || !kapi_schema_object_meta())
    return 0;
  if (kapi_schema_type_of(schema) == KAPI_SCHEMA_FIELDS)
    return prune_fields(schema, obj, 1);
  return prune_value(schema, obj);
}
