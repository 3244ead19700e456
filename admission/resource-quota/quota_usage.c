/*
 * quota_usage.c - evaluators, scopes and namespace usage (see
 * quota_usage.h).
 *
 * Upstream: staging/src/k8s.io/apiserver/pkg/quota/v1 (resources.go:
 * CalculateUsage; generic/evaluator.go), pkg/quota/v1/evaluator/core (pods.go,
 * services.go, persistent_volume_claims.go, registry.go),
 * pkg/quota/v1/install/registry.go and pkg/api/v1/resource/helpers.go
 * (PodRequests, PodLimits).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* timegm */
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "quota_usage.h"

/* The host table (defined in resource_list.c) under the name every
 * plugin uses for it. */
#define api quota_api

/* ---- small helpers ------------------------------------------------------------ */

static int streq(const char *a, const char *b)
{
  return a && b && !strcmp(a, b);
}

static int has_prefix(const char *s, const char *p)
{
  return !strncmp(s, p, strlen(p));
}

static int has_suffix(const char *s, const char *x)
{
  size_t n = strlen(s), m = strlen(x);
  return n >= m && !strcmp(s + n - m, x);
}

/* The member `key` of an object (keys may hold '/', so no pointer). */
static const kapi_obj *member(const kapi_obj *o, const char *key)
{
  size_t i, n;
  if (api->obj_type(o) != KAPI_OBJ_OBJECT)
    return NULL;
  n = api->obj_len(o);
  for (i = 0; i < n; i++)
    if (streq(api->obj_key(o, i), key))
      return api->obj_index(o, i);
  return NULL;
}

static const char *str_at(const kapi_obj *o, const char *ptr)
{
  const kapi_obj *v = api->obj_lookup(o, ptr);
  return api->obj_type(v) == KAPI_OBJ_STRING ? api->obj_get(v, "") : NULL;
}

static const char *member_str(const kapi_obj *o, const char *key)
{
  const kapi_obj *v = member(o, key);
  return api->obj_type(v) == KAPI_OBJ_STRING ? api->obj_get(v, "") : NULL;
}

static int in_set(const char *name, const char *const *set)
{
  for (; *set; set++)
    if (!strcmp(name, *set))
      return 1;
  return 0;
}

/* ---- names ------------------------------------------------------------------------ */

static const char *const pod_resources[] = {
    "count/pods",          "cpu",
    "memory",              "ephemeral-storage",
    "requests.cpu",        "requests.memory",
    "requests.ephemeral-storage", "limits.cpu",
    "limits.memory",       "limits.ephemeral-storage",
    "pods",                NULL};

static const char *const service_resources[] = {
    "count/services", "services", "services.nodeports",
    "services.loadbalancers", NULL};

#define STORAGE_CLASS_SUFFIX ".storageclass.storage.k8s.io/"

/* helper.IsNativeResource: unprefixed, or in *kubernetes.io/. */
static int is_native_resource(const char *name)
{
  return !strchr(name, '/') || strstr(name, "kubernetes.io/");
}

static int is_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

/* validation.IsQualifiedName, as a yes/no. */
static int is_qualified_name(const char *s)
{
  const char *slash = strchr(s, '/'), *name = slash ? slash + 1 : s;
  size_t i, n = strlen(name);

  if (slash) {
    size_t plen = (size_t)(slash - s);
    if (plen == 0 || plen > 253)
      return 0;
    for (i = 0; i < plen; i++) {
      char c = s[i];
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
            c == '.'))
        return 0;
      if ((c == '-' || c == '.') && (i == 0 || i == plen - 1))
        return 0;
      if (c == '.' && (s[i - 1] == '.' || s[i - 1] == '-' || s[i + 1] == '-'))
        return 0;
    }
  }
  if (n == 0 || n > 63 || !is_alnum(name[0]) || !is_alnum(name[n - 1]))
    return 0;
  for (i = 0; i < n; i++)
    if (!is_alnum(name[i]) && name[i] != '-' && name[i] != '_' &&
        name[i] != '.')
      return 0;
  return 1;
}

/* helper.IsExtendedResourceName: a container resource that quota
 * charges as "requests.<name>". */
