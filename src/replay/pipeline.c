/* pipeline.c - the replay's delivery engine (see pipeline.h): the driver of core/jobs.c.
 *
 * The jobs decide; this file performs. Every call into them (records added, the time, an
 * answer of the desk, a report of the dead-letter producer, a partition dropped) is
 * followed by their effects, in order: a SEND becomes a libcurl post (desk_client.c), an
 * ABORT cancels one, a DEADLETTER becomes a produce on the dead-letter producer
 * (kafka_producer.c), a COMMIT goes to the owner, an OUTCOME to the delivery log's hook
 * (its times moved from the monotonic clock to the wall clock), and the rest are logged.
 * A post and a dead letter under way each carry a small record of which job they are for.
 * The loop sleeps until the jobs' expiry at the latest. The dead-letter producer's reports
 * arrive through arb_kafka_producer_poll on this same thread; its queue wakes the loop
 * through a pipe. */
#include "pipeline.h"
#include "desk_client.h"
#include "kafka_producer.h"

#include "arb/clock.h"
#include "arb/log.h"
#include "arb/mem.h"
#include "arb/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WAIT_FDS_MAX 8

struct arb_pipeline {
    const struct arb_replay_conf *conf;
    arb_committable_fn *on_committable;
    void *opaque;

    struct arb_jobs *jobs;
    struct arb_desk_client *desk;
    struct arb_kafka_producer *deadletter;
    int wake[2]; /* the dead-letter producer writes here when it has reports */

    arb_outcome_fn *on_outcome; /* the delivery log's hook, or NULL */
    void *outcome_opaque;

    /* The jobs' figures, for the metrics thread. */
    atomic_bool desk_reachable;
    atomic_uint_fast64_t delivered, retried, deadlettered, attempts, held, running;
    atomic_uint_fast64_t dedup_skipped, dedup_evicted, dedup_entries;
    struct arb_histogram duration;
};

/* A post under way (the job's io). */
struct post {
    struct arb_pipeline *pipeline;
    struct arb_job *job;
    struct arb_desk_transfer *transfer;
};

/* A dead letter in Kafka's hands. */
struct deadletter {
    struct arb_kafka_ticket ticket; /* first: the report hands it back */
    struct arb_pipeline *pipeline;
    struct arb_job *job;
};

static void drain(struct arb_pipeline *pipeline);

/* ---- the desk ---- */

static void on_desk_done(void *opaque, const struct arb_desk_result *result)
{
    struct post *post = opaque;
    struct arb_pipeline *pipeline = post->pipeline;
    struct arb_job *job = post->job;
    const struct arb_job_answer answer = {
        .status = result->status,
        .retry_after_ms = result->retry_after_ms,
        .duration_ns = result->duration_ns,
        .error = result->error,
    };

    free(post);
    arb_histogram_observe(&pipeline->duration, result->duration_ns);
    arb_jobs_answered(pipeline->jobs, job, &answer, arb_now_ns());
}

static void send_delivery(struct arb_pipeline *pipeline, const struct arb_job_effect *effect)
{
    const struct arb_delivery *delivery = effect->delivery;
    const char *headers[ARB_DELIVERY_HEADERS_MAX];
    struct post *post = arb_xmalloc(sizeof(*post));

    for (size_t i = 0; i < delivery->nheaders; i++)
        headers[i] = delivery->headers[i];
    post->pipeline = pipeline;
    post->job = effect->job;
    post->transfer = arb_desk_client_post(pipeline->desk, pipeline->conf->desk.url,
                                          delivery->body, delivery->body_len, headers,
                                          delivery->nheaders, on_desk_done, post);
    arb_job_set_io(effect->job, post);
}

static void abort_post(struct arb_pipeline *pipeline, struct post *post)
{
    arb_desk_client_abort(pipeline->desk, post->transfer);
    free(post);
}

