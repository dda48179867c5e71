/* service.c - service mode (see service.h).
 *
 * One thread runs everything: it polls the consumer (which also serves rebalances), hands
 * records to the pipeline, and lets the pipeline wait for the desk, woken early when the
 * consumer's queue gets records (librdkafka writes to a pipe then). Partitions, flow
 * control and offsets are service_group.c's: the committable offsets go to librdkafka each
 * turn, auto-commit sends them every second, and a stop commits synchronously. Whether the
 * consumer is polled at all is core/flow.c's. The admin endpoint's readiness and metrics
 * are put together here. */
#include "service.h"
#include "consumed.h"
#include "service_internal.h"

#include "arb/clock.h"
#include "arb/log.h"
#include "arb/mem.h"
#include "arb/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONSUME_BATCH 1000         /* records taken per loop turn at most */
#define LOOP_WAIT_MS 100           /* longest sleep: bounds how late a missed wake-up is seen */
#define LAG_INTERVAL_NS 1000000000 /* how often the lag gauges are refreshed */

/* ---- taking records ---- */

static void take(struct arb_service *svc, rd_kafka_message_t *msg)
{
    struct arb_header headers[ARB_JOB_HEADERS_MAX];
    struct arb_job_record record;
    int i = arb_service_part(svc, rd_kafka_topic_name(msg->rkt), msg->partition);
    if (i < 0 || !arb_service_assigned(svc, i))
        return; /* a straggler of a revoked partition */
    arb_consumed_job_record(msg, headers, &record);
    arb_pipeline_add(svc->pipeline, i, &record);
    if (arb_flow_took(svc->flow, i, arb_pipeline_pending(svc->pipeline, i)))
        arb_service_pause(svc, i);
}

/* Poll the consumer (which also serves rebalances) while the flow lets it; when stopping,
 * records still returned are not taken: their offsets are not stored, so a restart reads
 * them again. True when the consumer's queue was found empty. */
static bool consume(struct arb_service *svc, bool stopping)
{
    for (int n = 0; n < CONSUME_BATCH; n++) {
        if (!arb_flow_may_poll(svc->flow, arb_pipeline_total(svc->pipeline)))
            return false;
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(svc->consumer, 0);
        if (msg == NULL)
            return true;
        if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                arb_log_kv(ARB_LOG_WARN, "consumer error", "error",
                           rd_kafka_message_errstr(msg), NULL);
        } else if (!stopping) {
            take(svc, msg);
        }
        rd_kafka_message_destroy(msg);
    }
    return false;
}

/* ---- what the admin endpoint shows ---- */

static void refresh_lag(struct arb_service *svc)
{
    static const char lag[] = "airudder_replay_lag_records";
    struct arb_buf text;
    char labels[ARB_TOPIC_MAX + 48];

    arb_buf_init(&text);
    arb_metric_family(&text, lag, "gauge",
                      "Records in the partition not yet delivered (high watermark minus the "
                      "committable offset).");
    for (int i = 0; i < svc->nparts; i++) {
        struct part *part = &svc->parts[i];
        int64_t low = 0, high = 0;
        if (!arb_service_assigned(svc, i) ||
            rd_kafka_get_watermark_offsets(svc->consumer, part->topic, part->partition, &low,
                                           &high) != 0)
            continue;
        int64_t from = part->committable >= 0 ? part->committable : low;
        snprintf(labels, sizeof(labels), "topic=\"%s\",partition=\"%d\"", part->topic,
                 (int)part->partition);
        arb_metric_sample(&text, lag, labels, (double)(high > from ? high - from : 0));
    }
    pthread_mutex_lock(&svc->lag_lock);
    arb_buf_free(&svc->lag_metrics);
    svc->lag_metrics = text;
    pthread_mutex_unlock(&svc->lag_lock);
}

static bool admin_ready(void *opaque, char *why, size_t size)
{
    struct arb_service *svc = opaque;
    if (!arb_kafka_health_ok(svc->health)) {
        snprintf(why, size, "kafka_unreachable");
        return false;
    }
    if (!atomic_load(&svc->joined)) {
        snprintf(why, size, "not_in_group");
        return false;
    }
    if (!arb_pipeline_desk_reachable(svc->pipeline)) {
        snprintf(why, size, "desk_unreachable");
        return false;
    }
    return true;
}

static void admin_metrics(void *opaque, struct arb_buf *out)
{
    static const char paused[] = "airudder_replay_paused_partitions";
    struct arb_service *svc = opaque;
    arb_pipeline_metrics(svc->pipeline, out);
    arb_delivery_log_metrics(svc->delivery_log, out);
    arb_metric_family(out, paused, "gauge", "Partitions paused because their buffer is full.");
    arb_metric_sample(out, paused, NULL, (double)atomic_load(&svc->paused));
    pthread_mutex_lock(&svc->lag_lock);
    if (svc->lag_metrics.len > 0)
        arb_buf_append(out, svc->lag_metrics.data, svc->lag_metrics.len);
    pthread_mutex_unlock(&svc->lag_lock);
}

