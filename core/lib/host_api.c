/*
 * host_api.c - the kapi_host_api table handed to every plugin.
 *
 * One static const table (SQLite's sqlite3_api_routines, Redis'
 * REGISTER_API): plugins link against nothing of ours and reach the
 * server only through these pointers.  Each member is a small adapter to
 * the module that owns the concern: the loader (registration), status.c
 * (errors), log.c, request.c, json.c (objects).  The only logic of its
 * own is upstream's DNS name validation and HumanDuration, whose exact
 * wording plugins' users see.
 *
 * Every member must be set: test_plugin_loader.c calls each one.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "host_ext.h"
#include "host_server.h"
#include "plugin_internal.h"
#include "quantity.h"
#include "plugin_loader.h"
#include "request.h"
#include "server.h"
#include "status.h"

/* ---- registration: forwarded to the loader ---------------------------- */

static int host_register_authn(kapi_plugin *p, const char *name,
                               const kapi_authn_ops *ops, void *st,
                               const kapi_order *order)
{
  return kapi__plugin_register(p, KAPI_KIND_AUTHN, name, ops,
                               ops ? ops->size : 0, st, order);
}

static int host_register_authz(kapi_plugin *p, const char *name,
                               const kapi_authz_ops *ops, void *st,
                               const kapi_order *order)
{
  return kapi__plugin_register(p, KAPI_KIND_AUTHZ, name, ops,
                               ops ? ops->size : 0, st, order);
}

static int host_register_admission(kapi_plugin *p, const char *name,
                                   const kapi_admission_ops *ops, void *st,
                                   const kapi_order *order)
{
  return kapi__plugin_register(p, KAPI_KIND_ADMISSION, name, ops,
                               ops ? ops->size : 0, st, order);
}

static int host_register_resource(kapi_plugin *p,
                                  const kapi_resource_ops *ops, void *st)
{
  return kapi__plugin_register_resource(p, ops, st);
}

/* ---- errors and logs ------------------------------------------------- */

static void host_error_set(kapi_error *e, int code, const char *reason,
                           const char *fmt, ...)
{
  va_list ap;

  if (!e || !fmt)
    return;
  va_start(ap, fmt);
  kapi_error_vsetf(e, code, reason, fmt, ap);
  va_end(ap);
}

static void host_error_add_cause(kapi_error *e, const char *reason,
                                 const char *message, const char *field)
{
  if (e)
    kapi_error_add_cause(e, reason, message, field);
}

/* klog's severity letter of a KAPI_LOG_* level; verbose levels are 'I'. */
static char log_severity(int level)
{
  if (level <= KAPI_LOG_ERROR)
    return 'E';
  if (level == KAPI_LOG_WARNING)
    return 'W';
  return 'I';
}

/*
 * "<plugin>: <message>".  The file:line in the klog header is this file,
 * which says little, so the plugin name leads the message instead.
 */
static void host_log(kapi_plugin *p, int level, const char *fmt, ...)
{
  const char *name = kapi__plugin_name(p);
  char msg[3072];
  va_list ap;

  if (!fmt || (level > 0 && !kapi_v(level)))
    return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  kapi_log_at(log_severity(level), __FILE__, __LINE__, "%s: %s",
              name ? name : "plugin", msg);
}

/* ---- request attributes: forwarded to request.c ------------------------ */

static const char *host_req_get(const kapi_req *r, const char *key)
{
  return r && key ? kapi_req_get(r, key) : NULL;
}

static const char *host_req_group(const kapi_req *r, size_t i)
{
  return r ? kapi_req_group(r, i) : NULL;
}

static const kapi_obj *host_req_old_object(const kapi_req *r)
{
  return r ? kapi_req_old_object(r) : NULL;
}

static const char *host_req_header(const kapi_req *r, const char *name)
{
  return r && name ? kapi_req_header(r, name) : NULL;
}

/* The response is built by the thread running the request, the only
 * one that can reach it through r: no lock needed. */
static void host_req_warning(const kapi_req *r, const char *fmt, ...)
{
  char buf[4096];
  va_list ap;

  if (!r || !r->resp || !fmt)
    return;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  kapi_response_warn(r->resp, buf);
}

