/*
 * ctl_util.h - helpers shared by the controller plugins (replicaset,
 * garbagecollector, namespace).
 *
 * Plugins are built like third-party ones, from one .c file against
 * <kapi/plugin.h> and libc only, so what they share cannot live in a
 * library: it lives here, as static functions every plugin compiles into
 * itself.  Include it by relative path ("../common/ctl_util.h") after
 * defining _GNU_SOURCE (vasprintf), so that the one-line build
 * `cc -std=c11 -shared -fPIC -fvisibility=hidden -I include -o X.so X.c`
 * still works.  `static inline` keeps the helpers a plugin does not use
 * from warning.
 *
 * The header owns the plugin's two globals, `api` (the host API table)
 * and `self` (the plugin handle); ctl_plugin_init() sets both.
 */
#ifndef KAPI_PLUGINS_CTL_UTIL_H
#define KAPI_PLUGINS_CTL_UTIL_H

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapi/plugin.h"

/* The cause reason a create in a terminating namespace is refused with. */
#define NS_TERMINATING_CAUSE "NamespaceTerminating"

static const kapi_host_api *api;
static kapi_plugin *self;

/* ---- reading objects ---------------------------------------------------- */

/* The string at JSON pointer `ptr` of `o`, or NULL (absent, not a
 * string); borrowed from `o`. */
static inline const char *str_at(const kapi_obj *o, const char *ptr)
{
  const kapi_obj *v = api->obj_lookup(o, ptr);
  return api->obj_type(v) == KAPI_OBJ_STRING ? api->obj_get(v, "") : NULL;
}

/* The member `key` of an object (keys may hold '/', so no pointer), or
 * NULL; borrowed from `obj`. */
static inline const kapi_obj *member(const kapi_obj *obj, const char *key)
{
  size_t i, n;
  if (api->obj_type(obj) != KAPI_OBJ_OBJECT)
    return NULL;
  n = api->obj_len(obj);
  for (i = 0; i < n; i++) {
    const char *k = api->obj_key(obj, i);
    if (k && !strcmp(k, key))
      return api->obj_index(obj, i);
  }
  return NULL;
}

/* The string member `key`, or NULL; borrowed from `obj`. */
static inline const char *member_str(const kapi_obj *obj, const char *key)
{
  const kapi_obj *v = member(obj, key);
  return api->obj_type(v) == KAPI_OBJ_STRING ? api->obj_get(v, "") : NULL;
}

/* Is the member `key` the boolean true? */
static inline int member_true(const kapi_obj *obj, const char *key)
{
  const char *v = api->obj_get(member(obj, key), "");
  return v && !strcmp(v, "true");
}

/* Equal strings, neither NULL. */
static inline int streq(const char *a, const char *b)
{
  return a && b && !strcmp(a, b);
}

/* Does the discovery "verbs" array hold `verb`? */
static inline int ctl_value_in(const kapi_obj *values, const char *v)
{
  size_t i, n = api->obj_len(values);
  for (i = 0; v && i < n; i++) {
    const char *s = api->obj_get(api->obj_index(values, i), "");
    if (s && !strcmp(s, v))
      return 1;
  }
  return 0;
}

/*
 * 1 if `labels` (an object, or NULL for none) satisfy the selector, 0 if
 * not, -EINVAL if the selector is malformed.  A NULL selector selects
 * nothing and an empty one everything, as upstream.
 */
