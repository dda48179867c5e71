/* outcome.c - the delivery log's record, written and read back (see outcome.h). */
#include "arb/outcome.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


const char *arb_outcome_status_name(enum arb_outcome_status status)
{
    switch (status) {
    case ARB_OUTCOME_DELIVERED: return "delivered";
    case ARB_OUTCOME_DEADLETTERED: return "dead-lettered";
    case ARB_OUTCOME_SKIPPED: return "skipped";
    }
    return "dead-lettered";
}

/* Encoding is written by hand, not with Jansson: it runs once per delivery on the
 * replay's loop, and building and dumping a tree would cost it several times more. */

/* Valid UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF)? */
static bool utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

/* "name": then the string, escaped, or null when absent or not UTF-8. */
static void put_string(struct arb_buf *out, const char *name, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    arb_buf_printf(out, ",\"%s\":", name);
    if (s == NULL || !utf8_valid((const unsigned char *)s, len)) {
        arb_buf_puts(out, "null");
        return;
    }
    arb_buf_puts(out, "\"");
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        arb_buf_append(out, s + start, i - start);
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            arb_buf_append(out, esc, 2);
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            arb_buf_append(out, esc, 6);
        }
        start = i + 1;
    }
    arb_buf_append(out, s + start, len - start);
    arb_buf_puts(out, "\"");
}

static void put_cstring(struct arb_buf *out, const char *name, const char *s)
{
    put_string(out, name, s, s != NULL ? strlen(s) : 0);
}

static void put_integer(struct arb_buf *out, const char *name, long long value)
{
    arb_buf_printf(out, ",\"%s\":%lld", name, value);
}

static void put_time(struct arb_buf *out, const char *name, int64_t ms)
{
    if (ms > 0)
        put_integer(out, name, (long long)ms);
    else
        arb_buf_printf(out, ",\"%s\":null", name);
}

void arb_outcome_encode(const struct arb_outcome *o, struct arb_buf *out)
{
    arb_buf_printf(out, "{\"v\":%d", ARB_OUTCOME_VERSION);
    put_cstring(out, "status", arb_outcome_status_name(o->status));
    put_cstring(out, "mode", o->mode != NULL ? o->mode : "service");
    put_string(out, "call_id", o->call_id, o->call_id != NULL ? o->call_id_len : 0);
    put_cstring(out, "topic", o->topic);
    put_integer(out, "partition", o->partition);
    put_integer(out, "offset", (long long)o->offset);
    put_cstring(out, "msg_id", o->msg_id);
    put_cstring(out, "idempotency_key", o->idempotency_key);
    put_integer(out, "attempts", o->attempts);
    put_integer(out, "desk_status", o->desk_status);
    put_cstring(out, "desk_error", o->desk_error);
    put_cstring(out, "reason", o->reason);
    put_time(out, "first_attempt_at", o->first_attempt_ms);
    put_time(out, "last_attempt_at", o->last_attempt_ms);
    put_time(out, "done_at", o->done_ms);
    arb_buf_puts(out, "}");
}

static const char *string_of(json_t *obj, const char *name)
{
    return json_string_value(json_object_get(obj, name)); /* NULL unless a string */
}

static int64_t integer_of(json_t *obj, const char *name)
{
    json_t *value = json_object_get(obj, name);
    return json_is_integer(value) ? (int64_t)json_integer_value(value) : 0;
}

int arb_outcome_parse(const char *value, size_t len, struct arb_outcome_parsed *out,
                      struct arb_error *err)
{
    json_error_t jerr;
    memset(out, 0, sizeof(*out));
    json_t *obj = json_loadb(value != NULL ? value : "", len, 0, &jerr);
    if (!json_is_object(obj)) {
        json_decref(obj);
        return arb_error_set(err, ARB_E_JSON, "not a JSON object");
    }
    json_t *partition = json_object_get(obj, "partition"), *offset = json_object_get(obj, "offset");
    const char *status = string_of(obj, "status");
    struct arb_outcome *o = &out->outcome;
    if (integer_of(obj, "v") != ARB_OUTCOME_VERSION || status == NULL ||
        string_of(obj, "topic") == NULL || !json_is_integer(partition) ||
        !json_is_integer(offset) || json_integer_value(partition) < 0 ||
        json_integer_value(partition) > INT32_MAX || json_integer_value(offset) < 0) {
        json_decref(obj);
        return arb_error_set(err, ARB_E_SCHEMA, "not a delivery-log record of version %d",
                             ARB_OUTCOME_VERSION);
    }
    if (strcmp(status, "delivered") == 0) {
        o->status = ARB_OUTCOME_DELIVERED;
    } else if (strcmp(status, "dead-lettered") == 0) {
        o->status = ARB_OUTCOME_DEADLETTERED;
    } else if (strcmp(status, "skipped") == 0) {
        o->status = ARB_OUTCOME_SKIPPED;
    } else {
        json_decref(obj);
        return arb_error_set(err, ARB_E_SCHEMA, "unknown status");
    }
    o->mode = string_of(obj, "mode");
    o->call_id = string_of(obj, "call_id");
    o->call_id_len = o->call_id != NULL ? strlen(o->call_id) : 0;
    o->topic = string_of(obj, "topic");
    o->partition = (int32_t)json_integer_value(partition);
    o->offset = (int64_t)json_integer_value(offset);
    o->msg_id = string_of(obj, "msg_id");
    o->idempotency_key = string_of(obj, "idempotency_key");
    int64_t attempts = integer_of(obj, "attempts");
    o->attempts = attempts > 0 && attempts < UINT32_MAX ? (unsigned)attempts : 0;
    o->desk_status = (long)integer_of(obj, "desk_status");
    o->desk_error = string_of(obj, "desk_error");
    o->reason = string_of(obj, "reason");
    o->first_attempt_ms = integer_of(obj, "first_attempt_at");
    o->last_attempt_ms = integer_of(obj, "last_attempt_at");
    o->done_ms = integer_of(obj, "done_at");
    out->json = obj;
    return 0;
}

void arb_outcome_parsed_clear(struct arb_outcome_parsed *parsed)
{
    if (parsed == NULL)
        return;
    json_decref(parsed->json);
    memset(parsed, 0, sizeof(*parsed));
}
