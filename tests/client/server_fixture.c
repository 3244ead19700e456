/*
 * server_fixture.c - starting and stopping a real kapi-apiserver for
 * client tests (see server_fixture.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server_fixture.h"

const char *kts_builddir(void)
{
  const char *b = getenv("KAPI_BUILDDIR");
  return b && *b ? b : ".";
}

int kts_has_plugin(const char *kind, const char *name)
{
  char path[1024];

  snprintf(path, sizeof path, "%s/%s/%s/.libs/%s.so", kts_builddir(), kind,
           name, name);
  return access(path, R_OK) == 0;
}

int kts_have_server(void)
{
  char path[1024];

  snprintf(path, sizeof path, "%s/kapi-apiserver", kts_builddir());
  return access(path, X_OK) == 0;
}

static void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int copy_file(const char *from, const char *to)
{
  char buf[65536];
  ssize_t n;
  int in = open(from, O_RDONLY | O_CLOEXEC), out, r = 0;

  if (in < 0)
    return -errno;
  out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    r = -errno;
    close(in);
    return r;
  }
  while ((n = read(in, buf, sizeof buf)) > 0)
    if (write(out, buf, (size_t)n) != n) {
      r = -EIO;
      break;
    }
  if (n < 0)
    r = -errno;
  close(in);
  close(out);
  /* The loader refuses group/world-writable plugins: be exact. */
  if (r == 0 && chmod(to, 0644) < 0)
    r = -errno;
  return r;
}

int kts_init(kts_server *s)
{
  static const char *const kinds[] = {"authn", "authz", "admission",
                                      "registry"};
  const char *tmp = getenv("TMPDIR");
  size_t i, j;
  int r = 0;

  memset(s, 0, sizeof *s);
  snprintf(s->dir, sizeof s->dir, "%s/kapi-client-test.XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(s->dir))
    return -errno;
  snprintf(s->data, sizeof s->data, "%s/data", s->dir);
  snprintf(s->plugins, sizeof s->plugins, "%s/plugins", s->dir);
  snprintf(s->log, sizeof s->log, "%s/apiserver.log", s->dir);
  snprintf(s->kubeconfig, sizeof s->kubeconfig, "%s/kubeconfig", s->dir);
  if (chmod(s->dir, 0755) < 0 || mkdir(s->plugins, 0755) < 0 ||
      chmod(s->plugins, 0755) < 0)
    return -errno;
  for (i = 0; i < sizeof kinds / sizeof kinds[0] && r == 0; i++) {
    char pattern[1024];
    glob_t g;
    snprintf(pattern, sizeof pattern, "%s/%s/*/.libs/*.so", kts_builddir(),
             kinds[i]);
    if (glob(pattern, 0, NULL, &g) != 0)
      continue;
    for (j = 0; j < g.gl_pathc && r == 0; j++) {
      const char *base = strrchr(g.gl_pathv[j], '/') + 1;
      char to[1024];
      snprintf(to, sizeof to, "%s/%s", s->plugins, base);
      r = copy_file(g.gl_pathv[j], to);
    }
    globfree(&g);
  }
  return r;
}

/* The port from the log's "serving on http://127.0.0.1:PORT", or 0. */
static int logged_port(const kts_server *s)
{
  FILE *f = fopen(s->log, "r");
  char line[1024];
  int port = 0;

  if (!f)
    return 0;
  while (fgets(line, sizeof line, f)) {
    const char *p = strstr(line, "serving on http://127.0.0.1:");
    if (p)
      port = atoi(p + strlen("serving on http://127.0.0.1:"));
  }
  fclose(f);
  return port;
}

/* GET /readyz over a plain socket: 1 when it answers 200. */
static int ready(int port)
{
  struct sockaddr_in a;
  char buf[64] = "";
  const char req[] = "GET /readyz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  ssize_t n;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok = 0;
  struct timeval tv = {2, 0};

  if (fd < 0)
    return 0;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
      write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1) &&
      (n = read(fd, buf, sizeof buf - 1)) > 0) {
    buf[n] = '\0';
    ok = !strncmp(buf, "HTTP/1.1 200", 12) || !strncmp(buf, "HTTP/1.0 200", 12);
  }
  close(fd);
  return ok;
}

