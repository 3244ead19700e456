/*
 * common.c - kapictl's flags, connection, errors and object printers.
 */
#include "common.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "kubeconfig.h"

/* ---- flags ----------------------------------------------------------------- */

enum {
  OPT_KUBECONFIG = 256,
  OPT_CONTEXT,
  OPT_CONTINUE,
  OPT_FIELD_MANAGER,
  OPT_NO_HEADERS,
  OPT_IGNORE_NOT_FOUND,
  OPT_ALL,
  OPT_IGNORED,      /* kubectl flags accepted for compatibility */
  OPT_IGNORED_ARG,
};

static const struct option long_opts[] = {
    {"kubeconfig", required_argument, NULL, OPT_KUBECONFIG},
    {"context", required_argument, NULL, OPT_CONTEXT},
    {"server", required_argument, NULL, 's'},
    {"namespace", required_argument, NULL, 'n'},
    {"all-namespaces", no_argument, NULL, 'A'},
    {"filename", required_argument, NULL, 'f'},
    {"recursive", no_argument, NULL, 'R'},
    {"continue-on-error", no_argument, NULL, OPT_CONTINUE},
    {"field-manager", required_argument, NULL, OPT_FIELD_MANAGER},
    {"output", required_argument, NULL, 'o'},
    {"selector", required_argument, NULL, 'l'},
    {"watch", no_argument, NULL, 'w'},
    {"no-headers", no_argument, NULL, OPT_NO_HEADERS},
    {"ignore-not-found", no_argument, NULL, OPT_IGNORE_NOT_FOUND},
    {"all", no_argument, NULL, OPT_ALL},
    {"server-side", no_argument, NULL, OPT_IGNORED},
    {"force-conflicts", no_argument, NULL, OPT_IGNORED},
    {"validate", optional_argument, NULL, OPT_IGNORED},
    {"v", required_argument, NULL, OPT_IGNORED_ARG},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int help(void)
{
  printf("kapictl controls a kapi (Kubernetes-compatible) cluster.\n\n"
         "Usage:\n"
         "  kapictl create -f FILENAME [-R] [--continue-on-error]\n"
         "  kapictl apply -f FILENAME [-R] [--field-manager NAME]\n"
         "  kapictl delete (-f FILENAME [-R] | TYPE [NAME...] | TYPE/NAME...)"
         " [-l SEL] [--all] [--ignore-not-found]\n"
         "  kapictl get TYPE [NAME...] [-o wide|json|yaml|name] [-w] "
         "[-l SEL] [-A] [--no-headers]\n\n"
         "Global flags:\n"
         "      --kubeconfig PATH   the kubeconfig file\n"
         "      --context NAME      the kubeconfig context\n"
         "  -s, --server URL        the API server\n"
         "  -n, --namespace NS      the namespace\n");
  return 0;
}

int kc_parse_flags(int argc, char **argv, kc_flags *f)
{
  int c;

  opterr = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":n:Af:Ro:l:whs:v:", long_opts,
                          NULL)) != -1) {
    switch (c) {
    case OPT_KUBECONFIG: f->kubeconfig = optarg; break;
    case OPT_CONTEXT: f->context = optarg; break;
    case 's': f->server = optarg; break;
    case 'n': f->namespace_ = optarg; break;
    case 'A': f->all_namespaces = 1; break;
    case 'f':
      if (f->nfiles >= KC_MAX_FILES) {
        kc_fail("too many -f arguments");
        return -EINVAL;
      }
      f->files[f->nfiles++] = optarg;
      break;
    case 'R': f->recursive = 1; break;
    case OPT_CONTINUE: f->continue_on_error = 1; break;
    case OPT_FIELD_MANAGER: f->field_manager = optarg; break;
    case 'o': f->output = optarg; break;
    case 'l': f->selector = optarg; break;
    case 'w': f->watch = 1; break;
    case OPT_NO_HEADERS: f->no_headers = 1; break;
    case OPT_IGNORE_NOT_FOUND: f->ignore_not_found = 1; break;
    case OPT_ALL: f->all = 1; break;
    case OPT_IGNORED: case OPT_IGNORED_ARG: case 'v': break;
    case 'h': help(); exit(0);
    case ':':
      kc_fail("flag needs an argument: %s", argv[optind - 1]);
      return -EINVAL;
    default:
      if (optopt)
        kc_fail("unknown shorthand flag: '%c' in -%c", optopt, optopt);
      else
        kc_fail("unknown flag: %s", argv[optind - 1]);
      return -EINVAL;
    }
  }
  f->args = argv + optind;
  f->nargs = (size_t)(argc - optind);
  if (f->output && strcmp(f->output, "wide") && strcmp(f->output, "json") &&
      strcmp(f->output, "yaml") && strcmp(f->output, "name")) {
    kc_fail("unable to match a printer suitable for the output format "
            "\"%s\", allowed formats are: json,name,wide,yaml",
            f->output);
    return -EINVAL;
  }
  return 0;
}

