/* outcome.h - the delivery log's record: what became of one record on its way to the desk.
 *
 * The replay writes one per record it finished (delivered: the desk answered 2xx;
 * dead-lettered: the dead-letter topic acknowledged it; skipped: not sent, its partition
 * delivered its Idempotency-Key within dedup.window_s) to delivery_log.topic, keyed by
 * call_id; the viewer reads them back and shows each under its message. The value is one
 * compact JSON object:
 *
 *   {"v":1,"status":"delivered","mode":"service","call_id":"66b4...","topic":"airudder.messages",
 *    "partition":1,"offset":42,"msg_id":"9fd6...","idempotency_key":"5d0e...:3","attempts":1,
 *    "desk_status":200,"desk_error":null,"reason":null,"first_attempt_at":1720160400123,
 *    "last_attempt_at":1720160400130,"done_at":1720160400131}
 *
 * status is "delivered", "dead-lettered" or "skipped"; mode "service" (the consumer group)
 * or "resend" (debug mode, the viewer's "re-send from here"); desk_status the desk's last
 * HTTP status (0: no answer, then desk_error says why); reason why it was dead-lettered;
 * times are ms since the epoch (null when the record was never sent: it could not even be
 * built, or was skipped). Pure. */
#ifndef ARB_OUTCOME_H
#define ARB_OUTCOME_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arb/buf.h"
#include "arb/error.h"

#define ARB_OUTCOME_VERSION 1

enum arb_outcome_status {
    ARB_OUTCOME_DELIVERED = 0,
    ARB_OUTCOME_DEADLETTERED,
    ARB_OUTCOME_SKIPPED, /* a copy the desk had: counts as done (service mode's dedup) */
};

struct arb_outcome {
    enum arb_outcome_status status;
    const char *mode;    /* "service", "resend"; NULL = "service" */
    const char *call_id; /* the record's key; NULL or not UTF-8: null */
    size_t call_id_len;
    const char *topic;
    int32_t partition;
    int64_t offset;
    const char *msg_id;          /* the record's airudder-msg-id header, or NULL */
    const char *idempotency_key; /* NULL when the delivery could not be built */
    unsigned attempts;
    long desk_status;       /* the desk's last HTTP status; 0 = no answer */
    const char *desk_error; /* why there was no answer, or NULL */
    const char *reason;     /* why it was dead-lettered, or NULL */
    int64_t first_attempt_ms, last_attempt_ms; /* 0 = never attempted */
    int64_t done_ms;
};

const char *arb_outcome_status_name(enum arb_outcome_status status);

/* The record's value (compact JSON) appended to out. */
void arb_outcome_encode(const struct arb_outcome *outcome, struct arb_buf *out);

/* A value read back. Its strings point into json, which the parsed outcome owns. */
struct arb_outcome_parsed {
    struct arb_outcome outcome;
    json_t *json;
};

/* -1 with err when the value is not a delivery-log record of a version this code reads
 * (not JSON, no "status", "topic", "partition" or "offset" of the right types). */
int arb_outcome_parse(const char *value, size_t len, struct arb_outcome_parsed *out,
                      struct arb_error *err);
void arb_outcome_parsed_clear(struct arb_outcome_parsed *parsed);

#endif
