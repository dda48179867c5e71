/* html.h - what every page of the conversation viewer is made of: escaping (text,
 * attributes, URL query values), web addresses checked before they become links, times
 * written the same way everywhere, form bodies and query values decoded, and the page's
 * frame (head, search bar, end).
 *
 * Everything a page shows that came from a record goes through arb_html_text or
 * arb_html_attr: those escape &, <, >, " and ' and drop bytes that are not allowed in HTML
 * (NUL and C0 controls other than tab and newline), so no record can add markup, attributes
 * or script. Pages load their one stylesheet and one script from /static/ and carry no
 * inline script or style, which the Content-Security-Policy (ARB_VIEW_CSP) enforces.
 * Pure: no I/O, no clock (times are arguments). */
#ifndef ARB_HTML_H
#define ARB_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arb/buf.h"

/* Sent with every page. Images and media only from https: (after a click); scripts and
 * styles only from the viewer itself; no frames, no plugins, forms only back to the viewer. */
#define ARB_VIEW_CSP                                                                           \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https:; "        \
    "media-src https:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

/* The stylesheet and the script (src/core/assets/, embedded at build time). */
extern const unsigned char arb_view_css[], arb_view_js[];
extern const size_t arb_view_css_len, arb_view_js_len;

void arb_html_text(struct arb_buf *out, const char *s, size_t len);
void arb_html_puts(struct arb_buf *out, const char *s); /* NUL-terminated s; NULL: nothing */
void arb_html_attr(struct arb_buf *out, const char *s); /* same escaping, for "..." values */
/* Percent-encode for a query value (RFC 3986 unreserved kept). */
void arb_url_encode(struct arb_buf *out, const char *s);

/* A web address that may become a link: http:// or https://, a host of letters, digits,
 * '-', '.', '_' or an IPv6 literal, an optional port, no user info, no control characters
 * or spaces. Its host (without port) goes to host. */
bool arb_url_web(const char *url, char *host, size_t host_size);
/* The last path segment of a web address (without query), percent-decoded, for a file
 * name; "" when there is none. */
void arb_url_file_name(const char *url, char *out, size_t size);

/* The times shown are within this many seconds of 1970 (9999-12-31T23:59:59Z). */
#define ARB_HTML_TIME_MAX_S INT64_C(253402300799)

/* ms since the epoch as "2024-07-05 06:05:00 UTC" (with ".123" when with_ms), and as
 * "2024-07-05T06:05:00Z" (with ms when with_ms) for datetime attributes; "(out of range)"
 * beyond ARB_HTML_TIME_MAX_S either way. */
void arb_html_time(struct arb_buf *out, int64_t ms, bool with_ms);
void arb_html_time_iso(struct arb_buf *out, int64_t ms, bool with_ms);

/* The value of name in an application/x-www-form-urlencoded body or query string (len
 * bytes), '+' and %XX decoded, into out (NUL-terminated): 0. 1 when absent; -1 when
 * malformed (a bad escape, a decoded NUL) or longer than size - 1. */
int arb_form_value(const char *body, size_t len, const char *name, char *out, size_t size);

/* What the search bar shows (NULL: empty). */
struct arb_page_search {
    const char *call_id;
    const char *from;
    const char *until;
};

/* <!DOCTYPE html> ... <body> with the title (escaped), the stylesheet, the script (deferred)
 * and the search bar; then the page's content; then arb_page_end. */
void arb_page_begin(struct arb_buf *out, const char *title, const struct arb_page_search *search);
void arb_page_end(struct arb_buf *out);

/* A page that only says something: a title and a paragraph (both escaped). */
void arb_page_message(struct arb_buf *out, const char *title, const char *text,
                      const struct arb_page_search *search);

#endif
