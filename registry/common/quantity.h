/*
 * quantity.h - resource quantities as upstream prints them, for plugins.
 *
 * Plugins see quantities as the JSON text the client sent ("1000m",
 * "0.5", 2, "1Gi").  Upstream decodes them into resource.Quantity, which
 * remembers the value and the format the text was written in (DecimalSI,
 * BinarySI, DecimalExponent) and always prints its canonical form
 * (Quantity.String(): "1000m" -> "1", "0.5" -> "500m", "1536Mi" ->
 * "1536Mi", "1024Mi" -> "1Gi").  The LimitRange registry and the
 * LimitRanger admission plugin both need that form for their messages,
 * and the registry stores it, as upstream's serialization does.
 *
 * Values are kept in milli units: every quantity upstream compares here
 * went through SetDefaults_ResourceList, which rounds up to milli
 * precision, and api->quantity_milli does the same rounding.  Values past
 * int64 milli units (about 9.2e15, i.e. 8 PiB) are "huge": they are
 * compared saturated and printed as written; upstream's big-decimal path
 * has no equivalent here.
 *
 * Like registry_util.h, it is included by relative path and is all
 * `static inline`, so that every plugin still builds from its own .c file
 * against <kapi/plugin.h> alone.  It does not use the plugins' global
 * `api`: the functions that need the host take it as a parameter.
 */
#ifndef KAPI_PLUGIN_QUANTITY_H
#define KAPI_PLUGIN_QUANTITY_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapi/plugin.h"

typedef enum qty_format {
  QTY_DECIMAL_SI = 0,       /* "", m, k, M, G, ... (and plain numbers) */
  QTY_BINARY_SI = 1,        /* Ki, Mi, Gi, ... */
  QTY_DECIMAL_EXPONENT = 2, /* 1e3, 5E-3 */
} qty_format;

typedef struct qty {
  int64_t milli;     /* value * 1000, rounded up; saturated when huge */
  int huge;          /* past int64 milli units: compare only */
  qty_format format; /* how the text was written (Quantity.Format) */
  const char *text;  /* the text parsed (borrowed), NULL when computed */
} qty;

static const char qty_regex_error[] =
    "quantities must match the regular expression "
    "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/* The format the suffix of `text` selects (upstream's suffixer): binary
 * for Ki..Ei, exponent for e<n>/E<n>, decimal SI for the rest. */
static inline qty_format qty_format_of(const char *text)
{
  const char *p = text;

  if (*p == '+' || *p == '-')
    p++;
  while ((*p >= '0' && *p <= '9') || *p == '.')
    p++;
  if (p[0] && p[1] == 'i' && !p[2] && strchr("KMGTPE", p[0]))
    return QTY_BINARY_SI;
  if ((p[0] == 'e' || p[0] == 'E') && p[1])
    return QTY_DECIMAL_EXPONENT;
  return QTY_DECIMAL_SI;
}

/* Parses `text` (borrowed; kept in q->text): 0, or -EINVAL when it is not
 * a quantity. */
static inline int qty_parse(const kapi_host_api *host, const char *text,
                            qty *q)
{
  int rc;

  if (!text || !*text)
    return -EINVAL;
  memset(q, 0, sizeof *q);
  rc = host->quantity_milli(text, &q->milli);
  if (rc == -ERANGE) {
    q->huge = 1;
    q->milli = text[0] == '-' ? INT64_MIN : INT64_MAX;
  } else if (rc < 0) {
    return -EINVAL;
  }
  q->format = qty_format_of(text);
  q->text = text;
  return 0;
}

/* A JSON value (string or number) as a quantity: 0 or -EINVAL. */
static inline int qty_of(const kapi_host_api *host, const kapi_obj *v,
                         qty *q)
{
  kapi_obj_type t = host->obj_type(v);

  if (t != KAPI_OBJ_STRING && t != KAPI_OBJ_NUMBER)
    return -EINVAL;
  return qty_parse(host, host->obj_get(v, ""), q);
}

