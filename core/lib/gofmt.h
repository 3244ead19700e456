/*
 * gofmt.h - Go's formatting of strings, byte for byte.
 *
 * Upstream error messages print names and bad values with %q
 * (strconv.Quote) and lists or objects with encoding/json; clients show
 * them and tests compare them, so kapi must produce the same bytes.
 * Internal to libkapi; names start with `kapi__` (see sbuf.h).
 *
 * All functions borrow their arguments and append to the caller's
 * buffer; out-of-memory shows as b->oom, as for any sbuf append.
 */
#ifndef KAPI_GOFMT_H
#define KAPI_GOFMT_H

#include <stddef.h>
#include <stdint.h>

#include "sbuf.h"

/*
 * Decodes one UTF-8 sequence at s (n > 0 bytes left) like Go's range
 * loop: returns its width and sets *r, or returns 1 with U+FFFD when
 * invalid (overlong forms, surrogates and values past U+10FFFF
 * included).  A real U+FFFD in the input has width 3, which is how
 * callers tell the two apart.
 */
size_t kapi__utf8_decode(const unsigned char *s, size_t n, uint32_t *r);

/* Appends the NUL-terminated s quoted as Go's %q verb does. */
void kapi__go_quote(struct kapi__sbuf *b, const char *s);
/* Same for the n bytes at s, which may hold NULs (JSON strings do). */
void kapi__go_quote_n(struct kapi__sbuf *b, const char *s, size_t n);

/* Appends the NUL-terminated s as encoding/json writes a string, with
 * its default HTML-safe escaping of <, > and &. */
void kapi__go_json_string(struct kapi__sbuf *b, const char *s);
/* Same for the n bytes at s. */
void kapi__go_json_string_n(struct kapi__sbuf *b, const char *s, size_t n);

#endif
