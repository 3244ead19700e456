/*
 * fake.c - the "fake" container runtime of hollow nodes.
 *
 * Upstream analogue: kubemark's hollow kubelet, which runs the real
 * kubelet against a fake CRI (pkg/kubelet/cri/remote/fake).  Nothing is
 * executed: a started container is "running" at once and stays so until
 * it is stopped.  For tests, a pod annotation makes containers exit right
 * after they start:
 *
 *   fake.kapi.io/exit-code: "1"          every container of the pod
 *   fake.kapi.io/exit-code-NAME: "0"     container NAME (wins)
 *
 * Everything is O(1) per container (hash tables keyed by id) so that one
 * process can host a thousand hollow nodes; list_containers is the only
 * call that walks everything, once per PLEG relist.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kapi/plugin.h"
#include "../common/runtime_util.h"

#define EXIT_CODE_ANNOTATION "fake.kapi.io/exit-code"

/* An entry of a hash table keyed by id; embedded first in what it holds. */
typedef struct entry {
  struct entry *next;
  char id[KAPI_ID_MAX];
} entry;

typedef struct table {
  entry **buckets;
  size_t n, mask; /* mask + 1 buckets, a power of two */
} table;

typedef struct sandbox {
  entry e;
  struct container *containers; /* linked through sb_next */
} sandbox;

typedef struct container {
  entry e;
  struct container *sb_next, **sb_prev;
  sandbox *sb;
  char name[64];
  rt_life life;
  int exits; /* exits right after start, with life.exit_code */
} container;

typedef struct fake_rt {
  pthread_mutex_t mu;
  table sandboxes, containers;
  uint64_t next_id;
} fake_rt;

/* ---- hash table -------------------------------------------------------- */

