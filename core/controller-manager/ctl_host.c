/*
 * ctl_host.c - the controller part of the host API for
 * kapi-controller-manager (host_ext.h's kapi_ctl_host) and api_request.
 *
 * A plugin's kapi_ctl is one controller's context: its event recorder,
 * the queues it made and the workers it asked for.  Its kapi_inf handles
 * are the manager's wrappers around the factory's shared informers (one
 * per resource, all namespaces), so every controller reads the same
 * caches, as upstream's SharedInformerFactory.  kapi_ref is a kapi_cobj
 * and kapi_queue a kapi_workqueue, passed through as they are.
 *
 * Workers asked for during start are held back until every informer has
 * synced (upstream's WaitForCacheSync before Run's workers).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_host.h"
#include "controllers_flag.h"
#include "events.h"
#include "host_ext.h"
#include "json.h"
#include "log.h"
#include "status.h"
#include "workqueue.h"

/* A shared informer as plugins see it. */
struct kapi_inf {
  kapi_cm *cm;
  kapi_gvr gvr;            /* strings owned */
  kapi_informer *inf;      /* the factory's */
  struct kapi_inf *next;
};

/* An informer handler of a plugin, adapted to kapi_event_handler. */
typedef struct tramp {
  kapi_inf_handler h;      /* copied up to the plugin's size */
  void *arg;
  struct tramp *next;
} tramp;

typedef struct ctl_queue {
  kapi_workqueue *wq;
  struct ctl_queue *next;
} ctl_queue;

/* A ctl_run_workers request and, once launched, its threads. */
typedef struct workers {
  kapi_ctl *ctl;
  kapi_workqueue *q;
  int n, started;
  int (*sync)(void *st, const char *key);
  void *st;
  pthread_t *th;
  struct workers *next;
} workers;

struct kapi_ctl {
  kapi_cm *cm;
  char *name;
  const kapi_controller_ops *ops;
  void *st;
  kapi_recorder *rec;
  int started;             /* start succeeded: stop is owed */
  ctl_queue *queues;
  struct kapi_ctl *next;
};

struct kapi_cm {
  kapi_client *client;
  kapi_informer_factory *factory;
  char *host;
  pthread_mutex_t mu;      /* the lists below */
  struct kapi_inf *infs;
  tramp *tramps;
  kapi_ctl *ctls;
  workers *workers;
  int launched;            /* workers start as soon as asked */
  int stopped;
};

static kapi_cm *the_cm; /* for api_request, which has no context */

/* ---- discovery: is a resource namespaced? --------------------------------- */

/* The informer needs to know whether to list across namespaces; ask the
 * group version's resource list (default: namespaced). */
static int lookup_namespaced(kapi_client *c, const char *group,
                             const char *version, const char *resource)
{
  char path[512], *body = NULL;
  size_t len = 0, i;
  int code = 0, namespaced = 1;
  kj *list = NULL;
  char err[128];

  if (*group)
    snprintf(path, sizeof path, "/apis/%s/%s", group, version);
  else
    snprintf(path, sizeof path, "/api/%s", version);
  if (kapi_client_do(c, "GET", path, NULL, NULL, 0, &code, &body, &len) < 0 ||
      code != 200 || kj_parse(body, len, &list, err, sizeof err) < 0) {
    free(body);
    return 1;
  }
  for (i = 0; i < kj_len(kj_get(list, "resources")); i++) {
    const kj *r = kj_at(kj_get(list, "resources"), i);
    const char *name = kj_get_str(r, "name");
    if (name && !strcmp(name, resource)) {
      namespaced = kj_is_true(kj_get(r, "namespaced"));
      break;
    }
  }
  kj_free(list);
  free(body);
  return namespaced;
}

/* ---- informers ---------------------------------------------------------------- */