/* Quantity.Cmp: <0, 0, >0. */
static inline int qty_cmp(const qty *a, const qty *b)
{
  return a->milli < b->milli ? -1 : a->milli > b->milli;
}

static inline int64_t qty_sat_add(int64_t a, int64_t b, int *overflow)
{
  int64_t r;

  if (__builtin_add_overflow(a, b, &r)) {
    *overflow = 1;
    return a > 0 ? INT64_MAX : INT64_MIN;
  }
  return r;
}

/* Quantity.Add: the sum keeps acc's format, unless acc was zero (then
 * it takes y's), as upstream's int64Amount path does. */
static inline void qty_add(qty *acc, const qty *y)
{
  int overflow = 0;

  if (acc->milli == 0)
    acc->format = y->format;
  acc->milli = qty_sat_add(acc->milli, y->milli, &overflow);
  acc->huge = acc->huge || y->huge || overflow;
  acc->text = NULL;
}

/* Removes the factors `base` from *v; returns how many. */
static inline int qty_strip_factors(int64_t *v, int64_t base)
{
  int n = 0;

  while (*v != 0 && *v % base == 0) {
    *v /= base;
    n++;
  }
  return n;
}

/* The decimal suffix of a power of ten that is a multiple of 3 (DecimalSI)
 * or "" when there is none. */
static inline const char *qty_si_suffix(int exp)
{
  static const char *const suffixes[] = {"n", "u", "m", "", "k", "M",
                                         "G", "T", "P", "E"};
  int i = exp / 3 + 3;

  return exp % 3 == 0 && i >= 0 && i < 10 ? suffixes[i] : "";
}

/*
 * Quantity.String(): the canonical form into buf.  Decimal formats print
 * the smallest integer mantissa with an exponent that is a multiple of 3
 * (as an SI suffix, or "e<n>"); BinarySI prints a power of 1024 unless
 * the value is below 1024 or not whole, which print as DecimalSI.
 */
