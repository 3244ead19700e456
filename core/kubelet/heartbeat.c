/*
 * heartbeat.c - node registration, node status and the node Lease
 * (pkg/kubelet/kubelet_node_status.go registerWithAPIServer /
 * updateNodeStatus, pkg/kubelet/nodelease).
 *
 * Each heartbeat thread serves every step-th node.  A node registers
 * (POST; on AlreadyExists it adopts the existing object and reconciles
 * its labels), then every --node-status-update-frequency its status is
 * merge-patched on nodes/NAME/status with fresh heartbeat times and its
 * Lease in kube-node-lease renewed with a PUT.  Hollow nodes' beats are
 * spread over the period so that a thousand nodes do not beat at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet.h"
#include "log.h"
#include "nodestatus.h"

#define RETRY_NS KL_NS_PER_S

static const kapi_gvr nodes_gvr = {"", "v1", "nodes", 0};
static const kapi_gvr leases_gvr = {"coordination.k8s.io", "v1", "leases", 1};

static void node_spec(kl *k, kl_node *n, kl_node_spec *s)
{
  memset(s, 0, sizeof *s);
  s->name = n->name;
  s->internal_ip = n->internal_ip;
  s->hostname = n->name;
  s->runtime = k->opt.runtime;
  s->cpu_milli = k->opt.cpu_milli ? k->opt.cpu_milli : k->machine.cpu_milli;
  s->memory_bytes =
      k->opt.memory_bytes ? k->opt.memory_bytes : k->machine.memory_bytes;
  s->ephemeral_bytes = k->machine.ephemeral_bytes;
  s->max_pods = k->opt.max_pods ? k->opt.max_pods : 110;
  s->machine = &k->machine;
  s->kubelet_port = k->kubelet_port;
}

static void remember_uid(kl_node *n, const kj *node)
{
  const char *uid = kj_str(kj_ptr(node, "/metadata/uid"));
  if (uid)
    snprintf(n->uid, sizeof n->uid, "%s", uid);
}

/* An existing Node of our name: ours from a previous run.  Its labels
 * are reconciled (upstream's reconcileExtendedResource/updateDefaultLabels). */
static int adopt(kl *k, kl_node *n, const kj *wanted)
{
  kapi_result res;
  kj *patch = kj_object(), *ret = NULL;
  char *body;
  int rc;
  kj_set(kj_child_object(patch, "metadata"), "labels",
         kj_clone(kj_ptr(wanted, "/metadata/labels")));
  body = kj_dump(patch, NULL);
  kj_free(patch);
  rc = body ? kapi_client_patch(k->client, &nodes_gvr, NULL, n->name, NULL,
                                "application/merge-patch+json", body, &ret,
                                &res)
            : -ENOMEM;
  free(body);
  if (rc == 0)
    remember_uid(n, ret);
  else
    LOG_WARN("cannot reconcile node %s: %s", n->name,
             rc == -ENOMEM ? "out of memory" : res.message);
  kj_free(ret);
  return rc;
}

static int register_node(kl *k, kl_node *n, int64_t now)
{
  kl_node_spec s;
  kapi_result res;
  kj *obj, *ret = NULL;
  int rc;

  node_spec(k, n, &s);
  obj = kl_node_object(&s, now / KL_NS_PER_S);
  if (!obj)
    return -ENOMEM;
  rc = kapi_client_create(k->client, &nodes_gvr, NULL, obj, &ret, &res);
  if (rc == 0) {
    remember_uid(n, ret);
    LOG_INFO("Successfully registered node node=\"%s\"", n->name);
  } else if (rc == -EEXIST) {
    rc = adopt(k, n, obj);
    if (rc == 0)
      LOG_INFO("Node was previously registered node=\"%s\"", n->name);
  } else {
    LOG_WARN("Unable to register node with API server node=\"%s\": %s",
             n->name, res.message);
  }
  kj_free(ret);
  if (rc == 0) {
    kj_free(n->last_status);
    n->last_status = kj_clone(kj_get(obj, "status"));
    n->registered = 1;
  }
  kj_free(obj);
  return rc;
}

