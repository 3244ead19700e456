/*
 * service_account.c - the ServiceAccount admission plugin.
 *
 * Upstream: plugin/pkg/admission/serviceaccount/admission.go.  On pod
 * CREATE:
 *  - a pod without spec.serviceAccountName gets "default";
 *  - the service account must exist (403 "error looking up service
 *    account NS/NAME: serviceaccount "NAME" not found");
 *  - unless the pod or the service account sets
 *    automountServiceAccountToken false, the pod gets the projected
 *    volume kube-api-access-XXXXX (a 3607-second token, the cluster CA
 *    from the kube-root-ca.crt ConfigMap, the namespace) mounted
 *    read-only at /var/run/secrets/kubernetes.io/serviceaccount in every
 *    container and init container that has nothing mounted there;
 *  - a pod without imagePullSecrets gets the service account's;
 *  - with the annotation kubernetes.io/enforce-mountable-secrets=true on
 *    the service account, the pod may only use the secrets it lists.
 * Mirror pods (kubernetes.io/config.mirror) are left alone but may not
 * reference service accounts, secrets or token projections.  Updates of
 * pods/ephemeralcontainers are checked against mountable secrets too.
 * That spec.serviceAccountName never changes afterwards is the pod
 * resource's update validation (registry/pod).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "kapi/plugin.h"

#define DEFAULT_SA "default"
#define VOLUME_PREFIX "kube-api-access-"
#define TOKEN_MOUNT_PATH "/var/run/secrets/kubernetes.io/serviceaccount"
#define MIRROR_ANNOTATION "kubernetes.io/config.mirror"
#define ENFORCE_ANNOTATION "kubernetes.io/enforce-mountable-secrets"

/* TokenVolumeSource: what the kubelet projects into the volume.  3607 is
 * WarnOnlyBoundTokenExpirationSeconds: the API server extends such pod
 * tokens and warns once they are used past the hour. */
static const char token_volume_source[] =
    "{\"sources\":["
    "{\"serviceAccountToken\":{\"expirationSeconds\":3607,\"path\":\"token\"}},"
    "{\"configMap\":{\"name\":\"kube-root-ca.crt\","
    "\"items\":[{\"key\":\"ca.crt\",\"path\":\"ca.crt\"}]}},"
    "{\"downwardAPI\":{\"items\":[{\"path\":\"namespace\",\"fieldRef\":"
    "{\"apiVersion\":\"v1\",\"fieldPath\":\"metadata.namespace\"}}]}}],"
    "\"defaultMode\":420}";

static const kapi_host_api *api;

/* ---- reading objects ------------------------------------------------------- */

static int nonempty(const char *s)
{
  return s && *s;
}

static int streq(const char *a, const char *b)
{
  return a && b && !strcmp(a, b);
}

/* The member `key` of an object (keys may hold '/': no pointer). */
static const kapi_obj *member(const kapi_obj *obj, const char *key)
{
  size_t i, n;

  if (api->obj_type(obj) != KAPI_OBJ_OBJECT)
    return NULL;
  n = api->obj_len(obj);
  for (i = 0; i < n; i++)
    if (streq(api->obj_key(obj, i), key))
      return api->obj_index(obj, i);
  return NULL;
}

static const char *str_of(const kapi_obj *v)
{
  return api->obj_type(v) == KAPI_OBJ_STRING ? api->obj_get(v, "") : NULL;
}

static const char *annotation(const kapi_obj *obj, const char *key)
{
  return str_of(member(api->obj_lookup(obj, "/metadata/annotations"), key));
}

/* An optional boolean: 1 true, 0 false, -1 unset. */
static int opt_bool(const kapi_obj *obj, const char *ptr)
{
  const kapi_obj *v = api->obj_lookup(obj, ptr);

  if (api->obj_type(v) != KAPI_OBJ_BOOL)
    return -1;
  return streq(api->obj_get(v, ""), "true");
}

/* strconv.ParseBool's true values. */
static int parse_bool_true(const char *s)
{
  static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
  size_t i;

  for (i = 0; s && i < sizeof yes / sizeof *yes; i++)
    if (!strcmp(s, yes[i]))
      return 1;
  return 0;
}

/* ---- errors ---------------------------------------------------------------------- */

/* admission.NewForbidden: `pods "NAME" is forbidden: <why>`, the name
 * being the object's (or its generateName, or "Unknown"). */
static int forbid(const kapi_req *r, const kapi_obj *pod, kapi_error *e,
                  const char *fmt, ...) KAPI_PRINTF(4, 5);
