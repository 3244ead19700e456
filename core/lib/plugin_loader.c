/*
 * plugin_loader.c - loads plugins with dlopen(3) and assembles the chains.
 *
 * Loading one file goes: permission checks (file and directory) ->
 * dlopen(RTLD_NOW | RTLD_LOCAL) -> kapi_plugin_describe() -> descriptor
 * checks (magic, size, ABI major/minor, pointer size, name) -> init.
 * The descriptor is checked before any plugin code but the describe
 * function runs, so a plugin built for another ABI is refused without
 * ever being called into.  Components registered from init are staged on
 * the plugin and only committed when init succeeds; a failed init leaves
 * no trace (Redis' moduleUnregisterCleanup does the same).
 *
 * Every refusal writes one line naming the file, the field and both
 * values, with a hint, in the PostgreSQL errmsg/errdetail/errhint
 * spirit.  The loader never logs: the caller reports the line once and
 * stops (fail closed: a silently skipped authorizer is a hole).
 *
 * Not thread-safe: loading and assembling happen on the main thread
 * before the server serves.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin_internal.h"
#include "plugin_loader.h"
#include "status.h"

/* Highest kind value a component may have; kinds are 1-based. */
#define KIND_MAX KAPI_KIND_STORAGE
#define NAME_PATTERN "^[a-z0-9][a-z0-9-]{0,62}$"
#define COMPONENT_NAME_MAX 253

typedef struct component_vec {
  kapi_component **v;
  size_t n, cap;
} component_vec;

struct kapi_plugin {
  kapi_plugins *set;
  char *path;                   /* as given by the caller, owned */
  void *handle;                 /* dlopen handle */
  const kapi_plugin_desc *desc; /* lives in the plugin's image */
  component_vec staged;         /* registered during init, not yet live */
  int refused;                  /* a registration was refused in init */
  char refusal[512];            /* the first refusal, for the error */
};

struct kapi_plugins {
  kj *config;                /* owned copy of the server configuration */
  kapi_plugin **plugins;     /* load order */
  size_t n_plugins, cap_plugins;
  kapi_plugin *initializing; /* the plugin whose init is running */
  component_vec registered[KIND_MAX + 1]; /* registration order, owned */
  component_vec chain[KIND_MAX + 1];      /* borrowed from registered */
  int assembled;
};

static const char *const kind_names[KIND_MAX + 1] = {
  [KAPI_KIND_AUTHN] = "authn",         [KAPI_KIND_AUTHZ] = "authz",
  [KAPI_KIND_ADMISSION] = "admission", [KAPI_KIND_RESOURCE] = "resource",
  [KAPI_KIND_SCHED] = "sched",         [KAPI_KIND_CONTROLLER] = "controller",
  [KAPI_KIND_RUNTIME] = "runtime",     [KAPI_KIND_STORAGE] = "storage",
};

const char *kapi__kind_name(kapi_kind kind)
{
  if ((int)kind < 1 || (int)kind > KIND_MAX)
    return "?";
  return kind_names[kind];
}

const char *kapi__plugin_name(const kapi_plugin *p)
{
  return p ? p->desc->name : NULL;
}

/* Writes the error line into err (if any) and returns rc, so that every
 * refusal is a single `return fail(...)`. */
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    KAPI_PRINTF(4, 5);
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
  va_list ap;

  if (err && errlen) {
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return rc;
}

/* ---- component vectors ----------------------------------------------- */

static int vec_push(component_vec *vec, kapi_component *c)
{
  kapi_component **v;
  size_t cap;

  if (vec->n == vec->cap) {
    cap = vec->cap ? vec->cap * 2 : 8;
    v = realloc(vec->v, cap * sizeof *v);
    if (!v)
      return -ENOMEM;
    vec->v = v;
    vec->cap = cap;
  }
  vec->v[vec->n++] = c;
  return 0;
}

static void free_name_list(char **list)
{
  size_t i;

  if (!list)
    return;
  for (i = 0; list[i]; i++)
    free(list[i]);
  free(list);
}

static void component_free(kapi_component *c)
{
  if (!c)
    return;
  free(c->name);
  free_name_list(c->after);
  free_name_list(c->before);
  free(c);
}

/* Frees the components themselves: only for vectors that own them
 * (staged and registered, never chain). */
static void vec_free_components(component_vec *vec)
{
  size_t i;

  for (i = 0; i < vec->n; i++)
    component_free(vec->v[i]);
  free(vec->v);
  memset(vec, 0, sizeof *vec);
}

static void vec_free(component_vec *vec)
{
  free(vec->v);
  memset(vec, 0, sizeof *vec);
}

static kapi_component *vec_find(const component_vec *vec, kapi_kind kind,
                                const char *name)
{
  size_t i;

  for (i = 0; i < vec->n; i++)
    if (vec->v[i]->kind == kind && !strcmp(vec->v[i]->name, name))
      return vec->v[i];
  return NULL;
}

/* ---- registration (called through the host API during init) --------- */

/* Remembers the first refusal of p's init so the load fails even if init
 * ignores the return value. */
static int refuse(kapi_plugin *p, int rc, const char *fmt, ...)
    KAPI_PRINTF(3, 4);
