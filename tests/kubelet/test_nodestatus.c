/*
 * test_nodestatus.c - the Node and Lease objects the kubelet writes
 * (core/kubelet/nodestatus.c) and the machine facts behind them
 * (core/kubelet/machine.c): labels, capacity and allocatable, the four
 * conditions with upstream's reasons and transition times, nodeInfo,
 * the Lease with its MicroTime, and the /proc and os-release parsers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "machine.h"
#include "nodestatus.h"

#define T0 1735689600LL /* 2025-01-01T00:00:00Z */
#define GI (1024LL * 1024 * 1024)

static const char *at(const kj *o, const char *ptr)
{
  static char buf[4096];
  char *s = kj_dump(kj_ptr(o, ptr), NULL);
  snprintf(buf, sizeof buf, "%s", s ? s : "<absent>");
  free(s);
  return buf;
}

static void spec_init(kl_node_spec *s, kl_machine *m)
{
  memset(m, 0, sizeof *m);
  snprintf(m->os_image, sizeof m->os_image, "Debian GNU/Linux 12 (bookworm)");
  snprintf(m->kernel_version, sizeof m->kernel_version, "6.1.0");
  snprintf(m->architecture, sizeof m->architecture, "arm64");
  snprintf(m->machine_id, sizeof m->machine_id, "mid");
  snprintf(m->system_uuid, sizeof m->system_uuid, "uuid");
  snprintf(m->boot_id, sizeof m->boot_id, "boot");
  memset(s, 0, sizeof *s);
  s->name = "n1";
  s->internal_ip = "192.0.2.7";
  s->kubelet_port = 10250;
  s->hostname = "n1";
  s->runtime = "process";
  s->cpu_milli = 4000;
  s->memory_bytes = 8 * GI;
  s->ephemeral_bytes = 100 * GI;
  s->max_pods = 110;
  s->machine = m;
}

static void test_quantities(void **state)
{
  char buf[64];
  (void)state;
  kl_format_bytes(GI, buf, sizeof buf);
  assert_string_equal(buf, "1Gi");
  kl_format_bytes(16318412LL * 1024, buf, sizeof buf);
  assert_string_equal(buf, "16318412Ki");
  kl_format_bytes(94580335255LL, buf, sizeof buf);
  assert_string_equal(buf, "94580335255");
  kl_format_bytes(0, buf, sizeof buf);
  assert_string_equal(buf, "0");
  kl_format_cpu(4000, buf, sizeof buf);
  assert_string_equal(buf, "4");
  kl_format_cpu(2500, buf, sizeof buf);
  assert_string_equal(buf, "2500m");
  kl_micro_time(T0 * 1000000000LL + 123456789, buf, sizeof buf);
  assert_string_equal(buf, "2025-01-01T00:00:00.123456Z");
  kl_micro_time(T0 * 1000000000LL, buf, sizeof buf);
  assert_string_equal(buf, "2025-01-01T00:00:00.000000Z");
}

static void test_node_object(void **state)
{
  kl_node_spec s;
  kl_machine m;
  kj *n;
  (void)state;
  spec_init(&s, &m);
  n = kl_node_object(&s, T0);
  assert_string_equal(at(n, "/kind"), "\"Node\"");
  assert_string_equal(at(n, "/metadata/labels"),
                      "{\"beta.kubernetes.io/arch\":\"arm64\","
                      "\"beta.kubernetes.io/os\":\"linux\","
                      "\"kubernetes.io/arch\":\"arm64\","
                      "\"kubernetes.io/hostname\":\"n1\","
                      "\"kubernetes.io/os\":\"linux\"}");
  assert_string_equal(
      at(n, "/metadata/annotations"),
      "{\"volumes.kubernetes.io/controller-managed-attach-detach\":\"true\"}");
  assert_string_equal(at(n, "/status/capacity"),
                      "{\"cpu\":\"4\",\"ephemeral-storage\":\"100Gi\","
                      "\"hugepages-1Gi\":\"0\",\"hugepages-2Mi\":\"0\","
                      "\"memory\":\"8Gi\",\"pods\":\"110\"}");
  /* memory less 100Mi, ephemeral-storage less 10%. */
  assert_string_equal(at(n, "/status/allocatable"),
                      "{\"cpu\":\"4\",\"ephemeral-storage\":\"90Gi\","
                      "\"hugepages-1Gi\":\"0\",\"hugepages-2Mi\":\"0\","
                      "\"memory\":\"8092Mi\",\"pods\":\"110\"}");
  assert_string_equal(at(n, "/status/conditions/3"),
                      "{\"type\":\"Ready\",\"status\":\"True\","
                      "\"lastHeartbeatTime\":\"2025-01-01T00:00:00Z\","
                      "\"lastTransitionTime\":\"2025-01-01T00:00:00Z\","
                      "\"reason\":\"KubeletReady\",\"message\":\"kubelet is "
                      "posting ready status\"}");
  assert_string_equal(at(n, "/status/conditions/0/reason"),
                      "\"KubeletHasSufficientMemory\"");
  assert_string_equal(at(n, "/status/conditions/1/reason"),
                      "\"KubeletHasNoDiskPressure\"");
  assert_string_equal(at(n, "/status/conditions/2/message"),
                      "\"kubelet has sufficient PID available\"");
  assert_string_equal(at(n, "/status/conditions/2/status"), "\"False\"");
  assert_string_equal(at(n, "/status/addresses"),
                      "[{\"type\":\"InternalIP\",\"address\":\"192.0.2.7\"},"
                      "{\"type\":\"Hostname\",\"address\":\"n1\"}]");
  assert_string_equal(at(n, "/status/daemonEndpoints"),
                      "{\"kubeletEndpoint\":{\"Port\":10250}}");
  assert_string_equal(at(n, "/status/nodeInfo/kubeletVersion"),
                      "\"v1.32.0-kapi\"");
  assert_string_equal(at(n, "/status/nodeInfo/containerRuntimeVersion"),
                      "\"kapi-process://0.1\"");
  assert_string_equal(at(n, "/status/nodeInfo/osImage"),
                      "\"Debian GNU/Linux 12 (bookworm)\"");
  assert_string_equal(at(n, "/status/nodeInfo/operatingSystem"), "\"linux\"");
  assert_string_equal(at(n, "/status/nodeInfo/architecture"), "\"arm64\"");
  assert_string_equal(at(n, "/status/nodeInfo/bootID"), "\"boot\"");
  kj_free(n);
}

