/*
 * pod.c - the "pods" resource (core/v1 Pod) as a kapi plugin.
 *
 * Mirrors upstream's pod registry strategy (pkg/registry/core/pod/
 * strategy.go), its defaulting (pkg/apis/core/v1/defaults.go), the key
 * parts of its validation (pkg/apis/core/validation/validation.go, with
 * the same field paths and messages), the QoS class (pkg/apis/core/
 * helper/qos) and the pod printer (pkg/printers/internalversion).
 *
 * The plugin reaches objects only through the host API.  Defaulting and
 * validation walk the pod from handle to handle (a container, then its
 * ports), each step one member lookup; the place of a value is carried
 * as a `loc`, from which upstream's field path used in errors
 * ("spec.containers[0].image") is rendered only when an error needs it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapi/plugin.h"

#define LOC_MAX 512

static const kapi_host_api *api;

/* ------------------------------------------------------------------ */
/* Locations and reading values                                        */
/* ------------------------------------------------------------------ */

/*
 * Values are reached from the handle the caller already holds (a
 * container, a port), one member at a time, never by a pointer from the
 * root.  The place of a value is kept for its errors: a chain of
 * frames on the stack, the member `key` (or, key NULL, the element
 * `index`) of `up`; the root has no `up`.  Upstream's field path
 * ("spec.containers[0].image"), or the JSON pointer, is rendered from
 * the chain only when needed, into LOC_MAX bytes, cut when full: these
 * were fixed-size buffers, and the cut is part of the behaviour.
 */
typedef struct loc {
  const struct loc *up;
  const char *key;
  size_t index;
} loc;

static const loc loc_root = {NULL, NULL, 0};
static const loc loc_spec = {&loc_root, "spec", 0};

/* The member of `up` read with the one-token pointer ptr ("/image"). */
static loc loc_member(const loc *up, const char *ptr)
{
  loc l = {up, ptr + 1, 0};
  return l;
}

static loc loc_elem(const loc *up, size_t i)
{
  loc l = {up, NULL, i};
  return l;
}

/* Appends s at buf[n] (len bytes in all), cutting it when full; returns
 * the new length.  A cut pointer simply reads as absent. */
static size_t buf_put(char *buf, size_t len, size_t n, const char *s)
{
  while (*s && n + 1 < len)
    buf[n++] = *s++;
  buf[n] = '\0';
  return n;
}

/* "<open>i<close>" into idx (24 bytes), without snprintf's cost: paths
 * are rendered for every name checked, not only for errors. */
static const char *index_text(char *idx, char open, size_t i, char close)
{
  char *p = idx + 23;

  *p = '\0';
  if (close)
    *--p = close;
  do
    *--p = (char)('0' + i % 10);
  while ((i /= 10) != 0);
  *--p = open;
  return p;
}

/* Upstream's field path of l into buf; returns its length. */
static size_t loc_field(const loc *l, char *buf, size_t len)
{
  char idx[24];
  size_t n;

  if (!l->up) {
    buf[0] = '\0';
    return 0;
  }
  n = loc_field(l->up, buf, len);
  if (!l->key)
    return buf_put(buf, len, n, index_text(idx, '[', l->index, ']'));
  if (n)
    n = buf_put(buf, len, n, ".");
  return buf_put(buf, len, n, l->key);
}

/* The JSON pointer of l into buf, escaping '~' and '/' in keys (map keys
 * such as "nvidia.com/gpu" contain slashes); returns its length. */
static size_t loc_pointer(const loc *l, char *buf, size_t len)
{
  char idx[24];
  const char *k;
  size_t n;

  if (!l->up) {
    buf[0] = '\0';
    return 0;
  }
  n = loc_pointer(l->up, buf, len);
  if (!l->key)
    return buf_put(buf, len, n, index_text(idx, '/', l->index, '\0'));
  n = buf_put(buf, len, n, "/");
  for (k = l->key; *k; k++) {
    char c[2] = {*k, '\0'};
    n = buf_put(buf, len, n, *k == '~' ? "~0" : *k == '/' ? "~1" : c);
  }
  return n;
}

/* The value at ptr under o: NULL when absent (or o is NULL). */
static const kapi_obj *at(const kapi_obj *o, const char *ptr)
{
  return api->obj_lookup(o, ptr);
}

/* Handles found in the pod being defaulted point into that mutable
 * object; the host API hands them out const. */
static kapi_obj *mut(const kapi_obj *o)
{
  return (kapi_obj *)o;
}

/* Members of an array or object; 0 for anything else (or absent). */
static size_t count(const kapi_obj *o)
{
  kapi_obj_type t = api->obj_type(o);
  return t == KAPI_OBJ_ARRAY || t == KAPI_OBJ_OBJECT ? api->obj_len(o) : 0;
}

/* Elements of v when it is an array, else 0. */
static size_t val_len(const kapi_obj *v)
{
  return api->obj_type(v) == KAPI_OBJ_ARRAY ? api->obj_len(v) : 0;
}

/* v's text when v is a string, else NULL. */
static const char *val_str(const kapi_obj *v)
{
  return api->obj_type(v) == KAPI_OBJ_STRING ? api->obj_get(v, "") : NULL;
}

static int val_str_is(const kapi_obj *v, const char *want)
{
  const char *s = val_str(v);
  return s && !strcmp(s, want);
}

static int val_int(const kapi_obj *v, int64_t *out)
{
  return v ? api->obj_int(v, out) : -ENOENT;
}

static int val_true(const kapi_obj *v)
{
  const char *s = api->obj_get(v, "");
  return api->obj_type(v) == KAPI_OBJ_BOOL && s && !strcmp(s, "true");
}

/*
 * Upstream decodes into Go structs, where an absent field, null and ""
 * are all the zero value.  Defaults and "required" checks follow that.
 */
static int val_unset(const kapi_obj *v)
{
  switch (api->obj_type(v)) {
  case KAPI_OBJ_NONE:
  case KAPI_OBJ_NULL:
    return 1;
  case KAPI_OBJ_STRING:
    return !*api->obj_get(v, "");
  default:
    return 0;
  }
}

/* Like val_unset, for non-pointer Go integers (0 is the zero value). */
static int val_int_unset(const kapi_obj *v)
{
  int64_t n;
  return val_unset(v) || (val_int(v, &n) == 0 && n == 0);
}

/* The same, for the value at a pointer from o. */
static kapi_obj_type type_at(const kapi_obj *o, const char *ptr)
{
  return api->obj_type(at(o, ptr));
}

static const char *str_at(const kapi_obj *o, const char *ptr)
{
  return val_str(at(o, ptr));
}

static int str_at_is(const kapi_obj *o, const char *ptr, const char *want)
{
  return val_str_is(at(o, ptr), want);
}

static int int_at(const kapi_obj *o, const char *ptr, int64_t *out)
{
  return val_int(at(o, ptr), out);
}

static size_t len_at(const kapi_obj *o, const char *ptr)
{
  return val_len(at(o, ptr));
}

static int is_unset(const kapi_obj *o, const char *ptr)
{
  return val_unset(at(o, ptr));
}

/* The member `key` of object o, found by name (no pointer escaping). */
static const kapi_obj *member(const kapi_obj *o, const char *key)
{
  size_t i, n;

  if (api->obj_type(o) != KAPI_OBJ_OBJECT)
    return NULL;
  n = api->obj_len(o);
  for (i = 0; i < n; i++)
    if (!strcmp(api->obj_key(o, i), key))
      return api->obj_index(o, i);
  return NULL;
}

/*
 * The members `names` (one-token pointers, "/image") of object o, found
 * in one pass over its keys into got[] (NULL when absent, or when o is
 * no object).  The spec and each container are read member by member,
 * many members each, and a lookup per member would scan the keys every
 * time.  The first of duplicate keys wins, as it does for a lookup.
 */
static void members_of(const kapi_obj *o, const char *const *names,
                       size_t n_names, const kapi_obj **got)
{
  size_t i, j, n;
  const char *k;

  for (j = 0; j < n_names; j++)
    got[j] = NULL;
  if (api->obj_type(o) != KAPI_OBJ_OBJECT)
    return;
  n = api->obj_len(o);
  for (i = 0; i < n; i++) {
    k = api->obj_key(o, i);
    for (j = 0; j < n_names; j++) {
      if (names[j][1] != k[0] || strcmp(names[j] + 1, k))
        continue;
      if (!got[j])
        got[j] = api->obj_index(o, i);
      break;
    }
  }
}

/* The members of a container read by defaulting and validation. */
enum {
  CT_NAME, CT_IMAGE, CT_PULL_POLICY, CT_MESSAGE_PATH, CT_MESSAGE_POLICY,
  CT_PORTS, CT_ENV, CT_MOUNTS, CT_RESOURCES, CT_LIVENESS, CT_READINESS,
  CT_STARTUP, CT_LIFECYCLE, CT_RESTART_POLICY, CT_N
};
static const char *const container_members[CT_N] = {
    "/name", "/image", "/imagePullPolicy", "/terminationMessagePath",
    "/terminationMessagePolicy", "/ports", "/env", "/volumeMounts",
    "/resources", "/livenessProbe", "/readinessProbe", "/startupProbe",
    "/lifecycle", "/restartPolicy"};

/* The members of the spec read by defaulting and validation. */
enum {
  SP_VOLUMES, SP_CONTAINERS, SP_INIT_CONTAINERS, SP_EPHEMERAL_CONTAINERS,
  SP_HOST_NETWORK, SP_DNS_POLICY, SP_DNS_CONFIG, SP_RESTART_POLICY,
  SP_SCHEDULER_NAME, SP_SECURITY_CONTEXT, SP_GRACE, SP_SERVICE_LINKS,
  SP_SCHEDULING_GATES, SP_SERVICE_ACCOUNT, SP_NODE_NAME, SP_DEADLINE,
  SP_HOSTNAME, SP_SUBDOMAIN, SP_TOLERATIONS, SP_PRIORITY_CLASS,
  SP_PREEMPTION_POLICY, SP_N
};
static const char *const spec_members[SP_N] = {
    "/volumes", "/containers", "/initContainers", "/ephemeralContainers",
    "/hostNetwork", "/dnsPolicy", "/dnsConfig", "/restartPolicy",
    "/schedulerName", "/securityContext", "/terminationGracePeriodSeconds",
    "/enableServiceLinks", "/schedulingGates", "/serviceAccountName",
    "/nodeName", "/activeDeadlineSeconds", "/hostname", "/subdomain",
    "/tolerations", "/priorityClassName", "/preemptionPolicy"};

/* s as a JSON string literal, malloc'ed; NULL when out of memory. */
static char *json_quote(const char *s)
{
  size_t n = 3;
  const char *p;
  char *out, *w;

  for (p = s; *p; p++)
    n += (unsigned char)*p < 0x20 ? 6 : (*p == '"' || *p == '\\') ? 2 : 1;
  out = malloc(n);
  if (!out)
    return NULL;
  w = out;
  *w++ = '"';
  for (p = s; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '"' || c == '\\') {
      *w++ = '\\';
      *w++ = (char)c;
    } else if (c < 0x20) {
      w += sprintf(w, "\\u%04x", c);
    } else {
      *w++ = (char)c;
    }
  }
  *w++ = '"';
  *w = '\0';
  return out;
}

/* ------------------------------------------------------------------ */
/* Quantities (apimachinery resource.Quantity), enough to add and       */
/* compare them: values are kept in milli-units, rounded up as upstream */
/* rounds requests and limits to milli precision.                       */
/* ------------------------------------------------------------------ */

typedef __int128 qty_t;

