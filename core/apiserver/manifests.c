/*
 * manifests.c - the auto-deploying manifests directory (manifests.h).
 *
 * One thread does everything, so the record of applied objects needs no
 * lock: a full pass at start and every resync period, and between them
 * the files inotify reports.  A pass over one file decodes it with the
 * Builder (continuing past bad documents), server-side applies each
 * object with the source annotation, and then deletes what the file
 * held before but holds no more.  A file with any error deletes nothing:
 * a half-edited or broken file must not take its objects down.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kapi/client.h"
#include "kapi/json.h"
#include "kapi/resource.h"
#include "log.h"
#include "manifests.h"

/* Events closer together than this are handled as one batch: editors
 * and `cp` write a file in several steps. */
#define SETTLE_MS 200

/* One object applied from the directory. */
typedef struct applied {
  char *source; /* path relative to the directory */
  kapi_mapping mapping;
  char *namespace_; /* NULL when cluster-scoped */
  char *name;
} applied;

typedef struct applied_list {
  applied *v;
  size_t n, cap;
} applied_list;

/* Watched directories: inotify descriptor -> path relative to dir. */
typedef struct watch_dir {
  int wd;
  char *rel; /* "" for the directory itself */
} watch_dir;

struct kapi_manifests {
  char *dir, *state_file;
  int resync_s;
  kapi_client *client;
  pthread_t thread;
  int stop_pipe[2];
  int inotify_fd; /* -1 if inotify is unavailable: resyncs only */
  watch_dir *watches;
  size_t n_watches, cap_watches;
  applied_list state; /* what the state file says was applied */
};

/* ---- the record of applied objects ------------------------------------- */

static void applied_clear(applied *a)
{
  free(a->source);
  kapi_mapping_clear(&a->mapping);
  free(a->namespace_);
  free(a->name);
  memset(a, 0, sizeof *a);
}

static void list_clear(applied_list *l)
{
  for (size_t i = 0; i < l->n; i++)
    applied_clear(&l->v[i]);
  free(l->v);
  memset(l, 0, sizeof *l);
}

static char *dup_or_null(const char *s)
{
  return s ? strdup(s) : NULL;
}

static int same_str(const char *a, const char *b)
{
  return !strcmp(a ? a : "", b ? b : "");
}

/* Whether a and b name the same object (source aside). */
static int same_object(const applied *a, const applied *b)
{
  return same_str(a->mapping.group, b->mapping.group) &&
         same_str(a->mapping.resource, b->mapping.resource) &&
         same_str(a->namespace_, b->namespace_) && same_str(a->name, b->name);
}

/* Appends a copy of the fields; -ENOMEM. */
static int list_add(applied_list *l, const char *source, const kapi_mapping *m,
                    const char *ns, const char *name)
{
  applied *a;

  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    applied *v = realloc(l->v, cap * sizeof *v);
    if (!v)
      return -ENOMEM;
    l->v = v;
    l->cap = cap;
  }
  a = &l->v[l->n];
  memset(a, 0, sizeof *a);
  a->source = strdup(source);
  a->mapping.group = strdup(m->group ? m->group : "");
  a->mapping.version = strdup(m->version ? m->version : "");
  a->mapping.resource = strdup(m->resource ? m->resource : "");
  a->mapping.kind = strdup(m->kind ? m->kind : "");
  a->mapping.namespaced = m->namespaced;
  a->namespace_ = m->namespaced ? dup_or_null(ns) : NULL;
  a->name = strdup(name);
  if (!a->source || !a->mapping.group || !a->mapping.version ||
      !a->mapping.resource || !a->mapping.kind || !a->name ||
      (m->namespaced && ns && !a->namespace_)) {
    applied_clear(a);
    return -ENOMEM;
  }
  l->n++;
  return 0;
}

static int list_has(const applied_list *l, const applied *a)
{
  for (size_t i = 0; i < l->n; i++)
    if (same_object(&l->v[i], a))
      return 1;
  return 0;
}

/* ---- the state file ------------------------------------------------------ */

