/*
 * abi-1-0.c - fixture: a working admission plugin as ABI 1.0 built it.
 * Expected: it loads into a newer 1.x server, and its decisions apply.
 *
 * A plugin compiled against kapi 1.0 carries abi_minor 0, a descriptor
 * and ops tables of 1.0's sizes, and calls only the host functions 1.0
 * had.  This file is compiled against today's header, so it states all
 * of that by hand instead of through KAPI_PLUGIN_DEFINE (which stamps
 * the current minor), and HOST() refuses at compile time any host member
 * that 1.0 did not have.
 *
 * Component "Abi10" (descriptor "abi-1-0": an AdmissionConfiguration
 * entry named Abi10 configures it), CREATE only:
 *  - admit: on pods, sets the annotation "abi-1-0.kapi.io/host-abi" to
 *    the host's ABI as the table reports it ("1.2"), and, when the
 *    configuration is {"annotation": "VALUE"}, "abi-1-0.kapi.io/config"
 *    to VALUE;
 *  - validate: refuses a pod labelled abi-1-0=deny with 403 and
 *    `pods "NAME" is forbidden: the ABI 1.0 plugin refuses pods labelled
 *    abi-1-0=deny`.
 *
 * cc -std=c11 -shared -fPIC -fvisibility=hidden -I include \
 *    -o tests/plugins/abi-1-0.so tests/plugins/abi-1-0.c
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kapi/plugin.h"

/* ---- the 1.0 layout -------------------------------------------------- */

/* 1.0's host table ended with format_age. */
#define HOST_API_1_0_SIZE                                                  \
  (offsetof(kapi_host_api, format_age) + sizeof(void (*)(void)))
/* 1.0's admission ops: size, handles, admit, validate. */
#define ADMISSION_OPS_1_0_SIZE                                             \
  (offsetof(kapi_admission_ops, validate) + sizeof(void (*)(void)))
/* 1.0's descriptor: everything up to reserved[8]. */
#define PLUGIN_DESC_1_0_SIZE                                               \
  (offsetof(kapi_plugin_desc, reserved) + 8 * sizeof(uint64_t))

/* api->m, only for members inside the 1.0 table. */
#define HOST(m)                                                            \
  (*({                                                                     \
    _Static_assert(offsetof(kapi_host_api, m) < HOST_API_1_0_SIZE,         \
                   "kapi_host_api." #m " is newer than ABI 1.0");          \
    &api->m;                                                               \
  }))

static const kapi_host_api *api;
static char host_abi[16];
static char config_annotation[128];

/* ---- admission ---------------------------------------------------------- */

static int is_pod(const kapi_req *r)
{
  const char *resource = HOST(req_get)(r, "resource");
  const char *group = HOST(req_get)(r, "apiGroup");

  return resource && !strcmp(resource, "pods") && (!group || !*group);
}

static int admit(void *st, kapi_req *r, kapi_obj *obj, kapi_error *e)
{
  int rc;

  (void)st, (void)e;
  if (!obj || !is_pod(r))
    return 0;
  rc = HOST(obj_set_str)(obj, "/metadata/annotations/abi-1-0.kapi.io~1host-abi",
                         host_abi);
  if (rc == 0 && config_annotation[0])
    rc = HOST(obj_set_str)(obj,
                           "/metadata/annotations/abi-1-0.kapi.io~1config",
                           config_annotation);
  return rc;
}

static int validate(void *st, const kapi_req *r, const kapi_obj *obj,
                    kapi_error *e)
{
  const char *label, *name;

  (void)st;
  if (!obj || !is_pod(r))
    return 0;
  label = HOST(obj_get)(obj, "/metadata/labels/abi-1-0");
  if (!label || strcmp(label, "deny"))
    return 0;
  name = HOST(obj_get)(obj, "/metadata/name");
  HOST(error_set)(e, 403, "Forbidden",
                  "pods \"%s\" is forbidden: the ABI 1.0 plugin refuses pods "
                  "labelled abi-1-0=deny", name ? name : "");
  return -EPERM;
}

static const kapi_admission_ops ops = {
  .size = ADMISSION_OPS_1_0_SIZE,
  .handles = KAPI_OP_CREATE,
  .admit = admit,
  .validate = validate,
};

/* ---- configuration: {"annotation": "VALUE"}, read by hand --------------- */

/* The position of needle in the first len bytes of s, or NULL. */
static const char *find(const char *s, size_t len, const char *needle)
{
  size_t n = strlen(needle), i;

  for (i = 0; i + n <= len; i++)
    if (!memcmp(s + i, needle, n))
      return s + i;
  return NULL;
}

static void read_config(const char *json, size_t len)
{
  static const char key[] = "\"annotation\"";
  const char *end = json + len, *p, *q;

  config_annotation[0] = '\0';
  if (!json || !(p = find(json, len, key)))
    return;
  p += sizeof key - 1;
  while (p < end && (*p == ' ' || *p == ':'))
    p++;
  if (p >= end || *p++ != '"')
    return;
  q = find(p, (size_t)(end - p), "\"");
  if (q && (size_t)(q - p) < sizeof config_annotation) {
    memcpy(config_annotation, p, (size_t)(q - p));
    config_annotation[q - p] = '\0';
  }
}

static int init(kapi_plugin *self, const kapi_host_api *a, const char *cfg,
                size_t len, kapi_error *e)
{
  api = a;
  /* What a 1.0 plugin could check: the table is at least 1.0's. */
  if (api->size < HOST_API_1_0_SIZE) {
    HOST(error_set)(e, 500, "InternalError",
                    "host table too small: %u bytes, need %zu",
                    (unsigned)api->size, (size_t)HOST_API_1_0_SIZE);
    return -EINVAL;
  }
  snprintf(host_abi, sizeof host_abi, "%u.%u", (unsigned)api->abi_major,
           (unsigned)api->abi_minor);
  read_config(cfg, len);
  HOST(log)(self, 1, "abi-1-0: host ABI %s", host_abi);
  return HOST(register_admission)(self, "Abi10", &ops, NULL, NULL);
}

KAPI_EXPORT const kapi_plugin_desc *kapi_plugin_describe(void);
const kapi_plugin_desc *kapi_plugin_describe(void)
{
  static const kapi_plugin_desc d = {
    .magic = KAPI_PLUGIN_MAGIC,
    .size = PLUGIN_DESC_1_0_SIZE,
    .abi_major = 1,
    .abi_minor = 0,
    .ptr_size = sizeof(void *),
    .name = "abi-1-0",
    .version = "1.0.0",
    .description = "test fixture: an admission plugin built for ABI 1.0",
    .license = "Apache-2.0",
    .init = init,
  };
  return &d;
}
