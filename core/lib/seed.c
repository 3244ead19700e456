/*
 * seed.c - objects every cluster starts with (the default namespaces),
 * declared by the resource plugins as initial_objects and created on
 * first start, through the resource's own defaults.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "meta.h"
#include "server.h"

struct seed_ctx {
  kj *obj;
};

static int create_if_absent(const kj *cur, void *arg, kj **ret_new)
{
  struct seed_ctx *c = arg;
  if (cur)
    return KAPI_STORE_NOOP;
  *ret_new = kj_clone(c->obj);
  return *ret_new ? KAPI_STORE_PUT : -ENOMEM;
}

static int seed_one(kapi_server *srv, kapi_resource *res, const kj *item)
{
  kj *obj = kj_clone(item), *meta;
  char uid[40], ts[32], *key;
  struct seed_ctx c;
  int rc;

  if (!obj)
    return -ENOMEM;
  meta = kj_child_object(obj, "metadata");
  kj_set_str(obj, "apiVersion", res->group_version);
  kj_set_str(obj, "kind", res->ops->kind);
  if (res->ops->prepare_for_create)
    res->ops->prepare_for_create(res->st, (kapi_obj *)obj);
  kapi_uuid4(uid);
  kapi_rfc3339(time(NULL), ts, sizeof ts);
  kj_set_str(meta, "uid", uid);
  kj_set_str(meta, "creationTimestamp", ts);
  key = kapi_resource_key(res, kj_get_str(meta, "namespace"),
                          kj_get_str(meta, "name") ? kj_get_str(meta, "name")
                                                   : "");
  c.obj = obj;
  rc = key ? kapi_store_update(srv->store, key, create_if_absent, &c, NULL)
           : -ENOMEM;
  if (rc == KAPI_STORE_PUT)
    LOG_INFO("created %s %s", res->ops->resource, kj_get_str(meta, "name"));
  free(key);
  kj_free(obj);
  return rc < 0 ? rc : 0;
}

int kapi_server_seed(kapi_server *srv, char *err, size_t errlen)
{
  size_t i, j;
  for (i = 0; i < srv->registry->n; i++) {
    kapi_resource *res = &srv->registry->items[i];
    const char *text = res->ops->initial_objects;
    char perr[256];
    kj *list = NULL;
    int rc = 0;
    if (!text)
      continue;
    if (kj_parse(text, strlen(text), &list, perr, sizeof perr) < 0 ||
        list->type != KJ_ARRAY) {
      snprintf(err, errlen, "%s: initial_objects is not a JSON array: %s",
               res->ops->resource, perr);
      if (list)
        kj_free(list);
      return -EINVAL;
    }
    for (j = 0; j < kj_len(list) && rc == 0; j++)
      rc = seed_one(srv, res, kj_at(list, j));
    kj_free(list);
    if (rc < 0) {
      snprintf(err, errlen, "cannot create the initial %s: %s",
               res->ops->resource, strerror(-rc));
      return rc;
    }
  }
  return 0;
}
