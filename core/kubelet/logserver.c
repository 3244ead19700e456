/*
 * logserver.c - the kubelet's containerLogs endpoint (see logserver.h).
 *
 * Upstream's kubelet reads the CRI log files through
 * pkg/kubelet/kuberuntime/logs: it parses "<time> <stream> <tag> <text>"
 * records, joins partial (P) records, honours tail/since/limit and, when
 * following, waits for the file to grow until the container exits.
 * Here a connection gets a thread (MHD's thread-per-connection mode), so
 * a follow stream simply polls the file every 100 ms; it ends when the
 * container is no longer running and its last lines were sent, when the
 * client leaves, or when the kubelet stops.
 */
#include "logserver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "kubelet.h"
#include "log.h"
#include "sbuf.h"

#define POLL_US 100000  /* follow: how often the file is checked */
#define EXIT_POLLS 3    /* follow: checks after the exit before the end */

struct kl_logserver {
  kl *k;
  struct MHD_Daemon *mhd;
  int port;
  volatile int stopping;
};

/* What one request streams. */
typedef struct log_stream {
  kl_logserver *srv;
  int fd;
  char cid[KAPI_ID_MAX]; /* follow: the container instance followed */
  int follow, timestamps;
  int64_t limit;         /* bytes still allowed; < 0 no limit */
  struct kapi__sbuf in;  /* bytes read, not yet a whole record */
  struct kapi__sbuf out; /* formatted, not yet sent */
  size_t out_off;
  int exit_polls;
  int ended;
} log_stream;

/* ---- CRI records ----------------------------------------------------------- */

int kl_cri_parse(const char *line, size_t len, const char **ts,
                 size_t *ts_len, const char **text, size_t *text_len,
                 int *full)
{
  const char *end = line + len, *p = memchr(line, ' ', len), *q;
  if (!p)
    return -EINVAL;
  *ts = line;
  *ts_len = (size_t)(p - line);
  q = memchr(p + 1, ' ', (size_t)(end - p - 1)); /* after the stream */
  if (!q || q + 2 > end || (q[1] != 'F' && q[1] != 'P'))
    return -EINVAL;
  *full = q[1] == 'F';
  q += 2;
  if (q < end && *q == ' ')
    q++;
  *text = q;
  *text_len = (size_t)(end - q);
  return 0;
}

int kl_parse_rfc3339_ns(const char *s, size_t len, int64_t *ns)
{
  char buf[64];
  struct tm tm;
  const char *rest;
  int64_t frac = 0, scale = 1000000000;
  if (len >= sizeof buf)
    return -EINVAL;
  memcpy(buf, s, len);
  buf[len] = '\0';
  memset(&tm, 0, sizeof tm);
  rest = strptime(buf, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest)
    return -EINVAL;
  if (*rest == '.') {
    for (rest++; *rest >= '0' && *rest <= '9'; rest++)
      if (scale > 1) {
        scale /= 10;
        frac += (*rest - '0') * scale;
      }
  }
  if (strcmp(rest, "Z"))
    return -EINVAL;
  *ns = (int64_t)timegm(&tm) * 1000000000 + frac;
  return 0;
}

/* Appends one record as the client sees it. */
static void emit(log_stream *ls, const char *ts, size_t ts_len,
                 const char *text, size_t text_len, int full)
{
  if (ls->timestamps) {
    kapi__sb_putn(&ls->out, ts, ts_len);
    kapi__sb_putc(&ls->out, ' ');
  }
  kapi__sb_putn(&ls->out, text, text_len);
  if (full)
    kapi__sb_putc(&ls->out, '\n');
}

/* Moves the whole records of ls->in to ls->out; those older than since_ns
 * (0: all) are skipped and only the last `tail` (< 0: all) are kept. */
static void drain_records(log_stream *ls, int64_t since_ns, int64_t tail)
{
  const char *b = ls->in.s ? ls->in.s : "";
  size_t pos = 0, n = 0, skip = 0, used;
  const char *nl;

  if (tail >= 0) {
    /* Count the records first to know how many to skip. */
    for (pos = 0; (nl = memchr(b + pos, '\n', ls->in.len - pos));
         pos = (size_t)(nl - b) + 1)
      n++;
    skip = (int64_t)n > tail ? n - (size_t)tail : 0;
  }
  for (pos = 0; (nl = memchr(b + pos, '\n', ls->in.len - pos));
       pos = (size_t)(nl - b) + 1) {
    const char *ts, *text;
    size_t ts_len, text_len;
    int64_t t;
    int full;
    if (skip) {
      skip--;
      continue;
    }
    if (kl_cri_parse(b + pos, (size_t)(nl - b) - pos, &ts, &ts_len, &text,
                     &text_len, &full) < 0)
      continue;
    if (since_ns && (kl_parse_rfc3339_ns(ts, ts_len, &t) < 0 || t < since_ns))
      continue;
    emit(ls, ts, ts_len, text, text_len, full);
  }
  used = pos;
  memmove(ls->in.s ? ls->in.s : (char *)b, b + used, ls->in.len - used);
  ls->in.len -= used;
  if (ls->in.s)
    ls->in.s[ls->in.len] = '\0';
}

