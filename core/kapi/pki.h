/*
 * pki.h - "kapi pki": the certificates, keys and kubeconfigs a cluster
 * needs, made with OpenSSL 3 (EC P-256 keys, RSA 2048 for the
 * service-account signer because tokens are RS256).
 */
#ifndef KAPI_PKI_H
#define KAPI_PKI_H

#include <stddef.h>

struct kapi_pki_opts {
  const char *dir;           /* output directory (created 0755 if absent) */
  const char *server;        /* URL written into every kubeconfig */
  const char *const *hosts;  /* extra apiserver SANs: IP literals or DNS */
  size_t nhosts;
  const char *const *nodes;  /* node names: one client cert + kubeconfig each */
  size_t nnodes;
};

/*
 * Creates whatever is missing in o->dir; existing files are kept as they
 * are, so a second run changes nothing. Keys and kubeconfigs are 0600,
 * certificates and sa.pub 0644. All strings are borrowed.
 * Returns 0 or -errno (-EINVAL/-EIO for OpenSSL failures, logged).
 */
int kapi_pki_init(const struct kapi_pki_opts *o);

#endif
