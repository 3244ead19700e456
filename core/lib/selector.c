/*
 * selector.c - label and field selectors, after apimachinery's
 * pkg/labels/selector.go and pkg/fields/selector.go.
 *
 * Parse errors are reproduced word for word, quirks included, because
 * clients show them to users and tests compare them: the lexer/parser
 * below follows the upstream grammar step by step (token scan first,
 * then recursive descent with one token of lookahead), and validation
 * failures are rendered the way field.Error and utilerrors.Aggregate
 * print them.  Validation wording is that of Kubernetes 1.32, the
 * version kapi reports.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gofmt.h"
#include "sbuf.h"
#include "selector.h"

/* ------------------------------------------------------------------ */
/* Small helpers. */

/* Copies a message into the caller's error buffer, truncating. */
static void copy_err(char *err, size_t errlen, const char *msg)
{
  if (err && errlen)
    snprintf(err, errlen, "%s", msg);
}

static char *xstrndup(const char *s, size_t n)
{
  char *p = malloc(n + 1);

  if (!p)
    return NULL;
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

/* ------------------------------------------------------------------ */
/* Bad values are printed exactly as upstream does: %q (gofmt.h) for
 * strings, encoding/json for string lists. */

/* json.Marshal of a []string; a nil slice (n == 0 here, since upstream
 * always passes nil for "no values") marshals as null. */
static void go_json_strings(struct kapi__sbuf *b, char *const *v, size_t n)
{
  size_t i;

  if (n == 0) {
    kapi__sb_puts(b, "null");
    return;
  }
  kapi__sb_putc(b, '[');
  for (i = 0; i < n; i++) {
    if (i)
      kapi__sb_putc(b, ',');
    kapi__go_json_string(b, v[i]);
  }
  kapi__sb_putc(b, ']');
}

/* ------------------------------------------------------------------ */
/* Field error lists: the rendered field.Error texts, aggregated the way
 * ErrorList.ToAggregate().Error() prints them. */

struct errlist {
  char **msgs;
  size_t n, cap;
  int oom;
};

/* Takes ownership of the text in b (reset afterwards).  Duplicates are
 * dropped, as ToAggregate does. */
static void errlist_take(struct errlist *l, struct kapi__sbuf *b)
{
  char **p;
  size_t i;

  if (b->oom || l->oom) {
    l->oom = 1;
    kapi__sb_free(b);
    return;
  }
  for (i = 0; i < l->n; i++) {
    if (strcmp(l->msgs[i], kapi__sb_str(b)) == 0) {
      kapi__sb_free(b);
      return;
    }
  }
  if (l->n == l->cap) {
    p = realloc(l->msgs, (l->cap ? l->cap * 2 : 4) * sizeof *p);
    if (!p) {
      l->oom = 1;
      kapi__sb_free(b);
      return;
    }
    l->msgs = p;
    l->cap = l->cap ? l->cap * 2 : 4;
  }
  l->msgs[l->n++] = b->s; /* never NULL: callers always format text */
  memset(b, 0, sizeof *b);
}

/* Adds "<path>: Invalid value: <bad>: <detail>"; `bad` is already
 * formatted. */
static void errlist_invalid(struct errlist *l, const char *path,
                            const char *bad, const char *detail)
{
  struct kapi__sbuf b = {0};

  kapi__sb_printf(&b, "%s: Invalid value: %s: %s", path, bad, detail);
  errlist_take(l, &b);
}

/* Same, for a string bad value (printed with %q). */
static void errlist_invalid_str(struct errlist *l, const char *path,
                                const char *value, const char *detail)
{
  struct kapi__sbuf q = {0};

  kapi__go_quote(&q, value);
  errlist_invalid(l, path, kapi__sb_str(&q), detail);
  if (q.oom)
    l->oom = 1;
  kapi__sb_free(&q);
}

/* utilerrors aggregate text: one message bare, several in [a, b]. */
static void errlist_format(const struct errlist *l, struct kapi__sbuf *out)
{
  size_t i;

  if (l->n > 1)
    kapi__sb_putc(out, '[');
  for (i = 0; i < l->n; i++) {
    if (i)
      kapi__sb_puts(out, ", ");
    kapi__sb_puts(out, l->msgs[i]);
  }
  if (l->n > 1)
    kapi__sb_putc(out, ']');
}

static void errlist_free(struct errlist *l)
{
  size_t i;

  for (i = 0; i < l->n; i++)
    free(l->msgs[i]);
  free(l->msgs);
  memset(l, 0, sizeof *l);
}

/* ------------------------------------------------------------------ */
/* Label key and value validation (apimachinery util/validation). */

#define LABEL_MAX 63
#define SUBDOMAIN_MAX 253

#define QNAME_ERR                                                          \
  "must consist of alphanumeric characters, '-', '_' or '.', and must "    \
  "start and end with an alphanumeric character (e.g. 'MyName',  or "      \
  "'my.name',  or '123-abc', regex used for validation is "                \
  "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
#define SUBDOMAIN_ERR                                                      \
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric " \
  "characters, '-' or '.', and must start and end with an alphanumeric "   \
  "character (e.g. 'example.com', regex used for validation is "           \
  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
#define LABEL_VALUE_ERR                                                    \
  "a valid label must be an empty string or consist of alphanumeric "      \
  "characters, '-', '_' or '.', and must start and end with an "           \
  "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', "  \
  "regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"

static int is_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

static int is_lower_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] over s[0..n). */
static int match_qualified_name(const char *s, size_t n)
{
  size_t i;

  if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
    return 0;
  for (i = 1; i + 1 < n; i++)
    if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
      return 0;
  return 1;
}

/* DNS-1123 subdomain: dot-separated labels [a-z0-9]([-a-z0-9]*[a-z0-9])?. */
static int match_dns1123_subdomain(const char *s, size_t n)
{
  size_t i;

  if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
    return 0;
  for (i = 1; i + 1 < n; i++) {
    if (s[i] == '.') {
      /* A label must start and end with an alphanumeric. */
      if (!is_lower_alnum(s[i - 1]) || !is_lower_alnum(s[i + 1]))
        return 0;
    } else if (!is_lower_alnum(s[i]) && s[i] != '-') {
      return 0;
    }
  }
  return 1;
}

/* Appends msg to a "; "-joined list. */
static void join_msg(struct kapi__sbuf *b, const char *prefix, const char *msg)
{
  if (b->len)
    kapi__sb_puts(b, "; ");
  kapi__sb_puts(b, prefix);
  kapi__sb_puts(b, msg);
}

/* IsQualifiedName: the problems with key joined by "; ", or nothing. */
static void check_label_key(const char *key, struct kapi__sbuf *out)
{
  const char *slash = strchr(key, '/');
  const char *name = key;
  size_t plen;
  char maxlen[64];

  if (slash && strchr(slash + 1, '/')) {
    join_msg(out, "a qualified name ", QNAME_ERR " with an optional DNS "
             "subdomain prefix and '/' (e.g. 'example.com/MyName')");
    return;
  }
  if (slash) {
    plen = (size_t)(slash - key);
    name = slash + 1;
    if (plen == 0) {
      join_msg(out, "prefix part ", "must be non-empty");
    } else {
      if (plen > SUBDOMAIN_MAX) {
        snprintf(maxlen, sizeof maxlen, "must be no more than %d characters",
                 SUBDOMAIN_MAX);
        join_msg(out, "prefix part ", maxlen);
      }
      if (!match_dns1123_subdomain(key, plen))
        join_msg(out, "prefix part ", SUBDOMAIN_ERR);
    }
  }
  if (*name == '\0') {
    join_msg(out, "name part ", "must be non-empty");
  } else if (strlen(name) > LABEL_MAX) {
    snprintf(maxlen, sizeof maxlen, "must be no more than %d characters",
             LABEL_MAX);
    join_msg(out, "name part ", maxlen);
  }
  if (!match_qualified_name(name, strlen(name)))
    join_msg(out, "name part ", QNAME_ERR);
}

/* IsValidLabelValue. */
static void check_label_value(const char *v, struct kapi__sbuf *out)
{
  size_t n = strlen(v);
  char maxlen[64];

  if (n > LABEL_MAX) {
    snprintf(maxlen, sizeof maxlen, "must be no more than %d characters",
             LABEL_MAX);
    join_msg(out, "", maxlen);
  }
  if (n > 0 && !match_qualified_name(v, n))
    join_msg(out, "", LABEL_VALUE_ERR);
}

/* strconv.ParseInt(s, 10, 64): optional sign, decimal digits, range
 * checked.  0 on success. */
static int parse_int64(const char *s, int64_t *ret)
{
  int neg = 0;
  uint64_t v = 0, lim;

  if (*s == '+' || *s == '-')
    neg = (*s++ == '-');
  if (*s == '\0')
    return -EINVAL;
  lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return -EINVAL;
    if (v > (lim - (uint64_t)(*s - '0')) / 10)
      return -ERANGE;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  *ret = neg ? (int64_t)(0 - v) : (int64_t)v;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Label selectors. */

enum label_op {
  OP_IN,
  OP_NOT_IN,
  OP_EQUALS,
  OP_DOUBLE_EQUALS,
  OP_NOT_EQUALS,
  OP_GREATER_THAN,
  OP_LESS_THAN,
  OP_EXISTS,
  OP_DOES_NOT_EXIST,
};

struct requirement {
  char *key;
  enum label_op op;
  char **values;
  size_t nvalues;
  size_t order; /* insertion index: makes the sort by key stable */
};

struct kapi_label_selector {
  struct requirement *reqs;
  size_t n, cap;
  int nothing; /* from a null LabelSelector: matches no object */
};

static void requirement_free(struct requirement *r)
{
  size_t i;

  for (i = 0; i < r->nvalues; i++)
    free(r->values[i]);
  free(r->values);
  free(r->key);
}

void kapi_label_selector_free(kapi_label_selector *s)
{
  size_t i;

  if (!s)
    return;
  for (i = 0; i < s->n; i++)
    requirement_free(&s->reqs[i]);
  free(s->reqs);
  free(s);
}

/* Appends a copy of value to r's values.  0 or -ENOMEM. */
static int requirement_add_value(struct requirement *r, const char *value)
{
  char **p = realloc(r->values, (r->nvalues + 1) * sizeof *p);

  if (!p)
    return -ENOMEM;
  r->values = p;
  p[r->nvalues] = strdup(value);
  if (!p[r->nvalues])
    return -ENOMEM;
  r->nvalues++;
  return 0;
}

/*
 * labels.NewRequirement's checks: every problem with the key, the
 * operator's value count and each value, as field errors under the
 * paths "key" and "values" (upstream's selectors carry no base path).
 */
static void requirement_validate(const struct requirement *r,
                                 struct errlist *errs)
{
  struct kapi__sbuf msg = {0}, bad = {0};
  char path[64];
  int64_t dummy;
  size_t i;

  check_label_key(r->key, &msg);
  if (msg.len)
    errlist_invalid_str(errs, "key", r->key, kapi__sb_str(&msg));
  kapi__sb_reset(&msg);

  go_json_strings(&bad, r->values, r->nvalues);
  switch (r->op) {
  case OP_IN:
  case OP_NOT_IN:
    if (r->nvalues == 0)
      errlist_invalid(errs, "values", kapi__sb_str(&bad),
                      "for 'in', 'notin' operators, values set can't be empty");
    break;
  case OP_EQUALS:
  case OP_DOUBLE_EQUALS:
  case OP_NOT_EQUALS:
    if (r->nvalues != 1)
      errlist_invalid(errs, "values", kapi__sb_str(&bad),
                      "exact-match compatibility requires one single value");
    break;
  case OP_EXISTS:
  case OP_DOES_NOT_EXIST:
    if (r->nvalues != 0)
      errlist_invalid(errs, "values", kapi__sb_str(&bad),
                      "values set must be empty for exists and does not exist");
    break;
  case OP_GREATER_THAN:
  case OP_LESS_THAN:
    if (r->nvalues != 1)
      errlist_invalid(errs, "values", kapi__sb_str(&bad),
                      "for 'Gt', 'Lt' operators, exactly one value is required");
    for (i = 0; i < r->nvalues; i++) {
      if (parse_int64(r->values[i], &dummy) == 0)
        continue;
      snprintf(path, sizeof path, "values[%zu]", i);
      errlist_invalid_str(errs, path, r->values[i],
                          "for 'Gt', 'Lt' operators, the value must be an "
                          "integer");
    }
    break;
  }
  if (bad.oom)
    errs->oom = 1;
  kapi__sb_free(&bad);

  for (i = 0; i < r->nvalues; i++) {
    check_label_value(r->values[i], &msg);
    if (msg.len) {
      struct kapi__sbuf p = {0};

      kapi__sb_printf(&p, "values[%zu][%s]", i, r->key);
      errlist_invalid_str(errs, kapi__sb_str(&p), r->values[i],
                          kapi__sb_str(&msg));
      if (p.oom)
        errs->oom = 1;
      kapi__sb_free(&p);
    }
    kapi__sb_reset(&msg);
  }
  if (msg.oom)
    errs->oom = 1;
  kapi__sb_free(&msg);
}

/*
 * Validates *r and moves it into s (r is emptied either way).  On a
 * validation error the aggregate text goes to msg and -EINVAL returns.
 */
static int selector_add(kapi_label_selector *s, struct requirement *r,
                        struct kapi__sbuf *msg)
{
  struct errlist errs = {0};
  struct requirement *p;
  int rc = 0;

  requirement_validate(r, &errs);
  if (errs.oom) {
    rc = -ENOMEM;
  } else if (errs.n) {
    errlist_format(&errs, msg);
    rc = msg->oom ? -ENOMEM : -EINVAL;
  } else if (s->n == s->cap) {
    p = realloc(s->reqs, (s->cap ? s->cap * 2 : 4) * sizeof *p);
    if (!p) {
      rc = -ENOMEM;
    } else {
      s->reqs = p;
      s->cap = s->cap ? s->cap * 2 : 4;
    }
  }
  errlist_free(&errs);
  if (rc < 0) {
    requirement_free(r);
  } else {
    r->order = s->n;
    s->reqs[s->n++] = *r;
  }
  memset(r, 0, sizeof *r);
  return rc;
}

static int requirement_cmp(const void *a, const void *b)
{
  const struct requirement *x = a, *y = b;
  int c = strcmp(x->key, y->key);

  if (c)
    return c;
  return x->order < y->order ? -1 : x->order > y->order;
}

/* Upstream sorts requirements by key; equal keys keep their order. */
static void selector_sort(kapi_label_selector *s)
{
  if (s->n > 1)
    qsort(s->reqs, s->n, sizeof *s->reqs, requirement_cmp);
}

/* --- Lexer ---------------------------------------------------------- */

enum token {
  TOK_ERROR,
  TOK_EOS,
  TOK_CLOSE_PAR,
  TOK_COMMA,
  TOK_NOT,       /* "!", DoesNotExistToken */
  TOK_DOUBLE_EQ,
  TOK_EQ,
  TOK_GT,
  TOK_IDENT,
  TOK_IN,
  TOK_LT,
  TOK_NOT_EQ,
  TOK_NOT_IN,
  TOK_OPEN_PAR,
};

struct scanned {
  enum token tok;
  char *lit; /* owned */
};

static const struct {
  const char *text;
  enum token tok;
} keywords[] = {
  {")", TOK_CLOSE_PAR}, {",", TOK_COMMA},   {"!", TOK_NOT},
  {"==", TOK_DOUBLE_EQ}, {"=", TOK_EQ},     {">", TOK_GT},
  {"in", TOK_IN},        {"<", TOK_LT},     {"!=", TOK_NOT_EQ},
  {"notin", TOK_NOT_IN}, {"(", TOK_OPEN_PAR},
};

static enum token keyword(const char *s, size_t n)
{
  size_t i;

  for (i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
    if (strlen(keywords[i].text) == n && memcmp(keywords[i].text, s, n) == 0)
      return keywords[i].tok;
  return TOK_ERROR;
}

static int is_whitespace(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int is_special(char c)
{
  return c != '\0' && strchr("=!(),><", c) != NULL;
}

/*
 * Scans the token starting at *pp (whitespace skipped) and advances
 * *pp.  Operators are read greedily for as long as the characters read
 * still form a known operator ("!=" rather than "!").
 */
static int lex(const char **pp, struct scanned *out)
{
  const char *p = *pp, *start;
  enum token t, last = TOK_ERROR;
  size_t lastlen = 0, n;

  while (is_whitespace(*p))
    p++;
  start = p;
  if (*p == '\0') {
    out->tok = TOK_EOS;
    out->lit = strdup("");
  } else if (is_special(*p)) {
    for (n = 1; is_special(start[n - 1]); n++) {
      t = keyword(start, n);
      if (t != TOK_ERROR) {
        last = t;
        lastlen = n;
      } else if (last != TOK_ERROR) {
        break;
      }
    }
    if (last == TOK_ERROR) {
      /* Unreachable with today's operator set (each special character
       * is an operator on its own), kept for upstream parity. */
      struct kapi__sbuf b = {0};

      kapi__sb_printf(&b, "error expected: keyword found '%.*s'",
                      (int)(n - 1), start);
      if (b.oom)
        kapi__sb_free(&b);
      out->tok = TOK_ERROR;
      out->lit = b.s;
      p = start + n - 1;
    } else {
      out->tok = last;
      out->lit = xstrndup(start, lastlen);
      p = start + lastlen;
    }
  } else {
    while (*p && !is_special(*p) && !is_whitespace(*p))
      p++;
    out->lit = xstrndup(start, (size_t)(p - start));
    t = keyword(start, (size_t)(p - start));
    out->tok = t == TOK_ERROR ? TOK_IDENT : t;
  }
  *pp = p;
  return out->lit ? 0 : -ENOMEM;
}

/* --- Parser --------------------------------------------------------- */

enum context { CTX_KEY_AND_OPERATOR, CTX_VALUES };

struct parser {
  struct scanned *items;
  size_t n, pos;
  struct kapi__sbuf msg; /* the error being reported */
};

static void parser_free(struct parser *p)
{
  size_t i;

  for (i = 0; i < p->n; i++)
    free(p->items[i].lit);
  free(p->items);
  kapi__sb_free(&p->msg);
}

/* Tokenises the whole input up front, as upstream does. */
static int parser_scan(struct parser *p, const char *text)
{
  struct scanned *items;
  size_t cap = 0;
  int rc;

  for (;;) {
    if (p->n == cap) {
      cap = cap ? cap * 2 : 16;
      items = realloc(p->items, cap * sizeof *items);
      if (!items)
        return -ENOMEM;
      p->items = items;
    }
    rc = lex(&text, &p->items[p->n]);
    if (rc < 0)
      return rc;
    if (p->items[p->n++].tok == TOK_EOS)
      return 0;
  }
}

/* In the values context the keywords "in" and "notin" are plain
 * identifiers ("x in (in)"). */
static enum token in_context(enum token t, enum context ctx)
{
  if (ctx == CTX_VALUES && (t == TOK_IN || t == TOK_NOT_IN))
    return TOK_IDENT;
  return t;
}

static enum token lookahead(struct parser *p, enum context ctx,
                            const char **lit)
{
  if (lit)
    *lit = p->items[p->pos].lit;
  return in_context(p->items[p->pos].tok, ctx);
}

/* The end-of-string token is never consumed past. */
static enum token consume(struct parser *p, enum context ctx,
                          const char **lit)
{
  enum token t = lookahead(p, ctx, lit);

  if (p->pos + 1 < p->n)
    p->pos++;
  return t;
}

static int fail(struct parser *p, const char *fmt, ...) KAPI_PRINTF(2, 3);
static int fail(struct parser *p, const char *fmt, ...)
{
  va_list ap;

  kapi__sb_reset(&p->msg);
  va_start(ap, fmt);
  kapi__sb_vprintf(&p->msg, fmt, ap);
  va_end(ap);
  return p->msg.oom ? -ENOMEM : -EINVAL;
}

/* Values are a set: kept sorted, without duplicates. */
static int value_set_insert(struct requirement *r, const char *v)
{
  size_t i, j;
  int c;
  int rc;

  for (i = 0; i < r->nvalues; i++) {
    c = strcmp(r->values[i], v);
    if (c == 0)
      return 0;
    if (c > 0)
      break;
  }
  rc = requirement_add_value(r, v);
  if (rc < 0)
    return rc;
  /* Rotate the new last element into place i. */
  for (j = r->nvalues - 1; j > i; j--) {
    char *t = r->values[j];

    r->values[j] = r->values[j - 1];
    r->values[j - 1] = t;
  }
  return 0;
}

/* [!] KEY; infers Exists/DoesNotExist when nothing follows the key.
 * *op is left at -1 when an operator must still be parsed. */
static int parse_key(struct parser *p, struct requirement *r, int *op)
{
  struct kapi__sbuf msg = {0};
  const char *lit;
  enum token t;
  int rc = 0;

  *op = -1;
  t = consume(p, CTX_VALUES, &lit);
  if (t == TOK_NOT) {
    *op = OP_DOES_NOT_EXIST;
    t = consume(p, CTX_VALUES, &lit);
  }
  if (t != TOK_IDENT)
    return fail(p, "found '%s', expected: identifier", lit);
  check_label_key(lit, &msg);
  if (msg.len) {
    /* Upstream validates with a nil field path, printed as "<nil>". */
    struct kapi__sbuf q = {0};

    kapi__go_quote(&q, lit);
    rc = fail(p, "<nil>: Invalid value: %s: %s", kapi__sb_str(&q),
              kapi__sb_str(&msg));
    if (q.oom)
      rc = -ENOMEM;
    kapi__sb_free(&q);
  } else {
    r->key = strdup(lit);
    if (!r->key)
      rc = -ENOMEM;
  }
  if (msg.oom)
    rc = -ENOMEM;
  kapi__sb_free(&msg);
  if (rc < 0)
    return rc;
  t = lookahead(p, CTX_VALUES, NULL);
  if ((t == TOK_EOS || t == TOK_COMMA) && *op != OP_DOES_NOT_EXIST)
    *op = OP_EXISTS;
  return 0;
}

/* A binary operator ("!k" never gets here: "!" completes a
 * requirement, so "!k=v" fails at the "="). */
static int parse_operator(struct parser *p, enum label_op *op)
{
  const char *lit;

  switch (consume(p, CTX_KEY_AND_OPERATOR, &lit)) {
  case TOK_IN: *op = OP_IN; break;
  case TOK_EQ: *op = OP_EQUALS; break;
  case TOK_DOUBLE_EQ: *op = OP_DOUBLE_EQUALS; break;
  case TOK_GT: *op = OP_GREATER_THAN; break;
  case TOK_LT: *op = OP_LESS_THAN; break;
  case TOK_NOT_IN: *op = OP_NOT_IN; break;
  case TOK_NOT_EQ: *op = OP_NOT_EQUALS; break;
  default:
    return fail(p, "found '%s', expected: in, notin, =, ==, !=, gt, lt", lit);
  }
  return 0;
}

/* A possibly empty list of possibly empty identifiers, up to (not
 * including) the closing parenthesis: "(a,,b)" holds "", "a", "b". */
static int parse_identifiers(struct parser *p, struct requirement *r)
{
  const char *lit;
  enum token t, t2;
  int rc;

  for (;;) {
    t = consume(p, CTX_VALUES, &lit);
    if (t == TOK_IDENT) {
      rc = value_set_insert(r, lit);
      if (rc < 0)
        return rc;
      t2 = lookahead(p, CTX_VALUES, &lit);
      if (t2 == TOK_COMMA)
        continue;
      if (t2 == TOK_CLOSE_PAR)
        return 0;
      return fail(p, "found '%s', expected: ',' or ')'", lit);
    }
    if (t != TOK_COMMA)
      return fail(p, "found '%s', expected: ',', or identifier", lit);
    /* A comma with nothing before or after it stands for "". */
    if (r->nvalues == 0 && (rc = value_set_insert(r, "")) < 0)
      return rc;
    t2 = lookahead(p, CTX_VALUES, NULL);
    if (t2 == TOK_CLOSE_PAR || t2 == TOK_COMMA) {
      if ((rc = value_set_insert(r, "")) < 0)
        return rc;
      if (t2 == TOK_CLOSE_PAR)
        return 0;
    }
  }
}

/* "(" values ")"; "()" is the set {""}. */
static int parse_values(struct parser *p, struct requirement *r)
{
  const char *lit;
  int rc;

  if (consume(p, CTX_VALUES, &lit) != TOK_OPEN_PAR)
    return fail(p, "found '%s' expected: '('", lit);
  switch (lookahead(p, CTX_VALUES, &lit)) {
  case TOK_IDENT:
  case TOK_COMMA:
    rc = parse_identifiers(p, r);
    if (rc < 0)
      return rc;
    consume(p, CTX_VALUES, NULL); /* the ')' parse_identifiers saw */
    return 0;
  case TOK_CLOSE_PAR:
    consume(p, CTX_VALUES, NULL);
    return value_set_insert(r, "");
  default:
    return fail(p, "found '%s', expected: ',', ')' or identifier", lit);
  }
}

/* The single value of =, ==, !=, >, <; absent means "". */
static int parse_exact_value(struct parser *p, struct requirement *r)
{
  const char *lit;
  enum token t = lookahead(p, CTX_VALUES, NULL);

  if (t == TOK_EOS || t == TOK_COMMA)
    return value_set_insert(r, "");
  if (consume(p, CTX_VALUES, &lit) == TOK_IDENT)
    return value_set_insert(r, lit);
  return fail(p, "found '%s', expected: identifier", lit);
}

/* One requirement, validated and added to s. */
static int parse_requirement(struct parser *p, kapi_label_selector *s)
{
  struct requirement r = {0};
  enum label_op op = OP_IN;
  int inferred, rc;

  rc = parse_key(p, &r, &inferred);
  if (rc == 0 && inferred >= 0) {
    r.op = (enum label_op)inferred;
    kapi__sb_reset(&p->msg);
    return selector_add(s, &r, &p->msg);
  }
  if (rc == 0)
    rc = parse_operator(p, &op);
  if (rc == 0) {
    r.op = op;
    if (op == OP_IN || op == OP_NOT_IN)
      rc = parse_values(p, &r);
    else
      rc = parse_exact_value(p, &r);
  }
  if (rc < 0) {
    requirement_free(&r);
    return rc;
  }
  kapi__sb_reset(&p->msg);
  return selector_add(s, &r, &p->msg);
}

/* requirement ("," requirement)* EOS; empty input is allowed. */
static int parse_selector(struct parser *p, kapi_label_selector *s)
{
  const char *lit;
  enum token t;
  int rc;

  for (;;) {
    t = lookahead(p, CTX_VALUES, &lit);
    if (t == TOK_EOS)
      return 0;
    if (t != TOK_IDENT && t != TOK_NOT)
      return fail(p, "found '%s', expected: !, identifier, or 'end of "
                  "string'", lit);
    rc = parse_requirement(p, s);
    if (rc == -EINVAL) {
      char *why = p->msg.s;

      memset(&p->msg, 0, sizeof p->msg);
      rc = fail(p, "unable to parse requirement: %s", why ? why : "");
      free(why);
    }
    if (rc < 0)
      return rc;
    t = consume(p, CTX_VALUES, &lit);
    if (t == TOK_EOS)
      return 0;
    if (t != TOK_COMMA)
      return fail(p, "found '%s', expected: ',' or 'end of string'", lit);
    t = lookahead(p, CTX_VALUES, &lit);
    if (t != TOK_IDENT && t != TOK_NOT)
      return fail(p, "found '%s', expected: identifier after ','", lit);
  }
}

int kapi_label_selector_parse(const char *text, kapi_label_selector **ret,
                              char *err, size_t errlen)
{
  struct parser p = {0};
  kapi_label_selector *s;
  int rc;

  *ret = NULL;
  s = calloc(1, sizeof *s);
  if (!s)
    return -ENOMEM;
  rc = parser_scan(&p, text ? text : "");
  if (rc == 0)
    rc = parse_selector(&p, s);
  if (rc == -EINVAL)
    copy_err(err, errlen, kapi__sb_str(&p.msg));
  parser_free(&p);
  if (rc < 0) {
    kapi_label_selector_free(s);
    return rc;
  }
  selector_sort(s);
  *ret = s;
  return 0;
}

/* --- metav1.LabelSelector ------------------------------------------- */

/* Maps a LabelSelectorOperator; -1 if unknown. */
static int expression_op(const char *name)
{
  if (strcmp(name, "In") == 0)
    return OP_IN;
  if (strcmp(name, "NotIn") == 0)
    return OP_NOT_IN;
  if (strcmp(name, "Exists") == 0)
    return OP_EXISTS;
  if (strcmp(name, "DoesNotExist") == 0)
    return OP_DOES_NOT_EXIST;
  return -1;
}

/* matchLabels: each k: v is the requirement k=v. */
static int add_match_labels(kapi_label_selector *s, const kj *labels,
                            struct kapi__sbuf *msg)
{
  struct requirement r;
  const char *v;
  size_t i;
  int rc;

  for (i = 0; i < kj_len(labels); i++) {
    v = kj_str(kj_at(labels, i));
    if (!v) {
      kapi__sb_printf(msg, "matchLabels: value of %s must be a string",
                      kj_key_at(labels, i));
      return -EINVAL;
    }
    memset(&r, 0, sizeof r);
    r.op = OP_EQUALS;
    r.key = strdup(kj_key_at(labels, i));
    if (!r.key || requirement_add_value(&r, v) < 0) {
      requirement_free(&r);
      return -ENOMEM;
    }
    rc = selector_add(s, &r, msg);
    if (rc < 0)
      return rc;
  }
  return 0;
}

/* One matchExpressions entry {key, operator, values}. */
static int add_match_expression(kapi_label_selector *s, const kj *expr,
                                struct kapi__sbuf *msg)
{
  const char *key = kj_get_str(expr, "key");
  const char *opname = kj_get_str(expr, "operator");
  const kj *values = kj_get(expr, "values");
  struct requirement r = {0};
  const char *v;
  size_t i;
  int op;

  op = expression_op(opname ? opname : "");
  if (op < 0) {
    kapi__go_quote(msg, opname ? opname : "");
    kapi__sb_puts(msg, " is not a valid label selector operator");
    return msg->oom ? -ENOMEM : -EINVAL;
  }
  r.op = (enum label_op)op;
  r.key = strdup(key ? key : "");
  if (!r.key)
    return -ENOMEM;
  for (i = 0; i < kj_len(values); i++) {
    v = kj_str(kj_at(values, i));
    if (!v) {
      requirement_free(&r);
      kapi__sb_puts(msg, "matchExpressions: values must be strings");
      return -EINVAL;
    }
    if (requirement_add_value(&r, v) < 0) {
      requirement_free(&r);
      return -ENOMEM;
    }
  }
  return selector_add(s, &r, msg);
}

int kapi_label_selector_from_object(const kj *sel, kapi_label_selector **ret,
                                    char *err, size_t errlen)
{
  struct kapi__sbuf msg = {0};
  kapi_label_selector *s;
  const kj *exprs;
  size_t i;
  int rc;

  *ret = NULL;
  s = calloc(1, sizeof *s);
  if (!s)
    return -ENOMEM;
  if (!sel || sel->type == KJ_NULL) {
    s->nothing = 1;
    *ret = s;
    return 0;
  }
  rc = add_match_labels(s, kj_get(sel, "matchLabels"), &msg);
  exprs = kj_get(sel, "matchExpressions");
  for (i = 0; rc == 0 && i < kj_len(exprs); i++)
    rc = add_match_expression(s, kj_at(exprs, i), &msg);
  if (rc == -EINVAL)
    copy_err(err, errlen, kapi__sb_str(&msg));
  kapi__sb_free(&msg);
  if (rc < 0) {
    kapi_label_selector_free(s);
    return rc;
  }
  selector_sort(s);
  *ret = s;
  return 0;
}

/* --- Matching and printing ------------------------------------------ */

static int requirement_has_value(const struct requirement *r, const char *v)
{
  size_t i;

  for (i = 0; v && i < r->nvalues; i++)
    if (strcmp(r->values[i], v) == 0)
      return 1;
  return 0;
}

/* A label whose value is not a string counts as present but equal to
 * nothing. */
static int requirement_matches(const struct requirement *r, const kj *labels)
{
  const kj *label = kj_get(labels, r->key);
  const char *v = kj_str(label);
  int64_t have, want;

  switch (r->op) {
  case OP_IN:
  case OP_EQUALS:
  case OP_DOUBLE_EQUALS:
    return label && requirement_has_value(r, v);
  case OP_NOT_IN:
  case OP_NOT_EQUALS:
    return !label || !requirement_has_value(r, v);
  case OP_EXISTS:
    return label != NULL;
  case OP_DOES_NOT_EXIST:
    return label == NULL;
  case OP_GREATER_THAN:
  case OP_LESS_THAN:
    if (!v || r->nvalues != 1 || parse_int64(v, &have) < 0 ||
        parse_int64(r->values[0], &want) < 0)
      return 0;
    return r->op == OP_GREATER_THAN ? have > want : have < want;
  }
  return 0;
}

int kapi_label_selector_matches(const kapi_label_selector *s,
                                const kj *labels)
{
  size_t i;

  if (s->nothing)
    return 0;
  for (i = 0; i < s->n; i++)
    if (!requirement_matches(&s->reqs[i], labels))
      return 0;
  return 1;
}

int kapi_label_selector_empty(const kapi_label_selector *s)
{
  return !s->nothing && s->n == 0;
}

static int str_ptr_cmp(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *op_text(enum label_op op)
{
  switch (op) {
  case OP_EQUALS: return "=";
  case OP_DOUBLE_EQUALS: return "==";
  case OP_NOT_EQUALS: return "!=";
  case OP_IN: return " in ";
  case OP_NOT_IN: return " notin ";
  case OP_GREATER_THAN: return ">";
  case OP_LESS_THAN: return "<";
  default: return "";
  }
}

/* Requirement.String(): values printed sorted, the selector untouched. */
static void requirement_print(const struct requirement *r,
                              struct kapi__sbuf *b)
{
  int set = r->op == OP_IN || r->op == OP_NOT_IN;
  char **sorted;
  size_t i;

  if (r->op == OP_DOES_NOT_EXIST)
    kapi__sb_putc(b, '!');
  kapi__sb_puts(b, r->key);
  if (r->op == OP_EXISTS || r->op == OP_DOES_NOT_EXIST)
    return;
  kapi__sb_puts(b, op_text(r->op));
  if (set)
    kapi__sb_putc(b, '(');
  sorted = malloc((r->nvalues ? r->nvalues : 1) * sizeof *sorted);
  if (!sorted) {
    b->oom = 1;
    return;
  }
  memcpy(sorted, r->values, r->nvalues * sizeof *sorted);
  qsort(sorted, r->nvalues, sizeof *sorted, str_ptr_cmp);
  for (i = 0; i < r->nvalues; i++) {
    if (i)
      kapi__sb_putc(b, ',');
    kapi__sb_puts(b, sorted[i]);
  }
  free(sorted);
  if (set)
    kapi__sb_putc(b, ')');
}

char *kapi_label_selector_string(const kapi_label_selector *s)
{
  struct kapi__sbuf b = {0};
  size_t i;

  for (i = 0; i < s->n; i++) {
    if (i)
      kapi__sb_putc(&b, ',');
    requirement_print(&s->reqs[i], &b);
  }
  if (b.oom) {
    kapi__sb_free(&b);
    return NULL;
  }
  return b.s ? b.s : strdup("");
}

/* ------------------------------------------------------------------ */
/* Field selectors. */

struct field_term {
  char *field;
  char *value; /* unescaped */
  int negated; /* != */
};

struct kapi_field_selector {
  struct field_term *terms;
  size_t n;
};

void kapi_field_selector_free(kapi_field_selector *s)
{
  size_t i;

  if (!s)
    return;
  for (i = 0; i < s->n; i++) {
    free(s->terms[i].field);
    free(s->terms[i].value);
  }
  free(s->terms);
  free(s);
}

/*
 * Splits text at commas not preceded by a backslash; the terms keep
 * their escapes.  *ret is a newly allocated array of new strings.
 */
static int split_terms(const char *text, char ***ret, size_t *ret_n)
{
  char **terms = NULL, **p;
  const char *start = text, *c;
  size_t n = 0;
  int in_slash = 0;

  for (c = text;; c++) {
    if (*c != '\0' && (in_slash || *c != ',')) {
      in_slash = !in_slash && *c == '\\';
      continue;
    }
    p = realloc(terms, (n + 1) * sizeof *p);
    if (!p)
      goto oom;
    terms = p;
    terms[n] = xstrndup(start, (size_t)(c - start));
    if (!terms[n])
      goto oom;
    n++;
    if (*c == '\0')
      break;
    start = c + 1;
  }
  *ret = terms;
  *ret_n = n;
  return 0;
oom:
  while (n > 0)
    free(terms[--n]);
  free(terms);
  return -ENOMEM;
}

/* The first "!=", "==" or "=" in term (tried in that order at each
 * position): the field is everything before it, unescaped or not. */
static int split_term(const char *term, size_t *lhs_len, size_t *op_len,
                      int *negated)
{
  const char *p;

  for (p = term; *p; p++) {
    if (p[0] == '!' && p[1] == '=') {
      *negated = 1, *op_len = 2;
    } else if (p[0] == '=' && p[1] == '=') {
      *negated = 0, *op_len = 2;
    } else if (p[0] == '=') {
      *negated = 0, *op_len = 1;
    } else {
      continue;
    }
    *lhs_len = (size_t)(p - term);
    return 1;
  }
  return 0;
}

/* fields.UnescapeValue: `\\`, `\,` and `\=` are the only escapes, and a
 * bare ',' or '=' is an error.  Go walks runes, so invalid UTF-8 turns
 * into U+FFFD once the slow path is taken. */
static int unescape_value(const char *s, char **ret, struct kapi__sbuf *msg)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t n = strlen(s), w;
  struct kapi__sbuf out = {0};
  int in_slash = 0;
  uint32_t r;

  if (!strpbrk(s, "\\,=")) {
    *ret = strdup(s);
    return *ret ? 0 : -ENOMEM;
  }
  for (; n > 0; p += w, n -= w) {
    w = kapi__utf8_decode(p, n, &r);
    if (in_slash) {
      if (r != '\\' && r != ',' && r != '=') {
        kapi__sb_puts(msg,
                      "invalid field selector: invalid escape sequence: \\");
        if (r == 0xfffd && w == 1)
          kapi__sb_puts(msg, "\xef\xbf\xbd");
        else
          kapi__sb_putn(msg, (const char *)p, w);
        goto fail;
      }
      kapi__sb_putc(&out, (char)r);
      in_slash = 0;
    } else if (r == '\\') {
      in_slash = 1;
    } else if (r == ',' || r == '=') {
      /* Upstream prints the rune with %v: its code point in decimal. */
      kapi__sb_printf(msg, "invalid field selector: unescaped character in "
                      "value: %u", (unsigned)r);
      goto fail;
    } else if (r == 0xfffd && w == 1) {
      kapi__sb_puts(&out, "\xef\xbf\xbd");
    } else {
      kapi__sb_putn(&out, (const char *)p, w);
    }
  }
  if (in_slash) {
    kapi__sb_puts(msg, "invalid field selector: invalid escape sequence: \\");
    goto fail;
  }
  if (out.oom) {
    kapi__sb_free(&out);
    return -ENOMEM;
  }
  *ret = out.s ? out.s : strdup("");
  return *ret ? 0 : -ENOMEM;
fail:
  kapi__sb_free(&out);
  return msg->oom ? -ENOMEM : -EINVAL;
}

static int term_str_cmp(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Parses one non-empty term into s->terms[s->n]. */
static int parse_term(kapi_field_selector *s, const char *text,
                      const char *term, struct kapi__sbuf *msg)
{
  struct field_term *t = &s->terms[s->n];
  size_t lhs_len, op_len;
  int rc;

  if (!split_term(term, &lhs_len, &op_len, &t->negated)) {
    kapi__sb_printf(msg, "invalid selector: '%s'; can't understand '%s'",
                    text, term);
    return msg->oom ? -ENOMEM : -EINVAL;
  }
  rc = unescape_value(term + lhs_len + op_len, &t->value, msg);
  if (rc < 0)
    return rc;
  t->field = xstrndup(term, lhs_len);
  if (!t->field) {
    free(t->value);
    return -ENOMEM;
  }
  s->n++;
  return 0;
}

int kapi_field_selector_parse(const char *text, kapi_field_selector **ret,
                              char *err, size_t errlen)
{
  struct kapi__sbuf msg = {0};
  kapi_field_selector *s;
  char **terms = NULL;
  size_t nterms = 0, i;
  int rc = 0;

  *ret = NULL;
  s = calloc(1, sizeof *s);
  if (!s)
    return -ENOMEM;
  if (text && *text)
    rc = split_terms(text, &terms, &nterms);
  if (rc == 0 && nterms) {
    /* Upstream sorts the raw terms; that fixes both the term order and
     * which bad term is reported first. */
    qsort(terms, nterms, sizeof *terms, term_str_cmp);
    s->terms = calloc(nterms, sizeof *s->terms);
    if (!s->terms)
      rc = -ENOMEM;
  }
  for (i = 0; rc == 0 && i < nterms; i++)
    if (*terms[i])
      rc = parse_term(s, text, terms[i], &msg);
  if (rc == -EINVAL)
    copy_err(err, errlen, kapi__sb_str(&msg));
  for (i = 0; i < nterms; i++)
    free(terms[i]);
  free(terms);
  kapi__sb_free(&msg);
  if (rc < 0) {
    kapi_field_selector_free(s);
    return rc;
  }
  *ret = s;
  return 0;
}

size_t kapi_field_selector_count(const kapi_field_selector *s)
{
  return s->n;
}

const char *kapi_field_selector_field(const kapi_field_selector *s,
                                      size_t i)
{
  return i < s->n ? s->terms[i].field : NULL;
}

int kapi_field_selector_matches(const kapi_field_selector *s,
                                kapi_field_lookup_fn lookup, void *arg)
{
  const char *have;
  size_t i;

  for (i = 0; i < s->n; i++) {
    have = lookup(s->terms[i].field, arg);
    if ((strcmp(have ? have : "", s->terms[i].value) == 0) ==
        s->terms[i].negated)
      return 0;
  }
  return 1;
}

const char *kapi_field_selector_requires(const kapi_field_selector *s,
                                         const char *field)
{
  size_t i;

  for (i = 0; i < s->n; i++)
    if (!s->terms[i].negated && strcmp(s->terms[i].field, field) == 0)
      return s->terms[i].value;
  return NULL;
}
