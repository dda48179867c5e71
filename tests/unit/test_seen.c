/* test_seen.c - the replay's per-partition windows of delivered Idempotency-Keys
 * (core/seen.c): one window per partition, its edge, its bound (the partition's oldest key
 * first, other partitions untouched), a revoked partition's window dropped, which texts are
 * the same key, and the totals the metrics show. Time is passed in. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>

#include "arb/seen.h"

#define RID "0123456789abcdef0123456789abcdef"
#define WINDOW_MS 600000

/* The Idempotency-Key of message index of request id number n (32 hex). */
static const char *idem(unsigned n, unsigned index)
{
    static char text[8][64];
    static unsigned turn;
    char *out = text[turn++ % 8];
    snprintf(out, 64, "%032x:%u", n, index);
    return out;
}

static struct arb_seen_stats stats_of(const struct arb_seen *seen)
{
    struct arb_seen_stats stats;
    arb_seen_stats(seen, &stats);
    return stats;
}

static void test_one_window_per_partition(void **state)
{
    (void)state;
    struct arb_seen *seen = arb_seen_new(WINDOW_MS, 16);

    assert_false(arb_seen_check(seen, 0, RID ":0", 0)); /* nothing yet, no window yet */
    arb_seen_remember(seen, 0, RID ":0", 10);
    assert_true(arb_seen_check(seen, 0, RID ":0", 11));
    assert_false(arb_seen_check(seen, 1, RID ":0", 11)); /* another partition's window */
    assert_false(arb_seen_check(seen, 0, RID ":1", 11)); /* another message of the request */
    arb_seen_remember(seen, 3, RID ":0", 12);
    assert_true(arb_seen_check(seen, 3, RID ":0", 13));
    assert_int_equal(stats_of(seen).entries, 2);
    assert_int_equal(stats_of(seen).skipped, 2);
    arb_seen_destroy(seen);
}

static void test_window_edge(void **state)
{
    (void)state;
    struct arb_seen *seen = arb_seen_new(WINDOW_MS, 16);

    arb_seen_remember(seen, 2, idem(1, 0), 1000);
    assert_true(arb_seen_check(seen, 2, idem(1, 0), 1000 + WINDOW_MS - 1));
    assert_false(arb_seen_check(seen, 2, idem(1, 0), 1000 + WINDOW_MS));
    assert_int_equal(stats_of(seen).entries, 0); /* the expired key left */
    assert_int_equal(stats_of(seen).skipped, 1);

    /* Remembered again (delivered again after its window): a new window from then. */
    arb_seen_remember(seen, 2, idem(1, 0), 2000 + WINDOW_MS);
    assert_true(arb_seen_check(seen, 2, idem(1, 0), 2000 + 2 * WINDOW_MS - 1));
    assert_false(arb_seen_check(seen, 2, idem(1, 0), 2000 + 2 * WINDOW_MS));
    arb_seen_destroy(seen);
}

/* max_entries is per partition: a full partition lets its oldest key go, and only its own. */
static void test_bound_per_partition(void **state)
{
    (void)state;
    enum { MAX = 16 };
    struct arb_seen *seen = arb_seen_new(WINDOW_MS, MAX);

    for (unsigned i = 0; i < MAX; i++)
        arb_seen_remember(seen, 1, idem(1000 + i, 0), i);
    for (unsigned i = 0; i <= MAX; i++) /* one more than fits */
        arb_seen_remember(seen, 0, idem(i, 0), 100 + i);

    assert_int_equal(stats_of(seen).entries, 2 * MAX);
    assert_int_equal(stats_of(seen).evicted, 1);
    assert_false(arb_seen_check(seen, 0, idem(0, 0), 200)); /* partition 0's oldest went */
    for (unsigned i = 1; i <= MAX; i++)
        if (!arb_seen_check(seen, 0, idem(i, 0), 200))
            fail_msg("partition 0 forgot key %u", i);
    for (unsigned i = 0; i < MAX; i++) /* partition 1, though older, kept all of its own */
        if (!arb_seen_check(seen, 1, idem(1000 + i, 0), 200))
            fail_msg("partition 1 forgot key %u", i);
    arb_seen_destroy(seen);
}

/* Revoked: the partition's window goes, the others stay; it starts afresh when it next
 * delivers. */
