/* ingest.c - bench-ingest: what the bridge's core costs per event, without HTTP or Kafka.
 * Times each phase on one body (the signed seed by default) over many rounds and prints a
 * table: authenticate (HMAC and request id), decide (parse, validate, route, build the
 * records), and, for comparison, the Jansson path the bridge used before (the differential
 * test's oracle: parse into a tree, check it, serialise each record). Allocations per event
 * are printed when libarb-count-alloc.so is preloaded (LD_PRELOAD), else "-".
 *
 *   bench-ingest [BODY [ROUNDS [core]]]   (core: the bridge's phases only, for a profile) */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/hmac.h>

#include "arb/ingest.h"
#include "arb/json_index.h"
#include "arb/platform.h"
#include "reference.h"

#define SECRET "bench-secret"

static const char conf_text[] = "signature = { secrets = [ \"" SECRET "\" ]; };\n"
                                "routes = ( { event = \"*\"; topic = \"t\"; } );\n";

typedef uint64_t alloc_calls_fn(void);
static alloc_calls_fn *alloc_calls;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* CPU time: other load does not count */
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct phase {
    const char *name;
    int64_t ns;
    uint64_t allocs;
};

static char *read_body(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *body = calloc(1, (size_t)size + ARB_JSON_PADDING);
    if (body != NULL && fread(body, 1, (size_t)size, f) != (size_t)size) {
        free(body);
        body = NULL;
    }
    fclose(f);
    *len = (size_t)size;
    return body;
}

static void sign(const char *body, size_t len, char hex[65])
{
    unsigned char mac[32];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (const unsigned char *)body, len, mac, &mac_len);
    for (unsigned i = 0; i < mac_len; i++)
        sprintf(hex + 2 * i, "%02x", mac[i]);
}

static void print_phase(const struct phase *p, long rounds, size_t len)
{
    double us = (double)p->ns / 1000.0 / (double)rounds;
    char allocs[32] = "-";
    if (alloc_calls != NULL)
        snprintf(allocs, sizeof(allocs), "%.1f", (double)p->allocs / (double)rounds);
    printf("| %s | %.2f | %.0f | %s |\n", p->name, us, (double)len / us, allocs);
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : ARB_SOURCE_DIR "/tests/fixtures/channel.message.sent.json";
    long rounds = argc > 2 ? atol(argv[2]) : 20000;
    struct arb_conf_errors errors = {0};
    struct arb_bridge_conf *conf = NULL;
    size_t len = 0;
    char *body = read_body(path, &len);
    char signature[65] = "";
    int rc = 1;

    alloc_calls = (alloc_calls_fn *)dlsym(RTLD_DEFAULT, "arb_alloc_calls");
    if (body == NULL || rounds <= 0) {
        fprintf(stderr, "usage: bench-ingest [BODY [ROUNDS [core]]]\n");
        goto out;
    }
    if (arb_bridge_conf_parse("bench.conf", conf_text, arb_platform_resolver(), &conf, &errors) != 0)
        goto out;
    struct arb_error err;
    if (arb_signature_prepare(&conf->signature, &err) != 0)
        goto out;
    struct arb_ingest *ingest = arb_ingest_new(conf, 1 << 20);
    sign(body, len, signature);
    struct arb_ingest_request req = {.endpoint = &conf->endpoints[0], .received_at_ms = 1720160400123LL};
    req.auth.body = body;
    req.auth.len = len;
    req.auth.signature = (struct arb_auth_header){signature, strlen(signature), 1};

    struct phase auth = {"authenticate (HMAC-SHA256, request id)", 0, 0};
    struct phase decide = {"decide (simdjson, schema, route, records)", 0, 0};
    struct phase both = {"bridge core, all (authenticate + decide)", 0, 0};
    struct phase jansson = {"before: decide with Jansson (tree, checks, records re-serialised)", 0, 0};
    size_t records = 0;
    /* Authentication alone, then both: decide is the difference (no clock read per event). */
    for (int pass = 0; pass < 2; pass++) {
        struct phase *p = pass == 0 ? &auth : &both;
        uint64_t a0 = alloc_calls ? alloc_calls() : 0;
        int64_t t0 = now_ns();
        for (long i = 0; i < rounds; i++) {
            struct arb_ingest_outcome out;
            if (arb_ingest_authenticate(ingest, &req, &out) != 0) {
                fprintf(stderr, "bench-ingest: not authenticated: %s\n", out.problem.message);
                goto destroy;
            }
            if (pass == 1) {
                arb_ingest_decide(ingest, &req, &out);
                if (out.action != ARB_INGEST_PRODUCE) {
                    fprintf(stderr, "bench-ingest: refused (%d): %s\n", out.status,
                            out.problem.message);
                    goto destroy;
                }
                records = out.records->count;
            }
            arb_ingest_outcome_clear(&out);
        }
        p->ns = now_ns() - t0;
        p->allocs = (alloc_calls ? alloc_calls() : 0) - a0;
    }
    decide.ns = both.ns - auth.ns;
    decide.allocs = both.allocs - auth.allocs;
    bool core_only = argc > 3 && strcmp(argv[3], "core") == 0;
    if (!core_only) {
        uint64_t a0 = alloc_calls ? alloc_calls() : 0;
        int64_t t0 = now_ns();
        for (long i = 0; i < rounds; i++) {
            struct ref_result ref;
            ref_ingest(body, len, conf->endpoints[0].schema, NULL, conf->routes, conf->nroutes,
                       "0123456789abcdef0123456789abcdef", req.received_at_ms, &ref);
            ref_result_clear(&ref);
        }
        jansson.ns = now_ns() - t0;
        jansson.allocs = (alloc_calls ? alloc_calls() : 0) - a0;
    }
    printf("bench-ingest: %s, %zu bytes, %zu records, %ld rounds\n\n", path, len, records, rounds);
    printf("| phase | CPU µs per event | MB/s | allocations per event |\n|---|---|---|---|\n");
    print_phase(&auth, rounds, len);
    print_phase(&decide, rounds, len);
    print_phase(&both, rounds, len);
    if (!core_only)
        print_phase(&jansson, rounds, len);
    rc = 0;
destroy:
    arb_ingest_destroy(ingest);
out:
    if (conf != NULL)
        arb_bridge_conf_destroy(conf);
    arb_conf_errors_clear(&errors);
    free(body);
    return rc;
}
