/*
 * garbagecollector.c - the garbage collector as a kapi controller plugin
 * for kapi-controller-manager.
 *
 * Mirrors upstream's pkg/controller/garbagecollector (garbagecollector.go
 * attemptToDeleteItem, processDeletingDependentsItem,
 * attemptToOrphanWorker; graph_builder.go for what triggers them):
 *  - a dependent all of whose owners are gone (checked by a live GET,
 *    uid included) is deleted, with its own orphan/foreground finalizer
 *    deciding the propagation, else Background; dangling references
 *    next to live owners are removed;
 *  - an owner being deleted in the foreground has its dependents deleted,
 *    and loses its foregroundDeletion finalizer once no dependent that
 *    blocks it (blockOwnerDeletion) is left;
 *  - an owner being deleted with the orphan finalizer is removed from
 *    every dependent's ownerReferences, then loses the finalizer.
 *
 * Upstream keeps its own owner/dependent graph.  Here the shared informer
 * caches are the graph: every resource served with list, watch and
 * delete is watched, and the host's "ownerUID" index finds an object's
 * dependents.  Cache reads only ever decide to look closer; deleting is
 * always decided on live GETs.
 *
 * The host API has no strategic merge patch: owner references are
 * removed with JSON patches whose "test" operations guard the object's
 * uid and the reference being removed.  Finalizers are removed by
 * writing back (PUT) the object read live, as the brief of the server's
 * delete-on-update wants.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapi/plugin.h"
#include "../common/ctl_util.h"

#define DEFAULT_WORKERS 20
#define FINALIZER_ORPHAN "orphan"
#define FINALIZER_FOREGROUND "foregroundDeletion"
#define CONFLICT_RETRIES 5

/* ---- small helpers ------------------------------------------------------ */

/* The index of `name` in metadata.finalizers, or -1. */
static long finalizer_index(const kapi_obj *o, const char *name)
{
  const kapi_obj *f = api->obj_lookup(o, "/metadata/finalizers");
  size_t i, n = api->obj_len(f);
  for (i = 0; i < n; i++)
    if (streq(api->obj_get(api->obj_index(f, i), ""), name))
      return (long)i;
  return -1;
}

static int being_deleted(const kapi_obj *o)
{
  return api->obj_lookup(o, "/metadata/deletionTimestamp") != NULL;
}

/* isDeletingDependents: foreground deletion in progress. */
static int deleting_dependents(const kapi_obj *o)
{
  return being_deleted(o) && finalizer_index(o, FINALIZER_FOREGROUND) >= 0;
}

/* A request; the answer (or Status) is freed unless ret takes it. */
static int request(const char *method, const char *path, const char *ct,
                   const char *body, kapi_obj **ret)
{
  kapi_obj *st;
  int rc = ctl_call(method, path, ct, body, ret, &st);
  if (st) {
    api->log(self, 4, "%s %s: %s", method, path,
             str_at(st, "/message") ? str_at(st, "/message") : "");
    api->obj_free(st);
  }
  return rc;
}

/* ---- resources ---------------------------------------------------------- */

typedef struct gc gc;

/* A resource the collector watches. */
typedef struct res {
  gc *gc;
  size_t idx;
  char *group, *version, *resource, *kind;
  int namespaced;
  kapi_inf *inf;
} res;

struct gc {
  kapi_ctl *ctl;
  res *r;
  size_t n;
  kapi_queue *del_q, *orphan_q;
  int workers;
};

static gc the_gc;

static void res_free_all(gc *g)
{
  size_t i;
  for (i = 0; i < g->n; i++) {
    free(g->r[i].group);
    free(g->r[i].version);
    free(g->r[i].resource);
    free(g->r[i].kind);
  }
  free(g->r);
  g->r = NULL;
  g->n = 0;
}