static int is_extended_resource(const char *name)
{
  char quota_name[512];
  if (is_native_resource(name) || has_prefix(name, "requests."))
    return 0;
  snprintf(quota_name, sizeof quota_name, "requests.%s", name);
  return is_qualified_name(quota_name);
}

char *rq_count_name(const char *group, const char *resource, char *buf,
                    size_t len)
{
  if (group && *group)
    snprintf(buf, len, "count/%s.%s", resource, group);
  else
    snprintf(buf, len, "count/%s", resource);
  return buf;
}

/* legacyObjectCountAliases. */
static const char *legacy_alias(const char *group, const char *resource)
{
  static const char *const aliased[] = {"configmaps", "resourcequotas",
                                        "replicationcontrollers", "secrets",
                                        NULL};
  if (group && *group)
    return NULL;
  return in_set(resource, aliased) ? resource : NULL;
}

rq_kind rq_kind_of(const char *group, const char *resource)
{
  if (group && *group)
    return RQ_KIND_GENERIC;
  if (streq(resource, "pods"))
    return RQ_KIND_PODS;
  if (streq(resource, "services"))
    return RQ_KIND_SERVICES;
  if (streq(resource, "persistentvolumeclaims"))
    return RQ_KIND_PVCS;
  return RQ_KIND_GENERIC;
}

int rq_is_ignored(const char *group, const char *resource)
{
  static const struct {
    const char *group, *resource;
  } ignored[] = {
      {"", "bindings"},
      {"", "componentstatuses"},
      {"authentication.k8s.io", "tokenreviews"},
      {"authentication.k8s.io", "selfsubjectreviews"},
      {"authorization.k8s.io", "subjectaccessreviews"},
      {"authorization.k8s.io", "selfsubjectaccessreviews"},
      {"authorization.k8s.io", "localsubjectaccessreviews"},
      {"authorization.k8s.io", "selfsubjectrulesreviews"},
      {"", "events"},
      {"events.k8s.io", "events"},
  };
  size_t i;
  for (i = 0; i < sizeof ignored / sizeof *ignored; i++)
    if (!strcmp(group ? group : "", ignored[i].group) &&
        streq(resource, ignored[i].resource))
      return 1;
  return 0;
}

int rq_handles(const char *group, const char *resource, const char *op)
{
  switch (rq_kind_of(group, resource)) {
  case RQ_KIND_SERVICES:
  case RQ_KIND_PVCS:
    /* A service's type and a claim's size may change. */
    return streq(op, "CREATE") || streq(op, "UPDATE");
  default:
    return streq(op, "CREATE");
  }
}

int rq_matches_name(const char *group, const char *resource, const char *name)
{
  char count[512];

  switch (rq_kind_of(group, resource)) {
  case RQ_KIND_PODS:
    return in_set(name, pod_resources) || has_prefix(name, "hugepages-") ||
           has_prefix(name, "requests.hugepages-") ||
           (!is_native_resource(name) && has_prefix(name, "requests."));
  case RQ_KIND_SERVICES:
    return in_set(name, service_resources);
  case RQ_KIND_PVCS:
    return streq(name, "count/persistentvolumeclaims") ||
           streq(name, "persistentvolumeclaims") ||
           streq(name, "requests.storage") ||
           has_suffix(name, STORAGE_CLASS_SUFFIX "persistentvolumeclaims") ||
           has_suffix(name, STORAGE_CLASS_SUFFIX "requests.storage");
  default:
    return streq(name, rq_count_name(group, resource, count, sizeof count)) ||
           streq(name, legacy_alias(group, resource));
  }
}

int rq_tracker_of(const char *name, char *group, size_t glen, char *resource,
                  size_t rlen)
{
  static const char *const fixed[] = {"pods", "services",
                                      "persistentvolumeclaims", "configmaps",
                                      "resourcequotas",
                                      "replicationcontrollers", "secrets",
                                      NULL};
  const char *const *r;
  const char *dot;

  for (r = fixed; *r; r++)
    if (rq_matches_name("", *r, name)) {
      snprintf(group, glen, "%s", "");
      snprintf(resource, rlen, "%s", *r);
      return 0;
    }
  if (!has_prefix(name, "count/") || !name[6])
    return -ENOENT;
  name += 6;
  dot = strchr(name, '.');
  if (dot) {
    snprintf(resource, rlen, "%.*s", (int)(dot - name), name);
    snprintf(group, glen, "%s", dot + 1);
  } else {
    snprintf(resource, rlen, "%s", name);
    snprintf(group, glen, "%s", "");
  }
  return *resource ? 0 : -ENOENT;
}

