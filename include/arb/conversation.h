/* conversation.h - one conversation as the viewer shows it: its records (one message each)
 * in the order the desk gets them, each with what the delivery log says became of it,
 * rendered as a chat page (server-side HTML, readable without JavaScript) or as JSON; the
 * confirmation and the result of "re-send from here"; and what such a re-send must read.
 *
 * A bubble per message, on the left for the business (chatbot, robot, system, agent: the
 * agent marked as such), on the right for the user. Every content type of the AIRudder
 * documentation has its own rendering (text, image, video, audio, file, WhatsApp and
 * Instagram templates, interactive buttons and lists and the replies to them, button
 * replies, system messages, quoted replies); anything else is shown as indented JSON.
 * Remote media are links naming their host, never loaded by the page itself: the viewer's
 * script turns a link into an image (or player) only when it is clicked.
 *
 * Order: the records of one partition by offset (the desk's order), partitions merged by
 * the time the bridge received them. Pure: records in, bytes out; no I/O, no clock. */
#ifndef ARB_CONVERSATION_H
#define ARB_CONVERSATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arb/buf.h"
#include "arb/error.h"
#include "arb/header.h"
#include "arb/outcome.h"
#include "arb/selection.h"

/* A record as read from Kafka (the caller's memory; copied by what takes it). */
struct arb_conv_record {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms; /* Kafka's: when the bridge received the event */
    const char *key;      /* the call_id */
    size_t key_len;
    const char *value;
    size_t value_len;
    const struct arb_header *headers;
    size_t nheaders;
};

/* The record's call_id: its airudder-call-id header, else its key (into buf, cut to size). */
void arb_conv_record_call_id(const struct arb_conv_record *record, char *buf, size_t size);

/* A one-line description of a record value's message (escaped HTML): its text, "Image",
 * "File name", a template's body... */
void arb_conv_summary_html(struct arb_buf *out, const char *value, size_t len);

struct arb_conversation;

struct arb_conversation *arb_conversation_new(const char *call_id);
void arb_conversation_destroy(struct arb_conversation *conv);

/* Take a record of this conversation (copied). Once max are held, it is not taken, the
 * conversation is marked truncated and false is returned. */
bool arb_conversation_add_record(struct arb_conversation *conv,
                                 const struct arb_conv_record *record, size_t max);
/* A delivery-log value (see outcome.h); those of other conversations are ignored. -1 with
 * err when it is not a delivery-log record. */
int arb_conversation_add_outcome(struct arb_conversation *conv, const char *value, size_t len,
                                 struct arb_error *err);
/* After the last add: put the records in order and each outcome under its record. */
void arb_conversation_finish(struct arb_conversation *conv);

size_t arb_conversation_count(const struct arb_conversation *conv);
/* The index of the record at topic/partition/offset, or -1. */
long arb_conversation_find(const struct arb_conversation *conv, const char *topic,
                           int32_t partition, int64_t offset);

/* What a re-send from record index on must read: for each topic-partition holding records
 * at or after it, the first such offset (*starts, grown with realloc, topics malloc'd), and
 * the latest receipt time among them (*until_ms), so records that arrive later are not
 * re-sent. Returns how many records that is. */
size_t arb_conversation_resend_plan(const struct arb_conversation *conv, size_t index,
                                    struct arb_offset_spec **starts, size_t *nstarts,
                                    int64_t *until_ms);

/* How a page is shown. */
struct arb_conversation_view {
    bool resend;              /* offer "re-send from here" (a token is configured) */
    const char *from, *until; /* the window as typed (NULL: none), kept in links */
    const char *problem;      /* a reading problem to show (NULL: none) */
    const char *desk;         /* the desk's host, named on the confirmation */
};

void arb_conversation_html(const struct arb_conversation *conv,
                           const struct arb_conversation_view *view, struct arb_buf *out);
void arb_conversation_json(const struct arb_conversation *conv,
                           const struct arb_conversation_view *view, struct arb_buf *out);
/* The page asking to confirm a re-send from record index on (a POST form with the token). */
void arb_conversation_confirm_html(const struct arb_conversation *conv, size_t index,
                                   const struct arb_conversation_view *view,
                                   struct arb_buf *out);

/* What a re-send did. */
struct arb_resend_summary {
    const char *call_id;
    const char *error;   /* NULL when it ran to the end */
    size_t planned;      /* records the plan named */
    uint64_t matched;    /* records debug mode read and sent */
    const struct arb_outcome *outcomes; /* one per record finished, in the order finished */
    size_t noutcomes;
};

void arb_resend_summary_html(const struct arb_resend_summary *summary,
                             const struct arb_conversation_view *view, struct arb_buf *out);
void arb_resend_summary_json(const struct arb_resend_summary *summary, struct arb_buf *out);

#endif
