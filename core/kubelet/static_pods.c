/*
 * static_pods.c - static pods: the file pod source and mirror pods (see
 * static_pods.h).
 *
 * One thread does it all.  A scan decodes the manifest directory with
 * the resource visitors (kapi/resource.h), turns each Pod into a static
 * pod (upstream's applyDefaults) and diffs the result against the last
 * scan by uid: as the uid is a hash of the manifest, an edited file is a
 * new pod and its old one is gone.  Gone pods are handed to the pod
 * workers as removed (they stop them); new ones as added, but only once
 * no older static pod of the same full name is still being stopped
 * (upstream's static pod start ordering: two versions never run at
 * once).  Then mirror pods are reconciled against the informer's cache.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kapi/resource.h"
#include "kubelet.h"
#include "log.h"
#include "static_pods.h"

#define POLL_SLICE_MS 250                /* how soon a stopping kubelet is seen */
#define RECONCILE_NS KL_NS_PER_S         /* mirror pods, without events */
#define DEBOUNCE_NS (100 * 1000000LL)    /* coalesces an editor's writes */
#define MIRROR_RETRY_NS (2 * KL_NS_PER_S) /* the informer catching up */
#define RECREATE_DELAY_NS KL_NS_PER_S    /* see reconcile_mirrors */

static const kapi_gvr pods_gvr = {"", "v1", "pods", 1};
static const kapi_gvr nodes_gvr = {"", "v1", "nodes", 0};

/* One static pod of the last scan. */
typedef struct static_pod {
  char uid[40];          /* the hash, as config.hash */
  char name[256], ns[64]; /* full name: <name>-<node> */
  kapi_cobj *pod;        /* the static pod object */
  int started;           /* handed to the pod workers */
  int64_t mirror_at_ns;  /* last mirror create or delete sent */
  int64_t create_after_ns; /* no mirror pod before (a user deleted it) */
} static_pod;

typedef struct pod_set {
  static_pod *v;
  size_t n, cap;
} pod_set;

/* Warnings of one scan: each is logged when it was not in the last. */
typedef struct warnings {
  char **v;
  size_t n, cap;
} warnings;

struct kl_static {
  kl *k;
  kl_node *node;
  char *dir;
  int64_t period_ns;
  /* Guards pods: the informer's thread reads them (mirror events).  Held
   * across the mirror pods' requests, which only delays those events. */
  pthread_mutex_t mu;
  pod_set pods;
  warnings warned;       /* thread only */
  int scanned;           /* thread only: a first scan happened */
  int ifd, wd;           /* inotify (-1: none) */
  int efd;               /* eventfd waking the thread */
};

/* ---- hashing ---------------------------------------------------------------- */

/*
 * FNV-1a, 128 bits: the uid and config.hash of a static pod.  Upstream
 * hashes the decoded pod with md5; any stable 128-bit hash of the same
 * inputs gives the property that matters (same manifest, same node, same
 * file: same uid; any change: another uid).
 */
typedef unsigned __int128 u128;

static void fnv128(u128 *h, const char *s, size_t n)
{
  const u128 prime = ((u128)1 << 88) | 0x13b;
  size_t i;
  for (i = 0; i < n; i++) {
    *h ^= (unsigned char)s[i];
    *h *= prime;
  }
}

/* hex of the hash of "host:NODE", "file:PATH" and the decoded manifest:
 * decoded, so that comments and layout do not restart the pod. */
static int manifest_hash(const char *node, const char *path, const kj *obj,
                         char *out, size_t len)
{
  u128 h = ((u128)0x6c62272e07bb0142ULL << 64) | 0x62b821756295c58dULL;
  char *dump = kj_dump(obj, NULL);
  if (!dump)
    return -ENOMEM;
  fnv128(&h, "host:", 5);
  fnv128(&h, node, strlen(node));
  fnv128(&h, "file:", 5);
  fnv128(&h, path, strlen(path));
  fnv128(&h, dump, strlen(dump));
  free(dump);
  snprintf(out, len, "%016llx%016llx", (unsigned long long)(h >> 64),
           (unsigned long long)h);
  return 0;
}

/* ---- small helpers ----------------------------------------------------------- */

static const char *annotation(const kj *pod, const char *key)
{
  return kj_get_str(kj_ptr(pod, "/metadata/annotations"), key);
}

