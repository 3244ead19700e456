/*
 * serviceaccount.c - the "serviceaccounts" resource (core/v1
 * ServiceAccount) as a kapi plugin.
 *
 * Mirrors upstream's serviceaccount strategy (pkg/registry/core/
 * serviceaccount/strategy.go: ValidateServiceAccount checks only the
 * metadata, which the host does) and printServiceAccount (NAME SECRETS
 * AGE).
 */
#include <stdio.h>

#include "kapi/plugin.h"
#include "../common/registry_util.h"

static const kapi_column sa_columns[] = {
    REG_NAME_COLUMN,
    {"Secrets", "string", "",
     "Secrets is a list of the secrets in the same namespace that pods "
     "running using this ServiceAccount are allowed to use.", 0},
    REG_AGE_COLUMN,
};

static int sa_table_row(void *st, const kapi_obj *sa, int64_t now,
                        kapi_obj *cells)
{
  const char *name = str_at(sa, "/metadata/name");
  const kapi_obj *secrets = api->obj_lookup(sa, "/secrets");
  char age[64];

  (void)st;
  format_age_of(sa, now, age, sizeof age);
  api->obj_append_str(cells, "", name ? name : "");
  api->obj_append_int(cells, "",
                      api->obj_type(secrets) == KAPI_OBJ_ARRAY
                          ? (int64_t)api->obj_len(secrets)
                          : 0);
  api->obj_append_str(cells, "", age);
  return 0;
}

#define OBJECT_REFERENCE                                                \
  "{\"kind\":\"string\",\"namespace\":\"string\",\"name\":\"string\","    \
  "\"uid\":\"string\",\"apiVersion\":\"string\","                         \
  "\"resourceVersion\":\"string\",\"fieldPath\":\"string\"}"

static const char sa_schema[] =
    "{\"apiVersion\":\"string\",\"kind\":\"string\",\"metadata\":\"meta\","
    "\"secrets\":[" OBJECT_REFERENCE "],"
    "\"imagePullSecrets\":[{\"name\":\"string\"}],"
    "\"automountServiceAccountToken\":\"boolean\"}";

static const char *const sa_short_names[] = {"sa", NULL};

static const kapi_resource_ops sa_ops = {
    .size = sizeof(kapi_resource_ops),
    .group = "",
    .version = "v1",
    .resource = "serviceaccounts",
    .kind = "ServiceAccount",
    .singular = "serviceaccount",
    .short_names = sa_short_names,
    .namespaced = 1,
    .name_rule = KAPI_NAME_DNS_SUBDOMAIN,
    .allow_unconditional_update = 1,
    .schema = sa_schema,
    .columns = sa_columns,
    .n_columns = sizeof sa_columns / sizeof *sa_columns,
    .table_row = sa_table_row,
};

static int sa_init(kapi_plugin *self, const kapi_host_api *host,
                   const char *config, size_t config_len, kapi_error *e)
{
  (void)config;
  (void)config_len;
  (void)e;
  return reg_register(self, host, &sa_ops);
}

KAPI_PLUGIN_DEFINE(.name = "serviceaccount", .version = "0.1.0",
                   .description = "core/v1 serviceaccounts and their table",
                   .license = "Apache-2.0", .init = sa_init);
