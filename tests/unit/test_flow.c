/* test_flow.c - service mode's flow control (core/flow.c): scripts of partitions assigned
 * and revoked, records taken and loop turns with the counts held, each followed by the
 * pauses and resumes it must decide, whether the consumer may be polled, and whether its
 * fetcher is to be woken. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "arb/flow.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MS INT64_C(1000000)
#define T0 (INT64_C(5000) * MS) /* the script's time 0 */
#define NPARTS 4

enum op_kind {
    ASSIGN,  /* part */
    REVOKE,  /* part */
    TOOK,    /* part, what it holds (in held): expect "pause" or "" */
    TURN,    /* at_ms, held, pending: expect the actions */
    STOP,    /* expect the actions */
    REFUSED, /* part, pause: the consumer said no */
    POLL,    /* held: expect "yes" or "no" */
    PAUSED,  /* count */
    WAKE,    /* at_ms, held, queue empty (in part): expect "yes" or "no" */
    END,
};

struct op {
    enum op_kind kind;
    int part;
    int64_t at_ms;
    size_t held;
    size_t pending[NPARTS];
    const char *expect;
};

#define O_ASSIGN(p) {ASSIGN, p, 0, 0, {0}, NULL}
#define O_REVOKE(p) {REVOKE, p, 0, 0, {0}, NULL}
#define O_TOOK(p, n, x) {TOOK, p, 0, n, {0}, x}
#define O_TURN(t, h, a, b, c, d, x) {TURN, 0, t, h, {a, b, c, d}, x}
#define O_STOP(x) {STOP, 0, 0, 0, {0}, x}
#define O_REFUSED(p, pause) {REFUSED, p, 0, pause, {0}, NULL}
#define O_POLL(h, x) {POLL, 0, 0, h, {0}, x}
#define O_PAUSED(c) {PAUSED, c, 0, 0, {0}, NULL}
#define O_WAKE(t, h, empty, x) {WAKE, empty, t, h, {0}, x}
#define O_END {END, 0, 0, 0, {0}, NULL}

struct scenario {
    const char *name;
    size_t max_buffered;
    struct op ops[32];
};

