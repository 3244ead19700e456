/*
 * test_resource_visitor.c - the visitor chain of kapi/resource.h with no
 * server: YAML and JSON streams, VisitorList stopping at the first error
 * against EagerVisitorList going on, a directory walked with -R in name
 * order, nested Lists flattened, the namespace decorators, a label
 * selector filter, a malformed document in the middle of a stream with
 * and without continue-on-error, the Builder's argument errors, and a
 * URL served by a small HTTP server on 127.0.0.1 that fails once with a
 * 500 before answering.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kapi/resource.h"

/* ---- collecting what a walk saw ----------------------------------------- */

typedef struct seen {
  char *names[64];  /* "source#index:kind/name[@ns]" */
  size_t n;
  const char *fail_name; /* the visit function fails on this name */
} seen;

static int record(kapi_info *info, void *arg, kapi_errlist *errs)
{
  seen *s = arg;
  char buf[512];
  const char *base = strrchr(info->source, '/');

  snprintf(buf, sizeof buf, "%s#%zu:%s/%s%s%s", base ? base + 1 : info->source,
           info->index, kj_get_str(info->object, "kind"),
           info->name ? info->name : "", info->namespace_ ? "@" : "",
           info->namespace_ ? info->namespace_ : "");
  assert_true(s->n < 64);
  s->names[s->n++] = strdup(buf);
  if (s->fail_name && info->name && !strcmp(info->name, s->fail_name)) {
    kapi_errlist_add(errs, "failed on %s", info->name);
    return -EIO;
  }
  return 0;
}

static void seen_clear(seen *s)
{
  size_t i;

  for (i = 0; i < s->n; i++)
    free(s->names[i]);
  s->n = 0;
}

/* The names joined by spaces, for one assert per walk. */
static char *seen_join(const seen *s)
{
  static char buf[4096];
  size_t i;

  buf[0] = '\0';
  for (i = 0; i < s->n; i++) {
    if (i)
      strcat(buf, " ");
    strcat(buf, s->names[i]);
  }
  return buf;
}

static int walk(kapi_visitor *v, seen *s, kapi_errlist *errs)
{
  int r;

  assert_non_null(v);
  r = kapi_visit(v, record, s, errs);
  kapi_visitor_free(v);
  return r;
}

static kapi_visitor *bytes(const char *text, const char *source)
{
  return kapi_bytes_visitor(text, strlen(text), source, NULL);
}

static void write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");

  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

#define POD(name)                                                             \
  "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " name "\n"

/* ---- errors ------------------------------------------------------------- */

static void test_errlist(void **state)
{
  kapi_errlist l = {0};
  char *s;

  (void)state;
  assert_null(kapi_errlist_join(&l));
  kapi_errlist_add(&l, "a %d", 1);
  s = kapi_errlist_join(&l);
  assert_string_equal(s, "a 1");
  free(s);
  kapi_errlist_add(&l, "b");
  kapi_errlist_add(&l, "a 1"); /* shown once, as utilerrors does */
  s = kapi_errlist_join(&l);
  assert_string_equal(s, "[a 1, b]");
  free(s);
  kapi_errlist_clear(&l);
  assert_int_equal(l.n, 0);
}

static char tmpdir[64];

static void new_tmpdir(void)
{
  strcpy(tmpdir, "/tmp/test_resource_visitorXXXXXX");
  assert_non_null(mkdtemp(tmpdir));
}

static void remove_tree(void)
{
  char cmd[600];

  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  assert_int_equal(system(cmd), 0);
}

/* ---- streams ------------------------------------------------------------ */

static void test_yaml_stream(void **state)
{
  kapi_errlist errs = {0};
  seen s = {0};

  (void)state;
  assert_int_equal(walk(bytes("---\n# only a comment\n---\n" POD("a")
                              "---   # a comment after the separator\n"
                              "\n---\nnull\n---\n" POD("b")
                              "  namespace: ns1\n",
                              "pods.yaml"),
                        &s, &errs),
                   0);
  assert_string_equal(seen_join(&s),
                      "pods.yaml#0:Pod/a pods.yaml#1:Pod/b@ns1");
  assert_int_equal(errs.n, 0);
  seen_clear(&s);
}

