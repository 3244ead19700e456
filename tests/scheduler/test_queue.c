/*
 * test_queue.c - the scheduling queue: QueueSort order, backoff
 * durations and expiry (on a fake clock), unschedulable pods and the
 * events and flushes that move them, gates, the nominator.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "informer.h"
#include "queue.h"

#define S 1000000000LL

static int64_t fake_now;

static int64_t clock_fn(void *arg)
{
  (void)arg;
  return fake_now;
}

/* PrioritySort, as the plugin does it. */
static int less(void *arg, const kj *a, int64_t ts_a, const kj *b,
                int64_t ts_b)
{
  int64_t pa = 0, pb = 0;

  (void)arg;
  kj_to_int(kj_ptr(a, "/spec/priority"), &pa);
  kj_to_int(kj_ptr(b, "/spec/priority"), &pb);
  return pa > pb || (pa == pb && ts_a < ts_b);
}

static kapi_sched_queue *new_queue(void)
{
  kapi_sq_config cfg = {.less = less, .now = clock_fn};
  kapi_sched_queue *q;

  fake_now = 1000 * S;
  q = kapi_sq_new(&cfg);
  assert_non_null(q);
  return q;
}

/* A pod "default/<name>" with a priority and optional extra spec JSON. */
static kapi_cobj *pod(const char *name, int prio, const char *extra_spec)
{
  char buf[1024], err[128];
  kj *v = NULL;

  snprintf(buf, sizeof buf,
           "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\"},"
           "\"spec\":{\"priority\":%d%s%s,\"containers\":[{\"name\":\"c\"}]},"
           "\"status\":{\"phase\":\"Pending\"}}",
           name, prio, extra_spec ? "," : "", extra_spec ? extra_spec : "");
  assert_int_equal(kj_parse(buf, strlen(buf), &v, err, sizeof err), 0);
  return kapi_cobj_new(v);
}

static void add(kapi_sched_queue *q, const char *name, int prio)
{
  kapi_cobj *p = pod(name, prio, NULL);
  assert_int_equal(kapi_sq_add(q, p), 0);
  kapi_cobj_unref(p);
}

static const char *name_of(const kapi_qpod *qp)
{
  return kj_get_str(kj_get(qp->pod->obj, "metadata"), "name");
}

static kapi_sq_where where(kapi_sched_queue *q, const char *key)
{
  kapi_sq_where w = KAPI_SQ_N;
  assert_int_equal(kapi_sq_where_is(q, key, &w), 0);
  return w;
}

static void pops_by_priority_then_queue_time(void **state)
{
  kapi_sched_queue *q = new_queue();
  const char *want[] = {"high", "mid-early", "mid-late", "low"};
  (void)state;

  add(q, "low", 1);
  fake_now += S;
  add(q, "mid-early", 5);
  fake_now += S;
  add(q, "high", 100);
  fake_now += S;
  add(q, "mid-late", 5);
  assert_int_equal(kapi_sq_count(q, KAPI_SQ_ACTIVE), 4);
  for (int i = 0; i < 4; i++) {
    kapi_qpod *qp = kapi_sq_try_pop(q);
    assert_non_null(qp);
    assert_string_equal(name_of(qp), want[i]);
    assert_int_equal(qp->attempts, 1);
    kapi_sq_done(q, qp);
  }
  assert_null(kapi_sq_try_pop(q));
  kapi_sq_free(q);
}

static void backoff_doubles_from_one_second_to_ten(void **state)
{
  kapi_sched_queue *q = new_queue();
  (void)state;

  assert_int_equal(kapi_sq_backoff_duration(q, 1), 1 * S);
  assert_int_equal(kapi_sq_backoff_duration(q, 2), 2 * S);
  assert_int_equal(kapi_sq_backoff_duration(q, 3), 4 * S);
  assert_int_equal(kapi_sq_backoff_duration(q, 4), 8 * S);
  assert_int_equal(kapi_sq_backoff_duration(q, 5), 10 * S);
  assert_int_equal(kapi_sq_backoff_duration(q, 30), 10 * S);
  kapi_sq_free(q);
}

