/*
 * test_limit_ranger.c - the LimitRanger admission plugin
 * (admission/limit-ranger), loaded from its built .so
 * ($KAPI_BUILDDIR/admission/limit-ranger/.libs/limit-ranger.so, else
 * .../limit-ranger/limit-ranger.so) with dlopen and initialized with a
 * copy of the real host table in which the request, the registration and
 * the store are fakes: store_list answers the LimitRanges a test puts in
 * `stored`, req_get answers from a fake_req.  Objects are the host's own
 * (kj), so the plugin reads and writes them with the real accessors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "plugin_loader.h"
#include "status.h"

/* ---- the fake host ------------------------------------------------------ */

typedef struct fake_req {
  const char *operation, *resource, *subresource, *name, *ns;
  const kj *old;
} fake_req;

static kapi_host_api host;
static const kapi_admission_ops *ops;
static void *ops_st;
static char registered_name[64];
static kj *stored;         /* the LimitRanges of namespace "ns" (owned) */
static int list_rc;        /* what store_list returns when not 0 */
static char listed_ns[64]; /* the namespace store_list was asked for */

static const char *fake_req_get(const kapi_req *r, const char *key)
{
  const fake_req *f = (const fake_req *)r;

  if (!strcmp(key, "operation"))
    return f->operation;
  if (!strcmp(key, "resource"))
    return f->resource;
  if (!strcmp(key, "subresource"))
    return f->subresource;
  if (!strcmp(key, "name"))
    return f->name;
  if (!strcmp(key, "namespace"))
    return f->ns;
  if (!strcmp(key, "apiGroup"))
    return "";
  return NULL;
}

static const kapi_obj *fake_req_old_object(const kapi_req *r)
{
  return (const kapi_obj *)((const fake_req *)r)->old;
}

static int fake_register_admission(kapi_plugin *p, const char *name,
                                   const kapi_admission_ops *o, void *st,
                                   const kapi_order *order)
{
  (void)p;
  (void)order;
  snprintf(registered_name, sizeof registered_name, "%s", name);
  ops = o;
  ops_st = st;
  return 0;
}

static int fake_store_list(const char *group, const char *resource,
                           const char *ns, const char *selector,
                           kapi_obj **ret)
{
  assert_string_equal(group, "");
  assert_string_equal(resource, "limitranges");
  assert_null(selector);
  snprintf(listed_ns, sizeof listed_ns, "%s", ns ? ns : "");
  if (list_rc)
    return list_rc;
  *ret = (kapi_obj *)(stored ? kj_clone(stored) : kj_array());
  return *ret ? 0 : -ENOMEM;
}

static void fake_log(kapi_plugin *p, int level, const char *fmt, ...)
{
  (void)p;
  (void)level;
  (void)fmt;
}

static const char *plugin_path(void)
{
  static char path[1024];
  const char *build = getenv("KAPI_BUILDDIR");

  snprintf(path, sizeof path,
           "%s/admission/limit-ranger/.libs/limit-ranger.so",
           build ? build : ".");
  if (access(path, R_OK) != 0)
    snprintf(path, sizeof path, "%s/admission/limit-ranger/limit-ranger.so",
             build ? build : ".");
  return path;
}

static void *handle;

