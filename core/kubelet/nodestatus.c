/*
 * nodestatus.c - Node and Lease objects (see nodestatus.h).
 */
#include "nodestatus.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "meta.h"

#define EVICTION_MEMORY (100LL * 1024 * 1024) /* memory.available<100Mi */
#define EVICTION_NODEFS_PERCENT 10           /* nodefs.available<10% */

void kl_micro_time(int64_t ns, char *buf, size_t len)
{
  time_t t = (time_t)(ns / 1000000000);
  struct tm tm;
  char base[32];
  gmtime_r(&t, &tm);
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf, len, "%s.%06dZ", base, (int)(ns % 1000000000 / 1000));
}

void kl_format_cpu(int64_t milli, char *buf, size_t len)
{
  if (milli % 1000 == 0)
    snprintf(buf, len, "%lld", (long long)(milli / 1000));
  else
    snprintf(buf, len, "%lldm", (long long)milli);
}

void kl_format_bytes(int64_t b, char *buf, size_t len)
{
  static const char *const suffix[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  int i = -1;
  if (b <= 0) {
    snprintf(buf, len, "0");
    return;
  }
  while (i < 5 && b % 1024 == 0) {
    b /= 1024;
    i++;
  }
  snprintf(buf, len, "%lld%s", (long long)b, i >= 0 ? suffix[i] : "");
}

static void set_time(kj *o, const char *key, int64_t now)
{
  char buf[32];
  kapi_rfc3339(now, buf, sizeof buf);
  kj_set_str(o, key, buf);
}

static kj *resources(const kl_node_spec *s, int allocatable)
{
  kj *r = kj_object();
  char buf[64];
  int64_t mem = s->memory_bytes, eph = s->ephemeral_bytes;
  if (allocatable) {
    mem = mem > EVICTION_MEMORY ? mem - EVICTION_MEMORY : 0;
    eph -= eph / 100 * EVICTION_NODEFS_PERCENT;
  }
  kl_format_cpu(s->cpu_milli, buf, sizeof buf);
  kj_set_str(r, "cpu", buf);
  kl_format_bytes(eph, buf, sizeof buf);
  kj_set_str(r, "ephemeral-storage", buf);
  kj_set_str(r, "hugepages-1Gi", "0");
  kj_set_str(r, "hugepages-2Mi", "0");
  kl_format_bytes(mem, buf, sizeof buf);
  kj_set_str(r, "memory", buf);
  snprintf(buf, sizeof buf, "%lld", (long long)s->max_pods);
  kj_set_str(r, "pods", buf);
  return r;
}

static const kj *old_condition(const kj *old, const char *type)
{
  const kj *l = kj_get(old, "conditions");
  size_t i;
  for (i = 0; i < kj_len(l); i++)
    if (!strcmp(kj_get_str(kj_at(l, i), "type") ? kj_get_str(kj_at(l, i),
                                                               "type")
                                                : "",
                type))
      return kj_at(l, i);
  return NULL;
}

static void add_condition(kj *list, const kj *old, const char *type,
                          const char *status, const char *reason,
                          const char *message, int64_t now)
{
  const kj *prev = old_condition(old, type);
  const char *ltt = kj_get_str(prev, "lastTransitionTime");
  kj *c = kj_object();
  kj_set_str(c, "type", type);
  kj_set_str(c, "status", status);
  set_time(c, "lastHeartbeatTime", now);
  if (ltt && kj_get_str(prev, "status") &&
      !strcmp(kj_get_str(prev, "status"), status))
    kj_set_str(c, "lastTransitionTime", ltt);
  else
    set_time(c, "lastTransitionTime", now);
  kj_set_str(c, "reason", reason);
  kj_set_str(c, "message", message);
  kj_append(list, c);
}

static kj *address(const char *type, const char *value)
{
  kj *a = kj_object();
  kj_set_str(a, "type", type);
  kj_set_str(a, "address", value);
  return a;
}

kj *kl_node_status(const kl_node_spec *s, const kj *old, int64_t now)
{
  const kl_machine *m = s->machine;
  kj *st = kj_object(), *conds = kj_array(), *addrs = kj_array();
  kj *info = kj_object(), *ep = kj_object();
  char buf[128];

  kj_set(st, "capacity", resources(s, 0));
  kj_set(st, "allocatable", resources(s, 1));
  add_condition(conds, old, "MemoryPressure", "False",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available", now);
  add_condition(conds, old, "DiskPressure", "False",
                "KubeletHasNoDiskPressure", "kubelet has no disk pressure",
                now);
  add_condition(conds, old, "PIDPressure", "False", "KubeletHasSufficientPID",
                "kubelet has sufficient PID available", now);
  add_condition(conds, old, "Ready", "True", "KubeletReady",
                "kubelet is posting ready status", now);
  kj_set(st, "conditions", conds);
  kj_append(addrs, address("InternalIP", s->internal_ip));
  kj_append(addrs, address("Hostname", s->hostname ? s->hostname : s->name));
  kj_set(st, "addresses", addrs);
  kj_set(kj_child_object(ep, "kubeletEndpoint"), "Port", kj_int(s->kubelet_port));
  kj_set(st, "daemonEndpoints", ep);
  kj_set_str(info, "machineID", m ? m->machine_id : "");
  kj_set_str(info, "systemUUID", m ? m->system_uuid : "");
  kj_set_str(info, "bootID", m ? m->boot_id : "");
  kj_set_str(info, "kernelVersion", m ? m->kernel_version : "");
  kj_set_str(info, "osImage", m ? m->os_image : "");
  snprintf(buf, sizeof buf, "kapi-%s://0.1", s->runtime ? s->runtime : "");
  kj_set_str(info, "containerRuntimeVersion", buf);
  kj_set_str(info, "kubeletVersion", KL_KUBELET_VERSION);
  kj_set_str(info, "kubeProxyVersion", "");
  kj_set_str(info, "operatingSystem", "linux");
  kj_set_str(info, "architecture", m && *m->architecture ? m->architecture
                                                         : "amd64");
  kj_set(st, "nodeInfo", info);
  return st;
}

kj *kl_node_object(const kl_node_spec *s, int64_t now)
{
  const char *arch = s->machine && *s->machine->architecture
                         ? s->machine->architecture
                         : "amd64";
  kj *n = kj_object(), *meta = kj_object(), *labels = kj_object();
  kj_set_str(n, "apiVersion", "v1");
  kj_set_str(n, "kind", "Node");
  kj_set_str(meta, "name", s->name);
  kj_set_str(labels, "beta.kubernetes.io/arch", arch);
  kj_set_str(labels, "beta.kubernetes.io/os", "linux");
  kj_set_str(labels, "kubernetes.io/arch", arch);
  kj_set_str(labels, "kubernetes.io/hostname", s->name);
  kj_set_str(labels, "kubernetes.io/os", "linux");
  kj_set(meta, "labels", labels);
  kj_set_str(kj_child_object(meta, "annotations"),
             "volumes.kubernetes.io/controller-managed-attach-detach",
             "true");
  kj_set(n, "metadata", meta);
  kj_set(n, "spec", kj_object());
  kj_set(n, "status", kl_node_status(s, NULL, now));
  return n;
}

kj *kl_lease_object(const char *node, const char *node_uid, int64_t now_ns)
{
  kj *l = kj_object(), *meta = kj_object(), *spec = kj_object();
  char buf[48];
  kj_set_str(l, "apiVersion", "coordination.k8s.io/v1");
  kj_set_str(l, "kind", "Lease");
  kj_set_str(meta, "name", node);
  kj_set_str(meta, "namespace", KL_LEASE_NAMESPACE);
  if (node_uid && *node_uid) {
    kj *refs = kj_array(), *ref = kj_object();
    kj_set_str(ref, "apiVersion", "v1");
    kj_set_str(ref, "kind", "Node");
    kj_set_str(ref, "name", node);
    kj_set_str(ref, "uid", node_uid);
    kj_append(refs, ref);
    kj_set(meta, "ownerReferences", refs);
  }
  kj_set(l, "metadata", meta);
  kj_set_str(spec, "holderIdentity", node);
  kj_set_int(spec, "leaseDurationSeconds", KL_LEASE_DURATION_S);
  kl_micro_time(now_ns, buf, sizeof buf);
  kj_set_str(spec, "renewTime", buf);
  kj_set(l, "spec", spec);
  return l;
}