/* ---- pods: requests and limits (resourcehelper) ------------------------------------ */

/* The quantities of one container's resources.requests or .limits. */
static int container_list(const kapi_obj *c, const char *which, rq_list *out)
{
  return rq_list_parse(member(member(c, "resources"), which), out);
}

static int is_sidecar(const kapi_obj *c)
{
  return streq(member_str(c, "restartPolicy"), "Always");
}

/*
 * AggregateContainerRequests/Limits: the sum over containers, and the
 * init containers one at a time next to the sidecars (restartable init
 * containers) started before them; the larger of the two per resource.
 */
static int aggregate(const kapi_obj *pod, const char *which, rq_list *out)
{
  const kapi_obj *cs = api->obj_lookup(pod, "/spec/containers");
  const kapi_obj *ics = api->obj_lookup(pod, "/spec/initContainers");
  rq_list sidecars = {0}, init_max = {0};
  size_t i, n;
  int rc = 0;

  n = api->obj_type(cs) == KAPI_OBJ_ARRAY ? api->obj_len(cs) : 0;
  for (i = 0; i < n && rc == 0; i++) {
    rq_list c = {0};
    if ((rc = container_list(api->obj_index(cs, i), which, &c)) == 0)
      rc = rq_list_add(out, &c);
    rq_list_free(&c);
  }
  n = api->obj_type(ics) == KAPI_OBJ_ARRAY ? api->obj_len(ics) : 0;
  for (i = 0; i < n && rc == 0; i++) {
    const kapi_obj *ic = api->obj_index(ics, i);
    rq_list c = {0}, effective = {0};
    rc = container_list(ic, which, &c);
    if (rc == 0 && is_sidecar(ic)) {
      rc = rq_list_add(out, &c);
      if (rc == 0)
        rc = rq_list_add(&sidecars, &c);
      if (rc == 0)
        rc = rq_list_copy(&effective, &sidecars);
    } else if (rc == 0) {
      rc = rq_list_add(&effective, &c);
      if (rc == 0)
        rc = rq_list_add(&effective, &sidecars);
    }
    if (rc == 0)
      rc = rq_list_max(&init_max, &effective);
    rq_list_free(&c);
    rq_list_free(&effective);
  }
  if (rc == 0)
    rc = rq_list_max(out, &init_max);
  rq_list_free(&sidecars);
  rq_list_free(&init_max);
  return rc;
}

int rq_pod_requests(const kapi_obj *pod, rq_list *out)
{
  rq_list overhead = {0};
  int rc = aggregate(pod, "requests", out);
  /* The overhead of running the pod adds to every request it names. */
  if (rc == 0)
    rc = rq_list_parse(api->obj_lookup(pod, "/spec/overhead"), &overhead);
  if (rc == 0)
    rc = rq_list_add(out, &overhead);
  rq_list_free(&overhead);
  return rc;
}

int rq_pod_limits(const kapi_obj *pod, rq_list *out)
{
  rq_list overhead = {0};
  size_t i;
  int rc = aggregate(pod, "limits", out);
  /* ... but only to the limits that are set (no limit stays none). */
  if (rc == 0)
    rc = rq_list_parse(api->obj_lookup(pod, "/spec/overhead"), &overhead);
  for (i = 0; rc == 0 && i < overhead.n; i++)
    if (rq_list_get(out, overhead.v[i].name))
      rc = rq_list_add_one(out, overhead.v[i].name, &overhead.v[i].q);
  rq_list_free(&overhead);
  return rc;
}

