/* conversation_page.c - what is rendered of a conversation (see conversation.h): the chat
 * page, its JSON, the re-send confirmation and summaries.
 *
 * A bubble per record: its side (side_of), the message's own rendering (message_view.c), a
 * quote of the message it replies to, its outcomes, where it is in Kafka, and the "re-send
 * from here" form. Everything taken from a record is escaped on the way out (html.h). */
#include "arb/conversation.h"
#include "conversation_model.h"

#include "arb/html.h"
#include "arb/mem.h"
#include "arb/message_view.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DUMP_COMPACT (JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15)) /* to read */
#define DUMP_API (JSON_COMPACT | JSON_PRESERVE_ORDER) /* for scripts: numbers exact */

/* ---- sides ---- */

/* The user on the right; everyone speaking for the business (chatbot, robot, system,
 * agent, and any sender type we do not know) on the left; a record without a message in
 * the middle. */
static const char *side_of(const struct entry *e)
{
    if (e->message == NULL)
        return "center";
    return e->sender_type != NULL && strcmp(e->sender_type, "user") == 0 ? "right" : "left";
}

void arb_conv_summary_html(struct arb_buf *out, const char *value, size_t len)
{
    json_t *record = value != NULL ? json_loadb(value, len, 0, NULL) : NULL;
    json_t *message = json_object_get(record, "message");
    arb_message_summary_html(out, json_is_object(message) ? message : NULL);
    json_decref(record);
}

/* ---- one message ---- */

static void raw_block(struct arb_buf *out, const char *raw)
{
    arb_buf_puts(out, "<pre class=\"raw\">");
    arb_html_puts(out, raw);
    arb_buf_puts(out, "</pre>");
}

/* The position of the latest record before n whose msg_id is msg_id, or -1. */
static long quoted_position(const struct arb_conversation *conv, size_t n, const char *msg_id)
{
    while (msg_id != NULL && n-- > 0) {
        const char *id = arb_conv_at(conv, n)->msg_id;
        if (id != NULL && strcmp(id, msg_id) == 0)
            return (long)n;
    }
    return -1;
}

static void render_quote(struct arb_buf *out, const struct arb_conversation *conv, size_t n,
                         json_t *reply)
{
    long target = quoted_position(conv, n, str(reply, "msg_id"));
    arb_buf_puts(out, "<blockquote class=\"quote\"><span class=\"q-sender\">");
    arb_html_puts(out, nonempty(str(reply, "sender_type")) ? str(reply, "sender_type") : "message");
    arb_buf_puts(out, "</span> ");
    if (target >= 0)
        arb_buf_printf(out, "<a href=\"#r%ld\">", target);
    arb_message_summary_html(out, reply);
    if (target >= 0)
        arb_buf_puts(out, "</a>");
    arb_buf_puts(out, "</blockquote>");
}

static void outcome_time(struct arb_buf *out, int64_t done_ms)
{
    if (done_ms <= 0)
        return;
    arb_buf_puts(out, "at <time datetime=\"");
    arb_html_time_iso(out, done_ms, true);
    arb_buf_puts(out, "\">");
    arb_html_time(out, done_ms, true);
    arb_buf_puts(out, "</time> ");
}

/* Not sent: the desk had it already. */
static void skipped_line(struct arb_buf *out, const struct arb_outcome *o)
{
    arb_buf_puts(out, "<p class=\"outcome skipped\" data-status=\"skipped\">"
                      "Skipped as a duplicate ");
    outcome_time(out, o->done_ms);
    arb_buf_puts(out, "&middot; its partition delivered its Idempotency-Key already</p>");
}