static int res_add(gc *g, const char *group, const char *version,
                   const char *resource, const char *kind, int namespaced)
{
  res *v, *x;
  size_t i;
  for (i = 0; i < g->n; i++)
    if (streq(g->r[i].group, group) && streq(g->r[i].resource, resource))
      return 0;
  if (!(v = realloc(g->r, (g->n + 1) * sizeof *v)))
    return -ENOMEM;
  g->r = v;
  x = &g->r[g->n];
  memset(x, 0, sizeof *x);
  x->group = strdup(group);
  x->version = strdup(version);
  x->resource = strdup(resource);
  x->kind = strdup(kind);
  x->namespaced = namespaced;
  if (!x->group || !x->version || !x->resource || !x->kind) {
    free(x->group);
    free(x->version);
    free(x->resource);
    free(x->kind);
    return -ENOMEM;
  }
  g->n++;
  return 0;
}

/* Adds the deletable resources (list, watch, delete; no subresources;
 * not events, as upstream's ignoredResources) of one group version. */
static int discover_group_version(gc *g, const char *group,
                                  const char *version)
{
  char path[512];
  kapi_obj *list = NULL;
  const kapi_obj *resources;
  size_t i, n;
  int rc;

  gv_path(path, sizeof path, group, version);
  if ((rc = request("GET", path, NULL, NULL, &list)) < 0)
    return rc;
  resources = api->obj_lookup(list, "/resources");
  n = api->obj_len(resources);
  for (i = 0; i < n && rc == 0; i++) {
    const kapi_obj *r = api->obj_index(resources, i);
    const char *name = member_str(r, "name"), *kind = member_str(r, "kind");
    const kapi_obj *verbs = member(r, "verbs");
    if (!name || !kind || strchr(name, '/') || !strcmp(name, "events") ||
        !has_verb(verbs, "list") || !has_verb(verbs, "watch") ||
        !has_verb(verbs, "delete"))
      continue;
    rc = res_add(g, group, version, name, kind, member_true(r, "namespaced"));
  }
  api->obj_free(list);
  return rc;
}

/* GetDeletableResources over the preferred version of every group. */
static int discover(gc *g)
{
  kapi_obj *groups = NULL;
  const kapi_obj *list;
  size_t i, n;
  int rc;

  if ((rc = discover_group_version(g, "", "v1")) < 0)
    return rc;
  if (request("GET", "/apis", NULL, NULL, &groups) < 0)
    return 0; /* the core group alone */
  list = api->obj_lookup(groups, "/groups");
  n = api->obj_len(list);
  for (i = 0; i < n; i++) {
    const kapi_obj *grp = api->obj_index(list, i);
    const char *name = member_str(grp, "name");
    const char *ver = str_at(grp, "/preferredVersion/version");
    if (!name || !ver || !strcmp(name, "events.k8s.io"))
      continue;
    if (discover_group_version(g, name, ver) < 0)
      api->log(self, KAPI_LOG_WARNING, "discovery of %s/%s failed", name,
               ver);
  }
  api->obj_free(groups);
  return 0;
}

/* The resource an owner reference names (by group and kind). */
static res *res_for_ref(gc *g, const kapi_obj *ref)
{
  const char *av = member_str(ref, "apiVersion");
  const char *kind = member_str(ref, "kind");
  const char *slash;
  size_t glen, i;

  if (!av || !kind)
    return NULL;
  slash = strchr(av, '/');
  glen = slash ? (size_t)(slash - av) : 0;
  for (i = 0; i < g->n; i++)
    if (!strcmp(g->r[i].kind, kind) && strlen(g->r[i].group) == glen &&
        !strncmp(g->r[i].group, av, glen))
      return &g->r[i];
  return NULL;
}

static void obj_path(char *out, size_t len, const res *r, const char *ns,
                     const char *name)
{
  int n = gv_path(out, len, r->group, r->version);
  if (n < 0 || (size_t)n >= len)
    return;
  if (r->namespaced && ns && *ns)
    snprintf(out + n, len - (size_t)n, "/namespaces/%s/%s/%s", ns,
             r->resource, name);
  else
    snprintf(out + n, len - (size_t)n, "/%s/%s", r->resource, name);
}

