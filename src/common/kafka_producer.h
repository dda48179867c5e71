/* kafka_producer.h - the one Kafka producer adapter: the bridge's records and both binaries'
 * dead letters go through it.
 *
 * It owns the librdkafka producer: the shared defaults (acks=all, idempotence, lz4, the Java
 * client's partitioner), delivery reports handed to each message's own callback, readiness,
 * and survival. librdkafka's fatal errors (an idempotent producer that lost its sequence)
 * are final for an rd_kafka_t, so the adapter keeps generations: on a fatal error it builds
 * a fresh rd_kafka_t in the same process and retires the old one. Every message produced on
 * the retired generation gets its callback with a failure (now, or when the purge reaches
 * it); none of them is ever reported acknowledged by another generation. The owner hears of
 * the switch (on_restart) to fail what it keeps per generation. When generations keep dying
 * without delivering anything, the adapter gives up (arb_kafka_producer_failed) and the
 * binary exits 2.
 *
 * Threading: with poll_thread set, a thread of the adapter serves delivery reports and calls
 * tick every few milliseconds; otherwise the owner calls arb_kafka_producer_poll on its own
 * loop (woken through wake_fd). Produce may be called from any thread. */
#ifndef ARB_KAFKA_PRODUCER_H
#define ARB_KAFKA_PRODUCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arb/buf.h"
#include "arb/config.h"
#include "arb/error.h"
#include "arb/header.h"

/* What a message's callback is told: err NULL when Kafka acknowledged it. An err has code
 * ARB_E_KAFKA, or ARB_E_TOO_LARGE when the record can never be stored (a retry cannot help:
 * err->retriable is false then). */
struct arb_kafka_ticket;
typedef void arb_kafka_done_fn(struct arb_kafka_ticket *ticket, const struct arb_error *err);

/* Embedded by the owner in whatever stands for the message (several messages may share
 * one); done is called once for each message produced with it, from the polling thread. */
struct arb_kafka_ticket {
    arb_kafka_done_fn *done;
};

struct arb_kafka_message {
    const char *topic;
    const char *key; /* may be NULL */
    size_t key_len;
    const void *value;
    size_t value_len;
    bool copy; /* librdkafka copies value; else value must live until done is called */
    const struct arb_header *headers;
    size_t nheaders;
    int64_t timestamp_ms; /* 0 = now */
    struct arb_kafka_ticket *ticket;
};

struct arb_kafka_producer_opts {
    const struct arb_kafka_conf *kafka;
    const char *conf_file;      /* for file:line errors of kafka.properties */
    const char *client_id;
    const char *const *defaults; /* more name/value pairs before kafka.properties, or NULL */
    bool poll_thread;
    int wake_fd; /* without poll_thread: written to when reports are waiting; -1 for none */
    /* Called on the polling thread, every few ms (poll_thread only), and after a switch to
     * a new generation, with the number of the retired one. Either may be NULL. */
    void (*tick)(void *opaque);
    void (*on_restart)(void *opaque, uint64_t retired_generation);
    void *opaque;
};

struct arb_kafka_producer;

/* Check the configuration only (for -t): librdkafka's complaints as file:line. */
int arb_kafka_producer_check(const struct arb_kafka_producer_opts *opts,
                             struct arb_conf_errors *errors);

struct arb_kafka_producer *arb_kafka_producer_new(const struct arb_kafka_producer_opts *opts,
                                                  struct arb_conf_errors *errors);

/* Flush (at most timeout_ms), purge the rest (their callbacks run with a failure), stop. */
void arb_kafka_producer_destroy(struct arb_kafka_producer *producer, int timeout_ms);

/* Produce n messages on one generation, whose number goes to *generation. On failure
 * (queue full: retriable; too large: not; no generation alive: retriable) the first
 * *produced messages were queued and their callbacks will run; the others' never will. */
int arb_kafka_producer_produce(struct arb_kafka_producer *producer,
                               const struct arb_kafka_message *messages, size_t n,
                               uint64_t *generation, size_t *produced, struct arb_error *err);

/* Serve delivery reports for at most timeout_ms (owner-polled mode). */
void arb_kafka_producer_poll(struct arb_kafka_producer *producer, int timeout_ms);

/* Kafka answers (metadata, or a delivery report more recent than any failure), and the
 * current generation is alive. */
bool arb_kafka_producer_ready(const struct arb_kafka_producer *producer);

/* Generations kept dying: the process should stop (exit 2). */
bool arb_kafka_producer_failed(const struct arb_kafka_producer *producer);

/* The largest message librdkafka accepts (message.max.bytes as configured). */
size_t arb_kafka_producer_max_message(const struct arb_kafka_producer *producer);

/* airudder_<prefix>_producer_restarts_total and _queue_depth. */
void arb_kafka_producer_metrics(const struct arb_kafka_producer *producer, const char *prefix,
                                struct arb_buf *out);

#endif
