/* test_record.c - splitting events into Kafka records, and rebuilding events from records. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arb/buf.h"
#include "arb/event.h"
#include "arb/mem.h"
#include "arb/record.h"

#include "support.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_RECORDS 8
#define TOPIC "airudder.messages"
#define RECEIVED_AT INT64_C(1720160400123)
#define RECEIVED_AT_TEXT "1720160400123"

static json_t *parse_event(const char *body, size_t len)
{
    json_t *event = NULL;
    struct arb_error err = {0};
    if (arb_event_parse(body, len, &event, &err) != 0)
        fail_msg("event rejected: %s", err.message);
    return event;
}

static struct arb_recordset *split(json_t *event, const char *body, size_t len)
{
    char request_id[ARB_REQUEST_ID_LEN + 1];
    struct arb_recordset *set = NULL;
    struct arb_error err = {0};
    arb_request_id(body, len, request_id);
    if (arb_recordset_new(event, TOPIC, request_id, RECEIVED_AT, &set, &err) != 0)
        fail_msg("split failed: %s", err.message);
    assert_non_null(set);
    return set;
}

/* A record's headers as "name=value\n" lines, to compare with one string. */
static char *headers_text(const struct arb_record *record)
{
    struct arb_buf text;
    arb_buf_init(&text);
    for (size_t i = 0; i < record->nheaders; i++) {
        arb_buf_printf(&text, "%s=", record->headers[i].name);
        arb_buf_append(&text, record->headers[i].value, record->headers[i].len);
        arb_buf_puts(&text, "\n");
    }
    return arb_buf_detach(&text, NULL);
}

/* The event a record must rebuild to: the original, with messages = [its element]. */
static json_t *expected_event(const json_t *event, size_t index)
{
    json_t *expected = json_deep_copy(event);
    const json_t *messages = json_object_get(event, "messages");
    if (json_array_size(messages) > 0)
        json_object_set_new(expected, "messages",
                            json_pack("[O]", json_array_get(messages, index)));
    return expected;
}

static void assert_rebuilds(const struct arb_record *record, const json_t *event, size_t index)
{
    struct arb_error err = {0};
    json_t *rebuilt = arb_record_rebuild_event(record->value, record->value_len, &err);
    json_t *expected = expected_event(event, index);
    if (rebuilt == NULL)
        fail_msg("record %zu: rebuild failed: %s", index, err.message);
    if (!json_equal(rebuilt, expected)) {
        char *got = json_dumps(rebuilt, JSON_COMPACT);
        fail_msg("record %zu rebuilt as %s", index, got);
    }
    json_decref(expected);
    json_decref(rebuilt);
}

/* ---- request id ---- */

struct request_id_case {
    const char *fixture; /* or NULL: body */
    const char *body;
    const char *want; /* `sha256sum` of the bytes, first 32 hex */
};

static const struct request_id_case request_id_cases[] = {
    {"channel.message.sent.json", NULL, "5d0ecaa90f39b7c09e8eea1c1854d308"},
    {"message.send.json", NULL, "dfd804fe367cd3c5e91c79f1a98e9010"},
    {NULL, "", "e3b0c44298fc1c149afbf4c8996fb924"},
    {NULL, "abc", "ba7816bf8f01cfea414140de5dae2223"},
    {NULL, "{\"event\":\"e\",\"call_id\":\"c\"}", "f3184f0e52d1851abd0e320b90fd8624"},
};

static void test_request_id(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(request_id_cases); i++) {
        const struct request_id_case *c = &request_id_cases[i];
        size_t len = c->body ? strlen(c->body) : 0;
        char *body = c->fixture ? read_fixture(c->fixture, &len) : arb_xstrdup(c->body);
        char id[ARB_REQUEST_ID_LEN + 1];
        memset(id, 'x', sizeof(id));
        arb_request_id(body, len, id);
        assert_string_equal(id, c->want);
        free(body);
    }
}

/* ---- the documented examples ---- */

struct expected_message {
    const char *msg_id;
    const char *sender_type;
    const char *content_type;
    const char *text; /* UTF-8 that must appear unescaped in the value, or NULL */
};

struct fixture_case {
    const char *file;
    const char *request_id;
    const char *event;
    const char *call_id;
    const char *envelope; /* the value's exact beginning */
    size_t count;
    struct expected_message messages[MAX_RECORDS];
};