/* The cached owner a reference names (same uid), or NULL; put after. */
static kapi_ref *cached_owner(gc *g, const kapi_obj *ref, const char *dep_ns,
                              res **ret_res)
{
  res *r = res_for_ref(g, ref);
  const char *name = member_str(ref, "name");
  kapi_ref *o = NULL;
  char key[512];

  if (ret_res)
    *ret_res = r;
  if (!r || !name)
    return NULL;
  if (r->namespaced)
    snprintf(key, sizeof key, "%s/%s", dep_ns ? dep_ns : "", name);
  else
    snprintf(key, sizeof key, "%s", name);
  if (api->inf_get(r->inf, key, &o) < 0)
    return NULL;
  if (!streq(str_at(api->ref_obj(o), "/metadata/uid"),
             member_str(ref, "uid"))) {
    api->ref_put(o);
    return NULL;
  }
  return o;
}

/* ---- queueing --------------------------------------------------------------- */

/* Work items name the object: "<resource index>\t<ns>\t<name>\t<uid>". */
static void enqueue(kapi_queue *q, const res *r, const kapi_obj *o)
{
  const char *ns = str_at(o, "/metadata/namespace");
  const char *name = str_at(o, "/metadata/name");
  const char *uid = str_at(o, "/metadata/uid");
  char key[1024];
  if (!name || !uid)
    return;
  snprintf(key, sizeof key, "%zu\t%s\t%s\t%s", r->idx, ns ? ns : "", name,
           uid);
  api->queue_add(q, key);
}

/* Calls fn for every cached dependent of the object with `uid`. */
static size_t for_each_dependent(gc *g, const char *uid,
                                 void (*fn)(gc *g, res *r, const kapi_obj *dep,
                                            void *arg),
                                 void *arg)
{
  size_t i, j, total = 0;
  for (i = 0; uid && i < g->n; i++) {
    kapi_ref **v = NULL;
    size_t n = 0;
    if (api->inf_list(g->r[i].inf, "ownerUID", uid, &v, &n) < 0)
      continue;
    for (j = 0; fn && j < n; j++)
      fn(g, &g->r[i], api->ref_obj(v[j]), arg);
    total += n;
    api->ref_array_put(v, n);
  }
  return total;
}

static void enqueue_dependent(gc *g, res *r, const kapi_obj *dep, void *arg)
{
  (void)arg;
  enqueue(g->del_q, r, dep);
}

/* Owners of `o` that wait for their dependents go round again: one of
 * their dependents changed or went. */
static void enqueue_waiting_owners(gc *g, const kapi_obj *o)
{
  const kapi_obj *refs = api->obj_lookup(o, "/metadata/ownerReferences");
  const char *ns = str_at(o, "/metadata/namespace");
  size_t i, n = api->obj_len(refs);
  for (i = 0; i < n; i++) {
    res *r;
    kapi_ref *owner = cached_owner(g, api->obj_index(refs, i), ns, &r);
    if (owner && deleting_dependents(api->ref_obj(owner)))
      enqueue(g->del_q, r, api->ref_obj(owner));
    if (owner)
      api->ref_put(owner);
  }
}

/* What the graph builder would do on seeing `o` (added or updated). */
static void observe(res *r, const kapi_obj *o)
{
  gc *g = r->gc;
  const kapi_obj *refs = api->obj_lookup(o, "/metadata/ownerReferences");
  const char *ns = str_at(o, "/metadata/namespace");
  size_t i, n = api->obj_len(refs);

  if (being_deleted(o)) {
    if (finalizer_index(o, FINALIZER_ORPHAN) >= 0)
      enqueue(g->orphan_q, r, o);
    if (finalizer_index(o, FINALIZER_FOREGROUND) >= 0) {
      enqueue(g->del_q, r, o);
      for_each_dependent(g, str_at(o, "/metadata/uid"), enqueue_dependent,
                         NULL);
    }
  }
  /* An owner missing from the caches, or being deleted in the
   * foreground: look at this dependent closer. */
  for (i = 0; i < n; i++) {
    res *or;
    kapi_ref *owner = cached_owner(g, api->obj_index(refs, i), ns, &or);
    int closer = or && (!owner || deleting_dependents(api->ref_obj(owner)));
    if (owner)
      api->ref_put(owner);
    if (closer) {
      enqueue(g->del_q, r, o);
      break;
    }
  }
}

