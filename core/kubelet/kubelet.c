/*
 * kubelet.c - the kubelet process: building it, its threads (pod
 * workers, the sync loop's tickers, PLEG, heartbeats), and stopping it.
 *
 * Upstream: pkg/kubelet/kubelet.go (Run, syncLoop, syncLoopIteration:
 * configCh / plegCh / syncCh every 1 s / housekeepingCh every 2 s).
 * Here configCh is the pod informer's handlers and plegCh the PLEG
 * thread, both queueing uids directly; the loop thread is syncCh and
 * housekeepingCh.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "kubelet.h"
#include "log.h"
#include "logserver.h"
#include "nodestatus.h"

#define SYNC_TICK_NS KL_NS_PER_S
#define HOUSEKEEPING_TICKS 2 /* housekeeping every 2 s */

static const kapi_gvr pods_gvr = {"", "v1", "pods", 1};

int64_t kl_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * KL_NS_PER_S + ts.tv_nsec;
}

int kl_mkdirs(const char *path)
{
  char buf[4096], *s;
  snprintf(buf, sizeof buf, "%s", path);
  for (s = buf + 1; *s; s++)
    if (*s == '/') {
      *s = '\0';
      if (mkdir(buf, 0755) < 0 && errno != EEXIST)
        return -errno;
      *s = '/';
    }
  return mkdir(buf, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

int kl_sleep(kl *k, int64_t ns)
{
  struct timespec ts;
  int64_t until;
  pthread_mutex_lock(&k->stop_mu);
  clock_gettime(CLOCK_REALTIME, &ts);
  until = (int64_t)ts.tv_sec * KL_NS_PER_S + ts.tv_nsec + (ns > 0 ? ns : 0);
  ts.tv_sec = until / KL_NS_PER_S;
  ts.tv_nsec = until % KL_NS_PER_S;
  while (!k->stopping && ns > 0 &&
         pthread_cond_timedwait(&k->stop_cv, &k->stop_mu, &ts) == 0)
    ;
  pthread_mutex_unlock(&k->stop_mu);
  return k->stopping;
}

/* ---- building ----------------------------------------------------------------- */

static int make_nodes(kl *k, char *err, size_t errlen)
{
  size_t i, n = k->opt.hollow > 0 ? (size_t)k->opt.hollow : 1;
  const char *base = k->opt.hostname && *k->opt.hostname
                         ? k->opt.hostname
                         : k->machine.hostname;
  k->node = calloc(n, sizeof *k->node);
  if (!k->node)
    return -ENOMEM;
  k->n_nodes = n;
  for (i = 0; i < n; i++) {
    kl_node *nd = &k->node[i];
    nd->kl = k;
    nd->index = i;
    if (k->opt.hollow > 0) {
      snprintf(nd->name, sizeof nd->name, "%.230s-%zu", base, i);
      /* Hollow nodes' own addresses, beside their pods' 10.64+. */
      snprintf(nd->internal_ip, sizeof nd->internal_ip, "10.%zu.%zu.1",
               i / 256 % 64, i % 256);
    } else {
      snprintf(nd->name, sizeof nd->name, "%s", base);
      /* The apiserver reaches the kubelet server at the InternalIP: a
       * server bound to one address makes it the node's address. */
      const char *addr = k->opt.address ? k->opt.address : "127.0.0.1";
      snprintf(nd->internal_ip, sizeof nd->internal_ip, "%s",
               k->opt.node_ip && *k->opt.node_ip ? k->opt.node_ip
               : strcmp(addr, "0.0.0.0")          ? addr
                                                  : k->machine.internal_ip);
    }
    if (kapi__strmap_put(k->nodes, nd->name, nd, NULL) != 0) {
      snprintf(err, errlen, "duplicate or invalid node name %s", nd->name);
      return -EINVAL;
    }
  }
  return 0;
}

int kl_new(const kl_options *opt, kapi_client *client,
           const kapi_runtime_ops *rt, void *rt_st, kl **ret, char *err,
           size_t errlen)
{
  kl *k = calloc(1, sizeof *k);
  int rc;

  if (!k)
    return -ENOMEM;
  k->opt = *opt;
  k->client = client;
  k->rt = rt;
  k->rt_st = rt_st;
  k->fake_ips = strcmp(opt->runtime, "process") != 0;
  pthread_mutex_init(&k->mu, NULL);
  pthread_mutex_init(&k->stop_mu, NULL);
  pthread_cond_init(&k->stop_cv, NULL);
  kl_machine_read(&k->machine, opt->root_dir);
  k->pods = kapi__strmap_new();
  k->nodes = kapi__strmap_new();
  k->sandboxes = kapi__strmap_new();
  k->backoff = kl_backoff_new(KL_BACKOFF_INITIAL, KL_BACKOFF_MAX);
  k->queue = kapi_workqueue_new("kubelet-pods");
  if (!k->pods || !k->nodes || !k->sandboxes || !k->backoff || !k->queue) {
    kl_free(k);
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
  }
  rc = make_nodes(k, err, errlen);
  if (rc < 0) {
    kl_free(k);
    return rc;
  }
  *ret = k;
  return 0;
}

/* ---- threads -------------------------------------------------------------------- */

static void *worker_main(void *arg)
{
  kl *k = arg;
  char *uid;
  while (kapi_workqueue_get(k->queue, &uid) == 0) {
    kl_sync(k, uid);
    kapi_workqueue_done(k->queue, uid);
    free(uid);
  }
  return NULL;
}

/* syncCh: the pods whose resync time has come.  housekeepingCh: back-off
 * GC and records whose cleanup has yet to succeed. */
static void *loop_main(void *arg)
{
  kl *k = arg;
  unsigned tick = 0;
  while (!kl_sleep(k, SYNC_TICK_NS)) {
    int64_t now = kl_now_ns();
    int housekeeping = ++tick % HOUSEKEEPING_TICKS == 0;
    kapi__strmap_iter it = {0};
    pthread_mutex_lock(&k->mu);
    while (kapi__strmap_next(k->pods, &it)) {
      kl_pod *p = it.val;
      if ((p->next_sync_ns && p->next_sync_ns <= now) ||
          (housekeeping && p->removed)) {
        p->next_sync_ns = 0;
        kapi_workqueue_add(k->queue, p->uid);
      }
    }
    pthread_mutex_unlock(&k->mu);
    if (housekeeping)
      kl_backoff_gc(k->backoff, now);
  }
  return NULL;
}

static int spawn(kl *k, void *(*fn)(void *), void *arg)
{
  pthread_t *v = realloc(k->threads, (k->n_threads + 1) * sizeof *v);
  if (!v)
    return -ENOMEM;
  k->threads = v;
  if (pthread_create(&v[k->n_threads], NULL, fn, arg) != 0)
    return -EAGAIN;
  k->n_threads++;
  return 0;
}

int kl_start(kl *k, char *err, size_t errlen)
{
  kapi_informer_options io = {0};
  char selector[320];
  int workers = k->opt.workers, i, rc = 0;
  size_t h;

  /* Hollow nodes share one informer over every bound pod; a node
   * watches its own. */
  if (k->opt.hollow > 0)
    snprintf(selector, sizeof selector, "spec.nodeName!=");
  else
    snprintf(selector, sizeof selector, "spec.nodeName=%s", k->node[0].name);
  io.field_selector = selector;
  k->informer = kapi_informer_new(k->client, &pods_gvr, NULL, &io);
  if (!k->informer ||
      kapi_informer_add_handler(k->informer, &kl_pod_handler, k) < 0) {
    snprintf(err, errlen, "cannot create the pod informer");
    return -ENOMEM;
  }
  k->recorder = kapi_recorder_new(k->client, "kubelet",
                                  k->opt.hollow > 0 ? NULL : k->node[0].name);
  /* Before the nodes register: they report the bound port.  Like
   * upstream's --port 0 the server is optional: a taken port costs the
   * logs, not the node. */
  k->kubelet_port = k->opt.port; /* hollow nodes: what they would use */
  if (k->opt.hollow <= 0) {
    const char *addr = k->opt.address ? k->opt.address : "127.0.0.1";
    char serr[256];
    if (kl_logserver_start(k, addr, k->opt.port, &k->logserver, serr,
                           sizeof serr) < 0)
      LOG_ERROR("kubelet server disabled: %s", serr);
    else
      LOG_INFO("kubelet server listening on %s:%d", addr,
               k->kubelet_port = kl_logserver_port(k->logserver));
  }

  /* Nodes first, so that their pods have somewhere to be scheduled. */
  k->n_beats = k->n_nodes < 100 ? 1 : (k->n_nodes < 800 ? 4 : 8);
  k->beats = calloc(k->n_beats, sizeof *k->beats);
  if (!k->beats)
    return -ENOMEM;
  for (h = 0; h < k->n_beats && rc == 0; h++) {
    k->beats[h] = (kl_heartbeat){k, h, k->n_beats};
    rc = spawn(k, kl_heartbeat_main, &k->beats[h]);
  }
  /* A worker stopping a container waits up to its grace period: with
   * real processes there must be room for a few of those. */
  if (workers <= 0)
    workers = 8;
  for (i = 0; i < workers && rc == 0; i++)
    rc = spawn(k, worker_main, k);
  if (rc == 0)
    rc = spawn(k, kl_pleg_main, k);
  if (rc == 0)
    rc = spawn(k, loop_main, k);
  if (rc == 0 && k->opt.pod_manifest_path &&
      (rc = kl_static_new(k, k->opt.pod_manifest_path,
                          k->opt.file_check_ns, &k->statics)) == 0)
    rc = spawn(k, kl_static_main, k->statics);
  if (rc == 0)
    rc = kapi_informer_start(k->informer);
  if (rc < 0)
    snprintf(err, errlen, "cannot start the kubelet's threads: %s",
             strerror(-rc));
  return rc;
}

void kl_stop(kl *k)
{
  size_t i;
  pthread_mutex_lock(&k->stop_mu);
  k->stopping = 1;
  pthread_cond_broadcast(&k->stop_cv);
  pthread_mutex_unlock(&k->stop_mu);
  kl_logserver_stop(k->logserver);
  k->logserver = NULL;
  if (k->informer)
    kapi_informer_stop(k->informer);
  kapi_workqueue_shutdown(k->queue);
  for (i = 0; i < k->n_threads; i++)
    pthread_join(k->threads[i], NULL);
  k->n_threads = 0;
}

static void free_pod(void *p)
{
  kl_pod_free(p);
}

void kl_free(kl *k)
{
  size_t i;
  if (!k)
    return;
  if (k->informer)
    kapi_informer_free(k->informer);
  if (k->recorder)
    kapi_recorder_free(k->recorder);
  kl_static_free(k->statics);
  kapi__strmap_free(k->pods, free_pod);
  kapi__strmap_free(k->sandboxes, free);
  kapi__strmap_free(k->nodes, NULL);
  for (i = 0; i < k->n_nodes; i++) {
    kj_free(k->node[i].last_status);
    kj_free(k->node[i].lease);
  }
  free(k->node);
  if (k->queue)
    kapi_workqueue_free(k->queue);
  kl_backoff_free(k->backoff);
  free(k->threads);
  free(k->beats);
  pthread_cond_destroy(&k->stop_cv);
  pthread_mutex_destroy(&k->stop_mu);
  pthread_mutex_destroy(&k->mu);
  free(k);
}
