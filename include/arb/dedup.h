/* dedup.h - a bounded memory of what was already done, for retried webhooks.
 *
 * AIRudder sends the same bytes again when our 200 was lost on its way back. The bridge keeps
 * the request ids it answered 200 for window_ms: a repeat is answered 200 without writing
 * its records again, and a repeat that arrives while the first copy still waits for Kafka
 * waits too and gets the first copy's answer. The replay keeps the Idempotency-Keys it
 * delivered, one table per partition (core/seen.c), and drops a record it already
 * delivered. A table is used one way or the other: begin/finish, or seen/remember. Memory is
 * bounded: at most max_entries keys (the oldest done ones make room), ARB_DEDUP_ENTRY_BYTES
 * each at most, touched only as the table fills; keys still pending are never dropped, and
 * when nothing can make room a key is simply not remembered.
 *
 * A first copy answered other than 200 may still have records on their way to Kafka (its
 * acknowledgements were late, not refused): the bridge then marks its key in doubt, repeats
 * are told to come back later, and when the last report arrives the key is done (every record
 * stored) or forgotten. A key is remembered from when it is done until window_ms later (at
 * done + window_ms it is gone). Keys are 20 bytes (a request id's 16 and a message index's 4). Not thread-safe;
 * pure: the caller passes the time. */
#ifndef ARB_DEDUP_H
#define ARB_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARB_DEDUP_KEY_LEN 20
#define ARB_DEDUP_ENTRY_BYTES 56 /* the most one remembered key costs, its buckets included */

struct arb_dedup_key {
    unsigned char bytes[ARB_DEDUP_KEY_LEN];
};

/* A request id (32 hex) and an index as a key; -1 when the id is not 32 hex characters. */
int arb_dedup_key_of(const char *request_id, uint32_t index, struct arb_dedup_key *key);

/* Embedded by whoever waits on a pending key. */
struct arb_dedup_waiter {
    struct arb_dedup_waiter *next;
};

enum arb_dedup_state {
    ARB_DEDUP_NEW,     /* not seen: now pending, the caller goes on (and calls finish) */
    ARB_DEDUP_DONE,    /* done within the window: answer as done, do nothing again */
    ARB_DEDUP_PENDING, /* the first copy is under way: waiter is kept until it finishes */
    ARB_DEDUP_IN_DOUBT, /* the first copy was refused, but its records may yet be stored */
    ARB_DEDUP_UNTRACKED, /* no room: the caller goes on, and must not call finish */
};

struct arb_dedup_stats {
    uint64_t done_hits, pending_hits, doubt_hits, evicted, untracked;
    size_t entries;
};

struct arb_dedup;

struct arb_dedup *arb_dedup_new(size_t max_entries, int64_t window_ms);
void arb_dedup_destroy(struct arb_dedup *dedup);

/* The bridge: begin with a request's key. waiter may be NULL (then PENDING keeps nobody). */
enum arb_dedup_state arb_dedup_begin(struct arb_dedup *dedup, const struct arb_dedup_key *key,
                                     int64_t now_ms, struct arb_dedup_waiter *waiter);
/* The first copy is answered, or its doubt resolved: done (remembered for the window) or not
 * (forgotten, so the sender's retry is tried again). Returns the waiters, to be answered
 * alike. */
struct arb_dedup_waiter *arb_dedup_finish(struct arb_dedup *dedup,
                                          const struct arb_dedup_key *key, bool done,
                                          int64_t now_ms);

/* The first copy was answered other than 200 while its records may still be stored: the key
 * is in doubt until arb_dedup_finish. Returns the waiters, to be answered alike. */
struct arb_dedup_waiter *arb_dedup_doubt(struct arb_dedup *dedup,
                                         const struct arb_dedup_key *key);

/* The replay: was key done within the window? remember marks it done now. */
bool arb_dedup_seen(struct arb_dedup *dedup, const struct arb_dedup_key *key, int64_t now_ms);
void arb_dedup_remember(struct arb_dedup *dedup, const struct arb_dedup_key *key,
                        int64_t now_ms);

void arb_dedup_stats(const struct arb_dedup *dedup, struct arb_dedup_stats *stats);

#endif
