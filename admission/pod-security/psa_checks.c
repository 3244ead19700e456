/*
 * psa_checks.c - the Pod Security Standards checks and their evaluator.
 *
 * Upstream: staging/src/k8s.io/pod-security-admission/policy/check_*.go,
 * registry.go (which checks run for a level and version, in which order)
 * and checks.go (how failed checks are aggregated into one message).
 * The reasons and details are upstream's, word for word, because users
 * and tools match on them.
 *
 * Each check reads the pod's metadata and spec through the host API and,
 * when the pod fails, sets a short reason ("privileged") and a detail
 * ("container \"c\" must not set securityContext.privileged=true").  The
 * versions are kapi's release, 1.32: "latest" and any newer v1.N are
 * evaluated as v1.32, older versions with the checks (and check
 * revisions) that existed then.
 *
 * JSON null is treated as absent everywhere, as Go's decoder would leave
 * the pointer nil.  Everything here is reentrant: state lives on the
 * stack and in the result being built.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "psa_internal.h"

/* What a check sees: the pod and the policy version being evaluated. */
typedef struct pod {
  const kapi_host_api *api;
  const kapi_obj *meta; /* ObjectMeta, may be NULL */
  const kapi_obj *spec; /* PodSpec, may be NULL */
  int minor;            /* the effective policy version, 1.minor */
} pod;

/* One check's outcome: reason NULL means the pod passed. */
typedef struct result {
  const char *reason; /* static text */
  psa_sb detail;
  int oom;
} result;

/* ---- reading the pod -------------------------------------------------- */

/* The value at `ptr` in o, NULL if absent or null. */
static const kapi_obj *get(const pod *p, const kapi_obj *o, const char *ptr)
{
  const kapi_obj *v = o ? p->api->obj_lookup(o, ptr) : NULL;

  return v && p->api->obj_type(v) != KAPI_OBJ_NULL ? v : NULL;
}

/* A string field; "" when absent (a Go string's zero value). */
static const char *get_str(const pod *p, const kapi_obj *o, const char *ptr)
{
  const kapi_obj *v = get(p, o, ptr);
  const char *s = v ? p->api->obj_get(v, NULL) : NULL;

  return s ? s : "";
}

/* A *bool field: 1 true, 0 false, -1 unset. */
static int get_bool(const pod *p, const kapi_obj *o, const char *ptr)
{
  const kapi_obj *v = get(p, o, ptr);

  if (!v || p->api->obj_type(v) != KAPI_OBJ_BOOL)
    return -1;
  return !strcmp(p->api->obj_get(v, NULL), "true");
}

static size_t len_at(const pod *p, const kapi_obj *o, const char *ptr)
{
  const kapi_obj *v = get(p, o, ptr);

  return v ? p->api->obj_len(v) : 0;
}

static const kapi_obj *item_at(const pod *p, const kapi_obj *o,
                               const char *ptr, size_t i)
{
  const kapi_obj *v = get(p, o, ptr);

  return v ? p->api->obj_index(v, i) : NULL;
}

/* The text of an array element (capabilities, ...); "" if none. */
static const char *item_str(const pod *p, const kapi_obj *o, const char *ptr,
                            size_t i)
{
  const kapi_obj *v = item_at(p, o, ptr, i);
  const char *s = v ? p->api->obj_get(v, NULL) : NULL;

  return s ? s : "";
}

/* The annotation `key` of the pod, NULL when absent. */
static const char *annotation(const pod *p, const char *key)
{
  char ptr[512];
  size_t n = 0;
  const kapi_obj *v;

  n += (size_t)snprintf(ptr, sizeof ptr, "/annotations/");
  for (; *key && n + 3 < sizeof ptr; key++) { /* RFC 6901 escaping */
    if (*key == '~' || *key == '/') {
      ptr[n++] = '~';
      ptr[n++] = *key == '~' ? '0' : '1';
    } else {
      ptr[n++] = *key;
    }
  }
  if (*key)
    return NULL; /* longer than any valid annotation key */
  ptr[n] = '\0';
  v = get(p, p->meta, ptr);
  return v ? p->api->obj_get(v, NULL) : NULL;
}

/*
 * The containers in upstream's visiting order: initContainers,
 * containers, then ephemeralContainers (visitor.go).
 */
typedef struct citer {
  const pod *p;
  int list;
  size_t i;
} citer;

static const kapi_obj *next_container(citer *it, const char **name)
{
  static const char *const lists[] = {"/initContainers", "/containers",
                                      "/ephemeralContainers"};
  const kapi_obj *c;

  for (; it->list < 3; it->list++, it->i = 0) {
    if (it->i < len_at(it->p, it->p->spec, lists[it->list])) {
      c = item_at(it->p, it->p->spec, lists[it->list], it->i++);
      *name = get_str(it->p, c, "/name");
      return c;
    }
  }
  return NULL;
}

