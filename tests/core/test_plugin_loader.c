/*
 * test_plugin_loader.c - the plugin loader and the host API table.
 *
 * Builds nothing itself: the fixture plugins (tests/plugins/<name>.c, one
 * <name>.so each) are taken from $KAPI_TEST_PLUGIN_DIR (default "tests/plugins").
 * Every test copies the ones it needs into a fresh mkdtemp directory with
 * mode 0755/0644, so permissions are under the test's control, then
 * asserts the exact error line (file, field, both values) or the chain
 * order.  The last tests call every kapi_host_api member.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "plugin_loader.h"
#include "request.h"
#include "status.h"

/* ---- stand-ins for request.c (only what host_api.c forwards to) ------- */

const char *kapi_req_get(const kapi_req *r, const char *key)
{
  if (!strcmp(key, "verb"))
    return r->verb;
  if (!strcmp(key, "namespace"))
    return r->namespace_;
  return NULL;
}

const char *kapi_req_group(const kapi_req *r, size_t i)
{
  return kj_str(kj_at(kj_get(r->user, "groups"), i));
}

const kapi_obj *kapi_req_old_object(const kapi_req *r)
{
  return r->old_object;
}

const char *kapi_req_header(const kapi_req *r, const char *name)
{
  return r->header ? r->header(r->conn, name) : NULL;
}

/* ---- fixtures ---------------------------------------------------------- */

/* The `st` of every component of the good-* fixtures. */
struct fixture_state {
  const char *name;
  char *config;
};

static const char *fixture_dir(void)
{
  const char *d = getenv("KAPI_TEST_PLUGIN_DIR");

  return d && *d ? d : "tests/plugins";
}

/* A fresh directory per test; teardown removes it and all it holds. */
typedef struct sandbox {
  char dir[64];
  char path[600]; /* scratch for sb_path */
} sandbox;

static const char *sb_path(sandbox *sb, const char *name)
{
  snprintf(sb->path, sizeof sb->path, "%s/%s", sb->dir, name);
  return sb->path;
}

static int sandbox_setup(void **state)
{
  sandbox *sb = calloc(1, sizeof *sb);

  assert_non_null(sb);
  strcpy(sb->dir, "/tmp/kapi-plugin-test-XXXXXX");
  assert_non_null(mkdtemp(sb->dir));
  assert_int_equal(chmod(sb->dir, 0755), 0);
  *state = sb;
  return 0;
}

static int sandbox_teardown(void **state)
{
  sandbox *sb = *state;
  struct dirent *e;
  char path[600];
  DIR *d = opendir(sb->dir);

  while (d && (e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
      snprintf(path, sizeof path, "%s/%s", sb->dir, e->d_name);
      unlink(path);
    }
  if (d)
    closedir(d);
  rmdir(sb->dir);
  free(sb);
  return 0;
}

static void write_file(const char *path, const void *buf, size_t n,
                       mode_t mode)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);

  assert_true(fd >= 0);
  assert_int_equal(write(fd, buf, n), (ssize_t)n);
  /* fchmod, not open's mode: the umask must not decide. */
  assert_int_equal(fchmod(fd, mode), 0);
  close(fd);
}

/* Copies fixture <name>.so into the sandbox as `as` (NULL: same name). */
static const char *add_fixture(sandbox *sb, const char *name, const char *as,
                               mode_t mode)
{
  char src[512], *buf;
  FILE *f;
  long n;

  snprintf(src, sizeof src, "%s/%s.so", fixture_dir(), name);
  f = fopen(src, "rb");
  if (!f)
    fail_msg("fixture %s not found; build it with: cc -std=c11 -shared "
             "-fPIC -fvisibility=hidden -I include -o %s tests/plugins/%s.c",
             src, src, name);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  n = ftell(f);
  rewind(f);
  buf = malloc((size_t)n);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  if (!as) {
    snprintf(src, sizeof src, "%s.so", name);
    as = src;
  }
  write_file(sb_path(sb, as), buf, (size_t)n, mode);
  free(buf);
  return sb->path;
}

static void assert_contains(const char *haystack, const char *needle)
{
  if (!strstr(haystack, needle))
    fail_msg("expected \"%s\"\n in \"%s\"", needle, haystack);
}

/* Loads one fixture from the sandbox and expects it refused with rc and
 * an error line that contains `expect` (a format: %s is the path). */
static void expect_refusal(sandbox *sb, const char *fixture, int rc,
                           const char *expect)
{
  kapi_plugins *ps = kapi_plugins_new(NULL);
  char err[2048], want[2048], path[256];

  assert_non_null(ps);
  snprintf(path, sizeof path, "%s", add_fixture(sb, fixture, NULL, 0644));
  assert_int_equal(kapi_plugins_load_file(ps, path, err, sizeof err), rc);
  snprintf(want, sizeof want, expect, path);
  assert_contains(err, want);
  assert_int_equal(kapi_plugins_count(ps, KAPI_KIND_AUTHZ), 0);
  assert_int_equal(kapi_plugins_count(ps, KAPI_KIND_ADMISSION), 0);
  kapi_plugins_free(ps);
}

static const char *chain_name(const kapi_plugins *ps, kapi_kind kind,
                              size_t i)
{
  const kapi_component *c = kapi_plugins_at(ps, kind, i);

  return c ? c->name : "(none)";
}

/* Asserts the chain of `kind` is exactly `names` (NULL-terminated). */
static void assert_chain(const kapi_plugins *ps, kapi_kind kind,
                         const char *const *names)
{
  size_t n = 0;

  for (; names[n]; n++)
    assert_string_equal(chain_name(ps, kind, n), names[n]);
  assert_int_equal(kapi_plugins_count(ps, kind), n);
}

/* The three good fixtures, loaded with load_dir. */
static kapi_plugins *load_good(sandbox *sb, const kj *config)
{
  kapi_plugins *ps = kapi_plugins_new(config);
  char err[1024];

  assert_non_null(ps);
  add_fixture(sb, "good-authz", NULL, 0644);
  add_fixture(sb, "good-admission", NULL, 0644);
  add_fixture(sb, "good-resource", NULL, 0644);
  if (kapi_plugins_load_dir(ps, sb->dir, err, sizeof err) != 0)
    fail_msg("load_dir: %s", err);
  return ps;
}

/* kapi_plugins_print into *text (the caller frees it). */
static void print_to_string(const kapi_plugins *ps, char **text)
{
  size_t len = 0;
  FILE *f = open_memstream(text, &len);

  assert_non_null(f);
  kapi_plugins_print(ps, f);
  fclose(f);
}

/* ---- good plugins and chain order ------------------------------------- */

static const char *const default_admission[] = {
  "DefaultTolerationSeconds", "NamespaceLifecycle", "LimitRanger",
  "ServiceAccount", "AlwaysPullImages", "ResourceQuota", NULL};

