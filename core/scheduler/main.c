/*
 * kapi-scheduler - assigns pending pods to nodes, as kube-scheduler:
 * the scheduling framework of profiles over scheduler plugins (.so),
 * configured by a KubeSchedulerConfiguration, leader election on the
 * Lease kube-system/kube-scheduler, until SIGINT/SIGTERM.  Losing
 * leadership ends the process with status 1, as upstream.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "client.h"
#include "daemon.h"
#include "framework.h"
#include "leaderelection.h"
#include "log.h"
#include "plugin_internal.h"
#include "plugin_loader.h"
#include "sched_api.h"
#include "schedule_one.h"
#include "kyaml.h"

#define DEFAULT_PLUGIN_DIR KAPI_PLUGINDIR "/sched-plugins"

struct options {
  kapi_daemon_flags f; /* --kubeconfig, --master, --plugin-dir */
  const char *config_file;
  int no_default_plugins;
  int leader_elect; /* -1 = as the configuration says */
};

static void usage(FILE *out)
{
  fprintf(out,
"Usage: kapi-scheduler [flags]\n"
"\n"
"The kapi scheduler: watches unassigned pods and binds each to a node\n"
"chosen by the scheduling framework, whose plugins (filters, scores,\n"
"binders) are loaded from shared objects.\n"
"\n"
"Flags:\n"
"  --kubeconfig PATH       kubeconfig with the server and credentials\n"
"  --master URL            the API server (overrides the kubeconfig's)\n"
"  --config FILE           KubeSchedulerConfiguration\n"
"                          (kubescheduler.config.k8s.io/v1, YAML or JSON):\n"
"                          profiles, plugins, pluginConfig, backoffs,\n"
"                          client QPS, leader election\n"
"  --plugin-dir DIR        load scheduler plugins from DIR (repeatable; DIR\n"
"                          and its sched-plugins/ subdirectory)\n"
"  --no-default-plugins    do not load the installed plugins (%s)\n"
"  --leader-elect[=BOOL]   elect a leader before scheduling (default true)\n"
"  -v, --v N               log verbosity\n"
"  -h, --help              this help\n",
          DEFAULT_PLUGIN_DIR);
}

static int parse_bool(const char *s, int *ret)
{
  if (!s || !strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "yes")) {
    *ret = 1;
    return 0;
  }
  if (!strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "no")) {
    *ret = 0;
    return 0;
  }
  fprintf(stderr, "invalid boolean \"%s\"\n", s);
  return -1;
}

