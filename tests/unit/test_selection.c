/* test_selection.c - debug-replay selection: times, offsets specs, start conflicts, limits
 * and record matching. Expected epoch milliseconds were computed independently with
 * `date -u -d TIME +%s%3N`. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arb/mem.h"
#include "arb/selection.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

#define A10 "aaaaaaaaaa"
#define A50 A10 A10 A10 A10 A10
#define A249 A50 A50 A50 A50 A10 A10 A10 A10 "aaaaaaaaa"
#define FORMS "(use RFC 3339, e.g. 2026-11-23T10:05:00Z, or epoch milliseconds)"
#define NOT_TIME(t) "\"" t "\": not a time " FORMS
#define ALLOWED "(use A-Z a-z 0-9 . _ -)"
#define PMAX "the partition must be a number from 0 to 2147483647"
#define OMAX "the offset must be a number from 0 to 9223372036854775807"
#define FORM "not an offset (use TOPIC:PARTITION:OFFSET)"
#define CONFLICT "only one of --from-beginning, --from and --offsets"

/* ---- times ---- */

struct time_case {
    const char *text;
    int64_t ms;
};

static const struct time_case good_times[] = {
    {"2026-11-23T10:05:00Z", 1795428300000},
    {"2026-11-23t10:05:00z", 1795428300000},
    {"2026-11-23 10:05:00Z", 1795428300000},
    {"2026-11-23T18:05:00.250+08:00", 1795428300250},
    {"2026-11-23T04:35:00-05:30", 1795428300000},
    {"2026-11-23T10:05:00+00:00", 1795428300000},
    {"2026-11-23T10:05:00-00:00", 1795428300000},
    {"2026-11-23T23:59:59-23:59", 1795564739000},
    {"2026-03-01T00:30:00+01:00", 1772321400000}, /* previous day in UTC */
    {"1999-12-31T23:00:00-01:00", 946684800000},  /* next year in UTC */
    {"2026-11-23T10:05:00.1Z", 1795428300100},
    {"2026-11-23T10:05:00.12Z", 1795428300120},
    {"2026-11-23T10:05:00.123456789Z", 1795428300123},
    {"2026-11-23T10:05:00.9999Z", 1795428300999}, /* truncated, not rounded */
    {"2026-11-23T10:05:00.000000001Z", 1795428300000},
    {"2024-02-29T12:00:00Z", 1709208000000},
    {"2000-02-29T00:00:00Z", 951782400000},
    {"2100-02-28T23:59:59Z", 4107542399000},
    {"2025-12-31T23:59:59.999Z", 1767225599999},
    {"2026-01-01T00:00:00Z", 1767225600000},
    {"1970-01-01T00:00:00Z", 0},
    {"1970-01-01T05:30:00+05:30", 0},
    {"9999-12-31T23:59:59.999Z", 253402300799999},
    /* epoch milliseconds */
    {"0", 0},
    {"1795428300250", 1795428300250},
    {"001795428300250", 1795428300250}, /* 15 digits, leading zeros */
    {"999999999999999", 999999999999999},
};

struct bad_time_case {
    const char *text;
    const char *message;
};

