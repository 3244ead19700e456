/*
 * test_json.c - the JSON document model: parse, dump, pointers, mutation,
 * duplicates, errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static kj *parse_ok(const char *s)
{
  char err[256];
  kj *v = NULL;
  assert_int_equal(kj_parse(s, strlen(s), &v, err, sizeof err), 0);
  return v;
}

static void assert_dump(const kj *v, const char *want)
{
  char *s = kj_dump(v, NULL);
  assert_non_null(s);
  assert_string_equal(s, want);
  free(s);
}

static void roundtrip_keeps_order_and_numbers(void **state)
{
  const char *s = "{\"z\":1,\"a\":[true,false,null],\"big\":12345678901234567890,"
                  "\"f\":1.5e3,\"s\":\"q\\\"\\n\\u00e9\"}";
  kj *v = parse_ok(s);
  (void)state;
  assert_dump(v, "{\"z\":1,\"a\":[true,false,null],\"big\":12345678901234567890,"
                 "\"f\":1.5e3,\"s\":\"q\\\"\\n\xc3\xa9\"}");
  kj_free(v);
}

static void pointers_read_and_write(void **state)
{
  kj *v = parse_ok("{\"a\":{\"b\":[{\"c\":\"x\"}]},\"k/e~y\":1}");
  int64_t i;
  (void)state;
  assert_string_equal(kj_str(kj_ptr(v, "/a/b/0/c")), "x");
  assert_null(kj_ptr(v, "/a/b/1"));
  assert_null(kj_ptr(v, "/a/b/01"));
  assert_int_equal(kj_to_int(kj_ptr(v, "/k~1e~0y"), &i), 0);
  assert_int_equal(i, 1);
  assert_int_equal(kj_set_ptr(v, "/x/y/z", kj_string("new")), 0);
  assert_int_equal(kj_set_ptr(v, "/a/b/-", kj_int(7)), 0);
  assert_int_equal(kj_set_ptr(v, "/a/b/0/c", kj_bool(1)), 0);
  assert_int_equal(kj_set_ptr(v, "/a/b/9", kj_int(1)), -EINVAL);
  assert_dump(v, "{\"a\":{\"b\":[{\"c\":true},7]},\"k/e~y\":1,"
                 "\"x\":{\"y\":{\"z\":\"new\"}}}");
  assert_int_equal(kj_remove_ptr(v, "/a/b/0"), 0);
  assert_int_equal(kj_remove_ptr(v, "/nope/x"), -ENOENT);
  assert_dump(kj_get(v, "a"), "{\"b\":[7]}");
  kj_free(v);
}

static void duplicates_are_reported_with_paths(void **state)
{
  const char *s = "{\"a\":1,\"m\":{\"k\":{\"q\":1,\"q\":2}},\"a\":3}";
  char err[64], **dups = NULL;
  size_t n = 0, i;
  kj *v = NULL;
  (void)state;
  assert_int_equal(kj_parse_dups(s, strlen(s), &v, &dups, &n, err, sizeof err), 0);
  assert_int_equal(n, 2);
  assert_string_equal(dups[0], "m.k.q");
  assert_string_equal(dups[1], "a");
  assert_dump(v, "{\"a\":3,\"m\":{\"k\":{\"q\":2}}}");
  for (i = 0; i < n; i++)
    free(dups[i]);
  free(dups);
  kj_free(v);
}

static void errors_are_reported(void **state)
{
  char err[256];
  kj *v = NULL;
  (void)state;
  assert_int_equal(kj_parse("{\"a\":", 5, &v, err, sizeof err), -EINVAL);
  assert_null(v);
  assert_non_null(strstr(err, "premature EOF"));
  assert_int_equal(kj_parse("{]", 2, &v, err, sizeof err), -EINVAL);
  assert_null(strchr(err, '\n'));
  assert_int_equal(kj_parse("", 0, &v, err, sizeof err), -EINVAL);
}

static void deep_nesting_is_refused(void **state)
{
  char buf[1001], err[128];
  kj *v = NULL;
  (void)state;
  memset(buf, '[', 1000);
  buf[1000] = '\0';
  assert_int_equal(kj_parse(buf, 1000, &v, err, sizeof err), -E2BIG);
}

static void clone_equal_and_mutators(void **state)
{
  kj *v = parse_ok("{\"a\":[1,2],\"b\":{\"c\":\"d\"}}"), *c = kj_clone(v);
  (void)state;
  assert_true(kj_equal(v, c));
  assert_int_equal(kj_remove(kj_get(c, "b"), "c"), 0);
  assert_int_equal(kj_remove(kj_get(c, "b"), "c"), -ENOENT);
  assert_false(kj_equal(v, c));
  assert_int_equal(kj_set_str(c, "a", "replaced"), 0);
  assert_dump(c, "{\"a\":\"replaced\",\"b\":{}}");
  assert_non_null(kj_child_object(c, "new"));
  assert_null(kj_child_object(c, "a")); /* not an object */
  assert_int_equal(kj_len(c), 3);
  assert_string_equal(kj_key_at(c, 2), "new");
  kj_free(c);
  kj_free(v);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(roundtrip_keeps_order_and_numbers),
      cmocka_unit_test(pointers_read_and_write),
      cmocka_unit_test(duplicates_are_reported_with_paths),
      cmocka_unit_test(errors_are_reported),
      cmocka_unit_test(deep_nesting_is_refused),
      cmocka_unit_test(clone_equal_and_mutators),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
