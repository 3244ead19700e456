/*
 * test_status.c - kapi_error builders against the exact Status JSON
 * kube-apiserver sends (message, reason, details, causes, code).
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
#include "status.h"

#define STATUS_HEAD                                                        \
  "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"            \
  "\"status\":\"Failure\","
/* The DNS subdomain message around the backslash of its regex, which
 * JSON doubles. */
#define SUBDOMAIN_HEAD                                                     \
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric " \
  "characters, '-' or '.', and must start and end with an alphanumeric "   \
  "character (e.g. 'example.com', regex used for validation is "           \
  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?("
#define SUBDOMAIN_TAIL ".[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define SUBDOMAIN_MSG SUBDOMAIN_HEAD "\\" SUBDOMAIN_TAIL
#define SUBDOMAIN_JSON SUBDOMAIN_HEAD "\\\\" SUBDOMAIN_TAIL

/* Checks the compact JSON of e's Status, then clears e. */
static void assert_status(kapi_error *e, const char *want)
{
  kj *st = kapi_error_to_status(e);
  char *text;

  assert_non_null(st);
  text = kj_dump(st, NULL);
  assert_non_null(text);
  assert_string_equal(text, want);
  free(text);
  kj_free(st);
  kapi_error_clear(e);
}

/* The message alone of a 422 built from one field error. */
static void assert_field_message(const char *field, const char *type,
                                 const char *bad, const char *detail,
                                 const char *want)
{
  kapi_error e;
  kj *errs = kj_array();

  kapi_error_init(&e);
  assert_int_equal(kapi_field_error(errs, field, type, bad, detail), 0);
  kapi_error_invalid(&e, "", "Pod", "p", errs);
  assert_string_equal(e.message, want);
  kapi_error_clear(&e);
  kj_free(errs);
}

/* --- the slot ------------------------------------------------------- */

static void test_error_slot(void **state)
{
  kapi_error e;

  (void)state;
  kapi_error_init(&e);
  assert_false(kapi_error_isset(&e));
  kapi_error_setf(&e, 403, "Forbidden", "user %s may not %s", "bob", "get");
  assert_true(kapi_error_isset(&e));
  assert_int_equal(e.code, 403);
  assert_string_equal(e.reason, "Forbidden");
  assert_string_equal(e.message, "user bob may not get");
  kapi_error_clear(&e);
  assert_false(kapi_error_isset(&e));
  assert_null(e.message);
  assert_null(e.details);

  /* A new error replaces the old one, details included. */
  kapi_error_not_found(&e, "", "pods", "x");
  kapi_error_setf(&e, 410, "Expired", "too old resource version: %d (%d)", 1,
                  5);
  assert_status(&e, STATUS_HEAD "\"message\":\"too old resource version: 1 "
                "(5)\",\"reason\":\"Expired\",\"code\":410}");

  /* The reason is truncated to fit, not overflowed. */
  kapi_error_setf(&e, 500, "ReasonThatIsFarTooLongToFitIntoTheFixedSizeField",
                  "x");
  assert_int_equal(strlen(e.reason), sizeof e.reason - 1);
  kapi_error_clear(&e);

  /* No reason, no message: both left out. */
  kapi_error_setf(&e, 500, NULL, "%s", "");
  assert_status(&e, STATUS_HEAD "\"code\":500}");

  /* Nothing set at all. */
  kapi_error_init(&e);
  assert_status(&e, "{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                "\"metadata\":{},\"status\":\"Failure\"}");
}

static void test_error_details_and_causes(void **state)
{
  kapi_error e;

  (void)state;
  kapi_error_init(&e);
  kapi_error_setf(&e, 504, "Timeout", "Too large resource version: %d, "
                  "current: %d", 9, 4);
  /* Causes first, details after: the output order is StatusDetails'. */
  kapi_error_add_cause(&e, "ResourceVersionTooLarge",
                       "Too large resource version", NULL);
  kapi_error_details(&e, "n", "apps", "replicasets");
  assert_status(&e, STATUS_HEAD "\"message\":\"Too large resource version: "
                "9, current: 4\",\"reason\":\"Timeout\",\"details\":{"
                "\"name\":\"n\",\"group\":\"apps\",\"kind\":\"replicasets\","
                "\"causes\":[{\"reason\":\"ResourceVersionTooLarge\","
                "\"message\":\"Too large resource version\"}]},"
                "\"code\":504}");

  /* Empty members are omitted, and so are details left empty. */
  kapi_error_setf(&e, 404, "NotFound", "gone");
  kapi_error_details(&e, "", "", NULL);
  assert_status(&e, STATUS_HEAD "\"message\":\"gone\",\"reason\":"
                "\"NotFound\",\"code\":404}");

  kapi_error_setf(&e, 422, "Invalid", "bad");
  kapi_error_add_cause(&e, "", "only a message", "");
  assert_status(&e, STATUS_HEAD "\"message\":\"bad\",\"reason\":\"Invalid\","
                "\"details\":{\"causes\":[{\"message\":\"only a message\"}]},"
                "\"code\":422}");
}

/* --- builders ------------------------------------------------------- */

static void test_not_found(void **state)
{
  kapi_error e;

  (void)state;
  kapi_error_init(&e);
  kapi_error_not_found(&e, "", "pods", "x");
  assert_status(&e, STATUS_HEAD "\"message\":\"pods \\\"x\\\" not found\","
                "\"reason\":\"NotFound\",\"details\":{\"name\":\"x\","
                "\"kind\":\"pods\"},\"code\":404}");

  kapi_error_not_found(&e, "apps", "replicasets", "x");
  assert_status(&e, STATUS_HEAD "\"message\":\"replicasets.apps \\\"x\\\" "
                "not found\",\"reason\":\"NotFound\",\"details\":{\"name\":"
                "\"x\",\"group\":\"apps\",\"kind\":\"replicasets\"},"
                "\"code\":404}");

  /* Names are quoted like Go's %q. */
  kapi_error_not_found(&e, NULL, "configmaps", "a\"b\\c\n\x01\xc3\xa9\xff");
  assert_string_equal(e.message,
                      "configmaps \"a\\\"b\\\\c\\n\\x01\xc3\xa9\\xff\" "
                      "not found");
  kapi_error_clear(&e);
}

static void test_already_exists(void **state)
{
  kapi_error e;

  (void)state;
  kapi_error_init(&e);
  kapi_error_already_exists(&e, "", "pods", "nginx");
  assert_status(&e, STATUS_HEAD "\"message\":\"pods \\\"nginx\\\" already "
                "exists\",\"reason\":\"AlreadyExists\",\"details\":{"
                "\"name\":\"nginx\",\"kind\":\"pods\"},\"code\":409}");
  kapi_error_already_exists(&e, "apps", "replicasets", "web");
  assert_string_equal(e.message, "replicasets.apps \"web\" already exists");
  kapi_error_clear(&e);
}

static void test_conflict(void **state)
{
  kapi_error e;

  (void)state;
  kapi_error_init(&e);
  kapi_error_conflict(&e, "", "pods", "nginx",
                      "the object has been modified; please apply your "
                      "changes to the latest version and try again");
  assert_status(&e, STATUS_HEAD "\"message\":\"Operation cannot be fulfilled "
                "on pods \\\"nginx\\\": the object has been modified; please "
                "apply your changes to the latest version and try again\","
                "\"reason\":\"Conflict\",\"details\":{\"name\":\"nginx\","
                "\"kind\":\"pods\"},\"code\":409}");
  kapi_error_conflict(&e, "apps", "replicasets", "web", "boom");
  assert_string_equal(e.message, "Operation cannot be fulfilled on "
                      "replicasets.apps \"web\": boom");
  kapi_error_clear(&e);
}

static void test_bad_request(void **state)
{
  kapi_error e;

  (void)state;
  kapi_error_init(&e);
  kapi_error_bad_request(&e, "the name of the object (%s) does not match the "
                         "name on the URL (%s)", "a", "b");
  assert_status(&e, STATUS_HEAD "\"message\":\"the name of the object (a) "
                "does not match the name on the URL (b)\",\"reason\":"
                "\"BadRequest\",\"code\":400}");
}

static void test_internal(void **state)
{
  kapi_error e;

  (void)state;
  kapi_error_init(&e);
  kapi_error_internal(&e, "store: %s", "disk full");
  assert_status(&e, STATUS_HEAD "\"message\":\"Internal error occurred: "
                "store: disk full\",\"reason\":\"InternalError\",\"details\":"
                "{\"causes\":[{\"message\":\"store: disk full\"}]},"
                "\"code\":500}");
}

static void test_method_not_allowed(void **state)
{
  kapi_error e;

  (void)state;
  kapi_error_init(&e);
  kapi_error_method_not_allowed(&e, "create", "pods");
  assert_status(&e, STATUS_HEAD "\"message\":\"create is not supported on "
                "resources of kind \\\"pods\\\"\",\"reason\":"
                "\"MethodNotAllowed\",\"details\":{\"kind\":\"pods\"},"
                "\"code\":405}");
  kapi_error_method_not_allowed(&e, "deletecollection", "replicasets.apps");
  assert_status(&e, STATUS_HEAD "\"message\":\"deletecollection is not "
                "supported on resources of kind \\\"replicasets.apps\\\"\","
                "\"reason\":\"MethodNotAllowed\",\"details\":{\"group\":"
                "\"apps\",\"kind\":\"replicasets\"},\"code\":405}");
}

/* --- 422 Invalid ---------------------------------------------------- */

static void test_field_error_entries(void **state)
{
  kj *errs = kj_array(), *obj = kj_object();
  char *text;

  (void)state;
  assert_int_equal(kapi_field_error(errs, "metadata.name", "FieldValueInvalid",
                                    "\"Inv_alid\"", "bad"), 0);
  assert_int_equal(kapi_field_error(errs, "spec", "FieldValueRequired", NULL,
                                    NULL), 0);
  assert_int_equal(kapi_field_error(errs, "x", "FieldValueInvalid",
                                    "{\"a\":[1,true]}", ""), 0);
  text = kj_dump(errs, NULL);
  assert_string_equal(text,
                      "[{\"field\":\"metadata.name\",\"type\":"
                      "\"FieldValueInvalid\",\"badValue\":\"Inv_alid\","
                      "\"detail\":\"bad\"},"
                      "{\"field\":\"spec\",\"type\":\"FieldValueRequired\","
                      "\"detail\":\"\"},"
                      "{\"field\":\"x\",\"type\":\"FieldValueInvalid\","
                      "\"badValue\":{\"a\":[1,true]},\"detail\":\"\"}]");
  free(text);

  /* Bad JSON and a non-array list are refused, leaving errs alone. */
  assert_int_equal(kapi_field_error(errs, "x", "FieldValueInvalid", "bare",
                                    NULL), -EINVAL);
  assert_int_equal(kapi_field_error(obj, "x", "FieldValueInvalid", NULL,
                                    NULL), -EINVAL);
  assert_int_equal(kapi_field_error(NULL, "x", "FieldValueInvalid", NULL,
                                    NULL), -EINVAL);
  assert_int_equal(kj_len(errs), 3);
  kj_free(errs);
  kj_free(obj);
}

static void test_invalid_single(void **state)
{
  kapi_error e;
  kj *errs = kj_array();

  (void)state;
  kapi_error_init(&e);
  kapi_field_error(errs, "spec.containers", "FieldValueRequired", NULL, "");
  kapi_error_invalid(&e, "", "Pod", "x", errs);
  assert_status(&e, STATUS_HEAD "\"message\":\"Pod \\\"x\\\" is invalid: "
                "spec.containers: Required value\",\"reason\":\"Invalid\","
                "\"details\":{\"name\":\"x\",\"kind\":\"Pod\",\"causes\":[{"
                "\"reason\":\"FieldValueRequired\",\"message\":\"Required "
                "value\",\"field\":\"spec.containers\"}]},\"code\":422}");
  kj_free(errs);
}

static void test_invalid_many(void **state)
{
  kapi_error e;
  kj *errs = kj_array();

  (void)state;
  kapi_error_init(&e);
  kapi_field_error(errs, "spec.containers", "FieldValueRequired", NULL, NULL);
  kapi_field_error(errs, "metadata.name", "FieldValueInvalid", "\"Inv_alid\"",
                   SUBDOMAIN_MSG);
  kapi_error_invalid(&e, "", "Pod", "Inv_alid", errs);
  assert_status(&e, STATUS_HEAD "\"message\":\"Pod \\\"Inv_alid\\\" is "
                "invalid: [spec.containers: Required value, metadata.name: "
                "Invalid value: \\\"Inv_alid\\\": " SUBDOMAIN_JSON "]\","
                "\"reason\":\"Invalid\",\"details\":{\"name\":\"Inv_alid\","
                "\"kind\":\"Pod\",\"causes\":["
                "{\"reason\":\"FieldValueRequired\",\"message\":\"Required "
                "value\",\"field\":\"spec.containers\"},"
                "{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid "
                "value: \\\"Inv_alid\\\": " SUBDOMAIN_JSON "\",\"field\":"
                "\"metadata.name\"}]},\"code\":422}");
  kj_free(errs);
}

static void test_invalid_group_dedup_and_empty(void **state)
{
  kapi_error e;
  kj *errs = kj_array();

  (void)state;
  kapi_error_init(&e);
  /* Identical messages appear once in the text but twice as causes; one
   * distinct message means no brackets. */
  kapi_field_error(errs, "spec.replicas", "FieldValueInvalid", "-1",
                   "must be greater than or equal to 0");
  kapi_field_error(errs, "spec.replicas", "FieldValueInvalid", "-1",
                   "must be greater than or equal to 0");
  kapi_error_invalid(&e, "apps", "ReplicaSet", "web", errs);
  assert_status(&e, STATUS_HEAD "\"message\":\"ReplicaSet.apps \\\"web\\\" "
                "is invalid: spec.replicas: Invalid value: -1: must be "
                "greater than or equal to 0\",\"reason\":\"Invalid\","
                "\"details\":{\"name\":\"web\",\"group\":\"apps\",\"kind\":"
                "\"ReplicaSet\",\"causes\":["
                "{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid "
                "value: -1: must be greater than or equal to 0\",\"field\":"
                "\"spec.replicas\"},"
                "{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid "
                "value: -1: must be greater than or equal to 0\",\"field\":"
                "\"spec.replicas\"}]},\"code\":422}");

  /* Three errors, two distinct: brackets. */
  kapi_field_error(errs, "a", "FieldValueRequired", NULL, NULL);
  kapi_error_invalid(&e, "apps", "ReplicaSet", "web", errs);
  assert_string_equal(e.message, "ReplicaSet.apps \"web\" is invalid: "
                      "[spec.replicas: Invalid value: -1: must be greater "
                      "than or equal to 0, a: Required value]");
  kapi_error_clear(&e);
  kj_free(errs);

  /* No errors at all. */
  errs = kj_array();
  kapi_error_invalid(&e, "", "ListOptions", "", errs);
  assert_status(&e, STATUS_HEAD "\"message\":\"ListOptions \\\"\\\" is "
                "invalid\",\"reason\":\"Invalid\",\"details\":{\"kind\":"
                "\"ListOptions\"},\"code\":422}");
  kj_free(errs);
}

static void test_field_error_formats(void **state)
{
  (void)state;
  assert_field_message("metadata.name", "FieldValueInvalid", "\"Inv_alid\"",
                       "bad name", "Pod \"p\" is invalid: metadata.name: "
                       "Invalid value: \"Inv_alid\": bad name");
  assert_field_message("spec.replicas", "FieldValueInvalid", "-1", NULL,
                       "Pod \"p\" is invalid: spec.replicas: Invalid value: "
                       "-1");
  assert_field_message("spec.hostNetwork", "FieldValueInvalid", "true", "no",
                       "Pod \"p\" is invalid: spec.hostNetwork: Invalid "
                       "value: true: no");
  assert_field_message("x", "FieldValueInvalid", "null", "d",
                       "Pod \"p\" is invalid: x: Invalid value: null: d");
  /* Other values print as JSON, HTML characters escaped as Go does. */
  assert_field_message("x", "FieldValueInvalid",
                       "[\"a\",\"<b&c>\",{\"k\":1.5}]", "d",
                       "Pod \"p\" is invalid: x: Invalid value: "
                       "[\"a\",\"\\u003cb\\u0026c\\u003e\",{\"k\":1.5}]: d");
  /* Strings use %q escaping. */
  assert_field_message("x", "FieldValueInvalid", "\"tab\\there\\u0000\"",
                       NULL, "Pod \"p\" is invalid: x: Invalid value: "
                       "\"tab\\there\\x00\"");
  /* No bad value given: the value part is left out. */
  assert_field_message("x", "FieldValueInvalid", NULL, "d",
                       "Pod \"p\" is invalid: x: Invalid value: d");
  assert_field_message("spec", "FieldValueForbidden", "\"ignored\"",
                       "pod updates may not change fields",
                       "Pod \"p\" is invalid: spec: Forbidden: pod updates "
                       "may not change fields");
  assert_field_message("metadata.name", "FieldValueRequired", NULL,
                       "name or generateName is required",
                       "Pod \"p\" is invalid: metadata.name: Required value: "
                       "name or generateName is required");
  assert_field_message("x", "FieldValueDuplicate", "\"a\"", NULL,
                       "Pod \"p\" is invalid: x: Duplicate value: \"a\"");
  assert_field_message("x", "FieldValueNotSupported", "\"a\"",
                       "supported values: \"b\", \"c\"",
                       "Pod \"p\" is invalid: x: Unsupported value: \"a\": "
                       "supported values: \"b\", \"c\"");
  assert_field_message("x", "FieldValueTooLong", "\"long\"",
                       "may not be more than 63 bytes",
                       "Pod \"p\" is invalid: x: Too long: may not be more "
                       "than 63 bytes");
  assert_field_message("x", "FieldValueTooMany", "5", "must have at most 4 "
                       "items", "Pod \"p\" is invalid: x: Too many: 5: must "
                       "have at most 4 items");
  assert_field_message("x", "FieldValueNotFound", "\"n\"", NULL,
                       "Pod \"p\" is invalid: x: Not found: \"n\"");
  assert_field_message("x", "InternalError", NULL, "oops",
                       "Pod \"p\" is invalid: x: Internal error: oops");
  assert_field_message("x", "FieldValueBogus", "1", "d",
                       "Pod \"p\" is invalid: x: Internal error: unhandled "
                       "error code: FieldValueBogus: please report this: d");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_error_slot),
    cmocka_unit_test(test_error_details_and_causes),
    cmocka_unit_test(test_not_found),
    cmocka_unit_test(test_already_exists),
    cmocka_unit_test(test_conflict),
    cmocka_unit_test(test_bad_request),
    cmocka_unit_test(test_internal),
    cmocka_unit_test(test_method_not_allowed),
    cmocka_unit_test(test_field_error_entries),
    cmocka_unit_test(test_invalid_single),
    cmocka_unit_test(test_invalid_many),
    cmocka_unit_test(test_invalid_group_dedup_and_empty),
    cmocka_unit_test(test_field_error_formats),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
