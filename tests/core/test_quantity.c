/*
 * test_quantity.c - quantities in milli units and pod requests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "quantity.h"

static int64_t milli(const char *q)
{
  int64_t v = -42;
  assert_int_equal(kapi_quantity_milli(q, &v, NULL, 0), 0);
  return v;
}

static void parses_every_suffix_exactly(void **state)
{
  (void)state;
  assert_int_equal(milli("100m"), 100);
  assert_int_equal(milli("1.5"), 1500);
  assert_int_equal(milli("0.1"), 100);
  assert_int_equal(milli(".5"), 500);
  assert_int_equal(milli("1Gi"), 1073741824000LL);
  assert_int_equal(milli("1.1Ki"), 1126400);
  assert_int_equal(milli("129e6"), 129000000000LL);
  assert_int_equal(milli("1k"), 1000000);
  assert_int_equal(milli("100u"), 1); /* rounded up */
  assert_int_equal(milli("1n"), 1);
  assert_int_equal(milli("-1"), -1000);
}

static void refuses_malformed_with_upstream_messages(void **state)
{
  char err[200];
  int64_t v;
  (void)state;
  assert_int_equal(kapi_quantity_milli("1Q", &v, err, sizeof err), -EINVAL);
  assert_string_equal(err, "unable to parse quantity's suffix");
  assert_int_equal(kapi_quantity_milli("1.2.3", &v, err, sizeof err), -EINVAL);
  assert_string_equal(err, "unable to parse numeric part of quantity");
  assert_int_equal(kapi_quantity_milli("abc", &v, err, sizeof err), -EINVAL);
  assert_non_null(strstr(err, "quantities must match the regular expression"));
  assert_int_equal(kapi_quantity_milli("9Ei", &v, NULL, 0), -ERANGE);
}

static kj *parse(const char *s)
{
  char err[128];
  kj *v = NULL;
  assert_int_equal(kj_parse(s, strlen(s), &v, err, sizeof err), 0);
  return v;
}

static void pod_requests_follow_upstream(void **state)
{
  kj *pod = parse(
      "{\"spec\":{\"containers\":["
      "{\"resources\":{\"requests\":{\"cpu\":\"250m\",\"memory\":\"64Mi\"}}},"
      "{\"resources\":{}}],"
      "\"initContainers\":["
      "{\"resources\":{\"requests\":{\"cpu\":\"1\"}}},"
      "{\"restartPolicy\":\"Always\",\"resources\":{\"requests\":{\"cpu\":\"100m\"}}},"
      "{\"resources\":{\"requests\":{\"cpu\":\"500m\"}}}],"
      "\"overhead\":{\"cpu\":\"10m\"}}}");
  (void)state;
  /* Regular: 250m (+ sidecar 100m = 350m); inits: max(1000, 500 + 100). */
  assert_int_equal(kapi_pod_request(pod, "cpu", 0), 1000 + 10);
  /* Non-zero: the second container and the inits get 100m where unset. */
  assert_int_equal(kapi_pod_request(pod, "memory", 0), 64 * 1024 * 1024);
  assert_int_equal(kapi_pod_request(pod, "memory", 1),
                   64 * 1024 * 1024 + 200 * 1024 * 1024 + 200 * 1024 * 1024);
  kj_free(pod);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parses_every_suffix_exactly),
      cmocka_unit_test(refuses_malformed_with_upstream_messages),
      cmocka_unit_test(pod_requests_follow_upstream),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
