/* debug.c - debug mode (see debug.h).
 *
 * First a plan: for every partition to read, a start offset (low watermark, the offset of
 * the --from time, or the given --offsets) and an end (the high watermark taken now, or the
 * offset of the --until time, or none with --follow). Unknown topics, offsets outside the
 * partition and empty plans are reported before anything is read. Then a consumer with
 * manually assigned partitions (no subscription, no group membership, auto-commit off: the
 * service group never sees it) reads each partition from its start to its end; selected
 * records are printed or handed to the same pipeline service mode uses, and what becomes of
 * each goes to the delivery log (mode "resend") as in service mode.
 *
 * The viewer's "re-send from here" is a debug run too (arb_debug_resend): --offsets at the
 * chosen records, --call-id of the conversation, --until its last record, quiet, and the
 * outcomes handed back to show. */
#include "debug.h"
#include "consumed.h"
#include "delivery_log.h"
#include "kafka.h"
#include "pipeline.h"

#include "arb/log.h"
#include "arb/mem.h"
#include "arb/clock.h"
#include "arb/metrics.h"
#include "arb/selection.h"

#include <fcntl.h>
#include <jansson.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define QUERY_TIMEOUT_MS 10000
#define PROGRESS_INTERVAL_NS 250000000
#define NO_END INT64_MAX

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

struct range {
    char *topic;
    int32_t partition;
    int64_t start, end; /* end exclusive; NO_END with --follow */
    int64_t next;       /* the next offset expected */
    bool done, paused;
};

struct debug {
    const struct arb_replay_conf *conf; /* with desk.url replaced by --desk-url */
    const struct arb_debug_opts *opts;
    rd_kafka_t *rk;
    struct range *ranges;
    int nranges;
    struct arb_pipeline *pipeline;
    struct arb_delivery_log *delivery_log;
    struct arb_debug_report *report; /* the outcomes, for arb_debug_resend; or NULL */
    uint64_t scanned, matched;
    bool progress;
    int64_t progress_ns;
};

static struct range *range_add(struct debug *dbg, const char *topic, int32_t partition)
{
    dbg->ranges = arb_xrealloc(dbg->ranges, (size_t)(dbg->nranges + 1) * sizeof(*dbg->ranges));
    struct range *range = &dbg->ranges[dbg->nranges++];
    *range = (struct range){.topic = arb_xstrdup(topic), .partition = partition};
    return range;
}

static const rd_kafka_metadata_topic_t *find_topic(const struct rd_kafka_metadata *md,
                                                   const char *name)
{
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, name) == 0 && md->topics[i].err == 0)
            return &md->topics[i];
    return NULL;
}

static bool has_partition(const rd_kafka_metadata_topic_t *topic, int32_t partition)
{
    for (int i = 0; i < topic->partition_cnt; i++)
        if (topic->partitions[i].id == partition)
            return true;
    return false;
}

static void add_all_partitions(struct debug *dbg, const rd_kafka_metadata_topic_t *topic)
{
    for (int i = 0; i < topic->partition_cnt; i++)
        range_add(dbg, topic->topic, topic->partitions[i].id);
}

/* replay.topics: names must exist; a "^regex" picks every matching topic. */
static int plan_configured_topics(struct debug *dbg, const struct rd_kafka_metadata *md,
                                  struct arb_error *err)
{
    const struct arb_replay_section *replay = &dbg->conf->replay;
    for (size_t i = 0; i < replay->ntopics; i++) {
        const char *name = replay->topics[i];
        if (name[0] != '^') {
            const rd_kafka_metadata_topic_t *topic = find_topic(md, name);
            if (topic == NULL)
                return arb_error_set(err, ARB_E_INVALID, "unknown topic \"%s\"", name);
            add_all_partitions(dbg, topic);
            continue;
        }
        regex_t re;
        if (regcomp(&re, name, REG_EXTENDED | REG_NOSUB) != 0)
            return arb_error_set(err, ARB_E_INVALID, "replay.topics: bad regex \"%s\"", name);
        for (int t = 0; t < md->topic_cnt; t++)
            if (md->topics[t].err == 0 && regexec(&re, md->topics[t].topic, 0, NULL, 0) == 0)
                add_all_partitions(dbg, &md->topics[t]);
        regfree(&re);
    }
    return 0;
}

