/*
 * discovery.c - /api, /apis and the per-group-version resource lists,
 * legacy and aggregated (apidiscovery.k8s.io), built from the registry.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "discovery.h"
#include "media.h"
#include "rest.h"

/* What a generic-Store resource supports: every verb. */
static const char *const resource_verbs[] = {
    "create", "delete", "deletecollection", "get",
    "list",   "patch",  "update",           "watch",
};

static const char ct_aggregated_v2[] =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
static const char ct_aggregated_v2beta1[] =
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;"
    "as=APIGroupDiscoveryList";

/* ---- Accept negotiation ------------------------------------------------- */

typedef enum disc_format {
  DISC_LEGACY,
  DISC_V2,
  DISC_V2BETA1,
} disc_format;

/* The first range the client lists that we serve decides.  Ranges of
 * other types (such as aggregated discovery in protobuf, which we cannot
 * encode) are skipped. */
static disc_format negotiate(const char *accept)
{
  struct kapi__media_range m;
  const char *p = accept;

  if (!p)
    return DISC_LEGACY;
  while (kapi__media_next(&p, &m)) {
    if (!strcasecmp(m.type, "application/json")) {
      if (!m.as[0])
        return DISC_LEGACY;
      if (!strcmp(m.as, "APIGroupDiscoveryList") &&
          !strcmp(m.g, "apidiscovery.k8s.io")) {
        if (!strcmp(m.v, "v2"))
          return DISC_V2;
        if (!strcmp(m.v, "v2beta1"))
          return DISC_V2BETA1;
      }
      continue;
    }
    if (!strcmp(m.type, "*/*") || !strcasecmp(m.type, "application/*"))
      return DISC_LEGACY;
  }
  return DISC_LEGACY;
}

/* ---- what the registry holds -------------------------------------------- */

/* Splits "v<major>[alpha|beta<minor>]".  Returns 0 for other versions. */
static int parse_kube_version(const char *v, long *major, int *stage,
                              long *minor)
{
  char *end;
  if (v[0] != 'v' || !isdigit((unsigned char)v[1]))
    return 0;
  *major = strtol(v + 1, &end, 10);
  *minor = 0;
  if (!*end) {
    *stage = 2; /* GA */
    return 1;
  }
  if (!strncmp(end, "beta", 4))
    *stage = 1;
  else if (!strncmp(end, "alpha", 5))
    *stage = 0;
  else
    return 0;
  end += *stage ? 4 : 5;
  if (!isdigit((unsigned char)*end))
    return 0;
  *minor = strtol(end, &end, 10);
  return !*end;
}

/* Upstream's version priority (CompareKubeAwareVersionStrings): GA, then
 * beta, then alpha, each newest first; other names last, by name. */
static int version_cmp(const void *pa, const void *pb)
{
  const char *a = *(const char *const *)pa, *b = *(const char *const *)pb;
  long amaj, amin, bmaj, bmin;
  int ast, bst;
  int ka = parse_kube_version(a, &amaj, &ast, &amin);
  int kb = parse_kube_version(b, &bmaj, &bst, &bmin);

  if (!ka || !kb)
    return ka != kb ? kb - ka : strcmp(a, b);
  if (ast != bst)
    return bst - ast;
  if (amaj != bmaj)
    return amaj < bmaj ? 1 : -1;
  if (amin != bmin)
    return amin < bmin ? 1 : -1;
  return 0;
}

/* ---- the access reviews (rest_review.c) -------------------------------- */

/* Served by the core rather than the registry, create-only and never
 * stored: listed so that discovery shows what upstream shows. */
#define REVIEW(grp, res, knd, sing, ns)                                    \
  {.size = sizeof(kapi_resource_ops), .group = grp, .version = "v1",        \
   .resource = res, .kind = knd, .singular = sing, .namespaced = ns}
