/*
 * image_policy.c - ImagePolicy: an out-of-tree kapi admission plugin that
 * lets pods run only images from allowed registries.
 *
 * A third party's plugin: it includes <kapi/plugin.h> and nothing else of
 * kapi's, and is built with one cc line (see README.md).
 *
 * Configuration (JSON, from an AdmissionConfiguration entry named
 * "ImagePolicy", or "plugins": {"image-policy": {...}} in --config):
 *
 *   {"allowedPrefixes": ["registry.example.com/", "docker.io/library/"],
 *    "message": "optional text that replaces the list in refusals"}
 *
 * An image is allowed when the reference as written, or its fully
 * qualified form (docker's normalisation: "nginx" is
 * "docker.io/library/nginx", "team/app" is "docker.io/team/app"), starts
 * with one of the prefixes.  Every container, init container and
 * ephemeral container is checked, in pods and in the pod templates of
 * the workload resources (replicasets, deployments, statefulsets,
 * daemonsets, jobs, cronjobs, replicationcontrollers, podtemplates).  On
 * UPDATE only images that changed are checked, so objects admitted
 * before the policy was tightened can still be relabelled or scaled.
 *
 * The plugin validates (it never changes an object).  Its state is
 * read-only after init, so the request path needs no locks.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kapi/plugin.h>

#define COMPONENT "ImagePolicy"

static const kapi_host_api *api;
static kapi_plugin *self_plugin;

/* Read-only after init; owned by the plugin, freed in fini. */
typedef struct policy {
  char **prefixes;    /* allowed prefixes, n_prefixes of them */
  size_t n_prefixes;
  char *message;      /* "message" from the configuration, or NULL */
  char *allowed_text; /* "a, b, c": the list as refusals show it */
} policy;

static policy *the_policy;

static void policy_free(policy *p)
{
  size_t i;

  if (!p)
    return;
  for (i = 0; i < p->n_prefixes; i++)
    free(p->prefixes[i]);
  free(p->prefixes);
  free(p->message);
  free(p->allowed_text);
  free(p);
}

/* ---- configuration -----------------------------------------------------
 *
 * The host hands us JSON text and, since ABI 1.2, its own parser for it:
 * api->obj_parse gives a kapi_obj that we read with the same accessors as
 * the objects of requests, so the plugin holds no JSON code of its own.
 * What we keep is copied out of it: the parsed value is freed at once. */

static void config_error(kapi_error *e, const char *fmt, const char *arg)
{
  char what[512];

  snprintf(what, sizeof what, fmt, arg);
  api->error_set(e, 500, "InternalError",
                 COMPONENT ": invalid configuration: %s; expected "
                 "{\"allowedPrefixes\": [\"registry.example.com/\", ...], "
                 "\"message\": \"...\" (optional)}",
                 what);
}

static int add_prefix(policy *p, char *prefix)
{
  char **v = realloc(p->prefixes, (p->n_prefixes + 1) * sizeof *v);

  if (!v)
    return -ENOMEM;
  p->prefixes = v;
  p->prefixes[p->n_prefixes++] = prefix;
  return 0;
}

/* "allowedPrefixes": an array of non-empty strings.  The types are
 * checked, since obj_get also answers the text of numbers and bools. */
static int read_prefixes(const kapi_obj *list, policy *p, kapi_error *e)
{
  const kapi_obj *item;
  char *prefix, index[48]; /* room for any size_t */
  size_t i, n;
  int rc;

  if (api->obj_type(list) != KAPI_OBJ_ARRAY)
    goto not_strings;
  n = api->obj_len(list);
  for (i = 0; i < n; i++) {
    item = api->obj_index(list, i);
    if (api->obj_type(item) != KAPI_OBJ_STRING)
      goto not_strings;
    if (!*api->obj_get(item, NULL)) {
      snprintf(index, sizeof index, "allowedPrefixes[%zu]", i);
      config_error(e, "%s is empty: it would allow every image", index);
      return -EINVAL;
    }
    if (!(prefix = strdup(api->obj_get(item, NULL))))
      return -ENOMEM;
    if ((rc = add_prefix(p, prefix)) < 0) {
      free(prefix);
      return rc;
    }
  }
  return 0;
not_strings:
  config_error(e, "%s", "allowedPrefixes must be a list of strings");
  return -EINVAL;
}

