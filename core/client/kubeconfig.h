/*
 * kubeconfig.h - reading kubeconfig files (client-go's clientcmd) into
 * the settings of one context: where the server is, how to trust it and
 * how to authenticate.  Internal to libkapi's client.
 *
 * Loading rules, as clientcmd's: an explicit path, else $KUBECONFIG (a
 * colon-separated list merged in order: the first file to define a
 * cluster, user or context name wins, and the first current-context
 * set wins), else ~/.kube/config.  Relative file paths inside a file are
 * relative to that file's directory.  Without any kubeconfig, the
 * in-cluster service account (KUBERNETES_SERVICE_HOST/PORT) is used.
 */
#ifndef KAPI_KUBECONFIG_H
#define KAPI_KUBECONFIG_H

#include <stddef.h>

#include "json.h"

typedef struct kapi_kubeconfig {
  char *context;   /* the context chosen (NULL in-cluster / no file) */
  char *cluster;   /* its cluster's name */
  char *user;      /* its user's name */
  char *namespace; /* the context's namespace, or NULL */

  char *server;          /* "https://host:6443" (NULL: none defined) */
  char *tls_server_name; /* SNI / verification name override, or NULL */
  int insecure;          /* insecure-skip-tls-verify */
  char *ca_file;         /* certificate-authority (absolute path) */
  unsigned char *ca_data; /* certificate-authority-data, decoded PEM */
  size_t ca_len;

  char *cert_file;        /* client-certificate */
  unsigned char *cert_data; /* client-certificate-data, decoded */
  size_t cert_len;
  char *key_file;         /* client-key */
  unsigned char *key_data; /* client-key-data, decoded */
  size_t key_len;

  char *token;      /* bearer token */
  char *token_file; /* tokenFile (read at request time) */
  char *username;   /* basic auth */
  char *password;
} kapi_kubeconfig;

/* Loads the settings for `context` (NULL = current-context).  `path`
 * NULL follows the loading rules above; `path` may also be a
 * colon-separated list.  *ret owned by the caller (kapi_kubeconfig_free).
 * -ENOENT when no kubeconfig exists and not in a cluster; -EINVAL with
 * err for bad files, unknown contexts/clusters/users, bad base64. */
int kapi_kubeconfig_load(const char *path, const char *context,
                         kapi_kubeconfig **ret, char *err, size_t errlen);

/* Settings of `context` (NULL = current-context) from one parsed
 * kubeconfig document (borrowed); `dir` (may be NULL) resolves relative
 * paths. */
int kapi_kubeconfig_from_doc(const kj *doc, const char *dir,
                             const char *context, kapi_kubeconfig **ret,
                             char *err, size_t errlen);

/* The in-cluster configuration: https://$KUBERNETES_SERVICE_HOST:PORT,
 * the service account's token file and CA. -ENOENT outside a cluster. */
int kapi_kubeconfig_in_cluster(kapi_kubeconfig **ret, char *err,
                               size_t errlen);

void kapi_kubeconfig_free(kapi_kubeconfig *kc);
/* Puts the kubeconfig's TLS and basic-auth settings on a libcurl easy
 * handle (a CURL *; kc borrowed): the REST client's, and kapictl's own
 * requests for Tables. */
void kapi__kubeconfig_curl_tls(const kapi_kubeconfig *kc, void *handle);

/* Decodes standard base64 (whitespace ignored) with OpenSSL's EVP
 * decoder.  *ret (NUL-terminated for convenience) owned by the caller.
 * -EINVAL on bad input. */
int kapi_base64_decode(const char *in, size_t len, unsigned char **ret,
                       size_t *ret_len);

#endif