/* ---- connection ------------------------------------------------------------ */

int kc_connect(kc_ctx *ctx, const kc_flags *f)
{
  kapi_client_config cfg;
  kapi_kubeconfig *kc = NULL;
  char err[512];
  const char *ns;

  memset(ctx, 0, sizeof *ctx);
  /* The kubeconfig again for what the client does not expose: the
   * context's namespace and the credentials of raw (Table) requests.
   * With --server alone, kubectl needs no kubeconfig at all. */
  if (kapi_kubeconfig_load(f->kubeconfig, f->context, &kc, err,
                           sizeof err) < 0) {
    if (!f->server || f->kubeconfig || f->context)
      return kc_fail("%s", err);
    kc = NULL;
  }
  memset(&cfg, 0, sizeof cfg);
  cfg.kubeconfig = f->kubeconfig;
  cfg.context = f->context;
  cfg.server = f->server;
  cfg.user_agent = "kapictl";
  if (kapi_client_new(&cfg, &ctx->client, err, sizeof err) < 0) {
    kapi_kubeconfig_free(kc);
    return kc_fail("%s", err);
  }
  ctx->kc = kc;
  ns = f->namespace_ ? f->namespace_
                     : kc && kc->namespace && *kc->namespace ? kc->namespace
                                                             : "default";
  ctx->ns_explicit = f->namespace_ != NULL;
  if (!(ctx->namespace_ = strdup(ns)) ||
      !(ctx->mapper = kapi_mapper_new(ctx->client))) {
    kc_close(ctx);
    return kc_fail("out of memory");
  }
  return 0;
}

void kc_close(kc_ctx *ctx)
{
  kapi_mapper_free(ctx->mapper);
  kapi_client_free(ctx->client);
  kapi_kubeconfig_free(ctx->kc);
  free(ctx->namespace_);
  memset(ctx, 0, sizeof *ctx);
}

/* Reads a tokenFile's first line (kubeconfig users may name one). */
static char *read_token_file(const char *path)
{
  char buf[8192];
  FILE *in = fopen(path, "r");
  size_t n;

  if (!in)
    return NULL;
  n = fread(buf, 1, sizeof buf - 1, in);
  fclose(in);
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
                   buf[n - 1] == ' '))
    n--;
  buf[n] = '\0';
  return strdup(buf);
}

/* The REST client always asks for plain JSON; `get` needs the Table
 * form (an Accept header of its own), so those requests are made here
 * with the same kubeconfig settings. */
CURL *kc_curl(kc_ctx *ctx, const char *path, const char *accept,
              struct curl_slist **headers)
{
  const kapi_kubeconfig *kc = ctx->kc;
  struct curl_slist *hs = NULL, *t;
  char *url = NULL, *line = NULL, *tok = NULL;
  CURL *h;

