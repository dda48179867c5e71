/* conversation_model.h - what the two halves of the conversation module share (core/
 * conversation.c, the model; conversation_page.c, what is rendered of it): a record as the
 * model keeps it, the conversation, and small readers of both. */
#ifndef ARB_CONVERSATION_MODEL_H
#define ARB_CONVERSATION_MODEL_H

#include "arb/conversation.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct entry {
    char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp_ms;
    json_t *value;   /* the record, when it is JSON */
    char *raw;       /* the value as text, when it is not */
    json_t *message; /* value's "message" (borrowed), or NULL */
    char *event, *msg_id, *sender_type, *request_id; /* headers, or from the value */
    struct arb_outcome_parsed **outcomes; /* by done time */
    size_t noutcomes;
    bool repeat;
};

struct arb_conversation {
    char *call_id;
    struct entry *entries; /* by (topic, partition, offset) after finish */
    size_t nentries, cap;
    size_t *order; /* display order: indexes into entries */
    struct arb_outcome_parsed *outcomes;
    size_t noutcomes, outcomes_cap;
    size_t unmatched; /* outcomes of records not shown */
    bool truncated, finished;
};

/* The record at position n of the display order (after arb_conversation_finish). */
const struct entry *arb_conv_at(const struct arb_conversation *conv, size_t n);

static inline const char *str(json_t *obj, const char *name)
{
    return json_string_value(json_object_get(obj, name));
}

static inline bool nonempty(const char *s)
{
    return s != NULL && s[0] != '\0';
}

#endif
