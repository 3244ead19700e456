/*
 * openapi.c - OpenAPI v3 documents generated from the registry: paths
 * and operations for every resource, and components.schemas converted
 * from the resources' compact schemas.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "openapi.h"
#include "schema.h"

#define SCHEMA_REF "#/components/schemas/"
#define META_PKG "io.k8s.apimachinery.pkg.apis.meta.v1."
#define OBJECT_META META_PKG "ObjectMeta"
#define LIST_META META_PKG "ListMeta"
#define DELETE_OPTIONS META_PKG "DeleteOptions"
#define PATCH META_PKG "Patch"
#define STATUS META_PKG "Status"
#define QUANTITY "io.k8s.apimachinery.pkg.api.resource.Quantity"
#define INT_OR_STRING "io.k8s.apimachinery.pkg.util.intstr.IntOrString"

/* ---- names -------------------------------------------------------------- */

/* printf into a new string; NULL when out of memory. */
static char *str_printf(const char *fmt, ...) KAPI_PRINTF(1, 2);
static char *str_printf(const char *fmt, ...)
{
  va_list ap;
  char *s;
  int r;
  va_start(ap, fmt);
  r = vasprintf(&s, fmt, ap);
  va_end(ap);
  return r < 0 ? NULL : s;
}

/* Groups whose Go types do not live under io.k8s.api.<group>. */
static const struct {
  const char *group;
  const char *package;
} special_packages[] = {
    {"", "io.k8s.api.core"},
    {"internal.apiserver.k8s.io", "io.k8s.api.apiserverinternal"},
    {"apiextensions.k8s.io",
     "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions"},
    {"apiregistration.k8s.io",
     "io.k8s.kube-aggregator.pkg.apis.apiregistration"},
};

static int ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && !strcmp(s + n - m, suffix);
}

/* "stable.example.com" -> "com.example.stable": how upstream names the
 * types of groups outside k8s.io (CRDs). */
static char *reverse_labels(const char *group)
{
  size_t n = strlen(group), out = 0;
  char *r = malloc(n + 1);
  const char *end = group + n;

  if (!r)
    return NULL;
  while (end > group) {
    const char *dot = end;
    while (dot > group && dot[-1] != '.')
      dot--;
    if (out)
      r[out++] = '.';
    memcpy(r + out, dot, (size_t)(end - dot));
    out += (size_t)(end - dot);
    end = dot > group ? dot - 1 : group;
  }
  r[out] = '\0';
  return r;
}

/* The OpenAPI name prefix of a group version's types, as upstream names
 * them ("io.k8s.api.core.v1", "io.k8s.api.apps.v1").  Newly allocated. */
static char *type_prefix(const char *group, const char *version)
{
  char *p, *rev;
  size_t i;

  for (i = 0; i < sizeof special_packages / sizeof special_packages[0]; i++)
    if (!strcmp(group, special_packages[i].group))
      return str_printf("%s.%s", special_packages[i].package, version);
  if (!strchr(group, '.'))
    return str_printf("io.k8s.api.%s.%s", group, version);
  if (ends_with(group, ".k8s.io"))
    return str_printf("io.k8s.api.%.*s.%s", (int)strcspn(group, "."), group,
                      version);
  rev = reverse_labels(group);
  p = rev ? str_printf("%s.%s", rev, version) : NULL;
  free(rev);
  return p;
}

/* Camel-cases a group for operation ids and tags, as upstream does:
 * "" -> "core", "rbac.authorization.k8s.io" -> "rbacAuthorization",
 * "stable.example.com" -> "stableExampleCom"; `upper` capitalises the
 * first letter too.  Newly allocated. */
static char *camel_group(const char *group, int upper)
{
  size_t n, i, o = 0;
  int cap = upper;
  char *out;

  if (!*group)
    group = "core";
  n = strlen(group);
  if (ends_with(group, ".k8s.io"))
    n -= strlen(".k8s.io");
  out = malloc(n + 1);
  if (!out)
    return NULL;
  for (i = 0; i < n; i++) {
    if (group[i] == '.' || group[i] == '-') {
      cap = 1;
      continue;
    }
    out[o++] = cap ? (char)toupper((unsigned char)group[i]) : group[i];
    cap = 0;
  }
  out[o] = '\0';
  return out;
}

/* Everything one resource's paths and schemas are named with. */
struct names {
  char *kind;     /* "io.k8s.api.core.v1.Pod" */
  char *list;     /* "io.k8s.api.core.v1.PodList" */
  char *kind_ref; /* "#/components/schemas/io.k8s.api.core.v1.Pod" */
  char *list_ref;
  char *op_gv;    /* "CoreV1": the group version in operation ids */
  char *tag;      /* "core_v1" */
  char *base;     /* "/api/v1", "/apis/apps/v1" */
};

static void names_free(struct names *n)
{
  free(n->kind);
  free(n->list);
  free(n->kind_ref);
  free(n->list_ref);
  free(n->op_gv);
  free(n->tag);
  free(n->base);
  memset(n, 0, sizeof *n);
}

