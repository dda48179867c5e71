/* conversation.c - one conversation's model (see conversation.h): its records, their
 * delivery-log outcomes, the order the desk gets them in, and the re-send plan; the page,
 * the JSON and the re-send summaries are conversation_page.c's.
 *
 * Each record is kept with its value parsed (Jansson), the bridge's headers, and the
 * delivery-log outcomes that name its topic/partition/offset. finish() sorts the records
 * by (topic, partition, offset), attaches outcomes by binary search, then merges the
 * partitions by receipt time into the display order; a record whose Idempotency-Key
 * (request id and message index) was seen earlier in that order is marked as a repeat (a
 * webhook AIRudder sent again). */
#include "arb/conversation.h"
#include "conversation_model.h"

#include "arb/mem.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- small helpers ---- */

static const char *header_value(const struct arb_conv_record *record, const char *name,
                                char *buf, size_t size)
{
    for (size_t i = record->nheaders; i-- > 0;) { /* the last one wins, as in debug mode */
        const struct arb_header *h = &record->headers[i];
        if (h->name == NULL || strcmp(h->name, name) != 0 || h->value == NULL)
            continue;
        size_t n = h->len < size - 1 ? h->len : size - 1;
        memcpy(buf, h->value, n);
        buf[n] = '\0';
        return buf;
    }
    return NULL;
}

void arb_conv_record_call_id(const struct arb_conv_record *record, char *buf, size_t size)
{
    if (size == 0)
        return;
    if (header_value(record, "airudder-call-id", buf, size) != NULL)
        return;
    size_t n = record->key == NULL ? 0 : record->key_len < size - 1 ? record->key_len : size - 1;
    if (n > 0)
        memcpy(buf, record->key, n);
    buf[n] = '\0';
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? arb_xstrdup(s) : NULL;
}

/* ---- taking records ---- */

struct arb_conversation *arb_conversation_new(const char *call_id)
{
    struct arb_conversation *conv = arb_xcalloc(1, sizeof(*conv));
    conv->call_id = arb_xstrdup(call_id != NULL ? call_id : "");
    return conv;
}

static void entry_clear(struct entry *e)
{
    free(e->topic);
    json_decref(e->value);
    free(e->raw);
    free(e->event);
    free(e->msg_id);
    free(e->sender_type);
    free(e->request_id);
    free(e->outcomes);
}

void arb_conversation_destroy(struct arb_conversation *conv)
{
    if (conv == NULL)
        return;
    for (size_t i = 0; i < conv->nentries; i++)
        entry_clear(&conv->entries[i]);
    for (size_t i = 0; i < conv->noutcomes; i++)
        arb_outcome_parsed_clear(&conv->outcomes[i]);
    free(conv->entries);
    free(conv->outcomes);
    free(conv->order);
    free(conv->call_id);
    free(conv);
}

bool arb_conversation_add_record(struct arb_conversation *conv,
                                 const struct arb_conv_record *record, size_t max)
{
    char buf[512];
    if (conv->nentries >= max) {
        conv->truncated = true;
        return false;
    }
    if (conv->nentries == conv->cap) {
        conv->cap = conv->cap ? 2 * conv->cap : 32;
        conv->entries = arb_xrealloc(conv->entries, conv->cap * sizeof(*conv->entries));
    }
    struct entry *e = &conv->entries[conv->nentries++];
    memset(e, 0, sizeof(*e));
    e->topic = arb_xstrdup(record->topic != NULL ? record->topic : "");
    e->partition = record->partition;
    e->offset = record->offset;
    e->timestamp_ms = record->timestamp_ms;
    json_t *value = record->value != NULL ? json_loadb(record->value, record->value_len, 0, NULL)
                                          : NULL;
    if (json_is_object(value)) {
        e->value = value;
        e->message = json_object_get(value, "message");
        if (!json_is_object(e->message))
            e->message = NULL;
    } else {
        json_decref(value);
        e->raw = arb_xstrndup(record->value != NULL ? record->value : "", record->value_len);
    }
    const char *h;
    e->event = dup_or_null((h = header_value(record, "airudder-event", buf, sizeof(buf))) != NULL
                               ? h
                               : str(e->value, "event"));
    e->msg_id = dup_or_null((h = header_value(record, "airudder-msg-id", buf, sizeof(buf))) != NULL
                                ? h
                                : str(e->message, "msg_id"));
    e->sender_type =
        dup_or_null((h = header_value(record, "airudder-sender-type", buf, sizeof(buf))) != NULL
                        ? h
                        : str(e->message, "sender_type"));
    e->request_id = dup_or_null(header_value(record, "airudder-request-id", buf, sizeof(buf)));
    return true;
}

