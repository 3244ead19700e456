/*
 * admission_config.c - see admission_config.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission_config.h"
#include "kyaml.h"

/* Upstream's AllOrderedPlugins (kube-apiserver 1.32) and whether each is
 * on by default.  Only registered ones can run; the rest keep their
 * places so that flags naming them get upstream's answers. */
static const struct {
  const char *name;
  int default_on;
} ordered[] = {
    {"AlwaysAdmit", 0},
    {"NamespaceAutoProvision", 0},
    {"NamespaceLifecycle", 1},
    {"NamespaceExists", 0},
    {"LimitPodHardAntiAffinityTopology", 0},
    {"LimitRanger", 1},
    {"ServiceAccount", 1},
    {"NodeRestriction", 0},
    {"TaintNodesByCondition", 1},
    {"AlwaysPullImages", 0},
    {"ImagePolicyWebhook", 0},
    {"PodSecurity", 1},
    {"PodNodeSelector", 0},
    {"Priority", 1},
    {"DefaultTolerationSeconds", 1},
    {"PodTolerationRestriction", 0},
    {"EventRateLimit", 0},
    {"ExtendedResourceToleration", 0},
    {"DefaultStorageClass", 1},
    {"StorageObjectInUseProtection", 1},
    {"OwnerReferencesPermissionEnforcement", 0},
    {"PersistentVolumeClaimResize", 1},
    {"RuntimeClass", 1},
    {"CertificateApproval", 1},
    {"CertificateSigning", 1},
    {"ClusterTrustBundleAttest", 1},
    {"CertificateSubjectRestriction", 1},
    {"DefaultIngressClass", 1},
    {"DenyServiceExternalIPs", 0},
    {"MutatingAdmissionWebhook", 1}, /* third-party plugins run here */
    {"ValidatingAdmissionPolicy", 1},
    {"ValidatingAdmissionWebhook", 1},
    {"ResourceQuota", 1},
    {"AlwaysDeny", 0},
};
#define N_ORDERED (sizeof ordered / sizeof ordered[0])
#define THIRD_PARTY_SLOT "MutatingAdmissionWebhook"

static long known_index(const char *name)
{
  for (size_t i = 0; i < N_ORDERED; i++)
    if (!strcmp(ordered[i].name, name))
      return (long)i;
  return -1;
}

/* "A,B" contains name (whitespace around items ignored). */
static int list_has(const char *list, const char *name)
{
  size_t n = strlen(name);
  const char *p = list;

  while (p && *p) {
    const char *end = strchr(p, ',');
    const char *a = p, *b = end ? end : p + strlen(p);
    while (a < b && (*a == ' ' || *a == '\t'))
      a++;
    while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
      b--;
    if ((size_t)(b - a) == n && !strncmp(a, name, n))
      return 1;
    p = end ? end + 1 : NULL;
  }
  return 0;
}

static int is_registered(const kapi_plugins *ps, const char *name)
{
  size_t i, n = kapi_plugins_count(ps, KAPI_KIND_ADMISSION);

  for (i = 0; i < n; i++)
    if (!strcmp(kapi_plugins_at(ps, KAPI_KIND_ADMISSION, i)->name, name))
      return 1;
  return 0;
}

/* Every name of a flag is known upstream or registered here. */
static int check_flag(const kapi_plugins *ps, const char *flag,
                      const char *list, const char *other, char *err,
                      size_t errlen)
{
  char *copy = list ? strdup(list) : NULL, *save = NULL, *tok;
  int rc = 0;

  for (tok = copy ? strtok_r(copy, ", \t", &save) : NULL; tok && !rc;
       tok = strtok_r(NULL, ", \t", &save)) {
    int known = known_index(tok) >= 0, loaded = is_registered(ps, tok);
    if (!known && !loaded) {
      snprintf(err, errlen, "%s plugin \"%s\" is unknown", flag, tok);
      rc = -ENOENT;
    } else if (!strcmp(flag, "enable-admission-plugins") && !loaded) {
      snprintf(err, errlen,
               "%s plugin \"%s\" is not loaded: no plugin in the plugin "
               "directories registers it", flag, tok);
      rc = -ENOENT;
    } else if (other && list_has(other, tok)) {
      snprintf(err, errlen,
               "%s in enable-admission-plugins and disable-admission-plugins "
               "overlapped", tok);
      rc = -EINVAL;
    }
  }
  free(copy);
  return rc;
}

