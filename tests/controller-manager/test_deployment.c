/*
 * test_deployment.c - the pure logic of the Deployment controller plugin:
 * the rolling-update arithmetic (fenceposts, surge and unavailability
 * budgets, old ReplicaSet scale-down, proportional scaling), the
 * pod-template-hash, template comparison and the revision annotations.
 *
 * The plugin's arithmetic and bookkeeping files are included here; their
 * `api` is the real host table (objects are parsed by the host's parser).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../plugins/controllers/deployment/rollout.c"
#include "../../plugins/controllers/deployment/rs_util.c"

#include "plugin_loader.h"

static kapi_obj *parse(const char *text)
{
  kapi_obj *o = NULL;
  if (api->obj_parse(text, strlen(text), &o, NULL) < 0)
    fail_msg("bad test JSON: %s", text);
  return o;
}

static int setup(void **state)
{
  (void)state;
  dp_rs_util_bind(kapi_host_api_get(), NULL);
  return 0;
}

/* A ReplicaSet of `replicas` (all of them available unless told). */
static dp_rs mk(const char *name, int64_t created, int32_t replicas,
                int32_t available)
{
  dp_rs r = {.name = name, .created = created, .replicas = replicas,
             .target = replicas, .status_replicas = replicas,
             .ready = available, .available = available, .max_ann = -1};
  return r;
}

static dp_spec rolling(int32_t replicas, const char *surge,
                       const char *unavailable)
{
  dp_spec d = {.replicas = replicas, .rolling = 1};
  assert_int_equal(dp_fenceposts(surge, unavailable, replicas, &d.max_surge,
                                 &d.max_unavailable), 0);
  return d;
}

/* ---- int-or-percent and fenceposts -------------------------------------- */

static void test_scaled_value(void **state)
{
  int32_t v;
  (void)state;

  assert_int_equal(dp_scaled_value("25%", 10, 1, &v), 0);
  assert_int_equal(v, 3); /* 2.5 up */
  assert_int_equal(dp_scaled_value("25%", 10, 0, &v), 0);
  assert_int_equal(v, 2); /* 2.5 down */
  assert_int_equal(dp_scaled_value("3", 10, 0, &v), 0);
  assert_int_equal(v, 3);
  assert_int_equal(dp_scaled_value("100%", 7, 0, &v), 0);
  assert_int_equal(v, 7);
  assert_int_equal(dp_scaled_value("0%", 7, 1, &v), 0);
  assert_int_equal(v, 0);
  assert_int_equal(dp_scaled_value("abc", 10, 0, &v), -EINVAL);
  assert_int_equal(dp_scaled_value("25%%", 10, 0, &v), -EINVAL);
  assert_int_equal(dp_scaled_value("", 10, 0, &v), -EINVAL);
}

static void test_fenceposts(void **state)
{
  int32_t s, u;
  (void)state;

  /* The defaults on 4, 10 and 1 replicas. */
  assert_int_equal(dp_fenceposts("25%", "25%", 4, &s, &u), 0);
  assert_int_equal(s, 1);
  assert_int_equal(u, 1);
  assert_int_equal(dp_fenceposts("25%", "25%", 10, &s, &u), 0);
  assert_int_equal(s, 3);
  assert_int_equal(u, 2);
  assert_int_equal(dp_fenceposts("25%", "25%", 1, &s, &u), 0);
  assert_int_equal(s, 1);
  assert_int_equal(u, 0);
  /* Both rounding to zero: one may be unavailable. */
  assert_int_equal(dp_fenceposts("0", "10%", 3, &s, &u), 0);
  assert_int_equal(s, 0);
  assert_int_equal(u, 1);
  /* Unset counts as 0. */
  assert_int_equal(dp_fenceposts(NULL, "2", 5, &s, &u), 0);
  assert_int_equal(s, 0);
  assert_int_equal(u, 2);
  assert_int_equal(dp_fenceposts("x", "1", 5, &s, &u), -EINVAL);
}

