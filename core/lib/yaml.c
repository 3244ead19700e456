/*
 * yaml.c - YAML to kj with libyaml's event parser.
 *
 * The result is what Kubernetes gets from sigs.k8s.io/yaml (go-yaml v2
 * decoding into interface{}, then encoding/json): plain scalars are
 * typed with the YAML 1.1 rules (y/yes/on/true... are booleans, ~ and
 * null are null, 0x1F/0o17/017/0b101 are integers, 1.0 is a float that
 * JSON prints as 1), quoted and block scalars stay strings, map keys are
 * turned into strings the way sigs.k8s.io/yaml does, and "<<" merges.
 * Objects keep the document's key order (kj keeps insertion order; Go
 * would sort them, which JSON consumers never depend on).
 *
 * The tree is built directly from the events with an explicit stack, so
 * nesting depth costs heap, not C stack; anchors keep a private copy of
 * their value because a later duplicate key may free the original.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h> /* libyaml's; ours is kyaml.h */

#include "kyaml.h"

#define MAX_DEPTH 10000
#define TAG_PREFIX "tag:yaml.org,2002:"

/* ---- scalar resolution (go-yaml v2's resolve) ---------------------------- */

typedef enum rkind { R_NULL, R_BOOL, R_INT, R_UINT, R_FLOAT, R_STR,
                     R_MERGE } rkind;

typedef struct resolved {
  rkind kind;
  int b;
  int64_t i;
  uint64_t u;
  double f;
} resolved;

/* Explicit tags that take part in resolution; anything else ("!foo")
 * leaves the scalar a string, as go-yaml does. */
typedef enum tkind { T_NONE, T_STR, T_BOOL, T_INT, T_FLOAT, T_NULL,
                     T_TIMESTAMP, T_BINARY, T_MERGE, T_OTHER } tkind;

static tkind tag_kind(const char *tag)
{
  static const struct { const char *name; tkind k; } known[] = {
      {"str", T_STR},     {"bool", T_BOOL},           {"int", T_INT},
      {"float", T_FLOAT}, {"null", T_NULL},           {"binary", T_BINARY},
      {"merge", T_MERGE}, {"timestamp", T_TIMESTAMP},
  };
  size_t i;

  if (!tag)
    return T_NONE;
  if (strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) != 0)
    return T_OTHER;
  tag += strlen(TAG_PREFIX);
  for (i = 0; i < sizeof known / sizeof known[0]; i++)
    if (!strcmp(tag, known[i].name))
      return known[i].k;
  return T_OTHER;
}

static const char *rkind_tag(rkind k)
{
  switch (k) {
  case R_NULL: return "!!null";
  case R_BOOL: return "!!bool";
  case R_INT:
  case R_UINT: return "!!int";
  case R_FLOAT: return "!!float";
  case R_MERGE: return "!!merge";
  default: return "!!str";
  }
}

static int in_list(const char *s, const char *const *list)
{
  for (; *list; list++)
    if (!strcmp(s, *list))
      return 1;
  return 0;
}

/* The fixed words of YAML 1.1 (go-yaml's resolve map). */
static int resolve_word(const char *s, resolved *r)
{
  static const char *const yes[] = {"y", "Y", "yes", "Yes", "YES", "true",
                                    "True", "TRUE", "on", "On", "ON", NULL};
  static const char *const no[] = {"n", "N", "no", "No", "NO", "false",
                                   "False", "FALSE", "off", "Off", "OFF",
                                   NULL};
  static const char *const nul[] = {"", "~", "null", "Null", "NULL", NULL};
  static const char *const nan[] = {".nan", ".NaN", ".NAN", NULL};
  static const char *const inf[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf",
                                    "+.INF", NULL};
  static const char *const ninf[] = {"-.inf", "-.Inf", "-.INF", NULL};

  if (in_list(s, yes) || in_list(s, no)) {
    r->kind = R_BOOL;
    r->b = in_list(s, yes);
  } else if (in_list(s, nul)) {
    r->kind = R_NULL;
  } else if (in_list(s, nan)) {
    r->kind = R_FLOAT;
    r->f = NAN;
  } else if (in_list(s, inf) || in_list(s, ninf)) {
    r->kind = R_FLOAT;
    r->f = in_list(s, inf) ? INFINITY : -INFINITY;
  } else if (!strcmp(s, "<<")) {
    r->kind = R_MERGE;
  } else {
    return 0;
  }
  return 1;
}

