/*
 * rest_write.c - create, update, patch and delete.
 *
 * Every write runs the same stages as upstream's handlers and generic
 * Store: decode (with strict field validation) -> system fields ->
 * mutating admission -> strategy (prepare, validate) -> validating
 * admission -> storage.  Updates and patches read the current object,
 * build the new one outside any lock, and commit only if the object is
 * still the version they read (upstream's GuaranteedUpdate), retrying
 * otherwise.  Plugins therefore never run under the store's lock.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admission.h"
#include "log.h"
#include "meta.h"
#include "patch.h"
#include "patch_smp.h"
#include "protobuf.h"
#include "rest.h"
#include "schema.h"
#include "kyaml.h"
#include "managedfields.h"

#define UPDATE_RETRIES 16
#define GENERATE_NAME_ATTEMPTS 8 /* upstream's maxNameGenerationCreateAttempts */

static const char *meta_str(const kj *obj, const char *field)
{
  return kj_get_str(kj_get(obj, "metadata"), field);
}

static int answer_error(kapi_response *resp, kapi_error *e)
{
  kapi_response_error(resp, e);
  kapi_error_clear(e);
  return -1;
}

/* ---- decoding ----------------------------------------------------------- */

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

static void unsupported_media_type(kapi_error *e, const char *ct)
{
  kapi_error_setf(e, 415, "UnsupportedMediaType",
                  "the body of the request was in an unknown format - "
                  "accepted media types include: application/json");
  (void)ct;
}

/*
 * Applies fieldValidation to the unknown and duplicate fields found:
 * Strict refuses, Warn warns (the default), Ignore drops silently.
 * Unknown fields are dropped from the object either way, as typed
 * decoding does.
 */
static int field_validation(kapi_req *r, kapi_resource *res, kj *obj,
                            char **dups, size_t ndups, kapi_response *resp,
                            kapi_error *e)
{
  const char *mode = kapi_req_query(r, "fieldValidation");
  char **unknown = NULL, type_msg[700];
  size_t nunknown = 0, i, len = 0;
  char *msg = NULL;
  int rc = 0;

  if (mode && *mode && strcmp(mode, "Strict") && strcmp(mode, "Warn") &&
      strcmp(mode, "Ignore")) {
    kapi_error_bad_request(e, "fieldValidation: Unsupported value: \"%s\": "
                              "supported values: \"Ignore\", \"Strict\", "
                              "\"Warn\"", mode);
    return -EINVAL;
  }
  if (res->schema &&
      kapi_schema_check(res->schema, obj, res->ops->kind, &unknown, &nunknown,
                        type_msg, sizeof type_msg) == 1) {
    /* Not a matter of field validation: upstream cannot decode it. */
    kapi_error_bad_request(e, "%s in version \"%s\" cannot be handled as a "
                              "%s: %s", res->ops->kind, res->ops->version,
                           res->ops->kind, type_msg);
    rc = -EINVAL;
    goto out;
  }
  if (res->schema && nunknown)
    kapi_schema_prune(res->schema, obj);
  if (mode && !strcmp(mode, "Ignore"))
    goto out;
  for (i = 0; i < ndups + nunknown; i++) {
    const char *path = i < ndups ? dups[i] : unknown[i - ndups];
    char item[600];
    size_t n;
    if (i < ndups)
      snprintf(item, sizeof item, "json: duplicate field \"%s\"", path);
    else
      snprintf(item, sizeof item, "unknown field \"%s\"", path);
    if (!mode || strcmp(mode, "Strict")) {
      kapi_response_warn(resp, item);
      continue;
    }
    n = strlen(item);
    char *m = realloc(msg, len + n + 3);
    if (!m) {
      rc = -ENOMEM;
      goto out;
    }
    msg = m;
    if (len)
      len += (size_t)sprintf(msg + len, ", ");
    strcpy(msg + len, item);
    len += n;
  }
  if (msg) {
    kapi_error_bad_request(e, "%s in version \"%s\" cannot be handled as a "
                              "%s: strict decoding error: %s",
                           res->ops->kind, res->ops->version, res->ops->kind,
                           msg);
    rc = -EINVAL;
  }
out:
  for (i = 0; i < nunknown; i++)
    free(unknown[i]);
  free(unknown);
  free(msg);
  return rc;
}

/* Decodes the request body into an object of the resource's kind. */
static kj *decode_object(kapi_req *r, kapi_resource *res, kapi_response *resp,
                         kapi_error *e)
{
  const char *ct = kapi_req_header(r, "Content-Type");
  const char *kind, *av;
  char err[512], **dups = NULL;
  size_t ndups = 0, i;
  kj *obj = NULL;

  if (kapi_protobuf_is_type(ct) &&
      kapi_protobuf_supports(res->group_version, res->ops->kind)) {
    /* kubectl's typed commands send protobuf: transcode, then go on
     * as for JSON.  Kinds with no protobuf schema answer 415 below. */
    if (kapi_protobuf_to_json(r->body, r->body_len, &obj, err,
                              sizeof err) < 0) {
      kapi_error_bad_request(e, "%s in version \"%s\" cannot be handled "
                                "as a %s: %s", res->ops->kind,
                             res->ops->version, res->ops->kind, err);
      return NULL;
    }
  } else if (!is_json_type(ct)) {
    unsupported_media_type(e, ct);
    return NULL;
  } else if (!r->body_len ||
      kj_parse_dups(r->body, r->body_len, &obj, &dups, &ndups, err,
                    sizeof err) < 0) {
    kapi_error_bad_request(e, "%s in version \"%s\" cannot be handled as a "
                              "%s: %s", res->ops->kind, res->ops->version,
                           res->ops->kind,
                           r->body_len ? err : "empty request body");
    return NULL;
  }
  if (obj->type != KJ_OBJECT) {
    kapi_error_bad_request(e, "%s in version \"%s\" cannot be handled as a "
                              "%s: the body is not a JSON object",
                           res->ops->kind, res->ops->version, res->ops->kind);
    goto fail;
  }
  kind = kj_get_str(obj, "kind");
  av = kj_get_str(obj, "apiVersion");
  if ((kind && strcmp(kind, res->ops->kind)) ||
      (av && strcmp(av, res->group_version))) {
    kapi_error_bad_request(e, "%s in version \"%s\" cannot be handled as a "
                              "%s: the object is %s %s, not %s %s",
                           res->ops->kind, res->ops->version, res->ops->kind,
                           av ? av : "", kind ? kind : "",
                           res->group_version, res->ops->kind);
    goto fail;
  }
  if (field_validation(r, res, obj, dups, ndups, resp, e) < 0)
    goto fail;
  /* Objects are stored with their kind and apiVersion. */
  if (kj_set_str(obj, "apiVersion", res->group_version) < 0 ||
      kj_set_str(obj, "kind", res->ops->kind) < 0 ||
      !kj_child_object(obj, "metadata"))
    goto fail;
  for (i = 0; i < ndups; i++)
    free(dups[i]);
  free(dups);
  return obj;
fail:
  for (i = 0; i < ndups; i++)
    free(dups[i]);
  free(dups);
  kj_free(obj);
  if (!kapi_error_isset(e))
    kapi_error_internal(e, "out of memory");
  return NULL;
}

