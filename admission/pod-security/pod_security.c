/*
 * pod_security.c - the PodSecurity admission plugin: the flow.
 *
 * Upstream: staging/src/k8s.io/pod-security-admission/admission/
 * admission.go and response.go, wrapped by plugin/pkg/admission/security/
 * podsecurity/admission.go.  A namespace chooses, with its labels
 * pod-security.kubernetes.io/{enforce,audit,warn}[-version], the Pod
 * Security Standards level a pod must meet (enforce: the request is
 * refused), is recorded against (audit: an audit annotation) or is warned
 * about (warn: a Warning header).  The configuration gives the defaults
 * for namespaces without labels and exempts usernames, namespaces and
 * runtime classes.
 *
 *  - pods: CREATE, and UPDATEs that change what the checks read (images,
 *    seccomp annotations, ephemeral containers), including the
 *    ephemeralcontainers subresource; other subresources pass;
 *  - workload resources (deployments, jobs, ...): their pod template is
 *    audited and warned about, never enforced, as upstream: the pods they
 *    create are enforced one by one;
 *  - namespaces: bad labels are refused (422); when an update tightens the
 *    enforce level, the existing pods that would fail it are warned about.
 *
 * Differences from upstream: the namespace is read from the store on
 * every request (cheap in kapi), so there is no informer and no live
 * lookup fallback; no metrics.
 */
/* clock_gettime under a strict -std=c11 build too. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "psa_internal.h"

/* admission.go: defaultNamespaceMaxPodsToCheck, ...PodCheckTimeout. */
#define NS_MAX_PODS_TO_CHECK 3000
#define NS_POD_CHECK_TIMEOUT_NS 1000000000LL

#define ANNOTATION_PREFIX "pod-security.kubernetes.io/"

static const kapi_host_api *api;
static kapi_plugin *plugin; /* for api->log */
static psa_config config;   /* owned; read-only after init */

static int nonempty(const char *s)
{
  return s && *s;
}

static int streq(const char *a, const char *b)
{
  return a && b && !strcmp(a, b);
}

/* ---- what the host offers since 1.2 (older hosts: quietly less) -------- */

static void audit_annotation(const kapi_req *r, const char *key,
                             const char *value)
{
  char full[96];

  if (!KAPI_API_HAS(api, req_audit_annotation))
    return;
  snprintf(full, sizeof full, ANNOTATION_PREFIX "%s", key);
  api->req_audit_annotation(r, full, value);
}

static void warn(const kapi_req *r, const char *text)
{
  if (KAPI_API_HAS(api, req_warning))
    api->req_warning(r, "%s", text);
  else
    api->log(plugin, 2, "warning (host cannot send it): %s", text);
}

/* The request's user name: "user.name", or the req_user object. */
static const char *user_name(const kapi_req *r)
{
  const char *name = api->req_get(r, "user.name");
  const kapi_obj *user;

  if (!name && KAPI_API_HAS(api, req_user) && (user = api->req_user(r)))
    name = api->obj_get(user, "/username");
  return name;
}

/* ---- exemptions ---------------------------------------------------------- */

static int exempt_namespace(const char *ns)
{
  return nonempty(ns) && psa_sl_has(&config.namespaces, ns);
}

static int exempt_user(const char *user)
{
  return nonempty(user) && psa_sl_has(&config.usernames, user);
}

static int exempt_runtime_class(const kapi_obj *spec)
{
  const char *rc = spec ? api->obj_get(spec, "/runtimeClassName") : NULL;

  return nonempty(rc) && psa_sl_has(&config.runtime_classes, rc);
}

/* ---- errors in upstream's shape ------------------------------------------ */

/* The name in messages: the request's, else the object's (which holds
 * the generated name by the time validation runs). */
static const char *object_name(const kapi_req *r, const kapi_obj *obj)
{
  const char *name = api->req_get(r, "name");

  if (!nonempty(name) && obj)
    name = api->obj_get(obj, "/metadata/name");
  return nonempty(name) ? name : "";
}

