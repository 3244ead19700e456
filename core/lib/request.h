/*
 * request.h - one API request as it flows through the handler chain.
 *
 * struct kapi_req is the host side of the opaque request handed to
 * plugins.  The request-info stage fills the attributes from the URL
 * (upstream's RequestInfo), authentication fills the user, and the
 * registry stage the objects.
 */
#ifndef KAPI_REQUEST_H
#define KAPI_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "status.h"

struct kapi_resource; /* registry.h */
struct kapi_server;   /* server.h */
struct kapi_response; /* server.h */

struct kapi_req {
  /* Transport. */
  const char *method; /* "GET", ... (borrowed from the server) */
  char *path;         /* URL path, decoded */
  void *conn;         /* the server's connection (for headers, query) */
  const char *(*header)(void *conn, const char *name);
  const char *(*query)(void *conn, const char *name);
  /* Every header, repeated ones included: fn returns non-zero to stop. */
  void (*headers_each)(void *conn,
                       int (*fn)(void *arg, const char *name,
                                 const char *value),
                       void *arg);
  const char *body;   /* request body (borrowed), may be NULL */
  size_t body_len;

  /* RequestInfo (apiserver/pkg/endpoints/request/requestinfo.go). */
  int is_resource_request;
  char *verb;        /* get list watch create update patch delete
                        deletecollection; or the HTTP verb, lower-case,
                        for non-resource requests */
  char *api_prefix;  /* "api" or "apis" */
  char *api_group;   /* "" for core */
  char *api_version;
  char *namespace_;
  char *resource;
  char *subresource;
  char *name;
  const char *operation; /* "CREATE", "UPDATE", "DELETE", or NULL */
  int dry_run;

  /* Transport security: the client certificate verified against
   * --client-ca-file, or NULL/0 (tls_peer.h). */
  char *tls_client_cn;
  char **tls_client_groups;
  size_t tls_client_ngroups;

  /* Authentication (after impersonation: the impersonated user, and
   * the authenticated one in impersonator). */
  kj *user; /* {"username","uid","groups":[],"extra":{}} */
  kj *impersonator;

  /* Where plugins reach from the request (borrowed): the server (for
   * api->authorize) and the response being built (for warnings). */
  struct kapi_server *srv;
  struct kapi_response *resp;
  kj *audit_annotations; /* owned; object, or NULL */

  /* Registry. */
  struct kapi_resource *res; /* the resource served, or NULL */
  const kj *old_object;      /* stored object on UPDATE/DELETE */
  int64_t now;               /* request time, Unix seconds */
};
typedef struct kapi_req kapi_req;

/* kapi_host_api.req_get and friends (see kapi/plugin.h). */
const char *kapi_req_get(const kapi_req *r, const char *key);
const char *kapi_req_group(const kapi_req *r, size_t i);
/* The verified client certificate's i-th organization, NULL past the
 * end (also answered by kapi_req_get as "tls.client.o.<i>"). */
const char *kapi_req_tls_client_group(const kapi_req *r, size_t i);
const kapi_obj *kapi_req_old_object(const kapi_req *r);
const char *kapi_req_header(const kapi_req *r, const char *name);



/* A boolean query parameter as upstream parses it (strconv.ParseBool:
 * 1, t, T, TRUE, true, True); NULL and anything else are false. */
int kapi_query_bool(const char *value);

/* Fills the RequestInfo fields from method, path and query.  0/-errno. */
int kapi_req_parse_info(kapi_req *r);
/* Frees what the request owns and zeroes it. */
void kapi_req_reset(kapi_req *r);
#endif
