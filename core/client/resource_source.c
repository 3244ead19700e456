/*
 * resource_source.c - the visitors that read: StreamVisitor (a reader's
 * YAML or JSON documents), FileVisitor (a file, a directory, or "-" for
 * standard input) and URLVisitor (http/https with retries), as
 * cli-runtime's visitor.go.
 *
 * A source reads all of its input first, then splits it into documents
 * as upstream's YAMLOrJSONDecoder does: input whose first non-blank byte
 * is '{' is a sequence of JSON values, anything else YAML split on
 * "---" lines.  Each document is parsed alone, so a YAML error's line
 * is counted from the start of its document (as kubectl prints it), and
 * a bad document is one error handed to the walk function: under a
 * ContinueOnErrorVisitor the documents after it are still visited.
 * Concatenated JSON cannot be re-synchronised after a syntax error, so
 * a JSON stream ends there.
 *
 * When a source holds more than one document, messages about one of
 * them add " (document N)", counted from 1, so the user can find it;
 * with one document they read exactly as kubectl's.
 */
#include <curl/curl.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kyaml.h"
#include "resource_internal.h"

#define STDIN_SOURCE "STDIN" /* upstream's constSTDINstr */
#define URL_RETRY_DELAY_US 1000000 /* upstream waits a second */

/* Go prints errno texts in lower case ("no such file or directory"). */
static const char *go_strerror(int err, char *buf, size_t len)
{
  snprintf(buf, len, "%s", strerror(err));
  if (buf[0])
    buf[0] = (char)tolower((unsigned char)buf[0]);
  return buf;
}

/* ---- reading everything ---------------------------------------------------- */

typedef struct membuf {
  char *p;
  size_t len, cap;
} membuf;

static int membuf_append(membuf *b, const void *data, size_t n)
{
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    char *p;
    while (cap < b->len + n + 1)
      cap *= 2;
    if (!(p = realloc(b->p, cap)))
      return -ENOMEM;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, data, n);
  b->len += n;
  b->p[b->len] = '\0';
  return 0;
}

static int read_all(FILE *in, membuf *b)
{
  char chunk[16384];
  size_t n;

  while ((n = fread(chunk, 1, sizeof chunk, in)) > 0)
    if (membuf_append(b, chunk, n) < 0)
      return -ENOMEM;
  return ferror(in) ? -EIO : 0;
}

/* ---- splitting into documents ---------------------------------------------- */

typedef struct chunk {
  const char *p;
  size_t len;
  char *error; /* set: the document is bad before parsing (owned) */
  int json;
} chunk;

typedef struct chunks {
  chunk *c;
  size_t n, cap;
} chunks;

static int chunks_add(chunks *cs, const char *p, size_t len, int json)
{
  if (cs->n == cs->cap) {
    size_t cap = cs->cap ? cs->cap * 2 : 8;
    chunk *c = realloc(cs->c, cap * sizeof *c);
    if (!c)
      return -ENOMEM;
    cs->c = c;
    cs->cap = cap;
  }
  cs->c[cs->n].p = p;
  cs->c[cs->n].len = len;
  cs->c[cs->n].error = NULL;
  cs->c[cs->n].json = json;
  cs->n++;
  return 0;
}

static void chunks_free(chunks *cs)
{
  size_t i;

  for (i = 0; i < cs->n; i++)
    free(cs->c[i].error);
  free(cs->c);
}

/* A document of only blanks and comments is skipped, as upstream skips
 * empty documents; it does not count in document numbers either. */
static int blank_text(const char *p, size_t len)
{
  size_t i = 0;

  while (i < len) {
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
      i++;
    if (i < len && p[i] == '#')
      while (i < len && p[i] != '\n')
        i++;
    if (i < len && p[i] != '\n')
      return 0;
    i++;
  }
  return 1;
}

/* A separator line is "---" followed by nothing but blanks or a
 * comment; anything else after it is upstream's YAMLSyntaxError.
 * Returns 1 (separator), 0 (not one), -1 (bad: *bad is what follows). */
