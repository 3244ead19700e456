/*
 * test_node_restriction.c - the NodeRestriction admission plugin
 * (admission/node-restriction), loaded from its built .so and driven
 * through the fake host API of tests/authz/fake_host.h: what a kubelet
 * may create, change and delete, with upstream's messages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kapi/json.h"
#include "fake_host.h"

#define NODE_USER "system:node:n1"
#define NODE_GROUPS "system:nodes,system:authenticated"

static fake_plugin plugin;

static int setup(void **state)
{
  (void)state;
  fake_load("admission/node-restriction", "node-restriction", &plugin);
  fake_store_add("", "nodes",
                 "{\"metadata\":{\"name\":\"n1\",\"uid\":\"u1\"}}");
  fake_store_add("", "nodes",
                 "{\"metadata\":{\"name\":\"n2\",\"uid\":\"u2\"}}");
  fake_store_add("", "pods",
                 "{\"metadata\":{\"name\":\"p1\",\"namespace\":\"default\","
                 "\"uid\":\"pu1\"},\"spec\":{\"nodeName\":\"n1\"}}");
  fake_store_add("", "pods",
                 "{\"metadata\":{\"name\":\"p2\",\"namespace\":\"default\","
                 "\"uid\":\"pu2\"},\"spec\":{\"nodeName\":\"n2\"}}");
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  fake_store_reset();
  fake_unload(&plugin);
  return 0;
}

/* Runs validate for one request by `user`; obj and old are JSON or
 * NULL.  Returns the plugin's result, the error in *e. */
static int run_as(const char *user, const char *attrs, const char *obj,
                  const char *old, kapi_error *e)
{
  kapi_req *r = fake_req(user, NODE_GROUPS, attrs);
  kapi_obj *o = obj ? fake_parse(obj) : NULL;
  int rc;

  memset(e, 0, sizeof *e);
  if (old)
    fake_req_old(r, old);
  rc = plugin.admission->validate(plugin.st, r, o, e);
  kj_free(o);
  fake_req_free(r);
  return rc;
}

#define _fail_msg_at(file, line, ...)                                   \
  do {                                                                  \
    print_error(__VA_ARGS__);                                           \
    print_error("\n");                                                  \
    _fail(file, line);                                                  \
  } while (0)

static void admitted_(const char *attrs, const char *obj, const char *old,
                      const char *file, int line)
{
  kapi_error e;
  int rc = run_as(NODE_USER, attrs, obj, old, &e);

  if (rc != 0 || e.code)
    _fail_msg_at(file, line, "refused (%d): %s\n  %s", rc, attrs, e.message);
}

/* Refused with HTTP `code` and exactly `message`. */
static void refused_(const char *attrs, const char *obj, const char *old,
                     int code, const char *message, const char *file,
                     int line)
{
  kapi_error e;
  int rc = run_as(NODE_USER, attrs, obj, old, &e);

  if (rc >= 0)
    _fail_msg_at(file, line, "admitted: %s", attrs);
  if (e.code != code || strcmp(e.message, message))
    _fail_msg_at(file, line, "for %s:\n  got  %d \"%s\"\n  want %d \"%s\"",
                 attrs, e.code, e.message, code, message);
}

#define admitted(attrs, obj, old) admitted_(attrs, obj, old, __FILE__, __LINE__)
#define refused(attrs, obj, old, message) \
  refused_(attrs, obj, old, 403, message, __FILE__, __LINE__)
#define not_found(attrs, obj, old, message) \
  refused_(attrs, obj, old, 404, message, __FILE__, __LINE__)

/* ---- plugin, users ------------------------------------------------------- */

static void test_component(void **state)
{
  (void)state;
  assert_string_equal(plugin.component, "NodeRestriction");
  assert_int_equal(plugin.admission->handles,
                   KAPI_OP_CREATE | KAPI_OP_UPDATE | KAPI_OP_DELETE);
  assert_null(plugin.admission->admit);
  assert_non_null(plugin.admission->validate);
}