static inline int ctl_selector_matches(const kapi_obj *sel,
                                       const kapi_obj *labels)
{
  const kapi_obj *ml, *me;
  size_t i, n;

  if (api->obj_type(sel) != KAPI_OBJ_OBJECT)
    return 0;
  ml = member(sel, "matchLabels");
  n = api->obj_len(ml);
  for (i = 0; i < n; i++) {
    const char *k = api->obj_key(ml, i);
    const char *want = api->obj_get(api->obj_index(ml, i), "");
    const char *have = k ? member_str(labels, k) : NULL;
    if (!k || !want)
      return -EINVAL;
    if (!have || strcmp(have, want))
      return 0;
  }
  me = member(sel, "matchExpressions");
  n = api->obj_len(me);
  for (i = 0; i < n; i++) {
    const kapi_obj *req = api->obj_index(me, i);
    const char *key = member_str(req, "key");
    const char *op = member_str(req, "operator");
    const kapi_obj *values = member(req, "values");
    const kapi_obj *lv = key ? member(labels, key) : NULL;
    const char *have = lv ? api->obj_get(lv, "") : NULL;
    if (!key || !op)
      return -EINVAL;
    if (!strcmp(op, "In")) {
      if (api->obj_len(values) == 0)
        return -EINVAL;
      if (!lv || !ctl_value_in(values, have))
        return 0;
    } else if (!strcmp(op, "NotIn")) {
      if (api->obj_len(values) == 0)
        return -EINVAL;
      if (lv && ctl_value_in(values, have))
        return 0;
    } else if (!strcmp(op, "Exists")) {
      if (!lv)
        return 0;
    } else if (!strcmp(op, "DoesNotExist")) {
      if (lv)
        return 0;
    } else {
      return -EINVAL;
    }
  }
  return 1;
}

static inline int has_verb(const kapi_obj *verbs, const char *verb)
{
  size_t i, n = api->obj_len(verbs);
  for (i = 0; i < n; i++)
    if (streq(api->obj_get(api->obj_index(verbs, i), ""), verb))
      return 1;
  return 0;
}

/* ---- building request bodies ---------------------------------------------- */

/* A growing text buffer, NUL-terminated once non-empty.  `s` is the
 * owner's to free().  Appending never fails on the spot: an allocation
 * failure sets `oom`, later appends do nothing, and the caller checks
 * `oom` once before sending. */
typedef struct buf {
  char *s;
  size_t len, cap;
  int oom;
} buf;

