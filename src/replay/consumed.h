/* consumed.h - a consumed Kafka message as the core takes it: the job record of the
 * delivery engine (jobs.h), the record of a conversation page (conversation.h), their
 * headers. Every pointer points into the message, which must outlive what is made. */
#ifndef ARB_REPLAY_CONSUMED_H
#define ARB_REPLAY_CONSUMED_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "arb/conversation.h"
#include "arb/header.h"
#include "arb/jobs.h"

/* The message's headers, the first max of them (a value may be NULL): how many. */
size_t arb_consumed_headers(const rd_kafka_message_t *msg, struct arb_header *out, size_t max);

/* headers: room for ARB_JOB_HEADERS_MAX. */
void arb_consumed_job_record(const rd_kafka_message_t *msg, struct arb_header *headers,
                             struct arb_job_record *record);

/* headers: room for max. */
void arb_consumed_conv_record(const rd_kafka_message_t *msg, struct arb_header *headers,
                              size_t max, struct arb_conv_record *record);

#endif
