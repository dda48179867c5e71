/* test_record.c - splitting events into Kafka records by splicing the body's bytes: the
 * request id, the documented examples (values JSON-equal to what they stand for, members in
 * order, headers exact, the plan's sizes exact), small events byte for byte, and the set's
 * independence from the body and index it came from. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arb/buf.h"
#include "arb/event.h"
#include "arb/json_index.h"
#include "arb/mem.h"
#include "arb/record.h"

#include "support.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_RECORDS 8
#define TOPIC "airudder.messages"
#define RECEIVED_AT INT64_C(1720160400123)
#define RECEIVED_AT_TEXT "1720160400123"

static struct arb_json_scanner *scanner;

static struct arb_event parse_event(const char *body, size_t len)
{
    struct arb_event event;
    struct arb_error err = {0};
    if (arb_event_parse(scanner, body, len, ARB_SCHEMA_CHANNEL_MESSAGE_SENT, "", &event, &err) != 0)
        fail_msg("event rejected: %s", err.message);
    return event;
}

/* The records of a padded body; the plan's byte count is checked against what was built. */
static struct arb_recordset *split(const char *body, size_t len)
{
    char request_id[ARB_REQUEST_ID_LEN + 1];
    struct arb_record_plan plan;
    struct arb_event event = parse_event(body, len);
    arb_request_id(NULL, body, len, request_id);
    arb_records_plan(&event, RECEIVED_AT, &plan);
    struct arb_recordset *set = arb_records_build(&event, &plan, TOPIC, request_id, RECEIVED_AT);
    assert_non_null(set);
    size_t bytes = event.name_len + event.call_id->text_len;
    for (size_t i = 0; i < set->count; i++) {
        bytes += set->records[i].value_len;
        for (size_t h = 2; h < set->records[i].nheaders; h++) /* the per-message ones */
            if (strstr("airudder-msg-id airudder-sender-type airudder-content-type",
                       set->records[i].headers[h].name) != NULL)
                bytes += set->records[i].headers[h].len;
    }
    assert_int_equal(plan.count, set->count);
    assert_int_equal(plan.bytes, bytes);
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
        arb_request_id(NULL, body, len, id);
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
    const char *envelope; /* the value's members before "message", compacted */
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
          "\"body\": \"Hi, tom, we will hold a party from 2024-03-07, welcome to join us\""},
         {"9fd6d067308944449c2ad4e9fb476a1e", "robot", "text",
          "\"text\": \"一位来自WhatsApp的朋友 ,欢迎使用 AIRudder 客户服务\""},
         {"9fd6d067308944449c2ad4e9fb476a1e", "robot", "image",
          "Signature=agKUyWeiSkwQd0ussZ5bUJuKmDM%3D\""},
         {"9fd6d067308944449c2ad4e9fb476a1e", "robot", "file", "\"name\": \"welcome_to_Earth.pdf\""},
         {"e39f5aaba04e4d54b7a2852e17383206", "robot", "interactive",
          "\"text\": \"请选择您的性别(button)👉👉👉\""},
         {"ecc6f3501c1c4ddf8289b94bccf0f603", "robot", "interactive",
          "\"title\": \"物流查询\""},
         {"30754f2269a440e3b7206c88971f86eb", "agent", "text", "\"text\": \"hi\""},
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

static bool contains(const char *bytes, size_t len, const char *text)
{
    size_t n = strlen(text);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(bytes + i, text, n) == 0)
            return true;
    return false;
}

