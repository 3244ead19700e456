/*
 * pods.c - the kubelet's pod records: fed by the pod informer (upstream's
 * config source -> podManager), each change queues the pod's uid for
 * its worker.  Also the sandbox -> pod index the PLEG uses, and pod IPs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet.h"
#include "log.h"

void kl_enqueue(kl *k, const char *uid)
{
  kapi_workqueue_add(k->queue, uid);
}

void kl_schedule(kl *k, kl_pod *p, int64_t at_ns)
{
  pthread_mutex_lock(&k->mu);
  if (!p->next_sync_ns || at_ns < p->next_sync_ns)
    p->next_sync_ns = at_ns;
  pthread_mutex_unlock(&k->mu);
}

/* The restartCount each container had in the API, so that a kubelet
 * restart (which loses the runtime's containers) keeps counting. */
static void adopt_restarts(kl_pod *p, const kj *pod)
{
  size_t i, j;
  for (i = 0; i < p->n_ctrs; i++) {
    const kj *list = kj_ptr(pod, p->ctrs[i].init
                                     ? "/status/initContainerStatuses"
                                     : "/status/containerStatuses");
    p->base_restarts[i] = -1;
    for (j = 0; j < kj_len(list); j++) {
      const kj *s = kj_at(list, j);
      int64_t n = 0;
      if (!kj_get_str(s, "name") || strcmp(kj_get_str(s, "name"),
                                           p->ctrs[i].name) ||
          !kj_get_str(s, "containerID"))
        continue;
      kj_to_int(kj_get(s, "restartCount"), &n);
      p->base_restarts[i] = (int32_t)n;
    }
  }
}

static kl_pod *record_new(kl_node *n, const kj *pod, const char *uid)
{
  kl_pod *p = calloc(1, sizeof *p);
  const char *name = kj_str(kj_ptr(pod, "/metadata/name"));
  const char *ns = kj_str(kj_ptr(pod, "/metadata/namespace"));

  if (!p || kl_ctrs_from_spec(pod, &p->ctrs, &p->n_ctrs) < 0) {
    free(p);
    return NULL;
  }
  p->base_restarts = calloc(p->n_ctrs ? p->n_ctrs : 1,
                            sizeof *p->base_restarts);
  if (!p->base_restarts) {
    kl_pod_free(p);
    return NULL;
  }
  adopt_restarts(p, pod);
  snprintf(p->uid, sizeof p->uid, "%s", uid);
  snprintf(p->name, sizeof p->name, "%s", name ? name : "");
  snprintf(p->ns, sizeof p->ns, "%s", ns ? ns : "");
  p->node = n;
  return p;
}

void kl_pod_free(kl_pod *p)
{
  if (!p)
    return;
  kapi_cobj_unref(p->pod);
  kj_free(p->status);
  free(p->ctrs);
  free(p->base_restarts);
  free(p);
}

/* ADD / UPDATE: the newest object wins (upstream's pod workers keep only
 * the latest pending update). */
static void on_change(void *arg, kapi_cobj *o)
{
  kl *k = arg;
  const char *uid = kj_str(kj_ptr(o->obj, "/metadata/uid"));
  const char *node = kj_str(kj_ptr(o->obj, "/spec/nodeName"));
  kl_node *n;
  kl_pod *p;

  if (!uid || !node)
    return;
  /* Mirror pods are the API's view of static pods, never run. */
  if (kl_static_is_mirror(o->obj)) {
    kl_static_mirror_event(k, o->obj);
    return;
  }
  pthread_mutex_lock(&k->mu);
  p = kapi__strmap_get(k->pods, uid);
  if (!p) {
    n = kapi__strmap_get(k->nodes, node);
    if (!n) {
      pthread_mutex_unlock(&k->mu);
      return; /* another node's pod (hollow informers see them all) */
    }
    p = record_new(n, o->obj, uid);
    if (!p || kapi__strmap_put(k->pods, uid, p, NULL) < 0) {
      pthread_mutex_unlock(&k->mu);
      kl_pod_free(p);
      LOG_ERROR("out of memory tracking pod %s", o->key);
      return;
    }
    n->pods++;
    LOG_V(2, "SyncLoop ADD pod=\"%s\" node=\"%s\"", o->key, node);
  }
  kapi_cobj_unref(p->pod);
  p->pod = kapi_cobj_ref(o);
  pthread_mutex_unlock(&k->mu);
  kl_enqueue(k, uid);
}

