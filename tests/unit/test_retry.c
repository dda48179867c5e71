/* test_retry.c - the desk retry policy: verdicts, backoff, Retry-After. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#include "arb/retry.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* base 100 ms, cap 10 s, give up after 60 s: ceilings 100, 200, 400, ... 6400, then 10000. */
static const struct arb_retry_policy normal = {100, 10000, 60000};
/* Everything at the edge of int64_t, to catch overflow (UBSan aborts on it). */
static const struct arb_retry_policy huge = {INT64_MAX / 4, INT64_MAX, INT64_MAX};
static const struct arb_retry_policy no_base = {0, 10000, 60000};
static const struct arb_retry_policy base_over_cap = {500, 300, 60000};

#define DELIVERED ARB_VERDICT_DELIVERED
#define RETRY ARB_VERDICT_RETRY
#define REJECTED ARB_VERDICT_REJECTED
#define EXHAUSTED ARB_VERDICT_EXHAUSTED

struct decide_case {
    const char *name;
    const struct arb_retry_policy *policy;
    long status;
    unsigned attempts;
    int64_t elapsed_ms;
    int64_t retry_after_ms;
    uint64_t random;
    enum arb_verdict verdict;
    int64_t delay_ms;
};

static const struct decide_case decide_cases[] = {
    /* status classes */
    {"200", &normal, 200, 1, 0, -1, 5, DELIVERED, 0},
    {"204", &normal, 204, 1, 0, -1, 5, DELIVERED, 0},
    {"299", &normal, 299, 1, 0, -1, 5, DELIVERED, 0},
    {"200 late", &normal, 200, 9, INT64_MAX, -1, 5, DELIVERED, 0},
    {"100", &normal, 100, 1, 0, -1, 5, REJECTED, 0},
    {"199", &normal, 199, 1, 0, -1, 5, REJECTED, 0},
    {"300", &normal, 300, 1, 0, -1, 5, REJECTED, 0},
    {"302", &normal, 302, 1, 0, -1, 5, REJECTED, 0},
    {"400", &normal, 400, 1, 0, -1, 5, REJECTED, 0},
    {"401", &normal, 401, 1, 0, -1, 5, REJECTED, 0},
    {"404", &normal, 404, 1, 0, -1, 5, REJECTED, 0},
    {"407", &normal, 407, 1, 0, -1, 5, REJECTED, 0},
    {"409", &normal, 409, 1, 0, -1, 5, REJECTED, 0},
    {"413", &normal, 413, 1, 0, -1, 5, REJECTED, 0},
    {"422", &normal, 422, 1, 0, -1, 5, REJECTED, 0},
    {"428", &normal, 428, 1, 0, -1, 5, REJECTED, 0},
    {"430", &normal, 430, 1, 0, -1, 5, REJECTED, 0},
    {"499", &normal, 499, 1, 0, -1, 5, REJECTED, 0},
    {"600", &normal, 600, 1, 0, -1, 5, REJECTED, 0},
    {"-1", &normal, -1, 1, 0, -1, 5, REJECTED, 0},
    {"404 with Retry-After", &normal, 404, 1, 0, 1000, 5, REJECTED, 0},
    {"404 late", &normal, 404, 9, INT64_MAX, -1, 5, REJECTED, 0},
    {"0 (timeout)", &normal, 0, 1, 0, -1, 5, RETRY, 5},
    {"408", &normal, 408, 1, 0, -1, 5, RETRY, 5},
    {"429", &normal, 429, 1, 0, -1, 5, RETRY, 5},
    {"500", &normal, 500, 1, 0, -1, 5, RETRY, 5},
    {"502", &normal, 502, 1, 0, -1, 5, RETRY, 5},
    {"503", &normal, 503, 1, 0, -1, 5, RETRY, 5},
    {"599", &normal, 599, 1, 0, -1, 5, RETRY, 5},
    /* full jitter: random % (ceiling + 1) */
    {"attempt 1, random 0", &normal, 503, 1, 0, -1, 0, RETRY, 0},
    {"attempt 1, random = ceiling", &normal, 503, 1, 0, -1, 100, RETRY, 100},
    {"attempt 1, random = ceiling + 1", &normal, 503, 1, 0, -1, 101, RETRY, 0},
    {"attempt 0 counts as 1", &normal, 503, 0, 0, -1, 100, RETRY, 100},
    {"attempt 2", &normal, 503, 2, 0, -1, 250, RETRY, 49},
    {"attempt 3, random max", &normal, 503, 3, 0, -1, UINT64_MAX, RETRY, 62},
    {"attempt 7, ceiling 6400", &normal, 503, 7, 0, -1, 6400, RETRY, 6400},
    {"attempt 7, above ceiling", &normal, 503, 7, 0, -1, 6401, RETRY, 0},
    {"attempt 8, capped", &normal, 503, 8, 0, -1, 10000, RETRY, 10000},
    {"attempt 8, above cap", &normal, 503, 8, 0, -1, 10001, RETRY, 0},
    {"attempt 63", &normal, 503, 63, 0, -1, 12345, RETRY, 2344},
    {"attempt 64", &normal, 503, 64, 0, -1, 12345, RETRY, 2344},
    {"attempt 65", &normal, 503, 65, 0, -1, 12345, RETRY, 2344},
    {"attempt UINT_MAX", &normal, 503, UINT_MAX, 0, -1, 9999, RETRY, 9999},
    {"base 0", &no_base, 503, 5, 0, -1, 777, RETRY, 0},
    {"base over cap", &base_over_cap, 503, 1, 0, -1, 300, RETRY, 300},
    {"base over cap, above", &base_over_cap, 503, 1, 0, -1, 301, RETRY, 0},
    {"huge attempt 1", &huge, 503, 1, 0, -1, (uint64_t)INT64_MAX / 4, RETRY, INT64_MAX / 4},
    {"huge attempt 3, just under cap", &huge, 503, 3, 0, -1, UINT64_MAX, RETRY, 5},
    {"huge attempt 4 hits cap", &huge, 503, 4, 0, -1, UINT64_MAX, RETRY, INT64_MAX},
    {"huge attempt 200", &huge, 503, 200, 0, -1, UINT64_MAX, RETRY, INT64_MAX},
    {"huge elapsed, zero delay", &huge, 503, 200, INT64_MAX, -1, 0, RETRY, 0},
    {"huge elapsed, delay 1", &huge, 503, 200, INT64_MAX, -1, 1, EXHAUSTED, 0},
    /* Retry-After is a floor */
    {"Retry-After above jitter", &normal, 503, 1, 0, 5000, 50, RETRY, 5000},
    {"Retry-After below jitter", &normal, 503, 1, 0, 20, 50, RETRY, 50},
    {"Retry-After 0", &normal, 429, 1, 0, 0, 50, RETRY, 50},
    {"Retry-After equal", &normal, 429, 1, 0, 50, 50, RETRY, 50},
    {"Retry-After above cap", &normal, 429, 9, 0, 30000, 7, RETRY, 30000},
    {"Retry-After INT64_MAX", &normal, 429, 1, 1, INT64_MAX, 7, EXHAUSTED, 0},
    /* exhaustion: elapsed + delay > max_total */
    {"ends exactly at max", &normal, 503, 8, 59000, -1, 1000, RETRY, 1000},
    {"ends one over max", &normal, 503, 8, 59000, -1, 1001, EXHAUSTED, 0},
    {"elapsed = max, delay 0", &normal, 503, 8, 60000, -1, 0, RETRY, 0},
    {"elapsed = max + 1", &normal, 503, 8, 60001, -1, 0, EXHAUSTED, 0},
    {"Retry-After to max", &normal, 503, 1, 0, 60000, 0, RETRY, 60000},
    {"Retry-After past max", &normal, 503, 1, 0, 60001, 0, EXHAUSTED, 0},
    {"Retry-After + elapsed past max", &normal, 429, 1, 30000, 30001, 0, EXHAUSTED, 0},
};