static int update_status(kl *k, kl_node *n, int64_t now)
{
  kl_node_spec s;
  kapi_result res;
  kj *st, *patch;
  char *body;
  int rc;

  node_spec(k, n, &s);
  st = kl_node_status(&s, n->last_status, now / KL_NS_PER_S);
  patch = kj_object();
  kj_set(patch, "status", kj_clone(st));
  body = kj_dump(patch, NULL);
  kj_free(patch);
  rc = body ? kapi_client_patch(k->client, &nodes_gvr, NULL, n->name,
                                "status", "application/merge-patch+json",
                                body, NULL, &res)
            : -ENOMEM;
  free(body);
  if (rc == 0) {
    kj_free(n->last_status);
    n->last_status = st;
    return 0;
  }
  kj_free(st);
  if (rc == -ENOENT) {
    LOG_WARN("node %s was deleted: registering it again", n->name);
    n->registered = 0;
  } else {
    LOG_WARN("Error updating node status node=\"%s\": %s", n->name,
             rc == -ENOMEM ? "out of memory" : res.message);
  }
  return rc;
}

/* nodelease controller: create the Lease, or renew the one last seen;
 * a conflict means someone else wrote it: re-read and try once more. */
static int renew_lease(kl *k, kl_node *n, int64_t now)
{
  int attempt;
  for (attempt = 0; attempt < 2; attempt++) {
    kapi_result res;
    kj *ret = NULL, *l;
    char buf[48];
    int rc;

    if (!n->lease) {
      rc = kapi_client_get(k->client, &leases_gvr, KL_LEASE_NAMESPACE,
                           n->name, &ret, &res);
      if (rc == -ENOENT) {
        l = kl_lease_object(n->name, n->uid, now);
        rc = kapi_client_create(k->client, &leases_gvr, KL_LEASE_NAMESPACE,
                                l, &ret, &res);
        kj_free(l);
        if (rc == 0) {
          n->lease = ret;
          return 0;
        }
      }
      if (rc < 0) {
        kj_free(ret);
        LOG_WARN("failed to ensure lease exists, will retry: node=\"%s\": %s",
                 n->name, res.message);
        return rc;
      }
      n->lease = ret;
      ret = NULL;
    }
    l = kj_clone(n->lease);
    kl_micro_time(now, buf, sizeof buf);
    kj_set_str(kj_child_object(l, "spec"), "renewTime", buf);
    kj_set_str(kj_child_object(l, "spec"), "holderIdentity", n->name);
    kj_set_int(kj_child_object(l, "spec"), "leaseDurationSeconds",
               KL_LEASE_DURATION_S);
    rc = kapi_client_update(k->client, &leases_gvr, KL_LEASE_NAMESPACE, l,
                            NULL, &ret, &res);
    kj_free(l);
    if (rc == 0) {
      kj_free(n->lease);
      n->lease = ret;
      return 0;
    }
    kj_free(ret);
    kj_free(n->lease);
    n->lease = NULL;
    if (rc != -EBUSY && rc != -ENOENT) {
      LOG_WARN("failed to update lease node=\"%s\": %s", n->name,
               res.message);
      return rc;
    }
  }
  return -EBUSY;
}

/* Where in the period a node beats: spread pseudo-randomly. */
static int64_t phase_of(const kl_node *n, int64_t period)
{
  return (int64_t)((n->index * 7919u) % 1000) * (period / 1000);
}

static void beat(kl *k, kl_node *n, int64_t now)
{
  int64_t period = k->opt.status_period_ns;
  if (!n->registered) {
    if (register_node(k, n, now) < 0) {
      n->next_beat_ns = now + RETRY_NS;
      return;
    }
    /* An adopted Node may carry an old status: replace it now. */
    update_status(k, n, now);
    renew_lease(k, n, now);
    n->next_beat_ns = now + period / 2 + phase_of(n, period) / 2;
    return;
  }
  update_status(k, n, now);
  renew_lease(k, n, now);
  n->next_beat_ns += period;
  if (n->next_beat_ns <= now)
    n->next_beat_ns = now + period;
}

void *kl_heartbeat_main(void *arg)
{
  kl_heartbeat *hb = arg;
  kl *k = hb->k;
  int64_t wait = 0;

  while (!kl_sleep(k, wait)) {
    int64_t now = kl_now_ns(), earliest = now + KL_NS_PER_S;
    size_t i;
    for (i = hb->first; i < k->n_nodes && !k->stopping; i += hb->step) {
      kl_node *n = &k->node[i];
      if (!n->registered || now >= n->next_beat_ns)
        beat(k, n, kl_now_ns());
      if (n->next_beat_ns < earliest)
        earliest = n->next_beat_ns;
    }
    wait = earliest - kl_now_ns();
    if (wait < 0)
      wait = 0;
  }
  return NULL;
}