/* ---- validation -------------------------------------------------------- */

/* path.IsValidPathSegmentName, the name rule of RBAC objects
 * ("system:node"): one FieldValueInvalid per message. */
static void validate_path_segment(kj *errs, const char *field,
                                  const char *name)
{
  static const char *const may_not_be[] = {".", ".."};
  static const char *const may_not_contain[] = {"/", "%"};
  kj *v = kj_string(name);
  char *bad = v ? kj_dump(v, NULL) : NULL, msg[32];
  size_t i;

  kj_free(v);
  for (i = 0; i < 2; i++)
    if (!strcmp(name, may_not_be[i])) {
      snprintf(msg, sizeof msg, "may not be '%s'", may_not_be[i]);
      kapi_field_error(errs, field, "FieldValueInvalid", bad, msg);
      free(bad);
      return;
    }
  for (i = 0; i < 2; i++)
    if (strstr(name, may_not_contain[i])) {
      snprintf(msg, sizeof msg, "may not contain '%s'", may_not_contain[i]);
      kapi_field_error(errs, field, "FieldValueInvalid", bad, msg);
    }
  free(bad);
}

/* Generic ObjectMeta checks, then the strategy's (the update
 * endpoint's `strategy` when `old` is set); 422 on errors. */
static int validate_object(kapi_resource *res, const kj *obj, const kj *old,
                           const rest_update_strategy *strategy,
                           kapi_error *e)
{
  const kapi_host_api *api = kapi_host_api_get();
  kj *errs = kj_array();
  const char *name = meta_str(obj, "name");
  const char *ns = meta_str(obj, "namespace");
  int rc = 0;

  if (!errs)
    return -ENOMEM;
  if (!name || !*name)
    kapi_field_error(errs, "metadata.name", "FieldValueRequired", NULL,
                     "name or generateName is required");
  else if (res->ops->name_rule == KAPI_NAME_DNS_LABEL)
    api->validate_dns_label((kapi_obj *)errs, "metadata.name", name);
  else if (res->ops->name_rule == KAPI_NAME_PATH_SEGMENT)
    validate_path_segment(errs, "metadata.name", name);
  else
    api->validate_dns_subdomain((kapi_obj *)errs, "metadata.name", name);
  if (res->ops->namespaced && (!ns || !*ns))
    kapi_field_error(errs, "metadata.namespace", "FieldValueRequired", NULL,
                     NULL);
  if (old) {
    static const char *const immutable[] = {"name", "namespace", "uid",
                                            "creationTimestamp", NULL};
    const char *const *f;
    for (f = immutable; *f; f++) {
      const kj *a = kj_get(kj_get(obj, "metadata"), *f);
      const kj *b = kj_get(kj_get(old, "metadata"), *f);
      if (!kj_equal(a, b)) {
        char field[64], *bad = a ? kj_dump(a, NULL) : NULL;
        snprintf(field, sizeof field, "metadata.%s", *f);
        kapi_field_error(errs, field, "FieldValueInvalid", bad,
                         "field is immutable");
        free(bad);
      }
    }
    strategy->validate(res, obj, old, errs);
  } else if (res->ops->validate) {
    res->ops->validate(res->st, (const kapi_obj *)obj, (kapi_obj *)errs);
  }
  if (kj_len(errs)) {
    kapi_error_invalid(e, res->group, res->ops->kind, name ? name : "", errs);
    rc = -EINVAL;
  }
  kj_free(errs);
  return rc;
}

/* ---- managedFields ---------------------------------------------------------- */

#define APPLY_PATCH 3 /* patch_type of application/apply-patch+yaml */

static int patch_type(const char *ct);

static int is_apply(kapi_req *r)
{
  return !strcmp(r->verb ? r->verb : "", "patch") &&
         patch_type(kapi_req_header(r, "Content-Type")) == APPLY_PATCH;
}

/* Upstream records every non-apply write as an Update of the request's
 * fieldManager, defaulting to the user agent's first token. */
static int record_managed(kapi_req *r, kapi_resource *res, kj *obj,
                          const kj *old)
{
  const char *fm = r->query ? r->query(r->conn, "fieldManager") : NULL;
  char ua[129];
  if (is_apply(r))
    return 0;
  if (!fm || !*fm) {
    kapi_default_manager(kapi_req_header(r, "User-Agent"), ua, sizeof ua);
    fm = ua;
  }
  return kapi_managed_record_update(obj, old, res->ops->kind, fm,
                                    res->group_version, r->now);
}

/* ---- create --------------------------------------------------------------- */

/* Namespace handling of rest/meta.go and the system fields a client may
 * not set on create. */
static int prepare_create_meta(kapi_req *r, kapi_resource *res, kj *obj,
                               kapi_error *e)
{
  kj *meta = kj_get(obj, "metadata");
  const char *ns = kj_get_str(meta, "namespace");
  static const char *const wiped[] = {"creationTimestamp", "uid",
                                      "deletionTimestamp",
                                      "deletionGracePeriodSeconds",
                                      "selfLink", NULL};
  const char *const *f;

  if (res->ops->namespaced) {
    if (ns && *ns && strcmp(ns, r->namespace_)) {
      kapi_error_bad_request(e, "the namespace of the provided object does "
                                "not match the namespace sent on the request");
      return -EINVAL;
    }
    if (kj_set_str(meta, "namespace", r->namespace_) < 0)
      return -ENOMEM;
  } else {
    kj_remove(meta, "namespace");
  }
  for (f = wiped; *f; f++)
    kj_remove(meta, *f);
  if (kj_get_str(meta, "resourceVersion") &&
      *kj_get_str(meta, "resourceVersion")) {
    kapi_error_setf(e, 500, "", "resourceVersion should not be set on "
                                "objects to be created");
    return -EINVAL;
  }
  kj_remove(meta, "resourceVersion");
  return 0;
}

static int set_system_fields(kj *obj, int64_t now)
{
  kj *meta = kj_get(obj, "metadata");
  char uid[40], ts[32];
  kapi_uuid4(uid);
  kapi_rfc3339(now, ts, sizeof ts);
  if (kj_set_str(meta, "uid", uid) < 0 ||
      kj_set_str(meta, "creationTimestamp", ts) < 0)
    return -ENOMEM;
  return 0;
}

struct create_ctx {
  kj *obj; /* handed to the store (and set to NULL) when it is written */
  int exists_deleting;
};

