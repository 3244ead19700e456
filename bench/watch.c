/*
 * watch.c - kapi-bench-watch: watch fan-out, create -> delivery latency.
 *
 * Starts its own kapi-apiserver (see apiserver.h), opens --watchers
 * watches on the pods of one namespace, each on its own raw TCP
 * connection, and creates realistic ~1.5 KB Pods (bench_pod_json) there
 * at --rate pods/s for --duration seconds.  Every watcher must see every
 * pod: a delivery's latency runs from the moment the create request was
 * handed to libcurl (recorded by pod name) to the moment the event's last
 * byte was read.
 *
 * The watchers are one thread: nonblocking sockets under epoll, a small
 * HTTP/1.1 chunked decoder, and per event only the first bytes looked at
 * (type and metadata.name come first) plus a memchr for its end: what
 * the client costs is the kernel's TCP receive path, about 0.65 of a core
 * at 200,000 deliveries/s here (the _client_cpu line says it per run, and
 * --client-only shows the client's ceiling without an apiserver).
 * The creator is another thread, open loop: pod i leaves at start + i /
 * rate on one of up to 16 keep-alive connections, whether or not earlier
 * creates have been answered.
 *
 * Prints, for W watchers and R pods/s:
 *   watch_wW_rR_p50 1.234 ms
 *   watch_wW_rR_p99 4.567 ms
 *   watch_wW_rR_max 9.000 ms
 *   watch_wW_rR_deliveries_per_second 10000 deliveries/s
 *   watch_wW_rR_create_rate 100 pods/s   (achieved by the creator)
 *   watch_wW_rR_missing 0 count          (deliveries that never came)
 * With --saturate the rate is stepped up (x --step) from --rate until p99
 * passes --p99-limit ms, deliveries go missing or the creator cannot keep
 * the rate, and the last good step is reported as
 *   watch_wW_capacity 150000 deliveries/s
 *   watch_wW_capacity_p99 80.000 ms
 * Exits 1 if a delivery went missing (outside --saturate).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, strcasestr */
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "apiserver.h"
#include "common.h"

#define NAMESPACE "watch"
#define HEAD_MAX 256        /* bytes of an event kept: type and name */
#define HDR_MAX 4096        /* response headers */
#define CREATE_CONNS 16     /* creates in flight at most */
#define MAX_STEPS 16

typedef struct watch_opts {
  bench_server_opts server;
  long watchers;
  double rate, duration, p99_limit, step;
  int saturate;
  int client_only;
} watch_opts;

/* ---- one watch connection ---------------------------------------------- */

enum { ST_HEADERS, ST_SIZE, ST_DATA, ST_DATA_END, ST_DEAD };

typedef struct conn {
  int fd, state;
  size_t chunk_left;  /* payload bytes left in this chunk */
  size_t line_len;    /* headers, or the chunk-size line, so far */
  char line[HDR_MAX];
  size_t head_len;    /* first bytes of the event being read */
  char head[HEAD_MAX + 1]; /* NUL-terminated when parsed */
} conn;

/* What the watcher loop and the creator share for one step.  sent[] is
 * written by the creator before each request leaves and read by the
 * watcher loop after the server has answered it through a watch, so a
 * release/acquire pair is all the ordering needed. */
typedef struct step {
  long base, count;       /* pods with seqs [base, base + count) */
  double rate;
  _Atomic int64_t *sent;  /* ns (CLOCK_MONOTONIC) per pod; 0 = not sent */
  float *lat_ms;          /* one per delivery */
  long delivered, expected;
  double first_delivery, last_delivery;
  /* creator results */
  atomic_long create_errors; /* read by the loop while the creator runs */
  double create_first, create_last;
  atomic_int creator_done;
} step;

typedef struct fake fake;

typedef struct bench {
  const watch_opts *o;
  const char *server;
  int port;
  pid_t server_pid;
  char prefix[64];        /* pod names are <prefix>-<seq> */
  size_t prefix_len;
  conn *conns;
  long n_conns, n_ready, n_dead;
  int ep;
  step *cur;
  long next_seq;
  fake *fake;             /* --client-only */
} bench;

