/* history.c - reading a time window of Kafka for the viewer (see history.h).
 *
 * A read plans first: the partitions of the topics (metadata), the offset of the first
 * record at or after from (offsets_for_times), the end: the high watermark now, or the first
 * offset after until. Then it assigns the partitions that have something to read at their
 * start offsets and polls until each has reached its end (partition EOF tells about the
 * ones whose last records were not consumable, e.g. transaction markers). */
#include "history.h"
#include "kafka.h"

#include "arb/clock.h"
#include "arb/log.h"
#include "arb/mem.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define QUERY_TIMEOUT_MS 10000
#define POLL_MS 100

struct span {
    char *topic;
    int32_t partition;
    int64_t start, end; /* end exclusive */
    bool done;
};

struct arb_history {
    rd_kafka_t *rk;
    struct span *spans;
    int nspans;
};

struct arb_history *arb_history_new(const struct arb_replay_conf *conf, struct arb_error *err)
{
    char group[96], errstr[512];
    struct arb_conf_errors errors = {0};
    snprintf(group, sizeof(group), "airudder-replay-viewer-%ld-%lld", (long)getpid(),
             (long long)arb_now_ns());
    const char *const defaults[] = {
        "client.id", "airudder-replay-viewer",
        "group.id", group, /* never joined (no subscribe), never committed to */
        "enable.auto.commit", "false",
        "enable.auto.offset.store", "false",
        "enable.partition.eof", "true",
        "log.connection.close", "false",
        NULL,
    };
    rd_kafka_conf_t *kconf = arb_kafka_conf_build(&conf->kafka, conf->file, defaults, NULL, &errors);
    struct arb_history *history = NULL;
    rd_kafka_t *rk = NULL;
    if (kconf == NULL) {
        arb_error_set(err, ARB_E_INVALID, "%s", errors.count ? errors.messages[0] : "kafka");
    } else if ((rk = rd_kafka_new(RD_KAFKA_CONSUMER, kconf, errstr, sizeof(errstr))) == NULL) {
        rd_kafka_conf_destroy(kconf);
        arb_error_set(err, ARB_E_KAFKA, "%s", errstr);
    } else {
        rd_kafka_poll_set_consumer(rk);
        history = arb_xcalloc(1, sizeof(*history));
        history->rk = rk;
    }
    arb_conf_errors_clear(&errors);
    return history;
}

static void forget_spans(struct arb_history *history)
{
    for (int i = 0; i < history->nspans; i++)
        free(history->spans[i].topic);
    free(history->spans);
    history->spans = NULL;
    history->nspans = 0;
}

void arb_history_destroy(struct arb_history *history)
{
    if (history == NULL)
        return;
    rd_kafka_consumer_close(history->rk);
    rd_kafka_destroy(history->rk);
    forget_spans(history);
    free(history);
}

/* ---- the plan ---- */

static void add_topic(struct arb_history *history, const rd_kafka_metadata_topic_t *topic)
{
    for (int p = 0; p < topic->partition_cnt; p++) {
        history->spans = arb_xrealloc(history->spans,
                                      (size_t)(history->nspans + 1) * sizeof(*history->spans));
        history->spans[history->nspans++] =
            (struct span){.topic = arb_xstrdup(topic->topic), .partition = topic->partitions[p].id};
    }
}

static int plan_topics(struct arb_history *history, const struct arb_history_query *query,
                       const struct rd_kafka_metadata *md, struct arb_error *err)
{
    for (size_t i = 0; i < query->ntopics; i++) {
        const char *name = query->topics[i];
        if (name[0] == '^') {
            regex_t re;
            if (regcomp(&re, name, REG_EXTENDED | REG_NOSUB) != 0)
                return arb_error_set(err, ARB_E_INVALID, "bad topic regex \"%s\"", name);
            for (int t = 0; t < md->topic_cnt; t++)
                if (md->topics[t].err == 0 && regexec(&re, md->topics[t].topic, 0, NULL, 0) == 0)
                    add_topic(history, &md->topics[t]);
            regfree(&re);
            continue;
        }
        int t = 0;
        while (t < md->topic_cnt && (strcmp(md->topics[t].topic, name) != 0 || md->topics[t].err != 0))
            t++;
        if (t == md->topic_cnt)
            return arb_error_set(err, ARB_E_INVALID, "unknown topic \"%s\"", name);
        add_topic(history, &md->topics[t]);
    }
    return 0;
}