static void test_decide(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(decide_cases); i++) {
        const struct decide_case *c = &decide_cases[i];
        struct arb_retry_decision d =
            arb_retry_decide(c->policy, c->status, c->attempts, c->elapsed_ms,
                             c->retry_after_ms, c->random);
        if (d.verdict != c->verdict || d.delay_ms != c->delay_ms)
            fail_msg("%s: got verdict %d delay %lld, want %d delay %lld", c->name,
                     (int)d.verdict, (long long)d.delay_ms, (int)c->verdict,
                     (long long)c->delay_ms);
    }
}

/* The jittered delay never leaves [max(0, retry_after), ceiling] whatever the random value. */
static void test_decide_bounds(void **state)
{
    (void)state;
    uint64_t random = 0x9e3779b97f4a7c15u;
    for (unsigned attempts = 1; attempts <= 80; attempts++) {
        int64_t ceiling = attempts >= 8 ? 10000 : 100 << (attempts - 1);
        for (int n = 0; n < 200; n++) {
            random = random * 6364136223846793005u + 1442695040888963407u;
            struct arb_retry_decision d = arb_retry_decide(&normal, 500, attempts, 0, -1, random);
            assert_int_equal(d.verdict, ARB_VERDICT_RETRY);
            assert_in_range(d.delay_ms, 0, ceiling);
            assert_int_equal(d.delay_ms, (int64_t)(random % (uint64_t)(ceiling + 1)));
        }
    }
}

