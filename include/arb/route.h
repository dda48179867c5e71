/* route.h - which Kafka topic an event's records go to.
 *
 * Routes are tried in order; the first whose event is the event's name, or "*", wins. A topic
 * may contain {event}, {channel} and {company}, replaced by that field of the event made safe
 * for a topic name (characters outside [A-Za-z0-9._-] become '_'; a missing or empty field
 * becomes "unknown"). */
#ifndef ARB_ROUTE_H
#define ARB_ROUTE_H

#include <stddef.h>

#include "arb/error.h"

#define ARB_TOPIC_MAX 249 /* Kafka's limit on topic name length */

struct arb_route {
    char *event; /* an event name, or "*" for any */
    char *topic; /* a topic name, possibly with placeholders */
};

/* Check a topic template: legal characters, known placeholders, balanced braces. */
int arb_route_check(const char *topic, struct arb_error *err);

/* What routing looks at: the event's name and two of its fields (each NULL when absent;
 * not NUL-terminated). */
struct arb_route_fields {
    const char *event, *channel, *company;
    size_t event_len, channel_len, company_len;
};

/* Pick the route for an event and write its topic (NUL-terminated) to out, which must hold
 * ARB_TOPIC_MAX + 1 bytes. No match: -1 with ARB_E_ROUTE. */
int arb_route_topic(const struct arb_route *routes, size_t count,
                    const struct arb_route_fields *fields, char *out, struct arb_error *err);

void arb_routes_free(struct arb_route *routes, size_t count);

#endif
