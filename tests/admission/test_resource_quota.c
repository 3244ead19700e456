/*
 * test_resource_quota.c - the ResourceQuota admission plugin and the
 * quota evaluators it shares with the resourcequota controller
 * (admission/resource-quota): canonical quantities, pod usage as
 * upstream's PodRequests/PodLimits (init containers, sidecars, overhead;
 * checked against the host's api->pod_request), terminal pods, scopes,
 * and the admission decisions and messages against a fake store (the
 * real host table with store_list/store_get/store_update and the request
 * accessors replaced).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../admission/resource-quota/resource_quota.c"

#include "json.h"
#include "plugin_loader.h"
#include "status.h"

/* 2025-01-01T00:00:00Z */
#define T0 1735689600

static kj *parse(const char *text)
{
  char err[256];
  kj *v = NULL;
  if (kj_parse(text, strlen(text), &v, err, sizeof err) < 0)
    fail_msg("bad test JSON: %s: %s", err, text);
  return v;
}

static const char *json(const kj *v)
{
  static char buf[4096];
  char *s = kj_dump(v, NULL);
  snprintf(buf, sizeof buf, "%s", s ? s : "<absent>");
  free(s);
  return buf;
}

/* ---- the fake host ------------------------------------------------------- */

static kapi_host_api fake;

static struct {
  kj *objects;       /* {"<resource>": [objects...]} */
  int64_t rv;        /* the last resourceVersion handed out */
  int conflicts;     /* store_update answers -EBUSY this many times */
  int updates;       /* successful store_update calls */
  int fail_list;     /* store_list of resourcequotas fails with this */
} store;

static kj *resource_list(const char *resource)
{
  kj *l = kj_get(store.objects, resource);
  if (!l) {
    kj_set(store.objects, resource, kj_array());
    l = kj_get(store.objects, resource);
  }
  return l;
}

/* Stores `text` (a JSON object) under `resource` with a new
 * resourceVersion. */
static void put(const char *resource, const char *text)
{
  kj *o = parse(text);
  char rv[32];
  snprintf(rv, sizeof rv, "%lld", (long long)++store.rv);
  kj_set_str(kj_child_object(o, "metadata"), "resourceVersion", rv);
  if (!kj_get_str(kj_get(o, "metadata"), "namespace"))
    kj_set_str(kj_child_object(o, "metadata"), "namespace", "ns");
  kj_append(resource_list(resource), o);
}

static kj *find(const char *resource, const char *ns, const char *name,
                size_t *idx)
{
  kj *l = resource_list(resource);
  size_t i;
  for (i = 0; i < kj_len(l); i++) {
    const char *n = kj_get_str(kj_get(kj_at(l, i), "metadata"), "name");
    const char *s = kj_get_str(kj_get(kj_at(l, i), "metadata"), "namespace");
    if (n && !strcmp(n, name) && s && !strcmp(s, ns)) {
      if (idx)
        *idx = i;
      return kj_at(l, i);
    }
  }
  return NULL;
}

static int fake_store_list(const char *group, const char *resource,
                           const char *ns, const char *sel, kapi_obj **ret)
{
  kj *out, *l;
  size_t i;

  (void)sel;
  if (*group || !strcmp(resource, "nosuchthings"))
    return -ENOENT;
  if (!strcmp(resource, "resourcequotas") && store.fail_list)
    return store.fail_list;
  l = resource_list(resource);
  out = kj_array();
  for (i = 0; i < kj_len(l); i++) {
    const char *s = kj_get_str(kj_get(kj_at(l, i), "metadata"), "namespace");
    if (!ns || !*ns || (s && !strcmp(s, ns)))
      kj_append(out, kj_clone(kj_at(l, i)));
  }
  *ret = (kapi_obj *)out;
  return 0;
}

static int fake_store_get(const char *group, const char *resource,
                          const char *ns, const char *name, kapi_obj **ret)
{
  kj *o = *group ? NULL : find(resource, ns, name, NULL);
  if (!o)
    return -ENOENT;
  *ret = (kapi_obj *)kj_clone(o);
  return 0;
}

/* Conditional on resourceVersion, as the host's; a pending injected
 * conflict first moves the stored object on (someone else wrote). */