static void test_max_unavailable_and_surge(void **state)
{
  dp_spec d = rolling(3, "1", "5");
  dp_spec r = {.replicas = 3, .rolling = 0, .max_surge = 2,
               .max_unavailable = 2};
  (void)state;

  assert_int_equal(dp_max_unavailable(&d), 3); /* capped at replicas */
  assert_int_equal(dp_max_surge(&d), 1);
  assert_int_equal(dp_max_unavailable(&r), 0); /* Recreate */
  assert_int_equal(dp_max_surge(&r), 0);
  d.replicas = 0;
  assert_int_equal(dp_max_unavailable(&d), 0);
}

/* ---- the new ReplicaSet ------------------------------------------------- */

static void test_new_rs_new_replicas(void **state)
{
  dp_spec d = rolling(10, "25%", "25%"); /* surge 3, unavailable 2 */
  dp_rs old = mk("old", 1, 10, 10), nw = mk("new", 2, 0, 0);
  dp_rs *all[] = {&old, &nw};
  dp_spec rec = {.replicas = 10, .rolling = 0};
  (void)state;

  /* Room for 13: the new one may surge to 3. */
  assert_int_equal(dp_new_rs_new_replicas(&d, all, 2, &nw), 3);
  /* At 13 already: no more. */
  nw.target = 3;
  assert_int_equal(dp_new_rs_new_replicas(&d, all, 2, &nw), 3);
  /* Old ones gone down to 4: up to 13 - 4 = 9. */
  old.target = 4;
  assert_int_equal(dp_new_rs_new_replicas(&d, all, 2, &nw), 9);
  /* Never past the Deployment's replicas. */
  old.target = 0;
  assert_int_equal(dp_new_rs_new_replicas(&d, all, 2, &nw), 10);
  /* Recreate: everything at once. */
  nw.target = 0;
  assert_int_equal(dp_new_rs_new_replicas(&rec, all, 2, &nw), 10);
  /* maxSurge 0: only after old ones went. */
  d = rolling(3, "0", "1");
  old.target = 3;
  assert_int_equal(dp_new_rs_new_replicas(&d, all, 2, &nw), 0);
  old.target = 2;
  assert_int_equal(dp_new_rs_new_replicas(&d, all, 2, &nw), 1);
}

/* ---- old ReplicaSets ---------------------------------------------------- */

static void test_reconcile_old_available(void **state)
{
  dp_spec d = rolling(10, "25%", "25%"); /* surge 3, unavailable 2 */
  dp_rs old = mk("old", 1, 10, 10), nw = mk("new", 2, 3, 0);
  dp_rs *olds[] = {&old};
  (void)state;

  /* 13 pods, 8 must stay available, 3 new ones not ready yet: 2 go. */
  assert_int_equal(dp_reconcile_old(&d, olds, 1, &nw), 2);
  assert_int_equal(old.target, 8);
  /* Nothing more until new pods become available. */
  old = mk("old", 1, 8, 8);
  assert_int_equal(dp_reconcile_old(&d, olds, 1, &nw), 0);
  assert_int_equal(old.target, 8);
  /* Three new available: three more old ones may go. */
  nw.available = 3;
  nw.target = 5;
  nw.available = 3;
  assert_int_equal(dp_reconcile_old(&d, olds, 1, &nw), 3);
  assert_int_equal(old.target, 5);
}

static void test_reconcile_old_unhealthy_first(void **state)
{
  dp_spec d = rolling(10, "25%", "25%");
  dp_rs old = mk("old", 1, 10, 7), nw = mk("new", 2, 3, 0);
  dp_rs *olds[] = {&old};
  (void)state;

  /* Budget 13 - 8 - 3 = 2, taken from the 3 unavailable old pods; the
   * available ones (7 <= 8) must all stay. */
  assert_int_equal(dp_reconcile_old(&d, olds, 1, &nw), 2);
  assert_int_equal(old.target, 8);
}

static void test_reconcile_old_oldest_first(void **state)
{
  dp_spec d = rolling(4, "1", "1");
  dp_rs a = mk("a", 1, 2, 2), b = mk("b", 2, 2, 2), nw = mk("new", 3, 1, 1);
  dp_rs *olds[] = {&b, &a}; /* any order: sorted by creation */
  (void)state;

  /* 5 pods, 3 must stay available, 5 available: 2 go, from "a". */
  assert_int_equal(dp_reconcile_old(&d, olds, 2, &nw), 2);
  assert_int_equal(a.target, 0);
  assert_int_equal(b.target, 2);
}

