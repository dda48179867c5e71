/* producer.c - durable produce for the bridge (see producer.h), over the shared Kafka
 * producer adapter (common/kafka_producer.c).
 *
 * Each send is a batch: a count of records without a delivery report, plus one "hold" the
 * sender keeps while it enqueues, so that reports arriving early cannot finish the batch
 * before its last record is even queued. Every record of a batch carries the batch's one
 * ticket; each report counts down, and the last one answers the batch (OK, or FAILED or
 * TOO_LARGE if a record failed) and frees it with the records it owns. Batches also sit in
 * a list ordered by deadline (every batch has the same timeout, so arrival order is deadline
 * order): the adapter's thread answers TIMEOUT for those past it, and FAILED for every batch
 * of a generation that died of a fatal error; their late reports still count down and free
 * them, but answer nothing. */
#include "producer.h"
#include "kafka.h"
#include "kafka_producer.h"

#include "arb/log.h"
#include "arb/mem.h"
#include "arb/clock.h"
#include "arb/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

/* Events of up to this many messages describe them to the adapter on the stack. */
#define STACK_MESSAGES 32

struct batch {
    struct arb_kafka_ticket ticket; /* shared by all its records */
    TAILQ_ENTRY(batch) link;        /* in the deadline list while not answered */
    struct arb_producer *producer;
    int64_t deadline_ns;
    uint64_t generation; /* the producer generation it went to; 0 until known */
    atomic_int outstanding; /* records without a report, + 1 while the sender holds it */
    atomic_bool failed, too_large;
    bool deadletter; /* counts in the dead-letter metrics */
    bool answered;   /* guarded by producer->lock */
    struct arb_recordset *set; /* the records' memory, freed with the batch */
    arb_produce_done_fn *done;
    void *opaque;
    arb_produce_settled_fn *settled; /* or NULL */
    void *settled_opaque;
};

TAILQ_HEAD(batch_list, batch);

struct arb_producer {
    struct arb_kafka_producer *kafka;
    char *deadletter_topic;
    int64_t ack_timeout_ns;

    pthread_mutex_t lock; /* the deadline list and every batch's answered flag */
    struct batch_list waiting;

    atomic_bool stopping;
    atomic_uint_fast64_t records_ok, records_failed, deadletters_ok, deadletters_failed;
};

/* ---- batches ---- */

static struct batch *batch_of(struct arb_kafka_ticket *ticket)
{
    return (struct batch *)((char *)ticket - offsetof(struct batch, ticket));
}

static void on_report(struct arb_kafka_ticket *ticket, const struct arb_error *err);

static struct batch *batch_new(struct arb_producer *producer, int records,
                               arb_produce_done_fn *done, void *opaque)
{
    struct batch *batch = arb_xcalloc(1, sizeof(*batch));
    batch->ticket.done = on_report;
    batch->producer = producer;
    batch->deadline_ns = arb_now_ns() + producer->ack_timeout_ns;
    atomic_init(&batch->outstanding, records + 1);
    atomic_init(&batch->failed, false);
    atomic_init(&batch->too_large, false);
    batch->done = done;
    batch->opaque = opaque;

    pthread_mutex_lock(&producer->lock);
    TAILQ_INSERT_TAIL(&producer->waiting, batch, link);
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
        TAILQ_REMOVE(&producer->waiting, batch, link);
    }
    pthread_mutex_unlock(&producer->lock);
    if (first)
        batch->done(batch->opaque, result);
}

static enum arb_produce_result outcome_of(const struct batch *batch)
{
    if (atomic_load(&batch->too_large))
        return ARB_PRODUCE_TOO_LARGE;
    return atomic_load(&batch->failed) ? ARB_PRODUCE_FAILED : ARB_PRODUCE_OK;
}

/* Drop n references; the last one answers (if nobody did), says what became of the records,
 * and frees the batch. */
