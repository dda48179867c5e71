/* record.c - event to records by splicing (see record.h).
 *
 * The envelope is the list of top-level members to copy; each record's value is "{",
 * those members' bytes joined by commas, the message element's bytes, and the counters the
 * bridge adds. The plan walks the same lists to count the bytes, so the build writes into
 * one block of exactly that size: the set, its records, then the values and the text of the
 * headers (copied: the index's strings die with the next scan). */
#include "arb/record.h"
#include "arb/buf.h"
#include "arb/mem.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MESSAGE_KEY ",\"message\":"
#define INDEX_KEY ",\"message_index\":"
#define COUNT_KEY ",\"message_count\":"
#define RECEIVED_KEY ",\"received_at\":"
#define LIT(s) (sizeof(s) - 1)

void arb_request_id(void *sha256, const void *body, size_t len, char out[ARB_REQUEST_ID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char digest[EVP_MAX_MD_SIZE];
    EVP_MD_CTX *ctx = sha256;
    if (ctx == NULL || !EVP_DigestInit_ex2(ctx, NULL, NULL) || !EVP_DigestUpdate(ctx, body, len) ||
        !EVP_DigestFinal_ex(ctx, digest, NULL))
        SHA256(body, len, digest);
    for (size_t i = 0; i < ARB_REQUEST_ID_LEN / 2; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 0xf];
    }
    out[ARB_REQUEST_ID_LEN] = '\0';
}

/* ---- what a record is made of ---- */

static size_t digits(uint64_t value)
{
    size_t n = 1;
    while (value >= 10) {
        value /= 10;
        n++;
    }
    return n;
}

/* The messages that make records: the array's elements, when it has any. */
static size_t message_count(const struct arb_event *event)
{
    return event->messages != NULL && event->messages->type == ARB_JSON_ARRAY
               ? event->messages->children
               : 0;
}

/* Whether a top-level member goes into every record (messages does not, when it splits). */
static bool in_envelope(const struct arb_json_node *member, size_t count)
{
    return count == 0 || member->key_len != LIT("messages") ||
           memcmp(member->key, "messages", LIT("messages")) != 0;
}

static size_t envelope_bytes(const struct arb_event *event, size_t count)
{
    size_t bytes = 0, members = 0;
    for (const struct arb_json_node *m = arb_json_first(event->index, &event->index->nodes[0]);
         m != NULL; m = arb_json_next(event->index, m))
        if (in_envelope(m, count)) {
            bytes += m->end - m->key_start;
            members++;
        }
    return bytes + (members > 0 ? members - 1 : 0); /* the commas between */
}

static const struct arb_json_node *string_at(const struct arb_json_index *index,
                                             const struct arb_json_node *object,
                                             const char *key)
{
    const struct arb_json_node *value = arb_json_member(index, object, key);
    return value != NULL && value->type == ARB_JSON_STRING ? value : NULL;
}

/* The per-message header values: msg_id, sender_type, content.type (each may be NULL). */
struct message_headers {
    const struct arb_json_node *msg_id, *sender_type, *content_type;
};

static void message_headers(const struct arb_event *event, const struct arb_json_node *message,
                            struct message_headers *out)
{
    const struct arb_json_index *index = event->index;
    out->msg_id = string_at(index, message, "msg_id");
    out->sender_type = string_at(index, message, "sender_type");
    out->content_type = string_at(index, arb_json_member(index, message, "content"), "type");
}

static size_t text_len(const struct arb_json_node *node)
{
    return node != NULL ? node->text_len : 0;
}

static size_t message_header_bytes(const struct message_headers *h)
{
    return text_len(h->msg_id) + text_len(h->sender_type) + text_len(h->content_type);
}

/* Header names and the values every record shares, as Kafka counts them. */
static size_t shared_header_bytes(const struct arb_event *event)
{
    static const size_t names = LIT("airudder-event") + LIT("airudder-call-id") +
                                LIT("airudder-msg-id") + LIT("airudder-sender-type") +
                                LIT("airudder-content-type") + LIT("airudder-request-id") +
                                LIT("airudder-received-at");
    return names + event->name_len + event->call_id->text_len + ARB_REQUEST_ID_LEN + 20;
}

static size_t value_len(size_t envelope, const struct arb_json_node *message, size_t index,
                        size_t count, int64_t received_at)
{
    size_t len = 1 + envelope + LIT(COUNT_KEY) + digits(count) + LIT(RECEIVED_KEY) +
                 digits((uint64_t)received_at) + 1;
    if (message != NULL)
        len += LIT(MESSAGE_KEY) + (message->end - message->start) + LIT(INDEX_KEY) +
               digits(index);
    return len;
}

/* ---- the plan ---- */

void arb_records_plan(const struct arb_event *event, int64_t received_at_ms,
                      struct arb_record_plan *plan)
{
    size_t count = message_count(event);
    size_t envelope = envelope_bytes(event, count);
    size_t shared = shared_header_bytes(event);
    const struct arb_json_node *message = count > 0 ? arb_json_first(event->index, event->messages)
                                                    : NULL;

