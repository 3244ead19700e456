/*
 * leaderelection.h - leader election on coordination.k8s.io/v1 Leases
 * (client-go tools/leaderelection): acquire or renew the Lease every
 * retry period; the holder that fails to renew within the renew deadline
 * stops leading; others take over when the lease duration has passed
 * since the last renewal they observed.
 */
#ifndef KAPI_LEADERELECTION_H
#define KAPI_LEADERELECTION_H

#include "client.h"

typedef struct kapi_leader_config {
  const char *ns;        /* "kube-system" */
  const char *name;      /* the Lease: "kube-scheduler" */
  const char *identity;  /* holderIdentity: "<hostname>_<uuid>" */
  int lease_seconds;     /* 0 = 15 */
  int renew_deadline_seconds; /* 0 = 10 */
  int retry_seconds;     /* 0 = 2 */
  /* Called on the elector's thread: started once leading (must return
   * promptly: start threads there), stopped when leadership is lost or
   * the election ends. */
  void (*on_started)(void *arg);
  void (*on_stopped)(void *arg);
  void *arg;
} kapi_leader_config;

/* Runs the election until *stop becomes non-zero (checked every retry
 * period) or leadership is lost.  Returns 0 when stopped, -ECONNABORTED
 * when leadership was lost (upstream's components exit then). On stop a
 * leader releases the Lease (holderIdentity cleared). */
int kapi_leader_run(kapi_client *c, const kapi_leader_config *cfg,
                    volatile int *stop);

#endif
