/* event.h - parse and validate an AIRudder event body.
 *
 * The rules are those of the channel.message.sent field table (the only event AIRudder
 * documents in full), applied to every event so that unknown events still split safely:
 *   - the body is one JSON object (duplicate keys rejected, UTF-8 checked by Jansson);
 *   - event: a non-empty string; call_id: a non-empty string;
 *   - company, channel, channel_id, custom: strings when present; user: an object when
 *     present, whose id is a string when present;
 *   - messages, when present: an array of objects, each with an object content; msg_id and
 *     sender_type strings and timestamp an integer when present.
 * Fields the table marks required but real events omit (custom, in AIRudder's own example)
 * are checked for type only. Unknown fields are allowed and kept, except the four names the
 * bridge adds to records (message, message_index, message_count, received_at): an event
 * carrying one at top level is invalid, since its records could not be told apart. */
#ifndef ARB_EVENT_H
#define ARB_EVENT_H

#include <jansson.h>
#include <stddef.h>

#include "arb/error.h"

/* Parse body. On success *out holds a new reference to the event object. On failure err->code
 * is ARB_E_JSON (not JSON: answer 400) or ARB_E_SCHEMA (answer 422), and err->message names
 * the JSON path and the problem, e.g. "messages[3].content: expected object". */
int arb_event_parse(const void *body, size_t len, json_t **out, struct arb_error *err);

/* The schema check alone, for an already parsed value. */
int arb_event_validate(const json_t *event, struct arb_error *err);

/* The event's call_id when it is a non-empty string, else NULL. */
const char *arb_event_call_id(const json_t *event);

/* The call_id of a body that failed validation, if it has one (a malloc'd copy, or NULL),
 * so its dead letter is keyed like the conversation's records. */
char *arb_event_peek_call_id(const void *body, size_t len);

#endif