static int fake_store_update(const char *group, const char *resource,
                             const kapi_obj *obj, kapi_obj **ret)
{
  const kj *o = (const kj *)obj;
  const char *ns = kj_get_str(kj_get(o, "metadata"), "namespace");
  const char *name = kj_get_str(kj_get(o, "metadata"), "name");
  const char *rv = kj_get_str(kj_get(o, "metadata"), "resourceVersion");
  size_t i;
  kj *cur = *group ? NULL : find(resource, ns, name, &i), *copy;
  char next[32];

  if (!cur)
    return -ENOENT;
  if (store.conflicts > 0) {
    store.conflicts--;
    snprintf(next, sizeof next, "%lld", (long long)++store.rv);
    kj_set_str(kj_get(cur, "metadata"), "resourceVersion", next);
    return -EBUSY;
  }
  if (!rv || strcmp(rv, kj_get_str(kj_get(cur, "metadata"), "resourceVersion")))
    return -EBUSY;
  copy = kj_clone(o);
  snprintf(next, sizeof next, "%lld", (long long)++store.rv);
  kj_set_str(kj_get(copy, "metadata"), "resourceVersion", next);
  kj_remove_at(resource_list(resource), i);
  kj_append(resource_list(resource), copy);
  store.updates++;
  if (ret)
    *ret = (kapi_obj *)kj_clone(copy);
  return 0;
}

/* A request: its attributes by name. */
typedef struct fake_req {
  const char *operation, *ns, *group, *resource, *sub, *name, *dry_run;
  kj *old;
} fake_req;

static const char *fake_req_get(const kapi_req *r, const char *key)
{
  const fake_req *f = (const fake_req *)r;
  if (!strcmp(key, "operation"))
    return f->operation;
  if (!strcmp(key, "namespace"))
    return f->ns;
  if (!strcmp(key, "apiGroup"))
    return f->group;
  if (!strcmp(key, "resource"))
    return f->resource;
  if (!strcmp(key, "subresource"))
    return f->sub;
  if (!strcmp(key, "name"))
    return f->name;
  if (!strcmp(key, "dryRun"))
    return f->dry_run;
  return NULL;
}

static const kapi_obj *fake_req_old_object(const kapi_req *r)
{
  return (const kapi_obj *)((const fake_req *)r)->old;
}

static int setup(void **state)
{
  (void)state;
  fake = *kapi_host_api_get();
  fake.store_list = fake_store_list;
  fake.store_get = fake_store_get;
  fake.store_update = fake_store_update;
  fake.req_get = fake_req_get;
  fake.req_old_object = fake_req_old_object;
  quota_api = &fake;
  return 0;
}

static int reset(void **state)
{
  (void)state;
  kj_free(store.objects);
  memset(&store, 0, sizeof store);
  store.objects = kj_object();
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  kj_free(store.objects);
  store.objects = NULL;
  return 0;
}

/* Admits `obj_text` as `op` of resource `resource` in "ns": 0 or the
 * HTTP code; the message goes to msg (static). */
static const char *msg;

static int admit(const char *op, const char *resource, const char *obj_text,
                 const char *old_text, const char *dry_run)
{
  static char text[4096];
  fake_req r = {op, "ns", "", resource, "", NULL, dry_run, NULL};
  kj *obj = parse(obj_text);
  kapi_error e;
  int rc, code;

  if (old_text)
    r.old = parse(old_text);
  kapi_error_init(&e);
  rc = quota_ops.validate(NULL, (const kapi_req *)&r, (const kapi_obj *)obj,
                          (kapi_error *)&e);
  code = rc < 0 ? e.code : 0;
  snprintf(text, sizeof text, "%s", e.message ? e.message : "");
  msg = text;
  if (rc < 0)
    assert_true(kapi_error_isset(&e));
  kapi_error_clear(&e);
  kj_free(obj);
  kj_free(r.old);
  return code;
}

static const char *quota_status(const char *name)
{
  return json(kj_get(find("resourcequotas", "ns", name, NULL), "status"));
}

/* ---- quantities ---------------------------------------------------------- */

static const char *canon(const char *text)
{
  static char buf[RQ_QTY_TEXT];
  rq_qty q;
  if (rq_qty_parse(text, &q) < 0)
    return "<invalid>";
  return rq_qty_format(&q, buf, sizeof buf);
}

