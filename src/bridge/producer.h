/* producer.h - durable produce for the bridge: a request is done only when Kafka acknowledged
 * every one of its records (acks=all, idempotent producer), or when one failed, or when its
 * deadline (kafka.ack_timeout_ms) passed, whichever comes first.
 *
 * A poll thread serves librdkafka's delivery reports and the deadlines; a health thread asks
 * the cluster for metadata to tell whether Kafka is reachable. Nothing here blocks the
 * caller: arb_producer_send enqueues and returns, and the done callback runs later (from the
 * poll thread, or from within arb_producer_send when everything finished at once). */
#ifndef ARB_PRODUCER_H
#define ARB_PRODUCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arb/buf.h"
#include "arb/config.h"
#include "arb/error.h"
#include "arb/record.h"

enum arb_produce_result {
    ARB_PRODUCE_OK = 0,    /* every record acknowledged */
    ARB_PRODUCE_FAILED,    /* a record failed (delivery report error) */
    ARB_PRODUCE_TIMEOUT,   /* not all acknowledged within the ack timeout */
    ARB_PRODUCE_REFUSED,   /* the local queue is full, or the producer is closing */
};

/* Called exactly once per send, possibly before the send returns. Must not block. */
typedef void arb_produce_done_fn(void *opaque, enum arb_produce_result result);

struct arb_producer;

/* Start the producer: problems with kafka.properties go to errors as file:line. */
struct arb_producer *arb_producer_new(const struct arb_bridge_conf *conf,
                                      struct arb_conf_errors *errors);

/* Flush what is queued (up to timeout_ms), then stop the threads and free everything. */
void arb_producer_destroy(struct arb_producer *producer, int timeout_ms);

/* Check kafka.properties without starting anything (for -t). */
int arb_producer_check_conf(const struct arb_bridge_conf *conf, struct arb_conf_errors *errors);

/* Produce every record of set (values are handed to librdkafka and set to NULL); done is
 * called exactly once with the outcome. */
void arb_producer_send(struct arb_producer *producer, struct arb_recordset *set,
                      arb_produce_done_fn *done, void *opaque);

/* Produce one dead letter: the raw body, keyed by call_id (may be NULL), with the dead-letter
 * headers of contract section 4. Same completion rules as arb_producer_send. */
struct arb_deadletter {
    const void *body;
    size_t len;
    const char *call_id;
    const char *reason;
    const char *request_id;
    int64_t received_at_ms;
};
void arb_producer_send_deadletter(struct arb_producer *producer,
                                 const struct arb_deadletter *letter,
                                 arb_produce_done_fn *done, void *opaque);

bool arb_producer_ready(const struct arb_producer *producer);
/* True after a fatal (idempotence) error: the process must stop and exit 2. */
bool arb_producer_fatal(const struct arb_producer *producer);
/* Answer every waiting send with ARB_PRODUCE_REFUSED (shutdown past its timeout). */
void arb_producer_abandon_waiting(struct arb_producer *producer);

void arb_producer_metrics(const struct arb_producer *producer, struct arb_buf *out);

#endif
