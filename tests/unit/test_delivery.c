/* test_delivery.c - what the replay sends the desk for a record: body, signature, key id and
 * Idempotency-Key, for every record of the documented example and for odd values. */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arb/delivery.h"
#include "arb/event.h"
#include "arb/json_index.h"
#include "arb/mem.h"
#include "arb/record.h"

#include "support.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_SECRETS 2

#define FIXTURE "channel.message.sent.json"
#define FIXTURE_RECORDS 7
#define FIXTURE_REQUEST_ID "5d0ecaa90f39b7c09e8eea1c1854d308" /* sha256sum of the fixture */
#define RECEIVED_AT INT64_C(1720160400123)
#define SIGN_HEADER "X-AIRudder-Sign"
#define KEY_HEADER "X-AIRudder-Sign-Key"
#define IDEMPOTENCY "Idempotency-Key: "
#define FIX_KEY "whsec-2024"

#define SHA256 ARB_SIG_SHA256
#define SHA1 ARB_SIG_SHA1
#define SHA512 ARB_SIG_SHA512
#define HEX ARB_SIG_HEX
#define B64 ARB_SIG_BASE64
#define ENFORCE ARB_SIG_ENFORCE
#define OFF ARB_SIG_OFF

/* The event-format bodies of two records, byte for byte: the envelope's members as the
 * fixture has them (its whitespace inside each), then messages with the one element, the
 * fixture's bytes too. */
#define ENVELOPE                                                                                \
    "{\"event\": \"channel.message.sent\",\"company\": \"Chat_test\",\"channel\": \"WhatsApp\","  \
    "\"channel_id\": \"6583753709\",\"user\": {\n    \"id\": \"62895402190807\"\n  },"            \
    "\"call_id\": \"66b4d7507d5a6618497600326f7b064b\",\"messages\":["
#define MESSAGE(id, sender, ts, text)                                                           \
    "{\n      \"msg_id\": \"" id "\",\n      \"sender_type\": \"" sender "\",\n"                 \
    "      \"timestamp\": " ts ",\n      \"content\": {\n        \"type\": \"text\",\n"           \
    "        \"text\": \"" text "\"\n      }\n    }"
#define BODY_1                                                                                  \
    ENVELOPE MESSAGE("9fd6d067308944449c2ad4e9fb476a1e", "robot", "1720159548",                 \
                     "一位来自WhatsApp的朋友 ,欢迎使用 AIRudder 客户服务") "]}"
#define BODY_6                                                                                  \
    ENVELOPE MESSAGE("30754f2269a440e3b7206c88971f86eb", "agent", "1720160324", "hi") "]}"
/* `openssl dgst -sha256 -hmac whsec-2024` and `-sha1 -binary | base64` of BODY_6. */
#define BODY_6_SHA256_HEX "8492155b7e736a7596237772944423f76b4f9c38009ba28f3ccbd11d78611157"
#define BODY_6_SHA1_B64 "asPhRr0oa4QZ9QyrKCzKTE0NI00="

/* ---- helpers ---- */

struct secret_spec {
    const char *id; /* NULL: not named */
    const char *value; /* NULL ends the list */
};

struct desk_spec {
    enum arb_desk_format format;
    enum arb_sig_mode mode;
    enum arb_sig_algorithm algorithm;
    enum arb_sig_encoding encoding;
    const char *prefix;
    const char *key_header;
    struct secret_spec secrets[MAX_SECRETS];
};

/* A desk conf built the way the config loader does (owned strings). */
static struct arb_desk_conf make_desk(const struct desk_spec *spec)
{
    struct arb_desk_conf desk = {0};
    struct arb_signature_conf *conf = &desk.signature;
    desk.format = spec->format;
    conf->mode = spec->mode;
    conf->algorithm = spec->algorithm;
    conf->encoding = spec->encoding;
    conf->header = arb_xstrdup(SIGN_HEADER);
    conf->prefix = arb_xstrdup(spec->prefix ? spec->prefix : "");
    conf->key_header = arb_xstrdup(spec->key_header ? spec->key_header : "");
    conf->secrets = arb_xcalloc(MAX_SECRETS, sizeof(*conf->secrets));
    for (size_t i = 0; i < MAX_SECRETS && spec->secrets[i].value != NULL; i++) {
        struct arb_secret *secret = &conf->secrets[conf->nsecrets++];
        secret->id = spec->secrets[i].id ? arb_xstrdup(spec->secrets[i].id) : NULL;
        secret->value = arb_xstrdup(spec->secrets[i].value);
        secret->len = strlen(spec->secrets[i].value);
    }
    return desk;
}

