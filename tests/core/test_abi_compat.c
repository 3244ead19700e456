/*
 * test_abi_compat.c - a plugin built for ABI 1.0 still works.
 *
 * The fixture tests/plugins/abi-1-0.so describes itself as ABI 1.0 (minor
 * 0, 1.0-sized descriptor and admission ops, only 1.0 host members; the
 * first test reads its descriptor to make sure it stays so).  It is
 * loaded by the real loader from a fresh 0755 directory (taken from
 * $KAPI_TEST_PLUGIN_DIR, default "tests/plugins"), then driven through
 * the real admission stage (kapi_admission_mutate/validate) with
 * requests built here: its mutation must land, its refusal must come back
 * as the 403 it set, with the details the stage adds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admission.h"
#include "json.h"
#include "plugin_loader.h"
#include "request.h"
#include "server.h"
#include "status.h"

#define STR_(x) #x
#define STR(x) STR_(x)
/* What the fixture reads from the host table: the server's ABI. */
#define HOST_ABI STR(KAPI_ABI_MAJOR) "." STR(KAPI_ABI_MINOR)

#define ANNOTATION_ABI "/metadata/annotations/abi-1-0.kapi.io~1host-abi"
#define ANNOTATION_CONFIG "/metadata/annotations/abi-1-0.kapi.io~1config"

typedef struct fixture {
  char dir[64];
  char path[600];
  kapi_plugins *ps;
  kapi_server srv;
} fixture;

static const char *fixture_dir(void)
{
  const char *d = getenv("KAPI_TEST_PLUGIN_DIR");

  return d && *d ? d : "tests/plugins";
}

/* Copies abi-1-0.so into f->dir with mode 0644 (the loader refuses
 * writable files); f->path is the copy. */
