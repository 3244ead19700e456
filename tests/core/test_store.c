/*
 * test_store.c - the generic Store: reads and writes, revisions and their
 * durability across reopen, prefix lists, watch (resume, INITIAL,
 * too-old revisions, overflow) and concurrent writers.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* nftw */
#endif
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>

#include "json.h"
#include "store.h"

/* ---- fixtures ----------------------------------------------------------- */

typedef struct fixture {
  char dir[64];
  kapi_store *s;
} fixture;

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

static void open_store(fixture *f, size_t history, size_t watch_queue)
{
  kapi_store_options o = { .dir = f->dir, .fsync = 1, .history = history,
                           .watch_queue = watch_queue };
  char err[256] = "";
  int r = kapi_store_open(&o, &f->s, err, sizeof err);

  if (r != 0)
    fail_msg("kapi_store_open: %d %s", r, err);
}

static void reopen_store(fixture *f, size_t history, size_t watch_queue)
{
  kapi_store_close(f->s);
  open_store(f, history, watch_queue);
}

static int setup_with(void **state, size_t history, size_t watch_queue)
{
  fixture *f = calloc(1, sizeof *f);

  assert_non_null(f);
  snprintf(f->dir, sizeof f->dir, "/tmp/kapi-store-test-XXXXXX");
  assert_non_null(mkdtemp(f->dir));
  open_store(f, history, watch_queue);
  *state = f;
  return 0;
}

static int setup(void **state)
{
  return setup_with(state, 0, 0);
}

static int setup_small_history(void **state)
{
  return setup_with(state, 5, 0);
}

static int setup_small_queue(void **state)
{
  return setup_with(state, 0, 4);
}

static int teardown(void **state)
{
  fixture *f = *state;

  kapi_store_close(f->s);
  nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(f);
  return 0;
}

/* ---- update callbacks --------------------------------------------------- */

static kj *parse_or_die(const char *json)
{
  char err[128];
  kj *v = NULL;

  if (kj_parse(json, strlen(json), &v, err, sizeof err) != 0)
    fail_msg("bad test JSON %s: %s", json, err);
  return v;
}

/* arg: JSON text; fails with -EEXIST when the key exists. */
static int create_fn(const kj *cur, void *arg, kj **ret_new)
{
  if (cur)
    return -EEXIST;
  *ret_new = parse_or_die(arg);
  return KAPI_STORE_PUT;
}

/* arg: JSON text; writes whether or not the key exists. */
static int put_fn(const kj *cur, void *arg, kj **ret_new)
{
  (void)cur;
  *ret_new = parse_or_die(arg);
  return KAPI_STORE_PUT;
}

static int delete_fn(const kj *cur, void *arg, kj **ret_new)
{
  (void)cur;
  (void)arg;
  (void)ret_new;
  return KAPI_STORE_DELETE;
}

/* Deletes what exists, creates what does not: always a write. */
static int toggle_fn(const kj *cur, void *arg, kj **ret_new)
{
  if (cur)
    return KAPI_STORE_DELETE;
  *ret_new = parse_or_die(arg);
  return KAPI_STORE_PUT;
}

static int noop_fn(const kj *cur, void *arg, kj **ret_new)
{
  (void)cur;
  (void)arg;
  (void)ret_new;
  return KAPI_STORE_NOOP;
}

/* arg: points to the int the callback returns. */
static int return_fn(const kj *cur, void *arg, kj **ret_new)
{
  (void)cur;
  (void)ret_new;
  return *(int *)arg;
}

/* Records what the callback saw: cur's data.v, or "" when absent. */
typedef struct seen {
  char v[32];
} seen;

static int bump_fn(const kj *cur, void *arg, kj **ret_new)
{
  seen *sn = arg;
  const char *v = kj_str(kj_ptr(cur, "/data/v"));

  snprintf(sn->v, sizeof sn->v, "%s", cur ? (v ? v : "?") : "");
  *ret_new = cur ? kj_clone(cur) : parse_or_die("{\"data\":{}}");
  kj_set_str(kj_child_object(*ret_new, "data"), "v", "bumped");
  return KAPI_STORE_PUT;
}

static const char *obj_json(const char *name)
{
  static __thread char buf[256];

  snprintf(buf, sizeof buf,
           "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"%s\"},"
           "\"data\":{\"k\":\"v\"}}",
           name);
  return buf;
}

static int64_t create(fixture *f, const char *key)
{
  store_obj *o = NULL;
  int64_t rv;

  assert_int_equal(kapi_store_update(f->s, key, create_fn,
                                     (void *)obj_json(key), &o),
                   KAPI_STORE_PUT);
  assert_non_null(o);
  rv = o->rv;
  store_obj_unref(o);
  return rv;
}

static int64_t update(fixture *f, const char *key)
{
  store_obj *o = NULL;
  int64_t rv;

  assert_int_equal(kapi_store_update(f->s, key, put_fn, (void *)obj_json(key),
                                     &o),
                   KAPI_STORE_PUT);
  rv = o->rv;
  store_obj_unref(o);
  return rv;
}

static int64_t delete(fixture *f, const char *key)
{
  store_obj *o = NULL;
  int64_t rv;

  assert_int_equal(kapi_store_update(f->s, key, delete_fn, NULL, &o),
                   KAPI_STORE_DELETE);
  rv = o->rv;
  store_obj_unref(o);
  return rv;
}

/* The resourceVersion inside the stored JSON, as a number. */
static int64_t json_rv(const store_obj *o)
{
  kj *v = parse_or_die(o->json);
  const char *s = kj_str(kj_ptr(v, "/metadata/resourceVersion"));
  int64_t rv;

  assert_non_null(s);
  rv = strtoll(s, NULL, 10);
  kj_free(v);
  return rv;
}

/* ---- watch helpers ------------------------------------------------------ */

/* A notify target: counts calls so a waiter never misses one. */
typedef struct waiter {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  unsigned long calls;
} waiter;

static void waiter_init(waiter *wt)
{
  pthread_mutex_init(&wt->mu, NULL);
  pthread_cond_init(&wt->cv, NULL);
  wt->calls = 0;
}

static void waiter_destroy(waiter *wt)
{
  pthread_mutex_destroy(&wt->mu);
  pthread_cond_destroy(&wt->cv);
}

