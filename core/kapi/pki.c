/*
 * pki.c - the cluster PKI: a CA, the apiserver serving certificate,
 * client certificates (CN = user, O = groups, as the apiserver's x509
 * authenticator reads them), the service-account key pair and one
 * kubeconfig per identity. Files are written to NAME.tmp then renamed
 * so an interrupted run never leaves a half-written file that a later
 * run would keep.
 */
#include "pki.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "sbuf.h"

#define CA_DAYS 3650
#define LEAF_DAYS 365

static void log_ssl_error(const char *what) {
  unsigned long e = ERR_get_error();
  char buf[256] = "unknown error";
  if (e)
    ERR_error_string_n(e, buf, sizeof(buf));
  LOG_ERROR("pki: %s: %s", what, buf);
  ERR_clear_error();
}

static char *path_join(const char *dir, const char *name) {
  char *p = NULL;
  if (asprintf(&p, "%s/%s", dir, name) < 0)
    return NULL;
  return p;
}

static int file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* Writes len bytes to path with mode via a temporary file + rename. */
static int write_file(const char *path, const void *data, size_t len,
                      mode_t mode) {
  char *tmp = NULL;
  if (asprintf(&tmp, "%s.tmp", path) < 0)
    return -ENOMEM;
  unlink(tmp);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    int rc = -errno;
    LOG_ERROR("pki: open %s: %s", tmp, strerror(errno));
    free(tmp);
    return rc;
  }
  const char *p = data;
  size_t left = len;
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int rc = -errno;
      close(fd);
      unlink(tmp);
      free(tmp);
      return rc;
    }
    p += n;
    left -= (size_t)n;
  }
  /* The umask may have narrowed the mode: set it exactly. */
  if (fchmod(fd, mode) < 0 || fsync(fd) < 0 || close(fd) < 0) {
    int rc = -errno;
    unlink(tmp);
    free(tmp);
    return rc;
  }
  if (rename(tmp, path) < 0) {
    int rc = -errno;
    unlink(tmp);
    free(tmp);
    return rc;
  }
  LOG_V(1, "pki: wrote %s", path);
  free(tmp);
  return 0;
}

static int read_file(const char *path, char **out, size_t *outlen) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return -errno;
  struct kapi__sbuf b = {0};
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    kapi__sb_putn(&b, chunk, n);
  int err = ferror(f);
  fclose(f);
  if (err) {
    kapi__sb_free(&b);
    return -EIO;
  }
  *outlen = b.len;
  *out = kapi__sb_take(&b);
  return *out ? 0 : -ENOMEM;
}

/* Serialises through a memory BIO and writes the result to path. */
static int write_bio(const char *path, BIO *bio, mode_t mode) {
  char *data = NULL;
  long len = BIO_get_mem_data(bio, &data);
  return write_file(path, data, (size_t)len, mode);
}

static int save_key(const char *path, EVP_PKEY *key) {
  BIO *bio = BIO_new(BIO_s_mem());
  if (!bio)
    return -ENOMEM;
  int rc = -EIO;
  if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL))
    rc = write_bio(path, bio, 0600);
  else
    log_ssl_error("encode private key");
  BIO_free(bio);
  return rc;
}

static int save_pubkey(const char *path, EVP_PKEY *key) {
  BIO *bio = BIO_new(BIO_s_mem());
  if (!bio)
    return -ENOMEM;
  int rc = -EIO;
  if (PEM_write_bio_PUBKEY(bio, key))
    rc = write_bio(path, bio, 0644);
  else
    log_ssl_error("encode public key");
  BIO_free(bio);
  return rc;
}

static int save_cert(const char *path, X509 *cert) {
  BIO *bio = BIO_new(BIO_s_mem());
  if (!bio)
    return -ENOMEM;
  int rc = -EIO;
  if (PEM_write_bio_X509(bio, cert))
    rc = write_bio(path, bio, 0644);
  else
    log_ssl_error("encode certificate");
  BIO_free(bio);
  return rc;
}