static int forbid(const kapi_req *r, const kapi_obj *pod, kapi_error *e,
                  const char *fmt, ...)
{
  const char *name = api->req_get(r, "name");
  char why[1024];
  va_list ap;

  if (!nonempty(name))
    name = api->obj_get(pod, "/metadata/name");
  if (!nonempty(name))
    name = api->obj_get(pod, "/metadata/generateName");
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  api->error_set(e, 403, "Forbidden", "pods \"%s\" is forbidden: %s",
                 nonempty(name) ? name : "Unknown", why);
  return -EPERM;
}

/* ---- the service account -------------------------------------------------------- */

static void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

  nanosleep(&ts, NULL);
}

/*
 * getServiceAccount: *sa is the stored service account (obj_free).  The
 * default one is waited for a little, since the serviceaccount
 * controller creates it just after its namespace.  Returns 0, or <0
 * with `why` set to upstream's cause.
 */
static int get_service_account(const char *ns, const char *name,
                               kapi_obj **sa, char *why, size_t len)
{
  int attempts = streq(name, DEFAULT_SA) ? 10 : 1, i, rc = -ENOENT;
  unsigned short jitter = 0;

  if (getrandom(&jitter, sizeof jitter, GRND_NONBLOCK) < 0)
    jitter = 50;
  for (i = 0; i < attempts; i++) {
    if (i)
      sleep_ms(100 + jitter % 100);
    rc = api->store_get("", "serviceaccounts", ns, name, sa);
    if (rc != -ENOENT)
      break;
  }
  if (rc == -ENOENT)
    snprintf(why, len, "serviceaccount \"%s\" not found", name);
  else if (rc < 0)
    snprintf(why, len, "%s", strerror(-rc));
  return rc;
}

/* ---- secrets a pod references (podutil.VisitPodSecretNames) ---------------------- */

typedef int (*secret_fn)(void *arg, const char *what, const char *name);

/* Env and envFrom of every container of the list ("containers"...),
 * with the description upstream's messages use ("init container"). */
static int visit_container_secrets(const kapi_obj *pod, const char *list,
                                   const char *kind, secret_fn fn, void *arg)
{
  char ptr[64], what[512];
  const kapi_obj *cs;
  size_t i, j, n;
  int rc;

  snprintf(ptr, sizeof ptr, "/spec/%s", list);
  cs = api->obj_lookup(pod, ptr);
  n = api->obj_len(cs);
  for (i = 0; i < n; i++) {
    const kapi_obj *c = api->obj_index(cs, i);
    const char *cname = api->obj_get(c, "/name");
    const kapi_obj *env = api->obj_lookup(c, "/env");
    const kapi_obj *from = api->obj_lookup(c, "/envFrom");

    for (j = 0; j < api->obj_len(env); j++) {
      const kapi_obj *ev = api->obj_index(env, j);
      const char *s = api->obj_get(ev, "/valueFrom/secretKeyRef/name");
      if (!s)
        continue;
      snprintf(what, sizeof what, "%s %s with envVar %s", kind,
               cname ? cname : "", api->obj_get(ev, "/name") ?
               api->obj_get(ev, "/name") : "");
      if ((rc = fn(arg, what, s)))
        return rc;
    }
    for (j = 0; j < api->obj_len(from); j++) {
      const char *s = api->obj_get(api->obj_index(from, j), "/secretRef/name");
      if (!s)
        continue;
      snprintf(what, sizeof what, "%s %s with envFrom", kind,
               cname ? cname : "");
      if ((rc = fn(arg, what, s)))
        return rc;
    }
  }
  return 0;
}

/* Secret names in the pod's volumes (the what argument is "volume"). */
static int visit_volume_secrets(const kapi_obj *pod, secret_fn fn, void *arg)
{
  /* Volume sources that name a secret, and where. */
  static const char *const refs[] = {
      "/secret/secretName",          "/azureFile/secretName",
      "/cephfs/secretRef/name",      "/cinder/secretRef/name",
      "/flexVolume/secretRef/name",  "/rbd/secretRef/name",
      "/scaleIO/secretRef/name",     "/iscsi/secretRef/name",
      "/storageos/secretRef/name",   "/csi/nodePublishSecretRef/name"};
  const kapi_obj *vols = api->obj_lookup(pod, "/spec/volumes");
  size_t i, j, k;
  int rc;

  for (i = 0; i < api->obj_len(vols); i++) {
    const kapi_obj *v = api->obj_index(vols, i);
    const kapi_obj *srcs = api->obj_lookup(v, "/projected/sources");

    for (k = 0; k < sizeof refs / sizeof *refs; k++) {
      const char *s = api->obj_get(v, refs[k]);
      if (s && (rc = fn(arg, "volume", s)))
        return rc;
    }
    for (j = 0; j < api->obj_len(srcs); j++) {
      const char *s = api->obj_get(api->obj_index(srcs, j), "/secret/name");
      if (s && (rc = fn(arg, "volume", s)))
        return rc;
    }
  }
  return 0;
}

