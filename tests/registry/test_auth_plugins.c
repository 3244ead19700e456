/*
 * test_auth_plugins.c - the Anonymous authenticator and the AlwaysAllow /
 * AlwaysDeny authorizers, each loaded from its built .so through the
 * plugin loader ($KAPI_BUILDDIR/<dir>/.libs/<name>.so, else
 * $KAPI_BUILDDIR/<dir>/<name>.so), with the server configuration shape
 * {"plugins": {"<name>": {...}}} for the plugin's own configuration.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "plugin_loader.h"
#include "request.h"
#include "registry_test_util.h"
#include "status.h"

/* Loads one plugin with the server configuration config_json (or none);
 * returns the load result, the set in *ret and the error text in err. */
static int load(const char *dir, const char *name, const char *config_json,
                kapi_plugins **ret, char *err, size_t len)
{
  kj *config = config_json ? rt_parse(config_json) : NULL;
  kapi_plugins *ps = kapi_plugins_new(config);
  int rc;

  kj_free(config);
  assert_non_null(ps);
  rc = kapi_plugins_load_file(ps, rt_plugin_path(dir, name), err, len);
  if (rc == 0)
    rc = kapi_plugins_assemble(ps, NULL, 0, err, len);
  *ret = ps;
  return rc;
}

static void test_anonymous(void **state)
{
  kapi_plugins *ps;
  const kapi_component *c;
  const kapi_authn_ops *ops;
  kapi_req r;
  kapi_error e;
  char err[512], *json;
  kj *user = kj_object();

  (void)state;
  if (load("authn/anonymous", "anonymous", NULL, &ps, err, sizeof err) < 0)
    fail_msg("%s", err);
  assert_int_equal(kapi_plugins_count(ps, KAPI_KIND_AUTHN), 1);
  c = kapi_plugins_at(ps, KAPI_KIND_AUTHN, 0);
  assert_string_equal(c->name, "Anonymous");
  assert_int_equal(c->priority, KAPI_ORDER_LAST);

  ops = c->ops;
  memset(&r, 0, sizeof r);
  kapi_error_init(&e);
  assert_int_equal(ops->authenticate(c->st, &r, user, &e), 1);
  assert_false(kapi_error_isset(&e));
  json = kj_dump(user, NULL);
  assert_string_equal(json, "{\"username\":\"system:anonymous\","
                            "\"groups\":[\"system:unauthenticated\"]}");
  free(json);
  kj_free(user);
  kapi_plugins_free(ps);
}

static void test_anonymous_config(void **state)
{
  kapi_plugins *ps;
  char err[512];

  (void)state;
  assert_int_equal(load("authn/anonymous", "anonymous",
                        "{\"plugins\":{\"anonymous\":{\"enabled\":false}}}",
                        &ps, err, sizeof err),
                   0);
  assert_int_equal(kapi_plugins_count(ps, KAPI_KIND_AUTHN), 0);
  kapi_plugins_free(ps);

  /* Other keys, nested values with brackets in strings, are skipped. */
  assert_int_equal(load("authn/anonymous", "anonymous",
                        "{\"plugins\":{\"anonymous\":{\"note\":{\"a\":"
                        "[1,\"}]\",true]},\"level\":-2.5e3,"
                        "\"enabled\":true}}}",
                        &ps, err, sizeof err),
                   0);
  assert_int_equal(kapi_plugins_count(ps, KAPI_KIND_AUTHN), 1);
  kapi_plugins_free(ps);

  assert_true(load("authn/anonymous", "anonymous",
                   "{\"plugins\":{\"anonymous\":{\"enabled\":\"no\"}}}", &ps,
                   err, sizeof err) < 0);
  assert_non_null(strstr(err, "invalid configuration: expected "
                              "{\"enabled\": true|false}"));
  kapi_plugins_free(ps);
}

