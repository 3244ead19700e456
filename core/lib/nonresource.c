/*
 * nonresource.c - the endpoints that are not resources: version, health,
 * discovery and OpenAPI.
 */
#include <stdlib.h>
#include <string.h>

#include "kapi/metrics.h"
#include "discovery.h"
#include "openapi.h"
#include "server.h"

#include "config.h"

/* kubectl's dispatcher runs its built-in 1.32 client only when the
 * server says minor 32, so kapi reports the API level it implements. */
static void version(kapi_response *resp)
{
  static const char body[] =
      "{\"major\":\"1\",\"minor\":\"32\",\"gitVersion\":\"v1.32.0-kapi."
      PACKAGE_VERSION "\",\"gitCommit\":\"\",\"gitTreeState\":\"clean\","
      "\"buildDate\":\"" __DATE__ "\",\"goVersion\":\"\",\"compiler\":\"gcc\","
      "\"platform\":\"linux/amd64\"}";
  kapi_response_take(resp, 200, strdup(body), sizeof body - 1);
}

static void text(kapi_response *resp, int code, const char *s)
{
  kapi_response_take(resp, code, strdup(s), strlen(s));
  resp->content_type = "text/plain; charset=utf-8";
}

/* The default registry in the Prometheus text format.  Authorized as
 * upstream: nonResourceURL /metrics, verb get (system:monitoring). */
static void metrics(kapi_response *resp)
{
  char *body;
  size_t len;

  if (kapi_metrics_expose(kapi_metrics_default(), &body, &len) < 0) {
    kapi_response_fail(resp, 500, "InternalError",
                       "cannot gather the metrics: out of memory");
    return;
  }
  kapi_response_take(resp, 200, body, len);
  resp->content_type = KAPI_METRICS_CONTENT_TYPE;
}

static int is_health(const char *path)
{
  static const char *const roots[] = {"/healthz", "/livez", "/readyz", NULL};
  const char *const *p;
  for (p = roots; *p; p++) {
    size_t n = strlen(*p);
    if (!strncmp(path, *p, n) && (!path[n] || path[n] == '/'))
      return 1;
  }
  return 0;
}

void kapi_handle_nonresource(kapi_server *srv, kapi_req *r,
                             kapi_response *resp)
{
  if (!strcmp(r->path, "/version") || !strcmp(r->path, "/version/")) {
    version(resp);
    return;
  }
  if (!strcmp(r->path, "/metrics")) {
    metrics(resp);
    return;
  }
  if (is_health(r->path)) {
    text(resp, 200, "ok");
    return;
  }
  if (kapi_discovery_handle(srv, r, resp) || kapi_openapi_handle(srv, r, resp))
    return;
  kapi_response_not_found(resp);
}