static void waiter_notify(void *arg)
{
  waiter *wt = arg;

  pthread_mutex_lock(&wt->mu);
  wt->calls++;
  pthread_cond_broadcast(&wt->cv);
  pthread_mutex_unlock(&wt->mu);
}

static unsigned long waiter_calls(waiter *wt)
{
  unsigned long n;

  pthread_mutex_lock(&wt->mu);
  n = wt->calls;
  pthread_mutex_unlock(&wt->mu);
  return n;
}

/* Takes the next event, sleeping on notify while none is queued.  The
 * deadline only keeps a broken store from hanging the suite. */
static int next_wait(kapi_watch *w, waiter *wt, kapi_event **ret)
{
  struct timespec deadline;

  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 60;
  for (;;) {
    unsigned long calls = waiter_calls(wt);
    int r = kapi_watch_next(w, ret);

    if (r != -EAGAIN)
      return r;
    pthread_mutex_lock(&wt->mu);
    while (wt->calls == calls) {
      if (pthread_cond_timedwait(&wt->cv, &wt->mu, &deadline) ==
          ETIMEDOUT) {
        pthread_mutex_unlock(&wt->mu);
        fail_msg("no watch event arrived");
      }
    }
    pthread_mutex_unlock(&wt->mu);
  }
}

static void expect_event(kapi_watch *w, waiter *wt, kapi_event_type type,
                         const char *key, int64_t rv, int64_t old_rv)
{
  kapi_event *e = NULL;

  assert_int_equal(next_wait(w, wt, &e), 0);
  assert_int_equal(e->type, type);
  assert_string_equal(e->obj->key, key);
  assert_int_equal(e->rv, rv);
  assert_int_equal(e->obj->rv, rv);
  assert_int_equal(json_rv(e->obj), rv);
  if (old_rv) {
    assert_non_null(e->old);
    assert_string_equal(e->old->key, key);
    assert_int_equal(e->old->rv, old_rv);
  } else {
    assert_null(e->old);
  }
  kapi_event_unref(e);
}

/* ---- basic reads and writes --------------------------------------------- */

static void test_create_get_update_delete(void **state)
{
  fixture *f = *state;
  store_obj *o = NULL;
  seen sn;

  assert_int_equal(kapi_store_revision(f->s), 0);
  assert_int_equal(kapi_store_get(f->s, "core/cm/ns/a", &o), -ENOENT);
  assert_null(o);

  assert_int_equal(create(f, "core/cm/ns/a"), 1);
  assert_int_equal(kapi_store_get(f->s, "core/cm/ns/a", &o), 0);
  assert_string_equal(o->key, "core/cm/ns/a");
  assert_int_equal(o->rv, 1);
  assert_int_equal(json_rv(o), 1);
  assert_int_equal(strlen(o->json), o->len);
  assert_non_null(strstr(o->json, "\"resourceVersion\":\"1\""));
  store_obj_unref(o);

  assert_int_equal(kapi_store_update(f->s, "core/cm/ns/a", create_fn,
                                     (void *)obj_json("a"), NULL),
                   -EEXIST);
  assert_int_equal(kapi_store_revision(f->s), 1);

  /* The callback sees the current object, and its result is stored. */
  assert_int_equal(kapi_store_update(f->s, "core/cm/ns/a", bump_fn, &sn, &o),
                   KAPI_STORE_PUT);
  assert_string_equal(sn.v, "?");
  assert_int_equal(o->rv, 2);
  assert_int_equal(json_rv(o), 2);
  store_obj_unref(o);
  assert_int_equal(kapi_store_update(f->s, "core/cm/ns/a", bump_fn, &sn, NULL),
                   KAPI_STORE_PUT);
  assert_string_equal(sn.v, "bumped");
  assert_int_equal(kapi_store_revision(f->s), 3);

  assert_int_equal(delete(f, "core/cm/ns/a"), 4);
  assert_int_equal(kapi_store_get(f->s, "core/cm/ns/a", &o), -ENOENT);
  assert_int_equal(kapi_store_revision(f->s), 4);
  /* Deleting what is not there writes nothing. */
  assert_int_equal(kapi_store_update(f->s, "core/cm/ns/a", delete_fn, NULL,
                                     &o),
                   -ENOENT);
  assert_int_equal(kapi_store_revision(f->s), 4);
}

static void test_delete_returns_last_version(void **state)
{
  fixture *f = *state;
  store_obj *o = NULL;

  create(f, "k");
  assert_int_equal(kapi_store_update(f->s, "k", delete_fn, NULL, &o),
                   KAPI_STORE_DELETE);
  assert_non_null(o);
  assert_string_equal(o->key, "k");
  assert_int_equal(o->rv, 2);
  assert_int_equal(json_rv(o), 2);
  assert_non_null(strstr(o->json, "\"data\":{\"k\":\"v\"}"));
  store_obj_unref(o);
}

/* Publishing follows durability on the committer thread: wait for it. */
static int64_t prefix_rv_reaching(fixture *f, const char *prefix, int64_t want)
{
  int64_t rv = 0;
  for (int i = 0; i < 5000; i++) {
    if ((rv = kapi_store_prefix_revision(f->s, prefix)) >= want)
      break;
    usleep(1000);
  }
  return rv;
}

static void test_prefix_revision(void **state)
{
  fixture *f = *state;
  int64_t a1, b1, a2, a3;

  a1 = create(f, "core/cm/ns/a");
  /* untracked until asked: starts at the latest published revision */
  assert_int_equal(prefix_rv_reaching(f, "core/cm/", a1), a1);
  b1 = create(f, "core/secrets/ns/b");
  assert_int_equal(prefix_rv_reaching(f, "core/secrets/", b1), b1);
  /* a write elsewhere does not move it */
  assert_int_equal(kapi_store_prefix_revision(f->s, "core/cm/"), a1);
  a2 = update(f, "core/cm/ns/a");
  assert_int_equal(prefix_rv_reaching(f, "core/cm/", a2), a2);
  a3 = delete(f, "core/cm/ns/a");
  assert_int_equal(prefix_rv_reaching(f, "core/cm/", a3), a3);
  assert_int_equal(kapi_store_prefix_revision(f->s, "core/secrets/"), b1);
}

