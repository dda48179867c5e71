/* ceiling.c - the HTTP ceiling for benchmarks: a libmicrohttpd server with the bridge's
 * threading (internal polling thread pool, epoll, one thread per CPU) that reads each POST
 * body whole and answers {} with keep-alive, doing nothing else. What the bridge achieves is
 * reported as a fraction of what this achieves on the same machine in the same sitting.
 *
 *   bench-ceiling --listen HOST:PORT [--threads N] */
#include <microhttpd.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    size_t *received = *req_cls;
    (void)cls, (void)url, (void)method, (void)version, (void)upload_data;
    if (received == NULL) { /* headers: like the bridge, answer once the body is in */
        *req_cls = calloc(1, sizeof(size_t));
        return *req_cls ? MHD_YES : MHD_NO;
    }
    if (*upload_data_size > 0) {
        *received += *upload_data_size; /* read, as the bridge must */
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct MHD_Response *response =
        MHD_create_response_from_buffer(2, (void *)"{}", MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    enum MHD_Result ret = MHD_queue_response(connection, 200, response);
    MHD_destroy_response(response);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)connection, (void)toe;
    free(*req_cls);
    *req_cls = NULL;
}

int main(int argc, char **argv)
{
    const char *listen = NULL;
    unsigned threads = (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--listen") == 0)
            listen = argv[i + 1];
        else if (strcmp(argv[i], "--threads") == 0)
            threads = (unsigned)atoi(argv[i + 1]);
    }
    const char *colon = listen ? strrchr(listen, ':') : NULL;
    if (colon == NULL) {
        fprintf(stderr, "usage: bench-ceiling --listen HOST:PORT [--threads N]\n");
        return 1;
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    char host[64];
    snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
    inet_pton(AF_INET, host, &addr.sin_addr);
    struct MHD_Daemon *daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
        on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, 4096u,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_END);
    if (daemon == NULL) {
        fprintf(stderr, "bench-ceiling: cannot listen on %s\n", listen);
        return 1;
    }
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    fprintf(stderr, "listening on %s\n", listen);
    while (!stop)
        pause();
    MHD_stop_daemon(daemon);
    return 0;
}
