/*
 * test_pod_security.c - the PodSecurity admission plugin, without a
 * server.
 *
 * The plugin's sources are compiled into this test and driven through a
 * small fake kapi_host_api: its object accessors are the host's JSON
 * (kapi/json.h from libkapi), its store is a few namespaces and pods
 * given as JSON, and it records what the plugin hands back (the error,
 * warnings, audit annotations).  The tests cover:
 *
 *  - every baseline and restricted check, refused and accepted, with
 *    upstream's reason and detail text, and the version gates;
 *  - the order of checks (upstream sorts by check ID) and the overrides
 *    of baseline checks by restricted ones;
 *  - namespace labels and the PodSecurityConfiguration, with upstream's
 *    error messages;
 *  - the admission flow: enforce (403), warn (Warning), audit
 *    (annotations), exemptions, pod updates, subresources, workloads,
 *    and namespace label changes (422, warnings about existing pods).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kapi/json.h"
#include "kapi/plugin.h"

#include "../../admission/pod-security/psa_internal.h"

/* The plugin's descriptor (pod_security.c, compiled into this test). */
const kapi_plugin_desc *kapi_plugin_describe(void);

/* ---- the fake host ------------------------------------------------------ */

#define MAX_TEXT 8192
#define MAX_WARNINGS 16

struct kapi_error {
  int code;
  char reason[64];
  char message[MAX_TEXT];
  int n_causes;
  char cause_field[8][160];
  char cause_message[8][512];
};

struct kapi_req {
  const char *attrs[16][2]; /* key, value; NULL-terminated */
  kj *obj, *old;            /* owned */
  int n_warnings;
  char warnings[MAX_WARNINGS][MAX_TEXT];
  kj *annotations; /* owned */
};

static kj *namespaces; /* name -> Namespace, owned */
static kj *pods;       /* array of Pods, owned */
static int store_list_calls;

static const kapi_admission_ops *ops; /* what the plugin registered */
static void *ops_st;

static const kapi_obj *f_obj_lookup(const kapi_obj *o, const char *ptr)
{
  return o ? kj_ptr(o, ptr ? ptr : "") : NULL;
}

static kapi_obj_type f_obj_type(const kapi_obj *o)
{
  return o ? (kapi_obj_type)o->type : KAPI_OBJ_NONE;
}

static const char *f_obj_get(const kapi_obj *o, const char *ptr)
{
  const kj *v = f_obj_lookup(o, ptr);

  if (!v)
    return NULL;
  if (v->type == KJ_STRING || v->type == KJ_NUMBER)
    return v->u.str.s;
  if (v->type == KJ_BOOL)
    return v->u.boolean ? "true" : "false";
  return NULL;
}

static int f_obj_int(const kapi_obj *o, int64_t *out)
{
  return o ? kj_to_int(o, out) : -EINVAL;
}

static size_t f_obj_len(const kapi_obj *o)
{
  return kj_len(o);
}

static const kapi_obj *f_obj_index(const kapi_obj *o, size_t i)
{
  return kj_at(o, i);
}

static const char *f_obj_key(const kapi_obj *o, size_t i)
{
  return kj_key_at(o, i);
}

static void f_obj_free(kapi_obj *o)
{
  kj_free(o);
}

static int f_register_admission(kapi_plugin *p, const char *name,
                                const kapi_admission_ops *o, void *st,
                                const kapi_order *order)
{
  (void)p;
  (void)order;
  assert_string_equal(name, "PodSecurity");
  ops = o;
  ops_st = st;
  return 0;
}

static void f_error_set(kapi_error *e, int code, const char *reason,
                        const char *fmt, ...)
{
  va_list ap;

  e->code = code;
  snprintf(e->reason, sizeof e->reason, "%s", reason);
  va_start(ap, fmt);
  vsnprintf(e->message, sizeof e->message, fmt, ap);
  va_end(ap);
}

/* The host's obj_parse (core/lib/host_api.c), on the host's JSON. */
static int f_obj_parse(const char *json, size_t len, kapi_obj **ret,
                       kapi_error *e)
{
  char err[256];

  *ret = NULL;
  if (json && kj_parse(json, len, ret, err, sizeof err) == 0)
    return 0;
  if (e)
    f_error_set(e, 400, "BadRequest", "invalid JSON: %s",
                json ? err : "no text");
  return -EINVAL;
}

static void f_error_add_cause(kapi_error *e, const char *reason,
                              const char *message, const char *field)
{
  assert_string_equal(reason, "FieldValueInvalid");
  assert_true(e->n_causes < 8);
  snprintf(e->cause_field[e->n_causes], 160, "%s", field);
  snprintf(e->cause_message[e->n_causes], 512, "%s", message);
  e->n_causes++;
}

static void f_log(kapi_plugin *p, int level, const char *fmt, ...)
{
  (void)p;
  (void)level;
  (void)fmt;
}

static const char *f_req_get(const kapi_req *r, const char *key)
{
  for (size_t i = 0; r->attrs[i][0]; i++)
    if (!strcmp(r->attrs[i][0], key))
      return r->attrs[i][1];
  return NULL;
}

static const kapi_obj *f_req_old_object(const kapi_req *r)
{
  return r->old;
}

static int f_store_get(const char *group, const char *resource,
                       const char *ns, const char *name, kapi_obj **ret)
{
  kj *o;

  assert_string_equal(group, "");
  assert_string_equal(resource, "namespaces");
  assert_null(ns);
  o = kj_get(namespaces, name);
  if (!o)
    return -ENOENT;
  *ret = kj_clone(o);
  return 0;
}

static int f_store_list(const char *group, const char *resource,
                        const char *ns, const char *selector, kapi_obj **ret)
{
  kj *out = kj_array();

  assert_string_equal(group, "");
  assert_string_equal(resource, "pods");
  assert_null(selector);
  store_list_calls++;
  for (size_t i = 0; i < kj_len(pods); i++) {
    kj *p = kj_at(pods, i);

    if (!strcmp(f_obj_get(p, "/metadata/namespace"), ns))
      kj_append(out, kj_clone(p));
  }
  *ret = out;
  return 0;
}

static void f_req_warning(const kapi_req *r, const char *fmt, ...)
{
  kapi_req *w = (kapi_req *)r;
  va_list ap;

  assert_true(w->n_warnings < MAX_WARNINGS);
  va_start(ap, fmt);
  vsnprintf(w->warnings[w->n_warnings++], MAX_TEXT, fmt, ap);
  va_end(ap);
}

static void f_req_audit_annotation(const kapi_req *r, const char *key,
                                   const char *value)
{
  kapi_req *w = (kapi_req *)r;

  if (!w->annotations)
    w->annotations = kj_object();
  kj_set_str(w->annotations, key, value);
}

static const kapi_host_api fake_api = {
    .size = sizeof(kapi_host_api),
    .abi_major = KAPI_ABI_MAJOR,
    .abi_minor = KAPI_ABI_MINOR,
    .register_admission = f_register_admission,
    .error_set = f_error_set,
    .error_add_cause = f_error_add_cause,
    .log = f_log,
    .req_get = f_req_get,
    .req_old_object = f_req_old_object,
    .obj_lookup = f_obj_lookup,
    .obj_type = f_obj_type,
    .obj_get = f_obj_get,
    .obj_int = f_obj_int,
    .obj_len = f_obj_len,
    .obj_index = f_obj_index,
    .obj_key = f_obj_key,
    .obj_free = f_obj_free,
    .obj_parse = f_obj_parse,
    .store_get = f_store_get,
    .store_list = f_store_list,
    .req_warning = f_req_warning,
    .req_audit_annotation = f_req_audit_annotation,
};

static kj *parse(const char *json)
{
  char err[256];
  kj *v = NULL;

  if (kj_parse(json, strlen(json), &v, err, sizeof err) < 0)
    fail_msg("bad test JSON (%s): %s", err, json);
  return v;
}

/* ---- evaluating pods directly ------------------------------------------- */

static psa_lv lv_of(const char *s)
{
  psa_lv lv;
  char level[32];
  const char *colon = strchr(s, ':');

  snprintf(level, sizeof level, "%.*s", (int)(colon - s), s);
  assert_int_equal(psa_parse_level(level, &lv.level), 0);
  assert_int_equal(psa_parse_version(colon + 1, &lv.minor), 0);
  return lv;
}

/* The aggregated detail for pod `json` at "level:version", "" if allowed. */
static const char *detail_of(const char *lv, const char *json)
{
  static char out[MAX_TEXT];
  kj *pod = parse(json);
  psa_sb detail = {0}, reasons = {0};
  int failed = psa_evaluate(&fake_api, lv_of(lv), kj_ptr(pod, "/metadata"),
                            kj_ptr(pod, "/spec"), &detail, &reasons);

  assert_true(failed >= 0);
  assert_int_equal(failed == 0, detail.len == 0);
  assert_int_equal(failed == 0, reasons.len == 0);
  snprintf(out, sizeof out, "%s", psa_sb_str(&detail));
  psa_sb_free(&detail);
  psa_sb_free(&reasons);
  kj_free(pod);
  return out;
}

/* A container that meets the restricted level. */
#define GOOD_SC                                                              \
  "\"securityContext\":{\"allowPrivilegeEscalation\":false,"                 \
  "\"capabilities\":{\"drop\":[\"ALL\"]},\"runAsNonRoot\":true,"             \
  "\"seccompProfile\":{\"type\":\"RuntimeDefault\"}}"
