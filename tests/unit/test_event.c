/* test_event.c - parsing and schema validation of AIRudder event bodies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arb/event.h"
#include "arb/mem.h"

#include "support.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A minimal valid event with extra members, and one with a messages array. */
#define EV(extra) "{\"event\":\"e\",\"call_id\":\"c\"" extra "}"
#define MSGS(list) EV(",\"messages\":[" list "]")
#define MSG "{\"content\":{}}"
#define MSG_WITH(extra) "{\"content\":{}," extra "}"

/* ---- the documented examples ---- */

struct fixture_case {
    const char *file;
    const char *event;
    const char *call_id;
    size_t nmessages;
};

static const struct fixture_case fixture_cases[] = {
    {"channel.message.sent.json", "channel.message.sent", "66b4d7507d5a6618497600326f7b064b", 7},
    {"message.send.json", "message.send", "6cf8c876eeefdca168ae7a08cb93fe20", 6},
};

static void test_fixtures(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(fixture_cases); i++) {
        const struct fixture_case *c = &fixture_cases[i];
        size_t len;
        char *body = read_fixture(c->file, &len);
        json_t *event = NULL;
        struct arb_error err = {0};

        if (arb_event_parse(body, len, &event, &err) != 0)
            fail_msg("%s: %s", c->file, err.message);
        assert_true(json_is_object(event));
        assert_string_equal(json_string_value(json_object_get(event, "event")), c->event);
        assert_string_equal(arb_event_call_id(event), c->call_id);
        assert_int_equal(json_array_size(json_object_get(event, "messages")), c->nmessages);
        assert_int_equal(arb_event_validate(event, &err), 0);
        json_decref(event);
        free(body);
    }
}

/* ---- bodies that pass ---- */

static const char *const valid_bodies[] = {
    EV(""),
    " \n\t" EV("") " \r\n",
    MSGS(""),
    MSGS(MSG),
    EV(",\"company\":\"Chat_test\",\"channel\":\"WhatsApp\",\"channel_id\":\"6583753709\","
       "\"custom\":\"\",\"user\":{\"id\":\"62895402190807\"}"),
    EV(",\"user\":{}"),
    EV(",\"user\":{\"id\":\"1\",\"name\":\"nick\",\"tags\":[1,2]}"),
    EV(",\"unknown\":{\"x\":[1,2.5,null,true]},\"other\":null"),
    MSGS(MSG_WITH("\"msg_id\":\"m\",\"sender_type\":\"robot\",\"timestamp\":1720159500,"
                  "\"extra\":{\"y\":1}")),
    MSGS(MSG_WITH("\"timestamp\":0") "," MSG_WITH("\"timestamp\":-1") ","
         MSG_WITH("\"timestamp\":9223372036854775807")),
    MSGS("{\"content\":{\"type\":\"text\","
         "\"text\":\"\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x91\x89\"}}"),
    MSGS("{\"content\":{\"text\":\"\\u4e2d \\ud83d\\udc49 \\\"q\\\" \\n\"}}"),
    "{\"call_id\":\"c\",\"event\":\"e\"}",
    "{\"event\":\"\xe4\xb8\xad\",\"call_id\":\" \"}",
};

static void test_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(valid_bodies); i++) {
        json_t *event = NULL;
        struct arb_error err = {0};
        if (arb_event_parse(valid_bodies[i], strlen(valid_bodies[i]), &event, &err) != 0)
            fail_msg("valid body %zu rejected: %s", i, err.message);
        json_t *expected = json_loads(valid_bodies[i], 0, NULL);
        assert_non_null(expected);
        assert_true(json_equal(event, expected));
        json_decref(expected);
        json_decref(event);
    }
}

/* ---- bodies that fail, with the exact code and message ---- */

#define J ARB_E_JSON
#define S ARB_E_SCHEMA

struct invalid_case {
    const char *name;
    const char *body;
    size_t len; /* 0: strlen(body) */
    enum arb_errcode code;
    const char *message;
};

