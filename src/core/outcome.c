/* outcome.c - the delivery log's record, written and read back (see outcome.h). */
#include "arb/outcome.h"

#include <stdlib.h>
#include <string.h>

#define DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)

const char *arb_outcome_status_name(enum arb_outcome_status status)
{
    return status == ARB_OUTCOME_DELIVERED ? "delivered" : "dead-lettered";
}

/* A string, or null when absent or not UTF-8 (json_stringn refuses invalid UTF-8). */
static json_t *string_or_null(const char *s, size_t len)
{
    json_t *value = s != NULL ? json_stringn(s, len) : NULL;
    return value != NULL ? value : json_null();
}

static json_t *cstring_or_null(const char *s)
{
    return string_or_null(s, s != NULL ? strlen(s) : 0);
}

static json_t *time_or_null(int64_t ms)
{
    return ms > 0 ? json_integer((json_int_t)ms) : json_null();
}

void arb_outcome_encode(const struct arb_outcome *o, struct arb_buf *out)
{
    json_t *obj = json_object();
    json_object_set_new(obj, "v", json_integer(ARB_OUTCOME_VERSION));
    json_object_set_new(obj, "status", json_string(arb_outcome_status_name(o->status)));
    json_object_set_new(obj, "mode", json_string(o->mode != NULL ? o->mode : "service"));
    json_object_set_new(obj, "call_id", string_or_null(o->call_id, o->call_id_len));
    json_object_set_new(obj, "topic", cstring_or_null(o->topic));
    json_object_set_new(obj, "partition", json_integer(o->partition));
    json_object_set_new(obj, "offset", json_integer((json_int_t)o->offset));
    json_object_set_new(obj, "msg_id", cstring_or_null(o->msg_id));
    json_object_set_new(obj, "idempotency_key", cstring_or_null(o->idempotency_key));
    json_object_set_new(obj, "attempts", json_integer(o->attempts));
    json_object_set_new(obj, "desk_status", json_integer(o->desk_status));
    json_object_set_new(obj, "desk_error", cstring_or_null(o->desk_error));
    json_object_set_new(obj, "reason", cstring_or_null(o->reason));
    json_object_set_new(obj, "first_attempt_at", time_or_null(o->first_attempt_ms));
    json_object_set_new(obj, "last_attempt_at", time_or_null(o->last_attempt_ms));
    json_object_set_new(obj, "done_at", time_or_null(o->done_ms));
    char *text = json_dumps(obj, DUMP_FLAGS);
    if (text != NULL)
        arb_buf_puts(out, text);
    free(text);
    json_decref(obj);
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
