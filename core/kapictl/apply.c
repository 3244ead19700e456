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
  kc_each each; /* first: kc_each_object hands this to apply_one */
  const char *manager;
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
  r = kapi_helper_get(ac->each.ctx->client, info, &before, &res);
  if (r < 0 && r != -ENOENT) {
    kc_server_error(&ac->each.e, errs, &res, r,
                    "retrieving current configuration of", info->source);
    return r;
  }
  r = kapi_helper_apply(ac->each.ctx->client, info, ac->manager, &after, &res);
  if (r < 0) {
    kc_server_error(&ac->each.e, errs, &res, r, before ? "patching" : "creating",
                    info->source);
    kj_free(before);
    return r;
  }
  ac->each.count++;
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

  ac.manager = f->field_manager ? f->field_manager : FIELD_MANAGER;
  return kc_each_object(f, "apply", apply_one, &ac.each);
}
