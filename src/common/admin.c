/* admin.c - the operator endpoints (see admin.h).
 *
 * The daemon of arb_admin_new answers on the second call of its access handler, once the
 * request is complete, which lets libmicrohttpd keep the connection alive. */
#include "admin.h"
#include "listen.h"

#include "arb/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arb_admin {
    struct MHD_Daemon *daemon;
    struct arb_admin_hooks hooks;
};

/* body is handed to libmicrohttpd, which frees it. */
static enum MHD_Result send_text(struct MHD_Connection *connection, unsigned status,
                                 const char *type, char *body, size_t len, const char *allow)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (response == NULL) {
        free(body);
        return MHD_NO;
    }
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

bool arb_admin_path(const char *path)
{
    return strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0 ||
           strcmp(path, "/metrics") == 0;
}

static enum MHD_Result serve_ready(const struct arb_admin_hooks *hooks,
                                   struct MHD_Connection *connection, unsigned *status)
{
    char why[128] = "", body[192];
    bool ready = hooks->ready(hooks->opaque, why, sizeof(why));
    snprintf(body, sizeof(body), "{\"status\":\"%s\"}", ready ? "ready" : why);
    *status = ready ? 200 : 503;
    return send_json(connection, *status, body, NULL);
}

static enum MHD_Result serve_metrics(const struct arb_admin_hooks *hooks,
                                     struct MHD_Connection *connection, unsigned *status)
{
    struct arb_buf body;
    arb_buf_init(&body);
    hooks->metrics(hooks->opaque, &body);
    size_t len = body.len;
    *status = 200;
    return send_text(connection, 200, "text/plain; version=0.0.4; charset=utf-8",
                     arb_buf_detach(&body, NULL), len, NULL);
}

enum MHD_Result arb_admin_serve(struct MHD_Connection *connection, const char *path,
                                const char *method, const struct arb_admin_hooks *hooks,
                                unsigned *status)
{
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        *status = 405;
        return send_json(connection, 405, "{\"error\":\"method_not_allowed\"}", "GET, HEAD");
    }
    if (strcmp(path, "/healthz") == 0) {
        *status = 200;
        return send_json(connection, 200, "{\"status\":\"ok\"}", NULL);
    }
    if (strcmp(path, "/readyz") == 0)
        return serve_ready(hooks, connection, status);
    return serve_metrics(hooks, connection, status);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection,
                                  const char *url, const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    static int started;
    struct arb_admin *admin = cls;
    unsigned status;
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
    if (!arb_admin_path(url))
        return send_json(connection, 404, "{\"error\":\"not_found\"}", NULL);
    return arb_admin_serve(connection, url, method, &admin->hooks, &status);
}

struct arb_admin *arb_admin_new(const char *listen, const struct arb_admin_hooks *hooks,
                                struct arb_error *err)
{
    struct sockaddr_storage addr;
    bool ipv6 = false;

    if (arb_listen_resolve(listen, &addr, &ipv6, err) != 0)
        return NULL;
    struct arb_admin *admin = arb_xcalloc(1, sizeof(*admin));
    admin->hooks = *hooks;
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
