/* test_edge.c - the HTTP edge before a body is read (core/edge.c): the framing rules that
 * refuse a request with 400 and close (header names, NUL and line breaks, Content-Length and
 * Transfer-Encoding, Host), then routing (operator paths, event endpoints and their {token}
 * segment, 404, 405 with Allow), the media type (415) and the declared size (413); and the
 * deadlines of a slow connection (arb_edge_overdue). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "arb/edge.h"

#include "support.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_HEADERS 6
#define S INT64_C(1000000000)
#define MS INT64_C(1000000)

/* A header from two string literals, NULs inside included. */
#define H(n, v) {n, sizeof(n) - 1, v, sizeof(v) - 1}
#define HOST H("Host", "bridge.example")
#define JSON H("Content-Type", "application/json")
#define LENGTH_2 H("Content-Length", "2")

static const char conf_text[] =
    "http = { max_body_bytes = 2048; };\n"
    "endpoints = ( { path = \"/v1/events\"; auth = \"none\"; },\n"
    "              { path = \"/hooks/{token}\"; auth = \"token\";\n"
    "                token = { secrets = [ \"t\" ]; }; } );\n";

static struct arb_bridge_conf *conf;

static int setup(void **state)
{
    *state = conf = bridge_conf_of(conf_text);
    return 0;
}

static size_t count_headers(const struct arb_head_header *headers)
{
    size_t n = 0;
    while (n < MAX_HEADERS && headers[n].name != NULL)
        n++;
    return n;
}

/* ---- framing: 400 and close ------------------------------------------------------------ */

struct framing_case {
    const char *name;
    const char *method, *version, *raw_uri, *path; /* NULL: POST, HTTP/1.1, path = raw_uri */
    struct arb_head_header headers[MAX_HEADERS];
    const char *detail;
};

