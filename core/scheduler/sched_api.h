/*
 * sched_api.h - kapi-scheduler's writes to the API server: the plugins'
 * api_request (DefaultBinder posts bindings through it), pod status
 * patches (PodScheduled condition, nominatedNodeName), deletions of
 * preemption victims, and the PodScheduled condition upstream's
 * updatePod computes.
 */
#ifndef KAPI_SCHED_API_H
#define KAPI_SCHED_API_H

#include "client.h"
#include "json.h"
#include "kapi/plugin.h"

/* Installs api_request for plugins, over `c` (borrowed; NULL removes). */
void kapi_sched_api_install(kapi_client *c);
/* The hook itself (path relative to the server).  On an error answer
 * *ret gets the Status object, so plugins can read its message. */
int kapi_sched_api_request(const char *method, const char *path,
                           const char *content_type, const char *body,
                           kapi_obj **ret, kapi_error *e);

/* A JSON merge patch on pods/<name>/status.  0 or -errno. */
int kapi_sched_patch_pod_status(kapi_client *c, const kj *pod,
                                const char *patch);
int kapi_sched_delete_pod(kapi_client *c, const kj *pod);

/*
 * The status patch of a failed attempt (upstream's updatePod with
 * podutil.UpdatePodCondition): PodScheduled=False with reason and
 * message, lastTransitionTime kept when the status did not change, and
 * status.nominatedNodeName when `nominated` (may be NULL = leave) differs.
 * NULL when nothing would change (no write needed); else newly
 * allocated JSON text.  `now` is an RFC 3339 timestamp.
 */
char *kapi_sched_failure_patch(const kj *pod, const char *reason,
                               const char *message, const char *nominated,
                               const char *now);

#endif
