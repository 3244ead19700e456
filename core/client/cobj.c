/*
 * cobj.c - the immutable, reference-counted objects of the client caches,
 * their keys (upstream's MetaNamespaceKeyFunc) and the common index
 * functions (namespace, spec.nodeName, controller uid).
 */
#include "informer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *kapi_object_key(const kj *obj)
{
  const kj *md = kj_get(obj, "metadata");
  const char *ns = kj_get_str(md, "namespace");
  const char *name = kj_get_str(md, "name");
  char *key;

  if (!name)
    name = "";
  if (!ns || !*ns)
    return strdup(name);
  if (asprintf(&key, "%s/%s", ns, name) < 0)
    return NULL;
  return key;
}

kapi_cobj *kapi_cobj_new(kj *obj)
{
  kapi_cobj *o = calloc(1, sizeof *o);

  if (!o) {
    kj_free(obj);
    return NULL;
  }
  o->key = kapi_object_key(obj);
  if (!o->key) {
    kj_free(obj);
    free(o);
    return NULL;
  }
  o->obj = obj;
  o->refs = 1;
  return o;
}

kapi_cobj *kapi_cobj_ref(kapi_cobj *o)
{
  if (o)
    __atomic_add_fetch(&o->refs, 1, __ATOMIC_RELAXED);
  return o;
}

void kapi_cobj_unref(kapi_cobj *o)
{
  /* acq_rel: the last owner must see every other owner's reads done. */
  if (!o || __atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL) != 0)
    return;
  kj_free(o->obj);
  free(o->key);
  free(o);
}

void kapi_cobj_array_free(kapi_cobj **v, size_t n)
{
  if (!v)
    return;
  for (size_t i = 0; i < n; i++)
    kapi_cobj_unref(v[i]);
  free(v);
}

/* ---- index functions -------------------------------------------------- */

/* *ret = [s] (or [] when s is NULL). */
static int one_value(const char *s, char ***ret, size_t *ret_n)
{
  *ret = NULL;
  *ret_n = 0;
  if (!s)
    return 0;
  *ret = malloc(sizeof **ret);
  if (!*ret)
    return -ENOMEM;
  (*ret)[0] = strdup(s);
  if (!(*ret)[0]) {
    free(*ret);
    *ret = NULL;
    return -ENOMEM;
  }
  *ret_n = 1;
  return 0;
}

int kapi_index_by_namespace(const kj *obj, char ***ret, size_t *ret_n)
{
  const char *ns = kj_get_str(kj_get(obj, "metadata"), "namespace");

  /* As upstream: cluster-scoped objects index under "". */
  return one_value(ns ? ns : "", ret, ret_n);
}

int kapi_index_by_node_name(const kj *obj, char ***ret, size_t *ret_n)
{
  const char *node = kj_get_str(kj_get(obj, "spec"), "nodeName");

  /* Unbound pods are in no node's index (upstream's nodeName index). */
  return one_value(node && *node ? node : NULL, ret, ret_n);
}

int kapi_index_by_controller_uid(const kj *obj, char ***ret, size_t *ret_n)
{
  const kj *refs = kj_get(kj_get(obj, "metadata"), "ownerReferences");

  for (size_t i = 0; i < kj_len(refs); i++) {
    const kj *r = kj_at(refs, i);
    const char *uid = kj_get_str(r, "uid");

    if (kj_is_true(kj_get(r, "controller")) && uid)
      return one_value(uid, ret, ret_n);
  }
  return one_value(NULL, ret, ret_n);
}