static int separator_line(const char *line, size_t len, const char **bad,
                          size_t *badlen)
{
  size_t i = 3;

  if (len < 3 || memcmp(line, "---", 3))
    return 0;
  while (i < len && isspace((unsigned char)line[i]))
    i++;
  if (i == len || line[i] == '#')
    return 1;
  *bad = line + i;
  *badlen = len - i;
  while (*badlen && isspace((unsigned char)(*bad)[*badlen - 1]))
    (*badlen)--;
  return -1;
}

static int split_yaml(const char *buf, size_t len, chunks *cs)
{
  const char *doc = buf, *p = buf, *end = buf + len;
  char *pending = NULL; /* error of the document after a bad separator */
  int r = 0;

  while (p < end && r == 0) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *next = nl ? nl + 1 : end;
    const char *bad;
    size_t badlen;
    int sep = separator_line(p, (size_t)((nl ? nl : end) - p), &bad, &badlen);

    if (sep != 0) {
      if ((r = chunks_add(cs, doc, (size_t)(p - doc), 0)) < 0)
        break;
      cs->c[cs->n - 1].error = pending;
      pending = NULL;
      if (sep < 0 && asprintf(&pending, "invalid Yaml document separator: %.*s",
                              (int)badlen, bad) < 0) {
        pending = NULL;
        r = -ENOMEM;
      }
      doc = next;
    }
    p = next;
  }
  if (r == 0 && (r = chunks_add(cs, doc, (size_t)(end - doc), 0)) == 0) {
    cs->c[cs->n - 1].error = pending;
    pending = NULL;
  }
  free(pending);
  return r;
}

/* The end of the JSON value at p (first byte not blank): strings and
 * nesting are followed, nothing is checked; NULL when it never ends. */
static const char *json_value_end(const char *p, const char *end)
{
  int depth = 0, in_string = 0;

  if (*p != '{' && *p != '[' && *p != '"') {
    while (p < end && !isspace((unsigned char)*p) && !strchr("{}[],\"", *p))
      p++;
    return p;
  }
  for (; p < end; p++) {
    if (in_string) {
      if (*p == '\\')
        p++;
      else if (*p == '"')
        in_string = 0;
      if (!in_string && depth == 0)
        return p + 1;
      continue;
    }
    if (*p == '"')
      in_string = 1;
    else if (*p == '{' || *p == '[')
      depth++;
    else if ((*p == '}' || *p == ']') && --depth == 0)
      return p + 1;
  }
  return NULL;
}

static int split_json(const char *buf, size_t len, chunks *cs)
{
  const char *p = buf, *end = buf + len;
  int r = 0;

  while (r == 0) {
    const char *e;
    while (p < end && isspace((unsigned char)*p))
      p++;
    if (p == end)
      break;
    e = json_value_end(p, end);
    if (!e || e == p) /* unterminated or a stray byte: the rest is bad */
      e = end;
    r = chunks_add(cs, p, (size_t)(e - p), 1);
    p = e;
  }
  return r;
}

/* ---- visiting documents ---------------------------------------------------- */

typedef struct stream_walk {
  const char *source;
  kapi_mapper *mapper;
  kapi__walk_fn fn;
  void *arg;
  kapi_errlist *errs;
  int multi;      /* more than one document: name them in errors */
  size_t index;   /* the next document's position */
} stream_walk;

static void doc_label(const stream_walk *s, size_t index, char *buf,
                      size_t len)
{
  if (s->multi)
    snprintf(buf, len, " (document %zu)", index + 1);
  else
    buf[0] = '\0';
}

/* A parse error, handed to the walk function; its answer is returned. */
static int parse_error(stream_walk *s, size_t index, const char *what)
{
  char doc[48];

  doc_label(s, index, doc, sizeof doc);
  if (kapi_errlist_add(s->errs, "error parsing %s%s: %s", s->source, doc,
                       what) < 0)
    return -ENOMEM;
  return s->fn(NULL, -EINVAL, s->arg, s->errs);
}

/* kyaml says "line 3, column 5: problem"; kubectl, through sigs.k8s.io/
 * yaml, "error converting YAML to JSON: yaml: line 3: problem". */
static void yaml_error_text(const char *err, char *out, size_t len)
{
  unsigned long line, col;
  int used = 0;

  if (sscanf(err, "line %lu, column %lu: %n", &line, &col, &used) == 2 &&
      used > 0)
    snprintf(out, len, "error converting YAML to JSON: yaml: line %lu: %s",
             line, err + used);
  else
    snprintf(out, len, "error converting YAML to JSON: yaml: %s", err);
}

