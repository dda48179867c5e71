/* test_jobs.c - the replay's delivery decisions (core/jobs.c), with no desk and no broker:
 * scripts of inputs (records, the time, the desk's answers, Kafka's reports on dead
 * letters, partitions dropped), each followed by the effects it must produce, in order and
 * nothing else. Then what the effects carry: the outcome, the dead letter's headers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arb/jobs.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define EPOCH_NS INT64_C(1000000000000) /* the script's time 0 on the jobs' clock */
#define MAX_RECORDS 32

/* ---- the script ---- */

enum step_kind {
    ADD,      /* name part offset key [value]: a record ("" key: its own conversation) */
    RUN,      /* arb_jobs_run */
    ANSWER,   /* name status [retry_after_ms] */
    NOANSWER, /* name: a timeout */
    DL_OK,    /* name: Kafka acknowledged its dead letter */
    DL_FAIL,  /* name: Kafka refused it */
    DROP,     /* part */
    ABANDON,
    PENDING,  /* part count */
    TOTAL,    /* count */
    EXPIRY,   /* at (ms of the script; -1: nothing waits for time) */
    ORPHANS,  /* count */
    END,
};

struct step {
    enum step_kind kind;
    int64_t at_ms;
    const char *name;
    int part;
    int64_t n;           /* ADD: offset; ANSWER: status; PENDING, TOTAL: count; EXPIRY: at */
    const char *key;     /* ADD */
    const char *value;   /* ADD: the value (NULL: the name); its copies share the key */
    int64_t retry_after; /* ANSWER */
    bool hold;           /* effects stay queued until the next step */
    const char *effects; /* expected, ", "-separated; "wake x +a..b" is a range */
};

#define S_ADD(t, nm, p, o, k) {ADD, t, nm, p, o, k, NULL, -1, false, ""}
#define S_COPY(t, nm, p, o, k, v) {ADD, t, nm, p, o, k, v, -1, false, ""}
#define S_RUN(t, fx) {RUN, t, NULL, 0, 0, NULL, NULL, -1, false, fx}
#define S_RUN_HOLD(t) {RUN, t, NULL, 0, 0, NULL, NULL, -1, true, ""}
#define S_ANSWER(t, nm, st, fx) {ANSWER, t, nm, 0, st, NULL, NULL, -1, false, fx}
#define S_LATER(t, nm, st, ra, fx) {ANSWER, t, nm, 0, st, NULL, NULL, ra, false, fx}
#define S_NOANSWER(t, nm, fx) {NOANSWER, t, nm, 0, 0, NULL, NULL, -1, false, fx}
#define S_DL_OK(t, nm, fx) {DL_OK, t, nm, 0, 0, NULL, NULL, -1, false, fx}
#define S_DL_FAIL(t, nm, fx) {DL_FAIL, t, nm, 0, 0, NULL, NULL, -1, false, fx}
#define S_DROP(t, p, fx) {DROP, t, NULL, p, 0, NULL, NULL, -1, false, fx}
#define S_ABANDON(t, fx) {ABANDON, t, NULL, 0, 0, NULL, NULL, -1, false, fx}
#define S_PENDING(p, c) {PENDING, 0, NULL, p, c, NULL, NULL, -1, false, ""}
#define S_TOTAL(c) {TOTAL, 0, NULL, 0, c, NULL, NULL, -1, false, ""}
#define S_EXPIRY(t, at) {EXPIRY, t, NULL, 0, at, NULL, NULL, -1, false, ""}
#define S_ORPHANS(c) {ORPHANS, 0, NULL, 0, c, NULL, NULL, -1, false, ""}
#define S_END {END, 0, NULL, 0, 0, NULL, NULL, -1, false, NULL}

struct desk_spec {
    enum arb_desk_format format;
    int max_in_flight;
    int max_retry_s;
    int retry_base_ms, retry_cap_ms;
    double rate_limit_rps;
    int64_t dedup_window_ms; /* 0: dedup off (debug mode) */
};

/* Backoff jitter within [0, 100] ms, so that a Retry-After above it fixes the delay. */
static const struct desk_spec plain = {ARB_DESK_RECORD, 64, 60, 100, 100, 0, 0};
static const struct desk_spec dedup = {ARB_DESK_RECORD, 64, 60, 100, 100, 0, 600000};
static const struct desk_spec short_window = {ARB_DESK_RECORD, 64, 60, 100, 100, 0, 1000};
static const struct desk_spec one_at_a_time = {ARB_DESK_RECORD, 1, 60, 100, 100, 0, 0};
static const struct desk_spec two_at_a_time = {ARB_DESK_RECORD, 2, 60, 100, 100, 0, 0};
static const struct desk_spec two_a_second = {ARB_DESK_RECORD, 64, 60, 100, 100, 2, 0};
static const struct desk_spec one_second = {ARB_DESK_RECORD, 64, 1, 100, 100, 0, 0};
static const struct desk_spec events = {ARB_DESK_EVENT, 64, 60, 100, 100, 0, 0};

struct scenario {
    const char *name;
    const struct desk_spec *desk;
    struct step steps[40];
};

