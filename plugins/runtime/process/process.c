/*
 * process.c - the "process" container runtime: every container is a host
 * process.
 *
 * Upstream analogue: a CRI runtime (containerd/CRI-O) seen through
 * pkg/kubelet/kuberuntime, minus images, namespaces and cgroups.  A
 * container's spec.containers[].command + args (with $(VAR) expansion,
 * as the kubelet's ExpandContainerCommandAndArgs) runs with its env and
 * workingDir in a process group of its own, its stdout and stderr
 * written to the log path the kubelet chose in the CRI log format
 * ("<RFC3339Nano> stdout|stderr F|P <line>", as containerd writes it)
 * by a log thread per container reading the two pipes, so every line
 * keeps the time it was written at.  There are no images:
 * a container without a command cannot run (ContainerCannotRun).
 *
 * Processes are spawned with posix_spawn (fork+exec in glibc, with
 * POSIX_SPAWN_SETPGROUP doing the setpgid), which reports exec errors
 * synchronously and is safe in a threaded process.  One reaper thread
 * waits on a pidfd per running container (plus a wake pipe) and reaps
 * with waitpid; when a container's main process ends, what is left of
 * its process group is killed, as a container's init dying ends the
 * container.  Stopping sends SIGTERM to the group, waits up to the grace
 * period, then SIGKILLs the group.
 *
 * All state is in memory: at fini every container still running is
 * stopped (a restarted kubelet could not adopt it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kapi/plugin.h"
#include "../common/runtime_util.h"

#define LOG_LINE_MAX 16384 /* longer lines are split into P records */

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* Exit code reported for a container whose process could not start:
 * what runc-based runtimes report for a StartError. */
#define EXIT_CANNOT_RUN 128

static kapi_plugin *self;

typedef struct sandbox {
  struct sandbox *next;
  char id[KAPI_ID_MAX];
  char *uid, *name, *ns;
  int ready;
} sandbox;

typedef struct container {
  struct container *next;
  char id[KAPI_ID_MAX];
  char sandbox_id[KAPI_ID_MAX];
  char *name, *image, *log_path, *workdir;
  char **argv, **envp;       /* NULL-terminated, owned; argv NULL = none */
  rt_life life;
  char *message;             /* owned */
  pid_t pid;                 /* > 0 while running */
  int pidfd;                 /* -1 if none (old kernels: polled) */
  int busy;                  /* threads waiting on it in stop */
  struct logger *logger;     /* NULL until started */
} container;

typedef struct proc_rt {
  pthread_mutex_t mu;
  pthread_cond_t changed;    /* a container exited or was released */
  sandbox *sandboxes;
  container *containers;
  uint64_t next_id;
  int wake[2];               /* wakes the reaper to rebuild its fd set */
  int stopping;
  pthread_t reaper;
  int reaper_started;
} proc_rt;

static char *dupstr(const char *s)
{
  size_t n;
  char *p;
  if (!s)
    return NULL;
  n = strlen(s) + 1;
  p = malloc(n);
  if (p)
    memcpy(p, s, n);
  return p;
}

static char *printf_alloc(const char *fmt, ...) KAPI_PRINTF(1, 2);
static char *printf_alloc(const char *fmt, ...)
{
  va_list ap;
  char *s = NULL;
  va_start(ap, fmt);
  if (vasprintf(&s, fmt, ap) < 0)
    s = NULL;
  va_end(ap);
  return s;
}

static void free_strv(char **v)
{
  size_t i;
  for (i = 0; v && v[i]; i++)
    free(v[i]);
  free(v);
}

static void wake_reaper(proc_rt *rt)
{
  char c = 1;
  ssize_t n = write(rt->wake[1], &c, 1);
  (void)n; /* a full pipe already means "wake up" */
}

/* ---- ids and lookup (callers hold mu) ---------------------------------- */

static void new_id(proc_rt *rt, char *buf)
{
  /* Unique within the process; the pid keeps ids of two kubelets apart
   * in shared logs. */
  snprintf(buf, KAPI_ID_MAX, "%08x%08llx", (unsigned)getpid(),
           (unsigned long long)++rt->next_id);
}

static sandbox *find_sandbox(proc_rt *rt, const char *id)
{
  sandbox *s;
  for (s = rt->sandboxes; s; s = s->next)
    if (!strcmp(s->id, id))
      return s;
  return NULL;
}

