/*
 * kapi/resource.h - kubectl's resource Builder and Visitors in C
 * (k8s.io/cli-runtime/pkg/resource): how `-f` arguments become
 * infos, each an object with its resource mapping, and a REST helper
 * that acts on them.  Part of libkapi's client library (kapi-client.pc).
 *
 * A visitor walks infos and calls a function for each.  Sources make
 * infos (FileVisitor, StreamVisitor, URLVisitor); wrappers change what
 * the walk does (FlattenListVisitor, DecoratedVisitor, FilteredVisitor,
 * ContinueOnErrorVisitor) or combine walks (VisitorList stops at the
 * first error, EagerVisitorList visits all and aggregates).  Errors are
 * negative errnos; their text goes to a kapi_errlist so that aggregated
 * errors read as upstream's ("error parsing x.yaml: ...").
 *
 * Ownership: constructors taking a kapi_visitor take it over (freed with
 * the wrapper); strings and arrays passed in are copied; infos handed to
 * a visit function are borrowed for the call (kapi_info_clone keeps one).
 */
#ifndef KAPI_RESOURCE_H
#define KAPI_RESOURCE_H

#include <stddef.h>
#include <stdio.h>

#include "kapi/client.h"
#include "kapi/json.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors -------------------------------------------------------------- */

/* An ordered list of error messages (utilerrors.NewAggregate). */
typedef struct kapi_errlist {
  char **msgs;
  size_t n, cap;
} kapi_errlist;

