/*
 * kapi-kubelet - the node agent: registers a Node (or N hollow ones),
 * keeps its status and Lease fresh, and runs the pods bound to it on a
 * container runtime plugin (plugins/runtime: "process" runs containers
 * as host processes, "fake" runs nothing, for hollow nodes).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client.h"
#include "daemon.h"
#include "host_ext.h"
#include "kubelet.h"
#include "log.h"
#include "nodestatus.h"
#include "plugin_loader.h"
#include "quantity.h"
#include "status.h"

#ifndef KAPI_PLUGINDIR
#define KAPI_PLUGINDIR "/usr/local/lib/kapi/plugins"
#endif

struct options {
  kl_options kl;
  kapi_daemon_flags f; /* --kubeconfig, --master, --plugin-dir, -v */
};

static void usage(FILE *out)
{
  fprintf(out,
"Usage: kapi-kubelet [flags]\n"
"\n"
"The kapi node agent: registers this machine (or hollow nodes) as a Node,\n"
"posts its status and Lease, and runs the pods bound to it.\n"
"\n"
"  --kubeconfig FILE                 kubeconfig of the API server (default\n"
"                                    $KUBECONFIG, then ~/.kube/config)\n"
"  --master URL                      API server URL (overrides the kubeconfig)\n"
"  --hostname-override NAME          node name (default: the hostname)\n"
"  --node-ip IP                      the node's InternalIP (default: --address,\n"
"                                    or detected when that is 0.0.0.0)\n"
"  --address IP                      the kubelet server's address (default\n"
"                                    127.0.0.1)\n"
"  --port N                          the kubelet server's port, serving\n"
"                                    /containerLogs (default 10250; 0: any free)\n"
"  --runtime NAME                    container runtime plugin: process or fake\n"
"                                    (default process)\n"
"  --plugin-dir DIR                  load runtime plugins from DIR (repeatable;\n"
"                                    default %s/runtime)\n"
"  --root-dir DIR                    container logs and state (default\n"
"                                    ./var/kubelet)\n"
"  --cpu QUANTITY                    cpu capacity (default: online CPUs)\n"
"  --memory QUANTITY                 memory capacity (default: MemTotal)\n"
"  --max-pods N                      pod capacity (default 110)\n"
"  --hollow-nodes N                  run N hollow nodes NAME-0..NAME-<N-1> on the\n"
"                                    fake runtime\n"
"  --node-status-update-frequency D  node status and lease period (default 10s)\n"
"  --workers N                       pod workers (default 8)\n"
"  --kube-api-qps QPS                API requests per second (default 50 per\n"
"                                    node)\n"
"  --pod-manifest-path DIR           run the Pods of DIR's *.yaml, *.yml and\n"
"                                    *.json files as static pods, mirrored in\n"
"                                    the API server\n"
"  --file-check-frequency D          how often DIR is read again besides its\n"
"                                    change notifications (default 20s)\n"
"  -v, --v N                         log verbosity\n"
"  -h, --help                        this help\n",
          KAPI_PLUGINDIR);
}

