/*
 * rest_collection.c - DELETE on a collection (store.go DeleteCollection).
 *
 * Lists what the selectors match, then deletes each object through the
 * very handler a single DELETE uses, so delete options, preconditions,
 * graceful deletion, finalizers and admission apply to every item.  Like
 * upstream it is not atomic: objects already gone are skipped, and the
 * first other failure ends the request with that failure.  The answer is
 * the list of the matched objects as they were found.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "rest.h"

/* The matching objects under the request's namespace, in key order.
 * *ret holds new references (and *ret_parsed their parsed form). */
static int collect(kapi_server *srv, kapi_req *r, kapi_resource *res,
                   const rest_selectors *sel, store_obj ***ret, kj ***parsed,
                   size_t *ret_n, int64_t *rv)
{
  char *prefix = kapi_resource_list_prefix(res, r->namespace_);
  store_obj **all = NULL;
  size_t n = 0, i, m = 0;
  int rc = -ENOMEM;

  *ret = NULL;
  *parsed = NULL;
  if (!prefix || kapi_store_list(srv->store, prefix, NULL, &all, &n, rv) < 0)
    goto out;
  *ret = calloc(n ? n : 1, sizeof **ret);
  *parsed = calloc(n ? n : 1, sizeof **parsed);
  if (!*ret || !*parsed)
    goto out;
  for (i = 0; i < n; i++) {
    kj *obj = NULL;
    char err[128];
    if (kj_parse(all[i]->json, all[i]->len, &obj, err, sizeof err) < 0 ||
        !rest_selectors_match(sel, res, obj)) {
      kj_free(obj);
      continue;
    }
    (*ret)[m] = store_obj_ref(all[i]);
    (*parsed)[m++] = obj;
  }
  rc = 0;
out:
  for (i = 0; i < n; i++)
    store_obj_unref(all[i]);
  free(all);
  free(prefix);
  *ret_n = m;
  return rc;
}

/* Deletes one object as DELETE .../<name> would.  Returns 1 when it was
 * deleted (or marked), 0 when it was gone already, -1 when the request
 * must end with `item`'s answer (moved into resp). */
static int delete_one(kapi_server *srv, kapi_req *r, kapi_resource *res,
                      const char *name, kapi_response *resp)
{
  kapi_response item;
  char *saved = r->name;
  int rc;

  memset(&item, 0, sizeof item);
  r->name = (char *)name;
  rest_delete(srv, r, res, &item);
  r->name = saved;
  if (item.code == 404)
    rc = 0;
  else if (item.code >= 200 && item.code < 300)
    rc = 1;
  else
    rc = -1;
  if (rc < 0) {
    kapi_response_take(resp, item.code ? item.code : 500, item.body,
                       item.len);
    item.body = NULL;
  }
  kapi_response_reset(&item);
  return rc;
}

/* The objects whose delete went through (deleted[i]), as listed. */
static int answer_list(kapi_resource *res, store_obj **items,
                       const char *deleted, size_t n, int64_t rv,
                       kapi_response *resp)
{
  char *kind = NULL, num[32];
  kj *list = kj_object(), *arr;
  size_t i;
  int rc = -ENOMEM;

  snprintf(num, sizeof num, "%" PRId64, rv);
  if (asprintf(&kind, "%sList", res->ops->kind) < 0)
    kind = NULL;
  if (!kind || !list || kj_set_str(list, "kind", kind) < 0 ||
      kj_set_str(list, "apiVersion", res->group_version) < 0 ||
      kj_set_str(kj_child_object(list, "metadata"), "resourceVersion",
                 num) < 0 ||
      kj_set(list, "items", kj_array()) < 0)
    goto out;
  arr = kj_get(list, "items");
  for (i = 0; i < n; i++) {
    kj *obj = NULL;
    char err[128];
    if (!deleted[i] ||
        kj_parse(items[i]->json, items[i]->len, &obj, err, sizeof err) < 0)
      continue;
    /* List items carry no kind or apiVersion. */
    kj_remove(obj, "kind");
    kj_remove(obj, "apiVersion");
    if (kj_append(arr, obj) < 0)
      goto out;
  }
  rc = kapi_response_json(resp, 200, list);
out:
  free(kind);
  kj_free(list);
  return rc;
}

void rest_delete_collection(kapi_server *srv, kapi_req *r, kapi_resource *res,
                            kapi_response *resp)
{
  rest_selectors sel;
  store_obj **items = NULL;
  kj **parsed = NULL;
  char *deleted = NULL;
  size_t n = 0, i, done = 0;
  int64_t rv = 0;
  kapi_error e;
  int failed = 0;

  kapi_error_init(&e);
  if (rest_selectors_parse(r, res, &sel, &e) < 0) {
    kapi_response_error(resp, &e);
    kapi_error_clear(&e);
    return;
  }
  if (collect(srv, r, res, &sel, &items, &parsed, &n, &rv) < 0 ||
      !(deleted = calloc(n ? n : 1, 1))) {
    kapi_error_internal(&e, "cannot list %s", res->ops->resource);
    kapi_response_error(resp, &e);
    failed = 1;
  }
  for (i = 0; !failed && i < n; i++) {
    const char *name = kj_str(kj_ptr(parsed[i], "/metadata/name"));
    int rc = delete_one(srv, r, res, name ? name : "", resp);
    failed = rc < 0;
    deleted[i] = rc > 0;
    done += rc > 0;
  }
  LOG_V(4, "deletecollection %s in \"%s\": %zu of %zu matched objects",
        res->ops->resource, r->namespace_, done, n);
  if (!failed && answer_list(res, items, deleted, n, rv, resp) < 0) {
    kapi_error_internal(&e, "out of memory");
    kapi_response_error(resp, &e);
  }
  for (i = 0; i < n; i++) {
    kj_free(parsed[i]);
    store_obj_unref(items[i]);
  }
  free(items);
  free(parsed);
  free(deleted);
  rest_selectors_free(&sel);
  kapi_error_clear(&e);
}
