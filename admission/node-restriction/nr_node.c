/*
 * nr_node.c - NodeRestriction for nodes (admitNode).
 *
 * A kubelet may create and change only its own Node.  It may not set
 * spec.configSource (the Node authorizer scopes a node's reads to what
 * its spec names), change its taints, or set labels that steer
 * workloads: the node-restriction.kubernetes.io/ prefix, and any
 * kubernetes.io or k8s.io label outside the list kubelets own
 * (k8s.io/kubelet/pkg/apis/well_known_labels.go).
 */
#include <stdlib.h>
#include <string.h>

#include "node_restriction.h"

/* Labels kubelets set on their own Node (kubeletapis.IsKubeletLabel). */
static const char *const kubelet_labels[] = {
    "kubernetes.io/hostname",
    "topology.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone",
    "failure-domain.beta.kubernetes.io/region",
    "beta.kubernetes.io/instance-type",
    "node.kubernetes.io/instance-type",
    "kubernetes.io/os",
    "kubernetes.io/arch",
    "beta.kubernetes.io/os",
    "beta.kubernetes.io/arch",
    NULL,
};

/* Label namespaces kubelets own, with their subdomains. */
static const char *const kubelet_namespaces[] = {
    "kubelet.kubernetes.io", "node.kubernetes.io", NULL};

#define NODE_RESTRICTION_NAMESPACE "node-restriction.kubernetes.io"

/* The prefix of a key before "/" into buf ("" without one). */
static const char *label_namespace(const char *key, char *buf, size_t len)
{
  const char *slash = strchr(key, '/');
  size_t n = slash ? (size_t)(slash - key) : 0;

  if (n >= len)
    n = len - 1;
  memcpy(buf, key, n);
  buf[n] = '\0';
  return buf;
}

/* ns is `domain` or a subdomain of it. */
static int in_domain(const char *ns, const char *domain)
{
  size_t n = strlen(ns), d = strlen(domain);

  return !strcmp(ns, domain) ||
         (n > d && ns[n - d - 1] == '.' && !strcmp(ns + n - d, domain));
}

static int is_kubelet_label(const char *key, const char *ns)
{
  size_t i;

  for (i = 0; kubelet_labels[i]; i++)
    if (!strcmp(key, kubelet_labels[i]))
      return 1;
  for (i = 0; kubelet_namespaces[i]; i++)
    if (in_domain(ns, kubelet_namespaces[i]))
      return 1;
  return 0;
}

/* getForbiddenLabels for one modified key. */
static int forbidden_label(const char *key)
{
  char ns[320];

  label_namespace(key, ns, sizeof ns);
  if (in_domain(ns, NODE_RESTRICTION_NAMESPACE))
    return 1;
  return (in_domain(ns, "kubernetes.io") || in_domain(ns, "k8s.io")) &&
         !is_kubelet_label(key, ns);
}

/* ---- the set of modified, forbidden label keys --------------------------- */

typedef struct key_set {
  const char **keys; /* borrowed from the objects */
  size_t n, cap;
} key_set;

static int add_key(key_set *s, const char *key)
{
  size_t i;

  for (i = 0; i < s->n; i++)
    if (!strcmp(s->keys[i], key))
      return 0;
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 8;
    const char **k = realloc(s->keys, cap * sizeof *k);
    if (!k)
      return -1;
    s->keys = k;
    s->cap = cap;
  }
  s->keys[s->n++] = key;
  return 0;
}

/* Keys of a whose value differs in b (or is missing there), forbidden. */
static int add_forbidden_changes(key_set *s, const kapi_obj *a,
                                 const kapi_obj *b)
{
  const kapi_host_api *api = nr_api;
  size_t i, n = api->obj_len(a);

  for (i = 0; i < n; i++) {
    const char *key = api->obj_key(a, i);
    const char *va = api->obj_get(api->obj_index(a, i), "");
    const char *vb = NULL;
    size_t j;
    for (j = 0; j < api->obj_len(b); j++)
      if (!strcmp(api->obj_key(b, j), key))
        vb = api->obj_get(api->obj_index(b, j), "");
    if ((!vb || strcmp(va ? va : "", vb)) && forbidden_label(key) &&
        add_key(s, key) < 0)
      return -1;
  }
  return 0;
}

