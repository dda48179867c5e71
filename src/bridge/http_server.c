/* http_server.c - the bridge's HTTP front end: the driver of the core's decisions (see
 * http_server.h).
 *
 * libmicrohttpd calls on_request several times per request: once when the head is in, once
 * per piece of body, once when the body is complete, and once more after a suspended
 * connection was resumed. The head goes to the edge's rules (core/edge.c): a framing problem,
 * a wrong media type or a declared size over the limit is answered at once, which closes the
 * connection, since the body is not read; every other answer is given once the body is in,
 * which keeps the connection alive. The body goes to the ingest (core/ingest.c): the
 * sender's authentication, then the dedup window (a retried webhook already answered 200 is
 * answered 200 again), then the event's checks, which end in records to produce, a body to
 * dead-letter, or an answer. A request waiting for Kafka, or for a first copy of itself, is a
 * suspended connection, resumed by a callback.
 *
 * Budgets: bytes of bodies not yet authenticated count as they arrive, up to
 * http.max_unverified_bytes, so that unsigned clients can hold at most that part of the
 * whole; an authenticated request then counts its records' bytes against
 * http.max_in_flight_bytes, and itself against http.max_in_flight. Slow connections are
 * closed by the guard (http_guard.c). */
#define _GNU_SOURCE /* accept4 */
#include "http_internal.h"
#include "admin.h"
#include "http_guard.h"
#include "listen.h"

#include "arb/clock.h"
#include "arb/log.h"
#include "arb/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define RETRY_AFTER_S "5"
#define DISCARD_LIMIT (64 * 1024 * 1024) /* beyond this many unwanted body bytes: drop */
#define PEM_FILE_MAX (1024 * 1024)
/* The JSON walk recurses once per nesting level, up to ARB_JSON_MAX_DEPTH: about 500 bytes a
 * level optimised, several KB under sanitizers. Set, so that no environment's stack limit
 * decides whether a deep body is refused or crashes the bridge. */
#define THREAD_STACK_BYTES (16 * 1024 * 1024)
#define HEADERS_MAX 128 /* a head with more headers is refused (the memory limit cuts first) */

const int arb_http_statuses[ARB_HTTP_NSTATUSES] = {200, 400, 401, 404, 405,
                                                   413, 415, 422, 500, 503};

/* ---- responses ---- */

static size_t status_slot(int status)
{
    for (size_t i = 0; i < ARB_HTTP_NSTATUSES; i++)
        if (arb_http_statuses[i] == status)
            return i;
    return ARB_HTTP_NSTATUSES - 2; /* 500 */
}

static enum MHD_Result queue(struct request *request, int status,
                             struct MHD_Response *response)
{
    enum MHD_Result ret = MHD_queue_response(request->connection, (unsigned)status, response);
    MHD_destroy_response(response);
    request->answered = true;
    request->status = status;
    request->answered_ns = arb_now_ns();
    return ret;
}

enum MHD_Result arb_http_respond(struct request *request, int status, const char *body,
                               const char *allow, bool close, bool challenge)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (response == NULL)
        return MHD_NO;
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (request->outcome.request_id[0] != '\0')
        MHD_add_response_header(response, "X-Request-Id", request->outcome.request_id);
    if (allow != NULL)
        MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, allow);
    if (challenge)
        MHD_add_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"airudder-bridge\"");
    if (status == 503)
        MHD_add_response_header(response, MHD_HTTP_HEADER_RETRY_AFTER, RETRY_AFTER_S);
    if (close || status == 503)
        MHD_add_response_header(response, MHD_HTTP_HEADER_CONNECTION, "close");
    return queue(request, status, response);
}

/* {} for 200; {"error": error, "detail": detail} otherwise (detail may be NULL). */
enum MHD_Result arb_http_respond_with(struct request *request, int status, const char *error,
                                    const char *detail, bool close)
{
    if (error == NULL)
        return arb_http_respond(request, status, "{}", NULL, close, false);
    json_t *body = json_pack("{ss}", "error", error);
    if (detail != NULL)
        json_object_set_new(body, "detail", json_string(detail));
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    enum MHD_Result ret = arb_http_respond(request, status, text, NULL, close,
                                  status == 401 && request->outcome.basic_challenge);
    free(text);
    return ret;
}

enum MHD_Result arb_http_respond_answer(struct request *request, const struct arb_answer *answer)
{
    return arb_http_respond_with(request, answer->status, answer->error, answer->detail, false);
}

/* ---- budgets ---- */

/* Count bytes more against budget (at most limit); false, counting nothing, when they do not
 * fit. */
