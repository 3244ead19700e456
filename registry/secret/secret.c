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
#include "../common/registry_util.h"

#define MAX_SECRET_SIZE (1 << 20) /* core.MaxSecretSize, 1 MiB */

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
      n += check_config_key(errs, "data", api->obj_key(d, i));
      /* Values are base64: 3 bytes for every 4 characters. */
      total += (v ? strlen(v) : 0) / 4 * 3;
    }
  if (total > MAX_SECRET_SIZE)
    n += api->field_error(errs, "data", "FieldValueTooLong", NULL,
                          "may not be more than 1048576 bytes") == 0;
  return n + check_type(secret, errs);
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
    REG_NAME_COLUMN,
    {"Type", "string", "",
     "Used to facilitate programmatic handling of secret data. More info: "
     "https://kubernetes.io/docs/concepts/configuration/secret/"
     "#secret-types",
     0},
    {"Data", "string", "", "", 0},
    REG_AGE_COLUMN,
};

static int secret_table_row(void *st, const kapi_obj *secret, int64_t now,
                            kapi_obj *cells)
{
  char age[64];

  (void)st;
  format_age_of(secret, now, age, sizeof age);
  api->obj_append_str(cells, "", or_empty(str_at(secret, "/metadata/name")));
  api->obj_append_str(cells, "", or_empty(str_at(secret, "/type")));
  api->obj_append_int(cells, "", (int64_t)map_len(secret, "/data"));
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
  return reg_register(self, host, &secret_ops);
}

KAPI_PLUGIN_DEFINE(.name = "secret", .version = "0.1.0",
                   .description = "core/v1 secrets: stringData, types, "
                                  "immutable secrets and the table",
                   .license = "Apache-2.0", .init = secret_init);
