/*
 * event.c - the "events" resource (core/v1 Event) as a kapi plugin.
 *
 * Mirrors upstream's event strategy (pkg/registry/core/event/
 * strategy.go: field selectors, create-on-update), the legacy checks of
 * ValidateEventCreate (pkg/apis/core/validation/events.go) and printEvent
 * (pkg/printers/internalversion/printers.go).  Events are written by
 * controllers, the scheduler and kubelets, and read by `kubectl describe`
 * and `kubectl get events`.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "kapi/plugin.h"

static const kapi_host_api *api;

static const char *str_at(const kapi_obj *o, const char *ptr)
{
  const kapi_obj *v = api->obj_lookup(o, ptr);
  return api->obj_type(v) == KAPI_OBJ_STRING ? api->obj_get(v, "") : NULL;
}

static int nonempty(const char *s)
{
  return s && *s;
}

static const char *or_empty(const char *s)
{
  return s ? s : "";
}

static int64_t int_or(const kapi_obj *o, const char *ptr, int64_t dflt)
{
  const kapi_obj *v = api->obj_lookup(o, ptr);
  int64_t n;
  return v && api->obj_int(v, &n) == 0 ? n : dflt;
}

/* ------------------------------------------------------------------ */
/* Validation (legacyValidateEvent)                                    */
/* ------------------------------------------------------------------ */

#define REPORTING_INSTANCE_MAX 128
#define ACTION_MAX 128
#define REASON_MAX 128
#define NOTE_MAX 1024

static int field_error(kapi_obj *errs, const char *field, const char *type,
                       const char *bad, const char *detail)
{
  return api->field_error(errs, field, type, bad, detail) == 0;
}

/* The bad value of a namespace error: the involved object's namespace. */
static int namespace_mismatch(kapi_obj *errs, const char *involved)
{
  char bad[320];
  snprintf(bad, sizeof bad, "\"%s\"", or_empty(involved));
  return field_error(errs, "involvedObject.namespace", "FieldValueInvalid",
                     bad, "does not match event.namespace");
}

static int too_long(kapi_obj *errs, const kapi_obj *ev, const char *ptr,
                    const char *field, size_t max)
{
  const char *s = str_at(ev, ptr);
  char detail[64];
  if (!s || strlen(s) <= max)
    return 0;
  snprintf(detail, sizeof detail, "can have at most %zu characters", max);
  return field_error(errs, field, "FieldValueInvalid", "\"\"", detail);
}

/*
 * Old-style events (no eventTime) must sit in their object's namespace
 * (or "default" for cluster-scoped objects); new-style ones need their
 * reporting fields.
 */
static int event_validate(void *st, const kapi_obj *ev, kapi_obj *errs)
{
  const char *ns = or_empty(str_at(ev, "/metadata/namespace"));
  const char *involved = str_at(ev, "/involvedObject/namespace");
  int n = 0;

  (void)st;
  if (!nonempty(str_at(ev, "/eventTime"))) {
    if (!nonempty(involved)) {
      if (*ns && strcmp(ns, "default"))
        n += namespace_mismatch(errs, involved);
    } else if (strcmp(ns, involved)) {
      n += namespace_mismatch(errs, involved);
    }
    return n;
  }
  if (!nonempty(involved) && strcmp(ns, "default") &&
      strcmp(ns, "kube-system"))
    n += namespace_mismatch(errs, involved);
  if (!nonempty(str_at(ev, "/reportingComponent")))
    n += field_error(errs, "reportingComponent", "FieldValueRequired", NULL,
                     NULL);
  if (!nonempty(str_at(ev, "/reportingInstance")))
    n += field_error(errs, "reportingInstance", "FieldValueRequired", NULL,
                     NULL);
  n += too_long(errs, ev, "/reportingInstance", "reportingInstance",
                REPORTING_INSTANCE_MAX);
  if (!nonempty(str_at(ev, "/action")))
    n += field_error(errs, "action", "FieldValueRequired", NULL, NULL);
  n += too_long(errs, ev, "/action", "action", ACTION_MAX);
  if (!nonempty(str_at(ev, "/reason")))
    n += field_error(errs, "reason", "FieldValueRequired", NULL, NULL);
  n += too_long(errs, ev, "/reason", "reason", REASON_MAX);
  n += too_long(errs, ev, "/message", "message", NOTE_MAX);
  return n;
}

