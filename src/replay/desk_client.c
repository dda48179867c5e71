/* desk_client.c - POSTs to the agent desk over libcurl's multi interface (see desk_client.h).
 *
 * One multi handle drives every transfer on the caller's thread; nothing here blocks except
 * curl_multi_poll, for no longer than the caller allows. The multi handle owns the
 * connection cache: CURLMOPT_MAX_HOST_CONNECTIONS = desk.max_in_flight bounds the
 * connections to the desk (a transfer beyond it waits inside libcurl for a free one) and
 * CURLMOPT_MAXCONNECTS keeps as many alive between requests, so a steady stream of records
 * reuses them with no TCP or TLS handshake.
 *
 * Easy handles are pooled: a finished transfer gives its handle back to a free list and the
 * next post takes it from there. Options that never change (timeouts, TLS, socket options,
 * callbacks) are set once, when a handle is created; the ones that do (URL, body, headers,
 * pointers to the transfer) are set by every post, and the pointers are cleared when the
 * handle goes back to the pool, so curl_easy_reset is never needed.
 *
 * A transfer owns a copy of its body and its header list. When libcurl reports it done, the
 * result is read (status, Retry-After, the error text copied to the stack), the handle
 * returns to the pool, the transfer is unlinked and freed, and only then is the callback
 * called, so a callback may post or abort freely. A post whose setup fails (libcurl refuses
 * an option, or the multi handle refuses the transfer) is not reported from post: it is
 * called back at the next poll with status 0 and the error, like a transfer that got no
 * answer, so every post is called back exactly once unless aborted.
 *
 * The response body is discarded. Beyond BODY_LIMIT bytes the transfer is stopped (the
 * connection is then closed, not reused) and the status already received is the answer.
 * Retry-After is libcurl's reading of the final response's header (CURLINFO_RETRY_AFTER:
 * delta-seconds or an HTTP-date, as seconds from now).
 *
 * curl_global_init(CURL_GLOBAL_DEFAULT) runs once per process, at the first
 * arb_desk_client_new (pthread_once). It is never undone: curl_global_cleanup is not safe
 * while anything else in the process may still use libcurl or OpenSSL. */
#include "desk_client.h"

#include "arb/log.h"
#include "arb/mem.h"
#include "arb/clock.h"
#include "arb/metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <string.h>
#include <unistd.h>

#define BODY_LIMIT (64 * 1024)       /* response bytes read before the transfer is stopped */
#define CONNECT_TIMEOUT_MAX_MS 5000  /* TCP + TLS handshake, within desk.timeout_ms */
#define RETRY_AFTER_MAX_S (366 * 24 * 3600) /* longer is read as this: ms cannot overflow */
#define USER_AGENT "airudder-replay/" ARB_VERSION


/* Transfers in posting order; a transfer is in exactly one list while it exists. */
TAILQ_HEAD(transfer_queue, arb_desk_transfer);

struct transfer_list {
    struct transfer_queue queue;
    size_t count;
};

struct arb_desk_transfer {
    TAILQ_ENTRY(arb_desk_transfer) link;
    CURL *easy;                 /* NULL when the setup failed: then in client->failed */
    struct curl_slist *headers; /* ours: the caller's, Content-Type and Expect */
    char *body;                 /* ours: libcurl reads it in place (CURLOPT_POSTFIELDS) */
    arb_desk_done_fn *done;
    void *opaque;
    int64_t start_ns;
    size_t body_bytes;      /* response body received */
    char errbuf[CURL_ERROR_SIZE];
};

struct arb_desk_client {
    CURLM *multi;
    long timeout_ms, connect_timeout_ms;
    char *ca_file; /* "" = the system store */
    bool insecure;
    struct transfer_list active; /* in the multi handle */
    struct transfer_list failed; /* setup failed: called back at the next poll */
    CURL **idle;                 /* the pool of easy handles */
    size_t nidle, idle_max;
};