int arb_conversation_add_outcome(struct arb_conversation *conv, const char *value, size_t len,
                                 struct arb_error *err)
{
    struct arb_outcome_parsed parsed;
    if (arb_outcome_parse(value, len, &parsed, err) != 0)
        return -1;
    if (parsed.outcome.call_id == NULL || strcmp(parsed.outcome.call_id, conv->call_id) != 0) {
        arb_outcome_parsed_clear(&parsed);
        return 0;
    }
    if (conv->noutcomes == conv->outcomes_cap) {
        conv->outcomes_cap = conv->outcomes_cap ? 2 * conv->outcomes_cap : 32;
        conv->outcomes = arb_xrealloc(conv->outcomes, conv->outcomes_cap * sizeof(*conv->outcomes));
    }
    conv->outcomes[conv->noutcomes++] = parsed;
    return 0;
}

/* ---- order ---- */

static int compare_position(const char *topic_a, int32_t part_a, int64_t off_a,
                            const char *topic_b, int32_t part_b, int64_t off_b)
{
    int c = strcmp(topic_a, topic_b);
    if (c != 0)
        return c;
    if (part_a != part_b)
        return part_a < part_b ? -1 : 1;
    return off_a < off_b ? -1 : off_a > off_b;
}

static int compare_entries(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    return compare_position(x->topic, x->partition, x->offset, y->topic, y->partition,
                            y->offset);
}