static void test_noop(void **state)
{
  fixture *f = *state;
  store_obj *o = (store_obj *)1;

  /* Absent key: success, nothing written, no object. */
  assert_int_equal(kapi_store_update(f->s, "k", noop_fn, NULL, &o),
                   KAPI_STORE_NOOP);
  assert_null(o);
  assert_int_equal(kapi_store_revision(f->s), 0);

  create(f, "k");
  assert_int_equal(kapi_store_update(f->s, "k", noop_fn, NULL, &o),
                   KAPI_STORE_NOOP);
  assert_non_null(o);
  assert_int_equal(o->rv, 1);
  store_obj_unref(o);
  assert_int_equal(kapi_store_update(f->s, "k", noop_fn, NULL, NULL),
                   KAPI_STORE_NOOP);
  assert_int_equal(kapi_store_revision(f->s), 1);
}

static void test_callback_errors(void **state)
{
  fixture *f = *state;
  store_obj *o = NULL;
  int ret;

  create(f, "k");
  ret = -EACCES;
  assert_int_equal(kapi_store_update(f->s, "k", return_fn, &ret, &o),
                   -EACCES);
  assert_null(o);
  ret = -ENOENT;
  assert_int_equal(kapi_store_update(f->s, "absent", return_fn, &ret, &o),
                   -ENOENT);
  /* Not a decision. */
  ret = 42;
  assert_int_equal(kapi_store_update(f->s, "k", return_fn, &ret, &o), -EINVAL);
  ret = 0;
  assert_int_equal(kapi_store_update(f->s, "k", return_fn, &ret, &o), -EINVAL);
  /* PUT without an object. */
  ret = KAPI_STORE_PUT;
  assert_int_equal(kapi_store_update(f->s, "k", return_fn, &ret, &o), -EINVAL);
  /* PUT of something that cannot carry metadata. */
  assert_int_equal(kapi_store_update(f->s, "k", put_fn, "[1,2]", &o),
                   -EINVAL);
  assert_null(o);

  assert_int_equal(kapi_store_revision(f->s), 1);
  assert_int_equal(kapi_store_get(f->s, "k", &o), 0);
  assert_int_equal(o->rv, 1);
  store_obj_unref(o);
  assert_int_equal(kapi_store_get(f->s, "absent", &o), -ENOENT);
}

/* A reference outlives later writes and the key's deletion. */
static void test_references_are_stable(void **state)
{
  fixture *f = *state;
  store_obj *o = NULL;

  create(f, "k");
  assert_int_equal(kapi_store_get(f->s, "k", &o), 0);
  update(f, "k");
  delete(f, "k");
  assert_int_equal(o->rv, 1);
  assert_int_equal(json_rv(o), 1);
  store_obj_unref(o);
  store_obj_unref(NULL);
}

/* ---- revisions and durability ------------------------------------------- */

static void test_revision_persists_across_reopen(void **state)
{
  fixture *f = *state;
  store_obj *o = NULL;
  int64_t last = 0;

  for (int i = 1; i <= 20; i++) {
    char key[32];
    int64_t rv;

    snprintf(key, sizeof key, "core/cm/ns/o%02d", i);
    rv = create(f, key);
    assert_true(rv > last);
    last = rv;
  }
  last = update(f, "core/cm/ns/o05");
  reopen_store(f, 0, 0);
  assert_int_equal(kapi_store_revision(f->s), 21);
  assert_int_equal(kapi_store_get(f->s, "core/cm/ns/o05", &o), 0);
  assert_int_equal(o->rv, last);
  assert_int_equal(json_rv(o), last);
  store_obj_unref(o);
  assert_int_equal(kapi_store_get(f->s, "core/cm/ns/o06", &o), 0);
  assert_int_equal(o->rv, 6);
  store_obj_unref(o);

  /* Deletes advance the revision without leaving an object: the
   * revision must come back from its own record. */
  assert_int_equal(delete(f, "core/cm/ns/o20"), 22);
  assert_int_equal(delete(f, "core/cm/ns/o19"), 23);
  reopen_store(f, 0, 0);
  assert_int_equal(kapi_store_revision(f->s), 23);
  assert_int_equal(kapi_store_get(f->s, "core/cm/ns/o20", &o), -ENOENT);
  assert_int_equal(kapi_store_get(f->s, "core/cm/ns/o19", &o), -ENOENT);
  assert_int_equal(create(f, "core/cm/ns/o20"), 24);

  /* Reopen with nothing written in between. */
  reopen_store(f, 0, 0);
  reopen_store(f, 0, 0);
  assert_int_equal(kapi_store_revision(f->s), 24);
}

static void test_open_errors(void **state)
{
  kapi_store_options o = { .dir = NULL };
  kapi_store *s = NULL;
  char err[256] = "";

  (void)state;
  assert_int_equal(kapi_store_open(&o, &s, err, sizeof err), -EINVAL);
  assert_true(err[0] != '\0');
  o.dir = "/nonexistent-kapi-dir/sub/store";
  assert_true(kapi_store_open(&o, &s, err, sizeof err) < 0);
  assert_true(err[0] != '\0');
  assert_null(s);
  kapi_store_close(NULL);
}

/* ---- lists -------------------------------------------------------------- */

static void free_list(store_obj **v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    store_obj_unref(v[i]);
  free(v);
}

/* Lists and checks the keys, comma-joined. */
static void expect_list(fixture *f, const char *prefix, const char *start,
                        const char *keys)
{
  store_obj **v = NULL;
  size_t n = 0;
  int64_t rev = -1;
  char got[1024] = "";

  assert_int_equal(kapi_store_list(f->s, prefix, start, &v, &n, &rev), 0);
  assert_int_equal(rev, kapi_store_revision(f->s));
  for (size_t i = 0; i < n; i++) {
    strcat(got, i ? "," : "");
    strcat(got, v[i]->key);
  }
  assert_string_equal(got, keys);
  free_list(v, n);
}

