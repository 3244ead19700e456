/*
 * node_rules.h - the statically defined rules every node holds
 * (upstream's bootstrappolicy.NodeRules()), for the resources the Node
 * authorizer does not subdivide by object.
 */
#ifndef KAPI_NODE_RULES_H
#define KAPI_NODE_RULES_H

/*
 * Whether the rules allow `verb` on group/resource[/subresource] (all
 * borrowed; group "" is core, subresource NULL or "" for none).  Only
 * resource requests: the node rules hold no non-resource URLs.
 */
int node_rules_allow(const char *verb, const char *group,
                     const char *resource, const char *subresource);

#endif