/* The fixture, parsed, and its records as the bridge writes them. */
struct fixture {
    char *body;
    json_t *event; /* the fixture as a tree, to compare rebuilt events with */
    struct arb_recordset *set;
};

static int fixture_setup(void **state)
{
    struct fixture *fx = arb_xcalloc(1, sizeof(*fx));
    struct arb_error err = {0};
    size_t len;
    char request_id[ARB_REQUEST_ID_LEN + 1];

    struct arb_json_scanner *scanner = arb_json_scanner_new(1 << 20);
    struct arb_event event;
    struct arb_record_plan plan;

    fx->body = read_fixture(FIXTURE, &len);
    fx->event = json_loadb(fx->body, len, 0, NULL);
    if (arb_event_parse(scanner, fx->body, len, ARB_SCHEMA_CHANNEL_MESSAGE_SENT, "", &event,
                        &err) != 0)
        fail_msg("fixture rejected: %s", err.message);
    arb_request_id(NULL, fx->body, len, request_id);
    assert_string_equal(request_id, FIXTURE_REQUEST_ID);
    arb_records_plan(&event, RECEIVED_AT, &plan);
    fx->set = arb_records_build(&event, &plan, "airudder.messages", request_id, RECEIVED_AT);
    arb_json_scanner_destroy(scanner);
    assert_int_equal(fx->set->count, FIXTURE_RECORDS);
    *state = fx;
    return 0;
}

static int fixture_teardown(void **state)
{
    struct fixture *fx = *state;
    arb_recordset_destroy(fx->set);
    json_decref(fx->event);
    free(fx->body);
    free(fx);
    return 0;
}

/* The event record index must rebuild to: the fixture with messages = [its element]. */
static json_t *expected_event(const json_t *event, size_t index)
{
    json_t *expected = json_deep_copy(event);
    json_object_set_new(expected, "messages",
                        json_pack("[O]", json_array_get(json_object_get(event, "messages"),
                                                        index)));
    return expected;
}

/* The value of header name in delivery (after "name: "), or NULL; fails on a second one. */
static const char *header_value(const struct arb_delivery *delivery, const char *name)
{
    const char *found = NULL;
    size_t name_len = strlen(name);
    for (size_t i = 0; i < delivery->nheaders; i++) {
        const char *line = delivery->headers[i];
        if (strncmp(line, name, name_len) == 0 && strncmp(line + name_len, ": ", 2) == 0) {
            if (found != NULL)
                fail_msg("header %s sent twice", name);
            found = line + name_len + 2;
        }
    }
    return found;
}

static void build_ok(const struct arb_desk_conf *desk, const char *value, size_t len,
                     const char *request_id, struct arb_delivery *out)
{
    struct arb_error err = {0};
    struct arb_delivery_builder *builder = arb_delivery_builder_new(desk);
    memset(out, 0xa5, sizeof(*out)); /* build must not rely on a zeroed out */
    int rc = arb_delivery_build(builder, value, len, request_id, out, &err);
    arb_delivery_builder_destroy(builder);
    if (rc != 0)
        fail_msg("build failed: %s", err.message);
    assert_non_null(out->body);
    assert_int_equal(strlen(out->body), out->body_len);
}

/* ---- format event: every record of the example, under several signature settings ---- */

struct sign_case {
    const char *name;
    struct desk_spec desk;
    const char *key_id;      /* the key header's expected value, NULL: no key header */
    size_t sig_len;          /* the signature header value's exact length */
    const char *body_6_sig;  /* the exact signature of BODY_6, or NULL */
};

static const struct sign_case sign_cases[] = {
    {"sha256 hex",
     {ARB_DESK_EVENT, ENFORCE, SHA256, HEX, "", "", {{NULL, FIX_KEY}}},
     NULL, 64, BODY_6_SHA256_HEX},
    {"sha1 base64 with prefix",
     {ARB_DESK_EVENT, ENFORCE, SHA1, B64, "sha1=", "", {{NULL, FIX_KEY}}},
     NULL, 5 + 28, "sha1=" BODY_6_SHA1_B64},
    {"key header names the first secret",
     {ARB_DESK_EVENT, ENFORCE, SHA256, HEX, "sha256=", KEY_HEADER,
      {{"k-2024", FIX_KEY}, {"k-2023", "old-secret"}}},
     "k-2024", 7 + 64, "sha256=" BODY_6_SHA256_HEX},
    {"key header, but the first secret has no id",
     {ARB_DESK_EVENT, ENFORCE, SHA512, B64, "", KEY_HEADER, {{NULL, FIX_KEY}, {"k", "x"}}},
     NULL, 88, NULL},
};