static int by_name(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The forbidden modified labels between old and new, sorted and joined
 * with ", " into buf ("" when none).  Returns their count, or -1 when
 * out of memory. */
static int forbidden_changes(const kapi_obj *now, const kapi_obj *old,
                             char *buf, size_t len)
{
  key_set s = {NULL, 0, 0};
  size_t i, used = 0;
  int n;

  buf[0] = '\0';
  if (add_forbidden_changes(&s, now, old) < 0 ||
      add_forbidden_changes(&s, old, now) < 0) {
    free(s.keys);
    return -1;
  }
  if (s.n) /* qsort(NULL, 0, ...) is undefined behaviour */
    qsort(s.keys, s.n, sizeof *s.keys, by_name);
  for (i = 0; i < s.n && used + 1 < len; i++) {
    size_t k = strlen(s.keys[i]);
    if (i && used + 2 < len) {
      memcpy(buf + used, ", ", 2);
      used += 2;
    }
    if (used + k >= len)
      k = len - used - 1;
    memcpy(buf + used, s.keys[i], k);
    used += k;
    buf[used] = '\0';
  }
  n = (int)s.n;
  free(s.keys);
  return n;
}

/* ---- admitNode ----------------------------------------------------------- */

static int admit_create(const nr_req *q, kapi_error *e)
{
  const kapi_host_api *api = nr_api;
  const kapi_obj *cs = api->obj_lookup(q->obj, "/spec/configSource");
  char labels[2048];
  int n;

  if (cs && api->obj_type(cs) != KAPI_OBJ_NULL)
    return nr_forbid(q, e, "node \"%s\" is not allowed to create pods with a "
                           "non-nil configSource",
                     q->node);
  n = forbidden_changes(api->obj_lookup(q->obj, "/metadata/labels"), NULL,
                        labels, sizeof labels);
  if (n < 0)
    return nr_forbid(q, e, "out of memory");
  if (n > 0)
    return nr_forbid(q, e, "node \"%s\" is not allowed to set the following "
                           "labels: %s",
                     q->node, labels);
  return 0;
}

static int admit_update(const nr_req *q, kapi_error *e)
{
  const kapi_host_api *api = nr_api;
  const kapi_obj *cs = api->obj_lookup(q->obj, "/spec/configSource");
  char labels[2048];
  int n;

  /* Only a new non-nil configSource counts: old kubelets drop the field
   * in status updates. */
  if (cs && api->obj_type(cs) != KAPI_OBJ_NULL &&
      !nr_equal(cs, api->obj_lookup(q->old, "/spec/configSource"), NULL,
                NULL, 0))
    return nr_forbid(q, e, "node \"%s\" is not allowed to update configSource "
                           "to a new non-nil configSource",
                     q->node);
  if (!nr_equal(api->obj_lookup(q->obj, "/spec/taints"),
                api->obj_lookup(q->old, "/spec/taints"), NULL, NULL, 0))
    return nr_forbid(q, e, "node \"%s\" is not allowed to modify taints",
                     q->node);
  n = forbidden_changes(api->obj_lookup(q->obj, "/metadata/labels"),
                        api->obj_lookup(q->old, "/metadata/labels"), labels,
                        sizeof labels);
  if (n < 0)
    return nr_forbid(q, e, "out of memory");
  if (n > 0) /* upstream's message names no node here */
    return nr_forbid(q, e, "is not allowed to modify labels: %s", labels);
  return 0;
}

int nr_admit_node(const nr_req *q, kapi_error *e)
{
  const char *name = q->name;

  /* A create is named by its body. */
  if (!*name && !strcmp(q->op, "CREATE"))
    name = nr_api->obj_get(q->obj, "/metadata/name");
  if (!name || strcmp(name, q->node))
    return nr_forbid(q, e, "node \"%s\" is not allowed to modify node \"%s\"",
                     q->node, name ? name : "");
  if (!strcmp(q->op, "CREATE"))
    return admit_create(q, e);
  if (!strcmp(q->op, "UPDATE"))
    return admit_update(q, e);
  return 0;
}
