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

#include "status.h"

/* ------------------------------------------------------------------ */
/* Growable string buffer; out-of-memory is sticky, checked once. */

struct sbuf {
  char *s;
  size_t len, cap;
  int oom;
};

static void sb_reserve(struct sbuf *b, size_t extra)
{
  size_t want;
  char *p;

  if (b->oom)
    return;
  want = b->len + extra + 1;
  if (want <= b->cap)
    return;
  if (want < 64)
    want = 64;
  if (want < b->cap * 2)
    want = b->cap * 2;
  p = realloc(b->s, want);
  if (!p) {
    b->oom = 1;
    return;
  }
  b->s = p;
  b->cap = want;
}

static void sb_putn(struct sbuf *b, const char *s, size_t n)
{
  sb_reserve(b, n);
  if (b->oom)
    return;
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s) { sb_putn(b, s, strlen(s)); }
static void sb_putc(struct sbuf *b, char c) { sb_putn(b, &c, 1); }

static void sb_vprintf(struct sbuf *b, const char *fmt, va_list ap)
{
  va_list copy;
  int n;

  va_copy(copy, ap);
  n = vsnprintf(NULL, 0, fmt, copy);
  va_end(copy);
  if (n < 0) {
    b->oom = 1;
    return;
  }
  sb_reserve(b, (size_t)n);
  if (b->oom)
    return;
  vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
}

static void sb_printf(struct sbuf *b, const char *fmt, ...) KAPI_PRINTF(2, 3);
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  sb_vprintf(b, fmt, ap);
  va_end(ap);
}

static const char *sb_str(const struct sbuf *b) { return b->s ? b->s : ""; }
static void sb_free(struct sbuf *b) { free(b->s); memset(b, 0, sizeof *b); }

/* Hands the text over to the caller (NULL when out of memory). */
static char *sb_take(struct sbuf *b)
{
  char *s;

  if (b->oom) {
    sb_free(b);
    return NULL;
  }
  s = b->s ? b->s : strdup("");
  memset(b, 0, sizeof *b);
  return s;
}

/* ------------------------------------------------------------------ */
/* Go's formatting of strings: %q (strconv.Quote) and encoding/json. */

/* One UTF-8 sequence as Go's range loop decodes it: the width, or 1
 * with U+FFFD for an invalid byte. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *r)
{
  uint32_t c = s[0], min;
  size_t w, i;

  if (c < 0x80) {
    *r = c;
    return 1;
  }
  if (c >= 0xc2 && c <= 0xdf) {
    w = 2, c &= 0x1f, min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    w = 3, c &= 0x0f, min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    w = 4, c &= 0x07, min = 0x10000;
  } else {
    goto bad;
  }
  if (w > n)
    goto bad;
  for (i = 1; i < w; i++) {
    if ((s[i] & 0xc0) != 0x80)
      goto bad;
    c = (c << 6) | (s[i] & 0x3f);
  }
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
    goto bad;
  *r = c;
  return w;
bad:
  *r = 0xfffd;
  return 1;
}

/* strconv.IsPrint, approximated: every non-ASCII rune prints except
 * the controls, spaces, format characters, private-use areas and
 * non-characters that Go's Unicode tables exclude. */
static int go_is_print(uint32_t r)
{
  if (r < 0x80)
    return r >= 0x20 && r < 0x7f;
  if (r <= 0xa0 || r == 0xad || r == 0x1680 || r == 0x3000 || r == 0xfeff)
    return 0;
  if ((r >= 0x2000 && r <= 0x200f) || (r >= 0x2028 && r <= 0x202f) ||
      (r >= 0x205f && r <= 0x206f) || (r >= 0xe000 && r <= 0xf8ff) ||
      (r >= 0xfff0 && r <= 0xfffb) || (r & 0xfffe) == 0xfffe)
    return 0;
  if (r >= 0xe0000) /* tags and private use; variation selectors print */
    return r >= 0xe0100 && r <= 0xe01ef;
  return 1;
}

