/* pipeline.c - the replay's delivery engine (see pipeline.h).
 *
 * Each record becomes a job. The ordering bookkeeping (core/ordering.c) says which job may
 * go next (its conversation has nothing ahead of it) and which offset is committable; the
 * retry policy (core/retry.c) says what a finished attempt means. A job moves:
 *
 *   queued -> sending -> done                      (2xx)
 *                     -> backoff -> sending ...    (408, 429, 5xx, no answer: retried)
 *                     -> dead-lettering -> done    (other 4xx, or out of retry time)
 *
 * and a dead letter that Kafka refuses is written again after a pause, never dropped: the
 * record is done only when the desk or the dead-letter topic has it. In service mode a job
 * whose Idempotency-Key its partition delivered within dedup.window_s (core/seen.c) is done
 * at once, never sent: checked when it first comes up to go, which is after every earlier
 * copy of it (same conversation) is done, and remembered when the desk took it. Jobs
 * waiting for a retry sit in a min-heap by due time. The dead-letter producer's reports
 * arrive through rd_kafka_poll on this same thread; its queue wakes the loop through a
 * pipe. */
#include "pipeline.h"
#include "desk_client.h"
#include "kafka.h"
#include "kafka_producer.h"

#include "arb/delivery.h"
#include "arb/log.h"
#include "arb/mem.h"
#include "arb/clock.h"
#include "arb/metrics.h"
#include "arb/ordering.h"
#include "arb/rate.h"
#include "arb/retry.h"
#include "arb/seen.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEADLETTER_RETRY_MIN_MS 500
#define DEADLETTER_RETRY_MAX_MS 30000
#define NOT_IN_HEAP ((size_t)-1)

enum job_state { JOB_QUEUED, JOB_SENDING, JOB_BACKOFF, JOB_DEADLETTERING, JOB_DEADLETTER_BACKOFF };

struct job {
    struct arb_kafka_ticket ticket; /* its dead letter's */
    struct arb_pipeline *pipeline;
    struct arb_entry *entry;
    int part;
    char *topic;
    int32_t partition;
    int64_t offset;
    char *key, *value;
    size_t key_len, value_len;
    rd_kafka_headers_t *headers; /* the record's, or NULL */
    enum job_state state;
    struct arb_desk_transfer *transfer;
    struct arb_delivery delivery;
    bool built;
    unsigned attempts, deadletter_attempts;
    int64_t first_attempt_ns;
    int64_t last_attempt_ns; /* when the latest attempt started, for the delivery log */
    long last_status;
    char last_error[128];
    char reason[ARB_ERROR_MSG_MAX + 64]; /* why it is being dead-lettered */
    int64_t due_ns;
    size_t heap_index;
    bool orphaned; /* its partition was dropped while Kafka had its dead letter */
};

struct arb_pipeline {
    const struct arb_replay_conf *conf;
    arb_committable_fn *on_committable;
    void *opaque;

    struct arb_ordering *ordering;
    struct arb_desk_client *desk;
    struct arb_delivery_builder *builder;
    struct arb_retry_policy policy;
    struct arb_rate rate;
    uint64_t random_state;
    int max_part;
    struct arb_seen *seen; /* the dedup windows; NULL: every record is sent (debug mode) */

    struct job **heap; /* jobs waiting for a retry, by due_ns */
    size_t nheap, heap_cap;

    struct arb_kafka_producer *deadletter;
    int wake[2]; /* the dead-letter producer writes here when it has reports */

    arb_outcome_fn *on_outcome; /* the delivery log's hook, or NULL */
    void *outcome_opaque;

    atomic_bool desk_reachable;
    atomic_uint_fast64_t delivered, retried, deadlettered, attempts, held, running;
    atomic_uint_fast64_t dedup_skipped, dedup_evicted, dedup_entries; /* seen's, for metrics */
    struct arb_histogram duration;
};

