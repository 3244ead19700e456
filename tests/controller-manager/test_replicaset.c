/*
 * test_replicaset.c - the pure logic of the ReplicaSet controller plugin:
 * expectations, slow-start batches, the deletion ranking, label
 * selectors, pods from the template, the status, and the adoption and
 * release patches.
 *
 * The plugin is one .c file whose helpers are static, so it is included
 * here; its `api` is the real host table, and requests to the API server
 * go to a fake api_request hook that records them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../plugins/controllers/replicaset/replicaset.c"

#include "host_ext.h"
#include "json.h"
#include "plugin_loader.h"

/* 2025-01-01T00:00:00Z */
#define T0 1735689600LL
#define SEC 1000000000LL

static kj *parse(const char *text)
{
  char err[256];
  kj *v = NULL;
  if (kj_parse(text, strlen(text), &v, err, sizeof err) < 0)
    fail_msg("bad test JSON: %s: %s", err, text);
  return v;
}

static int setup(void **state)
{
  (void)state;
  api = kapi_host_api_get();
  return 0;
}

/* ---- expectations ------------------------------------------------------ */

static void test_expectations_creations(void **state)
{
  exp_store s;
  int64_t now = T0 * SEC;
  (void)state;

  exp_init(&s);
  assert_true(exp_satisfied(&s, "ns/rs", now)); /* no record */
  exp_expect_creations(&s, "ns/rs", 2, now);
  assert_false(exp_satisfied(&s, "ns/rs", now));
  exp_creation_observed(&s, "ns/rs");
  assert_false(exp_satisfied(&s, "ns/rs", now));
  exp_creation_observed(&s, "ns/rs");
  assert_true(exp_satisfied(&s, "ns/rs", now));
  /* Other keys are untouched. */
  exp_expect_creations(&s, "ns/other", 1, now);
  assert_true(exp_satisfied(&s, "ns/rs", now));
  assert_false(exp_satisfied(&s, "ns/other", now));
  /* Skipped creates lower the count at once. */
  exp_expect_creations(&s, "ns/rs", 10, now);
  exp_lower(&s, "ns/rs", 10, 0);
  assert_true(exp_satisfied(&s, "ns/rs", now));
  exp_destroy(&s);
}

static void test_expectations_expire(void **state)
{
  exp_store s;
  int64_t now = T0 * SEC;
  (void)state;

  exp_init(&s);
  exp_expect_creations(&s, "ns/rs", 3, now);
  assert_false(exp_satisfied(&s, "ns/rs", now + 5 * 60 * SEC));
  assert_true(exp_satisfied(&s, "ns/rs", now + 5 * 60 * SEC + 1));
  exp_delete(&s, "ns/rs");
  assert_true(exp_satisfied(&s, "ns/rs", now));
  exp_destroy(&s);
}

static void test_expectations_deletions_track_keys(void **state)
{
  const char *keys[] = {"ns/a", "ns/b"};
  exp_store s;
  int64_t now = T0 * SEC;
  (void)state;

  exp_init(&s);
  exp_expect_deletions(&s, "ns/rs", keys, 2, now);
  assert_false(exp_satisfied(&s, "ns/rs", now));
  /* A pod we did not delete does not count... */
  exp_deletion_observed(&s, "ns/rs", "ns/zzz");
  exp_deletion_observed(&s, "ns/rs", "ns/a");
  assert_false(exp_satisfied(&s, "ns/rs", now));
  /* ...nor does the same pod twice (update then delete). */
  exp_deletion_observed(&s, "ns/rs", "ns/a");
  assert_false(exp_satisfied(&s, "ns/rs", now));
  exp_deletion_observed(&s, "ns/rs", "ns/b");
  assert_true(exp_satisfied(&s, "ns/rs", now));
  /* A creation record replaces the deletion one. */
  exp_expect_deletions(&s, "ns/rs", keys, 2, now);
  exp_expect_creations(&s, "ns/rs", 0, now);
  assert_true(exp_satisfied(&s, "ns/rs", now));
  exp_destroy(&s);
}

/* ---- slow start ------------------------------------------------------------ */

typedef struct calls {
  pthread_mutex_t mu;
  size_t n;
  long fail_at; /* index that fails, -1 for none */
  unsigned char seen[1024];
} calls;