static container *find_container(proc_rt *rt, const char *id)
{
  container *c;
  for (c = rt->containers; c; c = c->next)
    if (!strcmp(c->id, id))
      return c;
  return NULL;
}

/* ---- building the process's argv and environment ----------------------- */

typedef struct strv {
  char **v;
  size_t n, cap;
} strv;

static int strv_push(strv *sv, char *s)
{
  if (!s)
    return -ENOMEM;
  if (sv->n + 2 > sv->cap) {
    size_t cap = sv->cap ? sv->cap * 2 : 8;
    char **v = realloc(sv->v, cap * sizeof *v);
    if (!v) {
      free(s);
      return -ENOMEM;
    }
    sv->v = v;
    sv->cap = cap;
  }
  sv->v[sv->n++] = s;
  sv->v[sv->n] = NULL;
  return 0;
}

/* The value of NAME in an environment being built ("NAME=value"). */
static const char *env_lookup(const strv *env, const char *name, size_t len)
{
  size_t i;
  for (i = env->n; i-- > 0;)
    if (!strncmp(env->v[i], name, len) && env->v[i][len] == '=')
      return env->v[i] + len + 1;
  return NULL;
}

/*
 * Upstream's expansion (third_party/forked/golang/expansion): $(VAR) is
 * replaced by VAR's value when defined, kept verbatim otherwise; $$ is
 * an escaped $.
 */
static char *expand(const char *in, const strv *env)
{
  size_t cap = strlen(in) + 1, len = 0;
  char *out = malloc(cap);
  const char *p = in;

  if (!out)
    return NULL;
  while (*p) {
    const char *val = NULL, *end;
    size_t vlen = 1, skip = 1;
    if (p[0] == '$' && p[1] == '$') {
      val = "$";
      skip = 2;
    } else if (p[0] == '$' && p[1] == '(' && (end = strchr(p + 2, ')'))) {
      val = env_lookup(env, p + 2, (size_t)(end - p - 2));
      skip = (size_t)(end - p) + 1;
      if (val)
        vlen = strlen(val);
      else {
        val = p;
        vlen = skip;
      }
    } else {
      val = p;
    }
    if (len + vlen + 1 > cap) {
      char *n;
      cap = (len + vlen + 1) * 2;
      n = realloc(out, cap);
      if (!n) {
        free(out);
        return NULL;
      }
      out = n;
    }
    memcpy(out + len, val, vlen);
    len += vlen;
    p += skip;
  }
  out[len] = '\0';
  return out;
}

/* A fieldRef of the downward API, read from the pod the kubelet passed
 * (it fills status.podIP and status.hostIP before creating). */
static const char *field_ref(const kapi_obj *pod, const char *path)
{
  static const struct {
    const char *path, *pointer;
  } refs[] = {
      {"metadata.name", "/metadata/name"},
      {"metadata.namespace", "/metadata/namespace"},
      {"metadata.uid", "/metadata/uid"},
      {"spec.nodeName", "/spec/nodeName"},
      {"spec.serviceAccountName", "/spec/serviceAccountName"},
      {"status.podIP", "/status/podIP"},
      {"status.hostIP", "/status/hostIP"},
  };
  size_t i;
  for (i = 0; i < sizeof refs / sizeof refs[0]; i++)
    if (!strcmp(refs[i].path, path))
      return api->obj_get(pod, refs[i].pointer);
  return NULL;
}

static int build_env(const kapi_obj *pod, const kapi_obj *ctr, strv *env)
{
  const kapi_obj *list = api->obj_lookup(ctr, "/env");
  const char *path = getenv("PATH"), *host = api->obj_get(pod, "/metadata/name");
  size_t i, n = api->obj_len(list);
  int rc;

  rc = strv_push(env, printf_alloc("PATH=%s", path ? path : DEFAULT_PATH));
  if (!rc && host)
    rc = strv_push(env, printf_alloc("HOSTNAME=%s", host));
  for (i = 0; !rc && i < n; i++) {
    const kapi_obj *e = api->obj_index(list, i);
    const char *name = api->obj_get(e, "/name");
    const char *value = api->obj_get(e, "/value");
    const char *ref = api->obj_get(e, "/valueFrom/fieldRef/fieldPath");
    char *v;
    if (!name)
      continue;
    if (ref)
      v = dupstr(field_ref(pod, ref) ? field_ref(pod, ref) : "");
    else
      v = expand(value ? value : "", env);
    if (!v)
      return -ENOMEM;
    rc = strv_push(env, printf_alloc("%s=%s", name, v));
    free(v);
  }
  return rc;
}

