/*
 * test_process.c - the process runtime (plugins/runtime/process) with real
 * processes: output in the log file, exit codes and reasons, stop with a
 * grace period (SIGTERM honoured, SIGTERM ignored then SIGKILL), the
 * whole process group stopped, env / fieldRef / $(VAR) / workingDir,
 * containers that cannot run, and the sandbox calls.
 *
 * Waits are bounded polls on the observable state (never an assertion on
 * how long something took).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rt_helper.h"

typedef struct fx {
  rt_fixture *rt;
  char dir[256];
  char sandbox[KAPI_ID_MAX];
  kj *pod;
} fx;

static const char *const POD =
    "{\"metadata\":{\"name\":\"mypod\",\"namespace\":\"ns1\","
    "\"uid\":\"11111111-2222-3333-4444-555555555555\"},"
    "\"spec\":{\"nodeName\":\"n1\"},"
    "\"status\":{\"podIP\":\"127.0.0.1\",\"hostIP\":\"10.0.0.9\"}}";

static int setup(void **state)
{
  fx *f = calloc(1, sizeof *f);
  kapi_error e;

  assert_non_null(f);
  f->rt = rt_load("process");
  snprintf(f->dir, sizeof f->dir, "%s/kapi-rt-XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  assert_non_null(mkdtemp(f->dir));
  f->pod = rt_parse(POD);
  kapi_error_init(&e);
  assert_int_equal(
      f->rt->ops->run_pod_sandbox(f->rt->st, f->pod, f->sandbox, &e), 0);
  assert_true(strlen(f->sandbox) > 0);
  kapi_error_clear(&e);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fx *f = *state;
  char cmd[512];
  f->rt->ops->remove_pod_sandbox(f->rt->st, f->sandbox);
  rt_unload(f->rt);
  kj_free(f->pod);
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
  assert_int_equal(system(cmd), 0);
  free(f);
  return 0;
}

static void sleep_ms(int ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Creates and starts a container from its JSON spec; returns 0 or the
 * start error (and the id either way). */
static int run(fx *f, const char *spec, const char *log, char *id)
{
  kj *c = rt_parse(spec);
  kapi_error e;
  char path[512];
  int rc;

  snprintf(path, sizeof path, "%s/%s", f->dir, log);
  kapi_error_init(&e);
  assert_int_equal(f->rt->ops->create_container(f->rt->st, f->sandbox,
                                                f->pod, c, path, id, &e),
                   0);
  assert_int_equal(rt_get(f->rt, id).state, KAPI_CONTAINER_CREATED);
  rc = f->rt->ops->start_container(f->rt->st, id, &e);
  if (rc < 0)
    assert_int_equal(e.code, 500);
  kapi_error_clear(&e);
  kj_free(c);
  return rc;
}

/* Polls (up to 20 s) until the container has exited. */
static rt_status wait_exited(fx *f, const char *id)
{
  rt_status s;
  int i;
  for (i = 0; i < 2000; i++) {
    s = rt_get(f->rt, id);
    if (s.state == KAPI_CONTAINER_EXITED)
      return s;
    sleep_ms(10);
  }
  fail_msg("container %s did not exit", id);
  return s;
}

/* The text of a CRI log ("<time> <stream> <F|P> <text>" records) in
 * place: F records end with a newline, P records do not.  A record that
 * is not in that format stays as it is, so the comparison fails. */
static void cri_text(char *buf)
{
  char *in = buf, *out = buf;
  while (*in) {
    char *nl = strchr(in, '\n'), *p = in, *text;
    int full, i;
    if (!nl)
      break; /* a record being written */
    for (i = 0; i < 2 && p < nl; i++) { /* skip the time and the stream */
      char *sp = memchr(p, ' ', (size_t)(nl - p));
      p = sp ? sp + 1 : nl;
    }
    if (p + 2 > nl || (p[0] != 'F' && p[0] != 'P') || p[1] != ' ') {
      text = in;
      full = 1;
    } else {
      text = p + 2;
      full = p[0] == 'F';
    }
    memmove(out, text, (size_t)(nl - text));
    out += nl - text;
    if (full)
      *out++ = '\n';
    in = nl + 1;
  }
  *out = '\0';
}

/* Polls (up to 20 s) until the log's content is `want` (or, with
 * `sub`, contains it). */
