/*
 * registry_test_util.h - what the registry plugin tests share: loading a
 * plugin from its built .so through the plugin loader
 * ($KAPI_BUILDDIR/<dir>/.libs/<name>.so, else $KAPI_BUILDDIR/<dir>/<name>.so),
 * parsing test JSON, and the texts a test compares (values as JSON,
 * 422 messages, table rows).
 *
 * Everything fails the running cmocka test rather than returning an
 * error, and the returned texts live in static buffers, valid until the
 * next call of the same function.
 */
#ifndef KAPI_REGISTRY_TEST_UTIL_H
#define KAPI_REGISTRY_TEST_UTIL_H

#include <stdint.h>

#include "json.h"
#include "plugin_loader.h"

/* 2025-01-01T00:00:00Z: "now" for the tests of ages and timestamps. */
#define T0 1735689600

/* A plugin loaded for one test; rt_load() makes it, rt_free() frees it. */
typedef struct fixture {
  kapi_plugins *ps;             /* owned */
  const kapi_component *c;      /* its one component of the kind asked */
  const kapi_resource_ops *ops; /* c->ops for a resource, else NULL */
  void *st;                     /* c->st */
} fixture;

/* The built .so of plugin `name` in build directory `dir` ("registry/pod",
 * "pod"); a static buffer. */
const char *rt_plugin_path(const char *dir, const char *name);

/* Loads and assembles one plugin, which must make exactly one component
 * of `kind`.  The caller owns the result. */
fixture *rt_load(const char *dir, const char *name, kapi_kind kind);
void rt_free(fixture *f);

/* A cmocka teardown for a fixture in *state. */
int rt_teardown(void **state);

/* The DOM of test JSON (owned by the caller); bad JSON fails the test. */
kj *rt_parse(const char *json);

/* The value at JSON pointer `ptr` of `o` as compact JSON, "<absent>"
 * when there is none. */
const char *rt_json_at(const kj *o, const char *ptr);

/* The 422 message the server sends for the field errors `errs` of object
 * `name` of group/kind, "" when there are none. */
const char *rt_invalid_message(const char *group, const char *kind,
                               const char *name, const kj *errs);

/* The 422 message for validating `json` (a create) with f->ops, "" when
 * it is valid; also checks that validate counts the errors it adds. */
const char *rt_validate_msg(fixture *f, const char *group, const char *kind,
                            const char *name, const char *json);

/* The table row (JSON array of cells) of `json` at time `now`; checks
 * there is a cell for every column. */
const char *rt_row(fixture *f, const char *json, int64_t now);

#endif
