/*
 * test_informer.c - informers against a real kapi-apiserver: the first
 * sync (paged), add/update/delete delivered in order with the right old
 * and new objects, label and field selectors (with objects moving in and
 * out of them), a handler added late, resync, the factory sharing one
 * informer per type, and the apiserver killed and restarted on the same
 * data mid-watch with changes made meanwhile: the informer must relist
 * and end with exactly the server's state, its handlers having seen
 * every object appear and go exactly once.
 *
 * Waiting on the server uses generous deadlines only so that a lost
 * event fails the test instead of hanging it; nothing asserts on time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "client.h"
#include "informer.h"
#include "log.h"
#include "server_fixture.h"

#define DEADLINE_S 60

static kts_server srv;
static kapi_client *cli;

static const kapi_gvr PODS = { "", "v1", "pods", 1 };
static const kapi_gvr NODES = { "", "v1", "nodes", 0 };
static const kapi_gvr NAMESPACES = { "", "v1", "namespaces", 0 };

/* ---- talking to the server -------------------------------------------- */

static kapi_client *new_client(const char *url)
{
  kapi_client_config cfg = { .server = url, .qps = -1 };
  kapi_client *c = NULL;
  char err[256] = "";

  if (kapi_client_new(&cfg, &c, err, sizeof err) < 0)
    fail_msg("kapi_client_new: %s", err);
  return c;
}

static kj *parse(const char *text)
{
  char err[128];
  kj *v = NULL;

  if (kj_parse(text, strlen(text), &v, err, sizeof err) < 0)
    fail_msg("bad JSON in test: %s", err);
  return v;
}

static char *rv_of(const kj *obj)
{
  const char *rv = kj_get_str(kj_get(obj, "metadata"), "resourceVersion");

  assert_non_null(rv);
  return strdup(rv);
}

static void create_ns(const char *name)
{
  char buf[256];
  kj *obj, *ret = NULL;
  kapi_result res;

  snprintf(buf, sizeof buf, "{\"metadata\":{\"name\":\"%s\"}}", name);
  obj = parse(buf);
  if (kapi_client_create(cli, &NAMESPACES, NULL, obj, &ret, &res) < 0)
    fail_msg("create namespace %s: %d %s", name, res.code, res.message);
  kj_free(obj);
  kj_free(ret);
}

/* Creates a pod; returns its resourceVersion (caller frees). */
static char *create_pod_with(kapi_client *c, const char *ns, const char *name,
                             const char *app)
{
  char buf[512];
  kj *obj, *ret = NULL;
  kapi_result res;
  char *rv;

  snprintf(buf, sizeof buf,
           "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
           "\"%s\",\"labels\":{\"app\":\"%s\"}},\"spec\":{\"containers\":"
           "[{\"name\":\"c\",\"image\":\"busybox\"}]}}",
           name, app);
  obj = parse(buf);
  if (kapi_client_create(c, &PODS, ns, obj, &ret, &res) < 0)
    fail_msg("create pod %s/%s: %d %s", ns, name, res.code, res.message);
  rv = rv_of(ret);
  kj_free(obj);
  kj_free(ret);
  return rv;
}

static char *create_pod(const char *ns, const char *name, const char *app)
{
  return create_pod_with(cli, ns, name, app);
}

static char *label_pod_with(kapi_client *c, const char *ns, const char *name,
                            const char *app)
{
  char patch[256];
  kj *ret = NULL;
  kapi_result res;
  char *rv;

  snprintf(patch, sizeof patch,
           "{\"metadata\":{\"labels\":{\"app\":\"%s\"}}}", app);
  if (kapi_client_patch(c, &PODS, ns, name, NULL,
                        "application/merge-patch+json", patch, &ret,
                        &res) < 0)
    fail_msg("patch pod %s/%s: %d %s", ns, name, res.code, res.message);
  rv = rv_of(ret);
  kj_free(ret);
  return rv;
}

static char *label_pod(const char *ns, const char *name, const char *app)
{
  return label_pod_with(cli, ns, name, app);
}

static void delete_pod_with(kapi_client *c, const char *ns, const char *name)
{
  kj *opts = parse("{\"gracePeriodSeconds\":0}");
  kapi_result res;

  if (kapi_client_delete(c, &PODS, ns, name, opts, &res) < 0)
    fail_msg("delete pod %s/%s: %d %s", ns, name, res.code, res.message);
  kj_free(opts);
}

