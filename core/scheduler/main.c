/*
 * kapi-scheduler - assigns pending pods to nodes, as kube-scheduler:
 * the scheduling framework of profiles over scheduler plugins (.so),
 * configured by a KubeSchedulerConfiguration, leader election on the
 * Lease kube-system/kube-scheduler, until SIGINT/SIGTERM.  Losing
 * leadership ends the process with status 1, as upstream.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "client.h"
#include "framework.h"
#include "leaderelection.h"
#include "log.h"
#include "plugin_internal.h"
#include "plugin_loader.h"
#include "sched_api.h"
#include "schedule_one.h"
#include "kyaml.h"

#define MAX_DIRS 32
#define DEFAULT_PLUGIN_DIR KAPI_PLUGINDIR "/sched-plugins"

struct options {
  const char *kubeconfig;
  const char *master;
  const char *config_file;
  const char *plugin_dirs[MAX_DIRS];
  int n_plugin_dirs;
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
  enum { O_KUBECONFIG = 256, O_MASTER, O_CONFIG, O_PDIR, O_NODEF, O_LEADER };
  static const struct option longopts[] = {
      {"kubeconfig", required_argument, NULL, O_KUBECONFIG},
      {"master", required_argument, NULL, O_MASTER},
      {"config", required_argument, NULL, O_CONFIG},
      {"plugin-dir", required_argument, NULL, O_PDIR},
      {"no-default-plugins", no_argument, NULL, O_NODEF},
      {"leader-elect", optional_argument, NULL, O_LEADER},
      {"v", required_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int c;

  memset(o, 0, sizeof *o);
  o->leader_elect = -1;
  while ((c = getopt_long(argc, argv, "hv:", longopts, NULL)) != -1) {
    switch (c) {
    case O_KUBECONFIG: o->kubeconfig = optarg; break;
    case O_MASTER: o->master = optarg; break;
    case O_CONFIG: o->config_file = optarg; break;
    case O_PDIR:
      if (o->n_plugin_dirs == MAX_DIRS) {
        fprintf(stderr, "too many --plugin-dir\n");
        return -1;
      }
      o->plugin_dirs[o->n_plugin_dirs++] = optarg;
      break;
    case O_NODEF: o->no_default_plugins = 1; break;
    case O_LEADER:
      if (parse_bool(optarg, &o->leader_elect) < 0)
        return -1;
      break;
    case 'v': kapi_log_verbosity = atoi(optarg + (*optarg == '=')); break;
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

  for (int i = -1; i < o->n_plugin_dirs; i++) {
    const char *dir = i < 0 ? DEFAULT_PLUGIN_DIR : o->plugin_dirs[i];
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
  char err[1024];

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
  kapi_client *client;
  kapi_scheduler *sched;
  volatile int stop;
  const char *fatal;
  pthread_mutex_t mu;
  pthread_t starter;
  int starter_running;
} runner;

/* Wakes the main thread (which alone takes signals) to exit 1. */
static void die_soon(runner *r, const char *why)
{
  pthread_mutex_lock(&r->mu);
  if (!r->fatal)
    r->fatal = why;
  pthread_mutex_unlock(&r->mu);
  kill(getpid(), SIGUSR1);
}

static void *start_scheduling(void *arg)
{
  runner *r = arg;

  if (kapi_scheduler_start(r->sched, -1) < 0)
    die_soon(r, "cannot start scheduling");
  return NULL;
}

/* Called when leading: starting waits for caches, so on a thread. */
static void on_started_leading(void *arg)
{
  runner *r = arg;

  pthread_mutex_lock(&r->mu);
  if (!r->starter_running &&
      pthread_create(&r->starter, NULL, start_scheduling, r) == 0)
    r->starter_running = 1;
  pthread_mutex_unlock(&r->mu);
}

static void on_stopped_leading(void *arg)
{
  runner *r = arg;

  if (!r->stop)
    die_soon(r, "leaderelection lost");
}

typedef struct elector {
  runner *r;
  kapi_leader_config cfg;
  char identity[256];
  pthread_t th;
  int rc;
} elector;

static void *elector_main(void *arg)
{
  elector *el = arg;

  el->rc = kapi_leader_run(el->r->client, &el->cfg, &el->r->stop);
  if (el->rc < 0 && !el->r->stop)
    die_soon(el->r, el->rc == -ECONNABORTED ? "leaderelection lost"
                                            : "leader election failed");
  return NULL;
}