static int parse_quantity(const char *flag, const char *v, int64_t *milli)
{
  char err[256];
  if (kapi_quantity_milli(v, milli, err, sizeof err) < 0 || *milli <= 0) {
    fprintf(stderr, "invalid --%s %s: %s\n", flag, v, err);
    return -1;
  }
  return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
  enum { O_HOSTNAME = KAPI_DAEMON_O_END, O_NODE_IP, O_RUNTIME, O_ROOT, O_CPU,
         O_MEMORY, O_MAX_PODS, O_HOLLOW, O_STATUS, O_WORKERS, O_QPS, O_ADDRESS,
         O_PORT, O_MANIFESTS, O_FILE_CHECK };
  static const struct option longopts[] = {
      {"kubeconfig", required_argument, NULL, KAPI_DAEMON_O_KUBECONFIG},
      {"master", required_argument, NULL, KAPI_DAEMON_O_MASTER},
      {"plugin-dir", required_argument, NULL, KAPI_DAEMON_O_PLUGIN_DIR},
      {"hostname-override", required_argument, NULL, O_HOSTNAME},
      {"node-ip", required_argument, NULL, O_NODE_IP},
      {"runtime", required_argument, NULL, O_RUNTIME},
      {"root-dir", required_argument, NULL, O_ROOT},
      {"cpu", required_argument, NULL, O_CPU},
      {"memory", required_argument, NULL, O_MEMORY},
      {"max-pods", required_argument, NULL, O_MAX_PODS},
      {"hollow-nodes", required_argument, NULL, O_HOLLOW},
      {"node-status-update-frequency", required_argument, NULL, O_STATUS},
      {"workers", required_argument, NULL, O_WORKERS},
      {"kube-api-qps", required_argument, NULL, O_QPS},
      {"address", required_argument, NULL, O_ADDRESS},
      {"port", required_argument, NULL, O_PORT},
      {"pod-manifest-path", required_argument, NULL, O_MANIFESTS},
      {"file-check-frequency", required_argument, NULL, O_FILE_CHECK},
      {"v", required_argument, NULL, 'v'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int64_t milli;
  int c, r;

  memset(o, 0, sizeof *o);
  o->kl.runtime = "process";
  o->kl.root_dir = "./var/kubelet";
  o->kl.status_period_ns = 10 * KL_NS_PER_S;
  o->kl.address = "127.0.0.1";
  o->kl.port = 10250;
  o->kl.file_check_ns = 20 * KL_NS_PER_S;
  while ((c = getopt_long(argc, argv, "hv:", longopts, NULL)) != -1) {
    if ((r = kapi_daemon_flag(&o->f, c, optarg)) < 0)
      return -1;
    if (r)
      continue;
    switch (c) {
    case O_HOSTNAME: o->kl.hostname = optarg; break;
    case O_NODE_IP: o->kl.node_ip = optarg; break;
    case O_RUNTIME: o->kl.runtime = optarg; break;
    case O_ROOT: o->kl.root_dir = optarg; break;
    case O_CPU:
      if (parse_quantity("cpu", optarg, &o->kl.cpu_milli) < 0)
        return -1;
      break;
    case O_MEMORY:
      if (parse_quantity("memory", optarg, &milli) < 0)
        return -1;
      o->kl.memory_bytes = (milli + 999) / 1000;
      break;
    case O_MAX_PODS: o->kl.max_pods = atoll(optarg); break;
    case O_HOLLOW: o->kl.hollow = atoi(optarg); break;
    case O_STATUS:
      if (kl_parse_duration(optarg, &o->kl.status_period_ns) < 0 ||
          o->kl.status_period_ns < 100000000) {
        fprintf(stderr, "invalid --node-status-update-frequency %s\n",
                optarg);
        return -1;
      }
      break;
    case O_WORKERS: o->kl.workers = atoi(optarg); break;
    case O_QPS: o->kl.qps = atof(optarg); break;
    case O_ADDRESS: o->kl.address = optarg; break;
    case O_PORT:
      o->kl.port = atoi(optarg);
      if (o->kl.port < 0 || o->kl.port > 65535) {
        fprintf(stderr, "invalid --port %s\n", optarg);
        return -1;
      }
      break;
    case O_MANIFESTS: o->kl.pod_manifest_path = *optarg ? optarg : NULL; break;
    case O_FILE_CHECK:
      if (kl_parse_duration(optarg, &o->kl.file_check_ns) < 0 ||
          o->kl.file_check_ns < 100000000) {
        fprintf(stderr, "invalid --file-check-frequency %s\n", optarg);
        return -1;
      }
      break;
    case 'h': usage(stdout); exit(0);
    default: usage(stderr); return -1;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "unexpected argument: %s\n", argv[optind]);
    return -1;
  }
  if (o->kl.hollow < 0 || o->kl.max_pods < 0) {
    fprintf(stderr, "--hollow-nodes and --max-pods must not be negative\n");
    return -1;
  }
  if (o->kl.hollow > 0 && o->kl.pod_manifest_path) {
    fprintf(stderr, "--pod-manifest-path cannot be used with --hollow-nodes\n");
    return -1;
  }
  if (o->kl.hollow > 0)
    o->kl.runtime = "fake";
  return 0;
}

/* A directory holds runtime .so files itself, or in runtime/. */
static int load_runtimes(kapi_plugins *ps, const struct options *o)
{
  char err[1024], path[4200], def[4200];
  struct stat st;
  int i, n = o->f.n_plugin_dirs;

  snprintf(def, sizeof def, "%.4000s/runtime", KAPI_PLUGINDIR);
  for (i = 0; i < (n ? n : 1); i++) {
    const char *dir = n ? o->f.plugin_dirs[i] : def;
    if (!n && stat(dir, &st) < 0) {
      LOG_ERROR("no runtime plugins: %s: %s (use --plugin-dir)", dir,
                strerror(errno));
      return -1;
    }
    if (kapi_plugins_load_dir(ps, dir, err, sizeof err) < 0) {
      LOG_ERROR("%s", err);
      return -1;
    }
    snprintf(path, sizeof path, "%.4000s/runtime", dir);
    if (n && stat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
        kapi_plugins_load_dir(ps, path, err, sizeof err) < 0) {
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

static const kapi_component *find_runtime(const kapi_plugins *ps,
                                          const char *name)
{
  size_t i, n = kapi_plugins_count(ps, KAPI_KIND_RUNTIME);
  for (i = 0; i < n; i++) {
    const kapi_component *c = kapi_plugins_at(ps, KAPI_KIND_RUNTIME, i);
    if (!strcmp(c->name, name))
      return c;
  }
  LOG_ERROR("no container runtime named \"%s\" among the %zu loaded", name,
            n);
  for (i = 0; i < n; i++)
    LOG_ERROR("  available: %s", kapi_plugins_at(ps, KAPI_KIND_RUNTIME, i)->name);
  return NULL;
}

/* ---- host_api.api_request for plugins ----------------------------------------- */

static kapi_client *hook_client;

static int api_request_hook(const char *method, const char *path,
                            const char *content_type, const char *body,
                            kapi_obj **ret, kapi_error *e)
{
  char *out = NULL, perr[128];
  size_t len = 0;
  int code = 0, rc;
  kj *obj = NULL;

  rc = kapi_client_do(hook_client, method, path, content_type, body,
                      body ? strlen(body) : 0, &code, &out, &len);
  if (rc < 0) {
    if (e)
      kapi_error_setf(e, 503, "ServiceUnavailable", "request failed: %s",
                      strerror(-rc));
    free(out);
    return -EIO;
  }
  if (out && len)
    kj_parse(out, len, &obj, perr, sizeof perr);
  free(out);
  if (code >= 200 && code < 300) {
    if (ret)
      *ret = obj;
    else
      kj_free(obj);
    return 0;
  }
  if (e)
    kapi_error_setf(e, code,
                    kj_get_str(obj, "reason") ? kj_get_str(obj, "reason")
                                              : "Unknown",
                    "%s", kj_get_str(obj, "message")
                              ? kj_get_str(obj, "message")
                              : "request failed");
  kj_free(obj);
  switch (code) {
  case 404: return -ENOENT;
  case 409: return -EBUSY;
  case 400: case 422: return -EINVAL;
  case 401: case 403: return -EACCES;
  default: return -EIO;
  }
}

int main(int argc, char **argv)
{
  struct options o;
  const kapi_component *rt;
  kapi_plugins *ps = NULL;
  kapi_daemon d;
  kl *k = NULL;
  char err[1024];
  size_t nodes;
  int rc = 1;

  if (parse_options(argc, argv, &o) < 0)
    return 2;
  /* Signals go to the main thread only: before any thread starts. */
  kapi_daemon_init(&d);
  if (kl_mkdirs(o.kl.root_dir) < 0) {
    LOG_ERROR("cannot create --root-dir %s: %s", o.kl.root_dir,
              strerror(errno));
    goto out;
  }
  /* Every hollow node of upstream's kubemark has a client of its own
   * (50 QPS, burst 100); the one shared client gets their sum. */
  nodes = o.kl.hollow > 0 ? (size_t)o.kl.hollow : 1;
  if (kapi_daemon_client(&d, o.f.kubeconfig, o.f.master,
                         o.kl.qps > 0 ? o.kl.qps : 50.0 * (double)nodes,
                         100 * (int)(nodes < 100 ? nodes : 100),
                         "kapi-kubelet/" KL_KUBELET_VERSION) < 0)
    goto out;
  hook_client = d.client;
  kapi_host_set_api_request(api_request_hook);
  ps = kapi_plugins_new(NULL);
  if (!ps || load_runtimes(ps, &o) < 0)
    goto out;
  rt = find_runtime(ps, o.kl.runtime);
  if (!rt)
    goto out;
  if (kl_new(&o.kl, d.client, rt->ops, rt->st, &k, err, sizeof err) < 0) {
    LOG_ERROR("%s", err);
    goto out;
  }
  if (kl_start(k, err, sizeof err) < 0) {
    LOG_ERROR("%s", err);
    goto out;
  }
  LOG_INFO("kapi-kubelet %s started: %zu node(s) (%s%s), runtime %s, "
           "server %s",
           KL_KUBELET_VERSION, k->n_nodes, k->node[0].name,
           k->n_nodes > 1 ? ", ..." : "", o.kl.runtime,
           kapi_client_server(d.client));
  rc = kapi_daemon_wait(&d);
out:
  kapi_daemon_stop(&d);
  if (k)
    kl_stop(k);
  kl_free(k);
  kapi_host_set_api_request(NULL);
  hook_client = NULL;
  /* Runtime plugins stop what still runs at fini (their state is in
   * memory: a restarted kubelet could not adopt it). */
  if (ps)
    kapi_plugins_free(ps);
  kapi_daemon_free(&d);
  return rc;
}
