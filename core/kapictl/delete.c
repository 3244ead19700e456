/*
 * delete.c - `kapictl delete` (kubectl delete): the objects of -f
 * files, or TYPE NAME..., TYPE/NAME..., or every object of a TYPE that
 * -l selects (or --all), deleted in the background (kubectl's default
 * cascade).  Each prints `pod "p1" deleted`; errors gather and exit 1.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

typedef struct delete_ctx {
  kc_ctx *ctx;
  const kc_flags *f;
  kc_errors e;
  size_t count;
} delete_ctx;

/* Deletes one; source NULL for objects named on the command line. */
static int delete_info(delete_ctx *dc, const kapi_info *info,
                       const char *source, kapi_errlist *errs)
{
  kapi_result res;
  char kind[256];
  int r;

  r = kapi_helper_delete(dc->ctx->client, info, &res);
  if (r == -ENOENT && dc->f->ignore_not_found)
    return 0;
  if (r < 0) {
    kc_server_error(&dc->e, errs, &res, r, source ? "deleting" : NULL,
                    source);
    return r;
  }
  dc->count++;
  kc_kind_name(&info->mapping, kind, sizeof kind);
  printf("%s \"%s\" deleted\n", kind, info->name);
  fflush(stdout);
  return 0;
}

static int delete_visited(kapi_info *info, void *arg, kapi_errlist *errs)
{
  return delete_info(arg, info, info->source, errs);
}

/* An info for a name on the command line: no object, just where. */
static void target_info(kapi_info *info, kc_target *t, const char *ns,
                        char *name)
{
  memset(info, 0, sizeof *info);
  info->mapping = t->m;
  info->namespace_ = (char *)ns;
  info->name = name;
}

/* TYPE with -l or --all: every object the list returns. */
static void delete_selected(delete_ctx *dc, kc_target *t, kapi_errlist *errs)
{
  kapi_result res;
  kapi_info info;
  kj *list = NULL;
  const kj *items;
  size_t i;
  int r;

  r = kapi_helper_list(dc->ctx->client, &t->m,
                       dc->f->all_namespaces ? NULL : dc->ctx->namespace_,
                       dc->f->selector, &list, &res);
  if (r < 0) {
    kc_server_error(&dc->e, errs, &res, r, NULL, NULL);
    return;
  }
  items = kj_get(list, "items");
  for (i = 0; i < kj_len(items); i++) {
    const kj *meta = kj_get(kj_at(items, i), "metadata");
    const char *ns = kj_get_str(meta, "namespace");
    target_info(&info, t, ns ? ns : dc->ctx->namespace_,
                (char *)kj_get_str(meta, "name"));
    if (info.name)
      delete_info(dc, &info, NULL, errs);
  }
  kj_free(list);
}

static void delete_targets(delete_ctx *dc, kapi_errlist *errs)
{
  const kc_flags *f = dc->f;
  kc_target *t = NULL;
  kapi_info info;
  size_t n = 0, i;

  if (kc_parse_targets(dc->ctx, f->args, f->nargs, &t, &n, errs) < 0)
    return;
  if (n == 1 && !t[0].name) {
    if (!f->all && !f->selector) {
      kapi_errlist_add(errs, "resource(s) were provided, but no name was "
                       "specified");
    } else {
      delete_selected(dc, &t[0], errs);
      if (dc->count == 0 && errs->n == 0)
        printf("No resources found\n");
    }
  } else {
    for (i = 0; i < n; i++) {
      target_info(&info, &t[i], dc->ctx->namespace_, t[i].name);
      delete_info(dc, &info, NULL, errs);
    }
  }
  kc_targets_free(t, n);
}

int kc_cmd_delete(kc_flags *f)
{
  delete_ctx dc = {0};
  kc_ctx ctx;
  kapi_errlist errs = {0};
  kapi_visitor *v;
  int rc;

  if (f->nfiles == 0 && f->nargs == 0)
    return kc_fail("You must provide one or more resources by argument or "
                   "filename.\nExample resource specifications include:\n"
                   "   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n"
                   "   '<resource> <name>'\n   '<resource>'");
  if (f->nfiles > 0 && f->nargs > 0)
    return kc_fail("Unexpected args: [%s]", f->args[0]);
  if (kc_connect(&ctx, f))
    return 1;
  dc.ctx = &ctx;
  dc.f = f;
  if (f->nfiles > 0) {
    if ((v = kc_file_visitor(&ctx, f, 1, &errs))) {
      kapi_visit(v, delete_visited, &dc, &errs);
      kapi_visitor_free(v);
    }
  } else {
    delete_targets(&dc, &errs);
  }
  rc = kc_report(&dc.e, &errs);
  kc_close(&ctx);
  return rc;
}
