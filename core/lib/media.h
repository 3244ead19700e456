/*
 * media.h - the media ranges of an HTTP Accept header.
 *
 * Owned by libkapi's content negotiation: discovery.c (aggregated
 * discovery) and table.c (meta.k8s.io Tables) read Accept the same way,
 * so they share this one parser rather than each keeping a copy.
 * Internal to libkapi; names start with `kapi__` (see sbuf.h).
 *
 * Only the type and the parameters kapi negotiates on (as, g, v) are
 * kept; quality values and other parameters are ignored, since the
 * first range kapi serves wins.
 */
#ifndef KAPI_MEDIA_H
#define KAPI_MEDIA_H

/* One media range of an Accept header.  Fields absent from the range are
 * "", and a value too long for its field is "?" so that it never
 * matches. */
struct kapi__media_range {
  char type[64];
  char as[48];
  char g[48];
  char v[16];
};

/* Parses the media range at *p (somewhere in a NUL-terminated Accept
 * header) into m and moves *p past it.  Returns 0 when the header has no
 * more ranges. */
int kapi__media_next(const char **p, struct kapi__media_range *m);

#endif
