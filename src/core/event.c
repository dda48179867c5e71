/* event.c - the schemas of AIRudder events, checked on a body's index (rules in event.h).
 *
 * Each schema is a table of top-level fields and one of message fields, checked in table
 * order; the first problem found is the one reported, so a body gets the same answer from
 * every build. A body that is not JSON is described by Jansson (line, column, reason): that
 * is the failure path only, where speed does not matter and the words are the ones the
 * bridge always gave. */
#include "arb/event.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define NO_INDEX ((size_t)-1)

struct field {
    const char *name;
    enum arb_json_type type;
    bool required; /* and, for strings, not empty */
};

/* ---- the tables ---- */

static const struct field chat_fields[] = {
    {"event", ARB_JSON_STRING, true},   {"call_id", ARB_JSON_STRING, true},
    {"company", ARB_JSON_STRING, false}, {"channel", ARB_JSON_STRING, false},
    {"channel_id", ARB_JSON_STRING, false}, {"custom", ARB_JSON_STRING, false},
    {"user", ARB_JSON_OBJECT, false},
};

static const struct field workflow_fields[] = {
    {"call_id", ARB_JSON_STRING, true},
    {"workflow_id", ARB_JSON_STRING, false},   {"workflow_name", ARB_JSON_STRING, false},
    {"nodetask_id", ARB_JSON_STRING, false},   {"nodetask_name", ARB_JSON_STRING, false},
    {"waba_task_id", ARB_JSON_STRING, false},  {"wfdetail_uuid", ARB_JSON_STRING, false},
    {"timestamp", ARB_JSON_INTEGER, false},    {"channel", ARB_JSON_STRING, false},
    {"channel_id", ARB_JSON_STRING, false},    {"callee", ARB_JSON_STRING, false},
    {"robot_id", ARB_JSON_STRING, false},      {"status", ARB_JSON_STRING, false},
    {"session_start_time", ARB_JSON_STRING, false},
    {"session_end_time", ARB_JSON_STRING, false},
    {"session_end_reason", ARB_JSON_STRING, false},
    {"intention", ARB_JSON_STRING, false},     {"talk_round", ARB_JSON_INTEGER, false},
    {"ner_slots", ARB_JSON_OBJECT, false},     {"event_label", ARB_JSON_OBJECT, false},
    {"variables", ARB_JSON_OBJECT, false},
};

static const struct field generic_fields[] = {
    {"call_id", ARB_JSON_STRING, true},
};

static const struct field chat_message_fields[] = {
    {"msg_id", ARB_JSON_STRING, false},
    {"sender_type", ARB_JSON_STRING, false},
    {"timestamp", ARB_JSON_INTEGER, false},
};

static const struct field workflow_message_fields[] = {
    {"msg_id", ARB_JSON_STRING, false},   {"sender_type", ARB_JSON_STRING, false},
    {"timestamp", ARB_JSON_INTEGER, false}, {"status", ARB_JSON_STRING, false},
    {"reply", ARB_JSON_OBJECT, false},
};

static const struct field reply_fields[] = {
    {"msg_id", ARB_JSON_STRING, false},
    {"sender_type", ARB_JSON_STRING, false},
    {"timestamp", ARB_JSON_INTEGER, false},
    {"content", ARB_JSON_OBJECT, false},
};

struct schema {
    const struct field *fields;
    size_t nfields;
    bool event_required;
    bool messages_are_objects; /* each with an object content, and the message fields */
    const struct field *message_fields;
    size_t nmessage_fields;
};

static const struct schema schemas[] = {
    [ARB_SCHEMA_CHANNEL_MESSAGE_SENT] = {chat_fields, COUNT(chat_fields), true, true,
                                         chat_message_fields, COUNT(chat_message_fields)},
    [ARB_SCHEMA_WORKFLOW_SESSION_END] = {workflow_fields, COUNT(workflow_fields), false, true,
                                         workflow_message_fields,
                                         COUNT(workflow_message_fields)},
    [ARB_SCHEMA_GENERIC] = {generic_fields, COUNT(generic_fields), false, false, NULL, 0},
};

/* ---- checks ---- */

struct check {
    const struct arb_json_index *index;
    struct arb_error *err;
};

/* Where a value is: key in the event (index NO_INDEX), messages[index] (key NULL),
 * messages[index].key, or messages[index].parent.key. Made into text only for an error. */