static size_t hash(const char *s)
{
  size_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static int table_grow(table *t)
{
  size_t i, nb = t->buckets ? (t->mask + 1) * 2 : 64;
  entry **b = calloc(nb, sizeof *b);
  if (!b)
    return -ENOMEM;
  for (i = 0; t->buckets && i <= t->mask; i++)
    while (t->buckets[i]) {
      entry *e = t->buckets[i];
      t->buckets[i] = e->next;
      e->next = b[hash(e->id) & (nb - 1)];
      b[hash(e->id) & (nb - 1)] = e;
    }
  free(t->buckets);
  t->buckets = b;
  t->mask = nb - 1;
  return 0;
}

static int table_put(table *t, entry *e)
{
  size_t i;
  if ((!t->buckets || t->n >= t->mask + 1) && table_grow(t) < 0)
    return -ENOMEM;
  i = hash(e->id) & t->mask;
  e->next = t->buckets[i];
  t->buckets[i] = e;
  t->n++;
  return 0;
}

static entry *table_get(const table *t, const char *id)
{
  entry *e;
  if (!t->buckets)
    return NULL;
  for (e = t->buckets[hash(id) & t->mask]; e; e = e->next)
    if (!strcmp(e->id, id))
      return e;
  return NULL;
}

static entry *table_del(table *t, const char *id)
{
  entry **pp, *e;
  if (!t->buckets)
    return NULL;
  for (pp = &t->buckets[hash(id) & t->mask]; (e = *pp); pp = &e->next)
    if (!strcmp(e->id, id)) {
      *pp = e->next;
      t->n--;
      return e;
    }
  return NULL;
}

/* ---- runtime ops ---------------------------------------------------------- */

static int run_pod_sandbox(void *st, const kapi_obj *pod, char *sandbox_id,
                           kapi_error *e)
{
  fake_rt *rt = st;
  sandbox *s = calloc(1, sizeof *s);
  (void)pod;
  if (!s) {
    api->error_set(e, 500, "InternalError", "out of memory");
    return -ENOMEM;
  }
  pthread_mutex_lock(&rt->mu);
  snprintf(s->e.id, sizeof s->e.id, "fake-sb-%llx",
           (unsigned long long)++rt->next_id);
  if (table_put(&rt->sandboxes, &s->e) < 0) {
    pthread_mutex_unlock(&rt->mu);
    free(s);
    api->error_set(e, 500, "InternalError", "out of memory");
    return -ENOMEM;
  }
  snprintf(sandbox_id, KAPI_ID_MAX, "%s", s->e.id);
  pthread_mutex_unlock(&rt->mu);
  return 0;
}

static void stop_locked(container *c, int64_t now)
{
  if (c->life.state == KAPI_CONTAINER_RUNNING ||
      c->life.state == KAPI_CONTAINER_CREATED) {
    c->life.state = KAPI_CONTAINER_EXITED;
    c->life.finished_at = now;
    c->life.exit_code = 0;
    c->life.reason = "Completed";
  }
}

static int stop_pod_sandbox(void *st, const char *sandbox_id)
{
  fake_rt *rt = st;
  sandbox *s;
  container *c;
  int64_t now = now_ns();
  pthread_mutex_lock(&rt->mu);
  s = (sandbox *)table_get(&rt->sandboxes, sandbox_id);
  for (c = s ? s->containers : NULL; c; c = c->sb_next)
    stop_locked(c, now);
  pthread_mutex_unlock(&rt->mu);
  return s ? 0 : -ENOENT;
}

static void unlink_container(container *c)
{
  *c->sb_prev = c->sb_next;
  if (c->sb_next)
    c->sb_next->sb_prev = c->sb_prev;
}

static int remove_pod_sandbox(void *st, const char *sandbox_id)
{
  fake_rt *rt = st;
  sandbox *s;
  pthread_mutex_lock(&rt->mu);
  s = (sandbox *)table_del(&rt->sandboxes, sandbox_id);
  while (s && s->containers) {
    container *c = s->containers;
    unlink_container(c);
    table_del(&rt->containers, c->e.id);
    free(c);
  }
  pthread_mutex_unlock(&rt->mu);
  if (!s)
    return -ENOENT;
  free(s);
  return 0;
}

/* The exit code the pod's annotations ask for, if any. */
static int wanted_exit(const kapi_obj *pod, const char *name, int32_t *code)
{
  const kapi_obj *ann = api->obj_lookup(pod, "/metadata/annotations");
  char key[128];
  const kapi_obj *v;
  int64_t n;
  snprintf(key, sizeof key, "%s-%s", EXIT_CODE_ANNOTATION, name);
  v = NULL;
  /* Annotation keys hold '/', so they are matched as object keys rather
   * than through a JSON pointer. */
  for (size_t i = 0; i < api->obj_len(ann); i++)
    if (!strcmp(api->obj_key(ann, i), key))
      v = api->obj_index(ann, i);
  for (size_t i = 0; !v && i < api->obj_len(ann); i++)
    if (!strcmp(api->obj_key(ann, i), EXIT_CODE_ANNOTATION))
      v = api->obj_index(ann, i);
  if (!v || !api->obj_get(v, ""))
    return 0;
  n = strtoll(api->obj_get(v, ""), NULL, 10);
  *code = (int32_t)n;
  return 1;
}

static int create_container(void *st, const char *sandbox_id,
                            const kapi_obj *pod, const kapi_obj *ctr,
                            const char *log_path, char *container_id,
                            kapi_error *e)
{
  fake_rt *rt = st;
  const char *name = api->obj_get(ctr, "/name");
  container *c = calloc(1, sizeof *c);
  sandbox *s;
  (void)log_path;

  if (!c || !name) {
    int rc = c ? -EINVAL : -ENOMEM;
    free(c);
    api->error_set(e, 500, "InternalError", "cannot create the container");
    return rc;
  }
  snprintf(c->name, sizeof c->name, "%s", name);
  c->exits = wanted_exit(pod, name, &c->life.exit_code);
  c->life.state = KAPI_CONTAINER_CREATED;
  c->life.created_at = now_ns();
  pthread_mutex_lock(&rt->mu);
  s = (sandbox *)table_get(&rt->sandboxes, sandbox_id);
  if (!s) {
    pthread_mutex_unlock(&rt->mu);
    free(c);
    return rt_sandbox_not_found(e, sandbox_id);
  }
  snprintf(c->e.id, sizeof c->e.id, "fake-%llx",
           (unsigned long long)++rt->next_id);
  if (table_put(&rt->containers, &c->e) < 0) {
    pthread_mutex_unlock(&rt->mu);
    free(c);
    api->error_set(e, 500, "InternalError", "out of memory");
    return -ENOMEM;
  }
  c->sb = s;
  c->sb_next = s->containers;
  if (c->sb_next)
    c->sb_next->sb_prev = &c->sb_next;
  c->sb_prev = &s->containers;
  s->containers = c;
  snprintf(container_id, KAPI_ID_MAX, "%s", c->e.id);
  pthread_mutex_unlock(&rt->mu);
  return 0;
}

static int start_container(void *st, const char *container_id, kapi_error *e)
{
  fake_rt *rt = st;
  container *c;
  int rc = 0;
  pthread_mutex_lock(&rt->mu);
  c = (container *)table_get(&rt->containers, container_id);
  if (!c) {
    api->error_set(e, 404, "NotFound", "container %s not found",
                   container_id);
    rc = -ENOENT;
  } else if (c->life.state != KAPI_CONTAINER_CREATED) {
    api->error_set(e, 409, "Conflict", "container %s is not created",
                   container_id);
    rc = -EBUSY;
  } else {
    c->life.started_at = now_ns();
    c->life.state = KAPI_CONTAINER_RUNNING;
    if (c->exits)
      rt_mark_exited(&c->life, c->life.started_at, c->life.exit_code);
  }
  pthread_mutex_unlock(&rt->mu);
  return rc;
}

static int stop_container(void *st, const char *container_id,
                          int64_t timeout_s)
{
  fake_rt *rt = st;
  container *c;
  (void)timeout_s;
  pthread_mutex_lock(&rt->mu);
  c = (container *)table_get(&rt->containers, container_id);
  if (c)
    stop_locked(c, now_ns());
  pthread_mutex_unlock(&rt->mu);
  return c ? 0 : -ENOENT;
}

static int remove_container(void *st, const char *container_id)
{
  fake_rt *rt = st;
  container *c;
  pthread_mutex_lock(&rt->mu);
  c = (container *)table_del(&rt->containers, container_id);
  if (c)
    unlink_container(c);
  pthread_mutex_unlock(&rt->mu);
  if (!c)
    return -ENOENT;
  free(c);
  return 0;
}

static void report(const container *c, kapi_container_status_fn fn, void *arg)
{
  rt_report(c->e.id, c->sb->e.id, c->name, &c->life, NULL, NULL, fn, arg);
}

static int container_status(void *st, const char *container_id,
                            kapi_container_status_fn fn, void *arg)
{
  fake_rt *rt = st;
  container *c;
  pthread_mutex_lock(&rt->mu);
  c = (container *)table_get(&rt->containers, container_id);
  if (c)
    report(c, fn, arg);
  pthread_mutex_unlock(&rt->mu);
  return c ? 0 : -ENOENT;
}

/* The callback runs under the runtime's lock: it must not call back into
 * the runtime. */
static int list_containers(void *st, kapi_container_status_fn fn, void *arg)
{
  fake_rt *rt = st;
  size_t i;
  entry *e;
  pthread_mutex_lock(&rt->mu);
  for (i = 0; rt->containers.buckets && i <= rt->containers.mask; i++)
    for (e = rt->containers.buckets[i]; e; e = e->next)
      report((const container *)e, fn, arg);
  pthread_mutex_unlock(&rt->mu);
  return 0;
}

RT_RUNTIME_OPS(fake_ops);

static fake_rt *the_rt;

static void table_free(table *t)
{
  size_t i;
  for (i = 0; t->buckets && i <= t->mask; i++)
    while (t->buckets[i]) {
      entry *e = t->buckets[i];
      t->buckets[i] = e->next;
      free(e);
    }
  free(t->buckets);
}

static int fake_init(kapi_plugin *p, const kapi_host_api *host,
                     const char *config, size_t config_len, kapi_error *e)
{
  fake_rt *rt;
  int rc;
  (void)config;
  (void)config_len;
  rc = rt_host_ok(host, e);
  if (rc < 0)
    return rc;
  rt = calloc(1, sizeof *rt);
  if (!rt)
    return -ENOMEM;
  pthread_mutex_init(&rt->mu, NULL);
  rc = host->register_runtime(p, "fake", &fake_ops, rt);
  if (rc < 0) {
    pthread_mutex_destroy(&rt->mu);
    free(rt);
    return rc;
  }
  the_rt = rt;
  return 0;
}

static void fake_fini(kapi_plugin *p)
{
  (void)p;
  if (!the_rt)
    return;
  table_free(&the_rt->containers);
  table_free(&the_rt->sandboxes);
  pthread_mutex_destroy(&the_rt->mu);
  free(the_rt);
  the_rt = NULL;
}

KAPI_PLUGIN_DEFINE(.name = "runtime-fake", .version = "0.1.0",
                   .description = "fake container runtime for hollow "
                                  "nodes: nothing runs",
                   .license = "Apache-2.0", .init = fake_init,
                   .fini = fake_fini);