static void on_add(void *arg, const kapi_obj *o)
{
  observe(arg, o);
}

static void on_update(void *arg, const kapi_obj *old, const kapi_obj *o)
{
  res *r = arg;
  observe(r, o);
  /* A reference dropped or unblocked may free a waiting owner. */
  enqueue_waiting_owners(r->gc, old);
}

static void on_delete(void *arg, const kapi_obj *o)
{
  res *r = arg;
  for_each_dependent(r->gc, str_at(o, "/metadata/uid"), enqueue_dependent,
                     NULL);
  enqueue_waiting_owners(r->gc, o);
}

static const kapi_inf_handler handler = {
    .size = sizeof(kapi_inf_handler),
    .on_add = on_add,
    .on_update = on_update,
    .on_delete = on_delete,
};

/* ---- work items ---------------------------------------------------------------- */

typedef struct item {
  res *r;
  char ns[256], name[256], uid[128];
} item;

static int parse_item(gc *g, const char *key, item *it)
{
  unsigned long idx;
  char *end;
  const char *p, *q;

  idx = strtoul(key, &end, 10);
  if (*end != '\t' || idx >= g->n)
    return -EINVAL;
  it->r = &g->r[idx];
  p = end + 1;
  if (!(q = strchr(p, '\t')) || (size_t)(q - p) >= sizeof it->ns)
    return -EINVAL;
  memcpy(it->ns, p, (size_t)(q - p));
  it->ns[q - p] = '\0';
  p = q + 1;
  if (!(q = strchr(p, '\t')) || (size_t)(q - p) >= sizeof it->name)
    return -EINVAL;
  memcpy(it->name, p, (size_t)(q - p));
  it->name[q - p] = '\0';
  snprintf(it->uid, sizeof it->uid, "%s", q + 1);
  return 0;
}

/* The live object of an item: 1 with *ret, 0 if gone or replaced (other
 * uid), <0 on error. */
static int get_live(const item *it, kapi_obj **ret)
{
  char path[1024];
  int rc;
  *ret = NULL;
  obj_path(path, sizeof path, it->r, it->ns, it->name);
  rc = request("GET", path, NULL, NULL, ret);
  if (rc == -ENOENT)
    return 0;
  if (rc < 0)
    return rc;
  if (!streq(str_at(*ret, "/metadata/uid"), it->uid)) {
    api->obj_free(*ret);
    *ret = NULL;
    return 0;
  }
  return 1;
}

/* removeFinalizer: writes the object back without it; conflicts retry on
 * a fresh read. */
static int remove_finalizer(const item *it, const char *finalizer)
{
  char path[1024], ptr[64];
  int attempt, rc = 0;

  obj_path(path, sizeof path, it->r, it->ns, it->name);
  for (attempt = 0; attempt < CONFLICT_RETRIES; attempt++) {
    kapi_obj *o;
    char *body;
    long i;
    if ((rc = get_live(it, &o)) <= 0)
      return rc;
    if ((i = finalizer_index(o, finalizer)) < 0) {
      api->obj_free(o);
      return 0;
    }
    snprintf(ptr, sizeof ptr, "/metadata/finalizers/%ld", i);
    api->obj_remove(o, ptr);
    body = api->obj_to_json(o);
    api->obj_free(o);
    if (!body)
      return -ENOMEM;
    rc = request("PUT", path, "application/json", body, NULL);
    api->free(body);
    if (rc == 0) {
      api->log(self, 2, "removed finalizer %s from %s %s%s%s", finalizer,
               it->r->resource, it->ns, *it->ns ? "/" : "", it->name);
      return 0;
    }
    if (rc == -ENOENT)
      return 0;
    if (rc != -EBUSY)
      return rc;
  }
  return rc;
}

