/* viewer.c - the conversation viewer's HTTP server (see viewer.h).
 *
 * libmicrohttpd with a thread per connection: a page reads Kafka for a while (a consumer of
 * its own, history.c) and a re-send runs debug mode to the end, and neither may hold up the
 * other requests. A request's body (only a re-send form has one) is collected up to
 * ARB_VIEW_BODY_MAX; then the core parses and authorizes it, this file reads what the page
 * needs and sends what the core rendered, with the same safety headers on every answer.
 * One re-send at a time: a second one is answered 409 while the first runs. */
#include "viewer.h"
#include "consumed.h"
#include "debug.h"
#include "history.h"
#include "listen.h"

#include "arb/clock.h"
#include "arb/conversation.h"
#include "arb/html.h"
#include "arb/listen_addr.h"
#include "arb/log.h"
#include "arb/mem.h"
#include "arb/search.h"
#include "arb/view_request.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define READ_TIMEOUT_NS (20LL * 1000000000) /* a page reads Kafka this long at most */
#define SEARCH_MAX 500                      /* conversations a search lists */
#define HEADERS_MAX 16
#define CONNECTION_LIMIT 64u
#define CONNECTION_TIMEOUT_S 600u /* a re-send may retry up to desk.max_retry_s */
#define PROBLEM_MAX 512

struct viewer {
    const struct arb_replay_conf *conf;
    atomic_bool stopping; /* set by the main thread on a signal; re-sends watch it */
    struct arb_view_policy policy;
    char desk_host[256];
    pthread_mutex_t resend_lock;
};

struct request {
    struct arb_buf body;
    bool too_large;
};

/* ---- answers ---- */

static enum MHD_Result send_response(struct MHD_Connection *connection, unsigned status,
                                     const char *type, struct arb_buf *body,
                                     const struct arb_view_answer *answer)
{
    size_t len = body->len;
    char *data = arb_buf_detach(body, NULL);
    struct MHD_Response *response =
        MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (response == NULL) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(response, "Content-Security-Policy", ARB_VIEW_CSP);
    MHD_add_response_header(response, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(response, "X-Frame-Options", "DENY");
    MHD_add_response_header(response, "Referrer-Policy", "same-origin");
    MHD_add_response_header(response, "Cache-Control", "no-store");
    if (answer != NULL && answer->allow != NULL)
        MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, answer->allow);
    if (answer != NULL && answer->challenge)
        MHD_add_response_header(response, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                "Basic realm=\"airudder viewer\", charset=\"UTF-8\"");
    enum MHD_Result ret = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return ret;
}

static enum MHD_Result send_html(struct MHD_Connection *connection, unsigned status,
                                 struct arb_buf *body)
{
    return send_response(connection, status, "text/html; charset=utf-8", body, NULL);
}

static enum MHD_Result send_json(struct MHD_Connection *connection, unsigned status,
                                 struct arb_buf *body)
{
    return send_response(connection, status, "application/json", body, NULL);
}

/* An answer of the core, as JSON for scripts or as a short page. */
static enum MHD_Result send_answer(struct MHD_Connection *connection, bool json,
                                   const struct arb_view_answer *answer)
{
    struct arb_buf body;
    arb_buf_init(&body);
    if (json) {
        json_t *doc = json_pack("{s:s, s:s}", "error", answer->error ? answer->error : "error",
                                "detail", answer->message);
        char *text = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
        arb_buf_puts(&body, text != NULL ? text : "{}");
        arb_buf_puts(&body, "\n");
        free(text);
        json_decref(doc);
        return send_response(connection, answer->status, "application/json", &body, answer);
    }
    char title[32];
    snprintf(title, sizeof(title), "%u", answer->status);
    arb_page_message(&body, title, answer->message, NULL);
    return send_response(connection, answer->status, "text/html; charset=utf-8", &body, answer);
}

static enum MHD_Result send_problem(struct MHD_Connection *connection, bool json,
                                    unsigned status, const char *error, const char *message)
{
    struct arb_view_answer answer = {.status = status, .error = error};
    snprintf(answer.message, sizeof(answer.message), "%s", message);
    return send_answer(connection, json, &answer);
}