static void test_heartbeat_and_transitions(void **state)
{
  kl_node_spec s;
  kl_machine m;
  kj *a, *b;
  (void)state;
  spec_init(&s, &m);
  a = kl_node_status(&s, NULL, T0);
  b = kl_node_status(&s, a, T0 + 10);
  assert_string_equal(at(b, "/conditions/3/lastHeartbeatTime"),
                      "\"2025-01-01T00:00:10Z\"");
  assert_string_equal(at(b, "/conditions/3/lastTransitionTime"),
                      "\"2025-01-01T00:00:00Z\"");
  kj_free(b);
  /* Ready was Unknown (the node lifecycle controller): a transition. */
  kj_set_str(kj_ptr(a, "/conditions/3"), "status", "Unknown");
  b = kl_node_status(&s, a, T0 + 60);
  assert_string_equal(at(b, "/conditions/3/lastTransitionTime"),
                      "\"2025-01-01T00:01:00Z\"");
  assert_string_equal(at(b, "/conditions/0/lastTransitionTime"),
                      "\"2025-01-01T00:00:00Z\"");
  kj_free(a);
  kj_free(b);
}

static void test_lease(void **state)
{
  kj *l = kl_lease_object("n1", "u-1", T0 * 1000000000LL + 5000);
  (void)state;
  assert_string_equal(at(l, "/apiVersion"), "\"coordination.k8s.io/v1\"");
  assert_string_equal(at(l, "/kind"), "\"Lease\"");
  assert_string_equal(at(l, "/metadata/namespace"), "\"kube-node-lease\"");
  assert_string_equal(at(l, "/metadata/ownerReferences"),
                      "[{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":"
                      "\"n1\",\"uid\":\"u-1\"}]");
  assert_string_equal(at(l, "/spec"),
                      "{\"holderIdentity\":\"n1\",\"leaseDurationSeconds\":40,"
                      "\"renewTime\":\"2025-01-01T00:00:00.000005Z\"}");
  kj_free(l);
  l = kl_lease_object("n1", NULL, 0);
  assert_string_equal(at(l, "/metadata/ownerReferences"), "<absent>");
  kj_free(l);
}

static void test_machine_parsers(void **state)
{
  char buf[128];
  kl_machine m;
  (void)state;
  assert_int_equal(kl_parse_meminfo("MemTotal:       16318412 kB\n"
                                    "MemFree:         1000 kB\n"),
                   16318412LL * 1024);
  assert_int_equal(kl_parse_meminfo("MemFree: 1 kB\n"), -1);
  assert_int_equal(kl_parse_os_release("NAME=\"Debian\"\nPRETTY_NAME=\"Debian "
                                       "GNU/Linux 12 (bookworm)\"\nID=debian\n",
                                       buf, sizeof buf),
                   0);
  assert_string_equal(buf, "Debian GNU/Linux 12 (bookworm)");
  assert_int_equal(kl_parse_os_release("PRETTY_NAME=Alpine\n", buf,
                                       sizeof buf),
                   0);
  assert_string_equal(buf, "Alpine");
  assert_true(kl_parse_os_release("ID=x\n", buf, sizeof buf) < 0);
  assert_string_equal(kl_goarch("x86_64"), "amd64");
  assert_string_equal(kl_goarch("aarch64"), "arm64");
  assert_string_equal(kl_goarch("mips"), "mips");

  /* The real machine: whatever it is, the essentials are filled. */
  kl_machine_read(&m, "/nonexistent/kapi/root");
  assert_true(m.cpu_milli >= 1000 && m.cpu_milli % 1000 == 0);
  assert_true(m.memory_bytes > 0);
  assert_true(m.ephemeral_bytes > 0); /* measured on an existing parent */
  assert_true(m.hostname[0] != '\0');
  assert_true(m.internal_ip[0] != '\0');
  assert_true(m.architecture[0] != '\0');
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_quantities),
      cmocka_unit_test(test_node_object),
      cmocka_unit_test(test_heartbeat_and_transitions),
      cmocka_unit_test(test_lease),
      cmocka_unit_test(test_machine_parsers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