static void outcome_line(struct arb_buf *out, const struct arb_outcome *o)
{
    bool resend = o->mode != NULL && strcmp(o->mode, "resend") == 0;
    if (o->status == ARB_OUTCOME_SKIPPED) {
        skipped_line(out, o);
        return;
    }
    if (o->status == ARB_OUTCOME_DELIVERED) {
        arb_buf_printf(out, "<p class=\"outcome delivered\" data-status=\"delivered\">%s ",
                       resend ? "Re-sent, delivered" : "Delivered");
    } else {
        arb_buf_printf(out, "<p class=\"outcome deadlettered\" data-status=\"dead-lettered\">"
                            "%s ", resend ? "Re-sent, dead-lettered" : "Dead-lettered");
    }
    outcome_time(out, o->done_ms);
    arb_buf_printf(out, "&middot; %u attempt%s", o->attempts, o->attempts == 1 ? "" : "s");
    if (o->desk_status != 0)
        arb_buf_printf(out, " &middot; <span class=\"desk-status\" data-desk-status=\"%ld\">"
                            "desk answered HTTP %ld</span>", o->desk_status, o->desk_status);
    else if (o->attempts > 0)
        arb_buf_puts(out, " &middot; <span class=\"desk-status\" data-desk-status=\"0\">"
                          "no answer from the desk</span>");
    if (o->status == ARB_OUTCOME_DEADLETTERED && nonempty(o->reason)) {
        arb_buf_puts(out, " &middot; <span class=\"reason\">");
        arb_html_puts(out, o->reason);
        arb_buf_puts(out, "</span>");
    } else if (o->desk_status == 0 && nonempty(o->desk_error)) {
        arb_buf_puts(out, ": ");
        arb_html_puts(out, o->desk_error);
    }
    if (o->first_attempt_ms > 0 && o->last_attempt_ms > o->first_attempt_ms) {
        arb_buf_puts(out, " &middot; first attempt ");
        arb_html_time(out, o->first_attempt_ms, true);
    }
    arb_buf_puts(out, "</p>");
}

static void render_delivery(struct arb_buf *out, const struct entry *e)
{
    arb_buf_puts(out, "<div class=\"delivery\">");
    if (e->noutcomes == 0)
        arb_buf_puts(out, "<p class=\"outcome none\" data-status=\"none\">"
                          "No delivery recorded in the delivery log</p>");
    for (size_t i = 0; i < e->noutcomes; i++)
        outcome_line(out, &e->outcomes[i]->outcome);
    arb_buf_puts(out, "</div>");
}

static void hidden(struct arb_buf *out, const char *name, const char *value)
{
    arb_buf_printf(out, "<input type=\"hidden\" name=\"%s\" value=\"", name);
    arb_html_attr(out, value);
    arb_buf_puts(out, "\">");
}

static void hidden_record(struct arb_buf *out, const struct arb_conversation *conv,
                          const struct entry *e, const struct arb_conversation_view *view)
{
    char number[32];
    hidden(out, "call_id", conv->call_id);
    hidden(out, "topic", e->topic);
    snprintf(number, sizeof(number), "%d", (int)e->partition);
    hidden(out, "partition", number);
    snprintf(number, sizeof(number), "%lld", (long long)e->offset);
    hidden(out, "offset", number);
    if (nonempty(view->from))
        hidden(out, "from", view->from);
    if (nonempty(view->until))
        hidden(out, "until", view->until);
}

static void render_time(struct arb_buf *out, int64_t ms, bool with_ms)
{
    arb_buf_puts(out, "<time datetime=\"");
    arb_html_time_iso(out, ms, with_ms);
    arb_buf_puts(out, "\">");
    arb_html_time(out, ms, with_ms);
    arb_buf_puts(out, "</time>");
}

