/*
 * log.h - klog-style logging to stderr:
 *   I1127 12:00:00.000000    1234 file.c:42] message
 * Severity letters I/W/E/F; verbose messages (kapi_v(n)) show with -v n.
 */
#ifndef KAPI_LOG_H
#define KAPI_LOG_H

#include <stdlib.h>

#include "kapi/plugin.h"

extern int kapi_log_verbosity;

void kapi_log_at(char sev, const char *file, int line, const char *fmt, ...)
    KAPI_PRINTF(4, 5);

#define kapi_v(n) (kapi_log_verbosity >= (n))
#define LOG_INFO(...) kapi_log_at('I', __FILE__, __LINE__, __VA_ARGS__)
#define LOG_WARN(...) kapi_log_at('W', __FILE__, __LINE__, __VA_ARGS__)
#define LOG_ERROR(...) kapi_log_at('E', __FILE__, __LINE__, __VA_ARGS__)
#define LOG_V(n, ...)                                                   \
  do {                                                                  \
    if (kapi_v(n))                                                      \
      kapi_log_at('I', __FILE__, __LINE__, __VA_ARGS__);                \
  } while (0)
/* Logs and aborts: for states the process must not continue from. */
#define LOG_FATAL(...)                                                  \
  do {                                                                  \
    kapi_log_at('F', __FILE__, __LINE__, __VA_ARGS__);                  \
    abort();                                                            \
  } while (0)

#endif
