/* retry.c - the desk delivery retry policy (see retry.h).
 *
 * Everything here is arithmetic on the caller's numbers: no clock, no random source, no
 * sleeping. The backoff ceiling doubles per attempt until it reaches the cap; it is computed
 * by comparing against the cap before shifting, so no attempt count can overflow it. The
 * jittered delay is drawn from [0, ceiling] with the caller's random value, then raised to the
 * desk's Retry-After if that is longer. A retry that would start after max_total_ms since the
 * first attempt is not made.
 *
 * Retry-After (RFC 9110 section 10.2.3) is either delta-seconds (digits only, nothing else) or
 * an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"). Values are capped at ARB_RETRY_AFTER_MAX_S:
 * far beyond any sensible max_total_ms (so the cap never changes a verdict in practice), and
 * small enough that the millisecond arithmetic cannot overflow. */
#define _XOPEN_SOURCE 700 /* strptime */

#include "arb/retry.h"

#include <stddef.h>
#include <string.h>
#include <time.h>

#define ARB_RETRY_AFTER_MAX_S (366 * 24 * 3600) /* a year (and a day) */

/* IMF-fixdate is fixed-width: "Sun, 06 Nov 1994 08:49:37 GMT". */
#define IMF_FIXDATE_FORMAT "%a, %d %b %Y %H:%M:%S GMT"
#define IMF_FIXDATE_LEN 29

bool arb_retry_status_retriable(long status)
{
    return status == 0 || status == 408 || status == 429 || (status >= 500 && status <= 599);
}

/* min(cap, base * 2^(attempts - 1)), never overflowing; negative inputs count as 0. */
static int64_t backoff_ceiling(int64_t base, int64_t cap, unsigned attempts)
{
    unsigned shift = attempts > 0 ? attempts - 1 : 0;
    if (base <= 0 || cap <= 0)
        return 0;
    if (base >= cap)
        return cap;
    /* Here 0 < base < cap <= INT64_MAX, so base << shift is only computed when it stays
     * below cap, which is representable. */
    if (shift >= 63 || base > (cap >> shift))
        return cap;
    int64_t ceiling = base << shift;
    return ceiling < cap ? ceiling : cap;
}

struct arb_retry_decision arb_retry_decide(const struct arb_retry_policy *policy, long status,
                                           unsigned attempts, int64_t elapsed_ms,
                                           int64_t retry_after_ms, uint64_t random)
{
    struct arb_retry_decision decision = {ARB_VERDICT_REJECTED, 0};

    if (status >= 200 && status <= 299) {
        decision.verdict = ARB_VERDICT_DELIVERED;
        return decision;
    }
    if (!arb_retry_status_retriable(status))
        return decision;

    int64_t ceiling = backoff_ceiling(policy->base_ms, policy->cap_ms, attempts);
    /* ceiling <= INT64_MAX, so ceiling + 1 fits in uint64_t and the result in int64_t. */
    int64_t delay = (int64_t)(random % ((uint64_t)ceiling + 1));
    if (retry_after_ms > delay)
        delay = retry_after_ms;

    int64_t elapsed = elapsed_ms > 0 ? elapsed_ms : 0;
    int64_t max_total = policy->max_total_ms > 0 ? policy->max_total_ms : 0;
    /* elapsed + delay > max_total, written so that it cannot overflow. */
    if (elapsed > max_total || delay > max_total - elapsed) {
        decision.verdict = ARB_VERDICT_EXHAUSTED;
        return decision;
    }
    decision.verdict = ARB_VERDICT_RETRY;
    decision.delay_ms = delay;
    return decision;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int64_t seconds_to_ms(int64_t seconds)
{
    if (seconds > ARB_RETRY_AFTER_MAX_S)
        seconds = ARB_RETRY_AFTER_MAX_S;
    return seconds * 1000;
}

/* delta-seconds: 1*DIGIT, saturating at the cap. -1 when not all digits. */
static int64_t parse_delta(const char *text, size_t len)
{
    int64_t seconds = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return -1;
        if (seconds <= ARB_RETRY_AFTER_MAX_S)
            seconds = seconds * 10 + (text[i] - '0');
    }
    return seconds_to_ms(seconds);
}

static int64_t parse_date(const char *text, size_t len, int64_t now_s)
{
    char copy[IMF_FIXDATE_LEN + 1];
    struct tm tm;

    if (len != IMF_FIXDATE_LEN)
        return -1;
    memcpy(copy, text, len);
    copy[len] = '\0';
    memset(&tm, 0, sizeof(tm));
    const char *end = strptime(copy, IMF_FIXDATE_FORMAT, &tm);
    if (end == NULL || *end != '\0')
        return -1;
    time_t when = timegm(&tm);
    if (when == (time_t)-1)
        return -1;
    int64_t when_s = (int64_t)when;
    if (when_s <= now_s)
        return 0;
    if (when_s - now_s > ARB_RETRY_AFTER_MAX_S)
        return seconds_to_ms(ARB_RETRY_AFTER_MAX_S);
    return seconds_to_ms(when_s - now_s);
}

int64_t arb_retry_after_parse(const char *value, int64_t now_s)
{
    if (value == NULL)
        return -1;
    size_t len = strlen(value);
    while (len > 0 && is_ows(value[0])) {
        value++;
        len--;
    }
    while (len > 0 && is_ows(value[len - 1]))
        len--;
    if (len == 0)
        return -1;
    if (value[0] >= '0' && value[0] <= '9')
        return parse_delta(value, len);
    return parse_date(value, len, now_s);
}
