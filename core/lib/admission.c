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

/* The name an admission error is about: the request's, else the
 * object's name or generateName (upstream's admission attributes). */
static const char *subject_name(const kapi_req *r, const kj *obj)
{
  const char *name = r->name && *r->name ? r->name : NULL;
  if (!name)
    name = kj_str(kj_ptr(obj, "/metadata/name"));
  if (!name || !*name)
    name = kj_str(kj_ptr(obj, "/metadata/generateName"));
  return name && *name ? name : NULL;
}

/* A plugin refused without saying why: answer as upstream's generic
 * admission denial.  Either way the Status names what was refused, as
 * upstream's admission errors (NewForbidden) do. */
static void default_denial(kapi_req *r, const kj *obj, const char *plugin,
                           int rc, kapi_error *e)
{
  if (kapi_error_isset(e)) {
    if (!e->details || !kj_get(e->details, "kind"))
      kapi_error_details(e, subject_name(r, obj),
                         r->api_group && *r->api_group ? r->api_group : NULL,
                         r->resource);
    return;
  }
  kapi_error_setf(e, 403, "Forbidden",
                  "%s \"%s\" is forbidden: admission plugin \"%s\" denied "
                  "the request (%s)",
                  r->resource ? r->resource : "", r->name ? r->name : "",
                  plugin, strerror(-rc));
  kapi_error_details(e, subject_name(r, obj),
                     r->api_group && *r->api_group ? r->api_group : NULL,
                     r->resource);
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
      default_denial(r, obj, c->name, rc, e);
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
