/*
 * status.c - API errors as metav1.Status, after apimachinery's
 * pkg/api/errors/errors.go and pkg/util/validation/field/errors.go.
 *
 * Clients print `message` verbatim and kubectl builds its bullet list
 * from details.causes, so both are reproduced byte for byte: names are
 * quoted like Go's %q, bad values are printed the way field.Error does
 * (strings quoted, numbers and booleans bare, other values as JSON),
 * and lists of field errors are aggregated like utilerrors.Aggregate.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gofmt.h"
#include "sbuf.h"
#include "status.h"

/* ------------------------------------------------------------------ */
/* Go's formatting of values beyond strings (those are gofmt.h's). */

/* json.Marshal of a value.  Object members keep their order (Go sorts
 * map keys but not struct fields; the DOM cannot tell them apart). */
static void go_json_value(struct kapi__sbuf *b, const kj *v)
{
  size_t i;

  switch (v->type) {
  case KJ_NULL:
    kapi__sb_puts(b, "null");
    break;
  case KJ_BOOL:
    kapi__sb_puts(b, v->u.boolean ? "true" : "false");
    break;
  case KJ_NUMBER:
    kapi__sb_puts(b, v->u.str.s);
    break;
  case KJ_STRING:
    kapi__go_json_string_n(b, v->u.str.s, v->u.str.len);
    break;
  case KJ_ARRAY:
    kapi__sb_putc(b, '[');
    for (i = 0; i < kj_len(v); i++) {
      if (i)
        kapi__sb_putc(b, ',');
      go_json_value(b, kj_at(v, i));
    }
    kapi__sb_putc(b, ']');
    break;
  case KJ_OBJECT:
    kapi__sb_putc(b, '{');
    for (i = 0; i < kj_len(v); i++) {
      if (i)
        kapi__sb_putc(b, ',');
      kapi__go_json_string(b, kj_key_at(v, i));
      kapi__sb_putc(b, ':');
      go_json_value(b, kj_at(v, i));
    }
    kapi__sb_putc(b, '}');
    break;
  }
}

/* ------------------------------------------------------------------ */
/* The error slot. */

void kapi_error_init(kapi_error *e)
{
  memset(e, 0, sizeof *e);
}

void kapi_error_clear(kapi_error *e)
{
  free(e->message);
  kj_free(e->details);
  memset(e, 0, sizeof *e);
}

int kapi_error_isset(const kapi_error *e)
{
  return e->code != 0;
}

/* Replaces whatever e held with a new error; takes ownership of
 * message (which may be NULL after an allocation failure). */
static void error_set(kapi_error *e, int code, const char *reason,
                      char *message)
{
  kapi_error_clear(e);
  e->code = code;
  snprintf(e->reason, sizeof e->reason, "%s", reason ? reason : "");
  e->message = message;
}

void kapi_error_vsetf(kapi_error *e, int code, const char *reason,
                      const char *fmt, va_list ap)
{
  struct kapi__sbuf b = {0};

  kapi__sb_vprintf(&b, fmt, ap);
  error_set(e, code, reason, kapi__sb_take(&b));
}

void kapi_error_setf(kapi_error *e, int code, const char *reason,
                     const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  kapi_error_vsetf(e, code, reason, fmt, ap);
  va_end(ap);
}

/* e->details, created on first use; NULL only when out of memory. */
static kj *details_object(kapi_error *e)
{
  if (!e->details)
    e->details = kj_object();
  return e->details;
}

void kapi_error_details(kapi_error *e, const char *name, const char *group,
                        const char *kind)
{
  kj *d = details_object(e);

  if (!d)
    return;
  /* Allocation failures leave a member unset; nothing better to do in
   * an error path that has no error channel of its own. */
  if (name)
    kj_set_str(d, "name", name);
  if (group)
    kj_set_str(d, "group", group);
  if (kind)
    kj_set_str(d, "kind", kind);
}

/* Sets key to s unless s is NULL or empty (Go's omitempty). */
static int set_nonempty(kj *obj, const char *key, const char *s)
{
  return s && *s ? kj_set_str(obj, key, s) : 0;
}