static void test_default_chain_order(void **state)
{
  sandbox *sb = *state;
  kapi_plugins *ps = load_good(sb, NULL);
  static const char *const authz[] = {"AlwaysAllow", "AlwaysDeny", NULL};
  static const char *const resources[] = {"gadgets", "widgets.example.io",
                                          NULL};
  char err[256];

  /* Before assemble: registration order. */
  assert_string_equal(chain_name(ps, KAPI_KIND_AUTHZ, 0), "AlwaysDeny");
  assert_int_equal(kapi_plugins_assemble(ps, NULL, 0, err, sizeof err), 0);
  assert_chain(ps, KAPI_KIND_AUTHZ, authz);
  assert_chain(ps, KAPI_KIND_ADMISSION, default_admission);
  assert_chain(ps, KAPI_KIND_RESOURCE, resources);
  assert_int_equal(kapi_plugins_count(ps, KAPI_KIND_AUTHN), 0);
  assert_null(kapi_plugins_at(ps, KAPI_KIND_AUTHZ, 2));
  assert_int_equal(kapi_plugins_count(ps, (kapi_kind)99), 0);
  kapi_plugins_free(ps);
}

/* The admit callbacks run in chain order and see the host API. */
static void test_chain_runs_in_order(void **state)
{
  sandbox *sb = *state;
  kapi_plugins *ps = load_good(sb, NULL);
  const kapi_admission_ops *ops;
  const kapi_component *c;
  kapi_error e;
  char err[256], *json;
  kj *obj = kj_object();
  size_t i;

  assert_int_equal(kapi_plugins_assemble(ps, NULL, 0, err, sizeof err), 0);
  kapi_error_init(&e);
  for (i = 0; i < kapi_plugins_count(ps, KAPI_KIND_ADMISSION); i++) {
    c = kapi_plugins_at(ps, KAPI_KIND_ADMISSION, i);
    ops = c->ops;
    assert_int_equal(ops->admit(c->st, NULL, obj, &e), 0);
  }
  json = kj_dump(obj, NULL);
  assert_string_equal(json,
                      "{\"chain\":[\"DefaultTolerationSeconds\","
                      "\"NamespaceLifecycle\",\"LimitRanger\","
                      "\"ServiceAccount\",\"AlwaysPullImages\","
                      "\"ResourceQuota\"]}");
  free(json);

  /* validate reads through obj_get and reports through error_set. */
  assert_int_equal(kj_set_str(obj, "deny", "LimitRanger"), 0);
  c = kapi_plugins_at(ps, KAPI_KIND_ADMISSION, 2);
  ops = c->ops;
  assert_int_equal(ops->validate(c->st, NULL, obj, &e), -EPERM);
  assert_int_equal(e.code, 403);
  assert_string_equal(e.message, "LimitRanger says no");
  kapi_error_clear(&e);
  kj_free(obj);
  kapi_plugins_free(ps);
}

static void test_print(void **state)
{
  sandbox *sb = *state;
  kapi_plugins *ps = load_good(sb, NULL);
  char err[256], line[1024], *text = NULL;
  const char *a, *b;

  assert_int_equal(kapi_plugins_assemble(ps, NULL, 0, err, sizeof err), 0);
  print_to_string(ps, &text);
  snprintf(line, sizeof line,
           "authz  AlwaysAllow  (plugin good-authz 1.0.0, %s/good-authz.so)\n",
           sb->dir);
  assert_contains(text, line);
  snprintf(line, sizeof line,
           "resource  widgets.example.io  (plugin good-resource 1.0.0, "
           "%s/good-resource.so)\n", sb->dir);
  assert_contains(text, line);
  snprintf(line, sizeof line, "plugin  good-admission  1.0.0  (%s/"
           "good-admission.so)\n", sb->dir);
  assert_contains(text, line);
  /* Plugins in strcmp load order, components in chain order. */
  a = strstr(text, "plugin  good-admission");
  b = strstr(text, "plugin  good-authz");
  assert_true(a && b && a < b);
  a = strstr(text, "admission  DefaultTolerationSeconds");
  b = strstr(text, "admission  NamespaceLifecycle");
  assert_true(a && b && a < b);
  a = strstr(text, "admission  AlwaysPullImages");
  b = strstr(text, "admission  ResourceQuota");
  assert_true(a && b && a < b);
  assert_null(strstr(text, "disabled"));
  free(text);
  kapi_plugins_free(ps);
}

static void test_config_list_is_authoritative(void **state)
{
  sandbox *sb = *state;
  kapi_plugins *ps = load_good(sb, NULL);
  static const char *const listed[] = {"ResourceQuota", "NamespaceLifecycle",
                                       NULL};
  static const char *const unknown[] = {"LimitRanger", "NoSuchPlugin", NULL};
  static const char *const twice[] = {"LimitRanger", "LimitRanger", NULL};
  static const char *const authz[] = {"AlwaysAllow", "AlwaysDeny", NULL};
  kapi_chain_order order = {KAPI_KIND_ADMISSION, listed};
  char err[1024], *text = NULL;

  assert_int_equal(kapi_plugins_assemble(ps, &order, 1, err, sizeof err), 0);
  assert_chain(ps, KAPI_KIND_ADMISSION, listed);
  assert_chain(ps, KAPI_KIND_AUTHZ, authz); /* no list: default order */
  print_to_string(ps, &text);
  assert_contains(text, "admission  LimitRanger  (plugin good-admission "
                        "1.0.0, ");
  assert_contains(text, "good-admission.so)  disabled\n");
  free(text);

  /* An unknown name is an error naming it; the old chains survive. */
  order.names = unknown;
  assert_int_equal(kapi_plugins_assemble(ps, &order, 1, err, sizeof err),
                   -ENOENT);
  assert_contains(err, "admission chain: unknown component \"NoSuchPlugin\" "
                       "in the configuration; registered: NamespaceLifecycle"
                       ", AlwaysPullImages, DefaultTolerationSeconds, "
                       "LimitRanger, ServiceAccount, ResourceQuota");
  assert_chain(ps, KAPI_KIND_ADMISSION, listed);

  order.names = twice;
  assert_int_equal(kapi_plugins_assemble(ps, &order, 1, err, sizeof err),
                   -EINVAL);
  assert_contains(err, "admission chain: component \"LimitRanger\" is "
                       "listed twice");
  kapi_plugins_free(ps);
}

static const char *config_of(const kapi_plugins *ps, kapi_kind kind,
                             size_t i)
{
  const struct fixture_state *st = kapi_plugins_at(ps, kind, i)->st;

  return st->config;
}

