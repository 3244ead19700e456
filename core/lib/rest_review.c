/*
 * rest_review.c - SelfSubjectReview and the access reviews
 * (authentication/authorization.k8s.io v1).  Upstream implements them as
 * create-only REST storages that compute a status and keep nothing; the
 * access reviews replay the authorizer chain over attributes taken from
 * the spec instead of from the HTTP request.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "protobuf.h"
#include "request.h"
#include "rest_review.h"

static const char authn_gv[] = "authentication.k8s.io/v1";
static const char authz_gv[] = "authorization.k8s.io/v1";

/* The body as a JSON object (protobuf transcoded), or NULL with a 400
 * or 415 already answered. */
static kj *decode_body(kapi_req *r, const char *kind, kapi_response *resp)
{
  const char *ct = kapi_req_header(r, "Content-Type");
  char err[512], msg[700];
  kj *obj = NULL;
  int rc;

  if (kapi_protobuf_is_type(ct))
    rc = kapi_protobuf_to_json(r->body, r->body_len, &obj, err, sizeof err);
  else if (!ct || !strncmp(ct, "application/json", 16))
    rc = r->body_len ? kj_parse(r->body, r->body_len, &obj, err, sizeof err)
                     : (snprintf(err, sizeof err, "empty request body"), -1);
  else {
    snprintf(msg, sizeof msg, "the body of the request was in an unknown "
                              "format - accepted media types include: "
                              "application/json, "
                              "application/vnd.kubernetes.protobuf");
    kapi_response_fail(resp, 415, "UnsupportedMediaType", msg);
    return NULL;
  }
  if (rc == 0 && obj && obj->type != KJ_OBJECT) {
    snprintf(err, sizeof err, "the body is not a JSON object");
    rc = -1;
  }
  if (rc < 0) {
    kj_free(obj);
    snprintf(msg, sizeof msg, "%s in version \"v1\" cannot be handled as a "
                              "%s: %s", kind, kind, err);
    kapi_response_fail(resp, 400, "BadRequest", msg);
    return NULL;
  }
  return obj;
}

/* {"kind","apiVersion","metadata":{"creationTimestamp":null}}. */
static kj *review_skeleton(const char *kind, const char *gv)
{
  kj *o = kj_object(), *meta = kj_object();

  if (!o || !meta || kj_set_str(o, "kind", kind) < 0 ||
      kj_set_str(o, "apiVersion", gv) < 0 ||
      kj_set(meta, "creationTimestamp", kj_null()) < 0 ||
      kj_set(o, "metadata", meta) < 0) {
    kj_free(o);
    return NULL;
  }
  return o;
}

static void respond(kapi_response *resp, kj *o)
{
  if (!o || kapi_response_json(resp, 201, o) < 0)
    kapi_response_fail(resp, 500, "InternalError", "out of memory");
  kj_free(o);
}

/* A user object {"username","uid","groups","extra"} with defaults. */
static kj *user_info(const kj *user)
{
  kj *u = user ? kj_clone(user) : kj_object();

  if (!u)
    return NULL;
  if (!kj_get_str(u, "username"))
    kj_set_str(u, "username", "");
  if (!kj_get(u, "groups"))
    kj_set(u, "groups", kj_array());
  return u;
}

static void self_subject_review(kapi_req *r, kapi_response *resp)
{
  kj *in = decode_body(r, "SelfSubjectReview", resp), *o, *status;

  if (!in)
    return;
  kj_free(in);
  o = review_skeleton("SelfSubjectReview", authn_gv);
  status = o ? kj_child_object(o, "status") : NULL;
  if (!status || kj_set(status, "userInfo", user_info(r->user)) < 0) {
    kj_free(o);
    o = NULL;
  }
  respond(resp, o);
}