#define GOOD_C(name) "{\"name\":\"" name "\",\"image\":\"i\"," GOOD_SC "}"

typedef struct pod_case {
  const char *what;
  const char *lv;
  const char *pod;
  const char *detail; /* "" = allowed */
} pod_case;

static const pod_case cases[] = {
    /* --- a restricted pod passes everything --- */
    {"restricted pod", "restricted:latest",
     "{\"spec\":{\"containers\":[" GOOD_C("c") "]}}", ""},
    {"empty spec", "restricted:latest", "{\"spec\":{}}", ""},
    {"no spec", "baseline:latest", "{}", ""},
    {"privileged level", "privileged:latest",
     "{\"spec\":{\"hostNetwork\":true,\"containers\":[{\"name\":\"c\","
     "\"securityContext\":{\"privileged\":true}}]}}",
     ""},

    /* --- hostNamespaces --- */
    {"host namespaces", "baseline:latest",
     "{\"spec\":{\"hostNetwork\":true,\"hostPID\":true,\"hostIPC\":false,"
     "\"containers\":[{\"name\":\"c\"}]}}",
     "host namespaces (hostNetwork, hostPID)"},
    {"host namespaces all", "baseline:latest",
     "{\"spec\":{\"hostNetwork\":true,\"hostPID\":true,\"hostIPC\":true}}",
     "host namespaces (hostIPC, hostNetwork, hostPID)"},
    {"host namespaces false", "baseline:latest",
     "{\"spec\":{\"hostNetwork\":false,\"hostPID\":false,\"hostIPC\":false}}",
     ""},

    /* --- privileged, over all three container lists --- */
    {"privileged", "baseline:latest",
     "{\"spec\":{\"initContainers\":[{\"name\":\"i\",\"securityContext\":"
     "{\"privileged\":true}}],\"containers\":[{\"name\":\"a\","
     "\"securityContext\":{\"privileged\":true}},{\"name\":\"b\","
     "\"securityContext\":{\"privileged\":false}}],\"ephemeralContainers\":"
     "[{\"name\":\"e\",\"securityContext\":{\"privileged\":true}}]}}",
     "privileged (containers \"i\", \"a\", \"e\" must not set "
     "securityContext.privileged=true)"},
    {"privileged one", "baseline:latest",
     "{\"spec\":{\"ephemeralContainers\":[{\"name\":\"e\","
     "\"securityContext\":{\"privileged\":true}}]}}",
     "privileged (container \"e\" must not set "
     "securityContext.privileged=true)"},
    {"privileged false or null", "baseline:latest",
     "{\"spec\":{\"containers\":[{\"name\":\"a\",\"securityContext\":"
     "{\"privileged\":false}},{\"name\":\"b\",\"securityContext\":"
     "{\"privileged\":null}},{\"name\":\"c\",\"securityContext\":null}]}}",
     ""},

    /* --- capabilities (baseline list) --- */
    {"capabilities baseline", "baseline:latest",
     "{\"spec\":{\"containers\":[{\"name\":\"c\",\"securityContext\":"
     "{\"capabilities\":{\"add\":[\"SYS_ADMIN\",\"CHOWN\",\"NET_RAW\"]}}},"
     "{\"name\":\"d\",\"securityContext\":{\"capabilities\":{\"add\":"
     "[\"NET_RAW\"]}}}]}}",
     "non-default capabilities (containers \"c\", \"d\" must not include "
     "\"NET_RAW\", \"SYS_ADMIN\" in securityContext.capabilities.add)"},
    {"capabilities baseline allowed", "baseline:latest",
     "{\"spec\":{\"containers\":[{\"name\":\"c\",\"securityContext\":"
     "{\"capabilities\":{\"add\":[\"AUDIT_WRITE\",\"CHOWN\",\"DAC_OVERRIDE\","
     "\"FOWNER\",\"FSETID\",\"KILL\",\"MKNOD\",\"NET_BIND_SERVICE\","
     "\"SETFCAP\",\"SETGID\",\"SETPCAP\",\"SETUID\",\"SYS_CHROOT\"],"
     "\"drop\":[\"NET_RAW\"]}}}]}}",
     ""},

    /* --- hostPath volumes --- */
    {"hostPath volumes", "baseline:latest",
     "{\"spec\":{\"volumes\":[{\"name\":\"a\",\"hostPath\":{\"path\":\"/\"}},"
     "{\"name\":\"b\",\"emptyDir\":{}},{\"name\":\"c\",\"hostPath\":"
     "{\"path\":\"/etc\"}}]}}",
     "hostPath volumes (volumes \"a\", \"c\")"},
    {"hostPath volume one", "baseline:latest",
     "{\"spec\":{\"volumes\":[{\"name\":\"a\",\"hostPath\":{\"path\":\"/\"}}"
     "]}}",
     "hostPath volumes (volume \"a\")"},
    {"other volumes at baseline", "baseline:latest",
     "{\"spec\":{\"volumes\":[{\"name\":\"n\",\"nfs\":{\"server\":\"s\","
     "\"path\":\"/\"}},{\"name\":\"x\"}]}}",
     ""},

    /* --- host ports: the ports are a sorted set of strings --- */
    {"host ports", "baseline:latest",
     "{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{"
     "\"containerPort\":80,\"hostPort\":8080},{\"containerPort\":81,"
     "\"hostPort\":10000}]},{\"name\":\"b\",\"ports\":[{\"containerPort\":80,"
     "\"hostPort\":8080}]},{\"name\":\"c\",\"ports\":[{\"containerPort\":80,"
     "\"hostPort\":0}]}]}}",
     "hostPort (containers \"a\", \"b\" use hostPorts 10000, 8080)"},
    {"host port one", "baseline:latest",
     "{\"spec\":{\"initContainers\":[{\"name\":\"a\",\"ports\":[{"
     "\"containerPort\":80,\"hostPort\":80}]}]}}",
     "hostPort (container \"a\" uses hostPort 80)"},
    {"no host port", "baseline:latest",
     "{\"spec\":{\"containers\":[{\"name\":\"a\",\"ports\":[{"
     "\"containerPort\":80}]}]}}",
     ""},

    /* --- AppArmor: fields and the beta annotations --- */
    {"apparmor", "baseline:latest",
     "{\"metadata\":{\"annotations\":{"
     "\"container.apparmor.security.beta.kubernetes.io/c\":\"unconfined\","
     "\"container.apparmor.security.beta.kubernetes.io/d\":\"localhost/x\"}},"
     "\"spec\":{\"securityContext\":{\"appArmorProfile\":{\"type\":"
     "\"Unconfined\"}},\"containers\":[{\"name\":\"c\",\"securityContext\":"
     "{\"appArmorProfile\":{\"type\":\"Unconfined\"}}},{\"name\":\"d\","
     "\"securityContext\":{\"appArmorProfile\":{\"type\":\"Localhost\","
     "\"localhostProfile\":\"p\"}}}]}}",
     "forbidden AppArmor profiles (pod and container \"c\" and annotation "
     "must not set AppArmor profile type to \"Unconfined\", "
     "\"container.apparmor.security.beta.kubernetes.io/c=\"unconfined\"\")"},
    {"apparmor container only", "baseline:latest",
     "{\"spec\":{\"containers\":[{\"name\":\"c\",\"securityContext\":"
     "{\"appArmorProfile\":{\"type\":\"Unconfined\"}}}]}}",
     "forbidden AppArmor profile (container \"c\" must not set AppArmor "
     "profile type to \"Unconfined\")"},
    {"apparmor allowed", "baseline:latest",
     "{\"metadata\":{\"annotations\":{"
     "\"container.apparmor.security.beta.kubernetes.io/c\":"
     "\"runtime/default\",\"container.apparmor.security.beta.kubernetes.io/d\""
     ":\"\",\"other\":\"unconfined\"}},\"spec\":{\"securityContext\":"
     "{\"appArmorProfile\":{\"type\":\"RuntimeDefault\"}}}}",
     ""},

    /* --- SELinux --- */
    {"selinux", "baseline:latest",
     "{\"spec\":{\"securityContext\":{\"seLinuxOptions\":{\"type\":\"spc_t\""
     "}},\"containers\":[{\"name\":\"c\",\"securityContext\":"
     "{\"seLinuxOptions\":{\"user\":\"u\",\"role\":\"r\",\"type\":"
     "\"container_t\"}}}]}}",
     "seLinuxOptions (pod and container \"c\" set forbidden "
     "securityContext.seLinuxOptions: type \"spc_t\"; user may not be set; "
     "role may not be set)"},
    {"selinux user only", "baseline:latest",
     "{\"spec\":{\"securityContext\":{\"seLinuxOptions\":{\"user\":\"u\"}}}}",
     "seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: user "
     "may not be set)"},
    {"selinux engine type latest", "baseline:latest",
     "{\"spec\":{\"securityContext\":{\"seLinuxOptions\":{\"type\":"
     "\"container_engine_t\",\"level\":\"s0:c1\"}}}}",
     ""},
    {"selinux engine type v1.30", "baseline:v1.30",
     "{\"spec\":{\"securityContext\":{\"seLinuxOptions\":{\"type\":"
     "\"container_engine_t\"}}}}",
     "seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type "
     "\"container_engine_t\")"},

    /* --- /proc mount --- */
    {"proc mount", "baseline:latest",
     "{\"spec\":{\"containers\":[{\"name\":\"c\",\"securityContext\":"
     "{\"procMount\":\"Unmasked\"}},{\"name\":\"d\",\"securityContext\":"
     "{\"procMount\":\"Default\"}}]}}",
     "procMount (container \"c\" must not set securityContext.procMount to "
     "\"Unmasked\")"},

    /* --- seccomp (baseline): fields since 1.19, annotations before --- */
    {"seccomp baseline", "baseline:latest",
     "{\"spec\":{\"securityContext\":{\"seccompProfile\":{\"type\":"
     "\"Unconfined\"}},\"containers\":[{\"name\":\"c\",\"securityContext\":"
     "{\"seccompProfile\":{\"type\":\"Unconfined\"}}},{\"name\":\"d\","
     "\"securityContext\":{\"seccompProfile\":{\"type\":\"Localhost\"}}}]}}",
     "seccompProfile (pod and container \"c\" must not set "
     "securityContext.seccompProfile.type to \"Unconfined\")"},
    {"seccomp baseline unset", "baseline:latest",
     "{\"spec\":{\"containers\":[{\"name\":\"c\"}]}}", ""},
    {"seccomp annotations v1.18", "baseline:v1.18",
     "{\"metadata\":{\"annotations\":{"
     "\"seccomp.security.alpha.kubernetes.io/pod\":\"unconfined\","
     "\"container.seccomp.security.alpha.kubernetes.io/c\":\"docker/default\""
     ",\"container.seccomp.security.alpha.kubernetes.io/d\":\"bad\"}},"
     "\"spec\":{\"containers\":[{\"name\":\"c\"},{\"name\":\"d\"}]}}",
     "seccompProfile (forbidden annotations "
     "container.seccomp.security.alpha.kubernetes.io/d=\"bad\", "
     "seccomp.security.alpha.kubernetes.io/pod=\"unconfined\")"},

    /* --- sysctls: the safe set by version --- */
    {"sysctls", "baseline:latest",
     "{\"spec\":{\"securityContext\":{\"sysctls\":[{\"name\":"
     "\"kernel.msgmax\",\"value\":\"1\"},{\"name\":\"net.ipv4.tcp_syncookies\","
     "\"value\":\"1\"},{\"name\":\"net.ipv4.tcp_rmem\",\"value\":\"1 2 3\"},"
     "{\"name\":\"net.core.somaxconn\",\"value\":\"1\"}]}}}",
     "forbidden sysctls (kernel.msgmax, net.core.somaxconn)"},
    {"sysctls v1.31", "baseline:v1.31",
     "{\"spec\":{\"securityContext\":{\"sysctls\":[{\"name\":"
     "\"net.ipv4.tcp_rmem\",\"value\":\"1 2 3\"},{\"name\":"
     "\"net.ipv4.tcp_keepalive_time\",\"value\":\"1\"}]}}}",
     "forbidden sysctls (net.ipv4.tcp_rmem)"},
    {"sysctls v1.26", "baseline:v1.26",
     "{\"spec\":{\"securityContext\":{\"sysctls\":[{\"name\":"
     "\"net.ipv4.ip_local_reserved_ports\",\"value\":\"1\"}]}}}",
     "forbidden sysctls (net.ipv4.ip_local_reserved_ports)"},
    {"sysctls v1.27", "baseline:v1.27",
     "{\"spec\":{\"securityContext\":{\"sysctls\":[{\"name\":"
     "\"net.ipv4.ip_local_reserved_ports\",\"value\":\"1\"}]}}}",
     ""},

    /* --- Windows host process --- */
    {"host process", "baseline:latest",
     "{\"spec\":{\"securityContext\":{\"windowsOptions\":{\"hostProcess\":"
     "true}},\"containers\":[{\"name\":\"c\",\"securityContext\":"
     "{\"windowsOptions\":{\"hostProcess\":true}}},{\"name\":\"d\","
     "\"securityContext\":{\"windowsOptions\":{\"hostProcess\":true}}}]}}",
     "hostProcess (pod and containers \"c\", \"d\" must not set "
     "securityContext.windowsOptions.hostProcess=true)"},

    /* --- restricted: the plain pod and upstream's well-known message --- */
    {"plain pod", "restricted:latest",
     "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}",
     "allowPrivilegeEscalation != false (container \"c\" must set "
     "securityContext.allowPrivilegeEscalation=false), unrestricted "
     "capabilities (container \"c\" must set "
     "securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true "
     "(pod or container \"c\" must set securityContext.runAsNonRoot=true), "
     "seccompProfile (pod or container \"c\" must set "
     "securityContext.seccompProfile.type to \"RuntimeDefault\" or "
     "\"Localhost\")"},
    {"baseline and restricted in order", "restricted:latest",
     "{\"spec\":{\"hostPID\":true,\"containers\":[{\"name\":\"c\","
     "\"securityContext\":{\"privileged\":true,"
     "\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":"
     "[\"ALL\"]},\"runAsNonRoot\":true,\"seccompProfile\":{\"type\":"
     "\"RuntimeDefault\"}}}]}}",
     "host namespaces (hostPID), privileged (container \"c\" must not set "
     "securityContext.privileged=true)"},

    /* --- allowPrivilegeEscalation --- */
    {"allow privilege escalation", "restricted:latest",
     "{\"spec\":{\"securityContext\":{\"runAsNonRoot\":true,"
     "\"seccompProfile\":{\"type\":\"RuntimeDefault\"}},\"containers\":["
     "{\"name\":\"a\",\"securityContext\":{\"capabilities\":{\"drop\":"
     "[\"ALL\"]}}},{\"name\":\"b\",\"securityContext\":{"
     "\"allowPrivilegeEscalation\":true,\"capabilities\":{\"drop\":[\"ALL\"]}"
     "}}," GOOD_C("c") "]}}",
     "allowPrivilegeEscalation != false (containers \"a\", \"b\" must set "
     "securityContext.allowPrivilegeEscalation=false)"},
    {"allow privilege escalation before v1.8", "restricted:v1.7",
     "{\"spec\":{\"securityContext\":{\"runAsNonRoot\":true},\"containers\":"
     "[{\"name\":\"a\"}]}}",
     ""},

    /* --- capabilities (restricted), which replaces the baseline check --- */
    {"capabilities restricted", "restricted:latest",
     "{\"spec\":{\"securityContext\":{\"runAsNonRoot\":true,"
     "\"seccompProfile\":{\"type\":\"RuntimeDefault\"}},\"containers\":["
     "{\"name\":\"a\",\"securityContext\":{\"allowPrivilegeEscalation\":false,"
     "\"capabilities\":{\"drop\":[\"NET_RAW\"],\"add\":[\"NET_BIND_SERVICE\","
     "\"SYS_TIME\"]}}},{\"name\":\"b\",\"securityContext\":{"
     "\"allowPrivilegeEscalation\":false}}]}}",
     "unrestricted capabilities (containers \"a\", \"b\" must set "
     "securityContext.capabilities.drop=[\"ALL\"]; container \"a\" must not "
     "include \"SYS_TIME\" in securityContext.capabilities.add)"},
    {"capabilities restricted add only", "restricted:latest",
     "{\"spec\":{\"securityContext\":{\"runAsNonRoot\":true,"
     "\"seccompProfile\":{\"type\":\"RuntimeDefault\"}},\"containers\":["
     "{\"name\":\"a\",\"securityContext\":{\"allowPrivilegeEscalation\":false,"
     "\"capabilities\":{\"drop\":[\"ALL\"],\"add\":[\"CHOWN\"]}}}]}}",
     "unrestricted capabilities (container \"a\" must not include \"CHOWN\" "
     "in securityContext.capabilities.add)"},
    {"capabilities restricted net bind", "restricted:latest",
     "{\"spec\":{\"securityContext\":{\"runAsNonRoot\":true,"
     "\"seccompProfile\":{\"type\":\"RuntimeDefault\"}},\"containers\":["
     "{\"name\":\"a\",\"securityContext\":{\"allowPrivilegeEscalation\":false,"
     "\"capabilities\":{\"drop\":[\"ALL\"],\"add\":[\"NET_BIND_SERVICE\"]}}}"
     "]}}",
     ""},
    {"capabilities before v1.22 are the baseline check", "restricted:v1.21",
     "{\"spec\":{\"securityContext\":{\"runAsNonRoot\":true,"
     "\"seccompProfile\":{\"type\":\"RuntimeDefault\"}},\"containers\":["
     "{\"name\":\"a\",\"securityContext\":{\"allowPrivilegeEscalation\":false,"
     "\"capabilities\":{\"add\":[\"SYS_TIME\"]}}}]}}",
     "non-default capabilities (container \"a\" must not include "
     "\"SYS_TIME\" in securityContext.capabilities.add)"},

    /* --- volume types, which replace the hostPath check --- */
    {"restricted volumes", "restricted:latest",
     "{\"spec\":{\"volumes\":[{\"name\":\"h\",\"hostPath\":{\"path\":\"/\"}},"
     "{\"name\":\"cm\",\"configMap\":{\"name\":\"x\"}},{\"name\":\"n\","
     "\"nfs\":{\"server\":\"s\",\"path\":\"/\"}},{\"name\":\"x\"},"
     "{\"name\":\"h2\",\"hostPath\":{\"path\":\"/tmp\"}}],\"containers\":["
     GOOD_C("c") "]}}",
     "restricted volume types (volumes \"h\", \"n\", \"x\", \"h2\" use "
     "restricted volume types \"hostPath\", \"nfs\", \"unknown\")"},
    {"restricted volume one", "restricted:latest",
     "{\"spec\":{\"volumes\":[{\"name\":\"host\",\"hostPath\":{\"path\":"
     "\"/\"}}],\"containers\":[" GOOD_C("c") "]}}",
     "restricted volume types (volume \"host\" uses restricted volume type "
     "\"hostPath\")"},
    {"allowed volume types", "restricted:latest",
     "{\"spec\":{\"volumes\":[{\"name\":\"a\",\"configMap\":{}},{\"name\":"
     "\"b\",\"csi\":{\"driver\":\"d\"}},{\"name\":\"c\",\"downwardAPI\":{}},"
     "{\"name\":\"d\",\"emptyDir\":{}},{\"name\":\"e\",\"ephemeral\":{}},"
     "{\"name\":\"f\",\"persistentVolumeClaim\":{\"claimName\":\"x\"}},"
     "{\"name\":\"g\",\"projected\":{}},{\"name\":\"h\",\"secret\":{}}],"
     "\"containers\":[" GOOD_C("c") "]}}",
     ""},

    /* --- runAsNonRoot --- */
    {"run as non-root pod false", "restricted:latest",
     "{\"spec\":{\"securityContext\":{\"runAsNonRoot\":false},\"containers\":"
     "[" GOOD_C("c") "]}}",
     "runAsNonRoot != true (pod must not set "
     "securityContext.runAsNonRoot=false)"},
    {"run as non-root container false", "restricted:latest",
     "{\"spec\":{\"securityContext\":{\"runAsNonRoot\":true,"
     "\"seccompProfile\":{\"type\":\"RuntimeDefault\"}},\"containers\":["
     "{\"name\":\"a\",\"securityContext\":{\"allowPrivilegeEscalation\":false,"
     "\"capabilities\":{\"drop\":[\"ALL\"]},\"runAsNonRoot\":false}},"
     "{\"name\":\"b\",\"securityContext\":{\"allowPrivilegeEscalation\":false,"
     "\"capabilities\":{\"drop\":[\"ALL\"]}}}]}}",
     "runAsNonRoot != true (container \"a\" must not set "
     "securityContext.runAsNonRoot=false)"},
    {"run as non-root implicit", "restricted:latest",
     "{\"spec\":{\"securityContext\":{\"seccompProfile\":{\"type\":"
     "\"RuntimeDefault\"}},\"containers\":[{\"name\":\"a\",\"securityContext\""
     ":{\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":"
     "[\"ALL\"]}}}," GOOD_C("b") "]}}",
     "runAsNonRoot != true (pod or container \"a\" must set "
     "securityContext.runAsNonRoot=true)"},
    {"run as non-root on the pod", "restricted:latest",
     "{\"spec\":{\"securityContext\":{\"runAsNonRoot\":true,"
     "\"seccompProfile\":{\"type\":\"Localhost\",\"localhostProfile\":\"p\"}},"
     "\"containers\":[{\"name\":\"a\",\"securityContext\":{"
     "\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":"
     "[\"ALL\"]}}}]}}",
     ""},

    /* --- runAsUser --- */
    {"run as user 0", "restricted:latest",
     "{\"spec\":{\"securityContext\":{\"runAsUser\":0},\"containers\":["
     "{\"name\":\"c\",\"securityContext\":{\"allowPrivilegeEscalation\":false,"
     "\"capabilities\":{\"drop\":[\"ALL\"]},\"runAsNonRoot\":true,"
     "\"runAsUser\":0,\"seccompProfile\":{\"type\":\"RuntimeDefault\"}}}]}}",
     "runAsUser=0 (pod and container \"c\" must not set runAsUser=0)"},
    {"run as user 1000", "restricted:latest",
     "{\"spec\":{\"securityContext\":{\"runAsUser\":1000},\"containers\":["
     GOOD_C("c") "]}}",
     ""},
    {"run as user 0 before v1.23", "restricted:v1.22",
     "{\"spec\":{\"securityContext\":{\"runAsUser\":0},\"containers\":["
     GOOD_C("c") "]}}",
     ""},

    /* --- seccomp (restricted), which replaces the baseline check --- */
    {"seccomp restricted explicit", "restricted:latest",
     "{\"spec\":{\"securityContext\":{\"runAsNonRoot\":true},\"containers\":"
     "[{\"name\":\"c\",\"securityContext\":{\"allowPrivilegeEscalation\":"
     "false,\"capabilities\":{\"drop\":[\"ALL\"]},\"seccompProfile\":"
     "{\"type\":\"Unconfined\"}}}]}}",
     "seccompProfile (container \"c\" must not set "
     "securityContext.seccompProfile.type to \"Unconfined\")"},
    {"seccomp restricted pod bad", "restricted:latest",
     "{\"spec\":{\"securityContext\":{\"runAsNonRoot\":true,"
     "\"seccompProfile\":{\"type\":\"Unconfined\"}},\"containers\":["
     GOOD_C("c") ",{\"name\":\"d\",\"securityContext\":{"
     "\"allowPrivilegeEscalation\":false,\"capabilities\":{\"drop\":"
     "[\"ALL\"]}}}]}}",
     "seccompProfile (pod must not set securityContext.seccompProfile.type "
     "to \"Unconfined\")"},
    {"seccomp restricted before v1.19 uses annotations", "restricted:v1.18",
     "{\"metadata\":{\"annotations\":{"
     "\"seccomp.security.alpha.kubernetes.io/pod\":\"unconfined\"}},"
     "\"spec\":{\"securityContext\":{\"runAsNonRoot\":true},\"containers\":"
     "[{\"name\":\"c\",\"securityContext\":{\"allowPrivilegeEscalation\":"
     "false}}]}}",
     "seccompProfile (forbidden annotation "
     "seccomp.security.alpha.kubernetes.io/pod=\"unconfined\")"},

    /* --- Windows pods skip three restricted checks from v1.25 --- */
    {"windows pod", "restricted:latest",
     "{\"spec\":{\"os\":{\"name\":\"windows\"},\"securityContext\":"
     "{\"runAsNonRoot\":true},\"containers\":[{\"name\":\"c\"}]}}",
     ""},
    {"windows pod before v1.25", "restricted:v1.24",
     "{\"spec\":{\"os\":{\"name\":\"windows\"},\"securityContext\":"
     "{\"runAsNonRoot\":true},\"containers\":[{\"name\":\"c\"}]}}",
     "allowPrivilegeEscalation != false (container \"c\" must set "
     "securityContext.allowPrivilegeEscalation=false), unrestricted "
     "capabilities (container \"c\" must set "
     "securityContext.capabilities.drop=[\"ALL\"]), seccompProfile (pod or "
     "container \"c\" must set securityContext.seccompProfile.type to "
     "\"RuntimeDefault\" or \"Localhost\")"},

    /* --- versions newer than kapi's evaluate as the latest --- */
    {"future version", "restricted:v1.99",
     "{\"spec\":{\"containers\":[" GOOD_C("c") "],\"securityContext\":"
     "{\"sysctls\":[{\"name\":\"net.ipv4.tcp_wmem\",\"value\":\"1\"}]}}}",
     ""},
};

