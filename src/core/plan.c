/* plan.c - which stretch of Kafka a read covers (see plan.h).
 *
 * Ranges are kept in the order they were planned: the configured topics in order (a
 * regex's matches in the cluster's order), or the --offsets in order; the driver's marks
 * follow the same order. */
#include "arb/plan.h"
#include "arb/mem.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

void arb_plan_init(struct arb_plan *plan)
{
    memset(plan, 0, sizeof(*plan));
}

void arb_plan_clear(struct arb_plan *plan)
{
    for (size_t i = 0; i < plan->nranges; i++)
        free(plan->ranges[i].topic);
    free(plan->ranges);
    arb_plan_init(plan);
}

static struct arb_plan_range *range_add(struct arb_plan *plan, const char *topic,
                                        int32_t partition)
{
    plan->ranges = arb_xrealloc(plan->ranges, (plan->nranges + 1) * sizeof(*plan->ranges));
    struct arb_plan_range *range = &plan->ranges[plan->nranges++];
    *range = (struct arb_plan_range){.topic = arb_xstrdup(topic), .partition = partition};
    return range;
}

static const struct arb_plan_topic *find_topic(const struct arb_plan_topic *topics,
                                               size_t ntopics, const char *name)
{
    for (size_t i = 0; i < ntopics; i++)
        if (strcmp(topics[i].name, name) == 0)
            return &topics[i];
    return NULL;
}

static bool has_partition(const struct arb_plan_topic *topic, int32_t partition)
{
    for (size_t i = 0; i < topic->npartitions; i++)
        if (topic->partitions[i] == partition)
            return true;
    return false;
}

static void add_all_partitions(struct arb_plan *plan, const struct arb_plan_topic *topic)
{
    for (size_t i = 0; i < topic->npartitions; i++)
        range_add(plan, topic->name, topic->partitions[i]);
}

/* Names must exist; a "^regex" picks every matching topic. */
static int plan_topics(struct arb_plan *plan, const struct arb_plan_request *req,
                       const struct arb_plan_topic *topics, size_t ntopics,
                       struct arb_error *err)
{
    for (size_t i = 0; i < req->ntopics; i++) {
        const char *name = req->topics[i];
        if (name[0] != '^') {
            const struct arb_plan_topic *topic = find_topic(topics, ntopics, name);
            if (topic == NULL)
                return arb_error_set(err, ARB_E_INVALID, "unknown topic \"%s\"", name);
            add_all_partitions(plan, topic);
            continue;
        }
        regex_t re;
        if (regcomp(&re, name, REG_EXTENDED | REG_NOSUB) != 0)
            return arb_error_set(err, ARB_E_INVALID, "replay.topics: bad regex \"%s\"", name);
        for (size_t t = 0; t < ntopics; t++)
            if (regexec(&re, topics[t].name, 0, NULL, 0) == 0)
                add_all_partitions(plan, &topics[t]);
        regfree(&re);
    }
    return 0;
}

/* Each T:P of --offsets must exist. */
static int plan_offsets(struct arb_plan *plan, const struct arb_plan_request *req,
                        const struct arb_plan_topic *topics, size_t ntopics,
                        struct arb_error *err)
{
    for (size_t i = 0; i < req->noffsets; i++) {
        const struct arb_offset_spec *spec = &req->offsets[i];
        const struct arb_plan_topic *topic = find_topic(topics, ntopics, spec->topic);
        if (topic == NULL)
            return arb_error_set(err, ARB_E_INVALID, "unknown topic \"%s\"", spec->topic);
        if (!has_partition(topic, spec->partition))
            return arb_error_set(err, ARB_E_INVALID, "topic \"%s\" has no partition %d",
                                 spec->topic, (int)spec->partition);
        range_add(plan, spec->topic, spec->partition)->start = spec->offset;
    }
    return 0;
}

int arb_plan_partitions(struct arb_plan *plan, const struct arb_plan_request *req,
                        const struct arb_plan_topic *topics, size_t ntopics,
                        struct arb_error *err)
{
    arb_plan_clear(plan);
    int rc = req->start == ARB_START_OFFSETS ? plan_offsets(plan, req, topics, ntopics, err)
                                             : plan_topics(plan, req, topics, ntopics, err);
    if (rc != 0)
        return -1;
    if (plan->nranges == 0 && req->require_some)
        return arb_error_set(err, ARB_E_INVALID, "no topic of replay.topics exists");
    plan->ask_from = req->start == ARB_START_TIME;
    plan->from_query_ms = req->from_ms;
    plan->ask_until = req->has_until;
    /* the first record after until */
    plan->until_query_ms = req->until_ms < INT64_MAX ? req->until_ms + 1 : INT64_MAX;
    return 0;
}

static int64_t or_end(int64_t offset, int64_t high)
{
    return offset < 0 ? high : offset;
}

int arb_plan_offsets(struct arb_plan *plan, const struct arb_plan_request *req,
                     const struct arb_plan_marks *marks, struct arb_error *err)
{
    for (size_t i = 0; i < plan->nranges; i++) {
        struct arb_plan_range *range = &plan->ranges[i];
        const struct arb_plan_marks *m = &marks[i];
        if (req->start == ARB_START_OFFSETS && (range->start < m->low || range->start > m->high))
            return arb_error_set(err, ARB_E_INVALID,
                                 "offset %lld is out of range for %s/%d (%lld..%lld)",
                                 (long long)range->start, range->topic, (int)range->partition,
                                 (long long)m->low, (long long)m->high);
        if (req->start == ARB_START_TIME)
            range->start = or_end(m->from, m->high);
        else if (req->start != ARB_START_OFFSETS)
            range->start = m->low;
        range->end = req->follow ? ARB_PLAN_NO_END : m->high;
        if (req->has_until && m->until >= 0 && m->until < range->end)
            range->end = m->until;
        range->done = range->start >= range->end;
    }
    return 0;
}

int arb_plan_find(const struct arb_plan *plan, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < plan->nranges; i++)
        if (plan->ranges[i].partition == partition && strcmp(plan->ranges[i].topic, topic) == 0)
            return (int)i;
    return -1;
}

static struct arb_plan_range *open_range(struct arb_plan *plan, int i)
{
    if (i < 0 || (size_t)i >= plan->nranges || plan->ranges[i].done)
        return NULL;
    return &plan->ranges[i];
}

struct arb_plan_step arb_plan_record(struct arb_plan *plan, int i, int64_t offset)
{
    struct arb_plan_range *range = open_range(plan, i);
    struct arb_plan_step step = {false, false};
    if (range == NULL)
        return step; /* a straggler: of a finished range, or of an earlier assignment */
    step.take = offset < range->end;
    step.finished = !step.take || offset + 1 >= range->end;
    range->done = step.finished;
    return step;
}

bool arb_plan_eof(struct arb_plan *plan, int i, int64_t offset)
{
    struct arb_plan_range *range = open_range(plan, i);
    if (range == NULL || offset < range->end)
        return false;
    range->done = true;
    return true;
}

bool arb_plan_done(const struct arb_plan *plan)
{
    for (size_t i = 0; i < plan->nranges; i++)
        if (!plan->ranges[i].done)
            return false;
    return true;
}
