/*
 * quantity.c - resource quantities and pod requests.
 *
 * A quantity is parsed exactly: the mantissa's digits as an integer M
 * with d fractional digits, and a suffix that is a power of 2 or of 10;
 * milli units are then ceil(M * 2^b * 10^(e + 3 - d)) in 128-bit
 * arithmetic, so "0.1" is exactly 100 and "1.1Ki" exactly 1126400.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quantity.h"

#define MILLI_MAX ((__int128)INT64_MAX)

static int fail(char *err, size_t errlen, const char *msg)
{
  if (err && errlen)
    snprintf(err, errlen, "%s", msg);
  return -EINVAL;
}

/* The suffix as a binary exponent (b) and decimal exponent (e). */
static int parse_suffix(const char *s, int *b, int *e)
{
  static const struct {
    const char *s;
    int b, e;
  } suffixes[] = {
      {"Ki", 10, 0}, {"Mi", 20, 0}, {"Gi", 30, 0}, {"Ti", 40, 0},
      {"Pi", 50, 0}, {"Ei", 60, 0}, {"n", 0, -9}, {"u", 0, -6},
      {"m", 0, -3},  {"", 0, 0},    {"k", 0, 3},  {"M", 0, 6},
      {"G", 0, 9},   {"T", 0, 12},  {"P", 0, 15}, {"E", 0, 18},
  };
  size_t i;
  char *end;
  long x;

  for (i = 0; i < sizeof suffixes / sizeof *suffixes; i++)
    if (!strcmp(s, suffixes[i].s)) {
      *b = suffixes[i].b;
      *e = suffixes[i].e;
      return 0;
    }
  if ((s[0] == 'e' || s[0] == 'E') && s[1]) {
    x = strtol(s + 1, &end, 10);
    if (*end || x < -100 || x > 100)
      return -EINVAL;
    *b = 0;
    *e = (int)x;
    return 0;
  }
  return -EINVAL;
}

int kapi_quantity_milli(const char *q, int64_t *ret, char *err,
                        size_t errlen)
{
  const char *p = q;
  __int128 m = 0, div = 1;
  int neg = 0, digits = 0, frac = 0, in_frac = 0, b, e, scale;

  if (!q || !*q)
    return fail(err, errlen, "quantities must match the regular expression "
                             "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  for (; (*p >= '0' && *p <= '9') || *p == '.'; p++) {
    if (*p == '.') {
      if (in_frac)
        return fail(err, errlen, "unable to parse numeric part of quantity");
      in_frac = 1;
      continue;
    }
    digits++;
    if (m > MILLI_MAX * 1000)
      return -ERANGE;
    m = m * 10 + (*p - '0');
    frac += in_frac;
  }
  if (!digits)
    return fail(err, errlen, "quantities must match the regular expression "
                             "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
  if (parse_suffix(p, &b, &e) < 0)
    return fail(err, errlen, "unable to parse quantity's suffix");
  while (b-- > 0) {
    m *= 2;
    if (m > MILLI_MAX * 1000000)
      return -ERANGE;
  }
  for (scale = e + 3 - frac; scale > 0; scale--) {
    m *= 10;
    if (m > MILLI_MAX)
      return -ERANGE;
  }
  for (; scale < 0; scale++)
    div *= 10;
  m = (m + div - 1) / div; /* round up, as upstream's MilliValue */
  if (m > MILLI_MAX)
    return -ERANGE;
  *ret = neg ? -(int64_t)m : (int64_t)m;
  return 0;
}

int kapi_quantity_milli_json(const kj *v, int64_t *ret)
{
  if (!v)
    return -ENOENT;
  if (v->type == KJ_STRING || v->type == KJ_NUMBER)
    return kapi_quantity_milli(v->u.str.s, ret, NULL, 0);
  return -EINVAL;
}

/* The scheduler's defaults for containers that request nothing
 * (pkg/scheduler/util DefaultMilliCPURequest / DefaultMemoryRequest). */
static int64_t default_request(const char *resource)
{
  if (!strcmp(resource, "cpu"))
    return 100;
  if (!strcmp(resource, "memory"))
    return 200LL * 1024 * 1024 * 1000;
  return 0;
}

/* One container's request in milli units. */
static int64_t container_request(const kj *c, const char *resource,
                                 int non_zero)
{
  const kj *v = kj_get(kj_ptr(c, "/resources/requests"), resource);
  int64_t milli;
  if (!v)
    return non_zero ? default_request(resource) : 0;
  return kapi_quantity_milli_json(v, &milli) == 0 ? milli : 0;
}

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

int64_t kapi_pod_request(const kj *pod, const char *resource, int non_zero)
{
  const kj *spec = kj_get(pod, "spec");
  const kj *containers = kj_get(spec, "containers");
  const kj *inits = kj_get(spec, "initContainers");
  const kj *overhead = kj_get(kj_get(spec, "overhead"), resource);
  int64_t sum = 0, sidecars = 0, init_max = 0, milli, total;
  size_t i;

  for (i = 0; i < kj_len(containers); i++)
    sum += container_request(kj_at(containers, i), resource, non_zero);
  /* Init containers run one at a time, next to the sidecars (restartable
   * init containers) started before them. */
  for (i = 0; i < kj_len(inits); i++) {
    const kj *c = kj_at(inits, i);
    const char *policy = kj_get_str(c, "restartPolicy");
    int64_t req = container_request(c, resource, non_zero);
    if (policy && !strcmp(policy, "Always")) {
      sum += req;
      sidecars += req;
      init_max = max64(init_max, sidecars);
    } else {
      init_max = max64(init_max, req + sidecars);
    }
  }
  total = max64(sum, init_max);
  if (overhead && kapi_quantity_milli_json(overhead, &milli) == 0)
    total += milli;
  if (!strcmp(resource, "cpu"))
    return total;
  return (total + 999) / 1000;
}
