/*
 * test_pod.c - the pod resource plugin (registry/pod/pod.c), loaded the
 * way the server loads it: the built pod.so goes through the plugin
 * loader, and the test calls the kapi_resource_ops it registered.
 *
 * The plugin is looked up as $KAPI_BUILDDIR/registry/pod/.libs/pod.so
 * (libtool's layout), else $KAPI_BUILDDIR/registry/pod/pod.so.  Messages
 * are asserted whole, as kube-apiserver words them, by turning the field
 * errors into the 422 Status message with kapi_error_invalid().
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "plugin_loader.h"
#include "registry_test_util.h"
#include "status.h"

static int setup(void **state)
{
  *state = rt_load("registry/pod", "pod", KAPI_KIND_RESOURCE);
  return 0;
}

static const char *str(const kj *o, const char *ptr)
{
  return kj_str(kj_ptr(o, ptr));
}

static int64_t num(const kj *o, const char *ptr)
{
  int64_t n = -12345;
  kj_to_int(kj_ptr(o, ptr), &n);
  return n;
}

/* A pod after PrepareForCreate, as the server stores it. */
static kj *created(fixture *f, const char *json)
{
  kj *pod = rt_parse(json);
  f->ops->prepare_for_create(f->st, pod);
  return pod;
}

/* Validates a created pod; returns the 422 message. */
static const char *validate_msg(fixture *f, const kj *pod)
{
  kj *errs = kj_array();
  int n = f->ops->validate(f->st, pod, errs);
  const char *msg;

  assert_int_equal((size_t)n, kj_len(errs));
  msg = rt_invalid_message("", "Pod", "p", errs);
  kj_free(errs);
  return msg;
}

static const char *validate_update_msg(fixture *f, const kj *pod,
                                       const kj *old)
{
  kj *errs = kj_array();
  int n = f->ops->validate_update(f->st, pod, old, errs);
  const char *msg;

  assert_int_equal((size_t)n, kj_len(errs));
  msg = rt_invalid_message("", "Pod", "p", errs);
  kj_free(errs);
  return msg;
}

#define POD(spec) "{\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"}," \
                  "\"spec\":" spec "}"
#define WEB "{\"name\":\"web\",\"image\":\"nginx\"}"

/* ---- registration ------------------------------------------------------ */

static void test_registration(void **state)
{
  fixture *f = *state;
  const kapi_resource_ops *o = f->ops;
  static const char *const cols[] = {"Name", "Ready", "Status", "Restarts",
                                     "Age", "IP", "Node", "Nominated Node",
                                     "Readiness Gates"};
  size_t i;
  kj *schema;

  assert_string_equal(o->group, "");
  assert_string_equal(o->version, "v1");
  assert_string_equal(o->resource, "pods");
  assert_string_equal(o->kind, "Pod");
  assert_string_equal(o->singular, "pod");
  assert_string_equal(o->short_names[0], "po");
  assert_null(o->short_names[1]);
  assert_string_equal(o->categories[0], "all");
  assert_int_equal(o->namespaced, 1);
  assert_int_equal(o->name_rule, KAPI_NAME_DNS_SUBDOMAIN);
  assert_int_equal(o->allow_create_on_update, 0);
  assert_int_equal(o->allow_unconditional_update, 1);
  assert_int_equal(o->n_columns, 9);
  for (i = 0; i < o->n_columns; i++) {
    assert_string_equal(o->columns[i].name, cols[i]);
    assert_int_equal(o->columns[i].priority, i < 5 ? 0 : 1);
  }
  assert_string_equal(o->columns[0].format, "name");
  assert_int_equal(o->n_fields, 7);
  assert_string_equal(o->fields[5].label, "status.podIP");
  assert_string_equal(o->fields[5].pointer, "/status/podIP");

  schema = rt_parse(o->schema);
  assert_string_equal(str(schema, "/spec/containers/0/imagePullPolicy"),
                      "enum:Always|Never|IfNotPresent");
  assert_string_equal(str(schema, "/spec/containers/0/$mergeKey"), "name");
  assert_string_equal(str(schema, "/spec/containers/0/env/0/$mergeKey"),
                      "name");
  assert_string_equal(str(schema, "/spec/volumes/0/$strategy"),
                      "merge,retainKeys");
  assert_string_equal(str(schema, "/spec/tolerations/0/$listType"),
                      "atomic");
  assert_string_equal(str(schema, "/status/conditions/0/$mergeKey"), "type");
  assert_string_equal(str(schema, "/spec/containers/0/livenessProbe/httpGet/"
                                  "port"),
                      "int-or-string");
  assert_string_equal(str(schema, "/spec/ephemeralContainers/0/"
                                  "targetContainerName"),
                      "string");
  /* 24 fields and 3 annotations ($mergeKey, $strategy, $required). */
  assert_int_equal(kj_len(kj_ptr(schema, "/spec/containers/0")), 27);
  assert_string_equal(str(schema, "/spec/affinity"), "object");
  assert_string_equal(str(schema, "/status/containerStatuses/0"), "object");
  assert_string_equal(str(schema, "/metadata"), "meta");
  kj_free(schema);
}

/* ---- defaults and status ---------------------------------------------- */