static const struct scenario scenarios[] = {
    {"a full buffer stops the polling, and pauses nothing before 2 s",
     100,
     {O_ASSIGN(0), O_ASSIGN(1), O_POLL(99, "yes"), O_POLL(100, "no"),
      O_TURN(0, 100, 60, 40, 0, 0, ""), O_TURN(1999, 100, 60, 40, 0, 0, ""),
      O_TOOK(0, 61, ""), O_PAUSED(0), O_END}},
    {"a stall pauses the partitions holding their share, and polling goes on",
     100,
     {O_ASSIGN(0), O_ASSIGN(1), O_ASSIGN(2), O_ASSIGN(3),
      O_TURN(0, 100, 70, 25, 5, 0, ""), O_TURN(2000, 100, 70, 25, 5, 0, "pause 0, pause 1"),
      O_PAUSED(2), O_POLL(100, "yes"),
      /* while stalled, a partition reaching its share (25) is paused as it takes */
      O_TOOK(2, 24, ""), O_TOOK(2, 25, "pause"), O_TOOK(2, 26, ""), O_PAUSED(3),
      O_TOOK(3, 30, "pause"), O_PAUSED(4), O_END}},
    {"a paused partition resumes at half its share, the stall ends when not full",
     100,
     {O_ASSIGN(0), O_ASSIGN(1), O_TURN(0, 100, 80, 20, 0, 0, ""),
      O_TURN(2500, 100, 80, 20, 0, 0, "pause 0"), O_TURN(2600, 99, 26, 20, 0, 0, ""),
      O_TURN(2700, 95, 25, 20, 0, 0, "resume 0"), O_PAUSED(0),
      /* no longer stalled: taking pauses nothing, and a new stall waits 2 s again */
      O_TOOK(0, 60, ""), O_TURN(2800, 100, 60, 40, 0, 0, ""),
      O_TURN(4799, 100, 60, 40, 0, 0, ""), O_TURN(4800, 100, 60, 40, 0, 0, "pause 0"),
      O_END}},
    {"the share follows the assignment",
     90,
     {O_ASSIGN(0), O_ASSIGN(1), O_ASSIGN(2), O_TURN(0, 90, 30, 29, 31, 0, ""),
      O_TURN(2000, 90, 30, 29, 31, 0, "pause 0, pause 2"), O_REVOKE(2), O_PAUSED(1),
      /* two partitions: a share of 45, resumed at 22 */
      O_TURN(2100, 90, 30, 44, 0, 0, ""), O_TURN(2200, 90, 22, 45, 0, 0, "pause 1, resume 0"),
      O_END}},
    {"a refused pause is not counted, and is decided again",
     100,
     {O_ASSIGN(0), O_ASSIGN(1), O_TURN(0, 100, 50, 50, 0, 0, ""),
      O_TURN(2000, 100, 50, 50, 0, 0, "pause 0, pause 1"), O_REFUSED(1, 1), O_PAUSED(1),
      O_TURN(2001, 100, 50, 50, 0, 0, "pause 1"), O_PAUSED(2), O_REFUSED(0, 0), O_PAUSED(2),
      O_END}},
    {"stopping pauses every assigned partition and keeps polling",
     100,
     {O_ASSIGN(0), O_ASSIGN(2), O_TURN(0, 100, 100, 0, 0, 0, ""),
      O_TURN(3000, 100, 100, 0, 0, 0, "pause 0"), O_POLL(100, "yes"), O_STOP("pause 2"),
      O_PAUSED(2), O_POLL(100, "yes"), O_END}},
    {"stopping with nothing to pause polls too (rebalances are served by the poll)",
     100,
     {O_POLL(100, "no"), O_STOP(""), O_POLL(100, "yes"), O_PAUSED(0), O_END}},
    {"revoked partitions are neither paused nor resumed",
     100,
     {O_ASSIGN(0), O_ASSIGN(1), O_REVOKE(1), O_TURN(0, 100, 0, 100, 0, 0, ""),
      O_TURN(2000, 100, 0, 100, 0, 0, ""), O_TOOK(1, 100, ""), O_TOOK(7, 100, ""),
      O_REVOKE(7), O_STOP("pause 0"), O_END}},
    {"a partition assigned again starts unpaused",
     100,
     {O_ASSIGN(0), O_TURN(0, 100, 100, 0, 0, 0, ""), O_TURN(2000, 100, 100, 0, 0, 0, "pause 0"),
      O_PAUSED(1), O_ASSIGN(0), O_PAUSED(0), O_POLL(100, "no"), O_END}},
    {"an empty queue with room wakes the fetcher, once per 20 ms",
     100,
     {O_WAKE(0, 0, 1, "no"), /* nothing assigned: nothing to fetch */
      O_ASSIGN(0), O_WAKE(0, 10, 0, "no"), O_WAKE(0, 10, 1, "yes"), O_WAKE(19, 10, 1, "no"),
      O_WAKE(20, 10, 1, "yes"), O_WAKE(40, 50, 1, "yes"), O_WAKE(60, 51, 1, "no"),
      O_WAKE(60, 10, 0, "no"), O_WAKE(61, 10, 1, "yes"), O_END}},
    {"no wake while every partition is paused, nor when stopping",
     100,
     {O_ASSIGN(0), O_ASSIGN(1), O_TURN(0, 100, 50, 50, 0, 0, ""),
      O_TURN(2000, 100, 50, 50, 0, 0, "pause 0, pause 1"), O_WAKE(2000, 0, 1, "no"),
      O_TURN(2100, 10, 5, 5, 0, 0, "resume 0, resume 1"), O_WAKE(2100, 10, 1, "yes"),
      O_STOP("pause 0, pause 1"), O_WAKE(2200, 0, 1, "no"), O_END}},
};

