/* service.c - service mode (see service.h).
 *
 * One thread runs everything: it polls the consumer (which also serves rebalances), hands
 * records to the pipeline, and lets the pipeline wait for the desk, woken early when the
 * consumer's queue gets records (librdkafka writes to a pipe then). Offsets are stored with
 * enable.auto.offset.store=false semantics: only the pipeline's committable offsets, which
 * never pass an unfinished record; auto-commit sends them every second, and a stop commits
 * synchronously.
 *
 * Flow control is core/flow.c's: when to poll for more records, which partitions to pause
 * and resume (a stall: the buffer full for 2 s); this file applies its decisions to the
 * consumer and tells it which the consumer refused. */
#include "service.h"
#include "admin.h"
#include "delivery_log.h"
#include "consumed.h"
#include "kafka.h"
#include "pipeline.h"

#include "arb/clock.h"
#include "arb/flow.h"
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

struct part {
    char *topic;
    int32_t partition;
    bool dirty;
    int64_t committable; /* the next offset to consume once everything before is done */
};

struct service {
    const struct arb_replay_conf *conf;
    rd_kafka_t *consumer;
    rd_kafka_queue_t *queue;
    int wake[2];
    struct arb_pipeline *pipeline;
    struct arb_delivery_log *delivery_log; /* NULL when delivery_log.topic is "" */
    struct arb_admin *admin;
    struct arb_kafka_health *health;
    struct part *parts; /* by the index the pipeline and the flow know them by */
    int nparts;
    struct arb_flow *flow; /* which partitions are assigned, and paused */
    size_t *pending;       /* per partition, for the flow; nparts of them */
    struct arb_flow_action *actions; /* the flow's decisions; 2 * nparts of them */

    atomic_bool joined, fatal;
    atomic_int paused;
    pthread_mutex_t lag_lock;
    struct arb_buf lag_metrics; /* rendered by the loop, served by the admin thread */
    int64_t lag_refreshed_ns;
};

/* ---- partitions ---- */

static int part_find(const struct service *svc, const char *topic, int32_t partition)
{
    for (int i = 0; i < svc->nparts; i++)
        if (svc->parts[i].partition == partition && svc->parts[i].topic != NULL &&
            strcmp(svc->parts[i].topic, topic) == 0)
            return i;
    return -1;
}

static bool assigned(const struct service *svc, int i)
{
    return arb_flow_assigned(svc->flow, i);
}

static int part_get(struct service *svc, const char *topic, int32_t partition)
{
    int i = part_find(svc, topic, partition);
    if (i >= 0)
        return i;
    size_t n = (size_t)svc->nparts + 1;
    svc->parts = arb_xrealloc(svc->parts, n * sizeof(*svc->parts));
    svc->pending = arb_xrealloc(svc->pending, n * sizeof(*svc->pending));
    svc->actions = arb_xrealloc(svc->actions, 2 * n * sizeof(*svc->actions));
    svc->parts[svc->nparts] = (struct part){.topic = arb_xstrdup(topic), .partition = partition,
                                            .committable = -1};
    return svc->nparts++;
}

/* Pause or resume partitions as the flow decided; a refusal goes back to it. */
static void apply(struct service *svc, const struct arb_flow_action *actions, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        struct part *part = &svc->parts[actions[k].part];
        rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(list, part->topic, part->partition);
        rd_kafka_resp_err_t err = actions[k].pause
                                      ? rd_kafka_pause_partitions(svc->consumer, list)
                                      : rd_kafka_resume_partitions(svc->consumer, list);
        rd_kafka_topic_partition_list_destroy(list);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
            arb_flow_refused(svc->flow, &actions[k]);
    }
    atomic_store(&svc->paused, arb_flow_paused_count(svc->flow));
}

static void pause_all(struct service *svc)
{
    apply(svc, svc->actions, arb_flow_stop(svc->flow, svc->nparts, svc->actions));
}

/* Once a turn: the stall clock, and the pauses and resumes it calls for. */
static void control_flow(struct service *svc)
{
    for (int i = 0; i < svc->nparts; i++)
        svc->pending[i] = arb_pipeline_pending(svc->pipeline, i);
    apply(svc, svc->actions,
          arb_flow_turn(svc->flow, arb_now_ns(), arb_pipeline_total(svc->pipeline),
                        svc->pending, svc->nparts, svc->actions));
}