/* apierrors.NewForbidden(pods, name, err). */
static void forbidden(const kapi_req *r, const kapi_obj *obj,
                      const char *lv, const char *detail, kapi_error *e)
{
  const char *name = object_name(r, obj);

  if (*name)
    api->error_set(e, 403, "Forbidden",
                   "pods \"%s\" is forbidden: violates PodSecurity \"%s\": %s",
                   name, lv, detail);
  else
    api->error_set(e, 403, "Forbidden",
                   "pods is forbidden: violates PodSecurity \"%s\": %s", lv,
                   detail);
}

/* apierrors.NewInvalid(Namespace, name, errs): each entry of errs is
 * "field: body" (psa_policy_from_labels' text). */
static void invalid_namespace(const char *name, const psa_sl *errs,
                              kapi_error *e)
{
  psa_sb agg = {0};

  psa_sb_puts(&agg, errs->n > 1 ? "[" : "");
  psa_sb_join(&agg, errs, ", ");
  psa_sb_puts(&agg, errs->n > 1 ? "]" : "");
  api->error_set(e, 422, "Invalid", "Namespace \"%s\" is invalid: %s", name,
                 psa_sb_str(&agg));
  for (size_t i = 0; i < errs->n; i++) {
    char *colon = strstr(errs->v[i], ": ");
    char field[128];

    if (!colon)
      continue;
    snprintf(field, sizeof field, "%.*s", (int)(colon - errs->v[i]),
             errs->v[i]);
    api->error_add_cause(e, "FieldValueInvalid", colon + 2, field);
  }
  psa_sb_free(&agg);
}

static int out_of_memory(kapi_error *e)
{
  api->error_set(e, 500, "InternalError",
                 "Internal error occurred: PodSecurity: out of memory");
  return -ENOMEM;
}

/* ---- evaluating one pod (EvaluatePod) ------------------------------------ */

/* A level's verdict, computed at most once per distinct level+version. */
typedef struct verdict {
  psa_lv lv;
  int done, failed;
  psa_sb detail;
} verdict;

/* The verdict for lv, reusing an earlier one (enforce, audit) if equal. */
static verdict *judge(verdict *v, size_t n, psa_lv lv,
                      const kapi_obj *meta, const kapi_obj *spec)
{
  for (size_t i = 0; i < n; i++)
    if (v[i].done && psa_lv_equal(v[i].lv, lv))
      return &v[i];
  for (size_t i = 0; i < n; i++)
    if (!v[i].done) {
      v[i].lv = lv;
      v[i].done = 1;
      v[i].failed = psa_evaluate(api, lv, meta, spec, &v[i].detail, NULL);
      return &v[i];
    }
  return NULL; /* not reached: one slot per mode */
}

/*
 * Enforce (when `enforce`), audit, then warn, as admission.go's
 * EvaluatePod.  `policy_errs` are the namespace's bad labels, recorded in
 * the audit log.  Returns 0 (allowed) or <0 with e set.
 */
static int evaluate_pod(const kapi_req *r, const kapi_obj *obj,
                        const psa_policy *policy, const psa_sl *policy_errs,
                        const kapi_obj *meta, const kapi_obj *spec,
                        int enforce, kapi_error *e)
{
  verdict v[3];
  verdict *enf = NULL, *aud, *wrn;
  char lv[48];
  psa_sb text = {0};
  int rc = 0, oom = 0;

  if (exempt_runtime_class(spec)) {
    audit_annotation(r, "exempt", "runtimeClass");
    return 0;
  }
  memset(v, 0, sizeof v);
  if (policy_errs->n) {
    psa_sb_puts(&text, "Failed to parse policy: ");
    psa_sb_puts(&text, policy_errs->n > 1 ? "[" : "");
    psa_sb_join(&text, policy_errs, ", ");
    psa_sb_puts(&text, policy_errs->n > 1 ? "]" : "");
    audit_annotation(r, "error", psa_sb_str(&text));
    oom |= text.oom;
    psa_sb_free(&text);
  }

  if (enforce) {
    psa_lv_string(policy->enforce, lv, sizeof lv);
    audit_annotation(r, "enforce-policy", lv);
    enf = judge(v, 3, policy->enforce, meta, spec);
    if (enf->failed > 0)
      forbidden(r, obj, lv, psa_sb_str(&enf->detail), e);
  }

  aud = judge(v, 3, policy->audit, meta, spec);
  if (aud->failed > 0) {
    psa_sb_printf(&text, "would violate PodSecurity \"%s\": %s",
                  psa_lv_string(policy->audit, lv, sizeof lv),
                  psa_sb_str(&aud->detail));
    audit_annotation(r, "audit-violations", psa_sb_str(&text));
    oom |= text.oom;
    psa_sb_free(&text);
  }

  /* No warnings on a request that is refused anyway. */
  if (!enf || enf->failed == 0) {
    wrn = judge(v, 3, policy->warn, meta, spec);
    if (wrn->failed > 0) {
      psa_sb_printf(&text, "would violate PodSecurity \"%s\": %s",
                    psa_lv_string(policy->warn, lv, sizeof lv),
                    psa_sb_str(&wrn->detail));
      warn(r, psa_sb_str(&text));
      oom |= text.oom;
      psa_sb_free(&text);
    }
  }

  for (size_t i = 0; i < 3; i++) {
    if (v[i].failed < 0 || v[i].detail.oom)
      rc = -ENOMEM;
    psa_sb_free(&v[i].detail);
  }
  if (oom)
    rc = -ENOMEM;
  if (rc < 0)
    return out_of_memory(e);
  return enf && enf->failed > 0 ? -EPERM : 0;
}

