/* ingest.c - the bridge's decisions about a webhook (see ingest.h). */
#include "arb/ingest.h"
#include "arb/event.h"
#include "arb/json_index.h"
#include "arb/mem.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a dead letter costs Kafka beyond the body: its key and headers (the reason is at most
 * ARB_ERROR_MSG_MAX bytes). */
#define DEADLETTER_OVERHEAD (ARB_RECORD_OVERHEAD + ARB_ERROR_MSG_MAX + 256)

struct arb_ingest {
    const struct arb_bridge_conf *conf;
    size_t max_message;
    struct arb_json_scanner *scanner;
    EVP_MD_CTX *sha256; /* for the request id, reset per body */
    struct arb_signature_ctx **signatures; /* per endpoint, for those that check one */
};

/* A digest context set up for SHA-256 once (OpenSSL 3 looks the algorithm up per call),
 * or NULL: arb_request_id then computes one-shot. */
static EVP_MD_CTX *new_sha256(void)
{
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (md == NULL || ctx == NULL || !EVP_DigestInit_ex2(ctx, md, NULL)) {
        EVP_MD_CTX_free(ctx);
        ctx = NULL;
    }
    EVP_MD_free(md); /* the context holds its own reference */
    return ctx;
}

struct arb_ingest *arb_ingest_new(const struct arb_bridge_conf *conf, size_t max_message)
{
    struct arb_ingest *ingest = arb_xcalloc(1, sizeof(*ingest));
    ingest->conf = conf;
    ingest->max_message = max_message;
    ingest->scanner = arb_json_scanner_new((size_t)conf->http.max_body_bytes);
    ingest->sha256 = new_sha256();
    ingest->signatures = arb_xcalloc(conf->nendpoints, sizeof(ingest->signatures[0]));
    for (size_t i = 0; i < conf->nendpoints; i++)
        if (conf->endpoints[i].auth == ARB_AUTH_SIGNATURE)
            ingest->signatures[i] = arb_signature_ctx_new(conf->endpoints[i].signature);
    if (ingest->scanner == NULL)
        arb_out_of_memory("a JSON scanner");
    return ingest;
}

void arb_ingest_destroy(struct arb_ingest *ingest)
{
    if (ingest == NULL)
        return;
    arb_json_scanner_destroy(ingest->scanner);
    EVP_MD_CTX_free(ingest->sha256);
    for (size_t i = 0; i < ingest->conf->nendpoints; i++)
        arb_signature_ctx_destroy(ingest->signatures[i]);
    free(ingest->signatures);
    free(ingest);
}

static void answer_now(struct arb_ingest_outcome *out, int status, const char *error)
{
    out->action = ARB_INGEST_ANSWER;
    out->status = status;
    out->error = error;
}

int arb_ingest_authenticate(struct arb_ingest *ingest, const struct arb_ingest_request *req,
                            struct arb_ingest_outcome *out)
{
    const struct arb_endpoint_conf *endpoint = req->endpoint;

    memset(out, 0, sizeof(*out));
    size_t at = (size_t)(endpoint - ingest->conf->endpoints);
    struct arb_signature_ctx *signature =
        at < ingest->conf->nendpoints ? ingest->signatures[at] : NULL;
    if (arb_auth_check(endpoint, signature, &req->auth, &out->problem) != 0) {
        answer_now(out, 401, endpoint->auth == ARB_AUTH_SIGNATURE ? "invalid_signature"
                                                                  : "unauthorized");
        out->basic_challenge = endpoint->auth == ARB_AUTH_BASIC;
        out->quiet = true; /* the reason is logged, never told: it would help a forger */
        return -1;
    }
    arb_request_id(ingest->sha256, req->auth.body, req->auth.len, out->request_id);
    return 0;
}

/* Keep the body in the dead-letter topic, then answer status, when Kafka can take it. */
static void refuse_and_keep(struct arb_ingest *ingest, const struct arb_ingest_request *req,
                            struct arb_ingest_outcome *out, int status, const char *error,
                            const struct arb_json_node *call_id)
{
    out->status = status;
    out->error = error;
    if (req->auth.len + DEADLETTER_OVERHEAD > ingest->max_message) {
        out->action = ARB_INGEST_ANSWER; /* the refusal stands; nothing can keep the body */
        return;
    }
    out->action = ARB_INGEST_DEADLETTER;
    if (call_id != NULL)
        out->deadletter_key = arb_xstrndup(call_id->text, call_id->text_len);
}

