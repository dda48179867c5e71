/* view_request.h - what a request to the conversation viewer asks for, and whether it may
 * have it. Pure: the adapter (src/replay/viewer.c) hands over the method, the path, a way to
 * look up query arguments, the body and a few headers, and gets back the page to build or
 * the answer to give.
 *
 *   GET  /                         search (call_id, from, until)      /search.json
 *   GET  /conversation             one conversation (call_id, from, until)
 *   GET  /conversation.json        the same as JSON
 *   GET  /resend                   confirm a re-send (call_id, topic, partition, offset)
 *   POST /resend                   re-send (the same, and token; form-urlencoded)
 *   POST /resend.json              the same, answered with JSON
 *   GET  /static/viewer.css, /static/viewer.js, /healthz
 *
 * Who may do what. Reading is open on a loopback address and needs the token anywhere else
 * (Authorization: Bearer TOKEN, or Basic with TOKEN as the password, which lets a browser
 * ask for it). A re-send needs the token, always, in the form's token field or a Bearer
 * header (never a Basic one, which a browser would send on its own), and is refused when
 * no token is configured, or when the request comes from another site (Origin not this
 * host, or Sec-Fetch-Site cross-site). Tokens are compared in constant time. */
#ifndef ARB_VIEW_REQUEST_H
#define ARB_VIEW_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arb/route.h"

#define ARB_VIEW_CALL_ID_MAX 512
#define ARB_VIEW_TIME_MAX 64
#define ARB_VIEW_TOKEN_MAX 512
#define ARB_VIEW_BODY_MAX 8192 /* a re-send form is a few hundred bytes */

enum arb_view_page {
    ARB_VIEW_SEARCH = 1,
    ARB_VIEW_CONVERSATION,
    ARB_VIEW_CONFIRM,
    ARB_VIEW_RESEND,
    ARB_VIEW_CSS,
    ARB_VIEW_JS,
    ARB_VIEW_HEALTH,
};

struct arb_view_request {
    enum arb_view_page page;
    bool json;
    bool post;
    bool searched; /* the search form was sent (any of call_id, from, until given) */
    char call_id[ARB_VIEW_CALL_ID_MAX];
    char from[ARB_VIEW_TIME_MAX], until[ARB_VIEW_TIME_MAX]; /* as typed, "" = none */
    bool has_from, has_until;
    int64_t from_ms, until_ms;
    char topic[ARB_TOPIC_MAX + 1]; /* the record a re-send starts from */
    int32_t partition;
    int64_t offset;
    char token[ARB_VIEW_TOKEN_MAX]; /* a re-send's form field */
    bool has_token;
};

/* An answer the viewer gives without building a page. */
struct arb_view_answer {
    unsigned status;
    const char *error;  /* a short word for JSON, e.g. "not_found" */
    char message[256];  /* for people; never echoes a token */
    const char *allow;  /* for 405 */
    bool challenge;     /* 401: add WWW-Authenticate: Basic */
};

/* The value of a query argument, or NULL. */
typedef const char *arb_view_arg_fn(void *opaque, const char *name);

/* 0 with req filled, or -1 with answer (404, 405, 400 naming the bad argument). body is a
 * POST's (form-urlencoded), NULL for a GET. */
int arb_view_request_parse(const char *method, const char *path, arb_view_arg_fn *arg,
                           void *opaque, const char *body, size_t body_len,
                           struct arb_view_request *req, struct arb_view_answer *answer);

struct arb_view_policy {
    const char *token; /* "" = none */
    size_t token_len;
    bool exposed; /* listening beyond loopback */
};

/* The headers authorization needs (NULL when absent). */
struct arb_view_headers {
    const char *authorization;
    const char *origin;
    const char *sec_fetch_site;
    const char *host;
};

/* 0 when the request may go on, else -1 with answer (401, 403). */
int arb_view_authorize(const struct arb_view_policy *policy, const struct arb_view_request *req,
                       const struct arb_view_headers *headers, struct arb_view_answer *answer);

#endif