static int group_setup(void **state)
{
  const kapi_plugin_desc *(*describe)(void);
  const kapi_plugin_desc *d;
  kapi_error e;
  int dummy;

  (void)state;
  host = *kapi_host_api_get();
  host.register_admission = fake_register_admission;
  host.store_list = fake_store_list;
  host.req_get = fake_req_get;
  host.req_old_object = fake_req_old_object;
  host.log = fake_log;
  handle = dlopen(plugin_path(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    fprintf(stderr, "%s\n", dlerror());
    return -1;
  }
  *(void **)&describe = dlsym(handle, "kapi_plugin_describe");
  if (!describe)
    return -1;
  d = describe();
  kapi_error_init(&e);
  if (d->init((kapi_plugin *)&dummy, &host, NULL, 0, &e) < 0)
    return -1;
  kapi_error_clear(&e);
  return ops ? 0 : -1;
}

static int group_teardown(void **state)
{
  (void)state;
  kj_free(stored);
  if (handle)
    dlclose(handle);
  return 0;
}

static int reset(void **state)
{
  (void)state;
  kj_free(stored);
  stored = NULL;
  list_rc = 0;
  listed_ns[0] = '\0';
  return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static kj *parse(const char *json)
{
  char err[256];
  kj *v = NULL;

  if (kj_parse(json, strlen(json), &v, err, sizeof err) < 0)
    fail_msg("bad test JSON: %s: %s", err, json);
  return v;
}

/* The LimitRanges of the namespace, as the registry stores them. */
static void given(const char *json_array)
{
  kj_free(stored);
  stored = parse(json_array);
}

static fake_req create_pod(void)
{
  fake_req r = {"CREATE", "pods", NULL, NULL, "ns", NULL};
  return r;
}

/* Runs admit then validate on `obj` as the chain does; returns the
 * refusal ("" when admitted) and leaves the mutated object in obj. */
static const char *run(fake_req *r, kj *obj, int *code)
{
  static char msg[2048];
  kapi_error e;

  kapi_error_init(&e);
  msg[0] = '\0';
  *code = 0;
  if (ops->admit(ops_st, (kapi_req *)r, (kapi_obj *)obj, &e) < 0 ||
      ops->validate(ops_st, (const kapi_req *)r, (const kapi_obj *)obj,
                    &e) < 0) {
    assert_true(kapi_error_isset(&e));
    snprintf(msg, sizeof msg, "%s", e.message ? e.message : "");
    *code = e.code;
    assert_string_equal(e.reason, e.code == 403 ? "Forbidden"
                                                : "InternalError");
  }
  kapi_error_clear(&e);
  return msg;
}

static const char *at(const kj *o, const char *ptr)
{
  static char buf[4096];
  char *s = kj_dump(kj_ptr(o, ptr), NULL);

  snprintf(buf, sizeof buf, "%s", s ? s : "<absent>");
  free(s);
  return buf;
}

/* Admits pod `json` (CREATE in "ns"); the refusal or "". */
static const char *admit_pod(const char *json, int *code)
{
  fake_req r = create_pod();
  kj *pod = parse(json);
  const char *msg = run(&r, pod, code);

  kj_free(pod);
  return msg;
}

#define POD(containers)                                                      \
  "{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\"},\"spec\":"         \
  "{\"containers\":[" containers "]}}"
#define C(name, resources)                                                   \
  "{\"name\":\"" name "\",\"image\":\"x\",\"resources\":{" resources "}}"

/* A LimitRange with the given items, as stored (defaults applied). */
#define LRS(items) "[{\"metadata\":{\"name\":\"lr\",\"namespace\":\"ns\"}," \
                   "\"spec\":{\"limits\":[" items "]}}]"

/* ---- tests --------------------------------------------------------------- */

static void test_registration(void **state)
{
  (void)state;
  assert_string_equal(registered_name, "LimitRanger");
  assert_int_equal(ops->handles, KAPI_OP_CREATE | KAPI_OP_UPDATE);
  assert_non_null(ops->admit);
  assert_non_null(ops->validate);
}

static void test_no_limit_range(void **state)
{
  fake_req r = create_pod();
  kj *pod = parse(POD(C("c", "")));
  char *before = kj_dump(pod, NULL), *after;
  int code;

  (void)state;
  assert_string_equal(run(&r, pod, &code), "");
  assert_string_equal(listed_ns, "ns");
  after = kj_dump(pod, NULL);
  assert_string_equal(before, after);
  free(before);
  free(after);
  kj_free(pod);
}

static void test_defaults_and_annotation(void **state)
{
  fake_req r = create_pod();
  kj *pod;
  int code;

  (void)state;
  given(LRS("{\"type\":\"Container\","
            "\"default\":{\"memory\":\"512Mi\",\"cpu\":\"1\"},"
            "\"defaultRequest\":{\"memory\":\"256Mi\",\"cpu\":\"500m\"}}"));
  pod = parse("{\"metadata\":{\"name\":\"p\"},\"spec\":{"
              "\"initContainers\":[" C("i", "\"requests\":{\"cpu\":\"100m\"}")
              "],\"containers\":[" C("c", "") "]}}");
  assert_string_equal(run(&r, pod, &code), "");
  assert_string_equal(at(pod, "/spec/containers/0/resources"),
                      "{\"limits\":{\"memory\":\"512Mi\",\"cpu\":\"1\"},"
                      "\"requests\":{\"memory\":\"256Mi\",\"cpu\":\"500m\"}}");
  assert_string_equal(at(pod, "/spec/initContainers/0/resources"),
                      "{\"requests\":{\"cpu\":\"100m\",\"memory\":\"256Mi\"},"
                      "\"limits\":{\"memory\":\"512Mi\",\"cpu\":\"1\"}}");
  assert_string_equal(
      at(pod, "/metadata/annotations/kubernetes.io~1limit-ranger"),
      "\"LimitRanger plugin set: cpu, memory request for container c; cpu, "
      "memory limit for container c; memory request for init container i; "
      "cpu, memory limit for init container i\"");
  kj_free(pod);
}

/* A limit without a request is the request (the v1 defaults upstream
 * applies before admission), so only the limit's absent peers are set. */
static void test_limit_sets_request(void **state)
{
  fake_req r = create_pod();
  kj *pod;
  int code;

  (void)state;
  given(LRS("{\"type\":\"Container\",\"default\":{\"cpu\":\"1\","
            "\"memory\":\"512Mi\"},\"defaultRequest\":{\"cpu\":\"500m\","
            "\"memory\":\"256Mi\"}}"));
  pod = parse(POD(C("c", "\"limits\":{\"cpu\":\"2\"}")));
  assert_string_equal(run(&r, pod, &code), "");
  assert_string_equal(at(pod, "/spec/containers/0/resources"),
                      "{\"limits\":{\"cpu\":\"2\",\"memory\":\"512Mi\"},"
                      "\"requests\":{\"cpu\":\"2\",\"memory\":\"256Mi\"}}");
  assert_string_equal(
      at(pod, "/metadata/annotations/kubernetes.io~1limit-ranger"),
      "\"LimitRanger plugin set: memory request for container c; memory "
      "limit for container c\"");
  kj_free(pod);
}

/* Nothing set: no annotation, existing annotations kept. */
static void test_nothing_to_set(void **state)
{
  fake_req r = create_pod();
  kj *pod;
  int code;

  (void)state;
  given(LRS("{\"type\":\"Container\",\"default\":{\"cpu\":\"1\"},"
            "\"defaultRequest\":{\"cpu\":\"1\"}}"));
  pod = parse("{\"metadata\":{\"name\":\"p\",\"annotations\":{\"a\":\"b\"}},"
              "\"spec\":{\"containers\":[" C("c", "\"requests\":{\"cpu\":"
              "\"1\"},\"limits\":{\"cpu\":\"1\"}") "]}}");
  assert_string_equal(run(&r, pod, &code), "");
  assert_string_equal(at(pod, "/metadata/annotations"), "{\"a\":\"b\"}");
  kj_free(pod);
}

static void test_max(void **state)
{
  int code;

  (void)state;
  given(LRS("{\"type\":\"Container\",\"max\":{\"cpu\":\"1\"},"
            "\"default\":{\"cpu\":\"1\"},\"defaultRequest\":{\"cpu\":\"1\"}}"));
  assert_string_equal(
      admit_pod(POD(C("c", "\"limits\":{\"cpu\":\"2\"}")), &code),
      "pods \"p\" is forbidden: maximum cpu usage per Container is 1, but "
      "limit is 2");
  assert_int_equal(code, 403);
  /* Canonical forms: 2000m is 2; 1 is not above 1000m. */
  assert_string_equal(
      admit_pod(POD(C("c", "\"limits\":{\"cpu\":\"2000m\"}")), &code),
      "pods \"p\" is forbidden: maximum cpu usage per Container is 1, but "
      "limit is 2");
  assert_string_equal(
      admit_pod(POD(C("c", "\"limits\":{\"cpu\":\"1000m\"}")), &code), "");
  /* The same message from two containers is reported once. */
  assert_string_equal(
      admit_pod(POD(C("a", "\"limits\":{\"cpu\":\"2\"}") ","
                    C("b", "\"limits\":{\"cpu\":\"2\"}")),
                &code),
      "pods \"p\" is forbidden: maximum cpu usage per Container is 1, but "
      "limit is 2");
}

static void test_max_without_limit(void **state)
{
  int code;

  (void)state;
  /* A max without default (not as the registry stores it, but possible
   * for a Pod item): no limit at all is refused. */
  given(LRS("{\"type\":\"Pod\",\"max\":{\"memory\":\"1Gi\"}}"));
  assert_string_equal(
      admit_pod(POD(C("c", "")), &code),
      "pods \"p\" is forbidden: maximum memory usage per Pod is 1Gi.  No "
      "limit is specified");
}

static void test_aggregate(void **state)
{
  int code;

  (void)state;
  given(LRS("{\"type\":\"Container\",\"min\":{\"memory\":\"1Gi\"},"
            "\"max\":{\"cpu\":\"1\"}}"));
  assert_string_equal(
      admit_pod(POD(C("c", "\"limits\":{\"cpu\":\"2\"}") ","
                    C("d", "\"requests\":{\"memory\":\"512Mi\","
                           "\"cpu\":\"500m\"},\"limits\":{\"cpu\":\"1\","
                           "\"memory\":\"256Mi\"}")),
                &code),
      "pods \"p\" is forbidden: [minimum memory usage per Container is 1Gi.  "
      "No request is specified, maximum cpu usage per Container is 1, but "
      "limit is 2, minimum memory usage per Container is 1Gi, but request "
      "is 512Mi]");
}

static void test_min_limit(void **state)
{
  int code;

  (void)state;
  given(LRS("{\"type\":\"Container\",\"min\":{\"cpu\":\"200m\"}}"));
  assert_string_equal(
      admit_pod(POD(C("c", "\"requests\":{\"cpu\":\"0.3\"},\"limits\":"
                           "{\"cpu\":\"100m\"}")),
                &code),
      "pods \"p\" is forbidden: minimum cpu usage per Container is 200m, but "
      "limit is 100m");
}

static void test_ratio(void **state)
{
  int code;

  (void)state;
  given(LRS("{\"type\":\"Container\","
            "\"maxLimitRequestRatio\":{\"cpu\":\"2\"}}"));
  assert_string_equal(
      admit_pod(POD(C("c", "\"requests\":{\"cpu\":\"100m\"},\"limits\":"
                           "{\"cpu\":\"500m\"}")),
                &code),
      "pods \"p\" is forbidden: cpu max limit to request ratio per Container "
      "is 2, but provided ratio is 5.000000");
  assert_string_equal(
      admit_pod(POD(C("c", "\"requests\":{\"cpu\":\"100m\"},\"limits\":"
                           "{\"cpu\":\"200m\"}")),
                &code),
      "");
  assert_string_equal(
      admit_pod(POD(C("c", "\"requests\":{\"cpu\":\"100m\"}")), &code),
      "pods \"p\" is forbidden: cpu max limit to request ratio per Container "
      "is 2, but no limit is specified or limit is 0");
  assert_string_equal(
      admit_pod(POD(C("c", "")), &code),
      "pods \"p\" is forbidden: cpu max limit to request ratio per Container "
      "is 2, but no request is specified or request is 0");
}

static void test_init_containers(void **state)
{
  int code;

  (void)state;
  given(LRS("{\"type\":\"Container\",\"max\":{\"memory\":\"1Gi\"},"
            "\"default\":{\"memory\":\"1Gi\"},"
            "\"defaultRequest\":{\"memory\":\"1Gi\"}}"));
  assert_string_equal(
      admit_pod("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"initContainers\":"
                "[" C("i", "\"limits\":{\"memory\":\"2Gi\"}") "],"
                "\"containers\":[" C("c", "") "]}}",
                &code),
      "pods \"p\" is forbidden: maximum memory usage per Container is 1Gi, "
      "but limit is 2Gi");
}

/* Pod items bound the pod's effective totals: the containers' sum, or a
 * larger init container (plus the sidecars started before it). */
static void test_pod_totals(void **state)
{
  int code;

  (void)state;
  given(LRS("{\"type\":\"Pod\",\"max\":{\"cpu\":\"1\"}}"));
  assert_string_equal(
      admit_pod(POD(C("a", "\"limits\":{\"cpu\":\"600m\"}") ","
                    C("b", "\"limits\":{\"cpu\":\"600m\"}")),
                &code),
      "pods \"p\" is forbidden: maximum cpu usage per Pod is 1, but limit is "
      "1200m");
  assert_string_equal(
      admit_pod("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"initContainers\":"
                "[" C("i", "\"limits\":{\"cpu\":\"1500m\"}") "],"
                "\"containers\":[" C("c", "\"limits\":{\"cpu\":\"500m\"}")
                "]}}",
                &code),
      "pods \"p\" is forbidden: maximum cpu usage per Pod is 1, but limit is "
      "1500m");
  /* A sidecar keeps running: 400m + 700m. */
  assert_string_equal(
      admit_pod("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"initContainers\":"
                "[{\"name\":\"s\",\"restartPolicy\":\"Always\",\"resources\":"
                "{\"limits\":{\"cpu\":\"400m\"}}}],"
                "\"containers\":[" C("c", "\"limits\":{\"cpu\":\"700m\"}")
                "]}}",
                &code),
      "pods \"p\" is forbidden: maximum cpu usage per Pod is 1, but limit is "
      "1100m");
  assert_string_equal(
      admit_pod(POD(C("a", "\"limits\":{\"cpu\":\"0.5\"}") ","
                    C("b", "\"limits\":{\"cpu\":\"500m\"}")),
                &code),
      "");
}

/* Each LimitRange applies in turn; the last one that set something
 * writes the annotation; the first that refuses ends the request. */
static void test_several_limit_ranges(void **state)
{
  fake_req r = create_pod();
  kj *pod;
  int code;

  (void)state;
  given("[{\"metadata\":{\"name\":\"a\"},\"spec\":{\"limits\":[{\"type\":"
        "\"Container\",\"defaultRequest\":{\"cpu\":\"100m\"}}]}},"
        "{\"metadata\":{\"name\":\"b\"},\"spec\":{\"limits\":[{\"type\":"
        "\"Container\",\"defaultRequest\":{\"cpu\":\"300m\","
        "\"memory\":\"1Mi\"}}]}}]");
  pod = parse(POD(C("c", "")));
  assert_string_equal(run(&r, pod, &code), "");
  assert_string_equal(at(pod, "/spec/containers/0/resources/requests"),
                      "{\"cpu\":\"100m\",\"memory\":\"1Mi\"}");
  assert_string_equal(
      at(pod, "/metadata/annotations/kubernetes.io~1limit-ranger"),
      "\"LimitRanger plugin set: memory request for container c\"");
  kj_free(pod);
}

static void test_skipped(void **state)
{
  fake_req r = create_pod();
  kj *pod, *old;
  int code;

  (void)state;
  given(LRS("{\"type\":\"Container\",\"max\":{\"cpu\":\"1\"}}"));
  pod = parse(POD(C("c", "\"limits\":{\"cpu\":\"2\"}")));
  /* Pod updates: containers cannot change. */
  r.operation = "UPDATE";
  assert_string_equal(run(&r, pod, &code), "");
  /* Subresources. */
  r.operation = "CREATE";
  r.subresource = "binding";
  assert_string_equal(run(&r, pod, &code), "");
  /* Other resources. */
  r.subresource = NULL;
  r.resource = "configmaps";
  assert_string_equal(run(&r, pod, &code), "");
  /* Claims being deleted. */
  given(LRS("{\"type\":\"PersistentVolumeClaim\","
            "\"max\":{\"storage\":\"1Gi\"}}"));
  kj_free(pod);
  pod = parse("{\"metadata\":{\"name\":\"c\"},\"spec\":{\"resources\":"
              "{\"requests\":{\"storage\":\"2Gi\"}}}}");
  old = parse("{\"metadata\":{\"name\":\"c\",\"deletionTimestamp\":"
              "\"2025-01-01T00:00:00Z\"}}");
  r.resource = "persistentvolumeclaims";
  r.operation = "UPDATE";
  r.old = old;
  assert_string_equal(run(&r, pod, &code), "");
  r.old = NULL;
  assert_string_equal(run(&r, pod, &code),
                      "persistentvolumeclaims \"c\" is forbidden: maximum "
                      "storage usage per PersistentVolumeClaim is 1Gi, but "
                      "request is 2Gi");
  kj_free(old);
  kj_free(pod);
}

static void test_pvc(void **state)
{
  fake_req r = {"CREATE", "persistentvolumeclaims", NULL, NULL, "ns", NULL};
  kj *pvc;
  int code;

  (void)state;
  given(LRS("{\"type\":\"PersistentVolumeClaim\","
            "\"min\":{\"storage\":\"1Gi\"},\"max\":{\"storage\":\"10Gi\"}}"));
  pvc = parse("{\"metadata\":{\"name\":\"c\"},\"spec\":{\"resources\":"
              "{\"requests\":{\"storage\":\"512Mi\"}}}}");
  assert_string_equal(run(&r, pvc, &code),
                      "persistentvolumeclaims \"c\" is forbidden: minimum "
                      "storage usage per PersistentVolumeClaim is 1Gi, but "
                      "request is 512Mi");
  kj_free(pvc);
  pvc = parse("{\"metadata\":{\"name\":\"c\"},\"spec\":{}}");
  assert_string_equal(run(&r, pvc, &code),
                      "persistentvolumeclaims \"c\" is forbidden: [minimum "
                      "storage usage per PersistentVolumeClaim is 1Gi.  No "
                      "request is specified, maximum storage usage per "
                      "PersistentVolumeClaim is 10Gi.  No request is "
                      "specified]");
  kj_free(pvc);
}

static void test_names(void **state)
{
  fake_req r = create_pod();
  kj *pod;
  int code;

  (void)state;
  given(LRS("{\"type\":\"Container\",\"max\":{\"cpu\":\"1\"}}"));
  pod = parse("{\"metadata\":{\"generateName\":\"web-\"},\"spec\":"
              "{\"containers\":[" C("c", "\"limits\":{\"cpu\":\"2\"}") "]}}");
  assert_non_null(strstr(run(&r, pod, &code), "pods \"web-\" is forbidden"));
  kj_free(pod);
}

static void test_store_error(void **state)
{
  int code;

  (void)state;
  list_rc = -EIO;
  assert_string_equal(admit_pod(POD(C("c", "")), &code),
                      "pods \"p\" is forbidden: unable to CREATE /v1, "
                      "Resource=pods at this time because there was an "
                      "error enforcing limit ranges");
  assert_int_equal(code, 403);
  /* Without a limitranges resource there is no LimitRange. */
  list_rc = -ENOENT;
  assert_string_equal(admit_pod(POD(C("c", "")), &code), "");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, reset)
  const struct CMUnitTest tests[] = {
      T(test_registration),    T(test_no_limit_range),
      T(test_defaults_and_annotation), T(test_limit_sets_request),
      T(test_nothing_to_set),  T(test_max),
      T(test_max_without_limit), T(test_aggregate),
      T(test_min_limit),       T(test_ratio),
      T(test_init_containers), T(test_pod_totals),
      T(test_several_limit_ranges), T(test_skipped),
      T(test_pvc),             T(test_names),
      T(test_store_error),
  };
#undef T
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
