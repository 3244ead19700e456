/*
 * bootstrap_policy.h - upstream's bootstrap RBAC policy
 * (plugin/pkg/auth/authorizer/rbac/bootstrappolicy: policy.go,
 * controller_policy.go, namespace_policy.go) as compact C tables, which
 * policy_json.h expands into the JSON arrays the rbac plugin hands the
 * host as initial_objects.
 *
 * Included once, by rbac.c (with policy_json.h, which expands it): a
 * plugin builds from one .c file, so its data lives in a header of
 * static definitions, like registry_util.h.
 *
 * The tables read like upstream's rule builders:
 *   RULE(verbs, groups, resources)     a resource rule
 *   NAMED(verbs, groups, resources, names)  ... limited to resourceNames
 *   URLS(verbs, urls)                  a non-resource rule
 * where each argument is a comma-separated list.  In a group list an
 * empty item is the core ("legacy") group: CORE is [""], and
 * CORE_AND("events.k8s.io") is ["", "events.k8s.io"].  Lists are sorted
 * when expanded, as upstream's RuleOrDie() sorts them, so the tables may
 * follow upstream's source order.
 *
 * Every object gets the label kubernetes.io/bootstrapping=rbac-defaults
 * and the annotation rbac.authorization.kubernetes.io/autoupdate=true.
 * ClusterRoles with an aggregationRule (admin, edit, view) are stored
 * with the rules the aggregation controller would give them, so that
 * they work before (or without) the controller.
 */
#ifndef KAPI_RBAC_BOOTSTRAP_POLICY_H
#define KAPI_RBAC_BOOTSTRAP_POLICY_H

#include <stddef.h>

/* ---- the tables ---------------------------------------------------------- */

typedef struct rule_def {
  const char *verbs, *groups, *resources, *names, *urls;
} rule_def;

#define RULE(v, g, r) {(v), (g), (r), NULL, NULL}
#define NAMED(v, g, r, n) {(v), (g), (r), (n), NULL}
#define URLS(v, u) {(v), NULL, NULL, NULL, (u)}
#define END_RULES {NULL, NULL, NULL, NULL, NULL}
#define RULES(...) ((const rule_def[]){__VA_ARGS__, END_RULES})

#define CORE ""
#define CORE_AND(g) "," g

/* Upstream's verb sets (bootstrappolicy.Read, Write, ReadWrite). */
#define READ "get,list,watch"
#define WRITE "create,update,patch,delete,deletecollection"
#define READ_WRITE READ "," WRITE

/* eventsRule(): create/update/patch events in both event groups. */
#define EVENTS_RULE RULE("create,update,patch", CORE_AND("events.k8s.io"), "events")

#define AGGREGATE_TO(role) "rbac.authorization.k8s.io/aggregate-to-" role "=true"

/* A role: a ClusterRole when ns is NULL. */
typedef struct role_def {
  const char *name;
  const char *ns;
  const char *label;     /* one more label "key=value", or NULL */
  const char *aggregate; /* aggregationRule's one matchLabels "key=value" */
  const rule_def *rules;
} role_def;

/* A binding: a ClusterRoleBinding when ns is NULL.  subjects is a
 * comma-separated list of "Kind:name", with "ServiceAccount:ns/name". */
typedef struct binding_def {
  const char *name;
  const char *ns;
  const char *role_kind;
  const char *role;
  const char *subjects;
} binding_def;