static kj *applied_to_json(const applied *a)
{
  kj *o = kj_object();

  if (!o || kj_set_str(o, "source", a->source) < 0 ||
      kj_set_str(o, "group", a->mapping.group) < 0 ||
      kj_set_str(o, "version", a->mapping.version) < 0 ||
      kj_set_str(o, "resource", a->mapping.resource) < 0 ||
      kj_set_str(o, "kind", a->mapping.kind) < 0 ||
      kj_set(o, "namespaced", kj_bool(a->mapping.namespaced)) < 0 ||
      (a->namespace_ && kj_set_str(o, "namespace", a->namespace_) < 0) ||
      kj_set_str(o, "name", a->name) < 0) {
    kj_free(o);
    return NULL;
  }
  return o;
}

/* Written to a temporary file and renamed, so that a crash leaves the
 * old record or the new one, never half of one. */
static int save_state(kapi_manifests *m)
{
  kj *doc = kj_object(), *objs = kj_array();
  char tmp[PATH_MAX];
  char *text = NULL;
  size_t len = 0;
  FILE *f;
  int rc = -ENOMEM;

  if (!doc || !objs || kj_set_str(doc, "apiVersion", "kapi.io/v1") < 0 ||
      kj_set_str(doc, "kind", "ManifestsState") < 0 ||
      kj_set_str(doc, "directory", m->dir) < 0) {
    kj_free(objs);
    goto out;
  }
  if (kj_set(doc, "objects", objs) < 0)
    goto out;
  for (size_t i = 0; i < m->state.n; i++)
    if (kj_append(objs, applied_to_json(&m->state.v[i])) < 0)
      goto out;
  if (!(text = kj_dump(doc, &len)))
    goto out;
  snprintf(tmp, sizeof tmp, "%s.tmp", m->state_file);
  rc = -EIO;
  if (!(f = fopen(tmp, "w"))) {
    LOG_ERROR("manifests: cannot write %s: %s", tmp, strerror(errno));
    goto out;
  }
  if (fwrite(text, 1, len, f) != len || fflush(f) != 0 || fsync(fileno(f))) {
    LOG_ERROR("manifests: cannot write %s: %s", tmp, strerror(errno));
    fclose(f);
    unlink(tmp);
    goto out;
  }
  fclose(f);
  if (rename(tmp, m->state_file) < 0) {
    LOG_ERROR("manifests: cannot rename %s: %s", tmp, strerror(errno));
    unlink(tmp);
    goto out;
  }
  rc = 0;
out:
  free(text);
  kj_free(doc);
  return rc;
}

static char *read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  long n;

  if (!f)
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
      fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
    *len = fread(buf, 1, (size_t)n, f);
    buf[*len] = '\0';
  }
  fclose(f);
  return buf;
}

/* A missing file is an empty record; an unreadable one is logged and
 * treated as empty (the annotations still find kapi's objects). */
static void load_state(kapi_manifests *m)
{
  size_t len = 0;
  char *text = read_file(m->state_file, &len), err[256];
  const char *dir;
  kj *doc = NULL, *objs;

  if (!text)
    return;
  if (kj_parse(text, len, &doc, err, sizeof err) < 0) {
    LOG_ERROR("manifests: ignoring %s: %s", m->state_file, err);
    goto out;
  }
  /* Another directory's objects are not this one's to delete. */
  dir = kj_get_str(doc, "directory");
  if (!dir || strcmp(dir, m->dir)) {
    LOG_WARN("manifests: %s records directory %s, not %s: ignoring it",
             m->state_file, dir ? dir : "(none)", m->dir);
    goto out;
  }
  objs = kj_get(doc, "objects");
  for (size_t i = 0; i < kj_len(objs); i++) {
    const kj *o = kj_at(objs, i);
    kapi_mapping mp = {
        .group = (char *)kj_get_str(o, "group"),
        .version = (char *)kj_get_str(o, "version"),
        .resource = (char *)kj_get_str(o, "resource"),
        .kind = (char *)kj_get_str(o, "kind"),
        .namespaced = kj_is_true(kj_get(o, "namespaced"))};
    const char *src = kj_get_str(o, "source"), *name = kj_get_str(o, "name");
    if (src && name && mp.resource && mp.version)
      list_add(&m->state, src, &mp, kj_get_str(o, "namespace"), name);
  }
out:
  kj_free(doc);
  free(text);
}

/* ---- talking to the server ----------------------------------------------- */

