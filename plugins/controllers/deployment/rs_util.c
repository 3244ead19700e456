/*
 * rs_util.c - the ReplicaSet bookkeeping of the Deployment controller:
 * the pod-template-hash (controller.ComputeHash), template comparison
 * (EqualIgnoreHash), the revision and replica-count annotations
 * (util/deployment_util.go), plus the object and time helpers the other
 * files share.
 *
 * The hash: upstream feeds the Go struct of the template, printed by
 * spew, to FNV-32a, adds the collisionCount, and spells the decimal sum
 * in rand.SafeEncodeString's alphabet.  We have no Go struct, so we hash
 * a canonical JSON text of the template (object members sorted by key,
 * no white space) instead: stable across processes and member order,
 * though not bit-for-bit upstream's value.  A template with the same
 * fields therefore always gets the same name suffix, which is all the
 * controller relies on.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kapi/plugin.h"
#include "../common/ctl_util.h"
#include "dp.h"

void dp_rs_util_bind(const kapi_host_api *host, kapi_plugin *p)
{
  api = host;
  self = p;
}

/* ---- object helpers ----------------------------------------------------- */

int64_t dp_int_at(const kapi_obj *o, const char *ptr, int64_t dflt)
{
  int64_t v;
  const kapi_obj *x = api->obj_lookup(o, ptr);
  return x && api->obj_int(x, &v) == 0 ? v : dflt;
}

int64_t dp_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* A private, mutable copy of a cached object (NULL if out of memory). */
kapi_obj *dp_copy_obj(const kapi_obj *o)
{
  char *j = api->obj_to_json(o);
  kapi_obj *out = NULL;
  if (j)
    api->obj_parse(j, strlen(j), &out, NULL);
  api->free(j);
  return out;
}

/* A JSON pointer to a member of `base` whose key may hold '/' or '~'. */
void dp_key_ptr(char *out, size_t len, const char *base, const char *key)
{
  size_t o = (size_t)snprintf(out, len, "%s/", base);
  for (; *key && o + 3 < len; key++) {
    if (*key == '~' || *key == '/') {
      out[o++] = '~';
      out[o++] = *key == '~' ? '0' : '1';
    } else {
      out[o++] = *key;
    }
  }
  out[o < len ? o : len - 1] = '\0';
}

const char *dp_annotation(const kapi_obj *o, const char *key)
{
  return member_str(api->obj_lookup(o, "/metadata/annotations"), key);
}

int dp_set_annotation(kapi_obj *o, const char *key, const char *value)
{
  char ptr[512];
  dp_key_ptr(ptr, sizeof ptr, "/metadata/annotations", key);
  return api->obj_set_str(o, ptr, value);
}

/* The owner reference with controller: true, or NULL. */
const kapi_obj *dp_controller_ref(const kapi_obj *obj)
{
  const kapi_obj *refs = api->obj_lookup(obj, "/metadata/ownerReferences");
  size_t i, n = api->obj_len(refs);
  for (i = 0; i < n; i++)
    if (member_true(api->obj_index(refs, i), "controller"))
      return api->obj_index(refs, i);
  return NULL;
}

/* ---- canonical JSON and the hash ---------------------------------------- */

/* A member that is there: Go decodes null as the zero value, so a null
 * member (kubectl sends "creationTimestamp": null in templates) is the
 * same as an absent one. */
