/*
 * test_sa_token.c - service account tokens: the signer loads RSA and EC
 * keys, derives upstream's key id, writes upstream's claims, and signs
 * tokens that verify with the public key alone (checked here with
 * OpenSSL directly, independently of the signer); the flags fold into
 * the authenticator's configuration with upstream's defaults and checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "json.h"
#include "sa_token.h"

/* ---- helpers -------------------------------------------------------------- */

typedef struct keyfile {
  EVP_PKEY *key;
  char path[64];
} keyfile;

/* A fresh key ("RSA" or an EC curve name) written as PEM to a temp file. */
static void make_key(keyfile *k, const char *type)
{
  FILE *f;
  int fd;

  if (!strcmp(type, "RSA"))
    k->key = EVP_RSA_gen(2048);
  else
    k->key = EVP_EC_gen(type);
  assert_non_null(k->key);
  snprintf(k->path, sizeof k->path, "/tmp/test_sa_token.XXXXXX");
  fd = mkstemp(k->path);
  assert_true(fd >= 0);
  f = fdopen(fd, "w");
  assert_non_null(f);
  assert_int_equal(PEM_write_PrivateKey(f, k->key, NULL, NULL, 0, NULL, NULL),
                   1);
  fclose(f);
}

static void drop_key(keyfile *k)
{
  unlink(k->path);
  EVP_PKEY_free(k->key);
}

static kapi_sa_signer *signer_for(const keyfile *k)
{
  kapi_sa_signer_options o = {.key_file = k->path};
  kapi_sa_signer *s = NULL;
  char err[256] = "";

  assert_int_equal(kapi_sa_signer_new(&o, &s, err, sizeof err), 0);
  assert_non_null(s);
  return s;
}

/* base64url (no padding) decoding, written independently of the
 * signer's encoder.  Returns a new buffer, NUL-terminated. */
static unsigned char *unb64url(const char *s, size_t n, size_t *len)
{
  static const char abc[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  unsigned char *out = malloc(n + 1);
  unsigned acc = 0, bits = 0;
  size_t i;

  assert_non_null(out);
  *len = 0;
  for (i = 0; i < n; i++) {
    const char *p = strchr(abc, s[i]);
    assert_non_null(p); /* no padding, no other alphabet */
    assert_true(s[i] != '\0');
    acc = (acc << 6) | (unsigned)(p - abc);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[(*len)++] = (unsigned char)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  out[*len] = '\0';
  return out;
}

/* base64url(sha256(DER SubjectPublicKeyInfo)), computed here. */
static void expected_kid(EVP_PKEY *key, char *out, size_t len)
{
  static const char abc[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  unsigned char *der = NULL, d[32];
  unsigned int dlen = 0, acc = 0, bits = 0;
  int n = i2d_PUBKEY(key, &der);
  size_t i, o = 0;

  assert_true(n > 0);
  assert_int_equal(EVP_Digest(der, (size_t)n, d, &dlen, EVP_sha256(), NULL),
                   1);
  OPENSSL_free(der);
  for (i = 0; i < dlen; i++) {
    acc = (acc << 8) | d[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out[o++] = abc[(acc >> bits) & 63];
    }
  }
  if (bits)
    out[o++] = abc[(acc << (6 - bits)) & 63];
  out[o] = '\0';
  assert_true(o < len);
}

typedef struct parsed {
  kj *header, *claims;
  unsigned char *sig;
  size_t sig_len;
  char *signed_part; /* "header.payload" */
} parsed;

static void parse_token(const char *token, parsed *p)
{
  const char *d1 = strchr(token, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
  unsigned char *h, *c;
  size_t hl, cl;
  char err[128];

  assert_non_null(d2);
  assert_null(strchr(d2 + 1, '.'));
  h = unb64url(token, (size_t)(d1 - token), &hl);
  c = unb64url(d1 + 1, (size_t)(d2 - d1 - 1), &cl);
  p->sig = unb64url(d2 + 1, strlen(d2 + 1), &p->sig_len);
  assert_int_equal(kj_parse((char *)h, hl, &p->header, err, sizeof err), 0);
  assert_int_equal(kj_parse((char *)c, cl, &p->claims, err, sizeof err), 0);
  p->signed_part = strndup(token, (size_t)(d2 - token));
  free(h);
  free(c);
}

static void free_parsed(parsed *p)
{
  kj_free(p->header);
  kj_free(p->claims);
  free(p->sig);
  free(p->signed_part);
}

/* JWS verification with OpenSSL and the public key only. */
static int jws_verifies(EVP_PKEY *priv, const char *alg, const char *input,
                        const unsigned char *sig, size_t sig_len)
{
  unsigned char *pub_der = NULL, *der = NULL;
  const unsigned char *p;
  int n = i2d_PUBKEY(priv, &pub_der), ok;
  EVP_PKEY *pub;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  const EVP_MD *md = EVP_sha256();

  p = pub_der;
  pub = d2i_PUBKEY(NULL, &p, n);
  OPENSSL_free(pub_der);
  assert_non_null(pub);
  if (!strncmp(alg, "ES", 2)) {
    size_t half = sig_len / 2;
    ECDSA_SIG *es = ECDSA_SIG_new();
    assert_int_equal(ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)half, NULL),
                                    BN_bin2bn(sig + half, (int)half, NULL)),
                     1);
    n = i2d_ECDSA_SIG(es, &der);
    ECDSA_SIG_free(es);
    sig = der;
    sig_len = (size_t)n;
    if (!strcmp(alg, "ES384"))
      md = EVP_sha384();
  }
  ok = EVP_DigestVerifyInit(ctx, NULL, md, NULL, pub) == 1 &&
       EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)input,
                        strlen(input)) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pub);
  OPENSSL_free(der);
  return ok;
}

