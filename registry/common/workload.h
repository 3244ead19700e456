/*
 * workload.h - what the replicaset and deployment registry plugins share:
 * reading values, the pod template defaults (SetDefaults_PodSpec and
 * SetDefaults_Container), the label, selector and template checks of
 * pkg/apis/apps/validation, and the selector and container cells of
 * their tables.
 *
 * Like registry_util.h (which it includes, and whose `api` and str_at it
 * uses), it is included by relative path ("../common/workload.h") so that
 * each plugin still builds from its own .c file alone; `static inline`
 * keeps the helpers a plugin does not use from warning.
 */
#ifndef KAPI_REGISTRY_WORKLOAD_H
#define KAPI_REGISTRY_WORKLOAD_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapi/plugin.h"
#include "registry_util.h"

/* ---- reading values ----------------------------------------------------- */

static inline const kapi_obj *at(const kapi_obj *o, const char *ptr)
{
  return api->obj_lookup(o, ptr);
}

static inline kapi_obj_type type_at(const kapi_obj *o, const char *ptr)
{
  return api->obj_type(at(o, ptr));
}

static inline size_t count(const kapi_obj *o)
{
  kapi_obj_type t = api->obj_type(o);
  return t == KAPI_OBJ_ARRAY || t == KAPI_OBJ_OBJECT ? api->obj_len(o) : 0;
}

static inline const char *str_of(const kapi_obj *o)
{
  return api->obj_type(o) == KAPI_OBJ_STRING ? api->obj_get(o, "") : NULL;
}
static inline int nonempty(const char *s)
{
  return s && *s;
}

/* An absent, null or "" value: Go's zero value. */
static inline int is_unset(const kapi_obj *o, const char *ptr)
{
  kapi_obj_type t = type_at(o, ptr);
  return t == KAPI_OBJ_NONE || t == KAPI_OBJ_NULL ||
         (t == KAPI_OBJ_STRING && !*api->obj_get(o, ptr));
}

/* The integer at ptr, or `dflt` when absent or not an integer. */
static inline int64_t int_or(const kapi_obj *o, const char *ptr, int64_t dflt)
{
  const kapi_obj *v = at(o, ptr);
  int64_t n;
  return v && api->obj_int(v, &n) == 0 ? n : dflt;
}

/* The member `key` of object o, found by name (keys may hold '/'). */
static inline const kapi_obj *member(const kapi_obj *o, const char *key)
{
  size_t i, n = api->obj_type(o) == KAPI_OBJ_OBJECT ? count(o) : 0;
  for (i = 0; i < n; i++)
    if (!strcmp(api->obj_key(o, i), key))
      return api->obj_index(o, i);
  return NULL;
}

/* s as a JSON string literal into buf (cut if too long). */
static inline const char *quote(const char *s, char *buf, size_t len)
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

/* ---- pod template defaults (SetDefaults_PodSpec, SetDefaults_Container) - */

static inline void default_str(kapi_obj *o, const char *ptr, const char *value)
{
  if (is_unset(o, ptr))
    api->obj_set_str(o, ptr, value);
}

/* Always for ":latest" or no tag and no digest, else IfNotPresent. */
static inline const char *default_pull_policy(const char *image)
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

static inline void default_containers(kapi_obj *obj, const char *list)
{
  size_t i, j, n = count(at(obj, list)), np;
  char c[128], f[192], image[192];

  for (i = 0; i < n; i++) {
    snprintf(c, sizeof c, "%s/%zu", list, i);
    if (type_at(obj, c) != KAPI_OBJ_OBJECT)
      continue;
    snprintf(image, sizeof image, "%s/image", c);
    snprintf(f, sizeof f, "%s/imagePullPolicy", c);
    default_str(obj, f, default_pull_policy(str_at(obj, image)));
    snprintf(f, sizeof f, "%s/terminationMessagePath", c);
    default_str(obj, f, "/dev/termination-log");
    snprintf(f, sizeof f, "%s/terminationMessagePolicy", c);
    default_str(obj, f, "File");
    snprintf(f, sizeof f, "%s/ports", c);
    np = count(at(obj, f));
    for (j = 0; j < np; j++) {
      snprintf(f, sizeof f, "%s/ports/%zu/protocol", c, j);
      default_str(obj, f, "TCP");
    }
  }
}

/* ---- validation ----------------------------------------------------------- */

/* The object being validated, its error list and the errors added. */
typedef struct vctx {
  const kapi_obj *obj;
  kapi_obj *errs;
  int n;
} vctx;

static inline void err(vctx *v, const char *field, const char *type,
                const char *bad_json, const char *detail)
{
  if (api->field_error(v->errs, field, type, bad_json, detail) == 0)
    v->n++;
}

static inline void err_value(vctx *v, const char *field, const char *type,
                      const kapi_obj *value, const char *detail)
{
  char *json = api->obj_to_json(value);
  err(v, field, type, json ? json : "null", detail);
  api->free(json);
}

static inline void nonnegative(vctx *v, const char *ptr, const char *field)
{
  int64_t n = int_or(v->obj, ptr, 0);
  char bad[32];
  if (n >= 0)
    return;
  snprintf(bad, sizeof bad, "%lld", (long long)n);
  err(v, field, "FieldValueInvalid", bad,
      "must be greater than or equal to 0");
}

/*
 * The replica counts of a workload's status (upstream's
 * ValidateReplicaSetStatus / ValidateDeploymentStatus): every one of
 * `counts` at least 0, each of `bounded` at most status.replicas, and
 * availableReplicas at most readyReplicas, in that order.  Returns the
 * number of errors v holds.
 */
