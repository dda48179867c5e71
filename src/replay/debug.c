/* debug.c - debug mode (see debug.h).
 *
 * First a plan (core/plan.c, asked of Kafka by reader.c): for every partition to read, a
 * start offset (low watermark, the offset of the --from time, or the given --offsets) and an
 * end (the high watermark taken now, or the offset of the --until time, or none with
 * --follow). Unknown topics, offsets outside the partition and empty plans are reported
 * before anything is read. Then a consumer with manually assigned partitions (no
 * subscription, no group membership, auto-commit off: the service group never sees it)
 * reads each partition from its start to its end, the plan saying which records are in it
 * and when a partition is finished (then paused); selected records are printed or handed to
 * the same pipeline service mode uses, and what becomes of each goes to the delivery log
 * (mode "resend") as in service mode.
 *
 * The viewer's "re-send from here" is a debug run too (arb_debug_resend): --offsets at the
 * chosen records, --call-id of the conversation, --until its last record, quiet, and the
 * outcomes handed back to show. */
#include "debug.h"
#include "consumed.h"
#include "delivery_log.h"
#include "pipeline.h"
#include "reader.h"

#include "arb/log.h"
#include "arb/mem.h"
#include "arb/clock.h"
#include "arb/metrics.h"
#include "arb/plan.h"
#include "arb/selection.h"

#include <fcntl.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROGRESS_INTERVAL_NS 250000000

enum {
    OPT_FROM_BEGINNING = 256,
    OPT_FROM,
    OPT_OFFSETS,
    OPT_UNTIL,
    OPT_CALL_ID,
    OPT_EVENT,
    OPT_SENDER_TYPE,
    OPT_LIMIT,
    OPT_FOLLOW,
    OPT_DRY_RUN,
    OPT_DESK_URL,
};

const struct option arb_debug_long_options[] = {
    {"from-beginning", no_argument, NULL, OPT_FROM_BEGINNING},
    {"from", required_argument, NULL, OPT_FROM},
    {"offsets", required_argument, NULL, OPT_OFFSETS},
    {"until", required_argument, NULL, OPT_UNTIL},
    {"call-id", required_argument, NULL, OPT_CALL_ID},
    {"event", required_argument, NULL, OPT_EVENT},
    {"sender-type", required_argument, NULL, OPT_SENDER_TYPE},
    {"limit", required_argument, NULL, OPT_LIMIT},
    {"follow", no_argument, NULL, OPT_FOLLOW},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"desk-url", required_argument, NULL, OPT_DESK_URL},
    {NULL, 0, NULL, 0},
};

struct arb_debug_opts {
    struct arb_selection selection;
    bool active, follow, dry_run;
    char *desk_url;
};

/* ---- options ---- */

struct arb_debug_opts *arb_debug_opts_new(void)
{
    struct arb_debug_opts *opts = arb_xcalloc(1, sizeof(*opts));
    arb_selection_init(&opts->selection);
    return opts;
}

void arb_debug_opts_destroy(struct arb_debug_opts *opts)
{
    if (opts == NULL)
        return;
    arb_selection_clear(&opts->selection);
    free(opts->desk_url);
    free(opts);
}

int arb_debug_opts_set(struct arb_debug_opts *opts, int opt, const char *arg,
                       struct arb_error *err)
{
    struct arb_selection *sel = &opts->selection;
    opts->active = true;
    switch (opt) {
    case OPT_FROM_BEGINNING: return arb_selection_set_start(sel, ARB_START_BEGINNING, arg, err);
    case OPT_FROM: return arb_selection_set_start(sel, ARB_START_TIME, arg, err);
    case OPT_OFFSETS: return arb_selection_set_start(sel, ARB_START_OFFSETS, arg, err);
    case OPT_UNTIL: return arb_selection_set_until(sel, arg, err);
    case OPT_LIMIT: return arb_selection_set_limit(sel, arg, err);
    case OPT_CALL_ID: arb_selection_add(&sel->call_ids, &sel->ncall_ids, arg); return 0;
    case OPT_EVENT: arb_selection_add(&sel->events, &sel->nevents, arg); return 0;
    case OPT_SENDER_TYPE:
        arb_selection_add(&sel->sender_types, &sel->nsender_types, arg);
        return 0;
    case OPT_FOLLOW: opts->follow = true; return 0;
    case OPT_DRY_RUN: opts->dry_run = true; return 0;
    case OPT_DESK_URL:
        if (strncmp(arg, "http://", 7) != 0 && strncmp(arg, "https://", 8) != 0)
            return arb_error_set(err, ARB_E_INVALID,
                                 "--desk-url: must start with http:// or https://");
        free(opts->desk_url);
        opts->desk_url = arb_xstrdup(arg);
        return 0;
    }
    return arb_error_set(err, ARB_E_INVALID, "unknown option");
}

