/* selection.h - which records a debug replay picks (contract section 5, debug mode): where
 * to start (the beginning, a time, or explicit offsets), an optional end time, filters on
 * call_id, event and sender type, and a limit. Pure parsing and matching; reading Kafka is
 * the replay's business. */
#ifndef ARB_SELECTION_H
#define ARB_SELECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arb/error.h"

/* TIME: RFC 3339 ("2026-11-23T10:05:00Z", "2026-11-23T18:05:00.250+08:00"; 'T' or ' ',
 * 'Z' or 'z' or a numeric offset, optional fraction, truncated to ms) or epoch milliseconds
 * (digits only). Anything else: -1 with a message naming the accepted forms. */
int arb_time_parse(const char *text, int64_t *ms, struct arb_error *err);

struct arb_offset_spec {
    char *topic;
    int32_t partition;
    int64_t offset;
};

/* "T:P:O[,T:P:O...]", appended to *specs (grown with realloc). Topic names cannot contain
 * ':', so the last two colons of each item split it. Duplicated T:P is an error. */
int arb_offsets_parse(const char *text, struct arb_offset_spec **specs, size_t *count,
                      struct arb_error *err);

enum arb_start { ARB_START_DEFAULT = 0, ARB_START_BEGINNING, ARB_START_TIME, ARB_START_OFFSETS };

struct arb_selection {
    enum arb_start start; /* DEFAULT: from the beginning */
    int64_t from_ms;      /* ARB_START_TIME */
    struct arb_offset_spec *offsets; /* ARB_START_OFFSETS */
    size_t noffsets;
    bool has_until;
    int64_t until_ms; /* records with a later timestamp are not selected */
    char **call_ids, **events, **sender_types; /* any of each, when given */
    size_t ncall_ids, nevents, nsender_types;
    int64_t limit; /* matched records at most; -1 = no limit */
};

void arb_selection_init(struct arb_selection *selection);
void arb_selection_clear(struct arb_selection *selection);

/* Record a start; a second, different start is an error ("--from and --offsets ..."). */
int arb_selection_set_start(struct arb_selection *selection, enum arb_start start,
                            const char *arg, struct arb_error *err);
int arb_selection_set_until(struct arb_selection *selection, const char *arg,
                            struct arb_error *err);
int arb_selection_set_limit(struct arb_selection *selection, const char *arg,
                            struct arb_error *err);
/* Append to a filter list (call_ids, events or sender_types); "a,b" adds two values. */
void arb_selection_add(char ***list, size_t *count, const char *values);
/* Consistency: --from must not be after --until. */
int arb_selection_check(const struct arb_selection *selection, struct arb_error *err);

/* What matching needs of one record; NULL when the record has no such field. */
struct arb_record_view {
    const char *call_id;
    const char *event;
    const char *sender_type;
    int64_t timestamp_ms;
};

/* True when the record's timestamp is within --from/--until (those given) and it passes
 * every given filter. The limit is the caller's to count. */
bool arb_selection_match(const struct arb_selection *selection,
                         const struct arb_record_view *record);

#endif