#define FOR_CONTAINERS(p, c, name)                                           \
  for (citer it_ = {(p), 0, 0}; ((c) = next_container(&it_, &(name)));)

/* spec.os.name == windows: from 1.25 the restricted checks that cannot
 * apply to Windows pods let them pass. */
static int windows_pod(const pod *p)
{
  return p->minor >= 25 && !strcmp(get_str(p, p->spec, "/os/name"), "windows");
}

/* ---- building results --------------------------------------------------- */

static const char *plural(size_t n, const char *one, const char *many)
{
  return n == 1 ? one : many;
}

/* Fails the check with `reason`; the caller appends the detail. */
static psa_sb *forbid(result *res, const char *reason)
{
  res->reason = reason;
  return &res->detail;
}

/* Collects out-of-memory from the lists a check used. */
static void note_oom(result *res, const psa_sl *l)
{
  if (l->oom)
    res->oom = 1;
}

/* container "a" / containers "a", "b" */
static void put_containers(psa_sb *b, const psa_sl *names)
{
  psa_sb_printf(b, "%s ", plural(names->n, "container", "containers"));
  psa_sb_join_quote(b, names);
}

/* "pod", "containers \"a\", \"b\"", or both joined with " and ". */
static void put_setters(psa_sb *b, int pod_bad, const psa_sl *containers)
{
  if (pod_bad)
    psa_sb_puts(b, "pod");
  if (pod_bad && containers->n)
    psa_sb_puts(b, " and ");
  if (containers->n)
    put_containers(b, containers);
}

static int in_list(const char *s, const char *const *list)
{
  for (; *list; list++)
    if (!strcmp(s, *list))
      return 1;
  return 0;
}

static int has_prefix(const char *s, const char *prefix)
{
  return !strncmp(s, prefix, strlen(prefix));
}

/* ---- baseline checks ---------------------------------------------------- */

/* check_appArmorProfile.go */
static int apparmor_type_ok(const char *t)
{
  return !strcmp(t, "RuntimeDefault") || !strcmp(t, "Localhost");
}

static int apparmor_annotation_ok(const char *v)
{
  return !*v || !strcmp(v, "runtime/default") || has_prefix(v, "localhost/");
}

static void check_apparmor(const pod *p, result *res)
{
  static const char prefix[] =
      "container.apparmor.security.beta.kubernetes.io/";
  const kapi_obj *c, *ann = get(p, p->meta, "/annotations");
  psa_sl containers = {0}, values = {0}, annotations = {0};
  const char *name;
  int pod_bad = 0;
  psa_sb *d;

  if (get(p, p->spec, "/securityContext/appArmorProfile") &&
      !apparmor_type_ok(
          get_str(p, p->spec, "/securityContext/appArmorProfile/type"))) {
    pod_bad = 1;
    psa_sl_add(&values,
               get_str(p, p->spec, "/securityContext/appArmorProfile/type"));
  }
  FOR_CONTAINERS(p, c, name) {
    const char *t = get_str(p, c, "/securityContext/appArmorProfile/type");

    if (get(p, c, "/securityContext/appArmorProfile") && !apparmor_type_ok(t)) {
      psa_sl_add(&containers, name);
      psa_sl_add(&values, t);
    }
  }
  for (size_t i = 0; ann && i < p->api->obj_len(ann); i++) {
    const char *key = p->api->obj_key(ann, i);
    const char *v = p->api->obj_get(p->api->obj_index(ann, i), NULL);
    psa_sb q = {0};

    if (!key || !has_prefix(key, prefix) || apparmor_annotation_ok(v ? v : ""))
      continue;
    psa_sb_quote(&q, v ? v : "");
    psa_sl_addf(&annotations, "%s=%s", key, psa_sb_str(&q));
    if (q.oom)
      res->oom = 1;
    psa_sb_free(&q);
  }

  if (pod_bad || containers.n || annotations.n) {
    /* The bad types (a set), then the bad annotations (sorted). */
    psa_sl_sort_unique(&values);
    psa_sl_sort_unique(&annotations);
    for (size_t i = 0; i < annotations.n; i++)
      psa_sl_add(&values, annotations.v[i]);
    d = forbid(res, plural(values.n, "forbidden AppArmor profile",
                           "forbidden AppArmor profiles"));
    put_setters(d, pod_bad, &containers);
    if (annotations.n)
      psa_sb_printf(d, "%s%s", pod_bad || containers.n ? " and " : "",
                    plural(annotations.n, "annotation", "annotations"));
    psa_sb_puts(d, " must not set AppArmor profile type to ");
    psa_sb_join_quote(d, &values);
  }
  note_oom(res, &containers);
  note_oom(res, &values);
  note_oom(res, &annotations);
  psa_sl_free(&containers);
  psa_sl_free(&values);
  psa_sl_free(&annotations);
}

