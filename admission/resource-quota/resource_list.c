/*
 * resource_list.c - resource lists (see resource_list.h).
 *
 * Upstream: staging/src/k8s.io/apiserver/pkg/quota/v1/resources.go and
 * the helpers of pkg/api/v1/resource (addResourceList, maxResourceList).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resource_list.h"

const kapi_host_api *quota_api;
/* The host table under the name every plugin uses for it. */
#define api quota_api

void rq_list_free(rq_list *l)
{
  size_t i;
  for (i = 0; i < l->n; i++)
    free(l->v[i].name);
  free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
}

/* The index of name, or where it would go (*found says which). */
static size_t find(const rq_list *l, const char *name, int *found)
{
  size_t lo = 0, hi = l->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(l->v[mid].name, name);
    if (c == 0) {
      *found = 1;
      return mid;
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  *found = 0;
  return lo;
}

const rq_qty *rq_list_get(const rq_list *l, const char *name)
{
  int found;
  size_t i = find(l, name, &found);
  return found ? &l->v[i].q : NULL;
}

int rq_list_set(rq_list *l, const char *name, const rq_qty *q)
{
  int found;
  size_t i = find(l, name, &found);
  char *copy;

  if (found) {
    l->v[i].q = *q;
    return 0;
  }
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 8;
    rq_item *v = realloc(l->v, cap * sizeof *v);
    if (!v)
      return -ENOMEM;
    l->v = v;
    l->cap = cap;
  }
  if (!(copy = strdup(name)))
    return -ENOMEM;
  memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof *l->v);
  l->v[i].name = copy;
  l->v[i].q = *q;
  l->n++;
  return 0;
}

int rq_list_add_one(rq_list *l, const char *name, const rq_qty *q)
{
  int found;
  size_t i = find(l, name, &found);
  if (found) {
    rq_qty_add(&l->v[i].q, q);
    return 0;
  }
  return rq_list_set(l, name, q);
}

int rq_list_add(rq_list *l, const rq_list *y)
{
  size_t i;
  int rc;
  for (i = 0; i < y->n; i++)
    if ((rc = rq_list_add_one(l, y->v[i].name, &y->v[i].q)) < 0)
      return rc;
  return 0;
}

int rq_list_max(rq_list *l, const rq_list *y)
{
  size_t i;
  int rc;
  for (i = 0; i < y->n; i++) {
    const rq_qty *cur = rq_list_get(l, y->v[i].name);
    if (!cur || rq_qty_cmp(&y->v[i].q, cur) > 0)
      if ((rc = rq_list_set(l, y->v[i].name, &y->v[i].q)) < 0)
        return rc;
  }
  return 0;
}

int rq_list_copy(rq_list *dst, const rq_list *src)
{
  rq_list_free(dst);
  return rq_list_add(dst, src);
}

static void remove_at(rq_list *l, size_t i)
{
  free(l->v[i].name);
  memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof *l->v);
  l->n--;
}

void rq_list_mask(rq_list *l, const rq_list *names)
{
  size_t i = l->n;
  while (i-- > 0)
    if (!rq_list_get(names, l->v[i].name))
      remove_at(l, i);
}

void rq_list_remove_zeros(rq_list *l)
{
  size_t i = l->n;
  while (i-- > 0)
    if (rq_qty_sign(&l->v[i].q) == 0)
      remove_at(l, i);
}

int rq_list_sub_nonneg(const rq_list *a, const rq_list *b, rq_list *out)
{
  rq_qty zero = rq_qty_int(0);
  size_t i;
  int rc;

  for (i = 0; i < a->n; i++) {
    rq_qty q = a->v[i].q;
    const rq_qty *o = rq_list_get(b, a->v[i].name);
    if (o)
      rq_qty_sub(&q, o);
    if ((rc = rq_list_set(out, a->v[i].name,
                          rq_qty_sign(&q) > 0 ? &q : &zero)) < 0)
      return rc;
  }
  for (i = 0; i < b->n; i++)
    if (!rq_list_get(out, b->v[i].name) &&
        (rc = rq_list_set(out, b->v[i].name, &zero)) < 0)
      return rc;
  return 0;
}