/* Seconds since the epoch of an RFC 3339 time, or -1. */
static int64_t parse_time(const char *s)
{
  struct tm tm;
  int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
  const char *p;
  int64_t t;

  if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec,
                   &n) != 6)
    return -1;
  p = s + n;
  if (*p == '.')
    for (p++; *p >= '0' && *p <= '9'; p++)
      ;
  memset(&tm, 0, sizeof tm);
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  t = (int64_t)timegm(&tm);
  if (*p == '+' || *p == '-') {
    if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
      return -1;
    t -= (*p == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
  } else if (*p != 'Z' && *p != 'z') {
    return -1;
  }
  return t;
}

int rq_pod_counts(const kapi_obj *pod, int64_t now)
{
  const char *phase = str_at(pod, "/status/phase");
  const char *deleted = str_at(pod, "/metadata/deletionTimestamp");
  int64_t grace;

  if (streq(phase, "Failed") || streq(phase, "Succeeded"))
    return 0;
  /* Pods stuck terminating (a lost node) stop being charged once their
   * grace period is over. */
  if (deleted &&
      api->obj_int(api->obj_lookup(pod, "/metadata/deletionGracePeriodSeconds"),
                   &grace) == 0) {
    int64_t t = parse_time(deleted);
    if (t >= 0 && now > t + grace)
      return 0;
  }
  return 1;
}

/* podComputeUsageHelper: the quota names a pod's (or one container's)
 * requests and limits are charged to. */
static int compute_usage(const rq_list *req, const rq_list *lim, rq_list *out)
{
  static const struct {
    const char *res, *plain, *requests, *limits;
  } std[] = {
      {"cpu", "cpu", "requests.cpu", "limits.cpu"},
      {"memory", "memory", "requests.memory", "limits.memory"},
      {"ephemeral-storage", "ephemeral-storage", "requests.ephemeral-storage",
       "limits.ephemeral-storage"},
  };
  rq_qty one = rq_qty_int(1);
  char name[512];
  size_t i;
  int rc = rq_list_set(out, "pods", &one);

  for (i = 0; rc == 0 && i < sizeof std / sizeof *std; i++) {
    const rq_qty *r = rq_list_get(req, std[i].res);
    const rq_qty *l = rq_list_get(lim, std[i].res);
    if (r && (rc = rq_list_set(out, std[i].plain, r)) == 0)
      rc = rq_list_set(out, std[i].requests, r);
    if (rc == 0 && l)
      rc = rq_list_set(out, std[i].limits, l);
  }
  for (i = 0; rc == 0 && i < req->n; i++) {
    const char *res = req->v[i].name;
    snprintf(name, sizeof name, "requests.%s", res);
    if (has_prefix(res, "hugepages-")) {
      if ((rc = rq_list_set(out, res, &req->v[i].q)) == 0)
        rc = rq_list_set(out, name, &req->v[i].q);
    } else if (is_extended_resource(res)) {
      rc = rq_list_set(out, name, &req->v[i].q);
    }
  }
  return rc;
}

/* PodUsageFunc. */
static int pod_usage(const kapi_obj *pod, int64_t now, rq_list *out)
{
  rq_qty one = rq_qty_int(1);
  rq_list req = {0}, lim = {0}, usage = {0}, total = {0};
  int rc;

  /* The object count is charged whatever the pod's state. */
  if ((rc = rq_list_set(&total, "count/pods", &one)) == 0 &&
      rq_pod_counts(pod, now)) {
    rc = rq_pod_requests(pod, &req);
    if (rc == 0)
      rc = rq_pod_limits(pod, &lim);
    if (rc == 0)
      rc = compute_usage(&req, &lim, &usage);
    if (rc == 0)
      rc = rq_list_add(&total, &usage);
  }
  if (rc == 0)
    rc = rq_list_add(out, &total);
  rq_list_free(&req);
  rq_list_free(&lim);
  rq_list_free(&usage);
  rq_list_free(&total);
  return rc;
}