static const char *get_str(const kj *o, const char *ptr)
{
  return kj_str(kj_ptr(o, ptr));
}

static int64_t get_int(const kj *o, const char *ptr)
{
  int64_t v = -1;
  assert_int_equal(kj_to_int(kj_ptr(o, ptr), &v), 0);
  return v;
}

/* The members of an object, in order, joined by ','. */
static void keys_of(const kj *o, char *buf, size_t len)
{
  size_t i, used = 0;

  buf[0] = '\0';
  for (i = 0; i < kj_len(o); i++)
    used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "",
                             kj_key_at(o, i));
}

/* ---- tests --------------------------------------------------------------------- */

static void rsa_signer_has_upstream_kid_and_defaults(void **state)
{
  keyfile k;
  kapi_sa_signer *s;
  char kid[64];

  (void)state;
  make_key(&k, "RSA");
  s = signer_for(&k);
  expected_kid(k.key, kid, sizeof kid);
  assert_string_equal(kapi_sa_signer_kid(s), kid);
  assert_string_equal(kapi_sa_signer_alg(s), "RS256");
  assert_string_equal(kapi_sa_signer_issuer(s),
                      "https://kubernetes.default.svc.cluster.local");
  /* Without --api-audiences the audience is the issuer. */
  assert_int_equal(kapi_sa_signer_audience_count(s), 1);
  assert_string_equal(kapi_sa_signer_audience(s, 0),
                      "https://kubernetes.default.svc.cluster.local");
  kapi_sa_signer_free(s);
  drop_key(&k);
}