static const struct scenario scenarios[] = {
    {"a conversation in order, others alongside",
     &plain,
     {S_ADD(0, "a1", 0, 0, "A"), S_ADD(0, "b1", 0, 1, "B"), S_ADD(0, "a2", 0, 2, "A"),
      S_PENDING(0, 3), S_TOTAL(3), S_RUN(0, "send a1, send b1"),
      S_ANSWER(5, "a1", 200, "delivered a1, commit 0:1"), S_RUN(5, "send a2"),
      S_ANSWER(6, "a2", 204, "delivered a2"), S_PENDING(0, 1),
      S_ANSWER(7, "b1", 200, "delivered b1, commit 0:3"), S_TOTAL(0), S_RUN(8, ""), S_END}},
    {"the commit rule: out-of-order answers commit only what is done before",
     &plain,
     {S_ADD(0, "x", 0, 10, "X"), S_ADD(0, "y", 0, 11, "Y"), S_ADD(0, "z", 0, 12, "Z"),
      S_ADD(0, "w", 1, 3, "W"), S_RUN(0, "send x, send y, send z, send w"),
      S_ANSWER(1, "z", 200, "delivered z"), S_ANSWER(2, "y", 200, "delivered y"),
      S_ANSWER(3, "w", 200, "delivered w, commit 1:4"),
      S_ANSWER(4, "x", 200, "delivered x, commit 0:13"), S_END}},
    {"the commit rule: a dead-lettered record commits once Kafka has it",
     &plain,
     {S_ADD(0, "x", 0, 0, "X"), S_ADD(0, "y", 0, 1, "Y"), S_RUN(0, "send x, send y"),
      S_ANSWER(1, "x", 400, "deadletter x"), S_ANSWER(2, "y", 200, "delivered y"),
      S_DL_FAIL(3, "x", "wake x +250..500"), S_RUN(200, ""), S_RUN(600, "deadletter x"),
      S_DL_OK(601, "x", "deadlettered x, commit 0:2"), S_END}},
    {"retried with backoff, never sooner than Retry-After",
     &plain,
     {S_ADD(0, "x", 0, 0, "X"), S_ADD(0, "x2", 0, 1, "X"), S_RUN(0, "send x"),
      S_LATER(10, "x", 503, 1000, "desk down, wake x +1000"), S_EXPIRY(10, 1010),
      S_RUN(1009, ""), S_RUN(1010, "send x"), S_LATER(1020, "x", 429, 2000, "wake x +2000"),
      S_RUN(3020, "send x"), S_NOANSWER(3030, "x", "wake x +0..100"),
      S_RUN(3130, "send x"), S_ANSWER(3140, "x", 200, "desk up, delivered x, commit 0:1"),
      S_RUN(3140, "send x2"), S_EXPIRY(3140, -1), S_END}},
    {"other 4xx: dead-lettered at once, the conversation goes on",
     &plain,
     {S_ADD(0, "x", 0, 0, "X"), S_ADD(0, "x2", 0, 1, "X"), S_RUN(0, "send x"),
      S_ANSWER(1, "x", 404, "deadletter x"), S_RUN(2, ""),
      S_DL_OK(3, "x", "deadlettered x, commit 0:1"), S_RUN(3, "send x2"), S_END}},
    {"out of retry time: dead-lettered",
     &one_second,
     {S_ADD(0, "x", 0, 0, "X"), S_RUN(0, "send x"),
      S_LATER(0, "x", 500, 500, "desk down, wake x +500"), S_RUN(500, "send x"),
      S_LATER(600, "x", 500, 401, "deadletter x"), S_DL_OK(601, "x", "deadlettered x, commit 0:1"),
      S_END}},
    {"dead letters Kafka refuses are written again, in the order they fall due",
     &one_at_a_time,
     {S_ADD(0, "x", 0, 0, "X"), S_ADD(0, "y", 0, 1, "Y"), S_ADD(0, "z", 0, 2, "Z"),
      S_RUN(0, "send x"), S_ANSWER(0, "x", 400, "deadletter x"), S_RUN(0, "send y"),
      S_ANSWER(0, "y", 410, "deadletter y"), S_RUN(0, "send z"),
      S_DL_FAIL(0, "y", "wake y +250..500"), S_DL_FAIL(600, "x", "wake x +250..500"),
      S_RUN(1200, "deadletter y, deadletter x"), S_END}},
    {"dead-letter retries go however busy the desk is",
     &one_at_a_time,
     {S_ADD(0, "x", 0, 0, "X"), S_ADD(0, "y", 0, 1, "Y"), S_ADD(0, "z", 0, 2, "Z"),
      S_RUN(0, "send x"), S_ANSWER(0, "x", 400, "deadletter x"), S_RUN(0, "send y"),
      S_ANSWER(0, "y", 400, "deadletter y"), S_RUN(0, "send z"),
      S_DL_FAIL(0, "x", "wake x +250..500"), S_DL_FAIL(600, "y", "wake y +250..500"),
      S_RUN(1200, "deadletter x, deadletter y"), S_DL_FAIL(1200, "x", "wake x +500..1000"),
      S_DL_OK(1201, "y", "deadlettered y"), S_RUN(2300, "deadletter x"),
      S_DL_OK(2301, "x", "deadlettered x, commit 0:2"), S_TOTAL(1), S_END}},
    {"revoked while sending: the post is aborted, nothing committed, the key goes on",
     &plain,
     {S_ADD(0, "a", 0, 0, "K"), S_ADD(0, "b", 1, 0, "K"), S_ADD(0, "c", 0, 1, "C"),
      S_RUN(0, "send a, send c"), S_ANSWER(1, "c", 200, "delivered c"),
      S_DROP(2, 0, "abort a"), S_PENDING(0, 0), S_TOTAL(1), S_RUN(2, "send b"),
      S_ANSWER(3, "b", 200, "delivered b, commit 1:1"), S_TOTAL(0), S_END}},
    {"retries fall due in their order; a revoked partition's leave from the middle",
     &plain,
     {S_ADD(0, "a", 0, 0, "A"), S_ADD(0, "b", 1, 0, "B"), S_ADD(0, "c", 0, 1, "C"),
      S_ADD(0, "d", 1, 1, "D"), S_ADD(0, "e", 0, 2, "E"), S_ADD(0, "f", 1, 2, "F"),
      S_RUN(0, "send a, send b, send c, send d, send e, send f"),
      S_LATER(0, "a", 503, 600, "desk down, wake a +600"), S_LATER(0, "b", 503, 100, "wake b +100"),
      S_LATER(0, "c", 503, 500, "wake c +500"), S_LATER(0, "d", 503, 200, "wake d +200"),
      S_LATER(0, "e", 503, 300, "wake e +300"), S_LATER(0, "f", 503, 400, "wake f +400"),
      S_EXPIRY(0, 100), S_DROP(1, 1, ""), S_EXPIRY(1, 300), S_RUN(299, ""), S_RUN(300, "send e"),
      S_RUN(550, "send c"), S_RUN(600, "send a"), S_EXPIRY(600, -1), S_END}},
    {"orphans finished in any order",
     &plain,
     {S_ADD(0, "a", 0, 0, "A"), S_ADD(0, "b", 0, 1, "B"), S_ADD(0, "c", 0, 2, "C"),
      S_RUN(0, "send a, send b, send c"), S_ANSWER(1, "a", 400, "deadletter a"),
      S_ANSWER(1, "b", 400, "deadletter b"), S_ANSWER(1, "c", 400, "deadletter c"),
      S_DROP(2, 0, ""), S_ORPHANS(3), S_DL_OK(3, "b", ""), S_ORPHANS(2),
      S_DL_FAIL(3, "c", ""), S_ORPHANS(1), S_DL_OK(4, "a", ""), S_ORPHANS(0), S_TOTAL(0),
      S_END}},
    {"revoked in backoff: the retry is forgotten",
     &plain,
     {S_ADD(0, "a", 0, 0, "A"), S_RUN(0, "send a"),
      S_LATER(0, "a", 503, 1000, "desk down, wake a +1000"), S_EXPIRY(0, 1000),
      S_DROP(1, 0, ""), S_EXPIRY(1, -1), S_RUN(2000, ""), S_TOTAL(0), S_END}},
    {"an orphaned dead letter: its report finishes nothing",
     &plain,
     {S_ADD(0, "a", 0, 0, "K"), S_ADD(0, "b", 1, 0, "K"), S_RUN(0, "send a"),
      S_ANSWER(1, "a", 422, "deadletter a"), S_DROP(2, 0, ""), S_TOTAL(1), S_ORPHANS(1),
      S_RUN(2, "send b"), S_DL_OK(3, "a", ""), S_ORPHANS(0),
      S_ANSWER(4, "b", 200, "delivered b, commit 1:1"), S_END}},
    {"an orphaned dead letter Kafka refused is not written again",
     &plain,
     {S_ADD(0, "a", 0, 0, "A"), S_RUN(0, "send a"), S_ANSWER(1, "a", 400, "deadletter a"),
      S_DROP(2, 0, ""), S_ORPHANS(1), S_DL_FAIL(3, "a", ""), S_ORPHANS(0), S_RUN(5000, ""),
      S_EXPIRY(5000, -1), S_END}},
    {"dropped before the driver took the effects: nothing is posted or produced",
     &plain,
     {S_ADD(0, "a", 0, 0, "A"), S_ADD(0, "b", 1, 0, "B"), S_RUN_HOLD(0),
      S_DROP(1, 0, "send b"), S_ANSWER(2, "b", 400, "deadletter b"), S_END}},
    {"dropped with its dead letter not yet produced: no orphan",
     &plain,
     {S_ADD(0, "a", 0, 0, "A"), S_RUN(0, "send a"),
      {ANSWER, 1, "a", 0, 400, NULL, NULL, -1, true, ""}, S_DROP(2, 0, ""), S_TOTAL(0),
      S_ORPHANS(0), S_END}},
    {"abandon: every post aborted",
     &plain,
     {S_ADD(0, "a", 0, 0, "A"), S_ADD(0, "b", 2, 0, "B"), S_ADD(0, "c", 2, 1, "B"),
      S_RUN(0, "send a, send b"), S_ABANDON(1, "abort a, abort b"), S_TOTAL(0),
      S_RUN(2, ""), S_END}},
    {"dedup: a copy its partition delivered is skipped, and counts as done",
     &dedup,
     {S_ADD(0, "a", 0, 0, "K"), S_COPY(0, "a'", 0, 1, "K", "a"), S_RUN(0, "send a"),
      S_ANSWER(1, "a", 200, "delivered a, commit 0:1"), S_RUN(2, "skip a', skipped a', commit 0:2"),
      S_COPY(3, "a''", 1, 0, "K", "a"), S_RUN(3, "send a''"), S_TOTAL(1), S_END}},
    {"dedup: a key is remembered only once the desk took it",
     &dedup,
     {S_ADD(0, "c", 0, 0, "C"), S_RUN(0, "send c"), S_ANSWER(1, "c", 400, "deadletter c"),
      S_DL_OK(2, "c", "deadlettered c, commit 0:1"), S_COPY(3, "c'", 0, 1, "C", "c"),
      S_RUN(3, "send c'"), S_LATER(4, "c'", 503, 500, "desk down, wake c' +500"),
      S_COPY(5, "c''", 0, 2, "D", "c"), S_RUN(5, "send c''"),
      S_ANSWER(6, "c''", 200, "desk up, delivered c''"), S_RUN(504, "send c'"),
      S_ANSWER(505, "c'", 200, "delivered c', commit 0:3"), S_END}},
    {"dedup: the window passes, and a revoked partition forgets",
     &short_window,
     {S_ADD(0, "a", 0, 0, "A"), S_RUN(0, "send a"),
      S_ANSWER(0, "a", 200, "delivered a, commit 0:1"), S_COPY(999, "a'", 0, 1, "A", "a"),
      S_RUN(999, "skip a', skipped a', commit 0:2"), S_COPY(1000, "a''", 0, 2, "A", "a"),
      S_RUN(1000, "send a''"), S_ANSWER(1001, "a''", 200, "delivered a'', commit 0:3"),
      S_DROP(1002, 0, ""), S_COPY(1003, "a'''", 0, 3, "A", "a"), S_RUN(1003, "send a'''"),
      S_END}},
    {"no dedup (debug mode's re-sends): copies are sent",
     &plain,
     {S_ADD(0, "a", 0, 0, "K"), S_COPY(0, "a'", 0, 1, "K", "a"), S_RUN(0, "send a"),
      S_ANSWER(1, "a", 200, "delivered a, commit 0:1"), S_RUN(2, "send a'"), S_END}},
    {"at most max_in_flight posts at once",
     &two_at_a_time,
     {S_ADD(0, "a", 0, 0, "A"), S_ADD(0, "b", 0, 1, "B"), S_ADD(0, "c", 0, 2, "C"),
      S_RUN(0, "send a, send b"), S_RUN(1, ""), S_ANSWER(2, "b", 200, "delivered b"),
      S_RUN(2, "send c"), S_END}},
    {"a due retry waits for room, ahead of new records",
     &one_at_a_time,
     {S_ADD(0, "a", 0, 0, "A"), S_ADD(0, "b", 0, 1, "B"), S_ADD(0, "c", 0, 2, "C"),
      S_RUN(0, "send a"), S_LATER(0, "a", 503, 100, "desk down, wake a +100"),
      S_RUN(0, "send b"), S_EXPIRY(50, -1), S_RUN(150, ""), S_EXPIRY(150, -1),
      S_ANSWER(160, "b", 200, "desk up, delivered b"), S_EXPIRY(160, 100),
      S_RUN(160, "send a"), S_END}},
    {"a dead letter due again is written while a retry waits for a post slot",
     &one_at_a_time,
     {S_ADD(0, "a", 0, 0, "A"), S_ADD(0, "b", 0, 1, "B"), S_ADD(0, "c", 0, 2, "C"),
      S_RUN(0, "send a"), S_ANSWER(1, "a", 400, "deadletter a"),
      S_DL_FAIL(2, "a", "wake a +250..500"), S_RUN(2, "send b"),
      S_LATER(3, "b", 503, 100, "desk down, wake b +100"), S_RUN(3, "send c"),
      S_RUN(600, "deadletter a"), S_EXPIRY(600, -1),
      S_DL_OK(601, "a", "deadlettered a, commit 0:1"), S_END}},
    {"the rate limit: two a second",
     &two_a_second,
     {S_ADD(0, "a", 0, 0, "A"), S_ADD(0, "b", 0, 1, "B"), S_ADD(0, "c", 0, 2, "C"),
      S_RUN(0, "send a"), S_EXPIRY(0, 500), S_RUN(499, ""), S_RUN(500, "send b"),
      S_RUN(999, ""), S_RUN(1000, "send c"), S_EXPIRY(1000, 1500),
      S_LATER(1010, "c", 503, 100, "desk down, wake c +100"), S_EXPIRY(1010, 1110),
      S_RUN(1110, ""), S_RUN(1500, "send c"), S_END}},
    {"a record that cannot be built is dead-lettered unsent",
     &events,
     {S_COPY(0, "n", 0, 0, "N", "not json"), S_ADD(0, "n2", 0, 1, "N"), S_RUN(0, "deadletter n"),
      S_DL_OK(1, "n", "deadlettered n, commit 0:1"), S_RUN(1, "deadletter n2"), S_END}},
    {"records without a key: each its own conversation",
     &plain,
     {S_ADD(0, "a", 0, 0, ""), S_ADD(0, "b", 0, 1, ""), S_RUN(0, "send a, send b"),
      S_ANSWER(1, "b", 200, "delivered b"), S_ANSWER(1, "a", 200, "delivered a, commit 0:2"),
      S_END}},
};