/* Larger quantities are refused rather than overflow (10^36 milli). */
#define QTY_MAX ((qty_t)1000000000000000000 * 1000000000000000000)

/* *v *= by, or -ERANGE past QTY_MAX (both are non-negative). */
static int qty_mul(qty_t *v, qty_t by)
{
  if (by != 0 && *v > QTY_MAX / by)
    return -ERANGE;
  *v *= by;
  return 0;
}

static qty_t pow10_small(int exp)
{
  qty_t r = 1;
  while (exp-- > 0)
    r *= 10;
  return r;
}

/* Quantity suffixes: decimal SI (a power of ten) or binary (of two). */
static const struct {
  const char *text;
  int exp10, bin;
} suffixes[] = {
    {"", 0, 0},   {"n", -9, 0},  {"u", -6, 0},  {"m", -3, 0},
    {"k", 3, 0},  {"M", 6, 0},   {"G", 9, 0},   {"T", 12, 0},
    {"P", 15, 0}, {"E", 18, 0},  {"Ki", 0, 10}, {"Mi", 0, 20},
    {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50}, {"Ei", 0, 60},
};

/* Parses "128Mi", "0.5", "100m", "1e3" into milli-units.  0 or -EINVAL. */
static int quantity_parse(const char *s, qty_t *out)
{
  qty_t mant = 0, scale;
  int neg = 0, frac = 0, digits = 0, exp10 = 0, bin = 0;
  const char *p = s;
  size_t i;

  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  for (; *p >= '0' && *p <= '9'; p++, digits++)
    mant = mant * 10 + (*p - '0');
  if (*p == '.')
    for (p++; *p >= '0' && *p <= '9'; p++, digits++, frac++)
      mant = mant * 10 + (*p - '0');
  if (!digits || digits > 18)
    return -EINVAL;

  for (i = 0; i < sizeof suffixes / sizeof *suffixes; i++)
    if (!strcmp(p, suffixes[i].text))
      break;
  if (i < sizeof suffixes / sizeof *suffixes) {
    exp10 = suffixes[i].exp10;
    bin = suffixes[i].bin;
  } else if (*p == 'e' || *p == 'E') {
    char *end;
    long e = strtol(p + 1, &end, 10);
    if (end == p + 1 || *end || e < -30 || e > 30)
      return -EINVAL;
    exp10 = (int)e;
  } else {
    return -EINVAL;
  }

  /* value = mant * 10^-frac * 10^exp10 * 2^bin; in milli: * 10^3 */
  exp10 += 3 - frac;
  if (qty_mul(&mant, (qty_t)1 << bin) < 0 ||
      (exp10 > 0 && (exp10 > 36 || qty_mul(&mant, pow10_small(exp10)) < 0)))
    return -ERANGE;
  if (exp10 < 0) {
    if (exp10 < -36)
      return -ERANGE;
    scale = pow10_small(-exp10);
    mant = (mant + scale - 1) / scale; /* round up, as upstream does */
  }
  *out = neg ? -mant : mant;
  return 0;
}

/* The quantity at o (a string or a number), or -EINVAL. */
static int quantity_of(const kapi_obj *o, qty_t *out)
{
  kapi_obj_type t = api->obj_type(o);

  if (t != KAPI_OBJ_STRING && t != KAPI_OBJ_NUMBER)
    return -EINVAL;
  return quantity_parse(api->obj_get(o, ""), out);
}

/* ------------------------------------------------------------------ */
/* Defaults (pkg/apis/core/v1/defaults.go)                              */
/* ------------------------------------------------------------------ */

/*
 * Defaults are set through the handle of the parent object and a
 * one-token pointer ("/protocol").  A set may replace (and free) the
 * member it sets, never the parent, so the parent's handle stays good,
 * and so do handles to its other members; a member's own handle is
 * never used after it was set.
 */
static void default_str(const kapi_obj *parent, const char *ptr,
                        const kapi_obj *cur, const char *value)
{
  if (val_unset(cur))
    api->obj_set_str(mut(parent), ptr, value);
}

/* For Go `int32` fields: 0 counts as unset. */
static void default_int(const kapi_obj *parent, const char *ptr,
                        int64_t value)
{
  if (val_int_unset(at(parent, ptr)))
    api->obj_set_int(mut(parent), ptr, value);
}

/* For Go `*int32` fields: only absent (or null) counts as unset. */
static void default_int_ptr(const kapi_obj *parent, const char *ptr,
                            int64_t value)
{
  kapi_obj_type t = type_at(parent, ptr);

  if (t == KAPI_OBJ_NONE || t == KAPI_OBJ_NULL)
    api->obj_set_int(mut(parent), ptr, value);
}

/*
 * imagePullPolicy: Always when the image's tag is "latest", or when it
 * has neither tag nor digest (the runtime then pulls "latest"); else
 * IfNotPresent.  A ':' only starts a tag after the last '/', since
 * "registry:5000/app" names a port.
 */
static const char *default_pull_policy(const char *image)
{
  const char *name_end, *p, *tag = NULL;

  if (!image)
    return "Always";
  name_end = strchr(image, '@');
  if (!name_end)
    name_end = image + strlen(image);
  for (p = image; p < name_end; p++) {
    if (*p == '/')
      tag = NULL;
    else if (*p == ':')
      tag = p + 1;
  }
  if (!tag)
    return *name_end == '@' ? "IfNotPresent" : "Always";
  if (name_end - tag == 6 && !strncmp(tag, "latest", 6))
    return "Always";
  return "IfNotPresent";
}

/* parent: a probe or a lifecycle handler (may be absent). */
static void default_http_get(const kapi_obj *parent)
{
  const kapi_obj *h = at(parent, "/httpGet");

  if (api->obj_type(h) != KAPI_OBJ_OBJECT)
    return;
  default_str(h, "/path", at(h, "/path"), "/");
  default_str(h, "/scheme", at(h, "/scheme"), "HTTP");
}

/* p: the probe (may be absent). */
static void default_probe(const kapi_obj *p)
{
  if (api->obj_type(p) != KAPI_OBJ_OBJECT)
    return;
  default_int(p, "/timeoutSeconds", 1);
  default_int(p, "/periodSeconds", 10);
  default_int(p, "/successThreshold", 1);
  default_int(p, "/failureThreshold", 3);
  default_http_get(p);
}

/* lc: the container's lifecycle (may be absent). */
static void default_lifecycle(const kapi_obj *lc)
{
  default_http_get(at(lc, "/postStart"));
  default_http_get(at(lc, "/preStop"));
}

/* ObjectFieldSelector.apiVersion defaults to "v1" wherever it appears. */
static void default_field_ref(const kapi_obj *parent)
{
  const kapi_obj *f = at(parent, "/fieldRef");

  if (api->obj_type(f) == KAPI_OBJ_OBJECT)
    default_str(f, "/apiVersion", at(f, "/apiVersion"), "v1");
}

static void default_env(const kapi_obj *env)
{
  size_t i, n = val_len(env);

  for (i = 0; i < n; i++)
    default_field_ref(at(api->obj_index(env, i), "/valueFrom"));
}

static void default_ports(const kapi_obj *ports, int host_network)
{
  const kapi_obj *port;
  size_t i, n = val_len(ports);
  int64_t cport;

  for (i = 0; i < n; i++) {
    port = api->obj_index(ports, i);
    default_str(port, "/protocol", at(port, "/protocol"), "TCP");
    /* hostNetwork pods listen on the node: hostPort = containerPort. */
    if (host_network && val_int_unset(at(port, "/hostPort")) &&
        val_int(at(port, "/containerPort"), &cport) == 0)
      api->obj_set_int(mut(port), "/hostPort", cport);
  }
}

/*
 * Pods only (not templates): a limit without a request sets the request
 * to the same quantity, resource by resource.  The request is set by
 * its whole pointer from the pod, cut at LOC_MAX like every pointer
 * here always was (a resource name may be of any length).  The set only
 * adds to (or creates) `requests`: the limits stay where they are.
 */
static void default_requests_from_limits(kapi_obj *pod, const loc *cl,
                                         const kapi_obj *res)
{
  const kapi_obj *lim = at(res, "/limits");
  loc res_l = loc_member(cl, "/resources");
  loc req_l = loc_member(&res_l, "/requests");
  char ptr[LOC_MAX];
  size_t i, n;

  if (api->obj_type(lim) != KAPI_OBJ_OBJECT)
    return;
  n = api->obj_len(lim);
  for (i = 0; i < n; i++) {
    loc r = {&req_l, api->obj_key(lim, i), 0};
    char *json;

    if (member(at(res, "/requests"), r.key))
      continue;
    json = api->obj_to_json(api->obj_index(lim, i));
    if (!json)
      continue;
    loc_pointer(&r, ptr, sizeof ptr);
    api->obj_set_json(pod, ptr, json);
    api->free(json);
  }
}

/* c and its members cf (see container_members). */
static void default_container(const kapi_obj *c, const kapi_obj *const *cf,
                              int host_network)
{
  if (api->obj_type(c) != KAPI_OBJ_OBJECT)
    return;
  default_str(c, "/imagePullPolicy", cf[CT_PULL_POLICY],
              default_pull_policy(val_str(cf[CT_IMAGE])));
  default_str(c, "/terminationMessagePath", cf[CT_MESSAGE_PATH],
              "/dev/termination-log");
  default_str(c, "/terminationMessagePolicy", cf[CT_MESSAGE_POLICY], "File");
  default_ports(cf[CT_PORTS], host_network);
  default_env(cf[CT_ENV]);
  default_probe(cf[CT_LIVENESS]);
  default_probe(cf[CT_READINESS]);
  default_probe(cf[CT_STARTUP]);
  default_lifecycle(cf[CT_LIFECYCLE]);
}

/* list: the spec's member ptr ("/containers"). */
static void default_container_list(kapi_obj *pod, const kapi_obj *list,
                                   const char *ptr, int host_network,
                                   int requests_from_limits)
{
  const kapi_obj *c, *cf[CT_N];
  loc list_l = loc_member(&loc_spec, ptr), cl;
  size_t i, n = val_len(list);

  for (i = 0; i < n; i++) {
    c = api->obj_index(list, i);
    members_of(c, container_members, CT_N, cf);
    default_container(c, cf, host_network);
    if (requests_from_limits) {
      cl = loc_elem(&list_l, i);
      default_requests_from_limits(pod, &cl, cf[CT_RESOURCES]);
    }
  }
}

/* A volume that names no source at all is an emptyDir. */
static int volume_has_source(const kapi_obj *vol)
{
  size_t i, n = api->obj_len(vol);

  for (i = 0; i < n; i++) {
    kapi_obj_type t = api->obj_type(api->obj_index(vol, i));
    if (strcmp(api->obj_key(vol, i), "name") && t != KAPI_OBJ_NULL)
      return 1;
  }
  return 0;
}

static void default_downward_items(const kapi_obj *parent)
{
  const kapi_obj *items = at(parent, "/items");
  size_t i, n = val_len(items);

  for (i = 0; i < n; i++)
    default_field_ref(api->obj_index(items, i));
}

static void default_projected(const kapi_obj *proj)
{
  const kapi_obj *sources, *s, *part;
  size_t i, n;

  default_int_ptr(proj, "/defaultMode", 0644);
  sources = at(proj, "/sources");
  n = val_len(sources);
  for (i = 0; i < n; i++) {
    s = api->obj_index(sources, i);
    part = at(s, "/serviceAccountToken");
    if (api->obj_type(part) == KAPI_OBJ_OBJECT)
      default_int_ptr(part, "/expirationSeconds", 3600);
    default_downward_items(at(s, "/downwardAPI"));
  }
}