/* ---- comparing states --------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "key@rv,key@rv,..." sorted; caller frees. */
static char *join_sorted(char **v, size_t n)
{
  size_t len = 1;
  char *out;

  qsort(v, n, sizeof *v, cmp_str);
  for (size_t i = 0; i < n; i++)
    len += strlen(v[i]) + 1;
  out = calloc(1, len);
  for (size_t i = 0; i < n; i++) {
    if (i)
      strcat(out, ",");
    strcat(out, v[i]);
    free(v[i]);
  }
  free(v);
  return out;
}

static char *key_rv(const kj *obj)
{
  char *key = kapi_object_key(obj), *rv = rv_of(obj), *s = NULL;

  if (asprintf(&s, "%s@%s", key, rv) < 0)
    s = NULL;
  free(key);
  free(rv);
  return s;
}

static char *cache_state(kapi_informer *inf)
{
  kapi_cobj **objs = NULL;
  size_t n = 0;
  char **v;

  assert_int_equal(kapi_indexer_list(kapi_informer_indexer(inf), &objs, &n),
                   0);
  v = calloc(n + 1, sizeof *v);
  for (size_t i = 0; i < n; i++)
    v[i] = key_rv(objs[i]->obj);
  kapi_cobj_array_free(objs, n);
  return join_sorted(v, n);
}

/* The server's state, by a fresh list (and its resourceVersion). */
static char *server_state(const char *ns, const char *label,
                          const char *field, int64_t *list_rv)
{
  kapi_list_opts o = { .label_selector = label, .field_selector = field };
  kapi_result res;
  kj *list = NULL, *items;
  char **v;
  size_t n;

  if (kapi_client_list(cli, &PODS, ns, &o, &list, &res) < 0)
    fail_msg("list: %d %s", res.code, res.message);
  items = kj_get(list, "items");
  n = kj_len(items);
  v = calloc(n + 1, sizeof *v);
  for (size_t i = 0; i < n; i++)
    v[i] = key_rv(kj_at(items, i));
  if (list_rv) {
    char *rv = rv_of(list);

    *list_rv = strtoll(rv, NULL, 10);
    free(rv);
  }
  kj_free(list);
  return join_sorted(v, n);
}

/* ---- a recording handler ------------------------------------------------- */

#define MAX_LINES 256
#define MAX_MIRROR 64

/* Logs every call as a line and keeps its own copy of the state the
 * calls describe, flagging any call that contradicts it (an add of
 * something present, an update or delete of something absent, an
 * update whose old object is not the last one seen). */
typedef struct recorder {
  pthread_mutex_t mu;
  pthread_cond_t cond;
  char *lines[MAX_LINES];
  size_t n;
  struct {
    char key[128];
    char rv[32];
  } mirror[MAX_MIRROR];
  size_t nmirror;
  char error[256];
} recorder;

static void rec_init(recorder *r)
{
  memset(r, 0, sizeof *r);
  pthread_mutex_init(&r->mu, NULL);
  pthread_cond_init(&r->cond, NULL);
}

static void rec_free(recorder *r)
{
  for (size_t i = 0; i < r->n; i++)
    free(r->lines[i]);
  pthread_cond_destroy(&r->cond);
  pthread_mutex_destroy(&r->mu);
}

static const char *cobj_rv(const kapi_cobj *o)
{
  const char *rv = kj_get_str(kj_get(o->obj, "metadata"), "resourceVersion");

  return rv ? rv : "";
}

/* Caller holds r->mu. */
static void rec_line(recorder *r, const char *fmt, const char *a,
                     const char *b, const char *c)
{
  char *s = NULL;

  if (asprintf(&s, fmt, a, b, c) < 0 || r->n == MAX_LINES) {
    free(s);
    snprintf(r->error, sizeof r->error, "too many events");
    return;
  }
  r->lines[r->n++] = s;
  pthread_cond_broadcast(&r->cond);
}

static int mirror_find(recorder *r, const char *key)
{
  for (size_t i = 0; i < r->nmirror; i++)
    if (strcmp(r->mirror[i].key, key) == 0)
      return (int)i;
  return -1;
}

static void rec_error(recorder *r, const char *what, const char *key)
{
  if (!r->error[0])
    snprintf(r->error, sizeof r->error, "%s: %s", what, key);
}

