/* admin.h - the replay's operator endpoints on replay.admin_listen: GET /healthz (200 while
 * the process serves), /readyz (200 when the callback says ready, else 503 with the reason),
 * /metrics (Prometheus text). Served by libmicrohttpd's own thread, so the callbacks must
 * only read state that is safe to read from another thread (atomics, locked snapshots). */
#ifndef ARB_ADMIN_H
#define ARB_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "arb/buf.h"
#include "arb/error.h"

typedef bool arb_admin_ready_fn(void *opaque, char *why, size_t size);
typedef void arb_admin_metrics_fn(void *opaque, struct arb_buf *out);

struct arb_admin;

struct arb_admin *arb_admin_new(const char *listen, arb_admin_ready_fn *ready,
                                arb_admin_metrics_fn *metrics, void *opaque,
                                struct arb_error *err);
void arb_admin_destroy(struct arb_admin *admin);

#endif