/* ---- set-up ---- */

static rd_kafka_conf_t *consumer_conf(const struct arb_replay_conf *conf,
                                      struct arb_conf_errors *errors)
{
    const char *const defaults[] = {
        "client.id", "airudder-replay",
        "group.id", conf->replay.group,
        "enable.auto.commit", "true",
        "auto.commit.interval.ms", "1000",
        "enable.auto.offset.store", "false",
        "auto.offset.reset", "earliest",
        /* Memory: about 4 MB prefetched, fetched 2 MB (256 KB a partition, compressed) at
         * a time; librdkafka's defaults (64 MB queue, 50 MB fetches) would dominate the
         * RSS. Small fetches cost no speed: the fetcher is woken as soon as the queue is
         * drained (fetch_waker.c), not only once a second. */
        "queued.max.messages.kbytes", "4096",
        "fetch.max.bytes", "2097152",
        "max.partition.fetch.bytes", "262144",
        "log.connection.close", "false",
        NULL,
    };
    return arb_kafka_conf_build(&conf->kafka, conf->file, defaults, NULL, errors);
}

int arb_service_check_conf(const struct arb_replay_conf *conf, struct arb_conf_errors *errors)
{
    rd_kafka_conf_t *kconf = consumer_conf(conf, errors);
    if (kconf != NULL)
        rd_kafka_conf_destroy(kconf);
    int pipeline = arb_pipeline_check_conf(conf, errors);
    /* The same kafka.properties again: only worth checking when they passed so far (its
     * own defaults are fixed), so a bad property is not reported once more. */
    int delivery_log = errors->count == 0 ? arb_delivery_log_check_conf(conf, errors) : 0;
    return pipeline == 0 && delivery_log == 0 && kconf != NULL ? 0 : -1;
}

