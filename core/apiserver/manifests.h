/*
 * manifests.h - the auto-deploying manifests directory of the API server
 * (k3s's /var/lib/rancher/k3s/server/manifests): every manifest under a
 * directory is applied when the server starts and again when its file
 * changes; objects whose file or document disappears are deleted.
 *
 * Ownership: each object applied gets the annotation
 * KAPI_MANIFEST_SOURCE_ANNOTATION, the path of its file relative to the
 * directory.  Only objects carrying it, with the path of a file that is
 * gone or no longer holds them, are ever deleted.  What was applied is
 * also recorded in a state file (in the data directory) so that files
 * removed while the server was down are cleaned up at the next start.
 */
#ifndef KAPI_MANIFESTS_H
#define KAPI_MANIFESTS_H

#define KAPI_MANIFEST_SOURCE_ANNOTATION "kapi.io/manifest-source"
#define KAPI_MANIFEST_FIELD_MANAGER "kapi-manifests"
#define KAPI_MANIFEST_DEFAULT_RESYNC_S 60

typedef struct kapi_manifests kapi_manifests;

typedef struct kapi_manifests_options {
  const char *dir;        /* the manifests directory */
  const char *state_file; /* JSON record of what was applied */
  /* How to reach this server: its URL and the loopback token; the TLS
   * trust as kapi_client_config's ca_file / insecure. */
  const char *server;
  const char *token;
  const char *ca_file;
  int insecure;
  int resync_s; /* full resync period in seconds; 0 = 60 */
} kapi_manifests_options;

/* Starts the thread that applies and watches the directory (strings in
 * o copied).  *ret owned by the caller (kapi_manifests_stop).  -errno,
 * with the reason logged. */
int kapi_manifests_start(const kapi_manifests_options *o,
                         kapi_manifests **ret);
/* Stops the thread (waiting for a request in flight) and frees m;
 * NULL is a no-op. */
void kapi_manifests_stop(kapi_manifests *m);

#endif
