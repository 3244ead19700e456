/*
 * quantity.c - resource.Quantity parsing, arithmetic and canonical text
 * (see quantity.h).
 *
 * Upstream (apimachinery pkg/api/resource/quantity.go) keeps arbitrary
 * precision but rounds every parsed value up to the nano unit; values
 * are kept here as a 128-bit count of nano units, which is exact for
 * everything that parses below about 10^29.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quantity.h"

typedef __int128 i128;

#define NANO ((i128)1000000000)
/* Refuse values past 10^38 nano rather than overflow. */
#define NANO_MAX ((i128)100000000000000000LL * (i128)100000000000000000LL * 10000)

static i128 pow10i(int e)
{
  i128 r = 1;
  while (e-- > 0)
    r *= 10;
  return r;
}

/* ---- parsing -------------------------------------------------------------- */

/* The suffixes of quantitySuffixer: base 2 (binary exponent) or base 10. */
static const struct {
  const char *text;
  int bin, dec;
  rq_format format;
} suffixes[] = {
    {"", 0, 0, RQ_DECIMAL_SI},    {"n", 0, -9, RQ_DECIMAL_SI},
    {"u", 0, -6, RQ_DECIMAL_SI},  {"m", 0, -3, RQ_DECIMAL_SI},
    {"k", 0, 3, RQ_DECIMAL_SI},   {"M", 0, 6, RQ_DECIMAL_SI},
    {"G", 0, 9, RQ_DECIMAL_SI},   {"T", 0, 12, RQ_DECIMAL_SI},
    {"P", 0, 15, RQ_DECIMAL_SI},  {"E", 0, 18, RQ_DECIMAL_SI},
    {"Ki", 10, 0, RQ_BINARY_SI},  {"Mi", 20, 0, RQ_BINARY_SI},
    {"Gi", 30, 0, RQ_BINARY_SI},  {"Ti", 40, 0, RQ_BINARY_SI},
    {"Pi", 50, 0, RQ_BINARY_SI},  {"Ei", 60, 0, RQ_BINARY_SI},
};

/* interpret(): a known suffix, or "e<int>"/"E<int>" (DecimalExponent). */
static int interpret_suffix(const char *s, int *bin, int *dec,
                            rq_format *format)
{
  size_t i;
  char *end;
  long e;

  for (i = 0; i < sizeof suffixes / sizeof *suffixes; i++)
    if (!strcmp(s, suffixes[i].text)) {
      *bin = suffixes[i].bin;
      *dec = suffixes[i].dec;
      *format = suffixes[i].format;
      return 0;
    }
  if (strlen(s) > 1 && (s[0] == 'e' || s[0] == 'E')) {
    errno = 0;
    e = strtol(s + 1, &end, 10);
    if (*end || errno || e < -60 || e > 60)
      return -EINVAL;
    *bin = 0;
    *dec = (int)e;
    *format = RQ_DECIMAL_EXPONENT;
    return 0;
  }
  return -EINVAL;
}

static int is_digit(char c)
{
  return c >= '0' && c <= '9';
}

/* The syntax of parseQuantityString: sign, digits, optional ".digits",
 * then a suffix of [eEinumkKMGTP]* and an optional signed integer. */
static int split(const char *s, int *neg, const char **num, size_t *n_num,
                 const char **frac, size_t *n_frac, const char **suffix)
{
  const char *p = s, *q;

  *neg = 0;
  if (*p == '-' || *p == '+')
    *neg = *p++ == '-';
  *num = p;
  while (is_digit(*p))
    p++;
  *n_num = (size_t)(p - *num);
  *frac = p;
  *n_frac = 0;
  if (*p == '.') {
    *frac = ++p;
    while (is_digit(*p))
      p++;
    *n_frac = (size_t)(p - *frac);
  }
  *suffix = p;
  while (*p && strchr("eEinumkKMGTP", *p))
    p++;
  if (*p == '-' || *p == '+')
    p++;
  for (q = p; *q; q++)
    if (!is_digit(*q))
      return -EINVAL;
  return 0;
}

int rq_qty_parse(const char *s, rq_qty *out)
{
  const char *num, *frac, *suffix;
  size_t n_num, n_frac, i;
  int neg, bin, dec, exp10, rc;
  rq_format format;
  i128 mant = 0;

  if (!s || !*s)
    return -EINVAL;
  if ((rc = split(s, &neg, &num, &n_num, &frac, &n_frac, &suffix)) < 0 ||
      (rc = interpret_suffix(suffix, &bin, &dec, &format)) < 0)
    return rc;
  /* Leading zeros carry nothing; the digits that remain must fit. */
  while (n_num && *num == '0') {
    num++;
    n_num--;
  }
  if (n_num + n_frac > 36)
    return -ERANGE;
  for (i = 0; i < n_num; i++)
    mant = mant * 10 + (num[i] - '0');
  for (i = 0; i < n_frac; i++)
    mant = mant * 10 + (frac[i] - '0');

  /* value = mant * 10^(dec - n_frac) * 2^bin; in nano: 10^9 more. */
  exp10 = dec - (int)n_frac + 9;
  for (i = 0; i < (size_t)bin; i++) {
    if (mant > NANO_MAX / 2)
      return -ERANGE;
    mant *= 2;
  }
  if (exp10 >= 0) {
    for (; exp10 > 0; exp10--) {
      if (mant > NANO_MAX / 10)
        return -ERANGE;
      mant *= 10;
    }
  } else if (exp10 < -38) {
    mant = mant ? 1 : 0; /* far below 1n: rounds up to 1n */
  } else {
    i128 d = pow10i(-exp10);
    /* inf.RoundUp: away from zero, so "-0.1n" stays negative. */
    mant = mant / d + (mant % d != 0);
  }
  out->nano = neg ? -mant : mant;
  out->format = format;
  return 0;
}