static const struct bad_time_case bad_times[] = {
    {"", NOT_TIME("")},
    {"now", NOT_TIME("now")},
    {"yesterday 10:00", NOT_TIME("yesterday 10:00")},
    {"2026-02-30T10:00:00Z", NOT_TIME("2026-02-30T10:00:00Z")},
    {"2026-04-31T10:00:00Z", NOT_TIME("2026-04-31T10:00:00Z")},
    {"2025-02-29T10:00:00Z", NOT_TIME("2025-02-29T10:00:00Z")},
    {"2100-02-29T10:00:00Z", NOT_TIME("2100-02-29T10:00:00Z")},
    {"2026-00-10T10:00:00Z", NOT_TIME("2026-00-10T10:00:00Z")},
    {"2026-13-10T10:00:00Z", NOT_TIME("2026-13-10T10:00:00Z")},
    {"2026-11-00T10:00:00Z", NOT_TIME("2026-11-00T10:00:00Z")},
    {"2026-11-23T24:00:00Z", NOT_TIME("2026-11-23T24:00:00Z")},
    {"2026-11-23T10:60:00Z", NOT_TIME("2026-11-23T10:60:00Z")},
    {"2026-12-31T23:59:60Z", NOT_TIME("2026-12-31T23:59:60Z")},
    {"2026-11-23T10:05:00", NOT_TIME("2026-11-23T10:05:00")},
    {"2026-11-23", NOT_TIME("2026-11-23")},
    {"2026-11-23T10:05Z", NOT_TIME("2026-11-23T10:05Z")},
    {"2026-11-23T10:05:00ZZ", NOT_TIME("2026-11-23T10:05:00ZZ")},
    {"2026-11-23T10:05:00Z ", NOT_TIME("2026-11-23T10:05:00Z ")},
    {" 2026-11-23T10:05:00Z", NOT_TIME(" 2026-11-23T10:05:00Z")},
    {"2026-11-23T10:05:00+08:00x", NOT_TIME("2026-11-23T10:05:00+08:00x")},
    {"2026-11-23T10:05:00+0800", NOT_TIME("2026-11-23T10:05:00+0800")},
    {"2026-11-23T10:05:00+08", NOT_TIME("2026-11-23T10:05:00+08")},
    {"2026-11-23T10:05:00+24:00", NOT_TIME("2026-11-23T10:05:00+24:00")},
    {"2026-11-23T10:05:00+08:60", NOT_TIME("2026-11-23T10:05:00+08:60")},
    {"2026-11-23T10:05:00.Z", NOT_TIME("2026-11-23T10:05:00.Z")},
    {"2026-11-23T10:05:00.1234567890Z", NOT_TIME("2026-11-23T10:05:00.1234567890Z")},
    {"2026-11-23T10:05:00,5Z", NOT_TIME("2026-11-23T10:05:00,5Z")},
    {"2026-11-23_10:05:00Z", NOT_TIME("2026-11-23_10:05:00Z")},
    {"26-11-23T10:05:00Z", NOT_TIME("26-11-23T10:05:00Z")},
    {"+2026-11-23T10:05:00Z", NOT_TIME("+2026-11-23T10:05:00Z")},
    {"2026-1-23T10:05:00Z", NOT_TIME("2026-1-23T10:05:00Z")},
    {"2026-11-23T1:05:00Z", NOT_TIME("2026-11-23T1:05:00Z")},
    {"2026/11/23T10:05:00Z", NOT_TIME("2026/11/23T10:05:00Z")},
    {"1000000000000000", NOT_TIME("1000000000000000")}, /* 16 digits */
    {"-1", NOT_TIME("-1")},
    {"+1795428300000", NOT_TIME("+1795428300000")},
    {"1795428300000 ", NOT_TIME("1795428300000 ")},
    {"1795428300000ms", NOT_TIME("1795428300000ms")},
    {"12a", NOT_TIME("12a")},
    {"0x10", NOT_TIME("0x10")},
    {"1.5", NOT_TIME("1.5")},
    {"1969-12-31T23:59:59.999Z", "\"1969-12-31T23:59:59.999Z\": before 1970-01-01T00:00:00Z"},
    {"1970-01-01T00:30:00+01:00", "\"1970-01-01T00:30:00+01:00\": before 1970-01-01T00:00:00Z"},
    {"0000-01-01T00:00:00Z", "\"0000-01-01T00:00:00Z\": before 1970-01-01T00:00:00Z"},
    /* long input: the echo is cut at 64 characters */
    {A50 A50 A50, "\"" A50 "aaaaaaaaaaaaaa...\": not a time " FORMS},
    {"2026-11-23T10:05:00Z" A50 A50,
     "\"2026-11-23T10:05:00Z" A10 A10 A10 A10 "aaaa...\": not a time " FORMS},
    {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
     "\"1234567890123456789012345678901234567890123456789012345678901234...\": not a time " FORMS},
};

static void test_time_good(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(good_times); i++) {
        const struct time_case *c = &good_times[i];
        struct arb_error err = {0};
        int64_t ms = -7;
        int rc = arb_time_parse(c->text, &ms, &err);
        if (rc != 0 || ms != c->ms)
            fail_msg("\"%s\": rc %d ms %lld (%s), want %lld", c->text, rc, (long long)ms,
                     err.message, (long long)c->ms);
    }
}

static void test_time_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(bad_times); i++) {
        const struct bad_time_case *c = &bad_times[i];
        struct arb_error err = {0};
        int64_t ms = -7;
        int rc = arb_time_parse(c->text, &ms, &err);
        if (rc != -1 || err.code != ARB_E_INVALID || strcmp(err.message, c->message) != 0 ||
            ms != -7)
            fail_msg("\"%s\": rc %d ms %lld code %d \"%s\", want \"%s\"", c->text, rc,
                     (long long)ms, (int)err.code, err.message, c->message);
    }
}

/* A very long argument neither crashes nor overflows the message. */
static void test_time_huge(void **state)
{
    (void)state;
    size_t len = 1 << 20;
    char *text = arb_xmalloc(len + 1);
    memset(text, '7', len);
    text[len] = '\0';
    struct arb_error err = {0};
    int64_t ms;
    assert_int_equal(arb_time_parse(text, &ms, &err), -1);
    assert_true(strlen(err.message) < sizeof(err.message));
    memcpy(text, "2026-11-23T10:05:00.", 20); /* a fraction of a million digits */
    assert_int_equal(arb_time_parse(text, &ms, &err), -1);
    free(text);
    assert_int_equal(arb_time_parse(NULL, &ms, &err), -1);
    assert_string_equal(err.message, NOT_TIME(""));
}