/* The limits on what one event may cost, checked before anything is built. */
static int check_plan(const struct arb_ingest *ingest, const struct arb_record_plan *plan,
                      struct arb_error *err)
{
    const struct arb_http_conf *http = &ingest->conf->http;
    if (plan->count > (size_t)http->max_records)
        return arb_error_set(err, ARB_E_TOO_LARGE,
                             "%zu messages, over http.max_records (%d)", plan->count,
                             http->max_records);
    if (plan->bytes > (size_t)http->max_record_bytes)
        return arb_error_set(err, ARB_E_TOO_LARGE,
                             "its %zu records would take %zu bytes, over "
                             "http.max_record_bytes (%lld)",
                             plan->count, plan->bytes, (long long)http->max_record_bytes);
    if (plan->largest > ingest->max_message)
        return arb_error_set(err, ARB_E_TOO_LARGE,
                             "record %zu would take %zu bytes, over Kafka's "
                             "message.max.bytes (%zu)",
                             plan->largest_index, plan->largest, ingest->max_message);
    return 0;
}

void arb_ingest_decide(struct arb_ingest *ingest, const struct arb_ingest_request *req,
                       struct arb_ingest_outcome *out)
{
    const struct arb_endpoint_conf *endpoint = req->endpoint;
    const struct arb_bridge_conf *conf = ingest->conf;
    struct arb_event event;
    struct arb_record_plan plan;
    char topic[ARB_TOPIC_MAX + 1];
    char request_id[ARB_REQUEST_ID_LEN + 1];

    memcpy(request_id, out->request_id, sizeof(request_id)); /* from arb_ingest_authenticate */
    memset(out, 0, sizeof(*out));
    memcpy(out->request_id, request_id, sizeof(request_id));
    if (arb_event_parse(ingest->scanner, req->auth.body, req->auth.len, endpoint->schema,
                        endpoint->event, &event, &out->problem) != 0) {
        const struct arb_json_node *call_id = NULL;
        if (out->problem.code == ARB_E_SCHEMA)
            call_id = arb_event_peek_call_id(arb_json_scanner_last(ingest->scanner));
        refuse_and_keep(ingest, req, out, out->problem.code == ARB_E_JSON ? 400 : 422,
                        out->problem.code == ARB_E_JSON ? "invalid_json" : "invalid_event",
                        call_id);
        return;
    }
    const struct arb_route_fields fields = {
        .event = event.name,
        .event_len = event.name_len,
        .channel = event.channel != NULL ? event.channel->text : NULL,
        .channel_len = event.channel != NULL ? event.channel->text_len : 0,
        .company = event.company != NULL ? event.company->text : NULL,
        .company_len = event.company != NULL ? event.company->text_len : 0,
    };
    if (arb_route_topic(conf->routes, conf->nroutes, &fields, topic, &out->problem) != 0) {
        refuse_and_keep(ingest, req, out, 422, "invalid_event", event.call_id);
        return;
    }
    arb_records_plan(&event, req->received_at_ms, &plan);
    if (check_plan(ingest, &plan, &out->problem) != 0) {
        refuse_and_keep(ingest, req, out, 413, "event_too_large", event.call_id);
        return;
    }
    out->action = ARB_INGEST_PRODUCE;
    out->status = 200;
    out->records =
        arb_records_build(&event, &plan, topic, out->request_id, req->received_at_ms);
}

void arb_ingest_answer(const struct arb_ingest_outcome *outcome, enum arb_stored stored,
                       struct arb_answer *answer)
{
    const char *detail = outcome->problem.message[0] != '\0' && !outcome->quiet
                             ? outcome->problem.message
                             : NULL;

    *answer = (struct arb_answer){outcome->status, outcome->error, detail};
    if (outcome->action == ARB_INGEST_ANSWER)
        return;
    if (stored == ARB_STORED_RETRIABLE) /* not surely stored: the sender must try again */
        *answer = (struct arb_answer){503, "kafka_unavailable", NULL};
    else if (stored == ARB_STORED_TOO_LARGE && outcome->action == ARB_INGEST_PRODUCE)
        *answer = (struct arb_answer){413, "event_too_large",
                                      "a record is larger than Kafka accepts"};
    /* A dead letter too large for Kafka: the refusal stands, there is nothing to retry. */
}

void arb_ingest_outcome_clear(struct arb_ingest_outcome *outcome)
{
    arb_recordset_destroy(outcome->records);
    outcome->records = NULL;
    free(outcome->deadletter_key);
    outcome->deadletter_key = NULL;
}
