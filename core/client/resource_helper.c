/*
 * resource_helper.c - REST verbs on infos (cli-runtime's resource.Helper):
 * each turns an info's mapping, namespace and name into one call of the
 * REST client.
 *
 * Server-side apply has no typed verb in the client (it needs a query
 * string on a PATCH), so it goes through kapi_client_do and maps the
 * answer to a kapi_result here the way the client's verbs do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "kapi/resource.h"
#include "sbuf.h"

static const char *ns_of(const kapi_info *info)
{
  return info->mapping.namespaced ? info->namespace_ : NULL;
}

static int no_mapping(const kapi_info *info, kj **ret, kapi_result *res)
{
  if (ret)
    *ret = NULL;
  if (res) {
    memset(res, 0, sizeof *res);
    snprintf(res->message, sizeof res->message,
             "%s: the object has no resource mapping",
             info->source ? info->source : "object");
  }
  return -EINVAL;
}

static int no_name(kj **ret, kapi_result *res)
{
  if (ret)
    *ret = NULL;
  if (res) {
    memset(res, 0, sizeof *res);
    snprintf(res->message, sizeof res->message,
             "resource name may not be empty");
  }
  return -EINVAL;
}

/* The object to send, with the info's name and namespace written into
 * it when the info says more than the object (a decorator set them).
 * Returns the info's own object when nothing needs changing; *owned
 * tells whether the caller must free the result. */
static const kj *body_of(const kapi_info *info, kj **owned)
{
  const kj *meta = kj_get(info->object, "metadata");
  const char *name = kj_get_str(meta, "name");
  const char *ns = kj_get_str(meta, "namespace");
  const char *want_ns = ns_of(info);
  kj *copy, *m;

  *owned = NULL;
  if ((!info->name || (name && !strcmp(name, info->name))) &&
      (!want_ns || (ns && !strcmp(ns, want_ns))))
    return info->object;
  if (!(copy = kj_clone(info->object)) ||
      !(m = kj_child_object(copy, "metadata")) ||
      (info->name && kj_set_str(m, "name", info->name) < 0) ||
      (want_ns && kj_set_str(m, "namespace", want_ns) < 0)) {
    kj_free(copy);
    return NULL;
  }
  *owned = copy;
  return copy;
}

static int oom(kj **ret, kapi_result *res)
{
  if (ret)
    *ret = NULL;
  if (res) {
    memset(res, 0, sizeof *res);
    snprintf(res->message, sizeof res->message, "out of memory");
  }
  return -ENOMEM;
}

int kapi_helper_create(kapi_client *c, const kapi_info *info, kj **ret,
                       kapi_result *res)
{
  kapi_gvr g;
  kj *owned;
  const kj *body;
  int r;

  if (!info->mapping.resource)
    return no_mapping(info, ret, res);
  if (!(body = body_of(info, &owned)))
    return oom(ret, res);
  g = kapi_mapping_gvr(&info->mapping);
  r = kapi_client_create(c, &g, ns_of(info), body, ret, res);
  kj_free(owned);
  return r;
}

int kapi_helper_get(kapi_client *c, const kapi_info *info, kj **ret,
                    kapi_result *res)
{
  kapi_gvr g;

  if (!info->mapping.resource)
    return no_mapping(info, ret, res);
  if (!info->name)
    return no_name(ret, res);
  g = kapi_mapping_gvr(&info->mapping);
  return kapi_client_get(c, &g, ns_of(info), info->name, ret, res);
}

/* Upstream's Replace with overwrite: an object without resourceVersion
 * replaces whatever the server has, so it takes the current one. */
int kapi_helper_replace(kapi_client *c, const kapi_info *info, kj **ret,
                        kapi_result *res)
{
  kapi_gvr g;
  kj *owned = NULL, *cur = NULL;
  const kj *body;
  const char *rv;
  int r;

  if (!info->mapping.resource)
    return no_mapping(info, ret, res);
  if (!info->name)
    return no_name(ret, res);
  g = kapi_mapping_gvr(&info->mapping);
  if (!(body = body_of(info, &owned)))
    return oom(ret, res);
  rv = kj_get_str(kj_get(body, "metadata"), "resourceVersion");
  if (!rv || !*rv) {
    r = kapi_client_get(c, &g, ns_of(info), info->name, &cur, res);
    if (r < 0) {
      kj_free(owned);
      if (ret)
        *ret = NULL;
      return r;
    }
    rv = kj_get_str(kj_get(cur, "metadata"), "resourceVersion");
    if (rv) {
      if (!owned && !(owned = kj_clone(info->object))) {
        kj_free(cur);
        return oom(ret, res);
      }
      if (kj_set_str(kj_child_object(owned, "metadata"), "resourceVersion",
                     rv) < 0) {
        kj_free(owned);
        kj_free(cur);
        return oom(ret, res);
      }
      body = owned;
    }
    kj_free(cur);
  }
  r = kapi_client_update(c, &g, ns_of(info), body, NULL, ret, res);
  kj_free(owned);
  return r;
}

int kapi_helper_patch(kapi_client *c, const kapi_info *info,
                      const char *patch_type, const char *patch, kj **ret,
                      kapi_result *res)
{
  kapi_gvr g;

  if (!info->mapping.resource)
    return no_mapping(info, ret, res);
  if (!info->name)
    return no_name(ret, res);
  g = kapi_mapping_gvr(&info->mapping);
  return kapi_client_patch(c, &g, ns_of(info), info->name, NULL, patch_type,
                           patch, ret, res);
}