static int visit_pod_secrets(const kapi_obj *pod, secret_fn fn, void *arg)
{
  const kapi_obj *pulls = api->obj_lookup(pod, "/spec/imagePullSecrets");
  size_t i;
  int rc;

  for (i = 0; i < api->obj_len(pulls); i++) {
    const char *s = api->obj_get(api->obj_index(pulls, i), "/name");
    if (s && (rc = fn(arg, "imagePullSecret", s)))
      return rc;
  }
  if ((rc = visit_container_secrets(pod, "initContainers", "init container",
                                    fn, arg)) ||
      (rc = visit_container_secrets(pod, "containers", "container", fn,
                                    arg)) ||
      (rc = visit_container_secrets(pod, "ephemeralContainers",
                                    "ephemeral container", fn, arg)))
    return rc;
  return visit_volume_secrets(pod, fn, arg);
}

static int any_secret(void *arg, const char *what, const char *name)
{
  (void)arg;
  (void)what;
  (void)name;
  return 1;
}

/* ---- mountable secrets (enforce-mountable-secrets) ------------------------------- */

static int listed(const kapi_obj *sa, const char *list, const char *name)
{
  char ptr[32];
  const kapi_obj *v;
  size_t i;

  snprintf(ptr, sizeof ptr, "/%s", list);
  v = api->obj_lookup(sa, ptr);
  for (i = 0; i < api->obj_len(v); i++)
    if (streq(api->obj_get(api->obj_index(v, i), "/name"), name))
      return 1;
  return 0;
}

typedef struct limit_ctx {
  const kapi_obj *sa;
  char why[1024];
} limit_ctx;

/* An env, envFrom or volume secret must be in the account's secrets. */
static int check_mountable(void *arg, const char *what, const char *name)
{
  limit_ctx *c = arg;
  const char *sa_name = api->obj_get(c->sa, "/metadata/name");

  if (listed(c->sa, "secrets", name))
    return 0;
  snprintf(c->why, sizeof c->why,
           "%s referencing secret.secretName=\"%s\" is not allowed because "
           "service account %s does not reference that secret", what, name,
           sa_name ? sa_name : "");
  if (!strcmp(what, "volume"))
    snprintf(c->why, sizeof c->why,
             "volume with secret.secretName=\"%s\" is not allowed because "
             "service account %s does not reference that secret", name,
             sa_name ? sa_name : "");
  return 1;
}

static int enforce_mountable(const kapi_obj *sa)
{
  return parse_bool_true(annotation(sa, ENFORCE_ANNOTATION));
}

/* limitSecretReferences: volumes, then env of init containers and
 * containers, then imagePullSecrets against the account's lists. */
static int limit_secret_references(const kapi_obj *sa, const kapi_obj *pod,
                                   char *why, size_t len)
{
  const kapi_obj *pulls = api->obj_lookup(pod, "/spec/imagePullSecrets");
  limit_ctx c = {sa, ""};
  size_t i;

  if (visit_volume_secrets(pod, check_mountable, &c) ||
      visit_container_secrets(pod, "initContainers", "init container",
                              check_mountable, &c) ||
      visit_container_secrets(pod, "containers", "container",
                              check_mountable, &c)) {
    snprintf(why, len, "%s", c.why);
    return -EPERM;
  }
  for (i = 0; i < api->obj_len(pulls); i++) {
    const char *name = api->obj_get(api->obj_index(pulls, i), "/name");
    if (name && !listed(sa, "imagePullSecrets", name)) {
      snprintf(why, len, "imagePullSecrets[%zu].name=\"%s\" is not allowed "
               "because service account %s does not reference that "
               "imagePullSecret", i, name,
               api->obj_get(sa, "/metadata/name"));
      return -EPERM;
    }
  }
  return 0;
}

/* ---- mounting the token -------------------------------------------------------------- */

/* Makes the array at ptr exist (a pointer ending in "-" would make an
 * object member otherwise) and returns the pointer that appends to it. */
