/*
 * test_protobuf.c - the protobuf body transcoder: kubectl's annotated
 * `auth can-i create pods` body, hand-built Namespace / ConfigMap /
 * Secret bodies, zero-value skipping and malformed input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protobuf.h"

/* ---- a tiny encoder for building bodies ---------------------------------- */

typedef struct buf {
  uint8_t d[4096];
  size_t n;
} buf;

static void put_byte(buf *b, uint8_t c)
{
  assert_true(b->n < sizeof b->d);
  b->d[b->n++] = c;
}

static void put_varint(buf *b, uint64_t v)
{
  while (v >= 0x80) {
    put_byte(b, (uint8_t)(v | 0x80));
    v >>= 7;
  }
  put_byte(b, (uint8_t)v);
}

static void put_bytes(buf *b, unsigned num, const void *d, size_t n)
{
  put_varint(b, (uint64_t)num << 3 | 2);
  put_varint(b, n);
  assert_true(b->n + n <= sizeof b->d);
  memcpy(b->d + b->n, d, n);
  b->n += n;
}

static void put_str(buf *b, unsigned num, const char *s)
{
  put_bytes(b, num, s, strlen(s));
}

static void put_msg(buf *b, unsigned num, const buf *m)
{
  put_bytes(b, num, m->d, m->n);
}

static void put_uint(buf *b, unsigned num, uint64_t v)
{
  put_varint(b, (uint64_t)num << 3);
  put_varint(b, v);
}

static void put_map_entry(buf *b, unsigned num, const char *k, const void *v,
                          size_t vlen)
{
  buf e = {.n = 0};
  put_str(&e, 1, k);
  put_bytes(&e, 2, v, vlen);
  put_msg(b, num, &e);
}

/* "k8s\0" + runtime.Unknown{typeMeta, raw, "", ""}. */
static void envelope(buf *out, const char *av, const char *kind,
                     const buf *raw)
{
  buf tm = {.n = 0};
  out->n = 0;
  memcpy(out->d, "k8s", 4);
  out->n = 4;
  put_str(&tm, 1, av);
  put_str(&tm, 2, kind);
  put_msg(out, 1, &tm);
  put_msg(out, 2, raw);
  put_str(out, 3, "");
  put_str(out, 4, "");
}

/* ObjectMeta as gogo-proto writes it: every non-pointer field, zero or not. */
static void object_meta(buf *m, const char *name, const char *ns)
{
  buf ts = {.n = 0};
  m->n = 0;
  put_str(m, 1, name);
  put_str(m, 2, "");
  put_str(m, 3, ns);
  put_str(m, 4, "");
  put_str(m, 5, "");
  put_str(m, 6, "");
  put_uint(m, 7, 0);
  put_uint(&ts, 1, 0);
  put_uint(&ts, 2, 0);
  put_msg(m, 8, &ts);
}

static char *to_json(const buf *b, int *rc)
{
  kj *obj = NULL;
  char err[256] = "", *s;
  *rc = kapi_protobuf_to_json((const char *)b->d, b->n, &obj, err, sizeof err);
  if (*rc < 0) {
    assert_null(obj);
    assert_true(err[0] != 0);
    return NULL;
  }
  assert_non_null(obj);
  s = kj_dump(obj, NULL);
  kj_free(obj);
  return s;
}

static void assert_json(const buf *b, const char *want)
{
  int rc;
  char *got = to_json(b, &rc);
  assert_int_equal(rc, 0);
  assert_string_equal(got, want);
  free(got);
}

/* ---- tests ---------------------------------------------------------------- */

/* The bytes of kubectl-contract §9, as kubectl v1.32 sends them. */
static const uint8_t can_i_create_pods[] = {
    0x6b, 0x38, 0x73, 0x00,
    0x0a, 0x32,
    0x0a, 0x17, 'a', 'u', 't', 'h', 'o', 'r', 'i', 'z', 'a', 't', 'i', 'o', 'n',
    '.', 'k', '8', 's', '.', 'i', 'o', '/', 'v', '1',
    0x12, 0x17, 'S', 'e', 'l', 'f', 'S', 'u', 'b', 'j', 'e', 'c', 't', 'A', 'c',
    'c', 'e', 's', 's', 'R', 'e', 'v', 'i', 'e', 'w',
    0x12, 0x3f,
    0x0a, 0x10, 0x0a, 0x00, 0x12, 0x00, 0x1a, 0x00, 0x2a, 0x00, 0x32, 0x00,
    0x38, 0x00, 0x42, 0x02, 0x08, 0x00,
    0x12, 0x21, 0x0a, 0x1f,
    0x0a, 0x07, 'd', 'e', 'f', 'a', 'u', 'l', 't',
    0x12, 0x06, 'c', 'r', 'e', 'a', 't', 'e',
    0x1a, 0x00, 0x22, 0x00,
    0x2a, 0x04, 'p', 'o', 'd', 's',
    0x32, 0x00, 0x3a, 0x00,
    0x1a, 0x08, 0x08, 0x00, 0x12, 0x00, 0x1a, 0x00, 0x20, 0x00,
    0x1a, 0x00, 0x22, 0x00,
};