/* ---- offsets ---- */

static void on_committable(void *opaque, int i, int64_t offset)
{
    struct service *svc = opaque;
    svc->parts[i].committable = offset;
    svc->parts[i].dirty = true;
}

/* Hand librdkafka the committable offsets that moved; auto-commit sends them. */
static void store_offsets(struct service *svc)
{
    rd_kafka_topic_partition_list_t *list = NULL;
    for (int i = 0; i < svc->nparts; i++) {
        struct part *part = &svc->parts[i];
        if (!part->dirty || !assigned(svc, i))
            continue;
        if (list == NULL)
            list = rd_kafka_topic_partition_list_new(4);
        rd_kafka_topic_partition_list_add(list, part->topic, part->partition)->offset =
            part->committable;
        part->dirty = false;
    }
    if (list == NULL)
        return;
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(svc->consumer, list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        arb_log_kv(ARB_LOG_WARN, "cannot store offsets", "error", rd_kafka_err2str(err), NULL);
    rd_kafka_topic_partition_list_destroy(list);
}

static void commit_now(struct service *svc, const char *why)
{
    store_offsets(svc);
    rd_kafka_resp_err_t err = rd_kafka_commit(svc->consumer, NULL, 0);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        arb_log_kv(ARB_LOG_WARN, "commit failed", "when", why, "error", rd_kafka_err2str(err),
                   NULL);
}

/* ---- rebalances ----
 *
 * Eager assignors (range, roundrobin: librdkafka's default) hand out and take back the whole
 * assignment; cooperative ones (cooperative-sticky) only what moves, the rest keeps being
 * consumed through the rebalance. Either way each listed partition is set up or torn down
 * in the bookkeeping: a revoked partition's records are dropped from the pipeline (their
 * offsets were not committed, so its next owner reads them again), and the offsets that
 * are committable are committed first, unless the assignment was lost (the partitions may
 * be another member's already). A failed assign leaves the consumer reading nothing, which
 * would look like an idle topic: it is a fatal error instead. */

static bool cooperative(rd_kafka_t *rk)
{
    const char *protocol = rd_kafka_rebalance_protocol(rk);
    return protocol != NULL && strcmp(protocol, "COOPERATIVE") == 0;
}

/* Hand librdkafka the change; an error from it is fatal (see above). */
static void apply_assignment(struct service *svc, rd_kafka_topic_partition_list_t *partitions,
                             bool incremental, bool assign)
{
    char why[512] = "";
    if (incremental) {
        rd_kafka_error_t *error = assign ? rd_kafka_incremental_assign(svc->consumer, partitions)
                                         : rd_kafka_incremental_unassign(svc->consumer, partitions);
        if (error != NULL) {
            snprintf(why, sizeof(why), "%s", rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
        }
    } else {
        rd_kafka_resp_err_t err = rd_kafka_assign(svc->consumer, assign ? partitions : NULL);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
            snprintf(why, sizeof(why), "%s", rd_kafka_err2str(err));
    }
    if (why[0] == '\0')
        return;
    arb_log_kv(ARB_LOG_ERROR, assign ? "cannot take the assigned partitions"
                                     : "cannot give back the revoked partitions",
               "error", why, NULL);
    atomic_store(&svc->fatal, true);
}

static void on_assign(struct service *svc, rd_kafka_topic_partition_list_t *partitions,
                      bool incremental)
{
    char count[16];
    for (int j = 0; j < partitions->cnt; j++) {
        int i = part_get(svc, partitions->elems[j].topic, partitions->elems[j].partition);
        arb_flow_assign(svc->flow, i);
        svc->parts[i].dirty = false;
        svc->parts[i].committable = -1; /* until the pipeline says: it reads from the commit */
    }
    apply_assignment(svc, partitions, incremental, true);
    atomic_store(&svc->joined, true);
    snprintf(count, sizeof(count), "%d", partitions->cnt);
    arb_log_kv(ARB_LOG_INFO, "partitions assigned", "count", count, "protocol",
               incremental ? "cooperative" : "eager", NULL);
}

/* Forget partition i: its records leave the pipeline, uncommitted. */
static void part_forget(struct service *svc, int i)
{
    arb_pipeline_drop_partition(svc->pipeline, i);
    arb_flow_revoke(svc->flow, i);
    atomic_store(&svc->paused, arb_flow_paused_count(svc->flow));
    svc->parts[i].dirty = false;
}

static void on_revoke(struct service *svc, rd_kafka_topic_partition_list_t *partitions,
                      bool incremental)
{
    char count[16];
    bool lost = rd_kafka_assignment_lost(svc->consumer);
    if (!lost)
        commit_now(svc, "revoke");
    for (int j = 0; j < partitions->cnt; j++) {
        int i = part_find(svc, partitions->elems[j].topic, partitions->elems[j].partition);
        if (i >= 0)
            part_forget(svc, i);
    }
    apply_assignment(svc, partitions, incremental, false);
    snprintf(count, sizeof(count), "%d", partitions->cnt);
    arb_log_kv(lost ? ARB_LOG_WARN : ARB_LOG_INFO,
               lost ? "partitions lost: records not delivered will be read again by their "
                      "next owner"
                    : "partitions revoked",
               "count", count, NULL);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *partitions, void *opaque)
{
    struct service *svc = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        on_assign(svc, partitions, cooperative(rk));
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        on_revoke(svc, partitions, cooperative(rk));
    } else {
        /* librdkafka's contract: clear the whole assignment, whatever the protocol */
        arb_log_kv(ARB_LOG_ERROR, "rebalance failed", "error", rd_kafka_err2str(err), NULL);
        for (int i = 0; i < svc->nparts; i++)
            if (assigned(svc, i))
                part_forget(svc, i);
        rd_kafka_assign(rk, NULL);
    }
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct service *svc = opaque;
    char fatal[512];
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
        arb_log_kv(ARB_LOG_ERROR, "fatal consumer error", "error", fatal, NULL);
        atomic_store(&svc->fatal, true);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && svc->health != NULL)
        arb_kafka_health_mark_down(svc->health);
    arb_log_kv(ARB_LOG_WARN, "kafka error", "error", rd_kafka_err2name(err), "reason", reason,
               NULL);
}