static int start_consumer(struct arb_service *svc, struct arb_conf_errors *errors)
{
    char errstr[512];
    rd_kafka_conf_t *kconf = consumer_conf(svc->conf, errors);
    if (kconf == NULL)
        return -1;
    rd_kafka_conf_set_opaque(kconf, svc);
    rd_kafka_conf_set_rebalance_cb(kconf, arb_service_on_rebalance);
    rd_kafka_conf_set_error_cb(kconf, arb_service_on_error);
    svc->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, kconf, errstr, sizeof(errstr));
    if (svc->consumer == NULL) {
        rd_kafka_conf_destroy(kconf);
        arb_conf_errors_add(errors, svc->conf->file, 0, "kafka: %s", errstr);
        return -1;
    }
    rd_kafka_poll_set_consumer(svc->consumer);
    svc->queue = rd_kafka_queue_get_consumer(svc->consumer);
    rd_kafka_queue_io_event_enable(svc->queue, svc->wake[1], "1", 1);

    rd_kafka_topic_partition_list_t *topics =
        rd_kafka_topic_partition_list_new((int)svc->conf->replay.ntopics);
    for (size_t i = 0; i < svc->conf->replay.ntopics; i++)
        rd_kafka_topic_partition_list_add(topics, svc->conf->replay.topics[i],
                                          RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(svc->consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        arb_conf_errors_add(errors, svc->conf->file, 0, "replay.topics: %s",
                            rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

static int open_pipe(int fds[2])
{
    if (pipe(fds) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    }
    return 0;
}

static void write_outcome(void *opaque, const struct arb_outcome *outcome)
{
    arb_delivery_log_write(opaque, outcome);
}

static struct arb_service *service_new(const struct arb_replay_conf *conf,
                                   struct arb_conf_errors *errors)
{
    struct arb_error err;
    struct arb_service *svc = arb_xcalloc(1, sizeof(*svc));
    svc->conf = conf;
    svc->wake[0] = svc->wake[1] = -1;
    svc->flow = arb_flow_new((size_t)conf->replay.max_buffered);
    pthread_mutex_init(&svc->lag_lock, NULL);
    arb_buf_init(&svc->lag_metrics);

    if (open_pipe(svc->wake) != 0) {
        arb_conf_errors_add(errors, conf->file, 0, "cannot create a pipe: %s", strerror(errno));
        return svc;
    }
    svc->pipeline = arb_pipeline_new(conf, arb_service_on_committable, svc, errors);
    if (svc->pipeline == NULL ||
        arb_delivery_log_new(conf, "service", &svc->delivery_log, errors) != 0 ||
        start_consumer(svc, errors) != 0)
        return svc;
    arb_pipeline_on_outcome(svc->pipeline, write_outcome, svc->delivery_log);
    svc->health = arb_kafka_health_start(svc->consumer);
    svc->waker = arb_fetch_waker_new(svc->consumer);
    if (svc->waker == NULL)
        arb_log_kv(ARB_LOG_WARN, "cannot start the fetch waker thread: after a full prefetch "
                   "queue, fetching resumes up to a second late", NULL);
    arb_pipeline_dedup(svc->pipeline); /* service mode only: debug re-sends are deliberate */
    if (conf->replay.admin_listen[0] != '\0') {
        const struct arb_admin_hooks hooks = {admin_ready, admin_metrics, svc};
        svc->admin = arb_admin_new(conf->replay.admin_listen, &hooks, &err);
        if (svc->admin == NULL)
            arb_conf_errors_add(errors, conf->file, 0, "replay.admin_listen: %s", err.message);
    }
    return svc;
}

static void service_destroy(struct arb_service *svc, int timeout_ms)
{
    if (svc == NULL)
        return;
    arb_admin_destroy(svc->admin);
    arb_kafka_health_stop(svc->health);
    arb_fetch_waker_destroy(svc->waker);
    if (svc->consumer != NULL) {
        rd_kafka_queue_destroy(svc->queue);
        rd_kafka_destroy(svc->consumer);
    }
    arb_pipeline_destroy(svc->pipeline, timeout_ms);
    arb_delivery_log_destroy(svc->delivery_log, timeout_ms); /* after: no outcome comes later */
    for (int i = 0; i < 2; i++)
        if (svc->wake[i] >= 0)
            close(svc->wake[i]);
    for (int i = 0; i < svc->nparts; i++)
        free(svc->parts[i].topic);
    free(svc->parts);
    free(svc->pending);
    free(svc->actions);
    arb_flow_destroy(svc->flow);
    arb_buf_free(&svc->lag_metrics);
    pthread_mutex_destroy(&svc->lag_lock);
    free(svc);
}

/* ---- the loop ---- */

static void drain_pipe(int fd)
{
    char buf[64];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
}

static int turn(struct arb_service *svc, bool stopping)
{
    struct arb_error err;
    struct pollfd wake = {.fd = svc->wake[0], .events = POLLIN};

    arb_service_wake_fetchers(svc, consume(svc, stopping));
    arb_service_control_flow(svc);
    if (arb_pipeline_run(svc->pipeline, &wake, 1, LOOP_WAIT_MS, &err) != 0) {
        arb_log_kv(ARB_LOG_ERROR, "delivery loop failed", "error", err.message, NULL);
        return -1;
    }
    if (wake.revents)
        drain_pipe(svc->wake[0]);
    arb_service_store_offsets(svc);
    if (arb_now_ns() - svc->lag_refreshed_ns > LAG_INTERVAL_NS) {
        refresh_lag(svc);
        svc->lag_refreshed_ns = arb_now_ns();
    }
    return 0;
}

static void reopen_log_if_asked(volatile sig_atomic_t *reopen)
{
    struct arb_error err;
    if (!*reopen)
        return;
    *reopen = 0;
    if (arb_log_reopen(&err) != 0)
        arb_log_kv(ARB_LOG_ERROR, "cannot reopen the log file", "error", err.message, NULL);
}

/* Until asked to stop: then stop taking records and finish those taken, or give up on them
 * when shutdown_timeout_s has passed. Returns 0, or -1 after a fatal error. */
static int loop(struct arb_service *svc, volatile sig_atomic_t *stop, volatile sig_atomic_t *reopen)
{
    int64_t deadline = 0;
    bool stopping = false;

    for (;;) {
        if ((*stop || atomic_load(&svc->fatal)) && !stopping) {
            stopping = true;
            deadline = arb_now_ns() + (int64_t)svc->conf->shutdown_timeout_s * 1000000000;
            arb_service_pause_all(svc);
            arb_log_kv(ARB_LOG_INFO, "stopping: delivering the records already taken", NULL);
        }
        if (stopping && (arb_pipeline_total(svc->pipeline) == 0 || arb_now_ns() >= deadline))
            break;
        if (turn(svc, stopping) != 0)
            return -1;
        reopen_log_if_asked(reopen);
    }
    if (arb_pipeline_total(svc->pipeline) > 0) {
        arb_log_kv(ARB_LOG_WARN, "shutdown timeout: records not delivered will be read again "
                   "at the next start", NULL);
        arb_pipeline_abandon(svc->pipeline);
    }
    return atomic_load(&svc->fatal) ? -1 : 0;
}

int arb_service_run(const struct arb_replay_conf *conf, volatile sig_atomic_t *stop,
                    volatile sig_atomic_t *reopen_logs)
{
    struct arb_conf_errors errors = {0};
    struct arb_service *svc = service_new(conf, &errors);
    int status = 1;

    if (errors.count > 0) {
        for (size_t i = 0; i < errors.count; i++)
            arb_log_kv(ARB_LOG_ERROR, errors.messages[i], NULL);
        goto out;
    }
    arb_log_kv(ARB_LOG_INFO, "airudder-replay consuming", "group", conf->replay.group, "desk",
               conf->desk.url, "admin", conf->replay.admin_listen, NULL);
    status = loop(svc, stop, reopen_logs) == 0 ? 0 : 2;
    arb_service_commit(svc, "shutdown");
    arb_fetch_waker_destroy(svc->waker); /* nothing asks the consumer while it closes */
    svc->waker = NULL;
    rd_kafka_consumer_close(svc->consumer);
out:
    arb_conf_errors_clear(&errors);
    service_destroy(svc, 1000);
    return status;
}