static inline void buf_add(buf *b, const char *s, size_t n)
{
  if (b->oom)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    char *p;
    while (cap < b->len + n + 1)
      cap *= 2;
    if (!(p = realloc(b->s, cap))) {
      b->oom = 1;
      return;
    }
    b->s = p;
    b->cap = cap;
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

static inline void buf_puts(buf *b, const char *s)
{
  buf_add(b, s, strlen(s));
}

static inline void buf_printf(buf *b, const char *fmt, ...) KAPI_PRINTF(2, 3);
static inline void buf_printf(buf *b, const char *fmt, ...)
{
  char tmp[512], *big = NULL;
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if ((size_t)n < sizeof tmp) {
    buf_add(b, tmp, n);
    return;
  }
  /* Rare (long names): format again into memory of the right size. */
  va_start(ap, fmt);
  n = vasprintf(&big, fmt, ap);
  va_end(ap);
  if (n >= 0)
    buf_add(b, big, n);
  free(big);
}

/* A JSON string literal; NULL is written as "". */
static inline void buf_json_str(buf *b, const char *s)
{
  const unsigned char *p = (const unsigned char *)(s ? s : "");
  buf_add(b, "\"", 1);
  for (; *p; p++) {
    if (*p == '"' || *p == '\\') {
      char esc[2] = {'\\', (char)*p};
      buf_add(b, esc, 2);
    } else if (*p < 0x20) {
      buf_printf(b, "\\u%04x", *p);
    } else {
      buf_add(b, (const char *)p, 1);
    }
  }
  buf_add(b, "\"", 1);
}

/* ---- talking to the API server ------------------------------------------- */

/* A request to the API server (api->api_request; method, path, ct and
 * body are borrowed).  On success *ret (ret may be NULL: the answer is
 * freed) takes the answer, the caller's to api->obj_free.  On failure
 * *ret is NULL and *status (status may be NULL) takes the Status the
 * server sent, if any, also the caller's.  Returns 0 or -errno. */
static inline int ctl_call(const char *method, const char *path,
                           const char *ct, const char *body, kapi_obj **ret,
                           kapi_obj **status)
{
  kapi_obj *out = NULL;
  int rc = api->api_request(method, path, ct, body, &out, NULL);

  if (status)
    *status = NULL;
  if (rc < 0) {
    if (status)
      *status = out;
    else if (out)
      api->obj_free(out);
    out = NULL;
  }
  if (ret)
    *ret = out;
  else if (out)
    api->obj_free(out);
  return rc;
}

/* ctl_call for callers that want a failure as text: `msg` (may be NULL,
 * `len` bytes) gets the Status message or strerror(-rc), and
 * *terminating (may be NULL) whether a cause says the namespace is being
 * terminated. */
static inline int ctl_request(const char *method, const char *path,
                              const char *ct, const char *body,
                              kapi_obj **ret, char *msg, size_t len,
                              int *terminating)
{
  kapi_obj *st = NULL;
  int rc = ctl_call(method, path, ct, body, ret, &st);

  if (terminating)
    *terminating = 0;
  if (rc < 0) {
    const char *m = str_at(st, "/message");
    const kapi_obj *causes = api->obj_lookup(st, "/details/causes");
    size_t i, n = api->obj_len(causes);
    if (msg)
      snprintf(msg, len, "%s", m ? m : strerror(-rc));
    for (i = 0; terminating && i < n; i++)
      if (streq(member_str(api->obj_index(causes, i), "reason"),
                NS_TERMINATING_CAUSE))
        *terminating = 1;
  }
  if (st)
    api->obj_free(st);
  return rc;
}

/* The discovery path of a group version: /api/V for the core group ("")
 * and /apis/G/V for the others.  Returns what snprintf does. */
static inline int gv_path(char *out, size_t len, const char *group,
                          const char *version)
{
  if (*group)
    return snprintf(out, len, "/apis/%s/%s", group, version);
  return snprintf(out, len, "/api/%s", version);
}

/* ---- plugin lifecycle ------------------------------------------------------ */

/* An integer setting `name` of the plugin configuration (a JSON text of
 * `len` bytes, may be NULL), or `dflt` when absent, not a positive int
 * or not in a JSON object.  The host parses the text (obj_parse, ABI
 * 1.2; ctl_plugin_init checks for it); the settings are top-level
 * members. */
static inline int config_int(const char *json, size_t len, const char *name,
                             int dflt)
{
  kapi_obj *cfg = NULL;
  int64_t v;
  int ret = dflt;

  if (!json || !len || api->obj_parse(json, len, &cfg, NULL) < 0)
    return dflt;
  if (api->obj_int(member(cfg, name), &v) == 0 && v > 0 && v <= INT_MAX)
    ret = (int)v;
  api->obj_free(cfg);
  return ret;
}

/* What a controller plugin registers; every pointer must outlive the
 * plugin (static data). */
typedef struct ctl_plugin_spec {
  const char *name;    /* controller name for --controllers */
  const char *who;     /* subject of "WHO needs a host API of ABI 1.x" */
  int needs_cache_key; /* the plugin uses api->obj_cache_key */
  const kapi_controller_ops *ops;
  void *state;         /* handed to the ops */
  int *workers;        /* gets "concurrentSyncs", else default_workers */
  int default_workers;
} ctl_plugin_spec;

/* The init of every controller plugin: keeps `host` and `p` in `api` and
 * `self`, refuses a host without the 1.1 members the plugin uses (or,
 * given a configuration, without obj_parse), reads its worker count from
 * `config` (`config_len` bytes, borrowed) and registers the controller.
 * Errors go to `e`. */
static inline int ctl_plugin_init(kapi_plugin *p, const kapi_host_api *host,
                                  const char *config, size_t config_len,
                                  kapi_error *e, const ctl_plugin_spec *spec)
{
  api = host;
  self = p;
  if (!KAPI_API_HAS(api, register_controller) ||
      (spec->needs_cache_key && !KAPI_API_HAS(api, obj_cache_key))) {
    api->error_set(e, 500, "InternalError",
                   "%s needs a host API of ABI 1.1", spec->who);
    return -ENOTSUP;
  }
  /* Plugins load only into hosts of their ABI minor or newer, but the
   * ABI asks to test members newer than 1.0 all the same. */
  if (config && config_len && !KAPI_API_HAS(api, obj_parse)) {
    api->error_set(e, 500, "InternalError",
                   "%s needs a host API of ABI 1.2 (obj_parse) to read its "
                   "configuration", spec->who);
    return -ENOTSUP;
  }
  *spec->workers = config_int(config, config_len, "concurrentSyncs",
                              spec->default_workers);
  return api->register_controller(p, spec->name, spec->ops, spec->state);
}

#endif
