/*
 * rest_token.c - POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token:
 * the TokenRequest subresource (authentication.k8s.io/v1), as upstream's
 * TokenREST.Create (pkg/registry/core/serviceaccount/storage/token.go):
 *
 *   decode and default (expirationSeconds 3600), mutating admission,
 *   name/namespace must match the URL, the service account must exist,
 *   audiences default to the server's, validation (10 minutes to 2^32
 *   seconds), validating admission, the bound object (Pod, Secret or
 *   Node) must exist with the given uid, --service-account-max-token-
 *   expiration shortens with a warning, pod-bound 3607-second tokens get
 *   the extended lifetime, then the JWT is signed and answered (201).
 *
 * Nothing is stored: a TokenRequest is never persisted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admission.h"
#include "meta.h"
#include "protobuf.h"
#include "rest.h"
#include "sa_token.h"

#define TR_GROUP "authentication.k8s.io"
#define TR_VERSION "v1"
#define TR_KIND "TokenRequest"
#define TR_API_VERSION TR_GROUP "/" TR_VERSION

/* ---- reading what the request names --------------------------------------- */

/* A stored core/v1 object; *ret newly allocated.  -ENOENT when the
 * resource is not served or the object does not exist. */
static int read_object(kapi_server *srv, const char *resource,
                       const char *ns, const char *name, kj **ret)
{
  kapi_resource *res = kapi_registry_find(srv->registry, "", "v1", resource);
  store_obj *o = NULL;
  char *key, err[128];
  int rc;

  *ret = NULL;
  if (!res)
    return -ENOENT;
  if (!(key = kapi_resource_key(res, ns, name)))
    return -ENOMEM;
  rc = kapi_store_get(srv->store, key, &o);
  free(key);
  if (rc < 0)
    return rc;
  rc = kj_parse(o->json, o->len, ret, err, sizeof err);
  store_obj_unref(o);
  return rc;
}

/* read_object with upstream's errors: NotFound for a missing object. */
static kj *get_or_fail(kapi_server *srv, const char *resource, const char *ns,
                       const char *name, kapi_error *e)
{
  kj *obj = NULL;
  int rc = read_object(srv, resource, ns, name, &obj);

  if (rc == -ENOENT)
    kapi_error_not_found(e, "", resource, name);
  else if (rc < 0)
    kapi_error_internal(e, "%s", strerror(-rc));
  return obj;
}

static const char *meta_str(const kj *obj, const char *field)
{
  return kj_get_str(kj_get(obj, "metadata"), field);
}

static int nonempty(const char *s)
{
  return s && *s;
}

/* ---- decoding ------------------------------------------------------------- */

static int is_json_type(const char *ct)
{
  size_t n;

  if (!ct || !*ct)
    return 1;
  n = strcspn(ct, ";");
  while (n && ct[n - 1] == ' ')
    n--;
  return (n == 16 && !strncasecmp(ct, "application/json", n)) ||
         (n == 3 && !strncmp(ct, "*/*", n));
}

static void cannot_handle(kapi_error *e, const char *why)
{
  kapi_error_bad_request(e, "%s in version \"%s\" cannot be handled as a %s: "
                            "%s", TR_KIND, TR_VERSION, TR_KIND, why);
}

/* The fields Go would refuse to decode into the typed spec. */
static int check_spec_types(const kj *spec, kapi_error *e)
{
  const kj *aud = kj_get(spec, "audiences");
  const kj *exp = kj_get(spec, "expirationSeconds");
  const kj *ref = kj_get(spec, "boundObjectRef");
  int64_t n;
  size_t i;

  if (spec && spec->type != KJ_OBJECT && spec->type != KJ_NULL)
    goto bad;
  if (aud && aud->type != KJ_NULL) {
    if (aud->type != KJ_ARRAY)
      goto bad;
    for (i = 0; i < kj_len(aud); i++)
      if (kj_at(aud, i)->type != KJ_STRING)
        goto bad;
  }
  if (exp && exp->type != KJ_NULL && kj_to_int(exp, &n) < 0)
    goto bad;
  if (ref && ref->type != KJ_NULL && ref->type != KJ_OBJECT)
    goto bad;
  return 0;
bad:
  cannot_handle(e, "json: cannot unmarshal into Go struct field "
                   "TokenRequest.spec of type v1.TokenRequestSpec");
  return -EINVAL;
}

/* The body as a TokenRequest with v1 defaults (SetDefaults_
 * TokenRequestSpec: expirationSeconds 3600); NULL with e set. */
