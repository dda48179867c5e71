/* job.c - one job of the replay's delivery engine (see job.h). A job copies its record at
 * once: the consumer's message is gone by the time the job is sent, retried or
 * dead-lettered. The headers live in one allocation, names and values NUL-terminated. */
#include "arb/job.h"
#include "arb/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_LOOKUP_MAX 64 /* a header value used as an id is shorter */
#define DEADLETTER_OWN_HEADERS 5
#define NS_PER_MS 1000000

/* The last value of header name, when it is short enough to be an id; else NULL. */
const char *arb_job_header(const struct arb_job *job, const char *name)
{
    for (size_t i = job->nheaders; i-- > 0;) {
        const struct arb_header *h = &job->headers[i];
        if (strcmp(h->name, name) == 0)
            return h->value != NULL && h->len < HEADER_LOOKUP_MAX ? h->value : NULL;
    }
    return NULL;
}

/* The record's headers (at most ARB_JOB_HEADERS_MAX) in one allocation, NUL-terminated. */
static void copy_headers(struct arb_job *job, const struct arb_job_record *record)
{
    size_t n = record->nheaders < ARB_JOB_HEADERS_MAX ? record->nheaders : ARB_JOB_HEADERS_MAX;
    size_t bytes = n * sizeof(struct arb_header);
    for (size_t i = 0; i < n; i++)
        bytes += strlen(record->headers[i].name) + 1 +
                 (record->headers[i].value != NULL ? record->headers[i].len + 1 : 0);
    job->headers = arb_xmalloc(bytes > 0 ? bytes : 1);
    job->nheaders = n;
    char *at = (char *)(job->headers + n);
    for (size_t i = 0; i < n; i++) {
        const struct arb_header *from = &record->headers[i];
        struct arb_header *to = &job->headers[i];
        size_t name_len = strlen(from->name);
        *to = (struct arb_header){at, NULL, 0};
        memcpy(at, from->name, name_len + 1);
        at += name_len + 1;
        if (from->value == NULL)
            continue;
        memcpy(at, from->value, from->len);
        at[from->len] = '\0';
        *to = (struct arb_header){to->name, at, from->len};
        at += from->len + 1;
    }
}

struct arb_job *arb_job_new(struct arb_jobs *jobs, int part,
                            const struct arb_job_record *record)
{
    struct arb_job *job = arb_xcalloc(1, sizeof(*job));
    job->jobs = jobs;
    job->part = part;
    job->topic = arb_xstrdup(record->topic);
    job->partition = record->partition;
    job->offset = record->offset;
    job->key_len = record->key != NULL ? record->key_len : 0;
    job->key = arb_xstrndup(record->key != NULL ? record->key : "", job->key_len);
    job->value_len = record->value != NULL ? record->value_len : 0;
    job->value = arb_xstrndup(record->value != NULL ? record->value : "", job->value_len);
    copy_headers(job, record);
    snprintf(job->origin, sizeof(job->origin), "%s/%d/%lld", job->topic, (int)job->partition,
             (long long)job->offset);
    job->heap_index = (size_t)-1; /* not in the retry heap */
    return job;
}

void arb_job_free(struct arb_job *job)
{
    arb_delivery_clear(&job->delivery);
    free(job->deadletter_headers);
    free(job->headers);
    free(job->topic);
    free(job->key);
    free(job->value);
    free(job);
}

static void describe_answer(struct arb_job *job)
{
    if (job->last_status != 0)
        snprintf(job->answer, sizeof(job->answer), "HTTP %ld", job->last_status);
    else
        snprintf(job->answer, sizeof(job->answer), "no answer: %s", job->last_error);
}

void arb_job_note_answer(struct arb_job *job, const struct arb_job_answer *answer,
                         int64_t now_ns)
{
    job->io = NULL;
    job->last_attempt_ns = now_ns - answer->duration_ns;
    job->last_status = answer->status;
    snprintf(job->last_error, sizeof(job->last_error), "%s", answer->error ? answer->error : "");
    describe_answer(job);
}

void arb_job_make_deadletter(struct arb_job *job)
{
    size_t n = 0, own = job->nheaders < ARB_JOB_HEADERS_MAX - DEADLETTER_OWN_HEADERS
                            ? job->nheaders
                            : ARB_JOB_HEADERS_MAX - DEADLETTER_OWN_HEADERS;
    if (job->deadletter_headers == NULL)
        job->deadletter_headers =
            arb_xcalloc(own + DEADLETTER_OWN_HEADERS, sizeof(*job->deadletter_headers));
    struct arb_header *out = job->deadletter_headers;
    for (; n < own; n++)
        out[n] = job->headers[n];
    snprintf(job->deadletter_status, sizeof(job->deadletter_status), "%ld", job->last_status);
    snprintf(job->deadletter_attempts_text, sizeof(job->deadletter_attempts_text), "%u",
             job->attempts);
    out[n++] = (struct arb_header){"airudder-dlq-source", "replay", strlen("replay")};
    out[n++] = (struct arb_header){"airudder-dlq-reason", job->reason, strlen(job->reason)};
    out[n++] = (struct arb_header){"airudder-dlq-status", job->deadletter_status,
                                   strlen(job->deadletter_status)};
    out[n++] = (struct arb_header){"airudder-dlq-attempts", job->deadletter_attempts_text,
                                   strlen(job->deadletter_attempts_text)};
    out[n++] = (struct arb_header){"airudder-dlq-origin", job->origin, strlen(job->origin)};
    job->deadletter = (struct arb_job_deadletter){job->key,  job->key_len, job->value,
                                                  job->value_len, out, n};
}

void arb_job_outcome(const struct arb_job *job, enum arb_outcome_status status,
                     int64_t now_ns, struct arb_outcome *out)
{
    bool sent = job->attempts > 0;
    *out = (struct arb_outcome){
        .status = status,
        .call_id = job->key,
        .call_id_len = job->key_len,
        .topic = job->topic,
        .partition = job->partition,
        .offset = job->offset,
        .msg_id = arb_job_header(job, "airudder-msg-id"),
        .idempotency_key = job->built ? job->delivery.idempotency_key : NULL,
        .attempts = job->attempts,
        .desk_status = job->last_status,
        .desk_error = job->last_status == 0 && job->last_error[0] != '\0' ? job->last_error
                                                                          : NULL,
        .reason = status == ARB_OUTCOME_DEADLETTERED ? job->reason : NULL,
        .first_attempt_ms = sent ? job->first_attempt_ns / NS_PER_MS : 0,
        .last_attempt_ms = sent ? job->last_attempt_ns / NS_PER_MS : 0,
        .done_ms = now_ns / NS_PER_MS,
    };
}

void arb_job_set_io(struct arb_job *job, void *io)
{
    job->io = io;
}