static void test_config_reaches_plugin(void **state)
{
  static const char cfg[] =
      "{\"plugins\":{\"good-authz\":{\"mode\":\"strict\"}},"
      "\"admission\":{\"plugins\":[{\"name\":\"other\",\"configuration\":1},"
      "{\"name\":\"good-admission\",\"configuration\":{\"limit\":3}}]}}";
  sandbox *sb = *state;
  kapi_plugins *ps;
  char err[256];
  kj *config = NULL;

  assert_int_equal(kj_parse(cfg, strlen(cfg), &config, err, sizeof err), 0);
  ps = load_good(sb, config);
  kj_free(config); /* the set keeps its own copy */
  assert_string_equal(config_of(ps, KAPI_KIND_AUTHZ, 0), "{\"mode\":\"strict\"}");
  assert_string_equal(config_of(ps, KAPI_KIND_ADMISSION, 0), "{\"limit\":3}");
  assert_string_equal(config_of(ps, KAPI_KIND_RESOURCE, 0), "(null)");
  kapi_plugins_free(ps);
}

static void test_fini_in_reverse_load_order(void **state)
{
  sandbox *sb = *state;
  char log[600], buf[256] = "";
  kapi_plugins *ps;
  FILE *f;
  size_t n;

  snprintf(log, sizeof log, "%s/fini.log", sb->dir);
  setenv("KAPI_TEST_FINI_LOG", log, 1);
  ps = load_good(sb, NULL);
  kapi_plugins_free(ps);
  unsetenv("KAPI_TEST_FINI_LOG");
  f = fopen(log, "r");
  assert_non_null(f);
  n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  assert_string_equal(buf, "good-resource\ngood-authz\ngood-admission\n");
}

/* ---- descriptor refusals ----------------------------------------------- */

static void test_bad_magic(void **state)
{
  expect_refusal(*state, "bad-magic", -ENOEXEC,
                 "plugin \"%s\": bad magic (magic): server 0x4b415049 "
                 "(\"KAPI\"), plugin 0xdeadbeef; hint:");
}

/* The messages name the server's ABI version: built from the header. */
#define ABI_STR_(x) #x
#define ABI_STR(x) ABI_STR_(x)
#if KAPI_ABI_MINOR == 3
#define ABI_NEXT_MINOR 4
#else
#error "update ABI_NEXT_MINOR to KAPI_ABI_MINOR + 1"
#endif

static void test_abi_major_mismatch(void **state)
{
  expect_refusal(*state, "abi-major", -ENOEXEC,
                 "plugin \"%s\": ABI mismatch: server " ABI_STR(KAPI_ABI_MAJOR)
                 "." ABI_STR(KAPI_ABI_MINOR) ", plugin built for "
                 "2.0 (abi_major); hint: rebuild it against kapi 1.x, or run "
                 "a server >= 2.0");
}

static void test_abi_minor_newer(void **state)
{
  expect_refusal(*state, "abi-minor", -ENOEXEC,
                 "plugin \"%s\": ABI mismatch: server 1." ABI_STR(KAPI_ABI_MINOR)
                 ", plugin built for 1." ABI_STR(ABI_NEXT_MINOR)
                 " (abi_minor is newer); hint: rebuild it against kapi 1."
                 ABI_STR(KAPI_ABI_MINOR) ", or run a server >= 1."
                 ABI_STR(ABI_NEXT_MINOR));
}

static void test_descriptor_too_small(void **state)
{
  char want[256];

  snprintf(want, sizeof want,
           "plugin \"%%s\": descriptor too small (size): server needs >= "
           "%zu bytes, plugin has %zu; hint: rebuild it against kapi >= 1.0",
           (size_t)KAPI_PLUGIN_DESC_MIN, offsetof(kapi_plugin_desc, init));
  expect_refusal(*state, "small-desc", -ENOEXEC, want);
}

static void test_pointer_size_mismatch(void **state)
{
  char want[256];

  snprintf(want, sizeof want,
           "plugin \"%%s\": pointer size mismatch (ptr_size): server %zu, "
           "plugin %d; hint:", sizeof(void *), sizeof(void *) == 4 ? 8 : 4);
  expect_refusal(*state, "ptr-size", -ENOEXEC, want);
}

static void test_bad_name(void **state)
{
  expect_refusal(*state, "bad-name", -EINVAL,
                 "plugin \"%s\": invalid name (name): server needs "
                 "^[a-z0-9][a-z0-9-]{0,62}$, plugin has \"Bad_Name\"");
}

static void test_missing_describe(void **state)
{
  expect_refusal(*state, "no-describe", -ENOEXEC,
                 "plugin \"%s\": missing entry point (kapi_plugin_describe): "
                 "server needs an exported function, plugin has none (");
}

static void test_dlopen_failure(void **state)
{
  sandbox *sb = *state;
  kapi_plugins *ps = kapi_plugins_new(NULL);
  static const char junk[] = "this is not an ELF file\n";
  char err[2048], want[1024];

  write_file(sb_path(sb, "junk.so"), junk, sizeof junk - 1, 0644);
  assert_int_equal(kapi_plugins_load_file(ps, sb->path, err, sizeof err),
                   -ENOEXEC);
  snprintf(want, sizeof want, "plugin \"%s\": dlopen failed: ", sb->path);
  assert_contains(err, want);
  assert_contains(err, "; hint: check its dependencies with ldd(1)");
  /* A missing file is reported too, by name. */
  assert_int_equal(kapi_plugins_load_file(ps, sb_path(sb, "absent.so"), err,
                                          sizeof err), -ENOENT);
  assert_contains(err, "absent.so\": No such file or directory");
  kapi_plugins_free(ps);
}

static void test_duplicate_plugin_name(void **state)
{
  sandbox *sb = *state;
  kapi_plugins *ps = kapi_plugins_new(NULL);
  char err[2048], want[2048], first[256];

  snprintf(first, sizeof first, "%s", add_fixture(sb, "good-authz", NULL,
                                                  0644));
  assert_int_equal(kapi_plugins_load_file(ps, first, err, sizeof err), 0);
  add_fixture(sb, "dup-name", NULL, 0644);
  assert_int_equal(kapi_plugins_load_file(ps, sb->path, err, sizeof err),
                   -EEXIST);
  snprintf(want, sizeof want,
           "plugin \"%s\": duplicate name (name): \"good-authz\" is already "
           "loaded from \"%s\"; hint: remove one of the two files",
           sb->path, first);
  assert_contains(err, want);
  assert_int_equal(kapi_plugins_count(ps, KAPI_KIND_AUTHZ), 2);
  kapi_plugins_free(ps);
}

/* ---- init and registration ---------------------------------------------- */

static void test_init_failure_rolls_back(void **state)
{
  sandbox *sb = *state;
  kapi_plugins *ps = kapi_plugins_new(NULL);
  char err[2048], want[2048], path[256];
  int i;

  snprintf(path, sizeof path, "%s", add_fixture(sb, "init-fail", NULL,
                                                0644));
  snprintf(want, sizeof want,
           "plugin \"%s\": init failed (init): returned -2 (No such file or "
           "directory): cannot read /nonexistent/policy.json: No such file "
           "or directory; 2 registration(s) rolled back", path);
  /* Twice: a failed plugin leaves neither its name nor its components. */
  for (i = 0; i < 2; i++) {
    assert_int_equal(kapi_plugins_load_file(ps, path, err, sizeof err),
                     -ENOENT);
    assert_string_equal(err, want);
    assert_int_equal(kapi_plugins_count(ps, KAPI_KIND_AUTHZ), 0);
    assert_int_equal(kapi_plugins_count(ps, KAPI_KIND_ADMISSION), 0);
  }
  kapi_plugins_free(ps);
}