static const kapi_resource_ops review_ops[] = {
    REVIEW("authentication.k8s.io", "selfsubjectreviews", "SelfSubjectReview",
           "selfsubjectreview", 0),
    REVIEW("authentication.k8s.io", "tokenreviews", "TokenReview",
           "tokenreview", 0),
    REVIEW("authorization.k8s.io", "localsubjectaccessreviews",
           "LocalSubjectAccessReview", "localsubjectaccessreview", 1),
    REVIEW("authorization.k8s.io", "selfsubjectaccessreviews",
           "SelfSubjectAccessReview", "selfsubjectaccessreview", 0),
    REVIEW("authorization.k8s.io", "selfsubjectrulesreviews",
           "SelfSubjectRulesReview", "selfsubjectrulesreview", 0),
    REVIEW("authorization.k8s.io", "subjectaccessreviews",
           "SubjectAccessReview", "subjectaccessreview", 0),
};
#define N_REVIEWS (sizeof review_ops / sizeof review_ops[0])
static const kapi_resource reviews[N_REVIEWS] = {
    {&review_ops[0], NULL, "authentication.k8s.io", NULL, NULL, NULL},
    {&review_ops[1], NULL, "authentication.k8s.io", NULL, NULL, NULL},
    {&review_ops[2], NULL, "authorization.k8s.io", NULL, NULL, NULL},
    {&review_ops[3], NULL, "authorization.k8s.io", NULL, NULL, NULL},
    {&review_ops[4], NULL, "authorization.k8s.io", NULL, NULL, NULL},
    {&review_ops[5], NULL, "authorization.k8s.io", NULL, NULL, NULL},
};

static int is_review(const kapi_resource *res)
{
  return res >= reviews && res < reviews + N_REVIEWS;
}

/* The registry's resources, then the reviews. */
static size_t n_items(const kapi_registry *reg)
{
  return reg->n + N_REVIEWS;
}

static const kapi_resource *item_at(const kapi_registry *reg, size_t i)
{
  return i < reg->n ? &reg->items[i] : &reviews[i - reg->n];
}

static int contains(const char *const *list, size_t n, const char *s)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (!strcmp(list[i], s))
      return 1;
  return 0;
}

/* The groups other than core, in registry order.  *ret is newly
 * allocated (free it); its strings are borrowed from the registry. */
static int list_groups(const kapi_registry *reg, const char ***ret,
                       size_t *ret_n)
{
  const char **g = calloc(n_items(reg) + 1, sizeof *g);
  size_t i, n = 0;
  if (!g)
    return -ENOMEM;
  for (i = 0; i < n_items(reg); i++) {
    const char *name = item_at(reg, i)->group;
    if (*name && !contains(g, n, name))
      g[n++] = name;
  }
  *ret = g;
  *ret_n = n;
  return 0;
}

/* The versions of a group, preferred first.  Same ownership as above. */
static int list_versions(const kapi_registry *reg, const char *group,
                         const char ***ret, size_t *ret_n)
{
  const char **v = calloc(n_items(reg) + 1, sizeof *v);
  size_t i, n = 0;
  if (!v)
    return -ENOMEM;
  for (i = 0; i < n_items(reg); i++) {
    const kapi_resource *res = item_at(reg, i);
    if (!strcmp(res->group, group) && !contains(v, n, res->ops->version))
      v[n++] = res->ops->version;
  }
  qsort(v, n, sizeof *v, version_cmp);
  *ret = v;
  *ret_n = n;
  return 0;
}

static int resource_cmp(const void *pa, const void *pb)
{
  const kapi_resource *a = *(const kapi_resource *const *)pa;
  const kapi_resource *b = *(const kapi_resource *const *)pb;
  return strcmp(a->ops->resource, b->ops->resource);
}

/* The resources of one group version, by name as upstream lists them.
 * *ret is newly allocated (free it); its pointers are borrowed. */
static int list_resources(const kapi_registry *reg, const char *group,
                          const char *version, const kapi_resource ***ret,
                          size_t *ret_n)
{
  const kapi_resource **r = calloc(n_items(reg) + 1, sizeof *r);
  size_t i, n = 0;
  if (!r)
    return -ENOMEM;
  for (i = 0; i < n_items(reg); i++) {
    const kapi_resource *res = item_at(reg, i);
    if (!strcmp(res->group, group) && !strcmp(res->ops->version, version))
      r[n++] = res;
  }
  qsort(r, n, sizeof *r, resource_cmp);
  *ret = r;
  *ret_n = n;
  return 0;
}

