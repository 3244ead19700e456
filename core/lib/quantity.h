/*
 * quantity.h - resource quantities (apimachinery resource.Quantity) and
 * pod resource requests (component-helpers PodRequests), as the
 * scheduler and the kubelet use them.
 */
#ifndef KAPI_QUANTITY_H
#define KAPI_QUANTITY_H

#include <stdint.h>

#include "json.h"

/* Parses "100m", "1.5", "1Gi", "129e6"...: *ret = ceil(value * 1000).
 * -EINVAL with upstream's message in err (may be NULL) if malformed;
 * -ERANGE on overflow. */
int kapi_quantity_milli(const char *q, int64_t *ret, char *err,
                        size_t errlen);
/* A JSON quantity value (string or number) to milli units. */
int kapi_quantity_milli_json(const kj *v, int64_t *ret);
/* The effective request of a pod for one resource: "cpu" in millicores,
 * "memory" and others in units (ceil of milli/1000).  non_zero adds the
 * scheduler's 100m / 200Mi for containers without cpu/memory requests. */
int64_t kapi_pod_request(const kj *pod, const char *resource, int non_zero);

#endif
