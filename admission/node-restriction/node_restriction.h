/*
 * node_restriction.h - what the files of the NodeRestriction admission
 * plugin share: the host API, the request as the plugin sees it, and
 * upstream's admission.NewForbidden message shape.
 */
#ifndef KAPI_NODE_RESTRICTION_H
#define KAPI_NODE_RESTRICTION_H

#include <stddef.h>

#include "kapi/plugin.h"

extern const kapi_host_api *nr_api;
extern kapi_plugin *nr_self;

/* One admission request by a node; everything borrowed. */
typedef struct nr_req {
  const kapi_req *r;
  const char *node;      /* the requesting node's name, never "" */
  const char *op;        /* "CREATE", "UPDATE", "DELETE" */
  const char *group, *resource, *sub, *ns, *name; /* "" when unset */
  const kapi_obj *obj;   /* the new object; NULL on DELETE (as upstream) */
  const kapi_obj *old;   /* the stored object on UPDATE and DELETE */
} nr_req;

/*
 * Refuses the request: 403 Forbidden with the message
 * `<resource>[.<group>] "<name>" is forbidden: <fmt...>`, where name is
 * the object's name, else its generateName, else "Unknown" (upstream's
 * extractResourceName; DELETE has no object).  Returns -EPERM.
 */
int nr_forbid(const nr_req *q, kapi_error *e, const char *fmt, ...)
    KAPI_PRINTF(3, 4);

/* 404 `<resource>[.<group>] "<name>" not found`; returns -ENOENT. */
int nr_not_found(kapi_error *e, const char *group, const char *resource,
                 const char *name);

/* The rules per resource; each returns 0 or a refusal from nr_forbid. */
int nr_admit_pod(const nr_req *q, kapi_error *e);
int nr_admit_node(const nr_req *q, kapi_error *e);

/*
 * Semantic equality of two JSON values (apiequality.Semantic.DeepEqual
 * over Go structs): object keys in any order, numbers by value, and an
 * absent value equal to null, "", 0, false, [] or {} (a Go zero value).
 * Members at the JSON pointers in `skip` (NULL-terminated, relative to
 * the roots; may be NULL) are ignored.  When the values differ and diff
 * is not NULL, the JSON pointer of the first difference is written
 * there.  Returns 1 when equal.
 */
int nr_equal(const kapi_obj *a, const kapi_obj *b, const char *const *skip,
             char *diff, size_t difflen);

#endif
