/*
 * limitrange.c - the "limitranges" resource (core/v1 LimitRange) as a
 * kapi plugin.
 *
 * Mirrors upstream's limitrange strategy (pkg/registry/core/limitrange/
 * strategy.go: a UUID name when none is given, create on update,
 * ValidateLimitRange on create and update), the v1 defaults applied when
 * a LimitRange is decoded (SetDefaults_LimitRangeItem: a Container item's
 * default limit comes from max, its default request from the default
 * limit, else from min; SetDefaults_ResourceList rounds quantities up to
 * milli precision), ValidateLimitRange and the helpers it calls in
 * pkg/apis/core/validation and pkg/apis/core/helper, and printLimitRange
 * (NAME CREATED AT).
 *
 * Quantities are stored in their canonical form, as upstream's
 * serialization writes them, so that "1000m" reads back as "1".  In kapi
 * the strategy runs where upstream decodes, so the defaults and the
 * canonical form are applied in prepare_for_create/prepare_for_update.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "kapi/plugin.h"
#include "../common/registry_util.h"
#include "../common/quantity.h"

/* The five resource lists of a LimitRangeItem, in the order upstream's
 * validation visits them. */
enum { L_MAX, L_MIN, L_DEFAULT, L_DEFAULT_REQUEST, L_RATIO, N_LISTS };
static const char *const list_names[N_LISTS] = {
    "max", "min", "default", "defaultRequest", "maxLimitRequestRatio"};

#define QTY_BUF 64
#define GO_QTY_BUF 320

/* A JSON pointer token: '~' and '/' escaped (RFC 6901). */
static void pointer_token(const char *s, char *buf, size_t len)
{
  size_t o = 0;

  for (; *s && o + 3 < len; s++) {
    if (*s == '~' || *s == '/') {
      buf[o++] = '~';
      buf[o++] = *s == '~' ? '0' : '1';
    } else {
      buf[o++] = *s;
    }
  }
  buf[o] = '\0';
}

/* The member `key` of the object `list`, or NULL. */
static const kapi_obj *member(const kapi_obj *list, const char *key)
{
  size_t i, n;

  if (api->obj_type(list) != KAPI_OBJ_OBJECT)
    return NULL;
  n = api->obj_len(list);
  for (i = 0; i < n; i++)
    if (!strcmp(api->obj_key(list, i), key))
      return api->obj_index(list, i);
  return NULL;
}

static size_t obj_count(const kapi_obj *o)
{
  return api->obj_type(o) == KAPI_OBJ_OBJECT ? api->obj_len(o) : 0;
}

/* ------------------------------------------------------------------ */
/* Defaults and the canonical form                                     */
/* ------------------------------------------------------------------ */

/* Rewrites every parseable quantity of spec.limits[i].<list> in its
 * canonical form (and thus rounded up to milli units). */
static void canonicalize_list(kapi_obj *lr, size_t i, const char *list)
{
  char ptr[96], key_ptr[640], token[520], canon[QTY_BUF];
  const kapi_obj *m;
  size_t k, n;

  snprintf(ptr, sizeof ptr, "/spec/limits/%zu/%s", i, list);
  m = api->obj_lookup(lr, ptr);
  n = obj_count(m);
  for (k = 0; k < n; k++) {
    qty q;
    if (qty_of(api, api->obj_index(m, k), &q) < 0)
      continue; /* refused by validation */
    qty_format_canonical(&q, canon, sizeof canon);
    pointer_token(api->obj_key(m, k), token, sizeof token);
    snprintf(key_ptr, sizeof key_ptr, "%s/%s", ptr, token);
    api->obj_set_str(lr, key_ptr, canon);
  }
}

