/*
 * backoff.h - per-key exponential back-off (client-go util/flowcontrol
 * Backoff), as the kubelet uses it for CrashLoopBackOff: 10 s doubling to
 * 300 s, forgotten after 2 x max (10 min) without an update.
 *
 * Times are passed in (Unix ns), never read from a clock, so sequences
 * are computed in tests rather than timed.  Thread-safe.
 */
#ifndef KAPI_KUBELET_BACKOFF_H
#define KAPI_KUBELET_BACKOFF_H

#include <stddef.h>
#include <stdint.h>

#define KL_NS_PER_S 1000000000LL
#define KL_BACKOFF_INITIAL (10 * KL_NS_PER_S)  /* kubelet backOffPeriod */
#define KL_BACKOFF_MAX (300 * KL_NS_PER_S)     /* MaxContainerBackOff */

typedef struct kl_backoff kl_backoff;

/* NULL when out of memory. */
kl_backoff *kl_backoff_new(int64_t initial_ns, int64_t max_ns);
void kl_backoff_free(kl_backoff *b); /* NULL is fine */

/* The current back-off of key, 0 if it has none (Backoff.Get). */
int64_t kl_backoff_get(kl_backoff *b, const char *key);
/*
 * Backoff.Next: starts key at the initial duration (if it has no entry,
 * or if event_ns is more than 2 x max after its last update), else
 * doubles it up to max; the last update becomes now_ns.  0 or -ENOMEM.
 */
int kl_backoff_next(kl_backoff *b, const char *key, int64_t event_ns,
                    int64_t now_ns);
/* Backoff.IsInBackOffSince: true while now_ns - event_ns is shorter than
 * key's back-off (and the entry has not expired relative to event_ns). */
int kl_backoff_in_backoff_since(kl_backoff *b, const char *key,
                                int64_t event_ns, int64_t now_ns);
/* Backoff.GC: drops entries not updated for 2 x max. */
void kl_backoff_gc(kl_backoff *b, int64_t now_ns);
void kl_backoff_reset(kl_backoff *b, const char *key);
size_t kl_backoff_len(kl_backoff *b);

/* Go's time.Duration.String() of d: "10s", "1m20s", "5m0s", "1.5s",
 * "250ms", "0s".  Writes at most len bytes (NUL included). */
void kl_format_duration(int64_t d_ns, char *buf, size_t len);

/* Parses a Go duration ("10s", "1m30s", "500ms", "1h"); a bare number
 * is seconds.  0 and *ret, or -EINVAL. */
int kl_parse_duration(const char *s, int64_t *ret);

#endif
