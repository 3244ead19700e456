/*
 * rbac_rules.c - PolicyRules: compiling, matching a request, and the
 * "covers" comparison of escalation prevention.
 *
 * Upstream: pkg/apis/rbac/v1/evaluation_helpers.go (VerbMatches,
 * APIGroupMatches, ResourceMatches, ResourceNameMatches,
 * NonResourceURLMatches, CompactString), plugin/pkg/auth/authorizer/
 * rbac/rbac.go (RuleAllows), component-helpers/auth/rbac/validation/
 * policy_comparator.go (Covers, BreakdownRule, ruleCovers) and
 * pkg/registry/rbac/validation/policy_compact.go (CompactRules).
 *
 * Matching runs on every request: it compares borrowed strings in
 * place and never allocates (a "resource/subresource" pair is compared
 * piecewise rather than joined).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rbac_internal.h"

/* ---- compiling ---------------------------------------------------------- */

static int compile_list(rbac_arena *a, const kapi_obj *arr, rbac_strv *out,
                        uint8_t *has_star)
{
  size_t n, i, k = 0;
  const char **v;

  out->v = NULL;
  out->n = 0;
  if (rbac_api->obj_type(arr) != KAPI_OBJ_ARRAY)
    return 0;
  n = rbac_api->obj_len(arr);
  if (!n)
    return 0;
  v = rbac_arena_alloc(a, n * sizeof *v);
  if (!v)
    return -ENOMEM;
  for (i = 0; i < n; i++) {
    const char *s = rbac_api->obj_get(rbac_api->obj_index(arr, i), NULL);

    if (!s)
      continue; /* validation admits only strings */
    if (!(v[k] = rbac_arena_strdup(a, s)))
      return -ENOMEM;
    if (has_star && !strcmp(s, "*"))
      *has_star = 1;
    k++;
  }
  out->v = v;
  out->n = (uint32_t)k;
  return 0;
}

int rbac_rule_compile(rbac_arena *a, const kapi_obj *o, rbac_rule *out)
{
  memset(out, 0, sizeof *out);
  if (compile_list(a, rbac_api->obj_lookup(o, "/verbs"), &out->verbs,
                   &out->any_verb) < 0 ||
      compile_list(a, rbac_api->obj_lookup(o, "/apiGroups"), &out->groups,
                   &out->any_group) < 0 ||
      compile_list(a, rbac_api->obj_lookup(o, "/resources"), &out->resources,
                   &out->any_resource) < 0 ||
      compile_list(a, rbac_api->obj_lookup(o, "/resourceNames"), &out->names,
                   NULL) < 0 ||
      compile_list(a, rbac_api->obj_lookup(o, "/nonResourceURLs"), &out->urls,
                   NULL) < 0)
    return -ENOMEM;
  return 0;
}

int rbac_rules_compile(rbac_arena *a, const kapi_obj *arr, rbac_rule **ret,
                       size_t *ret_n)
{
  size_t n = rbac_api->obj_type(arr) == KAPI_OBJ_ARRAY ? rbac_api->obj_len(arr)
                                                       : 0,
         i;
  rbac_rule *rules = NULL;

  if (n && !(rules = rbac_arena_alloc(a, n * sizeof *rules)))
    return -ENOMEM;
  for (i = 0; i < n; i++)
    if (rbac_rule_compile(a, rbac_api->obj_index(arr, i), &rules[i]) < 0)
      return -ENOMEM;
  *ret = rules;
  *ret_n = n;
  return 0;
}

static int make_list(rbac_arena *a, const char *const *src, rbac_strv *out,
                     uint8_t *has_star)
{
  size_t n = 0, i;
  const char **v;

  out->v = NULL;
  out->n = 0;
  while (src && src[n])
    n++;
  if (!n)
    return 0;
  if (!(v = rbac_arena_alloc(a, n * sizeof *v)))
    return -ENOMEM;
  for (i = 0; i < n; i++) {
    if (!(v[i] = rbac_arena_strdup(a, src[i])))
      return -ENOMEM;
    if (has_star && !strcmp(src[i], "*"))
      *has_star = 1;
  }
  out->v = v;
  out->n = (uint32_t)n;
  return 0;
}

