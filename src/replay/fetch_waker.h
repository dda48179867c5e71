/* fetch_waker.h - wakes librdkafka's fetcher for partitions whose records the replay waits for
 * (why: core/flow.h, arb_flow_wake_due).
 *
 * A request to a partition's leader wakes the broker thread that fetches it, which then
 * decides again whether to fetch. The request is a read of the partition's watermarks (a
 * ListOffsets request: it changes nothing, and its answer is not needed). It blocks, so a
 * thread of this module's own makes it, never the delivery loop. */
#ifndef ARB_FETCH_WAKER_H
#define ARB_FETCH_WAKER_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#define ARB_FETCH_WAKER_MAX 16 /* partitions woken by one call; the caller takes turns */

struct arb_fetch_waker;

/* NULL when the thread cannot start: then the fetcher wakes only on its own. */
struct arb_fetch_waker *arb_fetch_waker_new(rd_kafka_t *consumer);
/* Before the consumer is destroyed; waits for a request under way. */
void arb_fetch_waker_destroy(struct arb_fetch_waker *waker);

/* Wake the fetchers of these partitions (the first ARB_FETCH_WAKER_MAX); returns at once.
 * A call made while a wake is under way replaces the one waiting, if any. */
void arb_fetch_waker_wake(struct arb_fetch_waker *waker, const char *const *topics,
                          const int32_t *partitions, size_t n);

#endif