/* ---- JSON pieces shared by both forms ----------------------------------- */

static int append_strings(kj *arr, const char *const *s, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) {
    int r = kj_append(arr, kj_string(s[i]));
    if (r < 0)
      return r;
  }
  return 0;
}

static size_t null_terminated_len(const char *const *list)
{
  size_t n = 0;
  while (list && list[n])
    n++;
  return n;
}

/* Sets obj[key] to the strings of a NULL-terminated list; left out when
 * the list is empty (omitempty upstream). */
static int set_string_list(kj *obj, const char *key, const char *const *list)
{
  size_t n = null_terminated_len(list);
  if (!n)
    return 0;
  if (kj_set(obj, key, kj_array()) < 0)
    return -ENOMEM;
  return append_strings(kj_get(obj, key), list, n);
}

static int set_verbs(kj *obj, const kapi_resource *res)
{
  if (kj_set(obj, "verbs", kj_array()) < 0)
    return -ENOMEM;
  if (is_review(res))
    return kj_append(kj_get(obj, "verbs"), kj_string("create"));
  return append_strings(kj_get(obj, "verbs"), resource_verbs,
                        sizeof resource_verbs / sizeof resource_verbs[0]);
}

/* ---- subresources ------------------------------------------------------- */

/* The subresources the host serves (rest_subresource.c), in name order
 * as upstream lists them.  `kind` NULL: the resource's own kind. */
static const struct subresource {
  const char *name;
  uint32_t flag; /* KAPI_SUB_*; 0: namespaces only (finalize) */
  const char *group, *version, *kind;
  const char *const verbs[4];
} subresources[] = {
    {"binding", KAPI_SUB_BINDING, "", "v1", "Binding", {"create"}},
    {"eviction", KAPI_SUB_EVICTION, "policy", "v1", "Eviction", {"create"}},
    {"finalize", 0, NULL, NULL, NULL, {"update"}},
    {"log", KAPI_SUB_LOG, "", "v1", "Pod", {"get"}},
    {"scale", KAPI_SUB_SCALE, "autoscaling", "v1", "Scale",
     {"get", "patch", "update"}},
    {"status", KAPI_SUB_STATUS, NULL, NULL, NULL, {"get", "patch", "update"}},
};

#define N_SUBRESOURCES (sizeof subresources / sizeof subresources[0])

static int serves_subresource(const kapi_resource *res,
                              const struct subresource *s)
{
  if (!s->flag)
    return !*res->group && !strcmp(res->ops->resource, "namespaces");
  return (rest_subresources(res) & s->flag) != 0;
}

static int set_subresource_verbs(kj *o, const struct subresource *s)
{
  size_t n = 0;
  while (n < 4 && s->verbs[n])
    n++;
  if (kj_set(o, "verbs", kj_array()) < 0)
    return -ENOMEM;
  return append_strings(kj_get(o, "verbs"), s->verbs, n);
}

/* Upstream derives a missing singular name from the kind. */
static char *singular_name(const kapi_resource *res)
{
  const char *s = res->ops->singular;
  char *out;
  size_t i;
  if (s && *s)
    return strdup(s);
  out = strdup(res->ops->kind ? res->ops->kind : "");
  for (i = 0; out && out[i]; i++)
    out[i] = (char)tolower((unsigned char)out[i]);
  return out;
}

static int set_singular(kj *obj, const char *key, const kapi_resource *res)
{
  char *s = singular_name(res);
  int r = s ? kj_set_str(obj, key, s) : -ENOMEM;
  free(s);
  return r;
}

/* "apps/v1", or "v1" for the core group; newly allocated. */
static char *group_version(const char *group, const char *version)
{
  char *gv;
  if (asprintf(&gv, "%s%s%s", group, *group ? "/" : "", version) < 0)
    return NULL;
  return gv;
}

/* ---- legacy ------------------------------------------------------------- */