static void info_of(const applied *a, kapi_info *info)
{
  memset(info, 0, sizeof *info);
  info->source = a->source;
  info->namespace_ = a->namespace_;
  info->name = a->name;
  info->mapping = a->mapping; /* borrowed: the helpers only read it */
}

static const char *kind_of(const applied *a)
{
  return a->mapping.kind && *a->mapping.kind ? a->mapping.kind
                                              : a->mapping.resource;
}

/*
 * Deletes the object a records if it still carries a's source: another
 * file may have taken it over, or someone may have removed the
 * annotation to keep the object.  A missing object is done with.
 */
static void delete_owned(kapi_manifests *m, const applied *a)
{
  kapi_result res;
  kapi_info info;
  kj *live = NULL;
  const char *src;
  int rc;

  info_of(a, &info);
  rc = kapi_helper_get(m->client, &info, &live, &res);
  if (rc == -ENOENT)
    return;
  if (rc < 0) {
    LOG_ERROR("manifests: cannot get %s %s%s%s: %s", kind_of(a),
              a->namespace_ ? a->namespace_ : "", a->namespace_ ? "/" : "",
              a->name, res.message);
    return;
  }
  src = kj_get_str(kj_ptr(live, "/metadata/annotations"),
                   KAPI_MANIFEST_SOURCE_ANNOTATION);
  if (!src || strcmp(src, a->source)) {
    LOG_V(2, "manifests: %s %s is no longer %s's: keeping it", kind_of(a),
          a->name, a->source);
    kj_free(live);
    return;
  }
  kj_free(live);
  rc = kapi_helper_delete(m->client, &info, &res);
  if (rc < 0 && rc != -ENOENT)
    LOG_ERROR("manifests: cannot delete %s %s%s%s: %s", kind_of(a),
              a->namespace_ ? a->namespace_ : "", a->namespace_ ? "/" : "",
              a->name, res.message);
  else
    LOG_INFO("manifests: deleted %s %s%s%s (%s)", kind_of(a),
             a->namespace_ ? a->namespace_ : "", a->namespace_ ? "/" : "",
             a->name, a->source);
}

/* ---- one file ------------------------------------------------------------ */

struct file_pass {
  kapi_manifests *m;
  const char *rel;
  applied_list fresh; /* what the file holds now, applied */
};

static int apply_info(kapi_info *info, void *arg, kapi_errlist *errs)
{
  struct file_pass *p = arg;
  kapi_result res;
  kj *meta, *ann;
  int rc;

  if (!info->mapping.resource) {
    kapi_errlist_add(errs, "error parsing %s: document %zu has no resource "
                     "mapping", p->rel, info->index);
    return -EINVAL;
  }
  if (!info->name || !*info->name) {
    kapi_errlist_add(errs, "error validating \"%s\": %s: resource name may "
                     "not be empty", p->rel, info->mapping.kind);
    return -EINVAL;
  }
  /* The ownership mark travels with the apply, so the server records it
   * as one of this manager's fields. */
  if (!(meta = kj_child_object(info->object, "metadata")) ||
      !(ann = kj_child_object(meta, "annotations")) ||
      kj_set_str(ann, KAPI_MANIFEST_SOURCE_ANNOTATION, p->rel) < 0)
    return -ENOMEM;
  rc = kapi_helper_apply(p->m->client, info, KAPI_MANIFEST_FIELD_MANAGER,
                         NULL, &res);
  if (rc < 0) {
    kapi_errlist_add(errs, "error applying %s %s%s%s from %s: %s",
                     info->mapping.kind,
                     info->mapping.namespaced && info->namespace_
                         ? info->namespace_ : "",
                     info->mapping.namespaced && info->namespace_ ? "/" : "",
                     info->name, p->rel, res.message);
    return rc;
  }
  LOG_V(2, "manifests: applied %s %s from %s", info->mapping.kind, info->name,
        p->rel);
  return list_add(&p->fresh, p->rel, &info->mapping, info->namespace_,
                  info->name);
}

/* Decodes and applies dir/rel (if it exists); fills p->fresh.  Returns
 * the number of errors (each logged), or -errno. */