static int event_validate_update(void *st, const kapi_obj *ev,
                                 const kapi_obj *old, kapi_obj *errs)
{
  (void)old;
  return event_validate(st, ev, errs);
}

/* ------------------------------------------------------------------ */
/* Table (printEvent)                                                  */
/* ------------------------------------------------------------------ */

static const kapi_column event_columns[] = {
    {"Last Seen", "string", "",
     "The time at which the most recent occurrence of this event was "
     "recorded.", 0},
    {"Type", "string", "",
     "Type of this event (Normal, Warning), new types could be added in the "
     "future", 0},
    {"Reason", "string", "",
     "This should be a short, machine understandable string that gives the "
     "reason for the transition into the object's current status.", 0},
    {"Object", "string", "", "The object that this event is about.", 0},
    {"Subobject", "string", "",
     "If referring to a piece of an object instead of an entire object, "
     "this string should contain a valid JSON/Go field access statement, "
     "such as desiredState.manifest.containers[2].", 1},
    {"Source", "string", "",
     "The component reporting this event. Should be a short machine "
     "understandable string.", 1},
    {"Message", "string", "",
     "A human-readable description of the status of this operation.", 0},
    {"First Seen", "string", "",
     "The time at which the event was first recorded. (Time of server "
     "receipt is in TypeMeta.)", 1},
    {"Count", "string", "",
     "The number of times this event has occurred.", 1},
    {"Name", "string", "name",
     "Name must be unique within a namespace. Is required when creating "
     "resources, although some resources may allow a client to request the "
     "generation of an appropriate name automatically. Name is primarily "
     "intended for creation idempotence and configuration definition. "
     "Cannot be updated. More info: https://kubernetes.io/docs/concepts/"
     "overview/working-with-objects/names#names",
     1},
};

/* translateTimestampSince: "<unknown>" for a zero time. */
static void age_of(const char *ts, int64_t now, char *buf, size_t len)
{
  if (!nonempty(ts) || api->format_age(ts, now, buf, len) < 0)
    snprintf(buf, len, "<unknown>");
}

/* "kind/name" with the kind lower-cased, or the kind alone. */
static void target_of(const kapi_obj *ev, char *buf, size_t len)
{
  const char *kind = or_empty(str_at(ev, "/involvedObject/kind"));
  const char *name = str_at(ev, "/involvedObject/name");
  size_t i;

  snprintf(buf, len, "%s%s%s", kind, nonempty(name) ? "/" : "",
           nonempty(name) ? name : "");
  for (i = 0; buf[i] && i < strlen(kind); i++)
    buf[i] = (char)tolower((unsigned char)buf[i]);
}

/* formatEventSource: "component, host", with the reporting fields as
 * fallbacks. */
static void source_of(const kapi_obj *ev, char *buf, size_t len)
{
  const char *component = str_at(ev, "/source/component");
  const char *host = str_at(ev, "/source/host");

  if (!nonempty(component))
    component = str_at(ev, "/reportingComponent");
  if (!nonempty(host))
    host = str_at(ev, "/reportingInstance");
  if (nonempty(host))
    snprintf(buf, len, "%s, %s", or_empty(component), host);
  else
    snprintf(buf, len, "%s", or_empty(component));
}

/* strings.TrimSpace. */
static void trimmed(const char *s, char *buf, size_t len)
{
  size_t n;
  s = or_empty(s);
  while (*s && isspace((unsigned char)*s))
    s++;
  snprintf(buf, len, "%s", s);
  n = strlen(buf);
  while (n && isspace((unsigned char)buf[n - 1]))
    buf[--n] = '\0';
}

