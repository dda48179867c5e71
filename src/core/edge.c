/* edge.c - the HTTP edge's rules (see edge.h). */
#include "arb/edge.h"

#include <string.h>
#include <strings.h>

#define NS 1000000000LL
#define MS 1000000LL

/* RFC 9110 tchar. */
static bool token_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool is_token(const char *text, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!token_char((unsigned char)text[i]))
            return false;
    return true;
}

static bool has_control(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (text[i] == '\0' || text[i] == '\r' || text[i] == '\n')
            return true;
    return false;
}

static bool named(const struct arb_head_header *h, const char *name)
{
    return h->name_len == strlen(name) && strncasecmp(h->name, name, h->name_len) == 0;
}

/* value without spaces and tabs on either side. */
static void trim(const char **value, size_t *len)
{
    while (*len > 0 && (**value == ' ' || **value == '\t')) {
        (*value)++;
        (*len)--;
    }
    while (*len > 0 && ((*value)[*len - 1] == ' ' || (*value)[*len - 1] == '\t'))
        (*len)--;
}

static bool equals_nocase(const char *value, size_t len, const char *want)
{
    trim(&value, &len);
    return len == strlen(want) && strncasecmp(value, want, len) == 0;
}

/* Digits only, no sign, no overflow; -1 when malformed. */
static int64_t parse_length(const char *value, size_t len)
{
    int64_t n = 0;
    trim(&value, &len);
    if (len == 0 || len > 18)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (value[i] < '0' || value[i] > '9')
            return -1;
        n = n * 10 + (value[i] - '0');
    }
    return n;
}

static void refuse(struct arb_head_verdict *v, int status, const char *error,
                   const char *detail, bool close)
{
    v->status = status;
    v->error = error;
    v->detail = detail;
    v->close = close;
}

static void bad_framing(struct arb_head_verdict *v, const char *detail)
{
    refuse(v, 400, "bad_request", detail, true);
}

/* The framing rules; true when the request may go on. */
static bool check_framing(const struct arb_head *head, struct arb_head_verdict *v)
{
    unsigned lengths = 0, codings = 0, hosts = 0;
    const struct arb_head_header *length = NULL, *coding = NULL;

    /* the path as received, and decoded: %0D and %0A become line breaks only there */
    if (has_control(head->raw_uri, strlen(head->raw_uri)) || strstr(head->raw_uri, "%00") != NULL ||
        has_control(head->path, strlen(head->path)))
        return bad_framing(v, "NUL or line break in the path"), false;
    for (size_t i = 0; i < head->nheaders; i++) {
        const struct arb_head_header *h = &head->headers[i];
        if (!is_token(h->name, h->name_len))
            return bad_framing(v, "malformed header name"), false;
        if (has_control(h->value, h->value_len))
            return bad_framing(v, "NUL or line break in a header value"), false;
        if (named(h, "Content-Length")) {
            lengths++;
            length = h;
        } else if (named(h, "Transfer-Encoding")) {
            codings++;
            coding = h;
        } else if (named(h, "Host")) {
            hosts++;
        }
    }
    if (lengths > 0 && codings > 0)
        return bad_framing(v, "Content-Length and Transfer-Encoding together"), false;
    if (lengths > 1)
        return bad_framing(v, "more than one Content-Length"), false;
    if (codings > 1)
        return bad_framing(v, "more than one Transfer-Encoding"), false;
    if (coding != NULL && !equals_nocase(coding->value, coding->value_len, "chunked"))
        return bad_framing(v, "Transfer-Encoding other than chunked"), false;
    v->declared_length = -1;
    if (length != NULL && (v->declared_length = parse_length(length->value, length->value_len)) < 0)
        return bad_framing(v, "malformed Content-Length"), false;
    if (hosts > 1)
        return bad_framing(v, "more than one Host"), false;
    if (hosts == 0 && strcmp(head->version, "HTTP/1.1") == 0)
        return bad_framing(v, "Host missing"), false;
    return true;
}

