/*
 * request.c - request attributes: the request-info parser (upstream's
 * RequestInfoFactory) and the accessors plugins read them through.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "request.h"

/* Splits a path into at most `max` non-empty segments (in place). */
static size_t split_path(char *p, char **parts, size_t max)
{
  size_t n = 0;
  char *save = NULL, *tok;
  for (tok = strtok_r(p, "/", &save); tok && n < max;
       tok = strtok_r(NULL, "/", &save))
    parts[n++] = tok;
  return n;
}

static int dup_into(char **dst, const char *s)
{
  free(*dst);
  *dst = strdup(s ? s : "");
  return *dst ? 0 : -ENOMEM;
}

int kapi_query_bool(const char *v)
{
  static const char *const truths[] = {"1", "t", "T", "TRUE", "true", "True",
                                       NULL};
  const char *const *t;
  for (t = truths; v && *t; t++)
    if (!strcmp(v, *t))
      return 1;
  return 0;
}

static const char *verb_for_method(const kapi_req *r, int has_name)
{
  int is_watch = kapi_query_bool(r->query ? r->query(r->conn, "watch") : NULL);

  if (!strcmp(r->method, "GET") || !strcmp(r->method, "HEAD")) {
    if (is_watch)
      return "watch";
    return has_name ? "get" : "list";
  }
  if (!strcmp(r->method, "POST"))
    return "create";
  if (!strcmp(r->method, "PUT"))
    return "update";
  if (!strcmp(r->method, "PATCH"))
    return "patch";
  if (!strcmp(r->method, "DELETE"))
    return has_name ? "delete" : "deletecollection";
  return "";
}

static const char *operation_for_verb(const char *verb)
{
  if (!strcmp(verb, "create"))
    return "CREATE";
  if (!strcmp(verb, "update") || !strcmp(verb, "patch"))
    return "UPDATE";
  if (!strcmp(verb, "delete") || !strcmp(verb, "deletecollection"))
    return "DELETE";
  return NULL;
}

/* A non-resource request: verb is the lower-case HTTP method. */
static int non_resource(kapi_req *r)
{
  char verb[16];
  size_t i;
  for (i = 0; r->method[i] && i < sizeof verb - 1; i++)
    verb[i] = (char)(r->method[i] | 0x20);
  verb[i] = '\0';
  r->is_resource_request = 0;
  return dup_into(&r->verb, verb);
}

int kapi_req_parse_info(kapi_req *r)
{
  char *copy, *parts[16];
  size_t n, i = 0;
  int ret = -ENOMEM;
  const char *ns = "", *resource = "", *name = "", *sub = "";
  int legacy_watch = 0;

  copy = strdup(r->path);
  if (!copy)
    return -ENOMEM;
  n = split_path(copy, parts, 16);
  if (n < 1 || (strcmp(parts[0], "api") && strcmp(parts[0], "apis"))) {
    free(copy);
    return non_resource(r);
  }
  if (dup_into(&r->api_prefix, parts[0]) < 0)
    goto out;
  i = 1;
  if (!strcmp(parts[0], "apis")) {
    if (n < 3) {
      free(copy);
      return non_resource(r);
    }
    if (dup_into(&r->api_group, parts[i++]) < 0)
      goto out;
  } else if (n < 2 || dup_into(&r->api_group, "") < 0) {
    free(copy);
    return non_resource(r);
  }
  if (dup_into(&r->api_version, parts[i++]) < 0)
    goto out;
  if (i == n) { /* /api/v1: discovery, not a resource */
    free(copy);
    return non_resource(r);
  }
  if (!strcmp(parts[i], "watch")) { /* legacy /watch/ paths */
    legacy_watch = 1;
    i++;
  }
  if (i < n && !strcmp(parts[i], "namespaces") && i + 1 < n) {
    /* /namespaces/{ns}/{resource}..., unless it is the namespace's own
     * subresource (status, finalize). */
    if (i + 2 < n && strcmp(parts[i + 2], "status") &&
        strcmp(parts[i + 2], "finalize")) {
      ns = parts[i + 1];
      i += 2;
    }
  }
  if (i < n)
    resource = parts[i++];
  if (i < n)
    name = parts[i++];
  if (i < n)
    sub = parts[i++];
  if (!strcmp(resource, "namespaces") && *name)
    ns = name;
  r->is_resource_request = 1;
  if (dup_into(&r->namespace_, ns) < 0 || dup_into(&r->resource, resource) < 0 ||
      dup_into(&r->name, name) < 0 || dup_into(&r->subresource, sub) < 0)
    goto out;
  if (dup_into(&r->verb, legacy_watch ? "watch" : verb_for_method(r, *name)) < 0)
    goto out;
  r->operation = operation_for_verb(r->verb);
  ret = 0;
out:
  free(copy);
  return ret;
}

void kapi_req_reset(kapi_req *r)
{
  free(r->path);
  free(r->verb);
  free(r->api_prefix);
  free(r->api_group);
  free(r->api_version);
  free(r->namespace_);
  free(r->resource);
  free(r->subresource);
  free(r->name);
  kj_free(r->user);
  kj_free(r->impersonator);
  kj_free(r->audit_annotations);
  free(r->tls_client_cn);
  for (size_t i = 0; i < r->tls_client_ngroups; i++)
    free(r->tls_client_groups[i]);
  free(r->tls_client_groups);
  memset(r, 0, sizeof *r);
}

/* ---- accessors for plugins ------------------------------------------ */

static const char *empty_null(const char *s) { return s && *s ? s : NULL; }

const char *kapi_req_get(const kapi_req *r, const char *key)
{
  if (!strcmp(key, "verb"))
    return r->verb;
  if (!strcmp(key, "namespace"))
    return empty_null(r->namespace_);
  if (!strcmp(key, "resource"))
    return empty_null(r->resource);
  if (!strcmp(key, "subresource"))
    return empty_null(r->subresource);
  if (!strcmp(key, "name"))
    return empty_null(r->name);
  if (!strcmp(key, "apiGroup"))
    return r->api_group;
  if (!strcmp(key, "apiVersion"))
    return r->api_version;
  if (!strcmp(key, "path"))
    return r->path;
  if (!strcmp(key, "operation"))
    return r->operation;
  if (!strcmp(key, "dryRun"))
    return r->dry_run ? "true" : "false";
  if (!strcmp(key, "fieldSelector") || !strcmp(key, "labelSelector"))
    return r->query && r->conn ? r->query(r->conn, key) : NULL;
  if (!strcmp(key, "user.name"))
    return kj_get_str(r->user, "username");
  if (!strcmp(key, "user.uid"))
    return kj_get_str(r->user, "uid");
  if (!strcmp(key, "tls.client.cn"))
    return r->tls_client_cn;
  if (!strncmp(key, "tls.client.o.", 13)) {
    char *end;
    unsigned long i = strtoul(key + 13, &end, 10);
    return key[13] && !*end ? kapi_req_tls_client_group(r, i) : NULL;
  }
  return NULL;
}

const char *kapi_req_tls_client_group(const kapi_req *r, size_t i)
{
  return i < r->tls_client_ngroups ? r->tls_client_groups[i] : NULL;
}

const char *kapi_req_group(const kapi_req *r, size_t i)
{
  return kj_str(kj_at(kj_get(r->user, "groups"), i));
}

const kapi_obj *kapi_req_old_object(const kapi_req *r)
{
  return r->old_object;
}

const char *kapi_req_header(const kapi_req *r, const char *name)
{
  return r->header ? r->header(r->conn, name) : NULL;
}
