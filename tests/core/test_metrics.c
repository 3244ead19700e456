/*
 * test_metrics.c - the metrics registry: exposition text, escaping,
 * the series cap, concurrent updates.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapi/metrics.h"

/* The exposition minus the registry's own drop counter (always first
 * by name among kapi_*, but tests compare whole texts, so cut it). */
static char *expose(kapi_metrics *m)
{
  static const char drop[] =
      "# HELP kapi_metrics_dropped_series_total ";
  char *text, *p, *end;
  size_t len;

  assert_int_equal(kapi_metrics_expose(m, &text, &len), 0);
  assert_int_equal(strlen(text), len);
  if ((p = strstr(text, drop))) {
    /* HELP, TYPE and the value: three lines */
    end = p;
    for (int i = 0; i < 3; i++)
      end = strchr(end, '\n') + 1;
    memmove(p, end, strlen(end) + 1);
  }
  return text;
}

static double dropped(kapi_metrics *m)
{
  char *text, *p;
  size_t len;
  double v;

  assert_int_equal(kapi_metrics_expose(m, &text, &len), 0);
  p = strstr(text, "\nkapi_metrics_dropped_series_total ");
  assert_non_null(p);
  v = strtod(p + strlen("\nkapi_metrics_dropped_series_total "), NULL);
  free(text);
  return v;
}

static void counter_and_gauge_text(void **state)
{
  static const char *const labels[] = {"verb", "code", NULL};
  kapi_metrics *m;
  kapi_metric *c, *g;
  char *text;
  (void)state;

  assert_int_equal(kapi_metrics_new(0, &m), 0);
  c = kapi_metrics_counter(m, "requests_total", "All requests.", labels);
  g = kapi_metrics_gauge(m, "inflight", "Now.\nIn flight \\ here", NULL);
  assert_non_null(c);
  assert_non_null(g);
  /* registering again: the same family; a different shape: refused */
  assert_ptr_equal(kapi_metrics_counter(m, "requests_total", "x", labels), c);
  assert_null(kapi_metrics_gauge(m, "requests_total", "x", labels));
  assert_null(kapi_metrics_counter(m, "bad-name", "x", NULL));
  assert_null(kapi_metrics_counter(m, "ok", "x",
                                   (const char *const[]){"le", NULL}));

  kapi_series_inc(kapi_metric_with(c, (const char *const[]){"POST", "201"}));
  kapi_series_add(kapi_metric_with(c, (const char *const[]){"GET", "200"}),
                  2);
  kapi_series_inc(kapi_metric_with(c, (const char *const[]){"GET", "200"}));
  kapi_series_add(kapi_metric_with(c, (const char *const[]){"GET", "404"}),
                  -5); /* counters only go up */
  kapi_series_set(kapi_metric_with(g, NULL), 2.5);
  kapi_series_dec(kapi_metric_with(g, NULL));
  assert_true(kapi_series_value(kapi_metric_with(g, NULL)) == 1.5);

  text = expose(m);
  assert_string_equal(text,
                      "# HELP inflight Now.\\nIn flight \\\\ here\n"
                      "# TYPE inflight gauge\n"
                      "inflight 1.5\n"
                      "# HELP requests_total All requests.\n"
                      "# TYPE requests_total counter\n"
                      "requests_total{verb=\"GET\",code=\"200\"} 3\n"
                      "requests_total{verb=\"GET\",code=\"404\"} 0\n"
                      "requests_total{verb=\"POST\",code=\"201\"} 1\n");
  free(text);
  kapi_metrics_free(m);
}

static void histogram_text(void **state)
{
  static const double b[] = {0.005, 0.5, 1, 2.5};
  kapi_metrics *m;
  kapi_metric *h;
  kapi_metric_series *s;
  char *text;
  (void)state;

  assert_int_equal(kapi_metrics_new(0, &m), 0);
  h = kapi_metrics_histogram(m, "latency_seconds", "Latency.",
                             (const char *const[]){"verb", NULL}, b, 4);
  assert_non_null(h);
  assert_null(kapi_metrics_histogram(m, "unsorted", "x", NULL,
                                     (const double[]){2, 1}, 2));
  s = kapi_metric_with(h, (const char *const[]){"GET"});
  kapi_series_observe(s, 0.005); /* le is inclusive */
  kapi_series_observe(s, 0.25);
  kapi_series_observe(s, 2);
  kapi_series_observe(s, 100);
  kapi_series_inc(s); /* not for histograms */
  assert_true(kapi_series_value(s) == 4);
  text = expose(m);
  assert_string_equal(text,
                      "# HELP latency_seconds Latency.\n"
                      "# TYPE latency_seconds histogram\n"
                      "latency_seconds_bucket{verb=\"GET\",le=\"0.005\"} 1\n"
                      "latency_seconds_bucket{verb=\"GET\",le=\"0.5\"} 2\n"
                      "latency_seconds_bucket{verb=\"GET\",le=\"1\"} 2\n"
                      "latency_seconds_bucket{verb=\"GET\",le=\"2.5\"} 3\n"
                      "latency_seconds_bucket{verb=\"GET\",le=\"+Inf\"} 4\n"
                      "latency_seconds_sum{verb=\"GET\"} 102.255\n"
                      "latency_seconds_count{verb=\"GET\"} 4\n");
  free(text);
  kapi_metrics_free(m);
}