static const struct framing_case framing_cases[] = {
    {"space in a header name", .headers = {HOST, JSON, H("X Bad", "1")},
     .detail = "malformed header name"},
    {"empty header name", .headers = {HOST, JSON, H("", "1")}, .detail = "malformed header name"},
    {"separator in a header name", .headers = {HOST, H("X(a)", "1")},
     .detail = "malformed header name"},
    {"colon in a header name", .headers = {HOST, H("X:a", "1")},
     .detail = "malformed header name"},
    {"non-ASCII header name", .headers = {HOST, H("X-\xC3\xA9", "1")},
     .detail = "malformed header name"},
    {"NUL in a header value", .headers = {HOST, JSON, H("X-A", "a\0b")},
     .detail = "NUL or line break in a header value"},
    {"CR in a header value", .headers = {HOST, JSON, H("X-A", "a\rb")},
     .detail = "NUL or line break in a header value"},
    {"LF in a header value", .headers = {HOST, JSON, H("X-A", "a\nX-Injected: 1")},
     .detail = "NUL or line break in a header value"},
    {"CR in the raw path", .raw_uri = "/v1/events\r", .headers = {HOST, JSON},
     .detail = "NUL or line break in the path"},
    {"LF in the raw path", .raw_uri = "/v1/\nevents", .headers = {HOST, JSON},
     .detail = "NUL or line break in the path"},
    {"%00 in the raw path", .raw_uri = "/v1/events%00.json", .path = "/v1/events",
     .headers = {HOST, JSON}, .detail = "NUL or line break in the path"},
    {"%0A decoded into the path", .raw_uri = "/hooks/t%0A", .path = "/hooks/t\n",
     .headers = {HOST, JSON}, .detail = "NUL or line break in the path"},
    {"%0D decoded into the path", .raw_uri = "/v1/events%0D", .path = "/v1/events\r",
     .headers = {HOST, JSON}, .detail = "NUL or line break in the path"},
    {"Content-Length and Transfer-Encoding",
     .headers = {HOST, JSON, LENGTH_2, H("Transfer-Encoding", "chunked")},
     .detail = "Content-Length and Transfer-Encoding together"},
    {"Transfer-Encoding, then Content-Length",
     .headers = {HOST, JSON, H("transfer-encoding", "chunked"), H("content-length", "2")},
     .detail = "Content-Length and Transfer-Encoding together"},
    {"two equal Content-Lengths", .headers = {HOST, JSON, LENGTH_2, LENGTH_2},
     .detail = "more than one Content-Length"},
    {"two Content-Lengths, names in other cases",
     .headers = {HOST, JSON, H("content-length", "2"), H("CONTENT-LENGTH", "3")},
     .detail = "more than one Content-Length"},
    {"Content-Length not a number", .headers = {HOST, JSON, H("Content-Length", "abc")},
     .detail = "malformed Content-Length"},
    {"Content-Length empty", .headers = {HOST, JSON, H("Content-Length", "")},
     .detail = "malformed Content-Length"},
    {"Content-Length of spaces", .headers = {HOST, JSON, H("Content-Length", "  ")},
     .detail = "malformed Content-Length"},
    {"Content-Length negative", .headers = {HOST, JSON, H("Content-Length", "-1")},
     .detail = "malformed Content-Length"},
    {"Content-Length with a sign", .headers = {HOST, JSON, H("Content-Length", "+2")},
     .detail = "malformed Content-Length"},
    {"Content-Length a list", .headers = {HOST, JSON, H("Content-Length", "2, 2")},
     .detail = "malformed Content-Length"},
    {"Content-Length in hex", .headers = {HOST, JSON, H("Content-Length", "0x10")},
     .detail = "malformed Content-Length"},
    {"Content-Length overflowing",
     .headers = {HOST, JSON, H("Content-Length", "99999999999999999999")},
     .detail = "malformed Content-Length"},
    {"two Transfer-Encodings",
     .headers = {HOST, JSON, H("Transfer-Encoding", "chunked"), H("Transfer-Encoding", "chunked")},
     .detail = "more than one Transfer-Encoding"},
    {"Transfer-Encoding gzip", .headers = {HOST, JSON, H("Transfer-Encoding", "gzip")},
     .detail = "Transfer-Encoding other than chunked"},
    {"Transfer-Encoding gzip, chunked",
     .headers = {HOST, JSON, H("Transfer-Encoding", "gzip, chunked")},
     .detail = "Transfer-Encoding other than chunked"},
    {"Transfer-Encoding identity", .headers = {HOST, JSON, H("Transfer-Encoding", "identity")},
     .detail = "Transfer-Encoding other than chunked"},
    {"Transfer-Encoding chunkedx", .headers = {HOST, JSON, H("Transfer-Encoding", "chunkedx")},
     .detail = "Transfer-Encoding other than chunked"},
    {"Host missing on HTTP/1.1", .headers = {JSON, LENGTH_2}, .detail = "Host missing"},
    {"two Hosts", .headers = {HOST, JSON, LENGTH_2, H("host", "other.example")},
     .detail = "more than one Host"},
    {"two Hosts on HTTP/1.0", .version = "HTTP/1.0", .headers = {HOST, HOST},
     .detail = "more than one Host"},
    {"framing is checked before the operator paths", .method = "GET", .raw_uri = "/healthz",
     .headers = {HOST, HOST}, .detail = "more than one Host"},
    {"framing is checked before 404", .raw_uri = "/nowhere", .headers = {JSON, LENGTH_2},
     .detail = "Host missing"},
};

static void test_framing_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(framing_cases); i++) {
        const struct framing_case *c = &framing_cases[i];
        const char *raw_uri = c->raw_uri != NULL ? c->raw_uri : "/v1/events";
        const struct arb_head head = {
            .method = c->method != NULL ? c->method : "POST",
            .version = c->version != NULL ? c->version : "HTTP/1.1",
            .raw_uri = raw_uri,
            .path = c->path != NULL ? c->path : raw_uri,
            .headers = c->headers,
            .nheaders = count_headers(c->headers),
        };
        struct arb_head_verdict v;
        print_message("case: %s\n", c->name);
        arb_edge_check_head(conf, &head, &v);
        assert_int_equal(v.status, 400);
        assert_string_equal(v.error, "bad_request");
        assert_string_equal(v.detail, c->detail);
        assert_true(v.close);
        assert_null(v.allow);
        assert_null(v.endpoint);
    }
}

