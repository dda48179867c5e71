/* event.h - is a body an event the bridge accepts, under its endpoint's schema?
 *
 * The body is validated and indexed at machine speed first (json_index.h); the schema is
 * then checked on the index, never on a tree. Every schema wants one JSON object with a
 * non-empty string call_id, and refuses the four names the bridge adds to records (message,
 * message_index, message_count, received_at) at its top level, since its records could not
 * be told apart. Then:
 *
 *   channel.message.sent (AIRudder's documented field table, for every chatbot event):
 *     event a non-empty string; company, channel, channel_id, custom strings and user an
 *     object (its id a string) when present; messages, when present, an array of objects
 *     each with an object content, and msg_id and sender_type strings and timestamp an
 *     integer when present. Fields the table marks required but AIRudder's own example
 *     omits (custom) are checked for type only.
 *   workflow.session.end (the Workflow product's session-end notification, which has no
 *     event field): the ids, names, channel, callee, robot_id, status and the ISO-8601
 *     session times strings, timestamp and talk_round integers, ner_slots, event_label and
 *     variables objects, when present; messages as above with a status string and a reply
 *     object (quoting an earlier message: msg_id, sender_type strings, timestamp integer,
 *     content object, when present).
 *   generic: call_id, and messages an array when present.
 *
 * An event field, when present under any schema, is a non-empty string; the event's name is
 * that, or else the endpoint's. Unknown fields are allowed and kept. Errors name the JSON
 * path and the problem, e.g. "messages[3].content: expected object, got integer", in the
 * order the rules above are listed. */
#ifndef ARB_EVENT_H
#define ARB_EVENT_H

#include <stddef.h>

#include "arb/config.h"
#include "arb/error.h"
#include "arb/json_index.h"

/* Depth of the index the schemas need: messages[i].reply.content. */
#define ARB_EVENT_INDEX_DEPTH 4

struct arb_event {
    const char *body;
    const struct arb_json_index *index;
    const char *name; /* the event's name, or NULL when it has none */
    size_t name_len;
    const struct arb_json_node *call_id;
    const struct arb_json_node *channel, *company; /* strings, or NULL */
    const struct arb_json_node *messages;          /* the array, or NULL */
};

/* Check an indexed body under schema; default_event names bodies without an event field
 * ("" for none). On failure err->code is ARB_E_SCHEMA (answer 422). */
int arb_event_check(const struct arb_json_index *index, const char *body, enum arb_schema schema,
                    const char *default_event, struct arb_event *out, struct arb_error *err);

/* Scan (see json_index.h) and check: ARB_E_JSON (answer 400) with Jansson's line, column and
 * reason, or ARB_E_SCHEMA. body must be padded (ARB_JSON_PADDING). */
int arb_event_parse(struct arb_json_scanner *scanner, const char *body, size_t len,
                    enum arb_schema schema, const char *default_event, struct arb_event *out,
                    struct arb_error *err);

/* The call_id of a body that was indexed but failed its schema, when it has one. */
const struct arb_json_node *arb_event_peek_call_id(const struct arb_json_index *index);

#endif
