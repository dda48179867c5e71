/* admin.h - the operator endpoints both binaries serve: GET /healthz (200 while the process
 * serves), /readyz (200 when the owner says ready, else 503 with the reason), /metrics
 * (Prometheus text). The bridge serves them on its own port, among its webhooks
 * (arb_admin_serve); the replay on replay.admin_listen, a daemon of their own
 * (arb_admin_new). The callbacks run on libmicrohttpd's threads, so they must only read
 * state that is safe to read from another thread (atomics, locked snapshots). */
#ifndef ARB_ADMIN_H
#define ARB_ADMIN_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "arb/buf.h"
#include "arb/error.h"

/* Ready? If not, why (a short word such as "kafka_unreachable") in why. */
typedef bool arb_admin_ready_fn(void *opaque, char *why, size_t size);
typedef void arb_admin_metrics_fn(void *opaque, struct arb_buf *out);

struct arb_admin_hooks {
    arb_admin_ready_fn *ready;
    arb_admin_metrics_fn *metrics;
    void *opaque;
};

/* Whether path is one of the three. */
bool arb_admin_path(const char *path);

/* Answer a complete GET or HEAD of one of the three paths (405 with Allow for another
 * method); *status gets the status given. */
enum MHD_Result arb_admin_serve(struct MHD_Connection *connection, const char *path,
                                const char *method, const struct arb_admin_hooks *hooks,
                                unsigned *status);

/* A daemon of their own on listen (host:port). */
struct arb_admin;
struct arb_admin *arb_admin_new(const char *listen, const struct arb_admin_hooks *hooks,
                                struct arb_error *err);
void arb_admin_destroy(struct arb_admin *admin);

#endif
