/*
 * test_controllers_flag.c - kube-controller-manager's --controllers
 * syntax: "*", "foo", "-foo", first match wins, upstream's names as
 * aliases, unknown names refused with upstream's message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "controllers_flag.h"

static const char *const known[] = {"replicaset", "garbagecollector",
                                    "namespace"};

/* Parses flag; returns a bit per known controller that is on. */
static int enabled_mask(const char *flag)
{
  kapi_ctl_selection sel;
  char err[256];
  int mask = 0;
  size_t i;

  assert_int_equal(kapi_controllers_parse(flag, &sel, err, sizeof err), 0);
  assert_int_equal(kapi_controllers_validate(&sel, known, 3, err, sizeof err),
                   0);
  for (i = 0; i < 3; i++)
    if (kapi_controller_enabled(&sel, known[i], 1))
      mask |= 1 << i;
  kapi_controllers_free(&sel);
  return mask;
}

static void test_star_and_minus(void **state)
{
  (void)state;
  assert_int_equal(enabled_mask("*"), 7);
  assert_int_equal(enabled_mask("*,-namespace"), 3);
  assert_int_equal(enabled_mask("-namespace,*"), 3);
  assert_int_equal(enabled_mask("replicaset"), 1);
  assert_int_equal(enabled_mask("replicaset,namespace"), 5);
  assert_int_equal(enabled_mask(""), 0);
  /* The first entry naming a controller decides. */
  assert_int_equal(enabled_mask("replicaset,-replicaset"), 1);
  assert_int_equal(enabled_mask("-replicaset,replicaset,*"), 6);
  assert_int_equal(enabled_mask(" replicaset , garbagecollector "), 3);
}

static void test_upstream_names(void **state)
{
  (void)state;
  assert_int_equal(enabled_mask("*,-garbage-collector-controller"), 5);
  assert_int_equal(enabled_mask("replicaset-controller"), 1);
  assert_int_equal(enabled_mask("namespace-controller,-namespace"), 4);
  assert_string_equal(kapi_controller_canonical("namespace-controller"),
                      "namespace");
  assert_string_equal(kapi_controller_canonical("other"), "other");
}

static void test_component_names(void **state)
{
  char buf[64];
  (void)state;
  assert_string_equal(kapi_controller_component("replicaset", buf, sizeof buf),
                      "replicaset-controller");
  assert_string_equal(
      kapi_controller_component("garbagecollector", buf, sizeof buf),
      "garbage-collector-controller");
  assert_string_equal(kapi_controller_component("cron", buf, sizeof buf),
                      "cron-controller");
}

static void test_default_off(void **state)
{
  kapi_ctl_selection sel;
  char err[64];
  (void)state;
  assert_int_equal(kapi_controllers_parse("*", &sel, err, sizeof err), 0);
  assert_false(kapi_controller_enabled(&sel, "bootstrapsigner", 0));
  kapi_controllers_free(&sel);
  assert_int_equal(kapi_controllers_parse("*,bootstrapsigner", &sel, err,
                                          sizeof err), 0);
  assert_true(kapi_controller_enabled(&sel, "bootstrapsigner", 0));
  kapi_controllers_free(&sel);
}

static void test_unknown_refused(void **state)
{
  kapi_ctl_selection sel;
  char err[256];
  (void)state;

  assert_int_equal(kapi_controllers_parse("*,nosuch", &sel, err, sizeof err),
                   0);
  assert_int_equal(kapi_controllers_validate(&sel, known, 3, err, sizeof err),
                   -ENOENT);
  assert_string_equal(err, "\"nosuch\" is not in the list of known controllers");
  kapi_controllers_free(&sel);
  assert_int_equal(kapi_controllers_parse("-nosuch", &sel, err, sizeof err), 0);
  assert_int_equal(kapi_controllers_validate(&sel, known, 3, err, sizeof err),
                   -ENOENT);
  assert_string_equal(err, "\"nosuch\" is not in the list of known controllers");
  kapi_controllers_free(&sel);
  assert_int_equal(kapi_controllers_parse("*,-", &sel, err, sizeof err),
                   -EINVAL);
  assert_int_equal(kapi_controllers_parse("-*", &sel, err, sizeof err),
                   -EINVAL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_star_and_minus),
      cmocka_unit_test(test_upstream_names),
      cmocka_unit_test(test_component_names),
      cmocka_unit_test(test_default_off),
      cmocka_unit_test(test_unknown_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
