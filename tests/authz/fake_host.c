/*
 * fake_host.c - the fake host API of fake_host.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kapi/json.h"
#include "fake_host.h"

struct kapi_plugin {
  fake_plugin *p;
};

/* ---- the store ----------------------------------------------------------- */

typedef struct stored {
  char *group, *resource;
  kj *obj;
} stored;

static stored *store;
static size_t n_store;
static int store_rc;

kapi_obj *fake_parse(const char *json)
{
  char err[256];
  kj *v = NULL;

  if (kj_parse(json, strlen(json), &v, err, sizeof err) < 0)
    fail_msg("bad test JSON (%s): %s", err, json);
  return v;
}

void fake_store_add(const char *group, const char *resource,
                    const char *json)
{
  stored *s = realloc(store, (n_store + 1) * sizeof *s);

  assert_non_null(s);
  store = s;
  store[n_store].group = strdup(group);
  store[n_store].resource = strdup(resource);
  store[n_store].obj = fake_parse(json);
  n_store++;
}

void fake_store_reset(void)
{
  size_t i;

  for (i = 0; i < n_store; i++) {
    free(store[i].group);
    free(store[i].resource);
    kj_free(store[i].obj);
  }
  free(store);
  store = NULL;
  n_store = 0;
  store_rc = 0;
}

void fake_store_fail(int rc)
{
  store_rc = rc;
}

static int same(const char *a, const char *b)
{
  return !strcmp(a ? a : "", b ? b : "");
}

static int in_ns(const stored *s, const char *ns)
{
  return !ns || !*ns ||
         same(kj_str(kj_ptr(s->obj, "/metadata/namespace")), ns);
}

static int fake_store_get(const char *group, const char *resource,
                          const char *ns, const char *name, kapi_obj **ret)
{
  size_t i;

  if (store_rc)
    return store_rc;
  for (i = 0; i < n_store; i++)
    if (same(store[i].group, group) && same(store[i].resource, resource) &&
        same(kj_str(kj_ptr(store[i].obj, "/metadata/namespace")), ns) &&
        same(kj_str(kj_ptr(store[i].obj, "/metadata/name")), name)) {
      *ret = kj_clone(store[i].obj);
      return 0;
    }
  return -ENOENT;
}

static int fake_store_list(const char *group, const char *resource,
                           const char *ns, const char *label_selector,
                           kapi_obj **ret)
{
  kj *arr;
  size_t i;

  assert_null(label_selector); /* the plugins under test use none */
  if (store_rc)
    return store_rc;
  arr = kj_array();
  for (i = 0; i < n_store; i++)
    if (same(store[i].group, group) && same(store[i].resource, resource) &&
        in_ns(&store[i], ns))
      kj_append(arr, kj_clone(store[i].obj));
  *ret = arr;
  return 0;
}

static int64_t fake_store_revision(const char *group, const char *resource)
{
  (void)group;
  (void)resource;
  return 1;
}

/* ---- requests ------------------------------------------------------------ */

kapi_req *fake_req(const char *user, const char *groups, const char *attrs)
{
  kapi_req *r = calloc(1, sizeof *r);
  char *copy, *tok, *save = NULL;
  size_t n = 0;

  assert_non_null(r);
  r->attrs[n][0] = strdup("user.name");
  r->attrs[n++][1] = strdup(user);
  copy = strdup(attrs ? attrs : "");
  for (tok = strtok_r(copy, " ", &save); tok;
       tok = strtok_r(NULL, " ", &save)) {
    char *eq = strchr(tok, '=');
    assert_non_null(eq);
    assert_true(n < FAKE_MAX_ATTRS);
    *eq = '\0';
    r->attrs[n][0] = strdup(tok);
    r->attrs[n++][1] = strdup(eq + 1);
  }
  free(copy);
  copy = strdup(groups ? groups : "");
  n = 0;
  for (tok = strtok_r(copy, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save)) {
    assert_true(n < FAKE_MAX_GROUPS);
    r->groups[n++] = strdup(tok);
  }
  free(copy);
  return r;
}

void fake_req_old(kapi_req *r, const char *json)
{
  kj_free(r->old);
  r->old = fake_parse(json);
}

void fake_req_free(kapi_req *r)
{
  size_t i;

  if (!r)
    return;
  for (i = 0; i < FAKE_MAX_ATTRS; i++) {
    free(r->attrs[i][0]);
    free(r->attrs[i][1]);
  }
  for (i = 0; i < FAKE_MAX_GROUPS; i++)
    free(r->groups[i]);
  kj_free(r->old);
  free(r);
}

static const char *fake_req_get(const kapi_req *r, const char *key)
{
  size_t i;

  for (i = 0; i < FAKE_MAX_ATTRS && r->attrs[i][0]; i++)
    if (!strcmp(r->attrs[i][0], key))
      return r->attrs[i][1];
  return NULL;
}

static const char *fake_req_group(const kapi_req *r, size_t i)
{
  return i < FAKE_MAX_GROUPS ? r->groups[i] : NULL;
}

static const kapi_obj *fake_req_old_object(const kapi_req *r)
{
  return r->old;
}

static const char *fake_req_header(const kapi_req *r, const char *name)
{
  (void)r;
  (void)name;
  return NULL;
}

/* ---- errors and logs ----------------------------------------------------- */

static void fake_error_set(kapi_error *e, int code, const char *reason,
                           const char *fmt, ...)
{
  va_list ap;

  e->code = code;
  snprintf(e->reason, sizeof e->reason, "%s", reason);
  va_start(ap, fmt);
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
}

