/*
 * rest_subresource.c - the subresources the host serves for every
 * resource that declares them (kapi_resource_ops.subresources):
 *
 *   status    GET/PUT/PATCH; writes change status and metadata only
 *             (upstream's status strategies: pod, node, replicaset...)
 *   scale     GET/PUT/PATCH of an autoscaling/v1 Scale over
 *             spec.replicas (replicaset storage's ScaleREST)
 *   binding   POST of a Binding: sets spec.nodeName (pod BindingREST),
 *             also as the legacy POST .../namespaces/<ns>/bindings
 *   eviction  POST of a policy/v1 Eviction: deletes the pod with its
 *             deleteOptions (pod EvictionREST, without disruption budgets)
 *   finalize  PUT on namespaces: spec.finalizers (FinalizeREST)
 *
 * Status, scale and finalize writes run through the generic update
 * pipeline (rest_update_loop) with their own build step or strategy, so
 * preconditions, admission, validation, retries and delete-on-update
 * behave as on the main endpoint.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admission.h"
#include "log.h"
#include "meta.h"
#include "patch.h"
#include "patch_smp.h"
#include "rest.h"
#include "rest_log.h"
#include "sa_token.h"

static const char *meta_str(const kj *obj, const char *field)
{
  return kj_get_str(kj_get(obj, "metadata"), field);
}

static void answer_error(kapi_response *resp, kapi_error *e)
{
  if (!kapi_error_isset(e))
    kapi_error_internal(e, "out of memory");
  kapi_response_error(resp, e);
  kapi_error_clear(e);
}

static void method_not_allowed(kapi_response *resp)
{
  kapi_response_fail(resp, 405, "MethodNotAllowed",
                     "the server does not allow this method on the "
                     "requested resource");
}

/* Replaces obj[key] with a copy of src[key], or removes it. */
static int copy_member(kj *obj, const kj *src, const char *key)
{
  const kj *v = kj_get(src, key);
  if (!v) {
    kj_remove(obj, key);
    return 0;
  }
  return kj_set(obj, key, kj_clone(v));
}

/* ---- decoding bodies of other kinds (Scale, Binding) -------------------- */

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

/* The request body as an object of `kind` in `api_version`; NULL with e
 * set.  The caller owns the result. */
static kj *decode_as(kapi_req *r, const char *api_version, const char *kind,
                     kapi_error *e)
{
  const char *ct = kapi_req_header(r, "Content-Type");
  const char *k, *av;
  char err[512];
  kj *obj = NULL;

  if (!is_json_type(ct)) {
    kapi_error_setf(e, 415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - "
                    "accepted media types include: application/json");
    return NULL;
  }
  if (!r->body_len ||
      kj_parse(r->body, r->body_len, &obj, err, sizeof err) < 0) {
    kapi_error_bad_request(e, "%s in version \"%s\" cannot be handled as a "
                              "%s: %s", kind, api_version, kind,
                           r->body_len ? err : "empty request body");
    return NULL;
  }
  k = kj_get_str(obj, "kind");
  av = kj_get_str(obj, "apiVersion");
  if (obj->type != KJ_OBJECT || (k && strcmp(k, kind)) ||
      (av && strcmp(av, api_version))) {
    kapi_error_bad_request(e, "%s in version \"%s\" cannot be handled as a "
                              "%s: the object is %s %s, not %s %s",
                           kind, api_version, kind, av ? av : "",
                           k ? k : "", api_version, kind);
    kj_free(obj);
    return NULL;
  }
  if (!kj_child_object(obj, "metadata")) {
    kj_free(obj);
    return NULL;
  }
  return obj;
}

/* ---- status ------------------------------------------------------------- */

/*
 * The status strategies: the stored object with the client's metadata
 * and status; everything else (spec, and any other top-level field) is
 * kept.  The system fields of metadata were restored already.  The
 * resource then adjusts (pods keep their ownerReferences, ...).
 */
static int status_prepare(kapi_resource *res, kj **obj, const kj *old)
{
  void (*prepare)(void *, kapi_obj *, const kapi_obj *) =
      REST_OPS_GET(res->ops, prepare_for_status_update);
  kj *n = kj_clone(old);

  if (!n || copy_member(n, *obj, "metadata") < 0 ||
      copy_member(n, *obj, "status") < 0) {
    kj_free(n);
    return -ENOMEM;
  }
  kj_free(*obj);
  *obj = n;
  if (prepare)
    prepare(res->st, (kapi_obj *)n, (const kapi_obj *)old);
  return 0;
}

