/*
 * default_toleration_seconds.c - the DefaultTolerationSeconds admission
 * plugin.
 *
 * Upstream: plugin/pkg/admission/defaulttolerationseconds/admission.go.
 * Every pod (create and update, not subresources) that does not already
 * tolerate the NoExecute taints node.kubernetes.io/not-ready and
 * node.kubernetes.io/unreachable gets a toleration for each, operator
 * Exists, with tolerationSeconds 300 by default: the pod is evicted five
 * minutes after its node stops being ready or reachable, not at once.
 * A toleration tolerates them when its key is the taint's or empty and
 * its effect is NoExecute or empty.
 *
 * Upstream sets the two durations with kube-apiserver's flags
 * --default-not-ready-toleration-seconds and
 * --default-unreachable-toleration-seconds; kapi-apiserver passes them
 * as this plugin's configuration:
 *   {"defaultNotReadyTolerationSeconds": N,
 *    "defaultUnreachableTolerationSeconds": N}
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kapi/plugin.h"

#define NOT_READY_TAINT "node.kubernetes.io/not-ready"
#define UNREACHABLE_TAINT "node.kubernetes.io/unreachable"
#define DEFAULT_SECONDS 300

static const kapi_host_api *api;

/* Read-only after init: the request path only reads it. */
typedef struct dts_config {
  int64_t not_ready_seconds;
  int64_t unreachable_seconds;
} dts_config;

static int nonempty(const char *s)
{
  return s && *s;
}

/* Does this toleration (key, effect) tolerate taint `taint`:NoExecute? */
static int tolerates(const char *key, const char *effect, const char *taint)
{
  return (!nonempty(key) || !strcmp(key, taint)) &&
         (!nonempty(effect) || !strcmp(effect, "NoExecute"));
}

/* The two tolerations, built at init from the configuration and copied
 * into each pod (ABI 1.3's obj_set_copy: a copy costs less than a
 * parse). */
static kapi_obj *not_ready_tpl, *unreachable_tpl;

/* The toleration of taint:NoExecute for `seconds`; NULL when out of
 * memory. */
static kapi_obj *toleration_of(const char *taint, int64_t seconds)
{
  char json[256];
  kapi_obj *t = NULL;

  snprintf(json, sizeof json,
           "{\"key\":\"%s\",\"operator\":\"Exists\",\"effect\":\"NoExecute\","
           "\"tolerationSeconds\":%lld}",
           taint, (long long)seconds);
  return api->obj_parse(json, strlen(json), &t, NULL) == 0 ? t : NULL;
}

static int dts_admit(void *st, kapi_req *r, kapi_obj *pod, kapi_error *e)
{
  const char *group = api->req_get(r, "apiGroup");
  const char *resource = api->req_get(r, "resource");
  const kapi_obj *tolerations;
  int not_ready = 0, unreachable = 0, rc = 0;
  size_t i, n;

  (void)st;
  if (!pod || nonempty(group) || !resource || strcmp(resource, "pods") ||
      nonempty(api->req_get(r, "subresource")))
    return 0;

  tolerations = api->obj_lookup(pod, "/spec/tolerations");
  n = api->obj_type(tolerations) == KAPI_OBJ_ARRAY ? api->obj_len(tolerations)
                                                   : 0;
  for (i = 0; i < n; i++) {
    const kapi_obj *t = api->obj_index(tolerations, i);
    const char *key = api->obj_get(t, "/key");
    const char *effect = api->obj_get(t, "/effect");
    not_ready |= tolerates(key, effect, NOT_READY_TAINT);
    unreachable |= tolerates(key, effect, UNREACHABLE_TAINT);
  }
  if (not_ready && unreachable)
    return 0;
  /* A null or absent list becomes a list to append to. */
  if (api->obj_type(tolerations) != KAPI_OBJ_ARRAY)
    rc = api->obj_set_json(pod, "/spec/tolerations", "[]");
  if (rc == 0 && !not_ready)
    rc = api->obj_set_copy(pod, "/spec/tolerations/-", not_ready_tpl);
  if (rc == 0 && !unreachable)
    rc = api->obj_set_copy(pod, "/spec/tolerations/-", unreachable_tpl);
  if (rc < 0)
    api->error_set(e, 500, "InternalError",
                   "Internal error occurred: adding default tolerations: %s",
                   strerror(-rc));
  return rc;
}

