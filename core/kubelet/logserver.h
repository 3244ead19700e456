/*
 * logserver.h - the kubelet's HTTP server (upstream pkg/kubelet/server),
 * here only GET /containerLogs/{namespace}/{pod}/{container} with the
 * PodLogOptions query (follow, tailLines, timestamps, previous,
 * sinceSeconds, limitBytes), answered from the CRI-format log files the
 * runtime writes under --root-dir.  The apiserver's pods/log proxies
 * here.
 */
#ifndef KAPI_KUBELET_LOGSERVER_H
#define KAPI_KUBELET_LOGSERVER_H

#include <stddef.h>
#include <stdint.h>

typedef struct kl kl;
typedef struct kl_logserver kl_logserver;

/* Listens on address:port (port 0: any free one) with k borrowed (it
 * must outlive the server).  *ret owned by the caller; 0 or -errno with
 * err filled. */
int kl_logserver_start(kl *k, const char *address, int port,
                       kl_logserver **ret, char *err, size_t errlen);
/* The bound port. */
int kl_logserver_port(const kl_logserver *s);
/* Ends every stream and frees s (NULL is fine). */
void kl_logserver_stop(kl_logserver *s);

/*
 * One CRI log record "<time> <stream> <F|P> <text>" parsed in place:
 * ts and ts_len get the timestamp, text and text_len the text, full 1
 * for an F record.
 * 0, or -EINVAL for a malformed line.
 */
int kl_cri_parse(const char *line, size_t len, const char **ts,
                 size_t *ts_len, const char **text, size_t *text_len,
                 int *full);
/* RFC3339 time with optional fraction and Z to Unix ns; -EINVAL. */
int kl_parse_rfc3339_ns(const char *s, size_t len, int64_t *ns);

#endif
