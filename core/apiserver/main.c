/*
 * kapi-apiserver - the API server daemon: loads the plugins, opens the
 * store, seeds the initial objects, and serves until SIGINT/SIGTERM.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "config.h"
#include "admission_config.h"
#include "audit.h"
#include "host_server.h"
#include "json.h"
#include "log.h"
#include "manifests.h"
#include "plugin_loader.h"
#include "registry.h"
#include "sa_token.h"
#include "../kapi/pki.h"
#include "server.h"
#include "store.h"

#define MAX_DIRS 32

struct options {
  const char *plugin_dirs[MAX_DIRS];
  int n_plugin_dirs;
  int no_default_plugins;
  int list_plugins;
  const char *data_dir;
  const char *bind_address;
  int port;
  int port_set;                 /* --insecure-port given */
  const char *secure_bind_address;
  int secure_port;
  const char *tls_cert_file;
  const char *tls_key_file;
  const char *client_ca_file;
  const char *config_file;
  char *authorization_mode;
  char *admission_plugins;
  char *disable_admission_plugins;
  const char *admission_config_file;
  const char *audit_policy_file;
  const char *cert_dir;         /* --cert-dir, default <data-dir>/../pki */
  char *pki_paths[6];           /* owned: what default_pki() filled in */
  long long not_ready_s, unreachable_s; /* -1: not given */
  const char *audit_log_path;
  int anonymous_auth;
  const char *token_auth_file;
  kapi_sa_flags sa;             /* --service-account-*, --api-audiences */
  int fsync;
  int threads;
  const char *manifests_dir;    /* --manifests-dir */
  int manifests_resync_s;       /* --manifests-resync-period */
};

static void usage(FILE *out)
{
  fprintf(out,
"Usage: kapi-apiserver [flags]\n"
"\n"
"The kapi API server: serves the Kubernetes API from an embedded store,\n"
"with authentication, authorization, admission and every resource loaded\n"
"as plugins.\n"
"\n"
"Flags:\n"
"  --data-dir DIR                 where the store lives (default ./var/data)\n"
"  --bind-address ADDR            address to serve HTTPS on (default 127.0.0.1;\n"
"                                 upstream defaults to 0.0.0.0, kapi to loopback)\n"
"  --secure-port PORT             port to serve HTTPS on (default 6443; 0 = any\n"
"                                 free port); used with --tls-cert-file\n"
"  --tls-cert-file FILE           serving certificate (PEM, with intermediates)\n"
"  --tls-private-key-file FILE    its private key (PEM)\n"
"  --client-ca-file FILE          CA bundle (PEM) that client certificates are\n"
"                                 verified against; clients are asked for one\n"
"  --insecure-bind-address ADDR   address to serve plain HTTP on (default\n"
"                                 127.0.0.1; loopback addresses only)\n"
"  --insecure-port PORT           plain HTTP port (default 8080 without TLS, off\n"
"                                 with TLS unless given; 0 = any free port)\n"
"  --plugin-dir DIR               load plugins from DIR (repeatable; DIR and its\n"
"                                 authn/ authz/ admission/ registry/ subdirectories)\n"
"  --no-default-plugins           do not load the installed plugins (%s)\n"
"  --list-plugins                 print the loaded plugins in chain order and exit\n"
"  --config FILE                  server configuration (JSON): plugin configuration\n"
"                                 and chain order\n"
"  --authorization-mode LIST      authorizers in order, e.g. AlwaysAllow\n"
"  --enable-admission-plugins LIST  admission plugins to enable besides the\n"
"                                 default ones (upstream's; order does not matter)\n"
"  --disable-admission-plugins LIST  default admission plugins to turn off\n"
"  --admission-control-config-file FILE  AdmissionConfiguration (YAML):\n"
"                                 each admission plugin's configuration\n"
"  --cert-dir DIR                 without --tls-cert-file (and without\n"
"                                 --insecure-port): a CA, serving and admin\n"
"                                 certificates, admin.kubeconfig and service-\n"
"                                 account keys are made here (kapi pki init)\n"
"                                 and served with; default DATA-DIR/../pki\n"
"  --audit-policy-file FILE       audit Policy (audit.k8s.io/v1, YAML)\n"
"  --default-not-ready-toleration-seconds N, --default-unreachable-toleration-seconds N\n"
"                                 DefaultTolerationSeconds (default 300)\n"
"  --audit-log-path PATH          audit events as JSON lines (\"-\": stdout)\n"
"  --anonymous-auth BOOL          allow anonymous requests (default true)\n"
"  --token-auth-file FILE         static bearer tokens (CSV: token,user,uid,\"groups\")\n"
"  --service-account-signing-key-file FILE  private key (PEM, RSA or EC) that\n"
"                                 signs service account tokens (TokenRequest)\n"
"  --service-account-key-file FILE  public keys (PEM) verifying service account\n"
"                                 tokens (repeatable; default: the signing key)\n"
"  --service-account-issuer URL   token issuer; the first signs (repeatable;\n"
"                                 default " KAPI_SA_DEFAULT_ISSUER ")\n"
"  --api-audiences LIST           audiences of the API (default: the first issuer)\n"
"  --service-account-max-token-expiration D  longest token lifetime (e.g. 24h)\n"
"  --manifests-dir DIR            apply every manifest under DIR (*.yaml, *.yml,\n"
"                                 *.json) at start and when it changes; objects\n"
"                                 whose file goes are deleted (annotation\n"
"                                 " KAPI_MANIFEST_SOURCE_ANNOTATION ")\n"
"  --manifests-resync-period D    full re-apply of --manifests-dir (default 60s)\n"
"  --fsync BOOL                   fsync every commit (default true)\n"
"  --threads N                    HTTP threads (default: 2 per CPU, at least 4)\n"
"  -v, --v N                      log verbosity\n"
"  -h, --help                     this help\n",
          KAPI_PLUGINDIR);
}

