/* producer.c - durable produce for the bridge (see producer.h).
 *
 * Each send is a batch: a count of records without a delivery report, plus one "hold" the
 * sender keeps while it enqueues, so that reports arriving early cannot finish the batch
 * before its last record is even queued. The delivery-report callback counts down; the last
 * one answers the batch (OK, or FAILED if any record failed) and frees it. Batches also sit
 * in a list ordered by deadline (every batch has the same timeout, so arrival order is
 * deadline order): the poll thread answers TIMEOUT for those past it; their late reports
 * still count down and free them, but answer nothing. */
#include "producer.h"
#include "kafka.h"

#include "arb/log.h"
#include "arb/mem.h"
#include "arb/metrics.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLL_INTERVAL_MS 10

struct batch {
    struct batch *prev, *next; /* in the deadline list while not answered */
    struct arb_producer *producer;
    int64_t deadline_ns;
    atomic_int outstanding; /* records without a report, + 1 while the sender holds it */
    atomic_bool failed;
    bool deadletter; /* counts in the dead-letter metrics */
    bool answered; /* guarded by producer->lock */
    arb_produce_done_fn *done;
    void *opaque;
};

struct arb_producer {
    rd_kafka_t *rk;
    char *deadletter_topic;
    int64_t ack_timeout_ns;

    pthread_mutex_t lock; /* the deadline list and every batch's answered flag */
    struct batch *head, *tail;

    pthread_t poll_thread;
    struct arb_kafka_health *health;
    atomic_bool stopping, fatal;
    bool threads_started;

    atomic_uint_fast64_t records_ok, records_failed, deadletters_ok, deadletters_failed;
};

/* ---- batches ---- */

static void list_unlink(struct arb_producer *producer, struct batch *batch)
{
    if (batch->prev != NULL)
        batch->prev->next = batch->next;
    else
        producer->head = batch->next;
    if (batch->next != NULL)
        batch->next->prev = batch->prev;
    else
        producer->tail = batch->prev;
    batch->prev = batch->next = NULL;
}

static struct batch *batch_new(struct arb_producer *producer, int records,
                               arb_produce_done_fn *done, void *opaque)
{
    struct batch *batch = arb_xcalloc(1, sizeof(*batch));
    batch->producer = producer;
    batch->deadline_ns = arb_now_ns() + producer->ack_timeout_ns;
    atomic_init(&batch->outstanding, records + 1);
    atomic_init(&batch->failed, false);
    batch->done = done;
    batch->opaque = opaque;

    pthread_mutex_lock(&producer->lock);
    batch->prev = producer->tail;
    if (producer->tail != NULL)
        producer->tail->next = batch;
    else
        producer->head = batch;
    producer->tail = batch;
    pthread_mutex_unlock(&producer->lock);
    return batch;
}

/* Answer the batch unless it already was; the callback runs outside the lock. */
static void batch_answer(struct batch *batch, enum arb_produce_result result)
{
    struct arb_producer *producer = batch->producer;
    bool first;

    pthread_mutex_lock(&producer->lock);
    first = !batch->answered;
    if (first) {
        batch->answered = true;
        list_unlink(producer, batch);
    }
    pthread_mutex_unlock(&producer->lock);
    if (first)
        batch->done(batch->opaque, result);
}

/* Drop n references; the last one answers (if nobody did) and frees the batch. */
static void batch_release(struct batch *batch, int n)
{
    if (atomic_fetch_sub(&batch->outstanding, n) != n)
        return;
    batch_answer(batch, atomic_load(&batch->failed) ? ARB_PRODUCE_FAILED : ARB_PRODUCE_OK);
    free(batch);
}

/* Answer result to every unanswered batch whose deadline is at or before until, oldest
 * first; the callbacks run outside the lock. */
static void answer_until(struct arb_producer *producer, int64_t until,
                         enum arb_produce_result result)
{
    for (;;) {
        arb_produce_done_fn *done = NULL;
        void *opaque = NULL;
        pthread_mutex_lock(&producer->lock);
        struct batch *batch = producer->head;
        if (batch != NULL && batch->deadline_ns <= until) {
            batch->answered = true;
            list_unlink(producer, batch);
            done = batch->done;
            opaque = batch->opaque;
        }
        pthread_mutex_unlock(&producer->lock);
        if (done == NULL)
            return;
        done(opaque, result);
    }
}