int rbac_rule_make(rbac_arena *a, const char *const *verbs,
                   const char *const *groups, const char *const *resources,
                   const char *const *names, const char *const *urls,
                   rbac_rule *out)
{
  memset(out, 0, sizeof *out);
  if (make_list(a, verbs, &out->verbs, &out->any_verb) < 0 ||
      make_list(a, groups, &out->groups, &out->any_group) < 0 ||
      make_list(a, resources, &out->resources, &out->any_resource) < 0 ||
      make_list(a, names, &out->names, NULL) < 0 ||
      make_list(a, urls, &out->urls, NULL) < 0)
    return -ENOMEM;
  return 0;
}

/* ---- matching a request ---------------------------------------------------- */

static int has(const rbac_strv *set, const char *s)
{
  uint32_t i;

  for (i = 0; i < set->n; i++)
    if (!strcmp(set->v[i], s))
      return 1;
  return 0;
}

/* rule == resource + "/" + sub (or == resource when sub is ""). */
static int is_combined(const char *rule, const char *resource, const char *sub)
{
  size_t n = strlen(resource);

  if (strncmp(rule, resource, n))
    return 0;
  if (!*sub)
    return rule[n] == '\0';
  return rule[n] == '/' && !strcmp(rule + n + 1, sub);
}

static int resource_matches(const rbac_rule *r, const char *resource,
                            const char *sub)
{
  uint32_t i;

  if (r->any_resource)
    return 1;
  for (i = 0; i < r->resources.n; i++) {
    const char *rr = r->resources.v[i];

    if (is_combined(rr, resource, sub))
      return 1;
    /* "*" + "/" + subresource matches that subresource of anything. */
    if (*sub && rr[0] == '*' && rr[1] == '/' && !strcmp(rr + 2, sub))
      return 1;
  }
  return 0;
}

/* A rule URL ending in "*" is a prefix (every trailing "*" dropped, as
 * strings.TrimRight does). */
static int url_prefix_matches(const char *rule, const char *url)
{
  size_t n = strlen(rule);

  if (!n || rule[n - 1] != '*')
    return 0;
  while (n && rule[n - 1] == '*')
    n--;
  return !strncmp(rule, url, n);
}

static int url_matches(const rbac_rule *r, const char *url)
{
  uint32_t i;

  for (i = 0; i < r->urls.n; i++) {
    const char *u = r->urls.v[i];

    if (!strcmp(u, "*") || !strcmp(u, url) || url_prefix_matches(u, url))
      return 1;
  }
  return 0;
}

int rbac_rule_allows(const rbac_rule *r, const rbac_attrs *at)
{
  if (!r->any_verb && !has(&r->verbs, at->verb))
    return 0;
  if (!at->resource_request)
    return url_matches(r, at->path);
  if (!r->any_group && !has(&r->groups, at->group))
    return 0;
  if (!resource_matches(r, at->resource, at->subresource))
    return 0;
  /* An empty list allows any name; a list never allows the nameless
   * requests (create, list, watch, deletecollection). */
  return r->names.n == 0 || has(&r->names, at->name);
}

static int strv_equal(const rbac_strv *a, const rbac_strv *b)
{
  uint32_t i;

  if (a->n != b->n)
    return 0;
  for (i = 0; i < a->n; i++)
    if (strcmp(a->v[i], b->v[i]))
      return 0;
  return 1;
}

int rbac_rule_equal(const rbac_rule *a, const rbac_rule *b)
{
  return strv_equal(&a->verbs, &b->verbs) &&
         strv_equal(&a->groups, &b->groups) &&
         strv_equal(&a->resources, &b->resources) &&
         strv_equal(&a->names, &b->names) && strv_equal(&a->urls, &b->urls);
}

/* ---- covers ---------------------------------------------------------------- */

/*
 * One atomic piece of a servant rule (BreakdownRule): a group, resource,
 * verb and maybe a name; or, with `url`, a non-resource URL and a verb.
 */
typedef struct tuple {
  const char *group, *resource, *verb, *name, *url;
} tuple;

