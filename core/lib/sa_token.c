/*
 * sa_token.c - the service account token signer and the JWTs it makes.
 *
 * Upstream: pkg/serviceaccount/jwt.go (JWTTokenGenerator,
 * keyIDFromPublicKey) and claims.go (Claims).  A token is a compact JWS:
 *
 *   base64url({"alg":"RS256","kid":KID}) "." base64url(claims) "." sig
 *
 * where KID is base64url(sha256(DER SubjectPublicKeyInfo)), so relying
 * parties can pick the key without it revealing the key.  RSA keys sign
 * RS256 (PKCS#1 v1.5, SHA-256); EC keys sign ES256/ES384/ES512 by curve,
 * with the signature as the fixed-size R||S pair JWS wants instead of
 * OpenSSL's DER.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sa_token.h"

struct kapi_sa_signer {
  EVP_PKEY *key;
  const EVP_MD *md;
  const char *alg;   /* static */
  size_t ec_size;    /* bytes of R and of S; 0 for RSA */
  char *issuer;
  char kid[64];
  char **audiences;
  size_t n_audiences;
  int64_t max_expiration;
  int extend_expiration;
};

/* ---- base64url (RFC 4648 §5, no padding) ------------------------------- */

/* Newly allocated text of n bytes of data, NULL if out of memory. */
static char *b64url(const unsigned char *data, size_t n)
{
  char *out = malloc(4 * ((n + 2) / 3) + 1);
  size_t i, len;

  if (!out)
    return NULL;
  len = (size_t)EVP_EncodeBlock((unsigned char *)out, data, (int)n);
  while (len && out[len - 1] == '=')
    len--;
  out[len] = '\0';
  for (i = 0; i < len; i++) {
    if (out[i] == '+')
      out[i] = '-';
    else if (out[i] == '/')
      out[i] = '_';
  }
  return out;
}

/* ---- keys ---------------------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    KAPI_PRINTF(3, 4);
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
  va_list ap;

  if (!err || !errlen)
    return;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
}

/* The last OpenSSL error as text, written into buf. */
static const char *ossl_reason(char *buf, size_t len)
{
  unsigned long code = ERR_peek_last_error();
  if (!code)
    return "no key found";
  ERR_error_string_n(code, buf, len);
  return buf;
}

/* keyIDFromPublicKey: base64url of the SHA-256 of the DER public key. */
static int key_id(EVP_PKEY *key, char *out, size_t len)
{
  unsigned char *der = NULL, digest[EVP_MAX_MD_SIZE];
  unsigned int dlen = 0;
  int n = i2d_PUBKEY(key, &der);
  char *text;

  if (n <= 0)
    return -EINVAL;
  if (!EVP_Digest(der, (size_t)n, digest, &dlen, EVP_sha256(), NULL)) {
    OPENSSL_free(der);
    return -EINVAL;
  }
  OPENSSL_free(der);
  text = b64url(digest, dlen);
  if (!text)
    return -ENOMEM;
  snprintf(out, len, "%s", text);
  free(text);
  return 0;
}

/* Picks the JWS algorithm the key signs with, as upstream's signers:
 * RS256 for any RSA key, ESxxx by the EC curve (NIST curves only: a
 * 256-bit secp256k1 key is not ES256). */
static int choose_alg(kapi_sa_signer *s, char *err, size_t errlen)
{
  static const struct {
    const char *curve, *alg;
    const EVP_MD *(*md)(void);
    size_t size;
  } curves[] = {{"prime256v1", "ES256", EVP_sha256, 32},
                {"secp384r1", "ES384", EVP_sha384, 48},
                {"secp521r1", "ES512", EVP_sha512, 66}};
  char group[64] = "";
  size_t i;

  switch (EVP_PKEY_get_base_id(s->key)) {
  case EVP_PKEY_RSA:
    s->alg = "RS256";
    s->md = EVP_sha256();
    return 0;
  case EVP_PKEY_EC:
    EVP_PKEY_get_group_name(s->key, group, sizeof group, NULL);
    for (i = 0; i < sizeof curves / sizeof *curves; i++)
      if (!strcmp(group, curves[i].curve)) {
        s->alg = curves[i].alg;
        s->md = curves[i].md();
        s->ec_size = curves[i].size;
        return 0;
      }
    set_err(err, errlen, "unknown private key curve, must be 256, 384, or "
            "521");
    return -EINVAL;
  default:
    set_err(err, errlen, "unknown private key type, must be RSA or ECDSA");
    return -EINVAL;
  }
}

