/*
 * kapi/plugin.h - the plugin ABI of kapi, version 1.
 *
 * This is the only header a plugin needs.  It depends on libc alone: a
 * plugin links against nothing of ours.  Everything the host offers is
 * reached through the function table (kapi_host_api) handed to the
 * plugin's init function, and everything the plugin offers is described
 * by size-prefixed operation tables that it registers from init.
 *
 * Rules (see docs/plugins.md):
 *  - Export exactly one symbol, kapi_plugin_describe(), with
 *    KAPI_PLUGIN_DEFINE().  Build with -fvisibility=hidden.
 *  - Register components only from init; if init fails, every
 *    registration it made is rolled back.
 *  - Structs here are only ever appended to.  The host reads the prefix
 *    of an ops table given by its `size`; a NULL member means "not
 *    implemented".  Test for host functions newer than 1.0 with
 *    KAPI_API_HAS().
 *  - Ownership: everything passed in to a plugin callback is borrowed for
 *    the duration of the call.  Ops tables and column tables must have
 *    static storage (the host keeps the pointer).  Names are copied.
 *    Text handed back to the host goes through copying calls
 *    (error_set, field_error, obj_set_*), so memory never crosses
 *    allocators.
 *  - Request-path callbacks (authn, authz, admission, resource) run
 *    concurrently on server threads: they must be reentrant.
 */
#ifndef KAPI_PLUGIN_H
#define KAPI_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KAPI_ABI_MAJOR 1 /* bumped: every plugin must be rebuilt */
#define KAPI_ABI_MINOR 3 /* bumped: members appended; old plugins load */
#define KAPI_PLUGIN_MAGIC 0x4b415049u /* "KAPI" */

#define KAPI_EXPORT __attribute__((visibility("default")))
#define KAPI_PRINTF(f, a) __attribute__((format(printf, f, a)))

typedef struct kapi_plugin kapi_plugin; /* host handle of one loaded .so */
typedef struct kapi_error kapi_error;   /* host-owned error slot */
typedef struct kapi_req kapi_req;       /* one API request */
typedef struct kapi_obj kapi_obj;       /* a JSON value (object, array...) */
typedef struct kapi_host_api kapi_host_api;

/* Explicit values, never renumbered, forced to 32 bits. */
typedef enum kapi_kind {
  KAPI_KIND_AUTHN = 1,
  KAPI_KIND_AUTHZ = 2,
  KAPI_KIND_ADMISSION = 3,
  KAPI_KIND_RESOURCE = 4,
  KAPI_KIND_SCHED = 5,      /* since 1.1 (kapi-scheduler) */
  KAPI_KIND_CONTROLLER = 6, /* since 1.1 (kapi-controller-manager) */
  KAPI_KIND_RUNTIME = 7,    /* since 1.1 (kapi-kubelet) */
  KAPI_KIND_STORAGE = 8,    /* declared; filled by a later ABI minor */
  _KAPI_KIND_FORCE32 = 0x7fffffff
} kapi_kind;

typedef enum kapi_op {
  KAPI_OP_CREATE = 1 << 0,
  KAPI_OP_UPDATE = 1 << 1,
  KAPI_OP_DELETE = 1 << 2,
  KAPI_OP_CONNECT = 1 << 3,
  _KAPI_OP_FORCE32 = 0x7fffffff
} kapi_op;

/* Same values as Kubernetes' authorizer.Decision. */
typedef enum kapi_decision {
  KAPI_DENY = 0,
  KAPI_ALLOW = 1,
  KAPI_NO_OPINION = 2,
  _KAPI_DECISION_FORCE32 = 0x7fffffff
} kapi_decision;

/* Types of kapi_obj values, as returned by obj_type(). */
typedef enum kapi_obj_type {
  KAPI_OBJ_NONE = 0, /* absent (NULL pointer) */
  KAPI_OBJ_NULL = 1,
  KAPI_OBJ_BOOL = 2,
  KAPI_OBJ_NUMBER = 3,
  KAPI_OBJ_STRING = 4,
  KAPI_OBJ_ARRAY = 5,
  KAPI_OBJ_OBJECT = 6,
  _KAPI_OBJ_FORCE32 = 0x7fffffff
} kapi_obj_type;

/* Log levels for api->log: klog's severities plus verbosity. */
enum {
  KAPI_LOG_ERROR = -2,
  KAPI_LOG_WARNING = -1,
  KAPI_LOG_INFO = 0, /* 1..9: verbose, shown with -v N */
};

/*
 * Ordering fallback when the configuration names no chain order: sort by
 * (priority, name), then honour before/after edges.  REALLY_* are for
 * core components.
 */