static int visit_object(stream_walk *s, kj *obj, size_t index)
{
  kapi_info *info = NULL;
  char doc[48];
  int r;

  doc_label(s, index, doc, sizeof doc);
  r = kapi__info_new(obj, s->source, index, doc, s->mapper, &info, s->errs);
  if (r < 0)
    return r == -ENOMEM ? r : s->fn(NULL, r, s->arg, s->errs);
  r = s->fn(info, 0, s->arg, s->errs);
  kapi_info_free(info);
  return r;
}

static int visit_yaml_chunk(stream_walk *s, const chunk *c)
{
  char err[512], text[640];
  kj **docs = NULL;
  size_t n = 0, i;
  int r;

  r = kapi_yaml_parse(c->p, c->len, &docs, &n, err, sizeof err);
  if (r == -ENOMEM)
    return r;
  if (r < 0) {
    yaml_error_text(err, text, sizeof text);
    return parse_error(s, s->index++, text);
  }
  for (i = 0; i < n; i++) {
    kj *doc = docs[i];
    docs[i] = NULL;
    if (doc->type == KJ_NULL) { /* "null" or "~": an empty document */
      kj_free(doc);
      continue;
    }
    if ((r = visit_object(s, doc, s->index++)) < 0)
      break;
  }
  for (; i < n; i++)
    kj_free(docs[i]);
  free(docs);
  return r < 0 ? r : 0;
}

static int visit_json_chunk(stream_walk *s, const chunk *c, int *stop)
{
  char err[512];
  kj *obj = NULL;
  int r;

  r = kj_parse(c->p, c->len, &obj, err, sizeof err);
  if (r == -ENOMEM)
    return r;
  if (r < 0) {
    *stop = 1; /* no way to find where the next value starts */
    return parse_error(s, s->index++, err);
  }
  if (obj->type == KJ_NULL) {
    kj_free(obj);
    return 0;
  }
  return visit_object(s, obj, s->index++);
}

static int count_documents(const chunks *cs)
{
  size_t i;
  int n = 0;

  for (i = 0; i < cs->n; i++)
    if (cs->c[i].error || !blank_text(cs->c[i].p, cs->c[i].len))
      n++;
  return n;
}

/* Splits buf and hands each document to fn; <0 when fn stopped the walk
 * (its code) or memory ran out. */
static int walk_buffer(const char *buf, size_t len, const char *source,
                       kapi_mapper *mapper, kapi__walk_fn fn, void *arg,
                       kapi_errlist *errs)
{
  stream_walk s = {source, mapper, fn, arg, errs, 0, 0};
  chunks cs = {0};
  size_t i = 0;
  int r, stop = 0;

  if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) { /* UTF-8 BOM */
    buf += 3;
    len -= 3;
  }
  while (i < len && isspace((unsigned char)buf[i]))
    i++;
  r = i < len && buf[i] == '{' ? split_json(buf, len, &cs)
                               : split_yaml(buf, len, &cs);
  s.multi = r == 0 && count_documents(&cs) > 1;
  for (i = 0; r == 0 && !stop && i < cs.n; i++) {
    const chunk *c = &cs.c[i];
    if (c->error)
      r = parse_error(&s, s.index++, c->error);
    else if (blank_text(c->p, c->len))
      continue;
    else if (c->json)
      r = visit_json_chunk(&s, c, &stop);
    else
      r = visit_yaml_chunk(&s, c);
  }
  chunks_free(&cs);
  return r;
}

/* ---- StreamVisitor ------------------------------------------------------------ */

typedef struct stream {
  kapi_visitor base;
  FILE *in;      /* borrowed; read on the first walk */
  membuf buf;
  int read;      /* buf holds the input */
  char *source;
  kapi_mapper *mapper;
} stream;