static int load_key(kapi_sa_signer *s, const char *path, char *err,
                    size_t errlen)
{
  BIO *bio = BIO_new_file(path, "r");
  char why[256];

  if (!bio) {
    set_err(err, errlen, "failed to read service account key file %s: %s",
            path, strerror(errno ? errno : ENOENT));
    return -ENOENT;
  }
  ERR_clear_error();
  /* RSA PRIVATE KEY, EC PRIVATE KEY (other blocks such as EC PARAMETERS
   * are skipped) and PKCS#8 PRIVATE KEY all load here. */
  s->key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
  BIO_free(bio);
  if (!s->key) {
    set_err(err, errlen, "failed to parse service account signing key "
            "file %s: %s", path, ossl_reason(why, sizeof why));
    ERR_clear_error();
    return -EINVAL;
  }
  return 0;
}

void kapi_sa_signer_free(kapi_sa_signer *s)
{
  size_t i;

  if (!s)
    return;
  EVP_PKEY_free(s->key);
  free(s->issuer);
  for (i = 0; i < s->n_audiences; i++)
    free(s->audiences[i]);
  free(s->audiences);
  free(s);
}

static int copy_audiences(kapi_sa_signer *s, const kapi_sa_signer_options *o)
{
  size_t i, n = o->n_audiences ? o->n_audiences : 1;

  s->audiences = calloc(n, sizeof *s->audiences);
  if (!s->audiences)
    return -ENOMEM;
  for (i = 0; i < n; i++) {
    s->audiences[i] = strdup(o->n_audiences ? o->audiences[i] : s->issuer);
    if (!s->audiences[i])
      return -ENOMEM;
    s->n_audiences++;
  }
  return 0;
}

int kapi_sa_signer_new(const kapi_sa_signer_options *o, kapi_sa_signer **ret,
                       char *err, size_t errlen)
{
  kapi_sa_signer *s = calloc(1, sizeof *s);
  int rc = -ENOMEM;

  *ret = NULL;
  if (!s)
    goto fail;
  s->issuer = strdup(o->issuer && *o->issuer ? o->issuer
                                               : KAPI_SA_DEFAULT_ISSUER);
  if (!s->issuer || copy_audiences(s, o) < 0)
    goto fail;
  s->max_expiration = o->max_expiration;
  s->extend_expiration = o->extend_expiration;
  if ((rc = load_key(s, o->key_file, err, errlen)) < 0 ||
      (rc = choose_alg(s, err, errlen)) < 0)
    goto out;
  if ((rc = key_id(s->key, s->kid, sizeof s->kid)) < 0) {
    set_err(err, errlen, "failed to derive keyID: %s", strerror(-rc));
    goto out;
  }
  *ret = s;
  return 0;
fail:
  set_err(err, errlen, "%s", strerror(ENOMEM));
out:
  kapi_sa_signer_free(s);
  return rc;
}

const char *kapi_sa_signer_issuer(const kapi_sa_signer *s) { return s->issuer; }
const char *kapi_sa_signer_alg(const kapi_sa_signer *s) { return s->alg; }
const char *kapi_sa_signer_kid(const kapi_sa_signer *s) { return s->kid; }
int64_t kapi_sa_signer_max_expiration(const kapi_sa_signer *s)
{
  return s->max_expiration;
}
int kapi_sa_signer_extends(const kapi_sa_signer *s)
{
  return s->extend_expiration;
}
size_t kapi_sa_signer_audience_count(const kapi_sa_signer *s)
{
  return s->n_audiences;
}
const char *kapi_sa_signer_audience(const kapi_sa_signer *s, size_t i)
{
  return i < s->n_audiences ? s->audiences[i] : NULL;
}

/* ---- claims -------------------------------------------------------------- */

/* {"name": ..., "uid": ...}, each omitted when empty (omitempty). */
static kj *ref_json(const kapi_sa_ref *ref)
{
  kj *o = kj_object();

  if (!o)
    return NULL;
  if ((ref->name && *ref->name && kj_set_str(o, "name", ref->name) < 0) ||
      (ref->uid && *ref->uid && kj_set_str(o, "uid", ref->uid) < 0)) {
    kj_free(o);
    return NULL;
  }
  return o;
}

static int set_ref(kj *obj, const char *key, const kapi_sa_ref *ref)
{
  kj *v;

  if (!ref->name)
    return 0;
  v = ref_json(ref);
  return v ? kj_set(obj, key, v) : -ENOMEM;
}