static void on_add(void *arg, kapi_cobj *o)
{
  recorder *r = arg;

  pthread_mutex_lock(&r->mu);
  rec_line(r, "ADD %s@%s%s", o->key, cobj_rv(o), "");
  if (mirror_find(r, o->key) >= 0)
    rec_error(r, "add of a known object", o->key);
  else if (r->nmirror < MAX_MIRROR) {
    snprintf(r->mirror[r->nmirror].key, sizeof r->mirror[0].key, "%s",
             o->key);
    snprintf(r->mirror[r->nmirror].rv, sizeof r->mirror[0].rv, "%s",
             cobj_rv(o));
    r->nmirror++;
  }
  pthread_mutex_unlock(&r->mu);
}

static void on_update(void *arg, kapi_cobj *old, kapi_cobj *o)
{
  recorder *r = arg;
  int i;

  pthread_mutex_lock(&r->mu);
  if (old == o)
    rec_line(r, "SYNC %s@%s%s", o->key, cobj_rv(o), "");
  else
    rec_line(r, "UPDATE %s %s->%s", o->key, cobj_rv(old), cobj_rv(o));
  i = mirror_find(r, o->key);
  if (i < 0 || strcmp(old->key, o->key) != 0)
    rec_error(r, "update of an unknown object", o->key);
  else if (strcmp(r->mirror[i].rv, cobj_rv(old)) != 0)
    rec_error(r, "update whose old object is not the last seen", o->key);
  else
    snprintf(r->mirror[i].rv, sizeof r->mirror[0].rv, "%s", cobj_rv(o));
  pthread_mutex_unlock(&r->mu);
}

static void on_delete(void *arg, kapi_cobj *o)
{
  recorder *r = arg;
  int i;

  pthread_mutex_lock(&r->mu);
  rec_line(r, "DELETE %s@%s%s", o->key, cobj_rv(o), "");
  i = mirror_find(r, o->key);
  if (i < 0)
    rec_error(r, "delete of an unknown object", o->key);
  else
    r->mirror[i] = r->mirror[--r->nmirror];
  pthread_mutex_unlock(&r->mu);
}

static const kapi_event_handler recording = { on_add, on_update, on_delete };

/* Waits until a line starting with `prefix` was logged (after the
 * first `from` lines); returns its index. */
static size_t rec_wait(recorder *r, size_t from, const char *prefix)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += DEADLINE_S;
  pthread_mutex_lock(&r->mu);
  for (;;) {
    for (size_t i = from; i < r->n; i++)
      if (strncmp(r->lines[i], prefix, strlen(prefix)) == 0) {
        pthread_mutex_unlock(&r->mu);
        return i;
      }
    if (pthread_cond_timedwait(&r->cond, &r->mu, &ts) != 0)
      break;
  }
  pthread_mutex_unlock(&r->mu);
  fail_msg("no event \"%s\" within %d s", prefix, DEADLINE_S);
  return 0;
}

static size_t rec_count(recorder *r)
{
  size_t n;

  pthread_mutex_lock(&r->mu);
  n = r->n;
  pthread_mutex_unlock(&r->mu);
  return n;
}

static char *rec_line_at(recorder *r, size_t i)
{
  char *s;

  pthread_mutex_lock(&r->mu);
  s = i < r->n ? strdup(r->lines[i]) : strdup("");
  pthread_mutex_unlock(&r->mu);
  return s;
}

static void assert_line(recorder *r, size_t i, const char *want)
{
  char *got = rec_line_at(r, i);

  if (strcmp(got, want) != 0) {
    char msg[512];

    snprintf(msg, sizeof msg, "event %zu: got \"%s\", want \"%s\"", i, got,
             want);
    free(got);
    fail_msg("%s", msg);
  }
  free(got);
}

/* The handler's own view of the state, as "key@rv,..." sorted. */
static char *rec_state(recorder *r)
{
  char **v;
  size_t n;

  pthread_mutex_lock(&r->mu);
  n = r->nmirror;
  v = calloc(n + 1, sizeof *v);
  for (size_t i = 0; i < n; i++)
    if (asprintf(&v[i], "%s@%s", r->mirror[i].key, r->mirror[i].rv) < 0)
      v[i] = NULL;
  pthread_mutex_unlock(&r->mu);
  return join_sorted(v, n);
}

