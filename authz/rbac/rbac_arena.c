/*
 * rbac_arena.c - memory of one compiled policy, and the text buffers the
 * plugin writes its messages into.
 *
 * A policy is built once, read by many threads, and thrown away whole
 * when the store changes: an arena makes that one free and keeps the
 * strings of a rule close together.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rbac_internal.h"

#define CHUNK_SIZE 16384
#define ALIGN 16

struct rbac_chunk {
  rbac_chunk *next;
  size_t used, cap;
  _Alignas(ALIGN) unsigned char data[];
};

void *rbac_arena_alloc(rbac_arena *a, size_t n)
{
  rbac_chunk *c = a->head;
  void *p;

  n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
  if (!n)
    n = ALIGN;
  if (!c || c->cap - c->used < n) {
    size_t cap = n > CHUNK_SIZE ? n : CHUNK_SIZE;

    c = malloc(sizeof *c + cap);
    if (!c)
      return NULL;
    c->used = 0;
    c->cap = cap;
    /* A big block gets a chunk of its own behind the current one, so
     * the current chunk's free space is not wasted. */
    if (a->head && cap > CHUNK_SIZE) {
      c->next = a->head->next;
      a->head->next = c;
    } else {
      c->next = a->head;
      a->head = c;
    }
  }
  p = c->data + c->used;
  c->used += n;
  memset(p, 0, n);
  return p;
}

char *rbac_arena_strdup(rbac_arena *a, const char *s)
{
  size_t n;
  char *d;

  if (!s)
    return NULL;
  n = strlen(s) + 1;
  d = rbac_arena_alloc(a, n);
  if (d)
    memcpy(d, s, n);
  return d;
}

void rbac_arena_free(rbac_arena *a)
{
  rbac_chunk *c = a->head, *next;

  for (; c; c = next) {
    next = c->next;
    free(c);
  }
  a->head = NULL;
}

/* ---- text buffers ------------------------------------------------------ */

static int buf_reserve(rbac_buf *b, size_t more)
{
  size_t cap;
  char *s;

  if (b->oom)
    return -ENOMEM;
  if (b->len + more + 1 <= b->cap)
    return 0;
  cap = b->cap ? b->cap : 128;
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

void rbac_buf_add(rbac_buf *b, const char *s, size_t n)
{
  if (buf_reserve(b, n) < 0)
    return;
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

void rbac_buf_puts(rbac_buf *b, const char *s)
{
  rbac_buf_add(b, s, strlen(s));
}

void rbac_buf_printf(rbac_buf *b, const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || buf_reserve(b, (size_t)n) < 0)
    return;
  va_start(ap, fmt);
  vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s)
{
  size_t n, i;
  unsigned cp;

  if (s[0] < 0x80)
    return 1;
  if (s[0] >= 0xc2 && s[0] <= 0xdf) {
    n = 2;
    cp = s[0] & 0x1f;
  } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
    n = 3;
    cp = s[0] & 0x0f;
  } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
    n = 4;
    cp = s[0] & 0x07;
  } else {
    return 0;
  }
  for (i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
      (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
    return 0;
  return n;
}

/* strconv.Quote: printable text as is, the usual backslash escapes,
 * other control bytes and invalid UTF-8 as \xHH.  (Non-printable
 * non-ASCII runes, which Go writes as \u, are passed through.) */
void rbac_buf_go_quote(rbac_buf *b, const char *s)
{
  const unsigned char *p = (const unsigned char *)s;
  char esc[8];
  size_t n;

  rbac_buf_add(b, "\"", 1);
  while (*p) {
    const char *rep = NULL;

    switch (*p) {
    case '"': rep = "\\\""; break;
    case '\\': rep = "\\\\"; break;
    case '\a': rep = "\\a"; break;
    case '\b': rep = "\\b"; break;
    case '\f': rep = "\\f"; break;
    case '\n': rep = "\\n"; break;
    case '\r': rep = "\\r"; break;
    case '\t': rep = "\\t"; break;
    case '\v': rep = "\\v"; break;
    default: break;
    }
    if (rep) {
      rbac_buf_puts(b, rep);
      p++;
      continue;
    }
    n = utf8_len(p);
    if (n == 0 || *p < 0x20 || *p == 0x7f) {
      snprintf(esc, sizeof esc, "\\x%02x", *p);
      rbac_buf_puts(b, esc);
      p++;
      continue;
    }
    rbac_buf_add(b, (const char *)p, n);
    p += n;
  }
  rbac_buf_add(b, "\"", 1);
}

void rbac_buf_json_string(rbac_buf *b, const char *s)
{
  const unsigned char *p = (const unsigned char *)s;
  char esc[8];

  rbac_buf_add(b, "\"", 1);
  for (; *p; p++) {
    if (*p == '"' || *p == '\\') {
      esc[0] = '\\';
      esc[1] = (char)*p;
      rbac_buf_add(b, esc, 2);
    } else if (*p < 0x20) {
      snprintf(esc, sizeof esc, "\\u%04x", *p);
      rbac_buf_puts(b, esc);
    } else {
      rbac_buf_add(b, (const char *)p, 1);
    }
  }
  rbac_buf_add(b, "\"", 1);
}

const char *rbac_buf_str(const rbac_buf *b)
{
  return b->s ? b->s : "";
}

void rbac_buf_free(rbac_buf *b)
{
  free(b->s);
  memset(b, 0, sizeof *b);
}
