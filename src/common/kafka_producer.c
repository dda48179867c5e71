/* kafka_producer.c - the Kafka producer adapter (see kafka_producer.h).
 *
 * A generation is one rd_kafka_t with its health checker. The current one is read under a
 * read lock by producing threads; only the polling thread replaces it (write lock), so the
 * polling thread reads it freely. A generation dies when librdkafka raises a fatal error
 * (error_cb, served inside rd_kafka_poll on the polling thread): it is taken out of service,
 * its queued and in-flight messages are purged (their callbacks fail), the owner is told,
 * and the generation is polled until its queue is empty, then destroyed on a thread of its
 * own (rd_kafka_destroy may wait for broker threads). The restart policy (core/restart.c)
 * says when the next generation starts, or that it is time to give up. */
#include "kafka_producer.h"
#include "kafka.h"

#include "arb/log.h"
#include "arb/mem.h"
#include "arb/clock.h"
#include "arb/metrics.h"
#include "arb/restart.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#define POLL_INTERVAL_MS 10
#define MESSAGE_MAX_DEFAULT 1000000

struct generation {
    uint64_t number;
    rd_kafka_t *rk;
    rd_kafka_queue_t *wake_queue; /* owner-polled mode: the main queue, writing to wake_fd */
    struct arb_kafka_health *health;
    atomic_bool fatal;     /* librdkafka raised a fatal error */
    atomic_bool delivered; /* at least one acknowledgement */
    TAILQ_ENTRY(generation) link; /* in the retired list */
};

TAILQ_HEAD(generation_list, generation);

struct arb_kafka_producer {
    struct arb_kafka_producer_opts opts; /* defaults point to the copy below */
    char **defaults;
    pthread_rwlock_t lock;       /* current */
    struct generation *current;  /* NULL while waiting to restart */
    uint64_t last_number;
    struct generation_list retired; /* polling thread only */
    struct arb_restart_state restart;
    int64_t restart_at_ns;
    size_t max_message;

    pthread_t thread;
    bool thread_started;
    atomic_bool stopping, failed;
    atomic_uint_fast64_t restarts;
};

/* ---- configuration ---- */

static rd_kafka_conf_t *build_conf(const struct arb_kafka_producer_opts *opts,
                                   struct arb_conf_errors *errors)
{
    const char *const shared[] = {
        "client.id", opts->client_id,
        "acks", "all",
        "enable.idempotence", "true",
        "compression.codec", "lz4",
        "partitioner", "murmur2_random", /* the Java client's: same keys, same partitions */
        "log.connection.close", "false",
        NULL,
    };
    return arb_kafka_conf_build(opts->kafka, opts->conf_file, shared, opts->defaults, errors);
}

int arb_kafka_producer_check(const struct arb_kafka_producer_opts *opts,
                             struct arb_conf_errors *errors)
{
    rd_kafka_conf_t *kconf = build_conf(opts, errors);
    if (kconf == NULL)
        return -1;
    rd_kafka_conf_destroy(kconf);
    return 0;
}

static size_t message_max_of(rd_kafka_conf_t *kconf)
{
    char text[24];
    arb_kafka_conf_get(kconf, "message.max.bytes", text, sizeof(text));
    long long value = atoll(text);
    return value > 0 ? (size_t)value : MESSAGE_MAX_DEFAULT;
}

/* ---- librdkafka callbacks ---- */

static bool too_large(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
           err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE ||
           err == RD_KAFKA_RESP_ERR_INVALID_RECORD;
}

static void error_of(rd_kafka_resp_err_t kerr, struct arb_error *err)
{
    if (too_large(kerr)) {
        arb_error_set(err, ARB_E_TOO_LARGE, "%s", rd_kafka_err2str(kerr));
        return;
    }
    arb_error_set(err, ARB_E_KAFKA, "%s", rd_kafka_err2str(kerr));
    err->retriable = true;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    struct generation *gen = opaque;
    struct arb_kafka_ticket *ticket = msg->_private;
    struct arb_error err;
    (void)rk;

    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        atomic_store(&gen->delivered, true);
        arb_kafka_health_mark_up(gen->health); /* an acknowledgement is proof enough */
        ticket->done(ticket, NULL);
        return;
    }
    error_of(msg->err, &err); /* the owner logs what it makes of it */
    ticket->done(ticket, &err);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct generation *gen = opaque;
    char fatal_reason[512];

    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        rd_kafka_fatal_error(rk, fatal_reason, sizeof(fatal_reason));
        atomic_store(&gen->fatal, true);
        arb_log_kv(ARB_LOG_ERROR, "fatal producer error: starting a fresh producer", "error",
                   fatal_reason, NULL);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && gen->health != NULL)
        arb_kafka_health_mark_down(gen->health);
    arb_log_kv(ARB_LOG_WARN, "kafka error", "error", rd_kafka_err2name(err), "reason", reason,
               NULL);
}