/* resourceCoversAll for one resource: "*", itself, or "*" + "/sub". */
static int resource_covers(const rbac_rule *o, const char *res)
{
  const char *slash;
  uint32_t i;

  if (o->any_resource || has(&o->resources, res))
    return 1;
  if (!(slash = strchr(res, '/')))
    return 0;
  for (i = 0; i < o->resources.n; i++) {
    const char *rr = o->resources.v[i];

    if (rr[0] == '*' && rr[1] == '/' && !strcmp(rr + 2, slash + 1))
      return 1;
  }
  return 0;
}

static int url_covers(const rbac_rule *o, const char *url)
{
  uint32_t i;

  for (i = 0; i < o->urls.n; i++)
    if (!strcmp(o->urls.v[i], url) || url_prefix_matches(o->urls.v[i], url))
      return 1;
  return 0;
}

/* ruleCovers of an owner rule and one tuple. */
static int owner_covers(const rbac_rule *o, const tuple *t)
{
  if (!o->any_verb && !has(&o->verbs, t->verb))
    return 0;
  if (t->url) /* no groups, resources or names in the tuple */
    return o->names.n == 0 && url_covers(o, t->url);
  if (!o->any_group && !has(&o->groups, t->group))
    return 0;
  if (!resource_covers(o, t->resource))
    return 0;
  if (!t->name) /* a nameless grant needs a nameless owner rule */
    return o->names.n == 0;
  return o->names.n == 0 || has(&o->names, t->name);
}

typedef struct tuples {
  tuple *v;
  size_t n, cap;
} tuples;

static int tuples_add(tuples *ts, const tuple *t)
{
  if (ts->n == ts->cap) {
    size_t cap = ts->cap ? ts->cap * 2 : 16;
    tuple *v = realloc(ts->v, cap * sizeof *v);

    if (!v)
      return -ENOMEM;
    ts->v = v;
    ts->cap = cap;
  }
  ts->v[ts->n++] = *t;
  return 0;
}

static int covered(const rbac_rule *const *owner, size_t n_owner,
                   const tuple *t)
{
  size_t i;

  for (i = 0; i < n_owner; i++)
    if (owner_covers(owner[i], t))
      return 1;
  return 0;
}

/* Appends to `missing` the tuples of `r` that no owner rule covers, in
 * BreakdownRule's order. */
static int breakdown_uncovered(const rbac_rule *const *owner, size_t n_owner,
                               const rbac_rule *r, tuples *missing)
{
  uint32_t g, res, v, nm, u;
  tuple t;

  for (g = 0; g < r->groups.n; g++)
    for (res = 0; res < r->resources.n; res++)
      for (v = 0; v < r->verbs.n; v++) {
        memset(&t, 0, sizeof t);
        t.group = r->groups.v[g];
        t.resource = r->resources.v[res];
        t.verb = r->verbs.v[v];
        if (!r->names.n) {
          if (!covered(owner, n_owner, &t) && tuples_add(missing, &t) < 0)
            return -ENOMEM;
          continue;
        }
        for (nm = 0; nm < r->names.n; nm++) {
          t.name = r->names.v[nm];
          if (!covered(owner, n_owner, &t) && tuples_add(missing, &t) < 0)
            return -ENOMEM;
        }
      }
  for (u = 0; u < r->urls.n; u++)
    for (v = 0; v < r->verbs.n; v++) {
      memset(&t, 0, sizeof t);
      t.url = r->urls.v[u];
      t.verb = r->verbs.v[v];
      if (!covered(owner, n_owner, &t) && tuples_add(missing, &t) < 0)
        return -ENOMEM;
    }
  return 0;
}

/* Go's %q of a []string: ["a" "b"]. */
static void quote_list(rbac_buf *b, const char *const *v, size_t n)
{
  size_t i;

  rbac_buf_add(b, "[", 1);
  for (i = 0; i < n; i++) {
    if (i)
      rbac_buf_add(b, " ", 1);
    rbac_buf_go_quote(b, v[i]);
  }
  rbac_buf_add(b, "]", 1);
}

/* One CompactString part: "Name:[...]" after a ", " unless first. */
static void part(rbac_buf *b, int *first, const char *label,
                 const char *const *v, size_t n)
{
  if (!n)
    return;
  if (!*first)
    rbac_buf_puts(b, ", ");
  *first = 0;
  rbac_buf_puts(b, label);
  quote_list(b, v, n);
}