static void test_other_users_pass(void **state)
{
  kapi_error e;

  (void)state;
  assert_int_equal(run_as("alice", "operation=CREATE resource=pods "
                          "namespace=default",
                          "{\"metadata\":{\"name\":\"x\"},\"spec\":{}}", NULL,
                          &e),
                   0);
  assert_int_equal(run_as("alice", "operation=UPDATE resource=nodes name=n2",
                          "{\"metadata\":{\"name\":\"n2\",\"labels\":"
                          "{\"node-restriction.kubernetes.io/a\":\"b\"}}}",
                          "{\"metadata\":{\"name\":\"n2\"}}", &e),
                   0);
  /* Without the system:nodes group a node name is an ordinary user. */
  {
    kapi_req *r = fake_req(NODE_USER, "system:authenticated",
                           "operation=CREATE resource=pods namespace=default");
    kapi_obj *o = fake_parse("{\"metadata\":{\"name\":\"x\"}}");
    assert_int_equal(plugin.admission->validate(plugin.st, r, o, &e), 0);
    kj_free(o);
    fake_req_free(r);
  }
  assert_int_equal(run_as("system:node:", "operation=CREATE resource=pods "
                          "namespace=default",
                          "{\"metadata\":{\"name\":\"x\"}}", NULL, &e),
                   -EPERM);
  assert_int_equal(e.code, 403);
  assert_string_equal(e.reason, "Forbidden");
  assert_string_equal(e.message, "pods \"x\" is forbidden: could not "
                                 "determine node from user "
                                 "\"system:node:\"");
  /* Resources nodes have no special rules for pass. */
  admitted("operation=CREATE resource=configmaps namespace=default",
           "{\"metadata\":{\"name\":\"c\"}}", NULL);
  admitted("operation=CREATE resource=events namespace=default",
           "{\"metadata\":{\"name\":\"e\"}}", NULL);
}

/* ---- mirror pods --------------------------------------------------------- */

#define CREATE_POD "operation=CREATE resource=pods namespace=default"
#define MIRROR_META                                                      \
  "\"name\":\"m\",\"namespace\":\"default\",\"annotations\":"           \
  "{\"kubernetes.io/config.mirror\":\"h\"}"
#define OWNER_N1                                                         \
  "\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"Node\","      \
  "\"name\":\"n1\",\"uid\":\"u1\",\"controller\":true}]"
#define MIRROR(spec) \
  "{\"metadata\":{" MIRROR_META "," OWNER_N1 "},\"spec\":{" spec "}}"

static void test_mirror_pod_create(void **state)
{
  (void)state;
  admitted(CREATE_POD,
           MIRROR("\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\"}],"
                  "\"volumes\":[{\"name\":\"h\",\"hostPath\":{\"path\":\"/\"}},"
                  "{\"name\":\"e\",\"ephemeral\":{}}]"),
           NULL);
  refused(CREATE_POD,
          "{\"metadata\":{\"name\":\"x\"},\"spec\":{\"nodeName\":\"n1\"}}",
          NULL,
          "pods \"x\" is forbidden: pod does not have "
          "\"kubernetes.io/config.mirror\" annotation, node \"n1\" can only "
          "create mirror pods");
  /* Before its name is generated a pod is known by its generateName. */
  refused(CREATE_POD, "{\"metadata\":{\"generateName\":\"web-\"}}", NULL,
          "pods \"web-\" is forbidden: pod does not have "
          "\"kubernetes.io/config.mirror\" annotation, node \"n1\" can only "
          "create mirror pods");
  refused(CREATE_POD, MIRROR("\"nodeName\":\"n2\""), NULL,
          "pods \"m\" is forbidden: node \"n1\" can only create pods with "
          "spec.nodeName set to itself");
  refused(CREATE_POD, MIRROR(""), NULL,
          "pods \"m\" is forbidden: node \"n1\" can only create pods with "
          "spec.nodeName set to itself");
}