bool arb_http_take(atomic_llong *budget, long long *held, long long bytes, long long limit)
{
    if (atomic_fetch_add(budget, bytes) + bytes > limit) {
        atomic_fetch_sub(budget, bytes);
        return false;
    }
    *held += bytes;
    return true;
}

void arb_http_give_back(atomic_llong *budget, long long *held)
{
    atomic_fetch_sub(budget, *held);
    *held = 0;
}

/* ---- the head ---- */

struct head_reader {
    struct arb_head_header headers[HEADERS_MAX];
    size_t count;
    bool overflow;
};

static enum MHD_Result read_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                   size_t key_size, const char *value, size_t value_size)
{
    struct head_reader *reader = cls;
    (void)kind;
    if (reader->count == HEADERS_MAX) {
        reader->overflow = true;
        return MHD_NO;
    }
    reader->headers[reader->count++] = (struct arb_head_header){
        key, key_size, value != NULL ? value : "", value != NULL ? value_size : 0};
    return MHD_YES;
}

static size_t route_of(const struct arb_http_server *server,
                       const struct arb_head_verdict *verdict)
{
    size_t n = server->conf->nendpoints;
    if (verdict->kind == ARB_HEAD_EVENTS)
        return (size_t)(verdict->endpoint - server->conf->endpoints);
    return n + (size_t)(verdict->kind - ARB_HEAD_HEALTHZ);
}

static enum MHD_Result on_head(struct request *request, const char *url, const char *method,
                               const char *version)
{
    struct arb_http_server *server = request->server;
    struct head_reader reader = {0};

    MHD_get_connection_values_n(request->connection, MHD_HEADER_KIND, read_header, &reader);
    const struct arb_head head = {method, version, request->raw_uri, url, reader.headers,
                                  reader.count};
    arb_edge_check_head(server->conf, &head, &request->verdict);
    arb_conn_head_done(server->guard, request->conn, request->started_ns);
    request->route = route_of(server, &request->verdict);
    request->phase = PHASE_BODY;
    if (reader.overflow)
        return arb_http_respond_with(request, 400, "bad_request", "too many headers", true);
    if (request->verdict.kind == ARB_HEAD_EVENTS && atomic_load(&server->quiescing))
        return arb_http_respond_with(request, 503, "shutting_down", NULL, true);
    if (request->verdict.status != 0 && request->verdict.close)
        return arb_http_respond_with(request, request->verdict.status, request->verdict.error,
                            request->verdict.detail, true);
    return MHD_YES;
}

/* ---- the body ---- */

static void drop_body(struct request *request)
{
    request->discarded += request->body.len;
    arb_buf_free(&request->body);
    arb_http_give_back(&request->server->unverified_bytes, &request->unverified);
}

/* Store a piece of an event's body, or count it when it is not wanted or over a limit. */
static enum MHD_Result on_body_data(struct request *request, const char *data, size_t size)
{
    struct arb_http_server *server = request->server;
    const struct arb_http_conf *http = &server->conf->http;
    bool wanted = request->verdict.kind == ARB_HEAD_EVENTS && request->verdict.status == 0 &&
                  !request->too_large && !request->overloaded;

    arb_conn_body_bytes(server->guard, request->conn, size);
    if (wanted && request->body.len + size > (size_t)http->max_body_bytes) {
        /* A chunked body: the rest is read and dropped, and answered 413 when it ends,
         * unless it takes longer than the guard's grace to end. */
        request->too_large = true;
        drop_body(request);
        arb_conn_body_refused(server->guard, request->conn, arb_now_ns());
        wanted = false;
    } else if (wanted && !arb_http_take(&server->unverified_bytes, &request->unverified,
                                        (long long)size, http->max_unverified_bytes)) {
        request->overloaded = true;
        drop_body(request);
        wanted = false;
    }
    if (!wanted) {
        request->discarded += size;
        return request->discarded > DISCARD_LIMIT ? MHD_NO : MHD_YES;
    }
    if (request->body.cap == 0) { /* the declared length, and the parser's padding */
        size_t expect = request->verdict.declared_length > 0
                            ? (size_t)request->verdict.declared_length
                            : size;
        arb_buf_reserve(&request->body, expect + ARB_JSON_PADDING);
    }
    arb_buf_append(&request->body, data, size);
    return MHD_YES;
}

