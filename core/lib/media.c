/*
 * media.c - the Accept header parser of media.h, shared by discovery.c
 * and table.c.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "media.h"

/* Copies [s, e) trimmed of blanks and quotes into dst; a value too long
 * for dst becomes "?" so that it can never match. */
static void copy_token(char *dst, size_t cap, const char *s, const char *e)
{
  size_t n;
  while (s < e && isspace((unsigned char)*s))
    s++;
  while (e > s && isspace((unsigned char)e[-1]))
    e--;
  if (e - s >= 2 && *s == '"' && e[-1] == '"') {
    s++;
    e--;
  }
  n = (size_t)(e - s);
  if (n >= cap) {
    strcpy(dst, "?");
    return;
  }
  memcpy(dst, s, n);
  dst[n] = '\0';
}

static void parse_param(struct kapi__media_range *m, const char *s,
                        const char *e)
{
  char key[16];
  const char *eq = memchr(s, '=', (size_t)(e - s));
  if (!eq)
    return;
  copy_token(key, sizeof key, s, eq);
  if (!strcasecmp(key, "as"))
    copy_token(m->as, sizeof m->as, eq + 1, e);
  else if (!strcasecmp(key, "g"))
    copy_token(m->g, sizeof m->g, eq + 1, e);
  else if (!strcasecmp(key, "v"))
    copy_token(m->v, sizeof m->v, eq + 1, e);
}

int kapi__media_next(const char **p, struct kapi__media_range *m)
{
  const char *s = *p, *end, *semi;

  while (*s == ',' || isspace((unsigned char)*s))
    s++;
  if (!*s)
    return 0;
  end = strchr(s, ',');
  if (!end)
    end = s + strlen(s);
  memset(m, 0, sizeof *m);
  semi = memchr(s, ';', (size_t)(end - s));
  copy_token(m->type, sizeof m->type, s, semi ? semi : end);
  while (semi) {
    const char *next = memchr(semi + 1, ';', (size_t)(end - semi - 1));
    parse_param(m, semi + 1, next ? next : end);
    semi = next;
  }
  *p = end;
  return 1;
}
