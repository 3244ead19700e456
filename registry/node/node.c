/*
 * node.c - the "nodes" resource (core/v1 Node) as a kapi plugin.
 *
 * Mirrors upstream's node strategy (pkg/registry/core/node/strategy.go),
 * the update rules and taint checks of ValidateNode/ValidateNodeUpdate
 * (pkg/apis/core/validation/validation.go) and printNode
 * (pkg/printers/internalversion/printers.go).  Nodes are cluster-scoped
 * and may be created with their status (kubelets register that way).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kapi/plugin.h"

static const kapi_host_api *api;

/* ------------------------------------------------------------------ */
/* Reading values                                                       */
/* ------------------------------------------------------------------ */

static const kapi_obj *at(const kapi_obj *o, const char *ptr)
{
  return api->obj_lookup(o, ptr);
}

static size_t count(const kapi_obj *o)
{
  kapi_obj_type t = api->obj_type(o);
  return t == KAPI_OBJ_ARRAY || t == KAPI_OBJ_OBJECT ? api->obj_len(o) : 0;
}

static const kapi_obj *member(const kapi_obj *o, const char *key)
{
  size_t i, n = api->obj_type(o) == KAPI_OBJ_OBJECT ? count(o) : 0;

  for (i = 0; i < n; i++)
    if (!strcmp(api->obj_key(o, i), key))
      return api->obj_index(o, i);
  return NULL;
}

/* The string member `key` of o, or NULL. */
static const char *member_str(const kapi_obj *o, const char *key)
{
  const kapi_obj *v = member(o, key);
  return api->obj_type(v) == KAPI_OBJ_STRING ? api->obj_get(v, "") : NULL;
}

static const char *str_at(const kapi_obj *o, const char *ptr)
{
  return api->obj_type(at(o, ptr)) == KAPI_OBJ_STRING ? api->obj_get(o, ptr)
                                                      : NULL;
}

static int nonempty(const char *s)
{
  return s && *s;
}

static int streq(const char *a, const char *b)
{
  return !strcmp(a ? a : "", b ? b : "");
}

/* ------------------------------------------------------------------ */
/* Strategy                                                            */
/* ------------------------------------------------------------------ */

/* PrepareForUpdate: the main endpoint never writes status; kubelets
 * report it through /status. */
static void node_prepare_for_update(void *st, kapi_obj *node,
                                    const kapi_obj *old)
{
  const kapi_obj *status = at(old, "/status");
  char *json;

  (void)st;
  if (!status) {
    api->obj_remove(node, "/status");
    return;
  }
  json = api->obj_to_json(status);
  if (json)
    api->obj_set_json(node, "/status", json);
  api->free(json);
}

static int field_error(kapi_obj *errs, const char *field, const char *type,
                       const char *bad_json, const char *detail)
{
  return api->field_error(errs, field, type, bad_json, detail) == 0;
}

static const char *const taint_effects[] = {"NoSchedule", "PreferNoSchedule",
                                            "NoExecute"};
#define N_TAINT_EFFECTS (sizeof taint_effects / sizeof *taint_effects)

static int is_taint_effect(const char *s)
{
  size_t i;
  for (i = 0; i < N_TAINT_EFFECTS; i++)
    if (!strcmp(s, taint_effects[i]))
      return 1;
  return 0;
}

/* The same key and effect earlier in the list? */
static int taint_seen(const kapi_obj *taints, size_t upto, const char *key,
                      const char *effect)
{
  size_t i;

  for (i = 0; i < upto; i++) {
    const kapi_obj *t = api->obj_index(taints, i);
    if (streq(member_str(t, "key"), key) &&
        streq(member_str(t, "effect"), effect))
      return 1;
  }
  return 0;
}

