/*
 * metrics.c - the Prometheus metrics registry (see kapi/metrics.h).
 *
 * Each family keeps its series in a fixed array of hash chains.  A new
 * series is fully built, then published at the head of its chain with
 * a release store, under the registry mutex; readers walk the chains
 * with acquire loads and no lock.  Series are never removed before the
 * registry is freed, so a pointer once handed out stays valid.
 *
 * Values are doubles kept as their bit patterns in 64-bit atomics:
 * add is a compare-and-swap loop (one iteration unless two threads
 * race on the same series), set is a plain store.  A histogram keeps
 * one non-cumulative count per bucket; the exposition accumulates
 * them and derives _count from the same snapshot, so _count always
 * equals the +Inf bucket even while observations land.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include "kapi/metrics.h"
#include "sbuf.h"

#define NCHAINS 128 /* per family; a power of two */

enum kind { COUNTER, GAUGE, HISTOGRAM };

struct kapi_metric_series {
  kapi_metric_series *next; /* in its chain; immutable once published */
  kapi_metric *family;
  uint64_t hash;
  _Atomic uint64_t value;   /* double bits: the value, or a histogram's sum */
  _Atomic uint64_t *counts; /* histogram: nbuckets + 1 counts (+Inf last) */
  char **values;            /* family->nlabels strings, in this allocation */
};

struct kapi_metric {
  kapi_metric *next; /* in the registry, sorted by name */
  kapi_metrics *reg;
  enum kind kind;
  char *name, *help;
  char **labels;
  size_t nlabels;
  double *buckets;
  size_t nbuckets;
  size_t nseries; /* under reg->mu */
  _Atomic(kapi_metric_series *) chains[NCHAINS];
};

struct process_metrics {
  kapi_metric_series *cpu, *rss, *vsize, *fds, *max_fds, *start;
};

struct collector {
  void (*fn)(kapi_metrics *m, void *arg);
  void *arg;
};

struct kapi_metrics {
  pthread_mutex_t mu; /* families list, series creation, collectors */
  kapi_metric *families;
  size_t nseries, cap;
  kapi_metric_series *dropped;
  struct collector *collectors;
  size_t ncollectors;
  struct process_metrics process; /* kapi_metrics_register_process */
};

/* ---- values ------------------------------------------------------------ */

static double bits_to_double(uint64_t u)
{
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

static uint64_t double_to_bits(double d)
{
  uint64_t u;
  memcpy(&u, &d, sizeof u);
  return u;
}

static void atomic_add_double(_Atomic uint64_t *p, double v)
{
  uint64_t old = atomic_load_explicit(p, memory_order_relaxed), new;
  do
    new = double_to_bits(bits_to_double(old) + v);
  while (!atomic_compare_exchange_weak_explicit(
      p, &old, new, memory_order_relaxed, memory_order_relaxed));
}

void kapi_series_add(kapi_metric_series *s, double v)
{
  if (!s || s->family->kind == HISTOGRAM ||
      (s->family->kind == COUNTER && !(v >= 0)))
    return;
  atomic_add_double(&s->value, v);
}

void kapi_series_inc(kapi_metric_series *s) { kapi_series_add(s, 1); }

void kapi_series_dec(kapi_metric_series *s)
{
  if (s && s->family->kind == GAUGE)
    atomic_add_double(&s->value, -1);
}

/* Also allowed on a counter: a collector mirroring a total kept
 * elsewhere (the kernel's CPU time) sets it. */
void kapi_series_set(kapi_metric_series *s, double v)
{
  if (!s || s->family->kind == HISTOGRAM)
    return;
  atomic_store_explicit(&s->value, double_to_bits(v), memory_order_relaxed);
}

void kapi_series_observe(kapi_metric_series *s, double v)
{
  const kapi_metric *f;
  size_t lo = 0, hi;

  if (!s || (f = s->family)->kind != HISTOGRAM)
    return;
  /* The first bound >= v (le is inclusive); nbuckets means +Inf. */
  hi = f->nbuckets;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (v <= f->buckets[mid])
      hi = mid;
    else
      lo = mid + 1;
  }
  atomic_fetch_add_explicit(&s->counts[lo], 1, memory_order_relaxed);
  atomic_add_double(&s->value, v);
}