/* ---- routing, media type, size --------------------------------------------------------- */

struct route_case {
    const char *name;
    const char *method, *version, *path; /* NULL: POST, HTTP/1.1 */
    struct arb_head_header headers[MAX_HEADERS];
    int status; /* 0: read the body */
    const char *error, *detail, *allow;
    bool close;
    enum arb_route_kind kind;
    int endpoint;      /* index in conf->endpoints, -1 for none */
    const char *token; /* NULL: none */
    int64_t length;    /* declared_length, when status is 0 or 413 */
};

#define EVENTS ARB_HEAD_EVENTS
#define NOT_JSON "Content-Type must be application/json"

static const struct route_case route_cases[] = {
    {"an event with its length", .path = "/v1/events", .headers = {HOST, JSON, LENGTH_2},
     .kind = EVENTS, .endpoint = 0, .length = 2},
    {"chunked: no declared length", .path = "/v1/events",
     .headers = {HOST, JSON, H("Transfer-Encoding", "chunked")}, .kind = EVENTS, .endpoint = 0,
     .length = -1},
    {"chunked in another case, spaces around",
     .path = "/v1/events", .headers = {HOST, JSON, H("transfer-encoding", " Chunked\t")},
     .kind = EVENTS, .endpoint = 0, .length = -1},
    {"neither length nor coding", .path = "/v1/events", .headers = {HOST, JSON},
     .kind = EVENTS, .endpoint = 0, .length = -1},
    {"Content-Length with spaces and leading zeros", .path = "/v1/events",
     .headers = {HOST, JSON, H("Content-Length", " 0042 ")}, .kind = EVENTS, .endpoint = 0,
     .length = 42},
    {"Content-Length 0", .path = "/v1/events", .headers = {HOST, JSON, H("Content-Length", "0")},
     .kind = EVENTS, .endpoint = 0, .length = 0},
    {"Host may be missing on HTTP/1.0", .version = "HTTP/1.0", .path = "/v1/events",
     .headers = {JSON, LENGTH_2}, .kind = EVENTS, .endpoint = 0, .length = 2},
    {"every token character in a header name", .path = "/v1/events",
     .headers = {HOST, JSON, H("!#$%&'*+-.^_`|~0aZ", "x")}, .kind = EVENTS, .endpoint = 0,
     .length = -1},
    {"tab and spaces in a header value", .path = "/v1/events",
     .headers = {HOST, JSON, H("X-A", "a \t b")}, .kind = EVENTS, .endpoint = 0, .length = -1},
    {"length exactly http.max_body_bytes", .path = "/v1/events",
     .headers = {HOST, JSON, H("Content-Length", "2048")}, .kind = EVENTS, .endpoint = 0,
     .length = 2048},
    {"length over http.max_body_bytes", .path = "/v1/events",
     .headers = {HOST, JSON, H("Content-Length", "2049")}, .status = 413,
     .error = "body_too_large", .close = true, .kind = EVENTS, .endpoint = 0, .length = 2049},
    {"length far over", .path = "/v1/events",
     .headers = {HOST, JSON, H("Content-Length", "999999999999999999")}, .status = 413,
     .error = "body_too_large", .close = true, .kind = EVENTS, .endpoint = 0,
     .length = INT64_C(999999999999999999)},
    /* the media type */
    {"application/json; charset", .path = "/v1/events",
     .headers = {HOST, H("Content-Type", "application/json; charset=utf-8"), LENGTH_2},
     .kind = EVENTS, .endpoint = 0, .length = 2},
    {"application/json;charset", .path = "/v1/events",
     .headers = {HOST, H("Content-Type", "application/json;charset=UTF-8"), LENGTH_2},
     .kind = EVENTS, .endpoint = 0, .length = 2},
    {"application/json in capitals, header name in lower case", .path = "/v1/events",
     .headers = {HOST, H("content-type", "Application/JSON"), LENGTH_2}, .kind = EVENTS,
     .endpoint = 0, .length = 2},
    {"application/json between spaces", .path = "/v1/events",
     .headers = {HOST, H("Content-Type", " application/json \t"), LENGTH_2}, .kind = EVENTS,
     .endpoint = 0, .length = 2},
    {"application/json, space, parameter", .path = "/v1/events",
     .headers = {HOST, H("Content-Type", "application/json ;charset=utf-8"), LENGTH_2},
     .kind = EVENTS, .endpoint = 0, .length = 2},
    {"application/jsonx", .path = "/v1/events",
     .headers = {HOST, H("Content-Type", "application/jsonx"), LENGTH_2}, .status = 415,
     .error = "unsupported_media_type", .detail = NOT_JSON, .close = true, .kind = EVENTS,
     .endpoint = 0, .length = 2},
    {"application/json-seq", .path = "/v1/events",
     .headers = {HOST, H("Content-Type", "application/json-seq"), LENGTH_2}, .status = 415,
     .error = "unsupported_media_type", .detail = NOT_JSON, .close = true, .kind = EVENTS,
     .endpoint = 0, .length = 2},
    {"text/json", .path = "/v1/events", .headers = {HOST, H("Content-Type", "text/json"), LENGTH_2},
     .status = 415, .error = "unsupported_media_type", .detail = NOT_JSON, .close = true,
     .kind = EVENTS, .endpoint = 0, .length = 2},
    {"application/js, shorter", .path = "/v1/events",
     .headers = {HOST, H("Content-Type", "application/js"), LENGTH_2}, .status = 415,
     .error = "unsupported_media_type", .detail = NOT_JSON, .close = true, .kind = EVENTS,
     .endpoint = 0, .length = 2},
    {"no Content-Type", .path = "/v1/events", .headers = {HOST, LENGTH_2}, .status = 415,
     .error = "unsupported_media_type", .detail = NOT_JSON, .close = true, .kind = EVENTS,
     .endpoint = 0, .length = 2},
    {"415 before 413", .path = "/v1/events",
     .headers = {HOST, H("Content-Type", "text/plain"), H("Content-Length", "99999")},
     .status = 415, .error = "unsupported_media_type", .detail = NOT_JSON, .close = true,
     .kind = EVENTS, .endpoint = 0, .length = 99999},
    /* methods */
    {"GET on an event endpoint", .method = "GET", .path = "/v1/events", .headers = {HOST},
     .status = 405, .error = "method_not_allowed", .allow = "POST", .kind = EVENTS,
     .endpoint = 0, .length = -1},
    {"PUT on an event endpoint, not JSON: 405 first", .method = "PUT", .path = "/v1/events",
     .headers = {HOST, H("Content-Type", "text/plain")}, .status = 405,
     .error = "method_not_allowed", .allow = "POST", .kind = EVENTS, .endpoint = 0,
     .length = -1},
    {"post in lower case", .method = "post", .path = "/v1/events", .headers = {HOST, JSON},
     .status = 405, .error = "method_not_allowed", .allow = "POST", .kind = EVENTS,
     .endpoint = 0, .length = -1},
    /* the operator paths */
    {"GET /healthz", .method = "GET", .path = "/healthz", .headers = {HOST},
     .kind = ARB_HEAD_HEALTHZ, .endpoint = -1, .length = -1},
    {"HEAD /healthz", .method = "HEAD", .path = "/healthz", .headers = {HOST},
     .kind = ARB_HEAD_HEALTHZ, .endpoint = -1, .length = -1},
    {"GET /readyz", .method = "GET", .path = "/readyz", .headers = {HOST},
     .kind = ARB_HEAD_READYZ, .endpoint = -1, .length = -1},
    {"HEAD /readyz", .method = "HEAD", .path = "/readyz", .headers = {HOST},
     .kind = ARB_HEAD_READYZ, .endpoint = -1, .length = -1},
    {"GET /metrics", .method = "GET", .path = "/metrics", .headers = {HOST},
     .kind = ARB_HEAD_METRICS, .endpoint = -1, .length = -1},
    {"HEAD /metrics", .method = "HEAD", .path = "/metrics", .headers = {HOST},
     .kind = ARB_HEAD_METRICS, .endpoint = -1, .length = -1},
    {"POST /healthz", .path = "/healthz", .headers = {HOST, JSON, LENGTH_2}, .status = 405,
     .error = "method_not_allowed", .allow = "GET, HEAD", .kind = ARB_HEAD_HEALTHZ,
     .endpoint = -1, .length = 2},
    {"DELETE /readyz", .method = "DELETE", .path = "/readyz", .headers = {HOST}, .status = 405,
     .error = "method_not_allowed", .allow = "GET, HEAD", .kind = ARB_HEAD_READYZ,
     .endpoint = -1, .length = -1},
    {"POST /metrics", .path = "/metrics", .headers = {HOST}, .status = 405,
     .error = "method_not_allowed", .allow = "GET, HEAD", .kind = ARB_HEAD_METRICS,
     .endpoint = -1, .length = -1},
    {"get in lower case", .method = "get", .path = "/metrics", .headers = {HOST}, .status = 405,
     .error = "method_not_allowed", .allow = "GET, HEAD", .kind = ARB_HEAD_METRICS,
     .endpoint = -1, .length = -1},
    /* 404 */
    {"unknown path", .path = "/nowhere", .headers = {HOST, JSON}, .status = 404,
     .error = "not_found", .kind = ARB_HEAD_OTHER, .endpoint = -1, .length = -1},
    {"the root", .method = "GET", .path = "/", .headers = {HOST}, .status = 404,
     .error = "not_found", .kind = ARB_HEAD_OTHER, .endpoint = -1, .length = -1},
    {"an endpoint's path with a trailing slash", .path = "/v1/events/", .headers = {HOST, JSON},
     .status = 404, .error = "not_found", .kind = ARB_HEAD_OTHER, .endpoint = -1, .length = -1},
    {"a prefix of an endpoint's path", .path = "/v1", .headers = {HOST, JSON}, .status = 404,
     .error = "not_found", .kind = ARB_HEAD_OTHER, .endpoint = -1, .length = -1},
    {"an operator path, longer", .method = "GET", .path = "/healthz/x", .headers = {HOST},
     .status = 404, .error = "not_found", .kind = ARB_HEAD_OTHER, .endpoint = -1,
     .length = -1},
    {"an operator path in capitals", .method = "GET", .path = "/HEALTHZ", .headers = {HOST},
     .status = 404, .error = "not_found", .kind = ARB_HEAD_OTHER, .endpoint = -1,
     .length = -1},
    /* the {token} segment */
    {"a token in the path", .path = "/hooks/s3cr3t", .headers = {HOST, JSON, LENGTH_2},
     .kind = EVENTS, .endpoint = 1, .token = "s3cr3t", .length = 2},
    {"a one-character token", .path = "/hooks/t", .headers = {HOST, JSON},
     .kind = EVENTS, .endpoint = 1, .token = "t", .length = -1},
    {"a token endpoint, GET", .method = "GET", .path = "/hooks/t", .headers = {HOST},
     .status = 405, .error = "method_not_allowed", .allow = "POST", .kind = EVENTS,
     .endpoint = 1, .token = "t", .length = -1},
    {"an empty token", .path = "/hooks/", .headers = {HOST, JSON}, .status = 404,
     .error = "not_found", .kind = ARB_HEAD_OTHER, .endpoint = -1, .length = -1},
    {"no token segment", .path = "/hooks", .headers = {HOST, JSON}, .status = 404,
     .error = "not_found", .kind = ARB_HEAD_OTHER, .endpoint = -1, .length = -1},
    {"a token with a slash", .path = "/hooks/a/b", .headers = {HOST, JSON}, .status = 404,
     .error = "not_found", .kind = ARB_HEAD_OTHER, .endpoint = -1, .length = -1},
    {"a token followed by a slash", .path = "/hooks/t/", .headers = {HOST, JSON},
     .status = 404, .error = "not_found", .kind = ARB_HEAD_OTHER, .endpoint = -1,
     .length = -1},
    {"another prefix", .path = "/hooksx/t", .headers = {HOST, JSON}, .status = 404,
     .error = "not_found", .kind = ARB_HEAD_OTHER, .endpoint = -1, .length = -1},
};

