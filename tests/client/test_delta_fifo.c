/*
 * test_delta_fifo.c - upstream's DeltaFIFO semantics: per-key delta
 * order and FIFO key order, collapsing of repeated deletions, Replace
 * (Replaced deltas, deletions of queued and of cached keys missing from
 * the list, with their last known state), Resync (Sync only for keys
 * with nothing queued), has_synced, and blocking pop / close.
 *
 * Most tests close the FIFO before popping: pop then drains what is
 * queued and returns -EPIPE, so "nothing more was queued" is checked
 * without waiting.
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

#include "informer.h"

static kapi_cobj *pod(const char *name, const char *rv)
{
  char buf[256], err[128];
  kj *obj = NULL;

  snprintf(buf, sizeof buf,
           "{\"metadata\":{\"namespace\":\"ns\",\"name\":\"%s\","
           "\"resourceVersion\":\"%s\"}}",
           name, rv);
  assert_int_equal(kj_parse(buf, strlen(buf), &obj, err, sizeof err), 0);
  return kapi_cobj_new(obj);
}

static const char *rv_of(const kapi_cobj *o)
{
  return kj_get_str(kj_get(o->obj, "metadata"), "resourceVersion");
}

/* What one pop delivered, as "key:T@rv T@rv ..." with T one of
 * A U D R S. */
typedef struct popped {
  char text[512];
} popped;

static int record(void *arg, const kapi_delta *d, size_t n)
{
  popped *p = arg;
  static const char letter[] = "?AUDRS";

  snprintf(p->text, sizeof p->text, "%s:", n ? d[0].obj->key : "");
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(p->text);

    snprintf(p->text + len, sizeof p->text - len, "%s%c@%s", i ? " " : "",
             letter[d[i].type], rv_of(d[i].obj));
  }
  return 0;
}

/* Pops one key and returns its record. */
static const char *pop(kapi_delta_fifo *f)
{
  static popped p;

  p.text[0] = '\0';
  assert_int_equal(kapi_delta_fifo_pop(f, record, &p), 0);
  return p.text;
}

static void assert_drained(kapi_delta_fifo *f)
{
  popped p = { "" };

  assert_int_equal(kapi_delta_fifo_pop(f, record, &p), -EPIPE);
  assert_string_equal(p.text, "");
}

/* Queues and drops our reference. */
#define ADD(f, name, rv)                                                   \
  do {                                                                     \
    kapi_cobj *o_ = pod(name, rv);                                         \
    assert_int_equal(kapi_delta_fifo_add(f, o_), 0);                       \
    kapi_cobj_unref(o_);                                                   \
  } while (0)
#define UPDATE(f, name, rv)                                                \
  do {                                                                     \
    kapi_cobj *o_ = pod(name, rv);                                         \
    assert_int_equal(kapi_delta_fifo_update(f, o_), 0);                    \
    kapi_cobj_unref(o_);                                                   \
  } while (0)
#define DELETE(f, name, rv)                                                \
  do {                                                                     \
    kapi_cobj *o_ = pod(name, rv);                                         \
    assert_int_equal(kapi_delta_fifo_delete(f, o_), 0);                    \
    kapi_cobj_unref(o_);                                                   \
  } while (0)

static void cache(kapi_indexer *ix, const char *name, const char *rv)
{
  kapi_cobj *o = pod(name, rv);

  assert_int_equal(kapi_indexer_put(ix, o), 0);
  kapi_cobj_unref(o);
}

static void test_order(void **state)
{
  kapi_delta_fifo *f = kapi_delta_fifo_new(NULL);

  (void)state;
  ADD(f, "a", "1");
  ADD(f, "b", "2");
  UPDATE(f, "a", "3");
  ADD(f, "c", "4");
  UPDATE(f, "a", "5");
  DELETE(f, "b", "6");
  kapi_delta_fifo_close(f);
  /* Keys in first-queued order, each with all its deltas, oldest first. */
  assert_string_equal(pop(f), "ns/a:A@1 U@3 U@5");
  assert_string_equal(pop(f), "ns/b:A@2 D@6");
  assert_string_equal(pop(f), "ns/c:A@4");
  assert_drained(f);
  kapi_delta_fifo_free(f);
}