static int build_argv(const kapi_obj *ctr, const strv *env, strv *argv)
{
  static const char *const lists[] = {"/command", "/args"};
  size_t i, j;
  int rc = 0;
  for (j = 0; j < 2; j++) {
    const kapi_obj *l = api->obj_lookup(ctr, lists[j]);
    for (i = 0; !rc && i < api->obj_len(l); i++) {
      const char *s = api->obj_get(api->obj_index(l, i), "");
      rc = strv_push(argv, expand(s ? s : "", env));
    }
  }
  return rc;
}

/*
 * The executable for argv[0], searched in the container's PATH as
 * execvp would; NULL with a runc-style message when there is none.
 */
static char *resolve(const char *cmd, const strv *env, char **msg)
{
  const char *path = env_lookup(env, "PATH", 4);
  char *dirs, *dir, *save = NULL, *found = NULL;

  if (!*cmd) {
    *msg = printf_alloc("exec: \"\": executable file not found in $PATH");
    return NULL;
  }
  if (strchr(cmd, '/')) {
    if (access(cmd, X_OK) == 0)
      return dupstr(cmd);
    *msg = printf_alloc("exec: \"%s\": stat %s: %s", cmd, cmd,
                        strerror(errno));
    return NULL;
  }
  dirs = dupstr(path ? path : DEFAULT_PATH);
  for (dir = dirs ? strtok_r(dirs, ":", &save) : NULL; dir && !found;
       dir = strtok_r(NULL, ":", &save)) {
    char *cand = printf_alloc("%s/%s", *dir ? dir : ".", cmd);
    struct stat st;
    if (cand && stat(cand, &st) == 0 && S_ISREG(st.st_mode) &&
        access(cand, X_OK) == 0)
      found = cand;
    else
      free(cand);
  }
  free(dirs);
  if (!found)
    *msg = printf_alloc("exec: \"%s\": executable file not found in $PATH",
                        cmd);
  return found;
}

/* ---- the reaper ----------------------------------------------------------- */

static void record_exit(proc_rt *rt, container *c, int wstatus)
{
  int32_t code = c->life.exit_code;
  if (WIFEXITED(wstatus))
    code = WEXITSTATUS(wstatus);
  else if (WIFSIGNALED(wstatus))
    code = 128 + WTERMSIG(wstatus);
  rt_mark_exited(&c->life, now_ns(), code);
  if (c->pidfd >= 0)
    close(c->pidfd);
  c->pidfd = -1;
  c->pid = 0;
  pthread_cond_broadcast(&rt->changed);
  api->log(self, 4, "container %s (%s) exited with code %d", c->id, c->name,
           (int)c->life.exit_code);
}

/*
 * Reaps every running container that has exited.  Only the reaper calls
 * this (it alone closes pidfds, so none is closed under its poll); the
 * caller holds mu.  The main process is looked at with WNOWAIT first:
 * while it is a zombie its pid (= the group id) cannot be reused, so
 * killing what it left in its group cannot hit a stranger.  The main
 * process gone, so is the container.
 */
