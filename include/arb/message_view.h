/* message_view.h - one AIRudder message (an element of an event's messages) as the viewer
 * shows it: what kind it is, its content as HTML, and a one-line summary for quotes and
 * lists.
 *
 * Every content type of the AIRudder documentation has its own rendering: text, image,
 * video, audio, file (name and link), WhatsApp templates (header, body, footer, buttons)
 * and Instagram generic templates, interactive buttons and lists, the list and button
 * replies, the query API's interactive text, button replies, system messages. A type, or a
 * shape, the documentation does not give is "unknown", shown as indented JSON. Remote
 * media are links naming their host, never embedded. Pure. */
#ifndef ARB_MESSAGE_VIEW_H
#define ARB_MESSAGE_VIEW_H

#include <jansson.h>

#include "arb/buf.h"

/* "text", "image", "video", "audio", "file", "template", "interactive.button",
 * "interactive.list", "interactive.list_reply", "interactive.button_reply",
 * "interactive.text", "button", "system", "unknown"; "event" when message is NULL (a
 * record without a message). */
const char *arb_message_kind(json_t *message);

/* The message's content, escaped HTML (the quoted reply is the caller's). */
void arb_message_html(struct arb_buf *out, json_t *message);

/* Its text, "Image", "File name", a template's body...: escaped, cut to about 120 bytes. */
void arb_message_summary_html(struct arb_buf *out, json_t *message);

/* Any JSON value, indented and escaped, in <pre class="json">. */
void arb_message_json_html(struct arb_buf *out, json_t *value);

#endif