void kapi_error_add_cause(kapi_error *e, const char *reason,
                          const char *message, const char *field)
{
  kj *d = details_object(e), *causes, *cause;

  if (!d)
    return;
  causes = kj_get(d, "causes");
  if (!causes) {
    if (kj_set(d, "causes", kj_array()) < 0)
      return;
    causes = kj_get(d, "causes");
  }
  cause = kj_object();
  if (!cause)
    return;
  /* Member order is StatusCause's: reason, message, field. */
  if (set_nonempty(cause, "reason", reason) < 0 ||
      set_nonempty(cause, "message", message) < 0 ||
      set_nonempty(cause, "field", field) < 0) {
    kj_free(cause);
    return;
  }
  kj_append(causes, cause);
}

/* ------------------------------------------------------------------ */
/* Upstream's builders. */

/* schema.GroupResource/GroupKind String(): "name" or "name.group". */
static void put_qualified(struct kapi__sbuf *b, const char *name,
                          const char *group)
{
  kapi__sb_puts(b, name ? name : "");
  if (group && *group) {
    kapi__sb_putc(b, '.');
    kapi__sb_puts(b, group);
  }
}

/* "<resource>[.<group>] "<name>"<tail>" with its details; the shape of
 * NotFound, AlreadyExists and Conflict. */
static void resource_error(kapi_error *e, int code, const char *reason,
                           const char *group, const char *resource,
                           const char *name, const char *head,
                           const char *tail)
{
  struct kapi__sbuf b = {0};

  kapi__sb_puts(&b, head);
  put_qualified(&b, resource, group);
  kapi__sb_putc(&b, ' ');
  kapi__go_quote(&b, name ? name : "");
  kapi__sb_puts(&b, tail);
  error_set(e, code, reason, kapi__sb_take(&b));
  kapi_error_details(e, name, group, resource);
}

void kapi_error_not_found(kapi_error *e, const char *group,
                          const char *resource, const char *name)
{
  resource_error(e, 404, "NotFound", group, resource, name, "",
                 " not found");
}

void kapi_error_already_exists(kapi_error *e, const char *group,
                               const char *resource, const char *name)
{
  resource_error(e, 409, "AlreadyExists", group, resource, name, "",
                 " already exists");
}

void kapi_error_conflict(kapi_error *e, const char *group,
                         const char *resource, const char *name,
                         const char *cause)
{
  struct kapi__sbuf tail = {0};

  kapi__sb_puts(&tail, ": ");
  kapi__sb_puts(&tail, cause ? cause : "");
  resource_error(e, 409, "Conflict", group, resource, name,
                 "Operation cannot be fulfilled on ", kapi__sb_str(&tail));
  kapi__sb_free(&tail);
}

void kapi_error_bad_request(kapi_error *e, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  kapi_error_vsetf(e, 400, "BadRequest", fmt, ap);
  va_end(ap);
}

void kapi_error_internal(kapi_error *e, const char *fmt, ...)
{
  struct kapi__sbuf cause = {0}, msg = {0};
  va_list ap;

  va_start(ap, fmt);
  kapi__sb_vprintf(&cause, fmt, ap);
  va_end(ap);
  kapi__sb_printf(&msg, "Internal error occurred: %s", kapi__sb_str(&cause));
  error_set(e, 500, "InternalError", kapi__sb_take(&msg));
  /* NewInternalError keeps the bare error as the only cause. */
  kapi_error_add_cause(e, NULL, kapi__sb_str(&cause), NULL);
  kapi__sb_free(&cause);
}

/* `resource` may carry its group ("replicasets.apps"); resource names
 * never contain dots, so the first one separates the two. */
void kapi_error_method_not_allowed(kapi_error *e, const char *verb,
                                   const char *resource)
{
  struct kapi__sbuf b = {0};
  const char *res = resource ? resource : "";
  const char *dot = strchr(res, '.');
  char *plural;

  kapi__sb_printf(&b, "%s is not supported on resources of kind ",
                  verb ? verb : "");
  kapi__go_quote(&b, res);
  error_set(e, 405, "MethodNotAllowed", kapi__sb_take(&b));
  plural = strndup(res, dot ? (size_t)(dot - res) : strlen(res));
  if (plural)
    kapi_error_details(e, NULL, dot ? dot + 1 : NULL, plural);
  free(plural);
}

/* ------------------------------------------------------------------ */
/* Field errors (field.Error) and 422 Invalid. */

