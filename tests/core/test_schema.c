/*
 * test_schema.c - the compact schema: unknown-field paths named as
 * upstream's strict decoder names them, pruning, ObjectMeta.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "schema.h"

static const char pod_schema[] =
    "{\"metadata\":\"meta\","
    "\"spec\":{\"nodeName\":\"string\",\"priority\":\"integer\","
    "\"nodeSelector\":\"map\",\"overhead\":\"object\","
    "\"containers\":[{\"name\":\"string\",\"image\":\"string\","
    "\"args\":[\"string\"],"
    "\"ports\":[{\"containerPort\":\"integer\",\"name\":\"string\"}],"
    "\"resources\":{\"limits\":\"object\"}}]},"
    "\"status\":{\"phase\":\"string\"}}";

static kj *parse(const char *text)
{
  kj *v = NULL;
  char err[128];
  assert_int_equal(kj_parse(text, strlen(text), &v, err, sizeof err), 0);
  return v;
}

/* Checks the unknown fields of obj_text against pod_schema: `want` is
 * the paths joined with a space ("" for none). */
static void assert_unknown(const char *schema_text, const char *obj_text,
                           const char *want)
{
  kj *schema = schema_text ? parse(schema_text) : NULL;
  kj *obj = parse(obj_text);
  char **paths = NULL, joined[1024] = "";
  size_t n = 99, i;

  assert_int_equal(kapi_schema_unknown_fields(schema, obj, &paths, &n), 0);
  for (i = 0; i < n; i++) {
    if (i)
      strcat(joined, " ");
    strcat(joined, paths[i]);
  }
  assert_string_equal(joined, want);
  if (!n)
    assert_null(paths);
  kapi_schema_paths_free(paths, n);
  kj_free(obj);
  kj_free(schema);
}

static void test_known_fields_only(void **state)
{
  (void)state;
  assert_unknown(pod_schema,
                 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
                 "\"metadata\":{\"name\":\"p\",\"labels\":{\"a\":\"b\"}},"
                 "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\","
                 "\"ports\":[{\"containerPort\":80}]}]},"
                 "\"status\":{\"phase\":\"Running\"}}",
                 "");
}

static void test_unknown_spec_field(void **state)
{
  (void)state;
  assert_unknown(pod_schema, "{\"spec\":{\"foo\":1,\"nodeName\":\"n\"}}",
                 "spec.foo");
}

static void test_unknown_root_field(void **state)
{
  (void)state;
  assert_unknown(pod_schema, "{\"apiVersion\":\"v1\",\"foo\":{\"x\":1}}",
                 "foo");
}

static void test_list_indexes(void **state)
{
  (void)state;
  assert_unknown(pod_schema,
                 "{\"spec\":{\"containers\":["
                 "{\"name\":\"a\",\"ports\":[{\"containerPort\":1},"
                 "{\"containerPort\":2,\"bar\":true}]},"
                 "{\"name\":\"b\",\"foo\":\"x\"}]}}",
                 "spec.containers[0].ports[1].bar spec.containers[1].foo");
}

static void test_document_order(void **state)
{
  (void)state;
  assert_unknown(pod_schema,
                 "{\"zzz\":1,\"spec\":{\"b\":1,\"a\":2},\"aaa\":3,"
                 "\"status\":{\"x\":1}}",
                 "zzz spec.b spec.a aaa status.x");
}

static void test_object_meta(void **state)
{
  (void)state;
  assert_unknown(pod_schema,
                 "{\"metadata\":{\"name\":\"p\",\"foo\":1,"
                 "\"annotations\":{\"any/key\":\"v\"},"
                 "\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"K\","
                 "\"name\":\"o\",\"uid\":\"u\",\"controller\":true,"
                 "\"blockOwnerDeletion\":true,\"bogus\":1}],"
                 "\"managedFields\":[{\"manager\":\"m\",\"anything\":{}}],"
                 "\"finalizers\":[\"f\"],\"generation\":3,"
                 "\"creationTimestamp\":\"2025-01-01T00:00:00Z\"}}",
                 "metadata.foo metadata.ownerReferences[0].bogus");
}

