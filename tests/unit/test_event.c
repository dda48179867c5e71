/* test_event.c - validation of AIRudder event bodies by the fast path (json_index.cpp and
 * event.c): the documented examples, bodies that pass, bodies that fail with the exact code
 * and message (Jansson's words for JSON errors), each schema's own rules, the call_id of
 * bodies that fail their schema, and the depth limit at its edge. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arb/event.h"
#include "arb/json_index.h"
#include "arb/mem.h"

#include "support.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static struct arb_json_scanner *scanner;

/* Parse body (copied with the parser's padding) under schema. */
static int parse(const char *body, size_t len, enum arb_schema schema, const char *default_event,
                 struct arb_event *event, struct arb_error *err)
{
    char *copy = padded_copy(body, len);
    int rc = arb_event_parse(scanner, copy, len, schema, default_event, event, err);
    free(copy);
    return rc;
}

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
        struct arb_event event;
        struct arb_error err = {0};

        if (arb_event_parse(scanner, body, len, ARB_SCHEMA_CHANNEL_MESSAGE_SENT, "", &event,
                            &err) != 0)
            fail_msg("%s: %s", c->file, err.message);
        assert_int_equal(event.name_len, strlen(c->event));
        assert_memory_equal(event.name, c->event, event.name_len);
        assert_int_equal(event.call_id->text_len, strlen(c->call_id));
        assert_memory_equal(event.call_id->text, c->call_id, event.call_id->text_len);
        assert_int_equal(event.messages->children, c->nmessages);
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
        struct arb_event event;
        struct arb_error err = {0};
        if (parse(valid_bodies[i], strlen(valid_bodies[i]), ARB_SCHEMA_CHANNEL_MESSAGE_SENT, "",
                  &event, &err) != 0)
            fail_msg("valid body %zu rejected: %s", i, err.message);
        assert_non_null(event.call_id);
        assert_non_null(event.name);
    }
}

/* ---- bodies that fail, with the exact code and message ---- */

#define J ARB_E_JSON
#define S ARB_E_SCHEMA

/* Not JSON: Jansson 2.14 would skip the NUL byte, simdjson one after a last atom
 * (fuzz_differential found both). */
#define NUL_AFTER_NUMBER "{\"event\":\"e\",\"call_id\":\"c\",\"n\":1\0}"

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
     "line 1 column 28: NUL byte"},
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
    {"real too big", MSGS(MSG_WITH("\"score\":1e0000000000000000000000309")), 0, J,
     "line 1 column 88: real number overflow"},
    {"real of many digits too big", MSGS(MSG_WITH("\"score\":0.99999999999999999999e309")), 0, J,
     "line 1 column 87: real number overflow"},
    {"top-level integer past int64", "-33935253125139352531", 0, J,
     "line 1 column 21: too big negative integer"},
    {"integer too big", MSGS(MSG_WITH("\"timestamp\":9223372036854775808")), 0, J,
     "line 1 column 84: too big integer"},
    {"NUL after a number", NUL_AFTER_NUMBER, sizeof(NUL_AFTER_NUMBER) - 1, J,
     "line 1 column 33: NUL byte"},
    {"NUL after the last atom", "false\0", sizeof("false\0") - 1, J, "line 1 column 6: NUL byte"},
    {"a digit after the last atom", "false2", 0, J, "line 1 column 6: end of file expected"},
    /* JSON, but not an event: 422 */
    {"top-level array", "[]", 0, S, "$: expected object, got array"},
    {"top-level array of events", "[" EV("") "]", 0, S, "$: expected object, got array"},
    {"top-level number", "42", 0, S, "$: expected object, got integer"},
    {"top-level real", "1.5", 0, S, "$: expected object, got number"},
    {"top-level real of a long exponent", "0e2222222222222222222222", 0, S,
     "$: expected object, got number"},
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
        struct arb_event event;
        struct arb_error err = {0};
        int rc = parse(c->body, len, ARB_SCHEMA_CHANNEL_MESSAGE_SENT, "", &event, &err);

        if (rc != -1 || err.code != c->code || strcmp(err.message, c->message) != 0) {
            print_error("%s: got rc %d code %d \"%s\", want code %d \"%s\"\n", c->name, rc,
                        (int)err.code, err.message, (int)c->code, c->message);
            failures++;
        }
        assert_false(err.retriable);
        if (strstr(err.message, " near ") != NULL)
            fail_msg("%s: message quotes the body: \"%s\"", c->name, err.message);
    }
    assert_int_equal(failures, 0);
}

/* ---- the other schemas ---- */

struct schema_case {
    const char *name;
    enum arb_schema schema;
    const char *default_event;
    const char *body;
    const char *message;  /* NULL: valid */
    const char *event;    /* valid: the event's name, NULL for none */
};

#define WF ARB_SCHEMA_WORKFLOW_SESSION_END
#define GEN ARB_SCHEMA_GENERIC