static void test_checks_table(void **state)
{
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    const char *got = detail_of(cases[i].lv, cases[i].pod);

    if (strcmp(got, cases[i].detail))
      fail_msg("%s (%s):\n  want: %s\n  got:  %s", cases[i].what,
               cases[i].lv, cases[i].detail, got);
  }
}

/* The reasons alone, for the namespace warnings. */
static void test_reasons(void **state)
{
  kj *pod = parse("{\"spec\":{\"hostPID\":true,\"containers\":[{\"name\":"
                  "\"c\",\"securityContext\":{\"privileged\":true}}]}}");
  psa_sb reasons = {0};

  (void)state;
  assert_int_equal(psa_evaluate(&fake_api, lv_of("restricted:latest"), NULL,
                                kj_ptr(pod, "/spec"), NULL, &reasons),
                   6);
  assert_string_equal(psa_sb_str(&reasons),
                      "host namespaces, privileged, allowPrivilegeEscalation "
                      "!= false, unrestricted capabilities, runAsNonRoot != "
                      "true, seccompProfile");
  psa_sb_free(&reasons);
  kj_free(pod);
}

static void expect_ids(const char *lv, const char *const *want)
{
  size_t i;

  for (i = 0; want[i]; i++)
    assert_string_equal(psa_check_id(lv_of(lv), i), want[i]);
  assert_null(psa_check_id(lv_of(lv), i));
}

