/*
 * main.c - kapictl, a small kubectl for kapi: create, apply, delete and
 * get, on libkapi's resource Builder (kapi/resource.h).
 *
 *   kapictl [global flags] COMMAND [args] [flags]
 *
 * Flags may come before or after the command, as with kubectl.  The
 * exit code is kubectl's: 0 on success, 1 on any error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

typedef struct command {
  const char *name;
  int (*run)(kc_flags *f);
} command;

static const command commands[] = {
    {"create", kc_cmd_create},
    {"apply", kc_cmd_apply},
    {"delete", kc_cmd_delete},
    {"get", kc_cmd_get},
};

static void usage(FILE *out)
{
  fputs("kapictl controls a kapi (Kubernetes-compatible) cluster.\n\n"
        "Commands:\n"
        "  create   Create resources from files or stdin\n"
        "  apply    Apply a configuration (server-side apply)\n"
        "  delete   Delete resources by file names, stdin, or type and name\n"
        "  get      Display one or many resources\n\n"
        "Usage:\n"
        "  kapictl [flags] COMMAND [options]\n\n"
        "Use \"kapictl COMMAND --help\" for more about a command.\n",
        out);
}

/* Flags that take a separate value: their value is not the command. */
static int takes_value(const char *a)
{
  static const char *const with_value[] = {
      "--kubeconfig", "--context", "--server", "-s", "--namespace", "-n",
      "--v", "-v",
  };
  size_t i;

  for (i = 0; i < sizeof with_value / sizeof *with_value; i++)
    if (!strcmp(a, with_value[i]))
      return 1;
  return 0;
}

int main(int argc, char **argv)
{
  kc_flags f;
  char **args;
  int i, n = 1, cmd = -1, rc;
  size_t k;

  /* The command is the first word that is not a flag or its value. */
  for (i = 1; i < argc && cmd < 0; i++) {
    if (argv[i][0] == '-') {
      if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
        usage(stdout);
        return 0;
      }
      if (takes_value(argv[i]))
        i++;
      continue;
    }
    cmd = i;
  }
  if (cmd < 0) {
    usage(stderr);
    return 1;
  }
  for (k = 0; k < sizeof commands / sizeof *commands; k++)
    if (!strcmp(argv[cmd], commands[k].name))
      break;
  if (k == sizeof commands / sizeof *commands) {
    fprintf(stderr, "error: unknown command \"%s\" for \"kapictl\"\n",
            argv[cmd]);
    return 1;
  }
  /* argv for the command: its name, then every other argument in
   * order, so global flags given before it still count. */
  if (!(args = calloc((size_t)argc + 1, sizeof *args)))
    return kc_fail("out of memory");
  args[0] = argv[cmd];
  for (i = 1; i < argc; i++)
    if (i != cmd)
      args[n++] = argv[i];
  memset(&f, 0, sizeof f);
  if (kc_parse_flags(n, args, &f) < 0) {
    free(args);
    return 1;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  rc = commands[k].run(&f);
  curl_global_cleanup();
  free(args);
  return rc;
}
