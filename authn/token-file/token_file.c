/*
 * token_file.c - the static token file authenticator.
 *
 * Upstream: staging/src/k8s.io/apiserver/pkg/authentication/token/
 * tokenfile and request/bearertoken (kube-apiserver --token-auth-file).
 * The file is CSV: token,user,uid[,"group1,group2"]; lines starting with
 * '#' are comments; a record needs at least 3 columns.  A request whose
 * "Authorization: Bearer X" names a known token is that user; any other
 * request is not ours (the union then tries the next authenticator).
 *
 * Configuration: {"path": FILE}.  Without a path the plugin registers
 * nothing, so it can be installed by default.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "kapi/plugin.h"

static const kapi_host_api *api;

typedef struct token_user {
  char *token, *name, *uid;
  char **groups;
  size_t ngroups;
} token_user;

typedef struct token_table {
  token_user *users;
  size_t n;
} token_table;

static token_table *table; /* owned; freed by fini */
static kapi_plugin *plugin; /* for api->log */

/* ------------------------------------------------------------------ */
/* CSV: one record at a time, as Go's encoding/csv with               */
/* TrimLeadingSpace, Comment '#' and any number of fields.             */
/* ------------------------------------------------------------------ */

typedef struct csv {
  const char *p, *end;
  char **fields;
  size_t n, cap;
} csv;

static void csv_clear(csv *c)
{
  for (size_t i = 0; i < c->n; i++)
    free(c->fields[i]);
  c->n = 0;
}

static int csv_push(csv *c, const char *s, size_t len)
{
  char *f;

  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 8;
    char **v = realloc(c->fields, cap * sizeof *v);
    if (!v)
      return -ENOMEM;
    c->fields = v;
    c->cap = cap;
  }
  f = malloc(len + 1);
  if (!f)
    return -ENOMEM;
  memcpy(f, s, len);
  f[len] = '\0';
  c->fields[c->n++] = f;
  return 0;
}

/* A quoted field: "" is a quote; newlines may be inside.  The text is
 * unescaped into buf (at least as long as the remaining input). */
static int csv_quoted(csv *c, char *buf, size_t *len)
{
  *len = 0;
  c->p++;
  for (;;) {
    if (c->p >= c->end)
      return -EINVAL;
    if (*c->p == '"') {
      if (c->p + 1 < c->end && c->p[1] == '"') {
        buf[(*len)++] = '"';
        c->p += 2;
        continue;
      }
      c->p++;
      return 0;
    }
    buf[(*len)++] = *c->p++;
  }
}

/* Reads the next record into c->fields; 1 when read, 0 at the end, <0
 * on a malformed record. */
static int csv_next(csv *c, char *buf)
{
  csv_clear(c);
  /* Blank lines and comments are skipped between records. */
  while (c->p < c->end && (*c->p == '\n' || *c->p == '\r' || *c->p == '#')) {
    if (*c->p == '#')
      while (c->p < c->end && *c->p != '\n')
        c->p++;
    else
      c->p++;
  }
  if (c->p >= c->end)
    return 0;
  for (;;) {
    size_t len = 0;
    int rc;

    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
      c->p++;
    if (c->p < c->end && *c->p == '"') {
      if (csv_quoted(c, buf, &len) < 0)
        return -EINVAL;
      if (c->p < c->end && !strchr(",\r\n", *c->p))
        return -EINVAL; /* text after the closing quote */
      rc = csv_push(c, buf, len);
    } else {
      const char *start = c->p;
      while (c->p < c->end && !strchr(",\r\n", *c->p))
        c->p++;
      len = (size_t)(c->p - start);
      rc = csv_push(c, start, len);
    }
    if (rc < 0)
      return rc;
    if (c->p < c->end && *c->p == ',') {
      c->p++;
      continue;
    }
    if (c->p < c->end && *c->p == '\r')
      c->p++;
    if (c->p < c->end && *c->p == '\n')
      c->p++;
    return 1;
  }
}

/* ------------------------------------------------------------------ */
/* The token table.                                                    */
/* ------------------------------------------------------------------ */

/* strndup is POSIX, not C11: plugins build with -std=c11. */
static char *dup_n(const char *s, size_t len)
{
  char *d = malloc(len + 1);

  if (d) {
    memcpy(d, s, len);
    d[len] = '\0';
  }
  return d;
}

static void table_free(token_table *t)
{
  if (!t)
    return;
  for (size_t i = 0; i < t->n; i++) {
    token_user *u = &t->users[i];
    free(u->token);
    free(u->name);
    free(u->uid);
    for (size_t j = 0; j < u->ngroups; j++)
      free(u->groups[j]);
    free(u->groups);
  }
  free(t->users);
  free(t);
}

