/* admin.c - the replay's operator endpoints (see admin.h).
 *
 * Answers are given on the second call of the access handler, once the request is complete,
 * which lets libmicrohttpd keep the connection alive. */
#include "admin.h"
#include "listen.h"

#include "arb/log.h"
#include "arb/mem.h"

#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

struct arb_admin {
    struct MHD_Daemon *daemon;
    arb_admin_ready_fn *ready;
    arb_admin_metrics_fn *metrics;
    void *opaque;
};

static enum MHD_Result send_text(struct MHD_Connection *connection, unsigned status,
                                 const char *type, char *body, size_t len, const char *allow)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (allow != NULL)
        MHD_add_response_header(response, MHD_HTTP_HEADER_ALLOW, allow);
    enum MHD_Result ret = MHD_queue_response(connection, status, response);
    MHD_destroy_response(response);
    return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *connection, unsigned status,
                                 const char *json, const char *allow)
{
    return send_text(connection, status, "application/json", arb_xstrdup(json), strlen(json),
                     allow);
}

static enum MHD_Result serve_ready(struct arb_admin *admin, struct MHD_Connection *connection)
{
    char why[128] = "";
    struct arb_buf body;
    arb_buf_init(&body);
    bool ready = admin->ready(admin->opaque, why, sizeof(why));
    arb_buf_printf(&body, "{\"status\":\"%s\"}", ready ? "ready" : why);
    size_t len = body.len;
    return send_text(connection, ready ? 200 : 503, "application/json",
                     arb_buf_detach(&body, NULL), len, NULL);
}

static enum MHD_Result serve_metrics(struct arb_admin *admin, struct MHD_Connection *connection)
{
    struct arb_buf body;
    arb_buf_init(&body);
    admin->metrics(admin->opaque, &body);
    size_t len = body.len;
    return send_text(connection, 200, "text/plain; version=0.0.4; charset=utf-8",
                     arb_buf_detach(&body, NULL), len, NULL);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection,
                                  const char *url, const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    static int started;
    struct arb_admin *admin = cls;
    (void)version;
    (void)upload_data;

    if (*req_cls == NULL) {
        *req_cls = &started;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        *upload_data_size = 0; /* no endpoint takes a body */
        return MHD_YES;
    }
    bool known = strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0 ||
                 strcmp(url, "/metrics") == 0;
    if (!known)
        return send_json(connection, 404, "{\"error\":\"not_found\"}", NULL);
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return send_json(connection, 405, "{\"error\":\"method_not_allowed\"}", "GET, HEAD");
    if (strcmp(url, "/healthz") == 0)
        return send_json(connection, 200, "{\"status\":\"ok\"}", NULL);
    if (strcmp(url, "/readyz") == 0)
        return serve_ready(admin, connection);
    return serve_metrics(admin, connection);
}

struct arb_admin *arb_admin_new(const char *listen, arb_admin_ready_fn *ready,
                                arb_admin_metrics_fn *metrics, void *opaque,
                                struct arb_error *err)
{
    struct sockaddr_storage addr;
    bool ipv6 = false;

    if (arb_listen_resolve(listen, &addr, &ipv6, err) != 0)
        return NULL;
    struct arb_admin *admin = arb_xcalloc(1, sizeof(*admin));
    admin->ready = ready;
    admin->metrics = metrics;
    admin->opaque = opaque;
    admin->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | (ipv6 ? MHD_USE_IPv6 : 0), 0, NULL,
        NULL, on_request, admin, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (admin->daemon == NULL) {
        arb_error_set(err, ARB_E_IO, "cannot listen on %s (address in use?)", listen);
        free(admin);
        return NULL;
    }
    return admin;
}

void arb_admin_destroy(struct arb_admin *admin)
{
    if (admin == NULL)
        return;
    MHD_stop_daemon(admin->daemon);
    free(admin);
}