static const struct fixture_case fixture_cases[] = {
    {"channel.message.sent.json", "5d0ecaa90f39b7c09e8eea1c1854d308", "channel.message.sent",
     "66b4d7507d5a6618497600326f7b064b",
     "{\"event\":\"channel.message.sent\",\"company\":\"Chat_test\",\"channel\":\"WhatsApp\","
     "\"channel_id\":\"6583753709\",\"user\":{\"id\":\"62895402190807\"},"
     "\"call_id\":\"66b4d7507d5a6618497600326f7b064b\",\"message\":{",
     7,
     {
         {"05b1de120372baaf13c7b23864432e9a", "chatbot", "template",
          "\"body\":\"Hi, tom, we will hold a party from 2024-03-07, welcome to join us\""},
         {"9fd6d067308944449c2ad4e9fb476a1e", "robot", "text",
          "\"text\":\"一位来自WhatsApp的朋友 ,欢迎使用 AIRudder 客户服务\""},
         {"9fd6d067308944449c2ad4e9fb476a1e", "robot", "image",
          "Signature=agKUyWeiSkwQd0ussZ5bUJuKmDM%3D\""},
         {"9fd6d067308944449c2ad4e9fb476a1e", "robot", "file", "\"name\":\"welcome_to_Earth.pdf\""},
         {"e39f5aaba04e4d54b7a2852e17383206", "robot", "interactive",
          "\"text\":\"请选择您的性别(button)👉👉👉\""},
         {"ecc6f3501c1c4ddf8289b94bccf0f603", "robot", "interactive",
          "\"title\":\"物流查询\",\"description\":\"\""},
         {"30754f2269a440e3b7206c88971f86eb", "agent", "text", "\"text\":\"hi\""},
     }},
    {"message.send.json", "dfd804fe367cd3c5e91c79f1a98e9010", "message.send",
     "6cf8c876eeefdca168ae7a08cb93fe20",
     "{\"event\":\"message.send\",\"call_id\":\"6cf8c876eeefdca168ae7a08cb93fe20\","
     "\"company\":\"test\",\"channel\":\"chatbot\",\"channel_id\":\"sicepat_whatsapp\","
     "\"user\":{\"id\":\"123\",\"name\":\"nick\"},\"message\":{",
     6,
     {
         {"c98a0f2e6b7d4c1e9a3b5d7f1e2c4a60", "robot", "text", NULL},
         {"c98a0f2e6b7d4c1e9a3b5d7f1e2c4a61", "robot", "image", NULL},
         {"c98a0f2e6b7d4c1e9a3b5d7f1e2c4a62", "robot", "video", NULL},
         {"c98a0f2e6b7d4c1e9a3b5d7f1e2c4a63", "robot", "audio", NULL},
         {"c98a0f2e6b7d4c1e9a3b5d7f1e2c4a64", "robot", "file", NULL},
         {"c98a0f2e6b7d4c1e9a3b5d7f1e2c4a65", "robot", "interactive",
          "\"text\":\"请选择你要咨询的业务类\""},
     }},
};

/* The value's members in order: the envelope's, then the four the bridge adds. */
static void assert_member_order(const json_t *value, const char *envelope_body)
{
    static const char *const added[] = {"message", "message_index", "message_count",
                                        "received_at"};
    json_t *original = json_loads(envelope_body, 0, NULL);
    const char *key;
    json_t *member;
    void *iter = json_object_iter((json_t *)value);

    json_object_foreach(original, key, member) {
        if (strcmp(key, "messages") == 0)
            continue;
        assert_non_null(iter);
        assert_string_equal(json_object_iter_key(iter), key);
        iter = json_object_iter_next((json_t *)value, iter);
    }
    for (size_t i = 0; i < COUNT(added); i++) {
        assert_non_null(iter);
        assert_string_equal(json_object_iter_key(iter), added[i]);
        iter = json_object_iter_next((json_t *)value, iter);
    }
    assert_null(iter);
    json_decref(original);
}

