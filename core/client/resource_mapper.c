/*
 * resource_mapper.c - kinds and typed names to resources, from discovery
 * (cli-runtime's DeferredDiscoveryRESTMapper plus kubectl's shortcut
 * expander, reduced to what kapi serves).
 *
 * The table is built on first use, not in kapi_mapper_new: a mapper can
 * then be made before the server is up (the manifests directory) and a
 * failed discovery is reported by the lookup that needed it.  Discovery
 * reads /api/v1 and, for each group of /apis, its preferred version; a
 * kind asked in another version of a known group has that version's
 * list fetched once on demand, so "apps/v1beta1" gets a real answer
 * instead of a miss.
 *
 * One lock guards the table: the manifests applier and the kubelet may
 * share a mapper between threads.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kapi/resource.h"

/* One resource of one group version. */
typedef struct entry {
  kapi_mapping m;
  char *singular;   /* "pod" */
  char **shorts;    /* "po" ... */
  size_t nshorts;
} entry;

struct kapi_mapper {
  kapi_client *c;        /* borrowed; NULL for a static mapper */
  pthread_mutex_t mu;
  int loaded;            /* discovery ran and succeeded */
  entry *e;
  size_t n, cap;
  char **fetched;        /* group versions already read ("v1", "apps/v1") */
  size_t nfetched, capfetched;
};

/* ---- small helpers ------------------------------------------------------- */

static int mapping_copy(kapi_mapping *dst, const kapi_mapping *src)
{
  memset(dst, 0, sizeof *dst);
  dst->group = strdup(src->group ? src->group : "");
  dst->version = strdup(src->version ? src->version : "");
  dst->resource = strdup(src->resource ? src->resource : "");
  dst->kind = strdup(src->kind ? src->kind : "");
  dst->namespaced = src->namespaced;
  if (!dst->group || !dst->version || !dst->resource || !dst->kind) {
    kapi_mapping_clear(dst);
    return -ENOMEM;
  }
  return 0;
}

void kapi_mapping_clear(kapi_mapping *m)
{
  if (!m)
    return;
  free(m->group);
  free(m->version);
  free(m->resource);
  free(m->kind);
  memset(m, 0, sizeof *m);
}

kapi_gvr kapi_mapping_gvr(const kapi_mapping *m)
{
  kapi_gvr g = {m->group ? m->group : "", m->version, m->resource,
                m->namespaced};
  return g;
}

static void entry_clear(entry *e)
{
  size_t i;

  kapi_mapping_clear(&e->m);
  free(e->singular);
  for (i = 0; i < e->nshorts; i++)
    free(e->shorts[i]);
  free(e->shorts);
}

static char *lower_dup(const char *s)
{
  char *d = strdup(s ? s : "");
  char *p;

  for (p = d; p && *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      *p = (char)(*p - 'A' + 'a');
  return d;
}

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
  void *p;
  size_t ncap;

  if (n < *cap)
    return 0;
  ncap = *cap ? *cap * 2 : 32;
  if (!(p = realloc(*arr, ncap * size)))
    return -ENOMEM;
  *arr = p;
  *cap = ncap;
  return 0;
}

/* Takes over e's contents. */
static int table_add(kapi_mapper *m, entry *e)
{
  if (grow((void **)&m->e, &m->cap, m->n, sizeof *m->e) < 0) {
    entry_clear(e);
    return -ENOMEM;
  }
  m->e[m->n++] = *e;
  return 0;
}

static void table_free(kapi_mapper *m)
{
  size_t i;

  for (i = 0; i < m->n; i++)
    entry_clear(&m->e[i]);
  free(m->e);
  m->e = NULL;
  m->n = m->cap = 0;
  for (i = 0; i < m->nfetched; i++)
    free(m->fetched[i]);
  free(m->fetched);
  m->fetched = NULL;
  m->nfetched = m->capfetched = 0;
}

static int was_fetched(const kapi_mapper *m, const char *gv)
{
  size_t i;

  for (i = 0; i < m->nfetched; i++)
    if (!strcmp(m->fetched[i], gv))
      return 1;
  return 0;
}

