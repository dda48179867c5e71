/* history.c - reading a time window of Kafka for the viewer (see history.h).
 *
 * A read plans first (core/plan.c, asked of Kafka by reader.c): the partitions of the
 * topics, the offset of the first record at or after from, the end: the high watermark now,
 * or the first offset after until. Then it assigns the partitions that have something to
 * read at their start offsets and polls until each has reached its end (partition EOF
 * tells about the ones whose last records were not consumable, e.g. transaction markers). */
#include "history.h"
#include "reader.h"

#include "arb/clock.h"
#include "arb/log.h"
#include "arb/mem.h"
#include "arb/plan.h"

#include <stdlib.h>
#include <string.h>

#define POLL_MS 100

struct arb_history {
    rd_kafka_t *rk;
    struct arb_plan plan;
};

struct arb_history *arb_history_new(const struct arb_replay_conf *conf, struct arb_error *err)
{
    rd_kafka_t *rk = arb_reader_new(conf, "airudder-replay-viewer", err);
    if (rk == NULL)
        return NULL;
    struct arb_history *history = arb_xcalloc(1, sizeof(*history));
    history->rk = rk;
    arb_plan_init(&history->plan);
    return history;
}

void arb_history_destroy(struct arb_history *history)
{
    if (history == NULL)
        return;
    rd_kafka_consumer_close(history->rk);
    rd_kafka_destroy(history->rk);
    arb_plan_clear(&history->plan);
    free(history);
}

static int plan(struct arb_history *history, const struct arb_history_query *query,
                struct arb_error *err)
{
    const struct arb_plan_request req = {
        .topics = query->topics,
        .ntopics = query->ntopics,
        .start = query->has_from ? ARB_START_TIME : ARB_START_BEGINNING,
        .from_ms = query->from_ms,
        .has_until = query->has_until,
        .until_ms = query->until_ms,
    };
    if (arb_reader_plan(history->rk, &req, &history->plan, err) != 0)
        return -1;
    return arb_reader_assign(history->rk, &history->plan, err);
}

/* One polled message: handed on when the plan takes it. */
static void on_message(struct arb_history *history, const rd_kafka_message_t *msg,
                       arb_history_fn *fn, void *opaque, struct arb_history_stats *stats)
{
    struct arb_plan *p = &history->plan;
    int i = msg->rkt != NULL ? arb_plan_find(p, rd_kafka_topic_name(msg->rkt), msg->partition)
                             : -1;
    if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        arb_plan_eof(p, i, msg->offset);
        return;
    }
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (i >= 0 && !p->ranges[i].done)
            arb_log_kv(ARB_LOG_WARN, "viewer: consumer error", "error",
                       rd_kafka_message_errstr(msg), NULL);
        return;
    }
    if (!arb_plan_record(p, i, msg->offset).take)
        return; /* a straggler of an earlier read's assignment, or past the end */
    stats->read++;
    if (!fn(opaque, msg))
        stats->stopped = true;
}

int arb_history_read(struct arb_history *history, const struct arb_history_query *query,
                     arb_history_fn *fn, void *opaque, struct arb_history_stats *stats,
                     struct arb_error *err)
{
    memset(stats, 0, sizeof(*stats));
    if (plan(history, query, err) != 0)
        return -1;
    while (!arb_plan_done(&history->plan) && !stats->stopped) {
        if (query->deadline_ns > 0 && arb_now_ns() > query->deadline_ns) {
            stats->timed_out = true;
            break;
        }
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(history->rk, POLL_MS);
        if (msg == NULL)
            continue;
        on_message(history, msg, fn, opaque, stats);
        rd_kafka_message_destroy(msg);
    }
    rd_kafka_assign(history->rk, NULL);
    return 0;
}
