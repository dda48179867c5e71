/* debug.h - airudder-replay's debug mode: read a chosen stretch of history (from the
 * beginning, a time or explicit offsets, up to a time or the end offsets taken at start, or
 * following new records), keep the records of the chosen conversations, events and sender
 * types, and print them as JSON lines (--dry-run) or deliver them to the desk exactly as
 * service mode does. Debug mode never joins the service group and commits nothing. */
#ifndef ARB_DEBUG_H
#define ARB_DEBUG_H

#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "arb/config.h"
#include "arb/error.h"
#include "arb/outcome.h"
#include "arb/selection.h"

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

/* A re-send of one conversation from chosen records on (the viewer's "re-send from
 * here"): the records of call_id at or after each start, received until until_ms. */
struct arb_resend {
    const char *call_id;
    const struct arb_offset_spec *starts;
    size_t nstarts;
    bool has_until;
    int64_t until_ms;
};

/* What a re-send did: every outcome, in the order the records finished. */
struct arb_debug_report {
    uint64_t scanned, matched;
    struct arb_outcome *outcomes; /* strings owned */
    size_t noutcomes;
};

/* Run it as debug mode runs (a consumer of its own, no group, no commit; the pipeline of
 * service mode; the delivery log), printing nothing, from any thread; it ends early once
 * *stop is true. 0, or -1 with err; report is filled either way (arb_debug_report_clear
 * frees it). */
int arb_debug_resend(const struct arb_replay_conf *conf, const struct arb_resend *resend,
                     const atomic_bool *stop, struct arb_debug_report *report,
                     struct arb_error *err);
void arb_debug_report_clear(struct arb_debug_report *report);

#endif
