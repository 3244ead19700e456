/*
 * sbuf.h - a growable, always NUL-terminated string buffer.
 *
 * Internal to libkapi (not installed, never seen by plugins), shared by
 * the core files that build messages piece by piece.  Following the
 * project rule for non-static names that are not public API, every name
 * here starts with `kapi__`.
 *
 * Out-of-memory is sticky: once an allocation fails, `oom` is set and
 * every later append is a no-op, so formatting code appends freely and
 * checks once at the end.
 *
 * A zeroed buffer (`struct kapi__sbuf b = {0};`) is empty and ready.
 * The buffer owns `s`; callers may read `s`, `len` and `oom` directly,
 * set `oom` to mark a failure of their own, or steal `s` (then zero
 * the struct), but must grow it only through these functions.
 */
#ifndef KAPI_SBUF_H
#define KAPI_SBUF_H

#include <stdarg.h>
#include <stddef.h>

#include "kapi/plugin.h" /* KAPI_PRINTF */

struct kapi__sbuf {
  char *s;        /* owned; NULL until the first append */
  size_t len, cap;
  int oom;        /* sticky: an allocation failed */
};

/* Makes room for `extra` more bytes plus the NUL; sets oom on failure. */
void kapi__sb_reserve(struct kapi__sbuf *b, size_t extra);

/* Append functions: the bytes are copied (the arguments stay the
 * caller's); they do nothing once b->oom is set. */
void kapi__sb_putn(struct kapi__sbuf *b, const char *s, size_t n);
void kapi__sb_puts(struct kapi__sbuf *b, const char *s);
void kapi__sb_putc(struct kapi__sbuf *b, char c);
/* s percent-encoded for a URL path segment or query value: everything
 * but RFC 3986's unreserved characters (as curl_easy_escape). */
void kapi__sb_put_escaped(struct kapi__sbuf *b, const char *s);
void kapi__sb_printf(struct kapi__sbuf *b, const char *fmt, ...)
    KAPI_PRINTF(2, 3);
/* `ap` is consumed, as by vsnprintf. */
void kapi__sb_vprintf(struct kapi__sbuf *b, const char *fmt, va_list ap);

/* The text so far, "" if nothing was appended.  Borrowed from b: valid
 * until the next append, reset, take or free. */
const char *kapi__sb_str(const struct kapi__sbuf *b);

/* Empties b but keeps its memory for reuse. */
void kapi__sb_reset(struct kapi__sbuf *b);

/* Hands the text over: the caller owns (and frees) the result, b is
 * left empty.  NULL when out of memory, now or earlier (b is freed). */
char *kapi__sb_take(struct kapi__sbuf *b);

/* Frees the text and leaves b zeroed, ready for reuse. */
void kapi__sb_free(struct kapi__sbuf *b);

#endif