static void render_entry(struct arb_buf *out, const struct arb_conversation *conv, size_t n,
                         const struct arb_conversation_view *view)
{
    const struct entry *e = arb_conv_at(conv, n);
    const char *kind = arb_message_kind(e->message), *side = side_of(e);
    const char *sender = e->sender_type != NULL ? e->sender_type : "";
    json_t *timestamp = json_object_get(e->message, "timestamp");
    const char *status = str(e->message, "status");

    arb_buf_printf(out, "<article class=\"msg side-%s\" id=\"r%zu\" data-side=\"%s\" "
                        "data-kind=\"%s\" data-sender=\"", side, n, side, kind);
    arb_html_attr(out, sender);
    arb_buf_puts(out, "\" data-msg-id=\"");
    arb_html_attr(out, e->msg_id != NULL ? e->msg_id : "");
    arb_buf_printf(out, "\" data-offset=\"%lld\" data-partition=\"%d\">", (long long)e->offset,
                   (int)e->partition);

    arb_buf_puts(out, "<div class=\"meta\"><span class=\"sender\">");
    arb_html_puts(out, e->message == NULL ? (e->event != NULL ? e->event : "event")
                                          : nonempty(sender) ? sender : "(no sender type)");
    arb_buf_puts(out, "</span>");
    if (strcmp(sender, "agent") == 0)
        arb_buf_puts(out, " <span class=\"badge agent\">agent</span>");
    json_int_t seconds = json_integer_value(timestamp); /* 0 unless an integer */
    if (json_is_integer(timestamp) && seconds >= -ARB_HTML_TIME_MAX_S &&
        seconds <= ARB_HTML_TIME_MAX_S) {
        arb_buf_puts(out, " ");
        render_time(out, (int64_t)seconds * 1000, false);
    }
    if (nonempty(status)) {
        arb_buf_puts(out, " <span class=\"badge status\">");
        arb_html_puts(out, status);
        arb_buf_puts(out, "</span>");
    }
    if (e->repeat)
        arb_buf_puts(out, " <span class=\"badge repeat\" title=\"the same Idempotency-Key as an "
                          "earlier record: a webhook sent again\">repeat</span>");
    arb_buf_puts(out, "</div>");

    json_t *reply = json_object_get(e->message, "reply");
    arb_buf_puts(out, "<div class=\"bubble\">");
    if (json_is_object(reply))
        render_quote(out, conv, n, reply);
    if (e->message != NULL)
        arb_message_html(out, e->message);
    else if (e->value != NULL)
        arb_message_json_html(out, e->value);
    else
        raw_block(out, e->raw);
    arb_buf_puts(out, "</div>");

    render_delivery(out, e);

    arb_buf_puts(out, "<div class=\"record\"><span class=\"where\">");
    arb_html_puts(out, e->topic);
    arb_buf_printf(out, "/%d/%lld</span> &middot; received ", (int)e->partition,
                   (long long)e->offset);
    render_time(out, e->timestamp_ms, true);
    if (e->event != NULL) {
        arb_buf_puts(out, " &middot; ");
        arb_html_puts(out, e->event);
    }
    if (view->resend) {
        arb_buf_puts(out, "<form class=\"resend\" method=\"get\" action=\"/resend\">");
        hidden_record(out, conv, e, view);
        arb_buf_puts(out, "<button type=\"submit\">Re-send from here</button></form>");
    }
    arb_buf_puts(out, "<details class=\"raw-record\"><summary>record</summary>");
    if (e->value != NULL)
        arb_message_json_html(out, e->value);
    else
        raw_block(out, e->raw);
    arb_buf_puts(out, "</details></div></article>\n");
}

/* ---- the page ---- */

static void query_link(struct arb_buf *out, const char *path, const char *call_id,
                       const struct arb_conversation_view *view)
{
    struct arb_buf href;
    arb_buf_init(&href);
    arb_buf_printf(&href, "%s?call_id=", path);
    arb_url_encode(&href, call_id);
    if (nonempty(view->from)) {
        arb_buf_puts(&href, "&from=");
        arb_url_encode(&href, view->from);
    }
    if (nonempty(view->until)) {
        arb_buf_puts(&href, "&until=");
        arb_url_encode(&href, view->until);
    }
    arb_html_attr(out, href.data);
    arb_buf_free(&href);
}

/* The envelope of the first record with a JSON value: its top-level fields but the four the
 * bridge added and the message. */
static void render_envelope(struct arb_buf *out, const struct arb_conversation *conv)
{
    const char *key;
    json_t *value, *first = NULL;
    for (size_t n = 0; n < conv->nentries && first == NULL; n++)
        first = arb_conv_at(conv, n)->value;
    if (first == NULL)
        return;
    arb_buf_puts(out, "<dl class=\"envelope\">");
    json_object_foreach(first, key, value) {
        if (strcmp(key, "message") == 0 || strcmp(key, "message_index") == 0 ||
            strcmp(key, "message_count") == 0 || strcmp(key, "received_at") == 0 ||
            strcmp(key, "call_id") == 0)
            continue;
        arb_buf_puts(out, "<div><dt>");
        arb_html_puts(out, key);
        arb_buf_puts(out, "</dt><dd>");
        if (json_is_string(value)) {
            arb_html_text(out, json_string_value(value), json_string_length(value));
        } else {
            char *text = json_dumps(value, DUMP_COMPACT | JSON_ENCODE_ANY);
            arb_html_puts(out, text);
            free(text);
        }
        arb_buf_puts(out, "</dd></div>");
    }
    arb_buf_puts(out, "</dl>");
}

