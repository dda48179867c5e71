/* event.c - JSON parsing and schema validation of AIRudder events (rules in event.h). */
#include "arb/event.h"

#include <stdbool.h>
#include <string.h>

static const char *type_name(const json_t *value)
{
    switch (json_typeof(value)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    case JSON_NULL: return "null";
    }
    return "value";
}

static int expect_type(const json_t *value, json_type type, const char *want, const char *path,
                       struct arb_error *err)
{
    if (json_typeof(value) == type)
        return 0;
    return arb_error_set(err, ARB_E_SCHEMA, "%s: expected %s, got %s", path, want,
                         type_name(value));
}

/* A required non-empty string member. */
static int require_string(const json_t *object, const char *key, struct arb_error *err)
{
    const json_t *value = json_object_get(object, key);
    if (value == NULL)
        return arb_error_set(err, ARB_E_SCHEMA, "%s: missing", key);
    if (expect_type(value, JSON_STRING, "string", key, err) != 0)
        return -1;
    if (json_string_length(value) == 0)
        return arb_error_set(err, ARB_E_SCHEMA, "%s: must not be empty", key);
    return 0;
}

#define NO_INDEX ((size_t)-1)

/* The path of key in the event, or in messages[index] (index NO_INDEX for the top level).
 * Built only when there is something to report. */
static const char *path_of(char *out, size_t size, size_t index, const char *key)
{
    if (index == NO_INDEX)
        snprintf(out, size, "%s", key);
    else if (key == NULL)
        snprintf(out, size, "messages[%zu]", index);
    else
        snprintf(out, size, "messages[%zu].%s", index, key);
    return out;
}

/* An optional member of a given type, of the event or of messages[index]. */
static int optional_type(const json_t *object, const char *key, json_type type,
                         const char *want, size_t index, struct arb_error *err)
{
    const json_t *value = json_object_get(object, key);
    char path[96];
    if (value == NULL || json_typeof(value) == type)
        return 0;
    return expect_type(value, type, want, path_of(path, sizeof(path), index, key), err);
}

static int validate_message(const json_t *message, size_t index, struct arb_error *err)
{
    char path[96];
    if (!json_is_object(message))
        return expect_type(message, JSON_OBJECT, "object",
                           path_of(path, sizeof(path), index, NULL), err);
    const json_t *content = json_object_get(message, "content");
    if (content == NULL)
        return arb_error_set(err, ARB_E_SCHEMA, "%s: missing",
                             path_of(path, sizeof(path), index, "content"));
    if (!json_is_object(content))
        return expect_type(content, JSON_OBJECT, "object",
                           path_of(path, sizeof(path), index, "content"), err);
    if (optional_type(message, "msg_id", JSON_STRING, "string", index, err) != 0 ||
        optional_type(message, "sender_type", JSON_STRING, "string", index, err) != 0 ||
        optional_type(message, "timestamp", JSON_INTEGER, "integer", index, err) != 0)
        return -1;
    return 0;
}

static int validate_user(const json_t *event, struct arb_error *err)
{
    const json_t *user = json_object_get(event, "user");
    if (user == NULL)
        return 0;
    if (expect_type(user, JSON_OBJECT, "object", "user", err) != 0)
        return -1;
    const json_t *id = json_object_get(user, "id");
    if (id == NULL || json_is_string(id))
        return 0;
    return expect_type(id, JSON_STRING, "string", "user.id", err);
}

static int validate_messages(const json_t *event, struct arb_error *err)
{
    const json_t *messages = json_object_get(event, "messages");
    if (messages == NULL)
        return 0;
    if (expect_type(messages, JSON_ARRAY, "array", "messages", err) != 0)
        return -1;
    for (size_t i = 0; i < json_array_size(messages); i++)
        if (validate_message(json_array_get(messages, i), i, err) != 0)
            return -1;
    return 0;
}

/* The bridge adds these to every record; an event carrying one could not be told apart. */
static int reject_reserved(const json_t *event, struct arb_error *err)
{
    static const char *const reserved[] = {"message", "message_index", "message_count",
                                           "received_at"};
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (json_object_get(event, reserved[i]) != NULL)
            return arb_error_set(err, ARB_E_SCHEMA,
                                 "%s: reserved name (the bridge adds it to every record)",
                                 reserved[i]);
    return 0;
}

int arb_event_validate(const json_t *event, struct arb_error *err)
{
    static const char *const string_fields[] = {"company", "channel", "channel_id", "custom"};

    if (!json_is_object(event))
        return arb_error_set(err, ARB_E_SCHEMA, "$: expected object, got %s", type_name(event));
    if (reject_reserved(event, err) != 0)
        return -1;
    if (require_string(event, "event", err) != 0 || require_string(event, "call_id", err) != 0)
        return -1;
    for (size_t i = 0; i < sizeof(string_fields) / sizeof(string_fields[0]); i++)
        if (optional_type(event, string_fields[i], JSON_STRING, "string", NO_INDEX, err) != 0)
            return -1;
    if (validate_user(event, err) != 0)
        return -1;
    return validate_messages(event, err);
}

/* Jansson's text may quote the offending token ("... near 'abc'"); keep only the problem. */
static void strip_near(char *text)
{
    char *near = strstr(text, " near ");
    if (near != NULL)
        *near = '\0';
}

int arb_event_parse(const void *body, size_t len, json_t **out, struct arb_error *err)
{
    json_error_t jerr;
    json_t *event = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);

    *out = NULL;
    if (event == NULL) {
        strip_near(jerr.text);
        return arb_error_set(err, ARB_E_JSON, "line %d column %d: %s", jerr.line, jerr.column,
                             jerr.text);
    }
    if (arb_event_validate(event, err) != 0) {
        json_decref(event);
        return -1;
    }
    *out = event;
    return 0;
}

const char *arb_event_call_id(const json_t *event)
{
    const char *call_id = json_string_value(json_object_get(event, "call_id"));
    return (call_id != NULL && call_id[0] != '\0') ? call_id : NULL;
}

char *arb_event_peek_call_id(const void *body, size_t len)
{
    json_t *any = json_loadb(body, len, JSON_DECODE_ANY, NULL);
    const char *call_id = arb_event_call_id(any);
    char *copy = call_id ? strdup(call_id) : NULL;
    json_decref(any);
    return copy;
}
