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

/* ---- configuration: a small JSON reader -------------------------------
 *
 * The host hands us JSON text; the ABI deliberately offers no parser for
 * it (plugins link against nothing), and this configuration is two keys,
 * so a strict little scanner is all we need. */

typedef struct scan {
  const char *p, *end;
  kapi_error *e;
  int reported; /* e holds a message already */
} scan;

static void skip_space(scan *s)
{
  while (s->p < s->end && strchr(" \t\r\n", *s->p))
    s->p++;
}

static int peek(scan *s, char c)
{
  skip_space(s);
  return s->p < s->end && *s->p == c;
}

static int expect(scan *s, char c)
{
  if (!peek(s, c))
    return -EINVAL;
  s->p++;
  return 0;
}

static int hex_digit(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Writes code point cp as UTF-8 to *o. */
static void put_utf8(char **o, unsigned cp)
{
  char *q = *o;

  if (cp < 0x80) {
    *q++ = (char)cp;
  } else if (cp < 0x800) {
    *q++ = (char)(0xc0 | (cp >> 6));
    *q++ = (char)(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    *q++ = (char)(0xe0 | (cp >> 12));
    *q++ = (char)(0x80 | ((cp >> 6) & 0x3f));
    *q++ = (char)(0x80 | (cp & 0x3f));
  } else {
    *q++ = (char)(0xf0 | (cp >> 18));
    *q++ = (char)(0x80 | ((cp >> 12) & 0x3f));
    *q++ = (char)(0x80 | ((cp >> 6) & 0x3f));
    *q++ = (char)(0x80 | (cp & 0x3f));
  }
  *o = q;
}

/* Reads 4 hex digits after "\u"; -1 if they are not there. */
static long read_hex4(scan *s)
{
  long v = 0;
  int i, d;

  if (s->end - s->p < 4)
    return -1;
  for (i = 0; i < 4; i++) {
    if ((d = hex_digit(s->p[i])) < 0)
      return -1;
    v = v * 16 + d;
  }
  s->p += 4;
  return v;
}

/* A JSON string at s->p: *ret gets it decoded (caller frees).  UTF-8 out
 * is never longer than the escaped input, so one allocation suffices. */
static int read_string(scan *s, char **ret)
{
  char *out, *o;
  long cp, lo;

  if (expect(s, '"') < 0)
    return -EINVAL;
  out = o = malloc((size_t)(s->end - s->p) + 1);
  if (!out)
    return -ENOMEM;
  while (s->p < s->end && *s->p != '"') {
    if ((unsigned char)*s->p < 0x20)
      goto bad;
    if (*s->p != '\\') {
      *o++ = *s->p++;
      continue;
    }
    if (++s->p >= s->end)
      goto bad;
    switch (*s->p++) {
    case '"': *o++ = '"'; break;
    case '\\': *o++ = '\\'; break;
    case '/': *o++ = '/'; break;
    case 'b': *o++ = '\b'; break;
    case 'f': *o++ = '\f'; break;
    case 'n': *o++ = '\n'; break;
    case 'r': *o++ = '\r'; break;
    case 't': *o++ = '\t'; break;
    case 'u':
      if ((cp = read_hex4(s)) < 0)
        goto bad;
      /* A surrogate pair is one code point. */
      if (cp >= 0xd800 && cp < 0xdc00 && s->end - s->p >= 6 &&
          s->p[0] == '\\' && s->p[1] == 'u') {
        s->p += 2;
        if ((lo = read_hex4(s)) < 0xdc00 || lo > 0xdfff)
          goto bad;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
      }
      put_utf8(&o, (unsigned)cp);
      break;
    default: goto bad;
    }
  }
  if (s->p >= s->end)
    goto bad;
  s->p++;
  *o = '\0';
  *ret = out;
  return 0;
bad:
  free(out);
  return -EINVAL;
}

/* Skips one JSON value of any type (containers by depth). */
static int skip_value(scan *s)
{
  int depth = 0;
  char *str;

  skip_space(s);
  do {
    if (s->p >= s->end)
      return -EINVAL;
    if (*s->p == '"') {
      if (read_string(s, &str) < 0)
        return -EINVAL;
      free(str);
    } else {
      if (*s->p == '{' || *s->p == '[')
        depth++;
      else if (*s->p == '}' || *s->p == ']')
        depth--;
      s->p++;
    }
    skip_space(s);
  } while (depth > 0 || (s->p < s->end && !strchr(",}]", *s->p)));
  return depth == 0 ? 0 : -EINVAL;
}

/* ---- configuration: the policy ------------------------------------- */

static void config_error(scan *s, const char *fmt, const char *arg)
{
  char what[512];

  snprintf(what, sizeof what, fmt, arg);
  api->error_set(s->e, 500, "InternalError",
                 COMPONENT ": invalid configuration: %s; expected "
                 "{\"allowedPrefixes\": [\"registry.example.com/\", ...], "
                 "\"message\": \"...\" (optional)}",
                 what);
  s->reported = 1;
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

/* "allowedPrefixes": an array of non-empty strings. */
static int read_prefixes(scan *s, policy *p)
{
  char *prefix, index[32];
  int rc;

  if (expect(s, '[') < 0)
    goto not_strings;
  if (peek(s, ']'))
    return expect(s, ']');
  do {
    if (!peek(s, '"'))
      goto not_strings;
    if ((rc = read_string(s, &prefix)) < 0)
      return rc;
    if (!*prefix) {
      free(prefix);
      snprintf(index, sizeof index, "allowedPrefixes[%zu]", p->n_prefixes);
      config_error(s, "%s is empty: it would allow every image", index);
      return -EINVAL;
    }
    if ((rc = add_prefix(p, prefix)) < 0) {
      free(prefix);
      return rc;
    }
  } while (expect(s, ',') == 0);
  return expect(s, ']');
not_strings:
  config_error(s, "%s", "allowedPrefixes must be a list of strings");
  return -EINVAL;
}

static int read_member(scan *s, policy *p)
{
  char *key;
  int rc;

  if ((rc = read_string(s, &key)) < 0)
    return rc;
  if ((rc = expect(s, ':')) < 0) {
    free(key);
    return rc;
  }
  if (!strcmp(key, "allowedPrefixes")) {
    rc = read_prefixes(s, p);
  } else if (!strcmp(key, "message")) {
    free(p->message);
    p->message = NULL;
    if (peek(s, '"')) {
      rc = read_string(s, &p->message);
    } else {
      config_error(s, "%s", "message must be a string");
      rc = -EINVAL;
    }
  } else if (!strcmp(key, "apiVersion") || !strcmp(key, "kind")) {
    /* A typed configuration object carries these; nothing to read. */
    rc = skip_value(s);
  } else {
    /* A misspelt key would otherwise leave the policy silently open. */
    config_error(s, "unknown field \"%s\" (known: allowedPrefixes, message)",
                 key);
    rc = -EINVAL;
  }
  free(key);
  return rc;
}

static int parse_config(scan *s, policy *p)
{
  int rc;

  if (expect(s, '{') < 0) {
    config_error(s, "%s", "not a JSON object");
    return -EINVAL;
  }
  if (!peek(s, '}'))
    do {
      if ((rc = read_member(s, p)) < 0)
        return rc;
    } while (expect(s, ',') == 0);
  if (expect(s, '}') < 0)
    return -EINVAL;
  skip_space(s);
  return s->p == s->end ? 0 : -EINVAL;
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
 * policy_free).  Every failure leaves its reason in e. */
static int load_policy(const char *json, size_t len, policy **ret,
                       kapi_error *e)
{
  scan s = {json, json + len, e, 0};
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
  p = calloc(1, sizeof *p);
  if (!p)
    return -ENOMEM;
  rc = parse_config(&s, p);
  if (rc == -EINVAL && !s.reported)
    api->error_set(e, 500, "InternalError",
                   COMPONENT ": invalid configuration: malformed JSON at "
                   "offset %zu", (size_t)(s.p - json));
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