static void check_signed(const struct sign_case *c, const struct arb_desk_conf *desk,
                         const struct arb_delivery *delivery, size_t i)
{
    struct arb_error err = {0};
    const char *sig = header_value(delivery, SIGN_HEADER);
    const char *key_id = header_value(delivery, KEY_HEADER);
    size_t want_headers = 2 + (c->key_id != NULL);

    if (delivery->nheaders != want_headers)
        fail_msg("%s, record %zu: %zu headers, want %zu", c->name, i, delivery->nheaders,
                 want_headers);
    assert_non_null(sig);
    assert_ptr_equal(sig, delivery->headers[0] + strlen(SIGN_HEADER ": ")); /* first */
    assert_int_equal(strlen(sig), c->sig_len);
    if (c->key_id != NULL) {
        assert_non_null(key_id);
        assert_string_equal(key_id, c->key_id);
        assert_ptr_equal(key_id, delivery->headers[1] + strlen(KEY_HEADER ": "));
    } else {
        assert_null(key_id);
    }
    if (arb_signature_verify(&desk->signature, NULL, sig, key_id, delivery->body,
                             delivery->body_len, &err) != 0)
        fail_msg("%s, record %zu: signature does not verify: %s", c->name, i, err.message);
    /* and it is over these bytes, not some other rendering */
    assert_int_equal(arb_signature_verify(&desk->signature, NULL, sig, key_id, delivery->body,
                                          delivery->body_len - 1, &err),
                     -1);
    if (c->key_id != NULL) /* the other secret's id does not verify it */
        assert_int_equal(arb_signature_verify(&desk->signature, NULL, sig, "k-2023", delivery->body,
                                              delivery->body_len, &err),
                         -1);
    if (i == 6 && desk->format == ARB_DESK_EVENT && c->body_6_sig != NULL)
        assert_string_equal(sig, c->body_6_sig); /* a known answer over BODY_6 */
}

static void test_event_format(void **state)
{
    const struct fixture *fx = *state;
    for (size_t k = 0; k < COUNT(sign_cases); k++) {
        const struct sign_case *c = &sign_cases[k];
        struct arb_desk_conf desk = make_desk(&c->desk);
        for (size_t i = 0; i < fx->set->count; i++) {
            const struct arb_record *record = &fx->set->records[i];
            struct arb_delivery delivery;
            char want_key[96], want_line[128];
            build_ok(&desk, record->value, record->value_len, FIXTURE_REQUEST_ID, &delivery);

            /* the body is the fixture with this one message, nothing else */
            json_t *body = json_loadb(delivery.body, delivery.body_len, JSON_REJECT_DUPLICATES,
                                      NULL);
            json_t *expected = expected_event(fx->event, i);
            if (!json_equal(body, expected))
                fail_msg("%s, record %zu: body is %s", c->name, i, delivery.body);
            json_decref(expected);
            json_decref(body);
            /* the sender's bytes: the message element is in the record value as it is */
            const char *element = strstr(delivery.body, "\"messages\":[") + 12;
            assert_non_null(memmem(record->value, record->value_len, element,
                                   delivery.body_len - (size_t)(element - delivery.body) - 2));
            if (i == 1)
                assert_string_equal(delivery.body, BODY_1);
            if (i == 6)
                assert_string_equal(delivery.body, BODY_6);

            check_signed(c, &desk, &delivery, i);

            snprintf(want_key, sizeof(want_key), FIXTURE_REQUEST_ID ":%zu", i);
            snprintf(want_line, sizeof(want_line), IDEMPOTENCY "%s", want_key);
            assert_string_equal(delivery.idempotency_key, want_key);
            assert_string_equal(delivery.headers[delivery.nheaders - 1], want_line);

            arb_delivery_clear(&delivery);
            assert_null(delivery.body);
            assert_int_equal(delivery.nheaders, 0);
        }
        arb_signature_conf_clear(&desk.signature);
    }
}

/* ---- format record: the value byte for byte, the same key ---- */

