/*
 * apply.c - `kapictl apply -f ...`: server-side apply of every object
 * (kapi_helper_apply), reported in kubectl apply's words: "created" for
 * an object that did not exist, "unchanged" when the server kept its
 * resourceVersion (nothing the manager owns changed), else "configured".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

#define FIELD_MANAGER "kapictl"

typedef struct apply_ctx {
  kc_ctx *ctx;
  const char *manager;
  kc_errors e;
  size_t count;
} apply_ctx;

static const char *rv_of(const kj *obj)
{
  return kj_get_str(kj_get(obj, "metadata"), "resourceVersion");
}

static int apply_one(kapi_info *info, void *arg, kapi_errlist *errs)
{
  apply_ctx *ac = arg;
  kapi_result res;
  kj *before = NULL, *after = NULL;
  const char *what;
  char kind[256];
  int r;

  /* What is there now, to tell created/configured/unchanged apart. */
  r = kapi_helper_get(ac->ctx->client, info, &before, &res);
  if (r < 0 && r != -ENOENT) {
    kc_server_error(&ac->e, errs, &res, r,
                    "retrieving current configuration of", info->source);
    return r;
  }
  r = kapi_helper_apply(ac->ctx->client, info, ac->manager, &after, &res);
  if (r < 0) {
    kc_server_error(&ac->e, errs, &res, r, before ? "patching" : "creating",
                    info->source);
    kj_free(before);
    return r;
  }
  ac->count++;
  if (!before)
    what = "created";
  else if (rv_of(before) && rv_of(after) &&
           !strcmp(rv_of(before), rv_of(after)))
    what = "unchanged";
  else
    what = "configured";
  kc_kind_name(&info->mapping, kind, sizeof kind);
  printf("%s/%s %s\n", kind, info->name, what);
  fflush(stdout);
  kj_free(before);
  kj_free(after);
  return 0;
}

int kc_cmd_apply(kc_flags *f)
{
  apply_ctx ac = {0};
  kc_ctx ctx;
  kapi_errlist errs = {0};
  kapi_visitor *v;
  int rc;

  if (f->nfiles == 0)
    return kc_fail("must specify one of -f and -k");
  if (f->nargs > 0)
    return kc_fail("Unexpected args: [%s]", f->args[0]);
  if (kc_connect(&ctx, f))
    return 1;
  ac.ctx = &ctx;
  ac.manager = f->field_manager ? f->field_manager : FIELD_MANAGER;
  if ((v = kc_file_visitor(&ctx, f, 1, &errs))) {
    kapi_visit(v, apply_one, &ac, &errs);
    kapi_visitor_free(v);
  }
  if (errs.n == 0 && ac.count == 0)
    kapi_errlist_add(&errs, "no objects passed to apply");
  rc = kc_report(&ac.e, &errs);
  kc_close(&ctx);
  return rc;
}