/* registry.go: baseline IDs sorted, then restricted IDs sorted; a
 * restricted check drops the baseline check it overrides. */
static void test_check_order(void **state)
{
  static const char *const baseline[] = {
      "appArmorProfile", "capabilities_baseline", "hostNamespaces",
      "hostPathVolumes", "hostPorts", "privileged", "procMount",
      "seLinuxOptions", "seccompProfile_baseline", "sysctls",
      "windowsHostProcess", NULL};
  static const char *const restricted[] = {
      "appArmorProfile", "hostNamespaces", "hostPorts", "privileged",
      "procMount", "seLinuxOptions", "sysctls", "windowsHostProcess",
      "allowPrivilegeEscalation", "capabilities_restricted",
      "restrictedVolumes", "runAsNonRoot", "runAsUser",
      "seccompProfile_restricted", NULL};
  static const char *const restricted_1_18[] = {
      "appArmorProfile", "capabilities_baseline", "hostNamespaces",
      "hostPorts", "privileged", "procMount", "seLinuxOptions",
      "seccompProfile_baseline", "sysctls", "windowsHostProcess",
      "allowPrivilegeEscalation", "restrictedVolumes", "runAsNonRoot", NULL};
  static const char *const none[] = {NULL};
  const char *prev = NULL, *id;

  (void)state;
  expect_ids("baseline:latest", baseline);
  expect_ids("baseline:v1.0", baseline);
  expect_ids("restricted:latest", restricted);
  expect_ids("restricted:v1.18", restricted_1_18);
  expect_ids("privileged:latest", none);
  /* Within a level, bytewise order (uppercase sorts before lowercase). */
  for (size_t i = 0; (id = baseline[i]); prev = id, i++)
    if (prev)
      assert_true(strcmp(prev, id) < 0);
}