static void test_list_prefix_and_start(void **state)
{
  fixture *f = *state;
  const char *keys[] = {
    "core/pods/b/x", "core/pods/a/z", "core/pods/a/y", "core/pods/ab/a",
    "core/pods/a", "core/nodes/n1", "core/pods/a/x", "core/podsX/a/a",
  };

  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
    create(f, keys[i]);

  expect_list(f, "core/pods/a/", NULL, "core/pods/a/x,core/pods/a/y,"
                                       "core/pods/a/z");
  expect_list(f, "core/pods/a/", "", "core/pods/a/x,core/pods/a/y,"
                                     "core/pods/a/z");
  expect_list(f, "core/pods/", NULL,
              "core/pods/a,core/pods/a/x,core/pods/a/y,core/pods/a/z,"
              "core/pods/ab/a,core/pods/b/x");
  /* start: strictly after it, wherever it falls. */
  expect_list(f, "core/pods/", "core/pods/a/x",
              "core/pods/a/y,core/pods/a/z,core/pods/ab/a,core/pods/b/x");
  expect_list(f, "core/pods/", "core/pods/a/xx",
              "core/pods/a/y,core/pods/a/z,core/pods/ab/a,core/pods/b/x");
  expect_list(f, "core/pods/", "core/pods/b/x", "");
  expect_list(f, "core/pods/", "core/pods/zzz", "");
  expect_list(f, "core/pods/", "core/a", /* before the prefix */
              "core/pods/a,core/pods/a/x,core/pods/a/y,core/pods/a/z,"
              "core/pods/ab/a,core/pods/b/x");
  expect_list(f, "core/nodes/", NULL, "core/nodes/n1");
  expect_list(f, "apps/", NULL, "");
  expect_list(f, "", "core/pods/b/x", "core/podsX/a/a");
  expect_list(f, "core/pods/a/x", NULL, "core/pods/a/x");

  delete(f, "core/pods/a/y");
  expect_list(f, "core/pods/a/", NULL, "core/pods/a/x,core/pods/a/z");
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Many keys in random order: the index keeps them sorted and balanced
 * through inserts and deletes, and paging visits each once. */
static void test_list_order_and_paging(void **state)
{
  fixture *f = *state;
  enum { N = 600 };
  char *keys[N];
  store_obj **v;
  size_t n;
  int64_t rev;

  srand(7);
  for (int i = 0; i < N; i++) {
    char k[64];

    snprintf(k, sizeof k, "core/cm/ns%d/o%08x-%d", i % 3, (unsigned)rand(),
             i);
    keys[i] = strdup(k);
    create(f, keys[i]);
  }
  /* Delete every fifth, in insertion order. */
  for (int i = 0; i < N; i += 5) {
    delete(f, keys[i]);
    free(keys[i]);
    keys[i] = NULL;
  }
  {
    char *live[N];
    size_t nlive = 0;

    for (int i = 0; i < N; i++)
      if (keys[i])
        live[nlive++] = keys[i];
    qsort(live, nlive, sizeof *live, cmp_str);

    assert_int_equal(kapi_store_list(f->s, "core/cm/", NULL, &v, &n, &rev), 0);
    assert_int_equal(n, nlive);
    for (size_t i = 0; i < n; i++)
      assert_string_equal(v[i]->key, live[i]);
    free_list(v, n);

    /* Pages of 7 by start key. */
    {
      char last[64] = "";
      size_t seen = 0;

      for (;;) {
        size_t take;

        assert_int_equal(kapi_store_list(f->s, "core/cm/", last, &v, &n,
                                         &rev),
                         0);
        if (n == 0) {
          free(v);
          break;
        }
        take = n < 7 ? n : 7;
        for (size_t i = 0; i < take; i++)
          assert_string_equal(v[i]->key, live[seen + i]);
        seen += take;
        snprintf(last, sizeof last, "%s", v[take - 1]->key);
        free_list(v, n);
      }
      assert_int_equal(seen, nlive);
    }
  }
  for (int i = 0; i < N; i++)
    free(keys[i]);
}

/* ---- lists at a past revision ------------------------------------------ */

/* A list as one string ("key@rv json" per line), to compare lists. */
static char *list_text(store_obj **v, size_t n)
{
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);

  assert_non_null(out);
  for (size_t i = 0; i < n; i++)
    fprintf(out, "%s@%" PRId64 " %s\n", v[i]->key, v[i]->rv, v[i]->json);
  fclose(out);
  free_list(v, n);
  return text;
}

static char *now_text(fixture *f, const char *prefix, const char *start,
                      int64_t *ret_rev)
{
  store_obj **v = NULL;
  size_t n = 0;

  assert_int_equal(kapi_store_list(f->s, prefix, start, &v, &n, ret_rev), 0);
  return list_text(v, n);
}

static char *past_text(fixture *f, const char *prefix, const char *start,
                       int64_t rv)
{
  store_obj **v = NULL;
  size_t n = 0;

  assert_int_equal(kapi_store_list_at(f->s, prefix, start, rv, &v, &n), 0);
  return list_text(v, n);
}

/* What kapi_store_list said after each write, by revision. */
enum { PAST_MAX = 32 };
typedef struct past_lists {
  char *all[PAST_MAX];   /* prefix "p/" */
  char *after[PAST_MAX]; /* prefix "p/", start "p/b" */
  int64_t first, last;
} past_lists;

static void remember(fixture *f, past_lists *pl, int64_t rv)
{
  int64_t rev = -1;
  size_t i = (size_t)(rv - pl->first);

  assert_true(i < PAST_MAX);
  pl->all[i] = now_text(f, "p/", NULL, &rev);
  assert_int_equal(rev, rv);
  pl->after[i] = now_text(f, "p/", "p/b", &rev);
  pl->last = rv;
}

static void past_lists_free(past_lists *pl)
{
  for (size_t i = 0; i < PAST_MAX; i++) {
    free(pl->all[i]);
    free(pl->after[i]);
  }
}

/* Creates, updates, deletes and re-creates, inside and outside the
 * prefix: a list at every revision since equals what a list said then. */
