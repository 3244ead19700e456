/*
 * rest.h - the registry handlers (get, list, watch, create, update,
 * patch, delete) shared internals.
 */
#ifndef KAPI_REST_H
#define KAPI_REST_H

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

/* Answers a stored object, as JSON or as a one-row Table. */
void rest_answer_object(kapi_server *srv, kapi_req *r, kapi_resource *res,
                        int code, const store_obj *o, kapi_response *resp);

#endif
