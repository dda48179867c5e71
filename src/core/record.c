/* record.c - event to records, and back (see record.h).
 *
 * The envelope (every top-level field but messages) is serialised once per event; each
 * record's value is that text with its closing brace replaced by the message and the three
 * counters. Jansson keeps object members in insertion order and writes UTF-8 unescaped, so
 * field order and non-ASCII text survive. */
#include "arb/record.h"
#include "arb/buf.h"
#include "arb/mem.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(17))

/* SHA-256 fetched once: OpenSSL 3's SHA256() looks the algorithm up on every call. */
static EVP_MD *sha256;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void)
{
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void arb_request_id(const void *body, size_t len, char out[ARB_REQUEST_ID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char digest[EVP_MAX_MD_SIZE];
    pthread_once(&sha256_once, fetch_sha256);
    if (sha256 == NULL || !EVP_Digest(body, len, digest, NULL, sha256, NULL))
        SHA256(body, len, digest);
    for (size_t i = 0; i < ARB_REQUEST_ID_LEN / 2; i++) {
        out[2 * i] = hex[digest[i] >> 4];
        out[2 * i + 1] = hex[digest[i] & 0xf];
    }
    out[ARB_REQUEST_ID_LEN] = '\0';
}

static void add_header(struct arb_record *record, const char *name, const char *value)
{
    if (value == NULL || record->nheaders == ARB_RECORD_HEADERS_MAX)
        return;
    record->headers[record->nheaders].name = name;
    record->headers[record->nheaders].value = value;
    record->headers[record->nheaders].len = strlen(value);
    record->nheaders++;
}

static const char *member_string(const json_t *object, const char *key)
{
    return json_string_value(json_object_get(object, key));
}

static void set_headers(struct arb_recordset *set, struct arb_record *record,
                        const json_t *message)
{
    add_header(record, "airudder-event", member_string(set->event, "event"));
    add_header(record, "airudder-call-id", set->key);
    add_header(record, "airudder-msg-id", member_string(message, "msg_id"));
    add_header(record, "airudder-sender-type", member_string(message, "sender_type"));
    add_header(record, "airudder-content-type",
               member_string(json_object_get(message, "content"), "type"));
    add_header(record, "airudder-request-id", set->request_id);
    add_header(record, "airudder-received-at", set->received_at);
}

/* The event's top-level members without messages, as compact JSON without its closing '}'. */
static char *dump_envelope(json_t *event, size_t count, size_t *len)
{
    json_t *envelope = event;
    if (count > 0) {
        const char *key;
        json_t *value;
        envelope = json_object();
        json_object_foreach(event, key, value)
            if (strcmp(key, "messages") != 0)
                json_object_set(envelope, key, value);
    }
    char *text = json_dumps(envelope, DUMP_FLAGS);
    if (envelope != event)
        json_decref(envelope);
    if (text == NULL)
        return NULL;
    *len = strlen(text) - 1; /* drop the closing brace */
    return text;
}

/* Serialise value at the end of buf, straight into its memory. */
static void append_json(struct arb_buf *buf, const json_t *value)
{
    size_t room = buf->cap - buf->len - 1;
    size_t need = json_dumpb(value, buf->data + buf->len, room, DUMP_FLAGS);
    if (need > room) {
        arb_buf_reserve(buf, need);
        json_dumpb(value, buf->data + buf->len, need, DUMP_FLAGS);
    }
    buf->len += need;
    buf->data[buf->len] = '\0';
}

static void build_value(struct arb_record *record, const char *envelope, size_t envelope_len,
                        const json_t *message, size_t index, size_t count, int64_t received_at)
{
    struct arb_buf value;
    arb_buf_init(&value);
    arb_buf_reserve(&value, envelope_len + 2048);
    arb_buf_append(&value, envelope, envelope_len);
    if (message != NULL) {
        arb_buf_puts(&value, ",\"message\":");
        append_json(&value, message);
        arb_buf_puts(&value, ",\"message_index\":");
        arb_buf_append_u64(&value, index);
    }
    arb_buf_puts(&value, ",\"message_count\":");
    arb_buf_append_u64(&value, count);
    arb_buf_puts(&value, ",\"received_at\":");
    arb_buf_append_u64(&value, (uint64_t)received_at);
    arb_buf_puts(&value, "}");
    record->value = arb_buf_detach(&value, &record->value_len);
}

int arb_recordset_new(json_t *event, const char *topic, const char *request_id,
                      int64_t received_at_ms, struct arb_recordset **out, struct arb_error *err)
{
    json_t *messages = json_object_get(event, "messages");
    size_t count = json_array_size(messages); /* 0 when absent */
    size_t envelope_len = 0;
    char *envelope = NULL;
    struct arb_recordset *set = NULL;

    *out = NULL;
    envelope = dump_envelope(event, count, &envelope_len);
    if (envelope == NULL)
        return arb_error_set(err, ARB_E_SCHEMA, "$: cannot serialise event");

    set = arb_xcalloc(1, sizeof(*set));
    set->event = json_incref(event);
    set->key = member_string(event, "call_id");
    set->key_len = strlen(set->key);
    snprintf(set->topic, sizeof(set->topic), "%s", topic);
    snprintf(set->request_id, sizeof(set->request_id), "%s", request_id);
    snprintf(set->received_at, sizeof(set->received_at), "%" PRId64, received_at_ms);
    set->received_at_ms = received_at_ms;
    set->count = count > 0 ? count : 1;
    set->records = arb_xcalloc(set->count, sizeof(*set->records));

    for (size_t i = 0; i < set->count; i++) {
        const json_t *message = count > 0 ? json_array_get(messages, i) : NULL;
        build_value(&set->records[i], envelope, envelope_len, message, i, count,
                    received_at_ms);
        set_headers(set, &set->records[i], message);
    }
    free(envelope);
    *out = set;
    return 0;
}

void arb_recordset_destroy(struct arb_recordset *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; set->records != NULL && i < set->count; i++)
        free(set->records[i].value);
    free(set->records);
    json_decref(set->event);
    free(set);
}

json_t *arb_record_rebuild_event(const char *value, size_t len, struct arb_error *err)
{
    json_error_t jerr;
    json_t *record = json_loadb(value, len, 0, &jerr);
    if (record == NULL || !json_is_object(record)) {
        json_decref(record);
        arb_error_set(err, ARB_E_JSON, "record value is not a JSON object");
        return NULL;
    }
    json_t *message = json_incref(json_object_get(record, "message"));
    json_object_del(record, "message");
    json_object_del(record, "message_index");
    json_object_del(record, "message_count");
    json_object_del(record, "received_at");
    if (message != NULL)
        json_object_set_new(record, "messages", json_pack("[o]", message));
    return record;
}
