/*
 * static_pods.h - the kubelet's file pod source and its mirror pods
 * (upstream: pkg/kubelet/config/file.go, pkg/kubelet/pod/mirror_client.go).
 *
 * Every Pod manifest in --pod-manifest-path becomes a static pod: the
 * kubelet runs it itself, with no apiserver involved, as a record of
 * the pod workers (pods.c) fed by this source instead of the informer.
 * The apiserver only sees a mirror pod of it: same name and namespace,
 * annotated with the static pod's hash and owned by the Node; the
 * static pod's status is written to it.
 *
 *   manifest files --scan (every --file-check-frequency, and on inotify
 *   events)--> static pods (uid = hash of the manifest) --> pod records
 *   pod informer --mirror pod events--> this source --> create / delete
 *   mirror pods so that each static pod has exactly one, of its hash
 */
#ifndef KAPI_KUBELET_STATIC_PODS_H
#define KAPI_KUBELET_STATIC_PODS_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"

struct kl;
typedef struct kl_static kl_static;

/* Upstream's annotation keys (pkg/kubelet/types). */
#define KL_CONFIG_SOURCE "kubernetes.io/config.source"
#define KL_CONFIG_HASH "kubernetes.io/config.hash"
#define KL_CONFIG_SEEN "kubernetes.io/config.seen"
#define KL_CONFIG_MIRROR "kubernetes.io/config.mirror"

/* The source for k's first node, reading dir (copied) every period_ns.
 * 0 or -errno. */
int kl_static_new(struct kl *k, const char *dir, int64_t period_ns,
                  kl_static **ret);
void kl_static_free(kl_static *s);
/* Its thread (arg: the kl_static): scans, starts and stops static pods,
 * keeps mirror pods in line; returns once the kubelet stops. */
void *kl_static_main(void *arg);

/* Whether an API pod is a mirror pod (config.mirror annotation). */
int kl_static_is_mirror(const kj *pod);
/* Whether a pod record's object came from the file source. */
int kl_static_is_static(const kj *pod);
/* A mirror pod changed or went (from the informer's handlers): wakes
 * the source, and queues the static pod whose status it carries. */
void kl_static_mirror_event(struct kl *k, const kj *mirror);
/*
 * The mirror pod of a static pod as the informer last saw it: its uid
 * into uid, and (when status is not NULL) a copy of its status (kj_free;
 * NULL if none).  -ENOENT when there is no mirror pod of the static
 * pod's hash (not created yet, or being replaced).
 */
int kl_static_mirror_of(struct kl *k, const kj *pod, char *uid, size_t len,
                        kj **status);

#endif