/* The private "kubernetes.io" claim: namespace, node, pod, secret,
 * serviceaccount, warnafter (go-jose writes merged claims sorted). */
static kj *private_claims(const kapi_sa_claims *c)
{
  kj *k = kj_object();
  kj *sa = ref_json(&c->sa);
  int rc;

  if (!k || !sa) {
    kj_free(k);
    kj_free(sa);
    return NULL;
  }
  rc = kj_set_str(k, "namespace", c->namespace_);
  if (rc == 0)
    rc = set_ref(k, "node", &c->node);
  if (rc == 0)
    rc = set_ref(k, "pod", &c->pod);
  if (rc == 0)
    rc = set_ref(k, "secret", &c->secret);
  if (rc == 0)
    rc = kj_set(k, "serviceaccount", sa);
  else
    kj_free(sa);
  if (rc == 0 && c->warn_after)
    rc = kj_set_int(k, "warnafter", c->now + c->warn_after);
  if (rc < 0) {
    kj_free(k);
    return NULL;
  }
  return k;
}

kj *kapi_sa_claims_json(const kapi_sa_signer *s, const kapi_sa_claims *c)
{
  kj *o = kj_object(), *aud = kj_array(), *k = private_claims(c);
  char sub[1024];
  size_t i;
  int rc = o && aud && k ? 0 : -ENOMEM;

  for (i = 0; rc == 0 && i < c->n_audiences; i++)
    rc = kj_append(aud, kj_string(c->audiences[i]));
  snprintf(sub, sizeof sub, "system:serviceaccount:%s:%s", c->namespace_,
           c->sa.name);
  if (rc == 0) {
    rc = kj_set(o, "aud", aud);
    aud = NULL;
  }
  if (rc == 0)
    rc = kj_set_int(o, "exp", c->now + c->expiration);
  if (rc == 0)
    rc = kj_set_int(o, "iat", c->now);
  if (rc == 0)
    rc = kj_set_str(o, "iss", s->issuer);
  if (rc == 0 && c->jti && *c->jti)
    rc = kj_set_str(o, "jti", c->jti);
  if (rc == 0) {
    rc = kj_set(o, "kubernetes.io", k);
    k = NULL;
  }
  if (rc == 0)
    rc = kj_set_int(o, "nbf", c->now);
  if (rc == 0)
    rc = kj_set_str(o, "sub", sub);
  kj_free(aud);
  kj_free(k);
  if (rc < 0) {
    kj_free(o);
    return NULL;
  }
  return o;
}

/* ---- signing ------------------------------------------------------------- */

/* OpenSSL's DER ECDSA signature as JWS's R||S, each left-padded to the
 * curve size.  Writes 2 * size bytes into out. */
static int ec_der_to_raw(const unsigned char *der, size_t len, size_t size,
                         unsigned char *out)
{
  const unsigned char *p = der;
  ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
  const BIGNUM *r, *s;
  int ok;

  if (!sig)
    return -EINVAL;
  ECDSA_SIG_get0(sig, &r, &s);
  ok = BN_bn2binpad(r, out, (int)size) == (int)size &&
       BN_bn2binpad(s, out + size, (int)size) == (int)size;
  ECDSA_SIG_free(sig);
  return ok ? 0 : -EINVAL;
}

/* Signs `input` and returns the base64url signature (newly allocated). */
static char *sign_b64(const kapi_sa_signer *s, const char *input)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  unsigned char *sig = NULL, raw[2 * 66];
  size_t len = 0;
  char *out = NULL;

  if (!ctx)
    return NULL;
  if (EVP_DigestSignInit(ctx, NULL, s->md, NULL, s->key) != 1 ||
      EVP_DigestSign(ctx, NULL, &len, (const unsigned char *)input,
                     strlen(input)) != 1 ||
      !(sig = malloc(len)) ||
      EVP_DigestSign(ctx, sig, &len, (const unsigned char *)input,
                     strlen(input)) != 1)
    goto out;
  if (!s->ec_size)
    out = b64url(sig, len);
  else if (ec_der_to_raw(sig, len, s->ec_size, raw) == 0)
    out = b64url(raw, 2 * s->ec_size);
out:
  ERR_clear_error();
  free(sig);
  EVP_MD_CTX_free(ctx);
  return out;
}

/* base64url of an object's compact JSON text. */
static char *json_b64(const kj *obj)
{
  size_t len = 0;
  char *text = obj ? kj_dump(obj, &len) : NULL, *out;

  if (!text)
    return NULL;
  out = b64url((const unsigned char *)text, len);
  free(text);
  return out;
}

