/*
 * kapi-controller-manager - runs the controller plugins (replicaset,
 * garbagecollector, namespace, ...) against an API server, as
 * kube-controller-manager: leader election on the Lease
 * kube-system/kube-controller-manager, then every enabled controller on
 * one shared informer factory, until SIGINT/SIGTERM.  Losing leadership
 * ends the process with status 1, as upstream.
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
#include "controllers_flag.h"
#include "ctl_host.h"
#include "informer.h"
#include "json.h"
#include "leaderelection.h"
#include "log.h"
#include "plugin_loader.h"

#define MAX_DIRS 32
#define DEFAULT_PLUGIN_DIR KAPI_PLUGINDIR "/controllers"

struct options {
  const char *kubeconfig;
  const char *master;
  const char *controllers;
  const char *plugin_dirs[MAX_DIRS];
  int n_plugin_dirs;
  int leader_elect;
  int lease_seconds, renew_seconds, retry_seconds;
  const char *lease_name, *lease_ns;
  int rs_syncs, gc_syncs, ns_syncs;
  double qps;
  int burst;
};

static void usage(FILE *out)
{
  fprintf(out,
"Usage: kapi-controller-manager [flags]\n"
"\n"
"The kapi controller manager: runs the controllers loaded as plugins\n"
"(replicaset, garbagecollector, namespace, ...) against an API server.\n"
"Only the leader among its replicas runs them.\n"
"\n"
"Flags:\n"
"  --kubeconfig PATH              kubeconfig with the server and credentials\n"
"  --master URL                   the API server (overrides the kubeconfig)\n"
"  --controllers LIST             controllers to run: '*' runs every default one,\n"
"                                 'foo' runs foo, '-foo' does not (default \"*\")\n"
"  --plugin-dir DIR               load controller plugins from DIR (repeatable;\n"
"                                 default %s)\n"
"  --leader-elect[=BOOL]          elect a leader before running (default true)\n"
"  --leader-elect-lease-duration D   (default 15s)\n"
"  --leader-elect-renew-deadline D   (default 10s)\n"
"  --leader-elect-retry-period D     (default 2s)\n"
"  --leader-elect-resource-name NAME       (default kube-controller-manager)\n"
"  --leader-elect-resource-namespace NS    (default kube-system)\n"
"  --concurrent-replicaset-syncs N   ReplicaSet workers (default 5)\n"
"  --concurrent-gc-syncs N           garbage collector workers (default 20)\n"
"  --concurrent-namespace-syncs N    namespace workers (default 10)\n"
"  --kube-api-qps QPS             requests per second to the server (default 20)\n"
"  --kube-api-burst N             request burst (default 30)\n"
"  -v, --v N                      log verbosity\n"
"  -h, --help                     this help\n",
          DEFAULT_PLUGIN_DIR);
}

static int parse_bool(const char *s, int *ret)
{
  if (!s || !strcmp(s, "true") || !strcmp(s, "1") || !strcmp(s, "t")) {
    *ret = 1;
    return 0;
  }
  if (!strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "f")) {
    *ret = 0;
    return 0;
  }
  return -1;
}

/* A Go duration in whole seconds ("15s", "1m30s", "2m"), or plain
 * seconds; sub-second parts round up. */
static int parse_seconds(const char *s, int *ret)
{
  double total = 0;
  char *end;

  if (!s || !*s)
    return -1;
  while (*s) {
    double v = strtod(s, &end);
    if (end == s)
      return -1;
    s = end;
    if (!strncmp(s, "ms", 2)) {
      total += v / 1000;
      s += 2;
    } else if (*s == 's' || *s == '\0') {
      total += v;
      s += *s == 's';
    } else if (*s == 'm') {
      total += v * 60;
      s++;
    } else if (*s == 'h') {
      total += v * 3600;
      s++;
    } else {
      return -1;
    }
  }
  *ret = (int)total + (total > (int)total);
  return *ret > 0 ? 0 : -1;
}

