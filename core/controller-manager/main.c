/*
 * kapi-controller-manager - runs the controller plugins (replicaset,
 * garbagecollector, namespace, ...) against an API server, as
 * kube-controller-manager: leader election on the Lease
 * kube-system/kube-controller-manager, then every enabled controller on
 * one shared informer factory, until SIGINT/SIGTERM.  Losing leadership
 * ends the process with status 1, as upstream.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "client.h"
#include "controllers_flag.h"
#include "ctl_host.h"
#include "daemon.h"
#include "informer.h"
#include "json.h"
#include "leaderelection.h"
#include "log.h"
#include "plugin_loader.h"

#define DEFAULT_PLUGIN_DIR KAPI_PLUGINDIR "/controllers"

struct options {
  kapi_daemon_flags f; /* --kubeconfig, --master, --plugin-dir */
  const char *controllers;
  int leader_elect;
  int lease_seconds, renew_seconds, retry_seconds;
  const char *lease_name, *lease_ns;
  int rs_syncs, gc_syncs, ns_syncs, rq_syncs, deploy_syncs;
  const char *rq_period;
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
"  --concurrent-resource-quota-syncs N  ResourceQuota workers (default 5)\n"
"  --concurrent-deployment-syncs N   Deployment workers (default 5)\n"
"  --resource-quota-sync-period D    full quota recalculation period\n"
"                                    (default 5m0s)\n"
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
  /* In the order of longopts, which names a bad value's flag. */
  enum { O_CONTROLLERS = KAPI_DAEMON_O_END, O_LEADER, O_LEASE, O_RENEW,
         O_RETRY, O_LNAME, O_LNS, O_RS, O_GC, O_NS, O_QPS, O_BURST, O_RQ, O_RQ_PERIOD, O_DEPLOY };
  static const struct option longopts[] = {
      {"kubeconfig", required_argument, NULL, KAPI_DAEMON_O_KUBECONFIG},
      {"master", required_argument, NULL, KAPI_DAEMON_O_MASTER},
      {"plugin-dir", required_argument, NULL, KAPI_DAEMON_O_PLUGIN_DIR},
      {"controllers", required_argument, NULL, O_CONTROLLERS},
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
      {"concurrent-resource-quota-syncs", required_argument, NULL, O_RQ},
      {"resource-quota-sync-period", required_argument, NULL, O_RQ_PERIOD},
      {"concurrent-deployment-syncs", required_argument, NULL, O_DEPLOY},
      {"v", required_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int c, r, bad = 0;

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
  o->rq_syncs = 5;
  o->deploy_syncs = 5;
  o->rq_period = "5m0s";
  o->qps = 20;
  o->burst = 30;
  while ((c = getopt_long(argc, argv, "hv:", longopts, NULL)) != -1) {
    if ((r = kapi_daemon_flag(&o->f, c, optarg)) < 0)
      return -1;
    if (r)
      continue;
    switch (c) {
    case O_CONTROLLERS: o->controllers = optarg; break;
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
    case O_RQ: bad = positive(optarg, &o->rq_syncs); break;
    case O_RQ_PERIOD: o->rq_period = optarg; break;
    case O_DEPLOY: bad = positive(optarg, &o->deploy_syncs); break;
    case 'h': usage(stdout); exit(0);
    default: usage(stderr); return -1;
    }
    if (bad) {
      fprintf(stderr, "invalid value for --%s: %s\n",
              longopts[c - KAPI_DAEMON_O_KUBECONFIG].name,
              optarg ? optarg : "");
      return -1;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "unexpected argument: %s\n", argv[optind]);
    return -1;
  }
  if (o->f.n_plugin_dirs == 0)
    o->f.plugin_dirs[o->f.n_plugin_dirs++] = DEFAULT_PLUGIN_DIR;
  return 0;
}

/* Each controller plugin's configuration, from the flags. */
static kj *plugin_config(const struct options *o)
{
  kj *cfg = kj_object(), *plugins = cfg ? kj_child_object(cfg, "plugins") : NULL;
  /* Keyed by plugin name (the namespace controller's plugin is named
   * apart from the namespaces resource plugin). */
  static const char *const names[] = {"replicaset", "garbagecollector",
                                      "namespace-controller", "resourcequota",
                                      "deployment"};
  int syncs[] = {o->rs_syncs, o->gc_syncs, o->ns_syncs, o->rq_syncs,
                 o->deploy_syncs};
  kj *rq = plugins ? kj_child_object(plugins, "resourcequota") : NULL;
  size_t i;

  if (!rq || kj_set_str(rq, "resourceQuotaSyncPeriod", o->rq_period) < 0) {
    kj_free(cfg);
    return NULL;
  }
  for (i = 0; i < sizeof syncs / sizeof syncs[0]; i++) {
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

  for (i = 0; i < o->f.n_plugin_dirs; i++) {
    const char *dir = o->f.plugin_dirs[i];
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
      LOG_ERROR("--plugin-dir %s: not a directory", dir);
      return -1;
    }
    if (kapi_plugins_load_dir(ps, dir, err, sizeof err) < 0) {
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
  kapi_daemon d; /* d.client, d.stop */
  kapi_plugins *ps;
  kapi_ctl_selection sel;
  kapi_cm *cm;
} manager;

/* Starts every enabled controller, then informers and workers. */
static void start_controllers(void *arg)
{
  manager *m = arg;
  size_t i, n = kapi_plugins_count(m->ps, KAPI_KIND_CONTROLLER);
  char err[1024];

  for (i = 0; i < n && !m->d.stop; i++) {
    const kapi_component *c = kapi_plugins_at(m->ps, KAPI_KIND_CONTROLLER, i);
    if (!kapi_controller_enabled(&m->sel, c->name, 1)) {
      LOG_INFO("Warning: controller %s is disabled", c->name);
      continue;
    }
    if (kapi_cm_start_controller(m->cm, c->name, c->ops, c->st, err,
                                 sizeof err) < 0) {
      LOG_ERROR("%s", err);
      kapi_daemon_fail(&m->d, "error starting controllers");
      return;
    }
  }
  if (kapi_cm_run(m->cm, &m->d.stop) == 0)
    LOG_INFO("Started %zu controllers", n);
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
  kapi_leader_config lease = {0};
  kapi_informer_factory *factory;
  char err[1024], host[128] = "";
  kj *cfg = NULL;
  int rc = 1;

  memset(&m, 0, sizeof m);
  if (parse_options(argc, argv, &o) < 0)
    return 2;
  if (kapi_controllers_parse(o.controllers, &m.sel, err, sizeof err) < 0) {
    LOG_ERROR("%s", err);
    return 2;
  }

  kapi_daemon_init(&m.d);
  if (kapi_daemon_client(&m.d, o.f.kubeconfig, o.f.master, o.qps, o.burst,
                         "kapi-controller-manager/" PACKAGE_VERSION) < 0)
    goto out;
  factory = kapi_informer_factory_new(m.d.client, 0);
  gethostname(host, sizeof host - 1);
  m.cm = factory ? kapi_cm_new(m.d.client, factory, host) : NULL;
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
           kapi_client_server(m.d.client),
           kapi_plugins_count(m.ps, KAPI_KIND_CONTROLLER));

  lease.ns = o.lease_ns;
  lease.name = o.lease_name;
  lease.lease_seconds = o.lease_seconds;
  lease.renew_deadline_seconds = o.renew_seconds;
  lease.retry_seconds = o.retry_seconds;
  if (kapi_daemon_lead(&m.d, o.leader_elect ? &lease : NULL,
                       start_controllers, &m) < 0)
    goto out;
  rc = kapi_daemon_wait(&m.d);
out:
  kapi_daemon_stop(&m.d);
  kapi_cm_free(m.cm); /* stops workers, informers, then controllers */
  if (m.ps)
    kapi_plugins_free(m.ps);
  kj_free(cfg);
  kapi_controllers_free(&m.sel);
  kapi_daemon_free(&m.d);
  return rc;
}