static void assert_no_rec_error(recorder *r)
{
  pthread_mutex_lock(&r->mu);
  if (r->error[0]) {
    char msg[256];

    snprintf(msg, sizeof msg, "%s", r->error);
    pthread_mutex_unlock(&r->mu);
    fail_msg("handler saw an inconsistent sequence: %s", msg);
  }
  pthread_mutex_unlock(&r->mu);
}

/* ---- cleanup that survives a failed assertion -------------------------- */

/* Everything a test creates is tracked and freed by the per-test
 * teardown, informers first (joining their threads) and recorders last,
 * so a test that fails half-way leaves nothing running on freed memory. */
#define MAX_TRACKED 16
static kapi_informer *informers[MAX_TRACKED];
static size_t ninformers;
static kapi_informer_factory *factories[MAX_TRACKED];
static size_t nfactories;
static recorder *recorders[MAX_TRACKED];
static size_t nrecorders;

static recorder *rec_new(void)
{
  recorder *r = calloc(1, sizeof *r);

  assert_non_null(r);
  assert_true(nrecorders < MAX_TRACKED);
  rec_init(r);
  recorders[nrecorders++] = r;
  return r;
}

static int test_teardown(void **state)
{
  (void)state;
  while (ninformers > 0)
    kapi_informer_free(informers[--ninformers]);
  while (nfactories > 0)
    kapi_informer_factory_free(factories[--nfactories]);
  while (nrecorders > 0) {
    recorder *r = recorders[--nrecorders];

    rec_free(r);
    free(r);
  }
  return 0;
}

static kapi_informer *new_informer(const char *ns, const char *label,
                                   const char *field, int resync,
                                   int64_t page)
{
  kapi_informer_options o = { .label_selector = label,
                              .field_selector = field,
                              .resync_seconds = resync,
                              .page_size = page };
  kapi_informer *inf = kapi_informer_new(cli, &PODS, ns, &o);

  assert_non_null(inf);
  assert_true(ninformers < MAX_TRACKED);
  informers[ninformers++] = inf;
  return inf;
}

static void start_and_sync(kapi_informer *inf)
{
  assert_false(kapi_informer_has_synced(inf));
  assert_int_equal(kapi_informer_start(inf), 0);
  assert_int_equal(kapi_informer_wait_synced(inf, DEADLINE_S * 1000), 0);
  assert_true(kapi_informer_has_synced(inf));
}

/* ---- tests ------------------------------------------------------------------ */

static void test_initial_sync_paged(void **state)
{
  kapi_informer *inf;
  recorder *rec = rec_new();
  char *want, *got, *mirror;
  int64_t list_rv;

  (void)state;
  create_ns("sync");
  for (int i = 0; i < 5; i++) {
    char name[16];

    snprintf(name, sizeof name, "p%d", i);
    free(create_pod("sync", name, "web"));
  }
  inf = new_informer("sync", NULL, NULL, 0, 2); /* 3 pages */
  assert_int_equal(kapi_informer_add_handler(inf, &recording, rec), 0);
  start_and_sync(inf);

  want = server_state("sync", NULL, NULL, &list_rv);
  got = cache_state(inf);
  mirror = rec_state(rec);
  assert_string_equal(got, want);
  assert_string_equal(mirror, want);
  assert_int_equal(kapi_indexer_len(kapi_informer_indexer(inf)), 5);
  assert_int_equal(rec_count(rec), 5); /* five adds, nothing else */
  assert_true(kapi_informer_last_rv(inf) > 0);
  assert_true(kapi_informer_last_rv(inf) <= list_rv);
  assert_no_rec_error(rec);
  free(want);
  free(got);
  free(mirror);
}

static void test_empty_sync(void **state)
{
  kapi_informer *inf;

  (void)state;
  create_ns("empty");
  inf = new_informer("empty", NULL, NULL, 0, 0);
  start_and_sync(inf);
  assert_int_equal(kapi_indexer_len(kapi_informer_indexer(inf)), 0);
}