static void status_validate(kapi_resource *res, const kj *obj, const kj *old,
                            kj *errs)
{
  int (*validate)(void *, const kapi_obj *, const kapi_obj *, kapi_obj *) =
      REST_OPS_GET(res->ops, validate_status_update);
  if (validate)
    validate(res->st, (const kapi_obj *)obj, (const kapi_obj *)old,
             (kapi_obj *)errs);
}

static const rest_update_strategy status_strategy = {status_prepare,
                                                     status_validate};

/* ---- finalize (namespaces) ---------------------------------------------- */

/* namespaceFinalizeStrategy: status stays as stored. */
static int finalize_prepare(kapi_resource *res, kj **obj, const kj *old)
{
  (void)res;
  return copy_member(*obj, old, "status");
}

/* validateFinalizerName: a finalizer is either fully qualified
 * ("example.com/name") or one of the standard names. */
static void finalize_validate(kapi_resource *res, const kj *obj,
                              const kj *old, kj *errs)
{
  static const char *const standard[] = {"kubernetes", "orphan",
                                         "foregroundDeletion", NULL};
  const kj *list = kj_ptr(obj, "/spec/finalizers");
  size_t i, j;
  (void)res;
  (void)old;

  for (i = 0; i < kj_len(list); i++) {
    const char *f = kj_str(kj_at(list, i));
    const char *slash = f ? strchr(f, '/') : NULL;
    char field[64], *bad;
    int ok = 0;

    if (f && slash)
      ok = slash != f && slash[1] && !strchr(slash + 1, '/');
    for (j = 0; f && !slash && standard[j]; j++)
      ok |= !strcmp(f, standard[j]);
    if (ok)
      continue;
    snprintf(field, sizeof field, "spec.finalizers[%zu]", i);
    bad = kj_dump(kj_at(list, i), NULL);
    kapi_field_error(errs, field, "FieldValueInvalid", bad,
                     "name is neither a standard finalizer name nor is it "
                     "fully qualified");
    free(bad);
  }
}

static const rest_update_strategy finalize_strategy = {finalize_prepare,
                                                       finalize_validate};

/* Only namespaces have a finalize subresource; the plugin ABI has no
 * flag for it. */
static int has_finalize(const kapi_resource *res)
{
  return !*res->group && !strcmp(res->ops->resource, "namespaces");
}

const rest_update_strategy *rest_subresource_strategy(const kapi_req *r)
{
  if (!strcmp(r->subresource, "status"))
    return &status_strategy;
  if (!strcmp(r->subresource, "finalize"))
    return &finalize_strategy;
  return NULL; /* the main endpoint's, also for /scale */
}

/* ---- scale -------------------------------------------------------------- */

/* status.selector: the LabelSelector at ops->scale_selector as a string
 * (metav1.LabelSelectorAsSelector(...).String()). */
static char *scale_selector(const kapi_resource *res, const kj *obj)
{
  const char *ptr = REST_OPS_GET(res->ops, scale_selector);
  kapi_label_selector *sel = NULL;
  char err[256], *s;

  if (!ptr || !kj_ptr(obj, ptr))
    return strdup("");
  if (kapi_label_selector_from_object(kj_ptr(obj, ptr), &sel, err,
                                      sizeof err) < 0)
    return strdup("");
  s = kapi_label_selector_string(sel);
  kapi_label_selector_free(sel);
  return s;
}

kj *rest_scale_of(const kapi_resource *res, const kj *obj)
{
  static const char *const kept[] = {"name", "namespace", "uid",
                                     "resourceVersion", "creationTimestamp",
                                     NULL};
  const kj *meta = kj_get(obj, "metadata");
  kj *s = kj_object(), *m, *spec, *status;
  int64_t replicas = 0, current = 0;
  char *selector = scale_selector(res, obj);
  size_t i;

  if (!s || !selector || kj_set_str(s, "kind", "Scale") < 0 ||
      kj_set_str(s, "apiVersion", "autoscaling/v1") < 0 ||
      !(m = kj_child_object(s, "metadata")) ||
      !(spec = kj_child_object(s, "spec")) ||
      !(status = kj_child_object(s, "status")))
    goto fail;
  for (i = 0; kept[i]; i++)
    if (kj_get(meta, kept[i]) &&
        kj_set(m, kept[i], kj_clone(kj_get(meta, kept[i]))) < 0)
      goto fail;
  kj_to_int(kj_ptr(obj, "/spec/replicas"), &replicas);
  kj_to_int(kj_ptr(obj, "/status/replicas"), &current);
  /* ScaleSpec.replicas is omitempty, ScaleStatus.replicas is not. */
  if ((replicas && kj_set_int(spec, "replicas", replicas) < 0) ||
      kj_set_int(status, "replicas", current) < 0 ||
      (*selector && kj_set_str(status, "selector", selector) < 0))
    goto fail;
  free(selector);
  return s;
fail:
  free(selector);
  kj_free(s);
  return NULL;
}