static int positive(const char *s, int *ret)
{
  char *end;
  long v = strtol(s, &end, 10);
  if (*end || v <= 0 || v > 100000)
    return -1;
  *ret = (int)v;
  return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
  enum { O_KUBECONFIG = 256, O_MASTER, O_CONTROLLERS, O_PDIR, O_LEADER,
         O_LEASE, O_RENEW, O_RETRY, O_LNAME, O_LNS, O_RS, O_GC, O_NS, O_QPS,
         O_BURST };
  static const struct option longopts[] = {
      {"kubeconfig", required_argument, NULL, O_KUBECONFIG},
      {"master", required_argument, NULL, O_MASTER},
      {"controllers", required_argument, NULL, O_CONTROLLERS},
      {"plugin-dir", required_argument, NULL, O_PDIR},
      {"leader-elect", optional_argument, NULL, O_LEADER},
      {"leader-elect-lease-duration", required_argument, NULL, O_LEASE},
      {"leader-elect-renew-deadline", required_argument, NULL, O_RENEW},
      {"leader-elect-retry-period", required_argument, NULL, O_RETRY},
      {"leader-elect-resource-name", required_argument, NULL, O_LNAME},
      {"leader-elect-resource-namespace", required_argument, NULL, O_LNS},
      {"concurrent-replicaset-syncs", required_argument, NULL, O_RS},
      {"concurrent-gc-syncs", required_argument, NULL, O_GC},
      {"concurrent-namespace-syncs", required_argument, NULL, O_NS},
      {"kube-api-qps", required_argument, NULL, O_QPS},
      {"kube-api-burst", required_argument, NULL, O_BURST},
      {"v", required_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int c, bad = 0;

  memset(o, 0, sizeof *o);
  o->controllers = KAPI_CONTROLLERS_DEFAULT;
  o->leader_elect = 1;
  o->lease_seconds = 15;
  o->renew_seconds = 10;
  o->retry_seconds = 2;
  o->lease_name = "kube-controller-manager";
  o->lease_ns = "kube-system";
  o->rs_syncs = 5;
  o->gc_syncs = 20;
  o->ns_syncs = 10;
  o->qps = 20;
  o->burst = 30;
  while ((c = getopt_long(argc, argv, "hv:", longopts, NULL)) != -1) {
    switch (c) {
    case O_KUBECONFIG: o->kubeconfig = optarg; break;
    case O_MASTER: o->master = optarg; break;
    case O_CONTROLLERS: o->controllers = optarg; break;
    case O_PDIR:
      if (o->n_plugin_dirs == MAX_DIRS) {
        fprintf(stderr, "too many --plugin-dir\n");
        return -1;
      }
      o->plugin_dirs[o->n_plugin_dirs++] = optarg;
      break;
    case O_LEADER: bad = parse_bool(optarg, &o->leader_elect); break;
    case O_LEASE: bad = parse_seconds(optarg, &o->lease_seconds); break;
    case O_RENEW: bad = parse_seconds(optarg, &o->renew_seconds); break;
    case O_RETRY: bad = parse_seconds(optarg, &o->retry_seconds); break;
    case O_LNAME: o->lease_name = optarg; break;
    case O_LNS: o->lease_ns = optarg; break;
    case O_RS: bad = positive(optarg, &o->rs_syncs); break;
    case O_GC: bad = positive(optarg, &o->gc_syncs); break;
    case O_NS: bad = positive(optarg, &o->ns_syncs); break;
    case O_QPS:
      o->qps = atof(optarg);
      bad = o->qps <= 0;
      break;
    case O_BURST: bad = positive(optarg, &o->burst); break;
    case 'v': kapi_log_verbosity = atoi(optarg + (*optarg == '=')); break;
    case 'h': usage(stdout); exit(0);
    default: usage(stderr); return -1;
    }
    if (bad) {
      fprintf(stderr, "invalid value for --%s: %s\n",
              longopts[c - O_KUBECONFIG].name, optarg ? optarg : "");
      return -1;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "unexpected argument: %s\n", argv[optind]);
    return -1;
  }
  if (o->n_plugin_dirs == 0)
    o->plugin_dirs[o->n_plugin_dirs++] = DEFAULT_PLUGIN_DIR;
  return 0;
}

/* Each controller plugin's configuration, from the flags. */
static kj *plugin_config(const struct options *o)
{
  kj *cfg = kj_object(), *plugins = cfg ? kj_child_object(cfg, "plugins") : NULL;
  /* Keyed by plugin name (the namespace controller's plugin is named
   * apart from the namespaces resource plugin). */
  static const char *const names[] = {"replicaset", "garbagecollector",
                                      "namespace-controller"};
  int syncs[] = {o->rs_syncs, o->gc_syncs, o->ns_syncs};
  size_t i;

  for (i = 0; plugins && i < 3; i++) {
    kj *p = kj_child_object(plugins, names[i]);
    if (!p || kj_set_int(p, "concurrentSyncs", syncs[i]) < 0) {
      kj_free(cfg);
      return NULL;
    }
  }
  return plugins ? cfg : NULL;
}

static int load_plugins(kapi_plugins *ps, const struct options *o)
{
  char err[1024];
  int i;

  for (i = 0; i < o->n_plugin_dirs; i++) {
    struct stat st;
    if (stat(o->plugin_dirs[i], &st) < 0 || !S_ISDIR(st.st_mode)) {
      LOG_ERROR("--plugin-dir %s: not a directory", o->plugin_dirs[i]);
      return -1;
    }
    if (kapi_plugins_load_dir(ps, o->plugin_dirs[i], err, sizeof err) < 0) {
      LOG_ERROR("%s", err);
      return -1;
    }
  }
  if (kapi_plugins_assemble(ps, NULL, 0, err, sizeof err) < 0) {
    LOG_ERROR("%s", err);
    return -1;
  }
  return 0;
}

/* ---- running ---------------------------------------------------------------- */

typedef struct manager {
  const struct options *o;
  kapi_client *client;
  kapi_plugins *ps;
  kapi_ctl_selection sel;
  kapi_cm *cm;
  volatile int stop;
  const char *fatal;       /* why the process must exit 1 */
  pthread_t starter;
  int starter_running;
  pthread_mutex_t mu;
} manager;

/* Wakes the main thread (which alone takes signals) to exit 1. */
static void die_soon(manager *m, const char *why)
{
  pthread_mutex_lock(&m->mu);
  if (!m->fatal)
    m->fatal = why;
  pthread_mutex_unlock(&m->mu);
  kill(getpid(), SIGUSR1);
}

/* Starts every enabled controller, then informers and workers. */
static void *start_controllers(void *arg)
{
  manager *m = arg;
  size_t i, n = kapi_plugins_count(m->ps, KAPI_KIND_CONTROLLER);
  char err[1024];

  for (i = 0; i < n && !m->stop; i++) {
    const kapi_component *c = kapi_plugins_at(m->ps, KAPI_KIND_CONTROLLER, i);
    if (!kapi_controller_enabled(&m->sel, c->name, 1)) {
      LOG_INFO("Warning: controller %s is disabled", c->name);
      continue;
    }
    if (kapi_cm_start_controller(m->cm, c->name, c->ops, c->st, err,
                                 sizeof err) < 0) {
      LOG_ERROR("%s", err);
      die_soon(m, "error starting controllers");
      return NULL;
    }
  }
  if (kapi_cm_run(m->cm, &m->stop) == 0)
    LOG_INFO("Started %zu controllers", n);
  return NULL;
}

static void on_started_leading(void *arg)
{
  manager *m = arg;
  pthread_mutex_lock(&m->mu);
  if (!m->starter_running &&
      pthread_create(&m->starter, NULL, start_controllers, m) == 0)
    m->starter_running = 1;
  pthread_mutex_unlock(&m->mu);
}

static void on_stopped_leading(void *arg)
{
  manager *m = arg;
  if (!m->stop)
    die_soon(m, "leaderelection lost");
}

typedef struct elector {
  manager *m;
  kapi_leader_config cfg;
  char identity[256];
  pthread_t th;
  int rc;
} elector;

static void *elector_main(void *arg)
{
  elector *el = arg;
  el->rc = kapi_leader_run(el->m->client, &el->cfg, &el->m->stop);
  if (el->rc < 0 && !el->m->stop)
    die_soon(el->m, el->rc == -ECONNABORTED ? "leaderelection lost"
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
  if (got != sizeof b)
    for (got = 0; got < sizeof b; got++)
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

/* Every controller name the loaded plugins registered. */
static int check_controllers(manager *m)
{
  size_t i, n = kapi_plugins_count(m->ps, KAPI_KIND_CONTROLLER);
  const char **known = calloc(n ? n : 1, sizeof *known);
  char err[512];
  int rc;

  if (!known)
    return -1;
  for (i = 0; i < n; i++)
    known[i] = kapi_plugins_at(m->ps, KAPI_KIND_CONTROLLER, i)->name;
  rc = kapi_controllers_validate(&m->sel, known, n, err, sizeof err);
  free(known);
  if (rc < 0) {
    LOG_ERROR("validation failed for '--controllers': %s", err);
    return -1;
  }
  if (n == 0)
    LOG_WARN("no controller plugins loaded");
  return 0;
}

int main(int argc, char **argv)
{
  struct options o;
  manager m;
  kapi_client_config cc = {0};
  kapi_informer_factory *factory;
  elector el;
  sigset_t sigs;
  char err[1024], host[128] = "";
  kj *cfg = NULL;
  int sig, rc = 1, el_running = 0;

  memset(&m, 0, sizeof m);
  memset(&el, 0, sizeof el);
  pthread_mutex_init(&m.mu, NULL);
  if (parse_options(argc, argv, &o) < 0)
    return 2;
  m.o = &o;
  if (kapi_controllers_parse(o.controllers, &m.sel, err, sizeof err) < 0) {
    LOG_ERROR("%s", err);
    return 2;
  }

  /* Signals are taken synchronously by this thread; block them before
   * any other thread starts so that they inherit the mask. */
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);

  cc.kubeconfig = o.kubeconfig;
  cc.server = o.master;
  cc.qps = o.qps;
  cc.burst = o.burst;
  cc.user_agent = "kapi-controller-manager/" PACKAGE_VERSION;
  if (kapi_client_new(&cc, &m.client, err, sizeof err) < 0) {
    LOG_ERROR("cannot build the client: %s", err);
    goto out;
  }
  factory = kapi_informer_factory_new(m.client, 0);
  gethostname(host, sizeof host - 1);
  m.cm = factory ? kapi_cm_new(m.client, factory, host) : NULL;
  if (!m.cm) {
    kapi_informer_factory_free(factory);
    LOG_ERROR("out of memory");
    goto out;
  }
  /* Before loading: plugins may call the host API from init. */
  kapi_cm_install(m.cm);
  cfg = plugin_config(&o);
  m.ps = cfg ? kapi_plugins_new(cfg) : NULL;
  if (!m.ps || load_plugins(m.ps, &o) < 0 || check_controllers(&m) < 0)
    goto out;
  LOG_INFO("kapi-controller-manager: server %s, %zu controller plugins",
           kapi_client_server(m.client),
           kapi_plugins_count(m.ps, KAPI_KIND_CONTROLLER));

  if (o.leader_elect) {
    make_identity(el.identity, sizeof el.identity);
    el.m = &m;
    el.cfg.ns = o.lease_ns;
    el.cfg.name = o.lease_name;
    el.cfg.identity = el.identity;
    el.cfg.lease_seconds = o.lease_seconds;
    el.cfg.renew_deadline_seconds = o.renew_seconds;
    el.cfg.retry_seconds = o.retry_seconds;
    el.cfg.on_started = on_started_leading;
    el.cfg.on_stopped = on_stopped_leading;
    el.cfg.arg = &m;
    if (pthread_create(&el.th, NULL, elector_main, &el) != 0) {
      LOG_ERROR("cannot start the leader elector");
      goto out;
    }
    el_running = 1;
  } else {
    on_started_leading(&m);
  }

  sigwait(&sigs, &sig);
  if (m.fatal) {
    LOG_ERROR("%s", m.fatal);
  } else {
    LOG_INFO("received signal %d, shutting down", sig);
    rc = 0;
  }
  m.stop = 1;
out:
  m.stop = 1;
  if (el_running)
    pthread_join(el.th, NULL); /* releases the Lease if we held it */
  if (m.starter_running)
    pthread_join(m.starter, NULL);
  kapi_cm_free(m.cm); /* stops workers, informers, then controllers */
  if (m.ps)
    kapi_plugins_free(m.ps);
  kj_free(cfg);
  kapi_controllers_free(&m.sel);
  kapi_client_free(m.client);
  pthread_mutex_destroy(&m.mu);
  return rc;
}
