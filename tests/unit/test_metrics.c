/* test_metrics.c - the Prometheus text exposition format (core/metrics.c), byte for byte: a
 * family's HELP and TYPE lines, samples with and without labels, and histograms after some
 * observations (cumulative buckets, an observation exactly on a bound counted in that
 * bound's bucket, +Inf, _sum in seconds, _count), on the latency bounds the binaries use and
 * on bounds of the test's own. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arb/metrics.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_OBSERVATIONS 8
#define MS INT64_C(1000000)
#define S INT64_C(1000000000)

/* What was appended to a fresh buffer by fn (caller frees). */
static char *text_of(void (*fn)(struct arb_buf *, const void *), const void *arg)
{
    struct arb_buf out;
    arb_buf_init(&out);
    fn(&out, arg);
    return arb_buf_detach(&out, NULL);
}

/* ---- families and samples ---------------------------------------------------------------- */

static void two_families(struct arb_buf *out, const void *arg)
{
    (void)arg;
    arb_metric_family(out, "airudder_bridge_requests_total", "counter",
                      "Event requests answered, by status.");
    arb_metric_family(out, "airudder_bridge_up", "gauge", "1 while the process serves.");
}

static void test_family(void **state)
{
    (void)state;
    char *text = text_of(two_families, NULL);
    assert_string_equal(text, "# HELP airudder_bridge_requests_total Event requests answered, "
                              "by status.\n"
                              "# TYPE airudder_bridge_requests_total counter\n"
                              "# HELP airudder_bridge_up 1 while the process serves.\n"
                              "# TYPE airudder_bridge_up gauge\n");
    free(text);
}

struct sample_case {
    const char *name;
    const char *metric, *labels;
    double value;
    const char *want;
};

static const struct sample_case sample_cases[] = {
    {"no labels", "up", NULL, 1, "up 1\n"},
    {"empty labels: no braces", "up", "", 0, "up 0\n"},
    {"one label", "requests_total", "code=\"200\"", 42, "requests_total{code=\"200\"} 42\n"},
    {"two labels", "requests_total", "code=\"503\",error=\"kafka_unavailable\"", 7,
     "requests_total{code=\"503\",error=\"kafka_unavailable\"} 7\n"},
    {"a fraction", "ratio", NULL, 0.25, "ratio 0.25\n"},
    {"a counter past 2^32, in full", "bytes_total", NULL, 1099511627776.0,
     "bytes_total 1099511627776\n"},
    {"2^53, every digit", "big", NULL, 9007199254740992.0, "big 9007199254740992\n"},
    {"negative", "delta", "k=\"v\"", -3.5, "delta{k=\"v\"} -3.5\n"},
};

static void one_sample(struct arb_buf *out, const void *arg)
{
    const struct sample_case *c = arg;
    arb_metric_sample(out, c->metric, c->labels, c->value);
}

static void test_samples(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(sample_cases); i++) {
        const struct sample_case *c = &sample_cases[i];
        print_message("case: %s\n", c->name);
        char *text = text_of(one_sample, c);
        assert_string_equal(text, c->want);
        free(text);
    }
}

/* ---- histograms -------------------------------------------------------------------------- */

static const double test_bounds[] = {0.5, 1.0, 2.0};

struct histogram_case {
    const char *name;
    const double *bounds;
    size_t nbounds;
    int64_t observations[MAX_OBSERVATIONS]; /* ns */
    size_t nobservations;
    const char *labels;
    const char *want;
};

/* Sums are written with 17 significant digits, so a scraper reads back the very double:
 * 2.500000002 s is "2.5000000020000002". */
#define TEST_BOUNDS test_bounds, COUNT(test_bounds)
#define LATENCY arb_latency_bounds, 13 /* checked against arb_latency_nbounds below */