/* ---- running a script ---- */

struct run {
    struct arb_jobs *jobs;
    const char *names[MAX_RECORDS];
    char origins[MAX_RECORDS][64];
    struct arb_job *jobs_of[MAX_RECORDS]; /* as the effects name them */
    size_t count;
    char effects[1024];
    int64_t now_ms;
};

static struct arb_desk_conf make_desk(const struct desk_spec *spec)
{
    struct arb_desk_conf desk = {0};
    desk.url = (char *)"http://desk.invalid/events";
    desk.format = spec->format;
    desk.signature.mode = ARB_SIG_OFF;
    desk.signature.header = (char *)"X-AIRudder-Sign";
    desk.signature.prefix = (char *)"";
    desk.signature.key_header = (char *)"";
    desk.max_in_flight = spec->max_in_flight;
    desk.max_retry_s = spec->max_retry_s;
    desk.retry_base_ms = spec->retry_base_ms;
    desk.retry_cap_ms = spec->retry_cap_ms;
    desk.rate_limit_rps = spec->rate_limit_rps;
    return desk;
}

static int64_t ns_of(int64_t ms)
{
    return EPOCH_NS + ms * 1000000;
}

static size_t index_of(const struct run *run, const char *name)
{
    for (size_t i = 0; i < run->count; i++)
        if (strcmp(run->names[i], name) == 0)
            return i;
    fail_msg("no record %s", name);
    return 0;
}