static void error_goes_to_backoff_until_it_expires(void **state)
{
  kapi_sched_queue *q = new_queue();
  kapi_qpod *qp;
  (void)state;

  add(q, "p", 0);
  for (int attempt = 1; attempt <= 3; attempt++) {
    int64_t wait = kapi_sq_backoff_duration(q, attempt);
    qp = kapi_sq_try_pop(q);
    assert_non_null(qp);
    assert_int_equal(qp->attempts, attempt);
    kapi_sq_requeue(q, qp, 0); /* an error, not a fit failure */
    assert_int_equal(where(q, "default/p"), KAPI_SQ_BACKOFF);
    fake_now += wait - 1;
    kapi_sq_flush_backoff(q);
    assert_int_equal(where(q, "default/p"), KAPI_SQ_BACKOFF);
    fake_now += 1;
    kapi_sq_flush_backoff(q);
    assert_int_equal(where(q, "default/p"), KAPI_SQ_ACTIVE);
  }
  kapi_sq_free(q);
}

static void unschedulable_waits_for_an_event(void **state)
{
  kapi_sched_queue *q = new_queue();
  kapi_qpod *qp;
  (void)state;

  add(q, "p", 0);
  qp = kapi_sq_try_pop(q);
  kapi_sq_requeue(q, qp, 1);
  assert_int_equal(where(q, "default/p"), KAPI_SQ_UNSCHEDULABLE);
  /* Backoff expiry alone does not bring it back. */
  fake_now += 20 * S;
  kapi_sq_flush_backoff(q);
  assert_int_equal(where(q, "default/p"), KAPI_SQ_UNSCHEDULABLE);
  /* A node event does; its backoff is over, so straight to activeQ. */
  kapi_sq_move_all(q, "NodeAdd");
  assert_int_equal(where(q, "default/p"), KAPI_SQ_ACTIVE);

  /* Moved right after failing: still backing off, so backoffQ first. */
  qp = kapi_sq_try_pop(q);
  assert_int_equal(qp->attempts, 2);
  kapi_sq_requeue(q, qp, 1);
  kapi_sq_move_all(q, "AssignedPodDelete");
  assert_int_equal(where(q, "default/p"), KAPI_SQ_BACKOFF);
  fake_now += kapi_sq_backoff_duration(q, 2);
  kapi_sq_flush_backoff(q);
  assert_int_equal(where(q, "default/p"), KAPI_SQ_ACTIVE);
  kapi_sq_free(q);
}

static void event_during_the_attempt_means_backoff(void **state)
{
  kapi_sched_queue *q = new_queue();
  kapi_qpod *qp;
  (void)state;

  add(q, "p", 0);
  qp = kapi_sq_try_pop(q);
  kapi_sq_move_all(q, "NodeAdd"); /* while "p" is being scheduled */
  kapi_sq_requeue(q, qp, 1);
  assert_int_equal(where(q, "default/p"), KAPI_SQ_BACKOFF);
  kapi_sq_free(q);
}

static void flush_after_five_minutes(void **state)
{
  kapi_sched_queue *q = new_queue();
  kapi_qpod *qp;
  (void)state;

  add(q, "p", 0);
  qp = kapi_sq_try_pop(q);
  kapi_sq_requeue(q, qp, 1);
  fake_now += 300 * S;
  kapi_sq_flush_unschedulable(q);
  assert_int_equal(where(q, "default/p"), KAPI_SQ_UNSCHEDULABLE);
  fake_now += 1;
  kapi_sq_flush_unschedulable(q);
  assert_int_equal(where(q, "default/p"), KAPI_SQ_ACTIVE);
  kapi_sq_free(q);
}

static void updates_requeue_only_on_spec_changes(void **state)
{
  kapi_sched_queue *q = new_queue();
  kapi_cobj *old = pod("p", 0, NULL), *status_only, *changed;
  kapi_qpod *qp;
  (void)state;

  assert_int_equal(kapi_sq_add(q, old), 0);
  qp = kapi_sq_try_pop(q);
  kapi_sq_requeue(q, qp, 1);
  /* Our own PodScheduled=False patch comes back as an update. */
  status_only = pod("p", 0, NULL);
  kj_set_str(kj_get(status_only->obj, "status"), "reason", "x");
  kapi_sq_update(q, old, status_only);
  assert_int_equal(where(q, "default/p"), KAPI_SQ_UNSCHEDULABLE);
  changed = pod("p", 0, "\"nodeSelector\":{\"a\":\"b\"}");
  fake_now += 10 * S;
  kapi_sq_update(q, status_only, changed);
  assert_int_equal(where(q, "default/p"), KAPI_SQ_ACTIVE);
  kapi_cobj_unref(old);
  kapi_cobj_unref(status_only);
  kapi_cobj_unref(changed);
  kapi_sq_free(q);
}

