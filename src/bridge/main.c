/* main.c - airudder-bridge: load the configuration, start the producer and the HTTP server,
 * run until a signal, then shut down in order: stop accepting, let requests in flight be
 * answered (each within kafka.ack_timeout_ms), flush the producer, exit.
 *
 * Signal handlers only set flags; this loop acts on them. */
#include "http_server.h"
#include "process.h"
#include "producer.h"

#include "conf_load.h"
#include "arb/log.h"
#include "arb/clock.h"
#include "arb/metrics.h"

#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#define DEFAULT_CONFIG "conf/airudder-bridge.conf"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: airudder-bridge [-c FILE] [-t] [-V] [-h]\n"
            "  -c FILE  configuration file (default " DEFAULT_CONFIG ")\n"
            "  -t       check the configuration and exit\n"
            "  -V       print the version and exit\n"
            "  -h       this help\n");
}

static void version(void)
{
    printf("airudder-bridge %s (librdkafka %s, libmicrohttpd %s, jansson %s, %s)\n",
           ARB_VERSION, rd_kafka_version_str(), MHD_get_version(), JANSSON_VERSION,
           OpenSSL_version(OPENSSL_VERSION));
}

/* Key the HMAC contexts of the top-level signature and of every endpoint's own. */
static void prepare_signatures(struct arb_bridge_conf *conf, struct arb_conf_errors *errors)
{
    struct arb_error err;
    if (arb_signature_prepare(&conf->signature, &err) != 0)
        arb_conf_errors_add(errors, conf->file, 0, "signature: %s", err.message);
    for (size_t i = 0; i < conf->nendpoints; i++)
        if (conf->endpoints[i].has_signature &&
            arb_signature_prepare(&conf->endpoints[i].own_signature, &err) != 0)
            arb_conf_errors_add(errors, conf->file, 0, "endpoints[%zu].signature: %s", i,
                                err.message);
}

/* Load and check everything a start would check, short of opening sockets. */
static struct arb_bridge_conf *load_conf(const char *file)
{
    struct arb_conf_errors errors = {0};
    struct arb_error err;
    struct arb_bridge_conf *conf = NULL;

    if (arb_bridge_conf_load(file, &conf, &errors) == 0 &&
        arb_producer_check_conf(conf, &errors) == 0)
        prepare_signatures(conf, &errors);
    if (arb_json_cpu_check(&err) != 0)
        arb_conf_errors_add(&errors, file, 0, "%s", err.message);
    arb_conf_errors_print(&errors);
    if (errors.count > 0) {
        arb_bridge_conf_destroy(conf);
        conf = NULL;
    }
    arb_conf_errors_clear(&errors);
    return conf;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static void run(struct arb_producer *producer)
{
    while (!arb_stop_requested && !arb_producer_failed(producer)) {
        if (arb_reopen_requested) {
            struct arb_error err;
            arb_reopen_requested = 0;
            if (arb_log_reopen(&err) != 0)
                arb_log_kv(ARB_LOG_ERROR, "cannot reopen the log file", "error", err.message,
                           NULL);
        }
        sleep_ms(100);
    }
}

#define CONNECTION_GRACE_NS 2000000000

/* Wait until no request is being handled, or the deadline passes; then give connections
 * that are still open up to CONNECTION_GRACE_NS to close, since one accepted just before the
 * listener closed may be sending a request that is not yet "being handled" (it is answered
 * 503 with Connection: close). Idle keep-alive connections are closed by the stop. */
static bool drain(struct arb_http_server *server, int64_t deadline_ns)
{
    int64_t grace_until = 0;
    for (;;) {
        int64_t now = arb_now_ns();
        if (arb_http_server_active(server) > 0) {
            grace_until = 0;
            if (now >= deadline_ns)
                return false;
        } else {
            if (grace_until == 0)
                grace_until = now + CONNECTION_GRACE_NS;
            if (arb_http_server_connections(server) == 0 || now >= grace_until ||
                now >= deadline_ns)
                return true;
        }
        sleep_ms(10);
    }
}

static void shut_down(const struct arb_bridge_conf *conf, struct arb_http_server *server,
                      struct arb_producer *producer)
{
    int64_t deadline = arb_now_ns() + (int64_t)conf->shutdown_timeout_s * 1000000000;