static void default_volumes(const kapi_obj *list)
{
  static const char *const moded[] = {"/secret", "/configMap",
                                      "/downwardAPI"};
  const kapi_obj *v, *src;
  size_t i, j, n = val_len(list);

  for (i = 0; i < n; i++) {
    v = api->obj_index(list, i);
    if (api->obj_type(v) != KAPI_OBJ_OBJECT)
      continue;
    if (!volume_has_source(v)) {
      api->obj_set_json(mut(v), "/emptyDir", "{}");
      continue;
    }
    for (j = 0; j < sizeof moded / sizeof *moded; j++) {
      src = at(v, moded[j]);
      if (api->obj_type(src) == KAPI_OBJ_OBJECT)
        default_int_ptr(src, "/defaultMode", 0644);
    }
    default_downward_items(at(v, "/downwardAPI"));
    src = at(v, "/projected");
    if (api->obj_type(src) == KAPI_OBJ_OBJECT)
      default_projected(src);
  }
}

/*
 * SetDefaults_PodSpec + SetDefaults_Pod.  Runs on create and on update,
 * as upstream defaults every decoded object: a PUT of the original
 * manifest must compare equal to the stored, defaulted pod.
 */
static void default_pod_spec(kapi_obj *pod)
{
  const kapi_obj *spec = at(pod, "/spec"), *sf[SP_N];
  int64_t grace;
  int host_network;

  /* A missing spec decodes as an empty PodSpec, which gets defaults. */
  if (val_unset(spec)) {
    api->obj_set_json(pod, "/spec", "{}");
    spec = at(pod, "/spec"); /* the old value, if any, was freed */
  }
  if (api->obj_type(spec) != KAPI_OBJ_OBJECT)
    return;
  members_of(spec, spec_members, SP_N, sf);
  host_network = val_true(sf[SP_HOST_NETWORK]);

  default_str(spec, "/dnsPolicy", sf[SP_DNS_POLICY], "ClusterFirst");
  default_str(spec, "/restartPolicy", sf[SP_RESTART_POLICY], "Always");
  default_str(spec, "/schedulerName", sf[SP_SCHEDULER_NAME],
              "default-scheduler");
  if (api->obj_type(sf[SP_SECURITY_CONTEXT]) != KAPI_OBJ_OBJECT)
    api->obj_set_json(mut(spec), "/securityContext", "{}");
  if (val_int(sf[SP_GRACE], &grace) < 0)
    api->obj_set_int(mut(spec), "/terminationGracePeriodSeconds", 30);
  else if (grace < 0) /* upstream >= 1.27: negative is 1 */
    api->obj_set_int(mut(spec), "/terminationGracePeriodSeconds", 1);
  if (api->obj_type(sf[SP_SERVICE_LINKS]) != KAPI_OBJ_BOOL)
    api->obj_set_bool(mut(spec), "/enableServiceLinks", 1);

  default_container_list(pod, sf[SP_CONTAINERS], "/containers", host_network,
                         1);
  default_container_list(pod, sf[SP_INIT_CONTAINERS], "/initContainers",
                         host_network, 1);
  default_container_list(pod, sf[SP_EPHEMERAL_CONTAINERS],
                         "/ephemeralContainers", 0, 0);
  default_volumes(sf[SP_VOLUMES]);
}

/* ------------------------------------------------------------------ */
/* QoS class (pkg/apis/core/helper/qos: ComputePodQOS)                  */
/* ------------------------------------------------------------------ */

static const char *const qos_resources[] = {"cpu", "memory"};
#define N_QOS_RESOURCES 2

typedef struct qos_sums {
  qty_t requests[N_QOS_RESOURCES], limits[N_QOS_RESOURCES];
  int has_request[N_QOS_RESOURCES], has_limit[N_QOS_RESOURCES];
  int guaranteed; /* every container so far limits both cpu and memory */
} qos_sums;

/* Adds the positive cpu/memory quantities of one ResourceList; returns
 * a bit per resource found. */
static int qos_add(const kapi_obj *list, qty_t *sum, int *has)
{
  int i, found = 0;
  qty_t q;

  for (i = 0; i < N_QOS_RESOURCES; i++) {
    if (quantity_of(member(list, qos_resources[i]), &q) < 0 || q <= 0)
      continue;
    sum[i] = sum[i] > QTY_MAX - q ? QTY_MAX : sum[i] + q; /* saturate */
    has[i] = 1;
    found |= 1 << i;
  }
  return found;
}

static void qos_add_containers(const kapi_obj *spec, const char *ptr,
                               qos_sums *s)
{
  const kapi_obj *list = at(spec, ptr), *res;
  size_t i, n = val_len(list);

  for (i = 0; i < n; i++) {
    res = at(api->obj_index(list, i), "/resources");
    qos_add(at(res, "/requests"), s->requests, s->has_request);
    if (qos_add(at(res, "/limits"), s->limits, s->has_limit) !=
        (1 << N_QOS_RESOURCES) - 1)
      s->guaranteed = 0;
  }
}

/*
 * BestEffort: no container requests or limits cpu or memory.
 * Guaranteed: every container limits both, and the summed requests equal
 * the summed limits.  Burstable: the rest.  Init containers count.
 */
static const char *pod_qos_class(const kapi_obj *pod)
{
  const kapi_obj *spec = at(pod, "/spec");
  qos_sums s;
  int i, any = 0, n_req = 0, n_lim = 0;

  memset(&s, 0, sizeof s);
  s.guaranteed = 1;
  qos_add_containers(spec, "/containers", &s);
  qos_add_containers(spec, "/initContainers", &s);
  for (i = 0; i < N_QOS_RESOURCES; i++) {
    any |= s.has_request[i] | s.has_limit[i];
    n_req += s.has_request[i];
    n_lim += s.has_limit[i];
    if (s.has_request[i] &&
        (!s.has_limit[i] || s.limits[i] != s.requests[i]))
      s.guaranteed = 0;
  }
  if (!any)
    return "BestEffort";
  if (s.guaranteed && n_req == n_lim)
    return "Guaranteed";
  return "Burstable";
}

/* ------------------------------------------------------------------ */
/* Strategy: create                                                    */
/* ------------------------------------------------------------------ */

/*
 * PrepareForCreate: defaults, then a fresh status: the client's status
 * is dropped, phase is Pending and the QoS class is fixed for the pod's
 * life.  A pod with scheduling gates says why it is not scheduled.
 */
static void pod_prepare_for_create(void *st, kapi_obj *pod)
{
  (void)st;
  default_pod_spec(pod);
  /* The client's status is replaced by an empty one.  Most creates send
   * none: setting the phase then makes the object, without parsing
   * "{}" (a set creates the objects missing on its way). */
  if (at(pod, "/status"))
    api->obj_set_json(pod, "/status", "{}");
  api->obj_set_str(pod, "/status/phase", "Pending");
  api->obj_set_str(pod, "/status/qosClass", pod_qos_class(pod));
  if (len_at(pod, "/spec/schedulingGates") > 0)
    api->obj_set_json(pod, "/status/conditions",
                      "[{\"type\":\"PodScheduled\",\"status\":\"False\","
                      "\"reason\":\"SchedulingGated\",\"message\":"
                      "\"Scheduling is blocked due to non-empty scheduling "
                      "gates\"}]");
}

/* ------------------------------------------------------------------ */
/* Validation (ValidatePodCreate / ValidatePodSpec)                     */
/* ------------------------------------------------------------------ */

/* One validation pass: the pod's spec read and the error list written.
 * The pod is not changed while it is validated: its handles stay good. */
typedef struct vctx {
  kapi_obj *errs;
  int n;                    /* errors appended */
  const kapi_obj *spec;     /* may be NULL */
  const kapi_obj *sf[SP_N]; /* its members (see spec_members) */
} vctx;

static void vctx_init(vctx *v, const kapi_obj *pod, kapi_obj *errs)
{
  v->errs = errs;
  v->n = 0;
  v->spec = at(pod, "/spec");
  members_of(v->spec, spec_members, SP_N, v->sf);
}

static void err_add(vctx *v, const loc *l, const char *type,
                    const char *bad_json, const char *detail)
{
  char fld[LOC_MAX];

  loc_field(l, fld, sizeof fld);
  if (api->field_error(v->errs, fld, type, bad_json, detail) == 0)
    v->n++;
}

static void err_required(vctx *v, const loc *l, const char *detail)
{
  err_add(v, l, "FieldValueRequired", NULL, detail);
}

static void err_forbidden(vctx *v, const loc *l, const char *detail)
{
  err_add(v, l, "FieldValueForbidden", NULL, detail);
}

/* An error whose bad value is the string s. */
static void err_str(vctx *v, const loc *l, const char *type, const char *s,
                    const char *detail)
{
  char *json = json_quote(s);
  err_add(v, l, type, json ? json : "\"\"", detail);
  free(json);
}

static void err_int(vctx *v, const loc *l, const char *type, int64_t n,
                    const char *detail)
{
  char json[32];
  snprintf(json, sizeof json, "%lld", (long long)n);
  err_add(v, l, type, json, detail);
}

/* The value val found at l, as JSON, as the bad value of an error. */
static void err_value(vctx *v, const loc *l, const kapi_obj *val,
                      const char *type, const char *detail)
{
  char *json = api->obj_to_json(val);
  err_add(v, l, type, json ? json : "null", detail);
  api->free(json);
}

/* field.NotSupported: detail lists the supported values, quoted, in the
 * order upstream lists them. */
static void err_not_supported(vctx *v, const loc *l, const char *value,
                              const char *const *supported)
{
  char detail[256] = "supported values: ";
  size_t i;

  for (i = 0; supported[i]; i++)
    snprintf(detail + strlen(detail), sizeof detail - strlen(detail),
             "%s\"%s\"", i ? ", " : "", supported[i]);
  err_str(v, l, "FieldValueNotSupported", value, detail);
}

/* Required when unset, NotSupported when not one of `supported`. */
static void check_enum(vctx *v, const loc *l, const kapi_obj *val,
                       const char *const *supported)
{
  const char *s = val_str(val);
  size_t i;

  if (val_unset(val)) {
    err_required(v, l, NULL);
    return;
  }
  if (!s) {
    err_value(v, l, val, "FieldValueInvalid", "must be a string");
    return;
  }
  for (i = 0; supported[i]; i++)
    if (!strcmp(s, supported[i]))
      return;
  err_not_supported(v, l, s, supported);
}

/* check_enum of the member ptr of o (at l's child). */
static void check_enum_at(vctx *v, const loc *l, const kapi_obj *o,
                          const char *ptr, const char *const *supported)
{
  loc f = loc_member(l, ptr);
  check_enum(v, &f, at(o, ptr), supported);
}

static void check_dns_label(vctx *v, const loc *l, const kapi_obj *val)
{
  const char *s = val_str(val);
  char fld[LOC_MAX];

  if (s && *s) {
    loc_field(l, fld, sizeof fld);
    v->n += api->validate_dns_label(v->errs, fld, s);
  }
}

static void check_dns_subdomain(vctx *v, const loc *l, const kapi_obj *val)
{
  const char *s = val_str(val);
  char fld[LOC_MAX];

  if (s && *s) {
    loc_field(l, fld, sizeof fld);
    v->n += api->validate_dns_subdomain(v->errs, fld, s);
  }
}

/* Is `name` the string member ptr ("/name") of one of the first `limit`
 * elements of the array list? */
static int name_in_list(const kapi_obj *list, const char *ptr, size_t limit,
                        const char *name)
{
  size_t i, n = val_len(list);

  for (i = 0; i < n && i < limit; i++)
    if (val_str_is(at(api->obj_index(list, i), ptr), name))
      return 1;
  return 0;
}

