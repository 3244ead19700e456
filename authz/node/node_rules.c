/*
 * node_rules.c - the static node rules (see node_rules.h).
 *
 * Upstream's NodeRules() (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/
 * policy.go) with its feature gates at their current defaults, minus the
 * rules for resources the authorizer decides per object before it gets
 * here (nodes, pods and their subresources, secrets, configmaps, PVCs,
 * PVs, volume attachments, service account tokens, leases, CSINodes).
 * Matching follows rbac.RulesAllow: the verb, the group and
 * "resource" or "resource/subresource" must each be listed.
 */
#include <stdio.h>
#include <string.h>

#include "node_rules.h"

typedef struct node_rule {
  const char *const *verbs;
  const char *group;
  const char *const *resources;
} node_rule;

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

static const node_rule rules[] = {
    /* Needed to check API access; these creates do not mutate. */
    {LIST("create"), "authentication.k8s.io", LIST("tokenreviews")},
    {LIST("create"), "authorization.k8s.io",
     LIST("subjectaccessreviews", "localsubjectaccessreviews")},
    /* Services, for the environment variables of pods. */
    {LIST("get", "list", "watch"), "", LIST("services")},
    /* Events about the node and its pods, in any namespace. */
    {LIST("create", "update", "patch"), "", LIST("events")},
    /* Endpoints, for glusterfs volumes. */
    {LIST("get"), "", LIST("endpoints")},
    /* Client certificate rotation. */
    {LIST("create", "get", "list", "watch"), "certificates.k8s.io",
     LIST("certificatesigningrequests")},
    /* CSI drivers and runtime classes. */
    {LIST("get", "watch", "list"), "storage.k8s.io", LIST("csidrivers")},
    {LIST("get", "list", "watch"), "node.k8s.io", LIST("runtimeclasses")},
};

static int listed(const char *const *list, const char *s)
{
  for (; *list; list++)
    if (!strcmp(*list, s))
      return 1;
  return 0;
}

int node_rules_allow(const char *verb, const char *group,
                     const char *resource, const char *subresource)
{
  char combined[256];
  size_t i;

  if (!verb || !resource)
    return 0;
  if (!group)
    group = "";
  if (subresource && *subresource)
    snprintf(combined, sizeof combined, "%s/%s", resource, subresource);
  else
    snprintf(combined, sizeof combined, "%s", resource);
  for (i = 0; i < sizeof rules / sizeof *rules; i++)
    if (listed(rules[i].verbs, verb) && !strcmp(rules[i].group, group) &&
        listed(rules[i].resources, combined))
      return 1;
  return 0;
}