/* deleteObject: DELETE with the uid as precondition. */
static int delete_object(const res *r, const char *ns, const char *name,
                         const char *uid, const char *policy)
{
  char path[1024];
  buf b = {0};
  int rc;

  obj_path(path, sizeof path, r, ns, name);
  buf_puts(&b, "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\","
               "\"preconditions\":{\"uid\":");
  buf_json_str(&b, uid);
  buf_printf(&b, "},\"propagationPolicy\":\"%s\"}", policy);
  if (b.oom) {
    free(b.s);
    return -ENOMEM;
  }
  api->log(self, 2, "deleting %s %s%s%s with propagation policy %s",
           r->resource, ns ? ns : "", ns && *ns ? "/" : "", name, policy);
  rc = request("DELETE", path, "application/json", b.s, NULL);
  free(b.s);
  return rc == -ENOENT ? 0 : rc;
}

/* Removes the owner references with the given uids (n) from `o`, the
 * live object: JSON patch, uid-guarded, highest index first. */
static int remove_owner_refs(const res *r, const kapi_obj *o,
                             const char *const *uids, size_t n)
{
  const kapi_obj *refs = api->obj_lookup(o, "/metadata/ownerReferences");
  size_t total = api->obj_len(refs), i = total, j, removed = 0;
  char path[1024];
  buf b = {0};
  int rc;

  buf_puts(&b, "[{\"op\":\"test\",\"path\":\"/metadata/uid\",\"value\":");
  buf_json_str(&b, str_at(o, "/metadata/uid"));
  buf_puts(&b, "}");
  while (i-- > 0) {
    const char *u = member_str(api->obj_index(refs, i), "uid");
    for (j = 0; j < n && !streq(u, uids[j]); j++)
      ;
    if (j == n)
      continue;
    buf_printf(&b, ",{\"op\":\"test\",\"path\":\"/metadata/ownerReferences/"
                   "%zu/uid\",\"value\":", i);
    buf_json_str(&b, u);
    buf_puts(&b, "}");
    removed++;
  }
  /* Removals after every test, highest index first; removing them all
   * drops the list, as a Go round trip (omitempty) would. */
  if (removed == total) {
    buf_puts(&b, ",{\"op\":\"remove\",\"path\":\"/metadata/ownerReferences\"}");
  } else {
    for (i = total; i-- > 0;) {
      const char *u = member_str(api->obj_index(refs, i), "uid");
      for (j = 0; j < n && !streq(u, uids[j]); j++)
        ;
      if (j < n)
        buf_printf(&b, ",{\"op\":\"remove\",\"path\":\"/metadata/"
                       "ownerReferences/%zu\"}", i);
    }
  }
  buf_puts(&b, "]");
  if (b.oom) {
    free(b.s);
    return -ENOMEM;
  }
  if (!removed) {
    free(b.s);
    return 0;
  }
  obj_path(path, sizeof path, r, str_at(o, "/metadata/namespace"),
           str_at(o, "/metadata/name"));
  rc = request("PATCH", path, "application/json-patch+json", b.s, NULL);
  free(b.s);
  return rc == -ENOENT ? 0 : rc;
}

/* ---- attemptToDeleteItem ---------------------------------------------------------- */

typedef struct blocking {
  const char *uid;
  size_t n;
} blocking;

/* Counts dependents that block `uid`, and sends those not yet being
 * deleted to be deleted. */
static void visit_blocking(gc *g, res *r, const kapi_obj *dep, void *arg)
{
  blocking *b = arg;
  const kapi_obj *refs = api->obj_lookup(dep, "/metadata/ownerReferences");
  size_t i, n = api->obj_len(refs);
  for (i = 0; i < n; i++) {
    const kapi_obj *ref = api->obj_index(refs, i);
    if (streq(member_str(ref, "uid"), b->uid) &&
        member_true(ref, "blockOwnerDeletion")) {
      b->n++;
      if (!being_deleted(dep))
        enqueue(g->del_q, r, dep);
      return;
    }
  }
}

/* processDeletingDependentsItem: the finalizer goes once no blocking
 * dependent is left. */
static int process_deleting_dependents(gc *g, const item *it)
{
  blocking b = {.uid = it->uid};
  for_each_dependent(g, it->uid, visit_blocking, &b);
  if (b.n > 0) {
    api->log(self, 4, "%s %s/%s waits for %zu blocking dependents",
             it->r->resource, it->ns, it->name, b.n);
    return 0;
  }
  return remove_finalizer(it, FINALIZER_FOREGROUND);
}

