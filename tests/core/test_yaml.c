/*
 * test_yaml.c - core/lib/yaml.c: YAML to JSON exactly as Kubernetes'
 * sigs.k8s.io/yaml (go-yaml v2 + encoding/json) produces it, asserted as
 * whole compact JSON texts; errors asserted whole, positions included.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "kyaml.h"

typedef struct yaml_case {
  const char *name;
  const char *yaml;
  const char *json; /* the documents' JSON, one per line */
} yaml_case;

static const yaml_case cases[] = {
    {"mapping", "a: 1\nb: two\n", "{\"a\":1,\"b\":\"two\"}"},
    /* YAML 1.1 booleans, and what is not one. */
    {"booleans",
     "k: [y, Y, yes, Yes, YES, n, N, no, No, NO, on, On, ON, off, Off, OFF,\n"
     "    true, True, TRUE, false, False, FALSE]\n",
     "{\"k\":[true,true,true,true,true,false,false,false,false,false,true,"
     "true,true,false,false,false,true,true,true,false,false,false]}"},
    {"not booleans", "k: [yES, tRUE, oN, 'yes', \"on\", 'Y', yess]\n",
     "{\"k\":[\"yES\",\"tRUE\",\"oN\",\"yes\",\"on\",\"Y\",\"yess\"]}"},
    /* The kubectl-contract gotcha: an env var named Y. */
    {"env var named Y",
     "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
     "  - name: c\n    image: busybox\n    env:\n    - name: Y\n      value: N\n"
     "    - name: \"Y\"\n      value: \"N\"\n    - name: on\n      value: off\n",
     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
     "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"env\":["
     "{\"name\":true,\"value\":false},{\"name\":\"Y\",\"value\":\"N\"},"
     "{\"name\":true,\"value\":false}]}]}}"},
    {"nulls", "a: ~\nb: null\nc:\nd: Null\ne: NULL\nf: nULL\ng: ''\n",
     "{\"a\":null,\"b\":null,\"c\":null,\"d\":null,\"e\":null,\"f\":\"nULL\","
     "\"g\":\"\"}"},
    {"integers",
     "[0, -1, +5, 0x1F, 0o17, 017, 0b101, -0b101, 1_000, -0,\n"
     " 9223372036854775807, -9223372036854775808, 18446744073709551615,\n"
     " 08, 0x, 0b2]\n",
     "[0,-1,5,31,15,15,5,-5,1000,0,9223372036854775807,"
     "-9223372036854775808,18446744073709551615,8,\"0x\",\"0b2\"]"},
    {"floats",
     "[1.0, 1.5, -0.25, .5, -.5, 1e3, 1.5E+3, 6.02e23, 1e-7, 0.000001, 1e21,\n"
     " 1e20, 3., 18446744073709551616, 1e400, 0.1, -0.0, 5e-324]\n",
     "[1,1.5,-0.25,0.5,-0.5,1000,1500,6.02e+23,1e-7,0.000001,1e+21,"
     "100000000000000000000,3,18446744073709552000,\"1e400\",0.1,-0,5e-324]"},
    {"strings that look typed",
     "- 1.2.3\n- 2001-12-14\n- 12:30\n- 1:20\n- v1\n- '123'\n- \"true\"\n"
     "- +\n- .\n- 1-2\n- 0.5.1\n- .5x\n",
     "[\"1.2.3\",\"2001-12-14\",\"12:30\",\"1:20\",\"v1\",\"123\",\"true\","
     "\"+\",\".\",\"1-2\",\"0.5.1\",\".5x\"]"},
    {"block scalars stay strings",
     "a: |\n  line1\n  line2\nb: >\n  folded\n  text\nc: |-\n  true\n"
     "d: >-\n  12\n",
     "{\"a\":\"line1\\nline2\\n\",\"b\":\"folded text\\n\",\"c\":\"true\","
     "\"d\":\"12\"}"},
    {"escapes", "a: \"\\u00e9\\t\\n/\\\"\"\nb: 'it''s'\n",
     "{\"a\":\"\xc3\xa9\\t\\n/\\\"\",\"b\":\"it's\"}"},
    {"anchors and aliases",
     "base: &b {x: 1, list: [a, b]}\ncopy: *b\nmore: [*b, *b]\n"
     "s: &s text\nt: *s\n",
     "{\"base\":{\"x\":1,\"list\":[\"a\",\"b\"]},"
     "\"copy\":{\"x\":1,\"list\":[\"a\",\"b\"]},"
     "\"more\":[{\"x\":1,\"list\":[\"a\",\"b\"]},"
     "{\"x\":1,\"list\":[\"a\",\"b\"]}],\"s\":\"text\",\"t\":\"text\"}"},
    {"anchor redefined: the latest wins", "a: &v 1\nb: *v\nc: &v 2\nd: *v\n",
     "{\"a\":1,\"b\":1,\"c\":2,\"d\":2}"},
    {"anchored key", "&k key: v\nother: *k\n*k : again\n",
     "{\"key\":\"again\",\"other\":\"key\"}"},
    {"merge key",
     "base: &b {x: 1, z: 2}\nd:\n  <<: *b\n  z: 3\n  w: 4\n",
     "{\"base\":{\"x\":1,\"z\":2},\"d\":{\"x\":1,\"z\":3,\"w\":4}}"},
    /* go-yaml v2: earlier maps of a merge list win. */
    {"merge list",
     "a: &a {x: 1}\nb: &b {x: 2, w: 2}\nc:\n  <<: [*a, *b]\n",
     "{\"a\":{\"x\":1},\"b\":{\"x\":2,\"w\":2},\"c\":{\"x\":1,\"w\":2}}"},
    {"quoted << is a plain key", "'<<': 1\n", "{\"<<\":1}"},
    {"<< as a value", "a: <<\n", "{\"a\":\"<<\"}"},
    /* Keys become strings as sigs.k8s.io/yaml makes them. */
    {"typed keys",
     "1: a\n2.5: b\ntrue: c\nyes: d\n0x10: e\n1e6: f\n'5': g\n0.0001: h\n"
     "0.00001: i\nN: j\n",
     "{\"1\":\"a\",\"2.5\":\"b\",\"true\":\"d\",\"16\":\"e\",\"1e+06\":\"f\","
     "\"5\":\"g\",\"0.0001\":\"h\",\"1e-05\":\"i\",\"false\":\"j\"}"},
    {"the y: key", "x: 1\ny: 2\n", "{\"x\":1,\"true\":2}"},
    {"duplicate keys: the last wins", "a: 1\nb: 2\na: 3\n",
     "{\"a\":3,\"b\":2}"},
    {"explicit tags",
     "a: !!str 123\nb: !!int \"42\"\nc: !!float 1\nd: !custom hello\n"
     "e: !!bool yes\nf: !!null ~\ng: !!str true\nh: !!float '2.50'\n",
     "{\"a\":\"123\",\"b\":42,\"c\":1,\"d\":\"hello\",\"e\":true,\"f\":null,"
     "\"g\":\"true\",\"h\":2.5}"},
    {"multiple documents, empty ones skipped",
     "a: 1\n---\n---\nb: 2\n...\n---\n# only a comment\n---\n~\n--- [x]\n",
     "{\"a\":1}\n{\"b\":2}\n[\"x\"]"},
    {"JSON is YAML", "{\"a\": [1, 2.5, \"x\", true, null], \"b\": {\"c\": \"d\"}}",
     "{\"a\":[1,2.5,\"x\",true,null],\"b\":{\"c\":\"d\"}}"},
    {"nested sequences", "- - a\n  - b\n- c\n- []\n- {}\n",
     "[[\"a\",\"b\"],\"c\",[],{}]"},
    {"kubeconfig",
     "apiVersion: v1\nkind: Config\nclusters:\n- name: t\n"
     "  cluster: {server: \"http://127.0.0.1:8080\", insecure-skip-tls-verify: true}\n"
     "current-context: t\n",
     "{\"apiVersion\":\"v1\",\"kind\":\"Config\",\"clusters\":[{\"name\":\"t\","
     "\"cluster\":{\"server\":\"http://127.0.0.1:8080\","
     "\"insecure-skip-tls-verify\":true}}],\"current-context\":\"t\"}"},
    {"empty stream", "", ""},
    {"comments only", "# nothing\n\n", ""},
};

