/*
 * create.c - `kapictl create -f ...` (kubectl create): POST every object
 * of the files, directories (-R), URLs and stdin given.
 *
 * As upstream's builder runs with ContinueOnError, one bad document or a
 * failed create does not stop the rest: every valid object is created,
 * then the errors are reported together and the exit code is 1.
 * --continue-on-error is accepted and means just that.
 */
#include <stdio.h>

#include "common.h"

typedef struct create_ctx {
  kc_ctx *ctx;
  kc_errors e;
  size_t count;
} create_ctx;

static int create_one(kapi_info *info, void *arg, kapi_errlist *errs)
{
  create_ctx *cc = arg;
  kapi_result res;
  kj *created = NULL;
  const char *name;
  char kind[256];
  int r;

  r = kapi_helper_create(cc->ctx->client, info, &created, &res);
  if (r < 0) {
    kc_server_error(&cc->e, errs, &res, r, "creating", info->source);
    return r;
  }
  cc->count++;
  /* The server's name: generateName gives one only now. */
  name = kj_get_str(kj_get(created, "metadata"), "name");
  kc_kind_name(&info->mapping, kind, sizeof kind);
  printf("%s/%s created\n", kind, name ? name : info->name);
  fflush(stdout);
  kj_free(created);
  return 0;
}

int kc_cmd_create(kc_flags *f)
{
  create_ctx cc = {0};
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
  cc.ctx = &ctx;
  if ((v = kc_file_visitor(&ctx, f, 1, &errs))) {
    kapi_visit(v, create_one, &cc, &errs);
    kapi_visitor_free(v);
  }
  if (errs.n == 0 && cc.count == 0)
    kapi_errlist_add(&errs, "no objects passed to create");
  rc = kc_report(&cc.e, &errs);
  kc_close(&ctx);
  return rc;
}
