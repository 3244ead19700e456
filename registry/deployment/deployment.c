/*
 * deployment.c - the "deployments" resource (apps/v1 Deployment) as a
 * kapi plugin.
 *
 * Mirrors upstream's Deployment strategy (pkg/registry/apps/deployment/
 * strategy.go), SetDefaults_Deployment of pkg/apis/apps/v1/defaults.go
 * (with the pod template defaulted as a PodSpec, as the replicaset
 * plugin does), the checks of ValidateDeployment and
 * ValidateDeploymentStatus (pkg/apis/apps/validation) and
 * printDeployment.  The host serves /status and /scale (autoscaling/v1
 * Scale over spec.replicas, selector from spec.selector) and tracks
 * metadata.generation.
 *
 * Storage only: kapi runs no Deployment controller, so nothing rolls a
 * Deployment out into ReplicaSets and its status stays as clients set it.
 *
 * The reading, label, selector and template helpers are shared with the
 * replicaset plugin through ../common/workload.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapi/plugin.h"

#include "../common/registry_util.h"
#include "../common/workload.h"

/* ------------------------------------------------------------------ */
/* Defaults (SetDefaults_Deployment, SetDefaults_PodSpec for the       */
/* template, SetDefaults_Container)                                    */
/* ------------------------------------------------------------------ */

static void default_int(kapi_obj *o, const char *ptr, int64_t value)
{
  kapi_obj_type t = type_at(o, ptr);
  if (t == KAPI_OBJ_NONE || t == KAPI_OBJ_NULL)
    api->obj_set_int(o, ptr, value);
}

/* SetDefaults_Deployment: the rolling update parameters only for the
 * RollingUpdate strategy (the default one). */
static void default_strategy(kapi_obj *d)
{
  const char *type;

  if (type_at(d, "/spec/strategy") != KAPI_OBJ_OBJECT)
    api->obj_set_json(d, "/spec/strategy", "{}");
  default_str(d, "/spec/strategy/type", "RollingUpdate");
  type = str_at(d, "/spec/strategy/type");
  if (!type || strcmp(type, "RollingUpdate"))
    return;
  if (type_at(d, "/spec/strategy/rollingUpdate") != KAPI_OBJ_OBJECT)
    api->obj_set_json(d, "/spec/strategy/rollingUpdate", "{}");
  if (is_unset(d, "/spec/strategy/rollingUpdate/maxUnavailable"))
    api->obj_set_str(d, "/spec/strategy/rollingUpdate/maxUnavailable", "25%");
  if (is_unset(d, "/spec/strategy/rollingUpdate/maxSurge"))
    api->obj_set_str(d, "/spec/strategy/rollingUpdate/maxSurge", "25%");
}

/* Runs on create and update alike, as upstream defaults every decoded
 * object: a PUT of the original manifest then compares equal. */
static void deploy_defaults(kapi_obj *d)
{
  int64_t grace;

  if (type_at(d, "/spec") != KAPI_OBJ_OBJECT)
    api->obj_set_json(d, "/spec", "{}");
  default_int(d, "/spec/replicas", 1);
  default_strategy(d);
  default_int(d, "/spec/revisionHistoryLimit", 10);
  default_int(d, "/spec/progressDeadlineSeconds", 600);
  if (type_at(d, "/spec/template/spec") != KAPI_OBJ_OBJECT)
    return;
  default_str(d, "/spec/template/spec/restartPolicy", "Always");
  default_str(d, "/spec/template/spec/dnsPolicy", "ClusterFirst");
  default_str(d, "/spec/template/spec/schedulerName", "default-scheduler");
  if (type_at(d, "/spec/template/spec/securityContext") != KAPI_OBJ_OBJECT)
    api->obj_set_json(d, "/spec/template/spec/securityContext", "{}");
  grace = int_or(d, "/spec/template/spec/terminationGracePeriodSeconds", -2);
  if (grace == -2)
    api->obj_set_int(d, "/spec/template/spec/terminationGracePeriodSeconds",
                     30);
  default_containers(d, "/spec/template/spec/containers");
  default_containers(d, "/spec/template/spec/initContainers");
}