enum ref_class { SOLID, DANGLING, WAITING };

/* classifyReferences for one reference: the cache may say "solid";
 * anything else is decided by a live GET. */
static int classify(gc *g, const kapi_obj *ref, const char *ns)
{
  res *r;
  kapi_ref *owner = cached_owner(g, ref, ns, &r);
  kapi_obj *live = NULL;
  char path[1024];
  const char *name = member_str(ref, "name");
  int rc;

  if (!r) {
    /* A kind we do not serve or watch: we cannot tell, so keep it. */
    api->log(self, 4, "owner kind %s/%s is unknown",
             member_str(ref, "apiVersion"), member_str(ref, "kind"));
    return SOLID;
  }
  if (owner) {
    int waiting = deleting_dependents(api->ref_obj(owner));
    api->ref_put(owner);
    if (!waiting)
      return SOLID;
  }
  obj_path(path, sizeof path, r, ns, name ? name : "");
  rc = request("GET", path, NULL, NULL, &live);
  if (rc == -ENOENT)
    return DANGLING;
  if (rc < 0)
    return rc;
  rc = !streq(str_at(live, "/metadata/uid"), member_str(ref, "uid"))
           ? DANGLING
           : deleting_dependents(live) ? WAITING : SOLID;
  api->obj_free(live);
  return rc;
}

static int attempt_to_delete(gc *g, const item *it)
{
  kapi_obj *o = NULL;
  const kapi_obj *refs;
  const char **drop = NULL;
  size_t i, n, n_drop = 0, n_solid = 0, n_waiting = 0;
  int rc;

  if ((rc = get_live(it, &o)) <= 0)
    return rc;
  rc = 0;
  if (being_deleted(o)) {
    rc = deleting_dependents(o) ? process_deleting_dependents(g, it) : 0;
    api->obj_free(o);
    return rc;
  }
  refs = api->obj_lookup(o, "/metadata/ownerReferences");
  n = api->obj_len(refs);
  if (n == 0 || !(drop = calloc(n, sizeof *drop))) {
    api->obj_free(o);
    return n == 0 ? 0 : -ENOMEM;
  }
  for (i = 0; i < n; i++) {
    const kapi_obj *ref = api->obj_index(refs, i);
    int c = classify(g, ref, it->ns);
    if (c < 0) {
      rc = c;
      goto out;
    }
    if (c == SOLID)
      n_solid++;
    else
      drop[n_drop++] = member_str(ref, "uid");
    n_waiting += c == WAITING;
  }
  if (n_solid > 0) {
    /* Live owners remain: only drop the references to the others. */
    if (n_drop > 0) {
      api->log(self, 2, "removing %zu dangling owner references from %s "
               "%s/%s", n_drop, it->r->resource, it->ns, it->name);
      rc = remove_owner_refs(it->r, o, drop, n_drop);
    }
  } else if (n_waiting > 0 &&
             for_each_dependent(g, it->uid, NULL, NULL) > 0) {
    /* Our owner waits for us, and we have dependents of our own: they
     * must go before we do. */
    rc = delete_object(it->r, it->ns, it->name, it->uid, "Foreground");
  } else {
    const char *policy = finalizer_index(o, FINALIZER_ORPHAN) >= 0
                             ? "Orphan"
                             : finalizer_index(o, FINALIZER_FOREGROUND) >= 0
                                   ? "Foreground"
                                   : "Background";
    rc = delete_object(it->r, it->ns, it->name, it->uid, policy);
  }
out:
  free(drop);
  api->obj_free(o);
  return rc;
}

static int sync_delete(void *st, const char *key)
{
  gc *g = st;
  item it;
  if (parse_item(g, key, &it) < 0)
    return 0;
  return attempt_to_delete(g, &it);
}

/* ---- attemptToOrphan ------------------------------------------------------------ */

typedef struct orphaning {
  const char *uid;
  int err;
} orphaning;