/* "<hostname>_<uuid>", as upstream's identity. */
static void make_identity(char *out, size_t len)
{
  unsigned char b[16];
  char host[128] = "localhost";
  FILE *f = fopen("/dev/urandom", "rb");
  size_t got = f ? fread(b, 1, sizeof b, f) : 0;

  if (f)
    fclose(f);
  for (; got < sizeof b; got++)
    b[got] = (unsigned char)rand();
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  gethostname(host, sizeof host - 1);
  snprintf(out, len,
           "%s_%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
           "%02x%02x%02x%02x%02x%02x",
           host, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
           b[10], b[11], b[12], b[13], b[14], b[15]);
}

int main(int argc, char **argv)
{
  struct options o;
  kapi_sched_config cfg = {0};
  kapi_client_config cc = {0};
  kapi_plugins *ps = NULL;
  kapi_sched_registry reg = {0};
  kapi_framework **fws = NULL;
  kapi_scheduler_config sc = {0};
  runner r;
  elector el;
  sigset_t sigs;
  char err[1024];
  int sig, rc = 1, el_running = 0;

  memset(&r, 0, sizeof r);
  memset(&el, 0, sizeof el);
  pthread_mutex_init(&r.mu, NULL);
  if (parse_options(argc, argv, &o) < 0)
    return 2;
  if (read_config(&o, &cfg) < 0)
    return 2;
  if (o.leader_elect >= 0)
    cfg.leader_elect = o.leader_elect;

  /* Signals are taken by this thread alone: blocked before any other
   * thread starts, so every thread inherits the mask. */
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);

  cc.kubeconfig = o.kubeconfig ? o.kubeconfig : cfg.kubeconfig;
  cc.server = o.master;
  cc.qps = cfg.qps;
  cc.burst = cfg.burst;
  cc.user_agent = "kapi-scheduler/" PACKAGE_VERSION;
  if (kapi_client_new(&cc, &r.client, err, sizeof err) < 0) {
    LOG_ERROR("cannot build the client: %s", err);
    goto out;
  }
  /* Before loading: plugins may use the host API from init. */
  kapi_fw_install_host();
  kapi_sched_api_install(r.client);
  ps = load_plugins(&o, &cfg);
  if (!ps || kapi_sched_registry_build(&reg, ps) < 0)
    goto out;
  fws = calloc(cfg.n_profiles, sizeof *fws);
  if (!fws || build_profiles(&cfg, &reg, fws) < 0)
    goto out;
  sc.client = r.client;
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
           "component(s)", kapi_client_server(r.client), cfg.n_profiles,
           kapi_plugins_count(ps, KAPI_KIND_SCHED));

  if (cfg.leader_elect) {
    make_identity(el.identity, sizeof el.identity);
    el.r = &r;
    el.cfg.ns = cfg.lease_namespace;
    el.cfg.name = cfg.lease_name;
    el.cfg.identity = el.identity;
    el.cfg.lease_seconds = cfg.lease_duration_s;
    el.cfg.renew_deadline_seconds = cfg.renew_deadline_s;
    el.cfg.retry_seconds = cfg.retry_period_s;
    el.cfg.on_started = on_started_leading;
    el.cfg.on_stopped = on_stopped_leading;
    el.cfg.arg = &r;
    LOG_INFO("attempting to acquire leader lease %s/%s...",
             cfg.lease_namespace, cfg.lease_name);
    if (pthread_create(&el.th, NULL, elector_main, &el) != 0) {
      LOG_ERROR("cannot start the leader elector");
      goto out;
    }
    el_running = 1;
  } else {
    on_started_leading(&r);
  }

  sigwait(&sigs, &sig);
  if (r.fatal) {
    LOG_ERROR("%s", r.fatal);
  } else {
    LOG_INFO("received signal %d, shutting down", sig);
    rc = 0;
  }
out:
  __atomic_store_n(&r.stop, 1, __ATOMIC_SEQ_CST);
  if (el_running)
    pthread_join(el.th, NULL); /* releases the Lease if we held it */
  if (r.starter_running)
    pthread_join(r.starter, NULL);
  kapi_scheduler_free(r.sched);
  for (size_t i = 0; fws && i < cfg.n_profiles; i++)
    kapi_fw_free(fws[i]);
  free(fws);
  kapi_sched_registry_free(&reg);
  kapi_sched_api_install(NULL);
  if (ps)
    kapi_plugins_free(ps);
  kapi_client_free(r.client);
  kapi_sched_config_free(&cfg);
  pthread_mutex_destroy(&r.mu);
  return rc;
}