static void note_desk(struct arb_pipeline *pipeline, const struct arb_job_effect *effect)
{
    atomic_store(&pipeline->desk_reachable, effect->desk_reachable);
    if (effect->desk_reachable)
        arb_log_kv(ARB_LOG_INFO, "desk answering again", "url", pipeline->conf->desk.url,
                   NULL);
    else
        arb_log_kv(ARB_LOG_WARN, "desk failing", "url", pipeline->conf->desk.url, "answer",
                   effect->answer, NULL);
}

/* ---- the dead letter ---- */

static void on_deadletter_report(struct arb_kafka_ticket *ticket, const struct arb_error *err)
{
    struct deadletter *letter = (struct deadletter *)ticket;
    struct arb_pipeline *pipeline = letter->pipeline;
    struct arb_job *job = letter->job;

    free(letter);
    if (err == NULL)
        arb_jobs_deadlettered(pipeline->jobs, job, arb_now_ns());
    else if (arb_jobs_deadletter_failed(pipeline->jobs, job, arb_now_ns()))
        arb_log_kv(ARB_LOG_ERROR, "dead letter not acknowledged; will try again", "error",
                   err->message, NULL);
}

static void produce_deadletter(struct arb_pipeline *pipeline,
                               const struct arb_job_effect *effect)
{
    const struct arb_job_deadletter *dl = effect->deadletter;
    struct deadletter *letter = arb_xmalloc(sizeof(*letter));
    struct arb_error err;
    uint64_t generation;
    size_t produced;

    *letter = (struct deadletter){{on_deadletter_report}, pipeline, effect->job};
    const struct arb_kafka_message message = {
        .topic = pipeline->conf->deadletter.topic,
        .key = dl->key,
        .key_len = dl->key_len,
        .value = dl->value,
        .value_len = dl->value_len,
        .copy = true,
        .headers = dl->headers,
        .nheaders = dl->nheaders,
        .ticket = &letter->ticket,
    };
    if (arb_kafka_producer_produce(pipeline->deadletter, &message, 1, &generation, &produced,
                                   &err) == 0)
        return;
    free(letter);
    arb_log_kv(ARB_LOG_ERROR, "cannot write a dead letter; will try again", "error",
               err.message, NULL);
    arb_jobs_deadletter_failed(pipeline->jobs, effect->job, arb_now_ns());
}

/* ---- the other effects ---- */

/* What became of a record, for the delivery log, its times on the wall clock. */
static void report_outcome(struct arb_pipeline *pipeline, const struct arb_job_effect *effect)
{
    struct arb_outcome outcome = effect->outcome;

    if (outcome.status == ARB_OUTCOME_DEADLETTERED)
        arb_log_kv(ARB_LOG_WARN, "record dead-lettered", "origin", effect->origin, "reason",
                   outcome.reason, NULL);
    if (pipeline->on_outcome == NULL)
        return;
    int64_t shift = arb_wall_ms() - arb_now_ns() / 1000000;
    if (outcome.attempts > 0) {
        outcome.first_attempt_ms += shift;
        outcome.last_attempt_ms += shift;
    }
    outcome.done_ms += shift;
    pipeline->on_outcome(pipeline->outcome_opaque, &outcome);
}

static void perform(struct arb_pipeline *pipeline, const struct arb_job_effect *effect)
{
    switch (effect->kind) {
    case ARB_JOB_SEND: send_delivery(pipeline, effect); break;
    case ARB_JOB_ABORT: abort_post(pipeline, effect->io); break;
    case ARB_JOB_DEADLETTER: produce_deadletter(pipeline, effect); break;
    case ARB_JOB_WAKE:
        if (effect->answer != NULL)
            arb_log_kv(ARB_LOG_DEBUG, "delivery will be retried", "answer", effect->answer,
                       NULL);
        break;
    case ARB_JOB_SKIPPED:
        arb_log_kv(ARB_LOG_DEBUG, "record already delivered: not sent again", "origin",
                   effect->origin, "idempotency_key", effect->delivery->idempotency_key, NULL);
        break;
    case ARB_JOB_OUTCOME: report_outcome(pipeline, effect); break;
    case ARB_JOB_COMMIT:
        if (pipeline->on_committable != NULL)
            pipeline->on_committable(pipeline->opaque, effect->part, effect->offset);
        break;
    case ARB_JOB_DESK: note_desk(pipeline, effect); break;
    }
}