static void test_canonical_quantities(void **state)
{
  (void)state;
  assert_string_equal(canon("1000m"), "1");
  assert_string_equal(canon("1.5"), "1500m");
  assert_string_equal(canon("0.1"), "100m");
  assert_string_equal(canon("1500"), "1500");
  assert_string_equal(canon("2000"), "2k");
  assert_string_equal(canon("1024Mi"), "1Gi");
  assert_string_equal(canon("1536Mi"), "1536Mi");
  assert_string_equal(canon("0.5Gi"), "512Mi");
  /* Binary values under 1024, or fractional, print as DecimalSI. */
  assert_string_equal(canon("0.5Ki"), "512");
  assert_string_equal(canon("1.5Ki"), "1536");
  assert_string_equal(canon("1e3"), "1e3");
  assert_string_equal(canon("1E3"), "1e3");
  assert_string_equal(canon("12e2"), "1200");
  assert_string_equal(canon("1E"), "1E");
  assert_string_equal(canon("+5"), "5");
  assert_string_equal(canon("-100m"), "-100m");
  assert_string_equal(canon("0"), "0");
  assert_string_equal(canon("0Gi"), "0");
  assert_string_equal(canon("1n"), "1n");
  assert_string_equal(canon("0.0000000001"), "1n"); /* rounded up */
  assert_string_equal(canon("abc"), "<invalid>");
  assert_string_equal(canon("1e"), "<invalid>");
  assert_string_equal(canon("1Ki5"), "<invalid>");
  assert_string_equal(canon(""), "<invalid>");
}

static void test_quantity_arithmetic(void **state)
{
  rq_qty a, b, zero = rq_qty_int(0);
  char buf[RQ_QTY_TEXT];

  (void)state;
  /* A zero takes the other's format (Quantity.Add). */
  assert_int_equal(rq_qty_parse("128Mi", &b), 0);
  a = zero;
  rq_qty_add(&a, &b);
  rq_qty_add(&a, &b);
  assert_string_equal(rq_qty_format(&a, buf, sizeof buf), "256Mi");
  /* Otherwise the receiver's format stays. */
  assert_int_equal(rq_qty_parse("1000000", &a), 0);
  rq_qty_add(&a, &b);
  assert_string_equal(rq_qty_format(&a, buf, sizeof buf), "135217728");
  assert_int_equal(rq_qty_parse("2", &a), 0);
  assert_int_equal(rq_qty_parse("2000m", &b), 0);
  assert_int_equal(rq_qty_cmp(&a, &b), 0);
  assert_true(rq_qty_is_integer(&a));
  assert_int_equal(rq_qty_parse("2500m", &b), 0);
  assert_false(rq_qty_is_integer(&b));
}

/* ---- pod usage ----------------------------------------------------------- */

/* Containers a and b, init i1, sidecar s1 (restartable init), init i2
 * after the sidecar, and an overhead. */
static const char sidecar_pod[] =
    "{\"metadata\":{\"name\":\"p\"},\"spec\":{"
    "\"containers\":["
    "{\"name\":\"a\",\"resources\":{\"requests\":{\"cpu\":\"100m\","
    "\"memory\":\"128Mi\"},\"limits\":{\"cpu\":\"200m\"}}},"
    "{\"name\":\"b\",\"resources\":{\"requests\":{\"cpu\":\"200m\","
    "\"memory\":\"64Mi\"}}}],"
    "\"initContainers\":["
    "{\"name\":\"i1\",\"resources\":{\"requests\":{\"cpu\":\"500m\","
    "\"memory\":\"32Mi\"}}},"
    "{\"name\":\"s1\",\"restartPolicy\":\"Always\",\"resources\":{"
    "\"requests\":{\"cpu\":\"50m\",\"memory\":\"16Mi\"}}},"
    "{\"name\":\"i2\",\"resources\":{\"requests\":{\"cpu\":\"400m\"}}}],"
    "\"overhead\":{\"cpu\":\"10m\",\"memory\":\"1Mi\"}}}";

static const char *usage_of(const char *resource, const char *pod_text,
                            int64_t now)
{
  static char buf[2048];
  kj *pod = parse(pod_text);
  rq_list u = {0};
  char *s;

  assert_int_equal(rq_usage("", resource, (const kapi_obj *)pod, now, &u), 0);
  s = rq_list_json(&u);
  snprintf(buf, sizeof buf, "%s", s);
  free(s);
  rq_list_free(&u);
  kj_free(pod);
  return buf;
}

