/*
 * rest_meta.c - PartialObjectMetadata answers (see rest_meta.h), as
 * upstream's handlers/response.go transformObject: only the metadata is
 * kept, under meta.k8s.io/v1's kinds.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "media.h"
#include "rest_meta.h"

static int is_partial_range(const struct kapi__media_range *m)
{
  return (!strcmp(m->as, "PartialObjectMetadata") ||
          !strcmp(m->as, "PartialObjectMetadataList")) &&
         !strcmp(m->g, "meta.k8s.io") &&
         (!strcmp(m->v, "v1") || !strcmp(m->v, "v1beta1"));
}

int kapi_wants_partial_metadata(const char *accept_header)
{
  struct kapi__media_range m;
  const char *p = accept_header;

  if (!p)
    return 0;
  while (kapi__media_next(&p, &m)) {
    if (!strcasecmp(m.type, "application/json")) {
      if (is_partial_range(&m))
        return 1;
      /* Plain JSON or a Table comes first: that is what is served. */
      if (!m.as[0] || !strcmp(m.as, "Table"))
        return 0;
      continue;
    }
    if (!strcmp(m.type, "*/*") || !strcasecmp(m.type, "application/*"))
      return 0;
    /* Protobuf (client-go lists it first) is answered in JSON: look on. */
  }
  return 0;
}

kj *kapi_partial_metadata(const kj *obj)
{
  const kj *meta = kj_get(obj, "metadata");
  kj *p = kj_object();

  if (!p || kj_set_str(p, "kind", "PartialObjectMetadata") < 0 ||
      kj_set_str(p, "apiVersion", "meta.k8s.io/v1") < 0 ||
      kj_set(p, "metadata", meta ? kj_clone(meta) : kj_object()) < 0) {
    kj_free(p);
    return NULL;
  }
  return p;
}

char *kapi_partial_metadata_json(const char *json, size_t len,
                                 size_t *ret_len)
{
  kj *obj = NULL, *p;
  char err[128], *out;

  if (kj_parse(json, len, &obj, err, sizeof err) < 0)
    return NULL;
  p = kapi_partial_metadata(obj);
  kj_free(obj);
  if (!p)
    return NULL;
  out = kj_dump(p, ret_len);
  kj_free(p);
  return out;
}

kj *kapi_partial_metadata_list_new(const char *resource_version,
                                   const char *continue_token,
                                   int64_t remaining)
{
  kj *list = kj_object(), *meta = kj_object();
  int rc = 0;

  if (!list || !meta) {
    kj_free(list);
    kj_free(meta);
    return NULL;
  }
  if (resource_version && *resource_version)
    rc |= kj_set_str(meta, "resourceVersion", resource_version);
  if (continue_token && *continue_token) {
    rc |= kj_set_str(meta, "continue", continue_token);
    if (remaining >= 0)
      rc |= kj_set_int(meta, "remainingItemCount", remaining);
  }
  rc |= kj_set_str(list, "kind", "PartialObjectMetadataList");
  rc |= kj_set_str(list, "apiVersion", "meta.k8s.io/v1");
  rc |= kj_set(list, "metadata", meta);
  rc |= kj_set(list, "items", kj_array());
  if (rc) {
    kj_free(list);
    return NULL;
  }
  return list;
}

int kapi_partial_metadata_list_add(kj *list, const kj *obj)
{
  kj *items = kj_get(list, "items"), *p;

  if (!items || items->type != KJ_ARRAY)
    return -EINVAL;
  p = kapi_partial_metadata(obj);
  if (!p)
    return -ENOMEM;
  return kj_append(items, p); /* takes p, even on failure */
}