/* ---- levels, versions, labels ------------------------------------------- */

static void test_levels_and_versions(void **state)
{
  psa_level level;
  int minor;
  char buf[48];

  (void)state;
  assert_int_equal(psa_parse_level("baseline", &level), 0);
  assert_int_equal(level, PSA_BASELINE);
  assert_int_equal(psa_parse_level("Baseline", &level), -EINVAL);
  assert_int_equal(psa_parse_level("", &level), -EINVAL);
  assert_int_equal(psa_parse_version("latest", &minor), 0);
  assert_int_equal(minor, PSA_LATEST);
  assert_int_equal(psa_parse_version("v1.0", &minor), 0);
  assert_int_equal(minor, 0);
  assert_int_equal(psa_parse_version("v1.25", &minor), 0);
  assert_int_equal(minor, 25);
  assert_int_equal(psa_parse_version("v1.025", &minor), -EINVAL);
  assert_int_equal(psa_parse_version("v2.0", &minor), -EINVAL);
  assert_int_equal(psa_parse_version("1.25", &minor), -EINVAL);
  assert_int_equal(psa_parse_version("v1.", &minor), -EINVAL);
  assert_int_equal(psa_parse_version("v1.99999999999", &minor), -EINVAL);
  assert_string_equal(psa_lv_string((psa_lv){PSA_RESTRICTED, PSA_LATEST},
                                    buf, sizeof buf),
                      "restricted:latest");
  assert_string_equal(
      psa_lv_string((psa_lv){PSA_BASELINE, 25}, buf, sizeof buf),
      "baseline:v1.25");
}

static void test_labels(void **state)
{
  psa_policy defaults = {{PSA_BASELINE, PSA_LATEST},
                         {PSA_PRIVILEGED, PSA_LATEST},
                         {PSA_RESTRICTED, 20}};
  psa_policy p;
  psa_sl errs = {0};
  kj *labels;

  (void)state;
  /* No labels: the defaults. */
  assert_int_equal(psa_policy_from_labels(&fake_api, NULL, &defaults, &p,
                                          &errs), 0);
  assert_true(psa_lv_equal(p.enforce, defaults.enforce));
  assert_true(psa_lv_equal(p.warn, defaults.warn));

  labels = parse("{\"pod-security.kubernetes.io/enforce\":\"restricted\","
                 "\"pod-security.kubernetes.io/enforce-version\":\"v1.24\","
                 "\"pod-security.kubernetes.io/warn\":\"baseline\","
                 "\"other\":\"x\"}");
  assert_int_equal(psa_policy_from_labels(&fake_api, labels, &defaults, &p,
                                          &errs), 0);
  assert_true(psa_lv_equal(p.enforce, (psa_lv){PSA_RESTRICTED, 24}));
  assert_true(psa_lv_equal(p.audit, defaults.audit));
  assert_true(psa_lv_equal(p.warn, (psa_lv){PSA_BASELINE, 20}));
  kj_free(labels);

  /* Bad values: enforce fails closed, audit and warn open. */
  labels = parse("{\"pod-security.kubernetes.io/enforce\":\"bogus\","
                 "\"pod-security.kubernetes.io/audit\":\"\","
                 "\"pod-security.kubernetes.io/warn\":\"x\","
                 "\"pod-security.kubernetes.io/warn-version\":\"v1.x\"}");
  assert_int_equal(psa_policy_from_labels(&fake_api, labels, &defaults, &p,
                                          &errs), 4);
  assert_int_equal(p.enforce.level, PSA_RESTRICTED);
  assert_int_equal(p.audit.level, PSA_PRIVILEGED);
  assert_int_equal(p.warn.level, PSA_PRIVILEGED);
  assert_int_equal(p.warn.minor, PSA_LATEST);
  assert_int_equal(errs.n, 4);
  assert_string_equal(errs.v[0],
                      "metadata.labels[pod-security.kubernetes.io/enforce]: "
                      "Invalid value: \"bogus\": must be one of privileged, "
                      "baseline, restricted");
  assert_string_equal(errs.v[1],
                      "metadata.labels[pod-security.kubernetes.io/audit]: "
                      "Invalid value: \"\": must be one of privileged, "
                      "baseline, restricted");
  assert_string_equal(
      errs.v[3], "metadata.labels[pod-security.kubernetes.io/warn-version]: "
                 "Invalid value: \"v1.x\": must be \"latest\" or \"v1.x\"");
  psa_sl_free(&errs);
  kj_free(labels);
}

static void test_quote(void **state)
{
  psa_sb b = {0};

  (void)state;
  psa_sb_quote(&b, "a\"b\\c\n\x01");
  assert_string_equal(psa_sb_str(&b), "\"a\\\"b\\\\c\\n\\x01\"");
  psa_sb_free(&b);
}

/* ---- the configuration --------------------------------------------------- */

static int parse_config(const char *json, psa_config *c, char *err,
                        size_t errlen)
{
  return psa_config_parse(&fake_api, json, json ? strlen(json) : 0, c, err,
                          errlen);
}

static void test_config(void **state)
{
  psa_config c;
  char err[1024] = "";

  (void)state;
  assert_int_equal(parse_config(NULL, &c, err, sizeof err), 0);
  assert_int_equal(c.defaults.enforce.level, PSA_PRIVILEGED);
  assert_int_equal(c.defaults.warn.minor, PSA_LATEST);
  psa_config_free(&c);

  assert_int_equal(
      parse_config("{\"apiVersion\":\"pod-security.admission.config.k8s.io/"
                   "v1\",\"kind\":\"PodSecurityConfiguration\",\"defaults\":{"
                   "\"enforce\":\"baseline\",\"enforce-version\":\"v1.24\","
                   "\"audit\":\"restricted\",\"warn\":\"\",\"audit-version\":"
                   "null},\"exemptions\":{\"usernames\":[\"admin\"],"
                   "\"runtimeClasses\":[\"kata.x\"],\"namespaces\":["
                   "\"kube-system\",\"n\\u0031\"]},\"extra\":[1,{\"a\":true}]}",
                   &c, err, sizeof err),
      0);
  assert_true(psa_lv_equal(c.defaults.enforce, (psa_lv){PSA_BASELINE, 24}));
  assert_true(
      psa_lv_equal(c.defaults.audit, (psa_lv){PSA_RESTRICTED, PSA_LATEST}));
  assert_true(
      psa_lv_equal(c.defaults.warn, (psa_lv){PSA_PRIVILEGED, PSA_LATEST}));
  assert_int_equal(c.usernames.n, 1);
  assert_string_equal(c.runtime_classes.v[0], "kata.x");
  assert_int_equal(c.namespaces.n, 2);
  assert_string_equal(c.namespaces.v[1], "n1");
  psa_config_free(&c);

  /* kapi's --config plugin section: no apiVersion and kind. */
  assert_int_equal(parse_config("{\"defaults\":{\"warn\":\"restricted\"}}",
                                &c, err, sizeof err),
                   0);
  assert_int_equal(c.defaults.warn.level, PSA_RESTRICTED);
  psa_config_free(&c);
}

static void expect_config_error(const char *json, const char *want)
{
  psa_config c;
  char err[1024] = "";

  assert_true(parse_config(json, &c, err, sizeof err) < 0);
  if (strcmp(err, want))
    fail_msg("config %s:\n  want: %s\n  got:  %s", json, want, err);
}

