/*
 * psa_config.c - levels, versions, namespace labels and the
 * PodSecurityConfiguration of the PodSecurity plugin.
 *
 * Upstream: pod-security-admission/api/helpers.go (ParseLevel,
 * ParseVersion, PolicyToEvaluate), admission/api/v1/{types,defaults}.go
 * and admission/api/validation/validation.go.
 *
 * The configuration is read once, at init: the host's parser
 * (api->obj_parse) makes a kapi_obj of the text, and the readers here walk
 * it with the object accessors, checking each field's JSON type as Go's
 * decoder would.  Unknown fields are ignored, as upstream's (non-strict)
 * decoder does.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "psa_internal.h"

static const char *const level_names[] = {"privileged", "baseline",
                                          "restricted"};

#define LEVEL_ERR "must be one of privileged, baseline, restricted"
#define VERSION_ERR "must be \"latest\" or \"v1.x\""
#define LABEL_PREFIX "pod-security.kubernetes.io/"

int psa_lv_equal(psa_lv a, psa_lv b)
{
  return a.level == b.level && a.minor == b.minor;
}

const char *psa_lv_string(psa_lv lv, char *buf, size_t len)
{
  if (lv.minor == PSA_LATEST)
    snprintf(buf, len, "%s:latest", level_names[lv.level]);
  else
    snprintf(buf, len, "%s:v1.%d", level_names[lv.level], lv.minor);
  return buf;
}

int psa_parse_level(const char *s, psa_level *ret)
{
  for (int i = 0; i < 3; i++)
    if (s && !strcmp(s, level_names[i])) {
      *ret = (psa_level)i;
      return 0;
    }
  return -EINVAL;
}

/* ^v1\.([0-9]|[1-9][0-9]*)$ and strconv.Atoi's range. */
int psa_parse_version(const char *s, int *ret_minor)
{
  long long minor = 0;
  const char *p;

  if (s && !strcmp(s, "latest")) {
    *ret_minor = PSA_LATEST;
    return 0;
  }
  if (!s || strncmp(s, "v1.", 3) || !s[3] || (s[3] == '0' && s[4]))
    return -EINVAL;
  for (p = s + 3; *p; p++) {
    if (*p < '0' || *p > '9')
      return -EINVAL;
    minor = minor * 10 + (*p - '0');
    if (minor > INT_MAX)
      return -EINVAL;
  }
  *ret_minor = (int)minor;
  return 0;
}

/* ---- namespace labels ------------------------------------------------- */

/* The label's value if the label is present ("" counts), else NULL. */
static const char *label(const kapi_host_api *api, const kapi_obj *labels,
                         const char *mode, const char *suffix)
{
  char ptr[96];
  const kapi_obj *v;

  /* JSON pointer: the '/' inside the key is escaped as ~1. */
  snprintf(ptr, sizeof ptr, "/pod-security.kubernetes.io~1%s%s", mode,
           suffix);
  v = labels ? api->obj_lookup(labels, ptr) : NULL;
  if (!v || api->obj_type(v) == KAPI_OBJ_NULL)
    return NULL;
  return api->obj_get(v, NULL) ? api->obj_get(v, NULL) : "";
}

static void label_error(psa_sl *errs, const char *mode, const char *suffix,
                        const char *value, const char *detail)
{
  psa_sb q = {0};

  if (!errs)
    return;
  psa_sb_quote(&q, value);
  psa_sl_addf(errs, "metadata.labels[" LABEL_PREFIX "%s%s]: Invalid value: "
              "%s: %s", mode, suffix, psa_sb_str(&q), detail);
  if (q.oom)
    errs->oom = 1;
  psa_sb_free(&q);
}