int rq_pod_constraints(const rq_list *required, const kapi_obj *pod, char *msg,
                       size_t len)
{
  /* Only these ever had to be set on every container ("it was a
   * mistake... do not add more resources to this list"), in name order. */
  static const char *const validation_set[] = {
      "cpu", "limits.cpu", "limits.memory", "memory", "requests.cpu",
      "requests.memory"};
  enum { N_VALIDATION = sizeof validation_set / sizeof *validation_set };
  static const char *const lists[] = {"/spec/containers",
                                      "/spec/initContainers"};
  /* Per resource, the names of the containers that miss it: rq_lists
   * used as sorted sets (sets.String). */
  rq_list missing[N_VALIDATION];
  rq_qty none = rq_qty_int(0);
  size_t i, j, k, o = 0;
  int violated = 0;

  memset(missing, 0, sizeof missing);
  for (k = 0; k < 2; k++) {
    const kapi_obj *cs = api->obj_lookup(pod, lists[k]);
    size_t n = api->obj_type(cs) == KAPI_OBJ_ARRAY ? api->obj_len(cs) : 0;
    for (i = 0; i < n; i++) {
      const kapi_obj *c = api->obj_index(cs, i);
      const char *cname = member_str(c, "name");
      rq_list req = {0}, lim = {0}, usage = {0};
      container_list(c, "requests", &req);
      container_list(c, "limits", &lim);
      compute_usage(&req, &lim, &usage);
      for (j = 0; j < N_VALIDATION; j++)
        if (rq_list_get(required, validation_set[j]) &&
            !rq_list_get(&usage, validation_set[j]))
          rq_list_set(&missing[j], cname ? cname : "", &none);
      rq_list_free(&req);
      rq_list_free(&lim);
      rq_list_free(&usage);
    }
  }
  for (j = 0; j < N_VALIDATION; j++) {
    char names[1024];
    if (!missing[j].n)
      continue;
    if (!violated)
      o = (size_t)snprintf(msg, len, "must specify ");
    else if (o < len)
      o += (size_t)snprintf(msg + o, len - o, "; ");
    if (o < len)
      o += (size_t)snprintf(msg + o, len - o, "%s for: %s", validation_set[j],
                            rq_list_names(&missing[j], names, sizeof names));
    violated = 1;
    rq_list_free(&missing[j]);
  }
  return violated;
}

/* ---- services and claims --------------------------------------------------------- */

static int service_usage(const kapi_obj *svc, rq_list *out)
{
  const char *type = str_at(svc, "/spec/type");
  const kapi_obj *ports = api->obj_lookup(svc, "/spec/ports");
  const kapi_obj *alloc =
      api->obj_lookup(svc, "/spec/allocateLoadBalancerNodePorts");
  size_t n = api->obj_type(ports) == KAPI_OBJ_ARRAY ? api->obj_len(ports) : 0;
  rq_qty one = rq_qty_int(1), zero = rq_qty_int(0), nodeports = zero,
         lbs = zero;
  rq_list u = {0};
  int rc;

  if (streq(type, "NodePort")) {
    nodeports = rq_qty_int((long long)n);
  } else if (streq(type, "LoadBalancer")) {
    /* With node ports suppressed only explicit ones are counted. */
    if (api->obj_type(alloc) == KAPI_OBJ_BOOL &&
        streq(api->obj_get(alloc, ""), "false")) {
      size_t i, k = 0;
      int64_t port;
      for (i = 0; i < n; i++)
        if (api->obj_int(member(api->obj_index(ports, i), "nodePort"),
                         &port) == 0 &&
            port != 0)
          k++;
      nodeports = rq_qty_int((long long)k);
    } else {
      nodeports = rq_qty_int((long long)n);
    }
    lbs = one;
  }
  rc = rq_list_set(&u, "count/services", &one);
  if (rc == 0)
    rc = rq_list_set(&u, "services", &one);
  if (rc == 0)
    rc = rq_list_set(&u, "services.loadbalancers", &lbs);
  if (rc == 0)
    rc = rq_list_set(&u, "services.nodeports", &nodeports);
  if (rc == 0)
    rc = rq_list_add(out, &u);
  rq_list_free(&u);
  return rc;
}

/* A whole number of bytes, rounded up (RoundUp(0)), format kept. */
static rq_qty round_up_units(rq_qty q)
{
  const __int128 nano = 1000000000;
  __int128 r = q.nano % nano;
  if (r > 0)
    q.nano += nano - r;
  else if (r < 0)
    q.nano -= r;
  return q;
}