static kj *decode_token_request(kapi_req *r, kapi_error *e)
{
  const char *ct = kapi_req_header(r, "Content-Type");
  const char *kind, *av;
  char err[512];
  kj *obj = NULL, *spec;
  int rc;

  /* kubectl create token sends protobuf (client-go's default for
   * built-in kinds). */
  if (kapi_protobuf_is_type(ct)) {
    rc = kapi_protobuf_to_json(r->body, r->body_len, &obj, err, sizeof err);
  } else if (is_json_type(ct)) {
    rc = r->body_len ? kj_parse(r->body, r->body_len, &obj, err, sizeof err)
                     : (snprintf(err, sizeof err, "empty request body"), -1);
  } else {
    kapi_error_setf(e, 415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - "
                    "accepted media types include: application/json, "
                    "application/vnd.kubernetes.protobuf");
    return NULL;
  }
  if (rc < 0) {
    kj_free(obj);
    cannot_handle(e, err);
    return NULL;
  }
  kind = kj_get_str(obj, "kind");
  av = kj_get_str(obj, "apiVersion");
  if (obj->type != KJ_OBJECT || (nonempty(kind) && strcmp(kind, TR_KIND)) ||
      (nonempty(av) && strcmp(av, TR_API_VERSION))) {
    kapi_error_bad_request(e, "%s in version \"%s\" cannot be handled as a "
                              "%s: the object is %s %s, not %s",
                           TR_KIND, TR_VERSION, TR_KIND, av ? av : "",
                           kind ? kind : "", TR_API_VERSION);
    kj_free(obj);
    return NULL;
  }
  if (check_spec_types(kj_get(obj, "spec"), e) < 0) {
    kj_free(obj);
    return NULL;
  }
  if (kj_get(obj, "spec") && kj_get(obj, "spec")->type == KJ_NULL)
    kj_remove(obj, "spec");
  spec = kj_child_object(obj, "spec");
  if (!kj_child_object(obj, "metadata") || !spec ||
      kj_set_str(obj, "kind", TR_KIND) < 0 ||
      kj_set_str(obj, "apiVersion", TR_API_VERSION) < 0) {
    kj_free(obj);
    return NULL;
  }
  if (kj_get(spec, "boundObjectRef") &&
      kj_get(spec, "boundObjectRef")->type == KJ_NULL)
    kj_remove(spec, "boundObjectRef"); /* omitempty */
  if (!kj_get(spec, "expirationSeconds") ||
      kj_get(spec, "expirationSeconds")->type == KJ_NULL)
    kj_set_int(spec, "expirationSeconds", KAPI_SA_DEFAULT_EXPIRATION);
  return obj;
}

/* ---- checks ----------------------------------------------------------------- */

/* One field error with a string bad value, as a 422 of the kind. */
static void invalid_field(kapi_error *e, const char *name, const char *field,
                          const char *value, const char *detail)
{
  kj *errs = kj_array(), *v = kj_string(value);
  char *bad = v ? kj_dump(v, NULL) : NULL;

  if (errs && bad &&
      kapi_field_error(errs, field, "FieldValueInvalid", bad, detail) == 0)
    kapi_error_invalid(e, TR_GROUP, TR_KIND, name, errs);
  free(bad);
  kj_free(v);
  kj_free(errs);
}

/* The name and namespace in the body, when given, are the URL's. */
static int check_names(kapi_req *r, const kj *treq, kapi_error *e)
{
  const char *name = meta_str(treq, "name");
  const char *ns = meta_str(treq, "namespace");

  if (nonempty(name) && strcmp(name, r->name)) {
    invalid_field(e, r->name, "metadata.name", name,
                  "must match the service account name if specified");
    return -EINVAL;
  }
  if (nonempty(ns) && strcmp(ns, r->namespace_)) {
    invalid_field(e, r->name, "metadata.namespace", ns,
                  "must match the service account namespace if specified");
    return -EINVAL;
  }
  return 0;
}

/* ValidateTokenRequest; the error names no object, as upstream's. */
static int validate_expiration(int64_t seconds, kapi_error *e)
{
  const char *detail = NULL;
  char bad[32];
  kj *errs;

  if (seconds < KAPI_SA_MIN_EXPIRATION)
    detail = "may not specify a duration less than 10 minutes";
  else if (seconds > ((int64_t)1 << 32))
    detail = "may not specify a duration larger than 2^32 seconds";
  if (!detail)
    return 0;
  errs = kj_array();
  snprintf(bad, sizeof bad, "%lld", (long long)seconds);
  if (errs && kapi_field_error(errs, "spec.expirationSeconds",
                               "FieldValueInvalid", bad, detail) == 0)
    kapi_error_invalid(e, TR_GROUP, TR_KIND, "", errs);
  kj_free(errs);
  return -EINVAL;
}