static void test_config_errors(void **state)
{
  (void)state;
  expect_config_error("{\"defaults\":{\"enforce\":\"strict\"}}",
                      "PodSecurity invalid: defaults.enforce: Invalid value: "
                      "\"strict\": must be one of privileged, baseline, "
                      "restricted");
  expect_config_error(
      "{\"defaults\":{\"enforce-version\":\"1.2\",\"audit\":\"x\"},"
      "\"exemptions\":{\"namespaces\":[\"ok\",\"Bad\",\"ok\"],"
      "\"usernames\":[\"\",\"u\",\"u\"],\"runtimeClasses\":[\"a_b\"]}}",
      "PodSecurity invalid: [defaults.enforce-version: Invalid value: "
      "\"1.2\": must be \"latest\" or \"v1.x\", defaults.audit: Invalid "
      "value: \"x\": must be one of privileged, baseline, restricted, "
      "exemptions.namespaces[1]: Invalid value: \"Bad\": a lowercase RFC "
      "1123 label must consist of lower case alphanumeric characters or '-', "
      "and must start and end with an alphanumeric character (e.g. "
      "'my-name',  or '123-abc', regex used for validation is "
      "'[a-z0-9]([-a-z0-9]*[a-z0-9])?'), exemptions.namespaces[2]: "
      "Duplicate value: \"ok\", exemptions.runtimeClasses[0]: Invalid value: "
      "\"a_b\": a lowercase RFC 1123 subdomain must consist of lower case "
      "alphanumeric characters, '-' or '.', and must start and end with an "
      "alphanumeric character (e.g. 'example.com', regex used for "
      "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*"
      "[a-z0-9])?)*'), exemptions.usernames[0]: Required value, "
      "exemptions.usernames[2]: Duplicate value: \"u\"]");
  expect_config_error("{\"apiVersion\":\"v1\",\"kind\":\"Pod\"}",
                      "PodSecurity configuration error: no kind \"Pod\" is "
                      "registered for version \"v1\"");
  expect_config_error("{\"apiVersion\":\"pod-security.admission.config.k8s.io"
                      "/v1\"}",
                      "PodSecurity configuration error: Object 'Kind' is "
                      "missing in the configuration");
  expect_config_error("{\"exemptions\":{\"usernames\":\"admin\"}}",
                      "PodSecurity configuration error: "
                      "exemptions.usernames: expected an array of strings");
  expect_config_error("{\"defaults\":1}", "PodSecurity configuration error: "
                                          "defaults: expected an object");
  expect_config_error("{\"defaults\":", "PodSecurity configuration error: "
                                        "invalid JSON");
  expect_config_error("[]", "PodSecurity configuration error: "
                            "configuration: expected an object");
}

/* ---- the admission flow -------------------------------------------------- */

static kapi_req *new_req(const char *op, const char *resource,
                         const char *group, const char *sub, const char *ns,
                         const char *user, const char *obj, const char *old)
{
  kapi_req *r = calloc(1, sizeof *r);
  size_t n = 0;

  assert_non_null(r);
  r->attrs[n][0] = "operation", r->attrs[n++][1] = op;
  r->attrs[n][0] = "resource", r->attrs[n++][1] = resource;
  r->attrs[n][0] = "apiGroup", r->attrs[n++][1] = group;
  if (sub)
    r->attrs[n][0] = "subresource", r->attrs[n++][1] = sub;
  if (ns)
    r->attrs[n][0] = "namespace", r->attrs[n++][1] = ns;
  r->attrs[n][0] = "user.name", r->attrs[n++][1] = user ? user : "alice";
  r->obj = obj ? parse(obj) : NULL;
  r->old = old ? parse(old) : NULL;
  return r;
}

static void free_req(kapi_req *r)
{
  kj_free(r->obj);
  kj_free(r->old);
  kj_free(r->annotations);
  free(r);
}

static int run(kapi_req *r, kapi_error *e)
{
  memset(e, 0, sizeof *e);
  return ops->validate(ops_st, r, r->obj, e);
}

static const char *annotation_of(const kapi_req *r, const char *key)
{
  const char *v = kj_get_str(r->annotations, key);

  return v ? v : "<none>";
}

static void add_namespace(const char *name, const char *labels)
{
  char json[1024];

  snprintf(json, sizeof json,
           "{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"%s\","
           "\"labels\":%s}}",
           name, labels);
  kj_set(namespaces, name, parse(json));
}

static const char *config_json =
    "{\"apiVersion\":\"pod-security.admission.config.k8s.io/v1\","
    "\"kind\":\"PodSecurityConfiguration\",\"defaults\":{\"enforce\":"
    "\"privileged\",\"audit\":\"baseline\",\"warn\":\"privileged\"},"
    "\"exemptions\":{\"usernames\":[\"system:admin\"],\"runtimeClasses\":"
    "[\"trusted\"],\"namespaces\":[\"kube-system\"]}}";

static int setup_plugin(void **state)
{
  const kapi_plugin_desc *d = kapi_plugin_describe();
  kapi_error e;

  (void)state;
  assert_string_equal(d->name, "pod-security");
  memset(&e, 0, sizeof e);
  ops = NULL;
  assert_int_equal(d->init(NULL, &fake_api, config_json,
                           strlen(config_json), &e),
                   0);
  assert_non_null(ops);
  assert_int_equal(ops->handles, KAPI_OP_CREATE | KAPI_OP_UPDATE);
  namespaces = kj_object();
  pods = kj_array();
  store_list_calls = 0;
  add_namespace("r", "{\"pod-security.kubernetes.io/enforce\":\"restricted\"}");
  add_namespace("w", "{\"pod-security.kubernetes.io/warn\":\"baseline\","
                     "\"pod-security.kubernetes.io/warn-version\":\"v1.30\","
                     "\"pod-security.kubernetes.io/audit\":\"restricted\"}");
  add_namespace("p", "{}");
  add_namespace("bad", "{\"pod-security.kubernetes.io/enforce\":\"x\"}");
  add_namespace("kube-system",
                "{\"pod-security.kubernetes.io/enforce\":\"restricted\"}");
  return 0;
}

static int teardown_plugin(void **state)
{
  (void)state;
  kapi_plugin_describe()->fini(NULL);
  kj_free(namespaces);
  kj_free(pods);
  return 0;
}

#define PLAIN_POD(name)                                                      \
  "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name "\"},\"spec\":{"        \
  "\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}"
#define PRIV_POD(name)                                                       \
  "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name "\"},\"spec\":{"        \
  "\"containers\":[{\"name\":\"c\",\"image\":\"nginx\",\"securityContext\":" \
  "{\"privileged\":true}}]}}"
#define GOOD_POD(name)                                                       \
  "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"" name "\"},\"spec\":{"        \
  "\"containers\":[" GOOD_C("c") "]}}"

static const char *const restricted_plain =
    "violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != "
    "false (container \"c\" must set "
    "securityContext.allowPrivilegeEscalation=false), unrestricted "
    "capabilities (container \"c\" must set "
    "securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod "
    "or container \"c\" must set securityContext.runAsNonRoot=true), "
    "seccompProfile (pod or container \"c\" must set "
    "securityContext.seccompProfile.type to \"RuntimeDefault\" or "
    "\"Localhost\")";

static void test_enforce(void **state)
{
  kapi_error e;
  kapi_req *r;
  char want[MAX_TEXT];

  (void)state;
  r = new_req("CREATE", "pods", "", NULL, "r", NULL, PLAIN_POD("x"), NULL);
  assert_int_equal(run(r, &e), -EPERM);
  assert_int_equal(e.code, 403);
  assert_string_equal(e.reason, "Forbidden");
  snprintf(want, sizeof want, "pods \"x\" is forbidden: %s", restricted_plain);
  assert_string_equal(e.message, want);
  assert_int_equal(r->n_warnings, 0); /* refused: no warnings */
  assert_string_equal(
      annotation_of(r, "pod-security.kubernetes.io/enforce-policy"),
      "restricted:latest");
  /* The default audit level (baseline) passes this pod. */
  assert_string_equal(
      annotation_of(r, "pod-security.kubernetes.io/audit-violations"),
      "<none>");
  free_req(r);

  r = new_req("CREATE", "pods", "", NULL, "r", NULL, GOOD_POD("y"), NULL);
  assert_int_equal(run(r, &e), 0);
  assert_int_equal(e.code, 0);
  free_req(r);
}

static void test_warn_and_audit(void **state)
{
  kapi_error e;
  kapi_req *r;

  (void)state;
  r = new_req("CREATE", "pods", "", NULL, "w", NULL, PRIV_POD("x"), NULL);
  assert_int_equal(run(r, &e), 0);
  assert_int_equal(r->n_warnings, 1);
  assert_string_equal(r->warnings[0],
                      "would violate PodSecurity \"baseline:v1.30\": "
                      "privileged (container \"c\" must not set "
                      "securityContext.privileged=true)");
  assert_string_equal(
      annotation_of(r, "pod-security.kubernetes.io/audit-violations"),
      "would violate PodSecurity \"restricted:latest\": privileged "
      "(container \"c\" must not set securityContext.privileged=true), "
      "allowPrivilegeEscalation != false (container \"c\" must set "
      "securityContext.allowPrivilegeEscalation=false), unrestricted "
      "capabilities (container \"c\" must set "
      "securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true "
      "(pod or container \"c\" must set securityContext.runAsNonRoot=true), "
      "seccompProfile (pod or container \"c\" must set "
      "securityContext.seccompProfile.type to \"RuntimeDefault\" or "
      "\"Localhost\")");
  assert_string_equal(
      annotation_of(r, "pod-security.kubernetes.io/enforce-policy"),
      "privileged:latest");
  free_req(r);

  /* A namespace with bad labels: enforce fails closed (restricted), and
   * the parse error is audited. */
  r = new_req("CREATE", "pods", "", NULL, "bad", NULL, GOOD_POD("g"), NULL);
  assert_int_equal(run(r, &e), 0);
  assert_string_equal(annotation_of(r, "pod-security.kubernetes.io/error"),
                      "Failed to parse policy: metadata.labels[pod-security."
                      "kubernetes.io/enforce]: Invalid value: \"x\": must be "
                      "one of privileged, baseline, restricted");
  free_req(r);
  r = new_req("CREATE", "pods", "", NULL, "bad", NULL, PLAIN_POD("x"), NULL);
  assert_int_equal(run(r, &e), -EPERM);
  free_req(r);
}

