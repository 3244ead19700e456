/*
 * namespace.c - the "namespaces" resource (core/v1 Namespace) as a kapi
 * plugin.
 *
 * Mirrors upstream's namespace strategy and storage (pkg/registry/core/
 * namespace/{strategy.go,storage/storage.go}), the defaulted
 * kubernetes.io/metadata.name label (pkg/apis/core/v1/defaults.go), the
 * immortal namespaces of the NamespaceLifecycle admission plugin and
 * the namespace printer.
 *
 * Deleting a namespace is two-phase: the first DELETE marks it
 * Terminating and keeps it while spec.finalizers holds "kubernetes"; the
 * namespace controller empties it, finalizes it, and the namespace goes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kapi/plugin.h"

#define NAME_LABEL "kubernetes.io/metadata.name"
/* NAME_LABEL as a JSON-pointer token ('/' escaped). */
#define NAME_LABEL_PTR "/metadata/labels/kubernetes.io~1metadata.name"

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

static size_t array_len_at(const kapi_obj *o, const char *ptr)
{
  const kapi_obj *v = api->obj_lookup(o, ptr);
  return api->obj_type(v) == KAPI_OBJ_ARRAY ? api->obj_len(v) : 0;
}

/* Copies the value at ptr in `from` over `to`, or removes it there. */
static void copy_value(kapi_obj *to, const kapi_obj *from, const char *ptr)
{
  const kapi_obj *v = api->obj_lookup(from, ptr);
  char *json;

  if (!v) {
    api->obj_remove(to, ptr);
    return;
  }
  json = api->obj_to_json(v);
  if (json)
    api->obj_set_json(to, ptr, json);
  api->free(json);
}

/* Every namespace carries its own name as a label, so that label
 * selectors can pick namespaces by name (SetDefaults_Namespace). */
static void set_name_label(kapi_obj *ns)
{
  const char *name = str_at(ns, "/metadata/name");
  if (nonempty(name))
    api->obj_set_str(ns, NAME_LABEL_PTR, name);
}

/* Does spec.finalizers list "kubernetes"? */
static int has_kubernetes_finalizer(const kapi_obj *ns)
{
  const kapi_obj *list = api->obj_lookup(ns, "/spec/finalizers");
  size_t i, n = array_len_at(ns, "/spec/finalizers");

  for (i = 0; i < n; i++) {
    const char *f = api->obj_get(api->obj_index(list, i), "");
    if (f && !strcmp(f, "kubernetes"))
      return 1;
  }
  return 0;
}

/* PrepareForCreate: Active, and the "kubernetes" finalizer the namespace
 * controller removes once the namespace is empty. */
static void ns_prepare_for_create(void *st, kapi_obj *ns)
{
  (void)st;
  api->obj_set_json(ns, "/status", "{\"phase\":\"Active\"}");
  if (!has_kubernetes_finalizer(ns)) {
    if (array_len_at(ns, "/spec/finalizers") == 0)
      api->obj_set_json(ns, "/spec/finalizers", "[]");
    api->obj_append_str(ns, "/spec/finalizers", "kubernetes");
  }
  set_name_label(ns);
}

/* PrepareForUpdate: status and spec.finalizers belong to the /status and
 * /finalize subresources; the name label cannot be taken away. */
static void ns_prepare_for_update(void *st, kapi_obj *ns, const kapi_obj *old)
{
  (void)st;
  copy_value(ns, old, "/status");
  copy_value(ns, old, "/spec/finalizers");
  set_name_label(ns);
}

static int is_immortal(const char *name)
{
  static const char *const immortal[] = {"default", "kube-system",
                                         "kube-public"};
  size_t i;

  for (i = 0; i < sizeof immortal / sizeof *immortal; i++)
    if (!strcmp(name, immortal[i]))
      return 1;
  return 0;
}

/*
 * The system namespaces cannot go.  A namespace with finalizers is
 * marked Terminating and kept; deleting it again while the controller
 * still works on it is a conflict, as upstream's storage answers.
 */
static int ns_before_delete(void *st, kapi_obj *ns, int64_t *grace,
                            kapi_error *e)
{
  const char *name = str_at(ns, "/metadata/name");
  const char *deleting = str_at(ns, "/metadata/deletionTimestamp");

  (void)st;
  (void)grace;
  if (!name)
    name = "";
  if (is_immortal(name)) {
    api->error_set(e, 403, "Forbidden",
                   "namespaces \"%s\" is forbidden: this namespace may not "
                   "be deleted",
                   name);
    return -EPERM;
  }
  if (array_len_at(ns, "/spec/finalizers") == 0)
    return 0;
  if (nonempty(deleting)) {
    api->error_set(e, 409, "Conflict",
                   "Operation cannot be fulfilled on namespaces \"%s\": The "
                   "system is ensuring all content is removed from this "
                   "namespace.  Upon completion, this namespace will "
                   "automatically be purged by the system.",
                   name);
    return -EBUSY;
  }
  api->obj_set_str(ns, "/status/phase", "Terminating");
  return 1;
}

/*
 * ValidateNamespaceStatusUpdate: the phase follows the deletion
 * timestamp (status writes cannot move a namespace in or out of
 * Terminating by themselves).
 */
