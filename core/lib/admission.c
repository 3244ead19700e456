/*
 * admission.c - the mutating and validating admission stages.
 */
#include <errno.h>
#include <string.h>

#include "admission.h"
#include "log.h"

static uint32_t op_mask(const kapi_req *r)
{
  if (!r->operation)
    return 0;
  if (!strcmp(r->operation, "CREATE"))
    return KAPI_OP_CREATE;
  if (!strcmp(r->operation, "UPDATE"))
    return KAPI_OP_UPDATE;
  if (!strcmp(r->operation, "DELETE"))
    return KAPI_OP_DELETE;
  return KAPI_OP_CONNECT;
}

/* A plugin refused without saying why: answer as upstream's generic
 * admission denial. */
static void default_denial(kapi_req *r, const char *plugin, int rc,
                           kapi_error *e)
{
  if (kapi_error_isset(e))
    return;
  kapi_error_setf(e, 403, "Forbidden",
                  "%s \"%s\" is forbidden: admission plugin \"%s\" denied "
                  "the request (%s)",
                  r->resource ? r->resource : "", r->name ? r->name : "",
                  plugin, strerror(-rc));
}

static int run(kapi_server *srv, kapi_req *r, kj *obj, int mutating,
               kapi_error *e)
{
  size_t n = kapi_plugins_count(srv->plugins, KAPI_KIND_ADMISSION), i;
  uint32_t op = op_mask(r);
  int rc;

  for (i = 0; i < n; i++) {
    const kapi_component *c = kapi_plugins_at(srv->plugins,
                                              KAPI_KIND_ADMISSION, i);
    const kapi_admission_ops *ops = c->ops;
    if (!(ops->handles & op))
      continue;
    if (mutating && ops->admit)
      rc = ops->admit(c->st, r, obj, e);
    else if (!mutating && ops->validate)
      rc = ops->validate(c->st, r, obj, e);
    else
      continue;
    if (rc < 0) {
      default_denial(r, c->name, rc, e);
      LOG_V(2, "admission %s refused %s %s/%s: %s", c->name, r->verb,
            r->namespace_, r->name, e->message);
      return rc;
    }
  }
  return 0;
}

int kapi_admission_mutate(kapi_server *srv, kapi_req *r, kj *obj,
                          kapi_error *e)
{
  return run(srv, r, obj, 1, e);
}

int kapi_admission_validate(kapi_server *srv, kapi_req *r, const kj *obj,
                            kapi_error *e)
{
  return run(srv, r, (kj *)obj, 0, e);
}
