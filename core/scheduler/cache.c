/*
 * cache.c - the scheduler cache: nodes, assigned and assumed pods
 * (upstream's backend/cache/cache.go), with copy-on-write node infos
 * so that snapshots are cheap.
 */
#include "cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "strmap.h"

/* A node the cache knows, from its Node object or only from pods that
 * name it (then it is left out of snapshots). */
typedef struct node_entry {
  kapi_node_info *ni;
  int listed; /* in `order` (has a Node object) */
} node_entry;

typedef struct pod_state {
  kapi_cobj *pod;
  char *node;
  int assumed;
  int binding_finished;
  int64_t deadline; /* ns; when an assumed pod expires */
} pod_state;

struct kapi_sched_cache {
  pthread_mutex_t mu;
  kapi__strmap *nodes; /* name -> node_entry */
  node_entry **order;  /* listed nodes, in the order they were added */
  size_t n_order, cap_order;
  kapi__strmap *pods;  /* "ns/name" -> pod_state */
  int64_t ttl;
};

static void node_entry_free(void *p)
{
  node_entry *e = p;

  kapi_ni_unref(e->ni);
  free(e);
}

static void pod_state_free(void *p)
{
  pod_state *s = p;

  kapi_cobj_unref(s->pod);
  free(s->node);
  free(s);
}

kapi_sched_cache *kapi_scache_new(int64_t assumed_ttl_ns)
{
  kapi_sched_cache *c = calloc(1, sizeof *c);

  if (!c)
    return NULL;
  c->nodes = kapi__strmap_new();
  c->pods = kapi__strmap_new();
  if (!c->nodes || !c->pods) {
    kapi__strmap_free(c->nodes, NULL);
    kapi__strmap_free(c->pods, NULL);
    free(c);
    return NULL;
  }
  pthread_mutex_init(&c->mu, NULL);
  c->ttl = assumed_ttl_ns;
  return c;
}