static void test_json_stream(void **state)
{
  kapi_errlist errs = {0};
  seen s = {0};

  (void)state;
  assert_int_equal(
      walk(bytes("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
                 "{\"name\":\"x{\\\"}\"}}\n"
                 "  {\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
                 "{\"name\":\"y\"}}",
                 "pods.json"),
           &s, &errs),
      0);
  assert_string_equal(seen_join(&s),
                      "pods.json#0:Pod/x{\"} pods.json#1:Pod/y");
  seen_clear(&s);

  /* A JSON syntax error ends the stream: nothing can follow it. */
  assert_int_equal(
      walk(bytes("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
                 "{\"name\":\"x\"}} {\"apiVersion\": ,} {\"kind\":1}",
                 "bad.json"),
           &s, &errs),
      -EINVAL);
  assert_string_equal(seen_join(&s), "bad.json#0:Pod/x");
  assert_int_equal(errs.n, 1);
  assert_non_null(strstr(errs.msgs[0], "error parsing bad.json (document 2): "));
  kapi_errlist_clear(&errs);
  seen_clear(&s);
}

static void test_validation_texts(void **state)
{
  kapi_errlist errs = {0};
  seen s = {0};

  (void)state;
  assert_int_equal(walk(bytes("metadata:\n  name: a\n", "one.yaml"), &s,
                        &errs),
                   -EINVAL);
  assert_string_equal(errs.msgs[0],
                      "error validating \"one.yaml\": error validating data: "
                      "[apiVersion not set, kind not set]; if you choose to "
                      "ignore these errors, turn validation off with "
                      "--validate=false");
  kapi_errlist_clear(&errs);
  assert_int_equal(walk(bytes("apiVersion: v1\nkind: 3\n", "k.yaml"), &s,
                        &errs),
                   -EINVAL);
  assert_non_null(strstr(errs.msgs[0], "error validating data: kind isn't "
                                       "string type; "));
  kapi_errlist_clear(&errs);
  assert_int_equal(walk(bytes("apiVersion: v1\nkind: Pod\nmetadata: [\n",
                              "syntax.yaml"),
                        &s, &errs),
                   -EINVAL);
  assert_non_null(strstr(errs.msgs[0], "error parsing syntax.yaml: error "
                                       "converting YAML to JSON: yaml: line "));
  kapi_errlist_clear(&errs);
  assert_int_equal(s.n, 0);
}

/* "-" is standard input, named STDIN; a FILE stream is read once. */
static void test_stdin_and_stream(void **state)
{
  kapi_errlist errs = {0};
  char path[600];
  seen s = {0};
  FILE *f;

  (void)state;
  new_tmpdir();
  snprintf(path, sizeof path, "%s/in.yaml", tmpdir);
  write_file(path, POD("s1") "---\n" POD("s2"));
  assert_non_null(freopen(path, "r", stdin));
  assert_int_equal(walk(kapi_file_visitor("-", 0, NULL), &s, &errs), 0);
  assert_string_equal(seen_join(&s), "STDIN#0:Pod/s1 STDIN#1:Pod/s2");
  seen_clear(&s);

  f = fopen(path, "r");
  assert_non_null(f);
  assert_int_equal(walk(kapi_stream_visitor(f, NULL, NULL), &s, &errs), 0);
  fclose(f);
  assert_string_equal(seen_join(&s), "STDIN#0:Pod/s1 STDIN#1:Pod/s2");
  seen_clear(&s);
  remove_tree();
}

/* ---- lists: stop at the first error, or visit everything ------------------ */

