/*
 * log.c - klog-style log lines.  One write(2) per line so that lines from
 * concurrent threads never interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

int kapi_log_verbosity = 0;

void kapi_log_at(char sev, const char *file, int line, const char *fmt, ...)
{
  char buf[4096];
  struct timeval tv;
  struct tm tm;
  const char *base = strrchr(file, '/');
  int n;
  va_list ap;

  gettimeofday(&tv, NULL);
  localtime_r(&tv.tv_sec, &tm);
  n = snprintf(buf, sizeof buf, "%c%02d%02d %02d:%02d:%02d.%06ld %7d %s:%d] ",
               sev, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
               tm.tm_sec, (long)tv.tv_usec, (int)getpid(),
               base ? base + 1 : file, line);
  va_start(ap, fmt);
  if (n > 0 && (size_t)n < sizeof buf)
    n += vsnprintf(buf + n, sizeof buf - n, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if ((size_t)n >= sizeof buf - 1)
    n = sizeof buf - 2;
  buf[n++] = '\n';
  if (write(STDERR_FILENO, buf, n) < 0) {
    /* Nowhere left to report it. */
  }
}