/* ---- taking records ---- */

static void take(struct service *svc, rd_kafka_message_t *msg)
{
    struct arb_header headers[ARB_JOB_HEADERS_MAX];
    struct arb_job_record record;
    int i = part_find(svc, rd_kafka_topic_name(msg->rkt), msg->partition);
    if (i < 0 || !assigned(svc, i))
        return; /* a straggler of a revoked partition */
    arb_consumed_job_record(msg, headers, &record);
    arb_pipeline_add(svc->pipeline, i, &record);
    if (arb_flow_took(svc->flow, i, arb_pipeline_pending(svc->pipeline, i)))
        apply(svc, &(struct arb_flow_action){i, true}, 1);
}

/* Poll the consumer (which also serves rebalances) while the flow lets it; when stopping,
 * records still returned are not taken: their offsets are not stored, so a restart reads
 * them again. */
static void consume(struct service *svc, bool stopping)
{
    for (int n = 0; n < CONSUME_BATCH; n++) {
        if (!arb_flow_may_poll(svc->flow, arb_pipeline_total(svc->pipeline)))
            return;
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(svc->consumer, 0);
        if (msg == NULL)
            return;
        if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                arb_log_kv(ARB_LOG_WARN, "consumer error", "error",
                           rd_kafka_message_errstr(msg), NULL);
        } else if (!stopping) {
            take(svc, msg);
        }
        rd_kafka_message_destroy(msg);
    }
}

/* ---- what the admin endpoint shows ---- */

static void refresh_lag(struct service *svc)
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
        if (!assigned(svc, i) || rd_kafka_get_watermark_offsets(svc->consumer, part->topic,
                                                              part->partition, &low, &high) != 0)
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
    struct service *svc = opaque;
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
    struct service *svc = opaque;
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
        /* Memory: at most ~8 MB prefetched, fetched 2 MB (512 KB a partition) at a time;
         * librdkafka's defaults (64 MB queue, 50 MB fetches) would dominate the RSS. */
        "queued.max.messages.kbytes", "8192",
        "fetch.max.bytes", "2097152",
        "max.partition.fetch.bytes", "524288",
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