  *headers = NULL;
  if (!(h = curl_easy_init()))
    return NULL;
  if (asprintf(&url, "%s%s", kapi_client_server(ctx->client), path) < 0 ||
      asprintf(&line, "Accept: %s", accept) < 0 ||
      !(hs = curl_slist_append(NULL, line)))
    goto oom;
  free(line);
  line = NULL;
  if (kc && kc->token)
    tok = strdup(kc->token);
  else if (kc && kc->token_file)
    tok = read_token_file(kc->token_file);
  if (tok) {
    if (asprintf(&line, "Authorization: Bearer %s", tok) < 0 ||
        !(t = curl_slist_append(hs, line)))
      goto oom;
    hs = t;
    free(line);
    line = NULL;
    free(tok);
    tok = NULL;
  }
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "kapictl");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
  if (kc)
    kapi__kubeconfig_curl_tls(kc, h);
  free(url);
  *headers = hs;
  return h;
oom:
  free(url);
  free(line);
  free(tok);
  curl_slist_free_all(hs);
  curl_easy_cleanup(h);
  return NULL;
}

/* ---- names ------------------------------------------------------------------ */

void kc_kind_name(const kapi_mapping *m, char *buf, size_t len)
{
  size_t i;

  snprintf(buf, len, "%s%s%s", m->kind ? m->kind : "",
           m->group && *m->group ? "." : "", m->group ? m->group : "");
  /* Only the kind is lower-cased; a group is lower-case already. */
  for (i = 0; buf[i] && buf[i] != '.'; i++)
    if (buf[i] >= 'A' && buf[i] <= 'Z')
      buf[i] = (char)(buf[i] - 'A' + 'a');
}

void kc_resource_name(const kapi_mapping *m, char *buf, size_t len)
{
  snprintf(buf, len, "%s%s%s", m->resource ? m->resource : "",
           m->group && *m->group ? "." : "", m->group ? m->group : "");
}

/* ---- errors ------------------------------------------------------------------ */

int kc_fail(const char *fmt, ...)
{
  va_list ap;
  char *msg = NULL;

  va_start(ap, fmt);
  if (vasprintf(&msg, fmt, ap) < 0)
    msg = NULL;
  va_end(ap);
  if (!msg) {
    fputs("error: out of memory\n", stderr);
    return 1;
  }
  if (!strncmp(msg, "error: ", 7) || !strncmp(msg, "Error from server", 17))
    fprintf(stderr, "%s\n", msg);
  else
    fprintf(stderr, "error: %s\n", msg);
  free(msg);
  return 1;
}

void kc_server_error(kc_errors *e, kapi_errlist *into, const kapi_result *res,
                     int r, const char *verb, const char *source)
{
  const char *msg = res && res->message[0] ? res->message : strerror(-r);
  char when[512] = "";
  char *line = NULL;

  if (verb && source)
    snprintf(when, sizeof when, "error when %s \"%s\": ", verb, source);
  if (res && res->code && res->reason[0]) {
    if (asprintf(&line, "Error from server (%s): %s%s", res->reason, when,
                 msg) < 0)
      line = NULL;
  } else if (res && res->code) {
    if (asprintf(&line, "Error from server: %s%s", when, msg) < 0)
      line = NULL;
  } else if (asprintf(&line, "%s%s", when, msg) < 0) {
    line = NULL;
  }
  if (!line)
    return;
  kapi_errlist_add(into, "%s", line);
  /* Alone, an Invalid error prints as "The Pod "x" is invalid: ..."
   * (util.CheckErr): remember that form for this line. */
  if (e && res && !strcmp(res->reason, "Invalid") && !e->single) {
    if (asprintf(&e->single, "The %s", msg) < 0)
      e->single = NULL;
    e->single_for = line;
    line = NULL;
  }
  free(line);
}