/* Reads what the file has now; the count of bytes read. */
static size_t read_more(log_stream *ls)
{
  char buf[65536];
  size_t total = 0;
  ssize_t n;
  while ((n = read(ls->fd, buf, sizeof buf)) > 0) {
    kapi__sb_putn(&ls->in, buf, (size_t)n);
    total += (size_t)n;
  }
  return total;
}

/* ---- the container ------------------------------------------------------- */

static void state_cb(void *arg, const kapi_container_status *s)
{
  *(kapi_container_state *)arg = s->state;
}

static int container_running(kl *k, const char *cid)
{
  kapi_container_state st = KAPI_CONTAINER_EXITED;
  if (k->rt->container_status(k->rt_st, cid, state_cb, &st) < 0)
    return 0;
  return st == KAPI_CONTAINER_RUNNING || st == KAPI_CONTAINER_CREATED;
}

/* Finds the log file of ns/pod/ctr (the previous instance's if previous)
 * into path and the followed instance's id into cid; 0, or an HTTP code
 * with msg filled. */
static int locate(kl *k, const char *ns, const char *pod, const char *ctr,
                  int previous, char *path, size_t path_len, char *cid,
                  char *msg, size_t msg_len)
{
  kapi__strmap_iter it = {0};
  kl_pod *p = NULL;
  kl_ctr *c = NULL;
  size_t i;
  int code = 0;

  pthread_mutex_lock(&k->mu);
  while (kapi__strmap_next(k->pods, &it)) {
    kl_pod *q = it.val;
    if (!q->removed && !strcmp(q->ns, ns) && !strcmp(q->name, pod)) {
      p = q;
      break;
    }
  }
  for (i = 0; p && i < p->n_ctrs && !c; i++)
    if (!strcmp(p->ctrs[i].name, ctr))
      c = &p->ctrs[i];
  if (!p) {
    snprintf(msg, msg_len, "pod \"%s\" does not exist", pod);
    code = 404;
  } else if (!c) {
    snprintf(msg, msg_len, "container \"%s\" in pod \"%s\" is not available",
             ctr, pod);
    code = 400;
  } else if (previous && !c->has_last) {
    snprintf(msg, msg_len,
             "previous terminated container \"%s\" in pod \"%s\" not found",
             ctr, pod);
    code = 400;
  } else if (!previous && !c->has_cur) {
    snprintf(msg, msg_len,
             "container \"%s\" in pod \"%s\" is waiting to start: %s", ctr,
             pod, *c->waiting_reason ? c->waiting_reason : "ContainerCreating");
    code = 400;
  } else {
    /* sync.c names each instance's log after its restart count. */
    snprintf(path, path_len, "%s/pods/%s_%s_%s/%s/%d.log", k->opt.root_dir,
             p->ns, p->name, p->uid, c->name,
             (int)c->restart_count - (previous ? 1 : 0));
    snprintf(cid, KAPI_ID_MAX, "%s", previous ? "" : c->cur.id);
  }
  pthread_mutex_unlock(&k->mu);
  return code;
}

/* ---- HTTP ------------------------------------------------------------------ */

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
  log_stream *ls = cls;
  (void)pos;
  for (;;) {
    if (ls->out_off < ls->out.len) {
      size_t n = ls->out.len - ls->out_off;
      if (n > max)
        n = max;
      if (ls->limit >= 0 && (int64_t)n > ls->limit)
        n = (size_t)ls->limit;
      if (n) {
        memcpy(buf, ls->out.s + ls->out_off, n);
        ls->out_off += n;
        if (ls->limit >= 0)
          ls->limit -= (int64_t)n;
        return (ssize_t)n;
      }
      ls->ended = 1; /* limitBytes reached */
    }
    kapi__sb_reset(&ls->out);
    ls->out_off = 0;
    if (ls->ended || !ls->follow || ls->srv->stopping)
      return MHD_CONTENT_READER_END_OF_STREAM;
    if (read_more(ls)) {
      drain_records(ls, 0, -1);
      if (ls->out.len)
        continue;
    }
    /* The runtime's log thread may still be writing the last lines when
     * the process is gone: a few more looks before the end. */
    if (!container_running(ls->srv->k, ls->cid) &&
        ++ls->exit_polls > EXIT_POLLS)
      ls->ended = 1;
    usleep(POLL_US);
    return 0; /* called again; a closed connection ends it */
  }
}

static void stream_free(void *cls)
{
  log_stream *ls = cls;
  close(ls->fd);
  kapi__sb_free(&ls->in);
  kapi__sb_free(&ls->out);
  free(ls);
}

