/* selection.c - what a debug replay picks (see selection.h).
 *
 * Times. A TIME is either epoch milliseconds (1 to 15 digits, nothing else) or an RFC 3339
 * date-time: YYYY-MM-DD, 'T', 't' or ' ', hh:mm:ss, an optional fraction of 1 to 9 digits
 * (truncated to milliseconds), then 'Z', 'z' or +hh:mm / -hh:mm. Every field is checked
 * (the day against its month, leap years included). A leap second (:60) is refused: Kafka
 * timestamps never carry one, and accepting it would only move the time by a second. Times
 * before 1970-01-01T00:00:00Z are refused too: Kafka timestamps are not negative, and -1 and
 * -2 are sentinels to librdkafka's offsets_for_times (latest, earliest), so a negative time
 * must never reach it. Epoch days come from civil dates by arithmetic (H. Hinnant's
 * days_from_civil), so nothing depends on the process's time zone or on timegm.
 *
 * Offsets. "T:P:O[,T:P:O...]": each item is split at its last two colons (topic names cannot
 * contain ':'); the topic passes arb_route_check without placeholders, P is 0..INT32_MAX and
 * O is 0..INT64_MAX, digits only. A topic:partition given twice, in one text or across
 * several --offsets flags, is an error. Items are parsed into a scratch array first, so on an
 * error the caller's array is left exactly as it was.
 *
 * Messages echo what the operator typed (this is a command line, not a network edge), cut to
 * ECHO_MAX characters with "..." after, so a long argument can never crowd out the reason.
 * The parsers name the text; the setters put the flag in front ("--from \"x\": not a time").
 */
#include "arb/selection.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arb/mem.h"
#include "arb/route.h"

#define ECHO_MAX 64
#define EPOCH_DIGITS_MAX 15
#define FRACTION_DIGITS_MAX 9
#define MS_PER_S 1000
#define S_PER_DAY 86400

#define TIME_FORMS "use RFC 3339, e.g. 2026-11-23T10:05:00Z, or epoch milliseconds"
#define ITEM_FORM "use TOPIC:PARTITION:OFFSET"
#define START_CONFLICT "only one of --from-beginning, --from and --offsets"

/* ---- small helpers ---- */

/* The echo of text: at most ECHO_MAX characters, and "..." (as the returned suffix) when
 * cut. Use as "%.*s%s", echo_len(text), text, echo_more(text). */
static int echo_len(const char *text)
{
    size_t len = strnlen(text, ECHO_MAX + 1);
    return (int)(len > ECHO_MAX ? ECHO_MAX : len);
}

static const char *echo_more(const char *text)
{
    return strnlen(text, ECHO_MAX + 1) > ECHO_MAX ? "..." : "";
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Exactly n digits at s (callers know s holds n bytes or a NUL before, which stops it). */
static bool fixed_digits(const char *s, size_t n, int *out)
{
    int value = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return false;
        value = value * 10 + (s[i] - '0');
    }
    *out = value;
    return true;
}

/* s[0..len) is 1 or more digits and at most max: its value in *out. */
static bool parse_uint(const char *s, size_t len, int64_t max, int64_t *out)
{
    if (len == 0)
        return false;
    int64_t value = 0;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(s[i]))
            return false;
        int d = s[i] - '0';
        if (value > (max - d) / 10)
            return false;
        value = value * 10 + d;
    }
    *out = value;
    return true;
}

/* ---- times ---- */

static bool leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1..12, d 1..31). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* The inverse, for messages. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* ms (>= 0) as RFC 3339 in UTC, with milliseconds only when there are some. */
static void format_time(int64_t ms, char *out, size_t size)
{
    int64_t secs = ms / MS_PER_S, days = secs / S_PER_DAY, rest = secs % S_PER_DAY;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    int n = snprintf(out, size, "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)y, m, d,
                     (int)(rest / 3600), (int)(rest / 60 % 60), (int)(rest % 60));
    if (n > 0 && (size_t)n < size)
        snprintf(out + n, size - (size_t)n, ms % MS_PER_S ? ".%03dZ" : "Z",
                 (int)(ms % MS_PER_S));
}