/* ---- libcurl, once per process ---- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_result = CURLE_FAILED_INIT;

static void global_init(void)
{
    global_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Set an option unless an earlier one failed; rc keeps the first failure. */
#define SETOPT(rc, easy, option, value)                                                    \
    do {                                                                                   \
        if ((rc) == CURLE_OK)                                                              \
            (rc) = curl_easy_setopt((easy), (option), (value));                            \
    } while (0)

/* ---- transfer lists ---- */

static void list_append(struct transfer_list *list, struct arb_desk_transfer *transfer)
{
    TAILQ_INSERT_TAIL(&list->queue, transfer, link);
    list->count++;
}

static void list_unlink(struct transfer_list *list, struct arb_desk_transfer *transfer)
{
    TAILQ_REMOVE(&list->queue, transfer, link);
    list->count--;
}

/* ---- libcurl callbacks (no multi calls from here) ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct arb_desk_transfer *transfer = userdata;
    (void)data;
    transfer->body_bytes += size * nmemb;
    return transfer->body_bytes > BODY_LIMIT ? 0 : size * nmemb; /* 0 stops the transfer */
}

/* The final response's Retry-After in ms, or -1 when it had none (or "0": no hint). */
static int64_t retry_after_ms(CURL *easy)
{
    curl_off_t seconds = 0;
    if (curl_easy_getinfo(easy, CURLINFO_RETRY_AFTER, &seconds) != CURLE_OK || seconds <= 0)
        return -1;
    return (int64_t)(seconds < RETRY_AFTER_MAX_S ? seconds : RETRY_AFTER_MAX_S) * 1000;
}

/* ---- the pool of easy handles ---- */

/* The options every transfer shares. */
static CURLcode easy_setup_fixed(const struct arb_desk_client *client, CURL *easy)
{
    CURLcode rc = CURLE_OK;

    SETOPT(rc, easy, CURLOPT_NOSIGNAL, 1L);
    SETOPT(rc, easy, CURLOPT_PROTOCOLS_STR, "http,https");
    SETOPT(rc, easy, CURLOPT_USERAGENT, USER_AGENT);
    SETOPT(rc, easy, CURLOPT_POST, 1L);
    SETOPT(rc, easy, CURLOPT_TIMEOUT_MS, client->timeout_ms);
    SETOPT(rc, easy, CURLOPT_CONNECTTIMEOUT_MS, client->connect_timeout_ms);
    SETOPT(rc, easy, CURLOPT_TCP_NODELAY, 1L);
    SETOPT(rc, easy, CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(rc, easy, CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(rc, easy, CURLOPT_SSL_VERIFYPEER, client->insecure ? 0L : 1L);
    SETOPT(rc, easy, CURLOPT_SSL_VERIFYHOST, client->insecure ? 0L : 2L);
    if (client->ca_file[0] != '\0') { /* this bundle only: not the built-in CA path too */
        SETOPT(rc, easy, CURLOPT_CAINFO, client->ca_file);
        SETOPT(rc, easy, CURLOPT_CAPATH, (char *)NULL);
    }
    return rc;
}

static CURLcode easy_new(const struct arb_desk_client *client, CURL **out)
{
    CURL *easy = curl_easy_init();
    CURLcode rc;

    *out = NULL;
    if (easy == NULL)
        return CURLE_OUT_OF_MEMORY;
    rc = easy_setup_fixed(client, easy);
    if (rc != CURLE_OK) {
        curl_easy_cleanup(easy);
        return rc;
    }
    *out = easy;
    return CURLE_OK;
}

static CURLcode pool_take(struct arb_desk_client *client, CURL **out)
{
    if (client->nidle > 0) {
        *out = client->idle[--client->nidle];
        return CURLE_OK;
    }
    return easy_new(client, out);
}

/* Forget the finished transfer's pointers; keep max_in_flight handles, free the rest. */
static void pool_put(struct arb_desk_client *client, CURL *easy)
{
    if (easy == NULL)
        return;
    if (client->nidle == client->idle_max) {
        curl_easy_cleanup(easy);
        return;
    }
    curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, NULL);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, NULL);
    client->idle[client->nidle++] = easy;
}