static int mark_fetched(kapi_mapper *m, const char *gv)
{
  char *s;

  if (grow((void **)&m->fetched, &m->capfetched, m->nfetched,
           sizeof *m->fetched) < 0 ||
      !(s = strdup(gv)))
    return -ENOMEM;
  m->fetched[m->nfetched++] = s;
  return 0;
}

/* "apps/v1" -> group "apps", version "v1"; "v1" -> "", "v1".  Writes
 * into the caller's buffers; -EINVAL when too long. */
static int split_gv(const char *gv, char *group, size_t glen, char *version,
                    size_t vlen)
{
  const char *slash = strchr(gv, '/');
  int n;

  if (!slash) {
    group[0] = '\0';
    n = snprintf(version, vlen, "%s", gv);
    return n < 0 || (size_t)n >= vlen ? -EINVAL : 0;
  }
  if ((size_t)(slash - gv) >= glen)
    return -EINVAL;
  memcpy(group, gv, (size_t)(slash - gv));
  group[slash - gv] = '\0';
  n = snprintf(version, vlen, "%s", slash + 1);
  return n < 0 || (size_t)n >= vlen ? -EINVAL : 0;
}

/* ---- discovery ------------------------------------------------------------- */

/* GET path and parse it.  -ENOENT on 404 (a version the server lacks),
 * -EIO otherwise with the reason in errs. */
static int get_json(kapi_client *c, const char *path, kj **ret,
                    kapi_errlist *errs)
{
  char *body = NULL;
  size_t len = 0;
  int code = 0, r;
  char err[128];

  *ret = NULL;
  r = kapi_client_do(c, "GET", path, NULL, NULL, 0, &code, &body, &len);
  if (r < 0) {
    if (errs)
      kapi_errlist_add(errs, "couldn't get resource list for %s: "
                       "the server could not be reached (%s)",
                       path, kapi_client_server(c));
    return -EIO;
  }
  if (code == 404) {
    free(body);
    return -ENOENT;
  }
  if (code < 200 || code >= 300) {
    if (errs)
      kapi_errlist_add(errs, "couldn't get resource list for %s: "
                       "the server responded with status %d", path, code);
    free(body);
    return -EIO;
  }
  r = kj_parse(body, len, ret, err, sizeof err);
  free(body);
  if (r < 0) {
    if (errs)
      kapi_errlist_add(errs, "couldn't get resource list for %s: %s", path,
                       err);
    return -EIO;
  }
  return 0;
}

static int copy_shorts(entry *e, const kj *shorts)
{
  size_t i, n = kj_len(shorts);

  if (n == 0)
    return 0;
  if (!(e->shorts = calloc(n, sizeof *e->shorts)))
    return -ENOMEM;
  for (i = 0; i < n; i++) {
    const char *s = kj_str(kj_at(shorts, i));
    if (!s)
      continue;
    if (!(e->shorts[e->nshorts] = strdup(s)))
      return -ENOMEM;
    e->nshorts++;
  }
  return 0;
}

/* One APIResource of an APIResourceList; subresources ("pods/status")
 * are not types and are left out. */
static int add_resource(kapi_mapper *m, const char *group,
                        const char *version, const kj *r)
{
  const char *name = kj_get_str(r, "name"), *kind = kj_get_str(r, "kind");
  const char *singular = kj_get_str(r, "singularName");
  const kj *shorts = kj_get(r, "shortNames");
  entry e;

  if (!name || !kind || strchr(name, '/'))
    return 0;
  memset(&e, 0, sizeof e);
  e.m.group = strdup(group);
  e.m.version = strdup(version);
  e.m.resource = strdup(name);
  e.m.kind = strdup(kind);
  e.m.namespaced = kj_is_true(kj_get(r, "namespaced"));
  /* Upstream falls back to the lower-cased kind when the server names
   * no singular. */
  e.singular = singular && *singular ? strdup(singular) : lower_dup(kind);
  if (!e.m.group || !e.m.version || !e.m.resource || !e.m.kind ||
      !e.singular || copy_shorts(&e, shorts) < 0) {
    entry_clear(&e);
    return -ENOMEM;
  }
  return table_add(m, &e);
}

/* Reads one group version's APIResourceList into the table.  A 404 is
 * remembered too: that version does not exist. */