static int names_init(struct names *n, const kapi_resource *res)
{
  const char *g = res->group, *v = res->ops->version, *k = res->ops->kind;
  char *prefix = type_prefix(g, v);
  char *upper = camel_group(g, 1), *lower = camel_group(g, 0);

  memset(n, 0, sizeof *n);
  if (prefix && upper && lower && *v) {
    n->kind = str_printf("%s.%s", prefix, k);
    n->list = str_printf("%s.%sList", prefix, k);
    n->kind_ref = str_printf(SCHEMA_REF "%s.%s", prefix, k);
    n->list_ref = str_printf(SCHEMA_REF "%s.%sList", prefix, k);
    /* "CoreV1", "AppsV1beta1" */
    n->op_gv = str_printf("%s%c%s", upper, toupper((unsigned char)v[0]),
                          v + 1);
    n->tag = str_printf("%s_%s", lower, v);
    n->base = *g ? str_printf("/apis/%s/%s", g, v) : str_printf("/api/%s", v);
  }
  free(prefix);
  free(upper);
  free(lower);
  if (!n->kind || !n->list || !n->kind_ref || !n->list_ref || !n->op_gv ||
      !n->tag || !n->base) {
    names_free(n);
    return -ENOMEM;
  }
  return 0;
}

/* ---- schemas ------------------------------------------------------------ */

static kj *schema_ref(const char *name)
{
  kj *o = kj_object();
  char *ref = str_printf(SCHEMA_REF "%s", name);
  if (!o || !ref || kj_set_str(o, "$ref", ref) < 0) {
    kj_free(o);
    o = NULL;
  }
  free(ref);
  return o;
}

static kj *typed(const char *type)
{
  kj *o = kj_object();
  if (!o || kj_set_str(o, "type", type) < 0) {
    kj_free(o);
    return NULL;
  }
  return o;
}

static kj *typed_described(const char *type, const char *description)
{
  kj *o = typed(type);
  if (o && kj_set_str(o, "description", description) < 0) {
    kj_free(o);
    return NULL;
  }
  return o;
}

static kj *string_map(void)
{
  kj *o = typed("object");
  if (o && kj_set(o, "additionalProperties", typed("string")) < 0) {
    kj_free(o);
    return NULL;
  }
  return o;
}

/* Free-form: any fields, kept as sent. */
static kj *free_form(void)
{
  kj *o = typed("object");
  if (o && kj_set(o, "x-kubernetes-preserve-unknown-fields", kj_bool(1)) < 0) {
    kj_free(o);
    return NULL;
  }
  return o;
}

static kj *fields_schema(const kj *fields, int root);

/* {"type":"string","enum":[...]} from "A|B|C". */
static kj *enum_schema(const char *values)
{
  kj *o = typed("string"), *list = kj_array();
  const char *p = values;

  if (!o || !list)
    goto fail;
  for (;;) {
    const char *bar = strchr(p, '|');
    size_t n = bar ? (size_t)(bar - p) : strlen(p);
    if (n && kj_append(list, kj_stringn(p, n)) < 0)
      goto fail;
    if (!bar)
      break;
    p = bar + 1;
  }
  if (kj_set(o, "enum", list) < 0) {
    kj_free(o);
    return NULL;
  }
  return o;

fail:
  kj_free(list);
  kj_free(o);
  return NULL;
}

/* The element's "$mergeKey"/"$strategy"/"$listType" as the extensions
 * upstream's OpenAPI puts on the list itself. */
static int add_list_annotations(kj *o, const kj *compact)
{
  const char *key = kapi_schema_merge_key(compact);
  const char *strategy = kapi_schema_list_annotation(compact, "$strategy");
  const char *type = kapi_schema_list_annotation(compact, "$listType");

  if (key && kj_set_str(o, "x-kubernetes-patch-merge-key", key) < 0)
    return -ENOMEM;
  if (strategy && kj_set_str(o, "x-kubernetes-patch-strategy", strategy) < 0)
    return -ENOMEM;
  /* Upstream's keyed lists are list-type "map" keyed by the merge key. */
  if (!type && key && strategy && !strcmp(strategy, "merge")) {
    kj *keys = kj_array();
    if (!keys || kj_append(keys, kj_string(key)) < 0 ||
        kj_set_str(o, "x-kubernetes-list-type", "map") < 0) {
      kj_free(keys);
      return -ENOMEM;
    }
    if (kj_set(o, "x-kubernetes-list-map-keys", keys) < 0)
      return -ENOMEM;
  } else if (type && kj_set_str(o, "x-kubernetes-list-type", type) < 0) {
    return -ENOMEM;
  }
  return 0;
}

/* "$required" as the OpenAPI "required" list (only names that are
 * strings). */
static int add_required(kj *o, const kj *fields)
{
  const kj *req = kj_get(fields, "$required");
  kj *list;
  size_t i;

  if (!req || req->type != KJ_ARRAY || !kj_len(req))
    return 0;
  list = kj_array();
  if (!list)
    return -ENOMEM;
  for (i = 0; i < kj_len(req); i++)
    if (kj_str(kj_at(req, i)) &&
        kj_append(list, kj_string(kj_str(kj_at(req, i)))) < 0) {
      kj_free(list);
      return -ENOMEM;
    }
  return kj_set(o, "required", list) < 0 ? -ENOMEM : 0;
}