static void reap_exited(proc_rt *rt)
{
  container *c;
  for (c = rt->containers; c; c = c->next) {
    siginfo_t info;
    int wstatus;
    if (c->pid <= 0)
      continue;
    memset(&info, 0, sizeof info);
    if (waitid(P_PID, (id_t)c->pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0 ||
        info.si_pid != c->pid)
      continue;
    kill(-c->pid, SIGKILL);
    if (waitpid(c->pid, &wstatus, 0) == c->pid)
      record_exit(rt, c, wstatus);
  }
}

static void *reaper_main(void *arg)
{
  proc_rt *rt = arg;
  struct pollfd *fds = NULL;
  size_t cap = 0;

  for (;;) {
    size_t n = 1;
    int timeout = -1, running = 0;
    container *c;

    pthread_mutex_lock(&rt->mu);
    reap_exited(rt);
    for (c = rt->containers; c; c = c->next)
      if (c->pid > 0) {
        running++;
        if (n + 1 > cap) {
          size_t ncap = cap ? cap * 2 : 16;
          struct pollfd *nf = realloc(fds, ncap * sizeof *nf);
          if (!nf)
            break;
          fds = nf;
          cap = ncap;
        }
        if (c->pidfd >= 0)
          fds[n++] = (struct pollfd){.fd = c->pidfd, .events = POLLIN};
        else
          timeout = 100; /* no pidfd: poll for exits */
      }
    if (rt->stopping && !running) {
      pthread_mutex_unlock(&rt->mu);
      break;
    }
    pthread_mutex_unlock(&rt->mu);
    if (!fds) {
      fds = malloc(16 * sizeof *fds);
      if (!fds)
        break;
      cap = 16;
    }
    fds[0] = (struct pollfd){.fd = rt->wake[0], .events = POLLIN};
    if (poll(fds, n, timeout) > 0 && (fds[0].revents & POLLIN)) {
      char buf[64];
      while (read(rt->wake[0], buf, sizeof buf) > 0)
        ;
    }
  }
  free(fds);
  return NULL;
}

/* ---- sandboxes ------------------------------------------------------------ */

static int run_pod_sandbox(void *st, const kapi_obj *pod, char *sandbox_id,
                           kapi_error *e)
{
  proc_rt *rt = st;
  sandbox *s = calloc(1, sizeof *s);
  const char *uid = api->obj_get(pod, "/metadata/uid");

  if (!s || !uid) {
    free(s);
    api->error_set(e, 500, "InternalError", "cannot create a sandbox%s",
                   uid ? "" : ": the pod has no uid");
    return uid ? -ENOMEM : -EINVAL;
  }
  s->uid = dupstr(uid);
  s->name = dupstr(api->obj_get(pod, "/metadata/name"));
  s->ns = dupstr(api->obj_get(pod, "/metadata/namespace"));
  s->ready = 1;
  pthread_mutex_lock(&rt->mu);
  new_id(rt, s->id);
  s->next = rt->sandboxes;
  rt->sandboxes = s;
  snprintf(sandbox_id, KAPI_ID_MAX, "%s", s->id);
  pthread_mutex_unlock(&rt->mu);
  return 0;
}

static int stop_container(void *st, const char *container_id,
                          int64_t timeout_s);
static int remove_container(void *st, const char *container_id);

/* The ids of the sandbox's containers, newly allocated. */
static char **sandbox_containers(proc_rt *rt, const char *sandbox_id)
{
  strv ids = {0};
  container *c;
  pthread_mutex_lock(&rt->mu);
  for (c = rt->containers; c; c = c->next)
    if (!strcmp(c->sandbox_id, sandbox_id) && strv_push(&ids, dupstr(c->id)))
      break;
  pthread_mutex_unlock(&rt->mu);
  return ids.v;
}

/* CRI StopPodSandbox: force-stops the sandbox's containers. */
static int stop_pod_sandbox(void *st, const char *sandbox_id)
{
  proc_rt *rt = st;
  char **ids = sandbox_containers(rt, sandbox_id);
  sandbox *s;
  size_t i;
  for (i = 0; ids && ids[i]; i++)
    stop_container(rt, ids[i], 0);
  free_strv(ids);
  pthread_mutex_lock(&rt->mu);
  s = find_sandbox(rt, sandbox_id);
  if (s)
    s->ready = 0;
  pthread_mutex_unlock(&rt->mu);
  return s ? 0 : -ENOENT;
}

static int remove_pod_sandbox(void *st, const char *sandbox_id)
{
  proc_rt *rt = st;
  char **ids = sandbox_containers(rt, sandbox_id);
  sandbox **pp, *s = NULL;
  size_t i;
  for (i = 0; ids && ids[i]; i++)
    remove_container(rt, ids[i]);
  free_strv(ids);
  pthread_mutex_lock(&rt->mu);
  for (pp = &rt->sandboxes; *pp; pp = &(*pp)->next)
    if (!strcmp((*pp)->id, sandbox_id)) {
      s = *pp;
      *pp = s->next;
      break;
    }
  pthread_mutex_unlock(&rt->mu);
  if (!s)
    return -ENOENT;
  free(s->uid);
  free(s->name);
  free(s->ns);
  free(s);
  return 0;
}

/* ---- the CRI log writer ----------------------------------------------- */

/* One container's log thread: it owns the pipes' read ends and the log
 * file, and ends at EOF on both pipes or when told to stop (a process
 * that left the group may keep a pipe open forever). */
struct logger {
  pthread_t thread;
  int fd[2];          /* stdout, stderr read ends; -1 once at EOF */
  int out;            /* the log file */
  volatile int stop;
  int started;        /* thread is joinable */
  unsigned write_errors;
  char buf[2][LOG_LINE_MAX];
  size_t len[2];
};

/* Appends one record with one write, so records never interleave. */
static void log_record(struct logger *lg, int stream, const char *text,
                       size_t n, int full)
{
  int64_t ns = now_ns();
  time_t t = (time_t)(ns / 1000000000);
  char ts[40], *line = malloc(n + 128);
  struct tm tm;
  size_t h;

  if (!line)
    return;
  gmtime_r(&t, &tm);
  strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  h = (size_t)snprintf(line, 128, "%s.%09lldZ %s %c ", ts,
                       (long long)(ns % 1000000000),
                       stream ? "stderr" : "stdout", full ? 'F' : 'P');
  memcpy(line + h, text, n);
  line[h + n] = '\n';
  /* A failed write has nowhere to be reported: the output is lost, as
   * with a full disk under a real runtime. */
  if (write(lg->out, line, h + n + 1) < 0)
    lg->write_errors++;
  free(line);
}

/* Writes the complete lines of stream i; a full buffer without a
 * newline becomes a partial record. */
static void log_flush(struct logger *lg, int i, int eof)
{
  char *b = lg->buf[i];
  size_t start = 0, k;
  for (k = 0; k < lg->len[i]; k++)
    if (b[k] == '\n') {
      log_record(lg, i, b + start, k - start, 1);
      start = k + 1;
    }
  if (start < lg->len[i] && (eof || (start == 0 && lg->len[i] ==
                                                      LOG_LINE_MAX))) {
    log_record(lg, i, b + start, lg->len[i] - start, 0);
    start = lg->len[i];
  }
  memmove(b, b + start, lg->len[i] - start);
  lg->len[i] -= start;
}

static void *logger_main(void *arg)
{
  struct logger *lg = arg;
  while (!lg->stop && (lg->fd[0] >= 0 || lg->fd[1] >= 0)) {
    struct pollfd p[2];
    int i;
    for (i = 0; i < 2; i++)
      p[i] = (struct pollfd){.fd = lg->fd[i], .events = POLLIN};
    if (poll(p, 2, 200) <= 0)
      continue;
    for (i = 0; i < 2; i++) {
      ssize_t n;
      if (lg->fd[i] < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
        continue;
      n = read(lg->fd[i], lg->buf[i] + lg->len[i],
               LOG_LINE_MAX - lg->len[i]);
      if (n > 0) {
        lg->len[i] += (size_t)n;
        log_flush(lg, i, 0);
      } else if (n == 0 || errno != EINTR) {
        log_flush(lg, i, 1);
        close(lg->fd[i]);
        lg->fd[i] = -1;
      }
    }
  }
  return NULL;
}

static void logger_free(struct logger *lg)
{
  int i;
  if (!lg)
    return;
  lg->stop = 1;
  if (lg->started)
    pthread_join(lg->thread, NULL);
  for (i = 0; i < 2; i++) {
    if (lg->len[i])
      log_flush(lg, i, 1);
    if (lg->fd[i] >= 0)
      close(lg->fd[i]);
  }
  close(lg->out);
  free(lg);
}

/* Opens c's log file and the two pipes (write ends in w, for the child)
 * and sets c->logger, its thread not started yet.  0 or -1 with *msg. */
static int logger_open(container *c, int w[2], char **msg)
{
  struct logger *lg = calloc(1, sizeof *lg);
  int out[2] = {-1, -1}, err[2] = {-1, -1};
  if (!lg)
    return (*msg = printf_alloc("out of memory")), -1;
  lg->out = open(c->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                 0644);
  if (lg->out < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
    *msg = printf_alloc("cannot open the log %s: %s", c->log_path,
                        strerror(errno));
    if (lg->out >= 0)
      close(lg->out);
    if (out[0] >= 0) {
      close(out[0]);
      close(out[1]);
    }
    free(lg);
    return -1;
  }
  lg->fd[0] = out[0];
  lg->fd[1] = err[0];
  w[0] = out[1];
  w[1] = err[1];
  lg->started = 1; /* until pthread_create says otherwise */
  logger_free(c->logger); /* a restart of the same container: none */
  c->logger = lg;
  return 0;
}

/* ---- containers ----------------------------------------------------------- */

static void free_container(container *c)
{
  logger_free(c->logger);
  free(c->name);
  free(c->image);
  free(c->log_path);
  free(c->workdir);
  free_strv(c->argv);
  free_strv(c->envp);
  free(c->message);
  free(c);
}

static int create_container(void *st, const char *sandbox_id,
                            const kapi_obj *pod, const kapi_obj *ctr,
                            const char *log_path, char *container_id,
                            kapi_error *e)
{
  proc_rt *rt = st;
  container *c = calloc(1, sizeof *c);
  strv env = {0}, argv = {0};
  const char *name = api->obj_get(ctr, "/name");
  int rc;

  if (!c || !name) {
    free(c);
    api->error_set(e, 500, "InternalError", "cannot create the container%s",
                   name ? "" : ": it has no name");
    return name ? -ENOMEM : -EINVAL;
  }
  c->pidfd = -1;
  c->name = dupstr(name);
  c->image = dupstr(api->obj_get(ctr, "/image"));
  c->log_path = dupstr(log_path ? log_path : "/dev/null");
  c->workdir = dupstr(api->obj_get(ctr, "/workingDir"));
  rc = build_env(pod, ctr, &env);
  if (!rc)
    rc = build_argv(ctr, &env, &argv);
  c->envp = env.v;
  c->argv = argv.v; /* NULL when the container has no command */
  if (rc < 0 || !c->name || !c->log_path) {
    free_container(c);
    api->error_set(e, 500, "InternalError", "out of memory");
    return -ENOMEM;
  }
  c->life.state = KAPI_CONTAINER_CREATED;
  c->life.created_at = now_ns();
  pthread_mutex_lock(&rt->mu);
  if (!find_sandbox(rt, sandbox_id)) {
    pthread_mutex_unlock(&rt->mu);
    free_container(c);
    return rt_sandbox_not_found(e, sandbox_id);
  }
  snprintf(c->sandbox_id, sizeof c->sandbox_id, "%s", sandbox_id);
  new_id(rt, c->id);
  c->next = rt->containers;
  rt->containers = c;
  snprintf(container_id, KAPI_ID_MAX, "%s", c->id);
  pthread_mutex_unlock(&rt->mu);
  return 0;
}

/* The signals the kubelet blocks or ignores, back to their defaults in
 * the container. */
static void spawn_signals(posix_spawnattr_t *attr)
{
  static const int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTERM,
                             SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM};
  sigset_t none, def;
  size_t i;
  sigemptyset(&none);
  sigemptyset(&def);
  for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    sigaddset(&def, sigs[i]);
  posix_spawnattr_setsigmask(attr, &none);
  posix_spawnattr_setsigdefault(attr, &def);
  posix_spawnattr_setpgroup(attr, 0);
  posix_spawnattr_setflags(attr, POSIX_SPAWN_SETPGROUP |
                                     POSIX_SPAWN_SETSIGMASK |
                                     POSIX_SPAWN_SETSIGDEF);
}

/* Spawns c's process; 0, or -errno with *msg set.  Runs without mu: the
 * container is CREATED and only its creator's pod worker touches it. */
static int spawn(container *c, const strv *env, pid_t *pid, char **msg)
{
  int w[2];
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  char *exe;
  int rc;

  if (!c->argv || !c->argv[0]) {
    *msg = printf_alloc("no command specified: the process runtime cannot "
                        "run image \"%s\" by itself",
                        c->image ? c->image : "");
    return -ENOEXEC;
  }
  exe = resolve(c->argv[0], env, msg);
  if (!exe)
    return -ENOENT;
  if (logger_open(c, w, msg) < 0) {
    free(exe);
    return -EIO;
  }
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, w[0], 1);
  posix_spawn_file_actions_adddup2(&fa, w[1], 2);
  if (c->workdir && *c->workdir)
    posix_spawn_file_actions_addchdir_np(&fa, c->workdir);
  posix_spawnattr_init(&attr);
  spawn_signals(&attr);
  rc = posix_spawn(pid, exe, &fa, &attr, c->argv, c->envp);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  /* Only the child may hold the write ends: EOF is its end. */
  close(w[0]);
  close(w[1]);
  if (pthread_create(&c->logger->thread, NULL, logger_main, c->logger)) {
    /* Without a reader the child would block on a full pipe. */
    c->logger->stop = 1;
    close(c->logger->fd[0]);
    close(c->logger->fd[1]);
    c->logger->fd[0] = c->logger->fd[1] = -1;
    c->logger->started = 0;
  }
  if (rc) {
    *msg = printf_alloc("exec: \"%s\": %s", c->argv[0], strerror(rc));
    if (c->workdir && *c->workdir && access(c->workdir, X_OK) < 0)
      *msg = (free(*msg), printf_alloc("chdir to cwd (\"%s\") set in config"
                                      ".json failed: %s",
                                      c->workdir, strerror(errno)));
  }
  free(exe);
  return -rc;
}