int kl_static_is_mirror(const kj *pod)
{
  return annotation(pod, KL_CONFIG_MIRROR) != NULL;
}

int kl_static_is_static(const kj *pod)
{
  const char *src = annotation(pod, KL_CONFIG_SOURCE);
  return src && !strcmp(src, "file") && !kl_static_is_mirror(pod);
}

/* An object member that is an object, replacing whatever else is there
 * (YAML's "annotations:" with no value is a null). */
static kj *object_at(kj *obj, const char *key)
{
  kj *v = kj_get(obj, key);
  if (v && v->type == KJ_OBJECT)
    return v;
  kj_set(obj, key, kj_object());
  return kj_get(obj, key);
}

static void rfc3339_now(char *buf, size_t len)
{
  struct timespec ts;
  struct tm tm;
  char sec[32];
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  strftime(sec, sizeof sec, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf, len, "%s.%09ldZ", sec, ts.tv_nsec);
}

static void wake(kl_static *s)
{
  uint64_t one = 1;
  /* A full counter (EAGAIN) is a wake-up already pending. */
  if (s->efd >= 0 && write(s->efd, &one, sizeof one) < 0) {
  }
}

/* ---- pod sets ---------------------------------------------------------------- */

static static_pod *set_find(pod_set *set, const char *uid)
{
  size_t i;
  for (i = 0; i < set->n; i++)
    if (!strcmp(set->v[i].uid, uid))
      return &set->v[i];
  return NULL;
}

static static_pod *set_find_name(pod_set *set, const char *ns,
                                 const char *name)
{
  size_t i;
  for (i = 0; i < set->n; i++)
    if (!strcmp(set->v[i].ns, ns) && !strcmp(set->v[i].name, name))
      return &set->v[i];
  return NULL;
}

/* Appends *p (its pod reference moves in). */
static int set_add(pod_set *set, const static_pod *p)
{
  if (set->n == set->cap) {
    size_t cap = set->cap ? 2 * set->cap : 8;
    static_pod *v = realloc(set->v, cap * sizeof *v);
    if (!v)
      return -ENOMEM;
    set->v = v;
    set->cap = cap;
  }
  set->v[set->n++] = *p;
  return 0;
}

static void set_clear(pod_set *set)
{
  size_t i;
  for (i = 0; i < set->n; i++)
    kapi_cobj_unref(set->v[i].pod);
  free(set->v);
  memset(set, 0, sizeof *set);
}

/* ---- warnings ----------------------------------------------------------------- */

static int warned_before(const warnings *w, const char *msg)
{
  size_t i;
  for (i = 0; i < w->n; i++)
    if (!strcmp(w->v[i], msg))
      return 1;
  return 0;
}

/* Records msg for this scan; logs it unless the last scan did (a bad
 * file is reported once, not every --file-check-frequency). */
static void warn(const warnings *last, warnings *now, const char *msg)
{
  char *copy;
  if (!warned_before(last, msg))
    LOG_WARN("%s", msg);
  if (now->n == now->cap) {
    size_t cap = now->cap ? 2 * now->cap : 4;
    char **v = realloc(now->v, cap * sizeof *v);
    if (!v)
      return;
    now->v = v;
    now->cap = cap;
  }
  if ((copy = strdup(msg)))
    now->v[now->n++] = copy;
}

static void warnings_clear(warnings *w)
{
  size_t i;
  for (i = 0; i < w->n; i++)
    free(w->v[i]);
  free(w->v);
  memset(w, 0, sizeof *w);
}

/* ---- the file source ------------------------------------------------------------ */

typedef struct scan {
  kl_static *s;
  pod_set pods;     /* this scan's */
  warnings warned;  /* this scan's */
} scan;

