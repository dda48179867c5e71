/* service_group.c - service mode's side of the consumer group: the partitions it is
 * assigned and revoked, the flow's pauses and resumes applied to them (core/flow.c decides;
 * a refusal of the consumer goes back to it), the wakes of their fetchers (the flow says
 * when; fetch_waker.c wakes), and the committable offsets stored for
 * auto-commit (enable.auto.offset.store=false: only the pipeline's, which never pass an
 * unfinished record) or committed at once. */
#include "service_internal.h"

#include "arb/clock.h"
#include "arb/log.h"
#include "arb/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- partitions ---- */

int arb_service_part(const struct arb_service *svc, const char *topic, int32_t partition)
{
    for (int i = 0; i < svc->nparts; i++)
        if (svc->parts[i].partition == partition && svc->parts[i].topic != NULL &&
            strcmp(svc->parts[i].topic, topic) == 0)
            return i;
    return -1;
}

bool arb_service_assigned(const struct arb_service *svc, int i)
{
    return arb_flow_assigned(svc->flow, i);
}

static int part_get(struct arb_service *svc, const char *topic, int32_t partition)
{
    int i = arb_service_part(svc, topic, partition);
    if (i >= 0)
        return i;
    size_t n = (size_t)svc->nparts + 1;
    svc->parts = arb_xrealloc(svc->parts, n * sizeof(*svc->parts));
    svc->pending = arb_xrealloc(svc->pending, n * sizeof(*svc->pending));
    svc->actions = arb_xrealloc(svc->actions, 2 * n * sizeof(*svc->actions));
    svc->parts[svc->nparts] = (struct part){.topic = arb_xstrdup(topic), .partition = partition,
                                            .committable = -1};
    return svc->nparts++;
}

/* Pause or resume partitions as the flow decided; a refusal goes back to it. */
static void apply(struct arb_service *svc, const struct arb_flow_action *actions, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        struct part *part = &svc->parts[actions[k].part];
        rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(list, part->topic, part->partition);
        rd_kafka_resp_err_t err = actions[k].pause
                                      ? rd_kafka_pause_partitions(svc->consumer, list)
                                      : rd_kafka_resume_partitions(svc->consumer, list);
        rd_kafka_topic_partition_list_destroy(list);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
            arb_flow_refused(svc->flow, &actions[k]);
    }
    atomic_store(&svc->paused, arb_flow_paused_count(svc->flow));
}

void arb_service_pause(struct arb_service *svc, int i)
{
    const struct arb_flow_action pause = {i, true};
    apply(svc, &pause, 1);
}

void arb_service_pause_all(struct arb_service *svc)
{
    apply(svc, svc->actions, arb_flow_stop(svc->flow, svc->nparts, svc->actions));
}

/* Once a turn: the stall clock, and the pauses and resumes it calls for. */
void arb_service_control_flow(struct arb_service *svc)
{
    for (int i = 0; i < svc->nparts; i++)
        svc->pending[i] = arb_pipeline_pending(svc->pipeline, i);
    apply(svc, svc->actions,
          arb_flow_turn(svc->flow, arb_now_ns(), arb_pipeline_total(svc->pipeline),
                        svc->pending, svc->nparts, svc->actions));
}

/* ---- waking the fetchers ---- */

/* Is the partition's next offset to consume below its high watermark as last fetched? Both
 * are librdkafka's own figures: no request is made. */
static bool behind(struct arb_service *svc, const struct part *part)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, part->topic, part->partition);
    int64_t low = 0, high = 0, next = RD_KAFKA_OFFSET_INVALID;
    if (rd_kafka_position(svc->consumer, list) == RD_KAFKA_RESP_ERR_NO_ERROR)
        next = list->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(list);
    return next >= 0 &&
           rd_kafka_get_watermark_offsets(svc->consumer, part->topic, part->partition, &low,
                                          &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
           high > next;
}

void arb_service_wake_fetchers(struct arb_service *svc, bool queue_empty)
{
    const char *topics[ARB_FETCH_WAKER_MAX];
    int32_t partitions[ARB_FETCH_WAKER_MAX];
    size_t n = 0;

    if (svc->waker == NULL || svc->nparts == 0 ||
        !arb_flow_wake_due(svc->flow, arb_now_ns(), arb_pipeline_total(svc->pipeline),
                           queue_empty))
        return;
    for (int k = 0; k < svc->nparts && n < ARB_FETCH_WAKER_MAX; k++) {
        int i = (svc->wake_next + k) % svc->nparts;
        struct part *part = &svc->parts[i];
        if (!arb_flow_assigned(svc->flow, i) || arb_flow_paused(svc->flow, i) ||
            !behind(svc, part))
            continue;
        topics[n] = part->topic;
        partitions[n++] = part->partition;
    }
    svc->wake_next = (svc->wake_next + 1) % svc->nparts;
    arb_fetch_waker_wake(svc->waker, topics, partitions, n);
}

/* ---- offsets ---- */

void arb_service_on_committable(void *opaque, int i, int64_t offset)
{
    struct arb_service *svc = opaque;
    svc->parts[i].committable = offset;
    svc->parts[i].dirty = true;
}

