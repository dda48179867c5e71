/* test_rate.c - the token bucket: burst, refill, wait_ns, unlimited and fractional rates,
 * all against a fake clock (nanoseconds passed in by the test). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>

#include "arb/rate.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MS 1000000LL
#define S 1000000000LL

enum step_kind { TAKE, WAIT, END };

struct step {
    enum step_kind kind;
    int64_t now_ns;
    int64_t expect; /* TAKE: 1 or 0; WAIT: nanoseconds */
};

struct scenario {
    const char *name;
    double per_second;
    double burst;
    int64_t start_ns;
    double expect_burst;
    struct step steps[24];
};

static const struct scenario scenarios[] = {
    {"burst of 5 at 10/s, then one per 100 ms",
     10, 5, 0, 5,
     {{WAIT, 0, 0}, {TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 1},
      {TAKE, 0, 0}, {WAIT, 0, 100 * MS}, {WAIT, 40 * MS, 60 * MS}, {TAKE, 100 * MS - 1, 0},
      {WAIT, 100 * MS - 1, 1}, {TAKE, 100 * MS, 1}, {TAKE, 100 * MS, 0},
      {WAIT, 100 * MS, 100 * MS}, {TAKE, 250 * MS, 1}, {WAIT, 250 * MS, 50 * MS},
      {TAKE, 300 * MS, 1}, {TAKE, 300 * MS, 0}, {END, 0, 0}}},
    {"refill is capped at the burst",
     10, 5, 0, 5,
     {{TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 0},
      {TAKE, 10 * S, 1}, {TAKE, 10 * S, 1}, {TAKE, 10 * S, 1}, {TAKE, 10 * S, 1},
      {TAKE, 10 * S, 1}, {TAKE, 10 * S, 0}, {WAIT, 10 * S, 100 * MS}, {END, 0, 0}}},
    {"burst 1: strictly one per interval",
     4, 1, 1000 * S, 1,
     {{TAKE, 1000 * S, 1}, {TAKE, 1000 * S, 0}, {WAIT, 1000 * S, 250 * MS},
      {TAKE, 1000 * S + 249 * MS, 0}, {TAKE, 1000 * S + 250 * MS, 1},
      {TAKE, 1000 * S + 499 * MS, 0}, {TAKE, 1000 * S + 500 * MS, 1}, {END, 0, 0}}},
    {"fractional: 0.5/s, default burst 1",
     0.5, 0, 0, 1,
     {{TAKE, 0, 1}, {TAKE, 0, 0}, {WAIT, 0, 2 * S}, {TAKE, 1 * S, 0}, {WAIT, 1 * S, 1 * S},
      {TAKE, 2 * S - 1, 0}, {TAKE, 2 * S, 1}, {WAIT, 2 * S, 2 * S}, {TAKE, 3 * S, 0},
      {TAKE, 9 * S, 1}, {TAKE, 9 * S, 0}, {WAIT, 9 * S, 2 * S}, {END, 0, 0}}},
    {"fractional: 2.5/s, burst 2",
     2.5, 2, 0, 2,
     {{TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 0}, {WAIT, 0, 400 * MS}, {TAKE, 400 * MS, 1},
      {TAKE, 600 * MS, 0}, {WAIT, 600 * MS, 200 * MS}, {TAKE, 800 * MS, 1}, {END, 0, 0}}},
    {"default burst: a tenth of a second at 100/s",
     100, 0, 0, 10,
     {{TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 1},
      {TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 0},
      {WAIT, 0, 10 * MS}, {TAKE, 10 * MS, 1}, {END, 0, 0}}},
    {"burst below 1 is replaced: 0.5 at 5/s gives 1",
     5, 0.5, 0, 1,
     {{TAKE, 0, 1}, {TAKE, 0, 0}, {WAIT, 0, 200 * MS}, {END, 0, 0}}},
    {"a clock going backwards adds nothing",
     10, 1, 5 * S, 1,
     {{TAKE, 5 * S, 1}, {TAKE, 4 * S, 0}, {TAKE, 0, 0}, {WAIT, 4 * S, 100 * MS},
      {TAKE, 5 * S + 99 * MS, 0}, {TAKE, 5 * S + 100 * MS, 1}, {END, 0, 0}}},
    {"unlimited: rate 0",
     0, 0, 0, 1,
     {{TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 1},
      {TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 1},
      {WAIT, 0, 0}, {TAKE, -5, 1}, {WAIT, -5, 0}, {END, 0, 0}}},
    {"unlimited: rate 0 with a burst",
     0, 3, 0, 3,
     {{TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 1}, {TAKE, 0, 1}, {WAIT, 0, 0},
      {END, 0, 0}}},
};