static void pod_bound_token_round_trip(void **state)
{
  static const char *const auds[] = {"api", "vault"};
  kapi_sa_claims c = {
      .namespace_ = "ns1",
      .sa = {"builder", "sa-uid"},
      .pod = {"web-0", "pod-uid"},
      .node = {"node-1", "node-uid"},
      .audiences = auds,
      .n_audiences = 2,
      .now = 1700000000,
      .expiration = 3600,
      .warn_after = 3607,
      .jti = "0f8fad5b-d9cb-469f-a165-70867728950e",
  };
  keyfile k;
  kapi_sa_signer *s;
  parsed p = {0};
  char *token, keys[256];

  (void)state;
  make_key(&k, "RSA");
  s = signer_for(&k);
  token = kapi_sa_token_sign(s, &c);
  assert_non_null(token);
  parse_token(token, &p);

  keys_of(p.header, keys, sizeof keys);
  assert_string_equal(keys, "alg,kid");
  assert_string_equal(get_str(p.header, "/alg"), "RS256");
  assert_string_equal(get_str(p.header, "/kid"), kapi_sa_signer_kid(s));

  /* go-jose writes the merged claims with sorted keys. */
  keys_of(p.claims, keys, sizeof keys);
  assert_string_equal(keys, "aud,exp,iat,iss,jti,kubernetes.io,nbf,sub");
  assert_int_equal(kj_len(kj_get(p.claims, "aud")), 2);
  assert_string_equal(get_str(p.claims, "/aud/0"), "api");
  assert_string_equal(get_str(p.claims, "/aud/1"), "vault");
  assert_int_equal(get_int(p.claims, "/iat"), 1700000000);
  assert_int_equal(get_int(p.claims, "/nbf"), 1700000000);
  assert_int_equal(get_int(p.claims, "/exp"), 1700003600);
  assert_string_equal(get_str(p.claims, "/iss"),
                      "https://kubernetes.default.svc.cluster.local");
  assert_string_equal(get_str(p.claims, "/jti"), c.jti);
  assert_string_equal(get_str(p.claims, "/sub"),
                      "system:serviceaccount:ns1:builder");
  keys_of(kj_get(p.claims, "kubernetes.io"), keys, sizeof keys);
  assert_string_equal(keys, "namespace,node,pod,serviceaccount,warnafter");
  assert_string_equal(get_str(p.claims, "/kubernetes.io/namespace"), "ns1");
  assert_string_equal(get_str(p.claims, "/kubernetes.io/serviceaccount/name"),
                      "builder");
  assert_string_equal(get_str(p.claims, "/kubernetes.io/serviceaccount/uid"),
                      "sa-uid");
  assert_string_equal(get_str(p.claims, "/kubernetes.io/pod/name"), "web-0");
  assert_string_equal(get_str(p.claims, "/kubernetes.io/pod/uid"), "pod-uid");
  assert_string_equal(get_str(p.claims, "/kubernetes.io/node/name"),
                      "node-1");
  assert_int_equal(get_int(p.claims, "/kubernetes.io/warnafter"),
                   1700003607);
  assert_null(kj_ptr(p.claims, "/kubernetes.io/secret"));

  assert_true(jws_verifies(k.key, "RS256", p.signed_part, p.sig, p.sig_len));
  /* The check can fail: a changed byte of the signed text does not
   * verify. */
  p.signed_part[strlen(p.signed_part) - 1] ^= 1;
  assert_false(jws_verifies(k.key, "RS256", p.signed_part, p.sig, p.sig_len));

  free_parsed(&p);
  free(token);
  kapi_sa_signer_free(s);
  drop_key(&k);
}

static void unbound_token_omits_refs_and_jti(void **state)
{
  static const char *const auds[] = {"https://kubernetes.default.svc"};
  kapi_sa_claims c = {
      .namespace_ = "default",
      .sa = {"bob", "u1"},
      .audiences = auds,
      .n_audiences = 1,
      .now = 100,
      .expiration = 600,
  };
  keyfile k;
  kapi_sa_signer *s;
  parsed p = {0};
  char *token, keys[256];

  (void)state;
  make_key(&k, "RSA");
  s = signer_for(&k);
  token = kapi_sa_token_sign(s, &c);
  assert_non_null(token);
  parse_token(token, &p);
  keys_of(p.claims, keys, sizeof keys);
  assert_string_equal(keys, "aud,exp,iat,iss,kubernetes.io,nbf,sub");
  keys_of(kj_get(p.claims, "kubernetes.io"), keys, sizeof keys);
  assert_string_equal(keys, "namespace,serviceaccount");
  /* A single audience is still a list, as kube-apiserver writes it. */
  assert_int_equal(kj_ptr(p.claims, "/aud")->type, KJ_ARRAY);
  assert_int_equal(get_int(p.claims, "/exp"), 700);
  assert_true(jws_verifies(k.key, "RS256", p.signed_part, p.sig, p.sig_len));
  free_parsed(&p);
  free(token);
  kapi_sa_signer_free(s);
  drop_key(&k);
}