double kapi_series_value(const kapi_metric_series *s)
{
  uint64_t n = 0;

  if (!s)
    return 0;
  if (s->family->kind != HISTOGRAM)
    return bits_to_double(
        atomic_load_explicit((_Atomic uint64_t *)&s->value,
                             memory_order_relaxed));
  for (size_t i = 0; i <= s->family->nbuckets; i++)
    n += atomic_load_explicit(&s->counts[i], memory_order_relaxed);
  return (double)n;
}

/* ---- series ------------------------------------------------------------ */

/* FNV-1a over the values, each followed by a byte no UTF-8 text has,
 * so ("ab","") and ("a","b") differ. */
static uint64_t hash_values(const char *const *values, size_t n)
{
  uint64_t h = 1469598103934665603ULL;
  for (size_t i = 0; i < n; i++) {
    for (const unsigned char *p = (const unsigned char *)(values[i] ? values[i] : "");
         *p; p++)
      h = (h ^ *p) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
  }
  return h;
}

static int same_values(const kapi_metric_series *s, const char *const *values,
                       size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (strcmp(s->values[i], values[i] ? values[i] : ""))
      return 0;
  return 1;
}

static kapi_metric_series *chain_find(kapi_metric *f, size_t c, uint64_t h,
                                      const char *const *values)
{
  kapi_metric_series *s =
      atomic_load_explicit(&f->chains[c], memory_order_acquire);
  for (; s; s = s->next)
    if (s->hash == h && same_values(s, values, f->nlabels))
      return s;
  return NULL;
}

/* One allocation: the series, its bucket counts, the value pointers,
 * then the value bytes. */
static kapi_metric_series *series_new(kapi_metric *f, uint64_t h,
                                      const char *const *values)
{
  size_t ncounts = f->kind == HISTOGRAM ? f->nbuckets + 1 : 0;
  size_t head = sizeof(kapi_metric_series) + ncounts * sizeof(uint64_t) +
                f->nlabels * sizeof(char *);
  size_t bytes = 0;
  kapi_metric_series *s;
  char *p;

  for (size_t i = 0; i < f->nlabels; i++)
    bytes += strlen(values[i] ? values[i] : "") + 1;
  if (!(s = calloc(1, head + bytes)))
    return NULL;
  s->family = f;
  s->hash = h;
  s->counts = ncounts ? (_Atomic uint64_t *)(s + 1) : NULL;
  s->values = (char **)((char *)(s + 1) + ncounts * sizeof(uint64_t));
  p = (char *)s + head;
  for (size_t i = 0; i < f->nlabels; i++) {
    const char *v = values[i] ? values[i] : "";
    size_t n = strlen(v) + 1;
    memcpy(p, v, n);
    s->values[i] = p;
    p += n;
  }
  atomic_init(&s->value, double_to_bits(0));
  return s;
}

static int values_fit(const kapi_metric *f, const char *const *values)
{
  for (size_t i = 0; i < f->nlabels; i++)
    if (values[i] && strnlen(values[i], KAPI_METRICS_MAX_VALUE + 1) >
                         KAPI_METRICS_MAX_VALUE)
      return 0;
  return 1;
}

/* Makes the series under the registry lock (the check is repeated: a
 * racing thread may have made it).  cap_exempt for the registry's own
 * drop counter. */
static kapi_metric_series *series_make(kapi_metric *f, uint64_t h,
                                       const char *const *values,
                                       int cap_exempt)
{
  kapi_metrics *m = f->reg;
  size_t c = h & (NCHAINS - 1);
  kapi_metric_series *s;

  pthread_mutex_lock(&m->mu);
  if ((s = chain_find(f, c, h, values))) {
    pthread_mutex_unlock(&m->mu);
    return s;
  }
  if ((cap_exempt || m->nseries < m->cap) && values_fit(f, values) &&
      (s = series_new(f, h, values))) {
    s->next = atomic_load_explicit(&f->chains[c], memory_order_relaxed);
    atomic_store_explicit(&f->chains[c], s, memory_order_release);
    f->nseries++;
    if (!cap_exempt)
      m->nseries++;
  }
  pthread_mutex_unlock(&m->mu);
  if (!s)
    kapi_series_inc(m->dropped);
  return s;
}

kapi_metric_series *kapi_metric_with(kapi_metric *f,
                                     const char *const *values)
{
  static const char *const none[1] = {NULL};
  uint64_t h;
  kapi_metric_series *s;

  if (!f)
    return NULL;
  if (!values)
    values = none;
  h = hash_values(values, f->nlabels);
  if ((s = chain_find(f, h & (NCHAINS - 1), h, values)))
    return s;
  return series_make(f, h, values, 0);
}