static int apply_file(struct file_pass *p, kapi_mapper *mapper)
{
  char path[PATH_MAX];
  const char *paths[1] = {path};
  kapi_errlist errs = {0};
  kapi_builder *b;
  kapi_visitor *v = NULL;
  struct stat st;
  size_t nerr;

  snprintf(path, sizeof path, "%s/%s", p->m->dir, p->rel);
  if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
    return 0; /* gone: holds nothing */
  if (!(b = kapi_builder_new(mapper)))
    return -ENOMEM;
  /* As kubectl apply -f: objects without a namespace go to "default". */
  kapi_builder_namespace(b, "default", 0);
  kapi_builder_continue_on_error(b);
  kapi_builder_flatten(b);
  if (kapi_builder_filenames(b, 1, paths, 1) == 0)
    v = kapi_builder_do(b, &errs);
  kapi_builder_free(b);
  if (v) {
    kapi_visit(v, apply_info, p, &errs);
    kapi_visitor_free(v);
  } else if (!errs.n) {
    kapi_errlist_add(&errs, "error reading %s", path);
  }
  for (size_t i = 0; i < errs.n; i++)
    LOG_ERROR("manifests: %s", errs.msgs[i]);
  nerr = errs.n;
  kapi_errlist_clear(&errs);
  return (int)nerr;
}

/*
 * Applies one file and brings the record in line: without errors, what
 * the record has for rel but the file no longer holds is deleted
 * (latest first, so a namespace goes after its objects); with errors,
 * nothing is deleted and old entries are kept.  Returns the number of
 * errors, or -errno.
 */
static int sync_file(kapi_manifests *m, const char *rel, kapi_mapper *mapper)
{
  struct file_pass p = {.m = m, .rel = rel};
  applied_list next = {0};
  char *src = strdup(rel); /* rel may point into m->state */
  int nerr, rc = 0;

  if (!src)
    return -ENOMEM;
  p.rel = src;
  nerr = apply_file(&p, mapper);
  if (nerr < 0) {
    list_clear(&p.fresh);
    free(src);
    return nerr;
  }
  if (nerr == 0)
    for (size_t i = m->state.n; i-- > 0;) {
      const applied *a = &m->state.v[i];
      if (!strcmp(a->source, src) && !list_has(&p.fresh, a))
        delete_owned(m, a);
    }
  /* The new record: other files' entries (minus objects this file has
   * now taken over), then this file's. */
  for (size_t i = 0; i < m->state.n && rc == 0; i++) {
    const applied *a = &m->state.v[i];
    int mine = !strcmp(a->source, src);
    if (list_has(&p.fresh, a) || (mine && nerr == 0))
      continue;
    rc = list_add(&next, a->source, &a->mapping, a->namespace_, a->name);
  }
  for (size_t i = 0; i < p.fresh.n && rc == 0; i++) {
    const applied *a = &p.fresh.v[i];
    rc = list_add(&next, a->source, &a->mapping, a->namespace_, a->name);
  }
  list_clear(&p.fresh);
  free(src);
  if (rc < 0) {
    list_clear(&next);
    return rc;
  }
  list_clear(&m->state);
  m->state = next;
  return nerr;
}

/* ---- the directory ------------------------------------------------------- */

/* The files the Builder reads in a directory; dot files are skipped too
 * (editors' temporary and backup files). */
static int is_manifest_name(const char *name)
{
  const char *dot = strrchr(name, '.');

  if (name[0] == '.' || !dot)
    return 0;
  return !strcmp(dot, ".yaml") || !strcmp(dot, ".yml") ||
         !strcmp(dot, ".json");
}

typedef struct name_list {
  char **v;
  size_t n, cap;
} name_list;

static int names_add(name_list *l, const char *s)
{
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    char **v = realloc(l->v, cap * sizeof *v);
    if (!v)
      return -ENOMEM;
    l->v = v;
    l->cap = cap;
  }
  if (!(l->v[l->n] = strdup(s)))
    return -ENOMEM;
  l->n++;
  return 0;
}

static int names_has(const name_list *l, const char *s)
{
  for (size_t i = 0; i < l->n; i++)
    if (!strcmp(l->v[i], s))
      return 1;
  return 0;
}

static void names_clear(name_list *l)
{
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
  memset(l, 0, sizeof *l);
}

static void add_watch(kapi_manifests *m, const char *rel);