/* The jobs' figures, for the metrics. */
static void publish(struct arb_pipeline *pipeline)
{
    struct arb_jobs_stats stats;
    arb_jobs_stats(pipeline->jobs, &stats);
    atomic_store(&pipeline->delivered, stats.delivered);
    atomic_store(&pipeline->retried, stats.retried);
    atomic_store(&pipeline->deadlettered, stats.deadlettered);
    atomic_store(&pipeline->attempts, stats.attempts);
    atomic_store(&pipeline->held, stats.held);
    atomic_store(&pipeline->running, stats.running);
    atomic_store(&pipeline->dedup_skipped, stats.seen.skipped);
    atomic_store(&pipeline->dedup_evicted, stats.seen.evicted);
    atomic_store(&pipeline->dedup_entries, stats.seen.entries);
}

static void drain(struct arb_pipeline *pipeline)
{
    struct arb_job_effect effect;
    while (arb_jobs_effect(pipeline->jobs, &effect))
        perform(pipeline, &effect);
    publish(pipeline);
}

/* ---- the loop ---- */

static void start_due(struct arb_pipeline *pipeline)
{
    arb_jobs_run(pipeline->jobs, arb_now_ns());
    drain(pipeline);
}

/* How long the loop may sleep: until the jobs' expiry, timeout_ms at most. */
static int wait_ms(struct arb_pipeline *pipeline, int timeout_ms)
{
    int64_t now = arb_now_ns(), wait = (int64_t)timeout_ms * 1000000;
    int64_t at = arb_jobs_expiry(pipeline->jobs, now);
    if (at - now < wait)
        wait = at - now;
    return wait <= 0 ? 0 : (int)((wait + 999999) / 1000000);
}

static unsigned short curl_events(short events)
{
    return (unsigned short)(((events & POLLIN) ? CURL_WAIT_POLLIN : 0) |
                            ((events & POLLPRI) ? CURL_WAIT_POLLPRI : 0) |
                            ((events & POLLOUT) ? CURL_WAIT_POLLOUT : 0));
}

static short poll_events(unsigned short events)
{
    return (short)(((events & CURL_WAIT_POLLIN) ? POLLIN : 0) |
                   ((events & CURL_WAIT_POLLPRI) ? POLLPRI : 0) |
                   ((events & CURL_WAIT_POLLOUT) ? POLLOUT : 0));
}

static void drain_wake_pipe(int fd)
{
    char buf[64];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
}

int arb_pipeline_run(struct arb_pipeline *pipeline, struct pollfd *extra, unsigned nextra,
                     int timeout_ms, struct arb_error *err)
{
    struct curl_waitfd fds[WAIT_FDS_MAX];
    if (nextra >= WAIT_FDS_MAX)
        return arb_error_set(err, ARB_E_INVALID, "too many descriptors to wait on");

    start_due(pipeline);
    for (unsigned i = 0; i < nextra; i++)
        fds[i] = (struct curl_waitfd){.fd = extra[i].fd, .events = curl_events(extra[i].events)};
    fds[nextra] = (struct curl_waitfd){.fd = pipeline->wake[0], .events = CURL_WAIT_POLLIN};
    int ready = arb_desk_client_poll(pipeline->desk, fds, nextra + 1,
                                     wait_ms(pipeline, timeout_ms), err);
    if (ready < 0)
        return -1;
    for (unsigned i = 0; i < nextra; i++)
        extra[i].revents = poll_events(fds[i].revents);
    if (fds[nextra].revents)
        drain_wake_pipe(pipeline->wake[0]);
    drain(pipeline); /* what the desk answered */
    arb_kafka_producer_poll(pipeline->deadletter, 0);
    drain(pipeline); /* what Kafka reported */
    start_due(pipeline);
    return 0;
}