/* ------------------------------------------------------------------ */
/* Configuration: the host parses the JSON text (obj_parse, ABI 1.2);  */
/* the plugin only reads the two keys from the value.                  */
/* ------------------------------------------------------------------ */

/* Reads the integer member `key` of `cfg` into *out, which keeps its
 * default when the key is absent; -EINVAL when it is not an integer. */
static int read_seconds(const kapi_obj *cfg, const char *key, int64_t *out)
{
  const kapi_obj *v = api->obj_lookup(cfg, key);

  return !v || api->obj_int(v, out) == 0 ? 0 : -EINVAL;
}

/* Parses the configuration into *c (keys it does not know are ignored,
 * a JSON null is no configuration); -EINVAL when it is not an object or
 * one of the two durations is not an integer. */
static int parse_config(const char *json, size_t len, dts_config *c)
{
  kapi_obj *cfg = NULL;
  int rc = 0;

  if (api->obj_parse(json, len, &cfg, NULL) < 0)
    return -EINVAL;
  if (api->obj_type(cfg) == KAPI_OBJ_OBJECT) {
    if (read_seconds(cfg, "/defaultNotReadyTolerationSeconds",
                     &c->not_ready_seconds) < 0 ||
        read_seconds(cfg, "/defaultUnreachableTolerationSeconds",
                     &c->unreachable_seconds) < 0)
      rc = -EINVAL;
  } else if (api->obj_type(cfg) != KAPI_OBJ_NULL) {
    rc = -EINVAL;
  }
  api->obj_free(cfg);
  return rc;
}

static const kapi_admission_ops dts_ops = {
    .size = sizeof(kapi_admission_ops),
    .handles = KAPI_OP_CREATE | KAPI_OP_UPDATE,
    .admit = dts_admit,
};

static void dts_fini(kapi_plugin *self)
{
  (void)self;
  api->obj_free(not_ready_tpl);
  api->obj_free(unreachable_tpl);
  not_ready_tpl = unreachable_tpl = NULL;
}

static int dts_init(kapi_plugin *self, const kapi_host_api *host,
                    const char *json, size_t len, kapi_error *e)
{
  dts_config c = {DEFAULT_SECONDS, DEFAULT_SECONDS};

  api = host;
  /* Plugins load only into hosts of their ABI minor or newer, but the
   * ABI asks to test members newer than 1.0 all the same. */
  if (!KAPI_API_HAS(api, obj_parse) || !KAPI_API_HAS(api, obj_set_copy)) {
    api->error_set(e, 500, "InternalError",
                   "DefaultTolerationSeconds needs a host API of ABI 1.3 "
                   "(obj_parse, obj_set_copy)");
    return -ENOTSUP;
  }
  if (json && len && parse_config(json, len, &c) < 0) {
    api->error_set(e, 500, "InternalError",
                   "invalid configuration: expected "
                   "{\"defaultNotReadyTolerationSeconds\": <integer>, "
                   "\"defaultUnreachableTolerationSeconds\": <integer>}");
    return -EINVAL;
  }
  not_ready_tpl = toleration_of(NOT_READY_TAINT, c.not_ready_seconds);
  unreachable_tpl = toleration_of(UNREACHABLE_TAINT, c.unreachable_seconds);
  if (!not_ready_tpl || !unreachable_tpl) {
    dts_fini(self);
    return -ENOMEM;
  }
  return api->register_admission(self, "DefaultTolerationSeconds", &dts_ops,
                                 NULL, NULL);
}

KAPI_PLUGIN_DEFINE(.name = "default-toleration-seconds", .version = "0.1.0",
                   .description = "DefaultTolerationSeconds admission: "
                                  "pods tolerate not-ready and unreachable "
                                  "nodes for a while",
                   .license = "Apache-2.0", .init = dts_init,
                   .fini = dts_fini);