/* The manifest files under dir/rel (relative paths, in name order, as
 * the Builder visits them); sub-directories get inotify watches.
 * -errno if the directory cannot be read. */
static int scan_dir(kapi_manifests *m, const char *rel, name_list *out)
{
  char path[PATH_MAX], sub[PATH_MAX];
  struct dirent **ents;
  int n, rc = 0;

  snprintf(path, sizeof path, "%s%s%s", m->dir, *rel ? "/" : "", rel);
  if ((n = scandir(path, &ents, NULL, alphasort)) < 0)
    return -errno;
  add_watch(m, rel);
  for (int i = 0; i < n; i++) {
    const char *name = ents[i]->d_name;
    struct stat st;
    int too_long =
        snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", name) >=
            (int)sizeof sub ||
        snprintf(path, sizeof path, "%s/%s", m->dir, sub) >= (int)sizeof path;
    if (rc == 0 && !too_long && name[0] != '.' && stat(path, &st) == 0) {
      if (S_ISDIR(st.st_mode))
        rc = scan_dir(m, sub, out) == -ENOMEM ? -ENOMEM : 0;
      else if (S_ISREG(st.st_mode) && is_manifest_name(name))
        rc = names_add(out, sub);
    }
    free(ents[i]);
  }
  free(ents);
  return rc;
}

/* The kinds in the record, one mapping each (borrowed from m->state). */
static size_t recorded_kinds(const kapi_manifests *m, const applied **kinds,
                             size_t max)
{
  size_t n = 0;

  for (size_t i = 0; i < m->state.n; i++) {
    const applied *a = &m->state.v[i];
    size_t j;
    for (j = 0; j < n; j++)
      if (same_str(kinds[j]->mapping.group, a->mapping.group) &&
          same_str(kinds[j]->mapping.resource, a->mapping.resource))
        break;
    if (j == n && n < max)
      kinds[n++] = a;
  }
  return n;
}

/*
 * Objects the record lost (a crash between an apply and the record's
 * write): listing each kind kapi applied, an object annotated with a
 * source that is clean (synced without errors this pass, or whose file
 * is gone) but that the record does not list is deleted.
 */
static void prune_unrecorded(kapi_manifests *m, const name_list *clean)
{
  enum { MAX_KINDS = 64 };
  const applied *kinds[MAX_KINDS];
  size_t nk = recorded_kinds(m, kinds, MAX_KINDS);
  applied_list orphans = {0};

  for (size_t k = 0; k < nk; k++) {
    kapi_result res;
    kj *list = NULL, *items;
    if (kapi_helper_list(m->client, &kinds[k]->mapping, NULL, NULL, &list,
                         &res) < 0) {
      LOG_V(2, "manifests: cannot list %s: %s", kinds[k]->mapping.resource,
            res.message);
      continue;
    }
    items = kj_get(list, "items");
    for (size_t i = 0; i < kj_len(items); i++) {
      const kj *meta = kj_get(kj_at(items, i), "metadata");
      const char *src = kj_get_str(kj_get(meta, "annotations"),
                                   KAPI_MANIFEST_SOURCE_ANNOTATION);
      const char *name = kj_get_str(meta, "name");
      char path[PATH_MAX];
      struct stat st;
      applied probe;
      if (!src || !name)
        continue;
      snprintf(path, sizeof path, "%s/%s", m->dir, src);
      if (!names_has(clean, src) && stat(path, &st) == 0)
        continue;
      probe = (applied){.source = (char *)src,
                        .mapping = kinds[k]->mapping,
                        .namespace_ = (char *)kj_get_str(meta, "namespace"),
                        .name = (char *)name};
      if (!list_has(&m->state, &probe))
        list_add(&orphans, src, &kinds[k]->mapping, probe.namespace_, name);
    }
    kj_free(list);
  }
  for (size_t i = orphans.n; i-- > 0;)
    delete_owned(m, &orphans.v[i]);
  list_clear(&orphans);
}

/* A full pass: every file in the directory, then every source the
 * record has whose file is gone. */