void arb_pipeline_add(struct arb_pipeline *pipeline, int part,
                      const struct arb_job_record *record)
{
    arb_jobs_add(pipeline->jobs, part, record);
    atomic_store(&pipeline->held, arb_jobs_total(pipeline->jobs));
}

void arb_pipeline_drop_partition(struct arb_pipeline *pipeline, int part)
{
    arb_jobs_drop_partition(pipeline->jobs, part);
    drain(pipeline);
}

void arb_pipeline_abandon(struct arb_pipeline *pipeline)
{
    arb_jobs_abandon(pipeline->jobs);
    drain(pipeline);
}

void arb_pipeline_dedup(struct arb_pipeline *pipeline)
{
    const struct arb_dedup_conf *dedup = &pipeline->conf->dedup;
    arb_jobs_dedup(pipeline->jobs, (int64_t)dedup->window_s * 1000, (size_t)dedup->max_entries);
}

size_t arb_pipeline_pending(const struct arb_pipeline *pipeline, int part)
{
    return arb_jobs_pending(pipeline->jobs, part);
}

size_t arb_pipeline_total(const struct arb_pipeline *pipeline)
{
    return arb_jobs_total(pipeline->jobs);
}

void arb_pipeline_on_outcome(struct arb_pipeline *pipeline, arb_outcome_fn *fn, void *opaque)
{
    pipeline->on_outcome = fn;
    pipeline->outcome_opaque = opaque;
}

bool arb_pipeline_desk_reachable(const struct arb_pipeline *pipeline)
{
    return atomic_load(&pipeline->desk_reachable);
}

/* ---- set-up ---- */

static void deadletter_opts(const struct arb_replay_conf *conf, int wake_fd,
                            struct arb_kafka_producer_opts *opts)
{
    *opts = (struct arb_kafka_producer_opts){
        .kafka = &conf->kafka,
        .conf_file = conf->file,
        .client_id = "airudder-replay",
        .wake_fd = wake_fd,
    };
}

int arb_pipeline_check_conf(const struct arb_replay_conf *conf, struct arb_conf_errors *errors)
{
    struct arb_kafka_producer_opts opts;
    deadletter_opts(conf, -1, &opts);
    return arb_kafka_producer_check(&opts, errors);
}

static int open_wake_pipe(int wake[2])
{
    if (pipe(wake) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(wake[i], F_SETFL, fcntl(wake[i], F_GETFL) | O_NONBLOCK);
        fcntl(wake[i], F_SETFD, FD_CLOEXEC);
    }
    return 0;
}

static int start_deadletter_producer(struct arb_pipeline *pipeline,
                                     struct arb_conf_errors *errors)
{
    struct arb_kafka_producer_opts opts;
    deadletter_opts(pipeline->conf, pipeline->wake[1], &opts);
    pipeline->deadletter = arb_kafka_producer_new(&opts, errors);
    return pipeline->deadletter != NULL ? 0 : -1;
}

struct arb_pipeline *arb_pipeline_new(const struct arb_replay_conf *conf,
                                      arb_committable_fn *on_committable, void *opaque,
                                      struct arb_conf_errors *errors)
{
    struct arb_error err;
    struct arb_pipeline *pipeline = arb_xcalloc(1, sizeof(*pipeline));

    pipeline->conf = conf;
    pipeline->on_committable = on_committable;
    pipeline->opaque = opaque;
    pipeline->wake[0] = pipeline->wake[1] = -1;
    uint64_t seed = (uint64_t)arb_now_ns() ^ ((uint64_t)getpid() << 32);
    pipeline->jobs = arb_jobs_new(&conf->desk, seed, arb_now_ns());
    atomic_init(&pipeline->desk_reachable, true);
    arb_histogram_init(&pipeline->duration, arb_latency_bounds, arb_latency_nbounds);