static const char *name_of(struct run *run, const struct arb_job_effect *effect)
{
    for (size_t i = 0; i < run->count; i++)
        if (strcmp(run->origins[i], effect->origin) == 0) {
            run->jobs_of[i] = effect->job;
            return run->names[i];
        }
    fail_msg("an effect of an unknown record %s", effect->origin);
    return "?";
}

static struct arb_job *job_named(const struct run *run, const char *name)
{
    struct arb_job *job = run->jobs_of[index_of(run, name)];
    if (job == NULL)
        fail_msg("%s was never named by an effect", name);
    return job;
}

static void describe(struct run *run, const struct arb_job_effect *e, char *out, size_t size)
{
    switch (e->kind) {
    case ARB_JOB_SEND:
        arb_job_set_io(e->job, (void *)name_of(run, e));
        snprintf(out, size, "send %s", name_of(run, e));
        break;
    case ARB_JOB_ABORT: snprintf(out, size, "abort %s", (const char *)e->io); break;
    case ARB_JOB_DEADLETTER: snprintf(out, size, "deadletter %s", name_of(run, e)); break;
    case ARB_JOB_WAKE:
        snprintf(out, size, "wake %s +%lld", name_of(run, e),
                 (long long)((e->at_ns - ns_of(run->now_ms)) / 1000000));
        break;
    case ARB_JOB_SKIPPED: snprintf(out, size, "skip %s", name_of(run, e)); break;
    case ARB_JOB_OUTCOME:
        snprintf(out, size, "%s %s",
                 e->outcome.status == ARB_OUTCOME_DELIVERED     ? "delivered"
                 : e->outcome.status == ARB_OUTCOME_DEADLETTERED ? "deadlettered"
                                                                 : "skipped",
                 name_of(run, e));
        break;
    case ARB_JOB_COMMIT:
        snprintf(out, size, "commit %d:%lld", e->part, (long long)e->offset);
        break;
    case ARB_JOB_DESK: snprintf(out, size, "desk %s", e->desk_reachable ? "up" : "down"); break;
    }
}

static void drain(struct run *run)
{
    struct arb_job_effect effect;
    char one[128];
    while (arb_jobs_effect(run->jobs, &effect)) {
        describe(run, &effect, one, sizeof(one));
        size_t len = strlen(run->effects);
        snprintf(run->effects + len, sizeof(run->effects) - len, "%s%s", len ? ", " : "", one);
    }
}

