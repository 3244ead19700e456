/*
 * test_node_authz.c - the Node authorizer (authz/node), loaded from its
 * built .so and driven through a fake host API (fake_host.h): which
 * requests of a kubelet it allows, and upstream's reasons for the ones
 * it leaves to the next authorizer.
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
#define NO_REL "no relationship found between node 'n1' and this object"

static fake_plugin plugin;

/* The world the kubelet of n1 lives in. */
static void seed_store(void)
{
  fake_store_add("", "nodes",
                 "{\"metadata\":{\"name\":\"n1\",\"uid\":\"u1\"}}");
  fake_store_add("", "nodes",
                 "{\"metadata\":{\"name\":\"n2\",\"uid\":\"u2\"}}");
  /* p1 on n1 uses one object of every kind of reference. */
  fake_store_add("", "pods",
      "{\"metadata\":{\"name\":\"p1\",\"namespace\":\"default\"},"
      "\"spec\":{\"nodeName\":\"n1\",\"serviceAccountName\":\"sa1\","
      "\"imagePullSecrets\":[{\"name\":\"pull1\"}],"
      "\"initContainers\":[{\"name\":\"i\",\"envFrom\":"
      "[{\"configMapRef\":{\"name\":\"initcm\"}}]}],"
      "\"containers\":[{\"name\":\"c\","
      "\"envFrom\":[{\"configMapRef\":{\"name\":\"cm1\"}}],"
      "\"env\":[{\"name\":\"E\",\"valueFrom\":{\"secretKeyRef\":"
      "{\"name\":\"envsec\",\"key\":\"k\"}}}]}],"
      "\"ephemeralContainers\":[{\"name\":\"dbg\",\"envFrom\":"
      "[{\"secretRef\":{\"name\":\"dbgsec\"}}]}],"
      "\"volumes\":[{\"name\":\"v1\",\"secret\":{\"secretName\":\"s1\"}},"
      "{\"name\":\"v2\",\"projected\":{\"sources\":["
      "{\"configMap\":{\"name\":\"projcm\"}},"
      "{\"secret\":{\"name\":\"projsec\"}}]}},"
      "{\"name\":\"v3\",\"persistentVolumeClaim\":{\"claimName\":\"claim1\"}},"
      "{\"name\":\"scratch\",\"ephemeral\":{\"volumeClaimTemplate\":{}}},"
      "{\"name\":\"v5\",\"csi\":{\"driver\":\"d\",\"nodePublishSecretRef\":"
      "{\"name\":\"csisec\"}}}]}}");
  fake_store_add("", "pods",
      "{\"metadata\":{\"name\":\"p2\",\"namespace\":\"default\"},"
      "\"spec\":{\"nodeName\":\"n2\",\"serviceAccountName\":\"sa2\","
      "\"volumes\":[{\"name\":\"v\",\"secret\":{\"secretName\":\"s2\"}},"
      "{\"name\":\"c\",\"persistentVolumeClaim\":"
      "{\"claimName\":\"claim2\"}}]}}");
  /* A mirror pod gives its node nothing. */
  fake_store_add("", "pods",
      "{\"metadata\":{\"name\":\"m1\",\"namespace\":\"default\","
      "\"annotations\":{\"kubernetes.io/config.mirror\":\"x\"}},"
      "\"spec\":{\"nodeName\":\"n1\",\"volumes\":[{\"name\":\"v\","
      "\"secret\":{\"secretName\":\"mirrorsec\"}}]}}");
  /* Neither does a pod not yet bound. */
  fake_store_add("", "pods",
      "{\"metadata\":{\"name\":\"pending\",\"namespace\":\"default\"},"
      "\"spec\":{\"volumes\":[{\"name\":\"v\",\"secret\":"
      "{\"secretName\":\"pendingsec\"}}]}}");
  /* The same names in another namespace are other objects. */
  fake_store_add("", "pods",
      "{\"metadata\":{\"name\":\"p3\",\"namespace\":\"other\"},"
      "\"spec\":{\"nodeName\":\"n2\",\"volumes\":[{\"name\":\"v\","
      "\"secret\":{\"secretName\":\"s1\"}}]}}");
  fake_store_add("", "persistentvolumes",
      "{\"metadata\":{\"name\":\"pv1\"},\"spec\":{\"claimRef\":"
      "{\"namespace\":\"default\",\"name\":\"claim1\"}}}");
  fake_store_add("", "persistentvolumes",
      "{\"metadata\":{\"name\":\"pv2\"},\"spec\":{\"claimRef\":"
      "{\"namespace\":\"default\",\"name\":\"claim2\"}}}");
  fake_store_add("storage.k8s.io", "volumeattachments",
      "{\"metadata\":{\"name\":\"va1\"},\"spec\":{\"nodeName\":\"n1\"}}");
  fake_store_add("storage.k8s.io", "volumeattachments",
      "{\"metadata\":{\"name\":\"va2\"},\"spec\":{\"nodeName\":\"n2\"}}");
}