/* check_capabilities_baseline.go */
static void check_capabilities_baseline(const pod *p, result *res)
{
  static const char *const allowed[] = {
      "AUDIT_WRITE", "CHOWN",  "DAC_OVERRIDE", "FOWNER", "FSETID",
      "KILL",        "MKNOD",  "NET_BIND_SERVICE", "SETFCAP", "SETGID",
      "SETPCAP",     "SETUID", "SYS_CHROOT", NULL};
  psa_sl containers = {0}, caps = {0};
  const kapi_obj *c;
  const char *name;
  psa_sb *d;

  FOR_CONTAINERS(p, c, name) {
    const char *add = "/securityContext/capabilities/add";
    int valid = 1;

    if (!get(p, c, "/securityContext/capabilities"))
      continue;
    for (size_t i = 0; i < len_at(p, c, add); i++)
      if (!in_list(item_str(p, c, add, i), allowed)) {
        valid = 0;
        psa_sl_add(&caps, item_str(p, c, add, i));
      }
    if (!valid)
      psa_sl_add(&containers, name);
  }
  if (containers.n) {
    psa_sl_sort_unique(&caps);
    d = forbid(res, "non-default capabilities");
    put_containers(d, &containers);
    psa_sb_puts(d, " must not include ");
    psa_sb_join_quote(d, &caps);
    psa_sb_puts(d, " in securityContext.capabilities.add");
  }
  note_oom(res, &containers);
  note_oom(res, &caps);
  psa_sl_free(&containers);
  psa_sl_free(&caps);
}

/* check_hostNamespaces.go: the names sorted, as sets.String.List(). */
static void check_host_namespaces(const pod *p, result *res)
{
  static const char *const fields[] = {"hostIPC", "hostNetwork", "hostPID"};
  char ptr[16];
  psa_sl set = {0};

  for (size_t i = 0; i < 3; i++) {
    snprintf(ptr, sizeof ptr, "/%s", fields[i]);
    if (get_bool(p, p->spec, ptr) == 1)
      psa_sl_add(&set, fields[i]);
  }
  if (set.n)
    psa_sb_join(forbid(res, "host namespaces"), &set, ", ");
  note_oom(res, &set);
  psa_sl_free(&set);
}

/* check_hostPathVolumes.go */
static void check_host_path_volumes(const pod *p, result *res)
{
  psa_sl names = {0};
  psa_sb *d;

  for (size_t i = 0; i < len_at(p, p->spec, "/volumes"); i++) {
    const kapi_obj *v = item_at(p, p->spec, "/volumes", i);

    if (get(p, v, "/hostPath"))
      psa_sl_add(&names, get_str(p, v, "/name"));
  }
  if (names.n) {
    d = forbid(res, "hostPath volumes");
    psa_sb_printf(d, "%s ", plural(names.n, "volume", "volumes"));
    psa_sb_join_quote(d, &names);
  }
  note_oom(res, &names);
  psa_sl_free(&names);
}

/* check_hostPorts.go: the ports form a set of decimal strings. */
static void check_host_ports(const pod *p, result *res)
{
  psa_sl containers = {0}, ports = {0};
  const kapi_obj *c;
  const char *name;
  psa_sb *d;

  FOR_CONTAINERS(p, c, name) {
    int valid = 1;

    for (size_t i = 0; i < len_at(p, c, "/ports"); i++) {
      const kapi_obj *port = get(p, item_at(p, c, "/ports", i), "/hostPort");
      int64_t n = 0;

      if (port && p->api->obj_int(port, &n) == 0 && n != 0) {
        valid = 0;
        psa_sl_addf(&ports, "%lld", (long long)n);
      }
    }
    if (!valid)
      psa_sl_add(&containers, name);
  }
  if (containers.n) {
    psa_sl_sort_unique(&ports);
    d = forbid(res, "hostPort");
    put_containers(d, &containers);
    psa_sb_printf(d, " %s %s ", plural(containers.n, "uses", "use"),
                  plural(ports.n, "hostPort", "hostPorts"));
    psa_sb_join(d, &ports, ", ");
  }
  note_oom(res, &containers);
  note_oom(res, &ports);
  psa_sl_free(&containers);
  psa_sl_free(&ports);
}

/* check_privileged.go */
static void check_privileged(const pod *p, result *res)
{
  psa_sl containers = {0};
  const kapi_obj *c;
  const char *name;
  psa_sb *d;

  FOR_CONTAINERS(p, c, name) {
    if (get_bool(p, c, "/securityContext/privileged") == 1)
      psa_sl_add(&containers, name);
  }
  if (containers.n) {
    d = forbid(res, "privileged");
    put_containers(d, &containers);
    psa_sb_puts(d, " must not set securityContext.privileged=true");
  }
  note_oom(res, &containers);
  psa_sl_free(&containers);
}