/* --offsets: each T:P must exist. */
static int plan_offsets(struct debug *dbg, const struct rd_kafka_metadata *md,
                        struct arb_error *err)
{
    const struct arb_selection *sel = &dbg->opts->selection;
    for (size_t i = 0; i < sel->noffsets; i++) {
        const struct arb_offset_spec *spec = &sel->offsets[i];
        const rd_kafka_metadata_topic_t *topic = find_topic(md, spec->topic);
        if (topic == NULL)
            return arb_error_set(err, ARB_E_INVALID, "unknown topic \"%s\"", spec->topic);
        if (!has_partition(topic, spec->partition))
            return arb_error_set(err, ARB_E_INVALID, "topic \"%s\" has no partition %d",
                                 spec->topic, (int)spec->partition);
        range_add(dbg, spec->topic, spec->partition)->start = spec->offset;
    }
    return 0;
}

/* Offsets of the first records at or after time_ms, per range (-1 when there is none). */
static int offsets_for_time(struct debug *dbg, int64_t time_ms, int64_t *out,
                            struct arb_error *err)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(dbg->nranges);
    for (int i = 0; i < dbg->nranges; i++)
        rd_kafka_topic_partition_list_add(list, dbg->ranges[i].topic, dbg->ranges[i].partition)
            ->offset = time_ms;
    rd_kafka_resp_err_t kerr = rd_kafka_offsets_for_times(dbg->rk, list, QUERY_TIMEOUT_MS);
    for (int i = 0; kerr == RD_KAFKA_RESP_ERR_NO_ERROR && i < dbg->nranges; i++) {
        kerr = list->elems[i].err;
        out[i] = list->elems[i].offset;
    }
    rd_kafka_topic_partition_list_destroy(list);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
        return arb_error_set(err, ARB_E_KAFKA, "cannot look up offsets by time: %s",
                             rd_kafka_err2str(kerr));
    return 0;
}

static int64_t or_end(int64_t offset, int64_t high)
{
    return offset < 0 ? high : offset;
}

/* Start and end of every range, from the watermarks and the selection. */
static int plan_offsets_of_ranges(struct debug *dbg, struct arb_error *err)
{
    const struct arb_selection *sel = &dbg->opts->selection;
    int64_t *from = arb_xcalloc((size_t)dbg->nranges + 1, sizeof(*from));
    int64_t *until = arb_xcalloc((size_t)dbg->nranges + 1, sizeof(*until));
    int rc = -1;

    if ((sel->start == ARB_START_TIME && offsets_for_time(dbg, sel->from_ms, from, err) != 0) ||
        (sel->has_until && offsets_for_time(dbg, sel->until_ms + 1, until, err) != 0))
        goto out;
    for (int i = 0; i < dbg->nranges; i++) {
        struct range *range = &dbg->ranges[i];
        int64_t low = 0, high = 0;
        rd_kafka_resp_err_t kerr = rd_kafka_query_watermark_offsets(
            dbg->rk, range->topic, range->partition, &low, &high, QUERY_TIMEOUT_MS);
        if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
            arb_error_set(err, ARB_E_KAFKA, "%s/%d: cannot read the offsets: %s", range->topic,
                          (int)range->partition, rd_kafka_err2str(kerr));
            goto out;
        }
        if (sel->start == ARB_START_OFFSETS && (range->start < low || range->start > high)) {
            arb_error_set(err, ARB_E_INVALID, "offset %lld is out of range for %s/%d (%lld..%lld)",
                          (long long)range->start, range->topic, (int)range->partition,
                          (long long)low, (long long)high);
            goto out;
        }
        if (sel->start == ARB_START_TIME)
            range->start = or_end(from[i], high);
        else if (sel->start != ARB_START_OFFSETS)
            range->start = low;
        range->end = dbg->opts->follow ? NO_END : high;
        if (sel->has_until && until[i] >= 0 && until[i] < range->end)
            range->end = until[i];
        range->next = range->start;
        range->done = range->start >= range->end;
    }
    rc = 0;
out:
    free(from);
    free(until);
    return rc;
}

static int make_plan(struct debug *dbg, struct arb_error *err)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t kerr = rd_kafka_metadata(dbg->rk, 1, NULL, &md, QUERY_TIMEOUT_MS);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
        return arb_error_set(err, ARB_E_KAFKA, "cannot read the cluster's metadata: %s",
                             rd_kafka_err2str(kerr));
    int rc = dbg->opts->selection.start == ARB_START_OFFSETS ? plan_offsets(dbg, md, err)
                                                               : plan_configured_topics(dbg, md, err);
    rd_kafka_metadata_destroy(md);
    if (rc != 0)
        return -1;
    if (dbg->nranges == 0)
        return arb_error_set(err, ARB_E_INVALID, "no topic of replay.topics exists");
    return plan_offsets_of_ranges(dbg, err);
}

