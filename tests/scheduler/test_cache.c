/*
 * test_cache.c - the scheduler cache: requests summed per node (actual
 * and non-zero), assume / confirm / forget / expiry, copy-on-write node
 * infos under snapshots, nodes leaving with pods still on them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "sched_test_util.h"

static kapi_node_info *info(kapi_sched_cache *c, kapi_snapshot *snap,
                            const char *node)
{
  assert_int_equal(kapi_scache_snapshot(c, snap), 0);
  return kapi_snapshot_get(snap, node);
}

static void add_node(kapi_sched_cache *c, const char *name, const char *cpu,
                     const char *mem)
{
  kapi_cobj *n = make_node(name, cpu, mem, 110, NULL);
  assert_int_equal(kapi_scache_add_node(c, n), 0);
  kapi_cobj_unref(n);
}

static void requests_are_summed_per_node(void **state)
{
  kapi_sched_cache *c = kapi_scache_new(0);
  kapi_snapshot snap = {0};
  kapi_cobj *a = bound(make_pod("a", "250m", "1Gi", 0, NULL), "n1");
  kapi_cobj *b = bound(make_pod("b", NULL, NULL, 0, NULL), "n1");
  kapi_node_info *ni;
  (void)state;

  add_node(c, "n1", "4", "8Gi");
  assert_int_equal(kapi_scache_add_pod(c, a), 0);
  assert_int_equal(kapi_scache_add_pod(c, b), 0);
  ni = info(c, &snap, "n1");
  assert_non_null(ni);
  assert_int_equal(kapi_ni_allocatable(ni, "cpu"), 4000);
  assert_int_equal(kapi_ni_allocatable(ni, "memory"), 8589934592LL);
  assert_int_equal(kapi_ni_allocatable(ni, "pods"), 110);
  assert_int_equal(kapi_ni_requested(ni, "cpu", 0), 250);
  assert_int_equal(kapi_ni_requested(ni, "memory", 0), 1073741824LL);
  /* "b" requests nothing: 100m / 200Mi when scoring. */
  assert_int_equal(kapi_ni_requested(ni, "cpu", 1), 350);
  assert_int_equal(kapi_ni_requested(ni, "memory", 1),
                   1073741824LL + 209715200LL);
  assert_int_equal(kapi_ni_requested(ni, "pods", 0), 2);
  assert_int_equal(kapi_scache_remove_pod(c, a), 0);
  ni = info(c, &snap, "n1");
  assert_int_equal(kapi_ni_requested(ni, "cpu", 0), 0);
  assert_int_equal(kapi_ni_requested(ni, "cpu", 1), 100);
  kapi_cobj_unref(a);
  kapi_cobj_unref(b);
  kapi_snapshot_release(&snap);
  kapi_scache_free(c);
}

static void assumed_pods_are_confirmed_or_forgotten(void **state)
{
  kapi_sched_cache *c = kapi_scache_new(0);
  kapi_snapshot snap = {0};
  kapi_cobj *p = bound(make_pod("p", "1", NULL, 0, NULL), "n1");
  kapi_cobj *q = bound(make_pod("q", "1", NULL, 0, NULL), "n1");
  (void)state;

  add_node(c, "n1", "4", "8Gi");
  assert_int_equal(kapi_scache_assume_pod(c, p), 0);
  assert_true(kapi_scache_is_assumed(c, "default/p"));
  assert_int_equal(kapi_scache_assume_pod(c, p), -EEXIST);
  assert_int_equal(kapi_ni_requested(info(c, &snap, "n1"), "cpu", 0), 1000);
  /* The informer sees it bound: confirmed, counted once. */
  assert_int_equal(kapi_scache_finish_binding(c, "default/p", 1), 0);
  assert_int_equal(kapi_scache_add_pod(c, p), 0);
  assert_false(kapi_scache_is_assumed(c, "default/p"));
  assert_int_equal(kapi_scache_forget_pod(c, "default/p"), -ENOENT);
  assert_int_equal(kapi_ni_requested(info(c, &snap, "n1"), "cpu", 0), 1000);
  /* A failed binding: forgotten, resources back. */
  assert_int_equal(kapi_scache_assume_pod(c, q), 0);
  assert_int_equal(kapi_ni_requested(info(c, &snap, "n1"), "cpu", 0), 2000);
  assert_int_equal(kapi_scache_forget_pod(c, "default/q"), 0);
  assert_int_equal(kapi_ni_requested(info(c, &snap, "n1"), "cpu", 0), 1000);
  assert_int_equal(kapi_scache_pod_count(c), 1);
  kapi_cobj_unref(p);
  kapi_cobj_unref(q);
  kapi_snapshot_release(&snap);
  kapi_scache_free(c);
}

