/*
 * test_garbagecollector.c - the decisions of the garbage collector plugin
 * (attemptToDeleteItem, the orphan and foreground finalizers) against a
 * fake API server.
 *
 * The plugin is included whole, its `api` is the real host table, and
 * api_request goes to a fake that serves objects from a small table and
 * records every write.  No controller host is installed, so the informer
 * calls fail and every decision rests on the live GETs, as it must when
 * the caches know nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../plugins/controllers/garbagecollector/garbagecollector.c"

#include "host_ext.h"
#include "json.h"
#include "plugin_loader.h"

static kj *parse(const char *text)
{
  char err[256];
  kj *v = NULL;
  if (kj_parse(text, strlen(text), &v, err, sizeof err) < 0)
    fail_msg("bad test JSON: %s: %s", err, text);
  return v;
}

/* ---- the fake server ------------------------------------------------------ */

#define MAX_OBJS 8
#define MAX_CALLS 16

static struct {
  const char *path[MAX_OBJS];
  const char *json[MAX_OBJS];
  int n;
  char method[MAX_CALLS][8];
  char cpath[MAX_CALLS][256];
  char body[MAX_CALLS][2048];
  int calls;
} srv;

static void serve(const char *path, const char *json)
{
  srv.path[srv.n] = path;
  srv.json[srv.n++] = json;
}

static int fake_request(const char *method, const char *path,
                        const char *content_type, const char *body,
                        kapi_obj **ret, kapi_error *e)
{
  int i, c = srv.calls < MAX_CALLS ? srv.calls++ : MAX_CALLS - 1;
  (void)content_type;
  (void)e;
  if (ret)
    *ret = NULL;
  snprintf(srv.method[c], sizeof srv.method[c], "%s", method);
  snprintf(srv.cpath[c], sizeof srv.cpath[c], "%s", path);
  snprintf(srv.body[c], sizeof srv.body[c], "%s", body ? body : "");
  for (i = 0; i < srv.n; i++)
    if (!strcmp(srv.path[i], path))
      break;
  if (!strcmp(method, "GET")) {
    if (i == srv.n)
      return -ENOENT;
    if (ret)
      *ret = parse(srv.json[i]);
    return 0;
  }
  if (ret)
    *ret = parse("{}");
  return 0;
}

/* The calls that are not GETs, as "METHOD path" lines. */
static const char *writes(void)
{
  static char out[4096];
  int i;
  out[0] = '\0';
  for (i = 0; i < srv.calls; i++)
    if (strcmp(srv.method[i], "GET")) {
      strcat(out, srv.method[i]);
      strcat(out, " ");
      strcat(out, srv.cpath[i]);
      strcat(out, "\n");
    }
  return out;
}

/* The body of the n-th write. */
static kj *write_body(int n)
{
  int i;
  for (i = 0; i < srv.calls; i++)
    if (strcmp(srv.method[i], "GET") && n-- == 0)
      return parse(srv.body[i]);
  fail_msg("no such write");
  return NULL;
}

static int setup(void **state)
{
  (void)state;
  api = kapi_host_api_get();
  kapi_host_set_api_request(fake_request);
  res_add(&the_gc, "", "v1", "pods", "Pod", 1);
  res_add(&the_gc, "apps", "v1", "replicasets", "ReplicaSet", 1);
  res_add(&the_gc, "", "v1", "nodes", "Node", 0);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  kapi_host_set_api_request(NULL);
  res_free_all(&the_gc);
  return 0;
}

static int reset(void **state)
{
  (void)state;
  memset(&srv, 0, sizeof srv);
  return 0;
}

#define POD_PATH "/api/v1/namespaces/ns/pods/p"
#define RS_PATH "/apis/apps/v1/namespaces/ns/replicasets/rs"

static const char rs_ref[] =
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"rs\","
    "\"uid\":\"rs-uid\",\"controller\":true,\"blockOwnerDeletion\":true}";