/* Loads dir/name, or generates (rsa ? RSA 2048 : EC P-256) and saves it. */
static int load_or_create_key(const char *dir, const char *name, int rsa,
                              EVP_PKEY **out) {
  char *path = path_join(dir, name);
  if (!path)
    return -ENOMEM;
  int rc = 0;
  EVP_PKEY *key = NULL;
  FILE *f = fopen(path, "r");
  if (f) {
    key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!key) {
      log_ssl_error(path);
      rc = -EINVAL;
    }
  } else if (errno != ENOENT) {
    rc = -errno;
    LOG_ERROR("pki: open %s: %s", path, strerror(errno));
  } else {
    key = rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    if (!key) {
      log_ssl_error("generate key");
      rc = -EIO;
    } else {
      rc = save_key(path, key);
    }
  }
  free(path);
  if (rc < 0) {
    EVP_PKEY_free(key);
    return rc;
  }
  *out = key;
  return 0;
}

/* Loads dir/name into *out; *out stays NULL when the file is absent. */
static int load_cert(const char *path, X509 **out) {
  *out = NULL;
  FILE *f = fopen(path, "r");
  if (!f)
    return errno == ENOENT ? 0 : -errno;
  *out = PEM_read_X509(f, NULL, NULL, NULL);
  fclose(f);
  if (!*out) {
    log_ssl_error(path);
    return -EINVAL;
  }
  return 0;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  if (!ext) {
    log_ssl_error(value);
    return -EINVAL;
  }
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok ? 0 : -EIO;
}

/* A random positive 127-bit serial, as RFC 5280 asks for unpredictability. */
static int set_serial(X509 *cert) {
  BIGNUM *bn = BN_new();
  if (!bn)
    return -ENOMEM;
  int rc = -EIO;
  if (BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
      BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)))
    rc = 0;
  BN_free(bn);
  return rc;
}

struct cert_spec {
  const char *cn;
  const char *const *orgs;
  size_t norgs;
  int is_ca;
  const char *eku;  /* "serverAuth", "clientAuth" or NULL */
  const char *sans; /* "DNS:a,IP:b" or NULL */
  int days;
};

/*
 * Builds a certificate for key, signed by (issuer, issuer_key); a NULL
 * issuer makes it self-signed.
 */
static X509 *make_cert(const struct cert_spec *s, EVP_PKEY *key,
                       X509 *issuer, EVP_PKEY *issuer_key) {
  X509 *c = X509_new();
  X509_NAME *name = X509_NAME_new();
  if (!c || !name)
    goto fail;
  for (size_t i = 0; i < s->norgs; i++)
    if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                    (const unsigned char *)s->orgs[i], -1,
                                    -1, 0))
      goto fail;
  if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                  (const unsigned char *)s->cn, -1, -1, 0))
    goto fail;
  if (!X509_set_version(c, X509_VERSION_3) || set_serial(c) < 0 ||
      !X509_set_subject_name(c, name) ||
      !X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer)
                                      : name) ||
      !X509_set_pubkey(c, key))
    goto fail;
  /* Back-date a little: clocks of cluster members are never exact. */
  if (!X509_gmtime_adj(X509_getm_notBefore(c), -300) ||
      !X509_time_adj_ex(X509_getm_notAfter(c), s->days, 0, NULL))
    goto fail;
  X509 *iss = issuer ? issuer : c;
  if (add_ext(c, iss, NID_basic_constraints,
              s->is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE") < 0 ||
      add_ext(c, iss, NID_key_usage,
              s->is_ca ? "critical,digitalSignature,keyEncipherment,keyCertSign"
                       : "critical,digitalSignature,keyEncipherment") < 0 ||
      add_ext(c, iss, NID_subject_key_identifier, "hash") < 0)
    goto fail;
  if (issuer && add_ext(c, iss, NID_authority_key_identifier, "keyid") < 0)
    goto fail;
  if (s->eku && add_ext(c, iss, NID_ext_key_usage, s->eku) < 0)
    goto fail;
  if (s->sans && add_ext(c, iss, NID_subject_alt_name, s->sans) < 0)
    goto fail;
  if (!X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256()))
    goto fail;
  X509_NAME_free(name);
  return c;
fail:
  log_ssl_error(s->cn);
  X509_NAME_free(name);
  X509_free(c);
  return NULL;
}

/*
 * Ensures BASE.key and BASE.crt exist; the certificate is made only when
 * absent (with the existing key if there is one). A NULL ca makes the
 * CA itself. On success *key_out and *cert_out (optional) are owned by the
 * caller.
 */
