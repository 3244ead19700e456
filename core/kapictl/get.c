/*
 * get.c - `kapictl get TYPE [NAME...]` (kubectl get).
 *
 * The default and -o wide print the server's Table (Accept: as=Table):
 * the columns and cells are the server's, laid out as kubectl's tab
 * writer does (upper-case headers, columns padded to their widest cell
 * plus three spaces, the last one unpadded), priority 0 columns only
 * unless wide, NAMESPACE first with -A.  -o json|yaml|name print the
 * objects (several as a List).  -w then streams changes: Table rows, or
 * objects with -o json|yaml.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define TABLE_ACCEPT                                                    \
  "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"

typedef struct get_ctx {
  kc_ctx *ctx;
  const kc_flags *f;
  kc_errors e;
  int with_ns;      /* NAMESPACE column (-A on a namespaced type) */
  int wide;
  char kind[256];   /* "configmap/" before names when several types show */
  /* the table so far: columns of the first answer, rows of all */
  kj *columns;      /* owned; the columnDefinitions */
  kj *rows;         /* owned array */
  size_t *widths;   /* per visible column, after layout */
  size_t nvisible;
} get_ctx;

/* ---- requests -------------------------------------------------------------- */

typedef struct buf {
  char *s;
  size_t len;
} buf;

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
  buf *b = arg;
  size_t len = size * n;
  char *p = realloc(b->s, b->len + len + 1);

  if (!p)
    return 0;
  memcpy(p + b->len, data, len);
  b->len += len;
  p[b->len] = '\0';
  b->s = p;
  return len;
}

/* Fills res from a failed answer as the REST client would. */
static void result_of(kapi_result *res, long code, const char *body,
                      size_t len, const char *transport)
{
  kj *st = NULL;
  char err[128];

  memset(res, 0, sizeof *res);
  res->code = (int)code;
  if (!code) {
    snprintf(res->message, sizeof res->message, "%s", transport);
    return;
  }
  if (len && kj_parse(body, len, &st, err, sizeof err) == 0 &&
      kj_get_str(st, "kind") && !strcmp(kj_get_str(st, "kind"), "Status")) {
    snprintf(res->reason, sizeof res->reason, "%s",
             kj_get_str(st, "reason") ? kj_get_str(st, "reason") : "");
    snprintf(res->message, sizeof res->message, "%s",
             kj_get_str(st, "message") ? kj_get_str(st, "message") : "");
  } else {
    snprintf(res->message, sizeof res->message,
             "the server responded with the status code %ld", code);
  }
  kj_free(st);
}

/* The path of a type, optionally an object, with a query. */
static char *type_path(const kapi_mapping *m, const char *ns,
                       const char *name, const char *query)
{
  char *esc_ns = ns ? curl_easy_escape(NULL, ns, 0) : NULL;
  char *esc_name = name ? curl_easy_escape(NULL, name, 0) : NULL;
  char *path = NULL;

  if (asprintf(&path, "%s%s%s%s%s%s/%s%s%s%s",
               m->group && *m->group ? "/apis/" : "/api",
               m->group && *m->group ? m->group : "", "/", m->version,
               m->namespaced && esc_ns ? "/namespaces/" : "",
               m->namespaced && esc_ns ? esc_ns : "", m->resource,
               esc_name ? "/" : "", esc_name ? esc_name : "",
               query ? query : "") < 0)
    path = NULL;
  curl_free(esc_ns);
  curl_free(esc_name);
  return path;
}

/* GET a Table.  0 with *ret, or -errno with res filled. */
static int get_table(kc_ctx *ctx, const char *path, kj **ret,
                     kapi_result *res)
{
  struct curl_slist *hs = NULL;
  CURL *h = kc_curl(ctx, path, TABLE_ACCEPT, &hs);
  char errbuf[CURL_ERROR_SIZE] = "", perr[128];
  buf b = {0};
  long code = 0;
  CURLcode cc;
  int r;

  *ret = NULL;
  if (!h) {
    result_of(res, 0, NULL, 0, "out of memory");
    return -ENOMEM;
  }
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  cc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(h);
  curl_slist_free_all(hs);
  if (cc != CURLE_OK) {
    char msg[CURL_ERROR_SIZE + 64];
    snprintf(msg, sizeof msg, "Get \"%s%s\": %s",
             kapi_client_server(ctx->client), path,
             errbuf[0] ? errbuf : curl_easy_strerror(cc));
    result_of(res, 0, NULL, 0, msg);
    free(b.s);
    return -EIO;
  }
  if (code < 200 || code >= 300) {
    result_of(res, code, b.s, b.len, NULL);
    free(b.s);
    return code == 404 ? -ENOENT : -EIO;
  }
  r = kj_parse(b.s ? b.s : "", b.len, ret, perr, sizeof perr);
  free(b.s);
  if (r < 0) {
    result_of(res, 0, NULL, 0, perr);
    return -EIO;
  }
  return 0;
}

