/*
 * chain.c - the stages of the handler chain and the loop that runs them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "chain.h"
#include "impersonation.h"
#include "log.h"

/* ---- request-info ------------------------------------------------------ */

static int stage_request_info(kapi_server *srv, kapi_req *r,
                              kapi_response *resp, kapi_error *e)
{
  const char *dry = kapi_req_query(r, "dryRun");
  (void)srv;
  (void)resp;
  if (kapi_req_parse_info(r) < 0) {
    kapi_error_internal(e, "cannot parse the request path");
    return -ENOMEM;
  }
  if (dry && *dry) {
    if (strcmp(dry, "All")) {
      kapi_error_bad_request(e, "dryRun: Unsupported value: \"%s\": "
                                "supported values: \"All\"", dry);
      return -EINVAL;
    }
    r->dry_run = 1;
  }
  return 0;
}

/* ---- authentication ------------------------------------------------------ */

/* Authenticated users are also in system:authenticated, as upstream's
 * union authenticator adds it (anonymous users are not). */
static void add_authenticated_group(kj *user)
{
  kj *groups = kj_get(user, "groups");
  const char *name = kj_get_str(user, "username");
  size_t i;
  if (!name || !strcmp(name, "system:anonymous"))
    return;
  if (!groups) {
    groups = kj_array();
    if (kj_set(user, "groups", groups) < 0)
      return;
  }
  for (i = 0; i < kj_len(groups); i++)
    if (!strcmp(kj_str(kj_at(groups, i)) ? kj_str(kj_at(groups, i)) : "",
                "system:authenticated"))
      return;
  kj_append(groups, kj_string("system:authenticated"));
}

/* Health and version stay reachable without credentials even when the
 * anonymous authenticator is off (upstream's anonymous conditions for
 * /healthz, /livez, /readyz); the authorizer still decides. */
static int is_public_path(const char *path)
{
  static const char *const prefixes[] = {"/healthz", "/livez", "/readyz",
                                         NULL};
  for (const char *const *p = prefixes; *p; p++) {
    size_t n = strlen(*p);
    if (!strncmp(path, *p, n) && (path[n] == '\0' || path[n] == '/'))
      return 1;
  }
  return !strcmp(path, "/version") || !strcmp(path, "/version/");
}

static int anonymous_user(kapi_req *r, kapi_error *e)
{
  kj *user = kj_object(), *groups = kj_array();

  if (!user || !groups || kj_append(groups, kj_string("system:unauthenticated")) < 0 ||
      kj_set_str(user, "username", "system:anonymous") < 0 ||
      kj_set(user, "groups", groups) < 0) {
    kj_free(user);
    kapi_error_internal(e, "out of memory");
    return -ENOMEM;
  }
  r->user = user;
  return 0;
}

/*
 * The apiserver's own loopback client (upstream's loopback token
 * authenticator): its bearer token, compared in constant time, is
 * "system:apiserver", a member of system:masters.  1 = it, 0 = not,
 * -ENOMEM.
 */
static int loopback_user(kapi_server *srv, kapi_req *r, kapi_error *e)
{
  const char *auth = kapi_req_header(r, "Authorization");
  size_t n = srv->loopback_token ? strlen(srv->loopback_token) : 0;
  kj *user, *groups;

  if (!n || !auth || strncasecmp(auth, "Bearer ", 7))
    return 0;
  auth += 7;
  if (strlen(auth) != n || CRYPTO_memcmp(auth, srv->loopback_token, n))
    return 0;
  user = kj_object();
  groups = kj_array();
  if (!user || !groups || kj_append(groups, kj_string("system:masters")) < 0 ||
      kj_append(groups, kj_string("system:authenticated")) < 0 ||
      kj_set_str(user, "username", "system:apiserver") < 0 ||
      kj_set_str(user, "uid", srv->loopback_uid ? srv->loopback_uid : "") < 0 ||
      kj_set(user, "groups", groups) < 0) {
    kj_free(user);
    kapi_error_internal(e, "out of memory");
    return -ENOMEM;
  }
  r->user = user;
  return 1;
}