static int setup(void **state)
{
  (void)state;
  fake_load("authz/node", "node-authz", &plugin);
  seed_store();
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  fake_store_reset();
  fake_unload(&plugin);
  return 0;
}

/* The decision for one request; the reason goes to `reason` ("" when
 * none was given). */
static kapi_decision decide_as(const char *user, const char *groups,
                               const char *attrs, char *reason, size_t len)
{
  kapi_req *r = fake_req(user, groups, attrs);
  kapi_error e = {0};
  kapi_decision d = plugin.authz->authorize(plugin.st, r, &e);

  snprintf(reason, len, "%s", e.code ? e.message : "");
  if (e.code)
    assert_int_equal(e.code, 403);
  fake_req_free(r);
  return d;
}

/* cmocka's fail_msg with the caller's position. */
#define _fail_msg_at(file, line, ...)                                   \
  do {                                                                  \
    print_error(__VA_ARGS__);                                           \
    print_error("\n");                                                  \
    _fail(file, line);                                                  \
  } while (0)

static void expect_allow_(const char *attrs, const char *file, int line)
{
  char reason[2048];
  kapi_decision d = decide_as(NODE_USER, NODE_GROUPS, attrs, reason,
                              sizeof reason);
  if (d != KAPI_ALLOW)
    _fail_msg_at(file, line, "not allowed: %s (reason: %s)", attrs, reason);
}

static void expect_none_(const char *attrs, const char *want,
                         const char *file, int line)
{
  char reason[2048];
  kapi_decision d = decide_as(NODE_USER, NODE_GROUPS, attrs, reason,
                              sizeof reason);
  if (d != KAPI_NO_OPINION)
    _fail_msg_at(file, line, "decision %d, wanted no opinion: %s", (int)d,
                 attrs);
  if (strcmp(reason, want))
    _fail_msg_at(file, line, "reason for %s:\n  got  \"%s\"\n  want \"%s\"",
                 attrs, reason, want);
}

#define expect_allow(attrs) expect_allow_(attrs, __FILE__, __LINE__)
#define expect_none(attrs, reason) \
  expect_none_(attrs, reason, __FILE__, __LINE__)

/* ---- identity ------------------------------------------------------------ */

static void test_component(void **state)
{
  (void)state;
  assert_string_equal(plugin.component, "Node");
  assert_non_null(plugin.authz->rules_for);
}

static void test_only_nodes(void **state)
{
  char reason[2048];

  (void)state;
  /* Other users, and node names outside system:nodes, get no opinion
   * and no reason: the authorizer does not speak for them. */
  assert_int_equal(decide_as("alice", "devs", "verb=get resource=nodes "
                             "name=n1", reason, sizeof reason),
                   KAPI_NO_OPINION);
  assert_string_equal(reason, "");
  assert_int_equal(decide_as(NODE_USER, "system:authenticated",
                             "verb=get resource=nodes name=n1", reason,
                             sizeof reason),
                   KAPI_NO_OPINION);
  assert_string_equal(reason, "");
  assert_int_equal(decide_as("system:nodes", "system:nodes",
                             "verb=get resource=nodes name=n1", reason,
                             sizeof reason),
                   KAPI_NO_OPINION);
  assert_string_equal(reason, "");
  /* A node without a name cannot be told apart. */
  assert_int_equal(decide_as("system:node:", NODE_GROUPS,
                             "verb=get resource=nodes name=n1", reason,
                             sizeof reason),
                   KAPI_NO_OPINION);
  assert_string_equal(reason, "unknown node for user \"system:node:\"");
  /* Another node's identity decides for that node. */
  assert_int_equal(decide_as("system:node:n2", NODE_GROUPS,
                             "verb=get resource=nodes name=n2", reason,
                             sizeof reason),
                   KAPI_ALLOW);
}