static kapi_visitor *two_sources(int eager)
{
  kapi_visitor *vs[2];

  vs[0] = bytes(POD("a1") "---\nkind: Pod\n---\n" POD("a3"), "a.yaml");
  vs[1] = bytes(POD("b1"), "b.yaml");
  return eager ? kapi_eager_visitor_list(vs, 2) : kapi_visitor_list(vs, 2);
}

static void test_visitor_list_stops(void **state)
{
  kapi_errlist errs = {0};
  seen s = {0};

  (void)state;
  assert_int_equal(walk(two_sources(0), &s, &errs), -EINVAL);
  assert_string_equal(seen_join(&s), "a.yaml#0:Pod/a1");
  assert_int_equal(errs.n, 1);
  assert_string_equal(errs.msgs[0],
                      "error validating \"a.yaml\" (document 2): error "
                      "validating data: apiVersion not set; if you choose to "
                      "ignore these errors, turn validation off with "
                      "--validate=false");
  kapi_errlist_clear(&errs);
  seen_clear(&s);

  /* The visit function's own error stops it too. */
  s.fail_name = "a1";
  assert_int_equal(walk(two_sources(0), &s, &errs), -EIO);
  assert_string_equal(seen_join(&s), "a.yaml#0:Pod/a1");
  kapi_errlist_clear(&errs);
  seen_clear(&s);
}

static void test_eager_visitor_list_aggregates(void **state)
{
  kapi_errlist errs = {0};
  char *text;
  seen s = {0};

  (void)state;
  s.fail_name = "a3";
  assert_int_equal(walk(two_sources(1), &s, &errs), -EINVAL);
  assert_string_equal(seen_join(&s),
                      "a.yaml#0:Pod/a1 a.yaml#2:Pod/a3 b.yaml#0:Pod/b1");
  assert_int_equal(errs.n, 2);
  text = kapi_errlist_join(&errs);
  assert_true(text[0] == '[');
  assert_non_null(strstr(text, "(document 2)"));
  assert_non_null(strstr(text, ", failed on a3]"));
  free(text);
  kapi_errlist_clear(&errs);
  seen_clear(&s);
}

/* ---- files and directories ---------------------------------------------- */


static void make_tree(void)
{
  char p[512];

  new_tmpdir();
#define F(rel, text)                                                          \
  do {                                                                        \
    snprintf(p, sizeof p, "%s/%s", tmpdir, rel);                              \
    write_file(p, text);                                                      \
  } while (0)
#define D(rel)                                                                \
  do {                                                                        \
    snprintf(p, sizeof p, "%s/%s", tmpdir, rel);                              \
    assert_int_equal(mkdir(p, 0755), 0);                                      \
  } while (0)
  D("m");
  F("m/b.yaml", POD("b"));
  F("m/a.json", "{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
                "\"metadata\":{\"name\":\"a\"}}");
  F("m/notes.txt", "not a manifest");
  D("m/c");
  F("m/c/2.yml", POD("c2"));
  F("m/c/1.yaml", POD("c1") "---\n" POD("c1b"));
  D("m/c/d");
  F("m/c/d/x.yaml", POD("x"));
  F("m/d.yaml", POD("d"));
  F("plain.txt", POD("plain"));
#undef F
#undef D
}