static int start_container(void *st, const char *container_id, kapi_error *e)
{
  proc_rt *rt = st;
  container *c;
  strv env = {0};
  char *msg = NULL;
  pid_t pid = 0;
  int rc;

  pthread_mutex_lock(&rt->mu);
  c = find_container(rt, container_id);
  if (!c || c->life.state != KAPI_CONTAINER_CREATED) {
    pthread_mutex_unlock(&rt->mu);
    api->error_set(e, c ? 409 : 404, c ? "Conflict" : "NotFound",
                   "container %s %s", container_id,
                   c ? "is not in the created state" : "not found");
    return c ? -EBUSY : -ENOENT;
  }
  c->busy++;
  pthread_mutex_unlock(&rt->mu);

  env.v = c->envp;
  for (env.n = 0; env.v && env.v[env.n]; env.n++)
    ;
  rc = spawn(c, &env, &pid, &msg);

  pthread_mutex_lock(&rt->mu);
  c->busy--;
  if (rc < 0) {
    /* Never started: exited at once, as a runtime reports a StartError. */
    c->life.state = KAPI_CONTAINER_EXITED;
    c->life.started_at = 0;
    c->life.finished_at = now_ns();
    c->life.exit_code = EXIT_CANNOT_RUN;
    c->life.reason = "ContainerCannotRun";
    free(c->message);
    c->message = msg;
    api->error_set(e, 500, "ContainerCannotRun", "%s",
                   msg ? msg : "cannot run the container");
  } else {
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    c->pid = pid;
    c->pidfd = fd >= 0 ? fd : -1;
    c->life.state = KAPI_CONTAINER_RUNNING;
    c->life.started_at = now_ns();
    api->log(self, 4, "container %s (%s) started as pid %d", c->id, c->name,
             (int)pid);
  }
  pthread_cond_broadcast(&rt->changed);
  pthread_mutex_unlock(&rt->mu);
  if (rc == 0)
    wake_reaper(rt);
  return rc;
}

