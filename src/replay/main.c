/* main.c - airudder-replay: load the configuration, then run service mode (a consumer-group
 * member delivering every record to the desk), or, when any debug flag is given, debug mode
 * (read a chosen range of history, print it or re-send it, commit nothing), or with --view
 * the conversation viewer (pages of history and of the delivery log, re-send from a point).
 *
 * Signal handlers only set flags; the modes' loops act on them. */
#include "debug.h"
#include "pipeline.h"
#include "service.h"
#include "viewer.h"

#include "process.h"

#include "conf_load.h"
#include "arb/log.h"

#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_CONFIG "conf/airudder-replay.conf"
#define OPT_VIEW 1000 /* above debug mode's option values */
#define DEBUG_OPTIONS_MAX 32

static void usage(FILE *out)
{
    fprintf(out,
            "usage: airudder-replay [-c FILE] [-t] [-V] [-h]\n"
            "       airudder-replay [-c FILE] [--from-beginning | --from TIME | --offsets T:P:O[,..]]\n"
            "                       [--until TIME] [--call-id ID]... [--event NAME]...\n"
            "                       [--sender-type T]... [--limit N] [--follow] [--dry-run]\n"
            "                       [--desk-url URL]\n"
            "       airudder-replay [-c FILE] --view\n"
            "  -c FILE  configuration file (default " DEFAULT_CONFIG ")\n"
            "  -t       check the configuration and exit\n"
            "  -V       print the version and exit\n"
            "Without debug flags: service mode, the consumer group delivering to the desk.\n"
            "With any of them: debug mode, reading the chosen records without committing.\n"
            "With --view: the conversation viewer on viewer.listen.\n"
            "TIME is RFC 3339 (2026-11-23T10:05:00Z) or epoch milliseconds, compared with the\n"
            "Kafka record timestamp (when the bridge received the event).\n");
}

static void version(void)
{
    printf("airudder-replay %s (librdkafka %s, %s, jansson %s, %s)\n", ARB_VERSION,
           rd_kafka_version_str(), curl_version(), JANSSON_VERSION,
           OpenSSL_version(OPENSSL_VERSION));
}

static struct arb_replay_conf *load_conf(const char *file)
{
    struct arb_conf_errors errors = {0};
    struct arb_error err;
    struct arb_replay_conf *conf = NULL;

    if (arb_replay_conf_load(file, &conf, &errors) == 0 &&
        arb_service_check_conf(conf, &errors) == 0 &&
        arb_signature_prepare(&conf->desk.signature, &err) != 0)
        arb_conf_errors_add(&errors, file, 0, "desk.signature: %s", err.message);
    arb_conf_errors_print(&errors);
    if (errors.count > 0) {
        arb_replay_conf_destroy(conf);
        conf = NULL;
    }
    arb_conf_errors_clear(&errors);
    return conf;
}

/* Debug mode's options and --view. */
static void long_options(struct option *out)
{
    size_t n = 0;
    while (arb_debug_long_options[n].name != NULL && n + 2 < DEBUG_OPTIONS_MAX) {
        out[n] = arb_debug_long_options[n];
        n++;
    }
    out[n++] = (struct option){"view", no_argument, NULL, OPT_VIEW};
    out[n] = (struct option){NULL, 0, NULL, 0};
}

/* glibc gives each thread an arena of its own; librdkafka's threads allocate the fetched
 * batches and records that this thread frees, and the arenas fragment: the replay's peak RSS
 * was 110-126 MB with glibc's default and 69 MB with two arenas, at the same delivery rate
 * (README, Performance). MALLOC_ARENA_MAX, when set, still decides. */
static void limit_malloc_arenas(void)
{
    if (getenv("MALLOC_ARENA_MAX") == NULL)
        mallopt(M_ARENA_MAX, 2);
}

int main(int argc, char **argv)
{
    struct option options[DEBUG_OPTIONS_MAX];
    bool view = false;
    const char *file = DEFAULT_CONFIG;
    bool check_only = false;
    struct arb_replay_conf *conf = NULL;
    struct arb_debug_opts *debug = arb_debug_opts_new();
    struct arb_error err;
    int status = ARB_EXIT_CONFIG;
    int opt, index;

    limit_malloc_arenas();
    long_options(options);
    while ((opt = getopt_long(argc, argv, "c:tVh", options, &index)) != -1) {
        switch (opt) {
        case 'c': file = optarg; break;
        case OPT_VIEW: view = true; break;
        case 't': check_only = true; break;
        case 'V': version(); status = 0; goto out;
        case 'h': usage(stdout); status = 0; goto out;
        case '?': usage(stderr); goto out;
        default:
            if (arb_debug_opts_set(debug, opt, optarg, &err) != 0) {
                fprintf(stderr, "airudder-replay: %s\n", err.message);
                goto out;
            }
        }
    }
    if (optind < argc || arb_debug_opts_check(debug, &err) != 0) {
        if (optind < argc)
            usage(stderr);
        else
            fprintf(stderr, "airudder-replay: %s\n", err.message);
        goto out;
    }
    if (view && arb_debug_opts_active(debug)) {
        fprintf(stderr, "airudder-replay: --view and the debug flags exclude each other\n");
        goto out;
    }
    conf = load_conf(file);
    if (conf == NULL)
        goto out;
    if (check_only) {
        printf("configuration OK\n");
        status = 0;
        goto out;
    }
    if (arb_process_start(&conf->log) != 0)
        goto out;
    if (view)
        status = arb_viewer_run(conf, &arb_stop_requested);
    else if (arb_debug_opts_active(debug))
        status = arb_debug_run(conf, debug, &arb_stop_requested);
    else
        status = arb_service_run(conf, &arb_stop_requested, &arb_reopen_requested);
out:
    arb_debug_opts_destroy(debug);
    arb_replay_conf_destroy(conf);
    arb_log_shutdown();
    return status;
}
