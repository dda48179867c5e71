/* metrics.c - histograms and the Prometheus text format (see metrics.h). */
#include "arb/metrics.h"

#include <assert.h>
#include <stdio.h>

const double arb_latency_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                     0.25,  0.5,    1.0,   2.5,  5.0,   10.0};
const size_t arb_latency_nbounds = sizeof(arb_latency_bounds) / sizeof(arb_latency_bounds[0]);

void arb_histogram_init(struct arb_histogram *h, const double *bounds, size_t nbounds)
{
    assert(nbounds <= ARB_HISTOGRAM_MAX_BOUNDS);
    h->bounds = bounds;
    h->nbounds = nbounds;
    for (size_t i = 0; i <= ARB_HISTOGRAM_MAX_BOUNDS; i++)
        atomic_init(&h->buckets[i], 0);
    atomic_init(&h->sum_ns, 0);
}

void arb_histogram_observe(struct arb_histogram *h, int64_t ns)
{
    double seconds = (double)ns / 1e9;
    size_t i = 0;
    if (ns < 0)
        ns = 0;
    while (i < h->nbounds && seconds > h->bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->buckets[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, (uint_fast64_t)ns, memory_order_relaxed);
}

void arb_metric_family(struct arb_buf *out, const char *name, const char *type,
                       const char *help)
{
    arb_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void arb_metric_sample(struct arb_buf *out, const char *name, const char *labels,
                       double value)
{
    if (labels != NULL && labels[0] != '\0')
        arb_buf_printf(out, "%s{%s} %.17g\n", name, labels, value);
    else
        arb_buf_printf(out, "%s %.17g\n", name, value);
}

void arb_metric_histogram(struct arb_buf *out, const char *name, const char *labels,
                          const struct arb_histogram *h)
{
    const char *sep = (labels != NULL && labels[0] != '\0') ? "," : "";
    uint64_t cumulative = 0;
    if (labels == NULL)
        labels = "";
    for (size_t i = 0; i <= h->nbounds; i++) {
        cumulative += atomic_load_explicit(&h->buckets[i], memory_order_relaxed);
        if (i < h->nbounds)
            arb_buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep,
                           h->bounds[i], (unsigned long long)cumulative);
        else
            arb_buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
                           (unsigned long long)cumulative);
    }
    double sum = (double)atomic_load_explicit(&h->sum_ns, memory_order_relaxed) / 1e9;
    char suffixed[128];
    snprintf(suffixed, sizeof(suffixed), "%s_sum", name);
    arb_metric_sample(out, suffixed, labels, sum);
    snprintf(suffixed, sizeof(suffixed), "%s_count", name);
    arb_metric_sample(out, suffixed, labels, (double)cumulative);
}