static void check_fixture_record(const struct fixture_case *c, const char *body,
                                 const json_t *event, const struct arb_record *record, size_t i)
{
    const struct expected_message *m = &c->messages[i];
    const json_t *messages = json_object_get(event, "messages");
    char suffix[128], want_headers[512];

    /* bytes: the envelope first, the counters last, UTF-8 as is */
    assert_int_equal(strlen(record->value), record->value_len);
    assert_memory_equal(record->value, c->envelope, strlen(c->envelope));
    snprintf(suffix, sizeof(suffix),
             "},\"message_index\":%zu,\"message_count\":%zu,\"received_at\":" RECEIVED_AT_TEXT
             "}",
             i, c->count);
    assert_true(record->value_len > strlen(suffix));
    assert_string_equal(record->value + record->value_len - strlen(suffix), suffix);
    assert_null(strstr(record->value, "\\u"));
    if (m->text != NULL && strstr(record->value, m->text) == NULL)
        fail_msg("record %zu lacks %s", i, m->text);

    /* structure: member order, the message verbatim, the counters */
    json_t *value = json_loadb(record->value, record->value_len, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(value);
    assert_member_order(value, body);
    assert_true(json_equal(json_object_get(value, "message"), json_array_get(messages, i)));
    assert_int_equal(json_integer_value(json_object_get(value, "message_index")), i);
    assert_int_equal(json_integer_value(json_object_get(value, "message_count")), c->count);
    assert_int_equal(json_integer_value(json_object_get(value, "received_at")), RECEIVED_AT);
    json_decref(value);

    /* headers */
    snprintf(want_headers, sizeof(want_headers),
             "airudder-event=%s\nairudder-call-id=%s\nairudder-msg-id=%s\n"
             "airudder-sender-type=%s\nairudder-content-type=%s\nairudder-request-id=%s\n"
             "airudder-received-at=" RECEIVED_AT_TEXT "\n",
             c->event, c->call_id, m->msg_id, m->sender_type, m->content_type, c->request_id);
    char *headers = headers_text(record);
    assert_string_equal(headers, want_headers);
    free(headers);

    assert_rebuilds(record, event, i);
}

static void test_fixtures(void **state)
{
    (void)state;
    for (size_t f = 0; f < COUNT(fixture_cases); f++) {
        const struct fixture_case *c = &fixture_cases[f];
        size_t len;
        char *body = read_fixture(c->file, &len);
        body[len] = '\0';
        json_t *event = parse_event(body, len);
        struct arb_recordset *set = split(event, body, len);

        assert_int_equal(event->refcount, 2); /* the set holds its own reference */
        assert_int_equal(set->count, c->count);
        assert_int_equal(set->key_len, strlen(c->call_id));
        assert_memory_equal(set->key, c->call_id, set->key_len);
        assert_string_equal(set->topic, TOPIC);
        assert_string_equal(set->request_id, c->request_id);
        assert_string_equal(set->received_at, RECEIVED_AT_TEXT);
        assert_int_equal(set->received_at_ms, RECEIVED_AT);
        for (size_t i = 0; i < set->count; i++)
            check_fixture_record(c, body, event, &set->records[i], i);

        arb_recordset_destroy(set);
        assert_int_equal(event->refcount, 1);
        json_decref(event);
        free(body);
    }
    arb_recordset_destroy(NULL); /* like every destroy, accepts NULL */
}

/* ---- small events: exact values and headers ---- */

#define EVENT_HEADERS "airudder-event=e\nairudder-call-id=c\n"
#define TAIL_HEADERS(id) "airudder-request-id=" id "\nairudder-received-at=" RECEIVED_AT_TEXT "\n"
#define RA ",\"received_at\":" RECEIVED_AT_TEXT "}"

struct small_case {
    const char *name;
    const char *body;
    size_t count;
    const char *values[3];
    const char *headers[3];
};

static const struct small_case small_cases[] = {
    {"no messages",
     "{\"event\":\"e\",\"company\":\"x\",\"call_id\":\"c\",\"custom\":\"k=v\"}",
     1,
     {"{\"event\":\"e\",\"company\":\"x\",\"call_id\":\"c\",\"custom\":\"k=v\","
      "\"message_count\":0" RA},
     {EVENT_HEADERS TAIL_HEADERS("726f314eb0d099663054f77b635117a4")}},
    {"messages: []",
     "{\"event\":\"e\",\"call_id\":\"c\",\"messages\":[],\"user\":{\"id\":\"u\"}}",
     1,
     {"{\"event\":\"e\",\"call_id\":\"c\",\"messages\":[],\"user\":{\"id\":\"u\"},"
      "\"message_count\":0" RA},
     {EVENT_HEADERS TAIL_HEADERS("9f8a9c120d3cfb9232e67c1b2b233ffd")}},
    {"unknown fields kept, messages in the middle",
     "{\"event\":\"e\",\"x\":{\"y\":[1,2.5,1e3,null,true,\"\xc3\xa9\"]},\"call_id\":\"c\","
     "\"messages\":[{\"content\":{\"type\":\"text\"},\"msg_id\":\"m\",\"extra\":{\"k\":\"v\"}}],"
     "\"tail\":\"t\"}",
     1,
     {"{\"event\":\"e\",\"x\":{\"y\":[1,2.5,1000.0,null,true,\"\xc3\xa9\"]},\"call_id\":\"c\","
      "\"tail\":\"t\",\"message\":{\"content\":{\"type\":\"text\"},\"msg_id\":\"m\","
      "\"extra\":{\"k\":\"v\"}},\"message_index\":0,\"message_count\":1" RA},
     {EVENT_HEADERS "airudder-msg-id=m\nairudder-content-type=text\n"
                    TAIL_HEADERS("71cad1f36e697748223893a8d4c1b304")}},
    {"escapes decoded, non-ASCII written as UTF-8",
     "{\"event\":\"e\",\"call_id\":\"c\",\"messages\":["
     "{\"sender_type\":\"robot\",\"content\":{\"text\":\"\\u00e9 \\ud83d\\udc49 \\/ \\\"q\\\"\"}},"
     "{\"content\":{\"type\":7},\"timestamp\":-1}]}",
     2,
     {"{\"event\":\"e\",\"call_id\":\"c\",\"message\":{\"sender_type\":\"robot\",\"content\":"
      "{\"text\":\"\xc3\xa9 \xf0\x9f\x91\x89 / \\\"q\\\"\"}},\"message_index\":0,"
      "\"message_count\":2" RA,
      "{\"event\":\"e\",\"call_id\":\"c\",\"message\":{\"content\":{\"type\":7},"
      "\"timestamp\":-1},\"message_index\":1,\"message_count\":2" RA},
     {EVENT_HEADERS "airudder-sender-type=robot\n" TAIL_HEADERS("130b7d1bac1fc3ce790040e87a3014fe"),
      EVENT_HEADERS TAIL_HEADERS("130b7d1bac1fc3ce790040e87a3014fe")}},
};

static void test_small_events(void **state)
{
    (void)state;
    for (size_t k = 0; k < COUNT(small_cases); k++) {
        const struct small_case *c = &small_cases[k];
        json_t *event = parse_event(c->body, strlen(c->body));
        struct arb_recordset *set = split(event, c->body, strlen(c->body));

        if (set->count != c->count)
            fail_msg("%s: %zu records, want %zu", c->name, set->count, c->count);
        for (size_t i = 0; i < set->count; i++) {
            const struct arb_record *record = &set->records[i];
            if (strcmp(record->value, c->values[i]) != 0)
                fail_msg("%s: record %zu is\n%s\nwant\n%s", c->name, i, record->value,
                         c->values[i]);
            assert_int_equal(record->value_len, strlen(c->values[i]));
            char *headers = headers_text(record);
            if (strcmp(headers, c->headers[i]) != 0)
                fail_msg("%s: record %zu headers\n%swant\n%s", c->name, i, headers,
                         c->headers[i]);
            free(headers);
            assert_rebuilds(record, event, i);
        }
        arb_recordset_destroy(set);
        json_decref(event);
    }
}

/* ---- rebuild of values that are not records ---- */

static void test_rebuild_errors(void **state)
{
    (void)state;
    static const char *const values[] = {"", "not json", "[1]", "\"s\"", "7", "null", "{"};
    for (size_t i = 0; i < COUNT(values); i++) {
        struct arb_error err = {0};
        json_t *rebuilt = arb_record_rebuild_event(values[i], strlen(values[i]), &err);
        assert_null(rebuilt);
        assert_int_equal(err.code, ARB_E_JSON);
        assert_string_equal(err.message, "record value is not a JSON object");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_id),
        cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_small_events),
        cmocka_unit_test(test_rebuild_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