static void test_defaults(void **state)
{
  fixture *f = *state;
  kj *pod = created(f, POD(
      "{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.25\","
      "\"ports\":[{\"containerPort\":80}],"
      "\"resources\":{\"limits\":{\"cpu\":\"500m\",\"memory\":\"128Mi\"},"
      "\"requests\":{\"cpu\":\"500m\"}},"
      "\"livenessProbe\":{\"httpGet\":{\"port\":80}},"
      "\"env\":[{\"name\":\"NS\",\"valueFrom\":{\"fieldRef\":"
      "{\"fieldPath\":\"metadata.namespace\"}}}]}],"
      "\"initContainers\":[{\"name\":\"init\",\"image\":\"busybox\"}],"
      "\"volumes\":[{\"name\":\"scratch\"},"
      "{\"name\":\"cfg\",\"configMap\":{\"name\":\"c\"}}]},"
      "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.1\"}"));

  assert_string_equal(str(pod, "/spec/restartPolicy"), "Always");
  assert_string_equal(str(pod, "/spec/dnsPolicy"), "ClusterFirst");
  assert_string_equal(rt_json_at(pod, "/spec/securityContext"), "{}");
  assert_int_equal(num(pod, "/spec/terminationGracePeriodSeconds"), 30);
  assert_string_equal(str(pod, "/spec/schedulerName"), "default-scheduler");
  assert_string_equal(rt_json_at(pod, "/spec/enableServiceLinks"), "true");

  assert_string_equal(str(pod, "/spec/containers/0/imagePullPolicy"),
                      "IfNotPresent");
  assert_string_equal(str(pod, "/spec/containers/0/terminationMessagePath"),
                      "/dev/termination-log");
  assert_string_equal(str(pod, "/spec/containers/0/terminationMessagePolicy"),
                      "File");
  assert_string_equal(str(pod, "/spec/containers/0/ports/0/protocol"), "TCP");
  /* Only the missing request is copied from its limit. */
  assert_string_equal(rt_json_at(pod, "/spec/containers/0/resources/requests"),
                      "{\"cpu\":\"500m\",\"memory\":\"128Mi\"}");
  assert_string_equal(
      rt_json_at(pod, "/spec/containers/0/livenessProbe"),
      "{\"httpGet\":{\"port\":80,\"path\":\"/\",\"scheme\":\"HTTP\"},"
      "\"timeoutSeconds\":1,\"periodSeconds\":10,\"successThreshold\":1,"
      "\"failureThreshold\":3}");
  assert_string_equal(
      str(pod, "/spec/containers/0/env/0/valueFrom/fieldRef/apiVersion"),
      "v1");
  assert_string_equal(str(pod, "/spec/initContainers/0/imagePullPolicy"),
                      "Always");
  assert_string_equal(
      str(pod, "/spec/initContainers/0/terminationMessagePolicy"), "File");
  assert_string_equal(rt_json_at(pod, "/spec/volumes/0"),
                      "{\"name\":\"scratch\",\"emptyDir\":{}}");
  assert_int_equal(num(pod, "/spec/volumes/1/configMap/defaultMode"), 420);

  /* The client's status is replaced.  The init container has no limits,
   * which makes the pod Burstable (init containers count for QoS). */
  assert_string_equal(rt_json_at(pod, "/status"),
                      "{\"phase\":\"Pending\",\"qosClass\":\"Burstable\"}");
  assert_string_equal(validate_msg(f, pod), "");
  kj_free(pod);
}

static void test_defaults_keep_values(void **state)
{
  fixture *f = *state;
  kj *pod = created(f, POD(
      "{\"restartPolicy\":\"Never\",\"dnsPolicy\":\"Default\","
      "\"terminationGracePeriodSeconds\":0,\"enableServiceLinks\":false,"
      "\"hostNetwork\":true,"
      "\"containers\":[{\"name\":\"web\",\"image\":\"nginx\","
      "\"imagePullPolicy\":\"Never\",\"ports\":[{\"containerPort\":8080,"
      "\"protocol\":\"UDP\"}]}]}"));

  assert_string_equal(str(pod, "/spec/restartPolicy"), "Never");
  assert_string_equal(str(pod, "/spec/dnsPolicy"), "Default");
  assert_int_equal(num(pod, "/spec/terminationGracePeriodSeconds"), 0);
  assert_string_equal(rt_json_at(pod, "/spec/enableServiceLinks"), "false");
  assert_string_equal(str(pod, "/spec/containers/0/imagePullPolicy"),
                      "Never");
  assert_string_equal(str(pod, "/spec/containers/0/ports/0/protocol"), "UDP");
  /* hostNetwork: the port is the node's port. */
  assert_int_equal(num(pod, "/spec/containers/0/ports/0/hostPort"), 8080);
  assert_string_equal(str(pod, "/status/qosClass"), "BestEffort");
  kj_free(pod);
}

static void test_negative_grace_becomes_one(void **state)
{
  fixture *f = *state;
  kj *pod = created(f, POD("{\"terminationGracePeriodSeconds\":-5,"
                           "\"containers\":[" WEB "]}"));

  assert_int_equal(num(pod, "/spec/terminationGracePeriodSeconds"), 1);
  kj_free(pod);
}

static void test_image_pull_policy(void **state)
{
  static const struct {
    const char *image, *policy;
  } cases[] = {
      {"nginx", "Always"},
      {"nginx:latest", "Always"},
      {"nginx:1.25", "IfNotPresent"},
      {"docker.io/library/nginx:1.25", "IfNotPresent"},
      {"nginx@sha256:0123456789abcdef", "IfNotPresent"},
      {"nginx:latest@sha256:0123456789abcdef", "Always"},
      {"registry.local:5000/app", "Always"},
      {"registry.local:5000/app:v2", "IfNotPresent"},
  };
  fixture *f = *state;
  char json[512];
  size_t i;

  for (i = 0; i < sizeof cases / sizeof *cases; i++) {
    kj *pod;
    snprintf(json, sizeof json,
             POD("{\"containers\":[{\"name\":\"c\",\"image\":\"%s\"}]}"),
             cases[i].image);
    pod = created(f, json);
    if (strcmp(str(pod, "/spec/containers/0/imagePullPolicy"),
               cases[i].policy))
      fail_msg("%s: got %s, want %s", cases[i].image,
               str(pod, "/spec/containers/0/imagePullPolicy"),
               cases[i].policy);
    kj_free(pod);
  }
}

static void test_qos_class(void **state)
{
  static const struct {
    const char *containers, *qos;
  } cases[] = {
      {"[{\"name\":\"a\",\"image\":\"i\"}]", "BestEffort"},
      /* Only non-cpu/memory resources: still BestEffort. */
      {"[{\"name\":\"a\",\"image\":\"i\",\"resources\":{\"limits\":"
       "{\"ephemeral-storage\":\"1Gi\"}}}]",
       "BestEffort"},
      {"[{\"name\":\"a\",\"image\":\"i\",\"resources\":{\"requests\":"
       "{\"cpu\":\"100m\"}}}]",
       "Burstable"},
      /* Limits only: requests are defaulted from them. */
      {"[{\"name\":\"a\",\"image\":\"i\",\"resources\":{\"limits\":"
       "{\"cpu\":1,\"memory\":\"1Gi\"}}}]",
       "Guaranteed"},
      /* Same quantities, spelled differently. */
      {"[{\"name\":\"a\",\"image\":\"i\",\"resources\":{\"limits\":"
       "{\"cpu\":\"1\",\"memory\":\"1Gi\"},\"requests\":{\"cpu\":\"1000m\","
       "\"memory\":\"1024Mi\"}}}]",
       "Guaranteed"},
      {"[{\"name\":\"a\",\"image\":\"i\",\"resources\":{\"limits\":"
       "{\"cpu\":\"1\",\"memory\":\"1Gi\"},\"requests\":{\"cpu\":\"500m\"}}}]",
       "Burstable"},
      {"[{\"name\":\"a\",\"image\":\"i\",\"resources\":{\"limits\":"
       "{\"cpu\":\"1\"}}}]",
       "Burstable"},
      /* One container without limits spoils Guaranteed. */
      {"[{\"name\":\"a\",\"image\":\"i\",\"resources\":{\"limits\":"
       "{\"cpu\":\"1\",\"memory\":\"1Gi\"}}},{\"name\":\"b\",\"image\":\"i\"}]",
       "Burstable"},
  };
  fixture *f = *state;
  char json[1024];
  size_t i;

  for (i = 0; i < sizeof cases / sizeof *cases; i++) {
    kj *pod;
    snprintf(json, sizeof json, POD("{\"containers\":%s}"),
             cases[i].containers);
    pod = created(f, json);
    if (strcmp(str(pod, "/status/qosClass"), cases[i].qos))
      fail_msg("case %zu: got %s, want %s", i, str(pod, "/status/qosClass"),
               cases[i].qos);
    kj_free(pod);
  }
}