static void usage(FILE *f)
{
  fputs(
    "Usage: kapi-bench-watch [options]\n"
    "\n"
    "Starts a kapi-apiserver, opens W watches on one namespace's pods,\n"
    "creates pods at R/s and prints create -> delivery latency as `name\n"
    "value unit` lines.\n"
    "\n"
    BENCH_SERVER_USAGE
    "  --watchers W        watch connections (default 100)\n"
    "  --rate R            pods created per second (default 100)\n"
    "  --duration S        seconds per rate (default 10; 5 with --saturate)\n"
    "  --saturate          step the rate up until p99 > --p99-limit\n"
    "  --step F            factor of each step up (default 1.5)\n"
    "  --p99-limit MS      (default 100)\n"
    "  --client-only       no apiserver: a thread of ours writes ready-made\n"
    "                      3.7 KB events to every watch over loopback TCP,\n"
    "                      to show this client's own ceiling\n"
    "  -h, --help          this help\n",
    f);
}

static int parse_args(int argc, char **argv, watch_opts *o)
{
  static const struct option longopts[] = {
    BENCH_SERVER_LONGOPTS,
    { "watchers", required_argument, NULL, 'W' },
    { "rate", required_argument, NULL, 'r' },
    { "duration", required_argument, NULL, 'd' },
    { "saturate", no_argument, NULL, 'S' },
    { "step", required_argument, NULL, 'f' },
    { "client-only", no_argument, NULL, 'O' },
    { "p99-limit", required_argument, NULL, 'L' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c, r;
  long v;

  while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
    if ((r = bench_server_opt(&o->server, c, optarg)) < 0)
      return -1;
    if (r)
      continue;
    switch (c) {
    case 'W': r = bench_parse_long("--watchers", optarg, 1, 10000,
                                   &o->watchers);
      break;
    case 'r':
      r = bench_parse_long("--rate", optarg, 1, 100000, &v);
      o->rate = (double)v;
      break;
    case 'd': r = bench_parse_seconds("--duration", optarg, &o->duration);
      break;
    case 'S': o->saturate = 1; break;
    case 'f': {
      char *end;

      o->step = strtod(optarg, &end);
      if (*end || !(o->step > 1.01 && o->step <= 10)) {
        fprintf(stderr, "--step: want a factor from 1.01 to 10, not '%s'\n",
                optarg);
        r = -1;
      }
      break;
    }
    case 'O': o->client_only = 1; break;
    case 'L':
      r = bench_parse_long("--p99-limit", optarg, 1, 100000, &v);
      o->p99_limit = (double)v;
      break;
    case 'h': usage(stdout); exit(0);
    default: return -1;
    }
    if (r < 0)
      return -1;
  }
  if (optind < argc) {
    fprintf(stderr, "unexpected argument '%s'\n", argv[optind]);
    return -1;
  }
  if (!o->duration)
    o->duration = o->saturate ? 5 : 10;
  return 0;
}

static int64_t now_ns(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- events ---------------------------------------------------------------- */

/* One complete event, of which head holds the first bytes. */
static void on_event(bench *b, conn *c, int64_t now)
{
  static const char added[] = "{\"type\":\"ADDED\"";
  static const char name[] = "\"name\":\"";
  step *s = b->cur;
  const char *p, *end = c->head + c->head_len;
  char *num_end;
  int64_t sent;
  long seq;

  if (!s || c->head_len < sizeof added ||
      memcmp(c->head, added, sizeof added - 1))
    return;
  c->head[c->head_len] = '\0'; /* strtol below stops there at the latest */
  /* The object's first "name" is metadata.name: metadata comes first. */
  p = memmem(c->head, c->head_len, name, sizeof name - 1);
  if (!p || (size_t)(end - p) < sizeof name + b->prefix_len + 1)
    return;
  p += sizeof name - 1;
  if (memcmp(p, b->prefix, b->prefix_len) || p[b->prefix_len] != '-')
    return;
  seq = strtol(p + b->prefix_len + 1, &num_end, 10);
  if (num_end >= end || *num_end != '"' || seq < s->base ||
      seq >= s->base + s->count)
    return; /* a late one from an earlier step */
  sent = atomic_load_explicit(&s->sent[seq - s->base], memory_order_acquire);
  if (!sent || s->delivered >= s->expected)
    return;
  if (!s->delivered)
    s->first_delivery = now / 1e9;
  s->lat_ms[s->delivered++] = (float)((now - sent) / 1e6);
  s->last_delivery = now / 1e9;
}

/* Event bytes out of a chunk: keep the head, find the end. */
static void feed_event(bench *b, conn *c, const char *p, size_t n,
                       int64_t now)
{
  while (n > 0) {
    const char *nl = memchr(p, '\n', n);
    size_t take = nl ? (size_t)(nl - p) : n;

    if (c->head_len < HEAD_MAX) {
      size_t k = take < HEAD_MAX - c->head_len ? take
                                               : HEAD_MAX - c->head_len;
      memcpy(c->head + c->head_len, p, k);
      c->head_len += k;
    }
    if (!nl)
      return;
    if (c->head_len)
      on_event(b, c, now);
    c->head_len = 0;
    p = nl + 1;
    n -= take + 1;
  }
}

static void conn_dead(bench *b, conn *c, const char *why)
{
  if (c->state == ST_DEAD)
    return;
  if (b->n_dead++ == 0)
    fprintf(stderr, "watch connection lost: %s\n", why);
  c->state = ST_DEAD;
  epoll_ctl(b->ep, EPOLL_CTL_DEL, c->fd, NULL);
}

/* Accumulates a CRLF-terminated line (headers: up to the blank line);
 * returns the bytes consumed, with *done set when it is complete. */
static size_t take_line(conn *c, const char *p, size_t n, int headers,
                        int *done)
{
  size_t i;

  *done = 0;
  for (i = 0; i < n; i++) {
    if (c->line_len < sizeof c->line - 1)
      c->line[c->line_len++] = p[i];
    if (p[i] != '\n')
      continue;
    if (!headers ||
        (c->line_len >= 4 && !memcmp(c->line + c->line_len - 4, "\r\n\r\n", 4))) {
      c->line[c->line_len] = '\0';
      *done = 1;
      return i + 1;
    }
  }
  return n;
}

/* The HTTP/1.1 chunked decoder. */
static void feed(bench *b, conn *c, const char *p, size_t n, int64_t now)
{
  while (n > 0 && c->state != ST_DEAD) {
    size_t k;
    int done;

    switch (c->state) {
    case ST_HEADERS:
      k = take_line(c, p, n, 1, &done);
      if (done) {
        if (strncmp(c->line, "HTTP/1.1 200", 12) ||
            !strcasestr(c->line, "transfer-encoding: chunked")) {
          conn_dead(b, c, c->line);
          return;
        }
        c->line_len = 0;
        c->state = ST_SIZE;
        b->n_ready++;
      }
      break;
    case ST_SIZE:
      k = take_line(c, p, n, 0, &done);
      if (done) {
        c->chunk_left = strtoul(c->line, NULL, 16);
        c->line_len = 0;
        if (!c->chunk_left) {
          conn_dead(b, c, "the server ended the watch");
          return;
        }
        c->state = ST_DATA;
      }
      break;
    case ST_DATA:
      k = n < c->chunk_left ? n : c->chunk_left;
      feed_event(b, c, p, k, now);
      c->chunk_left -= k;
      if (!c->chunk_left)
        c->state = ST_DATA_END;
      break;
    default: /* ST_DATA_END: the CRLF after a chunk */
      k = take_line(c, p, n, 0, &done);
      if (done)
        c->state = ST_SIZE;
      break;
    }
    p += k;
    n -= k;
  }
}

/* ---- the watcher loop -------------------------------------------------------- */

static int conn_open(bench *b, conn *c)
{
  struct sockaddr_in a = { .sin_family = AF_INET,
                           .sin_port = htons((uint16_t)b->port) };
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
  char req[256];
  int one = 1, len;

  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd < 0)
    return -errno;
  len = snprintf(req, sizeof req,
                 "GET /api/v1/namespaces/" NAMESPACE "/pods?watch=1"
                 "&timeoutSeconds=86400 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Accept: application/json\r\n\r\n");
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(c->fd, (struct sockaddr *)&a, sizeof a) < 0 ||
      write(c->fd, req, (size_t)len) != len)
    return -errno;
  /* Nonblocking from here: one read per readiness, then the next. */
  if (fcntl(c->fd, F_SETFL, O_NONBLOCK) < 0 ||
      epoll_ctl(b->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
    return -errno;
  return 0;
}

/* Runs the loop until done(b) or the deadline; 0, or -1 at the deadline. */
static int poll_until(bench *b, int (*done)(const bench *), double deadline)
{
  static char buf[256 * 1024];
  struct epoll_event evs[256];

  while (!done(b)) {
    int n = epoll_wait(b->ep, evs, 256, 20);

    if (n < 0 && errno != EINTR)
      return -1;
    for (int i = 0; i < n; i++) {
      conn *c = evs[i].data.ptr;
      ssize_t got = read(c->fd, buf, sizeof buf);

      if (got > 0)
        feed(b, c, buf, (size_t)got, now_ns());
      else if (got == 0 || (errno != EAGAIN && errno != EINTR))
        conn_dead(b, c, got == 0 ? "closed by the server" : strerror(errno));
    }
    if (bench_now() > deadline)
      return -1;
  }
  return 0;
}

static int all_ready(const bench *b)
{
  return b->n_ready + b->n_dead >= b->n_conns;
}

static int fake_accept(fake *f);

static int open_watches(bench *b)
{
  struct rlimit rl;

  /* A thousand watchers want more descriptors than the usual 1024, and
   * so does the server, which inherits the limit. */
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  b->ep = epoll_create1(EPOLL_CLOEXEC);
  b->conns = calloc((size_t)b->n_conns, sizeof *b->conns);
  if (b->ep < 0 || !b->conns)
    return -1;
  for (long i = 0; i < b->n_conns; i++)
    b->conns[i].fd = -1;
  for (long i = 0; i < b->n_conns; i++) {
    int r = conn_open(b, &b->conns[i]);

    if (r < 0) {
      fprintf(stderr, "watch %ld: %s\n", i, strerror(-r));
      return -1;
    }
  }
  if (b->fake && fake_accept(b->fake) < 0)
    return -1;
  if (poll_until(b, all_ready, bench_now() + 30) < 0 || b->n_dead) {
    fprintf(stderr, "%ld of %ld watches started\n", b->n_ready - b->n_dead,
            b->n_conns);
    return -1;
  }
  return 0;
}

static void close_watches(bench *b)
{
  for (long i = 0; b->conns && i < b->n_conns; i++)
    if (b->conns[i].fd >= 0)
      close(b->conns[i].fd);
  free(b->conns);
  b->conns = NULL;
  if (b->ep >= 0)
    close(b->ep);
  b->ep = -1;
}

/* ---- the creator --------------------------------------------------------------- */

typedef struct creator {
  bench *b;
  step *s;
  CURLM *multi;
  struct curl_slist *headers;
  char *url;
  CURL *easy[CREATE_CONNS];
  bench_buf body[CREATE_CONNS];
  int busy[CREATE_CONNS];
} creator;

static int creator_send(creator *cr, int h, long seq)
{
  char name[96];
  int64_t t;

  snprintf(name, sizeof name, "%s-%ld", cr->b->prefix, seq);
  if (bench_pod_json(&cr->body[h], NAMESPACE, name) < 0 ||
      curl_easy_setopt(cr->easy[h], CURLOPT_POSTFIELDSIZE,
                       (long)cr->body[h].len) != CURLE_OK ||
      curl_easy_setopt(cr->easy[h], CURLOPT_POSTFIELDS, cr->body[h].data))
    return -1;
  t = now_ns();
  atomic_store_explicit(&cr->s->sent[seq - cr->s->base], t,
                        memory_order_release);
  if (seq == cr->s->base)
    cr->s->create_first = t / 1e9;
  cr->s->create_last = t / 1e9;
  cr->busy[h] = 1;
  return curl_multi_add_handle(cr->multi, cr->easy[h]) == CURLM_OK ? 0 : -1;
}

static void creator_reap(creator *cr)
{
  CURLMsg *m;
  int left;

  while ((m = curl_multi_info_read(cr->multi, &left))) {
    long status = 0;

    if (m->msg != CURLMSG_DONE)
      continue;
    curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
    if (m->data.result != CURLE_OK || status != 201) {
      if (cr->s->create_errors++ == 0)
        fprintf(stderr, "create failed: %s, HTTP %ld\n",
                curl_easy_strerror(m->data.result), status);
    }
    for (int h = 0; h < CREATE_CONNS; h++)
      if (cr->easy[h] == m->easy_handle)
        cr->busy[h] = 0;
    curl_multi_remove_handle(cr->multi, m->easy_handle);
  }
}

static int free_handle(const creator *cr)
{
  for (int h = 0; h < CREATE_CONNS; h++)
    if (!cr->busy[h])
      return h;
  return -1;
}

static void *creator_main(void *arg)
{
  creator *cr = arg;
  step *s = cr->s;
  double start = bench_now();
  long i = 0;
  int inflight = 1;

  while (i < s->count || inflight) {
    double now = bench_now(), due = start + (double)i / s->rate;
    int h, running, wait_ms = 100;

    while (i < s->count && due <= now && (h = free_handle(cr)) >= 0) {
      if (creator_send(cr, h, s->base + i) < 0) {
        s->create_errors++;
        i = s->count;
        break;
      }
      due = start + (double)++i / s->rate;
    }
    curl_multi_perform(cr->multi, &running);
    creator_reap(cr);
    inflight = 0;
    for (h = 0; h < CREATE_CONNS; h++)
      inflight |= cr->busy[h];
    /* Sleep until the next pod is due (rounded up: never spin), or,
     * when every connection is busy, until one is free. */
    if (i < s->count && free_handle(cr) >= 0) {
      double d = (due - bench_now()) * 1e3;
      wait_ms = d <= 0 ? 0 : (int)d + ((double)(int)d < d);
    }
    curl_multi_poll(cr->multi, NULL, 0, wait_ms, NULL);
  }
  atomic_store(&s->creator_done, 1);
  return NULL;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
  (void)p, (void)arg;
  return size * n;
}

static int creator_init(creator *cr, bench *b)
{
  memset(cr, 0, sizeof *cr);
  cr->b = b;
  cr->url = bench_url(b->server, "/api/v1/namespaces/" NAMESPACE "/pods");
  cr->multi = curl_multi_init();
  cr->headers = curl_slist_append(NULL, "Content-Type: application/json");
  if (cr->headers)
    cr->headers = curl_slist_append(cr->headers, "Expect:");
  if (!cr->url || !cr->multi || !cr->headers)
    return -1;
  for (int h = 0; h < CREATE_CONNS; h++) {
    CURL *e = cr->easy[h] = curl_easy_init();

    if (!e || curl_easy_setopt(e, CURLOPT_URL, cr->url) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, cr->headers) ||
        curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L) ||
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) ||
        curl_easy_setopt(e, CURLOPT_TIMEOUT, 60L) ||
        /* the answer is not needed: the watch shows the pod */
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard))
      return -1;
  }
  return 0;
}