static void test_status_retriable(void **state)
{
    (void)state;
    for (long status = -1; status <= 1000; status++) {
        bool want = status == 0 || status == 408 || status == 429 ||
                    (status >= 500 && status <= 599);
        if (arb_retry_status_retriable(status) != want)
            fail_msg("status %ld: want retriable=%d", status, (int)want);
    }
    assert_false(arb_retry_status_retriable(LONG_MAX));
    assert_false(arb_retry_status_retriable(LONG_MIN));
}

struct deadletter_case {
    unsigned attempts;
    uint64_t random;
    int64_t delay_ms;
};

/* Ceilings 500, 1000, 2000, ... 16000, then 30000; the delay is ceiling / 2 plus
 * random % (ceiling / 2 + 1). */
static const struct deadletter_case deadletter_cases[] = {
    {1, 0, 250},
    {1, 250, 500},
    {1, 251, 250},
    {0, 250, 500}, /* 0 counts as 1 */
    {2, 0, 500},
    {2, 499, 999},
    {2, 500, 1000},
    {3, 7, 1007},
    {6, 16000 / 2, 16000},
    {7, 0, 15000},
    {7, 15000, 30000},
    {7, 15001, 15000},
    {8, 14999, 29999},
    {64, 3, 15003},
    {UINT_MAX, UINT64_MAX, 15000 + (int64_t)(UINT64_MAX % 15001)},
};

static void test_deadletter(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(deadletter_cases); i++) {
        const struct deadletter_case *c = &deadletter_cases[i];
        int64_t delay = arb_retry_deadletter_ms(c->attempts, c->random);
        if (delay != c->delay_ms)
            fail_msg("attempts %u random %llu: got %lld, want %lld", c->attempts,
                     (unsigned long long)c->random, (long long)delay, (long long)c->delay_ms);
    }
}

/* Records refused together spread out: their pauses differ, and stay in [c/2, c]. */
static void test_deadletter_spread(void **state)
{
    (void)state;
    uint64_t random = 12345;
    int64_t lowest = INT64_MAX, highest = 0;
    for (int n = 0; n < 1000; n++) {
        random = random * 6364136223846793005u + 1442695040888963407u;
        int64_t delay = arb_retry_deadletter_ms(4, random);
        assert_in_range(delay, 2000, 4000);
        lowest = delay < lowest ? delay : lowest;
        highest = delay > highest ? delay : highest;
    }
    assert_true(lowest < 2200);
    assert_true(highest > 3800);
}

/* Sun, 06 Nov 1994 08:49:37 GMT */
#define RFC_DATE_S INT64_C(784111777)
#define CAP_MS (INT64_C(366) * 24 * 3600 * 1000)

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_decide_bounds),
        cmocka_unit_test(test_status_retriable),
        cmocka_unit_test(test_deadletter),
        cmocka_unit_test(test_deadletter_spread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
