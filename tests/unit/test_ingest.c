/* test_ingest.c - the bridge's decisions about a webhook (core/ingest.c), the whole table:
 * who may send (401, quiet, with a Basic challenge for basic auth) and the request id (the
 * first 32 hex of SHA-256 of the body, computed here with OpenSSL's SHA256); what becomes of
 * a body (records to produce for the fixtures; 400, 422 for the schema and for no route, 413
 * for too many or too large records, each kept as a dead letter keyed by its call_id when
 * Kafka can take the body, else only answered); the answer once Kafka answered, for every
 * outcome and every way the store went; and what clearing an outcome frees. */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arb/ingest.h"

#include "support.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define RECEIVED_AT INT64_C(1720160400123)
#define KAFKA_MAX 1000000 /* message.max.bytes for cases about something else */

#define ENDPOINTS                                                                              \
    "signature = { secrets = [ \"s\" ]; };\n"                                                  \
    "endpoints = (\n"                                                                          \
    "  { path = \"/sig\"; },\n"                                                                \
    "  { path = \"/basic\"; auth = \"basic\";\n"                                               \
    "    basic = { users = ( { user = \"u\"; password = \"p\"; } ); }; },\n"                   \
    "  { path = \"/tok\"; auth = \"token\";\n"                                                 \
    "    token = { header = \"X-Token\"; secrets = [ \"t\" ]; }; },\n"                         \
    "  { path = \"/open\"; auth = \"none\"; },\n"                                              \
    "  { path = \"/wf\"; auth = \"none\"; schema = \"workflow.session.end\";\n"                \
    "    event = \"workflow.session.end\"; }\n"                                                \
    ");\n"                                                                                     \
    "routes = ( { event = \"channel.message.sent\"; topic = \"airudder.messages\"; },\n"       \
    "           { event = \"workflow.session.end\"; topic = \"airudder.{event}.{channel}\"; } );\n"

enum { SIG, BASIC, TOKEN, OPEN, WORKFLOW };
enum { PLAIN, SIX_RECORDS, SMALL_RECORDS, NCONFS };

static const char *const conf_texts[NCONFS] = {
    [PLAIN] = ENDPOINTS,
    [SIX_RECORDS] = ENDPOINTS "http = { max_records = 6; };\n",
    [SMALL_RECORDS] = ENDPOINTS "http = { max_record_bytes = 1024; };\n",
};

static struct arb_bridge_conf *confs[NCONFS];

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCONFS; i++)
        confs[i] = bridge_conf_of(conf_texts[i]);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCONFS; i++)
        arb_bridge_conf_destroy(confs[i]);
    return 0;
}