static void append(char *out, size_t size, const char *text)
{
    size_t len = strlen(out);
    snprintf(out + len, size - len, "%s%s", len > 0 ? ", " : "", text);
}

static void describe(const struct arb_flow_action *actions, size_t n, char *out, size_t size)
{
    char one[32];
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        snprintf(one, sizeof(one), "%s %d", actions[i].pause ? "pause" : "resume",
                 actions[i].part);
        append(out, size, one);
    }
}

static void run_op(struct arb_flow *flow, const struct scenario *sc, size_t i)
{
    const struct op *op = &sc->ops[i];
    struct arb_flow_action actions[2 * NPARTS];
    char got[256] = "";

    switch (op->kind) {
    case ASSIGN: arb_flow_assign(flow, op->part); return;
    case REVOKE: arb_flow_revoke(flow, op->part); return;
    case TOOK:
        snprintf(got, sizeof(got), "%s",
                 arb_flow_took(flow, op->part, op->held) ? "pause" : "");
        break;
    case TURN:
        describe(actions,
                 arb_flow_turn(flow, T0 + op->at_ms * MS, op->held, op->pending, NPARTS,
                               actions),
                 got, sizeof(got));
        break;
    case STOP: describe(actions, arb_flow_stop(flow, NPARTS, actions), got, sizeof(got)); break;
    case REFUSED: {
        const struct arb_flow_action refused = {op->part, op->held != 0};
        arb_flow_refused(flow, &refused);
        return;
    }
    case POLL:
        snprintf(got, sizeof(got), "%s", arb_flow_may_poll(flow, op->held) ? "yes" : "no");
        break;
    case PAUSED:
        if (arb_flow_paused_count(flow) != op->part)
            fail_msg("%s, op %zu: %d paused, want %d", sc->name, i + 1,
                     arb_flow_paused_count(flow), op->part);
        return;
    case WAKE:
        snprintf(got, sizeof(got), "%s",
                 arb_flow_wake_due(flow, T0 + op->at_ms * MS, op->held, op->part != 0) ? "yes"
                                                                                       : "no");
        break;
    case END: return;
    }
    if (strcmp(got, op->expect) != 0)
        fail_msg("%s, op %zu: got \"%s\", want \"%s\"", sc->name, i + 1, got, op->expect);
}

static void test_scenarios(void **state)
{
    (void)state;
    for (size_t s = 0; s < COUNT(scenarios); s++) {
        struct arb_flow *flow = arb_flow_new(scenarios[s].max_buffered);
        for (size_t i = 0; scenarios[s].ops[i].kind != END; i++)
            run_op(flow, &scenarios[s], i);
        arb_flow_destroy(flow);
    }
}

/* The state the driver reads back, and partitions it never assigned. */
static void test_queries(void **state)
{
    (void)state;
    struct arb_flow *flow = arb_flow_new(16);
    struct arb_flow_action actions[4];
    size_t pending[2] = {16, 0};
    assert_false(arb_flow_assigned(flow, 0));
    assert_false(arb_flow_paused(flow, -1));
    arb_flow_assign(flow, -1); /* ignored */
    arb_flow_assign(flow, 1);
    assert_true(arb_flow_assigned(flow, 1));
    assert_false(arb_flow_assigned(flow, 0));
    assert_false(arb_flow_assigned(flow, 2));
    arb_flow_assign(flow, 0);
    assert_int_equal(arb_flow_turn(flow, T0, 16, pending, 2, actions), 0);
    assert_int_equal(arb_flow_turn(flow, T0 + 2000 * MS, 16, pending, 1, actions), 1);
    assert_true(arb_flow_paused(flow, 0));
    assert_false(arb_flow_paused(flow, 1));
    const struct arb_flow_action stray = {9, true};
    arb_flow_refused(flow, &stray); /* ignored */
    assert_int_equal(arb_flow_paused_count(flow), 1);
    arb_flow_destroy(flow);
    arb_flow_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenarios),
        cmocka_unit_test(test_queries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