/* Root knows apiVersion, kind and metadata even when the plugin's
 * schema does not list them. */
static void test_implicit_root_fields(void **state)
{
  (void)state;
  assert_unknown("{\"spec\":\"object\"}",
                 "{\"apiVersion\":\"v1\",\"kind\":\"K\","
                 "\"metadata\":{\"name\":\"x\",\"nope\":1},"
                 "\"spec\":{\"free\":{\"form\":[1]}}}",
                 "metadata.nope");
  /* Nested objects get no such fields. */
  assert_unknown(pod_schema, "{\"spec\":{\"kind\":\"x\"}}", "spec.kind");
}

static void test_free_form_and_maps(void **state)
{
  (void)state;
  assert_unknown(pod_schema,
                 "{\"spec\":{\"nodeSelector\":{\"disk\":\"ssd\"},"
                 "\"overhead\":{\"cpu\":\"1\",\"deep\":{\"x\":[]}},"
                 "\"containers\":[{\"resources\":{\"limits\":{\"cpu\":1}},"
                 "\"args\":[\"a\",\"b\"]}]}}",
                 "");
}

/* Wrong types are for validation, not strict decoding. */
static void test_type_mismatch_is_not_unknown(void **state)
{
  (void)state;
  assert_unknown(pod_schema,
                 "{\"spec\":\"oops\",\"status\":[1],"
                 "\"metadata\":{\"labels\":[\"x\"],\"finalizers\":{\"a\":1}}}",
                 "");
  assert_unknown(pod_schema, "{\"spec\":{\"containers\":{\"foo\":1}}}", "");
}

/* The first value of the wrong JSON type, in encoding/json's words
 * (want NULL: none). */
static void assert_type_error(const char *obj_text, const char *want)
{
  kj *schema = parse(pod_schema), *obj = parse(obj_text);
  char **paths = NULL, msg[512] = "";
  size_t n = 0;

  assert_int_equal(kapi_schema_check(schema, obj, "Pod", &paths, &n, msg,
                                     sizeof msg),
                   want ? 1 : 0);
  if (want)
    assert_string_equal(msg, want);
  kapi_schema_paths_free(paths, n);
  kj_free(obj);
  kj_free(schema);
}

static void test_type_mismatches(void **state)
{
  (void)state;
  assert_type_error("{\"spec\":\"oops\"}",
                    "json: cannot unmarshal string into Go struct field "
                    "Pod.spec of type struct");
  assert_type_error("{\"spec\":{\"containers\":{\"foo\":1}}}",
                    "json: cannot unmarshal object into Go struct field "
                    "Pod.spec.containers of type slice");
  /* List indexes are not part of Go's field path. */
  assert_type_error("{\"spec\":{\"containers\":[{\"name\":\"a\"},"
                    "{\"ports\":[{\"containerPort\":\"80\"}]}]}}",
                    "json: cannot unmarshal string into Go struct field "
                    "Pod.spec.containers.ports.containerPort of type int64");
  assert_type_error("{\"spec\":{\"priority\":1.5}}",
                    "json: cannot unmarshal number 1.5 into Go struct field "
                    "Pod.spec.priority of type int64");
  assert_type_error("{\"metadata\":{\"labels\":{\"a\":true}}}",
                    "json: cannot unmarshal bool into Go struct field "
                    "Pod.metadata.labels of type string");
  assert_type_error("{\"metadata\":{\"finalizers\":{\"a\":1}}}",
                    "json: cannot unmarshal object into Go struct field "
                    "Pod.metadata.finalizers of type slice");
  /* The first one in document order is the one told. */
  assert_type_error("{\"spec\":{\"nodeName\":1,\"priority\":\"x\"}}",
                    "json: cannot unmarshal number into Go struct field "
                    "Pod.spec.nodeName of type string");
  /* null fits everything; free-form fields take anything; numbers in
   * exponent form are not integers but are numbers. */
  assert_type_error("{\"spec\":null,\"status\":{\"phase\":null}}", NULL);
  assert_type_error("{\"spec\":{\"overhead\":[1,\"a\"],"
                    "\"containers\":null,\"nodeSelector\":{\"a\":null}}}",
                    NULL);
  assert_type_error("{\"spec\":{\"priority\":1e3}}",
                    "json: cannot unmarshal number 1e3 into Go struct field "
                    "Pod.spec.priority of type int64");
}