static void test_mirror_pod_owner(void **state)
{
  (void)state;
  refused(CREATE_POD,
          "{\"metadata\":{" MIRROR_META "},\"spec\":{\"nodeName\":\"n1\"}}",
          NULL,
          "pods \"m\" is forbidden: node \"n1\" can only create pods with an "
          "owner reference set to itself");
  refused(CREATE_POD,
          "{\"metadata\":{" MIRROR_META ",\"ownerReferences\":["
          "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"n1\","
          "\"uid\":\"u1\",\"controller\":true},{\"apiVersion\":\"v1\","
          "\"kind\":\"Node\",\"name\":\"n1\",\"uid\":\"u1\"}]},"
          "\"spec\":{\"nodeName\":\"n1\"}}",
          NULL,
          "pods \"m\" is forbidden: node \"n1\" can only create pods with a "
          "single owner reference set to itself");
  refused(CREATE_POD,
          "{\"metadata\":{" MIRROR_META ",\"ownerReferences\":["
          "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"n2\","
          "\"uid\":\"u2\",\"controller\":true}]},"
          "\"spec\":{\"nodeName\":\"n1\"}}",
          NULL,
          "pods \"m\" is forbidden: node \"n1\" can only create pods with an "
          "owner reference set to itself");
  refused(CREATE_POD,
          "{\"metadata\":{" MIRROR_META ",\"ownerReferences\":["
          "{\"apiVersion\":\"apps/v1\",\"kind\":\"Node\",\"name\":\"n1\","
          "\"uid\":\"u1\",\"controller\":true}]},"
          "\"spec\":{\"nodeName\":\"n1\"}}",
          NULL,
          "pods \"m\" is forbidden: node \"n1\" can only create pods with an "
          "owner reference set to itself");
  refused(CREATE_POD,
          "{\"metadata\":{" MIRROR_META ",\"ownerReferences\":["
          "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"n1\","
          "\"uid\":\"u1\"}]},\"spec\":{\"nodeName\":\"n1\"}}",
          NULL,
          "pods \"m\" is forbidden: node \"n1\" can only create pods with a "
          "controller owner reference set to itself");
  refused(CREATE_POD,
          "{\"metadata\":{" MIRROR_META ",\"ownerReferences\":["
          "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"n1\","
          "\"uid\":\"u1\",\"controller\":true,\"blockOwnerDeletion\":true}]},"
          "\"spec\":{\"nodeName\":\"n1\"}}",
          NULL,
          "pods \"m\" is forbidden: node \"n1\" must not set "
          "blockOwnerDeletion on an owner reference");
  refused(CREATE_POD,
          "{\"metadata\":{" MIRROR_META ",\"ownerReferences\":["
          "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"n1\","
          "\"uid\":\"stale\",\"controller\":true}]},"
          "\"spec\":{\"nodeName\":\"n1\"}}",
          NULL,
          "pods \"m\" is forbidden: node n1 UID mismatch: expected stale got "
          "u1");
  /* The node's own object must exist to check the uid against. */
  {
    kapi_error e;
    assert_int_equal(
        run_as("system:node:n3", CREATE_POD,
               "{\"metadata\":{" MIRROR_META ",\"ownerReferences\":["
               "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"n3\","
               "\"uid\":\"u3\",\"controller\":true}]},"
               "\"spec\":{\"nodeName\":\"n3\"}}",
               NULL, &e),
        -ENOENT);
    assert_int_equal(e.code, 404);
    assert_string_equal(e.reason, "NotFound");
    assert_string_equal(e.message, "nodes \"n3\" not found");
  }
}

static void test_mirror_pod_references(void **state)
{
  (void)state;
  refused(CREATE_POD,
          MIRROR("\"nodeName\":\"n1\",\"serviceAccountName\":\"sa\""), NULL,
          "pods \"m\" is forbidden: node \"n1\" can not create pods that "
          "reference a service account");
  refused(CREATE_POD,
          MIRROR("\"nodeName\":\"n1\",\"imagePullSecrets\":[{\"name\":\"s\"}]"),
          NULL,
          "pods \"m\" is forbidden: node \"n1\" can not create pods that "
          "reference secrets");
  refused(CREATE_POD,
          MIRROR("\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\","
                 "\"env\":[{\"name\":\"A\",\"valueFrom\":{\"secretKeyRef\":"
                 "{\"name\":\"s\",\"key\":\"k\"}}}]}]"),
          NULL,
          "pods \"m\" is forbidden: node \"n1\" can not create pods that "
          "reference secrets");
  /* Secrets are reported before configmaps, as upstream checks them. */
  refused(CREATE_POD,
          MIRROR("\"nodeName\":\"n1\",\"volumes\":["
                 "{\"name\":\"a\",\"configMap\":{\"name\":\"c\"}},"
                 "{\"name\":\"b\",\"secret\":{\"secretName\":\"s\"}}]"),
          NULL,
          "pods \"m\" is forbidden: node \"n1\" can not create pods that "
          "reference secrets");
  refused(CREATE_POD,
          MIRROR("\"nodeName\":\"n1\",\"initContainers\":[{\"name\":\"c\","
                 "\"envFrom\":[{\"configMapRef\":{\"name\":\"c\"}}]}]"),
          NULL,
          "pods \"m\" is forbidden: node \"n1\" can not create pods that "
          "reference configmaps");
  refused(CREATE_POD,
          MIRROR("\"nodeName\":\"n1\",\"volumes\":[{\"name\":\"p\","
                 "\"projected\":{\"sources\":[{\"clusterTrustBundle\":"
                 "{\"signerName\":\"x/y\",\"path\":\"b\"}}]}}]"),
          NULL,
          "pods \"m\" is forbidden: node \"n1\" can not create pods that "
          "reference clustertrustbundles");
  refused(CREATE_POD,
          MIRROR("\"nodeName\":\"n1\",\"volumes\":[{\"name\":\"p\","
                 "\"persistentVolumeClaim\":{\"claimName\":\"c\"}}]"),
          NULL,
          "pods \"m\" is forbidden: node \"n1\" can not create pods that "
          "reference persistentvolumeclaims");
}