static void test_qos_counts_init_containers(void **state)
{
  fixture *f = *state;
  kj *pod = created(f, POD(
      "{\"containers\":[{\"name\":\"a\",\"image\":\"i\"}],"
      "\"initContainers\":[{\"name\":\"b\",\"image\":\"i\",\"resources\":"
      "{\"requests\":{\"memory\":\"64Mi\"}}}]}"));

  assert_string_equal(str(pod, "/status/qosClass"), "Burstable");
  kj_free(pod);
}

static void test_scheduling_gated_condition(void **state)
{
  fixture *f = *state;
  kj *pod = created(f, POD("{\"schedulingGates\":[{\"name\":\"wait\"}],"
                           "\"containers\":[" WEB "]}"));

  assert_string_equal(str(pod, "/status/conditions/0/type"), "PodScheduled");
  assert_string_equal(str(pod, "/status/conditions/0/status"), "False");
  assert_string_equal(str(pod, "/status/conditions/0/reason"),
                      "SchedulingGated");
  kj_free(pod);
}

/* ---- validation -------------------------------------------------------- */

/* The 422 message for a pod created from this spec. */
static void assert_invalid(fixture *f, const char *pod_json, const char *want)
{
  kj *pod = created(f, pod_json);
  const char *got = validate_msg(f, pod);

  if (strcmp(got, want))
    fail_msg("\n got: %s\nwant: %s", got, want);
  kj_free(pod);
}

static void test_validate_required(void **state)
{
  fixture *f = *state;

  assert_invalid(f, POD("{}"),
                 "Pod \"p\" is invalid: spec.containers: Required value");
  assert_invalid(f, "{\"metadata\":{\"name\":\"p\"}}",
                 "Pod \"p\" is invalid: spec.containers: Required value");
  assert_invalid(f, POD("{\"containers\":[]}"),
                 "Pod \"p\" is invalid: spec.containers: Required value");
  assert_invalid(f, POD("{\"containers\":[{\"image\":\"nginx\"}]}"),
                 "Pod \"p\" is invalid: spec.containers[0].name: Required "
                 "value");
  assert_invalid(f, POD("{\"containers\":[{\"name\":\"web\"}]}"),
                 "Pod \"p\" is invalid: spec.containers[0].image: Required "
                 "value");
  assert_invalid(f, POD("{\"containers\":[{\"name\":\"web\",\"image\":\"i\","
                        "\"ports\":[{\"name\":\"http\"}]}]}"),
                 "Pod \"p\" is invalid: spec.containers[0].ports[0]."
                 "containerPort: Required value");
  assert_invalid(f, POD("{\"containers\":[{\"name\":\"web\",\"image\":\"i\","
                        "\"env\":[{\"value\":\"x\"}]}]}"),
                 "Pod \"p\" is invalid: spec.containers[0].env[0].name: "
                 "Required value");
}