/* ---- offsets specs ---- */

struct spec {
    const char *topic;
    int32_t partition;
    int64_t offset;
};

#define MAX_SPECS 4

struct offsets_case {
    const char *text;
    const char *message; /* NULL: valid */
    struct spec specs[MAX_SPECS];
    size_t count;
};

static const struct offsets_case offsets_cases[] = {
    {"airudder.messages:0:42", NULL, {{"airudder.messages", 0, 42}}, 1},
    {"t:3:0", NULL, {{"t", 3, 0}}, 1},
    {"a-b_c.D9:2147483647:9223372036854775807", NULL,
     {{"a-b_c.D9", 2147483647, INT64_MAX}}, 1},
    {"t:007:0010", NULL, {{"t", 7, 10}}, 1},
    {"a:0:1,a:1:5,b:0:7", NULL, {{"a", 0, 1}, {"a", 1, 5}, {"b", 0, 7}}, 3},
    {"...:0:1", NULL, {{"...", 0, 1}}, 1},
    {A249 ":1:2", NULL, {{A249, 1, 2}}, 1},
    /* missing parts */
    {"", "\"\": empty item (use TOPIC:PARTITION:OFFSET[,...])", {{0}}, 0},
    {"t", "\"t\": " FORM, {{0}}, 0},
    {"t:0", "\"t:0\": " FORM, {{0}}, 0},
    {"t:0:", "\"t:0:\": " OMAX, {{0}}, 0},
    {"t::5", "\"t::5\": " PMAX, {{0}}, 0},
    {":0:5", "\":0:5\": topic is empty", {{0}}, 0},
    {"::", "\"::\": topic is empty", {{0}}, 0},
    {"a:0:1,", "\"a:0:1,\": empty item (use TOPIC:PARTITION:OFFSET[,...])", {{0}}, 0},
    {",a:0:1", "\",a:0:1\": empty item (use TOPIC:PARTITION:OFFSET[,...])", {{0}}, 0},
    {"a:0:1,,b:0:1", "\"a:0:1,,b:0:1\": empty item (use TOPIC:PARTITION:OFFSET[,...])", {{0}},
     0},
    /* numbers */
    {"t:-1:5", "\"t:-1:5\": " PMAX, {{0}}, 0},
    {"t:0:-2", "\"t:0:-2\": " OMAX, {{0}}, 0},
    {"t:+1:5", "\"t:+1:5\": " PMAX, {{0}}, 0},
    {"t:0:+5", "\"t:0:+5\": " OMAX, {{0}}, 0},
    {"t:x:5", "\"t:x:5\": " PMAX, {{0}}, 0},
    {"t:0:5x", "\"t:0:5x\": " OMAX, {{0}}, 0},
    {"t:0:0x5", "\"t:0:0x5\": " OMAX, {{0}}, 0},
    {"t: 1:5", "\"t: 1:5\": " PMAX, {{0}}, 0},
    {"t:1:5 ", "\"t:1:5 \": " OMAX, {{0}}, 0},
    {"t:2147483648:5", "\"t:2147483648:5\": " PMAX, {{0}}, 0},
    {"t:0:9223372036854775808", "\"t:0:9223372036854775808\": " OMAX, {{0}}, 0},
    {"t:0:99999999999999999999999", "\"t:0:99999999999999999999999\": " OMAX, {{0}}, 0},
    /* topics */
    {"a/b:0:1", "\"a/b:0:1\": topic \"a/b\": '/' is not allowed " ALLOWED, {{0}}, 0},
    {"a b:0:1", "\"a b:0:1\": topic \"a b\": ' ' is not allowed " ALLOWED, {{0}}, 0},
    {"a:b:0:1", "\"a:b:0:1\": topic \"a:b\": ':' is not allowed " ALLOWED, {{0}}, 0},
    {"{event}:0:1", "\"{event}:0:1\": '{' is not allowed in a topic " ALLOWED, {{0}}, 0},
    {"a{:0:1", "\"a{:0:1\": '{' is not allowed in a topic " ALLOWED, {{0}}, 0},
    {"a}:0:1", "\"a}:0:1\": topic \"a}\": '}' is not allowed " ALLOWED, {{0}}, 0},
    {".:0:1", "\".:0:1\": topic \".\" is not a valid name", {{0}}, 0},
    {"..:0:1", "\"..:0:1\": topic \"..\" is not a valid name", {{0}}, 0},
    {A249 "a:0:1",
     "\"" A50 "aaaaaaaaaaaaaa...\": topic is longer than 249 characters", {{0}}, 0},
    /* the bad item is named, and nothing is added */
    {"a:0:1,b:x:1", "\"b:x:1\": " PMAX, {{0}}, 0},
    {"a:0:1,b:1:1,c/d:0:1", "\"c/d:0:1\": topic \"c/d\": '/' is not allowed " ALLOWED, {{0}},
     0},
    /* duplicates */
    {"a:0:1,a:0:2", "\"a:0:2\": partition 0 of \"a\" given twice", {{0}}, 0},
    {"a:0:1,b:0:1,a:0:1", "\"a:0:1\": partition 0 of \"a\" given twice", {{0}}, 0},
    {"a:0:1,a:00:1", "\"a:00:1\": partition 0 of \"a\" given twice", {{0}}, 0},
};