/* kubectl delete's default: --cascade=background. */
int kapi_helper_delete(kapi_client *c, const kapi_info *info,
                       kapi_result *res)
{
  kapi_gvr g;
  kj *opts;
  int r;

  if (!info->mapping.resource)
    return no_mapping(info, NULL, res);
  if (!info->name)
    return no_name(NULL, res);
  if (!(opts = kj_object()) || kj_set_str(opts, "kind", "DeleteOptions") < 0 ||
      kj_set_str(opts, "apiVersion", "v1") < 0 ||
      kj_set_str(opts, "propagationPolicy", "Background") < 0) {
    kj_free(opts);
    return oom(NULL, res);
  }
  g = kapi_mapping_gvr(&info->mapping);
  r = kapi_client_delete(c, &g, ns_of(info), info->name, opts, res);
  kj_free(opts);
  return r;
}

int kapi_helper_list(kapi_client *c, const kapi_mapping *m, const char *ns,
                     const char *label_selector, kj **ret, kapi_result *res)
{
  kapi_gvr g = kapi_mapping_gvr(m);
  kapi_list_opts o;

  memset(&o, 0, sizeof o);
  o.label_selector = label_selector;
  return kapi_client_list(c, &g, m->namespaced ? ns : NULL, &o, ret, res);
}

/* ---- server-side apply ------------------------------------------------------ */

/* /api/v1/namespaces/NS/pods/NAME or /apis/G/V/... */
static void put_object_path(struct kapi__sbuf *b, const kapi_mapping *m,
                            const char *ns, const char *name)
{
  if (m->group && *m->group)
    kapi__sb_printf(b, "/apis/%s/%s", m->group, m->version);
  else
    kapi__sb_printf(b, "/api/%s", m->version);
  if (m->namespaced && ns && *ns) {
    kapi__sb_puts(b, "/namespaces/");
    kapi__sb_put_escaped(b, ns);
  }
  kapi__sb_printf(b, "/%s/", m->resource);
  kapi__sb_put_escaped(b, name);
}

/* The client's errno for an HTTP status (see client.h). */
static int errno_for(int code, const char *reason)
{
  if (code == 404)
    return -ENOENT;
  if (code == 409)
    return reason && !strcmp(reason, "AlreadyExists") ? -EEXIST : -EBUSY;
  if (code == 401 || code == 403)
    return -EACCES;
  if (code == 400 || code == 422)
    return -EINVAL;
  return -EIO;
}

/* Turns a raw answer into the verb's result, as the client's verbs do;
 * takes over body. */
static int finish_raw(int code, char *body, size_t len, kj **ret,
                      kapi_result *res)
{
  kj *doc = NULL;
  char err[128];
  const char *kind;
  int r;

  if (res) {
    memset(res, 0, sizeof *res);
    res->code = code;
  }
  r = len > 0 ? kj_parse(body, len, &doc, err, sizeof err) : -EINVAL;
  if (code >= 200 && code < 300) {
    free(body);
    if (r < 0) {
      if (res)
        snprintf(res->message, sizeof res->message,
                 "invalid JSON in the response: %s", len ? err : "empty");
      return -EIO;
    }
    if (ret)
      *ret = doc;
    else
      kj_free(doc);
    return 0;
  }
  kind = kj_get_str(doc, "kind");
  if (res) {
    if (kind && !strcmp(kind, "Status")) {
      const char *reason = kj_get_str(doc, "reason");
      const char *msg = kj_get_str(doc, "message");
      snprintf(res->reason, sizeof res->reason, "%s", reason ? reason : "");
      snprintf(res->message, sizeof res->message, "%s", msg ? msg : "");
    } else {
      snprintf(res->message, sizeof res->message,
               "the server responded with the status code %d", code);
    }
  }
  r = errno_for(code, kj_get_str(doc, "reason"));
  kj_free(doc);
  free(body);
  return r;
}

int kapi_helper_apply(kapi_client *c, const kapi_info *info,
                      const char *field_manager, kj **ret, kapi_result *res)
{
  struct kapi__sbuf path = {0};
  const kj *obj;
  kj *owned;
  char *json, *body = NULL;
  size_t len = 0, blen = 0;
  int code = 0, r;

  if (ret)
    *ret = NULL;
  if (!info->mapping.resource)
    return no_mapping(info, ret, res);
  if (!info->name)
    return no_name(ret, res);
  if (!(obj = body_of(info, &owned)))
    return oom(ret, res);
  /* JSON is YAML: the apply patch is the object as it is. */
  json = kj_dump(obj, &len);
  kj_free(owned);
  put_object_path(&path, &info->mapping, ns_of(info), info->name);
  kapi__sb_puts(&path, "?fieldManager=");
  kapi__sb_put_escaped(&path, field_manager && *field_manager ? field_manager
                                                     : "kapictl");
  kapi__sb_puts(&path, "&force=true");
  if (!json || path.oom) {
    free(json);
    kapi__sb_free(&path);
    return oom(ret, res);
  }
  r = kapi_client_do(c, "PATCH", path.s, "application/apply-patch+yaml",
                     json, len, &code, &body, &blen);
  free(json);
  if (r < 0) {
    if (res) {
      memset(res, 0, sizeof *res);
      snprintf(res->message, sizeof res->message, "PATCH %s%s: %s",
               kapi_client_server(c), path.s,
               r == -ENOMEM ? "out of memory" : "the server could not be "
                                                "reached");
    }
    kapi__sb_free(&path);
    return r == -ENOMEM ? r : -EIO;
  }
  kapi__sb_free(&path);
  return finish_raw(code, body, blen, ret, res);
}
