/* desk_client.h - POSTs to the agent desk, many at once, over kept-alive connections
 * (libcurl multi), without ever blocking the caller's loop.
 *
 * The replay's single thread starts requests with arb_desk_client_post and then calls
 * arb_desk_client_poll, which waits for network activity (or for the extra file descriptors
 * the caller passes, e.g. librdkafka's queue wake-up pipes) at most timeout_ms, drives the
 * transfers, and calls each finished request's callback from within the poll. Connections
 * are reused (no TCP/TLS handshake per record); TLS verifies the desk's certificate unless
 * desk.insecure_skip_verify is set. */
#ifndef ARB_DESK_CLIENT_H
#define ARB_DESK_CLIENT_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "arb/config.h"
#include "arb/error.h"

struct arb_desk_result {
    long status;            /* the HTTP status, or 0 when no answer (timeout, connection) */
    int64_t retry_after_ms; /* from a Retry-After header, -1 when absent */
    int64_t duration_ns;    /* from start to finish of this attempt */
    const char *error;      /* libcurl's message when status is 0, else NULL */
};

/* Called once per post, from within arb_desk_client_poll (never from post itself). */
typedef void arb_desk_done_fn(void *opaque, const struct arb_desk_result *result);

struct arb_desk_client;

struct arb_desk_client *arb_desk_client_new(const struct arb_desk_conf *desk,
                                            struct arb_error *err);
/* Aborts transfers still running without calling their callbacks. */
void arb_desk_client_destroy(struct arb_desk_client *client);

/* Start a POST of body to url (both copied) with headers ("Name: value" strings, copied),
 * plus Content-Type: application/json. Returns a handle for arb_desk_client_abort. */
struct arb_desk_transfer;
struct arb_desk_transfer *arb_desk_client_post(struct arb_desk_client *client, const char *url,
                                               const char *body, size_t len,
                                               const char *const *headers, size_t nheaders,
                                               arb_desk_done_fn *done, void *opaque);

/* Cancel a running transfer; its callback will not be called. */
void arb_desk_client_abort(struct arb_desk_client *client, struct arb_desk_transfer *transfer);

/* Wait at most timeout_ms for activity on the transfers or on extra (may be NULL), run the
 * transfers, and call back the finished ones. Returns how many extra descriptors are ready
 * (their revents are set), or -1 with err. */
int arb_desk_client_poll(struct arb_desk_client *client, struct curl_waitfd *extra,
                         unsigned nextra, int timeout_ms, struct arb_error *err);

size_t arb_desk_client_running(const struct arb_desk_client *client);

#endif
