/* http_events.c - the events endpoint of the bridge's HTTP front end, once a body is in:
 * the sender's authentication, the dedup window (a repeat of a webhook answered 200 is
 * answered 200 again; one that comes while its first copy waits for Kafka waits for that
 * copy's answer), the event's checks, then the records to Kafka or the body to the
 * dead-letter topic, the request suspended until the producer answers. */
#include "http_internal.h"

#include "arb/clock.h"
#include "arb/log.h"
#include "arb/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct arb_ingest *thread_ingest(struct arb_http_server *server)
{
    struct arb_ingest *ingest = pthread_getspecific(server->ingest_key);
    if (ingest == NULL) {
        ingest = arb_ingest_new(server->conf, arb_producer_max_message(server->producer));
        pthread_setspecific(server->ingest_key, ingest);
    }
    return ingest;
}

struct auth_reader {
    const struct arb_endpoint_conf *endpoint;
    struct arb_auth_request *auth;
};

static void note(struct arb_auth_header *h, const char *value, size_t len)
{
    if (h->count++ == 0) {
        h->value = value;
        h->len = len;
    }
}

static enum MHD_Result read_auth_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                        size_t key_size, const char *value, size_t value_size)
{
    struct auth_reader *reader = cls;
    const struct arb_endpoint_conf *endpoint = reader->endpoint;
    const char *v = value != NULL ? value : "";
    (void)kind;
    (void)key_size;
    if (strcasecmp(key, endpoint->signature->header) == 0)
        note(&reader->auth->signature, v, value_size);
    else if (endpoint->signature->key_header[0] != '\0' &&
             strcasecmp(key, endpoint->signature->key_header) == 0)
        note(&reader->auth->key_id, v, value_size);
    else if (endpoint->token.header[0] != '\0' && strcasecmp(key, endpoint->token.header) == 0)
        note(&reader->auth->token, v, value_size);
    else if (strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION) == 0)
        note(&reader->auth->authorization, v, value_size);
    return MHD_YES;
}

static void read_request(struct request *request, struct arb_ingest_request *req)
{
    const struct arb_endpoint_conf *endpoint = request->verdict.endpoint;
    memset(req, 0, sizeof(*req));
    req->endpoint = endpoint;
    req->received_at_ms = request->received_at_ms;
    req->auth.body = request->body.data != NULL ? request->body.data : "";
    req->auth.len = request->body.len;
    req->auth.path_token = request->verdict.path_token;
    req->auth.path_token_len = request->verdict.path_token_len;
    struct auth_reader reader = {endpoint, &req->auth};
    MHD_get_connection_values_n(request->connection, MHD_HEADER_KIND, read_auth_header, &reader);
}

static void on_produced(void *opaque, enum arb_produce_result result)
{
    struct request *request = opaque;
    request->stored = result == ARB_PRODUCE_OK          ? ARB_STORED_OK
                      : result == ARB_PRODUCE_TOO_LARGE ? ARB_STORED_TOO_LARGE
                                                        : ARB_STORED_RETRIABLE;
    MHD_resume_connection(request->connection);
}

static void suspend(struct request *request)
{
    request->phase = PHASE_WAITING;
    MHD_suspend_connection(request->connection);
}

static void deadletter(struct request *request)
{
    struct arb_ingest_outcome *outcome = &request->outcome;
    const struct arb_deadletter letter = {
        .body = request->body.data,
        .len = request->body.len,
        .call_id = outcome->deadletter_key,
        .reason = outcome->problem.message,
        .request_id = outcome->request_id,
        .received_at_ms = request->received_at_ms,
    };
    arb_log_kv(ARB_LOG_INFO, "invalid event", "request_id", outcome->request_id, "problem",
               outcome->problem.message, NULL);
    suspend(request);
    arb_producer_send_deadletter(request->server->producer, &letter, on_produced, request);
}

/* A first copy's key, until Kafka has the last word on its records. An answer other than
 * 200 (a timeout, a dead producer) does not mean that nothing was stored: the records may
 * still be acknowledged. The key is then in doubt (repeats are told to retry later) until
 * the last delivery report makes it done (all stored) or forgets it. Made when the records
 * are sent; the answer and the last report each mark it, and the second one frees it.
 * Guarded by the server's dedup lock. */