static void batch_release(struct batch *batch, int n)
{
    if (atomic_fetch_sub(&batch->outstanding, n) != n)
        return;
    batch_answer(batch, outcome_of(batch));
    if (batch->settled != NULL)
        batch->settled(batch->settled_opaque, outcome_of(batch) == ARB_PRODUCE_OK);
    arb_recordset_destroy(batch->set);
    free(batch);
}

/* Answer result to the first unanswered batch that matches, oldest first, until none does;
 * the callbacks run outside the lock. */
static void answer_matching(struct arb_producer *producer,
                            bool (*matches)(const struct batch *batch, const void *arg),
                            const void *arg, bool stop_at_first_miss,
                            enum arb_produce_result result)
{
    for (;;) {
        arb_produce_done_fn *done = NULL;
        void *opaque = NULL;
        struct batch *batch;

        pthread_mutex_lock(&producer->lock);
        TAILQ_FOREACH(batch, &producer->waiting, link) {
            if (matches(batch, arg))
                break;
            if (stop_at_first_miss) {
                batch = NULL;
                break;
            }
        }
        if (batch != NULL) {
            batch->answered = true;
            TAILQ_REMOVE(&producer->waiting, batch, link);
            done = batch->done;
            opaque = batch->opaque;
        }
        pthread_mutex_unlock(&producer->lock);
        if (done == NULL)
            return;
        done(opaque, result);
    }
}

static bool due_by(const struct batch *batch, const void *arg)
{
    return batch->deadline_ns <= *(const int64_t *)arg;
}

static bool of_generation(const struct batch *batch, const void *arg)
{
    return batch->generation != 0 && batch->generation == *(const uint64_t *)arg;
}

/* The adapter's thread, every few ms: answer TIMEOUT to every batch past its deadline. */
static void sweep_deadlines(void *opaque)
{
    struct arb_producer *producer = opaque;
    int64_t now = arb_now_ns();
    answer_matching(producer, due_by, &now, true, ARB_PRODUCE_TIMEOUT);
}

/* A generation died: none of its batches may be answered OK any more. */
static void on_restart(void *opaque, uint64_t retired)
{
    answer_matching(opaque, of_generation, &retired, false, ARB_PRODUCE_FAILED);
}

void arb_producer_abandon_waiting(struct arb_producer *producer)
{
    int64_t forever = INT64_MAX;
    answer_matching(producer, due_by, &forever, true, ARB_PRODUCE_REFUSED);
}

/* ---- delivery reports ---- */

static void on_report(struct arb_kafka_ticket *ticket, const struct arb_error *err)
{
    struct batch *batch = batch_of(ticket);
    struct arb_producer *producer = batch->producer;

    if (err != NULL) {
        /* Logged once per batch: an outage fails every record of every request. */
        if (!atomic_exchange(&batch->failed, true))
            arb_log_kv(ARB_LOG_WARN, "record not acknowledged", "error", err->message, NULL);
        if (err->code == ARB_E_TOO_LARGE)
            atomic_store(&batch->too_large, true);
        atomic_fetch_add(batch->deadletter ? &producer->deadletters_failed
                                           : &producer->records_failed, 1);
    } else {
        atomic_fetch_add(batch->deadletter ? &producer->deadletters_ok : &producer->records_ok,
                         1);
    }
    batch_release(batch, 1);
}

/* ---- set-up ---- */

static void adapter_opts(const struct arb_bridge_conf *conf, struct arb_producer *producer,
                         const char *const *defaults, struct arb_kafka_producer_opts *opts)
{
    *opts = (struct arb_kafka_producer_opts){
        .kafka = &conf->kafka,
        .conf_file = conf->file,
        .client_id = "airudder-bridge",
        .defaults = defaults,
        .poll_thread = true,
        .wake_fd = -1,
        .tick = sweep_deadlines,
        .on_restart = on_restart,
        .opaque = producer,
    };
}