static void test_directory_order(void **state)
{
  kapi_errlist errs = {0};
  char p[512];
  seen s = {0};

  (void)state;
  make_tree();
  snprintf(p, sizeof p, "%s/m", tmpdir);
  assert_int_equal(walk(kapi_file_visitor(p, 1, NULL), &s, &errs), 0);
  assert_string_equal(seen_join(&s),
                      "a.json#0:Pod/a b.yaml#0:Pod/b 1.yaml#0:Pod/c1 "
                      "1.yaml#1:Pod/c1b 2.yml#0:Pod/c2 x.yaml#0:Pod/x "
                      "d.yaml#0:Pod/d");
  seen_clear(&s);

  /* Without -R only the directory's own files. */
  assert_int_equal(walk(kapi_file_visitor(p, 0, NULL), &s, &errs), 0);
  assert_string_equal(seen_join(&s),
                      "a.json#0:Pod/a b.yaml#0:Pod/b d.yaml#0:Pod/d");
  seen_clear(&s);

  /* A file named explicitly is read whatever its extension. */
  snprintf(p, sizeof p, "%s/plain.txt", tmpdir);
  assert_int_equal(walk(kapi_file_visitor(p, 0, NULL), &s, &errs), 0);
  assert_string_equal(seen_join(&s), "plain.txt#0:Pod/plain");
  seen_clear(&s);

  snprintf(p, sizeof p, "%s/none.yaml", tmpdir);
  assert_int_equal(walk(kapi_file_visitor(p, 0, NULL), &s, &errs), -ENOENT);
  assert_int_equal(errs.n, 1);
  assert_non_null(strstr(errs.msgs[0], ": no such file or directory"));
  assert_true(!strncmp(errs.msgs[0], "open /", 6));
  kapi_errlist_clear(&errs);
  remove_tree();
}

static void test_builder_paths(void **state)
{
  kapi_errlist errs = {0};
  kapi_builder *b;
  kapi_visitor *v;
  char p[512], glob_arg[512], missing[512], empty[512];
  const char *args[2];
  seen s = {0};

  (void)state;
  make_tree();
  snprintf(p, sizeof p, "%s/m", tmpdir);
  snprintf(glob_arg, sizeof glob_arg, "%s/m/c/*.y*ml", tmpdir);
  b = kapi_builder_new(NULL);
  args[0] = p;
  args[1] = glob_arg;
  assert_int_equal(kapi_builder_filenames(b, 1, args, 2), 0);
  v = kapi_builder_do(b, &errs);
  kapi_builder_free(b); /* the visitor outlives its builder */
  assert_int_equal(walk(v, &s, &errs), 0);
  assert_string_equal(seen_join(&s),
                      "a.json#0:Pod/a b.yaml#0:Pod/b 1.yaml#0:Pod/c1 "
                      "1.yaml#1:Pod/c1b 2.yml#0:Pod/c2 x.yaml#0:Pod/x "
                      "d.yaml#0:Pod/d 1.yaml#0:Pod/c1 1.yaml#1:Pod/c1b "
                      "2.yml#0:Pod/c2");
  seen_clear(&s);

  /* Argument errors come from do, all of them. */
  snprintf(missing, sizeof missing, "%s/missing.yaml", tmpdir);
  snprintf(empty, sizeof empty, "%s/empty", tmpdir);
  assert_int_equal(mkdir(empty, 0755), 0);
  b = kapi_builder_new(NULL);
  args[0] = missing;
  args[1] = empty;
  assert_int_equal(kapi_builder_filenames(b, 0, args, 2), 0);
  assert_null(kapi_builder_do(b, &errs));
  assert_int_equal(errs.n, 2);
  assert_true(!strncmp(errs.msgs[0], "the path \"/", 11));
  assert_non_null(strstr(errs.msgs[0], "missing.yaml\" does not exist"));
  assert_non_null(strstr(errs.msgs[1], "]: recognized file extensions are "
                                       "[.json .yaml .yml]"));
  kapi_errlist_clear(&errs);
  kapi_builder_free(b);

  b = kapi_builder_new(NULL);
  assert_null(kapi_builder_do(b, &errs));
  assert_true(!strncmp(errs.msgs[0], "You must provide one or more resources",
                       38));
  kapi_errlist_clear(&errs);
  kapi_builder_free(b);
  remove_tree();
}

/* ---- flattening ---------------------------------------------------------- */