static const struct invalid_case invalid_cases[] = {
    /* not JSON: 400 */
    {"empty body", "", 0, J, "line 1 column 0: unexpected token"},
    {"whitespace only", " \n ", 0, J, "line 2 column 1: unexpected token"},
    {"not JSON", "not json", 0, J, "line 1 column 3: invalid token"},
    {"bad literal", EV(",\"x\":tru"), 0, J, "line 1 column 34: invalid token"},
    {"trailing garbage", EV("") " x", 0, J, "line 1 column 29: end of file expected"},
    {"two objects", EV("") EV(""), 0, J, "line 1 column 28: end of file expected"},
    {"bytes after a NUL", EV("") "\0x", sizeof(EV("") "\0x") - 1, J,
     "line 1 column 28: end of file expected"},
    {"unterminated", "{", 0, J, "line 1 column 1: string or '}' expected"},
    {"truncated", "{\"event\":\"e\",\"call_id\":\"c", 0, J,
     "line 1 column 25: premature end of input"},
    {"trailing comma", EV(","), 0, J, "line 1 column 28: string or '}' expected"},
    {"duplicate keys", "{\"event\":\"e\",\"event\":\"f\",\"call_id\":\"c\"}", 0, J,
     "line 1 column 20: duplicate object key"},
    {"duplicate keys in a message", MSGS("{\"content\":{\"a\":1,\"a\":2}}"), 0, J,
     "line 1 column 60: duplicate object key"},
    {"invalid UTF-8 byte", "{\"event\":\"e\xff\",\"call_id\":\"c\"}", 0, J,
     "line 1 column 11: unable to decode byte 0xff"},
    {"truncated UTF-8", EV(",\"t\":\"\xe4\xbd\""), 0, J,
     "line 1 column 32: unable to decode byte 0xe4"},
    {"overlong UTF-8", EV(",\"t\":\"\xc0\xaf\""), 0, J,
     "line 1 column 32: unable to decode byte 0xc0"},
    {"UTF-16 surrogate in UTF-8", EV(",\"t\":\"\xed\xa0\x80\""), 0, J,
     "line 1 column 32: unable to decode byte 0xed"},
    {"lone surrogate escape", EV(",\"t\":\"\\ud83d\""), 0, J,
     "line 1 column 39: invalid Unicode '\\uD83D'"},
    {"UTF-8 BOM", "\xef\xbb\xbf" EV(""), 0, J, "line 1 column 1: invalid token"},
    {"NUL escape", EV(",\"t\":\"\\u0000\""), 0, J,
     "line 1 column 39: \\u0000 is not allowed without JSON_ALLOW_NUL"},
    {"integer too big", MSGS(MSG_WITH("\"timestamp\":9223372036854775808")), 0, J,
     "line 1 column 84: too big integer"},
    /* JSON, but not an event: 422 */
    {"top-level array", "[]", 0, S, "$: expected object, got array"},
    {"top-level array of events", "[" EV("") "]", 0, S, "$: expected object, got array"},
    {"top-level number", "42", 0, S, "$: expected object, got integer"},
    {"top-level real", "1.5", 0, S, "$: expected object, got number"},
    {"top-level string", "\"x\"", 0, S, "$: expected object, got string"},
    {"top-level true", "true", 0, S, "$: expected object, got boolean"},
    {"top-level null", "null", 0, S, "$: expected object, got null"},
    {"empty object", "{}", 0, S, "event: missing"},
    {"event missing", "{\"call_id\":\"c\"}", 0, S, "event: missing"},
    {"event empty", "{\"event\":\"\",\"call_id\":\"c\"}", 0, S, "event: must not be empty"},
    {"event integer", "{\"event\":7,\"call_id\":\"c\"}", 0, S,
     "event: expected string, got integer"},
    {"event null", "{\"event\":null,\"call_id\":\"c\"}", 0, S, "event: expected string, got null"},
    {"event array", "{\"event\":[\"e\"],\"call_id\":\"c\"}", 0, S,
     "event: expected string, got array"},
    {"call_id missing", "{\"event\":\"e\"}", 0, S, "call_id: missing"},
    {"call_id empty", "{\"event\":\"e\",\"call_id\":\"\"}", 0, S, "call_id: must not be empty"},
    {"call_id object", "{\"event\":\"e\",\"call_id\":{}}", 0, S,
     "call_id: expected string, got object"},
    {"call_id integer", "{\"event\":\"e\",\"call_id\":66}", 0, S,
     "call_id: expected string, got integer"},
    {"messages object", EV(",\"messages\":{}"), 0, S, "messages: expected array, got object"},
    {"messages string", EV(",\"messages\":\"[]\""), 0, S, "messages: expected array, got string"},
    {"messages null", EV(",\"messages\":null"), 0, S, "messages: expected array, got null"},
    {"messages[0] string", MSGS("\"m\""), 0, S, "messages[0]: expected object, got string"},
    {"messages[3] not object", MSGS(MSG "," MSG "," MSG ",7"), 0, S,
     "messages[3]: expected object, got integer"},
    {"first bad message wins", MSGS(MSG ",[]," MSG ",7"), 0, S,
     "messages[1]: expected object, got array"},
    {"messages[2].content missing", MSGS(MSG "," MSG ",{\"msg_id\":\"m\"}"), 0, S,
     "messages[2].content: missing"},
    {"content string", MSGS("{\"content\":\"hi\"}"), 0, S,
     "messages[0].content: expected object, got string"},
    {"content null", MSGS("{\"content\":null}"), 0, S,
     "messages[0].content: expected object, got null"},
    {"content array", MSGS(MSG ",{\"content\":[]}"), 0, S,
     "messages[1].content: expected object, got array"},
    {"msg_id integer", MSGS(MSG_WITH("\"msg_id\":5")), 0, S,
     "messages[0].msg_id: expected string, got integer"},
    {"sender_type boolean", MSGS(MSG_WITH("\"sender_type\":true")), 0, S,
     "messages[0].sender_type: expected string, got boolean"},
    {"timestamp 1.5", MSGS(MSG_WITH("\"timestamp\":1.5")), 0, S,
     "messages[0].timestamp: expected integer, got number"},
    {"timestamp 1.0", MSGS(MSG_WITH("\"timestamp\":1.0")), 0, S,
     "messages[0].timestamp: expected integer, got number"},
    {"timestamp 1e3", MSGS(MSG_WITH("\"timestamp\":1e3")), 0, S,
     "messages[0].timestamp: expected integer, got number"},
    {"timestamp \"1\"", MSGS(MSG "," MSG_WITH("\"timestamp\":\"1\"")), 0, S,
     "messages[1].timestamp: expected integer, got string"},
    {"timestamp null", MSGS(MSG_WITH("\"timestamp\":null")), 0, S,
     "messages[0].timestamp: expected integer, got null"},
    {"content before msg_id", MSGS("{\"msg_id\":1,\"content\":2}"), 0, S,
     "messages[0].content: expected object, got integer"},
    {"user string", EV(",\"user\":\"u\""), 0, S, "user: expected object, got string"},
    {"user array", EV(",\"user\":[]"), 0, S, "user: expected object, got array"},
    {"user null", EV(",\"user\":null"), 0, S, "user: expected object, got null"},
    {"user.id integer", EV(",\"user\":{\"id\":62895402190807}"), 0, S,
     "user.id: expected string, got integer"},
    {"user.id null", EV(",\"user\":{\"id\":null}"), 0, S, "user.id: expected string, got null"},
    {"company integer", EV(",\"company\":1"), 0, S, "company: expected string, got integer"},
    {"channel object", EV(",\"channel\":{}"), 0, S, "channel: expected string, got object"},
    {"channel_id integer", EV(",\"channel_id\":6583753709"), 0, S,
     "channel_id: expected string, got integer"},
    {"custom object", EV(",\"custom\":{\"k\":\"v\"}"), 0, S, "custom: expected string, got object"},
    {"custom null", EV(",\"custom\":null"), 0, S, "custom: expected string, got null"},
    {"envelope before messages", EV(",\"messages\":7,\"company\":1"), 0, S,
     "company: expected string, got integer"},
    {"user before messages", EV(",\"messages\":7,\"user\":1"), 0, S,
     "user: expected object, got integer"},
    /* names the bridge adds to records */
    {"top-level message", EV(",\"message\":{\"x\":1}"), 0, S,
     "message: reserved name (the bridge adds it to every record)"},
    {"top-level message_index", EV(",\"message_index\":0"), 0, S,
     "message_index: reserved name (the bridge adds it to every record)"},
    {"top-level message_count", EV(",\"message_count\":0"), 0, S,
     "message_count: reserved name (the bridge adds it to every record)"},
    {"top-level received_at", EV(",\"received_at\":0"), 0, S,
     "received_at: reserved name (the bridge adds it to every record)"},
};

