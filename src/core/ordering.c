/* ordering.c - the replay's bookkeeping (rules in ordering.h).
 *
 * Every entry is in three places at once, each O(1) to update:
 *   - its partition's ring, a FIFO of entry pointers in offset order. Done sets the slot to
 *     NULL (the entry itself is freed at once); NULL slots are popped from the head, and the
 *     committable offset is that of the head entry, or one past the last offset added when
 *     the ring is empty. A slot is found from the entry's sequence number: seq & (cap - 1).
 *   - its conversation, a doubly linked FIFO per key found through a chained string hash map
 *     (buckets double when the map is fuller than one conversation per bucket). Only the
 *     head of a conversation may be eligible or sent; the others wait. A conversation leaves
 *     the map when it empties. Entries with key "" have no conversation.
 *   - while eligible, the global eligible FIFO (doubly linked) read by arb_ordering_next.
 *
 * Dropping a partition walks its ring in offset order; removing the head of a conversation
 * promotes the next entry unless that one belongs to the same partition (it is dropped a
 * moment later and promotes its own successor in turn). */
#include "arb/ordering.h"
#include "arb/mem.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define INITIAL_BUCKETS 64 /* a power of two */
#define INITIAL_SLOTS 64   /* a power of two */

enum entry_state {
    ENTRY_WAITING,  /* behind an earlier entry of its conversation */
    ENTRY_ELIGIBLE, /* in the eligible FIFO */
    ENTRY_SENT,     /* returned by arb_ordering_next, not yet done */
};

struct conv {
    struct conv *chain; /* next in the hash bucket */
    uint64_t hash;
    struct arb_entry *head, *tail;
    char key[];
};

struct arb_entry {
    struct arb_entry *conv_prev, *conv_next;
    struct arb_entry *elig_prev, *elig_next;
    struct conv *conv; /* NULL for key "" */
    void *data;
    int64_t offset;
    uint64_t seq; /* position in the partition's ring */
    int part;
    enum entry_state state;
};

struct part {
    struct arb_entry **slots; /* ring; NULL slot = done */
    size_t cap;               /* 0 or a power of two */
    uint64_t head;            /* seq of the oldest slot */
    uint64_t tail;            /* seq of the next slot to fill */
    size_t pending;           /* entries not done */
    int64_t last_offset;      /* -1 before the first add */
};

struct arb_ordering {
    struct part *parts;
    int nparts;
    struct conv **buckets;
    size_t nbuckets; /* a power of two */
    size_t nconvs;
    struct arb_entry *elig_head, *elig_tail;
    size_t total;
};

/* ---- the conversation map ---- */

static uint64_t hash_key(const char *key) /* FNV-1a */
{
    uint64_t hash = 14695981039346656037ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++)
        hash = (hash ^ *p) * 1099511628211ULL;
    return hash;
}

static struct conv *map_find(const struct arb_ordering *ordering, const char *key,
                             uint64_t hash)
{
    struct conv *conv = ordering->buckets[hash & (ordering->nbuckets - 1)];
    while (conv != NULL && (conv->hash != hash || strcmp(conv->key, key) != 0))
        conv = conv->chain;
    return conv;
}

static void map_grow(struct arb_ordering *ordering)
{
    size_t nbuckets = ordering->nbuckets * 2;
    struct conv **buckets = arb_xcalloc(nbuckets, sizeof(*buckets));
    for (size_t i = 0; i < ordering->nbuckets; i++) {
        struct conv *conv = ordering->buckets[i];
        while (conv != NULL) {
            struct conv *chain = conv->chain;
            struct conv **bucket = &buckets[conv->hash & (nbuckets - 1)];
            conv->chain = *bucket;
            *bucket = conv;
            conv = chain;
        }
    }
    free(ordering->buckets);
    ordering->buckets = buckets;
    ordering->nbuckets = nbuckets;
}

static struct conv *map_insert(struct arb_ordering *ordering, const char *key, uint64_t hash)
{
    size_t len = strlen(key);
    struct conv *conv = arb_xmalloc(sizeof(*conv) + len + 1);
    if (ordering->nconvs >= ordering->nbuckets)
        map_grow(ordering);
    memcpy(conv->key, key, len + 1);
    conv->hash = hash;
    conv->head = conv->tail = NULL;
    struct conv **bucket = &ordering->buckets[hash & (ordering->nbuckets - 1)];
    conv->chain = *bucket;
    *bucket = conv;
    ordering->nconvs++;
    return conv;
}

