/*
 * test_fake.c - the fake runtime of hollow nodes (plugins/runtime/fake):
 * containers run at once and until stopped, the exit-code annotations,
 * sandboxes owning their containers, unknown ids, and many containers
 * (hash tables growing, every one listed exactly once).
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

#include "rt_helper.h"

static int setup(void **state)
{
  *state = rt_load("fake");
  return 0;
}

static int teardown(void **state)
{
  rt_unload(*state);
  return 0;
}

static void sandbox(rt_fixture *f, const kj *pod, char *id)
{
  kapi_error e;
  kapi_error_init(&e);
  assert_int_equal(f->ops->run_pod_sandbox(f->st, pod, id, &e), 0);
  kapi_error_clear(&e);
}

static void start(rt_fixture *f, const char *sb, const kj *pod,
                  const char *name, char *id)
{
  char spec[128];
  kj *c;
  kapi_error e;
  snprintf(spec, sizeof spec, "{\"name\":\"%s\",\"image\":\"pause\"}", name);
  c = rt_parse(spec);
  kapi_error_init(&e);
  assert_int_equal(
      f->ops->create_container(f->st, sb, pod, c, "/nonexistent/log", id, &e),
      0);
  assert_int_equal(f->ops->start_container(f->st, id, &e), 0);
  kapi_error_clear(&e);
  kj_free(c);
}

static void test_runs_until_stopped(void **state)
{
  rt_fixture *f = *state;
  kj *pod = rt_parse("{\"metadata\":{\"name\":\"p\",\"uid\":\"u1\"}}");
  char sb[KAPI_ID_MAX], id[KAPI_ID_MAX];
  rt_status s;
  kapi_error e;

  sandbox(f, pod, sb);
  start(f, sb, pod, "app", id);
  s = rt_get(f, id);
  assert_int_equal(s.state, KAPI_CONTAINER_RUNNING);
  assert_string_equal(s.name, "app");
  assert_string_equal(s.sandbox_id, sb);
  assert_true(s.started_at >= s.created_at && s.created_at > 0);
  kapi_error_init(&e);
  assert_int_equal(f->ops->start_container(f->st, id, &e), -EBUSY);
  kapi_error_clear(&e);

  assert_int_equal(f->ops->stop_container(f->st, id, 30), 0);
  s = rt_get(f, id);
  assert_int_equal(s.state, KAPI_CONTAINER_EXITED);
  assert_int_equal(s.exit_code, 0);
  assert_string_equal(s.reason, "Completed");
  assert_true(s.finished_at >= s.started_at);
  assert_int_equal(f->ops->remove_container(f->st, id), 0);
  assert_int_equal(f->ops->container_status(f->st, id, rt_copy, NULL),
                   -ENOENT);
  assert_int_equal(f->ops->remove_pod_sandbox(f->st, sb), 0);
  kj_free(pod);
}

static void test_exit_code_annotations(void **state)
{
  rt_fixture *f = *state;
  kj *pod = rt_parse("{\"metadata\":{\"name\":\"p\",\"uid\":\"u2\","
                     "\"annotations\":{\"fake.kapi.io/exit-code\":\"1\","
                     "\"fake.kapi.io/exit-code-good\":\"0\"}}}");
  char sb[KAPI_ID_MAX], bad[KAPI_ID_MAX], good[KAPI_ID_MAX];
  rt_status s;

  sandbox(f, pod, sb);
  start(f, sb, pod, "bad", bad);
  start(f, sb, pod, "good", good);
  s = rt_get(f, bad);
  assert_int_equal(s.state, KAPI_CONTAINER_EXITED);
  assert_int_equal(s.exit_code, 1);
  assert_string_equal(s.reason, "Error");
  assert_true(s.finished_at == s.started_at && s.started_at > 0);
  s = rt_get(f, good);
  assert_int_equal(s.state, KAPI_CONTAINER_EXITED);
  assert_int_equal(s.exit_code, 0);
  assert_string_equal(s.reason, "Completed");
  assert_int_equal(f->ops->remove_pod_sandbox(f->st, sb), 0);
  kj_free(pod);
}

static void test_sandbox_owns_containers(void **state)
{
  rt_fixture *f = *state;
  kj *pod = rt_parse("{\"metadata\":{\"name\":\"p\",\"uid\":\"u3\"}}");
  char a[KAPI_ID_MAX], b[KAPI_ID_MAX], c1[KAPI_ID_MAX], c2[KAPI_ID_MAX],
      c3[KAPI_ID_MAX];
  kapi_error e;
  kj *c = rt_parse("{\"name\":\"x\"}");

  sandbox(f, pod, a);
  sandbox(f, pod, b);
  assert_string_not_equal(a, b);
  start(f, a, pod, "one", c1);
  start(f, a, pod, "two", c2);
  start(f, b, pod, "three", c3);
  assert_int_equal(rt_list_len(f), 3);

  assert_int_equal(f->ops->stop_pod_sandbox(f->st, a), 0);
  assert_int_equal(rt_get(f, c1).state, KAPI_CONTAINER_EXITED);
  assert_int_equal(rt_get(f, c2).state, KAPI_CONTAINER_EXITED);
  assert_int_equal(rt_get(f, c3).state, KAPI_CONTAINER_RUNNING);
  /* Removing one container unlinks it from its sandbox... */
  assert_int_equal(f->ops->remove_container(f->st, c2), 0);
  /* ...and removing the sandbox removes the rest. */
  assert_int_equal(f->ops->remove_pod_sandbox(f->st, a), 0);
  assert_int_equal(rt_list_len(f), 1);
  assert_int_equal(f->ops->container_status(f->st, c1, rt_copy, NULL),
                   -ENOENT);

  kapi_error_init(&e);
  assert_int_equal(
      f->ops->create_container(f->st, a, pod, c, NULL, c1, &e), -ENOENT);
  assert_int_equal(e.code, 404);
  kapi_error_clear(&e);
  assert_int_equal(f->ops->start_container(f->st, "nope", &e), -ENOENT);
  kapi_error_clear(&e);
  assert_int_equal(f->ops->stop_container(f->st, "nope", 1), -ENOENT);
  assert_int_equal(f->ops->remove_container(f->st, "nope"), -ENOENT);
  assert_int_equal(f->ops->stop_pod_sandbox(f->st, "nope"), -ENOENT);
  assert_int_equal(f->ops->remove_pod_sandbox(f->st, a), -ENOENT);
  assert_int_equal(f->ops->remove_pod_sandbox(f->st, b), 0);
  assert_int_equal(rt_list_len(f), 0);
  kj_free(c);
  kj_free(pod);
}

