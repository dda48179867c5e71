/* rate.c - a token bucket for desk.rate_limit_rps (see rate.h).
 *
 * The bucket starts full. Each call first refills it with (now - last) * rate tokens, capped
 * at burst; a clock that goes backwards adds nothing (and last_ns stays where it was). A rate
 * of 0 (or below) means unlimited: take always succeeds and there is never a wait.
 *
 * Refills that arrive in several steps add up with floating-point rounding, so a bucket
 * polled on the way can reach 0.9999999999999998 where one refill would have reached 1. A
 * token therefore counts as there from 1 - SLACK on (SLACK is far below anything a rate limit
 * can notice), and a take never leaves less than 0. wait_ns returns the least whole number of
 * nanoseconds after which a token is there, by the very expression refill uses, so a take at
 * now + wait succeeds. Waits too long for int64_t (absurdly small rates) are INT64_MAX. */
#include "arb/rate.h"

#define NS_PER_S 1e9
#define SLACK 1e-12
#define MAX_WAIT_NS 9.2e18 /* just below INT64_MAX, so converting is defined */

static bool unlimited(const struct arb_rate *rate)
{
    return !(rate->rate > 0);
}

static bool has_token(double tokens)
{
    return tokens >= 1 - SLACK;
}

/* The tokens elapsed_ns (> 0) from last_ns would bring. */
static double refilled(const struct arb_rate *rate, int64_t elapsed_ns)
{
    double tokens = rate->tokens + (double)elapsed_ns * rate->rate / NS_PER_S;
    return tokens < rate->burst ? tokens : rate->burst;
}

static void refill(struct arb_rate *rate, int64_t now_ns)
{
    if (now_ns <= rate->last_ns)
        return;
    rate->tokens = refilled(rate, now_ns - rate->last_ns);
    rate->last_ns = now_ns;
}

void arb_rate_init(struct arb_rate *rate, double per_second, double burst, int64_t now_ns)
{
    rate->rate = per_second > 0 ? per_second : 0;
    if (!(burst >= 1))
        burst = rate->rate / 10 > 1 ? rate->rate / 10 : 1;
    rate->burst = burst;
    rate->tokens = burst;
    rate->last_ns = now_ns;
}

bool arb_rate_take(struct arb_rate *rate, int64_t now_ns)
{
    if (unlimited(rate))
        return true;
    refill(rate, now_ns);
    if (!has_token(rate->tokens))
        return false;
    rate->tokens = rate->tokens > 1 ? rate->tokens - 1 : 0;
    return true;
}

int64_t arb_rate_wait_ns(struct arb_rate *rate, int64_t now_ns)
{
    if (unlimited(rate))
        return 0;
    refill(rate, now_ns);
    if (has_token(rate->tokens))
        return 0;
    double wait = (1 - SLACK - rate->tokens) * NS_PER_S / rate->rate;
    if (!(wait < MAX_WAIT_NS))
        return INT64_MAX;
    int64_t wait_ns = (int64_t)wait + 1;
    /* Settle rounding both ways: a step or two at most (bounded, for waits so long that a
     * nanosecond is below double precision). */
    for (int i = 0; i < 4 && wait_ns > 1 && has_token(refilled(rate, wait_ns - 1)); i++)
        wait_ns--;
    for (int i = 0; i < 4 && !has_token(refilled(rate, wait_ns)); i++)
        wait_ns++;
    return wait_ns;
}
