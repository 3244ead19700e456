/*
 * client.h - the REST client of libkapi: kubeconfig, libcurl transport,
 * a QPS limiter, retries with backoff, typed verbs on JSON objects, and
 * watch streams.  The daemons (scheduler, controller-manager, kubelet)
 * and the informers are built on it.
 *
 * Objects are kj (json.h) documents.  Every call is thread-safe: a
 * kapi_client may be shared by any number of threads (each request uses
 * its own curl easy handle; connections are reused through a shared
 * connection cache).
 */
#ifndef KAPI_CLIENT_H
#define KAPI_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"

typedef struct kapi_client kapi_client;

typedef struct kapi_client_config {
  const char *kubeconfig; /* path; NULL = $KUBECONFIG, else ~/.kube/config */
  const char *context;    /* NULL = current-context */
  const char *server;     /* overrides the kubeconfig's server if set */
  double qps;             /* requests per second; 0 = 50 */
  int burst;              /* bucket size; 0 = 100 */
  const char *user_agent; /* NULL = "kapi/<version>" */
  int max_retries;        /* on connection errors, 429 and 5xx; 0 = 5 */
  /* Direct settings, as a rest.Config built without a kubeconfig (an
   * in-process loopback client).  Each overrides the kubeconfig's; with
   * `server` and `token` set and neither `kubeconfig` nor `context`, no
   * kubeconfig file is read at all. */
  const char *token;      /* bearer token (copied) */
  const char *ca_file;    /* PEM bundle the server is verified against */
  int insecure;           /* skip TLS verification of the server */
} kapi_client_config;

/* Reads the kubeconfig (clusters, users, contexts: server, CA data/file,
 * insecure-skip-tls-verify, client certificate and key data/file, bearer
 * token/tokenFile) with libyaml.  *ret owned by the caller. */
int kapi_client_new(const kapi_client_config *cfg, kapi_client **ret,
                    char *err, size_t errlen);
void kapi_client_free(kapi_client *c);
/* The server URL in use (borrowed). */
const char *kapi_client_server(const kapi_client *c);

/* A resource type. */
typedef struct kapi_gvr {
  const char *group;    /* "" = core */
  const char *version;  /* "v1" */
  const char *resource; /* "pods" */
  int namespaced;
} kapi_gvr;

/* The outcome of a request: HTTP code and, for errors, the Status. */
typedef struct kapi_result {
  int code;          /* HTTP status; 0 = no answer (transport error) */
  char reason[48];   /* Status reason ("NotFound", "Conflict", ...) */
  char message[512]; /* Status message, or the transport error */
} kapi_result;

/* List and watch options (all optional). */
typedef struct kapi_list_opts {
  const char *label_selector;
  const char *field_selector;
  const char *resource_version;
  int64_t limit;
  const char *continue_token;
  int timeout_seconds;      /* watch */
  int allow_bookmarks;      /* watch */
} kapi_list_opts;

/*
 * Every verb returns 0 on a 2xx answer, else a negative errno that
 * mirrors the status: -ENOENT (404), -EEXIST (409 AlreadyExists),
 * -EBUSY (409 Conflict), -EACCES (401/403), -EINVAL (400/422), -EIO
 * (transport or other); `res` (may be NULL) gets the details.  `*ret`
 * objects are owned by the caller (kj_free).  Objects passed in are
 * borrowed.
 */
int kapi_client_get(kapi_client *c, const kapi_gvr *gvr, const char *ns,
                    const char *name, kj **ret, kapi_result *res);
int kapi_client_list(kapi_client *c, const kapi_gvr *gvr, const char *ns,
                     const kapi_list_opts *opts, kj **ret, kapi_result *res);
int kapi_client_create(kapi_client *c, const kapi_gvr *gvr, const char *ns,
                       const kj *obj, kj **ret, kapi_result *res);
/* PUT; subresource may be NULL or "status", "scale"... */
int kapi_client_update(kapi_client *c, const kapi_gvr *gvr, const char *ns,
                       const kj *obj, const char *subresource, kj **ret,
                       kapi_result *res);
/* patch_type: "application/merge-patch+json", ...; patch is JSON text. */
int kapi_client_patch(kapi_client *c, const kapi_gvr *gvr, const char *ns,
                      const char *name, const char *subresource,
                      const char *patch_type, const char *patch, kj **ret,
                      kapi_result *res);
/* options: a DeleteOptions object or NULL. */
int kapi_client_delete(kapi_client *c, const kapi_gvr *gvr, const char *ns,
                       const char *name, const kj *options, kapi_result *res);
/* POST to a subresource of a named object (e.g. pods/binding). */
int kapi_client_post(kapi_client *c, const kapi_gvr *gvr, const char *ns,
                     const char *name, const char *subresource, const kj *obj,
                     kj **ret, kapi_result *res);

/*
 * Watch: calls fn for every event of the stream, in order, with the
 * event type ("ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR") and
 * the object (borrowed for the call).  Returns when the server ends the
 * stream (0), when fn returns non-zero (that value), when *stop becomes
 * non-zero (0; checked at least every second), or on error (<0).
 */
typedef int (*kapi_client_watch_fn)(void *arg, const char *type,
                                    const kj *obj);
int kapi_client_watch(kapi_client *c, const kapi_gvr *gvr, const char *ns,
                      const kapi_list_opts *opts, kapi_client_watch_fn fn,
                      void *arg, volatile int *stop, kapi_result *res);

/* A raw request (path with query; body may be NULL).  *ret_body owned by
 * the caller. */
int kapi_client_do(kapi_client *c, const char *method, const char *path,
                   const char *content_type, const char *body, size_t len,
                   int *ret_code, char **ret_body, size_t *ret_len);

#endif