/* "wake x +a..b" matches "wake x +n" for a <= n <= b; anything else matches itself. */
static bool effect_matches(const char *want, const char *got)
{
    const char *range = strstr(want, "..");
    const char *plus = strrchr(want, '+');
    if (range == NULL || plus == NULL)
        return strcmp(want, got) == 0;
    size_t prefix = (size_t)(plus - want) + 1;
    if (strncmp(want, got, prefix) != 0)
        return false;
    long long low = strtoll(plus + 1, NULL, 10), high = strtoll(range + 2, NULL, 10);
    char *end;
    long long n = strtoll(got + prefix, &end, 10);
    return *end == '\0' && end != got + prefix && n >= low && n <= high;
}

static bool effects_match(const char *want, const char *got)
{
    char w[1024], g[1024], *ws, *gs;
    snprintf(w, sizeof(w), "%s", want);
    snprintf(g, sizeof(g), "%s", got);
    char *wt = strtok_r(w, ",", &ws), *gt = strtok_r(g, ",", &gs);
    while (wt != NULL && gt != NULL) {
        while (*wt == ' ')
            wt++;
        while (*gt == ' ')
            gt++;
        if (!effect_matches(wt, gt))
            return false;
        wt = strtok_r(NULL, ",", &ws);
        gt = strtok_r(NULL, ",", &gs);
    }
    return wt == NULL && gt == NULL;
}

static void add(struct run *run, const struct step *step)
{
    assert_true(run->count < MAX_RECORDS);
    size_t i = run->count++;
    const char *value = step->value != NULL ? step->value : step->name;
    run->names[i] = step->name;
    run->jobs_of[i] = NULL;
    snprintf(run->origins[i], sizeof(run->origins[i]), "t/%d/%lld", step->part,
             (long long)step->n);
    const struct arb_job_record record = {
        .topic = "t",
        .partition = step->part,
        .offset = step->n,
        .key = step->key,
        .key_len = strlen(step->key),
        .value = value,
        .value_len = strlen(value),
    };
    arb_jobs_add(run->jobs, step->part, &record);
}

static void answer(struct run *run, const struct step *step, long status, const char *error)
{
    const struct arb_job_answer a = {status, step->retry_after, 1000000, error};
    arb_jobs_answered(run->jobs, job_named(run, step->name), &a, ns_of(step->at_ms));
}

static void run_step(struct run *run, const struct step *step)
{
    int64_t now = ns_of(step->at_ms);
    run->now_ms = step->at_ms;
    switch (step->kind) {
    case ADD: add(run, step); break;
    case RUN: arb_jobs_run(run->jobs, now); break;
    case ANSWER: answer(run, step, (long)step->n, NULL); break;
    case NOANSWER: answer(run, step, 0, "Timeout was reached"); break;
    case DL_OK: arb_jobs_deadlettered(run->jobs, job_named(run, step->name), now); break;
    case DL_FAIL: arb_jobs_deadletter_failed(run->jobs, job_named(run, step->name), now); break;
    case DROP: arb_jobs_drop_partition(run->jobs, step->part); break;
    case ABANDON: arb_jobs_abandon(run->jobs); break;
    case PENDING:
        assert_int_equal(arb_jobs_pending(run->jobs, step->part), step->n);
        break;
    case TOTAL: assert_int_equal(arb_jobs_total(run->jobs), step->n); break;
    case EXPIRY: {
        int64_t at = arb_jobs_expiry(run->jobs, now);
        assert_int_equal(at == INT64_MAX ? -1 : (at - EPOCH_NS) / 1000000, step->n);
        break;
    }
    case ORPHANS: {
        struct arb_jobs_stats stats;
        arb_jobs_stats(run->jobs, &stats);
        assert_int_equal(stats.orphans, step->n);
        break;
    }
    case END: break;
    }
}

static void test_scenarios(void **state)
{
    (void)state;
    for (size_t s = 0; s < COUNT(scenarios); s++) {
        const struct scenario *sc = &scenarios[s];
        struct arb_desk_conf desk = make_desk(sc->desk);
        struct run run = {.jobs = arb_jobs_new(&desk, 42, ns_of(0))};
        if (sc->desk->dedup_window_ms > 0)
            arb_jobs_dedup(run.jobs, sc->desk->dedup_window_ms, 100);
        for (size_t i = 0; sc->steps[i].kind != END; i++) {
            const struct step *step = &sc->steps[i];
            run_step(&run, step);
            if (step->hold)
                continue;
            drain(&run);
            if (!effects_match(step->effects, run.effects))
                fail_msg("%s, step %zu: got \"%s\", want \"%s\"", sc->name, i + 1, run.effects,
                         step->effects);
            run.effects[0] = '\0';
        }
        arb_jobs_destroy(run.jobs); /* with whatever is left: ASan checks nothing leaks */
    }
}

/* ---- what the effects carry ---- */

struct fixture {
    struct arb_desk_conf desk;
    struct arb_jobs *jobs;
};

static const struct arb_header record_headers[] = {
    {"airudder-call-id", "conv-1", 6},
    {"airudder-msg-id", "m-first", 7},
    {"airudder-request-id", "0123456789abcdef0123456789abcdef", 32},
    {"airudder-msg-id", "m-7", 3}, /* the last one counts */
    {"empty", NULL, 0},
};

static void add_record(struct arb_jobs *jobs, int64_t offset, const char *value)
{
    const struct arb_job_record record = {"airudder.messages", 3, offset, "conv-1", 6, value,
                                          strlen(value), record_headers,
                                          COUNT(record_headers)};
    arb_jobs_add(jobs, 0, &record);
}

/* The next effect, which must be of kind. */
static struct arb_job_effect next(struct arb_jobs *jobs, enum arb_job_effect_kind kind)
{
    struct arb_job_effect effect;
    assert_true(arb_jobs_effect(jobs, &effect));
    assert_int_equal(effect.kind, kind);
    return effect;
}

static void no_more(struct arb_jobs *jobs)
{
    struct arb_job_effect effect;
    assert_false(arb_jobs_effect(jobs, &effect));
}

static const char *header(const struct arb_job_deadletter *dl, const char *name)
{
    for (size_t i = 0; i < dl->nheaders; i++)
        if (strcmp(dl->headers[i].name, name) == 0)
            return dl->headers[i].value != NULL ? dl->headers[i].value : "(null)";
    return NULL;
}