static void specs_free(struct arb_offset_spec *specs, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(specs[i].topic);
    free(specs);
}

static void test_offsets(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(offsets_cases); i++) {
        const struct offsets_case *c = &offsets_cases[i];
        struct arb_offset_spec *specs = NULL;
        size_t count = 0;
        struct arb_error err = {0};
        int rc = arb_offsets_parse(c->text, &specs, &count, &err);
        if (c->message != NULL) {
            if (rc != -1 || err.code != ARB_E_INVALID || strcmp(err.message, c->message) != 0)
                fail_msg("\"%s\": rc %d code %d \"%s\", want \"%s\"", c->text, rc,
                         (int)err.code, err.message, c->message);
            if (count != 0 || specs != NULL)
                fail_msg("\"%s\": rejected but %zu specs added", c->text, count);
            continue;
        }
        if (rc != 0 || count != c->count)
            fail_msg("\"%s\": rc %d count %zu (%s), want %zu", c->text, rc, count, err.message,
                     c->count);
        for (size_t j = 0; j < count; j++)
            if (strcmp(specs[j].topic, c->specs[j].topic) != 0 ||
                specs[j].partition != c->specs[j].partition ||
                specs[j].offset != c->specs[j].offset)
                fail_msg("\"%s\" [%zu]: %s:%d:%lld, want %s:%d:%lld", c->text, j,
                         specs[j].topic, (int)specs[j].partition, (long long)specs[j].offset,
                         c->specs[j].topic, (int)c->specs[j].partition,
                         (long long)c->specs[j].offset);
        specs_free(specs, count);
    }
}

/* Several calls append; a duplicate across calls is an error that leaves the array alone. */
static void test_offsets_append(void **state)
{
    (void)state;
    struct arb_offset_spec *specs = NULL;
    size_t count = 0;
    struct arb_error err = {0};
    assert_int_equal(arb_offsets_parse("a:0:1,a:1:2", &specs, &count, &err), 0);
    assert_int_equal(arb_offsets_parse("b:0:3", &specs, &count, &err), 0);
    assert_int_equal(count, 3);
    struct arb_offset_spec *before = specs;
    assert_int_equal(arb_offsets_parse("c:0:1,a:1:9", &specs, &count, &err), -1);
    assert_string_equal(err.message, "\"a:1:9\": partition 1 of \"a\" given twice");
    assert_ptr_equal(specs, before);
    assert_int_equal(count, 3);
    assert_int_equal(arb_offsets_parse("c:0:4", &specs, &count, &err), 0);
    assert_int_equal(count, 4);
    assert_string_equal(specs[0].topic, "a");
    assert_string_equal(specs[2].topic, "b");
    assert_int_equal(specs[2].offset, 3);
    assert_string_equal(specs[3].topic, "c");
    assert_int_equal(specs[3].offset, 4);
    specs_free(specs, count);
}

/* ---- start, until, limit, check ---- */

enum flag { BEGIN, FROM, OFFSETS, UNTIL, LIMIT, END };

struct step {
    enum flag flag;
    const char *arg;
    const char *message; /* NULL: accepted */
};

#define MAX_STEPS 5
#define STOP {END, NULL, NULL}
#define LIMIT_BAD(a)                                                                       \
    {{LIMIT, a, "--limit \"" a "\": not a whole number from 1 to 9223372036854775807"}, STOP}

struct flags_case {
    const char *name;
    struct step steps[MAX_STEPS]; /* up to the first END */
    const char *check;            /* arb_selection_check's message; NULL: consistent */
    enum arb_start start;
    int64_t from_ms;
    size_t noffsets;
    bool has_until;
    int64_t until_ms;
    int64_t limit;
};