static void test_always_allow(void **state)
{
  kapi_plugins *ps;
  const kapi_component *c;
  kapi_req r;
  kapi_error e;
  char err[512];

  (void)state;
  if (load("authz/always-allow", "always-allow", NULL, &ps, err,
           sizeof err) < 0)
    fail_msg("%s", err);
  assert_int_equal(kapi_plugins_count(ps, KAPI_KIND_AUTHZ), 1);
  c = kapi_plugins_at(ps, KAPI_KIND_AUTHZ, 0);
  assert_string_equal(c->name, "AlwaysAllow");
  memset(&r, 0, sizeof r);
  kapi_error_init(&e);
  assert_int_equal(((const kapi_authz_ops *)c->ops)->authorize(c->st, &r, &e),
                   KAPI_ALLOW);
  assert_false(kapi_error_isset(&e));
  kapi_plugins_free(ps);
}

static void test_always_deny(void **state)
{
  kapi_plugins *ps;
  const kapi_component *c;
  kapi_req r;
  kapi_error e;
  char err[512];

  (void)state;
  if (load("authz/always-deny", "always-deny", NULL, &ps, err, sizeof err) <
      0)
    fail_msg("%s", err);
  assert_int_equal(kapi_plugins_count(ps, KAPI_KIND_AUTHZ), 1);
  c = kapi_plugins_at(ps, KAPI_KIND_AUTHZ, 0);
  assert_string_equal(c->name, "AlwaysDeny");
  assert_int_equal(c->priority, KAPI_ORDER_LAST);
  memset(&r, 0, sizeof r);
  kapi_error_init(&e);
  assert_int_equal(((const kapi_authz_ops *)c->ops)->authorize(c->st, &r, &e),
                   KAPI_DENY);
  assert_int_equal(e.code, 403);
  assert_string_equal(e.message, "Everything is forbidden.");
  kapi_error_clear(&e);
  kapi_plugins_free(ps);
}

static void test_x509(void **state)
{
  kapi_plugins *ps;
  const kapi_component *c;
  const kapi_authn_ops *ops;
  kapi_req r;
  kapi_error e;
  char err[512], *json, *groups[] = {"dev", "ops"};
  kj *user = kj_object();

  (void)state;
  if (load("authn/x509", "x509", NULL, &ps, err, sizeof err) < 0)
    fail_msg("%s", err);
  assert_int_equal(kapi_plugins_count(ps, KAPI_KIND_AUTHN), 1);
  c = kapi_plugins_at(ps, KAPI_KIND_AUTHN, 0);
  assert_string_equal(c->name, "x509");
  assert_int_equal(c->priority, KAPI_ORDER_FIRST);
  ops = c->ops;
  memset(&r, 0, sizeof r);
  kapi_error_init(&e);
  /* No verified certificate: not ours. */
  assert_int_equal(ops->authenticate(c->st, &r, user, &e), 0);
  r.tls_client_cn = "alice";
  r.tls_client_groups = groups;
  r.tls_client_ngroups = 2;
  assert_int_equal(ops->authenticate(c->st, &r, user, &e), 1);
  json = kj_dump(user, NULL);
  assert_string_equal(json,
                      "{\"username\":\"alice\",\"groups\":[\"dev\",\"ops\"]}");
  free(json);
  kj_free(user);
  kapi_plugins_free(ps);
}

static const char *test_auth_header;

static const char *fake_header(void *conn, const char *name)
{
  (void)conn;
  return !strcmp(name, "Authorization") ? test_auth_header : NULL;
}

/* Writes text to a new temporary file; returns its malloc'd path. */
static char *temp_file(const char *text)
{
  char *path = strdup("/tmp/kapi-tokens-XXXXXX");
  int fd;

  assert_non_null(path);
  fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  return path;
}

/* Authenticates with "Authorization: <header>"; returns the result and
 * the user as JSON in *json (or NULL). */
static int token_auth(const kapi_component *c, const char *header,
                      char **json)
{
  kapi_req r;
  kapi_error e;
  kj *user = kj_object();
  int rc;

  memset(&r, 0, sizeof r);
  r.header = fake_header;
  test_auth_header = header;
  kapi_error_init(&e);
  rc = ((const kapi_authn_ops *)c->ops)->authenticate(c->st, &r, user, &e);
  *json = rc == 1 ? kj_dump(user, NULL) : NULL;
  kapi_error_clear(&e);
  kj_free(user);
  return rc;
}