static const char *const port_protocols[] = {"SCTP", "TCP", "UDP", NULL};

static void check_port_number(vctx *v, const loc *l, const kapi_obj *val,
                              int required)
{
  int64_t n = 0;

  if (val_int_unset(val)) {
    if (required)
      err_required(v, l, NULL);
    return;
  }
  if (val_int(val, &n) < 0)
    err_value(v, l, val, "FieldValueInvalid", "must be an integer");
  else if (n < 1 || n > 65535)
    err_int(v, l, "FieldValueInvalid", n,
            "must be between 1 and 65535, inclusive");
}

static void validate_ports(vctx *v, const loc *cl, const kapi_obj *ports)
{
  const kapi_obj *port;
  loc ports_l = loc_member(cl, "/ports"), port_l, f;
  size_t i, n = val_len(ports);
  const char *name;

  for (i = 0; i < n; i++) {
    port = api->obj_index(ports, i);
    port_l = loc_elem(&ports_l, i);
    name = val_str(at(port, "/name"));
    if (name && *name && name_in_list(ports, "/name", i, name)) {
      f = loc_member(&port_l, "/name");
      err_str(v, &f, "FieldValueDuplicate", name, NULL);
    }
    f = loc_member(&port_l, "/containerPort");
    check_port_number(v, &f, at(port, "/containerPort"), 1);
    f = loc_member(&port_l, "/hostPort");
    check_port_number(v, &f, at(port, "/hostPort"), 0);
    check_enum_at(v, &port_l, port, "/protocol", port_protocols);
  }
}

static void validate_env(vctx *v, const loc *cl, const kapi_obj *env)
{
  loc env_l = loc_member(cl, "/env"), e_l, f;
  size_t i, n = val_len(env);

  for (i = 0; i < n; i++) {
    if (!val_unset(at(api->obj_index(env, i), "/name")))
      continue;
    e_l = loc_elem(&env_l, i);
    f = loc_member(&e_l, "/name");
    err_required(v, &f, NULL);
  }
}

static void validate_volume_mounts(vctx *v, const loc *cl,
                                   const kapi_obj *mounts)
{
  const kapi_obj *m, *f;
  loc mounts_l = loc_member(cl, "/volumeMounts"), m_l, f_l;
  size_t i, n = val_len(mounts);
  const char *s;

  for (i = 0; i < n; i++) {
    m = api->obj_index(mounts, i);
    m_l = loc_elem(&mounts_l, i);
    f = at(m, "/name");
    f_l = loc_member(&m_l, "/name");
    s = val_str(f);
    if (val_unset(f))
      err_required(v, &f_l, NULL);
    if (!name_in_list(v->sf[SP_VOLUMES], "/name", (size_t)-1, s ? s : ""))
      err_str(v, &f_l, "FieldValueNotFound", s ? s : "", NULL);
    f = at(m, "/mountPath");
    f_l = loc_member(&m_l, "/mountPath");
    s = val_str(f);
    if (val_unset(f))
      err_required(v, &f_l, NULL);
    else if (s && name_in_list(mounts, "/mountPath", i, s))
      err_str(v, &f_l, "FieldValueInvalid", s, "must be unique");
  }
}

static const char *const pull_policies[] = {"Always", "IfNotPresent",
                                            "Never", NULL};
static const char *const message_policies[] = {
    "File", "FallbackToLogsOnError", NULL};

/* validateContainerCommon: checks every kind of container shares.  cf:
 * the container's members (see container_members). */
static void validate_container_common(vctx *v, const loc *cl,
                                      const kapi_obj *const *cf)
{
  loc f = loc_member(cl, "/name");

  if (val_unset(cf[CT_NAME]))
    err_required(v, &f, NULL);
  else
    check_dns_label(v, &f, cf[CT_NAME]);
  if (val_unset(cf[CT_IMAGE])) {
    f = loc_member(cl, "/image");
    err_required(v, &f, NULL);
  }
  f = loc_member(cl, "/terminationMessagePolicy");
  check_enum(v, &f, cf[CT_MESSAGE_POLICY], message_policies);
  validate_ports(v, cl, cf[CT_PORTS]);
  validate_env(v, cl, cf[CT_ENV]);
  validate_volume_mounts(v, cl, cf[CT_MOUNTS]);
  f = loc_member(cl, "/imagePullPolicy");
  check_enum(v, &f, cf[CT_PULL_POLICY], pull_policies);
}

/* validateContainerOnlyForPod: pods (unlike templates) refuse an image
 * with surrounding blanks. */
static void validate_image_whitespace(vctx *v, const loc *cl,
                                      const kapi_obj *c)
{
  const char *s = str_at(c, "/image");
  loc f;
  size_t len;

  if (!s || !*s)
    return;
  len = strlen(s);
  if (strchr(" \t\n\v\f\r", s[0]) || strchr(" \t\n\v\f\r", s[len - 1])) {
    f = loc_member(cl, "/image");
    err_str(v, &f, "FieldValueInvalid", s,
            "must not have leading or trailing whitespace");
  }
}

/* Liveness and startup probes must use successThreshold 1.  p: the
 * container's member ptr. */
static void validate_probe_threshold(vctx *v, const loc *cl,
                                     const kapi_obj *p, const char *ptr)
{
  loc p_l, f;
  int64_t n;

  if (api->obj_type(p) == KAPI_OBJ_OBJECT &&
      int_at(p, "/successThreshold", &n) == 0 && n != 1) {
    p_l = loc_member(cl, ptr);
    f = loc_member(&p_l, "/successThreshold");
    err_int(v, &f, "FieldValueInvalid", n, "must be 1");
  }
}

/* Container names are unique across containers and initContainers. */
static void check_unique_name(vctx *v, const loc *cl, const kapi_obj *name_v,
                              const kapi_obj *list, size_t index,
                              int also_containers)
{
  const char *name = val_str(name_v);
  loc f;

  if (!name || !*name)
    return;
  if (name_in_list(list, "/name", index, name) ||
      (also_containers &&
       name_in_list(v->sf[SP_CONTAINERS], "/name", (size_t)-1, name))) {
    f = loc_member(cl, "/name");
    err_str(v, &f, "FieldValueDuplicate", name, NULL);
  }
}

static void validate_containers(vctx *v)
{
  const kapi_obj *list = v->sf[SP_CONTAINERS], *cf[CT_N];
  loc list_l = loc_member(&loc_spec, "/containers"), cl, f;
  size_t i, n = val_len(list);

  if (n == 0) {
    err_required(v, &list_l, NULL);
    return;
  }
  for (i = 0; i < n; i++) {
    members_of(api->obj_index(list, i), container_members, CT_N, cf);
    cl = loc_elem(&list_l, i);
    validate_container_common(v, &cl, cf);
    check_unique_name(v, &cl, cf[CT_NAME], list, i, 0);
    validate_probe_threshold(v, &cl, cf[CT_LIVENESS], "/livenessProbe");
    validate_probe_threshold(v, &cl, cf[CT_STARTUP], "/startupProbe");
    if (!val_unset(cf[CT_RESTART_POLICY])) {
      f = loc_member(&cl, "/restartPolicy");
      err_forbidden(v, &f, "may not be set for non-init containers");
    }
  }
}

static const char *const init_restart_policies[] = {"Always", NULL};

static void validate_init_containers(vctx *v)
{
  static const int sidecar_only[] = {CT_LIFECYCLE, CT_LIVENESS,
                                     CT_READINESS, CT_STARTUP};
  const kapi_obj *list = v->sf[SP_INIT_CONTAINERS], *cf[CT_N];
  loc list_l = loc_member(&loc_spec, "/initContainers"), cl, f;
  size_t i, j, n = val_len(list);
  int sidecar;

  for (i = 0; i < n; i++) {
    members_of(api->obj_index(list, i), container_members, CT_N, cf);
    cl = loc_elem(&list_l, i);
    validate_container_common(v, &cl, cf);
    sidecar = 0;
    if (!val_unset(cf[CT_RESTART_POLICY])) {
      f = loc_member(&cl, "/restartPolicy");
      check_enum(v, &f, cf[CT_RESTART_POLICY], init_restart_policies);
      sidecar = val_str_is(cf[CT_RESTART_POLICY], "Always");
    }
    check_unique_name(v, &cl, cf[CT_NAME], list, i, 1);
    if (sidecar) {
      validate_probe_threshold(v, &cl, cf[CT_LIVENESS], "/livenessProbe");
      validate_probe_threshold(v, &cl, cf[CT_STARTUP], "/startupProbe");
      continue;
    }
    for (j = 0; j < sizeof sidecar_only / sizeof *sidecar_only; j++) {
      if (val_unset(cf[sidecar_only[j]]))
        continue;
      f = loc_member(&cl, container_members[sidecar_only[j]]);
      err_forbidden(v, &f, "may not be set for init containers without "
                           "restartPolicy=Always");
    }
  }
}

static void validate_volumes(vctx *v)
{
  const kapi_obj *list = v->sf[SP_VOLUMES], *f;
  loc list_l = loc_member(&loc_spec, "/volumes"), vol_l, f_l;
  size_t i, n = val_len(list);
  const char *name;

  for (i = 0; i < n; i++) {
    vol_l = loc_elem(&list_l, i);
    f_l = loc_member(&vol_l, "/name");
    f = at(api->obj_index(list, i), "/name");
    name = val_str(f);
    if (val_unset(f))
      err_required(v, &f_l, NULL);
    else
      check_dns_label(v, &f_l, f);
    if (name && *name && name_in_list(list, "/name", i, name))
      err_str(v, &f_l, "FieldValueDuplicate", name, NULL);
  }
}

static const char *const taint_effects[] = {"NoSchedule", "PreferNoSchedule",
                                            "NoExecute", NULL};
static const char *const toleration_operators[] = {"Equal", "Exists", NULL};

static void validate_toleration(vctx *v, const loc *tl, const kapi_obj *t)
{
  const kapi_obj *op = at(t, "/operator"), *effect = at(t, "/effect");
  loc op_l = loc_member(tl, "/operator"), effect_l = loc_member(tl, "/effect");
  const char *op_s = val_str(op), *value_s = str_at(t, "/value");

  /* An empty key with Exists matches every taint; with Equal it is
   * meaningless. */
  if (is_unset(t, "/key") && !val_str_is(op, "Exists"))
    err_str(v, &op_l, "FieldValueInvalid", op_s ? op_s : "",
            "operator must be Exists when `key` is empty, which means "
            "\"match all values and all keys\"");
  if (!is_unset(t, "/tolerationSeconds") && !val_str_is(effect, "NoExecute"))
    err_str(v, &effect_l, "FieldValueInvalid",
            val_str(effect) ? val_str(effect) : "",
            "effect must be 'NoExecute' when `tolerationSeconds` is set");
  if (op_s && *op_s && strcmp(op_s, "Equal") && strcmp(op_s, "Exists"))
    err_not_supported(v, &op_l, op_s, toleration_operators);
  else if (val_str_is(op, "Exists") && value_s && *value_s)
    err_str(v, &op_l, "FieldValueInvalid", value_s,
            "value must be empty when `operator` is 'Exists'");
  if (!val_unset(effect))
    check_enum(v, &effect_l, effect, taint_effects);
}

static void validate_tolerations(vctx *v)
{
  const kapi_obj *list = v->sf[SP_TOLERATIONS];
  loc list_l = loc_member(&loc_spec, "/tolerations"), t_l;
  size_t i, n = val_len(list);

  for (i = 0; i < n; i++) {
    t_l = loc_elem(&list_l, i);
    validate_toleration(v, &t_l, api->obj_index(list, i));
  }
}