/* Appends a formatted message (copied); -ENOMEM. */
int kapi_errlist_add(kapi_errlist *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Upstream's aggregate text: one message as is, several as "[a, b]".
 * Newly allocated (free); NULL when empty. */
char *kapi_errlist_join(const kapi_errlist *l);
void kapi_errlist_clear(kapi_errlist *l);

/* ---- mapping: kind -> resource, through discovery ------------------------ */

typedef struct kapi_mapping {
  char *group;    /* "" for core */
  char *version;  /* "v1" */
  char *resource; /* "deployments" */
  char *kind;     /* "Deployment" */
  int namespaced;
} kapi_mapping;

typedef struct kapi_mapper kapi_mapper;

/* Answers from /api and /apis discovery, fetched once and cached (c
 * borrowed: it must outlive the mapper). */
kapi_mapper *kapi_mapper_new(kapi_client *c);
/* A mapper over a fixed table (tests, offline use): mappings copied. */
kapi_mapper *kapi_mapper_static(const kapi_mapping *m, size_t n);
void kapi_mapper_free(kapi_mapper *m);
/*
 * The resource of apiVersion ("v1", "apps/v1") and kind.  *out is filled
 * with copies (kapi_mapping_clear).  -ENOENT with upstream's message in
 * errs ('no matches for kind "X" in version "Y"'), -EIO if discovery
 * failed.
 */
int kapi_mapper_kind(kapi_mapper *m, const char *api_version,
                     const char *kind, kapi_mapping *out, kapi_errlist *errs);
/* The resource a user typed ("po", "pods", "deployment.apps", "rs"). */
int kapi_mapper_resource(kapi_mapper *m, const char *arg, kapi_mapping *out,
                         kapi_errlist *errs);
void kapi_mapping_clear(kapi_mapping *m);
/* The client's resource type for a mapping (strings borrowed from m). */
kapi_gvr kapi_mapping_gvr(const kapi_mapping *m);

/* ---- infos --------------------------------------------------------------- */

typedef struct kapi_info {
  char *source;      /* file path, URL, or "STDIN" */
  size_t index;      /* the document's position in its source, from 0 */
  kj *object;        /* the decoded object (owned) */
  char *namespace_;  /* metadata.namespace, or what a decorator set */
  char *name;        /* metadata.name (NULL with only generateName) */
  kapi_mapping mapping; /* resolved when the visitor has a mapper */
} kapi_info;

kapi_info *kapi_info_clone(const kapi_info *info);
void kapi_info_free(kapi_info *info);

/* ---- visitors ------------------------------------------------------------ */

typedef struct kapi_visitor kapi_visitor;

/* Called for each info: 0 continues, <0 is an error (add its text to
 * errs) that the enclosing visitors stop at or collect. */
typedef int (*kapi_visit_fn)(kapi_info *info, void *arg, kapi_errlist *errs);

int kapi_visit(kapi_visitor *v, kapi_visit_fn fn, void *arg,
               kapi_errlist *errs);
void kapi_visitor_free(kapi_visitor *v);

/*
 * Sources.  `mapper` (borrowed, may be NULL: infos then have no
 * mapping) resolves each document's kind.  A stream splits YAML
 * ("---") and concatenated JSON documents; empty documents are skipped;
 * a document that does not parse, or lacks apiVersion/kind, is an error
 * naming the source ("error parsing f.yaml: ..." / "error validating
 * data: ..."), and the stream goes on with the next document only under
 * a ContinueOnErrorVisitor.
 */
kapi_visitor *kapi_stream_visitor(FILE *in, const char *source,
                                  kapi_mapper *mapper);
kapi_visitor *kapi_bytes_visitor(const char *buf, size_t len,
                                 const char *source, kapi_mapper *mapper);
/* A file; with recursive, a directory's *.yaml, *.yml and *.json files
 * (sub-directories too), in name order.  "-" is standard input. */
kapi_visitor *kapi_file_visitor(const char *path, int recursive,
                                kapi_mapper *mapper);
/* http:// or https:// (libcurl), retried `retries` times on 5xx and
 * transport errors. */
kapi_visitor *kapi_url_visitor(const char *url, int retries,
                               kapi_mapper *mapper);

/* Wrappers: each takes over `inner`. */
/* `kind: List` and "*List" objects become one info per item, nested
 * lists included. */
kapi_visitor *kapi_flatten_list_visitor(kapi_visitor *inner,
                                        kapi_mapper *mapper);
/* Calls each fn on every info before passing it on; a fn's error stops
 * that info. */
typedef int (*kapi_decorate_fn)(kapi_info *info, void *arg,
                                kapi_errlist *errs);
kapi_visitor *kapi_decorated_visitor(kapi_visitor *inner,
                                     const kapi_decorate_fn *fns, size_t n,
                                     void *arg);
/* Passes on only the infos for which fn returns 1 (0 drops, <0 errs). */
typedef int (*kapi_filter_fn)(const kapi_info *info, void *arg,
                              kapi_errlist *errs);
kapi_visitor *kapi_filtered_visitor(kapi_visitor *inner, kapi_filter_fn fn,
                                    void *arg);
/* Keeps visiting after errors; returns the first error code at the end
 * with every message in errs. */
kapi_visitor *kapi_continue_on_error_visitor(kapi_visitor *inner);
/* Lists (take over the array's visitors; the array itself is copied). */
kapi_visitor *kapi_visitor_list(kapi_visitor **vs, size_t n);
kapi_visitor *kapi_eager_visitor_list(kapi_visitor **vs, size_t n);

/* Ready-made decorators. */
/* Sets the namespace of namespaced infos that have none to arg (a
 * const char *). */
int kapi_set_namespace(kapi_info *info, void *arg, kapi_errlist *errs);
/* Like it, but an info naming another namespace is an error with
 * upstream's message ("the namespace from the provided object "a" does
 * not match the namespace "b". You must pass '--namespace=a' to perform
 * this operation."). */
int kapi_require_namespace(kapi_info *info, void *arg, kapi_errlist *errs);

/* ---- the Builder ----------------------------------------------------------- */

typedef struct kapi_builder kapi_builder;

/* mapper borrowed (may be NULL). */
kapi_builder *kapi_builder_new(kapi_mapper *mapper);
void kapi_builder_free(kapi_builder *b);
/* Paths, directories (recursive: -R), URLs and "-" (stdin), as -f. */
int kapi_builder_filenames(kapi_builder *b, int recursive,
                           const char *const *paths, size_t n);
/* Namespace for infos without one; enforce: kapi_require_namespace. */
void kapi_builder_namespace(kapi_builder *b, const char *ns, int enforce);
void kapi_builder_label_selector(kapi_builder *b, const char *selector);
void kapi_builder_continue_on_error(kapi_builder *b);
void kapi_builder_flatten(kapi_builder *b);
/* Composes the visitor as upstream's Builder.Do: sources (an eager list
 * when continuing on error, else a stop-at-first list), flattening,
 * namespace decoration, continue-on-error, the selector filter.  The
 * result is owned by the caller; the builder may be freed before it.
 * NULL with errs filled when the arguments are wrong (no such file). */
kapi_visitor *kapi_builder_do(kapi_builder *b, kapi_errlist *errs);

/* ---- the REST helper ------------------------------------------------------- */

/* Each acts on the info's mapping, namespace and name; *ret (may be
 * NULL) gets the server's answer (kj_free); res as for kapi_client. */
int kapi_helper_create(kapi_client *c, const kapi_info *info, kj **ret,
                       kapi_result *res);
int kapi_helper_get(kapi_client *c, const kapi_info *info, kj **ret,
                    kapi_result *res);
int kapi_helper_replace(kapi_client *c, const kapi_info *info, kj **ret,
                        kapi_result *res);
int kapi_helper_patch(kapi_client *c, const kapi_info *info,
                      const char *patch_type, const char *patch, kj **ret,
                      kapi_result *res);
int kapi_helper_delete(kapi_client *c, const kapi_info *info,
                       kapi_result *res);
/* Server-side apply (PATCH application/apply-patch+yaml, force=true,
 * fieldManager): creates the object when missing, else changes what the
 * manager's fields say; what `kapictl apply` and the manifests directory
 * use. */
int kapi_helper_apply(kapi_client *c, const kapi_info *info,
                      const char *field_manager, kj **ret, kapi_result *res);
/* Lists a mapping in ns (NULL: all namespaces) with a label selector. */
int kapi_helper_list(kapi_client *c, const kapi_mapping *m, const char *ns,
                     const char *label_selector, kj **ret, kapi_result *res);

#ifdef __cplusplus
}
#endif
#endif /* KAPI_RESOURCE_H */