/* ---- defaults ----------------------------------------------------------------- */

/* Empty audiences become the server's (--api-audiences). */
static int default_audiences(const kapi_sa_signer *s, kj *spec)
{
  const kj *aud = kj_get(spec, "audiences");
  kj *list;
  size_t i;

  if (aud && aud->type == KJ_ARRAY && kj_len(aud))
    return 0;
  if (!(list = kj_array()))
    return -ENOMEM;
  for (i = 0; i < kapi_sa_signer_audience_count(s); i++)
    if (kj_append(list, kj_string(kapi_sa_signer_audience(s, i))) < 0) {
      kj_free(list);
      return -ENOMEM;
    }
  return kj_set(spec, "audiences", list);
}

/*
 * Fills name and namespace and sets creationTimestamp; drops the system
 * fields a client may not set on a create (WipeObjectMetaSystemFields)
 * and the status.
 */
static int default_meta(kapi_req *r, kj *treq)
{
  static const char *const wiped[] = {
      "uid", "resourceVersion", "generation", "selfLink",
      "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields"};
  kj *meta = kj_child_object(treq, "metadata");
  char ts[64];
  size_t i;

  if (!meta)
    return -ENOMEM;
  for (i = 0; i < sizeof wiped / sizeof *wiped; i++)
    kj_remove(meta, wiped[i]);
  /* Re-added last, so that it follows name and namespace as upstream
   * writes ObjectMeta. */
  kj_remove(meta, "creationTimestamp");
  if (!nonempty(kj_get_str(meta, "name")) &&
      kj_set_str(meta, "name", r->name) < 0)
    return -ENOMEM;
  if (!nonempty(kj_get_str(meta, "namespace")) &&
      kj_set_str(meta, "namespace", r->namespace_) < 0)
    return -ENOMEM;
  kapi_rfc3339(r->now, ts, sizeof ts);
  if (kj_set_str(meta, "creationTimestamp", ts) < 0)
    return -ENOMEM;
  kj_remove(treq, "status");
  return 0;
}

/* ---- the bound object ----------------------------------------------------------- */

typedef struct bound {
  kj *pod, *secret, *node; /* owned; the node may be a name-only stub */
} bound;

static void bound_free(bound *b)
{
  kj_free(b->pod);
  kj_free(b->secret);
  kj_free(b->node);
}

/* The group of an apiVersion ("v1" -> "", "apps/v1" -> "apps"); into buf. */
static const char *api_group(const char *av, char *buf, size_t len)
{
  const char *slash = av ? strchr(av, '/') : NULL;

  snprintf(buf, len, "%.*s", slash ? (int)(slash - av) : 0, av ? av : "");
  return buf;
}

/* The node a pod runs on, as upstream's ServiceAccountTokenPodNodeInfo:
 * a missing Node still gives its name. */
static int pod_node(kapi_server *srv, const kj *pod, bound *b, kapi_error *e)
{
  const char *node = kj_get_str(kj_get(pod, "spec"), "nodeName");
  int rc;

  if (!nonempty(node))
    return 0;
  rc = read_object(srv, "nodes", NULL, node, &b->node);
  if (rc == -ENOENT) {
    kj *meta;
    b->node = kj_object();
    meta = b->node ? kj_child_object(b->node, "metadata") : NULL;
    if (!meta || kj_set_str(meta, "name", node) < 0)
      return -ENOMEM;
    return 0;
  }
  if (rc < 0) {
    kapi_error_internal(e, "%s", strerror(-rc));
    return rc;
  }
  return 0;
}

/*
 * Looks up spec.boundObjectRef (absent: nothing to do).  Fills *b with
 * the objects the token will name; on error e is set.
 */