static int pvc_usage(const kapi_obj *pvc, rq_list *out)
{
  const char *sc = member_str(api->obj_lookup(pvc, "/metadata/annotations"),
                              "volume.beta.kubernetes.io/storage-class");
  rq_qty one = rq_qty_int(1), req, alloc;
  char name[600];
  const char *text;
  rq_list u = {0};
  int rc, have_req = 0;

  if (!sc)
    sc = str_at(pvc, "/spec/storageClassName");
  rc = rq_list_set(&u, "persistentvolumeclaims", &one);
  if (rc == 0)
    rc = rq_list_set(&u, "count/persistentvolumeclaims", &one);
  if (rc == 0 && sc && *sc) {
    snprintf(name, sizeof name, "%s" STORAGE_CLASS_SUFFIX "%s", sc,
             "persistentvolumeclaims");
    rc = rq_list_set(&u, name, &one);
  }
  text = api->obj_get(api->obj_lookup(pvc, "/spec/resources/requests/storage"),
                      "");
  if (text && rq_qty_parse(text, &req) == 0) {
    req = round_up_units(req);
    have_req = 1;
    /* A resize in progress is charged at the larger size. */
    text = api->obj_get(
        api->obj_lookup(pvc, "/status/allocatedResources/storage"), "");
    if (text && rq_qty_parse(text, &alloc) == 0 && rq_qty_cmp(&alloc, &req) > 0)
      req = round_up_units(alloc);
  }
  if (rc == 0 && have_req) {
    rc = rq_list_set(&u, "requests.storage", &req);
    if (rc == 0 && sc && *sc) {
      snprintf(name, sizeof name, "%s" STORAGE_CLASS_SUFFIX "%s", sc,
               "requests.storage");
      rc = rq_list_set(&u, name, &req);
    }
  }
  if (rc == 0)
    rc = rq_list_add(out, &u);
  rq_list_free(&u);
  return rc;
}

int rq_usage(const char *group, const char *resource, const kapi_obj *obj,
             int64_t now, rq_list *out)
{
  rq_qty one = rq_qty_int(1);
  const char *alias;
  char count[512];
  int rc;

  switch (rq_kind_of(group, resource)) {
  case RQ_KIND_PODS:
    return pod_usage(obj, now, out);
  case RQ_KIND_SERVICES:
    return service_usage(obj, out);
  case RQ_KIND_PVCS:
    return pvc_usage(obj, out);
  default:
    rc = rq_list_add_one(out, rq_count_name(group, resource, count,
                                            sizeof count),
                         &one);
    if (rc == 0 && (alias = legacy_alias(group, resource)))
      rc = rq_list_add_one(out, alias, &one);
    return rc;
  }
}

/* ---- scopes ------------------------------------------------------------------------- */

int rq_quota_scopes(const kapi_obj *quota, rq_scope **ret, size_t *n)
{
  const kapi_obj *scopes = api->obj_lookup(quota, "/spec/scopes");
  const kapi_obj *exprs =
      api->obj_lookup(quota, "/spec/scopeSelector/matchExpressions");
  size_t ns = api->obj_type(scopes) == KAPI_OBJ_ARRAY ? api->obj_len(scopes) : 0;
  size_t ne = api->obj_type(exprs) == KAPI_OBJ_ARRAY ? api->obj_len(exprs) : 0;
  rq_scope *v;
  size_t i, k = 0;

  *ret = NULL;
  *n = 0;
  if (!ns && !ne)
    return 0;
  if (!(v = calloc(ns + ne, sizeof *v)))
    return -ENOMEM;
  for (i = 0; i < ns; i++) {
    v[k].name = api->obj_get(api->obj_index(scopes, i), "");
    v[k].op = "Exists";
    v[k++].values = NULL;
  }
  for (i = 0; i < ne; i++) {
    const kapi_obj *e = api->obj_index(exprs, i);
    v[k].name = member_str(e, "scopeName");
    v[k].op = member_str(e, "operator");
    v[k++].values = member(e, "values");
  }
  *ret = v;
  *n = k;
  return 0;
}

