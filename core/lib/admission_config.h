/*
 * admission_config.h - which admission plugins run, in which order, and
 * with what configuration, as kube-apiserver decides it:
 * --enable-admission-plugins / --disable-admission-plugins against the
 * default-enabled set, upstream's recommended order, and the
 * AdmissionConfiguration file (--admission-control-config-file).
 */
#ifndef KAPI_ADMISSION_CONFIG_H
#define KAPI_ADMISSION_CONFIG_H

#include <stddef.h>

#include "json.h"
#include "plugin_loader.h"

/*
 * The admission chain for kapi_plugins_assemble: upstream's plugins that
 * are registered and enabled (default-enabled ones unless disabled, the
 * others when enabled), in upstream's recommended order; components
 * upstream does not know (third-party plugins: loading them is the
 * opt-in) are enabled unless disabled and run where webhooks run, after
 * the built-in mutating plugins and before ResourceQuota, in their
 * current chain order (ps assembled once without an admission order).
 * enable and disable: comma-separated lists, may be NULL (borrowed).
 * *ret: a NULL-terminated vector of names borrowed from ps; free the
 * vector only.  Returns 0 or -errno with err filled (an unknown name, a
 * name enabled but not loaded, a name both enabled and disabled).
 */
int kapi_admission_select(const kapi_plugins *ps, const char *enable,
                          const char *disable, const char ***ret, char *err,
                          size_t errlen);

/*
 * Reads an AdmissionConfiguration (apiserver.config.k8s.io/v1, YAML or
 * JSON; path borrowed) into cfg["admissionConfiguration"][<plugin name>]
 * = its configuration, taken inline or from the entry's `path` (relative
 * to the file's directory).  The plugin loader hands each plugin the
 * entry whose name matches its descriptor name.  0 or -errno, err filled.
 */
int kapi_admission_config_read(const char *path, kj *cfg, char *err,
                               size_t errlen);
#endif
