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
 * The reading, label and selector helpers are those of the replicaset
 * plugin: each plugin is built from its own .c file alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapi/plugin.h"

static const kapi_host_api *api;

/* ------------------------------------------------------------------ */
/* Reading values                                                      */
/* ------------------------------------------------------------------ */

static const kapi_obj *at(const kapi_obj *o, const char *ptr)
{
  return api->obj_lookup(o, ptr);
}

static kapi_obj_type type_at(const kapi_obj *o, const char *ptr)
{
  return api->obj_type(at(o, ptr));
}

static size_t count(const kapi_obj *o)
{
  kapi_obj_type t = api->obj_type(o);
  return t == KAPI_OBJ_ARRAY || t == KAPI_OBJ_OBJECT ? api->obj_len(o) : 0;
}

static const char *str_of(const kapi_obj *o)
{
  return api->obj_type(o) == KAPI_OBJ_STRING ? api->obj_get(o, "") : NULL;
}

static const char *str_at(const kapi_obj *o, const char *ptr)
{
  return str_of(at(o, ptr));
}

static int nonempty(const char *s)
{
  return s && *s;
}

/* An absent, null or "" value: Go's zero value. */
static int is_unset(const kapi_obj *o, const char *ptr)
{
  kapi_obj_type t = type_at(o, ptr);
  return t == KAPI_OBJ_NONE || t == KAPI_OBJ_NULL ||
         (t == KAPI_OBJ_STRING && !*api->obj_get(o, ptr));
}

/* The integer at ptr, or `dflt` when absent or not an integer. */
static int64_t int_or(const kapi_obj *o, const char *ptr, int64_t dflt)
{
  const kapi_obj *v = at(o, ptr);
  int64_t n;
  return v && api->obj_int(v, &n) == 0 ? n : dflt;
}

/* The member `key` of object o, found by name (keys may hold '/'). */
static const kapi_obj *member(const kapi_obj *o, const char *key)
{
  size_t i, n = api->obj_type(o) == KAPI_OBJ_OBJECT ? count(o) : 0;
  for (i = 0; i < n; i++)
    if (!strcmp(api->obj_key(o, i), key))
      return api->obj_index(o, i);
  return NULL;
}

/* s as a JSON string literal into buf (cut if too long). */
static const char *quote(const char *s, char *buf, size_t len)
{
  size_t n = 0;
  if (len < 3)
    return "\"\"";
  buf[n++] = '"';
  for (; s && *s && n + 3 < len; s++) {
    if (*s == '"' || *s == '\\')
      buf[n++] = '\\';
    buf[n++] = (unsigned char)*s < 0x20 ? ' ' : *s;
  }
  buf[n++] = '"';
  buf[n] = '\0';
  return buf;
}

/* ------------------------------------------------------------------ */
/* Defaults (SetDefaults_Deployment, SetDefaults_PodSpec for the       */
/* template, SetDefaults_Container)                                    */
/* ------------------------------------------------------------------ */

static void default_str(kapi_obj *o, const char *ptr, const char *value)
{
  if (is_unset(o, ptr))
    api->obj_set_str(o, ptr, value);
}

/* Always for ":latest" or no tag and no digest, else IfNotPresent. */
static const char *default_pull_policy(const char *image)
{
  const char *end, *p, *tag = NULL;

  if (!image)
    return "Always";
  end = strchr(image, '@');
  if (!end)
    end = image + strlen(image);
  for (p = image; p < end; p++)
    tag = *p == '/' ? NULL : *p == ':' ? p + 1 : tag;
  if (!tag)
    return *end == '@' ? "IfNotPresent" : "Always";
  return end - tag == 6 && !strncmp(tag, "latest", 6) ? "Always"
                                                        : "IfNotPresent";
}