static void test_can_i_example(void **state)
{
  buf b;
  (void)state;
  memcpy(b.d, can_i_create_pods, sizeof can_i_create_pods);
  b.n = sizeof can_i_create_pods;
  assert_json(&b, "{\"apiVersion\":\"authorization.k8s.io/v1\","
                  "\"kind\":\"SelfSubjectAccessReview\",\"metadata\":{},"
                  "\"spec\":{\"resourceAttributes\":{\"namespace\":\"default\","
                  "\"verb\":\"create\",\"resource\":\"pods\"}},"
                  "\"status\":{}}");
}

static void test_namespace_labels_annotations(void **state)
{
  buf meta, spec = {.n = 0}, status = {.n = 0}, ns = {.n = 0}, b;
  (void)state;
  object_meta(&meta, "team-a", "");
  put_map_entry(&meta, 11, "env", "prod", 4);
  put_map_entry(&meta, 11, "tier", "", 0);
  put_map_entry(&meta, 12, "note", "hi", 2);
  put_str(&meta, 14, "example.com/keep");
  put_str(&spec, 1, "kubernetes");
  put_str(&status, 1, "");
  put_msg(&ns, 1, &meta);
  put_msg(&ns, 2, &spec);
  put_msg(&ns, 3, &status);
  envelope(&b, "v1", "Namespace", &ns);
  assert_json(&b, "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
                  "\"metadata\":{\"name\":\"team-a\",\"labels\":{\"env\":"
                  "\"prod\",\"tier\":\"\"},\"annotations\":{\"note\":\"hi\"},"
                  "\"finalizers\":[\"example.com/keep\"]},"
                  "\"spec\":{\"finalizers\":[\"kubernetes\"]},\"status\":{}}");
}

static void test_configmap_data_and_binary(void **state)
{
  static const uint8_t blob[] = {0x00, 0x01, 0x02, 0xff};
  buf meta, cm = {.n = 0}, b;
  (void)state;
  object_meta(&meta, "c", "default");
  put_msg(&cm, 1, &meta);
  put_map_entry(&cm, 2, "a", "b", 1);
  put_map_entry(&cm, 3, "blob", blob, sizeof blob);
  put_uint(&cm, 4, 0); /* immutable=false written explicitly: skipped */
  envelope(&b, "v1", "ConfigMap", &cm);
  assert_json(&b, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
                  "\"metadata\":{\"name\":\"c\",\"namespace\":\"default\"},"
                  "\"data\":{\"a\":\"b\"},\"binaryData\":{\"blob\":\"AAEC/w==\"}}");
}

static void test_secret_data_base64(void **state)
{
  buf meta, s = {.n = 0}, b;
  (void)state;
  object_meta(&meta, "s", "");
  put_msg(&s, 1, &meta);
  put_map_entry(&s, 2, "k", "v", 1);
  put_map_entry(&s, 2, "two", "hi", 2);
  put_map_entry(&s, 2, "three", "abc", 3);
  put_str(&s, 3, "Opaque");
  put_uint(&s, 5, 1);
  envelope(&b, "v1", "Secret", &s);
  assert_json(&b, "{\"apiVersion\":\"v1\",\"kind\":\"Secret\","
                  "\"metadata\":{\"name\":\"s\"},\"data\":{\"k\":\"dg==\","
                  "\"two\":\"aGk=\",\"three\":\"YWJj\"},\"type\":\"Opaque\","
                  "\"immutable\":true}");
}