static void test_register_outside_init(void **state)
{
  sandbox *sb = *state;
  kapi_plugins *ps = kapi_plugins_new(NULL);
  const kapi_host_api *api = kapi_host_api_get();
  const kapi_component *c;
  const kapi_authz_ops *ops;
  kapi_error e;
  char err[1024];

  add_fixture(sb, "late-register", NULL, 0644);
  assert_int_equal(kapi_plugins_load_file(ps, sb->path, err, sizeof err), 0);
  c = kapi_plugins_at(ps, KAPI_KIND_AUTHZ, 0);
  assert_string_equal(c->name, "LateRegister");
  ops = c->ops;
  kapi_error_init(&e);
  /* The plugin registers from a request callback: -EPERM -> ALLOW. */
  assert_int_equal(ops->authorize(c->st, NULL, &e), KAPI_ALLOW);
  assert_false(kapi_error_isset(&e));
  assert_int_equal(kapi_plugins_count(ps, KAPI_KIND_AUTHZ), 1);
  /* And from the host's side, with the plugin's handle. */
  assert_int_equal(api->register_authz(c->plugin, "X", ops, NULL, NULL),
                   -EPERM);
  assert_int_equal(kapi_plugins_count(ps, KAPI_KIND_AUTHZ), 1);
  kapi_plugins_free(ps);
}

static void test_duplicate_component(void **state)
{
  sandbox *sb = *state;
  static const char cfg[] = "{\"plugins\":{\"dup-component\":{\"ignore\":true}}}";
  kapi_plugins *ps;
  char err[2048], want[2048], path[256];
  kj *config = NULL;
  int pass;

  assert_int_equal(kj_parse(cfg, strlen(cfg), &config, err, sizeof err), 0);
  add_fixture(sb, "good-admission", NULL, 0644);
  snprintf(path, sizeof path, "%s", add_fixture(sb, "dup-component", NULL,
                                                0644));
  /* Pass 0: init returns the -EEXIST; pass 1: init ignores it. */
  for (pass = 0; pass < 2; pass++) {
    ps = kapi_plugins_new(pass ? config : NULL);
    assert_int_equal(kapi_plugins_load_file(ps, sb_path(sb,
                                            "good-admission.so"), err,
                                            sizeof err), 0);
    assert_int_equal(kapi_plugins_load_file(ps, path, err, sizeof err),
                     pass ? -EINVAL : -EEXIST);
    snprintf(want, sizeof want,
             "plugin \"%s\": duplicate component (name): admission "
             "\"LimitRanger\" is already registered by plugin "
             "\"good-admission\" (%s/good-admission.so); hint: disable one "
             "of the two plugins%s; 1 registration(s) rolled back",
             path, sb->dir, pass ? "" : "; init returned -17 (File exists)");
    assert_string_equal(err, want);
    assert_int_equal(kapi_plugins_count(ps, KAPI_KIND_ADMISSION), 6);
    kapi_plugins_free(ps);
  }
  kj_free(config);
}

static void test_ordering_cycle(void **state)
{
  sandbox *sb = *state;
  kapi_plugins *ps = kapi_plugins_new(NULL);
  static const char *const listed[] = {"cycle-c", "cycle-a", NULL};
  kapi_chain_order order = {KAPI_KIND_ADMISSION, listed};
  char err[1024];

  add_fixture(sb, "cycle", NULL, 0644);
  assert_int_equal(kapi_plugins_load_file(ps, sb->path, err, sizeof err), 0);
  assert_int_equal(kapi_plugins_assemble(ps, NULL, 0, err, sizeof err),
                   -ELOOP);
  assert_contains(err, "admission chain: ordering cycle: cycle-c -> cycle-b "
                       "-> cycle-a -> cycle-c (\"a -> b\": a must run before "
                       "b, from before/after); hint:");
  /* A configured list is authoritative: edges are not consulted. */
  assert_int_equal(kapi_plugins_assemble(ps, &order, 1, err, sizeof err), 0);
  assert_chain(ps, KAPI_KIND_ADMISSION, listed);
  kapi_plugins_free(ps);
}

/* ---- permissions ---------------------------------------------------------- */

static void test_writable_directory(void **state)
{
  sandbox *sb = *state;
  kapi_plugins *ps = kapi_plugins_new(NULL);
  static const mode_t modes[] = {0775, 0757};
  char err[2048], want[2048], path[256];
  size_t i;

  snprintf(path, sizeof path, "%s", add_fixture(sb, "good-authz", NULL,
                                                0644));
  for (i = 0; i < 2; i++) {
    assert_int_equal(chmod(sb->dir, modes[i]), 0);
    snprintf(want, sizeof want,
             "plugin directory \"%s\": group- or world-writable (mode): "
             "server allows at most 0755, found %04o; hint: chmod go-w \"%s\"",
             sb->dir, (unsigned)modes[i], sb->dir);
    assert_int_equal(kapi_plugins_load_dir(ps, sb->dir, err, sizeof err),
                     -EPERM);
    assert_string_equal(err, want);
    /* Loading the file by name checks its directory as well. */
    assert_int_equal(kapi_plugins_load_file(ps, path, err, sizeof err),
                     -EPERM);
    assert_string_equal(err, want);
  }
  assert_int_equal(chmod(sb->dir, 0755), 0);
  assert_int_equal(kapi_plugins_load_dir(ps, sb->dir, err, sizeof err), 0);
  kapi_plugins_free(ps);
}

static void test_writable_file(void **state)
{
  sandbox *sb = *state;
  kapi_plugins *ps = kapi_plugins_new(NULL);
  static const mode_t modes[] = {0664, 0646};
  char err[2048], want[2048], path[256];
  size_t i;

  snprintf(path, sizeof path, "%s", add_fixture(sb, "good-authz", NULL,
                                                0644));
  for (i = 0; i < 2; i++) {
    assert_int_equal(chmod(path, modes[i]), 0);
    snprintf(want, sizeof want,
             "plugin \"%s\": group- or world-writable (mode): server allows "
             "at most 0644, found %04o; hint: chmod go-w \"%s\"", path,
             (unsigned)modes[i], path);
    assert_int_equal(kapi_plugins_load_dir(ps, sb->dir, err, sizeof err),
                     -EPERM);
    assert_string_equal(err, want);
  }
  assert_int_equal(kapi_plugins_count(ps, KAPI_KIND_AUTHZ), 0);
  kapi_plugins_free(ps);
}

