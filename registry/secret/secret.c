/*
 * secret.c - the "secrets" resource (core/v1 Secret) as a kapi plugin.
 *
 * Mirrors upstream's secret strategy (pkg/registry/core/secret/
 * strategy.go: the "type" field selector), SetDefaults_Secret (type
 * Opaque), the v1 conversion that merges the write-only stringData into
 * data, ValidateSecret / ValidateSecretUpdate (pkg/apis/core/validation:
 * keys, size, the keys each type needs, immutable type and immutable
 * secrets) and printSecret (NAME TYPE DATA AGE).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapi/plugin.h"

static const kapi_host_api *api;

#define CONFIG_KEY_MAX 253      /* DNS1123SubdomainMaxLength */
#define MAX_SECRET_SIZE (1 << 20) /* core.MaxSecretSize, 1 MiB */
#define IMMUTABLE_MSG "field is immutable when `immutable` is set"

static const char *str_at(const kapi_obj *o, const char *ptr)
{
  const kapi_obj *v = api->obj_lookup(o, ptr);
  return api->obj_type(v) == KAPI_OBJ_STRING ? api->obj_get(v, "") : NULL;
}

static const char *or_empty(const char *s)
{
  return s ? s : "";
}

static int is_true(const kapi_obj *o, const char *ptr)
{
  const kapi_obj *v = api->obj_lookup(o, ptr);
  return api->obj_type(v) == KAPI_OBJ_BOOL &&
         strcmp(api->obj_get(v, ""), "true") == 0;
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

/* ------------------------------------------------------------------ */
/* stringData -> data (Convert_v1_Secret_To_core_Secret)               */
/* ------------------------------------------------------------------ */

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with padding (encoding/json's []byte form); the
 * result is malloc'd, NULL when out of memory. */
static char *base64_encode(const unsigned char *in, size_t n)
{
  char *out = malloc((n + 2) / 3 * 4 + 1), *p = out;
  size_t i;

  if (!out)
    return NULL;
  for (i = 0; i + 2 < n; i += 3) {
    *p++ = b64_alphabet[in[i] >> 2];
    *p++ = b64_alphabet[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
    *p++ = b64_alphabet[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
    *p++ = b64_alphabet[in[i + 2] & 63];
  }
  if (n - i == 1) {
    *p++ = b64_alphabet[in[i] >> 2];
    *p++ = b64_alphabet[(in[i] & 3) << 4];
    *p++ = '=';
    *p++ = '=';
  } else if (n - i == 2) {
    *p++ = b64_alphabet[in[i] >> 2];
    *p++ = b64_alphabet[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
    *p++ = b64_alphabet[(in[i + 1] & 15) << 2];
    *p++ = '=';
  }
  *p = '\0';
  return out;
}

/* "/data/<key>" with the key escaped as a JSON pointer token (~0, ~1). */
static int data_pointer(const char *key, char *buf, size_t len)
{
  size_t o = (size_t)snprintf(buf, len, "/data/");
  for (; *key; key++) {
    if (o + 3 >= len)
      return -1;
    if (*key == '~' || *key == '/') {
      buf[o++] = '~';
      buf[o++] = *key == '~' ? '0' : '1';
    } else {
      buf[o++] = *key;
    }
  }
  buf[o] = '\0';
  return 0;
}

/*
 * stringData is write-only: its entries override those of data, base64
 * encoded, and it is never stored.  Also defaults the type to Opaque.
 */
static void normalize(kapi_obj *secret)
{
  const kapi_obj *sd = api->obj_lookup(secret, "/stringData");
  char ptr[1100];
  size_t i;

  if (api->obj_type(sd) == KAPI_OBJ_OBJECT) {
    for (i = 0; i < api->obj_len(sd); i++) {
      const char *v = or_empty(api->obj_get(api->obj_index(sd, i), ""));
      char *enc = base64_encode((const unsigned char *)v, strlen(v));
      if (enc && data_pointer(api->obj_key(sd, i), ptr, sizeof ptr) == 0)
        api->obj_set_str(secret, ptr, enc);
      free(enc);
    }
  }
  api->obj_remove(secret, "/stringData");
  if (!str_at(secret, "/type") || !*str_at(secret, "/type"))
    api->obj_set_str(secret, "/type", "Opaque");
}

static void secret_prepare_for_create(void *st, kapi_obj *secret)
{
  (void)st;
  normalize(secret);
}

static void secret_prepare_for_update(void *st, kapi_obj *secret,
                                      const kapi_obj *old)
{
  (void)st;
  (void)old;
  normalize(secret);
}

/* ------------------------------------------------------------------ */
/* Validation (ValidateSecret, ValidateSecretUpdate)                   */
/* ------------------------------------------------------------------ */

static int key_char_ok(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

/* validation.IsConfigMapKey on "data[<key>]". */
static int check_key(kapi_obj *errs, const char *key)
{
  char field[600], bad[1200];
  const char *p;
  int ok = *key != '\0', n = 0;

  snprintf(field, sizeof field, "data[%s]", key);
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

static int has_key(const kapi_obj *secret, const char *key)
{
  const kapi_obj *d = api->obj_lookup(secret, "/data");
  size_t i;
  if (api->obj_type(d) != KAPI_OBJ_OBJECT)
    return 0;
  for (i = 0; i < api->obj_len(d); i++)
    if (strcmp(api->obj_key(d, i), key) == 0)
      return 1;
  return 0;
}

static int required(kapi_obj *errs, const char *field)
{
  return api->field_error(errs, field, "FieldValueRequired", NULL, NULL) == 0;
}

/* The keys a secret of a well-known type must have. */
static int check_type(const kapi_obj *secret, kapi_obj *errs)
{
  const char *type = or_empty(str_at(secret, "/type"));
  const char *sa;
  int n = 0;

  if (strcmp(type, "kubernetes.io/service-account-token") == 0) {
    sa = str_at(secret,
                "/metadata/annotations/kubernetes.io~1service-account.name");
    if (!sa || !*sa)
      n += required(errs, "metadata.annotations[kubernetes.io/"
                          "service-account.name]");
  } else if (strcmp(type, "kubernetes.io/dockercfg") == 0) {
    if (!has_key(secret, ".dockercfg"))
      n += required(errs, "data[.dockercfg]");
  } else if (strcmp(type, "kubernetes.io/dockerconfigjson") == 0) {
    if (!has_key(secret, ".dockerconfigjson"))
      n += required(errs, "data[.dockerconfigjson]");
  } else if (strcmp(type, "kubernetes.io/basic-auth") == 0) {
    if (!has_key(secret, "username") && !has_key(secret, "password")) {
      n += required(errs, "data[username]");
      n += required(errs, "data[password]");
    }
  } else if (strcmp(type, "kubernetes.io/ssh-auth") == 0) {
    const char *k = str_at(secret, "/data/ssh-privatekey");
    if (!k || !*k)
      n += required(errs, "data[ssh-privatekey]");
  } else if (strcmp(type, "kubernetes.io/tls") == 0) {
    if (!has_key(secret, "tls.crt"))
      n += required(errs, "data[tls.crt]");
    if (!has_key(secret, "tls.key"))
      n += required(errs, "data[tls.key]");
  }
  return n;
}

static int secret_validate(void *st, const kapi_obj *secret, kapi_obj *errs)
{
  const kapi_obj *d = api->obj_lookup(secret, "/data");
  size_t i, total = 0;
  int n = 0;

  (void)st;
  if (api->obj_type(d) == KAPI_OBJ_OBJECT)
    for (i = 0; i < api->obj_len(d); i++) {
      const char *v = api->obj_get(api->obj_index(d, i), "");
      n += check_key(errs, api->obj_key(d, i));
      /* Values are base64: 3 bytes for every 4 characters. */
      total += (v ? strlen(v) : 0) / 4 * 3;
    }
  if (total > MAX_SECRET_SIZE)
    n += api->field_error(errs, "data", "FieldValueTooLong", NULL,
                          "may not be more than 1048576 bytes") == 0;
  return n + check_type(secret, errs);
}

/* reflect.DeepEqual of two string maps, whatever the key order. */
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
    for (j = 0; j < api->obj_len(b); j++)
      if (strcmp(api->obj_key(b, j), k) == 0)
        break;
    if (j == api->obj_len(b) ||
        strcmp(or_empty(api->obj_get(api->obj_index(a, i), "")),
               or_empty(api->obj_get(api->obj_index(b, j), ""))))
      return 0;
  }
  return 1;
}

static int secret_validate_update(void *st, const kapi_obj *secret,
                                  const kapi_obj *old, kapi_obj *errs)
{
  const char *type = or_empty(str_at(secret, "/type"));
  char bad[512];
  int n = 0;

  if (strcmp(type, or_empty(str_at(old, "/type")))) {
    json_quote(type, bad, sizeof bad);
    n += api->field_error(errs, "type", "FieldValueInvalid", bad,
                          "field is immutable") == 0;
  }
  if (is_true(old, "/immutable")) {
    if (!is_true(secret, "/immutable"))
      n += api->field_error(errs, "immutable", "FieldValueForbidden", NULL,
                            IMMUTABLE_MSG) == 0;
    if (!same_map(api->obj_lookup(secret, "/data"),
                  api->obj_lookup(old, "/data")))
      n += api->field_error(errs, "data", "FieldValueForbidden", NULL,
                            IMMUTABLE_MSG) == 0;
  }
  return n + secret_validate(st, secret, errs);
}

/* ------------------------------------------------------------------ */
/* Table (printSecret)                                                 */
/* ------------------------------------------------------------------ */

static const kapi_column secret_columns[] = {
    {"Name", "string", "name",
     "Name must be unique within a namespace. Is required when creating "
     "resources, although some resources may allow a client to request the "
     "generation of an appropriate name automatically. Name is primarily "
     "intended for creation idempotence and configuration definition. "
     "Cannot be updated. More info: https://kubernetes.io/docs/concepts/"
     "overview/working-with-objects/names#names",
     0},
    {"Type", "string", "",
     "Used to facilitate programmatic handling of secret data. More info: "
     "https://kubernetes.io/docs/concepts/configuration/secret/"
     "#secret-types",
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

static int secret_table_row(void *st, const kapi_obj *secret, int64_t now,
                            kapi_obj *cells)
{
  const char *created = str_at(secret, "/metadata/creationTimestamp");
  const kapi_obj *d = api->obj_lookup(secret, "/data");
  char age[64];

  (void)st;
  if (!created || !*created ||
      api->format_age(created, now, age, sizeof age) < 0)
    snprintf(age, sizeof age, "<unknown>");
  api->obj_append_str(cells, "", or_empty(str_at(secret, "/metadata/name")));
  api->obj_append_str(cells, "", or_empty(str_at(secret, "/type")));
  api->obj_append_int(
      cells, "",
      api->obj_type(d) == KAPI_OBJ_OBJECT ? (int64_t)api->obj_len(d) : 0);
  api->obj_append_str(cells, "", age);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Schema and registration                                             */
/* ------------------------------------------------------------------ */

static const char secret_schema[] =
    "{\"apiVersion\":\"string\",\"kind\":\"string\",\"metadata\":\"meta\","
    "\"data\":\"map\",\"stringData\":\"map\",\"type\":\"string\","
    "\"immutable\":\"boolean\"}";

/* SelectableFields: metadata.* plus the type. */
static const kapi_field_label secret_fields[] = {
    {"type", "/type"},
};

static const kapi_resource_ops secret_ops = {
    .size = sizeof(kapi_resource_ops),
    .group = "",
    .version = "v1",
    .resource = "secrets",
    .kind = "Secret",
    .singular = "secret",
    .namespaced = 1,
    .name_rule = KAPI_NAME_DNS_SUBDOMAIN,
    .allow_unconditional_update = 1,
    .schema = secret_schema,
    .fields = secret_fields,
    .n_fields = sizeof secret_fields / sizeof *secret_fields,
    .columns = secret_columns,
    .n_columns = sizeof secret_columns / sizeof *secret_columns,
    .prepare_for_create = secret_prepare_for_create,
    .validate = secret_validate,
    .prepare_for_update = secret_prepare_for_update,
    .validate_update = secret_validate_update,
    .table_row = secret_table_row,
};

static int secret_init(kapi_plugin *self, const kapi_host_api *host,
                       const char *config, size_t config_len, kapi_error *e)
{
  (void)config;
  (void)config_len;
  (void)e;
  api = host;
  return api->register_resource(self, &secret_ops, NULL);
}

KAPI_PLUGIN_DEFINE(.name = "secret", .version = "0.1.0",
                   .description = "core/v1 secrets: stringData, types, "
                                  "immutable secrets and the table",
                   .license = "Apache-2.0", .init = secret_init);