static void test_null_schema_knows_everything(void **state)
{
  (void)state;
  assert_unknown(NULL, "{\"anything\":{\"at\":\"all\"}}", "");
  assert_unknown("\"object\"", "{\"anything\":{\"at\":\"all\"}}", "");
}

static void test_schema_types(void **state)
{
  static const struct {
    const char *text;
    kapi_schema_type type;
  } cases[] = {
      {"{}", KAPI_SCHEMA_FIELDS},
      {"[\"string\"]", KAPI_SCHEMA_LIST},
      {"[]", KAPI_SCHEMA_LIST},
      {"\"map\"", KAPI_SCHEMA_MAP},
      {"\"meta\"", KAPI_SCHEMA_META},
      {"\"string\"", KAPI_SCHEMA_STRING},
      {"\"integer\"", KAPI_SCHEMA_INTEGER},
      {"\"number\"", KAPI_SCHEMA_NUMBER},
      {"\"boolean\"", KAPI_SCHEMA_BOOLEAN},
      {"\"quantity\"", KAPI_SCHEMA_QUANTITY},
      {"\"int-or-string\"", KAPI_SCHEMA_INT_OR_STRING},
      {"\"object\"", KAPI_SCHEMA_ANY},
      {"\"strnig\"", KAPI_SCHEMA_ANY},
      {"3", KAPI_SCHEMA_ANY},
  };
  size_t i;
  (void)state;

  assert_int_equal(kapi_schema_type_of(NULL), KAPI_SCHEMA_ANY);
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    kj *s = parse(cases[i].text);
    assert_int_equal(kapi_schema_type_of(s), cases[i].type);
    kj_free(s);
  }
}

static void test_object_meta_schema(void **state)
{
  const kj *meta = kapi_schema_object_meta();
  char *text;
  (void)state;

  assert_non_null(meta);
  assert_ptr_equal(meta, kapi_schema_object_meta()); /* shared */
  text = kj_dump(meta, NULL);
  assert_string_equal(
      text,
      "{\"name\":\"string\",\"generateName\":\"string\","
      "\"namespace\":\"string\",\"selfLink\":\"string\",\"uid\":\"string\","
      "\"resourceVersion\":\"string\",\"generation\":\"integer\","
      "\"creationTimestamp\":\"string\",\"deletionTimestamp\":\"string\","
      "\"deletionGracePeriodSeconds\":\"integer\","
      "\"labels\":\"map\",\"annotations\":\"map\","
      "\"ownerReferences\":[{\"apiVersion\":\"string\",\"kind\":\"string\","
      "\"name\":\"string\",\"uid\":\"string\",\"controller\":\"boolean\","
      "\"blockOwnerDeletion\":\"boolean\"}],"
      "\"finalizers\":[\"string\"],\"managedFields\":[\"object\"]}");
  free(text);
}

static void test_prune(void **state)
{
  kj *schema = parse(pod_schema);
  kj *obj = parse(
      "{\"apiVersion\":\"v1\",\"x\":1,"
      "\"metadata\":{\"name\":\"p\",\"y\":2,\"labels\":{\"a\":\"b\"}},"
      "\"spec\":{\"foo\":1,\"containers\":[{\"name\":\"c\",\"z\":3,"
      "\"ports\":[{\"containerPort\":80,\"w\":4}]}],\"bar\":5}}");
  char *text;
  (void)state;

  assert_int_equal(kapi_schema_prune(schema, obj), 6);
  text = kj_dump(obj, NULL);
  assert_string_equal(
      text, "{\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"p\","
            "\"labels\":{\"a\":\"b\"}},\"spec\":{\"containers\":"
            "[{\"name\":\"c\",\"ports\":[{\"containerPort\":80}]}]}}");
  free(text);
  assert_int_equal(kapi_schema_prune(schema, obj), 0);
  assert_int_equal(kapi_schema_prune(NULL, obj), 0);
  kj_free(obj);
  kj_free(schema);
}