/* %q of the n bytes at s (JSON strings may hold NULs). */
static void go_quote_n(struct sbuf *b, const char *s, size_t n)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t w;
  uint32_t r;

  sb_putc(b, '"');
  while (n > 0) {
    w = utf8_decode(p, n, &r);
    if (r == 0xfffd && w == 1) {
      sb_printf(b, "\\x%02x", p[0]);
    } else if (r == '"' || r == '\\') {
      sb_putc(b, '\\');
      sb_putc(b, (char)r);
    } else if (go_is_print(r)) {
      sb_putn(b, (const char *)p, w);
    } else {
      switch (r) {
      case '\a': sb_puts(b, "\\a"); break;
      case '\b': sb_puts(b, "\\b"); break;
      case '\f': sb_puts(b, "\\f"); break;
      case '\n': sb_puts(b, "\\n"); break;
      case '\r': sb_puts(b, "\\r"); break;
      case '\t': sb_puts(b, "\\t"); break;
      case '\v': sb_puts(b, "\\v"); break;
      default:
        if (r < 0x20 || r == 0x7f)
          sb_printf(b, "\\x%02x", (unsigned)r);
        else if (r < 0x10000)
          sb_printf(b, "\\u%04x", (unsigned)r);
        else
          sb_printf(b, "\\U%08x", (unsigned)r);
      }
    }
    p += w;
    n -= w;
  }
  sb_putc(b, '"');
}

static void go_quote(struct sbuf *b, const char *s)
{
  go_quote_n(b, s, strlen(s));
}

/* The n bytes at s as encoding/json writes a string (HTML-safe). */
static void go_json_string(struct sbuf *b, const char *s, size_t n)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t w;
  uint32_t r;

  sb_putc(b, '"');
  while (n > 0) {
    w = utf8_decode(p, n, &r);
    if (r == 0xfffd && w == 1)
      sb_puts(b, "\\ufffd");
    else if (r == '"' || r == '\\')
      sb_printf(b, "\\%c", (char)r);
    else if (r == '\n')
      sb_puts(b, "\\n");
    else if (r == '\r')
      sb_puts(b, "\\r");
    else if (r == '\t')
      sb_puts(b, "\\t");
    else if (r == '\b')
      sb_puts(b, "\\b");
    else if (r == '\f')
      sb_puts(b, "\\f");
    else if (r < 0x20 || r == '<' || r == '>' || r == '&' || r == 0x2028 ||
             r == 0x2029)
      sb_printf(b, "\\u%04x", (unsigned)r);
    else
      sb_putn(b, (const char *)p, w);
    p += w;
    n -= w;
  }
  sb_putc(b, '"');
}

/* json.Marshal of a value.  Object members keep their order (Go sorts
 * map keys but not struct fields; the DOM cannot tell them apart). */