static const struct histogram_case histogram_cases[] = {
    {"nothing observed", TEST_BOUNDS, {0}, 0, NULL,
     "d_bucket{le=\"0.5\"} 0\n"
     "d_bucket{le=\"1\"} 0\n"
     "d_bucket{le=\"2\"} 0\n"
     "d_bucket{le=\"+Inf\"} 0\n"
     "d_sum 0\n"
     "d_count 0\n"},
    {"cumulative, bounds inclusive, beyond the last",
     TEST_BOUNDS, {250 * MS, 500 * MS, 1 * S, 1500 * MS, 3 * S}, 5, NULL,
     "d_bucket{le=\"0.5\"} 2\n"
     "d_bucket{le=\"1\"} 3\n"
     "d_bucket{le=\"2\"} 4\n"
     "d_bucket{le=\"+Inf\"} 5\n"
     "d_sum 6.25\n"
     "d_count 5\n"},
    {"a nanosecond over a bound is in the next", TEST_BOUNDS, {500 * MS + 1, 2 * S + 1}, 2,
     NULL,
     "d_bucket{le=\"0.5\"} 0\n"
     "d_bucket{le=\"1\"} 1\n"
     "d_bucket{le=\"2\"} 1\n"
     "d_bucket{le=\"+Inf\"} 2\n"
     "d_sum 2.5000000020000002\n"
     "d_count 2\n"},
    {"zero and a negative duration: the first bucket, nothing summed", TEST_BOUNDS,
     {0, -5 * S, 1 * S}, 3, NULL,
     "d_bucket{le=\"0.5\"} 2\n"
     "d_bucket{le=\"1\"} 3\n"
     "d_bucket{le=\"2\"} 3\n"
     "d_bucket{le=\"+Inf\"} 3\n"
     "d_sum 1\n"
     "d_count 3\n"},
    {"labels come before le", TEST_BOUNDS, {2 * S, 4 * S}, 2, "route=\"events\"",
     "d_bucket{route=\"events\",le=\"0.5\"} 0\n"
     "d_bucket{route=\"events\",le=\"1\"} 0\n"
     "d_bucket{route=\"events\",le=\"2\"} 1\n"
     "d_bucket{route=\"events\",le=\"+Inf\"} 2\n"
     "d_sum{route=\"events\"} 6\n"
     "d_count{route=\"events\"} 2\n"},
    {"empty labels: as none", TEST_BOUNDS, {1 * S}, 1, "",
     "d_bucket{le=\"0.5\"} 0\n"
     "d_bucket{le=\"1\"} 1\n"
     "d_bucket{le=\"2\"} 1\n"
     "d_bucket{le=\"+Inf\"} 1\n"
     "d_sum 1\n"
     "d_count 1\n"},
    {"no bounds: +Inf only", test_bounds, 0, {1 * S, 2 * S}, 2, NULL,
     "d_bucket{le=\"+Inf\"} 2\n"
     "d_sum 3\n"
     "d_count 2\n"},
    {"latency bounds: exactly 1 ms, exactly 10 s, an hour", LATENCY,
     {1 * MS, 10 * S, 3600 * S}, 3, NULL,
     "d_bucket{le=\"0.001\"} 1\n"
     "d_bucket{le=\"0.0025\"} 1\n"
     "d_bucket{le=\"0.005\"} 1\n"
     "d_bucket{le=\"0.01\"} 1\n"
     "d_bucket{le=\"0.025\"} 1\n"
     "d_bucket{le=\"0.05\"} 1\n"
     "d_bucket{le=\"0.1\"} 1\n"
     "d_bucket{le=\"0.25\"} 1\n"
     "d_bucket{le=\"0.5\"} 1\n"
     "d_bucket{le=\"1\"} 1\n"
     "d_bucket{le=\"2.5\"} 1\n"
     "d_bucket{le=\"5\"} 1\n"
     "d_bucket{le=\"10\"} 2\n"
     "d_bucket{le=\"+Inf\"} 3\n"
     "d_sum 3610.0010000000002\n"
     "d_count 3\n"},
    {"latency bounds: each exactly on its bound", LATENCY,
     {1 * MS, 2500000, 5 * MS, 10 * MS, 25 * MS, 50 * MS, 100 * MS, 250 * MS}, 8, NULL,
     "d_bucket{le=\"0.001\"} 1\n"
     "d_bucket{le=\"0.0025\"} 2\n"
     "d_bucket{le=\"0.005\"} 3\n"
     "d_bucket{le=\"0.01\"} 4\n"
     "d_bucket{le=\"0.025\"} 5\n"
     "d_bucket{le=\"0.05\"} 6\n"
     "d_bucket{le=\"0.1\"} 7\n"
     "d_bucket{le=\"0.25\"} 8\n"
     "d_bucket{le=\"0.5\"} 8\n"
     "d_bucket{le=\"1\"} 8\n"
     "d_bucket{le=\"2.5\"} 8\n"
     "d_bucket{le=\"5\"} 8\n"
     "d_bucket{le=\"10\"} 8\n"
     "d_bucket{le=\"+Inf\"} 8\n"
     "d_sum 0.44350000000000001\n"
     "d_count 8\n"},
};

static void one_histogram(struct arb_buf *out, const void *arg)
{
    const struct histogram_case *c = arg;
    struct arb_histogram h;
    arb_histogram_init(&h, c->bounds, c->nbounds);
    for (size_t i = 0; i < c->nobservations; i++)
        arb_histogram_observe(&h, c->observations[i]);
    arb_metric_histogram(out, "d", c->labels, &h);
}

static void test_histograms(void **state)
{
    (void)state;
    assert_int_equal(arb_latency_nbounds, 13);
    for (size_t i = 0; i < COUNT(histogram_cases); i++) {
        const struct histogram_case *c = &histogram_cases[i];
        print_message("case: %s\n", c->name);
        char *text = text_of(one_histogram, c);
        assert_string_equal(text, c->want);
        free(text);
    }
}

/* A histogram is reset by init, and written after what the buffer held. */
static void test_histogram_reinit_and_append(void **state)
{
    (void)state;
    struct arb_histogram h;
    struct arb_buf out;
    arb_histogram_init(&h, test_bounds, COUNT(test_bounds));
    arb_histogram_observe(&h, 3 * S);
    arb_histogram_init(&h, test_bounds, 1);
    arb_histogram_observe(&h, 100 * MS);
    arb_buf_init(&out);
    arb_metric_family(&out, "d", "histogram", "Durations.");
    arb_metric_histogram(&out, "d", NULL, &h);
    assert_string_equal(out.data, "# HELP d Durations.\n"
                                  "# TYPE d histogram\n"
                                  "d_bucket{le=\"0.5\"} 1\n"
                                  "d_bucket{le=\"+Inf\"} 1\n"
                                  "d_sum 0.10000000000000001\n"
                                  "d_count 1\n");
    arb_buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_family),
        cmocka_unit_test(test_samples),
        cmocka_unit_test(test_histograms),
        cmocka_unit_test(test_histogram_reinit_and_append),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