static void test_requeue_after_pop(void **state)
{
  kapi_delta_fifo *f = kapi_delta_fifo_new(NULL);

  (void)state;
  ADD(f, "a", "1");
  ADD(f, "b", "2");
  assert_string_equal(pop(f), "ns/a:A@1");
  /* A popped key queued again goes to the back. */
  UPDATE(f, "a", "3");
  kapi_delta_fifo_close(f);
  assert_string_equal(pop(f), "ns/b:A@2");
  assert_string_equal(pop(f), "ns/a:U@3");
  assert_drained(f);
  kapi_delta_fifo_free(f);
}

static void test_dedup_deletes(void **state)
{
  kapi_indexer *known = kapi_indexer_new();
  kapi_delta_fifo *f = kapi_delta_fifo_new(known);

  (void)state;
  cache(known, "a", "1");
  UPDATE(f, "a", "2");
  DELETE(f, "a", "3");
  DELETE(f, "a", "4"); /* collapses with the previous one */
  /* Known nowhere: neither cached nor queued, so it was already
   * reported and is dropped. */
  DELETE(f, "ghost", "5");
  kapi_delta_fifo_close(f);
  assert_string_equal(pop(f), "ns/a:U@2 D@4");
  assert_drained(f);
  kapi_delta_fifo_free(f);
  kapi_indexer_free(known);
}

static void test_dedup_prefers_final_state(void **state)
{
  kapi_indexer *known = kapi_indexer_new();
  kapi_delta_fifo *f = kapi_delta_fifo_new(known);

  (void)state;
  cache(known, "a", "1");
  DELETE(f, "a", "7");
  /* The relist no longer has a: its "final state unknown" deletion
   * collapses into the real one already queued, which is kept. */
  assert_int_equal(kapi_delta_fifo_replace(f, NULL, 0), 0);
  kapi_delta_fifo_close(f);
  assert_string_equal(pop(f), "ns/a:D@7");
  assert_drained(f);
  kapi_delta_fifo_free(f);
  kapi_indexer_free(known);
}

static void test_replace(void **state)
{
  kapi_indexer *known = kapi_indexer_new();
  kapi_delta_fifo *f = kapi_delta_fifo_new(known);
  kapi_cobj *list[2] = { pod("x", "10"), pod("w", "11") };

  (void)state;
  cache(known, "x", "1");
  cache(known, "y", "2"); /* cached, gone from the list */
  ADD(f, "z", "3");       /* queued, gone from the list */
  UPDATE(f, "x", "4");
  assert_int_equal(kapi_delta_fifo_replace(f, list, 2), 0);
  kapi_delta_fifo_close(f);
  /* Deleted carries the last known state: the newest queued one for z,
   * the cached one for y. */
  assert_string_equal(pop(f), "ns/z:A@3 D@3");
  assert_string_equal(pop(f), "ns/x:U@4 R@10");
  assert_string_equal(pop(f), "ns/w:R@11");
  assert_string_equal(pop(f), "ns/y:D@2");
  assert_drained(f);
  kapi_delta_fifo_free(f);
  kapi_indexer_free(known);
  kapi_cobj_unref(list[0]);
  kapi_cobj_unref(list[1]);
}

static void test_resync(void **state)
{
  kapi_indexer *known = kapi_indexer_new();
  kapi_delta_fifo *f = kapi_delta_fifo_new(known);

  (void)state;
  cache(known, "x", "1");
  cache(known, "y", "2");
  UPDATE(f, "x", "3");
  assert_int_equal(kapi_delta_fifo_resync(f), 0);
  /* Resync twice: y is already queued with a Sync, so no second one. */
  assert_int_equal(kapi_delta_fifo_resync(f), 0);
  kapi_delta_fifo_close(f);
  /* x has a newer queued change: no stale Sync from the cache. */
  assert_string_equal(pop(f), "ns/x:U@3");
  assert_string_equal(pop(f), "ns/y:S@2");
  assert_drained(f);
  kapi_delta_fifo_free(f);
  kapi_indexer_free(known);
}

static void test_resync_without_known(void **state)
{
  kapi_delta_fifo *f = kapi_delta_fifo_new(NULL);

  (void)state;
  assert_int_equal(kapi_delta_fifo_resync(f), 0);
  kapi_delta_fifo_close(f);
  assert_drained(f);
  kapi_delta_fifo_free(f);
}

