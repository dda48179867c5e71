/* ordering.h - the replay's bookkeeping: which record may go to the desk now, and which
 * offset of each partition may be committed.
 *
 * Records are added in the order the consumer returns them (offset order per partition).
 * Two rules hold:
 *   - per conversation (key), a record is offered only once every earlier record with the
 *     same key is done (delivered or dead-lettered), so the desk sees each conversation in
 *     order while different conversations proceed concurrently;
 *   - per partition, the committable offset is that of the oldest record not yet done (or
 *     one past the last record when all are done), so nothing unfinished is ever committed.
 * Pure bookkeeping: no I/O, no clock, no threads. The caller owns the data pointers. */
#ifndef ARB_ORDERING_H
#define ARB_ORDERING_H

#include <stddef.h>
#include <stdint.h>

struct arb_ordering;
struct arb_entry; /* one record in the bookkeeping */

struct arb_ordering *arb_ordering_new(void);
/* Frees the bookkeeping; free_data (may be NULL) is called on each remaining entry's data. */
void arb_ordering_destroy(struct arb_ordering *ordering, void (*free_data)(void *data));

/* Add a record of partition part (a small index >= 0 chosen by the caller) at offset, with
 * key (copied; "" for records without a key: each of those is its own conversation).
 * Offsets of one partition must be added in increasing order. */
struct arb_entry *arb_ordering_add(struct arb_ordering *ordering, int part, int64_t offset,
                                   const char *key, void *data);

/* The next entry that may be sent now, in the order they became eligible, or NULL. Each entry
 * is returned once. */
struct arb_entry *arb_ordering_next(struct arb_ordering *ordering);

/* Mark an entry done and free it (not its data). Returns the offset now committable for its
 * partition if it advanced, else -1. The next entry of its conversation becomes eligible. */
int64_t arb_ordering_done(struct arb_ordering *ordering, struct arb_entry *entry);

/* Forget every entry of a partition (revoked), calling free_data on each; entries of that
 * partition already returned by arb_ordering_next become invalid. Other partitions' entries
 * that were waiting behind them in the same conversation become eligible. */
void arb_ordering_drop_partition(struct arb_ordering *ordering, int part,
                                 void (*free_data)(void *data));

void *arb_entry_data(const struct arb_entry *entry);
int arb_entry_part(const struct arb_entry *entry);
int64_t arb_entry_offset(const struct arb_entry *entry);

size_t arb_ordering_pending(const struct arb_ordering *ordering, int part); /* not done */
size_t arb_ordering_total(const struct arb_ordering *ordering);             /* all parts */

#endif
