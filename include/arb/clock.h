/* clock.h - the two clocks (platform/clock.c): the core never reads them; the adapters do
 * and pass the time in. */
#ifndef ARB_CLOCK_H
#define ARB_CLOCK_H

#include <stdint.h>

int64_t arb_now_ns(void);  /* CLOCK_MONOTONIC */
int64_t arb_wall_ms(void); /* CLOCK_REALTIME, ms since the epoch */

#endif
