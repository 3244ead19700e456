/*
 * test_replicaset.c - the replicaset resource plugin (registry/
 * replicaset), loaded from its built .so through the plugin loader:
 * registration, defaults, validation messages, status validation and
 * the table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "plugin_loader.h"
#include "status.h"

/* 2025-01-01T00:00:00Z */
#define T0 1735689600

typedef struct fixture {
  kapi_plugins *ps;
  const kapi_resource_ops *ops;
  void *st;
} fixture;

static const char *plugin_path(const char *dir, const char *name)
{
  static char path[1024];
  const char *build = getenv("KAPI_BUILDDIR");

  snprintf(path, sizeof path, "%s/%s/.libs/%s.so", build ? build : ".", dir,
           name);
  if (access(path, R_OK) != 0)
    snprintf(path, sizeof path, "%s/%s/%s.so", build ? build : ".", dir,
             name);
  return path;
}

static int setup(void **state)
{
  fixture *f = calloc(1, sizeof *f);
  const kapi_component *c;
  char err[512];

  assert_non_null(f);
  f->ps = kapi_plugins_new(NULL);
  assert_non_null(f->ps);
  if (kapi_plugins_load_file(f->ps,
                             plugin_path("registry/replicaset", "replicaset"),
                             err, sizeof err) < 0 ||
      kapi_plugins_assemble(f->ps, NULL, 0, err, sizeof err) < 0)
    fail_msg("%s", err);
  assert_int_equal(kapi_plugins_count(f->ps, KAPI_KIND_RESOURCE), 1);
  c = kapi_plugins_at(f->ps, KAPI_KIND_RESOURCE, 0);
  f->ops = c->ops;
  f->st = c->st;
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fixture *f = *state;

  kapi_plugins_free(f->ps);
  free(f);
  return 0;
}

static kj *parse(const char *json)
{
  char err[256];
  kj *v = NULL;

  if (kj_parse(json, strlen(json), &v, err, sizeof err) < 0)
    fail_msg("bad test JSON: %s: %s", err, json);
  return v;
}

/* The value at ptr as compact JSON (static buffer). */
static const char *json_at(const kj *o, const char *ptr)
{
  static char buf[4096];
  char *s = kj_dump(kj_ptr(o, ptr), NULL);

  snprintf(buf, sizeof buf, "%s", s ? s : "<absent>");
  free(s);
  return buf;
}

static kj *created(fixture *f, const char *json)
{
  kj *rs = parse(json);
  f->ops->prepare_for_create(f->st, rs);
  return rs;
}

/* The 422 message the server would send ("" when valid). */
static const char *message(const kj *errs)
{
  static char buf[4096];
  kapi_error e;

  buf[0] = '\0';
  if (!kj_len(errs))
    return buf;
  kapi_error_init(&e);
  kapi_error_invalid(&e, "apps", "ReplicaSet", "web", errs);
  snprintf(buf, sizeof buf, "%s", e.message);
  kapi_error_clear(&e);
  return buf;
}

static void assert_message(const kj *errs, int n, const char *want)
{
  const char *got = message(errs);
  assert_int_equal((size_t)n, kj_len(errs));
  if (strcmp(got, want))
    fail_msg("\n got: %s\nwant: %s", got, want);
}

static void assert_create(fixture *f, const char *json, const char *want)
{
  kj *rs = created(f, json), *errs = kj_array();
  assert_message(errs, f->ops->validate(f->st, rs, errs), want);
  kj_free(errs);
  kj_free(rs);
}

#define RS(spec) "{\"metadata\":{\"name\":\"web\",\"namespace\":\"default\"}," \
                 "\"spec\":" spec "}"
#define SEL "\"selector\":{\"matchLabels\":{\"app\":\"web\"}}"
#define TPL(spec) "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}}," \
                  "\"spec\":" spec "}"
#define CONTAINERS "{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}"
#define GOOD RS("{" SEL "," TPL(CONTAINERS) "}")

/* ---- registration ------------------------------------------------------ */

