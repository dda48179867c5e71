/* seen.h - the replay's memory of what it delivered, for retried webhooks.
 *
 * A webhook AIRudder retried can reach Kafka twice: through a second bridge instance, whose
 * own window (dedup.h) never saw the first copy, or after the first copy's answer was lost.
 * Both copies carry the same call_id, so they land in the same partition, one after the
 * other in the same conversation; the replay remembers the Idempotency-Key of every record
 * the desk answered 2xx for, one window per partition (window_ms, at most max_entries keys
 * a partition, the oldest going first), and does not send a record whose key is in its
 * partition's window. A partition's window is dropped when the partition is (revoked), and
 * made again when it next delivers. Debug-mode re-sends never ask: they are deliberate.
 *
 * Keys are the Idempotency-Key text the desk gets (<request id>:<message_index>). Not
 * thread-safe; pure: the caller passes the time (any clock, milliseconds). */
#ifndef ARB_SEEN_H
#define ARB_SEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct arb_seen_stats {
    uint64_t skipped; /* checks that answered "already delivered" */
    uint64_t evicted; /* keys that left a full window before their time */
    size_t entries;   /* keys held now, every partition (expired ones until next touched) */
};

struct arb_seen;

/* window_ms 0 remembers nothing (every check answers false). */
struct arb_seen *arb_seen_new(int64_t window_ms, size_t max_entries);
void arb_seen_destroy(struct arb_seen *seen);

/* Was idempotency_key delivered from partition part (>= 0) less than window_ms ago? */
bool arb_seen_check(struct arb_seen *seen, int part, const char *idempotency_key,
                    int64_t now_ms);
/* The desk took it now (a key remembered again starts its window again). */
void arb_seen_remember(struct arb_seen *seen, int part, const char *idempotency_key,
                       int64_t now_ms);
/* Forget partition part's window. */
void arb_seen_drop(struct arb_seen *seen, int part);

void arb_seen_stats(const struct arb_seen *seen, struct arb_seen_stats *stats);

#endif