enum {
  KAPI_ORDER_REALLY_FIRST = -10,
  KAPI_ORDER_FIRST = 0,
  KAPI_ORDER_MIDDLE = 10,
  KAPI_ORDER_LAST = 20,
  KAPI_ORDER_REALLY_LAST = 30
};

typedef struct kapi_order {
  int32_t priority;
  const char *const *after;  /* NULL-terminated component names, or NULL */
  const char *const *before; /* NULL-terminated component names, or NULL */
} kapi_order;

/*
 * Authenticator (authenticator.Request).  Returns 1 when the request is
 * authenticated (the plugin filled `user` with "username", "uid",
 * "groups" (array) and "extra" (object)), 0 when the plugin has no
 * opinion, <0 on error (set `e`).  Authenticators run as upstream's
 * union: first success wins.
 */
typedef struct kapi_authn_ops {
  uint32_t size;
  int (*authenticate)(void *st, const kapi_req *r, kapi_obj *user,
                      kapi_error *e);
} kapi_authn_ops;

/*
 * Authorizer (authorizer.Authorizer).  Read the attributes with
 * api->req_get ("user.name", "verb", "namespace", "resource", ...).  The
 * first ALLOW or DENY ends the chain; a reason may be put in `e` with
 * error_set (its message is used in the 403).
 */
typedef struct kapi_authz_ops {
  uint32_t size;
  kapi_decision (*authorize)(void *st, const kapi_req *r, kapi_error *e);
  /*
   * Since 1.2, optional (authorizer.RuleResolver): append the rules the
   * request's user holds in namespace `ns` ("" = cluster-wide only) to
   * the arrays `resource_rules` (objects with "verbs", "apiGroups",
   * "resources", "resourceNames") and `non_resource_rules` ("verbs",
   * "nonResourceURLs"), as in SelfSubjectRulesReview's status.  Return 0
   * when the list is complete, 1 when it may be incomplete (set `e` to
   * say why), <0 on error.
   */
  int (*rules_for)(void *st, const kapi_req *r, const char *ns,
                   kapi_obj *resource_rules, kapi_obj *non_resource_rules,
                   kapi_error *e);
} kapi_authz_ops;

/*
 * Admission (admission.Interface).  `handles` is a kapi_op mask.  Every
 * mutating admit runs in chain order, then every validate; the first
 * error ends the request with the status set in `e`.  `obj` is the
 * incoming object (NULL on DELETE); the old one is api->req_old_object().
 */
typedef struct kapi_admission_ops {
  uint32_t size;
  uint32_t handles;
  int (*admit)(void *st, kapi_req *r, kapi_obj *obj, kapi_error *e);
  int (*validate)(void *st, const kapi_req *r, const kapi_obj *obj,
                  kapi_error *e);
} kapi_admission_ops;

/* One column of the Table a resource is printed as (meta.k8s.io/v1). */
typedef struct kapi_column {
  const char *name;        /* "Name", "Ready", ... */
  const char *type;        /* "string", "integer", "date", ... */
  const char *format;      /* "name" for the name column, else "" */
  const char *description;
  int32_t priority;        /* 0 = always shown, 1 = -o wide */
} kapi_column;

/* A field selector label a resource supports, and where it reads. */
typedef struct kapi_field_label {
  const char *label;   /* e.g. "spec.nodeName" */
  const char *pointer; /* JSON pointer into the object, "/spec/nodeName" */
} kapi_field_label;

/* How metadata.name is validated. */
enum {
  KAPI_NAME_DNS_SUBDOMAIN = 0, /* RFC 1123 subdomain, <= 253 */
  KAPI_NAME_DNS_LABEL = 1,     /* RFC 1123 label, <= 63 */
  KAPI_NAME_PATH_SEGMENT = 2,  /* since 1.2: path.IsValidPathSegmentName,
                                  not "." or "..", no '/' or '%' (RBAC) */
};

/*
 * A resource (rest.RESTCreateStrategy + RESTUpdateStrategy + printer).
 * The generic Store in the host does everything else: names, uid,
 * resourceVersion, timestamps, selectors, paging, watch, storage.
 *
 * `schema` is the resource's field schema in kapi's compact form (see
 * docs/plugins.md): a JSON text in which an object maps each known field
 * to its own schema, an array of one element is a list of that schema,
 * and a string names a leaf type ("string", "integer", "number",
 * "boolean", "quantity", "int-or-string", "object" for free-form,
 * "map" for string->string maps, "meta" for ObjectMeta, "enum:A|B" for a
 * string enum).  Keys starting with "$" are annotations, not fields:
 * "$required":[names] in an object; "$mergeKey":"name", "$strategy":
 * "merge" (or "merge,retainKeys") and "$listType":"atomic" in a list's
 * element.  The host uses it to reject unknown fields
 * (fieldValidation=Strict), for strategic merge patch keys, and to serve
 * OpenAPI.
 */
