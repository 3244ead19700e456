/*
 * controllers_flag.c - parsing and applying --controllers, as upstream's
 * GenericControllerManagerConfigurationOptions.Validate and
 * IsControllerEnabled.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controllers_flag.h"

/* Upstream's canonical names (cmd/kube-controller-manager/names) and
 * the short aliases our plugins register under. */
static const struct {
  const char *upstream, *plugin;
} aliases[] = {
    {"replicaset-controller", "replicaset"},
    {"garbage-collector-controller", "garbagecollector"},
    {"namespace-controller", "namespace"},
    {"clusterrole-aggregation-controller", "clusterrole-aggregation"},
    {"resourcequota-controller", "resourcequota"},
    {"deployment-controller", "deployment"},
    {"serviceaccount-controller", "serviceaccount"},
};

const char *kapi_controller_canonical(const char *name)
{
  size_t i;
  for (i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
    if (!strcmp(name, aliases[i].upstream))
      return aliases[i].plugin;
  return name;
}

const char *kapi_controller_component(const char *name, char *buf,
                                      size_t len)
{
  size_t i;
  for (i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
    if (!strcmp(name, aliases[i].plugin)) {
      snprintf(buf, len, "%s", aliases[i].upstream);
      return buf;
    }
  snprintf(buf, len, "%s-controller", name);
  return buf;
}

/* One entry, trimmed and canonicalised, newly allocated. */
static char *canonical_entry(const char *s, size_t n)
{
  char *word, *out;
  int minus;

  while (n && isspace((unsigned char)*s))
    s++, n--;
  while (n && isspace((unsigned char)s[n - 1]))
    n--;
  word = strndup(s, n);
  if (!word)
    return NULL;
  minus = word[0] == '-';
  if (asprintf(&out, "%s%s", minus ? "-" : "",
               kapi_controller_canonical(word + minus)) < 0)
    out = NULL;
  free(word);
  return out;
}

int kapi_controllers_parse(const char *flag, kapi_ctl_selection *sel,
                           char *err, size_t errlen)
{
  const char *p = flag ? flag : "", *end;
  size_t cap = 0;

  memset(sel, 0, sizeof *sel);
  for (;;) {
    char *item;
    end = strchr(p, ',');
    item = canonical_entry(p, end ? (size_t)(end - p) : strlen(p));
    if (!item)
      goto nomem;
    if (!*item) {
      free(item);
    } else if (!strcmp(item, "-") || !strcmp(item, "-*")) {
      snprintf(err, errlen, "invalid --controllers entry %s", item);
      free(item);
      kapi_controllers_free(sel);
      return -EINVAL;
    } else {
      if (sel->n == cap) {
        char **v = realloc(sel->items, (cap = cap ? cap * 2 : 8) * sizeof *v);
        if (!v) {
          free(item);
          goto nomem;
        }
        sel->items = v;
      }
      sel->items[sel->n++] = item;
    }
    if (!end)
      break;
    p = end + 1;
  }
  return 0;
nomem:
  kapi_controllers_free(sel);
  snprintf(err, errlen, "out of memory");
  return -ENOMEM;
}

void kapi_controllers_free(kapi_ctl_selection *sel)
{
  size_t i;
  for (i = 0; i < sel->n; i++)
    free(sel->items[i]);
  free(sel->items);
  sel->items = NULL;
  sel->n = 0;
}

int kapi_controllers_validate(const kapi_ctl_selection *sel,
                              const char *const *known, size_t n,
                              char *err, size_t errlen)
{
  size_t i, j;
  for (i = 0; i < sel->n; i++) {
    const char *name = sel->items[i];
    if (!strcmp(name, "*"))
      continue;
    name += name[0] == '-';
    for (j = 0; j < n && strcmp(known[j], name); j++)
      ;
    if (j == n) {
      snprintf(err, errlen, "\"%s\" is not in the list of known controllers",
               name);
      return -ENOENT;
    }
  }
  return 0;
}

int kapi_controller_enabled(const kapi_ctl_selection *sel, const char *name,
                            int default_on)
{
  int star = 0;
  size_t i;

  for (i = 0; i < sel->n; i++) {
    const char *it = sel->items[i];
    if (!strcmp(it, name))
      return 1;
    if (it[0] == '-' && !strcmp(it + 1, name))
      return 0;
    if (!strcmp(it, "*"))
      star = 1;
  }
  /* No explicit choice: "*" means "the default ones". */
  return star && default_on;
}