static int stage_authentication(kapi_server *srv, kapi_req *r,
                                kapi_response *resp, kapi_error *e)
{
  size_t n = kapi_plugins_count(srv->plugins, KAPI_KIND_AUTHN), i;
  (void)resp;
  int failed = 0;
  int lb = loopback_user(srv, r, e);

  if (lb != 0)
    return lb < 0 ? lb : 0;
  for (i = 0; i < n; i++) {
    const kapi_component *c = kapi_plugins_at(srv->plugins, KAPI_KIND_AUTHN, i);
    const kapi_authn_ops *ops = c->ops;
    kj *user;
    int rc;
    /* Upstream puts anonymous behind a fail-on-error union: presented
     * credentials that fail are a 401, never anonymous access. */
    if (failed && !strcmp(c->name, "Anonymous"))
      break;
    if (!(user = kj_object()))
      return -ENOMEM;
    rc = ops->authenticate(c->st, r, user, e);
    if (rc == 1) {
      add_authenticated_group(user);
      r->user = user;
      return 0;
    }
    kj_free(user);
    if (rc < 0) {
      failed = 1;
      /* Upstream's union aggregates errors and answers 401. */
      LOG_V(2, "authenticator %s: %s", c->name,
            e->message ? e->message : "error");
      kapi_error_clear(e);
    }
  }
  if (!failed && is_public_path(r->path))
    return anonymous_user(r, e);
  kapi_error_setf(e, 401, "Unauthorized", "Unauthorized");
  return -EACCES;
}

/* The synthetic request of a TokenReview: one header, the token. */
struct token_conn {
  char *authorization;
};

static const char *token_header(void *conn, const char *name)
{
  struct token_conn *c = conn;
  return !strcasecmp(name, "Authorization") ? c->authorization : NULL;
}

static const char *no_query(void *conn, const char *name)
{
  (void)conn;
  (void)name;
  return NULL;
}

int kapi_authenticate_token(kapi_server *srv, const char *token, kj **ret)
{
  size_t n = kapi_plugins_count(srv->plugins, KAPI_KIND_AUTHN), i;
  struct token_conn conn;
  kapi_req q;
  kapi_error e;
  int rc = 0;

  *ret = NULL;
  if (asprintf(&conn.authorization, "Bearer %s", token) < 0)
    return -ENOMEM;
  memset(&q, 0, sizeof q);
  q.method = "POST";
  q.path = (char *)"/";
  q.conn = &conn;
  q.header = token_header;
  q.query = no_query;
  q.srv = srv;
  kapi_error_init(&e);
  for (i = 0; i < n && !*ret; i++) {
    const kapi_component *c = kapi_plugins_at(srv->plugins, KAPI_KIND_AUTHN, i);
    const kapi_authn_ops *ops = c->ops;
    kj *user;
    /* a token review is about the token: anonymous never answers it */
    if (!strcmp(c->name, "Anonymous"))
      continue;
    if (!(user = kj_object())) {
      rc = -ENOMEM;
      break;
    }
    if (ops->authenticate(c->st, &q, user, &e) == 1) {
      add_authenticated_group(user);
      *ret = user;
    } else {
      kj_free(user);
    }
    kapi_error_clear(&e);
  }
  free(conn.authorization);
  return rc;
}

/* ---- authorization ------------------------------------------------------- */

/* Upstream's forbidden message (endpoints/handlers/responsewriters). */
static void forbidden(kapi_req *r, const char *reason, kapi_error *e)
{
  const char *user = kj_get_str(r->user, "username");
  char res[256], who[1024];

  user = user ? user : "";
  if (!r->is_resource_request) {
    kapi_error_setf(e, 403, "Forbidden",
                    "forbidden: User \"%s\" cannot %s path \"%s\"%s%s", user,
                    r->verb, r->path, reason ? ": " : "", reason ? reason : "");
    return;
  }
  snprintf(res, sizeof res, "%s%s%s", r->resource, *r->subresource ? "/" : "",
           r->subresource);
  if (*r->namespace_)
    snprintf(who, sizeof who,
             "User \"%s\" cannot %s resource \"%s\" in API group \"%s\" in "
             "the namespace \"%s\"",
             user, r->verb, res, r->api_group, r->namespace_);
  else
    snprintf(who, sizeof who,
             "User \"%s\" cannot %s resource \"%s\" in API group \"%s\" at "
             "the cluster scope",
             user, r->verb, res, r->api_group);
  if (*r->name)
    snprintf(res, sizeof res, "%s%s%s \"%s\"", r->resource,
             *r->api_group ? "." : "", r->api_group, r->name);
  else
    snprintf(res, sizeof res, "%s%s%s", r->resource, *r->api_group ? "." : "",
             r->api_group);
  kapi_error_setf(e, 403, "Forbidden", "%s is forbidden: %s%s%s", res, who,
                  reason ? ": " : "", reason ? reason : "");
  kapi_error_details(e, *r->name ? r->name : NULL,
                     *r->api_group ? r->api_group : NULL, r->resource);
}

