/* test_plan.c - which stretch of Kafka a read covers (core/plan.c), for debug mode's
 * --from-beginning, --from, --offsets, --until and --follow and the viewer's windows: the
 * partitions planned, their start and end from the watermarks and the offsets of times,
 * the errors reported before anything is read; then, as records come, which are taken and
 * when each partition is finished. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "arb/plan.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The cluster: messages (3 partitions), messages.eu (2, listed out of order), dlq (1). */
static const int32_t three[] = {0, 1, 2};
static const int32_t two[] = {1, 0};
static const int32_t one[] = {0};
static const struct arb_plan_topic cluster[] = {
    {"airudder.messages", three, 3},
    {"airudder.messages.eu", two, 2},
    {"airudder.deadletter", one, 1},
};

/* What Kafka says of a partition: watermarks, and the offsets of the from and until times. */
struct marks_of {
    const char *topic;
    int32_t partition;
    struct arb_plan_marks marks;
};

static const struct marks_of kafka[] = {
    {"airudder.messages", 0, {0, 10, 4, 8}},
    {"airudder.messages", 1, {3, 3, -1, -1}},   /* empty */
    {"airudder.messages", 2, {5, 20, -1, 12}},  /* nothing after from */
    {"airudder.messages.eu", 0, {0, 7, 0, -1}}, /* nothing after until */
    {"airudder.messages.eu", 1, {2, 9, 6, 6}},
    {"airudder.deadletter", 0, {0, 1, 0, 1}},
};

static const char *const names[] = {"airudder.messages", "airudder.deadletter"};
static const char *const regex[] = {"^airudder\\.messages"};
static const char *const unknown[] = {"airudder.messages", "nope"};
static const char *const bad_regex[] = {"^air(udder"};
static const char *const nothing[] = {"^x"};
static struct arb_offset_spec offsets[] = {
    {(char *)"airudder.messages.eu", 1, 2},
    {(char *)"airudder.messages", 0, 10},
};
static struct arb_offset_spec below[] = {{(char *)"airudder.messages.eu", 1, 1}};
static struct arb_offset_spec above[] = {{(char *)"airudder.messages", 2, 21}};
static struct arb_offset_spec no_topic[] = {{(char *)"nope", 0, 0}};
static struct arb_offset_spec no_partition[] = {{(char *)"airudder.messages", 7, 0}};

struct plan_case {
    const char *name;
    struct arb_plan_request req;
    const char *ranges; /* "topic/partition start..end" each, ", "-separated; "!" + error */
    const char *asks;   /* "from 123, until 457": the times the offsets are asked of */
};

#define NAMES .topics = names, .ntopics = COUNT(names)
#define REGEX .topics = regex, .ntopics = COUNT(regex)

static const struct plan_case cases[] = {
    {"from the beginning to the end offsets now",
     {NAMES, .start = ARB_START_BEGINNING},
     "airudder.messages/0 0..10, airudder.messages/1 3..3 done, airudder.messages/2 5..20, "
     "airudder.deadletter/0 0..1",
     ""},
    {"no start flag: the beginning",
     {NAMES},
     "airudder.messages/0 0..10, airudder.messages/1 3..3 done, airudder.messages/2 5..20, "
     "airudder.deadletter/0 0..1",
     ""},
    {"a regex: every matching topic, in the cluster's order",
     {REGEX, .start = ARB_START_BEGINNING},
     "airudder.messages/0 0..10, airudder.messages/1 3..3 done, airudder.messages/2 5..20, "
     "airudder.messages.eu/1 2..9, airudder.messages.eu/0 0..7",
     ""},
    {"--from: the first record at or after it, else the end",
     {REGEX, .start = ARB_START_TIME, .from_ms = 123},
     "airudder.messages/0 4..10, airudder.messages/1 3..3 done, "
     "airudder.messages/2 20..20 done, airudder.messages.eu/1 6..9, airudder.messages.eu/0 0..7",
     "from 123"},
    {"--until: ends at the first record after it, when sooner",
     {REGEX, .has_until = true, .until_ms = 456},
     "airudder.messages/0 0..8, airudder.messages/1 3..3 done, airudder.messages/2 5..12, "
     "airudder.messages.eu/1 2..6, airudder.messages.eu/0 0..7",
     "until 457"},
    {"--from and --until",
     {REGEX, .start = ARB_START_TIME, .from_ms = 100, .has_until = true, .until_ms = 200},
     "airudder.messages/0 4..8, airudder.messages/1 3..3 done, "
     "airudder.messages/2 20..12 done, airudder.messages.eu/1 6..6 done, "
     "airudder.messages.eu/0 0..7",
     "from 100, until 201"},
    {"--follow: no end, unless --until",
     {NAMES, .follow = true},
     "airudder.messages/0 0..max, airudder.messages/1 3..max, airudder.messages/2 5..max, "
     "airudder.deadletter/0 0..max",
     ""},
    {"--follow --until",
     {NAMES, .follow = true, .has_until = true, .until_ms = 9},
     "airudder.messages/0 0..8, airudder.messages/1 3..max, airudder.messages/2 5..12, "
     "airudder.deadletter/0 0..1",
     "until 10"},
    {"--offsets: those partitions only, from those offsets (the end is allowed)",
     {NAMES, .start = ARB_START_OFFSETS, .offsets = offsets, .noffsets = COUNT(offsets)},
     "airudder.messages.eu/1 2..9, airudder.messages/0 10..10 done",
     ""},
    {"--offsets --until",
     {NAMES, .start = ARB_START_OFFSETS, .offsets = offsets, .noffsets = 1, .has_until = true,
      .until_ms = 1},
     "airudder.messages.eu/1 2..6", "until 2"},
    {"--until at the end of time", {NAMES, .has_until = true, .until_ms = INT64_MAX},
     "airudder.messages/0 0..8, airudder.messages/1 3..3 done, airudder.messages/2 5..12, "
     "airudder.deadletter/0 0..1",
     "until 9223372036854775807"},
    {"an unknown topic", {.topics = unknown, .ntopics = 2}, "!unknown topic \"nope\"", NULL},
    {"a bad regex", {.topics = bad_regex, .ntopics = 1},
     "!replay.topics: bad regex \"^air(udder\"", NULL},
    {"nothing matches, required", {.topics = nothing, .ntopics = 1, .require_some = true},
     "!no topic of replay.topics exists", NULL},
    {"nothing matches, not required", {.topics = nothing, .ntopics = 1}, "", ""},
    {"--offsets of an unknown topic",
     {NAMES, .start = ARB_START_OFFSETS, .offsets = no_topic, .noffsets = 1},
     "!unknown topic \"nope\"", NULL},
    {"--offsets of an unknown partition",
     {NAMES, .start = ARB_START_OFFSETS, .offsets = no_partition, .noffsets = 1},
     "!topic \"airudder.messages\" has no partition 7", NULL},
    {"--offsets below the low watermark",
     {NAMES, .start = ARB_START_OFFSETS, .offsets = below, .noffsets = 1},
     "!offset 1 is out of range for airudder.messages.eu/1 (2..9)", ""},
    {"--offsets past the high watermark",
     {NAMES, .start = ARB_START_OFFSETS, .offsets = above, .noffsets = 1},
     "!offset 21 is out of range for airudder.messages/2 (5..20)", ""},
};