static void test_registration(void **state)
{
  fixture *f = *state;
  const kapi_resource_ops *o = f->ops;

  assert_string_equal(o->group, "apps");
  assert_string_equal(o->version, "v1");
  assert_string_equal(o->resource, "replicasets");
  assert_string_equal(o->kind, "ReplicaSet");
  assert_string_equal(o->singular, "replicaset");
  assert_string_equal(o->short_names[0], "rs");
  assert_null(o->short_names[1]);
  assert_string_equal(o->categories[0], "all");
  assert_int_equal(o->namespaced, 1);
  assert_int_equal(o->allow_unconditional_update, 1);
  assert_int_equal(o->allow_create_on_update, 0);
  assert_int_equal(o->subresources, KAPI_SUB_STATUS | KAPI_SUB_SCALE);
  assert_int_equal(o->track_generation, 1);
  assert_int_equal(o->return_deleted_object, 0);
  assert_string_equal(o->scale_selector, "/spec/selector");
  assert_non_null(o->validate_status_update);
  assert_string_equal(o->fields[0].label, "status.replicas");
  assert_int_equal(o->n_columns, 8);
  assert_string_equal(o->columns[1].name, "Desired");
  assert_string_equal(o->columns[7].name, "Selector");
  assert_int_equal(o->columns[7].priority, 1);
  kj_free(parse(o->schema));
}

/* ---- defaults ------------------------------------------------------------ */

static void test_defaults(void **state)
{
  fixture *f = *state;
  kj *rs = created(f, RS("{" SEL "," TPL("{\"containers\":[{\"name\":\"c\","
                         "\"image\":\"nginx:1.27\",\"ports\":[{"
                         "\"containerPort\":80}]},{\"name\":\"d\","
                         "\"image\":\"busybox\"}]}") "}"));

  assert_string_equal(json_at(rs, "/spec/replicas"), "1");
  assert_string_equal(json_at(rs, "/status"), "{\"replicas\":0}");
  assert_string_equal(json_at(rs, "/spec/template/spec/restartPolicy"),
                      "\"Always\"");
  assert_string_equal(json_at(rs, "/spec/template/spec/dnsPolicy"),
                      "\"ClusterFirst\"");
  assert_string_equal(json_at(rs, "/spec/template/spec/schedulerName"),
                      "\"default-scheduler\"");
  assert_string_equal(
      json_at(rs, "/spec/template/spec/terminationGracePeriodSeconds"), "30");
  assert_string_equal(
      json_at(rs, "/spec/template/spec/containers/0/imagePullPolicy"),
      "\"IfNotPresent\"");
  assert_string_equal(
      json_at(rs, "/spec/template/spec/containers/1/imagePullPolicy"),
      "\"Always\"");
  assert_string_equal(
      json_at(rs, "/spec/template/spec/containers/0/ports/0/protocol"),
      "\"TCP\"");
  assert_string_equal(
      json_at(rs, "/spec/template/spec/containers/0/terminationMessagePath"),
      "\"/dev/termination-log\"");
  kj_free(rs);
}

static void test_defaults_keep_values(void **state)
{
  fixture *f = *state;
  kj *rs = created(f, RS("{\"replicas\":0," SEL "," TPL(
                             "{\"restartPolicy\":\"Never\","
                             "\"containers\":[{\"name\":\"c\",\"image\":"
                             "\"x\",\"imagePullPolicy\":\"Never\"}]}") "}"));
  kj *old = kj_clone(rs);

  assert_string_equal(json_at(rs, "/spec/replicas"), "0");
  assert_string_equal(json_at(rs, "/spec/template/spec/restartPolicy"),
                      "\"Never\"");
  assert_string_equal(
      json_at(rs, "/spec/template/spec/containers/0/imagePullPolicy"),
      "\"Never\"");
  /* Updates are defaulted the same way: a PUT of the manifest as it was
   * first sent equals the stored object. */
  kj_remove(kj_get(rs, "spec"), "replicas");
  f->ops->prepare_for_update(f->st, rs, old);
  assert_string_equal(json_at(rs, "/spec/replicas"), "1");
  kj_free(old);
  kj_free(rs);
}

/* ---- validation ---------------------------------------------------------- */

static void test_validate_ok(void **state)
{
  assert_create(*state, GOOD, "");
  assert_create(*state,
                RS("{\"selector\":{\"matchExpressions\":[{\"key\":\"app\","
                   "\"operator\":\"In\",\"values\":[\"web\",\"api\"]}]},"
                   TPL(CONTAINERS) "}"),
                "");
}