static int ensure_pair(const char *dir, const char *base,
                       const struct cert_spec *s, X509 *ca, EVP_PKEY *ca_key,
                       EVP_PKEY **key_out, X509 **cert_out) {
  char keyname[256], crtname[256];
  snprintf(keyname, sizeof(keyname), "%s.key", base);
  snprintf(crtname, sizeof(crtname), "%s.crt", base);
  EVP_PKEY *key = NULL;
  X509 *cert = NULL;
  int rc = load_or_create_key(dir, keyname, 0, &key);
  if (rc < 0)
    return rc;
  char *crtpath = path_join(dir, crtname);
  if (!crtpath) {
    rc = -ENOMEM;
    goto out;
  }
  rc = load_cert(crtpath, &cert);
  if (rc == 0 && !cert) {
    cert = make_cert(s, key, ca, ca_key);
    rc = cert ? save_cert(crtpath, cert) : -EIO;
  }
  free(crtpath);
out:
  if (rc == 0 && key_out) {
    *key_out = key;
    key = NULL;
  }
  if (rc == 0 && cert_out) {
    *cert_out = cert;
    cert = NULL;
  }
  EVP_PKEY_free(key);
  X509_free(cert);
  return rc;
}

static int sans_has(const struct kapi__sbuf *b, const char *entry) {
  size_t n = strlen(entry);
  const char *p = kapi__sb_str(b);
  while (p && *p) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == n && memcmp(p, entry, n) == 0)
      return 1;
    p = end ? end + 1 : NULL;
  }
  return 0;
}

/* Appends "IP:h" or "DNS:h" (by what h parses as), skipping duplicates. */
static void sans_add(struct kapi__sbuf *b, const char *h) {
  unsigned char addr[16];
  if (!h || !*h)
    return;
  int ip = inet_pton(AF_INET, h, addr) == 1 || inet_pton(AF_INET6, h, addr) == 1;
  char *entry = NULL;
  if (asprintf(&entry, "%s:%s", ip ? "IP" : "DNS", h) < 0)
    return;
  if (!sans_has(b, entry)) {
    if (b->len)
      kapi__sb_putc(b, ',');
    kapi__sb_puts(b, entry);
  }
  free(entry);
}

static char *apiserver_sans(const struct kapi_pki_opts *o) {
  static const char *const fixed[] = {
      "localhost", "kubernetes", "kubernetes.default",
      "kubernetes.default.svc", "kubernetes.default.svc.cluster.local",
      "127.0.0.1", "::1"};
  struct kapi__sbuf b = {0};
  for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
    sans_add(&b, fixed[i]);
  char host[256];
  if (gethostname(host, sizeof(host)) == 0) {
    host[sizeof(host) - 1] = '\0';
    sans_add(&b, host);
  }
  for (size_t i = 0; i < o->nhosts; i++)
    sans_add(&b, o->hosts[i]);
  return kapi__sb_take(&b);
}

static char *base64_file(const char *path) {
  char *data = NULL;
  size_t len = 0;
  if (read_file(path, &data, &len) < 0)
    return NULL;
  char *out = malloc(4 * ((len + 2) / 3) + 1);
  if (out)
    EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data,
                    (int)len);
  free(data);
  return out;
}

/* Writes dir/NAME.kubeconfig for the identity in dir/BASE.{crt,key}. */
static int ensure_kubeconfig(const struct kapi_pki_opts *o, const char *name,
                             const char *base, const char *user) {
  char fname[256], crt[256], key[256];
  snprintf(fname, sizeof(fname), "%s.kubeconfig", name);
  snprintf(crt, sizeof(crt), "%s.crt", base);
  snprintf(key, sizeof(key), "%s.key", base);
  char *path = path_join(o->dir, fname);
  char *pca = path_join(o->dir, "ca.crt");
  char *pcrt = path_join(o->dir, crt);
  char *pkey = path_join(o->dir, key);
  char *ca64 = NULL, *crt64 = NULL, *key64 = NULL, *text = NULL;
  int rc = -ENOMEM;
  if (!path || !pca || !pcrt || !pkey)
    goto out;
  rc = 0;
  if (file_exists(path))
    goto out;
  rc = -EIO;
  ca64 = base64_file(pca);
  crt64 = base64_file(pcrt);
  key64 = base64_file(pkey);
  if (!ca64 || !crt64 || !key64)
    goto out;
  int n = asprintf(&text,
                   "apiVersion: v1\n"
                   "kind: Config\n"
                   "clusters:\n"
                   "- cluster:\n"
                   "    certificate-authority-data: %s\n"
                   "    server: %s\n"
                   "  name: kapi\n"
                   "contexts:\n"
                   "- context:\n"
                   "    cluster: kapi\n"
                   "    user: \"%s\"\n"
                   "  name: \"%s@kapi\"\n"
                   "current-context: \"%s@kapi\"\n"
                   "preferences: {}\n"
                   "users:\n"
                   "- name: \"%s\"\n"
                   "  user:\n"
                   "    client-certificate-data: %s\n"
                   "    client-key-data: %s\n",
                   ca64, o->server, user, user, user, user, crt64, key64);
  if (n < 0) {
    text = NULL;
    rc = -ENOMEM;
    goto out;
  }
  /* It embeds a private key: as private as the key file. */
  rc = write_file(path, text, (size_t)n, 0600);
out:
  free(path);
  free(pca);
  free(pcrt);
  free(pkey);
  free(ca64);
  free(crt64);
  free(key64);
  free(text);
  return rc;
}