static void test_scenarios(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(scenarios); i++) {
        const struct scenario *sc = &scenarios[i];
        struct arb_rate rate;
        printf("# %s\n", sc->name);
        arb_rate_init(&rate, sc->per_second, sc->burst, sc->start_ns);
        assert_true(rate.burst == sc->expect_burst);
        assert_true(rate.tokens == sc->expect_burst);
        for (const struct step *step = sc->steps; step->kind != END; step++) {
            if (step->kind == TAKE)
                assert_int_equal(arb_rate_take(&rate, step->now_ns), step->expect);
            else
                assert_int_equal(arb_rate_wait_ns(&rate, step->now_ns), step->expect);
        }
    }
}

/* Exact token counts after partial refills (values chosen to be exact in binary). */
static void test_token_counts(void **state)
{
    struct arb_rate rate;
    (void)state;
    arb_rate_init(&rate, 8, 4, 0);
    assert_true(rate.tokens == 4);
    assert_true(arb_rate_take(&rate, 0));
    assert_true(rate.tokens == 3);
    assert_true(arb_rate_take(&rate, 0) && arb_rate_take(&rate, 0) && arb_rate_take(&rate, 0));
    assert_true(rate.tokens == 0);
    assert_int_equal(arb_rate_wait_ns(&rate, 62500000), 62500000); /* half a token in */
    assert_true(rate.tokens == 0.5);
    assert_int_equal(rate.last_ns, 62500000);
    assert_false(arb_rate_take(&rate, 62500000));
    assert_true(rate.tokens == 0.5); /* a failed take costs nothing */
    assert_true(arb_rate_take(&rate, 125000000));
    assert_true(rate.tokens == 0);
    assert_int_equal(arb_rate_wait_ns(&rate, 1 * S), 0);
    assert_true(rate.tokens == 4); /* 7 tokens' worth of time, capped at 4 */
}

/* For awkward rates, a take at now + wait succeeds and one a nanosecond earlier does not. */
static void test_wait_is_exact(void **state)
{
    static const double rates[] = {3, 7, 1.0 / 3, 0.1, 1000, 12345.6789, 999999.5, 1e9};
    (void)state;
    for (size_t i = 0; i < COUNT(rates); i++) {
        struct arb_rate rate;
        int64_t now = 17;
        arb_rate_init(&rate, rates[i], 1, now);
        for (int round = 0; round < 200; round++) {
            while (arb_rate_take(&rate, now))
                ;
            int64_t wait = arb_rate_wait_ns(&rate, now);
            assert_true(wait > 0);
            struct arb_rate early = rate;
            assert_false(arb_rate_take(&early, now + wait - 1));
            struct arb_rate later = rate;
            assert_int_equal(arb_rate_wait_ns(&later, now + wait), 0);
            now += wait + (round % 3) * 1234567; /* sometimes late, leaving a fraction */
        }
    }
}

static void test_tiny_rate_saturates(void **state)
{
    struct arb_rate rate;
    (void)state;
    arb_rate_init(&rate, 1e-12, 1, 0);
    assert_true(arb_rate_take(&rate, 0));
    assert_false(arb_rate_take(&rate, 1 * S));
    assert_int_equal(arb_rate_wait_ns(&rate, 1 * S), INT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenarios),
        cmocka_unit_test(test_token_counts),
        cmocka_unit_test(test_wait_is_exact),
        cmocka_unit_test(test_tiny_rate_saturates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