static void test_list_at_past_revisions(void **state)
{
  fixture *f = *state;
  past_lists pl = { .first = 0 };
  store_obj **v = NULL;
  size_t n = 0;

  remember(f, &pl, 0);
  remember(f, &pl, create(f, "p/a"));
  remember(f, &pl, create(f, "p/c"));
  remember(f, &pl, create(f, "q/x"));      /* outside the prefix */
  remember(f, &pl, create(f, "p/b"));      /* sorts at the start key */
  remember(f, &pl, update(f, "p/a"));
  remember(f, &pl, create(f, "p/d"));
  remember(f, &pl, update(f, "p/a"));      /* twice: the oldest wins */
  remember(f, &pl, delete(f, "p/c"));
  remember(f, &pl, update(f, "q/x"));
  remember(f, &pl, delete(f, "p/a"));
  remember(f, &pl, create(f, "p/a"));      /* back, as a new object */
  remember(f, &pl, update(f, "p/d"));
  remember(f, &pl, delete(f, "p/b"));
  remember(f, &pl, create(f, "p/c"));
  remember(f, &pl, create(f, "p/"));       /* the prefix itself */
  assert_int_equal(pl.last, kapi_store_revision(f->s));

  for (int64_t rv = pl.first; rv <= pl.last; rv++) {
    char *all = past_text(f, "p/", NULL, rv);
    char *after = past_text(f, "p/", "p/b", rv);

    if (strcmp(all, pl.all[rv]) || strcmp(after, pl.after[rv]))
      fail_msg("list at %" PRId64 ":\n%s\nthen:\n%s\nafter p/b:\n%s\n"
               "then:\n%s", rv, all, pl.all[rv], after, pl.after[rv]);
    free(all);
    free(after);
  }
  /* A revision that is not there yet. */
  assert_int_equal(kapi_store_list_at(f->s, "p/", NULL, pl.last + 1, &v, &n),
                   -EAGAIN);
  past_lists_free(&pl);
}

/* history = 5: the last 5 events are kept, so a list can go back five
 * revisions and no further; a restart keeps none. */
static void test_list_at_too_old(void **state)
{
  fixture *f = *state;
  store_obj **v = NULL;
  size_t n = 0;
  int64_t rev;
  char *then, *past;

  create(f, "k");
  for (int i = 0; i < 10; i++)
    update(f, "k");
  then = now_text(f, "", NULL, NULL);
  for (int i = 0; i < 5; i++)
    update(f, "k");
  rev = kapi_store_revision(f->s);
  past = past_text(f, "", NULL, rev - 5);
  assert_string_equal(past, then);
  free(past);
  free(then);
  assert_int_equal(kapi_store_list_at(f->s, "", NULL, rev - 6, &v, &n),
                   -ERANGE);
  assert_int_equal(kapi_store_list_at(f->s, "", NULL, 1, &v, &n), -ERANGE);
  /* No event under the prefix is no excuse: the history must reach. */
  assert_int_equal(kapi_store_list_at(f->s, "other/", NULL, rev - 6, &v, &n),
                   -ERANGE);

  reopen_store(f, 5, 0);
  assert_int_equal(kapi_store_list_at(f->s, "", NULL, rev - 1, &v, &n),
                   -ERANGE);
  then = now_text(f, "", NULL, NULL);
  past = past_text(f, "", NULL, rev);
  assert_string_equal(past, then);
  free(past);
  update(f, "k");
  past = past_text(f, "", NULL, rev);
  assert_string_equal(past, then);
  free(past);
  free(then);
}

/* A writer keeps changing keys while lists at a fixed revision run: each
 * sees exactly the state of then, whatever is in flight. */
typedef struct toggler {
  fixture *f;
  int rounds;
} toggler;

static void *toggler_main(void *arg)
{
  toggler *c = arg;

  for (int i = 0; i < c->rounds; i++) {
    char k[32];

    snprintf(k, sizeof k, "p/o%02d", i % 10);
    if (kapi_store_update(c->f->s, k, toggle_fn, (void *)obj_json(k),
                          NULL) < 0)
      return (void *)1;
  }
  return NULL;
}

static void test_list_at_during_writes(void **state)
{
  fixture *f = *state;
  toggler c = { f, 400 };
  pthread_t th;
  int64_t rv;
  char *then;
  void *res;

  for (int i = 0; i < 10; i += 2) {
    char k[32];

    snprintf(k, sizeof k, "p/o%02d", i);
    create(f, k);
  }
  then = now_text(f, "p/", NULL, &rv);
  assert_int_equal(pthread_create(&th, NULL, toggler_main, &c), 0);
  for (int i = 0; i < 200; i++) {
    char *past = past_text(f, "p/", NULL, rv);

    assert_string_equal(past, then);
    free(past);
  }
  pthread_join(th, &res);
  assert_null(res);
  assert_true(kapi_store_revision(f->s) == rv + 400);
  free(then);
}

/* ---- watch -------------------------------------------------------------- */

static void test_watch_from_rv(void **state)
{
  fixture *f = *state;
  kapi_watch *w = NULL;
  kapi_event *e = NULL;
  waiter wt;

  waiter_init(&wt);
  create(f, "core/pods/ns/a");         /* 1 */
  update(f, "core/pods/ns/a");         /* 2 */
  create(f, "core/nodes/n1");          /* 3, not watched */
  delete(f, "core/pods/ns/a");         /* 4 */
  create(f, "core/pods/ns/b");         /* 5 */

  assert_int_equal(kapi_store_watch(f->s, "core/pods/", 0, 0, waiter_notify,
                                    &wt, &w, NULL),
                   0);
  expect_event(w, &wt, KAPI_EVENT_ADDED, "core/pods/ns/a", 1, 0);
  expect_event(w, &wt, KAPI_EVENT_MODIFIED, "core/pods/ns/a", 2, 1);
  expect_event(w, &wt, KAPI_EVENT_DELETED, "core/pods/ns/a", 4, 2);
  expect_event(w, &wt, KAPI_EVENT_ADDED, "core/pods/ns/b", 5, 0);
  assert_int_equal(kapi_watch_next(w, &e), -EAGAIN);
  assert_int_equal(kapi_watch_revision(w), 5);

  /* Live changes, including one the watch skips. */
  create(f, "core/nodes/n2");          /* 6 */
  update(f, "core/pods/ns/b");         /* 7 */
  delete(f, "core/pods/ns/b");         /* 8 */
  expect_event(w, &wt, KAPI_EVENT_MODIFIED, "core/pods/ns/b", 7, 5);
  expect_event(w, &wt, KAPI_EVENT_DELETED, "core/pods/ns/b", 8, 7);
  assert_int_equal(kapi_watch_revision(w), 8);
  create(f, "core/nodes/n3");          /* 9 */
  kapi_watch_close(w);

  /* Resume in the middle: only what came after. */
  assert_int_equal(kapi_store_watch(f->s, "core/pods/", 4, 0, waiter_notify,
                                    &wt, &w, NULL),
                   0);
  expect_event(w, &wt, KAPI_EVENT_ADDED, "core/pods/ns/b", 5, 0);
  expect_event(w, &wt, KAPI_EVENT_MODIFIED, "core/pods/ns/b", 7, 5);
  expect_event(w, &wt, KAPI_EVENT_DELETED, "core/pods/ns/b", 8, 7);
  assert_int_equal(kapi_watch_next(w, &e), -EAGAIN);
  kapi_watch_close(w);

  /* From the current revision: nothing until the next change. */
  assert_int_equal(kapi_store_watch(f->s, "", kapi_store_revision(f->s), 0,
                                    waiter_notify, &wt, &w, NULL),
                   0);
  assert_int_equal(kapi_watch_next(w, &e), -EAGAIN);
  assert_int_equal(kapi_watch_revision(w), 9);
  create(f, "core/pods/ns/c");         /* 10 */
  expect_event(w, &wt, KAPI_EVENT_ADDED, "core/pods/ns/c", 10, 0);
  kapi_watch_close(w);
  waiter_destroy(&wt);
}