/* The OpenAPI schema of a compact schema node.  Newly allocated. */
static kj *openapi_schema(const kj *compact)
{
  kj *o;
  switch (kapi_schema_type_of(compact)) {
  case KAPI_SCHEMA_FIELDS:
    return fields_schema(compact, 0);
  case KAPI_SCHEMA_LIST:
    o = typed("array");
    if (o && (kj_set(o, "items",
                     openapi_schema(kapi_schema_list_item(compact))) < 0 ||
              add_list_annotations(o, compact) < 0)) {
      kj_free(o);
      return NULL;
    }
    return o;
  case KAPI_SCHEMA_MAP:
    return string_map();
  case KAPI_SCHEMA_META:
    return schema_ref(OBJECT_META);
  case KAPI_SCHEMA_STRING:
    if (kapi_schema_enum(compact))
      return enum_schema(kapi_schema_enum(compact));
    return typed("string");
  case KAPI_SCHEMA_INTEGER:
    return typed("integer");
  case KAPI_SCHEMA_NUMBER:
    return typed("number");
  case KAPI_SCHEMA_BOOLEAN:
    return typed("boolean");
  case KAPI_SCHEMA_QUANTITY:
    return schema_ref(QUANTITY);
  case KAPI_SCHEMA_INT_OR_STRING:
    return schema_ref(INT_OR_STRING);
  default:
    return free_form();
  }
}

/* The fields every object has, first in its schema. */
static int add_type_and_object_meta(kj *props)
{
  kj *api_version = typed_described(
      "string", "The versioned schema of this representation of an object.");
  kj *kind =
      typed_described("string", "The REST resource this object represents.");
  kj *meta = schema_ref(OBJECT_META);

  if (!meta ||
      kj_set_str(meta, "description", "Standard object's metadata.") < 0) {
    kj_free(api_version);
    kj_free(kind);
    kj_free(meta);
    return -ENOMEM;
  }
  /* kj_set frees its value on failure: nothing leaks past this point. */
  if (kj_set(props, "apiVersion", api_version) < 0) {
    kj_free(kind);
    kj_free(meta);
    return -ENOMEM;
  }
  if (kj_set(props, "kind", kind) < 0) {
    kj_free(meta);
    return -ENOMEM;
  }
  return kj_set(props, "metadata", meta) < 0 ? -ENOMEM : 0;
}

/* {"type":"object","properties":{...}}; `root` adds apiVersion, kind
 * and metadata unless the compact schema has its own. */
static kj *fields_schema(const kj *fields, int root)
{
  kj *o = typed("object"), *props;
  size_t i;

  if (!o || kj_set(o, "properties", kj_object()) < 0)
    goto fail;
  props = kj_get(o, "properties");
  if (root && add_type_and_object_meta(props) < 0)
    goto fail;
  for (i = 0; i < kj_len(fields); i++)
    if (!kapi_schema_is_annotation(kj_key_at(fields, i)) &&
        kj_set(props, kj_key_at(fields, i),
               openapi_schema(kj_at(fields, i))) < 0)
      goto fail;
  if (add_required(o, fields) < 0)
    goto fail;
  return o;

fail:
  kj_free(o);
  return NULL;
}

static kj *gvk(const char *group, const char *version, const char *kind)
{
  kj *o = kj_object();
  if (!o || kj_set_str(o, "group", group) < 0 ||
      kj_set_str(o, "version", version) < 0 ||
      kj_set_str(o, "kind", kind) < 0) {
    kj_free(o);
    return NULL;
  }
  return o;
}

/* Schemas carry a list of GVKs (explain and apply look kinds up there). */
static int set_schema_gvk(kj *schema, const kapi_resource *res,
                          const char *suffix)
{
  char *kind = str_printf("%s%s", res->ops->kind, suffix);
  kj *list = kj_array();
  int r = -ENOMEM;

  if (list && kind &&
      kj_append(list, gvk(res->group, res->ops->version, kind)) == 0) {
    r = kj_set(schema, "x-kubernetes-group-version-kind", list);
    list = NULL; /* kj_set took it, even on failure */
  }
  kj_free(list);
  free(kind);
  return r < 0 ? -ENOMEM : 0;
}

static kj *kind_schema(const kapi_resource *res)
{
  kj *s;
  if (kapi_schema_type_of(res->schema) == KAPI_SCHEMA_FIELDS)
    s = fields_schema(res->schema, 1);
  else {
    /* No field schema: the object is free-form below its metadata. */
    s = fields_schema(NULL, 1);
    if (s &&
        kj_set(s, "x-kubernetes-preserve-unknown-fields", kj_bool(1)) < 0) {
      kj_free(s);
      return NULL;
    }
  }
  if (s && set_schema_gvk(s, res, "") < 0) {
    kj_free(s);
    return NULL;
  }
  return s;
}

static kj *list_schema(const kapi_resource *res, const struct names *n)
{
  kj *s = fields_schema(NULL, 0), *props, *items;
  char *desc = str_printf("%sList is a list of %s.", res->ops->kind,
                          res->ops->kind);

  if (!s || !desc || kj_set_str(s, "description", desc) < 0)
    goto fail;
  props = kj_get(s, "properties");
  if (add_type_and_object_meta(props) < 0 ||
      kj_set(props, "metadata", schema_ref(LIST_META)) < 0 ||
      kj_set(props, "items", typed("array")) < 0)
    goto fail;
  items = kj_get(props, "items");
  if (kj_set(items, "items", schema_ref(n->kind)) < 0 ||
      kj_set(s, "required", kj_array()) < 0 ||
      kj_append(kj_get(s, "required"), kj_string("items")) < 0 ||
      set_schema_gvk(s, res, "List") < 0)
    goto fail;
  free(desc);
  return s;

fail:
  free(desc);
  kj_free(s);
  return NULL;
}