/* The offsets of the first records at or after time_ms, per span (-1: none). */
static int offsets_for_time(struct arb_history *history, int64_t time_ms, int64_t *out,
                            struct arb_error *err)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(history->nspans);
    for (int i = 0; i < history->nspans; i++)
        rd_kafka_topic_partition_list_add(list, history->spans[i].topic, history->spans[i].partition)
            ->offset = time_ms;
    rd_kafka_resp_err_t kerr = rd_kafka_offsets_for_times(history->rk, list, QUERY_TIMEOUT_MS);
    for (int i = 0; kerr == RD_KAFKA_RESP_ERR_NO_ERROR && i < history->nspans; i++) {
        kerr = list->elems[i].err;
        out[i] = list->elems[i].offset;
    }
    rd_kafka_topic_partition_list_destroy(list);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
        return arb_error_set(err, ARB_E_KAFKA, "cannot look up offsets by time: %s",
                             rd_kafka_err2str(kerr));
    return 0;
}

static int plan_offsets(struct arb_history *history, const struct arb_history_query *query,
                        struct arb_error *err)
{
    int64_t *from = arb_xcalloc((size_t)history->nspans + 1, sizeof(*from));
    int64_t *until = arb_xcalloc((size_t)history->nspans + 1, sizeof(*until));
    int rc = -1;
    if ((query->has_from && offsets_for_time(history, query->from_ms, from, err) != 0) ||
        (query->has_until && offsets_for_time(history, query->until_ms + 1, until, err) != 0))
        goto out;
    for (int i = 0; i < history->nspans; i++) {
        struct span *span = &history->spans[i];
        int64_t low = 0, high = 0;
        rd_kafka_resp_err_t kerr = rd_kafka_query_watermark_offsets(
            history->rk, span->topic, span->partition, &low, &high, QUERY_TIMEOUT_MS);
        if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
            arb_error_set(err, ARB_E_KAFKA, "%s/%d: cannot read the offsets: %s", span->topic,
                          (int)span->partition, rd_kafka_err2str(kerr));
            goto out;
        }
        span->start = query->has_from ? (from[i] >= 0 ? from[i] : high) : low;
        span->end = high;
        if (query->has_until && until[i] >= 0 && until[i] < span->end)
            span->end = until[i];
        span->done = span->start >= span->end;
    }
    rc = 0;
out:
    free(from);
    free(until);
    return rc;
}

static int assign(struct arb_history *history, struct arb_error *err)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(history->nspans);
    for (int i = 0; i < history->nspans; i++)
        if (!history->spans[i].done)
            rd_kafka_topic_partition_list_add(list, history->spans[i].topic,
                                              history->spans[i].partition)
                ->offset = history->spans[i].start;
    rd_kafka_resp_err_t kerr = rd_kafka_assign(history->rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
        return arb_error_set(err, ARB_E_KAFKA, "cannot assign partitions: %s",
                             rd_kafka_err2str(kerr));
    return 0;
}

/* ---- reading ---- */

static struct span *span_of(struct arb_history *history, const rd_kafka_message_t *msg)
{
    const char *topic = rd_kafka_topic_name(msg->rkt);
    for (int i = 0; i < history->nspans; i++)
        if (history->spans[i].partition == msg->partition &&
            strcmp(history->spans[i].topic, topic) == 0)
            return &history->spans[i];
    return NULL;
}

static bool all_done(const struct arb_history *history)
{
    for (int i = 0; i < history->nspans; i++)
        if (!history->spans[i].done)
            return false;
    return true;
}

int arb_history_read(struct arb_history *history, const struct arb_history_query *query,
                     arb_history_fn *fn, void *opaque, struct arb_history_stats *stats,
                     struct arb_error *err)
{
    const struct rd_kafka_metadata *md = NULL;
    int rc = -1;

    memset(stats, 0, sizeof(*stats));
    forget_spans(history);
    rd_kafka_resp_err_t kerr = rd_kafka_metadata(history->rk, 1, NULL, &md, QUERY_TIMEOUT_MS);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
        return arb_error_set(err, ARB_E_KAFKA, "cannot read the cluster's metadata: %s",
                             rd_kafka_err2str(kerr));
    rc = plan_topics(history, query, md, err);
    rd_kafka_metadata_destroy(md);
    if (rc != 0 || plan_offsets(history, query, err) != 0 || assign(history, err) != 0)
        return -1;

    while (!all_done(history) && !stats->stopped) {
        if (query->deadline_ns > 0 && arb_now_ns() > query->deadline_ns) {
            stats->timed_out = true;
            break;
        }
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(history->rk, POLL_MS);
        if (msg == NULL)
            continue;
        struct span *span = span_of(history, msg);
        if (span == NULL || span->done) {
            /* a straggler of an earlier read's assignment */
        } else if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (msg->offset >= span->end)
                span->done = true;
        } else if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            arb_log_kv(ARB_LOG_WARN, "viewer: consumer error", "error",
                       rd_kafka_message_errstr(msg), NULL);
        } else if (msg->offset >= span->end) {
            span->done = true;
        } else {
            stats->read++;
            if (!fn(opaque, msg))
                stats->stopped = true;
            if (msg->offset + 1 >= span->end)
                span->done = true;
        }
        rd_kafka_message_destroy(msg);
    }
    rd_kafka_assign(history->rk, NULL);
    return 0;
}