static const char node_ref[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"n1\",\"uid\":"
    "\"n1-uid\"}";

static char pod_json[2048];

static const char *pod_with(const char *refs, const char *finalizers)
{
  snprintf(pod_json, sizeof pod_json,
           "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"namespace\":"
           "\"ns\",\"uid\":\"p-uid\",\"ownerReferences\":[%s]%s%s%s}}",
           refs, finalizers ? ",\"finalizers\":[" : "",
           finalizers ? finalizers : "", finalizers ? "]" : "");
  return pod_json;
}

static int run_delete(const char *key)
{
  return sync_delete(&the_gc, key);
}

/* ---- attemptToDeleteItem -------------------------------------------------------- */

static void test_owner_gone_deletes_background(void **state)
{
  kj *b;
  (void)state;
  serve(POD_PATH, pod_with(rs_ref, NULL));
  assert_int_equal(run_delete("0\tns\tp\tp-uid"), 0);
  assert_string_equal(writes(), "DELETE " POD_PATH "\n");
  b = write_body(0);
  assert_string_equal(kj_str(kj_get(b, "propagationPolicy")), "Background");
  assert_string_equal(kj_str(kj_ptr(b, "/preconditions/uid")), "p-uid");
  kj_free(b);
}

static void test_owner_alive_keeps(void **state)
{
  (void)state;
  serve(POD_PATH, pod_with(rs_ref, NULL));
  serve(RS_PATH, "{\"metadata\":{\"name\":\"rs\",\"uid\":\"rs-uid\"}}");
  assert_int_equal(run_delete("0\tns\tp\tp-uid"), 0);
  assert_string_equal(writes(), "");
}

static void test_owner_replaced_counts_as_gone(void **state)
{
  (void)state;
  serve(POD_PATH, pod_with(rs_ref, NULL));
  serve(RS_PATH, "{\"metadata\":{\"name\":\"rs\",\"uid\":\"other\"}}");
  assert_int_equal(run_delete("0\tns\tp\tp-uid"), 0);
  assert_string_equal(writes(), "DELETE " POD_PATH "\n");
}

static void test_dangling_ref_removed_next_to_live_owner(void **state)
{
  char refs[1024];
  kj *b;
  (void)state;
  snprintf(refs, sizeof refs, "%s,%s", node_ref, rs_ref);
  serve(POD_PATH, pod_with(refs, NULL));
  serve("/api/v1/nodes/n1", "{\"metadata\":{\"name\":\"n1\",\"uid\":"
                            "\"n1-uid\"}}");
  assert_int_equal(run_delete("0\tns\tp\tp-uid"), 0);
  assert_string_equal(writes(), "PATCH " POD_PATH "\n");
  b = write_body(0);
  assert_string_equal(kj_str(kj_ptr(b, "/0/path")), "/metadata/uid");
  assert_string_equal(kj_str(kj_ptr(b, "/1/path")),
                      "/metadata/ownerReferences/1/uid");
  assert_string_equal(kj_str(kj_ptr(b, "/1/value")), "rs-uid");
  assert_string_equal(kj_str(kj_ptr(b, "/2/op")), "remove");
  assert_string_equal(kj_str(kj_ptr(b, "/2/path")),
                      "/metadata/ownerReferences/1");
  assert_null(kj_at(b, 3));
  kj_free(b);
}

static void test_own_finalizer_picks_policy(void **state)
{
  kj *b;
  (void)state;
  serve(POD_PATH, pod_with(rs_ref, "\"orphan\""));
  assert_int_equal(run_delete("0\tns\tp\tp-uid"), 0);
  b = write_body(0);
  assert_string_equal(kj_str(kj_get(b, "propagationPolicy")), "Orphan");
  kj_free(b);
  reset(state);
  serve(POD_PATH, pod_with(rs_ref, "\"foregroundDeletion\""));
  assert_int_equal(run_delete("0\tns\tp\tp-uid"), 0);
  b = write_body(0);
  assert_string_equal(kj_str(kj_get(b, "propagationPolicy")), "Foreground");
  kj_free(b);
}

static void test_waiting_owner_without_dependents(void **state)
{
  kj *b;
  (void)state;
  serve(POD_PATH, pod_with(rs_ref, NULL));
  serve(RS_PATH, "{\"metadata\":{\"name\":\"rs\",\"uid\":\"rs-uid\","
                 "\"deletionTimestamp\":\"2025-01-01T00:00:00Z\","
                 "\"finalizers\":[\"foregroundDeletion\"]}}");
  assert_int_equal(run_delete("0\tns\tp\tp-uid"), 0);
  assert_string_equal(writes(), "DELETE " POD_PATH "\n");
  b = write_body(0);
  assert_string_equal(kj_str(kj_get(b, "propagationPolicy")), "Background");
  kj_free(b);
}

static void test_gone_or_replaced_item_is_left(void **state)
{
  (void)state;
  assert_int_equal(run_delete("0\tns\tp\tp-uid"), 0); /* 404 */
  serve(POD_PATH, pod_with(rs_ref, NULL));
  assert_int_equal(run_delete("0\tns\tp\tnot-this-one"), 0);
  assert_string_equal(writes(), "");
  /* Malformed keys are dropped. */
  assert_int_equal(run_delete("9\tns\tp\tx"), 0);
  assert_int_equal(run_delete("garbage"), 0);
}

/* ---- finalizers ------------------------------------------------------------------- */

static void test_foreground_owner_loses_finalizer(void **state)
{
  kj *b;
  (void)state;
  /* No dependents block it (no caches here): the finalizer goes. */
  serve(RS_PATH, "{\"metadata\":{\"name\":\"rs\",\"namespace\":\"ns\","
                 "\"uid\":\"rs-uid\",\"deletionTimestamp\":"
                 "\"2025-01-01T00:00:00Z\",\"finalizers\":[\"a\","
                 "\"foregroundDeletion\"]}}");
  assert_int_equal(run_delete("1\tns\trs\trs-uid"), 0);
  assert_string_equal(writes(), "PUT " RS_PATH "\n");
  b = write_body(0);
  assert_int_equal(kj_len(kj_ptr(b, "/metadata/finalizers")), 1);
  assert_string_equal(kj_str(kj_ptr(b, "/metadata/finalizers/0")), "a");
  kj_free(b);
}

static void test_orphan_owner_loses_finalizer(void **state)
{
  kj *b;
  (void)state;
  serve(RS_PATH, "{\"metadata\":{\"name\":\"rs\",\"namespace\":\"ns\","
                 "\"uid\":\"rs-uid\",\"deletionTimestamp\":"
                 "\"2025-01-01T00:00:00Z\",\"finalizers\":[\"orphan\"]}}");
  assert_int_equal(sync_orphan(&the_gc, "1\tns\trs\trs-uid"), 0);
  assert_string_equal(writes(), "PUT " RS_PATH "\n");
  b = write_body(0);
  assert_int_equal(kj_len(kj_ptr(b, "/metadata/finalizers")), 0);
  kj_free(b);
  /* Not being deleted: nothing to do. */
  reset(state);
  serve(RS_PATH, "{\"metadata\":{\"name\":\"rs\",\"namespace\":\"ns\","
                 "\"uid\":\"rs-uid\",\"finalizers\":[\"orphan\"]}}");
  assert_int_equal(sync_orphan(&the_gc, "1\tns\trs\trs-uid"), 0);
  assert_string_equal(writes(), "");
}

static void test_remove_last_ref_drops_list(void **state)
{
  kj *pod = parse(pod_with(rs_ref, NULL)), *b;
  const char *uids[] = {"rs-uid"};
  (void)state;
  assert_int_equal(remove_owner_refs(&the_gc.r[0], pod, uids, 1), 0);
  b = write_body(0);
  assert_string_equal(kj_str(kj_ptr(b, "/1/path")),
                      "/metadata/ownerReferences/0/uid");
  assert_string_equal(kj_str(kj_ptr(b, "/2/path")), "/metadata/ownerReferences");
  kj_free(b);
  kj_free(pod);
}

static void test_paths_and_kinds(void **state)
{
  char path[256];
  kj *ref = parse(rs_ref), *nref = parse(node_ref),
     *bad = parse("{\"apiVersion\":\"batch/v1\",\"kind\":\"ReplicaSet\"}");
  (void)state;
  assert_ptr_equal(res_for_ref(&the_gc, ref), &the_gc.r[1]);
  assert_ptr_equal(res_for_ref(&the_gc, nref), &the_gc.r[2]);
  assert_null(res_for_ref(&the_gc, bad));
  obj_path(path, sizeof path, &the_gc.r[2], "ignored", "n1");
  assert_string_equal(path, "/api/v1/nodes/n1");
  obj_path(path, sizeof path, &the_gc.r[1], "ns", "rs");
  assert_string_equal(path, RS_PATH);
  kj_free(ref);
  kj_free(nref);
  kj_free(bad);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_owner_gone_deletes_background, reset),
      cmocka_unit_test_setup(test_owner_alive_keeps, reset),
      cmocka_unit_test_setup(test_owner_replaced_counts_as_gone, reset),
      cmocka_unit_test_setup(test_dangling_ref_removed_next_to_live_owner,
                             reset),
      cmocka_unit_test_setup(test_own_finalizer_picks_policy, reset),
      cmocka_unit_test_setup(test_waiting_owner_without_dependents, reset),
      cmocka_unit_test_setup(test_gone_or_replaced_item_is_left, reset),
      cmocka_unit_test_setup(test_foreground_owner_loses_finalizer, reset),
      cmocka_unit_test_setup(test_orphan_owner_loses_finalizer, reset),
      cmocka_unit_test_setup(test_remove_last_ref_drops_list, reset),
      cmocka_unit_test_setup(test_paths_and_kinds, reset),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
