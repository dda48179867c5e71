/* http_server.c - the bridge's HTTP front end (see http_server.h).
 *
 * libmicrohttpd calls on_request several times per request: once when the headers are in,
 * once per piece of body, once when the body is complete, and once more after the producer
 * resumed a suspended connection. An event whose media type or declared size is wrong is
 * refused on the first call, before its body is read (the connection then closes, since
 * the body was not consumed); every other answer is given once the body is in, which keeps
 * the connection alive. A chunked body over the limit is counted, not stored, and answered
 * 413 at its end. on_completed writes the access log line and the metrics, and frees the
 * request.
 *
 * With http.tls_cert and http.tls_key the daemon serves HTTPS (libmicrohttpd with GnuTLS):
 * both PEM files are read once at start and handed over in memory; nothing else changes. */
#include "http_server.h"
#include "listen.h"

#include "arb/event.h"
#include "arb/log.h"
#include "arb/mem.h"
#include "arb/clock.h"
#include "arb/metrics.h"
#include "arb/record.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define RETRY_AFTER_S "5"

enum endpoint { EP_EVENTS = 0, EP_HEALTHZ, EP_READYZ, EP_METRICS, EP_OTHER, EP_COUNT };

static const char *const endpoint_paths[EP_COUNT] = {NULL, "/healthz", "/readyz", "/metrics",
                                                     "other"};

/* Beyond this many bytes of a body we refuse to store, the connection is dropped. */
#define DISCARD_LIMIT (64 * 1024 * 1024)

/* A certificate chain or a key larger than this is a mistake, not a PEM file. */
#define PEM_FILE_MAX (1024 * 1024)

/* The statuses the bridge answers; anything else is counted as 500. */
static const int statuses[] = {200, 400, 401, 404, 405, 413, 415, 422, 500, 503};
#define NSTATUSES (sizeof(statuses) / sizeof(statuses[0]))

struct arb_http_server {
    const struct arb_bridge_conf *conf;
    struct arb_producer *producer;
    struct MHD_Daemon *daemon;
    atomic_bool quiescing;
    atomic_size_t active;        /* requests of any endpoint being handled */
    atomic_size_t events_active; /* of the events endpoint: the in-flight gauge */
    atomic_llong body_bytes;     /* bodies those hold: bounded by http.max_in_flight_bytes */

    atomic_uint_fast64_t requests[EP_COUNT][NSTATUSES];
    struct arb_histogram duration; /* events endpoint: receipt to answer */

    /* PEM text, NUL-terminated; NULL for plain HTTP. libmicrohttpd reads them in place, so
     * they live as long as the daemon; the key is cleansed before it is freed. */
    char *tls_cert, *tls_key;
    size_t tls_key_len;
};

struct request {
    struct arb_http_server *server;
    struct MHD_Connection *connection;
    enum endpoint endpoint;
    bool post, get; /* the method: POST, or GET/HEAD */
    int64_t started_ns;
    struct arb_buf body;
    size_t discarded; /* body bytes not stored (over the limit, or not wanted) */
    size_t length;    /* of the body, which is freed once its records are queued */
    long long held;   /* bytes counted in body_bytes for this request until it completes */
    bool too_large, overloaded;
    bool answered;  /* a response is queued */
    bool waiting;   /* suspended until the producer calls back */
    enum arb_produce_result result;
    int status_when_stored; /* 200, or 400/422 for a dead letter */
    struct arb_error problem; /* what made the event a dead letter */
    char request_id[ARB_REQUEST_ID_LEN + 1];
    char *call_id; /* when known: keys the dead letter, names the conversation in logs */
    int status;
    int64_t answered_ns;
};

/* ---- responses ---- */

static int status_slot(int status)
{
    for (size_t i = 0; i < NSTATUSES; i++)
        if (statuses[i] == status)
            return (int)i;
    return (int)NSTATUSES - 2; /* 500 */
}