static void test_meta_time_owners_managed_fields(void **state)
{
  buf meta, ts = {.n = 0}, owner = {.n = 0}, mf = {.n = 0}, sa = {.n = 0}, b;
  (void)state;
  object_meta(&meta, "sa", "ns");
  put_uint(&meta, 7, 3);
  put_uint(&ts, 1, 1700000000);
  put_uint(&ts, 2, 5);
  put_msg(&meta, 9, &ts);
  put_str(&owner, 1, "Pod");
  put_str(&owner, 3, "web");
  put_str(&owner, 4, "u-1");
  put_str(&owner, 5, "v1");
  put_uint(&owner, 6, 1);
  put_msg(&meta, 13, &owner);
  put_str(&mf, 1, "kubectl");
  put_msg(&meta, 17, &mf);
  put_uint(&meta, 99, 7); /* unknown fields are skipped */
  put_msg(&sa, 1, &meta);
  put_uint(&sa, 4, 1);
  envelope(&b, "v1", "ServiceAccount", &sa);
  assert_json(&b, "{\"apiVersion\":\"v1\",\"kind\":\"ServiceAccount\","
                  "\"metadata\":{\"name\":\"sa\",\"namespace\":\"ns\","
                  "\"generation\":3,\"deletionTimestamp\":"
                  "\"2023-11-14T22:13:20Z\",\"ownerReferences\":[{\"kind\":"
                  "\"Pod\",\"name\":\"web\",\"uid\":\"u-1\",\"apiVersion\":"
                  "\"v1\",\"controller\":true}]},"
                  "\"automountServiceAccountToken\":true}");
}

static void test_empty_raw_gets_metadata(void **state)
{
  buf raw = {.n = 0}, b;
  (void)state;
  envelope(&b, "authentication.k8s.io/v1", "SelfSubjectReview", &raw);
  assert_json(&b, "{\"apiVersion\":\"authentication.k8s.io/v1\","
                  "\"kind\":\"SelfSubjectReview\",\"metadata\":{}}");
}

static void test_unknown_kind(void **state)
{
  buf raw = {.n = 0}, b;
  int rc;
  (void)state;
  envelope(&b, "v1", "Frobnicator", &raw);
  assert_null(to_json(&b, &rc));
  assert_int_equal(rc, -ENOTSUP);
}

static void test_bad_magic(void **state)
{
  kj *obj = (kj *)1;
  char err[128] = "";
  (void)state;
  assert_int_equal(kapi_protobuf_to_json("{\"kind\":1}", 10, &obj, err,
                                         sizeof err), -EINVAL);
  assert_null(obj);
  assert_non_null(strstr(err, "magic"));
  assert_int_equal(kapi_protobuf_to_json("k8s", 3, &obj, err, sizeof err),
                   -EINVAL);
}

/* Every cut inside a length-delimited field must be refused, never read
 * past the end. */
static void test_truncated(void **state)
{
  buf b;
  size_t cut;
  int rc;
  char *s;
  (void)state;
  for (cut = 5; cut < sizeof can_i_create_pods; cut++) {
    memcpy(b.d, can_i_create_pods, cut);
    b.n = cut;
    s = to_json(&b, &rc);
    /* Cuts right after a complete top-level field are valid messages. */
    if (cut == 4 + 2 + 0x32 || cut == 4 + 2 + 0x32 + 2 + 0x3f ||
        cut == sizeof can_i_create_pods - 2) {
      assert_int_equal(rc, 0);
      free(s);
    } else {
      assert_int_equal(rc, -EINVAL);
    }
  }
}

static void test_wrong_wire_type(void **state)
{
  buf meta = {.n = 0}, ns = {.n = 0}, b;
  int rc;
  (void)state;
  put_uint(&meta, 1, 5); /* name as a varint */
  put_msg(&ns, 1, &meta);
  envelope(&b, "v1", "Namespace", &ns);
  assert_null(to_json(&b, &rc));
  assert_int_equal(rc, -EINVAL);
}

static void test_overlong_varint(void **state)
{
  buf b;
  int rc, i;
  (void)state;
  memcpy(b.d, "k8s", 4);
  b.n = 4;
  put_byte(&b, 0x08);
  for (i = 0; i < 11; i++)
    put_byte(&b, 0xff);
  assert_null(to_json(&b, &rc));
  assert_int_equal(rc, -EINVAL);
}

static void test_content_type(void **state)
{
  (void)state;
  assert_true(kapi_protobuf_is_type("application/vnd.kubernetes.protobuf"));
  assert_true(kapi_protobuf_is_type("application/vnd.kubernetes.protobuf ; x=y"));
  assert_false(kapi_protobuf_is_type("application/json"));
  assert_false(kapi_protobuf_is_type(
      "application/vnd.kubernetes.protobuf;stream=watch" + 1));
  assert_false(kapi_protobuf_is_type(NULL));
  assert_true(kapi_protobuf_supports("v1", "Secret"));
  assert_true(kapi_protobuf_supports("authorization.k8s.io/v1",
                                     "SelfSubjectAccessReview"));
  assert_false(kapi_protobuf_supports("v1", "Pod"));
  assert_false(kapi_protobuf_supports(NULL, "Secret"));
}

/* kubectl create deployment web --image=nginx --replicas=2, plus the
 * container fields a manifest may carry: optional int32s are kept even
 * when 0 (replicas), zero plain ints are not (minReadySeconds), and
 * quantities and IntOrString read as strings. */
