/*
 * pleg.c - the pod lifecycle event generator (pkg/kubelet/pleg/generic.go):
 * every second, list the runtime's containers, compare each with what
 * the previous relist saw (state, start and finish times), and queue a
 * sync of the owning pod for every container that appeared, changed or
 * disappeared.
 *
 * Containers are matched to pods through their sandbox.  The relist is
 * O(containers) with no allocation for containers that did not change:
 * the previous states stay in a map and are updated in place, a
 * generation counter finding the ones that vanished.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet.h"
#include "log.h"

#define RELIST_NS KL_NS_PER_S

typedef struct seen {
  kapi_container_state state;
  int64_t started_at, finished_at;
  uint64_t gen;
  char sandbox_id[KAPI_ID_MAX];
} seen;

/* One container from the list call (copied: the callback runs under the
 * runtime's lock and may not call back into it). */
typedef struct item {
  char id[KAPI_ID_MAX], sandbox_id[KAPI_ID_MAX];
  kapi_container_state state;
  int64_t started_at, finished_at;
} item;

struct kl_pleg {
  kl *k;
  kapi__strmap *prev; /* container id -> seen */
  uint64_t gen;
  item *items;
  size_t n, cap;
  int oom;
};

kl_pleg *kl_pleg_new(kl *k)
{
  kl_pleg *pl = calloc(1, sizeof *pl);
  if (!pl)
    return NULL;
  pl->k = k;
  pl->prev = kapi__strmap_new();
  if (!pl->prev) {
    free(pl);
    return NULL;
  }
  return pl;
}

void kl_pleg_free(kl_pleg *pl)
{
  if (!pl)
    return;
  kapi__strmap_free(pl->prev, free);
  free(pl->items);
  free(pl);
}

static void collect(void *arg, const kapi_container_status *s)
{
  kl_pleg *pl = arg;
  item *it;
  if (pl->n == pl->cap) {
    size_t cap = pl->cap ? pl->cap * 2 : 256;
    item *v = realloc(pl->items, cap * sizeof *v);
    if (!v) {
      pl->oom = 1;
      return;
    }
    pl->items = v;
    pl->cap = cap;
  }
  it = &pl->items[pl->n++];
  snprintf(it->id, sizeof it->id, "%s", s->id ? s->id : "");
  snprintf(it->sandbox_id, sizeof it->sandbox_id, "%s",
           s->sandbox_id ? s->sandbox_id : "");
  it->state = s->state;
  it->started_at = s->started_at;
  it->finished_at = s->finished_at;
}

static size_t queue_owner(kl_pleg *pl, const char *sandbox_id)
{
  char uid[64];
  if (kl_sandbox_owner(pl->k, sandbox_id, uid, sizeof uid) < 0)
    return 0;
  kl_enqueue(pl->k, uid);
  return 1;
}

size_t kl_pleg_relist(kl_pleg *pl)
{
  kapi__strmap_iter it = {0};
  char **gone = NULL;
  size_t i, queued = 0, n_gone = 0, cap_gone = 0;

  pl->n = 0;
  pl->oom = 0;
  if (pl->k->rt->list_containers(pl->k->rt_st, collect, pl) < 0 || pl->oom) {
    LOG_WARN("PLEG: cannot list the runtime's containers");
    return 0;
  }
  pl->gen++;
  for (i = 0; i < pl->n; i++) {
    item *c = &pl->items[i];
    seen *s = kapi__strmap_get(pl->prev, c->id);
    if (!s) {
      s = calloc(1, sizeof *s);
      if (!s || kapi__strmap_put(pl->prev, c->id, s, NULL) < 0) {
        free(s);
        continue;
      }
      s->state = c->state;
      s->started_at = c->started_at;
      s->finished_at = c->finished_at;
      snprintf(s->sandbox_id, sizeof s->sandbox_id, "%s", c->sandbox_id);
      queued += queue_owner(pl, c->sandbox_id); /* ContainerStarted... */
    } else if (s->state != c->state || s->started_at != c->started_at ||
               s->finished_at != c->finished_at) {
      s->state = c->state; /* ContainerDied / ContainerChanged */
      s->started_at = c->started_at;
      s->finished_at = c->finished_at;
      queued += queue_owner(pl, c->sandbox_id);
    }
    s->gen = pl->gen;
  }
  /* ContainerRemoved: collected first, the map may not change while
   * iterated. */
  while (kapi__strmap_next(pl->prev, &it)) {
    seen *s = it.val;
    if (s->gen == pl->gen)
      continue;
    if (n_gone == cap_gone) {
      char **v = realloc(gone, (cap_gone = cap_gone ? cap_gone * 2 : 16) *
                                   sizeof *v);
      if (!v)
        break;
      gone = v;
    }
    gone[n_gone] = strdup(it.key);
    if (gone[n_gone])
      n_gone++;
  }
  for (i = 0; i < n_gone; i++) {
    void *old = NULL;
    if (kapi__strmap_remove(pl->prev, gone[i], &old) == 0) {
      queued += queue_owner(pl, ((seen *)old)->sandbox_id);
      free(old);
    }
    free(gone[i]);
  }
  free(gone);
  return queued;
}

void *kl_pleg_main(void *arg)
{
  kl *k = arg;
  kl_pleg *pl = kl_pleg_new(k);
  if (!pl) {
    LOG_ERROR("PLEG: out of memory");
    return NULL;
  }
  while (!kl_sleep(k, RELIST_NS)) {
    size_t n = kl_pleg_relist(pl);
    if (n)
      LOG_V(5, "PLEG: %zu pod(s) changed", n);
  }
  kl_pleg_free(pl);
  return NULL;
}