/* ---- the table ------------------------------------------------------------- */

static int column_visible(const get_ctx *g, const kj *col)
{
  int64_t prio = 0;

  kj_to_int(kj_get(col, "priority"), &prio);
  return prio == 0 || g->wide;
}

/* A cell as kubectl prints it. */
static void cell_text(const kj *c, char *out, size_t len)
{
  if (!c || c->type == KJ_NULL)
    snprintf(out, len, "<none>");
  else if (c->type == KJ_STRING || c->type == KJ_NUMBER)
    snprintf(out, len, "%s", c->u.str.s);
  else if (c->type == KJ_BOOL)
    snprintf(out, len, "%s", c->u.boolean ? "true" : "false");
  else {
    char *s = kj_dump(c, NULL);
    snprintf(out, len, "%s", s ? s : "");
    free(s);
  }
}

/* Cell i of a row; the name column gets the kind prefix if any. */
static void row_cell(const get_ctx *g, const kj *row, size_t i, char *out,
                     size_t len)
{
  const char *fmt = kj_get_str(kj_at(g->columns, i), "format");
  size_t n;

  if (g->kind[0] && fmt && !strcmp(fmt, "name")) {
    n = (size_t)snprintf(out, len, "%s", g->kind);
    if (n < len)
      cell_text(kj_at(kj_get(row, "cells"), i), out + n, len - n);
    return;
  }
  cell_text(kj_at(kj_get(row, "cells"), i), out, len);
}

static const char *row_namespace(const kj *row)
{
  const char *ns = kj_get_str(kj_get(kj_get(row, "object"), "metadata"),
                              "namespace");
  return ns ? ns : "";
}

/* Takes the rows (and, first time, the columns) of a Table answer. */
static int add_table(get_ctx *g, kj *table)
{
  kj *rows = kj_get(table, "rows");
  size_t i;

  if (!g->columns && kj_len(kj_get(table, "columnDefinitions")) > 0) {
    g->columns = kj_clone(kj_get(table, "columnDefinitions"));
    if (!g->columns)
      return -ENOMEM;
  }
  if (!g->rows && !(g->rows = kj_array()))
    return -ENOMEM;
  for (i = 0; i < kj_len(rows); i++)
    if (kj_append(g->rows, kj_clone(kj_at(rows, i))) < 0)
      return -ENOMEM;
  return 0;
}

/* Widths of the visible columns over headers and the rows so far. */
static int layout(get_ctx *g)
{
  size_t ncols = kj_len(g->columns), i, j, v;
  char cell[1024];

  free(g->widths);
  g->nvisible = (size_t)g->with_ns;
  for (i = 0; i < ncols; i++)
    g->nvisible += column_visible(g, kj_at(g->columns, i));
  if (!(g->widths = calloc(g->nvisible ? g->nvisible : 1, sizeof *g->widths)))
    return -ENOMEM;
  v = 0;
  if (g->with_ns)
    g->widths[v++] = strlen("NAMESPACE");
  for (i = 0; i < ncols; i++)
    if (column_visible(g, kj_at(g->columns, i)))
      g->widths[v++] = strlen(kj_get_str(kj_at(g->columns, i), "name")
                                  ? kj_get_str(kj_at(g->columns, i), "name")
                                  : "");
  for (j = 0; j < kj_len(g->rows); j++) {
    const kj *row = kj_at(g->rows, j);
    v = 0;
    if (g->with_ns) {
      size_t w = strlen(row_namespace(row));
      if (w > g->widths[v])
        g->widths[v] = w;
      v++;
    }
    for (i = 0; i < ncols; i++) {
      if (!column_visible(g, kj_at(g->columns, i)))
        continue;
      row_cell(g, row, i, cell, sizeof cell);
      if (strlen(cell) > g->widths[v])
        g->widths[v] = strlen(cell);
      v++;
    }
  }
  return 0;
}