/* check_procMount.go (the user-namespace relaxation is behind a feature
 * gate that is off by default; kapi has no user namespaces). */
static void check_proc_mount(const pod *p, result *res)
{
  psa_sl containers = {0}, types = {0};
  const kapi_obj *c;
  const char *name;
  psa_sb *d;

  FOR_CONTAINERS(p, c, name) {
    const char *t = get_str(p, c, "/securityContext/procMount");

    if (get(p, c, "/securityContext/procMount") && strcmp(t, "Default")) {
      psa_sl_add(&containers, name);
      psa_sl_add(&types, t);
    }
  }
  if (containers.n) {
    psa_sl_sort_unique(&types);
    d = forbid(res, "procMount");
    put_containers(d, &containers);
    psa_sb_puts(d, " must not set securityContext.procMount to ");
    psa_sb_join_quote(d, &types);
  }
  note_oom(res, &containers);
  note_oom(res, &types);
  psa_sl_free(&containers);
  psa_sl_free(&types);
}

/* check_seLinuxOptions.go: what one seLinuxOptions object does wrong. */
typedef struct selinux_state {
  psa_sl types;
  int set_user, set_role;
} selinux_state;

static int selinux_ok(const pod *p, const kapi_obj *opts, selinux_state *s)
{
  /* container_engine_t is allowed from 1.31. */
  static const char *const types_1_0[] = {"", "container_t",
                                          "container_init_t",
                                          "container_kvm_t", NULL};
  static const char *const types_1_31[] = {
      "", "container_t", "container_init_t", "container_kvm_t",
      "container_engine_t", NULL};
  const char *t = get_str(p, opts, "/type");
  int valid = 1;

  if (!in_list(t, p->minor >= 31 ? types_1_31 : types_1_0)) {
    valid = 0;
    psa_sl_add(&s->types, t);
  }
  if (*get_str(p, opts, "/user")) {
    valid = 0;
    s->set_user = 1;
  }
  if (*get_str(p, opts, "/role")) {
    valid = 0;
    s->set_role = 1;
  }
  return valid;
}

static void check_selinux(const pod *p, result *res)
{
  selinux_state s = {{0}, 0, 0};
  psa_sl containers = {0};
  const kapi_obj *c, *opts;
  const char *name;
  int pod_bad = 0;
  psa_sb *d;

  opts = get(p, p->spec, "/securityContext/seLinuxOptions");
  if (opts && !selinux_ok(p, opts, &s))
    pod_bad = 1;
  FOR_CONTAINERS(p, c, name) {
    opts = get(p, c, "/securityContext/seLinuxOptions");
    if (opts && !selinux_ok(p, opts, &s))
      psa_sl_add(&containers, name);
  }
  if (pod_bad || containers.n) {
    const char *sep = "";

    psa_sl_sort_unique(&s.types);
    d = forbid(res, "seLinuxOptions");
    put_setters(d, pod_bad, &containers);
    psa_sb_puts(d, " set forbidden securityContext.seLinuxOptions: ");
    if (s.types.n) {
      psa_sb_printf(d, "%s ", plural(s.types.n, "type", "types"));
      psa_sb_join_quote(d, &s.types);
      sep = "; ";
    }
    if (s.set_user) {
      psa_sb_printf(d, "%suser may not be set", sep);
      sep = "; ";
    }
    if (s.set_role)
      psa_sb_printf(d, "%srole may not be set", sep);
  }
  note_oom(res, &containers);
  note_oom(res, &s.types);
  psa_sl_free(&containers);
  psa_sl_free(&s.types);
}

/* check_seccompProfile_baseline.go */
static int seccomp_type_ok(const char *t)
{
  return !strcmp(t, "Localhost") || !strcmp(t, "RuntimeDefault");
}

static int seccomp_annotation_ok(const char *v)
{
  return !strcmp(v, "runtime/default") || !strcmp(v, "docker/default") ||
         has_prefix(v, "localhost/");
}

static void add_seccomp_annotation(const pod *p, const char *key,
                                   psa_sl *bad, result *res)
{
  const char *v = annotation(p, key);
  psa_sb q = {0};

  if (!v || seccomp_annotation_ok(v))
    return;
  psa_sb_quote(&q, v);
  psa_sl_addf(bad, "%s=%s", key, psa_sb_str(&q));
  if (q.oom)
    res->oom = 1;
  psa_sb_free(&q);
}

