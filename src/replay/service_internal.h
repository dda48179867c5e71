/* service_internal.h - what the files of service mode share: the service, and its
 * consumer-group side (service_group.c), which service.c's loop drives. */
#ifndef ARB_SERVICE_INTERNAL_H
#define ARB_SERVICE_INTERNAL_H

#include "admin.h"
#include "delivery_log.h"
#include "fetch_waker.h"
#include "kafka.h"
#include "pipeline.h"

#include "arb/buf.h"
#include "arb/config.h"
#include "arb/flow.h"

#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct part {
    char *topic;
    int32_t partition;
    bool dirty;
    int64_t committable; /* the next offset to consume once everything before is done */
};

struct arb_service {
    const struct arb_replay_conf *conf;
    rd_kafka_t *consumer;
    rd_kafka_queue_t *queue;
    int wake[2];
    struct arb_pipeline *pipeline;
    struct arb_delivery_log *delivery_log; /* NULL when delivery_log.topic is "" */
    struct arb_admin *admin;
    struct arb_kafka_health *health;
    struct part *parts; /* by the index the pipeline and the flow know them by */
    int nparts;
    struct arb_flow *flow; /* which partitions are assigned, and paused */
    size_t *pending;       /* per partition, for the flow; nparts of them */
    struct arb_flow_action *actions; /* the flow's decisions; 2 * nparts of them */
    struct arb_fetch_waker *waker;   /* NULL when its thread did not start */
    int wake_next;                   /* the partition the next wake starts from */

    atomic_bool joined, fatal;
    atomic_int paused;
    pthread_mutex_t lag_lock;
    struct arb_buf lag_metrics; /* rendered by the loop, served by the admin thread */
    int64_t lag_refreshed_ns;
};

/* The index of topic/partition among the parts, or -1. */
int arb_service_part(const struct arb_service *svc, const char *topic, int32_t partition);
bool arb_service_assigned(const struct arb_service *svc, int i);

/* The flow's decisions, applied to the consumer: once a turn; a partition that reached its
 * share during a stall; everything when stopping. */
void arb_service_control_flow(struct arb_service *svc);
void arb_service_pause(struct arb_service *svc, int i);
void arb_service_pause_all(struct arb_service *svc);

/* The consumer's queue was found empty (or not): wake the fetchers of the assigned, unpaused
 * partitions behind their high watermark, when the flow says a wake is due. */
void arb_service_wake_fetchers(struct arb_service *svc, bool queue_empty);

/* The pipeline's committable offsets: noted (arb_committable_fn), handed to librdkafka,
 * committed now (why: for the log). */
void arb_service_on_committable(void *opaque, int i, int64_t offset);
void arb_service_store_offsets(struct arb_service *svc);
void arb_service_commit(struct arb_service *svc, const char *why);

/* The consumer's callbacks (opaque: the service). */
void arb_service_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                              rd_kafka_topic_partition_list_t *partitions, void *opaque);
void arb_service_on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque);

#endif
