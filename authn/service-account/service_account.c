/*
 * service_account.c - the service account token authenticator.
 *
 * Upstream: pkg/serviceaccount/jwt.go (JWTTokenAuthenticator), claims.go
 * (the bound-token validator), legacy.go (the secret-based validator)
 * and staging/src/k8s.io/apiserver/pkg/authentication/serviceaccount
 * (the user a token stands for).
 *
 * A bearer token is ours when it is a compact JWS whose (unverified)
 * "iss" is one of the configured issuers, or the legacy issuer
 * "kubernetes/serviceaccount"; anything else gets no opinion, so the
 * other authenticators may try.  One of ours must then verify (RS256/
 * 384/512 or ES256/384/512 with a configured key; the "kid" header picks
 * the keys), carry an audience the API server accepts, be within its
 * validity period (a minute of leeway), and name objects that still
 * exist with the same uid: the service account, and the pod, secret or
 * node it is bound to.  A token that fails any of this is an error (401).
 *
 * Configuration (kapi-apiserver builds it from --service-account-key-
 * file, --service-account-issuer and --api-audiences):
 *   {"keyFiles": [PEM files], "issuers": [...], "audiences": [...]}
 * Without key files the plugin registers nothing.
 *
 * The token's header and claims are parsed by the host (obj_set_json)
 * into scratch members of the `user` object being built, and removed
 * before returning; the configuration is parsed by the host too
 * (obj_parse).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "kapi/plugin.h"

#define LEGACY_ISSUER "kubernetes/serviceaccount"
#define LEEWAY_S 60 /* go-jose's jwt.DefaultLeeway */
#define MAX_TOKEN 16384

/* Where the host parses the token for us, inside `user`. */
#define SCRATCH_HEADER "/kapiJwtHeader"
#define SCRATCH_CLAIMS "/kapiJwtClaims"

static const kapi_host_api *api;
static kapi_plugin *plugin;

typedef struct sa_key {
  EVP_PKEY *key;
  char kid[64]; /* base64url(sha256(DER public key)) */
} sa_key;

typedef struct strv {
  char **v;
  size_t n;
} strv;

typedef struct sa_config {
  sa_key *keys;
  size_t n_keys;
  strv issuers;
  strv audiences; /* the API server's (implicit) audiences */
} sa_config;

static sa_config *config; /* owned; freed by fini */

/* ------------------------------------------------------------------ */
/* Small helpers.                                                      */
/* ------------------------------------------------------------------ */

static int streq(const char *a, const char *b)
{
  return a && b && !strcmp(a, b);
}

static int strv_has(const strv *s, const char *value)
{
  size_t i;

  for (i = 0; value && i < s->n; i++)
    if (!strcmp(s->v[i], value))
      return 1;
  return 0;
}

static int strv_push(strv *s, const char *value)
{
  char **v = realloc(s->v, (s->n + 1) * sizeof *v);

  if (!v)
    return -ENOMEM;
  s->v = v;
  if (!(s->v[s->n] = strdup(value)))
    return -ENOMEM;
  s->n++;
  return 0;
}

static void strv_free(strv *s)
{
  size_t i;

  for (i = 0; i < s->n; i++)
    free(s->v[i]);
  free(s->v);
  s->v = NULL;
  s->n = 0;
}

/* The 6-bit value of a base64 character in the URL-safe (url != 0) or
 * standard alphabet, -1 if it is not one. */
static int b64_value(unsigned char c, int url)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == (url ? '-' : '+'))
    return 62;
  if (c == (url ? '_' : '/'))
    return 63;
  return -1;
}

/*
 * Decodes base64: RawURLEncoding (url != 0: no padding allowed) or
 * StdEncoding (padding required).  Returns a new NUL-terminated buffer
 * and its length in *len, or NULL when malformed.
 */
static unsigned char *b64_decode(const char *s, size_t n, int url,
                                 size_t *len)
{
  unsigned char *out = malloc(n / 4 * 3 + 4);
  unsigned acc = 0;
  size_t i, bits = 0, pad = 0;

  if (!out)
    return NULL;
  *len = 0;
  if (!url) {
    if (n % 4)
      goto bad;
    while (pad < 2 && n > 0 && s[n - 1] == '=')
      n--, pad++;
  }
  for (i = 0; i < n; i++) {
    int v = b64_value((unsigned char)s[i], url);
    if (v < 0)
      goto bad;
    acc = (acc << 6) | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[(*len)++] = (unsigned char)(acc >> bits);
      acc &= (1u << bits) - 1;
    }
  }
  /* A lone trailing character (6 bits) never encodes a byte; leftover
   * bits must be zero, as Go's strict decoders check. */
  if (bits >= 6 || acc)
    goto bad;
  out[*len] = '\0';
  return out;
bad:
  free(out);
  return NULL;
}

static char *b64url_encode(const unsigned char *data, size_t n)
{
  char *out = malloc(4 * ((n + 2) / 3) + 1);
  size_t i, len;

  if (!out)
    return NULL;
  len = (size_t)EVP_EncodeBlock((unsigned char *)out, data, (int)n);
  while (len && out[len - 1] == '=')
    len--;
  out[len] = '\0';
  for (i = 0; i < len; i++)
    out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
  return out;
}

/* RFC 3339 ("2026-11-27T12:00:00Z", fractions and offsets allowed) to
 * Unix seconds; -EINVAL when malformed. */