static void test_rules_for(void **state)
{
  kapi_req *r = fake_req(NODE_USER, NODE_GROUPS, "");
  kapi_obj *rr = kj_array(), *nr = kj_array();
  kapi_error e = {0};

  (void)state;
  assert_int_equal(plugin.authz->rules_for(plugin.st, r, "default", rr, nr,
                                           &e),
                   1);
  assert_string_equal(e.message,
                      "node authorizer does not support user rule "
                      "resolution");
  assert_int_equal(kj_len(rr), 0);
  fake_req_free(r);
  memset(&e, 0, sizeof e);
  r = fake_req("alice", "devs", "");
  assert_int_equal(plugin.authz->rules_for(plugin.st, r, "", rr, nr, &e), 0);
  assert_int_equal(e.code, 0);
  fake_req_free(r);
  kj_free(rr);
  kj_free(nr);
}

/* ---- nodes --------------------------------------------------------------- */

static void test_nodes(void **state)
{
  (void)state;
  expect_allow("verb=get resource=nodes name=n1");
  expect_allow("verb=watch resource=nodes name=n1");
  expect_none("verb=get resource=nodes name=n2",
              "node 'n1' cannot read 'n2', only its own Node object");
  expect_none("verb=list resource=nodes",
              "node 'n1' cannot read all nodes, only its own Node object");
  expect_none("verb=watch resource=nodes",
              "node 'n1' cannot read all nodes, only its own Node object");
  /* A list or watch names its node through the field selector. */
  expect_allow("verb=list resource=nodes fieldSelector=metadata.name=n1");
  expect_allow("verb=watch resource=nodes "
               "fieldSelector=metadata.name==n1");
  expect_none("verb=watch resource=nodes fieldSelector=metadata.name=n2",
              "node 'n1' cannot read 'n2', only its own Node object");
  expect_none("verb=list resource=nodes fieldSelector=metadata.name!=n2",
              "node 'n1' cannot read all nodes, only its own Node object");
  expect_none("verb=list resource=nodes fieldSelector=spec.unschedulable=false",
              "node 'n1' cannot read all nodes, only its own Node object");
  /* Writes are NodeRestriction's to limit to the node's own. */
  expect_allow("verb=create resource=nodes");
  expect_allow("verb=update resource=nodes name=n1");
  expect_allow("verb=patch resource=nodes name=n2");
  expect_allow("verb=patch resource=nodes subresource=status name=n1");
  expect_allow("verb=update resource=nodes subresource=status name=n2");
  expect_none("verb=delete resource=nodes name=n1", "");
  expect_none("verb=deletecollection resource=nodes", "");
  expect_none("verb=get resource=nodes subresource=status name=n1", "");
  expect_none("verb=get resource=nodes subresource=proxy name=n1", "");
}

/* ---- pods ---------------------------------------------------------------- */

