/* html.c - escaping, web addresses, times and the page frame of the viewer (see html.h).
 *
 * Escaping writes the five HTML-significant characters as entities and drops what HTML
 * forbids in text (NUL, C0 controls but tab, LF and CR, and DEL); everything else, UTF-8
 * included, goes through unchanged: invalid UTF-8 is the browser's to replace, it can never
 * open a tag. Times are computed from the epoch by arithmetic (civil_from_days, H.
 * Hinnant's), so nothing depends on the time zone or on the C library's tables. */
#include "arb/html.h"

#include <stdio.h>
#include <string.h>

/* ---- escaping ---- */

static bool dropped(unsigned char c)
{
    return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f;
}

void arb_html_text(struct arb_buf *out, const char *s, size_t len)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        const char *entity = NULL;
        switch (s[i]) {
        case '&': entity = "&amp;"; break;
        case '<': entity = "&lt;"; break;
        case '>': entity = "&gt;"; break;
        case '"': entity = "&quot;"; break;
        case '\'': entity = "&#39;"; break;
        default:
            if (!dropped((unsigned char)s[i]))
                continue;
            entity = "";
        }
        arb_buf_append(out, s + start, i - start);
        arb_buf_puts(out, entity);
        start = i + 1;
    }
    arb_buf_append(out, s + start, len - start);
}

void arb_html_puts(struct arb_buf *out, const char *s)
{
    if (s != NULL)
        arb_html_text(out, s, strlen(s));
}

void arb_html_attr(struct arb_buf *out, const char *s)
{
    arb_html_puts(out, s);
}

void arb_url_encode(struct arb_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; s != NULL && *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            arb_buf_append(out, s, 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            arb_buf_append(out, esc, 3);
        }
    }
}

/* ---- web addresses ---- */

static bool host_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_';
}

