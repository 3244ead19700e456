/*
 * kubeconfig.c - kubeconfig files to the settings of one context, as
 * client-go's clientcmd reads them (loading rules, merging, relative
 * paths, base64 data).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "kubeconfig.h"
#include "kyaml.h"

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

/* One loaded file: its document and the directory relative paths in it
 * are resolved against. */
typedef struct kc_file {
  kj *doc;
  char *dir;
} kc_file;

static int errorf(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int errorf(char *err, size_t errlen, int code, const char *fmt, ...)
{
  va_list ap;

  if (err && errlen) {
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return code;
}

int kapi_base64_decode(const char *in, size_t len, unsigned char **ret,
                       size_t *ret_len)
{
  EVP_ENCODE_CTX *ctx;
  unsigned char *out;
  int n = 0, fin = 0, ok;

  if (len > (size_t)INT32_MAX)
    return -EINVAL;
  out = malloc(len / 4 * 3 + 4);
  ctx = EVP_ENCODE_CTX_new();
  if (!out || !ctx) {
    free(out);
    EVP_ENCODE_CTX_free(ctx);
    return -ENOMEM;
  }
  /* The streaming decoder skips line breaks and blanks, which PEM-ish
   * data pasted into a kubeconfig sometimes has; DecodeBlock does not. */
  EVP_DecodeInit(ctx);
  ok = EVP_DecodeUpdate(ctx, out, &n, (const unsigned char *)in, (int)len) >=
           0 &&
       EVP_DecodeFinal(ctx, out + n, &fin) == 1;
  EVP_ENCODE_CTX_free(ctx);
  if (!ok) {
    free(out);
    return -EINVAL;
  }
  out[n + fin] = '\0';
  *ret = out;
  *ret_len = (size_t)(n + fin);
  return 0;
}

/* A string field's text.  The typed YAML scalars a string field may
 * have become (a numeric token, a context named "yes") are read back as
 * text, the way sigs.k8s.io/yaml converts them for string targets. */
static const char *field_text(const kj *obj, const char *key)
{
  const kj *v = kj_get(obj, key);

  if (!v)
    return NULL;
  switch (v->type) {
  case KJ_STRING:
  case KJ_NUMBER:
    return v->u.str.s;
  case KJ_BOOL:
    return v->u.boolean ? "true" : "false";
  default:
    return NULL;
  }
}

static int field_nonempty(const kj *obj, const char *key, const char **ret)
{
  const char *s = field_text(obj, key);

  *ret = s && *s ? s : NULL;
  return *ret != NULL;
}

/* The first entry named `name` in the list `list` ("clusters", "users",
 * "contexts") across the files, and the file it came from; its body is
 * the member `body` ("cluster", "user", "context"). */
static const kj *find_named(const kc_file *files, size_t n, const char *list,
                            const char *body, const char *name,
                            const kc_file **from)
{
  size_t i, j;

  for (i = 0; i < n; i++) {
    const kj *l = kj_get(files[i].doc, list);
    for (j = 0; j < kj_len(l); j++) {
      const kj *e = kj_at(l, j);
      const char *en = field_text(e, "name");
      if (en && !strcmp(en, name)) {
        const kj *b = kj_get(e, body);
        *from = &files[i];
        return b && b->type == KJ_OBJECT ? b : NULL;
      }
    }
  }
  return NULL;
}

/* A path from the file, made absolute against the file's directory. */
static char *resolve_path(const kc_file *f, const char *p)
{
  char *out;

  if (p[0] == '/' || !f->dir || !f->dir[0])
    return strdup(p);
  if (asprintf(&out, "%s/%s", f->dir, p) < 0)
    return NULL;
  return out;
}

static int dup_field(const kj *obj, const char *key, char **ret)
{
  const char *s;

  if (!field_nonempty(obj, key, &s))
    return 0;
  return (*ret = strdup(s)) ? 0 : -ENOMEM;
}

static int path_field(const kc_file *f, const kj *obj, const char *key,
                      char **ret)
{
  const char *s;

  if (!field_nonempty(obj, key, &s))
    return 0;
  return (*ret = resolve_path(f, s)) ? 0 : -ENOMEM;
}

static int data_field(const kj *obj, const char *key, unsigned char **ret,
                      size_t *ret_len, char *err, size_t errlen)
{
  const char *s;
  int r;

  if (!field_nonempty(obj, key, &s))
    return 0;
  r = kapi_base64_decode(s, strlen(s), ret, ret_len);
  if (r == -EINVAL)
    return errorf(err, errlen, -EINVAL, "%s: illegal base64 data", key);
  return r;
}

static int read_cluster(kapi_kubeconfig *kc, const kc_file *f,
                        const kj *cl, char *err, size_t errlen)
{
  int r;

  if ((r = dup_field(cl, "server", &kc->server)) < 0 ||
      (r = dup_field(cl, "tls-server-name", &kc->tls_server_name)) < 0 ||
      (r = path_field(f, cl, "certificate-authority", &kc->ca_file)) < 0 ||
      (r = data_field(cl, "certificate-authority-data", &kc->ca_data,
                      &kc->ca_len, err, errlen)) < 0)
    return r;
  kc->insecure = kj_is_true(kj_get(cl, "insecure-skip-tls-verify"));
  return 0;
}

static int read_user(kapi_kubeconfig *kc, const kc_file *f, const kj *u,
                     char *err, size_t errlen)
{
  int r;

  if ((r = path_field(f, u, "client-certificate", &kc->cert_file)) < 0 ||
      (r = data_field(u, "client-certificate-data", &kc->cert_data,
                      &kc->cert_len, err, errlen)) < 0 ||
      (r = path_field(f, u, "client-key", &kc->key_file)) < 0 ||
      (r = data_field(u, "client-key-data", &kc->key_data, &kc->key_len,
                      err, errlen)) < 0 ||
      (r = dup_field(u, "token", &kc->token)) < 0 ||
      (r = path_field(f, u, "tokenFile", &kc->token_file)) < 0 ||
      (r = dup_field(u, "username", &kc->username)) < 0 ||
      (r = dup_field(u, "password", &kc->password)) < 0)
    return r;
  return 0;
}

/* The settings of one context across the (merged) files. */
static int from_files(const kc_file *files, size_t n, const char *context,
                      kapi_kubeconfig **ret, char *err, size_t errlen)
{
  const kc_file *from = NULL;
  const kj *ctx, *cl = NULL, *u = NULL;
  const char *cluster, *user;
  kapi_kubeconfig *kc;
  size_t i;
  int r;

  for (i = 0; !context && i < n; i++)
    field_nonempty(files[i].doc, "current-context", &context);
  if (!context)
    return errorf(err, errlen, -EINVAL,
                  "invalid configuration: no context chosen "
                  "(current-context is not set)");
  ctx = find_named(files, n, "contexts", "context", context, &from);
  if (!ctx)
    return errorf(err, errlen, -EINVAL,
                  "context was not found for specified context: %s", context);
  if (!field_nonempty(ctx, "cluster", &cluster) ||
      !(cl = find_named(files, n, "clusters", "cluster", cluster, &from)))
    return errorf(err, errlen, -EINVAL,
                  "context \"%s\": cluster \"%s\" does not exist", context,
                  cluster ? cluster : "");
  if (!(kc = calloc(1, sizeof *kc)))
    return -ENOMEM;
  if (!(kc->context = strdup(context)) || !(kc->cluster = strdup(cluster)) ||
      (r = dup_field(ctx, "namespace", &kc->namespace)) < 0) {
    r = -ENOMEM;
    goto fail;
  }
  if ((r = read_cluster(kc, from, cl, err, errlen)) < 0)
    goto fail;
  if (field_nonempty(ctx, "user", &user)) {
    if (!(u = find_named(files, n, "users", "user", user, &from))) {
      r = errorf(err, errlen, -EINVAL, "auth info \"%s\" does not exist",
                 user);
      goto fail;
    }
    if (!(kc->user = strdup(user))) {
      r = -ENOMEM;
      goto fail;
    }
    if ((r = read_user(kc, from, u, err, errlen)) < 0)
      goto fail;
  }
  if (!kc->server) {
    r = errorf(err, errlen, -EINVAL, "no server found for cluster \"%s\"",
               cluster);
    goto fail;
  }
  *ret = kc;
  return 0;
fail:
  if (r == -ENOMEM)
    errorf(err, errlen, r, "out of memory");
  kapi_kubeconfig_free(kc);
  return r;
}

int kapi_kubeconfig_from_doc(const kj *doc, const char *dir,
                             const char *context, kapi_kubeconfig **ret,
                             char *err, size_t errlen)
{
  kc_file f = {(kj *)doc, (char *)dir};

  if (!doc || doc->type != KJ_OBJECT)
    return errorf(err, errlen, -EINVAL, "kubeconfig is not a mapping");
  return from_files(&f, 1, context, ret, err, errlen);
}

static char *dir_of(const char *path)
{
  const char *slash = strrchr(path, '/');
  char *cwd, *out;

  if (slash)
    return slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
  /* A bare file name: relative paths in it are relative to the cwd. */
  if (!(cwd = getcwd(NULL, 0)))
    return NULL;
  out = strdup(cwd);
  free(cwd);
  return out;
}

static void files_free(kc_file *files, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++) {
    kj_free(files[i].doc);
    free(files[i].dir);
  }
  free(files);
}

/* Loads every existing file of a colon-separated list.  Missing files
 * are an error only when `strict` (an explicit path). */
static int load_files(const char *list, int strict, kc_file **ret,
                      size_t *ret_n, char *err, size_t errlen)
{
  char *copy = strdup(list), *save = NULL, *p;
  kc_file *files = NULL;
  size_t n = 0;
  int r = 0;

  if (!copy)
    return -ENOMEM;
  for (p = strtok_r(copy, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
    char perr[512];
    kj *doc = NULL;
    kc_file *grown;

    r = kapi_yaml_read_file(p, &doc, perr, sizeof perr);
    if (r == -ENOENT && !strict && access(p, F_OK) != 0) {
      r = 0;
      continue;
    }
    if (r == -ENOENT && access(p, F_OK) == 0) {
      /* An empty file is an empty config. */
      r = 0;
      if (!(doc = kj_object())) {
        r = -ENOMEM;
        break;
      }
    }
    if (r < 0) {
      errorf(err, errlen, r, "%s", perr);
      break;
    }
    if (doc->type != KJ_OBJECT) {
      kj_free(doc);
      r = errorf(err, errlen, -EINVAL, "%s: kubeconfig is not a mapping", p);
      break;
    }
    if (!(grown = realloc(files, (n + 1) * sizeof *files))) {
      kj_free(doc);
      r = -ENOMEM;
      break;
    }
    files = grown;
    files[n].doc = doc;
    if (!(files[n++].dir = dir_of(p))) {
      r = -ENOMEM;
      break;
    }
  }
  free(copy);
  if (r < 0) {
    files_free(files, n);
    return r;
  }
  *ret = files;
  *ret_n = n;
  return 0;
}

int kapi_kubeconfig_load(const char *path, const char *context,
                         kapi_kubeconfig **ret, char *err, size_t errlen)
{
  const char *env = getenv("KUBECONFIG");
  const char *home = getenv("HOME");
  char *deflt = NULL;
  kc_file *files = NULL;
  size_t n = 0;
  int r;

  if (path && *path) {
    r = load_files(path, 1, &files, &n, err, errlen);
  } else if (env && *env) {
    r = load_files(env, 0, &files, &n, err, errlen);
  } else {
    if (asprintf(&deflt, "%s/.kube/config", home ? home : "") < 0)
      return -ENOMEM;
    r = load_files(deflt, 0, &files, &n, err, errlen);
    free(deflt);
  }
  if (r < 0)
    return r;
  if (n == 0) {
    free(files);
    r = kapi_kubeconfig_in_cluster(ret, NULL, 0);
    if (r == -ENOENT)
      errorf(err, errlen, r,
             "invalid configuration: no configuration has been provided");
    return r;
  }
  r = from_files(files, n, context, ret, err, errlen);
  files_free(files, n);
  return r;
}

int kapi_kubeconfig_in_cluster(kapi_kubeconfig **ret, char *err,
                               size_t errlen)
{
  const char *host = getenv("KUBERNETES_SERVICE_HOST");
  const char *port = getenv("KUBERNETES_SERVICE_PORT");
  kapi_kubeconfig *kc;
  int v6;

  if (!host || !*host || !port || !*port)
    return errorf(err, errlen, -ENOENT,
                  "unable to load in-cluster configuration, "
                  "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must "
                  "be defined");
  if (access(SA_DIR "/token", R_OK) != 0)
    return errorf(err, errlen, -ENOENT, "open %s/token: %s", SA_DIR,
                  strerror(errno));
  if (!(kc = calloc(1, sizeof *kc)))
    return -ENOMEM;
  v6 = strchr(host, ':') != NULL;
  if (asprintf(&kc->server, "https://%s%s%s:%s", v6 ? "[" : "", host,
               v6 ? "]" : "", port) < 0) {
    kc->server = NULL;
    kapi_kubeconfig_free(kc);
    return -ENOMEM;
  }
  kc->token_file = strdup(SA_DIR "/token");
  kc->ca_file = strdup(SA_DIR "/ca.crt");
  if (!kc->token_file || !kc->ca_file) {
    kapi_kubeconfig_free(kc);
    return -ENOMEM;
  }
  *ret = kc;
  return 0;
}

void kapi_kubeconfig_free(kapi_kubeconfig *kc)
{
  if (!kc)
    return;
  free(kc->context);
  free(kc->cluster);
  free(kc->user);
  free(kc->namespace);
  free(kc->server);
  free(kc->tls_server_name);
  free(kc->ca_file);
  free(kc->ca_data);
  free(kc->cert_file);
  free(kc->cert_data);
  free(kc->key_file);
  free(kc->key_data);
  free(kc->token);
  free(kc->token_file);
  free(kc->username);
  if (kc->password)
    memset(kc->password, 0, strlen(kc->password));
  free(kc->password);
  free(kc);
}
