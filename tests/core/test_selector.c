/*
 * test_selector.c - label and field selectors against upstream's
 * grammar, matching rules, canonical strings and error texts.
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
#include "selector.h"

/* upstream's message tails, spelled out once */
#define QNAME_MSG                                                          \
  "must consist of alphanumeric characters, '-', '_' or '.', and must "    \
  "start and end with an alphanumeric character (e.g. 'MyName',  or "      \
  "'my.name',  or '123-abc', regex used for validation is "                \
  "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define VALUE_MSG                                                          \
  "a valid label must be an empty string or consist of alphanumeric "      \
  "characters, '-', '_' or '.', and must start and end with an "           \
  "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "  \
  "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
#define SUBDOMAIN_MSG                                                      \
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric " \
  "characters, '-' or '.', and must start and end with an alphanumeric "   \
  "character (e.g. 'example.com', regex used for validation is "           \
  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define OPS_MSG "expected: in, notin, =, ==, !=, gt, lt"

static kj *json(const char *text)
{
  char err[128];
  kj *v = NULL;

  assert_int_equal(kj_parse(text, strlen(text), &v, err, sizeof err), 0);
  return v;
}

/* --- label selector helpers --------------------------------------- */

/* Parses text and checks its canonical string. */
static void assert_canonical(const char *text, const char *want)
{
  kapi_label_selector *s = NULL;
  char err[512] = "";
  char *str;

  assert_int_equal(kapi_label_selector_parse(text, &s, err, sizeof err), 0);
  str = kapi_label_selector_string(s);
  assert_string_equal(str, want);
  free(str);
  kapi_label_selector_free(s);
}

static void assert_parse_error(const char *text, const char *want)
{
  kapi_label_selector *s = (kapi_label_selector *)1;
  char err[2048] = "";

  assert_int_equal(kapi_label_selector_parse(text, &s, err, sizeof err),
                   -EINVAL);
  assert_null(s);
  assert_string_equal(err, want);
}

/* 1 if the selector text matches the labels given as JSON ("null" for
 * an object without labels). */
static int label_match(const char *text, const char *labels_json)
{
  kapi_label_selector *s = NULL;
  char err[512] = "";
  kj *labels = json(labels_json);
  int m;

  assert_int_equal(kapi_label_selector_parse(text, &s, err, sizeof err), 0);
  m = kapi_label_selector_matches(s, labels->type == KJ_NULL ? NULL : labels);
  kapi_label_selector_free(s);
  kj_free(labels);
  return m;
}

static void assert_object_string(const char *sel_json, const char *want)
{
  kapi_label_selector *s = NULL;
  char err[512] = "";
  kj *sel = json(sel_json);
  char *str;

  assert_int_equal(kapi_label_selector_from_object(sel, &s, err, sizeof err),
                   0);
  str = kapi_label_selector_string(s);
  assert_string_equal(str, want);
  free(str);
  kapi_label_selector_free(s);
  kj_free(sel);
}

static void assert_object_error(const char *sel_json, const char *want)
{
  kapi_label_selector *s = (kapi_label_selector *)1;
  char err[2048] = "";
  kj *sel = json(sel_json);

  assert_int_equal(kapi_label_selector_from_object(sel, &s, err, sizeof err),
                   -EINVAL);
  assert_null(s);
  assert_string_equal(err, want);
  kj_free(sel);
}

/* --- label selectors: parsing ------------------------------------- */

static void test_label_empty(void **state)
{
  kapi_label_selector *s = NULL;
  kj *labels = json("{\"a\":\"b\"}");
  char err[64];
  char *str;

  (void)state;
  assert_int_equal(kapi_label_selector_parse(NULL, &s, err, sizeof err), 0);
  assert_true(kapi_label_selector_empty(s));
  assert_true(kapi_label_selector_matches(s, NULL));
  assert_true(kapi_label_selector_matches(s, labels));
  str = kapi_label_selector_string(s);
  assert_string_equal(str, "");
  free(str);
  kapi_label_selector_free(s);

  assert_int_equal(kapi_label_selector_parse(" \t ", &s, err, sizeof err), 0);
  assert_true(kapi_label_selector_empty(s));
  kapi_label_selector_free(s);

  assert_int_equal(kapi_label_selector_parse("a", &s, err, sizeof err), 0);
  assert_false(kapi_label_selector_empty(s));
  kapi_label_selector_free(s);
  kj_free(labels);
}

static void test_label_operators_canonical(void **state)
{
  (void)state;
  assert_canonical("x", "x");
  assert_canonical("!x", "!x");
  assert_canonical("x=a", "x=a");
  assert_canonical("x==a", "x==a");
  assert_canonical("x!=a", "x!=a");
  assert_canonical("x in (a,b)", "x in (a,b)");
  assert_canonical("x notin (a,b)", "x notin (a,b)");
  assert_canonical("x>1", "x>1");
  assert_canonical("x<5", "x<5");
  assert_canonical("x=", "x=");
  assert_canonical("example.com/app-name=web_1.x",
                   "example.com/app-name=web_1.x");
}

static void test_label_sorting_and_sets(void **state)
{
  (void)state;
  /* Requirements sorted by key, values sorted and deduplicated. */
  assert_canonical("b=2,a in (z,y,z)", "a in (y,z),b=2");
  assert_canonical("  tier = db ,  app  ", "app,tier=db");
  /* Equal keys keep their order. */
  assert_canonical("a!=2,b,a=1", "a!=2,a=1,b");
  /* Empty values in sets. */
  assert_canonical("x in ()", "x in ()");
  assert_canonical("x in (a,)", "x in (,a)");
  assert_canonical("x in (,a)", "x in (,a)");
  assert_canonical("x in (a,,b)", "x in (,a,b)");
  assert_canonical("x notin (,)", "x notin ()");
  /* Keywords are values in value position. */
  assert_canonical("x in (in,notin)", "x in (in,notin)");
  assert_canonical("x=in", "x=in");
  /* Greedy operator lexing: "!=" then "=" yields value-less "x!=". */
  assert_canonical("x!=,y", "x!=,y");
}

static void test_label_syntax_errors(void **state)
{
  (void)state;
  assert_parse_error("x in",
                     "unable to parse requirement: found '' expected: '('");
  assert_parse_error("x in a",
                     "unable to parse requirement: found 'a' expected: '('");
  assert_parse_error("x in (a",
                     "unable to parse requirement: found '', expected: ',' "
                     "or ')'");
  assert_parse_error("x in (=)",
                     "unable to parse requirement: found '=', expected: ',', "
                     "')' or identifier");
  assert_parse_error("x in (a=)",
                     "unable to parse requirement: found '=', expected: ',' "
                     "or ')'");
  assert_parse_error("x in (,=)",
                     "unable to parse requirement: found '=', expected: ',', "
                     "or identifier");
  assert_parse_error("x y", "unable to parse requirement: found 'y', " OPS_MSG);
  assert_parse_error("x (", "unable to parse requirement: found '(', " OPS_MSG);
  assert_parse_error("x=(a)",
                     "unable to parse requirement: found '(', expected: "
                     "identifier");
  assert_parse_error("!", "unable to parse requirement: found '', expected: "
                     "identifier");
  assert_parse_error("x=a b",
                     "found 'b', expected: ',' or 'end of string'");
  assert_parse_error("x,", "found '', expected: identifier after ','");
  /* "!" makes a complete requirement; an operator cannot follow. */
  assert_parse_error("!x=y", "found '=', expected: ',' or 'end of string'");
  assert_parse_error("x,,y", "found ',', expected: identifier after ','");
  assert_parse_error("=a",
                     "found '=', expected: !, identifier, or 'end of string'");
  assert_parse_error(",", "found ',', expected: !, identifier, or 'end of "
                     "string'");
}

static void test_label_key_validation(void **state)
{
  char key[80], text[100], want[600];

  (void)state;
  assert_parse_error("a@b", "unable to parse requirement: <nil>: Invalid "
                     "value: \"a@b\": name part " QNAME_MSG);
  assert_parse_error("-a=b", "unable to parse requirement: <nil>: Invalid "
                     "value: \"-a\": name part " QNAME_MSG);
  assert_parse_error("a/b/c", "unable to parse requirement: <nil>: Invalid "
                     "value: \"a/b/c\": a qualified name " QNAME_MSG
                     " with an optional DNS subdomain prefix and '/' (e.g. "
                     "'example.com/MyName')");
  assert_parse_error("/a", "unable to parse requirement: <nil>: Invalid "
                     "value: \"/a\": prefix part must be non-empty");
  assert_parse_error("a/", "unable to parse requirement: <nil>: Invalid "
                     "value: \"a/\": name part must be non-empty; name part "
                     QNAME_MSG);
  assert_parse_error("Ex.com/a", "unable to parse requirement: <nil>: Invalid "
                     "value: \"Ex.com/a\": prefix part " SUBDOMAIN_MSG);
  assert_parse_error("a..b/c", "unable to parse requirement: <nil>: Invalid "
                     "value: \"a..b/c\": prefix part " SUBDOMAIN_MSG);
  /* Go's %q escaping of the bad key. */
  assert_parse_error("a\"b\x01\xc3\xa9\xff", "unable to parse requirement: "
                     "<nil>: Invalid value: \"a\\\"b\\x01\xc3\xa9\\xff\": name "
                     "part " QNAME_MSG);

  memset(key, 'k', 64);
  key[64] = '\0';
  snprintf(text, sizeof text, "%s=v", key);
  snprintf(want, sizeof want, "unable to parse requirement: <nil>: Invalid "
           "value: \"%s\": name part must be no more than 63 characters",
           key);
  assert_parse_error(text, want);
  key[63] = '\0'; /* 63 is fine */
  snprintf(text, sizeof text, "%s=v", key);
  assert_canonical(text, text);
}

static void test_label_value_validation(void **state)
{
  char text[100], want[600], value[70];

  (void)state;
  assert_parse_error("x=a@b", "unable to parse requirement: values[0][x]: "
                     "Invalid value: \"a@b\": " VALUE_MSG);
  assert_parse_error("x in (ok,-bad,b@d)",
                     "unable to parse requirement: [values[0][x]: Invalid "
                     "value: \"-bad\": " VALUE_MSG ", values[1][x]: Invalid "
                     "value: \"b@d\": " VALUE_MSG "]");
  assert_parse_error("x>a", "unable to parse requirement: values[0]: Invalid "
                     "value: \"a\": for 'Gt', 'Lt' operators, the value must "
                     "be an integer");
  assert_parse_error("x<99999999999999999999",
                     "unable to parse requirement: values[0]: Invalid "
                     "value: \"99999999999999999999\": for 'Gt', 'Lt' "
                     "operators, the value must be an integer");
  /* Negative numbers are not label values. */
  assert_parse_error("x<-5", "unable to parse requirement: values[0][x]: "
                     "Invalid value: \"-5\": " VALUE_MSG);
  assert_parse_error("x>a@", "unable to parse requirement: [values[0]: "
                     "Invalid value: \"a@\": for 'Gt', 'Lt' operators, the "
                     "value must be an integer, values[0][x]: Invalid value: "
                     "\"a@\": " VALUE_MSG "]");

  memset(value, 'v', 64);
  value[64] = '\0';
  snprintf(text, sizeof text, "x=%s", value);
  snprintf(want, sizeof want, "unable to parse requirement: values[0][x]: "
           "Invalid value: \"%s\": must be no more than 63 characters",
           value);
  assert_parse_error(text, want);
}

/* --- label selectors: matching ------------------------------------ */

static void test_label_match_equality(void **state)
{
  (void)state;
  assert_true(label_match("app=web", "{\"app\":\"web\",\"x\":\"y\"}"));
  assert_false(label_match("app=web", "{\"app\":\"db\"}"));
  assert_false(label_match("app=web", "{}"));
  assert_true(label_match("app==web", "{\"app\":\"web\"}"));
  assert_true(label_match("app=", "{\"app\":\"\"}"));
  assert_false(label_match("app=", "{}"));
  /* != also matches objects without the key. */
  assert_true(label_match("app!=web", "{\"app\":\"db\"}"));
  assert_true(label_match("app!=web", "{}"));
  assert_true(label_match("app!=web", "null"));
  assert_false(label_match("app!=web", "{\"app\":\"web\"}"));
}

static void test_label_match_sets(void **state)
{
  (void)state;
  assert_true(label_match("env in (prod,qa)", "{\"env\":\"qa\"}"));
  assert_false(label_match("env in (prod,qa)", "{\"env\":\"dev\"}"));
  assert_false(label_match("env in (prod,qa)", "{}"));
  assert_true(label_match("env in ()", "{\"env\":\"\"}"));
  assert_true(label_match("env notin (prod,qa)", "{\"env\":\"dev\"}"));
  assert_true(label_match("env notin (prod,qa)", "{}"));
  assert_false(label_match("env notin (prod,qa)", "{\"env\":\"prod\"}"));
}

static void test_label_match_existence(void **state)
{
  (void)state;
  assert_true(label_match("app", "{\"app\":\"\"}"));
  assert_false(label_match("app", "{\"other\":\"x\"}"));
  assert_false(label_match("app", "null"));
  assert_true(label_match("!app", "{\"other\":\"x\"}"));
  assert_true(label_match("!app", "null"));
  assert_false(label_match("!app", "{\"app\":\"x\"}"));
}

static void test_label_match_numeric(void **state)
{
  (void)state;
  assert_true(label_match("n>1", "{\"n\":\"2\"}"));
  assert_false(label_match("n>1", "{\"n\":\"1\"}"));
  assert_true(label_match("n>0", "{\"n\":\"+1\"}"));
  assert_false(label_match("n>1", "{\"n\":\"abc\"}"));
  assert_false(label_match("n>1", "{}"));
  assert_true(label_match("n<10", "{\"n\":\"9\"}"));
  assert_false(label_match("n<10", "{\"n\":\"10\"}"));
  assert_false(label_match("n<10", "{\"n\":\"99999999999999999999\"}"));
  assert_true(label_match("n<1", "{\"n\":\"-9223372036854775808\"}"));
  assert_false(label_match("n<1", "{\"n\":\"-9223372036854775809\"}"));
  assert_false(label_match("n<1", "{\"n\":\"\"}"));
}

static void test_label_match_and(void **state)
{
  (void)state;
  assert_true(label_match("app=web,tier,!debug,env notin (dev)",
                          "{\"app\":\"web\",\"tier\":\"fe\"}"));
  assert_false(label_match("app=web,tier,!debug",
                           "{\"app\":\"web\",\"tier\":\"fe\",\"debug\":\"1\"}"));
  assert_false(label_match("app=web,tier", "{\"app\":\"web\"}"));
}

/* --- metav1.LabelSelector ----------------------------------------- */

static void test_label_object_null_and_empty(void **state)
{
  kapi_label_selector *s = NULL;
  kj *labels = json("{\"a\":\"b\"}"), *null = json("null"), *empty = json("{}");
  char err[64];
  char *str;

  (void)state;
  /* null selects nothing. */
  assert_int_equal(kapi_label_selector_from_object(NULL, &s, err, sizeof err),
                   0);
  assert_false(kapi_label_selector_empty(s));
  assert_false(kapi_label_selector_matches(s, labels));
  assert_false(kapi_label_selector_matches(s, NULL));
  str = kapi_label_selector_string(s);
  assert_string_equal(str, "");
  free(str);
  kapi_label_selector_free(s);

  assert_int_equal(kapi_label_selector_from_object(null, &s, err, sizeof err),
                   0);
  assert_false(kapi_label_selector_matches(s, labels));
  kapi_label_selector_free(s);

  /* {} selects everything. */
  assert_int_equal(kapi_label_selector_from_object(empty, &s, err, sizeof err),
                   0);
  assert_true(kapi_label_selector_empty(s));
  assert_true(kapi_label_selector_matches(s, labels));
  assert_true(kapi_label_selector_matches(s, NULL));
  kapi_label_selector_free(s);

  kj_free(labels);
  kj_free(null);
  kj_free(empty);
}

static void test_label_object_forms(void **state)
{
  kapi_label_selector *s = NULL;
  kj *sel, *yes, *no;
  char err[64];

  (void)state;
  assert_object_string("{\"matchLabels\":{\"tier\":\"fe\",\"app\":\"web\"}}",
                       "app=web,tier=fe");
  assert_object_string(
      "{\"matchExpressions\":["
      "{\"key\":\"d\",\"operator\":\"DoesNotExist\"},"
      "{\"key\":\"a\",\"operator\":\"In\",\"values\":[\"y\",\"x\"]},"
      "{\"key\":\"c\",\"operator\":\"Exists\"},"
      "{\"key\":\"b\",\"operator\":\"NotIn\",\"values\":[\"z\"]}]}",
      "a in (x,y),b notin (z),c,!d");
  /* matchLabels come before expressions on the same key. */
  assert_object_string("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":"
                       "\"NotIn\",\"values\":[\"2\"]}],"
                       "\"matchLabels\":{\"a\":\"1\"}}",
                       "a=1,a notin (2)");
  /* Object values are not deduplicated, only sorted for printing. */
  assert_object_string("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":"
                       "\"In\",\"values\":[\"b\",\"a\",\"b\"]}]}",
                       "a in (a,b,b)");

  sel = json("{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":"
             "[{\"key\":\"env\",\"operator\":\"NotIn\",\"values\":[\"dev\"]}]}");
  yes = json("{\"app\":\"web\",\"env\":\"prod\"}");
  no = json("{\"app\":\"web\",\"env\":\"dev\"}");
  assert_int_equal(kapi_label_selector_from_object(sel, &s, err, sizeof err),
                   0);
  assert_true(kapi_label_selector_matches(s, yes));
  assert_false(kapi_label_selector_matches(s, no));
  kapi_label_selector_free(s);
  kj_free(sel);
  kj_free(yes);
  kj_free(no);
}

static void test_label_object_errors(void **state)
{
  (void)state;
  assert_object_error("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":"
                      "\"Gt\",\"values\":[\"1\"]}]}",
                      "\"Gt\" is not a valid label selector operator");
  assert_object_error("{\"matchExpressions\":[{\"key\":\"a\"}]}",
                      "\"\" is not a valid label selector operator");
  assert_object_error("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":"
                      "\"In\",\"values\":[]}]}",
                      "values: Invalid value: null: for 'in', 'notin' "
                      "operators, values set can't be empty");
  assert_object_error("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":"
                      "\"NotIn\"}]}",
                      "values: Invalid value: null: for 'in', 'notin' "
                      "operators, values set can't be empty");
  assert_object_error("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":"
                      "\"Exists\",\"values\":[\"x\",\"y\"]}]}",
                      "values: Invalid value: [\"x\",\"y\"]: "
                      "values set must be empty for exists and does not "
                      "exist");
  assert_object_error("{\"matchLabels\":{\"a b\":\"ok\"}}",
                      "key: Invalid value: \"a b\": name part " QNAME_MSG);
  assert_object_error("{\"matchLabels\":{\"a\":\"b c\"}}",
                      "values[0][a]: Invalid value: \"b c\": " VALUE_MSG);
  assert_object_error("{\"matchLabels\":{\"-k\":\"-v\"}}",
                      "[key: Invalid value: \"-k\": name part " QNAME_MSG
                      ", values[0][-k]: Invalid value: \"-v\": " VALUE_MSG
                      "]");
}

/* --- field selectors ----------------------------------------------- */

struct fields {
  const char *const *kv; /* key, value, ..., NULL */
};

static const char *lookup(const char *field, void *arg)
{
  const struct fields *f = arg;
  size_t i;

  for (i = 0; f->kv[i]; i += 2)
    if (strcmp(f->kv[i], field) == 0)
      return f->kv[i + 1];
  return NULL;
}

static kapi_field_selector *field_parse(const char *text)
{
  kapi_field_selector *s = NULL;
  char err[256] = "";

  assert_int_equal(kapi_field_selector_parse(text, &s, err, sizeof err), 0);
  assert_string_equal(err, "");
  return s;
}

static void assert_field_error(const char *text, const char *want)
{
  kapi_field_selector *s = (kapi_field_selector *)1;
  char err[256] = "";

  assert_int_equal(kapi_field_selector_parse(text, &s, err, sizeof err),
                   -EINVAL);
  assert_null(s);
  assert_string_equal(err, want);
}

static int field_match(const char *text, const char *const *kv)
{
  struct fields f = {kv};
  kapi_field_selector *s = field_parse(text);
  int m = kapi_field_selector_matches(s, lookup, &f);

  kapi_field_selector_free(s);
  return m;
}

static void test_field_empty(void **state)
{
  static const char *const none[] = {NULL};
  kapi_field_selector *s;

  (void)state;
  s = field_parse(NULL);
  assert_int_equal(kapi_field_selector_count(s), 0);
  assert_null(kapi_field_selector_field(s, 0));
  kapi_field_selector_free(s);
  s = field_parse(",,");
  assert_int_equal(kapi_field_selector_count(s), 0);
  kapi_field_selector_free(s);
  assert_true(field_match("", none));
}

static void test_field_terms(void **state)
{
  kapi_field_selector *s;

  (void)state;
  /* Terms are sorted as raw text. */
  s = field_parse("spec.nodeName==n1,metadata.name!=x,,status.phase=Running");
  assert_int_equal(kapi_field_selector_count(s), 3);
  assert_string_equal(kapi_field_selector_field(s, 0), "metadata.name");
  assert_string_equal(kapi_field_selector_field(s, 1), "spec.nodeName");
  assert_string_equal(kapi_field_selector_field(s, 2), "status.phase");
  assert_null(kapi_field_selector_field(s, 3));
  assert_null(kapi_field_selector_requires(s, "metadata.name"));
  assert_string_equal(kapi_field_selector_requires(s, "spec.nodeName"), "n1");
  assert_string_equal(kapi_field_selector_requires(s, "status.phase"),
                      "Running");
  assert_null(kapi_field_selector_requires(s, "spec.host"));
  kapi_field_selector_free(s);

  /* The field is everything before the first operator. */
  s = field_parse("a!b=c");
  assert_string_equal(kapi_field_selector_field(s, 0), "a!b");
  assert_string_equal(kapi_field_selector_requires(s, "a!b"), "c");
  kapi_field_selector_free(s);

  s = field_parse("metadata.name=");
  assert_string_equal(kapi_field_selector_requires(s, "metadata.name"), "");
  kapi_field_selector_free(s);
}

static void test_field_escapes(void **state)
{
  kapi_field_selector *s;

  (void)state;
  s = field_parse("a=x\\,y,b=p\\=q,c=back\\\\slash");
  assert_int_equal(kapi_field_selector_count(s), 3);
  assert_string_equal(kapi_field_selector_requires(s, "a"), "x,y");
  assert_string_equal(kapi_field_selector_requires(s, "b"), "p=q");
  assert_string_equal(kapi_field_selector_requires(s, "c"), "back\\slash");
  kapi_field_selector_free(s);

  /* An escaped backslash does not escape the comma after it. */
  s = field_parse("a=x\\\\,b=y");
  assert_int_equal(kapi_field_selector_count(s), 2);
  assert_string_equal(kapi_field_selector_requires(s, "a"), "x\\");
  assert_string_equal(kapi_field_selector_requires(s, "b"), "y");
  kapi_field_selector_free(s);
}

static void test_field_errors(void **state)
{
  (void)state;
  assert_field_error("a", "invalid selector: 'a'; can't understand 'a'");
  assert_field_error("z=1,b,a=2",
                     "invalid selector: 'z=1,b,a=2'; can't understand 'b'");
  assert_field_error("a=b=c",
                     "invalid field selector: unescaped character in value: "
                     "61");
  assert_field_error("a===b",
                     "invalid field selector: unescaped character in value: "
                     "61");
  assert_field_error("a=b\\x",
                     "invalid field selector: invalid escape sequence: \\x");
  assert_field_error("a=b\\\xc3\xa9",
                     "invalid field selector: invalid escape sequence: "
                     "\\\xc3\xa9");
  assert_field_error("a=b\\",
                     "invalid field selector: invalid escape sequence: \\");
  /* The escape in the field is not one: the field ends at "=". */
  assert_field_error("a\\=b=c",
                     "invalid field selector: unescaped character in value: "
                     "61");
}

static void test_field_matching(void **state)
{
  static const char *const running[] = {"status.phase", "Running",
                                        "spec.nodeName", "n1", NULL};
  static const char *const failed[] = {"status.phase", "Failed", NULL};
  static const char *const comma[] = {"a", "x,y", NULL};

  (void)state;
  assert_true(field_match("status.phase!=Succeeded,status.phase!=Failed",
                          running));
  assert_false(field_match("status.phase!=Succeeded,status.phase!=Failed",
                           failed));
  assert_true(field_match("spec.nodeName=n1", running));
  assert_true(field_match("spec.nodeName==n1", running));
  assert_false(field_match("spec.nodeName=n2", running));
  /* A missing field reads as "". */
  assert_false(field_match("spec.nodeName=n1", failed));
  assert_true(field_match("spec.nodeName=", failed));
  assert_true(field_match("spec.nodeName!=n1", failed));
  assert_true(field_match("a=x\\,y", comma));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_label_empty),
    cmocka_unit_test(test_label_operators_canonical),
    cmocka_unit_test(test_label_sorting_and_sets),
    cmocka_unit_test(test_label_syntax_errors),
    cmocka_unit_test(test_label_key_validation),
    cmocka_unit_test(test_label_value_validation),
    cmocka_unit_test(test_label_match_equality),
    cmocka_unit_test(test_label_match_sets),
    cmocka_unit_test(test_label_match_existence),
    cmocka_unit_test(test_label_match_numeric),
    cmocka_unit_test(test_label_match_and),
    cmocka_unit_test(test_label_object_null_and_empty),
    cmocka_unit_test(test_label_object_forms),
    cmocka_unit_test(test_label_object_errors),
    cmocka_unit_test(test_field_empty),
    cmocka_unit_test(test_field_terms),
    cmocka_unit_test(test_field_escapes),
    cmocka_unit_test(test_field_errors),
    cmocka_unit_test(test_field_matching),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