static void test_flatten_nested_lists(void **state)
{
  kapi_errlist errs = {0};
  seen s = {0};
  const char *text =
      POD("first") "---\n"
      "apiVersion: v1\nkind: List\nitems:\n"
      "- " "apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n"
      "- apiVersion: v1\n  kind: List\n  items:\n"
      "  - {apiVersion: v1, kind: Pod, metadata: {name: b}}\n"
      "  - apiVersion: v1\n    kind: PodList\n    items:\n"
      "    - {apiVersion: v1, kind: Pod, metadata: {name: c}}\n"
      "- {apiVersion: v1, kind: Pod, metadata: {name: d}}\n"
      "- {apiVersion: v1, kind: List}\n";

  (void)state;
  /* Breadth first, as upstream: a list's own items before nested ones;
   * each item keeps the list's source and document index. */
  assert_int_equal(
      walk(kapi_flatten_list_visitor(bytes(text, "l.yaml"), NULL), &s, &errs),
      0);
  assert_string_equal(seen_join(&s), "l.yaml#0:Pod/first l.yaml#1:Pod/a "
                                     "l.yaml#1:Pod/d l.yaml#1:Pod/b "
                                     "l.yaml#1:Pod/c");
  seen_clear(&s);

  /* Unflattened, the list is one info. */
  assert_int_equal(walk(bytes(text, "l.yaml"), &s, &errs), 0);
  assert_string_equal(seen_join(&s), "l.yaml#0:Pod/first l.yaml#1:List/");
  seen_clear(&s);

  /* A bad item is an error of its own; the others are still visited. */
  assert_int_equal(
      walk(kapi_continue_on_error_visitor(kapi_flatten_list_visitor(
               bytes("kind: List\napiVersion: v1\nitems:\n- {kind: Pod}\n"
                     "- {apiVersion: v1, kind: Pod, metadata: {name: ok}}\n",
                     "i.yaml"),
               NULL)),
           &s, &errs),
      -EINVAL);
  assert_string_equal(seen_join(&s), "i.yaml#0:Pod/ok");
  assert_int_equal(errs.n, 1);
  kapi_errlist_clear(&errs);
  seen_clear(&s);
}

/* ---- decorators and filters ------------------------------------------------ */

static const kapi_mapping table[] = {
    {"", "v1", "pods", "Pod", 1},
    {"", "v1", "namespaces", "Namespace", 0},
    {"apps", "v1", "deployments", "Deployment", 1},
};

static void test_namespace_decorators(void **state)
{
  kapi_mapper *m = kapi_mapper_static(table, 3);
  kapi_decorate_fn set[] = {kapi_set_namespace};
  kapi_decorate_fn require[] = {kapi_require_namespace};
  const char *text = POD("a") "---\n" POD("b") "  namespace: other\n"
                     "---\napiVersion: v1\nkind: Namespace\nmetadata:\n"
                     "  name: nsx\n";
  kapi_errlist errs = {0};
  seen s = {0};

  (void)state;
  assert_non_null(m);
  assert_int_equal(
      walk(kapi_decorated_visitor(
               kapi_bytes_visitor(text, strlen(text), "ns.yaml", m), set, 1,
               "ns1"),
           &s, &errs),
      0);
  assert_string_equal(seen_join(&s), "ns.yaml#0:Pod/a@ns1 "
                                     "ns.yaml#1:Pod/b@other "
                                     "ns.yaml#2:Namespace/nsx");
  seen_clear(&s);

  assert_int_equal(
      walk(kapi_decorated_visitor(
               kapi_bytes_visitor(text, strlen(text), "ns.yaml", m), require,
               1, "ns1"),
           &s, &errs),
      -EINVAL);
  assert_string_equal(seen_join(&s), "ns.yaml#0:Pod/a@ns1");
  assert_string_equal(errs.msgs[0],
                      "the namespace from the provided object \"other\" does "
                      "not match the namespace \"ns1\". You must pass "
                      "'--namespace=other' to perform this operation.");
  kapi_errlist_clear(&errs);
  seen_clear(&s);
  kapi_mapper_free(m);
}