static int ns_validate_status_update(void *st, const kapi_obj *ns,
                                     const kapi_obj *old, kapi_obj *errs)
{
  const char *phase = str_at(ns, "/status/phase");
  int deleting = nonempty(str_at(ns, "/metadata/deletionTimestamp"));
  char bad[160];

  (void)st;
  (void)old;
  snprintf(bad, sizeof bad, "\"%s\"", phase ? phase : "");
  if (!deleting && (!phase || strcmp(phase, "Active"))) {
    api->field_error(errs, "status.Phase", "FieldValueInvalid", bad,
                     "may only be in active status if it does not have a "
                     "deletion timestamp.");
    return 1;
  }
  if (deleting && (!phase || strcmp(phase, "Terminating"))) {
    api->field_error(errs, "status.Phase", "FieldValueInvalid", bad,
                     "may only be in terminating status if it has a "
                     "deletion timestamp.");
    return 1;
  }
  return 0;
}

static const kapi_column ns_columns[] = {
    {"Name", "string", "name",
     "Name must be unique within a namespace. Is required when creating "
     "resources, although some resources may allow a client to request the "
     "generation of an appropriate name automatically. Name is primarily "
     "intended for creation idempotence and configuration definition. "
     "Cannot be updated. More info: https://kubernetes.io/docs/concepts/"
     "overview/working-with-objects/names#names",
     0},
    {"Status", "string", "", "The status of the namespace", 0},
    {"Age", "string", "",
     "CreationTimestamp is a timestamp representing the server time when "
     "this object was created. It is not guaranteed to be set in "
     "happens-before order across separate operations. Clients may not set "
     "this value. It is represented in RFC3339 form and is in UTC.", 0},
};

static int ns_table_row(void *st, const kapi_obj *ns, int64_t now,
                        kapi_obj *cells)
{
  const char *name = str_at(ns, "/metadata/name");
  const char *phase = str_at(ns, "/status/phase");
  const char *created = str_at(ns, "/metadata/creationTimestamp");
  char age[64];

  (void)st;
  if (!nonempty(created) ||
      api->format_age(created, now, age, sizeof age) < 0)
    snprintf(age, sizeof age, "<unknown>");
  api->obj_append_str(cells, "", name ? name : "");
  api->obj_append_str(cells, "", phase ? phase : "");
  api->obj_append_str(cells, "", age);
  return 0;
}

static const char ns_schema[] =
    "{\"apiVersion\":\"string\",\"kind\":\"string\",\"metadata\":\"meta\","
    "\"spec\":{\"finalizers\":[\"string\"]},"
    "\"status\":{\"phase\":\"string\",\"conditions\":[{\"type\":\"string\","
    "\"status\":\"string\",\"lastTransitionTime\":\"string\","
    "\"reason\":\"string\",\"message\":\"string\"}]}}";

/* The namespaces every cluster starts with, already in their created
 * form. */
#define INITIAL_NAMESPACE(n)                                            \
  "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":"          \
  "{\"name\":\"" n "\",\"labels\":{\"" NAME_LABEL "\":\"" n "\"}},"      \
  "\"spec\":{\"finalizers\":[\"kubernetes\"]},"                          \
  "\"status\":{\"phase\":\"Active\"}}"

static const char ns_initial_objects[] =
    "[" INITIAL_NAMESPACE("default") "," INITIAL_NAMESPACE("kube-system") ","
    INITIAL_NAMESPACE("kube-public") "," INITIAL_NAMESPACE("kube-node-lease")
    "]";

static const char *const ns_short_names[] = {"ns", NULL};

/* "name" is upstream's historical alias of metadata.name. */
static const kapi_field_label ns_fields[] = {
    {"status.phase", "/status/phase"},
    {"name", "/metadata/name"},
};

static const kapi_resource_ops ns_ops = {
    .size = sizeof(kapi_resource_ops),
    .group = "",
    .version = "v1",
    .resource = "namespaces",
    .kind = "Namespace",
    .singular = "namespace",
    .short_names = ns_short_names,
    .namespaced = 0,
    .name_rule = KAPI_NAME_DNS_LABEL,
    .allow_create_on_update = 0,
    .allow_unconditional_update = 1,
    .schema = ns_schema,
    .fields = ns_fields,
    .n_fields = sizeof ns_fields / sizeof *ns_fields,
    .columns = ns_columns,
    .n_columns = sizeof ns_columns / sizeof *ns_columns,
    .prepare_for_create = ns_prepare_for_create,
    .prepare_for_update = ns_prepare_for_update,
    .before_delete = ns_before_delete,
    .table_row = ns_table_row,
    .initial_objects = ns_initial_objects,
    /* The host serves /finalize for namespaces (spec.finalizers) and
     * removes a terminating namespace once both finalizer lists are
     * empty. */
    .subresources = KAPI_SUB_STATUS,
    .return_deleted_object = 1,
    .validate_status_update = ns_validate_status_update,
};

static int ns_init(kapi_plugin *self, const kapi_host_api *host,
                   const char *config, size_t config_len, kapi_error *e)
{
  (void)config;
  (void)config_len;
  (void)e;
  api = host;
  return api->register_resource(self, &ns_ops, NULL);
}

KAPI_PLUGIN_DEFINE(.name = "namespace", .version = "0.1.0",
                   .description = "core/v1 namespaces: lifecycle phases, "
                                  "finalizers and the system namespaces",
                   .license = "Apache-2.0", .init = ns_init);