/* The poll thread: answer TIMEOUT to every batch past its deadline. */
static void sweep_deadlines(struct arb_producer *producer)
{
    answer_until(producer, arb_now_ns(), ARB_PRODUCE_TIMEOUT);
}

void arb_producer_abandon_waiting(struct arb_producer *producer)
{
    answer_until(producer, INT64_MAX, ARB_PRODUCE_REFUSED);
}

/* ---- librdkafka callbacks ---- */

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    struct arb_producer *producer = opaque;
    struct batch *batch = msg->_private;
    (void)rk;

    if (msg->err) {
        atomic_store(&batch->failed, true);
        atomic_fetch_add(batch->deadletter ? &producer->deadletters_failed
                                           : &producer->records_failed, 1);
        arb_log_kv(ARB_LOG_WARN, "record not acknowledged", "topic",
                   rd_kafka_topic_name(msg->rkt), "error", rd_kafka_err2str(msg->err), NULL);
    } else {
        atomic_fetch_add(batch->deadletter ? &producer->deadletters_ok : &producer->records_ok,
                         1);
    }
    batch_release(batch, 1);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct arb_producer *producer = opaque;
    char fatal_reason[512];

    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        rd_kafka_fatal_error(rk, fatal_reason, sizeof(fatal_reason));
        atomic_store(&producer->fatal, true);
        arb_log_kv(ARB_LOG_ERROR, "fatal producer error", "error", fatal_reason, NULL);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && producer->health != NULL)
        arb_kafka_health_mark_down(producer->health);
    arb_log_kv(ARB_LOG_WARN, "kafka error", "error", rd_kafka_err2name(err), "reason", reason,
               NULL);
}

/* ---- threads ---- */

static void *poll_main(void *arg)
{
    struct arb_producer *producer = arg;
    while (!atomic_load(&producer->stopping)) {
        rd_kafka_poll(producer->rk, POLL_INTERVAL_MS);
        sweep_deadlines(producer);
    }
    return NULL;
}

/* ---- set-up ---- */

static rd_kafka_conf_t *build_conf(const struct arb_bridge_conf *conf,
                                   struct arb_conf_errors *errors)
{
    char timeout[16];
    snprintf(timeout, sizeof(timeout), "%d", conf->kafka.ack_timeout_ms);
    const char *const defaults[] = {
        "client.id", "airudder-bridge",
        "acks", "all",
        "enable.idempotence", "true",
        "compression.codec", "lz4",
        "linger.ms", "1", /* measured: 5 ms made a 64-connection sender latency-bound */
        "partitioner", "murmur2_random", /* the Java client's partitioner: same keys, same partitions */
        "message.timeout.ms", timeout,
        "log.connection.close", "false",
        NULL,
    };
    return arb_kafka_conf_build(&conf->kafka, conf->file, defaults, errors);
}

int arb_producer_check_conf(const struct arb_bridge_conf *conf, struct arb_conf_errors *errors)
{
    rd_kafka_conf_t *kconf = build_conf(conf, errors);
    if (kconf == NULL)
        return -1;
    rd_kafka_conf_destroy(kconf);
    return 0;
}

static void log_effective_settings(rd_kafka_conf_t *kconf)
{
    char acks[16], idempotence[16], compression[16];
    arb_kafka_conf_get(kconf, "acks", acks, sizeof(acks));
    arb_kafka_conf_get(kconf, "enable.idempotence", idempotence, sizeof(idempotence));
    arb_kafka_conf_get(kconf, "compression.codec", compression, sizeof(compression));
    arb_log_kv(ARB_LOG_INFO, "producer settings", "acks", acks, "enable.idempotence",
               idempotence, "compression.codec", compression, NULL);
    if (strcmp(acks, "-1") != 0 && strcmp(acks, "all") != 0)
        arb_log_kv(ARB_LOG_WARN, "acks is not all: a 200 no longer means every replica has "
                   "the records", NULL);
}

