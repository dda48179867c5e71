/* delivery.h - what the replay sends the desk for one record: the body (an AIRudder event
 * rebuilt from the record, or the record as stored) and the headers that go with it
 * (X-AIRudder-Sign computed with desk.signature, the key id when configured, and an
 * Idempotency-Key that stays the same for every attempt and every replay of the record).
 * Pure: bytes in, bytes out. */
#ifndef ARB_DELIVERY_H
#define ARB_DELIVERY_H

#include <stddef.h>

#include "arb/config.h"
#include "arb/error.h"
#include "arb/signature.h"

#define ARB_DELIVERY_HEADERS_MAX 3
#define ARB_DELIVERY_HEADER_MAX 512

struct arb_delivery {
    char *body; /* malloc'd */
    size_t body_len;
    /* "Name: value" lines, for libcurl */
    char headers[ARB_DELIVERY_HEADERS_MAX][ARB_DELIVERY_HEADER_MAX];
    size_t nheaders;
    char idempotency_key[96];
};

/* What building needs, kept between records: a JSON scanner, the signature's HMAC contexts.
 * One per thread; desk must outlive it (and its signature be prepared first, if at all). */
struct arb_delivery_builder;
struct arb_delivery_builder *arb_delivery_builder_new(const struct arb_desk_conf *desk);
void arb_delivery_builder_destroy(struct arb_delivery_builder *builder);

/* Build the delivery of a record value. request_id is the record's airudder-request-id
 * header (NULL when absent: the first 32 hex of SHA-256 of the value stand in). With
 * desk.format "event" the value must be a JSON object (else ARB_E_JSON: the record cannot
 * be delivered and goes to the dead letter); the event is rebuilt from the value's own
 * bytes (whitespace and escapes as the sender wrote them). */
int arb_delivery_build(struct arb_delivery_builder *builder, const char *value, size_t len,
                       const char *request_id, struct arb_delivery *out,
                       struct arb_error *err);
void arb_delivery_clear(struct arb_delivery *delivery);

#endif