static void test_events_in_order(void **state)
{
  kapi_informer *inf;
  recorder *rec = rec_new();
  char *rv1, *rv2, *rv3, want[256];

  (void)state;
  create_ns("order");
  inf = new_informer("order", NULL, NULL, 0, 0);
  assert_int_equal(kapi_informer_add_handler(inf, &recording, rec), 0);
  start_and_sync(inf);
  assert_int_equal(rec_count(rec), 0);

  rv1 = create_pod("order", "p", "a");
  rv2 = label_pod("order", "p", "b");
  rv3 = label_pod("order", "p", "c");
  delete_pod_with(cli, "order", "p");
  rec_wait(rec, 0, "DELETE order/p@");

  snprintf(want, sizeof want, "ADD order/p@%s", rv1);
  assert_line(rec, 0, want);
  snprintf(want, sizeof want, "UPDATE order/p %s->%s", rv1, rv2);
  assert_line(rec, 1, want);
  snprintf(want, sizeof want, "UPDATE order/p %s->%s", rv2, rv3);
  assert_line(rec, 2, want);
  assert_int_equal(rec_count(rec), 4);
  assert_int_equal(kapi_indexer_len(kapi_informer_indexer(inf)), 0);
  assert_no_rec_error(rec);
  /* The watch moved the informer's resourceVersion along. */
  assert_true(kapi_informer_last_rv(inf) >= strtoll(rv3, NULL, 10));
  free(rv1);
  free(rv2);
  free(rv3);
}

static void test_selectors(void **state)
{
  kapi_informer *by_label, *by_field;
  recorder *rl = rec_new(), *rf = rec_new();
  char *s1, *s2;
  size_t mark;

  (void)state;
  create_ns("sel");
  free(create_pod("sel", "a", "web"));
  free(create_pod("sel", "b", "db"));
  free(create_pod("sel", "c", "web"));
  by_label = new_informer("sel", "app=web", NULL, 0, 0);
  by_field = new_informer("sel", NULL, "metadata.name=b", 0, 0);
  assert_int_equal(kapi_informer_add_handler(by_label, &recording, rl), 0);
  assert_int_equal(kapi_informer_add_handler(by_field, &recording, rf), 0);
  start_and_sync(by_label);
  start_and_sync(by_field);
  s1 = cache_state(by_label);
  s2 = server_state("sel", "app=web", NULL, NULL);
  assert_string_equal(s1, s2);
  assert_non_null(strstr(s1, "sel/a@"));
  assert_non_null(strstr(s1, "sel/c@"));
  assert_null(strstr(s1, "sel/b@"));
  free(s1);
  free(s2);
  s1 = cache_state(by_field);
  assert_non_null(strstr(s1, "sel/b@"));
  assert_null(strstr(s1, "sel/a@"));
  free(s1);

  /* a leaves the label selector, b enters it; only b is in the field
   * one, as an update. */
  mark = rec_count(rl);
  free(label_pod("sel", "a", "db"));
  free(label_pod("sel", "b", "web"));
  rec_wait(rl, mark, "DELETE sel/a@");
  rec_wait(rl, mark, "ADD sel/b@");
  rec_wait(rf, 1, "UPDATE sel/b ");

  s1 = cache_state(by_label);
  s2 = server_state("sel", "app=web", NULL, NULL);
  assert_string_equal(s1, s2);
  free(s1);
  free(s2);
  s1 = cache_state(by_field);
  s2 = server_state("sel", NULL, "metadata.name=b", NULL);
  assert_string_equal(s1, s2);
  free(s1);
  free(s2);
  assert_no_rec_error(rl);
  assert_no_rec_error(rf);
}

static void test_late_handler(void **state)
{
  kapi_informer *inf;
  recorder *early = rec_new(), *late = rec_new();
  char *s1, *s2;

  (void)state;
  create_ns("late");
  free(create_pod("late", "x", "web"));
  free(create_pod("late", "y", "web"));
  inf = new_informer("late", NULL, NULL, 0, 0);
  assert_int_equal(kapi_informer_add_handler(inf, &recording, early), 0);
  start_and_sync(inf);

  /* The late handler hears of both before add_handler returns. */
  assert_int_equal(kapi_informer_add_handler(inf, &recording, late), 0);
  assert_int_equal(rec_count(late), 2);
  s1 = rec_state(late);
  s2 = cache_state(inf);
  assert_string_equal(s1, s2);
  free(s1);
  free(s2);

  /* ...and of what follows, like the others. */
  free(create_pod("late", "z", "web"));
  rec_wait(late, 2, "ADD late/z@");
  rec_wait(early, 2, "ADD late/z@");
  assert_no_rec_error(late);
  assert_no_rec_error(early);
}