static int refuse(kapi_plugin *p, int rc, const char *fmt, ...)
{
  va_list ap;

  if (!p->refused) {
    va_start(ap, fmt);
    vsnprintf(p->refusal, sizeof p->refusal, fmt, ap);
    va_end(ap);
    p->refused = 1;
  }
  return rc;
}

/* Component names are upstream's plugin names ("NamespaceLifecycle",
 * "AlwaysAllow") or resource names ("widgets.example.io"). */
static int component_name_ok(const char *name)
{
  size_t n = 0;

  if (!name || !*name)
    return 0;
  for (; name[n]; n++) {
    char c = name[n];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
      return 0;
  }
  return n <= COMPONENT_NAME_MAX;
}

/* Copies a NULL-terminated name list; NULL stays NULL. */
static int copy_name_list(const char *const *in, char ***ret)
{
  char **out;
  size_t n = 0, i;

  *ret = NULL;
  if (!in)
    return 0;
  while (in[n])
    n++;
  out = calloc(n + 1, sizeof *out);
  if (!out)
    return -ENOMEM;
  for (i = 0; i < n; i++) {
    out[i] = strdup(in[i]);
    if (!out[i]) {
      free_name_list(out);
      return -ENOMEM;
    }
  }
  *ret = out;
  return 0;
}

static kapi_component *component_new(kapi_plugin *p, kapi_kind kind,
                                     const char *name, const void *ops,
                                     void *st, const kapi_order *order)
{
  kapi_component *c = calloc(1, sizeof *c);

  if (!c)
    return NULL;
  c->kind = kind;
  c->ops = ops;
  c->st = st;
  c->plugin = p;
  c->priority = order ? order->priority : KAPI_ORDER_MIDDLE;
  c->name = strdup(name);
  if (!c->name ||
      copy_name_list(order ? order->after : NULL, &c->after) < 0 ||
      copy_name_list(order ? order->before : NULL, &c->before) < 0) {
    component_free(c);
    return NULL;
  }
  return c;
}

/* Is `name` taken in `kind`, by a live plugin or by p's own staging? */
static int check_unique_component(kapi_plugin *p, kapi_kind kind,
                                  const char *name)
{
  const kapi_component *c;

  if (vec_find(&p->staged, kind, name))
    return refuse(p, -EEXIST,
                  "duplicate component (name): %s \"%s\" is registered "
                  "twice by this plugin; hint: register each name once",
                  kapi__kind_name(kind), name);
  c = vec_find(&p->set->registered[kind], kind, name);
  if (c)
    return refuse(p, -EEXIST,
                  "duplicate component (name): %s \"%s\" is already "
                  "registered by plugin \"%s\" (%s); hint: disable one of "
                  "the two plugins",
                  kapi__kind_name(kind), name, c->plugin->desc->name,
                  c->plugin->path);
  return 0;
}

int kapi__plugin_register(kapi_plugin *p, kapi_kind kind, const char *name,
                          const void *ops, uint32_t ops_size, void *st,
                          const kapi_order *order)
{
  kapi_component *c;
  int r;

  /* Only the plugin whose init is running may register (Redis allows
   * RM_CreateCommand in OnLoad only): later registrations could race
   * with request threads reading the chains. */
  if (!p || !p->set || p->set->initializing != p)
    return -EPERM;
  if ((int)kind < 1 || (int)kind > KIND_MAX)
    return refuse(p, -EINVAL,
                  "unknown component kind (kind): server knows 1..%d, "
                  "plugin passed %d", KIND_MAX, (int)kind);
  if (!component_name_ok(name))
    return refuse(p, -EINVAL,
                  "invalid component name (name): \"%s\" is not 1..%d of "
                  "[A-Za-z0-9._-]", name ? name : "(null)",
                  COMPONENT_NAME_MAX);
  if (!ops)
    return refuse(p, -EINVAL, "%s \"%s\": ops is NULL",
                  kapi__kind_name(kind), name);
  /* A size of 0 means the plugin forgot `.size = sizeof ops`. */
  if (ops_size < sizeof(uint32_t))
    return refuse(p, -EINVAL,
                  "%s \"%s\": ops size (size): server needs >= %zu, "
                  "plugin has %u; hint: set .size = sizeof(ops)",
                  kapi__kind_name(kind), name, sizeof(uint32_t),
                  (unsigned)ops_size);
  r = check_unique_component(p, kind, name);
  if (r < 0)
    return r;
  c = component_new(p, kind, name, ops, st, order);
  if (!c || vec_push(&p->staged, c) < 0) {
    component_free(c);
    return refuse(p, -ENOMEM, "%s \"%s\": out of memory",
                  kapi__kind_name(kind), name);
  }
  return 0;
}