typedef struct kapi_resource_ops {
  uint32_t size;
  const char *group;    /* "" for the core group */
  const char *version;  /* "v1" */
  const char *resource; /* plural, "pods" */
  const char *kind;     /* "Pod" */
  const char *singular; /* "pod" */
  const char *const *short_names; /* NULL-terminated, or NULL */
  const char *const *categories;  /* NULL-terminated, or NULL */
  int namespaced;
  int name_rule; /* KAPI_NAME_* */
  int allow_create_on_update;
  int allow_unconditional_update;
  const char *schema;
  const kapi_field_label *fields; /* beyond metadata.name/namespace */
  size_t n_fields;
  const kapi_column *columns; /* the Table; NULL = NAME, CREATED AT */
  size_t n_columns;

  /* Defaults and status reset on create (obj is the whole object). */
  void (*prepare_for_create)(void *st, kapi_obj *obj);
  /* Append field errors with api->field_error(); return their count. */
  int (*validate)(void *st, const kapi_obj *obj, kapi_obj *errs);
  /* On update; `old` is the stored object. */
  void (*prepare_for_update)(void *st, kapi_obj *obj, const kapi_obj *old);
  int (*validate_update)(void *st, const kapi_obj *obj, const kapi_obj *old,
                         kapi_obj *errs);
  /*
   * Called on DELETE before the host decides.  Set *grace to the grace
   * period in seconds (it holds the request's, or -1 if none was given).
   * Return 1 to keep the object (it is marked with deletionTimestamp
   * and stays until its finalizers are gone), 0 to let the host decide
   * (finalizers or *grace > 0 keep it), <0 to refuse (set `e`).  `obj` may
   * be changed (e.g. status.phase = Terminating).
   */
  int (*before_delete)(void *st, kapi_obj *obj, int64_t *grace,
                       kapi_error *e);
  /*
   * Fill one Table row: append one cell per column to the array `cells`
   * (obj_append_*).  `now` is the request time in Unix seconds, for ages.
   */
  int (*table_row)(void *st, const kapi_obj *obj, int64_t now,
                   kapi_obj *cells);
  /* Objects created at first start (e.g. the default namespaces), as a
   * JSON array of objects; NULL for none. */
  const char *initial_objects;

  /* ---- since 1.1 ---- */
  uint32_t subresources; /* KAPI_SUB_* the host serves for this resource */
  /* DELETE answers the object (pods, namespaces) rather than a Status. */
  int return_deleted_object;
  /* metadata.generation = 1 on create and +1 when spec changes (apps types). */
  int track_generation;
  /* /status writes: defaults and checks for the new status. */
  void (*prepare_for_status_update)(void *st, kapi_obj *obj,
                                    const kapi_obj *old);
  int (*validate_status_update)(void *st, const kapi_obj *obj,
                                const kapi_obj *old, kapi_obj *errs);
  /* KAPI_SUB_SCALE: pointer to the metav1.LabelSelector reported as the
   * Scale's status.selector ("/spec/selector"); replicas are always
   * /spec/replicas and /status/replicas. */
  const char *scale_selector;
} kapi_resource_ops;

/* Subresources the host implements generically (kapi_resource_ops). */
enum {
  KAPI_SUB_STATUS = 1 << 0,  /* GET/PUT/PATCH .../status: only .status */
  KAPI_SUB_SCALE = 1 << 1,   /* autoscaling/v1 Scale over spec.replicas */
  KAPI_SUB_BINDING = 1 << 2, /* POST .../binding: sets spec.nodeName */
  KAPI_SUB_LOG = 1 << 3,     /* GET .../log: proxied to the node's kubelet */
  KAPI_SUB_EVICTION = 1 << 4, /* POST .../eviction: policy/v1 Eviction,
                                 deletes the object (no disruption budgets) */
};

/* ---- scheduler plugins (KAPI_KIND_SCHED, since 1.1) ---------------------
 *
 * Extension points of upstream's scheduling framework.  A NULL member is
 * an extension point the plugin does not implement.  Codes have the
 * values of framework.Code.  Reasons ("Insufficient cpu") are added with
 * api->sched_reason(); scores lie in [0, KAPI_MAX_NODE_SCORE].
 * Filter and Score may run in parallel for different nodes: they must
 * only read the cycle state written in PreFilter/PreScore.
 */