void rest_answer_built(kapi_req *r, kapi_resource *res, int code,
                       const kj *obj, kapi_response *resp)
{
  kj *scale;
  if (strcmp(r->subresource, "scale")) {
    kapi_response_json(resp, code, obj);
    return;
  }
  scale = rest_scale_of(res, obj);
  if (scale)
    kapi_response_json(resp, code, scale);
  kj_free(scale);
}

/*
 * scaleUpdatedObjectInfo: checks the new Scale (ValidateScale, the UID
 * precondition) and moves its replicas and resourceVersion into a copy of
 * the stored object; the resourceVersion then acts as the update's
 * precondition.  `scale` is borrowed.
 */
static kj *scale_apply(kapi_req *r, kapi_resource *res, const kj *cur,
                       const kj *scale, kapi_error *e)
{
  const char *uid = meta_str(scale, "uid"), *rv;
  const kj *replicas = kj_ptr(scale, "/spec/replicas");
  int64_t n = 0;
  kj *errs, *obj;

  if (replicas && (kj_to_int(replicas, &n) < 0 || n < 0)) {
    char *bad = kj_dump(replicas, NULL);
    errs = kj_array();
    kapi_field_error(errs, "spec.replicas", "FieldValueInvalid", bad,
                     "must be greater than or equal to 0");
    kapi_error_invalid(e, "autoscaling", "Scale", r->name, errs);
    kj_free(errs);
    free(bad);
    return NULL;
  }
  if (uid && *uid && strcmp(uid, meta_str(cur, "uid") ? meta_str(cur, "uid")
                                                      : "")) {
    char *res_name = NULL, cause[256];
    snprintf(cause, sizeof cause, "Precondition failed: UID in precondition: "
             "%s, UID in object meta: %s", uid, meta_str(cur, "uid"));
    if (asprintf(&res_name, "%s/scale", res->ops->resource) >= 0)
      kapi_error_conflict(e, res->group, res_name, r->name, cause);
    free(res_name);
    return NULL;
  }
  obj = kj_clone(cur);
  if (!obj || !kj_child_object(obj, "spec") ||
      kj_set_int(kj_get(obj, "spec"), "replicas", n) < 0) {
    kj_free(obj);
    return NULL;
  }
  rv = meta_str(scale, "resourceVersion");
  if (rv && *rv)
    kj_set_str(kj_get(obj, "metadata"), "resourceVersion", rv);
  else
    kj_remove(kj_get(obj, "metadata"), "resourceVersion");
  return obj;
}

static kj *build_scale_from_body(kapi_req *r, kapi_resource *res,
                                 const kj *cur, void *arg,
                                 kapi_response *resp, kapi_error *e)
{
  (void)resp;
  return scale_apply(r, res, cur, arg, e);
}

struct scale_patch {
  int json_patch;
  kj *patch;
};