static void test_reconcile_old_nothing(void **state)
{
  dp_spec d = rolling(3, "0", "1");
  dp_rs old = mk("old", 1, 0, 0), nw = mk("new", 2, 3, 3);
  dp_rs *olds[] = {&old};
  (void)state;

  assert_int_equal(dp_reconcile_old(&d, olds, 1, &nw), 0);
  /* maxUnavailable 1, surge 0: one at a time. */
  old = mk("old", 1, 3, 3);
  nw = mk("new", 2, 0, 0);
  assert_int_equal(dp_reconcile_old(&d, olds, 1, &nw), 1);
  assert_int_equal(old.target, 2);
}

/*
 * A whole rolling update, step by step, as the controller drives it: the
 * new ReplicaSet grows, old ones shrink, pods become available between
 * steps.  At every step at most replicas + maxSurge pods exist and at
 * least replicas - maxUnavailable are available; it ends with every
 * replica in the new ReplicaSet.
 */
static void simulate(int32_t replicas, const char *surge,
                     const char *unavailable)
{
  dp_spec d = rolling(replicas, surge, unavailable);
  dp_rs old = mk("old", 1, replicas, replicas), nw = mk("new", 2, 0, 0);
  dp_rs *all[] = {&old, &nw}, *olds[] = {&old};
  int32_t min_available = replicas - dp_max_unavailable(&d);
  int step;

  for (step = 0; step < 100; step++) {
    if (nw.target == replicas && old.target == 0)
      break;
    nw.target = dp_new_rs_new_replicas(&d, all, 2, &nw);
    if (nw.target > replicas)
      fail_msg("new ReplicaSet past %d: %d", replicas, nw.target);
    if (old.target + nw.target > replicas + d.max_surge)
      fail_msg("%d/%s/%s: %d pods at step %d", replicas, surge, unavailable,
               old.target + nw.target, step);
    dp_reconcile_old(&d, olds, 1, &nw);
    if (old.available > old.target) /* deleted pods stop counting */
      old.available = old.target;
    if (old.available + nw.available < min_available)
      fail_msg("%d/%s/%s: %d available at step %d", replicas, surge,
               unavailable, old.available + nw.available, step);
    nw.available = nw.target; /* the new pods become ready */
  }
  if (step == 100)
    fail_msg("%d/%s/%s: no end", replicas, surge, unavailable);
  assert_int_equal(old.target, 0);
  assert_int_equal(nw.target, replicas);
}

static void test_rolling_update_combinations(void **state)
{
  (void)state;
  simulate(10, "25%", "25%");
  simulate(4, "25%", "25%");
  simulate(1, "25%", "25%");
  simulate(3, "0", "1");
  simulate(3, "1", "0");
  simulate(5, "100%", "0");
  simulate(5, "0", "100%");
  simulate(7, "2", "3");
  simulate(100, "10%", "0%");
  simulate(2, "50%", "50%");
}

/* ---- scale() ------------------------------------------------------------ */

static void test_active_or_latest(void **state)
{
  dp_rs a = mk("a", 1, 0, 0), b = mk("b", 2, 0, 0), nw = mk("new", 3, 0, 0);
  dp_rs *olds[] = {&b, &a};
  (void)state;

  assert_ptr_equal(dp_active_or_latest(&nw, olds, 2), &nw);
  assert_ptr_equal(dp_active_or_latest(NULL, olds, 2), &b); /* latest old */
  a.target = 2;
  assert_ptr_equal(dp_active_or_latest(&nw, olds, 2), &a);
  nw.target = 1;
  assert_null(dp_active_or_latest(&nw, olds, 2));
  assert_null(dp_active_or_latest(NULL, NULL, 0));
}

static void test_saturated(void **state)
{
  dp_spec d = rolling(3, "1", "1");
  dp_rs r = mk("r", 1, 3, 3);
  (void)state;

  assert_true(dp_is_saturated(&d, &r, 3));
  assert_false(dp_is_saturated(&d, &r, -1));
  assert_false(dp_is_saturated(&d, &r, 2));
  r.available = 2;
  assert_false(dp_is_saturated(&d, &r, 3));
  assert_false(dp_is_saturated(&d, NULL, 3));
}