static void validate_scheduling_gates(vctx *v)
{
  const kapi_obj *list = v->sf[SP_SCHEDULING_GATES];
  loc list_l = loc_member(&loc_spec, "/schedulingGates"), g_l;
  size_t i, n = val_len(list);
  const char *name;

  for (i = 0; i < n; i++) {
    name = str_at(api->obj_index(list, i), "/name");
    if (name && name_in_list(list, "/name", i, name)) {
      g_l = loc_elem(&list_l, i);
      err_str(v, &g_l, "FieldValueDuplicate", name, NULL);
    }
  }
}

static const char *const restart_policies[] = {"Always", "OnFailure",
                                               "Never", NULL};
static const char *const dns_policies[] = {
    "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None", NULL};
static const char *const preemption_policies[] = {"PreemptLowerPriority",
                                                  "Never", NULL};

/* check_dns_label / check_dns_subdomain of the spec's member m. */
static void check_spec_name(vctx *v, int m, int subdomain)
{
  const kapi_obj *val = v->sf[m];
  loc f;

  if (api->obj_type(val) != KAPI_OBJ_STRING)
    return; /* nothing to check: saves rendering the path */
  f = loc_member(&loc_spec, spec_members[m]);
  if (subdomain)
    check_dns_subdomain(v, &f, val);
  else
    check_dns_label(v, &f, val);
}

/* check_enum of the spec's member m. */
static void check_spec_enum(vctx *v, int m, const char *const *supported)
{
  loc f = loc_member(&loc_spec, spec_members[m]);
  check_enum(v, &f, v->sf[m], supported);
}

/* ValidatePodSpec, in upstream's order, for the checks kept here. */
static void validate_pod_spec(vctx *v)
{
  const kapi_obj *const *sf = v->sf;
  loc f;
  int64_t n;

  f = loc_member(&loc_spec, "/terminationGracePeriodSeconds");
  if (val_unset(sf[SP_GRACE]))
    err_required(v, &f, NULL);
  else if (val_int(sf[SP_GRACE], &n) == 0 && n < 0)
    err_int(v, &f, "FieldValueInvalid", n,
            "must be greater than or equal to 0");

  validate_volumes(v);
  validate_containers(v);
  validate_init_containers(v);

  check_spec_enum(v, SP_RESTART_POLICY, restart_policies);
  check_spec_enum(v, SP_DNS_POLICY, dns_policies);
  if (val_str_is(sf[SP_DNS_POLICY], "None") &&
      api->obj_type(sf[SP_DNS_CONFIG]) != KAPI_OBJ_OBJECT) {
    f = loc_member(&loc_spec, "/dnsConfig");
    err_required(v, &f, "must provide `dnsConfig` when `dnsPolicy` is None");
  }
  validate_scheduling_gates(v);

  check_spec_name(v, SP_SERVICE_ACCOUNT, 1);
  check_spec_name(v, SP_NODE_NAME, 1);
  if (val_int(sf[SP_DEADLINE], &n) == 0 && (n < 1 || n > 2147483647)) {
    f = loc_member(&loc_spec, "/activeDeadlineSeconds");
    err_int(v, &f, "FieldValueInvalid", n,
            "must be between 1 and 2147483647, inclusive");
  }
  check_spec_name(v, SP_HOSTNAME, 0);
  check_spec_name(v, SP_SUBDOMAIN, 0);
  validate_tolerations(v);
  check_spec_name(v, SP_PRIORITY_CLASS, 1);
  if (!val_unset(sf[SP_PREEMPTION_POLICY]))
    check_spec_enum(v, SP_PREEMPTION_POLICY, preemption_policies);
}

/* validatePodMetadataAndSpec: the spec plus the pod-only image check. */
static void validate_pod_metadata_and_spec(vctx *v)
{
  static const int lists[] = {SP_CONTAINERS, SP_INIT_CONTAINERS};
  const kapi_obj *list;
  loc list_l, cl;
  size_t i, n, k;

  validate_pod_spec(v);
  for (k = 0; k < 2; k++) {
    list = v->sf[lists[k]];
    list_l = loc_member(&loc_spec, spec_members[lists[k]]);
    n = val_len(list);
    for (i = 0; i < n; i++) {
      cl = loc_elem(&list_l, i);
      validate_image_whitespace(v, &cl, api->obj_index(list, i));
    }
  }
}

/* ValidatePodCreate. */
static int pod_validate(void *st, const kapi_obj *pod, kapi_obj *errs)
{
  vctx v;
  loc f;

  (void)st;
  vctx_init(&v, pod, errs);
  validate_pod_metadata_and_spec(&v);
  /* Ephemeral containers are added later through their subresource. */
  if (val_len(v.sf[SP_EPHEMERAL_CONTAINERS]) > 0) {
    f = loc_member(&loc_spec, "/ephemeralContainers");
    err_forbidden(&v, &f, "cannot be set on create");
  }
  if (!val_unset(v.sf[SP_NODE_NAME]) &&
      val_len(v.sf[SP_SCHEDULING_GATES]) > 0) {
    f = loc_member(&loc_spec, "/nodeName");
    err_forbidden(&v, &f,
                  "cannot be set until all schedulingGates have been "
                  "cleared");
  }
  return v.n;
}

/* ------------------------------------------------------------------ */
/* Strategy: update                                                    */
/* ------------------------------------------------------------------ */

/* Copies the value at ptr in `from` over `to` (removing it when absent). */
static void copy_value(kapi_obj *to, const kapi_obj *from, const char *ptr)
{
  const kapi_obj *v = at(from, ptr);
  char *json;

  if (!v) {
    api->obj_remove(to, ptr);
    return;
  }
  json = api->obj_to_json(v);
  if (json)
    api->obj_set_json(to, ptr, json);
  api->free(json);
}

/* PrepareForUpdate: the main endpoint never changes status (that is the
 * /status subresource's job); the new spec is defaulted like a create. */
static void pod_prepare_for_update(void *st, kapi_obj *pod,
                                   const kapi_obj *old)
{
  (void)st;
  default_pod_spec(pod);
  copy_value(pod, old, "/status");
}

/*
 * Semantic equality (apimachinery's equality.Semantic): a Go struct
 * cannot tell an absent field from null, "", 0, false or an empty list,
 * and quantities compare by value ("1" equals "1000m").
 */
enum { EQ_PLAIN, EQ_QUANTITY_MAP, EQ_QUANTITY };

static int is_zero(const kapi_obj *o)
{
  const char *s;

  switch (api->obj_type(o)) {
  case KAPI_OBJ_NONE:
  case KAPI_OBJ_NULL:
    return 1;
  case KAPI_OBJ_STRING:
    return !*api->obj_get(o, "");
  case KAPI_OBJ_NUMBER:
    s = api->obj_get(o, "");
    return strtod(s, NULL) == 0;
  case KAPI_OBJ_BOOL:
    return !strcmp(api->obj_get(o, ""), "false");
  default:
    return count(o) == 0;
  }
}

static int child_mode(const char *key, int mode)
{
  if (!strcmp(key, "limits") || !strcmp(key, "requests") ||
      !strcmp(key, "overhead"))
    return EQ_QUANTITY_MAP;
  if (!strcmp(key, "sizeLimit") || !strcmp(key, "divisor") ||
      mode == EQ_QUANTITY_MAP)
    return EQ_QUANTITY;
  return EQ_PLAIN;
}

static int values_equal(const kapi_obj *a, const kapi_obj *b, int mode);

/* Objects a and b equal, ignoring the members named in skip. */
static int objects_equal(const kapi_obj *a, const kapi_obj *b, int mode,
                         const char *const *skip)
{
  const kapi_obj *objs[2] = {a, b};
  size_t i, j, n, k;

  for (k = 0; k < 2; k++) {
    n = count(objs[k]);
    for (i = 0; i < n; i++) {
      const char *key = api->obj_key(objs[k], i);
      int skipped = 0;
      for (j = 0; skip && skip[j]; j++)
        skipped |= !strcmp(key, skip[j]);
      if (skipped)
        continue;
      /* Pass 2 only needs members b has and a lacks. */
      if (k == 1 && member(a, key))
        continue;
      if (!values_equal(member(a, key), member(b, key),
                        child_mode(key, mode)))
        return 0;
    }
  }
  return 1;
}

static int values_equal(const kapi_obj *a, const kapi_obj *b, int mode)
{
  kapi_obj_type ta = api->obj_type(a), tb = api->obj_type(b);
  const char *sa, *sb;
  qty_t qa, qb;
  size_t i, n;

  if (is_zero(a) && is_zero(b))
    return 1;
  if (mode == EQ_QUANTITY && quantity_of(a, &qa) == 0 &&
      quantity_of(b, &qb) == 0)
    return qa == qb;
  if ((ta == KAPI_OBJ_OBJECT || tb == KAPI_OBJ_OBJECT) && ta != tb)
    return 0;
  if ((ta == KAPI_OBJ_ARRAY || tb == KAPI_OBJ_ARRAY) && ta != tb)
    return 0;
  if (ta == KAPI_OBJ_OBJECT)
    return objects_equal(a, b, mode, NULL);
  if (ta == KAPI_OBJ_ARRAY) {
    n = count(a);
    if (n != count(b))
      return 0;
    for (i = 0; i < n; i++)
      if (!values_equal(api->obj_index(a, i), api->obj_index(b, i), mode))
        return 0;
    return 1;
  }
  sa = api->obj_get(a, "");
  sb = api->obj_get(b, "");
  if (!sa || !sb)
    return 0;
  if (!strcmp(sa, sb))
    return 1;
  return ta == KAPI_OBJ_NUMBER && tb == KAPI_OBJ_NUMBER &&
         strtod(sa, NULL) == strtod(sb, NULL);
}

/* Container lists equal except for their images (updatable). */
static int containers_equal_but_images(const kapi_obj *a, const kapi_obj *b)
{
  static const char *const skip[] = {"image", NULL};
  size_t i, n = count(a);

  if (n != count(b))
    return 0;
  for (i = 0; i < n; i++)
    if (!objects_equal(api->obj_index(a, i), api->obj_index(b, i),
                       EQ_PLAIN, skip))
      return 0;
  return 1;
}

/*
 * The "munged spec" comparison of ValidatePodUpdate: the new spec must
 * equal the old one once the updatable fields are set aside: images,
 * activeDeadlineSeconds, tolerations and schedulingGates (checked on
 * their own), and terminationGracePeriodSeconds going from negative to 1.
 */
static int spec_changed_elsewhere(const kapi_obj *spec, const kapi_obj *old)
{
  static const char *const skip[] = {
      "containers", "initContainers", "activeDeadlineSeconds",
      "tolerations", "schedulingGates", "terminationGracePeriodSeconds",
      NULL};
  int64_t new_grace = 0, old_grace = 0;
  int have_new, have_old;

  if (!objects_equal(old, spec, EQ_PLAIN, skip))
    return 1;
  if (!containers_equal_but_images(member(old, "containers"),
                                   member(spec, "containers")) ||
      !containers_equal_but_images(member(old, "initContainers"),
                                   member(spec, "initContainers")))
    return 1;
  have_new = api->obj_int(member(spec, "terminationGracePeriodSeconds"),
                          &new_grace) == 0;
  have_old = api->obj_int(member(old, "terminationGracePeriodSeconds"),
                          &old_grace) == 0;
  if (have_old && old_grace < 0 && have_new && new_grace == 1)
    return 0;
  return have_new != have_old || new_grace != old_grace;
}

#define UPDATABLE_POD_SPEC_FIELDS                                        \
  "`spec.containers[*].image`,`spec.initContainers[*].image`,"           \
  "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to "  \
  "existing tolerations),`spec.terminationGracePeriodSeconds` (allow it " \
  "to be set to 1 if it was previously negative)"