static void test_validate_names(void **state)
{
  fixture *f = *state;

  assert_invalid(f, POD("{\"containers\":[" WEB "," WEB "]}"),
                 "Pod \"p\" is invalid: spec.containers[1].name: Duplicate "
                 "value: \"web\"");
  assert_invalid(f, POD("{\"containers\":[" WEB "],\"initContainers\":["
                        WEB "]}"),
                 "Pod \"p\" is invalid: spec.initContainers[0].name: "
                 "Duplicate value: \"web\"");
  assert_invalid(
      f, POD("{\"containers\":[{\"name\":\"Web_1\",\"image\":\"nginx\"}]}"),
      "Pod \"p\" is invalid: spec.containers[0].name: Invalid value: "
      "\"Web_1\": a lowercase RFC 1123 label must consist of lower case "
      "alphanumeric characters or '-', and must start and end with an "
      "alphanumeric character (e.g. 'my-name',  or '123-abc', regex used "
      "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
}

static void test_validate_supported_values(void **state)
{
  fixture *f = *state;

  assert_invalid(f, POD("{\"restartPolicy\":\"Sometimes\",\"containers\":["
                        WEB "]}"),
                 "Pod \"p\" is invalid: spec.restartPolicy: Unsupported "
                 "value: \"Sometimes\": supported values: \"Always\", "
                 "\"OnFailure\", \"Never\"");
  assert_invalid(f, POD("{\"dnsPolicy\":\"Google\",\"containers\":[" WEB
                        "]}"),
                 "Pod \"p\" is invalid: spec.dnsPolicy: Unsupported value: "
                 "\"Google\": supported values: \"ClusterFirstWithHostNet\", "
                 "\"ClusterFirst\", \"Default\", \"None\"");
  assert_invalid(f, POD("{\"containers\":[{\"name\":\"web\",\"image\":\"i\","
                        "\"imagePullPolicy\":\"Sometimes\"}]}"),
                 "Pod \"p\" is invalid: spec.containers[0].imagePullPolicy: "
                 "Unsupported value: \"Sometimes\": supported values: "
                 "\"Always\", \"IfNotPresent\", \"Never\"");
  assert_invalid(f, POD("{\"containers\":[{\"name\":\"web\",\"image\":\"i\","
                        "\"ports\":[{\"containerPort\":80,"
                        "\"protocol\":\"ICMP\"}]}]}"),
                 "Pod \"p\" is invalid: spec.containers[0].ports[0].protocol: "
                 "Unsupported value: \"ICMP\": supported values: \"SCTP\", "
                 "\"TCP\", \"UDP\"");
  assert_invalid(f, POD("{\"containers\":[" WEB "],\"initContainers\":["
                        "{\"name\":\"i\",\"image\":\"i\","
                        "\"restartPolicy\":\"Never\"}]}"),
                 "Pod \"p\" is invalid: spec.initContainers[0].restartPolicy: "
                 "Unsupported value: \"Never\": supported values: "
                 "\"Always\"");
}

static void test_validate_numbers(void **state)
{
  fixture *f = *state;
  kj *pod;

  assert_invalid(f, POD("{\"containers\":[{\"name\":\"web\",\"image\":\"i\","
                        "\"ports\":[{\"containerPort\":70000}]}]}"),
                 "Pod \"p\" is invalid: spec.containers[0].ports[0]."
                 "containerPort: Invalid value: 70000: must be between 1 and "
                 "65535, inclusive");
  assert_invalid(f, POD("{\"activeDeadlineSeconds\":0,\"containers\":[" WEB
                        "]}"),
                 "Pod \"p\" is invalid: spec.activeDeadlineSeconds: Invalid "
                 "value: 0: must be between 1 and 2147483647, inclusive");

  /* Defaulting turns a negative grace period into 1; validation still
   * refuses one that got past it. */
  pod = rt_parse(POD("{\"terminationGracePeriodSeconds\":-1,"
                  "\"restartPolicy\":\"Always\",\"dnsPolicy\":\"Default\","
                  "\"containers\":[{\"name\":\"web\",\"image\":\"i\","
                  "\"imagePullPolicy\":\"Always\","
                  "\"terminationMessagePolicy\":\"File\"}]}"));
  assert_string_equal(validate_msg(f, pod),
                      "Pod \"p\" is invalid: spec.terminationGracePeriodSeconds"
                      ": Invalid value: -1: must be greater than or equal to 0");
  kj_free(pod);
}

static void test_validate_other(void **state)
{
  fixture *f = *state;

  assert_invalid(f, POD("{\"containers\":[{\"name\":\"web\",\"image\":\"i\","
                        "\"volumeMounts\":[{\"name\":\"data\","
                        "\"mountPath\":\"/data\"}]}]}"),
                 "Pod \"p\" is invalid: spec.containers[0].volumeMounts[0]."
                 "name: Not found: \"data\"");
  assert_invalid(f, POD("{\"containers\":[{\"name\":\"web\","
                        "\"image\":\" nginx\"}]}"),
                 "Pod \"p\" is invalid: spec.containers[0].image: Invalid "
                 "value: \" nginx\": must not have leading or trailing "
                 "whitespace");
  assert_invalid(f, POD("{\"containers\":[" WEB "],\"ephemeralContainers\":"
                        "[{\"name\":\"dbg\",\"image\":\"busybox\"}]}"),
                 "Pod \"p\" is invalid: spec.ephemeralContainers: Forbidden: "
                 "cannot be set on create");
  assert_invalid(f, POD("{\"containers\":[" WEB "],\"tolerations\":["
                        "{\"operator\":\"Equal\",\"value\":\"x\"}]}"),
                 "Pod \"p\" is invalid: spec.tolerations[0].operator: Invalid "
                 "value: \"Equal\": operator must be Exists when `key` is "
                 "empty, which means \"match all values and all keys\"");
  /* Several errors are listed together, in upstream's order. */
  assert_invalid(f, POD("{\"restartPolicy\":\"Sometimes\",\"containers\":["
                        "{\"name\":\"web\"}]}"),
                 "Pod \"p\" is invalid: [spec.containers[0].image: Required "
                 "value, spec.restartPolicy: Unsupported value: "
                 "\"Sometimes\": supported values: \"Always\", "
                 "\"OnFailure\", \"Never\"]");
}

/* ---- field paths deep in the pod ------------------------------------- */

/*
 * Defaults land at the right place in the second container, the init
 * containers and the volumes: resource names with '/' and '~' (escaped
 * in pointers), env valueFrom, probes and lifecycle handlers.
 */
static void test_defaults_deep(void **state)
{
  fixture *f = *state;
  kj *pod = created(f, POD(
      "{\"containers\":[" WEB ",{\"name\":\"side\",\"image\":\"i\","
      "\"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\","
      "\"valueFrom\":{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}}],"
      "\"resources\":{\"limits\":{\"cpu\":\"1\",\"nvidia.com/gpu\":\"2\","
      "\"example.com/a~b\":3},\"requests\":{\"cpu\":\"500m\"}},"
      "\"readinessProbe\":{\"tcpSocket\":{\"port\":1}},"
      "\"lifecycle\":{\"postStart\":{\"httpGet\":{\"port\":1}},"
      "\"preStop\":{\"httpGet\":{\"port\":2,\"path\":\"/stop\","
      "\"scheme\":\"HTTPS\"}}}}],"
      "\"initContainers\":[{\"name\":\"init\",\"image\":\"i\","
      "\"resources\":{\"limits\":{\"nvidia.com/gpu\":1}}}],"
      "\"volumes\":[{\"name\":\"tok\",\"projected\":{\"sources\":["
      "{\"serviceAccountToken\":{\"path\":\"t\"}},{\"downwardAPI\":"
      "{\"items\":[{\"path\":\"n\",\"fieldRef\":{\"fieldPath\":"
      "\"metadata.name\"}}]}}]}},"
      "{\"name\":\"dw\",\"downwardAPI\":{\"items\":[{\"path\":\"n\","
      "\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}]}},"
      "{\"name\":\"nul\",\"emptyDir\":null}]}"));

  assert_string_equal(rt_json_at(pod, "/spec/containers/1/resources/requests"),
                      "{\"cpu\":\"500m\",\"nvidia.com/gpu\":\"2\","
                      "\"example.com/a~b\":3}");
  assert_string_equal(rt_json_at(pod, "/spec/initContainers/0/resources"),
                      "{\"limits\":{\"nvidia.com/gpu\":1},"
                      "\"requests\":{\"nvidia.com/gpu\":1}}");
  assert_string_equal(rt_json_at(pod, "/spec/containers/1/env"),
                      "[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"B\","
                      "\"valueFrom\":{\"fieldRef\":{\"fieldPath\":"
                      "\"metadata.name\",\"apiVersion\":\"v1\"}}}]");
  assert_string_equal(rt_json_at(pod, "/spec/containers/1/readinessProbe"),
                      "{\"tcpSocket\":{\"port\":1},\"timeoutSeconds\":1,"
                      "\"periodSeconds\":10,\"successThreshold\":1,"
                      "\"failureThreshold\":3}");
  assert_string_equal(rt_json_at(pod, "/spec/containers/1/lifecycle"),
                      "{\"postStart\":{\"httpGet\":{\"port\":1,\"path\":\"/\","
                      "\"scheme\":\"HTTP\"}},\"preStop\":{\"httpGet\":"
                      "{\"port\":2,\"path\":\"/stop\",\"scheme\":\"HTTPS\"}}}");
  assert_string_equal(rt_json_at(pod, "/spec/volumes"),
                      "[{\"name\":\"tok\",\"projected\":{\"sources\":["
                      "{\"serviceAccountToken\":{\"path\":\"t\","
                      "\"expirationSeconds\":3600}},{\"downwardAPI\":"
                      "{\"items\":[{\"path\":\"n\",\"fieldRef\":{\"fieldPath\":"
                      "\"metadata.name\",\"apiVersion\":\"v1\"}}]}}],"
                      "\"defaultMode\":420}},"
                      "{\"name\":\"dw\",\"downwardAPI\":{\"items\":[{\"path\":"
                      "\"n\",\"fieldRef\":{\"fieldPath\":\"metadata.name\","
                      "\"apiVersion\":\"v1\"}}],\"defaultMode\":420}},"
                      "{\"name\":\"nul\",\"emptyDir\":{}}]");
  assert_string_equal(validate_msg(f, pod), "");
  kj_free(pod);
}

/* A client's status is emptied where it stands; without one, the new
 * status comes last. */
static void test_status_replaced_in_place(void **state)
{
  static const char want[] = "{\"status\":{\"phase\":\"Pending\","
                             "\"qosClass\":\"BestEffort\"},\"metadata\"";
  fixture *f = *state;
  kj *pod = created(f, "{\"status\":{\"phase\":\"Running\"},"
                       "\"metadata\":{\"name\":\"p\"},\"spec\":{}}");
  char *s = kj_dump(pod, NULL);

  assert_non_null(s);
  if (strncmp(s, want, strlen(want)))
    fail_msg("got %s", s);
  free(s);
  kj_free(pod);
  pod = created(f, "{\"metadata\":{\"name\":\"p\"},\"status\":null}");
  assert_string_equal(rt_json_at(pod, "/status"),
                      "{\"phase\":\"Pending\",\"qosClass\":\"BestEffort\"}");
  kj_free(pod);
}

static void test_validate_deep_paths(void **state)
{
  fixture *f = *state;

  /* Errors in the second container, in upstream's order. */
  assert_invalid(
      f, POD("{\"containers\":[" WEB ",{\"name\":\"side\",\"image\":\"i\","
             "\"ports\":[{\"name\":\"a\",\"containerPort\":80},{\"name\":\"a\","
             "\"containerPort\":70000,\"hostPort\":\"x\",\"protocol\":\"ICMP\"}],"
             "\"env\":[{\"name\":\"A\",\"value\":\"1\"},{\"valueFrom\":"
             "{\"fieldRef\":{\"fieldPath\":\"metadata.name\"}}}],"
             "\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/d\"},"
             "{\"name\":\"nope\",\"mountPath\":\"/d\"}],"
             "\"livenessProbe\":{\"httpGet\":{\"port\":80},"
             "\"successThreshold\":2},\"startupProbe\":{\"exec\":{\"command\":"
             "[\"true\"]},\"successThreshold\":3},\"restartPolicy\":\"Always\"}],"
             "\"volumes\":[{\"name\":\"data\"}]}"),
      "Pod \"p\" is invalid: [spec.containers[1].ports[1].name: Duplicate "
      "value: \"a\", spec.containers[1].ports[1].containerPort: Invalid "
      "value: 70000: must be between 1 and 65535, inclusive, "
      "spec.containers[1].ports[1].hostPort: Invalid value: \"x\": must be an "
      "integer, spec.containers[1].ports[1].protocol: Unsupported value: "
      "\"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\", "
      "spec.containers[1].env[1].name: Required value, "
      "spec.containers[1].volumeMounts[1].name: Not found: \"nope\", "
      "spec.containers[1].volumeMounts[1].mountPath: Invalid value: \"/d\": "
      "must be unique, spec.containers[1].livenessProbe.successThreshold: "
      "Invalid value: 2: must be 1, "
      "spec.containers[1].startupProbe.successThreshold: Invalid value: 3: "
      "must be 1, spec.containers[1].restartPolicy: Forbidden: may not be set "
      "for non-init containers]");
  /* Init containers: probe handlers only for sidecars. */
  assert_invalid(
      f, POD("{\"containers\":[" WEB "],\"initContainers\":[{\"name\":\"i0\","
             "\"image\":\"i\",\"lifecycle\":{\"postStart\":{\"httpGet\":"
             "{\"port\":1}}},\"readinessProbe\":{\"tcpSocket\":{\"port\":1}}},"
             "{\"name\":\"web\",\"image\":\"i\",\"restartPolicy\":\"Always\","
             "\"livenessProbe\":{\"httpGet\":{\"port\":1},"
             "\"successThreshold\":2}}]}"),
      "Pod \"p\" is invalid: [spec.initContainers[0].lifecycle: Forbidden: "
      "may not be set for init containers without restartPolicy=Always, "
      "spec.initContainers[0].readinessProbe: Forbidden: may not be set for "
      "init containers without restartPolicy=Always, "
      "spec.initContainers[1].name: Duplicate value: \"web\", "
      "spec.initContainers[1].livenessProbe.successThreshold: Invalid value: "
      "2: must be 1]");
}

/* The fields of the errors of a created pod, in order, comma-separated. */
static const char *error_fields(fixture *f, const char *json)
{
  static char buf[2048];
  kj *pod = created(f, json), *errs = kj_array();
  size_t i, n = (size_t)f->ops->validate(f->st, pod, errs);

  buf[0] = '\0';
  assert_int_equal(n, kj_len(errs));
  for (i = 0; i < n; i++)
    snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s",
             i ? ", " : "", kj_get_str(kj_at(errs, i), "field"));
  kj_free(errs);
  kj_free(pod);
  return buf;
}