int kc_report(kc_errors *e, kapi_errlist *l)
{
  size_t i;
  int rc = l->n > 0;

  if (l->n == 1) {
    if (e && e->single && e->single_for && !strcmp(l->msgs[0], e->single_for))
      fprintf(stderr, "%s\n", e->single);
    else
      kc_fail("%s", l->msgs[0]);
  } else {
    /* Several: one a line, as kubectl's MultipleErrors. */
    for (i = 0; i < l->n; i++)
      fprintf(stderr, "%s\n", l->msgs[i]);
  }
  if (e) {
    free(e->single);
    free(e->single_for);
    e->single = e->single_for = NULL;
  }
  kapi_errlist_clear(l);
  return rc;
}

/* ---- the -f visitor ---------------------------------------------------------- */

kapi_visitor *kc_file_visitor(kc_ctx *ctx, const kc_flags *f, int enforce_ns,
                              kapi_errlist *errs)
{
  kapi_builder *b = kapi_builder_new(ctx->mapper);
  kapi_visitor *v = NULL;

  if (!b) {
    kapi_errlist_add(errs, "out of memory");
    return NULL;
  }
  if (kapi_builder_filenames(b, f->recursive, f->files, f->nfiles) < 0) {
    if (errs->n == 0)
      kapi_errlist_add(errs, "invalid -f arguments");
    kapi_builder_free(b);
    return NULL;
  }
  kapi_builder_namespace(b, ctx->namespace_, enforce_ns && ctx->ns_explicit);
  if (f->selector)
    kapi_builder_label_selector(b, f->selector);
  /* create, apply and delete all keep going over documents and report
   * every error at the end (their builders call ContinueOnError). */
  kapi_builder_continue_on_error(b);
  kapi_builder_flatten(b);
  v = kapi_builder_do(b, errs);
  kapi_builder_free(b);
  return v;
}

/* ---- TYPE NAME arguments --------------------------------------------------------- */

void kc_targets_free(kc_target *t, size_t n)
{
  size_t i;

  for (i = 0; t && i < n; i++) {
    kapi_mapping_clear(&t[i].m);
    free(t[i].name);
  }
  free(t);
}

/* Resolves type into t->m and copies name (may be NULL). */
static int target_set(kc_ctx *ctx, kc_target *t, const char *type,
                      size_t type_len, const char *name, kapi_errlist *errs)
{
  char buf[256];

  if (type_len >= sizeof buf) {
    kapi_errlist_add(errs, "the server doesn't have a resource type \"%.*s\"",
                     (int)type_len, type);
    return -ENOENT;
  }
  memcpy(buf, type, type_len);
  buf[type_len] = '\0';
  if (kapi_mapper_resource(ctx->mapper, buf, &t->m, errs) < 0)
    return -ENOENT;
  if (name && !(t->name = strdup(name)))
    return -ENOMEM;
  return 0;
}

int kc_parse_targets(kc_ctx *ctx, char **args, size_t n, kc_target **ret,
                     size_t *ret_n, kapi_errlist *errs)
{
  kc_target *t;
  size_t i, nt = 0;
  int slash = n > 0 && strchr(args[0], '/') != NULL, r = 0;

  *ret = NULL;
  *ret_n = 0;
  if (n == 0)
    return 0;
  if (!(t = calloc(n, sizeof *t))) {
    kapi_errlist_add(errs, "out of memory");
    return -ENOMEM;
  }
  if (slash) {
    /* TYPE/NAME each: kubectl does not mix the two forms. */
    for (i = 0; r == 0 && i < n; i++) {
      const char *s = strchr(args[i], '/');
      if (!s || !s[1]) {
        kapi_errlist_add(errs, "there is no need to specify a resource type "
                         "as a separate argument when passing arguments in "
                         "resource/name form (e.g. 'kapictl get "
                         "resource/<resource_name>' instead of 'kapictl get "
                         "resource resource/<resource_name>'");
        r = -EINVAL;
        break;
      }
      r = target_set(ctx, &t[nt], args[i], (size_t)(s - args[i]), s + 1,
                     errs);
      nt++;
    }
  } else if (n == 1) {
    r = target_set(ctx, &t[0], args[0], strlen(args[0]), NULL, errs);
    nt = 1;
  } else {
    for (i = 1; r == 0 && i < n; i++) {
      r = target_set(ctx, &t[nt], args[0], strlen(args[0]), args[i], errs);
      nt++;
    }
  }
  if (r < 0) {
    kc_targets_free(t, nt);
    return r;
  }
  *ret = t;
  *ret_n = nt;
  return 0;
}

