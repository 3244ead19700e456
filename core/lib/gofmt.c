/*
 * gofmt.c - Go's %q and encoding/json string formatting (gofmt.h).
 */
#include <stdint.h>
#include <string.h>

#include "gofmt.h"

size_t kapi__utf8_decode(const unsigned char *s, size_t n, uint32_t *r)
{
  uint32_t c = s[0], min;
  size_t w, i;

  if (c < 0x80) {
    *r = c;
    return 1;
  }
  if (c >= 0xc2 && c <= 0xdf) {
    w = 2, c &= 0x1f, min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    w = 3, c &= 0x0f, min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    w = 4, c &= 0x07, min = 0x10000;
  } else {
    goto bad;
  }
  if (w > n)
    goto bad;
  for (i = 1; i < w; i++) {
    if ((s[i] & 0xc0) != 0x80)
      goto bad;
    c = (c << 6) | (s[i] & 0x3f);
  }
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
    goto bad;
  *r = c;
  return w;
bad:
  *r = 0xfffd;
  return 1;
}

/* strconv.IsPrint, approximated: Go consults the Unicode tables; here
 * every non-ASCII rune is printable except the controls, spaces,
 * format characters, private-use areas and non-characters that Go's
 * tables exclude. */
static int go_is_print(uint32_t r)
{
  if (r < 0x80)
    return r >= 0x20 && r < 0x7f;
  if (r <= 0xa0 || r == 0xad || r == 0x1680 || r == 0x3000 || r == 0xfeff)
    return 0;
  if ((r >= 0x2000 && r <= 0x200f) || (r >= 0x2028 && r <= 0x202f) ||
      (r >= 0x205f && r <= 0x206f) || (r >= 0xe000 && r <= 0xf8ff) ||
      (r >= 0xfff0 && r <= 0xfffb) || (r & 0xfffe) == 0xfffe)
    return 0;
  if (r >= 0xe0000) /* tags and private use; variation selectors print */
    return r >= 0xe0100 && r <= 0xe01ef;
  return 1;
}

/* strconv.Quote's escape for a rune that does not print. */
static void quote_unprintable(struct kapi__sbuf *b, uint32_t r)
{
  switch (r) {
  case '\a': kapi__sb_puts(b, "\\a"); break;
  case '\b': kapi__sb_puts(b, "\\b"); break;
  case '\f': kapi__sb_puts(b, "\\f"); break;
  case '\n': kapi__sb_puts(b, "\\n"); break;
  case '\r': kapi__sb_puts(b, "\\r"); break;
  case '\t': kapi__sb_puts(b, "\\t"); break;
  case '\v': kapi__sb_puts(b, "\\v"); break;
  default:
    if (r < 0x20 || r == 0x7f)
      kapi__sb_printf(b, "\\x%02x", (unsigned)r);
    else if (r < 0x10000)
      kapi__sb_printf(b, "\\u%04x", (unsigned)r);
    else
      kapi__sb_printf(b, "\\U%08x", (unsigned)r);
  }
}

/* Writes one rune: the w bytes at p, which decode to r (U+FFFD with
 * w == 1 for an invalid byte). */
typedef void rune_writer(struct kapi__sbuf *b, const unsigned char *p,
                         size_t w, uint32_t r);

/* One rune of strconv.Quote. */
static void quote_rune(struct kapi__sbuf *b, const unsigned char *p, size_t w,
                       uint32_t r)
{
  if (r == 0xfffd && w == 1) {
    /* Go keeps an invalid byte as \x.., not as U+FFFD. */
    kapi__sb_printf(b, "\\x%02x", p[0]);
  } else if (r == '"' || r == '\\') {
    kapi__sb_putc(b, '\\');
    kapi__sb_putc(b, (char)r);
  } else if (go_is_print(r)) {
    kapi__sb_putn(b, (const char *)p, w);
  } else {
    quote_unprintable(b, r);
  }
}

/* One rune of encoding/json's string encoder, HTML-safe. */
static void json_rune(struct kapi__sbuf *b, const unsigned char *p, size_t w,
                      uint32_t r)
{
  if (r == 0xfffd && w == 1)
    kapi__sb_puts(b, "\\ufffd"); /* encoding/json replaces bad bytes */
  else if (r == '"' || r == '\\')
    kapi__sb_printf(b, "\\%c", (char)r);
  else if (r == '\n')
    kapi__sb_puts(b, "\\n");
  else if (r == '\r')
    kapi__sb_puts(b, "\\r");
  else if (r == '\t')
    kapi__sb_puts(b, "\\t");
  else if (r == '\b')
    kapi__sb_puts(b, "\\b");
  else if (r == '\f')
    kapi__sb_puts(b, "\\f");
  else if (r < 0x20 || r == '<' || r == '>' || r == '&' || r == 0x2028 ||
           r == 0x2029)
    kapi__sb_printf(b, "\\u%04x", (unsigned)r);
  else
    kapi__sb_putn(b, (const char *)p, w);
}

/* Both quoters walk the bytes rune by rune as Go's range loop does and
 * differ only in how one rune is written. */
static void put_quoted(struct kapi__sbuf *b, const char *s, size_t n,
                       rune_writer *put_rune)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t w;
  uint32_t r;

  kapi__sb_putc(b, '"');
  for (; n > 0; p += w, n -= w) {
    w = kapi__utf8_decode(p, n, &r);
    put_rune(b, p, w, r);
  }
  kapi__sb_putc(b, '"');
}

void kapi__go_quote_n(struct kapi__sbuf *b, const char *s, size_t n)
{
  put_quoted(b, s, n, quote_rune);
}

void kapi__go_quote(struct kapi__sbuf *b, const char *s)
{
  kapi__go_quote_n(b, s, strlen(s));
}

void kapi__go_json_string_n(struct kapi__sbuf *b, const char *s, size_t n)
{
  put_quoted(b, s, n, json_rune);
}

void kapi__go_json_string(struct kapi__sbuf *b, const char *s)
{
  kapi__go_json_string_n(b, s, strlen(s));
}
