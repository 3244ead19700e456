/*
 * node_resources_fit.c - the NodeResourcesFit PreFilter, Filter,
 * PreScore and Score plugin.
 *
 * Upstream: pkg/scheduler/framework/plugins/noderesources/{fit.go,
 * resource_allocation.go, least_allocated.go, most_allocated.go,
 * requested_to_capacity_ratio.go} and helper/shape_score.go.
 *
 * Filter: the pod's requests (no defaults) must fit the node's
 * allocatable minus what its pods request; every shortage is a reason
 * ("Insufficient cpu", "Too many pods"), and a request beyond the
 * allocatable itself makes the node UnschedulableAndUnresolvable
 * (evicting pods would not help).
 *
 * Score: per resource, requested = node's non-zero requests + the pod's
 * non-zero request; LeastAllocated (default) scores the free share,
 * MostAllocated the used share, RequestedToCapacityRatio a broken-line
 * function of utilization; the node's score is the weighted mean.
 *
 * Args (pluginConfig NodeResourcesFit):
 *   {"scoringStrategy": {"type": "LeastAllocated" | "MostAllocated" |
 *      "RequestedToCapacityRatio",
 *    "resources": [{"name": "cpu", "weight": 1}, ...],
 *    "requestedToCapacityRatio": {"shape": [{"utilization": 0,
 *      "score": 10}, ...]}},
 *    "ignoredResources": [...], "ignoredResourceGroups": [...]}
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapi/plugin.h"

#define PREFILTER_KEY "PreFilterNodeResourcesFit"
#define PRESCORE_KEY "PreScoreNodeResourcesFit"
#define MAX_RESOURCES 16
#define MAX_SHAPE 16
#define NAME_MAX_LEN 128

static const kapi_host_api *api;

/* ---- a minimal JSON reader for the args ------------------------------- */

/* The args are a small JSON text and the host API has no parser for free
 * text: this reads just what the args need (objects, arrays, strings,
 * integers, and skips anything else). */
typedef struct jr {
  const char *p, *end;
} jr;