static enum MHD_Result respond(struct request *request, int status, const char *body,
                               const char *allow, bool close_connection)
{
    struct MHD_Response *response = MHD_create_response_from_buffer(
        strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (response == NULL)
        return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (request->request_id[0] != '\0')
        MHD_add_response_header(response, "X-Request-Id", request->request_id);
    if (allow != NULL)
        MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, allow);
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
        MHD_add_response_header(response, MHD_HTTP_HEADER_RETRY_AFTER, RETRY_AFTER_S);
    if (close_connection)
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(request->connection, (unsigned)status, response);
    MHD_destroy_response(response);
    request->answered = true;
    request->status = status;
    request->answered_ns = arb_now_ns();
    return ret;
}

/* {"error": error, "detail": detail}; detail may be NULL. */
static enum MHD_Result respond_error(struct request *request, int status, const char *error,
                                     const char *detail)
{
    json_t *body = json_pack("{ss}", "error", error);
    if (detail != NULL)
        json_object_set_new(body, "detail", json_string(detail));
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    enum MHD_Result ret = respond(request, status, text, NULL, status == 503);
    free(text);
    return ret;
}

/* ---- operator endpoints ---- */

static void render_metrics(struct arb_http_server *server, struct arb_buf *out)
{
    static const char requests[] = "airudder_bridge_requests_total";
    static const char duration[] = "airudder_bridge_request_duration_seconds";
    static const char in_flight[] = "airudder_bridge_requests_in_flight";
    char labels[320];

    arb_metric_family(out, requests, "counter", "HTTP requests answered, by path and status.");
    for (int ep = 0; ep < EP_COUNT; ep++) {
        const char *path = ep == EP_EVENTS ? server->conf->http.path : endpoint_paths[ep];
        for (size_t s = 0; s < NSTATUSES; s++) {
            uint64_t n = atomic_load_explicit(&server->requests[ep][s], memory_order_relaxed);
            if (n == 0)
                continue;
            snprintf(labels, sizeof(labels), "path=\"%s\",code=\"%d\"", path, statuses[s]);
            arb_metric_sample(out, requests, labels, (double)n);
        }
    }
    arb_metric_family(out, duration, "histogram",
                      "Time from receiving an event to answering it, in seconds.");
    arb_metric_histogram(out, duration, NULL, &server->duration);
    arb_metric_family(out, in_flight, "gauge",
                      "Event requests being handled, including those waiting for Kafka.");
    arb_metric_sample(out, in_flight, NULL, (double)atomic_load(&server->events_active));
    arb_producer_metrics(server->producer, out);
}

static enum MHD_Result serve_operator_endpoint(struct request *request)
{
    struct arb_http_server *server = request->server;
    switch (request->endpoint) {
    case EP_HEALTHZ:
        return respond(request, 200, "{\"status\":\"ok\"}", NULL, false);
    case EP_READYZ:
        if (atomic_load(&server->quiescing))
            return respond(request, 503, "{\"status\":\"shutting_down\"}", NULL, false);
        if (!arb_producer_ready(server->producer))
            return respond(request, 503, "{\"status\":\"kafka_unreachable\"}", NULL, false);
        return respond(request, 200, "{\"status\":\"ready\"}", NULL, false);
    case EP_METRICS: {
        struct arb_buf out;
        arb_buf_init(&out);
        render_metrics(server, &out);
        struct MHD_Response *response =
            MHD_create_response_from_buffer(out.len, out.data, MHD_RESPMEM_MUST_FREE);
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE,
                                "text/plain; version=0.0.4; charset=utf-8");
        enum MHD_Result ret = MHD_queue_response(request->connection, 200, response);
        MHD_destroy_response(response);
        request->answered = true;
        request->status = 200;
        return ret;
    }
    default:
        return respond_error(request, 404, "not_found", NULL);
    }
}

/* ---- the events endpoint ---- */

/* application/json, any case, optionally followed by parameters (charset). */
static bool is_json_media_type(const char *value)
{
    static const char json[] = "application/json";
    if (value == NULL || strncasecmp(value, json, sizeof(json) - 1) != 0)
        return false;
    value += sizeof(json) - 1;
    while (*value == ' ' || *value == '\t')
        value++;
    return *value == '\0' || *value == ';';
}