typedef enum kapi_code {
  KAPI_SUCCESS = 0,
  KAPI_ERROR = 1,
  KAPI_UNSCHEDULABLE = 2,
  KAPI_UNSCHEDULABLE_AND_UNRESOLVABLE = 3,
  KAPI_WAIT = 4,
  KAPI_SKIP = 5,
  KAPI_PENDING = 6,
  _KAPI_CODE_FORCE32 = 0x7fffffff
} kapi_code;

#define KAPI_MAX_NODE_SCORE 100

typedef struct kapi_cycle kapi_cycle;             /* CycleState */
typedef struct kapi_node_info kapi_node_info;     /* NodeInfo */
typedef struct kapi_sched_status kapi_sched_status; /* reasons out */

/* Data kept in the cycle state: copy and free functions. */
typedef struct kapi_state_vtbl {
  void *(*clone)(const void *data);
  void (*free)(void *data);
} kapi_state_vtbl;

typedef struct kapi_sched_ops {
  uint32_t size;
  /* QueueSort: non-zero if pod a (queued at ts_a, ns) goes before b. */
  int (*less)(void *st, const kapi_obj *a, int64_t ts_a, const kapi_obj *b,
              int64_t ts_b);
  kapi_code (*pre_filter)(void *st, kapi_cycle *cs, const kapi_obj *pod,
                          kapi_sched_status *s);
  kapi_code (*filter)(void *st, kapi_cycle *cs, const kapi_obj *pod,
                      const kapi_node_info *node, kapi_sched_status *s);
  kapi_code (*post_filter)(void *st, kapi_cycle *cs, const kapi_obj *pod,
                           kapi_sched_status *s);
  kapi_code (*pre_score)(void *st, kapi_cycle *cs, const kapi_obj *pod,
                         const kapi_node_info *const *nodes, size_t n,
                         kapi_sched_status *s);
  kapi_code (*score)(void *st, kapi_cycle *cs, const kapi_obj *pod,
                     const kapi_node_info *node, int64_t *score,
                     kapi_sched_status *s);
  /* scores[i] belongs to nodes[i] of the cycle's feasible nodes. */
  kapi_code (*normalize_score)(void *st, kapi_cycle *cs, const kapi_obj *pod,
                               int64_t *scores, size_t n,
                               kapi_sched_status *s);
  kapi_code (*reserve)(void *st, kapi_cycle *cs, const kapi_obj *pod,
                       const char *node, kapi_sched_status *s);
  void (*unreserve)(void *st, kapi_cycle *cs, const kapi_obj *pod,
                    const char *node);
  kapi_code (*permit)(void *st, kapi_cycle *cs, const kapi_obj *pod,
                      const char *node, uint32_t *wait_ms,
                      kapi_sched_status *s);
  kapi_code (*pre_bind)(void *st, kapi_cycle *cs, const kapi_obj *pod,
                        const char *node, kapi_sched_status *s);
  /* KAPI_SKIP passes the pod to the next binder. */
  kapi_code (*bind)(void *st, kapi_cycle *cs, const kapi_obj *pod,
                    const char *node, kapi_sched_status *s);
  void (*post_bind)(void *st, kapi_cycle *cs, const kapi_obj *pod,
                    const char *node);
} kapi_sched_ops;

/* ---- controllers (KAPI_KIND_CONTROLLER, since 1.1) ----------------------
 *
 * A controller is started by kapi-controller-manager once it leads:
 * `start` gets shared informers and work queues from the context and
 * asks the host to run its workers; `stop` runs after the workers ended.
 */
typedef struct kapi_ctl kapi_ctl;       /* a controller's context */
typedef struct kapi_inf kapi_inf;       /* a shared informer */
typedef struct kapi_queue kapi_queue;   /* a rate-limited work queue */
typedef struct kapi_ref kapi_ref;       /* a reference to a cached object */

typedef struct kapi_controller_ops {
  uint32_t size;
  int (*start)(void *st, kapi_ctl *ctl, kapi_error *e);
  void (*stop)(void *st);
} kapi_controller_ops;

/* Informer event handlers: objects are borrowed for the call. */
typedef struct kapi_inf_handler {
  uint32_t size;
  void (*on_add)(void *arg, const kapi_obj *obj);
  void (*on_update)(void *arg, const kapi_obj *old, const kapi_obj *obj);
  void (*on_delete)(void *arg, const kapi_obj *obj);
} kapi_inf_handler;