static kj *header_json(const kapi_sa_signer *s)
{
  kj *h = kj_object();

  if (h && kj_set_str(h, "alg", s->alg) == 0 &&
      kj_set_str(h, "kid", s->kid) == 0)
    return h;
  kj_free(h);
  return NULL;
}

/* "a.b", newly allocated; NULL if out of memory. */
static char *join_dot(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b);
  char *out = malloc(la + lb + 2);

  if (out) {
    memcpy(out, a, la);
    out[la] = '.';
    memcpy(out + la + 1, b, lb + 1);
  }
  return out;
}

char *kapi_sa_token_sign(const kapi_sa_signer *s, const kapi_sa_claims *c)
{
  kj *header = header_json(s), *claims = kapi_sa_claims_json(s, c);
  char *h = json_b64(header), *p = json_b64(claims);
  char *input = h && p ? join_dot(h, p) : NULL;
  char *sig = input ? sign_b64(s, input) : NULL;
  char *token = sig ? join_dot(input, sig) : NULL;

  kj_free(header);
  kj_free(claims);
  free(h);
  free(p);
  free(input);
  free(sig);
  return token;
}

/* ---- kapi-apiserver's flags ------------------------------------------------ */

int kapi_sa_flag_append(const char **values, size_t *n, const char *value)
{
  if (*n == KAPI_SA_MAX_FLAG_VALUES)
    return -E2BIG;
  values[(*n)++] = value;
  return 0;
}

/* A Go duration ("1h", "90m", "1h30m", "3600s", "2.5h") in whole seconds
 * (time.ParseDuration, truncated).  On error returns -EINVAL with Go's
 * reason in why ("time: missing unit in duration \"10\""). */
static int parse_go_duration(const char *text, int64_t *seconds, char *why,
                             size_t len)
{
  static const struct {
    const char *unit;
    double seconds;
  } units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"\xc2\xb5s", 1e-6},
               {"ms", 1e-3}, {"s", 1},     {"m", 60},
               {"h", 3600}};
  const char *s = text;
  double total = 0;
  int neg = 0;

  if (*s == '-' || *s == '+')
    neg = *s++ == '-';
  if (!strcmp(s, "0")) {
    *seconds = 0;
    return 0;
  }
  if (!*s)
    goto invalid;
  while (*s) {
    size_t ulen, i, best = 0, best_len = 0, ndigits = 0;
    const char *end = s;
    double v = 0, scale = 1;
    int dot = 0;

    /* [0-9]*(\.[0-9]*)? with at least one digit, as Go reads it. */
    for (; (*end >= '0' && *end <= '9') || (*end == '.' && !dot); end++) {
      if (*end == '.') {
        dot = 1;
        continue;
      }
      ndigits++;
      if (dot)
        v += (*end - '0') * (scale /= 10);
      else
        v = v * 10 + (*end - '0');
    }
    if (!ndigits)
      goto invalid;
    ulen = strspn(end, "abcdefghijklmnopqrstuvwxyz\xc2\xb5");
    for (i = 0; i < sizeof units / sizeof *units; i++)
      if (strlen(units[i].unit) == ulen && !strncmp(end, units[i].unit, ulen)) {
        best = i;
        best_len = ulen;
      }
    if (!ulen) {
      snprintf(why, len, "time: missing unit in duration \"%s\"", text);
      return -EINVAL;
    }
    if (!best_len) {
      snprintf(why, len, "time: unknown unit \"%.*s\" in duration \"%s\"",
               (int)ulen, end, text);
      return -EINVAL;
    }
    total += v * units[best].seconds;
    s = end + best_len;
  }
  *seconds = (int64_t)(neg ? -total : total);
  return 0;
invalid:
  snprintf(why, len, "time: invalid duration \"%s\"", text);
  return -EINVAL;
}

/* A JSON array of the strings. */
static kj *string_array(const char *const *v, size_t n)
{
  kj *a = kj_array();
  size_t i;

  for (i = 0; a && i < n; i++)
    if (kj_append(a, kj_string(v[i])) < 0) {
      kj_free(a);
      return NULL;
    }
  return a;
}

/* The --api-audiences values, split on commas as a string slice flag,
 * into a newly allocated vector (each string newly allocated too). */