/* Hand librdkafka the committable offsets that moved; auto-commit sends them. */
void arb_service_store_offsets(struct arb_service *svc)
{
    rd_kafka_topic_partition_list_t *list = NULL;
    for (int i = 0; i < svc->nparts; i++) {
        struct part *part = &svc->parts[i];
        if (!part->dirty || !arb_service_assigned(svc, i))
            continue;
        if (list == NULL)
            list = rd_kafka_topic_partition_list_new(4);
        rd_kafka_topic_partition_list_add(list, part->topic, part->partition)->offset =
            part->committable;
        part->dirty = false;
    }
    if (list == NULL)
        return;
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(svc->consumer, list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        arb_log_kv(ARB_LOG_WARN, "cannot store offsets", "error", rd_kafka_err2str(err), NULL);
    rd_kafka_topic_partition_list_destroy(list);
}

void arb_service_commit(struct arb_service *svc, const char *why)
{
    arb_service_store_offsets(svc);
    rd_kafka_resp_err_t err = rd_kafka_commit(svc->consumer, NULL, 0);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        arb_log_kv(ARB_LOG_WARN, "commit failed", "when", why, "error", rd_kafka_err2str(err),
                   NULL);
}

/* ---- rebalances ----
 *
 * Eager assignors (range, roundrobin: librdkafka's default) hand out and take back the whole
 * assignment; cooperative ones (cooperative-sticky) only what moves, the rest keeps being
 * consumed through the rebalance. Either way each listed partition is set up or torn down
 * in the bookkeeping: a revoked partition's records are dropped from the pipeline (their
 * offsets were not committed, so its next owner reads them again), and the offsets that
 * are committable are committed first, unless the assignment was lost (the partitions may
 * be another member's already). A failed assign leaves the consumer reading nothing, which
 * would look like an idle topic: it is a fatal error instead. */

static bool cooperative(rd_kafka_t *rk)
{
    const char *protocol = rd_kafka_rebalance_protocol(rk);
    return protocol != NULL && strcmp(protocol, "COOPERATIVE") == 0;
}

/* Hand librdkafka the change; an error from it is fatal (see above). */
static void apply_assignment(struct arb_service *svc, rd_kafka_topic_partition_list_t *partitions,
                             bool incremental, bool assign)
{
    char why[512] = "";
    if (incremental) {
        rd_kafka_error_t *error = assign ? rd_kafka_incremental_assign(svc->consumer, partitions)
                                         : rd_kafka_incremental_unassign(svc->consumer, partitions);
        if (error != NULL) {
            snprintf(why, sizeof(why), "%s", rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
        }
    } else {
        rd_kafka_resp_err_t err = rd_kafka_assign(svc->consumer, assign ? partitions : NULL);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
            snprintf(why, sizeof(why), "%s", rd_kafka_err2str(err));
    }
    if (why[0] == '\0')
        return;
    arb_log_kv(ARB_LOG_ERROR, assign ? "cannot take the assigned partitions"
                                     : "cannot give back the revoked partitions",
               "error", why, NULL);
    atomic_store(&svc->fatal, true);
}

static void on_assign(struct arb_service *svc, rd_kafka_topic_partition_list_t *partitions,
                      bool incremental)
{
    char count[16];
    for (int j = 0; j < partitions->cnt; j++) {
        int i = part_get(svc, partitions->elems[j].topic, partitions->elems[j].partition);
        arb_flow_assign(svc->flow, i);
        svc->parts[i].dirty = false;
        svc->parts[i].committable = -1; /* until the pipeline says: it reads from the commit */
    }
    apply_assignment(svc, partitions, incremental, true);
    atomic_store(&svc->joined, true);
    snprintf(count, sizeof(count), "%d", partitions->cnt);
    arb_log_kv(ARB_LOG_INFO, "partitions assigned", "count", count, "protocol",
               incremental ? "cooperative" : "eager", NULL);
}

/* Forget partition i: its records leave the pipeline, uncommitted. */
static void part_forget(struct arb_service *svc, int i)
{
    arb_pipeline_drop_partition(svc->pipeline, i);
    arb_flow_revoke(svc->flow, i);
    atomic_store(&svc->paused, arb_flow_paused_count(svc->flow));
    svc->parts[i].dirty = false;
}

static void on_revoke(struct arb_service *svc, rd_kafka_topic_partition_list_t *partitions,
                      bool incremental)
{
    char count[16];
    bool lost = rd_kafka_assignment_lost(svc->consumer);
    if (!lost)
        arb_service_commit(svc, "revoke");
    for (int j = 0; j < partitions->cnt; j++) {
        int i = arb_service_part(svc, partitions->elems[j].topic, partitions->elems[j].partition);
        if (i >= 0)
            part_forget(svc, i);
    }
    apply_assignment(svc, partitions, incremental, false);
    snprintf(count, sizeof(count), "%d", partitions->cnt);
    arb_log_kv(lost ? ARB_LOG_WARN : ARB_LOG_INFO,
               lost ? "partitions lost: records not delivered will be read again by their "
                      "next owner"
                    : "partitions revoked",
               "count", count, NULL);
}

void arb_service_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *partitions, void *opaque)
{
    struct arb_service *svc = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        on_assign(svc, partitions, cooperative(rk));
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        on_revoke(svc, partitions, cooperative(rk));
    } else {
        /* librdkafka's contract: clear the whole assignment, whatever the protocol */
        arb_log_kv(ARB_LOG_ERROR, "rebalance failed", "error", rd_kafka_err2str(err), NULL);
        for (int i = 0; i < svc->nparts; i++)
            if (arb_service_assigned(svc, i))
                part_forget(svc, i);
        rd_kafka_assign(rk, NULL);
    }
}

void arb_service_on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct arb_service *svc = opaque;
    char fatal[512];
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
        arb_log_kv(ARB_LOG_ERROR, "fatal consumer error", "error", fatal, NULL);
        atomic_store(&svc->fatal, true);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && svc->health != NULL)
        arb_kafka_health_mark_down(svc->health);
    arb_log_kv(ARB_LOG_WARN, "kafka error", "error", rd_kafka_err2name(err), "reason", reason,
               NULL);
}