/* A resource's subresources ("pods/status", "replicasets/scale") in an
 * APIResourceList, right after the resource; a kind from another group
 * names its group and version there. */
static int append_legacy_subresources(kj *resources, const kapi_resource *res)
{
  size_t i;
  for (i = 0; i < N_SUBRESOURCES; i++) {
    const struct subresource *s = &subresources[i];
    char *name = NULL;
    kj *o;
    int r;
    if (!serves_subresource(res, s))
      continue;
    if (asprintf(&name, "%s/%s", res->ops->resource, s->name) < 0)
      return -ENOMEM;
    o = kj_object();
    r = !o || kj_set_str(o, "name", name) < 0 ||
        kj_set_str(o, "singularName", "") < 0 ||
        kj_set(o, "namespaced", kj_bool(res->ops->namespaced)) < 0 ||
        (s->group && strcmp(s->group, res->group) &&
         (kj_set_str(o, "group", s->group) < 0 ||
          kj_set_str(o, "version", s->version) < 0)) ||
        kj_set_str(o, "kind", s->kind ? s->kind : res->ops->kind) < 0 ||
        set_subresource_verbs(o, s) < 0;
    free(name);
    if (r) {
      kj_free(o);
      return -ENOMEM;
    }
    if (kj_append(resources, o) < 0)
      return -ENOMEM;
  }
  return 0;
}

static kj *legacy_resource(const kapi_resource *res)
{
  kj *o = kj_object();
  if (!o || kj_set_str(o, "name", res->ops->resource) < 0 ||
      set_singular(o, "singularName", res) < 0 ||
      kj_set(o, "namespaced", kj_bool(res->ops->namespaced)) < 0 ||
      kj_set_str(o, "kind", res->ops->kind) < 0 || set_verbs(o, res) < 0 ||
      set_string_list(o, "shortNames", res->ops->short_names) < 0 ||
      set_string_list(o, "categories", res->ops->categories) < 0) {
    kj_free(o);
    return NULL;
  }
  return o;
}

static kj *api_resource_list(const kapi_registry *reg, const char *group,
                             const char *version)
{
  const kapi_resource **res = NULL;
  size_t i, n = 0;
  char *gv = group_version(group, version);
  kj *list = kj_object(), *items;

  if (!gv || !list || list_resources(reg, group, version, &res, &n) < 0 ||
      kj_set_str(list, "kind", "APIResourceList") < 0 ||
      kj_set_str(list, "apiVersion", "v1") < 0 ||
      kj_set_str(list, "groupVersion", gv) < 0 ||
      kj_set(list, "resources", kj_array()) < 0)
    goto fail;
  items = kj_get(list, "resources");
  for (i = 0; i < n; i++)
    if (kj_append(items, legacy_resource(res[i])) < 0 ||
        append_legacy_subresources(items, res[i]) < 0)
      goto fail;
  free(res);
  free(gv);
  return list;

fail:
  free(res);
  free(gv);
  kj_free(list);
  return NULL;
}

static kj *group_version_ref(const char *group, const char *version)
{
  char *gv = group_version(group, version);
  kj *o = kj_object();
  if (!gv || !o || kj_set_str(o, "groupVersion", gv) < 0 ||
      kj_set_str(o, "version", version) < 0) {
    kj_free(o);
    o = NULL;
  }
  free(gv);
  return o;
}

/* Fills the APIGroup fields of `o`: name, versions, preferredVersion. */
static int fill_api_group(kj *o, const kapi_registry *reg, const char *group)
{
  const char **v = NULL;
  size_t i, n = 0;
  kj *versions;
  int r = list_versions(reg, group, &v, &n);

  if (r < 0)
    return r;
  r = -ENOMEM;
  if (kj_set_str(o, "name", group) < 0 ||
      kj_set(o, "versions", kj_array()) < 0)
    goto out;
  versions = kj_get(o, "versions");
  for (i = 0; i < n; i++)
    if (kj_append(versions, group_version_ref(group, v[i])) < 0)
      goto out;
  if (n && kj_set(o, "preferredVersion", group_version_ref(group, v[0])) < 0)
    goto out;
  r = 0;
out:
  free(v);
  return r;
}

