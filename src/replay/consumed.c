/* consumed.c - consumed Kafka messages as the core's records (see consumed.h). */
#include "consumed.h"

size_t arb_consumed_headers(const rd_kafka_message_t *msg, struct arb_header *out, size_t max)
{
    rd_kafka_headers_t *headers = NULL;
    const char *name;
    const void *value;
    size_t size, n = 0;

    if (rd_kafka_message_headers(msg, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    while (n < max && rd_kafka_header_get_all(headers, n, &name, &value, &size) == 0) {
        out[n] = (struct arb_header){name, value, value != NULL ? size : 0};
        n++;
    }
    return n;
}

void arb_consumed_job_record(const rd_kafka_message_t *msg, struct arb_header *headers,
                             struct arb_job_record *record)
{
    *record = (struct arb_job_record){
        .topic = rd_kafka_topic_name(msg->rkt),
        .partition = msg->partition,
        .offset = msg->offset,
        .key = msg->key,
        .key_len = msg->key != NULL ? msg->key_len : 0,
        .value = msg->payload,
        .value_len = msg->payload != NULL ? msg->len : 0,
        .headers = headers,
        .nheaders = arb_consumed_headers(msg, headers, ARB_JOB_HEADERS_MAX),
    };
}

void arb_consumed_conv_record(const rd_kafka_message_t *msg, struct arb_header *headers,
                              size_t max, struct arb_conv_record *record)
{
    rd_kafka_timestamp_type_t type;
    *record = (struct arb_conv_record){
        .topic = rd_kafka_topic_name(msg->rkt),
        .partition = msg->partition,
        .offset = msg->offset,
        .timestamp_ms = rd_kafka_message_timestamp(msg, &type),
        .key = msg->key,
        .key_len = msg->key != NULL ? msg->key_len : 0,
        .value = msg->payload,
        .value_len = msg->payload != NULL ? msg->len : 0,
        .headers = headers,
        .nheaders = arb_consumed_headers(msg, headers, max),
    };
}