/* The patch applies to the Scale the client would GET. */
static kj *build_scale_from_patch(kapi_req *r, kapi_resource *res,
                                  const kj *cur, void *arg,
                                  kapi_response *resp, kapi_error *e)
{
  struct scale_patch *p = arg;
  kj *scale = rest_scale_of(res, cur), *obj;
  char err[512];
  int rc;
  (void)resp;

  if (!scale)
    return NULL;
  if (p->json_patch == 1) {
    rc = kapi_json_patch(scale, p->patch, err, sizeof err);
    if (rc < 0) {
      LOG_V(4, "json patch on scale: %s", err);
      kapi_error_setf(e, 422, "Invalid", "the server rejected our request "
                      "due to an error in our request");
    }
  } else if (p->json_patch == 2) {
    /* Scale has no merge lists: this is a map merge with directives. */
    rc = kapi_strategic_merge_patch(&scale, p->patch, "Scale", err,
                                    sizeof err);
    if (rc == -EDOM)
      kapi_error_setf(e, 422, "Invalid", "the server rejected our request "
                      "due to an error in our request");
    else if (rc == -EINVAL)
      kapi_error_bad_request(e, "%s", err);
    else if (rc < 0)
      kapi_error_setf(e, 500, "", "%s", err);
  } else {
    rc = kapi_merge_patch(&scale, p->patch);
  }
  if (rc < 0 || scale->type != KJ_OBJECT) {
    if (!kapi_error_isset(e))
      kapi_error_bad_request(e, "the patch made the Scale not an object");
    kj_free(scale);
    return NULL;
  }
  obj = scale_apply(r, res, cur, scale, e);
  kj_free(scale);
  return obj;
}

static void scale_update(kapi_server *srv, kapi_req *r, kapi_resource *res,
                         kapi_response *resp)
{
  kapi_error e;
  kj *scale;
  const char *name, *ns;

  kapi_error_init(&e);
  scale = decode_as(r, "autoscaling/v1", "Scale", &e);
  if (!scale) {
    answer_error(resp, &e);
    return;
  }
  name = meta_str(scale, "name");
  ns = meta_str(scale, "namespace");
  if (name && strcmp(name, r->name))
    kapi_error_bad_request(&e, "the name of the object (%s) does not match "
                               "the name on the URL (%s)", name, r->name);
  else if (res->ops->namespaced && ns && *ns && strcmp(ns, r->namespace_))
    kapi_error_bad_request(&e, "the namespace of the object (%s) does not "
                               "match the namespace on the request (%s)",
                           ns, r->namespace_);
  if (kapi_error_isset(&e))
    answer_error(resp, &e);
  else
    rest_update_loop(srv, r, res, build_scale_from_body, scale, resp);
  kj_free(scale);
}

static void scale_patch(kapi_server *srv, kapi_req *r, kapi_resource *res,
                        kapi_response *resp)
{
  const char *ct = kapi_req_header(r, "Content-Type");
  size_t n = ct ? strcspn(ct, ";") : 0;
  struct scale_patch p = {0};
  kapi_error e;
  char err[512];

  kapi_error_init(&e);
  if (ct && n == 27 && !strncmp(ct, "application/json-patch+json", n)) {
    p.json_patch = 1;
  } else if (ct && n == 38 &&
             !strncmp(ct, "application/strategic-merge-patch+json", n)) {
    p.json_patch = 2;
  } else if (!ct || n != 28 ||
             strncmp(ct, "application/merge-patch+json", n)) {
    kapi_error_setf(&e, 415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - "
                    "accepted media types include: "
                    "application/json-patch+json, "
                    "application/merge-patch+json, "
                    "application/strategic-merge-patch+json");
    answer_error(resp, &e);
    return;
  }
  if (kj_parse(r->body ? r->body : "", r->body_len, &p.patch, err,
               sizeof err) < 0) {
    kapi_error_bad_request(&e, "error decoding patch: %s", err);
    answer_error(resp, &e);
    return;
  }
  rest_update_loop(srv, r, res, build_scale_from_patch, &p, resp);
  kj_free(p.patch);
}

/* ---- binding (pods) ----------------------------------------------------- */

/* What a bind needs inside the store's write. */
struct bind_ctx {
  const kj *binding;
  const char *node;
  int64_t now;
  char why[512]; /* the refusal, for the 409 */
};

enum {
  BIND_CONFLICT = -1000,     /* refused: pods/binding conflict */
  BIND_PRECONDITION = -1001, /* uid/resourceVersion precondition failed */
};

/* podutil.UpdatePodCondition(PodScheduled=True): the condition is
 * replaced; its transition time stays if it was True already. */