static void install_fixture(fixture *f)
{
  char src[512], buf[65536];
  ssize_t n;
  int in, out;

  snprintf(src, sizeof src, "%s/abi-1-0.so", fixture_dir());
  in = open(src, O_RDONLY);
  if (in < 0)
    fail_msg("fixture %s not found; build it with: cc -std=gnu11 -shared "
             "-fPIC -fvisibility=hidden -I include -o %s "
             "tests/plugins/abi-1-0.c", src, src);
  snprintf(f->path, sizeof f->path, "%s/abi-1-0.so", f->dir);
  out = open(f->path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  assert_true(out >= 0);
  while ((n = read(in, buf, sizeof buf)) > 0)
    assert_int_equal(write(out, buf, (size_t)n), n);
  assert_int_equal(n, 0);
  assert_int_equal(fchmod(out, 0644), 0); /* not open's mode: umask */
  close(out);
  close(in);
}

/* Loads the fixture with `config` (JSON text of the server
 * configuration, or NULL) and assembles the chains. */
static void load(fixture *f, const char *config)
{
  char err[1024];
  kj *cfg = NULL;

  if (config)
    assert_int_equal(kj_parse(config, strlen(config), &cfg, err, sizeof err),
                     0);
  f->ps = kapi_plugins_new(cfg);
  kj_free(cfg);
  assert_non_null(f->ps);
  if (kapi_plugins_load_file(f->ps, f->path, err, sizeof err) != 0)
    fail_msg("an ABI 1.0 plugin was refused: %s", err);
  if (kapi_plugins_assemble(f->ps, NULL, 0, err, sizeof err) != 0)
    fail_msg("assemble: %s", err);
  f->srv.plugins = f->ps;
}

static int setup(void **state)
{
  fixture *f = calloc(1, sizeof *f);

  assert_non_null(f);
  strcpy(f->dir, "/tmp/kapi-abi-compat-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  assert_int_equal(chmod(f->dir, 0755), 0);
  install_fixture(f);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fixture *f = *state;

  kapi_plugins_free(f->ps);
  unlink(f->path);
  rmdir(f->dir);
  free(f);
  return 0;
}

/* A pods request as the handler chain fills it in. */
static kapi_req pod_request(const char *operation, const char *verb)
{
  kapi_req r;

  memset(&r, 0, sizeof r);
  r.is_resource_request = 1;
  r.verb = (char *)verb;
  r.api_prefix = (char *)"api";
  r.api_group = (char *)"";
  r.api_version = (char *)"v1";
  r.namespace_ = (char *)"default";
  r.resource = (char *)"pods";
  r.operation = operation;
  return r;
}

static kj *pod(const char *name, int deny_label)
{
  char json[512], err[256];
  kj *obj = NULL;

  snprintf(json, sizeof json,
           "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
           "\"%s\",\"namespace\":\"default\"%s},\"spec\":{\"containers\":"
           "[{\"name\":\"c\",\"image\":\"busybox\"}]}}",
           name, deny_label ? ",\"labels\":{\"abi-1-0\":\"deny\"}" : "");
  assert_int_equal(kj_parse(json, strlen(json), &obj, err, sizeof err), 0);
  return obj;
}

/* ---- tests ---------------------------------------------------------------- */

/* The fixture really is 1.0-shaped: what its descriptor says. */
static void test_fixture_describes_1_0(void **state)
{
  fixture *f = *state;
  const kapi_plugin_desc *(*describe)(void);
  const kapi_plugin_desc *d;
  void *h = dlopen(f->path, RTLD_NOW | RTLD_LOCAL), *sym;

  assert_non_null(h);
  sym = dlsym(h, "kapi_plugin_describe");
  assert_non_null(sym);
  memcpy(&describe, &sym, sizeof describe);
  d = describe();
  assert_int_equal(d->magic, KAPI_PLUGIN_MAGIC);
  assert_int_equal(d->abi_major, 1);
  assert_int_equal(d->abi_minor, 0);
  assert_int_equal(d->size, offsetof(kapi_plugin_desc, reserved) +
                                8 * sizeof(uint64_t));
  dlclose(h);
}

static void test_loads_as_1_0(void **state)
{
  fixture *f = *state;
  const kapi_admission_ops *ops;
  const kapi_component *c;
  char *text = NULL, want[700];
  size_t len = 0;
  FILE *out;

  load(f, NULL);
  assert_int_equal(kapi_plugins_count(f->ps, KAPI_KIND_ADMISSION), 1);
  c = kapi_plugins_at(f->ps, KAPI_KIND_ADMISSION, 0);
  assert_string_equal(c->name, "Abi10");
  ops = c->ops;
  /* The table is 1.0's size, whatever the header says today. */
  assert_int_equal(ops->size, offsetof(kapi_admission_ops, validate) +
                                  sizeof ops->validate);
  assert_int_equal(ops->handles, KAPI_OP_CREATE);

  out = open_memstream(&text, &len);
  assert_non_null(out);
  kapi_plugins_print(f->ps, out);
  fclose(out);
  snprintf(want, sizeof want, "plugin  abi-1-0  1.0.0  (%s)\n", f->path);
  if (!strstr(text, want))
    fail_msg("expected \"%s\" in \"%s\"", want, text);
  free(text);
}

static void test_admission_stage_applies_its_decisions(void **state)
{
  fixture *f = *state;
  kapi_req r = pod_request("CREATE", "create");
  kapi_error e;
  kj *obj;

  load(f, NULL);
  kapi_error_init(&e);

  /* Mutation: the annotation carries the host ABI it was handed. */
  obj = pod("p1", 0);
  assert_int_equal(kapi_admission_mutate(&f->srv, &r, obj, &e), 0);
  assert_string_equal(kj_str(kj_ptr(obj, ANNOTATION_ABI)), HOST_ABI);
  assert_null(kj_ptr(obj, ANNOTATION_CONFIG));
  assert_int_equal(kapi_admission_validate(&f->srv, &r, obj, &e), 0);
  assert_false(kapi_error_isset(&e));
  kj_free(obj);

  /* Validation: its own 403, with the details the stage adds. */
  obj = pod("p2", 1);
  assert_int_equal(kapi_admission_mutate(&f->srv, &r, obj, &e), 0);
  assert_int_equal(kapi_admission_validate(&f->srv, &r, obj, &e), -EPERM);
  assert_int_equal(e.code, 403);
  assert_string_equal(e.reason, "Forbidden");
  assert_string_equal(e.message, "pods \"p2\" is forbidden: the ABI 1.0 "
                                 "plugin refuses pods labelled abi-1-0=deny");
  assert_non_null(e.details);
  assert_string_equal(kj_get_str(e.details, "name"), "p2");
  assert_string_equal(kj_get_str(e.details, "kind"), "pods");
  kapi_error_clear(&e);
  kj_free(obj);
}

/* `handles` is honoured: the fixture only handles CREATE. */
static void test_unhandled_operation_is_skipped(void **state)
{
  fixture *f = *state;
  kapi_req r = pod_request("UPDATE", "update");
  kapi_error e;
  kj *obj = pod("p3", 1);

  load(f, NULL);
  kapi_error_init(&e);
  assert_int_equal(kapi_admission_mutate(&f->srv, &r, obj, &e), 0);
  assert_null(kj_ptr(obj, ANNOTATION_ABI));
  assert_int_equal(kapi_admission_validate(&f->srv, &r, obj, &e), 0);
  assert_false(kapi_error_isset(&e));
  kj_free(obj);
}

/* Its configuration reaches it, from every configuration shape. */
static void test_configuration_reaches_it(void **state)
{
  static const char *const configs[] = {
    "{\"plugins\":{\"abi-1-0\":{\"annotation\":\"from-plugins\"}}}",
    "{\"admission\":{\"plugins\":[{\"name\":\"abi-1-0\",\"configuration\":"
    "{\"annotation\":\"from-admission\"}}]}}",
    /* What --admission-control-config-file makes of an entry "Abi10". */
    "{\"admissionConfiguration\":{\"Abi10\":{\"annotation\":\"from-file\"}}}",
  };
  static const char *const want[] = {"from-plugins", "from-admission",
                                     "from-file"};
  fixture *f = *state;
  kapi_req r = pod_request("CREATE", "create");
  kapi_error e;
  size_t i;
  kj *obj;

  kapi_error_init(&e);
  for (i = 0; i < sizeof want / sizeof want[0]; i++) {
    load(f, configs[i]);
    obj = pod("p4", 0);
    assert_int_equal(kapi_admission_mutate(&f->srv, &r, obj, &e), 0);
    assert_string_equal(kj_str(kj_ptr(obj, ANNOTATION_CONFIG)), want[i]);
    kj_free(obj);
    kapi_plugins_free(f->ps);
    f->ps = NULL;
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_fixture_describes_1_0, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_loads_as_1_0, setup, teardown),
    cmocka_unit_test_setup_teardown(test_admission_stage_applies_its_decisions,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(test_unhandled_operation_is_skipped,
                                    setup, teardown),
    cmocka_unit_test_setup_teardown(test_configuration_reaches_it, setup,
                                    teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
