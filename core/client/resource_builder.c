/*
 * resource_builder.c - cli-runtime's Builder, reduced to what `-f`
 * needs: FilenameParam (files, directories, globs, URLs, "-"),
 * NamespaceParam/DefaultNamespace/RequireNamespace, LabelSelectorParam,
 * ContinueOnError and Flatten, and Do.
 *
 * As upstream, argument problems (a missing path, a directory with no
 * manifests) are collected while arguments are given and reported by
 * kapi_builder_do, all at once.  Paths are expanded into one file each
 * when given, as ExpandPathsToFileVisitors does; the visitors are made
 * by each kapi_builder_do, so a builder can be done more than once.
 *
 * Do composes, from the inside out, exactly as builder.go's
 * visitByPaths and Do:
 *
 *   Decorated(SetNamespace, RequireNamespace, FilterNamespace)
 *     ContinueOnError                       (with continue-on-error)
 *       Filtered(label selector)            (with a selector)
 *         FlattenList                       (with flatten)
 *           EagerVisitorList | VisitorList  (continue-on-error or not)
 *             one source per file, URL or stdin
 *
 * (upstream's Do flattens a second time around that; with every list
 * already flat it changes nothing, so it is left out.)
 */
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "resource_internal.h"
#include "selector.h"

/* upstream's defaultHttpGetAttempts is 3: the first try and 2 more. */
#define URL_RETRIES 2

typedef enum source_type { SRC_FILE, SRC_URL, SRC_STDIN } source_type;

typedef struct source {
  source_type type;
  char *where; /* path or URL; NULL for stdin */
} source;

struct kapi_builder {
  kapi_mapper *mapper; /* borrowed */
  source *src;
  size_t n, cap;
  kapi_errlist errs; /* argument errors, reported by do */
  char *ns;
  int require_ns;
  char *selector; /* NULL: none */
  int continue_on_error;
  int flatten;
};

kapi_builder *kapi_builder_new(kapi_mapper *mapper)
{
  kapi_builder *b = calloc(1, sizeof *b);

  if (b)
    b->mapper = mapper;
  return b;
}

void kapi_builder_free(kapi_builder *b)
{
  size_t i;

  if (!b)
    return;
  for (i = 0; i < b->n; i++)
    free(b->src[i].where);
  free(b->src);
  kapi_errlist_clear(&b->errs);
  free(b->ns);
  free(b->selector);
  free(b);
}

static int add_source(kapi_builder *b, source_type type, const char *where)
{
  char *copy = NULL;

  if (where && !(copy = strdup(where)))
    return -ENOMEM;
  if (b->n == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 8;
    source *s = realloc(b->src, cap * sizeof *s);
    if (!s) {
      free(copy);
      return -ENOMEM;
    }
    b->src = s;
    b->cap = cap;
  }
  b->src[b->n].type = type;
  b->src[b->n].where = copy;
  b->n++;
  return 0;
}

/* ---- FilenameParam ------------------------------------------------------- */

/* Builder.Path for one path: a file, or each of a directory's manifests
 * as a source of its own, so an EagerVisitorList goes on to the next
 * file after one fails. */
static int add_path(kapi_builder *b, const char *path, int recursive)
{
  char **paths = NULL;
  size_t n = 0, cap = 0, i;
  struct stat st;
  int r = 0;

  if (stat(path, &st) < 0) {
    if (errno == ENOENT)
      return kapi_errlist_add(&b->errs, "the path \"%s\" does not exist",
                              path);
    return kapi_errlist_add(&b->errs,
                            "the path \"%s\" cannot be accessed: stat %s: "
                            "%s", path, path, strerror(errno));
  }
  if (kapi__expand_path(path, recursive, &paths, &n, &cap, &b->errs) ==
      -ENOMEM)
    r = -ENOMEM;
  /* What was listed before an error is kept, as upstream's Walk does. */
  for (i = 0; i < n; i++) {
    if (r == 0)
      r = add_source(b, SRC_FILE, paths[i]);
    free(paths[i]);
  }
  free(paths);
  return r;
}

/* expandIfFilePattern: a path that does not exist but looks like a glob
 * is expanded; no match is "does not exist".  A directory without any
 * manifest is upstream's "recognized file extensions" error. */
