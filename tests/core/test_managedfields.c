/*
 * test_managedfields.c - field sets with merge keys, Update ownership,
 * server-side apply: removal, conflicts and force.
 *
 * JSON is written with single quotes; J() turns them into double quotes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "managedfields.h"
#include "status.h"

static kj *J(const char *text)
{
  char *s = strdup(text), *p, err[256];
  kj *v = NULL;
  assert_non_null(s);
  for (p = s; *p; p++)
    if (*p == '\'')
      *p = '"';
  if (kj_parse(s, strlen(s), &v, err, sizeof err) < 0)
    fail_msg("bad test JSON: %s: %s", err, s);
  free(s);
  return v;
}

static void assert_json(const kj *got, const char *want)
{
  kj *w = J(want);
  char *g = kj_dump(got, NULL), *ws = kj_dump(w, NULL);
  if (!kj_equal(got, w))
    fail_msg("got  %s\nwant %s", g, ws);
  free(g);
  free(ws);
  kj_free(w);
}

/* The fieldsV1 of the entry (manager, op), or NULL. */
static const kj *entry(const kj *obj, const char *manager, const char *op)
{
  const kj *mf = kj_ptr(obj, "/metadata/managedFields");
  size_t i;
  for (i = 0; i < kj_len(mf); i++)
    if (!strcmp(kj_get_str(kj_at(mf, i), "manager"), manager) &&
        !strcmp(kj_get_str(kj_at(mf, i), "operation"), op))
      return kj_get(kj_at(mf, i), "fieldsV1");
  return NULL;
}

static void test_fieldset_merge_keys(void **state)
{
  kj *pod = J("{'apiVersion':'v1','kind':'Pod','metadata':{'name':'p',"
              "'namespace':'d','uid':'u','labels':{'app':'a'},"
              "'finalizers':['x']},'spec':{'containers':[{'name':'nginx',"
              "'image':'nginx','ports':[{'containerPort':80}]}],"
              "'tolerations':[{'key':'k'}]}}");
  kj *set = kapi_fieldset_of(pod, "Pod");
  (void)state;
  assert_json(set, "{'f:metadata':{'f:labels':{'f:app':{}},"
              "'f:finalizers':{'v:\\'x\\'':{}}},"
              "'f:spec':{'f:containers':{'k:{\\'name\\':\\'nginx\\'}':{'.':{},"
              "'f:name':{},'f:image':{},'f:ports':{"
              "'k:{\\'containerPort\\':80}':{'.':{},'f:containerPort':{}}}}},"
              "'f:tolerations':{}}}");
  kj_free(set);
  kj_free(pod);
}

static void test_update_moves_ownership(void **state)
{
  kj *old = J("{'metadata':{'name':'r'},'spec':{'replicas':1,'x':'y'}}");
  kj *obj;
  (void)state;
  assert_int_equal(kapi_managed_record_update(old, NULL, "ReplicaSet",
                                              "kubectl-create", "apps/v1",
                                              1000), 0);
  assert_json(entry(old, "kubectl-create", "Update"),
              "{'f:spec':{'f:replicas':{},'f:x':{}}}");
  obj = kj_clone(old);
  kj_set_int(kj_get(obj, "spec"), "replicas", 3);
  assert_int_equal(kapi_managed_record_update(obj, old, "ReplicaSet",
                                              "kubectl-scale", "apps/v1",
                                              2000), 0);
  assert_json(entry(obj, "kubectl-create", "Update"),
              "{'f:spec':{'f:x':{}}}");
  assert_json(entry(obj, "kubectl-scale", "Update"),
              "{'f:spec':{'f:replicas':{}}}");
  assert_string_equal(kj_get_str(kj_at(kj_ptr(obj, "/metadata/managedFields"),
                                       1), "time"), "1970-01-01T00:33:20Z");
  kj_free(obj);
  kj_free(old);
}

static void test_apply_removes_fields(void **state)
{
  kj *obj = kj_object();
  kj *a1 = J("{'metadata':{'name':'p','labels':{'a':'1','b':'2'}}}");
  kj *a2 = J("{'metadata':{'name':'p','labels':{'a':'1'}}}");
  kapi_error e;
  (void)state;
  kapi_error_init(&e);
  assert_int_equal(kapi_managed_apply(&obj, a1, "Pod", "kubectl", "v1", 0, 1,
                                      &e), 0);
  assert_string_equal(kj_ptr(obj, "/metadata/labels/b")->u.str.s, "2");
  assert_int_equal(kapi_managed_apply(&obj, a2, "Pod", "kubectl", "v1", 0, 2,
                                      &e), 0);
  assert_null(kj_ptr(obj, "/metadata/labels/b"));
  assert_non_null(kj_ptr(obj, "/metadata/labels/a"));
  assert_json(entry(obj, "kubectl", "Apply"),
              "{'f:metadata':{'f:labels':{'f:a':{}}}}");
  kj_free(obj);
  kj_free(a1);
  kj_free(a2);
}