static void test_proportional_up(void **state)
{
  /* Mid-rollout at 5 + 1 surge (max-replicas 6), scaled to 10 (+3). */
  dp_spec d = rolling(10, "3", "2");
  dp_rs nw = mk("new", 2, 3, 3), old = mk("old", 1, 3, 3);
  dp_rs *v[] = {&old, &nw};
  (void)state;

  nw.max_ann = old.max_ann = 6;
  dp_scale_proportionally(&d, v, 2);
  /* Same size: the newer first; 3 * 13 / 6 = 6.5 -> 7 (+4), then what
   * is left (+3). */
  assert_int_equal(nw.target, 7);
  assert_int_equal(old.target, 6);
  assert_int_equal(nw.target + old.target, 13);
}

static void test_proportional_down(void **state)
{
  dp_spec d = rolling(5, "1", "1"); /* allowed 6 */
  dp_rs a = mk("a", 1, 6, 6), b = mk("b", 2, 2, 2);
  dp_rs *v[] = {&b, &a};
  (void)state;

  a.max_ann = b.max_ann = 8;
  dp_scale_proportionally(&d, v, 2);
  /* -2: a 6*6/8 = 4.5 -> 5 (-1), b 1.5 -> 2 (0), leftover -1 to the
   * largest. */
  assert_int_equal(a.target, 4);
  assert_int_equal(b.target, 2);
}

static void test_proportional_to_zero_and_fallback(void **state)
{
  dp_spec d = rolling(0, "1", "1");
  dp_rs a = mk("a", 1, 4, 4), b = mk("b", 2, 2, 2);
  dp_rs *v[] = {&a, &b};
  (void)state;

  dp_scale_proportionally(&d, v, 2);
  assert_int_equal(a.target, 0);
  assert_int_equal(b.target, 0);
  /* No max-replicas annotation: status.replicas is the base. */
  d = rolling(12, "0", "1");
  d.status_replicas = 6;
  a = mk("a", 1, 4, 4);
  b = mk("b", 2, 2, 2);
  dp_scale_proportionally(&d, v, 2);
  assert_int_equal(a.target, 8);
  assert_int_equal(b.target, 4);
}

/* ---- status ------------------------------------------------------------- */

static void test_counts_complete_progressing(void **state)
{
  dp_rs old = mk("old", 1, 1, 1), nw = mk("new", 2, 3, 2);
  dp_rs *all[] = {&old, &nw};
  dp_counts c = {0}, before;
  (void)state;

  nw.status_replicas = 3;
  dp_calc_counts(all, 2, &nw, &c);
  assert_int_equal(c.replicas, 4);
  assert_int_equal(c.updated, 3);
  assert_int_equal(c.ready, 3);
  assert_int_equal(c.available, 3);
  assert_int_equal(c.unavailable, 1);
  c.observed_generation = 2;
  assert_false(dp_complete(3, 2, &c));
  before = c;
  old = mk("old", 1, 0, 0);
  nw.available = nw.ready = 3;
  dp_calc_counts(all, 2, &nw, &c);
  c.observed_generation = 2;
  assert_true(dp_complete(3, 2, &c));
  assert_false(dp_complete(3, 3, &c)); /* generation not observed */
  assert_true(dp_progressing(&before, &c));
  assert_false(dp_progressing(&c, &c));
}

/* ---- hash --------------------------------------------------------------- */

static void test_fnv_and_encoding(void **state)
{
  char out[16];
  (void)state;

  assert_int_equal(dp_fnv32a(2166136261u, "", 0), 0x811c9dc5u);
  assert_int_equal(dp_fnv32a(2166136261u, "a", 1), 0xe40c292cu);
  assert_int_equal(dp_fnv32a(2166136261u, "foobar", 6), 0xbf9cf968u);
  dp_safe_encode(1234567890u, out, sizeof out);
  assert_string_equal(out, "56789bcdf4");
  dp_safe_encode(0, out, sizeof out);
  assert_string_equal(out, "4");
}