int kapi__plugin_register_resource(kapi_plugin *p,
                                   const kapi_resource_ops *ops, void *st)
{
  /* The fields the name is built from must be inside the plugin's
   * struct; everything after them is read later, by size. */
  const size_t need = offsetof(kapi_resource_ops, kind) + sizeof ops->kind;
  char name[COMPONENT_NAME_MAX + 2];
  const char *group;
  int n;

  if (!p || !p->set || p->set->initializing != p)
    return -EPERM;
  if (!ops)
    return refuse(p, -EINVAL, "resource: ops is NULL");
  if (ops->size < need)
    return refuse(p, -EINVAL,
                  "resource ops size (size): server needs >= %zu, plugin "
                  "has %u; hint: set .size = sizeof(ops)", need,
                  (unsigned)ops->size);
  if (!ops->resource || !*ops->resource || !ops->version ||
      !*ops->version || !ops->kind || !*ops->kind)
    return refuse(p, -EINVAL,
                  "resource (resource/version/kind): server needs all "
                  "three, plugin has \"%s\"/\"%s\"/\"%s\"",
                  ops->resource ? ops->resource : "(null)",
                  ops->version ? ops->version : "(null)",
                  ops->kind ? ops->kind : "(null)");
  group = ops->group ? ops->group : "";
  n = *group ? snprintf(name, sizeof name, "%s.%s", ops->resource, group)
             : snprintf(name, sizeof name, "%s", ops->resource);
  if (n < 0 || (size_t)n >= sizeof name)
    return refuse(p, -EINVAL,
                  "resource name (resource.group): server allows %d "
                  "characters, plugin has %d", COMPONENT_NAME_MAX, n);
  return kapi__plugin_register(p, KAPI_KIND_RESOURCE, name, ops, ops->size,
                               st, NULL);
}

/* ---- permission checks ------------------------------------------------ */

/*
 * Anyone who can write a plugin, or the directory it sits in, runs code
 * in the server.  Refuse what a non-root user could have swapped (ssh's
 * StrictModes, PostgreSQL's $libdir confinement).
 */
static int check_owner_and_mode(const char *what, const char *path,
                                const struct stat *st, char *err,
                                size_t errlen)
{
  unsigned mode = st->st_mode & 07777;

  if (mode & (S_IWGRP | S_IWOTH))
    return fail(err, errlen, -EPERM,
                "%s \"%s\": group- or world-writable (mode): server allows "
                "at most %04o, found %04o; hint: chmod go-w \"%s\"",
                what, path, mode & ~(unsigned)(S_IWGRP | S_IWOTH), mode,
                path);
  if (st->st_uid != 0 && st->st_uid != geteuid())
    return fail(err, errlen, -EPERM,
                "%s \"%s\": foreign owner (uid): server allows root or uid "
                "%u, found uid %u; hint: chown it to root",
                what, path, (unsigned)geteuid(), (unsigned)st->st_uid);
  return 0;
}

static int check_dir(const char *dir, char *err, size_t errlen)
{
  struct stat st;

  if (stat(dir, &st) < 0)
    return fail(err, errlen, -errno, "plugin directory \"%s\": %s", dir,
                strerror(errno));
  if (!S_ISDIR(st.st_mode))
    return fail(err, errlen, -ENOTDIR,
                "plugin directory \"%s\": not a directory", dir);
  return check_owner_and_mode("plugin directory", dir, &st, err, errlen);
}

/* The directory part of `path` (newly allocated); "." if it has none. */
static char *parent_dir(const char *path)
{
  const char *slash = strrchr(path, '/');

  if (!slash)
    return strdup(".");
  if (slash == path)
    return strdup("/");
  return strndup(path, (size_t)(slash - path));
}

/*
 * Checks the file and the directory it really lives in (after symlinks),
 * and returns that real path in *ret (newly allocated): it is what gets
 * dlopen'ed, so what was checked is what is mapped.
 */
static int check_file(const char *path, char **ret, char *err, size_t errlen)
{
  struct stat st;
  char *real, *dir;
  int r;

  real = realpath(path, NULL);
  if (!real)
    return fail(err, errlen, -errno, "plugin \"%s\": %s", path,
                strerror(errno));
  dir = parent_dir(real);
  r = dir ? check_dir(dir, err, errlen) : -ENOMEM;
  free(dir);
  if (r == 0 && stat(real, &st) < 0)
    r = fail(err, errlen, -errno, "plugin \"%s\": %s", path,
             strerror(errno));
  else if (r == 0 && !S_ISREG(st.st_mode))
    r = fail(err, errlen, -EINVAL, "plugin \"%s\": not a regular file",
             path);
  else if (r == 0)
    r = check_owner_and_mode("plugin", path, &st, err, errlen);
  if (r < 0) {
    free(real);
    return r;
  }
  *ret = real;
  return 0;
}

/* ---- opening and describing ------------------------------------------ */

static void plugin_close(kapi_plugin *p)
{
  if (!p)
    return;
  vec_free_components(&p->staged);
  if (p->handle)
    dlclose(p->handle);
  free(p->path);
  free(p);
}