/* Hands the object itself to the store rather than a copy: this runs
 * under the store's write lock, where a clone of a whole Pod would be
 * paid by every writer in the queue. */
static int create_cb(const kj *cur, void *arg, kj **ret_new)
{
  struct create_ctx *c = arg;
  if (cur) {
    c->exists_deleting = kj_ptr(cur, "/metadata/deletionTimestamp") != NULL;
    return -EEXIST;
  }
  *ret_new = c->obj;
  c->obj = NULL;
  return KAPI_STORE_PUT;
}

/* Names the object from generateName when it has no name. */
static int assign_name(kj *obj, int *generated)
{
  kj *meta = kj_get(obj, "metadata");
  const char *name = kj_get_str(meta, "name");
  const char *gen = kj_get_str(meta, "generateName");
  char *n;
  *generated = 0;
  if ((name && *name) || !gen || !*gen)
    return 0;
  n = kapi_generate_name(gen);
  if (!n || kj_set_str(meta, "name", n) < 0) {
    free(n);
    return -ENOMEM;
  }
  free(n);
  *generated = 1;
  return 0;
}

/* *obj is taken by the store once the callback runs (then *obj is NULL,
 * whatever the outcome); on -EEXIST it stays the caller's. */
static int store_create(kapi_server *srv, kapi_resource *res, kj **obj,
                        store_obj **ret, int *exists_deleting)
{
  char *key = kapi_resource_key(res, meta_str(*obj, "namespace"),
                                meta_str(*obj, "name"));
  struct create_ctx c = {*obj, 0};
  int rc;
  if (!key)
    return -ENOMEM;
  rc = kapi_store_update(srv->store, key, create_cb, &c, ret);
  free(key);
  *obj = c.obj;
  *exists_deleting = c.exists_deleting;
  return rc;
}

static void already_exists(kapi_resource *res, const kj *obj, int generated,
                           int deleting, kapi_error *e)
{
  const char *name = meta_str(obj, "name");
  kapi_error_already_exists(e, res->group, res->ops->resource, name);
  if (generated) {
    char *q = kapi_resource_qualified(res);
    kapi_error_setf(e, 409, "AlreadyExists",
                    "%s \"%s\" already exists, the server was not able to "
                    "generate a unique name for the object", q, name);
    free(q);
  } else if (deleting) {
    char *m = e->message;
    e->message = NULL;
    kapi_error_setf(e, 409, "AlreadyExists", "object is being deleted: %s", m);
    free(m);
  }
}

static void answer_dry_run(kapi_response *resp, int code, const kj *obj)
{
  kapi_response_json(resp, code, obj);
}

/* A dry-run create stores nothing but still fails on an existing key, as
 * upstream's DryRunnableStorage does: -EEXIST, else 0. */
static int dry_run_create(kapi_server *srv, kapi_resource *res, const kj *obj,
                          int *exists_deleting)
{
  char *key = kapi_resource_key(res, meta_str(obj, "namespace"),
                                meta_str(obj, "name"));
  store_obj *o = NULL;
  kj *cur = NULL;
  char err[128];

  if (!key)
    return -ENOMEM;
  if (kapi_store_get(srv->store, key, &o) < 0) {
    free(key);
    return 0;
  }
  if (kj_parse(o->json, o->len, &cur, err, sizeof err) == 0)
    *exists_deleting = kj_ptr(cur, "/metadata/deletionTimestamp") != NULL;
  kj_free(cur);
  store_obj_unref(o);
  free(key);
  return -EEXIST;
}

/* The create pipeline after decoding; takes `obj`. */
static void create_object(kapi_server *srv, kapi_req *r, kapi_resource *res,
                          kj *obj, kapi_response *resp)
{
  kapi_error e;
  store_obj *o = NULL;
  int attempt, generated = 0, deleting = 0, rc = -EEXIST;

  kapi_error_init(&e);
  if (prepare_create_meta(r, res, obj, &e) < 0 ||
      kapi_admission_mutate(srv, r, obj, &e) < 0)
    goto fail;
  if (res->ops->prepare_for_create)
    res->ops->prepare_for_create(res->st, (kapi_obj *)obj);
  if (record_managed(r, res, obj, NULL) < 0)
    goto fail;
  /* Types that track generation start at 1 whatever the client sent. */
  if (REST_OPS_GET(res->ops, track_generation) &&
      kj_set_int(kj_get(obj, "metadata"), "generation", 1) < 0)
    goto fail;
  for (attempt = 0; attempt < GENERATE_NAME_ATTEMPTS; attempt++) {
    if (attempt)
      kj_remove(kj_get(obj, "metadata"), "name");
    if (assign_name(obj, &generated) < 0 ||
        set_system_fields(obj, r->now) < 0)
      goto fail;
    free(r->name);
    r->name = strdup(meta_str(obj, "name") ? meta_str(obj, "name") : "");
    if (validate_object(res, obj, NULL, NULL, &e) < 0 ||
        kapi_admission_validate(srv, r, obj, &e) < 0)
      goto fail;
    if (r->dry_run) {
      rc = dry_run_create(srv, res, obj, &deleting);
      if (rc == 0) {
        answer_dry_run(resp, 201, obj);
        kj_free(obj);
        return;
      }
    } else {
      rc = store_create(srv, res, &obj, &o, &deleting);
    }
    if (rc != -EEXIST || !generated)
      break;
  }
  if (rc == -EEXIST) {
    already_exists(res, obj, generated, deleting, &e);
    goto fail;
  }
  if (rc < 0) {
    kapi_error_internal(&e, "%s", strerror(-rc));
    goto fail;
  }
  rest_answer_object(srv, r, res, 201, o, resp);
  store_obj_unref(o);
  kj_free(obj);
  return;
fail:
  kj_free(obj);
  answer_error(resp, &e);
}

void rest_create(kapi_server *srv, kapi_req *r, kapi_resource *res,
                 kapi_response *resp)
{
  kapi_error e;
  kj *obj;

  kapi_error_init(&e);
  obj = decode_object(r, res, resp, &e);
  if (!obj) {
    answer_error(resp, &e);
    return;
  }
  create_object(srv, r, res, obj, resp);
}

/* ---- update and patch ------------------------------------------------------ */

struct cas_ctx {
  int64_t expect_rv; /* the version the new object was built from */
  kj *obj;
  int delete;        /* remove instead (finalizers all gone) */
};

static int cas_cb(const kj *cur, void *arg, kj **ret_new)
{
  struct cas_ctx *c = arg;
  if (!cur)
    return -ENOENT;
  if (kapi_object_rv(cur) != c->expect_rv)
    return -EAGAIN;
  if (c->delete)
    return KAPI_STORE_DELETE;
  *ret_new = kj_clone(c->obj);
  return *ret_new ? KAPI_STORE_PUT : -ENOMEM;
}

