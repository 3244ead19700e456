/*
 * sched_api.c - the scheduler's writes to the API server (upstream's
 * schedule_one.go updatePod, util.PatchPodStatus / DeletePod, and the
 * plugins' api_request).
 */
#include "sched_api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host_ext.h"
#include "log.h"
#include "status.h"

static const kapi_gvr pods_gvr = {"", "v1", "pods", 1};

/* Set once at start, before plugins run; read-only afterwards. */
static kapi_client *api_client;

/* apimachinery's error kinds as the errno the host API promises. */
static int errno_of_status(int code, const char *reason)
{
  switch (code) {
  case 404: return -ENOENT;
  case 409: return reason && !strcmp(reason, "AlreadyExists") ? -EEXIST
                                                               : -EBUSY;
  case 401:
  case 403: return -EACCES;
  case 400:
  case 422: return -EINVAL;
  default: return -EIO;
  }
}

int kapi_sched_api_request(const char *method, const char *path,
                           const char *content_type, const char *body,
                           kapi_obj **ret, kapi_error *e)
{
  char *out = NULL, perr[128];
  size_t len = 0;
  int code = 0, rc;
  kj *answer = NULL;

  if (ret)
    *ret = NULL;
  if (!api_client || !method || !path)
    return -EINVAL;
  rc = kapi_client_do(api_client, method, path, content_type, body,
                      body ? strlen(body) : 0, &code, &out, &len);
  if (code == 0) {
    if (e)
      kapi_error_setf(e, 503, "ServiceUnavailable", "%s %s: %s", method, path,
                      strerror(rc < 0 ? -rc : EIO));
    free(out);
    return rc < 0 ? rc : -EIO;
  }
  if (out && len && kj_parse(out, len, &answer, perr, sizeof perr) < 0)
    answer = NULL;
  free(out);
  rc = code >= 200 && code < 300
           ? 0
           : errno_of_status(code, kj_get_str(answer, "reason"));
  if (rc < 0 && e) {
    const char *reason = kj_get_str(answer, "reason");
    const char *msg = kj_get_str(answer, "message");
    kapi_error_setf(e, code, reason ? reason : "", "%s",
                    msg ? msg : "unknown error");
  }
  /* On failure the Status is the answer: plugins read its message. */
  if (ret)
    *ret = answer;
  else
    kj_free(answer);
  return rc;
}

void kapi_sched_api_install(kapi_client *c)
{
  api_client = c;
  kapi_host_set_api_request(c ? kapi_sched_api_request : NULL);
}

static const char *meta(const kj *pod, const char *key)
{
  return kj_get_str(kj_get(pod, "metadata"), key);
}

int kapi_sched_patch_pod_status(kapi_client *c, const kj *pod,
                                const char *patch)
{
  kapi_result res;
  int r = kapi_client_patch(c, &pods_gvr, meta(pod, "namespace"),
                            meta(pod, "name"), "status",
                            "application/merge-patch+json", patch, NULL, &res);

  if (r < 0 && r != -ENOENT)
    LOG_WARN("patching the status of pod %s/%s: %s", meta(pod, "namespace"),
             meta(pod, "name"), res.message);
  return r;
}

int kapi_sched_delete_pod(kapi_client *c, const kj *pod)
{
  kapi_result res;
  int r = kapi_client_delete(c, &pods_gvr, meta(pod, "namespace"),
                             meta(pod, "name"), NULL, &res);

  if (r < 0 && r != -ENOENT)
    LOG_WARN("deleting pod %s/%s: %s", meta(pod, "namespace"),
             meta(pod, "name"), res.message);
  return r;
}

static int str_eq(const char *a, const char *b)
{
  return !strcmp(a ? a : "", b ? b : "");
}

char *kapi_sched_failure_patch(const kj *pod, const char *reason,
                               const char *message, const char *nominated,
                               const char *now)
{
  const kj *conds = kj_ptr(pod, "/status/conditions"), *old = NULL;
  const char *cur_nnn = kj_get_str(kj_get(pod, "status"), "nominatedNodeName");
  int nnn_change = nominated && !str_eq(cur_nnn, nominated);
  int cond_change;
  kj *patch = NULL, *status, *list, *c;
  char *out = NULL;
  size_t i;

  for (i = 0; i < kj_len(conds); i++)
    if (str_eq(kj_get_str(kj_at(conds, i), "type"), "PodScheduled"))
      old = kj_at(conds, i);
  cond_change = !old || !str_eq(kj_get_str(old, "status"), "False") ||
                !str_eq(kj_get_str(old, "reason"), reason) ||
                !str_eq(kj_get_str(old, "message"), message);
  if (!cond_change && !nnn_change)
    return NULL;
  patch = kj_object();
  status = patch ? kj_child_object(patch, "status") : NULL;
  if (!status)
    goto done;
  if (cond_change) {
    /* A merge patch replaces lists: send them all, ours updated. */
    list = kj_array();
    for (i = 0; list && i < kj_len(conds); i++)
      if (kj_at(conds, i) != old)
        kj_append(list, kj_clone(kj_at(conds, i)));
    c = kj_object();
    if (!list || !c) {
      kj_free(list);
      kj_free(c);
      goto done;
    }
    kj_set_str(c, "type", "PodScheduled");
    kj_set_str(c, "status", "False");
    kj_set(c, "lastProbeTime", kj_null());
    /* The transition time moves only when the status does. */
    if (old && str_eq(kj_get_str(old, "status"), "False") &&
        kj_get_str(old, "lastTransitionTime"))
      kj_set_str(c, "lastTransitionTime",
                 kj_get_str(old, "lastTransitionTime"));
    else
      kj_set_str(c, "lastTransitionTime", now);
    kj_set_str(c, "reason", reason);
    kj_set_str(c, "message", message);
    kj_append(list, c);
    kj_set(status, "conditions", list);
  }
  if (nnn_change)
    kj_set(status, "nominatedNodeName",
           *nominated ? kj_string(nominated) : kj_null());
  out = kj_dump(patch, NULL);
done:
  kj_free(patch);
  return out;
}
