/*
 * replicaset.c - the "replicasets" resource (apps/v1 ReplicaSet) as a
 * kapi plugin.
 *
 * Mirrors upstream's ReplicaSet strategy (pkg/registry/apps/replicaset/
 * strategy.go), its defaulting (pkg/apis/apps/v1/defaults.go, with the
 * pod template defaulted as a PodSpec), the checks of ValidateReplicaSet
 * and ValidateReplicaSetStatusUpdate (pkg/apis/apps/validation), the
 * template checks that matter for pods the controller creates, and
 * printReplicaSet.  The host serves /status and /scale (autoscaling/v1
 * Scale over spec.replicas, selector from spec.selector) and tracks
 * metadata.generation.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapi/plugin.h"

#include "../common/registry_util.h"
#include "../common/workload.h"

/* ------------------------------------------------------------------ */
/* Defaults (SetDefaults_ReplicaSet, SetDefaults_PodSpec for the        */
/* template, SetDefaults_Container)                                    */
/* ------------------------------------------------------------------ */

/* Runs on create and update alike, as upstream defaults every decoded
 * object: a PUT of the original manifest then compares equal. */
static void rs_defaults(kapi_obj *rs)
{
  static const char spec[] = "/spec/template/spec";
  int64_t grace;

  if (type_at(rs, "/spec/replicas") == KAPI_OBJ_NONE ||
      type_at(rs, "/spec/replicas") == KAPI_OBJ_NULL)
    api->obj_set_int(rs, "/spec/replicas", 1);
  if (type_at(rs, spec) != KAPI_OBJ_OBJECT)
    return;
  default_str(rs, "/spec/template/spec/restartPolicy", "Always");
  default_str(rs, "/spec/template/spec/dnsPolicy", "ClusterFirst");
  default_str(rs, "/spec/template/spec/schedulerName", "default-scheduler");
  if (type_at(rs, "/spec/template/spec/securityContext") != KAPI_OBJ_OBJECT)
    api->obj_set_json(rs, "/spec/template/spec/securityContext", "{}");
  grace = int_or(rs, "/spec/template/spec/terminationGracePeriodSeconds",
                 -2);
  if (grace == -2)
    api->obj_set_int(rs, "/spec/template/spec/terminationGracePeriodSeconds",
                     30);
  default_containers(rs, "/spec/template/spec/containers");
  default_containers(rs, "/spec/template/spec/initContainers");
}

/* ------------------------------------------------------------------ */
/* Strategy                                                            */
/* ------------------------------------------------------------------ */

/* PrepareForCreate: defaults and an empty status (ReplicaSetStatus{}
 * still shows replicas: 0).  The host sets generation 1. */
static void rs_prepare_for_create(void *st, kapi_obj *rs)
{
  (void)st;
  rs_defaults(rs);
  api->obj_set_json(rs, "/status", "{\"replicas\":0}");
}

/* PrepareForUpdate: status belongs to /status (the host keeps it); the
 * host bumps generation when the spec changed. */
