/* dedup.c - the bounded memory of done keys (see dedup.h).
 *
 * Entries live in one array allocated up front, in a hash table of chains, and, once done,
 * in a list by age; the free entries in a list of their own. Expired entries leave from the
 * old end of the age list as time passes, and when the array is full the oldest done entry
 * makes room. Indexes, not pointers, link them. The array and the buckets are zeroed by
 * calloc (a bucket holds its first entry's index plus one, so zero is empty): their pages
 * are touched only as the table fills, and a window sized for millions costs little while
 * it holds a few. */
#include "arb/dedup.h"
#include "arb/mem.h"

#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX

enum entry_state { FREE = 0, PENDING, IN_DOUBT, DONE };

struct entry {
    struct arb_dedup_key key;
    uint8_t state;
    uint32_t chain;      /* next in the hash bucket */
    uint32_t older, newer; /* the age list (done entries), or the free list (newer) */
    union {
        int64_t done_ms;                  /* DONE */
        struct arb_dedup_waiter *waiters; /* PENDING (IN_DOUBT has none) */
    } u;
};

/* An entry, and at most two buckets (there are fewer than twice as many as entries). */
_Static_assert(sizeof(struct entry) + 2 * sizeof(uint32_t) <= ARB_DEDUP_ENTRY_BYTES,
               "a remembered key costs more than ARB_DEDUP_ENTRY_BYTES");

struct arb_dedup {
    struct entry *entries;
    size_t max_entries;
    uint32_t *buckets; /* first entry's index + 1; 0 = empty */
    size_t nbuckets;   /* a power of two, at most twice max_entries */
    uint32_t free_head;      /* released entries, linked through newer */
    uint32_t next_untouched; /* entries from here on were never used */
    uint32_t oldest, newest; /* the age list */
    int64_t window_ms;
    struct arb_dedup_stats stats;
};

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int arb_dedup_key_of(const char *request_id, uint32_t index, struct arb_dedup_key *key)
{
    for (size_t i = 0; i < 16; i++) {
        int hi = hex_value(request_id[2 * i]);
        int lo = hi < 0 ? -1 : hex_value(request_id[2 * i + 1]);
        if (lo < 0)
            return -1;
        key->bytes[i] = (unsigned char)(hi << 4 | lo);
    }
    if (request_id[32] != '\0')
        return -1;
    for (size_t i = 0; i < 4; i++)
        key->bytes[16 + i] = (unsigned char)(index >> (8 * i));
    return 0;
}

/* FNV-1a: the keys are digests already, any mixing will do. */
static size_t hash(const struct arb_dedup_key *key)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < ARB_DEDUP_KEY_LEN; i++)
        h = (h ^ key->bytes[i]) * 1099511628211ULL;
    return (size_t)h;
}

struct arb_dedup *arb_dedup_new(size_t max_entries, int64_t window_ms)
{
    struct arb_dedup *dedup = arb_xcalloc(1, sizeof(*dedup));
    dedup->max_entries = max_entries;
    dedup->window_ms = window_ms;
    dedup->entries = arb_xcalloc(max_entries, sizeof(*dedup->entries));
    dedup->nbuckets = 16;
    while (dedup->nbuckets < max_entries)
        dedup->nbuckets *= 2;
    dedup->buckets = arb_xcalloc(dedup->nbuckets, sizeof(*dedup->buckets));
    dedup->free_head = NONE;
    dedup->oldest = dedup->newest = NONE;
    return dedup;
}

void arb_dedup_destroy(struct arb_dedup *dedup)
{
    if (dedup == NULL)
        return;
    free(dedup->buckets);
    free(dedup->entries);
    free(dedup);
}

static uint32_t *bucket_of(const struct arb_dedup *dedup, const struct arb_dedup_key *key)
{
    return &dedup->buckets[hash(key) & (dedup->nbuckets - 1)];
}

/* NONE + 1 wraps to 0 and back: an empty bucket reads as NONE. */
static uint32_t first_in(const uint32_t *bucket)
{
    return *bucket - 1;
}

static uint32_t find(const struct arb_dedup *dedup, const struct arb_dedup_key *key)
{
    for (uint32_t i = first_in(bucket_of(dedup, key)); i != NONE; i = dedup->entries[i].chain)
        if (memcmp(dedup->entries[i].key.bytes, key->bytes, ARB_DEDUP_KEY_LEN) == 0)
            return i;
    return NONE;
}

static void unchain(struct arb_dedup *dedup, uint32_t index)
{
    uint32_t *bucket = bucket_of(dedup, &dedup->entries[index].key);
    uint32_t next = dedup->entries[index].chain, i = first_in(bucket);
    if (i == index) {
        *bucket = next + 1;
        return;
    }
    while (dedup->entries[i].chain != index)
        i = dedup->entries[i].chain;
    dedup->entries[i].chain = next;
}

static void age_unlink(struct arb_dedup *dedup, uint32_t index)
{
    struct entry *e = &dedup->entries[index];
    if (e->older != NONE)
        dedup->entries[e->older].newer = e->newer;
    else
        dedup->oldest = e->newer;
    if (e->newer != NONE)
        dedup->entries[e->newer].older = e->older;
    else
        dedup->newest = e->older;
}

