/*
 * sbuf.c - the growable string buffer of sbuf.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sbuf.h"

void kapi__sb_reserve(struct kapi__sbuf *b, size_t extra)
{
  size_t want;
  char *p;

  if (b->oom)
    return;
  want = b->len + extra + 1;
  if (want <= b->cap)
    return;
  /* Doubling keeps a long run of small appends linear. */
  if (want < 64)
    want = 64;
  if (want < b->cap * 2)
    want = b->cap * 2;
  p = realloc(b->s, want);
  if (!p) {
    b->oom = 1;
    return;
  }
  b->s = p;
  b->cap = want;
}

void kapi__sb_putn(struct kapi__sbuf *b, const char *s, size_t n)
{
  kapi__sb_reserve(b, n);
  if (b->oom)
    return;
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

void kapi__sb_puts(struct kapi__sbuf *b, const char *s)
{
  kapi__sb_putn(b, s, strlen(s));
}

void kapi__sb_putc(struct kapi__sbuf *b, char c)
{
  kapi__sb_putn(b, &c, 1);
}

void kapi__sb_vprintf(struct kapi__sbuf *b, const char *fmt, va_list ap)
{
  va_list copy;
  int n;

  /* Measure first with a copy: `ap` is needed again for the write. */
  va_copy(copy, ap);
  n = vsnprintf(NULL, 0, fmt, copy);
  va_end(copy);
  if (n < 0) {
    b->oom = 1;
    return;
  }
  kapi__sb_reserve(b, (size_t)n);
  if (b->oom)
    return;
  vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
}

void kapi__sb_printf(struct kapi__sbuf *b, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  kapi__sb_vprintf(b, fmt, ap);
  va_end(ap);
}

const char *kapi__sb_str(const struct kapi__sbuf *b)
{
  return b->s ? b->s : "";
}

void kapi__sb_reset(struct kapi__sbuf *b)
{
  b->len = 0;
  if (b->s)
    b->s[0] = '\0';
}

char *kapi__sb_take(struct kapi__sbuf *b)
{
  char *s;

  if (b->oom) {
    kapi__sb_free(b);
    return NULL;
  }
  /* Nothing appended still yields a string the caller can free. */
  s = b->s ? b->s : strdup("");
  memset(b, 0, sizeof *b);
  return s;
}

void kapi__sb_free(struct kapi__sbuf *b)
{
  free(b->s);
  memset(b, 0, sizeof *b);
}

void kapi__sb_put_escaped(struct kapi__sbuf *b, const char *s)
{
  static const char hex[] = "0123456789ABCDEF";

  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      kapi__sb_putc(b, (char)c);
    } else {
      kapi__sb_putc(b, '%');
      kapi__sb_putc(b, hex[c >> 4]);
      kapi__sb_putc(b, hex[c & 15]);
    }
  }
}