static void test_validate_spec_paths(void **state)
{
  fixture *f = *state;
  char json[2048];
  size_t i;
  int n;

  assert_string_equal(
      error_fields(f, POD("{\"containers\":[" WEB "],\"volumes\":["
                          "{\"name\":\"data\"},{\"name\":\"data\"},"
                          "{\"name\":\"Bad_Vol\"}],\"dnsPolicy\":\"None\","
                          "\"schedulingGates\":[{\"name\":\"g\"},"
                          "{\"name\":\"g\"}],\"tolerations\":["
                          "{\"key\":\"k\",\"operator\":\"Exists\","
                          "\"value\":\"v\"},{\"key\":\"k\","
                          "\"tolerationSeconds\":5,\"effect\":"
                          "\"NoSchedule\"},{\"key\":\"k\",\"operator\":"
                          "\"In\"}],\"hostname\":\"Host\",\"nodeName\":"
                          "\"n1\",\"serviceAccountName\":\"SA\","
                          "\"priorityClassName\":\"x_y\","
                          "\"preemptionPolicy\":\"Sometimes\"}")),
      "spec.volumes[1].name, spec.volumes[2].name, spec.dnsConfig, "
      "spec.schedulingGates[1], spec.serviceAccountName, spec.hostname, "
      "spec.tolerations[0].operator, spec.tolerations[1].effect, "
      "spec.tolerations[2].operator, spec.priorityClassName, "
      "spec.preemptionPolicy, spec.nodeName");

  /* Indexes of more than one digit. */
  n = snprintf(json, sizeof json, "%s", "{\"metadata\":{\"name\":\"p\"},"
                                        "\"spec\":{\"containers\":[");
  for (i = 0; i < 12; i++)
    n += snprintf(json + n, sizeof json - n,
                  "%s{\"name\":\"%s%zu\",\"image\":\"i\"}", i ? "," : "",
                  i == 10 ? "Bad_" : "c", i);
  snprintf(json + n, sizeof json - n, "]}}");
  assert_string_equal(error_fields(f, json), "spec.containers[10].name");
}

