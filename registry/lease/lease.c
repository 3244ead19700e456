/*
 * lease.c - the "leases" resource (coordination.k8s.io/v1 Lease) as a
 * kapi plugin.
 *
 * Mirrors upstream's lease strategy (pkg/registry/coordination/lease/
 * strategy.go: create on update, unconditional updates), ValidateLease
 * (pkg/apis/coordination/validation) and printLease.  Leader election
 * and node heartbeats (kube-node-lease) use leases; their times are
 * MicroTime strings, stored as sent.
 */
#include <stdio.h>
#include <string.h>

#include "kapi/plugin.h"

static const kapi_host_api *api;

static const char *str_at(const kapi_obj *o, const char *ptr)
{
  const kapi_obj *v = api->obj_lookup(o, ptr);
  return api->obj_type(v) == KAPI_OBJ_STRING ? api->obj_get(v, "") : NULL;
}

/* ValidateLeaseSpec: a duration must be positive, transitions not
 * negative, a preferred holder needs a strategy. */
static int lease_validate(void *st, const kapi_obj *lease, kapi_obj *errs)
{
  const kapi_obj *v;
  int64_t n;
  char bad[32];
  int nerr = 0;

  (void)st;
  v = api->obj_lookup(lease, "/spec/leaseDurationSeconds");
  if (v && api->obj_int(v, &n) == 0 && n <= 0) {
    snprintf(bad, sizeof bad, "%lld", (long long)n);
    nerr += api->field_error(errs, "spec.leaseDurationSeconds",
                             "FieldValueInvalid", bad,
                             "must be greater than 0") == 0;
  }
  v = api->obj_lookup(lease, "/spec/leaseTransitions");
  if (v && api->obj_int(v, &n) == 0 && n < 0) {
    snprintf(bad, sizeof bad, "%lld", (long long)n);
    nerr += api->field_error(errs, "spec.leaseTransitions",
                             "FieldValueInvalid", bad,
                             "must be greater than or equal to 0") == 0;
  }
  if (str_at(lease, "/spec/preferredHolder") &&
      *str_at(lease, "/spec/preferredHolder") &&
      !(str_at(lease, "/spec/strategy") && *str_at(lease, "/spec/strategy")))
    nerr += api->field_error(errs, "spec.strategy", "FieldValueForbidden",
                             NULL,
                             "strategy must be set if preferredHolder is "
                             "set") == 0;
  return nerr;
}

static int lease_validate_update(void *st, const kapi_obj *lease,
                                 const kapi_obj *old, kapi_obj *errs)
{
  (void)old;
  return lease_validate(st, lease, errs);
}

static const kapi_column lease_columns[] = {
    {"Name", "string", "name",
     "Name must be unique within a namespace. Is required when creating "
     "resources, although some resources may allow a client to request the "
     "generation of an appropriate name automatically. Name is primarily "
     "intended for creation idempotence and configuration definition. "
     "Cannot be updated. More info: https://kubernetes.io/docs/concepts/"
     "overview/working-with-objects/names#names",
     0},
    {"Holder", "string", "",
     "holderIdentity contains the identity of the holder of a current "
     "lease. If Coordinated Leader Election is used, the holder identity "
     "must be equal to the elected LeaseCandidate.metadata.name field.", 0},
    {"Age", "string", "",
     "CreationTimestamp is a timestamp representing the server time when "
     "this object was created. It is not guaranteed to be set in "
     "happens-before order across separate operations. Clients may not set "
     "this value. It is represented in RFC3339 form and is in UTC.", 0},
};

static int lease_table_row(void *st, const kapi_obj *lease, int64_t now,
                           kapi_obj *cells)
{
  const char *name = str_at(lease, "/metadata/name");
  const char *holder = str_at(lease, "/spec/holderIdentity");
  const char *created = str_at(lease, "/metadata/creationTimestamp");
  char age[64];

  (void)st;
  if (!created || !*created ||
      api->format_age(created, now, age, sizeof age) < 0)
    snprintf(age, sizeof age, "<unknown>");
  api->obj_append_str(cells, "", name ? name : "");
  api->obj_append_str(cells, "", holder ? holder : "");
  api->obj_append_str(cells, "", age);
  return 0;
}

static const char lease_schema[] =
    "{\"apiVersion\":\"string\",\"kind\":\"string\",\"metadata\":\"meta\","
    "\"spec\":{\"holderIdentity\":\"string\","
    "\"leaseDurationSeconds\":\"integer\",\"acquireTime\":\"string\","
    "\"renewTime\":\"string\",\"leaseTransitions\":\"integer\","
    "\"strategy\":\"string\",\"preferredHolder\":\"string\"}}";

static const kapi_resource_ops lease_ops = {
    .size = sizeof(kapi_resource_ops),
    .group = "coordination.k8s.io",
    .version = "v1",
    .resource = "leases",
    .kind = "Lease",
    .singular = "lease",
    .namespaced = 1,
    .name_rule = KAPI_NAME_DNS_SUBDOMAIN,
    .allow_create_on_update = 1,
    .allow_unconditional_update = 1,
    .schema = lease_schema,
    .columns = lease_columns,
    .n_columns = sizeof lease_columns / sizeof *lease_columns,
    .validate = lease_validate,
    .validate_update = lease_validate_update,
    .table_row = lease_table_row,
};

static int lease_init(kapi_plugin *self, const kapi_host_api *host,
                      const char *config, size_t config_len, kapi_error *e)
{
  (void)config;
  (void)config_len;
  (void)e;
  api = host;
  return api->register_resource(self, &lease_ops, NULL);
}

KAPI_PLUGIN_DEFINE(.name = "lease", .version = "0.1.0",
                   .description = "coordination.k8s.io/v1 leases for leader "
                                  "election and node heartbeats",
                   .license = "Apache-2.0", .init = lease_init);