/* One mode's two labels over *lv; returns the number of bad labels. */
static int mode_from_labels(const kapi_host_api *api, const kapi_obj *labels,
                            const char *mode, psa_level bad_level,
                            psa_lv *lv, psa_sl *errs)
{
  const char *level = label(api, labels, mode, "");
  const char *version = label(api, labels, mode, "-version");
  int bad = 0;

  if (level && psa_parse_level(level, &lv->level) < 0) {
    lv->level = bad_level;
    label_error(errs, mode, "", level, LEVEL_ERR);
    bad++;
  }
  if (version && psa_parse_version(version, &lv->minor) < 0) {
    lv->minor = PSA_LATEST;
    label_error(errs, mode, "-version", version, VERSION_ERR);
    bad++;
  }
  return bad;
}

int psa_policy_from_labels(const kapi_host_api *api, const kapi_obj *labels,
                           const psa_policy *defaults, psa_policy *ret,
                           psa_sl *errs)
{
  int bad = 0;

  *ret = *defaults;
  /* Enforcement fails closed; auditing and warning fail open. */
  bad += mode_from_labels(api, labels, "enforce", PSA_RESTRICTED,
                          &ret->enforce, errs);
  bad += mode_from_labels(api, labels, "audit", PSA_PRIVILEGED, &ret->audit,
                          errs);
  bad += mode_from_labels(api, labels, "warn", PSA_PRIVILEGED, &ret->warn,
                          errs);
  return bad;
}

/* ---- reading the parsed configuration ---------------------------------- */

typedef struct reader {
  const kapi_host_api *api;
  char err[160]; /* the first error, if any */
} reader;

