/*
 * store_bench.c - create throughput of the Store, fsync on.
 *
 * Opens a fresh store in a temporary directory for each run and has 1,
 * 16 and 64 threads create Pod-sized objects (≈1.3 KB of JSON) under
 * distinct keys, each create going through kapi_store_update and
 * returning only once its group commit is fsync'ed.  Prints one line per
 * run:
 *   store_create_1thread 1234 ops/s
 *   store_create_64threads 5678 ops/s
 *
 * Usage: store_bench [creates-per-run] [dir-parent]
 * (default 20000 creates, 1/10 of that single-threaded; TMPDIR or /tmp).
 * Measure on a real disk: fsync on tmpfs is free.
 *
 * Build: gcc -std=gnu11 -O2 -pthread -I include -I core/lib
 *   bench/store_bench.c core/lib/store.c core/lib/storage_leveldb.c
 *   core/lib/json.c core/lib/log.c -lyajl -lleveldb -o store_bench
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* nftw */
#endif
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "store.h"

static const char *pod_json =
  "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"x\","
  "\"namespace\":\"bench\",\"uid\":\"6f1c1f9e-6a51-4d2b-9a3f-2b8f0f1d4c11\","
  "\"creationTimestamp\":\"2024-01-01T00:00:00Z\",\"labels\":{\"app\":\"web\","
  "\"tier\":\"frontend\",\"pod-template-hash\":\"5d8f7c9b6d\"}},"
  "\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":\"nginx:1.25\","
  "\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"}],"
  "\"resources\":{\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\"},"
  "\"limits\":{\"cpu\":\"500m\",\"memory\":\"256Mi\"}},"
  "\"env\":[{\"name\":\"MODE\",\"value\":\"production\"},"
  "{\"name\":\"LOG_LEVEL\",\"value\":\"info\"}],"
  "\"volumeMounts\":[{\"name\":\"data\",\"mountPath\":\"/var/lib/web\"}],"
  "\"terminationMessagePath\":\"/dev/termination-log\","
  "\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":\"IfNotPresent\"},"
  "{\"name\":\"sidecar\",\"image\":\"busybox:1.36\",\"command\":[\"sh\","
  "\"-c\",\"while true; do sleep 3600; done\"],"
  "\"resources\":{\"requests\":{\"cpu\":\"10m\",\"memory\":\"16Mi\"}},"
  "\"terminationMessagePath\":\"/dev/termination-log\","
  "\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":\"IfNotPresent\"}],"
  "\"volumes\":[{\"name\":\"data\",\"emptyDir\":{}}],"
  "\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,"
  "\"dnsPolicy\":\"ClusterFirst\",\"serviceAccountName\":\"default\","
  "\"schedulerName\":\"default-scheduler\",\"enableServiceLinks\":true,"
  "\"priority\":0,\"preemptionPolicy\":\"PreemptLowerPriority\"},"
  "\"status\":{\"phase\":\"Pending\",\"qosClass\":\"Burstable\"}}";

static kj *pod_template;

typedef struct run {
  kapi_store *s;
  int thread, threads, n;
  long failed;
} run;

/* Creates the pod named by arg from the template. */
static int create_fn(const kj *cur, void *arg, kj **ret_new)
{
  kj *pod;

  if (cur)
    return -EEXIST;
  pod = kj_clone(pod_template);
  if (!pod)
    return -ENOMEM;
  if (kj_set_str(kj_get(pod, "metadata"), "name", arg) < 0) {
    kj_free(pod);
    return -ENOMEM;
  }
  *ret_new = pod;
  return KAPI_STORE_PUT;
}

static void *writer_main(void *arg)
{
  run *r = arg;

  for (int i = r->thread; i < r->n; i += r->threads) {
    char name[32], key[64];

    snprintf(name, sizeof name, "pod-%d", i);
    snprintf(key, sizeof key, "core/pods/bench/%s", name);
    if (kapi_store_update(r->s, key, create_fn, name, NULL) != KAPI_STORE_PUT)
      r->failed++;
  }
  return NULL;
}

static double now(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* One fresh store, `threads` writers, n creates.  Returns ops/s, or -1. */
static double bench_creates(const char *parent, int threads, int n)
{
  kapi_store_options o = { .fsync = 1 };
  pthread_t th[64];
  run runs[64];
  char dir[4096], err[256];
  kapi_store *s;
  double t0, dt;
  long failed = 0;

  snprintf(dir, sizeof dir, "%s/kapi-store-bench-XXXXXX", parent);
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return -1;
  }
  o.dir = dir;
  if (kapi_store_open(&o, &s, err, sizeof err) < 0) {
    fprintf(stderr, "open: %s\n", err);
    return -1;
  }
  t0 = now();
  for (int i = 0; i < threads; i++) {
    runs[i] = (run){ .s = s, .thread = i, .threads = threads, .n = n };
    pthread_create(&th[i], NULL, writer_main, &runs[i]);
  }
  for (int i = 0; i < threads; i++) {
    pthread_join(th[i], NULL);
    failed += runs[i].failed;
  }
  dt = now() - t0;
  kapi_store_close(s);
  nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  if (failed) {
    fprintf(stderr, "%ld creates failed\n", failed);
    return -1;
  }
  return n / dt;
}

int main(int argc, char **argv)
{
  static const int threads[] = { 1, 16, 64 };
  const char *parent = getenv("TMPDIR");
  int n = argc > 1 ? atoi(argv[1]) : 20000;
  char err[128];

  if (argc > 2)
    parent = argv[2];
  if (!parent || !*parent)
    parent = "/tmp";
  if (n <= 0 || kj_parse(pod_json, strlen(pod_json), &pod_template, err,
                         sizeof err) < 0) {
    fprintf(stderr, "usage: store_bench [creates-per-run] [dir-parent]\n");
    return 2;
  }
  for (size_t i = 0; i < sizeof threads / sizeof *threads; i++) {
    int t = threads[i];
    /* One thread pays one fsync per create: fewer of them suffice. */
    double ops = bench_creates(parent, t, t == 1 ? n / 10 : n);

    if (ops < 0)
      return 1;
    printf("store_create_%d%s %.0f ops/s\n", t, t == 1 ? "thread" : "threads",
           ops);
    fflush(stdout);
  }
  kj_free(pod_template);
  return 0;
}
