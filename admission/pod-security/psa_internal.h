/*
 * psa_internal.h - what the files of the PodSecurity admission plugin
 * share.
 *
 * Upstream: staging/src/k8s.io/pod-security-admission (api/ for levels,
 * versions and namespace labels, policy/ for the checks, admission/ for
 * the flow) and plugin/pkg/admission/security/podsecurity.
 *
 *   pod_security.c  the admission flow: pods, pod controllers, namespaces
 *   psa_checks.c    the baseline and restricted checks and the evaluator
 *   psa_config.c    PodSecurityConfiguration, levels, versions, labels
 *   psa_text.c      growing text buffers and string lists
 *
 * Everything here is built into one plugin with -fvisibility=hidden: the
 * psa_ functions are shared between the files, never exported.  Nothing
 * here keeps global state; every function that reads objects is handed
 * the host API table.
 */
#ifndef PSA_INTERNAL_H
#define PSA_INTERNAL_H

#include <stddef.h>

#include "kapi/plugin.h"

/* ---- text: psa_text.c ------------------------------------------------- */

/*
 * A growing NUL-terminated buffer.  Appending never fails visibly: on
 * out-of-memory `oom` is set and later appends do nothing, so a caller
 * builds a whole message and checks once.  Zero-initialise; free with
 * psa_sb_free().  `s` is NULL until something was appended.
 */
typedef struct psa_sb {
  char *s;
  size_t len, cap;
  int oom;
} psa_sb;

void psa_sb_puts(psa_sb *b, const char *s);
void psa_sb_printf(psa_sb *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s as Go's %q would print it: quoted, with \" \\ and control
 * characters escaped. */
void psa_sb_quote(psa_sb *b, const char *s);
/* The text so far ("" when empty); borrowed from b. */
const char *psa_sb_str(const psa_sb *b);
void psa_sb_free(psa_sb *b);

/*
 * A list of owned strings, in insertion order until psa_sl_sort_unique()
 * makes it a sorted set (upstream's sets.String.List()).  Out-of-memory
 * sets `oom`, as for psa_sb.  Zero-initialise; free with psa_sl_free().
 */
typedef struct psa_sl {
  char **v;
  size_t n, cap;
  int oom;
} psa_sl;

void psa_sl_add(psa_sl *l, const char *s); /* s copied; NULL adds "" */
void psa_sl_addf(psa_sl *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int psa_sl_has(const psa_sl *l, const char *s);
/* Sorts bytewise (Go's string order) and drops duplicates. */
void psa_sl_sort_unique(psa_sl *l);
void psa_sl_free(psa_sl *l);
/* Upstream's joinQuote: "a", "b" (no escaping, as upstream). */
void psa_sb_join_quote(psa_sb *b, const psa_sl *l);
/* strings.Join(l, sep). */
void psa_sb_join(psa_sb *b, const psa_sl *l, const char *sep);

/* ---- levels, versions, policies: psa_config.c ------------------------- */

typedef enum psa_level {
  PSA_PRIVILEGED = 0,
  PSA_BASELINE = 1,
  PSA_RESTRICTED = 2,
} psa_level;

#define PSA_LATEST (-1) /* psa_lv.minor of the version "latest" */

/* api.LevelVersion: a level and a policy version (1.minor or latest). */
typedef struct psa_lv {
  psa_level level;
  int minor;
} psa_lv;

/* api.Policy: what a namespace enforces, audits and warns about. */
typedef struct psa_policy {
  psa_lv enforce, audit, warn;
} psa_policy;

int psa_lv_equal(psa_lv a, psa_lv b);
/* "restricted:latest", "baseline:v1.25" into buf. */
const char *psa_lv_string(psa_lv lv, char *buf, size_t len);
/* 0 and *ret, or -EINVAL for anything but the three level names. */
int psa_parse_level(const char *s, psa_level *ret);
/* "latest" or v1.N: 0 and *ret_minor (PSA_LATEST for latest), or -EINVAL. */
int psa_parse_version(const char *s, int *ret_minor);

/*
 * api.PolicyToEvaluate: the policy the pod-security.kubernetes.io/ labels
 * of `labels` (a labels object, may be NULL) select over `defaults`.  A
 * bad enforce label falls back to restricted (fail closed), a bad audit or
 * warn level to privileged (fail open), a bad version to latest.  Each bad
 * label appends one field error to `errs` in upstream's text
 * ("metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value:
 * \"x\": must be one of privileged, baseline, restricted"); errs may be
 * NULL.  Returns the number of bad labels.
 */
int psa_policy_from_labels(const kapi_host_api *api, const kapi_obj *labels,
                           const psa_policy *defaults, psa_policy *ret,
                           psa_sl *errs);

/* The PodSecurityConfiguration (pod-security.admission.config.k8s.io). */
typedef struct psa_config {
  psa_policy defaults;
  psa_sl usernames, namespaces, runtime_classes;
} psa_config;

/*
 * Parses (with api->obj_parse) and validates the configuration JSON (NULL,
 * empty or null: the defaults, every level privileged:latest).  On
 * failure returns -EINVAL with upstream's message in err ("PodSecurity
 * invalid: defaults.enforce: Invalid value: ...") and leaves nothing to
 * free.  Free a parsed configuration with psa_config_free().
 */
int psa_config_parse(const kapi_host_api *api, const char *json, size_t len,
                     psa_config *ret, char *err, size_t errlen);
void psa_config_free(psa_config *c);

/* ---- the checks: psa_checks.c ----------------------------------------- */

/* The newest policy version the checks know: "latest" evaluates as it,
 * and so does any newer v1.N (upstream's evaluator caps the same way). */
#define PSA_MAX_MINOR 32

/*
 * Evaluates the pod metadata `meta` and pod spec `spec` (both borrowed,
 * either may be NULL) against `lv`, as upstream's EvaluatePod followed by
 * AggregateCheckResults.  Appends to `detail` (may be NULL) the forbidden
 * reasons with their details, "reason (detail), reason2 (detail2)", and
 * to `reasons` (may be NULL) the reasons alone, "reason, reason2".
 * Returns the number of failed checks (0: allowed) or -ENOMEM.
 */
int psa_evaluate(const kapi_host_api *api, psa_lv lv, const kapi_obj *meta,
                 const kapi_obj *spec, psa_sb *detail, psa_sb *reasons);

/* The check IDs in evaluation order for `lv`, for the tests; NULL past
 * the end. */
const char *psa_check_id(psa_lv lv, size_t i);

#endif
