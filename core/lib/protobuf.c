/*
 * protobuf.c - schema-driven transcoding of Kubernetes protobuf bodies
 * into the JSON DOM.  Field numbers come from upstream's generated.proto
 * files (k8s.io/api and apimachinery); see protobuf.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "protobuf.h"

/* ---- schema description ---------------------------------------------- */

typedef enum pb_type {
  PB_STRING,    /* string */
  PB_BYTES,     /* bytes -> base64 */
  PB_INT,       /* int64/int32 varint (int32 sign-extended on the wire) */
  PB_OPTINT,    /* optional (*int32 in Go) varint: kept even when 0 */
  PB_BOOL,      /* bool */
  PB_MESSAGE,   /* nested message -> object */
  PB_MAP_STR,   /* map<string,string> -> object of strings */
  PB_MAP_BYTES, /* map<string,bytes> -> object of base64 strings */
  PB_MAP_QTY,   /* map<string,resource.Quantity {1 string}> -> strings */
  PB_TIME,      /* metav1.Time {1 seconds, 2 nanos} -> RFC 3339 */
  PB_INTORSTR,  /* intstr.IntOrString {1 type, 2 intVal, 3 strVal} */
  PB_IGNORE,    /* dropped (managedFields: server-owned) */
} pb_type;

typedef struct pb_message pb_message;

typedef struct pb_field {
  unsigned num;
  const char *json;
  pb_type type;
  int repeated;
  const pb_message *msg; /* PB_MESSAGE only */
} pb_field;

struct pb_message {
  const pb_field *fields; /* terminated by num == 0 */
};

