/*
 * controllers_flag.h - kube-controller-manager's --controllers flag.
 *
 * A comma-separated list: "*" turns on every controller that is on by
 * default, "foo" turns foo on, "-foo" turns it off; the first entry that
 * names a controller decides (upstream's IsControllerEnabled).  Names are
 * the plugin's controller names ("replicaset") or upstream's canonical
 * ones ("replicaset-controller", "garbage-collector-controller"), which
 * are folded to the former when parsed.
 */
#ifndef KAPI_CONTROLLERS_FLAG_H
#define KAPI_CONTROLLERS_FLAG_H

#include <stddef.h>

typedef struct kapi_ctl_selection {
  char **items; /* owned; "*", "name" or "-name", names canonical */
  size_t n;
} kapi_ctl_selection;

/* The flag's default: every default-on controller. */
#define KAPI_CONTROLLERS_DEFAULT "*"

/* Splits and canonicalises `flag` (borrowed) into *sel (free with
 * kapi_controllers_free).  Empty entries and surrounding blanks are
 * dropped.  0, or -EINVAL with err filled ("-" alone, "-*"). */
int kapi_controllers_parse(const char *flag, kapi_ctl_selection *sel,
                           char *err, size_t errlen);
void kapi_controllers_free(kapi_ctl_selection *sel);

/* Every named entry must be one of `known` (n names, borrowed):
 * 0, or -ENOENT and err = "\"foo\" is not in the list of known
 * controllers". */
int kapi_controllers_validate(const kapi_ctl_selection *sel,
                              const char *const *known, size_t n,
                              char *err, size_t errlen);

/* Is controller `name` on?  `default_on` says whether "*" covers it. */
int kapi_controller_enabled(const kapi_ctl_selection *sel, const char *name,
                            int default_on);

/* The plugin name of an upstream controller name ("namespace-controller"
 * -> "namespace"); other names come back as they are.  Borrowed. */
const char *kapi_controller_canonical(const char *name);

/* The event source component of a controller ("replicaset" ->
 * "replicaset-controller"), written into buf. */
const char *kapi_controller_component(const char *name, char *buf,
                                      size_t len);

#endif