static void test_record_format(void **state)
{
    const struct fixture *fx = *state;
    const struct sign_case *c = &sign_cases[2]; /* prefix and key header */
    struct desk_spec spec = c->desk;
    spec.format = ARB_DESK_RECORD;
    struct arb_desk_conf desk = make_desk(&spec);

    for (size_t i = 0; i < fx->set->count; i++) {
        const struct arb_record *record = &fx->set->records[i];
        struct arb_delivery delivery;
        char want_key[96];
        build_ok(&desk, record->value, record->value_len, FIXTURE_REQUEST_ID, &delivery);

        assert_int_equal(delivery.body_len, record->value_len);
        assert_memory_equal(delivery.body, record->value, record->value_len);
        assert_ptr_not_equal(delivery.body, record->value); /* a copy */
        check_signed(c, &desk, &delivery, i);
        snprintf(want_key, sizeof(want_key), FIXTURE_REQUEST_ID ":%zu", i);
        assert_string_equal(delivery.idempotency_key, want_key);
        assert_string_equal(header_value(&delivery, "Idempotency-Key"), want_key);
        arb_delivery_clear(&delivery);
    }
    arb_signature_conf_clear(&desk.signature);
}

/* ---- mode off: no signature, no key id, only the Idempotency-Key ---- */

static void test_signature_off(void **state)
{
    const struct fixture *fx = *state;
    static const enum arb_desk_format formats[] = {ARB_DESK_EVENT, ARB_DESK_RECORD};
    for (size_t f = 0; f < COUNT(formats); f++) {
        struct desk_spec spec = {formats[f], OFF, SHA256, HEX, "sha256=", KEY_HEADER,
                                 {{"k-2024", FIX_KEY}}};
        struct arb_desk_conf desk = make_desk(&spec);
        const struct arb_record *record = &fx->set->records[6];
        struct arb_delivery delivery;
        build_ok(&desk, record->value, record->value_len, FIXTURE_REQUEST_ID, &delivery);
        assert_int_equal(delivery.nheaders, 1);
        assert_string_equal(delivery.headers[0], IDEMPOTENCY FIXTURE_REQUEST_ID ":6");
        if (formats[f] == ARB_DESK_EVENT)
            assert_string_equal(delivery.body, BODY_6);
        else
            assert_memory_equal(delivery.body, record->value, record->value_len);
        arb_delivery_clear(&delivery);
        arb_signature_conf_clear(&desk.signature);
    }

    /* off needs no secret at all */
    struct desk_spec spec = {ARB_DESK_EVENT, OFF, SHA256, HEX, "", "", {{NULL, NULL}}};
    struct arb_desk_conf desk = make_desk(&spec);
    struct arb_delivery delivery;
    build_ok(&desk, "{}", 2, "r", &delivery);
    assert_string_equal(delivery.body, "{}");
    assert_int_equal(delivery.nheaders, 1);
    assert_string_equal(delivery.headers[0], IDEMPOTENCY "r:0");
    arb_delivery_clear(&delivery);
    arb_signature_conf_clear(&desk.signature);
}

/* ---- request id: given, or the SHA-256 prefix of the value ---- */

static void test_request_id_fallback(void **state)
{
    const struct fixture *fx = *state;
    struct desk_spec spec = {ARB_DESK_RECORD, OFF, SHA256, HEX, "", "", {{NULL, NULL}}};
    struct arb_desk_conf desk = make_desk(&spec);
    static const char *const absent[] = {NULL, ""};

    for (size_t a = 0; a < COUNT(absent); a++) {
        for (size_t i = 0; i < fx->set->count; i++) {
            const struct arb_record *record = &fx->set->records[i];
            struct arb_delivery delivery;
            char id[ARB_REQUEST_ID_LEN + 1], want_key[96];
            arb_request_id(NULL, record->value, record->value_len, id);
            assert_string_not_equal(id, FIXTURE_REQUEST_ID); /* the value's, not the body's */
            build_ok(&desk, record->value, record->value_len, absent[a], &delivery);
            snprintf(want_key, sizeof(want_key), "%s:%zu", id, i);
            assert_string_equal(delivery.idempotency_key, want_key);
            arb_delivery_clear(&delivery);
        }
    }
    arb_signature_conf_clear(&desk.signature);
}

/* ---- small values: exact bodies and keys, and the failures ---- */

