/*
 * test_workqueue.c - the rate-limited work queue: deduplication, a key
 * added while processed comes back after done(), the rate limiter's
 * backoff sequence and token bucket (computed on a fake clock, never
 * timed), delayed adds in due order, shutdown waking blocked getters,
 * and workers never sharing a key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "workqueue_internal.h"

#define MS 1000000ULL

/* A fake monotonic clock, read by the queue's timer thread too. */
static uint64_t fake_now;

static uint64_t fake_clock(void *arg)
{
  (void)arg;
  return __atomic_load_n(&fake_now, __ATOMIC_SEQ_CST);
}

static void advance(uint64_t ns)
{
  __atomic_add_fetch(&fake_now, ns, __ATOMIC_SEQ_CST);
}

static kapi_workqueue *fake_queue(void)
{
  kapi_workqueue *q = kapi_workqueue_new("test");

  assert_non_null(q);
  __atomic_store_n(&fake_now, 1000000 * MS, __ATOMIC_SEQ_CST);
  kapi__workqueue_set_clock(q, fake_clock, NULL);
  return q;
}

/* get() must succeed with `want`; the key is marked done. */
static void expect_get(kapi_workqueue *q, const char *want)
{
  char *key = NULL;

  assert_int_equal(kapi_workqueue_get(q, &key), 0);
  assert_string_equal(key, want);
  kapi_workqueue_done(q, key);
  free(key);
}

static void test_dedup(void **state)
{
  kapi_workqueue *q = kapi_workqueue_new("dedup");

  (void)state;
  kapi_workqueue_add(q, "a");
  kapi_workqueue_add(q, "b");
  kapi_workqueue_add(q, "a");
  assert_int_equal(kapi_workqueue_len(q), 2);
  expect_get(q, "a");
  expect_get(q, "b");
  assert_int_equal(kapi_workqueue_len(q), 0);
  kapi_workqueue_free(q);
}

static void test_added_while_processing(void **state)
{
  kapi_workqueue *q = kapi_workqueue_new("processing");
  char *key = NULL;

  (void)state;
  kapi_workqueue_add(q, "a");
  assert_int_equal(kapi_workqueue_get(q, &key), 0);
  assert_string_equal(key, "a");
  /* Not handed to another worker while this one holds it... */
  kapi_workqueue_add(q, "a");
  kapi_workqueue_add(q, "a");
  assert_int_equal(kapi_workqueue_len(q), 0);
  kapi_workqueue_add(q, "b");
  assert_int_equal(kapi_workqueue_len(q), 1);
  /* ...but queued again, once, when it is done. */
  kapi_workqueue_done(q, key);
  free(key);
  assert_int_equal(kapi_workqueue_len(q), 2);
  expect_get(q, "b");
  expect_get(q, "a");
  assert_int_equal(kapi_workqueue_len(q), 0);
  kapi_workqueue_free(q);
}

static void test_backoff_sequence(void **state)
{
  kapi_workqueue *q = fake_queue();
  uint64_t want = 5 * MS;

  (void)state;
  for (int i = 0; i < 12; i++) {
    assert_int_equal(kapi_workqueue_requeues(q, "k"), i);
    assert_int_equal(kapi__workqueue_when_ns(q, "k"), want);
    want *= 2;
  }
  assert_int_equal(kapi_workqueue_requeues(q, "k"), 12);
  /* Other keys back off on their own. */
  assert_int_equal(kapi__workqueue_when_ns(q, "other"), 5 * MS);
  /* forget starts over. */
  kapi_workqueue_forget(q, "k");
  assert_int_equal(kapi_workqueue_requeues(q, "k"), 0);
  assert_int_equal(kapi__workqueue_when_ns(q, "k"), 5 * MS);
  assert_int_equal(kapi__workqueue_when_ns(q, "k"), 10 * MS);
  kapi_workqueue_free(q);
}

static void test_backoff_cap(void **state)
{
  kapi_workqueue *q = fake_queue();
  uint64_t last = 0;

  (void)state;
  /* 5 ms * 2^17 = 655 s, 2^18 would be 1310 s: capped at 1000 s, and
   * it stays there (no overflow however often it fails). */
  for (int i = 0; i < 70; i++) {
    last = kapi__workqueue_when_ns(q, "k");
    if (i == 17)
      assert_int_equal(last, 655360 * MS);
    if (i >= 18)
      assert_int_equal(last, 1000000 * MS);
  }
  assert_int_equal(last, 1000000 * MS);
  kapi_workqueue_free(q);
}