/* dlopen + kapi_plugin_describe(); *ret gets a plugin with `desc` set. */
static int plugin_open(const char *path, const char *real, kapi_plugin **ret,
                       char *err, size_t errlen)
{
  const kapi_plugin_desc *(*describe)(void);
  kapi_plugin *p;
  void *sym;

  p = calloc(1, sizeof *p);
  if (!p || !(p->path = strdup(path))) {
    free(p);
    return fail(err, errlen, -ENOMEM, "plugin \"%s\": out of memory", path);
  }
  /* NOW: unresolved symbols fail here, not in the middle of a request.
   * LOCAL: plugins cannot interpose on each other's symbols. */
  p->handle = dlopen(real, RTLD_NOW | RTLD_LOCAL);
  if (!p->handle) {
    const char *why = dlerror();
    plugin_close(p);
    return fail(err, errlen, -ENOEXEC,
                "plugin \"%s\": dlopen failed: %s; hint: check its "
                "dependencies with ldd(1)", path, why ? why : "?");
  }
  dlerror();
  sym = dlsym(p->handle, "kapi_plugin_describe");
  if (!sym) {
    const char *why = dlerror();
    int r = fail(err, errlen, -ENOEXEC,
                 "plugin \"%s\": missing entry point (kapi_plugin_describe): "
                 "server needs an exported function, plugin has none (%s); "
                 "hint: define it with KAPI_PLUGIN_DEFINE()", path,
                 why ? why : "not found");
    plugin_close(p);
    return r;
  }
  /* POSIX guarantees that a dlsym result converts to a function pointer;
   * the memcpy keeps ISO C pedantry quiet. */
  memcpy(&describe, &sym, sizeof describe);
  p->desc = describe();
  if (!p->desc) {
    plugin_close(p);
    return fail(err, errlen, -ENOEXEC,
                "plugin \"%s\": kapi_plugin_describe returned NULL; hint: "
                "define it with KAPI_PLUGIN_DEFINE()", path);
  }
  *ret = p;
  return 0;
}

