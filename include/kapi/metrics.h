/*
 * kapi/metrics.h - a small Prometheus metrics registry.
 *
 * A registry holds metric families (counters, gauges, histograms), each
 * with a fixed list of label names.  A family has one series per tuple
 * of label values, made the first time the tuple is used.  Exposition
 * is the Prometheus text format 0.0.4.
 *
 * Cost model, so metrics can sit on hot paths:
 *   - kapi_metric_with() hashes the label values and walks a short
 *     chain without taking a lock; only making a new series locks.
 *   - kapi_series_*() updates are atomic read-modify-writes, no lock.
 *   - A series pointer stays valid until the registry is freed, so a
 *     caller whose labels do not change looks it up once and keeps it.
 *
 * Bounded memory: a registry refuses new series beyond its cap (and
 * label values longer than KAPI_METRICS_MAX_VALUE); each refusal is
 * counted in kapi_metrics_dropped_series_total.  Refused updates are
 * no-ops: every kapi_series_*() accepts NULL.  Callers must still
 * normalise free-form input (unknown verbs, resources) to a small set,
 * as upstream does, so the cap is a safety net, not the policy.
 *
 * Ownership: the registry owns every family and series; the pointers
 * it returns are borrowed and valid until kapi_metrics_free() (the
 * default registry is never freed).  Names, help texts, label names,
 * label values and bucket lists passed in are copied.
 */
#ifndef KAPI_METRICS_H
#define KAPI_METRICS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kapi_metrics kapi_metrics;        /* a registry */
typedef struct kapi_metric kapi_metric;          /* a family */
typedef struct kapi_metric_series kapi_metric_series; /* one series */

#define KAPI_METRICS_MAX_LABELS 16  /* label names per family */
#define KAPI_METRICS_MAX_VALUE 256  /* bytes in one label value */
#define KAPI_METRICS_DEFAULT_CAP 20000 /* series per registry */

/* The process-wide registry (made on first use, never freed): what
 * GET /metrics serves.  NULL only when out of memory. */
kapi_metrics *kapi_metrics_default(void);

/* A private registry holding at most max_series series (0: the
 * default cap).  0 or -ENOMEM; *ret is the caller's, for
 * kapi_metrics_free(). */
int kapi_metrics_new(size_t max_series, kapi_metrics **ret);
/* Frees the registry and everything it handed out.  NULL is a no-op. */
void kapi_metrics_free(kapi_metrics *m);

/*
 * Families.  labels is a NULL-terminated list of label names (NULL for
 * none).  Registering a name again returns the existing family when
 * the type, label names (and buckets) match, else NULL; NULL also for
 * an invalid name or out of memory.  A family without labels has its
 * one series from the start, so it is exposed as 0 before first use.
 */
kapi_metric *kapi_metrics_counter(kapi_metrics *m, const char *name,
                                  const char *help,
                                  const char *const *labels);
kapi_metric *kapi_metrics_gauge(kapi_metrics *m, const char *name,
                                const char *help, const char *const *labels);
/* buckets: n finite upper bounds, strictly increasing; +Inf is added. */
kapi_metric *kapi_metrics_histogram(kapi_metrics *m, const char *name,
                                    const char *help,
                                    const char *const *labels,
                                    const double *buckets, size_t n);

/* The series for one tuple of label values (as many as the family has
 * label names; NULL values are taken as ""), made on first use.  NULL
 * when f is NULL, the cap is reached, a value is too long, or out of
 * memory (the last three counted as dropped). */
kapi_metric_series *kapi_metric_with(kapi_metric *f,
                                     const char *const *values);

/* Updates; all accept NULL and then do nothing.  add/inc/dec/set on a
 * histogram and observe on a counter or gauge are ignored too; a
 * counter ignores negative amounts. */
void kapi_series_add(kapi_metric_series *s, double v);
void kapi_series_inc(kapi_metric_series *s);
void kapi_series_dec(kapi_metric_series *s);
void kapi_series_set(kapi_metric_series *s, double v);
void kapi_series_observe(kapi_metric_series *s, double v);
/* The current value of a counter or gauge (a histogram: its count);
 * 0 for NULL. */
double kapi_series_value(const kapi_metric_series *s);

/* Called at the start of every exposition, before any value is read:
 * the place to sample values that are cheap to read but not worth
 * updating as they change (process memory, open files).  fn and arg
 * are borrowed and must outlive the registry.  0 or -ENOMEM. */
int kapi_metrics_add_collector(kapi_metrics *m,
                               void (*fn)(kapi_metrics *m, void *arg),
                               void *arg);

/* Exposition in the text format 0.0.4: families sorted by name, series
 * by label values.  *ret is malloc'ed, NUL-terminated, the caller's to
 * free; *len its length.  0 or -ENOMEM. */
int kapi_metrics_expose(kapi_metrics *m, char **ret, size_t *len);

/* The exposition's Content-Type. */
#define KAPI_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Registers the standard process_* metrics (resident memory, CPU
 * seconds, start time, open file descriptors, read from /proc at
 * exposition).  0 or -ENOMEM. */
int kapi_metrics_register_process(kapi_metrics *m);

#ifdef __cplusplus
}
#endif
#endif