/* Upstream keeps these from the stored object whatever the client sent. */
static int keep_system_fields(kj *obj, const kj *old)
{
  static const char *const kept[] = {"creationTimestamp", "deletionTimestamp",
                                     "deletionGracePeriodSeconds",
                                     "generation", NULL};
  kj *meta = kj_get(obj, "metadata");
  const kj *old_meta = kj_get(old, "metadata");
  const char *const *f;
  for (f = kept; *f; f++) {
    const kj *v = kj_get(old_meta, *f);
    if (v) {
      if (kj_set(meta, *f, kj_clone(v)) < 0)
        return -ENOMEM;
    } else {
      kj_remove(meta, *f);
    }
  }
  if (!kj_get(meta, "uid") && kj_get(old_meta, "uid"))
    return kj_set(meta, "uid", kj_clone(kj_get(old_meta, "uid")));
  return 0;
}

uint32_t rest_subresources(const kapi_resource *res)
{
  return REST_OPS_GET(res->ops, subresources);
}

/* Types that track generation bump it when the spec changes
 * (PrepareForUpdate of the apps strategies); `obj` holds old's already. */
static int bump_generation(kapi_resource *res, kj *obj, const kj *old)
{
  int64_t gen = 0;
  if (!REST_OPS_GET(res->ops, track_generation) ||
      kj_equal(kj_get(obj, "spec"), kj_get(old, "spec")))
    return 0;
  kj_to_int(kj_ptr(old, "/metadata/generation"), &gen);
  return kj_set_int(kj_get(obj, "metadata"), "generation", gen + 1);
}

/* The main endpoint: status belongs to /status when the resource serves
 * it, then the resource's PrepareForUpdate. */
static int main_prepare(kapi_resource *res, kj **obj, const kj *old)
{
  if (rest_subresources(res) & KAPI_SUB_STATUS) {
    if (kj_get(old, "status")) {
      if (kj_set(*obj, "status", kj_clone(kj_get(old, "status"))) < 0)
        return -ENOMEM;
    } else {
      kj_remove(*obj, "status");
    }
  }
  if (res->ops->prepare_for_update)
    res->ops->prepare_for_update(res->st, (kapi_obj *)*obj,
                                 (const kapi_obj *)old);
  return bump_generation(res, *obj, old);
}

static void main_validate(kapi_resource *res, const kj *obj, const kj *old,
                          kj *errs)
{
  if (res->ops->validate_update)
    res->ops->validate_update(res->st, (const kapi_obj *)obj,
                              (const kapi_obj *)old, (kapi_obj *)errs);
}

static const rest_update_strategy main_strategy = {main_prepare,
                                                   main_validate};

/* Equal but for resourceVersion: such an update changes nothing. */
static int same_object(const kj *a, const kj *b)
{
  kj *x = kj_clone(a), *y = kj_clone(b);
  int eq;
  kj_remove(kj_get(x, "metadata"), "resourceVersion");
  kj_remove(kj_get(y, "metadata"), "resourceVersion");
  eq = kj_equal(x, y);
  kj_free(x);
  kj_free(y);
  return eq;
}

/* store.go ShouldDeleteDuringUpdate: terminating, no finalizers left.
 * spec.finalizers (only namespaces have them) hold the object too, as
 * the namespace storage's ShouldDeleteNamespaceDuringUpdate adds. */
static int should_delete(const kj *obj)
{
  const kj *meta = kj_get(obj, "metadata");
  int64_t grace = 0;
  if (!kj_get(meta, "deletionTimestamp"))
    return 0;
  if (kj_len(kj_get(meta, "finalizers")) ||
      kj_len(kj_ptr(obj, "/spec/finalizers")))
    return 0;
  kj_to_int(kj_get(meta, "deletionGracePeriodSeconds"), &grace);
  return grace == 0;
}

/* Reads the current object parsed, with its stored version. */
static int read_current(kapi_server *srv, const char *key, kj **ret,
                        int64_t *ret_rv)
{
  store_obj *o;
  char err[128];
  int rc = kapi_store_get(srv->store, key, &o);
  if (rc < 0)
    return rc;
  *ret_rv = o->rv;
  rc = kj_parse(o->json, o->len, ret, err, sizeof err);
  store_obj_unref(o);
  return rc;
}

static kj *build_from_body(kapi_req *r, kapi_resource *res, const kj *cur,
                           void *arg, kapi_response *resp, kapi_error *e);
static kj *apply_new_object(kapi_req *r, kapi_resource *res, void *arg,
                            kapi_error *e);

/*
 * One attempt of an update: build, admit, validate, compare-and-swap.
 * Returns 0 when answered, -EAGAIN to retry (the object moved on).
 */