static int digit_value(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z')
    return c - 'A' + 10;
  return 99;
}

/* Unsigned digits in a base, all of s; -ERANGE past 2^64-1. */
static int parse_digits(const char *s, int base, uint64_t *ret)
{
  uint64_t v = 0;

  if (!*s)
    return -EINVAL;
  for (; *s; s++) {
    int d = digit_value(*s);
    if (d >= base)
      return -EINVAL;
    if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
      return -ERANGE;
    v = v * (uint64_t)base + (uint64_t)d;
  }
  *ret = v;
  return 0;
}

/* Go's strconv.ParseUint(s, 0, 64) without the sign: 0x, 0o, 0b
 * prefixes, a leading 0 meaning octal. */
static int parse_base0(const char *s, uint64_t *ret)
{
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
    return parse_digits(s + 2, 16, ret);
  if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
    return parse_digits(s + 2, 8, ret);
  if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
    return parse_digits(s + 2, 2, ret);
  if (s[0] == '0' && s[1])
    return parse_digits(s + 1, 8, ret);
  return parse_digits(s, 10, ret);
}

/* strconv.ParseInt(s, 0, 64): an optional sign, then parse_base0. */
static int parse_int(const char *s, int64_t *ret)
{
  int neg = 0;
  uint64_t u;

  if (*s == '+' || *s == '-')
    neg = *s++ == '-';
  if (parse_base0(s, &u) < 0)
    return -EINVAL;
  if (!neg && u > (uint64_t)INT64_MAX)
    return -ERANGE;
  if (neg && u > (uint64_t)INT64_MAX + 1)
    return -ERANGE;
  *ret = neg ? (int64_t)(0 - u) : (int64_t)u;
  return 0;
}

/* ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static int yaml_style_float(const char *s)
{
  size_t n;

  if (*s == '+' || *s == '-')
    s++;
  if (*s == '.') {
    n = strspn(++s, "0123456789");
    if (!n)
      return 0;
    s += n;
  } else {
    n = strspn(s, "0123456789");
    if (!n)
      return 0;
    s += n;
    if (*s == '.')
      s += 1 + strspn(s + 1, "0123456789");
  }
  if (*s == 'e' || *s == 'E') {
    s++;
    if (*s == '+' || *s == '-')
      s++;
    n = strspn(s, "0123456789");
    if (!n)
      return 0;
    s += n;
  }
  return *s == '\0';
}

/* strconv.ParseFloat on a string already known to be decimal: fails on
 * overflow only (underflow gives 0 as in Go). */
static int parse_float(const char *s, double *ret)
{
  char *end;
  double v = strtod(s, &end);

  if (*end || isinf(v))
    return -ERANGE;
  *ret = v;
  return 0;
}

static void resolve_number(const char *in, resolved *r)
{
  char *plain = malloc(strlen(in) + 1);
  const char *p;
  char *q;

  r->kind = R_STR;
  if (!plain)
    return;
  /* go-yaml drops every underscore before trying the number forms. */
  for (p = in, q = plain; *p; p++)
    if (*p != '_')
      *q++ = *p;
  *q = '\0';
  if (parse_int(plain, &r->i) == 0) {
    r->kind = R_INT;
  } else if (plain[0] != '+' && plain[0] != '-' &&
             parse_base0(plain, &r->u) == 0) {
    r->kind = R_UINT;
  } else if (yaml_style_float(plain) && parse_float(plain, &r->f) == 0) {
    r->kind = R_FLOAT;
  } else if (!strncmp(plain, "-0b", 3)) {
    uint64_t u;
    if (parse_digits(plain + 3, 2, &u) == 0 && u <= (uint64_t)INT64_MAX + 1) {
      r->kind = R_INT;
      r->i = (int64_t)(0 - u);
    }
  }
  free(plain);
}

/* Types a scalar's text as go-yaml does for an untagged plain scalar or
 * one with an explicit core tag. */
