/*
 * field_selector.h - reading one requirement out of a field selector
 * (upstream's fields.ParseSelector + Selector.RequiresExactMatch).
 *
 * Authorizers see the raw ?fieldSelector= text of a list or watch; the
 * Node authorizer allows a kubelet to list pods only when the selector
 * pins spec.nodeName to itself, and to list or watch a named node,
 * secret or configmap through metadata.name.
 */
#ifndef KAPI_NODE_FIELD_SELECTOR_H
#define KAPI_NODE_FIELD_SELECTOR_H

#include <stddef.h>

/*
 * If `selector` (borrowed; NULL counts as empty) parses and holds a
 * requirement `field=value` or `field==value`, writes the first such
 * value, unescaped, into buf (len bytes) and returns 1.  Returns 0 when
 * there is none, when the selector does not parse (as upstream, which
 * then sees no requirements at all) or when the value does not fit.
 */
int field_selector_value(const char *selector, const char *field, char *buf,
                         size_t len);

#endif
