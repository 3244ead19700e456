/*
 * fake_host.h - a fake kapi_host_api for testing authorizer and
 * admission plugins without a server: requests are lists of attributes,
 * the store is a list of JSON objects, errors are kept in plain structs.
 * Objects are libkapi's JSON DOM (kapi/json.h), the only thing taken
 * from libkapi.
 *
 * A plugin is loaded from its built .so ($KAPI_BUILDDIR/<dir>/.libs/
 * <name>.so, else $KAPI_BUILDDIR/<dir>/<name>.so) and initialised with
 * the fake table.  Everything fails the running cmocka test rather than
 * returning an error.  Not thread-safe: one test at a time.
 */
#ifndef KAPI_TEST_FAKE_HOST_H
#define KAPI_TEST_FAKE_HOST_H

#include <stddef.h>

#include "kapi/plugin.h"

/* What a plugin put into a kapi_error. */
struct kapi_error {
  int code;         /* 0 when unset */
  char reason[64];  /* "Forbidden", "NotFound"... */
  char message[2048];
};

/* A request: "key=value" attributes as api->req_get answers them. */
#define FAKE_MAX_ATTRS 24
#define FAKE_MAX_GROUPS 8
struct kapi_req {
  char *attrs[FAKE_MAX_ATTRS][2]; /* owned */
  char *groups[FAKE_MAX_GROUPS];  /* owned */
  kapi_obj *old;                  /* owned: req_old_object */
};

/* A plugin loaded through the fake host. */
typedef struct fake_plugin {
  void *dl;
  void *handle; /* the plugin's kapi_plugin, owned */
  char component[64];
  const kapi_authz_ops *authz;
  const kapi_admission_ops *admission;
  void *st;
} fake_plugin;

/* Loads and initialises plugin `name` from build directory `dir`. */
void fake_load(const char *dir, const char *name, fake_plugin *p);
void fake_unload(fake_plugin *p);

/*
 * A request by `user` in `groups` (comma-separated, may be NULL) with
 * space-separated attributes "verb=get resource=pods name=x"; a value
 * runs to the next space and may itself hold '='
 * ("fieldSelector=spec.nodeName=n1").  Free with fake_req_free.
 */
kapi_req *fake_req(const char *user, const char *groups, const char *attrs);
/* Sets the stored object of an UPDATE or DELETE (JSON, copied). */
void fake_req_old(kapi_req *r, const char *json);
void fake_req_free(kapi_req *r);

/* The store: objects of group/resource ("" group is core), JSON copied.
 * fake_store_reset empties it; fake_store_fail makes every store call
 * answer rc (0 to stop). */
void fake_store_add(const char *group, const char *resource,
                    const char *json);
void fake_store_reset(void);
void fake_store_fail(int rc);

/* Parses test JSON into a DOM the caller frees with kj_free. */
kapi_obj *fake_parse(const char *json);

const kapi_host_api *fake_host_api(void);

#endif
