/* log_level.h - the levels and formats of log lines, shared by the configuration (which
 * chooses them) and the logger (platform/log.c, which writes them). */
#ifndef ARB_LOG_LEVEL_H
#define ARB_LOG_LEVEL_H

enum arb_log_level { ARB_LOG_ERROR = 0, ARB_LOG_WARN, ARB_LOG_INFO, ARB_LOG_DEBUG };
enum arb_log_format { ARB_LOG_TEXT = 0, ARB_LOG_JSON };

#endif