static inline int validate_status_counts(vctx *v, const char *const *counts,
                                         size_t n_counts,
                                         const char *const *bounded,
                                         size_t n_bounded)
{
  int64_t replicas = int_or(v->obj, "/status/replicas", 0);
  int64_t ready = int_or(v->obj, "/status/readyReplicas", 0);
  int64_t n;
  char ptr[64], f[64], bad[32];
  size_t i;

  for (i = 0; i < n_counts; i++) {
    snprintf(ptr, sizeof ptr, "/status/%s", counts[i]);
    snprintf(f, sizeof f, "status.%s", counts[i]);
    nonnegative(v, ptr, f);
  }
  for (i = 0; i < n_bounded; i++) {
    snprintf(ptr, sizeof ptr, "/status/%s", bounded[i]);
    n = int_or(v->obj, ptr, 0);
    if (n <= replicas)
      continue;
    snprintf(f, sizeof f, "status.%s", bounded[i]);
    snprintf(bad, sizeof bad, "%lld", (long long)n);
    err(v, f, "FieldValueInvalid", bad,
        "cannot be greater than status.replicas");
  }
  n = int_or(v->obj, "/status/availableReplicas", 0);
  if (n > ready) {
    snprintf(bad, sizeof bad, "%lld", (long long)n);
    err(v, "status.availableReplicas", "FieldValueInvalid", bad,
        "cannot be greater than readyReplicas");
  }
  return v->n;
}

static inline int is_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] over s[0..n) */
static inline int is_label_word(const char *s, size_t n)
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
static inline void check_label_key(vctx *v, const char *field, const char *key)
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
static inline void check_label_value(vctx *v, const char *field, const char *value)
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
static inline void check_labels(vctx *v, const kapi_obj *labels, const char *field)
{
  size_t i, n = api->obj_type(labels) == KAPI_OBJ_OBJECT ? count(labels) : 0;
  for (i = 0; i < n; i++) {
    const char *val = str_of(api->obj_index(labels, i));
    check_label_key(v, field, api->obj_key(labels, i));
    check_label_value(v, field, val ? val : "");
  }
}

static inline int is_operator(const char *op)
{
  return op && (!strcmp(op, "In") || !strcmp(op, "NotIn") ||
                !strcmp(op, "Exists") || !strcmp(op, "DoesNotExist"));
}

/* ValidateLabelSelector (strict values).  Returns 1 if the selector can
 * be converted (every operator known). */
static inline int check_selector(vctx *v, const kapi_obj *sel)
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

static inline int in_values(const kapi_obj *values, const char *s)
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
static inline int selector_matches(const kapi_obj *sel, const kapi_obj *labels)
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

static inline int name_seen(const kapi_obj *list, size_t upto, const char *name)
{
  size_t i, n_items = count(list);
  for (i = 0; i < upto && i < n_items; i++) {
    const char *n = str_of(member(api->obj_index(list, i), "name"));
    if (n && !strcmp(n, name))
      return 1;
  }
  return 0;
}

/* The container checks of ValidatePodSpec that matter for the pods the
 * controller will create: names, images, pull policies. */
static inline void check_containers(vctx *v, const char *key, int required)
{
  static const char *const pull_policies[] = {"Always", "IfNotPresent",
                                              "Never", NULL};
  char ptr[96], f[160], bad[320];
  const kapi_obj *list;
  size_t i, j, n;

  snprintf(ptr, sizeof ptr, "/spec/template/spec/%s", key);
  list = at(v->obj, ptr);
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
           name_seen(at(v->obj, "/spec/template/spec/containers"), (size_t)-1,
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

/* ValidatePodTemplateSpecForReplicaSet (Deployment uses it too), given a
 * convertible selector; `kind` names the workload in upstream's message. */
static inline void check_template(vctx *v, const kapi_obj *sel, int selector_ok,
                           const char *kind)
{
  const kapi_obj *labels = at(v->obj, "/spec/template/metadata/labels");
  const char *restart = str_at(v->obj, "/spec/template/spec/restartPolicy");
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
  if (!is_unset(v->obj, "/spec/template/spec/activeDeadlineSeconds")) {
    char msg[96];
    snprintf(msg, sizeof msg, "activeDeadlineSeconds in %s is not Supported",
             kind);
    err(v, "spec.template.spec.activeDeadlineSeconds", "FieldValueForbidden",
        NULL, msg);
  }
}

/* ---- tables (printReplicaSet, printDeployment) ---------------------------- */

/* Appends s to buf (of size len) with a separator, cutting when full. */
static inline void join(char *buf, size_t len, const char *sep, const char *s)
{
  size_t n = strlen(buf);
  if (n && n + 1 < len)
    snprintf(buf + n, len - n, "%s", sep);
  n = strlen(buf);
  if (n + 1 < len)
    snprintf(buf + n, len - n, "%s", s ? s : "");
}

/* layoutContainerCells: names and images, comma-separated. */
static inline void container_cells(const kapi_obj *obj, char *names, char *images,
                            size_t len)
{
  const kapi_obj *list = at(obj, "/spec/template/spec/containers");
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

static inline int req_cmp(const void *a, const void *b)
{
  return strcmp(((const struct req *)a)->key, ((const struct req *)b)->key);
}

static inline int str_cmp(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static inline void print_expression(const kapi_obj *e, struct req *r)
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
static inline void format_selector(const kapi_obj *sel, char *buf, size_t len)
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

#endif /* KAPI_REGISTRY_WORKLOAD_H */