static void map_remove(struct arb_ordering *ordering, struct conv *conv)
{
    struct conv **link = &ordering->buckets[conv->hash & (ordering->nbuckets - 1)];
    while (*link != conv)
        link = &(*link)->chain;
    *link = conv->chain;
    ordering->nconvs--;
    free(conv);
}

/* ---- the eligible FIFO ---- */

static void make_eligible(struct arb_ordering *ordering, struct arb_entry *entry)
{
    assert(entry->state == ENTRY_WAITING);
    entry->state = ENTRY_ELIGIBLE;
    entry->elig_next = NULL;
    entry->elig_prev = ordering->elig_tail;
    if (ordering->elig_tail != NULL)
        ordering->elig_tail->elig_next = entry;
    else
        ordering->elig_head = entry;
    ordering->elig_tail = entry;
}

static void unlink_eligible(struct arb_ordering *ordering, struct arb_entry *entry)
{
    if (entry->elig_prev != NULL)
        entry->elig_prev->elig_next = entry->elig_next;
    else
        ordering->elig_head = entry->elig_next;
    if (entry->elig_next != NULL)
        entry->elig_next->elig_prev = entry->elig_prev;
    else
        ordering->elig_tail = entry->elig_prev;
}

/* ---- conversations ---- */

/* Appends entry to its key's conversation; returns true if it is the head (may go now). */
static bool conv_append(struct arb_ordering *ordering, struct arb_entry *entry,
                        const char *key)
{
    uint64_t hash = hash_key(key);
    struct conv *conv = map_find(ordering, key, hash);
    if (conv == NULL)
        conv = map_insert(ordering, key, hash);
    entry->conv = conv;
    entry->conv_next = NULL;
    entry->conv_prev = conv->tail;
    if (conv->tail != NULL)
        conv->tail->conv_next = entry;
    else
        conv->head = entry;
    conv->tail = entry;
    return entry->conv_prev == NULL;
}

/* Takes entry out of its conversation (freeing the conversation when it empties). Returns
 * the new head if entry was the head, else NULL. */
static struct arb_entry *conv_remove(struct arb_ordering *ordering, struct arb_entry *entry)
{
    struct conv *conv = entry->conv;
    bool was_head = entry->conv_prev == NULL;
    if (conv == NULL)
        return NULL;
    if (entry->conv_prev != NULL)
        entry->conv_prev->conv_next = entry->conv_next;
    else
        conv->head = entry->conv_next;
    if (entry->conv_next != NULL)
        entry->conv_next->conv_prev = entry->conv_prev;
    else
        conv->tail = entry->conv_prev;
    if (conv->head == NULL) {
        map_remove(ordering, conv);
        return NULL;
    }
    return was_head ? conv->head : NULL;
}

/* ---- partitions ---- */

static struct part *part_get(struct arb_ordering *ordering, int part)
{
    assert(part >= 0);
    if (part >= ordering->nparts) {
        int nparts = ordering->nparts * 2 > part ? ordering->nparts * 2 : part + 1;
        ordering->parts = arb_xrealloc(ordering->parts, (size_t)nparts * sizeof(struct part));
        for (int i = ordering->nparts; i < nparts; i++)
            ordering->parts[i] = (struct part){NULL, 0, 0, 0, 0, -1};
        ordering->nparts = nparts;
    }
    return &ordering->parts[part];
}

static void ring_push(struct part *p, struct arb_entry *entry)
{
    if (p->tail - p->head == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : INITIAL_SLOTS;
        struct arb_entry **slots = arb_xmalloc(cap * sizeof(*slots));
        for (uint64_t seq = p->head; seq != p->tail; seq++)
            slots[seq & (cap - 1)] = p->slots[seq & (p->cap - 1)];
        free(p->slots);
        p->slots = slots;
        p->cap = cap;
    }
    entry->seq = p->tail++;
    p->slots[entry->seq & (p->cap - 1)] = entry;
}