static enum MHD_Result send_asset(struct MHD_Connection *connection, const char *type,
                                  const unsigned char *data, size_t len)
{
    struct arb_buf body;
    arb_buf_init(&body);
    arb_buf_append(&body, data, len);
    return send_response(connection, 200, type, &body, NULL);
}

/* ---- records from Kafka ---- */

static bool key_is(const rd_kafka_message_t *msg, const char *call_id)
{
    size_t len = strlen(call_id);
    return msg->key != NULL && msg->key_len == len && memcmp(msg->key, call_id, len) == 0;
}

struct collect {
    struct arb_conversation *conv;
    const char *call_id;
    size_t max;
};

static bool take_record(void *opaque, const rd_kafka_message_t *msg)
{
    struct collect *c = opaque;
    struct arb_header headers[HEADERS_MAX];
    struct arb_conv_record record;
    char call_id[ARB_VIEW_CALL_ID_MAX];
    arb_consumed_conv_record(msg, headers, HEADERS_MAX, &record);
    arb_conv_record_call_id(&record, call_id, sizeof(call_id));
    if (strcmp(call_id, c->call_id) != 0 && !key_is(msg, c->call_id))
        return true;
    return arb_conversation_add_record(c->conv, &record, c->max);
}

static bool take_outcome(void *opaque, const rd_kafka_message_t *msg)
{
    struct collect *c = opaque;
    if (key_is(msg, c->call_id) && msg->payload != NULL)
        arb_conversation_add_outcome(c->conv, msg->payload, msg->len, NULL); /* others: skipped */
    return true;
}

static void add_problem(char *problem, const char *fmt, const char *what)
{
    size_t len = strlen(problem);
    snprintf(problem + len, PROBLEM_MAX - len, fmt, len > 0 ? " " : "", what);
}

static struct arb_history_query query_of(const struct arb_view_request *req,
                                         const char *const *topics, size_t ntopics)
{
    return (struct arb_history_query){
        .topics = topics,
        .ntopics = ntopics,
        .has_from = req->has_from,
        .from_ms = req->from_ms,
        .has_until = req->has_until,
        .until_ms = req->until_ms,
        .deadline_ns = arb_now_ns() + READ_TIMEOUT_NS,
    };
}

/* The conversation of req in its window, with the delivery log's outcomes since its start.
 * NULL with err when its records cannot be read; problems reading the delivery log are
 * only noted in problem. */
static struct arb_conversation *load(const struct viewer *v, const struct arb_view_request *req,
                                     char problem[PROBLEM_MAX], struct arb_error *err)
{
    struct arb_history_stats stats;
    struct arb_error log_err;
    struct collect c = {arb_conversation_new(req->call_id), req->call_id,
                        (size_t)v->conf->viewer.max_records};
    struct arb_history *history = arb_history_new(v->conf, err);

    problem[0] = '\0';
    if (history == NULL) {
        arb_conversation_destroy(c.conv);
        return NULL;
    }
    struct arb_history_query query =
        query_of(req, (const char *const *)v->conf->replay.topics, v->conf->replay.ntopics);
    if (arb_history_read(history, &query, take_record, &c, &stats, err) != 0) {
        arb_history_destroy(history);
        arb_conversation_destroy(c.conv);
        return NULL;
    }
    if (stats.timed_out)
        add_problem(problem, "%sReading the records stopped after %s s: narrow the window.", "20");
    const char *log_topic = v->conf->delivery_log.topic;
    if (log_topic[0] == '\0') {
        add_problem(problem, "%s%s", "The delivery log is off (delivery_log.topic = \"\").");
    } else {
        query = query_of(req, &log_topic, 1);
        query.has_until = false; /* outcomes come after their records */
        if (arb_history_read(history, &query, take_outcome, &c, &stats, &log_err) != 0)
            add_problem(problem, "%sThe delivery log cannot be read: %s.", log_err.message);
        else if (stats.timed_out)
            add_problem(problem, "%sReading the delivery log stopped after %s s.", "20");
    }
    arb_history_destroy(history);
    arb_conversation_finish(c.conv);
    return c.conv;
}

/* ---- pages ---- */

static struct arb_conversation_view view_of(const struct viewer *v,
                                            const struct arb_view_request *req,
                                            const char *problem)
{
    return (struct arb_conversation_view){
        .resend = v->policy.token_len > 0,
        .from = req->from,
        .until = req->until,
        .problem = problem != NULL && problem[0] != '\0' ? problem : NULL,
        .desk = v->desk_host,
    };
}