static void host_req_audit_annotation(const kapi_req *r, const char *key,
                                      const char *value)
{
  kapi_req *w = (kapi_req *)r; /* the request's own bookkeeping */

  if (!r || !key || !value)
    return;
  if (!w->audit_annotations && !(w->audit_annotations = kj_object()))
    return;
  kj_set_str(w->audit_annotations, key, value);
}

static const kapi_obj *host_req_user(const kapi_req *r)
{
  return r ? r->user : NULL;
}

static int host_obj_parse(const char *json, size_t len, kapi_obj **ret,
                          kapi_error *e)
{
  char err[256];

  if (!ret)
    return -EINVAL;
  *ret = NULL;
  if (!json || kj_parse(json, len, (kj **)ret, err, sizeof err) < 0) {
    if (e)
      kapi_error_setf(e, 400, "BadRequest", "invalid JSON: %s",
                      json ? err : "no text");
    return -EINVAL;
  }
  return 0;
}

/* ---- reading objects ------------------------------------------------- */

/* A NULL pointer means the value itself, like "". */
static const kapi_obj *host_obj_lookup(const kapi_obj *o, const char *ptr)
{
  return o ? kj_ptr(o, ptr ? ptr : "") : NULL;
}

static kapi_obj_type host_obj_type(const kapi_obj *o)
{
  return o ? (kapi_obj_type)o->type : KAPI_OBJ_NONE;
}

static const char *host_obj_get(const kapi_obj *o, const char *ptr)
{
  const kj *v = host_obj_lookup(o, ptr);

  if (!v)
    return NULL;
  switch (v->type) {
  case KJ_STRING:
  case KJ_NUMBER:
    return v->u.str.s;
  case KJ_BOOL:
    return v->u.boolean ? "true" : "false";
  default:
    return NULL;
  }
}

static int host_obj_int(const kapi_obj *o, int64_t *out)
{
  return o && out ? kj_to_int(o, out) : -EINVAL;
}

static size_t host_obj_len(const kapi_obj *o)
{
  return kj_len(o);
}

static const kapi_obj *host_obj_index(const kapi_obj *o, size_t i)
{
  return kj_at(o, i);
}

static const char *host_obj_key(const kapi_obj *o, size_t i)
{
  return kj_key_at(o, i);
}

/* ---- writing objects ------------------------------------------------- */

/*
 * Puts `v` (owned, freed on error) at `ptr` in `o`.  The pointer "" is
 * `o` itself: its contents are swapped with v's, so the caller's handle
 * stays valid.
 */
static int set_value(kapi_obj *o, const char *ptr, kj *v)
{
  kj tmp;

  if (!v)
    return -ENOMEM;
  if (!o || !ptr) {
    kj_free(v);
    return -EINVAL;
  }
  if (*ptr)
    return kj_set_ptr(o, ptr, v);
  tmp = *o;
  *o = *v;
  *v = tmp;
  kj_free(v);
  return 0;
}

static int host_obj_set_json(kapi_obj *o, const char *ptr, const char *json)
{
  char perr[128];
  kj *v = NULL;
  int r;

  if (!json)
    return -EINVAL;
  r = kj_parse(json, strlen(json), &v, perr, sizeof perr);
  if (r < 0)
    return r;
  return set_value(o, ptr, v);
}

static int host_obj_set_copy(kapi_obj *o, const char *ptr,
                             const kapi_obj *value)
{
  return value ? set_value(o, ptr, kj_clone(value)) : -EINVAL;
}

static int host_obj_set_str(kapi_obj *o, const char *ptr, const char *value)
{
  return value ? set_value(o, ptr, kj_string(value)) : -EINVAL;
}

static int host_obj_set_int(kapi_obj *o, const char *ptr, int64_t value)
{
  return set_value(o, ptr, kj_int(value));
}

static int host_obj_set_bool(kapi_obj *o, const char *ptr, int value)
{
  return set_value(o, ptr, kj_bool(value != 0));
}

static int host_obj_remove(kapi_obj *o, const char *ptr)
{
  return o && ptr && *ptr ? kj_remove_ptr(o, ptr) : -EINVAL;
}