static int counting_fn(void *arg, size_t i)
{
  calls *c = arg;
  pthread_mutex_lock(&c->mu);
  c->n++;
  c->seen[i]++;
  pthread_mutex_unlock(&c->mu);
  return (long)i == c->fail_at ? -EIO : 0;
}

static size_t run_batches(size_t count, long fail_at, calls *c, int *err)
{
  size_t ok;
  memset(c, 0, sizeof *c);
  pthread_mutex_init(&c->mu, NULL);
  c->fail_at = fail_at;
  ok = slow_start_batch(count, SLOW_START_INITIAL_BATCH, counting_fn, c, err);
  pthread_mutex_destroy(&c->mu);
  return ok;
}

static void test_slow_start_all_succeed(void **state)
{
  calls c;
  int err;
  size_t i;
  (void)state;

  assert_int_equal(run_batches(500, -1, &c, &err), 500);
  assert_int_equal(err, 0);
  assert_int_equal(c.n, 500);
  for (i = 0; i < 500; i++)
    assert_int_equal(c.seen[i], 1);
  assert_int_equal(run_batches(0, -1, &c, &err), 0);
  assert_int_equal(c.n, 0);
}

static void test_slow_start_stops_after_failing_batch(void **state)
{
  calls c;
  int err;
  (void)state;

  /* Batches 1, 2, 4: index 3 fails in the third, which still runs whole. */
  assert_int_equal(run_batches(10, 3, &c, &err), 6);
  assert_int_equal(err, -EIO);
  assert_int_equal(c.n, 7);
  assert_int_equal(c.seen[7], 0);
  /* The first call fails: nothing more is tried. */
  assert_int_equal(run_batches(10, 0, &c, &err), 0);
  assert_int_equal(c.n, 1);
  /* Batch boundaries for 500: ..., [127, 255), then the last 245. */
  assert_int_equal(run_batches(500, 254, &c, &err), 254);
  assert_int_equal(c.n, 255);
  assert_int_equal(run_batches(500, 255, &c, &err), 499);
  assert_int_equal(c.n, 500);
}

/* ---- ranking ---------------------------------------------------------------- */

/* A pod: name, node, phase, ready (lastTransitionTime offset s, <0 not
 * ready), restarts, created (offset s from T0), deletion cost. */
static kj *pod(const char *name, const char *node, const char *phase,
               long ready_at, int restarts, long created, const char *cost)
{
  char text[2048], ts[64], cts[64];
  format_time((T0 + ready_at) * SEC, ts, sizeof ts);
  format_time((T0 + created) * SEC, cts, sizeof cts);
  snprintf(text, sizeof text,
           "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns\",\"uid\":"
           "\"uid-%s\",\"creationTimestamp\":\"%s\"%s%s%s},"
           "\"spec\":{\"nodeName\":\"%s\"},"
           "\"status\":{\"phase\":\"%s\",\"conditions\":[{\"type\":\"Ready\","
           "\"status\":\"%s\",\"lastTransitionTime\":\"%s\"}],"
           "\"containerStatuses\":[{\"name\":\"c\",\"restartCount\":%d}]}}",
           name, name, cts,
           cost ? ",\"annotations\":{\"controller.kubernetes.io/"
                  "pod-deletion-cost\":\"" : "",
           cost ? cost : "", cost ? "\"}" : "", node, phase,
           ready_at >= 0 ? "True" : "False", ts, restarts);
  return parse(text);
}

/* Sorts pods (deleting `diff`), writes the names in order into out. */
static void order(kj **pods, size_t n, size_t diff, char *out, size_t len)
{
  ranked_pod rp[16];
  size_t i;
  out[0] = '\0';
  for (i = 0; i < n; i++)
    rp[i].pod = pods[i];
  rank_pods_for_deletion(rp, n, (const kapi_obj *const *)pods, n, diff,
                         (T0 + 100000) * SEC);
  for (i = 0; i < n; i++) {
    strncat(out, str_at(rp[i].pod, "/metadata/name"), len - strlen(out) - 2);
    strcat(out, " ");
  }
}

static void free_pods(kj **pods, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    kj_free(pods[i]);
}