struct counts {
    size_t delivered, deadlettered, skipped, none; /* by each record's latest outcome */
};

static void count_outcomes(const struct arb_conversation *conv, struct counts *counts)
{
    *counts = (struct counts){0, 0, 0, 0};
    for (size_t i = 0; i < conv->nentries; i++) {
        const struct entry *e = &conv->entries[i];
        enum arb_outcome_status status =
            e->noutcomes > 0 ? e->outcomes[e->noutcomes - 1]->outcome.status : 0;
        if (e->noutcomes == 0)
            counts->none++;
        else if (status == ARB_OUTCOME_DELIVERED)
            counts->delivered++;
        else if (status == ARB_OUTCOME_SKIPPED)
            counts->skipped++;
        else
            counts->deadlettered++;
    }
}

/* "N messages, ...: a delivered, b dead-lettered[, c skipped as duplicates], d with none." */
static void render_counts(struct arb_buf *out, const struct arb_conversation *conv)
{
    struct counts counts;
    count_outcomes(conv, &counts);
    arb_buf_printf(out, "<p class=\"summary\">%zu message%s, in the order the desk gets them: "
                        "%zu delivered, %zu dead-lettered, ", conv->nentries,
                   conv->nentries == 1 ? "" : "s", counts.delivered, counts.deadlettered);
    if (counts.skipped > 0)
        arb_buf_printf(out, "%zu skipped as duplicates, ", counts.skipped);
    arb_buf_printf(out, "%zu with no delivery recorded. ", counts.none);
}

void arb_conversation_html(const struct arb_conversation *conv,
                           const struct arb_conversation_view *view, struct arb_buf *out)
{
    const struct arb_page_search search = {conv->call_id, view->from, view->until};
    struct arb_buf title;

    arb_buf_init(&title);
    arb_buf_printf(&title, "Conversation %s", conv->call_id);
    arb_page_begin(out, title.data, &search);
    arb_buf_free(&title);

    arb_buf_puts(out, "<section class=\"conversation\" data-call-id=\"");
    arb_html_attr(out, conv->call_id);
    arb_buf_puts(out, "\"><h1>Conversation <code>");
    arb_html_puts(out, conv->call_id);
    arb_buf_puts(out, "</code></h1>");
    render_counts(out, conv);
    arb_buf_puts(out, "<a class=\"as-json\" href=\"");
    query_link(out, "/conversation.json", conv->call_id, view);
    arb_buf_puts(out, "\">As JSON</a></p>");
    if (conv->truncated)
        arb_buf_printf(out, "<p class=\"notice\">Only the first %zu records are shown "
                            "(viewer.max_records); narrow the time window to see the rest.</p>",
                       conv->nentries);
    if (nonempty(view->problem)) {
        arb_buf_puts(out, "<p class=\"notice problem\">");
        arb_html_puts(out, view->problem);
        arb_buf_puts(out, "</p>");
    }
    render_envelope(out, conv);
    if (conv->nentries == 0)
        arb_buf_puts(out, "<p class=\"notice\">No record of this conversation in the window "
                          "read.</p>");
    arb_buf_puts(out, "<div class=\"chat\">\n");
    for (size_t n = 0; n < conv->nentries; n++)
        render_entry(out, conv, n, view);
    arb_buf_puts(out, "</div></section>");
    arb_page_end(out);
}

/* ---- JSON ---- */

/* doc as one line of JSON for scripts, and gone. */
static void put_json(struct arb_buf *out, json_t *doc)
{
    char *text = json_dumps(doc, DUMP_API);
    if (text != NULL)
        arb_buf_puts(out, text);
    arb_buf_puts(out, "\n");
    free(text);
    json_decref(doc);
}

static json_t *nullable_string(const char *s)
{
    return s != NULL ? json_string(s) : json_null();
}