static int is_terminating(const kapi_obj *pod)
{
  int64_t s;
  return api->obj_int(api->obj_lookup(pod, "/spec/activeDeadlineSeconds"),
                      &s) == 0 &&
         s >= 0;
}

/* Does any container request or limit a positive cpu or memory? */
static int has_compute(const kapi_obj *pod)
{
  static const char *const lists[] = {"/spec/containers",
                                      "/spec/initContainers"};
  static const char *const which[] = {"requests", "limits"};
  static const char *const res[] = {"cpu", "memory"};
  size_t k, i, w, r;

  for (k = 0; k < 2; k++) {
    const kapi_obj *cs = api->obj_lookup(pod, lists[k]);
    size_t n = api->obj_type(cs) == KAPI_OBJ_ARRAY ? api->obj_len(cs) : 0;
    for (i = 0; i < n; i++)
      for (w = 0; w < 2; w++)
        for (r = 0; r < 2; r++) {
          const kapi_obj *v =
              member(member(member(api->obj_index(cs, i), "resources"),
                            which[w]),
                     res[r]);
          rq_qty q;
          const char *text = api->obj_get(v, "");
          if (text && rq_qty_parse(text, &q) == 0 && rq_qty_sign(&q) > 0)
            return 1;
        }
  }
  return 0;
}

/* qos.GetPodQOS == BestEffort: the recorded class, else computed. */
static int is_best_effort(const kapi_obj *pod)
{
  const char *qos = str_at(pod, "/status/qosClass");
  if (qos && *qos)
    return !strcmp(qos, "BestEffort");
  return !has_compute(pod);
}

static int values_hold(const kapi_obj *values, const char *s)
{
  size_t i, n = api->obj_type(values) == KAPI_OBJ_ARRAY ? api->obj_len(values)
                                                         : 0;
  for (i = 0; i < n; i++)
    if (streq(api->obj_get(api->obj_index(values, i), ""), s))
      return 1;
  return 0;
}

/* podMatchesSelector: the selector against {PriorityClass: <class>}
 * (an empty set when the pod names no class). */
static int priority_class_matches(const kapi_obj *pod, const rq_scope *s)
{
  const char *pc = str_at(pod, "/spec/priorityClassName");
  int has = pc && *pc;

  if (streq(s->op, "Exists"))
    return has;
  if (streq(s->op, "DoesNotExist"))
    return !has;
  if (streq(s->op, "In"))
    return has && values_hold(s->values, pc);
  if (streq(s->op, "NotIn"))
    return !has || !values_hold(s->values, pc);
  return 0;
}

static int term_is_cross_namespace(const kapi_obj *term)
{
  const kapi_obj *nss = member(term, "namespaces");
  return (api->obj_type(nss) == KAPI_OBJ_ARRAY && api->obj_len(nss) > 0) ||
         api->obj_type(member(term, "namespaceSelector")) == KAPI_OBJ_OBJECT;
}

static int affinity_is_cross_namespace(const kapi_obj *aff)
{
  const kapi_obj *req =
      member(aff, "requiredDuringSchedulingIgnoredDuringExecution");
  const kapi_obj *pref =
      member(aff, "preferredDuringSchedulingIgnoredDuringExecution");
  size_t i, n;

  n = api->obj_type(req) == KAPI_OBJ_ARRAY ? api->obj_len(req) : 0;
  for (i = 0; i < n; i++)
    if (term_is_cross_namespace(api->obj_index(req, i)))
      return 1;
  n = api->obj_type(pref) == KAPI_OBJ_ARRAY ? api->obj_len(pref) : 0;
  for (i = 0; i < n; i++)
    if (term_is_cross_namespace(
            member(api->obj_index(pref, i), "podAffinityTerm")))
      return 1;
  return 0;
}

static int uses_cross_namespace_affinity(const kapi_obj *pod)
{
  return affinity_is_cross_namespace(
             api->obj_lookup(pod, "/spec/affinity/podAffinity")) ||
         affinity_is_cross_namespace(
             api->obj_lookup(pod, "/spec/affinity/podAntiAffinity"));
}