/* ---- pod delete, update, status, eviction -------------------------------- */

static void test_pod_delete_and_update(void **state)
{
  (void)state;
  admitted("operation=DELETE resource=pods namespace=default name=p1", NULL,
           "{\"metadata\":{\"name\":\"p1\"},\"spec\":{\"nodeName\":\"n1\"}}");
  /* Upstream's DELETE has no object: the message says "Unknown". */
  refused("operation=DELETE resource=pods namespace=default name=p2", NULL,
          "{\"metadata\":{\"name\":\"p2\"},\"spec\":{\"nodeName\":\"n2\"}}",
          "pods \"Unknown\" is forbidden: node \"n1\" can only delete pods "
          "with spec.nodeName set to itself");
  /* kapi hands DELETE the stored object as `obj`: same answer. */
  refused("operation=DELETE resource=pods namespace=default name=p2",
          "{\"metadata\":{\"name\":\"p2\"},\"spec\":{\"nodeName\":\"n2\"}}",
          NULL,
          "pods \"Unknown\" is forbidden: node \"n1\" can only delete pods "
          "with spec.nodeName set to itself");
  refused("operation=UPDATE resource=pods namespace=default name=p1",
          "{\"metadata\":{\"name\":\"p1\"},\"spec\":{\"nodeName\":\"n1\"}}",
          "{\"metadata\":{\"name\":\"p1\"},\"spec\":{\"nodeName\":\"n1\"}}",
          "pods \"p1\" is forbidden: unexpected operation \"UPDATE\", node "
          "\"n1\" can only create and delete mirror pods");
  refused("operation=CREATE resource=pods subresource=binding "
          "namespace=default name=p1",
          "{\"metadata\":{\"name\":\"p1\"}}", NULL,
          "pods \"p1\" is forbidden: unexpected pod subresource \"binding\", "
          "only 'status' and 'eviction' are allowed");
}

#define STATUS "operation=UPDATE resource=pods subresource=status " \
               "namespace=default name=p1"