static kapi_inf *host_informer(kapi_ctl *c, const char *group,
                               const char *version, const char *resource)
{
  kapi_cm *cm = c ? c->cm : NULL;
  struct kapi_inf *i;

  if (!cm || !version || !resource)
    return NULL;
  group = group ? group : "";
  pthread_mutex_lock(&cm->mu);
  for (i = cm->infs; i; i = i->next)
    if (!strcmp(i->gvr.group, group) && !strcmp(i->gvr.version, version) &&
        !strcmp(i->gvr.resource, resource))
      break;
  if (!i && (i = calloc(1, sizeof *i))) {
    i->cm = cm;
    i->gvr.group = strdup(group);
    i->gvr.version = strdup(version);
    i->gvr.resource = strdup(resource);
    i->gvr.namespaced =
        lookup_namespaced(cm->client, group, version, resource);
    if (i->gvr.group && i->gvr.version && i->gvr.resource)
      i->inf = kapi_informer_factory_get(cm->factory, &i->gvr, NULL, NULL);
    if (!i->inf) {
      free((char *)i->gvr.group);
      free((char *)i->gvr.version);
      free((char *)i->gvr.resource);
      free(i);
      i = NULL;
    } else {
      i->next = cm->infs;
      cm->infs = i;
      LOG_V(2, "%s: informer for %s%s%s/%s", c->name, group, *group ? "/" : "",
            version, resource);
      /* Asked for after the others started: start it too (the asker
       * waits for its sync with inf_wait_synced). */
      if (cm->launched)
        kapi_informer_factory_start(cm->factory);
    }
  }
  pthread_mutex_unlock(&cm->mu);
  return i;
}

static void tramp_add(void *arg, kapi_cobj *o)
{
  tramp *t = arg;
  if (t->h.on_add)
    t->h.on_add(t->arg, o->obj);
}

static void tramp_update(void *arg, kapi_cobj *old, kapi_cobj *o)
{
  tramp *t = arg;
  if (t->h.on_update)
    t->h.on_update(t->arg, old->obj, o->obj);
}

static void tramp_delete(void *arg, kapi_cobj *o)
{
  tramp *t = arg;
  if (t->h.on_delete)
    t->h.on_delete(t->arg, o->obj);
}

static const kapi_event_handler tramp_handler = {
    .on_add = tramp_add,
    .on_update = tramp_update,
    .on_delete = tramp_delete,
};

static int host_inf_add_handler(kapi_inf *inf, const kapi_inf_handler *h,
                                void *arg)
{
  tramp *t;
  size_t n;
  int rc;

  if (!inf || !h)
    return -EINVAL;
  if (!(t = calloc(1, sizeof *t)))
    return -ENOMEM;
  /* A handler table from an older plugin is shorter: copy its prefix. */
  n = h->size < sizeof t->h ? h->size : sizeof t->h;
  memcpy(&t->h, h, n);
  t->h.size = sizeof t->h;
  t->arg = arg;
  rc = kapi_informer_add_handler(inf->inf, &tramp_handler, t);
  if (rc < 0) {
    free(t);
    return rc;
  }
  pthread_mutex_lock(&inf->cm->mu);
  t->next = inf->cm->tramps;
  inf->cm->tramps = t;
  pthread_mutex_unlock(&inf->cm->mu);
  return 0;
}

/* Every owner's uid: what the garbage collector finds dependents by. */
int kapi_index_by_owner_uid(const kj *obj, char ***ret, size_t *ret_n)
{
  const kj *refs = kj_ptr(obj, "/metadata/ownerReferences");
  size_t i, n = kj_len(refs), k = 0;
  char **v;

  *ret = NULL;
  *ret_n = 0;
  if (!n)
    return 0;
  if (!(v = calloc(n, sizeof *v)))
    return -ENOMEM;
  for (i = 0; i < n; i++) {
    const char *uid = kj_get_str(kj_at(refs, i), "uid");
    if (uid && !(v[k++] = strdup(uid))) {
      while (k--)
        free(v[k]);
      free(v);
      return -ENOMEM;
    }
  }
  *ret = v;
  *ret_n = k;
  return 0;
}

