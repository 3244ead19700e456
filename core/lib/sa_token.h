/*
 * sa_token.h - service account tokens: the signer kapi-apiserver loads
 * from --service-account-signing-key-file, the JWTs it issues (upstream's
 * pkg/serviceaccount: jwt.go and claims.go), and the TokenRequest
 * subresource that hands them out (pkg/registry/core/serviceaccount/
 * storage/token.go; rest_token.c).
 *
 * Tokens are verified by the "service-account-authn" plugin, which only
 * needs the public keys: nothing here is shared with it but the format.
 */
#ifndef KAPI_SA_TOKEN_H
#define KAPI_SA_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"

typedef struct kapi_sa_signer kapi_sa_signer;

/* Upstream's defaults and limits (serviceaccount/claims.go, token.go). */
#define KAPI_SA_DEFAULT_ISSUER "https://kubernetes.default.svc.cluster.local"
#define KAPI_SA_DEFAULT_EXPIRATION 3600   /* TokenRequestSpec default */
#define KAPI_SA_MIN_EXPIRATION 600        /* 10 minutes */
/* A pod-bound token asked for with exactly this lifetime (what the
 * ServiceAccount admission plugin puts in the projected volume) is
 * extended to a year, with a warning after the hour. */
#define KAPI_SA_WARN_ONLY_EXPIRATION (60 * 60 + 7)
#define KAPI_SA_EXTENDED_EXPIRATION ((int64_t)24 * 365 * 60 * 60)

typedef struct kapi_sa_signer_options {
  const char *key_file;   /* PEM private key, RSA or EC (P-256/384/521) */
  const char *issuer;     /* "iss" of every token; NULL = the default */
  /* The API server's audiences (--api-audiences): the audiences of a
   * token whose request names none.  Copied; none = {issuer}. */
  const char *const *audiences;
  size_t n_audiences;
  int64_t max_expiration; /* seconds, 0 = no limit */
  int extend_expiration;  /* upstream's --service-account-extend-token-expiration */
} kapi_sa_signer_options;

/*
 * Loads the key and keeps the options (strings copied).  Returns 0 and
 * *ret (free with kapi_sa_signer_free), or -errno with a message in err.
 */
int kapi_sa_signer_new(const kapi_sa_signer_options *o, kapi_sa_signer **ret,
                       char *err, size_t errlen);
void kapi_sa_signer_free(kapi_sa_signer *s);

/* Borrowed from the signer. */
const char *kapi_sa_signer_issuer(const kapi_sa_signer *s);
const char *kapi_sa_signer_alg(const kapi_sa_signer *s);  /* "RS256"... */
const char *kapi_sa_signer_kid(const kapi_sa_signer *s);
size_t kapi_sa_signer_audience_count(const kapi_sa_signer *s);
const char *kapi_sa_signer_audience(const kapi_sa_signer *s, size_t i);
int64_t kapi_sa_signer_max_expiration(const kapi_sa_signer *s);
int kapi_sa_signer_extends(const kapi_sa_signer *s);

/* A named object a token is bound to; name NULL = none. */
typedef struct kapi_sa_ref {
  const char *name, *uid;
} kapi_sa_ref;

/* What a token says (all strings borrowed). */
typedef struct kapi_sa_claims {
  const char *namespace_;
  kapi_sa_ref sa;
  kapi_sa_ref pod, secret, node; /* at most pod+node, or one of them */
  const char *const *audiences;
  size_t n_audiences;
  int64_t now;        /* iat and nbf, Unix seconds */
  int64_t expiration; /* exp = now + expiration */
  int64_t warn_after; /* kubernetes.io.warnafter = now + warn_after; 0 none */
  const char *jti;    /* NULL or "": no jti */
} kapi_sa_claims;

/* The JWT payload (upstream's public and private claims, keys sorted as
 * go-jose writes them).  Newly allocated; NULL when out of memory. */
kj *kapi_sa_claims_json(const kapi_sa_signer *s, const kapi_sa_claims *c);

/* A signed compact JWS "header.payload.signature"; newly allocated
 * (free()), NULL on failure. */
char *kapi_sa_token_sign(const kapi_sa_signer *s, const kapi_sa_claims *c);

/* ---- kapi-apiserver's flags ----------------------------------------------- */

#define KAPI_SA_MAX_FLAG_VALUES 16

/* The service account flags as given (strings borrowed from argv). */
typedef struct kapi_sa_flags {
  const char *signing_key_file;   /* --service-account-signing-key-file */
  const char *key_files[KAPI_SA_MAX_FLAG_VALUES]; /* --service-account-key-file */
  size_t n_key_files;
  const char *issuers[KAPI_SA_MAX_FLAG_VALUES];   /* --service-account-issuer */
  size_t n_issuers;
  const char *audiences[KAPI_SA_MAX_FLAG_VALUES]; /* --api-audiences a,b */
  size_t n_audiences;
  const char *max_expiration;     /* --service-account-max-token-expiration */
} kapi_sa_flags;

/* Appends one value of a repeatable flag; -E2BIG when full. */
int kapi_sa_flag_append(const char **values, size_t *n, const char *value);

/*
 * Checks the flags as upstream's validation does (distinct issuers, a
 * max expiration between 1 hour and 2^32 seconds), puts the
 * authenticator's configuration in cfg under "plugins" /
 * "service-account-authn" ({"keyFiles", "issuers", "audiences"}; the
 * signing key verifies when no key file is given) and, with a signing
 * key, loads the signer into *signer (else NULL).  Returns 0 or -errno
 * with a message in err.
 */
int kapi_sa_configure(const kapi_sa_flags *f, kj *cfg,
                      kapi_sa_signer **signer, char *err, size_t errlen);

/* ---- the TokenRequest subresource (rest_token.c) ---------------------- */

struct kapi_server;
struct kapi_req;
struct kapi_resource;
struct kapi_response;

/* POST .../serviceaccounts/<name>/token: answers 201 with the
 * TokenRequest and its token, or an upstream error; 404 when the server
 * has no signer (upstream does not install the subresource then). */
void kapi_sa_token_request(struct kapi_server *srv, struct kapi_req *r,
                           struct kapi_resource *res,
                           struct kapi_response *resp);

#endif