/* The endpoint at path, and its {token} segment. */
static const struct arb_endpoint_conf *endpoint_at(const struct arb_bridge_conf *conf,
                                                   const char *path, const char **token,
                                                   size_t *token_len)
{
    static const char segment[] = "/{token}";
    for (size_t i = 0; i < conf->nendpoints; i++) {
        const struct arb_endpoint_conf *endpoint = &conf->endpoints[i];
        size_t len = strlen(endpoint->path);
        if (strcmp(endpoint->path, path) == 0)
            return endpoint;
        if (len < sizeof(segment) - 1 || strcmp(endpoint->path + len - (sizeof(segment) - 1), segment) != 0)
            continue;
        size_t prefix = len - (sizeof(segment) - 1) + 1; /* up to and with the '/' */
        if (strncmp(endpoint->path, path, prefix) == 0 && path[prefix] != '\0' &&
            strchr(path + prefix, '/') == NULL) {
            *token = path + prefix;
            *token_len = strlen(*token);
            return endpoint;
        }
    }
    return NULL;
}

static const struct arb_head_header *header(const struct arb_head *head, const char *name)
{
    for (size_t i = 0; i < head->nheaders; i++)
        if (named(&head->headers[i], name))
            return &head->headers[i];
    return NULL;
}

/* application/json, any case, optionally followed by parameters (charset). */
static bool is_json(const struct arb_head_header *type)
{
    static const char json[] = "application/json";
    const char *value;
    size_t len;
    if (type == NULL)
        return false;
    value = type->value;
    len = type->value_len;
    trim(&value, &len);
    if (len < sizeof(json) - 1 || strncasecmp(value, json, sizeof(json) - 1) != 0)
        return false;
    value += sizeof(json) - 1;
    len -= sizeof(json) - 1;
    while (len > 0 && (*value == ' ' || *value == '\t')) {
        value++;
        len--;
    }
    return len == 0 || *value == ';';
}

static bool is_get(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

void arb_edge_check_head(const struct arb_bridge_conf *conf, const struct arb_head *head,
                         struct arb_head_verdict *v)
{
    static const char *const operator_paths[] = {"/healthz", "/readyz", "/metrics"};

    memset(v, 0, sizeof(*v));
    v->kind = ARB_HEAD_OTHER;
    if (!check_framing(head, v))
        return;
    for (int i = 0; i < 3; i++) {
        if (strcmp(head->path, operator_paths[i]) != 0)
            continue;
        v->kind = (enum arb_route_kind)(ARB_HEAD_HEALTHZ + i);
        if (!is_get(head->method)) {
            v->allow = "GET, HEAD";
            refuse(v, 405, "method_not_allowed", NULL, false);
        }
        return;
    }
    v->endpoint = endpoint_at(conf, head->path, &v->path_token, &v->path_token_len);
    if (v->endpoint == NULL)
        return refuse(v, 404, "not_found", NULL, false);
    v->kind = ARB_HEAD_EVENTS;
    if (strcmp(head->method, "POST") != 0) {
        v->allow = "POST";
        return refuse(v, 405, "method_not_allowed", NULL, false);
    }
    if (!is_json(header(head, "Content-Type")))
        return refuse(v, 415, "unsupported_media_type", "Content-Type must be application/json",
                      true);
    if (v->declared_length > conf->http.max_body_bytes)
        return refuse(v, 413, "body_too_large", NULL, true);
}

bool arb_edge_overdue(const struct arb_http_conf *http, const struct arb_conn_progress *conn,
                      int64_t now_ns)
{
    if (!conn->head_done) {
        int64_t allowed = (int64_t)http->header_timeout_s * NS;
        if (conn->reused)
            allowed += (int64_t)http->idle_timeout_s * NS;
        return now_ns - conn->head_started_ns > allowed;
    }
    if (conn->body_done)
        return false;
    if (conn->refused_ns != 0 && now_ns - conn->refused_ns > ARB_EDGE_REFUSED_GRACE_MS * MS)
        return true;
    int64_t allowed =
        (int64_t)http->body_timeout_s * NS + conn->body_bytes * NS / http->body_min_rate;
    return now_ns - conn->body_started_ns > allowed;
}