static void test_rank_rules(void **state)
{
  char got[512];
  kj *p[8];
  (void)state;

  /* 1. unassigned first; 2. Pending < Unknown < Running. */
  p[0] = pod("running", "n1", "Running", -1, 0, 0, NULL);
  p[1] = pod("unknown", "n2", "Unknown", -1, 0, 0, NULL);
  p[2] = pod("pending", "n3", "Pending", -1, 0, 0, NULL);
  p[3] = pod("unassigned", "", "Running", -1, 0, 0, NULL);
  order(p, 4, 1, got, sizeof got);
  assert_string_equal(got, "unassigned pending unknown running ");
  free_pods(p, 4);

  /* 3. not ready before ready; 4. lower deletion cost first. */
  p[0] = pod("ready", "n1", "Running", 10, 0, 0, NULL);
  p[1] = pod("notready", "n2", "Running", -1, 0, 0, NULL);
  p[2] = pod("cheap", "n3", "Running", 10, 0, 0, "-5");
  p[3] = pod("dear", "n4", "Running", 10, 0, 0, "100");
  order(p, 4, 1, got, sizeof got);
  assert_string_equal(got, "notready cheap ready dear ");
  free_pods(p, 4);

  /* 5. more related pods on the node first. */
  p[0] = pod("alone", "n1", "Running", 10, 0, 0, NULL);
  p[1] = pod("crowded-a", "n2", "Running", 10, 0, 0, NULL);
  p[2] = pod("crowded-b", "n2", "Running", 10, 0, 0, NULL);
  order(p, 3, 1, got, sizeof got);
  assert_string_equal(got + strlen(got) - 6, "alone ");
  free_pods(p, 3);

  /* 6. ready more recently first (log2 buckets of age); 7. more restarts
   * first; 8. newer first. */
  p[0] = pod("old-ready", "n1", "Running", 10, 0, 0, NULL);
  p[1] = pod("new-ready", "n2", "Running", 90000, 0, 0, NULL);
  order(p, 2, 1, got, sizeof got);
  assert_string_equal(got, "new-ready old-ready ");
  free_pods(p, 2);
  p[0] = pod("calm", "n1", "Running", 10, 0, 0, NULL);
  p[1] = pod("crashy", "n2", "Running", 10, 7, 0, NULL);
  order(p, 2, 1, got, sizeof got);
  assert_string_equal(got, "crashy calm ");
  free_pods(p, 2);
  p[0] = pod("older", "n1", "Pending", -1, 0, 0, NULL);
  p[1] = pod("newer", "n2", "Pending", -1, 0, 90000, NULL);
  order(p, 2, 1, got, sizeof got);
  assert_string_equal(got, "newer older ");
  free_pods(p, 2);
}

static void test_rank_same_bucket_by_uid(void **state)
{
  char got[512];
  kj *p[2];
  (void)state;

  /* Ages 99990 s and 99980 s share a log2 bucket: uid decides. */
  p[0] = pod("b", "n1", "Pending", -1, 0, 20, NULL);
  p[1] = pod("a", "n2", "Pending", -1, 0, 10, NULL);
  order(p, 2, 1, got, sizeof got);
  assert_string_equal(got, "a b ");
  free_pods(p, 2);
}

static void test_rank_not_sorted_when_all_go(void **state)
{
  char got[512];
  kj *p[2];
  (void)state;

  p[0] = pod("ready", "n1", "Running", 10, 0, 0, NULL);
  p[1] = pod("unassigned", "", "Pending", -1, 0, 0, NULL);
  order(p, 2, 2, got, sizeof got);
  assert_string_equal(got, "ready unassigned ");
  free_pods(p, 2);
}

/* ---- selectors ---------------------------------------------------------------- */

static int matches(const char *sel, const char *labels)
{
  kj *s = sel ? parse(sel) : NULL, *l = labels ? parse(labels) : NULL;
  int rc = ctl_selector_matches(s, l);
  kj_free(s);
  kj_free(l);
  return rc;
}