static void test_exemptions(void **state)
{
  kapi_error e;
  kapi_req *r;

  (void)state;
  r = new_req("CREATE", "pods", "", NULL, "kube-system", NULL, PRIV_POD("x"),
              NULL);
  assert_int_equal(run(r, &e), 0);
  assert_string_equal(annotation_of(r, "pod-security.kubernetes.io/exempt"),
                      "namespace");
  free_req(r);

  r = new_req("CREATE", "pods", "", NULL, "r", "system:admin", PRIV_POD("x"),
              NULL);
  assert_int_equal(run(r, &e), 0);
  assert_string_equal(annotation_of(r, "pod-security.kubernetes.io/exempt"),
                      "user");
  free_req(r);

  r = new_req("CREATE", "pods", "", NULL, "r", NULL,
              "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"runtimeClassName\":"
              "\"trusted\",\"containers\":[{\"name\":\"c\"}]}}",
              NULL);
  assert_int_equal(run(r, &e), 0);
  assert_string_equal(annotation_of(r, "pod-security.kubernetes.io/exempt"),
                      "runtimeClass");
  free_req(r);

  /* Another runtime class is not exempt. */
  r = new_req("CREATE", "pods", "", NULL, "r", NULL,
              "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"runtimeClassName\":"
              "\"other\",\"containers\":[{\"name\":\"c\"}]}}",
              NULL);
  assert_int_equal(run(r, &e), -EPERM);
  free_req(r);

  /* An all-privileged namespace short-circuits. */
  r = new_req("CREATE", "pods", "", NULL, "p", NULL, PRIV_POD("x"), NULL);
  kj_set(namespaces, "p",
         parse("{\"metadata\":{\"name\":\"p\",\"labels\":{"
               "\"pod-security.kubernetes.io/audit\":\"privileged\"}}}"));
  assert_int_equal(run(r, &e), 0);
  assert_string_equal(
      annotation_of(r, "pod-security.kubernetes.io/enforce-policy"),
      "privileged:latest");
  assert_string_equal(
      annotation_of(r, "pod-security.kubernetes.io/audit-violations"),
      "<none>");
  free_req(r);
}

static void test_pod_updates_and_subresources(void **state)
{
  kapi_error e;
  kapi_req *r;

  (void)state;
  /* Only labels changed: not evaluated. */
  r = new_req("UPDATE", "pods", "", NULL, "r", NULL,
              "{\"metadata\":{\"name\":\"x\",\"labels\":{\"a\":\"b\"}},"
              "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}"
              "]}}",
              PLAIN_POD("x"));
  assert_int_equal(run(r, &e), 0);
  free_req(r);

  /* A new image: evaluated. */
  r = new_req("UPDATE", "pods", "", NULL, "r", NULL,
              "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"containers\":["
              "{\"name\":\"c\",\"image\":\"nginx:2\"}]}}",
              PLAIN_POD("x"));
  assert_int_equal(run(r, &e), -EPERM);
  assert_int_equal(e.code, 403);
  free_req(r);

  /* A seccomp annotation changed: evaluated. */
  r = new_req("UPDATE", "pods", "", NULL, "r", NULL,
              "{\"metadata\":{\"name\":\"x\",\"annotations\":{"
              "\"seccomp.security.alpha.kubernetes.io/pod\":\"x\"}},"
              "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
              "\"nginx\"}]}}",
              PLAIN_POD("x"));
  assert_int_equal(run(r, &e), -EPERM);
  free_req(r);

  /* status and other subresources pass. */
  r = new_req("UPDATE", "pods", "", "status", "r", NULL,
              "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"containers\":["
              "{\"name\":\"c\",\"image\":\"other\"}]}}",
              PLAIN_POD("x"));
  assert_int_equal(run(r, &e), 0);
  free_req(r);

  /* An ephemeral container added through its subresource: evaluated. */
  r = new_req("UPDATE", "pods", "", "ephemeralcontainers", "r", NULL,
              "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"containers\":["
              GOOD_C("c") "],\"ephemeralContainers\":[{\"name\":\"debug\","
              "\"image\":\"busybox\"}]}}",
              GOOD_POD("x"));
  assert_int_equal(run(r, &e), -EPERM);
  assert_non_null(strstr(e.message, "allowPrivilegeEscalation != false "
                                    "(container \"debug\" must set"));
  free_req(r);

  /* The same ephemeral container again, unchanged: not evaluated. */
  r = new_req("UPDATE", "pods", "", "ephemeralcontainers", "r", NULL,
              "{\"metadata\":{\"name\":\"x\",\"labels\":{\"l\":\"1\"}},"
              "\"spec\":{\"containers\":[" GOOD_C("c") "],"
              "\"ephemeralContainers\":[{\"name\":\"debug\",\"image\":"
              "\"busybox\"}]}}",
              "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"containers\":["
              GOOD_C("c") "],\"ephemeralContainers\":[{\"name\":\"debug\","
              "\"image\":\"busybox\"}]}}");
  assert_int_equal(run(r, &e), 0);
  free_req(r);

  /* No namespace object: an internal error, as upstream. */
  r = new_req("CREATE", "pods", "", NULL, "gone", NULL, PLAIN_POD("x"), NULL);
  assert_int_equal(run(r, &e), -ENOENT);
  assert_int_equal(e.code, 500);
  assert_string_equal(e.message, "Internal error occurred: failed to lookup "
                                 "namespace gone");
  free_req(r);
}

static void test_workloads(void **state)
{
  static const char *const deployment =
      "{\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\"},\"spec\":{"
      "\"template\":{\"metadata\":{\"labels\":{\"a\":\"b\"}},\"spec\":{"
      "\"containers\":[{\"name\":\"c\",\"image\":\"nginx\","
      "\"securityContext\":{\"privileged\":true}}]}}}}";
  kapi_error e;
  kapi_req *r;

  (void)state;
  kj_set(namespaces, "rw",
         parse("{\"metadata\":{\"name\":\"rw\",\"labels\":{"
               "\"pod-security.kubernetes.io/enforce\":\"restricted\","
               "\"pod-security.kubernetes.io/warn\":\"baseline\"}}}"));
  /* Never enforced, but warned about. */
  r = new_req("CREATE", "deployments", "apps", NULL, "rw", NULL, deployment,
              NULL);
  assert_int_equal(run(r, &e), 0);
  assert_int_equal(r->n_warnings, 1);
  assert_string_equal(r->warnings[0],
                      "would violate PodSecurity \"baseline:latest\": "
                      "privileged (container \"c\" must not set "
                      "securityContext.privileged=true)");
  assert_string_equal(
      annotation_of(r, "pod-security.kubernetes.io/enforce-policy"),
      "<none>");
  assert_string_equal(
      annotation_of(r, "pod-security.kubernetes.io/audit-violations"),
      "would violate PodSecurity \"baseline:latest\": privileged (container "
      "\"c\" must not set securityContext.privileged=true)");
  free_req(r);

  /* The scale subresource is not a template change. */
  r = new_req("UPDATE", "deployments", "apps", "scale", "rw", NULL,
              deployment, deployment);
  assert_int_equal(run(r, &e), 0);
  assert_int_equal(r->n_warnings, 0);
  free_req(r);

  /* CronJobs keep the template deeper. */
  r = new_req("CREATE", "cronjobs", "batch", NULL, "rw", NULL,
              "{\"metadata\":{\"name\":\"cj\"},\"spec\":{\"jobTemplate\":{"
              "\"spec\":{\"template\":{\"spec\":{\"hostNetwork\":true}}}}}}",
              NULL);
  assert_int_equal(run(r, &e), 0);
  assert_int_equal(r->n_warnings, 1);
  assert_string_equal(r->warnings[0],
                      "would violate PodSecurity \"baseline:latest\": host "
                      "namespaces (hostNetwork)");
  free_req(r);

  /* Resources without a pod template are not looked at. */
  r = new_req("CREATE", "configmaps", "", NULL, "rw", NULL,
              "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"template\":{"
              "\"spec\":{\"hostNetwork\":true}}}}",
              NULL);
  assert_int_equal(run(r, &e), 0);
  assert_int_equal(r->n_warnings, 0);
  free_req(r);
}

