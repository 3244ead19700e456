/*
 * test_logserver.c - the CRI log record parsing behind /containerLogs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "logserver.h"

static void test_cri_full_and_partial(void **state)
{
  static const char full[] = "2016-10-06T00:17:09.669794202Z stdout F hello";
  static const char part[] = "2016-10-06T00:17:09.669794202Z stderr P par";
  const char *ts, *text;
  size_t ts_len, text_len;
  int f = -1;
  (void)state;
  assert_int_equal(kl_cri_parse(full, strlen(full), &ts, &ts_len, &text,
                                &text_len, &f),
                   0);
  assert_int_equal(f, 1);
  assert_int_equal(ts_len, 30);
  assert_memory_equal(ts, "2016-10-06T00:17:09.669794202Z", 30);
  assert_int_equal(text_len, 5);
  assert_memory_equal(text, "hello", 5);
  assert_int_equal(kl_cri_parse(part, strlen(part), &ts, &ts_len, &text,
                                &text_len, &f),
                   0);
  assert_int_equal(f, 0);
  assert_int_equal(text_len, 3);
}

static void test_cri_empty_line_and_garbage(void **state)
{
  static const char empty[] = "2016-10-06T00:17:09Z stdout F ";
  const char *ts, *text;
  size_t ts_len, text_len;
  int f;
  (void)state;
  assert_int_equal(kl_cri_parse(empty, strlen(empty), &ts, &ts_len, &text,
                                &text_len, &f),
                   0);
  assert_int_equal(text_len, 0);
  assert_int_equal(kl_cri_parse("just text", 9, &ts, &ts_len, &text,
                                &text_len, &f),
                   -EINVAL);
  assert_int_equal(kl_cri_parse("t stdout X y", 12, &ts, &ts_len, &text,
                                &text_len, &f),
                   -EINVAL);
}

static void test_rfc3339_ns(void **state)
{
  int64_t ns = 0;
  (void)state;
  assert_int_equal(kl_parse_rfc3339_ns("1970-01-01T00:00:01.5Z", 22, &ns), 0);
  assert_int_equal(ns, 1500000000);
  assert_int_equal(kl_parse_rfc3339_ns("2016-10-06T00:17:09.669794202Z", 30,
                                       &ns),
                   0);
  assert_int_equal(ns, 1475713029669794202LL);
  assert_int_equal(kl_parse_rfc3339_ns("2016-10-06T00:17:09+01:00", 25, &ns),
                   -EINVAL);
  assert_int_equal(kl_parse_rfc3339_ns("yesterday", 9, &ns), -EINVAL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cri_full_and_partial),
      cmocka_unit_test(test_cri_empty_line_and_garbage),
      cmocka_unit_test(test_rfc3339_ns),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
