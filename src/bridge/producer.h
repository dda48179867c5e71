/* producer.h - durable produce for the bridge: a request is done only when Kafka acknowledged
 * every one of its records (acks=all, idempotent producer), or when one failed, or when its
 * deadline (kafka.ack_timeout_ms) passed, or when the producer generation it went to died
 * of a fatal error, whichever comes first.
 *
 * The shared Kafka producer adapter's thread serves the delivery reports and the deadlines,
 * and replaces a producer that died (see kafka_producer.h). Nothing here blocks the caller:
 * arb_producer_send enqueues and returns, and the done callback runs later (from the
 * adapter's thread, or from within arb_producer_send when everything finished at once). */
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
    ARB_PRODUCE_REFUSED,   /* the local queue is full, or no producer is alive, or closing */
    ARB_PRODUCE_TOO_LARGE, /* a record can never be stored (over a size limit of Kafka's) */
};

/* Called exactly once per send, possibly before the send returns. Must not block. */
typedef void arb_produce_done_fn(void *opaque, enum arb_produce_result result);
/* Called once per send when its last delivery report is in (after done): whether every
 * record was stored, which is what a TIMEOUT or a FAILED answered early turned into. */
typedef void arb_produce_settled_fn(void *opaque, bool stored);

struct arb_producer;

/* What a record may take beyond the largest body: its headers and the bridge's fields. */
#define ARB_BRIDGE_RECORD_HEADROOM 65536

/* Start the producer: problems with kafka.properties go to errors as file:line. */
struct arb_producer *arb_producer_new(const struct arb_bridge_conf *conf,
                                      struct arb_conf_errors *errors);

/* Flush what is queued (up to timeout_ms), then stop the threads and free everything. */
void arb_producer_destroy(struct arb_producer *producer, int timeout_ms);

/* Check kafka.properties without starting anything (for -t). */
int arb_producer_check_conf(const struct arb_bridge_conf *conf, struct arb_conf_errors *errors);

/* Produce every record of set, which the producer owns from now on (it is freed after the
 * last delivery report); done is called exactly once with the outcome, then settled (may be
 * NULL) once with what became of every record. */
void arb_producer_send(struct arb_producer *producer, struct arb_recordset *set,
                       arb_produce_done_fn *done, void *opaque, arb_produce_settled_fn *settled,
                       void *settled_opaque);

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
/* True when fresh producers kept dying of fatal errors: the process must stop and exit 2. */
bool arb_producer_failed(const struct arb_producer *producer);
/* The largest record Kafka's client accepts (message.max.bytes). */
size_t arb_producer_max_message(const struct arb_producer *producer);
/* Answer every waiting send with ARB_PRODUCE_REFUSED (shutdown past its timeout). */
void arb_producer_abandon_waiting(struct arb_producer *producer);

void arb_producer_metrics(const struct arb_producer *producer, struct arb_buf *out);

#endif