/* policy.go: clusterRoles(). */
static const role_def cluster_roles[] = {
    {"cluster-admin", NULL, NULL, NULL,
     RULES(RULE("*", "*", "*"), URLS("*", "*"))},
    {"admin", NULL, NULL, AGGREGATE_TO("admin"), NULL},
    {"edit", NULL, AGGREGATE_TO("admin"), AGGREGATE_TO("edit"), NULL},
    {"view", NULL, AGGREGATE_TO("edit"), AGGREGATE_TO("view"), NULL},
    {"system:aggregate-to-admin", NULL, AGGREGATE_TO("admin"), NULL,
     RULES(RULE("create", "authorization.k8s.io", "localsubjectaccessreviews"),
           RULE(READ_WRITE, "rbac.authorization.k8s.io", "roles,rolebindings"))},
    {"system:aggregate-to-edit", NULL, AGGREGATE_TO("edit"), NULL,
     RULES(
         /* read on escalating resources */
         RULE(READ, CORE, "pods/attach,pods/proxy,pods/exec,pods/portforward,"
                          "secrets,services/proxy"),
         RULE("impersonate", CORE, "serviceaccounts"),
         RULE(WRITE, CORE, "pods,pods/attach,pods/proxy,pods/exec,"
                           "pods/portforward"),
         RULE("create", CORE, "pods/eviction"),
         RULE(WRITE, CORE, "replicationcontrollers,replicationcontrollers/scale,"
                           "serviceaccounts,services,services/proxy,"
                           "persistentvolumeclaims,configmaps,secrets,events"),
         RULE("create", CORE, "serviceaccounts/token"),
         RULE(WRITE, "apps", "statefulsets,statefulsets/scale,daemonsets,"
                             "deployments,deployments/scale,"
                             "deployments/rollback,replicasets,"
                             "replicasets/scale"),
         RULE(WRITE, "autoscaling", "horizontalpodautoscalers"),
         RULE(WRITE, "batch", "jobs,cronjobs"),
         RULE(WRITE, "extensions", "daemonsets,deployments,deployments/scale,"
                                   "deployments/rollback,ingresses,"
                                   "replicasets,replicasets/scale,"
                                   "replicationcontrollers/scale,"
                                   "networkpolicies"),
         RULE(WRITE, "policy", "poddisruptionbudgets"),
         RULE(WRITE, "networking.k8s.io", "networkpolicies,ingresses"),
         RULE(READ_WRITE, "coordination.k8s.io", "leases"))},
    {"system:aggregate-to-view", NULL, AGGREGATE_TO("view"), NULL,
     RULES(
         RULE(READ, CORE, "pods,replicationcontrollers,"
                          "replicationcontrollers/scale,serviceaccounts,"
                          "services,services/status,endpoints,"
                          "persistentvolumeclaims,"
                          "persistentvolumeclaims/status,configmaps"),
         RULE(READ, CORE, "limitranges,resourcequotas,bindings,events,"
                          "pods/status,resourcequotas/status,"
                          "namespaces/status,replicationcontrollers/status,"
                          "pods/log"),
         /* at namespace scope: read *this* namespace */
         RULE(READ, CORE, "namespaces"),
         RULE(READ, "discovery.k8s.io", "endpointslices"),
         RULE(READ, "apps", "controllerrevisions,statefulsets,"
                            "statefulsets/status,statefulsets/scale,"
                            "daemonsets,daemonsets/status,deployments,"
                            "deployments/status,deployments/scale,"
                            "replicasets,replicasets/status,"
                            "replicasets/scale"),
         RULE(READ, "autoscaling", "horizontalpodautoscalers,"
                                   "horizontalpodautoscalers/status"),
         RULE(READ, "batch", "jobs,cronjobs,cronjobs/status,jobs/status"),
         RULE(READ, "extensions", "daemonsets,daemonsets/status,deployments,"
                                  "deployments/scale,deployments/status,"
                                  "ingresses,ingresses/status,replicasets,"
                                  "replicasets/scale,replicasets/status,"
                                  "replicationcontrollers/scale,"
                                  "networkpolicies"),
         RULE(READ, "policy", "poddisruptionbudgets,"
                              "poddisruptionbudgets/status"),
         RULE(READ, "networking.k8s.io", "ingresses,ingresses/status,"
                                         "networkpolicies"))},
    {"system:discovery", NULL, NULL, NULL,
     RULES(URLS("get", "/livez,/readyz,/healthz,/version,/version/,/openapi,"
                       "/openapi/*,/api,/api/*,/apis,/apis/*"))},
    {"system:basic-user", NULL, NULL, NULL,
     RULES(RULE("create", "authorization.k8s.io",
                "selfsubjectaccessreviews,selfsubjectrulesreviews"),
           RULE("create", "authentication.k8s.io", "selfsubjectreviews"))},
    {"system:public-info-viewer", NULL, NULL, NULL,
     RULES(URLS("get", "/livez,/readyz,/healthz,/version,/version/"))},
    {"system:monitoring", NULL, NULL, NULL,
     RULES(URLS("get", "/metrics,/metrics/slis,/livez,/readyz,/healthz,"
                       "/livez/*,/readyz/*,/healthz/*"))},
    {"system:auth-delegator", NULL, NULL, NULL,
     RULES(RULE("create", "authentication.k8s.io", "tokenreviews"),
           RULE("create", "authorization.k8s.io", "subjectaccessreviews"))},
    {"system:heapster", NULL, NULL, NULL,
     RULES(RULE(READ, CORE, "events,pods,nodes,namespaces"),
           RULE(READ, "extensions", "deployments"))},
    {"system:node", NULL, NULL, NULL,
     RULES(RULE("create", "authentication.k8s.io", "tokenreviews"),
           RULE("create", "authorization.k8s.io",
                "subjectaccessreviews,localsubjectaccessreviews"),
           RULE(READ, CORE, "services"),
           RULE("create,get,list,watch", CORE, "nodes"),
           RULE("update,patch", CORE, "nodes/status"),
           RULE("update,patch", CORE, "nodes"),
           RULE("create,update,patch", CORE, "events"),
           RULE(READ, CORE, "pods"),
           RULE("create,delete", CORE, "pods"),
           RULE("update,patch", CORE, "pods/status"),
           RULE("create", CORE, "pods/eviction"),
           RULE(READ, CORE, "secrets,configmaps"),
           RULE("get", CORE, "persistentvolumeclaims,persistentvolumes"),
           RULE("get", CORE, "endpoints"),
           RULE("create,get,list,watch", "certificates.k8s.io",
                "certificatesigningrequests"),
           RULE("get,create,update,patch,delete", "coordination.k8s.io",
                "leases"),
           RULE("get", "storage.k8s.io", "volumeattachments"),
           RULE("create", CORE, "serviceaccounts/token"),
           RULE("get,update,patch", CORE, "persistentvolumeclaims/status"),
           RULE(READ, "storage.k8s.io", "csidrivers"),
           RULE("get,create,update,patch,delete", "storage.k8s.io",
                "csinodes"),
           RULE(READ, "node.k8s.io", "runtimeclasses"))},
    {"system:node-problem-detector", NULL, NULL, NULL,
     RULES(RULE("get", CORE, "nodes"), RULE("patch", CORE, "nodes/status"),
           EVENTS_RULE)},
    {"system:kubelet-api-admin", NULL, NULL, NULL,
     RULES(RULE(READ, CORE, "nodes"), RULE("proxy", CORE, "nodes"),
           RULE("*", CORE, "nodes/proxy,nodes/metrics,nodes/stats,nodes/log"))},
    {"system:node-bootstrapper", NULL, NULL, NULL,
     RULES(RULE("create,get,list,watch", "certificates.k8s.io",
                "certificatesigningrequests"))},
    {"system:kube-aggregator", NULL, NULL, NULL,
     RULES(RULE(READ, CORE, "services,endpoints"))},
    {"system:persistent-volume-provisioner", NULL, NULL, NULL,
     RULES(RULE("get,list,watch,create,delete", CORE, "persistentvolumes"),
           RULE("get,list,watch,update", CORE, "persistentvolumeclaims"),
           RULE(READ, "storage.k8s.io", "storageclasses"),
           RULE("watch", CORE, "events"), EVENTS_RULE)},
    {"system:kube-controller-manager", NULL, NULL, NULL,
     RULES(EVENTS_RULE,
           /* leader election */
           RULE("create", "coordination.k8s.io", "leases"),
           NAMED("get,update", "coordination.k8s.io", "leases",
                 "kube-controller-manager"),
           /* bootstrapping the service account identities */
           RULE("create", CORE, "secrets,serviceaccounts"),
           RULE("delete", CORE, "secrets"),
           RULE("get", CORE, "namespaces,secrets,serviceaccounts,configmaps"),
           RULE("update", CORE, "secrets,serviceaccounts"),
           /* delegated authentication and authorization */
           RULE("create", "authentication.k8s.io", "tokenreviews"),
           RULE("create", "authorization.k8s.io", "subjectaccessreviews"),
           /* the shared informers */
           RULE("list,watch", "*", "*"),
           RULE("create", CORE, "serviceaccounts/token"))},
    {"system:kube-dns", NULL, NULL, NULL,
     RULES(RULE("list,watch", CORE, "endpoints,services"))},
    {"system:node-proxier", NULL, NULL, NULL,
     RULES(RULE("list,watch", CORE, "services,endpoints"),
           RULE(READ, CORE, "nodes"), EVENTS_RULE,
           RULE("list,watch", "discovery.k8s.io", "endpointslices"))},
    {"system:volume-scheduler", NULL, NULL, NULL,
     RULES(RULE(READ ",update,patch", CORE, "persistentvolumes"),
           RULE(READ, "storage.k8s.io", "storageclasses"),
           RULE(READ ",update,patch", CORE, "persistentvolumeclaims"))},
    {"system:certificates.k8s.io:certificatesigningrequests:nodeclient", NULL,
     NULL, NULL,
     RULES(RULE("create", "certificates.k8s.io",
                "certificatesigningrequests/nodeclient"))},
    {"system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
     NULL, NULL, NULL,
     RULES(RULE("create", "certificates.k8s.io",
                "certificatesigningrequests/selfnodeclient"))},
    {"system:certificates.k8s.io:kube-apiserver-client-approver", NULL, NULL,
     NULL,
     RULES(NAMED("approve", "certificates.k8s.io", "signers",
                 "kubernetes.io/kube-apiserver-client"))},
    {"system:certificates.k8s.io:kube-apiserver-client-kubelet-approver",
     NULL, NULL, NULL,
     RULES(NAMED("approve", "certificates.k8s.io", "signers",
                 "kubernetes.io/kube-apiserver-client-kubelet"))},
    {"system:certificates.k8s.io:kubelet-serving-approver", NULL, NULL, NULL,
     RULES(NAMED("approve", "certificates.k8s.io", "signers",
                 "kubernetes.io/kubelet-serving"))},
    {"system:certificates.k8s.io:legacy-unknown-approver", NULL, NULL, NULL,
     RULES(NAMED("approve", "certificates.k8s.io", "signers",
                 "kubernetes.io/legacy-unknown"))},
    {"system:service-account-issuer-discovery", NULL, NULL, NULL,
     RULES(URLS("get", "/.well-known/openid-configuration,/openid/v1/jwks"))},
    {"system:kube-scheduler", NULL, NULL, NULL,
     RULES(EVENTS_RULE,
           /* leader election */
           RULE("create", "coordination.k8s.io", "leases"),
           NAMED("get,update", "coordination.k8s.io", "leases",
                 "kube-scheduler"),
           /* fundamental resources */
           RULE(READ, CORE, "nodes"),
           RULE("get,list,watch,delete", CORE, "pods"),
           RULE("create", CORE, "pods/binding,bindings"),
           RULE("patch,update", CORE, "pods/status"),
           /* things that select pods */
           RULE(READ, CORE, "services,replicationcontrollers"),
           RULE(READ, "apps,extensions", "replicasets"),
           RULE(READ, "apps", "statefulsets"),
           /* things that pods use or that apply to them */
           RULE(READ, "policy", "poddisruptionbudgets"),
           RULE(READ, CORE, "persistentvolumeclaims,persistentvolumes"),
           /* delegated authentication and authorization */
           RULE("create", "authentication.k8s.io", "tokenreviews"),
           RULE("create", "authorization.k8s.io", "subjectaccessreviews"),
           /* volume limits, namespace selectors, CSI capacity */
           RULE(READ, "storage.k8s.io", "csinodes"),
           RULE(READ, CORE, "namespaces"),
           RULE(READ, "storage.k8s.io", "csidrivers"),
           RULE(READ, "storage.k8s.io", "csistoragecapacities"))},
};