typedef struct error_case {
  const char *name;
  const char *yaml;
  const char *err;
} error_case;

static const error_case errors[] = {
    {"mapping in a plain value", "a: b: c\n",
     "line 1, column 5: mapping values are not allowed in this context"},
    {"unclosed flow sequence", "a: [1, 2\n",
     "line 2, column 1: did not find expected ',' or ']' (while parsing a "
     "flow sequence at line 1, column 4)"},
    {"tab indentation", "a:\n\tb: 1\n",
     "line 2, column 1: found character that cannot start any token (while "
     "scanning for the next token at line 2, column 1)"},
    {"unterminated quote", "x: 1\na: \"open\n",
     "line 3, column 1: found unexpected end of stream (while scanning a "
     "quoted scalar at line 2, column 4)"},
    {"sequence then mapping", "- a\nb: c\n",
     "line 2, column 1: did not find expected '-' indicator (while parsing a "
     "block collection at line 1, column 1)"},
    {"unknown anchor", "a: 1\nb: *nope\n",
     "line 2, column 4: unknown anchor 'nope' referenced"},
    {"anchor containing itself", "a: &x [1, *x]\n",
     "line 1, column 11: anchor 'x' value contains itself"},
    {"tag mismatch", "n: !!int abc\n",
     "line 1, column 4: cannot decode !!str `abc` as a !!int"},
    {"bool tag mismatch", "n: !!bool 1\n",
     "line 1, column 4: cannot decode !!int `1` as a !!bool"},
    {"sequence as a key", "? [a]\n: 1\n",
     "line 1, column 3: invalid map key: a sequence"},
    {"mapping as a key", "? {a: 1}\n: 1\n",
     "line 1, column 3: invalid map key: a mapping"},
    {"null key", "~: 1\n", "line 1, column 1: unsupported map key of type <nil>"},
    {"infinity", "a: .inf\n", "line 1, column 4: json: unsupported value: +Inf"},
    {"NaN", "a: [1, .NaN]\n",
     "line 1, column 8: json: unsupported value: NaN"},
    {"merge of a scalar", "<<: 1\n",
     "line 1, column 5: map merge requires map or sequence of maps as the "
     "value"},
    {"error in a later document", "a: 1\n---\nb: [\n",
     "line 4, column 1: did not find expected node content (while parsing a "
     "flow node at line 4, column 1)"},
};

