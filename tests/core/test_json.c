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
#include <stdio.h>
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

/* Parsed and cloned objects keep their keys in one pool: growing such an
 * object, replacing and removing members must keep every key valid. */
static void parsed_objects_grow_and_shrink(void **state)
{
  kj *v = parse_ok("{\"a\":1,\"b\":{\"c\":2},\"d\":3}"), *c;
  const char *a = kj_key_at(v, 0);
  char key[16];
  int i;
  (void)state;
  for (i = 0; i < 12; i++) { /* two growths: the pool's block stays */
    snprintf(key, sizeof key, "k%d", i);
    assert_int_equal(kj_set_int(v, key, i), 0);
  }
  assert_ptr_equal(kj_key_at(v, 0), a);
  assert_string_equal(a, "a");
  assert_int_equal(kj_set_str(v, "d", "x"), 0); /* pooled key, new value */
  assert_int_equal(kj_remove(v, "b"), 0);       /* pooled key */
  assert_int_equal(kj_remove(v, "k0"), 0);      /* malloc'ed key */
  assert_int_equal(kj_len(v), 13);
  assert_string_equal(kj_key_at(v, 1), "d");
  assert_string_equal(kj_key_at(v, 2), "k1");
  c = kj_clone(v);
  assert_true(kj_equal(v, c));
  assert_int_equal(kj_set_int(c, "late", 1), 0); /* grows the clone */
  assert_int_equal(kj_remove(c, "a"), 0);
  assert_dump(c, "{\"d\":\"x\",\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,"
                 "\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,\"k10\":10,\"k11\":11,"
                 "\"late\":1}");
  kj_free(c);
  kj_free(v);
}

static void duplicates_replace_in_place(void **state)
{
  const char *s = "{\"a\":{\"x\":1},\"b\":0,\"a\":{\"y\":{\"z\":1,\"z\":2}},"
                  "\"l\":[{\"k\":1,\"k\":[2]}],\"n\":{\"a\\u0000b\":1,"
                  "\"a\\u0000c\":2}}";
  char err[64], **dups = NULL;
  size_t n = 0, i;
  kj *v = NULL;
  (void)state;
  assert_int_equal(kj_parse_dups(s, strlen(s), &v, &dups, &n, err, sizeof err), 0);
  assert_int_equal(n, 4);
  assert_string_equal(dups[0], "a");
  assert_string_equal(dups[1], "a.y.z");
  assert_string_equal(dups[2], "l.k");
  assert_string_equal(dups[3], "n.a"); /* keys end at a NUL, as C strings */
  assert_dump(v, "{\"a\":{\"y\":{\"z\":2}},\"b\":0,\"l\":[{\"k\":[2]}],"
                 "\"n\":{\"a\":2}}");
  for (i = 0; i < n; i++)
    free(dups[i]);
  free(dups);
  kj_free(v);
}

/* Past the parser's and kj_dump's on-stack buffers. */
static void large_documents(void **state)
{
  size_t cap = 64 * 1024, len = 0, i, blen = 0, bcap = 0;
  char *s = malloc(cap), *out, *buf = NULL;
  kj *v;
  (void)state;
  len += (size_t)sprintf(s + len, "{\"long\":\"");
  memset(s + len, 'x', 5000);
  len += 5000;
  len += (size_t)sprintf(s + len, "\",\"m\":{");
  for (i = 0; i < 300; i++)
    len += (size_t)sprintf(s + len, "%s\"key-%03zu-padding-padding\":[%zu]",
                           i ? "," : "", i, i);
  len += (size_t)sprintf(s + len, "}}");
  v = parse_ok(s);
  assert_int_equal(kj_len(kj_get(v, "m")), 300);
  assert_non_null(kj_ptr(v, "/m/key-299-padding-padding/0"));
  out = kj_dump(v, &i);
  assert_int_equal(i, len);
  assert_memory_equal(out, s, len + 1);
  free(out);
  buf = strdup("[");
  blen = 1;
  bcap = 2;
  assert_int_equal(kj_dump_append(v, &buf, &blen, &bcap), 0);
  assert_int_equal(kj_dump_append(kj_get(v, "long"), &buf, &blen, &bcap), 0);
  assert_int_equal(blen, 1 + len + 5002);
  assert_int_equal(strlen(buf), blen);
  assert_true(bcap > blen);
  assert_memory_equal(buf + 1, s, len);
  free(buf);
  kj_free(v);
  free(s);
}

static void append_member_skips_the_lookup(void **state)
{
  kj *o = kj_object(), *a = kj_array();
  (void)state;
  assert_int_equal(kj_append_member(o, "key-and-more", 3, kj_int(1)), 0);
  assert_int_equal(kj_append_member(o, "", 0, kj_null()), 0);
  assert_int_equal(kj_set_int(o, "key", 2), 0); /* found: replaced */
  assert_dump(o, "{\"key\":2,\"\":null}");
  assert_int_equal(kj_append_member(a, "k", 1, kj_int(1)), -EINVAL);
  assert_int_equal(kj_append_member(o, NULL, 0, kj_int(1)), -EINVAL);
  assert_int_equal(kj_append_member(o, "k", 1, NULL), -EINVAL);
  assert_int_equal(kj_len(o), 2);
  kj_free(a);
  kj_free(o);
}

static void pointer_tokens(void **state)
{
  char ptr[600];
  kj *v = parse_ok("{\"\":{\"a/b\":[0,1]},\"t~\":2,\"arr\":[5,6]}");
  (void)state;
  assert_string_equal(kj_ptr(v, "/")->u.c.keys[0], "a/b");
  assert_int_equal(kj_len(kj_ptr(v, "//a~1b")), 2);
  assert_non_null(kj_ptr(v, "/t~0"));
  assert_null(kj_ptr(v, "/t~"));
  assert_null(kj_ptr(v, "/t~2"));
  assert_null(kj_ptr(v, "/t"));
  assert_null(kj_ptr(v, "/arr/01"));
  assert_null(kj_ptr(v, "/arr/2"));
  assert_null(kj_ptr(v, "/arr/-"));
  assert_null(kj_ptr(v, "arr"));
  assert_string_equal(kj_ptr(v, "/arr/1")->u.str.s, "6");
  assert_ptr_equal(kj_ptr(v, ""), v);
  /* tokens of 512 bytes or more never match */
  ptr[0] = '/';
  memset(ptr + 1, 'k', 511);
  ptr[512] = '\0';
  assert_int_equal(kj_set_int(v, ptr + 2, 1), 0); /* key of 510 bytes */
  ptr[511] = '\0';
  assert_non_null(kj_ptr(v, ptr));
  ptr[511] = 'k';
  assert_int_equal(kj_set_int(v, ptr + 1, 1), 0); /* key of 511 bytes */
  assert_non_null(kj_ptr(v, ptr));
  memcpy(ptr + 512, "k", 2);
  assert_int_equal(kj_set_int(v, ptr + 1, 1), 0); /* 512 bytes */
  assert_null(kj_ptr(v, ptr));
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
      cmocka_unit_test(parsed_objects_grow_and_shrink),
      cmocka_unit_test(duplicates_replace_in_place),
      cmocka_unit_test(large_documents),
      cmocka_unit_test(append_member_skips_the_lookup),
      cmocka_unit_test(pointer_tokens),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