/* The request id the README promises, computed independently. */
static void expected_request_id(const char *body, size_t len, char out[ARB_REQUEST_ID_LEN + 1])
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)body, len, digest);
    for (size_t i = 0; i < ARB_REQUEST_ID_LEN / 2; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

static struct arb_auth_header once(const char *value)
{
    return (struct arb_auth_header){value, strlen(value), 1};
}

/* ---- who may send ------------------------------------------------------------------------ */

#define SIGNED_BODY "{\"event\":\"channel.message.sent\",\"call_id\":\"c1\"}"
/* printf '%s' SIGNED_BODY | openssl dgst -sha256 -hmac s */
#define SIGNED_SIG "a78138fd8441f338c65162d65b729d44f2474e284539341f8540a9036127daae"
#define WRONG_SIG "a78138fd8441f338c65162d65b729d44f2474e284539341f8540a9036127daaf"

struct auth_case {
    const char *name;
    int endpoint;
    const char *signature, *token, *authorization; /* NULL: absent */
    int rc;
    const char *error;   /* of a 401 */
    bool basic_challenge;
};

static const struct auth_case auth_cases[] = {
    {"signature valid", SIG, .signature = SIGNED_SIG, .rc = 0},
    {"signature wrong", SIG, .signature = WRONG_SIG, .rc = -1, .error = "invalid_signature"},
    {"signature missing", SIG, .rc = -1, .error = "invalid_signature"},
    {"basic valid", BASIC, .authorization = "Basic dTpw", .rc = 0},
    {"basic wrong", BASIC, .authorization = "Basic dTpx", .rc = -1, .error = "unauthorized",
     .basic_challenge = true},
    {"basic missing", BASIC, .rc = -1, .error = "unauthorized", .basic_challenge = true},
    {"token valid", TOKEN, .token = "t", .rc = 0},
    {"token wrong", TOKEN, .token = "u", .rc = -1, .error = "unauthorized"},
    {"token missing, credentials instead", TOKEN, .authorization = "Basic dTpw", .rc = -1,
     .error = "unauthorized"},
    {"none", OPEN, .rc = 0},
};

static void test_authenticate(void **state)
{
    (void)state;
    struct arb_ingest *ingest = arb_ingest_new(confs[PLAIN], KAFKA_MAX);
    char *body = padded_copy(SIGNED_BODY, strlen(SIGNED_BODY));
    char want_id[ARB_REQUEST_ID_LEN + 1];
    expected_request_id(SIGNED_BODY, strlen(SIGNED_BODY), want_id);
    for (size_t i = 0; i < COUNT(auth_cases); i++) {
        const struct auth_case *c = &auth_cases[i];
        struct arb_ingest_request req = {.endpoint = &confs[PLAIN]->endpoints[c->endpoint],
                                         .received_at_ms = RECEIVED_AT};
        struct arb_ingest_outcome out;
        struct arb_answer answer;
        req.auth.body = body;
        req.auth.len = strlen(SIGNED_BODY);
        if (c->signature != NULL)
            req.auth.signature = once(c->signature);
        if (c->token != NULL)
            req.auth.token = once(c->token);
        if (c->authorization != NULL)
            req.auth.authorization = once(c->authorization);
        print_message("case: %s\n", c->name);
        memset(&out, 0xA5, sizeof(out)); /* whatever the caller's memory held */
        assert_int_equal(arb_ingest_authenticate(ingest, &req, &out), c->rc);
        assert_null(out.records);
        assert_null(out.deadletter_key);
        if (c->rc == 0) {
            assert_string_equal(out.request_id, want_id);
            arb_ingest_outcome_clear(&out);
            continue;
        }
        assert_int_equal(out.action, ARB_INGEST_ANSWER);
        assert_int_equal(out.status, 401);
        assert_string_equal(out.error, c->error);
        assert_true(out.quiet);
        assert_int_equal(out.basic_challenge, c->basic_challenge);
        assert_true(out.problem.message[0] != '\0'); /* for the log */
        assert_int_equal(out.problem.code,
                         c->endpoint == SIG ? ARB_E_SIGNATURE : ARB_E_AUTH);
        /* quiet: the reason is logged, never told, whatever the store */
        for (int stored = ARB_STORED_OK; stored <= ARB_STORED_TOO_LARGE; stored++) {
            arb_ingest_answer(&out, (enum arb_stored)stored, &answer);
            assert_int_equal(answer.status, 401);
            assert_string_equal(answer.error, c->error);
            assert_null(answer.detail);
        }
        arb_ingest_outcome_clear(&out);
    }
    free(body);
    arb_ingest_destroy(ingest);
}

/* ---- what becomes of a body ------------------------------------------------------------ */

#define CALL_ID "66b4d7507d5a6618497600326f7b064b" /* of channel.message.sent.json */
#define WF_CALL_ID "a3f5c12ac59xxxxxxxxad71fe6a8ea3e" /* of workflow.session.end.json */
#define ONE_MESSAGE                                                                            \
    "{\"event\":\"channel.message.sent\",\"call_id\":\"big\",\"messages\":[{\"msg_id\":\"m\","  \
    "\"content\":{\"type\":\"text\",\"text\":\"a fairly long text, so that the record is "     \
    "larger than Kafka takes\"}}]}"

struct decide_case {
    const char *name;
    int conf;
    int endpoint;
    const char *fixture; /* tests/fixtures/<fixture>, or NULL for body */
    const char *body;
    size_t max_message; /* 0: the body's own length */
    enum arb_ingest_action action;
    int status;
    const char *error;
    enum arb_errcode code;
    const char *problem; /* the problem's message, or a part of it; "" for none */
    const char *deadletter_key;
    size_t records;
    const char *topic, *key;
};

/* The outcomes, by kind. */
#define PRODUCED(n, t, k)                                                                      \
    .max_message = KAFKA_MAX, .action = ARB_INGEST_PRODUCE, .status = 200, .problem = "",      \
    .records = n, .topic = t, .key = k
#define KEPT(s, e, c, p)                                                                       \
    .max_message = KAFKA_MAX, .action = ARB_INGEST_DEADLETTER, .status = s, .error = e,        \
    .code = c, .problem = p
#define ANSWERED(s, e, c, p) .action = ARB_INGEST_ANSWER, .status = s, .error = e, .code = c, \
                             .problem = p
#define FIXTURE(f) .fixture = f
#define BODY(b) .body = b

#define SCHEMA_BODY                                                                            \
    "{\"event\":\"channel.message.sent\",\"call_id\":\"c2\",\"messages\":[{\"content\":5}]}"
#define NO_ROUTE_BODY "{\"event\":\"other\",\"call_id\":\"c3\"}"
#define CMS "channel.message.sent.json"
#define WSE "workflow.session.end.json"
#define WF_TOPIC "airudder.workflow.session.end.WhatsApp"

static const struct decide_case decide_cases[] = {
    {"channel.message.sent: a record per message", PLAIN, OPEN, FIXTURE(CMS),
     PRODUCED(7, "airudder.messages", CALL_ID)},
    {"workflow.session.end: named by its endpoint, routed by its channel", PLAIN, WORKFLOW,
     FIXTURE(WSE), PRODUCED(3, WF_TOPIC, WF_CALL_ID)},
    {"no messages: one record", PLAIN, OPEN, BODY(SIGNED_BODY),
     PRODUCED(1, "airudder.messages", "c1")},
    {"not JSON: kept", PLAIN, OPEN, BODY("{\"call_id\": \"c\","),
     KEPT(400, "invalid_json", ARB_E_JSON, "line 1 column 16: string or '}' expected")},
    {"not JSON at all: kept", PLAIN, OPEN, BODY("call_id=c"),
     KEPT(400, "invalid_json", ARB_E_JSON, "line 1 column 4: invalid token")},
    {"not JSON, too large for Kafka: only answered", PLAIN, OPEN, BODY("{\"call_id\": \"c\","),
     ANSWERED(400, "invalid_json", ARB_E_JSON, "line 1 column 16: string or '}' expected")},
    {"schema: kept under its call_id", PLAIN, OPEN, BODY(SCHEMA_BODY),
     KEPT(422, "invalid_event", ARB_E_SCHEMA, "messages[0].content: expected object, got integer"),
     .deadletter_key = "c2"},
    {"schema: the call_id unescaped", PLAIN, OPEN, BODY("{\"call_id\":\"a\\u0062c\",\"event\":7}"),
     KEPT(422, "invalid_event", ARB_E_SCHEMA, "event: expected string, got integer"),
     .deadletter_key = "abc"},
    {"schema: no call_id, no key", PLAIN, OPEN, BODY("{\"event\":\"channel.message.sent\"}"),
     KEPT(422, "invalid_event", ARB_E_SCHEMA, "call_id: missing")},
    {"schema: a call_id not a string, no key", PLAIN, OPEN,
     BODY("{\"event\":\"channel.message.sent\",\"call_id\":5}"),
     KEPT(422, "invalid_event", ARB_E_SCHEMA, "call_id: expected string, got integer")},
    {"schema: not an object", PLAIN, OPEN, BODY("[1,2]"),
     KEPT(422, "invalid_event", ARB_E_SCHEMA, "$: expected object, got array")},
    {"schema: another endpoint's rules", PLAIN, WORKFLOW,
     BODY("{\"call_id\":\"w\",\"talk_round\":\"3\"}"),
     KEPT(422, "invalid_event", ARB_E_SCHEMA, "talk_round: expected integer, got string"),
     .deadletter_key = "w"},
    {"schema, too large for Kafka: only answered", PLAIN, OPEN, BODY(SCHEMA_BODY),
     ANSWERED(422, "invalid_event", ARB_E_SCHEMA,
              "messages[0].content: expected object, got integer")},
    {"no route: kept under its call_id", PLAIN, OPEN, BODY(NO_ROUTE_BODY),
     KEPT(422, "invalid_event", ARB_E_ROUTE, "event: no route for \"other\""),
     .deadletter_key = "c3"},
    {"no route, too large for Kafka: only answered", PLAIN, OPEN, BODY(NO_ROUTE_BODY),
     ANSWERED(422, "invalid_event", ARB_E_ROUTE, "event: no route for \"other\"")},
    {"over http.max_records: kept", SIX_RECORDS, OPEN, FIXTURE(CMS),
     KEPT(413, "event_too_large", ARB_E_TOO_LARGE, "7 messages, over http.max_records (6)"),
     .deadletter_key = CALL_ID},
    {"within http.max_records", SIX_RECORDS, WORKFLOW, FIXTURE(WSE),
     PRODUCED(3, WF_TOPIC, WF_CALL_ID)},
    {"over http.max_record_bytes: kept", SMALL_RECORDS, OPEN, FIXTURE(CMS),
     KEPT(413, "event_too_large", ARB_E_TOO_LARGE, "over http.max_record_bytes (1024)"),
     .deadletter_key = CALL_ID},
    {"over http.max_record_bytes, too large for Kafka: only answered", SMALL_RECORDS, OPEN,
     FIXTURE(CMS), ANSWERED(413, "event_too_large", ARB_E_TOO_LARGE,
                           "bytes, over http.max_record_bytes (1024)")},
    {"within http.max_record_bytes", SMALL_RECORDS, OPEN, BODY(SIGNED_BODY),
     PRODUCED(1, "airudder.messages", "c1")},
    /* sizes as Kafka counts them are the record module's (test_record.c): here, the shape */
    {"a record over Kafka's message.max.bytes", PLAIN, OPEN, BODY(ONE_MESSAGE),
     ANSWERED(413, "event_too_large", ARB_E_TOO_LARGE, "record 0 would take ")},
};

static void check_records(const struct decide_case *c, const struct arb_recordset *set,
                          const char *request_id, char *body, size_t len)
{
    assert_non_null(set);
    assert_int_equal(set->count, c->records);
    assert_string_equal(set->topic, c->topic);
    assert_int_equal(set->key_len, strlen(c->key));
    assert_memory_equal(set->key, c->key, set->key_len);
    assert_string_equal(set->request_id, request_id);
    assert_int_equal(set->received_at_ms, RECEIVED_AT);
    memset(body, 'x', len); /* the records outlive the body */
    for (size_t r = 0; r < set->count; r++) {
        const struct arb_record *record = &set->records[r];
        static const char received_at[] = "\"received_at\":1720160400123}";
        char index[96];
        snprintf(index, sizeof(index), "\"message_index\":%zu,\"message_count\":%zu,", r,
                 set->count);
        assert_true(record->value_len > sizeof(received_at) && record->value[0] == '{');
        assert_memory_equal(record->value + record->value_len - (sizeof(received_at) - 1),
                            received_at, sizeof(received_at) - 1);
        if (set->count > 1) /* an event without messages has no index */
            assert_non_null(memmem(record->value, record->value_len, index, strlen(index)));
        bool has_id = false;
        for (size_t h = 0; h < record->nheaders; h++)
            if (strcmp(record->headers[h].name, "airudder-request-id") == 0)
                has_id = record->headers[h].len == ARB_REQUEST_ID_LEN &&
                         memcmp(record->headers[h].value, request_id, ARB_REQUEST_ID_LEN) == 0;
        assert_true(has_id);
    }
    assert_memory_equal(set->key, c->key, set->key_len);
}

static void check_answers(const struct arb_ingest_outcome *out)
{
    struct arb_answer answer;
    const char *detail = out->problem.message[0] != '\0' ? out->problem.message : NULL;

    arb_ingest_answer(out, ARB_STORED_OK, &answer);
    assert_int_equal(answer.status, out->status);
    if (out->error != NULL)
        assert_string_equal(answer.error, out->error);
    else
        assert_null(answer.error);
    assert_ptr_equal(answer.detail, detail);
    if (out->action == ARB_INGEST_ANSWER) /* nothing was stored: the store does not matter */
        return;
    arb_ingest_answer(out, ARB_STORED_RETRIABLE, &answer);
    assert_int_equal(answer.status, 503);
    assert_string_equal(answer.error, "kafka_unavailable");
    assert_null(answer.detail);
}

static void test_decide(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(decide_cases); i++) {
        const struct decide_case *c = &decide_cases[i];
        size_t len = c->body != NULL ? strlen(c->body) : 0;
        char *text = c->fixture != NULL ? read_fixture(c->fixture, &len) : NULL;
        char *body = padded_copy(text != NULL ? text : c->body, len);
        struct arb_ingest *ingest =
            arb_ingest_new(confs[c->conf], c->max_message != 0 ? c->max_message : len);
        struct arb_ingest_request req = {.endpoint = &confs[c->conf]->endpoints[c->endpoint],
                                         .received_at_ms = RECEIVED_AT};
        struct arb_ingest_outcome out;
        char want_id[ARB_REQUEST_ID_LEN + 1];
        req.auth.body = body;
        req.auth.len = len;
        expected_request_id(body, len, want_id);
        print_message("case: %s\n", c->name);

        assert_int_equal(arb_ingest_authenticate(ingest, &req, &out), 0);
        arb_ingest_decide(ingest, &req, &out);
        assert_int_equal(out.action, c->action);
        assert_int_equal(out.status, c->status);
        assert_string_equal(out.request_id, want_id);
        assert_false(out.quiet);
        assert_false(out.basic_challenge);
        if (c->error != NULL)
            assert_string_equal(out.error, c->error);
        else
            assert_null(out.error);
        if (c->status != 200) {
            assert_int_equal(out.problem.code, c->code);
            if (strstr(out.problem.message, c->problem) == NULL)
                fail_msg("problem \"%s\" does not say \"%s\"", out.problem.message, c->problem);
            assert_null(out.records);
        }
        if (c->deadletter_key != NULL)
            assert_string_equal(out.deadletter_key, c->deadletter_key);
        else
            assert_null(out.deadletter_key);
        check_answers(&out);
        if (c->action == ARB_INGEST_PRODUCE)
            check_records(c, out.records, want_id, body, len);
        arb_ingest_outcome_clear(&out);
        assert_null(out.records);
        assert_null(out.deadletter_key);
        arb_ingest_outcome_clear(&out); /* twice: nothing left to free */
        arb_ingest_destroy(ingest);
        free(body);
        free(text);
    }
}