static int set_scheduled_condition(kj *pod, int64_t now)
{
  kj *status = kj_child_object(pod, "status"), *conds, *c;
  char ts[32];
  size_t i;

  if (!status)
    return -ENOMEM;
  conds = kj_get(status, "conditions");
  if (!conds || conds->type != KJ_ARRAY) {
    if (kj_set(status, "conditions", kj_array()) < 0)
      return -ENOMEM;
    conds = kj_get(status, "conditions");
  }
  kapi_rfc3339(now, ts, sizeof ts);
  c = kj_object();
  if (!c || kj_set_str(c, "type", "PodScheduled") < 0 ||
      kj_set_str(c, "status", "True") < 0 ||
      kj_set(c, "lastProbeTime", kj_null()) < 0 ||
      kj_set_str(c, "lastTransitionTime", ts) < 0) {
    kj_free(c);
    return -ENOMEM;
  }
  for (i = 0; i < kj_len(conds); i++) {
    kj *old = kj_at(conds, i);
    const char *type = kj_get_str(old, "type");
    if (!type || strcmp(type, "PodScheduled"))
      continue;
    if (kj_get_str(old, "status") && !strcmp(kj_get_str(old, "status"),
                                             "True") &&
        kj_get(old, "lastTransitionTime"))
      kj_set(c, "lastTransitionTime",
             kj_clone(kj_get(old, "lastTransitionTime")));
    kj_remove_at(conds, i);
    break;
  }
  return kj_append(conds, c);
}

/* Binding annotations are merged into the pod's. */
static int merge_annotations(kj *pod, const kj *binding)
{
  const kj *add = kj_ptr(binding, "/metadata/annotations");
  kj *ann;
  size_t i;

  if (!kj_len(add))
    return 0;
  ann = kj_child_object(kj_child_object(pod, "metadata"), "annotations");
  if (!ann)
    return -ENOMEM;
  for (i = 0; i < kj_len(add); i++)
    if (kj_set(ann, kj_key_at(add, i), kj_clone(kj_at(add, i))) < 0)
      return -ENOMEM;
  return 0;
}

/* setPodNodeNameAndMetadata, inside the store's write. */
static int bind_cb(const kj *cur, void *arg, kj **ret_new)
{
  struct bind_ctx *c = arg;
  const char *uid = meta_str(c->binding, "uid");
  const char *rv = meta_str(c->binding, "resourceVersion");
  const char *name, *node;
  kj *pod;

  if (!cur)
    return -ENOENT;
  name = meta_str(cur, "name");
  node = kj_str(kj_ptr(cur, "/spec/nodeName"));
  if (uid && *uid && strcmp(uid, meta_str(cur, "uid") ? meta_str(cur, "uid")
                                                      : "")) {
    snprintf(c->why, sizeof c->why, "Precondition failed: UID in "
             "precondition: %s, UID in object meta: %s", uid,
             meta_str(cur, "uid"));
    return BIND_PRECONDITION;
  }
  if (rv && *rv && strtoll(rv, NULL, 10) != kapi_object_rv(cur)) {
    snprintf(c->why, sizeof c->why, "Precondition failed: ResourceVersion "
             "in precondition: %s, ResourceVersion in object meta: %s", rv,
             meta_str(cur, "resourceVersion"));
    return BIND_PRECONDITION;
  }
  if (kj_ptr(cur, "/metadata/deletionTimestamp")) {
    snprintf(c->why, sizeof c->why, "pod %s is being deleted, cannot be "
             "assigned to a host", name);
    return BIND_CONFLICT;
  }
  if (node && *node) {
    snprintf(c->why, sizeof c->why, "pod %s is already assigned to node "
             "\"%s\"", name, node);
    return BIND_CONFLICT;
  }
  if (kj_len(kj_ptr(cur, "/spec/schedulingGates"))) {
    snprintf(c->why, sizeof c->why, "pod %s has non-empty "
             ".spec.schedulingGates", name);
    return BIND_CONFLICT;
  }
  pod = kj_clone(cur);
  if (!pod || !kj_child_object(pod, "spec") ||
      kj_set_str(kj_get(pod, "spec"), "nodeName", c->node) < 0 ||
      merge_annotations(pod, c->binding) < 0 ||
      set_scheduled_condition(pod, c->now) < 0) {
    kj_free(pod);
    return -ENOMEM;
  }
  *ret_new = pod;
  return KAPI_STORE_PUT;
}

/* ValidatePodBinding.  Upstream returns the aggregate as a plain error,
 * which the handler answers as a 500 without a reason. */