static void scan_warn(scan *sc, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void scan_warn(scan *sc, const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  warn(&sc->s->warned, &sc->warned, msg);
}

/*
 * upstream's applyDefaults for a file: the static pod of a manifest.
 * obj borrowed; a new object, NULL when out of memory.
 */
static kj *static_pod_object(kl_static *s, const kj *obj, const char *uid,
                             const char *full_name, const char *seen)
{
  kj *pod = kj_clone(obj), *meta, *ann, *spec, *tols, *tol, *st;
  size_t i;
  int have = 0;

  if (!pod)
    return NULL;
  meta = object_at(pod, "metadata");
  kj_set_str(meta, "name", full_name);
  if (!kj_get_str(meta, "namespace") || !*kj_get_str(meta, "namespace"))
    kj_set_str(meta, "namespace", "default");
  kj_set_str(meta, "uid", uid);
  /* Server-side fields make no sense in a file, and a deletionTimestamp
   * would have the workers stop the pod at once. */
  kj_remove(meta, "resourceVersion");
  kj_remove(meta, "deletionTimestamp");
  kj_remove(meta, "deletionGracePeriodSeconds");
  ann = object_at(meta, "annotations");
  kj_set_str(ann, KL_CONFIG_HASH, uid);
  kj_set_str(ann, KL_CONFIG_SEEN, seen);
  kj_set_str(ann, KL_CONFIG_SOURCE, "file");
  spec = object_at(pod, "spec");
  kj_set_str(spec, "nodeName", s->node->name);
  /* Static pods tolerate every NoExecute taint: node problems must not
   * evict what the node itself runs. */
  tols = kj_get(spec, "tolerations");
  if (!tols || tols->type != KJ_ARRAY) {
    kj_set(spec, "tolerations", kj_array());
    tols = kj_get(spec, "tolerations");
  }
  for (i = 0; i < kj_len(tols); i++) {
    const kj *t = kj_at(tols, i);
    const char *op = kj_get_str(t, "operator"), *eff = kj_get_str(t, "effect");
    const char *key = kj_get_str(t, "key");
    if (op && !strcmp(op, "Exists") && eff && !strcmp(eff, "NoExecute") &&
        (!key || !*key))
      have = 1;
  }
  if (!have) {
    tol = kj_object();
    kj_set_str(tol, "operator", "Exists");
    kj_set_str(tol, "effect", "NoExecute");
    kj_append(tols, tol);
  }
  st = kj_object();
  kj_set_str(st, "phase", "Pending");
  kj_set(pod, "status", st);
  return pod;
}

static int hidden(const char *path)
{
  const char *base = strrchr(path, '/');
  return (base ? base[1] : path[0]) == '.';
}

/* The visitor's function: one decoded document of a manifest file. */
static int visit_manifest(kapi_info *info, void *arg, kapi_errlist *errs)
{
  scan *sc = arg;
  kl_static *s = sc->s;
  const kj *obj = info->object;
  const char *kind = kj_get_str(obj, "kind");
  const char *av = kj_get_str(obj, "apiVersion");
  const char *name = kj_str(kj_ptr(obj, "/metadata/name"));
  const char *ns = kj_str(kj_ptr(obj, "/metadata/namespace"));
  char uid[40], full[256], seen[64], node[256];
  static_pod p = {0}, *old;
  size_t i;
  kj *pod;

  if (hidden(info->source))
    return 0; /* editors' and tools' files, as upstream */
  if (info->index > 0) {
    scan_warn(sc, "static pod manifest %s: ignoring document %zu: a "
              "manifest holds one Pod", info->source, info->index + 1);
    return 0;
  }
  if (!kind || strcmp(kind, "Pod") || !av || strcmp(av, "v1")) {
    scan_warn(sc, "static pod manifest %s: ignoring %s %s: not a Pod",
              info->source, av ? av : "", kind ? kind : "");
    return 0;
  }
  if (!name || !*name) {
    scan_warn(sc, "static pod manifest %s: invalid pod: metadata.name: "
              "Required value: name or generateName is required",
              info->source);
    return 0;
  }
  /* upstream's generatePodName lower-cases the node name */
  snprintf(node, sizeof node, "%s", s->node->name);
  for (i = 0; node[i]; i++)
    node[i] = (char)tolower((unsigned char)node[i]);
  snprintf(full, sizeof full, "%.120s-%.120s", name, node);
  if (manifest_hash(s->node->name, info->source, obj, uid, sizeof uid) < 0)
    goto nomem;
  ns = ns && *ns ? ns : "default";
  if (set_find_name(&sc->pods, ns, full)) {
    scan_warn(sc, "static pod manifest %s: detected duplicate pod name "
              "%s/%s, ignoring it", info->source, ns, full);
    return 0;
  }
  /* The same manifest as before: the pod as first seen, unchanged. */
  pthread_mutex_lock(&s->mu);
  old = set_find(&s->pods, uid);
  if (old)
    p = *old, p.pod = kapi_cobj_ref(old->pod);
  pthread_mutex_unlock(&s->mu);
  if (!old) {
    rfc3339_now(seen, sizeof seen);
    pod = static_pod_object(s, obj, uid, full, seen);
    snprintf(p.uid, sizeof p.uid, "%s", uid);
    snprintf(p.name, sizeof p.name, "%s", full);
    snprintf(p.ns, sizeof p.ns, "%s", ns);
    /* kapi_cobj_new takes pod over, failing or not */
    if (!pod || !(p.pod = kapi_cobj_new(pod)))
      goto nomem;
  }
  if (set_add(&sc->pods, &p) < 0) {
    kapi_cobj_unref(p.pod);
    goto nomem;
  }
  return 0;
nomem:
  kapi_errlist_add(errs, "%s: out of memory", info->source);
  return -ENOMEM;
}

/* Decodes every manifest of the directory into sc->pods. */
static void read_manifests(scan *sc)
{
  kl_static *s = sc->s;
  kapi_errlist errs = {0};
  kapi_visitor *v;
  struct stat st;
  size_t i;

  if (stat(s->dir, &st) < 0) {
    scan_warn(sc, "static pod path %s does not exist, ignoring", s->dir);
    return;
  }
  /* A file's decode error must not hide the other files' pods. */
  v = kapi_continue_on_error_visitor(
      kapi_file_visitor(s->dir, 0, NULL));
  if (!v) {
    LOG_ERROR("cannot read static pod manifests in %s: out of memory",
              s->dir);
    return;
  }
  kapi_visit(v, visit_manifest, sc, &errs);
  kapi_visitor_free(v);
  for (i = 0; i < errs.n; i++)
    scan_warn(sc, "could not process static pod manifest: %s", errs.msgs[i]);
  kapi_errlist_clear(&errs);
}

/* Whether a pod record of ns/name from the file source still exists
 * (a version being stopped; k->mu held). */
static int static_record_exists(kl *k, const char *ns, const char *name)
{
  kapi__strmap_iter it = {0};
  while (kapi__strmap_next(k->pods, &it)) {
    const kl_pod *p = it.val;
    if (!strcmp(p->ns, ns) && !strcmp(p->name, name) && p->pod &&
        kl_static_is_static(p->pod->obj))
      return 1;
  }
  return 0;
}

/* Hands new static pods to the workers once the name is free. */
static void start_pending(kl_static *s)
{
  kl *k = s->k;
  size_t i;
  pthread_mutex_lock(&s->mu);
  for (i = 0; i < s->pods.n; i++) {
    static_pod *p = &s->pods.v[i];
    int busy;
    if (p->started)
      continue;
    pthread_mutex_lock(&k->mu);
    busy = static_record_exists(k, p->ns, p->name);
    pthread_mutex_unlock(&k->mu);
    if (busy)
      continue;
    LOG_INFO("static pod %s/%s (uid %s) from the file source: starting",
             p->ns, p->name, p->uid);
    kl_pod_handler.on_add(k, p->pod);
    p->started = 1;
  }
  pthread_mutex_unlock(&s->mu);
}

/* Replaces the pod set with a scan's: gone pods are stopped. */
static void apply_scan(kl_static *s, scan *sc)
{
  kl *k = s->k;
  pod_set old;
  size_t i;

  pthread_mutex_lock(&s->mu);
  old = s->pods;
  for (i = 0; i < sc->pods.n; i++) {
    static_pod *was = set_find(&old, sc->pods.v[i].uid);
    if (was)
      sc->pods.v[i].started = was->started;
  }
  s->pods = sc->pods;
  memset(&sc->pods, 0, sizeof sc->pods);
  for (i = 0; i < old.n; i++) {
    static_pod *p = &old.v[i];
    if (set_find(&s->pods, p->uid))
      continue;
    LOG_INFO("static pod %s/%s (uid %s) %s: stopping it", p->ns, p->name,
             p->uid, set_find_name(&s->pods, p->ns, p->name)
                         ? "changed in its manifest"
                         : "removed from the manifests");
    if (p->started)
      kl_pod_handler.on_delete(k, p->pod);
  }
  pthread_mutex_unlock(&s->mu);
  set_clear(&old);
  warnings_clear(&s->warned);
  s->warned = sc->warned;
  memset(&sc->warned, 0, sizeof sc->warned);
  s->scanned = 1;
}

static void rescan(kl_static *s)
{
  scan sc = {.s = s};
  read_manifests(&sc);
  apply_scan(s, &sc);
  set_clear(&sc.pods);
  warnings_clear(&sc.warned);
}

/* ---- mirror pods ------------------------------------------------------------------ */

/* DeleteMirrorPod: immediately, and only the mirror pod of that uid. */
static void delete_mirror(kl_static *s, const char *ns, const char *name,
                          const char *uid)
{
  kapi_result res;
  kj *opts = kj_object();
  int rc;
  kj_set_str(opts, "kind", "DeleteOptions");
  kj_set_str(opts, "apiVersion", "v1");
  kj_set_int(opts, "gracePeriodSeconds", 0);
  kj_set_str(kj_child_object(opts, "preconditions"), "uid", uid);
  rc = kapi_client_delete(s->k->client, &pods_gvr, ns, name, opts, &res);
  kj_free(opts);
  if (rc == 0 || rc == -ENOENT || rc == -EBUSY || rc == -EEXIST)
    LOG_INFO("mirror pod %s/%s (uid %s) deleted", ns, name, uid);
  else
    LOG_WARN("cannot delete mirror pod %s/%s: %s", ns, name, res.message);
}

/* The Node's uid for the owner reference; -ENOENT while it is not
 * registered, -ESHUTDOWN while it is being deleted. */
static int node_uid(kl_static *s, char *buf, size_t len)
{
  kapi_result res;
  kj *node = NULL;
  int rc = kapi_client_get(s->k->client, &nodes_gvr, NULL, s->node->name,
                           &node, &res);
  if (rc < 0)
    return rc;
  if (kj_ptr(node, "/metadata/deletionTimestamp"))
    rc = -ESHUTDOWN;
  else if (kj_str(kj_ptr(node, "/metadata/uid")))
    snprintf(buf, len, "%s", kj_str(kj_ptr(node, "/metadata/uid")));
  else
    rc = -ENOENT;
  kj_free(node);
  return rc;
}

/* CreateMirrorPod: the static pod as the API's copy of it, owned by the
 * Node (NodeRestriction admits no other mirror pod). */
static void create_mirror(kl_static *s, const static_pod *p)
{
  kapi_result res;
  char nuid[64];
  kj *m, *meta, *ref, *refs, *got = NULL;
  int rc = node_uid(s, nuid, sizeof nuid);

  if (rc < 0) {
    LOG_V(2, "not creating mirror pod %s/%s: node %s %s", p->ns, p->name,
          s->node->name, rc == -ESHUTDOWN ? "is being deleted"
                                          : "is not registered yet");
    return;
  }
  m = kj_clone(p->pod->obj);
  if (!m)
    return;
  meta = object_at(m, "metadata");
  kj_remove(meta, "uid"); /* the apiserver's own */
  kj_set_str(object_at(meta, "annotations"), KL_CONFIG_MIRROR, p->uid);
  ref = kj_object();
  kj_set_str(ref, "apiVersion", "v1");
  kj_set_str(ref, "kind", "Node");
  kj_set_str(ref, "name", s->node->name);
  kj_set_str(ref, "uid", nuid);
  kj_set(ref, "controller", kj_bool(1));
  refs = kj_array();
  kj_append(refs, ref);
  kj_set(meta, "ownerReferences", refs);
  kj_remove(m, "status");
  rc = kapi_client_create(s->k->client, &pods_gvr, p->ns, m, NULL, &res);
  kj_free(m);
  if (rc == 0) {
    LOG_INFO("mirror pod %s/%s of static pod %s created", p->ns, p->name,
             p->uid);
    return;
  }
  if (rc == -EEXIST &&
      kapi_client_get(s->k->client, &pods_gvr, p->ns, p->name, &got,
                      NULL) == 0 &&
      annotation(got, KL_CONFIG_MIRROR) &&
      !strcmp(annotation(got, KL_CONFIG_MIRROR), p->uid)) {
    kj_free(got);
    return; /* ours already: the informer had yet to see it */
  }
  kj_free(got);
  LOG_WARN("cannot create mirror pod %s/%s: %s", p->ns, p->name,
           res.message);
}

/*
 * Each started static pod gets one mirror pod of its hash: missing ones
 * are created; outdated ones (another hash) are deleted and created
 * again; ones being deleted (a user's kubectl delete) are deleted at
 * once, and created again a second later: kubectl delete waits for the
 * pod by getting it, then listing and watching its name, and a new pod
 * of the name appearing between the two would have it wait for a
 * deletion already past.  Mirror pods with no static pod of their name
 * are orphans and go.
 */
static void reconcile_mirrors(kl_static *s)
{
  kl *k = s->k;
  kapi_indexer *ix = kapi_informer_indexer(k->informer);
  kapi_cobj **all = NULL;
  size_t i, n = 0;
  int64_t now = kl_now_ns();

  if (!s->scanned || !kapi_informer_has_synced(k->informer))
    return;
  pthread_mutex_lock(&s->mu);
  for (i = 0; i < s->pods.n; i++) {
    static_pod *p = &s->pods.v[i];
    char key[330];
    kapi_cobj *m = NULL;
    const char *hash;
    if (!p->started || now - p->mirror_at_ns < MIRROR_RETRY_NS)
      continue;
    snprintf(key, sizeof key, "%s/%s", p->ns, p->name);
    kapi_indexer_get(ix, key, &m);
    hash = m ? annotation(m->obj, KL_CONFIG_MIRROR) : NULL;
    if (m && !hash) {
      LOG_V(2, "static pod %s: a pod that is not its mirror has the name",
            key);
    } else if (m && !strcmp(hash, p->uid) &&
               !kj_ptr(m->obj, "/metadata/deletionTimestamp")) {
      /* in line */
    } else if (m) {
      const char *muid = kj_str(kj_ptr(m->obj, "/metadata/uid"));
      int outdated = strcmp(hash, p->uid) != 0;
      LOG_INFO("mirror pod %s is %s: re-creating it", key,
               outdated ? "outdated" : "being deleted");
      if (muid)
        delete_mirror(s, p->ns, p->name, muid);
      if (outdated)
        create_mirror(s, p);
      else
        p->create_after_ns = now + RECREATE_DELAY_NS;
      p->mirror_at_ns = now;
    } else if (now >= p->create_after_ns) {
      create_mirror(s, p);
      p->mirror_at_ns = now;
    }
    kapi_cobj_unref(m);
  }
  if (kapi_indexer_list(ix, &all, &n) == 0) {
    for (i = 0; i < n; i++) {
      const kj *o = all[i]->obj;
      const char *ns = kj_str(kj_ptr(o, "/metadata/namespace"));
      const char *name = kj_str(kj_ptr(o, "/metadata/name"));
      const char *uid = kj_str(kj_ptr(o, "/metadata/uid"));
      const char *node = kj_str(kj_ptr(o, "/spec/nodeName"));
      if (!kl_static_is_mirror(o) || !ns || !name || !uid || !node ||
          strcmp(node, s->node->name) || set_find_name(&s->pods, ns, name))
        continue;
      LOG_INFO("mirror pod %s/%s has no static pod: deleting it", ns, name);
      delete_mirror(s, ns, name, uid);
    }
    kapi_cobj_array_free(all, n);
  }
  pthread_mutex_unlock(&s->mu);
}

void kl_static_mirror_event(kl *k, const kj *mirror)
{
  kl_static *s = k->statics;
  const char *ns = kj_str(kj_ptr(mirror, "/metadata/namespace"));
  const char *name = kj_str(kj_ptr(mirror, "/metadata/name"));
  char uid[40] = "";
  static_pod *p;

  if (!s || !ns || !name)
    return;
  pthread_mutex_lock(&s->mu);
  p = set_find_name(&s->pods, ns, name);
  if (p && p->started) {
    snprintf(uid, sizeof uid, "%s", p->uid);
    p->mirror_at_ns = 0; /* the informer has news: act on them now */
  }
  pthread_mutex_unlock(&s->mu);
  /* Its status goes to the new mirror pod without waiting for a resync. */
  if (*uid)
    kl_enqueue(k, uid);
  wake(s);
}

int kl_static_mirror_of(kl *k, const kj *pod, char *uid, size_t len,
                        kj **status)
{
  const char *hash = annotation(pod, KL_CONFIG_HASH);
  const char *ns = kj_str(kj_ptr(pod, "/metadata/namespace"));
  const char *name = kj_str(kj_ptr(pod, "/metadata/name"));
  const char *mhash, *muid;
  kapi_cobj *m = NULL;
  char key[330];
  int rc = -ENOENT;

  if (status)
    *status = NULL;
  if (!hash || !ns || !name || !k->informer)
    return -ENOENT;
  snprintf(key, sizeof key, "%s/%s", ns, name);
  if (kapi_indexer_get(kapi_informer_indexer(k->informer), key, &m) < 0)
    return -ENOENT;
  mhash = annotation(m->obj, KL_CONFIG_MIRROR);
  muid = kj_str(kj_ptr(m->obj, "/metadata/uid"));
  if (mhash && !strcmp(mhash, hash) && muid &&
      !kj_ptr(m->obj, "/metadata/deletionTimestamp")) {
    snprintf(uid, len, "%s", muid);
    if (status && kj_get(m->obj, "status"))
      *status = kj_clone(kj_get(m->obj, "status"));
    rc = 0;
  }
  kapi_cobj_unref(m);
  return rc;
}

/* ---- the thread ---------------------------------------------------------------- */

/* inotify on the directory: upstream's file source watches it too, the
 * period being the safety net.  Retried while the directory is missing. */
static void watch_dir(kl_static *s)
{
  if (s->ifd < 0 || s->wd >= 0)
    return;
  s->wd = inotify_add_watch(s->ifd, s->dir,
                            IN_CREATE | IN_DELETE | IN_MODIFY | IN_MOVED_FROM |
                                IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB |
                                IN_DELETE_SELF | IN_MOVE_SELF);
}

/* Reads pending inotify events: 1 if the directory changed. */
static int drain_inotify(kl_static *s)
{
  char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
  ssize_t n;
  int changed = 0;
  while ((n = read(s->ifd, buf, sizeof buf)) > 0) {
    char *p = buf;
    while (p < buf + n) {
      const struct inotify_event *ev = (const struct inotify_event *)p;
      if (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF))
        s->wd = -1; /* the directory went: watch it again when back */
      changed = 1;
      p += sizeof *ev + ev->len;
    }
  }
  return changed;
}