static void test_invalid(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < COUNT(invalid_cases); i++) {
        const struct invalid_case *c = &invalid_cases[i];
        size_t len = c->len ? c->len : strlen(c->body);
        json_t *event = (json_t *)&event; /* not NULL: parse must reset it */
        struct arb_error err = {0};
        int rc = arb_event_parse(c->body, len, &event, &err);

        if (rc != -1 || err.code != c->code || strcmp(err.message, c->message) != 0) {
            print_error("%s: got rc %d code %d \"%s\", want code %d \"%s\"\n", c->name, rc,
                        (int)err.code, err.message, (int)c->code, c->message);
            failures++;
        }
        assert_null(event);
        assert_false(err.retriable);
        if (strstr(err.message, " near ") != NULL)
            fail_msg("%s: message quotes the body: \"%s\"", c->name, err.message);
    }
    assert_int_equal(failures, 0);
}

/* Validation of values built in memory agrees with parsing. */
static void test_validate(void **state)
{
    (void)state;
    struct arb_error err = {0};
    json_t *event = json_pack("{s:s, s:s, s:[{s:{}}, {s:s}]}", "event", "e", "call_id", "c",
                              "messages", "content", "content", "x");
    assert_non_null(event);
    assert_int_equal(arb_event_validate(event, &err), -1);
    assert_int_equal(err.code, ARB_E_SCHEMA);
    assert_string_equal(err.message, "messages[1].content: expected object, got string");
    json_array_remove(json_object_get(event, "messages"), 1);
    assert_int_equal(arb_event_validate(event, &err), 0);
    json_decref(event);
}