static int parse_bool(const char *s)
{
  return !strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "yes");
}

/* "90", "90s", "5m", "1h" as whole seconds; -1 if malformed. */
static int parse_seconds(const char *s)
{
  char *end;
  long n = strtol(s, &end, 10);
  int unit = !*end || !strcmp(end, "s") ? 1 : !strcmp(end, "m") ? 60
             : !strcmp(end, "h") ? 3600 : 0;

  if (end == s || !unit || n < 0 || n > 86400 * 7)
    return -1;
  return (int)(n * unit);
}

/* *list = *list + "," + item (newly allocated; the old one freed). */
static int append_list(char **list, const char *item)
{
  size_t a = *list ? strlen(*list) : 0;
  char *s = malloc(a + strlen(item) + 2);

  if (!s)
    return -ENOMEM;
  sprintf(s, "%s%s%s", a ? *list : "", a ? "," : "", item);
  free(*list);
  *list = s;
  return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
  enum { O_DATA = 256, O_BIND, O_PORT, O_PDIR, O_NODEF, O_LIST, O_CONFIG,
         O_AUTHZ, O_ADM, O_ADM_OFF, O_ADM_CFG, O_AUDIT_POLICY, O_AUDIT_LOG, O_NOT_READY, O_UNREACHABLE, O_CERT_DIR, O_ANON, O_FSYNC, O_THREADS, O_SBIND, O_SPORT,
         O_TLSCERT, O_TLSKEY, O_CLIENTCA, O_TOKENFILE,
         O_SA_SIGNKEY, O_SA_KEY, O_SA_ISSUER, O_API_AUD, O_SA_MAXEXP,
         O_MANIFESTS, O_MANIFESTS_RESYNC };
  static const struct option longopts[] = {
      {"data-dir", required_argument, NULL, O_DATA},
      {"insecure-bind-address", required_argument, NULL, O_BIND},
      {"insecure-port", required_argument, NULL, O_PORT},
      {"bind-address", required_argument, NULL, O_SBIND},
      {"secure-port", required_argument, NULL, O_SPORT},
      {"tls-cert-file", required_argument, NULL, O_TLSCERT},
      {"tls-private-key-file", required_argument, NULL, O_TLSKEY},
      {"client-ca-file", required_argument, NULL, O_CLIENTCA},
      {"plugin-dir", required_argument, NULL, O_PDIR},
      {"no-default-plugins", no_argument, NULL, O_NODEF},
      {"list-plugins", no_argument, NULL, O_LIST},
      {"config", required_argument, NULL, O_CONFIG},
      {"authorization-mode", required_argument, NULL, O_AUTHZ},
      {"enable-admission-plugins", required_argument, NULL, O_ADM},
      {"disable-admission-plugins", required_argument, NULL, O_ADM_OFF},
      {"admission-control-config-file", required_argument, NULL, O_ADM_CFG},
      {"audit-policy-file", required_argument, NULL, O_AUDIT_POLICY},
      {"audit-log-path", required_argument, NULL, O_AUDIT_LOG},
      {"cert-dir", required_argument, NULL, O_CERT_DIR},
      {"default-not-ready-toleration-seconds", required_argument, NULL, O_NOT_READY},
      {"default-unreachable-toleration-seconds", required_argument, NULL, O_UNREACHABLE},
      {"anonymous-auth", required_argument, NULL, O_ANON},
      {"token-auth-file", required_argument, NULL, O_TOKENFILE},
      {"service-account-signing-key-file", required_argument, NULL, O_SA_SIGNKEY},
      {"service-account-key-file", required_argument, NULL, O_SA_KEY},
      {"service-account-issuer", required_argument, NULL, O_SA_ISSUER},
      {"api-audiences", required_argument, NULL, O_API_AUD},
      {"service-account-max-token-expiration", required_argument, NULL, O_SA_MAXEXP},
      {"manifests-dir", required_argument, NULL, O_MANIFESTS},
      {"manifests-resync-period", required_argument, NULL, O_MANIFESTS_RESYNC},
      {"fsync", required_argument, NULL, O_FSYNC},
      {"threads", required_argument, NULL, O_THREADS},
      {"v", required_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int c;

  memset(o, 0, sizeof *o);
  o->data_dir = "./var/data";
  o->bind_address = "127.0.0.1";
  o->port = 8080;
  o->secure_bind_address = "127.0.0.1";
  o->secure_port = 6443;
  o->anonymous_auth = 1;
  o->not_ready_s = o->unreachable_s = -1;
  o->fsync = 1;
  while ((c = getopt_long(argc, argv, "hv:", longopts, NULL)) != -1) {
    switch (c) {
    case O_DATA: o->data_dir = optarg; break;
    case O_BIND: o->bind_address = optarg; break;
    case O_PORT: o->port = atoi(optarg); o->port_set = 1; break;
    case O_SBIND: o->secure_bind_address = optarg; break;
    case O_SPORT: o->secure_port = atoi(optarg); break;
    case O_TLSCERT: o->tls_cert_file = optarg; break;
    case O_TLSKEY: o->tls_key_file = optarg; break;
    case O_CLIENTCA: o->client_ca_file = optarg; break;
    case O_PDIR:
      if (o->n_plugin_dirs == MAX_DIRS) {
        fprintf(stderr, "too many --plugin-dir\n");
        return -1;
      }
      o->plugin_dirs[o->n_plugin_dirs++] = optarg;
      break;
    case O_NODEF: o->no_default_plugins = 1; break;
    case O_LIST: o->list_plugins = 1; break;
    case O_CONFIG: o->config_file = optarg; break;
    case O_AUTHZ: o->authorization_mode = optarg; break;
    /* Repeated list flags add up, as upstream's string slices do. */
    case O_ADM:
      if (append_list(&o->admission_plugins, optarg) < 0)
        return -1;
      break;
    case O_ADM_OFF:
      if (append_list(&o->disable_admission_plugins, optarg) < 0)
        return -1;
      break;
    case O_ADM_CFG: o->admission_config_file = optarg; break;
    case O_AUDIT_POLICY: o->audit_policy_file = optarg; break;
    case O_AUDIT_LOG: o->audit_log_path = optarg; break;
    case O_CERT_DIR: o->cert_dir = optarg; break;
    case O_NOT_READY: o->not_ready_s = atoll(optarg); break;
    case O_UNREACHABLE: o->unreachable_s = atoll(optarg); break;
    case O_ANON: o->anonymous_auth = parse_bool(optarg); break;
    case O_TOKENFILE: o->token_auth_file = optarg; break;
    case O_SA_SIGNKEY: o->sa.signing_key_file = optarg; break;
    case O_SA_MAXEXP: o->sa.max_expiration = optarg; break;
    case O_SA_KEY:
      if (kapi_sa_flag_append(o->sa.key_files, &o->sa.n_key_files, optarg) < 0)
        goto too_many;
      break;
    case O_SA_ISSUER:
      if (kapi_sa_flag_append(o->sa.issuers, &o->sa.n_issuers, optarg) < 0)
        goto too_many;
      break;
    case O_API_AUD:
      if (kapi_sa_flag_append(o->sa.audiences, &o->sa.n_audiences, optarg) < 0)
        goto too_many;
      break;
    case O_MANIFESTS: o->manifests_dir = optarg; break;
    case O_MANIFESTS_RESYNC:
      if ((o->manifests_resync_s = parse_seconds(optarg)) <= 0) {
        fprintf(stderr, "invalid --manifests-resync-period %s\n", optarg);
        return -1;
      }
      break;
    case O_FSYNC: o->fsync = parse_bool(optarg); break;
    case O_THREADS: o->threads = atoi(optarg); break;
    case 'v': kapi_log_verbosity = atoi(optarg + (*optarg == '=')); break;
    case 'h': usage(stdout); exit(0);
    default: usage(stderr); return -1;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "unexpected argument: %s\n", argv[optind]);
    return -1;
  }
  return 0;
too_many:
  fprintf(stderr, "--service-account-key-file, --service-account-issuer, "
          "--api-audiences: at most %d values each\n",
          KAPI_SA_MAX_FLAG_VALUES);
  return -1;
}

static kj *read_config(const char *path)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL, err[256];
  size_t len = 0, cap = 0, n;
  kj *cfg = NULL;

  if (!f) {
    LOG_ERROR("cannot open --config %s: %s", path, strerror(errno));
    return NULL;
  }
  do {
    if (len + 4096 > cap) {
      char *b = realloc(buf, cap = cap ? cap * 2 : 8192);
      if (!b)
        break;
      buf = b;
    }
    n = fread(buf + len, 1, cap - len, f);
    len += n;
  } while (n > 0);
  fclose(f);
  if (!buf || kj_parse(buf, len, &cfg, err, sizeof err) < 0 ||
      cfg->type != KJ_OBJECT) {
    LOG_ERROR("--config %s: not a JSON object: %s", path, buf ? err : "");
    kj_free(cfg);
    cfg = NULL;
  }
  free(buf);
  return cfg;
}

/* Folds the command-line flags into the configuration object. */
static int apply_flags(kj *cfg, const struct options *o)
{
  if (!o->anonymous_auth) {
    kj *plugins = kj_child_object(cfg, "plugins");
    kj *anon = plugins ? kj_child_object(plugins, "anonymous") : NULL;
    if (!anon || kj_set(anon, "enabled", kj_bool(0)) < 0)
      return -ENOMEM;
  }
  if (o->token_auth_file) {
    /* The token-file plugin registers nothing without a path. */
    kj *plugins = kj_child_object(cfg, "plugins");
    kj *tf = plugins ? kj_child_object(plugins, "token-file") : NULL;
    if (!tf || kj_set(tf, "path", kj_string(o->token_auth_file)) < 0)
      return -ENOMEM;
  }
  if (o->not_ready_s >= 0 || o->unreachable_s >= 0) {
    kj *plugins = kj_child_object(cfg, "plugins");
    kj *dts = plugins ? kj_child_object(plugins, "default-toleration-seconds")
                      : NULL;
    if (!dts ||
        (o->not_ready_s >= 0 &&
         kj_set(dts, "defaultNotReadyTolerationSeconds",
                kj_int(o->not_ready_s)) < 0) ||
        (o->unreachable_s >= 0 &&
         kj_set(dts, "defaultUnreachableTolerationSeconds",
                kj_int(o->unreachable_s)) < 0))
      return -ENOMEM;
  }
  return 0;
}

/* Splits "A,B" into a NULL-terminated vector (in place). */
static char **split_list(char *s)
{
  size_t n = 1, i = 0;
  char **v, *save = NULL, *tok;
  for (const char *p = s; *p; p++)
    n += *p == ',';
  v = calloc(n + 1, sizeof *v);
  if (!v)
    return NULL;
  for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
    v[i++] = tok;
  return v;
}

/* A config list such as {"authorization":{"authorizers":["A","B"]}}. */
static char **config_list(const kj *cfg, const char *section,
                          const char *field)
{
  const kj *list = kj_get(kj_get(cfg, section), field);
  size_t i, n = kj_len(list);
  char **v;
  if (!list || list->type != KJ_ARRAY)
    return NULL;
  v = calloc(n + 1, sizeof *v);
  for (i = 0; v && i < n; i++) {
    const kj *item = kj_at(list, i);
    v[i] = (char *)(kj_str(item) ? kj_str(item) : kj_get_str(item, "name"));
  }
  return v;
}

/*
 * Chain order: authenticators and authorizers as listed (flag, else
 * configuration); admission as kube-apiserver picks it (default set,
 * --enable/--disable, recommended order) unless the configuration file
 * lists the chain itself and no admission flag is given.
 */
static int assemble_chains(kapi_plugins *ps, const struct options *o,
                           const kj *cfg)
{
  char *authz = o->authorization_mode ? strdup(o->authorization_mode) : NULL;
  char **authz_v = authz ? split_list(authz)
                         : config_list(cfg, "authorization", "authorizers");
  char **authn_v = config_list(cfg, "authentication", "authenticators");
  char **adm_cfg = config_list(cfg, "admission", "plugins");
  const char **adm_v = NULL;
  kapi_chain_order order[3];
  char err[1024];
  size_t n = 0;
  int rc;

  if (authn_v)
    order[n++] = (kapi_chain_order){KAPI_KIND_AUTHN, (const char *const *)authn_v};
  if (authz_v)
    order[n++] = (kapi_chain_order){KAPI_KIND_AUTHZ, (const char *const *)authz_v};
  if (adm_cfg && !o->admission_plugins && !o->disable_admission_plugins) {
    order[n++] = (kapi_chain_order){KAPI_KIND_ADMISSION, (const char *const *)adm_cfg};
    rc = kapi_plugins_assemble(ps, order, n, err, sizeof err);
  } else {
    /* Assembled once by edges, so third-party plugins keep their
     * relative order; then the chosen list. */
    rc = kapi_plugins_assemble(ps, order, n, err, sizeof err);
    if (rc == 0)
      rc = kapi_admission_select(ps, o->admission_plugins,
                                 o->disable_admission_plugins, &adm_v, err,
                                 sizeof err);
    if (rc == 0) {
      order[n++] = (kapi_chain_order){KAPI_KIND_ADMISSION, adm_v};
      rc = kapi_plugins_assemble(ps, order, n, err, sizeof err);
    }
  }
  free(authn_v);
  free(authz_v);
  free(adm_cfg);
  free(adm_v);
  free(authz);
  if (rc < 0) {
    LOG_ERROR("%s", err);
    return -1;
  }
  return 0;
}

static int load_plugins(kapi_plugins *ps, const struct options *o,
                        const kj *cfg)
{
  static const char *const kinds[] = {"authn", "authz", "admission",
                                      "registry", NULL};
  char err[1024], path[4096];
  struct stat st;
  int i;

  for (i = -1; i < o->n_plugin_dirs; i++) {
    const char *dir = i < 0 ? KAPI_PLUGINDIR : o->plugin_dirs[i];
    const char *const *k;
    if (i < 0 && (o->no_default_plugins || stat(dir, &st) < 0))
      continue;
    /* A directory holds .so files itself, or one folder per kind. */
    if (kapi_plugins_load_dir(ps, dir, err, sizeof err) < 0) {
      LOG_ERROR("%s", err);
      return -1;
    }
    for (k = kinds; *k; k++) {
      snprintf(path, sizeof path, "%s/%s", dir, *k);
      if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
          kapi_plugins_load_dir(ps, path, err, sizeof err) < 0) {
        LOG_ERROR("%s", err);
        return -1;
      }
    }
  }
  return assemble_chains(ps, o, cfg);
}