static void on_add(void *arg, kapi_cobj *o)
{
  on_change(arg, o);
}

static void on_update(void *arg, kapi_cobj *old, kapi_cobj *o)
{
  (void)old;
  on_change(arg, o);
}

/* REMOVE: the object is gone from the API (finally deleted, or force
 * deleted): whatever still runs is killed and the record dropped. */
static void on_delete(void *arg, kapi_cobj *o)
{
  kl *k = arg;
  const char *uid = kj_str(kj_ptr(o->obj, "/metadata/uid"));
  kl_pod *p;
  if (!uid)
    return;
  if (kl_static_is_mirror(o->obj)) {
    kl_static_mirror_event(k, o->obj);
    return;
  }
  pthread_mutex_lock(&k->mu);
  p = kapi__strmap_get(k->pods, uid);
  if (p) {
    p->removed = 1;
    kapi_cobj_unref(p->pod);
    p->pod = kapi_cobj_ref(o);
  }
  pthread_mutex_unlock(&k->mu);
  if (p) {
    LOG_V(2, "SyncLoop REMOVE pod=\"%s\"", o->key);
    kl_enqueue(k, uid);
  }
}

const kapi_event_handler kl_pod_handler = {
    .on_add = on_add,
    .on_update = on_update,
    .on_delete = on_delete,
};

void kl_pod_forget(kl *k, kl_pod *p)
{
  void *old = NULL;
  pthread_mutex_lock(&k->mu);
  if (kapi__strmap_remove(k->pods, p->uid, &old) == 0 && old == p)
    p->node->pods--;
  pthread_mutex_unlock(&k->mu);
  kl_pod_free(p);
}

/* ---- sandboxes -------------------------------------------------------------- */

int kl_sandbox_owner(kl *k, const char *sandbox_id, char *buf, size_t len)
{
  const char *uid;
  int rc = -ENOENT;
  pthread_mutex_lock(&k->mu);
  uid = kapi__strmap_get(k->sandboxes, sandbox_id);
  if (uid) {
    snprintf(buf, len, "%s", uid);
    rc = 0;
  }
  pthread_mutex_unlock(&k->mu);
  return rc;
}

void kl_sandbox_register(kl *k, const char *sandbox_id, const char *uid)
{
  char *copy = strdup(uid);
  void *old = NULL;
  pthread_mutex_lock(&k->mu);
  if (!copy || kapi__strmap_put(k->sandboxes, sandbox_id, copy, &old) < 0)
    free(copy);
  pthread_mutex_unlock(&k->mu);
  free(old);
}

void kl_sandbox_forget(kl *k, const char *sandbox_id)
{
  void *old = NULL;
  pthread_mutex_lock(&k->mu);
  kapi__strmap_remove(k->sandboxes, sandbox_id, &old);
  pthread_mutex_unlock(&k->mu);
  free(old);
}

/* ---- pod IPs ---------------------------------------------------------------------- */

/*
 * The process runtime runs pods in the host's network: 127.0.0.1.
 * Others (hollow nodes) get 10.(64 + i/256).(i%256).S for node i and a
 * free slot S in 1..254, unique within the process.
 */
void kl_pod_ip_assign(kl *k, kl_pod *p)
{
  kl_node *n = p->node;
  int s;
  if (!k->fake_ips) {
    snprintf(p->pod_ip, sizeof p->pod_ip, "127.0.0.1");
    return;
  }
  pthread_mutex_lock(&k->mu);
  for (s = 1; s < 255 && n->ip_used[s]; s++)
    ;
  if (s == 255)
    s = 1 + (int)(n->pods % 254); /* full: share, as a /24 would not */
  n->ip_used[s] = 1;
  pthread_mutex_unlock(&k->mu);
  p->ip_slot = s;
  snprintf(p->pod_ip, sizeof p->pod_ip, "10.%zu.%zu.%d",
           64 + n->index / 256 % 192, n->index % 256, s);
}

void kl_pod_ip_release(kl *k, kl_pod *p)
{
  if (!p->ip_slot)
    return;
  pthread_mutex_lock(&k->mu);
  p->node->ip_used[p->ip_slot] = 0;
  pthread_mutex_unlock(&k->mu);
  p->ip_slot = 0;
}