/* apimachinery's types, in compact form where it can say them. */
static const struct {
  const char *name;
  const char *compact;
} compact_components[] = {
    {LIST_META, "{\"continue\":\"string\",\"remainingItemCount\":\"integer\","
                "\"resourceVersion\":\"string\",\"selfLink\":\"string\"}"},
    {DELETE_OPTIONS,
     "{\"apiVersion\":\"string\",\"kind\":\"string\",\"dryRun\":[\"string\"],"
     "\"gracePeriodSeconds\":\"integer\",\"orphanDependents\":\"boolean\","
     "\"preconditions\":{\"resourceVersion\":\"string\",\"uid\":\"string\"},"
     "\"propagationPolicy\":\"string\"}"},
    {STATUS, "{\"apiVersion\":\"string\",\"kind\":\"string\","
             "\"metadata\":\"object\",\"status\":\"string\","
             "\"message\":\"string\",\"reason\":\"string\","
             "\"details\":\"object\",\"code\":\"integer\"}"},
};

/* ...and in OpenAPI where it cannot.  Quantity and IntOrString are
 * marked x-kubernetes-int-or-string: either a number or a string. */
static const struct {
  const char *name;
  const char *json;
} openapi_components[] = {
    {PATCH, "{\"type\":\"object\",\"description\":\"The body of a PATCH "
            "request, in the format its Content-Type names.\"}"},
    {QUANTITY,
     "{\"description\":\"A fixed-point number: 128974848, \\\"129e6\\\", "
     "\\\"129M\\\", \\\"123Mi\\\", \\\"100m\\\".\","
     "\"x-kubernetes-int-or-string\":true,"
     "\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"string\"}]}"},
    {INT_OR_STRING,
     "{\"description\":\"An integer or a string.\","
     "\"format\":\"int-or-string\","
     "\"x-kubernetes-int-or-string\":true,"
     "\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"string\"}]}"},
};

static kj *parse_const(const char *text)
{
  kj *v = NULL;
  char err[128];
  return kj_parse(text, strlen(text), &v, err, sizeof err) < 0 ? NULL : v;
}

static int add_common_schemas(kj *schemas)
{
  const kj *meta = kapi_schema_object_meta();
  kj *c;
  size_t i;

  if (!meta || kj_set(schemas, OBJECT_META, fields_schema(meta, 0)) < 0)
    return -ENOMEM;
  for (i = 0; i < sizeof compact_components / sizeof compact_components[0];
       i++) {
    c = parse_const(compact_components[i].compact);
    if (!c ||
        kj_set(schemas, compact_components[i].name, openapi_schema(c)) < 0) {
      kj_free(c);
      return -ENOMEM;
    }
    kj_free(c);
  }
  for (i = 0; i < sizeof openapi_components / sizeof openapi_components[0];
       i++)
    if (kj_set(schemas, openapi_components[i].name,
               parse_const(openapi_components[i].json)) < 0)
      return -ENOMEM;
  return 0;
}

/* ---- operations --------------------------------------------------------- */

enum {
  QP_ALLOW_BOOKMARKS = 1 << 0,
  QP_CONTINUE = 1 << 1,
  QP_DRY_RUN = 1 << 2,
  QP_FIELD_MANAGER = 1 << 3,
  QP_FIELD_SELECTOR = 1 << 4,
  QP_FIELD_VALIDATION = 1 << 5,
  QP_FORCE = 1 << 6,
  QP_GRACE = 1 << 7,
  QP_LABEL_SELECTOR = 1 << 8,
  QP_LIMIT = 1 << 9,
  QP_PROPAGATION = 1 << 10,
  QP_RESOURCE_VERSION = 1 << 11,
  QP_RV_MATCH = 1 << 12,
  QP_SEND_INITIAL = 1 << 13,
  QP_TIMEOUT = 1 << 14,
  QP_WATCH = 1 << 15,
};

#define QP_WRITE (QP_DRY_RUN | QP_FIELD_MANAGER | QP_FIELD_VALIDATION)
#define QP_DELETE (QP_DRY_RUN | QP_GRACE | QP_PROPAGATION)
#define QP_SELECT                                                       \
  (QP_CONTINUE | QP_FIELD_SELECTOR | QP_LABEL_SELECTOR | QP_LIMIT |     \
   QP_RESOURCE_VERSION | QP_RV_MATCH | QP_SEND_INITIAL | QP_TIMEOUT)
#define QP_LIST (QP_SELECT | QP_ALLOW_BOOKMARKS | QP_WATCH)

/* In upstream's (alphabetical) order.  kubectl's validation looks for
 * exactly {"name":"fieldValidation","in":"query"} on the PATCH. */
