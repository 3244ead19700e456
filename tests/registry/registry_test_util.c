/*
 * registry_test_util.c - fixtures and helpers of the registry plugin
 * tests (see registry_test_util.h).
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

#include "registry_test_util.h"
#include "status.h"

const char *rt_plugin_path(const char *dir, const char *name)
{
  static char path[1024];
  const char *build = getenv("KAPI_BUILDDIR");

  snprintf(path, sizeof path, "%s/%s/.libs/%s.so", build ? build : ".", dir,
           name);
  if (access(path, R_OK) != 0)
    snprintf(path, sizeof path, "%s/%s/%s.so", build ? build : ".", dir,
             name);
  return path;
}

fixture *rt_load(const char *dir, const char *name, kapi_kind kind)
{
  fixture *f = calloc(1, sizeof *f);
  char err[512];

  assert_non_null(f);
  f->ps = kapi_plugins_new(NULL);
  assert_non_null(f->ps);
  if (kapi_plugins_load_file(f->ps, rt_plugin_path(dir, name), err,
                             sizeof err) < 0 ||
      kapi_plugins_assemble(f->ps, NULL, 0, err, sizeof err) < 0)
    fail_msg("%s", err);
  assert_int_equal(kapi_plugins_count(f->ps, kind), 1);
  f->c = kapi_plugins_at(f->ps, kind, 0);
  f->ops = kind == KAPI_KIND_RESOURCE ? f->c->ops : NULL;
  f->st = f->c->st;
  return f;
}

void rt_free(fixture *f)
{
  if (!f)
    return;
  kapi_plugins_free(f->ps);
  free(f);
}

int rt_teardown(void **state)
{
  rt_free(*state);
  return 0;
}

kj *rt_parse(const char *json)
{
  char err[256];
  kj *v = NULL;

  if (kj_parse(json, strlen(json), &v, err, sizeof err) < 0)
    fail_msg("bad test JSON: %s: %s", err, json);
  return v;
}

const char *rt_json_at(const kj *o, const char *ptr)
{
  static char buf[4096];
  char *s = kj_dump(kj_ptr(o, ptr), NULL);

  snprintf(buf, sizeof buf, "%s", s ? s : "<absent>");
  free(s);
  return buf;
}

const char *rt_invalid_message(const char *group, const char *kind,
                               const char *name, const kj *errs)
{
  static char buf[4096];
  kapi_error e;

  buf[0] = '\0';
  if (kj_len(errs) == 0)
    return buf;
  kapi_error_init(&e);
  kapi_error_invalid(&e, group, kind, name, errs);
  snprintf(buf, sizeof buf, "%s", e.message);
  kapi_error_clear(&e);
  return buf;
}

const char *rt_validate_msg(fixture *f, const char *group, const char *kind,
                            const char *name, const char *json)
{
  kj *obj = rt_parse(json), *errs = kj_array();
  int n = f->ops->validate(f->st, obj, errs);
  const char *msg;

  assert_int_equal((size_t)n, kj_len(errs));
  msg = rt_invalid_message(group, kind, name, errs);
  kj_free(errs);
  kj_free(obj);
  return msg;
}

const char *rt_row(fixture *f, const char *json, int64_t now)
{
  static char buf[2048];
  kj *obj = rt_parse(json), *cells = kj_array();
  char *s;

  assert_int_equal(f->ops->table_row(f->st, obj, now, cells), 0);
  assert_int_equal(kj_len(cells), f->ops->n_columns);
  s = kj_dump(cells, NULL);
  snprintf(buf, sizeof buf, "%s", s);
  free(s);
  kj_free(cells);
  kj_free(obj);
  return buf;
}
