/* restart.h - when to build a fresh Kafka producer after its predecessor died of a fatal
 * error, and when to give up.
 *
 * A generation that delivered at least one record before dying proves the cluster and the
 * configuration work: the next one starts at once and the count of failures starts over. One
 * that died without delivering anything counts as a failure; the next start waits
 * base_ms, 2 * base_ms, ... (at most cap_ms), and after max_failures in a row the policy gives
 * up: the process exits 2 and its supervisor restarts it. Pure: no clock, no I/O. */
#ifndef ARB_RESTART_H
#define ARB_RESTART_H

#include <stdbool.h>
#include <stdint.h>

struct arb_restart_policy {
    int max_failures;
    int64_t base_ms;
    int64_t cap_ms;
};

struct arb_restart_state {
    int failures; /* generations in a row that died without delivering */
};

/* The default: 5 failures, waiting 1, 2, 4, 8 s in between (16 s at most). */
extern const struct arb_restart_policy arb_restart_default;

/* A generation died; delivered says whether it ever had an acknowledgement. Returns the
 * milliseconds to wait before starting the next one, or -1 to give up. */
int64_t arb_restart_after_death(struct arb_restart_state *state,
                                const struct arb_restart_policy *policy, bool delivered);

#endif