static int write_kubeconfig(const kts_server *s)
{
  FILE *f = fopen(s->kubeconfig, "w");

  if (!f)
    return -errno;
  fprintf(f,
          "apiVersion: v1\nkind: Config\nclusters:\n- name: t\n"
          "  cluster: {server: \"%s\"}\nusers:\n- name: t\n  user: {}\n"
          "contexts:\n- name: t\n  context: {cluster: t, user: t}\n"
          "current-context: t\n",
          s->url);
  return fclose(f) == 0 ? 0 : -EIO;
}

static void print_log(const kts_server *s)
{
  FILE *f = fopen(s->log, "r");
  char line[1024];

  fprintf(stderr, "apiserver did not start; its log:\n");
  if (!f)
    return;
  while (fgets(line, sizeof line, f))
    fprintf(stderr, "    %s", line);
  fclose(f);
}

int kts_start_args(kts_server *s, int port, const char *const *extra_args)
{
  char bin[1024], portarg[16];
  const char *argv[64];
  int argc = 0, i, fd, status;
  pid_t pid;

  if (s->pid)
    return -EBUSY;
  snprintf(bin, sizeof bin, "%s/kapi-apiserver", kts_builddir());
  snprintf(portarg, sizeof portarg, "%d", port);
  argv[argc++] = bin;
  argv[argc++] = "--data-dir";
  argv[argc++] = s->data;
  argv[argc++] = "--insecure-port";
  argv[argc++] = portarg;
  argv[argc++] = "--no-default-plugins";
  argv[argc++] = "--plugin-dir";
  argv[argc++] = s->plugins;
  argv[argc++] = "--authorization-mode";
  argv[argc++] = "AlwaysAllow";
  argv[argc++] = "--fsync";
  argv[argc++] = "false";
  /* No controller-manager creates the default ServiceAccounts here. */
  argv[argc++] = "--disable-admission-plugins";
  argv[argc++] = "ServiceAccount";
  for (i = 0; extra_args && extra_args[i] && argc < 63; i++)
    argv[argc++] = extra_args[i];
  argv[argc] = NULL;

  /* A fresh log per start, so the port read back is this run's. */
  fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return -errno;
  pid = fork();
  if (pid < 0) {
    close(fd);
    return -errno;
  }
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDWR);
    /* Dies with the test, even when the test crashes. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    dup2(devnull, 0);
    dup2(devnull, 1);
    dup2(fd, 2);
    execv(bin, (char *const *)argv);
    _exit(127);
  }
  close(fd);
  s->pid = pid;
  for (i = 0; i < 400; i++) {
    int p = logged_port(s);
    if (p > 0 && ready(p)) {
      s->port = p;
      snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", p);
      return write_kubeconfig(s);
    }
    if (waitpid(pid, &status, WNOHANG) == pid) {
      s->pid = 0;
      break;
    }
    sleep_ms(50);
  }
  print_log(s);
  kts_stop(s);
  return -ETIMEDOUT;
}

int kts_start(kts_server *s, int port) { return kts_start_args(s, port, NULL); }

void kts_stop(kts_server *s)
{
  int i, status;

  if (!s->pid)
    return;
  kill(s->pid, SIGTERM);
  for (i = 0; i < 200; i++) {
    if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
      s->pid = 0;
      return;
    }
    sleep_ms(50);
  }
  kill(s->pid, SIGKILL);
  waitpid(s->pid, &status, 0);
  s->pid = 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  remove(path);
  return 0;
}

void kts_cleanup(kts_server *s)
{
  kts_stop(s);
  if (s->dir[0])
    nftw(s->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  s->dir[0] = '\0';
}

int kts_listen(int port)
{
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, r;

  if (fd < 0)
    return -errno;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 16) < 0) {
    r = -errno;
    close(fd);
    return r;
  }
  return fd;
}

int kts_free_port(void)
{
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  int fd = kts_listen(0), port;

  if (fd < 0)
    return fd;
  if (getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
    port = -errno;
  } else {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}