/* ------------------------------------------------------------------ */
/* Strategy                                                            */
/* ------------------------------------------------------------------ */

/* PrepareForCreate: defaults and an empty status (every
 * DeploymentStatus count is omitempty).  The host sets generation 1. */
static void deploy_prepare_for_create(void *st, kapi_obj *d)
{
  (void)st;
  deploy_defaults(d);
  api->obj_set_json(d, "/status", "{}");
}

/* PrepareForUpdate: status belongs to /status (the host keeps it); the
 * host bumps generation when the spec changed. */
static void deploy_prepare_for_update(void *st, kapi_obj *d, const kapi_obj *old)
{
  (void)st;
  (void)old;
  deploy_defaults(d);
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */
/* ------------------------------------------------------------------ */

/* ValidatePositiveIntOrPercent, and IsNotMoreThan100Percent when
 * `max100`.  Returns the value as a count or percent (-1: unusable). */
static int64_t check_int_or_percent(vctx *v, const char *ptr,
                                    const char *field, int max100)
{
  const kapi_obj *o = at(v->obj, ptr);
  const char *s = str_of(o);
  char bad[64];
  int64_t n;

  if (!s) {
    nonnegative(v, ptr, field);
    return int_or(v->obj, ptr, 0);
  }
  quote(s, bad, sizeof bad);
  n = strtoll(s, NULL, 10);
  if (!*s || strspn(s, "0123456789") != strlen(s) - 1 ||
      s[strlen(s) - 1] != '%') {
    err(v, field, "FieldValueInvalid", bad,
        "a valid percent string must be a numeric string followed by an "
        "ending '%' (e.g. '1%',  or '93%', regex used for validation is "
        "'[0-9]+%')");
    return -1;
  }
  if (max100 && n > 100)
    err(v, field, "FieldValueInvalid", bad, "must not be greater than 100%");
  return n;
}

/* ValidateDeploymentStrategy and ValidateRollingUpdateDeployment. */
static void check_strategy(vctx *v)
{
  const char *type = str_at(v->obj, "/spec/strategy/type");
  int has_rolling = type_at(v->obj, "/spec/strategy/rollingUpdate") ==
                    KAPI_OBJ_OBJECT;
  int64_t unavailable, surge;
  char bad[128];

  if (type && !strcmp(type, "Recreate")) {
    if (has_rolling)
      err(v, "spec.strategy.rollingUpdate", "FieldValueForbidden", NULL,
          "may not be specified when strategy `type` is 'Recreate'");
    return;
  }
  if (!type || strcmp(type, "RollingUpdate")) {
    err(v, "spec.strategy.type", "FieldValueNotSupported",
        quote(type ? type : "", bad, sizeof bad),
        "supported values: \"Recreate\", \"RollingUpdate\"");
    return;
  }
  if (!has_rolling) {
    err(v, "spec.strategy.rollingUpdate", "FieldValueRequired", NULL,
        "this should be defaulted and never be nil");
    return;
  }
  unavailable = check_int_or_percent(
      v, "/spec/strategy/rollingUpdate/maxUnavailable",
      "spec.strategy.rollingUpdate.maxUnavailable", 1);
  surge = check_int_or_percent(v, "/spec/strategy/rollingUpdate/maxSurge",
                               "spec.strategy.rollingUpdate.maxSurge", 0);
  if (!unavailable && !surge)
    err_value(v, "spec.strategy.rollingUpdate.maxUnavailable",
              "FieldValueInvalid",
              at(v->obj, "/spec/strategy/rollingUpdate/maxUnavailable"),
              "may not be 0 when `maxSurge` is 0");
}

/* ValidateDeploymentSpec, in upstream's order. */
static void check_spec(vctx *v)
{
  const kapi_obj *sel = at(v->obj, "/spec/selector");
  int selector_ok = 0;
  int64_t deadline;
  char bad[32];

  nonnegative(v, "/spec/replicas", "spec.replicas");
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
  /* Upstream checks the template only with a usable selector. */
  if (api->obj_type(sel) != KAPI_OBJ_OBJECT || selector_ok)
    check_template(v, sel, selector_ok, "Deployment");
  check_strategy(v);
  nonnegative(v, "/spec/minReadySeconds", "spec.minReadySeconds");
  nonnegative(v, "/spec/revisionHistoryLimit", "spec.revisionHistoryLimit");
  if (is_unset(v->obj, "/spec/progressDeadlineSeconds"))
    return;
  nonnegative(v, "/spec/progressDeadlineSeconds",
              "spec.progressDeadlineSeconds");
  deadline = int_or(v->obj, "/spec/progressDeadlineSeconds", 0);
  if (deadline <= int_or(v->obj, "/spec/minReadySeconds", 0)) {
    snprintf(bad, sizeof bad, "%lld", (long long)deadline);
    err(v, "spec.progressDeadlineSeconds", "FieldValueInvalid", bad,
        "must be greater than minReadySeconds");
  }
}

static int deploy_validate(void *st, const kapi_obj *d, kapi_obj *errs)
{
  vctx v = {d, errs, 0};
  (void)st;
  check_spec(&v);
  return v.n;
}

/* ValidateDeploymentUpdate; apps/v1 also makes the selector immutable. */
static int deploy_validate_update(void *st, const kapi_obj *d,
                              const kapi_obj *old, kapi_obj *errs)
{
  vctx v = {d, errs, 0};
  char *a = api->obj_to_json(at(d, "/spec/selector"));
  char *b = api->obj_to_json(at(old, "/spec/selector"));

  (void)st;
  check_spec(&v);
  if (!a || !b || strcmp(a, b))
    err_value(&v, "spec.selector", "FieldValueInvalid",
              at(d, "/spec/selector"), "field is immutable");
  api->free(a);
  api->free(b);
  return v.n;
}

/* ValidateDeploymentStatus (ObjectMeta is the host's). */
static int deploy_validate_status_update(void *st, const kapi_obj *d,
                                         const kapi_obj *old, kapi_obj *errs)
{
  static const char *const counts[] = {
      "observedGeneration", "replicas",            "updatedReplicas",
      "readyReplicas",      "availableReplicas",   "unavailableReplicas",
      "collisionCount"};
  /* Those that may not exceed status.replicas. */
  static const char *const bounded[] = {"updatedReplicas", "readyReplicas",
                                        "availableReplicas"};
  vctx v = {d, errs, 0};

  (void)st;
  (void)old;
  return validate_status_counts(&v, counts, sizeof counts / sizeof *counts,
                                bounded, sizeof bounded / sizeof *bounded);
}

/* ------------------------------------------------------------------ */
/* Table (printDeployment)                                             */
/* ------------------------------------------------------------------ */

static const kapi_column deploy_columns[] = {
    REG_NAME_COLUMN,
    {"Ready", "string", "", "Number of the pod with ready state", 0},
    {"Up-to-date", "string", "",
     "Total number of non-terminating pods targeted by this deployment that "
     "have the desired template spec.",
     0},
    {"Available", "string", "",
     "Total number of available non-terminating pods (ready for at least "
     "minReadySeconds) targeted by this deployment.",
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
     "Label selector for pods. Existing ReplicaSets whose pods are "
     "selected by this will be the ones affected by this deployment. It "
     "must match the pod template's labels.",
     1},
};

static int deploy_table_row(void *st, const kapi_obj *d, int64_t now,
                        kapi_obj *cells)
{
  const char *name = str_at(d, "/metadata/name");
  const char *created = str_at(d, "/metadata/creationTimestamp");
  char age[64], names[1024], images[2048], selector[2048], ready[64];

  (void)st;
  if (!nonempty(created) ||
      api->format_age(created, now, age, sizeof age) < 0)
    snprintf(age, sizeof age, "<unknown>");
  container_cells(d, names, images, sizeof names);
  format_selector(at(d, "/spec/selector"), selector, sizeof selector);
  api->obj_append_str(cells, "", name ? name : "");
  snprintf(ready, sizeof ready, "%lld/%lld",
           (long long)int_or(d, "/status/readyReplicas", 0),
           (long long)int_or(d, "/spec/replicas", 0));
  api->obj_append_str(cells, "", ready);
  api->obj_append_int(cells, "", int_or(d, "/status/updatedReplicas", 0));
  api->obj_append_int(cells, "", int_or(d, "/status/availableReplicas", 0));
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
static const char deploy_schema[] =
    "{\"apiVersion\":\"string\",\"kind\":\"string\",\"metadata\":\"meta\","
    "\"spec\":{\"replicas\":\"integer\",\"minReadySeconds\":\"integer\","
    "\"revisionHistoryLimit\":\"integer\",\"paused\":\"boolean\","
    "\"progressDeadlineSeconds\":\"integer\","
    "\"selector\":{\"matchLabels\":\"map\",\"matchExpressions\":"
    "[{\"key\":\"string\",\"operator\":\"string\",\"values\":[\"string\"]}]},"
    "\"strategy\":{\"type\":\"string\",\"rollingUpdate\":{"
    "\"maxUnavailable\":\"int-or-string\",\"maxSurge\":\"int-or-string\"}},"
    "\"template\":{\"metadata\":\"meta\",\"spec\":\"object\"}},"
    "\"status\":{\"observedGeneration\":\"integer\",\"replicas\":"
    "\"integer\",\"updatedReplicas\":\"integer\",\"readyReplicas\":"
    "\"integer\",\"availableReplicas\":\"integer\",\"unavailableReplicas\":"
    "\"integer\",\"terminatingReplicas\":\"integer\",\"collisionCount\":"
    "\"integer\",\"conditions\":[{\"type\":\"string\",\"status\":"
    "\"string\",\"lastUpdateTime\":\"string\",\"lastTransitionTime\":"
    "\"string\",\"reason\":\"string\",\"message\":\"string\"}]}}";

static const char *const deploy_short_names[] = {"deploy", NULL};
static const char *const deploy_categories[] = {"all", NULL};

static const kapi_resource_ops deploy_ops = {
    .size = sizeof(kapi_resource_ops),
    .group = "apps",
    .version = "v1",
    .resource = "deployments",
    .kind = "Deployment",
    .singular = "deployment",
    .short_names = deploy_short_names,
    .categories = deploy_categories,
    .namespaced = 1,
    .name_rule = KAPI_NAME_DNS_SUBDOMAIN,
    .allow_create_on_update = 0,
    .allow_unconditional_update = 1,
    .schema = deploy_schema,
    .columns = deploy_columns,
    .n_columns = sizeof deploy_columns / sizeof *deploy_columns,
    .prepare_for_create = deploy_prepare_for_create,
    .validate = deploy_validate,
    .prepare_for_update = deploy_prepare_for_update,
    .validate_update = deploy_validate_update,
    .table_row = deploy_table_row,
    .subresources = KAPI_SUB_STATUS | KAPI_SUB_SCALE,
    .track_generation = 1,
    .validate_status_update = deploy_validate_status_update,
    .scale_selector = "/spec/selector",
};

static int deploy_init(kapi_plugin *self, const kapi_host_api *host,
                   const char *config, size_t config_len, kapi_error *e)
{
  (void)config;
  (void)config_len;
  (void)e;
  api = host;
  return api->register_resource(self, &deploy_ops, NULL);
}

KAPI_PLUGIN_DEFINE(.name = "deployment", .version = "0.1.0",
                   .description = "apps/v1 deployments: defaults, "
                                  "validation, status and scale",
                   .license = "Apache-2.0", .init = deploy_init);
