/*
 * runtime_util.h - helpers shared by the container runtime plugins
 * (process, fake).
 *
 * Plugins are built like third-party ones, from one .c file against
 * <kapi/plugin.h> and libc only, so what they share cannot live in a
 * library: it lives here, as static functions every plugin compiles into
 * itself.  Include it by relative path ("../common/runtime_util.h") after
 * defining _GNU_SOURCE (clock_gettime), so that the one-line build
 * `cc -std=c11 -shared -fPIC -fvisibility=hidden -I include -o X.so X.c`
 * still works.  `static inline` keeps the helpers a plugin does not use
 * from warning.
 *
 * The header owns the plugin's global `api` (the host API table);
 * rt_host_ok() sets it.
 */
#ifndef KAPI_RUNTIME_UTIL_H
#define KAPI_RUNTIME_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "kapi/plugin.h"

static const kapi_host_api *api;

/* What a runtime knows of a container's life, as the CRI reports it. */
typedef struct rt_life {
  kapi_container_state state;
  int64_t created_at, started_at, finished_at; /* ns since the epoch */
  int32_t exit_code;
  const char *reason; /* static text */
} rt_life;

/* CLOCK_REALTIME in nanoseconds, the unit of the CRI's timestamps. */
static inline int64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Marks an ended container: exited at `finished_at` with `exit_code`,
 * the reason the kubelet shows for it. */
static inline void rt_mark_exited(rt_life *l, int64_t finished_at,
                                  int32_t exit_code)
{
  l->state = KAPI_CONTAINER_EXITED;
  l->finished_at = finished_at;
  l->exit_code = exit_code;
  l->reason = exit_code == 0 ? "Completed" : "Error";
}

/* Hands one container's status to `fn`; every pointer is borrowed for
 * the call only.  `message` and `log_path` may be NULL. */
static inline void rt_report(const char *id, const char *sandbox_id,
                             const char *name, const rt_life *l,
                             const char *message, const char *log_path,
                             kapi_container_status_fn fn, void *arg)
{
  kapi_container_status s = {
      .size = sizeof s,
      .id = id,
      .sandbox_id = sandbox_id,
      .name = name,
      .state = l->state,
      .created_at = l->created_at,
      .started_at = l->started_at,
      .finished_at = l->finished_at,
      .exit_code = l->exit_code,
      .reason = l->reason,
      .message = message,
      .log_path = log_path,
  };
  fn(arg, &s);
}

/* The error of a create into a sandbox the runtime does not know. */
static inline int rt_sandbox_not_found(kapi_error *e, const char *sandbox_id)
{
  api->error_set(e, 404, "NotFound", "sandbox %s not found", sandbox_id);
  return -ENOENT;
}

/* At init: 0 (and `api` set) if the host can take a runtime, else
 * -ENOTSUP with `e` set. */
static inline int rt_host_ok(const kapi_host_api *host, kapi_error *e)
{
  if (!KAPI_API_HAS(host, register_runtime)) {
    host->error_set(e, 500, "InternalError",
                    "the host has no container runtime support (ABI < 1.1)");
    return -ENOTSUP;
  }
  api = host;
  return 0;
}

/* The kapi_runtime_ops of a plugin whose ops have the CRI names. */
#define RT_RUNTIME_OPS(var)                                                 \
  static const kapi_runtime_ops var = {                                     \
      .size = sizeof(kapi_runtime_ops),                                     \
      .run_pod_sandbox = run_pod_sandbox,                                   \
      .stop_pod_sandbox = stop_pod_sandbox,                                 \
      .remove_pod_sandbox = remove_pod_sandbox,                             \
      .create_container = create_container,                                 \
      .start_container = start_container,                                   \
      .stop_container = stop_container,                                     \
      .remove_container = remove_container,                                 \
      .container_status = container_status,                                 \
      .list_containers = list_containers,                                   \
  }

#endif /* KAPI_RUNTIME_UTIL_H */