/* ---- transfers ---- */

static struct curl_slist *headers_add(struct curl_slist *list, const char *line)
{
    struct curl_slist *grown = curl_slist_append(list, line);
    if (grown == NULL) {
        fprintf(stderr, "airudder: out of memory building request headers\n");
        abort(); /* the project's out-of-memory policy (mem.h) */
    }
    return grown;
}

static struct arb_desk_transfer *transfer_new(const char *body, size_t len,
                                              const char *const *headers, size_t nheaders,
                                              arb_desk_done_fn *done, void *opaque)
{
    struct arb_desk_transfer *transfer = arb_xcalloc(1, sizeof(*transfer));

    transfer->body = arb_xmalloc(len);
    if (len > 0)
        memcpy(transfer->body, body, len);
    for (size_t i = 0; i < nheaders; i++)
        transfer->headers = headers_add(transfer->headers, headers[i]);
    transfer->headers = headers_add(transfer->headers, "Content-Type: application/json");
    transfer->headers = headers_add(transfer->headers, "Expect:"); /* no 100-continue wait */
    transfer->done = done;
    transfer->opaque = opaque;
    transfer->start_ns = arb_now_ns();
    return transfer;
}

/* The options of this request, on a handle from the pool. */
static CURLcode transfer_setup(struct arb_desk_transfer *transfer, const char *url, size_t len)
{
    CURL *easy = transfer->easy;
    CURLcode rc = CURLE_OK;

    SETOPT(rc, easy, CURLOPT_URL, url);
    SETOPT(rc, easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    SETOPT(rc, easy, CURLOPT_POSTFIELDS, transfer->body);
    SETOPT(rc, easy, CURLOPT_HTTPHEADER, transfer->headers);
    SETOPT(rc, easy, CURLOPT_ERRORBUFFER, transfer->errbuf);
    SETOPT(rc, easy, CURLOPT_WRITEDATA, transfer);
    SETOPT(rc, easy, CURLOPT_PRIVATE, transfer);
    return rc;
}

/* Unlink and free the transfer; its handle, already out of the multi handle, is pooled. */
static void transfer_free(struct arb_desk_client *client, struct arb_desk_transfer *transfer)
{
    list_unlink(transfer->easy != NULL ? &client->active : &client->failed, transfer);
    pool_put(client, transfer->easy);
    curl_slist_free_all(transfer->headers);
    free(transfer->body);
    free(transfer);
}

/* Keep a transfer that could not start, to be called back (status 0) at the next poll. */
static void transfer_defer(struct arb_desk_client *client, struct arb_desk_transfer *transfer,
                           const char *what, const char *why)
{
    if (transfer->easy != NULL)
        curl_easy_cleanup(transfer->easy); /* possibly half set up: not pooled */
    transfer->easy = NULL;
    snprintf(transfer->errbuf, sizeof(transfer->errbuf), "%s: %s", what, why);
    list_append(&client->failed, transfer);
    arb_log_kv(ARB_LOG_WARN, "desk request not started", "error", transfer->errbuf, NULL);
}

struct arb_desk_transfer *arb_desk_client_post(struct arb_desk_client *client, const char *url,
                                               const char *body, size_t len,
                                               const char *const *headers, size_t nheaders,
                                               arb_desk_done_fn *done, void *opaque)
{
    struct arb_desk_transfer *transfer =
        transfer_new(body, len, headers, nheaders, done, opaque);
    CURLcode rc = pool_take(client, &transfer->easy);
    CURLMcode mrc;

    if (rc == CURLE_OK)
        rc = transfer_setup(transfer, url, len);
    if (rc != CURLE_OK) {
        transfer_defer(client, transfer, "libcurl", curl_easy_strerror(rc));
        return transfer;
    }
    mrc = curl_multi_add_handle(client->multi, transfer->easy);
    if (mrc != CURLM_OK) {
        transfer_defer(client, transfer, "libcurl multi", curl_multi_strerror(mrc));
        return transfer;
    }
    list_append(&client->active, transfer);
    return transfer;
}

void arb_desk_client_abort(struct arb_desk_client *client, struct arb_desk_transfer *transfer)
{
    if (transfer == NULL)
        return;
    if (transfer->easy != NULL)
        curl_multi_remove_handle(client->multi, transfer->easy);
    transfer_free(client, transfer);
}

/* ---- finishing ---- */

/* The answer's status, or 0 when there was none. A body stopped at BODY_LIMIT still had
 * its status line: that is the desk's answer. */
static long answer_status(const struct arb_desk_transfer *transfer, CURLcode result)
{
    long status = 0;

    if (result == CURLE_OK || (result == CURLE_WRITE_ERROR && transfer->body_bytes > BODY_LIMIT))
        curl_easy_getinfo(transfer->easy, CURLINFO_RESPONSE_CODE, &status);
    return status;
}

/* Fill result (its error text in error[]), free the transfer, then call back. */
static void transfer_finish(struct arb_desk_client *client, struct arb_desk_transfer *transfer,
                            CURLcode result)
{
    char error[CURL_ERROR_SIZE];
    struct arb_desk_result answer = {.retry_after_ms = -1};
    arb_desk_done_fn *done = transfer->done;
    void *opaque = transfer->opaque;

    if (transfer->easy != NULL)
        answer.status = answer_status(transfer, result);
    if (answer.status != 0) {
        answer.retry_after_ms = retry_after_ms(transfer->easy);
    } else {
        snprintf(error, sizeof(error), "%s",
                 transfer->errbuf[0] != '\0' ? transfer->errbuf : curl_easy_strerror(result));
        answer.error = error;
    }
    answer.duration_ns = arb_now_ns() - transfer->start_ns;
    if (transfer->easy != NULL)
        curl_multi_remove_handle(client->multi, transfer->easy);
    transfer_free(client, transfer);
    done(opaque, &answer);
}

static void finish_done(struct arb_desk_client *client)
{
    CURLMsg *msg;
    int queued;

    while ((msg = curl_multi_info_read(client->multi, &queued)) != NULL) {
        char *priv = NULL;
        CURLcode result = msg->data.result; /* msg is invalid after the next multi call */

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        transfer_finish(client, (struct arb_desk_transfer *)priv, result);
    }
}

/* Only as many as were waiting when the poll began: a callback may defer new ones. */
static void finish_failed(struct arb_desk_client *client)
{
    for (size_t n = client->failed.count; n > 0 && !TAILQ_EMPTY(&client->failed.queue); n--)
        transfer_finish(client, TAILQ_FIRST(&client->failed.queue), CURLE_FAILED_INIT);
}

static int count_ready(const struct curl_waitfd *extra, unsigned nextra)
{
    int ready = 0;

    for (unsigned i = 0; i < nextra; i++)
        ready += extra[i].revents != 0;
    return ready;
}

int arb_desk_client_poll(struct arb_desk_client *client, struct curl_waitfd *extra,
                         unsigned nextra, int timeout_ms, struct arb_error *err)
{
    long curl_ms = -1;
    int wait_ms = timeout_ms > 0 ? timeout_ms : 0;
    int running;
    CURLMcode mrc = curl_multi_timeout(client->multi, &curl_ms);

    if (!TAILQ_EMPTY(&client->failed.queue))
        wait_ms = 0;
    else if (curl_ms >= 0 && curl_ms < wait_ms)
        wait_ms = (int)curl_ms;
    for (unsigned i = 0; i < nextra; i++)
        extra[i].revents = 0; /* libcurl leaves them alone when nothing is ready */
    if (mrc == CURLM_OK)
        mrc = curl_multi_poll(client->multi, extra, nextra, wait_ms, NULL);
    if (mrc == CURLM_OK)
        mrc = curl_multi_perform(client->multi, &running);
    if (mrc != CURLM_OK)
        return arb_error_set(err, ARB_E_HTTP, "libcurl: %s", curl_multi_strerror(mrc));
    finish_done(client);
    finish_failed(client);
    return count_ready(extra, nextra);
}

size_t arb_desk_client_running(const struct arb_desk_client *client)
{
    return client->active.count + client->failed.count;
}

/* ---- the client ---- */

static CURLMcode multi_setup(CURLM *multi, long max_in_flight)
{
    CURLMcode mrc = curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, max_in_flight);

    if (mrc == CURLM_OK)
        mrc = curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, max_in_flight);
    return mrc;
}