/* validateNodeTaints: a key, a supported effect, unique key+effect. */
static int validate_taints(const kapi_obj *node, kapi_obj *errs)
{
  const kapi_obj *taints = at(node, "/spec/taints");
  size_t i, n = api->obj_type(taints) == KAPI_OBJ_ARRAY ? count(taints) : 0;
  int nerr = 0;
  char field[96], *json;

  for (i = 0; i < n; i++) {
    const kapi_obj *t = api->obj_index(taints, i);
    const char *key = member_str(t, "key"), *effect = member_str(t, "effect");

    if (!nonempty(key)) {
      snprintf(field, sizeof field, "spec.taints[%zu].key", i);
      nerr += field_error(errs, field, "FieldValueInvalid", "\"\"",
                          "name part must be non-empty");
    }
    snprintf(field, sizeof field, "spec.taints[%zu].effect", i);
    if (!nonempty(effect)) {
      nerr += field_error(errs, field, "FieldValueRequired", NULL, NULL);
    } else if (!is_taint_effect(effect)) {
      json = api->obj_to_json(member(t, "effect"));
      nerr += field_error(errs, field, "FieldValueNotSupported", json,
                          "supported values: \"NoSchedule\", "
                          "\"PreferNoSchedule\", \"NoExecute\"");
      api->free(json);
    }
    if (taint_seen(taints, i, key, effect)) {
      snprintf(field, sizeof field, "spec.taints[%zu]", i);
      json = api->obj_to_json(t);
      nerr += field_error(errs, field, "FieldValueDuplicate", json,
                          "taints must be unique by key and effect pair");
      api->free(json);
    }
  }
  return nerr;
}

static int node_validate(void *st, const kapi_obj *node, kapi_obj *errs)
{
  (void)st;
  return validate_taints(node, errs);
}

/* Two string lists equal, element by element? */
static int string_lists_equal(const kapi_obj *a, const kapi_obj *b)
{
  size_t i, n = count(a);

  if (n != count(b))
    return 0;
  for (i = 0; i < n; i++)
    if (!streq(api->obj_get(api->obj_index(a, i), ""),
               api->obj_get(api->obj_index(b, i), "")))
      return 0;
  return 1;
}

/* ValidateNodeUpdate: podCIDRs and providerID are set once, by the node
 * controller or the cloud provider, and never change afterwards. */
static int node_validate_update(void *st, const kapi_obj *node,
                                const kapi_obj *old, kapi_obj *errs)
{
  const char *old_provider = str_at(old, "/spec/providerID");
  int nerr = validate_taints(node, errs);

  (void)st;
  if (count(at(old, "/spec/podCIDRs")) > 0 &&
      !string_lists_equal(at(old, "/spec/podCIDRs"),
                          at(node, "/spec/podCIDRs")))
    nerr += field_error(errs, "spec.podCIDRs", "FieldValueForbidden", NULL,
                        "node updates may not change podCIDR except from "
                        "\"\" to valid");
  if (nonempty(old_provider) &&
      !streq(old_provider, str_at(node, "/spec/providerID")))
    nerr += field_error(errs, "spec.providerID", "FieldValueForbidden", NULL,
                        "node updates may not change providerID except "
                        "from \"\" to valid");
  return nerr;
}

/* ------------------------------------------------------------------ */
/* Table (printNode)                                                   */
/* ------------------------------------------------------------------ */

static const kapi_column node_columns[] = {
    {"Name", "string", "name",
     "Name must be unique within a namespace. Is required when creating "
     "resources, although some resources may allow a client to request the "
     "generation of an appropriate name automatically. Name is primarily "
     "intended for creation idempotence and configuration definition. "
     "Cannot be updated. More info: https://kubernetes.io/docs/concepts/"
     "overview/working-with-objects/names#names",
     0},
    {"Status", "string", "", "The status of the node", 0},
    {"Roles", "string", "", "The roles of the node", 0},
    {"Age", "string", "",
     "CreationTimestamp is a timestamp representing the server time when "
     "this object was created. It is not guaranteed to be set in "
     "happens-before order across separate operations. Clients may not set "
     "this value. It is represented in RFC3339 form and is in UTC.", 0},
    {"Version", "string", "", "Kubelet Version reported by the node.", 0},
    {"Internal-IP", "string", "",
     "List of addresses reachable to the node.", 1},
    {"External-IP", "string", "",
     "List of addresses reachable to the node.", 1},
    {"OS-Image", "string", "",
     "OS Image reported by the node from /etc/os-release (e.g. Debian "
     "GNU/Linux 7 (wheezy)).", 1},
    {"Kernel-Version", "string", "",
     "Kernel Version reported by the node from 'uname -r' (e.g. "
     "3.16.0-0.bpo.4-amd64).", 1},
    {"Container-Runtime", "string", "",
     "ContainerRuntime Version reported by the node through runtime remote "
     "API (e.g. containerd://1.4.2).", 1},
};