#define F(n, name, t) {n, name, t, 0, NULL}
#define R(n, name, t) {n, name, t, 1, NULL}
#define M(n, name, m) {n, name, PB_MESSAGE, 0, &m}
#define RM(n, name, m) {n, name, PB_MESSAGE, 1, &m}
#define END {0, NULL, PB_IGNORE, 0, NULL}
#define MESSAGE(name, ...)                                                    \
  static const pb_field name##_fields[] = {__VA_ARGS__, END};                 \
  static const pb_message name = {name##_fields}

/* apimachinery pkg/apis/meta/v1 */
MESSAGE(owner_reference, F(1, "kind", PB_STRING), F(3, "name", PB_STRING),
        F(4, "uid", PB_STRING), F(5, "apiVersion", PB_STRING),
        F(6, "controller", PB_BOOL), F(7, "blockOwnerDeletion", PB_BOOL));
MESSAGE(object_meta, F(1, "name", PB_STRING), F(2, "generateName", PB_STRING),
        F(3, "namespace", PB_STRING), F(4, "selfLink", PB_STRING),
        F(5, "uid", PB_STRING), F(6, "resourceVersion", PB_STRING),
        F(7, "generation", PB_INT), F(8, "creationTimestamp", PB_TIME),
        F(9, "deletionTimestamp", PB_TIME),
        F(10, "deletionGracePeriodSeconds", PB_INT),
        F(11, "labels", PB_MAP_STR), F(12, "annotations", PB_MAP_STR),
        RM(13, "ownerReferences", owner_reference),
        R(14, "finalizers", PB_STRING), F(17, "managedFields", PB_IGNORE));
MESSAGE(label_selector_requirement, F(1, "key", PB_STRING),
        F(2, "operator", PB_STRING), R(3, "values", PB_STRING));
MESSAGE(label_selector, F(1, "matchLabels", PB_MAP_STR),
        RM(2, "matchExpressions", label_selector_requirement));

/* core/v1 */
MESSAGE(namespace_spec, R(1, "finalizers", PB_STRING));
MESSAGE(namespace_status, F(1, "phase", PB_STRING));
MESSAGE(namespace_msg, M(1, "metadata", object_meta),
        M(2, "spec", namespace_spec), M(3, "status", namespace_status));
MESSAGE(config_map, M(1, "metadata", object_meta), F(2, "data", PB_MAP_STR),
        F(3, "binaryData", PB_MAP_BYTES), F(4, "immutable", PB_BOOL));
MESSAGE(secret, M(1, "metadata", object_meta), F(2, "data", PB_MAP_BYTES),
        F(3, "type", PB_STRING), F(4, "stringData", PB_MAP_STR),
        F(5, "immutable", PB_BOOL));
MESSAGE(object_reference, F(1, "kind", PB_STRING),
        F(2, "namespace", PB_STRING), F(3, "name", PB_STRING),
        F(4, "uid", PB_STRING), F(5, "apiVersion", PB_STRING),
        F(6, "resourceVersion", PB_STRING), F(7, "fieldPath", PB_STRING));
MESSAGE(local_object_reference, F(1, "name", PB_STRING));
MESSAGE(service_account, M(1, "metadata", object_meta),
        RM(2, "secrets", object_reference),
        RM(3, "imagePullSecrets", local_object_reference),
        F(4, "automountServiceAccountToken", PB_BOOL));

/* authorization.k8s.io/v1 */
MESSAGE(field_selector_requirement, F(1, "key", PB_STRING),
        F(2, "operator", PB_STRING), R(3, "values", PB_STRING));
MESSAGE(field_selector_attributes, F(1, "rawSelector", PB_STRING),
        RM(2, "requirements", field_selector_requirement));
MESSAGE(label_selector_attributes, F(1, "rawSelector", PB_STRING),
        RM(2, "requirements", label_selector_requirement));
MESSAGE(resource_attributes, F(1, "namespace", PB_STRING),
        F(2, "verb", PB_STRING), F(3, "group", PB_STRING),
        F(4, "version", PB_STRING), F(5, "resource", PB_STRING),
        F(6, "subresource", PB_STRING), F(7, "name", PB_STRING),
        M(8, "fieldSelector", field_selector_attributes),
        M(9, "labelSelector", label_selector_attributes));
MESSAGE(non_resource_attributes, F(1, "path", PB_STRING),
        F(2, "verb", PB_STRING));
MESSAGE(ssar_spec, M(1, "resourceAttributes", resource_attributes),
        M(2, "nonResourceAttributes", non_resource_attributes));
MESSAGE(access_review_status, F(1, "allowed", PB_BOOL),
        F(2, "reason", PB_STRING), F(3, "evaluationError", PB_STRING),
        F(4, "denied", PB_BOOL));
MESSAGE(self_subject_access_review, M(1, "metadata", object_meta),
        M(2, "spec", ssar_spec), M(3, "status", access_review_status));
MESSAGE(resource_rule, R(1, "verbs", PB_STRING), R(2, "apiGroups", PB_STRING),
        R(3, "resources", PB_STRING), R(4, "resourceNames", PB_STRING));
MESSAGE(non_resource_rule, R(1, "verbs", PB_STRING),
        R(2, "nonResourceURLs", PB_STRING));
MESSAGE(ssrr_spec, F(1, "namespace", PB_STRING));
MESSAGE(ssrr_status, RM(1, "resourceRules", resource_rule),
        RM(2, "nonResourceRules", non_resource_rule),
        F(3, "incomplete", PB_BOOL), F(4, "evaluationError", PB_STRING));
MESSAGE(self_subject_rules_review, M(1, "metadata", object_meta),
        M(2, "spec", ssrr_spec), M(3, "status", ssrr_status));

/* authentication.k8s.io/v1 (UserInfo.extra, a map of lists, is left
 * out: clients never send it in a SelfSubjectReview). */
MESSAGE(user_info, F(1, "username", PB_STRING), F(2, "uid", PB_STRING),
        R(3, "groups", PB_STRING));
MESSAGE(ssr_status, M(1, "userInfo", user_info));
MESSAGE(self_subject_review, M(1, "metadata", object_meta),
        M(2, "status", ssr_status));
MESSAGE(bound_object_reference, F(1, "kind", PB_STRING),
        F(2, "apiVersion", PB_STRING), F(3, "name", PB_STRING),
        F(4, "uid", PB_STRING));
MESSAGE(token_request_spec, R(1, "audiences", PB_STRING),
        M(3, "boundObjectRef", bound_object_reference),
        F(4, "expirationSeconds", PB_OPTINT));
MESSAGE(token_request_status, F(1, "token", PB_STRING),
        F(2, "expirationTimestamp", PB_TIME));
MESSAGE(token_request, M(1, "metadata", object_meta),
        M(2, "spec", token_request_spec), M(3, "status", token_request_status));

/* rbac.authorization.k8s.io/v1 */
MESSAGE(policy_rule, R(1, "verbs", PB_STRING), R(2, "apiGroups", PB_STRING),
        R(3, "resources", PB_STRING), R(4, "resourceNames", PB_STRING),
        R(5, "nonResourceURLs", PB_STRING));
MESSAGE(subject, F(1, "kind", PB_STRING), F(2, "apiGroup", PB_STRING),
        F(3, "name", PB_STRING), F(4, "namespace", PB_STRING));
MESSAGE(role_ref, F(1, "apiGroup", PB_STRING), F(2, "kind", PB_STRING),
        F(3, "name", PB_STRING));
MESSAGE(aggregation_rule, RM(1, "clusterRoleSelectors", label_selector));
MESSAGE(role, M(1, "metadata", object_meta), RM(2, "rules", policy_rule));
MESSAGE(cluster_role, M(1, "metadata", object_meta),
        RM(2, "rules", policy_rule),
        M(3, "aggregationRule", aggregation_rule));
MESSAGE(role_binding, M(1, "metadata", object_meta),
        RM(2, "subjects", subject), M(3, "roleRef", role_ref));

/* core/v1 PodTemplateSpec, with the parts of PodSpec that kubectl's
 * generators (create deployment) fill in; other fields are skipped. */
MESSAGE(container_port, F(1, "name", PB_STRING), F(2, "hostPort", PB_INT),
        F(3, "containerPort", PB_INT), F(4, "protocol", PB_STRING),
        F(5, "hostIP", PB_STRING));
MESSAGE(env_var, F(1, "name", PB_STRING), F(2, "value", PB_STRING));
MESSAGE(resource_requirements, F(1, "limits", PB_MAP_QTY),
        F(2, "requests", PB_MAP_QTY));
MESSAGE(container, F(1, "name", PB_STRING), F(2, "image", PB_STRING),
        R(3, "command", PB_STRING), R(4, "args", PB_STRING),
        F(5, "workingDir", PB_STRING), RM(6, "ports", container_port),
        RM(7, "env", env_var), M(8, "resources", resource_requirements),
        F(13, "terminationMessagePath", PB_STRING),
        F(14, "imagePullPolicy", PB_STRING), F(16, "stdin", PB_BOOL),
        F(17, "stdinOnce", PB_BOOL), F(18, "tty", PB_BOOL),
        F(20, "terminationMessagePolicy", PB_STRING));
MESSAGE(pod_spec, RM(2, "containers", container),
        F(3, "restartPolicy", PB_STRING),
        F(4, "terminationGracePeriodSeconds", PB_OPTINT),
        F(5, "activeDeadlineSeconds", PB_OPTINT),
        F(6, "dnsPolicy", PB_STRING), F(7, "nodeSelector", PB_MAP_STR),
        F(8, "serviceAccountName", PB_STRING),
        F(10, "nodeName", PB_STRING), F(19, "schedulerName", PB_STRING),
        RM(20, "initContainers", container));
MESSAGE(pod_template_spec, M(1, "metadata", object_meta),
        M(2, "spec", pod_spec));

/* apps/v1 (DeploymentStatus is left out: clients do not send it) */
MESSAGE(rolling_update_deployment, F(1, "maxUnavailable", PB_INTORSTR),
        F(2, "maxSurge", PB_INTORSTR));
MESSAGE(deployment_strategy, F(1, "type", PB_STRING),
        M(2, "rollingUpdate", rolling_update_deployment));
MESSAGE(deployment_spec, F(1, "replicas", PB_OPTINT),
        M(2, "selector", label_selector), M(3, "template", pod_template_spec),
        M(4, "strategy", deployment_strategy),
        F(5, "minReadySeconds", PB_INT),
        F(6, "revisionHistoryLimit", PB_OPTINT), F(7, "paused", PB_BOOL),
        F(9, "progressDeadlineSeconds", PB_OPTINT));
MESSAGE(deployment, M(1, "metadata", object_meta),
        M(2, "spec", deployment_spec));

MESSAGE(scoped_resource_selector_requirement, F(1, "scopeName", PB_STRING),
        F(2, "operator", PB_STRING), R(3, "values", PB_STRING));
MESSAGE(scope_selector,
        RM(1, "matchExpressions", scoped_resource_selector_requirement));
MESSAGE(resource_quota_spec, F(1, "hard", PB_MAP_QTY),
        R(2, "scopes", PB_STRING), M(3, "scopeSelector", scope_selector));
MESSAGE(resource_quota_status, F(1, "hard", PB_MAP_QTY),
        F(2, "used", PB_MAP_QTY));
MESSAGE(resource_quota, M(1, "metadata", object_meta),
        M(2, "spec", resource_quota_spec),
        M(3, "status", resource_quota_status));

static const struct {
  const char *api_version, *kind;
  const pb_message *msg;
} kinds[] = {
    {"v1", "Namespace", &namespace_msg},
    {"v1", "ConfigMap", &config_map},
    {"v1", "Secret", &secret},
    {"v1", "ServiceAccount", &service_account},
    {"v1", "ResourceQuota", &resource_quota},
    {"apps/v1", "Deployment", &deployment},
    {"authorization.k8s.io/v1", "SelfSubjectAccessReview",
     &self_subject_access_review},
    {"authorization.k8s.io/v1", "SelfSubjectRulesReview",
     &self_subject_rules_review},
    {"authentication.k8s.io/v1", "SelfSubjectReview", &self_subject_review},
    {"authentication.k8s.io/v1", "TokenRequest", &token_request},
    {"rbac.authorization.k8s.io/v1", "Role", &role},
    {"rbac.authorization.k8s.io/v1", "ClusterRole", &cluster_role},
    {"rbac.authorization.k8s.io/v1", "RoleBinding", &role_binding},
    {"rbac.authorization.k8s.io/v1", "ClusterRoleBinding", &role_binding},
};

static const pb_message *find_kind(const char *api_version, const char *kind)
{
  size_t i;
  if (!api_version || !kind)
    return NULL;
  for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (!strcmp(kinds[i].api_version, api_version) &&
        !strcmp(kinds[i].kind, kind))
      return kinds[i].msg;
  return NULL;
}

int kapi_protobuf_supports(const char *api_version, const char *kind)
{
  return find_kind(api_version, kind) != NULL;
}

/* ---- wire format ------------------------------------------------------- */

enum { WIRE_VARINT = 0, WIRE_FIXED64 = 1, WIRE_LEN = 2, WIRE_FIXED32 = 5 };

typedef struct pb_reader {
  const uint8_t *p, *end;
} pb_reader;

/* One field as read off the wire: a varint value or a byte range. */
typedef struct pb_wire {
  unsigned num, wire;
  uint64_t v;
  const uint8_t *data;
  size_t len;
} pb_wire;

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
  va_list ap;
  if (!err || !errlen)
    return;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

static int read_varint(pb_reader *r, uint64_t *ret)
{
  uint64_t v = 0;
  unsigned shift;
  for (shift = 0; shift < 64; shift += 7) {
    if (r->p >= r->end)
      return -EINVAL;
    uint8_t b = *r->p++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *ret = v;
      return 0;
    }
  }
  return -EINVAL; /* more than 10 bytes */
}

