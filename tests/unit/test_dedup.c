/* test_dedup.c - the bounded memory of done keys (core/dedup.c), as the bridge uses it
 * (begin/finish, with waiters) and as the replay's windows do (seen/remember): the window's
 * edge, the bound (oldest done key first, pending keys never), forgetting a failed first
 * copy, keys in doubt until their records settle, and a long random run checked against a plain model. Time is passed in. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arb/dedup.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Key number n: a 32-hex request id made of n, message index 0. */
static struct arb_dedup_key key(unsigned n)
{
    char id[40];
    struct arb_dedup_key k;
    snprintf(id, sizeof(id), "%032x", n);
    assert_int_equal(arb_dedup_key_of(id, 0, &k), 0);
    return k;
}

static struct arb_dedup_stats stats_of(const struct arb_dedup *dedup)
{
    struct arb_dedup_stats stats;
    arb_dedup_stats(dedup, &stats);
    return stats;
}

/* ---- keys ---- */

static void test_key_of(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",                                  /* empty */
        "0123456789abcdef0123456789abcde",   /* 31 hex */
        "0123456789abcdef0123456789abcdef0", /* 33 hex */
        "0123456789abcdef0123456789abcdeg",  /* not hex */
        "0123456789abcdef 123456789abcdef",  /* a space */
    };
    struct arb_dedup_key a, b;
    for (size_t i = 0; i < COUNT(bad); i++)
        if (arb_dedup_key_of(bad[i], 0, &a) != -1)
            fail_msg("accepted \"%s\"", bad[i]);

    assert_int_equal(arb_dedup_key_of("0123456789abcdef0123456789abcdef", 7, &a), 0);
    assert_int_equal(arb_dedup_key_of("0123456789ABCDEF0123456789ABCDEF", 7, &b), 0);
    assert_memory_equal(a.bytes, b.bytes, ARB_DEDUP_KEY_LEN); /* hex in any case */
    assert_int_equal(a.bytes[0], 0x01);
    assert_int_equal(a.bytes[15], 0xef);
    assert_int_equal(arb_dedup_key_of("0123456789abcdef0123456789abcdef", 8, &b), 0);
    assert_memory_not_equal(a.bytes, b.bytes, ARB_DEDUP_KEY_LEN); /* the index counts */
}

/* ---- the bridge: begin, finish ---- */

static void test_done_until_the_window_edge(void **state)
{
    (void)state;
    struct arb_dedup *dedup = arb_dedup_new(16, 1000);
    struct arb_dedup_key k = key(1);

    assert_int_equal(arb_dedup_begin(dedup, &k, 100, NULL), ARB_DEDUP_NEW);
    assert_null(arb_dedup_finish(dedup, &k, true, 500)); /* the window runs from here */
    assert_int_equal(arb_dedup_begin(dedup, &k, 501, NULL), ARB_DEDUP_DONE);
    assert_int_equal(arb_dedup_begin(dedup, &k, 1499, NULL), ARB_DEDUP_DONE);
    assert_int_equal(stats_of(dedup).done_hits, 2);
    assert_int_equal(stats_of(dedup).entries, 1);
    assert_int_equal(arb_dedup_begin(dedup, &k, 1500, NULL), ARB_DEDUP_NEW); /* gone at the edge */
    arb_dedup_destroy(dedup);
}