/* Applying the same configuration again changes nothing, timestamp
 * included, so the server can see a no-op; a real change moves it. */
static void test_apply_again_keeps_time(void **state)
{
  kj *obj = kj_object(), *before;
  kj *a1 = J("{'metadata':{'name':'p','labels':{'a':'1'}}}");
  kj *a2 = J("{'metadata':{'name':'p','labels':{'a':'2'}}}");
  kapi_error e;
  (void)state;
  kapi_error_init(&e);
  assert_int_equal(kapi_managed_apply(&obj, a1, "Pod", "m", "v1", 0, 100, &e),
                   0);
  before = kj_clone(obj);
  assert_int_equal(kapi_managed_apply(&obj, a1, "Pod", "m", "v1", 0, 5000, &e),
                   0);
  assert_true(kj_equal(obj, before));
  assert_int_equal(kapi_managed_apply(&obj, a2, "Pod", "m", "v1", 0, 5000, &e),
                   0);
  assert_false(kj_equal(kj_ptr(obj, "/metadata/managedFields/0/time"),
                        kj_ptr(before, "/metadata/managedFields/0/time")));
  kj_free(before);
  kj_free(obj);
  kj_free(a1);
  kj_free(a2);
}

static void test_apply_conflict_and_force(void **state)
{
  kj *obj = J("{'metadata':{'name':'r'},'spec':{'replicas':1}}");
  kj *old, *cfg = J("{'metadata':{'name':'r'},'spec':{'replicas':5}}");
  kj *st;
  kapi_error e;
  (void)state;
  kapi_error_init(&e);
  assert_int_equal(kapi_managed_record_update(obj, NULL, "ReplicaSet",
                                              "kubectl-client-side-apply",
                                              "apps/v1", 0), 0);
  kj_remove(kj_at(kj_ptr(obj, "/metadata/managedFields"), 0), "time");
  old = kj_clone(obj);
  assert_int_equal(kapi_managed_apply(&obj, cfg, "ReplicaSet", "kubectl",
                                      "apps/v1", 0, 1, &e), -EBUSY);
  assert_int_equal(e.code, 409);
  assert_string_equal(e.message, "Apply failed with 1 conflict: conflict "
                      "with \"kubectl-client-side-apply\" using apps/v1: "
                      ".spec.replicas");
  st = kapi_error_to_status(&e);
  assert_string_equal(kj_get_str(kj_at(kj_ptr(st, "/details/causes"), 0),
                                 "reason"), "FieldManagerConflict");
  kj_free(st);
  kapi_error_clear(&e);
  assert_true(kj_equal(obj, old)); /* untouched on conflict */
  assert_int_equal(kapi_managed_apply(&obj, cfg, "ReplicaSet", "kubectl",
                                      "apps/v1", 1, 1, &e), 0);
  assert_string_equal(kj_ptr(obj, "/spec/replicas")->u.str.s, "5");
  assert_null(entry(obj, "kubectl-client-side-apply", "Update"));
  assert_json(entry(obj, "kubectl", "Apply"), "{'f:spec':{'f:replicas':{}}}");
  kj_free(old);
  kj_free(obj);
  kj_free(cfg);
}

static void test_same_value_is_shared(void **state)
{
  kj *obj = J("{'metadata':{'name':'r'},'spec':{'replicas':1}}");
  kj *cfg = J("{'spec':{'replicas':1}}");
  kapi_error e;
  char buf[16];
  (void)state;
  kapi_error_init(&e);
  assert_int_equal(kapi_managed_record_update(obj, NULL, NULL, "a", "v1", 0),
                   0);
  assert_int_equal(kapi_managed_apply(&obj, cfg, NULL, "b", "v1", 0, 1, &e),
                   0);
  assert_non_null(entry(obj, "a", "Update"));
  assert_non_null(entry(obj, "b", "Apply"));
  kapi_default_manager("kubectl/v1.30.0 (linux/amd64)", buf, sizeof buf);
  assert_string_equal(buf, "kubectl");
  kj_free(obj);
  kj_free(cfg);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_fieldset_merge_keys),
    cmocka_unit_test(test_update_moves_ownership),
    cmocka_unit_test(test_apply_removes_fields),
    cmocka_unit_test(test_apply_again_keeps_time),
    cmocka_unit_test(test_apply_conflict_and_force),
    cmocka_unit_test(test_same_value_is_shared),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