static void test_hash_stability(void **state)
{
  kapi_obj *a = parse("{\"metadata\":{\"labels\":{\"app\":\"web\",\"tier\":"
                      "\"x\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
                      "\"image\":\"busybox\"}]}}");
  kapi_obj *b = parse("{\"spec\":{\"containers\":[{\"image\":\"busybox\","
                      "\"name\":\"c\"}]},\"metadata\":{\"labels\":{\"tier\":"
                      "\"x\",\"app\":\"web\"}}}");
  kapi_obj *c = parse("{\"metadata\":{\"labels\":{\"app\":\"web\",\"tier\":"
                      "\"x\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
                      "\"image\":\"busybox:1.36\"}]}}");
  char ha[16], hb[16], hc[16], hcc[16], again[16];
  size_t i;
  (void)state;

  dp_template_hash(a, -1, ha, sizeof ha);
  dp_template_hash(b, -1, hb, sizeof hb);
  dp_template_hash(c, -1, hc, sizeof hc);
  dp_template_hash(a, 1, hcc, sizeof hcc);
  dp_template_hash(a, -1, again, sizeof again);
  assert_string_equal(ha, again);   /* stable */
  assert_string_equal(ha, hb);      /* member order does not matter */
  assert_string_not_equal(ha, hc);  /* the image does */
  assert_string_not_equal(ha, hcc); /* so does collisionCount */
  assert_true(strlen(ha) >= 1 && strlen(ha) <= 10);
  for (i = 0; ha[i]; i++)
    assert_non_null(strchr("bcdfghjklmnpqrstvwxz2456789", ha[i]));
  api->obj_free(a);
  api->obj_free(b);
  api->obj_free(c);
}

static void test_template_equal_ignores_hash(void **state)
{
  kapi_obj *d = parse("{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
                      "\"spec\":{\"containers\":[{\"name\":\"c\"}]}}");
  kapi_obj *rs = parse("{\"spec\":{\"containers\":[{\"name\":\"c\"}]},"
                       "\"metadata\":{\"labels\":{\"pod-template-hash\":"
                       "\"abc\",\"app\":\"web\"}}}");
  kapi_obj *other = parse("{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
                          "\"spec\":{\"containers\":[{\"name\":\"d\"}]}}");
  kapi_obj *nolabels = parse("{\"metadata\":{},\"spec\":{}}");
  kapi_obj *hashonly = parse("{\"metadata\":{\"labels\":{\"pod-template-hash\""
                             ":\"x\"}},\"spec\":{}}");
  (void)state;

  assert_true(dp_template_equal(d, rs));
  assert_true(dp_template_equal(rs, d));
  assert_false(dp_template_equal(d, other));
  assert_true(dp_template_equal(nolabels, hashonly));
  assert_false(dp_template_equal(d, nolabels));
  /* kubectl rollout undo writes "creationTimestamp": null: Go reads it
   * as the zero value, so the template is still the old one's. */
  {
    kapi_obj *undo = parse("{\"metadata\":{\"creationTimestamp\":null,"
                           "\"labels\":{\"app\":\"web\"}},\"spec\":{"
                           "\"containers\":[{\"name\":\"c\"}]}}");
    char h1[16], h2[16];
    assert_true(dp_template_equal(undo, rs));
    assert_true(dp_template_equal(rs, undo));
    dp_template_hash(undo, -1, h1, sizeof h1);
    dp_template_hash(d, -1, h2, sizeof h2);
    assert_string_equal(h1, h2);
    api->obj_free(undo);
  }
  api->obj_free(d);
  api->obj_free(rs);
  api->obj_free(other);
  api->obj_free(nolabels);
  api->obj_free(hashonly);
}

/* ---- revisions ---------------------------------------------------------- */