static struct entry *find_entry(const struct arb_conversation *conv, const char *topic,
                                int32_t partition, int64_t offset)
{
    size_t lo = 0, hi = conv->nentries;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct entry *e = &conv->entries[mid];
        int c = compare_position(e->topic, e->partition, e->offset, topic, partition, offset);
        if (c == 0)
            return &conv->entries[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int compare_outcomes(const void *a, const void *b)
{
    const struct arb_outcome_parsed *x = *(struct arb_outcome_parsed *const *)a;
    const struct arb_outcome_parsed *y = *(struct arb_outcome_parsed *const *)b;
    return x->outcome.done_ms < y->outcome.done_ms ? -1 : x->outcome.done_ms > y->outcome.done_ms;
}

static void attach_outcomes(struct arb_conversation *conv)
{
    for (size_t i = 0; i < conv->noutcomes; i++) {
        struct arb_outcome_parsed *p = &conv->outcomes[i];
        struct entry *e = find_entry(conv, p->outcome.topic, p->outcome.partition,
                                     p->outcome.offset);
        if (e == NULL) {
            conv->unmatched++;
            continue;
        }
        e->outcomes = arb_xrealloc(e->outcomes, (e->noutcomes + 1) * sizeof(*e->outcomes));
        e->outcomes[e->noutcomes++] = p;
    }
    for (size_t i = 0; i < conv->nentries; i++)
        if (conv->entries[i].noutcomes > 1)
            qsort(conv->entries[i].outcomes, conv->entries[i].noutcomes,
                  sizeof(*conv->entries[i].outcomes), compare_outcomes);
}

static bool same_partition(const struct entry *a, const struct entry *b)
{
    return a->partition == b->partition && strcmp(a->topic, b->topic) == 0;
}

/* Runs of one topic-partition (in offset order) merged by receipt time; earlier runs win
 * ties, so the result never reorders a partition. */
static void merge_partitions(struct arb_conversation *conv)
{
    size_t nruns = 0;
    size_t *heads = arb_xcalloc(conv->nentries + 1, sizeof(*heads));
    size_t *ends = arb_xcalloc(conv->nentries + 1, sizeof(*ends));
    for (size_t i = 0; i < conv->nentries; i++) {
        if (i == 0 || !same_partition(&conv->entries[i - 1], &conv->entries[i]))
            heads[nruns++] = i;
        ends[nruns - 1] = i + 1;
    }
    conv->order = arb_xcalloc(conv->nentries + 1, sizeof(*conv->order));
    for (size_t n = 0; n < conv->nentries; n++) {
        size_t best = nruns;
        for (size_t r = 0; r < nruns; r++)
            if (heads[r] < ends[r] &&
                (best == nruns ||
                 conv->entries[heads[r]].timestamp_ms < conv->entries[heads[best]].timestamp_ms))
                best = r;
        conv->order[n] = heads[best]++;
    }
    free(heads);
    free(ends);
}

/* The record's Idempotency-Key as the replay builds it, or "" without a request id. */
static void idempotency_key(const struct entry *e, char *out, size_t size)
{
    json_t *index = json_object_get(e->value, "message_index");
    if (e->request_id == NULL) {
        out[0] = '\0';
        return;
    }
    snprintf(out, size, "%s:%lld", e->request_id,
             json_is_integer(index) && json_integer_value(index) > 0
                 ? (long long)json_integer_value(index)
                 : 0LL);
}

struct keyed {
    char key[128];
    size_t position;
};

static int compare_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c != 0 ? c : x->position < y->position ? -1 : x->position > y->position;
}

static void mark_repeats(struct arb_conversation *conv)
{
    struct keyed *keys = arb_xcalloc(conv->nentries + 1, sizeof(*keys));
    for (size_t n = 0; n < conv->nentries; n++) {
        idempotency_key(&conv->entries[conv->order[n]], keys[n].key, sizeof(keys[n].key));
        keys[n].position = n;
    }
    qsort(keys, conv->nentries, sizeof(*keys), compare_keyed);
    for (size_t n = 1; n < conv->nentries; n++)
        if (keys[n].key[0] != '\0' && strcmp(keys[n].key, keys[n - 1].key) == 0)
            conv->entries[conv->order[keys[n].position]].repeat = true;
    free(keys);
}

void arb_conversation_finish(struct arb_conversation *conv)
{
    if (conv->finished)
        return;
    conv->finished = true;
    if (conv->nentries > 1)
        qsort(conv->entries, conv->nentries, sizeof(*conv->entries), compare_entries);
    attach_outcomes(conv);
    merge_partitions(conv);
    mark_repeats(conv);
}

size_t arb_conversation_count(const struct arb_conversation *conv)
{
    return conv->nentries;
}

const struct entry *arb_conv_at(const struct arb_conversation *conv, size_t n)
{
    return &conv->entries[conv->order[n]];
}

long arb_conversation_find(const struct arb_conversation *conv, const char *topic,
                           int32_t partition, int64_t offset)
{
    for (size_t n = 0; n < conv->nentries; n++) {
        const struct entry *e = arb_conv_at(conv, n);
        if (e->partition == partition && e->offset == offset && strcmp(e->topic, topic) == 0)
            return (long)n;
    }
    return -1;
}

size_t arb_conversation_resend_plan(const struct arb_conversation *conv, size_t index,
                                    struct arb_offset_spec **starts, size_t *nstarts,
                                    int64_t *until_ms)
{
    *until_ms = 0;
    for (size_t n = index; n < conv->nentries; n++) {
        const struct entry *e = arb_conv_at(conv, n);
        bool known = false;
        for (size_t i = 0; i < *nstarts && !known; i++)
            known = (*starts)[i].partition == e->partition &&
                    strcmp((*starts)[i].topic, e->topic) == 0;
        if (!known) { /* the first record of its partition at or after index: the lowest offset */
            *starts = arb_xrealloc(*starts, (*nstarts + 1) * sizeof(**starts));
            (*starts)[(*nstarts)++] = (struct arb_offset_spec){arb_xstrdup(e->topic), e->partition,
                                                               e->offset};
        }
        if (e->timestamp_ms > *until_ms)
            *until_ms = e->timestamp_ms;
    }
    return index < conv->nentries ? conv->nentries - index : 0;
}