/* ---- families ---------------------------------------------------------- */

/* Prometheus names: [a-zA-Z_:][a-zA-Z0-9_:]*; labels the same without
 * ':', and not "le" (histograms own it) nor starting with "__". */
static int valid_name(const char *s, int label)
{
  if (!s || !*s || (*s >= '0' && *s <= '9'))
    return 0;
  if (label && (!strcmp(s, "le") || !strncmp(s, "__", 2)))
    return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
          (*s >= '0' && *s <= '9') || *s == '_' || (!label && *s == ':')))
      return 0;
  return 1;
}

static void family_free(kapi_metric *f)
{
  for (size_t c = 0; c < NCHAINS; c++) {
    kapi_metric_series *s = atomic_load(&f->chains[c]), *next;
    for (; s; s = next) {
      next = s->next;
      free(s);
    }
  }
  for (size_t i = 0; i < f->nlabels; i++)
    free(f->labels[i]);
  free(f->labels);
  free(f->buckets);
  free(f->name);
  free(f->help);
  free(f);
}

static kapi_metric *family_new(enum kind kind, const char *name,
                               const char *help, const char *const *labels,
                               const double *buckets, size_t nb)
{
  kapi_metric *f = calloc(1, sizeof *f);
  size_t n = 0;

  if (!f)
    return NULL;
  while (labels && labels[n])
    n++;
  f->kind = kind;
  f->name = strdup(name);
  f->help = strdup(help ? help : "");
  f->labels = calloc(n ? n : 1, sizeof *f->labels);
  f->nlabels = n;
  if (nb && (f->buckets = malloc(nb * sizeof *buckets)))
    memcpy(f->buckets, buckets, nb * sizeof *buckets);
  f->nbuckets = nb;
  for (size_t i = 0; f->labels && i < n; i++)
    if (!(f->labels[i] = strdup(labels[i])))
      f->nlabels = i; /* frees what was copied */
  if (!f->name || !f->help || !f->labels || f->nlabels != n ||
      (nb && !f->buckets)) {
    family_free(f);
    return NULL;
  }
  return f;
}

/* The same family, registered again? */
static int same_family(const kapi_metric *f, enum kind kind,
                       const char *const *labels, const double *buckets,
                       size_t nb)
{
  size_t n = 0;
  while (labels && labels[n])
    n++;
  if (f->kind != kind || f->nlabels != n || f->nbuckets != nb)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (strcmp(f->labels[i], labels[i]))
      return 0;
  return !nb || !memcmp(f->buckets, buckets, nb * sizeof *buckets);
}

static int valid_family(const char *name, const char *const *labels,
                        const double *buckets, size_t nb)
{
  size_t n = 0;

  if (!valid_name(name, 0))
    return 0;
  for (; labels && labels[n]; n++)
    if (!valid_name(labels[n], 1))
      return 0;
  if (n > KAPI_METRICS_MAX_LABELS)
    return 0;
  for (size_t i = 0; i < nb; i++)
    if (!isfinite(buckets[i]) || (i && !(buckets[i] > buckets[i - 1])))
      return 0;
  return 1;
}

static kapi_metric *add_family(kapi_metrics *m, enum kind kind,
                               const char *name, const char *help,
                               const char *const *labels,
                               const double *buckets, size_t nb)
{
  kapi_metric **pp, *f;

  if (!m || !valid_family(name, labels, buckets, nb))
    return NULL;
  pthread_mutex_lock(&m->mu);
  for (pp = &m->families; *pp && strcmp((*pp)->name, name) < 0;
       pp = &(*pp)->next)
    ;
  if (*pp && !strcmp((*pp)->name, name)) {
    f = same_family(*pp, kind, labels, buckets, nb) ? *pp : NULL;
    pthread_mutex_unlock(&m->mu);
    return f;
  }
  if ((f = family_new(kind, name, help, labels, buckets, nb))) {
    f->reg = m;
    f->next = *pp;
    *pp = f;
  }
  pthread_mutex_unlock(&m->mu);
  /* A family without labels has its single series from the start. */
  if (f && !f->nlabels)
    series_make(f, hash_values(NULL, 0), NULL, 1);
  return f;
}