static enum MHD_Result answer_text(struct MHD_Connection *conn, int code,
                                   const char *text)
{
  struct MHD_Response *r = MHD_create_response_from_buffer(
      strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
  enum MHD_Result ret;
  if (!r)
    return MHD_NO;
  MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
  ret = MHD_queue_response(conn, (unsigned)code, r);
  MHD_destroy_response(r);
  return ret;
}

static const char *query(struct MHD_Connection *conn, const char *name)
{
  return MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, name);
}

static int query_bool(struct MHD_Connection *conn, const char *name)
{
  const char *v = query(conn, name);
  return v && (!strcmp(v, "true") || !strcmp(v, "1"));
}

/* A non-negative integer parameter into *v (unchanged when absent); -1
 * when malformed. */
static int query_int(struct MHD_Connection *conn, const char *name,
                     int64_t *v)
{
  const char *s = query(conn, name);
  char *end;
  long long n;
  if (!s)
    return 0;
  errno = 0;
  n = strtoll(s, &end, 10);
  if (errno || end == s || *end || n < 0)
    return -1;
  *v = n;
  return 0;
}

static enum MHD_Result serve_logs(kl_logserver *srv,
                                  struct MHD_Connection *conn,
                                  const char *rest)
{
  char ns[256], pod[256], ctr[256], path[4096], cid[KAPI_ID_MAX];
  char msg[4400], extra;
  int64_t tail = -1, since = 0, limit = -1;
  struct MHD_Response *r;
  enum MHD_Result ret;
  log_stream *ls;
  int code, fd, previous = query_bool(conn, "previous");

  if (sscanf(rest, "%255[^/]/%255[^/]/%255[^/]%c", ns, pod, ctr, &extra) != 3)
    return answer_text(conn, 404, "404 page not found\n");
  if (query_int(conn, "tailLines", &tail) < 0 ||
      query_int(conn, "sinceSeconds", &since) < 0 ||
      query_int(conn, "limitBytes", &limit) < 0)
    return answer_text(conn, 400, "invalid log options\n");
  code = locate(srv->k, ns, pod, ctr, previous, path, sizeof path, cid, msg,
                sizeof msg);
  if (code)
    return answer_text(conn, code, msg);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno != ENOENT) {
    snprintf(msg, sizeof msg, "failed to open log file \"%s\": %s", path,
             strerror(errno));
    return answer_text(conn, 500, msg);
  }
  if (fd < 0) /* started, nothing written yet */
    fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ls = calloc(1, sizeof *ls);
  if (!ls || fd < 0) {
    free(ls);
    if (fd >= 0)
      close(fd);
    return MHD_NO;
  }
  ls->srv = srv;
  ls->fd = fd;
  snprintf(ls->cid, sizeof ls->cid, "%s", cid);
  ls->follow = query_bool(conn, "follow") && !previous;
  ls->timestamps = query_bool(conn, "timestamps");
  ls->limit = limit;
  read_more(ls);
  drain_records(ls, since ? kl_now_ns() - since * KL_NS_PER_S : 0, tail);
  r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024,
                                        stream_read, ls, stream_free);
  if (!r) {
    stream_free(ls);
    return MHD_NO;
  }
  MHD_add_response_header(r, "Content-Type", "text/plain");
  ret = MHD_queue_response(conn, 200, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *data_len, void **con_cls)
{
  static const char prefix[] = "/containerLogs/";
  (void)version, (void)data, (void)con_cls;
  if (*data_len)
    return answer_text(conn, 405, "method not allowed\n");
  LOG_V(4, "kubelet server: %s %s", method, url);
  if (strncmp(url, prefix, sizeof prefix - 1))
    return answer_text(conn, 404, "404 page not found\n");
  if (strcmp(method, "GET"))
    return answer_text(conn, 405, "method not allowed\n");
  return serve_logs(cls, conn, url + sizeof prefix - 1);
}

/* ---- lifecycle ----------------------------------------------------------- */

int kl_logserver_start(kl *k, const char *address, int port,
                       kl_logserver **ret, char *err, size_t errlen)
{
  kl_logserver *s = calloc(1, sizeof *s);
  const union MHD_DaemonInfo *info;
  struct sockaddr_in addr;

  if (!s)
    return -ENOMEM;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, address, &addr.sin_addr) != 1) {
    snprintf(err, errlen, "invalid --address %s", address);
    free(s);
    return -EINVAL;
  }
  s->k = k;
  s->mhd = MHD_start_daemon(
      MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0,
      NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &addr,
      MHD_OPTION_CONNECTION_TIMEOUT, 0u, MHD_OPTION_END);
  if (!s->mhd) {
    snprintf(err, errlen, "cannot listen on %s:%d: %s", address, port,
             strerror(errno));
    free(s);
    return -EADDRINUSE;
  }
  info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
  s->port = info ? info->port : port;
  *ret = s;
  return 0;
}

int kl_logserver_port(const kl_logserver *s)
{
  return s ? s->port : 0;
}

void kl_logserver_stop(kl_logserver *s)
{
  if (!s)
    return;
  s->stopping = 1;
  MHD_stop_daemon(s->mhd);
  free(s);
}