static void ec_keys_sign_es256_and_es384(void **state)
{
  static const struct {
    const char *curve, *alg;
    size_t sig_len;
  } cases[] = {{"P-256", "ES256", 64}, {"P-384", "ES384", 96}};
  static const char *const auds[] = {"a"};
  kapi_sa_claims c = {.namespace_ = "n", .sa = {"s", "u"}, .audiences = auds,
                      .n_audiences = 1, .now = 1, .expiration = 600,
                      .secret = {"tok", "sec-uid"}};
  size_t i;

  (void)state;
  for (i = 0; i < sizeof cases / sizeof *cases; i++) {
    keyfile k;
    kapi_sa_signer *s;
    parsed p = {0};
    char *token, kid[64];

    make_key(&k, cases[i].curve);
    s = signer_for(&k);
    assert_string_equal(kapi_sa_signer_alg(s), cases[i].alg);
    expected_kid(k.key, kid, sizeof kid);
    assert_string_equal(kapi_sa_signer_kid(s), kid);
    token = kapi_sa_token_sign(s, &c);
    assert_non_null(token);
    parse_token(token, &p);
    assert_string_equal(get_str(p.header, "/alg"), cases[i].alg);
    /* JWS wants R||S of the curve size, not DER. */
    assert_int_equal(p.sig_len, cases[i].sig_len);
    assert_string_equal(get_str(p.claims, "/kubernetes.io/secret/name"),
                        "tok");
    assert_true(jws_verifies(k.key, cases[i].alg, p.signed_part, p.sig,
                             p.sig_len));
    free_parsed(&p);
    free(token);
    kapi_sa_signer_free(s);
    drop_key(&k);
  }
}

static void bad_key_files_are_refused(void **state)
{
  kapi_sa_signer_options o = {.key_file = "/nonexistent/sa.key"};
  kapi_sa_signer *s = (kapi_sa_signer *)1;
  keyfile k;
  char err[256] = "", path[] = "/tmp/test_sa_token.XXXXXX";
  int fd;

  (void)state;
  assert_int_equal(kapi_sa_signer_new(&o, &s, err, sizeof err), -ENOENT);
  assert_null(s);
  assert_non_null(strstr(err, "/nonexistent/sa.key"));

  fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "not a key\n", 10), 10);
  close(fd);
  o.key_file = path;
  assert_int_equal(kapi_sa_signer_new(&o, &s, err, sizeof err), -EINVAL);
  assert_null(s);
  unlink(path);

  /* secp256k1 is 256 bits but not P-256: upstream has no algorithm. */
  make_key(&k, "secp256k1");
  o.key_file = k.path;
  assert_int_equal(kapi_sa_signer_new(&o, &s, err, sizeof err), -EINVAL);
  assert_string_equal(err,
                      "unknown private key curve, must be 256, 384, or 521");
  drop_key(&k);
}

static void flags_become_authenticator_config(void **state)
{
  kapi_sa_flags f = {0};
  kapi_sa_signer *s = NULL;
  keyfile k;
  kj *cfg = kj_object(), *sa;
  char err[256] = "";

  (void)state;
  /* No service account flags: nothing configured, no signer. */
  assert_int_equal(kapi_sa_configure(&f, cfg, &s, err, sizeof err), 0);
  assert_null(s);
  assert_null(kj_get(cfg, "plugins"));

  make_key(&k, "RSA");
  f.signing_key_file = k.path;
  f.max_expiration = "48h";
  assert_int_equal(kapi_sa_flag_append(f.issuers, &f.n_issuers,
                                       "https://issuer.example"), 0);
  assert_int_equal(kapi_sa_flag_append(f.issuers, &f.n_issuers,
                                       "https://old.example"), 0);
  assert_int_equal(kapi_sa_configure(&f, cfg, &s, err, sizeof err), 0);
  assert_non_null(s);
  /* The first issuer signs; audiences default to it; the signing key
   * verifies when no --service-account-key-file is given. */
  assert_string_equal(kapi_sa_signer_issuer(s), "https://issuer.example");
  assert_int_equal(kapi_sa_signer_max_expiration(s), 48 * 3600);
  sa = kj_ptr(cfg, "/plugins/service-account-authn");
  assert_non_null(sa);
  assert_string_equal(get_str(sa, "/keyFiles/0"), k.path);
  assert_int_equal(kj_len(kj_get(sa, "issuers")), 2);
  assert_string_equal(get_str(sa, "/issuers/1"), "https://old.example");
  assert_int_equal(kj_len(kj_get(sa, "audiences")), 1);
  assert_string_equal(get_str(sa, "/audiences/0"), "https://issuer.example");
  kapi_sa_signer_free(s);
  kj_free(cfg);
  drop_key(&k);
}

