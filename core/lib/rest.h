/*
 * rest.h - the registry handlers (get, list, watch, create, update,
 * patch, delete) shared internals.
 */
#ifndef KAPI_REST_H
#define KAPI_REST_H

#include <stddef.h>
#include <stdint.h>

#include "selector.h"
#include "server.h"

/* A request's selectors (labelSelector, fieldSelector), parsed and
 * checked against the resource's field labels. */
typedef struct rest_selectors {
  kapi_label_selector *labels;
  kapi_field_selector *fields;
} rest_selectors;

int rest_selectors_parse(const kapi_req *r, const kapi_resource *res,
                         rest_selectors *sel, kapi_error *e);
int rest_selectors_match(const rest_selectors *sel, const kapi_resource *res,
                         const kj *obj);
int rest_selectors_empty(const rest_selectors *sel);
void rest_selectors_free(rest_selectors *sel);

/* The `resourceVersion` query parameter: 0 when unset, -1 on error (e set). */
int64_t rest_query_rv(const kapi_req *r, const char *param, kapi_error *e);

void rest_get(kapi_server *srv, kapi_req *r, kapi_resource *res,
              kapi_response *resp);
void rest_list(kapi_server *srv, kapi_req *r, kapi_resource *res,
               kapi_response *resp);
void rest_create(kapi_server *srv, kapi_req *r, kapi_resource *res,
                 kapi_response *resp);
void rest_update(kapi_server *srv, kapi_req *r, kapi_resource *res,
                 kapi_response *resp);
void rest_patch(kapi_server *srv, kapi_req *r, kapi_resource *res,
                kapi_response *resp);
void rest_delete(kapi_server *srv, kapi_req *r, kapi_resource *res,
                 kapi_response *resp);

/* Answers a stored object, as JSON or as a one-row Table (as a Scale on
 * the /scale subresource). */
void rest_answer_object(kapi_server *srv, kapi_req *r, kapi_resource *res,
                        int code, const store_obj *o, kapi_response *resp);

/* ---- members of kapi_resource_ops newer than 1.0 ------------------------ */

/* A plugin built against an older header has a shorter ops table: read a
 * member only if its `size` covers it (0/NULL otherwise). */
#define REST_OPS_HAS(ops, m)                                            \
  ((ops)->size >= offsetof(kapi_resource_ops, m) + sizeof((ops)->m))
#define REST_OPS_GET(ops, m) (REST_OPS_HAS(ops, m) ? (ops)->m : 0)

/* KAPI_SUB_* bits the resource declares. */
uint32_t rest_subresources(const kapi_resource *res);

/* ---- updates (rest_write.c) --------------------------------------------- */

/* Builds the new object from the current one (borrowed); NULL with e set
 * to refuse.  The result is owned by the caller. */
typedef kj *(*rest_build_fn)(kapi_req *r, kapi_resource *res, const kj *cur,
                             void *arg, kapi_response *resp, kapi_error *e);

/*
 * How one update endpoint (the main one, /status, /finalize) turns the
 * object a client sent into the one stored: upstream's update strategies.
 * `prepare` keeps from `old` what the endpoint may not change (it may
 * replace *obj); `validate` appends the resource's field errors.
 */
typedef struct rest_update_strategy {
  int (*prepare)(kapi_resource *res, kj **obj, const kj *old);
  void (*validate)(kapi_resource *res, const kj *obj, const kj *old,
                   kj *errs);
} rest_update_strategy;

/* Read, build, admit, validate, compare-and-swap, retried while the
 * object moves on (GuaranteedUpdate), then answers. */
void rest_update_loop(kapi_server *srv, kapi_req *r, kapi_resource *res,
                      rest_build_fn build, void *arg, kapi_response *resp);

/* ---- subresources (rest_subresource.c) ---------------------------------- */

/* Serves .../<name>/<subresource> (status, scale, binding, finalize):
 * 404 for one the resource does not declare, 405 for a verb it lacks. */
void rest_subresource(kapi_server *srv, kapi_req *r, kapi_resource *res,
                      kapi_response *resp);
/* POST /api/v1/namespaces/<ns>/bindings: the legacy form of pods/binding.
 * Returns 0 if it answered, -ENOENT when pods declare no binding. */
int rest_legacy_binding(kapi_server *srv, kapi_req *r, kapi_response *resp);
/* The update strategy of r's subresource, or NULL for the main one. */
const rest_update_strategy *rest_subresource_strategy(const kapi_req *r);
/* Answers a built (not stored) object, converted for the subresource. */
void rest_answer_built(kapi_req *r, kapi_resource *res, int code,
                       const kj *obj, kapi_response *resp);
/* The autoscaling/v1 Scale of an object; newly allocated, NULL if out of
 * memory. */
kj *rest_scale_of(const kapi_resource *res, const kj *obj);

/* ---- collections (rest_collection.c) ------------------------------------ */

/* DELETE on a collection: every object the selectors match goes through
 * the single-object delete (admission included); answers the list of the
 * objects as they were found. */
void rest_delete_collection(kapi_server *srv, kapi_req *r, kapi_resource *res,
                            kapi_response *resp);

#endif