static bool add_found(void *opaque, const rd_kafka_message_t *msg)
{
    struct arb_header headers[HEADERS_MAX];
    struct arb_conv_record record;
    arb_consumed_conv_record(msg, headers, HEADERS_MAX, &record);
    arb_search_add(opaque, &record);
    return true;
}

static enum MHD_Result serve_search(struct viewer *v, struct MHD_Connection *connection,
                                    const struct arb_view_request *req)
{
    struct arb_search *search = arb_search_new(req->call_id, SEARCH_MAX);
    struct arb_history_stats stats = {0};
    struct arb_error err;
    struct arb_buf body;
    char problem[PROBLEM_MAX] = "";
    arb_buf_init(&body);

    if (req->searched || req->json) {
        struct arb_history *history = arb_history_new(v->conf, &err);
        struct arb_history_query query =
            query_of(req, (const char *const *)v->conf->replay.topics, v->conf->replay.ntopics);
        if (history == NULL ||
            arb_history_read(history, &query, add_found, search, &stats, &err) != 0)
            snprintf(problem, sizeof(problem), "Cannot read the records: %s", err.message);
        else if (stats.timed_out)
            snprintf(problem, sizeof(problem), "Reading stopped after 20 s: narrow the window.");
        arb_history_destroy(history);
    }
    const struct arb_search_view view = {
        .from = req->from, .until = req->until, .problem = problem[0] ? problem : NULL,
        .searched = req->searched || req->json, .scanned = stats.read,
    };
    if (req->json)
        arb_search_json(search, &view, &body);
    else
        arb_search_html(search, &view, &body);
    arb_search_destroy(search);
    return req->json ? send_json(connection, 200, &body) : send_html(connection, 200, &body);
}

static enum MHD_Result serve_conversation(struct viewer *v, struct MHD_Connection *connection,
                                          const struct arb_view_request *req)
{
    char problem[PROBLEM_MAX];
    struct arb_error err;
    struct arb_buf body;
    struct arb_conversation *conv = load(v, req, problem, &err);
    if (conv == NULL)
        return send_problem(connection, req->json, 503, "kafka", err.message);
    const struct arb_conversation_view view = view_of(v, req, problem);
    arb_buf_init(&body);
    if (req->json)
        arb_conversation_json(conv, &view, &body);
    else
        arb_conversation_html(conv, &view, &body);
    arb_conversation_destroy(conv);
    return req->json ? send_json(connection, 200, &body) : send_html(connection, 200, &body);
}

/* Where the re-send starts, or an answer: the record must be one of the conversation's. */
static long find_start(struct arb_conversation *conv, const struct arb_view_request *req)
{
    return arb_conversation_find(conv, req->topic, req->partition, req->offset);
}

static enum MHD_Result serve_confirm(struct viewer *v, struct MHD_Connection *connection,
                                     const struct arb_view_request *req)
{
    char problem[PROBLEM_MAX];
    struct arb_error err;
    struct arb_buf body;
    struct arb_conversation *conv = load(v, req, problem, &err);
    if (conv == NULL)
        return send_problem(connection, false, 503, "kafka", err.message);
    long index = find_start(conv, req);
    if (index < 0) {
        arb_conversation_destroy(conv);
        return send_problem(connection, false, 404, "not_found",
                            "That record is not one of this conversation's (in this window).");
    }
    const struct arb_conversation_view view = view_of(v, req, problem);
    arb_buf_init(&body);
    arb_conversation_confirm_html(conv, (size_t)index, &view, &body);
    arb_conversation_destroy(conv);
    return send_html(connection, 200, &body);
}

static void log_resend(const struct arb_view_request *req, const struct arb_resend_summary *s,
                       const char *remote)
{
    char sent[24], planned[24];
    snprintf(sent, sizeof(sent), "%llu", (unsigned long long)s->matched);
    snprintf(planned, sizeof(planned), "%zu", s->planned);
    arb_log_kv(s->error == NULL ? ARB_LOG_INFO : ARB_LOG_WARN, "viewer: re-send", "call_id",
               req->call_id, "topic", req->topic, "planned", planned, "sent", sent, "error",
               s->error, "from", remote, NULL);
}