/* ---- generations ---- */

static void generation_free(struct generation *gen)
{
    arb_kafka_health_stop(gen->health);
    if (gen->wake_queue != NULL)
        rd_kafka_queue_destroy(gen->wake_queue);
    if (gen->rk != NULL)
        rd_kafka_destroy(gen->rk);
    free(gen);
}

static struct generation *generation_new(struct arb_kafka_producer *producer,
                                         struct arb_conf_errors *errors)
{
    char errstr[512];
    struct generation *gen = arb_xcalloc(1, sizeof(*gen));
    rd_kafka_conf_t *kconf = build_conf(&producer->opts, errors);

    if (kconf == NULL) {
        free(gen);
        return NULL;
    }
    gen->number = ++producer->last_number;
    if (gen->number == 1)
        producer->max_message = message_max_of(kconf); /* the same for every generation */
    rd_kafka_conf_set_opaque(kconf, gen);
    rd_kafka_conf_set_dr_msg_cb(kconf, on_delivery);
    rd_kafka_conf_set_error_cb(kconf, on_error);
    gen->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kconf, errstr, sizeof(errstr));
    if (gen->rk == NULL) {
        rd_kafka_conf_destroy(kconf);
        arb_conf_errors_add(errors, producer->opts.conf_file, 0, "kafka: %s", errstr);
        free(gen);
        return NULL;
    }
    if (!producer->opts.poll_thread && producer->opts.wake_fd >= 0) {
        gen->wake_queue = rd_kafka_queue_get_main(gen->rk);
        rd_kafka_queue_io_event_enable(gen->wake_queue, producer->opts.wake_fd, "1", 1);
    }
    gen->health = arb_kafka_health_start(gen->rk);
    return gen;
}

static void *destroy_main(void *arg)
{
    generation_free(arg);
    return NULL;
}

/* Destroy an emptied generation without holding up the polling thread. */
static void generation_dispose(struct generation *gen)
{
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&thread, &attr, destroy_main, gen) != 0)
        generation_free(gen);
    pthread_attr_destroy(&attr);
}

static void set_current(struct arb_kafka_producer *producer, struct generation *gen)
{
    pthread_rwlock_wrlock(&producer->lock);
    producer->current = gen;
    pthread_rwlock_unlock(&producer->lock);
}

/* The current generation died: out of service, purged, the owner told, the next start
 * scheduled (or the end declared). */