static int update_once(kapi_server *srv, kapi_req *r, kapi_resource *res,
                       const char *key, rest_build_fn build, void *arg,
                       kapi_response *resp, kapi_error *e)
{
  const rest_update_strategy *strategy = rest_subresource_strategy(r);
  kj *cur = NULL, *obj = NULL;
  int64_t cur_rv;
  const char *body_rv;
  struct cas_ctx c = {0};
  store_obj *o = NULL;
  int rc;

  rc = read_current(srv, key, &cur, &cur_rv);
  if (rc == -ENOENT && build == build_from_body && !*r->subresource &&
      res->ops->allow_create_on_update) {
    /* Leases, events: a PUT of a missing object creates it (201). */
    obj = kj_clone(arg);
    if (!obj)
      goto fail;
    kj_remove(kj_get(obj, "metadata"), "resourceVersion");
    r->operation = "CREATE";
    create_object(srv, r, res, obj, resp);
    return 0;
  }
  if (rc == -ENOENT && is_apply(r) && !*r->subresource) {
    /* An apply patch creates what is missing (201). */
    obj = apply_new_object(r, res, arg, e);
    if (!obj)
      goto fail;
    r->operation = "CREATE";
    create_object(srv, r, res, obj, resp);
    return 0;
  }
  if (rc == -ENOENT) {
    kapi_error_not_found(e, res->group, res->ops->resource, r->name);
    answer_error(resp, e);
    return 0;
  }
  if (rc < 0) {
    kapi_error_internal(e, "%s", strerror(-rc));
    answer_error(resp, e);
    return 0;
  }
  r->old_object = cur;
  obj = build(r, res, cur, arg, resp, e);
  if (!obj)
    goto fail;
  body_rv = meta_str(obj, "resourceVersion");
  if (body_rv && *body_rv && strtoll(body_rv, NULL, 10) != cur_rv) {
    kapi_error_conflict(e, res->group, res->ops->resource, r->name,
                        "the object has been modified; please apply your "
                        "changes to the latest version and try again");
    goto fail;
  }
  if ((!body_rv || !*body_rv) && !res->ops->allow_unconditional_update) {
    kj *errs = kj_array();
    kapi_field_error(errs, "metadata.resourceVersion", "FieldValueInvalid",
                     "0", "must be specified for an update");
    kapi_error_invalid(e, res->group, res->ops->kind, r->name, errs);
    kj_free(errs);
    goto fail;
  }
  if (meta_str(obj, "uid") && meta_str(cur, "uid") &&
      strcmp(meta_str(obj, "uid"), meta_str(cur, "uid"))) {
    char cause[256];
    snprintf(cause, sizeof cause, "Precondition failed: UID in precondition: "
             "%s, UID in object meta: %s", meta_str(obj, "uid"),
             meta_str(cur, "uid"));
    kapi_error_conflict(e, res->group, res->ops->resource, r->name, cause);
    goto fail;
  }
  if (!strategy)
    strategy = &main_strategy;
  /* Mutating admission sees the object before the strategy, as upstream
   * runs it before BeforeUpdate. */
  if (keep_system_fields(obj, cur) < 0 ||
      kapi_admission_mutate(srv, r, obj, e) < 0 ||
      strategy->prepare(res, &obj, cur) < 0 ||
      record_managed(r, res, obj, cur) < 0)
    goto fail;
  if (validate_object(res, obj, cur, strategy, e) < 0 ||
      kapi_admission_validate(srv, r, obj, e) < 0)
    goto fail;
  if (same_object(obj, cur) && !should_delete(obj)) {
    store_obj *now = NULL;
    if (kapi_store_get(srv->store, key, &now) == 0) {
      rest_answer_object(srv, r, res, 200, now, resp);
      store_obj_unref(now);
    }
    goto done;
  }
  if (r->dry_run) {
    rest_answer_built(r, res, 200, obj, resp);
    goto done;
  }
  c.expect_rv = cur_rv;
  c.obj = obj;
  c.delete = should_delete(obj);
  rc = kapi_store_update(srv->store, key, cas_cb, &c, &o);
  if (rc == -EAGAIN) {
    kj_free(obj);
    kj_free(cur);
    r->old_object = NULL;
    return -EAGAIN;
  }
  if (rc == -ENOENT) {
    kapi_error_not_found(e, res->group, res->ops->resource, r->name);
    goto fail;
  }
  if (rc < 0) {
    kapi_error_internal(e, "%s", strerror(-rc));
    goto fail;
  }
  rest_answer_object(srv, r, res, 200, o, resp);
  store_obj_unref(o);
done:
  kj_free(obj);
  kj_free(cur);
  r->old_object = NULL;
  return 0;
fail:
  if (!kapi_error_isset(e))
    kapi_error_internal(e, "out of memory");
  answer_error(resp, e);
  kj_free(obj);
  kj_free(cur);
  r->old_object = NULL;
  return 0;
}

void rest_update_loop(kapi_server *srv, kapi_req *r, kapi_resource *res,
                      rest_build_fn build, void *arg, kapi_response *resp)
{
  char *key = kapi_resource_key(res, r->namespace_, r->name);
  kapi_error e;
  int i;

  kapi_error_init(&e);
  for (i = 0; key && i < UPDATE_RETRIES; i++)
    if (update_once(srv, r, res, key, build, arg, resp, &e) != -EAGAIN)
      break;
  if (!key || i == UPDATE_RETRIES) {
    kapi_error_conflict(&e, res->group, res->ops->resource, r->name,
                        "the object has been modified; please apply your "
                        "changes to the latest version and try again");
    answer_error(resp, &e);
  }
  kapi_error_clear(&e);
  free(key);
}

static kj *build_from_body(kapi_req *r, kapi_resource *res, const kj *cur,
                           void *arg, kapi_response *resp, kapi_error *e)
{
  const kj *body = arg;
  kj *obj = kj_clone(body);
  (void)r;
  (void)res;
  (void)cur;
  (void)resp;
  (void)e;
  return obj;
}

void rest_update(kapi_server *srv, kapi_req *r, kapi_resource *res,
                 kapi_response *resp)
{
  kapi_error e;
  kj *obj;
  const char *name, *ns;

  kapi_error_init(&e);
  obj = decode_object(r, res, resp, &e);
  if (!obj) {
    answer_error(resp, &e);
    return;
  }
  name = meta_str(obj, "name");
  ns = meta_str(obj, "namespace");
  if (name && strcmp(name, r->name)) {
    kapi_error_bad_request(&e, "the name of the object (%s) does not match "
                               "the name on the URL (%s)", name, r->name);
  } else if (res->ops->namespaced && ns && *ns && strcmp(ns, r->namespace_)) {
    kapi_error_bad_request(&e, "the namespace of the object (%s) does not "
                               "match the namespace on the request (%s)",
                           ns, r->namespace_);
  }
  if (kapi_error_isset(&e)) {
    kj_free(obj);
    answer_error(resp, &e);
    return;
  }
  kj *meta = kj_get(obj, "metadata");
  kj_set_str(meta, "name", r->name);
  if (res->ops->namespaced)
    kj_set_str(meta, "namespace", r->namespace_);
  rest_update_loop(srv, r, res, build_from_body, obj, resp);
  kj_free(obj);
}

/* The parsed patch and how to apply it. */
struct patch_ctx {
  int json_patch; /* 1 RFC 6902, 2 strategic, 3 apply, else merge patch */
  kj *patch;
  const char *manager; /* apply: fieldManager (borrowed) */
  int force;           /* apply: force=true */
};

/* Server-side apply onto *obj (a copy of the live object, or empty). */
static int apply_config(kapi_req *r, kapi_resource *res, struct patch_ctx *p,
                        kj **obj, kapi_error *e)
{
  int rc = kapi_managed_apply(obj, p->patch, res->ops->kind, p->manager,
                              res->group_version, p->force, r->now, e);
  if (rc == -ENOMEM)
    kapi_error_internal(e, "out of memory");
  return rc;
}

static kj *apply_new_object(kapi_req *r, kapi_resource *res, void *arg,
                            kapi_error *e)
{
  kj *obj = kj_object(), *meta;
  if (!obj || apply_config(r, res, arg, &obj, e) < 0) {
    kj_free(obj);
    return NULL;
  }
  meta = kj_child_object(obj, "metadata");
  if (!meta || kj_set_str(obj, "apiVersion", res->group_version) < 0 ||
      kj_set_str(obj, "kind", res->ops->kind) < 0 ||
      kj_set_str(meta, "name", r->name) < 0 ||
      (res->ops->namespaced &&
       kj_set_str(meta, "namespace", r->namespace_) < 0)) {
    kj_free(obj);
    return NULL;
  }
  kj_remove(meta, "resourceVersion");
  return obj;
}

/* Upstream interpretStrategicMergePatchError: the sentinel format errors
 * are 400s, lists of lists and retainKeys mismatches 422s; the rest come
 * back unwrapped, i.e. as a 500 carrying the library's text. */