static void test_routes(void **state)
{
    (void)state;
    for (size_t i = 0; i < COUNT(route_cases); i++) {
        const struct route_case *c = &route_cases[i];
        const struct arb_head head = {
            .method = c->method != NULL ? c->method : "POST",
            .version = c->version != NULL ? c->version : "HTTP/1.1",
            .raw_uri = c->path,
            .path = c->path,
            .headers = c->headers,
            .nheaders = count_headers(c->headers),
        };
        struct arb_head_verdict v;
        print_message("case: %s\n", c->name);
        arb_edge_check_head(conf, &head, &v);
        assert_int_equal(v.status, c->status);
        if (c->error != NULL)
            assert_string_equal(v.error, c->error);
        else
            assert_null(v.error);
        if (c->detail != NULL)
            assert_string_equal(v.detail, c->detail);
        else
            assert_null(v.detail);
        if (c->allow != NULL)
            assert_string_equal(v.allow, c->allow);
        else
            assert_null(v.allow);
        assert_int_equal(v.close, c->close);
        assert_int_equal(v.kind, c->kind);
        if (c->endpoint >= 0)
            assert_ptr_equal(v.endpoint, &conf->endpoints[c->endpoint]);
        else
            assert_null(v.endpoint);
        if (c->token != NULL) {
            assert_non_null(v.path_token);
            assert_int_equal(v.path_token_len, strlen(c->token));
            assert_memory_equal(v.path_token, c->token, strlen(c->token));
            assert_ptr_equal(v.path_token, head.path + strlen("/hooks/")); /* not a copy */
        } else {
            assert_null(v.path_token);
        }
        if (c->status == 0 || c->status == 413 || c->status == 415)
            assert_int_equal(v.declared_length, c->length);
    }
}

