/* edge.h - the rules of the HTTP edge, before any body is read: strict framing (where the
 * HTTP library is lax, a request hidden in a body could be executed behind a proxy), which
 * endpoint a request is for, and when a slow connection has had its time.
 *
 * Framing problems get 400 and the connection closed: a header name that is not a token, a
 * NUL or line break in a header value or the path, a Content-Length beside a
 * Transfer-Encoding, two Content-Lengths or a malformed one, two Transfer-Encodings or a
 * coding other than chunked, a repeated Host, and on HTTP/1.1 a missing one. Then the path picks
 * an endpoint (404, 405 with Allow), and an event endpoint wants JSON (415) of a declared size
 * within http.max_body_bytes (413). Pure: the caller hands over what the library parsed. */
#ifndef ARB_EDGE_H
#define ARB_EDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arb/config.h"

struct arb_head_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

struct arb_head {
    const char *method;
    const char *version;
    const char *raw_uri; /* as received, escapes not decoded */
    const char *path;    /* decoded, without the query */
    const struct arb_head_header *headers;
    size_t nheaders;
};

enum arb_route_kind { ARB_HEAD_EVENTS, ARB_HEAD_HEALTHZ, ARB_HEAD_READYZ, ARB_HEAD_METRICS,
                      ARB_HEAD_OTHER };

struct arb_head_verdict {
    int status; /* 0: read the body; else answer this now */
    const char *error, *detail;
    const char *allow; /* 405 */
    bool close;        /* and close the connection */
    enum arb_route_kind kind;
    const struct arb_endpoint_conf *endpoint; /* ARB_HEAD_EVENTS */
    const char *path_token; /* the {token} segment of path, or NULL */
    size_t path_token_len;
    int64_t declared_length; /* -1: chunked or none */
};

void arb_edge_check_head(const struct arb_bridge_conf *conf, const struct arb_head *head,
                         struct arb_head_verdict *verdict);

/* How far a connection got, for its deadlines. */
struct arb_conn_progress {
    int64_t head_started_ns; /* the connection accepted, or the previous request done */
    bool reused;             /* a keep-alive connection waiting for its next request */
    bool head_done;
    int64_t body_started_ns; /* when the head was done */
    int64_t body_bytes;
    bool body_done; /* or waiting for Kafka: deadlines no longer apply */
    int64_t refused_ns; /* when the body went over the limit while arriving; 0 if not */
};

/* How long a body refused while arriving (a chunked one over http.max_body_bytes) may take
 * to end, to be answered 413; libmicrohttpd cannot answer before the upload ends. */
#define ARB_EDGE_REFUSED_GRACE_MS 1000

/* Has the connection had its time? The head must be in within http.header_timeout_s (a
 * reused connection gets http.idle_timeout_s more, its idle time), and the body within
 * http.body_timeout_s plus one second per http.body_min_rate bytes received, or within
 * ARB_EDGE_REFUSED_GRACE_MS of being refused. */
bool arb_edge_overdue(const struct arb_http_conf *http, const struct arb_conn_progress *conn,
                      int64_t now_ns);

#endif