static void send_job(struct arb_pipeline *pipeline, struct job *job);
static void deadletter_job(struct arb_pipeline *pipeline, struct job *job);
static void on_deadletter_report(struct arb_kafka_ticket *ticket, const struct arb_error *err);
static bool build(struct arb_pipeline *pipeline, struct job *job);

/* ---- small helpers ---- */

static uint64_t next_random(struct arb_pipeline *pipeline)
{
    /* xorshift64*: jitter needs spread, not secrecy */
    uint64_t x = pipeline->random_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    pipeline->random_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void describe_answer(const struct job *job, char *out, size_t size)
{
    if (job->last_status != 0)
        snprintf(out, size, "HTTP %ld", job->last_status);
    else
        snprintf(out, size, "no answer: %s", job->last_error);
}

/* ---- the retry heap ---- */

static bool heap_less(struct job **heap, size_t a, size_t b)
{
    return heap[a]->due_ns < heap[b]->due_ns;
}

static void heap_swap(struct job **heap, size_t a, size_t b)
{
    struct job *tmp = heap[a];
    heap[a] = heap[b];
    heap[b] = tmp;
    heap[a]->heap_index = a;
    heap[b]->heap_index = b;
}

static void heap_sift_up(struct job **heap, size_t i)
{
    while (i > 0 && heap_less(heap, i, (i - 1) / 2)) {
        heap_swap(heap, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_sift_down(struct job **heap, size_t n, size_t i)
{
    for (;;) {
        size_t least = i, left = 2 * i + 1, right = 2 * i + 2;
        if (left < n && heap_less(heap, left, least))
            least = left;
        if (right < n && heap_less(heap, right, least))
            least = right;
        if (least == i)
            return;
        heap_swap(heap, i, least);
        i = least;
    }
}

static void heap_push(struct arb_pipeline *pipeline, struct job *job)
{
    if (pipeline->nheap == pipeline->heap_cap) {
        pipeline->heap_cap = pipeline->heap_cap ? 2 * pipeline->heap_cap : 64;
        pipeline->heap = arb_xrealloc(pipeline->heap, pipeline->heap_cap * sizeof(*pipeline->heap));
    }
    job->heap_index = pipeline->nheap;
    pipeline->heap[pipeline->nheap++] = job;
    heap_sift_up(pipeline->heap, job->heap_index);
}

static void heap_remove(struct arb_pipeline *pipeline, struct job *job)
{
    size_t i = job->heap_index, last = --pipeline->nheap;
    if (i != last) {
        heap_swap(pipeline->heap, i, last);
        heap_sift_down(pipeline->heap, pipeline->nheap, i);
        heap_sift_up(pipeline->heap, i);
    }
    job->heap_index = NOT_IN_HEAP;
}

static void schedule(struct arb_pipeline *pipeline, struct job *job, enum job_state state,
                     int64_t delay_ms)
{
    job->state = state;
    job->due_ns = arb_now_ns() + delay_ms * 1000000;
    heap_push(pipeline, job);
}

/* ---- jobs ---- */

static struct job *job_new(struct arb_pipeline *pipeline, int part,
                           const rd_kafka_message_t *msg)
{
    rd_kafka_headers_t *headers = NULL;
    struct job *job = arb_xcalloc(1, sizeof(*job));
    job->pipeline = pipeline;
    job->part = part;
    job->topic = arb_xstrdup(rd_kafka_topic_name(msg->rkt));
    job->partition = msg->partition;
    job->offset = msg->offset;
    job->key = arb_xstrndup(msg->key ? msg->key : "", msg->key ? msg->key_len : 0);
    job->key_len = msg->key ? msg->key_len : 0;
    job->value = arb_xstrndup(msg->payload ? msg->payload : "", msg->payload ? msg->len : 0);
    job->value_len = msg->payload ? msg->len : 0;
    if (rd_kafka_message_headers(msg, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR)
        job->headers = rd_kafka_headers_copy(headers);
    job->heap_index = NOT_IN_HEAP;
    job->ticket.done = on_deadletter_report;
    return job;
}

static void job_free(struct job *job)
{
    if (job == NULL)
        return;
    arb_delivery_clear(&job->delivery);
    if (job->headers != NULL)
        rd_kafka_headers_destroy(job->headers);
    free(job->topic);
    free(job->key);
    free(job->value);
    free(job);
}

/* The record reached the desk or the dead letter: its conversation and partition move on. */
static void finish(struct arb_pipeline *pipeline, struct job *job)
{
    int64_t offset = arb_ordering_done(pipeline->ordering, job->entry);
    int part = job->part;
    job_free(job);
    atomic_fetch_sub(&pipeline->held, 1);
    if (offset >= 0 && pipeline->on_committable != NULL)
        pipeline->on_committable(pipeline->opaque, part, offset);
}

/* free_data for the ordering: a job whose partition is dropped or abandoned. */
static void forget_job(void *data)
{
    struct job *job = data;
    struct arb_pipeline *pipeline = job->pipeline;

    atomic_fetch_sub(&pipeline->held, 1);
    if (job->heap_index != NOT_IN_HEAP)
        heap_remove(pipeline, job);
    if (job->state == JOB_SENDING) {
        arb_desk_client_abort(pipeline->desk, job->transfer);
        atomic_fetch_sub(&pipeline->running, 1);
    }
    if (job->state == JOB_DEADLETTERING) {
        job->orphaned = true; /* freed by its delivery report */
        return;
    }
    job_free(job);
}

/* ---- the dedup windows ---- */

void arb_pipeline_dedup(struct arb_pipeline *pipeline)
{
    const struct arb_dedup_conf *dedup = &pipeline->conf->dedup;
    if (pipeline->seen == NULL && dedup->window_s > 0)
        pipeline->seen =
            arb_seen_new((int64_t)dedup->window_s * 1000, (size_t)dedup->max_entries);
}

static int64_t now_ms(void)
{
    return arb_now_ns() / 1000000;
}

static void publish_seen(struct arb_pipeline *pipeline)
{
    struct arb_seen_stats stats;
    arb_seen_stats(pipeline->seen, &stats);
    atomic_store(&pipeline->dedup_skipped, stats.skipped);
    atomic_store(&pipeline->dedup_evicted, stats.evicted);
    atomic_store(&pipeline->dedup_entries, stats.entries);
}

/* A job about to be sent for the first time whose record its partition already delivered:
 * done now, unsent. False when it must go (or cannot be built: send_job dead-letters it). */
static bool skip_delivered(struct arb_pipeline *pipeline, struct job *job)
{
    char origin[ARB_TOPIC_MAX + 48];
    if (pipeline->seen == NULL || job->attempts > 0 || (!job->built && !build(pipeline, job)))
        return false;
    bool seen = arb_seen_check(pipeline->seen, job->part, job->delivery.idempotency_key, now_ms());
    publish_seen(pipeline);
    if (!seen)
        return false;
    if (arb_log_enabled(ARB_LOG_DEBUG)) {
        snprintf(origin, sizeof(origin), "%s/%d/%lld", job->topic, (int)job->partition,
                 (long long)job->offset);
        arb_log_kv(ARB_LOG_DEBUG, "record already delivered: not sent again", "origin", origin,
                   "idempotency_key", job->delivery.idempotency_key, NULL);
    }
    finish(pipeline, job);
    return true;
}

static void remember_delivered(struct arb_pipeline *pipeline, const struct job *job)
{
    if (pipeline->seen == NULL)
        return;
    arb_seen_remember(pipeline->seen, job->part, job->delivery.idempotency_key, now_ms());
    publish_seen(pipeline);
}

/* ---- the desk ---- */

static const char *record_header(const struct job *job, const char *name)
{
    const void *value = NULL;
    size_t size = 0;
    static char copy[64]; /* single-threaded: the loop thread only */
    if (job->headers == NULL ||
        rd_kafka_header_get_last(job->headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        value == NULL || size >= sizeof(copy))
        return NULL;
    memcpy(copy, value, size);
    copy[size] = '\0';
    return copy;
}

static void note_desk_answer(struct arb_pipeline *pipeline, const struct arb_desk_result *result)
{
    char answer[32];
    bool reachable = result->status != 0 && result->status < 500 && result->status != 429;
    bool was = atomic_exchange(&pipeline->desk_reachable, reachable);
    snprintf(answer, sizeof(answer), "HTTP %ld", result->status);
    if (was && !reachable)
        arb_log_kv(ARB_LOG_WARN, "desk failing", "url", pipeline->conf->desk.url, "answer",
                   result->status != 0 ? answer : result->error, NULL);
    else if (!was && reachable)
        arb_log_kv(ARB_LOG_INFO, "desk answering again", "url", pipeline->conf->desk.url, NULL);
}

/* What became of a record, for the delivery log, while the job still holds it. */
static void report_outcome(struct arb_pipeline *pipeline, const struct job *job,
                           enum arb_outcome_status status)
{
    if (pipeline->on_outcome == NULL)
        return;
    int64_t now_ns = arb_now_ns(), now_ms = arb_wall_ms();
    bool sent = job->attempts > 0;
    const struct arb_outcome outcome = {
        .status = status,
        .call_id = job->key,
        .call_id_len = job->key_len,
        .topic = job->topic,
        .partition = job->partition,
        .offset = job->offset,
        .msg_id = record_header(job, "airudder-msg-id"),
        .idempotency_key = job->built ? job->delivery.idempotency_key : NULL,
        .attempts = job->attempts,
        .desk_status = job->last_status,
        .desk_error = job->last_status == 0 && job->last_error[0] != '\0' ? job->last_error : NULL,
        .reason = status == ARB_OUTCOME_DEADLETTERED ? job->reason : NULL,
        .first_attempt_ms = sent ? now_ms - (now_ns - job->first_attempt_ns) / 1000000 : 0,
        .last_attempt_ms = sent ? now_ms - (now_ns - job->last_attempt_ns) / 1000000 : 0,
        .done_ms = now_ms,
    };
    pipeline->on_outcome(pipeline->outcome_opaque, &outcome);
}

static void on_desk_done(void *opaque, const struct arb_desk_result *result)
{
    struct job *job = opaque;
    struct arb_pipeline *pipeline = job->pipeline;
    int64_t now = arb_now_ns();
    char answer[160];

    atomic_fetch_sub(&pipeline->running, 1);
    arb_histogram_observe(&pipeline->duration, result->duration_ns);
    note_desk_answer(pipeline, result);
    job->transfer = NULL;
    job->last_attempt_ns = now - result->duration_ns;
    job->last_status = result->status;
    snprintf(job->last_error, sizeof(job->last_error), "%s", result->error ? result->error : "");

    struct arb_retry_decision decision = arb_retry_decide(
        &pipeline->policy, result->status, job->attempts, (now - job->first_attempt_ns) / 1000000,
        result->retry_after_ms, next_random(pipeline));
    describe_answer(job, answer, sizeof(answer));
    switch (decision.verdict) {
    case ARB_VERDICT_DELIVERED:
        remember_delivered(pipeline, job);
        atomic_fetch_add(&pipeline->delivered, 1);
        report_outcome(pipeline, job, ARB_OUTCOME_DELIVERED);
        finish(pipeline, job);
        return;
    case ARB_VERDICT_RETRY:
        atomic_fetch_add(&pipeline->retried, 1);
        arb_log_kv(ARB_LOG_DEBUG, "delivery will be retried", "answer", answer, NULL);
        schedule(pipeline, job, JOB_BACKOFF, decision.delay_ms);
        return;
    case ARB_VERDICT_REJECTED:
        snprintf(job->reason, sizeof(job->reason), "desk refused it (%s)", answer);
        break;
    case ARB_VERDICT_EXHAUSTED:
        snprintf(job->reason, sizeof(job->reason), "gave up after %u attempts in %lld s (%s)",
                 job->attempts, (long long)((now - job->first_attempt_ns) / 1000000000), answer);
        break;
    }
    deadletter_job(pipeline, job);
}

static bool build(struct arb_pipeline *pipeline, struct job *job)
{
    struct arb_error err;
    if (arb_delivery_build(pipeline->builder, job->value, job->value_len,
                           record_header(job, "airudder-request-id"), &job->delivery,
                           &err) != 0) {
        snprintf(job->reason, sizeof(job->reason), "cannot build the delivery: %s", err.message);
        return false;
    }
    job->built = true;
    return true;
}

static void send_job(struct arb_pipeline *pipeline, struct job *job)
{
    const char *headers[ARB_DELIVERY_HEADERS_MAX];

    if (!job->built && !build(pipeline, job)) {
        deadletter_job(pipeline, job);
        return;
    }
    if (job->attempts++ == 0)
        job->first_attempt_ns = arb_now_ns();
    for (size_t i = 0; i < job->delivery.nheaders; i++)
        headers[i] = job->delivery.headers[i];
    job->state = JOB_SENDING;
    job->transfer = arb_desk_client_post(pipeline->desk, pipeline->conf->desk.url,
                                         job->delivery.body, job->delivery.body_len, headers,
                                         job->delivery.nheaders, on_desk_done, job);
    atomic_fetch_add(&pipeline->running, 1);
    atomic_fetch_add(&pipeline->attempts, 1);
}

/* ---- the dead letter ---- */

#define DEADLETTER_HEADERS_MAX 64 /* the record's own (a handful) and five of ours */

/* The record's headers and the dead-letter ones, pointing into job and the buffers. */
static size_t deadletter_headers(const struct job *job, struct arb_header *out,
                                 char status[16], char attempts[16], char *origin,
                                 size_t origin_size)
{
    const char *name;
    const void *value;
    size_t size, n = 0;

    for (size_t i = 0; job->headers != NULL && n < DEADLETTER_HEADERS_MAX - 5 &&
                       rd_kafka_header_get_all(job->headers, i, &name, &value, &size) == 0;
         i++)
        out[n++] = (struct arb_header){name, value, value != NULL ? size : 0};
    snprintf(status, 16, "%ld", job->last_status);
    snprintf(attempts, 16, "%u", job->attempts);
    snprintf(origin, origin_size, "%s/%d/%lld", job->topic, (int)job->partition,
             (long long)job->offset);
    out[n++] = (struct arb_header){"airudder-dlq-source", "replay", strlen("replay")};
    out[n++] = (struct arb_header){"airudder-dlq-reason", job->reason, strlen(job->reason)};
    out[n++] = (struct arb_header){"airudder-dlq-status", status, strlen(status)};
    out[n++] = (struct arb_header){"airudder-dlq-attempts", attempts, strlen(attempts)};
    out[n++] = (struct arb_header){"airudder-dlq-origin", origin, strlen(origin)};
    return n;
}

static int64_t deadletter_backoff_ms(const struct job *job)
{
    int64_t delay = DEADLETTER_RETRY_MIN_MS;
    for (unsigned i = 1; i < job->deadletter_attempts && delay < DEADLETTER_RETRY_MAX_MS; i++)
        delay *= 2;
    return delay < DEADLETTER_RETRY_MAX_MS ? delay : DEADLETTER_RETRY_MAX_MS;
}

static void deadletter_job(struct arb_pipeline *pipeline, struct job *job)
{
    struct arb_header headers[DEADLETTER_HEADERS_MAX];
    char status[16], attempts[16], origin[ARB_TOPIC_MAX + 48];
    struct arb_error err;
    uint64_t generation;
    size_t produced;

    job->deadletter_attempts++;
    job->state = JOB_DEADLETTERING;
    const struct arb_kafka_message message = {
        .topic = pipeline->conf->deadletter.topic,
        .key = job->key,
        .key_len = job->key_len,
        .value = job->value,
        .value_len = job->value_len,
        .copy = true,
        .headers = headers,
        .nheaders = deadletter_headers(job, headers, status, attempts, origin, sizeof(origin)),
        .ticket = &job->ticket,
    };
    if (arb_kafka_producer_produce(pipeline->deadletter, &message, 1, &generation, &produced,
                                   &err) == 0)
        return;
    arb_log_kv(ARB_LOG_ERROR, "cannot write a dead letter; will try again", "error",
               err.message, NULL);
    schedule(pipeline, job, JOB_DEADLETTER_BACKOFF, deadletter_backoff_ms(job));
}

static void on_deadletter_report(struct arb_kafka_ticket *ticket, const struct arb_error *err)
{
    struct job *job = (struct job *)ticket; /* the ticket is the job's first member */
    struct arb_pipeline *pipeline = job->pipeline;
    char origin[ARB_TOPIC_MAX + 48];

    if (job->orphaned) {
        job_free(job);
        return;
    }
    if (err != NULL) {
        arb_log_kv(ARB_LOG_ERROR, "dead letter not acknowledged; will try again", "error",
                   err->message, NULL);
        schedule(pipeline, job, JOB_DEADLETTER_BACKOFF, deadletter_backoff_ms(job));
        return;
    }
    snprintf(origin, sizeof(origin), "%s/%d/%lld", job->topic, (int)job->partition,
             (long long)job->offset);
    arb_log_kv(ARB_LOG_WARN, "record dead-lettered", "origin", origin, "reason", job->reason,
               NULL);
    atomic_fetch_add(&pipeline->deadlettered, 1);
    report_outcome(pipeline, job, ARB_OUTCOME_DEADLETTERED);
    finish(pipeline, job);
}

/* ---- the loop ---- */

static bool may_start(struct arb_pipeline *pipeline, int64_t now)
{
    return arb_desk_client_running(pipeline->desk) <
               (size_t)pipeline->conf->desk.max_in_flight &&
           arb_rate_wait_ns(&pipeline->rate, now) == 0;
}

static void start(struct arb_pipeline *pipeline, struct job *job, int64_t now)
{
    if (skip_delivered(pipeline, job))
        return;
    arb_rate_take(&pipeline->rate, now);
    send_job(pipeline, job);
}

/* Retries that are due first (they are the oldest of their conversations), then new jobs. */
static void start_what_may_start(struct arb_pipeline *pipeline)
{
    int64_t now = arb_now_ns();
    while (pipeline->nheap > 0 && pipeline->heap[0]->due_ns <= now) {
        struct job *job = pipeline->heap[0];
        if (job->state == JOB_DEADLETTER_BACKOFF) {
            heap_remove(pipeline, job);
            deadletter_job(pipeline, job);
            continue;
        }
        if (!may_start(pipeline, now))
            break;
        heap_remove(pipeline, job);
        start(pipeline, job, now);
    }
    while (may_start(pipeline, now)) {
        struct arb_entry *entry = arb_ordering_next(pipeline->ordering);
        if (entry == NULL)
            break;
        start(pipeline, arb_entry_data(entry), now);
    }
}

/* How long the loop may sleep: until the next retry is due or a token is available. */
static int wait_ms(struct arb_pipeline *pipeline, int timeout_ms)
{
    int64_t now = arb_now_ns(), wait = (int64_t)timeout_ms * 1000000;
    if (pipeline->nheap > 0 && pipeline->heap[0]->due_ns - now < wait)
        wait = pipeline->heap[0]->due_ns - now;
    int64_t token = arb_rate_wait_ns(&pipeline->rate, now);
    if (token > 0 && token < wait)
        wait = token;
    return wait <= 0 ? 0 : (int)((wait + 999999) / 1000000);
}

static void drain_wake_pipe(int fd)
{
    char buf[64];
    while (read(fd, buf, sizeof(buf)) > 0)
        ;
}

int arb_pipeline_run(struct arb_pipeline *pipeline, struct curl_waitfd *extra, unsigned nextra,
                     int timeout_ms, struct arb_error *err)
{
    struct curl_waitfd fds[8];
    if (nextra >= sizeof(fds) / sizeof(fds[0]))
        return arb_error_set(err, ARB_E_INVALID, "too many descriptors to wait on");

    start_what_may_start(pipeline);
    if (nextra > 0)
        memcpy(fds, extra, nextra * sizeof(*fds));
    fds[nextra] = (struct curl_waitfd){.fd = pipeline->wake[0], .events = CURL_WAIT_POLLIN};
    int ready = arb_desk_client_poll(pipeline->desk, fds, nextra + 1,
                                     wait_ms(pipeline, timeout_ms), err);
    if (ready < 0)
        return -1;
    if (nextra > 0)
        memcpy(extra, fds, nextra * sizeof(*fds));
    if (fds[nextra].revents)
        drain_wake_pipe(pipeline->wake[0]);
    arb_kafka_producer_poll(pipeline->deadletter, 0);
    start_what_may_start(pipeline);
    return 0;
}

void arb_pipeline_add(struct arb_pipeline *pipeline, int part, const rd_kafka_message_t *msg)
{
    struct job *job = job_new(pipeline, part, msg);
    job->entry = arb_ordering_add(pipeline->ordering, part, msg->offset, job->key, job);
    if (part > pipeline->max_part)
        pipeline->max_part = part;
    atomic_fetch_add(&pipeline->held, 1);
}

void arb_pipeline_drop_partition(struct arb_pipeline *pipeline, int part)
{
    arb_ordering_drop_partition(pipeline->ordering, part, forget_job);
    if (pipeline->seen != NULL) {
        arb_seen_drop(pipeline->seen, part);
        publish_seen(pipeline);
    }
}

void arb_pipeline_abandon(struct arb_pipeline *pipeline)
{
    for (int part = 0; part <= pipeline->max_part; part++)
        arb_pipeline_drop_partition(pipeline, part);
}

size_t arb_pipeline_pending(const struct arb_pipeline *pipeline, int part)
{
    return arb_ordering_pending(pipeline->ordering, part);
}

size_t arb_pipeline_total(const struct arb_pipeline *pipeline)
{
    return arb_ordering_total(pipeline->ordering);
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
    pipeline->ordering = arb_ordering_new();
    pipeline->policy = (struct arb_retry_policy){
        .base_ms = conf->desk.retry_base_ms,
        .cap_ms = conf->desk.retry_cap_ms,
        .max_total_ms = (int64_t)conf->desk.max_retry_s * 1000,
    };
    arb_rate_init(&pipeline->rate, conf->desk.rate_limit_rps, 0, arb_now_ns());
    pipeline->random_state = (uint64_t)arb_now_ns() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ULL;
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
    pipeline->builder = arb_delivery_builder_new(&conf->desk);
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
    /* Abandoned first: a job whose dead letter is still in Kafka's hands is then orphaned,
     * and freed by its last report, which the producer's destroy serves. */
    arb_pipeline_abandon(pipeline);
    arb_kafka_producer_destroy(pipeline->deadletter, timeout_ms);
    arb_ordering_destroy(pipeline->ordering, forget_job);
    arb_desk_client_destroy(pipeline->desk);
    arb_delivery_builder_destroy(pipeline->builder);
    arb_seen_destroy(pipeline->seen);
    for (int i = 0; i < 2; i++)
        if (pipeline->wake[i] >= 0)
            close(pipeline->wake[i]);
    free(pipeline->heap);
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