/* The documents' compact JSON, one per line. */
static char *dump_docs(kj **docs, size_t n)
{
  char *out = strdup("");
  size_t i;

  assert_non_null(out);
  for (i = 0; i < n; i++) {
    char *one = kj_dump(docs[i], NULL), *p;
    assert_non_null(one);
    p = realloc(out, strlen(out) + strlen(one) + 2);
    assert_non_null(p);
    out = p;
    if (i > 0)
      strcat(out, "\n");
    strcat(out, one);
    free(one);
  }
  return out;
}

static void test_cases(void **state)
{
  size_t i, j;
  (void)state;

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const yaml_case *c = &cases[i];
    kj **docs = NULL;
    size_t n = 0;
    char err[512] = "";
    char *got;
    int r = kapi_yaml_parse(c->yaml, strlen(c->yaml), &docs, &n, err,
                            sizeof err);
    if (r != 0)
      fail_msg("%s: parse failed (%d): %s", c->name, r, err);
    got = dump_docs(docs, n);
    if (strcmp(got, c->json) != 0)
      fail_msg("%s:\n  got  %s\n  want %s", c->name, got, c->json);
    free(got);
    for (j = 0; j < n; j++)
      kj_free(docs[j]);
    free(docs);
  }
}

static void test_errors(void **state)
{
  size_t i;
  (void)state;

  for (i = 0; i < sizeof errors / sizeof errors[0]; i++) {
    const error_case *c = &errors[i];
    kj **docs = NULL;
    size_t n = 0;
    char err[512] = "";
    int r = kapi_yaml_parse(c->yaml, strlen(c->yaml), &docs, &n, err,
                            sizeof err);
    if (r != -EINVAL)
      fail_msg("%s: want -EINVAL, got %d", c->name, r);
    if (strcmp(err, c->err) != 0)
      fail_msg("%s:\n  got  %s\n  want %s", c->name, err, c->err);
  }
}

