/*
 * test_pleg.c - the PLEG relist (core/kubelet/pleg.c) against a stub
 * runtime: a container that appears, changes state, is restarted or
 * disappears queues its pod's uid (through the sandbox index, once per
 * pod); an unchanged relist queues nothing; containers of unknown
 * sandboxes are ignored.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet.h"

/* ---- a stub runtime: list_containers over an array ------------------- */

typedef struct stub {
  kapi_container_status c[8];
  size_t n;
} stub;

static int stub_list(void *st, kapi_container_status_fn fn, void *arg)
{
  stub *s = st;
  size_t i;
  for (i = 0; i < s->n; i++)
    fn(arg, &s->c[i]);
  return 0;
}

static const kapi_runtime_ops stub_ops = {
    .size = sizeof(kapi_runtime_ops),
    .list_containers = stub_list,
};

static void add(stub *s, const char *id, const char *sandbox,
                kapi_container_state state)
{
  s->c[s->n++] = (kapi_container_status){.size = sizeof(kapi_container_status),
                                         .id = id,
                                         .sandbox_id = sandbox,
                                         .name = "c",
                                         .state = state,
                                         .started_at = 1};
}

/* ---- a kubelet with just what the PLEG touches ------------------------- */

typedef struct fx {
  kl k;
  stub rt;
  kl_pleg *pl;
} fx;

static int setup(void **state)
{
  fx *f = calloc(1, sizeof *f);
  assert_non_null(f);
  pthread_mutex_init(&f->k.mu, NULL);
  f->k.rt = &stub_ops;
  f->k.rt_st = &f->rt;
  f->k.sandboxes = kapi__strmap_new();
  f->k.queue = kapi_workqueue_new("test");
  assert_non_null(f->k.sandboxes);
  assert_non_null(f->k.queue);
  kl_sandbox_register(&f->k, "sb1", "uid-1");
  kl_sandbox_register(&f->k, "sb2", "uid-2");
  f->pl = kl_pleg_new(&f->k);
  assert_non_null(f->pl);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fx *f = *state;
  kl_pleg_free(f->pl);
  kapi_workqueue_shutdown(f->k.queue);
  kapi_workqueue_free(f->k.queue);
  kapi__strmap_free(f->k.sandboxes, free);
  pthread_mutex_destroy(&f->k.mu);
  free(f);
  return 0;
}

/* The queued uids, sorted, space-separated; the queue is drained. */
static const char *drain(fx *f)
{
  static char buf[256];
  char *uids[16];
  size_t n = 0, i, j, len = 0;
  while (kapi_workqueue_len(f->k.queue) > 0 && n < 16) {
    char *uid;
    assert_int_equal(kapi_workqueue_get(f->k.queue, &uid), 0);
    kapi_workqueue_done(f->k.queue, uid);
    uids[n++] = uid;
  }
  for (i = 1; i < n; i++)
    for (j = i; j > 0 && strcmp(uids[j - 1], uids[j]) > 0; j--) {
      char *t = uids[j];
      uids[j] = uids[j - 1];
      uids[j - 1] = t;
    }
  buf[0] = '\0';
  for (i = 0; i < n; i++) {
    len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", i ? " " : "",
                            uids[i]);
    free(uids[i]);
  }
  return buf;
}

static void test_relist(void **state)
{
  fx *f = *state;

  add(&f->rt, "a", "sb1", KAPI_CONTAINER_RUNNING);
  add(&f->rt, "b", "sb1", KAPI_CONTAINER_RUNNING);
  add(&f->rt, "c", "sb2", KAPI_CONTAINER_CREATED);
  add(&f->rt, "x", "unknown", KAPI_CONTAINER_RUNNING);
  /* New containers: each pod once (the queue deduplicates). */
  assert_int_equal(kl_pleg_relist(f->pl), 3);
  assert_string_equal(drain(f), "uid-1 uid-2");

  /* Nothing changed: nothing queued. */
  assert_int_equal(kl_pleg_relist(f->pl), 0);
  assert_string_equal(drain(f), "");

  /* c started (ContainerStarted). */
  f->rt.c[2].state = KAPI_CONTAINER_RUNNING;
  assert_int_equal(kl_pleg_relist(f->pl), 1);
  assert_string_equal(drain(f), "uid-2");

  /* b died (ContainerDied). */
  f->rt.c[1].state = KAPI_CONTAINER_EXITED;
  f->rt.c[1].finished_at = 5;
  assert_int_equal(kl_pleg_relist(f->pl), 1);
  assert_string_equal(drain(f), "uid-1");

  /* a removed (ContainerRemoved): the last array entry moves into its
   * place; x is the unknown sandbox's and stays unqueued. */
  f->rt.c[0] = f->rt.c[3];
  f->rt.n = 3;
  assert_int_equal(kl_pleg_relist(f->pl), 1);
  assert_string_equal(drain(f), "uid-1");

  /* A forgotten sandbox no longer maps to a pod. */
  kl_sandbox_forget(&f->k, "sb2");
  f->rt.c[2].state = KAPI_CONTAINER_EXITED;
  assert_int_equal(kl_pleg_relist(f->pl), 0);
  assert_string_equal(drain(f), "");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_relist, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