static const struct {
  unsigned bit;
  const char *name;
  const char *type;
} query_params[] = {
    {QP_ALLOW_BOOKMARKS, "allowWatchBookmarks", "boolean"},
    {QP_CONTINUE, "continue", "string"},
    {QP_DRY_RUN, "dryRun", "string"},
    {QP_FIELD_MANAGER, "fieldManager", "string"},
    {QP_FIELD_SELECTOR, "fieldSelector", "string"},
    {QP_FIELD_VALIDATION, "fieldValidation", "string"},
    {QP_FORCE, "force", "boolean"},
    {QP_GRACE, "gracePeriodSeconds", "integer"},
    {QP_LABEL_SELECTOR, "labelSelector", "string"},
    {QP_LIMIT, "limit", "integer"},
    {QP_PROPAGATION, "propagationPolicy", "string"},
    {QP_RESOURCE_VERSION, "resourceVersion", "string"},
    {QP_RV_MATCH, "resourceVersionMatch", "string"},
    {QP_SEND_INITIAL, "sendInitialEvents", "boolean"},
    {QP_TIMEOUT, "timeoutSeconds", "integer"},
    {QP_WATCH, "watch", "boolean"},
};

enum body_kind { BODY_NONE, BODY_OBJECT, BODY_PATCH, BODY_DELETE };
enum reply_kind { REPLY_OBJECT, REPLY_LIST, REPLY_STATUS };
enum scope { SCOPE_NAMESPACED, SCOPE_CLUSTER, SCOPE_ALL_NAMESPACES };

/* One operation of a path, as upstream's installer defines it. */
struct op_spec {
  const char *method;   /* "get", "put", ... */
  const char *verb;     /* operation id prefix: "read", "replace", ... */
  const char *infix;    /* "Collection" for deletecollection */
  const char *action;   /* x-kubernetes-action */
  const char *describe; /* description, %s = kind */
  unsigned query;       /* QP_* */
  enum body_kind body;
  enum reply_kind reply;
  const char *codes;    /* success codes, besides which 401 is listed */
};

static const struct op_spec item_ops[] = {
    {"get", "read", "", "get", "read the specified %s", 0, BODY_NONE,
     REPLY_OBJECT, "200"},
    {"put", "replace", "", "put", "replace the specified %s", QP_WRITE,
     BODY_OBJECT, REPLY_OBJECT, "200,201"},
    {"delete", "delete", "", "delete", "delete a %s", QP_DELETE, BODY_DELETE,
     REPLY_OBJECT, "200,202"},
    {"patch", "patch", "", "patch", "partially update the specified %s",
     QP_WRITE | QP_FORCE, BODY_PATCH, REPLY_OBJECT, "200,201"},
};

static const struct op_spec collection_ops[] = {
    {"get", "list", "", "list", "list or watch objects of kind %s", QP_LIST,
     BODY_NONE, REPLY_LIST, "200"},
    {"post", "create", "", "post", "create a %s", QP_WRITE, BODY_OBJECT,
     REPLY_OBJECT, "200,201,202"},
    {"delete", "delete", "Collection", "deletecollection",
     "delete collection of %s", QP_DELETE | QP_SELECT, BODY_DELETE,
     REPLY_STATUS, "200"},
};

static const struct op_spec all_namespaces_ops[] = {
    {"get", "list", "", "list", "list or watch objects of kind %s", QP_LIST,
     BODY_NONE, REPLY_LIST, "200"},
};

static kj *query_param(const char *name, const char *type)
{
  kj *p = kj_object();
  if (!p || kj_set_str(p, "name", name) < 0 ||
      kj_set_str(p, "in", "query") < 0 ||
      kj_set(p, "schema", typed(type)) < 0) {
    kj_free(p);
    return NULL;
  }
  return p;
}

static kj *path_param(const char *name, const char *description)
{
  kj *p = kj_object();
  if (!p || kj_set_str(p, "name", name) < 0 ||
      kj_set_str(p, "in", "path") < 0 ||
      kj_set_str(p, "description", description) < 0 ||
      kj_set(p, "required", kj_bool(1)) < 0 ||
      kj_set(p, "schema", typed("string")) < 0) {
    kj_free(p);
    return NULL;
  }
  return p;
}

static kj *query_params_for(unsigned mask)
{
  kj *arr = kj_array();
  size_t i;
  for (i = 0; arr && i < sizeof query_params / sizeof query_params[0]; i++)
    if ((mask & query_params[i].bit) &&
        kj_append(arr, query_param(query_params[i].name,
                                   query_params[i].type)) < 0) {
      kj_free(arr);
      return NULL;
    }
  return arr;
}

/* {"<media type>":{"schema":{"$ref":...}}} */
static int add_media(kj *content, const char *media_type, const char *ref)
{
  kj *m = kj_object(), *schema = kj_object();
  if (kj_set(content, media_type, m) < 0 || !schema ||
      kj_set_str(schema, "$ref", ref) < 0) {
    kj_free(schema);
    return -ENOMEM;
  }
  return kj_set(m, "schema", schema);
}

/*
 * The PATCH body deliberately omits application/strategic-merge-patch+json,
 * which the server accepts: kubectl apply computes a strategic merge
 * patch from the v3 schema of any kind whose PATCH lists it, and our
 * compact schemas carry no merge keys, so it would replace whole lists.
 * Without it kubectl falls back to its built-in types (the measured
 * path, contract section 5) or to a JSON merge patch for unknown kinds.
 */