/* podMatchesScopeFunc. */
static int pod_scope_matches(const rq_scope *s, const kapi_obj *pod)
{
  if (streq(s->name, "Terminating"))
    return is_terminating(pod);
  if (streq(s->name, "NotTerminating"))
    return !is_terminating(pod);
  if (streq(s->name, "BestEffort"))
    return is_best_effort(pod);
  if (streq(s->name, "NotBestEffort"))
    return !is_best_effort(pod);
  if (streq(s->name, "PriorityClass"))
    return priority_class_matches(pod, s);
  if (streq(s->name, "CrossNamespacePodAffinity"))
    return uses_cross_namespace_affinity(pod);
  return 0;
}

int rq_scope_matches(const char *group, const char *resource, const rq_scope *s,
                     const kapi_obj *obj)
{
  if (rq_kind_of(group, resource) == RQ_KIND_PODS)
    return pod_scope_matches(s, obj);
  return 0;
}

int rq_quota_matches(const char *group, const char *resource,
                     const rq_list *hard, const rq_scope *scopes,
                     size_t n_scopes, const kapi_obj *obj)
{
  size_t i;
  int tracks = 0;

  for (i = 0; i < hard->n && !tracks; i++)
    tracks = rq_matches_name(group, resource, hard->v[i].name);
  if (!tracks)
    return 0;
  for (i = 0; i < n_scopes; i++)
    if (!rq_scope_matches(group, resource, &scopes[i], obj))
      return 0;
  return 1;
}

/* ---- usage of a namespace ------------------------------------------------------- */

typedef struct stats_ctx {
  const char *group, *resource;
  const rq_scope *scopes;
  size_t n_scopes;
  int64_t now;
  rq_list *used;
  int rc;
} stats_ctx;

/* CalculateUsageStats, one object. */
static void count_object(void *arg, const kapi_obj *obj)
{
  stats_ctx *c = arg;
  size_t i;
  int rc;

  if (c->rc < 0)
    return;
  for (i = 0; i < c->n_scopes; i++)
    if (!rq_scope_matches(c->group, c->resource, &c->scopes[i], obj))
      return;
  if ((rc = rq_usage(c->group, c->resource, obj, c->now, c->used)) < 0)
    c->rc = rc;
}

int rq_calculate_usage(const char *ns, const rq_scope *scopes, size_t n_scopes,
                       const rq_list *names, rq_lister_fn lister, void *arg,
                       int64_t now, rq_list *used)
{
  rq_list done = {0}; /* names already computed */
  rq_qty zero = rq_qty_int(0);
  size_t i, j;
  int first_err = 0, rc = 0;

  for (i = 0; i < names->n && rc != -ENOMEM; i++) {
    char group[256], resource[256];
    rq_list mine = {0}, stats = {0};
    stats_ctx c;

    if (rq_list_get(&done, names->v[i].name) ||
        rq_tracker_of(names->v[i].name, group, sizeof group, resource,
                      sizeof resource) < 0)
      continue;
    /* Every name this evaluator tracks, each starting at zero. */
    for (j = i; j < names->n && rc == 0; j++)
      if (rq_matches_name(group, resource, names->v[j].name)) {
        rc = rq_list_set(&mine, names->v[j].name, &zero);
        if (rc == 0)
          rc = rq_list_set(&done, names->v[j].name, &zero);
      }
    if (rc == 0)
      rc = rq_list_copy(&stats, &mine);
    memset(&c, 0, sizeof c);
    c.group = group;
    c.resource = resource;
    c.scopes = scopes;
    c.n_scopes = n_scopes;
    c.now = now;
    c.used = &stats;
    if (rc == 0 && (rc = lister(arg, group, resource, ns, count_object, &c)) == 0)
      rc = c.rc;
    if (rc == 0) {
      rq_list_mask(&stats, &mine);
      for (j = 0; j < stats.n && rc == 0; j++)
        rc = rq_list_set(used, stats.v[j].name, &stats.v[j].q);
    } else if (rc != -ENOMEM) {
      /* This evaluator's names stay unknown; the others go on. */
      if (!first_err)
        first_err = rc;
      rc = 0;
    }
    rq_list_free(&mine);
    rq_list_free(&stats);
  }
  rq_list_free(&done);
  return rc < 0 ? rc : first_err;
}