static void default_containers(kapi_obj *d, const char *list)
{
  size_t i, j, n = count(at(d, list)), np;
  char c[128], f[192], image[192];

  for (i = 0; i < n; i++) {
    snprintf(c, sizeof c, "%s/%zu", list, i);
    if (type_at(d, c) != KAPI_OBJ_OBJECT)
      continue;
    snprintf(image, sizeof image, "%s/image", c);
    snprintf(f, sizeof f, "%s/imagePullPolicy", c);
    default_str(d, f, default_pull_policy(str_at(d, image)));
    snprintf(f, sizeof f, "%s/terminationMessagePath", c);
    default_str(d, f, "/dev/termination-log");
    snprintf(f, sizeof f, "%s/terminationMessagePolicy", c);
    default_str(d, f, "File");
    snprintf(f, sizeof f, "%s/ports", c);
    np = count(at(d, f));
    for (j = 0; j < np; j++) {
      snprintf(f, sizeof f, "%s/ports/%zu/protocol", c, j);
      default_str(d, f, "TCP");
    }
  }
}

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

typedef struct vctx {
  const kapi_obj *d;
  kapi_obj *errs;
  int n;
} vctx;

static void err(vctx *v, const char *field, const char *type,
                const char *bad_json, const char *detail)
{
  if (api->field_error(v->errs, field, type, bad_json, detail) == 0)
    v->n++;
}

static void err_value(vctx *v, const char *field, const char *type,
                      const kapi_obj *value, const char *detail)
{
  char *json = api->obj_to_json(value);
  err(v, field, type, json ? json : "null", detail);
  api->free(json);
}

static void nonnegative(vctx *v, const char *ptr, const char *field)
{
  int64_t n = int_or(v->d, ptr, 0);
  char bad[32];
  if (n >= 0)
    return;
  snprintf(bad, sizeof bad, "%lld", (long long)n);
  err(v, field, "FieldValueInvalid", bad,
      "must be greater than or equal to 0");
}

