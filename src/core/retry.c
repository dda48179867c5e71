/* retry.c - the desk delivery retry policy, and the dead letter's pause (see retry.h).
 *
 * Everything here is arithmetic on the caller's numbers: no clock, no random source, no
 * sleeping. The backoff ceiling doubles per attempt until it reaches the cap; it is computed
 * by comparing against the cap before shifting, so no attempt count can overflow it. The
 * jittered delay is drawn from [0, ceiling] with the caller's random value, then raised to the
 * desk's Retry-After if that is longer. A retry that would start after max_total_ms since the
 * first attempt is not made. The dead letter's pause has the same ceiling, over fixed bounds,
 * and its jitter keeps the lower half out. */
#include "arb/retry.h"

#include <stddef.h>

bool arb_retry_status_retriable(long status)
{
    return status == 0 || status == 408 || status == 429 || (status >= 500 && status <= 599);
}

/* min(cap, base * 2^(attempts - 1)), never overflowing; negative inputs count as 0. */
static int64_t backoff_ceiling(int64_t base, int64_t cap, unsigned attempts)
{
    unsigned shift = attempts > 0 ? attempts - 1 : 0;
    if (base <= 0 || cap <= 0)
        return 0;
    if (base >= cap)
        return cap;
    /* Here 0 < base < cap <= INT64_MAX, so base << shift is only computed when it stays
     * below cap, which is representable. */
    if (shift >= 63 || base > (cap >> shift))
        return cap;
    int64_t ceiling = base << shift;
    return ceiling < cap ? ceiling : cap;
}

struct arb_retry_decision arb_retry_decide(const struct arb_retry_policy *policy, long status,
                                           unsigned attempts, int64_t elapsed_ms,
                                           int64_t retry_after_ms, uint64_t random)
{
    struct arb_retry_decision decision = {ARB_VERDICT_REJECTED, 0};

    if (status >= 200 && status <= 299) {
        decision.verdict = ARB_VERDICT_DELIVERED;
        return decision;
    }
    if (!arb_retry_status_retriable(status))
        return decision;

    int64_t ceiling = backoff_ceiling(policy->base_ms, policy->cap_ms, attempts);
    /* ceiling <= INT64_MAX, so ceiling + 1 fits in uint64_t and the result in int64_t. */
    int64_t delay = (int64_t)(random % ((uint64_t)ceiling + 1));
    if (retry_after_ms > delay)
        delay = retry_after_ms;

    int64_t elapsed = elapsed_ms > 0 ? elapsed_ms : 0;
    int64_t max_total = policy->max_total_ms > 0 ? policy->max_total_ms : 0;
    /* elapsed + delay > max_total, written so that it cannot overflow. */
    if (elapsed > max_total || delay > max_total - elapsed) {
        decision.verdict = ARB_VERDICT_EXHAUSTED;
        return decision;
    }
    decision.verdict = ARB_VERDICT_RETRY;
    decision.delay_ms = delay;
    return decision;
}

int64_t arb_retry_deadletter_ms(unsigned attempts, uint64_t random)
{
    int64_t ceiling =
        backoff_ceiling(ARB_DEADLETTER_RETRY_BASE_MS, ARB_DEADLETTER_RETRY_CAP_MS, attempts);
    int64_t floor = ceiling / 2;
    return floor + (int64_t)(random % ((uint64_t)(ceiling - floor) + 1));
}