static void test_deployment(void **state)
{
  buf meta, tmeta, sel = {.n = 0}, port = {.n = 0}, env = {.n = 0};
  buf qty = {.n = 0}, entry = {.n = 0}, res = {.n = 0}, c = {.n = 0};
  buf pod = {.n = 0}, tpl = {.n = 0}, ru = {.n = 0}, ios = {.n = 0};
  buf strat = {.n = 0}, spec = {.n = 0}, status = {.n = 0}, d = {.n = 0};
  buf b;
  (void)state;

  object_meta(&meta, "web", "");
  put_map_entry(&meta, 11, "app", "web", 3);
  object_meta(&tmeta, "", "");
  put_map_entry(&tmeta, 11, "app", "web", 3);
  put_map_entry(&sel, 1, "app", "web", 3);
  put_uint(&port, 3, 80);
  put_str(&port, 4, "TCP");
  put_str(&env, 1, "MODE");
  put_str(&env, 2, "prod");
  put_str(&qty, 1, "500m");
  put_str(&entry, 1, "cpu");
  put_msg(&entry, 2, &qty);
  put_msg(&res, 1, &entry);
  put_str(&c, 1, "nginx");
  put_str(&c, 2, "nginx");
  put_str(&c, 3, "sh");
  put_str(&c, 4, "-c");
  put_str(&c, 4, "sleep 1");
  put_msg(&c, 6, &port);
  put_msg(&c, 7, &env);
  put_msg(&c, 8, &res);
  put_msg(&pod, 2, &c);
  put_uint(&pod, 4, 0); /* terminationGracePeriodSeconds: 0 is a value */
  put_msg(&tpl, 1, &tmeta);
  put_msg(&tpl, 2, &pod);
  put_uint(&ios, 1, 1);
  put_str(&ios, 3, "50%");
  put_msg(&ru, 2, &ios);
  put_str(&strat, 1, "RollingUpdate");
  put_msg(&strat, 2, &ru);
  put_uint(&spec, 1, 2);
  put_msg(&spec, 2, &sel);
  put_msg(&spec, 3, &tpl);
  put_msg(&spec, 4, &strat);
  put_uint(&spec, 5, 0);
  put_uint(&spec, 6, (uint64_t)(int64_t)-1); /* int32 sign-extended */
  put_uint(&spec, 7, 0);
  put_uint(&status, 2, 5); /* DeploymentStatus: not described, skipped */
  put_msg(&d, 1, &meta);
  put_msg(&d, 2, &spec);
  put_msg(&d, 3, &status);
  envelope(&b, "apps/v1", "Deployment", &d);
  assert_true(kapi_protobuf_supports("apps/v1", "Deployment"));
  assert_json(&b,
              "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
              "\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":\"web\"}},"
              "\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{"
              "\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{"
              "\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":"
              "\"nginx\",\"image\":\"nginx\",\"command\":[\"sh\"],\"args\":"
              "[\"-c\",\"sleep 1\"],\"ports\":[{\"containerPort\":80,"
              "\"protocol\":\"TCP\"}],\"env\":[{\"name\":\"MODE\",\"value\":"
              "\"prod\"}],\"resources\":{\"limits\":{\"cpu\":\"500m\"}}}],"
              "\"terminationGracePeriodSeconds\":0}},\"strategy\":{\"type\":"
              "\"RollingUpdate\",\"rollingUpdate\":{\"maxSurge\":\"50%\"}},"
              "\"revisionHistoryLimit\":-1}}");

  /* replicas 0 is sent (a *int32) and must not read as absent. */
  spec.n = 0;
  put_uint(&spec, 1, 0);
  d.n = 0;
  put_msg(&d, 1, &meta);
  put_msg(&d, 2, &spec);
  envelope(&b, "apps/v1", "Deployment", &d);
  assert_json(&b, "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
                  "\"metadata\":{\"name\":\"web\",\"labels\":{\"app\":"
                  "\"web\"}},\"spec\":{\"replicas\":0}}");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_can_i_example),
      cmocka_unit_test(test_namespace_labels_annotations),
      cmocka_unit_test(test_configmap_data_and_binary),
      cmocka_unit_test(test_secret_data_base64),
      cmocka_unit_test(test_meta_time_owners_managed_fields),
      cmocka_unit_test(test_empty_raw_gets_metadata),
      cmocka_unit_test(test_unknown_kind),
      cmocka_unit_test(test_bad_magic),
      cmocka_unit_test(test_truncated),
      cmocka_unit_test(test_wrong_wire_type),
      cmocka_unit_test(test_overlong_varint),
      cmocka_unit_test(test_content_type),
      cmocka_unit_test(test_deployment),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
