/* test_log.c - the logger's lines: JSON lines Jansson reads back to the same strings (plain,
 * escaped, invalid UTF-8, longer than the first buffer), logfmt quoting, and the timestamp's
 * shape. */
#include "arb/error.h"
#include "arb/log.h"

#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

struct sink {
    char path[64];
    FILE *in;
};

static int sink_open(void **state, enum arb_log_format format)
{
    struct sink *sink = calloc(1, sizeof(*sink));
    struct arb_error err = {0};
    snprintf(sink->path, sizeof(sink->path), "/tmp/arb-test-log.XXXXXX");
    int fd = mkstemp(sink->path);
    if (fd < 0 || arb_log_setup(ARB_LOG_DEBUG, format, sink->path, &err) != 0)
        return -1;
    close(fd);
    sink->in = fopen(sink->path, "r");
    *state = sink;
    return sink->in ? 0 : -1;
}

static int json_setup(void **state) { return sink_open(state, ARB_LOG_JSON); }
static int text_setup(void **state) { return sink_open(state, ARB_LOG_TEXT); }

static int sink_close(void **state)
{
    struct sink *sink = *state;
    arb_log_shutdown();
    fclose(sink->in);
    unlink(sink->path);
    free(sink);
    return 0;
}

/* The next line the logger wrote (caller frees). */
static char *next_line(struct sink *sink)
{
    char *line = NULL;
    size_t cap = 0;
    assert_true(getline(&line, &cap, sink->in) > 0);
    assert_int_equal(line[strlen(line) - 1], '\n');
    return line;
}

static json_t *next_json(struct sink *sink)
{
    char *line = next_line(sink);
    json_error_t error;
    json_t *object = json_loads(line, 0, &error);
    if (object == NULL)
        fail_msg("not JSON (%s): %s", error.text, line);
    free(line);
    return object;
}

static void assert_member(json_t *object, const char *key, const char *want)
{
    const char *got = json_string_value(json_object_get(object, key));
    assert_non_null(got);
    assert_string_equal(got, want);
}

static void json_lines_round_trip(void **state)
{
    static const char *const values[] = {
        "plain", "", "with \"quotes\" and \\", "tab\tnewline\ncontrol\x01", "caf\xc3\xa9 \xe2\x9c\x93",
    };
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        arb_log_kv(ARB_LOG_INFO, values[i], "key", values[i], "absent", NULL, NULL);
        json_t *line = next_json(*state);
        assert_member(line, "msg", values[i]);
        assert_member(line, "key", values[i]);
        assert_member(line, "level", "info");
        assert_null(json_object_get(line, "absent"));
        json_decref(line);
    }
}

static void json_invalid_utf8_is_named(void **state)
{
    arb_log_kv(ARB_LOG_WARN, "bad", "value", "\xff\xfe", NULL);
    json_t *line = next_json(*state);
    assert_member(line, "value", "<invalid utf-8>");
    assert_member(line, "level", "warn");
    json_decref(line);
}

static void json_long_line_whole(void **state)
{
    char big[10000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    big[5000] = '"';
    arb_log_kv(ARB_LOG_ERROR, "long", "value", big, NULL);
    json_t *line = next_json(*state);
    assert_member(line, "value", big);
    json_decref(line);
}

/* 2026-12-01T22:40:00.123Z: 24 characters, the millisecond digits and the Z in place. */
static void json_timestamp_shape(void **state)
{
    arb_logf(ARB_LOG_DEBUG, "n=%d", 42);
    json_t *line = next_json(*state);
    const char *ts = json_string_value(json_object_get(line, "ts"));
    assert_non_null(ts);
    assert_int_equal(strlen(ts), 24);
    assert_int_equal(ts[10], 'T');
    assert_int_equal(ts[19], '.');
    assert_int_equal(ts[23], 'Z');
    for (int i = 20; i < 23; i++)
        assert_true(ts[i] >= '0' && ts[i] <= '9');
    assert_member(line, "msg", "n=42");
    json_decref(line);
}

static void text_quotes_only_when_needed(void **state)
{
    arb_log_kv(ARB_LOG_INFO, "request", "status", "200", "reason", "two words", "empty", "", NULL);
    char *line = next_line(*state);
    const char *rest = line + 24; /* after the timestamp */
    assert_string_equal(rest, " info  request status=200 reason=\"two words\" empty=\"\"\n");
    free(line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(json_lines_round_trip, json_setup, sink_close),
        cmocka_unit_test_setup_teardown(json_invalid_utf8_is_named, json_setup, sink_close),
        cmocka_unit_test_setup_teardown(json_long_line_whole, json_setup, sink_close),
        cmocka_unit_test_setup_teardown(json_timestamp_shape, json_setup, sink_close),
        cmocka_unit_test_setup_teardown(text_quotes_only_when_needed, text_setup, sink_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