static void test_repeats_wait_for_the_first_copy(void **state)
{
    (void)state;
    struct arb_dedup *dedup = arb_dedup_new(16, 1000);
    struct arb_dedup_key k = key(2), other = key(3);
    struct arb_dedup_waiter w1, w2;

    assert_int_equal(arb_dedup_begin(dedup, &k, 0, NULL), ARB_DEDUP_NEW);
    assert_int_equal(arb_dedup_begin(dedup, &k, 10, &w1), ARB_DEDUP_PENDING);
    assert_int_equal(arb_dedup_begin(dedup, &k, 20, &w2), ARB_DEDUP_PENDING);
    assert_int_equal(arb_dedup_begin(dedup, &other, 20, NULL), ARB_DEDUP_NEW);
    assert_null(arb_dedup_finish(dedup, &other, true, 30)); /* nobody waits on that one */
    assert_int_equal(stats_of(dedup).pending_hits, 2);

    struct arb_dedup_waiter *waiters = arb_dedup_finish(dedup, &k, true, 40);
    int seen1 = 0, seen2 = 0, n = 0;
    for (struct arb_dedup_waiter *w = waiters; w != NULL && n < 10; w = w->next, n++) {
        seen1 += w == &w1;
        seen2 += w == &w2;
    }
    assert_int_equal(n, 2);
    assert_int_equal(seen1, 1);
    assert_int_equal(seen2, 1);
    assert_null(arb_dedup_finish(dedup, &k, true, 50)); /* finished once only */
    assert_int_equal(arb_dedup_begin(dedup, &k, 60, NULL), ARB_DEDUP_DONE);
    arb_dedup_destroy(dedup);
}

/* A first copy that failed (503) is forgotten: the sender's retry is tried again. */
static void test_failed_first_copy_is_forgotten(void **state)
{
    (void)state;
    struct arb_dedup *dedup = arb_dedup_new(16, 1000);
    struct arb_dedup_key k = key(4);
    struct arb_dedup_waiter w;

    assert_int_equal(arb_dedup_begin(dedup, &k, 0, NULL), ARB_DEDUP_NEW);
    assert_int_equal(arb_dedup_begin(dedup, &k, 1, &w), ARB_DEDUP_PENDING);
    assert_ptr_equal(arb_dedup_finish(dedup, &k, false, 2), &w); /* the waiter fails alike */
    assert_int_equal(stats_of(dedup).entries, 0);
    assert_int_equal(arb_dedup_begin(dedup, &k, 3, NULL), ARB_DEDUP_NEW);
    arb_dedup_destroy(dedup);
}

/* A first copy refused while its records may still be stored: in doubt, its waiters answered
 * alike, repeats told so without waiting, never evicted; then done or forgotten by what
 * became of the records. */
static void test_in_doubt_until_the_records_settle(void **state)
{
    (void)state;
    struct arb_dedup *dedup = arb_dedup_new(2, 1000);
    struct arb_dedup_key stored = key(5), lost = key(6), other = key(7);
    struct arb_dedup_waiter w, late;

    assert_int_equal(arb_dedup_begin(dedup, &stored, 0, NULL), ARB_DEDUP_NEW);
    assert_int_equal(arb_dedup_begin(dedup, &stored, 1, &w), ARB_DEDUP_PENDING);
    assert_ptr_equal(arb_dedup_doubt(dedup, &stored), &w); /* the waiter gets the 503 too */
    assert_null(arb_dedup_doubt(dedup, &stored));          /* in doubt once */
    assert_int_equal(arb_dedup_begin(dedup, &stored, 2, &late), ARB_DEDUP_IN_DOUBT);
    assert_int_equal(stats_of(dedup).doubt_hits, 1);
    assert_null(arb_dedup_doubt(dedup, &other)); /* unknown keys stay unknown */

    assert_int_equal(arb_dedup_begin(dedup, &lost, 3, NULL), ARB_DEDUP_NEW);
    arb_dedup_doubt(dedup, &lost);
    /* Both in doubt, the table full: a new key finds nothing it may drop. */
    assert_int_equal(arb_dedup_begin(dedup, &other, 4, NULL), ARB_DEDUP_UNTRACKED);
    assert_int_equal(arb_dedup_begin(dedup, &stored, 2000, NULL), ARB_DEDUP_IN_DOUBT);

    assert_null(arb_dedup_finish(dedup, &stored, true, 2001)); /* late waiter was not kept */
    assert_int_equal(arb_dedup_begin(dedup, &stored, 2002, NULL), ARB_DEDUP_DONE);
    assert_int_equal(arb_dedup_begin(dedup, &stored, 3000, NULL), ARB_DEDUP_DONE);
    assert_int_equal(arb_dedup_begin(dedup, &stored, 3001, NULL), ARB_DEDUP_NEW); /* window */
    arb_dedup_finish(dedup, &lost, false, 3002);
    assert_int_equal(arb_dedup_begin(dedup, &lost, 3003, NULL), ARB_DEDUP_NEW);
    arb_dedup_destroy(dedup);
}