typedef struct seen {
  char (*ids)[KAPI_ID_MAX];
  size_t n;
  int *hits;
} seen;

static void mark(void *arg, const kapi_container_status *s)
{
  seen *v = arg;
  size_t i;
  for (i = 0; i < v->n; i++)
    if (!strcmp(v->ids[i], s->id))
      v->hits[i]++;
}

static void test_many(void **state)
{
  rt_fixture *f = *state;
  enum { PODS = 500, PER = 4 };
  kj *pod = rt_parse("{\"metadata\":{\"name\":\"p\",\"uid\":\"u4\"}}");
  static char sbs[PODS][KAPI_ID_MAX];
  static char ids[PODS * PER][KAPI_ID_MAX];
  static int hits[PODS * PER];
  seen v = {ids, PODS * PER, hits};
  size_t i, j;

  for (i = 0; i < PODS; i++) {
    sandbox(f, pod, sbs[i]);
    for (j = 0; j < PER; j++) {
      char name[16];
      snprintf(name, sizeof name, "c%zu", j);
      start(f, sbs[i], pod, name, ids[i * PER + j]);
    }
  }
  assert_int_equal(rt_list_len(f), PODS * PER);
  assert_int_equal(f->ops->list_containers(f->st, mark, &v), 0);
  for (i = 0; i < PODS * PER; i++)
    assert_int_equal(hits[i], 1);
  for (i = 0; i < PODS; i += 2)
    assert_int_equal(f->ops->remove_pod_sandbox(f->st, sbs[i]), 0);
  assert_int_equal(rt_list_len(f), PODS * PER / 2);
  for (i = 1; i < PODS; i += 2)
    assert_int_equal(rt_get(f, ids[i * PER]).state, KAPI_CONTAINER_RUNNING);
  kj_free(pod);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_runs_until_stopped, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_exit_code_annotations, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_sandbox_owns_containers, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_many, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