static void full_sync(kapi_manifests *m)
{
  name_list files = {0}, clean = {0};
  kapi_mapper *mapper;
  int rc;

  if ((rc = scan_dir(m, "", &files)) < 0) {
    /* Never read a missing directory as "everything was removed". */
    LOG_ERROR("manifests: cannot read %s: %s; not syncing", m->dir,
              strerror(-rc));
    names_clear(&files);
    return;
  }
  for (size_t i = 0; i < m->state.n; i++)
    if (!names_has(&files, m->state.v[i].source) &&
        names_add(&files, m->state.v[i].source) < 0)
      break;
  /* A fresh mapper each pass: manifests may add CRDs. */
  if (!(mapper = kapi_mapper_new(m->client))) {
    names_clear(&files);
    return;
  }
  for (size_t i = 0; i < files.n; i++)
    if (sync_file(m, files.v[i], mapper) == 0)
      names_add(&clean, files.v[i]);
  prune_unrecorded(m, &clean);
  save_state(m);
  kapi_mapper_free(mapper);
  names_clear(&files);
  names_clear(&clean);
  LOG_V(2, "manifests: synced %s (%zu objects)", m->dir, m->state.n);
}

/* ---- inotify ------------------------------------------------------------- */

#define WATCH_MASK                                                         \
  (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | \
   IN_DELETE_SELF | IN_ONLYDIR)

static void add_watch(kapi_manifests *m, const char *rel)
{
  char path[PATH_MAX];
  int wd;

  if (m->inotify_fd < 0)
    return;
  snprintf(path, sizeof path, "%s%s%s", m->dir, *rel ? "/" : "", rel);
  if ((wd = inotify_add_watch(m->inotify_fd, path, WATCH_MASK)) < 0) {
    LOG_WARN("manifests: cannot watch %s: %s", path, strerror(errno));
    return;
  }
  for (size_t i = 0; i < m->n_watches; i++)
    if (m->watches[i].wd == wd)
      return; /* already watched (a rescan) */
  if (m->n_watches == m->cap_watches) {
    size_t cap = m->cap_watches ? m->cap_watches * 2 : 8;
    watch_dir *v = realloc(m->watches, cap * sizeof *v);
    if (!v)
      return;
    m->watches = v;
    m->cap_watches = cap;
  }
  if ((m->watches[m->n_watches].rel = strdup(rel)))
    m->watches[m->n_watches++].wd = wd;
}

static const char *watch_rel(const kapi_manifests *m, int wd)
{
  for (size_t i = 0; i < m->n_watches; i++)
    if (m->watches[i].wd == wd)
      return m->watches[i].rel;
  return NULL;
}

static void drop_watch(kapi_manifests *m, int wd)
{
  for (size_t i = 0; i < m->n_watches; i++)
    if (m->watches[i].wd == wd) {
      free(m->watches[i].rel);
      m->watches[i] = m->watches[--m->n_watches];
      return;
    }
}

/* Reads the pending events into `changed` (files to sync); sets *full
 * when a directory came or went, or events were lost. */
static void read_events(kapi_manifests *m, name_list *changed, int *full)
{
  char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
  ssize_t n;

  while ((n = read(m->inotify_fd, buf, sizeof buf)) > 0) {
    for (char *p = buf; p < buf + n;) {
      const struct inotify_event *ev = (const struct inotify_event *)p;
      const char *dir = watch_rel(m, ev->wd);
      char rel[PATH_MAX];
      p += sizeof *ev + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) {
        *full = 1;
        continue;
      }
      if (ev->mask & IN_IGNORED) {
        drop_watch(m, ev->wd);
        continue;
      }
      if (!dir || !ev->len)
        continue;
      if (ev->mask & IN_ISDIR) {
        if (ev->name[0] != '.')
          *full = 1;
        continue;
      }
      if (!is_manifest_name(ev->name) || (ev->mask & IN_CREATE))
        continue; /* a created file is synced when written and closed */
      snprintf(rel, sizeof rel, "%s%s%s", dir, *dir ? "/" : "", ev->name);
      if (!names_has(changed, rel))
        names_add(changed, rel);
    }
  }
}

/* ---- the thread ---------------------------------------------------------- */

static int64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sync_changed(kapi_manifests *m, const name_list *changed)
{
  kapi_mapper *mapper = kapi_mapper_new(m->client);

  if (!mapper)
    return;
  for (size_t i = 0; i < changed->n; i++) {
    LOG_V(1, "manifests: %s changed", changed->v[i]);
    sync_file(m, changed->v[i], mapper);
  }
  save_state(m);
  kapi_mapper_free(mapper);
}

