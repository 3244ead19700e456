/*
 * default_binder.c - the DefaultBinder Bind plugin.
 *
 * Upstream: pkg/scheduler/framework/plugins/defaultbinder/
 * default_binder.go.  Binds by creating the pod's binding subresource:
 *
 *   POST /api/v1/namespaces/NS/pods/NAME/binding
 *   {"apiVersion":"v1","kind":"Binding",
 *    "metadata":{"name":NAME,"namespace":NS,"uid":UID},
 *    "target":{"kind":"Node","name":NODE}}
 *
 * The uid makes the API server refuse to bind a pod that was deleted and
 * re-created under the same name meanwhile.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapi/plugin.h"

static const kapi_host_api *api;

/* Appends s as a JSON string; returns the new length or -1 if too long. */
static int put_json_string(char *buf, size_t len, size_t o, const char *s)
{
  static const char hex[] = "0123456789abcdef";

  if (o + 1 >= len)
    return -1;
  buf[o++] = '"';
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (o + 7 >= len)
      return -1;
    if (c == '"' || c == '\\') {
      buf[o++] = '\\';
      buf[o++] = (char)c;
    } else if (c < 0x20) {
      buf[o++] = '\\';
      buf[o++] = 'u';
      buf[o++] = '0';
      buf[o++] = '0';
      buf[o++] = hex[c >> 4];
      buf[o++] = hex[c & 15];
    } else {
      buf[o++] = (char)c;
    }
  }
  if (o + 2 >= len)
    return -1;
  buf[o++] = '"';
  buf[o] = '\0';
  return (int)o;
}

/* Appends literal text. */
static int put(char *buf, size_t len, int o, const char *text)
{
  size_t n = strlen(text);

  if (o < 0 || (size_t)o + n + 1 >= len)
    return -1;
  memcpy(buf + o, text, n + 1);
  return o + (int)n;
}

static int binding_body(char *buf, size_t len, const char *ns,
                        const char *name, const char *uid, const char *node)
{
  int o = put(buf, len, 0, "{\"apiVersion\":\"v1\",\"kind\":\"Binding\","
                           "\"metadata\":{\"name\":");
  if (o >= 0)
    o = put_json_string(buf, len, (size_t)o, name);
  o = put(buf, len, o, ",\"namespace\":");
  if (o >= 0)
    o = put_json_string(buf, len, (size_t)o, ns);
  if (uid && *uid) {
    o = put(buf, len, o, ",\"uid\":");
    if (o >= 0)
      o = put_json_string(buf, len, (size_t)o, uid);
  }
  o = put(buf, len, o, "},\"target\":{\"kind\":\"Node\",\"name\":");
  if (o >= 0)
    o = put_json_string(buf, len, (size_t)o, node);
  return put(buf, len, o, "}}");
}

static kapi_code binder_bind(void *st, kapi_cycle *cs, const kapi_obj *pod,
                             const char *node, kapi_sched_status *s)
{
  const char *ns = api->obj_get(pod, "/metadata/namespace");
  const char *name = api->obj_get(pod, "/metadata/name");
  const char *uid = api->obj_get(pod, "/metadata/uid");
  char path[1024], body[2048];
  kapi_obj *ret = NULL;
  const char *msg;
  int r;

  (void)st;
  (void)cs;
  if (!ns || !*ns)
    ns = "default";
  if (!name || snprintf(path, sizeof path,
                        "/api/v1/namespaces/%s/pods/%s/binding", ns, name) >=
                   (int)sizeof path ||
      binding_body(body, sizeof body, ns, name, uid, node) < 0) {
    api->sched_reason(s, "cannot build the binding of the pod");
    return KAPI_ERROR;
  }
  r = api->api_request("POST", path, "application/json", body, &ret, NULL);
  if (r == 0) {
    api->obj_free(ret);
    return KAPI_SUCCESS;
  }
  /* The daemon hands back the Status of a failed request. */
  msg = api->obj_get(ret, "/message");
  if (msg && *msg)
    api->sched_reason(s, "%s", msg);
  else
    api->sched_reason(s, "binding %s/%s to %s failed: %s", ns, name, node,
                      strerror(-r));
  api->obj_free(ret);
  return KAPI_ERROR;
}

static const kapi_sched_ops default_binder_ops = {
    .size = sizeof(kapi_sched_ops),
    .bind = binder_bind,
};

static int default_binder_init(kapi_plugin *self, const kapi_host_api *host,
                               const char *config, size_t config_len,
                               kapi_error *e)
{
  (void)config;
  (void)config_len;
  (void)e;
  api = host;
  if (!KAPI_API_HAS(api, register_sched) || !KAPI_API_HAS(api, api_request))
    return -ENOSYS;
  return api->register_sched(self, "DefaultBinder", &default_binder_ops, NULL,
                             NULL);
}

KAPI_PLUGIN_DEFINE(.name = "default-binder", .version = "0.1.0",
                   .description = "DefaultBinder: binds pods through the "
                                  "pods/binding subresource",
                   .license = "Apache-2.0", .init = default_binder_init);