static int stream_walk_fn(kapi_visitor *v, kapi__walk_fn fn, void *arg,
                          kapi_errlist *errs)
{
  stream *s = (stream *)v;
  char why[128];
  int r;

  if (!s->read) {
    r = read_all(s->in, &s->buf);
    if (r == -ENOMEM)
      return r;
    if (r < 0) {
      kapi_errlist_add(errs, "read %s: %s", s->source,
                       go_strerror(EIO, why, sizeof why));
      return fn(NULL, r, arg, errs);
    }
    s->read = 1;
  }
  return walk_buffer(s->buf.p ? s->buf.p : "", s->buf.len, s->source,
                     s->mapper, fn, arg, errs);
}

static void stream_destroy(kapi_visitor *v)
{
  stream *s = (stream *)v;

  free(s->buf.p);
  free(s->source);
  free(s);
}

static stream *stream_new(const char *source, kapi_mapper *mapper)
{
  stream *s = calloc(1, sizeof *s);

  if (!s || !(s->source = strdup(source ? source : STDIN_SOURCE))) {
    free(s);
    return NULL;
  }
  s->base.walk = stream_walk_fn;
  s->base.destroy = stream_destroy;
  s->mapper = mapper;
  return s;
}

kapi_visitor *kapi_stream_visitor(FILE *in, const char *source,
                                  kapi_mapper *mapper)
{
  stream *s;

  if (!in || !(s = stream_new(source, mapper)))
    return NULL;
  s->in = in;
  return &s->base;
}

kapi_visitor *kapi_bytes_visitor(const char *buf, size_t len,
                                 const char *source, kapi_mapper *mapper)
{
  stream *s = stream_new(source, mapper);

  if (!s)
    return NULL;
  if (membuf_append(&s->buf, buf ? buf : "", buf ? len : 0) < 0) {
    stream_destroy(&s->base);
    return NULL;
  }
  s->read = 1;
  return &s->base;
}

/* ---- FileVisitor -------------------------------------------------------------- */

typedef struct file {
  kapi_visitor base;
  char *path;
  int recursive;
  kapi_mapper *mapper;
} file;

static int walk_file(const char *path, kapi_mapper *mapper, kapi__walk_fn fn,
                     void *arg, kapi_errlist *errs)
{
  const char *source = path;
  membuf b = {0};
  char why[128];
  FILE *f;
  int r;

  if (!strcmp(path, "-")) {
    f = stdin;
    source = STDIN_SOURCE;
  } else if (!(f = fopen(path, "rb"))) {
    r = -errno;
    kapi_errlist_add(errs, "open %s: %s", path,
                     go_strerror(-r, why, sizeof why));
    return fn(NULL, r, arg, errs);
  }
  r = read_all(f, &b);
  if (r == -EIO) {
    int e = errno ? errno : EIO;
    kapi_errlist_add(errs, "read %s: %s", path,
                     go_strerror(e, why, sizeof why));
    r = fn(NULL, -e, arg, errs);
  } else if (r == 0) {
    r = walk_buffer(b.p ? b.p : "", b.len, source, mapper, fn, arg, errs);
  }
  if (f != stdin)
    fclose(f);
  free(b.p);
  return r;
}

static void free_paths(char **paths, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    free(paths[i]);
  free(paths);
}

/* A directory is its files' visitors in a VisitorList, listed at each
 * walk so that files added since are seen. */
static int walk_directory(file *fv, kapi__walk_fn fn, void *arg,
                          kapi_errlist *errs)
{
  kapi_visitor **vs;
  kapi_visitor *list;
  char **paths = NULL;
  size_t n = 0, cap = 0, i, made;
  int r;

  r = kapi__expand_path(fv->path, fv->recursive, &paths, &n, &cap, errs);
  if (r < 0) {
    free_paths(paths, n);
    return r == -ENOMEM ? r : fn(NULL, r, arg, errs);
  }
  if (n && !(vs = calloc(n, sizeof *vs))) {
    free_paths(paths, n);
    return -ENOMEM;
  }
  if (!n)
    vs = NULL;
  for (made = 0; made < n; made++)
    if (!(vs[made] = kapi_file_visitor(paths[made], 0, fv->mapper)))
      break;
  free_paths(paths, n);
  if (made < n) {
    for (i = 0; i < made; i++)
      kapi_visitor_free(vs[i]);
    free(vs);
    return -ENOMEM;
  }
  list = kapi_visitor_list(vs, n);
  free(vs);
  if (!list)
    return -ENOMEM;
  r = kapi__walk(list, fn, arg, errs);
  kapi_visitor_free(list);
  return r;
}