static void test_send_and_outcome(void **state)
{
    (void)state;
    struct arb_desk_conf desk = make_desk(&plain);
    struct arb_jobs *jobs = arb_jobs_new(&desk, 7, ns_of(0));
    add_record(jobs, 40, "{\"message_index\":4}");
    arb_jobs_run(jobs, ns_of(100));
    struct arb_job_effect send = next(jobs, ARB_JOB_SEND);
    assert_string_equal(send.origin, "airudder.messages/3/40");
    assert_string_equal(send.delivery->body, "{\"message_index\":4}");
    assert_string_equal(send.delivery->idempotency_key, "0123456789abcdef0123456789abcdef:4");
    struct arb_job *job = send.job;
    no_more(jobs);

    const struct arb_job_answer refused = {502, -1, 30 * 1000000, NULL};
    arb_jobs_answered(jobs, job, &refused, ns_of(130)); /* attempt 1: 100..130 ms */
    struct arb_job_effect desk_down = next(jobs, ARB_JOB_DESK);
    assert_false(desk_down.desk_reachable);
    assert_string_equal(desk_down.answer, "HTTP 502");
    struct arb_job_effect wake = next(jobs, ARB_JOB_WAKE);
    assert_string_equal(wake.answer, "HTTP 502");
    assert_in_range(wake.at_ns, ns_of(130), ns_of(230));
    no_more(jobs);

    arb_jobs_run(jobs, ns_of(300));
    assert_ptr_equal(next(jobs, ARB_JOB_SEND).job, job);
    const struct arb_job_answer ok = {200, -1, 20 * 1000000, NULL};
    arb_jobs_answered(jobs, job, &ok, ns_of(350)); /* attempt 2: 330..350 ms */
    assert_true(next(jobs, ARB_JOB_DESK).desk_reachable);
    struct arb_job_effect done = next(jobs, ARB_JOB_OUTCOME);
    const struct arb_outcome *o = &done.outcome;
    assert_int_equal(o->status, ARB_OUTCOME_DELIVERED);
    assert_null(o->mode);
    assert_int_equal(o->call_id_len, 6);
    assert_memory_equal(o->call_id, "conv-1", 6);
    assert_string_equal(o->topic, "airudder.messages");
    assert_int_equal(o->partition, 3);
    assert_int_equal(o->offset, 40);
    assert_string_equal(o->msg_id, "m-7");
    assert_string_equal(o->idempotency_key, "0123456789abcdef0123456789abcdef:4");
    assert_int_equal(o->attempts, 2);
    assert_int_equal(o->desk_status, 200);
    assert_null(o->desk_error);
    assert_null(o->reason);
    assert_int_equal(o->first_attempt_ms, 1000000 + 100);
    assert_int_equal(o->last_attempt_ms, 1000000 + 330);
    assert_int_equal(o->done_ms, 1000000 + 350);
    struct arb_job_effect commit = next(jobs, ARB_JOB_COMMIT);
    assert_null(commit.job);
    assert_int_equal(commit.part, 0);
    assert_int_equal(commit.offset, 41);
    no_more(jobs);

    struct arb_jobs_stats stats;
    arb_jobs_stats(jobs, &stats);
    assert_int_equal(stats.delivered, 1);
    assert_int_equal(stats.retried, 1);
    assert_int_equal(stats.attempts, 2);
    assert_int_equal(stats.deadlettered, 0);
    assert_int_equal(stats.held, 0);
    assert_int_equal(stats.running, 0);
    arb_jobs_destroy(jobs);
}

static void test_deadletter_carries(void **state)
{
    (void)state;
    struct arb_desk_conf desk = make_desk(&one_second);
    struct arb_jobs *jobs = arb_jobs_new(&desk, 7, ns_of(0));
    add_record(jobs, 5, "raw value");
    arb_jobs_run(jobs, ns_of(0));
    struct arb_job *job = next(jobs, ARB_JOB_SEND).job;
    const struct arb_job_answer timeout = {0, 900, 1000000, "Connection refused"};
    arb_jobs_answered(jobs, job, &timeout, ns_of(1));
    assert_string_equal(next(jobs, ARB_JOB_DESK).answer, "Connection refused");
    assert_string_equal(next(jobs, ARB_JOB_WAKE).answer, "no answer: Connection refused");
    arb_jobs_run(jobs, ns_of(901));
    next(jobs, ARB_JOB_SEND);
    arb_jobs_answered(jobs, job, &timeout, ns_of(2500));

    struct arb_job_effect dl = next(jobs, ARB_JOB_DEADLETTER);
    const struct arb_job_deadletter *letter = dl.deadletter;
    assert_int_equal(letter->key_len, 6);
    assert_memory_equal(letter->key, "conv-1", 6);
    assert_int_equal(letter->value_len, strlen("raw value"));
    assert_memory_equal(letter->value, "raw value", letter->value_len);
    assert_int_equal(letter->nheaders, COUNT(record_headers) + 5);
    for (size_t i = 0; i < COUNT(record_headers); i++) { /* its own, in their order */
        assert_string_equal(letter->headers[i].name, record_headers[i].name);
        assert_int_equal(letter->headers[i].len, record_headers[i].len);
    }
    assert_null(letter->headers[4].value);
    assert_string_equal(header(letter, "airudder-dlq-source"), "replay");
    assert_string_equal(header(letter, "airudder-dlq-reason"),
                        "gave up after 2 attempts in 2 s (no answer: Connection refused)");
    assert_string_equal(header(letter, "airudder-dlq-status"), "0");
    assert_string_equal(header(letter, "airudder-dlq-attempts"), "2");
    assert_string_equal(header(letter, "airudder-dlq-origin"), "airudder.messages/3/5");
    no_more(jobs);

    arb_jobs_deadlettered(jobs, job, ns_of(2600));
    struct arb_job_effect done = next(jobs, ARB_JOB_OUTCOME);
    const struct arb_outcome *o = &done.outcome;
    assert_int_equal(o->status, ARB_OUTCOME_DEADLETTERED);
    assert_int_equal(o->desk_status, 0);
    assert_string_equal(o->desk_error, "Connection refused");
    assert_string_equal(o->reason,
                        "gave up after 2 attempts in 2 s (no answer: Connection refused)");
    arb_jobs_destroy(jobs); /* the outcome and a commit still queued */
}

