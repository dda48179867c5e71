/* reference.c - the Jansson oracle (see reference.h): a tree, checked and serialised again,
 * the way the bridge worked before its fast path. */
#include "reference.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

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

static int problem(struct ref_result *out, const char *fmt, const char *a, const char *b,
                   const char *c)
{
    snprintf(out->problem, sizeof(out->problem), fmt, a, b, c);
    out->status = 422;
    return -1;
}

/* A typed member of object at path; required strings must not be empty. */
static int field(struct ref_result *out, const json_t *object, const char *path,
                 const char *key, json_type type, bool required)
{
    static const char *const names[] = {[JSON_OBJECT] = "object", [JSON_ARRAY] = "array",
                                        [JSON_STRING] = "string", [JSON_INTEGER] = "integer"};
    char full[160];
    const json_t *value = json_object_get(object, key);
    snprintf(full, sizeof(full), "%s%s%s", path, path[0] ? "." : "", key);
    if (value == NULL)
        return required ? problem(out, "%s: missing", full, "", "") : 0;
    if (json_typeof(value) != type)
        return problem(out, "%s: expected %s, got %s", full, names[type], type_name(value));
    if (required && type == JSON_STRING && json_string_length(value) == 0)
        return problem(out, "%s: must not be empty", full, "", "");
    return 0;
}

struct rule {
    const char *key;
    json_type type;
    bool required;
};

static int rules(struct ref_result *out, const json_t *object, const char *path,
                 const struct rule *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (field(out, object, path, list[i].key, list[i].type, list[i].required) != 0)
            return -1;
    return 0;
}

static const struct rule chat_rules[] = {
    {"event", JSON_STRING, true},   {"call_id", JSON_STRING, true},
    {"company", JSON_STRING, false}, {"channel", JSON_STRING, false},
    {"channel_id", JSON_STRING, false}, {"custom", JSON_STRING, false},
    {"user", JSON_OBJECT, false},
};
static const struct rule workflow_rules[] = {
    {"call_id", JSON_STRING, true},           {"workflow_id", JSON_STRING, false},
    {"workflow_name", JSON_STRING, false},    {"nodetask_id", JSON_STRING, false},
    {"nodetask_name", JSON_STRING, false},    {"waba_task_id", JSON_STRING, false},
    {"wfdetail_uuid", JSON_STRING, false},    {"timestamp", JSON_INTEGER, false},
    {"channel", JSON_STRING, false},          {"channel_id", JSON_STRING, false},
    {"callee", JSON_STRING, false},           {"robot_id", JSON_STRING, false},
    {"status", JSON_STRING, false},           {"session_start_time", JSON_STRING, false},
    {"session_end_time", JSON_STRING, false}, {"session_end_reason", JSON_STRING, false},
    {"intention", JSON_STRING, false},        {"talk_round", JSON_INTEGER, false},
    {"ner_slots", JSON_OBJECT, false},        {"event_label", JSON_OBJECT, false},
    {"variables", JSON_OBJECT, false},
};
static const struct rule chat_message_rules[] = {
    {"content", JSON_OBJECT, true}, {"msg_id", JSON_STRING, false},
    {"sender_type", JSON_STRING, false}, {"timestamp", JSON_INTEGER, false},
};
static const struct rule workflow_message_rules[] = {
    {"content", JSON_OBJECT, true},      {"msg_id", JSON_STRING, false},
    {"sender_type", JSON_STRING, false}, {"timestamp", JSON_INTEGER, false},
    {"status", JSON_STRING, false},      {"reply", JSON_OBJECT, false},
};
static const struct rule reply_rules[] = {
    {"msg_id", JSON_STRING, false}, {"sender_type", JSON_STRING, false},
    {"timestamp", JSON_INTEGER, false}, {"content", JSON_OBJECT, false},
};