static int make_dirs(const char *path)
{
  char buf[4096], *p;
  snprintf(buf, sizeof buf, "%s", path);
  for (p = buf + 1; *p; p++)
    if (*p == '/') {
      *p = '\0';
      if (mkdir(buf, 0700) < 0 && errno != EEXIST)
        return -errno;
      *p = '/';
    }
  if (mkdir(buf, 0700) < 0 && errno != EEXIST)
    return -errno;
  return 0;
}

/* Plain HTTP carries credentials and is unauthenticated transport, so
 * it is only served where nothing off the host can reach it. */
/* Without TLS the server keeps serving plain HTTP (default 8080) as
 * before; with TLS only when --insecure-port is given explicitly. */
static int serves_insecure(const struct options *o)
{
  return !o->tls_cert_file || o->port_set;
}

static int is_loopback(const char *addr)
{
  struct in_addr a;
  if (inet_pton(AF_INET, addr, &a) != 1)
    return 0;
  return (ntohl(a.s_addr) >> 24) == 127;
}

static char *pki_path(struct options *o, int slot, const char *dir,
                      const char *name)
{
  size_t n = strlen(dir) + strlen(name) + 2;

  if (!(o->pki_paths[slot] = malloc(n)))
    return NULL;
  snprintf(o->pki_paths[slot], n, "%s/%s", dir, name);
  return o->pki_paths[slot];
}

