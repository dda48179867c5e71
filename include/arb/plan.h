/* plan.h - which stretch of Kafka a read covers, for debug mode (--from-beginning, --from,
 * --offsets, --until, --follow over replay.topics) and for the viewer's reads of history: the
 * partitions to read, where each starts and ends, and, as records come, which are in the
 * stretch and when each partition is finished. The filters (--call-id, --event,
 * --sender-type) pick among the records read (selection.h); they do not narrow the plan.
 *
 * Planning is two steps around the driver's questions to Kafka:
 *   arb_plan_partitions   from the cluster's topics: every partition of the topics named
 *                         (each must exist) or matching the one "^regex", or the partitions
 *                         of --offsets (each must exist); then the driver asks Kafka for
 *                         each partition's watermarks and, when the plan says so, the
 *                         offsets of the first records at or after from_query_ms and
 *                         until_query_ms
 *   arb_plan_offsets      start (the low watermark, the --from offset or the high watermark
 *                         when no record is that late, the given --offsets, which must lie
 *                         within the watermarks) and end (the high watermark now, none with
 *                         --follow, or the first offset after --until when sooner)
 * Pure: topics, watermarks and offsets in; the plan and errors out. */
#ifndef ARB_PLAN_H
#define ARB_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arb/error.h"
#include "arb/selection.h"

#define ARB_PLAN_NO_END INT64_MAX

/* A topic of the cluster, as its metadata lists it (topics in error left out). */
struct arb_plan_topic {
    const char *name;
    const int32_t *partitions;
    size_t npartitions;
};

struct arb_plan_request {
    const char *const *topics; /* names, or one "^regex" (replay.topics) */
    size_t ntopics;
    enum arb_start start; /* DEFAULT, BEGINNING: from the low watermark */
    int64_t from_ms;      /* ARB_START_TIME */
    const struct arb_offset_spec *offsets; /* ARB_START_OFFSETS: instead of topics */
    size_t noffsets;
    bool has_until;
    int64_t until_ms; /* records with a later timestamp are not read */
    bool follow;      /* no end */
    bool require_some; /* no partition to read is an error */
};

struct arb_plan_range {
    char *topic;
    int32_t partition;
    int64_t start, end; /* end exclusive; ARB_PLAN_NO_END when following */
    bool done;
};

struct arb_plan {
    struct arb_plan_range *ranges;
    size_t nranges;
    bool ask_from, ask_until; /* the offsets of these times are needed, per range */
    int64_t from_query_ms, until_query_ms;
};

/* What Kafka says of one range. */
struct arb_plan_marks {
    int64_t low, high; /* watermarks */
    int64_t from;      /* first offset at or after from_query_ms; -1: none (or not asked) */
    int64_t until;     /* first offset at or after until_query_ms; -1: none (or not asked) */
};

void arb_plan_init(struct arb_plan *plan);
void arb_plan_clear(struct arb_plan *plan);

/* The ranges to read, without offsets yet; -1 with err (an unknown topic or partition, a bad
 * regex, nothing to read when required). */
int arb_plan_partitions(struct arb_plan *plan, const struct arb_plan_request *req,
                        const struct arb_plan_topic *topics, size_t ntopics,
                        struct arb_error *err);

/* Start and end of every range from marks (one per range, in order); -1 with err when an
 * --offsets start is outside its partition. */
int arb_plan_offsets(struct arb_plan *plan, const struct arb_plan_request *req,
                     const struct arb_plan_marks *marks, struct arb_error *err);

/* The range of topic/partition, or -1. */
int arb_plan_find(const struct arb_plan *plan, const char *topic, int32_t partition);

/* A record read at offset of range i (-1: not planned): is it in the stretch (take), and is
 * the range finished with it (finished: stop reading that partition)? */
struct arb_plan_step {
    bool take, finished;
};
struct arb_plan_step arb_plan_record(struct arb_plan *plan, int i, int64_t offset);

/* Range i (-1: not planned) has nothing more before offset: true when that finishes it. */
bool arb_plan_eof(struct arb_plan *plan, int i, int64_t offset);

bool arb_plan_done(const struct arb_plan *plan);

#endif