static void *manifests_thread(void *arg)
{
  kapi_manifests *m = arg;
  int64_t next_resync = 0;

  for (;;) {
    struct pollfd pfd[2] = {{m->stop_pipe[0], POLLIN, 0},
                            {m->inotify_fd, POLLIN, 0}};
    name_list changed = {0};
    int64_t wait;
    int full = 0;

    if (now_ms() >= next_resync) {
      full_sync(m);
      next_resync = now_ms() + (int64_t)m->resync_s * 1000;
    }
    wait = next_resync - now_ms();
    if (poll(pfd, m->inotify_fd >= 0 ? 2 : 1, wait > 0 ? (int)wait : 0) < 0 &&
        errno != EINTR)
      break;
    if (pfd[0].revents)
      break;
    if (!(pfd[1].revents & POLLIN))
      continue;
    /* Let the writer finish before reading what it wrote. */
    do {
      read_events(m, &changed, &full);
    } while (poll(pfd, 2, SETTLE_MS) > 0 && !pfd[0].revents);
    if (pfd[0].revents) {
      names_clear(&changed);
      break;
    }
    if (full)
      next_resync = 0;
    else
      sync_changed(m, &changed);
    names_clear(&changed);
  }
  return NULL;
}

/* ---- start and stop ------------------------------------------------------ */

static void manifests_free(kapi_manifests *m)
{
  if (m->stop_pipe[0] >= 0)
    close(m->stop_pipe[0]);
  if (m->stop_pipe[1] >= 0)
    close(m->stop_pipe[1]);
  if (m->inotify_fd >= 0)
    close(m->inotify_fd);
  for (size_t i = 0; i < m->n_watches; i++)
    free(m->watches[i].rel);
  free(m->watches);
  list_clear(&m->state);
  kapi_client_free(m->client);
  free(m->dir);
  free(m->state_file);
  free(m);
}

int kapi_manifests_start(const kapi_manifests_options *o,
                         kapi_manifests **ret)
{
  kapi_client_config cc = {0};
  kapi_manifests *m = calloc(1, sizeof *m);
  char err[512], abs[PATH_MAX];
  int rc;

  *ret = NULL;
  if (!m)
    return -ENOMEM;
  m->stop_pipe[0] = m->stop_pipe[1] = m->inotify_fd = -1;
  m->resync_s = o->resync_s > 0 ? o->resync_s : KAPI_MANIFEST_DEFAULT_RESYNC_S;
  /* Absolute, so that the record names the directory however it was
   * spelled on the command line. */
  m->dir = strdup(realpath(o->dir, abs) ? abs : o->dir);
  m->state_file = strdup(o->state_file);
  if (!m->dir || !m->state_file) {
    manifests_free(m);
    return -ENOMEM;
  }
  cc.server = o->server;
  cc.token = o->token;
  cc.ca_file = o->ca_file;
  cc.insecure = o->insecure;
  cc.user_agent = "kapi-apiserver/manifests";
  cc.qps = -1; /* the server's own client is not rate limited */
  if ((rc = kapi_client_new(&cc, &m->client, err, sizeof err)) < 0) {
    LOG_ERROR("manifests: cannot create the loopback client: %s", err);
    manifests_free(m);
    return rc;
  }
  if (pipe2(m->stop_pipe, O_CLOEXEC) < 0) {
    rc = -errno;
    manifests_free(m);
    return rc;
  }
  if ((m->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0)
    LOG_WARN("manifests: inotify: %s; relying on the %d s resync",
             strerror(errno), m->resync_s);
  load_state(m);
  if ((rc = pthread_create(&m->thread, NULL, manifests_thread, m)) != 0) {
    manifests_free(m);
    return -rc;
  }
  LOG_INFO("manifests: applying %s (resync every %d s)", m->dir, m->resync_s);
  *ret = m;
  return 0;
}

void kapi_manifests_stop(kapi_manifests *m)
{
  if (!m)
    return;
  if (write(m->stop_pipe[1], "x", 1) < 0)
    LOG_WARN("manifests: cannot stop the thread: %s", strerror(errno));
  pthread_join(m->thread, NULL);
  manifests_free(m);
}