/* ---- dispatch ---- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *connection);


/* The body is in (or there was none): answer, or start on the event. */
static enum MHD_Result on_request_complete(struct request *request, const char *url,
                                           const char *method)
{
    const struct arb_head_verdict *verdict = &request->verdict;
    arb_conn_body_done(request->server->guard, request->conn);
    if (verdict->status != 0) {
        if (verdict->allow != NULL)
            return arb_http_respond(request, verdict->status, "{\"error\":\"method_not_allowed\"}",
                           verdict->allow, false, false);
        return arb_http_respond_with(request, verdict->status, verdict->error, verdict->detail,
                                     false);
    }
    if (verdict->kind != ARB_HEAD_EVENTS) {
        const struct arb_admin_hooks hooks = {arb_http_ready_hook, arb_http_metrics_hook,
                                              request->server};
        unsigned status = 0;
        enum MHD_Result ret = arb_admin_serve(request->connection, url, method, &hooks, &status);
        request->answered = true;
        request->status = (int)status;
        return ret;
    }
    if (request->too_large)
        return arb_http_respond_with(request, 413, "body_too_large", NULL, false);
    if (request->overloaded)
        return arb_http_respond_with(request, 503, "overloaded", "too many requests in progress",
                                     false);
    return arb_http_event_body(request);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection,
                                  const char *url, const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    struct request *request = *req_cls;

    if (request == NULL) /* libmicrohttpd skipped the URI callback: the decoded URL stands in */
        *req_cls = request = on_uri(cls, url, connection);
    if (request->phase == PHASE_HEAD) {
        request->connection = connection;
        request->conn = arb_http_guard_conn(connection);
        return on_head(request, url, method, version);
    }
    if (request->phase == PHASE_WAITING)
        return arb_http_event_resumed(request);
    if (*upload_data_size > 0) {
        size_t size = *upload_data_size;
        *upload_data_size = 0;
        return on_body_data(request, upload_data, size);
    }
    if (request->answered)
        return MHD_YES;
    return on_request_complete(request, url, method);
}

/* libmicrohttpd's first look at a request, before its headers: the raw URI, which the access
 * handler only sees decoded (and cut at a NUL). What this returns becomes *req_cls. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *connection)
{
    struct arb_http_server *server = cls;
    struct request *request = arb_xcalloc(1, sizeof(*request));
    (void)connection;
    request->server = server;
    request->raw_uri = arb_xstrdup(uri);
    request->started_ns = arb_now_ns();
    request->received_at_ms = arb_wall_ms();
    arb_buf_init(&request->body);
    atomic_fetch_add(&server->active, 1);
    return request;
}

/* duration as milliseconds with three decimals, from whole microseconds */
static void format_duration_ms(int64_t duration_ns, char out[ARB_U64_TEXT + 4])
{
    uint64_t us = duration_ns > 0 ? (uint64_t)duration_ns / 1000 : 0;
    size_t n = arb_u64_text(us / 1000, out);
    out[n++] = '.';
    out[n++] = (char)('0' + us / 100 % 10);
    out[n++] = (char)('0' + us / 10 % 10);
    out[n++] = (char)('0' + us % 10);
    out[n] = '\0';
}

static void access_log(const struct request *request, int64_t duration_ns)
{
    char status[ARB_U64_TEXT], bytes[ARB_U64_TEXT], duration[ARB_U64_TEXT + 4];
    if (!request->server->conf->http.access_log || !arb_log_enabled(ARB_LOG_INFO))
        return;
    arb_u64_text((uint64_t)request->status, status);
    arb_u64_text(request->length + request->body.len + request->discarded, bytes);
    format_duration_ms(duration_ns, duration);
    arb_log_kv(ARB_LOG_INFO, "request", "status", status, "bytes", bytes, "duration_ms",
               duration, "call_id", request->call_id, "request_id",
               request->outcome.request_id[0] ? request->outcome.request_id : NULL, NULL);
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
    if (request->status != 0 && request->phase != PHASE_HEAD) {
        int64_t duration = request->answered_ns - request->started_ns;
        atomic_fetch_add_explicit(&server->requests[request->route][status_slot(request->status)],
                                  1, memory_order_relaxed);
        if (request->verdict.kind == ARB_HEAD_EVENTS) {
            arb_histogram_observe(&server->duration, duration);
            access_log(request, duration);
        }
    }
    arb_http_event_completed(request);
    arb_conn_request_done(server->guard, request->conn, arb_now_ns());
    if (request->counted_active)
        atomic_fetch_sub(&server->events_active, 1);
    arb_http_give_back(&server->unverified_bytes, &request->unverified);
    arb_http_give_back(&server->held_bytes, &request->held);
    arb_ingest_outcome_clear(&request->outcome);
    arb_buf_free(&request->body);
    free(request->call_id);
    free(request->raw_uri);
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

/* ---- TLS ---- */

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

/* ---- lifecycle ---- */

static unsigned thread_count(const struct arb_http_conf *http)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (http->threads > 0)
        return (unsigned)http->threads;
    return cpus > 0 ? (unsigned)cpus : 1;
}