/* ---- namespaces and their policy -------------------------------------- */

/* The policy the labels of namespace `ns` select; their errors are
 * appended to errs.  Returns 0, or -errno when the namespace cannot be
 * read. */
static int namespace_policy(const char *ns, psa_policy *policy,
                            psa_sl *errs)
{
  kapi_obj *nsobj = NULL;
  int rc = api->store_get("", "namespaces", NULL, ns, &nsobj);

  if (rc < 0)
    return rc;
  psa_policy_from_labels(api, api->obj_lookup(nsobj, "/metadata/labels"),
                         &config.defaults, policy, errs);
  api->obj_free(nsobj);
  return 0;
}

/* ---- pods (ValidatePod) ---------------------------------------------- */

/* A string field as Go reads it: "" when absent. */
static const char *text_at(const kapi_obj *o, const char *ptr)
{
  const char *s = o ? api->obj_get(o, ptr) : NULL;

  return s ? s : "";
}

/* isSignificantContainerUpdate: the image or the container's seccomp
 * annotation changed. */
static int containers_differ(const kapi_obj *a, const kapi_obj *b,
                             const kapi_obj *ann, const kapi_obj *old_ann)
{
  char ptr[320];

  if (strcmp(text_at(a, "/image"), text_at(b, "/image")))
    return 1;
  snprintf(ptr, sizeof ptr,
           "/container.seccomp.security.alpha.kubernetes.io~1%s",
           text_at(a, "/name"));
  return strcmp(text_at(ann, ptr), text_at(old_ann, ptr)) != 0;
}

static size_t count(const kapi_obj *o, const char *ptr)
{
  const kapi_obj *v = api->obj_lookup(o, ptr);

  return v && api->obj_type(v) == KAPI_OBJ_ARRAY ? api->obj_len(v) : 0;
}

static const kapi_obj *nth(const kapi_obj *o, const char *ptr, size_t i)
{
  return api->obj_index(api->obj_lookup(o, ptr), i);
}

/*
 * isSignificantPodUpdate: what the checks read and an update may change
 * is the images, the seccomp annotations and the ephemeral containers;
 * anything else (labels, status, ...) passes without evaluation.
 */
static int significant_pod_update(const kapi_obj *pod, const kapi_obj *old)
{
  static const char *const lists[] = {"/spec/containers",
                                      "/spec/initContainers"};
  const char *pod_key = "/seccomp.security.alpha.kubernetes.io~1pod";
  const kapi_obj *ann = api->obj_lookup(pod, "/metadata/annotations");
  const kapi_obj *old_ann = api->obj_lookup(old, "/metadata/annotations");

  if (strcmp(text_at(ann, pod_key), text_at(old_ann, pod_key)))
    return 1;
  for (size_t l = 0; l < 2; l++) {
    size_t n = count(pod, lists[l]);

    if (n != count(old, lists[l]))
      return 1;
    for (size_t i = 0; i < n; i++)
      if (containers_differ(nth(pod, lists[l], i), nth(old, lists[l], i), ann,
                            old_ann))
        return 1;
  }
  for (size_t i = 0; i < count(pod, "/spec/ephemeralContainers"); i++) {
    const kapi_obj *c = nth(pod, "/spec/ephemeralContainers", i);
    const kapi_obj *oc = NULL;

    for (size_t j = 0; !oc && j < count(old, "/spec/ephemeralContainers");
         j++) {
      const kapi_obj *cand = nth(old, "/spec/ephemeralContainers", j);

      if (streq(api->obj_get(cand, "/name"), api->obj_get(c, "/name")))
        oc = cand;
    }
    if (!oc || containers_differ(c, oc, ann, old_ann))
      return 1; /* added, or changed */
  }
  return 0;
}