/* The value's members in order: the envelope's, then the four the bridge adds. */
static void assert_member_order(const json_t *value, const json_t *original)
{
    static const char *const added[] = {"message", "message_index", "message_count",
                                        "received_at"};
    const char *key;
    json_t *member;
    void *iter = json_object_iter((json_t *)value);

    json_object_foreach((json_t *)original, key, member) {
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
}

static void check_fixture_record(const struct fixture_case *c, const json_t *original,
                                 const struct arb_record *record, size_t i)
{
    const struct expected_message *m = &c->messages[i];
    const json_t *messages = json_object_get(original, "messages");
    char suffix[128], want_headers[512];

    /* bytes: the sender's, UTF-8 as is, the counters last */
    snprintf(suffix, sizeof(suffix),
             ",\"message_index\":%zu,\"message_count\":%zu,\"received_at\":" RECEIVED_AT_TEXT
             "}",
             i, c->count);
    assert_true(record->value_len > strlen(suffix));
    assert_memory_equal(record->value + record->value_len - strlen(suffix), suffix,
                        strlen(suffix));
    if (m->text != NULL && !contains(record->value, record->value_len, m->text))
        fail_msg("record %zu lacks %s", i, m->text);

    /* structure: member order, the envelope and the message verbatim, the counters */
    json_t *value = json_loadb(record->value, record->value_len, JSON_REJECT_DUPLICATES, NULL);
    assert_non_null(value);
    assert_member_order(value, original);
    json_t *envelope = json_deep_copy(value);
    json_object_del(envelope, "message");
    json_object_del(envelope, "message_index");
    json_object_del(envelope, "message_count");
    json_object_del(envelope, "received_at");
    char *compact = json_dumps(envelope, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_memory_equal(compact, c->envelope, strlen(c->envelope) - strlen(",\"message\":{"));
    free(compact);
    json_decref(envelope);
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
}

static void test_fixtures(void **state)
{
    (void)state;
    for (size_t f = 0; f < COUNT(fixture_cases); f++) {
        const struct fixture_case *c = &fixture_cases[f];
        size_t len;
        char *body = read_fixture(c->file, &len);
        json_t *original = json_loadb(body, len, 0, NULL);
        struct arb_recordset *set = split(body, len);

        memset(body, 'x', len); /* the set is on its own */
        assert_int_equal(set->count, c->count);
        assert_int_equal(set->key_len, strlen(c->call_id));
        assert_memory_equal(set->key, c->call_id, set->key_len);
        assert_string_equal(set->topic, TOPIC);
        assert_string_equal(set->request_id, c->request_id);
        assert_string_equal(set->received_at, RECEIVED_AT_TEXT);
        assert_int_equal(set->received_at_ms, RECEIVED_AT);
        for (size_t i = 0; i < set->count; i++)
            check_fixture_record(c, original, &set->records[i], i);

        arb_recordset_destroy(set);
        json_decref(original);
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
     {"{\"event\":\"e\",\"x\":{\"y\":[1,2.5,1e3,null,true,\"\xc3\xa9\"]},\"call_id\":\"c\","
      "\"tail\":\"t\",\"message\":{\"content\":{\"type\":\"text\"},\"msg_id\":\"m\","
      "\"extra\":{\"k\":\"v\"}},\"message_index\":0,\"message_count\":1" RA},
     {EVENT_HEADERS "airudder-msg-id=m\nairudder-content-type=text\n"
                    TAIL_HEADERS("71cad1f36e697748223893a8d4c1b304")}},
    {"escapes and whitespace kept as sent",
     "{\"event\":\"e\",\"call_id\":\"c\",\"messages\":["
     "{\"sender_type\":\"robot\",\"content\":{\"text\":\"\\u00e9 \\ud83d\\udc49 \\/ \\\"q\\\"\"}},"
     " { \"content\" : {\"type\":7},\"timestamp\":-1}  ]}",
     2,
     {"{\"event\":\"e\",\"call_id\":\"c\",\"message\":{\"sender_type\":\"robot\",\"content\":"
      "{\"text\":\"\\u00e9 \\ud83d\\udc49 \\/ \\\"q\\\"\"}},\"message_index\":0,"
      "\"message_count\":2" RA,
      "{\"event\":\"e\",\"call_id\":\"c\",\"message\":{ \"content\" : {\"type\":7},"
      "\"timestamp\":-1},\"message_index\":1,\"message_count\":2" RA},
     {EVENT_HEADERS "airudder-sender-type=robot\n" TAIL_HEADERS("################################"),
      EVENT_HEADERS TAIL_HEADERS("################################")}},
};

static void test_small_events(void **state)
{
    (void)state;
    for (size_t k = 0; k < COUNT(small_cases); k++) {
        const struct small_case *c = &small_cases[k];
        char *body = padded_copy(c->body, strlen(c->body));
        struct arb_recordset *set = split(body, strlen(c->body));
        char request_id[ARB_REQUEST_ID_LEN + 1];
        arb_request_id(NULL, body, strlen(c->body), request_id);

        if (set->count != c->count)
            fail_msg("%s: %zu records, want %zu", c->name, set->count, c->count);
        for (size_t i = 0; i < set->count; i++) {
            const struct arb_record *record = &set->records[i];
            char want[512];
            if (record->value_len != strlen(c->values[i]) ||
                memcmp(record->value, c->values[i], record->value_len) != 0)
                fail_msg("%s: record %zu is\n%.*s\nwant\n%s", c->name, i,
                         (int)record->value_len, record->value, c->values[i]);
            char *headers = headers_text(record);
            snprintf(want, sizeof(want), "%s", c->headers[i]);
            char *id = strstr(want, "################################"); /* 32: an id */
            if (id != NULL)
                memcpy(id, request_id, ARB_REQUEST_ID_LEN); /* the body's own id, 32 hex */
            if (strcmp(headers, want) != 0)
                fail_msg("%s: record %zu headers\n%swant\n%s", c->name, i, headers, want);
            free(headers);
        }
        arb_recordset_destroy(set);
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
        cmocka_unit_test(test_request_id),
        cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_small_events),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