/* activeDeadlineSeconds may be set, or lowered, never raised or unset. */
static int validate_deadline_update(vctx *v, const kapi_obj *old)
{
  loc f = loc_member(&loc_spec, "/activeDeadlineSeconds");
  int64_t n, o;
  int have_old = int_at(old, "/spec/activeDeadlineSeconds", &o) == 0;

  if (int_at(v->spec, "/activeDeadlineSeconds", &n) == 0) {
    if (n < 0 || n > 2147483647) {
      err_int(v, &f, "FieldValueInvalid", n,
              "must be between 0 and 2147483647, inclusive");
      return -1;
    }
    if (have_old && o < n) {
      err_int(v, &f, "FieldValueInvalid", n,
              "must be less than or equal to previous value");
      return -1;
    }
  } else if (have_old) {
    /* Upstream prints a nil bad value as the string "null". */
    err_add(v, &f, "FieldValueInvalid", "\"null\"",
            "must not update from a positive integer to nil value");
  }
  return 0;
}

/* Each old toleration must still be there; only tolerationSeconds of an
 * existing one may change. */
static void validate_tolerations_update(vctx *v, const kapi_obj *old)
{
  static const char *const skip[] = {"tolerationSeconds", NULL};
  const kapi_obj *olds = at(old, "/spec/tolerations");
  const kapi_obj *news = at(v->spec, "/tolerations");
  size_t i, j, n_old = count(olds), n_new = count(news);
  loc f;

  for (i = 0; i < n_old; i++) {
    int found = 0;
    for (j = 0; j < n_new && !found; j++)
      found = objects_equal(api->obj_index(olds, i), api->obj_index(news, j),
                            EQ_PLAIN, skip);
    if (!found) {
      f = loc_member(&loc_spec, "/tolerations");
      err_forbidden(v, &f, "existing toleration can not be modified except "
                           "its tolerationSeconds");
      return;
    }
  }
}

/* Scheduling gates can only be removed. */
static void validate_scheduling_gates_update(vctx *v, const kapi_obj *old)
{
  const kapi_obj *list = at(v->spec, "/schedulingGates");
  const kapi_obj *old_list = at(old, "/spec/schedulingGates");
  loc list_l = loc_member(&loc_spec, "/schedulingGates"), g_l, f;
  size_t i, n = val_len(list);
  const char *name;
  char detail[320];

  for (i = 0; i < n; i++) {
    name = str_at(api->obj_index(list, i), "/name");
    if (!name || name_in_list(old_list, "/name", (size_t)-1, name))
      continue;
    snprintf(detail, sizeof detail,
             "only deletion is allowed, but found new scheduling gate '%s'",
             name);
    g_l = loc_elem(&list_l, i);
    f = loc_member(&g_l, "/name");
    err_forbidden(v, &f, detail);
  }
}

/* ValidatePodUpdate: the new pod is valid, and only updatable fields of
 * the spec changed. */
static int pod_validate_update(void *st, const kapi_obj *pod,
                               const kapi_obj *old, kapi_obj *errs)
{
  static const char *const lists[] = {"/containers", "/initContainers"};
  const kapi_obj *old_spec = at(old, "/spec");
  vctx v;
  loc f;
  size_t k;

  (void)st;
  vctx_init(&v, pod, errs);
  validate_pod_metadata_and_spec(&v);
  for (k = 0; k < 2; k++) {
    if (len_at(v.spec, lists[k]) != len_at(old_spec, lists[k])) {
      f = loc_member(&loc_spec, lists[k]);
      err_forbidden(&v, &f, "pod updates may not add or remove containers");
      return v.n;
    }
  }
  if (validate_deadline_update(&v, old) < 0)
    return v.n;
  validate_tolerations_update(&v, old);
  validate_scheduling_gates_update(&v, old);
  if (spec_changed_elsewhere(v.spec, old_spec)) {
    /* Upstream appends a Go diff of the two specs; kapi leaves it out. */
    err_forbidden(&v, &loc_spec, "pod updates may not change fields other "
                                 "than " UPDATABLE_POD_SPEC_FIELDS);
  }
  return v.n;
}

/* ------------------------------------------------------------------ */
/* Strategy: delete (CheckGracefulDelete)                              */
/* ------------------------------------------------------------------ */

/*
 * The grace period is the request's, else the pod's own
 * terminationGracePeriodSeconds.  A pod that never reached a node, or
 * already finished, has nothing to stop: it goes at once.  Negative
 * periods mean 1 second.  The host keeps the pod while *grace > 0.
 */