static int name_syntax_ok(const char *name)
{
  size_t i;

  if (!name || !((name[0] >= 'a' && name[0] <= 'z') ||
                 (name[0] >= '0' && name[0] <= '9')))
    return 0;
  for (i = 1; name[i]; i++) {
    char c = name[i];
    if (i > 62 ||
        !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return 0;
  }
  return 1;
}

static const kapi_plugin *find_plugin(const kapi_plugins *ps,
                                      const char *name)
{
  size_t i;

  for (i = 0; i < ps->n_plugins; i++)
    if (!strcmp(ps->plugins[i]->desc->name, name))
      return ps->plugins[i];
  return NULL;
}

/* The ABI fields, in the order that makes reading the next one safe:
 * after magic and size we know the layout is ours. */
static int check_abi(const char *path, const kapi_plugin_desc *d, char *err,
                     size_t errlen)
{
  if (d->magic != KAPI_PLUGIN_MAGIC)
    return fail(err, errlen, -ENOEXEC,
                "plugin \"%s\": bad magic (magic): server 0x%08x (\"KAPI\"), "
                "plugin 0x%08x; hint: not a kapi plugin, or built against "
                "another header", path, KAPI_PLUGIN_MAGIC, (unsigned)d->magic);
  if (d->size < KAPI_PLUGIN_DESC_MIN)
    return fail(err, errlen, -ENOEXEC,
                "plugin \"%s\": descriptor too small (size): server needs "
                ">= %zu bytes, plugin has %u; hint: rebuild it against kapi "
                ">= %d.0", path, (size_t)KAPI_PLUGIN_DESC_MIN,
                (unsigned)d->size, KAPI_ABI_MAJOR);
  if (d->abi_major > KAPI_ABI_MAJOR)
    return fail(err, errlen, -ENOEXEC,
                "plugin \"%s\": ABI mismatch: server %d.%d, plugin built for "
                "%u.%u (abi_major); hint: rebuild it against kapi %d.x, or "
                "run a server >= %u.%u", path, KAPI_ABI_MAJOR, KAPI_ABI_MINOR,
                d->abi_major, d->abi_minor, KAPI_ABI_MAJOR, d->abi_major,
                d->abi_minor);
  if (d->abi_major < KAPI_ABI_MAJOR)
    return fail(err, errlen, -ENOEXEC,
                "plugin \"%s\": ABI mismatch: server %d.%d, plugin built for "
                "%u.%u (abi_major); hint: rebuild it against kapi >= %d.0",
                path, KAPI_ABI_MAJOR, KAPI_ABI_MINOR, d->abi_major,
                d->abi_minor, KAPI_ABI_MAJOR);
  if (d->abi_minor > KAPI_ABI_MINOR)
    return fail(err, errlen, -ENOEXEC,
                "plugin \"%s\": ABI mismatch: server %d.%d, plugin built for "
                "%u.%u (abi_minor is newer); hint: rebuild it against kapi "
                "%d.%d, or run a server >= %u.%u", path, KAPI_ABI_MAJOR,
                KAPI_ABI_MINOR, d->abi_major, d->abi_minor, KAPI_ABI_MAJOR,
                KAPI_ABI_MINOR, d->abi_major, d->abi_minor);
  if (d->ptr_size != sizeof(void *))
    return fail(err, errlen, -ENOEXEC,
                "plugin \"%s\": pointer size mismatch (ptr_size): server %zu, "
                "plugin %u; hint: build it for this machine's architecture",
                path, sizeof(void *), (unsigned)d->ptr_size);
  return 0;
}

static int check_descriptor(const kapi_plugins *ps, const kapi_plugin *p,
                            char *err, size_t errlen)
{
  const kapi_plugin_desc *d = p->desc;
  const kapi_plugin *other;
  int r;

  r = check_abi(p->path, d, err, errlen);
  if (r < 0)
    return r;
  if (!name_syntax_ok(d->name))
    return fail(err, errlen, -EINVAL,
                "plugin \"%s\": invalid name (name): server needs %s, plugin "
                "has \"%s\"; hint: use lower-case letters, digits and '-'",
                p->path, NAME_PATTERN, d->name ? d->name : "(null)");
  other = find_plugin(ps, d->name);
  if (other)
    return fail(err, errlen, -EEXIST,
                "plugin \"%s\": duplicate name (name): \"%s\" is already "
                "loaded from \"%s\"; hint: remove one of the two files",
                p->path, d->name, other->path);
  if (!d->init)
    return fail(err, errlen, -EINVAL,
                "plugin \"%s\": missing init (init): server needs a "
                "function, plugin has NULL; hint: set .init in "
                "KAPI_PLUGIN_DEFINE()", p->path);
  return 0;
}

/* ---- configuration and init ------------------------------------------ */

/*
 * The plugin's own configuration: "plugins": {"<name>": {...}}, else the
 * "configuration" of its entry in "admission": {"plugins": [...]} (the
 * AdmissionConfiguration shape).  A JSON null counts as absent, like a
 * nil config reader upstream.
 */
/* "PodSecurity" and "pod-security" are one name: case and '-' aside. */
static int same_plugin_name(const char *a, const char *b)
{
  for (;;) {
    while (*a == '-')
      a++;
    while (*b == '-')
      b++;
    if (!*a || !*b)
      return !*a && !*b;
    if (tolower((unsigned char)*a++) != tolower((unsigned char)*b++))
      return 0;
  }
}

static const kj *plugin_config(const kj *config, const char *name)
{
  const kj *v, *list, *entry, *adm;
  size_t i;

  v = kj_get(kj_get(config, "plugins"), name);
  if (v && v->type != KJ_NULL)
    return v;
  /* --admission-control-config-file entries, by component name. */
  adm = kj_get(config, "admissionConfiguration");
  for (i = 0; i < kj_len(adm); i++)
    if (same_plugin_name(kj_key_at(adm, i), name)) {
      v = kj_at(adm, i);
      return v && v->type != KJ_NULL ? v : NULL;
    }
  list = kj_get(kj_get(config, "admission"), "plugins");
  for (i = 0; i < kj_len(list); i++) {
    entry = kj_at(list, i);
    if (kj_get_str(entry, "name") && !strcmp(kj_get_str(entry, "name"), name)) {
      v = kj_get(entry, "configuration");
      return v && v->type != KJ_NULL ? v : NULL;
    }
  }
  return NULL;
}

static void format_init_failure(const kapi_plugin *p, int rc,
                                const kapi_error *e, char *err,
                                size_t errlen)
{
  char what[600];
  const char *msg = kapi_error_isset(e) && e->message ? e->message : NULL;

  if (p->refused && rc >= 0)
    snprintf(what, sizeof what, "%s", p->refusal);
  else if (p->refused)
    snprintf(what, sizeof what, "%s; init returned %d (%s)", p->refusal, rc,
             strerror(-rc));
  else
    snprintf(what, sizeof what, "init failed (init): returned %d (%s)", rc,
             strerror(-rc));
  fail(err, errlen, rc < 0 ? rc : -EINVAL,
       "plugin \"%s\": %s%s%s; %zu registration(s) rolled back", p->path,
       what, msg ? ": " : "", msg ? msg : "", p->staged.n);
}

/* Runs init with p as the only plugin allowed to register. */
static int plugin_init(kapi_plugins *ps, kapi_plugin *p, char *err,
                       size_t errlen)
{
  const kj *cfg = plugin_config(ps->config, p->desc->name);
  char *json = NULL;
  size_t len = 0;
  kapi_error e;
  int rc;

  if (cfg && !(json = kj_dump(cfg, &len)))
    return fail(err, errlen, -ENOMEM, "plugin \"%s\": out of memory",
                p->path);
  kapi_error_init(&e);
  p->set = ps;
  ps->initializing = p;
  rc = p->desc->init(p, kapi_host_api_get(), json, len, &e);
  ps->initializing = NULL;
  free(json);
  if (rc < 0 || p->refused) {
    format_init_failure(p, rc, &e, err, errlen);
    rc = rc < 0 ? rc : -EINVAL;
  } else {
    rc = 0;
  }
  kapi_error_clear(&e);
  return rc;
}

/* Moves p's staged components live.  Space is reserved first so that a
 * half-committed plugin is never visible. */
static int commit_staged(kapi_plugins *ps, kapi_plugin *p)
{
  size_t i;
  kapi_component *c;

  for (i = 0; i < p->staged.n; i++) {
    c = p->staged.v[i];
    if (vec_push(&ps->registered[c->kind], c) < 0) {
      /* Undo the ones already moved: they are still owned by staged. */
      while (i-- > 0)
        ps->registered[p->staged.v[i]->kind].n--;
      return -ENOMEM;
    }
  }
  vec_free(&p->staged);
  return 0;
}

static int add_plugin(kapi_plugins *ps, kapi_plugin *p)
{
  kapi_plugin **v;
  size_t cap;

  if (ps->n_plugins == ps->cap_plugins) {
    cap = ps->cap_plugins ? ps->cap_plugins * 2 : 8;
    v = realloc(ps->plugins, cap * sizeof *v);
    if (!v)
      return -ENOMEM;
    ps->plugins = v;
    ps->cap_plugins = cap;
  }
  ps->plugins[ps->n_plugins++] = p;
  return 0;
}

/* ---- public: the set --------------------------------------------------- */

kapi_plugins *kapi_plugins_new(const kj *config)
{
  kapi_plugins *ps = calloc(1, sizeof *ps);

  if (!ps)
    return NULL;
  if (config && !(ps->config = kj_clone(config))) {
    free(ps);
    return NULL;
  }
  return ps;
}

int kapi_plugins_load_file(kapi_plugins *ps, const char *path, char *err,
                           size_t errlen)
{
  kapi_plugin *p = NULL;
  char *real = NULL;
  int r;

  if (err && errlen)
    err[0] = '\0';
  if (!ps || !path)
    return fail(err, errlen, -EINVAL, "plugin: no set or path");
  r = check_file(path, &real, err, errlen);
  if (r < 0)
    return r;
  r = plugin_open(path, real, &p, err, errlen);
  free(real);
  if (r < 0)
    return r;
  r = check_descriptor(ps, p, err, errlen);
  if (r == 0)
    r = plugin_init(ps, p, err, errlen);
  if (r < 0) {
    plugin_close(p);
    return r;
  }
  r = add_plugin(ps, p);
  if (r == 0) {
    r = commit_staged(ps, p);
    if (r < 0)
      ps->n_plugins--;
  }
  if (r < 0) {
    /* init succeeded, so the plugin holds state only fini can free. */
    if (p->desc->fini)
      p->desc->fini(p);
    plugin_close(p);
    return fail(err, errlen, r, "plugin \"%s\": out of memory", path);
  }
  ps->assembled = 0;
  return 0;
}

/* scandir filter: "*.so", skipping hidden files (editor leftovers). */
static int is_plugin_file(const struct dirent *d)
{
  size_t n = strlen(d->d_name);

  return d->d_name[0] != '.' && n > 3 && !strcmp(d->d_name + n - 3, ".so");
}

/* strcmp, not the locale's collation: the load order must not depend on
 * LC_COLLATE. */
static int by_name(const struct dirent **a, const struct dirent **b)
{
  return strcmp((*a)->d_name, (*b)->d_name);
}

int kapi_plugins_load_dir(kapi_plugins *ps, const char *dir, char *err,
                          size_t errlen)
{
  struct dirent **list = NULL;
  char path[PATH_MAX];
  int n, i, r;

  if (err && errlen)
    err[0] = '\0';
  if (!ps || !dir)
    return fail(err, errlen, -EINVAL, "plugin directory: no set or path");
  r = check_dir(dir, err, errlen);
  if (r < 0)
    return r;
  n = scandir(dir, &list, is_plugin_file, by_name);
  if (n < 0)
    return fail(err, errlen, -errno, "plugin directory \"%s\": %s", dir,
                strerror(errno));
  for (i = 0; i < n && r == 0; i++) {
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, list[i]->d_name) >=
        sizeof path)
      r = fail(err, errlen, -ENAMETOOLONG, "plugin \"%s/%s\": path too long",
               dir, list[i]->d_name);
    else
      r = kapi_plugins_load_file(ps, path, err, errlen);
  }
  for (i = 0; i < n; i++)
    free(list[i]);
  free(list);
  return r;
}

