/* jobs.h - the replay's delivery decisions: what becomes of each consumed record, when, and
 * what that means for its partition's commit. No I/O: the driver (src/replay/pipeline.c)
 * hands in records, the time, the desk's answers and Kafka's reports on dead letters, and
 * performs the effects this module returns.
 *
 * Each record is a job:
 *
 *   queued -> sending -> done                          (2xx)
 *                     -> backoff -> sending ...        (408, 429, 5xx, no answer)
 *                     -> dead-lettering -> done        (another answer, or out of retry time)
 *                            \-> dead-letter backoff -> dead-lettering ...   (Kafka refused)
 *
 * A job is sent only after every earlier job of its conversation (the record key) is done
 * (core/ordering.c), at most desk.max_in_flight at once and desk.rate_limit_rps a second
 * (core/rate.c); what an answer means, and how long a backoff lasts, is core/retry.c's, the
 * dead letter's pause included. A partition may be committed up to its oldest job not done.
 * With dedup on (service mode) a job whose Idempotency-Key its partition delivered within
 * the window (core/seen.c) is done when it comes up to go, unsent (its outcome: skipped); a
 * key is remembered only when the desk answered 2xx.
 *
 * The driver's loop: add the records it consumed, call arb_jobs_run with the time, sleep no
 * later than arb_jobs_expiry, hand in what finished, and after every call take the effects
 * (arb_jobs_effect) until there are none, performing each in order. Single-threaded. */
#ifndef ARB_JOBS_H
#define ARB_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arb/config.h"
#include "arb/delivery.h"
#include "arb/header.h"
#include "arb/outcome.h"
#include "arb/seen.h"

/* A record's headers beyond this many are not kept (the bridge writes seven). */
#define ARB_JOB_HEADERS_MAX 64
/* Room for "topic/partition/offset". */
#define ARB_JOB_ORIGIN_MAX (ARB_TOPIC_MAX + 48)

struct arb_jobs;
struct arb_job;

/* A consumed record; every byte is copied. */
struct arb_job_record {
    const char *topic;
    int32_t partition;
    int64_t offset;
    const char *key; /* NULL: none */
    size_t key_len;
    const char *value; /* NULL: none */
    size_t value_len;
    const struct arb_header *headers; /* values may be NULL */
    size_t nheaders;
};

/* What the desk said to a post. */
struct arb_job_answer {
    long status;            /* 0: no answer (timeout, connection) */
    int64_t retry_after_ms; /* -1: none */
    int64_t duration_ns;
    const char *error; /* why there was no answer, or NULL */
};

/* The dead letter of a job: the record whole, its own headers and the airudder-dlq-* ones. */
struct arb_job_deadletter {
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
    const struct arb_header *headers;
    size_t nheaders;
};

enum arb_job_effect_kind {
    ARB_JOB_SEND,       /* post delivery to the desk; then arb_jobs_answered */
    ARB_JOB_ABORT,      /* cancel the post io stands for (arb_job_set_io); no answer follows */
    ARB_JOB_DEADLETTER, /* produce deadletter; then arb_jobs_deadlettered or _deadletter_failed */
    ARB_JOB_WAKE,       /* the job is due again at at_ns (a retry, or its dead letter's) */
    ARB_JOB_SKIPPED,    /* done unsent: its partition delivered its Idempotency-Key already */
    ARB_JOB_OUTCOME,    /* done: delivered, dead-lettered or skipped (for the delivery log) */
    ARB_JOB_COMMIT,     /* partition part may be committed up to offset (the next to read) */
    ARB_JOB_DESK,       /* the desk became reachable or unreachable (desk_reachable) */
};