/*
 * TLS is the default: given no serving certificate and no explicit
 * --insecure-port, make a cluster PKI in --cert-dir (kept across runs)
 * and serve with it, with its CA trusted for client certificates and
 * its service-account keys, unless flags name others.  The admin
 * kubeconfig there works with kubectl at once.
 */
static int default_pki(struct options *o)
{
  char dir[4096], server[128];
  struct kapi_pki_opts po = {0};
  const char *slash;

  if (o->tls_cert_file || o->port_set || o->list_plugins)
    return 0;
  if (o->cert_dir) {
    snprintf(dir, sizeof dir, "%s", o->cert_dir);
  } else if ((slash = strrchr(o->data_dir, '/')) && slash != o->data_dir) {
    snprintf(dir, sizeof dir, "%.*s/pki", (int)(slash - o->data_dir),
             o->data_dir);
  } else {
    snprintf(dir, sizeof dir, "pki");
  }
  snprintf(server, sizeof server, "https://%s:%d", o->secure_bind_address,
           o->secure_port ? o->secure_port : 6443);
  po.dir = dir;
  po.server = server;
  if (make_dirs(dir) < 0 || kapi_pki_init(&po) < 0) {
    LOG_ERROR("--cert-dir %s: cannot create the cluster certificates", dir);
    return -EIO;
  }
  o->tls_cert_file = pki_path(o, 0, dir, "apiserver.crt");
  o->tls_key_file = pki_path(o, 1, dir, "apiserver.key");
  if (!o->client_ca_file)
    o->client_ca_file = pki_path(o, 2, dir, "ca.crt");
  if (!o->sa.signing_key_file && !o->sa.n_key_files) {
    o->sa.signing_key_file = pki_path(o, 3, dir, "sa.key");
    if (kapi_sa_flag_append(o->sa.key_files, &o->sa.n_key_files,
                            pki_path(o, 4, dir, "sa.pub")) < 0)
      return -E2BIG;
  }
  if (!o->tls_cert_file || !o->tls_key_file || !o->client_ca_file ||
      !o->sa.signing_key_file)
    return -ENOMEM;
  LOG_INFO("no --tls-cert-file: serving with the cluster certificates in %s "
           "(kubectl: KUBECONFIG=%s/admin.kubeconfig)", dir, dir);
  return 0;
}

