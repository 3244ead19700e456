/*
 * audit.c - see audit.h.  The Policy's rules are matched in order, the
 * first match wins and no match means level None, as upstream's
 * policy checker does.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "audit.h"
#include "kyaml.h"
#include "meta.h"
#include "server.h"

struct kapi_audit {
  kj *rules;      /* the Policy's rules (owned) */
  int omit_received_all;
  int omit_managed_fields;
  FILE *out;      /* owned unless stdout */
  pthread_mutex_t mu;
};

static int has_str(const kj *list, const char *s)
{
  for (size_t i = 0; i < kj_len(list); i++)
    if (kj_str(kj_at(list, i)) && s && !strcmp(kj_str(kj_at(list, i)), s))
      return 1;
  return 0;
}

static int level_from_name(const char *name, kapi_audit_level *ret)
{
  static const char *const names[] = {"None", "Metadata", "Request",
                                      "RequestResponse"};
  for (int i = 0; i < 4; i++)
    if (name && !strcmp(name, names[i])) {
      *ret = (kapi_audit_level)i;
      return 0;
    }
  return -EINVAL;
}

int kapi_audit_policy_parse(const kj *doc, kapi_audit **ret, char *err,
                            size_t errlen)
{
  const char *kind = kj_get_str(doc, "kind");
  const char *api_version = kj_get_str(doc, "apiVersion");
  const kj *rules = kj_get(doc, "rules");
  kapi_audit *a;
  kapi_audit_level lvl;
  size_t i;

  if (!kind || strcmp(kind, "Policy") || !api_version ||
      strncmp(api_version, "audit.k8s.io/", 13)) {
    snprintf(err, errlen, "not an audit Policy (want apiVersion "
                          "audit.k8s.io/v1, kind Policy)");
    return -EINVAL;
  }
  for (i = 0; i < kj_len(rules); i++)
    if (level_from_name(kj_get_str(kj_at(rules, i), "level"), &lvl) < 0) {
      snprintf(err, errlen, "rules[%zu].level: Unsupported value: \"%s\": "
               "supported values: \"None\", \"Metadata\", \"Request\", "
               "\"RequestResponse\"", i,
               kj_get_str(kj_at(rules, i), "level")
                   ? kj_get_str(kj_at(rules, i), "level") : "");
      return -EINVAL;
    }
  a = calloc(1, sizeof *a);
  if (!a || !(a->rules = rules ? kj_clone(rules) : kj_array())) {
    free(a);
    return -ENOMEM;
  }
  a->omit_received_all = has_str(kj_get(doc, "omitStages"), "RequestReceived");
  a->omit_managed_fields = kj_is_true(kj_get(doc, "omitManagedFields"));
  pthread_mutex_init(&a->mu, NULL);
  *ret = a;
  return 0;
}

int kapi_audit_open(const char *policy_path, const char *log_path,
                    kapi_audit **ret, char *err, size_t errlen)
{
  kj *doc = NULL;
  char why[512];
  int rc;

  if (kapi_yaml_read_file(policy_path, &doc, why, sizeof why) < 0) {
    snprintf(err, errlen, "--audit-policy-file %s: %s", policy_path, why);
    return -EINVAL;
  }
  rc = kapi_audit_policy_parse(doc, ret, why, sizeof why);
  kj_free(doc);
  if (rc < 0) {
    snprintf(err, errlen, "--audit-policy-file %s: %s", policy_path, why);
    return rc;
  }
  if (!log_path || !strcmp(log_path, "-")) {
    (*ret)->out = stdout;
  } else if (!((*ret)->out = fopen(log_path, "a"))) {
    rc = -errno;
    snprintf(err, errlen, "--audit-log-path %s: %s", log_path, strerror(errno));
    kapi_audit_close(*ret);
    *ret = NULL;
    return rc;
  }
  return 0;
}

void kapi_audit_close(kapi_audit *a)
{
  if (!a)
    return;
  if (a->out && a->out != stdout)
    fclose(a->out);
  kj_free(a->rules);
  pthread_mutex_destroy(&a->mu);
  free(a);
}

/* ---- policy matching ------------------------------------------------- */

static int user_matches(const kj *rule, const kapi_req *r)
{
  const kj *users = kj_get(rule, "users"), *groups = kj_get(rule, "userGroups");
  size_t i;

  if (kj_len(users) && !has_str(users, kj_get_str(r->user, "username")))
    return 0;
  if (!kj_len(groups))
    return 1;
  for (i = 0; i < kj_len(kj_get(r->user, "groups")); i++)
    if (has_str(groups, kj_str(kj_at(kj_get(r->user, "groups"), i))))
      return 1;
  return 0;
}