static int resolve_bound(kapi_server *srv, kapi_req *r, const kj *ref,
                         bound *b, kapi_error *e)
{
  const char *kind = kj_get_str(ref, "kind"), *av = kj_get_str(ref, "apiVersion");
  const char *name = kj_get_str(ref, "name"), *want = kj_get_str(ref, "uid");
  const char *uid, *sa_name;
  char group[256];
  kj *obj = NULL;

  if (!ref || ref->type != KJ_OBJECT)
    return 0;
  name = name ? name : "";
  kind = kind ? kind : "";
  api_group(av, group, sizeof group);
  if (*group || (strcmp(kind, "Pod") && strcmp(kind, "Secret") &&
                 strcmp(kind, "Node"))) {
    /* schema.GroupVersionKind.String() */
    const char *ver = av ? (strchr(av, '/') ? strchr(av, '/') + 1 : av) : "";
    kapi_error_bad_request(e, "cannot bind token to object of type %s/%s, "
                              "Kind=%s", group, ver, kind);
    return -EINVAL;
  }
  if (!strcmp(kind, "Pod")) {
    if (!(obj = b->pod = get_or_fail(srv, "pods", r->namespace_, name, e)))
      return -ENOENT;
    sa_name = kj_get_str(kj_get(obj, "spec"), "serviceAccountName");
    if (!sa_name || strcmp(sa_name, r->name)) {
      kapi_error_bad_request(e, "cannot bind token for serviceaccount \"%s\" "
                                "to pod running with different "
                                "serviceaccount name.", r->name);
      return -EINVAL;
    }
    if (pod_node(srv, obj, b, e) < 0)
      return -EIO;
  } else if (!strcmp(kind, "Node")) {
    if (!(obj = b->node = get_or_fail(srv, "nodes", NULL, name, e)))
      return -ENOENT;
  } else {
    if (!(obj = b->secret = get_or_fail(srv, "secrets", r->namespace_, name,
                                        e)))
      return -ENOENT;
  }
  uid = meta_str(obj, "uid");
  if (nonempty(want) && (!uid || strcmp(uid, want))) {
    char cause[512];
    snprintf(cause, sizeof cause,
             "the UID in the bound object reference (%s) does not match the "
             "UID in record. The object might have been deleted and then "
             "recreated", want);
    kapi_error_conflict(e, group, kind, name, cause);
    return -EBUSY;
  }
  return 0;
}

/* ---- issuing -------------------------------------------------------------------- */

static void set_ref(kapi_sa_ref *ref, const kj *obj)
{
  if (!obj)
    return;
  ref->name = meta_str(obj, "name");
  ref->uid = meta_str(obj, "uid");
  if (!ref->name)
    ref->name = "";
}

/* Every requested audience is one of the server's (isKubeAudiences). */
static int kube_audiences_only(const kapi_sa_signer *s, const kj *aud)
{
  size_t i, j, n = kapi_sa_signer_audience_count(s);

  for (i = 0; i < kj_len(aud); i++) {
    const char *a = kj_str(kj_at(aud, i));
    for (j = 0; j < n; j++)
      if (a && !strcmp(a, kapi_sa_signer_audience(s, j)))
        break;
    if (j == n)
      return 0;
  }
  return 1;
}

/* Shortens to --service-account-max-token-expiration, with upstream's
 * warning; returns the expiration the response reports. */
static int64_t clamp_expiration(const kapi_sa_signer *s, kj *spec,
                                kapi_response *resp)
{
  int64_t exp = 0, max = kapi_sa_signer_max_expiration(s);
  char warning[160];

  kj_to_int(kj_get(spec, "expirationSeconds"), &exp);
  if (max > 0 && exp > max) {
    snprintf(warning, sizeof warning,
             "requested expiration of %lld seconds shortened to %lld seconds",
             (long long)exp, (long long)max);
    kapi_response_warn(resp, warning);
    exp = max;
    kj_set_int(spec, "expirationSeconds", exp);
  }
  return exp;
}

static void audit_credential_id(kapi_req *r, const char *jti)
{
  char id[64];

  if (!r->audit_annotations && !(r->audit_annotations = kj_object()))
    return;
  snprintf(id, sizeof id, "JTI=%s", jti);
  kj_set_str(r->audit_annotations,
             "authentication.kubernetes.io/issued-credential-id", id);
}

/* Signs the token and sets status {token, expirationTimestamp}. */
static int issue(kapi_server *srv, kapi_req *r, kj *treq, const kj *sa,
                 const bound *b, kapi_response *resp, kapi_error *e)
{
  const kapi_sa_signer *s = srv->sa_signer;
  kj *spec = kj_get(treq, "spec"), *aud = kj_get(spec, "audiences"), *status;
  const char **auds = calloc(kj_len(aud) + 1, sizeof *auds);
  kapi_sa_claims c;
  char jti[40], ts[64], *token = NULL;
  int64_t exp = clamp_expiration(s, spec, resp);
  size_t i;

  if (!auds)
    return -ENOMEM;
  memset(&c, 0, sizeof c);
  c.namespace_ = r->namespace_;
  set_ref(&c.sa, sa);
  set_ref(&c.pod, b->pod);
  set_ref(&c.secret, b->secret);
  set_ref(&c.node, b->node);
  for (i = 0; i < kj_len(aud); i++)
    auds[i] = kj_str(kj_at(aud, i));
  c.audiences = auds;
  c.n_audiences = kj_len(aud);
  c.now = r->now;
  c.expiration = exp;
  if (kapi_sa_signer_extends(s) && b->pod &&
      exp == KAPI_SA_WARN_ONLY_EXPIRATION && kube_audiences_only(s, aud)) {
    c.warn_after = exp;
    c.expiration = KAPI_SA_EXTENDED_EXPIRATION;
  }
  kapi_uuid4(jti);
  c.jti = jti;
  token = kapi_sa_token_sign(s, &c);
  free(auds);
  if (!token) {
    kapi_error_internal(e, "failed to generate token: signing failed");
    return -EIO;
  }
  kapi_rfc3339(r->now + exp, ts, sizeof ts);
  status = kj_child_object(treq, "status");
  if (!status || kj_set_str(status, "token", token) < 0 ||
      kj_set_str(status, "expirationTimestamp", ts) < 0) {
    free(token);
    return -ENOMEM;
  }
  free(token);
  audit_credential_id(r, jti);
  return 0;
}