static void fake_error_add_cause(kapi_error *e, const char *reason,
                                 const char *message, const char *field)
{
  (void)e;
  (void)reason;
  (void)message;
  (void)field;
}

static void fake_log(kapi_plugin *p, int level, const char *fmt, ...)
{
  va_list ap;

  (void)p;
  if (!getenv("FAKE_HOST_LOG"))
    return;
  va_start(ap, fmt);
  fprintf(stderr, "[plugin %d] ", level);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* ---- objects ------------------------------------------------------------- */

static const kapi_obj *fake_obj_lookup(const kapi_obj *o, const char *ptr)
{
  return o ? kj_ptr(o, ptr ? ptr : "") : NULL;
}

static kapi_obj_type fake_obj_type(const kapi_obj *o)
{
  return o ? (kapi_obj_type)o->type : KAPI_OBJ_NONE;
}

static const char *fake_obj_get(const kapi_obj *o, const char *ptr)
{
  const kj *v = fake_obj_lookup(o, ptr);

  if (!v)
    return NULL;
  if (v->type == KJ_STRING || v->type == KJ_NUMBER)
    return v->u.str.s;
  if (v->type == KJ_BOOL)
    return v->u.boolean ? "true" : "false";
  return NULL;
}

static int fake_obj_int(const kapi_obj *o, int64_t *out)
{
  return kj_to_int(o, out);
}

static size_t fake_obj_len(const kapi_obj *o)
{
  return kj_len(o);
}

static const kapi_obj *fake_obj_index(const kapi_obj *o, size_t i)
{
  return kj_at(o, i);
}

static const char *fake_obj_key(const kapi_obj *o, size_t i)
{
  return kj_key_at(o, i);
}

static char *fake_obj_to_json(const kapi_obj *o)
{
  return kj_dump(o, NULL);
}

static void fake_obj_free(kapi_obj *o)
{
  kj_free(o);
}

/* ---- registration -------------------------------------------------------- */

static int fake_register_authz(kapi_plugin *self, const char *name,
                               const kapi_authz_ops *ops, void *st,
                               const kapi_order *order)
{
  (void)order;
  snprintf(self->p->component, sizeof self->p->component, "%s", name);
  self->p->authz = ops;
  self->p->st = st;
  return 0;
}

static int fake_register_admission(kapi_plugin *self, const char *name,
                                   const kapi_admission_ops *ops, void *st,
                                   const kapi_order *order)
{
  (void)order;
  snprintf(self->p->component, sizeof self->p->component, "%s", name);
  self->p->admission = ops;
  self->p->st = st;
  return 0;
}

static const kapi_host_api fake_api = {
    .size = sizeof(kapi_host_api),
    .abi_major = KAPI_ABI_MAJOR,
    .abi_minor = KAPI_ABI_MINOR,
    .register_authz = fake_register_authz,
    .register_admission = fake_register_admission,
    .error_set = fake_error_set,
    .error_add_cause = fake_error_add_cause,
    .log = fake_log,
    .req_get = fake_req_get,
    .req_group = fake_req_group,
    .req_old_object = fake_req_old_object,
    .req_header = fake_req_header,
    .obj_lookup = fake_obj_lookup,
    .obj_type = fake_obj_type,
    .obj_get = fake_obj_get,
    .obj_int = fake_obj_int,
    .obj_len = fake_obj_len,
    .obj_index = fake_obj_index,
    .obj_key = fake_obj_key,
    .obj_to_json = fake_obj_to_json,
    .obj_free = fake_obj_free,
    .alloc = malloc,
    .free = free,
    .store_get = fake_store_get,
    .store_list = fake_store_list,
    .store_revision = fake_store_revision,
};

const kapi_host_api *fake_host_api(void)
{
  return &fake_api;
}

/* ---- loading ------------------------------------------------------------- */

static void plugin_path(const char *dir, const char *name, char *buf,
                        size_t len)
{
  const char *b = getenv("KAPI_BUILDDIR");

  if (!b)
    b = ".";
  snprintf(buf, len, "%s/%s/.libs/%s.so", b, dir, name);
  if (access(buf, R_OK) != 0)
    snprintf(buf, len, "%s/%s/%s.so", b, dir, name);
}

void fake_load(const char *dir, const char *name, fake_plugin *p)
{
  struct kapi_plugin *handle;
  const kapi_plugin_desc *(*describe)(void);
  const kapi_plugin_desc *d;
  kapi_error e = {0};
  char path[4096];

  memset(p, 0, sizeof *p);
  plugin_path(dir, name, path, sizeof path);
  p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!p->dl)
    fail_msg("cannot load %s: %s", path, dlerror());
  *(void **)&describe = dlsym(p->dl, "kapi_plugin_describe");
  assert_non_null(describe);
  d = describe();
  assert_int_equal(d->magic, KAPI_PLUGIN_MAGIC);
  assert_string_equal(d->name, name);
  handle = calloc(1, sizeof *handle);
  assert_non_null(handle);
  handle->p = p;
  p->handle = handle;
  if (d->init(handle, &fake_api, NULL, 0, &e) < 0)
    fail_msg("init of %s failed: %s", name, e.message);
}

void fake_unload(fake_plugin *p)
{
  if (p->dl)
    dlclose(p->dl);
  free(p->handle);
  memset(p, 0, sizeof *p);
}