/* Upstream's policy patterns: "pods", "pods/log", "*", a star before
 * "/status" (any resource's status), "pods/" then a star (any of its
 * subresources, not pods itself). */
static int resource_name_matches(const char *pattern, const kapi_req *r)
{
  char full[512];
  size_t n;

  snprintf(full, sizeof full, "%s%s%s", r->resource, *r->subresource ? "/" : "",
           r->subresource);
  if (!strcmp(pattern, full) || !strcmp(pattern, "*"))
    return 1;
  n = strlen(pattern);
  if (!strncmp(pattern, "*/", 2))
    return *r->subresource && !strcmp(pattern + 2, r->subresource);
  if (n > 2 && !strcmp(pattern + n - 2, "/*"))
    return *r->subresource && !strncmp(pattern, r->resource, n - 2) &&
           !r->resource[n - 2];
  return 0;
}

static int resources_match(const kj *list, const kapi_req *r)
{
  size_t i, j;

  if (!kj_len(list))
    return 1;
  if (!r->is_resource_request)
    return 0;
  for (i = 0; i < kj_len(list); i++) {
    const kj *gr = kj_at(list, i);
    const char *group = kj_get_str(gr, "group");
    const kj *names = kj_get(gr, "resources");
    const kj *rnames = kj_get(gr, "resourceNames");
    int hit = !kj_len(names);
    if (strcmp(group ? group : "", r->api_group ? r->api_group : ""))
      continue;
    for (j = 0; !hit && j < kj_len(names); j++)
      hit = kj_str(kj_at(names, j)) &&
            resource_name_matches(kj_str(kj_at(names, j)), r);
    if (hit && kj_len(rnames) && !has_str(rnames, r->name))
      hit = 0;
    if (hit)
      return 1;
  }
  return 0;
}

static int urls_match(const kj *list, const kapi_req *r)
{
  size_t i;

  if (r->is_resource_request)
    return 0;
  for (i = 0; i < kj_len(list); i++) {
    const char *u = kj_str(kj_at(list, i));
    size_t n = u ? strlen(u) : 0;
    if (u && (!strcmp(u, r->path) ||
              (n && u[n - 1] == '*' && !strncmp(u, r->path, n - 1))))
      return 1;
  }
  return 0;
}

static int rule_matches(const kj *rule, const kapi_req *r)
{
  const kj *verbs = kj_get(rule, "verbs"), *ns = kj_get(rule, "namespaces");
  const kj *urls = kj_get(rule, "nonResourceURLs");

  if (!user_matches(rule, r))
    return 0;
  if (kj_len(verbs) && !has_str(verbs, r->verb) && !has_str(verbs, "*"))
    return 0;
  if (kj_len(urls))
    return urls_match(urls, r);
  if (kj_len(ns) && (!r->is_resource_request ||
                     !has_str(ns, r->namespace_ ? r->namespace_ : "")))
    return 0;
  return resources_match(kj_get(rule, "resources"), r);
}

kapi_audit_level kapi_audit_level_of(const kapi_audit *a, const kapi_req *r,
                                     int *omit_received)
{
  kapi_audit_level lvl = KAPI_AUDIT_NONE;
  size_t i;

  *omit_received = a->omit_received_all;
  for (i = 0; i < kj_len(a->rules); i++) {
    const kj *rule = kj_at(a->rules, i);
    if (!rule_matches(rule, r))
      continue;
    level_from_name(kj_get_str(rule, "level"), &lvl);
    *omit_received |= has_str(kj_get(rule, "omitStages"), "RequestReceived");
    break;
  }
  return lvl;
}

/* ---- events ----------------------------------------------------------- */

static void micro_time(const struct timespec *t, char *buf, size_t len)
{
  struct tm tm;
  int usec = (int)(t->tv_nsec / 1000 % 1000000);
  time_t s = t->tv_sec;

  gmtime_r(&s, &tm);
  snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
           tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec, usec);
}

static kj *object_ref(const kapi_req *r)
{
  kj *o = kj_object();

  if (!o)
    return NULL;
  kj_set_str(o, "resource", r->resource);
  if (*r->namespace_)
    kj_set_str(o, "namespace", r->namespace_);
  if (*r->name)
    kj_set_str(o, "name", r->name);
  if (*r->api_group)
    kj_set_str(o, "apiGroup", r->api_group);
  kj_set_str(o, "apiVersion", r->api_version);
  if (*r->subresource)
    kj_set_str(o, "subresource", r->subresource);
  return o;
}