static void add_third_party(const kapi_plugins *ps, const char *disable,
                            const char **v, size_t *n)
{
  size_t i, count = kapi_plugins_count(ps, KAPI_KIND_ADMISSION);

  for (i = 0; i < count; i++) {
    const char *name = kapi_plugins_at(ps, KAPI_KIND_ADMISSION, i)->name;
    if (known_index(name) < 0 && !list_has(disable, name))
      v[(*n)++] = name;
  }
}

int kapi_admission_select(const kapi_plugins *ps, const char *enable,
                          const char *disable, const char ***ret, char *err,
                          size_t errlen)
{
  size_t count = kapi_plugins_count(ps, KAPI_KIND_ADMISSION), n = 0, i;
  const char **v;
  int rc;

  *ret = NULL;
  if ((rc = check_flag(ps, "enable-admission-plugins", enable, disable, err,
                       errlen)) < 0 ||
      (rc = check_flag(ps, "disable-admission-plugins", disable, NULL, err,
                       errlen)) < 0)
    return rc;
  v = calloc(count + 1, sizeof *v);
  if (!v)
    return -ENOMEM;
  for (i = 0; i < N_ORDERED; i++) {
    const char *name = ordered[i].name;
    if (!strcmp(name, THIRD_PARTY_SLOT))
      add_third_party(ps, disable, v, &n);
    if (!is_registered(ps, name) || list_has(disable, name))
      continue;
    if (ordered[i].default_on || list_has(enable, name))
      v[n++] = name;
  }
  *ret = v;
  return 0;
}

/* ---- AdmissionConfiguration ------------------------------------------ */

static int config_error(char *err, size_t errlen, int rc, const char *path,
                        const char *what)
{
  snprintf(err, errlen, "--admission-control-config-file %s: %s", path, what);
  return rc;
}

/* An entry's `path`: relative to the AdmissionConfiguration's directory. */
static int read_entry_file(const char *config_path, const char *rel,
                           kj **ret, char *err, size_t errlen)
{
  char full[4096], why[512];
  const char *slash = strrchr(config_path, '/');

  if (rel[0] == '/' || !slash)
    snprintf(full, sizeof full, "%s", rel);
  else
    snprintf(full, sizeof full, "%.*s/%s", (int)(slash - config_path),
             config_path, rel);
  if (kapi_yaml_read_file(full, ret, why, sizeof why) < 0) {
    snprintf(err, errlen, "--admission-control-config-file %s: plugin "
             "configuration %s: %s", config_path, full, why);
    return -EINVAL;
  }
  return 0;
}

int kapi_admission_config_read(const char *path, kj *cfg, char *err,
                               size_t errlen)
{
  kj *doc = NULL, *out;
  const kj *plugins;
  const char *api_version, *kind;
  char why[512];
  size_t i;
  int rc = 0;

  if (kapi_yaml_read_file(path, &doc, why, sizeof why) < 0)
    return config_error(err, errlen, -EINVAL, path, why);
  api_version = kj_get_str(doc, "apiVersion");
  kind = kj_get_str(doc, "kind");
  if (!kind || strcmp(kind, "AdmissionConfiguration") || !api_version ||
      (strcmp(api_version, "apiserver.config.k8s.io/v1") &&
       strcmp(api_version, "apiserver.config.k8s.io/v1alpha1") &&
       strcmp(api_version, "apiserver.k8s.io/v1alpha1"))) {
    kj_free(doc);
    return config_error(err, errlen, -EINVAL, path,
                        "not an AdmissionConfiguration (want apiVersion "
                        "apiserver.config.k8s.io/v1, kind "
                        "AdmissionConfiguration)");
  }
  out = kj_child_object(cfg, "admissionConfiguration");
  plugins = kj_get(doc, "plugins");
  for (i = 0; out && rc == 0 && i < kj_len(plugins); i++) {
    const kj *entry = kj_at(plugins, i);
    const char *name = kj_get_str(entry, "name");
    const char *file = kj_get_str(entry, "path");
    const kj *inline_cfg = kj_get(entry, "configuration");
    kj *conf = NULL;

    if (!name || !*name) {
      rc = config_error(err, errlen, -EINVAL, path,
                        "plugins[]: name is required");
      break;
    }
    if (file && *file)
      rc = read_entry_file(path, file, &conf, err, errlen);
    else if (inline_cfg)
      rc = (conf = kj_clone(inline_cfg)) ? 0 : -ENOMEM;
    if (rc == 0 && conf && kj_set(out, name, conf) < 0)
      rc = -ENOMEM;
  }
  if (!out)
    rc = -ENOMEM;
  kj_free(doc);
  return rc;
}
