/* history.h - read a stretch of Kafka for the viewer: every record of some topics (names,
 * or one "^regex") received in a time window, up to the end offsets taken when the read
 * starts, handed one by one to a callback.
 *
 * Like debug mode it uses a consumer of its own with manually assigned partitions and a
 * throwaway group id it never joins or commits to, so the service group never sees it.
 * One history may be read several times (a conversation's records, then its delivery log).
 * Not thread-safe: one per request. */
#ifndef ARB_REPLAY_HISTORY_H
#define ARB_REPLAY_HISTORY_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arb/config.h"
#include "arb/error.h"

struct arb_history;

struct arb_history *arb_history_new(const struct arb_replay_conf *conf, struct arb_error *err);
void arb_history_destroy(struct arb_history *history);

struct arb_history_query {
    const char *const *topics; /* names (each must exist), or one "^regex" */
    size_t ntopics;
    bool has_from, has_until;
    int64_t from_ms, until_ms; /* Kafka timestamps, inclusive */
    int64_t deadline_ns;       /* arb_now_ns() past which the read stops (0: none) */
};

/* Return false to stop reading. */
typedef bool arb_history_fn(void *opaque, const rd_kafka_message_t *msg);

struct arb_history_stats {
    uint64_t read;
    bool stopped;   /* by the callback */
    bool timed_out; /* by the deadline */
};

/* 0 when the window was read to its end (or stopped, see stats), -1 with err (an unknown
 * topic, Kafka not answering). */
int arb_history_read(struct arb_history *history, const struct arb_history_query *query,
                     arb_history_fn *fn, void *opaque, struct arb_history_stats *stats,
                     struct arb_error *err);

#endif