/* TokenReview: is spec.token valid, and whose is it? */
static void token_review(kapi_server *srv, kapi_req *r, kapi_response *resp)
{
  kj *in = decode_body(r, "TokenReview", resp), *o, *status, *user = NULL;
  const kj *spec;
  const char *token;

  if (!in)
    return;
  spec = kj_get(in, "spec");
  token = kj_get_str(spec, "token");
  if (!token || !*token) {
    kj_free(in);
    kapi_response_fail(resp, 422, "Invalid",
                       "TokenReview.authentication.k8s.io \"\" is invalid: "
                       "spec.token: Required value: token must be specified");
    return;
  }
  o = review_skeleton("TokenReview", authn_gv);
  status = o ? kj_child_object(o, "status") : NULL;
  if (!status || kapi_authenticate_token(srv, token, &user) < 0) {
    kj_free(o);
    o = NULL;
  } else {
    kj_set(status, "authenticated", kj_bool(user != NULL));
    if (user)
      kj_set(status, "user", user_info(user));
    if (kj_get(spec, "audiences"))
      kj_set(status, "audiences", kj_clone(kj_get(spec, "audiences")));
    /* the token itself is not echoed back */
    kj_set(o, "spec", kj_object());
  }
  kj_free(user);
  kj_free(in);
  respond(resp, o);
}

static char *str_or_empty(const kj *obj, const char *key)
{
  const char *s = obj ? kj_get_str(obj, key) : NULL;
  return (char *)(s ? s : "");
}

/* Authorizes spec's attributes for user: fills status. */
static int access_status(kapi_server *srv, kapi_req *orig, const kj *spec,
                         kj *user, kj *status)
{
  const kj *ra = kj_get(spec, "resourceAttributes");
  const kj *nra = kj_get(spec, "nonResourceAttributes");
  kapi_req q;
  char *reason = NULL;
  int d;

  memset(&q, 0, sizeof q);
  q.method = "POST";
  q.conn = orig->conn;
  q.header = orig->header;
  q.query = orig->query;
  q.user = user;
  q.now = orig->now;
  q.api_prefix = (char *)"apis";
  if (ra && ra->type == KJ_OBJECT) {
    q.is_resource_request = 1;
    q.verb = str_or_empty(ra, "verb");
    q.api_group = str_or_empty(ra, "group");
    q.api_version = str_or_empty(ra, "version");
    q.namespace_ = str_or_empty(ra, "namespace");
    q.resource = str_or_empty(ra, "resource");
    q.subresource = str_or_empty(ra, "subresource");
    q.name = str_or_empty(ra, "name");
    q.path = (char *)"";
    if (!*q.api_group)
      q.api_prefix = (char *)"api";
  } else if (nra && nra->type == KJ_OBJECT) {
    q.verb = str_or_empty(nra, "verb");
    q.path = str_or_empty(nra, "path");
    q.api_group = q.api_version = q.namespace_ = q.resource = (char *)"";
    q.subresource = q.name = (char *)"";
  } else {
    return -EINVAL;
  }
  d = kapi_authorize(srv, &q, &reason);
  kj_set(status, "allowed", kj_bool(d == KAPI_ALLOW));
  if (d == KAPI_DENY)
    kj_set(status, "denied", kj_bool(1));
  if (reason && *reason)
    kj_set_str(status, "reason", reason);
  free(reason);
  return 0;
}

/* SubjectAccessReview names its user in the spec; the self variants use
 * the authenticated one. */
static kj *spec_user(const kj *spec)
{
  kj *u = kj_object();
  const kj *v;

  if (!u)
    return NULL;
  kj_set_str(u, "username", str_or_empty(spec, "user"));
  kj_set_str(u, "uid", str_or_empty(spec, "uid"));
  v = kj_get(spec, "groups");
  kj_set(u, "groups", v ? kj_clone(v) : kj_array());
  v = kj_get(spec, "extra");
  kj_set(u, "extra", v ? kj_clone(v) : kj_object());
  return u;
}

/* LocalSubjectAccessReview: only resource attributes, in the URL's
 * namespace (upstream's validation). */