/* Full: the oldest done key makes room; pending keys are never dropped, and with nothing
 * done to drop a key goes untracked. */
static void test_bound_oldest_done_first(void **state)
{
    (void)state;
    struct arb_dedup *dedup = arb_dedup_new(4, 1000000);
    struct arb_dedup_key k[6];
    for (unsigned i = 0; i < 6; i++)
        k[i] = key(100 + i);

    assert_int_equal(arb_dedup_begin(dedup, &k[0], 0, NULL), ARB_DEDUP_NEW); /* stays pending */
    for (unsigned i = 1; i < 4; i++) {
        assert_int_equal(arb_dedup_begin(dedup, &k[i], i, NULL), ARB_DEDUP_NEW);
        arb_dedup_finish(dedup, &k[i], true, 10 + i);
    }
    assert_int_equal(stats_of(dedup).entries, 4);
    assert_int_equal(arb_dedup_begin(dedup, &k[4], 20, NULL), ARB_DEDUP_NEW);
    assert_int_equal(stats_of(dedup).evicted, 1);
    assert_int_equal(stats_of(dedup).entries, 4);
    assert_int_equal(arb_dedup_begin(dedup, &k[2], 21, NULL), ARB_DEDUP_DONE);
    assert_int_equal(arb_dedup_begin(dedup, &k[3], 21, NULL), ARB_DEDUP_DONE);
    assert_int_equal(arb_dedup_begin(dedup, &k[0], 21, NULL), ARB_DEDUP_PENDING);
    /* k1, the oldest, went; coming back it is new, and k2 (now the oldest done) makes room. */
    assert_int_equal(arb_dedup_begin(dedup, &k[1], 21, NULL), ARB_DEDUP_NEW);
    assert_int_equal(stats_of(dedup).evicted, 2);

    /* Now k0, k4, k1 pending, k3 done: one more new key takes k3's room, the next finds
     * nothing it may drop and is not tracked, and never waits or finishes. */
    assert_int_equal(arb_dedup_begin(dedup, &k[5], 22, NULL), ARB_DEDUP_NEW);
    assert_int_equal(stats_of(dedup).evicted, 3);
    assert_int_equal(arb_dedup_begin(dedup, &k[3], 22, NULL), ARB_DEDUP_UNTRACKED);
    assert_int_equal(stats_of(dedup).untracked, 1);
    assert_null(arb_dedup_finish(dedup, &k[3], true, 23));
    assert_int_equal(arb_dedup_begin(dedup, &k[3], 24, NULL), ARB_DEDUP_UNTRACKED);
    assert_int_equal(arb_dedup_begin(dedup, &k[0], 24, NULL), ARB_DEDUP_PENDING);
    assert_int_equal(stats_of(dedup).entries, 4);
    arb_dedup_destroy(dedup);
}

static void test_window_zero_remembers_nothing(void **state)
{
    (void)state;
    struct arb_dedup *dedup = arb_dedup_new(16, 0);
    struct arb_dedup_key k = key(5);
    assert_int_equal(arb_dedup_begin(dedup, &k, 0, NULL), ARB_DEDUP_NEW);
    arb_dedup_finish(dedup, &k, true, 0);
    assert_int_equal(arb_dedup_begin(dedup, &k, 0, NULL), ARB_DEDUP_NEW);
    arb_dedup_finish(dedup, &k, true, 0);
    arb_dedup_remember(dedup, &k, 0);
    assert_false(arb_dedup_seen(dedup, &k, 0));
    assert_int_equal(stats_of(dedup).entries, 0);
    arb_dedup_destroy(dedup);
}

/* ---- the replay: seen, remember ---- */