/* Appends v (owned) to the array at ptr, creating it if absent. */
static int append_value(kapi_obj *o, const char *ptr, kj *v)
{
  kj *arr;
  int r;

  if (!v)
    return -ENOMEM;
  if (!o || !ptr) {
    kj_free(v);
    return -EINVAL;
  }
  arr = kj_ptr(o, ptr);
  if (!arr && *ptr) {
    r = kj_set_ptr(o, ptr, kj_array());
    arr = r == 0 ? kj_ptr(o, ptr) : NULL;
  }
  if (!arr || arr->type != KJ_ARRAY) {
    kj_free(v);
    return -EINVAL;
  }
  return kj_append(arr, v);
}

static int host_obj_append_str(kapi_obj *o, const char *ptr, const char *v)
{
  return v ? append_value(o, ptr, kj_string(v)) : -EINVAL;
}

static int host_obj_append_int(kapi_obj *o, const char *ptr, int64_t v)
{
  return append_value(o, ptr, kj_int(v));
}

/* ---- copies and memory ------------------------------------------------ */

static char *host_obj_to_json(const kapi_obj *o)
{
  return o ? kj_dump(o, NULL) : NULL;
}

static void host_obj_free(kapi_obj *o)
{
  kj_free(o);
}

/* The host's allocator, so text and objects can change hands. */
static void *host_alloc(size_t n)
{
  return malloc(n);
}

static void host_free(void *p)
{
  free(p);
}

/* ---- field errors and validation -------------------------------------- */

static int host_field_error(kapi_obj *errs, const char *field,
                            const char *type, const char *bad_value,
                            const char *detail)
{
  if (!errs || !field || !type)
    return -EINVAL;
  return kapi_field_error(errs, field, type, bad_value, detail);
}

/* apimachinery pkg/util/validation/validation.go, verbatim. */
#define DNS1123_LABEL_FMT "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define DNS1123_LABEL_MAX 63
#define DNS1123_SUBDOMAIN_MAX 253
static const char dns1123_label_msg[] =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric "
    "characters or '-', and must start and end with an alphanumeric "
    "character (e.g. 'my-name',  or '123-abc', regex used for validation "
    "is '" DNS1123_LABEL_FMT "')";
static const char dns1123_subdomain_msg[] =
    "a lowercase RFC 1123 subdomain must consist of lower case "
    "alphanumeric characters, '-' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '" DNS1123_LABEL_FMT "(\\." DNS1123_LABEL_FMT ")*')";
static const char dns1123_no_dots_msg[] = "must not contain dots";

