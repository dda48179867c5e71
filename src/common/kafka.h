/* kafka.h - librdkafka set-up shared by both binaries: a configuration built from ours, with
 * librdkafka's own complaints about kafka.properties reported as file:line, and librdkafka's
 * log lines routed through our logger. */
#ifndef ARB_KAFKA_H
#define ARB_KAFKA_H

#include <librdkafka/rdkafka.h>

#include "arb/config.h"

/* Build a configuration: bootstrap.servers, then defaults (NULL-terminated name/value pairs),
 * then every kafka.properties entry (which may override a default). Problems are added to
 * errors as "file:line: ..." and NULL is returned. */
rd_kafka_conf_t *arb_kafka_conf_build(const struct arb_kafka_conf *kafka, const char *file,
                                      const char *const *defaults,
                                      struct arb_conf_errors *errors);

/* The value a configuration holds for name, for logging the effective settings ("" if unset). */
void arb_kafka_conf_get(rd_kafka_conf_t *conf, const char *name, char *out, size_t size);

#endif