static int read_member(const char *key, const kapi_obj *value, policy *p,
                       kapi_error *e)
{
  if (!strcmp(key, "allowedPrefixes"))
    return read_prefixes(value, p, e);
  if (!strcmp(key, "message")) {
    if (api->obj_type(value) != KAPI_OBJ_STRING) {
      config_error(e, "%s", "message must be a string");
      return -EINVAL;
    }
    free(p->message);
    p->message = strdup(api->obj_get(value, NULL));
    return p->message ? 0 : -ENOMEM;
  }
  /* A typed configuration object carries these; nothing to read. */
  if (!strcmp(key, "apiVersion") || !strcmp(key, "kind"))
    return 0;
  /* A misspelt key would otherwise leave the policy silently open. */
  config_error(e, "unknown field \"%s\" (known: allowedPrefixes, message)",
               key);
  return -EINVAL;
}

/* The members in the order of the text, so the first bad one is the one
 * reported.  A syntax error is reported by obj_parse itself: e gets the
 * host's 400 ("invalid JSON: ..."). */
static int parse_config(const char *json, size_t len, policy *p,
                        kapi_error *e)
{
  kapi_obj *config;
  size_t i, n;
  int rc;

  if ((rc = api->obj_parse(json, len, &config, e)) < 0)
    return rc;
  if (api->obj_type(config) != KAPI_OBJ_OBJECT) {
    config_error(e, "%s", "not a JSON object");
    rc = -EINVAL;
  } else {
    n = api->obj_len(config);
    for (i = 0; i < n && rc == 0; i++)
      rc = read_member(api->obj_key(config, i), api->obj_index(config, i), p,
                       e);
  }
  api->obj_free(config);
  return rc;
}

/* "a, b, c" for refusals, built once. */
static int build_allowed_text(policy *p)
{
  size_t i, n = 1;

  for (i = 0; i < p->n_prefixes; i++)
    n += strlen(p->prefixes[i]) + 2;
  p->allowed_text = malloc(n);
  if (!p->allowed_text)
    return -ENOMEM;
  p->allowed_text[0] = '\0';
  for (i = 0; i < p->n_prefixes; i++) {
    if (i)
      strcat(p->allowed_text, ", ");
    strcat(p->allowed_text, p->prefixes[i]);
  }
  return 0;
}

/* "registry.example.com" without the slash also matches
 * "registry.example.com.evil.io/...": say so at start. */
static void warn_open_prefixes(const policy *p)
{
  size_t i;

  for (i = 0; i < p->n_prefixes; i++)
    if (!strchr(p->prefixes[i], '/'))
      api->log(self_plugin, KAPI_LOG_WARNING,
               "allowed prefix \"%s\" has no '/': it also "
               "matches every registry whose name starts with it",
               p->prefixes[i]);
}

/* Parses the configuration (borrowed) into *ret (caller frees with
 * policy_free).  Every failure but out-of-memory leaves its reason in e. */
static int load_policy(const char *json, size_t len, policy **ret,
                       kapi_error *e)
{
  policy *p;
  int rc;

  if (!json || !len) {
    api->error_set(e, 500, "InternalError",
                   COMPONENT ": no configuration: it needs {\"allowedPrefixes\":"
                   " [\"registry.example.com/\", ...]} from an entry named "
                   COMPONENT " in the AdmissionConfiguration file "
                   "(--admission-control-config-file)");
    return -EINVAL;
  }
  /* Members newer than ABI 1.0 are tested before use (plugin.h). */
  if (!KAPI_API_HAS(api, obj_parse)) {
    api->error_set(e, 500, "InternalError",
                   COMPONENT ": the server offers no JSON parser (obj_parse): "
                   "it needs kapi ABI >= 1.2");
    return -ENOSYS;
  }
  p = calloc(1, sizeof *p);
  if (!p)
    return -ENOMEM;
  rc = parse_config(json, len, p, e);
  if (rc == 0 && p->n_prefixes == 0) {
    api->error_set(e, 500, "InternalError",
                   COMPONENT ": allowedPrefixes is empty: list at least one "
                   "registry or image prefix (e.g. \"registry.example.com/\")");
    rc = -EINVAL;
  }
  if (rc == 0)
    rc = build_allowed_text(p);
  if (rc < 0) {
    policy_free(p);
    return rc;
  }
  warn_open_prefixes(p);
  *ret = p;
  return 0;
}