static void wait_log_match(fx *f, const char *log, const char *want, int sub)
{
  char path[512], buf[4096];
  int i;
  snprintf(path, sizeof path, "%s/%s", f->dir, log);
  for (i = 0; i < 2000; i++) {
    FILE *fp = fopen(path, "r");
    size_t n = 0;
    if (fp) {
      n = fread(buf, 1, sizeof buf - 1, fp);
      fclose(fp);
    }
    buf[n] = '\0';
    cri_text(buf);
    if (sub ? strstr(buf, want) != NULL : !strcmp(buf, want))
      return;
    sleep_ms(10);
  }
  fail_msg("log %s is \"%s\", want \"%s\"", log, buf, want);
}

static void wait_log(fx *f, const char *log, const char *want)
{
  wait_log_match(f, log, want, 0);
}

/* The first number in the log (a pid the container echoed). */
static pid_t log_pid(fx *f, const char *log)
{
  char path[512];
  long pid = 0;
  int i;
  snprintf(path, sizeof path, "%s/%s", f->dir, log);
  for (i = 0; i < 2000 && pid <= 0; i++) {
    FILE *fp = fopen(path, "r");
    if (fp) {
      /* The first record: "<time> stdout F <pid>". */
      if (fscanf(fp, "%*s %*s %*s %ld", &pid) != 1)
        pid = 0;
      fclose(fp);
    }
    if (pid <= 0)
      sleep_ms(10);
  }
  assert_true(pid > 0);
  return (pid_t)pid;
}

/* True once pid is gone (polls up to 10 s; a zombie counts as gone only
 * when reaped by its parent, so ask /proc for the state too). */
static int gone(pid_t pid)
{
  int i;
  for (i = 0; i < 1000; i++) {
    char path[64], st = 0;
    FILE *fp;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    fp = fopen(path, "r");
    if (!fp)
      return 1;
    if (fscanf(fp, "%*d (%*[^)]) %c", &st) != 1)
      st = 0;
    fclose(fp);
    if (st == 'Z')
      return 1;
    sleep_ms(10);
  }
  return 0;
}

static void test_runs_and_logs(void **state)
{
  fx *f = *state;
  char id[KAPI_ID_MAX];
  rt_status s;

  assert_int_equal(run(f, "{\"name\":\"c1\",\"image\":\"busybox\","
                          "\"command\":[\"sh\",\"-c\"],"
                          "\"args\":[\"echo hi; echo err >&2; sleep 30\"]}",
                       "c1.log", id),
                   0);
  s = rt_get(f->rt, id);
  assert_int_equal(s.state, KAPI_CONTAINER_RUNNING);
  assert_string_equal(s.name, "c1");
  assert_string_equal(s.sandbox_id, f->sandbox);
  assert_true(s.created_at > 0 && s.started_at >= s.created_at);
  assert_int_equal(s.finished_at, 0);
  assert_non_null(strstr(s.log_path, "c1.log"));
  wait_log(f, "c1.log", "hi\nerr\n");
  assert_int_equal(rt_list_len(f->rt), 1);

  /* sh exits on SIGTERM: 128 + 15. */
  assert_int_equal(f->rt->ops->stop_container(f->rt->st, id, 10), 0);
  s = rt_get(f->rt, id);
  assert_int_equal(s.state, KAPI_CONTAINER_EXITED);
  assert_int_equal(s.exit_code, 143);
  assert_string_equal(s.reason, "Error");
  assert_true(s.finished_at >= s.started_at);
  assert_int_equal(f->rt->ops->remove_container(f->rt->st, id), 0);
  assert_int_equal(rt_list_len(f->rt), 0);
  assert_int_equal(f->rt->ops->container_status(f->rt->st, id, rt_copy, NULL),
                   -ENOENT);
}

static void test_exit_codes(void **state)
{
  fx *f = *state;
  char a[KAPI_ID_MAX], b[KAPI_ID_MAX];
  rt_status s;

  assert_int_equal(run(f, "{\"name\":\"fail\",\"command\":[\"sh\",\"-c\","
                          "\"exit 7\"]}",
                       "fail.log", a),
                   0);
  assert_int_equal(run(f, "{\"name\":\"ok\",\"command\":[\"true\"]}",
                       "ok.log", b),
                   0);
  s = wait_exited(f, a);
  assert_int_equal(s.exit_code, 7);
  assert_string_equal(s.reason, "Error");
  assert_true(s.finished_at >= s.started_at && s.started_at > 0);
  s = wait_exited(f, b);
  assert_int_equal(s.exit_code, 0);
  assert_string_equal(s.reason, "Completed");
  /* Stopping an exited container changes nothing. */
  assert_int_equal(f->rt->ops->stop_container(f->rt->st, a, 1), 0);
  assert_int_equal(rt_get(f->rt, a).exit_code, 7);
}