static int ensure_client(const struct kapi_pki_opts *o, X509 *ca,
                         EVP_PKEY *ca_key, const char *base, const char *cn,
                         const char *org, const char *kubeconfig) {
  const char *orgs[1] = {org};
  struct cert_spec s = {.cn = cn, .orgs = orgs, .norgs = org ? 1 : 0,
                        .eku = "clientAuth", .days = LEAF_DAYS};
  int rc = ensure_pair(o->dir, base, &s, ca, ca_key, NULL, NULL);
  if (rc == 0)
    rc = ensure_kubeconfig(o, kubeconfig, base, cn);
  return rc;
}

static int ensure_sa(const char *dir) {
  EVP_PKEY *key = NULL;
  int rc = load_or_create_key(dir, "sa.key", 1, &key);
  if (rc < 0)
    return rc;
  char *pub = path_join(dir, "sa.pub");
  if (!pub)
    rc = -ENOMEM;
  else if (!file_exists(pub))
    rc = save_pubkey(pub, key);
  free(pub);
  EVP_PKEY_free(key);
  return rc;
}

static int ensure_dir(const char *dir) {
  if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
    int rc = -errno;
    LOG_ERROR("pki: mkdir %s: %s", dir, strerror(errno));
    return rc;
  }
  return 0;
}

int kapi_pki_init(const struct kapi_pki_opts *o) {
  if (!o || !o->dir || !o->server)
    return -EINVAL;
  int rc = ensure_dir(o->dir);
  if (rc < 0)
    return rc;
  EVP_PKEY *ca_key = NULL;
  X509 *ca = NULL;
  struct cert_spec cas = {.cn = "kubernetes-ca", .is_ca = 1, .days = CA_DAYS};
  rc = ensure_pair(o->dir, "ca", &cas, NULL, NULL, &ca_key, &ca);
  if (rc < 0)
    goto out;

  char *sans = apiserver_sans(o);
  struct cert_spec api = {.cn = "kube-apiserver", .eku = "serverAuth",
                          .sans = sans, .days = LEAF_DAYS};
  rc = sans ? ensure_pair(o->dir, "apiserver", &api, ca, ca_key, NULL, NULL)
            : -ENOMEM;
  free(sans);
  if (rc < 0)
    goto out;

  if ((rc = ensure_client(o, ca, ca_key, "admin", "kubernetes-admin",
                          "system:masters", "admin")) < 0 ||
      (rc = ensure_client(o, ca, ca_key, "kube-scheduler",
                          "system:kube-scheduler", NULL, "scheduler")) < 0 ||
      (rc = ensure_client(o, ca, ca_key, "kube-controller-manager",
                          "system:kube-controller-manager", NULL,
                          "controller-manager")) < 0)
    goto out;
  for (size_t i = 0; i < o->nnodes; i++) {
    char base[256], cn[300], kc[300];
    snprintf(base, sizeof(base), "kubelet-%s", o->nodes[i]);
    snprintf(cn, sizeof(cn), "system:node:%s", o->nodes[i]);
    snprintf(kc, sizeof(kc), "kubelet-%s", o->nodes[i]);
    rc = ensure_client(o, ca, ca_key, base, cn, "system:nodes", kc);
    if (rc < 0)
      goto out;
  }
  rc = ensure_sa(o->dir);
out:
  if (rc < 0)
    LOG_ERROR("pki: init %s: %s", o->dir, strerror(-rc));
  EVP_PKEY_free(ca_key);
  X509_free(ca);
  return rc;
}