static int fetch_gv(kapi_mapper *m, const char *group, const char *version,
                    kapi_errlist *errs)
{
  char path[512], gv[300];
  kj *list = NULL;
  const kj *rs;
  size_t i;
  int r;

  if (*group)
    snprintf(gv, sizeof gv, "%s/%s", group, version);
  else
    snprintf(gv, sizeof gv, "%s", version);
  if (was_fetched(m, gv))
    return 0;
  snprintf(path, sizeof path, *group ? "/apis/%s" : "/api/%s", gv);
  r = get_json(m->c, path, &list, errs);
  if (r == -EIO)
    return r;
  if (mark_fetched(m, gv) < 0) {
    kj_free(list);
    return -ENOMEM;
  }
  rs = kj_get(list, "resources");
  for (i = 0; r == 0 && i < kj_len(rs); i++)
    r = add_resource(m, group, version, kj_at(rs, i));
  kj_free(list);
  return r == -ENOENT ? 0 : r;
}

/* The whole discovery, once.  Called with the lock held. */
static int load(kapi_mapper *m, kapi_errlist *errs)
{
  kj *groups = NULL;
  const kj *gs;
  size_t i;
  int r;

  if (m->loaded || !m->c)
    return 0;
  if ((r = fetch_gv(m, "", "v1", errs)) < 0)
    goto fail;
  r = get_json(m->c, "/apis", &groups, errs);
  if (r == -ENOENT) /* a server with the core group only */
    r = 0;
  if (r < 0)
    goto fail;
  gs = kj_get(groups, "groups");
  for (i = 0; i < kj_len(gs); i++) {
    const kj *g = kj_at(gs, i);
    const char *name = kj_get_str(g, "name");
    const char *ver = kj_get_str(kj_get(g, "preferredVersion"), "version");
    if (!ver) /* no preference stated: the first listed, as upstream */
      ver = kj_get_str(kj_at(kj_get(g, "versions"), 0), "version");
    if (!name || !ver)
      continue;
    if ((r = fetch_gv(m, name, ver, errs)) < 0)
      goto fail;
  }
  kj_free(groups);
  m->loaded = 1;
  return 0;
fail:
  kj_free(groups);
  /* Start afresh next time rather than keep half a table. */
  table_free(m);
  return r == -ENOMEM ? r : -EIO;
}

/* ---- construction ------------------------------------------------------------ */

kapi_mapper *kapi_mapper_new(kapi_client *c)
{
  kapi_mapper *m = calloc(1, sizeof *m);

  if (!m)
    return NULL;
  m->c = c;
  pthread_mutex_init(&m->mu, NULL);
  return m;
}

kapi_mapper *kapi_mapper_static(const kapi_mapping *maps, size_t n)
{
  kapi_mapper *m = kapi_mapper_new(NULL);
  size_t i;

  if (!m)
    return NULL;
  m->loaded = 1;
  for (i = 0; i < n; i++) {
    entry e;
    memset(&e, 0, sizeof e);
    if (mapping_copy(&e.m, &maps[i]) < 0 ||
        !(e.singular = lower_dup(maps[i].kind))) {
      entry_clear(&e);
      kapi_mapper_free(m);
      return NULL;
    }
    if (table_add(m, &e) < 0) { /* e already cleared */
      kapi_mapper_free(m);
      return NULL;
    }
  }
  return m;
}

void kapi_mapper_free(kapi_mapper *m)
{
  if (!m)
    return;
  table_free(m);
  pthread_mutex_destroy(&m->mu);
  free(m);
}

/* ---- lookups ------------------------------------------------------------------- */

static const entry *find_kind(const kapi_mapper *m, const char *group,
                              const char *version, const char *kind)
{
  size_t i;

  for (i = 0; i < m->n; i++)
    if (!strcmp(m->e[i].m.group, group) &&
        !strcmp(m->e[i].m.version, version) && !strcmp(m->e[i].m.kind, kind))
      return &m->e[i];
  return NULL;
}

static int has_group(const kapi_mapper *m, const char *group)
{
  size_t i;

  for (i = 0; i < m->n; i++)
    if (!strcmp(m->e[i].m.group, group))
      return 1;
  return 0;
}