/* A watch from a revision the committer has not published yet (e.g. a
 * list's) sees exactly the later changes. */
static void test_watch_from_list_revision(void **state)
{
  fixture *f = *state;
  kapi_watch *w = NULL;
  store_obj **v;
  size_t n;
  int64_t rev;
  waiter wt;

  waiter_init(&wt);
  for (int i = 0; i < 10; i++) {
    char k[32];

    snprintf(k, sizeof k, "p/%d", i);
    create(f, k);
  }
  assert_int_equal(kapi_store_list(f->s, "p/", NULL, &v, &n, &rev), 0);
  free_list(v, n);
  assert_int_equal(rev, 10);
  assert_int_equal(kapi_store_watch(f->s, "p/", rev, 0, waiter_notify, &wt,
                                    &w, NULL),
                   0);
  update(f, "p/3");
  expect_event(w, &wt, KAPI_EVENT_MODIFIED, "p/3", 11, 4);
  kapi_watch_close(w);
  waiter_destroy(&wt);
}

static void test_watch_too_old(void **state)
{
  fixture *f = *state;
  kapi_watch *w = NULL;
  kapi_event *e = NULL;
  int64_t oldest = -1, rev;
  waiter wt;

  waiter_init(&wt);
  create(f, "k");
  for (int i = 0; i < 19; i++)
    update(f, "k");
  rev = kapi_store_revision(f->s);
  /* history = 5: the last 5 published events are kept (the newest may
   * still be on its way from the committer). */
  assert_int_equal(kapi_store_watch(f->s, "", 1, 0, waiter_notify, &wt, &w,
                                    &oldest),
                   -ERANGE);
  assert_true(oldest >= rev - 6 && oldest <= rev - 5);
  assert_true(kapi_store_oldest_watchable(f->s) >= oldest);
  assert_int_equal(kapi_store_watch(f->s, "", oldest - 1, 0, waiter_notify,
                                    &wt, &w, &oldest),
                   -ERANGE);
  assert_int_equal(kapi_store_watch(f->s, "", rev - 5, 0, waiter_notify, &wt,
                                    &w, NULL),
                   0);
  for (int64_t r = rev - 4; r <= rev; r++) {
    assert_int_equal(next_wait(w, &wt, &e), 0);
    assert_int_equal(e->rv, r);
    kapi_event_unref(e);
  }
  kapi_watch_close(w);

  /* After a restart nothing older than the current revision is kept. */
  reopen_store(f, 5, 0);
  assert_int_equal(kapi_store_oldest_watchable(f->s), rev);
  assert_int_equal(kapi_store_watch(f->s, "", rev - 1, 0, waiter_notify, &wt,
                                    &w, &oldest),
                   -ERANGE);
  assert_int_equal(oldest, rev);
  assert_int_equal(kapi_store_watch(f->s, "", rev, 0, waiter_notify, &wt, &w,
                                    NULL),
                   0);
  update(f, "k");
  expect_event(w, &wt, KAPI_EVENT_MODIFIED, "k", rev + 1, rev);
  kapi_watch_close(w);
  /* INITIAL never needs history. */
  assert_int_equal(kapi_store_watch(f->s, "k", 0, KAPI_WATCH_INITIAL,
                                    waiter_notify, &wt, &w, NULL),
                   0);
  assert_int_equal(kapi_watch_revision(w), 0);
  expect_event(w, &wt, KAPI_EVENT_ADDED, "k", rev + 1, 0);
  assert_int_equal(kapi_watch_revision(w), rev + 1);
  assert_int_equal(kapi_watch_next(w, &e), -EAGAIN);
  kapi_watch_close(w);
  waiter_destroy(&wt);
}

static void test_watch_overflow_closes(void **state)
{
  fixture *f = *state;
  kapi_watch *w = NULL, *other = NULL;
  kapi_event *e = NULL;
  waiter wt, wt2;
  int got = 0, r;

  waiter_init(&wt);
  waiter_init(&wt2);
  assert_int_equal(kapi_store_watch(f->s, "a/", 0, 0, waiter_notify, &wt, &w,
                                    NULL),
                   0);
  /* A watcher that keeps up is not affected. */
  assert_int_equal(kapi_store_watch(f->s, "a/", 0, 0, waiter_notify, &wt2,
                                    &other, NULL),
                   0);
  for (int i = 0; i < 10; i++) {
    char k[16];

    snprintf(k, sizeof k, "a/%d", i);
    create(f, k);
    assert_int_equal(next_wait(other, &wt2, &e), 0);
    assert_int_equal(e->rv, i + 1);
    kapi_event_unref(e);
  }
  /* watch_queue = 4: the first 4 are delivered, then the close. */
  while ((r = next_wait(w, &wt, &e)) == 0) {
    got++;
    assert_int_equal(e->rv, got);
    kapi_event_unref(e);
  }
  assert_int_equal(r, -EPIPE);
  assert_int_equal(got, 4);
  assert_int_equal(kapi_watch_next(w, &e), -EPIPE);
  assert_true(waiter_calls(&wt) >= 1);
  kapi_watch_close(w);

  /* A resume replaying more than the queue holds closes at once, after
   * the part that fits. */
  assert_int_equal(kapi_store_watch(f->s, "a/", 0, 0, waiter_notify, &wt, &w,
                                    NULL),
                   0);
  got = 0;
  while ((r = kapi_watch_next(w, &e)) == 0) {
    got++;
    kapi_event_unref(e);
  }
  assert_int_equal(r, -EPIPE);
  assert_int_equal(got, 4);
  kapi_watch_close(w);
  kapi_watch_close(other);
  waiter_destroy(&wt);
  waiter_destroy(&wt2);
}