static void audiences_split_and_keys_listed(void **state)
{
  kapi_sa_flags f = {0};
  kapi_sa_signer *s = NULL;
  kj *cfg = kj_object(), *sa;
  char err[256] = "";

  (void)state;
  /* Verification only: key files without a signing key. */
  kapi_sa_flag_append(f.key_files, &f.n_key_files, "/etc/a.pub");
  kapi_sa_flag_append(f.key_files, &f.n_key_files, "/etc/b.pub");
  kapi_sa_flag_append(f.audiences, &f.n_audiences, "x,y");
  kapi_sa_flag_append(f.audiences, &f.n_audiences, "z");
  assert_int_equal(kapi_sa_configure(&f, cfg, &s, err, sizeof err), 0);
  assert_null(s);
  sa = kj_ptr(cfg, "/plugins/service-account-authn");
  assert_int_equal(kj_len(kj_get(sa, "keyFiles")), 2);
  assert_string_equal(get_str(sa, "/keyFiles/1"), "/etc/b.pub");
  assert_string_equal(get_str(sa, "/issuers/0"),
                      "https://kubernetes.default.svc.cluster.local");
  assert_int_equal(kj_len(kj_get(sa, "audiences")), 3);
  assert_string_equal(get_str(sa, "/audiences/1"), "y");
  assert_string_equal(get_str(sa, "/audiences/2"), "z");
  kj_free(cfg);
}

static void bad_flags_get_upstream_errors(void **state)
{
  static const struct {
    const char *max, *err;
  } cases[] = {
      {"30m", "the service-account-max-token-expiration must be between 1 "
              "hour and 2^32 seconds"},
      {"1h1x", "invalid argument \"1h1x\" for "
               "\"--service-account-max-token-expiration\" flag: time: "
               "unknown unit \"x\" in duration \"1h1x\""},
      {"10", "invalid argument \"10\" for "
             "\"--service-account-max-token-expiration\" flag: time: "
             "missing unit in duration \"10\""},
      {"1e3s", "invalid argument \"1e3s\" for "
               "\"--service-account-max-token-expiration\" flag: time: "
               "unknown unit \"e\" in duration \"1e3s\""},
  };
  kapi_sa_flags f = {0};
  kapi_sa_signer *s = NULL;
  kj *cfg = kj_object();
  char err[256];
  size_t i;

  (void)state;
  f.signing_key_file = "/nonexistent";
  for (i = 0; i < sizeof cases / sizeof *cases; i++) {
    f.max_expiration = cases[i].max;
    assert_int_equal(kapi_sa_configure(&f, cfg, &s, err, sizeof err),
                     -EINVAL);
    assert_string_equal(err, cases[i].err);
  }
  f.max_expiration = "1h30m";
  kapi_sa_flag_append(f.issuers, &f.n_issuers, "https://a");
  kapi_sa_flag_append(f.issuers, &f.n_issuers, "https://a");
  assert_int_equal(kapi_sa_configure(&f, cfg, &s, err, sizeof err), -EINVAL);
  assert_string_equal(err, "service-account-issuer https://a is already "
                           "specified");
  assert_null(s);
  kj_free(cfg);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rsa_signer_has_upstream_kid_and_defaults),
      cmocka_unit_test(pod_bound_token_round_trip),
      cmocka_unit_test(unbound_token_omits_refs_and_jti),
      cmocka_unit_test(ec_keys_sign_es256_and_es384),
      cmocka_unit_test(bad_key_files_are_refused),
      cmocka_unit_test(flags_become_authenticator_config),
      cmocka_unit_test(audiences_split_and_keys_listed),
      cmocka_unit_test(bad_flags_get_upstream_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