/* The decorator also writes the namespace into the object. */
static int check_object_namespace(kapi_info *info, void *arg,
                                  kapi_errlist *errs)
{
  (void)arg;
  (void)errs;
  assert_string_equal(
      kj_get_str(kj_get(info->object, "metadata"), "namespace"), "ns1");
  assert_string_equal(info->mapping.resource, "pods");
  return 0;
}

static void test_decorator_updates_object(void **state)
{
  kapi_mapper *m = kapi_mapper_static(table, 3);
  kapi_decorate_fn set[] = {kapi_set_namespace};
  kapi_errlist errs = {0};
  kapi_visitor *v;

  (void)state;
  v = kapi_decorated_visitor(
      kapi_bytes_visitor(POD("a"), strlen(POD("a")), "x", m), set, 1, "ns1");
  assert_int_equal(kapi_visit(v, check_object_namespace, NULL, &errs), 0);
  kapi_visitor_free(v);
  kapi_mapper_free(m);
}

static int only_b(const kapi_info *info, void *arg, kapi_errlist *errs)
{
  (void)arg;
  (void)errs;
  return info->name && info->name[0] == 'b';
}

static void test_filters(void **state)
{
  kapi_errlist errs = {0};
  kapi_builder *b;
  char path[512];
  const char *args[1];
  seen s = {0};

  (void)state;
  assert_int_equal(
      walk(kapi_filtered_visitor(
               bytes(POD("a") "---\n" POD("b1") "---\n" POD("b2"), "f"),
               only_b, NULL),
           &s, &errs),
      0);
  assert_string_equal(seen_join(&s), "f#1:Pod/b1 f#2:Pod/b2");
  seen_clear(&s);

  /* The Builder's label selector, on the objects' own labels. */
  new_tmpdir();
  snprintf(path, sizeof path, "%s/l.yaml", tmpdir);
  write_file(path, POD("web") "  labels: {app: web, tier: front}\n---\n"
                   POD("db") "  labels: {app: db}\n---\n" POD("none"));
  b = kapi_builder_new(NULL);
  args[0] = path;
  kapi_builder_filenames(b, 0, args, 1);
  kapi_builder_label_selector(b, "app in (web,cache),tier");
  assert_int_equal(walk(kapi_builder_do(b, &errs), &s, &errs), 0);
  assert_string_equal(seen_join(&s), "l.yaml#0:Pod/web");
  seen_clear(&s);

  kapi_builder_label_selector(b, "app in (");
  assert_null(kapi_builder_do(b, &errs));
  assert_true(!strncmp(errs.msgs[0],
                       "the provided selector \"app in (\" is not valid: ",
                       46));
  kapi_errlist_clear(&errs);
  kapi_builder_free(b);
  remove_tree();
}

/* ---- a malformed document in the middle of a stream ----------------------- */

static const char middle_bad[] = POD("one") "---\n"
                                 "apiVersion: v1\nkind: Pod\nmetadata:\n"
                                 "  name: two\n  labels: {a: b\n"
                                 "---\n" POD("three");

static kapi_builder *middle_builder(int keep_going)
{
  kapi_builder *b = kapi_builder_new(NULL);
  const char *args[1];
  char path[512];

  snprintf(path, sizeof path, "%s/bad.yaml", tmpdir);
  write_file(path, middle_bad);
  args[0] = path;
  kapi_builder_filenames(b, 0, args, 1);
  kapi_builder_namespace(b, "ns1", 1);
  if (keep_going)
    kapi_builder_continue_on_error(b);
  return b;
}

