/* log.h - one structured line per event worth logging, as JSON or as text.
 *
 * The level is checked before anything is formatted. Each line is written with a single
 * write(2) so lines from different threads never interleave. Logs go to stderr unless a file
 * is configured; SIGHUP reopens that file (arb_log_reopen, called from the main loop).
 * Never pass a secret, a signature value or a whole payload to these functions. */
#ifndef ARB_LOG_H
#define ARB_LOG_H

#include <stdbool.h>

#include "arb/error.h"
#include "arb/log_level.h"

/* file NULL or "" means stderr. */
int arb_log_setup(enum arb_log_level level, enum arb_log_format format, const char *file,
                  struct arb_error *err);
int arb_log_reopen(struct arb_error *err);
void arb_log_shutdown(void);

bool arb_log_enabled(enum arb_log_level level);

/* msg, then key/value string pairs, then NULL: arb_log_kv(ARB_LOG_INFO, "listening",
 * "addr", "127.0.0.1:8080", NULL). A NULL value is skipped. */
void arb_log_kv(enum arb_log_level level, const char *msg, ...) __attribute__((sentinel));

/* A printf-formatted message without fields. */
void arb_logf(enum arb_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define arb_log_error(...) arb_logf(ARB_LOG_ERROR, __VA_ARGS__)
#define arb_log_warn(...) arb_logf(ARB_LOG_WARN, __VA_ARGS__)
#define arb_log_info(...) arb_logf(ARB_LOG_INFO, __VA_ARGS__)
#define arb_log_debug(...) arb_logf(ARB_LOG_DEBUG, __VA_ARGS__)

const char *arb_log_level_name(enum arb_log_level level);

#endif