static const char *const patch_types[] = {
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
};

static kj *request_body(enum body_kind kind, const struct names *n)
{
  kj *b = kj_object(), *content;
  size_t i;
  int r = 0;

  if (!b || kj_set(b, "content", kj_object()) < 0)
    goto fail;
  content = kj_get(b, "content");
  if (kind == BODY_OBJECT)
    r = add_media(content, "*/*", n->kind_ref);
  else if (kind == BODY_DELETE)
    r = add_media(content, "*/*", SCHEMA_REF DELETE_OPTIONS);
  else
    for (i = 0; r == 0 && i < sizeof patch_types / sizeof patch_types[0]; i++)
      r = add_media(content, patch_types[i], SCHEMA_REF PATCH);
  if (r < 0 || (kind != BODY_DELETE && kj_set(b, "required", kj_bool(1)) < 0))
    goto fail;
  return b;

fail:
  kj_free(b);
  return NULL;
}

static const char *code_text(const char *code)
{
  if (!strcmp(code, "201"))
    return "Created";
  if (!strcmp(code, "202"))
    return "Accepted";
  return "OK";
}

static kj *responses(const struct op_spec *op, const struct names *n)
{
  const char *ref = op->reply == REPLY_LIST     ? n->list_ref
                    : op->reply == REPLY_STATUS ? SCHEMA_REF STATUS
                                                : n->kind_ref;
  kj *rs = kj_object();
  char code[8];
  const char *p = op->codes;

  if (!rs)
    return NULL;
  while (*p) {
    size_t len = strcspn(p, ",");
    kj *r = kj_object();
    snprintf(code, sizeof code, "%.*s", (int)len, p);
    if (kj_set(rs, code, r) < 0 ||
        kj_set_str(r, "description", code_text(code)) < 0 ||
        kj_set(r, "content", kj_object()) < 0 ||
        add_media(kj_get(r, "content"), "application/json", ref) < 0)
      goto fail;
    p += len + (p[len] == ',');
  }
  if (kj_set(rs, "401", kj_object()) < 0 ||
      kj_set_str(kj_get(rs, "401"), "description", "Unauthorized") < 0)
    goto fail;
  return rs;

fail:
  kj_free(rs);
  return NULL;
}

/* "readCoreV1NamespacedPod", "listCoreV1PodForAllNamespaces"... */
static char *operation_id(const struct op_spec *op, const struct names *n,
                          const kapi_resource *res, enum scope scope)
{
  return str_printf("%s%s%s%s%s%s", op->verb, n->op_gv, op->infix,
                    scope == SCOPE_NAMESPACED ? "Namespaced" : "",
                    res->ops->kind,
                    scope == SCOPE_ALL_NAMESPACES ? "ForAllNamespaces" : "");
}

static kj *operation(const struct op_spec *op, const struct names *n,
                     const kapi_resource *res, enum scope scope)
{
  kj *o = kj_object();
  char *id = operation_id(op, n, res, scope);
  char *desc = str_printf(op->describe, res->ops->kind);

  if (!o || !id || !desc || kj_set_str(o, "description", desc) < 0 ||
      kj_set_str(o, "operationId", id) < 0 ||
      kj_set(o, "tags", kj_array()) < 0 ||
      kj_append(kj_get(o, "tags"), kj_string(n->tag)) < 0 ||
      (op->query && kj_set(o, "parameters", query_params_for(op->query)) < 0) ||
      (op->body != BODY_NONE &&
       kj_set(o, "requestBody", request_body(op->body, n)) < 0) ||
      kj_set(o, "responses", responses(op, n)) < 0 ||
      kj_set_str(o, "x-kubernetes-action", op->action) < 0 ||
      kj_set(o, "x-kubernetes-group-version-kind",
             gvk(res->group, res->ops->version, res->ops->kind)) < 0)
    goto fail;
  free(id);
  free(desc);
  return o;

fail:
  kj_free(o);
  free(id);
  free(desc);
  return NULL;
}

/* The parameters shared by a path's operations. */
static kj *path_params(const kapi_resource *res, int item, enum scope scope)
{
  kj *arr = kj_array();
  int r = arr ? 0 : -ENOMEM;

  if (r == 0 && item) {
    char *desc = str_printf("name of the %s", res->ops->kind);
    r = desc ? kj_append(arr, path_param("name", desc)) : -ENOMEM;
    free(desc);
  }
  if (r == 0 && scope == SCOPE_NAMESPACED)
    r = kj_append(arr, path_param("namespace",
                                  "object name and auth scope, such as for "
                                  "teams and projects"));
  if (r == 0)
    r = kj_append(arr, query_param("pretty", "string"));
  if (r < 0) {
    kj_free(arr);
    return NULL;
  }
  return arr;
}

static int add_path(kj *paths, const char *path, const struct op_spec *ops,
                    size_t n_ops, int item, enum scope scope,
                    const struct names *n, const kapi_resource *res)
{
  kj *p = kj_object();
  size_t i;

  if (kj_set(paths, path, p) < 0)
    return -ENOMEM;
  for (i = 0; i < n_ops; i++)
    if (kj_set(p, ops[i].method, operation(&ops[i], n, res, scope)) < 0)
      return -ENOMEM;
  return kj_set(p, "parameters", path_params(res, item, scope));
}