struct call_id_case {
    const char *body;
    const char *want; /* NULL: none */
};

static const struct call_id_case call_id_cases[] = {
    {"{\"call_id\":\"66b4\"}", "66b4"},
    {"{\"call_id\":\"\"}", NULL},
    {"{\"call_id\":7}", NULL},
    {"{\"call_id\":null}", NULL},
    {"{\"event\":\"e\"}", NULL},
    {"[\"call_id\"]", NULL},
};

static void test_call_id(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(call_id_cases); i++) {
        json_t *value = json_loads(call_id_cases[i].body, 0, NULL);
        assert_non_null(value);
        const char *got = arb_event_call_id(value);
        if (call_id_cases[i].want == NULL)
            assert_null(got);
        else
            assert_string_equal(got, call_id_cases[i].want);
        json_decref(value);
    }
}

/* The same cases through arb_event_peek_call_id, from raw bodies, plus a body that is not
 * JSON at all. */
static void test_peek_call_id(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(call_id_cases); i++) {
        const char *body = call_id_cases[i].body;
        char *got = arb_event_peek_call_id(body, strlen(body));
        if (call_id_cases[i].want == NULL)
            assert_null(got);
        else
            assert_string_equal(got, call_id_cases[i].want);
        free(got);
    }
    assert_null(arb_event_peek_call_id("{\"call_id\":", 11));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_validate),
        cmocka_unit_test(test_call_id),
        cmocka_unit_test(test_peek_call_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