static int parse_options(int argc, char **argv, struct options *o)
{
  enum { O_CONFIG = KAPI_DAEMON_O_END, O_NODEF, O_LEADER };
  static const struct option longopts[] = {
      {"kubeconfig", required_argument, NULL, KAPI_DAEMON_O_KUBECONFIG},
      {"master", required_argument, NULL, KAPI_DAEMON_O_MASTER},
      {"config", required_argument, NULL, O_CONFIG},
      {"plugin-dir", required_argument, NULL, KAPI_DAEMON_O_PLUGIN_DIR},
      {"no-default-plugins", no_argument, NULL, O_NODEF},
      {"leader-elect", optional_argument, NULL, O_LEADER},
      {"v", required_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int c, r;

  memset(o, 0, sizeof *o);
  o->leader_elect = -1;
  while ((c = getopt_long(argc, argv, "hv:", longopts, NULL)) != -1) {
    if ((r = kapi_daemon_flag(&o->f, c, optarg)) < 0)
      return -1;
    if (r)
      continue;
    switch (c) {
    case O_CONFIG: o->config_file = optarg; break;
    case O_NODEF: o->no_default_plugins = 1; break;
    case O_LEADER:
      if (parse_bool(optarg, &o->leader_elect) < 0)
        return -1;
      break;
    case 'h': usage(stdout); exit(0);
    default: usage(stderr); return -1;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "unexpected argument: %s\n", argv[optind]);
    return -1;
  }
  return 0;
}

/* ---- plugins ----------------------------------------------------------- */

static int is_dir(const char *path)
{
  struct stat st;

  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Every configured directory: its .so files and its sched-plugins/. */
static int load_dirs(kapi_plugins *ps, const struct options *o)
{
  char err[1024], path[4096];

  for (int i = -1; i < o->f.n_plugin_dirs; i++) {
    const char *dir = i < 0 ? DEFAULT_PLUGIN_DIR : o->f.plugin_dirs[i];
    if (i < 0 && (o->no_default_plugins || !is_dir(dir)))
      continue;
    if (kapi_plugins_load_dir(ps, dir, err, sizeof err) < 0) {
      LOG_ERROR("%s", err);
      return -1;
    }
    snprintf(path, sizeof path, "%s/sched-plugins", dir);
    if (is_dir(path) && kapi_plugins_load_dir(ps, path, err, sizeof err) < 0) {
      LOG_ERROR("%s", err);
      return -1;
    }
  }
  return 0;
}

/* Component name -> the descriptor name of the plugin that has it. */
typedef struct name_map {
  char **component, **plugin;
  size_t n;
} name_map;

static void name_map_free(name_map *m)
{
  for (size_t i = 0; i < m->n; i++) {
    free(m->component[i]);
    free(m->plugin[i]);
  }
  free(m->component);
  free(m->plugin);
  memset(m, 0, sizeof *m);
}

static int name_map_build(name_map *m, const kapi_plugins *ps)
{
  size_t n = kapi_plugins_count(ps, KAPI_KIND_SCHED);

  memset(m, 0, sizeof *m);
  m->component = calloc(n + 1, sizeof *m->component);
  m->plugin = calloc(n + 1, sizeof *m->plugin);
  if (!m->component || !m->plugin)
    return -ENOMEM;
  for (size_t i = 0; i < n; i++) {
    const kapi_component *c = kapi_plugins_at(ps, KAPI_KIND_SCHED, i);
    m->component[i] = strdup(c->name);
    m->plugin[i] = strdup(kapi__plugin_name(c->plugin));
    m->n++;
    if (!m->component[m->n - 1] || !m->plugin[m->n - 1])
      return -ENOMEM;
  }
  return 0;
}

static const char *map_name(void *arg, const char *component)
{
  name_map *m = arg;

  for (size_t i = 0; i < m->n; i++)
    if (!strcmp(m->component[i], component))
      return m->plugin[i];
  return NULL;
}

static int has_plugin_args(const kapi_sched_config *cfg)
{
  for (size_t i = 0; i < cfg->n_profiles; i++)
    if (kj_len(cfg->profiles[i].plugin_args))
      return 1;
  return 0;
}

/*
 * Loads and assembles the plugins.  pluginConfig names components
 * ("NodeResourcesFit") but the loader hands configuration to plugins by
 * their descriptor name ("node-resources-fit"): with pluginConfig, a
 * first load without configuration learns which plugin registers which
 * component, and the second load gets each plugin its args.
 */
static kapi_plugins *load_plugins(const struct options *o,
                                  const kapi_sched_config *cfg)
{
  kapi_plugins *ps = NULL;
  name_map map = {0};
  kj *loader = NULL;
  char err[1024] = "";

  if (has_plugin_args(cfg)) {
    ps = kapi_plugins_new(NULL);
    if (!ps || load_dirs(ps, o) < 0 || name_map_build(&map, ps) < 0) {
      name_map_free(&map);
      if (ps)
        kapi_plugins_free(ps);
      return NULL;
    }
    kapi_plugins_free(ps);
    loader = kapi_sched_config_loader_object(cfg, map_name, &map);
    name_map_free(&map);
    if (!loader)
      return NULL;
  }
  ps = kapi_plugins_new(loader);
  kj_free(loader);
  if (!ps)
    return NULL;
  if (load_dirs(ps, o) < 0 ||
      kapi_plugins_assemble(ps, NULL, 0, err, sizeof err) < 0) {
    if (err[0])
      LOG_ERROR("%s", err);
    kapi_plugins_free(ps);
    return NULL;
  }
  return ps;
}

/* ---- configuration ----------------------------------------------------- */

static int read_config(const struct options *o, kapi_sched_config *cfg)
{
  char err[1024];
  kj *doc = NULL;
  int r;

  if ((r = kapi_sched_config_default(cfg)) < 0)
    return r;
  if (!o->config_file)
    return 0;
  r = kapi_yaml_read_file(o->config_file, &doc, err, sizeof err);
  if (r == 0)
    r = kapi_sched_config_parse(doc, cfg, err, sizeof err);
  kj_free(doc);
  if (r < 0)
    LOG_ERROR("couldn't load config file %s: %s", o->config_file, err);
  return r;
}

static int build_profiles(const kapi_sched_config *cfg,
                          const kapi_sched_registry *reg,
                          kapi_framework **fws)
{
  char err[1024], desc[2048];

  for (size_t i = 0; i < cfg->n_profiles; i++) {
    const kapi_profile_config *pc = &cfg->profiles[i];
    if (kapi_fw_new(pc, reg, &fws[i], err, sizeof err) < 0) {
      LOG_ERROR("initializing profile \"%s\": %s", pc->scheduler_name, err);
      return -1;
    }
    if (pc->percentage_of_nodes_to_score < 0)
      fws[i]->percentage_of_nodes_to_score = cfg->percentage_of_nodes_to_score;
    kapi_fw_describe(fws[i], desc, sizeof desc);
    LOG_V(1, "profile %s: %s", pc->scheduler_name, desc);
  }
  return 0;
}

/* ---- running ----------------------------------------------------------- */

typedef struct runner {
  kapi_daemon d; /* d.client, d.stop */
  kapi_scheduler *sched;
} runner;

static void start_scheduling(void *arg)
{
  runner *r = arg;

  if (kapi_scheduler_start(r->sched, -1) < 0)
    kapi_daemon_fail(&r->d, "cannot start scheduling");
}

int main(int argc, char **argv)
{
  struct options o;
  kapi_sched_config cfg = {0};
  kapi_plugins *ps = NULL;
  kapi_sched_registry reg = {0};
  kapi_framework **fws = NULL;
  kapi_scheduler_config sc = {0};
  kapi_leader_config lease = {0};
  runner r;
  int rc = 1;

  memset(&r, 0, sizeof r);
  if (parse_options(argc, argv, &o) < 0)
    return 2;
  if (read_config(&o, &cfg) < 0)
    return 2;
  if (o.leader_elect >= 0)
    cfg.leader_elect = o.leader_elect;

  kapi_daemon_init(&r.d);
  if (kapi_daemon_client(&r.d,
                         o.f.kubeconfig ? o.f.kubeconfig : cfg.kubeconfig,
                         o.f.master, cfg.qps, cfg.burst,
                         "kapi-scheduler/" PACKAGE_VERSION) < 0)
    goto out;
  /* Before loading: plugins may use the host API from init. */
  kapi_fw_install_host();
  kapi_sched_api_install(r.d.client);
  ps = load_plugins(&o, &cfg);
  if (!ps || kapi_sched_registry_build(&reg, ps) < 0)
    goto out;
  fws = calloc(cfg.n_profiles, sizeof *fws);
  if (!fws || build_profiles(&cfg, &reg, fws) < 0)
    goto out;
  sc.client = r.d.client;
  sc.profiles = fws;
  sc.n_profiles = cfg.n_profiles;
  sc.initial_backoff_s = cfg.pod_initial_backoff_s;
  sc.max_backoff_s = cfg.pod_max_backoff_s;
  sc.binders = cfg.parallelism;
  r.sched = kapi_scheduler_new(&sc);
  if (!r.sched) {
    LOG_ERROR("cannot create the scheduler");
    goto out;
  }
  LOG_INFO("Starting kapi-scheduler: server %s, %zu profile(s), %zu plugin "
           "component(s)", kapi_client_server(r.d.client), cfg.n_profiles,
           kapi_plugins_count(ps, KAPI_KIND_SCHED));

  lease.ns = cfg.lease_namespace;
  lease.name = cfg.lease_name;
  lease.lease_seconds = cfg.lease_duration_s;
  lease.renew_deadline_seconds = cfg.renew_deadline_s;
  lease.retry_seconds = cfg.retry_period_s;
  if (cfg.leader_elect)
    LOG_INFO("attempting to acquire leader lease %s/%s...",
             cfg.lease_namespace, cfg.lease_name);
  if (kapi_daemon_lead(&r.d, cfg.leader_elect ? &lease : NULL,
                       start_scheduling, &r) < 0)
    goto out;
  rc = kapi_daemon_wait(&r.d);
out:
  kapi_daemon_stop(&r.d);
  kapi_scheduler_free(r.sched);
  for (size_t i = 0; fws && i < cfg.n_profiles; i++)
    kapi_fw_free(fws[i]);
  free(fws);
  kapi_sched_registry_free(&reg);
  kapi_sched_api_install(NULL);
  if (ps)
    kapi_plugins_free(ps);
  kapi_daemon_free(&r.d);
  kapi_sched_config_free(&cfg);
  return rc;
}
