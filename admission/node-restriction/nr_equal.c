/*
 * nr_equal.c - semantic equality of JSON values, for "did the node
 * change this?" (see node_restriction.h).
 *
 * Upstream compares typed Go structs, where a missing JSON member and
 * its zero value decode alike; over untyped JSON the nearest rule is
 * that an absent member equals any zero value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node_restriction.h"

static int is_zero(const kapi_obj *v)
{
  const kapi_host_api *api = nr_api;
  const char *s;

  switch (api->obj_type(v)) {
  case KAPI_OBJ_NONE:
  case KAPI_OBJ_NULL:
    return 1;
  case KAPI_OBJ_ARRAY:
  case KAPI_OBJ_OBJECT:
    return api->obj_len(v) == 0;
  case KAPI_OBJ_STRING:
    return !*api->obj_get(v, "");
  case KAPI_OBJ_BOOL:
    return !strcmp(api->obj_get(v, ""), "false");
  case KAPI_OBJ_NUMBER:
    s = api->obj_get(v, "");
    return strtod(s, NULL) == 0;
  default:
    return 0;
  }
}

static int skipped(const char *path, const char *const *skip)
{
  for (; skip && *skip; skip++)
    if (!strcmp(path, *skip))
      return 1;
  return 0;
}

/* Appends "/key" (escaped as a JSON pointer token) to path. */
static void child_path(char *out, size_t len, const char *path,
                       const char *key)
{
  size_t n = (size_t)snprintf(out, len, "%s/", path);

  for (; *key && n + 3 < len; key++) {
    if (*key == '~' || *key == '/') {
      out[n++] = '~';
      out[n++] = *key == '~' ? '0' : '1';
    } else {
      out[n++] = *key;
    }
  }
  if (n < len)
    out[n] = '\0';
}

/* The member `key` of object o, or NULL. */
static const kapi_obj *member(const kapi_obj *o, const char *key)
{
  size_t i, n = nr_api->obj_len(o);

  for (i = 0; i < n; i++)
    if (!strcmp(nr_api->obj_key(o, i), key))
      return nr_api->obj_index(o, i);
  return NULL;
}

static int equal_at(const kapi_obj *a, const kapi_obj *b, const char *path,
                    const char *const *skip, char *diff, size_t difflen);

/* Every member of a must equal its namesake in b (absent = zero). */
static int members_match(const kapi_obj *a, const kapi_obj *b,
                         const char *path, const char *const *skip,
                         char *diff, size_t difflen)
{
  size_t i, n = nr_api->obj_len(a);
  char sub[512];

  for (i = 0; i < n; i++) {
    const char *key = nr_api->obj_key(a, i);
    child_path(sub, sizeof sub, path, key);
    if (!equal_at(nr_api->obj_index(a, i), member(b, key), sub, skip, diff,
                  difflen))
      return 0;
  }
  return 1;
}

static int equal_at(const kapi_obj *a, const kapi_obj *b, const char *path,
                    const char *const *skip, char *diff, size_t difflen)
{
  const kapi_host_api *api = nr_api;
  kapi_obj_type ta = api->obj_type(a), tb = api->obj_type(b);
  int eq = 0;
  size_t i;

  if (skipped(path, skip))
    return 1;
  if (is_zero(a) && is_zero(b))
    return 1;
  if (ta == tb) {
    switch (ta) {
    case KAPI_OBJ_STRING:
    case KAPI_OBJ_BOOL:
      eq = !strcmp(api->obj_get(a, ""), api->obj_get(b, ""));
      break;
    case KAPI_OBJ_NUMBER:
      eq = strtod(api->obj_get(a, ""), NULL) ==
           strtod(api->obj_get(b, ""), NULL);
      break;
    case KAPI_OBJ_ARRAY:
      eq = api->obj_len(a) == api->obj_len(b);
      for (i = 0; eq && i < api->obj_len(a); i++) {
        char sub[512];
        snprintf(sub, sizeof sub, "%s/%zu", path, i);
        /* The element reports its own difference. */
        if (!equal_at(api->obj_index(a, i), api->obj_index(b, i), sub, skip,
                      diff, difflen))
          return 0;
      }
      break;
    case KAPI_OBJ_OBJECT:
      return members_match(a, b, path, skip, diff, difflen) &&
             members_match(b, a, path, skip, diff, difflen);
    default:
      eq = 1;
    }
  }
  if (!eq && diff && difflen)
    snprintf(diff, difflen, "%s", *path ? path : "/");
  return eq;
}

int nr_equal(const kapi_obj *a, const kapi_obj *b, const char *const *skip,
             char *diff, size_t difflen)
{
  if (diff && difflen)
    diff[0] = '\0';
  return equal_at(a, b, "", skip, diff, difflen);
}