int arb_debug_opts_check(const struct arb_debug_opts *opts, struct arb_error *err)
{
    if (opts->desk_url != NULL && opts->dry_run)
        return arb_error_set(err, ARB_E_INVALID, "--desk-url and --dry-run exclude each other");
    return arb_selection_check(&opts->selection, err);
}

bool arb_debug_opts_active(const struct arb_debug_opts *opts)
{
    return opts->active;
}

/* ---- the plan ---- */

struct debug {
    const struct arb_replay_conf *conf; /* with desk.url replaced by --desk-url */
    const struct arb_debug_opts *opts;
    rd_kafka_t *rk;
    struct arb_plan plan;
    struct arb_pipeline *pipeline;
    struct arb_delivery_log *delivery_log;
    struct arb_debug_report *report; /* the outcomes, for arb_debug_resend; or NULL */
    uint64_t scanned, matched;
    bool progress;
    int64_t progress_ns;
};

/* What the selection reads of replay.topics. */
static void request_of(const struct debug *dbg, struct arb_plan_request *req)
{
    const struct arb_selection *sel = &dbg->opts->selection;
    *req = (struct arb_plan_request){
        .topics = (const char *const *)dbg->conf->replay.topics,
        .ntopics = dbg->conf->replay.ntopics,
        .start = sel->start,
        .from_ms = sel->from_ms,
        .offsets = sel->offsets,
        .noffsets = sel->noffsets,
        .has_until = sel->has_until,
        .until_ms = sel->until_ms,
        .follow = dbg->opts->follow,
        .require_some = true,
    };
}

static int make_plan(struct debug *dbg, struct arb_error *err)
{
    struct arb_plan_request req;
    request_of(dbg, &req);
    if (arb_reader_plan(dbg->rk, &req, &dbg->plan, err) != 0)
        return -1;
    return arb_reader_assign(dbg->rk, &dbg->plan, err);
}

/* ---- reading ---- */

static bool limit_reached(const struct debug *dbg)
{
    return dbg->opts->selection.limit >= 0 &&
           dbg->matched >= (uint64_t)dbg->opts->selection.limit;
}

