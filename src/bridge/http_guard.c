/* http_guard.c - slow connections closed (see http_guard.h).
 *
 * Each connection gets an entry when libmicrohttpd accepts it, with a duplicate of its
 * socket: shutting that down ends the connection (libmicrohttpd then reads the end and
 * closes it in its own time), and since the duplicate stays open until the entry goes, the
 * number can never name a newer connection that reused it. */
#include "http_guard.h"

#include "arb/clock.h"
#include "arb/edge.h"
#include "arb/log.h"
#include "arb/mem.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SWEEP_INTERVAL_MS 250

struct arb_conn {
    TAILQ_ENTRY(arb_conn) link;
    int fd; /* our duplicate, -1 if none */
    bool closed;
    struct arb_conn_progress progress; /* under the guard's lock */
};

TAILQ_HEAD(conn_list, arb_conn);

struct arb_http_guard {
    const struct arb_http_conf *http;
    pthread_mutex_t lock;
    struct conn_list conns;
    pthread_t thread;
    bool stopping; /* under lock */
    pthread_cond_t wake;
    atomic_uint_fast64_t closed;
};

static void sweep(struct arb_http_guard *guard)
{
    int64_t now = arb_now_ns();
    struct arb_conn *conn;
    TAILQ_FOREACH(conn, &guard->conns, link) {
        if (conn->closed || conn->fd < 0 || !arb_edge_overdue(guard->http, &conn->progress, now))
            continue;
        shutdown(conn->fd, SHUT_RDWR);
        conn->closed = true;
        atomic_fetch_add(&guard->closed, 1);
    }
}

static void *guard_main(void *arg)
{
    struct arb_http_guard *guard = arg;
    pthread_mutex_lock(&guard->lock);
    while (!guard->stopping) {
        struct timespec until;
        sweep(guard);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += SWEEP_INTERVAL_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&guard->wake, &guard->lock, &until);
    }
    pthread_mutex_unlock(&guard->lock);
    return NULL;
}

struct arb_http_guard *arb_http_guard_new(const struct arb_http_conf *http)
{
    struct arb_http_guard *guard = arb_xcalloc(1, sizeof(*guard));
    guard->http = http;
    pthread_mutex_init(&guard->lock, NULL);
    pthread_cond_init(&guard->wake, NULL);
    TAILQ_INIT(&guard->conns);
    if (pthread_create(&guard->thread, NULL, guard_main, guard) != 0) {
        arb_log_kv(ARB_LOG_ERROR, "cannot start the connection guard", NULL);
        abort(); /* like running out of memory: nothing sensible left to do */
    }
    return guard;
}

void arb_http_guard_destroy(struct arb_http_guard *guard)
{
    struct arb_conn *conn;
    if (guard == NULL)
        return;
    pthread_mutex_lock(&guard->lock);
    guard->stopping = true;
    pthread_cond_signal(&guard->wake);
    pthread_mutex_unlock(&guard->lock);
    pthread_join(guard->thread, NULL);
    while ((conn = TAILQ_FIRST(&guard->conns)) != NULL) { /* a daemon stopped first has none */
        TAILQ_REMOVE(&guard->conns, conn, link);
        if (conn->fd >= 0)
            close(conn->fd);
        free(conn);
    }
    pthread_cond_destroy(&guard->wake);
    pthread_mutex_destroy(&guard->lock);
    free(guard);
}

void arb_http_guard_notify(void *cls, struct MHD_Connection *connection, void **socket_context,
                           enum MHD_ConnectionNotificationCode code)
{
    struct arb_http_guard *guard = cls;
    struct arb_conn *conn = *socket_context;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        conn = arb_xcalloc(1, sizeof(*conn));
        conn->fd = info != NULL ? dup(info->connect_fd) : -1;
        conn->progress.head_started_ns = arb_now_ns();
        pthread_mutex_lock(&guard->lock);
        TAILQ_INSERT_TAIL(&guard->conns, conn, link);
        pthread_mutex_unlock(&guard->lock);
        *socket_context = conn;
        return;
    }
    if (conn == NULL)
        return;
    pthread_mutex_lock(&guard->lock);
    TAILQ_REMOVE(&guard->conns, conn, link);
    pthread_mutex_unlock(&guard->lock);
    if (conn->fd >= 0)
        close(conn->fd);
    free(conn);
    *socket_context = NULL;
}

struct arb_conn *arb_http_guard_conn(struct MHD_Connection *connection)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info != NULL ? info->socket_context : NULL;
}

void arb_conn_head_done(struct arb_http_guard *guard, struct arb_conn *conn, int64_t now_ns)
{
    if (conn == NULL)
        return;
    pthread_mutex_lock(&guard->lock);
    conn->progress.head_done = true;
    conn->progress.body_started_ns = now_ns;
    conn->progress.body_bytes = 0;
    conn->progress.body_done = false;
    pthread_mutex_unlock(&guard->lock);
}

void arb_conn_body_bytes(struct arb_http_guard *guard, struct arb_conn *conn, size_t bytes)
{
    if (conn == NULL)
        return;
    pthread_mutex_lock(&guard->lock);
    conn->progress.body_bytes += (int64_t)bytes;
    pthread_mutex_unlock(&guard->lock);
}

void arb_conn_body_refused(struct arb_http_guard *guard, struct arb_conn *conn, int64_t now_ns)
{
    if (conn == NULL)
        return;
    pthread_mutex_lock(&guard->lock);
    conn->progress.refused_ns = now_ns;
    pthread_mutex_unlock(&guard->lock);
}

void arb_conn_body_done(struct arb_http_guard *guard, struct arb_conn *conn)
{
    if (conn == NULL)
        return;
    pthread_mutex_lock(&guard->lock);
    conn->progress.body_done = true;
    pthread_mutex_unlock(&guard->lock);
}

void arb_conn_request_done(struct arb_http_guard *guard, struct arb_conn *conn, int64_t now_ns)
{
    if (conn == NULL)
        return;
    pthread_mutex_lock(&guard->lock);
    conn->progress = (struct arb_conn_progress){.head_started_ns = now_ns, .reused = true};
    pthread_mutex_unlock(&guard->lock);
}

uint64_t arb_http_guard_closed(const struct arb_http_guard *guard)
{
    return atomic_load(&guard->closed);
}
