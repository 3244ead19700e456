/*
 * backoff.c - per-key exponential back-off (see backoff.h).
 *
 * Upstream: staging/src/k8s.io/client-go/util/flowcontrol/backoff.go.
 * The kubelet keys it by pod name, namespace, uid and container name and
 * consults it with the container's finishedAt as the event time.
 */
#include "backoff.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

typedef struct entry {
  int64_t backoff;     /* ns */
  int64_t last_update; /* Unix ns */
} entry;

struct kl_backoff {
  pthread_mutex_t mu;
  int64_t initial, max;
  kapi__strmap *items; /* key -> entry */
};

kl_backoff *kl_backoff_new(int64_t initial_ns, int64_t max_ns)
{
  kl_backoff *b = calloc(1, sizeof *b);
  if (!b)
    return NULL;
  b->items = kapi__strmap_new();
  if (!b->items) {
    free(b);
    return NULL;
  }
  pthread_mutex_init(&b->mu, NULL);
  b->initial = initial_ns;
  b->max = max_ns;
  return b;
}

void kl_backoff_free(kl_backoff *b)
{
  if (!b)
    return;
  kapi__strmap_free(b->items, free);
  pthread_mutex_destroy(&b->mu);
  free(b);
}

/* After 2 x max without trouble the container counts as stable again. */
static int expired(const kl_backoff *b, const entry *e, int64_t event_ns)
{
  return event_ns - e->last_update > 2 * b->max;
}

int64_t kl_backoff_get(kl_backoff *b, const char *key)
{
  entry *e;
  int64_t d;
  pthread_mutex_lock(&b->mu);
  e = kapi__strmap_get(b->items, key);
  d = e ? e->backoff : 0;
  pthread_mutex_unlock(&b->mu);
  return d;
}

int kl_backoff_next(kl_backoff *b, const char *key, int64_t event_ns,
                    int64_t now_ns)
{
  entry *e;
  int rc = 0;
  pthread_mutex_lock(&b->mu);
  e = kapi__strmap_get(b->items, key);
  if (!e) {
    e = calloc(1, sizeof *e);
    if (!e || kapi__strmap_put(b->items, key, e, NULL) < 0) {
      free(e);
      pthread_mutex_unlock(&b->mu);
      return -ENOMEM;
    }
    e->backoff = b->initial;
  } else if (expired(b, e, event_ns)) {
    e->backoff = b->initial;
  } else {
    e->backoff = e->backoff * 2 < b->max ? e->backoff * 2 : b->max;
  }
  e->last_update = now_ns;
  pthread_mutex_unlock(&b->mu);
  return rc;
}

int kl_backoff_in_backoff_since(kl_backoff *b, const char *key,
                                int64_t event_ns, int64_t now_ns)
{
  entry *e;
  int in = 0;
  pthread_mutex_lock(&b->mu);
  e = kapi__strmap_get(b->items, key);
  if (e && !expired(b, e, event_ns))
    in = now_ns - event_ns < e->backoff;
  pthread_mutex_unlock(&b->mu);
  return in;
}

void kl_backoff_gc(kl_backoff *b, int64_t now_ns)
{
  kapi__strmap_iter it = {0};
  char **dead = NULL;
  size_t n = 0, cap = 0, i;

  pthread_mutex_lock(&b->mu);
  /* Collect first: the map may not change while iterated. */
  while (kapi__strmap_next(b->items, &it)) {
    const entry *e = it.val;
    if (now_ns - e->last_update <= 2 * b->max)
      continue;
    if (n == cap) {
      char **v = realloc(dead, (cap = cap ? cap * 2 : 16) * sizeof *v);
      if (!v)
        break;
      dead = v;
    }
    dead[n] = strdup(it.key);
    if (dead[n])
      n++;
  }
  for (i = 0; i < n; i++) {
    void *old = NULL;
    if (kapi__strmap_remove(b->items, dead[i], &old) == 0)
      free(old);
    free(dead[i]);
  }
  pthread_mutex_unlock(&b->mu);
  free(dead);
}