/* "Ready" / "NotReady" from the Ready condition, "Unknown" without one;
 * ",SchedulingDisabled" when cordoned. */
static void node_status_text(const kapi_obj *node, char *buf, size_t len)
{
  const kapi_obj *conds = at(node, "/status/conditions");
  const kapi_obj *unsched = at(node, "/spec/unschedulable");
  size_t i, n = count(conds);
  const char *text = "Unknown";

  for (i = 0; i < n; i++) {
    const kapi_obj *c = api->obj_index(conds, i);
    if (streq(member_str(c, "type"), "Ready"))
      text = streq(member_str(c, "status"), "True") ? "Ready" : "NotReady";
  }
  snprintf(buf, len, "%s%s", text,
           api->obj_type(unsched) == KAPI_OBJ_BOOL &&
                   streq(api->obj_get(unsched, ""), "true")
               ? ",SchedulingDisabled"
               : "");
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * findNodeRoles: "node-role.kubernetes.io/<role>" label keys and the
 * value of a "kubernetes.io/role" label, sorted, without duplicates.
 */
static void node_roles_text(const kapi_obj *node, char *buf, size_t len)
{
  static const char prefix[] = "node-role.kubernetes.io/";
  const kapi_obj *labels = at(node, "/metadata/labels");
  size_t i, n = count(labels), nroles = 0, used = 0;
  const char **roles = n ? malloc(n * sizeof *roles) : NULL;

  buf[0] = '\0';
  for (i = 0; roles && i < n; i++) {
    const char *key = api->obj_key(labels, i);
    const char *value = api->obj_get(api->obj_index(labels, i), "");
    if (!strncmp(key, prefix, sizeof prefix - 1) && key[sizeof prefix - 1])
      roles[nroles++] = key + sizeof prefix - 1;
    else if (!strcmp(key, "kubernetes.io/role") && nonempty(value))
      roles[nroles++] = value;
  }
  if (nroles)
    qsort(roles, nroles, sizeof *roles, cmp_str);
  for (i = 0; i < nroles && used < len; i++) {
    int w;
    if (i > 0 && !strcmp(roles[i], roles[i - 1]))
      continue;
    w = snprintf(buf + used, len - used, "%s%s", used ? "," : "", roles[i]);
    used += w > 0 ? (size_t)w : 0;
  }
  free(roles);
  if (!buf[0])
    snprintf(buf, len, "<none>");
}

/* The first status.addresses entry of this type, or "<none>". */
static const char *node_address(const kapi_obj *node, const char *type)
{
  const kapi_obj *addrs = at(node, "/status/addresses");
  size_t i, n = count(addrs);

  for (i = 0; i < n; i++) {
    const kapi_obj *a = api->obj_index(addrs, i);
    if (streq(member_str(a, "type"), type))
      return member_str(a, "address") ? member_str(a, "address") : "";
  }
  return "<none>";
}

static void append_info(kapi_obj *cells, const kapi_obj *node,
                        const char *ptr)
{
  const char *s = str_at(node, ptr);
  api->obj_append_str(cells, "", nonempty(s) ? s : "<unknown>");
}

static int node_table_row(void *st, const kapi_obj *node, int64_t now,
                          kapi_obj *cells)
{
  const char *name = str_at(node, "/metadata/name");
  const char *created = str_at(node, "/metadata/creationTimestamp");
  const char *version = str_at(node, "/status/nodeInfo/kubeletVersion");
  char buf[512];

  (void)st;
  api->obj_append_str(cells, "", name ? name : "");
  node_status_text(node, buf, sizeof buf);
  api->obj_append_str(cells, "", buf);
  node_roles_text(node, buf, sizeof buf);
  api->obj_append_str(cells, "", buf);
  if (!nonempty(created) ||
      api->format_age(created, now, buf, sizeof buf) < 0)
    snprintf(buf, sizeof buf, "<unknown>");
  api->obj_append_str(cells, "", buf);
  api->obj_append_str(cells, "", version ? version : "");
  api->obj_append_str(cells, "", node_address(node, "InternalIP"));
  api->obj_append_str(cells, "", node_address(node, "ExternalIP"));
  append_info(cells, node, "/status/nodeInfo/osImage");
  append_info(cells, node, "/status/nodeInfo/kernelVersion");
  append_info(cells, node, "/status/nodeInfo/containerRuntimeVersion");
  return 0;
}

/* ------------------------------------------------------------------ */
/* Schema and registration                                             */
/* ------------------------------------------------------------------ */

/* JSON tokens turned into one C string (see pod.c).  ResourceLists are
 * "object": their quantities may be JSON numbers. */
#define STR(...) STR_(__VA_ARGS__)
#define STR_(...) #__VA_ARGS__

#define S_CONDITION                                                    \
  { "$mergeKey": "type", "$strategy": "merge",                        \
    "$required": ["type", "status"],                                   \
    "type": "string", "status": "string",                              \
    "lastHeartbeatTime": "string", "lastTransitionTime": "string",     \
    "reason": "string", "message": "string" }
#define S_NODE_INFO                                                    \
  { "machineID": "string", "systemUUID": "string", "bootID": "string", \
    "kernelVersion": "string", "osImage": "string",                    \
    "containerRuntimeVersion": "string", "kubeletVersion": "string",   \
    "kubeProxyVersion": "string", "operatingSystem": "string",         \
    "architecture": "string", "swap": { "capacity": "integer" } }

static const char node_schema[] = STR({
  "apiVersion": "string", "kind": "string", "metadata": "meta",
  "spec": {
    "podCIDR": "string", "podCIDRs": ["string"], "providerID": "string",
    "unschedulable": "boolean",
    "taints": [{ "key": "string", "value": "string", "effect": "string",
                 "timeAdded": "string" }],
    "configSource": "object", "externalID": "string"
  },
  "status": {
    "capacity": "object", "allocatable": "object", "phase": "string",
    "conditions": [S_CONDITION],
    "addresses": [{ "$mergeKey": "type", "$strategy": "merge",
                    "$required": ["type", "address"],
                    "type": "string", "address": "string" }],
    "daemonEndpoints": "object", "nodeInfo": S_NODE_INFO,
    "images": ["object"], "volumesInUse": ["string"],
    "volumesAttached": [{ "name": "string", "devicePath": "string" }],
    "config": "object",
    "features": { "supplementalGroupsPolicy": "boolean" },
    "runtimeHandlers": [{ "name": "string", "features": {
        "recursiveReadOnlyMounts": "boolean", "userNamespaces": "boolean" } }]
  }
});

static const char *const node_short_names[] = {"no", NULL};

static const kapi_field_label node_fields[] = {
    {"spec.unschedulable", "/spec/unschedulable"},
};

static const kapi_resource_ops node_ops = {
    .size = sizeof(kapi_resource_ops),
    .group = "",
    .version = "v1",
    .resource = "nodes",
    .kind = "Node",
    .singular = "node",
    .short_names = node_short_names,
    .namespaced = 0,
    .name_rule = KAPI_NAME_DNS_SUBDOMAIN,
    .allow_create_on_update = 0,
    .allow_unconditional_update = 1,
    .schema = node_schema,
    .fields = node_fields,
    .n_fields = sizeof node_fields / sizeof *node_fields,
    .columns = node_columns,
    .n_columns = sizeof node_columns / sizeof *node_columns,
    .validate = node_validate,
    .prepare_for_update = node_prepare_for_update,
    .validate_update = node_validate_update,
    .table_row = node_table_row,
    /* nodeStatusStrategy: spec stays (the host keeps it), the status is
     * checked as ValidateNodeUpdate checks any node update. */
    .subresources = KAPI_SUB_STATUS,
    .validate_status_update = node_validate_update,
};

static int node_init(kapi_plugin *self, const kapi_host_api *host,
                     const char *config, size_t config_len, kapi_error *e)
{
  (void)config;
  (void)config_len;
  (void)e;
  api = host;
  return api->register_resource(self, &node_ops, NULL);
}

KAPI_PLUGIN_DEFINE(.name = "node", .version = "0.1.0",
                   .description = "core/v1 nodes: taint checks, immutable "
                                  "podCIDRs/providerID and the node table",
                   .license = "Apache-2.0", .init = node_init);
