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

static const kapi_host_api *api;

static const char *str_at(const kapi_obj *o, const char *ptr)
{
  const kapi_obj *v = api->obj_lookup(o, ptr);
  return api->obj_type(v) == KAPI_OBJ_STRING ? api->obj_get(v, "") : NULL;
}

static const kapi_column sa_columns[] = {
    {"Name", "string", "name",
     "Name must be unique within a namespace. Is required when creating "
     "resources, although some resources may allow a client to request the "
     "generation of an appropriate name automatically. Name is primarily "
     "intended for creation idempotence and configuration definition. "
     "Cannot be updated. More info: https://kubernetes.io/docs/concepts/"
     "overview/working-with-objects/names#names",
     0},
    {"Secrets", "string", "",
     "Secrets is a list of the secrets in the same namespace that pods "
     "running using this ServiceAccount are allowed to use.", 0},
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

static int sa_table_row(void *st, const kapi_obj *sa, int64_t now,
                        kapi_obj *cells)
{
  const char *name = str_at(sa, "/metadata/name");
  const char *created = str_at(sa, "/metadata/creationTimestamp");
  const kapi_obj *secrets = api->obj_lookup(sa, "/secrets");
  char age[64];

  (void)st;
  if (!created || !*created ||
      api->format_age(created, now, age, sizeof age) < 0)
    snprintf(age, sizeof age, "<unknown>");
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
  api = host;
  return api->register_resource(self, &sa_ops, NULL);
}

KAPI_PLUGIN_DEFINE(.name = "serviceaccount", .version = "0.1.0",
                   .description = "core/v1 serviceaccounts and their table",
                   .license = "Apache-2.0", .init = sa_init);