static void test_token_bucket(void **state)
{
  kapi_workqueue *q = fake_queue();
  char key[32];

  (void)state;
  /* A burst of 100 distinct keys only pays the 5 ms per-key delay. */
  for (int i = 0; i < 100; i++) {
    snprintf(key, sizeof key, "k%d", i);
    assert_int_equal(kapi__workqueue_when_ns(q, key), 5 * MS);
  }
  /* Then 10 qps: each further token 100 ms later than the last. */
  assert_int_equal(kapi__workqueue_when_ns(q, "x1"), 100 * MS);
  assert_int_equal(kapi__workqueue_when_ns(q, "x2"), 200 * MS);
  /* 300 ms later the debt has shrunk by 3 tokens. */
  advance(300 * MS);
  assert_int_equal(kapi__workqueue_when_ns(q, "x3"), 5 * MS);
  assert_int_equal(kapi__workqueue_when_ns(q, "x4"), 100 * MS);
  /* After a long pause the bucket is full again, but no fuller. */
  advance(3600000 * MS);
  for (int i = 0; i < 100; i++) {
    snprintf(key, sizeof key, "y%d", i);
    assert_int_equal(kapi__workqueue_when_ns(q, key), 5 * MS);
  }
  assert_int_equal(kapi__workqueue_when_ns(q, "y100"), 100 * MS);
  kapi_workqueue_free(q);
}

static void test_add_rate_limited(void **state)
{
  kapi_workqueue *q = fake_queue();

  (void)state;
  kapi_workqueue_add_rate_limited(q, "a");
  kapi_workqueue_add_rate_limited(q, "a"); /* 10 ms: keeps the 5 ms */
  assert_int_equal(kapi_workqueue_requeues(q, "a"), 2);
  assert_int_equal(kapi__workqueue_flush_ready(q), 1);
  assert_int_equal(kapi_workqueue_len(q), 0);
  advance(5 * MS);
  assert_int_equal(kapi__workqueue_flush_ready(q), 0);
  assert_int_equal(kapi_workqueue_len(q), 1);
  expect_get(q, "a");
  kapi_workqueue_free(q);
}

static void test_delayed_order(void **state)
{
  kapi_workqueue *q = fake_queue();

  (void)state;
  kapi_workqueue_add_after(q, "a", 300);
  kapi_workqueue_add_after(q, "b", 100);
  kapi_workqueue_add_after(q, "c", 200);
  kapi_workqueue_add_after(q, "d", 100);
  kapi_workqueue_add_after(q, "e", 500);
  kapi_workqueue_add_after(q, "e", 50);  /* moves e earlier */
  kapi_workqueue_add_after(q, "b", 900); /* never postpones */
  kapi_workqueue_add_after(q, "now", 0); /* no delay at all */
  assert_int_equal(kapi_workqueue_len(q), 1);
  expect_get(q, "now");
  assert_int_equal(kapi__workqueue_flush_ready(q), 5);
  assert_int_equal(kapi_workqueue_len(q), 0);

  advance(150 * MS);
  assert_int_equal(kapi__workqueue_flush_ready(q), 2);
  assert_int_equal(kapi_workqueue_len(q), 3);
  expect_get(q, "e");
  expect_get(q, "b"); /* same due time as d: added first */
  expect_get(q, "d");

  advance(1000 * MS);
  assert_int_equal(kapi__workqueue_flush_ready(q), 0);
  expect_get(q, "c");
  expect_get(q, "a");
  assert_int_equal(kapi_workqueue_len(q), 0);
  kapi_workqueue_free(q);
}

/* With the real clock, the timer thread delivers a delayed key by
 * itself: get() blocks until then (no bound on how long is checked). */
static void test_delayed_real_clock(void **state)
{
  kapi_workqueue *q = kapi_workqueue_new("real");

  (void)state;
  kapi_workqueue_add_after(q, "late", 20);
  kapi_workqueue_add_after(q, "early", 5);
  expect_get(q, "early");
  expect_get(q, "late");
  kapi_workqueue_free(q);
}

/* ---- threads -------------------------------------------------------------- */

typedef struct getter {
  kapi_workqueue *q;
  int r;
} getter;

