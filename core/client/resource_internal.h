/*
 * resource_internal.h - what the visitor, source and builder files of
 * kapi/resource.h share: the visitor object and the internal walk.
 * Internal to libkapi: names start with `kapi__`.
 *
 * Upstream's VisitorFunc receives (info, err): a source hands a
 * document's error to the function instead of returning it, and the
 * function decides whether the walk stops (return the error) or goes on
 * (ContinueOnErrorVisitor, EagerVisitorList return nil).  The public
 * kapi_visit_fn has no error argument, so the chain runs on this walk
 * function, and kapi_visit adapts the caller's function at the top: an
 * error that reaches it stops the walk, as upstream's plain functions
 * do.  An error's text is already in errs when err is passed.
 */
#ifndef KAPI_RESOURCE_INTERNAL_H
#define KAPI_RESOURCE_INTERNAL_H

#include "kapi/resource.h"

/* info is NULL when err < 0; 0 continues, <0 stops the walk. */
typedef int (*kapi__walk_fn)(kapi_info *info, int err, void *arg,
                             kapi_errlist *errs);

struct kapi_visitor {
  int (*walk)(kapi_visitor *v, kapi__walk_fn fn, void *arg,
              kapi_errlist *errs);
  void (*destroy)(kapi_visitor *v); /* frees what the visitor owns */
};

static inline int kapi__walk(kapi_visitor *v, kapi__walk_fn fn, void *arg,
                             kapi_errlist *errs)
{
  return v->walk(v, fn, arg, errs);
}

/*
 * Makes the info of a decoded document or list item: takes over obj
 * (freed on error too), copies source, reads namespace and name, checks
 * apiVersion and kind, and resolves the mapping when mapper is not NULL
 * (lists get none: their items are mapped when flattened).  `doc` names
 * the document in messages ("" for none, else " (document 2)").  On
 * error the message is in errs.
 */
int kapi__info_new(kj *obj, const char *source, size_t index,
                   const char *doc, kapi_mapper *mapper, kapi_info **ret,
                   kapi_errlist *errs);
/* 1 for `kind: List` and "*List" objects. */
int kapi__is_list(const kj *obj);

/* The files of one -f argument, as upstream's ExpandPathsToFileVisitors:
 * path itself when it is a file (whatever its name), or a directory's
 * *.yaml, *.yml and *.json files in name order (sub-directories only
 * with recursive).  Appends copies to *paths (grown as needed; the
 * caller frees each and the array).  -errno with the message in errs. */
int kapi__expand_path(const char *path, int recursive, char ***paths,
                      size_t *n, size_t *cap, kapi_errlist *errs);

#endif