static void orphan_one(gc *g, res *r, const kapi_obj *dep, void *arg)
{
  orphaning *o = arg;
  const char *uids[1] = {o->uid};
  int rc;
  (void)g;
  rc = remove_owner_refs(r, dep, uids, 1);
  /* The test failed (changed meanwhile): try again on a fresh cache. */
  if (rc < 0 && !o->err)
    o->err = rc;
}

static int sync_orphan(void *st, const char *key)
{
  gc *g = st;
  orphaning o = {0};
  kapi_obj *live;
  item it;
  int rc;

  if (parse_item(g, key, &it) < 0)
    return 0;
  if ((rc = get_live(&it, &live)) <= 0)
    return rc;
  rc = being_deleted(live) && finalizer_index(live, FINALIZER_ORPHAN) >= 0;
  api->obj_free(live);
  if (!rc)
    return 0;
  o.uid = it.uid;
  for_each_dependent(g, it.uid, orphan_one, &o);
  if (o.err < 0) {
    api->log(self, 2, "orphaning the dependents of %s %s/%s failed: %s",
             it.r->resource, it.ns, it.name, strerror(-o.err));
    return o.err;
  }
  return remove_finalizer(&it, FINALIZER_ORPHAN);
}

/* ---- lifecycle ---------------------------------------------------------------- */

static int gc_start(void *st, kapi_ctl *ctl, kapi_error *e)
{
  gc *g = st;
  size_t i;
  int rc;

  g->ctl = ctl;
  if (discover(g) < 0 || g->n == 0) {
    /* The server cannot tell us yet: collect what kapi always serves. */
    api->log(self, KAPI_LOG_WARNING,
             "resource discovery failed; collecting pods and replicasets");
    res_add(g, "", "v1", "pods", "Pod", 1);
    res_add(g, "apps", "v1", "replicasets", "ReplicaSet", 1);
  }
  g->del_q = api->ctl_queue(ctl, "garbage_collector_attempt_to_delete");
  g->orphan_q = api->ctl_queue(ctl, "garbage_collector_attempt_to_orphan");
  if (!g->del_q || !g->orphan_q) {
    api->error_set(e, 500, "InternalError", "garbagecollector: no queues");
    return -ENOMEM;
  }
  for (i = 0; i < g->n; i++) {
    res *r = &g->r[i];
    r->gc = g;
    r->idx = i;
    r->inf = api->ctl_informer(ctl, r->group, r->version, r->resource);
    if (!r->inf || api->inf_add_index(r->inf, "ownerUID") < 0 ||
        api->inf_add_handler(r->inf, &handler, r) < 0) {
      api->error_set(e, 500, "InternalError",
                     "garbagecollector: cannot watch %s", r->resource);
      return -EIO;
    }
  }
  api->log(self, 1, "garbage collector watches %zu resources", g->n);
  if ((rc = api->ctl_run_workers(ctl, g->del_q, g->workers, sync_delete, g)) < 0)
    return rc;
  return api->ctl_run_workers(ctl, g->orphan_q, g->workers, sync_orphan, g);
}

static void gc_stop(void *st)
{
  res_free_all(st);
}

static const kapi_controller_ops gc_ops = {
    .size = sizeof(kapi_controller_ops),
    .start = gc_start,
    .stop = gc_stop,
};

static int gc_init(kapi_plugin *p, const kapi_host_api *host,
                   const char *config, size_t config_len, kapi_error *e)
{
  static const ctl_plugin_spec spec = {
      .name = "garbagecollector",
      .who = "garbagecollector",
      .needs_cache_key = 1,
      .ops = &gc_ops,
      .state = &the_gc,
      .workers = &the_gc.workers,
      .default_workers = DEFAULT_WORKERS,
  };
  return ctl_plugin_init(p, host, config, config_len, e, &spec);
}

KAPI_PLUGIN_DEFINE(.name = "garbagecollector", .version = "1.0.0",
                   .description = "garbage collector (ownerReferences, "
                                  "orphan and foreground deletion)",
                   .license = "Apache-2.0", .init = gc_init);
