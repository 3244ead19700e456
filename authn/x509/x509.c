/*
 * x509.c - the client-certificate authenticator.
 *
 * Upstream: staging/src/k8s.io/apiserver/pkg/authentication/request/
 * x509 (CommonNameUserConversion).  The host verifies the client
 * certificate against --client-ca-file during the TLS handshake; this
 * plugin only maps a verified certificate to a user: the subject CN is
 * the username and the subject O values are the groups.  It runs first
 * since a verified certificate is the strongest credential a request can
 * carry; without one it has no opinion.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kapi/plugin.h"

static const kapi_host_api *api;

/* Appends "tls.client.o.N" values to /groups, in order. */
static int add_groups(const kapi_req *r, kapi_obj *user)
{
  char key[32];
  const char *o;
  size_t i;
  int rc;

  rc = api->obj_set_json(user, "/groups", "[]");
  for (i = 0; rc == 0; i++) {
    snprintf(key, sizeof key, "tls.client.o.%zu", i);
    o = api->req_get(r, key);
    if (!o)
      break;
    rc = api->obj_append_str(user, "/groups", o);
  }
  return rc;
}

static int x509_authenticate(void *st, const kapi_req *r, kapi_obj *user,
                             kapi_error *e)
{
  const char *cn = api->req_get(r, "tls.client.cn");
  int rc;

  (void)st;
  if (!cn)
    return 0;
  /* Upstream rejects a certificate without a CN rather than passing on. */
  if (!*cn) {
    api->error_set(e, 401, "Unauthorized",
                   "x509: subject with cn= is not accepted");
    return -EACCES;
  }
  rc = api->obj_set_str(user, "/username", cn);
  if (rc == 0)
    rc = add_groups(r, user);
  if (rc < 0) {
    api->error_set(e, 500, "InternalError",
                   "Internal error occurred: x509 user: %s", strerror(-rc));
    return rc;
  }
  return 1;
}

static const kapi_authn_ops x509_ops = {
    .size = sizeof(kapi_authn_ops),
    .authenticate = x509_authenticate,
};

static int x509_init(kapi_plugin *self, const kapi_host_api *host,
                     const char *config, size_t config_len, kapi_error *e)
{
  static const kapi_order first = {.priority = KAPI_ORDER_FIRST};

  (void)config;
  (void)config_len;
  (void)e;
  api = host;
  return api->register_authn(self, "x509", &x509_ops, NULL, &first);
}

KAPI_PLUGIN_DEFINE(.name = "x509", .version = "0.1.0",
                   .description = "x509 authenticator: a verified client "
                                  "certificate's CN and O are the user",
                   .license = "Apache-2.0", .init = x509_init);