/* ---- update ------------------------------------------------------------ */

#define OLD_POD POD("{\"nodeName\":\"n1\",\"containers\":[" WEB "]," \
                    "\"tolerations\":[{\"key\":\"k\",\"operator\":" \
                    "\"Exists\",\"effect\":\"NoExecute\"," \
                    "\"tolerationSeconds\":60}]}")

#define FORBIDDEN_SPEC                                                     \
  "Pod \"p\" is invalid: spec: Forbidden: pod updates may not change "     \
  "fields other than `spec.containers[*].image`,"                          \
  "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"           \
  "`spec.tolerations` (only additions to existing tolerations),"           \
  "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it "   \
  "was previously negative)"

/* The update message for new_json (a PUT body) against a stored OLD_POD
 * that has since been given a status. */
static void assert_update(fixture *f, const char *new_json, const char *want)
{
  kj *old = created(f, OLD_POD);
  kj *pod = rt_parse(new_json);
  const char *got;

  kj_set_ptr(old, "/status/phase", kj_string("Running"));
  f->ops->prepare_for_update(f->st, pod, old);
  assert_string_equal(str(pod, "/status/phase"), "Running");
  got = validate_update_msg(f, pod, old);
  if (strcmp(got, want))
    fail_msg("\n got: %s\nwant: %s", got, want);
  kj_free(pod);
  kj_free(old);
}

static void test_update_allowed(void **state)
{
  fixture *f = *state;

  /* The undefaulted manifest again: defaulted on update, so unchanged. */
  assert_update(f, OLD_POD, "");
  /* (nginx:latest keeps the defaulted pull policy: a new default would
   * be a change of its own.) */
  assert_update(f, POD("{\"nodeName\":\"n1\",\"containers\":[{\"name\":"
                       "\"web\",\"image\":\"nginx:latest\"}],"
                       "\"activeDeadlineSeconds\":600,"
                       "\"tolerations\":[{\"key\":\"k\",\"operator\":"
                       "\"Exists\",\"effect\":\"NoExecute\","
                       "\"tolerationSeconds\":30},{\"key\":\"new\","
                       "\"operator\":\"Exists\"}]}"),
                "");
  /* A status in the body is ignored, not compared. */
  assert_update(f, "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"nodeName\":"
                   "\"n1\",\"containers\":[" WEB "],\"tolerations\":[{\"key\""
                   ":\"k\",\"operator\":\"Exists\",\"effect\":\"NoExecute\","
                   "\"tolerationSeconds\":60}]},\"status\":{\"phase\":"
                   "\"Failed\"}}",
                "");
}

static void test_update_forbidden(void **state)
{
  fixture *f = *state;

  assert_update(f, POD("{\"nodeName\":\"n1\",\"restartPolicy\":\"Never\","
                       "\"containers\":[" WEB "],\"tolerations\":[{\"key\":"
                       "\"k\",\"operator\":\"Exists\",\"effect\":"
                       "\"NoExecute\",\"tolerationSeconds\":60}]}"),
                FORBIDDEN_SPEC);
  assert_update(f, POD("{\"nodeName\":\"n1\",\"containers\":[{\"name\":"
                       "\"web\",\"image\":\"nginx\",\"ports\":[{"
                       "\"containerPort\":80}]}],\"tolerations\":[{\"key\":"
                       "\"k\",\"operator\":\"Exists\",\"effect\":"
                       "\"NoExecute\",\"tolerationSeconds\":60}]}"),
                FORBIDDEN_SPEC);
  assert_update(f, POD("{\"nodeName\":\"n1\",\"containers\":[" WEB ","
                       "{\"name\":\"b\",\"image\":\"i\"}],\"tolerations\":"
                       "[{\"key\":\"k\",\"operator\":\"Exists\",\"effect\":"
                       "\"NoExecute\",\"tolerationSeconds\":60}]}"),
                "Pod \"p\" is invalid: spec.containers: Forbidden: pod "
                "updates may not add or remove containers");
  assert_update(f, POD("{\"nodeName\":\"n1\",\"containers\":[" WEB "]}"),
                "Pod \"p\" is invalid: spec.tolerations: Forbidden: existing "
                "toleration can not be modified except its "
                "tolerationSeconds");
  assert_update(f, POD("{\"nodeName\":\"n1\",\"containers\":[{\"name\":"
                       "\"web\"}],\"tolerations\":[{\"key\":\"k\","
                       "\"operator\":\"Exists\",\"effect\":\"NoExecute\","
                       "\"tolerationSeconds\":60}]}"),
                "Pod \"p\" is invalid: spec.containers[0].image: Required "
                "value");
}