/* policy.go: clusterRoleBindings().  system:node keeps no subjects (the
 * Node authorizer took over), as upstream. */
static const binding_def cluster_role_bindings[] = {
    {"cluster-admin", NULL, "ClusterRole", "cluster-admin",
     "Group:system:masters"},
    {"system:monitoring", NULL, "ClusterRole", "system:monitoring",
     "Group:system:monitoring"},
    {"system:discovery", NULL, "ClusterRole", "system:discovery",
     "Group:system:authenticated"},
    {"system:basic-user", NULL, "ClusterRole", "system:basic-user",
     "Group:system:authenticated"},
    {"system:public-info-viewer", NULL, "ClusterRole",
     "system:public-info-viewer",
     "Group:system:authenticated,Group:system:unauthenticated"},
    {"system:node-proxier", NULL, "ClusterRole", "system:node-proxier",
     "User:system:kube-proxy"},
    {"system:kube-controller-manager", NULL, "ClusterRole",
     "system:kube-controller-manager", "User:system:kube-controller-manager"},
    {"system:kube-dns", NULL, "ClusterRole", "system:kube-dns",
     "ServiceAccount:kube-system/kube-dns"},
    {"system:kube-scheduler", NULL, "ClusterRole", "system:kube-scheduler",
     "User:system:kube-scheduler"},
    {"system:volume-scheduler", NULL, "ClusterRole", "system:volume-scheduler",
     "User:system:kube-scheduler"},
    {"system:node", NULL, "ClusterRole", "system:node", NULL},
    {"system:service-account-issuer-discovery", NULL, "ClusterRole",
     "system:service-account-issuer-discovery", "Group:system:serviceaccounts"},
};