static void age_append(struct arb_dedup *dedup, uint32_t index)
{
    struct entry *e = &dedup->entries[index];
    e->older = dedup->newest;
    e->newer = NONE;
    if (dedup->newest != NONE)
        dedup->entries[dedup->newest].newer = index;
    else
        dedup->oldest = index;
    dedup->newest = index;
}

static void release(struct arb_dedup *dedup, uint32_t index)
{
    struct entry *e = &dedup->entries[index];
    unchain(dedup, index);
    if (e->state == DONE)
        age_unlink(dedup, index);
    memset(e, 0, sizeof(*e));
    e->newer = dedup->free_head;
    dedup->free_head = index;
    dedup->stats.entries--;
}

static void expire(struct arb_dedup *dedup, int64_t now_ms)
{
    while (dedup->oldest != NONE &&
           dedup->entries[dedup->oldest].u.done_ms + dedup->window_ms <= now_ms)
        release(dedup, dedup->oldest);
}

/* A free entry: a released one, an untouched one, or the oldest done one; NONE if none. */
static uint32_t take_free(struct arb_dedup *dedup)
{
    if (dedup->free_head == NONE && dedup->next_untouched < dedup->max_entries)
        return dedup->next_untouched++;
    if (dedup->free_head == NONE) {
        if (dedup->oldest == NONE)
            return NONE;
        dedup->stats.evicted++;
        release(dedup, dedup->oldest);
    }
    uint32_t index = dedup->free_head;
    dedup->free_head = dedup->entries[index].newer;
    return index;
}

static uint32_t insert(struct arb_dedup *dedup, const struct arb_dedup_key *key, uint8_t state)
{
    uint32_t index = take_free(dedup);
    if (index == NONE)
        return NONE;
    struct entry *e = &dedup->entries[index];
    memset(e, 0, sizeof(*e));
    e->key = *key;
    e->state = state;
    e->older = e->newer = NONE;
    uint32_t *bucket = bucket_of(dedup, key);
    e->chain = first_in(bucket);
    *bucket = index + 1;
    dedup->stats.entries++;
    return index;
}

enum arb_dedup_state arb_dedup_begin(struct arb_dedup *dedup, const struct arb_dedup_key *key,
                                     int64_t now_ms, struct arb_dedup_waiter *waiter)
{
    expire(dedup, now_ms);
    uint32_t index = find(dedup, key);
    if (index != NONE && dedup->entries[index].state == DONE) {
        dedup->stats.done_hits++;
        return ARB_DEDUP_DONE;
    }
    if (index != NONE && dedup->entries[index].state == IN_DOUBT) {
        dedup->stats.doubt_hits++;
        return ARB_DEDUP_IN_DOUBT;
    }
    if (index != NONE) {
        dedup->stats.pending_hits++;
        if (waiter != NULL) {
            waiter->next = dedup->entries[index].u.waiters;
            dedup->entries[index].u.waiters = waiter;
        }
        return ARB_DEDUP_PENDING;
    }
    if (insert(dedup, key, PENDING) == NONE) {
        dedup->stats.untracked++;
        return ARB_DEDUP_UNTRACKED;
    }
    return ARB_DEDUP_NEW;
}

struct arb_dedup_waiter *arb_dedup_finish(struct arb_dedup *dedup,
                                          const struct arb_dedup_key *key, bool done,
                                          int64_t now_ms)
{
    uint32_t index = find(dedup, key);
    if (index == NONE || (dedup->entries[index].state != PENDING &&
                          dedup->entries[index].state != IN_DOUBT))
        return NULL;
    struct entry *e = &dedup->entries[index];
    struct arb_dedup_waiter *waiters = e->u.waiters;
    e->u.waiters = NULL;
    if (!done || dedup->window_ms <= 0) {
        release(dedup, index);
        return waiters;
    }
    e->state = DONE;
    e->u.done_ms = now_ms;
    age_append(dedup, index);
    return waiters;
}

struct arb_dedup_waiter *arb_dedup_doubt(struct arb_dedup *dedup,
                                         const struct arb_dedup_key *key)
{
    uint32_t index = find(dedup, key);
    if (index == NONE || dedup->entries[index].state != PENDING)
        return NULL;
    struct entry *e = &dedup->entries[index];
    struct arb_dedup_waiter *waiters = e->u.waiters;
    e->u.waiters = NULL;
    e->state = IN_DOUBT;
    return waiters;
}

bool arb_dedup_seen(struct arb_dedup *dedup, const struct arb_dedup_key *key, int64_t now_ms)
{
    expire(dedup, now_ms);
    uint32_t index = find(dedup, key);
    if (index == NONE || dedup->entries[index].state != DONE)
        return false;
    dedup->stats.done_hits++;
    return true;
}

void arb_dedup_remember(struct arb_dedup *dedup, const struct arb_dedup_key *key,
                        int64_t now_ms)
{
    if (dedup->window_ms <= 0)
        return;
    expire(dedup, now_ms);
    uint32_t index = find(dedup, key);
    if (index != NONE) {
        if (dedup->entries[index].state == DONE)
            age_unlink(dedup, index);
    } else if ((index = insert(dedup, key, DONE)) == NONE) {
        dedup->stats.untracked++;
        return;
    }
    dedup->entries[index].state = DONE;
    dedup->entries[index].u.done_ms = now_ms;
    age_append(dedup, index);
}

void arb_dedup_stats(const struct arb_dedup *dedup, struct arb_dedup_stats *stats)
{
    *stats = dedup->stats;
}
