/*
 * test_indexer.c - the client cache's thread-safe store: keys, put and
 * replace, remove, the common index functions, index maintenance when
 * an object's index values change, and concurrent readers and a writer.
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

/* A pod as JSON text, parsed into a cached object. */
static kapi_cobj *pod(const char *ns, const char *name, const char *node,
                      const char *owner_uid)
{
  char buf[1024], err[128];
  kj *obj = NULL;

  snprintf(buf, sizeof buf,
           "{\"metadata\":{\"name\":\"%s\"%s%s%s,\"resourceVersion\":\"1\""
           "%s%s%s},\"spec\":{\"nodeName\":\"%s\"}}",
           name, ns ? ",\"namespace\":\"" : "", ns ? ns : "", ns ? "\"" : "",
           owner_uid ? ",\"ownerReferences\":[{\"uid\":\"other\"},"
                       "{\"uid\":\""
                     : "",
           owner_uid ? owner_uid : "",
           owner_uid ? "\",\"controller\":true}]" : "", node ? node : "");
  assert_int_equal(kj_parse(buf, strlen(buf), &obj, err, sizeof err), 0);
  return kapi_cobj_new(obj);
}

/* The sorted, comma-joined keys of an array of objects. */
static char *keys_of(kapi_cobj **v, size_t n)
{
  static char out[1024];
  const char *sorted[64];

  assert_true(n < 64);
  for (size_t i = 0; i < n; i++) {
    size_t j = i;

    while (j > 0 && strcmp(sorted[j - 1], v[i]->key) > 0) {
      sorted[j] = sorted[j - 1];
      j--;
    }
    sorted[j] = v[i]->key;
  }
  out[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    if (i)
      strcat(out, ",");
    strcat(out, sorted[i]);
  }
  return out;
}

static char *by_index(kapi_indexer *ix, const char *index, const char *value)
{
  kapi_cobj **v = NULL;
  size_t n = 0;
  char *s;

  assert_int_equal(kapi_indexer_by_index(ix, index, value, &v, &n), 0);
  s = keys_of(v, n);
  kapi_cobj_array_free(v, n);
  return s;
}

static void test_keys(void **state)
{
  kapi_cobj *a = pod("ns1", "a", NULL, NULL), *b = pod(NULL, "node1", NULL,
                                                       NULL);
  (void)state;
  assert_string_equal(a->key, "ns1/a");
  assert_string_equal(b->key, "node1");
  assert_int_equal(a->refs, 1);
  assert_ptr_equal(kapi_cobj_ref(a), a);
  assert_int_equal(a->refs, 2);
  kapi_cobj_unref(a);
  kapi_cobj_unref(a);
  kapi_cobj_unref(b);
  kapi_cobj_unref(NULL);
}

static void test_index_functions(void **state)
{
  kapi_cobj *a = pod("ns1", "a", "n1", "uid-1"), *b = pod(NULL, "x", "", NULL);
  char **v = NULL;
  size_t n = 9;

  (void)state;
  assert_int_equal(kapi_index_by_namespace(a->obj, &v, &n), 0);
  assert_int_equal(n, 1);
  assert_string_equal(v[0], "ns1");
  free(v[0]);
  free(v);
  assert_int_equal(kapi_index_by_namespace(b->obj, &v, &n), 0);
  assert_int_equal(n, 1);
  assert_string_equal(v[0], "");
  free(v[0]);
  free(v);
  assert_int_equal(kapi_index_by_node_name(a->obj, &v, &n), 0);
  assert_int_equal(n, 1);
  assert_string_equal(v[0], "n1");
  free(v[0]);
  free(v);
  assert_int_equal(kapi_index_by_node_name(b->obj, &v, &n), 0);
  assert_int_equal(n, 0);
  free(v);
  /* Only the controller reference counts, not the first one. */
  assert_int_equal(kapi_index_by_controller_uid(a->obj, &v, &n), 0);
  assert_int_equal(n, 1);
  assert_string_equal(v[0], "uid-1");
  free(v[0]);
  free(v);
  assert_int_equal(kapi_index_by_controller_uid(b->obj, &v, &n), 0);
  assert_int_equal(n, 0);
  free(v);
  kapi_cobj_unref(a);
  kapi_cobj_unref(b);
}