static void test_close_store_closes_watchers(void **state)
{
  fixture *f = *state;
  kapi_watch *w = NULL;
  kapi_event *e = NULL;
  waiter wt;

  waiter_init(&wt);
  assert_int_equal(kapi_store_watch(f->s, "", 0, 0, waiter_notify, &wt, &w,
                                    NULL),
                   0);
  create(f, "k");
  kapi_store_close(f->s);
  f->s = NULL;
  assert_true(waiter_calls(&wt) >= 1);
  /* Events already queued stay readable after the store is gone. */
  assert_int_equal(kapi_watch_next(w, &e), 0);
  assert_int_equal(e->rv, 1);
  kapi_event_unref(e);
  assert_int_equal(kapi_watch_next(w, &e), -EPIPE);
  kapi_watch_close(w);
  waiter_destroy(&wt);
  open_store(f, 0, 0);
  assert_int_equal(kapi_store_revision(f->s), 1);
}

/* Writers racing with the start of an INITIAL watch. */
typedef struct churn {
  fixture *f;
  int n;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int done;
} churn;

static void *churn_main(void *arg)
{
  churn *c = arg;
  seen sn;

  for (int i = 0; i < c->n; i++) {
    char k[32];
    int op = i % 3;

    snprintf(k, sizeof k, "w/%02d", (i * 7) % 40);
    if (op == 0)
      kapi_store_update(c->f->s, k, put_fn, (void *)obj_json(k), NULL);
    else if (op == 1)
      kapi_store_update(c->f->s, k, bump_fn, &sn, NULL);
    else
      kapi_store_update(c->f->s, k, toggle_fn, (void *)obj_json(k), NULL);
    if (i == c->n / 4) {
      pthread_mutex_lock(&c->mu);
      c->done = 1; /* a quarter written: let the watch start */
      pthread_cond_signal(&c->cv);
      pthread_mutex_unlock(&c->mu);
    }
  }
  return NULL;
}

/* The state built from the events, key -> rv and JSON. */
typedef struct mirror {
  char *key[64];
  char *json[64];
  int64_t rv[64];
  int n;
} mirror;

static int mirror_find(mirror *m, const char *key)
{
  for (int i = 0; i < m->n; i++)
    if (strcmp(m->key[i], key) == 0)
      return i;
  return -1;
}

static void mirror_apply(mirror *m, const kapi_event *e)
{
  int i = mirror_find(m, e->obj->key);

  if (e->type == KAPI_EVENT_DELETED) {
    assert_true(i >= 0);
    assert_int_equal(m->rv[i], e->old->rv);
    free(m->key[i]);
    free(m->json[i]);
    m->n--;
    m->key[i] = m->key[m->n];
    m->json[i] = m->json[m->n];
    m->rv[i] = m->rv[m->n];
    return;
  }
  if (e->type == KAPI_EVENT_ADDED) {
    assert_true(i < 0);
    i = m->n++;
    m->key[i] = strdup(e->obj->key);
  } else {
    assert_true(i >= 0);
    assert_int_equal(m->rv[i], e->old->rv);
    free(m->json[i]);
  }
  m->json[i] = strdup(e->obj->json);
  m->rv[i] = e->obj->rv;
}

static void mirror_free(mirror *m)
{
  for (int i = 0; i < m->n; i++) {
    free(m->key[i]);
    free(m->json[i]);
  }
}

static void test_watch_initial_concurrent(void **state)
{
  fixture *f = *state;
  churn c = { .f = f, .n = 900 };
  kapi_watch *w = NULL;
  kapi_event *e = NULL;
  mirror m = { .n = 0 };
  pthread_t th;
  int64_t snap, final, next_rv;
  store_obj **v;
  size_t n;
  waiter wt;

  waiter_init(&wt);
  pthread_mutex_init(&c.mu, NULL);
  pthread_cond_init(&c.cv, NULL);
  for (int i = 0; i < 40; i += 2) {
    char k[32];

    snprintf(k, sizeof k, "w/%02d", i);
    create(f, k);
  }
  create(f, "other/x");
  assert_int_equal(pthread_create(&th, NULL, churn_main, &c), 0);
  pthread_mutex_lock(&c.mu);
  while (!c.done)
    pthread_cond_wait(&c.cv, &c.mu);
  pthread_mutex_unlock(&c.mu);

  assert_int_equal(kapi_store_watch(f->s, "w/", 12345, KAPI_WATCH_INITIAL,
                                    waiter_notify, &wt, &w, NULL),
                   0);
  /* The initial burst: ADDED only, in key order. */
  while (kapi_watch_revision(w) == 0) {
    assert_int_equal(next_wait(w, &wt, &e), 0);
    assert_int_equal(e->type, KAPI_EVENT_ADDED);
    assert_null(e->old);
    if (m.n > 0)
      assert_true(strcmp(m.key[m.n - 1], e->obj->key) < 0);
    mirror_apply(&m, e);
    kapi_event_unref(e);
  }
  snap = kapi_watch_revision(w);
  assert_true(snap > 21);
  for (int i = 0; i < m.n; i++)
    assert_true(m.rv[i] <= snap);

  pthread_join(th, NULL);
  final = kapi_store_revision(f->s);
  assert_int_equal(final, 21 + c.n);
  /* Every later change, each revision exactly once. */
  for (next_rv = snap + 1; next_rv <= final; next_rv++) {
    assert_int_equal(next_wait(w, &wt, &e), 0);
    assert_int_equal(e->rv, next_rv);
    mirror_apply(&m, e);
    kapi_event_unref(e);
  }
  assert_int_equal(kapi_watch_next(w, &e), -EAGAIN);
  assert_int_equal(kapi_watch_revision(w), final);

  /* The mirror is the store. */
  assert_int_equal(kapi_store_list(f->s, "w/", NULL, &v, &n, NULL), 0);
  assert_int_equal(n, m.n);
  for (size_t i = 0; i < n; i++) {
    int j = mirror_find(&m, v[i]->key);

    assert_true(j >= 0);
    assert_int_equal(m.rv[j], v[i]->rv);
    assert_string_equal(m.json[j], v[i]->json);
  }
  free_list(v, n);
  mirror_free(&m);
  kapi_watch_close(w);
  pthread_mutex_destroy(&c.mu);
  pthread_cond_destroy(&c.cv);
  waiter_destroy(&wt);
}