static int fail(reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(reader *r, const char *fmt, ...)
{
  va_list ap;

  if (!r->err[0]) {
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
  }
  return -EINVAL;
}

/* `null` stands for an absent value, as in Go's decoder. */
static int is_null(const reader *r, const kapi_obj *v)
{
  return r->api->obj_type(v) == KAPI_OBJ_NULL;
}

/*
 * Calls member(arg, r, key, value) for each member of an object, in the
 * order of the text, so the error reported is the first one there.
 */
static int read_object(reader *r, const kapi_obj *v, const char *what,
                       int (*member)(void *arg, reader *r, const char *key,
                                     const kapi_obj *value),
                       void *arg)
{
  const kapi_host_api *api = r->api;
  size_t n;
  int rc;

  if (api->obj_type(v) != KAPI_OBJ_OBJECT)
    return fail(r, "%s: expected an object", what);
  n = api->obj_len(v);
  for (size_t i = 0; i < n; i++) {
    rc = member(arg, r, api->obj_key(v, i), api->obj_index(v, i));
    if (rc < 0)
      return rc;
  }
  return 0;
}

/* A string or null into *ret, borrowed from the parsed value.  The type
 * is checked first: obj_get also answers the text of numbers and bools. */
static int read_opt_string(reader *r, const kapi_obj *v, const char *what,
                           const char **ret)
{
  if (is_null(r, v))
    return 0;
  if (r->api->obj_type(v) != KAPI_OBJ_STRING)
    return fail(r, "%s: expected a string", what);
  *ret = r->api->obj_get(v, NULL);
  return 0;
}

/* An array of strings (or null) appended to l (copied: the lists change
 * hands to the psa_config). */
static int read_string_list(reader *r, const kapi_obj *v, const char *what,
                            psa_sl *l)
{
  const kapi_host_api *api = r->api;
  const kapi_obj *item;
  size_t n;

  if (is_null(r, v))
    return 0;
  if (api->obj_type(v) != KAPI_OBJ_ARRAY)
    return fail(r, "%s: expected an array of strings", what);
  n = api->obj_len(v);
  for (size_t i = 0; i < n; i++) {
    item = api->obj_index(v, i);
    if (api->obj_type(item) != KAPI_OBJ_STRING)
      return fail(r, "%s: expected an array of strings", what);
    psa_sl_add(l, api->obj_get(item, NULL));
  }
  return 0;
}

/* ---- the configuration -------------------------------------------------- */

/* What the JSON says, before defaulting and validation.  The strings are
 * borrowed from the parsed text; the lists are owned. */
typedef struct raw_config {
  const char *api_version, *kind;
  const char *defaults[6]; /* in default_keys order */
  psa_sl usernames, namespaces, runtime_classes;
} raw_config;

static const char *const default_keys[6] = {
    "enforce", "enforce-version", "audit", "audit-version", "warn",
    "warn-version"};

static int defaults_member(void *arg, reader *r, const char *key,
                           const kapi_obj *v)
{
  raw_config *c = arg;
  char what[48];

  for (int i = 0; i < 6; i++)
    if (!strcmp(key, default_keys[i])) {
      snprintf(what, sizeof what, "defaults.%s", key);
      return read_opt_string(r, v, what, &c->defaults[i]);
    }
  return 0;
}

static int exemptions_member(void *arg, reader *r, const char *key,
                             const kapi_obj *v)
{
  raw_config *c = arg;

  if (!strcmp(key, "usernames"))
    return read_string_list(r, v, "exemptions.usernames", &c->usernames);
  if (!strcmp(key, "namespaces"))
    return read_string_list(r, v, "exemptions.namespaces", &c->namespaces);
  if (!strcmp(key, "runtimeClasses"))
    return read_string_list(r, v, "exemptions.runtimeClasses",
                            &c->runtime_classes);
  return 0;
}

static int top_member(void *arg, reader *r, const char *key,
                      const kapi_obj *v)
{
  raw_config *c = arg;

  if (!strcmp(key, "apiVersion"))
    return read_opt_string(r, v, "apiVersion", &c->api_version);
  if (!strcmp(key, "kind"))
    return read_opt_string(r, v, "kind", &c->kind);
  if (!strcmp(key, "defaults") || !strcmp(key, "exemptions")) {
    if (is_null(r, v))
      return 0;
    return read_object(r, v, key,
                       key[0] == 'd' ? defaults_member : exemptions_member, c);
  }
  return 0;
}

static void raw_free(raw_config *c)
{
  psa_sl_free(&c->usernames);
  psa_sl_free(&c->namespaces);
  psa_sl_free(&c->runtime_classes);
}

/* The versions the scheme registers PodSecurityConfiguration in. */
static int known_api_version(const char *v)
{
  static const char *const known[] = {
      "pod-security.admission.config.k8s.io/v1",
      "pod-security.admission.config.k8s.io/v1beta1",
      "pod-security.admission.config.k8s.io/v1alpha1"};

  for (size_t i = 0; i < sizeof known / sizeof *known; i++)
    if (!strcmp(v, known[i]))
      return 1;
  return 0;
}

/*
 * The type check of upstream's decoder.  A configuration with neither
 * apiVersion nor kind is taken as v1: that is the shape of a plugin
 * section in kapi's own --config file.
 */
static int check_type(const raw_config *c, char *err, size_t errlen)
{
  if (!c->api_version && !c->kind)
    return 0;
  if (!c->kind || !*c->kind) {
    snprintf(err, errlen, "PodSecurity configuration error: Object 'Kind' "
             "is missing in the configuration");
    return -EINVAL;
  }
  if (!c->api_version || !known_api_version(c->api_version) ||
      strcmp(c->kind, "PodSecurityConfiguration")) {
    snprintf(err, errlen, "PodSecurity configuration error: no kind \"%s\" "
             "is registered for version \"%s\"", c->kind,
             c->api_version ? c->api_version : "");
    return -EINVAL;
  }
  return 0;
}

/* ---- validation (validation.go), upstream's messages --------------------- */

static int is_alnum_lower(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_dns_label(const char *s, size_t n)
{
  if (!n || !is_alnum_lower(s[0]) || !is_alnum_lower(s[n - 1]))
    return 0;
  for (size_t i = 1; i + 1 < n; i++)
    if (!is_alnum_lower(s[i]) && s[i] != '-')
      return 0;
  return 1;
}

static int is_dns_subdomain(const char *s)
{
  const char *dot;

  for (;;) {
    dot = strchr(s, '.');
    if (!is_dns_label(s, dot ? (size_t)(dot - s) : strlen(s)))
      return 0;
    if (!dot)
      return 1;
    s = dot + 1;
  }
}

#define DNS_LABEL_MSG                                                       \
  "a lowercase RFC 1123 label must consist of lower case alphanumeric "     \
  "characters or '-', and must start and end with an alphanumeric "         \
  "character (e.g. 'my-name',  or '123-abc', regex used for validation is " \
  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define DNS_SUBDOMAIN_MSG                                                   \
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric " \
  "characters, '-' or '.', and must start and end with an alphanumeric "    \
  "character (e.g. 'example.com', regex used for validation is "            \
  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"

static void invalid(psa_sl *errs, const char *field, const char *value,
                    const char *detail)
{
  psa_sb q = {0};

  psa_sb_quote(&q, value);
  psa_sl_addf(errs, "%s: Invalid value: %s: %s", field, psa_sb_str(&q),
              detail);
  if (q.oom)
    errs->oom = 1;
  psa_sb_free(&q);
}

static void validate_defaults(const char *const values[6], psa_sl *errs)
{
  /* validation.go's order: enforce, warn, audit. */
  static const int order[6] = {0, 1, 4, 5, 2, 3};
  psa_level level;
  char field[40];
  int minor;

  for (int k = 0; k < 6; k++) {
    int i = order[k];

    snprintf(field, sizeof field, "defaults.%s", default_keys[i]);
    if (i % 2 == 0 && psa_parse_level(values[i], &level) < 0)
      invalid(errs, field, values[i], LEVEL_ERR);
    if (i % 2 == 1 && psa_parse_version(values[i], &minor) < 0)
      invalid(errs, field, values[i], VERSION_ERR);
  }
}

/* Names checked by `is_name` (with `msg`, the maximum length `max`), no
 * duplicates; usernames (is_name NULL) must not be empty. */
static void validate_list(const psa_sl *l, const char *field,
                          int (*is_name)(const char *), size_t max,
                          const char *msg, psa_sl *errs)
{
  psa_sl seen = {0};
  char path[64];
  psa_sb why = {0};

  for (size_t i = 0; i < l->n; i++) {
    const char *s = l->v[i];

    snprintf(path, sizeof path, "%s[%zu]", field, i);
    if (!is_name && !*s) {
      psa_sl_addf(errs, "%s: Required value", path);
      continue;
    }
    if (is_name && (strlen(s) > max || !is_name(s))) {
      psa_sb_free(&why);
      if (strlen(s) > max)
        psa_sb_printf(&why, "must be no more than %zu characters", max);
      if (!is_name(s))
        psa_sb_printf(&why, "%s%s", why.len ? ", " : "", msg);
      invalid(errs, path, s, psa_sb_str(&why));
      continue;
    }
    if (psa_sl_has(&seen, s)) {
      psa_sb q = {0};

      psa_sb_quote(&q, s);
      psa_sl_addf(errs, "%s: Duplicate value: %s", path, psa_sb_str(&q));
      psa_sb_free(&q);
      continue;
    }
    psa_sl_add(&seen, s);
  }
  psa_sb_free(&why);
  psa_sl_free(&seen);
}

static int is_namespace_name(const char *s)
{
  return is_dns_label(s, strlen(s));
}

/* Builds *ret from a defaulted, validated raw configuration. */
static int finish(raw_config *raw, psa_config *ret, char *err, size_t errlen)
{
  static const char *const fallback[6] = {"privileged", "latest",
                                          "privileged", "latest",
                                          "privileged", "latest"};
  const char *values[6];
  psa_sl errs = {0};
  psa_sb msg = {0};
  psa_lv *lvs[3];
  int rc = 0;

  /* SetDefaults_PodSecurityDefaults: empty means privileged / latest. */
  for (int i = 0; i < 6; i++)
    values[i] = raw->defaults[i] && *raw->defaults[i]
                    ? raw->defaults[i]
                    : fallback[i];
  validate_defaults(values, &errs);
  validate_list(&raw->namespaces, "exemptions.namespaces", is_namespace_name,
                63, DNS_LABEL_MSG, &errs);
  validate_list(&raw->runtime_classes, "exemptions.runtimeClasses",
                is_dns_subdomain, 253, DNS_SUBDOMAIN_MSG, &errs);
  validate_list(&raw->usernames, "exemptions.usernames", NULL, 0, NULL,
                &errs);
  if (errs.oom) {
    snprintf(err, errlen, "PodSecurity configuration error: out of memory");
    rc = -ENOMEM;
  } else if (errs.n) {
    /* field.ErrorList.ToAggregate(): one error plain, more in [..]. */
    psa_sb_puts(&msg, errs.n > 1 ? "[" : "");
    psa_sb_join(&msg, &errs, ", ");
    psa_sb_puts(&msg, errs.n > 1 ? "]" : "");
    snprintf(err, errlen, "PodSecurity invalid: %s", psa_sb_str(&msg));
    rc = -EINVAL;
  }
  psa_sb_free(&msg);
  psa_sl_free(&errs);
  if (rc < 0)
    return rc;

  lvs[0] = &ret->defaults.enforce;
  lvs[1] = &ret->defaults.audit;
  lvs[2] = &ret->defaults.warn;
  for (int m = 0; m < 3; m++) {
    psa_parse_level(values[2 * m], &lvs[m]->level);
    psa_parse_version(values[2 * m + 1], &lvs[m]->minor);
  }
  /* The lists change hands. */
  ret->usernames = raw->usernames;
  ret->namespaces = raw->namespaces;
  ret->runtime_classes = raw->runtime_classes;
  memset(&raw->usernames, 0, sizeof raw->usernames);
  memset(&raw->namespaces, 0, sizeof raw->namespaces);
  memset(&raw->runtime_classes, 0, sizeof raw->runtime_classes);
  return 0;
}

int psa_config_parse(const kapi_host_api *api, const char *json, size_t len,
                     psa_config *ret, char *err, size_t errlen)
{
  raw_config raw = {0};
  reader r = {api, ""};
  kapi_obj *root = NULL;
  int rc = 0;

  memset(ret, 0, sizeof *ret);
  if (json && len) {
    /* The host's parser.  No kapi_error: the host writes the text init
     * gets from its own parsed configuration, so only a caller outside
     * the host (a test) can hand us bad syntax. */
    if (!KAPI_API_HAS(api, obj_parse))
      rc = fail(&r, "the host offers no JSON parser (obj_parse, ABI 1.2)");
    else if (api->obj_parse(json, len, &root, NULL) < 0)
      rc = fail(&r, "invalid JSON");
    else if (!is_null(&r, root))
      rc = read_object(&r, root, "configuration", top_member, &raw);
    if (rc < 0)
      snprintf(err, errlen, "PodSecurity configuration error: %s", r.err);
  }
  if (rc == 0)
    rc = check_type(&raw, err, errlen);
  if (rc == 0 && (raw.usernames.oom || raw.namespaces.oom ||
                  raw.runtime_classes.oom)) {
    snprintf(err, errlen, "PodSecurity configuration error: out of memory");
    rc = -ENOMEM;
  }
  if (rc == 0)
    rc = finish(&raw, ret, err, errlen);
  raw_free(&raw);
  /* Last: raw borrowed its strings from the parsed value. */
  if (root)
    api->obj_free(root);
  return rc;
}

void psa_config_free(psa_config *c)
{
  psa_sl_free(&c->usernames);
  psa_sl_free(&c->namespaces);
  psa_sl_free(&c->runtime_classes);
}
