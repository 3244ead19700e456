/*
 * configmap.c - the "configmaps" resource (core/v1 ConfigMap) as a kapi
 * plugin.
 *
 * Mirrors upstream's configmap strategy (pkg/registry/core/configmap/
 * strategy.go), ValidateConfigMap / ValidateConfigMapUpdate
 * (pkg/apis/core/validation: config keys, keys in both data and
 * binaryData, the 1 MiB limit, immutable ConfigMaps) and printConfigMap
 * (NAME DATA AGE).
 */
#include <stdio.h>
#include <string.h>

#include "kapi/plugin.h"

static const kapi_host_api *api;

#define CONFIG_KEY_MAX 253         /* DNS1123SubdomainMaxLength */
#define MAX_DATA_SIZE (1 << 20)    /* corev1.MaxSecretSize, 1 MiB */
#define IMMUTABLE_MSG "field is immutable when `immutable` is set"

static const char *str_at(const kapi_obj *o, const char *ptr)
{
  const kapi_obj *v = api->obj_lookup(o, ptr);
  return api->obj_type(v) == KAPI_OBJ_STRING ? api->obj_get(v, "") : NULL;
}

static int is_true(const kapi_obj *o, const char *ptr)
{
  const kapi_obj *v = api->obj_lookup(o, ptr);
  return api->obj_type(v) == KAPI_OBJ_BOOL &&
         strcmp(api->obj_get(v, ""), "true") == 0;
}

/* The members of an object (0 for anything else). */
static size_t map_len(const kapi_obj *o, const char *ptr)
{
  const kapi_obj *v = api->obj_lookup(o, ptr);
  return api->obj_type(v) == KAPI_OBJ_OBJECT ? api->obj_len(v) : 0;
}

/* `s` as a JSON string into buf (the bad value of a field error). */
static void json_quote(const char *s, char *buf, size_t len)
{
  size_t o = 0;
  if (len < 3) {
    buf[0] = '\0';
    return;
  }
  buf[o++] = '"';
  for (; *s && o + 8 < len; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      buf[o++] = '\\';
      buf[o++] = (char)c;
    } else if (c < 0x20) {
      o += (size_t)snprintf(buf + o, len - o, "\\u%04x", c);
    } else {
      buf[o++] = (char)c;
    }
  }
  buf[o++] = '"';
  buf[o] = '\0';
}

