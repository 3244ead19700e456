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
#include "../common/registry_util.h"

#define MAX_DATA_SIZE (1 << 20)    /* corev1.MaxSecretSize, 1 MiB */

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
    n += check_config_key(errs, bag, key);
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
    REG_NAME_COLUMN,
    {"Data", "string", "", "", 0},
    REG_AGE_COLUMN,
};

static int cm_table_row(void *st, const kapi_obj *cm, int64_t now,
                        kapi_obj *cells)
{
  const char *name = str_at(cm, "/metadata/name");
  char age[64];

  (void)st;
  format_age_of(cm, now, age, sizeof age);
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
  return reg_register(self, host, &cm_ops);
}

KAPI_PLUGIN_DEFINE(.name = "configmap", .version = "0.1.0",
                   .description = "core/v1 configmaps: config keys, "
                                  "immutable configmaps and the table",
                   .license = "Apache-2.0", .init = cm_init);