struct arb_producer *arb_producer_new(const struct arb_bridge_conf *conf,
                                      struct arb_conf_errors *errors)
{
    char errstr[512];
    struct arb_producer *producer = arb_xcalloc(1, sizeof(*producer));
    rd_kafka_conf_t *kconf = NULL;

    pthread_mutex_init(&producer->lock, NULL);
    producer->deadletter_topic = arb_xstrdup(conf->deadletter_topic);
    producer->ack_timeout_ns = (int64_t)conf->kafka.ack_timeout_ms * 1000000;

    kconf = build_conf(conf, errors);
    if (kconf == NULL)
        goto fail;
    log_effective_settings(kconf);
    rd_kafka_conf_set_opaque(kconf, producer);
    rd_kafka_conf_set_dr_msg_cb(kconf, on_delivery);
    rd_kafka_conf_set_error_cb(kconf, on_error);
    producer->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kconf, errstr, sizeof(errstr));
    if (producer->rk == NULL) {
        rd_kafka_conf_destroy(kconf);
        arb_conf_errors_add(errors, conf->file, 0, "kafka: %s", errstr);
        goto fail;
    }
    if (pthread_create(&producer->poll_thread, NULL, poll_main, producer) != 0) {
        arb_conf_errors_add(errors, conf->file, 0, "cannot start the producer's poll thread");
        goto fail;
    }
    producer->threads_started = true;
    producer->health = arb_kafka_health_start(producer->rk);
    return producer;
fail:
    arb_producer_destroy(producer, 0);
    return NULL;
}

static void stop_threads(struct arb_producer *producer)
{
    arb_kafka_health_stop(producer->health);
    producer->health = NULL;
    if (!producer->threads_started)
        return;
    atomic_store(&producer->stopping, true);
    pthread_join(producer->poll_thread, NULL);
    producer->threads_started = false;
}

