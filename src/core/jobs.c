/* jobs.c - the replay's per-record state machine and its scheduling (see jobs.h).
 *
 * A job is in the ordering (core/ordering.c) from the moment it is added until it is done
 * or dropped; while it waits for a time it is also in one of two min-heaps by due time:
 * retries of the post (which also need a free post slot), and dead letters to write again
 * (which need none, so a retry waiting for a slot never holds one back). Effects go
 * into a FIFO the driver empties. An effect names its job, and a job stays allocated while
 * any effect in the FIFO (or the one last returned) names it: a job that is done or dropped
 * is retired, and freed when the last of those is taken. A SEND or DEADLETTER of a job
 * retired before the driver took it is not returned, so nothing is ever posted or produced
 * for a record that is gone. A job dropped while Kafka holds its dead letter is an orphan:
 * kept, out of every partition, until the report the driver owes arrives. */
#include "arb/jobs.h"
#include "arb/job.h"
#include "arb/mem.h"
#include "arb/ordering.h"
#include "arb/rate.h"
#include "arb/retry.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOT_IN_HEAP ((size_t)-1)
#define NS_PER_MS 1000000

struct job_heap {
    struct arb_job **items;
    size_t n, cap;
};

struct arb_jobs {
    const struct arb_desk_conf *desk;
    struct arb_ordering *ordering;
    struct arb_delivery_builder *builder;
    struct arb_retry_policy policy;
    struct arb_rate rate;
    uint64_t random_state;
    struct arb_seen *seen; /* NULL: dedup off */
    int max_part;
    bool desk_reachable;

    struct job_heap retries;     /* jobs waiting to be posted again, by due_ns */
    struct job_heap deadletters; /* dead letters waiting to be written again, by due_ns */

    struct arb_job_effect *effects; /* the FIFO: [first, end) */
    size_t first, end, effects_cap;
    struct arb_job *returned; /* the job of the effect last returned */

    struct arb_job *orphans;
    struct arb_jobs_stats stats; /* held and seen are read when asked */
};

/* ---- small helpers ---- */