static const struct arb_plan_marks *marks_for(const struct arb_plan_range *range)
{
    for (size_t i = 0; i < COUNT(kafka); i++)
        if (strcmp(kafka[i].topic, range->topic) == 0 && kafka[i].partition == range->partition)
            return &kafka[i].marks;
    fail_msg("no marks for %s/%d", range->topic, (int)range->partition);
    return NULL;
}

static void append(char *out, size_t size, const char *fmt, const char *a, long long b)
{
    size_t len = strlen(out);
    snprintf(out + len, size - len, fmt, len > 0 ? ", " : "", a, b);
}

static void describe(const struct arb_plan *plan, char *out, size_t size)
{
    out[0] = '\0';
    for (size_t i = 0; i < plan->nranges; i++) {
        const struct arb_plan_range *r = &plan->ranges[i];
        char end[32];
        if (r->end == ARB_PLAN_NO_END)
            snprintf(end, sizeof(end), "max");
        else
            snprintf(end, sizeof(end), "%lld", (long long)r->end);
        size_t len = strlen(out);
        snprintf(out + len, size - len, "%s%s/%d %lld..%s%s", len > 0 ? ", " : "", r->topic,
                 (int)r->partition, (long long)r->start, end, r->done ? " done" : "");
    }
}

static void describe_asks(const struct arb_plan *plan, char *out, size_t size)
{
    out[0] = '\0';
    if (plan->ask_from)
        append(out, size, "%s%s %lld", "from", (long long)plan->from_query_ms);
    if (plan->ask_until)
        append(out, size, "%s%s %lld", "until", (long long)plan->until_query_ms);
}

static void test_plans(void **state)
{
    (void)state;
    for (size_t c = 0; c < COUNT(cases); c++) {
        const struct plan_case *pc = &cases[c];
        struct arb_plan plan;
        struct arb_error err = {0};
        char got[1024], asks[128];
        struct arb_plan_marks marks[8];

        arb_plan_init(&plan);
        int rc = arb_plan_partitions(&plan, &pc->req, cluster, COUNT(cluster), &err);
        if (rc == 0) {
            describe_asks(&plan, asks, sizeof(asks));
            if (strcmp(asks, pc->asks) != 0)
                fail_msg("%s: asks \"%s\", want \"%s\"", pc->name, asks, pc->asks);
            assert_true(plan.nranges <= COUNT(marks));
            for (size_t i = 0; i < plan.nranges; i++)
                marks[i] = *marks_for(&plan.ranges[i]);
            rc = arb_plan_offsets(&plan, &pc->req, marks, &err);
        }
        if (rc != 0)
            snprintf(got, sizeof(got), "!%s", err.message);
        else
            describe(&plan, got, sizeof(got));
        if (strcmp(got, pc->ranges) != 0)
            fail_msg("%s: got \"%s\", want \"%s\"", pc->name, got, pc->ranges);
        arb_plan_clear(&plan);
    }
}