struct place {
    size_t index;
    const char *parent;
    const char *key;
};

static const char *path_of(char *out, size_t size, struct place at)
{
    if (at.index == NO_INDEX)
        snprintf(out, size, "%s", at.key != NULL ? at.key : "$");
    else if (at.key == NULL)
        snprintf(out, size, "messages[%zu]", at.index);
    else if (at.parent == NULL)
        snprintf(out, size, "messages[%zu].%s", at.index, at.key);
    else
        snprintf(out, size, "messages[%zu].%s.%s", at.index, at.parent, at.key);
    return out;
}

static int refuse(struct check *c, struct place at, const char *what)
{
    char path[128];
    return arb_error_set(c->err, ARB_E_SCHEMA, "%s: %s", path_of(path, sizeof(path), at), what);
}

static int expect_type(struct check *c, const struct arb_json_node *value,
                       enum arb_json_type type, struct place at)
{
    char what[64];
    if (value->type == type)
        return 0;
    snprintf(what, sizeof(what), "expected %s, got %s", arb_json_type_name(type),
             arb_json_type_name(value->type));
    return refuse(c, at, what);
}

/* One field of object (at messages[index].parent, or the top when index is NO_INDEX). */
static int check_field(struct check *c, const struct arb_json_node *object,
                       const struct field *field, size_t index, const char *parent)
{
    const struct arb_json_node *value = arb_json_member(c->index, object, field->name);
    struct place at = {index, parent, field->name};
    if (value == NULL)
        return field->required ? refuse(c, at, "missing") : 0;
    if (expect_type(c, value, field->type, at) != 0)
        return -1;
    if (field->required && value->type == ARB_JSON_STRING && value->text_len == 0)
        return refuse(c, at, "must not be empty");
    return 0;
}

static int check_fields(struct check *c, const struct arb_json_node *object,
                        const struct field *fields, size_t n, size_t index, const char *parent)
{
    for (size_t i = 0; i < n; i++)
        if (check_field(c, object, &fields[i], index, parent) != 0)
            return -1;
    return 0;
}

/* The bridge adds these to every record; an event carrying one could not be told apart. */
static int reject_reserved(struct check *c, const struct arb_json_node *root)
{
    static const char *const reserved[] = {"message", "message_index", "message_count",
                                           "received_at"};
    for (size_t i = 0; i < COUNT(reserved); i++)
        if (arb_json_member(c->index, root, reserved[i]) != NULL)
            return arb_error_set(c->err, ARB_E_SCHEMA,
                                 "%s: reserved name (the bridge adds it to every record)",
                                 reserved[i]);
    return 0;
}

static int check_user(struct check *c, const struct arb_json_node *root)
{
    const struct arb_json_node *user = arb_json_member(c->index, root, "user");
    const struct arb_json_node *value = arb_json_member(c->index, user, "id");
    if (value == NULL || value->type == ARB_JSON_STRING)
        return 0;
    return expect_type(c, value, ARB_JSON_STRING, (struct place){NO_INDEX, NULL, "user.id"});
}

static int check_message(struct check *c, const struct schema *schema,
                         const struct arb_json_node *message, size_t index)
{
    static const struct field content = {"content", ARB_JSON_OBJECT, true};
    if (expect_type(c, message, ARB_JSON_OBJECT, (struct place){index, NULL, NULL}) != 0 ||
        check_field(c, message, &content, index, NULL) != 0 ||
        check_fields(c, message, schema->message_fields, schema->nmessage_fields, index,
                     NULL) != 0)
        return -1;
    const struct arb_json_node *reply = arb_json_member(c->index, message, "reply");
    if (reply == NULL || schema->message_fields != workflow_message_fields)
        return 0;
    return check_fields(c, reply, reply_fields, COUNT(reply_fields), index, "reply");
}

static int check_messages(struct check *c, const struct schema *schema,
                          const struct arb_json_node *messages)
{
    size_t i = 0;
    if (messages == NULL)
        return 0;
    if (expect_type(c, messages, ARB_JSON_ARRAY, (struct place){NO_INDEX, NULL, "messages"}) != 0)
        return -1;
    for (const struct arb_json_node *m = arb_json_first(c->index, messages);
         schema->messages_are_objects && m != NULL; m = arb_json_next(c->index, m), i++)
        if (check_message(c, schema, m, i) != 0)
            return -1;
    return 0;
}

