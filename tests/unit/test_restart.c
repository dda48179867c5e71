/* test_restart.c - the producer restart policy: a generation that delivered resets the
 * count and restarts at once; failures in a row wait 1, 2, 4, 8 s and the fifth gives up;
 * the cap holds for long policies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdint.h>

#include "arb/restart.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

struct death {
    bool delivered;
    int64_t expect_ms; /* -1: give up */
};

struct scenario {
    const char *name;
    struct arb_restart_policy policy;
    struct death deaths[12];
    size_t ndeaths;
};

static const struct scenario scenarios[] = {
    {"five failures in a row give up", {5, 1000, 16000},
     {{false, 1000}, {false, 2000}, {false, 4000}, {false, 8000}, {false, -1}}, 5},
    {"a generation that delivered resets the count", {5, 1000, 16000},
     {{false, 1000}, {false, 2000}, {true, 0}, {false, 1000}, {false, 2000}, {false, 4000},
      {false, 8000}, {true, 0}, {true, 0}}, 9},
    {"the cap bounds the wait", {10, 1000, 3000},
     {{false, 1000}, {false, 2000}, {false, 3000}, {false, 3000}, {false, 3000}}, 5},
    {"one failure allowed: the first gives up", {1, 1000, 16000}, {{false, -1}}, 1},
};

static void test_scenarios(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(scenarios); i++) {
        const struct scenario *sc = &scenarios[i];
        struct arb_restart_state st = {0};
        for (size_t d = 0; d < sc->ndeaths; d++) {
            int64_t got = arb_restart_after_death(&st, &sc->policy, sc->deaths[d].delivered);
            if (got != sc->deaths[d].expect_ms)
                fail_msg("%s: death %zu: expected %lld, got %lld", sc->name, d,
                         (long long)sc->deaths[d].expect_ms, (long long)got);
        }
    }
}

static void test_default_policy(void **state)
{
    struct arb_restart_state st = {0};
    (void)state;
    assert_int_equal(arb_restart_after_death(&st, &arb_restart_default, false), 1000);
    assert_int_equal(arb_restart_after_death(&st, &arb_restart_default, true), 0);
    assert_int_equal(st.failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenarios),
        cmocka_unit_test(test_default_policy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