static int add_pattern(kapi_builder *b, const char *arg, int recursive)
{
  size_t before = b->n, before_errs = b->errs.n, i;
  struct stat st;
  glob_t g;
  int r = 0;

  if (stat(arg, &st) < 0 && errno == ENOENT && strpbrk(arg, "*?[")) {
    memset(&g, 0, sizeof g);
    if (glob(arg, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
      globfree(&g);
      return kapi_errlist_add(&b->errs, "the path \"%s\" does not exist",
                              arg);
    }
    for (i = 0; r == 0 && i < g.gl_pathc; i++)
      r = add_path(b, g.gl_pathv[i], recursive);
    globfree(&g);
  } else {
    r = add_path(b, arg, recursive);
  }
  if (r == 0 && b->n == before && b->errs.n == before_errs)
    r = kapi_errlist_add(&b->errs,
                         "error reading [%s]: recognized file extensions are "
                         "[.json .yaml .yml]",
                         arg);
  return r;
}

/* Argument errors are kept for kapi_builder_do; only a lack of memory
 * fails here. */
int kapi_builder_filenames(kapi_builder *b, int recursive,
                           const char *const *paths, size_t n)
{
  size_t i;
  int r = 0;

  for (i = 0; r == 0 && i < n; i++) {
    const char *p = paths[i];
    if (!strcmp(p, "-"))
      r = add_source(b, SRC_STDIN, NULL);
    else if (!strncmp(p, "http://", 7) || !strncmp(p, "https://", 8))
      r = add_source(b, SRC_URL, p);
    else
      r = add_pattern(b, p, recursive);
  }
  return r;
}

/* ---- the other parameters ------------------------------------------------ */

void kapi_builder_namespace(kapi_builder *b, const char *ns, int enforce)
{
  free(b->ns);
  b->ns = ns && *ns ? strdup(ns) : NULL;
  b->require_ns = enforce;
}

void kapi_builder_label_selector(kapi_builder *b, const char *selector)
{
  free(b->selector);
  b->selector = selector ? strdup(selector) : NULL;
}

void kapi_builder_continue_on_error(kapi_builder *b)
{
  b->continue_on_error = 1;
}

void kapi_builder_flatten(kapi_builder *b)
{
  b->flatten = 1;
}

/* ---- Do ------------------------------------------------------------------ */

/* What the composed chain needs after the builder is gone: the
 * decorators' namespace and the filter's selector, owned by a visitor
 * at the top that frees them with the chain. */
typedef struct owner {
  kapi_visitor base;
  kapi_visitor *inner;
  char *ns;
  kapi_label_selector *sel;
} owner;

static int owner_walk(kapi_visitor *v, kapi__walk_fn fn, void *arg,
                      kapi_errlist *errs)
{
  return kapi__walk(((owner *)v)->inner, fn, arg, errs);
}

static void owner_destroy(kapi_visitor *v)
{
  owner *o = (owner *)v;

  kapi_visitor_free(o->inner);
  free(o->ns);
  kapi_label_selector_free(o->sel);
  free(o);
}

/* FilterByLabelSelector: the object's own labels. */
static int match_labels(const kapi_info *info, void *arg, kapi_errlist *errs)
{
  const kj *labels = kj_get(kj_get(info->object, "metadata"), "labels");

  (void)errs;
  return kapi_label_selector_matches(arg, labels);
}

/* upstream's FilterNamespace: a cluster-scoped object has no namespace,
 * whatever its file says. */
static int filter_namespace(kapi_info *info, void *arg, kapi_errlist *errs)
{
  kj *meta;

  (void)arg;
  (void)errs;
  if (!info->mapping.resource || info->mapping.namespaced)
    return 0;
  free(info->namespace_);
  info->namespace_ = NULL;
  meta = kj_get(info->object, "metadata");
  if (meta && meta->type == KJ_OBJECT)
    kj_remove(meta, "namespace");
  return 0;
}

static kapi_visitor *make_source(const kapi_builder *b, const source *s)
{
  switch (s->type) {
  case SRC_URL:
    return kapi_url_visitor(s->where, URL_RETRIES, b->mapper);
  case SRC_STDIN:
    return kapi_file_visitor("-", 0, b->mapper);
  default:
    return kapi_file_visitor(s->where, 0, b->mapper);
  }
}

static kapi_visitor *make_sources(const kapi_builder *b)
{
  kapi_visitor **vs = calloc(b->n, sizeof *vs), *list;
  size_t i;

  if (!vs)
    return NULL;
  for (i = 0; i < b->n; i++)
    if (!(vs[i] = make_source(b, &b->src[i]))) {
      while (i--)
        kapi_visitor_free(vs[i]);
      free(vs);
      return NULL;
    }
  list = b->continue_on_error ? kapi_eager_visitor_list(vs, b->n)
                              : kapi_visitor_list(vs, b->n);
  free(vs);
  return list;
}

static kapi_visitor *compose(const kapi_builder *b, owner *o)
{
  kapi_decorate_fn fns[3];
  kapi_visitor *v;
  size_t n = 0;

  if (!(v = make_sources(b)))
    return NULL;
  if (b->flatten && !(v = kapi_flatten_list_visitor(v, b->mapper)))
    return NULL;
  if (o->sel && !(v = kapi_filtered_visitor(v, match_labels, o->sel)))
    return NULL;
  if (b->continue_on_error && !(v = kapi_continue_on_error_visitor(v)))
    return NULL;
  if (o->ns)
    fns[n++] = kapi_set_namespace;
  if (o->ns && b->require_ns)
    fns[n++] = kapi_require_namespace;
  fns[n++] = filter_namespace;
  return kapi_decorated_visitor(v, fns, n, o->ns);
}

static void missing_resources(kapi_errlist *errs)
{
  kapi_errlist_add(errs,
                   "You must provide one or more resources by argument or "
                   "filename.\nExample resource specifications include:\n"
                   "   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n"
                   "   '<resource> <name>'\n   '<resource>'");
}

kapi_visitor *kapi_builder_do(kapi_builder *b, kapi_errlist *errs)
{
  char err[512];
  owner *o;
  size_t i;

  if (b->errs.n) {
    for (i = 0; i < b->errs.n; i++)
      kapi_errlist_add(errs, "%s", b->errs.msgs[i]);
    return NULL;
  }
  if (!b->n) {
    missing_resources(errs);
    return NULL;
  }
  if (!(o = calloc(1, sizeof *o)))
    goto nomem;
  o->base.walk = owner_walk;
  o->base.destroy = owner_destroy;
  if (b->ns && !(o->ns = strdup(b->ns)))
    goto nomem;
  if (b->selector && *b->selector &&
      kapi_label_selector_parse(b->selector, &o->sel, err, sizeof err) < 0) {
    kapi_errlist_add(errs, "the provided selector \"%s\" is not valid: %s",
                     b->selector, err);
    owner_destroy(&o->base);
    return NULL;
  }
  if (!(o->inner = compose(b, o)))
    goto nomem;
  return &o->base;

nomem:
  if (o)
    owner_destroy(&o->base);
  kapi_errlist_add(errs, "out of memory");
  return NULL;
}