static void test_validate_selector(void **state)
{
  fixture *f = *state;

  assert_create(f, RS("{" TPL(CONTAINERS) "}"),
                "ReplicaSet.apps \"web\" is invalid: spec.selector: Required "
                "value");
  assert_create(f, RS("{\"selector\":{}," TPL(CONTAINERS) "}"),
                "ReplicaSet.apps \"web\" is invalid: spec.selector: Invalid "
                "value: {}: empty selector is invalid for deployment");
  assert_create(f, RS("{\"selector\":{\"matchLabels\":{\"app\":\"db\"}},"
                      TPL(CONTAINERS) "}"),
                "ReplicaSet.apps \"web\" is invalid: spec.template.metadata."
                "labels: Invalid value: {\"app\":\"web\"}: `selector` does not "
                "match template `labels`");
  assert_create(f, RS("{\"selector\":{\"matchExpressions\":[{\"key\":"
                      "\"app\",\"operator\":\"In\"}]}," TPL(CONTAINERS) "}"),
                "ReplicaSet.apps \"web\" is invalid: [spec.selector."
                "matchExpressions[0].values: Required value: must be "
                "specified when `operator` is 'In' or 'NotIn', spec.selector: "
                "Invalid value: {\"matchExpressions\":[{\"key\":\"app\","
                "\"operator\":\"In\"}]}: invalid label selector]");
  assert_create(f, RS("{\"selector\":{\"matchLabels\":{\"a b\":\"web\"}},"
                      TPL(CONTAINERS) "}"),
                "ReplicaSet.apps \"web\" is invalid: [spec.selector."
                "matchLabels: Invalid value: \"a b\": name part must consist "
                "of alphanumeric characters, '-', '_' or '.', and must start "
                "and end with an alphanumeric character (e.g. 'MyName',  or "
                "'my.name',  or '123-abc', regex used for validation is "
                "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'), spec.template."
                "metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` "
                "does not match template `labels`]");
}

static void test_validate_spec(void **state)
{
  fixture *f = *state;

  assert_create(f, RS("{\"replicas\":-1," SEL "," TPL(CONTAINERS) "}"),
                "ReplicaSet.apps \"web\" is invalid: spec.replicas: Invalid "
                "value: -1: must be greater than or equal to 0");
  assert_create(f, RS("{" SEL "," TPL("{\"restartPolicy\":\"OnFailure\","
                      "\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}")
                      "}"),
                "ReplicaSet.apps \"web\" is invalid: spec.template.spec."
                "restartPolicy: Unsupported value: \"OnFailure\": supported "
                "values: \"Always\"");
  assert_create(f, RS("{" SEL "," TPL("{}") "}"),
                "ReplicaSet.apps \"web\" is invalid: spec.template.spec."
                "containers: Required value");
  assert_create(f, RS("{" SEL "," TPL("{\"containers\":[{\"name\":\"c\","
                      "\"image\":\"x\"},{\"name\":\"c\"}]}") "}"),
                "ReplicaSet.apps \"web\" is invalid: [spec.template.spec."
                "containers[1].name: Duplicate value: \"c\", spec.template."
                "spec.containers[1].image: Required value]");
  assert_create(f, RS("{" SEL "," TPL("{\"activeDeadlineSeconds\":5,"
                      "\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}")
                      "}"),
                "ReplicaSet.apps \"web\" is invalid: spec.template.spec."
                "activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in "
                "ReplicaSet is not Supported");
}

static void test_validate_update(void **state)
{
  fixture *f = *state;
  kj *old = created(f, GOOD);
  kj *rs = kj_clone(old), *errs = kj_array();

  kj_set_int(kj_get(rs, "spec"), "replicas", 4);
  assert_message(errs, f->ops->validate_update(f->st, rs, old, errs), "");
  kj_free(errs);
  errs = kj_array();
  kj_set(kj_get(rs, "spec"), "selector",
         parse("{\"matchLabels\":{\"app\":\"web\",\"tier\":\"x\"}}"));
  kj_set(kj_ptr(rs, "/spec/template/metadata"), "labels",
         parse("{\"app\":\"web\",\"tier\":\"x\"}"));
  assert_message(errs, f->ops->validate_update(f->st, rs, old, errs),
                 "ReplicaSet.apps \"web\" is invalid: spec.selector: Invalid "
                 "value: {\"matchLabels\":{\"app\":\"web\",\"tier\":\"x\"}}: "
                 "field is immutable");
  kj_free(errs);
  kj_free(rs);
  kj_free(old);
}