static int start_consumer(struct service *svc, struct arb_conf_errors *errors)
{
    char errstr[512];
    rd_kafka_conf_t *kconf = consumer_conf(svc->conf, errors);
    if (kconf == NULL)
        return -1;
    rd_kafka_conf_set_opaque(kconf, svc);
    rd_kafka_conf_set_rebalance_cb(kconf, on_rebalance);
    rd_kafka_conf_set_error_cb(kconf, on_error);
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

static struct service *service_new(const struct arb_replay_conf *conf,
                                   struct arb_conf_errors *errors)
{
    struct arb_error err;
    struct service *svc = arb_xcalloc(1, sizeof(*svc));
    svc->conf = conf;
    svc->wake[0] = svc->wake[1] = -1;
    svc->flow = arb_flow_new((size_t)conf->replay.max_buffered);
    pthread_mutex_init(&svc->lag_lock, NULL);
    arb_buf_init(&svc->lag_metrics);

    if (open_pipe(svc->wake) != 0) {
        arb_conf_errors_add(errors, conf->file, 0, "cannot create a pipe: %s", strerror(errno));
        return svc;
    }
    svc->pipeline = arb_pipeline_new(conf, on_committable, svc, errors);
    if (svc->pipeline == NULL ||
        arb_delivery_log_new(conf, "service", &svc->delivery_log, errors) != 0 ||
        start_consumer(svc, errors) != 0)
        return svc;
    arb_pipeline_on_outcome(svc->pipeline, write_outcome, svc->delivery_log);
    svc->health = arb_kafka_health_start(svc->consumer);
    arb_pipeline_dedup(svc->pipeline); /* service mode only: debug re-sends are deliberate */
    if (conf->replay.admin_listen[0] != '\0') {
        const struct arb_admin_hooks hooks = {admin_ready, admin_metrics, svc};
        svc->admin = arb_admin_new(conf->replay.admin_listen, &hooks, &err);
        if (svc->admin == NULL)
            arb_conf_errors_add(errors, conf->file, 0, "replay.admin_listen: %s", err.message);
    }
    return svc;
}

static void service_destroy(struct service *svc, int timeout_ms)
{
    if (svc == NULL)
        return;
    arb_admin_destroy(svc->admin);
    arb_kafka_health_stop(svc->health);
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

static int turn(struct service *svc, bool stopping)
{
    struct arb_error err;
    struct pollfd wake = {.fd = svc->wake[0], .events = POLLIN};

    consume(svc, stopping);
    control_flow(svc);
    if (arb_pipeline_run(svc->pipeline, &wake, 1, LOOP_WAIT_MS, &err) != 0) {
        arb_log_kv(ARB_LOG_ERROR, "delivery loop failed", "error", err.message, NULL);
        return -1;
    }
    if (wake.revents)
        drain_pipe(svc->wake[0]);
    store_offsets(svc);
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
static int loop(struct service *svc, volatile sig_atomic_t *stop, volatile sig_atomic_t *reopen)
{
    int64_t deadline = 0;
    bool stopping = false;

    for (;;) {
        if ((*stop || atomic_load(&svc->fatal)) && !stopping) {
            stopping = true;
            deadline = arb_now_ns() + (int64_t)svc->conf->shutdown_timeout_s * 1000000000;
            pause_all(svc);
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
    struct service *svc = service_new(conf, &errors);
    int status = 1;

    if (errors.count > 0) {
        for (size_t i = 0; i < errors.count; i++)
            arb_log_kv(ARB_LOG_ERROR, errors.messages[i], NULL);
        goto out;
    }
    arb_log_kv(ARB_LOG_INFO, "airudder-replay consuming", "group", conf->replay.group, "desk",
               conf->desk.url, "admin", conf->replay.admin_listen, NULL);
    status = loop(svc, stop, reopen_logs) == 0 ? 0 : 2;
    commit_now(svc, "shutdown");
    rd_kafka_consumer_close(svc->consumer);
out:
    arb_conf_errors_clear(&errors);
    service_destroy(svc, 1000);
    return status;
}