/* ---- assembling the chains ------------------------------------------- */

static const kapi_chain_order *find_order(const kapi_chain_order *order,
                                          size_t n, kapi_kind kind)
{
  size_t i;

  for (i = 0; order && i < n; i++)
    if (order[i].kind == kind)
      return &order[i];
  return NULL;
}

/* "a, b, c" of the registered names, for "unknown name" errors. */
static void list_names(const component_vec *vec, char *buf, size_t len)
{
  size_t i, used = 0;
  int n;

  buf[0] = '\0';
  for (i = 0; i < vec->n && used < len; i++) {
    n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
                 vec->v[i]->name);
    if (n < 0)
      break;
    used += (size_t)n;
  }
  if (!vec->n)
    snprintf(buf, len, "(none)");
}

/* The configuration's list is the chain: upstream's authorizer and
 * admission lists are authoritative, unlisted components are off. */
static int chain_from_list(const kapi_plugins *ps, kapi_kind kind,
                           const char *const *names, component_vec *out,
                           char *err, size_t errlen)
{
  const component_vec *reg = &ps->registered[kind];
  kapi_component *c;
  char known[1024];
  size_t i;

  for (i = 0; names && names[i]; i++) {
    c = vec_find(reg, kind, names[i]);
    if (!c) {
      list_names(reg, known, sizeof known);
      return fail(err, errlen, -ENOENT,
                  "%s chain: unknown component \"%s\" in the configuration; "
                  "registered: %s", kapi__kind_name(kind), names[i], known);
    }
    if (vec_find(out, kind, names[i]))
      return fail(err, errlen, -EINVAL,
                  "%s chain: component \"%s\" is listed twice in the "
                  "configuration", kapi__kind_name(kind), names[i]);
    if (vec_push(out, c) < 0)
      return fail(err, errlen, -ENOMEM, "%s chain: out of memory",
                  kapi__kind_name(kind));
  }
  return 0;
}

