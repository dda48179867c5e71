/* http_guard.h - every open connection of the bridge, how far its request got, and a thread
 * that closes those that have had their time (edge.h: a head not in by the header deadline,
 * a body arriving slower than the minimum rate). libmicrohttpd's own timeout restarts on
 * every byte, so a client sending one byte every few seconds would hold a connection (and
 * its memory) for ever; this is what stops it. A connection waiting for Kafka has passed
 * authentication and is left alone. */
#ifndef ARB_HTTP_GUARD_H
#define ARB_HTTP_GUARD_H

#include <microhttpd.h>
#include <stdint.h>

#include "arb/config.h"

struct arb_http_guard;
struct arb_conn;

struct arb_http_guard *arb_http_guard_new(const struct arb_http_conf *http);
void arb_http_guard_destroy(struct arb_http_guard *guard);

/* For MHD_OPTION_NOTIFY_CONNECTION. */
void arb_http_guard_notify(void *cls, struct MHD_Connection *connection, void **socket_context,
                           enum MHD_ConnectionNotificationCode code);

/* The connection's entry (NULL if it has none). */
struct arb_conn *arb_http_guard_conn(struct MHD_Connection *connection);

/* Progress, as the access handler sees it. Each accepts NULL. */
void arb_conn_head_done(struct arb_http_guard *guard, struct arb_conn *conn, int64_t now_ns);
void arb_conn_body_bytes(struct arb_http_guard *guard, struct arb_conn *conn, size_t bytes);
void arb_conn_body_refused(struct arb_http_guard *guard, struct arb_conn *conn, int64_t now_ns);
void arb_conn_body_done(struct arb_http_guard *guard, struct arb_conn *conn);
void arb_conn_request_done(struct arb_http_guard *guard, struct arb_conn *conn, int64_t now_ns);

/* Connections closed for being too slow. */
uint64_t arb_http_guard_closed(const struct arb_http_guard *guard);

#endif