static void test_pod_requests_and_limits(void **state)
{
  kj *pod = parse(sidecar_pod);
  rq_list req = {0}, lim = {0};
  const rq_qty *cpu, *mem;
  char *s;

  (void)state;
  assert_int_equal(rq_pod_requests((const kapi_obj *)pod, &req), 0);
  assert_int_equal(rq_pod_limits((const kapi_obj *)pod, &lim), 0);
  /* cpu: max(100m+200m+50m, 500m, 50m, 400m+50m) + 10m overhead. */
  s = rq_list_json(&req);
  assert_string_equal(s, "{\"cpu\":\"510m\",\"memory\":\"209Mi\"}");
  free(s);
  /* The overhead goes only to limits that are set. */
  s = rq_list_json(&lim);
  assert_string_equal(s, "{\"cpu\":\"210m\"}");
  free(s);
  /* The same totals as the host's PodRequests (api->pod_request). */
  cpu = rq_list_get(&req, "cpu");
  mem = rq_list_get(&req, "memory");
  assert_true(cpu->nano / 1000000 ==
              fake.pod_request((const kapi_obj *)pod, "cpu", 0));
  assert_true(mem->nano / 1000000000 ==
              fake.pod_request((const kapi_obj *)pod, "memory", 0));
  rq_list_free(&req);
  rq_list_free(&lim);
  kj_free(pod);

  assert_string_equal(
      usage_of("pods", sidecar_pod, T0),
      "{\"count/pods\":\"1\",\"cpu\":\"510m\",\"limits.cpu\":\"210m\","
      "\"memory\":\"209Mi\",\"pods\":\"1\",\"requests.cpu\":\"510m\","
      "\"requests.memory\":\"209Mi\"}");
}

static void test_pod_extended_resources(void **state)
{
  (void)state;
  assert_string_equal(
      usage_of("pods",
               "{\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{"
               "\"requests\":{\"nvidia.com/gpu\":\"2\",\"hugepages-2Mi\":"
               "\"4Mi\",\"memory\":\"1Gi\"},\"limits\":{\"nvidia.com/gpu\":"
               "\"2\",\"hugepages-2Mi\":\"4Mi\",\"memory\":\"1Gi\","
               "\"ephemeral-storage\":\"1G\"}}}]}}",
               T0),
      "{\"count/pods\":\"1\",\"hugepages-2Mi\":\"4Mi\","
      "\"limits.ephemeral-storage\":\"1G\",\"limits.memory\":\"1Gi\","
      "\"memory\":\"1Gi\",\"pods\":\"1\",\"requests.hugepages-2Mi\":\"4Mi\","
      "\"requests.memory\":\"1Gi\",\"requests.nvidia.com/gpu\":\"2\"}");
}

static void test_terminal_pods(void **state)
{
  (void)state;
  /* Terminal pods keep only their object count. */
  assert_string_equal(
      usage_of("pods",
               "{\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{"
               "\"requests\":{\"cpu\":\"1\"}}}]},\"status\":{\"phase\":"
               "\"Succeeded\"}}",
               T0),
      "{\"count/pods\":\"1\"}");
  /* Past the deletion grace period: no longer charged... */
  assert_string_equal(
      usage_of("pods",
               "{\"metadata\":{\"deletionTimestamp\":\"2025-01-01T00:00:00Z\","
               "\"deletionGracePeriodSeconds\":30},\"spec\":{\"containers\":"
               "[{\"name\":\"c\"}]}}",
               T0 + 31),
      "{\"count/pods\":\"1\"}");
  /* ...but still within it. */
  assert_string_equal(
      usage_of("pods",
               "{\"metadata\":{\"deletionTimestamp\":\"2025-01-01T00:00:00Z\","
               "\"deletionGracePeriodSeconds\":30},\"spec\":{\"containers\":"
               "[{\"name\":\"c\"}]}}",
               T0 + 30),
      "{\"count/pods\":\"1\",\"pods\":\"1\"}");
}

static void test_other_usage(void **state)
{
  (void)state;
  assert_string_equal(
      usage_of("services",
               "{\"spec\":{\"type\":\"NodePort\",\"ports\":[{\"port\":80},"
               "{\"port\":443}]}}",
               T0),
      "{\"count/services\":\"1\",\"services\":\"1\","
      "\"services.loadbalancers\":\"0\",\"services.nodeports\":\"2\"}");
  assert_string_equal(
      usage_of("persistentvolumeclaims",
               "{\"spec\":{\"storageClassName\":\"gold\",\"resources\":{"
               "\"requests\":{\"storage\":\"1.5Gi\"}}}}",
               T0),
      "{\"count/persistentvolumeclaims\":\"1\","
      "\"gold.storageclass.storage.k8s.io/persistentvolumeclaims\":\"1\","
      "\"gold.storageclass.storage.k8s.io/requests.storage\":\"1536Mi\","
      "\"persistentvolumeclaims\":\"1\",\"requests.storage\":\"1536Mi\"}");
  assert_string_equal(usage_of("configmaps", "{}", T0),
                      "{\"configmaps\":\"1\",\"count/configmaps\":\"1\"}");
  assert_string_equal(usage_of("widgets", "{}", T0),
                      "{\"count/widgets\":\"1\"}");
}

