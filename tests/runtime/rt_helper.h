/*
 * rt_helper.h - what the runtime plugin tests share: loading a runtime
 * plugin from the build tree ($KAPI_BUILDDIR/plugins/runtime/NAME/.libs/
 * NAME.so, else .../NAME/NAME.so) through the real plugin loader, JSON
 * fixtures, and a copy of a container status taken from a callback.
 * Header-only: each test is one program.
 */
#ifndef KAPI_TEST_RT_HELPER_H
#define KAPI_TEST_RT_HELPER_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "plugin_loader.h"
#include "status.h"

typedef struct rt_fixture {
  kapi_plugins *ps;
  const kapi_runtime_ops *ops;
  void *st;
} rt_fixture;

static inline const char *rt_plugin_path(const char *name)
{
  static char path[1024];
  const char *build = getenv("KAPI_BUILDDIR");
  snprintf(path, sizeof path, "%s/plugins/runtime/%s/.libs/%s.so",
           build ? build : ".", name, name);
  if (access(path, R_OK) != 0)
    snprintf(path, sizeof path, "%s/plugins/runtime/%s/%s.so",
             build ? build : ".", name, name);
  return path;
}

/* Loads the runtime plugin `name`; fails the test if it cannot. */
static inline rt_fixture *rt_load(const char *name)
{
  rt_fixture *f = calloc(1, sizeof *f);
  const kapi_component *c;
  char err[512];

  assert_non_null(f);
  f->ps = kapi_plugins_new(NULL);
  assert_non_null(f->ps);
  if (kapi_plugins_load_file(f->ps, rt_plugin_path(name), err, sizeof err) <
          0 ||
      kapi_plugins_assemble(f->ps, NULL, 0, err, sizeof err) < 0)
    fail_msg("%s", err);
  assert_int_equal(kapi_plugins_count(f->ps, KAPI_KIND_RUNTIME), 1);
  c = kapi_plugins_at(f->ps, KAPI_KIND_RUNTIME, 0);
  assert_string_equal(c->name, name);
  f->ops = c->ops;
  f->st = c->st;
  assert_true(f->ops->size >= sizeof(kapi_runtime_ops));
  return f;
}

static inline void rt_unload(rt_fixture *f)
{
  kapi_plugins_free(f->ps);
  free(f);
}

static inline kj *rt_parse(const char *json)
{
  char err[256];
  kj *v = NULL;
  if (kj_parse(json, strlen(json), &v, err, sizeof err) < 0)
    fail_msg("bad test JSON: %s", err);
  return v;
}

/* A copy of one kapi_container_status (strings truncated to fit). */
typedef struct rt_status {
  int seen;
  char id[KAPI_ID_MAX], sandbox_id[KAPI_ID_MAX], name[64];
  kapi_container_state state;
  int64_t created_at, started_at, finished_at;
  int32_t exit_code;
  char reason[64], message[512], log_path[512];
} rt_status;

static inline void rt_copy(void *arg, const kapi_container_status *s)
{
  rt_status *o = arg;
  o->seen++;
  snprintf(o->id, sizeof o->id, "%s", s->id ? s->id : "");
  snprintf(o->sandbox_id, sizeof o->sandbox_id, "%s",
           s->sandbox_id ? s->sandbox_id : "");
  snprintf(o->name, sizeof o->name, "%s", s->name ? s->name : "");
  o->state = s->state;
  o->created_at = s->created_at;
  o->started_at = s->started_at;
  o->finished_at = s->finished_at;
  o->exit_code = s->exit_code;
  snprintf(o->reason, sizeof o->reason, "%s", s->reason ? s->reason : "");
  snprintf(o->message, sizeof o->message, "%s", s->message ? s->message : "");
  snprintf(o->log_path, sizeof o->log_path, "%s",
           s->log_path ? s->log_path : "");
}

static inline rt_status rt_get(rt_fixture *f, const char *id)
{
  rt_status s;
  memset(&s, 0, sizeof s);
  assert_int_equal(f->ops->container_status(f->st, id, rt_copy, &s), 0);
  assert_int_equal(s.seen, 1);
  return s;
}

static inline void rt_count(void *arg, const kapi_container_status *s)
{
  (void)s;
  (*(size_t *)arg)++;
}

static inline size_t rt_list_len(rt_fixture *f)
{
  size_t n = 0;
  assert_int_equal(f->ops->list_containers(f->st, rt_count, &n), 0);
  return n;
}

#endif