void arb_producer_destroy(struct arb_producer *producer, int timeout_ms)
{
    if (producer == NULL)
        return;
    if (producer->rk != NULL) {
        if (rd_kafka_flush(producer->rk, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            char queued[24];
            snprintf(queued, sizeof(queued), "%d", rd_kafka_outq_len(producer->rk));
            arb_log_kv(ARB_LOG_WARN, "records left unacknowledged at shutdown", "queued",
                       queued, NULL);
        }
        /* Purged records still get delivery reports, which free their batches. */
        rd_kafka_purge(producer->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        while (rd_kafka_outq_len(producer->rk) > 0)
            rd_kafka_poll(producer->rk, POLL_INTERVAL_MS);
    }
    stop_threads(producer);
    arb_producer_abandon_waiting(producer);
    if (producer->rk != NULL)
        rd_kafka_destroy(producer->rk);
    pthread_mutex_destroy(&producer->lock);
    free(producer->deadletter_topic);
    free(producer);
}

/* ---- sending ---- */

static rd_kafka_headers_t *headers_of(const struct arb_record *record)
{
    rd_kafka_headers_t *headers = rd_kafka_headers_new(record->nheaders);
    for (size_t i = 0; i < record->nheaders; i++)
        rd_kafka_header_add(headers, record->headers[i].name, -1, record->headers[i].value,
                            (ssize_t)record->headers[i].len);
    return headers;
}

/* Enqueue one record; on success librdkafka owns value (freed with free()) and headers. */
static rd_kafka_resp_err_t produce(struct arb_producer *producer, const char *topic,
                                   const char *key, size_t key_len, void *value,
                                   size_t value_len, int msgflags, rd_kafka_headers_t *headers,
                                   int64_t timestamp_ms, struct batch *batch)
{
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(msgflags),
        RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE(value, value_len),
        RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_TIMESTAMP(timestamp_ms),
        RD_KAFKA_V_OPAQUE(batch), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        rd_kafka_headers_destroy(headers);
    return err;
}

static void refuse(struct batch *batch, int unsent, rd_kafka_resp_err_t err)
{
    arb_log_kv(ARB_LOG_WARN, "records refused by the producer", "error", rd_kafka_err2str(err),
               NULL);
    atomic_store(&batch->failed, true);
    batch_answer(batch, ARB_PRODUCE_REFUSED);
    batch_release(batch, unsent + 1); /* the unsent records and the sender's hold */
}

void arb_producer_send(struct arb_producer *producer, struct arb_recordset *set,
                       arb_produce_done_fn *done, void *opaque)
{
    struct batch *batch = batch_new(producer, (int)set->count, done, opaque);

    if (atomic_load(&producer->stopping) || atomic_load(&producer->fatal)) {
        refuse(batch, (int)set->count, RD_KAFKA_RESP_ERR__STATE);
        return;
    }
    for (size_t i = 0; i < set->count; i++) {
        struct arb_record *record = &set->records[i];
        rd_kafka_resp_err_t err = produce(producer, set->topic, set->key, set->key_len,
                                          record->value, record->value_len, RD_KAFKA_MSG_F_FREE,
                                          headers_of(record), set->received_at_ms, batch);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            refuse(batch, (int)(set->count - i), err);
            return;
        }
        record->value = NULL; /* librdkafka frees it after the delivery report */
    }
    batch_release(batch, 1);
}

void arb_producer_send_deadletter(struct arb_producer *producer,
                                  const struct arb_deadletter *letter,
                                  arb_produce_done_fn *done, void *opaque)
{
    struct batch *batch = batch_new(producer, 1, done, opaque);
    char received_at[24];
    batch->deadletter = true;
    rd_kafka_headers_t *headers = rd_kafka_headers_new(4);

    snprintf(received_at, sizeof(received_at), "%lld", (long long)letter->received_at_ms);
    rd_kafka_header_add(headers, "airudder-dlq-source", -1, "bridge", -1);
    rd_kafka_header_add(headers, "airudder-dlq-reason", -1, letter->reason, -1);
    rd_kafka_header_add(headers, "airudder-request-id", -1, letter->request_id, -1);
    rd_kafka_header_add(headers, "airudder-received-at", -1, received_at, -1);
    if (atomic_load(&producer->stopping) || atomic_load(&producer->fatal)) {
        rd_kafka_headers_destroy(headers);
        refuse(batch, 1, RD_KAFKA_RESP_ERR__STATE);
        return;
    }
    rd_kafka_resp_err_t err =
        produce(producer, producer->deadletter_topic, letter->call_id,
                letter->call_id ? strlen(letter->call_id) : 0, (void *)letter->body, letter->len,
                RD_KAFKA_MSG_F_COPY, headers, letter->received_at_ms, batch);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        refuse(batch, 1, err);
        return;
    }
    batch_release(batch, 1);
}

/* ---- state ---- */

bool arb_producer_ready(const struct arb_producer *producer)
{
    return producer->health != NULL && arb_kafka_health_ok(producer->health) &&
           !atomic_load(&producer->fatal);
}

bool arb_producer_fatal(const struct arb_producer *producer)
{
    return atomic_load(&producer->fatal);
}

void arb_producer_metrics(const struct arb_producer *producer, struct arb_buf *out)
{
    static const char records[] = "airudder_bridge_records_total";
    static const char deadletters[] = "airudder_bridge_deadletters_total";
    static const char queue[] = "airudder_bridge_producer_queue_depth";

    arb_metric_family(out, records, "counter", "Records produced to Kafka, by delivery result.");
    arb_metric_sample(out, records, "result=\"ok\"", (double)atomic_load(&producer->records_ok));
    arb_metric_sample(out, records, "result=\"failed\"",
                      (double)atomic_load(&producer->records_failed));
    arb_metric_family(out, deadletters, "counter",
                      "Signed but invalid bodies written to the dead-letter topic, by result.");
    arb_metric_sample(out, deadletters, "result=\"ok\"",
                      (double)atomic_load(&producer->deadletters_ok));
    arb_metric_sample(out, deadletters, "result=\"failed\"",
                      (double)atomic_load(&producer->deadletters_failed));
    arb_metric_family(out, queue, "gauge",
                      "Records and requests in librdkafka's queues, not yet acknowledged.");
    arb_metric_sample(out, queue, NULL, (double)rd_kafka_outq_len(producer->rk));
}