static void test_matching_names(void **state)
{
  char g[64], r[64];

  (void)state;
  assert_true(rq_matches_name("", "pods", "requests.cpu"));
  assert_true(rq_matches_name("", "pods", "requests.nvidia.com/gpu"));
  assert_true(rq_matches_name("", "pods", "hugepages-1Gi"));
  assert_false(rq_matches_name("", "pods", "requests.storage"));
  assert_false(rq_matches_name("", "pods", "count/services"));
  assert_true(rq_matches_name("", "secrets", "secrets"));
  assert_true(rq_matches_name("apps", "deployments", "count/deployments.apps"));
  assert_false(rq_matches_name("apps", "deployments", "count/deployments"));
  assert_int_equal(rq_tracker_of("count/deployments.apps", g, sizeof g, r,
                                 sizeof r), 0);
  assert_string_equal(g, "apps");
  assert_string_equal(r, "deployments");
  assert_int_equal(rq_tracker_of("limits.memory", g, sizeof g, r, sizeof r),
                   0);
  assert_string_equal(r, "pods");
  assert_int_equal(rq_tracker_of("bronze.storageclass.storage.k8s.io/"
                                 "requests.storage", g, sizeof g, r, sizeof r),
                   0);
  assert_string_equal(r, "persistentvolumeclaims");
  assert_int_equal(rq_tracker_of("storage", g, sizeof g, r, sizeof r), -ENOENT);
  assert_true(rq_is_ignored("", "events"));
  assert_false(rq_is_ignored("", "pods"));
}

/* ---- scopes -------------------------------------------------------------- */

static int scope_matches(const char *name, const char *op,
                         const char *values_json, const char *pod_text)
{
  kj *pod = parse(pod_text), *values = values_json ? parse(values_json) : NULL;
  rq_scope s = {name, op, (const kapi_obj *)values};
  int m = rq_scope_matches("", "pods", &s, (const kapi_obj *)pod);
  kj_free(pod);
  kj_free(values);
  return m;
}

static void test_scopes(void **state)
{
  const char *best_effort = "{\"spec\":{\"containers\":[{\"name\":\"c\"}]}}";
  const char *burstable =
      "{\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{"
      "\"requests\":{\"memory\":\"1Mi\"}}}]}}";
  const char *deadline =
      "{\"spec\":{\"activeDeadlineSeconds\":60,\"containers\":[{\"name\":"
      "\"c\"}]}}";
  const char *high =
      "{\"spec\":{\"priorityClassName\":\"high\",\"containers\":[{\"name\":"
      "\"c\"}]}}";
  const char *cross_ns =
      "{\"spec\":{\"containers\":[{\"name\":\"c\"}],\"affinity\":{"
      "\"podAntiAffinity\":{\"preferredDuringSchedulingIgnoredDuringExecution\":"
      "[{\"weight\":1,\"podAffinityTerm\":{\"topologyKey\":\"k\","
      "\"namespaceSelector\":{}}}]}}}}";

  (void)state;
  assert_true(scope_matches("BestEffort", "Exists", NULL, best_effort));
  assert_false(scope_matches("BestEffort", "Exists", NULL, burstable));
  assert_true(scope_matches("NotBestEffort", "Exists", NULL, burstable));
  /* The recorded QoS class wins. */
  assert_false(scope_matches(
      "BestEffort", "Exists", NULL,
      "{\"spec\":{\"containers\":[{\"name\":\"c\"}]},\"status\":{"
      "\"qosClass\":\"Burstable\"}}"));
  assert_true(scope_matches("Terminating", "Exists", NULL, deadline));
  assert_false(scope_matches("NotTerminating", "Exists", NULL, deadline));
  assert_true(scope_matches("NotTerminating", "Exists", NULL, best_effort));
  assert_true(scope_matches("PriorityClass", "Exists", NULL, high));
  assert_false(scope_matches("PriorityClass", "Exists", NULL, best_effort));
  assert_true(scope_matches("PriorityClass", "In", "[\"low\",\"high\"]", high));
  assert_false(scope_matches("PriorityClass", "In", "[\"low\"]", high));
  assert_true(scope_matches("PriorityClass", "NotIn", "[\"low\"]", high));
  assert_true(scope_matches("PriorityClass", "NotIn", "[\"low\"]",
                            best_effort));
  assert_true(scope_matches("PriorityClass", "DoesNotExist", NULL,
                            best_effort));
  assert_true(scope_matches("CrossNamespacePodAffinity", "Exists", NULL,
                            cross_ns));
  assert_false(scope_matches("CrossNamespacePodAffinity", "Exists", NULL,
                             best_effort));
}