/* Copies every entry of list `from` that list `to` lacks into `to`. */
static void default_list(kapi_obj *lr, size_t i, const char *from,
                         const char *to)
{
  char from_ptr[96], to_ptr[96], key_ptr[640], token[520];
  const kapi_obj *src;
  size_t k, n;

  snprintf(from_ptr, sizeof from_ptr, "/spec/limits/%zu/%s", i, from);
  snprintf(to_ptr, sizeof to_ptr, "/spec/limits/%zu/%s", i, to);
  src = api->obj_lookup(lr, from_ptr);
  n = obj_count(src);
  for (k = 0; k < n; k++) {
    const char *key = api->obj_key(src, k);
    char *json;
    if (member(api->obj_lookup(lr, to_ptr), key))
      continue;
    json = api->obj_to_json(api->obj_index(src, k));
    if (!json)
      continue;
    pointer_token(key, token, sizeof token);
    snprintf(key_ptr, sizeof key_ptr, "%s/%s", to_ptr, token);
    api->obj_set_json(lr, key_ptr, json);
    api->free(json);
    /* Writing may have created the `to` list and moved values around:
     * look the source up again rather than trust the old pointer. */
    src = api->obj_lookup(lr, from_ptr);
  }
}

/* SetDefaults_LimitRangeItem, then SetDefaults_ResourceList. */
static void lr_defaults(kapi_obj *lr)
{
  const kapi_obj *limits = api->obj_lookup(lr, "/spec/limits");
  size_t i, l, n;

  n = api->obj_type(limits) == KAPI_OBJ_ARRAY ? api->obj_len(limits) : 0;
  for (i = 0; i < n; i++) {
    char ptr[64];
    const char *type;

    snprintf(ptr, sizeof ptr, "/spec/limits/%zu/type", i);
    type = str_at(lr, ptr);
    if (type && !strcmp(type, "Container")) {
      default_list(lr, i, "max", "default");
      default_list(lr, i, "default", "defaultRequest");
      default_list(lr, i, "min", "defaultRequest");
    }
    for (l = 0; l < N_LISTS; l++)
      canonicalize_list(lr, i, list_names[l]);
  }
}