#define N_OPS(a) (sizeof(a) / sizeof((a)[0]))

static int add_resource_paths(kj *paths, const kapi_resource *res,
                              const struct names *n)
{
  int ns = res->ops->namespaced;
  enum scope scope = ns ? SCOPE_NAMESPACED : SCOPE_CLUSTER;
  const char *plural = res->ops->resource;
  char *coll = ns ? str_printf("%s/namespaces/{namespace}/%s", n->base, plural)
                  : str_printf("%s/%s", n->base, plural);
  char *item = coll ? str_printf("%s/{name}", coll) : NULL;
  char *all = ns ? str_printf("%s/%s", n->base, plural) : NULL;
  int r = -ENOMEM;

  if (!coll || !item || (ns && !all))
    goto out;
  r = add_path(paths, coll, collection_ops, N_OPS(collection_ops), 0, scope,
               n, res);
  if (r == 0)
    r = add_path(paths, item, item_ops, N_OPS(item_ops), 1, scope, n, res);
  if (r == 0 && ns)
    r = add_path(paths, all, all_namespaces_ops, N_OPS(all_namespaces_ops), 0,
                 SCOPE_ALL_NAMESPACES, n, res);
out:
  free(coll);
  free(item);
  free(all);
  return r < 0 ? -ENOMEM : 0;
}

/* ---- documents ---------------------------------------------------------- */

static int add_resource(kj *paths, kj *schemas, const kapi_resource *res)
{
  struct names n;
  int r = names_init(&n, res);

  if (r < 0)
    return r;
  r = add_resource_paths(paths, res, &n);
  /* Two resources of one kind (a plugin's aliases) share its schemas. */
  if (r == 0 && !kj_get(schemas, n.kind) &&
      (kj_set(schemas, n.kind, kind_schema(res)) < 0 ||
       kj_set(schemas, n.list, list_schema(res, &n)) < 0))
    r = -ENOMEM;
  names_free(&n);
  return r;
}

static int same_gv(const kapi_resource *res, const char *group,
                   const char *version)
{
  return !strcmp(res->group, group) && !strcmp(res->ops->version, version);
}

/* The OpenAPI document of one group version.  Newly allocated. */
static kj *gv_document(const kapi_registry *reg, const char *group,
                       const char *version)
{
  kj *doc = kj_object(), *info, *components, *paths, *schemas;
  size_t i;

  if (!doc || kj_set_str(doc, "openapi", "3.0.0") < 0 ||
      !(info = kj_child_object(doc, "info")) ||
      kj_set_str(info, "title", "Kubernetes") < 0 ||
      kj_set_str(info, "version", "unversioned") < 0 ||
      kj_set(doc, "paths", kj_object()) < 0 ||
      !(components = kj_child_object(doc, "components")) ||
      kj_set(components, "schemas", kj_object()) < 0)
    goto fail;
  paths = kj_get(doc, "paths");
  schemas = kj_get(components, "schemas");
  for (i = 0; i < reg->n; i++)
    if (same_gv(&reg->items[i], group, version) &&
        add_resource(paths, schemas, &reg->items[i]) < 0)
      goto fail;
  if (add_common_schemas(schemas) < 0)
    goto fail;
  return doc;

fail:
  kj_free(doc);
  return NULL;
}

/* ---- the cache ---------------------------------------------------------- */

/* One served document: the path under /openapi/v3/ and its bytes. */
struct gv_doc {
  char *key;  /* "api/v1", "apis/apps/v1" */
  char *body;
  size_t len;
};

static struct {
  pthread_mutex_t mu;
  const kapi_registry *reg; /* what the documents were built from */
  char *root;
  size_t root_len;
  struct gv_doc *docs;
  size_t n;
} cache = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void cache_clear_locked(void)
{
  size_t i;
  for (i = 0; i < cache.n; i++) {
    free(cache.docs[i].key);
    free(cache.docs[i].body);
  }
  free(cache.docs);
  free(cache.root);
  cache.docs = NULL;
  cache.n = 0;
  cache.root = NULL;
  cache.root_len = 0;
  cache.reg = NULL;
}

void kapi_openapi_cache_free(void)
{
  pthread_mutex_lock(&cache.mu);
  cache_clear_locked();
  pthread_mutex_unlock(&cache.mu);
}

/* Upstream's hash: SHA-512 of the document, in upper-case hex. */
static void document_hash(const char *body, size_t len, char out[129])
{
  static const char hex[] = "0123456789ABCDEF";
  unsigned char md[SHA512_DIGEST_LENGTH];
  size_t i;

  SHA512((const unsigned char *)body, len, md);
  for (i = 0; i < sizeof md; i++) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 15];
  }
  out[2 * sizeof md] = '\0';
}

/* "api/v1", "apis/apps/v1": where a group version's document is served
 * under /openapi/v3/.  Newly allocated. */
static char *gv_key(const char *group, const char *version)
{
  return *group ? str_printf("apis/%s/%s", group, version)
                : str_printf("api/%s", version);
}