static const struct flags_case flags_cases[] = {
    {"nothing", {STOP}, NULL, ARB_START_DEFAULT, 0, 0, false, 0, -1},
    {"--from-beginning", {{BEGIN, NULL, NULL}, STOP}, NULL, ARB_START_BEGINNING, 0, 0, false, 0,
     -1},
    {"--from-beginning twice", {{BEGIN, NULL, NULL}, {BEGIN, NULL, NULL}, STOP}, NULL,
     ARB_START_BEGINNING, 0, 0, false, 0, -1},
    {"--from", {{FROM, "2026-11-23T10:05:00Z", NULL}, STOP}, NULL, ARB_START_TIME,
     1795428300000, 0, false, 0, -1},
    {"--from epoch ms", {{FROM, "1795428300250", NULL}, STOP}, NULL, ARB_START_TIME,
     1795428300250, 0, false, 0, -1},
    {"--from bad", {{FROM, "today", "--from " NOT_TIME("today")}, STOP}, NULL,
     ARB_START_DEFAULT, 0, 0, false, 0, -1},
    {"--from twice",
     {{FROM, "1000", NULL}, {FROM, "1000", "--from given more than once"}, STOP}, NULL,
     ARB_START_TIME, 1000, 0, false, 0, -1},
    {"--offsets", {{OFFSETS, "a:0:1,b:2:3", NULL}, STOP}, NULL, ARB_START_OFFSETS, 0, 2, false,
     0, -1},
    {"--offsets accumulate",
     {{OFFSETS, "a:0:1", NULL}, {OFFSETS, "a:1:1,b:0:1", NULL}, STOP}, NULL,
     ARB_START_OFFSETS, 0, 3, false, 0, -1},
    {"--offsets duplicate across flags",
     {{OFFSETS, "a:0:1", NULL},
      {OFFSETS, "a:0:2", "--offsets \"a:0:2\": partition 0 of \"a\" given twice"},
      STOP},
     NULL, ARB_START_OFFSETS, 0, 1, false, 0, -1},
    {"--offsets bad", {{OFFSETS, "a:0", "--offsets \"a:0\": " FORM}, STOP}, NULL,
     ARB_START_DEFAULT, 0, 0, false, 0, -1},
    /* conflicts, in every order */
    {"--from-beginning --from", {{BEGIN, NULL, NULL}, {FROM, "1000", CONFLICT}, STOP}, NULL,
     ARB_START_BEGINNING, 0, 0, false, 0, -1},
    {"--from --from-beginning", {{FROM, "1000", NULL}, {BEGIN, NULL, CONFLICT}, STOP}, NULL,
     ARB_START_TIME, 1000, 0, false, 0, -1},
    {"--from-beginning --offsets", {{BEGIN, NULL, NULL}, {OFFSETS, "a:0:1", CONFLICT}, STOP},
     NULL, ARB_START_BEGINNING, 0, 0, false, 0, -1},
    {"--offsets --from-beginning", {{OFFSETS, "a:0:1", NULL}, {BEGIN, NULL, CONFLICT}, STOP},
     NULL, ARB_START_OFFSETS, 0, 1, false, 0, -1},
    {"--from --offsets", {{FROM, "1000", NULL}, {OFFSETS, "a:0:1", CONFLICT}, STOP}, NULL,
     ARB_START_TIME, 1000, 0, false, 0, -1},
    {"--offsets --from", {{OFFSETS, "a:0:1", NULL}, {FROM, "1000", CONFLICT}, STOP}, NULL,
     ARB_START_OFFSETS, 0, 1, false, 0, -1},
    {"conflict before a bad argument", {{OFFSETS, "a:0:1", NULL}, {FROM, "x", CONFLICT}, STOP},
     NULL, ARB_START_OFFSETS, 0, 1, false, 0, -1},
    /* --until */
    {"--until", {{UNTIL, "2026-11-23T18:05:00.250+08:00", NULL}, STOP}, NULL,
     ARB_START_DEFAULT, 0, 0, true, 1795428300250, -1},
    {"--until bad", {{UNTIL, "2026-02-30T00:00:00Z", "--until " NOT_TIME("2026-02-30T00:00:00Z")},
                     STOP},
     NULL, ARB_START_DEFAULT, 0, 0, false, 0, -1},
    {"--until twice", {{UNTIL, "5", NULL}, {UNTIL, "6", "--until given more than once"}, STOP},
     NULL, ARB_START_DEFAULT, 0, 0, true, 5, -1},
    {"--from before --until",
     {{FROM, "2026-11-23T10:05:00Z", NULL}, {UNTIL, "2026-11-23T10:05:00.001Z", NULL}, STOP},
     NULL, ARB_START_TIME, 1795428300000, 0, true, 1795428300001, -1},
    {"--from equal to --until", {{FROM, "1000", NULL}, {UNTIL, "1000", NULL}, STOP}, NULL,
     ARB_START_TIME, 1000, 0, true, 1000, -1},
    {"--from after --until",
     {{UNTIL, "2026-11-23T10:05:00Z", NULL}, {FROM, "2026-11-23T10:05:00.250Z", NULL}, STOP},
     "--from (2026-11-23T10:05:00.250Z) is after --until (2026-11-23T10:05:00Z)",
     ARB_START_TIME, 1795428300250, 0, true, 1795428300000, -1},
    {"--from after --until, epoch",
     {{FROM, "1", NULL}, {UNTIL, "0", NULL}, STOP},
     "--from (1970-01-01T00:00:00.001Z) is after --until (1970-01-01T00:00:00Z)",
     ARB_START_TIME, 1, 0, true, 0, -1},
    {"--from after --until, leap day",
     {{FROM, "2024-03-01T00:00:00+00:00", NULL}, {UNTIL, "2024-02-29T23:59:59.999Z", NULL}, STOP},
     "--from (2024-03-01T00:00:00Z) is after --until (2024-02-29T23:59:59.999Z)",
     ARB_START_TIME, 1709251200000, 0, true, 1709251199999, -1},
    {"--offsets with --until", {{OFFSETS, "a:0:1", NULL}, {UNTIL, "0", NULL}, STOP}, NULL,
     ARB_START_OFFSETS, 0, 1, true, 0, -1},
    {"--from-beginning with --until", {{BEGIN, NULL, NULL}, {UNTIL, "0", NULL}, STOP}, NULL,
     ARB_START_BEGINNING, 0, 0, true, 0, -1},
    /* --limit */
    {"--limit 1", {{LIMIT, "1", NULL}, STOP}, NULL, ARB_START_DEFAULT, 0, 0, false, 0, 1},
    {"--limit 100", {{LIMIT, "100", NULL}, STOP}, NULL, ARB_START_DEFAULT, 0, 0, false, 0, 100},
    {"--limit max", {{LIMIT, "9223372036854775807", NULL}, STOP}, NULL, ARB_START_DEFAULT, 0, 0,
     false, 0, INT64_MAX},
    {"--limit 0", LIMIT_BAD("0"), NULL, ARB_START_DEFAULT, 0, 0, false, 0, -1},
    {"--limit empty", LIMIT_BAD(""), NULL, ARB_START_DEFAULT, 0, 0, false, 0, -1},
    {"--limit -1", LIMIT_BAD("-1"), NULL, ARB_START_DEFAULT, 0, 0, false, 0, -1},
    {"--limit +1", LIMIT_BAD("+1"), NULL, ARB_START_DEFAULT, 0, 0, false, 0, -1},
    {"--limit 1x", LIMIT_BAD("1x"), NULL, ARB_START_DEFAULT, 0, 0, false, 0, -1},
    {"--limit space", LIMIT_BAD(" 1"), NULL, ARB_START_DEFAULT, 0, 0, false, 0, -1},
    {"--limit 1.0", LIMIT_BAD("1.0"), NULL, ARB_START_DEFAULT, 0, 0, false, 0, -1},
    {"--limit 1e3", LIMIT_BAD("1e3"), NULL, ARB_START_DEFAULT, 0, 0, false, 0, -1},
    {"--limit overflow", LIMIT_BAD("9223372036854775808"), NULL, ARB_START_DEFAULT, 0, 0, false,
     0, -1},
    {"--limit twice", {{LIMIT, "5", NULL}, {LIMIT, "6", "--limit given more than once"}, STOP},
     NULL, ARB_START_DEFAULT, 0, 0, false, 0, 5},
};