static int key_char_ok(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

/* validation.IsConfigMapKey: one field error per message, on
 * "<bag>[<key>]". */
static int check_key(kapi_obj *errs, const char *bag, const char *key)
{
  char field[600], bad[1200];
  const char *p;
  int ok = *key != '\0', n = 0;

  snprintf(field, sizeof field, "%s[%s]", bag, key);
  json_quote(key, bad, sizeof bad);
  for (p = key; *p; p++)
    if (!key_char_ok(*p))
      ok = 0;
  if (strlen(key) > CONFIG_KEY_MAX)
    n += api->field_error(errs, field, "FieldValueInvalid", bad,
                          "must be no more than 253 characters") == 0;
  if (!ok)
    n += api->field_error(
             errs, field, "FieldValueInvalid", bad,
             "a valid config key must consist of alphanumeric characters, "
             "'-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or "
             "'key-name', regex used for validation is '[-._a-zA-Z0-9]+')") ==
         0;
  if (strcmp(key, ".") == 0)
    n += api->field_error(errs, field, "FieldValueInvalid", bad,
                          "must not be '.'") == 0;
  else if (strcmp(key, "..") == 0)
    n += api->field_error(errs, field, "FieldValueInvalid", bad,
                          "must not be '..'") == 0;
  else if (strncmp(key, "..", 2) == 0)
    n += api->field_error(errs, field, "FieldValueInvalid", bad,
                          "must not start with '..'") == 0;
  return n;
}

/* Checks the keys of one bag and adds up the sizes of its values. */
static int check_bag(const kapi_obj *cm, kapi_obj *errs, const char *bag,
                     size_t *total)
{
  char ptr[64];
  const kapi_obj *m;
  size_t i;
  int n = 0;

  snprintf(ptr, sizeof ptr, "/%s", bag);
  m = api->obj_lookup(cm, ptr);
  if (api->obj_type(m) != KAPI_OBJ_OBJECT)
    return 0;
  for (i = 0; i < api->obj_len(m); i++) {
    const char *key = api->obj_key(m, i);
    const char *v = api->obj_get(api->obj_index(m, i), "");
    n += check_key(errs, bag, key);
    /* A key in data must not be in binaryData as well (checked once). */
    if (strcmp(bag, "data") == 0 &&
        api->obj_type(api->obj_lookup(cm, "/binaryData")) == KAPI_OBJ_OBJECT) {
      const kapi_obj *bd = api->obj_lookup(cm, "/binaryData");
      size_t j;
      for (j = 0; j < api->obj_len(bd); j++)
        if (strcmp(api->obj_key(bd, j), key) == 0) {
          char field[600], bad[1200];
          snprintf(field, sizeof field, "data[%s]", key);
          json_quote(key, bad, sizeof bad);
          n += api->field_error(errs, field, "FieldValueInvalid", bad,
                                "duplicate of key present in binaryData") == 0;
        }
    }
    *total += v ? strlen(v) : 0;
  }
  return n;
}

static int cm_validate(void *st, const kapi_obj *cm, kapi_obj *errs)
{
  size_t total = 0;
  int n;

  (void)st;
  n = check_bag(cm, errs, "data", &total);
  n += check_bag(cm, errs, "binaryData", &total);
  /* binaryData is counted as sent (base64), a little above upstream's
   * decoded size: it only matters near the limit. */
  if (total > MAX_DATA_SIZE)
    n += api->field_error(errs, "", "FieldValueTooLong", NULL,
                          "may not be more than 1048576 bytes") == 0;
  return n;
}

/* reflect.DeepEqual of two string maps, whatever the key order; an
 * absent map equals only an absent one. */
static int same_map(const kapi_obj *a, const kapi_obj *b)
{
  size_t i, j;
  if (api->obj_type(a) != api->obj_type(b))
    return 0;
  if (api->obj_type(a) != KAPI_OBJ_OBJECT)
    return 1;
  if (api->obj_len(a) != api->obj_len(b))
    return 0;
  for (i = 0; i < api->obj_len(a); i++) {
    const char *k = api->obj_key(a, i);
    const char *va = api->obj_get(api->obj_index(a, i), "");
    for (j = 0; j < api->obj_len(b); j++)
      if (strcmp(api->obj_key(b, j), k) == 0)
        break;
    if (j == api->obj_len(b))
      return 0;
    if (strcmp(va ? va : "",
               api->obj_get(api->obj_index(b, j), "") ? api->obj_get(
                   api->obj_index(b, j), "") : ""))
      return 0;
  }
  return 1;
}

static int cm_validate_update(void *st, const kapi_obj *cm,
                              const kapi_obj *old, kapi_obj *errs)
{
  int n = 0;

  if (is_true(old, "/immutable")) {
    if (!is_true(cm, "/immutable"))
      n += api->field_error(errs, "immutable", "FieldValueForbidden", NULL,
                            IMMUTABLE_MSG) == 0;
    if (!same_map(api->obj_lookup(cm, "/data"),
                  api->obj_lookup(old, "/data")))
      n += api->field_error(errs, "data", "FieldValueForbidden", NULL,
                            IMMUTABLE_MSG) == 0;
    if (!same_map(api->obj_lookup(cm, "/binaryData"),
                  api->obj_lookup(old, "/binaryData")))
      n += api->field_error(errs, "binaryData", "FieldValueForbidden", NULL,
                            IMMUTABLE_MSG) == 0;
  }
  return n + cm_validate(st, cm, errs);
}

/* ------------------------------------------------------------------ */
/* Table (printConfigMap)                                              */
/* ------------------------------------------------------------------ */

static const kapi_column cm_columns[] = {
    {"Name", "string", "name",
     "Name must be unique within a namespace. Is required when creating "
     "resources, although some resources may allow a client to request the "
     "generation of an appropriate name automatically. Name is primarily "
     "intended for creation idempotence and configuration definition. "
     "Cannot be updated. More info: https://kubernetes.io/docs/concepts/"
     "overview/working-with-objects/names#names",
     0},
    {"Data", "string", "", "", 0},
    {"Age", "string", "",
     "CreationTimestamp is a timestamp representing the server time when "
     "this object was created. It is not guaranteed to be set in "
     "happens-before order across separate operations. Clients may not set "
     "this value. It is represented in RFC3339 form and is in UTC.\n\n"
     "Populated by the system. Read-only. Null for lists. More info: "
     "https://git.k8s.io/community/contributors/devel/sig-architecture/"
     "api-conventions.md#metadata",
     0},
};

static int cm_table_row(void *st, const kapi_obj *cm, int64_t now,
                        kapi_obj *cells)
{
  const char *name = str_at(cm, "/metadata/name");
  const char *created = str_at(cm, "/metadata/creationTimestamp");
  char age[64];

  (void)st;
  if (!created || !*created ||
      api->format_age(created, now, age, sizeof age) < 0)
    snprintf(age, sizeof age, "<unknown>");
  api->obj_append_str(cells, "", name ? name : "");
  api->obj_append_int(cells, "", (int64_t)(map_len(cm, "/data") +
                                           map_len(cm, "/binaryData")));
  api->obj_append_str(cells, "", age);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Schema and registration                                             */
/* ------------------------------------------------------------------ */

static const char cm_schema[] =
    "{\"apiVersion\":\"string\",\"kind\":\"string\",\"metadata\":\"meta\","
    "\"data\":\"map\",\"binaryData\":\"map\",\"immutable\":\"boolean\"}";

static const char *const cm_short_names[] = {"cm", NULL};

static const kapi_resource_ops cm_ops = {
    .size = sizeof(kapi_resource_ops),
    .group = "",
    .version = "v1",
    .resource = "configmaps",
    .kind = "ConfigMap",
    .singular = "configmap",
    .short_names = cm_short_names,
    .namespaced = 1,
    .name_rule = KAPI_NAME_DNS_SUBDOMAIN,
    .allow_unconditional_update = 1,
    .schema = cm_schema,
    .columns = cm_columns,
    .n_columns = sizeof cm_columns / sizeof *cm_columns,
    .validate = cm_validate,
    .validate_update = cm_validate_update,
    .table_row = cm_table_row,
};

static int cm_init(kapi_plugin *self, const kapi_host_api *host,
                   const char *config, size_t config_len, kapi_error *e)
{
  (void)config;
  (void)config_len;
  (void)e;
  api = host;
  return api->register_resource(self, &cm_ops, NULL);
}

KAPI_PLUGIN_DEFINE(.name = "configmap", .version = "0.1.0",
                   .description = "core/v1 configmaps: config keys, "
                                  "immutable configmaps and the table",
                   .license = "Apache-2.0", .init = cm_init);