static void test_foreign_owner(void **state)
{
  sandbox *sb = *state;
  kapi_plugins *ps;
  char err[2048], want[2048];

  if (geteuid() != 0)
    skip(); /* only root can give a file away */
  ps = kapi_plugins_new(NULL);
  add_fixture(sb, "good-authz", NULL, 0644);
  assert_int_equal(chown(sb->path, 65534, 65534), 0);
  snprintf(want, sizeof want,
           "plugin \"%s\": foreign owner (uid): server allows root or uid 0, "
           "found uid 65534; hint: chown it to root", sb->path);
  assert_int_equal(kapi_plugins_load_file(ps, sb->path, err, sizeof err),
                   -EPERM);
  assert_string_equal(err, want);
  kapi_plugins_free(ps);
}

/* ---- the host API --------------------------------------------------------- */

/* Every member of struct kapi_host_api, in order.  A member appended to
 * the header but not here fails test_host_api_table_complete. */
#define HOST_API_MEMBERS(X)                                                 \
  X(register_authn) X(register_authz) X(register_admission)                 \
  X(register_resource) X(error_set) X(error_add_cause) X(log) X(req_get)    \
  X(req_group) X(req_old_object) X(req_header) X(obj_lookup) X(obj_type)    \
  X(obj_get) X(obj_int) X(obj_len) X(obj_index) X(obj_key)                  \
  X(obj_set_json) X(obj_set_str) X(obj_set_int) X(obj_set_bool)             \
  X(obj_remove) X(obj_append_str) X(obj_append_int) X(obj_to_json)          \
  X(obj_free) X(alloc) X(free) X(field_error) X(validate_dns_label)         \
  X(validate_dns_subdomain) X(store_get) X(format_age)                     \
  X(register_sched) X(register_controller) X(register_runtime)              \
  X(api_request) X(quantity_milli) X(pod_request) X(sched_reason)           \
  X(cycle_write) X(cycle_read) X(node_obj) X(node_name) X(node_pod_count)   \
  X(node_pod) X(node_requested) X(node_allocatable) X(ctl_informer)         \
  X(inf_add_handler) X(inf_add_index) X(inf_wait_synced) X(inf_get)         \
  X(inf_list) X(ref_obj) X(ref_put) X(ref_array_put) X(ctl_queue)           \
  X(queue_add) X(queue_add_after) X(queue_add_rate_limited) X(queue_forget) \
  X(ctl_run_workers) X(ctl_event) X(obj_cache_key) X(store_list)           \
  X(store_revision) X(store_update) X(authorize) X(req_warning)             \
  X(req_audit_annotation) X(req_user) X(obj_parse) X(obj_set_copy)

static void test_host_api_table_complete(void **state)
{
  const kapi_host_api *api = kapi_host_api_get();
  size_t listed = 0, last_end = 0;

  (void)state;
  assert_int_equal(api->size, sizeof(kapi_host_api));
  assert_int_equal(api->abi_major, KAPI_ABI_MAJOR);
  assert_int_equal(api->abi_minor, KAPI_ABI_MINOR);
#define CHECK_MEMBER(m)                                                     \
  assert_true(KAPI_API_HAS(api, m));                                        \
  listed++;                                                                 \
  last_end = offsetof(kapi_host_api, m) + sizeof api->m;
  HOST_API_MEMBERS(CHECK_MEMBER)
#undef CHECK_MEMBER
  /* The last listed member ends the struct: nothing unlisted follows. */
  assert_int_equal(last_end, sizeof(kapi_host_api));
  assert_int_equal(listed, 75);
}