static int pod_before_delete(void *st, kapi_obj *pod, int64_t *grace,
                             kapi_error *e)
{
  int64_t period = *grace;

  (void)st;
  (void)e;
  if (period == -1 &&
      int_at(pod, "/spec/terminationGracePeriodSeconds", &period) < 0)
    period = 30;
  if (is_unset(pod, "/spec/nodeName") ||
      str_at_is(pod, "/status/phase", "Succeeded") ||
      str_at_is(pod, "/status/phase", "Failed"))
    period = 0;
  if (period < 0)
    period = 1;
  *grace = period;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Strategy: the status subresource (podStatusStrategy)                */
/* ------------------------------------------------------------------ */

/*
 * The host keeps spec and the system fields of metadata.  Owner
 * references stay as stored too (old kubelets corrupted them through
 * this endpoint), and a status without a QoS class gets the fixed one
 * back.
 */
static void pod_prepare_for_status_update(void *st, kapi_obj *pod,
                                          const kapi_obj *old)
{
  (void)st;
  copy_value(pod, old, "/metadata/ownerReferences");
  if (is_unset(pod, "/status/qosClass") && !is_unset(old, "/status/qosClass"))
    copy_value(pod, old, "/status/qosClass");
}

/* ValidatePodStatusUpdate, for the checks kept here: names in the
 * status are names of nodes and of the pod's containers. */
static int pod_validate_status_update(void *st, const kapi_obj *pod,
                                      const kapi_obj *old, kapi_obj *errs)
{
  static const char *const lists[] = {"/containerStatuses",
                                      "/initContainerStatuses"};
  const kapi_obj *status = at(pod, "/status"), *list, *item;
  loc status_l = loc_member(&loc_root, "/status"), f, list_l, item_l;
  vctx v;
  size_t i, k, n;
  int64_t restarts;

  (void)st;
  (void)old;
  vctx_init(&v, pod, errs);
  f = loc_member(&status_l, "/nominatedNodeName");
  check_dns_subdomain(&v, &f, at(status, "/nominatedNodeName"));
  for (k = 0; k < 2; k++) {
    list = at(status, lists[k]);
    list_l = loc_member(&status_l, lists[k]);
    n = val_len(list);
    for (i = 0; i < n; i++) {
      item = api->obj_index(list, i);
      item_l = loc_elem(&list_l, i);
      if (is_unset(item, "/name")) {
        f = loc_member(&item_l, "/name");
        err_required(&v, &f, NULL);
      }
      if (int_at(item, "/restartCount", &restarts) == 0 && restarts < 0) {
        f = loc_member(&item_l, "/restartCount");
        err_int(&v, &f, "FieldValueInvalid", restarts,
                "must be greater than or equal to 0");
      }
    }
  }
  return v.n;
}

/* ------------------------------------------------------------------ */
/* Table (printPod)                                                    */
/* ------------------------------------------------------------------ */

static const kapi_column pod_columns[] = {
    {"Name", "string", "name",
     "Name must be unique within a namespace. Is required when creating "
     "resources, although some resources may allow a client to request the "
     "generation of an appropriate name automatically. Name is primarily "
     "intended for creation idempotence and configuration definition. "
     "Cannot be updated. More info: https://kubernetes.io/docs/concepts/"
     "overview/working-with-objects/names#names",
     0},
    {"Ready", "string", "",
     "The aggregate readiness state of this pod for accepting traffic.", 0},
    {"Status", "string", "",
     "The aggregate status of the containers in this pod.", 0},
    {"Restarts", "string", "",
     "The number of times the containers in this pod have been restarted "
     "and when the last container in this pod has restarted.",
     0},
    {"Age", "string", "",
     "CreationTimestamp is a timestamp representing the server time when "
     "this object was created. It is not guaranteed to be set in "
     "happens-before order across separate operations. Clients may not set "
     "this value. It is represented in RFC3339 form and is in UTC.", 0},
    {"IP", "string", "",
     "podIP address allocated to the pod. Routable at least within the "
     "cluster. Empty if not yet allocated.", 1},
    {"Node", "string", "",
     "NodeName indicates in which node this pod is scheduled. If empty, "
     "this pod is a candidate for scheduling by the scheduler defined in "
     "schedulerName.", 1},
    {"Nominated Node", "string", "",
     "nominatedNodeName is set only when this pod preempts other pods on "
     "the node, but it cannot be scheduled right away as preemption victims "
     "receive their graceful termination periods.", 1},
    {"Readiness Gates", "string", "",
     "If specified, all readiness gates will be evaluated for pod "
     "readiness.", 1},
};

static const char *member_str(const kapi_obj *o, const char *key)
{
  const kapi_obj *v = member(o, key);
  return api->obj_type(v) == KAPI_OBJ_STRING ? api->obj_get(v, "") : NULL;
}

static int64_t member_int(const kapi_obj *o, const char *key)
{
  int64_t n = 0;
  const kapi_obj *v = member(o, key);
  if (v && api->obj_int(v, &n) < 0)
    n = 0;
  return n;
}

static int member_true(const kapi_obj *o, const char *key)
{
  const kapi_obj *v = member(o, key);
  return api->obj_type(v) == KAPI_OBJ_BOOL &&
         !strcmp(api->obj_get(v, ""), "true");
}

static int nonempty(const char *s)
{
  return s && *s;
}

/* Is the pod condition `type` present with status True? */
static int condition_true(const kapi_obj *pod, const char *type)
{
  const kapi_obj *conds = at(pod, "/status/conditions");
  size_t i, n = count(conds);

  for (i = 0; i < n; i++) {
    const kapi_obj *c = api->obj_index(conds, i);
    const char *t = member_str(c, "type"), *s = member_str(c, "status");
    if (t && !strcmp(t, type))
      return s && !strcmp(s, "True");
  }
  return 0;
}

/* Sidecars are init containers with restartPolicy Always: they count as
 * regular containers once started. */
static int is_sidecar(const kapi_obj *pod, const char *name)
{
  const kapi_obj *list = at(pod, "/spec/initContainers");
  size_t i, n = count(list);

  for (i = 0; name && i < n; i++) {
    const kapi_obj *c = api->obj_index(list, i);
    const char *cn = member_str(c, "name"), *rp = member_str(c, "restartPolicy");
    if (cn && !strcmp(cn, name))
      return rp && !strcmp(rp, "Always");
  }
  return 0;
}

typedef struct pod_row {
  char reason[160];
  int64_t restarts;
  const char *last_restart; /* latest lastState.terminated.finishedAt */
  int ready, total;
} pod_row;

/* Counts a container's restarts and remembers its last termination.
 * RFC 3339 UTC timestamps order as strings. */
static void note_restarts(const kapi_obj *status, int64_t *restarts,
                          const char **last)
{
  const kapi_obj *term;
  const char *at_s;

  *restarts += member_int(status, "restartCount");
  term = member(member(status, "lastState"), "terminated");
  at_s = member_str(term, "finishedAt");
  if (nonempty(at_s) && (!*last || strcmp(at_s, *last) > 0))
    *last = at_s;
}

/* "Reason", or "Signal:N" / "ExitCode:N" for a termination without one. */
static void terminated_reason(char *buf, size_t len, const char *prefix,
                              const kapi_obj *term)
{
  const char *reason = member_str(term, "reason");
  int64_t sig = member_int(term, "signal");

  if (nonempty(reason))
    snprintf(buf, len, "%s%s", prefix, reason);
  else if (sig != 0)
    snprintf(buf, len, "%sSignal:%lld", prefix, (long long)sig);
  else
    snprintf(buf, len, "%sExitCode:%lld", prefix,
             (long long)member_int(term, "exitCode"));
}

/* The init containers: returns 1 while the pod is still initializing
 * (row->reason then says how far it got). */
static int scan_init_containers(const kapi_obj *pod, pod_row *row,
                                int64_t *sidecar_restarts,
                                const char **sidecar_last)
{
  const kapi_obj *list = at(pod, "/status/initContainerStatuses");
  size_t i, n = count(list), n_spec = len_at(pod, "/spec/initContainers");

  for (i = 0; i < n; i++) {
    const kapi_obj *cs = api->obj_index(list, i);
    const kapi_obj *state = member(cs, "state");
    const kapi_obj *term = member(state, "terminated");
    const kapi_obj *wait = member(state, "waiting");
    const char *wait_reason = member_str(wait, "reason");
    int sidecar = is_sidecar(pod, member_str(cs, "name"));

    note_restarts(cs, &row->restarts, &row->last_restart);
    if (sidecar)
      note_restarts(cs, sidecar_restarts, sidecar_last);

    if (api->obj_type(term) == KAPI_OBJ_OBJECT &&
        member_int(term, "exitCode") == 0)
      continue;
    if (sidecar && member_true(cs, "started")) {
      row->ready += member_true(cs, "ready");
      continue;
    }
    if (api->obj_type(term) == KAPI_OBJ_OBJECT)
      terminated_reason(row->reason, sizeof row->reason, "Init:", term);
    else if (nonempty(wait_reason) && strcmp(wait_reason, "PodInitializing"))
      snprintf(row->reason, sizeof row->reason, "Init:%s", wait_reason);
    else
      snprintf(row->reason, sizeof row->reason, "Init:%zu/%zu", i, n_spec);
    return 1;
  }
  return 0;
}

/* The regular containers, last to first, so that the first container's
 * waiting or terminated reason is the one shown. */
static void scan_containers(const kapi_obj *pod, pod_row *row)
{
  const kapi_obj *list = at(pod, "/status/containerStatuses");
  size_t i = count(list);
  int has_running = 0;

  while (i-- > 0) {
    const kapi_obj *cs = api->obj_index(list, i);
    const kapi_obj *state = member(cs, "state");
    const kapi_obj *term = member(state, "terminated");
    const char *wait_reason = member_str(member(state, "waiting"), "reason");

    note_restarts(cs, &row->restarts, &row->last_restart);
    if (nonempty(wait_reason))
      snprintf(row->reason, sizeof row->reason, "%s", wait_reason);
    else if (api->obj_type(term) == KAPI_OBJ_OBJECT)
      terminated_reason(row->reason, sizeof row->reason, "", term);
    else if (member_true(cs, "ready") &&
             api->obj_type(member(state, "running")) == KAPI_OBJ_OBJECT) {
      has_running = 1;
      row->ready++;
    }
  }
  /* A pod whose first container completed but another still runs. */
  if (!strcmp(row->reason, "Completed") && has_running)
    snprintf(row->reason, sizeof row->reason, "%s",
             condition_true(pod, "Ready") ? "Running" : "NotReady");
}

static void pod_row_compute(const kapi_obj *pod, pod_row *row)
{
  const char *phase = str_at(pod, "/status/phase");
  const char *reason = str_at(pod, "/status/reason");
  int64_t sidecar_restarts = 0;
  const char *sidecar_last = NULL;
  const kapi_obj *conds = at(pod, "/status/conditions");
  size_t i, n;

  memset(row, 0, sizeof *row);
  snprintf(row->reason, sizeof row->reason, "%s",
           nonempty(reason) ? reason : phase ? phase : "");
  n = count(conds);
  for (i = 0; i < n; i++) {
    const kapi_obj *c = api->obj_index(conds, i);
    const char *t = member_str(c, "type"), *r = member_str(c, "reason");
    if (t && r && !strcmp(t, "PodScheduled") && !strcmp(r, "SchedulingGated"))
      snprintf(row->reason, sizeof row->reason, "SchedulingGated");
  }

  row->total = (int)len_at(pod, "/spec/containers");
  n = len_at(pod, "/spec/initContainers");
  for (i = 0; i < n; i++) {
    char ptr[LOC_MAX];
    snprintf(ptr, sizeof ptr, "/spec/initContainers/%zu/restartPolicy", i);
    row->total += str_at_is(pod, ptr, "Always");
  }

  if (!scan_init_containers(pod, row, &sidecar_restarts, &sidecar_last) ||
      condition_true(pod, "Initialized")) {
    row->restarts = sidecar_restarts;
    row->last_restart = sidecar_last;
    scan_containers(pod, row);
  }

  if (!is_unset(pod, "/metadata/deletionTimestamp")) {
    if (nonempty(reason) && !strcmp(reason, "NodeLost"))
      snprintf(row->reason, sizeof row->reason, "Unknown");
    else if (!(phase && (!strcmp(phase, "Succeeded") ||
                         !strcmp(phase, "Failed"))))
      snprintf(row->reason, sizeof row->reason, "Terminating");
  }
}

static void append_age(kapi_obj *cells, const char *ts, int64_t now)
{
  char age[64];

  if (!nonempty(ts) || api->format_age(ts, now, age, sizeof age) < 0)
    snprintf(age, sizeof age, "<unknown>");
  api->obj_append_str(cells, "", age);
}

static void append_or_none(kapi_obj *cells, const char *s)
{
  api->obj_append_str(cells, "", nonempty(s) ? s : "<none>");
}

/* "true/total" over spec.readinessGates, or <none>. */
static void append_readiness_gates(kapi_obj *cells, const kapi_obj *pod)
{
  const kapi_obj *gates = at(pod, "/spec/readinessGates");
  size_t i, n = count(gates), ok = 0;
  char buf[48];

  if (n == 0) {
    append_or_none(cells, NULL);
    return;
  }
  for (i = 0; i < n; i++) {
    const char *t = member_str(api->obj_index(gates, i), "conditionType");
    ok += t && condition_true(pod, t);
  }
  snprintf(buf, sizeof buf, "%zu/%zu", ok, n);
  api->obj_append_str(cells, "", buf);
}

static int pod_table_row(void *st, const kapi_obj *pod, int64_t now,
                         kapi_obj *cells)
{
  pod_row row;
  char buf[96], age[64];
  const char *name = str_at(pod, "/metadata/name");
  const char *ip = str_at(pod, "/status/podIPs/0/ip");

  (void)st;
  pod_row_compute(pod, &row);
  api->obj_append_str(cells, "", name ? name : "");
  snprintf(buf, sizeof buf, "%d/%d", row.ready, row.total);
  api->obj_append_str(cells, "", buf);
  api->obj_append_str(cells, "", row.reason);
  if (row.restarts != 0 && row.last_restart &&
      api->format_age(row.last_restart, now, age, sizeof age) == 0) {
    snprintf(buf, sizeof buf, "%lld (%s ago)", (long long)row.restarts, age);
    api->obj_append_str(cells, "", buf);
  } else {
    api->obj_append_int(cells, "", row.restarts);
  }
  append_age(cells, str_at(pod, "/metadata/creationTimestamp"), now);
  append_or_none(cells, nonempty(ip) ? ip : str_at(pod, "/status/podIP"));
  append_or_none(cells, str_at(pod, "/spec/nodeName"));
  append_or_none(cells, str_at(pod, "/status/nominatedNodeName"));
  append_readiness_gates(cells, pod);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Schema (kapi's compact form, see kapi_resource_ops in plugin.h)      */
/* ------------------------------------------------------------------ */

/*
 * Written as JSON tokens and turned into one C string by the
 * preprocessor: STR() expands the S_* fragments first, then stringifies,
 * escaping the quotes.  Every field of PodSpec, Container and PodStatus
 * of Kubernetes 1.32 is listed, since the host rejects unknown fields
 * against it; volume sources other than the common ones, affinity and
 * container statuses are left free-form ("object").  ResourceLists are
 * "object" too: their quantities may arrive as JSON numbers (cpu: 1).
 */
#define STR(...) STR_(__VA_ARGS__)
#define STR_(...) #__VA_ARGS__

#define S_EXEC { "command": ["string"] }
#define S_HTTP_GET                                                     \
  { "path": "string", "port": "int-or-string", "host": "string",       \
    "scheme": "string",                                                \
    "httpHeaders": [{ "name": "string", "value": "string" }] }
#define S_TCP_SOCKET { "port": "int-or-string", "host": "string" }
#define S_PROBE                                                        \
  { "exec": S_EXEC, "httpGet": S_HTTP_GET, "tcpSocket": S_TCP_SOCKET,  \
    "grpc": { "port": "integer", "service": "string" },                \
    "initialDelaySeconds": "integer", "timeoutSeconds": "integer",     \
    "periodSeconds": "integer", "successThreshold": "integer",         \
    "failureThreshold": "integer",                                     \
    "terminationGracePeriodSeconds": "integer" }
#define S_HANDLER                                                      \
  { "exec": S_EXEC, "httpGet": S_HTTP_GET, "tcpSocket": S_TCP_SOCKET,  \
    "sleep": { "seconds": "integer" } }
#define S_SELINUX                                                      \
  { "user": "string", "role": "string", "type": "string",              \
    "level": "string" }
#define S_WINDOWS                                                      \
  { "gmsaCredentialSpecName": "string", "gmsaCredentialSpec": "string", \
    "runAsUserName": "string", "hostProcess": "boolean" }
#define S_PROFILE { "type": "string", "localhostProfile": "string" }
#define S_SECURITY_CONTEXT                                             \
  { "capabilities": { "add": ["string"], "drop": ["string"] },         \
    "privileged": "boolean", "seLinuxOptions": S_SELINUX,              \
    "windowsOptions": S_WINDOWS, "runAsUser": "integer",               \
    "runAsGroup": "integer", "runAsNonRoot": "boolean",                \
    "readOnlyRootFilesystem": "boolean",                               \
    "allowPrivilegeEscalation": "boolean", "procMount": "string",      \
    "seccompProfile": S_PROFILE, "appArmorProfile": S_PROFILE }
#define S_RESOURCES                                                    \
  { "limits": "object", "requests": "object",                          \
    "claims": [{ "name": "string", "request": "string" }] }
#define S_KEY_SELECTOR                                                 \
  { "name": "string", "key": "string", "optional": "boolean" }
#define S_FIELD_REF { "apiVersion": "string", "fieldPath": "string" }
#define S_RESOURCE_FIELD_REF                                           \
  { "containerName": "string", "resource": "string",                   \
    "divisor": "quantity" }
#define S_ENV_VAR                                                      \
  { "$mergeKey": "name", "$strategy": "merge", "$required": ["name"], \
    "name": "string", "value": "string",                               \
    "valueFrom": { "fieldRef": S_FIELD_REF,                            \
                   "resourceFieldRef": S_RESOURCE_FIELD_REF,           \
                   "configMapKeyRef": S_KEY_SELECTOR,                  \
                   "secretKeyRef": S_KEY_SELECTOR } }
#define S_ENV_FROM                                                     \
  { "prefix": "string",                                                \
    "configMapRef": { "name": "string", "optional": "boolean" },       \
    "secretRef": { "name": "string", "optional": "boolean" } }
#define S_CONTAINER_PORT                                               \
  { "$mergeKey": "containerPort", "$strategy": "merge",                \
    "$required": ["containerPort"],                                    \
    "name": "string", "hostPort": "integer", "containerPort": "integer", \
    "protocol": "string", "hostIP": "string" }
#define S_VOLUME_MOUNT                                                 \
  { "$mergeKey": "mountPath", "$strategy": "merge",                    \
    "$required": ["name", "mountPath"],                                \
    "name": "string", "readOnly": "boolean",                           \
    "recursiveReadOnly": "string", "mountPath": "string",              \
    "subPath": "string", "mountPropagation": "string",                 \
    "subPathExpr": "string" }
#define S_CONTAINER_FIELDS                                             \
  "$mergeKey": "name", "$strategy": "merge", "$required": ["name"],    \
  "name": "string", "image": "string", "command": ["string"],          \
  "args": ["string"], "workingDir": "string",                          \
  "ports": [S_CONTAINER_PORT], "envFrom": [S_ENV_FROM],                \
  "env": [S_ENV_VAR], "resources": S_RESOURCES,                        \
  "resizePolicy": [{ "resourceName": "string",                         \
                     "restartPolicy": "string" }],                     \
  "restartPolicy": "string", "volumeMounts": [S_VOLUME_MOUNT],         \
  "volumeDevices": [{ "name": "string", "devicePath": "string" }],     \
  "livenessProbe": S_PROBE, "readinessProbe": S_PROBE,                 \
  "startupProbe": S_PROBE,                                             \
  "lifecycle": { "postStart": S_HANDLER, "preStop": S_HANDLER,         \
                 "stopSignal": "string" },                             \
  "terminationMessagePath": "string",                                  \
  "terminationMessagePolicy": "string",                                \
  "imagePullPolicy": "enum:Always|Never|IfNotPresent",                 \
  "securityContext": S_SECURITY_CONTEXT, "stdin": "boolean",           \
  "stdinOnce": "boolean", "tty": "boolean"
#define S_KEY_TO_PATH                                                  \
  { "key": "string", "path": "string", "mode": "integer" }
#define S_DOWNWARD_FILE                                                \
  { "path": "string", "fieldRef": S_FIELD_REF,                         \
    "resourceFieldRef": S_RESOURCE_FIELD_REF, "mode": "integer" }
#define S_PROJECTION                                                   \
  { "secret": { "name": "string", "items": [S_KEY_TO_PATH],            \
                "optional": "boolean" },                               \
    "configMap": { "name": "string", "items": [S_KEY_TO_PATH],         \
                   "optional": "boolean" },                            \
    "downwardAPI": { "items": [S_DOWNWARD_FILE] },                     \
    "serviceAccountToken": { "audience": "string",                     \
                             "expirationSeconds": "integer",           \
                             "path": "string" },                       \
    "clusterTrustBundle": "object" }
#define S_VOLUME                                                       \
  { "$mergeKey": "name", "$strategy": "merge,retainKeys",             \
    "$required": ["name"], "name": "string",                           \
    "hostPath": { "path": "string", "type": "string" },                \
    "emptyDir": { "medium": "string", "sizeLimit": "quantity" },       \
    "secret": { "secretName": "string", "items": [S_KEY_TO_PATH],      \
                "defaultMode": "integer", "optional": "boolean" },     \
    "configMap": { "name": "string", "items": [S_KEY_TO_PATH],         \
                   "defaultMode": "integer", "optional": "boolean" },  \
    "persistentVolumeClaim": { "claimName": "string",                  \
                               "readOnly": "boolean" },                \
    "downwardAPI": { "items": [S_DOWNWARD_FILE],                       \
                     "defaultMode": "integer" },                       \
    "projected": { "sources": [S_PROJECTION],                          \
                   "defaultMode": "integer" },                         \
    "nfs": { "server": "string", "path": "string",                     \
             "readOnly": "boolean" },                                  \
    "image": { "reference": "string", "pullPolicy": "string" },        \
    "ephemeral": "object", "csi": "object",                            \
    "gcePersistentDisk": "object", "awsElasticBlockStore": "object",   \
    "gitRepo": "object", "iscsi": "object", "glusterfs": "object",     \
    "rbd": "object", "flexVolume": "object", "cinder": "object",       \
    "cephfs": "object", "flocker": "object", "fc": "object",           \
    "azureFile": "object", "vsphereVolume": "object",                  \
    "quobyte": "object", "azureDisk": "object",                        \
    "photonPersistentDisk": "object", "portworxVolume": "object",      \
    "scaleIO": "object", "storageos": "object" }
#define S_POD_SECURITY_CONTEXT                                         \
  { "seLinuxOptions": S_SELINUX, "windowsOptions": S_WINDOWS,          \
    "runAsUser": "integer", "runAsGroup": "integer",                   \
    "runAsNonRoot": "boolean", "supplementalGroups": ["integer"],      \
    "supplementalGroupsPolicy": "string", "fsGroup": "integer",        \
    "sysctls": [{ "name": "string", "value": "string" }],              \
    "fsGroupChangePolicy": "string", "seccompProfile": S_PROFILE,      \
    "appArmorProfile": S_PROFILE, "seLinuxChangePolicy": "string" }
#define S_POD_SPEC                                                     \
  { "volumes": [S_VOLUME],                                             \
    "initContainers": [{ S_CONTAINER_FIELDS }],                        \
    "containers": [{ S_CONTAINER_FIELDS }],                            \
    "ephemeralContainers": [{ S_CONTAINER_FIELDS,                      \
                              "targetContainerName": "string" }],      \
    "restartPolicy": "enum:Always|OnFailure|Never",                    \
    "terminationGracePeriodSeconds": "integer",                        \
    "activeDeadlineSeconds": "integer",                                \
    "dnsPolicy": "enum:ClusterFirstWithHostNet|ClusterFirst|Default|None", \
    "nodeSelector": "map", "serviceAccountName": "string",             \
    "serviceAccount": "string",                                        \
    "automountServiceAccountToken": "boolean", "nodeName": "string",   \
    "hostNetwork": "boolean", "hostPID": "boolean",                    \
    "hostIPC": "boolean", "shareProcessNamespace": "boolean",          \
    "securityContext": S_POD_SECURITY_CONTEXT,                         \
    "imagePullSecrets": [{ "$mergeKey": "name", "$strategy": "merge",  \
                           "name": "string" }],                        \
    "hostname": "string", "subdomain": "string", "affinity": "object", \
    "schedulerName": "string",                                         \
    "tolerations": [{ "$listType": "atomic",                           \
                      "key": "string", "operator": "string",           \
                      "value": "string", "effect": "string",           \
                      "tolerationSeconds": "integer" }],               \
    "hostAliases": [{ "ip": "string", "hostnames": ["string"] }],      \
    "priorityClassName": "string", "priority": "integer",              \
    "dnsConfig": { "nameservers": ["string"], "searches": ["string"],  \
                   "options": [{ "name": "string",                     \
                                 "value": "string" }] },               \
    "readinessGates": [{ "conditionType": "string" }],                 \
    "runtimeClassName": "string", "enableServiceLinks": "boolean",     \
    "preemptionPolicy": "string", "overhead": "object",                \
    "topologySpreadConstraints": [{                                    \
        "maxSkew": "integer", "topologyKey": "string",                 \
        "whenUnsatisfiable": "string", "labelSelector": "object",      \
        "minDomains": "integer", "nodeAffinityPolicy": "string",       \
        "nodeTaintsPolicy": "string", "matchLabelKeys": ["string"] }], \
    "setHostnameAsFQDN": "boolean", "os": { "name": "string" },        \
    "hostUsers": "boolean", "schedulingGates": [{ "name": "string" }], \
    "resourceClaims": [{ "name": "string",                             \
                         "resourceClaimName": "string",                \
                         "resourceClaimTemplateName": "string" }],     \
    "resources": S_RESOURCES }
#define S_POD_STATUS                                                   \
  { "observedGeneration": "integer", "phase": "string",                \
    "conditions": [{ "$mergeKey": "type", "$strategy": "merge",        \
                     "$required": ["type", "status"],                  \
                     "type": "string", "status": "string",             \
                     "observedGeneration": "integer",                  \
                     "lastProbeTime": "string",                        \
                     "lastTransitionTime": "string",                   \
                     "reason": "string", "message": "string" }],       \
    "message": "string", "reason": "string",                           \
    "nominatedNodeName": "string", "hostIP": "string",                 \
    "hostIPs": [{ "ip": "string" }], "podIP": "string",                \
    "podIPs": [{ "ip": "string" }], "startTime": "string",             \
    "initContainerStatuses": ["object"],                               \
    "containerStatuses": ["object"], "qosClass": "string",             \
    "ephemeralContainerStatuses": ["object"], "resize": "string",      \
    "resourceClaimStatuses": [{ "name": "string",                      \
                                "resourceClaimName": "string" }] }

static const char pod_schema[] = STR({
  "apiVersion": "string", "kind": "string", "metadata": "meta",
  "spec": S_POD_SPEC, "status": S_POD_STATUS
});

/* ------------------------------------------------------------------ */
/* Registration                                                        */
/* ------------------------------------------------------------------ */

static const char *const pod_short_names[] = {"po", NULL};
static const char *const pod_categories[] = {"all", NULL};

/* Field selectors upstream's PodToSelectableFields offers. */
static const kapi_field_label pod_fields[] = {
    {"spec.nodeName", "/spec/nodeName"},
    {"spec.restartPolicy", "/spec/restartPolicy"},
    {"spec.schedulerName", "/spec/schedulerName"},
    {"spec.serviceAccountName", "/spec/serviceAccountName"},
    {"status.phase", "/status/phase"},
    {"status.podIP", "/status/podIP"},
    {"status.nominatedNodeName", "/status/nominatedNodeName"},
};

static const kapi_resource_ops pod_ops = {
    .size = sizeof(kapi_resource_ops),
    .group = "",
    .version = "v1",
    .resource = "pods",
    .kind = "Pod",
    .singular = "pod",
    .short_names = pod_short_names,
    .categories = pod_categories,
    .namespaced = 1,
    .name_rule = KAPI_NAME_DNS_SUBDOMAIN,
    .allow_create_on_update = 0,
    .allow_unconditional_update = 1,
    .schema = pod_schema,
    .fields = pod_fields,
    .n_fields = sizeof pod_fields / sizeof *pod_fields,
    .columns = pod_columns,
    .n_columns = sizeof pod_columns / sizeof *pod_columns,
    .prepare_for_create = pod_prepare_for_create,
    .validate = pod_validate,
    .prepare_for_update = pod_prepare_for_update,
    .validate_update = pod_validate_update,
    .before_delete = pod_before_delete,
    .table_row = pod_table_row,
    .subresources = KAPI_SUB_STATUS | KAPI_SUB_BINDING | KAPI_SUB_LOG |
                    KAPI_SUB_EVICTION,
    .return_deleted_object = 1,
    .prepare_for_status_update = pod_prepare_for_status_update,
    .validate_status_update = pod_validate_status_update,
};

static int pod_init(kapi_plugin *self, const kapi_host_api *host,
                    const char *config, size_t config_len, kapi_error *e)
{
  (void)config;
  (void)config_len;
  (void)e;
  api = host;
  return api->register_resource(self, &pod_ops, NULL);
}

KAPI_PLUGIN_DEFINE(.name = "pod", .version = "0.1.0",
                   .description = "core/v1 pods: defaults, validation, "
                                  "graceful deletion and the pod table",
                   .license = "Apache-2.0", .init = pod_init);