static token_user *table_find(const token_table *t, const char *token)
{
  for (size_t i = 0; i < t->n; i++)
    if (!strcmp(t->users[i].token, token))
      return &t->users[i];
  return NULL;
}

/* Splits "a,b" into u->groups (upstream: strings.Split, no trimming;
 * empty names are dropped since they name no group). */
static int split_groups(token_user *u, const char *s)
{
  size_t n = 1;

  for (const char *p = s; *p; p++)
    n += *p == ',';
  u->groups = calloc(n, sizeof *u->groups);
  if (!u->groups)
    return -ENOMEM;
  while (*s) {
    size_t len = strcspn(s, ",");
    if (len) {
      u->groups[u->ngroups] = dup_n(s, len);
      if (!u->groups[u->ngroups++])
        return -ENOMEM;
    }
    s += len + (s[len] == ',');
  }
  return 0;
}

/* Adds one record; later duplicates replace earlier ones, as upstream's
 * map does (with a warning). */
static int table_add(token_table *t, csv *c, size_t record, const char *path)
{
  token_user *u, *old;

  if (!*c->fields[0]) {
    api->log(plugin, KAPI_LOG_WARNING,
             "empty token has been found in token file '%s', record "
             "number '%zu'", path, record);
    return 0;
  }
  old = table_find(t, c->fields[0]);
  if (old)
    api->log(plugin, KAPI_LOG_WARNING,
             "duplicate token has been found in token file '%s', record "
             "number '%zu'", path, record);
  u = realloc(t->users, (t->n + 1) * sizeof *u);
  if (!u)
    return -ENOMEM;
  t->users = u;
  u = &t->users[t->n++];
  memset(u, 0, sizeof *u);
  u->token = dup_n(c->fields[0], strlen(c->fields[0]));
  u->name = dup_n(c->fields[1], strlen(c->fields[1]));
  u->uid = dup_n(c->fields[2], strlen(c->fields[2]));
  if (!u->token || !u->name || !u->uid)
    return -ENOMEM;
  if (c->n >= 4 && split_groups(u, c->fields[3]) < 0)
    return -ENOMEM;
  if (old)
    old->token[0] = '\0'; /* never matches: tokens are non-empty */
  return 0;
}

static char *read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t cap = 0, n;

  *len = 0;
  if (!f)
    return NULL;
  do {
    if (*len + 4096 > cap) {
      char *b = realloc(buf, cap = cap ? cap * 2 : 8192);
      if (!b) {
        free(buf);
        fclose(f);
        errno = ENOMEM;
        return NULL;
      }
      buf = b;
    }
    n = fread(buf + *len, 1, cap - *len, f);
    *len += n;
  } while (n > 0);
  if (ferror(f)) {
    free(buf);
    fclose(f);
    errno = EIO;
    return NULL;
  }
  fclose(f);
  return buf;
}

