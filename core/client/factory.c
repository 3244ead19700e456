/*
 * factory.c - upstream's SharedInformerFactory: one informer per
 * (resource type, namespace, selectors), shared by every controller of
 * the process, so each type is listed and watched once however many
 * controllers look at it.
 *
 * As upstream, start() starts the informers not yet started and may be
 * called again after more get()s.
 */
#include "informer.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct entry {
  char *group, *version, *resource, *ns, *label, *field;
  int64_t page_size;
  kapi_informer *inf;
  int started;
} entry;

struct kapi_informer_factory {
  kapi_client *client;
  int resync_seconds;
  pthread_mutex_t mu;
  entry *v;
  size_t n, cap;
};

/* NULL and "" are the same (all namespaces, no selector). */
static int same(const char *a, const char *b)
{
  return strcmp(a ? a : "", b ? b : "") == 0;
}

static char *dup(const char *s)
{
  return strdup(s ? s : "");
}

static void entry_free(entry *e)
{
  kapi_informer_free(e->inf);
  free(e->group);
  free(e->version);
  free(e->resource);
  free(e->ns);
  free(e->label);
  free(e->field);
}

kapi_informer_factory *kapi_informer_factory_new(kapi_client *c,
                                                 int resync_seconds)
{
  kapi_informer_factory *f = calloc(1, sizeof *f);

  if (!f)
    return NULL;
  f->client = c;
  f->resync_seconds = resync_seconds;
  pthread_mutex_init(&f->mu, NULL);
  return f;
}

static entry *find(kapi_informer_factory *f, const kapi_gvr *gvr,
                   const char *ns, const kapi_informer_options *o)
{
  for (size_t i = 0; i < f->n; i++) {
    entry *e = &f->v[i];

    if (same(e->group, gvr->group) && same(e->version, gvr->version) &&
        same(e->resource, gvr->resource) && same(e->ns, ns) &&
        same(e->label, o->label_selector) &&
        same(e->field, o->field_selector))
      return e;
  }
  return NULL;
}

static kapi_informer *create(kapi_informer_factory *f, const kapi_gvr *gvr,
                             const char *ns, const kapi_informer_options *o)
{
  kapi_informer_options io = *o;
  entry e = { 0 };

  if (f->n == f->cap) {
    size_t ncap = f->cap ? f->cap * 2 : 8;
    entry *nv = realloc(f->v, ncap * sizeof *nv);

    if (!nv)
      return NULL;
    f->v = nv;
    f->cap = ncap;
  }
  if (io.resync_seconds == 0)
    io.resync_seconds = f->resync_seconds;
  e.group = dup(gvr->group);
  e.version = dup(gvr->version);
  e.resource = dup(gvr->resource);
  e.ns = dup(ns);
  e.label = dup(o->label_selector);
  e.field = dup(o->field_selector);
  if (e.group && e.version && e.resource && e.ns && e.label && e.field)
    e.inf = kapi_informer_new(f->client, gvr, ns, &io);
  if (!e.inf) {
    entry_free(&e);
    return NULL;
  }
  f->v[f->n++] = e;
  return e.inf;
}

kapi_informer *kapi_informer_factory_get(kapi_informer_factory *f,
                                         const kapi_gvr *gvr, const char *ns,
                                         const kapi_informer_options *opts)
{
  kapi_informer_options none = { 0 };
  kapi_informer *inf;
  entry *e;

  if (!opts)
    opts = &none;
  pthread_mutex_lock(&f->mu);
  e = find(f, gvr, ns, opts);
  inf = e ? e->inf : create(f, gvr, ns, opts);
  pthread_mutex_unlock(&f->mu);
  return inf;
}

int kapi_informer_factory_start(kapi_informer_factory *f)
{
  int r = 0;

  pthread_mutex_lock(&f->mu);
  for (size_t i = 0; i < f->n; i++) {
    int ri;

    if (f->v[i].started)
      continue;
    ri = kapi_informer_start(f->v[i].inf);
    f->v[i].started = 1;
    if (ri < 0 && r == 0)
      r = ri;
  }
  pthread_mutex_unlock(&f->mu);
  return r;
}

static long long now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int kapi_informer_factory_wait_synced(kapi_informer_factory *f,
                                      int timeout_ms)
{
  long long deadline = now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
  kapi_informer **started;
  size_t n = 0;
  int r = 0;

  /* Wait outside mu: get() from other threads must not block on us. */
  pthread_mutex_lock(&f->mu);
  started = calloc(f->n ? f->n : 1, sizeof *started);
  for (size_t i = 0; started && i < f->n; i++)
    if (f->v[i].started)
      started[n++] = f->v[i].inf;
  pthread_mutex_unlock(&f->mu);
  if (!started)
    return -ENOMEM;
  for (size_t i = 0; r == 0 && i < n; i++) {
    long long left = deadline - now_ms();

    if (timeout_ms < 0)
      r = kapi_informer_wait_synced(started[i], -1);
    else
      r = kapi_informer_wait_synced(started[i], left > 0 ? (int)left : 0);
  }
  free(started);
  return r;
}

void kapi_informer_factory_free(kapi_informer_factory *f)
{
  if (!f)
    return;
  /* Stop all first, so none keeps delivering while others are freed
   * (handlers of one may look into another's cache). */
  for (size_t i = 0; i < f->n; i++)
    kapi_informer_request_stop(f->v[i].inf);
  for (size_t i = 0; i < f->n; i++)
    kapi_informer_stop(f->v[i].inf);
  for (size_t i = 0; i < f->n; i++)
    entry_free(&f->v[i]);
  free(f->v);
  pthread_mutex_destroy(&f->mu);
  free(f);
}