/* The declared Content-Length, or 0 (chunked: counted as it arrives). */
static unsigned long long declared_length(struct request *request)
{
    const char *length = MHD_lookup_connection_value(request->connection, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
    return length ? strtoull(length, NULL, 10) : 0;
}

/* Count bytes more of this request's body against http.max_in_flight_bytes; false (and
 * nothing counted) when they would not fit. */
static bool hold(struct request *request, long long bytes)
{
    struct arb_http_server *server = request->server;
    long long limit = server->conf->http.max_in_flight_bytes;
    if (atomic_fetch_add(&server->body_bytes, bytes) + bytes > limit) {
        atomic_fetch_sub(&server->body_bytes, bytes);
        return false;
    }
    request->held += bytes;
    return true;
}

/* First call of a POST to the events path: everything that can be refused before the body. */
static enum MHD_Result on_event_headers(struct request *request)
{
    struct arb_http_server *server = request->server;
    const char *type = MHD_lookup_connection_value(request->connection, MHD_HEADER_KIND,
                                                   MHD_HTTP_HEADER_CONTENT_TYPE);
    if (atomic_load(&server->quiescing))
        return respond_error(request, 503, "shutting_down", NULL);
    if (!is_json_media_type(type))
        return respond_error(request, 415, "unsupported_media_type",
                             "Content-Type must be application/json");
    if (declared_length(request) > (unsigned long long)server->conf->http.max_body_bytes)
        return respond_error(request, 413, "body_too_large", NULL);
    /* events_active counts this request too */
    if (atomic_load(&server->events_active) > (size_t)server->conf->http.max_in_flight ||
        !hold(request, (long long)declared_length(request)))
        return respond_error(request, 503, "overloaded", "too many requests in progress");
    return MHD_YES;
}

/* Stop storing a body (over a limit): what arrived so far is only counted from now on. */
static void drop_body(struct request *request)
{
    request->discarded = request->body.len;
    arb_buf_free(&request->body);
}

/* Store a piece of an event's body, or count it when it is not wanted or over a limit. */
static enum MHD_Result on_body_data(struct request *request, const char *data, size_t size)
{
    bool wanted = request->endpoint == EP_EVENTS && request->post && !request->too_large &&
                  !request->overloaded;
    size_t len = request->body.len + size;
    if (wanted && len > (size_t)request->server->conf->http.max_body_bytes) {
        request->too_large = true;
        drop_body(request);
        wanted = false;
    } else if (wanted && (long long)len > request->held &&
               !hold(request, (long long)len - request->held)) {
        request->overloaded = true; /* a chunked body that no longer fits */
        drop_body(request);
        wanted = false;
    }
    if (!wanted) {
        request->discarded += size;
        return request->discarded > DISCARD_LIMIT ? MHD_NO : MHD_YES;
    }
    if (request->body.cap == 0)
        arb_buf_reserve(&request->body, request->held > 0 ? (size_t)request->held : size);
    arb_buf_append(&request->body, data, size);
    return MHD_YES;
}

static void on_produced(void *opaque, enum arb_produce_result result)
{
    struct request *request = opaque;
    request->result = result;
    MHD_resume_connection(request->connection);
}

/* Write the body whole to the dead-letter topic; answer status once it is stored. */
static void store_dead_letter(struct request *request, int status)
{
    struct arb_deadletter letter = {
        .body = request->body.data,
        .len = request->body.len,
        .call_id = request->call_id,
        .reason = request->problem.message,
        .request_id = request->request_id,
        .received_at_ms = arb_wall_ms(),
    };
    request->status_when_stored = status;
    request->waiting = true;
    MHD_suspend_connection(request->connection);
    arb_producer_send_deadletter(request->server->producer, &letter, on_produced, request);
}

/* A signed body that is not a valid event: keep it, whole, in the dead-letter topic. */
static enum MHD_Result reject_event(struct request *request)
{
    int status = request->problem.code == ARB_E_JSON ? 400 : 422;
    if (request->call_id == NULL)
        request->call_id = arb_event_peek_call_id(request->body.data, request->body.len);
    arb_log_kv(ARB_LOG_INFO, "invalid event", "request_id", request->request_id, "problem",
               request->problem.message, NULL);
    store_dead_letter(request, status);
    return MHD_YES;
}

static int verify(struct request *request)
{
    const struct arb_signature_conf *sig = &request->server->conf->signature;
    const char *value =
        MHD_lookup_connection_value(request->connection, MHD_HEADER_KIND, sig->header);
    const char *key_id =
        sig->key_header[0] ? MHD_lookup_connection_value(request->connection, MHD_HEADER_KIND,
                                                         sig->key_header)
                           : NULL;
    struct arb_error err;
    if (arb_signature_verify(sig, value, key_id, request->body.data, request->body.len,
                             &err) == 0)
        return 0;
    arb_log_kv(ARB_LOG_WARN, "signature rejected", "reason", err.message, NULL);
    return -1;
}

/* The whole body is in: verify, validate, split, produce. */
static enum MHD_Result on_event_body(struct request *request)
{
    const struct arb_bridge_conf *conf = request->server->conf;
    char topic[ARB_TOPIC_MAX + 1];
    json_t *event = NULL;
    struct arb_recordset *set = NULL;

    if (verify(request) != 0)
        return respond_error(request, 401, "invalid_signature", NULL);
    arb_request_id(request->body.data, request->body.len, request->request_id);
    if (arb_event_parse(request->body.data, request->body.len, &event, &request->problem) != 0)
        return reject_event(request);
    request->call_id = arb_xstrdup(arb_event_call_id(event));
    if (arb_route_topic(conf->routes, conf->nroutes, event, topic, &request->problem) != 0 ||
        arb_recordset_new(event, topic, request->request_id, arb_wall_ms(), &set,
                          &request->problem) != 0) {
        json_decref(event);
        return reject_event(request);
    }
    json_decref(event);
    request->status_when_stored = 200;
    request->waiting = true;
    MHD_suspend_connection(request->connection);
    arb_producer_send(request->server->producer, set, on_produced, request); /* owns set */
    request->length = request->body.len;
    arb_buf_free(&request->body); /* the records have it now; held stays counted until done */
    return MHD_YES;
}

/* Called again after the producer resumed the connection. */
static enum MHD_Result answer_produced(struct request *request)
{
    request->waiting = false;
    if (request->result == ARB_PRODUCE_TOO_LARGE && request->status_when_stored == 200)
        return respond_error(request, 413, "event_too_large",
                             "a record is larger than Kafka accepts");
    /* A dead letter too large for Kafka: the refusal stands, there is nothing to retry. */
    if (request->result != ARB_PRODUCE_OK && request->result != ARB_PRODUCE_TOO_LARGE)
        return respond_error(request, 503, "kafka_unavailable", NULL);
    if (request->status_when_stored == 200)
        return respond(request, 200, "{}", NULL, false);
    return respond_error(request, request->status_when_stored,
                         request->status_when_stored == 400 ? "invalid_json" : "invalid_event",
                         request->problem.message);
}

/* ---- dispatch ---- */

static enum endpoint endpoint_of(const struct arb_http_server *server, const char *url)
{
    if (strcmp(url, server->conf->http.path) == 0)
        return EP_EVENTS;
    for (int ep = EP_HEALTHZ; ep < EP_OTHER; ep++)
        if (strcmp(url, endpoint_paths[ep]) == 0)
            return (enum endpoint)ep;
    return EP_OTHER;
}

static struct request *request_new(struct arb_http_server *server,
                                   struct MHD_Connection *connection, const char *url,
                                   const char *method)
{
    struct request *request = arb_xcalloc(1, sizeof(*request));
    request->server = server;
    request->connection = connection;
    request->endpoint = endpoint_of(server, url);
    request->post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    request->get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
                   strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    request->started_ns = arb_now_ns();
    arb_buf_init(&request->body);
    atomic_fetch_add(&server->active, 1);
    if (request->endpoint == EP_EVENTS)
        atomic_fetch_add(&server->events_active, 1);
    return request;
}

/* The body is in (or there was none): answer, or start producing. */
static enum MHD_Result on_request_complete(struct request *request)
{
    if (request->endpoint == EP_OTHER)
        return respond_error(request, 404, "not_found", NULL);
    if (request->endpoint == EP_EVENTS) {
        if (!request->post)
            return respond(request, 405, "{\"error\":\"method_not_allowed\"}", "POST", false);
        if (request->too_large)
            return respond_error(request, 413, "body_too_large", NULL);
        if (request->overloaded)
            return respond_error(request, 503, "overloaded", "too many requests in progress");
        return on_event_body(request);
    }
    if (!request->get)
        return respond(request, 405, "{\"error\":\"method_not_allowed\"}", "GET, HEAD", false);
    return serve_operator_endpoint(request);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection,
                                  const char *url, const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    struct request *request = *req_cls;
    (void)version;

    if (request == NULL) {
        request = request_new(cls, connection, url, method);
        *req_cls = request;
        if (request->endpoint == EP_EVENTS && request->post)
            return on_event_headers(request);
        return MHD_YES;
    }
    if (request->waiting)
        return answer_produced(request);
    if (*upload_data_size > 0) {
        size_t size = *upload_data_size;
        *upload_data_size = 0;
        return on_body_data(request, upload_data, size);
    }
    if (request->answered)
        return MHD_YES;
    return on_request_complete(request);
}

static void access_log(const struct request *request, int64_t duration_ns)
{
    char status[8], bytes[24], duration[24];
    if (!request->server->conf->http.access_log || !arb_log_enabled(ARB_LOG_INFO))
        return;
    snprintf(status, sizeof(status), "%d", request->status);
    snprintf(bytes, sizeof(bytes), "%zu", request->length + request->body.len + request->discarded);
    snprintf(duration, sizeof(duration), "%.3f", (double)duration_ns / 1e6);
    arb_log_kv(ARB_LOG_INFO, "request", "status", status, "bytes", bytes, "duration_ms",
               duration, "call_id", request->call_id,
               "request_id", request->request_id[0] ? request->request_id : NULL, NULL);
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct arb_http_server *server = cls;
    struct request *request = *req_cls;
    (void)connection;
    (void)toe;

    if (request == NULL)
        return;
    if (request->status != 0) {
        int64_t duration = request->answered_ns - request->started_ns;
        atomic_fetch_add_explicit(&server->requests[request->endpoint][status_slot(request->status)],
                                  1, memory_order_relaxed);
        if (request->endpoint == EP_EVENTS) {
            arb_histogram_observe(&server->duration, duration);
            access_log(request, duration);
        }
    }
    arb_buf_free(&request->body);
    if (request->endpoint == EP_EVENTS)
        atomic_fetch_sub(&server->events_active, 1);
    atomic_fetch_sub(&server->body_bytes, request->held);
    free(request->call_id);
    free(request);
    *req_cls = NULL;
    atomic_fetch_sub(&server->active, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    (void)cls;
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    arb_log_kv(ARB_LOG_WARN, line, "component", "libmicrohttpd", NULL);
}

/* ---- lifecycle ---- */

/* Read the PEM file named by setting whole, NUL-terminated, in one allocation of its exact
 * size (a key leaves no copies behind in freed memory), and refuse it unless it holds marker,
 * the line that starts a PEM <what>. NULL with err filled. */
static char *pem_read(const char *setting, const char *path, const char *what,
                       const char *marker, size_t *len, struct arb_error *err)
{
    char *pem = NULL;
    struct stat st;
    FILE *fp = fopen(path, "rb");

    if (fp == NULL) {
        arb_error_set(err, ARB_E_IO, "%s %s: %s", setting, path, strerror(errno));
        return NULL;
    }
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > PEM_FILE_MAX) {
        arb_error_set(err, ARB_E_IO, "%s %s: not a regular file of at most %d bytes", setting,
                      path, PEM_FILE_MAX);
        goto out;
    }
    pem = arb_xmalloc((size_t)st.st_size + 1);
    *len = fread(pem, 1, (size_t)st.st_size, fp);
    pem[*len] = '\0';
    if (ferror(fp) || strstr(pem, marker) == NULL) {
        if (ferror(fp))
            arb_error_set(err, ARB_E_IO, "%s %s: %s", setting, path, strerror(errno));
        else
            arb_error_set(err, ARB_E_IO, "%s %s: no PEM %s in it", setting, path, what);
        OPENSSL_cleanse(pem, *len);
        free(pem);
        pem = NULL;
    }
out:
    fclose(fp);
    return pem;
}

/* Read http.tls_cert and http.tls_key when set (the loader makes sure both are, or neither). */
static int tls_load(struct arb_http_server *server, const struct arb_http_conf *http,
                    struct arb_error *err)
{
    size_t cert_len;

    if (http->tls_cert[0] == '\0')
        return 0;
    server->tls_cert = pem_read("http.tls_cert", http->tls_cert, "certificate",
                                "-----BEGIN CERTIFICATE-----", &cert_len, err);
    if (server->tls_cert == NULL)
        return -1;
    server->tls_key = pem_read("http.tls_key", http->tls_key, "private key", "PRIVATE KEY-----",
                               &server->tls_key_len, err);
    return server->tls_key != NULL ? 0 : -1;
}

static unsigned thread_count(const struct arb_http_conf *http)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (http->threads > 0)
        return (unsigned)http->threads;
    return cpus > 0 ? (unsigned)cpus : 1;
}

