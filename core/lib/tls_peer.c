/*
 * tls_peer.c - client certificate verification with OpenSSL.
 */
#include "tls_peer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

struct kapi_tls_verifier {
  X509_STORE *store; /* read-only after load: safe to share by threads */
};

int kapi_tls_verifier_load(const char *ca_file, kapi_tls_verifier **out,
                           char *err, size_t errlen)
{
  kapi_tls_verifier *v = calloc(1, sizeof *v);
  if (!v)
    return -ENOMEM;
  v->store = X509_STORE_new();
  if (!v->store || X509_STORE_load_locations(v->store, ca_file, NULL) != 1) {
    snprintf(err, errlen, "cannot load --client-ca-file %s: %s", ca_file,
             ERR_reason_error_string(ERR_get_error()));
    ERR_clear_error();
    kapi_tls_verifier_free(v);
    return -EINVAL;
  }
  *out = v;
  return 0;
}

void kapi_tls_verifier_free(kapi_tls_verifier *v)
{
  if (!v)
    return;
  X509_STORE_free(v->store);
  free(v);
}

void kapi_tls_identity_clear(kapi_tls_identity *id)
{
  size_t i;
  free(id->cn);
  for (i = 0; i < id->ngroups; i++)
    free(id->groups[i]);
  free(id->groups);
  memset(id, 0, sizeof *id);
}

static char *entry_utf8(X509_NAME *name, int idx)
{
  unsigned char *utf8 = NULL;
  int n = ASN1_STRING_to_UTF8(
      &utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
  char *s;
  if (n < 0)
    return NULL;
  s = strndup((const char *)utf8, (size_t)n);
  OPENSSL_free(utf8);
  return s;
}

/* Subject CN (the user name) and every O (the groups), as upstream's
 * CommonNameUserConversion does. */
static int subject_identity(X509 *leaf, kapi_tls_identity *id)
{
  X509_NAME *name = X509_get_subject_name(leaf);
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  id->cn = idx >= 0 ? entry_utf8(name, idx) : strdup("");
  if (!id->cn)
    return -ENOMEM;
  for (idx = -1;
       (idx = X509_NAME_get_index_by_NID(name, NID_organizationName, idx)) >= 0;) {
    char **g = realloc(id->groups, (id->ngroups + 1) * sizeof *g);
    if (!g)
      return -ENOMEM;
    id->groups = g;
    if (!(g[id->ngroups] = entry_utf8(name, idx)))
      return -ENOMEM;
    id->ngroups++;
  }
  return 0;
}

int kapi_tls_verify_peer(const kapi_tls_verifier *v,
                         const unsigned char *const *der, const size_t *len,
                         size_t n, kapi_tls_identity *id, char *reason,
                         size_t reasonlen)
{
  X509 *leaf = NULL;
  STACK_OF(X509) *chain = NULL;
  X509_STORE_CTX *ctx = NULL;
  int rc = -EINVAL;
  size_t i;

  memset(id, 0, sizeof *id);
  snprintf(reason, reasonlen, "cannot decode the certificate");
  if (!n)
    return -EINVAL;
  for (i = 0; i < n; i++) {
    const unsigned char *p = der[i];
    X509 *x = d2i_X509(NULL, &p, (long)len[i]);
    if (!x)
      goto out;
    if (i == 0) {
      leaf = x;
      continue;
    }
    if (!chain && !(chain = sk_X509_new_null())) {
      X509_free(x);
      goto out;
    }
    if (!sk_X509_push(chain, x)) {
      X509_free(x);
      goto out;
    }
  }
  ctx = X509_STORE_CTX_new();
  if (!ctx || X509_STORE_CTX_init(ctx, v->store, leaf, chain) != 1)
    goto out;
  /* The SSL client purpose checks the clientAuth extended key usage
   * (when the certificate restricts its usages at all). */
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
  if (X509_verify_cert(ctx) != 1) {
    snprintf(reason, reasonlen, "%s",
             X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    rc = -EACCES;
    goto out;
  }
  rc = subject_identity(leaf, id);
  if (rc < 0) {
    snprintf(reason, reasonlen, "out of memory");
    kapi_tls_identity_clear(id);
  }
out:
  ERR_clear_error();
  X509_STORE_CTX_free(ctx);
  sk_X509_pop_free(chain, X509_free);
  X509_free(leaf);
  return rc;
}