static void creator_free(creator *cr)
{
  for (int h = 0; h < CREATE_CONNS; h++) {
    if (cr->easy[h]) {
      curl_multi_remove_handle(cr->multi, cr->easy[h]);
      curl_easy_cleanup(cr->easy[h]);
    }
    bench_buf_free(&cr->body[h]);
  }
  if (cr->multi)
    curl_multi_cleanup(cr->multi);
  curl_slist_free_all(cr->headers);
  free(cr->url);
}

/* ---- the client's own ceiling ------------------------------------------------- */

/* With --client-only the "server" is a thread of ours: it accepts the
 * watches on a loopback listener, answers each with chunked headers and
 * then, paced like the creator, writes one ready-made event per pod to
 * every watch.  Events are padded to the size of the apiserver's (a
 * bench pod with managedFields), so the watcher loop does the same work
 * per delivery as against the real server. */
#define FAKE_EVENT_SIZE 3740

struct fake {
  bench *b;
  step *s;
  int lfd;
  int *fds;
  bench_buf pod, ev;
};

static int fake_listen(fake *f, bench *b)
{
  struct sockaddr_in a = { .sin_family = AF_INET };
  socklen_t len = sizeof a;

  memset(f, 0, sizeof *f);
  f->b = b;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  f->fds = calloc((size_t)b->n_conns, sizeof *f->fds);
  for (long i = 0; f->fds && i < b->n_conns; i++)
    f->fds[i] = -1;
  f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (!f->fds || f->lfd < 0 ||
      bind(f->lfd, (struct sockaddr *)&a, sizeof a) < 0 ||
      getsockname(f->lfd, (struct sockaddr *)&a, &len) < 0 ||
      listen(f->lfd, (int)b->n_conns) < 0)
    return -1;
  b->port = ntohs(a.sin_port);
  return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
  while (n > 0) {
    ssize_t w = write(fd, p, n);

    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int fake_accept(fake *f)
{
  static const char headers[] =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";
  int one = 1;

  for (long i = 0; i < f->b->n_conns; i++) {
    f->fds[i] = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (f->fds[i] < 0 ||
        write_all(f->fds[i], headers, sizeof headers - 1) < 0)
      return -1;
    setsockopt(f->fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return 0;
}

/* One chunk holding the ADDED event of pod seq. */
static int fake_event(fake *f, long seq)
{
  char name[96];
  size_t len;

  snprintf(name, sizeof name, "%s-%ld", f->b->prefix, seq);
  if (bench_pod_json(&f->pod, NAMESPACE, name) < 0)
    return -1;
  len = strlen("{\"type\":\"ADDED\",\"object\":") + f->pod.len + 2;
  bench_buf_reset(&f->ev);
  if (bench_buf_printf(&f->ev, "%zx\r\n{\"type\":\"ADDED\",\"object\":%s",
                       len < FAKE_EVENT_SIZE ? (size_t)FAKE_EVENT_SIZE : len,
                       f->pod.data) < 0)
    return -1;
  /* JSON allows the padding as whitespace before the closing brace. */
  while (len < FAKE_EVENT_SIZE) {
    if (bench_buf_append(&f->ev, " ", 1) < 0)
      return -1;
    len++;
  }
  return bench_buf_append(&f->ev, "}\n\r\n", 4);
}

static void *fake_main(void *arg)
{
  fake *f = arg;
  step *s = f->s;
  double start = bench_now();

  for (long i = 0; i < s->count; i++) {
    double d = start + (double)i / s->rate - bench_now();
    int64_t t;

    if (d > 0)
      usleep((useconds_t)(d * 1e6));
    if (fake_event(f, s->base + i) < 0) {
      s->create_errors++;
      break;
    }
    t = now_ns();
    atomic_store_explicit(&s->sent[i], t, memory_order_release);
    if (i == 0)
      s->create_first = t / 1e9;
    s->create_last = t / 1e9;
    for (long c = 0; c < f->b->n_conns; c++)
      if (write_all(f->fds[c], f->ev.data, f->ev.len) < 0) {
        s->create_errors++;
        i = s->count;
        break;
      }
  }
  atomic_store(&s->creator_done, 1);
  return NULL;
}

static void fake_free(fake *f)
{
  for (long i = 0; f->fds && i < f->b->n_conns; i++)
    if (f->fds[i] >= 0)
      close(f->fds[i]);
  free(f->fds);
  if (f->lfd >= 0)
    close(f->lfd);
  bench_buf_free(&f->pod);
  bench_buf_free(&f->ev);
}

/* ---- steps --------------------------------------------------------------------- */

static int step_done_or_failed(const bench *b)
{
  const step *s = b->cur;

  if (s->delivered >= s->expected)
    return 1;
  /* A failed create never shows on a watch; a dead watch shows nothing. */
  return atomic_load(&s->creator_done) &&
         (b->n_dead || s->delivered >= (s->count - s->create_errors) *
                                          b->n_conns);
}

static int cmp_float(const void *a, const void *b)
{
  float x = *(const float *)a, y = *(const float *)b;

  return (x > y) - (x < y);
}

static double percentile(const float *v, long n, unsigned percent)
{
  long rank = (n * (long)percent + 99) / 100;

  return n ? v[rank ? rank - 1 : 0] : 0;
}

typedef struct step_result {
  double p50, p99, max, deliveries_per_s, create_rate;
  double client_cpu, server_cpu; /* cores busy during the step */
  long missing, create_errors;
} step_result;

static void summarize(const bench *b, step *s, step_result *r)
{
  /* The deliveries' own window, plus one creation interval: n pods
   * paced 1/rate apart occupy n/rate seconds, and the first to the last
   * delivery spans only n - 1 of those intervals.  At a steady latency
   * this gives exactly watchers x rate when every delivery comes; any
   * backlog stretches the window and lowers it. */
  double span = s->last_delivery - s->first_delivery +
                (s->rate > 0 ? 1 / s->rate : 0);

  qsort(s->lat_ms, (size_t)s->delivered, sizeof *s->lat_ms, cmp_float);
  r->p50 = percentile(s->lat_ms, s->delivered, 50);
  r->p99 = percentile(s->lat_ms, s->delivered, 99);
  r->max = s->delivered ? s->lat_ms[s->delivered - 1] : 0;
  r->deliveries_per_s = span > 0 ? s->delivered / span : 0;
  r->create_rate = s->count > 1 && s->create_last > s->create_first
                       ? (s->count - 1) / (s->create_last - s->create_first)
                       : 0;
  r->missing = s->expected - s->delivered;
  r->create_errors = s->create_errors;
  (void)b;
}

/* CPU seconds (user + system) that pid has used so far, -1 if unknown;
 * who is saturated tells whether a figure is the server's or ours. */
static double cpu_seconds(pid_t pid)
{
  char path[64], buf[1024], *p;
  unsigned long ut, st;
  size_t n;
  FILE *f;

  snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
  if (!(f = fopen(path, "r")))
    return -1;
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  /* Fields 14 and 15, counted after the ")" that ends the command. */
  if (!(p = strrchr(buf, ')')) ||
      sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
             &ut, &st) != 2)
    return -1;
  return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Creates rate * duration pods (at least one) while the loop counts
 * their deliveries; 0, or -1 if the step could not run at all. */
static int run_step(bench *b, creator *cr, double rate, double duration,
                    step_result *r)
{
  step s = { .base = b->next_seq, .rate = rate };
  pthread_t th;
  double deadline, t0, t1, c0, s0;
  int rc = -1;

  s.count = (long)(rate * duration + 0.5);
  if (s.count < 1)
    s.count = 1;
  s.expected = s.count * b->n_conns;
  s.sent = calloc((size_t)s.count, sizeof *s.sent);
  s.lat_ms = malloc((size_t)s.expected * sizeof *s.lat_ms);
  if (!s.sent || !s.lat_ms)
    goto out;
  b->cur = &s;
  if (cr)
    cr->s = &s;
  t0 = bench_now();
  deadline = t0 + 2 * duration + 10;
  c0 = cpu_seconds(getpid());
  s0 = cpu_seconds(b->server_pid);
  if (b->fake)
    b->fake->s = &s;
  if (pthread_create(&th, NULL, b->fake ? fake_main : creator_main,
                     b->fake ? (void *)b->fake : cr) != 0)
    goto out;
  poll_until(b, step_done_or_failed, deadline);
  pthread_join(th, NULL);
  t1 = bench_now() - t0;
  b->next_seq += s.count;
  summarize(b, &s, r);
  r->client_cpu = t1 > 0 ? (cpu_seconds(getpid()) - c0) / t1 : 0;
  r->server_cpu = t1 > 0 ? (cpu_seconds(b->server_pid) - s0) / t1 : 0;
  rc = 0;
out:
  b->cur = NULL;
  free(s.sent);
  free(s.lat_ms);
  return rc;
}

static void print_step(const bench *b, double rate, const step_result *r)
{
  char l[64];

  snprintf(l, sizeof l, "watch_w%ld_r%.0f", b->n_conns, rate);
  printf("%s_p50 %.3f ms\n", l, r->p50);
  printf("%s_p99 %.3f ms\n", l, r->p99);
  printf("%s_max %.3f ms\n", l, r->max);
  printf("%s_deliveries_per_second %.0f deliveries/s\n", l,
         r->deliveries_per_s);
  printf("%s_create_rate %.0f pods/s\n", l, r->create_rate);
  printf("%s_missing %ld count\n", l, r->missing);
  printf("%s_client_cpu %.2f cores\n", l, r->client_cpu);
  if (b->server_pid)
    printf("%s_server_cpu %.2f cores\n", l, r->server_cpu);
  if (r->create_errors)
    printf("%s_create_errors %ld count\n", l, r->create_errors);
  fflush(stdout);
}

static int measure(bench *b, creator *cr)
{
  const watch_opts *o = b->o;
  step_result r, best = { 0 };
  double rate = o->rate, best_rate = 0;

  for (int i = 0; i < (o->saturate ? MAX_STEPS : 1); i++, rate *= o->step) {
    int good;

    if (run_step(b, cr, rate, o->duration, &r) < 0)
      return -1;
    print_step(b, rate, &r);
    good = !r.missing && !r.create_errors && r.p99 <= o->p99_limit &&
           r.create_rate >= 0.9 * rate;
    if (!o->saturate)
      return r.missing || r.create_errors ? 1 : 0;
    if (!good || b->n_dead)
      break;
    best = r;
    best_rate = rate;
  }
  printf("watch_w%ld_capacity %.0f deliveries/s\n", b->n_conns,
         best.deliveries_per_s);
  printf("watch_w%ld_capacity_rate %.0f pods/s\n", b->n_conns, best_rate);
  printf("watch_w%ld_capacity_p99 %.3f ms\n", b->n_conns, best.p99);
  return 0;
}

static int run_client_only(const watch_opts *o)
{
  bench b = { .o = o, .n_conns = o->watchers, .ep = -1 };
  fake f;
  step_result sync;
  int rc = 1;

  b.fake = &f;
  bench_unique_prefix(b.prefix, sizeof b.prefix);
  b.prefix_len = strlen(b.prefix);
  if (fake_listen(&f, &b) < 0 || open_watches(&b) < 0 ||
      run_step(&b, NULL, 1, 1, &sync) < 0 || sync.missing) {
    fprintf(stderr, "cannot set up the client-only run\n");
    goto out;
  }
  printf("watch_client_only 1 bool\n");
  rc = measure(&b, NULL) != 0;
out:
  close_watches(&b);
  fake_free(&f);
  return rc;
}

static int run(const void *arg)
{
  const watch_opts *o = arg;
  bench_apiserver s;
  bench b = { .o = o, .n_conns = o->watchers, .ep = -1 };
  creator cr;
  step_result sync;
  int rc = 1;

  if (o->client_only)
    return run_client_only(o);
  memset(&cr, 0, sizeof cr);
  if (bench_apiserver_init(&s, &o->server, "watch") < 0 ||
      bench_apiserver_start(&s, 30, NULL) < 0 ||
      bench_create_namespace(s.url, NAMESPACE) < 0)
    goto out;
  b.server = s.url;
  b.port = atoi(strrchr(s.url, ':') + 1);
  b.server_pid = s.pid;
  bench_unique_prefix(b.prefix, sizeof b.prefix);
  b.prefix_len = strlen(b.prefix);
  if (creator_init(&cr, &b) < 0 || open_watches(&b) < 0)
    goto out;
  /* One pod seen by every watcher says they are all in place. */
  if (run_step(&b, &cr, 1, 1, &sync) < 0 || sync.missing) {
    fprintf(stderr, "the first pod reached %ld of %ld watchers\n",
            b.n_conns - sync.missing, b.n_conns);
    goto out;
  }
  printf("watch_fsync %d bool\n", s.fsync);
  rc = measure(&b, &cr) != 0;
  printf("watch_server_rss %.1f MB\n", bench_proc_kb(s.pid, "VmRSS") / 1024.0);
out:
  close_watches(&b);
  creator_free(&cr);
  bench_apiserver_free(&s);
  return rc;
}

int main(int argc, char **argv)
{
  watch_opts o = { .watchers = 100, .rate = 100, .p99_limit = 100,
                   .step = 1.5 };

  bench_server_opts_init(&o.server);
  if (parse_args(argc, argv, &o) < 0) {
    usage(stderr);
    return 2;
  }
  return bench_with_curl(run, &o);
}