static int table_load(const char *path, token_table **out, kapi_error *e)
{
  size_t len, record = 0;
  char *text = read_file(path, &len), *buf = NULL;
  token_table *t = calloc(1, sizeof *t);
  csv c = {0};
  int rc = 0, reported = 0;

  if (!text) {
    rc = -errno;
    api->error_set(e, 500, "InternalError",
                   "failed to read token file '%s': %s", path, strerror(-rc));
    free(t);
    return rc;
  }
  buf = malloc(len + 1);
  if (!t || !buf)
    rc = -ENOMEM;
  c.p = text;
  c.end = text + len;
  while (rc == 0 && (rc = csv_next(&c, buf)) == 1) {
    record++;
    rc = 0;
    if (c.n < 3) {
      api->error_set(e, 500, "InternalError",
                     "token file '%s' must have at least 3 columns (token, "
                     "user name, unique user ID), found %zu", path, c.n);
      rc = -EINVAL;
      reported = 1;
      break;
    }
    rc = table_add(t, &c, record, path);
  }
  if (rc == -ENOMEM)
    api->error_set(e, 500, "InternalError", "token file '%s': %s", path,
                   strerror(ENOMEM));
  else if (rc < 0 && !reported)
    api->error_set(e, 500, "InternalError",
                   "token file '%s': record %zu: malformed CSV", path,
                   record + 1);
  csv_clear(&c);
  free(c.fields);
  free(buf);
  free(text);
  if (rc < 0) {
    table_free(t);
    return rc;
  }
  *out = t;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Authentication.                                                     */
/* ------------------------------------------------------------------ */

/* The token of "Authorization: Bearer X" (upstream's bearertoken:
 * trimmed, two space-separated parts, case-insensitive scheme), copied
 * into buf; NULL when the header is absent or not a bearer token. */
static const char *bearer_token(const kapi_req *r, char *buf, size_t size)
{
  const char *h = api->req_header(r, "Authorization"), *tok;
  size_t len;

  if (!h)
    return NULL;
  while (*h == ' ' || *h == '\t')
    h++;
  if (strncasecmp(h, "bearer ", 7))
    return NULL;
  tok = h + 7;
  len = strlen(tok);
  while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
    len--;
  if (!len || len >= size || memchr(tok, ' ', len))
    return NULL;
  memcpy(buf, tok, len);
  buf[len] = '\0';
  return buf;
}

static int fill_user(const token_user *u, kapi_obj *user)
{
  int rc = api->obj_set_str(user, "/username", u->name);

  if (rc == 0)
    rc = api->obj_set_str(user, "/uid", u->uid);
  if (rc == 0)
    rc = api->obj_set_json(user, "/groups", "[]");
  for (size_t i = 0; rc == 0 && i < u->ngroups; i++)
    rc = api->obj_append_str(user, "/groups", u->groups[i]);
  return rc;
}

static int token_file_authenticate(void *st, const kapi_req *r,
                                   kapi_obj *user, kapi_error *e)
{
  const token_table *t = st;
  const token_user *u;
  char buf[4096];
  const char *token = bearer_token(r, buf, sizeof buf);
  int rc;

  if (!token)
    return 0;
  u = table_find(t, token);
  if (!u)
    return 0;
  rc = fill_user(u, user);
  if (rc < 0) {
    api->error_set(e, 500, "InternalError",
                   "Internal error occurred: token user: %s", strerror(-rc));
    return rc;
  }
  return 1;
}

/* ------------------------------------------------------------------ */
/* Configuration: the host parses the JSON text (obj_parse, ABI 1.2);  */
/* the plugin only reads the one key from the value.                   */
/* ------------------------------------------------------------------ */

/* Reads "path" from the configuration object into *path (NULL when
 * absent, or when there is no configuration: no text or a JSON null;
 * caller frees).  Returns 0, -EINVAL when the text is not an object or
 * "path" is not a string, or -ENOMEM. */
static int config_path(const char *json, size_t len, char **path)
{
  kapi_obj *cfg = NULL;
  const char *s = NULL;
  int rc = 0;

  *path = NULL;
  if (!json || !len)
    return 0;
  if (api->obj_parse(json, len, &cfg, NULL) < 0)
    return -EINVAL;
  if (api->obj_type(cfg) == KAPI_OBJ_OBJECT) {
    const kapi_obj *v = api->obj_lookup(cfg, "/path");
    if (v && api->obj_type(v) != KAPI_OBJ_STRING)
      rc = -EINVAL;
    else if (v)
      s = api->obj_get(v, "");
  } else if (api->obj_type(cfg) != KAPI_OBJ_NULL) {
    rc = -EINVAL;
  }
  /* Copied: the value is freed with the parsed configuration. */
  if (s && !(*path = dup_n(s, strlen(s))))
    rc = -ENOMEM;
  api->obj_free(cfg);
  return rc;
}

static const kapi_authn_ops token_file_ops = {
    .size = sizeof(kapi_authn_ops),
    .authenticate = token_file_authenticate,
};

static int token_file_init(kapi_plugin *self, const kapi_host_api *host,
                           const char *config, size_t config_len,
                           kapi_error *e)
{
  static const kapi_order order = {.priority = KAPI_ORDER_MIDDLE};
  char *path;
  token_table *t = NULL;
  int rc;

  api = host;
  plugin = self;
  /* Plugins load only into hosts of their ABI minor or newer, but the
   * ABI asks to test members newer than 1.0 all the same. */
  if (config && config_len && !KAPI_API_HAS(api, obj_parse)) {
    api->error_set(e, 500, "InternalError",
                   "token-file needs a host API of ABI 1.2 (obj_parse) to "
                   "read its configuration");
    return -ENOTSUP;
  }
  rc = config_path(config, config_len, &path);
  if (rc == -ENOMEM) {
    api->error_set(e, 500, "InternalError", "token-file: %s",
                   strerror(ENOMEM));
    return rc;
  }
  if (rc < 0) {
    api->error_set(e, 500, "InternalError",
                   "invalid configuration: expected {\"path\": \"FILE\"}");
    return -EINVAL;
  }
  if (!path || !*path) {
    free(path);
    return 0;
  }
  rc = table_load(path, &t, e);
  free(path);
  if (rc < 0)
    return rc;
  rc = api->register_authn(self, "token-file", &token_file_ops, t, &order);
  if (rc < 0) {
    table_free(t);
    return rc;
  }
  table = t;
  return 0;
}

static void token_file_fini(kapi_plugin *self)
{
  (void)self;
  table_free(table);
  table = NULL;
}

KAPI_PLUGIN_DEFINE(.name = "token-file", .version = "0.1.0",
                   .description = "static token file authenticator "
                                  "(--token-auth-file)",
                   .license = "Apache-2.0", .init = token_file_init,
                   .fini = token_file_fini);