static int is_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] over s[0..n) */
static int is_label_word(const char *s, size_t n)
{
  size_t i;
  if (!n || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
    return 0;
  for (i = 0; i < n; i++)
    if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
      return 0;
  return 1;
}

/* IsQualifiedName, for label keys: [prefix/]name. */
static void check_label_key(vctx *v, const char *field, const char *key)
{
  const char *slash = strchr(key, '/'), *name = slash ? slash + 1 : key;
  char bad[320];

  quote(key, bad, sizeof bad);
  if (slash) {
    size_t plen = (size_t)(slash - key);
    char prefix[256];
    if (!plen) {
      err(v, field, "FieldValueInvalid", bad,
          "prefix part must be non-empty");
    } else if (plen > 253) {
      err(v, field, "FieldValueInvalid", bad,
          "prefix part must be no more than 253 characters");
    } else {
      snprintf(prefix, sizeof prefix, "%.*s", (int)plen, key);
      /* DNS-1123 subdomain rules, upstream's message prefixed. */
      if (prefix[0] == '-' || prefix[plen - 1] == '-' ||
          prefix[0] == '.' || prefix[plen - 1] == '.' ||
          strspn(prefix, "abcdefghijklmnopqrstuvwxyz0123456789-.") != plen)
        err(v, field, "FieldValueInvalid", bad,
            "prefix part a lowercase RFC 1123 subdomain must consist of "
            "lower case alphanumeric characters, '-' or '.', and must start "
            "and end with an alphanumeric character (e.g. 'example.com', "
            "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?"
            "(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
    }
  }
  if (!*name) {
    err(v, field, "FieldValueInvalid", bad, "name part must be non-empty");
  } else if (strlen(name) > 63) {
    err(v, field, "FieldValueInvalid", bad,
        "name part must be no more than 63 characters");
  } else if (!is_label_word(name, strlen(name))) {
    err(v, field, "FieldValueInvalid", bad,
        "name part must consist of alphanumeric characters, '-', '_' or "
        "'.', and must start and end with an alphanumeric character (e.g. "
        "'MyName',  or 'my.name',  or '123-abc', regex used for validation "
        "is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
  }
}

/* IsValidLabelValue. */
static void check_label_value(vctx *v, const char *field, const char *value)
{
  char bad[320];
  size_t n = strlen(value);

  if (!n)
    return;
  quote(value, bad, sizeof bad);
  if (n > 63)
    err(v, field, "FieldValueInvalid", bad,
        "must be no more than 63 characters");
  if (!is_label_word(value, n))
    err(v, field, "FieldValueInvalid", bad,
        "a valid label must be an empty string or consist of alphanumeric "
        "characters, '-', '_' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
        "'12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
}

/* ValidateLabels: every key and value, errors at the map's path. */
static void check_labels(vctx *v, const kapi_obj *labels, const char *field)
{
  size_t i, n = api->obj_type(labels) == KAPI_OBJ_OBJECT ? count(labels) : 0;
  for (i = 0; i < n; i++) {
    const char *val = str_of(api->obj_index(labels, i));
    check_label_key(v, field, api->obj_key(labels, i));
    check_label_value(v, field, val ? val : "");
  }
}

static int is_operator(const char *op)
{
  return op && (!strcmp(op, "In") || !strcmp(op, "NotIn") ||
                !strcmp(op, "Exists") || !strcmp(op, "DoesNotExist"));
}

/* ValidateLabelSelector (strict values).  Returns 1 if the selector can
 * be converted (every operator known). */
static int check_selector(vctx *v, const kapi_obj *sel)
{
  const kapi_obj *exprs = member(sel, "matchExpressions");
  size_t i, j, n = count(exprs);
  int ok = 1;
  char f[128];

  check_labels(v, member(sel, "matchLabels"), "spec.selector.matchLabels");
  for (i = 0; i < n; i++) {
    const kapi_obj *e = api->obj_index(exprs, i);
    const char *op = str_of(member(e, "operator"));
    const char *key = str_of(member(e, "key"));
    const kapi_obj *values = member(e, "values");
    size_t nv = count(values);

    /* These also make LabelSelectorAsSelector fail. */
    if (op && (!strcmp(op, "In") || !strcmp(op, "NotIn")) && !nv) {
      snprintf(f, sizeof f, "spec.selector.matchExpressions[%zu].values", i);
      err(v, f, "FieldValueRequired", NULL,
          "must be specified when `operator` is 'In' or 'NotIn'");
      ok = 0;
    } else if (op && (!strcmp(op, "Exists") || !strcmp(op, "DoesNotExist")) &&
               nv) {
      snprintf(f, sizeof f, "spec.selector.matchExpressions[%zu].values", i);
      err(v, f, "FieldValueForbidden", NULL,
          "may not be specified when `operator` is 'Exists' or "
          "'DoesNotExist'");
      ok = 0;
    } else if (!is_operator(op)) {
      char bad[128];
      snprintf(f, sizeof f, "spec.selector.matchExpressions[%zu].operator",
               i);
      err(v, f, "FieldValueInvalid", quote(op ? op : "", bad, sizeof bad),
          "not a valid selector operator");
      ok = 0;
    }
    snprintf(f, sizeof f, "spec.selector.matchExpressions[%zu].key", i);
    check_label_key(v, f, key ? key : "");
    for (j = 0; j < nv; j++) {
      const char *val = str_of(api->obj_index(values, j));
      snprintf(f, sizeof f, "spec.selector.matchExpressions[%zu].values[%zu]",
               i, j);
      check_label_value(v, f, val ? val : "");
    }
  }
  return ok;
}

static int in_values(const kapi_obj *values, const char *s)
{
  size_t i, n = count(values);
  for (i = 0; i < n; i++) {
    const char *val = str_of(api->obj_index(values, i));
    if (val && !strcmp(val, s))
      return 1;
  }
  return 0;
}

/* Does the metav1.LabelSelector select these labels? */
static int selector_matches(const kapi_obj *sel, const kapi_obj *labels)
{
  const kapi_obj *ml = member(sel, "matchLabels");
  const kapi_obj *exprs = member(sel, "matchExpressions");
  size_t i, n = count(ml);

  for (i = 0; i < n; i++) {
    const char *want = str_of(api->obj_index(ml, i));
    const char *have = str_of(member(labels, api->obj_key(ml, i)));
    if (!have || strcmp(have, want ? want : ""))
      return 0;
  }
  n = count(exprs);
  for (i = 0; i < n; i++) {
    const kapi_obj *e = api->obj_index(exprs, i);
    const char *op = str_of(member(e, "operator"));
    const char *key = str_of(member(e, "key"));
    const char *have = str_of(member(labels, key ? key : ""));
    const kapi_obj *values = member(e, "values");
    if (!op)
      return 0;
    if ((!strcmp(op, "In") && (!have || !in_values(values, have))) ||
        (!strcmp(op, "NotIn") && have && in_values(values, have)) ||
        (!strcmp(op, "Exists") && !have) ||
        (!strcmp(op, "DoesNotExist") && have))
      return 0;
  }
  return 1;
}

static int name_seen(const kapi_obj *list, size_t upto, const char *name)
{
  size_t i, n_items = count(list);
  for (i = 0; i < upto && i < n_items; i++) {
    const char *n = str_of(member(api->obj_index(list, i), "name"));
    if (n && !strcmp(n, name))
      return 1;
  }
  return 0;
}

static const char *const pull_policies[] = {"Always", "IfNotPresent",
                                            "Never", NULL};

/* The container checks of ValidatePodSpec that matter for the pods the
 * controller will create: names, images, pull policies. */
static void check_containers(vctx *v, const char *key, int required)
{
  char ptr[96], f[160], bad[320];
  const kapi_obj *list;
  size_t i, j, n;

  snprintf(ptr, sizeof ptr, "/spec/template/spec/%s", key);
  list = at(v->d, ptr);
  n = api->obj_type(list) == KAPI_OBJ_ARRAY ? count(list) : 0;
  if (!n && required) {
    snprintf(f, sizeof f, "spec.template.spec.%s", key);
    err(v, f, "FieldValueRequired", NULL, NULL);
    return;
  }
  for (i = 0; i < n; i++) {
    const kapi_obj *c = api->obj_index(list, i);
    const char *name = str_of(member(c, "name"));
    const char *image = str_of(member(c, "image"));
    const char *pull = str_of(member(c, "imagePullPolicy"));

    snprintf(f, sizeof f, "spec.template.spec.%s[%zu].name", key, i);
    if (!nonempty(name)) {
      err(v, f, "FieldValueRequired", NULL, NULL);
    } else {
      v->n += api->validate_dns_label(v->errs, f, name);
      /* Unique across containers and init containers. */
      if (name_seen(list, i, name) ||
          (strcmp(key, "containers") &&
           name_seen(at(v->d, "/spec/template/spec/containers"), (size_t)-1,
                     name)))
        err(v, f, "FieldValueDuplicate", quote(name, bad, sizeof bad), NULL);
    }
    snprintf(f, sizeof f, "spec.template.spec.%s[%zu].image", key, i);
    if (!nonempty(image))
      err(v, f, "FieldValueRequired", NULL, NULL);
    if (!nonempty(pull))
      continue;
    for (j = 0; pull_policies[j] && strcmp(pull, pull_policies[j]); j++)
      ;
    if (!pull_policies[j]) {
      snprintf(f, sizeof f, "spec.template.spec.%s[%zu].imagePullPolicy",
               key, i);
      err(v, f, "FieldValueNotSupported", quote(pull, bad, sizeof bad),
          "supported values: \"Always\", \"IfNotPresent\", \"Never\"");
    }
  }
}

/* ValidatePodTemplateSpecForReplicaSet (Deployment uses it too), given a convertible selector. */
static void check_template(vctx *v, const kapi_obj *sel, int selector_ok)
{
  const kapi_obj *labels = at(v->d, "/spec/template/metadata/labels");
  const char *restart = str_at(v->d, "/spec/template/spec/restartPolicy");
  char bad[128];

  if (selector_ok && (count(member(sel, "matchLabels")) ||
                      count(member(sel, "matchExpressions"))) &&
      !selector_matches(sel, labels))
    err_value(v, "spec.template.metadata.labels", "FieldValueInvalid",
              labels, "`selector` does not match template `labels`");
  check_labels(v, labels, "spec.template.metadata.labels");
  check_containers(v, "containers", 1);
  check_containers(v, "initContainers", 0);
  if (!restart || strcmp(restart, "Always"))
    err(v, "spec.template.spec.restartPolicy", "FieldValueNotSupported",
        quote(restart ? restart : "", bad, sizeof bad),
        "supported values: \"Always\"");
  if (!is_unset(v->d, "/spec/template/spec/activeDeadlineSeconds"))
    err(v, "spec.template.spec.activeDeadlineSeconds", "FieldValueForbidden",
        NULL, "activeDeadlineSeconds in Deployment is not Supported");
}

/* ValidatePositiveIntOrPercent, and IsNotMoreThan100Percent when
 * `max100`.  Returns the value as a count or percent (-1: unusable). */
static int64_t check_int_or_percent(vctx *v, const char *ptr,
                                    const char *field, int max100)
{
  const kapi_obj *o = at(v->d, ptr);
  const char *s = str_of(o);
  char bad[64];
  int64_t n;

  if (!s) {
    nonnegative(v, ptr, field);
    return int_or(v->d, ptr, 0);
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
  const char *type = str_at(v->d, "/spec/strategy/type");
  int has_rolling = type_at(v->d, "/spec/strategy/rollingUpdate") ==
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
              at(v->d, "/spec/strategy/rollingUpdate/maxUnavailable"),
              "may not be 0 when `maxSurge` is 0");
}

/* ValidateDeploymentSpec, in upstream's order. */
static void check_spec(vctx *v)
{
  const kapi_obj *sel = at(v->d, "/spec/selector");
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
    check_template(v, sel, selector_ok);
  check_strategy(v);
  nonnegative(v, "/spec/minReadySeconds", "spec.minReadySeconds");
  nonnegative(v, "/spec/revisionHistoryLimit", "spec.revisionHistoryLimit");
  if (is_unset(v->d, "/spec/progressDeadlineSeconds"))
    return;
  nonnegative(v, "/spec/progressDeadlineSeconds",
              "spec.progressDeadlineSeconds");
  deadline = int_or(v->d, "/spec/progressDeadlineSeconds", 0);
  if (deadline <= int_or(v->d, "/spec/minReadySeconds", 0)) {
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
  int64_t replicas = int_or(d, "/status/replicas", 0);
  int64_t ready = int_or(d, "/status/readyReplicas", 0);
  int64_t n;
  char ptr[64], f[64], bad[32];
  size_t i;

  (void)st;
  (void)old;
  for (i = 0; i < sizeof counts / sizeof *counts; i++) {
    snprintf(ptr, sizeof ptr, "/status/%s", counts[i]);
    snprintf(f, sizeof f, "status.%s", counts[i]);
    nonnegative(&v, ptr, f);
  }
  for (i = 0; i < sizeof bounded / sizeof *bounded; i++) {
    snprintf(ptr, sizeof ptr, "/status/%s", bounded[i]);
    n = int_or(d, ptr, 0);
    if (n <= replicas)
      continue;
    snprintf(f, sizeof f, "status.%s", bounded[i]);
    snprintf(bad, sizeof bad, "%lld", (long long)n);
    err(&v, f, "FieldValueInvalid", bad,
        "cannot be greater than status.replicas");
  }
  n = int_or(d, "/status/availableReplicas", 0);
  if (n > ready) {
    snprintf(bad, sizeof bad, "%lld", (long long)n);
    err(&v, "status.availableReplicas", "FieldValueInvalid", bad,
        "cannot be greater than readyReplicas");
  }
  return v.n;
}

/* ------------------------------------------------------------------ */
/* Table (printDeployment)                                             */
/* ------------------------------------------------------------------ */

static const kapi_column deploy_columns[] = {
    {"Name", "string", "name",
     "Name must be unique within a namespace. Is required when creating "
     "resources, although some resources may allow a client to request the "
     "generation of an appropriate name automatically. Name is primarily "
     "intended for creation idempotence and configuration definition. "
     "Cannot be updated. More info: https://kubernetes.io/docs/concepts/"
     "overview/working-with-objects/names#names",
     0},
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

/* Appends s to buf (of size len) with a separator, cutting when full. */
static void join(char *buf, size_t len, const char *sep, const char *s)
{
  size_t n = strlen(buf);
  if (n && n + 1 < len)
    snprintf(buf + n, len - n, "%s", sep);
  n = strlen(buf);
  if (n + 1 < len)
    snprintf(buf + n, len - n, "%s", s ? s : "");
}

/* layoutContainerCells: names and images, comma-separated. */
static void container_cells(const kapi_obj *d, char *names, char *images,
                            size_t len)
{
  const kapi_obj *list = at(d, "/spec/template/spec/containers");
  size_t i, n = count(list);

  names[0] = images[0] = '\0';
  for (i = 0; i < n; i++) {
    const kapi_obj *c = api->obj_index(list, i);
    join(names, len, ",", str_of(member(c, "name")));
    join(images, len, ",", str_of(member(c, "image")));
  }
}

/* One requirement as labels.Requirement.String() prints it. */
struct req {
  const char *key;
  char text[512];
};

static int req_cmp(const void *a, const void *b)
{
  return strcmp(((const struct req *)a)->key, ((const struct req *)b)->key);
}

static int str_cmp(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void print_expression(const kapi_obj *e, struct req *r)
{
  const char *op = str_of(member(e, "operator"));
  const kapi_obj *values = member(e, "values");
  const char *vals[64];
  size_t i, n = count(values);

  r->key = str_of(member(e, "key"));
  if (!r->key)
    r->key = "";
  if (op && !strcmp(op, "Exists")) {
    snprintf(r->text, sizeof r->text, "%s", r->key);
    return;
  }
  if (op && !strcmp(op, "DoesNotExist")) {
    snprintf(r->text, sizeof r->text, "!%s", r->key);
    return;
  }
  snprintf(r->text, sizeof r->text, "%s %s (", r->key,
           op && !strcmp(op, "NotIn") ? "notin" : "in");
  if (n > 64)
    n = 64;
  for (i = 0; i < n; i++) {
    vals[i] = str_of(api->obj_index(values, i));
    if (!vals[i])
      vals[i] = "";
  }
  qsort(vals, n, sizeof *vals, str_cmp);
  for (i = 0; i < n; i++)
    join(r->text, sizeof r->text, i ? "," : "", vals[i]);
  join(r->text, sizeof r->text, "", ")");
}

/* metav1.FormatLabelSelector: requirements sorted by key; "<none>" for
 * an empty selector. */
static void format_selector(const kapi_obj *sel, char *buf, size_t len)
{
  const kapi_obj *ml = member(sel, "matchLabels");
  const kapi_obj *exprs = member(sel, "matchExpressions");
  struct req reqs[64];
  size_t i, n = 0;

  buf[0] = '\0';
  for (i = 0; i < count(ml) && n < 64; i++, n++) {
    reqs[n].key = api->obj_key(ml, i);
    snprintf(reqs[n].text, sizeof reqs[n].text, "%s=%s", reqs[n].key,
             str_of(api->obj_index(ml, i)) ? str_of(api->obj_index(ml, i))
                                           : "");
  }
  for (i = 0; i < count(exprs) && n < 64; i++, n++)
    print_expression(api->obj_index(exprs, i), &reqs[n]);
  qsort(reqs, n, sizeof *reqs, req_cmp);
  for (i = 0; i < n; i++)
    join(buf, len, ",", reqs[i].text);
  if (!buf[0])
    snprintf(buf, len, "<none>");
}

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