static int host_inf_add_index(kapi_inf *inf, const char *index)
{
  static const struct {
    const char *name;
    kapi_index_fn fn;
  } builtin[] = {
      {"namespace", kapi_index_by_namespace},
      {"nodeName", kapi_index_by_node_name},
      {"controllerUID", kapi_index_by_controller_uid},
      {"ownerUID", kapi_index_by_owner_uid},
  };
  size_t i;
  int rc;

  if (!inf || !index)
    return -EINVAL;
  for (i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
    if (!strcmp(builtin[i].name, index)) {
      rc = kapi_informer_add_index(inf->inf, index, builtin[i].fn);
      /* Controllers share informers: the second asker finds it there. */
      return rc == -EEXIST ? 0 : rc;
    }
  return -ENOENT;
}

static int host_inf_wait_synced(kapi_inf *inf, int timeout_ms)
{
  return inf ? kapi_informer_wait_synced(inf->inf, timeout_ms) : -EINVAL;
}

static int host_inf_get(kapi_inf *inf, const char *key, kapi_ref **ret)
{
  kapi_cobj *o = NULL;
  int rc;
  if (!inf || !key || !ret)
    return -EINVAL;
  rc = kapi_indexer_get(kapi_informer_indexer(inf->inf), key, &o);
  *ret = rc < 0 ? NULL : (kapi_ref *)o;
  return rc;
}

static int host_inf_list(kapi_inf *inf, const char *index, const char *value,
                         kapi_ref ***ret, size_t *ret_n)
{
  kapi_indexer *ix;
  kapi_cobj **v = NULL;
  size_t n = 0;
  int rc;

  if (!inf || !ret || !ret_n)
    return -EINVAL;
  ix = kapi_informer_indexer(inf->inf);
  rc = index ? kapi_indexer_by_index(ix, index, value ? value : "", &v, &n)
             : kapi_indexer_list(ix, &v, &n);
  *ret = rc < 0 ? NULL : (kapi_ref **)v;
  *ret_n = rc < 0 ? 0 : n;
  return rc;
}

static const kapi_obj *host_ref_obj(const kapi_ref *r)
{
  return r ? ((const kapi_cobj *)r)->obj : NULL;
}

static void host_ref_put(kapi_ref *r)
{
  kapi_cobj_unref((kapi_cobj *)r);
}

static void host_ref_array_put(kapi_ref **v, size_t n)
{
  kapi_cobj_array_free((kapi_cobj **)v, n);
}

/* ---- queues and workers ---------------------------------------------------- */

static kapi_queue *host_queue(kapi_ctl *c, const char *name)
{
  ctl_queue *q;
  if (!c || !(q = calloc(1, sizeof *q)))
    return NULL;
  if (!(q->wq = kapi_workqueue_new(name ? name : c->name))) {
    free(q);
    return NULL;
  }
  pthread_mutex_lock(&c->cm->mu);
  q->next = c->queues;
  c->queues = q;
  pthread_mutex_unlock(&c->cm->mu);
  return (kapi_queue *)q->wq;
}

static void host_queue_add(kapi_queue *q, const char *key)
{
  if (q && key)
    kapi_workqueue_add((kapi_workqueue *)q, key);
}

static void host_queue_add_after(kapi_queue *q, const char *key, int delay_ms)
{
  if (q && key)
    kapi_workqueue_add_after((kapi_workqueue *)q, key, delay_ms);
}

static void host_queue_add_rate_limited(kapi_queue *q, const char *key)
{
  if (q && key)
    kapi_workqueue_add_rate_limited((kapi_workqueue *)q, key);
}

static void host_queue_forget(kapi_queue *q, const char *key)
{
  if (q && key)
    kapi_workqueue_forget((kapi_workqueue *)q, key);
}

/* processNextWorkItem, until the queue shuts down. */
static void *worker_main(void *arg)
{
  workers *w = arg;
  char *key;

  while (kapi_workqueue_get(w->q, &key) == 0) {
    int rc = w->sync(w->st, key);
    if (rc < 0) {
      LOG_V(2, "%s: sync %s failed (%s), requeuing", w->ctl->name, key,
            strerror(-rc));
      kapi_workqueue_add_rate_limited(w->q, key);
    } else {
      kapi_workqueue_forget(w->q, key);
    }
    kapi_workqueue_done(w->q, key);
    free(key);
  }
  return NULL;
}

/* Caller holds cm->mu. */
static int launch_workers(workers *w)
{
  int i;
  if (!(w->th = calloc((size_t)w->n, sizeof *w->th)))
    return -ENOMEM;
  for (i = 0; i < w->n; i++) {
    if (pthread_create(&w->th[i], NULL, worker_main, w) != 0)
      break;
    w->started++;
  }
  LOG_V(1, "%s: started %d workers", w->ctl->name, w->started);
  return w->started ? 0 : -EAGAIN;
}

static int host_run_workers(kapi_ctl *c, kapi_queue *q, int n,
                            int (*sync)(void *st, const char *key), void *st)
{
  workers *w;
  int rc = 0;

  if (!c || !q || n <= 0 || !sync)
    return -EINVAL;
  if (!(w = calloc(1, sizeof *w)))
    return -ENOMEM;
  w->ctl = c;
  w->q = (kapi_workqueue *)q;
  w->n = n;
  w->sync = sync;
  w->st = st;
  pthread_mutex_lock(&c->cm->mu);
  w->next = c->cm->workers;
  c->cm->workers = w;
  if (c->cm->launched)
    rc = launch_workers(w);
  pthread_mutex_unlock(&c->cm->mu);
  return rc;
}

static void host_event(kapi_ctl *c, const kapi_obj *involved,
                       const char *type, const char *reason,
                       const char *message)
{
  if (c && c->rec && involved)
    kapi_recorder_eventf(c->rec, involved, type ? type : "Normal",
                         reason ? reason : "", "%s", message ? message : "");
}

static const kapi_ctl_host ctl_host = {
    .informer = host_informer,
    .inf_add_handler = host_inf_add_handler,
    .inf_add_index = host_inf_add_index,
    .inf_wait_synced = host_inf_wait_synced,
    .inf_get = host_inf_get,
    .inf_list = host_inf_list,
    .ref_obj = host_ref_obj,
    .ref_put = host_ref_put,
    .ref_array_put = host_ref_array_put,
    .queue = host_queue,
    .queue_add = host_queue_add,
    .queue_add_after = host_queue_add_after,
    .queue_add_rate_limited = host_queue_add_rate_limited,
    .queue_forget = host_queue_forget,
    .run_workers = host_run_workers,
    .event = host_event,
};

/* ---- api_request ---------------------------------------------------------- */

/* apimachinery's error kinds as the errno the host API promises. */
static int errno_of_status(int code, const char *reason)
{
  switch (code) {
  case 404: return -ENOENT;
  case 409: return reason && !strcmp(reason, "AlreadyExists") ? -EEXIST
                                                               : -EBUSY;
  case 401:
  case 403: return -EACCES;
  case 400:
  case 422: return -EINVAL;
  case 405: return -EOPNOTSUPP;
  default: return -EIO;
  }
}

int kapi_cm_api_request(kapi_client *c, const char *method, const char *path,
                        const char *content_type, const char *body,
                        kapi_obj **ret, kapi_error *e)
{
  char *out = NULL, perr[128];
  size_t len = 0;
  int code = 0, rc;
  kj *answer = NULL;

  if (ret)
    *ret = NULL;
  if (!c || !method || !path)
    return -EINVAL;
  rc = kapi_client_do(c, method, path, content_type, body,
                      body ? strlen(body) : 0, &code, &out, &len);
  if (code == 0) {
    if (e)
      kapi_error_setf(e, 503, "ServiceUnavailable", "%s %s: %s", method, path,
                      out && len ? out : strerror(rc < 0 ? -rc : EIO));
    free(out);
    return rc < 0 ? rc : -EIO;
  }
  if (out && len && kj_parse(out, len, &answer, perr, sizeof perr) < 0)
    answer = NULL;
  free(out);
  if (code >= 200 && code < 300) {
    if (ret)
      *ret = answer;
    else
      kj_free(answer);
    return 0;
  }
  rc = errno_of_status(code, kj_get_str(answer, "reason"));
  if (e) {
    const kj *causes = kj_ptr(answer, "/details/causes");
    const char *reason = kj_get_str(answer, "reason");
    const char *msg = kj_get_str(answer, "message");
    size_t i;
    kapi_error_setf(e, code, reason ? reason : "", "%s",
                    msg ? msg : "unknown error");
    for (i = 0; i < kj_len(causes); i++) {
      const kj *cause = kj_at(causes, i);
      kapi_error_add_cause(e, kj_get_str(cause, "reason"),
                           kj_get_str(cause, "message"),
                           kj_get_str(cause, "field"));
    }
  }
  /* The Status is the answer: plugins read its message and causes. */
  if (ret)
    *ret = answer;
  else
    kj_free(answer);
  return rc;
}

static int host_api_request(const char *method, const char *path,
                            const char *content_type, const char *body,
                            kapi_obj **ret, kapi_error *e)
{
  return kapi_cm_api_request(the_cm ? the_cm->client : NULL, method, path,
                             content_type, body, ret, e);
}

/* ---- lifecycle ------------------------------------------------------------------ */

kapi_cm *kapi_cm_new(kapi_client *client, kapi_informer_factory *factory,
                     const char *host)
{
  kapi_cm *cm = calloc(1, sizeof *cm);
  if (!cm)
    return NULL;
  cm->client = client;
  cm->factory = factory;
  cm->host = host ? strdup(host) : NULL;
  pthread_mutex_init(&cm->mu, NULL);
  return cm;
}

void kapi_cm_install(kapi_cm *cm)
{
  the_cm = cm;
  kapi_host_set_ctl(&ctl_host);
  kapi_host_set_api_request(host_api_request);
}

int kapi_cm_start_controller(kapi_cm *cm, const char *name,
                             const kapi_controller_ops *ops, void *st,
                             char *err, size_t errlen)
{
  kapi_ctl *c = calloc(1, sizeof *c);
  char component[128];
  kapi_error e;
  int rc;

  if (!c || !(c->name = strdup(name))) {
    free(c);
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
  }
  c->cm = cm;
  c->ops = ops;
  c->st = st;
  c->rec = kapi_recorder_new(
      cm->client, kapi_controller_component(name, component, sizeof component),
      cm->host);
  pthread_mutex_lock(&cm->mu);
  c->next = cm->ctls;
  cm->ctls = c;
  pthread_mutex_unlock(&cm->mu);
  if (!ops->start) {
    snprintf(err, errlen, "controller %s has no start", name);
    return -EINVAL;
  }
  kapi_error_init(&e);
  LOG_INFO("Starting controller %s", name);
  rc = ops->start(st, c, &e);
  if (rc < 0) {
    snprintf(err, errlen, "error starting controller %s: %s", name,
             kapi_error_isset(&e) && e.message ? e.message : strerror(-rc));
  } else {
    c->started = 1;
  }
  kapi_error_clear(&e);
  return rc < 0 ? rc : 0;
}

int kapi_cm_run(kapi_cm *cm, volatile int *stop)
{
  workers *w;
  int rc;

  rc = kapi_informer_factory_start(cm->factory);
  if (rc < 0)
    return rc;
  LOG_V(1, "waiting for caches to sync");
  while (kapi_informer_factory_wait_synced(cm->factory, 500) < 0)
    if (stop && *stop)
      return -ECANCELED;
  LOG_INFO("Caches are synced");
  pthread_mutex_lock(&cm->mu);
  cm->launched = 1;
  for (w = cm->workers; w; w = w->next)
    if (!w->th)
      launch_workers(w);
  pthread_mutex_unlock(&cm->mu);
  return 0;
}

void kapi_cm_stop(kapi_cm *cm)
{
  kapi_ctl *c;
  ctl_queue *q;
  workers *w;
  int i;

  if (!cm || cm->stopped)
    return;
  cm->stopped = 1;
  /* Workers first: they end when their queue shuts down... */
  for (c = cm->ctls; c; c = c->next)
    for (q = c->queues; q; q = q->next)
      kapi_workqueue_shutdown(q->wq);
  for (w = cm->workers; w; w = w->next)
    for (i = 0; i < w->started; i++)
      pthread_join(w->th[i], NULL);
  /* ...then the informers, so that no handler runs into a controller
   * whose state its stop frees. */
  kapi_informer_factory_free(cm->factory);
  cm->factory = NULL;
  for (c = cm->ctls; c; c = c->next)
    if (c->started && c->ops->stop) {
      c->ops->stop(c->st);
      c->started = 0;
    }
}

void kapi_cm_free(kapi_cm *cm)
{
  if (!cm)
    return;
  kapi_cm_stop(cm);
  if (the_cm == cm) {
    kapi_host_set_ctl(NULL);
    kapi_host_set_api_request(NULL);
    the_cm = NULL;
  }
  while (cm->workers) {
    workers *w = cm->workers;
    cm->workers = w->next;
    free(w->th);
    free(w);
  }
  while (cm->ctls) {
    kapi_ctl *c = cm->ctls;
    cm->ctls = c->next;
    while (c->queues) {
      ctl_queue *q = c->queues;
      c->queues = q->next;
      kapi_workqueue_free(q->wq);
      free(q);
    }
    kapi_recorder_free(c->rec);
    free(c->name);
    free(c);
  }
  while (cm->tramps) {
    tramp *t = cm->tramps;
    cm->tramps = t->next;
    free(t);
  }
  while (cm->infs) {
    struct kapi_inf *i = cm->infs;
    cm->infs = i->next;
    free((char *)i->gvr.group);
    free((char *)i->gvr.version);
    free((char *)i->gvr.resource);
    free(i);
  }
  pthread_mutex_destroy(&cm->mu);
  free(cm->host);
  free(cm);
}