static inline const char *qty_format_canonical(const qty *q, char *buf,
                                               size_t len)
{
  static const char *const bin[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  qty_format f = q->format;
  int64_t m = q->milli;
  int exp;

  if (q->huge) { /* as written; a computed one prints its bound */
    if (q->text)
      snprintf(buf, len, "%s", q->text);
    else
      snprintf(buf, len, "%lld", (long long)(m / 1000));
    return buf;
  }
  if (m == 0) {
    snprintf(buf, len, "0");
    return buf;
  }
  if (f == QTY_BINARY_SI &&
      ((m > -1024000 && m < 1024000) || m % 1000 != 0))
    f = QTY_DECIMAL_SI;
  if (f == QTY_BINARY_SI) {
    m /= 1000;
    exp = qty_strip_factors(&m, 1024);
    if (exp > 6) { /* unreachable with int64: 1024^7 > INT64_MAX */
      snprintf(buf, len, "%lld", (long long)(q->milli / 1000));
      return buf;
    }
    snprintf(buf, len, "%lld%s", (long long)m, bin[exp]);
    return buf;
  }
  exp = -3 + qty_strip_factors(&m, 10);
  /* Back up to a multiple of 3; the factors just removed make room. */
  switch (exp % 3) {
  case 1:
  case -2:
    m *= 10;
    exp -= 1;
    break;
  case 2:
  case -1:
    m *= 100;
    exp -= 2;
    break;
  }
  if (f == QTY_DECIMAL_EXPONENT) {
    if (exp)
      snprintf(buf, len, "%llde%d", (long long)m, exp);
    else
      snprintf(buf, len, "%lld", (long long)m);
  } else {
    snprintf(buf, len, "%lld%s", (long long)m, qty_si_suffix(exp));
  }
  return buf;
}

/* The canonical form of a JSON quantity value, or its text when it does
 * not parse. */
static inline const char *qty_canonical_of(const kapi_host_api *host,
                                           const kapi_obj *v, char *buf,
                                           size_t len)
{
  qty q;
  const char *text = host->obj_get(v, "");

  if (qty_of(host, v, &q) < 0) {
    snprintf(buf, len, "%s", text ? text : "");
    return buf;
  }
  return qty_format_canonical(&q, buf, len);
}

static inline const char *qty_format_name(qty_format f)
{
  return f == QTY_BINARY_SI ? "BinarySI"
         : f == QTY_DECIMAL_EXPONENT ? "DecimalExponent"
                                     : "DecimalSI";
}

/*
 * How Go's %#v prints the resource.Quantity that ParseQuantity makes of
 * the canonical text `text` (field.Error prints a Quantity bad value that
 * way, since a Quantity value is no fmt.Stringer):
 *   resource.Quantity{i:resource.int64Amount{value:1, scale:0},
 *   d:resource.infDecAmount{Dec:(*inf.Dec)(nil)}, s:"1", Format:"DecimalSI"}
 * The fast path keeps mantissa and decimal scale, and caches the text in s
 * when it is already canonical by its own test.  Values the fast path
 * leaves to inf.Dec (large binary suffixes, long mantissas) print with a
 * pointer upstream; a fixed one stands in for it here.
 */
static inline const char *qty_go_value(const char *text, qty_format f,
                                       char *buf, size_t len)
{
  static const char si_order[] = "num kMGTPE"; /* 10^-9 .. 10^18 */
  const char *p = text, *digits, *suffix, *si;
  int neg = 0, scale = 0, bits = 0, precision;
  size_t ndigits;
  int64_t value = 0;
  const char *cached = "";

  if (!strcmp(text, "0")) {
    snprintf(buf, len,
             "resource.Quantity{i:resource.int64Amount{value:0, scale:0}, "
             "d:resource.infDecAmount{Dec:(*inf.Dec)(nil)}, s:\"0\", "
             "Format:\"DecimalSI\"}");
    return buf;
  }
  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  while (*p == '0')
    p++;
  digits = p;
  while (*p >= '0' && *p <= '9')
    p++;
  ndigits = (size_t)(p - digits);
  suffix = p;
  precision = -1; /* a text that is not canonical: the slow path */
  if (f == QTY_BINARY_SI && suffix[0] && strchr("KMGTPE", suffix[0])) {
    bits = 10 * (int)(strchr("KMGTPE", suffix[0]) - "KMGTPE" + 1);
    precision = 15 - (int)ndigits - (int)((float)bits * 3 / 10) - 1;
  } else if (f == QTY_DECIMAL_EXPONENT) {
    scale = (int)strtol(suffix + 1, NULL, 10);
    precision = 18 - (int)ndigits;
  } else if (f == QTY_DECIMAL_SI && (si = strchr(si_order, *suffix ? *suffix
                                                                  : ' '))) {
    scale = (int)(si - si_order) * 3 - 9;
    precision = 18 - (int)ndigits;
  }
  if (precision < 0 || ndigits == 0) {
    snprintf(buf, len,
             "resource.Quantity{i:resource.int64Amount{value:0, scale:0}, "
             "d:resource.infDecAmount{Dec:(*inf.Dec)(0xc000010000)}, s:\"\", "
             "Format:\"%s\"}", qty_format_name(f));
    return buf;
  }
  for (p = digits; p < digits + ndigits; p++)
    value = value * 10 + (*p - '0');
  if (f == QTY_BINARY_SI) {
    if ((value & 7) != 0)
      cached = text;
    value <<= bits;
  } else if (scale % 3 == 0 &&
             !(ndigits >= 3 && !strncmp(digits + ndigits - 3, "000", 3))) {
    cached = text;
  }
  snprintf(buf, len,
           "resource.Quantity{i:resource.int64Amount{value:%lld, scale:%d}, "
           "d:resource.infDecAmount{Dec:(*inf.Dec)(nil)}, s:\"%s\", "
           "Format:\"%s\"}",
           (long long)(neg ? -value : value), scale, cached,
           qty_format_name(f));
  return buf;
}

#endif /* KAPI_PLUGIN_QUANTITY_H */