/* The dead letter of a record refused at once, and of one that could not be built. */
static void test_deadletter_reasons(void **state)
{
    (void)state;
    struct arb_desk_conf desk = make_desk(&events);
    struct arb_jobs *jobs = arb_jobs_new(&desk, 7, ns_of(0));
    add_record(jobs, 0, "{\"message_index\":0}");
    add_record(jobs, 1, "[not an object]");
    arb_jobs_run(jobs, ns_of(0));
    struct arb_job *job = next(jobs, ARB_JOB_SEND).job;
    const struct arb_job_answer refused = {400, -1, 1000000, NULL};
    arb_jobs_answered(jobs, job, &refused, ns_of(1));
    struct arb_job_effect dl = next(jobs, ARB_JOB_DEADLETTER);
    assert_string_equal(header(dl.deadletter, "airudder-dlq-reason"),
                        "desk refused it (HTTP 400)");
    assert_string_equal(header(dl.deadletter, "airudder-dlq-status"), "400");
    assert_string_equal(header(dl.deadletter, "airudder-dlq-attempts"), "1");
    arb_jobs_deadlettered(jobs, job, ns_of(2));
    assert_int_equal(next(jobs, ARB_JOB_OUTCOME).outcome.desk_status, 400);
    next(jobs, ARB_JOB_COMMIT);

    arb_jobs_run(jobs, ns_of(3)); /* the same conversation's next: cannot be built */
    dl = next(jobs, ARB_JOB_DEADLETTER);
    const char *reason = header(dl.deadletter, "airudder-dlq-reason");
    assert_non_null(strstr(reason, "cannot build the delivery: "));
    assert_string_equal(header(dl.deadletter, "airudder-dlq-attempts"), "0");
    arb_jobs_deadlettered(jobs, dl.job, ns_of(4));
    struct arb_job_effect done = next(jobs, ARB_JOB_OUTCOME);
    const struct arb_outcome *o = &done.outcome;
    assert_int_equal(o->attempts, 0);
    assert_null(o->idempotency_key);
    assert_int_equal(o->first_attempt_ms, 0);
    assert_int_equal(o->last_attempt_ms, 0);
    assert_int_equal(o->done_ms, 1000000 + 4);
    assert_int_equal(next(jobs, ARB_JOB_COMMIT).offset, 2);
    no_more(jobs);
    arb_jobs_destroy(jobs);
}

/* Header values used as ids are read only when short: a long request id is not one (the
 * value's digest stands in), a long or empty msg id is none. */
static void test_long_headers(void **state)
{
    (void)state;
    char long_id[65];
    memset(long_id, 'a', 64);
    long_id[64] = '\0';
    const struct arb_header headers[] = {
        {"airudder-request-id", long_id, 64},
        {"airudder-msg-id", long_id, 64},
    };
    const struct arb_header no_value[] = {
        {"airudder-msg-id", "m-1", 3},
        {"airudder-msg-id", NULL, 0},
    };
    struct arb_desk_conf desk = make_desk(&plain);
    struct arb_jobs *jobs = arb_jobs_new(&desk, 7, ns_of(0));
    const struct arb_job_record records[] = {
        {"t", 0, 0, "k", 1, "v", 1, headers, COUNT(headers)},
        {"t", 0, 1, "k2", 2, "v", 1, no_value, COUNT(no_value)},
    };
    arb_jobs_add(jobs, 0, &records[0]);
    arb_jobs_add(jobs, 0, &records[1]);
    arb_jobs_run(jobs, ns_of(0));
    struct arb_job_effect a = next(jobs, ARB_JOB_SEND), b = next(jobs, ARB_JOB_SEND);
    /* the first 32 hex of SHA-256("v") */
    assert_string_equal(a.delivery->idempotency_key, "4c94485e0c21ae6c41ce1dfe7b6bface:0");
    const struct arb_job_answer ok = {200, -1, 0, NULL};
    arb_jobs_answered(jobs, a.job, &ok, ns_of(1));
    assert_null(next(jobs, ARB_JOB_OUTCOME).outcome.msg_id);
    next(jobs, ARB_JOB_COMMIT);
    arb_jobs_answered(jobs, b.job, &ok, ns_of(1));
    assert_null(next(jobs, ARB_JOB_OUTCOME).outcome.msg_id);
    arb_jobs_destroy(jobs);
}

/* Jobs with a dedup window of window_ms, two copies of one record taken, the first
 * delivered at 1 ms. */
static struct arb_jobs *first_copy_delivered(const struct arb_desk_conf *desk,
                                             int64_t window_ms)
{
    struct arb_jobs *jobs = arb_jobs_new(desk, 7, ns_of(0));
    arb_jobs_dedup(jobs, window_ms, 100);
    add_record(jobs, 0, "same");
    add_record(jobs, 1, "same");
    arb_jobs_run(jobs, ns_of(0));
    struct arb_job *job = next(jobs, ARB_JOB_SEND).job;
    const struct arb_job_answer ok = {201, -1, 1000000, NULL};
    arb_jobs_answered(jobs, job, &ok, ns_of(1));
    next(jobs, ARB_JOB_OUTCOME);
    next(jobs, ARB_JOB_COMMIT);
    return jobs;
}

/* Dedup's figures, and a key remembered by the desk's 2xx only. */
static void test_dedup_stats(void **state)
{
    (void)state;
    struct arb_desk_conf desk = make_desk(&dedup);
    struct arb_jobs *jobs = first_copy_delivered(&desk, 600000);
    struct arb_jobs_stats stats;
    arb_jobs_dedup(jobs, 1, 1); /* a second call changes nothing */
    arb_jobs_run(jobs, ns_of(5000));
    struct arb_job_effect skipped = next(jobs, ARB_JOB_SKIPPED);
    assert_string_equal(skipped.origin, "airudder.messages/3/1");
    assert_string_equal(skipped.delivery->idempotency_key,
                        "0123456789abcdef0123456789abcdef:0");
    struct arb_job_effect done = next(jobs, ARB_JOB_OUTCOME);
    assert_int_equal(done.outcome.status, ARB_OUTCOME_SKIPPED);
    assert_int_equal(done.outcome.offset, 1);
    assert_int_equal(done.outcome.attempts, 0);
    assert_int_equal(done.outcome.desk_status, 0);
    assert_null(done.outcome.reason);
    assert_string_equal(done.outcome.idempotency_key, "0123456789abcdef0123456789abcdef:0");
    assert_int_equal(done.outcome.first_attempt_ms, 0);
    assert_int_equal(done.outcome.done_ms, 1000000 + 5000);
    assert_int_equal(next(jobs, ARB_JOB_COMMIT).offset, 2);
    no_more(jobs);
    arb_jobs_stats(jobs, &stats);
    assert_int_equal(stats.seen.skipped, 1);
    assert_int_equal(stats.seen.entries, 1);
    assert_int_equal(stats.attempts, 1);
    arb_jobs_drop_partition(jobs, 0);
    arb_jobs_stats(jobs, &stats);
    assert_int_equal(stats.seen.entries, 0);
    arb_jobs_destroy(jobs);
}