static int apply(struct arb_selection *selection, const struct step *step,
                 struct arb_error *err)
{
    switch (step->flag) {
    case BEGIN:
        return arb_selection_set_start(selection, ARB_START_BEGINNING, step->arg, err);
    case FROM:
        return arb_selection_set_start(selection, ARB_START_TIME, step->arg, err);
    case OFFSETS:
        return arb_selection_set_start(selection, ARB_START_OFFSETS, step->arg, err);
    case UNTIL:
        return arb_selection_set_until(selection, step->arg, err);
    case LIMIT:
        return arb_selection_set_limit(selection, step->arg, err);
    case END:
        break;
    }
    fail_msg("bad step");
    return -1;
}

static void test_flags(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(flags_cases); i++) {
        const struct flags_case *c = &flags_cases[i];
        struct arb_selection selection;
        arb_selection_init(&selection);
        for (size_t j = 0; j < MAX_STEPS && c->steps[j].flag != END; j++) {
            const struct step *step = &c->steps[j];
            struct arb_error err = {0};
            int rc = apply(&selection, step, &err);
            if (step->message == NULL && rc != 0)
                fail_msg("%s, step %zu: rejected: %s", c->name, j, err.message);
            if (step->message != NULL &&
                (rc != -1 || err.code != ARB_E_INVALID || strcmp(err.message, step->message) != 0))
                fail_msg("%s, step %zu: rc %d code %d \"%s\", want \"%s\"", c->name, j, rc,
                         (int)err.code, err.message, step->message);
        }
        struct arb_error err = {0};
        int rc = arb_selection_check(&selection, &err);
        if (c->check == NULL && rc != 0)
            fail_msg("%s: check rejected: %s", c->name, err.message);
        if (c->check != NULL &&
            (rc != -1 || err.code != ARB_E_INVALID || strcmp(err.message, c->check) != 0))
            fail_msg("%s: check rc %d \"%s\", want \"%s\"", c->name, rc, err.message, c->check);
        if (selection.start != c->start || selection.noffsets != c->noffsets ||
            selection.has_until != c->has_until || selection.limit != c->limit ||
            (c->start == ARB_START_TIME && selection.from_ms != c->from_ms) ||
            (c->has_until && selection.until_ms != c->until_ms))
            fail_msg("%s: start %d from %lld offsets %zu until %d/%lld limit %lld", c->name,
                     (int)selection.start, (long long)selection.from_ms, selection.noffsets,
                     (int)selection.has_until, (long long)selection.until_ms,
                     (long long)selection.limit);
        arb_selection_clear(&selection);
    }
}