/* ---- concurrent writers ------------------------------------------------- */

enum { WRITERS = 8, WRITES = 200 };

typedef struct writer {
  fixture *f;
  int id;
  int64_t rv[WRITES];
} writer;

static void *writer_main(void *arg)
{
  writer *wr = arg;

  for (int i = 0; i < WRITES; i++) {
    char k[48];
    store_obj *o = NULL;

    snprintf(k, sizeof k, "core/cm/t%d/o%03d", wr->id, i);
    if (kapi_store_update(wr->f->s, k, create_fn, (void *)obj_json(k), &o) !=
        KAPI_STORE_PUT)
      return (void *)1;
    wr->rv[i] = o->rv;
    store_obj_unref(o);
  }
  return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

  return (x > y) - (x < y);
}

static void test_concurrent_writers(void **state)
{
  fixture *f = *state;
  static writer wr[WRITERS];
  static int64_t all[WRITERS * WRITES];
  pthread_t th[WRITERS];
  store_obj *o;

  for (int i = 0; i < WRITERS; i++) {
    wr[i] = (writer){ .f = f, .id = i };
    assert_int_equal(pthread_create(&th[i], NULL, writer_main, &wr[i]), 0);
  }
  for (int i = 0; i < WRITERS; i++) {
    void *res;

    pthread_join(th[i], &res);
    assert_null(res);
    /* One writer's revisions increase. */
    for (int j = 1; j < WRITES; j++)
      assert_true(wr[i].rv[j] > wr[i].rv[j - 1]);
    memcpy(all + i * WRITES, wr[i].rv, sizeof wr[i].rv);
  }
  qsort(all, WRITERS * WRITES, sizeof *all, cmp_i64);
  for (int i = 0; i < WRITERS * WRITES; i++)
    assert_int_equal(all[i], i + 1); /* distinct, no holes */

  reopen_store(f, 0, 0);
  assert_int_equal(kapi_store_revision(f->s), WRITERS * WRITES);
  for (int i = 0; i < WRITERS; i++) {
    for (int j = 0; j < WRITES; j++) {
      char k[48];

      snprintf(k, sizeof k, "core/cm/t%d/o%03d", i, j);
      assert_int_equal(kapi_store_get(f->s, k, &o), 0);
      assert_int_equal(o->rv, wr[i].rv[j]);
      assert_int_equal(json_rv(o), wr[i].rv[j]);
      store_obj_unref(o);
    }
  }
}

/* The durable hook's last report, for test_deferred_durability. */
static int64_t hook_rv;
static pthread_mutex_t hook_mu = PTHREAD_MUTEX_INITIALIZER;

static void on_durable(void *arg, int64_t rv)
{
  (void)arg;
  pthread_mutex_lock(&hook_mu);
  hook_rv = rv;
  pthread_mutex_unlock(&hook_mu);
}

/* In a deferred section writes return at once and the section ends with
 * the revision to wait for; the durable hook reports it once committed,
 * and nothing outside a section is deferred. */
static void test_deferred_durability(void **state)
{
  fixture *f = *state;
  store_obj *o = NULL;
  int64_t need, seen;

  kapi_store_set_durable_hook(f->s, on_durable, NULL);
  kapi_store_defer_begin();
  assert_int_equal(kapi_store_update(f->s, "core/cm/d/a", create_fn,
                                     (void *)obj_json("core/cm/d/a"), &o),
                   KAPI_STORE_PUT);
  store_obj_unref(o);
  assert_int_equal(kapi_store_update(f->s, "core/cm/d/b", create_fn,
                                     (void *)obj_json("core/cm/d/b"), &o),
                   KAPI_STORE_PUT);
  need = o->rv;
  store_obj_unref(o);
  /* A refused write in the section still reports what it rested on. */
  assert_int_equal(kapi_store_update(f->s, "core/cm/d/b", create_fn,
                                     (void *)obj_json("core/cm/d/b"), NULL),
                   -EEXIST);
  assert_int_equal(kapi_store_defer_end(), need);
  assert_int_equal(kapi_store_defer_end(), 0); /* ended: nothing left */
  kapi_store_wait_durable(f->s, need);
  assert_true(kapi_store_durable_revision(f->s) >= need);
  pthread_mutex_lock(&hook_mu);
  seen = hook_rv;
  pthread_mutex_unlock(&hook_mu);
  assert_true(seen >= need);
  /* Outside a section a write returns only once durable. */
  assert_int_equal(kapi_store_update(f->s, "core/cm/d/c", create_fn,
                                     (void *)obj_json("core/cm/d/c"), &o),
                   KAPI_STORE_PUT);
  assert_true(kapi_store_durable_revision(f->s) >= o->rv);
  store_obj_unref(o);
  kapi_store_set_durable_hook(f->s, NULL, NULL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_create_get_update_delete, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_delete_returns_last_version, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_prefix_revision, setup, teardown),
    cmocka_unit_test_setup_teardown(test_noop, setup, teardown),
    cmocka_unit_test_setup_teardown(test_callback_errors, setup, teardown),
    cmocka_unit_test_setup_teardown(test_references_are_stable, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_revision_persists_across_reopen,
                                    setup, teardown),
    cmocka_unit_test(test_open_errors),
    cmocka_unit_test_setup_teardown(test_list_prefix_and_start, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_list_order_and_paging, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_list_at_past_revisions, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_list_at_too_old,
                                    setup_small_history, teardown),
    cmocka_unit_test_setup_teardown(test_list_at_during_writes, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_watch_from_rv, setup, teardown),
    cmocka_unit_test_setup_teardown(test_watch_from_list_revision, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_watch_too_old, setup_small_history,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_watch_overflow_closes,
                                    setup_small_queue, teardown),
    cmocka_unit_test_setup_teardown(test_close_store_closes_watchers, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_watch_initial_concurrent, setup,
                                    teardown),
    cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
    cmocka_unit_test_setup_teardown(test_deferred_durability, setup,
                                    teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