static void test_drop(void **state)
{
    (void)state;
    struct arb_seen *seen = arb_seen_new(WINDOW_MS, 16);

    arb_seen_remember(seen, 0, idem(1, 0), 0);
    arb_seen_remember(seen, 0, idem(1, 1), 0);
    arb_seen_remember(seen, 2, idem(2, 0), 0);
    assert_int_equal(stats_of(seen).entries, 3);

    arb_seen_drop(seen, 0);
    assert_int_equal(stats_of(seen).entries, 1);
    assert_false(arb_seen_check(seen, 0, idem(1, 0), 1));
    assert_false(arb_seen_check(seen, 0, idem(1, 1), 1));
    assert_true(arb_seen_check(seen, 2, idem(2, 0), 1));

    arb_seen_drop(seen, 0); /* twice, one never used, one out of range: nothing happens */
    arb_seen_drop(seen, 1);
    arb_seen_drop(seen, 99);
    arb_seen_drop(seen, -1);
    assert_int_equal(stats_of(seen).entries, 1);

    arb_seen_remember(seen, 0, idem(3, 0), 2);
    assert_true(arb_seen_check(seen, 0, idem(3, 0), 3));
    assert_false(arb_seen_check(seen, 0, idem(1, 0), 3));
    assert_int_equal(stats_of(seen).entries, 2);
    arb_seen_destroy(seen);
}

/* The same key is the same text: other request ids, non-canonical indexes and another
 * case are other keys; keys not made by the bridge work as well. */
static void test_key_texts(void **state)
{
    (void)state;
    static const char *const others[] = {
        RID ":01",                                /* a leading zero */
        RID ":+1",                                /* a sign */
        RID ":",                                  /* no index */
        RID,                                      /* no colon */
        "0123456789ABCDEF0123456789ABCDEF:1",     /* upper case */
        "0123456789abcdef0123456789abcde:1",      /* 31 hex */
        "0123456789abcdef0123456789abcdef0:1",    /* 33 hex */
        RID ":4294967295",                        /* past the indexes a message has */
        RID ":1:",                                /* trailing text */
        "",
    };
    struct arb_seen *seen = arb_seen_new(WINDOW_MS, 64);

    arb_seen_remember(seen, 0, RID ":1", 0);
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        if (arb_seen_check(seen, 0, others[i], 1))
            fail_msg("\"%s\" taken for " RID ":1", others[i]);
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        arb_seen_remember(seen, 0, others[i], 2);
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        if (!arb_seen_check(seen, 0, others[i], 3))
            fail_msg("\"%s\" not remembered", others[i]);
    assert_int_equal(stats_of(seen).entries, 1 + sizeof(others) / sizeof(others[0]));

    arb_seen_remember(seen, 1, "not-a-digest:0", 4);
    assert_true(arb_seen_check(seen, 1, "not-a-digest:0", 5));
    assert_false(arb_seen_check(seen, 1, "not-a-digest:1", 5));
    assert_true(arb_seen_check(seen, 0, RID ":1", 5));
    arb_seen_destroy(seen);
}

static void test_off_and_bad_partitions(void **state)
{
    (void)state;
    struct arb_seen *off = arb_seen_new(0, 16);
    arb_seen_remember(off, 0, RID ":0", 0);
    assert_false(arb_seen_check(off, 0, RID ":0", 0));
    assert_int_equal(stats_of(off).entries, 0);
    arb_seen_destroy(off);

    struct arb_seen *seen = arb_seen_new(WINDOW_MS, 16);
    arb_seen_remember(seen, -1, RID ":0", 0);
    assert_false(arb_seen_check(seen, -1, RID ":0", 0));
    assert_int_equal(stats_of(seen).entries, 0);
    arb_seen_remember(seen, 500, RID ":0", 0); /* a high index grows the table */
    assert_true(arb_seen_check(seen, 500, RID ":0", 0));
    assert_false(arb_seen_check(seen, 499, RID ":0", 0));
    arb_seen_destroy(seen);
    arb_seen_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_window_per_partition),
        cmocka_unit_test(test_window_edge),
        cmocka_unit_test(test_bound_per_partition),
        cmocka_unit_test(test_drop),
        cmocka_unit_test(test_key_texts),
        cmocka_unit_test(test_off_and_bad_partitions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