static int array_end(kapi_obj *obj, const char *ptr, char *item, size_t len)
{
  if (api->obj_type(api->obj_lookup(obj, ptr)) != KAPI_OBJ_ARRAY &&
      api->obj_set_json(obj, ptr, "[]") < 0)
    return -ENOMEM;
  snprintf(item, len, "%s/-", ptr);
  return 0;
}

/* Appends a copy of value to the array at ptr, creating the array. */
static int append_copy(kapi_obj *obj, const char *ptr, const kapi_obj *value)
{
  char item[128];

  return array_end(obj, ptr, item, sizeof item) < 0
             ? -ENOMEM
             : api->obj_set_copy(obj, item, value);
}

/* The token's volume and mount without their names, parsed once at init
 * and copied per pod (ABI 1.3's obj_set_copy: a copy costs less than
 * parsing the projected volume's text each time); the names are set
 * after the copy, with obj_set_str.  `empty` is {} for pull secrets. */
static kapi_obj *volume_tpl, *mount_tpl, *empty_tpl;

/* names.SimpleNameGenerator: 5 characters without vowels. */
static void generate_volume_name(char *buf, size_t len)
{
  static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  unsigned char rnd[5] = {0};
  char suffix[6];
  size_t i;

  if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
    for (i = 0; i < sizeof rnd; i++)
      rnd[i] = (unsigned char)(rand() & 0xff);
  for (i = 0; i < 5; i++)
    suffix[i] = alphabet[rnd[i] % (sizeof alphabet - 1)];
  suffix[5] = '\0';
  snprintf(buf, len, VOLUME_PREFIX "%s", suffix);
}

/* Pod's preference wins, then the service account's; default true. */
static int should_automount(const kapi_obj *sa, const kapi_obj *pod)
{
  int v = opt_bool(pod, "/spec/automountServiceAccountToken");

  if (v >= 0)
    return v;
  v = opt_bool(sa, "/automountServiceAccountToken");
  return v >= 0 ? v : 1;
}

/* Adds the mount to each container of the list that has nothing at the
 * token path; returns how many got it. */
static int mount_in(kapi_obj *pod, const char *list, const char *volume)
{
  char ptr[128];
  const kapi_obj *cs;
  size_t i, j, n;
  int added = 0;

  snprintf(ptr, sizeof ptr, "/spec/%s", list);
  cs = api->obj_lookup(pod, ptr);
  n = api->obj_len(cs);
  for (i = 0; i < n; i++) {
    const kapi_obj *mounts = api->obj_lookup(api->obj_index(cs, i),
                                             "/volumeMounts");
    size_t at = api->obj_len(mounts); /* where the new mount goes */
    int present = 0;
    for (j = 0; j < at && !present; j++)
      present = streq(api->obj_get(api->obj_index(mounts, j), "/mountPath"),
                      TOKEN_MOUNT_PATH);
    if (present)
      continue;
    snprintf(ptr, sizeof ptr, "/spec/%s/%zu/volumeMounts", list, i);
    if (append_copy(pod, ptr, mount_tpl) < 0)
      continue;
    snprintf(ptr, sizeof ptr, "/spec/%s/%zu/volumeMounts/%zu/name", list, i,
             at);
    if (api->obj_set_str(pod, ptr, volume) == 0)
      added++;
  }
  return added;
}

/* mountServiceAccountToken. */
static int mount_token(kapi_obj *pod)
{
  const kapi_obj *vols = api->obj_lookup(pod, "/spec/volumes");
  char name[64] = "", ptr[64];
  size_t i;
  int have = 0, needed;

  for (i = 0; i < api->obj_len(vols) && !have; i++) {
    const char *v = api->obj_get(api->obj_index(vols, i), "/name");
    if (v && !strncmp(v, VOLUME_PREFIX, strlen(VOLUME_PREFIX))) {
      snprintf(name, sizeof name, "%s", v);
      have = 1;
    }
  }
  if (!have)
    generate_volume_name(name, sizeof name);
  needed = mount_in(pod, "initContainers", name);
  needed += mount_in(pod, "containers", name);
  if (have || !needed)
    return 0;
  /* The name goes in with obj_set_str: an existing volume's name is the
   * client's text, not JSON. */
  snprintf(ptr, sizeof ptr, "/spec/volumes/%zu/name", api->obj_len(vols));
  if (append_copy(pod, "/spec/volumes", volume_tpl) < 0)
    return -ENOMEM;
  return api->obj_set_str(pod, ptr, name);
}