static int local_review_invalid(kapi_req *r, const kj *spec,
                                kapi_response *resp)
{
  const char *ns = kj_get_str(kj_get(spec, "resourceAttributes"),
                              "namespace");
  char msg[512];

  if (kj_get(spec, "nonResourceAttributes")) {
    kapi_response_fail(resp, 422, "Invalid",
                       "spec.nonResourceAttributes: Invalid value: \"\": "
                       "disallowed on this kind of request");
    return 1;
  }
  if (!ns || strcmp(ns, r->namespace_)) {
    snprintf(msg, sizeof msg,
             "spec.resourceAttributes.namespace must match namespace: %s",
             r->namespace_);
    kapi_response_fail(resp, 400, "BadRequest", msg);
    return 1;
  }
  return 0;
}

static void access_review(kapi_server *srv, kapi_req *r, const char *kind,
                          int self, kapi_response *resp)
{
  kj *in = decode_body(r, kind, resp), *spec, *user, *o = NULL, *status;

  if (!in)
    return;
  spec = kj_get(in, "spec");
  if (*r->namespace_ && spec && local_review_invalid(r, spec, resp)) {
    kj_free(in);
    return;
  }
  if (!spec || spec->type != KJ_OBJECT ||
      (!kj_get(spec, "resourceAttributes") &&
       !kj_get(spec, "nonResourceAttributes"))) {
    kj_free(in);
    kapi_response_fail(resp, 422, "Invalid",
                       "spec.resourceAttributes: Invalid value: null: exactly "
                       "one of nonResourceAttributes or resourceAttributes "
                       "must be specified");
    return;
  }
  user = self ? user_info(r->user) : spec_user(spec);
  o = review_skeleton(kind, authz_gv);
  status = kj_object();
  if (!user || !o || !status || access_status(srv, r, spec, user, status) < 0) {
    kj_free(status);
    kj_free(o);
    o = NULL;
  } else if (kj_set(o, "spec", kj_clone(spec)) < 0 ||
             kj_set(o, "status", status) < 0) {
    kj_free(o); /* kj_set freed what it could not attach */
    o = NULL;
  }
  kj_free(user);
  kj_free(in);
  respond(resp, o);
}

static kj *rule(const char *const *keys)
{
  kj *o = kj_object(), *a;
  size_t i;

  for (i = 0; o && keys[i]; i++) {
    a = kj_array();
    kj_append(a, kj_string("*"));
    kj_set(o, keys[i], a);
  }
  return o;
}

/* One authorizer's rules (authorizer.RuleResolver).  Without rules_for,
 * ask whether the user may do everything: then "*" everywhere is the
 * complete answer; otherwise the answer may be incomplete. */
static int authorizer_rules(const kapi_component *c, kapi_req *q,
                            const char *ns, kj *rr, kj *nr, kj *errors)
{
  static const char *const res_keys[] = {"verbs", "apiGroups", "resources",
                                         NULL};
  static const char *const nonres_keys[] = {"verbs", "nonResourceURLs", NULL};
  const kapi_authz_ops *ops = c->ops;
  kapi_error e;
  int rc;

  if (ops->size >= offsetof(kapi_authz_ops, rules_for) + sizeof ops->rules_for &&
      ops->rules_for) {
    kapi_error_init(&e);
    rc = ops->rules_for(c->st, q, ns, (kapi_obj *)rr, (kapi_obj *)nr, &e);
    if (rc != 0 && e.message)
      kj_append(errors, kj_string(e.message));
    kapi_error_clear(&e);
    return rc != 0;
  }
  kapi_error_init(&e);
  rc = ops->authorize(c->st, q, &e) == KAPI_ALLOW;
  kapi_error_clear(&e);
  if (rc) {
    kj_append(rr, rule(res_keys));
    kj_append(nr, rule(nonres_keys));
  }
  return !rc;
}