/* ---- images ------------------------------------------------------------ */

static int has_prefix(const char *s, const char *prefix)
{
  return !strncmp(s, prefix, strlen(prefix));
}

/*
 * The fully qualified form of an image reference, as docker's reference
 * normalisation writes it: a first component that is no host name (no
 * '.' or ':', not "localhost") means Docker Hub, and a Hub name without
 * a '/' lives under "library/".  Writes into buf; returns buf.
 */
static const char *qualified_image(const char *image, char *buf, size_t len)
{
  const char *slash = strchr(image, '/');
  size_t first = slash ? (size_t)(slash - image) : 0;
  int is_host = slash && (memchr(image, '.', first) ||
                          memchr(image, ':', first) ||
                          (first == 9 && !strncmp(image, "localhost", 9)));
  int is_hub = !is_host ||
               (first == 9 && !strncmp(image, "docker.io", 9)) ||
               (first == 15 && !strncmp(image, "index.docker.io", 15));
  const char *path = is_host ? slash + 1 : image;

  if (is_hub)
    snprintf(buf, len, "docker.io/%s%s", strchr(path, '/') ? "" : "library/",
             path);
  else
    snprintf(buf, len, "%s", image);
  return buf;
}

static int image_allowed(const policy *p, const char *image)
{
  char qualified[1024];
  size_t i;

  qualified_image(image, qualified, sizeof qualified);
  for (i = 0; i < p->n_prefixes; i++)
    if (has_prefix(image, p->prefixes[i]) ||
        has_prefix(qualified, p->prefixes[i]))
      return 1;
  return 0;
}

/* ---- what to check ------------------------------------------------------ */

/* Where a resource keeps its pod spec (JSON pointer; "" is the object). */
typedef struct pod_spec_at {
  const char *group, *resource, *pointer;
} pod_spec_at;

static const pod_spec_at pod_specs[] = {
  {"", "pods", "/spec"},
  {"", "podtemplates", "/template/spec"},
  {"", "replicationcontrollers", "/spec/template/spec"},
  {"apps", "replicasets", "/spec/template/spec"},
  {"apps", "deployments", "/spec/template/spec"},
  {"apps", "statefulsets", "/spec/template/spec"},
  {"apps", "daemonsets", "/spec/template/spec"},
  {"batch", "jobs", "/spec/template/spec"},
  {"batch", "cronjobs", "/spec/jobTemplate/spec/template/spec"},
};

static const struct container_list {
  const char *field; /* in the pod spec */
  const char *what;  /* in messages */
} container_lists[] = {
  {"containers", "container"},
  {"initContainers", "init container"},
  {"ephemeralContainers", "ephemeral container"},
};

static int nonempty(const char *s)
{
  return s && *s;
}

/* The pod spec pointer of the request's resource, or NULL when the
 * request carries no pod spec.  Subresources carry other objects
 * (status, scale), except a pod's ephemeral containers. */
static const char *pod_spec_pointer(const kapi_req *r)
{
  const char *group = api->req_get(r, "apiGroup");
  const char *resource = api->req_get(r, "resource");
  const char *sub = api->req_get(r, "subresource");
  size_t i;

  if (!resource)
    return NULL;
  if (!group)
    group = "";
  for (i = 0; i < sizeof pod_specs / sizeof pod_specs[0]; i++) {
    if (strcmp(pod_specs[i].group, group) ||
        strcmp(pod_specs[i].resource, resource))
      continue;
    if (nonempty(sub) && (i != 0 || strcmp(sub, "ephemeralcontainers")))
      return NULL;
    return pod_specs[i].pointer;
  }
  return NULL;
}

/* The name admission errors use: the request's, else the object's name
 * or generateName (admission.NewForbidden). */
static const char *subject_name(const kapi_req *r, const kapi_obj *obj)
{
  const char *name = api->req_get(r, "name");

  if (!nonempty(name))
    name = api->obj_get(obj, "/metadata/name");
  if (!nonempty(name))
    name = api->obj_get(obj, "/metadata/generateName");
  return nonempty(name) ? name : "Unknown";
}