bool arb_url_web(const char *url, char *host, size_t host_size)
{
    const char *p;
    if (url == NULL || host_size == 0)
        return false;
    if (strncmp(url, "https://", 8) == 0)
        p = url + 8;
    else if (strncmp(url, "http://", 7) == 0)
        p = url + 7;
    else
        return false;
    for (const char *q = url; *q != '\0'; q++)
        if ((unsigned char)*q <= 0x20 || *q == 0x7f || *q == '\\' || *q == '"' || *q == '<' ||
            *q == '>')
            return false;

    const char *start = p, *end;
    if (*p == '[') {
        end = strchr(p, ']');
        if (end == NULL)
            return false;
        for (const char *q = p + 1; q < end; q++)
            if (!((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'f') || (*q >= 'A' && *q <= 'F') ||
                  *q == ':' || *q == '.'))
                return false;
        end++;
    } else {
        end = p;
        while (host_char(*end))
            end++;
    }
    size_t len = (size_t)(end - start);
    if (len == 0 || len >= host_size || (*end != '\0' && *end != ':' && *end != '/' &&
                                         *end != '?' && *end != '#'))
        return false; /* '@' (user info) or anything odd ends up here */
    if (*end == ':') {
        const char *port = end + 1;
        size_t digits = strspn(port, "0123456789");
        if (digits == 0 || digits > 5 ||
            (port[digits] != '\0' && port[digits] != '/' && port[digits] != '?' &&
             port[digits] != '#'))
            return false;
    }
    memcpy(host, start, len);
    host[len] = '\0';
    return true;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void arb_url_file_name(const char *url, char *out, size_t size)
{
    size_t end = strcspn(url, "?#"), start = end, n = 0;
    while (start > 0 && url[start - 1] != '/')
        start--;
    if (start < 3 || url[start - 2] == '/') /* "https://host" has no path segment */
        start = end;
    for (size_t i = start; i < end && n + 1 < size; i++) {
        int hi, lo;
        if (url[i] == '%' && i + 2 < end && (hi = hex_value(url[i + 1])) >= 0 &&
            (lo = hex_value(url[i + 2])) >= 0 && (hi | lo) != 0) {
            out[n++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[n++] = url[i];
        }
    }
    out[n] = '\0';
    /* a %2F decoded inside the segment: keep what follows the last slash */
    char *slash = strrchr(out, '/');
    if (slash != NULL)
        memmove(out, slash + 1, strlen(slash + 1) + 1);
}

/* ---- times ---- */

struct civil {
    int64_t year;
    int month, day, hour, minute, second, ms;
};

static struct civil civil_of(int64_t ms)
{
    struct civil c;
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    c.ms = (int)(ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t rem = secs - days * 86400;
    c.hour = (int)(rem / 3600);
    c.minute = (int)(rem / 60 % 60);
    c.second = (int)(rem % 60);
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    c.day = (int)(doy - (153 * mp + 2) / 5 + 1);
    c.month = (int)(mp < 10 ? mp + 3 : mp - 9);
    c.year = yoe + era * 400 + (c.month <= 2);
    return c;
}

/* Date, separator, time, the milliseconds if asked, then the zone's name. */
static void put_time(struct arb_buf *out, int64_t ms, bool with_ms, char separator,
                     const char *zone)
{
    if (ms < -ARB_HTML_TIME_MAX_S * 1000 || ms > ARB_HTML_TIME_MAX_S * 1000) {
        arb_buf_puts(out, "(out of range)");
        return;
    }
    struct civil c = civil_of(ms);
    arb_buf_printf(out, "%04lld-%02d-%02d%c%02d:%02d:%02d", (long long)c.year, c.month, c.day,
                   separator, c.hour, c.minute, c.second);
    if (with_ms)
        arb_buf_printf(out, ".%03d", c.ms);
    arb_buf_puts(out, zone);
}

void arb_html_time(struct arb_buf *out, int64_t ms, bool with_ms)
{
    put_time(out, ms, with_ms, ' ', " UTC");
}

void arb_html_time_iso(struct arb_buf *out, int64_t ms, bool with_ms)
{
    put_time(out, ms, with_ms, 'T', "Z");
}

/* ---- forms ---- */

/* Decode [s, s + len) into out; -1 on a bad escape, a NUL or no room. */
static int form_decode(const char *s, size_t len, char *out, size_t size)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0' || n + 1 >= size)
            return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    return 0;
}

int arb_form_value(const char *body, size_t len, const char *name, char *out, size_t size)
{
    size_t name_len = strlen(name), i = 0;
    if (size == 0)
        return -1;
    while (i <= len && body != NULL) {
        size_t end = i;
        while (end < len && body[end] != '&')
            end++;
        const char *eq = memchr(body + i, '=', end - i);
        size_t key_len = eq != NULL ? (size_t)(eq - (body + i)) : end - i;
        if (key_len == name_len && memcmp(body + i, name, name_len) == 0) {
            const char *value = eq != NULL ? eq + 1 : body + end;
            return form_decode(value, (size_t)(body + end - value), out, size) == 0 ? 0 : -1;
        }
        i = end + 1;
    }
    return 1;
}

/* ---- the frame ---- */

static void search_field(struct arb_buf *out, const char *label, const char *name,
                         const char *value, const char *placeholder)
{
    arb_buf_printf(out, "<label>%s <input type=\"text\" name=\"%s\" value=\"", label, name);
    arb_html_attr(out, value);
    arb_buf_printf(out, "\" placeholder=\"%s\"></label>", placeholder);
}

void arb_page_begin(struct arb_buf *out, const char *title, const struct arb_page_search *search)
{
    static const struct arb_page_search none = {0};
    if (search == NULL)
        search = &none;
    arb_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                      "<meta name=\"referrer\" content=\"same-origin\"><title>");
    arb_html_puts(out, title);
    arb_buf_puts(out, " - airudder viewer</title>"
                      "<link rel=\"stylesheet\" href=\"/static/viewer.css\">"
                      "<script src=\"/static/viewer.js\" defer></script></head>\n<body>"
                      "<header class=\"top\"><a class=\"home\" href=\"/\">airudder viewer</a>"
                      "<form class=\"search\" method=\"get\" action=\"/\">");
    search_field(out, "call_id", "call_id", search->call_id, "any (or part of one)");
    search_field(out, "from", "from", search->from, "2026-11-23T10:00:00Z");
    search_field(out, "until", "until", search->until, "epoch ms or RFC 3339");
    arb_buf_puts(out, "<button type=\"submit\">Search</button></form></header>\n<main>");
}

void arb_page_end(struct arb_buf *out)
{
    arb_buf_puts(out, "</main></body></html>\n");
}

void arb_page_message(struct arb_buf *out, const char *title, const char *text,
                      const struct arb_page_search *search)
{
    arb_page_begin(out, title, search);
    arb_buf_puts(out, "<h1>");
    arb_html_puts(out, title);
    arb_buf_puts(out, "</h1><p class=\"notice\">");
    arb_html_puts(out, text);
    arb_buf_puts(out, "</p>");
    arb_page_end(out);
}