/* ---- the handler ---------------------------------------------------------------- */

/*
 * The answer with upstream's field order: kind, apiVersion, metadata,
 * spec {audiences, expirationSeconds, boundObjectRef (null when unset:
 * the v1 field has no omitempty)}, status.  Newly allocated; NULL when
 * out of memory.
 */
static kj *render(const kj *treq)
{
  static const char *const top[] = {"kind", "apiVersion", "metadata", "spec",
                                    "status"};
  static const char *const spec_keys[] = {"audiences", "expirationSeconds",
                                          "boundObjectRef"};
  const kj *old_spec = kj_get(treq, "spec");
  kj *out = kj_object(), *spec = kj_object();
  size_t i;
  int rc = out && spec ? 0 : -ENOMEM;

  for (i = 0; rc == 0 && i < sizeof spec_keys / sizeof *spec_keys; i++) {
    const kj *v = kj_get(old_spec, spec_keys[i]);
    rc = kj_set(spec, spec_keys[i], v ? kj_clone(v) : kj_null());
  }
  for (i = 0; rc == 0 && i < sizeof top / sizeof *top; i++) {
    if (!strcmp(top[i], "spec")) {
      rc = kj_set(out, "spec", spec);
      spec = NULL;
    } else if (kj_get(treq, top[i])) {
      rc = kj_set(out, top[i], kj_clone(kj_get(treq, top[i])));
    }
  }
  kj_free(spec);
  if (rc < 0) {
    kj_free(out);
    return NULL;
  }
  return out;
}

static int create_token(kapi_server *srv, kapi_req *r, kj *treq,
                        kapi_response *resp, kapi_error *e)
{
  bound b = {0};
  kj *sa = NULL, *spec;
  int64_t exp = 0;
  int rc = -EINVAL;

  if (kapi_admission_mutate(srv, r, treq, e) < 0 ||
      check_names(r, treq, e) < 0 ||
      !(sa = get_or_fail(srv, "serviceaccounts", r->namespace_, r->name, e)))
    goto out;
  spec = kj_get(treq, "spec");
  if (default_audiences(srv->sa_signer, spec) < 0 ||
      default_meta(r, treq) < 0) {
    rc = -ENOMEM;
    goto out;
  }
  kj_to_int(kj_get(spec, "expirationSeconds"), &exp);
  if (validate_expiration(exp, e) < 0 ||
      kapi_admission_validate(srv, r, treq, e) < 0 ||
      resolve_bound(srv, r, kj_get(spec, "boundObjectRef"), &b, e) < 0)
    goto out;
  rc = issue(srv, r, treq, sa, &b, resp, e);
out:
  bound_free(&b);
  kj_free(sa);
  return rc;
}

void kapi_sa_token_request(kapi_server *srv, kapi_req *r, kapi_resource *res,
                           kapi_response *resp)
{
  kapi_error e;
  kj *treq;
  int rc;

  (void)res;
  if (!srv->sa_signer) {
    kapi_response_not_found(resp);
    return;
  }
  if (strcmp(r->verb, "create")) {
    kapi_response_fail(resp, 405, "MethodNotAllowed",
                       "the server does not allow this method on the "
                       "requested resource");
    return;
  }
  kapi_error_init(&e);
  treq = decode_token_request(r, &e);
  if (treq && create_token(srv, r, treq, resp, &e) == 0) {
    kj *out = render(treq);
    rc = out ? kapi_response_json(resp, 201, out) : -ENOMEM;
    kj_free(out);
    if (rc == 0) {
      kj_free(treq);
      return;
    }
  }
  if (!kapi_error_isset(&e))
    kapi_error_internal(&e, "out of memory");
  kapi_response_error(resp, &e);
  kapi_error_clear(&e);
  kj_free(treq);
}