static void jr_ws(jr *r)
{
  while (r->p < r->end &&
         (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
    r->p++;
}

static int jr_peek(jr *r)
{
  jr_ws(r);
  return r->p < r->end ? *r->p : -1;
}

static int jr_eat(jr *r, char c)
{
  if (jr_peek(r) != c)
    return -EINVAL;
  r->p++;
  return 0;
}

/* A string into buf (escapes other than \" and \\ are kept as is). */
static int jr_string(jr *r, char *buf, size_t len)
{
  size_t o = 0;

  if (jr_eat(r, '"') < 0)
    return -EINVAL;
  while (r->p < r->end && *r->p != '"') {
    char c = *r->p++;
    if (c == '\\' && r->p < r->end)
      c = *r->p++;
    if (o + 1 < len)
      buf[o++] = c;
  }
  if (len)
    buf[o] = '\0';
  return r->p < r->end ? (r->p++, 0) : -EINVAL;
}

static int jr_int(jr *r, int64_t *ret)
{
  char *end;
  long long v;

  jr_ws(r);
  v = strtoll(r->p, &end, 10);
  if (end == r->p)
    return -EINVAL;
  r->p = end;
  /* A fraction is truncated, as a Go int field would refuse it anyway. */
  while (r->p < r->end && (*r->p == '.' || (*r->p >= '0' && *r->p <= '9')))
    r->p++;
  *ret = v;
  return 0;
}

static int jr_skip(jr *r)
{
  int c = jr_peek(r), depth = 0;
  char tmp[2];

  if (c == '"')
    return jr_string(r, tmp, sizeof tmp);
  if (c != '{' && c != '[') {
    while (r->p < r->end && *r->p != ',' && *r->p != '}' && *r->p != ']')
      r->p++;
    return 0;
  }
  do {
    c = jr_peek(r);
    if (c == '"') {
      if (jr_string(r, tmp, sizeof tmp) < 0)
        return -EINVAL;
      continue;
    }
    if (c < 0)
      return -EINVAL;
    if (c == '{' || c == '[')
      depth++;
    else if (c == '}' || c == ']')
      depth--;
    r->p++;
  } while (depth > 0);
  return 0;
}

/* Calls fn for each member of an object; fn reads or skips the value. */
static int jr_object(jr *r, int (*fn)(jr *r, const char *key, void *arg),
                     void *arg)
{
  char key[NAME_MAX_LEN];

  if (jr_peek(r) == 'n') /* null */
    return jr_skip(r);
  if (jr_eat(r, '{') < 0)
    return -EINVAL;
  if (jr_peek(r) == '}')
    return jr_eat(r, '}');
  for (;;) {
    if (jr_string(r, key, sizeof key) < 0 || jr_eat(r, ':') < 0 ||
        fn(r, key, arg) < 0)
      return -EINVAL;
    if (jr_peek(r) == ',') {
      r->p++;
      continue;
    }
    return jr_eat(r, '}');
  }
}

/* Calls fn for each element of an array. */
static int jr_array(jr *r, int (*fn)(jr *r, void *arg), void *arg)
{
  if (jr_peek(r) == 'n')
    return jr_skip(r);
  if (jr_eat(r, '[') < 0)
    return -EINVAL;
  if (jr_peek(r) == ']')
    return jr_eat(r, ']');
  for (;;) {
    if (fn(r, arg) < 0)
      return -EINVAL;
    if (jr_peek(r) == ',') {
      r->p++;
      continue;
    }
    return jr_eat(r, ']');
  }
}

/* ---- configuration ---------------------------------------------------- */

enum { LEAST_ALLOCATED, MOST_ALLOCATED, REQUESTED_TO_CAPACITY_RATIO };

typedef struct resource_weight {
  char name[NAME_MAX_LEN];
  int64_t weight;
} resource_weight;

typedef struct shape_point {
  int64_t utilization, score;
} shape_point;

typedef struct fit_args {
  int strategy;
  resource_weight res[MAX_RESOURCES];
  size_t n_res;
  shape_point shape[MAX_SHAPE];
  size_t n_shape;
  char ignored[MAX_RESOURCES][NAME_MAX_LEN];
  size_t n_ignored;
  char ignored_groups[MAX_RESOURCES][NAME_MAX_LEN];
  size_t n_ignored_groups;
  char err[256];
} fit_args;

static fit_args args;

static int read_resource_member(jr *r, const char *key, void *arg)
{
  resource_weight *w = arg;

  if (!strcmp(key, "name"))
    return jr_string(r, w->name, sizeof w->name);
  if (!strcmp(key, "weight"))
    return jr_int(r, &w->weight);
  return jr_skip(r);
}

static int read_resource(jr *r, void *arg)
{
  fit_args *a = arg;
  resource_weight w = {"", 1};

  if (a->n_res == MAX_RESOURCES)
    return -EINVAL;
  if (jr_object(r, read_resource_member, &w) < 0)
    return -EINVAL;
  a->res[a->n_res++] = w;
  return 0;
}

static int read_point_member(jr *r, const char *key, void *arg)
{
  shape_point *p = arg;

  if (!strcmp(key, "utilization"))
    return jr_int(r, &p->utilization);
  if (!strcmp(key, "score"))
    return jr_int(r, &p->score);
  return jr_skip(r);
}

static int read_point(jr *r, void *arg)
{
  fit_args *a = arg;
  shape_point p = {0, 0};

  if (a->n_shape == MAX_SHAPE || jr_object(r, read_point_member, &p) < 0)
    return -EINVAL;
  a->shape[a->n_shape++] = p;
  return 0;
}

static int read_rtcr_member(jr *r, const char *key, void *arg)
{
  if (!strcmp(key, "shape"))
    return jr_array(r, read_point, arg);
  return jr_skip(r);
}

static int read_strategy_member(jr *r, const char *key, void *arg)
{
  fit_args *a = arg;
  char type[64];

  if (!strcmp(key, "type")) {
    if (jr_string(r, type, sizeof type) < 0)
      return -EINVAL;
    if (!strcmp(type, "LeastAllocated"))
      a->strategy = LEAST_ALLOCATED;
    else if (!strcmp(type, "MostAllocated"))
      a->strategy = MOST_ALLOCATED;
    else if (!strcmp(type, "RequestedToCapacityRatio"))
      a->strategy = REQUESTED_TO_CAPACITY_RATIO;
    else {
      snprintf(a->err, sizeof a->err, "scoringStrategy.type: Unsupported "
               "value: \"%s\": supported values: \"LeastAllocated\", "
               "\"MostAllocated\", \"RequestedToCapacityRatio\"", type);
      return -EINVAL;
    }
    return 0;
  }
  if (!strcmp(key, "resources")) {
    a->n_res = 0;
    return jr_array(r, read_resource, a);
  }
  if (!strcmp(key, "requestedToCapacityRatio"))
    return jr_object(r, read_rtcr_member, a);
  return jr_skip(r);
}

static int read_ignored(jr *r, void *arg)
{
  fit_args *a = arg;

  if (a->n_ignored == MAX_RESOURCES)
    return -EINVAL;
  return jr_string(r, a->ignored[a->n_ignored++], NAME_MAX_LEN);
}

static int read_ignored_group(jr *r, void *arg)
{
  fit_args *a = arg;

  if (a->n_ignored_groups == MAX_RESOURCES)
    return -EINVAL;
  return jr_string(r, a->ignored_groups[a->n_ignored_groups++], NAME_MAX_LEN);
}

static int read_args_member(jr *r, const char *key, void *arg)
{
  if (!strcmp(key, "scoringStrategy"))
    return jr_object(r, read_strategy_member, arg);
  if (!strcmp(key, "ignoredResources"))
    return jr_array(r, read_ignored, arg);
  if (!strcmp(key, "ignoredResourceGroups"))
    return jr_array(r, read_ignored_group, arg);
  return jr_skip(r);
}

/* ValidateNodeResourcesFitArgs, the parts that matter here. */
static int validate_args(fit_args *a)
{
  for (size_t i = 0; i < a->n_res; i++)
    if (a->res[i].weight < 1 || a->res[i].weight > 100) {
      snprintf(a->err, sizeof a->err, "scoringStrategy.resources[%zu]."
               "weight: Invalid value: %lld: resource weight of %s should be "
               "in range [1, 100]", i, (long long)a->res[i].weight,
               a->res[i].name);
      return -EINVAL;
    }
  if (a->strategy != REQUESTED_TO_CAPACITY_RATIO)
    return 0;
  if (a->n_shape == 0) {
    snprintf(a->err, sizeof a->err, "scoringStrategy.requestedToCapacityRatio"
             ".shape: Required value: at least one point must be specified");
    return -EINVAL;
  }
  for (size_t i = 0; i < a->n_shape; i++) {
    if (a->shape[i].utilization < 0 || a->shape[i].utilization > 100 ||
        a->shape[i].score < 0 || a->shape[i].score > 10 ||
        (i > 0 && a->shape[i].utilization <= a->shape[i - 1].utilization)) {
      snprintf(a->err, sizeof a->err, "scoringStrategy.requestedToCapacity"
               "Ratio.shape[%zu]: Invalid value: utilization values must be "
               "sorted, in [0, 100], scores in [0, 10]", i);
      return -EINVAL;
    }
  }
  return 0;
}

static int parse_args(const char *json, size_t len, fit_args *a)
{
  jr r = {json, json + len};

  memset(a, 0, sizeof *a);
  a->strategy = LEAST_ALLOCATED;
  if (json && len && jr_object(&r, read_args_member, a) < 0) {
    if (!a->err[0])
      snprintf(a->err, sizeof a->err, "cannot parse the NodeResourcesFit "
               "args");
    return -EINVAL;
  }
  if (a->n_res == 0) {
    /* v1 defaults: cpu and memory, weight 1. */
    a->res[0] = (resource_weight){"cpu", 1};
    a->res[1] = (resource_weight){"memory", 1};
    a->n_res = 2;
  }
  return validate_args(a);
}

/* ---- the pod's requests (PreFilter) ------------------------------------- */

typedef struct pod_request {
  int64_t cpu, memory, ephemeral;
  size_t n_scalar;
  char scalar_name[MAX_RESOURCES][NAME_MAX_LEN];
  int64_t scalar[MAX_RESOURCES];
} pod_request;

static void req_free(void *p)
{
  free(p);
}

static void *req_clone(const void *p)
{
  pod_request *c = malloc(sizeof *c);

  if (c)
    memcpy(c, p, sizeof *c);
  return c;
}

static const kapi_state_vtbl req_vt = {req_clone, req_free};

static int is_native(const char *name)
{
  return !strcmp(name, "cpu") || !strcmp(name, "memory") ||
         !strcmp(name, "ephemeral-storage") || !strcmp(name, "pods");
}

/* Adds the resource names requested in `list` (requests or overhead). */
static void collect_names(pod_request *pr, const kapi_obj *list)
{
  size_t n = api->obj_len(list);

  for (size_t i = 0; i < n; i++) {
    const char *name = api->obj_key(list, i);
    size_t k;
    if (!name || is_native(name))
      continue;
    for (k = 0; k < pr->n_scalar; k++)
      if (!strcmp(pr->scalar_name[k], name))
        break;
    if (k == pr->n_scalar && k < MAX_RESOURCES)
      snprintf(pr->scalar_name[pr->n_scalar++], NAME_MAX_LEN, "%s", name);
  }
}

static void collect_container_names(pod_request *pr, const kapi_obj *list)
{
  size_t n = api->obj_len(list);

  for (size_t i = 0; i < n; i++)
    collect_names(pr, api->obj_lookup(api->obj_index(list, i),
                                      "/resources/requests"));
}

/* computePodResourceRequest: upstream's PodRequests, no defaults. */
static void compute_request(const kapi_obj *pod, pod_request *pr)
{
  memset(pr, 0, sizeof *pr);
  pr->cpu = api->pod_request(pod, "cpu", 0);
  pr->memory = api->pod_request(pod, "memory", 0);
  pr->ephemeral = api->pod_request(pod, "ephemeral-storage", 0);
  collect_container_names(pr, api->obj_lookup(pod, "/spec/containers"));
  collect_container_names(pr, api->obj_lookup(pod, "/spec/initContainers"));
  collect_names(pr, api->obj_lookup(pod, "/spec/overhead"));
  for (size_t k = 0; k < pr->n_scalar; k++)
    pr->scalar[k] = api->pod_request(pod, pr->scalar_name[k], 0);
}

static kapi_code fit_pre_filter(void *st, kapi_cycle *cs, const kapi_obj *pod,
                                kapi_sched_status *s)
{
  pod_request *pr = malloc(sizeof *pr);

  (void)st;
  if (!pr) {
    api->sched_reason(s, "out of memory");
    return KAPI_ERROR;
  }
  compute_request(pod, pr);
  if (api->cycle_write(cs, PREFILTER_KEY, pr, &req_vt) < 0) {
    api->sched_reason(s, "writing %s to the cycle state failed",
                      PREFILTER_KEY);
    return KAPI_ERROR;
  }
  return KAPI_SUCCESS;
}

/* ---- Filter ------------------------------------------------------------ */

/* v1helper.IsExtendedResourceName: "domain/name" outside kubernetes.io. */
static int is_extended(const char *name)
{
  const char *slash = strchr(name, '/');

  if (!slash || !strncmp(name, "requests.", 9))
    return 0;
  return !(slash - name == 13 && !strncmp(name, "kubernetes.io", 13)) &&
         !strstr(name, ".kubernetes.io/");
}

static int ignored(const char *name)
{
  const char *slash = strchr(name, '/');

  if (!is_extended(name))
    return 0;
  for (size_t i = 0; i < args.n_ignored; i++)
    if (!strcmp(args.ignored[i], name))
      return 1;
  for (size_t i = 0; slash && i < args.n_ignored_groups; i++)
    if (strlen(args.ignored_groups[i]) == (size_t)(slash - name) &&
        !strncmp(args.ignored_groups[i], name, (size_t)(slash - name)))
      return 1;
  return 0;
}

/* One resource: a reason if the request does not fit; *unresolvable
 * when it exceeds the allocatable itself. */
static void check(kapi_sched_status *s, const char *reason, int64_t request,
                  int64_t alloc, int64_t used, int *failed, int *unresolvable)
{
  if (request <= 0 || request <= alloc - used)
    return;
  api->sched_reason(s, "%s", reason);
  *failed = 1;
  if (request > alloc)
    *unresolvable = 1;
}

static kapi_code fit_filter(void *st, kapi_cycle *cs, const kapi_obj *pod,
                            const kapi_node_info *ni, kapi_sched_status *s)
{
  const pod_request *pr = api->cycle_read(cs, PREFILTER_KEY);
  pod_request local;
  int failed = 0, unresolvable = 0;
  char reason[NAME_MAX_LEN + 16];

  (void)st;
  if (!pr) {
    /* PreFilter skipped or disabled: compute here (upstream errors). */
    compute_request(pod, &local);
    pr = &local;
  }
  if ((int64_t)api->node_pod_count(ni) + 1 >
      api->node_allocatable(ni, "pods")) {
    api->sched_reason(s, "Too many pods");
    failed = 1;
  }
  if (pr->cpu == 0 && pr->memory == 0 && pr->ephemeral == 0 &&
      pr->n_scalar == 0)
    return failed ? KAPI_UNSCHEDULABLE : KAPI_SUCCESS;
  check(s, "Insufficient cpu", pr->cpu, api->node_allocatable(ni, "cpu"),
        api->node_requested(ni, "cpu", 0), &failed, &unresolvable);
  check(s, "Insufficient memory", pr->memory,
        api->node_allocatable(ni, "memory"),
        api->node_requested(ni, "memory", 0), &failed, &unresolvable);
  check(s, "Insufficient ephemeral-storage", pr->ephemeral,
        api->node_allocatable(ni, "ephemeral-storage"),
        api->node_requested(ni, "ephemeral-storage", 0), &failed,
        &unresolvable);
  for (size_t k = 0; k < pr->n_scalar; k++) {
    if (pr->scalar[k] == 0 || ignored(pr->scalar_name[k]))
      continue;
    snprintf(reason, sizeof reason, "Insufficient %s", pr->scalar_name[k]);
    check(s, reason, pr->scalar[k],
          api->node_allocatable(ni, pr->scalar_name[k]),
          api->node_requested(ni, pr->scalar_name[k], 0), &failed,
          &unresolvable);
  }
  if (!failed)
    return KAPI_SUCCESS;
  return unresolvable ? KAPI_UNSCHEDULABLE_AND_UNRESOLVABLE
                      : KAPI_UNSCHEDULABLE;
}

/* ---- Score ------------------------------------------------------------- */

typedef struct score_request {
  int64_t req[MAX_RESOURCES]; /* per args.res, non-zero defaults */
} score_request;

static void *score_clone(const void *p)
{
  score_request *c = malloc(sizeof *c);

  if (c)
    memcpy(c, p, sizeof *c);
  return c;
}

static const kapi_state_vtbl score_vt = {score_clone, req_free};

static void compute_score_request(const kapi_obj *pod, score_request *sr)
{
  /* calculatePodResourceRequest with the non-zero defaults for cpu and
   * memory (the host adds none for other resources). */
  for (size_t i = 0; i < args.n_res; i++)
    sr->req[i] = api->pod_request(pod, args.res[i].name, 1);
}

static kapi_code fit_pre_score(void *st, kapi_cycle *cs, const kapi_obj *pod,
                               const kapi_node_info *const *nodes, size_t n,
                               kapi_sched_status *s)
{
  score_request *sr = malloc(sizeof *sr);

  (void)st;
  (void)nodes;
  (void)n;
  if (!sr) {
    api->sched_reason(s, "out of memory");
    return KAPI_ERROR;
  }
  compute_score_request(pod, sr);
  if (api->cycle_write(cs, PRESCORE_KEY, sr, &score_vt) < 0) {
    api->sched_reason(s, "writing %s to the cycle state failed", PRESCORE_KEY);
    return KAPI_ERROR;
  }
  return KAPI_SUCCESS;
}

/* calculateResourceAllocatableRequest: (allocatable, requested), or
 * (0, 0) for an extended resource the pod does not ask for. */
static void alloc_request(const kapi_node_info *ni, const char *name,
                          int64_t pod_req, int64_t *alloc, int64_t *req)
{
  *alloc = *req = 0;
  if (!strcmp(name, "cpu") || !strcmp(name, "memory")) {
    *alloc = api->node_allocatable(ni, name);
    *req = api->node_requested(ni, name, 1) + pod_req;
  } else if (!strcmp(name, "ephemeral-storage")) {
    *alloc = api->node_allocatable(ni, name);
    *req = api->node_requested(ni, name, 0) + pod_req;
  } else if (pod_req != 0) {
    *alloc = api->node_allocatable(ni, name);
    *req = *alloc ? api->node_requested(ni, name, 0) + pod_req : 0;
  }
}

static int64_t least_requested(int64_t req, int64_t cap)
{
  if (cap == 0 || req > cap)
    return 0;
  return (cap - req) * KAPI_MAX_NODE_SCORE / cap;
}

static int64_t most_requested(int64_t req, int64_t cap)
{
  if (cap == 0)
    return 0;
  if (req > cap)
    req = cap;
  return req * KAPI_MAX_NODE_SCORE / cap;
}

/* helper.BuildBrokenLinearFunction over the shape scaled to 0..100. */
static int64_t broken_linear(int64_t p)
{
  for (size_t i = 0; i < args.n_shape; i++) {
    if (p > args.shape[i].utilization)
      continue;
    if (i == 0)
      return args.shape[0].score * 10;
    return args.shape[i - 1].score * 10 +
           (args.shape[i].score * 10 - args.shape[i - 1].score * 10) *
               (p - args.shape[i - 1].utilization) /
               (args.shape[i].utilization - args.shape[i - 1].utilization);
  }
  return args.shape[args.n_shape - 1].score * 10;
}

static int64_t rtcr_resource(int64_t req, int64_t cap)
{
  if (cap == 0 || req > cap)
    return broken_linear(100);
  return broken_linear(req * 100 / cap);
}

static kapi_code fit_score(void *st, kapi_cycle *cs, const kapi_obj *pod,
                           const kapi_node_info *ni, int64_t *score,
                           kapi_sched_status *s)
{
  const score_request *sr = api->cycle_read(cs, PRESCORE_KEY);
  score_request local;
  int64_t sum = 0, wsum = 0, alloc, req, r;

  (void)st;
  (void)s;
  if (!sr) {
    compute_score_request(pod, &local);
    sr = &local;
  }
  for (size_t i = 0; i < args.n_res; i++) {
    alloc_request(ni, args.res[i].name, sr->req[i], &alloc, &req);
    if (alloc == 0)
      continue;
    switch (args.strategy) {
    case MOST_ALLOCATED:
      r = most_requested(req, alloc);
      break;
    case REQUESTED_TO_CAPACITY_RATIO:
      r = rtcr_resource(req, alloc);
      /* Only resources scoring above zero count in the mean here. */
      if (r <= 0)
        continue;
      break;
    default:
      r = least_requested(req, alloc);
    }
    sum += r * args.res[i].weight;
    wsum += args.res[i].weight;
  }
  if (wsum == 0)
    *score = 0;
  else if (args.strategy == REQUESTED_TO_CAPACITY_RATIO)
    *score = (2 * sum + wsum) / (2 * wsum); /* math.Round */
  else
    *score = sum / wsum;
  return KAPI_SUCCESS;
}

static const kapi_sched_ops fit_ops = {
    .size = sizeof(kapi_sched_ops),
    .pre_filter = fit_pre_filter,
    .filter = fit_filter,
    .pre_score = fit_pre_score,
    .score = fit_score,
};

static int fit_init(kapi_plugin *self, const kapi_host_api *host,
                    const char *config, size_t config_len, kapi_error *e)
{
  api = host;
  if (!KAPI_API_HAS(api, register_sched))
    return -ENOSYS;
  if (parse_args(config, config_len, &args) < 0) {
    api->error_set(e, 400, "Invalid", "NodeResourcesFit args: %s", args.err);
    return -EINVAL;
  }
  return api->register_sched(self, "NodeResourcesFit", &fit_ops, NULL, NULL);
}

KAPI_PLUGIN_DEFINE(.name = "node-resources-fit", .version = "0.1.0",
                   .description = "NodeResourcesFit: pods fit the free "
                                  "allocatable of nodes; LeastAllocated / "
                                  "MostAllocated / RequestedToCapacityRatio "
                                  "scoring",
                   .license = "Apache-2.0", .init = fit_init);
