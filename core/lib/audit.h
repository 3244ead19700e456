/*
 * audit.h - the audit log: upstream's audit.k8s.io/v1 Event, one JSON
 * object per line, with levels chosen by an audit Policy file
 * (--audit-policy-file, --audit-log-path).
 */
#ifndef KAPI_AUDIT_H
#define KAPI_AUDIT_H

#include <stddef.h>
#include <time.h>

#include "json.h"
#include "request.h"

typedef struct kapi_audit kapi_audit;
struct kapi_response;

/* Upstream's audit levels, in order. */
typedef enum kapi_audit_level {
  KAPI_AUDIT_NONE = 0,
  KAPI_AUDIT_METADATA = 1,
  KAPI_AUDIT_REQUEST = 2,
  KAPI_AUDIT_REQUEST_RESPONSE = 3,
} kapi_audit_level;

/*
 * Reads the Policy (audit.k8s.io/v1, YAML; path borrowed) and opens the
 * log (appended to; "-" is standard output).  *ret is owned by the
 * caller (kapi_audit_close).  0 or -errno with err filled.
 */
int kapi_audit_open(const char *policy_path, const char *log_path,
                    kapi_audit **ret, char *err, size_t errlen);
void kapi_audit_close(kapi_audit *a);

/* Policy from an already parsed document (borrowed), for tests. */
int kapi_audit_policy_parse(const kj *doc, kapi_audit **ret, char *err,
                            size_t errlen);
/* The level (and, in *omit_received, whether RequestReceived is left
 * out) the policy gives a request. */
kapi_audit_level kapi_audit_level_of(const kapi_audit *a, const kapi_req *r,
                                     int *omit_received);

/*
 * The Events of one finished request (borrowed): RequestReceived (unless
 * omitted) and ResponseComplete, as policy chooses.  received is when
 * the request arrived (CLOCK_REALTIME).  Thread-safe.  Returns the
 * ResponseComplete event in *ret when ret is non-NULL (caller frees;
 * for tests), else writes the lines.
 */
void kapi_audit_record(kapi_audit *a, const kapi_req *r,
                       const struct kapi_response *resp,
                       const struct timespec *received, kj **ret);
#endif