kapi_metric *kapi_metrics_counter(kapi_metrics *m, const char *name,
                                  const char *help, const char *const *labels)
{
  return add_family(m, COUNTER, name, help, labels, NULL, 0);
}

kapi_metric *kapi_metrics_gauge(kapi_metrics *m, const char *name,
                                const char *help, const char *const *labels)
{
  return add_family(m, GAUGE, name, help, labels, NULL, 0);
}

kapi_metric *kapi_metrics_histogram(kapi_metrics *m, const char *name,
                                    const char *help,
                                    const char *const *labels,
                                    const double *buckets, size_t n)
{
  if (n && !buckets)
    return NULL;
  return add_family(m, HISTOGRAM, name, help, labels, buckets, n);
}

/* ---- registries -------------------------------------------------------- */

int kapi_metrics_new(size_t max_series, kapi_metrics **ret)
{
  kapi_metrics *m = calloc(1, sizeof *m);
  kapi_metric *f;

  *ret = NULL;
  if (!m)
    return -ENOMEM;
  pthread_mutex_init(&m->mu, NULL);
  m->cap = max_series ? max_series : KAPI_METRICS_DEFAULT_CAP;
  f = kapi_metrics_counter(m, "kapi_metrics_dropped_series_total",
                           "Series not made because the registry was full "
                           "or a label value too long.",
                           NULL);
  if (!f) {
    kapi_metrics_free(m);
    return -ENOMEM;
  }
  m->dropped = kapi_metric_with(f, NULL);
  *ret = m;
  return 0;
}

void kapi_metrics_free(kapi_metrics *m)
{
  kapi_metric *f, *next;

  if (!m)
    return;
  for (f = m->families; f; f = next) {
    next = f->next;
    family_free(f);
  }
  free(m->collectors);
  pthread_mutex_destroy(&m->mu);
  free(m);
}

int kapi_metrics_add_collector(kapi_metrics *m,
                               void (*fn)(kapi_metrics *m, void *arg),
                               void *arg)
{
  struct collector *c;

  if (!m)
    return -ENOMEM;
  pthread_mutex_lock(&m->mu);
  c = realloc(m->collectors, (m->ncollectors + 1) * sizeof *c);
  if (c) {
    c[m->ncollectors].fn = fn;
    c[m->ncollectors].arg = arg;
    m->collectors = c;
    m->ncollectors++;
  }
  pthread_mutex_unlock(&m->mu);
  return c ? 0 : -ENOMEM;
}

static kapi_metrics *default_registry;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void default_init(void)
{
  kapi_metrics *m;
  if (kapi_metrics_new(0, &m) < 0)
    return;
  if (kapi_metrics_register_process(m) < 0) {
    kapi_metrics_free(m);
    return;
  }
  default_registry = m;
}

kapi_metrics *kapi_metrics_default(void)
{
  pthread_once(&default_once, default_init);
  return default_registry;
}

/* ---- exposition -------------------------------------------------------- */

/* Go's strconv 'g' with the shortest precision, as the Go client
 * prints: integers as integers, others with the fewest digits that
 * read back the same. */
static void put_double(struct kapi__sbuf *b, double v)
{
  char buf[40];

  if (isnan(v)) {
    kapi__sb_puts(b, "NaN");
    return;
  }
  if (isinf(v)) {
    kapi__sb_puts(b, v > 0 ? "+Inf" : "-Inf");
    return;
  }
  if (v == floor(v) && fabs(v) < 1e15) {
    snprintf(buf, sizeof buf, "%.0f", v == 0 ? 0.0 : v);
    kapi__sb_puts(b, buf);
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (strtod(buf, NULL) == v)
      break;
  }
  kapi__sb_puts(b, buf);
}

/* Label values escape \, " and newline; help texts \ and newline. */
static void put_escaped(struct kapi__sbuf *b, const char *s, int quote)
{
  for (; *s; s++) {
    if (*s == '\\')
      kapi__sb_puts(b, "\\\\");
    else if (*s == '\n')
      kapi__sb_puts(b, "\\n");
    else if (quote && *s == '"')
      kapi__sb_puts(b, "\\\"");
    else
      kapi__sb_putc(b, *s);
  }
}