static void test_revisions(void **state)
{
  kapi_obj *none = parse("{\"metadata\":{}}");
  kapi_obj *three = parse("{\"metadata\":{\"annotations\":{"
                          "\"deployment.kubernetes.io/revision\":\"3\","
                          "\"deployment.kubernetes.io/desired-replicas\":\"4\","
                          "\"deployment.kubernetes.io/max-replicas\":\"x\"}}}");
  kapi_obj *bad = parse("{\"metadata\":{\"annotations\":{"
                        "\"deployment.kubernetes.io/revision\":\"3a\"}}}");
  int64_t revs[] = {3, -1, 7, 0};
  (void)state;

  assert_int_equal(dp_revision_of(none), 0);
  assert_int_equal(dp_revision_of(three), 3);
  assert_int_equal(dp_revision_of(bad), -1);
  assert_int_equal(dp_int_annotation(three, DP_DESIRED_ANN), 4);
  assert_int_equal(dp_int_annotation(three, DP_MAX_ANN), -1);
  assert_int_equal(dp_int_annotation(none, DP_DESIRED_ANN), -1);
  assert_int_equal(dp_next_revision(revs, 4), 8);
  assert_int_equal(dp_next_revision(NULL, 0), 1);
  api->obj_free(none);
  api->obj_free(three);
  api->obj_free(bad);
}

static void test_revision_history(void **state)
{
  char out[64];
  (void)state;

  assert_int_equal(dp_revision_history(NULL, "1", 2000, out, sizeof out), 0);
  assert_string_equal(out, "1");
  assert_int_equal(dp_revision_history("1,2", "3", 2000, out, sizeof out), 0);
  assert_string_equal(out, "1,2,3");
  /* Over the limit: the oldest entries go. */
  assert_int_equal(dp_revision_history("1,2,3", "4", 5, out, sizeof out), 0);
  assert_string_equal(out, "2,3,4");
  assert_int_equal(dp_revision_history("10,11", "12", 2, out, sizeof out), 0);
  assert_string_equal(out, "12");
  /* Not even the new entry fits: left as it was. */
  assert_int_equal(dp_revision_history("1", "123", 2, out, sizeof out),
                   -ENOSPC);
}

static void test_copyable_annotations(void **state)
{
  (void)state;
  assert_true(dp_copyable_annotation("example.com/team"));
  assert_false(dp_copyable_annotation(DP_REVISION_ANN));
  assert_false(dp_copyable_annotation(DP_DESIRED_ANN));
  assert_false(dp_copyable_annotation(DP_MAX_ANN));
  assert_false(dp_copyable_annotation(DP_LAST_APPLIED_ANN));
}

static void test_sorting(void **state)
{
  dp_rs a = mk("a", 1, 1, 1), b = mk("b", 2, 5, 5), c = mk("c", 3, 5, 5);
  dp_rs *v[] = {&c, &a, &b};
  (void)state;

  a.revision = 3;
  b.revision = 1;
  c.revision = 2;
  dp_sort_by_creation(v, 3);
  assert_ptr_equal(v[0], &a);
  assert_ptr_equal(v[2], &c);
  dp_sort_by_revision(v, 3);
  assert_ptr_equal(v[0], &b);
  assert_ptr_equal(v[2], &a);
  dp_sort_by_size_newer(v, 3);
  assert_ptr_equal(v[0], &c);
  assert_ptr_equal(v[1], &b);
  dp_sort_by_size_older(v, 3);
  assert_ptr_equal(v[0], &b);
  assert_ptr_equal(v[2], &a);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scaled_value),
      cmocka_unit_test(test_fenceposts),
      cmocka_unit_test(test_max_unavailable_and_surge),
      cmocka_unit_test(test_new_rs_new_replicas),
      cmocka_unit_test(test_reconcile_old_available),
      cmocka_unit_test(test_reconcile_old_unhealthy_first),
      cmocka_unit_test(test_reconcile_old_oldest_first),
      cmocka_unit_test(test_reconcile_old_nothing),
      cmocka_unit_test(test_rolling_update_combinations),
      cmocka_unit_test(test_active_or_latest),
      cmocka_unit_test(test_saturated),
      cmocka_unit_test(test_proportional_up),
      cmocka_unit_test(test_proportional_down),
      cmocka_unit_test(test_proportional_to_zero_and_fallback),
      cmocka_unit_test(test_counts_complete_progressing),
      cmocka_unit_test(test_fnv_and_encoding),
      cmocka_unit_test(test_hash_stability),
      cmocka_unit_test(test_template_equal_ignores_hash),
      cmocka_unit_test(test_revisions),
      cmocka_unit_test(test_revision_history),
      cmocka_unit_test(test_copyable_annotations),
      cmocka_unit_test(test_sorting),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