static void test_put_get_remove(void **state)
{
  kapi_indexer *ix = kapi_indexer_new();
  kapi_cobj *a = pod("ns1", "a", NULL, NULL), *a2 = pod("ns1", "a", NULL,
                                                        NULL);
  kapi_cobj *b = pod("ns2", "b", NULL, NULL), *got = NULL, **v = NULL;
  char **keys = NULL;
  size_t n = 0;

  (void)state;
  assert_non_null(ix);
  assert_int_equal(kapi_indexer_get(ix, "ns1/a", &got), -ENOENT);
  assert_null(got);
  assert_int_equal(kapi_indexer_put(ix, a), 0);
  assert_int_equal(kapi_indexer_put(ix, b), 0);
  assert_int_equal(a->refs, 2); /* the indexer's own reference */
  assert_int_equal(kapi_indexer_len(ix), 2);
  assert_int_equal(kapi_indexer_get(ix, "ns1/a", &got), 0);
  assert_ptr_equal(got, a);
  kapi_cobj_unref(got);

  /* Put by the same key replaces and drops the old reference. */
  assert_int_equal(kapi_indexer_put(ix, a2), 0);
  assert_int_equal(a->refs, 1);
  assert_int_equal(kapi_indexer_len(ix), 2);
  assert_int_equal(kapi_indexer_get(ix, "ns1/a", &got), 0);
  assert_ptr_equal(got, a2);
  kapi_cobj_unref(got);

  assert_int_equal(kapi_indexer_list(ix, &v, &n), 0);
  assert_string_equal(keys_of(v, n), "ns1/a,ns2/b");
  kapi_cobj_array_free(v, n);
  assert_int_equal(kapi_indexer_keys(ix, &keys, &n), 0);
  assert_int_equal(n, 2);
  for (size_t i = 0; i < n; i++)
    free(keys[i]);
  free(keys);

  assert_int_equal(kapi_indexer_remove(ix, "ns1/a"), 0);
  assert_int_equal(kapi_indexer_remove(ix, "ns1/a"), -ENOENT);
  assert_int_equal(kapi_indexer_len(ix), 1);
  assert_int_equal(a2->refs, 1);
  kapi_indexer_free(ix);
  kapi_cobj_unref(a);
  kapi_cobj_unref(a2);
  kapi_cobj_unref(b);
}