static void test_resync(void **state)
{
  kapi_informer *inf;
  recorder *rec = rec_new();
  char *s1, *s2;

  (void)state;
  create_ns("resync");
  free(create_pod("resync", "r", "web"));
  inf = new_informer("resync", NULL, NULL, 1, 0);
  assert_int_equal(kapi_informer_add_handler(inf, &recording, rec), 0);
  start_and_sync(inf);
  /* Resync: an update with the very same object as old and new. */
  rec_wait(rec, 1, "SYNC resync/r@");
  s1 = cache_state(inf);
  s2 = rec_state(rec);
  assert_string_equal(s1, s2);
  assert_no_rec_error(rec);
  free(s1);
  free(s2);
}

static void test_indexes(void **state)
{
  kapi_informer *inf;
  kapi_cobj **v = NULL;
  size_t n = 0;

  (void)state;
  create_ns("idx");
  free(create_pod("idx", "i1", "web"));
  inf = new_informer(NULL, NULL, "metadata.namespace=idx", 0, 0);
  assert_int_equal(kapi_informer_add_index(inf, "namespace",
                                           kapi_index_by_namespace), 0);
  start_and_sync(inf);
  assert_int_equal(kapi_indexer_by_index(kapi_informer_indexer(inf),
                                         "namespace", "idx", &v, &n), 0);
  assert_int_equal(n, 1);
  assert_string_equal(v[0]->key, "idx/i1");
  /* Listed objects get their kind back, like watched ones. */
  assert_string_equal(kj_get_str(v[0]->obj, "kind"), "Pod");
  assert_string_equal(kj_get_str(v[0]->obj, "apiVersion"), "v1");
  kapi_cobj_array_free(v, n);
}

static void test_factory_shares(void **state)
{
  kapi_informer_factory *f = kapi_informer_factory_new(cli, 0);

  factories[nfactories++] = f;
  kapi_informer_options web = { .label_selector = "app=web" };
  kapi_informer *a, *b, *c, *d, *e;
  recorder *rec = rec_new();

  (void)state;
  create_ns("fac");
  free(create_pod("fac", "f1", "web"));
  a = kapi_informer_factory_get(f, &PODS, "fac", NULL);
  b = kapi_informer_factory_get(f, &PODS, "fac", NULL);
  c = kapi_informer_factory_get(f, &PODS, "fac", &web);
  d = kapi_informer_factory_get(f, &NODES, NULL, NULL);
  e = kapi_informer_factory_get(f, &PODS, NULL, NULL);
  assert_non_null(a);
  assert_ptr_equal(a, b);
  assert_ptr_equal(c, kapi_informer_factory_get(f, &PODS, "fac", &web));
  assert_ptr_not_equal(a, c);
  assert_ptr_not_equal(a, d);
  assert_ptr_not_equal(a, e);
  assert_ptr_not_equal(d, e);
  assert_int_equal(kapi_informer_add_handler(a, &recording, rec), 0);
  assert_int_equal(kapi_informer_factory_start(f), 0);
  assert_int_equal(kapi_informer_factory_wait_synced(f, DEADLINE_S * 1000),
                   0);
  assert_true(kapi_informer_has_synced(a) && kapi_informer_has_synced(c) &&
              kapi_informer_has_synced(d) && kapi_informer_has_synced(e));
  assert_int_equal(rec_count(rec), 1);
  assert_int_equal(kapi_indexer_len(kapi_informer_indexer(a)), 1);
}

/* Polls until the cache equals a fresh list of the server. */
static void wait_converged(kapi_informer *inf, const char *ns)
{
  time_t deadline = time(NULL) + DEADLINE_S;
  char *want = NULL, *got = NULL;

  for (;;) {
    free(want);
    free(got);
    want = server_state(ns, NULL, NULL, NULL);
    got = cache_state(inf);
    if (strcmp(want, got) == 0 || time(NULL) > deadline)
      break;
    struct timespec ts = { 0, 100000000L };
    nanosleep(&ts, NULL);
  }
  assert_string_equal(got, want);
  free(want);
  free(got);
}

