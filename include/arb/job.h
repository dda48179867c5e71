/* job.h - one job of the replay's delivery engine (jobs.h): the record it copied, where it
 * is in its life, what it learnt on the way (attempts, the desk's last answer, why it goes
 * to the dead letter), and what is made of that: its dead letter, its outcome. Only
 * jobs.c, which schedules jobs, sees inside one; drivers hold struct arb_job as a handle. */
#ifndef ARB_JOB_H
#define ARB_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arb/delivery.h"
#include "arb/jobs.h"
#include "arb/outcome.h"

struct arb_entry;

enum arb_job_state {
    ARB_JOB_QUEUED,             /* in the ordering, not sent yet */
    ARB_JOB_SENDING,            /* a post is (to be) under way */
    ARB_JOB_BACKOFF,            /* waiting in the heap for its next post */
    ARB_JOB_DEADLETTERING,      /* its dead letter is (to be) in Kafka's hands */
    ARB_JOB_DEADLETTER_BACKOFF, /* waiting in the heap to write it again */
};

struct arb_job {
    struct arb_jobs *jobs;
    struct arb_entry *entry; /* NULL once retired or orphaned */
    int part;
    char *topic;
    int32_t partition;
    int64_t offset;
    char *key, *value;
    size_t key_len, value_len;
    struct arb_header *headers; /* the record's, names and values in the same allocation */
    size_t nheaders;
    char origin[ARB_JOB_ORIGIN_MAX];

    enum arb_job_state state;
    void *io;
    struct arb_delivery delivery;
    bool built;
    unsigned attempts, deadletter_attempts;
    int64_t first_attempt_ns, last_attempt_ns;
    long last_status;
    char last_error[128];
    char answer[160];                     /* the last answer, for logs and reasons */
    char reason[ARB_ERROR_MSG_MAX + 64];  /* why it is dead-lettered */
    int64_t due_ns;
    size_t heap_index; /* (size_t)-1 when not in the heap */

    struct arb_job_deadletter deadletter;
    struct arb_header *deadletter_headers; /* made with the first dead letter */
    char deadletter_status[16], deadletter_attempts_text[16];

    unsigned named;  /* effects in the FIFO, or last returned, that name it */
    bool io_queued;  /* its SEND or DEADLETTER is in the FIFO, not yet taken */
    bool retired;    /* done or dropped: freed when named drops to 0 */
    bool orphaned;   /* dropped while Kafka holds its dead letter */
    struct arb_job *orphan_next, *orphan_prev;
};

/* A copy of record (its headers: the first ARB_JOB_HEADERS_MAX) for partition part. */
struct arb_job *arb_job_new(struct arb_jobs *jobs, int part,
                            const struct arb_job_record *record);
void arb_job_free(struct arb_job *job);

/* The last value of header name, when short enough to be an id (a msg id, a request id);
 * else NULL. */
const char *arb_job_header(const struct arb_job *job, const char *name);

/* What the desk answered at now_ns: the last attempt's time, status, error, and answer. */
void arb_job_note_answer(struct arb_job *job, const struct arb_job_answer *answer,
                         int64_t now_ns);

/* job->deadletter: the record, its own headers and the airudder-dlq-* ones (reason, last
 * status, attempts, origin). */
void arb_job_make_deadletter(struct arb_job *job);

/* What became of it, done at now_ns; its times in ms of the jobs' clock. */
void arb_job_outcome(const struct arb_job *job, enum arb_outcome_status status,
                     int64_t now_ns, struct arb_outcome *out);

#endif
