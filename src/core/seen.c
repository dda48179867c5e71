/* seen.c - the replay's per-partition windows of delivered Idempotency-Keys (see seen.h).
 *
 * One dedup table (core/dedup.c, its seen/remember half) per partition, made on the first
 * key a partition remembers. An Idempotency-Key the bridge's records give, "<32 lowercase
 * hex>:<index>", becomes a table key as it is; any other text (a record written by another
 * producer, with a request id of its own) by the first 128 bits of its SHA-256, with an
 * index no message has, so the two kinds never meet. The totals are kept as the tables
 * change, so reading them costs nothing. */
#include "arb/seen.h"
#include "arb/dedup.h"
#include "arb/mem.h"
#include "arb/record.h"

#include <stdlib.h>
#include <string.h>

#define DIGEST_INDEX UINT32_MAX

struct arb_seen {
    int64_t window_ms;
    size_t max_entries;
    struct arb_dedup **windows; /* by partition; NULL until it remembers something */
    size_t nwindows;
    struct arb_seen_stats totals;
};

/* digits as a canonical decimal below DIGEST_INDEX ("0", no leading zeros, no sign). */
static int parse_index(const char *digits, uint32_t *index)
{
    uint64_t value = 0;
    if (digits[0] == '\0' || (digits[0] == '0' && digits[1] != '\0'))
        return -1;
    for (const char *p = digits; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        value = value * 10 + (uint64_t)(*p - '0');
        if (value >= DIGEST_INDEX)
            return -1;
    }
    *index = (uint32_t)value;
    return 0;
}

static void key_of(const char *text, struct arb_dedup_key *key)
{
    char id[ARB_REQUEST_ID_LEN + 1];
    uint32_t index;

    if (strspn(text, "0123456789abcdef") == ARB_REQUEST_ID_LEN &&
        text[ARB_REQUEST_ID_LEN] == ':' && parse_index(text + ARB_REQUEST_ID_LEN + 1, &index) == 0) {
        memcpy(id, text, ARB_REQUEST_ID_LEN);
        id[ARB_REQUEST_ID_LEN] = '\0';
    } else {
        arb_request_id(NULL, text, strlen(text), id);
        index = DIGEST_INDEX;
    }
    (void)arb_dedup_key_of(id, index, key); /* 32 hex either way */
}

struct arb_seen *arb_seen_new(int64_t window_ms, size_t max_entries)
{
    struct arb_seen *seen = arb_xcalloc(1, sizeof(*seen));
    seen->window_ms = window_ms;
    seen->max_entries = max_entries;
    return seen;
}

void arb_seen_destroy(struct arb_seen *seen)
{
    if (seen == NULL)
        return;
    for (size_t i = 0; i < seen->nwindows; i++)
        arb_dedup_destroy(seen->windows[i]);
    free(seen->windows);
    free(seen);
}

static struct arb_dedup *window_of(const struct arb_seen *seen, int part)
{
    return part >= 0 && (size_t)part < seen->nwindows ? seen->windows[part] : NULL;
}

/* Fold what an operation on window did into the totals: before is its stats before. */
static void account(struct arb_seen *seen, const struct arb_dedup *window,
                    const struct arb_dedup_stats *before)
{
    struct arb_dedup_stats after;
    arb_dedup_stats(window, &after);
    seen->totals.entries = seen->totals.entries - before->entries + after.entries;
    seen->totals.evicted += after.evicted - before->evicted;
}

bool arb_seen_check(struct arb_seen *seen, int part, const char *idempotency_key,
                    int64_t now_ms)
{
    struct arb_dedup *window = window_of(seen, part);
    struct arb_dedup_stats before;
    struct arb_dedup_key key;

    if (window == NULL)
        return false;
    key_of(idempotency_key, &key);
    arb_dedup_stats(window, &before);
    bool hit = arb_dedup_seen(window, &key, now_ms);
    account(seen, window, &before);
    seen->totals.skipped += hit;
    return hit;
}

void arb_seen_remember(struct arb_seen *seen, int part, const char *idempotency_key,
                       int64_t now_ms)
{
    struct arb_dedup_stats before;
    struct arb_dedup_key key;

    if (seen->window_ms <= 0 || part < 0)
        return;
    if ((size_t)part >= seen->nwindows) {
        size_t n = (size_t)part + 1;
        seen->windows = arb_xrealloc(seen->windows, n * sizeof(*seen->windows));
        memset(seen->windows + seen->nwindows, 0,
               (n - seen->nwindows) * sizeof(*seen->windows));
        seen->nwindows = n;
    }
    if (seen->windows[part] == NULL)
        seen->windows[part] = arb_dedup_new(seen->max_entries, seen->window_ms);
    key_of(idempotency_key, &key);
    arb_dedup_stats(seen->windows[part], &before);
    arb_dedup_remember(seen->windows[part], &key, now_ms);
    account(seen, seen->windows[part], &before);
}

void arb_seen_drop(struct arb_seen *seen, int part)
{
    struct arb_dedup *window = window_of(seen, part);
    struct arb_dedup_stats stats;
    if (window == NULL)
        return;
    arb_dedup_stats(window, &stats);
    seen->totals.entries -= stats.entries;
    arb_dedup_destroy(window);
    seen->windows[part] = NULL;
}

void arb_seen_stats(const struct arb_seen *seen, struct arb_seen_stats *stats)
{
    *stats = seen->totals;
}