/* Before 1.19 seccomp was set with annotations. */
static void seccomp_baseline_1_0(const pod *p, result *res)
{
  psa_sl bad = {0};
  const kapi_obj *c;
  const char *name;
  char key[320];
  psa_sb *d;

  add_seccomp_annotation(p, "seccomp.security.alpha.kubernetes.io/pod", &bad,
                         res);
  FOR_CONTAINERS(p, c, name) {
    snprintf(key, sizeof key,
             "container.seccomp.security.alpha.kubernetes.io/%s", name);
    add_seccomp_annotation(p, key, &bad, res);
  }
  if (bad.n) {
    psa_sl_sort_unique(&bad);
    d = forbid(res, "seccompProfile");
    psa_sb_printf(d, "forbidden %s ",
                  plural(bad.n, "annotation", "annotations"));
    psa_sb_join(d, &bad, ", ");
  }
  note_oom(res, &bad);
  psa_sl_free(&bad);
}

static void check_seccomp_baseline(const pod *p, result *res)
{
  psa_sl containers = {0}, values = {0};
  const kapi_obj *c;
  const char *name;
  int pod_bad = 0;
  psa_sb *d;

  if (p->minor < 19) {
    seccomp_baseline_1_0(p, res);
    return;
  }
  if (get(p, p->spec, "/securityContext/seccompProfile")) {
    const char *t = get_str(p, p->spec, "/securityContext/seccompProfile/type");

    if (!seccomp_type_ok(t)) {
      pod_bad = 1;
      psa_sl_add(&values, t);
    }
  }
  FOR_CONTAINERS(p, c, name) {
    const char *t = get_str(p, c, "/securityContext/seccompProfile/type");

    if (get(p, c, "/securityContext/seccompProfile") && !seccomp_type_ok(t)) {
      psa_sl_add(&containers, name);
      psa_sl_add(&values, t);
    }
  }
  if (pod_bad || containers.n) {
    psa_sl_sort_unique(&values);
    d = forbid(res, "seccompProfile");
    put_setters(d, pod_bad, &containers);
    psa_sb_puts(d, " must not set securityContext.seccompProfile.type to ");
    psa_sb_join_quote(d, &values);
  }
  note_oom(res, &containers);
  note_oom(res, &values);
  psa_sl_free(&containers);
  psa_sl_free(&values);
}

/* check_sysctls.go: the safe set grew in 1.27, 1.29 and 1.32. */
static int sysctl_ok(const char *name, int minor)
{
  static const struct {
    const char *name;
    int since;
  } safe[] = {
      {"kernel.shm_rmid_forced", 0},
      {"net.ipv4.ip_local_port_range", 0},
      {"net.ipv4.tcp_syncookies", 0},
      {"net.ipv4.ping_group_range", 0},
      {"net.ipv4.ip_unprivileged_port_start", 0},
      {"net.ipv4.ip_local_reserved_ports", 27},
      {"net.ipv4.tcp_keepalive_time", 29},
      {"net.ipv4.tcp_fin_timeout", 29},
      {"net.ipv4.tcp_keepalive_intvl", 29},
      {"net.ipv4.tcp_keepalive_probes", 29},
      {"net.ipv4.tcp_rmem", 32},
      {"net.ipv4.tcp_wmem", 32},
  };

  for (size_t i = 0; i < sizeof safe / sizeof *safe; i++)
    if (minor >= safe[i].since && !strcmp(name, safe[i].name))
      return 1;
  return 0;
}

static void check_sysctls(const pod *p, result *res)
{
  const char *list = "/securityContext/sysctls";
  psa_sl bad = {0};

  for (size_t i = 0; i < len_at(p, p->spec, list); i++) {
    const char *name = get_str(p, item_at(p, p->spec, list, i), "/name");

    if (!sysctl_ok(name, p->minor))
      psa_sl_add(&bad, name);
  }
  if (bad.n)
    psa_sb_join(forbid(res, "forbidden sysctls"), &bad, ", ");
  note_oom(res, &bad);
  psa_sl_free(&bad);
}

/* check_windowsHostProcess.go */
static void check_windows_host_process(const pod *p, result *res)
{
  const char *field = "/securityContext/windowsOptions/hostProcess";
  psa_sl containers = {0};
  const kapi_obj *c;
  const char *name;
  int pod_bad = get_bool(p, p->spec, field) == 1;
  psa_sb *d;

  FOR_CONTAINERS(p, c, name) {
    if (get_bool(p, c, field) == 1)
      psa_sl_add(&containers, name);
  }
  if (pod_bad || containers.n) {
    d = forbid(res, "hostProcess");
    put_setters(d, pod_bad, &containers);
    psa_sb_puts(d, " must not set "
                   "securityContext.windowsOptions.hostProcess=true");
  }
  note_oom(res, &containers);
  psa_sl_free(&containers);
}

