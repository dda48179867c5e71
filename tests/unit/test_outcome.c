/* test_outcome.c - the delivery log's record: written as the documented JSON, read back to
 * the same outcome, and anything else refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "arb/outcome.h"

static const struct arb_outcome DELIVERED = {
    .status = ARB_OUTCOME_DELIVERED,
    .mode = "service",
    .call_id = "66b4d7507d5a6618497600326f7b064b",
    .call_id_len = 32,
    .topic = "airudder.messages",
    .partition = 1,
    .offset = 42,
    .msg_id = "9fd6d067308944449c2ad4e9fb476a1e",
    .idempotency_key = "5d0ecaa90f39b7c09e8eea1c1854d308:3",
    .attempts = 1,
    .desk_status = 200,
    .first_attempt_ms = 1720160400123,
    .last_attempt_ms = 1720160400130,
    .done_ms = 1720160400131,
};

static void test_encode_is_the_documented_shape(void **state)
{
    (void)state;
    struct arb_buf out;
    arb_buf_init(&out);
    arb_outcome_encode(&DELIVERED, &out);
    assert_string_equal(out.data,
                        "{\"v\":1,\"status\":\"delivered\",\"mode\":\"service\","
                        "\"call_id\":\"66b4d7507d5a6618497600326f7b064b\","
                        "\"topic\":\"airudder.messages\",\"partition\":1,\"offset\":42,"
                        "\"msg_id\":\"9fd6d067308944449c2ad4e9fb476a1e\","
                        "\"idempotency_key\":\"5d0ecaa90f39b7c09e8eea1c1854d308:3\","
                        "\"attempts\":1,\"desk_status\":200,\"desk_error\":null,\"reason\":null,"
                        "\"first_attempt_at\":1720160400123,\"last_attempt_at\":1720160400130,"
                        "\"done_at\":1720160400131}");
    arb_buf_free(&out);
}

static void test_round_trip_of_a_dead_letter(void **state)
{
    (void)state;
    struct arb_outcome o = DELIVERED;
    o.status = ARB_OUTCOME_DEADLETTERED;
    o.mode = "resend";
    o.attempts = 7;
    o.desk_status = 0;
    o.desk_error = "Connection refused";
    o.reason = "gave up after 7 attempts in 60 s (no answer: Connection refused)";
    struct arb_buf out;
    arb_buf_init(&out);
    arb_outcome_encode(&o, &out);

    struct arb_outcome_parsed parsed;
    struct arb_error err;
    assert_int_equal(arb_outcome_parse(out.data, out.len, &parsed, &err), 0);
    const struct arb_outcome *p = &parsed.outcome;
    assert_int_equal(p->status, ARB_OUTCOME_DEADLETTERED);
    assert_string_equal(p->mode, "resend");
    assert_string_equal(p->call_id, o.call_id);
    assert_int_equal(p->call_id_len, 32);
    assert_string_equal(p->topic, "airudder.messages");
    assert_int_equal(p->partition, 1);
    assert_int_equal(p->offset, 42);
    assert_string_equal(p->msg_id, o.msg_id);
    assert_string_equal(p->idempotency_key, o.idempotency_key);
    assert_int_equal(p->attempts, 7);
    assert_int_equal(p->desk_status, 0);
    assert_string_equal(p->desk_error, "Connection refused");
    assert_string_equal(p->reason, o.reason);
    assert_int_equal(p->first_attempt_ms, o.first_attempt_ms);
    assert_int_equal(p->last_attempt_ms, o.last_attempt_ms);
    assert_int_equal(p->done_ms, o.done_ms);
    arb_outcome_parsed_clear(&parsed);
    arb_buf_free(&out);
}

/* A record the replay did not send, its key delivered already: "skipped", and back. */
static void test_round_trip_of_a_skipped_copy(void **state)
{
    (void)state;
    struct arb_outcome o = DELIVERED;
    o.status = ARB_OUTCOME_SKIPPED;
    o.attempts = 0;
    o.desk_status = 0;
    o.first_attempt_ms = o.last_attempt_ms = 0;
    struct arb_buf out;
    arb_buf_init(&out);
    arb_outcome_encode(&o, &out);
    assert_non_null(strstr(out.data, "\"status\":\"skipped\""));
    assert_string_equal(arb_outcome_status_name(ARB_OUTCOME_SKIPPED), "skipped");
    struct arb_outcome_parsed parsed;
    assert_int_equal(arb_outcome_parse(out.data, out.len, &parsed, NULL), 0);
    assert_int_equal(parsed.outcome.status, ARB_OUTCOME_SKIPPED);
    assert_string_equal(parsed.outcome.idempotency_key, o.idempotency_key);
    assert_int_equal(parsed.outcome.attempts, 0);
    arb_outcome_parsed_clear(&parsed);
    arb_buf_free(&out);
}