/* ---- admission ----------------------------------------------------------- */

#define POD(name, res)                                                        \
  "{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"ns\"},\"spec\":{"    \
  "\"containers\":[{\"name\":\"c\"" res "}]}}"
#define CPU(r) ",\"resources\":{\"requests\":{\"cpu\":\"" r "\"}}"

static void test_exceeded(void **state)
{
  (void)state;
  put("resourcequotas", "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"hard\":{"
                        "\"pods\":\"2\"}},\"status\":{\"hard\":{\"pods\":"
                        "\"2\"},\"used\":{\"pods\":\"2\"}}}");
  assert_int_equal(admit("CREATE", "pods", POD("p", ""), NULL, NULL), 403);
  assert_string_equal(msg, "pods \"p\" is forbidden: exceeded quota: q, "
                           "requested: pods=1, used: pods=2, limited: pods=2");
  assert_int_equal(store.updates, 0);
}

static void test_charge(void **state)
{
  (void)state;
  put("resourcequotas",
      "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"hard\":{\"pods\":\"3\","
      "\"requests.cpu\":\"1\"}},\"status\":{\"hard\":{\"pods\":\"3\","
      "\"requests.cpu\":\"1\"},\"used\":{\"pods\":\"1\",\"requests.cpu\":"
      "\"500m\"}}}");
  assert_int_equal(admit("CREATE", "pods", POD("p", CPU("300m")), NULL, NULL),
                   0);
  assert_int_equal(store.updates, 1);
  assert_string_equal(quota_status("q"),
                      "{\"hard\":{\"pods\":\"3\",\"requests.cpu\":\"1\"},"
                      "\"used\":{\"pods\":\"2\",\"requests.cpu\":\"800m\"}}");
  /* 800m + 300m > 1: only the exceeded resource is reported. */
  assert_int_equal(admit("CREATE", "pods", POD("p2", CPU("300m")), NULL, NULL),
                   403);
  assert_string_equal(msg, "pods \"p2\" is forbidden: exceeded quota: q, "
                           "requested: requests.cpu=300m, used: "
                           "requests.cpu=800m, limited: requests.cpu=1");
  /* A dry run is checked but not charged. */
  assert_int_equal(admit("CREATE", "pods", POD("p3", CPU("200m")), NULL,
                         "true"),
                   0);
  assert_int_equal(store.updates, 1);
  /* Other resources, subresources and ignored resources pass. */
  assert_int_equal(admit("CREATE", "configmaps", "{\"metadata\":{\"name\":"
                                                 "\"c\"}}", NULL, NULL),
                   0);
  assert_int_equal(store.updates, 1);
}