/* The bridge's own defaults, beyond the adapter's. message.timeout.ms is librdkafka's
 * (300 s), far above kafka.ack_timeout_ms: the answer deadline is the bridge's own timer,
 * and a record keeps being retried after its request was answered 503 (a short
 * message.timeout.ms made the idempotent producer's fatal "possibly persisted" errors
 * common). The queue bound keeps those records from taking unbounded memory. */
#define BRIDGE_DEFAULTS(limits)                                                            \
    {                                                                                      \
        "linger.ms", "1", /* measured: 5 ms made a 64-connection sender latency-bound */  \
        "queue.buffering.max.kbytes", (limits).queue_kb,                                   \
        "message.max.bytes", (limits).message_max,                                         \
        NULL,                                                                              \
    }

/* Sizes derived from the http limits: the queue holds twice the bytes in flight, and a
 * record as large as the largest body (plus its headers) is accepted, so that every body the
 * bridge reads can be stored or dead-lettered (the broker's own limit, max.message.bytes,
 * applies to the compressed batch). */
struct limits {
    char queue_kb[24], message_max[24];
};

static void limits_of(const struct arb_bridge_conf *conf, struct limits *limits)
{
    snprintf(limits->queue_kb, sizeof(limits->queue_kb), "%lld",
             (long long)(2 * conf->http.max_in_flight_bytes / 1024));
    snprintf(limits->message_max, sizeof(limits->message_max), "%lld",
             (long long)(conf->http.max_body_bytes + ARB_BRIDGE_RECORD_HEADROOM));
}

int arb_producer_check_conf(const struct arb_bridge_conf *conf, struct arb_conf_errors *errors)
{
    struct arb_kafka_producer_opts opts;
    struct limits limits;
    limits_of(conf, &limits);
    const char *const defaults[] = BRIDGE_DEFAULTS(limits);
    adapter_opts(conf, NULL, defaults, &opts);
    return arb_kafka_producer_check(&opts, errors);
}

struct arb_producer *arb_producer_new(const struct arb_bridge_conf *conf,
                                      struct arb_conf_errors *errors)
{
    struct arb_kafka_producer_opts opts;
    struct limits limits;
    struct arb_producer *producer = arb_xcalloc(1, sizeof(*producer));

    pthread_mutex_init(&producer->lock, NULL);
    TAILQ_INIT(&producer->waiting);
    producer->deadletter_topic = arb_xstrdup(conf->deadletter.topic);
    producer->ack_timeout_ns = (int64_t)conf->kafka.ack_timeout_ms * 1000000;

    limits_of(conf, &limits);
    const char *const defaults[] = BRIDGE_DEFAULTS(limits);
    adapter_opts(conf, producer, defaults, &opts);
    producer->kafka = arb_kafka_producer_new(&opts, errors);
    if (producer->kafka == NULL) {
        arb_producer_destroy(producer, 0);
        return NULL;
    }
    return producer;
}

void arb_producer_destroy(struct arb_producer *producer, int timeout_ms)
{
    if (producer == NULL)
        return;
    atomic_store(&producer->stopping, true);
    arb_kafka_producer_destroy(producer->kafka, timeout_ms); /* every report is in */
    arb_producer_abandon_waiting(producer);
    pthread_mutex_destroy(&producer->lock);
    free(producer->deadletter_topic);
    free(producer);
}

/* ---- sending ---- */

static void refuse(struct batch *batch, int unsent, const struct arb_error *err)
{
    arb_log_kv(ARB_LOG_WARN, "records refused by the producer", "error", err->message, NULL);
    atomic_store(&batch->failed, true);
    if (err->code == ARB_E_TOO_LARGE)
        atomic_store(&batch->too_large, true);
    batch_answer(batch, outcome_of(batch) == ARB_PRODUCE_TOO_LARGE ? ARB_PRODUCE_TOO_LARGE
                                                                    : ARB_PRODUCE_REFUSED);
    batch_release(batch, unsent + 1); /* the unsent records and the sender's hold */
}

static void set_generation(struct batch *batch, uint64_t generation)
{
    pthread_mutex_lock(&batch->producer->lock);
    batch->generation = generation;
    pthread_mutex_unlock(&batch->producer->lock);
}