/* One line: cells padded to the widths + 3, the last as it is. */
static void print_line(get_ctx *g, const char *const *cells, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++) {
    if (i + 1 < n)
      printf("%-*s", (int)(g->widths[i] + 3), cells[i]);
    else
      printf("%s\n", cells[i]);
  }
}

static void print_header(get_ctx *g)
{
  const char **cells = calloc(g->nvisible + 1, sizeof *cells);
  char **upper = calloc(g->nvisible + 1, sizeof *upper);
  size_t i, v = 0, ncols = kj_len(g->columns);

  if (!cells || !upper)
    goto out;
  if (g->with_ns)
    cells[v++] = "NAMESPACE";
  for (i = 0; i < ncols; i++) {
    const char *name = kj_get_str(kj_at(g->columns, i), "name");
    char *p;
    if (!column_visible(g, kj_at(g->columns, i)))
      continue;
    if (!(upper[v] = strdup(name ? name : "")))
      goto out;
    for (p = upper[v]; *p; p++)
      if (*p >= 'a' && *p <= 'z')
        *p = (char)(*p - 'a' + 'A');
    cells[v] = upper[v];
    v++;
  }
  print_line(g, cells, v);
out:
  for (i = 0; upper && i < g->nvisible; i++)
    free(upper[i]);
  free(upper);
  free(cells);
}

static void print_row(get_ctx *g, const kj *row)
{
  size_t ncols = kj_len(g->columns), i, v = 0;
  char **text = calloc(g->nvisible + 1, sizeof *text);
  char cell[1024];

  if (!text)
    return;
  if (g->with_ns)
    text[v++] = strdup(row_namespace(row));
  for (i = 0; i < ncols; i++) {
    if (!column_visible(g, kj_at(g->columns, i)))
      continue;
    row_cell(g, row, i, cell, sizeof cell);
    text[v++] = strdup(cell);
  }
  for (i = 0; i < v; i++)
    if (!text[i])
      text[i] = strdup("");
  print_line(g, (const char *const *)text, v);
  for (i = 0; i < v; i++)
    free(text[i]);
  free(text);
}

static void print_table(get_ctx *g)
{
  size_t i;

  if (!g->columns || layout(g) < 0)
    return;
  if (!g->f->no_headers)
    print_header(g);
  for (i = 0; i < kj_len(g->rows); i++)
    print_row(g, kj_at(g->rows, i));
  fflush(stdout);
}

static void no_resources(const get_ctx *g, const kapi_mapping *m)
{
  if (m->namespaced && !g->f->all_namespaces)
    fprintf(stderr, "No resources found in %s namespace.\n",
            g->ctx->namespace_);
  else
    fprintf(stderr, "No resources found\n");
}

/* ---- watch ------------------------------------------------------------------- */

typedef struct watch_ctx {
  get_ctx *g;
  CURL *h;
  buf line;  /* an event not complete yet, or an error answer */
  int failed;
} watch_ctx;

static void watch_event(watch_ctx *w, const char *s, size_t n)
{
  kj *ev = NULL, *obj;
  const char *type;
  char err[128];
  size_t i;

  if (n == 0 || kj_parse(s, n, &ev, err, sizeof err) < 0)
    return;
  type = kj_get_str(ev, "type");
  obj = kj_get(ev, "object");
  if (type && !strcmp(type, "ERROR")) {
    kapi_result res;
    char *body = kj_dump(obj, NULL);
    result_of(&res, 500, body, body ? strlen(body) : 0, NULL);
    fprintf(stderr, "Error from server (%s): %s\n", res.reason, res.message);
    free(body);
    w->failed = 1;
  } else if (type && strcmp(type, "BOOKMARK")) {
    get_ctx *g = w->g;
    if (!g->widths) {
      /* Nothing was printed yet: this event's rows come with the header
       * (and, if the list had none, the columns). */
      kj_free(g->rows);
      g->rows = NULL;
      add_table(g, obj);
      print_table(g);
    } else {
      const kj *rows = kj_get(obj, "rows");
      for (i = 0; i < kj_len(rows); i++)
        print_row(g, kj_at(rows, i));
    }
    fflush(stdout);
  }
  kj_free(ev);
}