/* The service account's imagePullSecrets, for a pod that has none. */
static int copy_pull_secrets(kapi_obj *pod, const kapi_obj *sa)
{
  const kapi_obj *from = api->obj_lookup(sa, "/imagePullSecrets");
  size_t i;
  int rc = 0;

  if (api->obj_len(api->obj_lookup(pod, "/spec/imagePullSecrets")) ||
      !api->obj_len(from))
    return 0;
  rc = api->obj_set_json(pod, "/spec/imagePullSecrets", "[]");
  for (i = 0; rc == 0 && i < api->obj_len(from); i++) {
    const char *name = api->obj_get(api->obj_index(from, i), "/name");
    char ptr[64];
    rc = append_copy(pod, "/spec/imagePullSecrets", empty_tpl);
    snprintf(ptr, sizeof ptr, "/spec/imagePullSecrets/%zu/name", i);
    if (rc == 0)
      rc = api->obj_set_str(pod, ptr, name ? name : "");
  }
  return rc;
}

/* ---- the plugin ------------------------------------------------------------------------ */

/* shouldIgnore: pods and pods/ephemeralcontainers only. */
static int ignored(const kapi_req *r, const kapi_obj *obj)
{
  const char *group = api->req_get(r, "apiGroup");
  const char *resource = api->req_get(r, "resource");
  const char *sub = api->req_get(r, "subresource");

  return !obj || nonempty(group) || !streq(resource, "pods") ||
         (nonempty(sub) && strcmp(sub, "ephemeralcontainers"));
}

static int is_mirror(const kapi_obj *pod)
{
  return member(api->obj_lookup(pod, "/metadata/annotations"),
                MIRROR_ANNOTATION) != NULL;
}

static int has_token_projection(const kapi_obj *pod)
{
  const kapi_obj *vols = api->obj_lookup(pod, "/spec/volumes");
  size_t i, j;

  for (i = 0; i < api->obj_len(vols); i++) {
    const kapi_obj *srcs = api->obj_lookup(api->obj_index(vols, i),
                                           "/projected/sources");
    for (j = 0; j < api->obj_len(srcs); j++)
      if (api->obj_lookup(api->obj_index(srcs, j), "/serviceAccountToken"))
        return 1;
  }
  return 0;
}

static int validate_mirror(const kapi_req *r, const kapi_obj *pod,
                           kapi_error *e)
{
  if (nonempty(api->obj_get(pod, "/spec/serviceAccountName")))
    return forbid(r, pod, e, "a mirror pod may not reference service "
                             "accounts");
  if (visit_pod_secrets(pod, any_secret, NULL))
    return forbid(r, pod, e, "a mirror pod may not reference secrets");
  if (has_token_projection(pod))
    return forbid(r, pod, e, "a mirror pod may not use ServiceAccountToken "
                             "volume projections");
  return 0;
}

/* The account the pod runs as: it must exist; *ret (may be NULL) gets
 * it.  Errors are upstream's 403s. */
static int lookup_for_pod(const kapi_req *r, const kapi_obj *pod,
                          kapi_obj **ret, kapi_error *e)
{
  const char *ns = api->req_get(r, "namespace");
  const char *name = api->obj_get(pod, "/spec/serviceAccountName");
  kapi_obj *sa = NULL;
  char why[512];

  if (ret)
    *ret = NULL;
  if (!nonempty(name))
    return forbid(r, pod, e, "no service account specified for pod %s/%s",
                  ns ? ns : "", api->obj_get(pod, "/metadata/name") ?
                  api->obj_get(pod, "/metadata/name") : "");
  if (get_service_account(ns, name, &sa, why, sizeof why) < 0)
    return forbid(r, pod, e, "error looking up service account %s/%s: %s",
                  ns ? ns : "", name, why);
  if (ret)
    *ret = sa;
  else
    api->obj_free(sa);
  return 0;
}

/* limitEphemeralContainerSecretReferences. */
static int validate_ephemeral(const kapi_req *r, const kapi_obj *pod,
                              kapi_error *e)
{
  kapi_obj *sa = NULL;
  limit_ctx c = {NULL, ""};
  int rc = lookup_for_pod(r, pod, &sa, e);

  if (rc < 0 || !enforce_mountable(sa)) {
    api->obj_free(sa);
    return rc;
  }
  c.sa = sa;
  if (visit_container_secrets(pod, "ephemeralContainers",
                              "ephemeral container", check_mountable, &c))
    rc = forbid(r, pod, e, "%s", c.why);
  api->obj_free(sa);
  return rc;
}