/* Produce the batch's messages; then let go of the sender's hold. */
static void send_batch(struct arb_producer *producer, struct batch *batch,
                       const struct arb_kafka_message *messages, size_t n)
{
    struct arb_error err;
    uint64_t generation = 0;
    size_t produced = 0;

    if (atomic_load(&producer->stopping)) {
        arb_error_set(&err, ARB_E_KAFKA, "shutting down");
        refuse(batch, (int)n, &err);
        return;
    }
    int rc = arb_kafka_producer_produce(producer->kafka, messages, n, &generation, &produced,
                                        &err);
    set_generation(batch, generation);
    if (rc != 0) {
        refuse(batch, (int)(n - produced), &err);
        return;
    }
    batch_release(batch, 1);
}

void arb_producer_send(struct arb_producer *producer, struct arb_recordset *set,
                       arb_produce_done_fn *done, void *opaque, arb_produce_settled_fn *settled,
                       void *settled_opaque)
{
    struct batch *batch = batch_new(producer, (int)set->count, done, opaque);
    struct arb_kafka_message few[STACK_MESSAGES];
    struct arb_kafka_message *messages =
        set->count <= STACK_MESSAGES ? few : arb_xcalloc(set->count, sizeof(*messages));
    batch->settled = settled;
    batch->settled_opaque = settled_opaque;

    batch->set = set; /* owned by the batch from now on: freed after the last report */
    for (size_t i = 0; i < set->count; i++) {
        const struct arb_record *record = &set->records[i];
        messages[i] = (struct arb_kafka_message){
            .topic = set->topic,
            .key = set->key,
            .key_len = set->key_len,
            .value = record->value,
            .value_len = record->value_len,
            .headers = record->headers,
            .nheaders = record->nheaders,
            .timestamp_ms = set->received_at_ms,
            .ticket = &batch->ticket,
        };
    }
    send_batch(producer, batch, messages, set->count);
    if (messages != few)
        free(messages);
}

void arb_producer_send_deadletter(struct arb_producer *producer,
                                  const struct arb_deadletter *letter,
                                  arb_produce_done_fn *done, void *opaque)
{
    struct batch *batch = batch_new(producer, 1, done, opaque);
    char received_at[24];

    batch->deadletter = true;
    snprintf(received_at, sizeof(received_at), "%lld", (long long)letter->received_at_ms);
    const struct arb_header headers[] = {
        {"airudder-dlq-source", "bridge", strlen("bridge")},
        {"airudder-dlq-reason", letter->reason, strlen(letter->reason)},
        {"airudder-request-id", letter->request_id, strlen(letter->request_id)},
        {"airudder-received-at", received_at, strlen(received_at)},
    };
    const struct arb_kafka_message message = {
        .topic = producer->deadletter_topic,
        .key = letter->call_id,
        .key_len = letter->call_id != NULL ? strlen(letter->call_id) : 0,
        .value = letter->body,
        .value_len = letter->len,
        .copy = true,
        .headers = headers,
        .nheaders = sizeof(headers) / sizeof(headers[0]),
        .timestamp_ms = letter->received_at_ms,
        .ticket = &batch->ticket,
    };
    send_batch(producer, batch, &message, 1);
}

/* ---- state ---- */

bool arb_producer_ready(const struct arb_producer *producer)
{
    return arb_kafka_producer_ready(producer->kafka);
}

bool arb_producer_failed(const struct arb_producer *producer)
{
    return arb_kafka_producer_failed(producer->kafka);
}

size_t arb_producer_max_message(const struct arb_producer *producer)
{
    return arb_kafka_producer_max_message(producer->kafka);
}

void arb_producer_metrics(const struct arb_producer *producer, struct arb_buf *out)
{
    static const char records[] = "airudder_bridge_records_total";
    static const char deadletters[] = "airudder_bridge_deadletters_total";

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
    arb_kafka_producer_metrics(producer->kafka, "bridge", out);
}
