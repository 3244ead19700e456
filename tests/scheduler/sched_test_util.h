/*
 * sched_test_util.h - shared by the scheduler and scheduler-plugin unit
 * tests: the built scheduler plugins copied into a private directory and
 * loaded as kapi-scheduler loads them, a framework over them, and nodes
 * and pods written in a line.
 *
 * The plugins are found in $KAPI_SCHED_PLUGIN_SRC (a directory of .so
 * files), else in $KAPI_BUILDDIR/sched-plugins/<name>/.libs/.
 */
#ifndef KAPI_SCHED_TEST_UTIL_H
#define KAPI_SCHED_TEST_UTIL_H

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "sched_config.h"
#include "framework.h"
#include "informer.h"
#include "plugin_loader.h"

typedef struct sched_env {
  char dir[64];
  kapi_plugins *ps;
  kapi_sched_registry reg;
  kapi_sched_config cfg;
  kapi_framework *fw;
} sched_env;

static inline int copy_file(const char *src, const char *dir)
{
  const char *base = strrchr(src, '/');
  char dst[512], buf[65536];
  FILE *in, *out;
  size_t n;

  snprintf(dst, sizeof dst, "%s/%s", dir, base ? base + 1 : src);
  in = fopen(src, "rb");
  out = in ? fopen(dst, "wb") : NULL;
  if (!in || !out) {
    if (in)
      fclose(in);
    return -errno;
  }
  while ((n = fread(buf, 1, sizeof buf, in)) > 0)
    fwrite(buf, 1, n, out);
  fclose(in);
  fclose(out);
  return chmod(dst, 0644);
}

/* Copies the plugins into a fresh directory (the loader refuses group-
 * or world-writable ones). */
static inline int plugins_dir(char *dir, size_t len)
{
  const char *src = getenv("KAPI_SCHED_PLUGIN_SRC");
  const char *build = getenv("KAPI_BUILDDIR");
  char pattern[512];
  glob_t g;
  size_t i;

  snprintf(dir, len, "/tmp/kapi-sched-test.XXXXXX");
  if (!mkdtemp(dir) || chmod(dir, 0755) < 0)
    return -errno;
  if (src)
    snprintf(pattern, sizeof pattern, "%s/*.so", src);
  else
    snprintf(pattern, sizeof pattern, "%s/sched-plugins/*/.libs/*.so",
             build ? build : ".");
  if (glob(pattern, 0, NULL, &g) != 0) {
    fprintf(stderr, "no scheduler plugins match %s\n", pattern);
    return -ENOENT;
  }
  for (i = 0; i < g.gl_pathc; i++)
    if (copy_file(g.gl_pathv[i], dir) < 0) {
      globfree(&g);
      return -EIO;
    }
  globfree(&g);
  return 0;
}

static inline void remove_dir(const char *dir)
{
  char cmd[128];

  if (!dir[0])
    return;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "cannot remove %s\n", dir);
}

/*
 * Loads the plugins with the configuration `yaml_json` (a
 * KubeSchedulerConfiguration as JSON, or NULL for the defaults) and
 * builds the first profile's framework.  0 or -errno (err filled).
 */
static inline int sched_env_open(sched_env *env, const char *config_json,
                                 char *err, size_t errlen)
{
  kj *doc = NULL, *loader = NULL;
  int r;

  memset(env, 0, sizeof *env);
  kapi_fw_install_host();
  if ((r = kapi_sched_config_default(&env->cfg)) < 0)
    return r;
  if (config_json &&
      ((r = kj_parse(config_json, strlen(config_json), &doc, err, errlen)) <
           0 ||
       (r = kapi_sched_config_parse(doc, &env->cfg, err, errlen)) < 0)) {
    kj_free(doc);
    return r;
  }
  kj_free(doc);
  if ((r = plugins_dir(env->dir, sizeof env->dir)) < 0)
    return r;
  loader = kapi_sched_config_loader_object(&env->cfg, NULL, NULL);
  env->ps = kapi_plugins_new(loader);
  if (!env->ps) {
    kj_free(loader);
    return -ENOMEM;
  }
  r = kapi_plugins_load_dir(env->ps, env->dir, err, errlen);
  kj_free(loader);
  if (r == 0)
    r = kapi_plugins_assemble(env->ps, NULL, 0, err, errlen);
  if (r == 0)
    r = kapi_sched_registry_build(&env->reg, env->ps);
  if (r == 0)
    r = kapi_fw_new(&env->cfg.profiles[0], &env->reg, &env->fw, err, errlen);
  return r;
}

static inline void sched_env_close(sched_env *env)
{
  kapi_fw_free(env->fw);
  kapi_sched_registry_free(&env->reg);
  kapi_plugins_free(env->ps);
  kapi_sched_config_free(&env->cfg);
  remove_dir(env->dir);
  memset(env, 0, sizeof *env);
}

static inline kj *parse_json(const char *s)
{
  char err[128];
  kj *v = NULL;

  if (kj_parse(s, strlen(s), &v, err, sizeof err) < 0) {
    fprintf(stderr, "bad test JSON: %s: %s\n", err, s);
    abort();
  }
  return v;
}

/* A Node with allocatable cpu/memory/pods; `extra` is spec JSON members
 * (taints, unschedulable), may be NULL. */
static inline kapi_cobj *make_node(const char *name, const char *cpu,
                                   const char *mem, int pods,
                                   const char *extra)
{
  char buf[2048];

  snprintf(buf, sizeof buf,
           "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":"
           "\"%s\",\"labels\":{\"kubernetes.io/hostname\":\"%s\"}},"
           "\"spec\":{%s},\"status\":{\"allocatable\":{\"cpu\":\"%s\","
           "\"memory\":\"%s\",\"pods\":\"%d\"}}}",
           name, name, extra ? extra : "", cpu, mem, pods);
  return kapi_cobj_new(parse_json(buf));
}

/* A pod in "default" with one container; cpu/mem NULL = no request;
 * `extra` is spec JSON members, may be NULL. */
static inline kapi_cobj *make_pod(const char *name, const char *cpu,
                                  const char *mem, int prio,
                                  const char *extra)
{
  char buf[2048], req[256] = "";

  if (cpu && mem)
    snprintf(req, sizeof req, ",\"resources\":{\"requests\":{\"cpu\":\"%s\","
             "\"memory\":\"%s\"}}", cpu, mem);
  else if (cpu)
    snprintf(req, sizeof req, ",\"resources\":{\"requests\":{\"cpu\":\"%s\"}}",
             cpu);
  else if (mem)
    snprintf(req, sizeof req,
             ",\"resources\":{\"requests\":{\"memory\":\"%s\"}}", mem);
  snprintf(buf, sizeof buf,
           "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
           "\"%s\",\"namespace\":\"default\",\"uid\":\"uid-%s\"},\"spec\":{"
           "\"schedulerName\":\"default-scheduler\",\"priority\":%d,"
           "\"containers\":[{\"name\":\"c\",\"image\":\"i\"%s}]%s%s},"
           "\"status\":{\"phase\":\"Pending\"}}",
           name, name, prio, req, extra ? "," : "", extra ? extra : "");
  return kapi_cobj_new(parse_json(buf));
}

/* The same pod bound to a node (for the cache). */
static inline kapi_cobj *bound(kapi_cobj *pod, const char *node)
{
  kj *copy = kj_clone(pod->obj);

  kj_set_str(kj_get(copy, "spec"), "nodeName", node);
  kapi_cobj_unref(pod);
  return kapi_cobj_new(copy);
}

#endif