static void test_pod_status(void **state)
{
  (void)state;
  admitted(STATUS,
           "{\"metadata\":{\"name\":\"p1\",\"labels\":{\"a\":\"b\"}},"
           "\"spec\":{\"nodeName\":\"n1\"},\"status\":{\"phase\":\"Running\"}}",
           "{\"metadata\":{\"name\":\"p1\",\"labels\":{\"a\":\"b\"}},"
           "\"spec\":{\"nodeName\":\"n1\"}}");
  refused(STATUS,
          "{\"metadata\":{\"name\":\"p2\"},\"spec\":{\"nodeName\":\"n2\"}}",
          "{\"metadata\":{\"name\":\"p2\"},\"spec\":{\"nodeName\":\"n2\"}}",
          "pods \"p2\" is forbidden: node \"n1\" can only update pod status "
          "for pods with spec.nodeName set to itself");
  refused(STATUS,
          "{\"metadata\":{\"name\":\"p1\",\"labels\":{\"a\":\"c\"}},"
          "\"spec\":{\"nodeName\":\"n1\"}}",
          "{\"metadata\":{\"name\":\"p1\",\"labels\":{\"a\":\"b\"}},"
          "\"spec\":{\"nodeName\":\"n1\"}}",
          "pods \"p1\" is forbidden: node \"n1\" cannot update labels "
          "through pod status");
  /* No labels and empty labels are the same labels. */
  admitted(STATUS,
           "{\"metadata\":{\"name\":\"p1\",\"labels\":{}},"
           "\"spec\":{\"nodeName\":\"n1\"}}",
           "{\"metadata\":{\"name\":\"p1\"},\"spec\":{\"nodeName\":\"n1\"}}");
  refused(STATUS,
          "{\"metadata\":{\"name\":\"p1\"},\"spec\":{\"nodeName\":\"n1\"},"
          "\"status\":{\"resourceClaimStatuses\":[{\"name\":\"c\","
          "\"resourceClaimName\":\"other\"}]}}",
          "{\"metadata\":{\"name\":\"p1\"},\"spec\":{\"nodeName\":\"n1\"},"
          "\"status\":{\"resourceClaimStatuses\":[{\"name\":\"c\","
          "\"resourceClaimName\":\"mine\"}]}}",
          "pods \"p1\" is forbidden: node \"n1\" cannot update resource claim "
          "statues");
  refused(STATUS,
          "{\"metadata\":{\"name\":\"p1\"},\"spec\":{\"nodeName\":\"n1\"},"
          "\"status\":{\"resourceClaimStatuses\":[{\"name\":\"c\"}]}}",
          "{\"metadata\":{\"name\":\"p1\"},\"spec\":{\"nodeName\":\"n1\"},"
          "\"status\":{\"resourceClaimStatuses\":[{\"name\":\"c\","
          "\"resourceClaimName\":\"mine\"}]}}",
          "pods \"p1\" is forbidden: node \"n1\" cannot update resource claim "
          "statues");
  refused("operation=DELETE resource=pods subresource=status "
          "namespace=default name=p1",
          NULL, "{\"metadata\":{\"name\":\"p1\"}}",
          "pods \"Unknown\" is forbidden: unexpected operation \"DELETE\"");
}

#define EVICT "operation=CREATE resource=pods subresource=eviction " \
              "namespace=default"

static void test_pod_eviction(void **state)
{
  (void)state;
  admitted(EVICT " name=p1", "{\"metadata\":{\"name\":\"p1\"}}", NULL);
  refused(EVICT " name=p2", "{\"metadata\":{\"name\":\"p2\"}}", NULL,
          "pods \"p2\" is forbidden: node n1 can only evict pods with "
          "spec.nodeName set to itself");
  /* Without a name in the URL, the Eviction's own. */
  refused(EVICT, "{\"metadata\":{\"name\":\"p2\"}}", NULL,
          "pods \"p2\" is forbidden: node n1 can only evict pods with "
          "spec.nodeName set to itself");
  refused(EVICT, "{\"metadata\":{}}", NULL,
          "pods \"Unknown\" is forbidden: could not determine pod from "
          "request data");
  not_found(EVICT " name=gone", "{\"metadata\":{\"name\":\"gone\"}}", NULL,
            "pods \"gone\" not found");
}

/* ---- nodes --------------------------------------------------------------- */

static void test_node_create(void **state)
{
  (void)state;
  admitted("operation=CREATE resource=nodes",
           "{\"metadata\":{\"name\":\"n1\",\"labels\":{"
           "\"kubernetes.io/hostname\":\"n1\",\"kubernetes.io/os\":\"linux\","
           "\"kubernetes.io/arch\":\"amd64\","
           "\"beta.kubernetes.io/os\":\"linux\","
           "\"beta.kubernetes.io/arch\":\"amd64\","
           "\"topology.kubernetes.io/zone\":\"z\","
           "\"node.kubernetes.io/instance-type\":\"big\","
           "\"kubelet.kubernetes.io/x\":\"y\",\"a.node.kubernetes.io/b\":\"c\","
           "\"example.com/own\":\"yes\",\"plain\":\"yes\"}},"
           "\"spec\":{\"taints\":[{\"key\":\"k\",\"effect\":\"NoSchedule\"}]}}",
           NULL);
  refused("operation=CREATE resource=nodes", "{\"metadata\":{\"name\":\"n2\"}}",
          NULL,
          "nodes \"n2\" is forbidden: node \"n1\" is not allowed to modify "
          "node \"n2\"");
  refused("operation=CREATE resource=nodes",
          "{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"configSource\":"
          "{\"configMap\":{\"name\":\"c\"}}}}",
          NULL,
          "nodes \"n1\" is forbidden: node \"n1\" is not allowed to create "
          "pods with a non-nil configSource");
  refused("operation=CREATE resource=nodes",
          "{\"metadata\":{\"name\":\"n1\",\"labels\":{"
          "\"node-restriction.kubernetes.io/x\":\"1\","
          "\"kubernetes.io/custom\":\"1\",\"example.k8s.io/z\":\"1\","
          "\"foo.node-restriction.kubernetes.io/y\":\"1\","
          "\"node-role.kubernetes.io/master\":\"\",\"kubernetes.io/os\":\"x\","
          "\"plain\":\"1\"}}}",
          NULL,
          "nodes \"n1\" is forbidden: node \"n1\" is not allowed to set the "
          "following labels: example.k8s.io/z, "
          "foo.node-restriction.kubernetes.io/y, kubernetes.io/custom, "
          "node-restriction.kubernetes.io/x, node-role.kubernetes.io/master");
}