/* RFC 3339 date-time into seconds since the epoch and milliseconds; false when malformed. */
static bool parse_rfc3339(const char *s, int64_t *secs, int *ms)
{
    int y, mo, d, h, mi, sec;
    if (!fixed_digits(s, 4, &y) || s[4] != '-' || !fixed_digits(s + 5, 2, &mo) ||
        s[7] != '-' || !fixed_digits(s + 8, 2, &d))
        return false;
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        return false;
    if (!fixed_digits(s + 11, 2, &h) || s[13] != ':' || !fixed_digits(s + 14, 2, &mi) ||
        s[16] != ':' || !fixed_digits(s + 17, 2, &sec))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
        sec > 59)
        return false;

    const char *p = s + 19;
    int frac = 0;
    if (*p == '.') {
        size_t n = 0;
        for (p++; is_digit(*p); p++, n++) {
            if (n < 3)
                frac = frac * 10 + (*p - '0');
        }
        if (n == 0 || n > FRACTION_DIGITS_MAX)
            return false;
        for (; n < 3; n++)
            frac *= 10;
    }

    int64_t offset = 0; /* seconds east of UTC */
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!fixed_digits(p + 1, 2, &oh) || p[3] != ':' || !fixed_digits(p + 4, 2, &om) ||
            oh > 23 || om > 59)
            return false;
        offset = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return false;
    }
    if (*p != '\0')
        return false;

    *secs = days_from_civil(y, mo, d) * S_PER_DAY + h * 3600 + mi * 60 + sec - offset;
    *ms = frac;
    return true;
}

int arb_time_parse(const char *text, int64_t *ms, struct arb_error *err)
{
    if (text == NULL)
        text = "";
    size_t ndigits = strspn(text, "0123456789");
    int64_t value;
    if (ndigits > 0 && text[ndigits] == '\0') {
        if (ndigits > EPOCH_DIGITS_MAX || !parse_uint(text, ndigits, INT64_MAX, &value))
            goto bad;
        *ms = value;
        return 0;
    }

    int64_t secs;
    int frac;
    if (parse_rfc3339(text, &secs, &frac)) {
        if (secs < 0)
            return arb_error_set(err, ARB_E_INVALID,
                                 "\"%.*s%s\": before 1970-01-01T00:00:00Z", echo_len(text),
                                 text, echo_more(text));
        *ms = secs * MS_PER_S + frac;
        return 0;
    }
bad:
    return arb_error_set(err, ARB_E_INVALID, "\"%.*s%s\": not a time (" TIME_FORMS ")",
                         echo_len(text), text, echo_more(text));
}

/* ---- offsets ---- */