/* Reads the next field; -EINVAL on truncation or an unsupported wire
 * type (groups are not used by Kubernetes). */
static int read_field(pb_reader *r, pb_wire *f)
{
  uint64_t key, n;
  if (read_varint(r, &key) < 0)
    return -EINVAL;
  f->num = (unsigned)(key >> 3);
  f->wire = (unsigned)(key & 7);
  if (!f->num || key >> 3 > 0x1fffffff)
    return -EINVAL;
  switch (f->wire) {
  case WIRE_VARINT:
    return read_varint(r, &f->v);
  case WIRE_FIXED64:
  case WIRE_FIXED32:
    n = f->wire == WIRE_FIXED64 ? 8 : 4;
    break;
  case WIRE_LEN:
    if (read_varint(r, &n) < 0)
      return -EINVAL;
    break;
  default:
    return -EINVAL;
  }
  if (n > (uint64_t)(r->end - r->p))
    return -EINVAL;
  f->data = r->p;
  f->len = (size_t)n;
  r->p += n;
  return 0;
}

/* ---- JSON values -------------------------------------------------------- */

static kj *base64_string(const uint8_t *d, size_t n)
{
  static const char tab[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i, o = 0;
  char *s = malloc((n + 2) / 3 * 4 + 1);
  kj *v;
  if (!s)
    return NULL;
  for (i = 0; i + 2 < n; i += 3) {
    uint32_t x = (uint32_t)d[i] << 16 | (uint32_t)d[i + 1] << 8 | d[i + 2];
    s[o++] = tab[x >> 18];
    s[o++] = tab[(x >> 12) & 63];
    s[o++] = tab[(x >> 6) & 63];
    s[o++] = tab[x & 63];
  }
  if (i < n) {
    uint32_t x = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0);
    s[o++] = tab[x >> 18];
    s[o++] = tab[(x >> 12) & 63];
    s[o++] = i + 1 < n ? tab[(x >> 6) & 63] : '=';
    s[o++] = '=';
  }
  s[o] = 0;
  v = kj_stringn(s, o);
  free(s);
  return v;
}

