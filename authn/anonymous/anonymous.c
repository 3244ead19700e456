/*
 * anonymous.c - the Anonymous authenticator.
 *
 * Upstream: staging/src/k8s.io/apiserver/pkg/authentication/request/
 * anonymous.  A request no other authenticator claimed is served as
 * system:anonymous in group system:unauthenticated (authorization then
 * decides what that user may do).  It runs last so it never hides a real
 * identity.
 *
 * Configuration: {"enabled": false} turns it off (the plugin then
 * registers nothing, like kube-apiserver --anonymous-auth=false).
 */
#include <errno.h>
#include <string.h>

#include "kapi/plugin.h"

static const kapi_host_api *api;

static int anonymous_authenticate(void *st, const kapi_req *r,
                                  kapi_obj *user, kapi_error *e)
{
  int rc;

  (void)st;
  (void)r;
  rc = api->obj_set_str(user, "/username", "system:anonymous");
  if (rc == 0)
    rc = api->obj_set_json(user, "/groups", "[\"system:unauthenticated\"]");
  if (rc < 0) {
    api->error_set(e, 500, "InternalError",
                   "Internal error occurred: anonymous user: %s",
                   strerror(-rc));
    return rc;
  }
  return 1;
}

/* ------------------------------------------------------------------ */
/* Configuration: the ABI hands plugins their configuration as JSON    */
/* text and offers no parser, so a small scanner reads the one key.    */
/* ------------------------------------------------------------------ */

typedef struct scan {
  const char *p, *end;
} scan;

static void skip_space(scan *s)
{
  while (s->p < s->end && strchr(" \t\r\n", *s->p))
    s->p++;
}

/* Skips a JSON string; *is_want tells whether its text is `want`. */
static int skip_string(scan *s, const char *want, int *is_want)
{
  const char *start = ++s->p;

  while (s->p < s->end && *s->p != '"')
    s->p += *s->p == '\\' ? 2 : 1;
  if (s->p >= s->end)
    return -EINVAL;
  if (is_want)
    *is_want = want && (size_t)(s->p - start) == strlen(want) &&
               !strncmp(start, want, strlen(want));
  s->p++;
  return 0;
}

/* Skips one JSON value: a string, an object or array (by bracket depth,
 * with strings skipped whole), or a bare number or literal. */
static int skip_value(scan *s)
{
  int depth = 0;

  if (s->p < s->end && !strchr("\"{[", *s->p)) {
    while (s->p < s->end && !strchr(",}] \t\r\n", *s->p))
      s->p++;
    return 0;
  }
  do {
    if (s->p >= s->end)
      return -EINVAL;
    if (*s->p == '"') {
      if (skip_string(s, NULL, NULL) < 0)
        return -EINVAL;
      continue;
    }
    if (*s->p == '{' || *s->p == '[')
      depth++;
    else if (*s->p == '}' || *s->p == ']')
      depth--;
    s->p++;
  } while (depth > 0);
  return 0;
}

/* Reads the literal true or false. */
static int read_bool(scan *s)
{
  if ((size_t)(s->end - s->p) >= 4 && !strncmp(s->p, "true", 4)) {
    s->p += 4;
    return 1;
  }
  if ((size_t)(s->end - s->p) >= 5 && !strncmp(s->p, "false", 5)) {
    s->p += 5;
    return 0;
  }
  return -EINVAL;
}

/*
 * Reads "enabled" from the configuration object: 1 (the default), 0, or
 * -EINVAL when the text is not an object or "enabled" is not a boolean.
 */
static int config_enabled(const char *json, size_t len)
{
  scan s = {json, json + len};
  int is_enabled, enabled = 1;

  if (!json || !len)
    return 1;
  skip_space(&s);
  if (s.p >= s.end || *s.p++ != '{')
    return -EINVAL;
  for (;;) {
    skip_space(&s);
    if (s.p < s.end && *s.p == '}')
      return enabled;
    if (s.p >= s.end || *s.p != '"' ||
        skip_string(&s, "enabled", &is_enabled) < 0)
      return -EINVAL;
    skip_space(&s);
    if (s.p >= s.end || *s.p++ != ':')
      return -EINVAL;
    skip_space(&s);
    if (is_enabled) {
      enabled = read_bool(&s);
      if (enabled < 0)
        return enabled;
    } else if (skip_value(&s) < 0) {
      return -EINVAL;
    }
    skip_space(&s);
    if (s.p < s.end && *s.p == ',')
      s.p++;
  }
}

static const kapi_authn_ops anonymous_ops = {
    .size = sizeof(kapi_authn_ops),
    .authenticate = anonymous_authenticate,
};

static int anonymous_init(kapi_plugin *self, const kapi_host_api *host,
                          const char *config, size_t config_len,
                          kapi_error *e)
{
  static const kapi_order last = {.priority = KAPI_ORDER_LAST};
  int enabled;

  api = host;
  enabled = config_enabled(config, config_len);
  if (enabled < 0) {
    api->error_set(e, 500, "InternalError",
                   "invalid configuration: expected {\"enabled\": true|false}");
    return enabled;
  }
  if (!enabled)
    return 0;
  return api->register_authn(self, "Anonymous", &anonymous_ops, NULL, &last);
}

KAPI_PLUGIN_DEFINE(.name = "anonymous", .version = "0.1.0",
                   .description = "Anonymous authenticator: unclaimed "
                                  "requests are system:anonymous",
                   .license = "Apache-2.0", .init = anonymous_init);