static int sa_validate(void *st, const kapi_req *r, const kapi_obj *pod,
                       kapi_error *e)
{
  const char *op = api->req_get(r, "operation");
  const char *sub = api->req_get(r, "subresource");
  kapi_obj *sa = NULL;
  char why[1024];
  int rc;

  (void)st;
  if (ignored(r, pod))
    return 0;
  if (streq(op, "UPDATE") && streq(sub, "ephemeralcontainers"))
    return validate_ephemeral(r, pod, e);
  if (!streq(op, "CREATE"))
    return 0;
  if (is_mirror(pod))
    return validate_mirror(r, pod, e);
  if ((rc = lookup_for_pod(r, pod, &sa, e)) < 0)
    return rc;
  if (enforce_mountable(sa) &&
      limit_secret_references(sa, pod, why, sizeof why) < 0)
    rc = forbid(r, pod, e, "%s", why);
  api->obj_free(sa);
  return rc;
}

static int sa_admit(void *st, kapi_req *r, kapi_obj *pod, kapi_error *e)
{
  const char *op = api->req_get(r, "operation");
  kapi_obj *sa = NULL;
  int rc;

  if (ignored(r, pod) || !streq(op, "CREATE"))
    return 0;
  /* The kubelet deletes a mirror pod whose spec differs from its file. */
  if (is_mirror(pod))
    return sa_validate(st, r, pod, e);
  if (!nonempty(api->obj_get(pod, "/spec/serviceAccountName")) &&
      api->obj_set_str(pod, "/spec/serviceAccountName", DEFAULT_SA) < 0)
    goto nomem;
  if ((rc = lookup_for_pod(r, pod, &sa, e)) < 0)
    return rc;
  rc = 0;
  if (should_automount(sa, pod))
    rc = mount_token(pod);
  if (rc == 0)
    rc = copy_pull_secrets(pod, sa);
  api->obj_free(sa);
  if (rc < 0)
    goto nomem;
  return sa_validate(st, r, pod, e);
nomem:
  api->error_set(e, 500, "InternalError",
                 "Internal error occurred: ServiceAccount admission: %s",
                 strerror(ENOMEM));
  return -ENOMEM;
}

static const kapi_admission_ops sa_ops = {
    .size = sizeof(kapi_admission_ops),
    .handles = KAPI_OP_CREATE | KAPI_OP_UPDATE,
    .admit = sa_admit,
    .validate = sa_validate,
};

/* Parses a template; NULL when out of memory. */
static kapi_obj *parse_template(const char *json)
{
  kapi_obj *t = NULL;

  return api->obj_parse(json, strlen(json), &t, NULL) == 0 ? t : NULL;
}

static void sa_fini(kapi_plugin *self)
{
  (void)self;
  api->obj_free(volume_tpl);
  api->obj_free(mount_tpl);
  api->obj_free(empty_tpl);
  volume_tpl = mount_tpl = empty_tpl = NULL;
}

static int sa_init(kapi_plugin *self, const kapi_host_api *host,
                   const char *config, size_t config_len, kapi_error *e)
{
  char volume[sizeof token_volume_source + 32];

  (void)config;
  (void)config_len;
  api = host;
  /* Plugins load only into hosts of their ABI minor or newer, but the
   * ABI asks to test members newer than 1.0 all the same. */
  if (!KAPI_API_HAS(api, obj_parse) || !KAPI_API_HAS(api, obj_set_copy)) {
    api->error_set(e, 500, "InternalError",
                   "ServiceAccount needs a host API of ABI 1.3 "
                   "(obj_parse, obj_set_copy)");
    return -ENOTSUP;
  }
  snprintf(volume, sizeof volume, "{\"name\":\"\",\"projected\":%s}",
           token_volume_source);
  volume_tpl = parse_template(volume);
  mount_tpl = parse_template("{\"name\":\"\",\"readOnly\":true,"
                             "\"mountPath\":\"" TOKEN_MOUNT_PATH "\"}");
  empty_tpl = parse_template("{}");
  if (!volume_tpl || !mount_tpl || !empty_tpl) {
    sa_fini(self);
    return -ENOMEM;
  }
  return api->register_admission(self, "ServiceAccount", &sa_ops, NULL,
                                 NULL);
}

KAPI_PLUGIN_DEFINE(.name = "service-account", .version = "0.1.0",
                   .description = "ServiceAccount admission: default service "
                                  "account and the API token volume",
                   .license = "Apache-2.0", .init = sa_init, .fini = sa_fini);
