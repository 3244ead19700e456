/*
 * status.h - API errors as upstream's metav1.Status.
 *
 * struct kapi_error is the host side of the opaque error slot handed to
 * plugins; the handler chain turns it into a Status body with the same
 * code, reason, message and details.causes as kube-apiserver.
 */
#ifndef KAPI_STATUS_H
#define KAPI_STATUS_H

#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>

#include "json.h"

struct kapi_error {
  int code;        /* HTTP status; 0 = no error set */
  char reason[48]; /* "NotFound", "Invalid", ... */
  char *message;   /* owned */
  kj *details;     /* owned; NULL or {"name","group","kind","causes":[...]} */
};
typedef struct kapi_error kapi_error;

void kapi_error_init(kapi_error *e);
void kapi_error_clear(kapi_error *e); /* frees, back to "no error" */
int kapi_error_isset(const kapi_error *e);
void kapi_error_setf(kapi_error *e, int code, const char *reason,
                     const char *fmt, ...) KAPI_PRINTF(4, 5);
void kapi_error_vsetf(kapi_error *e, int code, const char *reason,
                      const char *fmt, va_list ap);
/* details.name/.group/.kind (each may be NULL = left unset; copied). */
void kapi_error_details(kapi_error *e, const char *name, const char *group,
                        const char *kind);
void kapi_error_add_cause(kapi_error *e, const char *reason,
                          const char *message, const char *field);

/* Upstream's builders (apimachinery errors.go).  `resource` is the plural,
 * `group` "" for core. */
void kapi_error_not_found(kapi_error *e, const char *group,
                          const char *resource, const char *name);
void kapi_error_already_exists(kapi_error *e, const char *group,
                               const char *resource, const char *name);
/* "Operation cannot be fulfilled on <res> "<name>": <cause>" */
void kapi_error_conflict(kapi_error *e, const char *group,
                         const char *resource, const char *name,
                         const char *cause);
void kapi_error_bad_request(kapi_error *e, const char *fmt, ...)
    KAPI_PRINTF(2, 3);
void kapi_error_internal(kapi_error *e, const char *fmt, ...)
    KAPI_PRINTF(2, 3);
void kapi_error_method_not_allowed(kapi_error *e, const char *verb,
                                   const char *resource);
/*
 * 422 Invalid from a field error list (the array built with
 * kapi_field_error): message "<Kind>[.<group>] "<name>" is invalid: ...".
 */
void kapi_error_invalid(kapi_error *e, const char *group, const char *kind,
                        const char *name, const kj *field_errors);

/* Appends one field error {field, type, badValue, detail} to errs. */
int kapi_field_error(kj *errs, const char *field, const char *type,
                     const char *bad_value_json, const char *detail);

/* The Status object for an error (newly allocated). */
kj *kapi_error_to_status(const kapi_error *e);

#endif