static int check_messages(struct ref_result *out, const json_t *event, enum arb_schema schema)
{
    const json_t *messages = json_object_get(event, "messages");
    size_t i;
    const json_t *m;
    char path[64];
    if (messages == NULL)
        return 0;
    if (!json_is_array(messages))
        return problem(out, "messages: expected array, got %s", type_name(messages), "", "");
    if (schema == ARB_SCHEMA_GENERIC)
        return 0;
    json_array_foreach(messages, i, m) {
        snprintf(path, sizeof(path), "messages[%zu]", i);
        if (!json_is_object(m))
            return problem(out, "%s: expected object, got %s", path, type_name(m), "");
        if (schema == ARB_SCHEMA_CHANNEL_MESSAGE_SENT &&
            rules(out, m, path, chat_message_rules, COUNT(chat_message_rules)) != 0)
            return -1;
        if (schema == ARB_SCHEMA_WORKFLOW_SESSION_END) {
            if (rules(out, m, path, workflow_message_rules, COUNT(workflow_message_rules)) != 0)
                return -1;
            const json_t *reply = json_object_get(m, "reply");
            strcat(path, ".reply");
            if (reply != NULL && rules(out, reply, path, reply_rules, COUNT(reply_rules)) != 0)
                return -1;
        }
    }
    return 0;
}

static int check(struct ref_result *out, const json_t *event, enum arb_schema schema)
{
    static const char *const reserved[] = {"message", "message_index", "message_count",
                                           "received_at"};
    if (!json_is_object(event))
        return problem(out, "$: expected object, got %s", type_name(event), "", "");
    for (size_t i = 0; i < COUNT(reserved); i++)
        if (json_object_get(event, reserved[i]) != NULL)
            return problem(out, "%s: reserved name (the bridge adds it to every record)",
                           reserved[i], "", "");
    if (schema != ARB_SCHEMA_CHANNEL_MESSAGE_SENT && json_object_get(event, "event") != NULL &&
        field(out, event, "", "event", JSON_STRING, true) != 0)
        return -1;
    if (schema == ARB_SCHEMA_CHANNEL_MESSAGE_SENT) {
        if (rules(out, event, "", chat_rules, COUNT(chat_rules)) != 0)
            return -1;
        const json_t *id = json_object_get(json_object_get(event, "user"), "id");
        if (id != NULL && !json_is_string(id))
            return problem(out, "user.id: expected string, got %s", type_name(id), "", "");
    } else if (schema == ARB_SCHEMA_WORKFLOW_SESSION_END) {
        if (rules(out, event, "", workflow_rules, COUNT(workflow_rules)) != 0)
            return -1;
    } else if (field(out, event, "", "call_id", JSON_STRING, true) != 0) {
        return -1;
    }
    return check_messages(out, event, schema);
}

/* ---- routing: the first route for the name; placeholders made safe ---- */

static bool topic_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '_' || c == '-';
}

static void put_safe(char *out, size_t *len, const char *value)
{
    if (value == NULL || *value == '\0')
        value = "unknown";
    for (; *value && *len < ARB_TOPIC_MAX; value++)
        if (((unsigned char)*value & 0xc0) != 0x80)
            out[(*len)++] = topic_char(*value) ? *value : '_';
}

static int route(struct ref_result *out, const json_t *event, const char *name,
                 const struct arb_route *routes, size_t nroutes)
{
    const struct arb_route *r = NULL;
    size_t len = 0;
    for (size_t i = 0; i < nroutes && r == NULL; i++)
        if (strcmp(routes[i].event, "*") == 0 || strcmp(routes[i].event, name) == 0)
            r = &routes[i];
    if (r == NULL) {
        snprintf(out->problem, sizeof(out->problem), "event: no route for \"%.64s\"", name);
        out->status = 422;
        return -1;
    }
    for (const char *p = r->topic; *p && len < ARB_TOPIC_MAX; p++) {
        if (strncmp(p, "{event}", 7) == 0) {
            put_safe(out->topic, &len, name);
            p += 6;
        } else if (strncmp(p, "{channel}", 9) == 0) {
            put_safe(out->topic, &len, json_string_value(json_object_get(event, "channel")));
            p += 8;
        } else if (strncmp(p, "{company}", 9) == 0) {
            put_safe(out->topic, &len, json_string_value(json_object_get(event, "company")));
            p += 8;
        } else {
            out->topic[len++] = *p;
        }
    }
    out->topic[len] = '\0';
    if (strcmp(out->topic, ".") == 0 || strcmp(out->topic, "..") == 0) {
        snprintf(out->problem, sizeof(out->problem), "event: topic \"%s\" is not a valid name",
                 out->topic);
        out->status = 422;
        return -1;
    }
    return 0;
}