static void test_indices(void **state)
{
  kapi_indexer *ix = kapi_indexer_new();
  kapi_cobj *p[4] = {
    pod("ns1", "a", "n1", "rs-1"), pod("ns1", "b", "n2", "rs-1"),
    pod("ns2", "c", "n1", NULL), pod("ns2", "d", "", "rs-2"),
  };
  kapi_cobj *moved = pod("ns1", "a", "n2", "rs-2"), **v = NULL;
  size_t n = 0;

  (void)state;
  assert_int_equal(kapi_indexer_add_index(ix, "namespace",
                                          kapi_index_by_namespace), 0);
  assert_int_equal(kapi_indexer_add_index(ix, "node",
                                          kapi_index_by_node_name), 0);
  assert_int_equal(kapi_indexer_add_index(ix, "node",
                                          kapi_index_by_node_name), -EEXIST);
  for (int i = 0; i < 4; i++)
    assert_int_equal(kapi_indexer_put(ix, p[i]), 0);
  /* Added after objects: existing ones are indexed too. */
  assert_int_equal(kapi_indexer_add_index(ix, "controller",
                                          kapi_index_by_controller_uid), 0);

  assert_string_equal(by_index(ix, "namespace", "ns1"), "ns1/a,ns1/b");
  assert_string_equal(by_index(ix, "namespace", "ns2"), "ns2/c,ns2/d");
  assert_string_equal(by_index(ix, "node", "n1"), "ns1/a,ns2/c");
  assert_string_equal(by_index(ix, "node", ""), "");
  assert_string_equal(by_index(ix, "controller", "rs-1"), "ns1/a,ns1/b");
  assert_string_equal(by_index(ix, "namespace", "none"), "");
  assert_int_equal(kapi_indexer_by_index(ix, "nope", "x", &v, &n), -EINVAL);

  /* An update moves the object between index values. */
  assert_int_equal(kapi_indexer_put(ix, moved), 0);
  assert_string_equal(by_index(ix, "node", "n1"), "ns2/c");
  assert_string_equal(by_index(ix, "node", "n2"), "ns1/a,ns1/b");
  assert_string_equal(by_index(ix, "controller", "rs-1"), "ns1/b");
  assert_string_equal(by_index(ix, "controller", "rs-2"), "ns1/a,ns2/d");

  /* Removal leaves no trace in the indices. */
  assert_int_equal(kapi_indexer_remove(ix, "ns1/a"), 0);
  assert_string_equal(by_index(ix, "node", "n2"), "ns1/b");
  assert_string_equal(by_index(ix, "controller", "rs-2"), "ns2/d");
  assert_string_equal(by_index(ix, "namespace", "ns1"), "ns1/b");

  kapi_indexer_free(ix);
  for (int i = 0; i < 4; i++)
    kapi_cobj_unref(p[i]);
  kapi_cobj_unref(moved);
}

/* ---- concurrency: readers beside one writer -------------------------------- */

typedef struct shared {
  kapi_indexer *ix;
  int bad;
} shared;

static void *reader(void *arg)
{
  shared *s = arg;

  for (int i = 0; i < 2000; i++) {
    kapi_cobj **v = NULL, *o = NULL;
    size_t n = 0;

    if (kapi_indexer_by_index(s->ix, "namespace", "ns1", &v, &n) != 0)
      __atomic_store_n(&s->bad, 1, __ATOMIC_RELAXED);
    for (size_t j = 0; j < n; j++)
      if (strncmp(v[j]->key, "ns1/", 4) != 0)
        __atomic_store_n(&s->bad, 1, __ATOMIC_RELAXED);
    kapi_cobj_array_free(v, n);
    if (kapi_indexer_get(s->ix, "ns1/p3", &o) == 0 &&
        strcmp(o->key, "ns1/p3") != 0)
      __atomic_store_n(&s->bad, 1, __ATOMIC_RELAXED);
    kapi_cobj_unref(o);
  }
  return NULL;
}

static void test_concurrent(void **state)
{
  shared s = { .ix = kapi_indexer_new() };
  pthread_t t[3];

  (void)state;
  assert_int_equal(kapi_indexer_add_index(s.ix, "namespace",
                                          kapi_index_by_namespace), 0);
  for (int i = 0; i < 3; i++)
    assert_int_equal(pthread_create(&t[i], NULL, reader, &s), 0);
  for (int i = 0; i < 2000; i++) {
    char name[32];
    kapi_cobj *o;

    snprintf(name, sizeof name, "p%d", i % 10);
    o = pod(i % 2 ? "ns1" : "ns2", name, NULL, NULL);
    assert_int_equal(kapi_indexer_put(s.ix, o), 0);
    kapi_cobj_unref(o);
    if (i % 3 == 0)
      kapi_indexer_remove(s.ix, i % 2 ? "ns1/p1" : "ns2/p2");
  }
  for (int i = 0; i < 3; i++)
    pthread_join(t[i], NULL);
  assert_false(s.bad);
  kapi_indexer_free(s.ix);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_keys),
    cmocka_unit_test(test_index_functions),
    cmocka_unit_test(test_put_get_remove),
    cmocka_unit_test(test_indices),
    cmocka_unit_test(test_concurrent),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