static int file_walk(kapi_visitor *v, kapi__walk_fn fn, void *arg,
                     kapi_errlist *errs)
{
  file *fv = (file *)v;
  struct stat st;

  if (strcmp(fv->path, "-") && stat(fv->path, &st) == 0 &&
      S_ISDIR(st.st_mode))
    return walk_directory(fv, fn, arg, errs);
  return walk_file(fv->path, fv->mapper, fn, arg, errs);
}

static void file_destroy(kapi_visitor *v)
{
  file *fv = (file *)v;

  free(fv->path);
  free(fv);
}

kapi_visitor *kapi_file_visitor(const char *path, int recursive,
                                kapi_mapper *mapper)
{
  file *fv;

  if (!path || !(fv = calloc(1, sizeof *fv)))
    return NULL;
  if (!(fv->path = strdup(path))) {
    free(fv);
    return NULL;
  }
  fv->base.walk = file_walk;
  fv->base.destroy = file_destroy;
  fv->recursive = recursive;
  fv->mapper = mapper;
  return &fv->base;
}

/* ---- expanding a path into files ------------------------------------------- */

static int has_manifest_extension(const char *name)
{
  const char *dot = strrchr(name, '.');

  return dot && (!strcmp(dot, ".yaml") || !strcmp(dot, ".yml") ||
                 !strcmp(dot, ".json"));
}

/* Byte order, as Go's filepath.Walk (alphasort would follow the locale). */
static int name_order(const struct dirent **a, const struct dirent **b)
{
  return strcmp((*a)->d_name, (*b)->d_name);
}

static int skip_dots(const struct dirent *d)
{
  return strcmp(d->d_name, ".") && strcmp(d->d_name, "..");
}

typedef struct expand {
  const char *root;
  int recursive;
  char ***paths;
  size_t *n, *cap;
  kapi_errlist *errs;
} expand;

static int push_path(expand *x, const char *path)
{
  char *copy = strdup(path);

  if (!copy)
    return -ENOMEM;
  if (*x->n == *x->cap) {
    size_t c = *x->cap ? *x->cap * 2 : 8;
    char **a = realloc(*x->paths, c * sizeof *a);
    if (!a) {
      free(copy);
      return -ENOMEM;
    }
    *x->paths = a;
    *x->cap = c;
  }
  (*x->paths)[(*x->n)++] = copy;
  return 0;
}

static int expand_dir(expand *x, const char *dir);

/* One entry of a walk: Lstat as filepath.Walk, so a symlink is a file
 * (followed when read) and never a directory to descend into. */
static int expand_entry(expand *x, const char *path, int is_root)
{
  struct stat st;
  char why[128];
  int r = is_root ? stat(path, &st) : lstat(path, &st);

  if (r < 0) {
    int e = errno;
    kapi_errlist_add(x->errs, "error reading \"%s\": lstat %s: %s", x->root,
                     path, go_strerror(e, why, sizeof why));
    return -e;
  }
  if (S_ISDIR(st.st_mode))
    return is_root || x->recursive ? expand_dir(x, path) : 0;
  /* A file named on the command line is read whatever its name. */
  if (!is_root && !has_manifest_extension(path))
    return 0;
  return push_path(x, path);
}

static int expand_dir(expand *x, const char *dir)
{
  struct dirent **names = NULL;
  size_t dl = strlen(dir);
  char why[128];
  int n, i, r = 0;

  n = scandir(dir, &names, skip_dots, name_order);
  if (n < 0) {
    int e = errno;
    kapi_errlist_add(x->errs, "error reading \"%s\": open %s: %s", x->root,
                     dir, go_strerror(e, why, sizeof why));
    return -e;
  }
  for (i = 0; i < n; i++) {
    char *path = NULL;
    if (r == 0) {
      if (asprintf(&path, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/",
                   names[i]->d_name) < 0)
        r = -ENOMEM;
      else
        r = expand_entry(x, path, 0);
    }
    free(path);
    free(names[i]);
  }
  free(names);
  return r;
}

int kapi__expand_path(const char *path, int recursive, char ***paths,
                      size_t *n, size_t *cap, kapi_errlist *errs)
{
  expand x = {path, recursive, paths, n, cap, errs};

  return expand_entry(&x, path, 1);
}