/* A verdict says nothing of the request before it: the same verdict struct, reused. */
static void test_verdict_is_reset(void **state)
{
    (void)state;
    const struct arb_head_header refused[] = {H("Host", "a"), H("Host", "b")};
    const struct arb_head_header fine[] = {HOST, JSON, LENGTH_2};
    const struct arb_head bad = {"GET", "HTTP/1.1", "/x", "/x", refused, COUNT(refused)};
    const struct arb_head good = {"POST", "HTTP/1.1", "/hooks/abc", "/hooks/abc", fine,
                                  COUNT(fine)};
    struct arb_head_verdict v;
    arb_edge_check_head(conf, &good, &v);
    assert_int_equal(v.status, 0);
    assert_non_null(v.path_token);
    arb_edge_check_head(conf, &bad, &v);
    assert_int_equal(v.status, 400);
    assert_null(v.endpoint);
    assert_null(v.path_token);
    assert_int_equal(v.kind, ARB_HEAD_OTHER);
    arb_edge_check_head(conf, &good, &v);
    assert_int_equal(v.status, 0);
    assert_null(v.error);
    assert_false(v.close);
}

/* Without an endpoints list, http.path is the one event endpoint. */
static void test_http_path_endpoint(void **state)
{
    (void)state;
    struct arb_bridge_conf *single = bridge_conf_of("http = { path = \"/in\"; };\n"
                                                    "signature = { secrets = [ \"s\" ]; };\n");
    const struct arb_head_header headers[] = {HOST, JSON, LENGTH_2};
    const struct arb_head in = {"POST", "HTTP/1.1", "/in", "/in", headers, COUNT(headers)};
    const struct arb_head events = {"POST", "HTTP/1.1", "/v1/events", "/v1/events", headers,
                                    COUNT(headers)};
    struct arb_head_verdict v;
    arb_edge_check_head(single, &in, &v);
    assert_int_equal(v.status, 0);
    assert_int_equal(v.kind, ARB_HEAD_EVENTS);
    assert_ptr_equal(v.endpoint, &single->endpoints[0]);
    arb_edge_check_head(single, &events, &v);
    assert_int_equal(v.status, 404);
    arb_bridge_conf_destroy(single);
}