    memset(plan, 0, sizeof(*plan));
    plan->count = count > 0 ? count : 1;
    plan->bytes = event->name_len + event->call_id->text_len;
    for (size_t i = 0; i < plan->count; i++) {
        struct message_headers h = {0};
        if (message != NULL)
            message_headers(event, message, &h);
        size_t value = value_len(envelope, message, i, count, received_at_ms);
        size_t record = value + event->call_id->text_len + shared + message_header_bytes(&h) +
                        ARB_RECORD_OVERHEAD;
        plan->bytes += value + message_header_bytes(&h);
        if (record > plan->largest) {
            plan->largest = record;
            plan->largest_index = i;
        }
        if (message != NULL)
            message = arb_json_next(event->index, message);
    }
}

/* ---- the build ---- */

struct writer {
    char *p;
};

static void put(struct writer *w, const void *bytes, size_t len)
{
    memcpy(w->p, bytes, len);
    w->p += len;
}

static void put_u64(struct writer *w, uint64_t value)
{
    char text[24];
    size_t n = digits(value);
    for (size_t i = n; i > 0; i--) {
        text[i - 1] = (char)('0' + value % 10);
        value /= 10;
    }
    put(w, text, n);
}

static void add_header(struct arb_record *record, const char *name, const char *value,
                       size_t len)
{
    if (value != NULL)
        record->headers[record->nheaders++] = (struct arb_header){name, value, len};
}

/* Copy a string node's text into the block; NULL for no node. */
static const char *copy_text(struct writer *w, const struct arb_json_node *node)
{
    const char *at = w->p;
    if (node == NULL)
        return NULL;
    put(w, node->text, node->text_len);
    return at;
}

static void put_envelope(const struct arb_event *event, size_t count, struct writer *w)
{
    bool first = true;
    for (const struct arb_json_node *m = arb_json_first(event->index, &event->index->nodes[0]);
         m != NULL; m = arb_json_next(event->index, m)) {
        if (!in_envelope(m, count))
            continue;
        if (!first)
            put(w, ",", 1);
        put(w, event->body + m->key_start, m->end - m->key_start);
        first = false;
    }
}

static void build_value(const struct arb_event *event, struct arb_record *record,
                        const struct arb_json_node *message, size_t index, size_t count,
                        int64_t received_at, struct writer *w)
{
    record->value = w->p;
    put(w, "{", 1);
    put_envelope(event, count, w);
    if (message != NULL) {
        put(w, MESSAGE_KEY, LIT(MESSAGE_KEY));
        put(w, event->body + message->start, message->end - message->start);
        put(w, INDEX_KEY, LIT(INDEX_KEY));
        put_u64(w, index);
    }
    put(w, COUNT_KEY, LIT(COUNT_KEY));
    put_u64(w, count);
    put(w, RECEIVED_KEY, LIT(RECEIVED_KEY));
    put_u64(w, (uint64_t)received_at);
    put(w, "}", 1);
    record->value_len = (size_t)(w->p - record->value);
}

/* src into out, cut to fit (the callers' texts were checked to fit already). */
static void copy_string(char *out, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);
    memcpy(out, src, n);
    out[n] = '\0';
}

struct arb_recordset *arb_records_build(const struct arb_event *event,
                                        const struct arb_record_plan *plan, const char *topic,
                                        const char *request_id, int64_t received_at_ms)
{
    size_t count = message_count(event);
    size_t head = sizeof(struct arb_recordset) + plan->count * sizeof(struct arb_record);
    struct arb_recordset *set = arb_xcalloc(1, head + plan->bytes);
    struct writer w = {(char *)set + head};
    const char *name = NULL;
    const struct arb_json_node *message =
        count > 0 ? arb_json_first(event->index, event->messages) : NULL;

    copy_string(set->topic, sizeof(set->topic), topic);
    copy_string(set->request_id, sizeof(set->request_id), request_id);
    arb_u64_text(received_at_ms > 0 ? (uint64_t)received_at_ms : 0, set->received_at);
    set->received_at_ms = received_at_ms;
    set->count = plan->count;
    set->bytes = plan->bytes;
    set->key = w.p;
    set->key_len = event->call_id->text_len;
    put(&w, event->call_id->text, event->call_id->text_len);
    if (event->name != NULL) {
        name = w.p;
        put(&w, event->name, event->name_len);
    }
    for (size_t i = 0; i < set->count; i++) {
        struct arb_record *record = &set->records[i];
        struct message_headers h = {0};
        if (message != NULL)
            message_headers(event, message, &h);
        build_value(event, record, message, i, count, received_at_ms, &w);
        add_header(record, "airudder-event", name, event->name_len);
        add_header(record, "airudder-call-id", set->key, set->key_len);
        add_header(record, "airudder-msg-id", copy_text(&w, h.msg_id), text_len(h.msg_id));
        add_header(record, "airudder-sender-type", copy_text(&w, h.sender_type),
                   text_len(h.sender_type));
        add_header(record, "airudder-content-type", copy_text(&w, h.content_type),
                   text_len(h.content_type));
        add_header(record, "airudder-request-id", set->request_id, ARB_REQUEST_ID_LEN);
        add_header(record, "airudder-received-at", set->received_at, strlen(set->received_at));
        if (message != NULL)
            message = arb_json_next(event->index, message);
    }
    return set;
}

void arb_recordset_destroy(struct arb_recordset *set)
{
    free(set);
}