static kj *api_group(const kapi_registry *reg, const char *group)
{
  kj *o = kj_object();
  if (!o || kj_set_str(o, "kind", "APIGroup") < 0 ||
      kj_set_str(o, "apiVersion", "v1") < 0 ||
      fill_api_group(o, reg, group) < 0) {
    kj_free(o);
    return NULL;
  }
  return o;
}

static kj *api_group_list(const kapi_registry *reg)
{
  const char **g = NULL;
  size_t i, n = 0;
  kj *list = kj_object(), *groups;

  if (!list || list_groups(reg, &g, &n) < 0 ||
      kj_set_str(list, "kind", "APIGroupList") < 0 ||
      kj_set_str(list, "apiVersion", "v1") < 0 ||
      kj_set(list, "groups", kj_array()) < 0)
    goto fail;
  groups = kj_get(list, "groups");
  for (i = 0; i < n; i++) {
    kj *o = kj_object();
    if (kj_append(groups, o) < 0 || fill_api_group(o, reg, g[i]) < 0)
      goto fail;
  }
  free(g);
  return list;

fail:
  free(g);
  kj_free(list);
  return NULL;
}

/* The address clients should use: the one they reached us at. */
static kj *server_address(const kapi_server *srv, const kapi_req *r)
{
  const char *host = kapi_req_header(r, "Host");
  char buf[64];
  kj *arr = kj_array(), *o = kj_object();

  if (!host || !*host) {
    snprintf(buf, sizeof buf, "127.0.0.1:%d", srv->port);
    host = buf;
  }
  if (!arr || kj_append(arr, o) < 0 ||
      kj_set_str(o, "clientCIDR", "0.0.0.0/0") < 0 ||
      kj_set_str(o, "serverAddress", host) < 0) {
    kj_free(arr);
    return NULL;
  }
  return arr;
}

static kj *api_versions(const kapi_server *srv, const kapi_req *r)
{
  const char **v = NULL;
  size_t n = 0;
  kj *o = kj_object();

  if (!o || list_versions(srv->registry, "", &v, &n) < 0 ||
      kj_set_str(o, "kind", "APIVersions") < 0 ||
      kj_set(o, "versions", kj_array()) < 0 ||
      append_strings(kj_get(o, "versions"), v, n) < 0 ||
      kj_set(o, "serverAddressByClientCIDRs", server_address(srv, r)) < 0) {
    kj_free(o);
    o = NULL;
  }
  free(v);
  return o;
}

/* ---- aggregated --------------------------------------------------------- */

static kj *response_kind(const kapi_resource *res)
{
  kj *o = kj_object();
  if (!o || kj_set_str(o, "group", res->group) < 0 ||
      kj_set_str(o, "version", res->ops->version) < 0 ||
      kj_set_str(o, "kind", res->ops->kind) < 0) {
    kj_free(o);
    return NULL;
  }
  return o;
}

static kj *subresource_kind(const kapi_resource *res,
                            const struct subresource *s)
{
  kj *o;
  if (!s->kind)
    return response_kind(res);
  o = kj_object();
  if (!o || kj_set_str(o, "group", s->group) < 0 ||
      kj_set_str(o, "version", s->version) < 0 ||
      kj_set_str(o, "kind", s->kind) < 0) {
    kj_free(o);
    return NULL;
  }
  return o;
}

/* A resource's subresources in the aggregated form
 * ("subresources":[{"subresource","responseKind","verbs"}]), left out
 * when empty as upstream does. */
static int set_aggregated_subresources(kj *o, const kapi_resource *res)
{
  kj *list = NULL;
  size_t i;
  for (i = 0; i < N_SUBRESOURCES; i++) {
    const struct subresource *s = &subresources[i];
    kj *sub;
    if (!serves_subresource(res, s))
      continue;
    if (!list) {
      if (kj_set(o, "subresources", kj_array()) < 0)
        return -ENOMEM;
      list = kj_get(o, "subresources");
    }
    sub = kj_object();
    if (kj_append(list, sub) < 0 ||
        kj_set_str(sub, "subresource", s->name) < 0 ||
        kj_set(sub, "responseKind", subresource_kind(res, s)) < 0 ||
        set_subresource_verbs(sub, s) < 0)
      return -ENOMEM;
  }
  return 0;
}