static int check_serving_flags(const struct options *o)
{
  if (!o->tls_cert_file != !o->tls_key_file) {
    LOG_ERROR("--tls-cert-file and --tls-private-key-file must be given "
              "together");
    return -EINVAL;
  }
  if (o->client_ca_file && !o->tls_cert_file) {
    LOG_ERROR("--client-ca-file needs --tls-cert-file and "
              "--tls-private-key-file");
    return -EINVAL;
  }
  if (serves_insecure(o) && !is_loopback(o->bind_address)) {
    LOG_ERROR("--insecure-bind-address %s: plain HTTP is served on loopback "
              "addresses only", o->bind_address);
    return -EINVAL;
  }
  return 0;
}

/* Starts the HTTPS and/or the plain HTTP listener and logs each. */
static int start_serving(kapi_server *srv, const struct options *o)
{
  kapi_server_options ho = {0};
  char err[1024];

  ho.threads = o->threads;
  if (o->tls_cert_file) {
    ho.bind_address = o->secure_bind_address;
    ho.port = o->secure_port;
    ho.tls_cert_file = o->tls_cert_file;
    ho.tls_key_file = o->tls_key_file;
    ho.client_ca_file = o->client_ca_file;
    if (kapi_server_start(srv, &ho, err, sizeof err) < 0) {
      LOG_ERROR("%s", err);
      return -1;
    }
    LOG_INFO("serving securely on https://%s:%d", o->secure_bind_address,
             srv->secure_port);
  }
  if (serves_insecure(o)) {
    memset(&ho, 0, sizeof ho);
    ho.threads = o->threads;
    ho.bind_address = o->bind_address;
    ho.port = o->port;
    if (kapi_server_start(srv, &ho, err, sizeof err) < 0) {
      LOG_ERROR("%s", err);
      return -1;
    }
  }
  return 0;
}