/* ---- reading ---- */

enum read_kind { RECORD, EOF_AT, DONE, END };

struct read_op {
    enum read_kind kind;
    const char *topic;
    int32_t partition;
    int64_t offset;
    const char *expect; /* RECORD: "take", "take finished", "finished" or ""; EOF_AT:
                         * "finished" or ""; DONE: "yes" or "no" */
};

#define R_REC(t, p, o, x) {RECORD, t, p, o, x}
#define R_EOF(t, p, o, x) {EOF_AT, t, p, o, x}
#define R_DONE(x) {DONE, NULL, 0, 0, x}
#define M "airudder.messages"
#define EU "airudder.messages.eu"

/* The plan of "--from and --until" above: messages/0 4..8 and messages.eu/0 0..7 open. */
static const struct read_op reads[] = {
    R_DONE("no"),
    R_REC(M, 0, 4, "take"), R_REC(M, 0, 5, "take"), R_REC(M, 1, 3, ""), /* done at start */
    R_REC(M, 9, 0, ""),                                                 /* not planned */
    R_REC("other", 0, 0, ""),
    R_EOF(M, 0, 6, ""), /* end of what is there now, not of the range */
    R_REC(M, 0, 7, "take finished"), R_REC(M, 0, 8, ""), /* a straggler */
    R_EOF(M, 0, 8, ""),
    R_REC(EU, 0, 0, "take"), R_REC(EU, 0, 3, "take"),
    /* offsets 4..6 were transaction markers: the next record is past the end */
    R_REC(EU, 0, 7, "finished"), R_REC(EU, 0, 7, ""),
    R_DONE("yes"),
    {END, NULL, 0, 0, NULL},
};

/* A range whose last records are not consumable: only EOF says it is finished. */
static const struct read_op eof_reads[] = {
    R_REC(M, 0, 4, "take"), R_EOF(M, 0, 5, ""), R_DONE("no"), R_EOF(M, 0, 8, "finished"),
    R_EOF(M, 0, 9, ""), R_REC(EU, 0, 6, "take finished"), R_DONE("yes"),
    {END, NULL, 0, 0, NULL},
};

static void run_reads(const struct read_op *ops)
{
    const struct arb_plan_request req = {REGEX, .start = ARB_START_TIME, .from_ms = 100,
                                         .has_until = true, .until_ms = 200};
    struct arb_plan plan;
    struct arb_plan_marks marks[8];
    arb_plan_init(&plan);
    assert_int_equal(arb_plan_partitions(&plan, &req, cluster, COUNT(cluster), NULL), 0);
    for (size_t i = 0; i < plan.nranges; i++)
        marks[i] = *marks_for(&plan.ranges[i]);
    assert_int_equal(arb_plan_offsets(&plan, &req, marks, NULL), 0);

    for (size_t i = 0; ops[i].kind != END; i++) {
        const struct read_op *op = &ops[i];
        int r = op->topic != NULL ? arb_plan_find(&plan, op->topic, op->partition) : -1;
        char got[32] = "";
        if (op->kind == RECORD) {
            struct arb_plan_step step = arb_plan_record(&plan, r, op->offset);
            snprintf(got, sizeof(got), "%s%s%s", step.take ? "take" : "",
                     step.take && step.finished ? " " : "", step.finished ? "finished" : "");
        } else if (op->kind == EOF_AT) {
            snprintf(got, sizeof(got), "%s", arb_plan_eof(&plan, r, op->offset) ? "finished" : "");
        } else {
            snprintf(got, sizeof(got), "%s", arb_plan_done(&plan) ? "yes" : "no");
        }
        if (strcmp(got, op->expect) != 0)
            fail_msg("read %zu (%s/%d at %lld): got \"%s\", want \"%s\"", i + 1,
                     op->topic ? op->topic : "-", (int)op->partition, (long long)op->offset,
                     got, op->expect);
    }
    arb_plan_clear(&plan);
}

static void test_reading(void **state)
{
    (void)state;
    run_reads(reads);
    run_reads(eof_reads);
}

/* A plan made again starts afresh (the viewer reads twice with one history). */
static void test_replan(void **state)
{
    (void)state;
    const struct arb_plan_request first = {NAMES}, second = {.topics = regex + 0, .ntopics = 1};
    struct arb_plan plan;
    arb_plan_init(&plan);
    assert_int_equal(arb_plan_partitions(&plan, &first, cluster, COUNT(cluster), NULL), 0);
    assert_int_equal(plan.nranges, 4);
    assert_int_equal(arb_plan_partitions(&plan, &second, cluster, COUNT(cluster), NULL), 0);
    assert_int_equal(plan.nranges, 5);
    assert_int_equal(arb_plan_find(&plan, "airudder.deadletter", 0), -1);
    assert_int_equal(arb_plan_find(&plan, "airudder.messages.eu", 0), 4);
    arb_plan_clear(&plan);
    arb_plan_clear(&plan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plans),
        cmocka_unit_test(test_reading),
        cmocka_unit_test(test_replan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
