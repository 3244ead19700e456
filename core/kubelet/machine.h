/*
 * machine.h - what the kubelet reports about the machine it runs on
 * (upstream gets it from cAdvisor and the OS: pkg/kubelet/nodestatus
 * MachineInfo, NodeAddress, VersionInfo): CPUs, memory, disk, OS image,
 * kernel, architecture, ids, hostname and address.
 */
#ifndef KAPI_KUBELET_MACHINE_H
#define KAPI_KUBELET_MACHINE_H

#include <stddef.h>
#include <stdint.h>

typedef struct kl_machine {
  int64_t cpu_milli;       /* online CPUs x 1000 */
  int64_t memory_bytes;    /* MemTotal */
  int64_t ephemeral_bytes; /* size of the filesystem holding --root-dir */
  char hostname[256];      /* lowercased, as upstream's node name */
  char internal_ip[64];    /* first non-loopback IPv4, else 127.0.0.1 */
  char os_image[256];      /* /etc/os-release PRETTY_NAME */
  char kernel_version[128];
  char architecture[32];   /* GOARCH spelling: amd64, arm64... */
  char machine_id[64], system_uuid[64], boot_id[64];
} kl_machine;

/* Reads everything; missing sources leave defaults ("Unknown" image,
 * 1 CPU...).  root_dir (borrowed, may be NULL) is measured for
 * ephemeral-storage. */
void kl_machine_read(kl_machine *m, const char *root_dir);

/* uname -m to Go's GOARCH ("x86_64" -> "amd64"). */
const char *kl_goarch(const char *uname_machine);

/* MemTotal from the text of /proc/meminfo, in bytes; -1 if absent. */
int64_t kl_parse_meminfo(const char *text);
/* PRETTY_NAME from the text of /etc/os-release (quotes removed) into
 * buf; 0, or -ENOENT when absent. */
int kl_parse_os_release(const char *text, char *buf, size_t len);

#endif