/* ---- arithmetic ------------------------------------------------------------- */

rq_qty rq_qty_int(long long v)
{
  rq_qty q = {(i128)v * NANO, RQ_DECIMAL_SI};
  return q;
}

void rq_qty_add(rq_qty *q, const rq_qty *y)
{
  if (q->nano == 0)
    q->format = y->format;
  q->nano += y->nano;
}

void rq_qty_sub(rq_qty *q, const rq_qty *y)
{
  if (q->nano == 0)
    q->format = y->format;
  q->nano -= y->nano;
}

int rq_qty_cmp(const rq_qty *a, const rq_qty *b)
{
  return a->nano < b->nano ? -1 : a->nano > b->nano;
}

int rq_qty_sign(const rq_qty *q)
{
  return q->nano < 0 ? -1 : q->nano > 0;
}

int rq_qty_is_integer(const rq_qty *q)
{
  /* MilliValue() rounds up to the milli unit first. */
  i128 v = q->nano < 0 ? -q->nano : q->nano;
  i128 milli = v / 1000000 + (v % 1000000 != 0);
  return milli % 1000 == 0;
}

/* ---- canonical text ------------------------------------------------------------ */

/* Decimal digits of v into buf (v may be negative). */
static void put_i128(char *buf, size_t len, i128 v)
{
  char tmp[48];
  size_t n = 0, o = 0;
  int neg = v < 0;
  unsigned __int128 u = neg ? (unsigned __int128)(-(v + 1)) + 1
                            : (unsigned __int128)v;

  do {
    tmp[n++] = (char)('0' + (int)(u % 10));
    u /= 10;
  } while (u && n < sizeof tmp);
  if (neg && o + 1 < len)
    buf[o++] = '-';
  while (n && o + 1 < len)
    buf[o++] = tmp[--n];
  buf[o] = '\0';
}

static const char *decimal_suffix(int exp)
{
  static const char *const s[] = {"n", "u", "m", "", "k",
                                  "M", "G", "T", "P", "E"};
  return exp >= -9 && exp <= 18 ? s[(exp + 9) / 3] : NULL;
}

/*
 * AsCanonicalBytes: strip the factors of ten, then bring the exponent
 * down to a multiple of three (so 15e2 prints "1500" and 1e3 "1k").
 */
static char *format_decimal(const rq_qty *q, rq_format format, char *buf,
                            size_t len)
{
  i128 m = q->nano;
  int exp = -9, rest;
  char digits[48];
  const char *sfx;

  while (m % 10 == 0) {
    m /= 10;
    exp++;
  }
  rest = ((exp % 3) + 3) % 3;
  for (; rest > 0; rest--) {
    m *= 10;
    exp--;
  }
  put_i128(digits, sizeof digits, m);
  sfx = format == RQ_DECIMAL_SI ? decimal_suffix(exp) : NULL;
  if (format == RQ_DECIMAL_SI && sfx)
    snprintf(buf, len, "%s%s", digits, sfx);
  else if (exp == 0)
    snprintf(buf, len, "%s", digits);
  else
    snprintf(buf, len, "%se%d", digits, exp);
  return buf;
}

/* AsCanonicalBase1024Bytes: whole units with the factors of 1024 out. */
static char *format_binary(const rq_qty *q, char *buf, size_t len)
{
  static const char *const s[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  i128 m = q->nano / NANO;
  int times = 0;
  char digits[48];

  while (times < 6 && m % 1024 == 0) {
    m /= 1024;
    times++;
  }
  put_i128(digits, sizeof digits, m);
  snprintf(buf, len, "%s%s", digits, s[times]);
  return buf;
}

char *rq_qty_format(const rq_qty *q, char *buf, size_t len)
{
  rq_format format = q->format;

  if (q->nano == 0) {
    snprintf(buf, len, "0");
    return buf;
  }
  /* CanonicalizeBytes: small or fractional binary values print as
   * DecimalSI ("1000" is "1k", "0.5Gi" is "512Mi" but "1.5" is "1500m"). */
  if (format == RQ_BINARY_SI &&
      ((q->nano > -1024 * NANO && q->nano < 1024 * NANO) ||
       q->nano % NANO != 0))
    format = RQ_DECIMAL_SI;
  if (format == RQ_BINARY_SI)
    return format_binary(q, buf, len);
  return format_decimal(q, format, buf, len);
}
