/*
 * podactions.c - the next steps of a pod sync (see podactions.h).
 */
#include "podactions.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *restart_policy(const kj *pod)
{
  const char *p = kj_str(kj_ptr(pod, "/spec/restartPolicy"));
  return p && *p ? p : "Always";
}

static int exited(const kl_ctr *c)
{
  return c->has_cur && c->cur.state == KAPI_CONTAINER_EXITED;
}

static int running(const kl_ctr *c)
{
  return c->has_cur && c->cur.state == KAPI_CONTAINER_RUNNING;
}

/*
 * computeInitContainerActions: returns 1 when initialization is still in
 * progress (regular containers must wait), 0 when every init container
 * is done.
 */
static int init_actions(const kj *pod, const kl_ctr *ctrs, size_t n,
                        kl_actions *out)
{
  size_t i;
  for (i = 0; i < n; i++) {
    const kl_ctr *c = &ctrs[i];
    if (!c->init)
      continue;
    if (c->sidecar) {
      if (running(c))
        continue; /* started: the next one may go */
      out->start[out->n_start++] = i;
      return 1;
    }
    if (!c->has_cur) {
      out->start[out->n_start++] = i;
      return 1;
    }
    if (!exited(c))
      return 1; /* still running (or created): wait for it */
    if (c->cur.exit_code == 0)
      continue;
    if (!strcmp(restart_policy(pod), "Never")) {
      out->kill_pod = 1;
      return 1;
    }
    out->start[out->n_start++] = i; /* failed: run it again */
    return 1;
  }
  return 0;
}

int kl_pod_actions(const kj *pod, const kl_ctr *ctrs, size_t n,
                   int sandbox_ready, kl_actions *out)
{
  size_t i;

  memset(out, 0, sizeof *out);
  out->start = calloc(n ? n : 1, sizeof *out->start);
  if (!out->start)
    return -ENOMEM;
  out->create_sandbox = !sandbox_ready;
  if (init_actions(pod, ctrs, n, out))
    return 0;
  for (i = 0; i < n; i++)
    if (!ctrs[i].init && kl_should_restart(pod, &ctrs[i]))
      out->start[out->n_start++] = i;
  return 0;
}

void kl_actions_free(kl_actions *a)
{
  free(a->start);
  a->start = NULL;
  a->n_start = 0;
}
