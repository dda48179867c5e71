/* reader.c - librdkafka's side of reading a planned stretch of Kafka (see reader.h). The
 * questions are asked in plan.h's order: the metadata, then per range the watermarks and,
 * when the plan needs them, the offsets of its times (one request for all ranges each). */
#include "reader.h"
#include "kafka.h"

#include "arb/clock.h"
#include "arb/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define QUERY_TIMEOUT_MS 10000

rd_kafka_t *arb_reader_new(const struct arb_replay_conf *conf, const char *client_id,
                           struct arb_error *err)
{
    char group[128], errstr[512];
    struct arb_conf_errors errors = {0};
    snprintf(group, sizeof(group), "%s-%ld-%lld", client_id, (long)getpid(),
             (long long)arb_now_ns());
    const char *const defaults[] = {
        "client.id", client_id,
        "group.id", group, /* never joined (no subscribe), never committed to */
        "enable.auto.commit", "false",
        "enable.auto.offset.store", "false",
        "enable.partition.eof", "true",
        "log.connection.close", "false",
        NULL,
    };
    rd_kafka_conf_t *kconf =
        arb_kafka_conf_build(&conf->kafka, conf->file, defaults, NULL, &errors);
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

/* The cluster's topics as the plan takes them; partition ids in one array. */
static int read_topics(rd_kafka_t *rk, struct arb_plan_topic **topics, size_t *ntopics,
                       int32_t **ids, const struct rd_kafka_metadata **md,
                       struct arb_error *err)
{
    rd_kafka_resp_err_t kerr = rd_kafka_metadata(rk, 1, NULL, md, QUERY_TIMEOUT_MS);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
        return arb_error_set(err, ARB_E_KAFKA, "cannot read the cluster's metadata: %s",
                             rd_kafka_err2str(kerr));
    size_t nids = 0, n = 0;
    for (int i = 0; i < (*md)->topic_cnt; i++)
        nids += (size_t)(*md)->topics[i].partition_cnt;
    *topics = arb_xcalloc((size_t)(*md)->topic_cnt + 1, sizeof(**topics));
    *ids = arb_xcalloc(nids + 1, sizeof(**ids));
    for (int i = 0, at = 0; i < (*md)->topic_cnt; i++) {
        const rd_kafka_metadata_topic_t *t = &(*md)->topics[i];
        if (t->err != RD_KAFKA_RESP_ERR_NO_ERROR)
            continue;
        (*topics)[n++] = (struct arb_plan_topic){t->topic, *ids + at, (size_t)t->partition_cnt};
        for (int p = 0; p < t->partition_cnt; p++)
            (*ids)[at++] = t->partitions[p].id;
    }
    *ntopics = n;
    return 0;
}

static int plan_partitions(rd_kafka_t *rk, const struct arb_plan_request *req,
                           struct arb_plan *plan, struct arb_error *err)
{
    const struct rd_kafka_metadata *md = NULL;
    struct arb_plan_topic *topics = NULL;
    int32_t *ids = NULL;
    size_t ntopics = 0;
    int rc = read_topics(rk, &topics, &ntopics, &ids, &md, err);
    if (rc == 0)
        rc = arb_plan_partitions(plan, req, topics, ntopics, err);
    free(topics);
    free(ids);
    if (md != NULL)
        rd_kafka_metadata_destroy(md);
    return rc;
}

/* Per range, the offset of the first record at or after time_ms (-1: none) into from or
 * until of marks. */
static int offsets_for_time(rd_kafka_t *rk, const struct arb_plan *plan, int64_t time_ms,
                            struct arb_plan_marks *marks, bool until, struct arb_error *err)
{
    rd_kafka_topic_partition_list_t *list =
        rd_kafka_topic_partition_list_new((int)plan->nranges);
    for (size_t i = 0; i < plan->nranges; i++)
        rd_kafka_topic_partition_list_add(list, plan->ranges[i].topic, plan->ranges[i].partition)
            ->offset = time_ms;
    rd_kafka_resp_err_t kerr = rd_kafka_offsets_for_times(rk, list, QUERY_TIMEOUT_MS);
    for (size_t i = 0; kerr == RD_KAFKA_RESP_ERR_NO_ERROR && i < plan->nranges; i++) {
        kerr = list->elems[i].err;
        *(until ? &marks[i].until : &marks[i].from) = list->elems[i].offset;
    }
    rd_kafka_topic_partition_list_destroy(list);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
        return arb_error_set(err, ARB_E_KAFKA, "cannot look up offsets by time: %s",
                             rd_kafka_err2str(kerr));
    return 0;
}

static int read_marks(rd_kafka_t *rk, const struct arb_plan *plan,
                      struct arb_plan_marks *marks, struct arb_error *err)
{
    if ((plan->ask_from && offsets_for_time(rk, plan, plan->from_query_ms, marks, false,
                                            err) != 0) ||
        (plan->ask_until && offsets_for_time(rk, plan, plan->until_query_ms, marks, true,
                                             err) != 0))
        return -1;
    for (size_t i = 0; i < plan->nranges; i++) {
        const struct arb_plan_range *range = &plan->ranges[i];
        rd_kafka_resp_err_t kerr =
            rd_kafka_query_watermark_offsets(rk, range->topic, range->partition, &marks[i].low,
                                             &marks[i].high, QUERY_TIMEOUT_MS);
        if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
            return arb_error_set(err, ARB_E_KAFKA, "%s/%d: cannot read the offsets: %s",
                                 range->topic, (int)range->partition, rd_kafka_err2str(kerr));
    }
    return 0;
}

int arb_reader_plan(rd_kafka_t *rk, const struct arb_plan_request *req, struct arb_plan *plan,
                    struct arb_error *err)
{
    if (plan_partitions(rk, req, plan, err) != 0)
        return -1;
    struct arb_plan_marks *marks = arb_xcalloc(plan->nranges + 1, sizeof(*marks));
    for (size_t i = 0; i < plan->nranges; i++)
        marks[i] = (struct arb_plan_marks){0, 0, -1, -1};
    int rc = read_marks(rk, plan, marks, err);
    if (rc == 0)
        rc = arb_plan_offsets(plan, req, marks, err);
    free(marks);
    return rc;
}

int arb_reader_assign(rd_kafka_t *rk, const struct arb_plan *plan, struct arb_error *err)
{
    rd_kafka_topic_partition_list_t *list =
        rd_kafka_topic_partition_list_new((int)plan->nranges);
    for (size_t i = 0; i < plan->nranges; i++)
        if (!plan->ranges[i].done)
            rd_kafka_topic_partition_list_add(list, plan->ranges[i].topic,
                                              plan->ranges[i].partition)
                ->offset = plan->ranges[i].start;
    rd_kafka_resp_err_t kerr = rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
        return arb_error_set(err, ARB_E_KAFKA, "cannot assign partitions: %s",
                             rd_kafka_err2str(kerr));
    return 0;
}

void arb_reader_pause(rd_kafka_t *rk, const struct arb_plan_range *range)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, range->topic, range->partition);
    rd_kafka_pause_partitions(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
}