/* ---- URLVisitor ------------------------------------------------------------- */

typedef struct url {
  kapi_visitor base;
  char *url;
  int retries;
  kapi_mapper *mapper;
} url;

static size_t body_write(char *data, size_t size, size_t n, void *arg)
{
  return membuf_append(arg, data, size * n) < 0 ? 0 : size * n;
}

/* Keeps the status line's reason of the last response ("500 Internal
 * Server Error"), which upstream's message quotes. */
static size_t header_line(char *data, size_t size, size_t n, void *arg)
{
  char *status = arg;
  size_t len = size * n;

  if (len > 5 && !memcmp(data, "HTTP/", 5)) {
    const char *sp = memchr(data, ' ', len);
    if (sp) {
      size_t rest = len - (size_t)(sp + 1 - data);
      while (rest && (sp[rest] == '\r' || sp[rest] == '\n'))
        rest--;
      if (rest > 63)
        rest = 63;
      memcpy(status, sp + 1, rest);
      status[rest] = '\0';
    }
  }
  return len;
}

/* One GET: 0 with the body, else -errno with *why set; *code is the
 * HTTP status (0 for a transport error). */
static int http_get(const char *u, membuf *body, long *code, char *status,
                    char *why, size_t whylen)
{
  char curlerr[CURL_ERROR_SIZE] = "";
  CURL *h = curl_easy_init();
  CURLcode cr;

  *code = 0;
  status[0] = '\0';
  if (!h)
    return -ENOMEM;
  curl_easy_setopt(h, CURLOPT_URL, u);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L); /* Go's client stops at 10 */
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_line);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, status);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curlerr);
  cr = curl_easy_perform(h);
  if (cr == CURLE_OK)
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
  curl_easy_cleanup(h);
  if (cr != CURLE_OK) {
    snprintf(why, whylen, "Get \"%s\": %s", u,
             curlerr[0] ? curlerr : curl_easy_strerror(cr));
    return cr == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
  }
  return 0;
}

/* upstream's readHttpWithRetries: transport errors and 5xx are tried
 * again after a second, other statuses fail at once. */
static int fetch(const url *uv, membuf *body, char *why, size_t whylen)
{
  int attempt, r = -EIO;

  for (attempt = 0; attempt <= uv->retries; attempt++) {
    char status[64];
    long code;
    if (attempt > 0)
      usleep(URL_RETRY_DELAY_US);
    body->len = 0;
    r = http_get(uv->url, body, &code, status, why, whylen);
    if (r == -ENOMEM)
      return r;
    if (r < 0)
      continue;
    if (code == 200)
      return 0;
    snprintf(why, whylen,
             "unable to read URL \"%s\", server reported %s, status code=%ld",
             uv->url, status[0] ? status : "", code);
    r = -EIO;
    if (code < 500 || code > 599)
      break;
  }
  return r;
}

static int url_walk(kapi_visitor *v, kapi__walk_fn fn, void *arg,
                    kapi_errlist *errs)
{
  url *uv = (url *)v;
  membuf body = {0};
  char why[CURL_ERROR_SIZE + 512];
  int r;

  r = fetch(uv, &body, why, sizeof why);
  if (r == -ENOMEM) {
    free(body.p);
    return r;
  }
  if (r < 0) {
    kapi_errlist_add(errs, "%s", why);
    r = fn(NULL, r, arg, errs);
  } else {
    r = walk_buffer(body.p ? body.p : "", body.len, uv->url, uv->mapper, fn,
                    arg, errs);
  }
  free(body.p);
  return r;
}

static void url_destroy(kapi_visitor *v)
{
  url *uv = (url *)v;

  free(uv->url);
  free(uv);
}

kapi_visitor *kapi_url_visitor(const char *u, int retries,
                               kapi_mapper *mapper)
{
  url *uv;

  if (!u || !(uv = calloc(1, sizeof *uv)))
    return NULL;
  if (!(uv->url = strdup(u))) {
    free(uv);
    return NULL;
  }
  uv->base.walk = url_walk;
  uv->base.destroy = url_destroy;
  uv->retries = retries < 0 ? 0 : retries;
  uv->mapper = mapper;
  return &uv->base;
}
