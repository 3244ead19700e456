/*
 * psa_text.c - the text helpers of the PodSecurity plugin: a growing
 * buffer and a list of strings, with upstream's joinQuote and Go's %q.
 *
 * Messages are built from many small pieces, so both types remember an
 * allocation failure instead of reporting it on every call; the caller
 * checks `oom` once at the end.
 */
/* strdup under a strict -std=c11 build too. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "psa_internal.h"

/* Makes room for `more` bytes plus the NUL; 0 or -ENOMEM (oom set). */
static int sb_reserve(psa_sb *b, size_t more)
{
  size_t cap;
  char *s;

  if (b->oom)
    return -ENOMEM;
  if (b->len + more + 1 <= b->cap)
    return 0;
  cap = b->cap ? b->cap : 64;
  while (cap < b->len + more + 1)
    cap *= 2;
  s = realloc(b->s, cap);
  if (!s) {
    b->oom = 1;
    return -ENOMEM;
  }
  b->s = s;
  b->cap = cap;
  return 0;
}

static void sb_putn(psa_sb *b, const char *s, size_t n)
{
  if (sb_reserve(b, n) < 0)
    return;
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

void psa_sb_puts(psa_sb *b, const char *s)
{
  sb_putn(b, s ? s : "", s ? strlen(s) : 0);
}

void psa_sb_printf(psa_sb *b, const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || sb_reserve(b, (size_t)n) < 0)
    return;
  va_start(ap, fmt);
  vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

/* strconv.Quote for the text we meet: label values, annotation values.
 * Bytes >= 0x80 are passed through (UTF-8 text prints as itself). */
void psa_sb_quote(psa_sb *b, const char *s)
{
  static const char named[] = "\a\b\f\n\r\t\v";
  static const char letter[] = "abfnrtv";
  const char *p;

  psa_sb_puts(b, "\"");
  for (p = s ? s : ""; *p; p++) {
    unsigned char c = (unsigned char)*p;
    const char *k = c ? strchr(named, c) : NULL;

    if (c == '"' || c == '\\')
      psa_sb_printf(b, "\\%c", c);
    else if (k)
      psa_sb_printf(b, "\\%c", letter[k - named]);
    else if (c < 0x20 || c == 0x7f)
      psa_sb_printf(b, "\\x%02x", c);
    else
      sb_putn(b, p, 1);
  }
  psa_sb_puts(b, "\"");
}

const char *psa_sb_str(const psa_sb *b)
{
  return b->s ? b->s : "";
}

void psa_sb_free(psa_sb *b)
{
  free(b->s);
  memset(b, 0, sizeof *b);
}

/* ---- string lists ------------------------------------------------------ */

/* Takes ownership of s (NULL: out of memory). */
static void sl_push(psa_sl *l, char *s)
{
  char **v;

  if (!s || l->oom) {
    free(s);
    l->oom = 1;
    return;
  }
  if (l->n == l->cap) {
    v = realloc(l->v, (l->cap ? l->cap * 2 : 8) * sizeof *v);
    if (!v) {
      free(s);
      l->oom = 1;
      return;
    }
    l->v = v;
    l->cap = l->cap ? l->cap * 2 : 8;
  }
  l->v[l->n++] = s;
}

void psa_sl_add(psa_sl *l, const char *s)
{
  sl_push(l, strdup(s ? s : ""));
}

void psa_sl_addf(psa_sl *l, const char *fmt, ...)
{
  va_list ap;
  char *s = NULL;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n >= 0 && (s = malloc((size_t)n + 1))) {
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
  }
  sl_push(l, s);
}

int psa_sl_has(const psa_sl *l, const char *s)
{
  for (size_t i = 0; i < l->n; i++)
    if (!strcmp(l->v[i], s))
      return 1;
  return 0;
}

/* strcmp compares as unsigned char: Go's byte order of strings. */
static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

void psa_sl_sort_unique(psa_sl *l)
{
  size_t i, out = 0;

  if (l->n < 2)
    return;
  qsort(l->v, l->n, sizeof *l->v, cmp_str);
  for (i = 0; i < l->n; i++) {
    if (out && !strcmp(l->v[out - 1], l->v[i])) {
      free(l->v[i]);
      continue;
    }
    l->v[out++] = l->v[i];
  }
  l->n = out;
}

void psa_sl_free(psa_sl *l)
{
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
  memset(l, 0, sizeof *l);
}

void psa_sb_join_quote(psa_sb *b, const psa_sl *l)
{
  for (size_t i = 0; i < l->n; i++)
    psa_sb_printf(b, "%s\"%s\"", i ? ", " : "", l->v[i]);
}

void psa_sb_join(psa_sb *b, const psa_sl *l, const char *sep)
{
  for (size_t i = 0; i < l->n; i++) {
    if (i)
      psa_sb_puts(b, sep);
    psa_sb_puts(b, l->v[i]);
  }
}