static void smp_error(kapi_error *e, int rc, const char *err)
{
  if (rc == -EINVAL)
    kapi_error_bad_request(e, "%s", err);
  else if (rc == -EDOM)
    kapi_error_setf(e, 422, "Invalid", "the server rejected our request "
                    "due to an error in our request");
  else
    kapi_error_setf(e, 500, "", "%s", err);
}

/* A patched object that upstream could not decode into its type: 422
 * with the whole patched object as the bad value of field "patch", as
 * upstream's patcher answers (NewInvalid with an empty kind and name). */
static int patched_type_error(kapi_resource *res, const kj *obj,
                              kapi_error *e)
{
  char msg[700], **unknown = NULL, *text, *bad;
  size_t n = 0;
  kj *errs, *str;
  int found = kapi_schema_check(res->schema, obj, res->ops->kind, &unknown,
                                &n, msg, sizeof msg) == 1;

  kapi_schema_paths_free(unknown, n);
  if (!found)
    return 0;
  text = kj_dump(obj, NULL);
  str = text ? kj_string(text) : NULL;
  bad = str ? kj_dump(str, NULL) : NULL;
  errs = kj_array();
  if (errs && bad &&
      kapi_field_error(errs, "patch", "FieldValueInvalid", bad, msg) == 0)
    kapi_error_invalid(e, "", "", "", errs);
  else
    kapi_error_internal(e, "out of memory");
  kj_free(errs);
  free(bad);
  kj_free(str);
  free(text);
  return -EINVAL;
}

static kj *build_from_patch(kapi_req *r, kapi_resource *res, const kj *cur,
                            void *arg, kapi_response *resp, kapi_error *e)
{
  struct patch_ctx *p = arg;
  kj *obj = kj_clone(cur);
  char err[512];
  int rc;
  (void)r;
  (void)resp;

  if (!obj)
    return NULL;
  if (p->json_patch == 1) {
    rc = kapi_json_patch(obj, p->patch, err, sizeof err);
    if (rc == -E2BIG) {
      kapi_error_setf(e, 413, "RequestEntityTooLarge", "%s", err);
    } else if (rc < 0) {
      /* Upstream wraps every apply failure (a failed "test" included) in
       * NewGenericServerResponse(422), which drops the library's text. */
      LOG_V(4, "json patch: %s", err);
      kapi_error_setf(e, 422, "Invalid", "the server rejected our request "
                      "due to an error in our request");
    }
  } else if (p->json_patch == APPLY_PATCH) {
    rc = apply_config(r, res, p, &obj, e);
  } else if (p->json_patch == 2) {
    rc = kapi_strategic_merge_patch_schema(&obj, p->patch, res->ops->kind,
                                           res->schema, err, sizeof err);
    if (rc < 0)
      smp_error(e, rc, err);
  } else {
    rc = kapi_merge_patch(&obj, p->patch);
  }
  if (rc < 0) {
    kj_free(obj);
    return NULL;
  }
  if (obj->type != KJ_OBJECT || !kj_get(obj, "metadata")) {
    kapi_error_bad_request(e, "the patch made the %s not an object",
                           res->ops->kind);
    kj_free(obj);
    return NULL;
  }
  kj_set_str(obj, "apiVersion", res->group_version);
  kj_set_str(obj, "kind", res->ops->kind);
  if (res->schema && p->json_patch != APPLY_PATCH &&
      patched_type_error(res, obj, e) < 0) {
    kj_free(obj);
    return NULL;
  }
  return obj;
}

static int patch_type(const char *ct)
{
  size_t n = ct ? strcspn(ct, ";") : 0;
  if (!ct)
    return -1;
  if (n == 27 && !strncmp(ct, "application/json-patch+json", n))
    return 1;
  if (n == 28 && !strncmp(ct, "application/merge-patch+json", n))
    return 0;
  if (n == 38 && !strncmp(ct, "application/strategic-merge-patch+json", n))
    return 2;
  if (n == 28 && !strncmp(ct, "application/apply-patch+yaml", n))
    return APPLY_PATCH;
  return -1;
}

/* upstream ValidatePatchOptions for apply: fieldManager is required. */
static int apply_options(kapi_req *r, struct patch_ctx *p, kapi_error *e)
{
  const char *force = r->query ? r->query(r->conn, "force") : NULL;
  p->manager = r->query ? r->query(r->conn, "fieldManager") : NULL;
  p->force = kapi_query_bool(force);
  if (!p->manager || !*p->manager) {
    kj *errs = kj_array();
    kapi_field_error(errs, "fieldManager", "FieldValueRequired", NULL,
                     "is required for apply patch");
    kapi_error_invalid(e, "meta.k8s.io", "PatchOptions", "", errs);
    kj_free(errs);
    return -EINVAL;
  }
  return 0;
}

void rest_patch(kapi_server *srv, kapi_req *r, kapi_resource *res,
                kapi_response *resp)
{
  const char *ct = kapi_req_header(r, "Content-Type");
  struct patch_ctx p = {0};
  kapi_error e;
  char err[512];
  int type = patch_type(ct);

  kapi_error_init(&e);
  if (type < 0) {
    kapi_error_setf(&e, 415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - "
                    "accepted media types include: "
                    "application/json-patch+json, "
                    "application/merge-patch+json, "
                    "application/apply-patch+yaml, "
                    "application/strategic-merge-patch+json");
    answer_error(resp, &e);
    return;
  }
  p.json_patch = type;
  if (type == APPLY_PATCH && apply_options(r, &p, &e) < 0) {
    answer_error(resp, &e);
    return;
  }
  if (type == APPLY_PATCH) {
    if (kapi_yaml_parse_one(r->body ? r->body : "", r->body_len, &p.patch,
                            err, sizeof err) < 0 ||
        p.patch->type != KJ_OBJECT) {
      kj_free(p.patch);
      kapi_error_bad_request(&e, "error decoding YAML: %s",
                             p.patch ? "not an object" : err);
      answer_error(resp, &e);
      return;
    }
  } else if (kj_parse(r->body ? r->body : "", r->body_len, &p.patch, err,
               sizeof err) < 0) {
    kapi_error_bad_request(&e, "error decoding patch: %s", err);
    answer_error(resp, &e);
    return;
  }
  rest_update_loop(srv, r, res, build_from_patch, &p, resp);
  kj_free(p.patch);
}

/* ---- delete ------------------------------------------------------------------ */

struct delete_opts {
  int64_t grace; /* -1 = not given */
  const char *uid, *rv; /* preconditions, borrowed from `body` */
  const char *policy;   /* propagationPolicy, or NULL */
  int orphan;           /* orphanDependents: -1 not given, 0, 1 */
  kj *body;
};

