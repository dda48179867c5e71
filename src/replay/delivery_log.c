/* delivery_log.c - the delivery log's producer (see delivery_log.h).
 *
 * A producer of the shared adapter (kafka_producer.h) with a thread of its own serving its
 * reports, a bounded queue (QUEUE_MAX records: a full one drops the record, counted), and
 * a short linger: these records are not latency-sensitive, so they go in batches. Values
 * are copied by librdkafka (RD_KAFKA_MSG_F_COPY), so nothing of the caller's is kept. Every
 * record shares one ticket, whose callback only counts. Failures are logged at most once
 * every LOG_INTERVAL_NS, with how many went unlogged in between. */
#include "delivery_log.h"
#include "kafka_producer.h"

#include "arb/clock.h"
#include "arb/log.h"
#include "arb/mem.h"
#include "arb/metrics.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_MAX "10000"
#define LINGER_MS "20"
#define MESSAGE_TIMEOUT_MS "30000"
#define LOG_INTERVAL_NS 10000000000LL
#define ORIGIN_MAX (ARB_TOPIC_MAX + 48)

struct arb_delivery_log {
    struct arb_kafka_ticket ticket; /* first: a report's ticket is the log */
    const struct arb_replay_conf *conf;
    char *mode;
    struct arb_kafka_producer *producer;
    atomic_uint_fast64_t written, failed, dropped, unlogged;
    atomic_int_fast64_t logged_ns; /* when a failure was last logged */
};

static const char *const producer_defaults[] = {
    "queue.buffering.max.messages", QUEUE_MAX,
    "linger.ms", LINGER_MS,
    "message.timeout.ms", MESSAGE_TIMEOUT_MS,
    NULL,
};

static void opts_of(const struct arb_replay_conf *conf, struct arb_kafka_producer_opts *opts)
{
    *opts = (struct arb_kafka_producer_opts){
        .kafka = &conf->kafka,
        .conf_file = conf->file,
        .client_id = "airudder-replay-delivery-log",
        .defaults = producer_defaults,
        .poll_thread = true,
        .wake_fd = -1,
    };
}

int arb_delivery_log_check_conf(const struct arb_replay_conf *conf,
                                struct arb_conf_errors *errors)
{
    struct arb_kafka_producer_opts opts;
    if (conf->delivery_log.topic[0] == '\0')
        return 0;
    opts_of(conf, &opts);
    return arb_kafka_producer_check(&opts, errors);
}

/* One line per LOG_INTERVAL_NS at most; the others are counted into the next. */
static void log_failure(struct arb_delivery_log *log, const char *what, const char *error)
{
    int64_t now = arb_now_ns(), last = atomic_load(&log->logged_ns);
    char unlogged[24];
    if ((last != 0 && now - last < LOG_INTERVAL_NS) ||
        !atomic_compare_exchange_strong(&log->logged_ns, &last, now)) {
        atomic_fetch_add(&log->unlogged, 1);
        return;
    }
    snprintf(unlogged, sizeof(unlogged), "%llu",
             (unsigned long long)atomic_exchange(&log->unlogged, 0));
    arb_log_kv(ARB_LOG_WARN, what, "topic", log->conf->delivery_log.topic, "error", error,
               "not_logged_since", unlogged, NULL);
}

static void on_report(struct arb_kafka_ticket *ticket, const struct arb_error *err)
{
    struct arb_delivery_log *log = (struct arb_delivery_log *)ticket;
    if (err == NULL) {
        atomic_fetch_add(&log->written, 1);
        return;
    }
    atomic_fetch_add(&log->failed, 1);
    log_failure(log, "delivery log record not written", err->message);
}

int arb_delivery_log_new(const struct arb_replay_conf *conf, const char *mode,
                         struct arb_delivery_log **out, struct arb_conf_errors *errors)
{
    struct arb_kafka_producer_opts opts;
    *out = NULL;
    if (conf->delivery_log.topic[0] == '\0')
        return 0;
    struct arb_delivery_log *log = arb_xcalloc(1, sizeof(*log));
    log->ticket.done = on_report;
    log->conf = conf;
    log->mode = arb_xstrdup(mode);
    opts_of(conf, &opts);
    log->producer = arb_kafka_producer_new(&opts, errors);
    if (log->producer == NULL) {
        arb_delivery_log_destroy(log, 0);
        return -1;
    }
    *out = log;
    return 0;
}

void arb_delivery_log_destroy(struct arb_delivery_log *log, int timeout_ms)
{
    if (log == NULL)
        return;
    arb_kafka_producer_destroy(log->producer, timeout_ms); /* purged records are counted failed */
    free(log->mode);
    free(log);
}

void arb_delivery_log_write(struct arb_delivery_log *log, const struct arb_outcome *outcome)
{
    struct arb_outcome mine;
    struct arb_buf value;
    struct arb_error err;
    char origin[ORIGIN_MAX];
    uint64_t generation;
    size_t produced;

    if (log == NULL)
        return;
    mine = *outcome;
    mine.mode = log->mode;
    arb_buf_init(&value);
    arb_outcome_encode(&mine, &value);
    snprintf(origin, sizeof(origin), "%s/%d/%lld", outcome->topic, (int)outcome->partition,
             (long long)outcome->offset);
    const char *status = arb_outcome_status_name(outcome->status);
    const struct arb_header headers[] = {
        {"airudder-call-id", outcome->call_id, outcome->call_id != NULL ? outcome->call_id_len : 0},
        {"airudder-outcome", status, strlen(status)},
        {"airudder-origin", origin, strlen(origin)},
    };
    const struct arb_kafka_message message = {
        .topic = log->conf->delivery_log.topic,
        .key = outcome->call_id,
        .key_len = outcome->call_id_len,
        .value = value.data,
        .value_len = value.len,
        .copy = true, /* librdkafka copies the value: ours is freed below */
        .headers = headers,
        .nheaders = sizeof(headers) / sizeof(headers[0]),
        .ticket = &log->ticket,
    };
    if (arb_kafka_producer_produce(log->producer, &message, 1, &generation, &produced, &err) != 0) {
        atomic_fetch_add(&log->dropped, 1);
        log_failure(log, "delivery log record dropped", err.message);
    }
    arb_buf_free(&value);
}

void arb_delivery_log_metrics(const struct arb_delivery_log *log, struct arb_buf *out)
{
    static const char records[] = "airudder_replay_delivery_log_records_total";
    arb_metric_family(out, records, "counter",
                      "Delivery-log records: written (acknowledged by Kafka), failed (refused or "
                      "not acknowledged in time), dropped (not queued: queue full, no producer).");
    arb_metric_sample(out, records, "result=\"written\"",
                      log != NULL ? (double)atomic_load(&log->written) : 0);
    arb_metric_sample(out, records, "result=\"failed\"",
                      log != NULL ? (double)atomic_load(&log->failed) : 0);
    arb_metric_sample(out, records, "result=\"dropped\"",
                      log != NULL ? (double)atomic_load(&log->dropped) : 0);
    if (log != NULL)
        arb_kafka_producer_metrics(log->producer, "replay_delivery_log", out);
}