/* controller_policy.go, for the controllers kapi runs or will run: each
 * gets ClusterRole and ClusterRoleBinding "system:controller:<name>",
 * bound to ServiceAccount kube-system/<name>. */
static const struct {
  const char *name;
  const rule_def *rules;
} controller_roles[] = {
    {"clusterrole-aggregation-controller",
     RULES(RULE("escalate,get,list,watch,update,patch",
                "rbac.authorization.k8s.io", "clusterroles"))},
    {"deployment-controller",
     RULES(RULE("get,list,watch,update", "apps,extensions", "deployments"),
           RULE("update", "apps,extensions", "deployments/status"),
           RULE("update", "apps,extensions", "deployments/finalizers"),
           RULE("get,list,watch,create,update,patch,delete", "apps,extensions",
                "replicasets"),
           /* pods are listed to check whether old ones are gone */
           RULE("get,list,watch,update", CORE, "pods"), EVENTS_RULE)},
    {"generic-garbage-collector",
     RULES(RULE("get,list,watch,patch,update,delete", "*", "*"),
           EVENTS_RULE)},
    {"namespace-controller",
     RULES(RULE("get,list,watch,delete", CORE, "namespaces"),
           RULE("update", CORE, "namespaces/finalize,namespaces/status"),
           RULE("get,list,delete,deletecollection,watch", "*", "*"))},
    {"node-controller",
     RULES(RULE("get,list,update,delete,patch,watch", CORE, "nodes"),
           RULE("patch,update", CORE, "nodes/status"),
           RULE("patch,update", CORE, "pods/status"),
           RULE("list,watch,delete,get", CORE, "pods"), EVENTS_RULE)},
    {"replicaset-controller",
     RULES(RULE("get,list,watch,update", "apps,extensions", "replicasets"),
           RULE("update", "apps,extensions", "replicasets/status"),
           RULE("update", "apps,extensions", "replicasets/finalizers"),
           RULE("list,watch,patch,create,delete", CORE, "pods"),
           EVENTS_RULE)},
    {"resourcequota-controller",
     RULES(/* quota can count quota on anything for reconciliation */
           RULE("list,watch", "*", "*"),
           RULE("update", CORE, "resourcequotas/status"), EVENTS_RULE)},
    {"service-account-controller",
     RULES(RULE("create", CORE, "serviceaccounts"), EVENTS_RULE)},
};

