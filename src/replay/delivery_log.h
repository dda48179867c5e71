/* delivery_log.h - the replay's delivery log: one small record per delivery outcome
 * (core/outcome.c says what it holds) written to delivery_log.topic, keyed by call_id, with
 * the headers airudder-call-id, airudder-outcome and airudder-origin (topic/partition/offset).
 *
 * It never holds up a delivery: a record is queued on a producer of its own (so its
 * backlog cannot fill the dead letters' queue) and written asynchronously; a full queue,
 * a produce error or a record Kafka does not acknowledge is counted
 * (airudder_replay_delivery_log_records_total{result}) and logged at most every few
 * seconds, never retried at the expense of the deliveries. Kafka is its only store.
 *
 * Threading: arb_delivery_log_write may be called from any thread; the producer's own
 * thread serves its reports. */
#ifndef ARB_REPLAY_DELIVERY_LOG_H
#define ARB_REPLAY_DELIVERY_LOG_H

#include "arb/buf.h"
#include "arb/config.h"
#include "arb/outcome.h"

struct arb_delivery_log;

/* Check the producer's configuration (for -t); nothing to check when the log is off. */
int arb_delivery_log_check_conf(const struct arb_replay_conf *conf,
                                struct arb_conf_errors *errors);

/* mode is written into every record ("service", "resend"). *out is NULL when
 * delivery_log.topic is "" (off): then every function below does nothing. -1 with errors
 * when the producer cannot be made. */
int arb_delivery_log_new(const struct arb_replay_conf *conf, const char *mode,
                         struct arb_delivery_log **out, struct arb_conf_errors *errors);
/* Wait at most timeout_ms for what is queued to be acknowledged, then drop the rest. */
void arb_delivery_log_destroy(struct arb_delivery_log *log, int timeout_ms);

/* Queue the record of one outcome; returns at once, whatever happens. */
void arb_delivery_log_write(struct arb_delivery_log *log, const struct arb_outcome *outcome);

/* airudder_replay_delivery_log_records_total{result="written|failed|dropped"} and the
 * producer's own metrics; zeros when the log is off. */
void arb_delivery_log_metrics(const struct arb_delivery_log *log, struct arb_buf *out);

#endif