static int validate_pod(const kapi_req *r, const kapi_obj *obj,
                        kapi_error *e)
{
  const char *sub = api->req_get(r, "subresource");
  const char *ns = api->req_get(r, "namespace");
  const char *op = api->req_get(r, "operation");
  const kapi_obj *old;
  psa_policy policy;
  psa_sl errs = {0};
  int rc;

  /* Only the pod itself and its ephemeral containers change its spec. */
  if (nonempty(sub) && strcmp(sub, "ephemeralcontainers"))
    return 0;
  if (!obj)
    return 0;
  if (exempt_namespace(ns)) {
    audit_annotation(r, "exempt", "namespace");
    return 0;
  }
  if (exempt_user(user_name(r))) {
    audit_annotation(r, "exempt", "user");
    return 0;
  }

  rc = namespace_policy(ns ? ns : "", &policy, &errs);
  if (rc < 0) {
    char text[300];

    api->log(plugin, KAPI_LOG_ERROR, "failed to fetch pod namespace %s: %s",
             ns ? ns : "", strerror(-rc));
    snprintf(text, sizeof text, "Internal error occurred: failed to lookup "
             "namespace %s: %s", ns ? ns : "", strerror(-rc));
    audit_annotation(r, "error", text);
    api->error_set(e, 500, "InternalError",
                   "Internal error occurred: failed to lookup namespace %s",
                   ns ? ns : "");
    psa_sl_free(&errs);
    return rc;
  }
  if (!errs.n && policy.enforce.level == PSA_PRIVILEGED &&
      policy.warn.level == PSA_PRIVILEGED &&
      policy.audit.level == PSA_PRIVILEGED) {
    audit_annotation(r, "enforce-policy", "privileged:latest");
    psa_sl_free(&errs);
    return 0;
  }
  if (streq(op, "UPDATE") && (old = api->req_old_object(r)) &&
      !significant_pod_update(obj, old)) {
    psa_sl_free(&errs);
    return 0;
  }
  rc = errs.oom ? out_of_memory(e)
                : evaluate_pod(r, obj, &policy, &errs,
                               api->obj_lookup(obj, "/metadata"),
                               api->obj_lookup(obj, "/spec"), 1, e);
  psa_sl_free(&errs);
  return rc;
}

/* ---- pod controllers (ValidatePodController) ----------------------------- */

/* Where a resource keeps its pod template (DefaultPodSpecExtractor), NULL
 * for resources without one. */
static const char *template_pointer(const char *group, const char *resource)
{
  static const struct {
    const char *group, *resource, *pointer;
  } known[] = {
      {"", "replicationcontrollers", "/spec/template"},
      {"", "podtemplates", "/template"},
      {"apps", "replicasets", "/spec/template"},
      {"apps", "deployments", "/spec/template"},
      {"apps", "statefulsets", "/spec/template"},
      {"apps", "daemonsets", "/spec/template"},
      {"batch", "jobs", "/spec/template"},
      {"batch", "cronjobs", "/spec/jobTemplate/spec/template"},
  };

  for (size_t i = 0; i < sizeof known / sizeof *known; i++)
    if (streq(group, known[i].group) && streq(resource, known[i].resource))
      return known[i].pointer;
  return NULL;
}

