/* metrics.h - counters and histograms updated lock-free from any thread, written out in the
 * Prometheus text exposition format (version 0.0.4).
 *
 * Counters are plain atomics owned by the module that counts; this module only knows how to
 * observe a histogram and how to write families, so each binary keeps its metrics next to
 * the code that changes them. */
#ifndef ARB_METRICS_H
#define ARB_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "arb/buf.h"

#define ARB_HISTOGRAM_MAX_BOUNDS 16

struct arb_histogram {
    const double *bounds; /* upper bounds in seconds, ascending; +Inf is implicit */
    size_t nbounds;
    atomic_uint_fast64_t buckets[ARB_HISTOGRAM_MAX_BOUNDS + 1]; /* not cumulative */
    atomic_uint_fast64_t sum_ns;
};

/* Bounds for request and delivery latencies: 1 ms to 10 s. */
extern const double arb_latency_bounds[];
extern const size_t arb_latency_nbounds;

void arb_histogram_init(struct arb_histogram *h, const double *bounds, size_t nbounds);
void arb_histogram_observe(struct arb_histogram *h, int64_t ns);

/* "# HELP name help\n# TYPE name type\n" */
void arb_metric_family(struct arb_buf *out, const char *name, const char *type,
                       const char *help);
/* "name{labels} value\n"; labels is like `code="200"`, or NULL. */
void arb_metric_sample(struct arb_buf *out, const char *name, const char *labels,
                       double value);
/* The _bucket, _sum and _count samples of a histogram. */
void arb_metric_histogram(struct arb_buf *out, const char *name, const char *labels,
                          const struct arb_histogram *h);

#endif