/* ---- deadlines -------------------------------------------------------------------------- */

struct overdue_case {
    const char *name;
    struct arb_conn_progress conn;
    int64_t now_ns;
    bool overdue;
};

/* header_timeout_s 10, idle_timeout_s 30, body_timeout_s 5, body_min_rate 1000 (below). */
#define HEAD_AT(t) .head_started_ns = (t)
#define BODY_AT(t) .head_done = true, .body_started_ns = (t)

static const struct overdue_case overdue_cases[] = {
    {"head: just in time", {HEAD_AT(0)}, 10 * S, false},
    {"head: late", {HEAD_AT(0)}, 10 * S + 1, true},
    {"head: counted from its start", {HEAD_AT(100 * S)}, 110 * S, false},
    {"head: counted from its start, late", {HEAD_AT(100 * S)}, 110 * S + 1, true},
    {"head: a reused connection has its idle time too", {HEAD_AT(0), .reused = true}, 40 * S,
     false},
    {"head: a reused connection, late", {HEAD_AT(0), .reused = true}, 40 * S + 1, true},
    {"head: body progress does not count yet",
     {HEAD_AT(0), .body_started_ns = 9 * S, .body_bytes = 1000000}, 10 * S + 1, true},
    {"head: a refusal does not count yet", {HEAD_AT(0), .refused_ns = 1}, 5 * S, false},
    {"body: just in time", {HEAD_AT(0), BODY_AT(20 * S)}, 25 * S, false},
    {"body: late", {HEAD_AT(0), BODY_AT(20 * S)}, 25 * S + 1, true},
    {"body: the head's deadline no longer applies", {HEAD_AT(0), BODY_AT(9 * S)}, 14 * S,
     false},
    {"body: a reused connection gets no more", {HEAD_AT(0), .reused = true, BODY_AT(20 * S)},
     25 * S + 1, true},
    {"body: a second more per body_min_rate bytes", {BODY_AT(20 * S), .body_bytes = 3000},
     28 * S, false},
    {"body: a second more per body_min_rate bytes, late",
     {BODY_AT(20 * S), .body_bytes = 3000}, 28 * S + 1, true},
    {"body: half a rate, half a second", {BODY_AT(20 * S), .body_bytes = 1500},
     26 * S + 500 * MS, false},
    {"body: half a rate, late", {BODY_AT(20 * S), .body_bytes = 1500}, 26 * S + 500 * MS + 1,
     true},
    {"body done: never overdue", {BODY_AT(20 * S), .body_done = true}, 100000 * S, false},
    {"body done after a refusal: never overdue",
     {BODY_AT(20 * S), .body_done = true, .refused_ns = 21 * S}, 100000 * S, false},
    {"refused: within the grace", {BODY_AT(20 * S), .refused_ns = 21 * S},
     21 * S + ARB_EDGE_REFUSED_GRACE_MS * MS, false},
    {"refused: past the grace, before the body deadline",
     {BODY_AT(20 * S), .refused_ns = 21 * S}, 21 * S + ARB_EDGE_REFUSED_GRACE_MS * MS + 1, true},
    {"refused: the body deadline still holds", {BODY_AT(20 * S), .refused_ns = 24900 * MS},
     25 * S + 1, true},
};

static void test_overdue(void **state)
{
    (void)state;
    struct arb_bridge_conf *timed = bridge_conf_of(
        "http = { header_timeout_s = 10; idle_timeout_s = 30; body_timeout_s = 5;\n"
        "         body_min_rate = 1000; };\n"
        "endpoints = ( { path = \"/e\"; auth = \"none\"; } );\n");
    for (size_t i = 0; i < COUNT(overdue_cases); i++) {
        const struct overdue_case *c = &overdue_cases[i];
        print_message("case: %s\n", c->name);
        assert_int_equal(arb_edge_overdue(&timed->http, &c->conn, c->now_ns), c->overdue);
    }
    arb_bridge_conf_destroy(timed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framing_refused),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_verdict_is_reset),
        cmocka_unit_test(test_http_path_endpoint),
        cmocka_unit_test(test_overdue),
    };
    return cmocka_run_group_tests(tests, setup, bridge_conf_teardown);
}