/* Runs fn with stderr sent to a file; returns what was written. */
static char *capture_stderr(sandbox *sb, void (*fn)(void *), void *arg)
{
  char path[600], *buf;
  int fd, saved;
  FILE *f;
  long n;

  snprintf(path, sizeof path, "%s/stderr.txt", sb->dir);
  fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  saved = dup(STDERR_FILENO);
  dup2(fd, STDERR_FILENO);
  fn(arg);
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(fd);
  f = fopen(path, "r");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  rewind(f);
  buf = calloc(1, (size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  unlink(path);
  return buf;
}

static void log_some(void *arg)
{
  const kapi_host_api *api = kapi_host_api_get();
  kapi_plugin *p = arg;

  kapi_log_verbosity = 0;
  api->log(p, KAPI_LOG_INFO, "hello %d", 1);
  api->log(p, KAPI_LOG_WARNING, "careful");
  api->log(p, KAPI_LOG_ERROR, "broken");
  api->log(p, 2, "hidden at -v 0");
  kapi_log_verbosity = 2;
  api->log(p, 2, "shown at -v 2");
  api->log(p, 3, "hidden at -v 2");
  kapi_log_verbosity = 0;
}

static void test_host_api_log(void **state)
{
  sandbox *sb = *state;
  kapi_plugins *ps = kapi_plugins_new(NULL);
  char err[256], *out;

  add_fixture(sb, "good-authz", NULL, 0644);
  assert_int_equal(kapi_plugins_load_file(ps, sb->path, err, sizeof err), 0);
  out = capture_stderr(sb, log_some,
                       kapi_plugins_at(ps, KAPI_KIND_AUTHZ, 0)->plugin);
  assert_contains(out, "] good-authz: hello 1\n");
  assert_contains(out, "] good-authz: careful\n");
  assert_contains(out, "] good-authz: broken\n");
  assert_contains(out, "] good-authz: shown at -v 2\n");
  assert_null(strstr(out, "hidden"));
  /* klog severity letters start each line. */
  assert_true(out[0] == 'I');
  assert_non_null(strstr(out, "\nW"));
  assert_non_null(strstr(out, "\nE"));
  free(out);
  kapi_plugins_free(ps);
}

static const char *fake_header(void *conn, const char *name)
{
  return !strcmp(name, "X-Test") ? conn : NULL;
}

static int fake_store_get(const char *group, const char *resource,
                          const char *ns, const char *name, kapi_obj **ret)
{
  char json[256];
  char err[64];

  if (strcmp(name, "web"))
    return -ENOENT;
  snprintf(json, sizeof json, "{\"g\":\"%s\",\"r\":\"%s\",\"ns\":\"%s\"}",
           group, resource, ns ? ns : "");
  return kj_parse(json, strlen(json), ret, err, sizeof err);
}

/* Calls every member of the table once (registration and log above). */
static void test_host_api_every_member(void **state)
{
  const kapi_host_api *api = kapi_host_api_get();
  static const kapi_authn_ops authn = {.size = sizeof authn};
  static const kapi_authz_ops authz = {.size = sizeof authz};
  static const kapi_admission_ops adm = {.size = sizeof adm};
  static const kapi_resource_ops res = {.size = sizeof res,
                                        .version = "v1",
                                        .resource = "things",
                                        .kind = "Thing"};
  kapi_req req = {0};
  kapi_error e;
  kj *obj, *user, *errs, *got = NULL;
  int64_t i64;
  char *json, err[64], age[16];
  void *mem;

  (void)state;
  /* Registration outside any init. */
  assert_int_equal(api->register_authn(NULL, "A", &authn, NULL, NULL),
                   -EPERM);
  assert_int_equal(api->register_authz(NULL, "A", &authz, NULL, NULL),
                   -EPERM);
  assert_int_equal(api->register_admission(NULL, "A", &adm, NULL, NULL),
                   -EPERM);
  assert_int_equal(api->register_resource(NULL, &res, NULL), -EPERM);

  /* Errors. */
  kapi_error_init(&e);
  api->error_set(&e, 403, "Forbidden", "user %s may not", "bob");
  assert_int_equal(e.code, 403);
  assert_string_equal(e.reason, "Forbidden");
  assert_string_equal(e.message, "user bob may not");
  api->error_add_cause(&e, "FieldValueInvalid", "bad", "spec.x");
  assert_string_equal(kj_str(kj_ptr(e.details, "/causes/0/field")), "spec.x");
  assert_string_equal(kj_str(kj_ptr(e.details, "/causes/0/message")), "bad");
  kapi_error_clear(&e);

  /* Request attributes, through the stand-ins above. */
  static const char user_json[] = "{\"groups\":[\"dev\",\"ops\"]}";
  obj = kj_object();
  assert_int_equal(kj_parse(user_json, strlen(user_json), &user, err,
                            sizeof err), 0);
  req.verb = "create";
  req.user = user;
  req.old_object = obj;
  req.header = fake_header;
  req.conn = "yes";
  assert_string_equal(api->req_get(&req, "verb"), "create");
  assert_null(api->req_get(&req, "namespace"));
  assert_string_equal(api->req_group(&req, 1), "ops");
  assert_null(api->req_group(&req, 2));
  assert_ptr_equal(api->req_old_object(&req), obj);
  assert_string_equal(api->req_header(&req, "X-Test"), "yes");
  assert_null(api->req_header(&req, "X-Other"));
  kj_free(user);

  /* Writing objects. */
  assert_int_equal(api->obj_set_str(obj, "/metadata/name", "web"), 0);
  assert_int_equal(api->obj_set_int(obj, "/spec/replicas", 3), 0);
  assert_int_equal(api->obj_set_bool(obj, "/spec/paused", 1), 0);
  assert_int_equal(api->obj_set_json(obj, "/spec/ports",
                                     "[{\"port\":80}]"), 0);
  assert_int_equal(api->obj_set_json(obj, "/spec/ports/-",
                                     "{\"port\":443}"), 0);
  assert_int_equal(api->obj_set_json(obj, "/spec/x", "{bad"), -EINVAL);
  {
    /* A copy: the template stays the caller's and unchanged. */
    kapi_obj *tpl = NULL;
    char *t;
    assert_int_equal(api->obj_parse("{\"port\":8443}", 13, &tpl, NULL), 0);
    assert_int_equal(api->obj_set_copy(obj, "/spec/ports/-", tpl), 0);
    assert_int_equal(api->obj_set_copy(obj, "/spec/ports/2/port", NULL),
                     -EINVAL);
    assert_int_equal(api->obj_set_int(obj, "/spec/ports/2/port", 9443), 0);
    t = api->obj_to_json(tpl);
    assert_string_equal(t, "{\"port\":8443}");
    api->free(t);
    api->obj_free(tpl);
    assert_int_equal(api->obj_remove(obj, "/spec/ports/2"), 0);
  }
  assert_int_equal(api->obj_append_str(obj, "/tags", "a"), 0);
  assert_int_equal(api->obj_append_int(obj, "/tags", 7), 0);
  assert_int_equal(api->obj_append_str(obj, "/metadata", "x"), -EINVAL);
  assert_int_equal(api->obj_set_str(obj, "/gone", "soon"), 0);
  assert_int_equal(api->obj_remove(obj, "/gone"), 0);
  assert_int_equal(api->obj_remove(obj, "/gone"), -ENOENT);
  json = api->obj_to_json(obj);
  assert_string_equal(json,
                      "{\"metadata\":{\"name\":\"web\"},\"spec\":{\"replicas\""
                      ":3,\"paused\":true,\"ports\":[{\"port\":80},{\"port\":"
                      "443}]},\"tags\":[\"a\",7]}");
  api->free(json);

  /* Reading objects. */
  assert_string_equal(api->obj_get(obj, "/metadata/name"), "web");
  assert_string_equal(api->obj_get(obj, "/spec/replicas"), "3");
  assert_string_equal(api->obj_get(obj, "/spec/paused"), "true");
  assert_string_equal(api->obj_get(obj, "/spec/ports/1/port"), "443");
  assert_null(api->obj_get(obj, "/spec"));
  assert_null(api->obj_get(obj, "/nope"));
  assert_int_equal(api->obj_type(api->obj_lookup(obj, "/spec")),
                   KAPI_OBJ_OBJECT);
  assert_int_equal(api->obj_type(api->obj_lookup(obj, "/tags")),
                   KAPI_OBJ_ARRAY);
  assert_int_equal(api->obj_type(api->obj_lookup(obj, "/nope")),
                   KAPI_OBJ_NONE);
  assert_int_equal(api->obj_int(api->obj_lookup(obj, "/spec/replicas"),
                                &i64), 0);
  assert_int_equal(i64, 3);
  assert_int_equal(api->obj_int(api->obj_lookup(obj, "/metadata/name"),
                                &i64), -EINVAL);
  assert_int_equal(api->obj_len(api->obj_lookup(obj, "/spec")), 3);
  assert_string_equal(api->obj_key(api->obj_lookup(obj, "/spec"), 1),
                      "paused");
  assert_string_equal(api->obj_get(api->obj_index(api->obj_lookup(obj,
                                   "/tags"), 0), ""), "a");
  /* "" is the object itself: replaced in place, the handle stays. */
  assert_int_equal(api->obj_set_json(obj, "", "[]"), 0);
  assert_int_equal(api->obj_append_int(obj, "", 1), 0);
  json = api->obj_to_json(obj);
  assert_string_equal(json, "[1]");
  api->free(json);
  api->obj_free(obj);

  /* Memory. */
  mem = api->alloc(16);
  assert_non_null(mem);
  memset(mem, 0, 16);
  api->free(mem);

  /* Field errors and validation. */
  errs = kj_array();
  assert_int_equal(api->field_error(errs, "spec.replicas",
                                    "FieldValueInvalid", "-1",
                                    "must be >= 0"), 0);
  assert_int_equal(api->validate_dns_label(errs, "metadata.name", "ok"), 0);
  assert_int_equal(api->validate_dns_subdomain(errs, "metadata.name",
                                               "a.b"), 0);
  assert_int_equal(kj_len(errs), 1);
  assert_string_equal(kj_get_str(kj_at(errs, 0), "detail"), "must be >= 0");
  kj_free(errs);

  /* The store hook. */
  kapi_host_set_store_get(NULL);
  assert_int_equal(api->store_get("", "pods", "default", "web", &got),
                   -ENOSYS);
  assert_null(got);
  kapi_host_set_store_get(fake_store_get);
  assert_int_equal(api->store_get("apps", "deployments", "default", "web",
                                  &got), 0);
  json = api->obj_to_json(got);
  assert_string_equal(json,
                      "{\"g\":\"apps\",\"r\":\"deployments\",\"ns\":\"default\"}");
  api->free(json);
  api->obj_free(got);
  assert_int_equal(api->store_get(NULL, "pods", NULL, "db", &got), -ENOENT);
  kapi_host_set_store_get(NULL);

  /* Ages. */
  assert_int_equal(api->format_age("2024-01-01T00:00:00Z", 1704067323, age,
                                   sizeof age), 0);
  assert_string_equal(age, "2m3s");

  /* 1.1: quantities and requests work in every daemon. */
  {
    int64_t q = 0;
    kapi_obj *pod = NULL;
    assert_int_equal(api->quantity_milli("1.5Gi", &q), 0);
    assert_int_equal(q, 1610612736000LL);
    assert_int_equal(api->quantity_milli("1Q", &q), -EINVAL);
    pod = (kapi_obj *)kj_object();
    assert_int_equal(api->obj_set_json(pod, "/spec/containers",
                                       "[{\"resources\":{\"requests\":"
                                       "{\"cpu\":\"250m\"}}}]"), 0);
    assert_int_equal(api->pod_request(pod, "cpu", 0), 250);
    assert_int_equal(api->pod_request(pod, "memory", 1), 200 * 1024 * 1024);
    char *key = api->obj_cache_key(pod);
    assert_null(key); /* no name */
    assert_int_equal(api->obj_set_str(pod, "/metadata/name", "p"), 0);
    assert_int_equal(api->obj_set_str(pod, "/metadata/namespace", "ns"), 0);
    key = api->obj_cache_key(pod);
    assert_string_equal(key, "ns/p");
    api->free(key);
    api->obj_free(pod);
  }
  /* 1.1: members a daemon supplies answer "not here" until installed. */
  {
    kapi_error e;
    kapi_obj *ret = NULL;
    kapi_ref **refs = NULL;
    size_t n = 0;
    kapi_error_init(&e);
    assert_int_equal(api->api_request("GET", "/api", NULL, NULL, &ret, &e),
                     -ENOSYS);
    assert_int_equal(e.code, 501);
    kapi_error_clear(&e);
    assert_int_equal(api->register_sched(NULL, "x", NULL, NULL, NULL),
                     -EPERM);
    assert_int_equal(api->register_controller(NULL, "x", NULL, NULL), -EPERM);
    assert_int_equal(api->register_runtime(NULL, "x", NULL, NULL), -EPERM);
    api->sched_reason(NULL, "nothing %d", 1);
    assert_int_equal(api->cycle_write(NULL, "k", NULL, NULL), -ENOSYS);
    assert_null(api->cycle_read(NULL, "k"));
    assert_null(api->node_obj(NULL));
    assert_null(api->node_name(NULL));
    assert_int_equal(api->node_pod_count(NULL), 0);
    assert_null(api->node_pod(NULL, 0));
    assert_int_equal(api->node_requested(NULL, "cpu", 0), 0);
    assert_int_equal(api->node_allocatable(NULL, "cpu"), 0);
    assert_null(api->ctl_informer(NULL, "", "v1", "pods"));
    assert_int_equal(api->inf_add_handler(NULL, NULL, NULL), -ENOSYS);
    assert_int_equal(api->inf_add_index(NULL, "namespace"), -ENOSYS);
    assert_int_equal(api->inf_wait_synced(NULL, 0), -ENOSYS);
    assert_int_equal(api->inf_get(NULL, "k", NULL), -ENOSYS);
    assert_int_equal(api->inf_list(NULL, NULL, NULL, &refs, &n), -ENOSYS);
    assert_null(api->ref_obj(NULL));
    api->ref_put(NULL);
    api->ref_array_put(NULL, 0);
    assert_null(api->ctl_queue(NULL, "q"));
    api->queue_add(NULL, "k");
    api->queue_add_after(NULL, "k", 1);
    api->queue_add_rate_limited(NULL, "k");
    api->queue_forget(NULL, "k");
    assert_int_equal(api->ctl_run_workers(NULL, NULL, 1, NULL, NULL),
                     -ENOSYS);
    api->ctl_event(NULL, NULL, "Normal", "Test", "nothing %d", 1);
  }
}

/* ---- upstream's wording: DNS names and HumanDuration ------------------- */

#define LABEL_MSG                                                            \
  "a lowercase RFC 1123 label must consist of lower case alphanumeric "      \
  "characters or '-', and must start and end with an alphanumeric "         \
  "character (e.g. 'my-name',  or '123-abc', regex used for validation is " \
  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
#define SUBDOMAIN_MSG                                                        \
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric " \
  "characters, '-' or '.', and must start and end with an alphanumeric "    \
  "character (e.g. 'example.com', regex used for validation is "            \
  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"

struct dns_case {
  int subdomain;
  const char *value;
  const char *msgs[3]; /* expected details, NULL-terminated */
};

static void check_dns_case(const struct dns_case *c)
{
  const kapi_host_api *api = kapi_host_api_get();
  kj *errs = kj_array(), *fe;
  int n = 0, got;

  while (c->msgs[n])
    n++;
  got = c->subdomain ? api->validate_dns_subdomain(errs, "metadata.name",
                                                   c->value)
                     : api->validate_dns_label(errs, "metadata.name",
                                               c->value);
  if (got != n)
    fail_msg("\"%s\": %d errors, want %d", c->value, got, n);
  assert_int_equal(kj_len(errs), n);
  for (int i = 0; i < n; i++) {
    fe = kj_at(errs, i);
    assert_string_equal(kj_get_str(fe, "field"), "metadata.name");
    assert_string_equal(kj_get_str(fe, "type"), "FieldValueInvalid");
    assert_string_equal(kj_get_str(fe, "detail"), c->msgs[i]);
    /* badValue is the value as a JSON string, parsed back. */
    assert_string_equal(kj_str(kj_get(fe, "badValue")), c->value);
  }
  kj_free(errs);
}

static void test_validate_dns(void **state)
{
  char label64[65], sub254[255], long_bad[70];
  size_t i;

  (void)state;
  memset(label64, 'a', 64);
  label64[64] = '\0';
  memset(sub254, 'a', 254);
  for (i = 50; i < 254; i += 50)
    sub254[i] = '.';
  sub254[254] = '\0';
  memset(long_bad, 'a', 69);
  long_bad[0] = '-';
  long_bad[69] = '\0';
  const struct dns_case cases[] = {
    {0, "my-name", {NULL}},
    {0, "123-abc", {NULL}},
    {0, "a", {NULL}},
    {0, label64 + 1, {NULL}}, /* exactly 63 */
    {0, "", {LABEL_MSG, NULL}},
    {0, "My-Name", {LABEL_MSG, NULL}},
    {0, "-abc", {LABEL_MSG, NULL}},
    {0, "abc-", {LABEL_MSG, NULL}},
    {0, "a_b", {LABEL_MSG, NULL}},
    {0, "a.b", {"must not contain dots", NULL}},
    {0, label64, {"must be no more than 63 characters", NULL}},
    {0, long_bad, {"must be no more than 63 characters", LABEL_MSG, NULL}},
    {1, "example.com", {NULL}},
    {1, "a", {NULL}},
    {1, "", {SUBDOMAIN_MSG, NULL}},
    {1, "a..b", {SUBDOMAIN_MSG, NULL}},
    {1, ".a", {SUBDOMAIN_MSG, NULL}},
    {1, "a.", {SUBDOMAIN_MSG, NULL}},
    {1, "a.-b", {SUBDOMAIN_MSG, NULL}},
    {1, "Example.com", {SUBDOMAIN_MSG, NULL}},
    {1, sub254 + 1, {NULL}}, /* exactly 253 */
    {1, sub254, {"must be no more than 253 characters", NULL}},
  };

  for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
    check_dns_case(&cases[i]);
}

static void test_format_age(void **state)
{
  /* 2024-01-01T00:00:00Z */
  const int64_t t0 = 1704067200;
  const int64_t m = 60, h = 3600, d = 86400;
  static const char ts[] = "2024-01-01T00:00:00Z";
  const struct {
    int64_t elapsed;
    const char *want;
  } cases[] = {
    {0, "0s"}, {59, "59s"}, {119, "119s"}, {2 * m, "2m"},
    {2 * m + 3, "2m3s"}, {9 * m + 59, "9m59s"}, {10 * m, "10m"},
    {10 * m + 59, "10m"}, {179 * m, "179m"}, {3 * h, "3h"},
    {3 * h + 5 * m, "3h5m"}, {7 * h + 59 * m, "7h59m"}, {8 * h, "8h"},
    {8 * h + 30 * m, "8h"}, {47 * h, "47h"}, {2 * d, "2d"},
    {2 * d + h, "2d1h"}, {7 * d + 23 * h, "7d23h"}, {8 * d, "8d"},
    {8 * d + 5 * h, "8d"}, {729 * d, "729d"}, {730 * d, "2y"},
    {731 * d, "2y1d"}, {(365 * 8 - 1) * d, "7y364d"}, {365 * 8 * d, "8y"},
    {365 * 20 * d + 100 * d, "20y"},
    {-1, "0s"},         /* clock skew */
    {-2, "<invalid>"},  /* really in the future */
  };
  const kapi_host_api *api = kapi_host_api_get();
  char buf[32];
  size_t i;

  (void)state;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    assert_int_equal(api->format_age(ts, t0 + cases[i].elapsed, buf,
                                     sizeof buf), 0);
    if (strcmp(buf, cases[i].want))
      fail_msg("elapsed %lld: got \"%s\", want \"%s\"",
               (long long)cases[i].elapsed, buf, cases[i].want);
  }
  /* Offsets and fractions. */
  assert_int_equal(api->format_age("2024-01-01T02:00:00+02:00", t0 + 5, buf,
                                   sizeof buf), 0);
  assert_string_equal(buf, "5s");
  assert_int_equal(api->format_age("2023-12-31T23:00:00-01:00", t0 + 2 * m,
                                   buf, sizeof buf), 0);
  assert_string_equal(buf, "2m");
  /* 120s - 0.5s is 119.5s: truncated, still seconds. */
  assert_int_equal(api->format_age("2024-01-01T00:00:00.5Z", t0 + 2 * m, buf,
                                   sizeof buf), 0);
  assert_string_equal(buf, "119s");
  assert_int_equal(api->format_age("2024-01-01T00:00:00.000Z", t0 + 2 * m,
                                   buf, sizeof buf), 0);
  assert_string_equal(buf, "2m");
  /* -1.5s truncates to -1: still "0s". */
  assert_int_equal(api->format_age("2024-01-01T00:00:01.5Z", t0, buf,
                                   sizeof buf), 0);
  assert_string_equal(buf, "0s");
  /* A leap day: 2024-02-29 is day 59 of the year. */
  assert_int_equal(api->format_age("2024-02-29T00:00:00Z", t0 + 59 * d + 1,
                                   buf, sizeof buf), 0);
  assert_string_equal(buf, "1s");
  /* Garbage and small buffers. */
  assert_int_equal(api->format_age("yesterday", t0, buf, sizeof buf),
                   -EINVAL);
  assert_string_equal(buf, "<unknown>");
  assert_int_equal(api->format_age("2024-13-01T00:00:00Z", t0, buf,
                                   sizeof buf), -EINVAL);
  assert_int_equal(api->format_age("2024-01-01T00:00:00", t0, buf,
                                   sizeof buf), -EINVAL);
  assert_int_equal(api->format_age(NULL, t0, buf, sizeof buf), -EINVAL);
  assert_int_equal(api->format_age(ts, t0 + 3 * h + 5 * m, buf, 4),
                   -ENOSPC);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
#define SB_TEST(f) cmocka_unit_test_setup_teardown(f, sandbox_setup,        \
                                                   sandbox_teardown)
    SB_TEST(test_default_chain_order),
    SB_TEST(test_chain_runs_in_order),
    SB_TEST(test_print),
    SB_TEST(test_config_list_is_authoritative),
    SB_TEST(test_config_reaches_plugin),
    SB_TEST(test_fini_in_reverse_load_order),
    SB_TEST(test_bad_magic),
    SB_TEST(test_abi_major_mismatch),
    SB_TEST(test_abi_minor_newer),
    SB_TEST(test_descriptor_too_small),
    SB_TEST(test_pointer_size_mismatch),
    SB_TEST(test_bad_name),
    SB_TEST(test_missing_describe),
    SB_TEST(test_dlopen_failure),
    SB_TEST(test_duplicate_plugin_name),
    SB_TEST(test_init_failure_rolls_back),
    SB_TEST(test_register_outside_init),
    SB_TEST(test_duplicate_component),
    SB_TEST(test_ordering_cycle),
    SB_TEST(test_writable_directory),
    SB_TEST(test_writable_file),
    SB_TEST(test_foreign_owner),
    SB_TEST(test_host_api_log),
    cmocka_unit_test(test_host_api_table_complete),
    cmocka_unit_test(test_host_api_every_member),
    cmocka_unit_test(test_validate_dns),
    cmocka_unit_test(test_format_age),
#undef SB_TEST
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
