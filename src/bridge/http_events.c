/* http_events.c - the events endpoint of the bridge's HTTP front end, once a body is in:
 * the sender's authentication, the dedup window (a repeat of a webhook answered 200 is
 * answered 200 again; one that comes while its first copy waits for Kafka waits for that
 * copy's answer), the event's checks, then the records to Kafka or the body to the
 * dead-letter topic, the request suspended until the producer answers. */
#include "http_internal.h"

#include "arb/log.h"
#include "arb/mem.h"

#include <stdio.h>
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

/* The first copy's answer is also that of the repeats that waited for it. */
static void finish_dedup(struct request *request, const struct arb_answer *answer)
{
    struct arb_http_server *server = request->server;
    struct arb_dedup_waiter *waiters;

    if (!request->dedup_first)
        return;
    request->dedup_first = false;
    pthread_mutex_lock(&server->dedup_lock);
    waiters = arb_dedup_finish(server->dedup, &request->key, answer->status == 200,
                               request->received_at_ms);
    pthread_mutex_unlock(&server->dedup_lock);
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
    suspend(request);
    arb_producer_send(server->producer, records, on_produced, request);
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

