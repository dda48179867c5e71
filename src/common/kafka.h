/* kafka.h - librdkafka set-up shared by both binaries: a configuration built from ours, with
 * librdkafka's own complaints about kafka.properties reported as file:line, and librdkafka's
 * log lines routed through our logger. */
#ifndef ARB_KAFKA_H
#define ARB_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>

#include "arb/config.h"

/* Build a configuration: bootstrap.servers, then defaults and more (NULL-terminated
 * name/value pairs, either may be NULL), then every kafka.properties entry (which may
 * override a default). Problems are added to errors as "file:line: ..." and NULL is
 * returned. */
rd_kafka_conf_t *arb_kafka_conf_build(const struct arb_kafka_conf *kafka, const char *file,
                                      const char *const *defaults, const char *const *more,
                                      struct arb_conf_errors *errors);

/* The value a configuration holds for name, for logging the effective settings ("" if unset). */
void arb_kafka_conf_get(rd_kafka_conf_t *conf, const char *name, char *out, size_t size);

/* Is Kafka reachable? A thread asks the cluster for metadata every second through rk; the
 * answer is yes while it answers (within 2 s). The transitions are logged. */
struct arb_kafka_health;
struct arb_kafka_health *arb_kafka_health_start(rd_kafka_t *rk);
bool arb_kafka_health_ok(const struct arb_kafka_health *health);
/* librdkafka said all brokers are down: no until the next answer. */
void arb_kafka_health_mark_down(struct arb_kafka_health *health);
/* Kafka acknowledged something: yes at once, without waiting for the next check. */
void arb_kafka_health_mark_up(struct arb_kafka_health *health);
void arb_kafka_health_stop(struct arb_kafka_health *health); /* accepts NULL */

#endif
