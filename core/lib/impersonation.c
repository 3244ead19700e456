/*
 * impersonation.c - the impersonation stage (upstream's
 * WithImpersonation filter): Impersonate-User, -Group, -Uid and
 * -Extra-<key> headers replace the authenticated user once the
 * authorizer allows the verb "impersonate" on each requested value.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "impersonation.h"
#include "log.h"

#define SA_PREFIX "system:serviceaccount:"

struct wanted {
  const char *user, *uid;
  kj *groups; /* array of strings */
  kj *extra;  /* {"key": ["v", ...]} */
  int any;    /* some Impersonate-* header was sent */
  int oom;
};

static int header_prefix(const char *name, const char *prefix)
{
  return !strncasecmp(name, prefix, strlen(prefix));
}

/* Impersonate-Extra-<key>: the key is percent-encoded and
 * case-insensitive on the wire; upstream lower-cases and unescapes. */
static char *extra_key(const char *enc)
{
  char *out = malloc(strlen(enc) + 1), *o = out;

  if (!out)
    return NULL;
  for (; *enc; enc++) {
    if (enc[0] == '%' && isxdigit((unsigned char)enc[1]) &&
        isxdigit((unsigned char)enc[2])) {
      char hex[3] = {enc[1], enc[2], 0};
      *o++ = (char)strtol(hex, NULL, 16);
      enc += 2;
    } else {
      *o++ = (char)tolower((unsigned char)*enc);
    }
  }
  *o = '\0';
  return out;
}

static int collect(void *arg, const char *name, const char *value)
{
  struct wanted *w = arg;

  if (!header_prefix(name, "Impersonate-"))
    return 0;
  w->any = 1;
  if (!strcasecmp(name, "Impersonate-User")) {
    w->user = value;
  } else if (!strcasecmp(name, "Impersonate-Uid")) {
    w->uid = value;
  } else if (!strcasecmp(name, "Impersonate-Group")) {
    w->oom |= kj_append(w->groups, kj_string(value)) < 0;
  } else if (header_prefix(name, "Impersonate-Extra-")) {
    char *key = extra_key(name + strlen("Impersonate-Extra-"));
    kj *list = key ? kj_get(w->extra, key) : NULL;
    if (key && !list && kj_set(w->extra, key, list = kj_array()) < 0)
      list = NULL;
    w->oom |= !list || kj_append(list, kj_string(value)) < 0;
    free(key);
  }
  return 0;
}

/* May the authenticated user impersonate this value?  The attributes of
 * upstream's impersonation checks. */
static int allowed(kapi_server *srv, kapi_req *r, const char *group,
                   const char *resource, const char *subresource,
                   const char *ns, const char *name, kapi_error *e)
{
  kapi_req q = *r; /* borrowed strings only: never reset */
  char *reason = NULL;
  int d;

  q.is_resource_request = 1;
  q.verb = "impersonate";
  q.api_group = (char *)group;
  q.resource = (char *)resource;
  q.subresource = (char *)subresource;
  q.namespace_ = (char *)ns;
  q.name = (char *)name;
  d = kapi_authorize(srv, &q, &reason);
  if (d == KAPI_ALLOW) {
    free(reason);
    return 0;
  }
  kapi_error_setf(e, 403, "Forbidden",
                  "%s%s%s \"%s\" is forbidden: User \"%s\" cannot impersonate "
                  "resource \"%s%s%s\" in API group \"%s\" %s%s%s%s%s",
                  resource, *group ? "." : "", group, name,
                  kj_get_str(r->user, "username")
                      ? kj_get_str(r->user, "username") : "",
                  resource, *subresource ? "/" : "", subresource, group,
                  *ns ? "in the namespace \"" : "at the cluster scope",
                  *ns ? ns : "", *ns ? "\"" : "", reason ? ": " : "",
                  reason ? reason : "");
  kapi_error_details(e, name, *group ? group : NULL, resource);
  free(reason);
  return -EACCES;
}

static int check_user(kapi_server *srv, kapi_req *r, const char *user,
                      kapi_error *e)
{
  if (!strncmp(user, SA_PREFIX, strlen(SA_PREFIX))) {
    const char *rest = user + strlen(SA_PREFIX), *colon = strchr(rest, ':');
    char ns[254];
    if (colon && (size_t)(colon - rest) < sizeof ns) {
      snprintf(ns, sizeof ns, "%.*s", (int)(colon - rest), rest);
      return allowed(srv, r, "", "serviceaccounts", "", ns, colon + 1, e);
    }
  }
  return allowed(srv, r, "", "users", "", "", user, e);
}