struct arb_doubt {
    struct arb_http_server *server;
    struct arb_dedup_key key;
    enum { DOUBT_UNANSWERED, DOUBT_ANSWERED, DOUBT_IN_DOUBT } answer;
    bool settled, stored; /* the last report is in; every record was stored */
};

static void resume_waiters(struct arb_dedup_waiter *waiters, const struct arb_answer *answer)
{
    while (waiters != NULL) {
        struct request *waiter = (struct request *)waiters;
        waiters = waiters->next;
        waiter->copied = *answer;
        if (answer->detail != NULL) {
            snprintf(waiter->copied_detail, sizeof(waiter->copied_detail), "%s", answer->detail);
            waiter->copied.detail = waiter->copied_detail;
        }
        MHD_resume_connection(waiter->connection);
    }
}

/* The last delivery report of a first copy's records (the producer's thread). */
static void on_settled(void *opaque, bool stored)
{
    struct arb_doubt *doubt = opaque;
    struct arb_http_server *server = doubt->server;
    bool done_with_it = true;

    pthread_mutex_lock(&server->dedup_lock);
    if (doubt->answer == DOUBT_UNANSWERED) {
        doubt->settled = true;
        doubt->stored = stored;
        done_with_it = false; /* the answer, still to come, decides and frees */
    } else if (doubt->answer == DOUBT_IN_DOUBT) {
        arb_dedup_finish(server->dedup, &doubt->key, stored, arb_wall_ms()); /* no waiters */
    }
    pthread_mutex_unlock(&server->dedup_lock);
    if (done_with_it)
        free(doubt);
}

/* The first copy's answer is also that of the repeats that waited for it; its key is done,
 * forgotten, or in doubt (see struct arb_doubt). */
static void finish_dedup(struct request *request, const struct arb_answer *answer)
{
    struct arb_http_server *server = request->server;
    struct arb_doubt *doubt = request->doubt;
    struct arb_dedup_waiter *waiters;
    bool free_doubt = false;

    if (!request->dedup_first)
        return;
    request->dedup_first = false;
    request->doubt = NULL;
    pthread_mutex_lock(&server->dedup_lock);
    if (answer->status != 200 && doubt != NULL && !doubt->settled) {
        doubt->answer = DOUBT_IN_DOUBT;
        waiters = arb_dedup_doubt(server->dedup, &request->key);
    } else {
        bool done = answer->status == 200 || (doubt != NULL && doubt->stored);
        waiters = arb_dedup_finish(server->dedup, &request->key, done, request->received_at_ms);
        if (doubt != NULL) {
            doubt->answer = DOUBT_ANSWERED;
            free_doubt = doubt->settled;
        }
    }
    pthread_mutex_unlock(&server->dedup_lock);
    if (free_doubt)
        free(doubt);
    resume_waiters(waiters, answer);
}

void arb_http_event_completed(struct request *request)
{
    const struct arb_answer unanswered = {503, "kafka_unavailable", NULL};
    finish_dedup(request, &unanswered);
}

static enum MHD_Result answer_now(struct request *request, const struct arb_answer *answer)
{
    finish_dedup(request, answer);
    return arb_http_respond_answer(request, answer);
}

/* Is this webhook's request id one already answered 200, or under way? */
static enum arb_dedup_state check_dedup(struct request *request)
{
    struct arb_http_server *server = request->server;
    enum arb_dedup_state state;

    if (server->dedup == NULL ||
        arb_dedup_key_of(request->outcome.request_id, 0, &request->key) != 0)
        return ARB_DEDUP_UNTRACKED;
    pthread_mutex_lock(&server->dedup_lock);
    state = arb_dedup_begin(server->dedup, &request->key, request->received_at_ms,
                            &request->waiter);
    if (state == ARB_DEDUP_PENDING) /* suspended before the first copy can resume it */
        suspend(request);
    pthread_mutex_unlock(&server->dedup_lock);
    request->dedup_first = state == ARB_DEDUP_NEW;
    request->dedup_waiter = state == ARB_DEDUP_PENDING;
    return state;
}