/* ---- printing objects ------------------------------------------------------------ */

/* kubectl hides managedFields unless asked (--show-managed-fields). */
static kj *printable(const kj *obj)
{
  kj *copy = kj_clone(obj);
  kj *items;
  size_t i;

  if (!copy)
    return NULL;
  kj_remove(kj_get(copy, "metadata"), "managedFields");
  items = kj_get(copy, "items");
  for (i = 0; i < kj_len(items); i++)
    kj_remove(kj_get(kj_at(items, i), "metadata"), "managedFields");
  return copy;
}

/* Indices of obj's keys in byte order: kubectl prints objects as maps,
 * and Go's encoders sort map keys. */
static size_t *sorted_keys(const kj *obj)
{
  size_t n = kj_len(obj), i, j, *idx = malloc((n ? n : 1) * sizeof *idx);

  if (!idx)
    return NULL;
  for (i = 0; i < n; i++)
    idx[i] = i;
  for (i = 1; i < n; i++) /* insertion sort: objects are small */
    for (j = i; j > 0 && strcmp(kj_key_at(obj, idx[j - 1]),
                                kj_key_at(obj, idx[j])) > 0; j--) {
      size_t t = idx[j];
      idx[j] = idx[j - 1];
      idx[j - 1] = t;
    }
  return idx;
}

/* A JSON string as Go's encoding/json writes it (HTML-safe escapes). */
static void json_string(FILE *out, const char *s)
{
  const unsigned char *p;

  fputc('"', out);
  for (p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", out); break;
    case '\\': fputs("\\\\", out); break;
    case '\n': fputs("\\n", out); break;
    case '\r': fputs("\\r", out); break;
    case '\t': fputs("\\t", out); break;
    case '<': case '>': case '&': fprintf(out, "\\u%04x", *p); break;
    default:
      if (*p < 0x20)
        fprintf(out, "\\u%04x", *p);
      else
        fputc(*p, out);
    }
  }
  fputc('"', out);
}

static int json_value(FILE *out, const kj *v, int depth)
{
  size_t i, n = kj_len(v), *idx;

  switch (v->type) {
  case KJ_NULL: fputs("null", out); return 0;
  case KJ_BOOL: fputs(v->u.boolean ? "true" : "false", out); return 0;
  case KJ_NUMBER: fputs(v->u.str.s, out); return 0;
  case KJ_STRING: json_string(out, v->u.str.s); return 0;
  case KJ_ARRAY:
    if (n == 0) {
      fputs("[]", out);
      return 0;
    }
    fputs("[\n", out);
    for (i = 0; i < n; i++) {
      fprintf(out, "%*s", (depth + 1) * 4, "");
      json_value(out, kj_at(v, i), depth + 1);
      fputs(i + 1 < n ? ",\n" : "\n", out);
    }
    fprintf(out, "%*s]", depth * 4, "");
    return 0;
  case KJ_OBJECT:
    if (n == 0) {
      fputs("{}", out);
      return 0;
    }
    if (!(idx = sorted_keys(v)))
      return -ENOMEM;
    fputs("{\n", out);
    for (i = 0; i < n; i++) {
      fprintf(out, "%*s", (depth + 1) * 4, "");
      json_string(out, kj_key_at(v, idx[i]));
      fputs(": ", out);
      json_value(out, kj_at(v, idx[i]), depth + 1);
      fputs(i + 1 < n ? ",\n" : "\n", out);
    }
    fprintf(out, "%*s}", depth * 4, "");
    free(idx);
    return 0;
  }
  return 0;
}