/* One ingest decides one body after another: nothing of a decision stays for the next. */
static void test_decisions_in_turn(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "{\"event\":\"other\",\"call_id\":\"k1\"}", SIGNED_BODY, "nope",
        "{\"event\":\"channel.message.sent\",\"call_id\":\"c9\",\"messages\":[{},{}]}",
    };
    static const int statuses[] = {422, 200, 400, 422};
    struct arb_ingest *ingest = arb_ingest_new(confs[PLAIN], KAFKA_MAX);
    for (size_t i = 0; i < COUNT(bodies); i++) {
        char *body = padded_copy(bodies[i], strlen(bodies[i]));
        struct arb_ingest_request req = {.endpoint = &confs[PLAIN]->endpoints[OPEN]};
        struct arb_ingest_outcome out;
        char want_id[ARB_REQUEST_ID_LEN + 1];
        req.auth.body = body;
        req.auth.len = strlen(bodies[i]);
        expected_request_id(body, req.auth.len, want_id);
        assert_int_equal(arb_ingest_authenticate(ingest, &req, &out), 0);
        arb_ingest_decide(ingest, &req, &out);
        assert_int_equal(out.status, statuses[i]);
        assert_string_equal(out.request_id, want_id);
        assert_int_equal(out.deadletter_key == NULL, statuses[i] != 422);
        assert_int_equal(out.problem.message[0] == '\0', statuses[i] == 200);
        arb_ingest_outcome_clear(&out);
        free(body);
    }
    arb_ingest_destroy(ingest);
    arb_ingest_destroy(NULL); /* like every destroy */
}