    arb_log_kv(ARB_LOG_INFO, "shutting down", NULL);
    arb_http_server_quiesce(server);
    if (!drain(server, deadline)) {
        arb_log_kv(ARB_LOG_WARN, "shutdown timeout: answering 503 to requests still waiting",
                   NULL);
        arb_producer_abandon_waiting(producer);
        drain(server, arb_now_ns() + 1000000000);
    }
    arb_http_server_stop(server);
    /* Every request is answered by now, so what is still queued belongs to requests answered
     * 503, which the sender retries: worth one more ack timeout at most, not the whole
     * shutdown budget (librdkafka would keep retrying them for message.timeout.ms). */
    int64_t left_ms = (deadline - arb_now_ns()) / 1000000;
    if (left_ms > conf->kafka.ack_timeout_ms)
        left_ms = conf->kafka.ack_timeout_ms;
    arb_producer_destroy(producer, left_ms > 0 ? (int)left_ms : 0);
    arb_http_server_destroy(server); /* after the last delivery report, which may use it */
}

static void log_start(const struct arb_bridge_conf *conf)
{
    arb_log_kv(ARB_LOG_INFO, "airudder-bridge starting", "version", ARB_VERSION, "listen",
               conf->http.listen, "kafka", conf->kafka.bootstrap, NULL);
    for (size_t i = 0; i < conf->nendpoints; i++) {
        const struct arb_endpoint_conf *endpoint = &conf->endpoints[i];
        if (endpoint->auth == ARB_AUTH_NONE)
            arb_log_kv(ARB_LOG_WARN,
                       "AUTHENTICATION IS OFF (auth = \"none\"): any caller can write events "
                       "into Kafka through this endpoint",
                       "path", endpoint->path, NULL);
        else if (endpoint->auth == ARB_AUTH_SIGNATURE && endpoint->signature->mode == ARB_SIG_OFF)
            arb_log_kv(ARB_LOG_WARN,
                       "SIGNATURE VERIFICATION IS OFF (signature.mode = \"off\"): any caller "
                       "can write events into Kafka through this endpoint",
                       "path", endpoint->path, NULL);
    }
}

/* A server of max_connections needs as many descriptors, and the guard one more each: raise
 * the soft limit as far as the hard one allows. */
static void raise_fd_limit(const struct arb_bridge_conf *conf)
{
    struct rlimit limit;
    rlim_t want = (rlim_t)conf->http.max_connections * 2 + 256;
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= want)
        return;
    limit.rlim_cur = limit.rlim_max < want ? limit.rlim_max : want;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur < want) {
        char have[24];
        snprintf(have, sizeof(have), "%llu", (unsigned long long)limit.rlim_cur);
        arb_log_kv(ARB_LOG_WARN, "open files limited below what http.max_connections needs",
                   "limit", have, NULL);
    }
}

int main(int argc, char **argv)
{
    const char *file = DEFAULT_CONFIG;
    bool check_only = false;
    struct arb_bridge_conf *conf = NULL;
    struct arb_producer *producer = NULL;
    struct arb_http_server *server = NULL;
    struct arb_conf_errors errors = {0};
    struct arb_error err;
    int status = ARB_EXIT_CONFIG;
    int opt;

    while ((opt = getopt(argc, argv, "c:tVh")) != -1) {
        switch (opt) {
        case 'c': file = optarg; break;
        case 't': check_only = true; break;
        case 'V': version(); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return ARB_EXIT_CONFIG;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return ARB_EXIT_CONFIG;
    }
    conf = load_conf(file);
    if (conf == NULL)
        goto out;
    if (check_only) {
        printf("configuration OK\n");
        status = 0;
        goto out;
    }
    if (arb_process_start(&conf->log) != 0)
        goto out;
    log_start(conf);
    raise_fd_limit(conf);
    arb_signals_block(); /* until the producer's and the server's threads are started */
    producer = arb_producer_new(conf, &errors);
    if (producer == NULL) {
        arb_conf_errors_print(&errors);
        goto out;
    }
    server = arb_http_server_new(conf, producer, &err);
    if (server == NULL) {
        arb_log_kv(ARB_LOG_ERROR, "cannot start the HTTP server", "error", err.message, NULL);
        goto out;
    }
    arb_log_kv(ARB_LOG_INFO, "listening", "addr", conf->http.listen, NULL);
    arb_signals_unblock();
    run(producer);
    status = arb_producer_failed(producer) ? ARB_EXIT_FATAL : 0;
    shut_down(conf, server, producer);
    server = NULL;
    producer = NULL;
    arb_log_kv(ARB_LOG_INFO, "stopped", NULL);
out:
    arb_http_server_stop(server);
    arb_producer_destroy(producer, 0);
    arb_http_server_destroy(server);
    arb_conf_errors_clear(&errors);
    arb_bridge_conf_destroy(conf);
    arb_log_shutdown();
    return status;
}