static void test_pod_reads(void **state)
{
  (void)state;
  expect_allow("verb=get resource=pods namespace=default name=p1");
  expect_allow("verb=get resource=pods namespace=default name=m1");
  expect_none("verb=get resource=pods namespace=default name=p2", NO_REL);
  expect_none("verb=get resource=pods namespace=default name=pending",
              NO_REL);
  expect_none("verb=get resource=pods namespace=default name=gone", NO_REL);
  expect_none("verb=get resource=pods namespace=other name=p1", NO_REL);
  expect_none("verb=list resource=pods",
              "can only list/watch pods with spec.nodeName field selector");
  expect_none("verb=list resource=pods namespace=default",
              "can only list/watch pods with spec.nodeName field selector");
  expect_allow("verb=list resource=pods fieldSelector=spec.nodeName=n1");
  expect_allow("verb=watch resource=pods namespace=default "
               "fieldSelector=spec.nodeName==n1");
  expect_allow("verb=watch resource=pods "
               "fieldSelector=status.phase!=Failed,spec.nodeName=n1");
  expect_none("verb=list resource=pods fieldSelector=spec.nodeName=n2",
              "can only list/watch pods with spec.nodeName field selector");
  expect_none("verb=list resource=pods fieldSelector=spec.nodeName!=n2",
              "can only list/watch pods with spec.nodeName field selector");
  expect_none("verb=list resource=pods fieldSelector=spec.nodeName=",
              "can only list/watch pods with spec.nodeName field selector");
  /* An unparsable selector has no requirements at all. */
  expect_none("verb=list resource=pods "
              "fieldSelector=spec.nodeName=n1,garbage",
              "can only list/watch pods with spec.nodeName field selector");
  expect_none("verb=list resource=pods fieldSelector=spec.nodeName=n\\1",
              "can only list/watch pods with spec.nodeName field selector");
  /* One pod by name: it must be bound to the node. */
  expect_allow("verb=watch resource=pods namespace=default "
               "fieldSelector=metadata.name=p1");
  expect_none("verb=watch resource=pods namespace=default "
              "fieldSelector=metadata.name=p2",
              NO_REL);
  /* Subresources other than the writes below: no opinion. */
  expect_none("verb=get resource=pods subresource=log namespace=default "
              "name=p1",
              "");
  expect_none("verb=get resource=pods subresource=status namespace=default "
              "name=p1",
              "");
}

static void test_pod_writes(void **state)
{
  (void)state;
  expect_allow("verb=create resource=pods namespace=default");
  expect_allow("verb=delete resource=pods namespace=default name=p1");
  expect_allow("verb=patch resource=pods subresource=status "
               "namespace=default name=p1");
  expect_allow("verb=update resource=pods subresource=status "
               "namespace=default name=p1");
  expect_allow("verb=create resource=pods subresource=eviction "
               "namespace=default name=p1");
  /* Tighter than upstream: another node's pods are refused here. */
  expect_none("verb=delete resource=pods namespace=default name=p2", NO_REL);
  expect_none("verb=patch resource=pods subresource=status "
              "namespace=default name=p2",
              NO_REL);
  expect_none("verb=create resource=pods subresource=eviction "
              "namespace=default name=p2",
              NO_REL);
  /* A pod that does not exist passes, so that the request answers 404. */
  expect_allow("verb=delete resource=pods namespace=default name=gone");
  expect_allow("verb=patch resource=pods subresource=status "
               "namespace=default name=gone");
  expect_none("verb=update resource=pods namespace=default name=p1", "");
  expect_none("verb=patch resource=pods namespace=default name=p1", "");
  expect_none("verb=deletecollection resource=pods namespace=default", "");
  expect_none("verb=create resource=pods subresource=binding "
              "namespace=default name=p1",
              "");
}

/* ---- objects used by pods ------------------------------------------------ */

static void test_secrets_and_configmaps(void **state)
{
  static const char *const secrets[] = {"s1", "pull1", "envsec", "dbgsec",
                                        "projsec", "csisec"};
  static const char *const configmaps[] = {"cm1", "initcm", "projcm"};
  char attrs[256];
  size_t i;

  (void)state;
  for (i = 0; i < sizeof secrets / sizeof *secrets; i++) {
    snprintf(attrs, sizeof attrs,
             "verb=get resource=secrets namespace=default name=%s",
             secrets[i]);
    expect_allow(attrs);
  }
  for (i = 0; i < sizeof configmaps / sizeof *configmaps; i++) {
    snprintf(attrs, sizeof attrs,
             "verb=get resource=configmaps namespace=default name=%s",
             configmaps[i]);
    expect_allow(attrs);
  }
  expect_none("verb=get resource=secrets namespace=default name=s2", NO_REL);
  expect_none("verb=get resource=secrets namespace=default name=mirrorsec",
              NO_REL);
  expect_none("verb=get resource=secrets namespace=default name=pendingsec",
              NO_REL);
  expect_none("verb=get resource=secrets namespace=other name=s1", NO_REL);
  expect_none("verb=get resource=secrets namespace=default name=cm1", NO_REL);
  expect_none("verb=get resource=configmaps namespace=default name=s1",
              NO_REL);
  /* One object may be listed or watched by name. */
  expect_allow("verb=watch resource=secrets namespace=default "
               "fieldSelector=metadata.name=s1");
  expect_allow("verb=list resource=configmaps namespace=default "
               "fieldSelector=metadata.name=cm1");
  expect_none("verb=list resource=secrets namespace=default",
              "No Object name found");
  expect_none("verb=watch resource=secrets namespace=default "
              "fieldSelector=metadata.name=s2",
              NO_REL);
  expect_none("verb=update resource=secrets namespace=default name=s1",
              "can only read resources of this type");
  expect_none("verb=create resource=configmaps namespace=default",
              "can only read resources of this type");
  expect_none("verb=get resource=secrets subresource=x namespace=default "
              "name=s1",
              "cannot read subresource");
  expect_none("verb=list resource=secrets",
              "can only read namespaced object of this type");
}

