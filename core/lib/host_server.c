/*
 * host_server.c - the members of the host API that only kapi-apiserver
 * can answer (since ABI 1.2): listing, tracking and updating stored
 * objects, and asking the authorizer chain from inside a request.
 *
 * The server binds itself once before it serves (kapi_host_bind_server);
 * until then, and in the other daemons, these answer -ENOSYS / 0 / DENY.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "host_server.h"
#include "meta.h"
#include "selector.h"
#include "server.h"

static kapi_server *bound; /* set before serving, read-only afterwards */

/*
 * Parsed versions of the objects plugins read.  Admission reads the same
 * few objects on every request (the namespace, its default
 * ServiceAccount, its LimitRanges and ResourceQuotas), and parsing their
 * stored JSON each time was a visible share of a pod create.  A stored
 * version is immutable, so its parse can be kept and handed out as
 * clones.  Direct-mapped by key and bounded, so that plugins reading
 * many objects (pods) cost at most PARSED_SLOTS parsed trees.  An entry
 * holds a reference to its version: the same pointer is the same
 * version, and a slot goes stale by itself when the key is written.
 */
#define PARSED_SLOTS 256

typedef struct parsed_entry {
  int refs; /* atomic: the slot's and each reader's */
  store_obj *o;
  kj *doc;
} parsed_entry;

static pthread_mutex_t parsed_mu = PTHREAD_MUTEX_INITIALIZER;
static parsed_entry *parsed_slots[PARSED_SLOTS];

static void parsed_unref(parsed_entry *e)
{
  if (e && __atomic_sub_fetch(&e->refs, 1, __ATOMIC_ACQ_REL) == 0) {
    kj_free(e->doc);
    store_obj_unref(e->o);
    free(e);
  }
}

static size_t parsed_slot_of(const char *key)
{
  uint32_t h = 2166136261u; /* FNV-1a */

  for (; *key; key++)
    h = (h ^ (unsigned char)*key) * 16777619u;
  return h % PARSED_SLOTS;
}

static void parsed_flush(void)
{
  size_t i;

  pthread_mutex_lock(&parsed_mu);
  for (i = 0; i < PARSED_SLOTS; i++) {
    parsed_unref(parsed_slots[i]);
    parsed_slots[i] = NULL;
  }
  pthread_mutex_unlock(&parsed_mu);
}

/* The parsed form of o (borrowed from *ret_e, which the caller unrefs). */
static int parsed_of(store_obj *o, parsed_entry **ret_e)
{
  size_t slot = parsed_slot_of(o->key);
  parsed_entry *e, *old;
  char err[128];
  int rc;

  pthread_mutex_lock(&parsed_mu);
  e = parsed_slots[slot];
  if (e && e->o == o)
    __atomic_add_fetch(&e->refs, 1, __ATOMIC_RELAXED);
  else
    e = NULL;
  pthread_mutex_unlock(&parsed_mu);
  if (e) {
    *ret_e = e;
    return 0;
  }
  if (!(e = calloc(1, sizeof *e)))
    return -ENOMEM;
  rc = kj_parse(o->json, o->len, &e->doc, err, sizeof err);
  if (rc < 0) {
    free(e);
    return -EIO;
  }
  e->o = store_obj_ref(o);
  e->refs = 2; /* the slot's and ours */
  pthread_mutex_lock(&parsed_mu);
  old = parsed_slots[slot];
  parsed_slots[slot] = e;
  pthread_mutex_unlock(&parsed_mu);
  parsed_unref(old);
  *ret_e = e;
  return 0;
}

/* A copy the caller owns of o's parsed form. */
static int parsed_clone(store_obj *o, kj **ret)
{
  parsed_entry *e;
  int rc = parsed_of(o, &e);

  if (rc < 0)
    return rc;
  *ret = kj_clone(e->doc);
  parsed_unref(e);
  return *ret ? 0 : -ENOMEM;
}

void kapi_host_bind_server(kapi_server *srv)
{
  /* Another server, another store: nothing cached may carry over. */
  parsed_flush();
  bound = srv;
}

/* Any version of group/resource: plugins name resources, not versions. */
static kapi_resource *find_resource(const char *group, const char *resource)
{
  kapi_registry *reg = bound ? bound->registry : NULL;
  size_t i;

  for (i = 0; reg && resource && i < reg->n; i++)
    if (!strcmp(reg->items[i].group, group ? group : "") &&
        !strcmp(reg->items[i].ops->resource, resource))
      return &reg->items[i];
  return NULL;
}

int kapi_host_store_get(const char *group, const char *resource,
                        const char *ns, const char *name, kapi_obj **ret)
{
  kapi_resource *res;
  store_obj *o;
  char *key;
  int rc;

  if (!bound)
    return -ENOSYS;
  if (!(res = find_resource(group, resource)))
    return -ENOENT;
  if (!(key = kapi_resource_key(res, ns, name)))
    return -ENOMEM;
  rc = kapi_store_get(bound->store, key, &o);
  free(key);
  if (rc < 0)
    return rc;
  rc = parsed_clone(o, (kj **)ret);
  store_obj_unref(o);
  return rc;
}