void *kl_static_main(void *arg)
{
  kl_static *s = arg;
  kl *k = s->k;
  int64_t next_scan = 0, next_reconcile = 0;

  while (!k->stopping) {
    struct pollfd fds[2] = {{.fd = s->efd, .events = POLLIN},
                            {.fd = s->ifd, .events = POLLIN}};
    int64_t now = kl_now_ns();
    if (now >= next_scan) {
      watch_dir(s);
      rescan(s);
      next_scan = now + s->period_ns;
      next_reconcile = 0;
    }
    start_pending(s);
    if (now >= next_reconcile) {
      reconcile_mirrors(s);
      next_reconcile = now + RECONCILE_NS;
    }
    if (poll(fds, s->ifd >= 0 ? 2 : 1, POLL_SLICE_MS) <= 0)
      continue;
    if (fds[0].revents & POLLIN) {
      uint64_t v;
      if (read(s->efd, &v, sizeof v) > 0)
        next_reconcile = 0;
    }
    if ((fds[1].revents & POLLIN) && drain_inotify(s) &&
        next_scan > kl_now_ns() + DEBOUNCE_NS)
      next_scan = kl_now_ns() + DEBOUNCE_NS;
  }
  return NULL;
}

/* ---- lifecycle ------------------------------------------------------------------ */

int kl_static_new(kl *k, const char *dir, int64_t period_ns, kl_static **ret)
{
  kl_static *s = calloc(1, sizeof *s);
  if (!s || !(s->dir = strdup(dir))) {
    free(s);
    return -ENOMEM;
  }
  s->k = k;
  s->node = &k->node[0];
  s->period_ns = period_ns > 0 ? period_ns : 20 * KL_NS_PER_S;
  pthread_mutex_init(&s->mu, NULL);
  s->wd = -1;
  s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  s->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (s->ifd < 0)
    LOG_WARN("inotify unavailable (%s): static pod manifests are read "
             "every %llds", strerror(errno),
             (long long)(s->period_ns / KL_NS_PER_S));
  if (s->efd < 0) {
    int rc = -errno;
    kl_static_free(s);
    return rc;
  }
  *ret = s;
  return 0;
}

void kl_static_free(kl_static *s)
{
  if (!s)
    return;
  set_clear(&s->pods);
  warnings_clear(&s->warned);
  if (s->ifd >= 0)
    close(s->ifd);
  if (s->efd >= 0)
    close(s->efd);
  pthread_mutex_destroy(&s->mu);
  free(s->dir);
  free(s);
}