static uint64_t next_random(struct arb_jobs *jobs)
{
    /* xorshift64*: jitter needs spread, not secrecy */
    uint64_t x = jobs->random_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    jobs->random_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* ---- the heaps of jobs waiting for a time ---- */

static bool heap_less(struct arb_job **heap, size_t a, size_t b)
{
    return heap[a]->due_ns < heap[b]->due_ns;
}

static void heap_swap(struct arb_job **heap, size_t a, size_t b)
{
    struct arb_job *tmp = heap[a];
    heap[a] = heap[b];
    heap[b] = tmp;
    heap[a]->heap_index = a;
    heap[b]->heap_index = b;
}

static void heap_sift_up(struct arb_job **heap, size_t i)
{
    while (i > 0 && heap_less(heap, i, (i - 1) / 2)) {
        heap_swap(heap, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_sift_down(struct arb_job **heap, size_t n, size_t i)
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

static void heap_push(struct job_heap *heap, struct arb_job *job)
{
    if (heap->n == heap->cap) {
        heap->cap = heap->cap ? 2 * heap->cap : 64;
        heap->items = arb_xrealloc(heap->items, heap->cap * sizeof(*heap->items));
    }
    job->heap_index = heap->n;
    heap->items[heap->n++] = job;
    heap_sift_up(heap->items, job->heap_index);
}

static void heap_remove(struct job_heap *heap, struct arb_job *job)
{
    size_t i = job->heap_index, last = --heap->n;
    if (i != last) {
        heap_swap(heap->items, i, last);
        heap_sift_down(heap->items, heap->n, i);
        heap_sift_up(heap->items, i);
    }
    job->heap_index = NOT_IN_HEAP;
}

/* The first of the heap's jobs due at now_ns, or NULL. */
static struct arb_job *heap_due(const struct job_heap *heap, int64_t now_ns)
{
    return heap->n > 0 && heap->items[0]->due_ns <= now_ns ? heap->items[0] : NULL;
}

static struct job_heap *heap_of(struct arb_jobs *jobs, const struct arb_job *job)
{
    return job->state == ARB_JOB_DEADLETTER_BACKOFF ? &jobs->deadletters : &jobs->retries;
}

/* ---- a job's life and death ---- */

/* Done or dropped: gone once no effect names it. */
static void retire(struct arb_job *job)
{
    job->retired = true;
    job->entry = NULL;
    if (job->named == 0)
        arb_job_free(job);
}

static void release(struct arb_job *job)
{
    assert(job->named > 0);
    if (--job->named == 0 && job->retired)
        arb_job_free(job);
}

static void orphan(struct arb_jobs *jobs, struct arb_job *job)
{
    job->orphaned = true;
    job->entry = NULL;
    jobs->stats.orphans++;
    job->orphan_prev = NULL;
    job->orphan_next = jobs->orphans;
    if (jobs->orphans != NULL)
        jobs->orphans->orphan_prev = job;
    jobs->orphans = job;
}

static void unorphan(struct arb_jobs *jobs, struct arb_job *job)
{
    jobs->stats.orphans--;
    if (job->orphan_prev != NULL)
        job->orphan_prev->orphan_next = job->orphan_next;
    else
        jobs->orphans = job->orphan_next;
    if (job->orphan_next != NULL)
        job->orphan_next->orphan_prev = job->orphan_prev;
    retire(job);
}

/* ---- effects ---- */

static struct arb_job_effect *push(struct arb_jobs *jobs, enum arb_job_effect_kind kind,
                                   struct arb_job *job)
{
    if (jobs->end == jobs->effects_cap && jobs->first > 0) {
        memmove(jobs->effects, jobs->effects + jobs->first,
                (jobs->end - jobs->first) * sizeof(*jobs->effects));
        jobs->end -= jobs->first;
        jobs->first = 0;
    }
    if (jobs->end == jobs->effects_cap) {
        jobs->effects_cap = jobs->effects_cap ? 2 * jobs->effects_cap : 16;
        jobs->effects =
            arb_xrealloc(jobs->effects, jobs->effects_cap * sizeof(*jobs->effects));
    }
    struct arb_job_effect *effect = &jobs->effects[jobs->end++];
    *effect = (struct arb_job_effect){.kind = kind, .job = job};
    if (job != NULL) {
        job->named++;
        effect->origin = job->origin;
    }
    return effect;
}

/* A SEND, DEADLETTER or WAKE of a job retired since is not for the driver any more. */
static bool stale(const struct arb_job_effect *effect)
{
    return effect->job != NULL && effect->job->retired &&
           (effect->kind == ARB_JOB_SEND || effect->kind == ARB_JOB_DEADLETTER ||
            effect->kind == ARB_JOB_WAKE);
}

bool arb_jobs_effect(struct arb_jobs *jobs, struct arb_job_effect *out)
{
    if (jobs->returned != NULL) {
        release(jobs->returned);
        jobs->returned = NULL;
    }
    while (jobs->first < jobs->end) {
        struct arb_job_effect *effect = &jobs->effects[jobs->first++];
        if (effect->kind == ARB_JOB_SEND || effect->kind == ARB_JOB_DEADLETTER)
            effect->job->io_queued = false;
        if (stale(effect)) {
            release(effect->job);
            continue;
        }
        *out = *effect;
        jobs->returned = effect->job;
        return true;
    }
    jobs->first = jobs->end = 0;
    return false;
}

/* ---- the life of a job ---- */

static void report(struct arb_jobs *jobs, struct arb_job *job, enum arb_outcome_status status,
                   int64_t now_ns)
{
    arb_job_outcome(job, status, now_ns, &push(jobs, ARB_JOB_OUTCOME, job)->outcome);
}

/* The record reached the desk or the dead letter (or needs neither): its conversation and
 * partition move on. */
static void finish(struct arb_jobs *jobs, struct arb_job *job)
{
    int64_t offset = arb_ordering_done(jobs->ordering, job->entry);
    int part = job->part;
    retire(job);
    if (offset < 0)
        return;
    struct arb_job_effect *commit = push(jobs, ARB_JOB_COMMIT, NULL);
    commit->part = part;
    commit->offset = offset;
}

static void schedule(struct arb_jobs *jobs, struct arb_job *job, enum arb_job_state state,
                     int64_t delay_ms, int64_t now_ns)
{
    job->state = state;
    job->due_ns = now_ns + delay_ms * NS_PER_MS;
    heap_push(heap_of(jobs, job), job);
    struct arb_job_effect *wake = push(jobs, ARB_JOB_WAKE, job);
    wake->at_ns = job->due_ns;
    wake->answer = state == ARB_JOB_BACKOFF ? job->answer : NULL;
}

static void deadletter(struct arb_jobs *jobs, struct arb_job *job)
{
    job->deadletter_attempts++;
    job->state = ARB_JOB_DEADLETTERING;
    arb_job_make_deadletter(job);
    push(jobs, ARB_JOB_DEADLETTER, job)->deadletter = &job->deadletter;
    job->io_queued = true;
}

static bool build(struct arb_jobs *jobs, struct arb_job *job)
{
    struct arb_error err;
    if (arb_delivery_build(jobs->builder, job->value, job->value_len,
                           arb_job_header(job, "airudder-request-id"), &job->delivery,
                           &err) != 0) {
        snprintf(job->reason, sizeof(job->reason), "cannot build the delivery: %s", err.message);
        return false;
    }
    job->built = true;
    return true;
}

/* A job about to go for the first time whose key its partition delivered: done, unsent.
 * False when it must go (or cannot be built: send dead-letters it). */
static bool skip_delivered(struct arb_jobs *jobs, struct arb_job *job, int64_t now_ns)
{
    if (jobs->seen == NULL || job->attempts > 0 || (!job->built && !build(jobs, job)))
        return false;
    if (!arb_seen_check(jobs->seen, job->part, job->delivery.idempotency_key,
                        now_ns / NS_PER_MS))
        return false;
    push(jobs, ARB_JOB_SKIPPED, job)->delivery = &job->delivery;
    report(jobs, job, ARB_OUTCOME_SKIPPED, now_ns);
    finish(jobs, job);
    return true;
}

static void send(struct arb_jobs *jobs, struct arb_job *job, int64_t now_ns)
{
    if (!job->built && !build(jobs, job)) {
        deadletter(jobs, job);
        return;
    }
    if (job->attempts++ == 0)
        job->first_attempt_ns = now_ns;
    job->state = ARB_JOB_SENDING;
    job->io = NULL;
    jobs->stats.running++;
    jobs->stats.attempts++;
    push(jobs, ARB_JOB_SEND, job)->delivery = &job->delivery;
    job->io_queued = true;
}

static bool may_start(struct arb_jobs *jobs, int64_t now_ns)
{
    return jobs->stats.running < (size_t)jobs->desk->max_in_flight &&
           arb_rate_wait_ns(&jobs->rate, now_ns) == 0;
}

static void start(struct arb_jobs *jobs, struct arb_job *job, int64_t now_ns)
{
    if (skip_delivered(jobs, job, now_ns))
        return;
    arb_rate_take(&jobs->rate, now_ns);
    send(jobs, job, now_ns);
}

void arb_jobs_run(struct arb_jobs *jobs, int64_t now_ns)
{
    struct arb_job *job;
    while ((job = heap_due(&jobs->deadletters, now_ns)) != NULL) {
        heap_remove(&jobs->deadletters, job);
        deadletter(jobs, job);
    }
    while ((job = heap_due(&jobs->retries, now_ns)) != NULL && may_start(jobs, now_ns)) {
        heap_remove(&jobs->retries, job);
        start(jobs, job, now_ns);
    }
    while (may_start(jobs, now_ns)) {
        struct arb_entry *entry = arb_ordering_next(jobs->ordering);
        if (entry == NULL)
            break;
        start(jobs, arb_entry_data(entry), now_ns);
    }
}

int64_t arb_jobs_expiry(struct arb_jobs *jobs, int64_t now_ns)
{
    int64_t at = jobs->deadletters.n > 0 ? jobs->deadletters.items[0]->due_ns : INT64_MAX;
    /* A retry due while every post slot is taken waits for an answer, not for the time. */
    bool room = jobs->stats.running < (size_t)jobs->desk->max_in_flight;
    if (room && jobs->retries.n > 0 && jobs->retries.items[0]->due_ns < at)
        at = jobs->retries.items[0]->due_ns;
    int64_t token = arb_rate_wait_ns(&jobs->rate, now_ns);
    if (token > 0 && token < at - now_ns)
        at = now_ns + token;
    return at;
}

/* Reachable after any answer but 5xx, 429 or none; the changes are effects. */
static void note_desk(struct arb_jobs *jobs, struct arb_job *job)
{
    long status = job->last_status;
    bool reachable = status != 0 && status < 500 && status != 429;
    if (reachable == jobs->desk_reachable)
        return;
    jobs->desk_reachable = reachable;
    struct arb_job_effect *desk = push(jobs, ARB_JOB_DESK, job);
    desk->desk_reachable = reachable;
    desk->answer = status != 0 ? job->answer : job->last_error;
}

void arb_jobs_answered(struct arb_jobs *jobs, struct arb_job *job,
                       const struct arb_job_answer *answer, int64_t now_ns)
{
    assert(job->state == ARB_JOB_SENDING && !job->retired);
    jobs->stats.running--;
    arb_job_note_answer(job, answer, now_ns);
    note_desk(jobs, job);

    int64_t elapsed_ms = (now_ns - job->first_attempt_ns) / NS_PER_MS;
    struct arb_retry_decision decision =
        arb_retry_decide(&jobs->policy, answer->status, job->attempts, elapsed_ms,
                         answer->retry_after_ms, next_random(jobs));
    switch (decision.verdict) {
    case ARB_VERDICT_DELIVERED:
        if (jobs->seen != NULL)
            arb_seen_remember(jobs->seen, job->part, job->delivery.idempotency_key,
                              now_ns / NS_PER_MS);
        jobs->stats.delivered++;
        report(jobs, job, ARB_OUTCOME_DELIVERED, now_ns);
        finish(jobs, job);
        return;
    case ARB_VERDICT_RETRY:
        jobs->stats.retried++;
        schedule(jobs, job, ARB_JOB_BACKOFF, decision.delay_ms, now_ns);
        return;
    case ARB_VERDICT_REJECTED:
        snprintf(job->reason, sizeof(job->reason), "desk refused it (%s)", job->answer);
        break;
    case ARB_VERDICT_EXHAUSTED:
        snprintf(job->reason, sizeof(job->reason), "gave up after %u attempts in %lld s (%s)",
                 job->attempts, (long long)(elapsed_ms / 1000), job->answer);
        break;
    }
    deadletter(jobs, job);
}

void arb_jobs_deadlettered(struct arb_jobs *jobs, struct arb_job *job, int64_t now_ns)
{
    if (job->orphaned) {
        unorphan(jobs, job);
        return;
    }
    assert(job->state == ARB_JOB_DEADLETTERING && !job->retired);
    jobs->stats.deadlettered++;
    report(jobs, job, ARB_OUTCOME_DEADLETTERED, now_ns);
    finish(jobs, job);
}

bool arb_jobs_deadletter_failed(struct arb_jobs *jobs, struct arb_job *job, int64_t now_ns)
{
    if (job->orphaned) {
        unorphan(jobs, job);
        return false;
    }
    assert(job->state == ARB_JOB_DEADLETTERING && !job->retired);
    schedule(jobs, job, ARB_JOB_DEADLETTER_BACKOFF,
             arb_retry_deadletter_ms(job->deadletter_attempts, next_random(jobs)), now_ns);
    return true;
}

/* ---- partitions ---- */

/* free_data of the ordering: a job whose partition is dropped. */
static void forget(void *data)
{
    struct arb_job *job = data;
    struct arb_jobs *jobs = job->jobs;

    if (job->heap_index != NOT_IN_HEAP)
        heap_remove(heap_of(jobs, job), job);
    if (job->state == ARB_JOB_SENDING) {
        jobs->stats.running--;
        if (job->io != NULL) /* else its SEND was not taken yet, and never will be */
            push(jobs, ARB_JOB_ABORT, NULL)->io = job->io;
    }
    if (job->state == ARB_JOB_DEADLETTERING && !job->io_queued) {
        orphan(jobs, job); /* finished by its report */
        return;
    }
    retire(job);
}

void arb_jobs_drop_partition(struct arb_jobs *jobs, int part)
{
    arb_ordering_drop_partition(jobs->ordering, part, forget);
    if (jobs->seen != NULL)
        arb_seen_drop(jobs->seen, part);
}

void arb_jobs_abandon(struct arb_jobs *jobs)
{
    for (int part = 0; part <= jobs->max_part; part++)
        arb_jobs_drop_partition(jobs, part);
}

void arb_jobs_add(struct arb_jobs *jobs, int part, const struct arb_job_record *record)
{
    struct arb_job *job = arb_job_new(jobs, part, record);
    job->entry = arb_ordering_add(jobs->ordering, part, record->offset, job->key, job);
    if (part > jobs->max_part)
        jobs->max_part = part;
}

/* ---- set-up ---- */

struct arb_jobs *arb_jobs_new(const struct arb_desk_conf *desk, uint64_t seed, int64_t now_ns)
{
    struct arb_jobs *jobs = arb_xcalloc(1, sizeof(*jobs));
    jobs->desk = desk;
    jobs->ordering = arb_ordering_new();
    jobs->builder = arb_delivery_builder_new(desk);
    jobs->policy = (struct arb_retry_policy){
        .base_ms = desk->retry_base_ms,
        .cap_ms = desk->retry_cap_ms,
        .max_total_ms = (int64_t)desk->max_retry_s * 1000,
    };
    arb_rate_init(&jobs->rate, desk->rate_limit_rps, 0, now_ns);
    jobs->random_state = seed ^ 0x9E3779B97F4A7C15ULL;
    if (jobs->random_state == 0)
        jobs->random_state = 1; /* xorshift stays at 0 */
    jobs->desk_reachable = true;
    return jobs;
}

void arb_jobs_dedup(struct arb_jobs *jobs, int64_t window_ms, size_t max_entries)
{
    if (jobs->seen == NULL && window_ms > 0)
        jobs->seen = arb_seen_new(window_ms, max_entries);
}

void arb_jobs_destroy(struct arb_jobs *jobs)
{
    if (jobs == NULL)
        return;
    arb_ordering_destroy(jobs->ordering, forget);
    if (jobs->returned != NULL)
        release(jobs->returned);
    for (size_t i = jobs->first; i < jobs->end; i++)
        if (jobs->effects[i].job != NULL)
            release(jobs->effects[i].job);
    while (jobs->orphans != NULL)
        unorphan(jobs, jobs->orphans);
    free(jobs->effects);
    free(jobs->retries.items);
    free(jobs->deadletters.items);
    arb_delivery_builder_destroy(jobs->builder);
    arb_seen_destroy(jobs->seen);
    free(jobs);
}

/* ---- what it holds ---- */

size_t arb_jobs_pending(const struct arb_jobs *jobs, int part)
{
    return arb_ordering_pending(jobs->ordering, part);
}

size_t arb_jobs_total(const struct arb_jobs *jobs)
{
    return arb_ordering_total(jobs->ordering);
}

void arb_jobs_stats(const struct arb_jobs *jobs, struct arb_jobs_stats *stats)
{
    *stats = jobs->stats;
    stats->held = arb_ordering_total(jobs->ordering);
    if (jobs->seen != NULL)
        arb_seen_stats(jobs->seen, &stats->seen);
    else
        memset(&stats->seen, 0, sizeof(stats->seen));
}