/* {a="x",b="y"} with an optional le, or nothing when both are empty. */
static void put_labels(struct kapi__sbuf *b, const kapi_metric_series *s,
                       const char *le)
{
  const kapi_metric *f = s->family;

  if (!f->nlabels && !le)
    return;
  kapi__sb_putc(b, '{');
  for (size_t i = 0; i < f->nlabels; i++) {
    kapi__sb_printf(b, "%s%s=\"", i ? "," : "", f->labels[i]);
    put_escaped(b, s->values[i], 1);
    kapi__sb_putc(b, '"');
  }
  if (le)
    kapi__sb_printf(b, "%sle=\"%s\"", f->nlabels ? "," : "", le);
  kapi__sb_putc(b, '}');
}

static void put_series(struct kapi__sbuf *b, const kapi_metric_series *s)
{
  const kapi_metric *f = s->family;
  uint64_t total = 0;

  if (f->kind != HISTOGRAM) {
    kapi__sb_puts(b, f->name);
    put_labels(b, s, NULL);
    kapi__sb_putc(b, ' ');
    put_double(b, kapi_series_value(s));
    kapi__sb_putc(b, '\n');
    return;
  }
  for (size_t i = 0; i <= f->nbuckets; i++) {
    struct kapi__sbuf le = {0};
    total += atomic_load_explicit(&s->counts[i], memory_order_relaxed);
    if (i < f->nbuckets)
      put_double(&le, f->buckets[i]);
    else
      kapi__sb_puts(&le, "+Inf");
    kapi__sb_printf(b, "%s_bucket", f->name);
    put_labels(b, s, le.oom ? "" : kapi__sb_str(&le));
    kapi__sb_printf(b, " %llu\n", (unsigned long long)total);
    kapi__sb_free(&le);
  }
  kapi__sb_printf(b, "%s_sum", f->name);
  put_labels(b, s, NULL);
  kapi__sb_putc(b, ' ');
  put_double(b, bits_to_double(atomic_load_explicit(
                    (_Atomic uint64_t *)&s->value, memory_order_relaxed)));
  kapi__sb_printf(b, "\n%s_count", f->name);
  put_labels(b, s, NULL);
  kapi__sb_printf(b, " %llu\n", (unsigned long long)total);
}

static int cmp_series(const void *a, const void *b)
{
  const kapi_metric_series *x = *(kapi_metric_series *const *)a;
  const kapi_metric_series *y = *(kapi_metric_series *const *)b;
  for (size_t i = 0; i < x->family->nlabels; i++) {
    int c = strcmp(x->values[i], y->values[i]);
    if (c)
      return c;
  }
  return 0;
}

static const char *type_name(enum kind k)
{
  return k == COUNTER ? "counter" : k == GAUGE ? "gauge" : "histogram";
}

/* Caller holds m->mu, so the chains do not grow meanwhile.  A family
 * with no series yet is left out, as the Go client does. */
static int put_family(struct kapi__sbuf *b, const kapi_metric *f)
{
  kapi_metric_series **v;
  size_t n = 0;

  if (!f->nseries)
    return 0;
  if (!(v = malloc(f->nseries * sizeof *v)))
    return -ENOMEM;
  for (size_t c = 0; c < NCHAINS; c++)
    for (kapi_metric_series *s = atomic_load(&f->chains[c]); s && n < f->nseries;
         s = s->next)
      v[n++] = s;
  qsort(v, n, sizeof *v, cmp_series);
  kapi__sb_printf(b, "# HELP %s ", f->name);
  put_escaped(b, f->help, 0);
  kapi__sb_printf(b, "\n# TYPE %s %s\n", f->name, type_name(f->kind));
  for (size_t i = 0; i < n; i++)
    put_series(b, v[i]);
  free(v);
  return 0;
}

int kapi_metrics_expose(kapi_metrics *m, char **ret, size_t *len)
{
  struct kapi__sbuf b = {0};
  struct collector *c = NULL;
  size_t nc;
  int rc = 0;

  *ret = NULL;
  *len = 0;
  if (!m)
    return -ENOMEM;
  /* Collectors run unlocked: they make and set series themselves. */
  pthread_mutex_lock(&m->mu);
  nc = m->ncollectors;
  if (nc && (c = malloc(nc * sizeof *c)))
    memcpy(c, m->collectors, nc * sizeof *c);
  pthread_mutex_unlock(&m->mu);
  if (nc && !c)
    return -ENOMEM;
  for (size_t i = 0; i < nc; i++)
    c[i].fn(m, c[i].arg);
  free(c);

  pthread_mutex_lock(&m->mu);
  for (const kapi_metric *f = m->families; f && !rc; f = f->next)
    rc = put_family(&b, f);
  pthread_mutex_unlock(&m->mu);
  kapi__sb_reserve(&b, 0);
  if (rc < 0 || b.oom) {
    kapi__sb_free(&b);
    return -ENOMEM;
  }
  *len = b.len;
  *ret = kapi__sb_take(&b);
  return *ret ? 0 : -ENOMEM;
}