static void test_seen_until_the_window_edge(void **state)
{
    (void)state;
    struct arb_dedup *dedup = arb_dedup_new(16, 600000);
    struct arb_dedup_key k = key(6), other = key(7);

    assert_false(arb_dedup_seen(dedup, &k, 0));
    arb_dedup_remember(dedup, &k, 1000);
    assert_true(arb_dedup_seen(dedup, &k, 1000));
    assert_true(arb_dedup_seen(dedup, &k, 600999));
    assert_false(arb_dedup_seen(dedup, &other, 600999));
    assert_false(arb_dedup_seen(dedup, &k, 601000));
    assert_int_equal(stats_of(dedup).entries, 0); /* expired entries leave */
    arb_dedup_destroy(dedup);
}

/* Remembered again: its window starts again, and it becomes the newest. */
static void test_remember_again_renews(void **state)
{
    (void)state;
    struct arb_dedup *dedup = arb_dedup_new(4, 1000);
    struct arb_dedup_key k[5];
    for (unsigned i = 0; i < 5; i++)
        k[i] = key(300 + i);

    for (unsigned i = 0; i < 4; i++)
        arb_dedup_remember(dedup, &k[i], 100 + i);
    arb_dedup_remember(dedup, &k[0], 900);
    assert_int_equal(stats_of(dedup).entries, 4);
    arb_dedup_remember(dedup, &k[4], 901); /* full: k1 is now the oldest */
    assert_true(arb_dedup_seen(dedup, &k[0], 901));
    assert_false(arb_dedup_seen(dedup, &k[1], 901));
    assert_true(arb_dedup_seen(dedup, &k[2], 901));
    assert_int_equal(stats_of(dedup).evicted, 1);
    assert_true(arb_dedup_seen(dedup, &k[0], 1899)); /* 900 + 1000, not 100 + 1000 */
    assert_false(arb_dedup_seen(dedup, &k[2], 1899));
    assert_false(arb_dedup_seen(dedup, &k[0], 1900));
    arb_dedup_destroy(dedup);
}

/* A long run of remembers and checks over few buckets (chains, removals from their middle,
 * reuse of freed entries) against a model: the keys remembered less than window ago, the
 * max newest of them. */
#define MODEL_KEYS 64
static void test_random_against_a_model(void **state)
{
    (void)state;
    enum { MAX = 16, WINDOW = 50, STEPS = 20000 };
    struct arb_dedup *dedup = arb_dedup_new(MAX, WINDOW);
    int64_t remembered_at[MODEL_KEYS];
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < MODEL_KEYS; i++)
        remembered_at[i] = -1;

    for (int64_t now = 0; now < STEPS; now++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        unsigned n = (unsigned)(x % MODEL_KEYS);
        struct arb_dedup_key k = key(n);
        if ((x >> 32) % 3 == 0) {
            arb_dedup_remember(dedup, &k, now);
            remembered_at[n] = now;
            continue;
        }
        /* The model: remembered within the window, and fewer than MAX keys remembered
         * later than it (each later remember pushed one older key out). */
        bool expect = remembered_at[n] >= 0 && remembered_at[n] + WINDOW > now;
        int newer = 0;
        for (int i = 0; expect && i < MODEL_KEYS; i++)
            newer += remembered_at[i] > remembered_at[n];
        expect = expect && newer < MAX;
        if (arb_dedup_seen(dedup, &k, now) != expect)
            fail_msg("step %lld, key %u: seen %s, the model says %s", (long long)now, n,
                     expect ? "false" : "true", expect ? "true" : "false");
        assert_true(stats_of(dedup).entries <= MAX);
    }
    arb_dedup_destroy(dedup);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_of),
        cmocka_unit_test(test_done_until_the_window_edge),
        cmocka_unit_test(test_repeats_wait_for_the_first_copy),
        cmocka_unit_test(test_failed_first_copy_is_forgotten),
        cmocka_unit_test(test_in_doubt_until_the_records_settle),
        cmocka_unit_test(test_bound_oldest_done_first),
        cmocka_unit_test(test_window_zero_remembers_nothing),
        cmocka_unit_test(test_seen_until_the_window_edge),
        cmocka_unit_test(test_remember_again_renews),
        cmocka_unit_test(test_random_against_a_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