/* ---- restricted checks -------------------------------------------------- */

/* check_allowPrivilegeEscalation.go: must be explicitly false. */
static void check_allow_privilege_escalation(const pod *p, result *res)
{
  psa_sl containers = {0};
  const kapi_obj *c;
  const char *name;
  psa_sb *d;

  if (windows_pod(p))
    return;
  FOR_CONTAINERS(p, c, name) {
    if (get_bool(p, c, "/securityContext/allowPrivilegeEscalation") != 0)
      psa_sl_add(&containers, name);
  }
  if (containers.n) {
    d = forbid(res, "allowPrivilegeEscalation != false");
    put_containers(d, &containers);
    psa_sb_puts(d, " must set securityContext.allowPrivilegeEscalation=false");
  }
  note_oom(res, &containers);
  psa_sl_free(&containers);
}

/* check_capabilities_restricted.go: drop ALL, add only NET_BIND_SERVICE. */
static void check_capabilities_restricted(const pod *p, result *res)
{
  const char *drop = "/securityContext/capabilities/drop";
  const char *add = "/securityContext/capabilities/add";
  psa_sl missing_drop = {0}, adding = {0}, caps = {0};
  const kapi_obj *c;
  const char *name;
  psa_sb *d;

  if (windows_pod(p))
    return;
  FOR_CONTAINERS(p, c, name) {
    int dropped_all = 0, added_forbidden = 0;

    if (!get(p, c, "/securityContext/capabilities")) {
      psa_sl_add(&missing_drop, name);
      continue;
    }
    for (size_t i = 0; i < len_at(p, c, drop) && !dropped_all; i++)
      dropped_all = !strcmp(item_str(p, c, drop, i), "ALL");
    if (!dropped_all)
      psa_sl_add(&missing_drop, name);
    for (size_t i = 0; i < len_at(p, c, add); i++)
      if (strcmp(item_str(p, c, add, i), "NET_BIND_SERVICE")) {
        added_forbidden = 1;
        psa_sl_add(&caps, item_str(p, c, add, i));
      }
    if (added_forbidden)
      psa_sl_add(&adding, name);
  }
  if (missing_drop.n || adding.n) {
    d = forbid(res, "unrestricted capabilities");
    if (missing_drop.n) {
      put_containers(d, &missing_drop);
      psa_sb_puts(d, " must set securityContext.capabilities.drop=[\"ALL\"]");
    }
    if (adding.n) {
      psa_sl_sort_unique(&caps);
      psa_sb_puts(d, missing_drop.n ? "; " : "");
      put_containers(d, &adding);
      psa_sb_puts(d, " must not include ");
      psa_sb_join_quote(d, &caps);
      psa_sb_puts(d, " in securityContext.capabilities.add");
    }
  }
  note_oom(res, &missing_drop);
  note_oom(res, &adding);
  note_oom(res, &caps);
  psa_sl_free(&missing_drop);
  psa_sl_free(&adding);
  psa_sl_free(&caps);
}

/* check_restrictedVolumes.go: the inline volume sources a restricted pod
 * may use, and the names of the others in upstream's order. */
static const char *restricted_volume_type(const pod *p, const kapi_obj *v)
{
  static const char *const allowed[] = {
      "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
      "persistentVolumeClaim", "projected", "secret", NULL};
  static const char *const restricted[] = {
      "hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo",
      "nfs", "iscsi", "glusterfs", "rbd", "flexVolume", "cinder", "cephfs",
      "flocker", "fc", "azureFile", "vsphereVolume", "quobyte", "azureDisk",
      "photonPersistentDisk", "portworxVolume", "scaleIO", "storageos", NULL};
  char ptr[40];

  for (const char *const *a = allowed; *a; a++) {
    snprintf(ptr, sizeof ptr, "/%s", *a);
    if (get(p, v, ptr))
      return NULL;
  }
  for (const char *const *t = restricted; *t; t++) {
    snprintf(ptr, sizeof ptr, "/%s", *t);
    if (get(p, v, ptr))
      return *t;
  }
  return "unknown";
}

static void check_restricted_volumes(const pod *p, result *res)
{
  psa_sl names = {0}, types = {0};
  psa_sb *d;

  for (size_t i = 0; i < len_at(p, p->spec, "/volumes"); i++) {
    const kapi_obj *v = item_at(p, p->spec, "/volumes", i);
    const char *type = restricted_volume_type(p, v);

    if (!type)
      continue;
    psa_sl_add(&names, get_str(p, v, "/name"));
    psa_sl_add(&types, type);
  }
  if (names.n) {
    psa_sl_sort_unique(&types);
    d = forbid(res, "restricted volume types");
    psa_sb_printf(d, "%s ", plural(names.n, "volume", "volumes"));
    psa_sb_join_quote(d, &names);
    psa_sb_printf(d, " %s %s ", plural(names.n, "uses", "use"),
                  plural(types.n, "restricted volume type",
                         "restricted volume types"));
    psa_sb_join_quote(d, &types);
  }
  note_oom(res, &names);
  note_oom(res, &types);
  psa_sl_free(&names);
  psa_sl_free(&types);
}