static int split_audiences(const kapi_sa_flags *f, char ***ret, size_t *n)
{
  char **v = NULL;
  size_t i, cap = 0;

  *n = 0;
  for (i = 0; i < f->n_audiences; i++) {
    const char *p = f->audiences[i];
    while (*p) {
      size_t len = strcspn(p, ",");
      if (len) {
        if (*n == cap) {
          char **nv = realloc(v, (cap = cap ? 2 * cap : 4) * sizeof *v);
          if (!nv)
            goto nomem;
          v = nv;
        }
        if (!(v[*n] = strndup(p, len)))
          goto nomem;
        (*n)++;
      }
      p += len + (p[len] == ',');
    }
  }
  *ret = v;
  return 0;
nomem:
  for (i = 0; i < *n; i++)
    free(v[i]);
  free(v);
  *n = 0;
  return -ENOMEM;
}

static void free_strings(char **v, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

static int check_flags(const kapi_sa_flags *f, int64_t *max_expiration,
                       char *err, size_t errlen)
{
  char why[256];
  size_t i, j;

  for (i = 0; i < f->n_issuers; i++)
    for (j = 0; j < i; j++)
      if (!strcmp(f->issuers[i], f->issuers[j])) {
        set_err(err, errlen, "service-account-issuer %s is already "
                "specified", f->issuers[i]);
        return -EINVAL;
      }
  *max_expiration = 0;
  if (!f->max_expiration)
    return 0;
  if (parse_go_duration(f->max_expiration, max_expiration, why,
                        sizeof why) < 0) {
    set_err(err, errlen, "invalid argument \"%s\" for "
            "\"--service-account-max-token-expiration\" flag: %s",
            f->max_expiration, why);
    return -EINVAL;
  }
  if (*max_expiration &&
      (*max_expiration < 3600 || *max_expiration > ((int64_t)1 << 32))) {
    set_err(err, errlen, "the service-account-max-token-expiration must be "
            "between 1 hour and 2^32 seconds");
    return -EINVAL;
  }
  return 0;
}

/* cfg.plugins["service-account-authn"] = {keyFiles, issuers, audiences}. */
static int authn_config(kj *cfg, const kapi_sa_flags *f,
                        const char *const *issuers, size_t n_issuers,
                        char *const *auds, size_t n_auds)
{
  kj *plugins = kj_child_object(cfg, "plugins");
  kj *sa = plugins ? kj_child_object(plugins, "service-account-authn") : NULL;
  const char *signing[1] = {f->signing_key_file};
  kj *keys = f->n_key_files ? string_array(f->key_files, f->n_key_files)
                            : string_array(signing, 1);

  if (!sa || !keys || kj_set(sa, "keyFiles", keys) < 0)
    return -ENOMEM;
  if (kj_set(sa, "issuers", string_array(issuers, n_issuers)) < 0 ||
      kj_set(sa, "audiences",
             string_array((const char *const *)auds, n_auds)) < 0)
    return -ENOMEM;
  return 0;
}

int kapi_sa_configure(const kapi_sa_flags *f, kj *cfg,
                      kapi_sa_signer **signer, char *err, size_t errlen)
{
  static const char *const default_issuer[] = {KAPI_SA_DEFAULT_ISSUER};
  const char *const *issuers = f->n_issuers ? f->issuers : default_issuer;
  size_t n_issuers = f->n_issuers ? f->n_issuers : 1, n_auds = 0;
  char **auds = NULL;
  int64_t max = 0;
  int rc;

  *signer = NULL;
  if ((rc = check_flags(f, &max, err, errlen)) < 0)
    return rc;
  if (!f->signing_key_file && !f->n_key_files)
    return 0; /* no service account tokens at all */
  if (split_audiences(f, &auds, &n_auds) < 0) {
    set_err(err, errlen, "%s", strerror(ENOMEM));
    return -ENOMEM;
  }
  /* --api-audiences defaults to the first issuer, as upstream. */
  if (!n_auds && (!(auds = calloc(1, sizeof *auds)) ||
                  !(auds[n_auds++] = strdup(issuers[0])))) {
    free_strings(auds, n_auds);
    set_err(err, errlen, "%s", strerror(ENOMEM));
    return -ENOMEM;
  }
  rc = authn_config(cfg, f, issuers, n_issuers, auds, n_auds);
  if (rc < 0)
    set_err(err, errlen, "%s", strerror(-rc));
  if (rc == 0 && f->signing_key_file) {
    kapi_sa_signer_options o = {
        .key_file = f->signing_key_file,
        .issuer = issuers[0],
        .audiences = (const char *const *)auds,
        .n_audiences = n_auds,
        .max_expiration = max,
        .extend_expiration = 1,
    };
    rc = kapi_sa_signer_new(&o, signer, err, errlen);
  }
  free_strings(auds, n_auds);
  return rc;
}
