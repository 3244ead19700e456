/*
 * tls_peer.h - verification of TLS client certificates against the
 * --client-ca-file bundle (upstream's x509 request authenticator does
 * the same check: chain to a client CA, clientAuth usage, validity).
 *
 * The TLS handshake only *asks* for a client certificate; it never
 * rejects one, so that clients without a certificate (or with one this
 * server does not trust) still connect and fall through to the other
 * authenticators.  The decision happens here, per request.
 */
#ifndef KAPI_TLS_PEER_H
#define KAPI_TLS_PEER_H

#include <stddef.h>

typedef struct kapi_tls_verifier kapi_tls_verifier;

/* Loads the PEM bundle at ca_file (path borrowed).  *out is owned by
 * the caller (kapi_tls_verifier_free).  0 or -errno; err is filled. */
int kapi_tls_verifier_load(const char *ca_file, kapi_tls_verifier **out,
                           char *err, size_t errlen);
void kapi_tls_verifier_free(kapi_tls_verifier *v);

/* What a verified client certificate says about its holder. */
typedef struct kapi_tls_identity {
  char *cn;       /* subject commonName, owned; may be "" */
  char **groups;  /* subject organization values, owned */
  size_t ngroups;
} kapi_tls_identity;

void kapi_tls_identity_clear(kapi_tls_identity *id);

/* Verifies the peer chain: der[0] is the leaf, the rest intermediates
 * (all borrowed, DER).  On success fills id (owned by the caller) and
 * returns 0; otherwise -EACCES (or -EINVAL for undecodable input) with
 * the reason in `reason`. */
int kapi_tls_verify_peer(const kapi_tls_verifier *v,
                         const unsigned char *const *der, const size_t *len,
                         size_t n, kapi_tls_identity *id, char *reason,
                         size_t reasonlen);

#endif