/* Appends `more` to the newline-joined *list (upstream's union joins
 * the reasons of the authorizers that had no opinion). */
static void add_reason(char **list, const char *more)
{
  size_t a = *list ? strlen(*list) : 0, b = strlen(more);
  char *s;

  if (!b || !(s = realloc(*list, a + b + 2)))
    return;
  if (a)
    s[a++] = '\n';
  memcpy(s + a, more, b + 1);
  *list = s;
}

int kapi_authorize(kapi_server *srv, kapi_req *r, char **reason)
{
  size_t n = kapi_plugins_count(srv->plugins, KAPI_KIND_AUTHZ), i;
  char *none = NULL; /* reasons of the authorizers without an opinion */

  if (reason)
    *reason = NULL;
  for (i = 0; i < n; i++) {
    const kapi_component *c = kapi_plugins_at(srv->plugins, KAPI_KIND_AUTHZ, i);
    const kapi_authz_ops *ops = c->ops;
    kapi_error why;
    kapi_decision d;

    kapi_error_init(&why);
    d = ops->authorize(c->st, r, &why);
    if (d == KAPI_ALLOW || d == KAPI_DENY) {
      if (reason && why.message)
        *reason = strdup(why.message);
      kapi_error_clear(&why);
      free(none);
      return d;
    }
    if (why.message)
      add_reason(&none, why.message);
    kapi_error_clear(&why);
  }
  if (reason)
    *reason = none;
  else
    free(none);
  return KAPI_NO_OPINION;
}

static int stage_authorization(kapi_server *srv, kapi_req *r,
                               kapi_response *resp, kapi_error *e)
{
  char *reason = NULL;
  int d = kapi_authorize(srv, r, &reason);

  (void)resp;
  if (srv->audit && (r->audit_annotations || (r->audit_annotations = kj_object()))) {
    kj_set_str(r->audit_annotations, "authorization.k8s.io/decision",
               d == KAPI_ALLOW ? "allow" : "forbid");
    kj_set_str(r->audit_annotations, "authorization.k8s.io/reason",
               reason ? reason : "");
  }
  if (d == KAPI_ALLOW) {
    free(reason);
    return 0;
  }
  forbidden(r, reason, e);
  free(reason);
  return -EACCES;
}

/* ---- registry ------------------------------------------------------------ */

static int stage_registry(kapi_server *srv, kapi_req *r, kapi_response *resp,
                          kapi_error *e)
{
  (void)e;
  if (r->is_resource_request)
    kapi_handle_resource(srv, r, resp);
  else
    kapi_handle_nonresource(srv, r, resp);
  return 0;
}

static const kapi_stage request_info = {"request-info", stage_request_info};
static const kapi_stage authentication = {"authentication",
                                          stage_authentication};
static const kapi_stage impersonation = {"impersonation",
                                         kapi_stage_impersonation};
static const kapi_stage authorization = {"authorization", stage_authorization};
static const kapi_stage registry = {"registry", stage_registry};

static const kapi_stage *const stages[] = {&request_info, &authentication,
                                           &impersonation, &authorization,
                                           &registry, NULL};

const kapi_stage *const *kapi_chain_stages(void) { return stages; }

void kapi_chain_run(kapi_server *srv, kapi_req *r, kapi_response *resp)
{
  const kapi_stage *const *s;
  kapi_error e;
  int inflight = 0;

  kapi_error_init(&e);
  for (s = stages; *s; s++) {
    /* In flight once its kind (the verb) is known. */
    if (s == stages + 1) {
      kapi_request_inflight(r, 1);
      inflight = 1;
    }
    if ((*s)->run(srv, r, resp, &e) < 0) {
      if (!kapi_error_isset(&e))
        kapi_error_internal(&e, "stage %s failed", (*s)->name);
      LOG_V(4, "%s %s refused by %s: %d %s", r->method, r->path, (*s)->name,
            e.code, e.message);
      kapi_response_error(resp, &e);
      break;
    }
  }
  if (inflight)
    kapi_request_inflight(r, -1);
  kapi_error_clear(&e);
}