static void test_namespace_labels(void **state)
{
  kapi_error e;
  kapi_req *r;

  (void)state;
  r = new_req("CREATE", "namespaces", "", NULL, NULL, NULL,
              "{\"metadata\":{\"name\":\"n\",\"labels\":{"
              "\"pod-security.kubernetes.io/enforce\":\"bogus\","
              "\"pod-security.kubernetes.io/warn-version\":\"2\"}}}",
              NULL);
  assert_int_equal(run(r, &e), -EINVAL);
  assert_int_equal(e.code, 422);
  assert_string_equal(e.reason, "Invalid");
  assert_string_equal(
      e.message,
      "Namespace \"n\" is invalid: [metadata.labels[pod-security.kubernetes."
      "io/enforce]: Invalid value: \"bogus\": must be one of privileged, "
      "baseline, restricted, metadata.labels[pod-security.kubernetes.io/"
      "warn-version]: Invalid value: \"2\": must be \"latest\" or \"v1.x\"]");
  assert_int_equal(e.n_causes, 2);
  assert_string_equal(e.cause_field[0],
                      "metadata.labels[pod-security.kubernetes.io/enforce]");
  assert_string_equal(e.cause_message[0],
                      "Invalid value: \"bogus\": must be one of privileged, "
                      "baseline, restricted");
  free_req(r);

  r = new_req("CREATE", "namespaces", "", NULL, NULL, NULL,
              "{\"metadata\":{\"name\":\"n\",\"labels\":{"
              "\"pod-security.kubernetes.io/enforce\":\"baseline\"}}}",
              NULL);
  assert_int_equal(run(r, &e), 0);
  free_req(r);

  /* Bad labels that were already there do not block an update. */
  r = new_req("UPDATE", "namespaces", "", NULL, "n", NULL,
              "{\"metadata\":{\"name\":\"n\",\"labels\":{\"x\":\"y\","
              "\"pod-security.kubernetes.io/enforce\":\"bogus\"}}}",
              "{\"metadata\":{\"name\":\"n\",\"labels\":{"
              "\"pod-security.kubernetes.io/enforce\":\"bogus\"}}}");
  assert_int_equal(run(r, &e), 0);
  free_req(r);

  /* New bad labels do. */
  r = new_req("UPDATE", "namespaces", "", NULL, "n", NULL,
              "{\"metadata\":{\"name\":\"n\",\"labels\":{"
              "\"pod-security.kubernetes.io/enforce\":\"worse\"}}}",
              "{\"metadata\":{\"name\":\"n\",\"labels\":{"
              "\"pod-security.kubernetes.io/enforce\":\"bogus\"}}}");
  assert_int_equal(run(r, &e), -EINVAL);
  assert_int_equal(e.code, 422);
  free_req(r);
}

static void add_pod(const char *ns, const char *name, const char *owner_uid,
                    const char *spec)
{
  char json[2048];

  snprintf(json, sizeof json,
           "{\"metadata\":{\"name\":\"%s\",\"namespace\":\"%s\""
           "%s%s%s},\"spec\":%s}",
           name, ns,
           owner_uid ? ",\"ownerReferences\":[{\"kind\":\"ReplicaSet\","
                       "\"name\":\"rs\",\"controller\":true,\"uid\":\""
                     : "",
           owner_uid ? owner_uid : "", owner_uid ? "\"}]" : "", spec);
  kj_append(pods, parse(json));
}

static void test_namespace_tightening(void **state)
{
  static const char *const priv_spec =
      "{\"containers\":[{\"name\":\"c\",\"securityContext\":{"
      "\"privileged\":true}}]}";
  static const char *const plain_spec = "{\"containers\":[{\"name\":\"c\"}]}";
  static const char *const old_ns =
      "{\"metadata\":{\"name\":\"t\",\"labels\":{}}}";
  kapi_error e;
  kapi_req *r;

  (void)state;
  add_pod("t", "zeta", NULL, priv_spec);
  add_pod("t", "beta", NULL, priv_spec);
  add_pod("t", "alpha", NULL, plain_spec);
  add_pod("t", "rs-1", "u1", plain_spec);
  add_pod("t", "rs-2", "u1", plain_spec);
  add_pod("t", "rs-0", "u1", plain_spec);
  add_pod("t", "ok", NULL,
          "{\"containers\":[" GOOD_C("c") "]}");
  add_pod("t", "trusted", NULL,
          "{\"runtimeClassName\":\"trusted\",\"containers\":[{\"name\":\"c\","
          "\"securityContext\":{\"privileged\":true}}]}");
  add_pod("elsewhere", "other", NULL, priv_spec);

  r = new_req("UPDATE", "namespaces", "", NULL, "t", NULL,
              "{\"metadata\":{\"name\":\"t\",\"labels\":{"
              "\"pod-security.kubernetes.io/enforce\":\"restricted\"}}}",
              old_ns);
  assert_int_equal(run(r, &e), 0);
  assert_int_equal(r->n_warnings, 3);
  assert_string_equal(r->warnings[0],
                      "existing pods in namespace \"t\" violate the new "
                      "PodSecurity enforce level \"restricted:latest\"");
  assert_string_equal(r->warnings[1],
                      "alpha (and 3 other pods): allowPrivilegeEscalation != "
                      "false, unrestricted capabilities, runAsNonRoot != "
                      "true, seccompProfile");
  assert_string_equal(r->warnings[2],
                      "beta (and 1 other pod): privileged, "
                      "allowPrivilegeEscalation != false, unrestricted "
                      "capabilities, runAsNonRoot != true, seccompProfile");
  free_req(r);

  /* baseline: only the privileged pods. */
  r = new_req("UPDATE", "namespaces", "", NULL, "t", NULL,
              "{\"metadata\":{\"name\":\"t\",\"labels\":{"
              "\"pod-security.kubernetes.io/enforce\":\"baseline\","
              "\"pod-security.kubernetes.io/enforce-version\":\"v1.29\"}}}",
              old_ns);
  assert_int_equal(run(r, &e), 0);
  assert_int_equal(r->n_warnings, 2);
  assert_string_equal(r->warnings[0],
                      "existing pods in namespace \"t\" violate the new "
                      "PodSecurity enforce level \"baseline:v1.29\"");
  assert_string_equal(r->warnings[1], "beta (and 1 other pod): privileged");
  free_req(r);

  /* Relaxing, or keeping, the level lists nothing. */
  store_list_calls = 0;
  r = new_req("UPDATE", "namespaces", "", NULL, "t", NULL,
              "{\"metadata\":{\"name\":\"t\",\"labels\":{"
              "\"pod-security.kubernetes.io/enforce\":\"baseline\"}}}",
              "{\"metadata\":{\"name\":\"t\",\"labels\":{"
              "\"pod-security.kubernetes.io/enforce\":\"restricted\"}}}");
  assert_int_equal(run(r, &e), 0);
  assert_int_equal(r->n_warnings, 0);
  free_req(r);
  r = new_req("UPDATE", "namespaces", "", NULL, "t", NULL,
              "{\"metadata\":{\"name\":\"t\",\"labels\":{\"a\":\"b\","
              "\"pod-security.kubernetes.io/enforce\":\"restricted\"}}}",
              "{\"metadata\":{\"name\":\"t\",\"labels\":{"
              "\"pod-security.kubernetes.io/enforce\":\"restricted\"}}}");
  assert_int_equal(run(r, &e), 0);
  assert_int_equal(store_list_calls, 0);
  free_req(r);

  /* A namespace without violating pods gets no warnings. */
  r = new_req("UPDATE", "namespaces", "", NULL, "empty", NULL,
              "{\"metadata\":{\"name\":\"empty\",\"labels\":{"
              "\"pod-security.kubernetes.io/enforce\":\"restricted\"}}}",
              "{\"metadata\":{\"name\":\"empty\"}}");
  assert_int_equal(run(r, &e), 0);
  assert_int_equal(r->n_warnings, 0);
  assert_int_equal(store_list_calls, 1);
  free_req(r);

  /* Exempt namespaces are not checked. */
  r = new_req("UPDATE", "namespaces", "", NULL, "kube-system", NULL,
              "{\"metadata\":{\"name\":\"kube-system\",\"labels\":{"
              "\"pod-security.kubernetes.io/enforce\":\"restricted\"}}}",
              "{\"metadata\":{\"name\":\"kube-system\"}}");
  assert_int_equal(run(r, &e), 0);
  assert_int_equal(store_list_calls, 1);
  free_req(r);
}

static void test_init_failure(void **state)
{
  const kapi_plugin_desc *d = kapi_plugin_describe();
  const char *bad = "{\"defaults\":{\"enforce\":\"nope\"}}";
  kapi_error e;

  (void)state;
  memset(&e, 0, sizeof e);
  ops = NULL;
  assert_true(d->init(NULL, &fake_api, bad, strlen(bad), &e) < 0);
  assert_null(ops);
  assert_string_equal(e.message, "PodSecurity invalid: defaults.enforce: "
                                 "Invalid value: \"nope\": must be one of "
                                 "privileged, baseline, restricted");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_checks_table),
      cmocka_unit_test(test_reasons),
      cmocka_unit_test(test_check_order),
      cmocka_unit_test(test_levels_and_versions),
      cmocka_unit_test(test_labels),
      cmocka_unit_test(test_quote),
      cmocka_unit_test(test_config),
      cmocka_unit_test(test_config_errors),
      cmocka_unit_test(test_init_failure),
      cmocka_unit_test_setup_teardown(test_enforce, setup_plugin,
                                      teardown_plugin),
      cmocka_unit_test_setup_teardown(test_warn_and_audit, setup_plugin,
                                      teardown_plugin),
      cmocka_unit_test_setup_teardown(test_exemptions, setup_plugin,
                                      teardown_plugin),
      cmocka_unit_test_setup_teardown(test_pod_updates_and_subresources,
                                      setup_plugin, teardown_plugin),
      cmocka_unit_test_setup_teardown(test_workloads, setup_plugin,
                                      teardown_plugin),
      cmocka_unit_test_setup_teardown(test_namespace_labels, setup_plugin,
                                      teardown_plugin),
      cmocka_unit_test_setup_teardown(test_namespace_tightening, setup_plugin,
                                      teardown_plugin),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
