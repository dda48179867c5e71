/* retry.h - what to do after a delivery attempt to the desk, and how long to wait; and how
 * long to wait before writing again a dead letter Kafka refused.
 *
 * Pure functions: the caller supplies the clock readings and the random number, so the policy
 * is tested exhaustively without sleeping. Retried: 408, 429, 5xx, timeouts and connection
 * errors (status 0). Everything else outside 2xx is rejected at once (dead letter). Delays are
 * capped exponential backoff with full jitter (uniform in [0, min(cap, base * 2^(n-1))]);
 * a Retry-After from the desk is a floor on the delay. A retry that would start after
 * max_total_ms since the first attempt is not made: the record is given up (dead letter).
 *
 * A dead letter is never given up: Kafka is asked again and again, the ceiling doubling from
 * ARB_DEADLETTER_RETRY_BASE_MS to ARB_DEADLETTER_RETRY_CAP_MS, with equal jitter (uniform in
 * [ceiling / 2, ceiling]): the records refused together spread out, and none comes back
 * sooner than half the ceiling. */
#ifndef ARB_RETRY_H
#define ARB_RETRY_H

#include <stdbool.h>
#include <stdint.h>

struct arb_retry_policy {
    int64_t base_ms;      /* first backoff ceiling */
    int64_t cap_ms;       /* largest backoff ceiling */
    int64_t max_total_ms; /* give up when the next try would start later than this */
};

enum arb_verdict {
    ARB_VERDICT_DELIVERED, /* 2xx */
    ARB_VERDICT_RETRY,     /* try again after delay_ms */
    ARB_VERDICT_REJECTED,  /* a final answer: dead-letter the record */
    ARB_VERDICT_EXHAUSTED, /* retriable, but out of time: dead-letter the record */
};

struct arb_retry_decision {
    enum arb_verdict verdict;
    int64_t delay_ms;
};

/* status: the HTTP status, or 0 for a timeout or connection error. attempts: attempts made so
 * far (>= 1). elapsed_ms: since the first attempt started. retry_after_ms: from the answer's
 * Retry-After, or -1. random: any uniformly distributed 64-bit value. */
struct arb_retry_decision arb_retry_decide(const struct arb_retry_policy *policy, long status,
                                           unsigned attempts, int64_t elapsed_ms,
                                           int64_t retry_after_ms, uint64_t random);

bool arb_retry_status_retriable(long status);

#define ARB_DEADLETTER_RETRY_BASE_MS 500
#define ARB_DEADLETTER_RETRY_CAP_MS 30000

/* The pause before the next write of a dead letter whose attempts-th write (>= 1; 0 counts
 * as 1) failed. random: any uniformly distributed 64-bit value. */
int64_t arb_retry_deadletter_ms(unsigned attempts, uint64_t random);

#endif