struct arb_http_server *arb_http_server_new(const struct arb_bridge_conf *conf,
                                            struct arb_producer *producer,
                                            struct arb_error *err)
{
    struct sockaddr_storage addr;
    bool ipv6 = false;
    struct arb_http_server *server = NULL;

    if (arb_listen_resolve(conf->http.listen, &addr, &ipv6, err) != 0)
        return NULL;
    server = arb_xcalloc(1, sizeof(*server));
    server->conf = conf;
    server->producer = producer;
    arb_histogram_init(&server->duration, arb_latency_bounds, arb_latency_nbounds);
    if (tls_load(server, &conf->http, err) != 0) {
        arb_http_server_destroy(server);
        return NULL;
    }

    bool tls = server->tls_cert != NULL;
    struct MHD_OptionItem tls_options[] = { /* without TLS, the list ends at once */
        {tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, server->tls_cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, server->tls_key},
        {MHD_OPTION_END, 0, NULL},
    };
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | (ipv6 ? MHD_USE_IPv6 : 0) | (tls ? MHD_USE_TLS : 0);
    server->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, server,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, thread_count(&conf->http),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)conf->http.max_connections,
        /* 16 KB a connection (headers and read buffer) instead of 32: measured, it took
         * the peak RSS with 1024 connections from 55 MB to 39 MB */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)conf->http.idle_timeout_s,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, server,
        MHD_OPTION_ARRAY, tls_options,
        MHD_OPTION_END);
    if (server->daemon == NULL) {
        if (tls)
            arb_error_set(err, ARB_E_IO,
                          "cannot serve HTTPS on %s (address in use, or libmicrohttpd refused "
                          "http.tls_cert and http.tls_key: see its message above)",
                          conf->http.listen);
        else
            arb_error_set(err, ARB_E_IO, "cannot listen on %s (address in use?)",
                          conf->http.listen);
        arb_http_server_destroy(server);
        return NULL;
    }
    return server;
}

void arb_http_server_quiesce(struct arb_http_server *server)
{
    if (atomic_exchange(&server->quiescing, true))
        return;
    MHD_socket fd = MHD_quiesce_daemon(server->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

size_t arb_http_server_active(const struct arb_http_server *server)
{
    return atomic_load(&server->active);
}

unsigned arb_http_server_connections(const struct arb_http_server *server)
{
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(server->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return info != NULL ? info->num_connections : 0;
}

void arb_http_server_destroy(struct arb_http_server *server)
{
    if (server == NULL)
        return;
    if (server->daemon != NULL)
        MHD_stop_daemon(server->daemon);
    if (server->tls_key != NULL)
        OPENSSL_cleanse(server->tls_key, server->tls_key_len);
    free(server->tls_key);
    free(server->tls_cert);
    free(server);
}
