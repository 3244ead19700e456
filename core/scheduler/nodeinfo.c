/*
 * nodeinfo.c - node infos: pods on a node and the sums of their
 * requests (upstream's framework.NodeInfo, pkg/scheduler/framework/
 * types.go).
 */
#include "nodeinfo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "quantity.h"

static const char *const res_names[KAPI_RES_N] = {"cpu", "memory",
                                                  "ephemeral-storage"};

static int res_index(const char *resource)
{
  for (int i = 0; i < KAPI_RES_N; i++)
    if (!strcmp(resource, res_names[i]))
      return i;
  return -1;
}

int32_t kapi_pod_priority(const kj *pod)
{
  int64_t p;

  if (kj_to_int(kj_get(kj_get(pod, "spec"), "priority"), &p) < 0)
    return 0;
  return (int32_t)p;
}

kapi_node_info *kapi_ni_new(const char *name)
{
  kapi_node_info *ni = calloc(1, sizeof *ni);

  if (!ni)
    return NULL;
  ni->name = strdup(name ? name : "");
  if (!ni->name) {
    free(ni);
    return NULL;
  }
  ni->refs = 1;
  return ni;
}

kapi_node_info *kapi_ni_clone(const kapi_node_info *src)
{
  kapi_node_info *ni = kapi_ni_new(src->name);

  if (!ni)
    return NULL;
  if (src->n_pods) {
    ni->pods = malloc(src->n_pods * sizeof *ni->pods);
    if (!ni->pods) {
      kapi_ni_unref(ni);
      return NULL;
    }
    for (size_t i = 0; i < src->n_pods; i++)
      ni->pods[i] = kapi_cobj_ref(src->pods[i]);
    ni->n_pods = ni->cap_pods = src->n_pods;
  }
  ni->node = kapi_cobj_ref(src->node);
  memcpy(ni->requested, src->requested, sizeof ni->requested);
  memcpy(ni->nonzero, src->nonzero, sizeof ni->nonzero);
  memcpy(ni->allocatable, src->allocatable, sizeof ni->allocatable);
  ni->allowed_pods = src->allowed_pods;
  ni->generation = src->generation;
  return ni;
}

kapi_node_info *kapi_ni_ref(kapi_node_info *ni)
{
  if (ni)
    __atomic_add_fetch(&ni->refs, 1, __ATOMIC_RELAXED);
  return ni;
}

void kapi_ni_unref(kapi_node_info *ni)
{
  if (!ni || __atomic_sub_fetch(&ni->refs, 1, __ATOMIC_ACQ_REL) != 0)
    return;
  for (size_t i = 0; i < ni->n_pods; i++)
    kapi_cobj_unref(ni->pods[i]);
  free(ni->pods);
  kapi_cobj_unref(ni->node);
  free(ni->name);
  free(ni);
}

/* status.allocatable[resource] in the host API's units; 0 if absent. */
static int64_t node_allocatable_of(const kj *node, const char *resource)
{
  const kj *v = kj_get(kj_ptr(node, "/status/allocatable"), resource);
  int64_t milli;

  if (!v || kapi_quantity_milli_json(v, &milli) < 0 || milli < 0)
    return 0;
  if (!strcmp(resource, "cpu"))
    return milli;
  return (milli + 999) / 1000; /* Value() rounds up */
}

void kapi_ni_set_node(kapi_node_info *ni, kapi_cobj *node)
{
  kapi_cobj *old = ni->node;

  ni->node = kapi_cobj_ref(node);
  kapi_cobj_unref(old);
  for (int i = 0; i < KAPI_RES_N; i++)
    ni->allocatable[i] = node ? node_allocatable_of(node->obj, res_names[i])
                              : 0;
  ni->allowed_pods = node ? node_allocatable_of(node->obj, "pods") : 0;
  ni->generation++;
}

/* Adds (sign 1) or subtracts (sign -1) a pod's requests. */
static void account(kapi_node_info *ni, const kj *pod, int sign)
{
  for (int i = 0; i < KAPI_RES_N; i++)
    ni->requested[i] += sign * kapi_pod_request(pod, res_names[i], 0);
  ni->nonzero[KAPI_RES_CPU] += sign * kapi_pod_request(pod, "cpu", 1);
  ni->nonzero[KAPI_RES_MEMORY] += sign * kapi_pod_request(pod, "memory", 1);
}

int kapi_ni_add_pod(kapi_node_info *ni, kapi_cobj *pod)
{
  if (ni->n_pods == ni->cap_pods) {
    size_t cap = ni->cap_pods ? ni->cap_pods * 2 : 8;
    kapi_cobj **v = realloc(ni->pods, cap * sizeof *v);
    if (!v)
      return -ENOMEM;
    ni->pods = v;
    ni->cap_pods = cap;
  }
  ni->pods[ni->n_pods++] = kapi_cobj_ref(pod);
  account(ni, pod->obj, 1);
  ni->generation++;
  return 0;
}

int kapi_ni_remove_pod(kapi_node_info *ni, const char *key)
{
  for (size_t i = 0; i < ni->n_pods; i++) {
    kapi_cobj *p = ni->pods[i];
    if (strcmp(p->key, key) != 0)
      continue;
    account(ni, p->obj, -1);
    /* Order of the other pods is kept: preemption walks them in order. */
    memmove(&ni->pods[i], &ni->pods[i + 1],
            (ni->n_pods - i - 1) * sizeof *ni->pods);
    ni->n_pods--;
    kapi_cobj_unref(p);
    ni->generation++;
    return 0;
  }
  return -ENOENT;
}

int64_t kapi_ni_requested(const kapi_node_info *ni, const char *resource,
                          int non_zero)
{
  int i = res_index(resource);
  int64_t sum = 0;

  if (!strcmp(resource, "pods"))
    return (int64_t)ni->n_pods;
  if (i >= 0)
    return non_zero && i < 2 ? ni->nonzero[i] : ni->requested[i];
  /* Extended resources are rare: summed when asked. */
  for (size_t k = 0; k < ni->n_pods; k++)
    sum += kapi_pod_request(ni->pods[k]->obj, resource, 0);
  return sum;
}

int64_t kapi_ni_allocatable(const kapi_node_info *ni, const char *resource)
{
  int i = res_index(resource);

  if (!strcmp(resource, "pods"))
    return ni->allowed_pods;
  if (i >= 0)
    return ni->allocatable[i];
  return ni->node ? node_allocatable_of(ni->node->obj, resource) : 0;
}