static void *get_thread(void *arg)
{
  getter *g = arg;
  char *key = NULL;

  g->r = kapi_workqueue_get(g->q, &key);
  free(key);
  return NULL;
}

static void test_shutdown_wakes_getters(void **state)
{
  kapi_workqueue *q = kapi_workqueue_new("shutdown");
  getter g[3];
  pthread_t t[3];
  char *key = (char *)"sentinel";

  (void)state;
  for (int i = 0; i < 3; i++) {
    g[i] = (getter){ .q = q, .r = 1 };
    assert_int_equal(pthread_create(&t[i], NULL, get_thread, &g[i]), 0);
  }
  kapi_workqueue_shutdown(q);
  for (int i = 0; i < 3; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(g[i].r, -EPIPE);
  }
  /* After shutdown adds are dropped and get never blocks. */
  kapi_workqueue_add(q, "a");
  kapi_workqueue_add_after(q, "b", 1);
  assert_int_equal(kapi_workqueue_len(q), 0);
  assert_int_equal(kapi_workqueue_get(q, &key), -EPIPE);
  assert_null(key);
  kapi_workqueue_free(q);
}

static void test_shutdown_drops_pending(void **state)
{
  kapi_workqueue *q = kapi_workqueue_new("drop");
  char *key = NULL;

  (void)state;
  kapi_workqueue_add(q, "a");
  kapi_workqueue_add_after(q, "b", 3600000);
  kapi_workqueue_shutdown(q);
  assert_int_equal(kapi_workqueue_get(q, &key), -EPIPE);
  kapi_workqueue_free(q); /* frees the pending keys */
}

/* Workers hammer a few keys: a key is never held by two at once, and
 * the last add of every key is processed after it was made (each worker
 * records the newest generation it saw when it got the key). */
typedef struct farm {
  kapi_workqueue *q;
  int holders[8];
  int gen[8];  /* bumped before each add */
  int seen[8]; /* gen as read by the last worker to get the key */
  int overlap;
} farm;

static void *worker(void *arg)
{
  farm *f = arg;
  char *key;

  while (kapi_workqueue_get(f->q, &key) == 0) {
    int k = key[0] - '0';

    if (__atomic_add_fetch(&f->holders[k], 1, __ATOMIC_SEQ_CST) != 1)
      __atomic_store_n(&f->overlap, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&f->seen[k], __atomic_load_n(&f->gen[k],
                                                  __ATOMIC_SEQ_CST),
                     __ATOMIC_SEQ_CST);
    sched_yield();
    __atomic_sub_fetch(&f->holders[k], 1, __ATOMIC_SEQ_CST);
    kapi_workqueue_done(f->q, key);
    free(key);
  }
  return NULL;
}

static int all_seen(farm *f)
{
  for (int k = 0; k < 8; k++)
    if (__atomic_load_n(&f->seen[k], __ATOMIC_SEQ_CST) != f->gen[k])
      return 0;
  return 1;
}

static void test_workers_never_share_a_key(void **state)
{
  farm f = { .q = kapi_workqueue_new("farm") };
  pthread_t t[4];
  time_t deadline;

  (void)state;
  for (int i = 0; i < 4; i++)
    assert_int_equal(pthread_create(&t[i], NULL, worker, &f), 0);
  for (int i = 0; i < 20000; i++) {
    char key[2] = { (char)('0' + i % 8), 0 };

    __atomic_add_fetch(&f.gen[i % 8], 1, __ATOMIC_SEQ_CST);
    kapi_workqueue_add(f.q, key);
  }
  /* A generous bound, only so that a lost add fails instead of hanging. */
  deadline = time(NULL) + 60;
  while (!all_seen(&f) && time(NULL) < deadline)
    sched_yield();
  kapi_workqueue_shutdown(f.q);
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  assert_false(f.overlap);
  assert_true(all_seen(&f));
  kapi_workqueue_free(f.q);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_dedup),
    cmocka_unit_test(test_added_while_processing),
    cmocka_unit_test(test_backoff_sequence),
    cmocka_unit_test(test_backoff_cap),
    cmocka_unit_test(test_token_bucket),
    cmocka_unit_test(test_add_rate_limited),
    cmocka_unit_test(test_delayed_order),
    cmocka_unit_test(test_delayed_real_clock),
    cmocka_unit_test(test_shutdown_wakes_getters),
    cmocka_unit_test(test_shutdown_drops_pending),
    cmocka_unit_test(test_workers_never_share_a_key),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