static int assign(struct debug *dbg, struct arb_error *err)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(dbg->nranges);
    for (int i = 0; i < dbg->nranges; i++)
        if (!dbg->ranges[i].done)
            rd_kafka_topic_partition_list_add(list, dbg->ranges[i].topic,
                                              dbg->ranges[i].partition)
                ->offset = dbg->ranges[i].start;
    rd_kafka_resp_err_t kerr = rd_kafka_assign(dbg->rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
        return arb_error_set(err, ARB_E_KAFKA, "cannot assign partitions: %s",
                             rd_kafka_err2str(kerr));
    return 0;
}

/* ---- reading ---- */

static int range_of(const struct debug *dbg, const rd_kafka_message_t *msg)
{
    const char *topic = rd_kafka_topic_name(msg->rkt);
    for (int i = 0; i < dbg->nranges; i++)
        if (dbg->ranges[i].partition == msg->partition && strcmp(dbg->ranges[i].topic, topic) == 0)
            return i;
    return -1;
}

static void set_paused(struct debug *dbg, struct range *range, bool paused)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, range->topic, range->partition);
    if (paused)
        rd_kafka_pause_partitions(dbg->rk, list);
    else
        rd_kafka_resume_partitions(dbg->rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    range->paused = paused;
}

static void finish_range(struct debug *dbg, struct range *range)
{
    range->done = true;
    if (!range->paused)
        set_paused(dbg, range, true);
}

static bool all_done(const struct debug *dbg)
{
    for (int i = 0; i < dbg->nranges; i++)
        if (!dbg->ranges[i].done)
            return false;
    return true;
}

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
    struct range *range = &dbg->ranges[i];
    json_t *value = msg->payload ? json_loadb(msg->payload, msg->len, 0, NULL) : NULL;
    struct arb_header headers[ARB_JOB_HEADERS_MAX];
    struct arb_job_record record;

    dbg->scanned++;
    range->next = msg->offset + 1;
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
    if (range->next >= range->end)
        finish_range(dbg, range);
    show_progress(dbg, msg, false);
}

static void on_message(struct debug *dbg, const rd_kafka_message_t *msg)
{
    int i = range_of(dbg, msg);
    if (i < 0 || dbg->ranges[i].done)
        return;
    if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (msg->offset >= dbg->ranges[i].end)
            finish_range(dbg, &dbg->ranges[i]);
        return;
    }
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        arb_log_kv(ARB_LOG_WARN, "consumer error", "error", rd_kafka_message_errstr(msg), NULL);
        return;
    }
    if (msg->offset >= dbg->ranges[i].end) {
        finish_range(dbg, &dbg->ranges[i]);
        return;
    }
    take(dbg, i, msg);
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
        bool reading = !all_done(dbg) && !limit_reached(dbg);
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

static rd_kafka_t *new_consumer(const struct arb_replay_conf *conf, struct arb_error *err)
{
    char group[96], errstr[512];
    struct arb_conf_errors errors = {0};
    /* A group id of its own that it never joins (no subscribe) or commits to. */
    snprintf(group, sizeof(group), "airudder-replay-debug-%ld-%lld", (long)getpid(),
             (long long)arb_wall_ms());
    const char *const defaults[] = {
        "client.id", "airudder-replay-debug",
        "group.id", group,
        "enable.auto.commit", "false",
        "enable.auto.offset.store", "false",
        "enable.partition.eof", "true",
        "log.connection.close", "false",
        NULL,
    };
    rd_kafka_conf_t *kconf = arb_kafka_conf_build(&conf->kafka, conf->file, defaults, NULL, &errors);
    rd_kafka_t *rk = NULL;
    if (kconf == NULL) {
        arb_error_set(err, ARB_E_INVALID, "%s", errors.count ? errors.messages[0] : "kafka");
    } else if ((rk = rd_kafka_new(RD_KAFKA_CONSUMER, kconf, errstr, sizeof(errstr))) == NULL) {
        rd_kafka_conf_destroy(kconf);
        arb_error_set(err, ARB_E_KAFKA, "%s", errstr);
    } else {
        rd_kafka_poll_set_consumer(rk);
    }
    arb_conf_errors_clear(&errors);
    return rk;
}

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
    int status = 1;

    if (opts->desk_url != NULL)
        local.desk.url = opts->desk_url;
    dbg.rk = new_consumer(&local, err);
    if (dbg.rk == NULL || make_plan(&dbg, err) != 0 || assign(&dbg, err) != 0)
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
    for (int i = 0; i < dbg.nranges; i++)
        free(dbg.ranges[i].topic);
    free(dbg.ranges);
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