void rbac_rule_compact_string(rbac_buf *b, const rbac_rule *r)
{
  int first = 1;

  rbac_buf_add(b, "{", 1);
  part(b, &first, "APIGroups:", r->groups.v, r->groups.n);
  part(b, &first, "Resources:", r->resources.v, r->resources.n);
  part(b, &first, "NonResourceURLs:", r->urls.v, r->urls.n);
  part(b, &first, "ResourceNames:", r->names.v, r->names.n);
  part(b, &first, "Verbs:", r->verbs.v, r->verbs.n);
  rbac_buf_add(b, "}", 1);
}

/* A "simple" tuple (one group and resource, no name or URL) merges with
 * the others of its group and resource (CompactRules). */
static int is_simple(const tuple *t)
{
  return !t->url && !t->name;
}

static int same_group_resource(const tuple *a, const tuple *b)
{
  return !strcmp(a->group, b->group) && !strcmp(a->resource, b->resource);
}

/* Writes the compacted description of missing[i] (and, when simple, of
 * every later tuple of its group and resource, which it marks done). */
static int describe(const tuples *m, size_t i, uint8_t *done, rbac_buf *b)
{
  const tuple *t = &m->v[i];
  const char **verbs;
  size_t n = 0, j;
  rbac_rule r;

  memset(&r, 0, sizeof r);
  if (!(verbs = malloc(m->n * sizeof *verbs)))
    return -ENOMEM;
  if (t->url) {
    r.urls.v = &t->url;
    r.urls.n = 1;
    verbs[n++] = t->verb;
  } else {
    r.groups.v = &t->group;
    r.groups.n = 1;
    r.resources.v = &t->resource;
    r.resources.n = 1;
    if (t->name) {
      r.names.v = &t->name;
      r.names.n = 1;
      verbs[n++] = t->verb;
    } else {
      for (j = i; j < m->n; j++)
        if (!done[j] && is_simple(&m->v[j]) && same_group_resource(t, &m->v[j])) {
          verbs[n++] = m->v[j].verb;
          done[j] = 1;
        }
    }
  }
  done[i] = 1;
  r.verbs.v = verbs;
  r.verbs.n = (uint32_t)n;
  rbac_rule_compact_string(b, &r);
  free(verbs);
  return b->oom ? -ENOMEM : 0;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* sets.NewString(descriptions...).List(), joined by newlines. */
static int print_missing(const tuples *m, rbac_buf *out)
{
  uint8_t *done = calloc(m->n ? m->n : 1, 1);
  char **lines = calloc(m->n ? m->n : 1, sizeof *lines);
  size_t n = 0, i;
  int rc = 0;

  if (!done || !lines)
    rc = -ENOMEM;
  for (i = 0; rc == 0 && i < m->n; i++) {
    rbac_buf b = {0};

    if (done[i])
      continue;
    rc = describe(m, i, done, &b);
    if (rc == 0)
      lines[n++] = b.s ? b.s : strdup("");
    else
      rbac_buf_free(&b);
  }
  if (rc == 0) {
    qsort(lines, n, sizeof *lines, cmp_str);
    for (i = 0; i < n; i++) {
      if (i && !strcmp(lines[i], lines[i - 1]))
        continue;
      if (i)
        rbac_buf_add(out, "\n", 1);
      rbac_buf_puts(out, lines[i]);
    }
    if (out->oom)
      rc = -ENOMEM;
  }
  for (i = 0; lines && i < n; i++)
    free(lines[i]);
  free(lines);
  free(done);
  return rc;
}

int rbac_covers(const rbac_rule *const *owner, size_t n_owner,
                const rbac_rule *servant, size_t n_servant, rbac_buf *missing)
{
  tuples m = {0};
  size_t i;
  int rc = 0;

  for (i = 0; rc == 0 && i < n_servant; i++)
    rc = breakdown_uncovered(owner, n_owner, &servant[i], &m);
  if (rc == 0 && m.n && missing)
    rc = print_missing(&m, missing);
  if (rc == 0)
    rc = m.n == 0;
  free(m.v);
  return rc;
}