#define NODE_N1(labels, spec) \
  "{\"metadata\":{\"name\":\"n1\",\"labels\":{" labels "}},\"spec\":{" spec "}}"

static void test_node_update(void **state)
{
  (void)state;
  admitted("operation=UPDATE resource=nodes name=n1",
           NODE_N1("\"kubernetes.io/hostname\":\"new\",\"plain\":\"2\","
                   "\"node-role.kubernetes.io/worker\":\"\"",
                   "\"unschedulable\":true"),
           NODE_N1("\"kubernetes.io/hostname\":\"old\","
                   "\"node-role.kubernetes.io/worker\":\"\"",
                   ""));
  refused("operation=UPDATE resource=nodes name=n1",
          NODE_N1("\"node-role.kubernetes.io/master\":\"\"", ""),
          NODE_N1("", ""),
          "nodes \"n1\" is forbidden: is not allowed to modify labels: "
          "node-role.kubernetes.io/master");
  /* Removing a restricted label is a modification too. */
  refused("operation=UPDATE resource=nodes name=n1", NODE_N1("", ""),
          NODE_N1("\"node-restriction.kubernetes.io/a\":\"b\"", ""),
          "nodes \"n1\" is forbidden: is not allowed to modify labels: "
          "node-restriction.kubernetes.io/a");
  refused("operation=UPDATE resource=nodes name=n1",
          NODE_N1("", "\"taints\":[]"),
          NODE_N1("", "\"taints\":[{\"key\":\"k\",\"effect\":\"NoSchedule\"}]"),
          "nodes \"n1\" is forbidden: node \"n1\" is not allowed to modify "
          "taints");
  /* An absent list is an empty one; a missing value is its zero value. */
  admitted("operation=UPDATE resource=nodes name=n1",
           NODE_N1("", "\"taints\":[]"), NODE_N1("", ""));
  admitted("operation=UPDATE resource=nodes subresource=status name=n1",
           NODE_N1("", "\"taints\":[{\"effect\":\"NoSchedule\",\"key\":\"k\","
                       "\"value\":\"\"}]"),
           NODE_N1("", "\"taints\":[{\"key\":\"k\","
                       "\"effect\":\"NoSchedule\"}]"));
  refused("operation=UPDATE resource=nodes name=n1",
          NODE_N1("", "\"configSource\":{\"configMap\":{\"name\":\"b\"}}"),
          NODE_N1("", "\"configSource\":{\"configMap\":{\"name\":\"a\"}}"),
          "nodes \"n1\" is forbidden: node \"n1\" is not allowed to update "
          "configSource to a new non-nil configSource");
  admitted("operation=UPDATE resource=nodes name=n1",
           NODE_N1("", "\"configSource\":{\"configMap\":{\"name\":\"a\"}}"),
           NODE_N1("", "\"configSource\":{\"configMap\":{\"name\":\"a\"}}"));
  /* Dropping it is what old kubelets do. */
  admitted("operation=UPDATE resource=nodes name=n1", NODE_N1("", ""),
           NODE_N1("", "\"configSource\":{\"configMap\":{\"name\":\"a\"}}"));
  refused("operation=UPDATE resource=nodes name=n2",
          "{\"metadata\":{\"name\":\"n2\",\"labels\":{\"x\":\"y\"}}}",
          "{\"metadata\":{\"name\":\"n2\"}}",
          "nodes \"n2\" is forbidden: node \"n1\" is not allowed to modify "
          "node \"n2\"");
  refused("operation=UPDATE resource=nodes subresource=status name=n2",
          "{\"metadata\":{\"name\":\"n2\"}}",
          "{\"metadata\":{\"name\":\"n2\"}}",
          "nodes \"n2\" is forbidden: node \"n1\" is not allowed to modify "
          "node \"n2\"");
  refused("operation=DELETE resource=nodes name=n2", NULL,
          "{\"metadata\":{\"name\":\"n2\"}}",
          "nodes \"Unknown\" is forbidden: node \"n1\" is not allowed to "
          "modify node \"n2\"");
  admitted("operation=DELETE resource=nodes name=n1", NULL,
           "{\"metadata\":{\"name\":\"n1\"}}");
}