/* namespace_policy.go: namespaced roles and their bindings. */
static const role_def namespace_roles[] = {
    {"extension-apiserver-authentication-reader", "kube-system", NULL, NULL,
     RULES(NAMED(READ, CORE, "configmaps",
                 "extension-apiserver-authentication"))},
    {"system::leader-locking-kube-controller-manager", "kube-system", NULL,
     NULL,
     RULES(RULE("get,watch,list,create,update", "coordination.k8s.io",
                "leases"),
           RULE("get,watch,list,create,update", "coordination.k8s.io",
                "leasecandidates"))},
    {"system::leader-locking-kube-scheduler", "kube-system", NULL, NULL,
     RULES(RULE("get,watch,list,create,update", "coordination.k8s.io",
                "leases"),
           RULE("get,watch,list,create,update", "coordination.k8s.io",
                "leasecandidates"))},
    {"system:controller:bootstrap-signer", "kube-system", NULL, NULL,
     RULES(RULE(READ, CORE, "secrets"))},
    {"system:controller:cloud-provider", "kube-system", NULL, NULL,
     RULES(RULE("create,get,list,watch", CORE, "configmaps"))},
    {"system:controller:token-cleaner", "kube-system", NULL, NULL,
     RULES(RULE("delete,get,list,watch", CORE, "secrets"), EVENTS_RULE)},
    {"system:controller:bootstrap-signer", "kube-public", NULL, NULL,
     RULES(RULE(READ, CORE, "configmaps"),
           NAMED("update", CORE, "configmaps", "cluster-info"),
           EVENTS_RULE)},
};

