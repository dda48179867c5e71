/* debug.h - airudder-replay's debug mode: read a chosen stretch of history (from the
 * beginning, a time or explicit offsets, up to a time or the end offsets taken at start, or
 * following new records), keep the records of the chosen conversations, events and sender
 * types, and print them as JSON lines (--dry-run) or deliver them to the desk exactly as
 * service mode does. Debug mode never joins the service group and commits nothing. */
#ifndef ARB_DEBUG_H
#define ARB_DEBUG_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>

#include "arb/config.h"
#include "arb/error.h"

struct arb_debug_opts;

/* The long options of debug mode, for getopt_long; their values are above 255. */
extern const struct option arb_debug_long_options[];

struct arb_debug_opts *arb_debug_opts_new(void);
void arb_debug_opts_destroy(struct arb_debug_opts *opts);

/* Take one option returned by getopt_long (opt) with its argument. */
int arb_debug_opts_set(struct arb_debug_opts *opts, int opt, const char *arg,
                       struct arb_error *err);
/* After all options: their combination makes sense (e.g. --from is not after --until). */
int arb_debug_opts_check(const struct arb_debug_opts *opts, struct arb_error *err);
/* True when any debug flag was given. */
bool arb_debug_opts_active(const struct arb_debug_opts *opts);

/* Run debug mode; returns the exit code (0 done, 1 bad request such as an unknown topic or
 * offsets out of range, 2 runtime failure). */
int arb_debug_run(const struct arb_replay_conf *conf, const struct arb_debug_opts *opts,
                  volatile sig_atomic_t *stop);

#endif
