/* http_server.h - the bridge's HTTP front end (libmicrohttpd).
 *
 * POST <http.path> verifies, validates, splits and produces an event, answering only when
 * Kafka has acknowledged every record (contract section 2); GET /healthz, /readyz and
 * /metrics serve operators. A handful of threads serve many requests at once: a request
 * waiting for Kafka is a suspended connection, resumed by the producer's callback. */
#ifndef ARB_HTTP_SERVER_H
#define ARB_HTTP_SERVER_H

#include <stddef.h>

#include "arb/config.h"
#include "arb/error.h"
#include "producer.h"

struct arb_http_server;

struct arb_http_server *arb_http_server_new(const struct arb_bridge_conf *conf,
                                            struct arb_producer *producer,
                                            struct arb_error *err);

/* Stop accepting connections; requests on open connections are answered 503 from now on. */
void arb_http_server_quiesce(struct arb_http_server *server);

/* Requests received and not yet completed (including those waiting for Kafka). */
size_t arb_http_server_active(const struct arb_http_server *server);

/* Open connections, idle or not (a request may be arriving on one). */
unsigned arb_http_server_connections(const struct arb_http_server *server);

/* Closes every connection and ends the server's threads: no request arrives after it. What a
 * request left behind (a deduplication key whose records Kafka has not yet settled) lives on
 * until arb_http_server_destroy, so the producer is destroyed between the two. */
void arb_http_server_stop(struct arb_http_server *server);

void arb_http_server_destroy(struct arb_http_server *server);

#endif