static void refuse(const policy *p, const kapi_req *r, const kapi_obj *obj,
                   const char *what, const char *container,
                   const char *image, kapi_error *e)
{
  const char *resource = api->req_get(r, "resource");
  const char *group = api->req_get(r, "apiGroup");

  api->error_set(e, 403, "Forbidden",
                 "%s%s%s \"%s\" is forbidden: image \"%s\" of %s \"%s\" is "
                 "not from an allowed registry%s%s%s",
                 resource, nonempty(group) ? "." : "",
                 nonempty(group) ? group : "", subject_name(r, obj), image,
                 what, container ? container : "",
                 p->message ? ": " : " (allowed: ",
                 p->message ? p->message : p->allowed_text,
                 p->message ? "" : ")");
}

/* On UPDATE an image already stored at the same place is not new. */
static int image_unchanged(const kapi_obj *old, const char *pointer,
                           const char *image)
{
  const char *before = old ? api->obj_get(old, pointer) : NULL;

  return before && !strcmp(before, image);
}

/* Checks one list of containers; 0 or -EPERM with e set. */
static int check_list(const policy *p, const kapi_req *r,
                      const kapi_obj *obj, const kapi_obj *old,
                      const char *spec, const struct container_list *l,
                      kapi_error *e)
{
  char pointer[256];
  const kapi_obj *list, *c;
  const char *image;
  size_t i, n;

  snprintf(pointer, sizeof pointer, "%s/%s", spec, l->field);
  list = api->obj_lookup(obj, pointer);
  if (api->obj_type(list) != KAPI_OBJ_ARRAY)
    return 0;
  n = api->obj_len(list);
  for (i = 0; i < n; i++) {
    c = api->obj_index(list, i);
    image = api->obj_get(c, "/image");
    /* No image at all is the pod validation's to report. */
    if (!nonempty(image) || image_allowed(p, image))
      continue;
    snprintf(pointer, sizeof pointer, "%s/%s/%zu/image", spec, l->field, i);
    if (image_unchanged(old, pointer, image))
      continue;
    refuse(p, r, obj, l->what, api->obj_get(c, "/name"), image, e);
    return -EPERM;
  }
  return 0;
}

static int image_policy_validate(void *st, const kapi_req *r,
                                 const kapi_obj *obj, kapi_error *e)
{
  const policy *p = st;
  const char *spec = pod_spec_pointer(r);
  const char *op = api->req_get(r, "operation");
  const kapi_obj *old = NULL;
  size_t i;
  int rc;

  if (!spec || !obj)
    return 0;
  if (op && !strcmp(op, "UPDATE"))
    old = api->req_old_object(r);
  for (i = 0; i < sizeof container_lists / sizeof container_lists[0]; i++)
    if ((rc = check_list(p, r, obj, old, spec, &container_lists[i], e)) < 0)
      return rc;
  return 0;
}

/* ---- registration ------------------------------------------------------ */

static const kapi_admission_ops image_policy_ops = {
  .size = sizeof(kapi_admission_ops),
  .handles = KAPI_OP_CREATE | KAPI_OP_UPDATE,
  .validate = image_policy_validate,
};

static int image_policy_init(kapi_plugin *self, const kapi_host_api *host,
                             const char *config, size_t config_len,
                             kapi_error *e)
{
  static const kapi_order order = {.priority = KAPI_ORDER_LAST};
  policy *p;
  int rc;

  api = host;
  self_plugin = self;
  if ((rc = load_policy(config, config_len, &p, e)) < 0)
    return rc;
  rc = api->register_admission(self, COMPONENT, &image_policy_ops, p, &order);
  if (rc < 0) {
    policy_free(p);
    return rc;
  }
  the_policy = p;
  api->log(self, 1, "%zu allowed prefix(es): %s", p->n_prefixes,
           p->allowed_text);
  return 0;
}

static void image_policy_fini(kapi_plugin *self)
{
  (void)self;
  policy_free(the_policy);
  the_policy = NULL;
}

KAPI_PLUGIN_DEFINE(.name = "image-policy", .version = "0.1.0",
                   .description = "ImagePolicy admission: pods may only run "
                                  "images from allowed registries",
                   .license = "Apache-2.0", .init = image_policy_init,
                   .fini = image_policy_fini);
