/* reader.h - what reading a planned stretch of Kafka (plan.h) takes from librdkafka, for
 * debug mode and the viewer's history: a consumer of its own, with a throwaway group id it
 * never joins (no subscription) or commits to, so the service group never sees it; the
 * plan, from the cluster's metadata, watermarks and offsets of times; its assignment. */
#ifndef ARB_REPLAY_READER_H
#define ARB_REPLAY_READER_H

#include <librdkafka/rdkafka.h>

#include "arb/config.h"
#include "arb/error.h"
#include "arb/plan.h"

/* client_id also names the group: "<client_id>-<pid>-<time>". Partition EOF is reported. */
rd_kafka_t *arb_reader_new(const struct arb_replay_conf *conf, const char *client_id,
                           struct arb_error *err);

/* Plan req: -1 with err when Kafka does not answer or the plan says no (plan.h). */
int arb_reader_plan(rd_kafka_t *rk, const struct arb_plan_request *req, struct arb_plan *plan,
                    struct arb_error *err);

/* Read every range not done from its start (replacing any earlier assignment). */
int arb_reader_assign(rd_kafka_t *rk, const struct arb_plan *plan, struct arb_error *err);

/* Stop fetching a finished range. */
void arb_reader_pause(rd_kafka_t *rk, const struct arb_plan_range *range);

#endif
