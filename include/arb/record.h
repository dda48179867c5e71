/* record.h - split a validated event into Kafka records (contract section 4).
 *
 * One record per element of messages[], in array order, keyed by call_id. The value is the
 * event's top-level fields except messages, in their order, then "message" (the element,
 * unknown fields and non-ASCII text kept), "message_index", "message_count" and
 * "received_at" (ms since the epoch). An event whose messages is absent or empty becomes one
 * record: the event as received plus "message_count": 0 and "received_at". Removing those
 * four added fields and putting "message" back as "messages": [message] rebuilds an event
 * (arb_record_rebuild_event). */
#ifndef ARB_RECORD_H
#define ARB_RECORD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "arb/error.h"
#include "arb/header.h"
#include "arb/route.h"

#define ARB_REQUEST_ID_LEN 32 /* hex characters */
#define ARB_RECORD_HEADERS_MAX 7

struct arb_record {
    char *value; /* owned, malloc'd; whoever hands it to librdkafka sets this to NULL */
    size_t value_len;
    struct arb_header headers[ARB_RECORD_HEADERS_MAX];
    size_t nheaders;
};

struct arb_recordset {
    json_t *event; /* a reference: header values and key point into it */
    const char *key; /* the call_id */
    size_t key_len;
    char topic[ARB_TOPIC_MAX + 1];
    char request_id[ARB_REQUEST_ID_LEN + 1];
    char received_at[24]; /* decimal ms, for the header */
    int64_t received_at_ms;
    struct arb_record *records;
    size_t count;
};

/* The request id of a body: the first 32 hex characters of SHA-256 over its raw bytes, so a
 * retried webhook gets the same id. */
void arb_request_id(const void *body, size_t len, char out[ARB_REQUEST_ID_LEN + 1]);

/* Split a validated event (see event.h) into records for topic. Takes its own reference to
 * event. */
int arb_recordset_new(json_t *event, const char *topic, const char *request_id,
                      int64_t received_at_ms, struct arb_recordset **out, struct arb_error *err);
void arb_recordset_destroy(struct arb_recordset *set);

/* Rebuild the AIRudder event a record came from: its value without the four added fields,
 * with "messages": [message] when it carries a message. Returns a new object or NULL with
 * err (ARB_E_JSON when value is not a JSON object). */
json_t *arb_record_rebuild_event(const char *value, size_t len, struct arb_error *err);

#endif