static void test_malformed_document(void **state)
{
  kapi_errlist errs = {0};
  kapi_builder *b;
  char *text;
  seen s = {0};

  (void)state;
  new_tmpdir();

  b = middle_builder(1);
  assert_int_equal(walk(kapi_builder_do(b, &errs), &s, &errs), -EINVAL);
  assert_string_equal(seen_join(&s),
                      "bad.yaml#0:Pod/one@ns1 bad.yaml#2:Pod/three@ns1");
  text = kapi_errlist_join(&errs);
  assert_non_null(strstr(text, "error parsing "));
  assert_non_null(strstr(text, "/bad.yaml (document 2): error converting "
                               "YAML to JSON: yaml: line "));
  free(text);
  kapi_errlist_clear(&errs);
  seen_clear(&s);
  kapi_builder_free(b);

  /* Without continue-on-error the walk stops at the bad document. */
  b = middle_builder(0);
  assert_int_equal(walk(kapi_builder_do(b, &errs), &s, &errs), -EINVAL);
  assert_string_equal(seen_join(&s), "bad.yaml#0:Pod/one@ns1");
  assert_int_equal(errs.n, 1);
  kapi_errlist_clear(&errs);
  seen_clear(&s);
  kapi_builder_free(b);

  /* The ContinueOnErrorVisitor alone, also after the visit function fails. */
  s.fail_name = "one";
  assert_int_equal(walk(kapi_continue_on_error_visitor(
                            bytes(middle_bad, "bad.yaml")),
                        &s, &errs),
                   -EIO);
  assert_string_equal(seen_join(&s), "bad.yaml#0:Pod/one bad.yaml#2:Pod/three");
  assert_int_equal(errs.n, 2);
  assert_string_equal(errs.msgs[0], "failed on one");
  kapi_errlist_clear(&errs);
  seen_clear(&s);
  remove_tree();
}

/* ---- mapping ------------------------------------------------------------- */

static void test_mapping(void **state)
{
  kapi_mapper *m = kapi_mapper_static(table, 3);
  const char *text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
                     "  name: d\n---\napiVersion: v1\nkind: Widget\n"
                     "metadata: {name: w}\n";
  kapi_errlist errs = {0};
  seen s = {0};

  (void)state;
  assert_int_equal(walk(kapi_continue_on_error_visitor(kapi_bytes_visitor(
                            text, strlen(text), "m.yaml", m)),
                        &s, &errs),
                   -ENOENT);
  assert_string_equal(seen_join(&s), "m.yaml#0:Deployment/d");
  assert_int_equal(errs.n, 1);
  assert_string_equal(errs.msgs[0],
                      "resource mapping not found for name: \"w\" namespace: "
                      "\"\" from \"m.yaml\": no matches for kind \"Widget\" "
                      "in version \"v1\"\nensure CRDs are installed first");
  kapi_errlist_clear(&errs);
  seen_clear(&s);
  kapi_mapper_free(m);
}

/* ---- URLs ------------------------------------------------------------------ */

/* Serves one connection per planned answer, in order, then stops. */
typedef struct http_plan {
  int fd;
  int port;
  const char *answers[4];
  int served;
} http_plan;

static void *serve(void *arg)
{
  http_plan *h = arg;
  int i;

  for (i = 0; h->answers[i]; i++) {
    char req[4096];
    int c = accept(h->fd, NULL, NULL);
    ssize_t got;
    size_t used = 0;
    if (c < 0)
      break;
    /* Read the request head; the GET has no body. */
    while (used < sizeof req - 1 &&
           (got = read(c, req + used, sizeof req - 1 - used)) > 0) {
      used += (size_t)got;
      req[used] = '\0';
      if (strstr(req, "\r\n\r\n"))
        break;
    }
    if (write(c, h->answers[i], strlen(h->answers[i])) < 0)
      perror("write");
    close(c);
    __atomic_add_fetch(&h->served, 1, __ATOMIC_SEQ_CST);
  }
  return NULL;
}

