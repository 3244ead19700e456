/*
 * machine.c - machine facts for the Node object (see machine.h).
 */
#include "machine.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Reads a small file into buf (NUL-terminated, trailing newline cut). */
static int read_small(const char *path, char *buf, size_t len)
{
  FILE *f = fopen(path, "r");
  size_t n;
  if (!f)
    return -errno;
  n = fread(buf, 1, len - 1, f);
  fclose(f);
  buf[n] = '\0';
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
    buf[--n] = '\0';
  return 0;
}

const char *kl_goarch(const char *m)
{
  static const struct {
    const char *uname, *go;
  } map[] = {{"x86_64", "amd64"},   {"aarch64", "arm64"}, {"armv7l", "arm"},
             {"armv6l", "arm"},     {"i686", "386"},      {"i386", "386"},
             {"ppc64le", "ppc64le"}, {"s390x", "s390x"},  {"riscv64", "riscv64"}};
  size_t i;
  for (i = 0; i < sizeof map / sizeof map[0]; i++)
    if (!strcmp(map[i].uname, m))
      return map[i].go;
  return m;
}

int64_t kl_parse_meminfo(const char *text)
{
  const char *p = strstr(text, "MemTotal:");
  long long kb;
  if (!p || sscanf(p + 9, "%lld", &kb) != 1)
    return -1;
  return (int64_t)kb * 1024;
}

int kl_parse_os_release(const char *text, char *buf, size_t len)
{
  const char *p = text;
  while (p && *p) {
    if (!strncmp(p, "PRETTY_NAME=", 12)) {
      const char *v = p + 12, *end = strchr(v, '\n');
      size_t n = end ? (size_t)(end - v) : strlen(v);
      if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
        v++;
        n -= 2;
      }
      snprintf(buf, len, "%.*s", (int)n, v);
      return 0;
    }
    p = strchr(p, '\n');
    if (p)
      p++;
  }
  return -ENOENT;
}

static void first_ipv4(char *buf, size_t len)
{
  struct ifaddrs *ifs, *i;
  snprintf(buf, len, "127.0.0.1");
  if (getifaddrs(&ifs) < 0)
    return;
  for (i = ifs; i; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
        (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
      continue;
    inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf,
              (socklen_t)len);
    break;
  }
  freeifaddrs(ifs);
}

void kl_machine_read(kl_machine *m, const char *root_dir)
{
  char buf[8192];
  struct utsname u;
  struct statvfs vfs;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  size_t i;

  memset(m, 0, sizeof *m);
  m->cpu_milli = (cpus > 0 ? cpus : 1) * 1000;
  if (read_small("/proc/meminfo", buf, sizeof buf) == 0)
    m->memory_bytes = kl_parse_meminfo(buf);
  if (m->memory_bytes <= 0)
    m->memory_bytes = 1024LL * 1024 * 1024;
  /* The filesystem of --root-dir, or of the nearest existing parent. */
  snprintf(buf, sizeof buf, "%s", root_dir && *root_dir ? root_dir : "/");
  while (statvfs(buf, &vfs) < 0) {
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf) {
      snprintf(buf, sizeof buf, "%s", slash ? "/" : ".");
      if (statvfs(buf, &vfs) < 0)
        memset(&vfs, 0, sizeof vfs);
      break;
    }
    *slash = '\0';
  }
  m->ephemeral_bytes = (int64_t)vfs.f_blocks * (int64_t)vfs.f_frsize;
  if (gethostname(m->hostname, sizeof m->hostname - 1) < 0 || !*m->hostname)
    snprintf(m->hostname, sizeof m->hostname, "localhost");
  for (i = 0; m->hostname[i]; i++)
    m->hostname[i] = (char)tolower((unsigned char)m->hostname[i]);
  first_ipv4(m->internal_ip, sizeof m->internal_ip);
  if (read_small("/etc/os-release", buf, sizeof buf) < 0 ||
      kl_parse_os_release(buf, m->os_image, sizeof m->os_image) < 0)
    snprintf(m->os_image, sizeof m->os_image, "Unknown");
  if (uname(&u) == 0) {
    snprintf(m->kernel_version, sizeof m->kernel_version, "%s", u.release);
    snprintf(m->architecture, sizeof m->architecture, "%.31s",
             kl_goarch(u.machine));
  }
  read_small("/etc/machine-id", m->machine_id, sizeof m->machine_id);
  read_small("/proc/sys/kernel/random/boot_id", m->boot_id,
             sizeof m->boot_id);
  if (read_small("/sys/class/dmi/id/product_uuid", m->system_uuid,
                 sizeof m->system_uuid) < 0)
    snprintf(m->system_uuid, sizeof m->system_uuid, "%s", m->machine_id);
}
