/* fuzz_ingest.c - the ingest decision as a whole (core/ingest.c) on any body, for an
 * endpoint of each schema that authenticates nobody, and on any signature for one that
 * does. Beyond not crashing or leaking: the outcome is one the contract knows (200 with
 * records, 400/413/422 with a dead letter or an answer, 401), records respect the limits and
 * never point into the body, and a dead letter is offered only for a refusal. */
#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arb/ingest.h"
#include "arb/json_index.h"
#include "conf_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char conf_text[] =
    "http = { max_body_bytes = 65536; max_record_bytes = 262144; max_records = 50; };\n"
    "endpoints = ( { path = \"/a\"; auth = \"none\"; },\n"
    "              { path = \"/b\"; schema = \"workflow.session.end\"; event = \"wf\"; auth = \"none\"; },\n"
    "              { path = \"/c\"; schema = \"generic\"; auth = \"none\"; },\n"
    "              { path = \"/d\"; signature = { secrets = [ \"k\" ]; }; } );\n"
    "routes = ( { event = \"*\"; topic = \"t.{event}\"; } );\n";

static struct arb_bridge_conf *conf;
static struct arb_ingest *ingest;

static void setup(void)
{
    struct arb_conf_errors errors = {0};
    CHECK(arb_bridge_conf_parse("fuzz.conf", conf_text, arb_fuzz_resolver(), &conf, &errors) == 0);
    ingest = arb_ingest_new(conf, 100000);
}

static void check_outcome(const struct arb_ingest_outcome *out, size_t len)
{
    switch (out->action) {
    case ARB_INGEST_PRODUCE:
        CHECK(out->status == 200 && out->records != NULL);
        CHECK(out->records->count >= 1 && out->records->count <= 50);
        CHECK(out->records->bytes <= 262144);
        break;
    case ARB_INGEST_DEADLETTER:
        CHECK(out->status == 400 || out->status == 413 || out->status == 422);
        CHECK(len + 512 <= 100000);
        break;
    case ARB_INGEST_ANSWER:
        CHECK(out->status == 400 || out->status == 413 || out->status == 422);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arb_ingest_outcome out;
    struct arb_answer answer;

    if (conf == NULL)
        setup();
    if (size < 1)
        return 0;
    size_t len = size - 1;
    char *body = calloc(1, len + ARB_JSON_PADDING);
    CHECK(body != NULL);
    memcpy(body, data + 1, len);
    struct arb_ingest_request req = {.endpoint = &conf->endpoints[data[0] % 4],
                                     .received_at_ms = 1720160400123LL};
    req.auth.body = body;
    req.auth.len = len;
    req.auth.signature = (struct arb_auth_header){"00", 2, 1};
    if (arb_ingest_authenticate(ingest, &req, &out) != 0) {
        CHECK(out.status == 401 && out.action == ARB_INGEST_ANSWER);
    } else {
        CHECK(req.endpoint->auth == ARB_AUTH_NONE);
        arb_ingest_decide(ingest, &req, &out);
        check_outcome(&out, len);
        memset(body, 'x', len); /* nothing the outcome keeps may point into the body */
        if (out.records != NULL)
            for (size_t i = 0; i < out.records->count; i++)
                CHECK(out.records->records[i].value_len > 0 &&
                      out.records->records[i].value[0] == '{');
    }
    arb_ingest_answer(&out, ARB_STORED_OK, &answer);
    CHECK(answer.status == out.status);
    arb_ingest_outcome_clear(&out);
    free(body);
    return 0;
}