static void test_validate_status(void **state)
{
  fixture *f = *state;
  kj *old = created(f, GOOD), *rs = kj_clone(old), *errs = kj_array();

  kj_set(rs, "status", parse("{\"replicas\":3,\"readyReplicas\":2,"
                             "\"availableReplicas\":2,"
                             "\"observedGeneration\":1}"));
  assert_message(errs, f->ops->validate_status_update(f->st, rs, old, errs),
                 "");
  kj_free(errs);
  errs = kj_array();
  kj_set(rs, "status", parse("{\"replicas\":1,\"readyReplicas\":2,"
                             "\"availableReplicas\":3}"));
  assert_message(errs, f->ops->validate_status_update(f->st, rs, old, errs),
                 "ReplicaSet.apps \"web\" is invalid: [status.readyReplicas: "
                 "Invalid value: 2: cannot be greater than status.replicas, "
                 "status.availableReplicas: Invalid value: 3: cannot be "
                 "greater than status.replicas, status.availableReplicas: "
                 "Invalid value: 3: cannot be greater than readyReplicas]");
  kj_free(errs);
  errs = kj_array();
  kj_set(rs, "status", parse("{\"replicas\":0,\"observedGeneration\":-1}"));
  assert_message(errs, f->ops->validate_status_update(f->st, rs, old, errs),
                 "ReplicaSet.apps \"web\" is invalid: status."
                 "observedGeneration: Invalid value: -1: must be greater than "
                 "or equal to 0");
  kj_free(errs);
  kj_free(rs);
  kj_free(old);
}

/* ---- table -------------------------------------------------------------------- */

static const char *row(fixture *f, const char *json, int64_t now)
{
  static char buf[2048];
  kj *rs = parse(json), *cells = kj_array();
  char *s;

  assert_int_equal(f->ops->table_row(f->st, rs, now, cells), 0);
  assert_int_equal(kj_len(cells), f->ops->n_columns);
  s = kj_dump(cells, NULL);
  snprintf(buf, sizeof buf, "%s", s);
  free(s);
  kj_free(cells);
  kj_free(rs);
  return buf;
}

static void test_table(void **state)
{
  fixture *f = *state;

  assert_string_equal(
      row(f, "{\"metadata\":{\"name\":\"web\",\"creationTimestamp\":"
             "\"2025-01-01T00:00:00Z\"},\"spec\":{\"replicas\":3,"
             "\"selector\":{\"matchLabels\":{\"tier\":\"fe\",\"app\":\"web\"},"
             "\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"NotIn\","
             "\"values\":[\"qa\",\"dev\"]},{\"key\":\"gone\",\"operator\":"
             "\"DoesNotExist\"}]},\"template\":{\"spec\":{\"containers\":["
             "{\"name\":\"a\",\"image\":\"nginx\"},{\"name\":\"b\","
             "\"image\":\"redis:7\"}]}}},\"status\":{\"replicas\":2,"
             "\"readyReplicas\":1}}",
          T0 + 125),
      "[\"web\",3,2,1,\"2m5s\",\"a,b\",\"nginx,redis:7\","
      "\"app=web,env notin (dev,qa),!gone,tier=fe\"]");
  assert_string_equal(
      row(f, "{\"metadata\":{\"name\":\"x\"},\"spec\":{}}", T0),
      "[\"x\",0,0,0,\"<unknown>\",\"\",\"\",\"<none>\"]");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_registration, setup, teardown),
      cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
      cmocka_unit_test_setup_teardown(test_defaults_keep_values, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_validate_ok, setup, teardown),
      cmocka_unit_test_setup_teardown(test_validate_selector, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_validate_spec, setup, teardown),
      cmocka_unit_test_setup_teardown(test_validate_update, setup, teardown),
      cmocka_unit_test_setup_teardown(test_validate_status, setup, teardown),
      cmocka_unit_test_setup_teardown(test_table, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