/* Waits until c is no longer running or `deadline` (CLOCK_REALTIME ns,
 * 0 = forever) passes; caller holds mu.  1 if it stopped. */
static int wait_exit(proc_rt *rt, container *c, int64_t deadline)
{
  while (c->pid > 0) {
    struct timespec ts;
    int64_t now = now_ns();
    if (deadline && now >= deadline)
      return 0;
    /* Wake at least every second, should a broadcast be missed. */
    now += 1000000000;
    if (deadline && deadline < now)
      now = deadline;
    ts.tv_sec = now / 1000000000;
    ts.tv_nsec = now % 1000000000;
    pthread_cond_timedwait(&rt->changed, &rt->mu, &ts);
  }
  return 1;
}

static int stop_container(void *st, const char *container_id,
                          int64_t timeout_s)
{
  proc_rt *rt = st;
  container *c;

  pthread_mutex_lock(&rt->mu);
  c = find_container(rt, container_id);
  if (!c) {
    pthread_mutex_unlock(&rt->mu);
    return -ENOENT;
  }
  if (c->life.state == KAPI_CONTAINER_CREATED) {
    c->life.state = KAPI_CONTAINER_EXITED;
    c->life.finished_at = now_ns();
    c->life.reason = "Completed";
  }
  c->busy++;
  if (c->pid > 0 && timeout_s > 0) {
    kill(-c->pid, SIGTERM);
    wait_exit(rt, c, now_ns() + timeout_s * 1000000000);
  }
  if (c->pid > 0) {
    kill(-c->pid, SIGKILL);
    wait_exit(rt, c, 0);
  }
  c->busy--;
  pthread_cond_broadcast(&rt->changed);
  pthread_mutex_unlock(&rt->mu);
  return 0;
}