/* ---- leases, tokens, claims, CSINodes ------------------------------------ */

#define LEASES "resource=leases apiGroup=coordination.k8s.io "

static void test_leases(void **state)
{
  (void)state;
  admitted("operation=CREATE " LEASES "namespace=kube-node-lease",
           "{\"metadata\":{\"name\":\"n1\"}}", NULL);
  admitted("operation=UPDATE " LEASES "namespace=kube-node-lease name=n1",
           "{\"metadata\":{\"name\":\"n1\"}}",
           "{\"metadata\":{\"name\":\"n1\"}}");
  refused("operation=CREATE " LEASES "namespace=kube-node-lease",
          "{\"metadata\":{\"name\":\"n2\"}}", NULL,
          "leases.coordination.k8s.io \"n2\" is forbidden: can only access "
          "node lease with the same name as the requesting node");
  refused("operation=UPDATE " LEASES "namespace=kube-node-lease name=n2",
          "{\"metadata\":{\"name\":\"n2\"}}",
          "{\"metadata\":{\"name\":\"n2\"}}",
          "leases.coordination.k8s.io \"n2\" is forbidden: can only access "
          "node lease with the same name as the requesting node");
  refused("operation=CREATE " LEASES "namespace=default",
          "{\"metadata\":{\"name\":\"n1\"}}", NULL,
          "leases.coordination.k8s.io \"n1\" is forbidden: can only access "
          "leases in the \"kube-node-lease\" system namespace");
}

#define TOKEN "operation=CREATE resource=serviceaccounts subresource=token " \
              "namespace=default name=sa"
#define TOKEN_REQ(ref) "{\"spec\":{\"audiences\":[\"a\"]" ref "}}"

static void test_service_account_tokens(void **state)
{
  (void)state;
  admitted(TOKEN, TOKEN_REQ(",\"boundObjectRef\":{\"apiVersion\":\"v1\","
                            "\"kind\":\"Pod\",\"name\":\"p1\","
                            "\"uid\":\"pu1\"}"),
           NULL);
  refused(TOKEN, TOKEN_REQ(""), NULL,
          "serviceaccounts \"Unknown\" is forbidden: node requested token not "
          "bound to a pod");
  refused(TOKEN, TOKEN_REQ(",\"boundObjectRef\":{\"apiVersion\":\"v1\","
                           "\"kind\":\"Secret\",\"name\":\"p1\","
                           "\"uid\":\"x\"}"),
          NULL,
          "serviceaccounts \"Unknown\" is forbidden: node requested token not "
          "bound to a pod");
  refused(TOKEN, TOKEN_REQ(",\"boundObjectRef\":{\"apiVersion\":\"v1\","
                           "\"kind\":\"Pod\",\"name\":\"p1\"}"),
          NULL,
          "serviceaccounts \"Unknown\" is forbidden: node requested token "
          "with a pod binding without a uid");
  refused(TOKEN, TOKEN_REQ(",\"boundObjectRef\":{\"apiVersion\":\"v1\","
                           "\"kind\":\"Pod\",\"name\":\"p1\",\"uid\":\"old\"}"),
          NULL,
          "serviceaccounts \"Unknown\" is forbidden: the UID in the bound "
          "object reference (old) does not match the UID in record. The "
          "object might have been deleted and then recreated");
  refused(TOKEN, TOKEN_REQ(",\"boundObjectRef\":{\"apiVersion\":\"v1\","
                           "\"kind\":\"Pod\",\"name\":\"p2\",\"uid\":\"pu2\"}"),
          NULL,
          "serviceaccounts \"Unknown\" is forbidden: node requested token "
          "bound to a pod scheduled on a different node");
  not_found(TOKEN, TOKEN_REQ(",\"boundObjectRef\":{\"apiVersion\":\"v1\","
                             "\"kind\":\"Pod\",\"name\":\"gone\","
                             "\"uid\":\"g\"}"),
            NULL, "pods \"gone\" not found");
  /* Only token requests are restricted. */
  admitted("operation=CREATE resource=serviceaccounts namespace=default",
           "{\"metadata\":{\"name\":\"sa\"}}", NULL);
}