#define SMALL_VALUE                                                                             \
    "{\"event\":\"e\",\"call_id\":\"c\",\"message\":{\"msg_id\":\"m\"},\"message_index\":3,"    \
    "\"message_count\":4,\"received_at\":5}"
#define SMALL_VALUE_ID "c149fc1a623e9e70d99a9ca2aff5d954" /* sha256sum of SMALL_VALUE */
#define EMPTY_ID "e3b0c44298fc1c149afbf4c8996fb924"       /* sha256sum of nothing */
#define LONG_ID_93                                                                              \
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmno"
#define BUILDS ARB_E_OK, NULL
#define NOT_OBJECT "record value is not a JSON object"
#define LONG_KEY "request id too long for an Idempotency-Key"
#define CONTROL "header Idempotency-Key: control character in value"

struct value_case {
    const char *name;
    enum arb_desk_format format;
    const char *value; /* NULL: a null record value */
    const char *request_id;
    const char *body; /* NULL: the build fails */
    const char *key;
    enum arb_errcode code;
    const char *message;
};

static const struct value_case value_cases[] = {
    {"event: message back into messages", ARB_DESK_EVENT, SMALL_VALUE, "rid",
     "{\"event\":\"e\",\"call_id\":\"c\",\"messages\":[{\"msg_id\":\"m\"}]}", "rid:3", BUILDS},
    {"event: no request id", ARB_DESK_EVENT, SMALL_VALUE, NULL,
     "{\"event\":\"e\",\"call_id\":\"c\",\"messages\":[{\"msg_id\":\"m\"}]}",
     SMALL_VALUE_ID ":3", BUILDS},
    {"record: empty request id", ARB_DESK_RECORD, SMALL_VALUE, "", SMALL_VALUE,
     SMALL_VALUE_ID ":3", BUILDS},
    {"event: no message_index, no message", ARB_DESK_EVENT,
     "{\"event\":\"e\",\"call_id\":\"c\",\"messages\":[],\"message_count\":0,\"received_at\":1}",
     "rid", "{\"event\":\"e\",\"call_id\":\"c\",\"messages\":[]}", "rid:0", BUILDS},
    {"event: numbers and escapes as the sender wrote them", ARB_DESK_EVENT,
     "{\"x\":[0.1,1e3,-0],\"t\":\"\\u00e9\\ud83d\\udc49\\/\",\"message\":{},"
     "\"message_index\":1}",
     "rid", "{\"x\":[0.1,1e3,-0],\"t\":\"\\u00e9\\ud83d\\udc49\\/\",\"messages\":[{}]}",
     "rid:1", BUILDS},
    {"event: whitespace kept inside members, not between them", ARB_DESK_EVENT,
     " { \"a\" : 1 ,\n \"message\" : [ 2 ] , \"received_at\" : 3 } ", "rid",
     "{\"a\" : 1,\"messages\":[[ 2 ]]}", "rid:0", BUILDS},
    {"event: an escaped key is the key it spells", ARB_DESK_EVENT,
     "{\"mess\\u0061ge\":7,\"message_\\u0069ndex\":2,\"b\":0}", "rid",
     "{\"b\":0,\"messages\":[7]}", "rid:2", BUILDS},
    {"event: a message stands for an old messages member", ARB_DESK_EVENT,
     "{\"messages\":[1,2],\"message\":3}", "rid", "{\"messages\":[3]}", "rid:0", BUILDS},
    {"event: only the bridge's members", ARB_DESK_EVENT,
     "{\"message_index\":4,\"message_count\":5,\"received_at\":6}", "rid", "{}", "rid:4",
     BUILDS},
    {"event: a key twice is not an event", ARB_DESK_EVENT, "{\"a\":1,\"a\":2}", "rid", NULL,
     NULL, ARB_E_JSON, NOT_OBJECT},
    {"record: not JSON goes out as is", ARB_DESK_RECORD, "not json \x01\xff", "rid",
     "not json \x01\xff", "rid:0", BUILDS},
    {"record: message_index a string", ARB_DESK_RECORD, "{\"message_index\":\"2\"}", "rid",
     "{\"message_index\":\"2\"}", "rid:0", BUILDS},
    {"record: message_index negative", ARB_DESK_RECORD, "{\"message_index\":-1}", "rid",
     "{\"message_index\":-1}", "rid:0", BUILDS},
    {"record: message_index a real", ARB_DESK_RECORD, "{\"message_index\":2.0}", "rid",
     "{\"message_index\":2.0}", "rid:0", BUILDS},
    {"record: message_index nested only", ARB_DESK_RECORD, "{\"m\":{\"message_index\":2}}",
     "rid", "{\"m\":{\"message_index\":2}}", "rid:0", BUILDS},
    {"record: large message_index", ARB_DESK_RECORD, "{\"message_index\":9007199254740993}",
     "rid", "{\"message_index\":9007199254740993}", "rid:9007199254740993", BUILDS},
    {"record: empty value", ARB_DESK_RECORD, "", NULL, "", EMPTY_ID ":0", BUILDS},
    {"record: null value", ARB_DESK_RECORD, NULL, NULL, "", EMPTY_ID ":0", BUILDS},
    {"record: longest request id", ARB_DESK_RECORD, "{}", LONG_ID_93, "{}",
     LONG_ID_93 ":0", BUILDS},
    {"record: request id one too long", ARB_DESK_RECORD, "{}", LONG_ID_93 "p", NULL, NULL,
     ARB_E_INVALID, LONG_KEY},
    {"record: CR LF in the request id", ARB_DESK_RECORD, "{}", "r\r\nX-Evil: 1", NULL, NULL,
     ARB_E_INVALID, CONTROL},
    {"event: not JSON", ARB_DESK_EVENT, "not json", "rid", NULL, NULL, ARB_E_JSON, NOT_OBJECT},
    {"event: an array", ARB_DESK_EVENT, "[{\"event\":\"e\"}]", "rid", NULL, NULL, ARB_E_JSON,
     NOT_OBJECT},
    {"event: a string", ARB_DESK_EVENT, "\"s\"", "rid", NULL, NULL, ARB_E_JSON, NOT_OBJECT},
    {"event: empty value", ARB_DESK_EVENT, "", "rid", NULL, NULL, ARB_E_JSON, NOT_OBJECT},
    {"event: null value", ARB_DESK_EVENT, NULL, "rid", NULL, NULL, ARB_E_JSON, NOT_OBJECT},
    {"event: trailing garbage", ARB_DESK_EVENT, "{} x", "rid", NULL, NULL, ARB_E_JSON,
     NOT_OBJECT},
};

