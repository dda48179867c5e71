/* view_request.c - routing and authorization of the viewer's requests (see view_request.h).
 *
 * Tokens are compared as SHA-256 digests with CRYPTO_memcmp, so neither their bytes nor
 * their length show in the time taken. */
#include "arb/view_request.h"

#include "arb/html.h"
#include "arb/selection.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- answers ---- */

static int answer_set(struct arb_view_answer *answer, unsigned status, const char *error,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int answer_set(struct arb_view_answer *answer, unsigned status, const char *error,
                      const char *fmt, ...)
{
    va_list ap;
    memset(answer, 0, sizeof(*answer));
    answer->status = status;
    answer->error = error;
    va_start(ap, fmt);
    vsnprintf(answer->message, sizeof(answer->message), fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- arguments ---- */

struct source {
    arb_view_arg_fn *arg;
    void *opaque;
    const char *body;
    size_t body_len;
};

/* The argument's value into out: from the body of a POST, else from the query. 0 found,
 * 1 absent, -1 too long or malformed. */
static int get(const struct source *src, const char *name, char *out, size_t size)
{
    if (src->body != NULL)
        return arb_form_value(src->body, src->body_len, name, out, size);
    const char *value = src->arg != NULL ? src->arg(src->opaque, name) : NULL;
    if (value == NULL)
        return 1;
    size_t len = strlen(value);
    if (len >= size)
        return -1;
    memcpy(out, value, len + 1);
    return 0;
}

static int get_time(const struct source *src, const char *name, char *text, size_t size,
                    bool *has, int64_t *ms, struct arb_view_answer *answer)
{
    struct arb_error err;
    int rc = get(src, name, text, size);
    if (rc < 0)
        return answer_set(answer, 400, "bad_request", "%s: too long", name);
    if (rc > 0 || text[0] == '\0') {
        text[0] = '\0';
        return 0;
    }
    if (arb_time_parse(text, ms, &err) != 0)
        return answer_set(answer, 400, "bad_request", "%s: not a time (use RFC 3339, e.g. "
                                                      "2026-11-23T10:05:00Z, or epoch ms)", name);
    *has = true;
    return 0;
}

static int get_number(const struct source *src, const char *name, int64_t max, int64_t *out,
                      struct arb_view_answer *answer)
{
    char text[24];
    if (get(src, name, text, sizeof(text)) != 0 || text[0] == '\0' ||
        strspn(text, "0123456789") != strlen(text) || strlen(text) > 18)
        return answer_set(answer, 400, "bad_request", "%s: expected a number", name);
    long long value = strtoll(text, NULL, 10);
    if (value > max)
        return answer_set(answer, 400, "bad_request", "%s: out of range", name);
    *out = value;
    return 0;
}

static int get_call_id(const struct source *src, struct arb_view_request *req, bool required,
                       struct arb_view_answer *answer)
{
    int rc = get(src, "call_id", req->call_id, sizeof(req->call_id));
    if (rc < 0)
        return answer_set(answer, 400, "bad_request", "call_id: too long or malformed");
    if (rc > 0)
        req->call_id[0] = '\0';
    req->searched = rc == 0 || req->from[0] != '\0' || req->until[0] != '\0' ||
                    (src->body == NULL && src->arg != NULL &&
                     (src->arg(src->opaque, "from") != NULL || src->arg(src->opaque, "until") != NULL));
    if (required && req->call_id[0] == '\0')
        return answer_set(answer, 400, "bad_request", "call_id: required");
    return 0;
}

static int get_record(const struct source *src, struct arb_view_request *req,
                      struct arb_view_answer *answer)
{
    int64_t partition = 0;
    struct arb_error err;
    if (get(src, "topic", req->topic, sizeof(req->topic)) != 0 ||
        arb_route_check(req->topic, &err) != 0 || strchr(req->topic, '{') != NULL)
        return answer_set(answer, 400, "bad_request", "topic: missing or not a topic name");
    if (get_number(src, "partition", INT32_MAX, &partition, answer) != 0 ||
        get_number(src, "offset", INT64_MAX / 2, &req->offset, answer) != 0)
        return -1;
    req->partition = (int32_t)partition;
    return 0;
}

/* ---- routing ---- */

int arb_view_request_parse(const char *method, const char *path, arb_view_arg_fn *arg,
                           void *opaque, const char *body, size_t body_len,
                           struct arb_view_request *req, struct arb_view_answer *answer)
{
    bool get_like = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    bool post = strcmp(method, "POST") == 0;
    const struct source query = {arg, opaque, NULL, 0};
    const struct source form = {arg, opaque, body != NULL ? body : "", body != NULL ? body_len : 0};

    memset(req, 0, sizeof(*req));
    memset(answer, 0, sizeof(*answer));
    if (strcmp(path, "/static/viewer.css") == 0 || strcmp(path, "/static/viewer.js") == 0 ||
        strcmp(path, "/healthz") == 0 || strcmp(path, "/") == 0 ||
        strcmp(path, "/search.json") == 0 || strcmp(path, "/conversation") == 0 ||
        strcmp(path, "/conversation.json") == 0) {
        if (!get_like) {
            answer_set(answer, 405, "method_not_allowed", "use GET");
            answer->allow = "GET, HEAD";
            return -1;
        }
    } else if (strcmp(path, "/resend") == 0) {
        if (!get_like && !post) {
            answer_set(answer, 405, "method_not_allowed", "use GET to confirm, POST to re-send");
            answer->allow = "GET, HEAD, POST";
            return -1;
        }
    } else if (strcmp(path, "/resend.json") == 0) {
        if (!post) {
            answer_set(answer, 405, "method_not_allowed", "use POST");
            answer->allow = "POST";
            return -1;
        }
    } else {
        return answer_set(answer, 404, "not_found", "no such page");
    }

    if (strcmp(path, "/static/viewer.css") == 0) {
        req->page = ARB_VIEW_CSS;
        return 0;
    }
    if (strcmp(path, "/static/viewer.js") == 0) {
        req->page = ARB_VIEW_JS;
        return 0;
    }
    if (strcmp(path, "/healthz") == 0) {
        req->page = ARB_VIEW_HEALTH;
        return 0;
    }
    req->post = post;
    req->json = strstr(path, ".json") != NULL;
    const struct source *src = post ? &form : &query;
    if (get_time(src, "from", req->from, sizeof(req->from), &req->has_from, &req->from_ms,
                 answer) != 0 ||
        get_time(src, "until", req->until, sizeof(req->until), &req->has_until,
                 &req->until_ms, answer) != 0)
        return -1;
    if (req->has_from && req->has_until && req->from_ms > req->until_ms)
        return answer_set(answer, 400, "bad_request", "from is after until");

    if (strcmp(path, "/") == 0 || strcmp(path, "/search.json") == 0) {
        req->page = ARB_VIEW_SEARCH;
        return get_call_id(src, req, false, answer);
    }
    if (strncmp(path, "/conversation", 13) == 0) {
        req->page = ARB_VIEW_CONVERSATION;
        return get_call_id(src, req, true, answer);
    }
    req->page = post ? ARB_VIEW_RESEND : ARB_VIEW_CONFIRM;
    if (get_call_id(src, req, true, answer) != 0 || get_record(src, req, answer) != 0)
        return -1;
    if (post) {
        int rc = get(src, "token", req->token, sizeof(req->token));
        if (rc < 0)
            return answer_set(answer, 400, "bad_request", "token: too long or malformed");
        req->has_token = rc == 0;
    }
    return 0;
}

/* ---- authorization ---- */

static void digest(const void *data, size_t len, unsigned char out[32])
{
    unsigned int n = 32;
    EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

static bool token_matches(const struct arb_view_policy *policy, const char *given, size_t len)
{
    unsigned char want[32], got[32];
    if (policy->token == NULL || policy->token_len == 0 || given == NULL)
        return false;
    digest(policy->token, policy->token_len, want);
    digest(given, len, got);
    return CRYPTO_memcmp(want, got, sizeof(want)) == 0;
}

/* The token of "Bearer T" (bearer_only) or of "Basic base64(user:T)". */
static bool header_token(const struct arb_view_policy *policy, const char *authorization,
                         bool bearer_only)
{
    if (authorization == NULL)
        return false;
    if (strncasecmp(authorization, "Bearer ", 7) == 0) {
        const char *t = authorization + 7;
        return token_matches(policy, t, strlen(t));
    }
    if (bearer_only || strncasecmp(authorization, "Basic ", 6) != 0)
        return false;
    const char *b64 = authorization + 6;
    size_t len = strlen(b64);
    if (len == 0 || len > 4 * ((ARB_VIEW_TOKEN_MAX + 256) / 3) || len % 4 != 0)
        return false;
    unsigned char decoded[ARB_VIEW_TOKEN_MAX + 260];
    int n = EVP_DecodeBlock(decoded, (const unsigned char *)b64, (int)len);
    if (n < 0)
        return false;
    while (n > 0 && len > 0 && b64[--len] == '=') /* EVP_DecodeBlock counts the padding */
        n--;
    const unsigned char *colon = memchr(decoded, ':', (size_t)n);
    if (colon == NULL)
        return false;
    size_t token_len = (size_t)n - (size_t)(colon + 1 - decoded);
    bool ok = token_matches(policy, (const char *)colon + 1, token_len);
    OPENSSL_cleanse(decoded, sizeof(decoded));
    return ok;
}

/* "http://host:port" (any scheme) names the host of the Host header. */
static bool same_origin(const char *origin, const char *host)
{
    const char *p = strstr(origin, "://");
    if (p == NULL || host == NULL)
        return false;
    p += 3;
    return strcasecmp(p, host) == 0;
}

int arb_view_authorize(const struct arb_view_policy *policy, const struct arb_view_request *req,
                       const struct arb_view_headers *headers, struct arb_view_answer *answer)
{
    memset(answer, 0, sizeof(*answer));
    if (req->page == ARB_VIEW_HEALTH || req->page == ARB_VIEW_CSS || req->page == ARB_VIEW_JS)
        return 0;
    if (policy->exposed && !header_token(policy, headers->authorization, false)) {
        answer_set(answer, 401, "unauthorized", "this viewer needs its token");
        answer->challenge = true;
        return -1;
    }
    if (req->page != ARB_VIEW_RESEND && req->page != ARB_VIEW_CONFIRM)
        return 0;
    if (policy->token == NULL || policy->token_len == 0)
        return answer_set(answer, 403, "resend_disabled",
                          "re-sending is off: set viewer.token to allow it");
    if (req->page == ARB_VIEW_CONFIRM)
        return 0;
    /* A browser says where a POST comes from; scripts (curl) say nothing, and need the
     * token all the same. */
    if ((headers->origin != NULL && !same_origin(headers->origin, headers->host)) ||
        (headers->sec_fetch_site != NULL && strcmp(headers->sec_fetch_site, "same-origin") != 0))
        return answer_set(answer, 403, "cross_site", "a re-send must come from the viewer's own "
                                                     "page");
    bool ok = req->has_token ? token_matches(policy, req->token, strlen(req->token))
                             : header_token(policy, headers->authorization, true);
    if (!ok)
        return answer_set(answer, 403, "bad_token", "wrong or missing token");
    return 0;
}