static int by_priority_then_name(const void *a, const void *b)
{
  const kapi_component *x = *(kapi_component *const *)a;
  const kapi_component *y = *(kapi_component *const *)b;

  if (x->priority != y->priority)
    return x->priority < y->priority ? -1 : 1;
  return strcmp(x->name, y->name);
}

static long index_of(kapi_component *const *v, size_t n, const char *name)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (!strcmp(v[i]->name, name))
      return (long)i;
  return -1;
}

/* adj[i * n + j] = 1: v[i] runs before v[j].  Names not in the chain are
 * ignored: they may belong to a disabled or absent plugin (APR does the
 * same for unknown predecessors). */
static void build_edges(kapi_component *const *v, size_t n,
                        unsigned char *adj)
{
  size_t i, k;
  long j;

  for (i = 0; i < n; i++) {
    for (k = 0; v[i]->after && v[i]->after[k]; k++)
      if ((j = index_of(v, n, v[i]->after[k])) >= 0)
        adj[(size_t)j * n + i] = 1;
    for (k = 0; v[i]->before && v[i]->before[k]; k++)
      if ((j = index_of(v, n, v[i]->before[k])) >= 0)
        adj[i * n + (size_t)j] = 1;
  }
}

/*
 * Called when no node is ready: every node left has a predecessor that
 * is left too, so walking predecessors from any of them must revisit a
 * node.  Prints that loop in run order ("a -> b": a runs before b).
 */
static int report_cycle(kapi_kind kind, kapi_component *const *v, size_t n,
                        const unsigned char *adj, const unsigned char *done,
                        char *err, size_t errlen)
{
  long *seen_at = malloc(n * sizeof *seen_at);
  size_t *walk = malloc((n + 1) * sizeof *walk);
  char buf[1024];
  size_t cur, steps = 0, used = 0, i, start;

  if (!seen_at || !walk) {
    free(seen_at);
    free(walk);
    return fail(err, errlen, -ELOOP, "%s chain: ordering cycle",
                kapi__kind_name(kind));
  }
  for (i = 0; i < n; i++)
    seen_at[i] = -1;
  for (cur = 0; done[cur]; cur++)
    ;
  while (seen_at[cur] < 0) {
    seen_at[cur] = (long)steps;
    walk[steps++] = cur;
    for (i = 0; i < n && !(adj[i * n + cur] && !done[i]); i++)
      ;
    cur = i;
  }
  /* walk[start..steps) is the loop, each entry the successor of the
   * next; print it backwards so it reads in run order. */
  start = (size_t)seen_at[cur];
  buf[0] = '\0';
  for (i = steps; i-- > start && used < sizeof buf;)
    used += (size_t)snprintf(buf + used, sizeof buf - used, "%s -> ",
                             v[walk[i]]->name);
  if (used < sizeof buf)
    snprintf(buf + used, sizeof buf - used, "%s", v[walk[steps - 1]]->name);
  free(seen_at);
  free(walk);
  return fail(err, errlen, -ELOOP,
              "%s chain: ordering cycle: %s (\"a -> b\": a must run before "
              "b, from before/after); hint: drop one of these edges, or "
              "list the %s chain in the configuration",
              kapi__kind_name(kind), buf, kapi__kind_name(kind));
}

/*
 * Sorts by (priority, name), then applies before/after with Kahn's
 * algorithm, always taking the ready component that comes first in the
 * sorted order: edges move as little as possible (stable).
 */
static int chain_from_edges(const kapi_plugins *ps, kapi_kind kind,
                            component_vec *out, char *err, size_t errlen)
{
  const component_vec *reg = &ps->registered[kind];
  size_t n = reg->n, i, j, k;
  kapi_component **v = NULL;
  unsigned char *adj = NULL, *done = NULL;
  size_t *indeg = NULL;
  int r = 0;

  if (!n)
    return 0;
  v = malloc(n * sizeof *v);
  adj = calloc(n * n, 1);
  done = calloc(n, 1);
  indeg = calloc(n, sizeof *indeg);
  if (!v || !adj || !done || !indeg) {
    r = fail(err, errlen, -ENOMEM, "%s chain: out of memory",
             kapi__kind_name(kind));
    goto out;
  }
  memcpy(v, reg->v, n * sizeof *v);
  qsort(v, n, sizeof *v, by_priority_then_name);
  build_edges(v, n, adj);
  for (i = 0; i < n; i++)
    for (j = 0; j < n; j++)
      indeg[j] += adj[i * n + j];
  for (k = 0; k < n; k++) {
    for (i = 0; i < n && (done[i] || indeg[i]); i++)
      ;
    if (i == n) {
      r = report_cycle(kind, v, n, adj, done, err, errlen);
      goto out;
    }
    done[i] = 1;
    for (j = 0; j < n; j++)
      indeg[j] -= adj[i * n + j];
    if (vec_push(out, v[i]) < 0) {
      r = fail(err, errlen, -ENOMEM, "%s chain: out of memory",
               kapi__kind_name(kind));
      goto out;
    }
  }
out:
  free(v);
  free(adj);
  free(done);
  free(indeg);
  return r;
}

