/*
 * patch.c - JSON Merge Patch (RFC 7386) and JSON Patch (RFC 6902).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patch.h"

/* ---- merge patch ------------------------------------------------------ */

int kapi_merge_patch(kj **target, const kj *patch)
{
  size_t i;
  if (!patch || patch->type != KJ_OBJECT) {
    kj *copy = kj_clone(patch);
    if (!copy)
      return -ENOMEM;
    kj_free(*target);
    *target = copy;
    return 0;
  }
  if (!*target || (*target)->type != KJ_OBJECT) {
    kj_free(*target);
    *target = kj_object();
    if (!*target)
      return -ENOMEM;
  }
  for (i = 0; i < kj_len(patch); i++) {
    const char *key = kj_key_at(patch, i);
    const kj *pv = kj_at(patch, i);
    kj *cur;
    int r;
    if (pv->type == KJ_NULL) {
      kj_remove(*target, key);
      continue;
    }
    cur = kj_clone(kj_get(*target, key));
    r = kapi_merge_patch(&cur, pv);
    if (r < 0 || (r = kj_set(*target, key, cur)) < 0)
      return r;
  }
  return 0;
}

/* ---- JSON patch --------------------------------------------------------- */

static int fail(char *err, size_t errlen, int code, const char *fmt,
                const char *a, const char *b)
{
  snprintf(err, errlen, fmt, a, b);
  return code;
}

/* The parent container of `path` and the last token (unescaped). */
static kj *parent_of(kj *root, const char *path, char *tok, size_t toklen)
{
  const char *last = strrchr(path, '/');
  char *pp;
  kj *parent;
  size_t i, n = 0;
  if (!last)
    return NULL;
  pp = strndup(path, (size_t)(last - path));
  if (!pp)
    return NULL;
  parent = kj_ptr(root, pp);
  free(pp);
  for (i = 1; last[i] && n + 1 < toklen; i++) {
    if (last[i] == '~' && last[i + 1] == '1') {
      tok[n++] = '/';
      i++;
    } else if (last[i] == '~' && last[i + 1] == '0') {
      tok[n++] = '~';
      i++;
    } else {
      tok[n++] = last[i];
    }
  }
  tok[n] = '\0';
  return parent;
}

static int array_index(const char *tok, size_t n, size_t *ret, int allow_end)
{
  char *end;
  unsigned long v;
  if (allow_end && !strcmp(tok, "-")) {
    *ret = n;
    return 0;
  }
  if (!*tok || (tok[0] == '0' && tok[1]) || tok[0] == '-' || tok[0] == '+')
    return -EINVAL;
  v = strtoul(tok, &end, 10);
  if (*end || v > n || (!allow_end && v == n))
    return -EINVAL;
  *ret = v;
  return 0;
}

/* Inserts val (transferred) at path: RFC 6902 "add". */
static int op_add(kj *root, const char *path, kj *val, char *err,
                  size_t errlen)
{
  char tok[512];
  kj *parent = parent_of(root, path, tok, sizeof tok);
  size_t idx, i;
  if (!parent || (parent->type != KJ_OBJECT && parent->type != KJ_ARRAY)) {
    kj_free(val);
    return fail(err, errlen, -ENOENT, "add operation does not apply: doc is "
                "missing path: \"%s\"%s", path, "");
  }
  if (parent->type == KJ_OBJECT)
    return kj_set(parent, tok, val);
  if (array_index(tok, parent->u.c.n, &idx, 1) < 0) {
    kj_free(val);
    return fail(err, errlen, -EINVAL, "add operation does not apply: index "
                "out of range: \"%s\"%s", path, "");
  }
  if (kj_append(parent, val) < 0)
    return -ENOMEM;
  for (i = parent->u.c.n - 1; i > idx; i--)
    parent->u.c.items[i] = parent->u.c.items[i - 1];
  parent->u.c.items[idx] = val;
  return 0;
}

/* Removes path; with ret_val the removed value is handed back. */
static int op_remove(kj *root, const char *path, kj **ret_val, char *err,
                     size_t errlen)
{
  char tok[512];
  kj *parent = parent_of(root, path, tok, sizeof tok);
  size_t idx;
  kj *v = kj_ptr(root, path);
  if (!parent || !v || !*path)
    return fail(err, errlen, -ENOENT, "remove operation does not apply: doc "
                "is missing path: \"%s\"%s", path, "");
  if (ret_val && !(*ret_val = kj_clone(v)))
    return -ENOMEM;
  if (parent->type == KJ_OBJECT)
    return kj_remove(parent, tok);
  if (array_index(tok, parent->u.c.n, &idx, 0) < 0)
    return -EINVAL;
  return kj_remove_at(parent, idx);
}

static int apply_one(kj *root, const kj *op, char *err, size_t errlen)
{
  const char *name = kj_get_str(op, "op");
  const char *path = kj_get_str(op, "path");
  const char *from = kj_get_str(op, "from");
  const kj *value = kj_get(op, "value");
  kj *v = NULL;
  int r;

  if (!name || !path)
    return fail(err, errlen, -EINVAL, "operation missing \"op\" or \"path\"%s%s",
                "", "");
  if (!strcmp(name, "test")) {
    if (!kj_equal(kj_ptr(root, path), value))
      return fail(err, errlen, -EPROTO, "testing value %s failed%s", path, "");
    return 0;
  }
  if (!strcmp(name, "remove"))
    return op_remove(root, path, NULL, err, errlen);
  if (!strcmp(name, "add") || !strcmp(name, "replace")) {
    if (!value)
      return fail(err, errlen, -EINVAL, "missing value for %s%s", path, "");
    if (!strcmp(name, "replace") && !kj_ptr(root, path))
      return fail(err, errlen, -ENOENT, "replace operation does not apply: "
                  "doc is missing key: %s%s", path, "");
    if (!strcmp(name, "replace") && (r = op_remove(root, path, NULL, err,
                                                   errlen)) < 0)
      return r;
    v = kj_clone(value);
    return v ? op_add(root, path, v, err, errlen) : -ENOMEM;
  }
  if (!strcmp(name, "move") || !strcmp(name, "copy")) {
    if (!from || !kj_ptr(root, from))
      return fail(err, errlen, -ENOENT, "%s operation does not apply: doc is "
                  "missing from path: %s", name, from ? from : "");
    if (!strcmp(name, "move"))
      r = op_remove(root, from, &v, err, errlen);
    else
      r = (v = kj_clone(kj_ptr(root, from))) ? 0 : -ENOMEM;
    return r < 0 ? r : op_add(root, path, v, err, errlen);
  }
  return fail(err, errlen, -EINVAL, "Unexpected kind: %s%s", name, "");
}

int kapi_json_patch(kj *doc, const kj *ops, char *err, size_t errlen)
{
  size_t i;
  int r;
  if (!ops || ops->type != KJ_ARRAY) {
    snprintf(err, errlen, "json: cannot unmarshal object into Go value of "
                          "type jsonpatch.Patch");
    return -EINVAL;
  }
  if (kj_len(ops) > 10000) {
    snprintf(err, errlen, "The allowed maximum operations in a JSON patch "
                          "is 10000, got %zu", kj_len(ops));
    return -E2BIG;
  }
  for (i = 0; i < kj_len(ops); i++)
    if ((r = apply_one(doc, kj_at(ops, i), err, errlen)) < 0)
      return r;
  return 0;
}