static enum MHD_Result serve_resend(struct viewer *v, struct MHD_Connection *connection,
                                    const struct arb_view_request *req, const char *remote)
{
    char problem[PROBLEM_MAX], error[ARB_ERROR_MSG_MAX + 32];
    struct arb_offset_spec *starts = NULL;
    struct arb_debug_report report = {0};
    struct arb_error err;
    struct arb_buf body;
    size_t nstarts = 0;
    int64_t until_ms = 0;
    enum MHD_Result ret;

    if (pthread_mutex_trylock(&v->resend_lock) != 0)
        return send_problem(connection, req->json, 409, "busy",
                            "Another re-send is running; try again when it is done.");
    struct arb_conversation *conv = load(v, req, problem, &err);
    if (conv == NULL) {
        pthread_mutex_unlock(&v->resend_lock);
        return send_problem(connection, req->json, 503, "kafka", err.message);
    }
    long index = find_start(conv, req);
    if (index < 0) {
        arb_conversation_destroy(conv);
        pthread_mutex_unlock(&v->resend_lock);
        return send_problem(connection, req->json, 404, "not_found",
                            "That record is not one of this conversation's (in this window).");
    }
    size_t planned =
        arb_conversation_resend_plan(conv, (size_t)index, &starts, &nstarts, &until_ms);
    const struct arb_resend resend = {req->call_id, starts, nstarts, true, until_ms};
    int rc = arb_debug_resend(v->conf, &resend, &v->stopping, &report, &err);
    if (rc != 0)
        snprintf(error, sizeof(error), "%s", err.message);
    const struct arb_resend_summary summary = {
        .call_id = req->call_id,
        .error = rc != 0 ? error : NULL,
        .planned = planned,
        .matched = report.matched,
        .outcomes = report.outcomes,
        .noutcomes = report.noutcomes,
    };
    log_resend(req, &summary, remote);
    arb_buf_init(&body);
    if (req->json) {
        arb_resend_summary_json(&summary, &body);
        ret = send_json(connection, rc == 0 ? 200 : 502, &body);
    } else {
        const struct arb_conversation_view view = view_of(v, req, NULL);
        arb_resend_summary_html(&summary, &view, &body);
        ret = send_html(connection, rc == 0 ? 200 : 502, &body);
    }
    arb_debug_report_clear(&report);
    for (size_t i = 0; i < nstarts; i++)
        free(starts[i].topic);
    free(starts);
    arb_conversation_destroy(conv);
    pthread_mutex_unlock(&v->resend_lock);
    return ret;
}

/* ---- libmicrohttpd ---- */

static const char *query_arg(void *opaque, const char *name)
{
    return MHD_lookup_connection_value(opaque, MHD_GET_ARGUMENT_KIND, name);
}

static const char *header(struct MHD_Connection *connection, const char *name)
{
    return MHD_lookup_connection_value(connection, MHD_HEADER_KIND, name);
}

static void remote_of(struct MHD_Connection *connection, char *out, size_t size)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, size, "%s", "?");
    if (info != NULL && info->client_addr != NULL) {
        if (info->client_addr->sa_family == AF_INET) {
            const unsigned char *a =
                (const unsigned char *)&((const struct sockaddr_in *)info->client_addr)->sin_addr;
            snprintf(out, size, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
        } else {
            snprintf(out, size, "ipv6");
        }
    }
}