static void test_claims_and_volumes(void **state)
{
  (void)state;
  expect_allow("verb=get resource=persistentvolumeclaims namespace=default "
               "name=claim1");
  /* A generic ephemeral volume's claim is named <pod>-<volume>. */
  expect_allow("verb=get resource=persistentvolumeclaims namespace=default "
               "name=p1-scratch");
  expect_none("verb=get resource=persistentvolumeclaims namespace=default "
              "name=claim2",
              NO_REL);
  expect_none("verb=list resource=persistentvolumeclaims namespace=default",
              "can only get individual resources of this type");
  expect_allow("verb=patch resource=persistentvolumeclaims subresource=status "
               "namespace=default name=claim1");
  expect_none("verb=patch resource=persistentvolumeclaims "
              "subresource=status namespace=default name=claim2",
              NO_REL);
  expect_none("verb=get resource=persistentvolumeclaims subresource=status "
              "namespace=default name=claim1",
              "can only get/update/patch this type");
  expect_allow("verb=get resource=persistentvolumes name=pv1");
  expect_none("verb=get resource=persistentvolumes name=pv2", NO_REL);
  expect_none("verb=get resource=persistentvolumes name=nope", NO_REL);
  expect_none("verb=get resource=persistentvolumes subresource=status "
              "name=pv1",
              "cannot get subresource");
  expect_allow("verb=get resource=volumeattachments apiGroup=storage.k8s.io "
               "name=va1");
  expect_none("verb=get resource=volumeattachments apiGroup=storage.k8s.io "
              "name=va2",
              NO_REL);
  expect_none("verb=get resource=persistentvolumes", "No Object name found");
}

static void test_service_account_tokens(void **state)
{
  (void)state;
  expect_allow("verb=create resource=serviceaccounts subresource=token "
               "namespace=default name=sa1");
  expect_none("verb=create resource=serviceaccounts subresource=token "
              "namespace=default name=sa2",
              NO_REL);
  expect_none("verb=get resource=serviceaccounts namespace=default name=sa1",
              "can only create tokens for individual service accounts");
  expect_none("verb=create resource=serviceaccounts namespace=default",
              "can only create tokens for individual service accounts");
  expect_none("verb=create resource=serviceaccounts namespace=default "
              "name=sa1",
              "can only create token subresource of serviceaccount");
}

/* ---- leases, CSINodes ---------------------------------------------------- */

static void test_leases(void **state)
{
  (void)state;
  expect_allow("verb=get resource=leases apiGroup=coordination.k8s.io "
               "namespace=kube-node-lease name=n1");
  expect_allow("verb=update resource=leases apiGroup=coordination.k8s.io "
               "namespace=kube-node-lease name=n1");
  expect_allow("verb=delete resource=leases apiGroup=coordination.k8s.io "
               "namespace=kube-node-lease name=n1");
  /* The name of a create is in its body: NodeRestriction checks it. */
  expect_allow("verb=create resource=leases apiGroup=coordination.k8s.io "
               "namespace=kube-node-lease");
  expect_none("verb=update resource=leases apiGroup=coordination.k8s.io "
              "namespace=kube-node-lease name=n2",
              "can only access node lease with the same name as the "
              "requesting node");
  expect_none("verb=get resource=leases apiGroup=coordination.k8s.io "
              "namespace=default name=n1",
              "can only access leases in the \"kube-node-lease\" system "
              "namespace");
  expect_none("verb=list resource=leases apiGroup=coordination.k8s.io "
              "namespace=kube-node-lease",
              "can only get, create, update, patch, or delete a node lease");
}