static int is_lower_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ over s[0..n). */
static int matches_label(const char *s, size_t n)
{
  size_t i;

  if (!n || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
    return 0;
  for (i = 1; i + 1 < n; i++)
    if (!is_lower_alnum(s[i]) && s[i] != '-')
      return 0;
  return 1;
}

/* Labels joined by single dots. */
static int matches_subdomain(const char *s)
{
  const char *dot;

  for (;;) {
    dot = strchr(s, '.');
    if (!matches_label(s, dot ? (size_t)(dot - s) : strlen(s)))
      return 0;
    if (!dot)
      return 1;
    s = dot + 1;
  }
}

/* One FieldValueInvalid per message, badValue the value as a JSON
 * string, as upstream's field.Invalid(path, value, msg). */
static int add_invalid(kapi_obj *errs, const char *field, const char *value,
                       const char *msg)
{
  kj *s = kj_string(value);
  char *json = s ? kj_dump(s, NULL) : NULL;
  int r;

  kj_free(s);
  if (!json)
    return -ENOMEM;
  r = kapi_field_error(errs, field, "FieldValueInvalid", json, msg);
  free(json);
  return r;
}

/* Adds the messages in order and returns their count, or -errno. */
static int add_invalids(kapi_obj *errs, const char *field, const char *value,
                        const char *const *msgs, int n)
{
  int i, r;

  for (i = 0; i < n; i++) {
    r = add_invalid(errs, field, value, msgs[i]);
    if (r < 0)
      return r;
  }
  return n;
}

static int host_validate_dns_label(kapi_obj *errs, const char *field,
                                   const char *value)
{
  char maxlen[48];
  const char *msgs[2];
  int n = 0;

  if (!errs || !field)
    return -EINVAL;
  if (!value)
    value = "";
  if (strlen(value) > DNS1123_LABEL_MAX) {
    snprintf(maxlen, sizeof maxlen, "must be no more than %d characters",
             DNS1123_LABEL_MAX);
    msgs[n++] = maxlen;
  }
  /* A valid subdomain that is no label can only be one with dots. */
  if (!matches_label(value, strlen(value)))
    msgs[n++] = matches_subdomain(value) ? dns1123_no_dots_msg
                                         : dns1123_label_msg;
  return add_invalids(errs, field, value, msgs, n);
}

static int host_validate_dns_subdomain(kapi_obj *errs, const char *field,
                                       const char *value)
{
  char maxlen[48];
  const char *msgs[2];
  int n = 0;

  if (!errs || !field)
    return -EINVAL;
  if (!value)
    value = "";
  if (strlen(value) > DNS1123_SUBDOMAIN_MAX) {
    snprintf(maxlen, sizeof maxlen, "must be no more than %d characters",
             DNS1123_SUBDOMAIN_MAX);
    msgs[n++] = maxlen;
  }
  if (!matches_subdomain(value))
    msgs[n++] = dns1123_subdomain_msg;
  return add_invalids(errs, field, value, msgs, n);
}

/* ---- the store --------------------------------------------------------- */

/* Set once by the server before it serves; read-only afterwards. */
static kapi_store_get_hook store_get_hook;

void kapi_host_set_store_get(kapi_store_get_hook fn)
{
  store_get_hook = fn;
}

static int host_store_get(const char *group, const char *resource,
                          const char *ns, const char *name, kapi_obj **ret)
{
  if (!resource || !name || !ret)
    return -EINVAL;
  *ret = NULL;
  if (!store_get_hook)
    return -ENOSYS;
  return store_get_hook(group ? group : "", resource, ns, name, ret);
}

/* ---- ages ------------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil): no timegm(), no TZ. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
  int64_t era, yoe, doy, doe;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int parse_digits(const char **s, int n, int *ret)
{
  int v = 0, i;

  for (i = 0; i < n; i++) {
    if ((*s)[i] < '0' || (*s)[i] > '9')
      return -EINVAL;
    v = v * 10 + ((*s)[i] - '0');
  }
  *s += n;
  *ret = v;
  return 0;
}

static int expect(const char **s, const char *any_of)
{
  if (!**s || !strchr(any_of, **s))
    return -EINVAL;
  (*s)++;
  return 0;
}

/*
 * RFC 3339 "2006-01-02T15:04:05[.frac](Z|+hh:mm|-hh:mm)" to Unix
 * seconds; *frac is set when a nonzero fraction follows the seconds.
 */
static int parse_rfc3339(const char *s, int64_t *ret, int *frac)
{
  int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;

  *frac = 0;
  if (parse_digits(&s, 4, &y) || expect(&s, "-") ||
      parse_digits(&s, 2, &mo) || expect(&s, "-") ||
      parse_digits(&s, 2, &d) || expect(&s, "Tt") ||
      parse_digits(&s, 2, &h) || expect(&s, ":") ||
      parse_digits(&s, 2, &mi) || expect(&s, ":") ||
      parse_digits(&s, 2, &sec))
    return -EINVAL;
  if (*s == '.') {
    if (s[1] < '0' || s[1] > '9')
      return -EINVAL;
    for (s++; *s >= '0' && *s <= '9'; s++)
      *frac |= *s != '0';
  }
  if (*s == 'Z' || *s == 'z') {
    s++;
  } else {
    sign = *s == '+' ? 1 : *s == '-' ? -1 : 0;
    if (!sign)
      return -EINVAL;
    s++;
    if (parse_digits(&s, 2, &oh) || expect(&s, ":") ||
        parse_digits(&s, 2, &om) || oh > 23 || om > 59)
      return -EINVAL;
  }
  if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
      sec > 60)
    return -EINVAL;
  *ret = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
         sign * (oh * 3600 + om * 60);
  return 0;
}

/*
 * apimachinery pkg/util/duration HumanDuration, for a whole number of
 * seconds s >= 0: ~2-3 significant figures.
 */