/* ---- container runtimes (KAPI_KIND_RUNTIME, since 1.1) -------------------
 *
 * A small CRI for kapi-kubelet.  Ids are written into caller buffers of
 * KAPI_ID_MAX bytes.  A container status is passed to a callback, its
 * strings borrowed for the call.
 */
#define KAPI_ID_MAX 128

typedef enum kapi_container_state {
  KAPI_CONTAINER_CREATED = 0,
  KAPI_CONTAINER_RUNNING = 1,
  KAPI_CONTAINER_EXITED = 2,
  KAPI_CONTAINER_UNKNOWN = 3,
  _KAPI_CONTAINER_FORCE32 = 0x7fffffff
} kapi_container_state;

typedef struct kapi_container_status {
  uint32_t size;
  const char *id;
  const char *sandbox_id;
  const char *name;           /* the pod's container name */
  kapi_container_state state;
  int64_t created_at, started_at, finished_at; /* Unix ns; 0 = unset */
  int32_t exit_code;
  const char *reason;         /* "Completed", "Error", "OOMKilled"... */
  const char *message;
  const char *log_path;
} kapi_container_status;

typedef void (*kapi_container_status_fn)(void *arg,
                                         const kapi_container_status *s);

typedef struct kapi_runtime_ops {
  uint32_t size;
  int (*run_pod_sandbox)(void *st, const kapi_obj *pod, char *sandbox_id,
                         kapi_error *e);
  int (*stop_pod_sandbox)(void *st, const char *sandbox_id);
  int (*remove_pod_sandbox)(void *st, const char *sandbox_id);
  /* log_path: where the container's stdout and stderr go. */
  int (*create_container)(void *st, const char *sandbox_id,
                          const kapi_obj *pod, const kapi_obj *container,
                          const char *log_path, char *container_id,
                          kapi_error *e);
  int (*start_container)(void *st, const char *container_id, kapi_error *e);
  /* SIGTERM, wait up to timeout_s, then SIGKILL. */
  int (*stop_container)(void *st, const char *container_id,
                        int64_t timeout_s);
  int (*remove_container)(void *st, const char *container_id);
  int (*container_status)(void *st, const char *container_id,
                          kapi_container_status_fn fn, void *arg);
  int (*list_containers)(void *st, kapi_container_status_fn fn, void *arg);
} kapi_runtime_ops;

/*
 * The host API.  Append-only; test members newer than 1.0 with
 * KAPI_API_HAS before calling them.  All members are thread-safe unless
 * noted.  Object accessors take JSON pointers (RFC 6901, "/spec/nodeName",
 * "/spec/containers/0/name"); in setters the last token "-" appends to an
 * array, and missing intermediate objects are created.
 */
struct kapi_host_api {
  uint32_t size;
  uint16_t abi_major, abi_minor;

  /* Registration: only from init, else -EPERM.  ops: static storage;
   * st: owned by the plugin; name and order: copied. */
  int (*register_authn)(kapi_plugin *p, const char *name,
                        const kapi_authn_ops *ops, void *st,
                        const kapi_order *order);
  int (*register_authz)(kapi_plugin *p, const char *name,
                        const kapi_authz_ops *ops, void *st,
                        const kapi_order *order);
  int (*register_admission)(kapi_plugin *p, const char *name,
                            const kapi_admission_ops *ops, void *st,
                            const kapi_order *order);
  int (*register_resource)(kapi_plugin *p, const kapi_resource_ops *ops,
                           void *st);

  /* Errors and logs.  code is the HTTP status (400, 403, 404, 409,
   * 422, 500...), reason upstream's StatusReason ("Forbidden",
   * "NotFound"...); both strings are copied. */
  void (*error_set)(kapi_error *e, int code, const char *reason,
                    const char *fmt, ...) KAPI_PRINTF(4, 5);
  /* Adds a details.causes entry (reason, message, field; all copied). */
  void (*error_add_cause)(kapi_error *e, const char *reason,
                          const char *message, const char *field);
  void (*log)(kapi_plugin *p, int level, const char *fmt, ...)
      KAPI_PRINTF(3, 4);

  /* Request attributes: "verb", "namespace", "resource", "subresource",
   * "name", "apiGroup", "apiVersion", "path", "operation" (CREATE...),
   * "user.name", "user.uid", "dryRun" ("true"/"false").  Borrowed; NULL
   * if unset.  Over HTTPS with --client-ca-file, a client certificate
   * that verified (chains to a client CA, clientAuth usage, in its
   * validity period) gives "tls.client.cn" (subject CN) and
   * "tls.client.o.0", "tls.client.o.1", ... (subject O values, in
   * order, NULL past the end); both are NULL without one. */
  const char *(*req_get)(const kapi_req *r, const char *key);
  /* user.groups, in order; NULL past the end. */
  const char *(*req_group)(const kapi_req *r, size_t i);
  /* The stored object on UPDATE and DELETE, else NULL.  Borrowed. */
  const kapi_obj *(*req_old_object)(const kapi_req *r);
  /* Transport: the raw header value, borrowed, or NULL. */
  const char *(*req_header)(const kapi_req *r, const char *name);

