/*
 * registry_util.h - helpers shared by the registry plugins (configmap,
 * secret, serviceaccount).
 *
 * Plugins are built like third-party ones, from one .c file against
 * <kapi/plugin.h> and libc only, so what they share cannot live in a
 * library: it lives here, as static functions every plugin compiles into
 * itself.  Include it by relative path ("../common/registry_util.h") so
 * that the one-line build
 * `cc -std=c11 -shared -fPIC -fvisibility=hidden -I include -o X.so X.c`
 * still works.  `static inline` keeps the helpers a plugin does not use
 * from warning.
 *
 * The header owns the plugin's global `api` (the host API table);
 * reg_register() sets it.
 */
#ifndef KAPI_REGISTRY_UTIL_H
#define KAPI_REGISTRY_UTIL_H

#include <stdio.h>
#include <string.h>

#include "kapi/plugin.h"

#define CONFIG_KEY_MAX 253 /* DNS1123SubdomainMaxLength */
#define IMMUTABLE_MSG "field is immutable when `immutable` is set"

/* The table columns every resource prints, with upstream's
 * descriptions (ObjectMeta.name, ObjectMeta.creationTimestamp). */
#define REG_NAME_COLUMN                                                      \
  {"Name", "string", "name",                                                 \
   "Name must be unique within a namespace. Is required when creating "      \
   "resources, although some resources may allow a client to request the "  \
   "generation of an appropriate name automatically. Name is primarily "     \
   "intended for creation idempotence and configuration definition. "        \
   "Cannot be updated. More info: https://kubernetes.io/docs/concepts/"      \
   "overview/working-with-objects/names#names",                              \
   0}
#define REG_AGE_COLUMN                                                       \
  {"Age", "string", "",                                                      \
   "CreationTimestamp is a timestamp representing the server time when "     \
   "this object was created. It is not guaranteed to be set in "             \
   "happens-before order across separate operations. Clients may not set "   \
   "this value. It is represented in RFC3339 form and is in UTC.\n\n"        \
   "Populated by the system. Read-only. Null for lists. More info: "         \
   "https://git.k8s.io/community/contributors/devel/sig-architecture/"       \
   "api-conventions.md#metadata",                                            \
   0}

static const kapi_host_api *api;

/* ---- reading objects ---------------------------------------------------- */

/* The string at JSON pointer `ptr` of `o`, or NULL (absent, not a
 * string); borrowed from `o`. */
static inline const char *str_at(const kapi_obj *o, const char *ptr)
{
  const kapi_obj *v = api->obj_lookup(o, ptr);
  return api->obj_type(v) == KAPI_OBJ_STRING ? api->obj_get(v, "") : NULL;
}

static inline const char *or_empty(const char *s)
{
  return s ? s : "";
}

/* Is the value at `ptr` the boolean true? */
static inline int is_true(const kapi_obj *o, const char *ptr)
{
  const kapi_obj *v = api->obj_lookup(o, ptr);
  return api->obj_type(v) == KAPI_OBJ_BOOL &&
         strcmp(api->obj_get(v, ""), "true") == 0;
}

/* The members of the object at `ptr` (0 for anything else). */
static inline size_t map_len(const kapi_obj *o, const char *ptr)
{
  const kapi_obj *v = api->obj_lookup(o, ptr);
  return api->obj_type(v) == KAPI_OBJ_OBJECT ? api->obj_len(v) : 0;
}

/* `s` as a JSON string into buf (the bad value of a field error). */
static inline void json_quote(const char *s, char *buf, size_t len)
{
  size_t o = 0;
  if (len < 3) {
    buf[0] = '\0';
    return;
  }
  buf[o++] = '"';
  for (; *s && o + 8 < len; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      buf[o++] = '\\';
      buf[o++] = (char)c;
    } else if (c < 0x20) {
      o += (size_t)snprintf(buf + o, len - o, "\\u%04x", c);
    } else {
      buf[o++] = (char)c;
    }
  }
  buf[o++] = '"';
  buf[o] = '\0';
}

/* reflect.DeepEqual of two string maps, whatever the key order; an
 * absent map equals only an absent one. */
static inline int same_map(const kapi_obj *a, const kapi_obj *b)
{
  size_t i, j;
  if (api->obj_type(a) != api->obj_type(b))
    return 0;
  if (api->obj_type(a) != KAPI_OBJ_OBJECT)
    return 1;
  if (api->obj_len(a) != api->obj_len(b))
    return 0;
  for (i = 0; i < api->obj_len(a); i++) {
    const char *k = api->obj_key(a, i);
    for (j = 0; j < api->obj_len(b); j++)
      if (strcmp(api->obj_key(b, j), k) == 0)
        break;
    if (j == api->obj_len(b) ||
        strcmp(or_empty(api->obj_get(api->obj_index(a, i), "")),
               or_empty(api->obj_get(api->obj_index(b, j), ""))))
      return 0;
  }
  return 1;
}

/* ---- validation ----------------------------------------------------------- */

static inline int config_key_char_ok(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

/* validation.IsConfigMapKey: one field error per message, on
 * "<bag>[<key>]"; the number of errors added. */
static inline int check_config_key(kapi_obj *errs, const char *bag,
                                   const char *key)
{
  char field[600], bad[1200];
  const char *p;
  int ok = *key != '\0', n = 0;

  snprintf(field, sizeof field, "%s[%s]", bag, key);
  json_quote(key, bad, sizeof bad);
  for (p = key; *p; p++)
    if (!config_key_char_ok(*p))
      ok = 0;
  if (strlen(key) > CONFIG_KEY_MAX)
    n += api->field_error(errs, field, "FieldValueInvalid", bad,
                          "must be no more than 253 characters") == 0;
  if (!ok)
    n += api->field_error(
             errs, field, "FieldValueInvalid", bad,
             "a valid config key must consist of alphanumeric characters, "
             "'-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or "
             "'key-name', regex used for validation is '[-._a-zA-Z0-9]+')") ==
         0;
  if (strcmp(key, ".") == 0)
    n += api->field_error(errs, field, "FieldValueInvalid", bad,
                          "must not be '.'") == 0;
  else if (strcmp(key, "..") == 0)
    n += api->field_error(errs, field, "FieldValueInvalid", bad,
                          "must not be '..'") == 0;
  else if (strncmp(key, "..", 2) == 0)
    n += api->field_error(errs, field, "FieldValueInvalid", bad,
                          "must not start with '..'") == 0;
  return n;
}

/* ---- tables --------------------------------------------------------------- */

/* The AGE cell of `o` at `now` into age ("<unknown>" without a valid
 * creationTimestamp). */
static inline void format_age_of(const kapi_obj *o, int64_t now, char *age,
                                 size_t len)
{
  const char *created = str_at(o, "/metadata/creationTimestamp");
  if (!created || !*created || api->format_age(created, now, age, len) < 0)
    snprintf(age, len, "<unknown>");
}

/* ---- registration ------------------------------------------------------- */

/* The whole init of a plugin serving one resource without state. */
static inline int reg_register(kapi_plugin *self, const kapi_host_api *host,
                               const kapi_resource_ops *ops)
{
  api = host;
  return api->register_resource(self, ops, NULL);
}

#endif /* KAPI_REGISTRY_UTIL_H */