static int present(const kapi_obj *v)
{
  kapi_obj_type t = api->obj_type(v);
  return t != KAPI_OBJ_NONE && t != KAPI_OBJ_NULL;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Writes `o` with object members in key order. */
static void canonical_json(buf *b, const kapi_obj *o)
{
  size_t i, n;

  switch (api->obj_type(o)) {
  case KAPI_OBJ_STRING:
    buf_json_str(b, api->obj_get(o, ""));
    return;
  case KAPI_OBJ_NUMBER:
  case KAPI_OBJ_BOOL:
    buf_puts(b, api->obj_get(o, ""));
    return;
  case KAPI_OBJ_ARRAY:
    n = api->obj_len(o);
    buf_puts(b, "[");
    for (i = 0; i < n; i++) {
      if (i)
        buf_puts(b, ",");
      canonical_json(b, api->obj_index(o, i));
    }
    buf_puts(b, "]");
    return;
  case KAPI_OBJ_OBJECT: {
    const char **keys;
    size_t k;
    n = api->obj_len(o);
    keys = calloc(n ? n : 1, sizeof *keys);
    if (!keys) {
      b->oom = 1;
      return;
    }
    /* Null members are left out, as they decode to nothing. */
    for (i = 0, k = 0; i < n; i++)
      if (api->obj_key(o, i) && present(api->obj_index(o, i)))
        keys[k++] = api->obj_key(o, i);
    qsort(keys, k, sizeof *keys, cmp_str);
    buf_puts(b, "{");
    for (i = 0; i < k; i++) {
      if (i)
        buf_puts(b, ",");
      buf_json_str(b, keys[i]);
      buf_puts(b, ":");
      canonical_json(b, member(o, keys[i]));
    }
    buf_puts(b, "}");
    free(keys);
    return;
  }
  default:
    buf_puts(b, "null");
  }
}

uint32_t dp_fnv32a(uint32_t h, const void *p, size_t n)
{
  const unsigned char *s = p;
  size_t i;
  for (i = 0; i < n; i++)
    h = (h ^ s[i]) * 16777619u;
  return h;
}

/* rand.SafeEncodeString(fmt.Sprint(v)): each decimal digit mapped into
 * an alphabet without vowels (no words) and without 0/1/3 (no look-alikes). */
void dp_safe_encode(uint32_t v, char *out, size_t len)
{
  static const char alphanums[] = "bcdfghjklmnpqrstvwxz2456789";
  char dec[16];
  size_t i;

  snprintf(dec, sizeof dec, "%" PRIu32, v);
  for (i = 0; dec[i] && i + 1 < len; i++)
    out[i] = alphanums[(unsigned char)dec[i] % (sizeof alphanums - 1)];
  if (len)
    out[i < len ? i : len - 1] = '\0';
}

void dp_template_hash(const kapi_obj *template, int64_t collision_count,
                      char *out, size_t len)
{
  uint32_t h = 2166136261u;
  buf b = {0};

  canonical_json(&b, template);
  h = dp_fnv32a(h, b.s ? b.s : "", b.len);
  free(b.s);
  if (collision_count >= 0) {
    /* As upstream: 8 bytes, the count little-endian in the first 4. */
    unsigned char cc[8] = {0};
    uint32_t c = (uint32_t)collision_count;
    cc[0] = c & 0xff;
    cc[1] = (c >> 8) & 0xff;
    cc[2] = (c >> 16) & 0xff;
    cc[3] = (c >> 24) & 0xff;
    h = dp_fnv32a(h, cc, sizeof cc);
  }
  dp_safe_encode(h, out, len);
}

/* ---- comparing templates ------------------------------------------------ */

/* The members of objects a and b other than `skip` (may be NULL) are
 * equal, null ones counting as absent. */
static int equal_except(const kapi_obj *a, const kapi_obj *b, const char *skip)
{
  size_t i, n;

  n = api->obj_len(a);
  for (i = 0; i < n; i++) {
    const char *k = api->obj_key(a, i);
    const kapi_obj *v = api->obj_index(a, i);
    if (!k || (skip && !strcmp(k, skip)) || !present(v))
      continue;
    if (!dp_json_equal(v, member(b, k)))
      return 0;
  }
  n = api->obj_len(b);
  for (i = 0; i < n; i++) {
    const char *k = api->obj_key(b, i);
    if (k && (!skip || strcmp(k, skip)) && present(api->obj_index(b, i)) &&
        !present(member(a, k)))
      return 0;
  }
  return 1;
}

int dp_json_equal(const kapi_obj *a, const kapi_obj *b)
{
  kapi_obj_type ta = api->obj_type(a), tb = api->obj_type(b);
  size_t i, n;

  if (!present(a) || !present(b))
    return !present(a) && !present(b);
  if (ta != tb)
    return 0;
  switch (ta) {
  case KAPI_OBJ_ARRAY:
    n = api->obj_len(a);
    if (n != api->obj_len(b))
      return 0;
    for (i = 0; i < n; i++)
      if (!dp_json_equal(api->obj_index(a, i), api->obj_index(b, i)))
        return 0;
    return 1;
  case KAPI_OBJ_OBJECT:
    return equal_except(a, b, NULL);
  default:
    return streq(api->obj_get(a, ""), api->obj_get(b, ""));
  }
}

/* Label maps equal but for pod-template-hash; absent equals empty. */
static int labels_equal_ignore_hash(const kapi_obj *a, const kapi_obj *b)
{
  size_t i, n = api->obj_len(a), na = 0, nb = 0;

  for (i = 0; i < n; i++) {
    const char *k = api->obj_key(a, i);
    if (!k || !strcmp(k, DP_HASH_LABEL) || !present(api->obj_index(a, i)))
      continue;
    na++;
    if (!dp_json_equal(api->obj_index(a, i), member(b, k)))
      return 0;
  }
  n = api->obj_len(b);
  for (i = 0; i < n; i++) {
    const char *k = api->obj_key(b, i);
    if (k && strcmp(k, DP_HASH_LABEL) && present(api->obj_index(b, i)))
      nb++;
  }
  return na == nb;
}

int dp_template_equal(const kapi_obj *a, const kapi_obj *b)
{
  const kapi_obj *ma = member(a, "metadata"), *mb = member(b, "metadata");

  if (!equal_except(a, b, "metadata"))
    return 0;
  return labels_equal_ignore_hash(member(ma, "labels"), member(mb, "labels")) &&
         equal_except(ma, mb, "labels");
}

/* ---- annotations -------------------------------------------------------- */

int64_t dp_revision_of(const kapi_obj *obj)
{
  const kapi_obj *ann = api->obj_lookup(obj, "/metadata/annotations");
  const char *v = member_str(ann, DP_REVISION_ANN);
  char *end;
  long long n;

  if (!v)
    return 0;
  errno = 0;
  n = strtoll(v, &end, 10);
  if (errno || end == v || *end)
    return -1;
  return n;
}

int32_t dp_int_annotation(const kapi_obj *obj, const char *key)
{
  const kapi_obj *ann = api->obj_lookup(obj, "/metadata/annotations");
  const char *v = member_str(ann, key);
  char *end;
  long n;

  if (!v)
    return -1;
  errno = 0;
  n = strtol(v, &end, 10);
  if (errno || end == v || *end || n < 0 || n > INT32_MAX)
    return -1;
  return (int32_t)n;
}

/* skipCopyAnnotation: what belongs to the Deployment or the controller. */
int dp_copyable_annotation(const char *key)
{
  static const char *const skip[] = {
      DP_LAST_APPLIED_ANN, DP_REVISION_ANN, DP_REVISION_HISTORY_ANN,
      DP_DESIRED_ANN,      DP_MAX_ANN,      DP_ROLLBACK_ANN};
  size_t i;
  for (i = 0; i < sizeof skip / sizeof *skip; i++)
    if (!strcmp(key, skip[i]))
      return 0;
  return 1;
}

/* ---- time --------------------------------------------------------------- */

int64_t dp_parse_time(const char *s)
{
  struct tm tm;
  const char *p;
  int64_t ns = 0, scale = 100000000;
  time_t t;

  if (!s || !*s)
    return 0;
  memset(&tm, 0, sizeof tm);
  if (!(p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
    return 0;
  if (*p == '.')
    for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
      ns += (*p - '0') * scale;
  t = timegm(&tm);
  if (*p == '+' || *p == '-') {
    int hh = 0, mm = 0, sign = *p == '-' ? -1 : 1;
    if (sscanf(p + 1, "%d:%d", &hh, &mm) >= 1)
      t -= sign * (hh * 3600 + mm * 60);
  }
  return (int64_t)t * 1000000000LL + ns;
}

void dp_format_time(int64_t ns, char *out, size_t len)
{
  time_t t = (time_t)(ns / 1000000000LL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- revisions ---------------------------------------------------------- */

/*
 * The revision-history annotation after `old_rev` is appended to `hist`
 * (may be NULL), dropping the oldest entries while the text would pass
 * `limit` characters (SetNewReplicaSetAnnotations).  0 and `out`, or
 * -ENOSPC when even old_rev alone does not fit (upstream then leaves the
 * annotation as it is).
 */
int dp_revision_history(const char *hist, const char *old_rev, size_t limit,
                        char *out, size_t len)
{
  size_t total;
  const char *start;

  if (!hist || !*hist) {
    if (strlen(old_rev) + 1 > len)
      return -ENOSPC;
    snprintf(out, len, "%s", old_rev);
    return 0;
  }
  total = strlen(hist) + strlen(old_rev) + 1;
  start = hist;
  /* Drop whole entries from the front until it fits. */
  while (total > limit && start) {
    const char *comma = strchr(start, ',');
    total -= (comma ? (size_t)(comma - start) : strlen(start)) + 1;
    start = comma ? comma + 1 : NULL;
  }
  if (total > limit)
    return -ENOSPC;
  if (start && *start)
    snprintf(out, len, "%s,%s", start, old_rev);
  else
    snprintf(out, len, "%s", old_rev);
  return strlen(out) + 1 > len ? -ENOSPC : 0;
}

/* The revision the new ReplicaSet gets: one past the old ones' highest
 * (MaxRevision skips malformed ones, which dp_revision_of gives as -1). */
int64_t dp_next_revision(const int64_t *old_revs, size_t n)
{
  int64_t max = 0;
  size_t i;
  for (i = 0; i < n; i++)
    if (old_revs[i] > max)
      max = old_revs[i];
  return max + 1;
}