/* ---- the answer, for every outcome and store -------------------------------------------- */

#define TOO_LARGE_DETAIL "a record is larger than Kafka accepts"

struct answer_case {
    const char *name;
    enum arb_ingest_action action;
    int status;
    const char *error, *problem;
    bool quiet;
    enum arb_stored stored;
    struct arb_answer want;
};

static const struct answer_case answer_cases[] = {
    {"produced", ARB_INGEST_PRODUCE, 200, NULL, "", false, ARB_STORED_OK, {200, NULL, NULL}},
    {"produce: not surely", ARB_INGEST_PRODUCE, 200, NULL, "", false, ARB_STORED_RETRIABLE,
     {503, "kafka_unavailable", NULL}},
    {"produce: a record Kafka refused as too large", ARB_INGEST_PRODUCE, 200, NULL, "", false,
     ARB_STORED_TOO_LARGE, {413, "event_too_large", TOO_LARGE_DETAIL}},
    {"dead letter kept", ARB_INGEST_DEADLETTER, 422, "invalid_event", "call_id: missing", false,
     ARB_STORED_OK, {422, "invalid_event", "call_id: missing"}},
    {"dead letter not surely kept", ARB_INGEST_DEADLETTER, 400, "invalid_json", "line 1",
     false, ARB_STORED_RETRIABLE, {503, "kafka_unavailable", NULL}},
    {"dead letter too large for Kafka: the refusal stands", ARB_INGEST_DEADLETTER, 413,
     "event_too_large", "7 messages", false, ARB_STORED_TOO_LARGE,
     {413, "event_too_large", "7 messages"}},
    {"answer: the store does not matter (ok)", ARB_INGEST_ANSWER, 400, "invalid_json",
     "line 2", false, ARB_STORED_OK, {400, "invalid_json", "line 2"}},
    {"answer: the store does not matter (retriable)", ARB_INGEST_ANSWER, 422, "invalid_event",
     "no route", false, ARB_STORED_RETRIABLE, {422, "invalid_event", "no route"}},
    {"answer: the store does not matter (too large)", ARB_INGEST_ANSWER, 413,
     "event_too_large", "record 0", false, ARB_STORED_TOO_LARGE,
     {413, "event_too_large", "record 0"}},
    {"answer quiet: no detail", ARB_INGEST_ANSWER, 401, "unauthorized", "token does not match",
     true, ARB_STORED_OK, {401, "unauthorized", NULL}},
    {"answer without a problem: no detail", ARB_INGEST_ANSWER, 400, "invalid_json", "", false,
     ARB_STORED_OK, {400, "invalid_json", NULL}},
};

static void test_answer(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(answer_cases); i++) {
        const struct answer_case *c = &answer_cases[i];
        struct arb_ingest_outcome out = {.action = c->action, .status = c->status,
                                         .error = c->error, .quiet = c->quiet};
        struct arb_answer answer;
        snprintf(out.problem.message, sizeof(out.problem.message), "%s", c->problem);
        print_message("case: %s\n", c->name);
        arb_ingest_answer(&out, c->stored, &answer);
        assert_int_equal(answer.status, c->want.status);
        if (c->want.error != NULL)
            assert_string_equal(answer.error, c->want.error);
        else
            assert_null(answer.error);
        if (c->want.detail != NULL)
            assert_string_equal(answer.detail, c->want.detail);
        else
            assert_null(answer.detail);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_authenticate),
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_decisions_in_turn),
        cmocka_unit_test(test_answer),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