static void test_has_synced(void **state)
{
  kapi_indexer *known = kapi_indexer_new();
  kapi_delta_fifo *f = kapi_delta_fifo_new(known);
  kapi_cobj *list[2] = { pod("a", "1"), pod("b", "2") };

  (void)state;
  cache(known, "gone", "0");
  assert_false(kapi_delta_fifo_has_synced(f));
  assert_int_equal(kapi_delta_fifo_replace(f, list, 2), 0);
  assert_false(kapi_delta_fifo_has_synced(f));
  /* Later events do not count toward the initial population. */
  UPDATE(f, "c", "3");
  assert_string_equal(pop(f), "ns/a:R@1");
  assert_false(kapi_delta_fifo_has_synced(f));
  assert_string_equal(pop(f), "ns/b:R@2");
  assert_false(kapi_delta_fifo_has_synced(f));
  /* The deletion found by the first Replace is part of it. */
  assert_string_equal(pop(f), "ns/gone:D@0");
  assert_true(kapi_delta_fifo_has_synced(f));
  /* A second Replace does not reset it. */
  assert_int_equal(kapi_delta_fifo_replace(f, list, 1), 0);
  assert_true(kapi_delta_fifo_has_synced(f));
  kapi_delta_fifo_free(f);
  kapi_indexer_free(known);
  kapi_cobj_unref(list[0]);
  kapi_cobj_unref(list[1]);
}

static void test_has_synced_empty(void **state)
{
  kapi_delta_fifo *f = kapi_delta_fifo_new(NULL);

  (void)state;
  assert_int_equal(kapi_delta_fifo_replace(f, NULL, 0), 0);
  assert_true(kapi_delta_fifo_has_synced(f));
  kapi_delta_fifo_free(f);
}

static int fail_with(void *arg, const kapi_delta *d, size_t n)
{
  (void)d;
  (void)n;
  return *(int *)arg;
}

static void test_pop_returns_fn_result(void **state)
{
  kapi_delta_fifo *f = kapi_delta_fifo_new(NULL);
  int want = -ENOSPC;

  (void)state;
  ADD(f, "a", "1");
  assert_int_equal(kapi_delta_fifo_pop(f, fail_with, &want), -ENOSPC);
  kapi_delta_fifo_free(f);
}

/* ---- blocking ------------------------------------------------------------ */

typedef struct popper {
  kapi_delta_fifo *f;
  popped p;
  int r;
} popper;

static void *pop_thread(void *arg)
{
  popper *t = arg;

  t->r = kapi_delta_fifo_pop(t->f, record, &t->p);
  return NULL;
}

static void test_pop_blocks_until_add(void **state)
{
  popper t = { .f = kapi_delta_fifo_new(NULL) };
  pthread_t th;

  (void)state;
  assert_int_equal(pthread_create(&th, NULL, pop_thread, &t), 0);
  ADD(t.f, "a", "1");
  pthread_join(th, NULL);
  assert_int_equal(t.r, 0);
  assert_string_equal(t.p.text, "ns/a:A@1");
  kapi_delta_fifo_free(t.f);
}

static void test_close_wakes_pop(void **state)
{
  popper t = { .f = kapi_delta_fifo_new(NULL) };
  pthread_t th;

  (void)state;
  assert_int_equal(pthread_create(&th, NULL, pop_thread, &t), 0);
  kapi_delta_fifo_close(t.f);
  pthread_join(th, NULL);
  assert_int_equal(t.r, -EPIPE);
  kapi_delta_fifo_free(t.f);
}

/* Freeing with deltas still queued releases every reference. */
static void test_free_queued(void **state)
{
  kapi_delta_fifo *f = kapi_delta_fifo_new(NULL);
  kapi_cobj *o = pod("a", "1");

  (void)state;
  assert_int_equal(kapi_delta_fifo_add(f, o), 0);
  assert_int_equal(kapi_delta_fifo_update(f, o), 0);
  assert_int_equal(o->refs, 3);
  kapi_delta_fifo_free(f);
  assert_int_equal(o->refs, 1);
  kapi_cobj_unref(o);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_order),
    cmocka_unit_test(test_requeue_after_pop),
    cmocka_unit_test(test_dedup_deletes),
    cmocka_unit_test(test_dedup_prefers_final_state),
    cmocka_unit_test(test_replace),
    cmocka_unit_test(test_resync),
    cmocka_unit_test(test_resync_without_known),
    cmocka_unit_test(test_has_synced),
    cmocka_unit_test(test_has_synced_empty),
    cmocka_unit_test(test_pop_returns_fn_result),
    cmocka_unit_test(test_pop_blocks_until_add),
    cmocka_unit_test(test_close_wakes_pop),
    cmocka_unit_test(test_free_queued),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