static void test_init_clear(void **state)
{
    (void)state;
    struct arb_selection selection;
    arb_selection_init(&selection);
    assert_int_equal(selection.start, ARB_START_DEFAULT);
    assert_int_equal(selection.limit, -1);
    assert_false(selection.has_until);
    assert_null(selection.offsets);
    assert_int_equal(selection.ncall_ids + selection.nevents + selection.nsender_types, 0);

    struct arb_error err = {0};
    assert_int_equal(arb_selection_set_start(&selection, ARB_START_OFFSETS, "a:0:1", &err), 0);
    assert_int_equal(arb_selection_set_until(&selection, "5", &err), 0);
    assert_int_equal(arb_selection_set_limit(&selection, "5", &err), 0);
    arb_selection_add(&selection.call_ids, &selection.ncall_ids, "c1,c2");
    arb_selection_add(&selection.events, &selection.nevents, "e");
    arb_selection_add(&selection.sender_types, &selection.nsender_types, "s");
    arb_selection_clear(&selection);
    assert_int_equal(selection.start, ARB_START_DEFAULT);
    assert_int_equal(selection.limit, -1);
    assert_null(selection.offsets);
    assert_null(selection.call_ids);
    assert_int_equal(selection.ncall_ids, 0);
    /* usable again, and clearing twice (or NULL) is fine */
    assert_int_equal(arb_selection_set_start(&selection, ARB_START_TIME, "7", &err), 0);
    assert_int_equal(selection.from_ms, 7);
    arb_selection_clear(&selection);
    arb_selection_clear(&selection);
    arb_selection_clear(NULL);
}

/* ---- filter lists ---- */

struct add_case {
    const char *values[3]; /* successive calls; NULL ends */
    const char *want[5];   /* the list afterwards; NULL ends */
};

static const struct add_case add_cases[] = {
    {{"a"}, {"a"}},
    {{"a,b"}, {"a", "b"}},
    {{"a", "b,c"}, {"a", "b", "c"}},
    {{",a,,b,"}, {"a", "b"}},
    {{","}, {NULL}},
    {{""}, {NULL}},
    {{"a b, c"}, {"a b", " c"}},
    {{"A", "a"}, {"A", "a"}},
};

static void test_add(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(add_cases); i++) {
        const struct add_case *c = &add_cases[i];
        char **list = NULL;
        size_t count = 0;
        for (size_t j = 0; j < COUNT(c->values) && c->values[j] != NULL; j++)
            arb_selection_add(&list, &count, c->values[j]);
        size_t want = 0;
        while (want < COUNT(c->want) && c->want[want] != NULL)
            want++;
        if (count != want)
            fail_msg("case %zu: %zu values, want %zu", i, count, want);
        for (size_t j = 0; j < count; j++) {
            if (strcmp(list[j], c->want[j]) != 0)
                fail_msg("case %zu [%zu]: \"%s\", want \"%s\"", i, j, list[j], c->want[j]);
            free(list[j]);
        }
        free(list);
    }
    char **list = NULL;
    size_t count = 0;
    arb_selection_add(&list, &count, NULL);
    assert_null(list);
    assert_int_equal(count, 0);
}

/* ---- matching ---- */

struct filters {
    const char *call_ids, *events, *sender_types; /* comma-separated; NULL: no filter */
    const char *until;                            /* NULL: no --until */
    const char *from;                             /* NULL: no --from */
};

struct match_case {
    const char *name;
    struct filters filters;
    struct arb_record_view record;
    bool selected;
};

#define T 1795428300000 /* 2026-11-23T10:05:00Z */
#define REC(c, e, s, t) {c, e, s, t}
#define FULL REC("c1", "channel.message.sent", "agent", T)