static void label_values_are_escaped(void **state)
{
  kapi_metrics *m;
  kapi_metric *c;
  char *text;
  (void)state;

  assert_int_equal(kapi_metrics_new(0, &m), 0);
  c = kapi_metrics_counter(m, "x_total", "X.",
                           (const char *const[]){"path", "empty", NULL});
  kapi_series_inc(kapi_metric_with(
      c, (const char *const[]){"a\"b\\c\nd", NULL}));
  text = expose(m);
  assert_string_equal(text, "# HELP x_total X.\n"
                            "# TYPE x_total counter\n"
                            "x_total{path=\"a\\\"b\\\\c\\nd\",empty=\"\"} 1\n");
  free(text);
  kapi_metrics_free(m);
}

static void series_cap_is_enforced(void **state)
{
  kapi_metrics *m;
  kapi_metric *c;
  char v[16], big[KAPI_METRICS_MAX_VALUE + 2];
  int made = 0;
  (void)state;

  /* the cap counts every series but the registry's own drop counter */
  assert_int_equal(kapi_metrics_new(5, &m), 0);
  c = kapi_metrics_counter(m, "random_total", "R.",
                           (const char *const[]){"verb", NULL});
  for (int i = 0; i < 100; i++) {
    kapi_metric_series *s;
    snprintf(v, sizeof v, "VERB%d", i);
    s = kapi_metric_with(c, (const char *const[]){v});
    kapi_series_inc(s); /* NULL: a no-op */
    made += s != NULL;
  }
  assert_int_equal(made, 5);
  assert_true(dropped(m) == 95);
  /* existing series still work at the cap */
  assert_non_null(kapi_metric_with(c, (const char *const[]){"VERB0"}));
  kapi_metrics_free(m);

  assert_int_equal(kapi_metrics_new(0, &m), 0);
  c = kapi_metrics_counter(m, "long_total", "L.",
                           (const char *const[]){"v", NULL});
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  assert_null(kapi_metric_with(c, (const char *const[]){big}));
  big[KAPI_METRICS_MAX_VALUE] = '\0';
  assert_non_null(kapi_metric_with(c, (const char *const[]){big}));
  assert_true(dropped(m) == 1);
  kapi_metrics_free(m);
}

struct worker {
  kapi_metric *c, *h;
  int id;
};

#define THREADS 8
#define ROUNDS 20000

/* Each thread increments a shared series and its own, and observes
 * into a shared histogram, making series as it goes. */
static void *work(void *arg)
{
  struct worker *w = arg;
  char own[16];

  snprintf(own, sizeof own, "t%d", w->id);
  for (int i = 0; i < ROUNDS; i++) {
    kapi_series_inc(kapi_metric_with(w->c, (const char *const[]){"shared"}));
    kapi_series_add(kapi_metric_with(w->c, (const char *const[]){own}), 0.5);
    kapi_series_observe(kapi_metric_with(w->h, NULL), 0.25);
  }
  return NULL;
}

static void concurrent_updates_sum(void **state)
{
  kapi_metrics *m;
  pthread_t t[THREADS];
  struct worker w[THREADS];
  kapi_metric *c, *h;
  char *text;
  size_t len;
  char line[128];
  (void)state;

  assert_int_equal(kapi_metrics_new(0, &m), 0);
  c = kapi_metrics_counter(m, "ops_total", "Ops.",
                           (const char *const[]){"who", NULL});
  h = kapi_metrics_histogram(m, "op_seconds", "Op.", NULL,
                             (const double[]){0.1, 1}, 2);
  for (int i = 0; i < THREADS; i++) {
    w[i] = (struct worker){c, h, i};
    assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
  }
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  assert_true(kapi_series_value(kapi_metric_with(
                  c, (const char *const[]){"shared"})) ==
              THREADS * ROUNDS);
  for (int i = 0; i < THREADS; i++) {
    snprintf(line, sizeof line, "t%d", i);
    assert_true(kapi_series_value(kapi_metric_with(
                    c, (const char *const[]){line})) == ROUNDS * 0.5);
  }
  assert_int_equal(kapi_metrics_expose(m, &text, &len), 0);
  snprintf(line, sizeof line, "op_seconds_bucket{le=\"1\"} %d\n",
           THREADS * ROUNDS);
  assert_non_null(strstr(text, line));
  snprintf(line, sizeof line, "op_seconds_sum %d\n", THREADS * ROUNDS / 4);
  assert_non_null(strstr(text, line));
  snprintf(line, sizeof line, "op_seconds_count %d\n", THREADS * ROUNDS);
  assert_non_null(strstr(text, line));
  free(text);
  kapi_metrics_free(m);
}

static void process_metrics_present(void **state)
{
  kapi_metrics *m = kapi_metrics_default();
  char *text;
  size_t len;
  (void)state;

  assert_non_null(m);
  assert_ptr_equal(kapi_metrics_default(), m);
  assert_int_equal(kapi_metrics_expose(m, &text, &len), 0);
  assert_non_null(strstr(text, "# TYPE process_cpu_seconds_total counter\n"));
  assert_non_null(strstr(text, "\nprocess_open_fds "));
  assert_non_null(strstr(text, "\nprocess_start_time_seconds 1"));
  assert_null(strstr(text, "\nprocess_resident_memory_bytes 0\n"));
  free(text);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(counter_and_gauge_text),
      cmocka_unit_test(histogram_text),
      cmocka_unit_test(label_values_are_escaped),
      cmocka_unit_test(series_cap_is_enforced),
      cmocka_unit_test(concurrent_updates_sum),
      cmocka_unit_test(process_metrics_present),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
