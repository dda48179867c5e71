/* ingest.h - what becomes of a webhook whose head passed the edge (edge.h) and whose body is
 * in: the bridge's decisions, with no I/O. The HTTP server is its driver: it reads, calls,
 * stores what the outcome says, and answers what the outcome says.
 *
 *   arb_ingest_authenticate   the sender (auth.h), and the request id (SHA-256 of the body)
 *                             401 when the sender is not who the endpoint expects
 *   (the driver asks the dedup window whether the request id was answered 200 already)
 *   arb_ingest_decide         JSON (400), schema (422), route (422), size (413): each refusal
 *                             of an authenticated body keeps it in the dead-letter topic
 *                             (when Kafka can take it); else the records to produce
 *   arb_ingest_answer         once Kafka answered: 200 {}, the refusal, 503 (the sender
 *                             retries: nothing stored, or not surely), 413 (a record Kafka
 *                             refused as too large: a retry cannot help)
 *
 * An ingest holds what a thread needs to decide quickly (a JSON scanner, a fetched
 * SHA-256): one per thread. */
#ifndef ARB_INGEST_H
#define ARB_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arb/auth.h"
#include "arb/config.h"
#include "arb/error.h"
#include "arb/record.h"

struct arb_ingest_request {
    const struct arb_endpoint_conf *endpoint;
    struct arb_auth_request auth; /* the body is auth.body, auth.len, padded (json_index.h) */
    int64_t received_at_ms;
};

enum arb_ingest_action {
    ARB_INGEST_ANSWER,     /* answer now */
    ARB_INGEST_PRODUCE,    /* produce records, then arb_ingest_answer */
    ARB_INGEST_DEADLETTER, /* write the body to the dead-letter topic, then arb_ingest_answer */
};

struct arb_ingest_outcome {
    enum arb_ingest_action action;
    int status; /* 200 for PRODUCE; the refusal's for ANSWER and DEADLETTER */
    const char *error; /* e.g. "invalid_event"; NULL with 200 */
    struct arb_error problem; /* the detail of a refusal, and what is logged */
    bool quiet;               /* the problem is logged, not told (401) */
    bool basic_challenge;     /* a 401 of basic auth: add WWW-Authenticate */
    char request_id[ARB_REQUEST_ID_LEN + 1];
    struct arb_recordset *records; /* PRODUCE: the caller owns it from here */
    char *deadletter_key;          /* DEADLETTER: the call_id when known (malloc'd), or NULL */
};

/* How the store went. */
enum arb_stored { ARB_STORED_OK, ARB_STORED_RETRIABLE, ARB_STORED_TOO_LARGE };

struct arb_answer {
    int status;
    const char *error;  /* NULL: the body is {} */
    const char *detail; /* NULL for none */
};

struct arb_ingest;

/* max_message: the largest record Kafka's client accepts (message.max.bytes). */
struct arb_ingest *arb_ingest_new(const struct arb_bridge_conf *conf, size_t max_message);
void arb_ingest_destroy(struct arb_ingest *ingest);

/* 0 when the sender is authenticated (out->request_id is set); else -1 with out an ANSWER. */
int arb_ingest_authenticate(struct arb_ingest *ingest, const struct arb_ingest_request *req,
                            struct arb_ingest_outcome *out);

/* The body of an authenticated request: PRODUCE, DEADLETTER or ANSWER. */
void arb_ingest_decide(struct arb_ingest *ingest, const struct arb_ingest_request *req,
                       struct arb_ingest_outcome *out);

/* The answer to give, once what the outcome asked for was stored (or not). */
void arb_ingest_answer(const struct arb_ingest_outcome *outcome, enum arb_stored stored,
                       struct arb_answer *answer);

/* Frees what the outcome still owns (records not handed on, the key). */
void arb_ingest_outcome_clear(struct arb_ingest_outcome *outcome);

#endif