int kapi_host_store_list(const char *group, const char *resource,
                         const char *ns, const char *label_selector,
                         kapi_obj **ret)
{
  kapi_label_selector *sel = NULL;
  kapi_resource *res;
  store_obj **objs = NULL;
  size_t n = 0, i;
  char *prefix, err[256];
  kj *arr;
  int rc;

  if (!bound)
    return -ENOSYS;
  if (!(res = find_resource(group, resource)))
    return -ENOENT;
  if (label_selector && *label_selector &&
      kapi_label_selector_parse(label_selector, &sel, err, sizeof err) < 0)
    return -EINVAL;
  prefix = kapi_resource_list_prefix(res, ns && *ns ? ns : NULL);
  arr = kj_array();
  rc = prefix && arr ? kapi_store_list(bound->store, prefix, NULL, &objs, &n,
                                       NULL)
                     : -ENOMEM;
  for (i = 0; rc == 0 && i < n; i++) {
    parsed_entry *e;
    if ((rc = parsed_of(objs[i], &e)) < 0)
      break;
    /* Only the objects the selector keeps are copied. */
    if (!sel || kapi_label_selector_matches(
                    sel, kj_get(kj_get(e->doc, "metadata"), "labels")))
      rc = kj_append(arr, kj_clone(e->doc)) < 0 ? -ENOMEM : 0;
    parsed_unref(e);
  }
  for (i = 0; i < n; i++)
    store_obj_unref(objs[i]);
  free(objs);
  free(prefix);
  kapi_label_selector_free(sel);
  if (rc < 0) {
    kj_free(arr);
    return rc;
  }
  *ret = (kapi_obj *)arr;
  return 0;
}

int64_t kapi_host_store_revision(const char *group, const char *resource)
{
  kapi_resource *res = bound ? find_resource(group, resource) : NULL;

  /* Called on every request by caching plugins (RBAC): no allocation. */
  return res ? kapi_store_prefix_revision(bound->store, res->prefix) : 0;
}

struct replace_ctx {
  const kj *obj;
  int64_t expect_rv;
};

/* Compare-and-swap on resourceVersion; the identity fields stay. */
static int replace_cb(const kj *cur, void *arg, kj **ret_new)
{
  struct replace_ctx *c = arg;
  const char *uid = kj_get_str(kj_get(c->obj, "metadata"), "uid");

  if (!cur)
    return -ENOENT;
  if (kapi_object_rv(cur) != c->expect_rv ||
      (uid && strcmp(uid, kj_get_str(kj_get(cur, "metadata"), "uid")
                              ? kj_get_str(kj_get(cur, "metadata"), "uid")
                              : "")))
    return -EBUSY;
  *ret_new = kj_clone(c->obj);
  return *ret_new ? KAPI_STORE_PUT : -ENOMEM;
}

int kapi_host_store_update(const char *group, const char *resource,
                           const kapi_obj *obj, kapi_obj **ret)
{
  const kj *meta = kj_get(obj, "metadata");
  const char *name = kj_get_str(meta, "name");
  struct replace_ctx c = {obj, kapi_object_rv(obj)};
  kapi_resource *res;
  store_obj *o = NULL;
  char *key, err[128];
  int rc;

  if (ret)
    *ret = NULL;
  if (!bound)
    return -ENOSYS;
  if (!(res = find_resource(group, resource)))
    return -ENOENT;
  if (!name || !*name || c.expect_rv <= 0)
    return -EINVAL;
  key = kapi_resource_key(res, kj_get_str(meta, "namespace"), name);
  if (!key)
    return -ENOMEM;
  rc = kapi_store_update(bound->store, key, replace_cb, &c, &o);
  free(key);
  if (rc < 0)
    return rc;
  if (ret && o && kj_parse(o->json, o->len, (kj **)ret, err, sizeof err) < 0)
    rc = -EIO;
  store_obj_unref(o);
  return rc < 0 ? rc : 0;
}

/* The same request with other attributes: every string borrowed, nothing
 * owned, so the copy is never reset. */
kapi_decision kapi_host_authorize(const kapi_req *r, const char *verb,
                                  const char *group, const char *resource,
                                  const char *subresource, const char *ns,
                                  const char *name)
{
  kapi_req q;
  int d;

  if (!r || !r->srv || !verb || !resource)
    return KAPI_DENY;
  q = *r;
  q.is_resource_request = 1;
  q.verb = (char *)verb;
  q.api_group = (char *)(group ? group : "");
  q.resource = (char *)resource;
  q.subresource = (char *)(subresource ? subresource : "");
  q.namespace_ = (char *)(ns ? ns : "");
  q.name = (char *)(name ? name : "");
  d = kapi_authorize(r->srv, &q, NULL);
  return d == KAPI_ALLOW ? KAPI_ALLOW : KAPI_DENY;
}