/* A JSON body as an object, without managedFields if the policy says. */
static kj *body_object(const kapi_audit *a, const char *body, size_t len)
{
  kj *o = NULL;
  char err[64];

  if (!body || !len || (body[0] != '{' && body[0] != '[') ||
      kj_parse(body, len, &o, err, sizeof err) < 0)
    return NULL;
  if (a->omit_managed_fields)
    kj_remove_ptr(o, "/metadata/managedFields");
  return o;
}

static const char *client_ip(const kapi_req *r, char *buf, size_t len)
{
  const char *fwd = r->header ? r->header(r->conn, "X-Forwarded-For") : NULL;
  (void)buf;
  (void)len;
  return fwd && *fwd ? fwd : "127.0.0.1";
}

static kj *build_event(const kapi_audit *a, const kapi_req *r,
                       const kapi_response *resp, kapi_audit_level lvl,
                       const char *stage, const char *audit_id,
                       const struct timespec *received,
                       const struct timespec *now)
{
  static const char *const names[] = {"None", "Metadata", "Request",
                                      "RequestResponse"};
  kj *ev = kj_object(), *ips = kj_array(), *st;
  char ts[64], ip[64];
  const char *ua = r->header ? r->header(r->conn, "User-Agent") : NULL;

  if (!ev || !ips) {
    kj_free(ev);
    kj_free(ips);
    return NULL;
  }
  kj_set_str(ev, "kind", "Event");
  kj_set_str(ev, "apiVersion", "audit.k8s.io/v1");
  kj_set_str(ev, "level", names[lvl]);
  kj_set_str(ev, "auditID", audit_id);
  kj_set_str(ev, "stage", stage);
  kj_set_str(ev, "requestURI", r->path);
  kj_set_str(ev, "verb", r->verb ? r->verb : "");
  kj_set(ev, "user", r->impersonator ? kj_clone(r->impersonator)
                     : r->user        ? kj_clone(r->user)
                                      : kj_object());
  if (r->impersonator)
    kj_set(ev, "impersonatedUser", kj_clone(r->user));
  kj_append(ips, kj_string(client_ip(r, ip, sizeof ip)));
  kj_set(ev, "sourceIPs", ips);
  if (ua)
    kj_set_str(ev, "userAgent", ua);
  if (r->is_resource_request)
    kj_set(ev, "objectRef", object_ref(r));
  if (resp && !strcmp(stage, "ResponseComplete") &&
      (st = kj_object())) {
    kj_set(st, "metadata", kj_object());
    kj_set_int(st, "code", resp->code);
    kj_set(ev, "responseStatus", st);
  }
  if (lvl >= KAPI_AUDIT_REQUEST) {
    kj *o = body_object(a, r->body, r->body_len);
    if (o)
      kj_set(ev, "requestObject", o);
  }
  if (lvl >= KAPI_AUDIT_REQUEST_RESPONSE && resp &&
      !strcmp(stage, "ResponseComplete")) {
    kj *o = body_object(a, resp->body, resp->len);
    if (o)
      kj_set(ev, "responseObject", o);
  }
  micro_time(received, ts, sizeof ts);
  kj_set_str(ev, "requestReceivedTimestamp", ts);
  micro_time(now, ts, sizeof ts);
  kj_set_str(ev, "stageTimestamp", ts);
  if (r->audit_annotations && kj_len(r->audit_annotations))
    kj_set(ev, "annotations", kj_clone(r->audit_annotations));
  return ev;
}

static void write_event(kapi_audit *a, const kj *ev)
{
  size_t len = 0;
  char *line = kj_dump(ev, &len);

  if (!line)
    return;
  pthread_mutex_lock(&a->mu);
  fwrite(line, 1, len, a->out);
  fputc('\n', a->out);
  fflush(a->out);
  pthread_mutex_unlock(&a->mu);
  free(line);
}

void kapi_audit_record(kapi_audit *a, const kapi_req *r,
                       const kapi_response *resp,
                       const struct timespec *received, kj **ret)
{
  struct timespec now;
  char id[40];
  int omit_received;
  kapi_audit_level lvl;
  kj *ev;

  if (ret)
    *ret = NULL;
  if (!a || !r->verb)
    return;
  lvl = kapi_audit_level_of(a, r, &omit_received);
  if (lvl == KAPI_AUDIT_NONE)
    return;
  clock_gettime(CLOCK_REALTIME, &now);
  kapi_uuid4(id);
  if (!omit_received && !ret &&
      (ev = build_event(a, r, NULL, lvl, "RequestReceived", id, received,
                        received))) {
    write_event(a, ev);
    kj_free(ev);
  }
  ev = build_event(a, r, resp, lvl, "ResponseComplete", id, received, &now);
  if (ret) {
    *ret = ev;
    return;
  }
  if (ev)
    write_event(a, ev);
  kj_free(ev);
}