static void test_update_deadline(void **state)
{
  fixture *f = *state;
  kj *old = created(f, POD("{\"activeDeadlineSeconds\":100,"
                           "\"containers\":[" WEB "]}"));
  kj *raised = created(f, POD("{\"activeDeadlineSeconds\":200,"
                              "\"containers\":[" WEB "]}"));
  kj *unset = created(f, POD("{\"containers\":[" WEB "]}"));
  kj *lowered = created(f, POD("{\"activeDeadlineSeconds\":50,"
                               "\"containers\":[" WEB "]}"));

  assert_string_equal(validate_update_msg(f, raised, old),
                      "Pod \"p\" is invalid: spec.activeDeadlineSeconds: "
                      "Invalid value: 200: must be less than or equal to "
                      "previous value");
  assert_string_equal(validate_update_msg(f, unset, old),
                      "Pod \"p\" is invalid: spec.activeDeadlineSeconds: "
                      "Invalid value: \"null\": must not update from a "
                      "positive integer to nil value");
  assert_string_equal(validate_update_msg(f, lowered, old), "");
  kj_free(old);
  kj_free(raised);
  kj_free(unset);
  kj_free(lowered);
}

/* ---- graceful deletion --------------------------------------------------- */

static int64_t grace_for(fixture *f, const char *pod_json, int64_t requested)
{
  kj *pod = created(f, pod_json);
  int64_t grace = requested;
  kapi_error e;

  kapi_error_init(&e);
  assert_int_equal(f->ops->before_delete(f->st, pod, &grace, &e), 0);
  assert_false(kapi_error_isset(&e));
  kj_free(pod);
  return grace;
}

static void test_grace_period(void **state)
{
  fixture *f = *state;
  const char *scheduled = POD("{\"nodeName\":\"n1\",\"containers\":[" WEB
                              "]}");
  const char *own = POD("{\"nodeName\":\"n1\","
                        "\"terminationGracePeriodSeconds\":10,"
                        "\"containers\":[" WEB "]}");

  assert_int_equal(grace_for(f, scheduled, -1), 30);
  assert_int_equal(grace_for(f, own, -1), 10);
  assert_int_equal(grace_for(f, own, 5), 5);
  assert_int_equal(grace_for(f, own, 0), 0);
  assert_int_equal(grace_for(f, own, -7), 1);
  /* Never scheduled: nothing to stop. */
  assert_int_equal(grace_for(f, POD("{\"containers\":[" WEB "]}"), 20), 0);
}

static void test_grace_period_finished_pod(void **state)
{
  fixture *f = *state;
  kj *pod = created(f, POD("{\"nodeName\":\"n1\",\"containers\":[" WEB
                           "]}"));
  int64_t grace = -1;
  kapi_error e;

  kapi_error_init(&e);
  kj_set_ptr(pod, "/status/phase", kj_string("Succeeded"));
  assert_int_equal(f->ops->before_delete(f->st, pod, &grace, &e), 0);
  assert_int_equal(grace, 0);
  kj_free(pod);
}

/* ---- table --------------------------------------------------------------- */

#define META "\"metadata\":{\"name\":\"p\",\"creationTimestamp\":" \
             "\"2025-01-01T00:00:00Z\"}"

static void test_table_pending(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      rt_row(f, "{" META ",\"spec\":{\"containers\":[" WEB "]},"
             "\"status\":{\"phase\":\"Pending\"}}", T0 + 3),
      "[\"p\",\"0/1\",\"Pending\",0,\"3s\",\"<none>\",\"<none>\","
      "\"<none>\",\"<none>\"]");
}

static void test_table_running(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      rt_row(f, "{" META ",\"spec\":{\"nodeName\":\"node-1\",\"containers\":["
             WEB ",{\"name\":\"side\",\"image\":\"i\"}],\"readinessGates\":"
             "[{\"conditionType\":\"example.com/lb\"},{\"conditionType\":"
             "\"example.com/dns\"}]},"
             "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.1.0.7\","
             "\"podIPs\":[{\"ip\":\"10.1.0.7\"}],"
             "\"conditions\":[{\"type\":\"example.com/lb\",\"status\":"
             "\"True\"},{\"type\":\"Ready\",\"status\":\"False\"}],"
             "\"containerStatuses\":["
             "{\"name\":\"web\",\"ready\":true,\"restartCount\":2,"
             "\"state\":{\"running\":{}},\"lastState\":{\"terminated\":"
             "{\"exitCode\":1,\"finishedAt\":\"2025-01-01T01:00:00Z\"}}},"
             "{\"name\":\"side\",\"ready\":false,\"restartCount\":1,"
             "\"state\":{\"running\":{}}}]}}",
             T0 + 3600 + 300),
      "[\"p\",\"1/2\",\"Running\",\"3 (5m ago)\",\"65m\",\"10.1.0.7\","
      "\"node-1\",\"<none>\",\"1/2\"]");
}

static void test_table_container_reasons(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      rt_row(f, "{" META ",\"spec\":{\"containers\":[" WEB "]},"
             "\"status\":{\"phase\":\"Running\",\"containerStatuses\":["
             "{\"name\":\"web\",\"restartCount\":4,\"state\":{\"waiting\":"
             "{\"reason\":\"CrashLoopBackOff\"}}}]}}", T0 + 60),
      "[\"p\",\"0/1\",\"CrashLoopBackOff\",4,\"60s\",\"<none>\",\"<none>\","
      "\"<none>\",\"<none>\"]");
  assert_string_equal(
      rt_row(f, "{" META ",\"spec\":{\"containers\":[" WEB "]},"
             "\"status\":{\"phase\":\"Failed\",\"containerStatuses\":["
             "{\"name\":\"web\",\"state\":{\"terminated\":"
             "{\"exitCode\":137,\"signal\":9}}}]}}", T0),
      "[\"p\",\"0/1\",\"Signal:9\",0,\"0s\",\"<none>\",\"<none>\","
      "\"<none>\",\"<none>\"]");
  assert_string_equal(
      rt_row(f, "{" META ",\"spec\":{\"containers\":[" WEB "]},"
             "\"status\":{\"phase\":\"Failed\",\"reason\":\"Evicted\"}}", T0),
      "[\"p\",\"0/1\",\"Evicted\",0,\"0s\",\"<none>\",\"<none>\","
      "\"<none>\",\"<none>\"]");
}