static int parse_rfc3339(const char *s, int64_t *ret)
{
  struct tm tm;
  const char *p;
  int off_h = 0, off_m = 0, sign = 0;

  memset(&tm, 0, sizeof tm);
  if (!s || !(p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
    return -EINVAL;
  if (*p == '.')
    for (p++; *p >= '0' && *p <= '9'; p++)
      ;
  if (*p == 'Z' || *p == 'z') {
    p++;
  } else if ((*p == '+' || *p == '-') &&
             sscanf(p + 1, "%2d:%2d", &off_h, &off_m) == 2) {
    sign = *p == '-' ? -1 : 1;
    p += 6;
  } else {
    return -EINVAL;
  }
  if (*p)
    return -EINVAL;
  *ret = (int64_t)timegm(&tm) - sign * (off_h * 3600 + off_m * 60);
  return 0;
}

/* ------------------------------------------------------------------ */
/* Configuration: {"keyFiles": [...], "issuers": [...],                */
/* "audiences": [...]}, parsed by the host (obj_parse).                */
/* ------------------------------------------------------------------ */

/* config[ptr]: absent or null adds nothing; else it must be an array
 * of strings, appended to out.  Other members are ignored. */
static int read_string_array(const kapi_obj *cfg, const char *ptr, strv *out)
{
  const kapi_obj *v = api->obj_lookup(cfg, ptr);
  size_t i;
  int rc;

  if (!v || api->obj_type(v) == KAPI_OBJ_NULL)
    return 0;
  if (api->obj_type(v) != KAPI_OBJ_ARRAY)
    return -EINVAL;
  for (i = 0; i < api->obj_len(v); i++) {
    const kapi_obj *item = api->obj_index(v, i);

    if (api->obj_type(item) != KAPI_OBJ_STRING)
      return -EINVAL;
    if ((rc = strv_push(out, api->obj_get(item, ""))) < 0)
      return rc;
  }
  return 0;
}

/* No text (or JSON null) is no configuration; anything but an object
 * is invalid.  The caller reports errors, so the parser's own message
 * (e NULL) is not wanted. */
static int parse_config(const char *json, size_t len, strv *key_files,
                        strv *issuers, strv *audiences)
{
  kapi_obj *cfg = NULL;
  int rc;

  if (!json || !len)
    return 0;
  if (api->obj_parse(json, len, &cfg, NULL) < 0)
    return -EINVAL;
  switch (api->obj_type(cfg)) {
  case KAPI_OBJ_NULL:
    rc = 0;
    break;
  case KAPI_OBJ_OBJECT:
    rc = read_string_array(cfg, "/keyFiles", key_files);
    if (rc == 0)
      rc = read_string_array(cfg, "/issuers", issuers);
    if (rc == 0)
      rc = read_string_array(cfg, "/audiences", audiences);
    break;
  default:
    rc = -EINVAL;
    break;
  }
  api->obj_free(cfg);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Keys.                                                               */
/* ------------------------------------------------------------------ */

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
  if (!(text = b64url_encode(digest, dlen)))
    return -ENOMEM;
  snprintf(out, len, "%s", text);
  free(text);
  return 0;
}

/* The key of one PEM block, or NULL for blocks that hold none (upstream
 * tolerates other blocks).  Public keys, certificates and private keys
 * (whose public half is used) are accepted, as keyutil.PublicKeysFromFile. */
static EVP_PKEY *block_key(const char *name, const unsigned char *data,
                           long len)
{
  const unsigned char *p = data;

  if (!strcmp(name, "PUBLIC KEY"))
    return d2i_PUBKEY(NULL, &p, len);
  if (!strcmp(name, "RSA PUBLIC KEY"))
    return d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, len);
  if (!strcmp(name, "CERTIFICATE")) {
    X509 *cert = d2i_X509(NULL, &p, len);
    EVP_PKEY *key = cert ? X509_get_pubkey(cert) : NULL;
    X509_free(cert);
    return key;
  }
  if (!strcmp(name, "RSA PRIVATE KEY"))
    return d2i_PrivateKey(EVP_PKEY_RSA, NULL, &p, len);
  if (!strcmp(name, "EC PRIVATE KEY"))
    return d2i_PrivateKey(EVP_PKEY_EC, NULL, &p, len);
  if (!strcmp(name, "PRIVATE KEY"))
    return d2i_AutoPrivateKey(NULL, &p, len);
  return NULL;
}

static int add_key(sa_config *c, EVP_PKEY *key)
{
  sa_key *v;
  int type = EVP_PKEY_get_base_id(key);

  if (type != EVP_PKEY_RSA && type != EVP_PKEY_EC) {
    EVP_PKEY_free(key);
    return 0;
  }
  v = realloc(c->keys, (c->n_keys + 1) * sizeof *v);
  if (!v) {
    EVP_PKEY_free(key);
    return -ENOMEM;
  }
  c->keys = v;
  v = &c->keys[c->n_keys];
  v->key = key;
  if (key_id(key, v->kid, sizeof v->kid) < 0) {
    EVP_PKEY_free(key);
    return -EINVAL;
  }
  c->n_keys++;
  return 0;
}

static int load_key_file(sa_config *c, const char *path, kapi_error *e)
{
  BIO *bio = BIO_new_file(path, "r");
  size_t before = c->n_keys;
  int rc = 0;

  if (!bio) {
    api->error_set(e, 500, "InternalError",
                   "failed to read service account key file %s: %s", path,
                   strerror(errno ? errno : ENOENT));
    return -ENOENT;
  }
  for (;;) {
    char *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long len = 0;
    EVP_PKEY *key;

    if (!PEM_read_bio(bio, &name, &header, &data, &len))
      break; /* end of file (or garbage after the last block) */
    key = block_key(name, data, len);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    if (key && (rc = add_key(c, key)) < 0)
      break;
  }
  ERR_clear_error();
  BIO_free(bio);
  if (rc == 0 && c->n_keys == before) {
    api->error_set(e, 500, "InternalError",
                   "error reading public key file %s: data does not "
                   "contain any valid RSA or ECDSA public keys", path);
    rc = -EINVAL;
  }
  return rc;
}

static void config_free(sa_config *c)
{
  size_t i;

  if (!c)
    return;
  for (i = 0; i < c->n_keys; i++)
    EVP_PKEY_free(c->keys[i].key);
  free(c->keys);
  strv_free(&c->issuers);
  strv_free(&c->audiences);
  free(c);
}

/* ------------------------------------------------------------------ */
/* The token.                                                          */
/* ------------------------------------------------------------------ */

/* The token of "Authorization: Bearer X" (upstream's bearertoken),
 * copied into buf; NULL when absent or not a bearer token. */
static const char *bearer_token(const kapi_req *r, char *buf, size_t size)
{
  const char *h = api->req_header(r, "Authorization"), *tok;
  size_t len;

  if (!h)
    return NULL;
  while (*h == ' ' || *h == '\t')
    h++;
  if (strncasecmp(h, "bearer ", 7))
    return NULL;
  tok = h + 7;
  len = strlen(tok);
  while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
    len--;
  if (!len || len >= size || memchr(tok, ' ', len))
    return NULL;
  memcpy(buf, tok, len);
  buf[len] = '\0';
  return buf;
}

/* A compact JWS split in its three parts (pointers into the token). */
typedef struct jws {
  const char *header, *payload, *sig;
  size_t header_len, payload_len, sig_len;
} jws;

static int split_jws(const char *token, jws *j)
{
  const char *d1 = strchr(token, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;

  if (!d2 || strchr(d2 + 1, '.'))
    return -EINVAL;
  j->header = token;
  j->header_len = (size_t)(d1 - token);
  j->payload = d1 + 1;
  j->payload_len = (size_t)(d2 - d1 - 1);
  j->sig = d2 + 1;
  j->sig_len = strlen(d2 + 1);
  return 0;
}

/* Decodes a base64url JSON part into user[ptr] (host-parsed). */
static int decode_part(kapi_obj *user, const char *ptr, const char *b64,
                       size_t len)
{
  size_t n;
  unsigned char *text = b64_decode(b64, len, 1, &n);
  int rc;

  if (!text)
    return -EINVAL;
  rc = strlen((char *)text) == n ? api->obj_set_json(user, ptr, (char *)text)
                                 : -EINVAL;
  free(text);
  if (rc == 0 && api->obj_type(api->obj_lookup(user, ptr)) != KAPI_OBJ_OBJECT)
    rc = -EINVAL;
  return rc;
}

typedef struct jws_alg {
  const char *name;
  int key_type;
  const EVP_MD *(*md)(void);
  const char *curve; /* the curve an ES algorithm needs; NULL for RSA */
  size_t ec_size;    /* bytes of R and of S */
} jws_alg;

static const jws_alg algs[] = {
    {"RS256", EVP_PKEY_RSA, EVP_sha256, NULL, 0},
    {"RS384", EVP_PKEY_RSA, EVP_sha384, NULL, 0},
    {"RS512", EVP_PKEY_RSA, EVP_sha512, NULL, 0},
    {"ES256", EVP_PKEY_EC, EVP_sha256, "prime256v1", 32},
    {"ES384", EVP_PKEY_EC, EVP_sha384, "secp384r1", 48},
    {"ES512", EVP_PKEY_EC, EVP_sha512, "secp521r1", 66},
};

/* The key is of the algorithm's type (and curve). */
static int key_fits(const sa_key *k, const jws_alg *alg)
{
  char group[64] = "";

  if (EVP_PKEY_get_base_id(k->key) != alg->key_type)
    return 0;
  if (!alg->curve)
    return 1;
  EVP_PKEY_get_group_name(k->key, group, sizeof group, NULL);
  return !strcmp(group, alg->curve);
}

static const jws_alg *find_alg(const char *name)
{
  size_t i;

  for (i = 0; name && i < sizeof algs / sizeof *algs; i++)
    if (!strcmp(algs[i].name, name))
      return &algs[i];
  return NULL;
}

/* JWS's R||S as the DER ECDSA-Sig-Value OpenSSL verifies; newly
 * allocated in *der (OPENSSL_free), its length returned, <0 on error. */
static int ec_raw_to_der(const unsigned char *raw, size_t size,
                         unsigned char **der)
{
  ECDSA_SIG *sig = ECDSA_SIG_new();
  BIGNUM *r = BN_bin2bn(raw, (int)size, NULL);
  BIGNUM *s = BN_bin2bn(raw + size, (int)size, NULL);
  int len = -1;

  *der = NULL;
  if (sig && r && s && ECDSA_SIG_set0(sig, r, s)) {
    r = s = NULL; /* owned by sig now */
    len = i2d_ECDSA_SIG(sig, der);
  }
  BN_free(r);
  BN_free(s);
  ECDSA_SIG_free(sig);
  return len;
}

/* 0 when the signature over "header.payload" verifies with the key. */
static int verify_with(const sa_key *k, const jws_alg *alg, const jws *j,
                       const unsigned char *sig, size_t sig_len)
{
  EVP_MD_CTX *ctx;
  unsigned char *der = NULL;
  const unsigned char *s = sig;
  size_t input_len = j->header_len + 1 + j->payload_len;
  int ok = 0, der_len;

  if (!key_fits(k, alg))
    return -EINVAL;
  if (alg->ec_size) {
    if (sig_len != 2 * alg->ec_size ||
        (der_len = ec_raw_to_der(sig, alg->ec_size, &der)) < 0)
      return -EINVAL;
    s = der;
    sig_len = (size_t)der_len;
  }
  if ((ctx = EVP_MD_CTX_new()) &&
      EVP_DigestVerifyInit(ctx, NULL, alg->md(), NULL, k->key) == 1)
    ok = EVP_DigestVerify(ctx, s, sig_len, (const unsigned char *)j->header,
                          input_len) == 1;
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  ERR_clear_error();
  return ok ? 0 : -EINVAL;
}

/* ------------------------------------------------------------------ */
/* Errors: the authenticator's message, logged by the host (401).      */
/* ------------------------------------------------------------------ */

static int fail(kapi_error *e, const char *fmt, ...) KAPI_PRINTF(2, 3);
static int fail(kapi_error *e, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  api->error_set(e, 401, "Unauthorized", "%s", msg);
  return -EACCES;
}

/* Picks the keys by "kid" (all of them without one) and verifies. */
static int verify_signature(const sa_config *c, const kapi_obj *user,
                            const jws *j, kapi_error *e)
{
  const char *kid = api->obj_get(user, SCRATCH_HEADER "/kid");
  const char *name = api->obj_get(user, SCRATCH_HEADER "/alg");
  const jws_alg *alg = find_alg(name);
  unsigned char *sig;
  size_t i, sig_len, tried = 0;
  int rc = -EINVAL;

  for (i = 0; i < c->n_keys; i++)
    tried += !kid || !*kid || !strcmp(kid, c->keys[i].kid);
  if (!tried)
    return fail(e, "invalid signature, no keys found");
  if (!alg)
    return fail(e, "go-jose/go-jose: unexpected signature algorithm \"%s\"",
                name ? name : "");
  if (!(sig = b64_decode(j->sig, j->sig_len, 1, &sig_len)))
    return fail(e, "go-jose/go-jose: compact JWS format must have three "
                   "parts");
  for (i = 0; rc < 0 && i < c->n_keys; i++)
    if (!kid || !*kid || !strcmp(kid, c->keys[i].kid))
      rc = verify_with(&c->keys[i], alg, j, sig, sig_len);
  free(sig);
  if (rc < 0)
    return fail(e, "go-jose/go-jose: error in cryptographic primitive");
  return 0;
}

/* A NumericDate claim: 1 and *t when present, 0 when absent, <0 when
 * not a number. */
static int numeric_date(const kapi_obj *user, const char *claim, int64_t *t)
{
  char ptr[64];
  const kapi_obj *v;
  char *end;
  double d;

  snprintf(ptr, sizeof ptr, SCRATCH_CLAIMS "/%s", claim);
  v = api->obj_lookup(user, ptr);
  if (!v || api->obj_type(v) == KAPI_OBJ_NULL)
    return 0;
  if (api->obj_type(v) != KAPI_OBJ_NUMBER)
    return -EINVAL;
  d = strtod(api->obj_get(v, ""), &end);
  *t = (int64_t)d;
  return 1;
}

/* jwt.Claims.Validate with a minute of leeway, and upstream's texts. */
static int check_times(const kapi_obj *user, int64_t now, kapi_error *e)
{
  int64_t nbf = 0, exp = 0, iat = 0;
  int has_nbf = numeric_date(user, "nbf", &nbf);
  int has_exp = numeric_date(user, "exp", &exp);
  int has_iat = numeric_date(user, "iat", &iat);

  if (has_nbf < 0 || has_exp < 0 || has_iat < 0)
    return fail(e, "go-jose/go-jose: invalid claims");
  if (has_nbf && now + LEEWAY_S < nbf)
    return fail(e, "service account token is not valid yet");
  if (has_exp && now - LEEWAY_S > exp)
    return fail(e, "service account token has expired");
  if (has_iat && now + LEEWAY_S < iat)
    return fail(e, "service account token is issued in the future");
  return 0;
}

/* Appends `"a" "b"` (Go's %q of a []string, without the brackets). */
static void quote_list(char *buf, size_t len, const char *const *v, size_t n)
{
  size_t i, used = 0;

  buf[0] = '\0';
  for (i = 0; i < n && used < len; i++)
    used += (size_t)snprintf(buf + used, len - used, "%s\"%s\"",
                             i ? " " : "", v[i]);
}

/* The token's audiences ("aud": a string or a list) intersect the API
 * server's; a token without any is meant for the API server. */
static int check_audiences(const sa_config *c, const kapi_obj *user,
                           kapi_error *e)
{
  const kapi_obj *aud = api->obj_lookup(user, SCRATCH_CLAIMS "/aud");
  const char *list[32];
  char have[1024], want[1024];
  size_t i, n = 0;

  if (api->obj_type(aud) == KAPI_OBJ_STRING) {
    list[n++] = api->obj_get(aud, "");
  } else if (api->obj_type(aud) == KAPI_OBJ_ARRAY) {
    for (i = 0; i < api->obj_len(aud) && n < 32; i++) {
      const kapi_obj *a = api->obj_index(aud, i);
      if (api->obj_type(a) != KAPI_OBJ_STRING)
        return fail(e, "go-jose/go-jose: invalid claims");
      list[n++] = api->obj_get(a, "");
    }
  } else if (aud && api->obj_type(aud) != KAPI_OBJ_NULL) {
    return fail(e, "go-jose/go-jose: invalid claims");
  }
  if (!n || !c->audiences.n)
    return 0; /* implicit audiences: the server's own */
  for (i = 0; i < n; i++)
    if (strv_has(&c->audiences, list[i]))
      return 0;
  quote_list(have, sizeof have, list, n);
  quote_list(want, sizeof want, (const char *const *)c->audiences.v,
             c->audiences.n);
  return fail(e, "token audiences [%s] is invalid for the target audiences "
                 "[%s]", have, want);
}

/* ------------------------------------------------------------------ */
/* Validation: the objects a token names must still be there.          */
/* ------------------------------------------------------------------ */

/* What a validator found: the user's fields (borrowed from `user`). */
typedef struct sa_info {
  const char *ns, *name, *uid;
  const char *pod_name, *pod_uid, *node_name, *node_uid, *jti;
} sa_info;

static const char *claim(const kapi_obj *user, const char *ptr)
{
  char full[256];
  const kapi_obj *v;

  snprintf(full, sizeof full, SCRATCH_CLAIMS "%s", ptr);
  v = api->obj_lookup(user, full);
  return api->obj_type(v) == KAPI_OBJ_STRING ? api->obj_get(v, "") : NULL;
}

static int nonempty(const char *s)
{
  return s && *s;
}

/* Deleted before now minus the leeway (invalidIfDeletedBefore). */
static int deleted_long_ago(const kapi_obj *obj, int64_t now)
{
  int64_t t;
  const char *ts = api->obj_get(obj, "/metadata/deletionTimestamp");

  return ts && parse_rfc3339(ts, &t) == 0 && t < now - LEEWAY_S;
}

/* A bound object: it exists, has the claimed uid and is not long
 * deleted.  `what` is "pod", "secret" or "node". */
static int check_bound(const char *resource, const char *what,
                       const char *ns, const char *name, const char *uid,
                       int64_t now, kapi_error *e)
{
  kapi_obj *obj = NULL;
  const char *have;
  int rc = api->store_get("", resource, ns, name ? name : "", &obj);

  if (rc < 0)
    return fail(e, "service account token has been invalidated");
  have = api->obj_get(obj, "/metadata/uid");
  if (!streq(have, uid ? uid : "")) {
    rc = fail(e, "%s UID (%s) does not match service account %s ref claim "
                 "(%s)", what, have ? have : "", what, uid ? uid : "");
  } else if (deleted_long_ago(obj, now)) {
    rc = fail(e, "service account token has been invalidated");
  }
  api->obj_free(obj);
  return rc;
}

/* claims.go's validator.Validate (the service account lookup on). */
static int validate_bound(const kapi_obj *user, int64_t now, sa_info *info,
                          kapi_error *e)
{
  kapi_obj *sa = NULL;
  const char *have;
  int rc;

  info->ns = claim(user, "/kubernetes.io/namespace");
  info->name = claim(user, "/kubernetes.io/serviceaccount/name");
  info->uid = claim(user, "/kubernetes.io/serviceaccount/uid");
  if (!info->ns)
    info->ns = "";
  if (!info->name)
    info->name = "";
  if (!info->uid)
    info->uid = "";
  rc = api->store_get("", "serviceaccounts", info->ns, info->name, &sa);
  if (rc == -ENOENT)
    return fail(e, "serviceaccounts \"%s\" not found", info->name);
  if (rc < 0)
    return fail(e, "%s", strerror(-rc));
  have = api->obj_get(sa, "/metadata/uid");
  if (!streq(have, info->uid))
    rc = fail(e, "service account UID (%s) does not match claim (%s)",
              have ? have : "", info->uid);
  else if (deleted_long_ago(sa, now))
    rc = fail(e, "service account %s/%s has been deleted", info->ns,
              info->name);
  api->obj_free(sa);
  if (rc < 0)
    return rc;

  if (api->obj_lookup(user, SCRATCH_CLAIMS "/kubernetes.io/secret") &&
      (rc = check_bound("secrets", "secret", info->ns,
                        claim(user, "/kubernetes.io/secret/name"),
                        claim(user, "/kubernetes.io/secret/uid"), now, e)) < 0)
    return rc;
  if (api->obj_lookup(user, SCRATCH_CLAIMS "/kubernetes.io/pod")) {
    info->pod_name = claim(user, "/kubernetes.io/pod/name");
    info->pod_uid = claim(user, "/kubernetes.io/pod/uid");
    if ((rc = check_bound("pods", "pod", info->ns, info->pod_name,
                          info->pod_uid, now, e)) < 0)
      return rc;
  }
  if (api->obj_lookup(user, SCRATCH_CLAIMS "/kubernetes.io/node")) {
    info->node_name = claim(user, "/kubernetes.io/node/name");
    info->node_uid = claim(user, "/kubernetes.io/node/uid");
    /* A pod-bound token only reports its node; a node-bound one needs
     * the node to be there. */
    if (!info->pod_name &&
        (rc = check_bound("nodes", "node", NULL, info->node_name,
                          info->node_uid, now, e)) < 0)
      return rc;
  }
  info->jti = claim(user, "/jti");
  return 0;
}

/* The secret's data.token, base64-decoded, equals the token. */
static int secret_holds(const kapi_obj *secret, const char *token)
{
  const char *b64 = api->obj_get(secret, "/data/token");
  unsigned char *data;
  size_t len;
  int same;

  if (!b64 || !(data = b64_decode(b64, strlen(b64), 0, &len)))
    return 0;
  same = len == strlen(token) && !memcmp(data, token, len);
  free(data);
  return same;
}

#define LEGACY "/kubernetes.io~1serviceaccount~1"
#define INVALID_SINCE_LABEL "kubernetes.io/legacy-token-invalid-since"
/* kubernetes.io/legacy-token-last-used in a JSON pointer. */
#define LAST_USED_LABEL_PTR "kubernetes.io~1legacy-token-last-used"

/* SplitUsername: "system:serviceaccount:NS:NAME" names ns/name. */
static int subject_is(const char *sub, const char *ns, const char *name)
{
  static const char prefix[] = "system:serviceaccount:";
  size_t nl = strlen(ns);

  return sub && !strncmp(sub, prefix, sizeof prefix - 1) &&
         !strncmp(sub + sizeof prefix - 1, ns, nl) &&
         sub[sizeof prefix - 1 + nl] == ':' &&
         !strcmp(sub + sizeof prefix + nl, name) && !strchr(name, ':');
}

/* patchSecretWithLastUsedDate: the secret's last-used label says today
 * (UTC), written at most once a day; failures are only logged. */
static void mark_last_used(const kapi_obj *secret)
{
  static const char ptr[] = "/metadata/labels/" LAST_USED_LABEL_PTR;
  char today[16], tomorrow[16];
  const char *last = api->obj_get(secret, ptr);
  time_t now = time(NULL), next = now + 86400;
  struct tm tm;
  kapi_obj *copy = NULL;
  int rc;

  strftime(today, sizeof today, "%Y-%m-%d", gmtime_r(&now, &tm));
  strftime(tomorrow, sizeof tomorrow, "%Y-%m-%d", gmtime_r(&next, &tm));
  if (streq(last, today) || streq(last, tomorrow) ||
      !KAPI_API_HAS(api, store_update))
    return;
  /* A fresh copy to change (store_update checks its resourceVersion). */
  rc = api->store_get("", "secrets", api->obj_get(secret,
                                                  "/metadata/namespace"),
                      api->obj_get(secret, "/metadata/name"), &copy);
  if (rc < 0)
    return;
  if (api->obj_type(api->obj_lookup(copy, "/metadata/labels")) !=
      KAPI_OBJ_OBJECT)
    api->obj_set_json(copy, "/metadata/labels", "{}");
  if (api->obj_set_str(copy, ptr, today) == 0 &&
      (rc = api->store_update("", "secrets", copy, NULL)) < 0)
    api->log(plugin, KAPI_LOG_ERROR, "Failed to label legacy service "
             "account token %s/%s with last-used date, err: %s",
             api->obj_get(copy, "/metadata/name"),
             api->obj_get(copy, "/metadata/namespace"), strerror(-rc));
  api->obj_free(copy);
}

/* Auto-generated secrets are the ones the service account lists. */
static int listed_secret(const kapi_obj *sa, const char *secret)
{
  const kapi_obj *v = api->obj_lookup(sa, "/secrets");
  size_t i;

  for (i = 0; i < api->obj_len(v); i++)
    if (streq(api->obj_get(api->obj_index(v, i), "/name"), secret))
      return 1;
  return 0;
}

/* The audit annotations and warning upstream adds for secret tokens. */
static void note_legacy_use(const kapi_req *r, const kapi_obj *sa,
                            const char *secret)
{
  int generated = listed_secret(sa, secret);

  if (generated && KAPI_API_HAS(api, req_warning))
    api->req_warning(r, "Use tokens from the TokenRequest API or manually "
                        "created secret-based tokens instead of "
                        "auto-generated secret-based tokens.");
  if (KAPI_API_HAS(api, req_audit_annotation))
    api->req_audit_annotation(
        r,
        generated ? "authentication.k8s.io/legacy-token-autogenerated-secret"
                  : "authentication.k8s.io/legacy-token-manual-secret",
        secret);
}

/* legacy.go's legacyValidator.Validate (lookup on): the token is the
 * data.token of a live secret, and its service account is still there. */
static int validate_legacy(const kapi_req *r, const kapi_obj *user,
                           const char *token, sa_info *info, kapi_error *e)
{
  const char *secret_name = claim(user, LEGACY "secret.name");
  const char *sub = claim(user, "/sub");
  kapi_obj *secret = NULL, *sa = NULL;
  const char *have;
  int rc;

  info->name = claim(user, LEGACY "service-account.name");
  info->ns = claim(user, LEGACY "namespace");
  info->uid = claim(user, LEGACY "service-account.uid");
  if (!nonempty(sub))
    return fail(e, "sub claim is missing");
  if (!nonempty(info->ns))
    return fail(e, "namespace claim is missing");
  if (!nonempty(secret_name))
    return fail(e, "secretName claim is missing");
  if (!nonempty(info->name))
    return fail(e, "serviceAccountName claim is missing");
  if (!nonempty(info->uid))
    return fail(e, "serviceAccountUID claim is missing");
  if (!subject_is(sub, info->ns, info->name))
    return fail(e, "sub claim is invalid");

  if (api->store_get("", "secrets", info->ns, secret_name, &secret) < 0)
    return fail(e, "Token has been invalidated");
  if (api->obj_lookup(secret, "/metadata/deletionTimestamp"))
    rc = fail(e, "Token has been invalidated");
  else if (!secret_holds(secret, token))
    rc = fail(e, "Token does not match server's copy");
  else if ((rc = api->store_get("", "serviceaccounts", info->ns, info->name,
                                &sa)) < 0)
    rc = rc == -ENOENT
             ? fail(e, "serviceaccounts \"%s\" not found", info->name)
             : fail(e, "%s", strerror(-rc));
  else if (api->obj_lookup(sa, "/metadata/deletionTimestamp"))
    rc = fail(e, "ServiceAccount %s/%s has been deleted", info->ns,
              info->name);
  else if (!streq(have = api->obj_get(sa, "/metadata/uid"), info->uid))
    rc = fail(e, "ServiceAccount UID (%s) does not match claim (%s)",
              have ? have : "", info->uid);
  else if (nonempty(api->obj_get(api->obj_lookup(secret, "/metadata/labels"),
                                 "/kubernetes.io~1legacy-token-invalid-since"))) {
    if (KAPI_API_HAS(api, req_audit_annotation)) {
      char both[600];
      snprintf(both, sizeof both, "%s/%s", secret_name, info->ns);
      api->req_audit_annotation(r, "authentication.k8s.io/"
                                   "legacy-token-invalidated", both);
    }
    mark_last_used(secret);
    rc = fail(e, "the token in secret %s/%s for service account %s/%s has "
                 "been marked invalid. Use tokens from the TokenRequest API "
                 "or manually created secret-based tokens, or remove the "
                 "'%s' label from the secret to temporarily allow use of "
                 "this token", info->ns, secret_name, info->ns, info->name,
              INVALID_SINCE_LABEL);
  } else {
    note_legacy_use(r, sa, secret_name);
    mark_last_used(secret);
    rc = 0;
  }
  api->obj_free(sa);
  api->obj_free(secret);
  return rc;
}

/* ------------------------------------------------------------------ */
/* The user (ServiceAccountInfo.UserInfo).                             */
/* ------------------------------------------------------------------ */

/* extra["authentication.kubernetes.io/<key>"] = [value]. */
static int set_extra(kapi_obj *user, const char *key, const char *value)
{
  char ptr[128];
  int rc;

  /* "/" inside a key is "~1" in a JSON pointer. */
  snprintf(ptr, sizeof ptr, "/extra/authentication.kubernetes.io~1%s", key);
  rc = api->obj_set_json(user, ptr, "[]");
  return rc < 0 ? rc : api->obj_append_str(user, ptr, value);
}

/* The values come from the scratch claims: copy them first, since the
 * scratch goes before the user is handed back. */
static int fill_user(kapi_obj *user, const sa_info *in)
{
  sa_info i = *in;
  char name[1024], group[512], jti[256];
  char *copies[8] = {0};
  const char **fields[] = {&i.uid, &i.pod_name, &i.pod_uid, &i.node_name,
                           &i.node_uid, &i.jti};
  size_t k;
  int rc = 0;

  snprintf(name, sizeof name, "system:serviceaccount:%s:%s", i.ns, i.name);
  snprintf(group, sizeof group, "system:serviceaccounts:%s", i.ns);
  for (k = 0; k < sizeof fields / sizeof *fields; k++)
    if (*fields[k] && !(copies[k] = strdup(*fields[k])))
      rc = -ENOMEM;
  for (k = 0; k < sizeof fields / sizeof *fields; k++)
    *fields[k] = copies[k];
  api->obj_remove(user, SCRATCH_HEADER);
  api->obj_remove(user, SCRATCH_CLAIMS);
  if (rc == 0)
    rc = api->obj_set_str(user, "/username", name);
  if (rc == 0)
    rc = api->obj_set_str(user, "/uid", i.uid ? i.uid : "");
  if (rc == 0)
    rc = api->obj_set_json(user, "/groups", "[\"system:serviceaccounts\"]");
  if (rc == 0)
    rc = api->obj_append_str(user, "/groups", group);
  if (rc == 0)
    rc = api->obj_set_json(user, "/extra", "{}");
  if (rc == 0 && nonempty(i.pod_name) && nonempty(i.pod_uid)) {
    rc = set_extra(user, "pod-name", i.pod_name);
    if (rc == 0)
      rc = set_extra(user, "pod-uid", i.pod_uid);
  }
  if (rc == 0 && nonempty(i.jti)) {
    snprintf(jti, sizeof jti, "JTI=%s", i.jti);
    rc = set_extra(user, "credential-id", jti);
  }
  if (rc == 0 && nonempty(i.node_name)) {
    rc = set_extra(user, "node-name", i.node_name);
    if (rc == 0 && nonempty(i.node_uid))
      rc = set_extra(user, "node-uid", i.node_uid);
  }
  for (k = 0; k < sizeof copies / sizeof *copies; k++)
    free(copies[k]);
  return rc;
}

/* ------------------------------------------------------------------ */
/* Authentication.                                                     */
/* ------------------------------------------------------------------ */

/* hasCorrectIssuer: is this a JWS whose unverified "iss" is ours?
 * Leaves the parsed header and claims in the scratch members. */
static int looks_like_ours(const sa_config *c, const char *token, jws *j,
                           kapi_obj *user, int *legacy)
{
  const char *iss;

  if (*token == '{' || split_jws(token, j) < 0 ||
      decode_part(user, SCRATCH_CLAIMS, j->payload, j->payload_len) < 0)
    return 0;
  iss = api->obj_get(user, SCRATCH_CLAIMS "/iss");
  if (api->obj_type(api->obj_lookup(user, SCRATCH_CLAIMS "/iss")) !=
      KAPI_OBJ_STRING)
    return 0;
  *legacy = !strv_has(&c->issuers, iss) && !strcmp(iss, LEGACY_ISSUER);
  if (!strv_has(&c->issuers, iss) && !*legacy)
    return 0;
  /* jwt.ParseSigned: a header that does not decode is not a JWS. */
  return decode_part(user, SCRATCH_HEADER, j->header, j->header_len) == 0;
}

/* Records how long past its first hour a pod token is used (upstream's
 * stale-token audit annotation for the extended expiration). */
static void note_stale(const kapi_req *r, const kapi_obj *user, int64_t now)
{
  int64_t warn;
  char ptr[64], text[1200];
  const kapi_obj *v;

  snprintf(ptr, sizeof ptr, SCRATCH_CLAIMS "/kubernetes.io/warnafter");
  v = api->obj_lookup(user, ptr);
  if (!v || api->obj_int(v, &warn) < 0 || !warn || now <= warn ||
      !KAPI_API_HAS(api, req_audit_annotation))
    return;
  snprintf(text, sizeof text, "subject: %s, seconds after warning "
           "threshold: %lld", claim(user, "/sub") ? claim(user, "/sub") : "",
           (long long)(now - warn));
  api->req_audit_annotation(r, "authentication.k8s.io/stale-token", text);
}

static int sa_authenticate(void *st, const kapi_req *r, kapi_obj *user,
                           kapi_error *e)
{
  const sa_config *c = st;
  char *buf = malloc(MAX_TOKEN);
  const char *token = buf ? bearer_token(r, buf, MAX_TOKEN) : NULL;
  int64_t now = (int64_t)time(NULL);
  sa_info info;
  int legacy = 0, rc = 0;
  jws j;

  memset(&info, 0, sizeof info);
  if (!token || !looks_like_ours(c, token, &j, user, &legacy))
    goto out;
  if ((rc = verify_signature(c, user, &j, e)) < 0 ||
      (rc = check_audiences(c, user, e)) < 0 ||
      (!legacy && (rc = check_times(user, now, e)) < 0))
    goto out;
  rc = legacy ? validate_legacy(r, user, token, &info, e)
              : validate_bound(user, now, &info, e);
  if (rc < 0)
    goto out;
  if (!legacy)
    note_stale(r, user, now);
  rc = fill_user(user, &info);
  if (rc < 0) {
    api->error_set(e, 500, "InternalError",
                   "Internal error occurred: service account user: %s",
                   strerror(-rc));
    goto out;
  }
  rc = 1;
out:
  api->obj_remove(user, SCRATCH_HEADER);
  api->obj_remove(user, SCRATCH_CLAIMS);
  free(buf);
  return rc;
}

static const kapi_authn_ops sa_ops = {
    .size = sizeof(kapi_authn_ops),
    .authenticate = sa_authenticate,
};

static int sa_init(kapi_plugin *self, const kapi_host_api *host,
                   const char *json, size_t json_len, kapi_error *e)
{
  static const kapi_order order = {.priority = KAPI_ORDER_MIDDLE};
  strv files = {0};
  sa_config *c;
  size_t i;
  int rc;

  api = host;
  plugin = self;
  if (!(c = calloc(1, sizeof *c)))
    return -ENOMEM;
  if (parse_config(json, json_len, &files, &c->issuers, &c->audiences) < 0) {
    api->error_set(e, 500, "InternalError",
                   "invalid configuration: expected {\"keyFiles\": [...], "
                   "\"issuers\": [...], \"audiences\": [...]}");
    rc = -EINVAL;
    goto out;
  }
  rc = 0;
  if (!files.n)
    goto out; /* nothing to verify with: not installed */
  for (i = 0; rc == 0 && i < files.n; i++)
    rc = load_key_file(c, files.v[i], e);
  if (rc == 0)
    rc = api->register_authn(self, "service-account", &sa_ops, c, &order);
  if (rc == 0) {
    api->log(plugin, 2, "service account tokens: %zu key(s), %zu issuer(s)",
             c->n_keys, c->issuers.n);
    config = c;
    c = NULL;
  }
out:
  strv_free(&files);
  config_free(c);
  return rc;
}

static void sa_fini(kapi_plugin *self)
{
  (void)self;
  config_free(config);
  config = NULL;
}

KAPI_PLUGIN_DEFINE(.name = "service-account-authn", .version = "0.1.0",
                   .description = "service account token authenticator "
                                  "(--service-account-key-file)",
                   .license = "Apache-2.0", .init = sa_init,
                   .fini = sa_fini);
