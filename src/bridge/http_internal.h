/* http_internal.h - what the files of the bridge's HTTP front end share: the server, a
 * request's state, and the helpers that answer and count. http_server.h is the interface;
 * this is the inside of it (http_server.c: reading and dispatch; http_events.c: the events
 * endpoint; http_operator.c: readiness and metrics). */
#ifndef ARB_HTTP_INTERNAL_H
#define ARB_HTTP_INTERNAL_H

#include "http_server.h"
#include "producer.h"

#include "arb/buf.h"
#include "arb/dedup.h"
#include "arb/edge.h"
#include "arb/ingest.h"
#include "arb/metrics.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* The statuses the bridge answers (counted per route); anything else is counted as 500. */
#define ARB_HTTP_NSTATUSES 10
extern const int arb_http_statuses[ARB_HTTP_NSTATUSES];
#define ARB_HTTP_OPERATOR_ROUTES 4 /* after the endpoints: /healthz, /readyz, /metrics, others */

struct arb_http_server {
    const struct arb_bridge_conf *conf;
    struct arb_producer *producer;
    struct MHD_Daemon *daemon;
    struct arb_http_guard *guard;
    pthread_key_t ingest_key; /* each worker thread's ingest */
    bool ingest_key_made;
    pthread_mutex_t dedup_lock;
    struct arb_dedup *dedup; /* NULL when dedup.window_s is 0 */
    atomic_bool quiescing;
    atomic_size_t active;        /* requests of any path being handled */
    atomic_size_t events_active; /* authenticated event requests: the in-flight gauge */
    atomic_llong unverified_bytes, held_bytes;
    atomic_uint_fast64_t (*requests)[ARB_HTTP_NSTATUSES]; /* per endpoint, then operator */
    size_t nroutes;
    atomic_uint_fast64_t dedup_answers;
    struct arb_histogram duration;
    char *tls_cert, *tls_key; /* PEM text, NUL-terminated; NULL for plain HTTP */
    size_t tls_key_len;
};

enum phase { PHASE_HEAD = 0, PHASE_BODY, PHASE_WAITING };

struct request {
    struct arb_dedup_waiter waiter; /* first: a waiter is its request */
    struct arb_http_server *server;
    struct MHD_Connection *connection;
    struct arb_conn *conn;
    char *raw_uri;
    enum phase phase;
    struct arb_head_verdict verdict;
    size_t route; /* for the metrics */
    int64_t started_ns, received_at_ms;
    struct arb_buf body;
    size_t discarded, length;
    long long unverified, held; /* bytes counted in the server's budgets */
    bool too_large, overloaded, counted_active, answered;
    struct arb_ingest_outcome outcome;
    enum arb_stored stored;
    struct arb_dedup_key key;
    bool dedup_first;  /* the first copy: finishes the key */
    struct arb_doubt *doubt; /* the first copy's records are with Kafka: see http_events.c */
    bool dedup_waiter; /* a repeat waiting for the first copy's answer */
    struct arb_answer copied;  /* a waiter's answer, detail in copied_detail */
    char copied_detail[ARB_ERROR_MSG_MAX];
    char *call_id; /* for the access log, when known */
    int status;
    int64_t answered_ns;
};

/* Answers: body as given; {} for 200, else {"error", "detail"}; an ingest answer. */
enum MHD_Result arb_http_respond(struct request *request, int status, const char *body,
                                 const char *allow, bool close, bool challenge);
enum MHD_Result arb_http_respond_with(struct request *request, int status, const char *error,
                                      const char *detail, bool close);
enum MHD_Result arb_http_respond_answer(struct request *request, const struct arb_answer *answer);

/* Count bytes more against budget (at most limit); false, counting nothing, when they do not
 * fit. give_back returns what *held counts. */
bool arb_http_take(atomic_llong *budget, long long *held, long long bytes, long long limit);
void arb_http_give_back(atomic_llong *budget, long long *held);

/* The events endpoint (http_events.c): the whole body is in; the connection was resumed;
 * the request is over (answered or not: a first copy never answered lets its key go). */
enum MHD_Result arb_http_event_body(struct request *request);
enum MHD_Result arb_http_event_resumed(struct request *request);
void arb_http_event_completed(struct request *request);

/* The operator endpoints' hooks (http_operator.c, for admin.h). */
bool arb_http_ready_hook(void *opaque, char *why, size_t size);
void arb_http_metrics_hook(void *opaque, struct arb_buf *out);

#endif