static void test_token_file(void **state)
{
  char *path = temp_file("# comment\n"
                         "secret1,alice,uid-1,\"dev,ops\"\n"
                         "\n"
                         " secret2, bob ,uid-2\r\n"
                         "\"sec,ret3\",carol,uid-3,admins,extra\n");
  char config[512], err[512], *json;
  const kapi_component *c;
  kapi_plugins *ps;

  (void)state;
  snprintf(config, sizeof config,
           "{\"plugins\":{\"token-file\":{\"other\":[1,\"}\"],"
           "\"path\":\"%s\"}}}", path);
  if (load("authn/token-file", "token_file", config, &ps, err,
           sizeof err) < 0)
    fail_msg("%s", err);
  assert_int_equal(kapi_plugins_count(ps, KAPI_KIND_AUTHN), 1);
  c = kapi_plugins_at(ps, KAPI_KIND_AUTHN, 0);
  assert_string_equal(c->name, "token-file");

  assert_int_equal(token_auth(c, "Bearer secret1", &json), 1);
  assert_string_equal(json, "{\"username\":\"alice\",\"uid\":\"uid-1\","
                            "\"groups\":[\"dev\",\"ops\"]}");
  free(json);
  assert_int_equal(token_auth(c, "bearer secret2", &json), 1);
  assert_string_equal(json, "{\"username\":\"bob \",\"uid\":\"uid-2\","
                            "\"groups\":[]}");
  free(json);
  assert_int_equal(token_auth(c, "Bearer sec,ret3", &json), 1);
  assert_string_equal(json, "{\"username\":\"carol\",\"uid\":\"uid-3\","
                            "\"groups\":[\"admins\"]}");
  free(json);
  /* Unknown or absent credentials are not ours (the union answers 401). */
  assert_int_equal(token_auth(c, "Bearer wrong", &json), 0);
  assert_int_equal(token_auth(c, "Basic secret1", &json), 0);
  assert_int_equal(token_auth(c, "Bearer ", &json), 0);
  assert_int_equal(token_auth(c, NULL, &json), 0);
  kapi_plugins_free(ps);
  unlink(path);
  free(path);
}

static void test_token_file_config(void **state)
{
  char *path = temp_file("secret1,alice\n");
  char config[512], err[512];
  kapi_plugins *ps;

  (void)state;
  /* No configuration: nothing registered. */
  assert_int_equal(load("authn/token-file", "token_file", NULL, &ps, err,
                        sizeof err), 0);
  assert_int_equal(kapi_plugins_count(ps, KAPI_KIND_AUTHN), 0);
  kapi_plugins_free(ps);

  snprintf(config, sizeof config,
           "{\"plugins\":{\"token-file\":{\"path\":\"%s\"}}}", path);
  assert_true(load("authn/token-file", "token_file", config, &ps, err,
                   sizeof err) < 0);
  assert_non_null(strstr(err, "must have at least 3 columns"));
  kapi_plugins_free(ps);

  assert_true(load("authn/token-file", "token_file",
                   "{\"plugins\":{\"token-file\":{\"path\":"
                   "\"/nonexistent/tokens.csv\"}}}",
                   &ps, err, sizeof err) < 0);
  assert_non_null(strstr(err, "failed to read token file "
                              "'/nonexistent/tokens.csv'"));
  kapi_plugins_free(ps);

  assert_true(load("authn/token-file", "token_file",
                   "{\"plugins\":{\"token-file\":{\"path\":3}}}", &ps, err,
                   sizeof err) < 0);
  assert_non_null(strstr(err, "invalid configuration"));
  kapi_plugins_free(ps);
  unlink(path);
  free(path);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_anonymous),
      cmocka_unit_test(test_anonymous_config),
      cmocka_unit_test(test_always_allow),
      cmocka_unit_test(test_always_deny),
      cmocka_unit_test(test_x509),
      cmocka_unit_test(test_token_file),
      cmocka_unit_test(test_token_file_config),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