static json_t *outcome_json(const struct arb_outcome *o)
{
    struct arb_buf text;
    arb_buf_init(&text);
    arb_outcome_encode(o, &text);
    json_t *value = json_loads(text.data != NULL ? text.data : "null", 0, NULL);
    arb_buf_free(&text);
    return value != NULL ? value : json_null();
}

void arb_conversation_json(const struct arb_conversation *conv,
                           const struct arb_conversation_view *view, struct arb_buf *out)
{
    json_t *records = json_array();
    for (size_t n = 0; n < conv->nentries; n++) {
        const struct entry *e = arb_conv_at(conv, n);
        json_t *deliveries = json_array();
        for (size_t i = 0; i < e->noutcomes; i++)
            json_array_append_new(deliveries, outcome_json(&e->outcomes[i]->outcome));
        json_t *record = json_object();
        json_object_set_new(record, "index", json_integer((json_int_t)n));
        json_object_set_new(record, "topic", json_string(e->topic));
        json_object_set_new(record, "partition", json_integer(e->partition));
        json_object_set_new(record, "offset", json_integer((json_int_t)e->offset));
        json_object_set_new(record, "timestamp", json_integer((json_int_t)e->timestamp_ms));
        json_object_set_new(record, "event", nullable_string(e->event));
        json_object_set_new(record, "msg_id", nullable_string(e->msg_id));
        json_object_set_new(record, "sender_type", nullable_string(e->sender_type));
        json_object_set_new(record, "side", json_string(side_of(e)));
        json_object_set_new(record, "kind", json_string(arb_message_kind(e->message)));
        json_object_set_new(record, "content_type",
                            nullable_string(str(json_object_get(e->message, "content"), "type")));
        json_object_set_new(record, "repeat", json_boolean(e->repeat));
        json_object_set_new(record, "value",
                            e->value != NULL ? json_incref(e->value) : json_string(e->raw));
        json_object_set_new(record, "deliveries", deliveries);
        json_array_append_new(records, record);
    }
    json_t *doc = json_object();
    json_object_set_new(doc, "call_id", json_string(conv->call_id));
    json_object_set_new(doc, "truncated", json_boolean(conv->truncated));
    json_object_set_new(doc, "problem", nullable_string(view->problem));
    json_object_set_new(doc, "records", records);
    put_json(out, doc);
}

/* ---- re-send ---- */

static void list_line(struct arb_buf *out, const struct arb_conversation *conv, size_t n)
{
    const struct entry *e = arb_conv_at(conv, n);
    arb_buf_printf(out, "<li data-offset=\"%lld\"><span class=\"sender\">", (long long)e->offset);
    arb_html_puts(out, e->sender_type != NULL ? e->sender_type : "event");
    arb_buf_printf(out, "</span> <span class=\"kind\">%s</span> ", arb_message_kind(e->message));
    if (e->message != NULL)
        arb_message_summary_html(out, e->message);
    arb_buf_puts(out, " <span class=\"where\">");
    arb_html_puts(out, e->topic);
    arb_buf_printf(out, "/%d/%lld</span></li>", (int)e->partition, (long long)e->offset);
}

void arb_conversation_confirm_html(const struct arb_conversation *conv, size_t index,
                                   const struct arb_conversation_view *view,
                                   struct arb_buf *out)
{
    const struct arb_page_search search = {conv->call_id, view->from, view->until};
    size_t count = index < conv->nentries ? conv->nentries - index : 0;

    arb_page_begin(out, "Re-send?", &search);
    arb_buf_puts(out, "<section class=\"confirm\"><h1>Re-send conversation <code>");
    arb_html_puts(out, conv->call_id);
    arb_buf_printf(out, "</code> from here?</h1><p>These %zu message%s go to the desk", count,
                   count == 1 ? "" : "s");
    if (nonempty(view->desk)) {
        arb_buf_puts(out, " at <b class=\"host\">");
        arb_html_puts(out, view->desk);
        arb_buf_puts(out, "</b>");
    }
    arb_buf_puts(out, " again, in order, exactly as debug mode re-sends them (same body, "
                      "signature and Idempotency-Key, with retries and the dead letter):</p>"
                      "<ol class=\"to-resend\">");
    for (size_t n = index; n < conv->nentries; n++)
        list_line(out, conv, n);
    arb_buf_puts(out, "</ol>");
    if (count > 0) {
        arb_buf_puts(out, "<form class=\"confirm-resend\" method=\"post\" action=\"/resend\">");
        hidden_record(out, conv, arb_conv_at(conv, index), view);
        arb_buf_puts(out, "<label>Token <input type=\"password\" name=\"token\" required "
                          "autocomplete=\"off\"></label> ");
        arb_buf_printf(out, "<button type=\"submit\">Re-send %zu message%s</button></form>",
                       count, count == 1 ? "" : "s");
    }
    arb_buf_puts(out, "<p><a class=\"cancel\" href=\"");
    query_link(out, "/conversation", conv->call_id, view);
    arb_buf_puts(out, "\">Back to the conversation</a></p></section>");
    arb_page_end(out);
}