/*
 * The loopback credential, as upstream makes one at every start: a
 * random bearer token only this process knows, and a random uid for the
 * user it names (system:apiserver).  Hex strings in the buffers.
 */
static int make_loopback_credentials(char token[65], char uid[37])
{
  unsigned char t[32], u[16];

  if (RAND_bytes(t, sizeof t) != 1 || RAND_bytes(u, sizeof u) != 1)
    return -EIO;
  for (size_t i = 0; i < sizeof t; i++)
    sprintf(token + 2 * i, "%02x", t[i]);
  u[6] = (u[6] & 0x0f) | 0x40; /* a version 4 UUID */
  u[8] = (u[8] & 0x3f) | 0x80;
  snprintf(uid, 37,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
           u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
           u[11], u[12], u[13], u[14], u[15]);
  return 0;
}

/*
 * The manifests directory's client talks to this server over loopback
 * with the loopback token: HTTPS when serving it, else plain HTTP.  A
 * loopback HTTPS connection skips certificate verification: the port is
 * this process's own listening socket, so nothing else can answer there.
 * A non-loopback bind address is verified against the serving
 * certificate itself.
 */
static int start_manifests(const kapi_server *srv, const struct options *o,
                           const char *token, kapi_manifests **ret)
{
  kapi_manifests_options mo = {0};
  char url[300], state[4096];
  const char *host = srv->mhd_secure ? o->secure_bind_address
                                     : o->bind_address;
  int loopback;

  if (!strcmp(host, "0.0.0.0") || !strcmp(host, "::") || !*host)
    host = "127.0.0.1";
  loopback = is_loopback(host) || !strcmp(host, "::1");
  snprintf(url, sizeof url, "%s://%s%s%s:%d",
           srv->mhd_secure ? "https" : "http", strchr(host, ':') ? "[" : "",
           host, strchr(host, ':') ? "]" : "",
           srv->mhd_secure ? srv->secure_port : srv->port);
  snprintf(state, sizeof state, "%s/manifests-state.json", o->data_dir);
  mo.dir = o->manifests_dir;
  mo.state_file = state;
  mo.server = url;
  mo.token = token;
  if (srv->mhd_secure && loopback)
    mo.insecure = 1;
  else if (srv->mhd_secure)
    mo.ca_file = o->tls_cert_file;
  mo.resync_s = o->manifests_resync_s;
  return kapi_manifests_start(&mo, ret);
}