/* A header's value as a new string, or NULL. */
static char *header_string(const rd_kafka_message_t *msg, const char *name)
{
    rd_kafka_headers_t *headers = NULL;
    const void *value = NULL;
    size_t size = 0;
    if (rd_kafka_message_headers(msg, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_header_get_last(headers, name, &value, &size) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        value == NULL)
        return NULL;
    return arb_xstrndup(value, size);
}

/* What the filters look at: the bridge's headers, else the value's fields. */
static bool selected(const struct debug *dbg, const rd_kafka_message_t *msg, json_t *value)
{
    char *call_id = header_string(msg, "airudder-call-id");
    char *event = header_string(msg, "airudder-event");
    char *sender_type = header_string(msg, "airudder-sender-type");
    rd_kafka_timestamp_type_t type;
    struct arb_record_view view = {
        .call_id = call_id ? call_id : json_string_value(json_object_get(value, "call_id")),
        .event = event ? event : json_string_value(json_object_get(value, "event")),
        .sender_type = sender_type ? sender_type
                                   : json_string_value(json_object_get(
                                         json_object_get(value, "message"), "sender_type")),
        .timestamp_ms = rd_kafka_message_timestamp(msg, &type),
    };
    bool match = arb_selection_match(&dbg->opts->selection, &view);
    free(call_id);
    free(event);
    free(sender_type);
    return match;
}

static json_t *headers_object(const rd_kafka_message_t *msg)
{
    rd_kafka_headers_t *headers = NULL;
    const char *name;
    const void *value;
    size_t size;
    json_t *object = json_object();
    if (rd_kafka_message_headers(msg, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return object;
    for (size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == 0; i++)
        json_object_set_new(object, name,
                            value ? json_stringn(value, size) : json_null());
    return object;
}

/* One JSON line: topic, partition, offset, timestamp, key, headers, value (parsed when it is
 * JSON, else the raw text). */
static void print_record(const struct debug *dbg, const rd_kafka_message_t *msg, json_t *value)
{
    rd_kafka_timestamp_type_t type;
    json_t *shown = value ? json_incref(value)
                          : (msg->payload ? json_stringn(msg->payload, msg->len) : json_null());
    json_t *line = json_pack(
        "{s:s, s:i, s:I, s:I, s:o, s:o, s:o}", "topic", rd_kafka_topic_name(msg->rkt),
        "partition", (int)msg->partition, "offset", (json_int_t)msg->offset, "timestamp",
        (json_int_t)rd_kafka_message_timestamp(msg, &type), "key",
        msg->key ? json_stringn(msg->key, msg->key_len) : json_null(), "headers",
        headers_object(msg), "value", shown);
    char *text = json_dumps(line, JSON_COMPACT);
    if (text != NULL)
        printf("%s\n", text);
    if (dbg->opts->follow)
        fflush(stdout);
    free(text);
    json_decref(line);
}

static void show_progress(struct debug *dbg, const rd_kafka_message_t *msg, bool last)
{
    if (!dbg->progress || (!last && arb_now_ns() - dbg->progress_ns < PROGRESS_INTERVAL_NS))
        return;
    dbg->progress_ns = arb_now_ns();
    fprintf(stderr, "\rscanned %llu, matched %llu", (unsigned long long)dbg->scanned,
            (unsigned long long)dbg->matched);
    if (msg != NULL)
        fprintf(stderr, ", at %s/%d:%lld", rd_kafka_topic_name(msg->rkt), (int)msg->partition,
                (long long)msg->offset);
    fprintf(stderr, last ? "\n" : "   ");
}

static void take(struct debug *dbg, int i, const rd_kafka_message_t *msg)
{
    json_t *value = msg->payload ? json_loadb(msg->payload, msg->len, 0, NULL) : NULL;
    struct arb_header headers[ARB_JOB_HEADERS_MAX];
    struct arb_job_record record;

    dbg->scanned++;
    if (selected(dbg, msg, value) && !limit_reached(dbg)) {
        dbg->matched++;
        if (dbg->opts->dry_run) {
            print_record(dbg, msg, value);
        } else {
            arb_consumed_job_record(msg, headers, &record);
            arb_pipeline_add(dbg->pipeline, i, &record);
        }
    }
    json_decref(value);
    show_progress(dbg, msg, false);
}

static void on_message(struct debug *dbg, const rd_kafka_message_t *msg)
{
    int i = msg->rkt != NULL
                ? arb_plan_find(&dbg->plan, rd_kafka_topic_name(msg->rkt), msg->partition)
                : -1;
    if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (arb_plan_eof(&dbg->plan, i, msg->offset))
            arb_reader_pause(dbg->rk, &dbg->plan.ranges[i]);
        return;
    }
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (i >= 0 && !dbg->plan.ranges[i].done)
            arb_log_kv(ARB_LOG_WARN, "consumer error", "error", rd_kafka_message_errstr(msg),
                       NULL);
        return;
    }
    struct arb_plan_step step = arb_plan_record(&dbg->plan, i, msg->offset);
    if (step.take)
        take(dbg, i, msg);
    if (step.finished)
        arb_reader_pause(dbg->rk, &dbg->plan.ranges[i]);
}

/* Delivering: hold at most replay.max_buffered records (the rest waits in Kafka). */
static bool buffer_full(const struct debug *dbg)
{
    return dbg->pipeline != NULL &&
           arb_pipeline_total(dbg->pipeline) >= (size_t)dbg->conf->replay.max_buffered;
}

/* Asked to stop: by a signal (the command line's run, on this thread), or by the viewer's
 * flag (a re-send, on a thread of the viewer's server). */
struct stop {
    volatile sig_atomic_t *signal;
    const atomic_bool *flag;
};

static bool stopping(const struct stop *stop)
{
    return (stop->signal != NULL && *stop->signal) ||
           (stop->flag != NULL && atomic_load(stop->flag));
}

static int read_all(struct debug *dbg, const struct stop *stop)
{
    struct arb_error err;
    while (!stopping(stop)) {
        bool reading = !arb_plan_done(&dbg->plan) && !limit_reached(dbg);
        bool delivering = dbg->pipeline != NULL && arb_pipeline_total(dbg->pipeline) > 0;
        if (!reading && !delivering)
            break;
        rd_kafka_message_t *msg =
            reading && !buffer_full(dbg) ? rd_kafka_consumer_poll(dbg->rk, delivering ? 0 : 100)
                                         : NULL;
        if (msg != NULL) {
            on_message(dbg, msg);
            rd_kafka_message_destroy(msg);
        }
        if (dbg->pipeline == NULL)
            continue;
        if (arb_pipeline_run(dbg->pipeline, NULL, 0, msg != NULL ? 0 : 10, &err) != 0) {
            arb_log_kv(ARB_LOG_ERROR, "delivery loop failed", "error", err.message, NULL);
            return -1;
        }
    }
    return 0;
}

/* ---- set-up ---- */

static void summary(const struct debug *dbg)
{
    show_progress((struct debug *)dbg, NULL, true);
    if (dbg->progress)
        return;
    fprintf(stderr, "airudder-replay: scanned %llu records, matched %llu%s\n",
            (unsigned long long)dbg->scanned, (unsigned long long)dbg->matched,
            dbg->opts->dry_run ? "" : " (delivered or dead-lettered)");
}

/* The pipeline finished a record: to the delivery log, and to the report when asked. */
static void on_outcome(void *opaque, const struct arb_outcome *outcome)
{
    struct debug *dbg = opaque;
    arb_delivery_log_write(dbg->delivery_log, outcome);
    if (dbg->report == NULL)
        return;
    struct arb_debug_report *report = dbg->report;
    report->outcomes =
        arb_xrealloc(report->outcomes, (report->noutcomes + 1) * sizeof(*report->outcomes));
    struct arb_outcome *copy = &report->outcomes[report->noutcomes++];
    *copy = *outcome;
    copy->mode = "resend";
    copy->call_id = outcome->call_id ? arb_xstrndup(outcome->call_id, outcome->call_id_len) : NULL;
    copy->topic = outcome->topic ? arb_xstrdup(outcome->topic) : NULL;
    copy->msg_id = outcome->msg_id ? arb_xstrdup(outcome->msg_id) : NULL;
    copy->idempotency_key = outcome->idempotency_key ? arb_xstrdup(outcome->idempotency_key) : NULL;
    copy->desk_error = outcome->desk_error ? arb_xstrdup(outcome->desk_error) : NULL;
    copy->reason = outcome->reason ? arb_xstrdup(outcome->reason) : NULL;
}

/* Read, and print or deliver; 0, 1 (a bad request: err), or 2 (a runtime failure). */
static int run(const struct arb_replay_conf *conf, const struct arb_debug_opts *opts,
               const struct stop *stop, bool quiet, struct arb_debug_report *report,
               struct arb_error *err)
{
    struct arb_replay_conf local = *conf;
    struct arb_conf_errors errors = {0};
    struct debug dbg = {.conf = &local, .opts = opts, .report = report,
                        .progress = !quiet && isatty(STDERR_FILENO)};
    arb_plan_init(&dbg.plan);
    int status = 1;

    if (opts->desk_url != NULL)
        local.desk.url = opts->desk_url;
    dbg.rk = arb_reader_new(&local, "airudder-replay-debug", err);
    if (dbg.rk == NULL || make_plan(&dbg, err) != 0)
        goto out;
    if (!opts->dry_run) {
        if ((dbg.pipeline = arb_pipeline_new(&local, NULL, NULL, &errors)) == NULL ||
            arb_delivery_log_new(&local, "resend", &dbg.delivery_log, &errors) != 0) {
            arb_error_set(err, ARB_E_INVALID, "%s", errors.count ? errors.messages[0] : "pipeline");
            goto out;
        }
        arb_pipeline_on_outcome(dbg.pipeline, on_outcome, &dbg);
    }
    status = read_all(&dbg, stop) == 0 ? 0 : 2;
    if (status != 0)
        arb_error_set(err, ARB_E_KAFKA, "the delivery loop failed");
    fflush(stdout);
    if (!quiet)
        summary(&dbg);
out:
    if (report != NULL) {
        report->scanned = dbg.scanned;
        report->matched = dbg.matched;
    }
    if (dbg.rk != NULL) {
        rd_kafka_consumer_close(dbg.rk);
        rd_kafka_destroy(dbg.rk);
    }
    arb_pipeline_destroy(dbg.pipeline, 1000);
    arb_delivery_log_destroy(dbg.delivery_log, 2000); /* the viewer shows them next */
    arb_plan_clear(&dbg.plan);
    arb_conf_errors_clear(&errors);
    return status;
}

int arb_debug_run(const struct arb_replay_conf *conf, const struct arb_debug_opts *opts,
                  volatile sig_atomic_t *stop)
{
    struct arb_error err;
    const struct stop signalled = {stop, NULL};
    int status = run(conf, opts, &signalled, false, NULL, &err);
    if (status == 1)
        fprintf(stderr, "airudder-replay: %s\n", err.message);
    return status;
}

int arb_debug_resend(const struct arb_replay_conf *conf, const struct arb_resend *resend,
                     const atomic_bool *stop, struct arb_debug_report *report,
                     struct arb_error *err)
{
    const struct stop flagged = {NULL, stop};
    struct arb_debug_opts *opts = arb_debug_opts_new();
    struct arb_selection *sel = &opts->selection;

    memset(report, 0, sizeof(*report));
    opts->active = true;
    sel->start = ARB_START_OFFSETS;
    sel->offsets = arb_xcalloc(resend->nstarts + 1, sizeof(*sel->offsets));
    for (size_t i = 0; i < resend->nstarts; i++) {
        sel->offsets[i] = resend->starts[i];
        sel->offsets[i].topic = arb_xstrdup(resend->starts[i].topic);
    }
    sel->noffsets = resend->nstarts;
    sel->call_ids = arb_xcalloc(1, sizeof(*sel->call_ids)); /* as is: no splitting at ',' */
    sel->call_ids[0] = arb_xstrdup(resend->call_id);
    sel->ncall_ids = 1;
    if (resend->has_until) {
        sel->has_until = true;
        sel->until_ms = resend->until_ms;
    }
    int status = run(conf, opts, &flagged, true, report, err);
    arb_debug_opts_destroy(opts);
    return status == 0 ? 0 : -1;
}

void arb_debug_report_clear(struct arb_debug_report *report)
{
    if (report == NULL)
        return;
    for (size_t i = 0; i < report->noutcomes; i++) {
        struct arb_outcome *o = &report->outcomes[i];
        free((char *)o->call_id);
        free((char *)o->topic);
        free((char *)o->msg_id);
        free((char *)o->idempotency_key);
        free((char *)o->desk_error);
        free((char *)o->reason);
    }
    free(report->outcomes);
    memset(report, 0, sizeof(*report));
}