static int remove_container(void *st, const char *container_id)
{
  proc_rt *rt = st;
  container **pp, *c;

  stop_container(rt, container_id, 0);
  pthread_mutex_lock(&rt->mu);
  for (;;) {
    for (pp = &rt->containers; *pp && strcmp((*pp)->id, container_id);
         pp = &(*pp)->next)
      ;
    c = *pp;
    if (!c || !c->busy)
      break;
    pthread_cond_wait(&rt->changed, &rt->mu); /* a stop still waits on it */
  }
  if (c)
    *pp = c->next;
  pthread_mutex_unlock(&rt->mu);
  if (!c)
    return -ENOENT;
  free_container(c);
  return 0;
}

static void report(const container *c, kapi_container_status_fn fn, void *arg)
{
  rt_report(c->id, c->sandbox_id, c->name, &c->life, c->message, c->log_path,
            fn, arg);
}

static int container_status(void *st, const char *container_id,
                            kapi_container_status_fn fn, void *arg)
{
  proc_rt *rt = st;
  container *c;
  pthread_mutex_lock(&rt->mu);
  c = find_container(rt, container_id);
  if (c)
    report(c, fn, arg);
  pthread_mutex_unlock(&rt->mu);
  return c ? 0 : -ENOENT;
}

/* The callback runs under the runtime's lock: it must not call back into
 * the runtime. */
