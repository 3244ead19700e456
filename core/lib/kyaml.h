/*
 * kyaml.h - YAML (libyaml) to the JSON document model: kubeconfigs,
 * KubeSchedulerConfiguration, manifests.  Plain scalars are typed as
 * YAML 1.1 core schema does for Kubernetes (true/false, null/~, ints,
 * floats; quoted scalars are strings); anchors and aliases are expanded.
 */
#ifndef KAPI_KYAML_H
#define KAPI_KYAML_H

#include <stddef.h>

#include "json.h"

/* Parses every document of a stream.  *ret_docs is a newly allocated
 * array of *ret_n documents (kj_free each, then free the array); empty
 * documents are skipped.  -EINVAL with err ("line 3, column 5: ...") on a
 * syntax error. */
int kapi_yaml_parse(const char *buf, size_t len, kj ***ret_docs,
                    size_t *ret_n, char *err, size_t errlen);
/* The first document only (or -ENOENT if none). */
int kapi_yaml_parse_one(const char *buf, size_t len, kj **ret, char *err,
                        size_t errlen);
/* Reads and parses a file's first document. */
int kapi_yaml_read_file(const char *path, kj **ret, char *err, size_t errlen);

#endif