static void test_constraints(void **state)
{
  (void)state;
  put("resourcequotas",
      "{\"metadata\":{\"name\":\"compute\"},\"spec\":{\"hard\":{"
      "\"limits.cpu\":\"4\",\"requests.memory\":\"1Gi\",\"pods\":\"9\"}},"
      "\"status\":{\"hard\":{\"limits.cpu\":\"4\",\"requests.memory\":\"1Gi\","
      "\"pods\":\"9\"},\"used\":{\"limits.cpu\":\"0\",\"requests.memory\":"
      "\"0\",\"pods\":\"0\"}}}");
  assert_int_equal(
      admit("CREATE", "pods",
            "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":["
            "{\"name\":\"d\"},{\"name\":\"c\",\"resources\":{\"limits\":{"
            "\"cpu\":\"1\"}}}],\"initContainers\":[{\"name\":\"i\","
            "\"resources\":{\"requests\":{\"memory\":\"1Mi\"},\"limits\":{"
            "\"cpu\":\"1\"}}}]}}",
            NULL, NULL),
      403);
  assert_string_equal(msg, "pods \"p\" is forbidden: failed quota: compute: "
                           "must specify limits.cpu for: d; requests.memory "
                           "for: c,d");
  assert_int_equal(store.updates, 0);
}

static void test_status_from_store(void **state)
{
  (void)state;
  /* A quota nobody filled yet (no controller ran): status.hard comes from
   * spec.hard and usage from what the store holds. */
  put("resourcequotas", "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"hard\":{"
                        "\"pods\":\"3\",\"requests.cpu\":\"2\","
                        "\"configmaps\":\"5\"}}}");
  put("pods", POD("a", CPU("250m")));
  put("pods", "{\"metadata\":{\"name\":\"done\"},\"spec\":{\"containers\":"
              "[{\"name\":\"c\"}]},\"status\":{\"phase\":\"Failed\"}}");
  put("pods", "{\"metadata\":{\"name\":\"other\",\"namespace\":\"elsewhere\"},"
              "\"spec\":{\"containers\":[{\"name\":\"c\"}]}}");
  put("configmaps", "{\"metadata\":{\"name\":\"c1\"}}");
  assert_int_equal(admit("CREATE", "pods", POD("b", CPU("0.5")), NULL, NULL),
                   0);
  assert_string_equal(quota_status("q"),
                      "{\"hard\":{\"configmaps\":\"5\",\"pods\":\"3\","
                      "\"requests.cpu\":\"2\"},\"used\":{\"configmaps\":\"1\","
                      "\"pods\":\"2\",\"requests.cpu\":\"750m\"}}");
  /* Filled now: charged as usual. */
  assert_int_equal(admit("CREATE", "pods", POD("c", CPU("250m")), NULL, NULL),
                   0);
  assert_string_equal(quota_status("q"),
                      "{\"hard\":{\"configmaps\":\"5\",\"pods\":\"3\","
                      "\"requests.cpu\":\"2\"},\"used\":{\"configmaps\":\"1\","
                      "\"pods\":\"3\",\"requests.cpu\":\"1\"}}");
  /* The quota tracks requests.cpu: every container must request it. */
  assert_int_equal(admit("CREATE", "pods", POD("d", ""), NULL, NULL), 403);
  assert_string_equal(msg, "pods \"d\" is forbidden: failed quota: q: must "
                           "specify requests.cpu for: c");
  assert_int_equal(admit("CREATE", "pods", POD("d", CPU("1m")), NULL, NULL),
                   403);
  assert_string_equal(msg, "pods \"d\" is forbidden: exceeded quota: q, "
                           "requested: pods=1, used: pods=3, limited: pods=3");
}

static void test_status_unknown(void **state)
{
  (void)state;
  /* Usage that cannot be computed (the server has no such resource) is
   * refused as upstream refuses unknown usage. */
  put("resourcequotas", "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"hard\":{"
                        "\"count/nosuchthings\":\"1\"}},\"status\":{\"hard\":"
                        "{\"count/nosuchthings\":\"1\"}}}");
  assert_int_equal(admit("CREATE", "nosuchthings", "{\"metadata\":{\"name\":"
                                                   "\"x\"}}", NULL, NULL),
                   403);
  assert_string_equal(msg, "nosuchthings \"x\" is forbidden: status unknown "
                           "for quota: q, resources: count/nosuchthings");
}

static void test_conflicts(void **state)
{
  (void)state;
  put("resourcequotas", "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"hard\":{"
                        "\"pods\":\"5\"}},\"status\":{\"hard\":{\"pods\":"
                        "\"5\"},\"used\":{\"pods\":\"1\"}}}");
  /* Someone writes the quota between our read and our write, twice: the
   * quota is read again and charged once. */
  store.conflicts = 2;
  assert_int_equal(admit("CREATE", "pods", POD("p", ""), NULL, NULL), 0);
  assert_int_equal(store.updates, 1);
  assert_string_equal(quota_status("q"), "{\"hard\":{\"pods\":\"5\"},"
                                         "\"used\":{\"pods\":\"2\"}}");
  /* Conflicts every time: upstream's retries run out. */
  store.conflicts = 100;
  assert_int_equal(admit("CREATE", "pods", POD("p2", ""), NULL, NULL), 409);
  assert_string_equal(msg, "Operation cannot be fulfilled on resourcequotas "
                           "\"q\": the object has been modified; please "
                           "apply your changes to the latest version and "
                           "try again");
  assert_int_equal(store.updates, 1);
}

static void test_scoped_quota(void **state)
{
  (void)state;
  put("resourcequotas", "{\"metadata\":{\"name\":\"be\"},\"spec\":{\"hard\":{"
                        "\"pods\":\"1\"},\"scopes\":[\"BestEffort\"]},"
                        "\"status\":{\"hard\":{\"pods\":\"1\"},\"used\":{"
                        "\"pods\":\"1\"}}}");
  /* A Burstable pod is not counted by a BestEffort quota. */
  assert_int_equal(admit("CREATE", "pods", POD("b", CPU("1")), NULL, NULL), 0);
  assert_int_equal(store.updates, 0);
  assert_int_equal(admit("CREATE", "pods", POD("e", ""), NULL, NULL), 403);
  assert_string_equal(msg, "pods \"e\" is forbidden: exceeded quota: be, "
                           "requested: pods=1, used: pods=1, limited: pods=1");
}

static void test_service_update(void **state)
{
  const char *old =
      "{\"metadata\":{\"name\":\"s\",\"resourceVersion\":\"7\"},\"spec\":{"
      "\"type\":\"ClusterIP\",\"ports\":[{\"port\":80},{\"port\":81}]}}";
  const char *node_port =
      "{\"metadata\":{\"name\":\"s\",\"resourceVersion\":\"7\"},\"spec\":{"
      "\"type\":\"NodePort\",\"ports\":[{\"port\":80},{\"port\":81}]}}";

  (void)state;
  put("resourcequotas", "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"hard\":{"
                        "\"services\":\"5\",\"services.nodeports\":\"1\"}},"
                        "\"status\":{\"hard\":{\"services\":\"5\","
                        "\"services.nodeports\":\"1\"},\"used\":{"
                        "\"services\":\"1\",\"services.nodeports\":\"0\"}}}");
  /* Only the change is charged: no new service, two node ports. */
  assert_int_equal(admit("UPDATE", "services", node_port, old, NULL), 403);
  assert_string_equal(msg, "services \"s\" is forbidden: exceeded quota: q, "
                           "requested: services.nodeports=2, used: "
                           "services.nodeports=0, limited: "
                           "services.nodeports=1");
  /* An update that changes nothing quota counts is not charged. */
  assert_int_equal(admit("UPDATE", "services", old, old, NULL), 0);
  assert_int_equal(store.updates, 0);
  /* Pods are never charged on update. */
  assert_int_equal(admit("UPDATE", "pods", POD("p", ""), POD("p", ""), NULL),
                   0);
}

static void test_object_count(void **state)
{
  (void)state;
  put("resourcequotas", "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"hard\":{"
                        "\"count/configmaps\":\"1\",\"configmaps\":\"9\"}},"
                        "\"status\":{\"hard\":{\"count/configmaps\":\"1\","
                        "\"configmaps\":\"9\"},\"used\":{\"count/configmaps\":"
                        "\"0\",\"configmaps\":\"0\"}}}");
  assert_int_equal(admit("CREATE", "configmaps", "{\"metadata\":{\"name\":"
                                                 "\"a\"}}", NULL, NULL),
                   0);
  assert_string_equal(quota_status("q"),
                      "{\"hard\":{\"count/configmaps\":\"1\",\"configmaps\":"
                      "\"9\"},\"used\":{\"configmaps\":\"1\","
                      "\"count/configmaps\":\"1\"}}");
  assert_int_equal(admit("CREATE", "configmaps", "{\"metadata\":{"
                                                 "\"generateName\":\"gen-\"}}",
                         NULL, NULL),
                   403);
  assert_string_equal(msg, "configmaps \"gen-\" is forbidden: exceeded quota: "
                           "q, requested: count/configmaps=1, used: "
                           "count/configmaps=1, limited: count/configmaps=1");
}

static void test_list_failure(void **state)
{
  (void)state;
  store.fail_list = -EIO;
  assert_int_equal(admit("CREATE", "pods", POD("p", ""), NULL, NULL), 500);
  assert_non_null(strstr(msg, "Internal error occurred: listing resource "
                              "quotas"));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, reset, teardown)
  const struct CMUnitTest tests[] = {
      T(test_canonical_quantities),
      T(test_quantity_arithmetic),
      T(test_pod_requests_and_limits),
      T(test_pod_extended_resources),
      T(test_terminal_pods),
      T(test_other_usage),
      T(test_matching_names),
      T(test_scopes),
      T(test_exceeded),
      T(test_charge),
      T(test_constraints),
      T(test_status_from_store),
      T(test_status_unknown),
      T(test_conflicts),
      T(test_scoped_quota),
      T(test_service_update),
      T(test_object_count),
      T(test_list_failure),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