static void resolve_scalar(const char *in, tkind tag, resolved *r)
{
  char hint;

  r->kind = R_STR;
  if (tag == T_STR || tag == T_BINARY || tag == T_OTHER)
    return;
  hint = in[0] == '\0' ? 'N' : in[0];
  if (resolve_word(in, r))
    return;
  if (hint == '.') {
    double f;
    if (yaml_style_float(in) && parse_float(in, &f) == 0) {
      r->kind = R_FLOAT;
      r->f = f;
    }
  } else if ((hint >= '0' && hint <= '9') || hint == '+' || hint == '-') {
    resolve_number(in, r);
  }
}

/* ---- number formatting (Go's strconv shortest forms) --------------------- */

/* The shortest decimal digits that read back as v (as a float32 when
 * single is set): digits without a point, and dp, the position of the
 * decimal point relative to them (v = 0.DIGITS x 10^dp). */
static void shortest_digits(double v, int single, char *digits, int *dp)
{
  char buf[64];
  int p, maxp = single ? 9 : 17;
  char *e, *d;

  for (p = 1; p <= maxp; p++) {
    snprintf(buf, sizeof buf, "%.*e", p - 1, v);
    if (single ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v)
      break;
  }
  if (p > maxp)
    snprintf(buf, sizeof buf, "%.*e", maxp - 1, v);
  e = strchr(buf, 'e');
  *dp = atoi(e + 1) + 1;
  for (d = buf; d < e; d++)
    if (*d >= '0' && *d <= '9')
      *digits++ = *d;
  *digits = '\0';
}