  /* Reading objects.  Returned pointers are borrowed from `o`. */
  const kapi_obj *(*obj_lookup)(const kapi_obj *o, const char *pointer);
  kapi_obj_type (*obj_type)(const kapi_obj *o);
  /* The text of a string, number or bool ("true"/"false"); else NULL.
   * With a pointer: obj_get(o, "/metadata/name"). */
  const char *(*obj_get)(const kapi_obj *o, const char *pointer);
  /* 0 and *out set if the value is an integer, else -EINVAL. */
  int (*obj_int)(const kapi_obj *o, int64_t *out);
  size_t (*obj_len)(const kapi_obj *o); /* array/object members */
  const kapi_obj *(*obj_index)(const kapi_obj *o, size_t i);
  const char *(*obj_key)(const kapi_obj *o, size_t i); /* objects only */

  /* Writing objects.  Return 0 or -errno. */
  int (*obj_set_json)(kapi_obj *o, const char *pointer, const char *json);
  int (*obj_set_str)(kapi_obj *o, const char *pointer, const char *value);
  int (*obj_set_int)(kapi_obj *o, const char *pointer, int64_t value);
  int (*obj_set_bool)(kapi_obj *o, const char *pointer, int value);
  int (*obj_remove)(kapi_obj *o, const char *pointer);
  /* Appends to an array (the pointer "" means `o` itself). */
  int (*obj_append_str)(kapi_obj *o, const char *pointer, const char *v);
  int (*obj_append_int)(kapi_obj *o, const char *pointer, int64_t v);

  /* Copies of objects: caller owns the result; free with obj_free. */
  char *(*obj_to_json)(const kapi_obj *o); /* free with api->free */
  void (*obj_free)(kapi_obj *o);
  void *(*alloc)(size_t n);
  void (*free)(void *p);

  /*
   * Appends one field error (field.Error) to `errs`: type is upstream's
   * ErrorType ("FieldValueRequired", "FieldValueInvalid",
   * "FieldValueForbidden", "FieldValueDuplicate", "FieldValueNotSupported",
   * "FieldValueTooLong"); bad_value is the offending value as JSON
   * text (NULL if none), detail is free text (may be NULL).
   */
  int (*field_error)(kapi_obj *errs, const char *field, const char *type,
                     const char *bad_value, const char *detail);

  /* Validation helpers, upstream's messages appended as field errors.
   * Return the number of errors added. */
  int (*validate_dns_label)(kapi_obj *errs, const char *field,
                            const char *value);
  int (*validate_dns_subdomain)(kapi_obj *errs, const char *field,
                                const char *value);

  /*
   * Reads a stored object: *ret is a copy the caller frees with
   * obj_free.  group "" is core.  Returns 0, -ENOENT, or -errno.
   */
  int (*store_get)(const char *group, const char *resource,
                   const char *ns, const char *name, kapi_obj **ret);

  /* "3s", "5m", "2d4h": upstream's HumanDuration of now - RFC3339 ts. */
  int (*format_age)(const char *rfc3339, int64_t now, char *buf,
                    size_t len);

  /* ---- since 1.1 ---- */
  int (*register_sched)(kapi_plugin *p, const char *name,
                        const kapi_sched_ops *ops, void *st,
                        const kapi_order *order);
  int (*register_controller)(kapi_plugin *p, const char *name,
                             const kapi_controller_ops *ops, void *st);
  int (*register_runtime)(kapi_plugin *p, const char *name,
                          const kapi_runtime_ops *ops, void *st);

  /*
   * A request to the API server the daemon talks to (not available in
   * kapi-apiserver: -ENOSYS).  path includes the query; body and
   * content_type may be NULL; *ret (may be NULL) gets the answer object,
   * owned by the caller.  Returns 0 on 2xx, else -errno as the status
   * (-ENOENT 404, -EEXIST/-EBUSY 409, -EINVAL 400/422, -EACCES 401/403,
   * -EIO), with e set from the Status.
   */
  int (*api_request)(const char *method, const char *path,
                     const char *content_type, const char *body,
                     kapi_obj **ret, kapi_error *e);
  /* Quantities ("100m", "1Gi"): value*1000 rounded up (milli units). */
  int (*quantity_milli)(const char *q, int64_t *ret);
  /* Effective pod request of a resource ("cpu" in millicores, "memory"
   * in bytes, others in units), upstream's PodRequests; non_zero adds the
   * scheduler's defaults for containers that request nothing. */
  int64_t (*pod_request)(const kapi_obj *pod, const char *resource,
                         int non_zero);