/* check_runAsNonRoot.go: explicit false anywhere is worse than unset. */
static void check_run_as_non_root(const pod *p, result *res)
{
  const char *field = "/securityContext/runAsNonRoot";
  psa_sl explicit_bad = {0}, implicit_bad = {0};
  int pod_value = get_bool(p, p->spec, field);
  const kapi_obj *c;
  const char *name;
  psa_sb *d;

  FOR_CONTAINERS(p, c, name) {
    int v = get_bool(p, c, field);

    if (v == 0)
      psa_sl_add(&explicit_bad, name);
    else if (v < 0 && pod_value != 1)
      psa_sl_add(&implicit_bad, name);
  }
  if (pod_value == 0 || explicit_bad.n) {
    d = forbid(res, "runAsNonRoot != true");
    put_setters(d, pod_value == 0, &explicit_bad);
    psa_sb_puts(d, " must not set securityContext.runAsNonRoot=false");
  } else if (implicit_bad.n) {
    d = forbid(res, "runAsNonRoot != true");
    psa_sb_puts(d, "pod or ");
    put_containers(d, &implicit_bad);
    psa_sb_puts(d, " must set securityContext.runAsNonRoot=true");
  }
  note_oom(res, &explicit_bad);
  note_oom(res, &implicit_bad);
  psa_sl_free(&explicit_bad);
  psa_sl_free(&implicit_bad);
}

/* check_runAsUser.go */
static int is_root_uid(const pod *p, const kapi_obj *o)
{
  const kapi_obj *v = get(p, o, "/securityContext/runAsUser");
  int64_t uid;

  return v && p->api->obj_int(v, &uid) == 0 && uid == 0;
}

static void check_run_as_user(const pod *p, result *res)
{
  psa_sl containers = {0};
  int pod_bad = is_root_uid(p, p->spec);
  const kapi_obj *c;
  const char *name;
  psa_sb *d;

  FOR_CONTAINERS(p, c, name) {
    if (is_root_uid(p, c))
      psa_sl_add(&containers, name);
  }
  if (pod_bad || containers.n) {
    d = forbid(res, "runAsUser=0");
    put_setters(d, pod_bad, &containers);
    psa_sb_puts(d, " must not set runAsUser=0");
  }
  note_oom(res, &containers);
  psa_sl_free(&containers);
}

/* check_seccompProfile_restricted.go: a valid profile must be set, on the
 * pod or on every container. */
static void check_seccomp_restricted(const pod *p, result *res)
{
  psa_sl explicit_bad = {0}, implicit_bad = {0}, values = {0};
  int pod_bad = 0, pod_set = 0;
  const kapi_obj *c;
  const char *name;
  psa_sb *d;

  if (windows_pod(p))
    return;
  if (get(p, p->spec, "/securityContext/seccompProfile")) {
    const char *t = get_str(p, p->spec, "/securityContext/seccompProfile/type");

    if (seccomp_type_ok(t)) {
      pod_set = 1;
    } else {
      pod_bad = 1;
      psa_sl_add(&values, t);
    }
  }
  FOR_CONTAINERS(p, c, name) {
    const char *t = get_str(p, c, "/securityContext/seccompProfile/type");

    if (get(p, c, "/securityContext/seccompProfile")) {
      if (!seccomp_type_ok(t)) {
        psa_sl_add(&explicit_bad, name);
        psa_sl_add(&values, t);
      }
    } else if (!pod_set) {
      psa_sl_add(&implicit_bad, name);
    }
  }
  if (pod_bad || explicit_bad.n) {
    psa_sl_sort_unique(&values);
    d = forbid(res, "seccompProfile");
    put_setters(d, pod_bad, &explicit_bad);
    psa_sb_puts(d, " must not set securityContext.seccompProfile.type to ");
    psa_sb_join_quote(d, &values);
  } else if (implicit_bad.n) {
    d = forbid(res, "seccompProfile");
    psa_sb_puts(d, "pod or ");
    put_containers(d, &implicit_bad);
    psa_sb_puts(d, " must set securityContext.seccompProfile.type to "
                   "\"RuntimeDefault\" or \"Localhost\"");
  }
  note_oom(res, &explicit_bad);
  note_oom(res, &implicit_bad);
  note_oom(res, &values);
  psa_sl_free(&explicit_bad);
  psa_sl_free(&implicit_bad);
  psa_sl_free(&values);
}