/* metav1.Time marshals to JSON as whole seconds, UTC. */
static int decode_time(const uint8_t *d, size_t n, kj **ret)
{
  pb_reader r = {d, d + n};
  pb_wire f;
  int64_t seconds = 0, nanos = 0;
  char buf[64];
  struct tm tm;
  time_t t;

  *ret = NULL;
  while (r.p < r.end) {
    if (read_field(&r, &f) < 0)
      return -EINVAL;
    if (f.num == 1 && f.wire == WIRE_VARINT)
      seconds = (int64_t)f.v;
    else if (f.num == 2 && f.wire == WIRE_VARINT)
      nanos = (int32_t)f.v;
  }
  if (!seconds && !nanos)
    return 0; /* the zero Time is null in JSON: leave it out */
  t = (time_t)seconds;
  if (!gmtime_r(&t, &tm) ||
      !strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
    return -EINVAL;
  *ret = kj_string(buf);
  return *ret ? 0 : -ENOMEM;
}

static int decode_int_or_string(const uint8_t *d, size_t n, kj **ret)
{
  pb_reader r = {d, d + n};
  pb_wire f;
  uint64_t type = 0;
  int64_t ival = 0;
  const uint8_t *s = NULL;
  size_t slen = 0;

  while (r.p < r.end) {
    if (read_field(&r, &f) < 0)
      return -EINVAL;
    if (f.num == 1 && f.wire == WIRE_VARINT)
      type = f.v;
    else if (f.num == 2 && f.wire == WIRE_VARINT)
      ival = (int32_t)f.v;
    else if (f.num == 3 && f.wire == WIRE_LEN)
      s = f.data, slen = f.len;
  }
  *ret = type == 1 ? kj_stringn(s ? (const char *)s : "", slen) : kj_int(ival);
  return *ret ? 0 : -ENOMEM;
}

/* The string of a resource.Quantity {1 string}, as a byte range. */
static int quantity_string(const uint8_t **v, size_t *vlen)
{
  const uint8_t *d = *v ? *v : (const uint8_t *)""; /* absent: empty */
  pb_reader r = {d, d + *vlen};
  pb_wire f;
  const uint8_t *s = NULL;
  size_t slen = 0;

  while (r.p < r.end) {
    if (read_field(&r, &f) < 0)
      return -EINVAL;
    if (f.num == 1 && f.wire == WIRE_LEN)
      s = f.data, slen = f.len;
  }
  *v = s;
  *vlen = slen;
  return 0;
}

/* A map entry {1 key, 2 value} into obj[key]; the value as a string,
 * base64 (PB_MAP_BYTES) or a Quantity's string (PB_MAP_QTY). */
static int decode_map_entry(const pb_wire *w, pb_type type, kj *obj)
{
  pb_reader r = {w->data, w->data + w->len};
  pb_wire f;
  const uint8_t *k = NULL, *v = NULL;
  size_t klen = 0, vlen = 0;
  char *key;
  kj *val;
  int rc;

  while (r.p < r.end) {
    if (read_field(&r, &f) < 0)
      return -EINVAL;
    if (f.wire != WIRE_LEN)
      continue;
    if (f.num == 1)
      k = f.data, klen = f.len;
    else if (f.num == 2)
      v = f.data, vlen = f.len;
  }
  if (type == PB_MAP_QTY && quantity_string(&v, &vlen) < 0)
    return -EINVAL;
  if (!(key = strndup(k ? (const char *)k : "", klen)))
    return -ENOMEM;
  val = type == PB_MAP_BYTES ? base64_string(v, vlen)
              : kj_stringn(v ? (const char *)v : "", vlen);
  rc = val ? kj_set(obj, key, val) : -ENOMEM;
  free(key);
  return rc;
}

static int decode_message(const uint8_t *d, size_t n, const pb_message *m,
                          kj *out, int depth);

static const pb_field *find_field(const pb_message *m, unsigned num)
{
  const pb_field *f;
  for (f = m->fields; f->num; f++)
    if (f->num == num)
      return f;
  return NULL;
}

static int wire_matches(const pb_field *fd, unsigned wire)
{
  switch (fd->type) {
  case PB_INT:
  case PB_OPTINT:
  case PB_BOOL:
    return wire == WIRE_VARINT;
  case PB_IGNORE:
    return 1;
  default:
    return wire == WIRE_LEN;
  }
}

/* Builds the JSON value of one scalar or message field; *ret stays
 * NULL for a zero value that is to be skipped. */
static int field_value(const pb_field *fd, const pb_wire *w, int depth,
                       kj **ret)
{
  *ret = NULL;
  switch (fd->type) {
  case PB_STRING:
    if (!w->len && !fd->repeated)
      return 0;
    *ret = kj_stringn((const char *)w->data, w->len);
    break;
  case PB_BYTES:
    if (!w->len && !fd->repeated)
      return 0;
    *ret = base64_string(w->data, w->len);
    break;
  case PB_INT:
    if (!w->v && !fd->repeated)
      return 0;
    *ret = kj_int((int64_t)w->v);
    break;
  case PB_OPTINT:
    *ret = kj_int((int64_t)w->v);
    break;
  case PB_BOOL:
    if (!w->v && !fd->repeated)
      return 0;
    *ret = kj_bool(w->v != 0);
    break;
  case PB_TIME:
    return decode_time(w->data, w->len, ret);
  case PB_INTORSTR:
    return decode_int_or_string(w->data, w->len, ret);
  case PB_MESSAGE: {
    int rc;
    if (!(*ret = kj_object()))
      return -ENOMEM;
    rc = decode_message(w->data, w->len, fd->msg, *ret, depth + 1);
    if (rc < 0) {
      kj_free(*ret);
      *ret = NULL;
    }
    return rc;
  }
  default:
    return 0;
  }
  return *ret ? 0 : -ENOMEM;
}

static int decode_field(const pb_field *fd, const pb_wire *w, kj *out,
                        int depth)
{
  kj *val, *arr;
  int rc;

  if (fd->type == PB_IGNORE)
    return 0;
  if (fd->type == PB_MAP_STR || fd->type == PB_MAP_BYTES ||
      fd->type == PB_MAP_QTY) {
    kj *map = kj_child_object(out, fd->json);
    if (!map)
      return -ENOMEM;
    return decode_map_entry(w, fd->type, map);
  }
  if ((rc = field_value(fd, w, depth, &val)) < 0 || !val)
    return rc;
  if (!fd->repeated)
    return kj_set(out, fd->json, val);
  arr = kj_get(out, fd->json);
  if (!arr) {
    if (!(arr = kj_array()) || kj_set(out, fd->json, arr) < 0) {
      kj_free(val);
      return -ENOMEM;
    }
  }
  return kj_append(arr, val);
}

/* Nesting in the described kinds is shallow; the bound only stops a
 * hostile body from recursing without end. */
#define MAX_DEPTH 32

static int decode_message(const uint8_t *d, size_t n, const pb_message *m,
                          kj *out, int depth)
{
  pb_reader r = {d, d + n};
  pb_wire w;
  int rc;

  if (depth > MAX_DEPTH)
    return -EINVAL;
  while (r.p < r.end) {
    const pb_field *fd;
    if (read_field(&r, &w) < 0)
      return -EINVAL;
    fd = find_field(m, w.num);
    if (!fd)
      continue; /* unknown fields are skipped, as proto decoding does */
    if (!wire_matches(fd, w.wire))
      return -EINVAL;
    if ((rc = decode_field(fd, &w, out, depth)) < 0)
      return rc;
  }
  return 0;
}

/* ---- envelope ----------------------------------------------------------- */

int kapi_protobuf_is_type(const char *ct)
{
  static const char want[] = "application/vnd.kubernetes.protobuf";
  size_t n;
  if (!ct)
    return 0;
  n = strcspn(ct, ";");
  while (n && ct[n - 1] == ' ')
    n--;
  return n == sizeof want - 1 && !strncasecmp(ct, want, n);
}

/* runtime.Unknown: typeMeta{1 apiVersion, 2 kind}, raw. */
static int read_unknown(const uint8_t *d, size_t n, char *av, size_t avlen,
                        char *kind, size_t kindlen, pb_wire *raw)
{
  pb_reader r = {d, d + n}, tr;
  pb_wire f, t;

  av[0] = kind[0] = 0;
  raw->data = (const uint8_t *)""; /* never NULL: no arithmetic on NULL */
  raw->len = 0;
  while (r.p < r.end) {
    if (read_field(&r, &f) < 0)
      return -EINVAL;
    if (f.num == 2 && f.wire == WIRE_LEN) {
      *raw = f;
      continue;
    }
    if (f.num != 1 || f.wire != WIRE_LEN)
      continue;
    tr.p = f.data;
    tr.end = f.data + f.len;
    while (tr.p < tr.end) {
      if (read_field(&tr, &t) < 0)
        return -EINVAL;
      if (t.wire != WIRE_LEN || (t.num != 1 && t.num != 2))
        continue;
      if (t.len >= (t.num == 1 ? avlen : kindlen))
        return -EINVAL;
      memcpy(t.num == 1 ? av : kind, t.data, t.len);
      (t.num == 1 ? av : kind)[t.len] = 0;
    }
  }
  return 0;
}

int kapi_protobuf_to_json(const char *body, size_t len, kj **ret, char *err,
                          size_t errlen)
{
  const uint8_t *d = (const uint8_t *)body;
  char av[256], kind[256];
  const pb_message *m;
  pb_wire raw;
  kj *obj;
  int rc;

  *ret = NULL;
  if (!body || len < 4 || memcmp(body, "k8s\0", 4)) {
    set_err(err, errlen, "protobuf body does not start with the k8s "
                         "envelope magic");
    return -EINVAL;
  }
  if (read_unknown(d + 4, len - 4, av, sizeof av, kind, sizeof kind,
                   &raw) < 0) {
    set_err(err, errlen, "malformed protobuf envelope (runtime.Unknown)");
    return -EINVAL;
  }
  if (!(m = find_kind(av, kind))) {
    set_err(err, errlen, "protobuf decoding of %s %s is not supported; "
                         "send application/json",
            *av ? av : "(no apiVersion)", *kind ? kind : "(no kind)");
    return -ENOTSUP;
  }
  if (!(obj = kj_object()) || kj_set_str(obj, "apiVersion", av) < 0 ||
      kj_set_str(obj, "kind", kind) < 0) {
    kj_free(obj);
    set_err(err, errlen, "out of memory");
    return -ENOMEM;
  }
  rc = decode_message(raw.data, raw.len, m, obj, 0);
  if (rc == 0 && !kj_child_object(obj, "metadata"))
    rc = -ENOMEM;
  if (rc < 0) {
    kj_free(obj);
    set_err(err, errlen, rc == -ENOMEM ? "out of memory"
                                       : "malformed protobuf body for %s %s",
            av, kind);
    return rc;
  }
  *ret = obj;
  return 0;
}