static void go_json_value(struct sbuf *b, const kj *v)
{
  size_t i;

  switch (v->type) {
  case KJ_NULL:
    sb_puts(b, "null");
    break;
  case KJ_BOOL:
    sb_puts(b, v->u.boolean ? "true" : "false");
    break;
  case KJ_NUMBER:
    sb_puts(b, v->u.str.s);
    break;
  case KJ_STRING:
    go_json_string(b, v->u.str.s, v->u.str.len);
    break;
  case KJ_ARRAY:
    sb_putc(b, '[');
    for (i = 0; i < kj_len(v); i++) {
      if (i)
        sb_putc(b, ',');
      go_json_value(b, kj_at(v, i));
    }
    sb_putc(b, ']');
    break;
  case KJ_OBJECT:
    sb_putc(b, '{');
    for (i = 0; i < kj_len(v); i++) {
      if (i)
        sb_putc(b, ',');
      go_json_string(b, kj_key_at(v, i), strlen(kj_key_at(v, i)));
      sb_putc(b, ':');
      go_json_value(b, kj_at(v, i));
    }
    sb_putc(b, '}');
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
  struct sbuf b = {0};

  sb_vprintf(&b, fmt, ap);
  error_set(e, code, reason, sb_take(&b));
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
static void put_qualified(struct sbuf *b, const char *name, const char *group)
{
  sb_puts(b, name ? name : "");
  if (group && *group) {
    sb_putc(b, '.');
    sb_puts(b, group);
  }
}

/* "<resource>[.<group>] "<name>"<tail>" with its details; the shape of
 * NotFound, AlreadyExists and Conflict. */
static void resource_error(kapi_error *e, int code, const char *reason,
                           const char *group, const char *resource,
                           const char *name, const char *head,
                           const char *tail)
{
  struct sbuf b = {0};

  sb_puts(&b, head);
  put_qualified(&b, resource, group);
  sb_putc(&b, ' ');
  go_quote(&b, name ? name : "");
  sb_puts(&b, tail);
  error_set(e, code, reason, sb_take(&b));
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
  struct sbuf tail = {0};

  sb_puts(&tail, ": ");
  sb_puts(&tail, cause ? cause : "");
  resource_error(e, 409, "Conflict", group, resource, name,
                 "Operation cannot be fulfilled on ", sb_str(&tail));
  sb_free(&tail);
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
  struct sbuf cause = {0}, msg = {0};
  va_list ap;

  va_start(ap, fmt);
  sb_vprintf(&cause, fmt, ap);
  va_end(ap);
  sb_printf(&msg, "Internal error occurred: %s", sb_str(&cause));
  error_set(e, 500, "InternalError", sb_take(&msg));
  /* NewInternalError keeps the bare error as the only cause. */
  kapi_error_add_cause(e, NULL, sb_str(&cause), NULL);
  sb_free(&cause);
}

/* `resource` may carry its group ("replicasets.apps"); resource names
 * never contain dots, so the first one separates the two. */
void kapi_error_method_not_allowed(kapi_error *e, const char *verb,
                                   const char *resource)
{
  struct sbuf b = {0};
  const char *res = resource ? resource : "";
  const char *dot = strchr(res, '.');
  char *plural;

  sb_printf(&b, "%s is not supported on resources of kind ",
            verb ? verb : "");
  go_quote(&b, res);
  error_set(e, 405, "MethodNotAllowed", sb_take(&b));
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
static void put_bad_value(struct sbuf *b, const kj *v)
{
  if (v->type == KJ_STRING)
    go_quote_n(b, v->u.str.s, v->u.str.len);
  else
    go_json_value(b, v);
}

/*
 * field.Error.ErrorBody(): the type's text, the bad value when the
 * type shows one and the caller gave one, then ": <detail>".
 */
static void put_error_body(struct sbuf *b, const kj *fe)
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
    sb_printf(b, "Internal error: unhandled error code: %s: please report "
              "this", type ? type : "");
  } else {
    sb_puts(b, error_types[i].text);
    if (error_types[i].shows_value && bad) {
      sb_puts(b, ": ");
      put_bad_value(b, bad);
    }
  }
  if (detail && *detail) {
    sb_puts(b, ": ");
    sb_puts(b, detail);
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
  struct sbuf b = {0};
  const char *field = kj_get_str(fe, "field");

  sb_puts(&b, field ? field : "");
  sb_puts(&b, ": ");
  put_error_body(&b, fe);
  return sb_take(&b);
}

/*
 * ErrorList.ToAggregate().Error(): the distinct messages in order,
 * joined by ", " and bracketed when there are several.
 */
static void put_aggregate(struct sbuf *out, const kj *errs)
{
  size_t n = kj_len(errs), i, j, distinct = 0;
  char **texts = calloc(n ? n : 1, sizeof *texts);
  struct sbuf joined = {0};

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
      sb_puts(&joined, ", ");
    sb_puts(&joined, texts[i]);
  }
  if (distinct > 1)
    sb_putc(out, '[');
  sb_puts(out, sb_str(&joined));
  if (distinct > 1)
    sb_putc(out, ']');
  if (joined.oom)
    out->oom = 1;
  sb_free(&joined);
  for (i = 0; i < n; i++)
    free(texts[i]);
  free(texts);
}

void kapi_error_invalid(kapi_error *e, const char *group, const char *kind,
                        const char *name, const kj *field_errors)
{
  struct sbuf msg = {0}, body = {0};
  size_t i, n = kj_len(field_errors);
  const kj *fe;

  put_qualified(&msg, kind, group);
  sb_putc(&msg, ' ');
  go_quote(&msg, name ? name : "");
  sb_puts(&msg, " is invalid");
  if (n) {
    sb_puts(&msg, ": ");
    put_aggregate(&msg, field_errors);
  }
  error_set(e, 422, "Invalid", sb_take(&msg));
  kapi_error_details(e, name, group, kind);

  /* Every error becomes a cause, duplicates included, as upstream. */
  for (i = 0; i < n; i++) {
    fe = kj_at(field_errors, i);
    body.len = 0;
    put_error_body(&body, fe);
    kapi_error_add_cause(e, kj_get_str(fe, "type"), sb_str(&body),
                         kj_get_str(fe, "field"));
  }
  sb_free(&body);
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