struct arb_desk_client *arb_desk_client_new(const struct arb_desk_conf *desk,
                                            struct arb_error *err)
{
    struct arb_desk_client *client = NULL;
    CURLMcode mrc;
    CURLcode rc;

    if (desk->max_in_flight < 1 || desk->timeout_ms < 1) {
        arb_error_set(err, ARB_E_INVALID, "desk: max_in_flight and timeout_ms must be >= 1");
        goto fail;
    }
    if (desk->ca_file != NULL && desk->ca_file[0] != '\0' && access(desk->ca_file, R_OK) != 0) {
        arb_error_set(err, ARB_E_INVALID, "desk.ca_file %s: %s", desk->ca_file, strerror(errno));
        goto fail;
    }
    pthread_once(&global_once, global_init);
    if (global_result != CURLE_OK) {
        arb_error_set(err, ARB_E_HTTP, "curl_global_init: %s", curl_easy_strerror(global_result));
        goto fail;
    }
    client = arb_xcalloc(1, sizeof(*client));
    TAILQ_INIT(&client->active.queue);
    TAILQ_INIT(&client->failed.queue);
    client->timeout_ms = desk->timeout_ms;
    client->connect_timeout_ms =
        desk->timeout_ms < CONNECT_TIMEOUT_MAX_MS ? desk->timeout_ms : CONNECT_TIMEOUT_MAX_MS;
    client->ca_file = arb_xstrdup(desk->ca_file != NULL ? desk->ca_file : "");
    client->insecure = desk->insecure_skip_verify;
    client->idle_max = (size_t)desk->max_in_flight;
    client->idle = arb_xcalloc(client->idle_max, sizeof(*client->idle));
    client->multi = curl_multi_init();
    if (client->multi == NULL) {
        arb_error_set(err, ARB_E_HTTP, "curl_multi_init failed");
        goto fail;
    }
    mrc = multi_setup(client->multi, desk->max_in_flight);
    if (mrc != CURLM_OK) {
        arb_error_set(err, ARB_E_HTTP, "libcurl multi: %s", curl_multi_strerror(mrc));
        goto fail;
    }
    /* One handle now, so an option this libcurl refuses (TLS, CA file) fails at startup. */
    rc = easy_new(client, &client->idle[0]);
    if (rc != CURLE_OK) {
        arb_error_set(err, ARB_E_HTTP, "libcurl: %s", curl_easy_strerror(rc));
        goto fail;
    }
    client->nidle = 1;
    return client;
fail:
    arb_desk_client_destroy(client);
    return NULL;
}

void arb_desk_client_destroy(struct arb_desk_client *client)
{
    if (client == NULL)
        return;
    while (!TAILQ_EMPTY(&client->active.queue))
        arb_desk_client_abort(client, TAILQ_FIRST(&client->active.queue));
    while (!TAILQ_EMPTY(&client->failed.queue))
        arb_desk_client_abort(client, TAILQ_FIRST(&client->failed.queue));
    while (client->nidle > 0)
        curl_easy_cleanup(client->idle[--client->nidle]);
    free(client->idle);
    if (client->multi != NULL)
        curl_multi_cleanup(client->multi);
    free(client->ca_file);
    free(client);
}