static const binding_def namespace_role_bindings[] = {
    {"system::extension-apiserver-authentication-reader", "kube-system",
     "Role", "extension-apiserver-authentication-reader",
     "User:system:kube-controller-manager,User:system:kube-scheduler"},
    {"system::leader-locking-kube-controller-manager", "kube-system", "Role",
     "system::leader-locking-kube-controller-manager",
     "User:system:kube-controller-manager,"
     "ServiceAccount:kube-system/kube-controller-manager,"
     "ServiceAccount:kube-system/leader-election-controller"},
    {"system::leader-locking-kube-scheduler", "kube-system", "Role",
     "system::leader-locking-kube-scheduler",
     "User:system:kube-scheduler,ServiceAccount:kube-system/kube-scheduler"},
    {"system:controller:bootstrap-signer", "kube-system", "Role",
     "system:controller:bootstrap-signer",
     "ServiceAccount:kube-system/bootstrap-signer"},
    {"system:controller:cloud-provider", "kube-system", "Role",
     "system:controller:cloud-provider",
     "ServiceAccount:kube-system/cloud-provider"},
    {"system:controller:token-cleaner", "kube-system", "Role",
     "system:controller:token-cleaner",
     "ServiceAccount:kube-system/token-cleaner"},
    {"system:controller:bootstrap-signer", "kube-public", "Role",
     "system:controller:bootstrap-signer",
     "ServiceAccount:kube-system/bootstrap-signer"},
};

#endif /* KAPI_RBAC_BOOTSTRAP_POLICY_H */
