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


static int create_one(kapi_info *info, void *arg, kapi_errlist *errs)
{
  kc_each *cc = arg;
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
  kc_each each = {0};

  return kc_each_object(f, "create", create_one, &each);
}