static void test_values(void **state)
{
    (void)state;
    for (size_t k = 0; k < COUNT(value_cases); k++) {
        const struct value_case *c = &value_cases[k];
        struct desk_spec spec = {c->format, OFF, SHA256, HEX, "", "", {{NULL, NULL}}};
        struct arb_desk_conf desk = make_desk(&spec);
        struct arb_delivery delivery;
        struct arb_error err = {0};
        size_t len = c->value ? strlen(c->value) : 0;

        struct arb_delivery_builder *builder = arb_delivery_builder_new(&desk);
        memset(&delivery, 0xa5, sizeof(delivery));
        int rc = arb_delivery_build(builder, c->value, len, c->request_id, &delivery, &err);
        arb_delivery_builder_destroy(builder);
        if (c->body == NULL) {
            if (rc != -1)
                fail_msg("%s: built, want an error", c->name);
            if (err.code != c->code || strcmp(err.message, c->message) != 0)
                fail_msg("%s: error %d \"%s\", want %d \"%s\"", c->name, err.code, err.message,
                         c->code, c->message);
            assert_null(delivery.body); /* left cleared: clearing again is harmless */
            assert_int_equal(delivery.nheaders, 0);
            if (c->value != NULL && len >= 4) /* names the problem, echoes nothing */
                assert_null(strstr(err.message, c->value));
            if (c->request_id != NULL && strlen(c->request_id) >= 4)
                assert_null(strstr(err.message, c->request_id));
        } else {
            char want_line[128];
            if (rc != 0)
                fail_msg("%s: %s", c->name, err.message);
            if (delivery.body_len != strlen(c->body) ||
                memcmp(delivery.body, c->body, delivery.body_len) != 0)
                fail_msg("%s: body is %s\nwant %s", c->name, delivery.body, c->body);
            assert_int_equal(delivery.body[delivery.body_len], '\0');
            assert_string_equal(delivery.idempotency_key, c->key);
            assert_int_equal(delivery.nheaders, 1);
            snprintf(want_line, sizeof(want_line), IDEMPOTENCY "%s", c->key);
            assert_string_equal(delivery.headers[0], want_line);
        }
        arb_delivery_clear(&delivery);
        arb_signature_conf_clear(&desk.signature);
    }
    arb_delivery_clear(NULL);
}

