/* rate.h - a token bucket for desk.rate_limit_rps. Pure: the caller passes the clock. */
#ifndef ARB_RATE_H
#define ARB_RATE_H

#include <stdbool.h>
#include <stdint.h>

struct arb_rate {
    double rate;     /* tokens per second; 0 = unlimited */
    double burst;    /* bucket size */
    double tokens;
    int64_t last_ns;
};

/* burst < 1 is taken as max(1, rate / 10): a tenth of a second's worth. */
void arb_rate_init(struct arb_rate *rate, double per_second, double burst, int64_t now_ns);

/* Take one token if there is one. */
bool arb_rate_take(struct arb_rate *rate, int64_t now_ns);

/* Nanoseconds until a token is available (0 if one is now). */
int64_t arb_rate_wait_ns(struct arb_rate *rate, int64_t now_ns);

#endif
