/*
 * selector.h - label and field selectors (apimachinery labels/fields).
 *
 * Label selectors: comma-separated requirements, ANDed: `k`, `!k`, `k=v`,
 * `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k>N`, `k<N`.
 * Field selectors: comma-separated `path=value`, `path==value`,
 * `path!=value`, with `\` escaping `,`, `=` and `\` in values.
 * Parse errors carry upstream's messages (the caller answers 400).
 */
#ifndef KAPI_SELECTOR_H
#define KAPI_SELECTOR_H

#include <stddef.h>

#include "json.h"

typedef struct kapi_label_selector kapi_label_selector;
typedef struct kapi_field_selector kapi_field_selector;

/* Parses `text` (NULL or "" selects everything).  *ret is owned by the
 * caller.  On error: -EINVAL and a message in err. */
int kapi_label_selector_parse(const char *text, kapi_label_selector **ret,
                              char *err, size_t errlen);
/* Builds a selector from a metav1.LabelSelector object (matchLabels,
 * matchExpressions).  A NULL object selects nothing, {} everything. */
int kapi_label_selector_from_object(const kj *sel, kapi_label_selector **ret,
                                    char *err, size_t errlen);
/* 1 if `labels` (an object of string values, or NULL) matches. */
int kapi_label_selector_matches(const kapi_label_selector *s,
                                const kj *labels);
int kapi_label_selector_empty(const kapi_label_selector *s);
/* Canonical string form (sorted by key), newly allocated. */
char *kapi_label_selector_string(const kapi_label_selector *s);
void kapi_label_selector_free(kapi_label_selector *s);

int kapi_field_selector_parse(const char *text, kapi_field_selector **ret,
                              char *err, size_t errlen);
size_t kapi_field_selector_count(const kapi_field_selector *s);
/* The field (left-hand side) of term i; borrowed. */
const char *kapi_field_selector_field(const kapi_field_selector *s,
                                      size_t i);
/* Value of the field given by `lookup` (NULL counts as ""). */
typedef const char *(*kapi_field_lookup_fn)(const char *field, void *arg);
int kapi_field_selector_matches(const kapi_field_selector *s,
                                kapi_field_lookup_fn lookup, void *arg);
/* If the selector has a term `field=value` (or ==), its value; else NULL.
 * Borrowed. */
const char *kapi_field_selector_requires(const kapi_field_selector *s,
                                         const char *field);
void kapi_field_selector_free(kapi_field_selector *s);

#endif