void arb_resend_summary_html(const struct arb_resend_summary *s,
                             const struct arb_conversation_view *view, struct arb_buf *out)
{
    const struct arb_page_search search = {s->call_id, view->from, view->until};
    size_t delivered = 0, deadlettered = 0;
    for (size_t i = 0; i < s->noutcomes; i++)
        if (s->outcomes[i].status == ARB_OUTCOME_DELIVERED)
            delivered++;
        else if (s->outcomes[i].status == ARB_OUTCOME_DEADLETTERED)
            deadlettered++; /* a re-send skips nothing */

    arb_page_begin(out, "Re-send", &search);
    arb_buf_printf(out, "<section class=\"resend-result\" data-ok=\"%s\" data-sent=\"%llu\" "
                        "data-delivered=\"%zu\" data-deadlettered=\"%zu\"><h1>",
                   s->error == NULL ? "true" : "false", (unsigned long long)s->matched,
                   delivered, deadlettered);
    arb_buf_puts(out, s->error == NULL ? "Re-sent" : "Re-send failed");
    arb_buf_puts(out, "</h1>");
    if (s->error != NULL) {
        arb_buf_puts(out, "<p class=\"notice problem\">");
        arb_html_puts(out, s->error);
        arb_buf_puts(out, "</p>");
    }
    arb_buf_printf(out, "<p class=\"summary\">%llu of the %zu planned message%s sent: %zu "
                        "delivered, %zu dead-lettered.</p><ol class=\"resent\">",
                   (unsigned long long)s->matched, s->planned, s->planned == 1 ? "" : "s",
                   delivered, deadlettered);
    for (size_t i = 0; i < s->noutcomes; i++) {
        const struct arb_outcome *o = &s->outcomes[i];
        arb_buf_printf(out, "<li data-offset=\"%lld\" data-status=\"%s\"><span class=\"where\">",
                       (long long)o->offset, arb_outcome_status_name(o->status));
        arb_html_puts(out, o->topic);
        arb_buf_printf(out, "/%d/%lld</span> ", (int)o->partition, (long long)o->offset);
        if (nonempty(o->msg_id)) {
            arb_buf_puts(out, "<code>");
            arb_html_puts(out, o->msg_id);
            arb_buf_puts(out, "</code> ");
        }
        outcome_line(out, o);
        arb_buf_puts(out, "</li>");
    }
    arb_buf_puts(out, "</ol><p><a class=\"back\" href=\"");
    query_link(out, "/conversation", s->call_id, view);
    arb_buf_puts(out, "\">Back to the conversation</a></p></section>");
    arb_page_end(out);
}

void arb_resend_summary_json(const struct arb_resend_summary *s, struct arb_buf *out)
{
    json_t *outcomes = json_array();
    for (size_t i = 0; i < s->noutcomes; i++)
        json_array_append_new(outcomes, outcome_json(&s->outcomes[i]));
    json_t *doc = json_object();
    json_object_set_new(doc, "call_id", nullable_string(s->call_id));
    json_object_set_new(doc, "ok", json_boolean(s->error == NULL));
    json_object_set_new(doc, "error", nullable_string(s->error));
    json_object_set_new(doc, "planned", json_integer((json_int_t)s->planned));
    json_object_set_new(doc, "sent", json_integer((json_int_t)s->matched));
    json_object_set_new(doc, "outcomes", outcomes);
    put_json(out, doc);
}