static int list_containers(void *st, kapi_container_status_fn fn, void *arg)
{
  proc_rt *rt = st;
  container *c;
  pthread_mutex_lock(&rt->mu);
  for (c = rt->containers; c; c = c->next)
    report(c, fn, arg);
  pthread_mutex_unlock(&rt->mu);
  return 0;
}

RT_RUNTIME_OPS(process_ops);

/* ---- plugin lifecycle ------------------------------------------------------ */

static proc_rt *the_rt;

static void destroy(proc_rt *rt)
{
  if (rt->reaper_started) {
    pthread_mutex_lock(&rt->mu);
    rt->stopping = 1;
    pthread_mutex_unlock(&rt->mu);
    wake_reaper(rt);
    pthread_join(rt->reaper, NULL);
  }
  while (rt->containers) {
    container *c = rt->containers;
    rt->containers = c->next;
    free_container(c);
  }
  while (rt->sandboxes) {
    sandbox *s = rt->sandboxes;
    rt->sandboxes = s->next;
    free(s->uid);
    free(s->name);
    free(s->ns);
    free(s);
  }
  if (rt->wake[0] >= 0)
    close(rt->wake[0]);
  if (rt->wake[1] >= 0)
    close(rt->wake[1]);
  pthread_cond_destroy(&rt->changed);
  pthread_mutex_destroy(&rt->mu);
  free(rt);
}

/* At exit nothing may outlive the kubelet's bookkeeping: SIGTERM every
 * running container, give them 2 s together, then SIGKILL. */
static void stop_all(proc_rt *rt)
{
  int64_t deadline = now_ns() + 2000000000;
  container *c;

  pthread_mutex_lock(&rt->mu);
  for (c = rt->containers; c; c = c->next)
    if (c->pid > 0)
      kill(-c->pid, SIGTERM);
  for (c = rt->containers; c; c = c->next)
    if (c->pid > 0 && !wait_exit(rt, c, deadline)) {
      kill(-c->pid, SIGKILL);
      wait_exit(rt, c, 0);
    }
  pthread_mutex_unlock(&rt->mu);
}

static int process_init(kapi_plugin *p, const kapi_host_api *host,
                        const char *config, size_t config_len, kapi_error *e)
{
  proc_rt *rt;
  int rc;
  (void)config;
  (void)config_len;

  rc = rt_host_ok(host, e);
  if (rc < 0)
    return rc;
  self = p;
  rt = calloc(1, sizeof *rt);
  if (!rt)
    return -ENOMEM;
  rt->wake[0] = rt->wake[1] = -1;
  pthread_mutex_init(&rt->mu, NULL);
  pthread_cond_init(&rt->changed, NULL);
  if (pipe2(rt->wake, O_CLOEXEC | O_NONBLOCK) < 0 ||
      pthread_create(&rt->reaper, NULL, reaper_main, rt) != 0) {
    host->error_set(e, 500, "InternalError", "cannot start the reaper: %s",
                    strerror(errno));
    destroy(rt);
    return -EAGAIN;
  }
  rt->reaper_started = 1;
  rc = host->register_runtime(p, "process", &process_ops, rt);
  if (rc < 0) {
    destroy(rt);
    return rc;
  }
  the_rt = rt;
  return 0;
}

static void process_fini(kapi_plugin *p)
{
  (void)p;
  if (!the_rt)
    return;
  stop_all(the_rt);
  destroy(the_rt);
  the_rt = NULL;
}

KAPI_PLUGIN_DEFINE(.name = "runtime-process", .version = "0.1.0",
                   .description = "container runtime running each "
                                  "container as a host process group",
                   .license = "Apache-2.0", .init = process_init,
                   .fini = process_fini);