static size_t watch_body(char *data, size_t size, size_t n, void *arg)
{
  watch_ctx *w = arg;
  size_t len = size * n, i, start = 0;
  long code = 0;

  /* An error answer is one Status, not events: keep it whole. */
  curl_easy_getinfo(w->h, CURLINFO_RESPONSE_CODE, &code);
  if (code < 200 || code >= 300)
    return collect(data, size, n, &w->line);

  for (i = 0; i < len; i++) {
    if (data[i] != '\n')
      continue;
    if (w->line.len) {
      if (collect(data + start, 1, i - start, &w->line) != i - start)
        return 0;
      watch_event(w, w->line.s, w->line.len);
      w->line.len = 0;
    } else {
      watch_event(w, data + start, i - start);
    }
    start = i + 1;
  }
  if (start < len && collect(data + start, 1, len - start, &w->line) !=
                         len - start)
    return 0;
  return len;
}

/* Streams Table rows from rv on until the server ends the watch. */
static int watch_table(get_ctx *g, const kapi_mapping *m, const char *ns,
                       const char *name, const char *rv)
{
  struct curl_slist *hs = NULL;
  char *sel = g->f->selector ? curl_easy_escape(NULL, g->f->selector, 0)
                             : NULL;
  char *fsel = name ? curl_easy_escape(NULL, name, 0) : NULL;
  char *query = NULL, *path = NULL;
  watch_ctx w = {g, NULL, {0}, 0};
  CURL *h = NULL;
  long code = 0;
  int rc = 1;

  if (asprintf(&query, "?watch=1&resourceVersion=%s%s%s%s%s", rv ? rv : "",
               sel ? "&labelSelector=" : "", sel ? sel : "",
               fsel ? "&fieldSelector=metadata.name%3D" : "",
               fsel ? fsel : "") < 0)
    query = NULL;
  if (!query || !(path = type_path(m, ns, NULL, query)) ||
      !(h = kc_curl(g->ctx, path, TABLE_ACCEPT, &hs))) {
    kc_fail("out of memory");
    goto out;
  }
  w.h = h;
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, watch_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &w);
  if (curl_easy_perform(h) == CURLE_OK) {
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    rc = code >= 200 && code < 300 && !w.failed ? 0 : 1;
    if (code < 200 || code >= 300) {
      kapi_errlist errs = {0};
      kapi_result res;
      result_of(&res, code, w.line.s, w.line.len, NULL);
      kc_server_error(NULL, &errs, &res, -EIO, NULL, NULL);
      kc_report(NULL, &errs);
    }
  }
out:
  if (h)
    curl_easy_cleanup(h);
  curl_slist_free_all(hs);
  curl_free(sel);
  curl_free(fsel);
  free(query);
  free(path);
  free(w.line.s);
  return rc;
}

/* ---- objects (-o json|yaml|name) ------------------------------------------------ */

typedef struct obj_watch {
  const kc_flags *f;
  const kapi_mapping *m;
} obj_watch;

static void print_object(const kc_flags *f, const kapi_mapping *m,
                         const kj *obj)
{
  char kind[256];

  if (!strcmp(f->output, "json")) {
    kc_print_json(stdout, obj);
  } else if (!strcmp(f->output, "yaml")) {
    kc_print_yaml(stdout, obj);
  } else {
    kc_kind_name(m, kind, sizeof kind);
    printf("%s/%s\n", kind,
           kj_get_str(kj_get(obj, "metadata"), "name")
               ? kj_get_str(kj_get(obj, "metadata"), "name")
               : "");
  }
  fflush(stdout);
}

static int on_object_event(void *arg, const char *type, const kj *obj)
{
  obj_watch *ow = arg;

  if (!strcmp(type, "BOOKMARK"))
    return 0;
  if (!strcmp(ow->f->output, "yaml"))
    printf("---\n");
  print_object(ow->f, ow->m, obj);
  return 0;
}

/* List items carry no kind: kubectl's List shows them with theirs. */
static void set_kind(kj *obj, const kapi_mapping *m)
{
  char gv[300];

  snprintf(gv, sizeof gv, "%s%s%s", m->group && *m->group ? m->group : "",
           m->group && *m->group ? "/" : "", m->version);
  if (!kj_get(obj, "apiVersion"))
    kj_set_str(obj, "apiVersion", gv);
  if (!kj_get(obj, "kind"))
    kj_set_str(obj, "kind", m->kind);
}