struct arb_job_effect {
    enum arb_job_effect_kind kind;
    struct arb_job *job; /* NULL for ABORT and COMMIT; DESK: the job answered */
    const char *origin;  /* "topic/partition/offset" of job */
    const struct arb_delivery *delivery;         /* SEND; SKIPPED: its Idempotency-Key */
    void *io;                                    /* ABORT */
    const struct arb_job_deadletter *deadletter; /* DEADLETTER */
    int64_t at_ns;                               /* WAKE */
    const char *answer; /* WAKE of a desk retry, DESK: the answer ("HTTP 503", the error) */
    /* OUTCOME: every field but mode; the times are milliseconds of the jobs' clock. */
    struct arb_outcome outcome;
    int part;       /* COMMIT */
    int64_t offset; /* COMMIT */
    bool desk_reachable; /* DESK: after a 2xx..4xx other than 429; not after 5xx, 429, none */
};

struct arb_jobs_stats {
    uint64_t delivered, retried, deadlettered, attempts; /* retried: answers to be repeated */
    size_t held;    /* records taken, not done */
    size_t running; /* posts under way */
    size_t orphans; /* dead letters in Kafka's hands whose partition was dropped */
    struct arb_seen_stats seen;
};

/* desk: the deliveries' format and signature (prepared, and outliving the jobs), the retry
 * policy, max_in_flight and the rate limit. seed: of the jitter. now_ns: any clock, the one
 * every later call passes. */
struct arb_jobs *arb_jobs_new(const struct arb_desk_conf *desk, uint64_t seed, int64_t now_ns);
void arb_jobs_destroy(struct arb_jobs *jobs);

/* From now on, skip a job whose Idempotency-Key its partition delivered less than window_ms
 * ago (at most max_entries keys a partition). Not called: every job is sent. */
void arb_jobs_dedup(struct arb_jobs *jobs, int64_t window_ms, size_t max_entries);

/* Take a record of partition part (a small index >= 0 of the caller's); the records of one
 * partition come in offset order. */
void arb_jobs_add(struct arb_jobs *jobs, int part, const struct arb_job_record *record);

/* Start what is due and may start: dead letters due again (written whatever the desk),
 * then retries (oldest of their conversations), then the jobs next in their conversations. */
void arb_jobs_run(struct arb_jobs *jobs, int64_t now_ns);

/* When arb_jobs_run has something to start next (a retry, a rate-limit token), at the
 * earliest; INT64_MAX when nothing is waiting for time (a retry waiting for a post slot
 * waits for an answer: arb_jobs_answered frees the slot). */
int64_t arb_jobs_expiry(struct arb_jobs *jobs, int64_t now_ns);

/* The desk answered a SEND of job. */
void arb_jobs_answered(struct arb_jobs *jobs, struct arb_job *job,
                       const struct arb_job_answer *answer, int64_t now_ns);
/* Kafka acknowledged job's dead letter. */
void arb_jobs_deadlettered(struct arb_jobs *jobs, struct arb_job *job, int64_t now_ns);
/* Kafka did not take it: true when it is to be written again (false: its partition was
 * dropped meanwhile, and the job is gone). */
bool arb_jobs_deadletter_failed(struct arb_jobs *jobs, struct arb_job *job, int64_t now_ns);

/* Forget a partition's jobs (revoked), uncommitted, and its dedup window: a post under way
 * is aborted (ABORT), so no two jobs of one conversation are ever out at once; a dead letter
 * in Kafka's hands is waited for, but its report finishes nothing. Jobs of other partitions
 * waiting behind them in a conversation may go. */
void arb_jobs_drop_partition(struct arb_jobs *jobs, int part);
/* Every partition: give up on everything held. */
void arb_jobs_abandon(struct arb_jobs *jobs);

/* The next effect to perform, in order; false when there is none. Its pointers stay valid
 * until the next call of arb_jobs_effect or arb_jobs_destroy. */
bool arb_jobs_effect(struct arb_jobs *jobs, struct arb_job_effect *out);

/* What the driver attaches to job's post under way, handed back by ABORT. */
void arb_job_set_io(struct arb_job *job, void *io);

size_t arb_jobs_pending(const struct arb_jobs *jobs, int part); /* taken, not done */
size_t arb_jobs_total(const struct arb_jobs *jobs);             /* every partition */
void arb_jobs_stats(const struct arb_jobs *jobs, struct arb_jobs_stats *stats);

#endif