static const struct {
  const char *type;
  const char *text;
  int shows_value; /* Error() prints the bad value */
} error_types[] = {
  {"FieldValueNotFound", "Not found", 1},
  {"FieldValueRequired", "Required value", 0},
  {"FieldValueDuplicate", "Duplicate value", 1},
  {"FieldValueInvalid", "Invalid value", 1},
  {"FieldValueNotSupported", "Unsupported value", 1},
  {"FieldValueForbidden", "Forbidden", 0},
  {"FieldValueTooLong", "Too long", 0},
  {"FieldValueTooMany", "Too many", 1},
  {"FieldValueTooFew", "Too few", 1},
  {"InternalError", "Internal error", 0},
  {"FieldValueTypeInvalid", "Invalid value", 1},
  {"FieldValueTooShort", "Too short", 0},
};

/* How field.Error prints a bad value: strings with %q, numbers and
 * booleans with %v, anything else as JSON. */
static void put_bad_value(struct kapi__sbuf *b, const kj *v)
{
  if (v->type == KJ_STRING)
    kapi__go_quote_n(b, v->u.str.s, v->u.str.len);
  else
    go_json_value(b, v);
}

/*
 * field.Error.ErrorBody(): the type's text, the bad value when the
 * type shows one and the caller gave one, then ": <detail>".
 */
static void put_error_body(struct kapi__sbuf *b, const kj *fe)
{
  const char *type = kj_get_str(fe, "type");
  const char *detail = kj_get_str(fe, "detail");
  const kj *bad = kj_get(fe, "badValue");
  size_t i, n = sizeof error_types / sizeof error_types[0];

  for (i = 0; i < n; i++)
    if (type && strcmp(type, error_types[i].type) == 0)
      break;
  if (i == n) {
    /* What upstream prints for a type it does not know. */
    kapi__sb_printf(b, "Internal error: unhandled error code: %s: please "
                    "report this", type ? type : "");
  } else {
    kapi__sb_puts(b, error_types[i].text);
    if (error_types[i].shows_value && bad) {
      kapi__sb_puts(b, ": ");
      put_bad_value(b, bad);
    }
  }
  if (detail && *detail) {
    kapi__sb_puts(b, ": ");
    kapi__sb_puts(b, detail);
  }
}

int kapi_field_error(kj *errs, const char *field, const char *type,
                     const char *bad_value_json, const char *detail)
{
  char perr[128];
  kj *fe, *bad = NULL;
  int rc;

  if (!errs || errs->type != KJ_ARRAY)
    return -EINVAL;
  if (bad_value_json) {
    rc = kj_parse(bad_value_json, strlen(bad_value_json), &bad, perr,
                  sizeof perr);
    if (rc < 0)
      return rc;
  }
  fe = kj_object();
  if (!fe) {
    kj_free(bad);
    return -ENOMEM;
  }
  rc = kj_set_str(fe, "field", field ? field : "");
  if (rc == 0)
    rc = kj_set_str(fe, "type", type ? type : "");
  if (rc == 0 && bad) {
    rc = kj_set(fe, "badValue", bad);
    bad = NULL; /* owned by fe now, or freed by kj_set */
  }
  if (rc == 0)
    rc = kj_set_str(fe, "detail", detail ? detail : "");
  kj_free(bad);
  if (rc < 0) {
    kj_free(fe);
    return rc;
  }
  return kj_append(errs, fe);
}

/* field.Error.Error(): "<field>: <body>".  Newly allocated. */
static char *field_error_text(const kj *fe)
{
  struct kapi__sbuf b = {0};
  const char *field = kj_get_str(fe, "field");

  kapi__sb_puts(&b, field ? field : "");
  kapi__sb_puts(&b, ": ");
  put_error_body(&b, fe);
  return kapi__sb_take(&b);
}

/*
 * ErrorList.ToAggregate().Error(): the distinct messages in order,
 * joined by ", " and bracketed when there are several.
 */
static void put_aggregate(struct kapi__sbuf *out, const kj *errs)
{
  size_t n = kj_len(errs), i, j, distinct = 0;
  char **texts = calloc(n ? n : 1, sizeof *texts);
  struct kapi__sbuf joined = {0};

  if (!texts) {
    out->oom = 1;
    return;
  }
  for (i = 0; i < n; i++) {
    texts[i] = field_error_text(kj_at(errs, i));
    if (!texts[i]) {
      joined.oom = 1;
      break;
    }
    for (j = 0; j < i && strcmp(texts[j], texts[i]) != 0; j++)
      ;
    if (j < i)
      continue; /* seen already */
    if (distinct++)
      kapi__sb_puts(&joined, ", ");
    kapi__sb_puts(&joined, texts[i]);
  }
  if (distinct > 1)
    kapi__sb_putc(out, '[');
  kapi__sb_puts(out, kapi__sb_str(&joined));
  if (distinct > 1)
    kapi__sb_putc(out, ']');
  if (joined.oom)
    out->oom = 1;
  kapi__sb_free(&joined);
  for (i = 0; i < n; i++)
    free(texts[i]);
  free(texts);
}