static void test_never_sent_has_null_times_and_key(void **state)
{
    (void)state;
    struct arb_outcome o = {
        .status = ARB_OUTCOME_DEADLETTERED,
        .call_id = "\xff\xfe", /* not UTF-8: null, not a broken string */
        .call_id_len = 2,
        .topic = "t",
        .reason = "cannot build the delivery: record value is not a JSON object",
    };
    struct arb_buf out;
    arb_buf_init(&out);
    arb_outcome_encode(&o, &out);
    assert_non_null(strstr(out.data, "\"call_id\":null"));
    assert_non_null(strstr(out.data, "\"mode\":\"service\""));
    assert_non_null(strstr(out.data, "\"idempotency_key\":null"));
    assert_non_null(strstr(out.data, "\"first_attempt_at\":null"));
    struct arb_outcome_parsed parsed;
    assert_int_equal(arb_outcome_parse(out.data, out.len, &parsed, NULL), 0);
    assert_null(parsed.outcome.call_id);
    assert_int_equal(parsed.outcome.first_attempt_ms, 0);
    arb_outcome_parsed_clear(&parsed);
    arb_buf_free(&out);
}

/* The hand-written encoder against Jansson's parser: escapes, UTF-8 kept, invalid UTF-8
 * (overlong, surrogate, cut, past U+10FFFF) as null. */
static void test_strings_are_escaped_or_null(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *out; /* NULL: null */
    } cases[] = {
        {"plain", "plain"},
        {"q\"uote\\back", "q\"uote\\back"},
        {"ctl\x01\n\t\x1f", "ctl\x01\n\t\x1f"},
        {"utf-8 \xe4\xb8\x80 \xf0\x9f\x91\x89", "utf-8 \xe4\xb8\x80 \xf0\x9f\x91\x89"},
        {"\xc0\xaf", NULL},         /* overlong '/' */
        {"\xed\xa0\x80", NULL},     /* a surrogate */
        {"\xe4\xb8", NULL},          /* cut */
        {"\xf4\x90\x80\x80", NULL}, /* past U+10FFFF */
        {"\xff", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct arb_outcome o = DELIVERED;
        o.reason = cases[i].in;
        o.msg_id = cases[i].in;
        struct arb_buf out;
        arb_buf_init(&out);
        arb_outcome_encode(&o, &out);
        struct arb_outcome_parsed parsed;
        assert_int_equal(arb_outcome_parse(out.data, out.len, &parsed, NULL), 0);
        if (cases[i].out == NULL) {
            assert_null(parsed.outcome.reason);
            assert_null(parsed.outcome.msg_id);
        } else {
            assert_string_equal(parsed.outcome.reason, cases[i].out);
            assert_string_equal(parsed.outcome.msg_id, cases[i].out);
        }
        arb_outcome_parsed_clear(&parsed);
        arb_buf_free(&out);
    }
}

static void test_refuses_what_is_not_a_record(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "not json",
        "[]",
        "{}",
        "{\"v\":2,\"status\":\"delivered\",\"topic\":\"t\",\"partition\":0,\"offset\":0}",
        "{\"v\":1,\"status\":\"lost\",\"topic\":\"t\",\"partition\":0,\"offset\":0}",
        "{\"v\":1,\"status\":\"delivered\",\"partition\":0,\"offset\":0}",
        "{\"v\":1,\"status\":\"delivered\",\"topic\":\"t\",\"partition\":-1,\"offset\":0}",
        "{\"v\":1,\"status\":\"delivered\",\"topic\":\"t\",\"partition\":0,\"offset\":\"0\"}",
        "{\"v\":1,\"status\":\"delivered\",\"topic\":\"t\",\"partition\":4294967296,\"offset\":0}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct arb_outcome_parsed parsed;
        struct arb_error err;
        assert_int_equal(arb_outcome_parse(bad[i], strlen(bad[i]), &parsed, &err), -1);
        assert_null(parsed.json);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_is_the_documented_shape),
        cmocka_unit_test(test_round_trip_of_a_dead_letter),
        cmocka_unit_test(test_round_trip_of_a_skipped_copy),
        cmocka_unit_test(test_never_sent_has_null_times_and_key),
        cmocka_unit_test(test_strings_are_escaped_or_null),
        cmocka_unit_test(test_refuses_what_is_not_a_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