static void test_csinodes(void **state)
{
  (void)state;
  expect_allow("verb=get resource=csinodes apiGroup=storage.k8s.io name=n1");
  expect_allow("verb=create resource=csinodes apiGroup=storage.k8s.io");
  expect_none("verb=patch resource=csinodes apiGroup=storage.k8s.io name=n2",
              "can only access CSINode with the same name as the requesting "
              "node");
  expect_none("verb=watch resource=csinodes apiGroup=storage.k8s.io",
              "can only get, create, update, patch, or delete a CSINode");
  expect_none("verb=get resource=csinodes subresource=x "
              "apiGroup=storage.k8s.io name=n1",
              "cannot authorize CSINode subresources");
}

/* ---- the static rules, and what is left to RBAC -------------------------- */

static void test_static_rules(void **state)
{
  (void)state;
  expect_allow("verb=create resource=events namespace=default");
  expect_allow("verb=patch resource=events namespace=kube-system name=e");
  expect_allow("verb=list resource=services");
  expect_allow("verb=get resource=endpoints namespace=default name=x");
  expect_allow("verb=create resource=certificatesigningrequests "
               "apiGroup=certificates.k8s.io");
  expect_allow("verb=watch resource=certificatesigningrequests "
               "apiGroup=certificates.k8s.io");
  expect_allow("verb=create resource=tokenreviews "
               "apiGroup=authentication.k8s.io");
  expect_allow("verb=create resource=subjectaccessreviews "
               "apiGroup=authorization.k8s.io");
  expect_allow("verb=get resource=runtimeclasses apiGroup=node.k8s.io "
               "name=x");
  expect_allow("verb=list resource=csidrivers apiGroup=storage.k8s.io");
  expect_none("verb=delete resource=events namespace=default name=e", "");
  expect_none("verb=list resource=events", "");
  expect_none("verb=create resource=services namespace=default", "");
  expect_none("verb=get resource=namespaces name=default", "");
  expect_none("verb=list resource=deployments apiGroup=apps", "");
  expect_none("verb=delete resource=certificatesigningrequests "
              "apiGroup=certificates.k8s.io name=x",
              "");
  /* Events of events.k8s.io are not in the node rules. */
  expect_none("verb=create resource=events apiGroup=events.k8s.io "
              "namespace=default",
              "");
  /* Non-resource URLs are RBAC's. */
  expect_none("verb=get path=/healthz", "");
  expect_none("verb=get path=/api", "");
}

/* A store that cannot be read relates nothing, except for pod writes,
 * which fall back to upstream's allow (NodeRestriction checks them). */
static void test_store_errors(void **state)
{
  (void)state;
  fake_store_fail(-EIO);
  expect_none("verb=get resource=pods namespace=default name=p1", NO_REL);
  expect_none("verb=get resource=secrets namespace=default name=s1", NO_REL);
  expect_none("verb=get resource=persistentvolumes name=pv1", NO_REL);
  expect_allow("verb=delete resource=pods namespace=default name=p1");
  expect_allow("verb=get resource=nodes name=n1");
  fake_store_fail(0);
  expect_allow("verb=get resource=secrets namespace=default name=s1");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_component, setup, teardown),
      cmocka_unit_test_setup_teardown(test_only_nodes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rules_for, setup, teardown),
      cmocka_unit_test_setup_teardown(test_nodes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pod_reads, setup, teardown),
      cmocka_unit_test_setup_teardown(test_pod_writes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_secrets_and_configmaps, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_claims_and_volumes, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_service_account_tokens, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_leases, setup, teardown),
      cmocka_unit_test_setup_teardown(test_csinodes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_static_rules, setup, teardown),
      cmocka_unit_test_setup_teardown(test_store_errors, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