static int get_objects(get_ctx *g, kc_target *t, size_t nt,
                       kapi_errlist *errs)
{
  const kc_flags *f = g->f;
  const char *ns = f->all_namespaces ? NULL : g->ctx->namespace_;
  kj *items = kj_array(), *got = NULL, *list;
  kapi_result res;
  kapi_info info;
  size_t i, j;
  int r, single = nt == 1 && t[0].name;
  char *rv = NULL;

  if (!items)
    return -ENOMEM;
  for (i = 0; i < nt; i++) {
    if (t[i].name) {
      memset(&info, 0, sizeof info);
      info.mapping = t[i].m;
      info.namespace_ = g->ctx->namespace_;
      info.name = t[i].name;
      r = kapi_helper_get(g->ctx->client, &info, &got, &res);
      if (r < 0) {
        kc_server_error(&g->e, errs, &res, r, NULL, NULL);
        continue;
      }
      set_kind(got, &t[i].m);
      /* A watch of this object goes on from here. */
      free(rv);
      rv = kj_get_str(kj_get(got, "metadata"), "resourceVersion")
               ? strdup(kj_get_str(kj_get(got, "metadata"), "resourceVersion"))
               : NULL;
      kj_append(items, got);
      continue;
    }
    r = kapi_helper_list(g->ctx->client, &t[i].m, ns, f->selector, &list,
                         &res);
    if (r < 0) {
      kc_server_error(&g->e, errs, &res, r, NULL, NULL);
      continue;
    }
    free(rv);
    rv = kj_get_str(kj_get(list, "metadata"), "resourceVersion")
             ? strdup(kj_get_str(kj_get(list, "metadata"), "resourceVersion"))
             : NULL;
    for (j = 0; j < kj_len(kj_get(list, "items")); j++) {
      kj *it = kj_clone(kj_at(kj_get(list, "items"), j));
      set_kind(it, &t[i].m);
      kj_append(items, it);
    }
    kj_free(list);
  }
  if (single && kj_len(items) == 1) {
    print_object(f, &t[0].m, kj_at(items, 0));
  } else if (!strcmp(f->output, "name")) {
    for (i = 0; i < kj_len(items); i++)
      print_object(f, &t[0].m, kj_at(items, i));
  } else if (!single) {
    kj *l = kc_as_list(items);
    items = NULL;
    if (l)
      print_object(f, &t[0].m, l);
    kj_free(l);
  }
  kj_free(items);
  if (f->watch && errs->n == 0) {
    kapi_gvr gvr = kapi_mapping_gvr(&t[0].m);
    kapi_list_opts o = {0};
    obj_watch ow = {f, &t[0].m};
    char fsel[512];
    o.label_selector = f->selector;
    o.resource_version = rv;
    if (t[0].name) {
      snprintf(fsel, sizeof fsel, "metadata.name=%s", t[0].name);
      o.field_selector = fsel;
    }
    r = kapi_client_watch(g->ctx->client, &gvr, t[0].m.namespaced ? ns : NULL,
                          &o, on_object_event, &ow, NULL, &res);
    if (r < 0)
      kc_server_error(&g->e, errs, &res, r, NULL, NULL);
  }
  free(rv);
  return 0;
}

/* ---- tables ------------------------------------------------------------------------ */

static int same_type(const kapi_mapping *a, const kapi_mapping *b)
{
  return !strcmp(a->group, b->group) && !strcmp(a->resource, b->resource);
}