static void test_selectors(void **state)
{
  (void)state;
  assert_int_equal(matches("{\"matchLabels\":{\"app\":\"x\"}}",
                           "{\"app\":\"x\",\"tier\":\"y\"}"), 1);
  assert_int_equal(matches("{\"matchLabels\":{\"app\":\"x\"}}",
                           "{\"app\":\"z\"}"), 0);
  assert_int_equal(matches("{\"matchLabels\":{\"app\":\"x\"}}", NULL), 0);
  assert_int_equal(matches("{}", NULL), 1);   /* empty: everything */
  assert_int_equal(matches(NULL, "{\"a\":\"b\"}"), 0); /* nil: nothing */
  assert_int_equal(
      matches("{\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"In\","
              "\"values\":[\"a\",\"b\"]}]}", "{\"env\":\"b\"}"), 1);
  assert_int_equal(
      matches("{\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"In\","
              "\"values\":[\"a\"]}]}", "{}"), 0);
  assert_int_equal(
      matches("{\"matchExpressions\":[{\"key\":\"env\",\"operator\":"
              "\"NotIn\",\"values\":[\"a\"]}]}", "{}"), 1);
  assert_int_equal(
      matches("{\"matchExpressions\":[{\"key\":\"env\",\"operator\":"
              "\"NotIn\",\"values\":[\"a\"]}]}", "{\"env\":\"a\"}"), 0);
  assert_int_equal(
      matches("{\"matchExpressions\":[{\"key\":\"k8s.io/x\",\"operator\":"
              "\"Exists\"}]}", "{\"k8s.io/x\":\"\"}"), 1);
  assert_int_equal(
      matches("{\"matchExpressions\":[{\"key\":\"x\",\"operator\":"
              "\"DoesNotExist\"}]}", "{\"x\":\"1\"}"), 0);
  assert_int_equal(
      matches("{\"matchExpressions\":[{\"key\":\"x\",\"operator\":"
              "\"Near\"}]}", "{}"), -EINVAL);
  assert_int_equal(
      matches("{\"matchExpressions\":[{\"key\":\"x\",\"operator\":\"In\","
              "\"values\":[]}]}", "{}"), -EINVAL);
}

/* ---- pods from the template, status ------------------------------------------- */

