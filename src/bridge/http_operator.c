/* http_operator.c - what the bridge's operator endpoints report (admin.h serves them):
 * readiness (not quiescing, Kafka reachable) and the metrics of requests, dedup and the
 * producer. */
#include "http_internal.h"
#include "http_guard.h"

#include <stdio.h>

bool arb_http_ready_hook(void *opaque, char *why, size_t size)
{
    struct arb_http_server *server = opaque;
    if (atomic_load(&server->quiescing)) {
        snprintf(why, size, "shutting_down");
        return false;
    }
    if (!arb_producer_ready(server->producer)) {
        snprintf(why, size, "kafka_unreachable");
        return false;
    }
    return true;
}

static const char *route_path(const struct arb_http_server *server, size_t route)
{
    static const char *const operator_paths[ARB_HTTP_OPERATOR_ROUTES] = {"/healthz", "/readyz",
                                                                "/metrics", "other"};
    if (route < server->conf->nendpoints)
        return server->conf->endpoints[route].path; /* {token} stays a placeholder */
    return operator_paths[route - server->conf->nendpoints];
}

static void dedup_metrics(struct arb_http_server *server, struct arb_buf *out)
{
    static const char entries[] = "airudder_bridge_dedup_entries";
    static const char answers[] = "airudder_bridge_dedup_answers_total";
    static const char evicted[] = "airudder_bridge_dedup_evicted_total";
    struct arb_dedup_stats stats = {0};

    if (server->dedup != NULL) {
        pthread_mutex_lock(&server->dedup_lock);
        arb_dedup_stats(server->dedup, &stats);
        pthread_mutex_unlock(&server->dedup_lock);
    }
    arb_metric_family(out, entries, "gauge", "Request ids remembered by the dedup window.");
    arb_metric_sample(out, entries, NULL, (double)stats.entries);
    arb_metric_family(out, answers, "counter",
                      "Repeats of a webhook answered from the dedup window, not written again.");
    arb_metric_sample(out, answers, NULL, (double)atomic_load(&server->dedup_answers));
    arb_metric_family(out, evicted, "counter",
                      "Request ids forgotten before their window ended, to make room.");
    arb_metric_sample(out, evicted, NULL, (double)stats.evicted);
}

void arb_http_metrics_hook(void *opaque, struct arb_buf *out)
{
    static const char requests[] = "airudder_bridge_requests_total";
    static const char duration[] = "airudder_bridge_request_duration_seconds";
    static const char in_flight[] = "airudder_bridge_requests_in_flight";
    static const char slow[] = "airudder_bridge_slow_connections_closed_total";
    struct arb_http_server *server = opaque;
    char labels[320];

    arb_metric_family(out, requests, "counter", "HTTP requests answered, by path and status.");
    for (size_t route = 0; route < server->nroutes; route++) {
        for (size_t s = 0; s < ARB_HTTP_NSTATUSES; s++) {
            uint64_t n = atomic_load_explicit(&server->requests[route][s], memory_order_relaxed);
            if (n == 0)
                continue;
            snprintf(labels, sizeof(labels), "path=\"%s\",code=\"%d\"", route_path(server, route),
                     arb_http_statuses[s]);
            arb_metric_sample(out, requests, labels, (double)n);
        }
    }
    arb_metric_family(out, duration, "histogram",
                      "Time from receiving an event to answering it, in seconds.");
    arb_metric_histogram(out, duration, NULL, &server->duration);
    arb_metric_family(out, in_flight, "gauge",
                      "Authenticated event requests being handled, including those waiting "
                      "for Kafka.");
    arb_metric_sample(out, in_flight, NULL, (double)atomic_load(&server->events_active));
    arb_metric_family(out, slow, "counter",
                      "Connections closed for sending their head or body too slowly.");
    arb_metric_sample(out, slow, NULL, (double)arb_http_guard_closed(server->guard));
    dedup_metrics(server, out);
    arb_producer_metrics(server->producer, out);
}