static int event_table_row(void *st, const kapi_obj *ev, int64_t now,
                           kapi_obj *cells)
{
  char first[64], last[64], target[512], source[512], message[2048];
  const char *name = str_at(ev, "/metadata/name");
  int64_t n = int_or(ev, "/count", 0);

  (void)st;
  if (nonempty(str_at(ev, "/firstTimestamp")))
    age_of(str_at(ev, "/firstTimestamp"), now, first, sizeof first);
  else
    age_of(str_at(ev, "/eventTime"), now, first, sizeof first);
  if (nonempty(str_at(ev, "/lastTimestamp")))
    age_of(str_at(ev, "/lastTimestamp"), now, last, sizeof last);
  else
    snprintf(last, sizeof last, "%s", first);
  if (api->obj_type(api->obj_lookup(ev, "/series")) == KAPI_OBJ_OBJECT) {
    age_of(str_at(ev, "/series/lastObservedTime"), now, last, sizeof last);
    n = int_or(ev, "/series/count", 0);
  } else if (n == 0) {
    n = 1; /* singleton events of the new API carry no count */
  }
  target_of(ev, target, sizeof target);
  source_of(ev, source, sizeof source);
  trimmed(str_at(ev, "/message"), message, sizeof message);
  /* Every column: upstream's server-side printer always prints wide. */
  api->obj_append_str(cells, "", last);
  api->obj_append_str(cells, "", or_empty(str_at(ev, "/type")));
  api->obj_append_str(cells, "", or_empty(str_at(ev, "/reason")));
  api->obj_append_str(cells, "", target);
  api->obj_append_str(cells, "",
                      or_empty(str_at(ev, "/involvedObject/fieldPath")));
  api->obj_append_str(cells, "", source);
  api->obj_append_str(cells, "", message);
  api->obj_append_str(cells, "", first);
  api->obj_append_int(cells, "", n);
  api->obj_append_str(cells, "", or_empty(name));
  return 0;
}

/* ------------------------------------------------------------------ */
/* Schema and registration                                             */
/* ------------------------------------------------------------------ */

#define OBJECT_REFERENCE                                                \
  "{\"kind\":\"string\",\"namespace\":\"string\",\"name\":\"string\","    \
  "\"uid\":\"string\",\"apiVersion\":\"string\","                         \
  "\"resourceVersion\":\"string\",\"fieldPath\":\"string\"}"

static const char event_schema[] =
    "{\"apiVersion\":\"string\",\"kind\":\"string\",\"metadata\":\"meta\","
    "\"involvedObject\":" OBJECT_REFERENCE ","
    "\"reason\":\"string\",\"message\":\"string\","
    "\"source\":{\"component\":\"string\",\"host\":\"string\"},"
    "\"firstTimestamp\":\"string\",\"lastTimestamp\":\"string\","
    "\"count\":\"integer\",\"type\":\"string\",\"eventTime\":\"string\","
    "\"series\":{\"count\":\"integer\",\"lastObservedTime\":\"string\"},"
    "\"action\":\"string\",\"related\":" OBJECT_REFERENCE ","
    "\"reportingComponent\":\"string\",\"reportingInstance\":\"string\"}";

static const char *const event_short_names[] = {"ev", NULL};

/* ToSelectableFields ("source" reads source.component; upstream falls
 * back to reportingComponent when it is empty). */
static const kapi_field_label event_fields[] = {
    {"involvedObject.kind", "/involvedObject/kind"},
    {"involvedObject.namespace", "/involvedObject/namespace"},
    {"involvedObject.name", "/involvedObject/name"},
    {"involvedObject.uid", "/involvedObject/uid"},
    {"involvedObject.apiVersion", "/involvedObject/apiVersion"},
    {"involvedObject.resourceVersion", "/involvedObject/resourceVersion"},
    {"involvedObject.fieldPath", "/involvedObject/fieldPath"},
    {"reason", "/reason"},
    {"reportingComponent", "/reportingComponent"},
    {"source", "/source/component"},
    {"type", "/type"},
};

static const kapi_resource_ops event_ops = {
    .size = sizeof(kapi_resource_ops),
    .group = "",
    .version = "v1",
    .resource = "events",
    .kind = "Event",
    .singular = "event",
    .short_names = event_short_names,
    .namespaced = 1,
    .name_rule = KAPI_NAME_DNS_SUBDOMAIN,
    .allow_create_on_update = 1,
    .allow_unconditional_update = 1,
    .schema = event_schema,
    .fields = event_fields,
    .n_fields = sizeof event_fields / sizeof *event_fields,
    .columns = event_columns,
    .n_columns = sizeof event_columns / sizeof *event_columns,
    .validate = event_validate,
    .validate_update = event_validate_update,
    .table_row = event_table_row,
};

static int event_init(kapi_plugin *self, const kapi_host_api *host,
                      const char *config, size_t config_len, kapi_error *e)
{
  (void)config;
  (void)config_len;
  (void)e;
  api = host;
  return api->register_resource(self, &event_ops, NULL);
}

KAPI_PLUGIN_DEFINE(.name = "event", .version = "0.1.0",
                   .description = "core/v1 events: field selectors and the "
                                  "event table",
                   .license = "Apache-2.0", .init = event_init);