/* ---- process metrics --------------------------------------------------- */

static size_t count_fds(void)
{
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  size_t n = 0;

  if (!d)
    return 0;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n > 0 ? n - 1 : 0; /* not the one opendir holds */
}

/* Fields 14, 15 (utime, stime), 22 (starttime), 23 (vsize), 24 (rss) of
 * /proc/self/stat, counted after the command name's closing ')'. */
static int read_stat(unsigned long long f[25])
{
  char buf[1024], *p;
  FILE *fp = fopen("/proc/self/stat", "r");
  size_t n;
  int i;

  if (!fp)
    return -errno;
  n = fread(buf, 1, sizeof buf - 1, fp);
  fclose(fp);
  buf[n] = '\0';
  if (!(p = strrchr(buf, ')')))
    return -EINVAL;
  p++;
  memset(f, 0, 25 * sizeof *f);
  for (i = 3; i <= 24 && *p; i++) {
    while (*p == ' ')
      p++;
    if (i >= 4)
      f[i] = strtoull(p, &p, 10);
    else
      while (*p && *p != ' ')
        p++;
  }
  return 0;
}

static double boot_time(void)
{
  char line[256];
  FILE *fp = fopen("/proc/stat", "r");
  double bt = 0;

  if (!fp)
    return 0;
  while (fgets(line, sizeof line, fp))
    if (!strncmp(line, "btime ", 6)) {
      bt = strtod(line + 6, NULL);
      break;
    }
  fclose(fp);
  return bt;
}

static void collect_process(kapi_metrics *m, void *arg)
{
  struct process_metrics *pm = arg;
  unsigned long long f[25];
  double tck = (double)sysconf(_SC_CLK_TCK);
  struct rlimit rl;

  (void)m;
  if (read_stat(f) == 0 && tck > 0) {
    kapi_series_set(pm->cpu, (double)(f[14] + f[15]) / tck);
    kapi_series_set(pm->vsize, (double)f[23]);
    kapi_series_set(pm->rss, (double)f[24] * (double)sysconf(_SC_PAGESIZE));
  }
  kapi_series_set(pm->fds, (double)count_fds());
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
    kapi_series_set(pm->max_fds, rl.rlim_cur == RLIM_INFINITY
                                     ? INFINITY : (double)rl.rlim_cur);
}

/* The one series of a gauge without labels (NULL when refused). */
static kapi_metric_series *plain_gauge(kapi_metrics *m, const char *name,
                                       const char *help)
{
  return kapi_metric_with(kapi_metrics_gauge(m, name, help, NULL), NULL);
}

int kapi_metrics_register_process(kapi_metrics *m)
{
  struct process_metrics *pm = &m->process;
  unsigned long long f[25];
  double tck = (double)sysconf(_SC_CLK_TCK);

  pm->cpu = kapi_metric_with(
      kapi_metrics_counter(m, "process_cpu_seconds_total",
                           "User and system CPU time used, in seconds.",
                           NULL),
      NULL);
  pm->rss = plain_gauge(m, "process_resident_memory_bytes",
                        "Resident set size, in bytes.");
  pm->vsize = plain_gauge(m, "process_virtual_memory_bytes",
                          "Virtual memory size, in bytes.");
  pm->fds = plain_gauge(m, "process_open_fds", "Open file descriptors.");
  pm->max_fds = plain_gauge(m, "process_max_fds",
                            "Limit on open file descriptors.");
  pm->start = plain_gauge(m, "process_start_time_seconds",
                          "When the process started, in seconds since the "
                          "Unix epoch.");
  if (!pm->cpu || !pm->rss || !pm->vsize || !pm->fds || !pm->max_fds ||
      !pm->start)
    return -ENOMEM;
  if (read_stat(f) == 0 && tck > 0)
    kapi_series_set(pm->start, boot_time() + (double)f[22] / tck);
  return kapi_metrics_add_collector(m, collect_process, pm);
}