static int validate_binding(const kj *binding, kapi_error *e)
{
  const char *kind = kj_str(kj_ptr(binding, "/target/kind"));
  const char *node = kj_str(kj_ptr(binding, "/target/name"));

  if (kind && *kind && strcmp(kind, "Node")) {
    kapi_error_setf(e, 500, "", "target.kind: Unsupported value: \"%s\": "
                    "supported values: \"Node\", \"<empty>\"", kind);
    return -EINVAL;
  }
  if (!node || !*node) {
    kapi_error_setf(e, 500, "", "target.name: Required value");
    return -EINVAL;
  }
  return 0;
}

static void answer_bound(kapi_response *resp)
{
  kj *st = kj_object();
  if (st && kj_set_str(st, "kind", "Status") == 0 &&
      kj_set_str(st, "apiVersion", "v1") == 0 &&
      kj_set(st, "metadata", kj_object()) == 0 &&
      kj_set_str(st, "status", "Success") == 0 &&
      kj_set_int(st, "code", 201) == 0)
    kapi_response_json(resp, 201, st);
  kj_free(st);
}

/* BindingREST.Create.  `legacy`: the name comes from the body. */
static void binding_create(kapi_server *srv, kapi_req *r, kapi_resource *res,
                           int legacy, kapi_response *resp)
{
  struct bind_ctx c;
  kapi_error e;
  kj *binding;
  const char *name, *ns;
  char *key = NULL;
  int rc;

  kapi_error_init(&e);
  binding = decode_as(r, "v1", "Binding", &e);
  if (!binding) {
    answer_error(resp, &e);
    return;
  }
  name = meta_str(binding, "name");
  ns = meta_str(binding, "namespace");
  if (legacy) {
    free(r->name);
    r->name = strdup(name ? name : "");
  }
  if (!r->name || !name || strcmp(name, r->name)) {
    kapi_error_bad_request(&e, "name in URL does not match name in Binding "
                               "object");
    goto out;
  }
  if (ns && *ns && strcmp(ns, r->namespace_)) {
    kapi_error_bad_request(&e, "the namespace of the provided object does "
                               "not match the namespace sent on the request");
    goto out;
  }
  kj_set_str(kj_get(binding, "metadata"), "namespace", r->namespace_);
  if (validate_binding(binding, &e) < 0 ||
      kapi_admission_mutate(srv, r, binding, &e) < 0 ||
      kapi_admission_validate(srv, r, binding, &e) < 0)
    goto out;
  memset(&c, 0, sizeof c);
  c.binding = binding;
  c.node = kj_str(kj_ptr(binding, "/target/name"));
  c.now = r->now;
  key = kapi_resource_key(res, r->namespace_, r->name);
  if (!key)
    goto out;
  if (r->dry_run) {
    store_obj *o = NULL;
    kj *cur = NULL, *ignored = NULL;
    char err[128];
    rc = -ENOENT;
    if (kapi_store_get(srv->store, key, &o) == 0 &&
        kj_parse(o->json, o->len, &cur, err, sizeof err) == 0)
      rc = bind_cb(cur, &c, &ignored);
    kj_free(ignored);
    kj_free(cur);
    store_obj_unref(o);
  } else {
    rc = kapi_store_update(srv->store, key, bind_cb, &c, NULL);
  }
  if (rc == -ENOENT)
    kapi_error_not_found(&e, res->group, res->ops->resource, r->name);
  else if (rc == BIND_CONFLICT)
    kapi_error_conflict(&e, res->group, "pods/binding", r->name, c.why);
  else if (rc == BIND_PRECONDITION)
    kapi_error_conflict(&e, res->group, res->ops->resource, r->name, c.why);
  else if (rc < 0)
    kapi_error_internal(&e, "%s", strerror(-rc));
  else
    answer_bound(resp);
out:
  if (kapi_error_isset(&e) || !key)
    answer_error(resp, &e);
  free(key);
  kj_free(binding);
}

int rest_legacy_binding(kapi_server *srv, kapi_req *r, kapi_response *resp)
{
  kapi_resource *pods = kapi_registry_find(srv->registry, "", "v1", "pods");
  if (!pods || !(rest_subresources(pods) & KAPI_SUB_BINDING))
    return -ENOENT;
  r->res = pods;
  binding_create(srv, r, pods, 1, resp);
  return 0;
}

/* ---- eviction (pods) ---------------------------------------------------- */

/*
 * EvictionREST.Create.  kapi has no PodDisruptionBudgets, so every
 * eviction is allowed: the pod goes through the ordinary delete (grace
 * period, preconditions, admission, dry run) with the Eviction's
 * deleteOptions as the DELETE body, and a success is answered as the
 * create's 201 Status.
 */