static int find_doc_locked(const char *key)
{
  size_t i;
  for (i = 0; i < cache.n; i++)
    if (!strcmp(cache.docs[i].key, key))
      return (int)i;
  return -1;
}

/* Builds and caches the document of one group version, and lists it in
 * the root's paths. */
static int cache_add_gv_locked(const kapi_registry *reg, const char *group,
                               const char *version, kj *root_paths)
{
  struct gv_doc *d = &cache.docs[cache.n];
  char hash[129], *url = NULL;
  kj *doc, *entry = kj_object();
  int r = -ENOMEM;

  memset(d, 0, sizeof *d);
  d->key = gv_key(group, version);
  if (!entry || !d->key) {
    free(d->key);
    kj_free(entry);
    return -ENOMEM;
  }
  cache.n++; /* from here d is freed with the cache */
  doc = gv_document(reg, group, version);
  d->body = doc ? kj_dump(doc, &d->len) : NULL;
  kj_free(doc);
  if (d->body) {
    document_hash(d->body, d->len, hash);
    url = str_printf("/openapi/v3/%s?hash=%s", d->key, hash);
    if (url && kj_set_str(entry, "serverRelativeURL", url) == 0) {
      r = kj_set(root_paths, d->key, entry);
      entry = NULL;
    }
  }
  kj_free(entry);
  free(url);
  return r < 0 ? -ENOMEM : 0;
}

static int cache_build_locked(const kapi_registry *reg)
{
  kj *root = kj_object(), *paths;
  size_t i;
  int r = -ENOMEM;

  cache_clear_locked();
  cache.docs = calloc(reg->n + 1, sizeof *cache.docs);
  if (!root || !cache.docs || kj_set(root, "paths", kj_object()) < 0)
    goto out;
  paths = kj_get(root, "paths");
  r = 0;
  for (i = 0; i < reg->n && r == 0; i++) {
    const kapi_resource *res = &reg->items[i];
    char *key = gv_key(res->group, res->ops->version);
    if (!key) {
      r = -ENOMEM;
      break;
    }
    if (find_doc_locked(key) < 0)
      r = cache_add_gv_locked(reg, res->group, res->ops->version, paths);
    free(key);
  }
  if (r == 0) {
    cache.root = kj_dump(root, &cache.root_len);
    r = cache.root ? 0 : -ENOMEM;
  }
out:
  kj_free(root);
  if (r < 0)
    cache_clear_locked();
  else
    cache.reg = reg;
  return r;
}

/* Copies the document at `key` ("" for the root) out of the cache,
 * building the cache first if needed.  0, -ENOENT or -ENOMEM. */
static int cache_copy(const kapi_registry *reg, const char *key, char **ret,
                      size_t *ret_len)
{
  const char *src = NULL;
  size_t len = 0;
  int r = 0, i;

  pthread_mutex_lock(&cache.mu);
  if (cache.reg != reg || !cache.root)
    r = cache_build_locked(reg);
  if (r == 0 && !*key) {
    src = cache.root;
    len = cache.root_len;
  } else if (r == 0 && (i = find_doc_locked(key)) >= 0) {
    src = cache.docs[i].body;
    len = cache.docs[i].len;
  } else if (r == 0)
    r = -ENOENT;
  if (src) {
    *ret = malloc(len + 1);
    if (*ret) {
      memcpy(*ret, src, len + 1);
      *ret_len = len;
    } else
      r = -ENOMEM;
  }
  pthread_mutex_unlock(&cache.mu);
  return r;
}

/* ---- requests ----------------------------------------------------------- */

/* The shared Status helpers, answering "handled". */
static int respond_error(kapi_response *resp, int code, const char *reason,
                         const char *message)
{
  kapi_response_fail(resp, code, reason, message);
  return 1;
}

static int respond_not_found(kapi_response *resp)
{
  kapi_response_not_found(resp);
  return 1;
}

static int serve(kapi_server *srv, kapi_response *resp, const char *key)
{
  char *body = NULL;
  size_t len = 0;
  int r = cache_copy(srv->registry, key, &body, &len);

  if (r == -ENOENT)
    return respond_not_found(resp);
  if (r < 0)
    return respond_error(resp, 500, "InternalError",
                         "out of memory building the OpenAPI documents");
  kapi_response_take(resp, 200, body, len);
  return 1;
}

static int is_read(const kapi_req *r)
{
  return r->method &&
         (!strcmp(r->method, "GET") || !strcmp(r->method, "HEAD"));
}

int kapi_openapi_handle(kapi_server *srv, kapi_req *r, kapi_response *resp)
{
  const char *p = r->path, *rest;
  char key[256];
  size_t n;

  if (!p || strncmp(p, "/openapi", 8) || (p[8] && p[8] != '/') ||
      !is_read(r))
    return 0;
  rest = p + 8;
  if (strncmp(rest, "/v3", 3) || (rest[3] && rest[3] != '/'))
    return respond_not_found(resp); /* /openapi/v2 and the like */
  rest += 3;
  while (*rest == '/')
    rest++;
  n = strlen(rest);
  while (n && rest[n - 1] == '/')
    n--;
  if (n >= sizeof key)
    return respond_not_found(resp);
  memcpy(key, rest, n);
  key[n] = '\0';
  return serve(srv, resp, key);
}
