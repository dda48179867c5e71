/* restart.c - the producer restart policy (see restart.h). */
#include "arb/restart.h"

const struct arb_restart_policy arb_restart_default = {
    .max_failures = 5,
    .base_ms = 1000,
    .cap_ms = 16000,
};

int64_t arb_restart_after_death(struct arb_restart_state *state,
                                const struct arb_restart_policy *policy, bool delivered)
{
    if (delivered) {
        state->failures = 0;
        return 0;
    }
    if (++state->failures >= policy->max_failures)
        return -1;
    int64_t delay = policy->base_ms;
    for (int i = 1; i < state->failures && delay < policy->cap_ms; i++)
        delay *= 2;
    return delay < policy->cap_ms ? delay : policy->cap_ms;
}