static void test_table_init_and_terminating(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      rt_row(f, "{" META ",\"spec\":{\"initContainers\":[{\"name\":\"init\","
             "\"image\":\"i\"}],\"containers\":[" WEB "]},"
             "\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":["
             "{\"name\":\"init\",\"state\":{\"running\":{}}}]}}", T0),
      "[\"p\",\"0/1\",\"Init:0/1\",0,\"0s\",\"<none>\",\"<none>\","
      "\"<none>\",\"<none>\"]");
  assert_string_equal(
      rt_row(f, "{" META ",\"spec\":{\"initContainers\":[{\"name\":\"init\","
             "\"image\":\"i\"}],\"containers\":[" WEB "]},"
             "\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":["
             "{\"name\":\"init\",\"state\":{\"waiting\":{\"reason\":"
             "\"ErrImagePull\"}}}]}}", T0),
      "[\"p\",\"0/1\",\"Init:ErrImagePull\",0,\"0s\",\"<none>\",\"<none>\","
      "\"<none>\",\"<none>\"]");
  /* A started sidecar counts as a container. */
  assert_string_equal(
      rt_row(f, "{" META ",\"spec\":{\"initContainers\":[{\"name\":\"proxy\","
             "\"image\":\"i\",\"restartPolicy\":\"Always\"}],\"containers\":["
             WEB "]},\"status\":{\"phase\":\"Running\",\"conditions\":[{"
             "\"type\":\"Initialized\",\"status\":\"True\"}],"
             "\"initContainerStatuses\":[{\"name\":\"proxy\",\"started\":true,"
             "\"ready\":true,\"state\":{\"running\":{}}}],"
             "\"containerStatuses\":[{\"name\":\"web\",\"ready\":true,"
             "\"state\":{\"running\":{}}}]}}", T0),
      "[\"p\",\"2/2\",\"Running\",0,\"0s\",\"<none>\",\"<none>\","
      "\"<none>\",\"<none>\"]");
  assert_string_equal(
      rt_row(f, "{\"metadata\":{\"name\":\"p\",\"creationTimestamp\":"
             "\"2025-01-01T00:00:00Z\",\"deletionTimestamp\":"
             "\"2025-01-01T00:01:00Z\"},\"spec\":{\"nodeName\":\"n1\","
             "\"containers\":[" WEB "]},\"status\":{\"phase\":\"Running\","
             "\"nominatedNodeName\":\"n2\"}}", T0 + 10),
      "[\"p\",\"0/1\",\"Terminating\",0,\"10s\",\"<none>\",\"n1\",\"n2\","
      "\"<none>\"]");
}

/* ---- the status subresource ------------------------------------------- */

static void test_status_subresource(void **state)
{
  fixture *f = *state;
  kj *old = created(f, "{\"metadata\":{\"name\":\"p\",\"ownerReferences\":"
                       "[{\"kind\":\"ReplicaSet\",\"name\":\"rs\"}]},"
                       "\"spec\":{\"containers\":[" WEB "]}}");
  kj *pod = kj_clone(old), *errs = kj_array();

  assert_int_equal(f->ops->subresources,
                   KAPI_SUB_STATUS | KAPI_SUB_BINDING | KAPI_SUB_LOG |
                       KAPI_SUB_EVICTION);
  assert_int_equal(f->ops->return_deleted_object, 1);
  /* Owner references stay; a status without QoS class gets it back. */
  kj_remove(kj_get(pod, "metadata"), "ownerReferences");
  kj_set(pod, "status", rt_parse("{\"phase\":\"Running\"}"));
  f->ops->prepare_for_status_update(f->st, pod, old);
  assert_string_equal(rt_json_at(pod, "/metadata/ownerReferences/0/name"),
                      "\"rs\"");
  assert_string_equal(rt_json_at(pod, "/status"),
                      "{\"phase\":\"Running\",\"qosClass\":\"BestEffort\"}");
  assert_int_equal(f->ops->validate_status_update(f->st, pod, old, errs), 0);
  kj_set(pod, "status",
         rt_parse("{\"nominatedNodeName\":\"Bad_Node\",\"containerStatuses\":"
                  "[{\"restartCount\":-1}]}"));
  assert_int_equal(f->ops->validate_status_update(f->st, pod, old, errs), 3);
  assert_string_equal(rt_json_at(errs, "/0/field"),
                      "\"status.nominatedNodeName\"");
  assert_string_equal(rt_json_at(errs, "/1/field"),
                      "\"status.containerStatuses[0].name\"");
  assert_string_equal(rt_json_at(errs, "/2/field"),
                      "\"status.containerStatuses[0].restartCount\"");
  kj_free(errs);
  kj_free(pod);
  kj_free(old);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_registration, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_defaults, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_defaults_keep_values, setup,
                                      rt_teardown),
      cmocka_unit_test_setup_teardown(test_negative_grace_becomes_one, setup,
                                      rt_teardown),
      cmocka_unit_test_setup_teardown(test_image_pull_policy, setup,
                                      rt_teardown),
      cmocka_unit_test_setup_teardown(test_qos_class, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_qos_counts_init_containers, setup,
                                      rt_teardown),
      cmocka_unit_test_setup_teardown(test_scheduling_gated_condition, setup,
                                      rt_teardown),
      cmocka_unit_test_setup_teardown(test_validate_required, setup,
                                      rt_teardown),
      cmocka_unit_test_setup_teardown(test_validate_names, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_validate_supported_values, setup,
                                      rt_teardown),
      cmocka_unit_test_setup_teardown(test_validate_numbers, setup,
                                      rt_teardown),
      cmocka_unit_test_setup_teardown(test_validate_other, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_defaults_deep, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_status_replaced_in_place, setup,
                                      rt_teardown),
      cmocka_unit_test_setup_teardown(test_validate_deep_paths, setup,
                                      rt_teardown),
      cmocka_unit_test_setup_teardown(test_validate_spec_paths, setup,
                                      rt_teardown),
      cmocka_unit_test_setup_teardown(test_update_allowed, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_update_forbidden, setup,
                                      rt_teardown),
      cmocka_unit_test_setup_teardown(test_update_deadline, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_grace_period, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_grace_period_finished_pod, setup,
                                      rt_teardown),
      cmocka_unit_test_setup_teardown(test_table_pending, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_table_running, setup, rt_teardown),
      cmocka_unit_test_setup_teardown(test_table_container_reasons, setup,
                                      rt_teardown),
      cmocka_unit_test_setup_teardown(test_table_init_and_terminating, setup,
                                      rt_teardown),
      cmocka_unit_test_setup_teardown(test_status_subresource, setup,
                                      rt_teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