static void append(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void append(char *out, size_t outlen, const char *fmt, ...)
{
  size_t n = strlen(out);
  va_list ap;

  if (n >= outlen)
    return;
  va_start(ap, fmt);
  vsnprintf(out + n, outlen - n, fmt, ap);
  va_end(ap);
}

/* %e with the digits given: d.ddde+XX (at least two exponent digits). */
static void format_e(const char *digits, int dp, char *out, size_t outlen)
{
  int exp = dp - 1;

  append(out, outlen, "%c", digits[0]);
  if (digits[1])
    append(out, outlen, ".%s", digits + 1);
  append(out, outlen, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
}

/* %f with exactly the digits given. */
static void format_f(const char *digits, int dp, char *out, size_t outlen)
{
  int nd = (int)strlen(digits), i;

  if (dp <= 0) {
    append(out, outlen, "0");
  } else {
    for (i = 0; i < dp; i++)
      append(out, outlen, "%c", i < nd ? digits[i] : '0');
  }
  if (nd > dp) {
    append(out, outlen, ".");
    for (i = dp; i < nd; i++)
      append(out, outlen, "%c", i < 0 ? '0' : digits[i]);
  }
}

/* encoding/json's float64 text: shortest digits, %f between 1e-6 and
 * 1e21, %e outside with "e-07" shortened to "e-7". */
static void format_json_float(double v, char *out, size_t outlen)
{
  char digits[32];
  int dp;
  double a = fabs(v);

  out[0] = '\0';
  if (signbit(v))
    append(out, outlen, "-");
  if (a == 0) {
    append(out, outlen, "0");
    return;
  }
  shortest_digits(a, 0, digits, &dp);
  if (a < 1e-6 || a >= 1e21) {
    size_t n;
    format_e(digits, dp, out, outlen);
    n = strlen(out);
    if (n >= 4 && out[n - 4] == 'e' && out[n - 3] == '-' && out[n - 2] == '0') {
      out[n - 2] = out[n - 1];
      out[n - 1] = '\0';
    }
  } else {
    format_f(digits, dp, out, outlen);
  }
}

/* strconv.FormatFloat(v, 'g', -1, 32), which sigs.k8s.io/yaml uses for
 * float map keys. */
static void format_key_float(double v, char *out, size_t outlen)
{
  char digits[32];
  int dp;

  out[0] = '\0';
  if (isnan(v)) {
    snprintf(out, outlen, ".nan");
    return;
  }
  if (isinf(v)) {
    snprintf(out, outlen, v > 0 ? ".inf" : "-.inf");
    return;
  }
  if (signbit(v))
    append(out, outlen, "-");
  if (v == 0) {
    append(out, outlen, "0");
    return;
  }
  shortest_digits(fabs(v), 1, digits, &dp);
  if (dp - 1 < -4 || dp - 1 >= 6)
    format_e(digits, dp, out, outlen);
  else
    format_f(digits, dp, out, outlen);
}

/* ---- the builder ---------------------------------------------------------- */

typedef struct anchor {
  char *name;
  unsigned long id; /* definition order: the latest definition wins */
  kj *value;        /* a private copy */
  size_t nodes;     /* kj nodes in value, for the aliasing budget */
} anchor;

typedef struct frame {
  kj *node;          /* an array or object under construction */
  char *key;         /* objects: the pending key, NULL when expecting one */
  int merge;         /* the pending key is "<<" */
  char *anchor;      /* this node's anchor, registered when it ends */
  unsigned long anchor_id;
  yaml_mark_t mark;
} frame;

typedef struct builder {
  frame *stack;
  size_t depth, cap;
  anchor *anchors;
  size_t nanchors, anchors_cap;
  unsigned long next_anchor_id;
  kj *root;
  int have_root;
  size_t decode_count, alias_count; /* go-yaml's aliasing budget */
  char *err;
  size_t errlen;
} builder;

static int fail(builder *b, const yaml_mark_t *m, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(builder *b, const yaml_mark_t *m, const char *fmt, ...)
{
  va_list ap;
  int n = 0;

  if (!b->err || !b->errlen)
    return -EINVAL;
  if (m)
    n = snprintf(b->err, b->errlen, "line %zu, column %zu: ", m->line + 1,
                 m->column + 1);
  if (n < 0 || (size_t)n >= b->errlen)
    return -EINVAL;
  va_start(ap, fmt);
  vsnprintf(b->err + n, b->errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return -EINVAL;
}

static size_t count_nodes(const kj *v)
{
  size_t n = 1, i;

  if (v->type == KJ_ARRAY || v->type == KJ_OBJECT)
    for (i = 0; i < kj_len(v); i++)
      n += count_nodes(kj_at(v, i));
  return n;
}

static void anchors_clear(builder *b)
{
  size_t i;

  for (i = 0; i < b->nanchors; i++) {
    free(b->anchors[i].name);
    kj_free(b->anchors[i].value);
  }
  b->nanchors = 0;
}

static void stack_clear(builder *b)
{
  while (b->depth > 0) {
    frame *f = &b->stack[--b->depth];
    kj_free(f->node);
    free(f->key);
    free(f->anchor);
  }
}

static void builder_reset(builder *b)
{
  stack_clear(b);
  anchors_clear(b);
  kj_free(b->root);
  b->root = NULL;
  b->have_root = 0;
  b->decode_count = b->alias_count = 0;
}

static int anchor_define(builder *b, const char *name, unsigned long id,
                         const kj *value)
{
  anchor *a;

  if (b->nanchors == b->anchors_cap) {
    size_t cap = b->anchors_cap ? b->anchors_cap * 2 : 8;
    anchor *p = realloc(b->anchors, cap * sizeof *p);
    if (!p)
      return -ENOMEM;
    b->anchors = p;
    b->anchors_cap = cap;
  }
  a = &b->anchors[b->nanchors];
  a->name = strdup(name);
  a->value = kj_clone(value);
  if (!a->name || !a->value) {
    free(a->name);
    kj_free(a->value);
    return -ENOMEM;
  }
  a->id = id;
  a->nodes = count_nodes(value);
  b->nanchors++;
  return 0;
}

/* The value an alias names, or NULL after setting the error. */
static const anchor *anchor_lookup(builder *b, const char *name,
                                   const yaml_mark_t *m)
{
  const anchor *best = NULL;
  unsigned long open_id = 0;
  size_t i;

  for (i = 0; i < b->nanchors; i++)
    if (!strcmp(b->anchors[i].name, name) &&
        (!best || b->anchors[i].id > best->id))
      best = &b->anchors[i];
  for (i = 0; i < b->depth; i++)
    if (b->stack[i].anchor && !strcmp(b->stack[i].anchor, name))
      open_id = b->stack[i].anchor_id;
  if (open_id && (!best || open_id > best->id)) {
    fail(b, m, "anchor '%s' value contains itself", name);
    return NULL;
  }
  if (!best)
    fail(b, m, "unknown anchor '%s' referenced", name);
  return best;
}

/* go-yaml's allowedAliasRatio: documents that are mostly alias
 * expansions ("billion laughs") are refused before they are built. */
static int alias_budget(builder *b, size_t nodes, const yaml_mark_t *m)
{
  double ratio, count;

  b->decode_count += nodes;
  b->alias_count += nodes;
  count = (double)b->decode_count;
  if (count <= 400000)
    ratio = 0.99;
  else if (count >= 4000000)
    ratio = 0.10;
  else
    ratio = 0.99 - 0.89 * ((count - 400000) / (4000000 - 400000));
  if (b->alias_count > 100 && b->decode_count > 1000 &&
      (double)b->alias_count / count > ratio)
    return fail(b, m, "document contains excessive aliasing");
  return 0;
}

/* Merges `src` (an object, or an array of objects where earlier ones
 * win) into obj; as in go-yaml v2, merged keys overwrite keys that came
 * before the "<<" and are overwritten by keys after it. */
static int merge_into(builder *b, kj *obj, const kj *src, const yaml_mark_t *m)
{
  size_t i, n;
  int r;

  if (src->type == KJ_ARRAY) {
    for (n = kj_len(src); n > 0; n--)
      if (kj_at(src, n - 1)->type != KJ_OBJECT)
        return fail(b, m,
                    "map merge requires map or sequence of maps as the value");
    for (n = kj_len(src); n > 0; n--)
      if ((r = merge_into(b, obj, kj_at(src, n - 1), m)) < 0)
        return r;
    return 0;
  }
  if (src->type != KJ_OBJECT)
    return fail(b, m, "map merge requires map or sequence of maps as the value");
  for (i = 0; i < kj_len(src); i++) {
    kj *v = kj_clone(kj_at(src, i));
    if (!v || (r = kj_set(obj, kj_key_at(src, i), v)) < 0)
      return fail(b, m, "out of memory");
  }
  return 0;
}

/* Adds a finished value to the innermost container (or makes it the
 * document's root).  Takes ownership of v. */
static int add_value(builder *b, kj *v, const char *anchor_name,
                     unsigned long anchor_id, const yaml_mark_t *m)
{
  frame *f;
  int r = 0;

  if (anchor_name && anchor_define(b, anchor_name, anchor_id, v) < 0) {
    kj_free(v);
    return fail(b, m, "out of memory");
  }
  if (b->depth == 0) {
    b->root = v;
    b->have_root = 1;
    return 0;
  }
  f = &b->stack[b->depth - 1];
  if (f->node->type == KJ_ARRAY) {
    r = kj_append(f->node, v);
  } else if (f->merge) {
    r = merge_into(b, f->node, v, m);
    kj_free(v);
    f->merge = 0;
    return r;
  } else {
    r = kj_set(f->node, f->key, v);
    free(f->key);
    f->key = NULL;
  }
  return r < 0 ? fail(b, m, "out of memory") : 0;
}

/* The JSON key for a resolved scalar, as sigs.k8s.io/yaml converts YAML
 * map keys; NULL (error set) for keys JSON cannot have. */
static char *key_string(builder *b, const resolved *r, const char *text,
                        const yaml_mark_t *m)
{
  char buf[64];

  switch (r->kind) {
  case R_STR:
  case R_MERGE:
    return strdup(text);
  case R_BOOL:
    return strdup(r->b ? "true" : "false");
  case R_INT:
    snprintf(buf, sizeof buf, "%" PRId64, r->i);
    return strdup(buf);
  case R_FLOAT:
    format_key_float(r->f, buf, sizeof buf);
    return strdup(buf);
  case R_UINT:
    fail(b, m, "unsupported map key of type uint64: %s", text);
    return NULL;
  case R_NULL:
    break;
  }
  fail(b, m, "unsupported map key of type <nil>");
  return NULL;
}

/* A JSON value for a resolved scalar; NULL (error set) for NaN/Inf. */
static kj *scalar_value(builder *b, const resolved *r, const char *text,
                        size_t len, const yaml_mark_t *m)
{
  char buf[64];

  switch (r->kind) {
  case R_NULL:
    return kj_null();
  case R_BOOL:
    return kj_bool(r->b);
  case R_INT:
    return kj_int(r->i);
  case R_UINT:
    snprintf(buf, sizeof buf, "%" PRIu64, r->u);
    return kj_number_text(buf);
  case R_FLOAT:
    if (isnan(r->f) || isinf(r->f)) {
      fail(b, m, "json: unsupported value: %s",
           isnan(r->f) ? "NaN" : r->f > 0 ? "+Inf" : "-Inf");
      return NULL;
    }
    format_json_float(r->f, buf, sizeof buf);
    return kj_number_text(buf);
  default:
    return kj_stringn(text, len);
  }
}

/* Is the innermost container an object waiting for a key? */
static frame *expecting_key(builder *b)
{
  frame *f;

  if (b->depth == 0)
    return NULL;
  f = &b->stack[b->depth - 1];
  return f->node->type == KJ_OBJECT && !f->key && !f->merge ? f : NULL;
}

static int on_scalar(builder *b, const yaml_event_t *ev)
{
  const char *text = (const char *)ev->data.scalar.value;
  size_t len = ev->data.scalar.length;
  const char *tag = (const char *)ev->data.scalar.tag;
  const yaml_mark_t *m = &ev->start_mark;
  tkind tk = tag_kind(tag);
  frame *kf = expecting_key(b);
  resolved r;
  kj *v;

  b->decode_count++;
  if (!tag && !ev->data.scalar.plain_implicit)
    tk = T_STR; /* quoted and block scalars are strings */
  resolve_scalar(text, tk, &r);
  if (tk == T_MERGE && !strcmp(text, "<<"))
    r.kind = R_MERGE;
  if (tk == T_BOOL || tk == T_INT || tk == T_FLOAT || tk == T_NULL) {
    int ok = (tk == T_BOOL && r.kind == R_BOOL) ||
             (tk == T_INT && (r.kind == R_INT || r.kind == R_UINT)) ||
             (tk == T_FLOAT && (r.kind == R_FLOAT || r.kind == R_INT)) ||
             (tk == T_NULL && r.kind == R_NULL);
    if (!ok)
      return fail(b, m, "cannot decode %s `%s` as a !!%s", rkind_tag(r.kind),
                  text, tag + strlen(TAG_PREFIX));
    if (tk == T_FLOAT && r.kind == R_INT) {
      r.kind = R_FLOAT;
      r.f = (double)r.i;
    }
  }
  if (r.kind == R_MERGE && !kf)
    r.kind = R_STR; /* "<<" as a value is just text */
  if (kf && r.kind == R_MERGE) {
    kf->merge = 1;
    return 0;
  }
  if (kf && !(kf->key = key_string(b, &r, text, m)))
    return -EINVAL;
  if (kf && !ev->data.scalar.anchor)
    return 0;
  if (!(v = scalar_value(b, &r, text, len, m)))
    return -EINVAL;
  if (kf) {
    /* An anchored key: remember its value for later aliases. */
    int rc = anchor_define(b, (const char *)ev->data.scalar.anchor,
                           ++b->next_anchor_id, v);
    kj_free(v);
    return rc < 0 ? fail(b, m, "out of memory") : 0;
  }
  return add_value(b, v, (const char *)ev->data.scalar.anchor,
                   ev->data.scalar.anchor ? ++b->next_anchor_id : 0, m);
}

static int on_start(builder *b, const yaml_event_t *ev, int is_map)
{
  const yaml_char_t *anchor_name = is_map ? ev->data.mapping_start.anchor
                                          : ev->data.sequence_start.anchor;
  frame *f;

  b->decode_count++;
  if (expecting_key(b))
    return fail(b, &ev->start_mark, "invalid map key: a %s",
                is_map ? "mapping" : "sequence");
  if (b->depth >= MAX_DEPTH)
    return fail(b, &ev->start_mark, "exceeded max depth of %d", MAX_DEPTH);
  if (b->depth == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 16;
    frame *p = realloc(b->stack, cap * sizeof *p);
    if (!p)
      return fail(b, &ev->start_mark, "out of memory");
    b->stack = p;
    b->cap = cap;
  }
  f = &b->stack[b->depth];
  memset(f, 0, sizeof *f);
  f->node = is_map ? kj_object() : kj_array();
  f->mark = ev->start_mark;
  if (anchor_name) {
    f->anchor = strdup((const char *)anchor_name);
    f->anchor_id = ++b->next_anchor_id;
  }
  if (!f->node || (anchor_name && !f->anchor)) {
    kj_free(f->node);
    free(f->anchor);
    return fail(b, &ev->start_mark, "out of memory");
  }
  b->depth++;
  return 0;
}

static int on_end(builder *b, const yaml_event_t *ev)
{
  frame f = b->stack[--b->depth];
  int r;

  if (f.merge || f.key) {
    /* libyaml always delivers a value, even an empty one; be safe. */
    free(f.key);
    kj_free(f.node);
    free(f.anchor);
    return fail(b, &ev->start_mark, "mapping key without a value");
  }
  r = add_value(b, f.node, f.anchor, f.anchor_id, &f.mark);
  free(f.anchor);
  return r;
}

static int on_alias(builder *b, const yaml_event_t *ev)
{
  const char *name = (const char *)ev->data.alias.anchor;
  const yaml_mark_t *m = &ev->start_mark;
  const anchor *a = anchor_lookup(b, name, m);
  frame *kf;
  kj *v;
  int r;

  if (!a)
    return -EINVAL;
  if ((r = alias_budget(b, a->nodes, m)) < 0)
    return r;
  if ((kf = expecting_key(b))) {
    resolved res;
    char buf[64];
    const char *text = buf;
    switch (a->value->type) {
    case KJ_STRING:
      res.kind = R_STR;
      text = kj_str(a->value);
      break;
    case KJ_BOOL:
      res.kind = R_BOOL;
      res.b = kj_is_true(a->value);
      break;
    case KJ_NUMBER:
      /* Integers were printed as integers; the rest were floats. */
      text = a->value->u.str.s;
      if (parse_int(text, &res.i) == 0) {
        res.kind = R_INT;
      } else if (parse_base0(text, &res.u) == 0) {
        res.kind = R_UINT;
      } else {
        res.kind = R_FLOAT;
        res.f = strtod(text, NULL);
      }
      break;
    case KJ_NULL:
      res.kind = R_NULL;
      break;
    default:
      return fail(b, m, "invalid map key: a %s",
                  a->value->type == KJ_OBJECT ? "mapping" : "sequence");
    }
    return (kf->key = key_string(b, &res, text, m)) ? 0 : -EINVAL;
  }
  if (!(v = kj_clone(a->value)))
    return fail(b, m, "out of memory");
  return add_value(b, v, NULL, 0, m);
}

/* ---- the stream ----------------------------------------------------------- */

static void parser_error(const yaml_parser_t *p, char *err, size_t errlen)
{
  const char *problem = p->problem ? p->problem : "syntax error";

  if (!err || !errlen)
    return;
  if (p->error == YAML_READER_ERROR) {
    snprintf(err, errlen, "offset %zu: %s", p->problem_offset, problem);
  } else if (p->context) {
    snprintf(err, errlen, "line %zu, column %zu: %s (%s at line %zu, column %zu)",
             p->problem_mark.line + 1, p->problem_mark.column + 1, problem,
             p->context, p->context_mark.line + 1,
             p->context_mark.column + 1);
  } else {
    snprintf(err, errlen, "line %zu, column %zu: %s",
             p->problem_mark.line + 1, p->problem_mark.column + 1, problem);
  }
}

static int docs_push(kj ***docs, size_t *n, size_t *cap, kj *doc)
{
  if (*n == *cap) {
    size_t c = *cap ? *cap * 2 : 4;
    kj **p = realloc(*docs, c * sizeof *p);
    if (!p)
      return -ENOMEM;
    *docs = p;
    *cap = c;
  }
  (*docs)[(*n)++] = doc;
  return 0;
}

static int handle_event(builder *b, const yaml_event_t *ev)
{
  switch (ev->type) {
  case YAML_DOCUMENT_START_EVENT:
    builder_reset(b);
    return 0;
  case YAML_SCALAR_EVENT:
    return on_scalar(b, ev);
  case YAML_SEQUENCE_START_EVENT:
    return on_start(b, ev, 0);
  case YAML_MAPPING_START_EVENT:
    return on_start(b, ev, 1);
  case YAML_SEQUENCE_END_EVENT:
  case YAML_MAPPING_END_EVENT:
    return on_end(b, ev);
  case YAML_ALIAS_EVENT:
    return on_alias(b, ev);
  default:
    return 0;
  }
}

/* Parses up to max_docs non-empty documents (0 = all). */
static int parse_stream(const char *buf, size_t len, size_t max_docs,
                        kj ***ret_docs, size_t *ret_n, char *err,
                        size_t errlen)
{
  yaml_parser_t p;
  yaml_event_t ev;
  builder b;
  kj **docs = NULL;
  size_t n = 0, cap = 0, i;
  int r = 0, done = 0;

  if (err && errlen)
    err[0] = '\0';
  if (!buf) /* libyaml asserts on a NULL input */
    buf = "", len = 0;
  memset(&b, 0, sizeof b);
  b.err = err;
  b.errlen = errlen;
  if (!yaml_parser_initialize(&p))
    return -ENOMEM;
  yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
  while (!done && r == 0) {
    if (!yaml_parser_parse(&p, &ev)) {
      parser_error(&p, err, errlen);
      r = p.error == YAML_MEMORY_ERROR ? -ENOMEM : -EINVAL;
      break;
    }
    r = handle_event(&b, &ev);
    if (r == 0 && ev.type == YAML_DOCUMENT_END_EVENT) {
      /* Empty documents (and a lone null) carry no object: skipped. */
      if (b.have_root && b.root->type != KJ_NULL) {
        r = docs_push(&docs, &n, &cap, b.root);
        if (r == 0)
          b.root = NULL;
        if (max_docs && n == max_docs)
          done = 1;
      }
    }
    if (ev.type == YAML_STREAM_END_EVENT)
      done = 1;
    yaml_event_delete(&ev);
  }
  builder_reset(&b);
  free(b.stack);
  free(b.anchors);
  yaml_parser_delete(&p);
  if (r < 0) {
    for (i = 0; i < n; i++)
      kj_free(docs[i]);
    free(docs);
    if (r == -ENOMEM && err && errlen && !err[0])
      snprintf(err, errlen, "out of memory");
    return r;
  }
  *ret_docs = docs;
  *ret_n = n;
  return 0;
}

int kapi_yaml_parse(const char *buf, size_t len, kj ***ret_docs,
                    size_t *ret_n, char *err, size_t errlen)
{
  return parse_stream(buf, len, 0, ret_docs, ret_n, err, errlen);
}

int kapi_yaml_parse_one(const char *buf, size_t len, kj **ret, char *err,
                        size_t errlen)
{
  kj **docs;
  size_t n;
  int r = parse_stream(buf, len, 1, &docs, &n, err, errlen);

  if (r < 0)
    return r;
  if (n == 0) {
    free(docs);
    if (err && errlen)
      snprintf(err, errlen, "no YAML document");
    return -ENOENT;
  }
  *ret = docs[0];
  free(docs);
  return 0;
}

int kapi_yaml_read_file(const char *path, kj **ret, char *err, size_t errlen)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL, *p;
  size_t len = 0, cap = 0, got;
  int r;

  if (!f) {
    r = -errno;
    if (err && errlen)
      snprintf(err, errlen, "%s: %s", path, strerror(-r));
    return r;
  }
  do {
    if (len + 4096 > cap) {
      cap = cap ? cap * 2 : 8192;
      if (!(p = realloc(buf, cap))) {
        free(buf);
        fclose(f);
        return -ENOMEM;
      }
      buf = p;
    }
    got = fread(buf + len, 1, cap - len, f);
    len += got;
  } while (got > 0);
  r = ferror(f) ? -EIO : 0;
  fclose(f);
  if (r == 0) {
    char perr[512];
    r = kapi_yaml_parse_one(buf ? buf : "", len, ret, perr, sizeof perr);
    if (r < 0 && err && errlen)
      snprintf(err, errlen, "%s: %s", path, perr);
  } else if (err && errlen) {
    snprintf(err, errlen, "%s: read error", path);
  }
  free(buf);
  return r;
}