static void free_ingest(void *ingest)
{
    arb_ingest_destroy(ingest);
}

static int start_daemon(struct arb_http_server *server, const struct sockaddr_storage *addr,
                        bool ipv6)
{
    const struct arb_http_conf *http = &server->conf->http;
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
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)addr,
        MHD_OPTION_THREAD_POOL_SIZE, thread_count(http),
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK_BYTES,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)http->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)http->max_connections_per_ip,
        /* 16 KB a connection (headers and read buffer) instead of 32: measured, it took
         * the peak RSS with 1024 connections from 55 MB to 39 MB */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)http->idle_timeout_s,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, server,
        MHD_OPTION_NOTIFY_CONNECTION, arb_http_guard_notify, server->guard,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, server,
        MHD_OPTION_ARRAY, tls_options,
        MHD_OPTION_END);
    return server->daemon != NULL ? 0 : -1;
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
    server->nroutes = conf->nendpoints + ARB_HTTP_OPERATOR_ROUTES;
    server->requests = arb_xcalloc(server->nroutes, sizeof(*server->requests));
    pthread_mutex_init(&server->dedup_lock, NULL);
    if (conf->dedup.window_s > 0)
        server->dedup = arb_dedup_new((size_t)conf->dedup.max_entries,
                                      (int64_t)conf->dedup.window_s * 1000);
    arb_histogram_init(&server->duration, arb_latency_bounds, arb_latency_nbounds);
    server->ingest_key_made = pthread_key_create(&server->ingest_key, free_ingest) == 0;
    server->guard = arb_http_guard_new(&conf->http);
    if (!server->ingest_key_made) {
        arb_error_set(err, ARB_E_IO, "cannot create a thread key");
        goto fail;
    }
    if (tls_load(server, &conf->http, err) != 0)
        goto fail;
    if (start_daemon(server, &addr, ipv6) != 0) {
        if (server->tls_cert != NULL)
            arb_error_set(err, ARB_E_IO,
                          "cannot serve HTTPS on %s (address in use, or libmicrohttpd refused "
                          "http.tls_cert and http.tls_key: see its message above)",
                          conf->http.listen);
        else
            arb_error_set(err, ARB_E_IO, "cannot listen on %s (address in use?)",
                          conf->http.listen);
        goto fail;
    }
    return server;
fail:
    arb_http_server_destroy(server);
    return NULL;
}

/* Connections the kernel had completed but libmicrohttpd not yet accepted when it stopped
 * listening: closing the listener would reset them, requests unread, so each is handed to
 * libmicrohttpd and answered like any other (503 while quiescing). */
static void adopt_accept_queue(struct MHD_Daemon *daemon, MHD_socket fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return;
    for (;;) {
        struct sockaddr_storage addr;
        socklen_t len = sizeof(addr);
        int client = accept4(fd, (struct sockaddr *)&addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (client < 0 && (errno == EINTR || errno == ECONNABORTED))
            continue;
        if (client < 0)
            return;
        /* On failure libmicrohttpd closes the socket itself. */
        MHD_add_connection(daemon, client, (struct sockaddr *)&addr, len);
    }
}

void arb_http_server_quiesce(struct arb_http_server *server)
{
    if (atomic_exchange(&server->quiescing, true))
        return;
    MHD_socket fd = MHD_quiesce_daemon(server->daemon);
    if (fd == MHD_INVALID_SOCKET)
        return;
    adopt_accept_queue(server->daemon, fd);
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

void arb_http_server_stop(struct arb_http_server *server)
{
    if (server == NULL || server->daemon == NULL)
        return;
    MHD_stop_daemon(server->daemon); /* its threads end, freeing their ingests */
    server->daemon = NULL;
}

void arb_http_server_destroy(struct arb_http_server *server)
{
    if (server == NULL)
        return;
    arb_http_server_stop(server);
    arb_http_guard_destroy(server->guard);
    if (server->ingest_key_made)
        pthread_key_delete(server->ingest_key);
    arb_dedup_destroy(server->dedup);
    pthread_mutex_destroy(&server->dedup_lock);
    if (server->tls_key != NULL)
        OPENSSL_cleanse(server->tls_key, server->tls_key_len);
    free(server->tls_key);
    free(server->tls_cert);
    free(server->requests);
    free(server);
}