static kj *aggregated_resource(const kapi_resource *res)
{
  kj *o = kj_object();
  if (!o || kj_set_str(o, "resource", res->ops->resource) < 0 ||
      kj_set(o, "responseKind", response_kind(res)) < 0 ||
      kj_set_str(o, "scope",
                 res->ops->namespaced ? "Namespaced" : "Cluster") < 0 ||
      set_singular(o, "singularResource", res) < 0 || set_verbs(o, res) < 0 ||
      set_string_list(o, "shortNames", res->ops->short_names) < 0 ||
      set_string_list(o, "categories", res->ops->categories) < 0 ||
      set_aggregated_subresources(o, res) < 0) {
    kj_free(o);
    return NULL;
  }
  return o;
}

static kj *aggregated_version(const kapi_registry *reg, const char *group,
                              const char *version)
{
  const kapi_resource **res = NULL;
  size_t i, n = 0;
  kj *o = kj_object(), *items;

  if (!o || list_resources(reg, group, version, &res, &n) < 0 ||
      kj_set_str(o, "version", version) < 0 ||
      kj_set(o, "resources", kj_array()) < 0)
    goto fail;
  items = kj_get(o, "resources");
  for (i = 0; i < n; i++)
    if (kj_append(items, aggregated_resource(res[i])) < 0)
      goto fail;
  /* Everything is served by this process, so never stale. */
  if (kj_set_str(o, "freshness", "Current") < 0)
    goto fail;
  free(res);
  return o;

fail:
  free(res);
  kj_free(o);
  return NULL;
}

/* One APIGroupDiscovery; the core group's metadata has no name. */
static kj *aggregated_group(const kapi_registry *reg, const char *group)
{
  const char **v = NULL;
  size_t i, n = 0;
  kj *o = kj_object(), *meta, *versions;

  if (!o || list_versions(reg, group, &v, &n) < 0 ||
      !(meta = kj_child_object(o, "metadata")) ||
      (*group && kj_set_str(meta, "name", group) < 0) ||
      kj_set(meta, "creationTimestamp", kj_null()) < 0 ||
      kj_set(o, "versions", kj_array()) < 0)
    goto fail;
  versions = kj_get(o, "versions");
  for (i = 0; i < n; i++)
    if (kj_append(versions, aggregated_version(reg, group, v[i])) < 0)
      goto fail;
  free(v);
  return o;

fail:
  free(v);
  kj_free(o);
  return NULL;
}

/* /api (core_only) or /apis (every other group). */
static kj *aggregated_list(const kapi_registry *reg, int core_only,
                           disc_format fmt)
{
  const char **g = NULL;
  size_t i, n = 0;
  int has_core = 0;
  kj *list = kj_object(), *items;

  for (i = 0; i < reg->n && !has_core; i++)
    has_core = !*reg->items[i].group;
  if (!list || (!core_only && list_groups(reg, &g, &n) < 0) ||
      kj_set_str(list, "kind", "APIGroupDiscoveryList") < 0 ||
      kj_set_str(list, "apiVersion", fmt == DISC_V2BETA1
                                         ? "apidiscovery.k8s.io/v2beta1"
                                         : "apidiscovery.k8s.io/v2") < 0 ||
      !kj_child_object(list, "metadata") ||
      kj_set(list, "items", kj_array()) < 0)
    goto fail;
  items = kj_get(list, "items");
  if (core_only && has_core &&
      kj_append(items, aggregated_group(reg, "")) < 0)
    goto fail;
  for (i = 0; i < n; i++)
    if (kj_append(items, aggregated_group(reg, g[i])) < 0)
      goto fail;
  free(g);
  return list;

fail:
  free(g);
  kj_free(list);
  return NULL;
}

/* ---- responses ---------------------------------------------------------- */