/* The driver calls in while taking effects (a produce refused at once): the FIFO makes room
 * at its front, and the order holds. */
static void test_effects_while_taken(void **state)
{
    (void)state;
    struct arb_desk_conf desk = make_desk(&plain);
    struct arb_jobs *jobs = arb_jobs_new(&desk, 7, ns_of(0));
    char keys[16][8];
    for (int i = 0; i < 16; i++) {
        snprintf(keys[i], sizeof(keys[i]), "k%d", i);
        const struct arb_job_record record = {"t", 0, i, keys[i], strlen(keys[i]), keys[i],
                                              strlen(keys[i]), NULL, 0};
        arb_jobs_add(jobs, 0, &record);
    }
    arb_jobs_run(jobs, ns_of(0));
    struct arb_job_effect first = next(jobs, ARB_JOB_SEND);
    assert_string_equal(first.origin, "t/0/0");
    const struct arb_job_answer ok = {200, -1, 0, NULL};
    arb_jobs_answered(jobs, first.job, &ok, ns_of(1)); /* 15 SENDs still queued */
    for (int i = 1; i < 16; i++) {
        char origin[16];
        snprintf(origin, sizeof(origin), "t/0/%d", i);
        assert_string_equal(next(jobs, ARB_JOB_SEND).origin, origin);
    }
    assert_string_equal(next(jobs, ARB_JOB_OUTCOME).origin, "t/0/0");
    assert_int_equal(next(jobs, ARB_JOB_COMMIT).offset, 1);
    no_more(jobs);
    arb_jobs_destroy(jobs);
}

/* Whatever the seed, the jitter spreads: records refused together come back apart. */
static void test_any_seed_spreads(void **state)
{
    (void)state;
    static const uint64_t seeds[] = {0, 1, 0x9E3779B97F4A7C15ULL, UINT64_MAX};
    for (size_t s = 0; s < COUNT(seeds); s++) {
        struct arb_desk_conf desk = make_desk(&plain);
        struct arb_jobs *jobs = arb_jobs_new(&desk, seeds[s], ns_of(0));
        struct arb_job *sent[8];
        int64_t lowest = INT64_MAX, highest = 0;
        for (int i = 0; i < 8; i++) {
            char key[8];
            snprintf(key, sizeof(key), "k%d", i);
            const struct arb_job_record record = {"t", 0, i, key, strlen(key), "v", 1, NULL, 0};
            arb_jobs_add(jobs, 0, &record);
        }
        arb_jobs_run(jobs, ns_of(0));
        for (int i = 0; i < 8; i++)
            sent[i] = next(jobs, ARB_JOB_SEND).job;
        const struct arb_job_answer refused = {400, -1, 0, NULL};
        for (int i = 0; i < 8; i++) {
            arb_jobs_answered(jobs, sent[i], &refused, ns_of(0));
            next(jobs, ARB_JOB_DEADLETTER);
            assert_true(arb_jobs_deadletter_failed(jobs, sent[i], ns_of(0)));
            int64_t at = next(jobs, ARB_JOB_WAKE).at_ns - ns_of(0);
            lowest = at < lowest ? at : lowest;
            highest = at > highest ? at : highest;
        }
        if (lowest == highest)
            fail_msg("seed %llu: every pause %lld ns", (unsigned long long)seeds[s],
                     (long long)lowest);
        arb_jobs_destroy(jobs);
    }
}

/* A window of 0 remembers nothing: copies go. */
static void test_dedup_window_zero(void **state)
{
    (void)state;
    struct arb_desk_conf desk = make_desk(&plain);
    struct arb_jobs *jobs = first_copy_delivered(&desk, 0);
    arb_jobs_run(jobs, ns_of(2));
    assert_string_equal(next(jobs, ARB_JOB_SEND).origin, "airudder.messages/3/1");
    arb_jobs_destroy(jobs);
}

/* Destroyed with posts out, dead letters in Kafka's hands, effects queued: all freed
 * (ASan's leak check fails this test otherwise). */
static void test_destroy_mid_flight(void **state)
{
    (void)state;
    struct arb_desk_conf desk = make_desk(&plain);
    struct arb_jobs *jobs = arb_jobs_new(&desk, 0, ns_of(0));
    add_record(jobs, 0, "a");
    const struct arb_job_record other = {"t", 1, 0, "k2", 2, "b", 1, NULL, 0};
    arb_jobs_add(jobs, 1, &other);
    arb_jobs_run(jobs, ns_of(0));
    struct arb_job *a = next(jobs, ARB_JOB_SEND).job;
    next(jobs, ARB_JOB_SEND);
    const struct arb_job_answer refused = {400, -1, 0, NULL};
    arb_jobs_answered(jobs, a, &refused, ns_of(1));
    next(jobs, ARB_JOB_DEADLETTER); /* in Kafka's hands now */
    arb_jobs_drop_partition(jobs, 0); /* orphaned */
    no_more(jobs);
    arb_jobs_destroy(jobs);
    arb_jobs_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenarios),
        cmocka_unit_test(test_send_and_outcome),
        cmocka_unit_test(test_deadletter_carries),
        cmocka_unit_test(test_deadletter_reasons),
        cmocka_unit_test(test_long_headers),
        cmocka_unit_test(test_dedup_stats),
        cmocka_unit_test(test_effects_while_taken),
        cmocka_unit_test(test_any_seed_spreads),
        cmocka_unit_test(test_dedup_window_zero),
        cmocka_unit_test(test_destroy_mid_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