static void assumed_pods_expire_only_with_a_ttl(void **state)
{
  kapi_sched_cache *never = kapi_scache_new(0), *c = kapi_scache_new(10);
  kapi_cobj *p = bound(make_pod("p", "1", NULL, 0, NULL), "n1");
  (void)state;

  assert_int_equal(kapi_scache_assume_pod(never, p), 0);
  assert_int_equal(kapi_scache_finish_binding(never, "default/p", 0), 0);
  assert_int_equal(kapi_scache_cleanup_expired(never, INT64_MAX / 2), 0);
  assert_true(kapi_scache_is_assumed(never, "default/p"));

  assert_int_equal(kapi_scache_assume_pod(c, p), 0);
  /* Not before the binding finished... */
  assert_int_equal(kapi_scache_cleanup_expired(c, 1000), 0);
  assert_int_equal(kapi_scache_finish_binding(c, "default/p", 100), 0);
  /* ...nor before the TTL passed. */
  assert_int_equal(kapi_scache_cleanup_expired(c, 109), 0);
  assert_int_equal(kapi_scache_cleanup_expired(c, 110), 1);
  assert_false(kapi_scache_is_assumed(c, "default/p"));
  assert_int_equal(kapi_scache_pod_count(c), 0);
  kapi_cobj_unref(p);
  kapi_scache_free(never);
  kapi_scache_free(c);
}

static void snapshots_never_change_under_a_cycle(void **state)
{
  kapi_sched_cache *c = kapi_scache_new(0);
  kapi_snapshot old = {0}, cur = {0};
  kapi_cobj *p = bound(make_pod("p", "1", NULL, 0, NULL), "n1");
  kapi_node_info *before, *n2_before;
  (void)state;

  add_node(c, "n1", "4", "8Gi");
  add_node(c, "n2", "4", "8Gi");
  before = info(c, &old, "n1");
  n2_before = kapi_snapshot_get(&old, "n2");
  assert_int_equal(kapi_scache_add_pod(c, p), 0);
  /* The old snapshot still sees n1 empty; the new one sees the pod. */
  assert_int_equal(before->n_pods, 0);
  assert_int_equal(info(c, &cur, "n1")->n_pods, 1);
  assert_ptr_not_equal(kapi_snapshot_get(&cur, "n1"), before);
  /* Untouched nodes are shared, not copied. */
  assert_ptr_equal(kapi_snapshot_get(&cur, "n2"), n2_before);
  /* Order is the order nodes were added. */
  assert_string_equal(cur.nodes[0]->name, "n1");
  assert_string_equal(cur.nodes[1]->name, "n2");
  kapi_cobj_unref(p);
  kapi_snapshot_release(&old);
  kapi_snapshot_release(&cur);
  kapi_scache_free(c);
}

static void removed_nodes_leave_snapshots(void **state)
{
  kapi_sched_cache *c = kapi_scache_new(0);
  kapi_snapshot snap = {0};
  kapi_cobj *p = bound(make_pod("p", "1", NULL, 0, NULL), "gone");
  (void)state;

  add_node(c, "gone", "4", "8Gi");
  add_node(c, "stays", "4", "8Gi");
  assert_int_equal(kapi_scache_add_pod(c, p), 0);
  assert_int_equal(kapi_scache_remove_node(c, "gone"), 0);
  assert_int_equal(kapi_scache_snapshot(c, &snap), 0);
  assert_int_equal(snap.n, 1);
  assert_null(kapi_snapshot_get(&snap, "gone"));
  assert_int_equal(kapi_scache_node_count(c), 1);
  /* Its pod is still known until deleted; then the node is gone too. */
  assert_int_equal(kapi_scache_pod_count(c), 1);
  assert_int_equal(kapi_scache_remove_pod(c, p), 0);
  assert_int_equal(kapi_scache_pod_count(c), 0);
  /* A node coming back starts clean. */
  add_node(c, "gone", "2", "1Gi");
  assert_int_equal(kapi_ni_requested(info(c, &snap, "gone"), "cpu", 0), 0);
  assert_int_equal(snap.n, 2);
  kapi_cobj_unref(p);
  kapi_snapshot_release(&snap);
  kapi_scache_free(c);
}

static void pods_may_arrive_before_their_node(void **state)
{
  kapi_sched_cache *c = kapi_scache_new(0);
  kapi_snapshot snap = {0};
  kapi_cobj *p = bound(make_pod("p", "1", NULL, 0, NULL), "late");
  (void)state;

  assert_int_equal(kapi_scache_add_pod(c, p), 0);
  assert_int_equal(kapi_scache_snapshot(c, &snap), 0);
  assert_int_equal(snap.n, 0);
  add_node(c, "late", "4", "8Gi");
  assert_int_equal(kapi_ni_requested(info(c, &snap, "late"), "cpu", 0), 1000);
  kapi_cobj_unref(p);
  kapi_snapshot_release(&snap);
  kapi_scache_free(c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(requests_are_summed_per_node),
      cmocka_unit_test(assumed_pods_are_confirmed_or_forgotten),
      cmocka_unit_test(assumed_pods_expire_only_with_a_ttl),
      cmocka_unit_test(snapshots_never_change_under_a_cycle),
      cmocka_unit_test(removed_nodes_leave_snapshots),
      cmocka_unit_test(pods_may_arrive_before_their_node),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