static void specs_free(struct arb_offset_spec *specs, size_t count)
{
    if (specs == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        free(specs[i].topic);
    free(specs);
}

static bool spec_seen(const struct arb_offset_spec *specs, size_t count, const char *topic,
                      int32_t partition)
{
    for (size_t i = 0; i < count; i++)
        if (specs[i].partition == partition && strcmp(specs[i].topic, topic) == 0)
            return true;
    return false;
}

/* One item (NUL-terminated copy) into spec; the topic is not yet copied. */
static int parse_item(const char *item, struct arb_offset_spec *spec, size_t *topic_len,
                      struct arb_error *err)
{
    const char *last = strrchr(item, ':');
    const char *mid = NULL;
    for (const char *p = item; last != NULL && p < last; p++)
        if (*p == ':')
            mid = p;
    if (mid == NULL)
        return arb_error_set(err, ARB_E_INVALID, "\"%.*s%s\": not an offset (" ITEM_FORM ")",
                             echo_len(item), item, echo_more(item));

    /* The topic, checked on its own copy; arb_route_check knows placeholders, we do not. */
    char *topic = arb_xstrndup(item, (size_t)(mid - item));
    struct arb_error topic_err = {0};
    int rc = 0;
    if (strchr(topic, '{') != NULL)
        rc = arb_error_set(&topic_err, ARB_E_INVALID,
                           "'{' is not allowed in a topic (use A-Z a-z 0-9 . _ -)");
    else
        rc = arb_route_check(topic, &topic_err);
    free(topic);
    if (rc != 0)
        return arb_error_set(err, ARB_E_INVALID, "\"%.*s%s\": %s", echo_len(item), item,
                             echo_more(item), topic_err.message);

    int64_t partition, offset;
    if (!parse_uint(mid + 1, (size_t)(last - mid - 1), INT32_MAX, &partition))
        return arb_error_set(err, ARB_E_INVALID,
                             "\"%.*s%s\": the partition must be a number from 0 to %d",
                             echo_len(item), item, echo_more(item), INT32_MAX);
    if (!parse_uint(last + 1, strlen(last + 1), INT64_MAX, &offset))
        return arb_error_set(err, ARB_E_INVALID,
                             "\"%.*s%s\": the offset must be a number from 0 to %lld",
                             echo_len(item), item, echo_more(item), (long long)INT64_MAX);
    spec->topic = NULL;
    spec->partition = (int32_t)partition;
    spec->offset = offset;
    *topic_len = (size_t)(mid - item);
    return 0;
}

int arb_offsets_parse(const char *text, struct arb_offset_spec **specs, size_t *count,
                      struct arb_error *err)
{
    struct arb_offset_spec *parsed = NULL;
    size_t nparsed = 0;
    char *item = NULL;
    int rc = -1;

    if (text == NULL)
        text = "";
    size_t items = 1;
    for (const char *p = text; *p; p++)
        items += *p == ',';
    parsed = arb_xcalloc(items, sizeof(*parsed));

    for (const char *p = text;; p++) {
        size_t len = strcspn(p, ",");
        if (len == 0) {
            arb_error_set(err, ARB_E_INVALID, "\"%.*s%s\": empty item (" ITEM_FORM "[,...])",
                          echo_len(text), text, echo_more(text));
            goto out;
        }
        item = arb_xstrndup(p, len);
        struct arb_offset_spec spec;
        size_t topic_len = 0;
        if (parse_item(item, &spec, &topic_len, err) != 0)
            goto out;
        spec.topic = arb_xstrndup(item, topic_len);
        if (spec_seen(*specs, *count, spec.topic, spec.partition) ||
            spec_seen(parsed, nparsed, spec.topic, spec.partition)) {
            arb_error_set(err, ARB_E_INVALID, "\"%.*s%s\": partition %d of \"%.*s%s\" given twice",
                          echo_len(item), item, echo_more(item), (int)spec.partition,
                          echo_len(spec.topic), spec.topic, echo_more(spec.topic));
            free(spec.topic);
            goto out;
        }
        parsed[nparsed++] = spec;
        free(item);
        item = NULL;
        p += len;
        if (*p == '\0')
            break;
    }

    *specs = arb_xrealloc(*specs, (*count + nparsed) * sizeof(**specs));
    memcpy(*specs + *count, parsed, nparsed * sizeof(*parsed));
    *count += nparsed;
    nparsed = 0; /* the topics belong to *specs now */
    rc = 0;
out:
    free(item);
    specs_free(parsed, nparsed);
    return rc;
}

/* ---- the selection ---- */

void arb_selection_init(struct arb_selection *selection)
{
    memset(selection, 0, sizeof(*selection));
    selection->start = ARB_START_DEFAULT;
    selection->limit = -1;
}

static void list_free(char **list, size_t count)
{
    if (list == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        free(list[i]);
    free(list);
}

void arb_selection_clear(struct arb_selection *selection)
{
    if (selection == NULL)
        return;
    specs_free(selection->offsets, selection->noffsets);
    list_free(selection->call_ids, selection->ncall_ids);
    list_free(selection->events, selection->nevents);
    list_free(selection->sender_types, selection->nsender_types);
    arb_selection_init(selection);
}

int arb_selection_set_start(struct arb_selection *selection, enum arb_start start,
                            const char *arg, struct arb_error *err)
{
    struct arb_error parse_err = {0};
    if (start != ARB_START_BEGINNING && start != ARB_START_TIME && start != ARB_START_OFFSETS)
        return arb_error_set(err, ARB_E_INVALID, "unknown start %d", (int)start);
    if (selection->start != ARB_START_DEFAULT && selection->start != start)
        return arb_error_set(err, ARB_E_INVALID, START_CONFLICT);

    switch (start) {
    case ARB_START_BEGINNING:
        break; /* a repeated --from-beginning says the same thing again */
    case ARB_START_TIME: {
        if (selection->start == ARB_START_TIME)
            return arb_error_set(err, ARB_E_INVALID, "--from given more than once");
        int64_t ms;
        if (arb_time_parse(arg, &ms, &parse_err) != 0)
            return arb_error_set(err, ARB_E_INVALID, "--from %s", parse_err.message);
        selection->from_ms = ms;
        break;
    }
    case ARB_START_OFFSETS:
        /* several --offsets add up */
        if (arb_offsets_parse(arg, &selection->offsets, &selection->noffsets, &parse_err) != 0)
            return arb_error_set(err, ARB_E_INVALID, "--offsets %s", parse_err.message);
        break;
    case ARB_START_DEFAULT:
        break;
    }
    selection->start = start;
    return 0;
}

int arb_selection_set_until(struct arb_selection *selection, const char *arg,
                            struct arb_error *err)
{
    struct arb_error parse_err = {0};
    if (selection->has_until)
        return arb_error_set(err, ARB_E_INVALID, "--until given more than once");
    int64_t ms;
    if (arb_time_parse(arg, &ms, &parse_err) != 0)
        return arb_error_set(err, ARB_E_INVALID, "--until %s", parse_err.message);
    selection->until_ms = ms;
    selection->has_until = true;
    return 0;
}

int arb_selection_set_limit(struct arb_selection *selection, const char *arg,
                            struct arb_error *err)
{
    if (selection->limit != -1)
        return arb_error_set(err, ARB_E_INVALID, "--limit given more than once");
    if (arg == NULL)
        arg = "";
    int64_t limit;
    if (!parse_uint(arg, strlen(arg), INT64_MAX, &limit) || limit == 0)
        return arb_error_set(err, ARB_E_INVALID,
                             "--limit \"%.*s%s\": not a whole number from 1 to %lld",
                             echo_len(arg), arg, echo_more(arg), (long long)INT64_MAX);
    selection->limit = limit;
    return 0;
}

void arb_selection_add(char ***list, size_t *count, const char *values)
{
    if (values == NULL)
        return;
    for (const char *p = values;; p++) {
        size_t len = strcspn(p, ",");
        if (len > 0) {
            *list = arb_xrealloc(*list, (*count + 1) * sizeof(**list));
            (*list)[(*count)++] = arb_xstrndup(p, len);
        }
        p += len;
        if (*p == '\0')
            break;
    }
}

int arb_selection_check(const struct arb_selection *selection, struct arb_error *err)
{
    if (selection->start == ARB_START_TIME && selection->has_until &&
        selection->from_ms > selection->until_ms) {
        char from[48], until[48];
        format_time(selection->from_ms, from, sizeof(from));
        format_time(selection->until_ms, until, sizeof(until));
        return arb_error_set(err, ARB_E_INVALID, "--from (%s) is after --until (%s)", from,
                             until);
    }
    return 0;
}

/* An empty list lets everything through; otherwise value must be one of its entries. */
static bool passes(char *const *list, size_t count, const char *value)
{
    if (count == 0)
        return true;
    if (value == NULL)
        return false;
    for (size_t i = 0; i < count; i++)
        if (strcmp(list[i], value) == 0)
            return true;
    return false;
}

bool arb_selection_match(const struct arb_selection *selection,
                         const struct arb_record_view *record)
{
    assert(selection != NULL && record != NULL);
    if (selection->has_until && record->timestamp_ms > selection->until_ms)
        return false;
    /* Reading starts at the first record of --from, but a later one may carry an earlier
     * timestamp (producers stamp records concurrently): the window is the window. */
    if (selection->start == ARB_START_TIME && record->timestamp_ms < selection->from_ms)
        return false;
    return passes(selection->call_ids, selection->ncall_ids, record->call_id) &&
           passes(selection->events, selection->nevents, record->event) &&
           passes(selection->sender_types, selection->nsender_types, record->sender_type);
}
