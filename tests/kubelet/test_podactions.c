/*
 * test_podactions.c - what a pod sync decides to do (core/kubelet/
 * podactions.c): sandbox first, init containers one at a time and each to
 * completion, sidecars until running, regular containers together, and
 * restarts per restartPolicy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "podactions.h"

static kj *pod_json(const char *policy, const char *init, const char *regular)
{
  char buf[2048], err[256];
  kj *v = NULL;
  snprintf(buf, sizeof buf,
           "{\"metadata\":{\"name\":\"p\",\"uid\":\"u\"},\"spec\":{"
           "\"restartPolicy\":\"%s\",\"initContainers\":%s,"
           "\"containers\":%s}}",
           policy, init, regular);
  if (kj_parse(buf, strlen(buf), &v, err, sizeof err) < 0)
    fail_msg("%s", err);
  return v;
}

typedef struct fx {
  kj *pod;
  kl_ctr *c;
  size_t n;
} fx;

static void fx_init(fx *f, const char *policy, const char *init,
                    const char *regular)
{
  f->pod = pod_json(policy, init, regular);
  assert_int_equal(kl_ctrs_from_spec(f->pod, &f->c, &f->n), 0);
}

static void fx_free(fx *f)
{
  free(f->c);
  kj_free(f->pod);
}

static void run(kl_ctr *c)
{
  c->has_cur = 1;
  c->cur.state = KAPI_CONTAINER_RUNNING;
}

static void exit_with(kl_ctr *c, int code)
{
  c->has_cur = 1;
  c->cur.state = KAPI_CONTAINER_EXITED;
  c->cur.exit_code = code;
}

/* The actions as "sandbox kill start:a,b". */
static const char *decide(fx *f, int sandbox)
{
  static char buf[256];
  kl_actions a;
  size_t i, n = 0;
  assert_int_equal(kl_pod_actions(f->pod, f->c, f->n, sandbox, &a), 0);
  n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%sstart:",
                        a.create_sandbox ? "sandbox " : "",
                        a.kill_pod ? "kill " : "");
  for (i = 0; i < a.n_start; i++)
    n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? "," : "",
                          f->c[a.start[i]].name);
  kl_actions_free(&a);
  return buf;
}

static const char *const TWO = "[{\"name\":\"a\"},{\"name\":\"b\"}]";

static void test_fresh_pod(void **state)
{
  fx f;
  (void)state;
  fx_init(&f, "Always", "[]", TWO);
  assert_string_equal(decide(&f, 0), "sandbox start:a,b");
  run(&f.c[0]);
  run(&f.c[1]);
  assert_string_equal(decide(&f, 1), "start:");
  fx_free(&f);
}

static void test_init_sequence(void **state)
{
  fx f;
  (void)state;
  fx_init(&f, "Always", "[{\"name\":\"i1\"},{\"name\":\"i2\"}]", TWO);
  assert_string_equal(decide(&f, 0), "sandbox start:i1");
  run(&f.c[0]);
  assert_string_equal(decide(&f, 1), "start:");
  exit_with(&f.c[0], 0);
  assert_string_equal(decide(&f, 1), "start:i2");
  run(&f.c[1]);
  assert_string_equal(decide(&f, 1), "start:");
  exit_with(&f.c[1], 0);
  assert_string_equal(decide(&f, 1), "start:a,b");
  fx_free(&f);
}

static void test_init_failure(void **state)
{
  fx f;
  (void)state;
  fx_init(&f, "OnFailure", "[{\"name\":\"i1\"}]", TWO);
  exit_with(&f.c[0], 1);
  assert_string_equal(decide(&f, 1), "start:i1");
  fx_free(&f);
  fx_init(&f, "Never", "[{\"name\":\"i1\"}]", TWO);
  exit_with(&f.c[0], 1);
  assert_string_equal(decide(&f, 1), "kill start:");
  fx_free(&f);
}

static void test_sidecar(void **state)
{
  fx f;
  (void)state;
  fx_init(&f, "Never",
          "[{\"name\":\"proxy\",\"restartPolicy\":\"Always\"},"
          "{\"name\":\"i1\"}]",
          TWO);
  assert_string_equal(decide(&f, 1), "start:proxy");
  run(&f.c[0]);
  assert_string_equal(decide(&f, 1), "start:i1");
  exit_with(&f.c[1], 0);
  assert_string_equal(decide(&f, 1), "start:a,b");
  run(&f.c[2]);
  run(&f.c[3]);
  exit_with(&f.c[0], 1); /* the sidecar restarts, even under Never */
  assert_string_equal(decide(&f, 1), "start:proxy");
  fx_free(&f);
}

static void test_restart_policies(void **state)
{
  static const struct {
    const char *policy;
    int code_a, code_b;
    const char *want;
  } cases[] = {
      {"Always", 0, 1, "start:a,b"},
      {"OnFailure", 0, 1, "start:b"},
      {"OnFailure", 0, 0, "start:"},
      {"Never", 0, 1, "start:"},
  };
  size_t i;
  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    fx f;
    fx_init(&f, cases[i].policy, "[]", TWO);
    exit_with(&f.c[0], cases[i].code_a);
    exit_with(&f.c[1], cases[i].code_b);
    assert_string_equal(decide(&f, 1), cases[i].want);
    fx_free(&f);
  }
}

static void test_deleted_pod_starts_nothing(void **state)
{
  fx f;
  (void)state;
  fx_init(&f, "Always", "[]", TWO);
  kj_set_str(kj_get(f.pod, "metadata"), "deletionTimestamp",
             "2025-01-01T00:00:00Z");
  exit_with(&f.c[0], 1);
  assert_string_equal(decide(&f, 1), "start:");
  fx_free(&f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fresh_pod),
      cmocka_unit_test(test_init_sequence),
      cmocka_unit_test(test_init_failure),
      cmocka_unit_test(test_sidecar),
      cmocka_unit_test(test_restart_policies),
      cmocka_unit_test(test_deleted_pod_starts_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