/* ---- fixed buffers: a header that does not fit is an error, never cut ---- */

#define SIG_LINE_FIXED (sizeof(SIGN_HEADER ": ") - 1 + 64) /* name, ": ", sha256 hex */

struct limit_case {
    const char *name;
    size_t prefix_len;   /* 'p' repeated */
    size_t key_id_len;   /* 'k' repeated, 0: no key header */
    size_t secrets;      /* 0 or 1 */
    enum arb_errcode code; /* ARB_E_OK: builds */
    const char *message;
};

static const struct limit_case limit_cases[] = {
    {"signature line of 511 bytes", ARB_DELIVERY_HEADER_MAX - 1 - SIG_LINE_FIXED, 0, 1, ARB_E_OK,
     NULL},
    {"signature line of 512 bytes", ARB_DELIVERY_HEADER_MAX - SIG_LINE_FIXED, 0, 1,
     ARB_E_INVALID, "header " SIGN_HEADER ": longer than 511 bytes"},
    {"prefix alone too long", ARB_DELIVERY_HEADER_MAX, 0, 1, ARB_E_INVALID,
     "desk.signature: prefix too long"},
    {"key line of 511 bytes", 0, ARB_DELIVERY_HEADER_MAX - 1 - sizeof(KEY_HEADER ": ") + 1, 1,
     ARB_E_OK, NULL},
    {"key line of 512 bytes", 0, ARB_DELIVERY_HEADER_MAX - sizeof(KEY_HEADER ": ") + 1, 1,
     ARB_E_INVALID, "header " KEY_HEADER ": longer than 511 bytes"},
    {"enforce without a secret", 0, 0, 0, ARB_E_INVALID, "no secret to sign with"},
};

static void test_limits(void **state)
{
    (void)state;
    for (size_t k = 0; k < COUNT(limit_cases); k++) {
        const struct limit_case *c = &limit_cases[k];
        char *prefix = arb_xcalloc(1, c->prefix_len + 1);
        char *key_id = arb_xcalloc(1, c->key_id_len + 1);
        memset(prefix, 'p', c->prefix_len);
        memset(key_id, 'k', c->key_id_len);
        struct desk_spec spec = {ARB_DESK_RECORD, ENFORCE, SHA256, HEX, prefix,
                                 c->key_id_len ? KEY_HEADER : "",
                                 {{key_id, c->secrets ? FIX_KEY : NULL}}};
        struct arb_desk_conf desk = make_desk(&spec);
        struct arb_delivery delivery;
        struct arb_error err = {0};

        struct arb_delivery_builder *builder = arb_delivery_builder_new(&desk);
        int rc = arb_delivery_build(builder, "{}", 2, "rid", &delivery, &err);
        arb_delivery_builder_destroy(builder);
        if (c->code == ARB_E_OK) {
            if (rc != 0)
                fail_msg("%s: %s", c->name, err.message);
            size_t n = c->key_id_len ? 3 : 2;
            assert_int_equal(delivery.nheaders, n);
            /* the line at the limit is whole: its signature or key id is all there */
            assert_int_equal(strlen(delivery.headers[n - 2]), ARB_DELIVERY_HEADER_MAX - 1);
            if (c->key_id_len > 0)
                assert_string_equal(header_value(&delivery, KEY_HEADER), key_id);
            assert_string_equal(delivery.headers[n - 1], IDEMPOTENCY "rid:0");
            if (arb_signature_verify(&desk.signature, NULL, header_value(&delivery, SIGN_HEADER),
                                     NULL, "{}", 2, &err) != 0)
                fail_msg("%s: %s", c->name, err.message);
        } else {
            if (rc != -1)
                fail_msg("%s: built, want an error", c->name);
            if (err.code != c->code || strcmp(err.message, c->message) != 0)
                fail_msg("%s: error %d \"%s\", want %d \"%s\"", c->name, err.code, err.message,
                         c->code, c->message);
            assert_null(delivery.body);
            assert_int_equal(delivery.nheaders, 0);
        }
        arb_delivery_clear(&delivery);
        arb_signature_conf_clear(&desk.signature);
        free(prefix);
        free(key_id);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_format),
        cmocka_unit_test(test_record_format),
        cmocka_unit_test(test_signature_off),
        cmocka_unit_test(test_request_id_fallback),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, fixture_setup, fixture_teardown);
}