static const struct schema_case schema_cases[] = {
    {"workflow without event", WF, "workflow.session.end", "{\"call_id\":\"c\"}", NULL,
     "workflow.session.end"},
    {"workflow, its own event wins", WF, "workflow.session.end",
     "{\"event\":\"x\",\"call_id\":\"c\"}", NULL, "x"},
    {"workflow, no default", WF, "", "{\"call_id\":\"c\"}", NULL, NULL},
    {"workflow, event empty", WF, "w", "{\"event\":\"\",\"call_id\":\"c\"}",
     "event: must not be empty", NULL},
    {"workflow, event number", WF, "w", "{\"event\":1,\"call_id\":\"c\"}",
     "event: expected string, got integer", NULL},
    {"workflow, robot_id number", WF, "w", "{\"call_id\":\"c\",\"robot_id\":4755}",
     "robot_id: expected string, got integer", NULL},
    {"workflow, talk_round string", WF, "w", "{\"call_id\":\"c\",\"talk_round\":\"3\"}",
     "talk_round: expected integer, got string", NULL},
    {"workflow, variables array", WF, "w", "{\"call_id\":\"c\",\"variables\":[]}",
     "variables: expected object, got array", NULL},
    {"workflow, message status number", WF, "w",
     "{\"call_id\":\"c\",\"messages\":[{\"content\":{},\"status\":1}]}",
     "messages[0].status: expected string, got integer", NULL},
    {"workflow, reply not object", WF, "w",
     "{\"call_id\":\"c\",\"messages\":[{\"content\":{},\"reply\":\"r\"}]}",
     "messages[0].reply: expected object, got string", NULL},
    {"workflow, reply content not object", WF, "w",
     "{\"call_id\":\"c\",\"messages\":[{\"content\":{},\"reply\":{\"content\":7}}]}",
     "messages[0].reply.content: expected object, got integer", NULL},
    {"workflow, reply timestamp real", WF, "w",
     "{\"call_id\":\"c\",\"messages\":[{\"content\":{},\"reply\":{\"timestamp\":1.5}}]}",
     "messages[0].reply.timestamp: expected integer, got number", NULL},
    {"workflow, no user rules", WF, "w", "{\"call_id\":\"c\",\"user\":7}", NULL, "w"},
    {"generic", GEN, "g", "{\"call_id\":\"c\",\"messages\":[1,\"x\",null]}", NULL, "g"},
    {"generic, messages object", GEN, "g", "{\"call_id\":\"c\",\"messages\":{}}",
     "messages: expected array, got object", NULL},
    {"generic, call_id missing", GEN, "g", "{\"messages\":[]}", "call_id: missing", NULL},
    {"generic, reserved", GEN, "g", "{\"call_id\":\"c\",\"received_at\":1}",
     "received_at: reserved name (the bridge adds it to every record)", NULL},
};

static void test_schemas(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(schema_cases); i++) {
        const struct schema_case *c = &schema_cases[i];
        struct arb_event event;
        struct arb_error err = {0};
        int rc = parse(c->body, strlen(c->body), c->schema, c->default_event, &event, &err);
        if (c->message == NULL) {
            if (rc != 0)
                fail_msg("%s: rejected: %s", c->name, err.message);
            if (c->event == NULL)
                assert_null(event.name);
            else if (event.name_len != strlen(c->event) ||
                     memcmp(event.name, c->event, event.name_len) != 0)
                fail_msg("%s: event name %.*s", c->name, (int)event.name_len, event.name);
        } else if (rc == 0 || err.code != ARB_E_SCHEMA || strcmp(err.message, c->message) != 0) {
            fail_msg("%s: got %d \"%s\", want \"%s\"", c->name, rc, err.message, c->message);
        }
    }
}

/* The session-end fixture, whole, under its schema. */
static void test_workflow_fixture(void **state)
{
    (void)state;
    size_t len;
    char *body = read_fixture("workflow.session.end.json", &len);
    struct arb_event event;
    struct arb_error err = {0};
    if (arb_event_parse(scanner, body, len, WF, "workflow.session.end", &event, &err) != 0)
        fail_msg("workflow.session.end.json: %s", err.message);
    assert_int_equal(event.messages->children, 3);
    assert_int_equal(event.name_len, strlen("workflow.session.end"));
    free(body);
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

/* The call_id of bodies that fail their schema, for their dead letters' key. */
static void test_peek_call_id(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(call_id_cases); i++) {
        const char *body = call_id_cases[i].body;
        char *copy = padded_copy(body, strlen(body));
        struct arb_error err;
        const struct arb_json_index *index = arb_json_scan(scanner, copy, strlen(body), 1, &err);
        assert_non_null(index);
        const struct arb_json_node *got = arb_event_peek_call_id(index);
        if (call_id_cases[i].want == NULL) {
            assert_null(got);
        } else {
            assert_non_null(got);
            assert_int_equal(got->text_len, strlen(call_id_cases[i].want));
            assert_memory_equal(got->text, call_id_cases[i].want, got->text_len);
        }
        free(copy);
    }
    assert_null(arb_event_peek_call_id(NULL));
}

/* Nesting: 2048 arrays pass, 2049 do not, as with Jansson. */
static void test_depth(void **state)
{
    (void)state;
    for (int depth = ARB_JSON_MAX_DEPTH; depth <= ARB_JSON_MAX_DEPTH + 1; depth++) {
        size_t len = 2 * (size_t)depth;
        char *body = arb_xcalloc(1, len + ARB_JSON_PADDING);
        struct arb_error err = {0};
        memset(body, '[', (size_t)depth);
        memset(body + depth, ']', (size_t)depth);
        const struct arb_json_index *index = arb_json_scan(scanner, body, len, 4, &err);
        if (depth == ARB_JSON_MAX_DEPTH)
            assert_non_null(index);
        else
            assert_null(index);
        free(body);
    }
}

static int setup(void **state)
{
    (void)state;
    scanner = arb_json_scanner_new(1 << 20);
    return scanner != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    arb_json_scanner_destroy(scanner);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_schemas),
        cmocka_unit_test(test_workflow_fixture),
        cmocka_unit_test(test_peek_call_id),
        cmocka_unit_test(test_depth),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
