/* flow.h - service mode's flow control: when the consumer may be polled for more records,
 * and which partitions to pause and resume, from how many records are held.
 *
 * While max_buffered records are held, no more are taken (librdkafka's bounded prefetch
 * queue waits). Pausing is kept for real stalls, because a resumed partition needs most of a
 * second to fetch again: when the buffer stays full for ARB_FLOW_STALL_NS, the partitions
 * holding their share of it (max_buffered / partitions assigned) or more are paused, and
 * from then on, until the buffer is no longer full, any that reaches its share; so the
 * others go on, and the consumer keeps polling (and stays in its group however long the
 * desk is down). A paused partition is resumed once it holds half its share or less.
 * Stopping pauses every partition and polls on (rebalances are served by the poll).
 *
 * The fetcher is woken when the records run out while there is room for more: librdkafka
 * 2.0.2 decides whether to fetch a partition again only when its broker thread wakes, and
 * once its prefetch queue went past queued.max.messages.kbytes nothing wakes it for up to a
 * second after the queue is drained (2.2 made that fetch.queue.backoff.ms). A replay working
 * through a backlog drains the queue in a fraction of that second and would then wait out
 * the rest. While the queue is found empty and at most half of max_buffered is held, a wake
 * is due every ARB_FLOW_WAKE_NS; the caller wakes the partitions that are behind their high
 * watermark.
 *
 * Pure: the caller passes the time and the counts, applies each decision to the consumer,
 * and says when the consumer refused one. Partitions are the caller's small indexes. */
#ifndef ARB_FLOW_H
#define ARB_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARB_FLOW_STALL_NS INT64_C(2000000000)
#define ARB_FLOW_WAKE_NS INT64_C(20000000)

struct arb_flow_action {
    int part;
    bool pause; /* else resume */
};

struct arb_flow;

struct arb_flow *arb_flow_new(size_t max_buffered);
void arb_flow_destroy(struct arb_flow *flow);

/* The partition was assigned (not paused) / revoked. */
void arb_flow_assign(struct arb_flow *flow, int part);
void arb_flow_revoke(struct arb_flow *flow, int part);

/* May the consumer be polled, with held records held? */
bool arb_flow_may_poll(const struct arb_flow *flow, size_t held);

/* A record of part was taken, which now holds pending: pause it? */
bool arb_flow_took(struct arb_flow *flow, int part, size_t pending);

/* Once a loop turn: the stall clock, then the pauses and resumes to make, into out (room for
 * two per partition below nparts); pending[i] is what partition i holds. Returns how many. */
size_t arb_flow_turn(struct arb_flow *flow, int64_t now_ns, size_t held, const size_t *pending,
                     int nparts, struct arb_flow_action *out);

/* The consumer was polled and found empty (or not) with held records held: is a wake of
 * the fetcher due? True at most once per ARB_FLOW_WAKE_NS. */
bool arb_flow_wake_due(struct arb_flow *flow, int64_t now_ns, size_t held, bool queue_empty);

/* Stopping: the pauses to make (room for one per partition below nparts); polling goes on. */
size_t arb_flow_stop(struct arb_flow *flow, int nparts, struct arb_flow_action *out);

/* Every decision is taken as done; the consumer refused this one. */
void arb_flow_refused(struct arb_flow *flow, const struct arb_flow_action *action);

bool arb_flow_assigned(const struct arb_flow *flow, int part);
bool arb_flow_paused(const struct arb_flow *flow, int part);
int arb_flow_paused_count(const struct arb_flow *flow);

#endif