static void test_grace_honoured(void **state)
{
  fx *f = *state;
  char id[KAPI_ID_MAX];
  rt_status s;

  assert_int_equal(
      run(f, "{\"name\":\"t\",\"command\":[\"sh\",\"-c\","
             "\"trap 'echo term; exit 3' TERM; echo ready; "
             "while :; do sleep 0.05; done\"]}",
          "t.log", id),
      0);
  wait_log(f, "t.log", "ready\n");
  assert_int_equal(f->rt->ops->stop_container(f->rt->st, id, 20), 0);
  s = rt_get(f->rt, id);
  assert_int_equal(s.state, KAPI_CONTAINER_EXITED);
  assert_int_equal(s.exit_code, 3);
  /* sh may also report its sleep child's "Terminated". */
  wait_log_match(f, "t.log", "term\n", 1);
}

static void test_grace_ignored_then_killed(void **state)
{
  fx *f = *state;
  char id[KAPI_ID_MAX];
  rt_status s;

  assert_int_equal(run(f, "{\"name\":\"stubborn\",\"command\":[\"sh\",\"-c\","
                          "\"trap '' TERM; echo $$$$; sleep 300\"]}",
                       "s.log", id),
                   0);
  log_pid(f, "s.log");
  assert_int_equal(f->rt->ops->stop_container(f->rt->st, id, 1), 0);
  s = rt_get(f->rt, id);
  assert_int_equal(s.state, KAPI_CONTAINER_EXITED);
  assert_int_equal(s.exit_code, 137); /* SIGKILL */
}

static void test_process_group_stopped(void **state)
{
  fx *f = *state;
  char a[KAPI_ID_MAX], b[KAPI_ID_MAX];
  pid_t bg;

  /* A stopped container takes its background children along. */
  assert_int_equal(run(f, "{\"name\":\"group\",\"command\":[\"sh\",\"-c\","
                          "\"sleep 300 & echo $!; wait\"]}",
                       "g.log", a),
                   0);
  bg = log_pid(f, "g.log");
  assert_int_equal(kill(bg, 0), 0);
  assert_int_equal(f->rt->ops->stop_container(f->rt->st, a, 5), 0);
  assert_true(gone(bg));

  /* So does one whose main process simply exits. */
  assert_int_equal(run(f, "{\"name\":\"orphan\",\"command\":[\"sh\",\"-c\","
                          "\"sleep 300 & echo $!\"]}",
                       "o.log", b),
                   0);
  bg = log_pid(f, "o.log");
  assert_int_equal(wait_exited(f, b).exit_code, 0);
  assert_true(gone(bg));
}

static void test_env_and_workdir(void **state)
{
  fx *f = *state;
  char id[KAPI_ID_MAX];

  assert_int_equal(
      run(f,
          "{\"name\":\"env\",\"workingDir\":\"/\","
          "\"command\":[\"sh\",\"-c\",\"echo $(GREETING) $$1; "
          "echo $FOO $POD $NS $IP $UNSET_REF; pwd\"],"
          "\"args\":[\"x\",\"$(MISSING)\"],"
          "\"env\":[{\"name\":\"FOO\",\"value\":\"bar\"},"
          "{\"name\":\"GREETING\",\"value\":\"hello-$(FOO)\"},"
          "{\"name\":\"POD\",\"valueFrom\":{\"fieldRef\":"
          "{\"fieldPath\":\"metadata.name\"}}},"
          "{\"name\":\"NS\",\"valueFrom\":{\"fieldRef\":"
          "{\"fieldPath\":\"metadata.namespace\"}}},"
          "{\"name\":\"IP\",\"valueFrom\":{\"fieldRef\":"
          "{\"fieldPath\":\"status.podIP\"}}}]}",
          "env.log", id),
      0);
  assert_int_equal(wait_exited(f, id).exit_code, 0);
  /* $(GREETING) expanded by the runtime, $$1 escaped to $1 for sh
   * ($1 = "$(MISSING)", kept verbatim as upstream does). */
  wait_log(f, "env.log", "hello-bar $(MISSING)\nbar mypod ns1 127.0.0.1\n/\n");
}