/* ValidateDeleteOptions, for the propagation fields: 422 on the
 * DeleteOptions kind. */
static int check_propagation(const struct delete_opts *o, kapi_error *e)
{
  kj *errs;
  if (!o->policy || (o->orphan < 0 && (!strcmp(o->policy, "Foreground") ||
                                       !strcmp(o->policy, "Background") ||
                                       !strcmp(o->policy, "Orphan"))))
    return 0;
  errs = kj_array();
  if (o->orphan >= 0)
    kapi_field_error(errs, "propagationPolicy", "FieldValueInvalid",
                     o->orphan ? "true" : "false",
                     "orphanDependents and deletionPropagation cannot be "
                     "both set");
  else {
    char *bad = NULL;
    kj *v = kj_string(o->policy);
    bad = v ? kj_dump(v, NULL) : NULL;
    kapi_field_error(errs, "propagationPolicy", "FieldValueNotSupported",
                     bad, "supported values: \"Foreground\", "
                          "\"Background\", \"Orphan\"");
    free(bad);
    kj_free(v);
  }
  kapi_error_invalid(e, "meta.k8s.io", "DeleteOptions", "", errs);
  kj_free(errs);
  return -EINVAL;
}

static int parse_delete_opts(kapi_req *r, struct delete_opts *o,
                             kapi_error *e)
{
  const char *q = kapi_req_query(r, "gracePeriodSeconds");
  const char *orphan = kapi_req_query(r, "orphanDependents");
  const kj *v;
  char err[256];
  memset(o, 0, sizeof *o);
  o->grace = -1;
  o->orphan = -1;
  if (q && *q)
    o->grace = strtoll(q, NULL, 10);
  o->policy = kapi_req_query(r, "propagationPolicy");
  if (o->policy && !*o->policy)
    o->policy = NULL;
  if (orphan && *orphan)
    o->orphan = kapi_query_bool(orphan);
  if (!r->body_len)
    return check_propagation(o, e);
  if (kj_parse(r->body, r->body_len, &o->body, err, sizeof err) < 0) {
    kapi_error_bad_request(e, "DeleteOptions in version \"v1\" cannot be "
                              "handled as a DeleteOptions: %s", err);
    return -EINVAL;
  }
  kj_to_int(kj_get(o->body, "gracePeriodSeconds"), &o->grace);
  if (kj_get_str(o->body, "propagationPolicy"))
    o->policy = kj_get_str(o->body, "propagationPolicy");
  v = kj_get(o->body, "orphanDependents");
  if (v && v->type == KJ_BOOL)
    o->orphan = v->u.boolean;
  o->uid = kj_str(kj_ptr(o->body, "/preconditions/uid"));
  o->rv = kj_str(kj_ptr(o->body, "/preconditions/resourceVersion"));
  {
    const kj *dry = kj_get(o->body, "dryRun");
    if (kj_len(dry) && kj_str(kj_at(dry, 0)) &&
        !strcmp(kj_str(kj_at(dry, 0)), "All"))
      r->dry_run = 1;
  }
  return check_propagation(o, e);
}

static int check_preconditions(kapi_resource *res, const kj *cur,
                               const struct delete_opts *o, kapi_error *e)
{
  const char *name = meta_str(cur, "name");
  char cause[512];
  char kind[128];
  snprintf(kind, sizeof kind, "%s%s%s", res->ops->kind,
           *res->group ? "." : "", res->group);
  if (o->uid && strcmp(o->uid, meta_str(cur, "uid") ? meta_str(cur, "uid")
                                                    : "")) {
    snprintf(cause, sizeof cause, "the UID in the precondition (%s) does not "
             "match the UID in record (%s). The object might have been "
             "deleted and then recreated", o->uid, meta_str(cur, "uid"));
  } else if (o->rv && strcmp(o->rv, meta_str(cur, "resourceVersion"))) {
    snprintf(cause, sizeof cause, "the ResourceVersion in the precondition "
             "(%s) does not match the ResourceVersion in record (%s). The "
             "object might have been modified", o->rv,
             meta_str(cur, "resourceVersion"));
  } else {
    return 0;
  }
  kapi_error_setf(e, 409, "Conflict", "Operation cannot be fulfilled on %s "
                  "\"%s\": %s", kind, name, cause);
  kapi_error_details(e, name, *res->group ? res->group : NULL, res->ops->kind);
  return -EBUSY;
}

/*
 * Marks the object as terminating.  Graceful deletion (grace > 0) sets
 * deletionTimestamp = now + grace once (rest.BeforeDelete); finalizers
 * with no grace (store.go markAsDeleting) move it to now if it is unset
 * or later, with grace 0.  Generation, when tracked, counts the first.
 */
static int mark_deleting(kj *obj, int64_t now, int64_t grace)
{
  kj *meta = kj_get(obj, "metadata");
  const char *old = kj_get_str(meta, "deletionTimestamp");
  int64_t gen, old_ts = 0;
  char ts[32];
  if (old && grace > 0)
    return 0;
  if (old && kapi_parse_rfc3339(old, &old_ts) == 0 && old_ts <= now) {
    return kj_set_int(meta, "deletionGracePeriodSeconds", 0);
  }
  kapi_rfc3339(now + grace, ts, sizeof ts);
  if (kj_set_str(meta, "deletionTimestamp", ts) < 0 ||
      kj_set_int(meta, "deletionGracePeriodSeconds", grace) < 0)
    return -ENOMEM;
  if (!old && kj_to_int(kj_get(meta, "generation"), &gen) == 0 && gen > 0)
    return kj_set_int(meta, "generation", gen + 1);
  return 0;
}

static int has_string(const kj *arr, const char *s)
{
  size_t i;
  for (i = 0; i < kj_len(arr); i++)
    if (kj_str(kj_at(arr, i)) && !strcmp(kj_str(kj_at(arr, i)), s))
      return 1;
  return 0;
}

/*
 * The garbage collector's finalizers (store.go
 * deletionFinalizersForGarbageCollection): "orphan" and
 * "foregroundDeletion" as orphanDependents, else propagationPolicy, else
 * the object's own finalizers ask; every served type defaults to
 * background (neither).  Other finalizers keep their place.
 */