void kapi_error_invalid(kapi_error *e, const char *group, const char *kind,
                        const char *name, const kj *field_errors)
{
  struct kapi__sbuf msg = {0}, body = {0};
  size_t i, n = kj_len(field_errors);
  const kj *fe;

  put_qualified(&msg, kind, group);
  kapi__sb_putc(&msg, ' ');
  kapi__go_quote(&msg, name ? name : "");
  kapi__sb_puts(&msg, " is invalid");
  if (n) {
    kapi__sb_puts(&msg, ": ");
    put_aggregate(&msg, field_errors);
  }
  error_set(e, 422, "Invalid", kapi__sb_take(&msg));
  kapi_error_details(e, name, group, kind);

  /* Every error becomes a cause, duplicates included, as upstream. */
  for (i = 0; i < n; i++) {
    fe = kj_at(field_errors, i);
    kapi__sb_reset(&body);
    put_error_body(&body, fe);
    kapi_error_add_cause(e, kj_get_str(fe, "type"), kapi__sb_str(&body),
                         kj_get_str(fe, "field"));
  }
  kapi__sb_free(&body);
}

/* ------------------------------------------------------------------ */
/* The Status object. */

/* Go's omitempty: which member values are left out of the JSON. */
static int is_empty_member(const kj *v)
{
  int64_t num;

  return !v || v->type == KJ_NULL ||
         (v->type == KJ_STRING && v->u.str.len == 0) ||
         (v->type == KJ_ARRAY && kj_len(v) == 0) ||
         (v->type == KJ_NUMBER && kj_to_int(v, &num) == 0 && num == 0);
}

/* Index of key in StatusDetails' member order, or -1. */
static int details_rank(const char *key)
{
  static const char *const order[] = {"name", "group", "kind", "uid",
                                      "causes", "retryAfterSeconds"};
  int i;

  for (i = 0; i < (int)(sizeof order / sizeof order[0]); i++)
    if (strcmp(key, order[i]) == 0)
      return i;
  return -1;
}

/*
 * Copies d in StatusDetails' member order without empty members;
 * members kapi does not know go last.  *ret is NULL when nothing is
 * left.  0 or -ENOMEM.
 */
static int details_for_status(const kj *d, kj **ret)
{
  size_t n = kj_len(d), i;
  int rank, want;
  kj *out = kj_object();

  *ret = NULL;
  if (!out)
    return -ENOMEM;
  /* Pass `want` = 0..5 places the known members, -1 the others. */
  for (want = 0; want <= 6; want++) {
    for (i = 0; i < n; i++) {
      rank = details_rank(kj_key_at(d, i));
      if (rank != (want == 6 ? -1 : want) || is_empty_member(kj_at(d, i)))
        continue;
      if (kj_set(out, kj_key_at(d, i), kj_clone(kj_at(d, i))) < 0) {
        kj_free(out);
        return -ENOMEM;
      }
    }
  }
  if (kj_len(out) == 0)
    kj_free(out);
  else
    *ret = out;
  return 0;
}

kj *kapi_error_to_status(const kapi_error *e)
{
  kj *st = kj_object(), *details = NULL;
  int rc;

  if (!st)
    return NULL;
  rc = kj_set_str(st, "kind", "Status");
  if (rc == 0)
    rc = kj_set_str(st, "apiVersion", "v1");
  if (rc == 0)
    rc = kj_set(st, "metadata", kj_object());
  if (rc == 0)
    rc = kj_set_str(st, "status", "Failure");
  if (rc == 0)
    rc = set_nonempty(st, "message", e->message);
  if (rc == 0)
    rc = set_nonempty(st, "reason", e->reason);
  if (rc == 0)
    rc = details_for_status(e->details, &details);
  if (rc == 0 && details)
    rc = kj_set(st, "details", details);
  if (rc == 0 && e->code)
    rc = kj_set_int(st, "code", e->code);
  if (rc < 0) {
    kj_free(st);
    return NULL;
  }
  return st;
}