static const struct match_case match_cases[] = {
    {"no filters", {NULL, NULL, NULL, NULL, NULL}, FULL, true},
    {"no filters, no fields", {NULL, NULL, NULL, NULL, NULL}, REC(NULL, NULL, NULL, 0), true},
    {"call_id in", {"c1", NULL, NULL, NULL, NULL}, FULL, true},
    {"call_id one of", {"c0,c1,c2", NULL, NULL, NULL, NULL}, FULL, true},
    {"call_id out", {"c2", NULL, NULL, NULL, NULL}, FULL, false},
    {"call_id case-sensitive", {"C1", NULL, NULL, NULL, NULL}, FULL, false},
    {"call_id no prefix", {"c", NULL, NULL, NULL, NULL}, FULL, false},
    {"call_id longer", {"c10", NULL, NULL, NULL, NULL}, FULL, false},
    {"call_id missing", {"c1", NULL, NULL, NULL, NULL}, REC(NULL, "channel.message.sent", "agent", T),
     false},
    {"call_id empty", {"c1", NULL, NULL, NULL, NULL}, REC("", "channel.message.sent", "agent", T),
     false},
    {"event in", {NULL, "message.send,channel.message.sent", NULL, NULL, NULL}, FULL, true},
    {"event out", {NULL, "message.send", NULL, NULL, NULL}, FULL, false},
    {"event missing", {NULL, "channel.message.sent", NULL, NULL, NULL}, REC("c1", NULL, "agent", T),
     false},
    {"sender type in", {NULL, NULL, "agent", NULL, NULL}, FULL, true},
    {"sender type out", {NULL, NULL, "customer,bot", NULL, NULL}, FULL, false},
    {"sender type missing", {NULL, NULL, "agent", NULL, NULL}, REC("c1", "channel.message.sent", NULL, T),
     false},
    {"other fields missing", {"c1", NULL, NULL, NULL, NULL}, REC("c1", NULL, NULL, T), true},
    {"all three in", {"c1", "channel.message.sent", "agent", NULL, NULL}, FULL, true},
    {"all three, event out", {"c1", "message.send", "agent", NULL, NULL}, FULL, false},
    {"all three, sender out", {"c1", "channel.message.sent", "bot", NULL, NULL}, FULL, false},
    {"all three, call out", {"c9", "channel.message.sent", "agent", NULL, NULL}, FULL, false},
    /* --until */
    {"until later", {NULL, NULL, NULL, "2026-11-23T10:05:00.001Z", NULL}, FULL, true},
    {"until equal", {NULL, NULL, NULL, "2026-11-23T10:05:00Z", NULL}, FULL, true},
    {"until one ms before", {NULL, NULL, NULL, "1795428299999", NULL}, FULL, false},
    {"until equal, filters in", {"c1", "channel.message.sent", "agent", "1795428300000", NULL}, FULL,
     true},
    {"until equal, filter out", {"c2", NULL, NULL, "1795428300000", NULL}, FULL, false},
    {"until passed, filters in", {"c1", NULL, NULL, "1795428299999", NULL}, FULL, false},
    {"until 0, record at 0", {NULL, NULL, NULL, "0", NULL}, REC(NULL, NULL, NULL, 0), true},
    {"until 0, record at 1", {NULL, NULL, NULL, "0", NULL}, REC(NULL, NULL, NULL, 1), false},
    {"until, record before the epoch", {NULL, NULL, NULL, "0", NULL}, REC(NULL, NULL, NULL, -1), true},
    /* --from: a record stamped before it is outside the window even if read after it */
    {"from equal", {NULL, NULL, NULL, NULL, "2026-11-23T10:05:00Z"}, FULL, true},
    {"from one ms later", {NULL, NULL, NULL, NULL, "1795428300001"}, FULL, false},
    {"from earlier", {NULL, NULL, NULL, NULL, "1795428299999"}, FULL, true},
    {"from and until around", {NULL, NULL, NULL, "1795428300001", "1795428299999"}, FULL, true},
    {"from and until equal", {"c1", NULL, NULL, "1795428300000", "1795428300000"}, FULL, true},
};

static void test_match(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(match_cases); i++) {
        const struct match_case *c = &match_cases[i];
        struct arb_selection selection;
        struct arb_error err = {0};
        arb_selection_init(&selection);
        arb_selection_add(&selection.call_ids, &selection.ncall_ids, c->filters.call_ids);
        arb_selection_add(&selection.events, &selection.nevents, c->filters.events);
        arb_selection_add(&selection.sender_types, &selection.nsender_types,
                          c->filters.sender_types);
        if (c->filters.until != NULL &&
            arb_selection_set_until(&selection, c->filters.until, &err) != 0)
            fail_msg("%s: --until: %s", c->name, err.message);
        if (c->filters.from != NULL &&
            arb_selection_set_start(&selection, ARB_START_TIME, c->filters.from, &err) != 0)
            fail_msg("%s: --from: %s", c->name, err.message);
        bool selected = arb_selection_match(&selection, &c->record);
        arb_selection_clear(&selection);
        if (selected != c->selected)
            fail_msg("%s: %s, want %s", c->name, selected ? "selected" : "not selected",
                     c->selected ? "selected" : "not selected");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_good),
        cmocka_unit_test(test_time_bad),
        cmocka_unit_test(test_time_huge),
        cmocka_unit_test(test_offsets),
        cmocka_unit_test(test_offsets_append),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_init_clear),
        cmocka_unit_test(test_add),
        cmocka_unit_test(test_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