static void log_refusal(const struct request *request)
{
    const char *msg = request->verdict.endpoint->auth == ARB_AUTH_SIGNATURE
                          ? "signature rejected"
                          : "sender rejected";
    arb_log_kv(ARB_LOG_WARN, msg, "reason", request->outcome.problem.message, NULL);
}

/* The records go to Kafka, counted against the in-flight bytes until they are answered. */
static enum MHD_Result produce(struct request *request)
{
    struct arb_http_server *server = request->server;
    struct arb_recordset *records = request->outcome.records;
    const struct arb_answer overloaded = {503, "overloaded", "too many requests in progress"};

    if (!arb_http_take(&server->held_bytes, &request->held, (long long)records->bytes,
              server->conf->http.max_in_flight_bytes))
        return answer_now(request, &overloaded);
    request->call_id = arb_xstrndup(records->key, records->key_len);
    request->outcome.records = NULL; /* the producer owns them now */
    request->length = request->body.len;
    arb_buf_free(&request->body);
    if (request->dedup_first) {
        request->doubt = arb_xcalloc(1, sizeof(*request->doubt));
        request->doubt->server = server;
        request->doubt->key = request->key;
    }
    suspend(request);
    arb_producer_send(server->producer, records, on_produced, request,
                      request->doubt != NULL ? on_settled : NULL, request->doubt);
    return MHD_YES;
}

/* The whole body is in: authenticate, deduplicate, decide, store. */
enum MHD_Result arb_http_event_body(struct request *request)
{
    struct arb_http_server *server = request->server;
    struct arb_ingest *ingest = thread_ingest(server);
    struct arb_ingest_request req;
    struct arb_answer answer;
    const struct arb_answer overloaded = {503, "overloaded", "too many requests in progress"};
    const struct arb_answer done = {200, NULL, NULL};
    const struct arb_answer in_doubt = {503, "kafka_unavailable",
                                        "an earlier copy of this event may yet be stored"};

    read_request(request, &req);
    if (arb_ingest_authenticate(ingest, &req, &request->outcome) != 0) {
        log_refusal(request);
        arb_ingest_answer(&request->outcome, ARB_STORED_OK, &answer);
        return arb_http_respond_answer(request, &answer);
    }
    arb_http_give_back(&server->unverified_bytes, &request->unverified);
    request->counted_active = true;
    if (atomic_fetch_add(&server->events_active, 1) >= (size_t)server->conf->http.max_in_flight)
        return arb_http_respond_answer(request, &overloaded);
    switch (check_dedup(request)) {
    case ARB_DEDUP_DONE:
        atomic_fetch_add(&server->dedup_answers, 1);
        return arb_http_respond_answer(request, &done);
    case ARB_DEDUP_PENDING:
        atomic_fetch_add(&server->dedup_answers, 1);
        return MHD_YES;
    case ARB_DEDUP_IN_DOUBT:
        atomic_fetch_add(&server->dedup_answers, 1);
        return arb_http_respond_answer(request, &in_doubt);
    default:
        break;
    }
    arb_ingest_decide(ingest, &req, &request->outcome);
    switch (request->outcome.action) {
    case ARB_INGEST_PRODUCE:
        return produce(request);
    case ARB_INGEST_DEADLETTER:
        request->call_id = request->outcome.deadletter_key != NULL
                               ? arb_xstrdup(request->outcome.deadletter_key)
                               : NULL;
        deadletter(request);
        return MHD_YES;
    case ARB_INGEST_ANSWER:
        break;
    }
    arb_log_kv(ARB_LOG_INFO, "event refused", "request_id", request->outcome.request_id,
               "problem", request->outcome.problem.message, NULL);
    arb_ingest_answer(&request->outcome, ARB_STORED_OK, &answer);
    return answer_now(request, &answer);
}

/* Called again after the connection was resumed: Kafka answered, or the first copy did. */
enum MHD_Result arb_http_event_resumed(struct request *request)
{
    struct arb_answer answer;
    request->phase = PHASE_BODY;
    if (request->dedup_waiter)
        return arb_http_respond_answer(request, &request->copied);
    arb_ingest_answer(&request->outcome, request->stored, &answer);
    return answer_now(request, &answer);
}