/* Fetches and prints the table of targets t[0..n) (one type). */
static void type_table(get_ctx *g, kc_target *t, size_t n, const char *query,
                       char **rv, kapi_errlist *errs)
{
  const char *ns = g->f->all_namespaces ? NULL : g->ctx->namespace_;
  kapi_result res;
  kj *table;
  char *path;
  size_t i;

  kj_free(g->columns);
  kj_free(g->rows);
  g->columns = g->rows = NULL;
  g->with_ns = g->f->all_namespaces && t[0].m.namespaced;
  for (i = 0; i < n; i++) {
    path = type_path(&t[i].m, t[i].name ? g->ctx->namespace_ : ns, t[i].name,
                     t[i].name ? NULL : query);
    if (!path || get_table(g->ctx, path, &table, &res) < 0) {
      if (path)
        kc_server_error(&g->e, errs, &res, -EIO, NULL, NULL);
      free(path);
      continue;
    }
    free(path);
    {
      /* Where a watch goes on from: the list's version, or the object's
       * (a Table of one object carries it too). */
      const char *v = kj_get_str(kj_get(table, "metadata"),
                                 "resourceVersion");
      if (!v)
        v = kj_get_str(kj_get(kj_get(kj_at(kj_get(table, "rows"), 0),
                                     "object"), "metadata"),
                       "resourceVersion");
      free(*rv);
      *rv = v ? strdup(v) : NULL;
    }
    add_table(g, table);
    kj_free(table);
  }
}

static int get_tables(get_ctx *g, kc_target *t, size_t nt, kapi_errlist *errs)
{
  const kc_flags *f = g->f;
  char *query = NULL, *sel, *rv = NULL;
  size_t i, start, printed = 0;
  int several = 0, r = 0;

  for (i = 1; i < nt; i++)
    several |= !same_type(&t[i].m, &t[0].m);
  sel = f->selector ? curl_easy_escape(NULL, f->selector, 0) : NULL;
  if (sel && asprintf(&query, "?labelSelector=%s", sel) < 0)
    query = NULL;
  curl_free(sel);
  /* One table per type, in the order given, as kubectl prints them;
   * with several, names show their kind ("configmap/cm1"). */
  for (start = 0; start < nt; start = i) {
    for (i = start + 1; i < nt && same_type(&t[i].m, &t[start].m); i++)
      ;
    if (several) {
      kc_kind_name(&t[start].m, g->kind, sizeof g->kind - 1);
      strcat(g->kind, "/");
    }
    type_table(g, t + start, i - start, query, &rv, errs);
    if (kj_len(g->rows) > 0) {
      if (printed++)
        printf("\n");
      print_table(g);
    }
  }
  free(query);
  if (!printed && errs->n == 0 && !(nt == 1 && t[0].name))
    no_resources(g, &t[0].m);
  if (f->watch && errs->n == 0) {
    const char *ns = f->all_namespaces ? NULL : g->ctx->namespace_;
    r = watch_table(g, &t[0].m, t[0].name ? g->ctx->namespace_ : ns,
                    t[0].name, rv);
  }
  free(rv);
  return r;
}

/* kubectl's refusals of what it cannot show. */
static int check_targets(const kc_flags *f, const kc_target *t, size_t nt,
                         kapi_errlist *errs)
{
  size_t i;

  for (i = 0; i < nt; i++) {
    if (f->all_namespaces && t[i].name && t[i].m.namespaced) {
      kapi_errlist_add(errs, "a resource cannot be retrieved by name across "
                       "all namespaces");
      return -EINVAL;
    }
    if (f->watch && !same_type(&t[i].m, &t[0].m)) {
      kapi_errlist_add(errs, "you may only specify a single resource type");
      return -EINVAL;
    }
  }
  return 0;
}

int kc_cmd_get(kc_flags *f)
{
  get_ctx g;
  kc_ctx ctx;
  kapi_errlist errs = {0};
  kc_target *t = NULL;
  size_t nt = 0;
  int rc = 0;

  if (f->nargs == 0)
    return kc_fail("You must specify the type of resource to get. Use "
                   "\"kapictl api-resources\" for a complete list of "
                   "supported resources.");
  if (kc_connect(&ctx, f))
    return 1;
  memset(&g, 0, sizeof g);
  g.ctx = &ctx;
  g.f = f;
  g.wide = f->output && !strcmp(f->output, "wide");
  if (kc_parse_targets(&ctx, f->args, f->nargs, &t, &nt, &errs) == 0 &&
      check_targets(f, t, nt, &errs) == 0) {
    if (f->output && strcmp(f->output, "wide"))
      get_objects(&g, t, nt, &errs);
    else
      rc = get_tables(&g, t, nt, &errs);
  }
  rc |= kc_report(&g.e, &errs);
  kc_targets_free(t, nt);
  kj_free(g.columns);
  kj_free(g.rows);
  free(g.widths);
  kc_close(&ctx);
  return rc ? 1 : 0;
}