static int check_all(kapi_server *srv, kapi_req *r, const struct wanted *w,
                     kapi_error *e)
{
  size_t i, j;

  if (check_user(srv, r, w->user, e) < 0)
    return -EACCES;
  for (i = 0; i < kj_len(w->groups); i++)
    if (allowed(srv, r, "", "groups", "", "", kj_str(kj_at(w->groups, i)),
                e) < 0)
      return -EACCES;
  if (w->uid && allowed(srv, r, "authentication.k8s.io", "uids", "", "",
                        w->uid, e) < 0)
    return -EACCES;
  for (i = 0; i < kj_len(w->extra); i++) {
    const kj *vals = kj_at(w->extra, i);
    for (j = 0; j < kj_len(vals); j++)
      if (allowed(srv, r, "authentication.k8s.io", "userextras",
                  kj_key_at(w->extra, i), "", kj_str(kj_at(vals, j)), e) < 0)
        return -EACCES;
  }
  return 0;
}

static int has_group(const kj *groups, const char *g)
{
  for (size_t i = 0; i < kj_len(groups); i++)
    if (kj_str(kj_at(groups, i)) && !strcmp(kj_str(kj_at(groups, i)), g))
      return 1;
  return 0;
}

/* The impersonated user, with the groups upstream adds. */
static kj *build_user(struct wanted *w)
{
  kj *u = kj_object(), *groups = w->groups;
  char ns_group[300];

  if (!u)
    return NULL;
  if (!strncmp(w->user, SA_PREFIX, strlen(SA_PREFIX))) {
    const char *rest = w->user + strlen(SA_PREFIX), *colon = strchr(rest, ':');
    if (colon) {
      snprintf(ns_group, sizeof ns_group, "system:serviceaccounts:%.*s",
               (int)(colon - rest), rest);
      if (!has_group(groups, "system:serviceaccounts"))
        kj_append(groups, kj_string("system:serviceaccounts"));
      if (!has_group(groups, ns_group))
        kj_append(groups, kj_string(ns_group));
    }
  }
  if (!strcmp(w->user, "system:anonymous")) {
    if (!has_group(groups, "system:unauthenticated"))
      kj_append(groups, kj_string("system:unauthenticated"));
  } else if (!has_group(groups, "system:authenticated")) {
    kj_append(groups, kj_string("system:authenticated"));
  }
  kj_set_str(u, "username", w->user);
  if (w->uid)
    kj_set_str(u, "uid", w->uid);
  kj_set(u, "groups", groups);
  w->groups = NULL;
  if (kj_len(w->extra)) {
    kj_set(u, "extra", w->extra);
    w->extra = NULL;
  }
  return u;
}

int kapi_stage_impersonation(kapi_server *srv, kapi_req *r,
                             kapi_response *resp, kapi_error *e)
{
  struct wanted w = {0};
  kj *user;
  int rc = 0;

  (void)resp;
  if (!r->headers_each)
    return 0;
  w.groups = kj_array();
  w.extra = kj_object();
  if (!w.groups || !w.extra) {
    rc = -ENOMEM;
    goto out;
  }
  r->headers_each(r->conn, collect, &w);
  if (!w.any)
    goto out;
  if (w.oom) {
    kapi_error_internal(e, "out of memory");
    rc = -ENOMEM;
    goto out;
  }
  if (!w.user || !*w.user) {
    kapi_error_bad_request(e, "requested impersonation of groups, uid or "
                              "extra without impersonating a user");
    rc = -EINVAL;
    goto out;
  }
  if ((rc = check_all(srv, r, &w, e)) < 0)
    goto out;
  if (!(user = build_user(&w))) {
    kapi_error_internal(e, "out of memory");
    rc = -ENOMEM;
    goto out;
  }
  LOG_V(3, "%s impersonates %s", kj_get_str(r->user, "username"), w.user);
  r->impersonator = r->user;
  r->user = user;
out:
  kj_free(w.groups);
  kj_free(w.extra);
  return rc;
}
