/*
 * resource_list.h - corev1.ResourceList for the quota code: named
 * quantities kept sorted by name, with the operations of upstream's
 * staging/src/k8s.io/apiserver/pkg/quota/v1/resources.go (Add, Mask,
 * Equals, SubtractWithNonNegativeResult, RemoveZeros...) and the text
 * forms its messages and the stored status use.
 *
 * Shared by the ResourceQuota admission plugin and the resourcequota
 * controller; reads objects through `quota_api`, which the plugin
 * linking this file sets in its init (or a test, to the host table).
 * An rq_list owns its names: free it with rq_list_free.
 */
#ifndef KAPI_RQ_RESOURCE_LIST_H
#define KAPI_RQ_RESOURCE_LIST_H

#include <stddef.h>

#include "kapi/plugin.h"
#include "quantity.h"

extern const kapi_host_api *quota_api;

typedef struct rq_item {
  char *name; /* owned */
  rq_qty q;
} rq_item;

typedef struct rq_list {
  rq_item *v;
  size_t n, cap;
} rq_list;

void rq_list_free(rq_list *l);
/* The quantity of `name`, borrowed from l, or NULL. */
const rq_qty *rq_list_get(const rq_list *l, const char *name);
/* l[name] = q (0 or -ENOMEM). */
int rq_list_set(rq_list *l, const char *name, const rq_qty *q);
/* addResourceList for one entry: l[name] += q, or = q when absent. */
int rq_list_add_one(rq_list *l, const char *name, const rq_qty *q);
/* quota.Add: l += y, name by name. */
int rq_list_add(rq_list *l, const rq_list *y);
/* maxResourceList: l[name] = y[name] where y's is larger or l has none. */
int rq_list_max(rq_list *l, const rq_list *y);
int rq_list_copy(rq_list *dst, const rq_list *src);
/* quota.Mask: keeps the entries whose names `names` holds. */
void rq_list_mask(rq_list *l, const rq_list *names);
/* quota.RemoveZeros. */
void rq_list_remove_zeros(rq_list *l);
/* quota.SubtractWithNonNegativeResult into *out (empty on entry). */
int rq_list_sub_nonneg(const rq_list *a, const rq_list *b, rq_list *out);
/* quota.Equals: same names and equal quantities. */
int rq_list_equal(const rq_list *a, const rq_list *b);
/* The quantities of a JSON object ({"pods":"2"}); members that are not
 * quantities are skipped.  Returns 0 or -ENOMEM. */
int rq_list_parse(const kapi_obj *map, rq_list *out);
/* The canonical JSON object text; caller frees (free()).  NULL on OOM. */
char *rq_list_json(const rq_list *l);
/* prettyPrint: "name=value,name=value" in name order, into buf. */
char *rq_list_pretty(const rq_list *l, char *buf, size_t len);
/* prettyPrintResourceNames: "a,b" in name order, into buf. */
char *rq_list_names(const rq_list *l, char *buf, size_t len);

#endif