void kapi_scache_free(kapi_sched_cache *c)
{
  if (!c)
    return;
  kapi__strmap_free(c->nodes, node_entry_free);
  kapi__strmap_free(c->pods, pod_state_free);
  free(c->order);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

/* ---- node entries (cache lock held) -------------------------------- */

static node_entry *entry_get_or_create(kapi_sched_cache *c, const char *name)
{
  node_entry *e = kapi__strmap_get(c->nodes, name);

  if (e)
    return e;
  e = calloc(1, sizeof *e);
  if (!e || !(e->ni = kapi_ni_new(name))) {
    free(e);
    return NULL;
  }
  if (kapi__strmap_put(c->nodes, name, e, NULL) < 0) {
    node_entry_free(e);
    return NULL;
  }
  return e;
}

/*
 * The entry's info, safe to change: a snapshot may still hold the
 * current one, so it is copied first (copy-on-write).  Only snapshots
 * take references, and only under the cache lock, so refs == 1 here
 * means nobody else can see it.
 */
static kapi_node_info *writable(node_entry *e)
{
  kapi_node_info *copy;

  if (__atomic_load_n(&e->ni->refs, __ATOMIC_ACQUIRE) == 1)
    return e->ni;
  copy = kapi_ni_clone(e->ni);
  if (!copy)
    return NULL;
  kapi_ni_unref(e->ni);
  e->ni = copy;
  return copy;
}

static int list_entry(kapi_sched_cache *c, node_entry *e)
{
  if (e->listed)
    return 0;
  if (c->n_order == c->cap_order) {
    size_t cap = c->cap_order ? c->cap_order * 2 : 64;
    node_entry **v = realloc(c->order, cap * sizeof *v);
    if (!v)
      return -ENOMEM;
    c->order = v;
    c->cap_order = cap;
  }
  c->order[c->n_order++] = e;
  e->listed = 1;
  return 0;
}

static void unlist_entry(kapi_sched_cache *c, node_entry *e)
{
  for (size_t i = 0; i < c->n_order; i++) {
    if (c->order[i] != e)
      continue;
    memmove(&c->order[i], &c->order[i + 1],
            (c->n_order - i - 1) * sizeof *c->order);
    c->n_order--;
    break;
  }
  e->listed = 0;
}

/* Frees an entry that has neither a Node nor pods any more. */
static void drop_if_empty(kapi_sched_cache *c, node_entry *e)
{
  if (e->listed || e->ni->node || e->ni->n_pods)
    return;
  kapi__strmap_remove(c->nodes, e->ni->name, NULL);
  node_entry_free(e);
}

/* ---- nodes ------------------------------------------------------------ */

int kapi_scache_add_node(kapi_sched_cache *c, kapi_cobj *node)
{
  const char *name = kj_get_str(kj_get(node->obj, "metadata"), "name");
  node_entry *e;
  kapi_node_info *ni;
  int r = -ENOMEM;

  if (!name)
    return -EINVAL;
  pthread_mutex_lock(&c->mu);
  e = entry_get_or_create(c, name);
  if (e && (ni = writable(e))) {
    kapi_ni_set_node(ni, node);
    r = list_entry(c, e);
  }
  pthread_mutex_unlock(&c->mu);
  return r;
}

int kapi_scache_remove_node(kapi_sched_cache *c, const char *name)
{
  node_entry *e;
  kapi_node_info *ni;
  int r = -ENOENT;

  pthread_mutex_lock(&c->mu);
  e = kapi__strmap_get(c->nodes, name);
  if (e) {
    unlist_entry(c, e);
    /* Pods stay accounted to the name until they are deleted too
     * (upstream keeps such a "ghost" node info the same way). */
    ni = writable(e);
    if (ni)
      kapi_ni_set_node(ni, NULL);
    drop_if_empty(c, e);
    r = 0;
  }
  pthread_mutex_unlock(&c->mu);
  return r;
}

/* ---- pods (cache lock held) ------------------------------------------ */

static int place_pod(kapi_sched_cache *c, const char *node, kapi_cobj *pod)
{
  node_entry *e = entry_get_or_create(c, node);
  kapi_node_info *ni = e ? writable(e) : NULL;

  return ni ? kapi_ni_add_pod(ni, pod) : -ENOMEM;
}

static void unplace_pod(kapi_sched_cache *c, const char *node,
                        const char *key)
{
  node_entry *e = kapi__strmap_get(c->nodes, node);
  kapi_node_info *ni = e ? writable(e) : NULL;

  if (!ni)
    return;
  kapi_ni_remove_pod(ni, key);
  drop_if_empty(c, e);
}

static const char *node_name_of(const kapi_cobj *pod)
{
  const char *n = kj_get_str(kj_get(pod->obj, "spec"), "nodeName");

  return n && *n ? n : NULL;
}

/* Records `pod` on its node as `key`; replaces what was there. */
static int put_pod(kapi_sched_cache *c, kapi_cobj *pod, int assumed)
{
  const char *node = node_name_of(pod);
  pod_state *s;
  int r;

  if (!node)
    return -EINVAL;
  s = kapi__strmap_get(c->pods, pod->key);
  if (s) {
    unplace_pod(c, s->node, pod->key);
    kapi__strmap_remove(c->pods, pod->key, NULL);
    pod_state_free(s);
  }
  s = calloc(1, sizeof *s);
  if (!s || !(s->node = strdup(node))) {
    free(s);
    return -ENOMEM;
  }
  s->pod = kapi_cobj_ref(pod);
  s->assumed = assumed;
  r = place_pod(c, node, pod);
  if (r == 0)
    r = kapi__strmap_put(c->pods, pod->key, s, NULL);
  if (r < 0) {
    unplace_pod(c, node, pod->key);
    pod_state_free(s);
    return r;
  }
  return 0;
}

static void drop_pod(kapi_sched_cache *c, pod_state *s, const char *key)
{
  unplace_pod(c, s->node, key);
  kapi__strmap_remove(c->pods, key, NULL);
  pod_state_free(s);
}

/* ---- pods -------------------------------------------------------------- */

/*
 * The informer saw a bound pod.  If it was assumed, this confirms it
 * (the informer's object replaces ours; the node may even differ when
 * someone else bound it).
 */
int kapi_scache_add_pod(kapi_sched_cache *c, kapi_cobj *pod)
{
  int r;

  pthread_mutex_lock(&c->mu);
  r = put_pod(c, pod, 0);
  pthread_mutex_unlock(&c->mu);
  return r;
}

int kapi_scache_update_pod(kapi_sched_cache *c, kapi_cobj *old,
                           kapi_cobj *pod)
{
  (void)old; /* the cache keeps its own record of where the pod was */
  return kapi_scache_add_pod(c, pod);
}

int kapi_scache_remove_pod(kapi_sched_cache *c, kapi_cobj *pod)
{
  pod_state *s;
  int r = -ENOENT;

  pthread_mutex_lock(&c->mu);
  s = kapi__strmap_get(c->pods, pod->key);
  if (s) {
    drop_pod(c, s, pod->key);
    r = 0;
  }
  pthread_mutex_unlock(&c->mu);
  return r;
}

int kapi_scache_assume_pod(kapi_sched_cache *c, kapi_cobj *pod)
{
  int r;

  pthread_mutex_lock(&c->mu);
  if (kapi__strmap_find(c->pods, pod->key, NULL))
    r = -EEXIST;
  else
    r = put_pod(c, pod, 1);
  pthread_mutex_unlock(&c->mu);
  return r;
}

int kapi_scache_finish_binding(kapi_sched_cache *c, const char *key,
                               int64_t now)
{
  pod_state *s;
  int r = -ENOENT;

  pthread_mutex_lock(&c->mu);
  s = kapi__strmap_get(c->pods, key);
  if (s && s->assumed) {
    s->binding_finished = 1;
    s->deadline = now + c->ttl;
    r = 0;
  }
  pthread_mutex_unlock(&c->mu);
  return r;
}

int kapi_scache_forget_pod(kapi_sched_cache *c, const char *key)
{
  pod_state *s;
  int r = -ENOENT;

  pthread_mutex_lock(&c->mu);
  s = kapi__strmap_get(c->pods, key);
  if (s && s->assumed) {
    drop_pod(c, s, key);
    r = 0;
  }
  pthread_mutex_unlock(&c->mu);
  return r;
}

int kapi_scache_is_assumed(kapi_sched_cache *c, const char *key)
{
  pod_state *s;
  int r;

  pthread_mutex_lock(&c->mu);
  s = kapi__strmap_get(c->pods, key);
  r = s && s->assumed;
  pthread_mutex_unlock(&c->mu);
  return r;
}

size_t kapi_scache_cleanup_expired(kapi_sched_cache *c, int64_t now)
{
  kapi__strmap_iter it = {0};
  char **expired = NULL;
  size_t n = 0, cap = 0, i;

  if (c->ttl <= 0)
    return 0;
  pthread_mutex_lock(&c->mu);
  /* Keys first: the map may not change while iterating. */
  while (kapi__strmap_next(c->pods, &it)) {
    pod_state *s = it.val;
    if (!s->assumed || !s->binding_finished || now < s->deadline)
      continue;
    if (n == cap) {
      char **v = realloc(expired, (cap = cap ? cap * 2 : 8) * sizeof *v);
      if (!v)
        break;
      expired = v;
    }
    if (!(expired[n] = strdup(it.key)))
      break;
    n++;
  }
  for (i = 0; i < n; i++) {
    pod_state *s = kapi__strmap_get(c->pods, expired[i]);
    LOG_WARN("assumed pod %s expired: its binding was never observed",
             expired[i]);
    drop_pod(c, s, expired[i]);
    free(expired[i]);
  }
  pthread_mutex_unlock(&c->mu);
  free(expired);
  return n;
}

size_t kapi_scache_node_count(kapi_sched_cache *c)
{
  size_t n;

  pthread_mutex_lock(&c->mu);
  n = c->n_order;
  pthread_mutex_unlock(&c->mu);
  return n;
}

size_t kapi_scache_pod_count(kapi_sched_cache *c)
{
  size_t n;

  pthread_mutex_lock(&c->mu);
  n = kapi__strmap_len(c->pods);
  pthread_mutex_unlock(&c->mu);
  return n;
}

/* ---- snapshots ------------------------------------------------------- */

int kapi_scache_snapshot(kapi_sched_cache *c, kapi_snapshot *snap)
{
  size_t i;

  pthread_mutex_lock(&c->mu);
  if (snap->cap < c->n_order) {
    kapi_node_info **v = realloc(snap->nodes, c->n_order * sizeof *v);
    if (!v) {
      pthread_mutex_unlock(&c->mu);
      return -ENOMEM;
    }
    /* New slots start empty so the swap below can unref them. */
    memset(v + snap->n, 0, (c->n_order - snap->n) * sizeof *v);
    snap->nodes = v;
    snap->cap = c->n_order;
  }
  /* Only changed slots cost an atomic pair. */
  for (i = 0; i < c->n_order; i++) {
    kapi_node_info *cur = c->order[i]->ni;
    if (i < snap->n && snap->nodes[i] == cur)
      continue;
    if (i < snap->n)
      kapi_ni_unref(snap->nodes[i]);
    snap->nodes[i] = kapi_ni_ref(cur);
  }
  for (; i < snap->n; i++) {
    kapi_ni_unref(snap->nodes[i]);
    snap->nodes[i] = NULL;
  }
  snap->n = c->n_order;
  pthread_mutex_unlock(&c->mu);
  return 0;
}

kapi_node_info *kapi_snapshot_get(const kapi_snapshot *snap,
                                  const char *name)
{
  for (size_t i = 0; i < snap->n; i++)
    if (!strcmp(snap->nodes[i]->name, name))
      return snap->nodes[i];
  return NULL;
}

void kapi_snapshot_release(kapi_snapshot *snap)
{
  for (size_t i = 0; i < snap->n; i++)
    kapi_ni_unref(snap->nodes[i]);
  free(snap->nodes);
  memset(snap, 0, sizeof *snap);
}