static void eviction_create(kapi_server *srv, kapi_req *r, kapi_resource *res,
                            kapi_response *resp)
{
  const char *saved_body = r->body, *saved_op = r->operation;
  char *saved_verb = r->verb, *saved_sub = r->subresource;
  size_t saved_len = r->body_len;
  kapi_response item;
  kapi_error e;
  kj *eviction;
  const char *name, *ns;
  char *opts = NULL;

  kapi_error_init(&e);
  eviction = decode_as(r, "policy/v1", "Eviction", &e);
  if (!eviction) {
    answer_error(resp, &e);
    return;
  }
  name = meta_str(eviction, "name");
  ns = meta_str(eviction, "namespace");
  if (!name || strcmp(name, r->name)) {
    kapi_error_bad_request(&e, "name in URL does not match name in Eviction "
                               "object");
    goto out;
  }
  if (ns && *ns && strcmp(ns, r->namespace_)) {
    kapi_error_bad_request(&e, "the namespace of the provided object does "
                               "not match the namespace sent on the request");
    goto out;
  }
  if (kj_get(eviction, "deleteOptions") &&
      !(opts = kj_dump(kj_get(eviction, "deleteOptions"), NULL)))
    goto out;

  /* The delete sees a plain DELETE of the pod (no subresource). */
  memset(&item, 0, sizeof item);
  r->body = opts;
  r->body_len = opts ? strlen(opts) : 0;
  r->verb = "delete";
  r->subresource = "";
  r->operation = "DELETE";
  rest_delete(srv, r, res, &item);
  r->body = saved_body;
  r->body_len = saved_len;
  r->verb = saved_verb;
  r->subresource = saved_sub;
  r->operation = saved_op;

  if (item.code >= 200 && item.code < 300) {
    answer_bound(resp);
  } else {
    kapi_response_take(resp, item.code ? item.code : 500, item.body,
                       item.len);
    item.body = NULL;
  }
  kapi_response_reset(&item);
out:
  if (kapi_error_isset(&e) || (!resp->code && !resp->body))
    answer_error(resp, &e);
  free(opts);
  kj_free(eviction);
}

/* ---- dispatch ----------------------------------------------------------- */

void rest_subresource(kapi_server *srv, kapi_req *r, kapi_resource *res,
                      kapi_response *resp)
{
  const char *sub = r->subresource, *v = r->verb;
  uint32_t subs = rest_subresources(res);

  if (!*r->name) {
    kapi_response_not_found(resp);
  } else if ((!strcmp(sub, "status") && (subs & KAPI_SUB_STATUS)) ||
             (!strcmp(sub, "scale") && (subs & KAPI_SUB_SCALE))) {
    int scale = !strcmp(sub, "scale");
    if (!strcmp(v, "get"))
      rest_get(srv, r, res, resp);
    else if (!strcmp(v, "update"))
      (scale ? scale_update : rest_update)(srv, r, res, resp);
    else if (!strcmp(v, "patch"))
      (scale ? scale_patch : rest_patch)(srv, r, res, resp);
    else
      method_not_allowed(resp);
  } else if (!strcmp(sub, "binding") && (subs & KAPI_SUB_BINDING)) {
    if (!strcmp(v, "create"))
      binding_create(srv, r, res, 0, resp);
    else
      method_not_allowed(resp);
  } else if (!strcmp(sub, "eviction") && (subs & KAPI_SUB_EVICTION)) {
    if (!strcmp(v, "create"))
      eviction_create(srv, r, res, resp);
    else
      method_not_allowed(resp);
  } else if (!strcmp(sub, "log") && (subs & KAPI_SUB_LOG)) {
    if (!strcmp(v, "get"))
      rest_log(srv, r, res, resp);
    else
      method_not_allowed(resp);
  } else if (!strcmp(sub, "finalize") && has_finalize(res)) {
    if (!strcmp(v, "update"))
      rest_update(srv, r, res, resp);
    else
      method_not_allowed(resp);
  } else if (!strcmp(sub, "token") && !*res->group &&
             !strcmp(res->ops->resource, "serviceaccounts")) {
    kapi_sa_token_request(srv, r, res, resp); /* rest_token.c */
  } else {
    kapi_response_not_found(resp);
  }
}