/* uuid.NewUUID(): a random (version 4) UUID. */
static void new_uuid(char *buf, size_t len)
{
  unsigned char b[16];
  size_t got = 0;

  while (got < sizeof b) {
    ssize_t r = getrandom(b + got, sizeof b - got, 0);
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  if (got < sizeof b) /* no entropy source: still unique enough per call */
    for (; got < sizeof b; got++)
      b[got] = (unsigned char)((uintptr_t)&b >> (got % 8));
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(buf, len,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
           "%02x%02x%02x%02x%02x%02x",
           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
           b[10], b[11], b[12], b[13], b[14], b[15]);
}

static void lr_prepare_for_create(void *st, kapi_obj *lr)
{
  const char *name = str_at(lr, "/metadata/name");
  const char *gen = str_at(lr, "/metadata/generateName");

  (void)st;
  /* generateName is honoured by the host after this; only a LimitRange
   * with neither gets upstream's UUID. */
  if ((!name || !*name) && (!gen || !*gen)) {
    char uuid[40];
    new_uuid(uuid, sizeof uuid);
    api->obj_set_str(lr, "/metadata/name", uuid);
  }
  lr_defaults(lr);
}

static void lr_prepare_for_update(void *st, kapi_obj *lr,
                                  const kapi_obj *old)
{
  (void)st;
  (void)old;
  lr_defaults(lr);
}

/* ------------------------------------------------------------------ */
/* Names (pkg/apis/core/helper, apimachinery IsQualifiedName)           */
/* ------------------------------------------------------------------ */

static int is_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

static int has_prefix(const char *s, const char *prefix)
{
  return !strncmp(s, prefix, strlen(prefix));
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)* */
static int is_dns1123_subdomain(const char *s, size_t n)
{
  size_t i, start = 0;

  if (!n)
    return 0;
  for (i = 0; i <= n; i++) {
    if (i < n && s[i] != '.') {
      if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
            s[i] == '-'))
        return 0;
      continue;
    }
    if (i == start || s[start] == '-' || s[i - 1] == '-')
      return 0;
    start = i + 1;
  }
  return 1;
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] */
static int is_qualified_word(const char *s)
{
  size_t i, n = strlen(s);

  if (!n || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
    return 0;
  for (i = 0; i < n; i++)
    if (!is_alnum(s[i]) && !strchr("-_.", s[i]))
      return 0;
  return 1;
}

#define QUALIFIED_NAME_MSG                                                   \
  "must consist of alphanumeric characters, '-', '_' or '.', and must "    \
  "start and end with an alphanumeric character (e.g. 'MyName',  or "      \
  "'my.name',  or '123-abc', regex used for validation is "                \
  "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"

/*
 * validation.IsQualifiedName: calls add(msg) for each of upstream's
 * messages, in its order; returns how many.  `add` gets `arg`.
 */
static int qualified_name_errors(const char *value,
                                 void (*add)(void *arg, const char *msg),
                                 void *arg)
{
  const char *slash = strchr(value, '/'), *name = value;
  int n = 0;

  if (slash && strchr(slash + 1, '/')) {
    add(arg, "a qualified name " QUALIFIED_NAME_MSG
             " with an optional DNS subdomain prefix and '/' (e.g. "
             "'example.com/MyName')");
    return 1;
  }
  if (slash) {
    size_t plen = (size_t)(slash - value);
    name = slash + 1;
    if (!plen) {
      add(arg, "prefix part must be non-empty");
      n++;
    } else {
      if (plen > 253) {
        add(arg, "prefix part must be no more than 253 characters");
        n++;
      }
      if (!is_dns1123_subdomain(value, plen)) {
        add(arg, "prefix part a lowercase RFC 1123 subdomain must consist "
                 "of lower case alphanumeric characters, '-' or '.', and "
                 "must start and end with an alphanumeric character (e.g. "
                 "'example.com', regex used for validation is "
                 "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*"
                 "[a-z0-9])?)*')");
        n++;
      }
    }
  }
  if (!*name) {
    add(arg, "name part must be non-empty");
    n++;
  } else if (strlen(name) > 63) {
    add(arg, "name part must be no more than 63 characters");
    n++;
  }
  if (!is_qualified_word(name)) {
    add(arg, "name part " QUALIFIED_NAME_MSG);
    n++;
  }
  return n;
}

static void count_msg(void *arg, const char *msg)
{
  (void)msg;
  ++*(int *)arg;
}

static int is_qualified_name(const char *value)
{
  int n = 0;
  qualified_name_errors(value, count_msg, &n);
  return n == 0;
}

static int is_hugepages(const char *name)
{
  return has_prefix(name, "hugepages-");
}

/* IsStandardResourceName (with IsQuotaHugePageResourceName). */
static int is_standard_resource(const char *name)
{
  static const char *const standard[] = {
      "cpu", "memory", "ephemeral-storage", "requests.cpu",
      "requests.memory", "requests.ephemeral-storage", "limits.cpu",
      "limits.memory", "limits.ephemeral-storage", "pods",
      "resourcequotas", "services", "replicationcontrollers", "secrets",
      "configmaps", "persistentvolumeclaims", "storage", "requests.storage",
      "services.nodeports", "services.loadbalancers", NULL};
  const char *const *s;

  for (s = standard; *s; s++)
    if (!strcmp(name, *s))
      return 1;
  return is_hugepages(name) || has_prefix(name, "requests.hugepages-");
}

/* IsNativeResource: unprefixed, or in a kubernetes.io domain. */
static int is_native_resource(const char *name)
{
  return !strchr(name, '/') || strstr(name, "kubernetes.io/") != NULL;
}

/* IsExtendedResourceName. */
static int is_extended_resource(const char *name)
{
  char quota[600];

  if (is_native_resource(name) || has_prefix(name, "requests."))
    return 0;
  snprintf(quota, sizeof quota, "requests.%s", name);
  return is_qualified_name(quota);
}

/* IsOvercommitAllowed. */
static int overcommit_allowed(const char *name)
{
  return is_native_resource(name) && !is_hugepages(name);
}

/* ------------------------------------------------------------------ */
/* ValidateLimitRange                                                  */
/* ------------------------------------------------------------------ */

typedef struct vctx {
  kapi_obj *errs;
  int n;
  char field[640]; /* scratch for the current field path */
  char bad[600];   /* scratch for the current bad value */
} vctx;

static void add_error(vctx *v, const char *field, const char *type,
                      const char *bad, const char *detail)
{
  if (api->field_error(v->errs, field, type, bad, detail) == 0)
    v->n++;
}

static void add_invalid_msg(void *arg, const char *msg)
{
  vctx *v = arg;
  add_error(v, v->field, "FieldValueInvalid", v->bad, msg);
}

/* field.Invalid with a Quantity bad value, printed as Go's %#v does:
 * the value goes in front of the detail (the host has no Go structs). */
static void invalid_quantity(vctx *v, const char *field, const qty *q,
                             const char *detail)
{
  char canon[QTY_BUF], go[GO_QTY_BUF], msg[GO_QTY_BUF + 256];

  qty_format_canonical(q, canon, sizeof canon);
  qty_go_value(canon, qty_format_of(canon), go, sizeof go);
  snprintf(msg, sizeof msg, "%s: %s", go, detail);
  add_error(v, field, "FieldValueInvalid", NULL, msg);
}

/* validateResourceName; returns the number of errors. */
static int check_resource_name(vctx *v, const char *field, const char *name)
{
  int before = v->n;

  snprintf(v->field, sizeof v->field, "%s", field);
  json_quote(name, v->bad, sizeof v->bad);
  if (qualified_name_errors(name, add_invalid_msg, v) > 0)
    return v->n - before;
  if (!strchr(name, '/') && !is_standard_resource(name))
    add_error(v, field, "FieldValueInvalid", v->bad,
              "must be a standard resource type or fully qualified");
  return v->n - before;
}

/* validateContainerResourceName. */
static void check_container_resource_name(vctx *v, const char *field,
                                          const char *name)
{
  check_resource_name(v, field, name);
  if (!strchr(name, '/')) {
    if (strcmp(name, "cpu") && strcmp(name, "memory") &&
        strcmp(name, "ephemeral-storage") && !is_hugepages(name))
      add_error(v, field, "FieldValueInvalid", v->bad,
                "must be a standard resource for containers");
  } else if (!is_native_resource(name) && !is_extended_resource(name)) {
    add_error(v, field, "FieldValueInvalid", v->bad,
              "doesn't follow extended resource name standard");
  }
}

/* validateLimitRangeTypeName. */
static void check_type_name(vctx *v, const char *field, const char *type)
{
  snprintf(v->field, sizeof v->field, "%s", field);
  json_quote(type, v->bad, sizeof v->bad);
  if (qualified_name_errors(type, add_invalid_msg, v) > 0)
    return;
  if (!strchr(type, '/') && strcmp(type, "Pod") && strcmp(type, "Container") &&
      strcmp(type, "PersistentVolumeClaim"))
    add_error(v, field, "FieldValueInvalid", v->bad,
              "must be a standard limit type or fully qualified");
}

/* One resource of one item: its quantity in each list, if any. */
typedef struct res_entry {
  const char *name;
  int found[N_LISTS];
  qty q[N_LISTS];
} res_entry;

#define MAX_KEYS 64

typedef struct item_keys {
  res_entry e[MAX_KEYS];
  size_t n;
} item_keys;

static res_entry *key_entry(item_keys *k, const char *name)
{
  size_t i;

  for (i = 0; i < k->n; i++)
    if (!strcmp(k->e[i].name, name))
      return &k->e[i];
  if (k->n == MAX_KEYS)
    return NULL;
  memset(&k->e[k->n], 0, sizeof k->e[k->n]);
  k->e[k->n].name = name;
  return &k->e[k->n++];
}

/* Checks the names and quantities of one list and records them. */
static void scan_list(vctx *v, const kapi_obj *item, size_t idx,
                      const char *type, int list, item_keys *keys)
{
  const kapi_obj *m = member(item, list_names[list]);
  size_t k, n = obj_count(m);

  for (k = 0; k < n; k++) {
    const char *name = api->obj_key(m, k);
    char field[640];
    res_entry *e;
    qty q;

    snprintf(field, sizeof field, "spec.limits[%zu].%s[%s]", idx,
             list_names[list], name);
    if (!strcmp(type, "Pod") || !strcmp(type, "Container"))
      check_container_resource_name(v, field, name);
    else
      check_resource_name(v, field, name);
    e = key_entry(keys, name);
    if (qty_of(api, api->obj_index(m, k), &q) < 0) {
      /* Upstream refuses this when decoding (400); here it is the one
       * place to refuse it. */
      json_quote(api->obj_get(api->obj_index(m, k), "")
                     ? api->obj_get(api->obj_index(m, k), "")
                     : "",
                 v->bad, sizeof v->bad);
      add_error(v, field, "FieldValueInvalid", v->bad, qty_regex_error);
      continue;
    }
    if (e) {
      e->found[list] = 1;
      e->q[list] = q;
    }
  }
}

/* The comparisons between the lists of one resource. */
static void check_entry(vctx *v, size_t idx, const res_entry *e)
{
  const qty *min = &e->q[L_MIN], *max = &e->q[L_MAX];
  const qty *def = &e->q[L_DEFAULT], *req = &e->q[L_DEFAULT_REQUEST];
  const qty *ratio = &e->q[L_RATIO];
  int has_min = e->found[L_MIN], has_max = e->found[L_MAX];
  int has_def = e->found[L_DEFAULT], has_req = e->found[L_DEFAULT_REQUEST];
  int has_ratio = e->found[L_RATIO];
  char field[640], msg[320], a[QTY_BUF], b[QTY_BUF];

#define FIELD(list)                                                         \
  (snprintf(field, sizeof field, "spec.limits[%zu].%s[%s]", idx, list,      \
            e->name),                                                       \
   field)
#define CANON(q, buf) qty_format_canonical(q, buf, sizeof buf)

  if (has_min && has_max && qty_cmp(min, max) > 0) {
    snprintf(msg, sizeof msg, "min value %s is greater than max value %s",
             CANON(min, a), CANON(max, b));
    invalid_quantity(v, FIELD("min"), min, msg);
  }
  if (has_req && has_min && qty_cmp(min, req) > 0) {
    snprintf(msg, sizeof msg,
             "min value %s is greater than default request value %s",
             CANON(min, a), CANON(req, b));
    invalid_quantity(v, FIELD("defaultRequest"), req, msg);
  }
  if (has_req && has_max && qty_cmp(req, max) > 0) {
    snprintf(msg, sizeof msg,
             "default request value %s is greater than max value %s",
             CANON(req, a), CANON(max, b));
    invalid_quantity(v, FIELD("defaultRequest"), req, msg);
  }
  if (has_req && has_def && qty_cmp(req, def) > 0) {
    snprintf(msg, sizeof msg,
             "default request value %s is greater than default limit "
             "value %s",
             CANON(req, a), CANON(def, b));
    invalid_quantity(v, FIELD("defaultRequest"), req, msg);
  }
  if (has_def && has_min && qty_cmp(min, def) > 0) {
    snprintf(msg, sizeof msg, "min value %s is greater than default value %s",
             CANON(min, a), CANON(def, b));
    invalid_quantity(v, FIELD("default"), min, msg);
  }
  if (has_def && has_max && qty_cmp(def, max) > 0) {
    snprintf(msg, sizeof msg, "default value %s is greater than max value %s",
             CANON(def, a), CANON(max, b));
    invalid_quantity(v, FIELD("default"), max, msg);
  }
  if (has_ratio && ratio->milli < 1000) {
    snprintf(msg, sizeof msg, "ratio %s is less than 1", CANON(ratio, a));
    invalid_quantity(v, FIELD("maxLimitRequestRatio"), ratio, msg);
  }
  if (has_ratio && has_min && has_max) {
    /* Milli precision, as upstream when nothing is near overflow; a
     * zero min makes the limit infinite (or NaN), which never fails. */
    double ratio_value = (double)ratio->milli / 1000;
    double limit = (double)max->milli / (double)min->milli;
    if (min->milli != 0 && ratio_value > limit) {
      snprintf(msg, sizeof msg, "ratio %s is greater than max/min = %f",
               CANON(ratio, a), limit);
      invalid_quantity(v, FIELD("maxLimitRequestRatio"), ratio, msg);
    }
  }
  if (!overcommit_allowed(e->name) && has_def && has_req &&
      qty_cmp(def, req) != 0) {
    snprintf(msg, sizeof msg,
             "default value %s must equal to defaultRequest value %s in %s",
             CANON(def, a), CANON(req, b), e->name);
    invalid_quantity(v, FIELD("defaultRequest"), req, msg);
  }
#undef FIELD
#undef CANON
}

static void check_item(vctx *v, const kapi_obj *item, size_t idx,
                       const char *const *seen_types, size_t n_seen)
{
  const char *type = api->obj_get(item, "/type");
  char field[128];
  item_keys *keys;
  size_t i;
  int dup = 0;

  type = type ? type : "";
  snprintf(field, sizeof field, "spec.limits[%zu].type", idx);
  check_type_name(v, field, type);
  for (i = 0; i < n_seen; i++)
    dup |= !strcmp(seen_types[i], type);
  if (dup) {
    json_quote(type, v->bad, sizeof v->bad);
    add_error(v, field, "FieldValueDuplicate", v->bad, NULL);
  }

  keys = api->alloc(sizeof *keys);
  if (!keys) {
    add_error(v, "spec.limits", "InternalError", NULL, "out of memory");
    return;
  }
  keys->n = 0;
  scan_list(v, item, idx, type, L_MAX, keys);
  scan_list(v, item, idx, type, L_MIN, keys);
  if (!strcmp(type, "Pod")) {
    if (obj_count(member(item, "default")) > 0) {
      snprintf(field, sizeof field, "spec.limits[%zu].default", idx);
      add_error(v, field, "FieldValueForbidden", NULL,
                "may not be specified when `type` is 'Pod'");
    }
    if (obj_count(member(item, "defaultRequest")) > 0) {
      snprintf(field, sizeof field, "spec.limits[%zu].defaultRequest", idx);
      add_error(v, field, "FieldValueForbidden", NULL,
                "may not be specified when `type` is 'Pod'");
    }
  } else {
    scan_list(v, item, idx, type, L_DEFAULT, keys);
    scan_list(v, item, idx, type, L_DEFAULT_REQUEST, keys);
  }
  if (!strcmp(type, "PersistentVolumeClaim") &&
      !member(member(item, "min"), "storage") &&
      !member(member(item, "max"), "storage")) {
    snprintf(field, sizeof field, "spec.limits[%zu].limits", idx);
    add_error(v, field, "FieldValueRequired", NULL,
              "either minimum or maximum storage value is required, but "
              "neither was provided");
  }
  scan_list(v, item, idx, type, L_RATIO, keys);
  for (i = 0; i < keys->n; i++)
    check_entry(v, idx, &keys->e[i]);
  api->free(keys);
}

static int lr_validate(void *st, const kapi_obj *lr, kapi_obj *errs)
{
  const kapi_obj *limits = api->obj_lookup(lr, "/spec/limits");
  const char *seen[256];
  vctx v;
  size_t i, n;

  (void)st;
  memset(&v, 0, sizeof v);
  v.errs = errs;
  n = api->obj_type(limits) == KAPI_OBJ_ARRAY ? api->obj_len(limits) : 0;
  for (i = 0; i < n; i++) {
    const kapi_obj *item = api->obj_index(limits, i);
    const char *type = api->obj_get(item, "/type");
    check_item(&v, item, i, seen, i < 256 ? i : 256);
    if (i < 256)
      seen[i] = type ? type : "";
  }
  return v.n;
}

static int lr_validate_update(void *st, const kapi_obj *lr,
                              const kapi_obj *old, kapi_obj *errs)
{
  (void)old;
  return lr_validate(st, lr, errs);
}

/* ------------------------------------------------------------------ */
/* Table (printLimitRange)                                             */
/* ------------------------------------------------------------------ */

static const kapi_column lr_columns[] = {
    REG_NAME_COLUMN,
    {"Created At", "date", "",
     "CreationTimestamp is a timestamp representing the server time when "
     "this object was created. It is not guaranteed to be set in "
     "happens-before order across separate operations. Clients may not set "
     "this value. It is represented in RFC3339 form and is in UTC.\n\n"
     "Populated by the system. Read-only. Null for lists. More info: "
     "https://git.k8s.io/community/contributors/devel/sig-architecture/"
     "api-conventions.md#metadata",
     0},
};

/* The creation time is a cell of its own (a metav1.Time: RFC 3339, or
 * null when unset), not an age. */
static int lr_table_row(void *st, const kapi_obj *lr, int64_t now,
                        kapi_obj *cells)
{
  const char *name = str_at(lr, "/metadata/name");
  const char *created = str_at(lr, "/metadata/creationTimestamp");

  (void)st;
  (void)now;
  api->obj_append_str(cells, "", name ? name : "");
  if (created && *created)
    api->obj_append_str(cells, "", created);
  else
    api->obj_set_json(cells, "/-", "null");
  return 0;
}

/* ------------------------------------------------------------------ */
/* Schema and registration                                             */
/* ------------------------------------------------------------------ */

/* Resource lists are free-form objects: a quantity may be sent as a JSON
 * string or number. */
static const char lr_schema[] =
    "{\"apiVersion\":\"string\",\"kind\":\"string\",\"metadata\":\"meta\","
    "\"spec\":{\"limits\":[{\"type\":\"string\",\"max\":\"object\","
    "\"min\":\"object\",\"default\":\"object\",\"defaultRequest\":\"object\","
    "\"maxLimitRequestRatio\":\"object\",\"$required\":[\"type\"]}],"
    "\"$required\":[\"limits\"]}}";

static const char *const lr_short_names[] = {"limits", NULL};

static const kapi_resource_ops lr_ops = {
    .size = sizeof(kapi_resource_ops),
    .group = "",
    .version = "v1",
    .resource = "limitranges",
    .kind = "LimitRange",
    .singular = "limitrange",
    .short_names = lr_short_names,
    .namespaced = 1,
    .name_rule = KAPI_NAME_DNS_SUBDOMAIN,
    .allow_create_on_update = 1,
    .allow_unconditional_update = 1,
    .schema = lr_schema,
    .columns = lr_columns,
    .n_columns = sizeof lr_columns / sizeof *lr_columns,
    .prepare_for_create = lr_prepare_for_create,
    .validate = lr_validate,
    .prepare_for_update = lr_prepare_for_update,
    .validate_update = lr_validate_update,
    .table_row = lr_table_row,
};

static int lr_init(kapi_plugin *self, const kapi_host_api *host,
                   const char *config, size_t config_len, kapi_error *e)
{
  (void)config;
  (void)config_len;
  (void)e;
  return reg_register(self, host, &lr_ops);
}

KAPI_PLUGIN_DEFINE(.name = "limitrange-registry", .version = "0.1.0",
                   .description = "core/v1 limitranges: defaults, "
                                  "ValidateLimitRange and the table",
                   .license = "Apache-2.0", .init = lr_init);
