/* record.h - split a checked event into Kafka records (contract section 4), by splicing the
 * body's own bytes.
 *
 * One record per element of messages, in array order, keyed by call_id. The value is the
 * event's top-level members except messages, in their order and as sent, then "message" (the
 * element, as sent: unknown fields, whitespace and escapes kept), "message_index",
 * "message_count" and "received_at" (ms since the epoch). An event whose messages is absent
 * or empty becomes one record: its members as sent plus "message_count": 0 and
 * "received_at". Nothing is re-serialised: members and elements are copied from the body.
 *
 * A plan measures the records before anything is built, so an event whose records would be
 * too many or too large is refused whole; the set is then one allocation holding every
 * value and header. */
#ifndef ARB_RECORD_H
#define ARB_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "arb/event.h"
#include "arb/header.h"
#include "arb/route.h"

#define ARB_REQUEST_ID_LEN 32 /* hex characters */
#define ARB_RECORD_HEADERS_MAX 7
/* What a record costs Kafka beyond its value, key and header bytes (the record's framing);
 * counted when comparing with message.max.bytes. */
#define ARB_RECORD_OVERHEAD 128

struct arb_record {
    const char *value; /* in the set's block */
    size_t value_len;
    struct arb_header headers[ARB_RECORD_HEADERS_MAX];
    size_t nheaders;
};

struct arb_record_plan {
    size_t count;   /* records */
    size_t bytes;   /* of their values and header text, together */
    size_t largest; /* one record as Kafka counts it: value, key, headers and overhead */
    size_t largest_index;
};

struct arb_recordset {
    char topic[ARB_TOPIC_MAX + 1];
    const char *key; /* the call_id */
    size_t key_len;
    char request_id[ARB_REQUEST_ID_LEN + 1];
    char received_at[24]; /* decimal ms, for the header */
    int64_t received_at_ms;
    size_t count;
    size_t bytes; /* the plan's */
    struct arb_record records[];
};

/* The request id of a body: the first 32 hex characters of SHA-256 over its raw bytes, so a
 * retried webhook gets the same id. sha256 is an EVP_MD_CTX the caller set up for SHA-256 and
 * reuses (one per thread), or NULL to compute one-shot. */
void arb_request_id(void *sha256, const void *body, size_t len, char out[ARB_REQUEST_ID_LEN + 1]);

void arb_records_plan(const struct arb_event *event, int64_t received_at_ms,
                      struct arb_record_plan *plan);

/* Build the records the plan measured. The set does not point into the body or the index:
 * it outlives both. */
struct arb_recordset *arb_records_build(const struct arb_event *event,
                                        const struct arb_record_plan *plan, const char *topic,
                                        const char *request_id, int64_t received_at_ms);
void arb_recordset_destroy(struct arb_recordset *set);

#endif
