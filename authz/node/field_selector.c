/*
 * field_selector.c - one requirement of a field selector (see
 * field_selector.h).
 *
 * Upstream's grammar (apimachinery/pkg/fields/selector.go): terms are
 * separated by unescaped commas; a term splits at the first position
 * where "!=", "==" or "=" begins (tried in that order); the value's
 * backslash escapes are "\\", "\," and "\=", any other escape makes the
 * selector invalid.  "=" and "==" both mean equality.
 */
#include <string.h>

#include "field_selector.h"

/* The end of the term starting at s: the next unescaped comma or NUL. */
static const char *term_end(const char *s)
{
  for (; *s && *s != ','; s++)
    if (*s == '\\' && s[1])
      s++;
  return s;
}

/* Splits [term, end) at its operator: lhs is [term, *op), the value
 * starts at *rhs.  Returns 0 (and *negated) or -1 without an operator. */
static int split_term(const char *term, const char *end, const char **op,
                      const char **rhs, int *negated)
{
  const char *p;

  for (p = term; p < end; p++) {
    if (p + 1 < end && p[0] == '!' && p[1] == '=') {
      *op = p, *rhs = p + 2, *negated = 1;
      return 0;
    }
    if (p + 1 < end && p[0] == '=' && p[1] == '=') {
      *op = p, *rhs = p + 2, *negated = 0;
      return 0;
    }
    if (p[0] == '=') {
      *op = p, *rhs = p + 1, *negated = 0;
      return 0;
    }
  }
  return -1;
}

/* Unescapes [s, end) into buf: 1 done, 0 when it does not fit, -1 on an
 * invalid escape. */
static int unescape(const char *s, const char *end, char *buf, size_t len)
{
  size_t n = 0;
  int fits = 1;

  for (; s < end; s++) {
    char c = *s;
    if (c == '\\') {
      if (s + 1 >= end || (s[1] != '\\' && s[1] != ',' && s[1] != '='))
        return -1;
      c = *++s;
    } else if (c == ',' || c == '=') {
      return -1; /* an unescaped special in a value */
    }
    if (n + 1 < len)
      buf[n++] = c;
    else
      fits = 0;
  }
  if (len)
    buf[n < len ? n : len - 1] = '\0';
  return fits;
}

int field_selector_value(const char *selector, const char *field, char *buf,
                         size_t len)
{
  const char *term = selector ? selector : "";
  size_t flen = strlen(field);
  int found = 0;
  char scratch[8];

  while (*term) {
    const char *end = term_end(term), *op, *rhs;
    int negated, rc;

    if (end > term) {
      if (split_term(term, end, &op, &rhs, &negated) < 0)
        return 0;
      /* Every term must parse, even after a match: upstream rejects the
       * whole selector otherwise. */
      if (!found && !negated && (size_t)(op - term) == flen &&
          !strncmp(term, field, flen)) {
        rc = unescape(rhs, end, buf, len);
        if (rc < 0)
          return 0;
        found = rc;
        if (!rc)
          return 0;
      } else if (unescape(rhs, end, scratch, sizeof scratch) < 0) {
        return 0;
      }
    }
    term = *end ? end + 1 : end;
  }
  return found;
}
