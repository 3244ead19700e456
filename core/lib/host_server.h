/*
 * host_server.h - the kapi-apiserver side of the host API (ABI 1.2):
 * see host_server.c.
 */
#ifndef KAPI_HOST_SERVER_H
#define KAPI_HOST_SERVER_H

#include <stdint.h>

#include "kapi/plugin.h"

struct kapi_server;

/* Binds the server whose store and chain plugins reach (borrowed; it
 * must outlive every plugin call).  NULL unbinds. */
void kapi_host_bind_server(struct kapi_server *srv);

/* The host API members, as documented in kapi/plugin.h. */
int kapi_host_store_get(const char *group, const char *resource,
                        const char *ns, const char *name, kapi_obj **ret);
int kapi_host_store_list(const char *group, const char *resource,
                         const char *ns, const char *label_selector,
                         kapi_obj **ret);
int64_t kapi_host_store_revision(const char *group, const char *resource);
int kapi_host_store_update(const char *group, const char *resource,
                           const kapi_obj *obj, kapi_obj **ret);
kapi_decision kapi_host_authorize(const kapi_req *r, const char *verb,
                                  const char *group, const char *resource,
                                  const char *subresource, const char *ns,
                                  const char *name);
#endif