/* ---- the registry ------------------------------------------------------- */

typedef struct check {
  const char *id;
  psa_level level;
  int since;             /* the first policy version, 1.since */
  const char *overrides; /* the baseline check a restricted one replaces */
  void (*run)(const pod *p, result *res);
} check;

/*
 * Upstream orders results by check ID, baseline checks first, then the
 * restricted ones (registry.go's orderedIDs, a bytewise sort): this table
 * is kept in that order, and the unit tests check it.
 */
static const check checks[] = {
    {"appArmorProfile", PSA_BASELINE, 0, NULL, check_apparmor},
    {"capabilities_baseline", PSA_BASELINE, 0, NULL,
     check_capabilities_baseline},
    {"hostNamespaces", PSA_BASELINE, 0, NULL, check_host_namespaces},
    {"hostPathVolumes", PSA_BASELINE, 0, NULL, check_host_path_volumes},
    {"hostPorts", PSA_BASELINE, 0, NULL, check_host_ports},
    {"privileged", PSA_BASELINE, 0, NULL, check_privileged},
    {"procMount", PSA_BASELINE, 0, NULL, check_proc_mount},
    {"seLinuxOptions", PSA_BASELINE, 0, NULL, check_selinux},
    {"seccompProfile_baseline", PSA_BASELINE, 0, NULL,
     check_seccomp_baseline},
    {"sysctls", PSA_BASELINE, 0, NULL, check_sysctls},
    {"windowsHostProcess", PSA_BASELINE, 0, NULL, check_windows_host_process},
    {"allowPrivilegeEscalation", PSA_RESTRICTED, 8, NULL,
     check_allow_privilege_escalation},
    {"capabilities_restricted", PSA_RESTRICTED, 22, "capabilities_baseline",
     check_capabilities_restricted},
    {"restrictedVolumes", PSA_RESTRICTED, 0, "hostPathVolumes",
     check_restricted_volumes},
    {"runAsNonRoot", PSA_RESTRICTED, 0, NULL, check_run_as_non_root},
    {"runAsUser", PSA_RESTRICTED, 23, NULL, check_run_as_user},
    {"seccompProfile_restricted", PSA_RESTRICTED, 19,
     "seccompProfile_baseline", check_seccomp_restricted},
};

#define N_CHECKS (sizeof checks / sizeof *checks)

static int effective_minor(psa_lv lv)
{
  return lv.minor == PSA_LATEST || lv.minor > PSA_MAX_MINOR ? PSA_MAX_MINOR
                                                            : lv.minor;
}

/* Whether a restricted check active at `minor` replaces baseline `id`. */
static int overridden(const char *id, int minor)
{
  for (size_t i = 0; i < N_CHECKS; i++)
    if (checks[i].overrides && checks[i].since <= minor &&
        !strcmp(checks[i].overrides, id))
      return 1;
  return 0;
}

/* Whether checks[i] runs for lv (registry.go's populate). */
static int applies(size_t i, psa_lv lv, int minor)
{
  const check *c = &checks[i];

  if (lv.level == PSA_PRIVILEGED || c->since > minor)
    return 0;
  if (c->level == PSA_RESTRICTED)
    return lv.level == PSA_RESTRICTED;
  return lv.level == PSA_BASELINE || !overridden(c->id, minor);
}

const char *psa_check_id(psa_lv lv, size_t n)
{
  int minor = effective_minor(lv);

  for (size_t i = 0; i < N_CHECKS; i++)
    if (applies(i, lv, minor) && n-- == 0)
      return checks[i].id;
  return NULL;
}

int psa_evaluate(const kapi_host_api *api, psa_lv lv, const kapi_obj *meta,
                 const kapi_obj *spec, psa_sb *detail, psa_sb *reasons)
{
  pod p = {api, meta, spec, effective_minor(lv)};
  int failed = 0, oom = 0;

  for (size_t i = 0; i < N_CHECKS; i++) {
    result res = {NULL, {0}, 0};

    if (!applies(i, lv, p.minor))
      continue;
    checks[i].run(&p, &res);
    if (res.oom || res.detail.oom)
      oom = 1;
    if (res.reason) {
      /* AggregateCheckResult.ForbiddenDetail and ForbiddenReason. */
      if (detail) {
        psa_sb_printf(detail, "%s%s", failed ? ", " : "", res.reason);
        if (res.detail.len)
          psa_sb_printf(detail, " (%s)", psa_sb_str(&res.detail));
      }
      if (reasons)
        psa_sb_printf(reasons, "%s%s", failed ? ", " : "", res.reason);
      failed++;
    }
    psa_sb_free(&res.detail);
  }
  if (oom || (detail && detail->oom) || (reasons && reasons->oom))
    return -ENOMEM;
  return failed;
}