  /* Scheduler: status reasons, cycle state, node info. */
  void (*sched_reason)(kapi_sched_status *s, const char *fmt, ...)
      KAPI_PRINTF(2, 3);
  int (*cycle_write)(kapi_cycle *cs, const char *key, void *data,
                     const kapi_state_vtbl *vt);
  void *(*cycle_read)(kapi_cycle *cs, const char *key);
  const kapi_obj *(*node_obj)(const kapi_node_info *ni);
  const char *(*node_name)(const kapi_node_info *ni);
  size_t (*node_pod_count)(const kapi_node_info *ni);
  const kapi_obj *(*node_pod)(const kapi_node_info *ni, size_t i);
  /* Sum of the requests of the pods on the node (as pod_request). */
  int64_t (*node_requested)(const kapi_node_info *ni, const char *resource,
                            int non_zero);
  int64_t (*node_allocatable)(const kapi_node_info *ni,
                              const char *resource);

  /* Controllers: informers, queues, workers, events. */
  kapi_inf *(*ctl_informer)(kapi_ctl *c, const char *group,
                            const char *version, const char *resource);
  int (*inf_add_handler)(kapi_inf *inf, const kapi_inf_handler *h,
                         void *arg);
  /* Built-in indices: "namespace", "nodeName", "controllerUID". */
  int (*inf_add_index)(kapi_inf *inf, const char *index);
  int (*inf_wait_synced)(kapi_inf *inf, int timeout_ms);
  /* key: "<ns>/<name>" or "<name>".  *ret: a reference (ref_put). */
  int (*inf_get)(kapi_inf *inf, const char *key, kapi_ref **ret);
  /* index NULL = every object.  *ret: references (ref_array_put). */
  int (*inf_list)(kapi_inf *inf, const char *index, const char *value,
                  kapi_ref ***ret, size_t *ret_n);
  const kapi_obj *(*ref_obj)(const kapi_ref *r);
  void (*ref_put)(kapi_ref *r);
  void (*ref_array_put)(kapi_ref **v, size_t n);
  kapi_queue *(*ctl_queue)(kapi_ctl *c, const char *name);
  void (*queue_add)(kapi_queue *q, const char *key);
  void (*queue_add_after)(kapi_queue *q, const char *key, int delay_ms);
  void (*queue_add_rate_limited)(kapi_queue *q, const char *key);
  void (*queue_forget)(kapi_queue *q, const char *key);
  /* Runs n workers: each takes a key, calls sync; <0 requeues the key
   * rate-limited, 0 forgets it.  Workers end when the controller stops. */
  int (*ctl_run_workers)(kapi_ctl *c, kapi_queue *q, int n,
                         int (*sync)(void *st, const char *key), void *st);
  /* An Event about `involved` (type "Normal"/"Warning"). */
  void (*ctl_event)(kapi_ctl *c, const kapi_obj *involved, const char *type,
                    const char *reason, const char *fmt, ...)
      KAPI_PRINTF(5, 6);
  /* "<ns>/<name>" of an object, newly allocated (api->free). */
  char *(*obj_cache_key)(const kapi_obj *o);

  /* ---- since 1.2: kapi-apiserver only (-ENOSYS, 0 or NULL elsewhere) ---- */

