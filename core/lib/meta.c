/*
 * meta.c - ObjectMeta helpers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "meta.h"

static void random_bytes(unsigned char *buf, size_t n)
{
  if (RAND_bytes(buf, (int)n) != 1) {
    /* OpenSSL's DRBG failing means no entropy at all: fall back to
     * /dev/urandom so a uid is still unpredictable. */
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f || fread(buf, 1, n, f) != n)
      abort();
    fclose(f);
  }
}

void kapi_uuid4(char *buf)
{
  unsigned char b[16];
  random_bytes(b, sizeof b);
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(buf, 37,
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
           "%02x%02x%02x%02x%02x%02x",
           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
           b[11], b[12], b[13], b[14], b[15]);
}

void kapi_rfc3339(int64_t t, char *buf, size_t len)
{
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int kapi_parse_rfc3339(const char *s, int64_t *ret)
{
  struct tm tm;
  const char *p;
  memset(&tm, 0, sizeof tm);
  if (!s)
    return -EINVAL;
  p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!p)
    return -EINVAL;
  if (*p == '.')
    for (p++; *p >= '0' && *p <= '9'; p++)
      ;
  if (*p != 'Z' && *p != 'z')
    return -EINVAL;
  *ret = (int64_t)timegm(&tm);
  return 0;
}

char *kapi_generate_name(const char *prefix)
{
  static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  unsigned char rnd[5];
  size_t plen = strlen(prefix), i;
  char *name;

  if (plen > 58)
    plen = 58;
  name = malloc(plen + 6);
  if (!name)
    return NULL;
  memcpy(name, prefix, plen);
  random_bytes(rnd, sizeof rnd);
  for (i = 0; i < 5; i++)
    name[plen + i] = alphabet[rnd[i] % (sizeof alphabet - 1)];
  name[plen + 5] = '\0';
  return name;
}

static const char *field_pointer(const kapi_resource *res, const char *field)
{
  size_t i;
  if (!strcmp(field, "metadata.name"))
    return "/metadata/name";
  if (!strcmp(field, "metadata.namespace"))
    return "/metadata/namespace";
  for (i = 0; i < res->ops->n_fields; i++)
    if (!strcmp(res->ops->fields[i].label, field))
      return res->ops->fields[i].pointer;
  return NULL;
}

int kapi_resource_has_field(const kapi_resource *res, const char *field)
{
  return field_pointer(res, field) != NULL;
}

const char *kapi_object_field(const kapi_resource *res, const kj *obj,
                              const char *field)
{
  const char *ptr = field_pointer(res, field);
  kj *v;
  if (!ptr)
    return NULL;
  v = kj_ptr(obj, ptr);
  if (!v)
    return "";
  if (v->type == KJ_STRING || v->type == KJ_NUMBER)
    return v->u.str.s;
  if (v->type == KJ_BOOL)
    return v->u.boolean ? "true" : "false";
  return "";
}

int64_t kapi_object_rv(const kj *obj)
{
  const char *s = kj_str(kj_ptr(obj, "/metadata/resourceVersion"));
  char *end;
  long long v;
  if (!s)
    return 0;
  v = strtoll(s, &end, 10);
  return *end ? 0 : v;
}