static int validate_pod_controller(const kapi_req *r, const kapi_obj *obj,
                                   const char *pointer, kapi_error *e)
{
  const char *ns = api->req_get(r, "namespace");
  const char *resource = api->req_get(r, "resource");
  const kapi_obj *tmpl;
  psa_policy policy;
  psa_sl errs = {0};
  int rc;

  if (nonempty(api->req_get(r, "subresource")) || !obj)
    return 0;
  if (exempt_namespace(ns)) {
    audit_annotation(r, "exempt", "namespace");
    return 0;
  }
  if (exempt_user(user_name(r))) {
    audit_annotation(r, "exempt", "user");
    return 0;
  }
  rc = namespace_policy(ns ? ns : "", &policy, &errs);
  if (rc < 0) {
    /* Workloads are never refused: the lookup failure is only audited. */
    char text[300];

    snprintf(text, sizeof text, "failed to lookup namespace %s: %s",
             ns ? ns : "", strerror(-rc));
    audit_annotation(r, "error", text);
    psa_sl_free(&errs);
    return 0;
  }
  if (!errs.n && policy.warn.level == PSA_PRIVILEGED &&
      policy.audit.level == PSA_PRIVILEGED) {
    psa_sl_free(&errs);
    return 0;
  }
  tmpl = api->obj_lookup(obj, pointer);
  if (tmpl && api->obj_type(tmpl) == KAPI_OBJ_NULL)
    tmpl = NULL;
  /* Only a replication controller's template is optional; the others
   * always have one (an absent one reads as empty, as in Go). */
  if (!tmpl && streq(resource, "replicationcontrollers")) {
    psa_sl_free(&errs);
    return 0;
  }
  rc = errs.oom ? out_of_memory(e)
                : evaluate_pod(r, obj, &policy, &errs,
                               tmpl ? api->obj_lookup(tmpl, "/metadata") : NULL,
                               tmpl ? api->obj_lookup(tmpl, "/spec") : NULL,
                               0, e);
  psa_sl_free(&errs);
  return rc;
}

/* ---- namespaces (ValidateNamespace) ------------------------------------- */