  /*
   * The stored objects of a resource, copied: *ret is a JSON array the
   * caller frees with obj_free.  ns NULL or "" lists every namespace;
   * label_selector (upstream's syntax) may be NULL.  Returns 0, -ENOENT
   * (no such resource), -EINVAL (bad selector) or -errno.
   */
  int (*store_list)(const char *group, const char *resource, const char *ns,
                    const char *label_selector, kapi_obj **ret);
  /*
   * A revision that moves whenever an object of the resource is created,
   * changed or deleted (never backwards).  Cache what you derive from
   * store_list together with it and rebuild when it moves.  0 for an
   * unknown resource.
   */
  int64_t (*store_revision)(const char *group, const char *resource);
  /*
   * Replaces a stored object as given, without admission or strategy,
   * if its metadata.resourceVersion is still the stored one: for a
   * plugin's own bookkeeping (ResourceQuota's status.used).  Watchers
   * see the change.  *ret (may be NULL) gets the stored result (obj_free).
   * Returns 0, -ENOENT, -EBUSY on a conflict (read again and retry),
   * -EINVAL (no name or resourceVersion) or -errno.
   */
  int (*store_update)(const char *group, const char *resource,
                      const kapi_obj *obj, kapi_obj **ret);
  /*
   * Asks the authorizer chain whether the request's user may do
   * something else (a SubjectAccessReview from inside), e.g. "bind" on
   * a clusterrole.  group "" is core; subresource, ns and name may be
   * NULL.  Never NO_OPINION: no opinion from every authorizer is DENY.
   */
  kapi_decision (*authorize)(const kapi_req *r, const char *verb,
                             const char *group, const char *resource,
                             const char *subresource, const char *ns,
                             const char *name);
  /* Adds a "Warning: 299 - ..." header to the response (text copied). */
  void (*req_warning)(const kapi_req *r, const char *fmt, ...)
      KAPI_PRINTF(2, 3);
  /* Adds an annotation to the request's audit event (both copied). */
  void (*req_audit_annotation)(const kapi_req *r, const char *key,
                               const char *value);
  /* The authenticated (or impersonated) user: {"username", "uid",
   * "groups": [...], "extra": {"key": [...]}}.  Borrowed; NULL before
   * authentication.  req_get also answers "fieldSelector" and
   * "labelSelector" (the raw query values, or NULL). */
  const kapi_obj *(*req_user)(const kapi_req *r);
  /*
   * Parses JSON text (e.g. init's config_json) with the host's parser:
   * *ret is a new value the caller frees with obj_free.  Returns 0, or
   * -EINVAL with e set to a 400 "invalid JSON: <the parser's reason>"
   * (e may be NULL).  Available in every daemon.
   */
  int (*obj_parse)(const char *json, size_t len, kapi_obj **ret,
                   kapi_error *e);

  /* ---- since 1.3 ---- */
  /*
   * Puts a deep copy of `value` (borrowed) at `pointer` in `o`, as
   * obj_set_json puts parsed text ("/-" appends to an array).  For a
   * value inserted into many objects: parse it once with obj_parse, copy
   * it per object (a copy costs a fraction of a parse).  0 or -errno.
   */
  int (*obj_set_copy)(kapi_obj *o, const char *pointer,
                      const kapi_obj *value);
};

#define KAPI_API_HAS(api, m)                                            \
  ((api)->size >= offsetof(kapi_host_api, m) + sizeof((api)->m) &&      \
   (api)->m)

typedef struct kapi_plugin_desc {
  uint32_t magic; /* KAPI_PLUGIN_MAGIC */
  uint32_t size;  /* sizeof(kapi_plugin_desc) as compiled */
  uint16_t abi_major, abi_minor;
  uint16_t ptr_size, reserved0; /* sizeof(void *) */
  const char *name; /* unique, ^[a-z0-9][a-z0-9-]{0,62}$ */
  const char *version;
  const char *description;
  const char *license;
  /*
   * Parse config (JSON text of the plugin's own configuration, or NULL),
   * register components, keep `api`.  On failure free everything,
   * optionally error_set(e, ...), and return <0: the host discards what
   * was registered and stops.
   */
  int (*init)(kapi_plugin *self, const kapi_host_api *api,
              const char *config_json, size_t config_len, kapi_error *e);
  void (*fini)(kapi_plugin *self); /* at exit, reverse load order */
  uint64_t reserved[8];
} kapi_plugin_desc;

/* The smallest descriptor the host accepts: everything up to fini. */
#define KAPI_PLUGIN_DESC_MIN                                            \
  (offsetof(kapi_plugin_desc, fini) + sizeof(void (*)(kapi_plugin *)))

#define KAPI_PLUGIN_DEFINE(...)                                         \
  KAPI_EXPORT const kapi_plugin_desc *kapi_plugin_describe(void);       \
  const kapi_plugin_desc *kapi_plugin_describe(void)                    \
  {                                                                     \
    static const kapi_plugin_desc d = {.magic = KAPI_PLUGIN_MAGIC,      \
                                       .size = sizeof(kapi_plugin_desc),\
                                       .abi_major = KAPI_ABI_MAJOR,     \
                                       .abi_minor = KAPI_ABI_MINOR,     \
                                       .ptr_size = sizeof(void *),      \
                                       __VA_ARGS__};                    \
    return &d;                                                          \
  }                                                                     \
  extern int kapi_plugin_define_needs_semicolon_

#ifdef __cplusplus
}
#endif
#endif /* KAPI_PLUGIN_H */