int kapi_plugins_assemble(kapi_plugins *ps, const kapi_chain_order *order,
                          size_t n_order, char *err, size_t errlen)
{
  component_vec chains[KIND_MAX + 1];
  const kapi_chain_order *o;
  int kind, r = 0;

  if (err && errlen)
    err[0] = '\0';
  if (!ps)
    return fail(err, errlen, -EINVAL, "assemble: no plugin set");
  memset(chains, 0, sizeof chains);
  /* Build every chain first and swap them in only when all succeed, so a
   * failed assemble leaves the previous chains intact. */
  for (kind = 1; kind <= KIND_MAX && r == 0; kind++) {
    o = find_order(order, n_order, (kapi_kind)kind);
    r = o ? chain_from_list(ps, (kapi_kind)kind, o->names, &chains[kind],
                            err, errlen)
          : chain_from_edges(ps, (kapi_kind)kind, &chains[kind], err,
                             errlen);
  }
  for (kind = 1; kind <= KIND_MAX; kind++) {
    if (r == 0) {
      vec_free(&ps->chain[kind]);
      ps->chain[kind] = chains[kind];
    } else {
      vec_free(&chains[kind]);
    }
  }
  if (r == 0)
    ps->assembled = 1;
  return r;
}

/* ---- reading ------------------------------------------------------------ */

/* Before assemble, the chain is the registration order. */
static const component_vec *chain_of(const kapi_plugins *ps, kapi_kind kind)
{
  if (!ps || (int)kind < 1 || (int)kind > KIND_MAX)
    return NULL;
  return ps->assembled ? &ps->chain[kind] : &ps->registered[kind];
}

size_t kapi_plugins_count(const kapi_plugins *ps, kapi_kind kind)
{
  const component_vec *c = chain_of(ps, kind);

  return c ? c->n : 0;
}

const kapi_component *kapi_plugins_at(const kapi_plugins *ps, kapi_kind kind,
                                      size_t i)
{
  const component_vec *c = chain_of(ps, kind);

  return c && i < c->n ? c->v[i] : NULL;
}

static void print_component(const kapi_component *c, const char *suffix,
                            FILE *out)
{
  const kapi_plugin_desc *d = c->plugin->desc;

  fprintf(out, "%s  %s  (plugin %s %s, %s)%s\n", kapi__kind_name(c->kind),
          c->name, d->name, d->version ? d->version : "?", c->plugin->path,
          suffix);
}

void kapi_plugins_print(const kapi_plugins *ps, FILE *out)
{
  const component_vec *chain, *reg;
  size_t i;
  int kind;

  if (!ps || !out)
    return;
  for (i = 0; i < ps->n_plugins; i++)
    fprintf(out, "plugin  %s  %s  (%s)\n", ps->plugins[i]->desc->name,
            ps->plugins[i]->desc->version ? ps->plugins[i]->desc->version
                                          : "?",
            ps->plugins[i]->path);
  for (kind = 1; kind <= KIND_MAX; kind++) {
    chain = chain_of(ps, (kapi_kind)kind);
    reg = &ps->registered[kind];
    for (i = 0; i < chain->n; i++)
      print_component(chain->v[i], "", out);
    /* Left out by a configured list: say so, an operator looking for a
     * plugin that "does nothing" needs to see it. */
    for (i = 0; i < reg->n; i++)
      if (!vec_find(chain, (kapi_kind)kind, reg->v[i]->name))
        print_component(reg->v[i], "  disabled", out);
  }
}

void kapi_plugins_free(kapi_plugins *ps)
{
  const char *no_dlclose = getenv("KAPI_NO_DLCLOSE");
  int keep = no_dlclose && *no_dlclose && strcmp(no_dlclose, "0") != 0;
  size_t i;
  int kind;

  if (!ps)
    return;
  /* Every fini first, in reverse load order, while every image is still
   * mapped; then unmap. */
  for (i = ps->n_plugins; i-- > 0;)
    if (ps->plugins[i]->desc->fini)
      ps->plugins[i]->desc->fini(ps->plugins[i]);
  for (kind = 1; kind <= KIND_MAX; kind++) {
    vec_free(&ps->chain[kind]);
    vec_free_components(&ps->registered[kind]);
  }
  for (i = ps->n_plugins; i-- > 0;) {
    /* Keeping the image mapped lets LSan/valgrind symbolize plugin
     * frames in leak reports. */
    if (keep)
      ps->plugins[i]->handle = NULL;
    plugin_close(ps->plugins[i]);
  }
  free(ps->plugins);
  kj_free(ps->config);
  free(ps);
}