static void test_cannot_run(void **state)
{
  fx *f = *state;
  char a[KAPI_ID_MAX], b[KAPI_ID_MAX];
  rt_status s;

  /* No command: there is no image to take one from. */
  assert_int_equal(run(f, "{\"name\":\"nocmd\",\"image\":\"nginx:1.27\"}",
                       "n.log", a),
                   -ENOEXEC);
  s = rt_get(f->rt, a);
  assert_int_equal(s.state, KAPI_CONTAINER_EXITED);
  assert_int_equal(s.exit_code, 128);
  assert_string_equal(s.reason, "ContainerCannotRun");
  assert_non_null(strstr(s.message, "no command specified"));
  assert_non_null(strstr(s.message, "\"nginx:1.27\""));

  assert_int_equal(run(f, "{\"name\":\"missing\",\"command\":"
                          "[\"no-such-command-kapi\"]}",
                       "m.log", b),
                   -ENOENT);
  s = rt_get(f->rt, b);
  assert_string_equal(s.reason, "ContainerCannotRun");
  assert_string_equal(s.message, "exec: \"no-such-command-kapi\": "
                                 "executable file not found in $PATH");
  assert_int_equal(s.exit_code, 128);
}

static void test_errors_and_sandbox(void **state)
{
  fx *f = *state;
  char a[KAPI_ID_MAX], b[KAPI_ID_MAX], sb2[KAPI_ID_MAX], id[KAPI_ID_MAX];
  kj *c = rt_parse("{\"name\":\"x\",\"command\":[\"true\"]}");
  kapi_error e;
  pid_t bg;

  kapi_error_init(&e);
  assert_int_equal(f->rt->ops->create_container(f->rt->st, "nope", f->pod, c,
                                                "/dev/null", id, &e),
                   -ENOENT);
  assert_int_equal(e.code, 404);
  kapi_error_clear(&e);
  assert_int_equal(f->rt->ops->start_container(f->rt->st, "nope", &e),
                   -ENOENT);
  kapi_error_clear(&e);
  assert_int_equal(f->rt->ops->stop_container(f->rt->st, "nope", 1), -ENOENT);
  assert_int_equal(f->rt->ops->remove_container(f->rt->st, "nope"), -ENOENT);
  assert_int_equal(f->rt->ops->stop_pod_sandbox(f->rt->st, "nope"), -ENOENT);
  assert_int_equal(f->rt->ops->remove_pod_sandbox(f->rt->st, "nope"),
                   -ENOENT);
  kj_free(c);

  /* Starting twice is refused. */
  assert_int_equal(run(f, "{\"name\":\"a\",\"command\":[\"sh\",\"-c\","
                          "\"sleep 300 & echo $!; wait\"]}",
                       "a.log", a),
                   0);
  assert_int_equal(f->rt->ops->start_container(f->rt->st, a, &e), -EBUSY);
  kapi_error_clear(&e);
  bg = log_pid(f, "a.log");

  /* A second sandbox keeps its own containers. */
  assert_int_equal(f->rt->ops->run_pod_sandbox(f->rt->st, f->pod, sb2, &e),
                   0);
  assert_string_not_equal(sb2, f->sandbox);
  c = rt_parse("{\"name\":\"b\",\"command\":[\"sleep\",\"300\"]}");
  assert_int_equal(f->rt->ops->create_container(f->rt->st, sb2, f->pod, c,
                                                "/dev/null", b, &e),
                   0);
  kj_free(c);
  assert_int_equal(f->rt->ops->start_container(f->rt->st, b, &e), 0);
  assert_int_equal(rt_list_len(f->rt), 2);
  assert_int_equal(f->rt->ops->stop_pod_sandbox(f->rt->st, sb2), 0);
  assert_int_equal(rt_get(f->rt, b).state, KAPI_CONTAINER_EXITED);
  assert_int_equal(rt_get(f->rt, a).state, KAPI_CONTAINER_RUNNING);
  assert_int_equal(f->rt->ops->remove_pod_sandbox(f->rt->st, sb2), 0);
  assert_int_equal(rt_list_len(f->rt), 1);

  /* Removing a running container stops it (and its group) first. */
  assert_int_equal(f->rt->ops->remove_container(f->rt->st, a), 0);
  assert_true(gone(bg));
  assert_int_equal(rt_list_len(f->rt), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_runs_and_logs, setup, teardown),
      cmocka_unit_test_setup_teardown(test_exit_codes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_grace_honoured, setup, teardown),
      cmocka_unit_test_setup_teardown(test_grace_ignored_then_killed, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_process_group_stopped, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_env_and_workdir, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cannot_run, setup, teardown),
      cmocka_unit_test_setup_teardown(test_errors_and_sandbox, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
