/*
 * test_backoff.c - CrashLoopBackOff back-off (core/kubelet/backoff.c):
 * the restart delays of a crash loop computed with explicit times
 * (immediate, 10 s, 20 s ... capped at 300 s), the reset after 10 minutes
 * of running, GC, and Go's duration formatting used in the messages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "backoff.h"

#define S KL_NS_PER_S

/*
 * Plays the kubelet's doBackOff against a container that crashes `run`
 * seconds after each start: at every sync (the caller's loop ticks a
 * second at a time) a back-off check, and when not in back-off a restart
 * with Next(key, finishedAt).  delays[i] = restart time - finish time.
 */
static void crash_loop(kl_backoff *b, int64_t run, int64_t *delays, int n)
{
  int64_t now = 1000 * S, finished = now; /* first exit */
  int i = 0;
  while (i < n) {
    if (kl_backoff_in_backoff_since(b, "pod_ns_uid_app", finished, now)) {
      now += S;
      continue;
    }
    delays[i++] = (now - finished) / S;
    assert_int_equal(kl_backoff_next(b, "pod_ns_uid_app", finished, now), 0);
    finished = now + run * S; /* runs, crashes again */
    now = finished;
  }
}

static void test_sequence(void **state)
{
  kl_backoff *b = kl_backoff_new(KL_BACKOFF_INITIAL, KL_BACKOFF_MAX);
  int64_t d[9];
  static const int64_t want[9] = {0, 10, 20, 40, 80, 160, 300, 300, 300};
  int i;
  (void)state;

  crash_loop(b, 1, d, 9);
  for (i = 0; i < 9; i++)
    assert_int_equal(d[i], want[i]);
  assert_int_equal(kl_backoff_get(b, "pod_ns_uid_app"), 300 * S);
  assert_int_equal(kl_backoff_get(b, "other"), 0);
  assert_int_equal(kl_backoff_len(b), 1);
  kl_backoff_free(b);
}

static void test_reset_after_stable_run(void **state)
{
  kl_backoff *b = kl_backoff_new(KL_BACKOFF_INITIAL, KL_BACKOFF_MAX);
  const char *k = "p_ns_u_c";
  int64_t t = 5000 * S;
  (void)state;

  /* Three quick crashes: the back-off is at 40 s. */
  assert_int_equal(kl_backoff_next(b, k, t, t), 0);
  assert_int_equal(kl_backoff_next(b, k, t + 11 * S, t + 11 * S), 0);
  assert_int_equal(kl_backoff_next(b, k, t + 32 * S, t + 32 * S), 0);
  assert_int_equal(kl_backoff_get(b, k), 40 * S);
  /* A crash right after: in back-off for 40 s. */
  assert_true(kl_backoff_in_backoff_since(b, k, t + 33 * S, t + 33 * S));
  assert_true(kl_backoff_in_backoff_since(b, k, t + 33 * S, t + 72 * S));
  assert_false(kl_backoff_in_backoff_since(b, k, t + 33 * S, t + 73 * S));

  /* The restarted container then ran for 10 min + 1 s: the entry has
   * expired relative to that exit, so no back-off and a fresh 10 s. */
  {
    int64_t fin = t + 32 * S + 601 * S;
    assert_false(kl_backoff_in_backoff_since(b, k, fin, fin));
    assert_int_equal(kl_backoff_next(b, k, fin, fin), 0);
    assert_int_equal(kl_backoff_get(b, k), 10 * S);
  }
  /* Exactly 10 min is not yet stable: doubling continues. */
  kl_backoff_reset(b, k);
  assert_int_equal(kl_backoff_get(b, k), 0);
  assert_int_equal(kl_backoff_next(b, k, t, t), 0);
  assert_int_equal(kl_backoff_next(b, k, t + 600 * S, t + 600 * S), 0);
  assert_int_equal(kl_backoff_get(b, k), 20 * S);
  kl_backoff_free(b);
}

static void test_gc(void **state)
{
  kl_backoff *b = kl_backoff_new(KL_BACKOFF_INITIAL, KL_BACKOFF_MAX);
  (void)state;
  assert_int_equal(kl_backoff_next(b, "old", 0, 100 * S), 0);
  assert_int_equal(kl_backoff_next(b, "new", 0, 500 * S), 0);
  kl_backoff_gc(b, 700 * S); /* old: 600 s since update: kept */
  assert_int_equal(kl_backoff_len(b), 2);
  kl_backoff_gc(b, 701 * S); /* old: 601 s: gone */
  assert_int_equal(kl_backoff_len(b), 1);
  assert_int_equal(kl_backoff_get(b, "old"), 0);
  assert_int_equal(kl_backoff_get(b, "new"), 10 * S);
  kl_backoff_free(b);
}

static void test_format_duration(void **state)
{
  static const struct {
    int64_t ns;
    const char *want;
  } cases[] = {
      {0, "0s"},
      {10 * S, "10s"},
      {80 * S, "1m20s"},
      {160 * S, "2m40s"},
      {300 * S, "5m0s"},
      {3600 * S, "1h0m0s"},
      {3723 * S + 500000000, "1h2m3.5s"},
      {1500000000, "1.5s"},
      {250000000, "250ms"},
      {1500, "1.5\xc2\xb5s"},
      {42, "42ns"},
      {-10 * S, "-10s"},
  };
  size_t i;
  char buf[32];
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    kl_format_duration(cases[i].ns, buf, sizeof buf);
    assert_string_equal(buf, cases[i].want);
  }
}

static void test_parse_duration(void **state)
{
  static const struct {
    const char *in;
    int64_t ns;
  } cases[] = {
      {"10s", 10 * S},   {"1m30s", 90 * S},       {"500ms", 500000000},
      {"1h", 3600 * S},  {"2", 2 * S},            {"1.5s", 1500000000},
      {"250us", 250000}, {"1m0s", 60 * S},
  };
  static const char *const bad[] = {"", "s", "10", "10x", "-1s", "1s2"};
  size_t i;
  int64_t v;
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    assert_int_equal(kl_parse_duration(cases[i].in, &v), 0);
    assert_int_equal(v, cases[i].ns);
  }
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (i != 2) /* "10": a bare number is seconds */
      assert_int_equal(kl_parse_duration(bad[i], &v), -EINVAL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sequence),
      cmocka_unit_test(test_reset_after_stable_run),
      cmocka_unit_test(test_gc),
      cmocka_unit_test(test_format_duration),
      cmocka_unit_test(test_parse_duration),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