static void test_apiserver_restart(void **state)
{
  kapi_informer *inf;
  recorder *rec = rec_new();
  kts_server other;
  kapi_client *c2;
  char *s1, *s2;
  int status;

  (void)state;
  create_ns("crash");
  for (int i = 1; i <= 5; i++) {
    char name[16];

    snprintf(name, sizeof name, "k%d", i);
    free(create_pod("crash", name, "web"));
  }
  inf = new_informer("crash", NULL, NULL, 0, 0);
  assert_int_equal(kapi_informer_add_handler(inf, &recording, rec), 0);
  start_and_sync(inf);
  free(create_pod("crash", "k0", "web"));
  rec_wait(rec, 5, "ADD crash/k0@"); /* the watch is live */

  /* Crash the apiserver under the watch. */
  kill(srv.pid, SIGKILL);
  waitpid(srv.pid, &status, 0);
  srv.pid = 0;

  /* Change the data through another server on another port, which the
   * informer cannot reach: it can only learn of this by relisting. */
  other = srv;
  other.pid = 0;
  snprintf(other.log, sizeof other.log, "%s/other.log", srv.dir);
  snprintf(other.kubeconfig, sizeof other.kubeconfig, "%s/other.kubeconfig",
           srv.dir);
  assert_int_equal(kts_start(&other, 0), 0);
  c2 = new_client(other.url);
  delete_pod_with(c2, "crash", "k1");
  delete_pod_with(c2, "crash", "k2");
  free(label_pod_with(c2, "crash", "k3", "db"));
  free(create_pod_with(c2, "crash", "k6", "web"));
  kapi_client_free(c2);
  kts_stop(&other);

  /* Back on the informer's port, same data. */
  assert_int_equal(kts_start(&srv, srv.port), 0);
  wait_converged(inf, "crash");
  rec_wait(rec, 0, "DELETE crash/k1@");
  rec_wait(rec, 0, "DELETE crash/k2@");
  rec_wait(rec, 0, "ADD crash/k6@");
  /* Unchanged objects come back from the relist as an update with the
   * very same cached object as old and new (no resync is configured, so
   * only a relist makes these). */
  rec_wait(rec, 0, "SYNC crash/k4@");

  /* The watch runs again after the relist. */
  free(create_pod("crash", "k7", "web"));
  rec_wait(rec, 0, "ADD crash/k7@");
  wait_converged(inf, "crash");

  /* The handlers' view is the server's: nothing lost or repeated. */
  assert_no_rec_error(rec);
  s1 = rec_state(rec);
  s2 = server_state("crash", NULL, NULL, NULL);
  assert_string_equal(s1, s2);
  free(s1);
  free(s2);
}

/* Stopping an informer whose server is gone does not hang. */
static void test_stop_while_server_down(void **state)
{
  kapi_informer *inf;
  int status;

  (void)state;
  create_ns("down");
  inf = new_informer("down", NULL, NULL, 0, 0);
  start_and_sync(inf);
  kill(srv.pid, SIGKILL);
  waitpid(srv.pid, &status, 0);
  srv.pid = 0;
  kapi_informer_stop(inf);
  assert_int_equal(kts_start(&srv, srv.port), 0);
}

/* ---- main ------------------------------------------------------------------- */

static int group_setup(void **state)
{
  (void)state;
  if (kts_init(&srv) < 0 || kts_start(&srv, 0) < 0)
    return -1;
  cli = new_client(srv.url);
  return 0;
}

static int group_teardown(void **state)
{
  (void)state;
  kapi_client_free(cli);
  kts_cleanup(&srv);
  return 0;
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_teardown(test_initial_sync_paged, test_teardown),
    cmocka_unit_test_teardown(test_empty_sync, test_teardown),
    cmocka_unit_test_teardown(test_events_in_order, test_teardown),
    cmocka_unit_test_teardown(test_selectors, test_teardown),
    cmocka_unit_test_teardown(test_late_handler, test_teardown),
    cmocka_unit_test_teardown(test_resync, test_teardown),
    cmocka_unit_test_teardown(test_indexes, test_teardown),
    cmocka_unit_test_teardown(test_factory_shares, test_teardown),
    cmocka_unit_test_teardown(test_apiserver_restart, test_teardown),
    cmocka_unit_test_teardown(test_stop_while_server_down, test_teardown),
  };

  if (getenv("KAPI_UNIT_ONLY") && strcmp(getenv("KAPI_UNIT_ONLY"), "1") == 0) {
    printf("skipped: KAPI_UNIT_ONLY=1\n");
    return 77;
  }
  if (!kts_have_server()) {
    printf("skipped: no %s/kapi-apiserver\n", kts_builddir());
    return 77;
  }
  /* KAPI_TEST_V=N shows the informers' logs at verbosity N. */
  if (getenv("KAPI_TEST_V"))
    kapi_log_verbosity = atoi(getenv("KAPI_TEST_V"));
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