static const char rs_json[] =
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{"
    "\"name\":\"web\",\"namespace\":\"ns\",\"uid\":\"rs-uid\","
    "\"generation\":3,\"resourceVersion\":\"7\"},"
    "\"spec\":{\"replicas\":3,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
    "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\",\"t\":\"1\"},"
    "\"annotations\":{\"a\":\"b\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
    "\"image\":\"nginx\"}]}}},\"status\":{\"replicas\":0}}";

static void test_pod_from_template(void **state)
{
  kj *rs = parse(rs_json), *p;
  char *body;
  (void)state;

  body = pod_from_template(rs);
  assert_non_null(body);
  p = parse(body);
  assert_string_equal(kj_str(kj_ptr(p, "/metadata/generateName")), "web-");
  assert_string_equal(kj_str(kj_ptr(p, "/metadata/namespace")), "ns");
  assert_string_equal(kj_str(kj_ptr(p, "/metadata/labels/t")), "1");
  assert_string_equal(kj_str(kj_ptr(p, "/metadata/annotations/a")), "b");
  assert_string_equal(kj_str(kj_ptr(p, "/metadata/ownerReferences/0/kind")),
                      "ReplicaSet");
  assert_string_equal(
      kj_str(kj_ptr(p, "/metadata/ownerReferences/0/apiVersion")), "apps/v1");
  assert_string_equal(kj_str(kj_ptr(p, "/metadata/ownerReferences/0/uid")),
                      "rs-uid");
  assert_true(kj_is_true(kj_ptr(p, "/metadata/ownerReferences/0/controller")));
  assert_true(
      kj_is_true(kj_ptr(p, "/metadata/ownerReferences/0/blockOwnerDeletion")));
  assert_string_equal(kj_str(kj_ptr(p, "/spec/containers/0/image")), "nginx");
  assert_null(kj_ptr(p, "/metadata/name"));
  kj_free(p);
  free(body);
  kj_free(rs);
}

static void test_status(void **state)
{
  kj *rs = parse(rs_json), *st, *rs2, *ready;
  const kapi_obj *pods[2];
  rs_status counts;
  char *s;
  int64_t now = (T0 + 1000) * SEC, gen;
  (void)state;

  ready = pod("p1", "n1", "Running", 10, 0, 0, NULL);
  kj_set_ptr(ready, "/metadata/labels", parse("{\"app\":\"web\",\"t\":\"1\"}"));
  pods[0] = ready;
  pods[1] = pod("p2", "", "Pending", -1, 0, 0, NULL);
  calculate_counts(rs, pods, 2, now, &counts);
  assert_int_equal(counts.replicas, 2);
  assert_int_equal(counts.fully_labeled, 1);
  assert_int_equal(counts.ready, 1);
  assert_int_equal(counts.available, 1);

  s = build_status(rs, &counts, -EIO, "quota exceeded", -1, now);
  assert_non_null(s);
  st = parse(s);
  assert_int_equal(kj_len(kj_get(st, "conditions")), 1);
  assert_string_equal(kj_str(kj_ptr(st, "/conditions/0/reason")),
                      "FailedCreate");
  assert_string_equal(kj_str(kj_ptr(st, "/conditions/0/message")),
                      "quota exceeded");
  assert_int_equal(kj_to_int(kj_get(st, "observedGeneration"), &gen), 0);
  assert_int_equal(gen, 3);
  /* The same status again: nothing to write. */
  rs2 = kj_clone(rs);
  kj_set(rs2, "status", st);
  assert_null(build_status(rs2, &counts, -EIO, "quota exceeded", -1, now));
  /* Success clears the condition. */
  free(s);
  s = build_status(rs2, &counts, 0, "", 0, now);
  assert_non_null(s);
  assert_null(strstr(s, "ReplicaFailure"));
  free(s);

  /* minReadySeconds: ready for 990 s, not yet available at 2000. */
  kj_set_ptr(rs2, "/spec/minReadySeconds", kj_int(2000));
  calculate_counts(rs2, pods, 2, now, &counts);
  assert_int_equal(counts.ready, 1);
  assert_int_equal(counts.available, 0);
  kj_free(rs2);
  kj_free(rs);
  kj_free((kj *)pods[0]);
  kj_free((kj *)pods[1]);
}

static void test_obj_with_member(void **state)
{
  kj *o = parse("{\"a\":1,\"status\":{\"x\":1},\"b\":[true]}");
  buf b = {0};
  (void)state;

  buf_obj_with(&b, o, "status", "{\"y\":2}");
  assert_string_equal(b.s, "{\"a\":1,\"status\":{\"y\":2},\"b\":[true]}");
  free(b.s);
  memset(&b, 0, sizeof b);
  buf_obj_with(&b, o, "spec", "{}");
  assert_string_equal(b.s,
                      "{\"a\":1,\"status\":{\"x\":1},\"b\":[true],\"spec\":{}}");
  free(b.s);
  kj_free(o);
}

/* ---- claiming (with a fake API server) ----------------------------------------- */

static struct fake {
  int n;
  char method[8][8];
  char path[8][256];
  char body[8][2048];
  const char *get_answer; /* JSON for GET */
  int patch_rc;
} fake;

static int fake_request(const char *method, const char *path,
                        const char *content_type, const char *body,
                        kapi_obj **ret, kapi_error *e)
{
  int i = fake.n < 8 ? fake.n++ : 7;
  (void)content_type;
  (void)e;
  snprintf(fake.method[i], sizeof fake.method[i], "%s", method);
  snprintf(fake.path[i], sizeof fake.path[i], "%s", path);
  snprintf(fake.body[i], sizeof fake.body[i], "%s", body ? body : "");
  if (ret)
    *ret = NULL;
  if (!strcmp(method, "GET")) {
    if (ret && fake.get_answer)
      *ret = parse(fake.get_answer);
    return fake.get_answer ? 0 : -ENOENT;
  }
  if (!strcmp(method, "PATCH") && fake.patch_rc)
    return fake.patch_rc;
  if (ret)
    *ret = parse("{}");
  return 0;
}

static void test_claim_adopts_and_releases(void **state)
{
  kj *rs = parse(rs_json), *orphan, *ours, *moved, *other, *p;
  const kapi_obj *in[4], *out[4];
  long n;
  (void)state;

  memset(&fake, 0, sizeof fake);
  fake.get_answer = rs_json;
  kapi_host_set_api_request(fake_request);

  orphan = parse("{\"metadata\":{\"name\":\"o\",\"namespace\":\"ns\","
                 "\"uid\":\"o-uid\",\"labels\":{\"app\":\"web\"}}}");
  ours = parse("{\"metadata\":{\"name\":\"k\",\"namespace\":\"ns\",\"uid\":"
               "\"k-uid\",\"labels\":{\"app\":\"web\"},\"ownerReferences\":[{"
               "\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":"
               "\"web\",\"uid\":\"rs-uid\",\"controller\":true}]}}");
  moved = parse("{\"metadata\":{\"name\":\"m\",\"namespace\":\"ns\",\"uid\":"
                "\"m-uid\",\"labels\":{\"app\":\"db\"},\"ownerReferences\":[{"
                "\"apiVersion\":\"v1\",\"kind\":\"Foo\",\"name\":\"f\","
                "\"uid\":\"f-uid\"},{\"apiVersion\":\"apps/v1\",\"kind\":"
                "\"ReplicaSet\",\"name\":\"web\",\"uid\":\"rs-uid\","
                "\"controller\":true}]}}");
  other = parse("{\"metadata\":{\"name\":\"x\",\"namespace\":\"ns\",\"uid\":"
                "\"x-uid\",\"labels\":{\"app\":\"web\"},\"ownerReferences\":[{"
                "\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":"
                "\"web2\",\"uid\":\"rs2-uid\",\"controller\":true}]}}");
  in[0] = orphan;
  in[1] = ours;
  in[2] = moved;
  in[3] = other;
  n = claim_pods(rs, kj_ptr(rs, "/spec/selector"), in, 4, out);
  assert_int_equal(n, 2);
  assert_ptr_equal(out[0], orphan);
  assert_ptr_equal(out[1], ours);
  /* GET (the live recheck), PATCH adopt, PATCH release. */
  assert_int_equal(fake.n, 3);
  assert_string_equal(fake.method[0], "GET");
  assert_string_equal(fake.path[0],
                      "/apis/apps/v1/namespaces/ns/replicasets/web");
  assert_string_equal(fake.path[1], "/api/v1/namespaces/ns/pods/o");
  p = parse(fake.body[1]);
  assert_string_equal(kj_str(kj_ptr(p, "/0/op")), "test");
  assert_string_equal(kj_str(kj_ptr(p, "/0/value")), "o-uid");
  assert_string_equal(kj_str(kj_ptr(p, "/1/path")), "/metadata/ownerReferences");
  assert_string_equal(kj_str(kj_ptr(p, "/1/value/0/uid")), "rs-uid");
  kj_free(p);
  assert_string_equal(fake.path[2], "/api/v1/namespaces/ns/pods/m");
  p = parse(fake.body[2]);
  assert_string_equal(kj_str(kj_ptr(p, "/1/path")),
                      "/metadata/ownerReferences/1/uid");
  assert_string_equal(kj_str(kj_ptr(p, "/2/op")), "remove");
  assert_string_equal(kj_str(kj_ptr(p, "/2/path")),
                      "/metadata/ownerReferences/1");
  kj_free(p);

  /* A ReplicaSet gone from the server adopts nothing. */
  memset(&fake, 0, sizeof fake);
  n = claim_pods(rs, kj_ptr(rs, "/spec/selector"), in, 1, out);
  assert_true(n < 0);
  assert_int_equal(fake.n, 1);

  kapi_host_set_api_request(NULL);
  kj_free(orphan);
  kj_free(ours);
  kj_free(moved);
  kj_free(other);
  kj_free(rs);
}

static void test_parse_time(void **state)
{
  (void)state;
  assert_int_equal(parse_time("2025-01-01T00:00:00Z"), T0 * SEC);
  assert_int_equal(parse_time("2025-01-01T00:00:01.5Z"), T0 * SEC + 1500000000);
  assert_int_equal(parse_time("2025-01-01T02:00:00+02:00"), T0 * SEC);
  assert_int_equal(parse_time(""), 0);
  assert_int_equal(parse_time("yesterday"), 0);
  assert_int_equal(config_int("{\"concurrentSyncs\": 7}", 22,
                              "concurrentSyncs", 5), 7);
  assert_int_equal(config_int(NULL, 0, "concurrentSyncs", 5), 5);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_expectations_creations),
      cmocka_unit_test(test_expectations_expire),
      cmocka_unit_test(test_expectations_deletions_track_keys),
      cmocka_unit_test(test_slow_start_all_succeed),
      cmocka_unit_test(test_slow_start_stops_after_failing_batch),
      cmocka_unit_test(test_rank_rules),
      cmocka_unit_test(test_rank_same_bucket_by_uid),
      cmocka_unit_test(test_rank_not_sorted_when_all_go),
      cmocka_unit_test(test_selectors),
      cmocka_unit_test(test_pod_from_template),
      cmocka_unit_test(test_status),
      cmocka_unit_test(test_obj_with_member),
      cmocka_unit_test(test_claim_adopts_and_releases),
      cmocka_unit_test(test_parse_time),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