int kapi_mapper_kind(kapi_mapper *m, const char *api_version,
                     const char *kind, kapi_mapping *out, kapi_errlist *errs)
{
  char group[256], version[64];
  const entry *e;
  int r;

  memset(out, 0, sizeof *out);
  if (!api_version || !kind || !*kind ||
      split_gv(api_version, group, sizeof group, version, sizeof version) <
          0 ||
      !*version) {
    if (errs)
      kapi_errlist_add(errs, "no matches for kind \"%s\" in version \"%s\"",
                       kind ? kind : "", api_version ? api_version : "");
    return -ENOENT;
  }
  pthread_mutex_lock(&m->mu);
  r = load(m, errs);
  e = r < 0 ? NULL : find_kind(m, group, version, kind);
  /* Another version of a group we know: ask for it once. */
  if (r == 0 && !e && m->c && (has_group(m, group) || !*group)) {
    r = fetch_gv(m, group, version, errs);
    if (r == 0)
      e = find_kind(m, group, version, kind);
  }
  if (e)
    r = mapping_copy(out, &e->m);
  pthread_mutex_unlock(&m->mu);
  if (r < 0)
    return r;
  if (!e) {
    if (errs)
      kapi_errlist_add(errs, "no matches for kind \"%s\" in version \"%s\"",
                       kind, api_version);
    return -ENOENT;
  }
  return 0;
}

/* How well a typed name matches an entry: the lower the better, 0 none.
 * kubectl tries the plural, then the singular, then short names, then
 * the kind; case does not matter. */
static int match_rank(const entry *e, const char *name)
{
  size_t i;

  if (!strcasecmp(e->m.resource, name))
    return 1;
  if (!strcasecmp(e->singular, name))
    return 2;
  for (i = 0; i < e->nshorts; i++)
    if (!strcasecmp(e->shorts[i], name))
      return 3;
  if (!strcasecmp(e->m.kind, name))
    return 4;
  return 0;
}

/* The best entry for name in group (NULL: any group) and version (NULL:
 * any).  Ties go to the first discovered: the core group, then the
 * groups in the server's order, as upstream's priority mapper does. */
static const entry *find_resource(const kapi_mapper *m, const char *name,
                                  const char *group, const char *version)
{
  const entry *best = NULL;
  int best_rank = 0, rank;
  size_t i;

  for (i = 0; i < m->n; i++) {
    const entry *e = &m->e[i];
    if (group && strcasecmp(e->m.group, group))
      continue;
    if (version && strcmp(e->m.version, version))
      continue;
    rank = match_rank(e, name);
    if (rank && (!best || rank < best_rank)) {
      best = e;
      best_rank = rank;
    }
  }
  return best;
}

/* "name", "name.group" or "name.version.group", as kubectl splits a
 * resource argument; the fullest reading that names something wins. */
static const entry *resolve(const kapi_mapper *m, const char *arg)
{
  const char *dot = strchr(arg, '.');
  char name[256], ver[64];
  const entry *e;
  const char *rest;
  size_t n;

  if (!dot)
    return find_resource(m, arg, NULL, NULL);
  n = (size_t)(dot - arg);
  if (n == 0 || n >= sizeof name)
    return NULL;
  memcpy(name, arg, n);
  name[n] = '\0';
  rest = dot + 1;
  /* resource.version.group ("deployments.v1.apps") */
  dot = strchr(rest, '.');
  if (dot && (size_t)(dot - rest) < sizeof ver) {
    memcpy(ver, rest, (size_t)(dot - rest));
    ver[dot - rest] = '\0';
    if ((e = find_resource(m, name, dot + 1, ver)))
      return e;
  }
  /* resource.group ("deployment.apps", "leases.coordination.k8s.io") */
  return find_resource(m, name, rest, NULL);
}

int kapi_mapper_resource(kapi_mapper *m, const char *arg, kapi_mapping *out,
                         kapi_errlist *errs)
{
  const entry *e;
  int r;

  memset(out, 0, sizeof *out);
  pthread_mutex_lock(&m->mu);
  r = load(m, errs);
  e = r < 0 || !arg || !*arg ? NULL : resolve(m, arg);
  if (e)
    r = mapping_copy(out, &e->m);
  pthread_mutex_unlock(&m->mu);
  if (r < 0)
    return r;
  if (!e) {
    if (errs)
      kapi_errlist_add(errs,
                       "the server doesn't have a resource type \"%s\"",
                       arg ? arg : "");
    return -ENOENT;
  }
  return 0;
}
