/*
 * ctl_host.h - what kapi-controller-manager gives controller plugins:
 * the controller members of the host API (kapi_ctl_host: informers from
 * one shared factory, work queues, worker threads, events) and
 * api_request over the REST client.
 *
 * Lifecycle: kapi_cm_new, kapi_cm_install (before plugins load), then,
 * once leading, kapi_cm_start_controller for each enabled controller,
 * kapi_cm_run (informers, sync, workers); at the end kapi_cm_stop and
 * kapi_cm_free.  start_controller and run are called from one thread.
 */
#ifndef KAPI_CTL_HOST_H
#define KAPI_CTL_HOST_H

#include <stddef.h>

#include "client.h"
#include "informer.h"
#include "kapi/plugin.h"

typedef struct kapi_cm kapi_cm;

/* client is borrowed and must outlive the manager; factory is taken
 * over (kapi_cm_stop frees it: that is how its informers stop); host
 * (may be NULL) is the events' source.host, copied. */
kapi_cm *kapi_cm_new(kapi_client *client, kapi_informer_factory *factory,
                     const char *host);
/* Installs the host table and api_request (process-wide: one manager per
 * process). */
void kapi_cm_install(kapi_cm *cm);
/* Calls the controller's start with a new context.  name is copied; ops
 * and st belong to the plugin.  0, or -errno with err filled. */
int kapi_cm_start_controller(kapi_cm *cm, const char *name,
                             const kapi_controller_ops *ops, void *st,
                             char *err, size_t errlen);
/* Starts the informers, waits until they synced (or *stop), then the
 * workers the controllers asked for.  0, or -ECANCELED if stopped. */
int kapi_cm_run(kapi_cm *cm, volatile int *stop);
/* Shuts the queues down, joins the workers, stops the informers, then
 * calls every started controller's stop.  Idempotent. */
void kapi_cm_stop(kapi_cm *cm);
/* Stops if needed, uninstalls, frees. */
void kapi_cm_free(kapi_cm *cm);

/* The api_request member over a client: exposed for tests.  On a non-2xx
 * answer *ret (if not NULL) gets the Status object, which the caller
 * frees like any answer. */
int kapi_cm_api_request(kapi_client *c, const char *method, const char *path,
                        const char *content_type, const char *body,
                        kapi_obj **ret, kapi_error *e);

/* The "ownerUID" index: the uid of every owner reference. */
int kapi_index_by_owner_uid(const kj *obj, char ***ret, size_t *ret_n);

#endif
