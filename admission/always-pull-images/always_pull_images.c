/*
 * always_pull_images.c - the AlwaysPullImages admission plugin.
 *
 * Upstream: plugin/pkg/admission/alwayspullimages/admission.go.  Every
 * container, init container and ephemeral container of a pod gets
 * imagePullPolicy Always (admit), and a pod whose containers do not all
 * have it is refused (validate): in a multi-tenant cluster an image that
 * one tenant pulled onto a node is then never run by another without
 * credentials to pull it.  Updates that bring no image the pod did not
 * already reference are left alone, as are subresources.
 *
 * As upstream, validation refuses with an aggregate of Forbidden errors,
 * which the API server reports as a 500 with no reason (it is not a
 * single Status); it only fires when a later mutating plugin undid what
 * admit set.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapi/plugin.h"

static const kapi_host_api *api;

/* pods.VisitContainersWithPath's order. */
static const char *const container_lists[] = {
    "initContainers", "containers", "ephemeralContainers"};
#define N_LISTS (sizeof container_lists / sizeof *container_lists)

static int nonempty(const char *s)
{
  return s && *s;
}

static size_t list_len(const kapi_obj *pod, const char *which)
{
  char ptr[64];
  const kapi_obj *l;

  snprintf(ptr, sizeof ptr, "/spec/%s", which);
  l = api->obj_lookup(pod, ptr);
  return api->obj_type(l) == KAPI_OBJ_ARRAY ? api->obj_len(l) : 0;
}

static const char *image_of(const kapi_obj *pod, const char *which, size_t i)
{
  char ptr[96];
  const char *image;

  snprintf(ptr, sizeof ptr, "/spec/%s/%zu/image", which, i);
  image = api->obj_get(pod, ptr);
  return image ? image : "";
}

/* Is `image` used by any container of `pod`? */
static int has_image(const kapi_obj *pod, const char *image)
{
  size_t l, i;

  for (l = 0; l < N_LISTS; l++)
    for (i = 0; i < list_len(pod, container_lists[l]); i++)
      if (!strcmp(image_of(pod, container_lists[l], i), image))
        return 1;
  return 0;
}

/* isUpdateWithNoNewImages. */
static int update_without_new_images(const kapi_req *r, const kapi_obj *pod)
{
  const char *op = api->req_get(r, "operation");
  const kapi_obj *old = api->req_old_object(r);
  size_t l, i;

  if (!op || strcmp(op, "UPDATE") || !old)
    return 0;
  for (l = 0; l < N_LISTS; l++)
    for (i = 0; i < list_len(pod, container_lists[l]); i++)
      if (!has_image(old, image_of(pod, container_lists[l], i)))
        return 0;
  return 1;
}

/* shouldIgnore: subresources, other resources, updates that bring no
 * new image. */
static int ignored(const kapi_req *r, const kapi_obj *pod)
{
  const char *resource = api->req_get(r, "resource");

  return !pod || nonempty(api->req_get(r, "subresource")) ||
         nonempty(api->req_get(r, "apiGroup")) || !resource ||
         strcmp(resource, "pods") || update_without_new_images(r, pod);
}

static int pull_admit(void *st, kapi_req *r, kapi_obj *pod, kapi_error *e)
{
  char ptr[128];
  size_t l, i;
  int rc;

  (void)st;
  if (ignored(r, pod))
    return 0;
  for (l = 0; l < N_LISTS; l++)
    for (i = 0; i < list_len(pod, container_lists[l]); i++) {
      snprintf(ptr, sizeof ptr, "/spec/%s/%zu/imagePullPolicy",
               container_lists[l], i);
      rc = api->obj_set_str(pod, ptr, "Always");
      if (rc < 0) {
        api->error_set(e, 500, "InternalError",
                       "Internal error occurred: setting imagePullPolicy: %s",
                       strerror(-rc));
        return rc;
      }
    }
  return 0;
}

/* The name admission errors use (admission.NewForbidden). */
static const char *object_name(const kapi_req *r, const kapi_obj *obj)
{
  const char *name = api->req_get(r, "name");

  if (!nonempty(name))
    name = api->obj_get(obj, "/metadata/name");
  if (!nonempty(name))
    name = api->obj_get(obj, "/metadata/generateName");
  return nonempty(name) ? name : "Unknown";
}

/* Appends `s` as Go's %q would print it (the policy is plain text). */
static void append_quoted(char *buf, size_t len, size_t *o, const char *s)
{
  if (*o < len)
    *o += (size_t)snprintf(buf + *o, len - *o, "\"");
  for (; *s && *o + 3 < len; s++) {
    if (*s == '"' || *s == '\\')
      buf[(*o)++] = '\\';
    buf[(*o)++] = *s;
  }
  if (*o < len)
    *o += (size_t)snprintf(buf + *o, len - *o, "\"");
  if (*o >= len)
    *o = len - 1;
}

static int pull_validate(void *st, const kapi_req *r, const kapi_obj *pod,
                         kapi_error *e)
{
  const char *resource = api->req_get(r, "resource");
  const char *name;
  char msg[4096], ptr[128];
  size_t l, i, o = 0, errors = 0;

  (void)st;
  if (ignored(r, pod))
    return 0;
  name = object_name(r, pod);
  for (l = 0; l < N_LISTS; l++)
    for (i = 0; i < list_len(pod, container_lists[l]); i++) {
      const char *policy;
      snprintf(ptr, sizeof ptr, "/spec/%s/%zu/imagePullPolicy",
               container_lists[l], i);
      policy = api->obj_get(pod, ptr);
      if (policy && !strcmp(policy, "Always"))
        continue;
      /* One Forbidden error per container, joined as an aggregate. */
      o += (size_t)snprintf(msg + o, sizeof msg - o,
                            "%s%s \"%s\" is forbidden: spec.%s[%zu]."
                            "imagePullPolicy: Unsupported value: ",
                            errors ? ", " : "", resource, name,
                            container_lists[l], i);
      if (o >= sizeof msg)
        o = sizeof msg - 1;
      append_quoted(msg, sizeof msg, &o, policy ? policy : "");
      o += (size_t)snprintf(msg + o, sizeof msg - o,
                            ": supported values: \"Always\"");
      if (o >= sizeof msg)
        o = sizeof msg - 1;
      errors++;
    }
  if (!errors)
    return 0;
  api->error_set(e, 500, "", errors > 1 ? "[%s]" : "%s", msg);
  return -EPERM;
}

static const kapi_admission_ops pull_ops = {
    .size = sizeof(kapi_admission_ops),
    .handles = KAPI_OP_CREATE | KAPI_OP_UPDATE,
    .admit = pull_admit,
    .validate = pull_validate,
};

static int pull_init(kapi_plugin *self, const kapi_host_api *host,
                     const char *config, size_t config_len, kapi_error *e)
{
  (void)config;
  (void)config_len;
  (void)e;
  api = host;
  return api->register_admission(self, "AlwaysPullImages", &pull_ops, NULL,
                                 NULL);
}

KAPI_PLUGIN_DEFINE(.name = "always-pull-images", .version = "0.1.0",
                   .description = "AlwaysPullImages admission: every "
                                  "container pulls its image",
                   .license = "Apache-2.0", .init = pull_init);