static void rs_prepare_for_update(void *st, kapi_obj *rs, const kapi_obj *old)
{
  (void)st;
  (void)old;
  rs_defaults(rs);
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */
/* ------------------------------------------------------------------ */

/* ValidateReplicaSetSpec. */
static void check_spec(vctx *v)
{
  const kapi_obj *sel = at(v->obj, "/spec/selector");
  int selector_ok = 0;

  nonnegative(v, "/spec/replicas", "spec.replicas");
  nonnegative(v, "/spec/minReadySeconds", "spec.minReadySeconds");
  if (api->obj_type(sel) != KAPI_OBJ_OBJECT) {
    err(v, "spec.selector", "FieldValueRequired", NULL, NULL);
  } else {
    selector_ok = check_selector(v, sel);
    if (!count(member(sel, "matchLabels")) &&
        !count(member(sel, "matchExpressions")))
      err_value(v, "spec.selector", "FieldValueInvalid", sel,
                "empty selector is invalid for deployment");
    if (!selector_ok)
      err_value(v, "spec.selector", "FieldValueInvalid", sel,
                "invalid label selector");
  }
  if (api->obj_type(sel) == KAPI_OBJ_OBJECT && !selector_ok)
    return; /* upstream checks the template only with a usable selector */
  check_template(v, sel, selector_ok, "ReplicaSet");
}

static int rs_validate(void *st, const kapi_obj *rs, kapi_obj *errs)
{
  vctx v = {rs, errs, 0};
  (void)st;
  check_spec(&v);
  return v.n;
}

/* ValidateReplicaSetUpdate; apps/v1 also makes the selector immutable. */
static int rs_validate_update(void *st, const kapi_obj *rs,
                              const kapi_obj *old, kapi_obj *errs)
{
  vctx v = {rs, errs, 0};
  char *a = api->obj_to_json(at(rs, "/spec/selector"));
  char *b = api->obj_to_json(at(old, "/spec/selector"));

  (void)st;
  check_spec(&v);
  if (!a || !b || strcmp(a, b))
    err_value(&v, "spec.selector", "FieldValueInvalid",
              at(rs, "/spec/selector"), "field is immutable");
  api->free(a);
  api->free(b);
  return v.n;
}

/* ValidateReplicaSetStatusUpdate (ObjectMeta is the host's). */
static int rs_validate_status_update(void *st, const kapi_obj *rs,
                                     const kapi_obj *old, kapi_obj *errs)
{
  static const char *const counts[] = {"replicas", "fullyLabeledReplicas",
                                       "readyReplicas", "availableReplicas",
                                       "observedGeneration"};
  vctx v = {rs, errs, 0};

  (void)st;
  (void)old;
  /* fullyLabeled, ready and available may not exceed replicas */
  return validate_status_counts(&v, counts, sizeof counts / sizeof *counts,
                                counts + 1, 3);
}

/* ------------------------------------------------------------------ */
/* Table (printReplicaSet)                                             */
/* ------------------------------------------------------------------ */

static const kapi_column rs_columns[] = {
    REG_NAME_COLUMN,
    {"Desired", "integer", "",
     "Replicas is the number of desired pods. This is a pointer to "
     "distinguish between explicit zero and unspecified. Defaults to 1. "
     "More info: https://kubernetes.io/docs/concepts/workloads/controllers/"
     "replicaset",
     0},
    {"Current", "integer", "",
     "Replicas is the most recently observed number of replicas. More info: "
     "https://kubernetes.io/docs/concepts/workloads/controllers/"
     "replicationcontroller/#what-is-a-replicationcontroller",
     0},
    {"Ready", "integer", "",
     "The number of ready replicas for this replica set. A pod is "
     "considered ready when it has a Ready condition with status True.",
     0},
    {"Age", "string", "",
     "CreationTimestamp is a timestamp representing the server time when "
     "this object was created. It is not guaranteed to be set in "
     "happens-before order across separate operations. Clients may not set "
     "this value. It is represented in RFC3339 form and is in UTC.",
     0},
    {"Containers", "string", "", "Names of each container in the template.",
     1},
    {"Images", "string", "",
     "Images referenced by each container in the template.", 1},
    {"Selector", "string", "",
     "Selector is a label query over pods that should match the replica "
     "count. Label keys and values that must match in order to be "
     "controlled by this replica set. It must match the pod template's "
     "labels. More info: https://kubernetes.io/docs/concepts/overview/"
     "working-with-objects/labels/#label-selectors",
     1},
};

static int rs_table_row(void *st, const kapi_obj *rs, int64_t now,
                        kapi_obj *cells)
{
  const char *name = str_at(rs, "/metadata/name");
  const char *created = str_at(rs, "/metadata/creationTimestamp");
  char age[64], names[1024], images[2048], selector[2048];

  (void)st;
  if (!nonempty(created) ||
      api->format_age(created, now, age, sizeof age) < 0)
    snprintf(age, sizeof age, "<unknown>");
  container_cells(rs, names, images, sizeof names);
  format_selector(at(rs, "/spec/selector"), selector, sizeof selector);
  api->obj_append_str(cells, "", name ? name : "");
  api->obj_append_int(cells, "", int_or(rs, "/spec/replicas", 0));
  api->obj_append_int(cells, "", int_or(rs, "/status/replicas", 0));
  api->obj_append_int(cells, "", int_or(rs, "/status/readyReplicas", 0));
  api->obj_append_str(cells, "", age);
  api->obj_append_str(cells, "", names);
  api->obj_append_str(cells, "", images);
  api->obj_append_str(cells, "", selector);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Schema and registration                                             */
/* ------------------------------------------------------------------ */

/* The pod template's spec is free-form here: the pod plugin owns the
 * PodSpec schema, and a partial copy would refuse valid fields. */
static const char rs_schema[] =
    "{\"apiVersion\":\"string\",\"kind\":\"string\",\"metadata\":\"meta\","
    "\"spec\":{\"replicas\":\"integer\",\"minReadySeconds\":\"integer\","
    "\"selector\":{\"matchLabels\":\"map\",\"matchExpressions\":"
    "[{\"key\":\"string\",\"operator\":\"string\",\"values\":[\"string\"]}]},"
    "\"template\":{\"metadata\":\"meta\",\"spec\":\"object\"}},"
    "\"status\":{\"replicas\":\"integer\",\"fullyLabeledReplicas\":"
    "\"integer\",\"readyReplicas\":\"integer\",\"availableReplicas\":"
    "\"integer\",\"terminatingReplicas\":\"integer\","
    "\"observedGeneration\":\"integer\",\"conditions\":[{\"type\":"
    "\"string\",\"status\":\"string\",\"lastTransitionTime\":\"string\","
    "\"reason\":\"string\",\"message\":\"string\"}]}}";

static const char *const rs_short_names[] = {"rs", NULL};
static const char *const rs_categories[] = {"all", NULL};

/* ReplicaSetToSelectableFields. */
static const kapi_field_label rs_fields[] = {
    {"status.replicas", "/status/replicas"},
};

static const kapi_resource_ops rs_ops = {
    .size = sizeof(kapi_resource_ops),
    .group = "apps",
    .version = "v1",
    .resource = "replicasets",
    .kind = "ReplicaSet",
    .singular = "replicaset",
    .short_names = rs_short_names,
    .categories = rs_categories,
    .namespaced = 1,
    .name_rule = KAPI_NAME_DNS_SUBDOMAIN,
    .allow_create_on_update = 0,
    .allow_unconditional_update = 1,
    .schema = rs_schema,
    .fields = rs_fields,
    .n_fields = sizeof rs_fields / sizeof *rs_fields,
    .columns = rs_columns,
    .n_columns = sizeof rs_columns / sizeof *rs_columns,
    .prepare_for_create = rs_prepare_for_create,
    .validate = rs_validate,
    .prepare_for_update = rs_prepare_for_update,
    .validate_update = rs_validate_update,
    .table_row = rs_table_row,
    .subresources = KAPI_SUB_STATUS | KAPI_SUB_SCALE,
    .track_generation = 1,
    .validate_status_update = rs_validate_status_update,
    .scale_selector = "/spec/selector",
};

static int rs_init(kapi_plugin *self, const kapi_host_api *host,
                   const char *config, size_t config_len, kapi_error *e)
{
  (void)config;
  (void)config_len;
  (void)e;
  api = host;
  return api->register_resource(self, &rs_ops, NULL);
}

KAPI_PLUGIN_DEFINE(.name = "replicaset", .version = "0.1.0",
                   .description = "apps/v1 replicasets: defaults, "
                                  "validation, status and scale",
                   .license = "Apache-2.0", .init = rs_init);