int main(int argc, char **argv)
{
  struct options o;
  kapi_store_options so = {0};
  kapi_server srv = {0};
  kapi_registry reg = {0};
  kapi_plugins *ps;
  kapi_store *store = NULL;
  kapi_audit *audit = NULL;
  kapi_sa_signer *sa_signer = NULL;
  kapi_manifests *manifests = NULL;
  char loopback_token[65], loopback_uid[37];
  kj *cfg;
  char err[1024];
  sigset_t sigs;
  int sig, rc = 1;
  struct timespec t0, t1;

  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (parse_options(argc, argv, &o) < 0)
    return 2;
  if (default_pki(&o) < 0 || check_serving_flags(&o) < 0)
    return 2;
  cfg = o.config_file ? read_config(o.config_file) : kj_object();
  if (!cfg || apply_flags(cfg, &o) < 0)
    return 1;
  /* The service account authenticator's configuration goes into cfg
   * before the plugins load; the signer is ready before serving. */
  if (kapi_sa_configure(&o.sa, cfg, &sa_signer, err, sizeof err) < 0) {
    LOG_ERROR("%s", err);
    kj_free(cfg);
    return 1;
  }
  if (o.admission_config_file &&
      kapi_admission_config_read(o.admission_config_file, cfg, err,
                                 sizeof err) < 0) {
    LOG_ERROR("%s", err);
    kj_free(cfg);
    return 1;
  }
  ps = kapi_plugins_new(cfg);
  if (!ps || load_plugins(ps, &o, cfg) < 0)
    goto out;
  if (o.list_plugins) {
    kapi_plugins_print(ps, stdout);
    rc = 0;
    goto out;
  }
  if (kapi_registry_build(&reg, ps, err, sizeof err) < 0) {
    LOG_ERROR("%s", err);
    goto out;
  }
  if (make_dirs(o.data_dir) < 0) {
    LOG_ERROR("cannot create --data-dir %s: %s", o.data_dir, strerror(errno));
    goto out;
  }
  so.dir = o.data_dir;
  so.fsync = o.fsync;
  if (kapi_store_open(&so, &store, err, sizeof err) < 0) {
    LOG_ERROR("cannot open the store in %s: %s", o.data_dir, err);
    goto out;
  }
  srv.store = store;
  srv.plugins = ps;
  srv.registry = &reg;
  srv.sa_signer = sa_signer;
  srv.start_time = time(NULL);
  if (make_loopback_credentials(loopback_token, loopback_uid) < 0) {
    LOG_ERROR("cannot make the loopback token: RAND_bytes failed");
    goto out;
  }
  srv.loopback_token = loopback_token;
  srv.loopback_uid = loopback_uid;
  kapi_host_bind_server(&srv);
  kapi_host_set_store_get(kapi_host_store_get);
  if (kapi_server_seed(&srv, err, sizeof err) < 0) {
    LOG_ERROR("%s", err);
    goto out;
  }

  /* Signals are taken synchronously by this thread; block them before
   * any server thread starts so that they inherit the mask. */
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);

  /* Upstream logs nothing without both a policy and a log path. */
  if (o.audit_policy_file && o.audit_log_path &&
      kapi_audit_open(o.audit_policy_file, o.audit_log_path, &audit, err,
                      sizeof err) < 0) {
    LOG_ERROR("%s", err);
    goto out;
  }
  srv.audit = audit;
  if (start_serving(&srv, &o) < 0) {
    kapi_server_stop(&srv);
    goto out;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  if (srv.mhd)
    LOG_INFO("serving on http://%s:%d (revision %lld, ready in %.1f ms)",
             o.bind_address, srv.port, (long long)kapi_store_revision(store),
             (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
  else
    LOG_INFO("ready (revision %lld, ready in %.1f ms)",
             (long long)kapi_store_revision(store),
             (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
  if (o.manifests_dir &&
      start_manifests(&srv, &o, loopback_token, &manifests) < 0) {
    kapi_server_stop(&srv);
    goto out;
  }
  /* Start-up (loading the store, parsing the bootstrap policy, plugin
   * set-up) leaves freed heap behind: give those pages back rather than
   * carry them idle. */
  malloc_trim(0);
  sigwait(&sigs, &sig);
  LOG_INFO("received signal %d, shutting down", sig);
  kapi_manifests_stop(manifests);
  kapi_server_stop(&srv);
  rc = 0;
out:
  if (store)
    kapi_store_close(store);
  kapi_audit_close(audit);
  OPENSSL_cleanse(loopback_token, sizeof loopback_token);
  for (size_t i = 0; i < sizeof o.pki_paths / sizeof o.pki_paths[0]; i++)
    free(o.pki_paths[i]);
  free(o.admission_plugins);
  free(o.disable_admission_plugins);
  kapi_sa_signer_free(sa_signer);
  kapi_registry_free(&reg);
  if (ps)
    kapi_plugins_free(ps);
  kj_free(cfg);
  return rc;
}