/* Every authorizer's rules, as upstream's union rule resolver. */
static int union_rules(kapi_server *srv, kapi_req *q, const char *ns, kj *rr,
                       kj *nr, kj *errors)
{
  size_t n = kapi_plugins_count(srv->plugins, KAPI_KIND_AUTHZ), i;
  int incomplete = 0;

  for (i = 0; i < n; i++)
    incomplete |= authorizer_rules(
        kapi_plugins_at(srv->plugins, KAPI_KIND_AUTHZ, i), q, ns, rr, nr,
        errors);
  return incomplete;
}

static void rules_review(kapi_server *srv, kapi_req *r, kapi_response *resp)
{
  kj *in = decode_body(r, "SelfSubjectRulesReview", resp), *o, *status;
  kj *rr, *nr, *spec, *user, *errors;
  kapi_req q;
  int incomplete;

  if (!in)
    return;
  spec = kj_get(in, "spec");
  user = user_info(r->user);
  memset(&q, 0, sizeof q);
  q.method = "POST";
  q.conn = r->conn;
  q.header = r->header;
  q.query = r->query;
  q.srv = srv;
  q.user = user;
  q.now = r->now;
  q.is_resource_request = 1;
  q.verb = q.api_group = q.api_version = q.resource = q.name = (char *)"*";
  q.api_prefix = (char *)"apis";
  q.path = q.subresource = (char *)"";
  q.namespace_ = str_or_empty(spec, "namespace");

  o = review_skeleton("SelfSubjectRulesReview", authz_gv);
  status = kj_object();
  rr = kj_array();
  nr = kj_array();
  errors = kj_array();
  incomplete = !user || union_rules(srv, &q, q.namespace_, rr, nr, errors);
  kj_free(user);
  kj_set(status, "resourceRules", rr);
  kj_set(status, "nonResourceRules", nr);
  kj_set(status, "incomplete", kj_bool(incomplete));
  if (kj_len(errors)) {
    /* upstream joins the authorizers' errors into one string */
    char buf[2048];
    size_t used = 0, i;
    buf[0] = '\0';
    for (i = 0; i < kj_len(errors) && used < sizeof buf; i++)
      used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s",
                               i ? ", " : "", kj_str(kj_at(errors, i)));
    kj_set_str(status, "evaluationError", buf);
  }
  kj_free(errors);
  if (o) {
    kj_set(o, "spec", spec ? kj_clone(spec) : kj_object());
    kj_set(o, "status", status);
  } else {
    kj_free(status);
  }
  kj_free(in);
  respond(resp, o);
}

int kapi_review_handle(kapi_server *srv, kapi_req *r, kapi_response *resp)
{
  const char *g = r->api_group, *res = r->resource;
  int authn = !strcmp(g, "authentication.k8s.io");
  int authz = !strcmp(g, "authorization.k8s.io");

  if ((!authn && !authz) || strcmp(r->api_version, "v1"))
    return 0;
  int local = authz && !strcmp(res, "localsubjectaccessreviews");

  if (authn && strcmp(res, "selfsubjectreviews") && strcmp(res, "tokenreviews"))
    return 0;
  if (authz && !local && strcmp(res, "selfsubjectaccessreviews") &&
      strcmp(res, "subjectaccessreviews") &&
      strcmp(res, "selfsubjectrulesreviews"))
    return 0;
  if (strcmp(r->verb, "create") || *r->name || *r->subresource ||
      !*r->namespace_ != !local) {
    kapi_response_fail(resp, 405, "MethodNotAllowed",
                       "the server does not allow this method on the "
                       "requested resource");
    return 1;
  }
  if (authn && !strcmp(res, "tokenreviews"))
    token_review(srv, r, resp);
  else if (authn)
    self_subject_review(r, resp);
  else if (local)
    access_review(srv, r, "LocalSubjectAccessReview", 0, resp);
  else if (!strcmp(res, "selfsubjectaccessreviews"))
    access_review(srv, r, "SelfSubjectAccessReview", 1, resp);
  else if (!strcmp(res, "subjectaccessreviews"))
    access_review(srv, r, "SubjectAccessReview", 0, resp);
  else
    rules_review(srv, r, resp);
  return 1;
}
