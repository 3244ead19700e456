/*
 * server.h - the API server: the HTTP front end (libmicrohttpd), the
 * handler chain, and the state the handlers share.
 */
#ifndef KAPI_SERVER_H
#define KAPI_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "plugin_loader.h"
#include "registry.h"
#include "request.h"
#include "status.h"
#include "store.h"

typedef struct kapi_server kapi_server;
typedef struct watch_stream watch_stream; /* watch_http.c */

/* What a handler answers: a whole body, or a watch stream. */
typedef struct kapi_response {
  int code;
  const char *content_type; /* static string */
  char *body;               /* owned, unless `shared` holds it */
  size_t len;
  /* When set, body is this stored object's JSON, answered as is: the
   * reference keeps the bytes alive until the response is sent. */
  store_obj *shared;
  char *warnings;           /* owned; "\n"-separated warning texts */
  watch_stream *stream;     /* owned until handed to the server */
  struct kapi_byte_stream *bytes; /* rest_log.h; owned likewise */
} kapi_response;

void kapi_response_reset(kapi_response *resp);
/* Sets a JSON body from an object (the object is borrowed). */
int kapi_response_json(kapi_response *resp, int code, const kj *obj);
/* Answers a stored object's bytes without copying them (o borrowed: a
 * new reference is taken). */
void kapi_response_share(kapi_response *resp, int code, store_obj *o);
/* Takes ownership of an already-serialised JSON body. */
void kapi_response_take(kapi_response *resp, int code, char *body,
                        size_t len);
/* A Status body for the error. */
void kapi_response_error(kapi_response *resp, const kapi_error *e);
/* A Status body built from code, reason and message (copied). */
void kapi_response_fail(kapi_response *resp, int code, const char *reason,
                        const char *message);
/* 404 "the server could not find the requested resource". */
void kapi_response_not_found(kapi_response *resp);
/* Adds a Warning header text (copied). */
void kapi_response_warn(kapi_response *resp, const char *text);

typedef struct kapi_server_options {
  const char *bind_address; /* "127.0.0.1" */
  int port;                 /* 0 = any free port */
  int threads;              /* 0 = number of CPUs */
  /* TLS: when tls_cert_file is set this daemon serves HTTPS (both
   * files are then required).  client_ca_file, optional, makes the
   * handshake ask for a client certificate; a verified one is put on
   * the request (tls.client.cn, tls.client.o.N).  Paths borrowed. */
  const char *tls_cert_file;
  const char *tls_key_file;
  const char *client_ca_file;
} kapi_server_options;

struct kapi_server_tls; /* server.c: PEM texts and the client verifier */

struct kapi_server {
  kapi_store *store;        /* borrowed */
  kapi_plugins *plugins;    /* borrowed */
  kapi_registry *registry;  /* borrowed */
  int64_t start_time;
  struct watch_hub *watches;/* watch_http.c */
  void *mhd;                /* struct MHD_Daemon */
  int port;                 /* the bound port (plain HTTP) */
  void *mhd_secure;         /* struct MHD_Daemon serving TLS, or NULL */
  int secure_port;          /* its bound port */
  struct kapi_server_tls *tls;
  struct kapi_audit *audit; /* audit.h; borrowed, NULL = no audit log */
  /* sa_token.h; borrowed, NULL = no TokenRequest (serviceaccounts/token
   * answers 404, as upstream without a signing key). */
  struct kapi_sa_signer *sa_signer;
  /* The loopback client's credential, as upstream's: a random bearer
   * token only this process knows (main.c makes it at start), which the
   * chain authenticates as "system:apiserver" (groups system:masters,
   * system:authenticated) before any authenticator.  Borrowed; NULL =
   * none. */
  const char *loopback_token;
  const char *loopback_uid;
};

/* Starts one listener.  May be called twice on one server, once for
 * plain HTTP and once with TLS options; the second TLS start fails. */
int kapi_server_start(kapi_server *srv, const kapi_server_options *opts,
                      char *err, size_t errlen);
void kapi_server_stop(kapi_server *srv);

/* Creates the resources' initial objects that do not exist yet. */
int kapi_server_seed(kapi_server *srv, char *err, size_t errlen);

/* The handler chain (chain.c): runs every stage for one request. */
void kapi_chain_run(kapi_server *srv, kapi_req *r, kapi_response *resp);

/* Handlers. */
void kapi_handle_nonresource(kapi_server *srv, kapi_req *r,
                             kapi_response *resp);
void kapi_handle_resource(kapi_server *srv, kapi_req *r,
                          kapi_response *resp);

/* Metrics (server.c), in the default registry (kapi/metrics.h).
 * The chain counts a request in flight from its request-info on
 * (delta +1) to its end (-1), as read-only or mutating by its verb. */
void kapi_request_inflight(const kapi_req *r, int delta);
/* The apiserver_watch_events_total series of a resource (borrowed,
 * lives as long as the process), or NULL. */
struct kapi_metric_series *kapi_watch_events_series(const kapi_resource *res);

/* Query parameter of the request, or NULL. */
const char *kapi_req_query(const kapi_req *r, const char *name);

#endif