/* Pops done slots from the head; returns the new committable offset, or -1 if unchanged. */
static int64_t ring_advance(struct part *p)
{
    bool advanced = false;
    while (p->head != p->tail && p->slots[p->head & (p->cap - 1)] == NULL) {
        p->head++;
        advanced = true;
    }
    if (!advanced)
        return -1;
    if (p->head == p->tail)
        return p->last_offset + 1;
    return p->slots[p->head & (p->cap - 1)]->offset;
}

/* ---- the interface ---- */

struct arb_ordering *arb_ordering_new(void)
{
    struct arb_ordering *ordering = arb_xcalloc(1, sizeof(*ordering));
    ordering->nbuckets = INITIAL_BUCKETS;
    ordering->buckets = arb_xcalloc(ordering->nbuckets, sizeof(*ordering->buckets));
    return ordering;
}

void arb_ordering_destroy(struct arb_ordering *ordering, void (*free_data)(void *data))
{
    if (ordering == NULL)
        return;
    for (int part = 0; part < ordering->nparts; part++)
        arb_ordering_drop_partition(ordering, part, free_data);
    assert(ordering->nconvs == 0 && ordering->total == 0);
    free(ordering->parts);
    free(ordering->buckets);
    free(ordering);
}

struct arb_entry *arb_ordering_add(struct arb_ordering *ordering, int part, int64_t offset,
                                   const char *key, void *data)
{
    struct part *p = part_get(ordering, part);
    struct arb_entry *entry = arb_xcalloc(1, sizeof(*entry));
    assert(offset > p->last_offset);
    entry->data = data;
    entry->offset = offset;
    entry->part = part;
    entry->state = ENTRY_WAITING;
    ring_push(p, entry);
    p->last_offset = offset;
    p->pending++;
    ordering->total++;
    if (key[0] == '\0' || conv_append(ordering, entry, key))
        make_eligible(ordering, entry);
    return entry;
}

struct arb_entry *arb_ordering_next(struct arb_ordering *ordering)
{
    struct arb_entry *entry = ordering->elig_head;
    if (entry == NULL)
        return NULL;
    unlink_eligible(ordering, entry);
    entry->state = ENTRY_SENT;
    return entry;
}

int64_t arb_ordering_done(struct arb_ordering *ordering, struct arb_entry *entry)
{
    assert(entry->state == ENTRY_SENT); /* else a caller bug: done before next */
    assert(entry->part < ordering->nparts);
    assert(entry->conv == NULL || entry->conv_prev == NULL); /* only a head is ever sent */
    struct part *p = &ordering->parts[entry->part];
    struct arb_entry *next = conv_remove(ordering, entry);
    if (next != NULL)
        make_eligible(ordering, next);
    p->slots[entry->seq & (p->cap - 1)] = NULL;
    p->pending--;
    ordering->total--;
    free(entry);
    return ring_advance(p);
}

void arb_ordering_drop_partition(struct arb_ordering *ordering, int part,
                                 void (*free_data)(void *data))
{
    if (part < 0 || part >= ordering->nparts)
        return;
    struct part *p = &ordering->parts[part];
    for (uint64_t seq = p->head; seq != p->tail; seq++) {
        struct arb_entry *entry = p->slots[seq & (p->cap - 1)];
        if (entry == NULL)
            continue; /* done: its data went back to the caller then */
        if (entry->state == ENTRY_ELIGIBLE)
            unlink_eligible(ordering, entry);
        struct arb_entry *next = conv_remove(ordering, entry);
        if (next != NULL && next->part != part)
            make_eligible(ordering, next);
        if (free_data != NULL)
            free_data(entry->data);
        free(entry);
    }
    ordering->total -= p->pending;
    free(p->slots);
    *p = (struct part){NULL, 0, 0, 0, 0, -1};
}

void *arb_entry_data(const struct arb_entry *entry)
{
    return entry->data;
}

int arb_entry_part(const struct arb_entry *entry)
{
    return entry->part;
}

int64_t arb_entry_offset(const struct arb_entry *entry)
{
    return entry->offset;
}

size_t arb_ordering_pending(const struct arb_ordering *ordering, int part)
{
    if (part < 0 || part >= ordering->nparts)
        return 0;
    return ordering->parts[part].pending;
}

size_t arb_ordering_total(const struct arb_ordering *ordering)
{
    return ordering->total;
}