int kc_print_json(FILE *out, const kj *obj)
{
  kj *p = printable(obj);
  int r;

  if (!p)
    return -ENOMEM;
  r = json_value(out, p, 0);
  fputc('\n', out);
  kj_free(p);
  return r;
}

/* YAML 1.1 numbers: 12, -1.5, 1e3, 1_000, 0x1F, 0o17, 0b101, 1:20. */
static int looks_numeric(const char *s)
{
  char buf[128], *end;
  const char *p = s;
  size_t n = 0;

  if (*p == '-' || *p == '+')
    p++;
  if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o' || p[1] == 'b') && p[2])
    return strspn(p + 2, p[1] == 'x'   ? "0123456789abcdefABCDEF_"
                         : p[1] == 'o' ? "01234567_"
                                       : "01_") == strlen(p + 2);
  if (!strpbrk(p, "0123456789") ||
      strspn(p, "0123456789._eE+-:") != strlen(p))
    return 0;
  for (; *s && n < sizeof buf - 1; s++)
    if (*s != '_' && *s != ':')
      buf[n++] = *s;
  buf[n] = '\0';
  strtod(buf, &end);
  return *end == '\0';
}

/* Whether a plain scalar s would read back as something other than a
 * string (YAML 1.1, as go-yaml resolves): those are double-quoted, the
 * way kubectl prints "1" or a timestamp. */
static int yaml_needs_quotes(const char *s)
{
  static const char *const words[] = {
      "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
      "true", "True", "TRUE", "false", "False", "FALSE", "on", "On", "ON",
      "off", "Off", "OFF", "null", "Null", "NULL", "~", ".inf", ".Inf",
      ".INF", "-.inf", "-.Inf", "-.INF", "+.inf", ".nan", ".NaN", ".NAN",
      "<<",
  };
  size_t i;

  if (!*s)
    return 1;
  for (i = 0; i < sizeof words / sizeof *words; i++)
    if (!strcmp(s, words[i]))
      return 1;
  if (looks_numeric(s))
    return 1;
  /* Timestamps: YYYY-MM-DD... */
  if (strlen(s) >= 10 && s[4] == '-' && s[7] == '-' &&
      strspn(s, "0123456789") == 4)
    return 1;
  return 0;
}

static int emit(yaml_emitter_t *em, yaml_event_t *ev)
{
  return yaml_emitter_emit(em, ev) ? 0 : -EIO;
}

/* plain: the scalar may be written without quotes (untagged, it reads
 * back as what it is). */
static int yaml_scalar(yaml_emitter_t *em, const char *s, int plain,
                       yaml_scalar_style_t style)
{
  yaml_event_t ev;

  yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s,
                               (int)strlen(s), plain, 1, style);
  return emit(em, &ev);
}