static int human_duration(int64_t s, char *buf, size_t len)
{
  const int64_t m = s / 60, h = s / 3600, d = h / 24;
  int n;

  if (s < 60 * 2)
    n = snprintf(buf, len, "%llds", (long long)s);
  else if (m < 10 && s % 60)
    n = snprintf(buf, len, "%lldm%llds", (long long)m, (long long)(s % 60));
  else if (m < 60 * 3)
    n = snprintf(buf, len, "%lldm", (long long)m);
  else if (h < 8 && m % 60)
    n = snprintf(buf, len, "%lldh%lldm", (long long)h, (long long)(m % 60));
  else if (h < 48)
    n = snprintf(buf, len, "%lldh", (long long)h);
  else if (h < 24 * 8 && h % 24)
    n = snprintf(buf, len, "%lldd%lldh", (long long)d, (long long)(h % 24));
  else if (h < 24 * 365 * 2)
    n = snprintf(buf, len, "%lldd", (long long)d);
  else if (h < 24 * 365 * 8 && d % 365)
    n = snprintf(buf, len, "%lldy%lldd", (long long)(d / 365),
                 (long long)(d % 365));
  else
    n = snprintf(buf, len, "%lldy", (long long)(d / 365));
  return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

/*
 * now - ts, as kubectl prints ages.  Upstream truncates the duration
 * toward zero; a timestamp up to a second in the future is "0s" (clock
 * skew), further is "<invalid>".  A fraction on ts makes the elapsed
 * time D - f, which truncates to D - 1 when positive and to D otherwise.
 */
static int host_format_age(const char *rfc3339, int64_t now, char *buf,
                           size_t len)
{
  int64_t ts, s;
  int frac, n;

  if (!buf || !len)
    return -EINVAL;
  if (!rfc3339 || parse_rfc3339(rfc3339, &ts, &frac) < 0) {
    n = snprintf(buf, len, "<unknown>");
    return n < 0 || (size_t)n >= len ? -ENOSPC : -EINVAL;
  }
  s = now - ts;
  if (frac && s > 0)
    s--;
  if (s < -1) {
    n = snprintf(buf, len, "<invalid>");
    return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
  }
  return human_duration(s < 0 ? 0 : s, buf, len);
}

/* ---- the table --------------------------------------------------------- */

/* ---- daemon-supplied members (host_ext.h) -------------------------------- */

static const kapi_sched_host *sched_host;
static const kapi_ctl_host *ctl_host;
static kapi_api_request_hook api_request_hook;

void kapi_host_set_sched(const kapi_sched_host *h) { sched_host = h; }
void kapi_host_set_ctl(const kapi_ctl_host *h) { ctl_host = h; }
void kapi_host_set_api_request(kapi_api_request_hook fn)
{
  api_request_hook = fn;
}

static int host_register_sched(kapi_plugin *p, const char *name,
                               const kapi_sched_ops *ops, void *st,
                               const kapi_order *order)
{
  return kapi__plugin_register(p, KAPI_KIND_SCHED, name, ops,
                               ops ? ops->size : 0, st, order);
}

static int host_register_controller(kapi_plugin *p, const char *name,
                                    const kapi_controller_ops *ops, void *st)
{
  return kapi__plugin_register(p, KAPI_KIND_CONTROLLER, name, ops,
                               ops ? ops->size : 0, st, NULL);
}

static int host_register_runtime(kapi_plugin *p, const char *name,
                                 const kapi_runtime_ops *ops, void *st)
{
  return kapi__plugin_register(p, KAPI_KIND_RUNTIME, name, ops,
                               ops ? ops->size : 0, st, NULL);
}

static int host_api_request(const char *method, const char *path,
                            const char *content_type, const char *body,
                            kapi_obj **ret, kapi_error *e)
{
  if (!api_request_hook) {
    if (e)
      kapi_error_setf(e, 501, "NotImplemented",
                      "api_request is not available in this daemon");
    return -ENOSYS;
  }
  return api_request_hook(method, path, content_type, body, ret, e);
}

static int host_quantity_milli(const char *q, int64_t *ret)
{
  return kapi_quantity_milli(q, ret, NULL, 0);
}

static int64_t host_pod_request(const kapi_obj *pod, const char *resource,
                                int non_zero)
{
  return kapi_pod_request(pod, resource, non_zero);
}

static void host_sched_reason(kapi_sched_status *s, const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  if (!sched_host)
    return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  sched_host->reason(s, msg);
}

static int host_cycle_write(kapi_cycle *cs, const char *key, void *data,
                            const kapi_state_vtbl *vt)
{
  return sched_host ? sched_host->cycle_write(cs, key, data, vt) : -ENOSYS;
}

static void *host_cycle_read(kapi_cycle *cs, const char *key)
{
  return sched_host ? sched_host->cycle_read(cs, key) : NULL;
}

static const kapi_obj *host_node_obj(const kapi_node_info *ni)
{
  return sched_host ? sched_host->node_obj(ni) : NULL;
}

static const char *host_node_name(const kapi_node_info *ni)
{
  return sched_host ? sched_host->node_name(ni) : NULL;
}

static size_t host_node_pod_count(const kapi_node_info *ni)
{
  return sched_host ? sched_host->node_pod_count(ni) : 0;
}

static const kapi_obj *host_node_pod(const kapi_node_info *ni, size_t i)
{
  return sched_host ? sched_host->node_pod(ni, i) : NULL;
}

static int64_t host_node_requested(const kapi_node_info *ni,
                                   const char *resource, int non_zero)
{
  return sched_host ? sched_host->node_requested(ni, resource, non_zero) : 0;
}

static int64_t host_node_allocatable(const kapi_node_info *ni,
                                     const char *resource)
{
  return sched_host ? sched_host->node_allocatable(ni, resource) : 0;
}

static kapi_inf *host_ctl_informer(kapi_ctl *c, const char *group,
                                   const char *version, const char *resource)
{
  return ctl_host ? ctl_host->informer(c, group, version, resource) : NULL;
}

static int host_inf_add_handler(kapi_inf *inf, const kapi_inf_handler *h,
                                void *arg)
{
  return ctl_host ? ctl_host->inf_add_handler(inf, h, arg) : -ENOSYS;
}

static int host_inf_add_index(kapi_inf *inf, const char *index)
{
  return ctl_host ? ctl_host->inf_add_index(inf, index) : -ENOSYS;
}

static int host_inf_wait_synced(kapi_inf *inf, int timeout_ms)
{
  return ctl_host ? ctl_host->inf_wait_synced(inf, timeout_ms) : -ENOSYS;
}

static int host_inf_get(kapi_inf *inf, const char *key, kapi_ref **ret)
{
  return ctl_host ? ctl_host->inf_get(inf, key, ret) : -ENOSYS;
}

static int host_inf_list(kapi_inf *inf, const char *index, const char *value,
                         kapi_ref ***ret, size_t *ret_n)
{
  return ctl_host ? ctl_host->inf_list(inf, index, value, ret, ret_n)
                  : -ENOSYS;
}

static const kapi_obj *host_ref_obj(const kapi_ref *r)
{
  return ctl_host ? ctl_host->ref_obj(r) : NULL;
}

static void host_ref_put(kapi_ref *r)
{
  if (ctl_host)
    ctl_host->ref_put(r);
}

static void host_ref_array_put(kapi_ref **v, size_t n)
{
  if (ctl_host)
    ctl_host->ref_array_put(v, n);
}

static kapi_queue *host_ctl_queue(kapi_ctl *c, const char *name)
{
  return ctl_host ? ctl_host->queue(c, name) : NULL;
}

static void host_queue_add(kapi_queue *q, const char *key)
{
  if (ctl_host)
    ctl_host->queue_add(q, key);
}

static void host_queue_add_after(kapi_queue *q, const char *key, int delay_ms)
{
  if (ctl_host)
    ctl_host->queue_add_after(q, key, delay_ms);
}

static void host_queue_add_rate_limited(kapi_queue *q, const char *key)
{
  if (ctl_host)
    ctl_host->queue_add_rate_limited(q, key);
}

static void host_queue_forget(kapi_queue *q, const char *key)
{
  if (ctl_host)
    ctl_host->queue_forget(q, key);
}

static int host_ctl_run_workers(kapi_ctl *c, kapi_queue *q, int n,
                                int (*sync)(void *st, const char *key),
                                void *st)
{
  return ctl_host ? ctl_host->run_workers(c, q, n, sync, st) : -ENOSYS;
}

static void host_ctl_event(kapi_ctl *c, const kapi_obj *involved,
                           const char *type, const char *reason,
                           const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  if (!ctl_host)
    return;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  ctl_host->event(c, involved, type, reason, msg);
}

static char *host_obj_cache_key(const kapi_obj *o)
{
  const char *ns = kj_str(kj_ptr(o, "/metadata/namespace"));
  const char *name = kj_str(kj_ptr(o, "/metadata/name"));
  char *key;
  if (!name)
    return NULL;
  if (asprintf(&key, "%s%s%s", ns && *ns ? ns : "", ns && *ns ? "/" : "",
               name) < 0)
    return NULL;
  return key;
}

static const kapi_host_api host_api = {
  .size = sizeof(kapi_host_api),
  .abi_major = KAPI_ABI_MAJOR,
  .abi_minor = KAPI_ABI_MINOR,
  .register_authn = host_register_authn,
  .register_authz = host_register_authz,
  .register_admission = host_register_admission,
  .register_resource = host_register_resource,
  .error_set = host_error_set,
  .error_add_cause = host_error_add_cause,
  .log = host_log,
  .req_get = host_req_get,
  .req_group = host_req_group,
  .req_old_object = host_req_old_object,
  .req_header = host_req_header,
  .obj_lookup = host_obj_lookup,
  .obj_type = host_obj_type,
  .obj_get = host_obj_get,
  .obj_int = host_obj_int,
  .obj_len = host_obj_len,
  .obj_index = host_obj_index,
  .obj_key = host_obj_key,
  .obj_set_json = host_obj_set_json,
  .obj_set_str = host_obj_set_str,
  .obj_set_int = host_obj_set_int,
  .obj_set_bool = host_obj_set_bool,
  .obj_remove = host_obj_remove,
  .obj_append_str = host_obj_append_str,
  .obj_append_int = host_obj_append_int,
  .obj_to_json = host_obj_to_json,
  .obj_free = host_obj_free,
  .alloc = host_alloc,
  .free = host_free,
  .field_error = host_field_error,
  .validate_dns_label = host_validate_dns_label,
  .validate_dns_subdomain = host_validate_dns_subdomain,
  .store_get = host_store_get,
  .format_age = host_format_age,
  .register_sched = host_register_sched,
  .register_controller = host_register_controller,
  .register_runtime = host_register_runtime,
  .api_request = host_api_request,
  .quantity_milli = host_quantity_milli,
  .pod_request = host_pod_request,
  .sched_reason = host_sched_reason,
  .cycle_write = host_cycle_write,
  .cycle_read = host_cycle_read,
  .node_obj = host_node_obj,
  .node_name = host_node_name,
  .node_pod_count = host_node_pod_count,
  .node_pod = host_node_pod,
  .node_requested = host_node_requested,
  .node_allocatable = host_node_allocatable,
  .ctl_informer = host_ctl_informer,
  .inf_add_handler = host_inf_add_handler,
  .inf_add_index = host_inf_add_index,
  .inf_wait_synced = host_inf_wait_synced,
  .inf_get = host_inf_get,
  .inf_list = host_inf_list,
  .ref_obj = host_ref_obj,
  .ref_put = host_ref_put,
  .ref_array_put = host_ref_array_put,
  .ctl_queue = host_ctl_queue,
  .queue_add = host_queue_add,
  .queue_add_after = host_queue_add_after,
  .queue_add_rate_limited = host_queue_add_rate_limited,
  .queue_forget = host_queue_forget,
  .ctl_run_workers = host_ctl_run_workers,
  .ctl_event = host_ctl_event,
  .obj_cache_key = host_obj_cache_key,
  .store_list = kapi_host_store_list,
  .store_revision = kapi_host_store_revision,
  .store_update = kapi_host_store_update,
  .authorize = kapi_host_authorize,
  .req_warning = host_req_warning,
  .req_audit_annotation = host_req_audit_annotation,
  .req_user = host_req_user,
  .obj_parse = host_obj_parse,
  .obj_set_copy = host_obj_set_copy,
};

const kapi_host_api *kapi_host_api_get(void)
{
  return &host_api;
}