static enum MHD_Result dispatch(struct viewer *v, struct MHD_Connection *connection,
                                const char *url, const char *method, struct request *r)
{
    struct arb_view_request *req = arb_xcalloc(1, sizeof(*req));
    struct arb_view_answer answer;
    char remote[64];
    enum MHD_Result ret;
    bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    bool json = strstr(url, ".json") != NULL;

    if (r->too_large) {
        ret = send_problem(connection, json, 413, "body_too_large", "The request is too large.");
        goto out;
    }
    if (arb_view_request_parse(method, url, query_arg, connection,
                               post ? (r->body.data != NULL ? r->body.data : "") : NULL,
                               r->body.len, req, &answer) != 0) {
        ret = send_answer(connection, json, &answer);
        goto out;
    }
    const struct arb_view_headers headers = {
        .authorization = header(connection, MHD_HTTP_HEADER_AUTHORIZATION),
        .origin = header(connection, "Origin"),
        .sec_fetch_site = header(connection, "Sec-Fetch-Site"),
        .host = header(connection, MHD_HTTP_HEADER_HOST),
    };
    if (arb_view_authorize(&v->policy, req, &headers, &answer) != 0) {
        ret = send_answer(connection, req->json, &answer);
        goto out;
    }
    remote_of(connection, remote, sizeof(remote));
    switch (req->page) {
    case ARB_VIEW_CSS:
        ret = send_asset(connection, "text/css; charset=utf-8", arb_view_css, arb_view_css_len);
        break;
    case ARB_VIEW_JS:
        ret = send_asset(connection, "text/javascript; charset=utf-8", arb_view_js,
                         arb_view_js_len);
        break;
    case ARB_VIEW_HEALTH: {
        struct arb_buf body;
        arb_buf_init(&body);
        arb_buf_puts(&body, "{\"status\":\"ok\"}");
        ret = send_json(connection, 200, &body);
        break;
    }
    case ARB_VIEW_SEARCH: ret = serve_search(v, connection, req); break;
    case ARB_VIEW_CONVERSATION: ret = serve_conversation(v, connection, req); break;
    case ARB_VIEW_CONFIRM: ret = serve_confirm(v, connection, req); break;
    case ARB_VIEW_RESEND: ret = serve_resend(v, connection, req, remote); break;
    default: ret = send_problem(connection, json, 404, "not_found", "no such page");
    }
out:
    OPENSSL_cleanse(req->token, sizeof(req->token));
    free(req);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection,
                                  const char *url, const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    struct viewer *v = cls;
    struct request *r = *req_cls;
    (void)version;

    if (r == NULL) {
        r = arb_xcalloc(1, sizeof(*r));
        arb_buf_init(&r->body);
        *req_cls = r;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (r->body.len + *upload_data_size > ARB_VIEW_BODY_MAX)
            r->too_large = true;
        else
            arb_buf_append(&r->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return dispatch(v, connection, url, method, r);
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct request *r = *req_cls;
    (void)cls;
    (void)connection;
    (void)toe;
    if (r == NULL)
        return;
    arb_buf_free(&r->body);
    free(r);
    *req_cls = NULL;
}

int arb_viewer_run(const struct arb_replay_conf *conf, volatile sig_atomic_t *stop)
{
    struct sockaddr_storage addr;
    struct arb_error err;
    char host[256];
    int port = 0;
    bool ipv6 = false;
    struct viewer v = {.conf = conf};

    if (arb_listen_resolve(conf->viewer.listen, &addr, &ipv6, &err) != 0 ||
        arb_listen_parse(conf->viewer.listen, host, sizeof(host), &port) != 0) {
        arb_log_kv(ARB_LOG_ERROR, "viewer.listen", "error", err.message, NULL);
        return 1;
    }
    v.policy = (struct arb_view_policy){conf->viewer.token, conf->viewer.token_len,
                                        !arb_listen_is_loopback(host)};
    if (!arb_url_web(conf->desk.url, v.desk_host, sizeof(v.desk_host)))
        snprintf(v.desk_host, sizeof(v.desk_host), "%s", "the configured desk");
    atomic_init(&v.stopping, false);
    pthread_mutex_init(&v.resend_lock, NULL);
    struct MHD_Daemon *daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
            (ipv6 ? MHD_USE_IPv6 : 0),
        0, NULL, NULL, on_request, &v, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_LIMIT, CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
        CONNECTION_TIMEOUT_S, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    if (daemon == NULL) {
        arb_log_kv(ARB_LOG_ERROR, "viewer: cannot listen (address in use?)", "listen",
                   conf->viewer.listen, NULL);
        pthread_mutex_destroy(&v.resend_lock);
        return 1;
    }
    arb_log_kv(ARB_LOG_INFO, "viewer listening", "listen", conf->viewer.listen, "resend",
               v.policy.token_len > 0 ? "on" : "off (no viewer.token)", "token_required",
               v.policy.exposed ? "yes" : "no (loopback)", NULL);
    while (!*stop) {
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    arb_log_kv(ARB_LOG_INFO, "viewer stopping", NULL);
    atomic_store(&v.stopping, true); /* a re-send under way ends, then its connection */
    MHD_stop_daemon(daemon);
    pthread_mutex_destroy(&v.resend_lock);
    return 0;
}