#define PVC_STATUS "operation=UPDATE resource=persistentvolumeclaims " \
                   "subresource=status namespace=default name=c"

static void test_pvc_status(void **state)
{
  (void)state;
  admitted(PVC_STATUS,
           "{\"metadata\":{\"name\":\"c\",\"resourceVersion\":\"\"},"
           "\"spec\":{\"volumeName\":\"v\"},\"status\":{\"phase\":\"Bound\","
           "\"capacity\":{\"storage\":\"2Gi\"},\"conditions\":[{\"type\":"
           "\"Resizing\",\"status\":\"True\"}]}}",
           "{\"metadata\":{\"name\":\"c\",\"resourceVersion\":\"7\"},"
           "\"spec\":{\"volumeName\":\"v\"},\"status\":{\"phase\":\"Bound\","
           "\"capacity\":{\"storage\":\"1Gi\"}}}");
  refused(PVC_STATUS,
          "{\"metadata\":{\"name\":\"c\",\"labels\":{\"a\":\"b\"}},"
          "\"status\":{\"phase\":\"Bound\"}}",
          "{\"metadata\":{\"name\":\"c\"},\"status\":{\"phase\":\"Bound\"}}",
          "persistentvolumeclaims \"c\" is forbidden: node \"n1\" is not "
          "allowed to update fields other than status.capacity and "
          "status.conditions: /metadata/labels differs");
  refused(PVC_STATUS,
          "{\"metadata\":{\"name\":\"c\"},\"status\":{\"phase\":\"Lost\"}}",
          "{\"metadata\":{\"name\":\"c\"},\"status\":{\"phase\":\"Bound\"}}",
          "persistentvolumeclaims \"c\" is forbidden: node \"n1\" is not "
          "allowed to update fields other than status.capacity and "
          "status.conditions: /status/phase differs");
  refused("operation=UPDATE resource=persistentvolumeclaims "
          "namespace=default name=c",
          "{\"metadata\":{\"name\":\"c\"}}", "{\"metadata\":{\"name\":\"c\"}}",
          "persistentvolumeclaims \"c\" is forbidden: may only update PVC "
          "status");
}

static void test_csinodes(void **state)
{
  (void)state;
  admitted("operation=CREATE resource=csinodes apiGroup=storage.k8s.io",
           "{\"metadata\":{\"name\":\"n1\"}}", NULL);
  refused("operation=CREATE resource=csinodes apiGroup=storage.k8s.io",
          "{\"metadata\":{\"name\":\"n2\"}}", NULL,
          "csinodes.storage.k8s.io \"n2\" is forbidden: can only access "
          "CSINode with the same name as the requesting node");
  refused("operation=DELETE resource=csinodes apiGroup=storage.k8s.io "
          "name=n2",
          NULL, "{\"metadata\":{\"name\":\"n2\"}}",
          "csinodes.storage.k8s.io \"Unknown\" is forbidden: can only access "
          "CSINode with the same name as the requesting node");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_component, setup, teardown),
      cmocka_unit_test_setup_teardown(test_other_users_pass, setup, teardown),
      cmocka_unit_test_setup_teardown(test_mirror_pod_create, setup, teardown),
      cmocka_unit_test_setup_teardown(test_mirror_pod_owner, setup, teardown),
      cmocka_unit_test_setup_teardown(test_mirror_pod_references, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_pod_delete_and_update, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_pod_status, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pod_eviction, setup, teardown),
      cmocka_unit_test_setup_teardown(test_node_create, setup, teardown),
      cmocka_unit_test_setup_teardown(test_node_update, setup, teardown),
      cmocka_unit_test_setup_teardown(test_leases, setup, teardown),
      cmocka_unit_test_setup_teardown(test_service_account_tokens, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_pvc_status, setup, teardown),
      cmocka_unit_test_setup_teardown(test_csinodes, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