/* ---- records: a new tree per record ---- */

static void header(json_t *headers, const char *name, const json_t *value)
{
    if (json_is_string(value))
        json_object_set_new(headers, name, json_string(json_string_value(value)));
}

static json_t *record(const json_t *event, const json_t *message, size_t index, size_t count,
                      const char *name, const char *request_id, int64_t received_at)
{
    json_t *value = json_object(), *headers = json_object();
    const char *key;
    json_t *member;
    char received[24];

    json_object_foreach((json_t *)event, key, member)
        if (count == 0 || strcmp(key, "messages") != 0)
            json_object_set(value, key, member);
    if (message != NULL) {
        json_object_set(value, "message", (json_t *)message);
        json_object_set_new(value, "message_index", json_integer((json_int_t)index));
    }
    json_object_set_new(value, "message_count", json_integer((json_int_t)count));
    json_object_set_new(value, "received_at", json_integer(received_at));
    snprintf(received, sizeof(received), "%lld", (long long)received_at);
    if (name[0] != '\0')
        json_object_set_new(headers, "airudder-event", json_string(name));
    header(headers, "airudder-call-id", json_object_get(event, "call_id"));
    header(headers, "airudder-msg-id", json_object_get(message, "msg_id"));
    header(headers, "airudder-sender-type", json_object_get(message, "sender_type"));
    header(headers, "airudder-content-type",
           json_object_get(json_object_get(message, "content"), "type"));
    json_object_set_new(headers, "airudder-request-id", json_string(request_id));
    json_object_set_new(headers, "airudder-received-at", json_string(received));
    return json_pack("{s:o, s:o}", "value", value, "headers", headers);
}

int ref_ingest(const char *body, size_t len, enum arb_schema schema, const char *default_event,
               const struct arb_route *routes, size_t nroutes, const char *request_id,
               int64_t received_at_ms, struct ref_result *out)
{
    json_error_t jerr;
    /* Jansson 2.14 skips a NUL byte right after a number ({"a": 1\0} loads as {"a": 1});
     * JSON allows none outside a string, and inside one it is a control character: either
     * way the body is not JSON. */
    json_t *event = memchr(body, '\0', len) != NULL
                        ? NULL
                        : json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);

    memset(out, 0, sizeof(*out));
    if (event == NULL) {
        out->status = 400;
        return -1;
    }
    if (check(out, event, schema) != 0)
        goto fail;
    const char *name = json_string_value(json_object_get(event, "event"));
    if (name == NULL)
        name = default_event;
    if (route(out, event, name, routes, nroutes) != 0)
        goto fail;
    const json_t *messages = json_object_get(event, "messages");
    size_t count = json_array_size(messages);
    out->records = json_array();
    for (size_t i = 0; i < (count > 0 ? count : 1); i++)
        json_array_append_new(out->records,
                              record(event, count > 0 ? json_array_get(messages, i) : NULL, i,
                                     count, name, request_id, received_at_ms));
    json_decref(event);
    out->status = 200;
    return 0;
fail:
    json_decref(event);
    return -1;
}

void ref_result_clear(struct ref_result *result)
{
    json_decref(result->records);
    result->records = NULL;
}

json_t *ref_rebuild_event(const char *value, size_t len)
{
    json_t *record = json_loadb(value, len, 0, NULL);
    if (record == NULL || !json_is_object(record)) {
        json_decref(record);
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