/* An event field under a schema that does not require one: a non-empty string if given. */
static int check_optional_event(struct check *c, const struct arb_json_node *root)
{
    static const struct field event = {"event", ARB_JSON_STRING, true};
    if (arb_json_member(c->index, root, "event") == NULL)
        return 0;
    return check_field(c, root, &event, NO_INDEX, NULL);
}

static const struct arb_json_node *string_member(const struct arb_json_index *index,
                                                 const struct arb_json_node *object,
                                                 const char *key)
{
    const struct arb_json_node *value = arb_json_member(index, object, key);
    return value != NULL && value->type == ARB_JSON_STRING ? value : NULL;
}

int arb_event_check(const struct arb_json_index *index, const char *body, enum arb_schema schema,
                    const char *default_event, struct arb_event *out, struct arb_error *err)
{
    const struct schema *rules = &schemas[schema];
    const struct arb_json_node *root = &index->nodes[0];
    struct check c = {index, err};

    memset(out, 0, sizeof(*out));
    if (root->type != ARB_JSON_OBJECT)
        return arb_error_set(err, ARB_E_SCHEMA, "$: expected object, got %s",
                             arb_json_type_name(root->type));
    if (reject_reserved(&c, root) != 0 ||
        (!rules->event_required && check_optional_event(&c, root) != 0) ||
        check_fields(&c, root, rules->fields, rules->nfields, NO_INDEX, NULL) != 0 ||
        (schema == ARB_SCHEMA_CHANNEL_MESSAGE_SENT && check_user(&c, root) != 0) ||
        check_messages(&c, rules, arb_json_member(index, root, "messages")) != 0)
        return -1;

    const struct arb_json_node *event = string_member(index, root, "event");
    out->body = body;
    out->index = index;
    out->call_id = string_member(index, root, "call_id");
    out->channel = string_member(index, root, "channel");
    out->company = string_member(index, root, "company");
    out->messages = arb_json_member(index, root, "messages");
    if (event != NULL) {
        out->name = event->text;
        out->name_len = event->text_len;
    } else if (default_event[0] != '\0') {
        out->name = default_event;
        out->name_len = strlen(default_event);
    }
    return 0;
}

/* Jansson's text may quote the offending token ("... near 'abc'"); keep only the problem. */
static void strip_near(char *text)
{
    char *near = strstr(text, " near ");
    if (near != NULL)
        *near = '\0';
}

/* A NUL byte, which JSON allows nowhere (Jansson 2.14 skips one right after a number). */
static bool describe_nul(const char *body, size_t len, struct arb_error *err)
{
    const char *nul = memchr(body, '\0', len);
    if (nul == NULL)
        return false;
    int line = 1;
    const char *line_start = body;
    for (const char *p = body; p < nul; p++)
        if (*p == '\n') {
            line++;
            line_start = p + 1;
        }
    arb_error_set(err, ARB_E_JSON, "line %d column %d: NUL byte", line,
                  (int)(nul - line_start) + 1);
    return true;
}

/* Why body is not JSON, in Jansson's words: "line 1 column 42: reason". */
static void describe_json_error(const char *body, size_t len, struct arb_error *err)
{
    json_error_t jerr;
    if (describe_nul(body, len, err))
        return;
    json_t *value = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (value != NULL) { /* a disagreement the differential tests exist to catch */
        char reason[ARB_ERROR_MSG_MAX];
        json_decref(value);
        snprintf(reason, sizeof(reason), "%s", err->message);
        arb_error_set(err, ARB_E_JSON, "%s", reason);
        return;
    }
    strip_near(jerr.text);
    arb_error_set(err, ARB_E_JSON, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
}

int arb_event_parse(struct arb_json_scanner *scanner, const char *body, size_t len,
                    enum arb_schema schema, const char *default_event, struct arb_event *out,
                    struct arb_error *err)
{
    const struct arb_json_index *index =
        arb_json_scan(scanner, body, len, ARB_EVENT_INDEX_DEPTH, err);
    if (index == NULL) {
        describe_json_error(body, len, err);
        return -1;
    }
    return arb_event_check(index, body, schema, default_event, out, err);
}

const struct arb_json_node *arb_event_peek_call_id(const struct arb_json_index *index)
{
    const struct arb_json_node *call_id =
        index != NULL ? string_member(index, &index->nodes[0], "call_id") : NULL;
    return call_id != NULL && call_id->text_len > 0 ? call_id : NULL;
}