/* A "billion laughs" document is refused before it is expanded. */
static void test_excessive_aliasing(void **state)
{
  char buf[4096];
  size_t len = 0;
  int i;
  kj *doc = NULL;
  char err[256] = "";
  (void)state;

  len += (size_t)snprintf(buf + len, sizeof buf - len,
                          "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
  for (i = 1; i < 10; i++)
    len += (size_t)snprintf(buf + len, sizeof buf - len,
                            "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, "
                            "*a%d, *a%d, *a%d, *a%d]\n",
                            i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
                            i - 1, i - 1, i - 1, i - 1);
  assert_int_equal(kapi_yaml_parse_one(buf, len, &doc, err, sizeof err),
                   -EINVAL);
  assert_non_null(strstr(err, "document contains excessive aliasing"));
  assert_null(doc);
}

static void test_parse_one(void **state)
{
  const char *two = "# first is empty\n---\n---\nkind: A\n---\nkind: B\n";
  kj *doc = NULL;
  char err[256];
  (void)state;

  assert_int_equal(kapi_yaml_parse_one(two, strlen(two), &doc, err,
                                       sizeof err), 0);
  assert_string_equal(kj_get_str(doc, "kind"), "A");
  kj_free(doc);
  doc = NULL;
  assert_int_equal(kapi_yaml_parse_one("", 0, &doc, err, sizeof err),
                   -ENOENT);
  assert_int_equal(kapi_yaml_parse_one("---\n...\n", 8, &doc, err,
                                       sizeof err), -ENOENT);
  assert_null(doc);
  /* Not NUL-terminated: only len bytes are read. */
  assert_int_equal(kapi_yaml_parse_one("a: 1xyz", 4, &doc, err, sizeof err),
                   0);
  assert_string_equal(kj_get(doc, "a")->u.str.s, "1");
  kj_free(doc);
}

static void test_read_file(void **state)
{
  char path[] = "/tmp/kapi-test-yaml-XXXXXX";
  const char *text = "apiVersion: v1\nkind: Config\ncurrent-context: on\n";
  kj *doc = NULL;
  char err[512];
  char *json;
  int fd = mkstemp(path);
  (void)state;

  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  assert_int_equal(kapi_yaml_read_file(path, &doc, err, sizeof err), 0);
  json = kj_dump(doc, NULL);
  assert_string_equal(json, "{\"apiVersion\":\"v1\",\"kind\":\"Config\","
                            "\"current-context\":true}");
  free(json);
  kj_free(doc);
  doc = NULL;

  /* A syntax error names the file and the position. */
  fd = open(path, O_WRONLY | O_TRUNC);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "a: [\n", 5), 5);
  close(fd);
  assert_int_equal(kapi_yaml_read_file(path, &doc, err, sizeof err),
                   -EINVAL);
  assert_non_null(strstr(err, path));
  assert_non_null(strstr(err, ": line 2, column 1: did not find expected "
                              "node content"));
  unlink(path);
  assert_int_equal(kapi_yaml_read_file(path, &doc, err, sizeof err),
                   -ENOENT);
  assert_non_null(strstr(err, "No such file or directory"));
  assert_null(doc);
}

/* Deep nesting costs heap, not C stack, and has a limit. */
static void test_depth_limit(void **state)
{
  size_t n = 10001, i;
  char *buf = malloc(2 * n + 1);
  kj *doc = NULL;
  char err[256];
  (void)state;

  assert_non_null(buf);
  for (i = 0; i < n; i++) {
    buf[i] = '[';
    buf[n + i] = ']';
  }
  buf[2 * n] = '\0';
  assert_int_equal(kapi_yaml_parse_one(buf, 2 * n, &doc, err, sizeof err),
                   -EINVAL);
  assert_string_equal(err, "line 1, column 10001: exceeded max depth of 10000");
  /* One level less is fine. */
  assert_int_equal(kapi_yaml_parse_one(buf + 1, 2 * n - 2, &doc, err,
                                       sizeof err), 0);
  kj_free(doc);
  free(buf);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cases),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_excessive_aliasing),
      cmocka_unit_test(test_parse_one),
      cmocka_unit_test(test_read_file),
      cmocka_unit_test(test_depth_limit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