/* The shared Status helpers, answering "handled". */
static int respond_error(kapi_response *resp, int code, const char *reason,
                         const char *message)
{
  kapi_response_fail(resp, code, reason, message);
  return 1;
}

static int respond_not_found(kapi_response *resp)
{
  kapi_response_not_found(resp);
  return 1;
}

/* Sends `body` (owned: freed here), or a 500 when it could not be built. */
static int respond(kapi_response *resp, kj *body, const char *content_type)
{
  if (!body || kapi_response_json(resp, 200, body) < 0) {
    kj_free(body);
    return respond_error(resp, 500, "InternalError",
                         "out of memory building the discovery document");
  }
  kj_free(body);
  if (content_type)
    resp->content_type = content_type;
  return 1;
}

static const char *aggregated_content_type(disc_format fmt)
{
  return fmt == DISC_V2BETA1 ? ct_aggregated_v2beta1 : ct_aggregated_v2;
}

/* GET /api and /apis. */
static int serve_root(kapi_server *srv, kapi_req *r, kapi_response *resp,
                      int core)
{
  disc_format fmt = negotiate(kapi_req_header(r, "Accept"));

  if (fmt != DISC_LEGACY)
    return respond(resp, aggregated_list(srv->registry, core, fmt),
                   aggregated_content_type(fmt));
  return respond(resp,
                 core ? api_versions(srv, r) : api_group_list(srv->registry),
                 NULL);
}

static int has_group_version(const kapi_registry *reg, const char *group,
                             const char *version)
{
  size_t i;
  for (i = 0; i < n_items(reg); i++)
    if (!strcmp(item_at(reg, i)->group, group) &&
        (!version || !strcmp(item_at(reg, i)->ops->version, version)))
      return 1;
  return 0;
}

/* GET /api/<v> and /apis/<g>/<v>. */
static int serve_resource_list(kapi_server *srv, kapi_response *resp,
                               const char *group, const char *version)
{
  if (!has_group_version(srv->registry, group, version))
    return respond_not_found(resp);
  return respond(resp, api_resource_list(srv->registry, group, version),
                 NULL);
}

/* GET /apis/<g>. */
static int serve_group(kapi_server *srv, kapi_response *resp,
                       const char *group)
{
  if (!*group || !has_group_version(srv->registry, group, NULL))
    return respond_not_found(resp);
  return respond(resp, api_group(srv->registry, group), NULL);
}

/* Splits a copy of the path into at most `max` non-empty segments.
 * Returns the count, max + 1 if there are more, or -ENOMEM.  *copy is
 * newly allocated (the segments point into it). */
static int split_path(const char *path, char **copy, char **seg, int max)
{
  char *save = NULL, *tok;
  int n = 0;

  *copy = strdup(path ? path : "");
  if (!*copy)
    return -ENOMEM;
  for (tok = strtok_r(*copy, "/", &save); tok;
       tok = strtok_r(NULL, "/", &save)) {
    if (n == max)
      return max + 1;
    seg[n++] = tok;
  }
  return n;
}

static int is_read(const kapi_req *r)
{
  return r->method &&
         (!strcmp(r->method, "GET") || !strcmp(r->method, "HEAD"));
}

int kapi_discovery_handle(kapi_server *srv, kapi_req *r, kapi_response *resp)
{
  char *copy, *seg[3];
  int n, handled = 0;

  if (!is_read(r))
    return 0;
  n = split_path(r->path, &copy, seg, 3);
  if (n < 0)
    return respond_error(resp, 500, "InternalError", "out of memory");
  if (n >= 1 && n <= 2 && !strcmp(seg[0], "api"))
    handled = n == 1 ? serve_root(srv, r, resp, 1)
                     : serve_resource_list(srv, resp, "", seg[1]);
  else if (n >= 1 && n <= 3 && !strcmp(seg[0], "apis"))
    handled = n == 1   ? serve_root(srv, r, resp, 0)
              : n == 2 ? serve_group(srv, resp, seg[1])
                       : serve_resource_list(srv, resp, seg[1], seg[2]);
  free(copy);
  return handled;
}