void kl_backoff_reset(kl_backoff *b, const char *key)
{
  void *old = NULL;
  pthread_mutex_lock(&b->mu);
  if (kapi__strmap_remove(b->items, key, &old) == 0)
    free(old);
  pthread_mutex_unlock(&b->mu);
}

size_t kl_backoff_len(kl_backoff *b)
{
  size_t n;
  pthread_mutex_lock(&b->mu);
  n = kapi__strmap_len(b->items);
  pthread_mutex_unlock(&b->mu);
  return n;
}

/* Appends the fraction digits of v / unit without trailing zeros. */
static size_t put_fraction(char *out, int64_t frac, int64_t unit)
{
  size_t n = 0;
  if (!frac)
    return 0;
  out[n++] = '.';
  for (unit /= 10; unit > 0 && frac > 0; unit /= 10) {
    out[n++] = (char)('0' + frac / unit);
    frac %= unit;
  }
  return n;
}

void kl_format_duration(int64_t d, char *buf, size_t len)
{
  char tmp[64];
  size_t n = 0;
  int neg = d < 0;
  uint64_t u = neg ? (uint64_t)-d : (uint64_t)d;

  if (neg)
    tmp[n++] = '-';
  if (u == 0) {
    snprintf(buf, len, "0s");
    return;
  }
  if (u < 1000000000ULL) {
    /* Below a second Go picks the largest unit that keeps an integer
     * part: ns, µs or ms. */
    const char *unit = "ns";
    int64_t scale = 1;
    if (u >= 1000000) {
      unit = "ms";
      scale = 1000000;
    } else if (u >= 1000) {
      unit = "\xc2\xb5s";
      scale = 1000;
    }
    n += (size_t)snprintf(tmp + n, sizeof tmp - n, "%llu",
                          (unsigned long long)(u / (uint64_t)scale));
    n += put_fraction(tmp + n, (int64_t)(u % (uint64_t)scale), scale);
    snprintf(buf, len, "%.*s%s", (int)n, tmp, unit);
    return;
  }
  {
    uint64_t secs = u / 1000000000ULL, frac = u % 1000000000ULL;
    uint64_t h = secs / 3600, m = secs / 60 % 60, s = secs % 60;
    if (h)
      n += (size_t)snprintf(tmp + n, sizeof tmp - n, "%lluh",
                            (unsigned long long)h);
    if (h || m)
      n += (size_t)snprintf(tmp + n, sizeof tmp - n, "%llum",
                            (unsigned long long)m);
    n += (size_t)snprintf(tmp + n, sizeof tmp - n, "%llu",
                          (unsigned long long)s);
    n += put_fraction(tmp + n, (int64_t)frac, 1000000000);
    tmp[n++] = 's';
    tmp[n] = '\0';
    snprintf(buf, len, "%s", tmp);
  }
}

int kl_parse_duration(const char *s, int64_t *ret)
{
  static const struct {
    const char *unit;
    int64_t ns;
  } units[] = {{"ns", 1},          {"us", 1000},        {"\xc2\xb5s", 1000},
               {"ms", 1000000},    {"s", 1000000000LL}, {"m", 60000000000LL},
               {"h", 3600000000000LL}};
  double total = 0;
  char *end;
  if (!s || !*s)
    return -EINVAL;
  total = strtod(s, &end);
  if (end != s && !*end && total >= 0) {
    *ret = (int64_t)(total * 1e9);
    return 0;
  }
  total = 0;
  while (*s) {
    double v = strtod(s, &end);
    size_t i, best = 0, best_len = 0;
    if (end == s || v < 0)
      return -EINVAL;
    for (i = 0; i < sizeof units / sizeof units[0]; i++) {
      size_t n = strlen(units[i].unit);
      if (!strncmp(end, units[i].unit, n) && n > best_len) {
        best = i;
        best_len = n;
      }
    }
    if (!best_len)
      return -EINVAL;
    total += v * (double)units[best].ns;
    s = end + best_len;
  }
  *ret = (int64_t)total;
  return 0;
}