    if (open_wake_pipe(pipeline->wake) != 0) {
        arb_conf_errors_add(errors, conf->file, 0, "cannot create a pipe: %s", strerror(errno));
        goto fail;
    }
    pipeline->desk = arb_desk_client_new(&conf->desk, &err);
    if (pipeline->desk == NULL) {
        arb_conf_errors_add(errors, conf->file, 0, "desk: %s", err.message);
        goto fail;
    }
    if (start_deadletter_producer(pipeline, errors) != 0)
        goto fail;
    return pipeline;
fail:
    arb_pipeline_destroy(pipeline, 0);
    return NULL;
}

void arb_pipeline_destroy(struct arb_pipeline *pipeline, int timeout_ms)
{
    if (pipeline == NULL)
        return;
    /* Abandoned first: the posts under way are aborted, and a job whose dead letter is
     * still in Kafka's hands is orphaned, freed by its last report, which the producer's
     * destroy serves. */
    arb_pipeline_abandon(pipeline);
    arb_kafka_producer_destroy(pipeline->deadletter, timeout_ms);
    arb_desk_client_destroy(pipeline->desk);
    arb_jobs_destroy(pipeline->jobs);
    for (int i = 0; i < 2; i++)
        if (pipeline->wake[i] >= 0)
            close(pipeline->wake[i]);
    free(pipeline);
}

/* ---- metrics ---- */

static void dedup_metrics(const struct arb_pipeline *pipeline, struct arb_buf *out)
{
    static const char skipped[] = "airudder_replay_dedup_skipped_total";
    static const char entries[] = "airudder_replay_dedup_entries";
    static const char evicted[] = "airudder_replay_dedup_evicted_total";

    arb_metric_family(out, skipped, "counter",
                      "Records not sent: their partition delivered their Idempotency-Key "
                      "within dedup.window_s.");
    arb_metric_sample(out, skipped, NULL, (double)atomic_load(&pipeline->dedup_skipped));
    arb_metric_family(out, entries, "gauge",
                      "Idempotency-Keys held by the dedup windows, all partitions.");
    arb_metric_sample(out, entries, NULL, (double)atomic_load(&pipeline->dedup_entries));
    arb_metric_family(out, evicted, "counter",
                      "Idempotency-Keys a full dedup window let go before dedup.window_s.");
    arb_metric_sample(out, evicted, NULL, (double)atomic_load(&pipeline->dedup_evicted));
}

void arb_pipeline_metrics(const struct arb_pipeline *pipeline, struct arb_buf *out)
{
    static const char deliveries[] = "airudder_replay_deliveries_total";
    static const char attempts[] = "airudder_replay_attempts_total";
    static const char duration[] = "airudder_replay_delivery_duration_seconds";
    static const char in_flight[] = "airudder_replay_deliveries_in_flight";
    static const char held[] = "airudder_replay_records_held";

    arb_metric_family(out, deliveries, "counter",
                      "Delivery outcomes: ok (desk answered 2xx), retry (an attempt to be "
                      "repeated), deadletter (written to the dead-letter topic).");
    arb_metric_sample(out, deliveries, "result=\"ok\"", (double)atomic_load(&pipeline->delivered));
    arb_metric_sample(out, deliveries, "result=\"retry\"", (double)atomic_load(&pipeline->retried));
    arb_metric_sample(out, deliveries, "result=\"deadletter\"",
                      (double)atomic_load(&pipeline->deadlettered));
    arb_metric_family(out, attempts, "counter", "HTTP requests made to the desk.");
    arb_metric_sample(out, attempts, NULL, (double)atomic_load(&pipeline->attempts));
    arb_metric_family(out, duration, "histogram", "Duration of one request to the desk.");
    arb_metric_histogram(out, duration, NULL, &pipeline->duration);
    arb_metric_family(out, in_flight, "gauge", "Requests to the desk under way.");
    arb_metric_sample(out, in_flight, NULL, (double)atomic_load(&pipeline->running));
    arb_metric_family(out, held, "gauge",
                      "Records consumed and not yet delivered or dead-lettered.");
    arb_metric_sample(out, held, NULL, (double)atomic_load(&pipeline->held));
    dedup_metrics(pipeline, out);
}