static int gc_finalizers(kj *obj, const struct delete_opts *o)
{
  kj *meta = kj_get(obj, "metadata"), *old = kj_get(meta, "finalizers");
  kj *list;
  int orphan = 0, foreground = 0;
  size_t i;

  if (o->orphan >= 0) {
    orphan = o->orphan;
  } else if (o->policy) {
    orphan = !strcmp(o->policy, "Orphan");
    foreground = !strcmp(o->policy, "Foreground");
  } else {
    for (i = 0; i < kj_len(old); i++) {
      const char *f = kj_str(kj_at(old, i));
      if (f && (!strcmp(f, "orphan") || !strcmp(f, "foregroundDeletion"))) {
        orphan = !strcmp(f, "orphan");
        foreground = !orphan;
        break;
      }
    }
  }
  if (orphan == has_string(old, "orphan") &&
      foreground == has_string(old, "foregroundDeletion"))
    return 0; /* the same set: no change */
  if (!(list = kj_array()))
    return -ENOMEM;
  for (i = 0; i < kj_len(old); i++) {
    const char *f = kj_str(kj_at(old, i));
    if (f && (!strcmp(f, "orphan") || !strcmp(f, "foregroundDeletion")))
      continue;
    if (kj_append(list, kj_clone(kj_at(old, i))) < 0)
      goto fail;
  }
  if ((orphan && kj_append(list, kj_string("orphan")) < 0) ||
      (foreground && kj_append(list, kj_string("foregroundDeletion")) < 0))
    goto fail;
  if (!kj_len(list)) {
    kj_free(list);
    kj_remove(meta, "finalizers");
    return 0;
  }
  return kj_set(meta, "finalizers", list);
fail:
  kj_free(list);
  return -ENOMEM;
}

/* store.go finalizeDelete: the object itself for types that return it,
 * else a Status naming what went (details.kind is the resource). */
static void answer_deleted(kapi_server *srv, kapi_req *r, kapi_resource *res,
                           const store_obj *o, const kj *obj,
                           kapi_response *resp)
{
  const kj *meta = kj_get(obj, "metadata");
  kj *st, *details;

  if (REST_OPS_GET(res->ops, return_deleted_object)) {
    if (o)
      rest_answer_object(srv, r, res, 200, o, resp);
    else
      rest_answer_built(r, res, 200, obj, resp);
    return;
  }
  st = kj_object();
  details = kj_object();
  if (!st || !details || kj_set_str(st, "kind", "Status") < 0 ||
      kj_set_str(st, "apiVersion", "v1") < 0 ||
      kj_set(st, "metadata", kj_object()) < 0 ||
      kj_set_str(st, "status", "Success") < 0 ||
      kj_set(st, "details", details) < 0) {
    if (!kj_get(st, "details"))
      kj_free(details);
    kj_free(st);
    return;
  }
  kj_set_str(details, "name", kj_get_str(meta, "name"));
  if (*res->group)
    kj_set_str(details, "group", res->group);
  kj_set_str(details, "kind", res->ops->resource);
  if (kj_get_str(meta, "uid"))
    kj_set_str(details, "uid", kj_get_str(meta, "uid"));
  kapi_response_json(resp, 200, st);
  kj_free(st);
}

static int delete_once(kapi_server *srv, kapi_req *r, kapi_resource *res,
                       const char *key, struct delete_opts *o,
                       kapi_response *resp, kapi_error *e)
{
  kj *cur = NULL, *obj = NULL;
  int64_t cur_rv, grace = o->grace;
  struct cas_ctx c = {0};
  store_obj *out = NULL;
  int keep, rc;

  rc = read_current(srv, key, &cur, &cur_rv);
  if (rc < 0) {
    kapi_error_not_found(e, res->group, res->ops->resource, r->name);
    answer_error(resp, e);
    return 0;
  }
  r->old_object = cur;
  if (check_preconditions(res, cur, o, e) < 0)
    goto fail;
  obj = kj_clone(cur);
  if (!obj)
    goto fail;
  if (grace < -1)
    grace = 1; /* negative grace periods count as 1, as upstream */
  keep = res->ops->before_delete
             ? res->ops->before_delete(res->st, (kapi_obj *)obj, &grace,
                                       (kapi_error *)e)
             : 0;
  if (keep < 0) {
    if (!kapi_error_isset(e))
      kapi_error_internal(e, "delete refused");
    else if (!e->details || !kj_get(e->details, "kind"))
      kapi_error_details(e, r->name, *res->group ? res->group : NULL,
                         res->ops->resource);
    goto fail;
  }
  if (kapi_admission_validate(srv, r, cur, e) < 0)
    goto fail;
  if (grace < 0)
    grace = 0;
  if (grace > 0 && kj_ptr(cur, "/metadata/deletionTimestamp")) {
    /* Already terminating gracefully: nothing shorter asked, nothing to
     * do, and finalizers can no longer change (errAlreadyDeleting). */
    store_obj *now = NULL;
    if (kapi_store_get(srv->store, key, &now) == 0)
      answer_deleted(srv, r, res, now, cur, resp);
    store_obj_unref(now);
    goto done;
  }
  if (gc_finalizers(obj, o) < 0)
    goto fail;
  /* Finalizers keep the object; so does a grace period, which they do
   * not shorten. */
  if (!keep && (grace > 0 || kj_len(kj_ptr(obj, "/metadata/finalizers"))))
    keep = 1;
  if (keep && mark_deleting(obj, r->now, grace) < 0)
    goto fail;
  if (r->dry_run) {
    if (keep)
      rest_answer_built(r, res, 200, obj, resp);
    else
      answer_deleted(srv, r, res, NULL, obj, resp);
    goto done;
  }
  c.expect_rv = cur_rv;
  c.obj = obj;
  c.delete = !keep;
  rc = kapi_store_update(srv->store, key, cas_cb, &c, &out);
  if (rc == -EAGAIN) {
    kj_free(obj);
    kj_free(cur);
    r->old_object = NULL;
    return -EAGAIN;
  }
  if (rc < 0) {
    kapi_error_not_found(e, res->group, res->ops->resource, r->name);
    goto fail;
  }
  if (!keep)
    answer_deleted(srv, r, res, out, cur, resp);
  else
    rest_answer_object(srv, r, res, o->orphan == 0 ? 202 : 200, out, resp);
  store_obj_unref(out);
done:
  kj_free(obj);
  kj_free(cur);
  r->old_object = NULL;
  return 0;
fail:
  if (!kapi_error_isset(e))
    kapi_error_internal(e, "out of memory");
  answer_error(resp, e);
  kj_free(obj);
  kj_free(cur);
  r->old_object = NULL;
  return 0;
}

void rest_delete(kapi_server *srv, kapi_req *r, kapi_resource *res,
                 kapi_response *resp)
{
  char *key = kapi_resource_key(res, r->namespace_, r->name);
  struct delete_opts o;
  kapi_error e;
  int i;

  kapi_error_init(&e);
  if (parse_delete_opts(r, &o, &e) < 0 || !key) {
    if (!kapi_error_isset(&e))
      kapi_error_internal(&e, "out of memory");
    answer_error(resp, &e);
  } else {
    for (i = 0; i < UPDATE_RETRIES; i++)
      if (delete_once(srv, r, res, key, &o, resp, &e) != -EAGAIN)
        break;
  }
  kj_free(o.body);
  kapi_error_clear(&e);
  free(key);
}
