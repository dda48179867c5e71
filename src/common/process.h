/* process.h - what both binaries' main() share: signal handlers that only set flags (the
 * main loops act on them), the log set up from its group, and printing configuration
 * errors. */
#ifndef ARB_PROCESS_H
#define ARB_PROCESS_H

#include <signal.h>

#include "arb/config.h"

#define ARB_EXIT_CONFIG 1 /* a configuration or start-up error */
#define ARB_EXIT_FATAL 2  /* a fatal runtime error, or a second SIGINT */

/* SIGTERM and SIGINT set arb_stop_requested (a second SIGINT exits at once with
 * ARB_EXIT_FATAL); SIGHUP sets arb_reopen_requested; SIGPIPE is ignored. */
extern volatile sig_atomic_t arb_stop_requested;
extern volatile sig_atomic_t arb_reopen_requested;
void arb_signals_install(void);

/* Threads started between these two have SIGTERM, SIGINT and SIGHUP blocked, so the
 * handlers run on the thread that unblocks them, whose sleep they interrupt: its loop acts
 * at once, not at its next tick. */
void arb_signals_block(void);
void arb_signals_unblock(void);

/* The log as its group says, then the signal handlers: 0, or -1 with the reason on stderr. */
int arb_process_start(const struct arb_log_conf *log);

/* Every error on stderr, one "file:line: message" per line. */
void arb_conf_errors_print(const struct arb_conf_errors *errors);

#endif
