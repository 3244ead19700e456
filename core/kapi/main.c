/*
 * main.c - the `kapi` utility. Subcommands:
 *   kapi pki init --dir DIR [--hosts h1,h2] [--nodes n1,n2] [--server URL]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pki.h"

#define DEFAULT_SERVER "https://127.0.0.1:6443"

static void usage_main(FILE *out) {
  fprintf(out,
          "kapi - administration utility for the kapi control plane\n\n"
          "Usage:\n"
          "  kapi [-v N] <command> [flags]\n\n"
          "Commands:\n"
          "  pki    create the cluster certificates, keys and kubeconfigs\n\n"
          "Flags:\n"
          "  -h, --help     show this help\n"
          "  -v, --v N      log verbosity\n");
}

static void usage_pki(FILE *out) {
  fprintf(out,
          "Usage:\n"
          "  kapi pki init --dir DIR [--hosts h1,h2,...] [--nodes n1,n2,...]\n"
          "                [--server URL]\n\n"
          "Creates in DIR whatever is missing (existing files are kept):\n"
          "  ca.crt/ca.key                       cluster CA (10 years)\n"
          "  apiserver.crt/apiserver.key         serving certificate\n"
          "  admin, kube-scheduler, kube-controller-manager,\n"
          "  kubelet-NODE .crt/.key              client certificates\n"
          "  sa.key/sa.pub                       service-account signing keys\n"
          "  admin.kubeconfig, scheduler.kubeconfig,\n"
          "  controller-manager.kubeconfig, kubelet-NODE.kubeconfig\n\n"
          "Flags:\n"
          "      --dir DIR      output directory (required)\n"
          "      --hosts LIST   extra apiserver SANs (IPs or DNS names)\n"
          "      --nodes LIST   node names to issue kubelet credentials for\n"
          "      --server URL   apiserver URL in kubeconfigs (default %s)\n"
          "  -h, --help         show this help\n"
          "  -v, --v N          log verbosity\n",
          DEFAULT_SERVER);
}

/* Splits a comma list in place into *out (malloc'd array of pointers
 * into s); empty items are skipped. */
static int split_list(char *s, const char ***out, size_t *n) {
  size_t cap = 1;
  for (const char *p = s; *p; p++)
    cap += *p == ',';
  const char **v = realloc((void *)*out, (*n + cap) * sizeof(*v));
  if (!v)
    return -ENOMEM;
  *out = v;
  char *save = NULL;
  for (char *tok = strtok_r(s, ",", &save); tok;
       tok = strtok_r(NULL, ",", &save))
    v[(*n)++] = tok;
  return 0;
}

static int parse_verbosity(const char *arg) {
  char *end = NULL;
  long v = strtol(arg, &end, 10);
  if (!*arg || *end || v < 0 || v > 10) {
    fprintf(stderr, "kapi: invalid verbosity %s\n", arg);
    return -1;
  }
  kapi_log_verbosity = (int)v;
  return 0;
}

static int cmd_pki_init(int argc, char **argv) {
  enum { OPT_DIR = 256, OPT_HOSTS, OPT_NODES, OPT_SERVER };
  static const struct option opts[] = {
      {"dir", required_argument, NULL, OPT_DIR},
      {"hosts", required_argument, NULL, OPT_HOSTS},
      {"nodes", required_argument, NULL, OPT_NODES},
      {"server", required_argument, NULL, OPT_SERVER},
      {"help", no_argument, NULL, 'h'},
      {"v", required_argument, NULL, 'v'},
      {NULL, 0, NULL, 0}};
  struct kapi_pki_opts o = {.server = DEFAULT_SERVER};
  const char **hosts = NULL, **nodes = NULL;
  int rc = 2, c;
  optind = 1;
  while ((c = getopt_long(argc, argv, "hv:", opts, NULL)) != -1) {
    switch (c) {
    case OPT_DIR: o.dir = optarg; break;
    case OPT_SERVER: o.server = optarg; break;
    case OPT_HOSTS:
      if (split_list(optarg, &hosts, &o.nhosts) < 0)
        goto out;
      break;
    case OPT_NODES:
      if (split_list(optarg, &nodes, &o.nnodes) < 0)
        goto out;
      break;
    case 'v':
      if (parse_verbosity(optarg) < 0)
        goto out;
      break;
    case 'h':
      usage_pki(stdout);
      rc = 0;
      goto out;
    default:
      usage_pki(stderr);
      goto out;
    }
  }
  if (optind != argc || !o.dir || !*o.dir) {
    fprintf(stderr, "kapi pki init: --dir is required\n");
    usage_pki(stderr);
    goto out;
  }
  o.hosts = hosts;
  o.nodes = nodes;
  rc = kapi_pki_init(&o) < 0 ? 1 : 0;
  if (rc == 0)
    LOG_V(0, "pki: %s is ready", o.dir);
out:
  free((void *)hosts);
  free((void *)nodes);
  return rc;
}

static int cmd_pki(int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
    usage_pki(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!strcmp(argv[1], "init"))
    return cmd_pki_init(argc - 1, argv + 1);
  fprintf(stderr, "kapi pki: unknown command \"%s\"\n", argv[1]);
  usage_pki(stderr);
  return 2;
}

int main(int argc, char **argv) {
  int i = 1;
  /* Global flags come before the command. */
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage_main(stdout);
      return 0;
    } else if (!strncmp(a, "--v=", 4) || !strncmp(a, "-v=", 3)) {
      if (parse_verbosity(strchr(a, '=') + 1) < 0)
        return 2;
    } else if ((!strcmp(a, "-v") || !strcmp(a, "--v")) && i + 1 < argc) {
      if (parse_verbosity(argv[++i]) < 0)
        return 2;
    } else {
      fprintf(stderr, "kapi: unknown flag %s\n", a);
      usage_main(stderr);
      return 2;
    }
  }
  if (i >= argc) {
    usage_main(stderr);
    return 2;
  }
  if (!strcmp(argv[i], "pki"))
    return cmd_pki(argc - i, argv + i);
  fprintf(stderr, "kapi: unknown command \"%s\"\n", argv[i]);
  usage_main(stderr);
  return 2;
}