static void test_annotations_are_not_fields(void **state)
{
  static const char annotated[] =
      "{\"spec\":{\"$required\":[\"policy\"],\"policy\":"
      "\"enum:Always|Never\",\"items\":[{\"$mergeKey\":\"name\","
      "\"$strategy\":\"merge\",\"name\":\"string\"}],"
      "\"tags\":[{\"$listType\":\"atomic\",\"k\":\"string\"}]}}";
  kj *schema = parse(annotated);
  kj *obj;
  char *text;
  (void)state;

  assert_unknown(annotated,
                 "{\"spec\":{\"policy\":\"Always\",\"items\":[{\"name\":"
                 "\"a\"}],\"tags\":[{\"k\":\"x\"}]}}",
                 "");
  /* An object's own "$..." keys never match annotations. */
  assert_unknown(annotated,
                 "{\"spec\":{\"$required\":[],\"items\":[{\"name\":\"a\","
                 "\"$mergeKey\":\"x\",\"$strategy\":1}],"
                 "\"tags\":[{\"$listType\":\"y\"}]}}",
                 "spec.$required spec.items[0].$mergeKey "
                 "spec.items[0].$strategy spec.tags[0].$listType");
  obj = parse("{\"spec\":{\"$required\":[],\"policy\":\"Never\","
              "\"items\":[{\"name\":\"a\",\"$mergeKey\":\"x\"}]}}");
  assert_int_equal(kapi_schema_prune(schema, obj), 2);
  text = kj_dump(obj, NULL);
  assert_string_equal(text, "{\"spec\":{\"policy\":\"Never\",\"items\":"
                            "[{\"name\":\"a\"}]}}");
  free(text);
  kj_free(obj);

  /* Enum leaves are strings; the annotations are read back. */
  assert_int_equal(
      kapi_schema_type_of(kj_get(kj_get(schema, "spec"), "policy")),
      KAPI_SCHEMA_STRING);
  assert_string_equal(
      kapi_schema_enum(kj_get(kj_get(schema, "spec"), "policy")),
      "Always|Never");
  assert_null(kapi_schema_enum(kj_get(kj_get(schema, "spec"), "items")));
  assert_string_equal(
      kapi_schema_merge_key(kj_get(kj_get(schema, "spec"), "items")), "name");
  assert_null(kapi_schema_merge_key(kj_get(kj_get(schema, "spec"), "tags")));
  assert_string_equal(
      kapi_schema_list_annotation(kj_get(kj_get(schema, "spec"), "tags"),
                                  "$listType"),
      "atomic");
  assert_null(kapi_schema_field(kj_get(schema, "spec"), "$required"));
  assert_non_null(kapi_schema_field(kj_get(schema, "spec"), "policy"));
  kj_free(schema);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_fields_only),
      cmocka_unit_test(test_unknown_spec_field),
      cmocka_unit_test(test_unknown_root_field),
      cmocka_unit_test(test_list_indexes),
      cmocka_unit_test(test_document_order),
      cmocka_unit_test(test_object_meta),
      cmocka_unit_test(test_implicit_root_fields),
      cmocka_unit_test(test_free_form_and_maps),
      cmocka_unit_test(test_type_mismatch_is_not_unknown),
      cmocka_unit_test(test_type_mismatches),
      cmocka_unit_test(test_null_schema_knows_everything),
      cmocka_unit_test(test_schema_types),
      cmocka_unit_test(test_object_meta_schema),
      cmocka_unit_test(test_prune),
      cmocka_unit_test(test_annotations_are_not_fields),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