static void retire_current(struct arb_kafka_producer *producer)
{
    struct generation *gen = producer->current;
    char generation[24];

    set_current(producer, NULL); /* no produce is under way on it once this returns */
    rd_kafka_purge(gen->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    TAILQ_INSERT_TAIL(&producer->retired, gen, link);
    atomic_fetch_add(&producer->restarts, 1);
    if (producer->opts.on_restart != NULL)
        producer->opts.on_restart(producer->opts.opaque, gen->number);

    int64_t delay_ms = arb_restart_after_death(&producer->restart, &arb_restart_default,
                                               atomic_load(&gen->delivered));
    snprintf(generation, sizeof(generation), "%llu", (unsigned long long)gen->number);
    if (delay_ms < 0) {
        arb_log_kv(ARB_LOG_ERROR, "producers keep failing: giving up", "generation",
                   generation, NULL);
        atomic_store(&producer->failed, true);
        return;
    }
    producer->restart_at_ns = arb_now_ns() + delay_ms * 1000000;
}

static void start_next(struct arb_kafka_producer *producer)
{
    struct arb_conf_errors errors = {0};
    struct generation *gen = generation_new(producer, &errors);
    if (gen == NULL) {
        for (size_t i = 0; i < errors.count; i++)
            arb_log_kv(ARB_LOG_ERROR, "cannot start a fresh producer", "error",
                       errors.messages[i], NULL);
        arb_conf_errors_clear(&errors);
        if (arb_restart_after_death(&producer->restart, &arb_restart_default, false) < 0)
            atomic_store(&producer->failed, true);
        producer->restart_at_ns = arb_now_ns() + arb_restart_default.base_ms * 1000000;
        return;
    }
    set_current(producer, gen);
    arb_log_kv(ARB_LOG_INFO, "fresh producer started", NULL);
}

/* Serve the retired generations' last reports; dispose of those that have none left. */
static void poll_retired(struct arb_kafka_producer *producer)
{
    struct generation *gen = TAILQ_FIRST(&producer->retired);
    while (gen != NULL) {
        struct generation *next = TAILQ_NEXT(gen, link);
        rd_kafka_poll(gen->rk, 0);
        if (rd_kafka_outq_len(gen->rk) == 0) {
            TAILQ_REMOVE(&producer->retired, gen, link);
            generation_dispose(gen);
        }
        gen = next;
    }
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

void arb_kafka_producer_poll(struct arb_kafka_producer *producer, int timeout_ms)
{
    struct generation *gen = producer->current;
    if (gen != NULL)
        rd_kafka_poll(gen->rk, timeout_ms);
    else if (producer->opts.poll_thread && timeout_ms > 0)
        sleep_ms(timeout_ms);
    poll_retired(producer);
    if (gen != NULL && atomic_load(&gen->fatal))
        retire_current(producer);
    if (producer->current == NULL && !atomic_load(&producer->failed) &&
        !atomic_load(&producer->stopping) && arb_now_ns() >= producer->restart_at_ns)
        start_next(producer);
}

static void *poll_main(void *arg)
{
    struct arb_kafka_producer *producer = arg;
    while (!atomic_load(&producer->stopping)) {
        arb_kafka_producer_poll(producer, POLL_INTERVAL_MS);
        if (producer->opts.tick != NULL)
            producer->opts.tick(producer->opts.opaque);
    }
    return NULL;
}

/* ---- the producer ---- */

/* The caller's NULL-terminated pairs, copied: a restart needs them long after _new. */
static char **copy_pairs(const char *const *pairs)
{
    size_t n = 0;
    while (pairs != NULL && pairs[n] != NULL)
        n++;
    char **copy = arb_xcalloc(n + 1, sizeof(*copy));
    for (size_t i = 0; i < n; i++)
        copy[i] = arb_xstrdup(pairs[i]);
    return copy;
}

struct arb_kafka_producer *arb_kafka_producer_new(const struct arb_kafka_producer_opts *opts,
                                                  struct arb_conf_errors *errors)
{
    struct arb_kafka_producer *producer = arb_xcalloc(1, sizeof(*producer));
    producer->opts = *opts;
    producer->defaults = copy_pairs(opts->defaults);
    producer->opts.defaults = (const char *const *)producer->defaults;
    pthread_rwlock_init(&producer->lock, NULL);
    TAILQ_INIT(&producer->retired);

    producer->current = generation_new(producer, errors);
    if (producer->current == NULL)
        goto fail;
    if (opts->poll_thread) {
        if (pthread_create(&producer->thread, NULL, poll_main, producer) != 0) {
            arb_conf_errors_add(errors, opts->conf_file, 0, "cannot start a producer thread");
            goto fail;
        }
        producer->thread_started = true;
    }
    return producer;
fail:
    arb_kafka_producer_destroy(producer, 0);
    return NULL;
}

/* Serve reports until rk has none outstanding. */
static void drain(rd_kafka_t *rk)
{
    while (rd_kafka_outq_len(rk) > 0)
        rd_kafka_poll(rk, POLL_INTERVAL_MS);
}

void arb_kafka_producer_destroy(struct arb_kafka_producer *producer, int timeout_ms)
{
    struct generation *gen;

    if (producer == NULL)
        return;
    atomic_store(&producer->stopping, true);
    if (producer->thread_started)
        pthread_join(producer->thread, NULL);
    gen = producer->current;
    if (gen != NULL) {
        if (rd_kafka_flush(gen->rk, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            char queued[24];
            snprintf(queued, sizeof(queued), "%d", rd_kafka_outq_len(gen->rk));
            arb_log_kv(ARB_LOG_WARN, "records left unacknowledged at shutdown", "queued",
                       queued, NULL);
        }
        /* Purged records still get their reports, which free what the owner tied to them. */
        rd_kafka_purge(gen->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        drain(gen->rk);
        generation_free(gen);
    }
    while ((gen = TAILQ_FIRST(&producer->retired)) != NULL) {
        TAILQ_REMOVE(&producer->retired, gen, link);
        drain(gen->rk);
        generation_free(gen);
    }
    pthread_rwlock_destroy(&producer->lock);
    for (size_t i = 0; producer->defaults[i] != NULL; i++)
        free(producer->defaults[i]);
    free(producer->defaults);
    free(producer);
}

/* ---- producing ---- */

static rd_kafka_headers_t *headers_of(const struct arb_kafka_message *msg)
{
    rd_kafka_headers_t *headers = rd_kafka_headers_new(msg->nheaders);
    for (size_t i = 0; i < msg->nheaders; i++)
        rd_kafka_header_add(headers, msg->headers[i].name, -1, msg->headers[i].value,
                            (ssize_t)msg->headers[i].len);
    return headers;
}

static rd_kafka_resp_err_t produce_one(rd_kafka_t *rk, const struct arb_kafka_message *msg)
{
    rd_kafka_headers_t *headers = headers_of(msg);
    int flags = msg->copy ? RD_KAFKA_MSG_F_COPY : 0;
    size_t key_len = msg->key != NULL ? msg->key_len : 0;
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(msg->topic), RD_KAFKA_V_MSGFLAGS(flags),
        RD_KAFKA_V_KEY(msg->key, key_len),
        RD_KAFKA_V_VALUE((void *)msg->value, msg->value_len), RD_KAFKA_V_HEADERS(headers),
        RD_KAFKA_V_TIMESTAMP(msg->timestamp_ms), RD_KAFKA_V_OPAQUE(msg->ticket), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        rd_kafka_headers_destroy(headers); /* on success librdkafka owns them */
    return err;
}

int arb_kafka_producer_produce(struct arb_kafka_producer *producer,
                               const struct arb_kafka_message *messages, size_t n,
                               uint64_t *generation, size_t *produced, struct arb_error *err)
{
    int rc = 0;

    *produced = 0;
    *generation = 0;
    pthread_rwlock_rdlock(&producer->lock);
    struct generation *gen = producer->current;
    if (gen == NULL || atomic_load(&gen->fatal) || atomic_load(&producer->stopping)) {
        arb_error_set(err, ARB_E_KAFKA, "no producer: a fresh one is starting");
        err->retriable = true;
        rc = -1;
        goto out;
    }
    *generation = gen->number;
    for (; *produced < n; (*produced)++) {
        rd_kafka_resp_err_t kerr = produce_one(gen->rk, &messages[*produced]);
        if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
            error_of(kerr, err);
            rc = -1;
            break;
        }
    }
out:
    pthread_rwlock_unlock(&producer->lock);
    return rc;
}

/* ---- state ---- */

bool arb_kafka_producer_ready(const struct arb_kafka_producer *producer)
{
    pthread_rwlock_rdlock((pthread_rwlock_t *)&producer->lock);
    const struct generation *gen = producer->current;
    bool ready = gen != NULL && !atomic_load(&gen->fatal) && arb_kafka_health_ok(gen->health);
    pthread_rwlock_unlock((pthread_rwlock_t *)&producer->lock);
    return ready;
}

bool arb_kafka_producer_failed(const struct arb_kafka_producer *producer)
{
    return atomic_load(&producer->failed);
}

size_t arb_kafka_producer_max_message(const struct arb_kafka_producer *producer)
{
    return producer->max_message;
}

void arb_kafka_producer_metrics(const struct arb_kafka_producer *producer, const char *prefix,
                                struct arb_buf *out)
{
    char restarts[96], queue[96];
    int depth = 0;

    snprintf(restarts, sizeof(restarts), "airudder_%s_producer_restarts_total", prefix);
    snprintf(queue, sizeof(queue), "airudder_%s_producer_queue_depth", prefix);
    pthread_rwlock_rdlock((pthread_rwlock_t *)&producer->lock);
    if (producer->current != NULL)
        depth = rd_kafka_outq_len(producer->current->rk);
    pthread_rwlock_unlock((pthread_rwlock_t *)&producer->lock);

    arb_metric_family(out, restarts, "counter",
                      "Fresh producers built after a fatal producer error.");
    arb_metric_sample(out, restarts, NULL, (double)atomic_load(&producer->restarts));
    arb_metric_family(out, queue, "gauge",
                      "Records and requests in librdkafka's queues, not yet acknowledged.");
    arb_metric_sample(out, queue, NULL, (double)depth);
}