static void gated_pods_wait_for_their_gates(void **state)
{
  kapi_sched_queue *q = new_queue();
  kapi_cobj *g = pod("g", 0, "\"schedulingGates\":[{\"name\":\"x\"}]");
  kapi_cobj *open = pod("g", 0, NULL);
  (void)state;

  assert_int_equal(kapi_sq_add(q, g), 0);
  assert_int_equal(where(q, "default/g"), KAPI_SQ_GATED);
  assert_null(kapi_sq_try_pop(q));
  kapi_sq_move_all(q, "NodeAdd");
  assert_int_equal(where(q, "default/g"), KAPI_SQ_GATED);
  kapi_sq_update(q, g, open);
  assert_int_equal(where(q, "default/g"), KAPI_SQ_ACTIVE);
  kapi_cobj_unref(g);
  kapi_cobj_unref(open);
  kapi_sq_free(q);
}

static void deleted_in_flight_is_dropped(void **state)
{
  kapi_sched_queue *q = new_queue();
  kapi_qpod *qp;
  kapi_sq_where w;
  (void)state;

  add(q, "p", 0);
  add(q, "gone", 0);
  assert_int_equal(kapi_sq_delete(q, "default/gone"), 0);
  assert_int_equal(kapi_sq_where_is(q, "default/gone", &w), -ENOENT);
  qp = kapi_sq_try_pop(q);
  assert_false(kapi_sq_is_deleted(q, qp));
  assert_int_equal(kapi_sq_delete(q, "default/p"), 0);
  assert_true(kapi_sq_is_deleted(q, qp));
  kapi_sq_requeue(q, qp, 1);
  assert_int_equal(kapi_sq_where_is(q, "default/p", &w), -ENOENT);
  assert_int_equal(kapi_sq_count(q, KAPI_SQ_IN_FLIGHT), 0);
  kapi_sq_free(q);
}

static void nominator_lists_other_pods_of_a_node(void **state)
{
  kapi_sched_queue *q = new_queue();
  kapi_cobj *a = pod("a", 10, NULL), *b = pod("b", 5, NULL), **v;
  size_t n;
  (void)state;

  assert_false(kapi_sq_has_nominated(q));
  kapi_sq_nominate(q, a, "n1");
  kapi_sq_nominate(q, b, "n1");
  assert_int_equal(kapi_sq_nominated(q, "n1", "default/a", &v, &n), 0);
  assert_int_equal(n, 1);
  assert_string_equal(v[0]->key, "default/b");
  kapi_cobj_array_free(v, n);
  kapi_sq_nominate(q, b, "n2"); /* moves */
  assert_int_equal(kapi_sq_nominated(q, "n1", NULL, &v, &n), 0);
  assert_int_equal(n, 1);
  kapi_cobj_array_free(v, n);
  kapi_sq_unnominate(q, "default/a");
  kapi_sq_nominate(q, b, NULL);
  assert_false(kapi_sq_has_nominated(q));
  kapi_cobj_unref(a);
  kapi_cobj_unref(b);
  kapi_sq_free(q);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(pops_by_priority_then_queue_time),
      cmocka_unit_test(backoff_doubles_from_one_second_to_ten),
      cmocka_unit_test(error_goes_to_backoff_until_it_expires),
      cmocka_unit_test(unschedulable_waits_for_an_event),
      cmocka_unit_test(event_during_the_attempt_means_backoff),
      cmocka_unit_test(flush_after_five_minutes),
      cmocka_unit_test(updates_requeue_only_on_spec_changes),
      cmocka_unit_test(gated_pods_wait_for_their_gates),
      cmocka_unit_test(deleted_in_flight_is_dropped),
      cmocka_unit_test(nominator_lists_other_pods_of_a_node),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