int rq_list_equal(const rq_list *a, const rq_list *b)
{
  size_t i;
  if (a->n != b->n)
    return 0;
  for (i = 0; i < a->n; i++)
    if (strcmp(a->v[i].name, b->v[i].name) ||
        rq_qty_cmp(&a->v[i].q, &b->v[i].q))
      return 0;
  return 1;
}

int rq_list_parse(const kapi_obj *map, rq_list *out)
{
  size_t i, n;
  int rc;

  if (api->obj_type(map) != KAPI_OBJ_OBJECT)
    return 0;
  n = api->obj_len(map);
  for (i = 0; i < n; i++) {
    const kapi_obj *v = api->obj_index(map, i);
    kapi_obj_type t = api->obj_type(v);
    rq_qty q;
    if ((t != KAPI_OBJ_STRING && t != KAPI_OBJ_NUMBER) ||
        rq_qty_parse(api->obj_get(v, ""), &q) < 0)
      continue;
    if ((rc = rq_list_set(out, api->obj_key(map, i), &q)) < 0)
      return rc;
  }
  return 0;
}

/* Appends s to a growing buffer; *oom on failure. */
static void cat(char **buf, size_t *len, size_t *cap, const char *s, int *oom)
{
  size_t n = strlen(s);
  if (*oom)
    return;
  if (*len + n + 1 > *cap) {
    size_t c = *cap ? *cap : 128;
    char *p;
    while (c < *len + n + 1)
      c *= 2;
    if (!(p = realloc(*buf, c))) {
      *oom = 1;
      return;
    }
    *buf = p;
    *cap = c;
  }
  memcpy(*buf + *len, s, n + 1);
  *len += n;
}

/* Resource names are qualified names: no quotes or backslashes, but be
 * safe anyway. */
static void cat_json_str(char **buf, size_t *len, size_t *cap, const char *s,
                         int *oom)
{
  char one[8];
  cat(buf, len, cap, "\"", oom);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      snprintf(one, sizeof one, "\\%c", *s);
    else if ((unsigned char)*s < 0x20)
      snprintf(one, sizeof one, "\\u%04x", (unsigned char)*s);
    else
      snprintf(one, sizeof one, "%c", *s);
    cat(buf, len, cap, one, oom);
  }
  cat(buf, len, cap, "\"", oom);
}

char *rq_list_json(const rq_list *l)
{
  char *buf = NULL, text[RQ_QTY_TEXT];
  size_t len = 0, cap = 0, i;
  int oom = 0;

  cat(&buf, &len, &cap, "{", &oom);
  for (i = 0; i < l->n; i++) {
    if (i)
      cat(&buf, &len, &cap, ",", &oom);
    cat_json_str(&buf, &len, &cap, l->v[i].name, &oom);
    cat(&buf, &len, &cap, ":", &oom);
    cat_json_str(&buf, &len, &cap, rq_qty_format(&l->v[i].q, text, sizeof text),
                 &oom);
  }
  cat(&buf, &len, &cap, "}", &oom);
  if (oom) {
    free(buf);
    return NULL;
  }
  return buf;
}

char *rq_list_pretty(const rq_list *l, char *buf, size_t len)
{
  char text[RQ_QTY_TEXT];
  size_t i, o = 0;

  buf[0] = '\0';
  for (i = 0; i < l->n && o < len; i++)
    o += (size_t)snprintf(buf + o, len - o, "%s%s=%s", i ? "," : "",
                          l->v[i].name,
                          rq_qty_format(&l->v[i].q, text, sizeof text));
  return buf;
}

char *rq_list_names(const rq_list *l, char *buf, size_t len)
{
  size_t i, o = 0;

  buf[0] = '\0';
  for (i = 0; i < l->n && o < len; i++)
    o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? "," : "",
                          l->v[i].name);
  return buf;
}