static void start_server(http_plan *h, pthread_t *t)
{
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  int one = 1;

  h->fd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(h->fd >= 0);
  setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(h->fd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(listen(h->fd, 8), 0);
  assert_int_equal(getsockname(h->fd, (struct sockaddr *)&a, &len), 0);
  h->port = ntohs(a.sin_port);
  assert_int_equal(pthread_create(t, NULL, serve, h), 0);
}

#define BODY POD("u1") "---\n" POD("u2")
#define OK_ANSWER                                                             \
  "HTTP/1.1 200 OK\r\nContent-Type: application/yaml\r\nConnection: close"    \
  "\r\n\r\n" BODY
#define FAIL_ANSWER                                                           \
  "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n"               \
  "Connection: close\r\n\r\noops"
#define MISSING_ANSWER                                                        \
  "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

static void test_url_retry(void **state)
{
  http_plan h = {.answers = {FAIL_ANSWER, OK_ANSWER, NULL}};
  kapi_errlist errs = {0};
  char url[128];
  pthread_t t;
  seen s = {0};

  (void)state;
  start_server(&h, &t);
  snprintf(url, sizeof url, "http://127.0.0.1:%d/m.yaml", h.port);
  assert_int_equal(walk(kapi_url_visitor(url, 2, NULL), &s, &errs), 0);
  pthread_join(t, NULL);
  close(h.fd);
  assert_int_equal(h.served, 2);
  assert_int_equal(errs.n, 0);
  assert_string_equal(seen_join(&s), "m.yaml#0:Pod/u1 m.yaml#1:Pod/u2");
  seen_clear(&s);
}

static void test_url_errors(void **state)
{
  http_plan h = {.answers = {FAIL_ANSWER, MISSING_ANSWER, NULL}};
  kapi_errlist errs = {0};
  char url[128], want[256];
  pthread_t t;
  seen s = {0};

  (void)state;
  /* A 404 is not tried again: two attempts for three allowed. */
  start_server(&h, &t);
  snprintf(url, sizeof url, "http://127.0.0.1:%d/x.yaml", h.port);
  assert_int_equal(walk(kapi_url_visitor(url, 2, NULL), &s, &errs), -EIO);
  pthread_join(t, NULL);
  close(h.fd);
  assert_int_equal(h.served, 2);
  snprintf(want, sizeof want,
           "unable to read URL \"%s\", server reported 404 Not Found, "
           "status code=404", url);
  assert_int_equal(errs.n, 1);
  assert_string_equal(errs.msgs[0], want);
  kapi_errlist_clear(&errs);

  /* Through the Builder, which passes URLs to a URL visitor. */
  {
    http_plan h2 = {.answers = {OK_ANSWER, NULL}};
    kapi_builder *b = kapi_builder_new(NULL);
    const char *args[1];

    start_server(&h2, &t);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/b.yaml", h2.port);
    args[0] = url;
    kapi_builder_filenames(b, 0, args, 1);
    kapi_builder_namespace(b, "ns1", 0);
    assert_int_equal(walk(kapi_builder_do(b, &errs), &s, &errs), 0);
    pthread_join(t, NULL);
    close(h2.fd);
    kapi_builder_free(b);
    assert_int_equal(s.n, 2);
    assert_non_null(strstr(s.names[1], "b.yaml#1:Pod/u2@ns1"));
    seen_clear(&s);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_errlist),
      cmocka_unit_test(test_yaml_stream),
      cmocka_unit_test(test_json_stream),
      cmocka_unit_test(test_validation_texts),
      cmocka_unit_test(test_stdin_and_stream),
      cmocka_unit_test(test_visitor_list_stops),
      cmocka_unit_test(test_eager_visitor_list_aggregates),
      cmocka_unit_test(test_directory_order),
      cmocka_unit_test(test_builder_paths),
      cmocka_unit_test(test_flatten_nested_lists),
      cmocka_unit_test(test_namespace_decorators),
      cmocka_unit_test(test_decorator_updates_object),
      cmocka_unit_test(test_filters),
      cmocka_unit_test(test_malformed_document),
      cmocka_unit_test(test_mapping),
      cmocka_unit_test(test_url_retry),
      cmocka_unit_test(test_url_errors),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