static int yaml_value(yaml_emitter_t *em, const kj *v)
{
  yaml_event_t ev;
  size_t i, n = kj_len(v), *idx;
  int r = 0;

  switch (v->type) {
  case KJ_NULL: return yaml_scalar(em, "null", 1, YAML_PLAIN_SCALAR_STYLE);
  case KJ_BOOL:
    return yaml_scalar(em, v->u.boolean ? "true" : "false", 1,
                       YAML_PLAIN_SCALAR_STYLE);
  case KJ_NUMBER:
    return yaml_scalar(em, v->u.str.s, 1, YAML_PLAIN_SCALAR_STYLE);
  case KJ_STRING:
    if (yaml_needs_quotes(v->u.str.s))
      return yaml_scalar(em, v->u.str.s, 0, YAML_DOUBLE_QUOTED_SCALAR_STYLE);
    /* libyaml picks plain, else single quotes or a literal block, as
     * go-yaml (its port) does for kubectl. */
    return yaml_scalar(em, v->u.str.s, 1,
                       strchr(v->u.str.s, '\n') ? YAML_LITERAL_SCALAR_STYLE
                                                : YAML_ANY_SCALAR_STYLE);
  case KJ_ARRAY:
    yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                         n ? YAML_BLOCK_SEQUENCE_STYLE
                                           : YAML_FLOW_SEQUENCE_STYLE);
    if (emit(em, &ev) < 0)
      return -EIO;
    for (i = 0; r == 0 && i < n; i++)
      r = yaml_value(em, kj_at(v, i));
    yaml_sequence_end_event_initialize(&ev);
    return r < 0 ? r : emit(em, &ev);
  case KJ_OBJECT:
    if (!(idx = sorted_keys(v)))
      return -ENOMEM;
    yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                        n ? YAML_BLOCK_MAPPING_STYLE
                                          : YAML_FLOW_MAPPING_STYLE);
    r = emit(em, &ev);
    for (i = 0; r == 0 && i < n; i++) {
      const char *k = kj_key_at(v, idx[i]);
      r = yaml_needs_quotes(k)
              ? yaml_scalar(em, k, 0, YAML_DOUBLE_QUOTED_SCALAR_STYLE)
              : yaml_scalar(em, k, 1, YAML_ANY_SCALAR_STYLE);
      if (r == 0)
        r = yaml_value(em, kj_at(v, idx[i]));
    }
    free(idx);
    yaml_mapping_end_event_initialize(&ev);
    return r < 0 ? r : emit(em, &ev);
  }
  return 0;
}

static int yaml_write(void *arg, unsigned char *buf, size_t size)
{
  return fwrite(buf, 1, size, arg) == size;
}

int kc_print_yaml(FILE *out, const kj *obj)
{
  yaml_emitter_t em;
  yaml_event_t ev;
  kj *p = printable(obj);
  int r;

  if (!p)
    return -ENOMEM;
  if (!yaml_emitter_initialize(&em)) {
    kj_free(p);
    return -ENOMEM;
  }
  yaml_emitter_set_output(&em, yaml_write, out);
  yaml_emitter_set_unicode(&em, 1);
  yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
  r = emit(&em, &ev);
  if (r == 0) {
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    r = emit(&em, &ev);
  }
  if (r == 0)
    r = yaml_value(&em, p);
  if (r == 0) {
    yaml_document_end_event_initialize(&ev, 1);
    r = emit(&em, &ev);
  }
  if (r == 0) {
    yaml_stream_end_event_initialize(&ev);
    r = emit(&em, &ev);
  }
  yaml_emitter_delete(&em);
  kj_free(p);
  return r;
}

kj *kc_as_list(kj *items)
{
  kj *list = kj_object(), *meta = kj_object();

  if (!list || !meta || kj_set_str(list, "apiVersion", "v1") < 0 ||
      kj_set(list, "items", items) < 0 ||
      kj_set_str(list, "kind", "List") < 0 ||
      kj_set_str(meta, "resourceVersion", "") < 0 ||
      kj_set(list, "metadata", meta) < 0) {
    kj_free(list);
    return NULL;
  }
  return list;
}

int kc_each_object(kc_flags *f, const char *verb, kapi_visit_fn fn,
                   kc_each *each)
{
  kapi_errlist errs = {0};
  kapi_visitor *v;
  kc_ctx ctx;
  int rc;

  if (f->nfiles == 0)
    return kc_fail("must specify one of -f and -k");
  if (f->nargs > 0)
    return kc_fail("Unexpected args: [%s]", f->args[0]);
  if (kc_connect(&ctx, f))
    return 1;
  each->ctx = &ctx;
  if ((v = kc_file_visitor(&ctx, f, 1, &errs))) {
    kapi_visit(v, fn, each, &errs);
    kapi_visitor_free(v);
  }
  if (errs.n == 0 && each->count == 0)
    kapi_errlist_add(&errs, "no objects passed to %s", verb);
  rc = kc_report(&each->e, &errs);
  kc_close(&ctx);
  return rc;
}