static int64_t now_ns(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The controller reference's uid of a pod, NULL if none. */
static const char *controller_uid(const kapi_obj *pod)
{
  const kapi_obj *refs = api->obj_lookup(pod, "/metadata/ownerReferences");

  for (size_t i = 0; refs && i < api->obj_len(refs); i++) {
    const kapi_obj *ref = api->obj_index(refs, i);

    if (streq(api->obj_get(ref, "/controller"), "true"))
      return api->obj_get(ref, "/uid");
  }
  return NULL;
}

/*
 * prioritizePods: pods of exempt runtime classes are left out; of the
 * pods of one controller the first comes early, the others go last, so
 * that a cut-off still sees every workload.  Fills order[] with indices
 * into `pods`, returns how many.
 */
static size_t prioritize_pods(const kapi_obj *pods, size_t *order)
{
  size_t n = api->obj_len(pods), k = 0, dups = 0;
  size_t *later = calloc(n ? n : 1, sizeof *later);
  psa_sl seen = {0};

  if (!later)
    return (size_t)-1;
  for (size_t i = 0; i < n; i++) {
    const kapi_obj *pod = api->obj_index(pods, i);
    const char *uid = controller_uid(pod);

    if (exempt_runtime_class(api->obj_lookup(pod, "/spec")))
      continue;
    if (uid && psa_sl_has(&seen, uid)) {
      later[dups++] = i;
      continue;
    }
    if (uid)
      psa_sl_add(&seen, uid);
    order[k++] = i;
  }
  memcpy(order + k, later, dups * sizeof *later);
  free(later);
  if (seen.oom) {
    psa_sl_free(&seen);
    return (size_t)-1;
  }
  psa_sl_free(&seen);
  return k + dups;
}

/* One line of the per-pod warnings: a set of reasons and its pods. */
typedef struct pod_warning {
  char *reasons;
  const char *first_pod; /* lexically first name, borrowed from the list */
  size_t pods;
} pod_warning;

static int cmp_text(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * EvaluatePodsInNamespace: the warnings for tightening the enforce level
 * of `ns` to `lv`, added to the response in upstream's order.
 */
static void warn_existing_pods(const kapi_req *r, const char *ns, psa_lv lv)
{
  kapi_obj *pods = NULL;
  size_t *order = NULL, total, checked, n_warn = 0;
  pod_warning *pw = NULL;
  psa_sl lines = {0};
  int64_t deadline = now_ns() + NS_POD_CHECK_TIMEOUT_NS;
  char lvs[48];
  int rc = -ENOSYS;

  if (KAPI_API_HAS(api, store_list))
    rc = api->store_list("", "pods", ns, NULL, &pods);
  if (rc < 0) {
    api->log(plugin, KAPI_LOG_ERROR, "failed to list pods in namespace %s: %s",
             ns, strerror(-rc));
    warn(r, "failed to list pods while checking new PodSecurity enforce "
            "level");
    return;
  }
  total = api->obj_len(pods);
  order = malloc((total ? total : 1) * sizeof *order);
  pw = calloc(total ? total : 1, sizeof *pw);
  if (!order || !pw || (total = prioritize_pods(pods, order)) == (size_t)-1)
    goto oom;

  checked = total < NS_MAX_PODS_TO_CHECK ? total : NS_MAX_PODS_TO_CHECK;
  for (size_t i = 0; i < checked; i++) {
    const kapi_obj *pod = api->obj_index(pods, order[i]);
    const char *name = api->obj_get(pod, "/metadata/name");
    psa_sb reasons = {0};
    size_t w;
    int failed = psa_evaluate(api, lv, api->obj_lookup(pod, "/metadata"),
                              api->obj_lookup(pod, "/spec"), NULL, &reasons);

    if (failed < 0) {
      psa_sb_free(&reasons);
      goto oom;
    }
    name = name ? name : "";
    if (failed > 0) {
      for (w = 0; w < n_warn && strcmp(pw[w].reasons, reasons.s); w++)
        ;
      if (w == n_warn) {
        pw[n_warn++] = (pod_warning){reasons.s, name, 0};
        reasons.s = NULL; /* now owned by pw */
      } else if (strcmp(name, pw[w].first_pod) < 0) {
        pw[w].first_pod = name;
      }
      pw[w].pods++;
    }
    psa_sb_free(&reasons);
    if (now_ns() > deadline) { /* as upstream: stop, and say so */
      checked = i + 1;
      break;
    }
  }

  psa_lv_string(lv, lvs, sizeof lvs);
  if (checked < total)
    psa_sl_addf(&lines, "new PodSecurity enforce level only checked against "
                "the first %zu of %zu existing pods", checked, total);
  if (n_warn)
    psa_sl_addf(&lines, "existing pods in namespace \"%s\" violate the new "
                "PodSecurity enforce level \"%s\"", ns, lvs);
  {
    size_t head = lines.n;

    /* decoratePodWarnings, then sorted for a deterministic order. */
    for (size_t w = 0; w < n_warn; w++) {
      if (pw[w].pods == 1)
        psa_sl_addf(&lines, "%s: %s", pw[w].first_pod, pw[w].reasons);
      else if (pw[w].pods == 2)
        psa_sl_addf(&lines, "%s (and 1 other pod): %s", pw[w].first_pod,
                    pw[w].reasons);
      else
        psa_sl_addf(&lines, "%s (and %zu other pods): %s", pw[w].first_pod,
                    pw[w].pods - 1, pw[w].reasons);
    }
    if (!lines.oom && lines.n > head)
      qsort(lines.v + head, lines.n - head, sizeof *lines.v, cmp_text);
  }
  if (lines.oom)
    goto oom;
  for (size_t i = 0; i < lines.n; i++)
    warn(r, lines.v[i]);
  goto out;

oom:
  api->log(plugin, KAPI_LOG_ERROR, "out of memory checking the pods of "
           "namespace %s", ns);
out:
  for (size_t w = 0; pw && w < n_warn; w++)
    free(pw[w].reasons);
  free(pw);
  free(order);
  psa_sl_free(&lines);
  api->obj_free(pods);
}

static int validate_namespace(const kapi_req *r, const kapi_obj *obj,
                              kapi_error *e)
{
  const char *op = api->req_get(r, "operation");
  const char *name = object_name(r, obj);
  const kapi_obj *old;
  psa_policy new_policy, old_policy;
  psa_sl new_errs = {0}, old_errs = {0};
  int rc = 0, same_errs;

  if (nonempty(api->req_get(r, "subresource")) || !obj)
    return 0;
  psa_policy_from_labels(api, api->obj_lookup(obj, "/metadata/labels"),
                         &config.defaults, &new_policy, &new_errs);
  if (new_errs.oom) {
    rc = out_of_memory(e);
    goto out;
  }

  if (streq(op, "CREATE")) {
    if (new_errs.n) {
      invalid_namespace(name, &new_errs, e);
      rc = -EINVAL;
    }
    goto out;
  }
  if (!streq(op, "UPDATE") || !(old = api->req_old_object(r)))
    goto out;

  psa_policy_from_labels(api, api->obj_lookup(old, "/metadata/labels"),
                         &config.defaults, &old_policy, &old_errs);
  /* Bad labels that were already there do not block other updates. */
  same_errs = new_errs.n == old_errs.n;
  for (size_t i = 0; same_errs && i < new_errs.n; i++)
    same_errs = !strcmp(new_errs.v[i], old_errs.v[i]);
  if (new_errs.n && (!old_errs.n || !same_errs)) {
    invalid_namespace(name, &new_errs, e);
    rc = -EINVAL;
    goto out;
  }

  /* Dry-run the pods only when the enforce level became stricter (or
   * its version changed), and not for exempt namespaces. */
  if (psa_lv_equal(new_policy.enforce, old_policy.enforce) ||
      new_policy.enforce.level == PSA_PRIVILEGED)
    goto out;
  if (new_policy.enforce.minor == old_policy.enforce.minor &&
      new_policy.enforce.level <= old_policy.enforce.level)
    goto out;
  if (exempt_namespace(name)) {
    audit_annotation(r, "exempt", "namespace");
    goto out;
  }
  warn_existing_pods(r, name, new_policy.enforce);
out:
  psa_sl_free(&new_errs);
  psa_sl_free(&old_errs);
  return rc;
}

/* ---- the plugin ---------------------------------------------------------- */

static int psa_validate(void *st, const kapi_req *r, const kapi_obj *obj,
                        kapi_error *e)
{
  const char *group = api->req_get(r, "apiGroup");
  const char *resource = api->req_get(r, "resource");
  const char *pointer;

  (void)st;
  if (!resource)
    return 0;
  if (!nonempty(group) && !strcmp(resource, "namespaces"))
    return validate_namespace(r, obj, e);
  if (!nonempty(group) && !strcmp(resource, "pods"))
    return validate_pod(r, obj, e);
  pointer = template_pointer(group ? group : "", resource);
  return pointer ? validate_pod_controller(r, obj, pointer, e) : 0;
}

static const kapi_admission_ops psa_ops = {
    .size = sizeof(kapi_admission_ops),
    .handles = KAPI_OP_CREATE | KAPI_OP_UPDATE,
    .validate = psa_validate,
};

static int psa_init(kapi_plugin *self, const kapi_host_api *host,
                    const char *config_json, size_t config_len,
                    kapi_error *e)
{
  char err[1024];
  char enforce[48], audit[48], warn_lv[48];
  int rc;

  api = host;
  plugin = self;
  rc = psa_config_parse(api, config_json, config_len, &config, err,
                        sizeof err);
  if (rc < 0) {
    api->error_set(e, 400, "BadRequest", "%s", err);
    return rc;
  }
  rc = api->register_admission(self, "PodSecurity", &psa_ops, NULL, NULL);
  if (rc < 0) {
    psa_config_free(&config);
    return rc;
  }
  api->log(self, 2, "PodSecurity: defaults enforce=%s audit=%s warn=%s, "
           "%zu exempt usernames, %zu namespaces, %zu runtime classes",
           psa_lv_string(config.defaults.enforce, enforce, sizeof enforce),
           psa_lv_string(config.defaults.audit, audit, sizeof audit),
           psa_lv_string(config.defaults.warn, warn_lv, sizeof warn_lv),
           config.usernames.n, config.namespaces.n,
           config.runtime_classes.n);
  return 0;
}

static void psa_fini(kapi_plugin *self)
{
  (void)self;
  psa_config_free(&config);
}

KAPI_PLUGIN_DEFINE(.name = "pod-security", .version = "0.1.0",
                   .description = "PodSecurity admission: the Pod Security "
                                  "Standards (privileged, baseline, "
                                  "restricted) chosen by namespace labels",
                   .license = "Apache-2.0", .init = psa_init,
                   .fini = psa_fini);
