/* conf_bridge.c - airudder-bridge's configuration: its key tables and the checks that
 * involve several keys (see config.h; the engine is conf_engine.c).
 *
 * Endpoints: a list `endpoints`, each with its path, schema and way of authenticating the
 * sender; without the list, http.path with the top-level signature group is the one
 * endpoint, as before there were several. An endpoint authenticating by signature uses its
 * own signature group when it has one, else the top-level one. */
#include "arb/conf_shared.h"
#include "arb/mem.h"

#include <stdlib.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define TOKEN_SEGMENT "/{token}"

_Static_assert(sizeof(enum arb_schema) == sizeof(int), "arb_schema is not int-sized");
_Static_assert(sizeof(enum arb_auth) == sizeof(int), "arb_auth is not int-sized");

static int parse_schema(const char *name, int *value)
{
    static const char *const names[] = {"channel.message.sent", "workflow.session.end",
                                        "generic"};
    return arb_conf_parse_name(name, names, (int)COUNT(names), value);
}

static int parse_auth(const char *name, int *value)
{
    static const char *const names[] = {"signature", "token", "basic", "none"};
    return arb_conf_parse_name(name, names, (int)COUNT(names), value);
}

/* ---- http ---- */

static void check_http(struct arb_conf_ctx *ctx, const char *path, const config_setting_t *group,
                       void *object)
{
    const struct arb_http_conf *http = object;
    arb_conf_check_together(ctx, group, path, "tls_cert", http->tls_cert, "tls_key",
                            http->tls_key);
}

#define H struct arb_http_conf
static const struct arb_conf_key http_keys[] = {
    ARB_CONF_STRING("listen", H, listen, "127.0.0.1:8080", arb_conf_check_listen,
                    "address to listen on, host:port or [ipv6]:port"),
    ARB_CONF_STRING("path", H, path, "/v1/events", arb_conf_check_http_path,
                    "path AIRudder posts events to, when no endpoints are listed"),
    ARB_CONF_INT64("max_body_bytes", H, max_body_bytes, 1048576, 1024, 67108864,
                   "larger bodies are refused with 413 before being read"),
    ARB_CONF_INT("threads", H, threads, 0, 0, 64, "worker threads; 0 = one per CPU"),
    ARB_CONF_INT("max_connections", H, max_connections, 4096, 16, 65536,
                 "open connections at most"),
    ARB_CONF_INT("max_connections_per_ip", H, max_connections_per_ip, 256, 1, 65536,
                 "open connections from one IP address at most (raise it behind a proxy)"),
    ARB_CONF_INT("idle_timeout_s", H, idle_timeout_s, 30, 1, 3600,
                 "close a connection idle this long"),
    ARB_CONF_INT("header_timeout_s", H, header_timeout_s, 10, 1, 3600,
                 "close a connection whose request line and headers are not in by then"),
    ARB_CONF_INT("body_timeout_s", H, body_timeout_s, 10, 1, 3600,
                 "close a connection whose body is not in by then, plus 1 s for every "
                 "body_min_rate bytes received"),
    ARB_CONF_INT64("body_min_rate", H, body_min_rate, 16384, 1, 1073741824,
                   "bytes a second a body must arrive at, after body_timeout_s"),
    ARB_CONF_INT("max_in_flight", H, max_in_flight, 1000, 1, 1000000,
                 "authenticated event requests in progress at most; beyond: 503 at once"),
    ARB_CONF_INT64("max_in_flight_bytes", H, max_in_flight_bytes, 16777216, 65536,
                   4294967296LL,
                   "bytes of bodies and records in progress at most; beyond: 503 at once"),
    ARB_CONF_INT64("max_unverified_bytes", H, max_unverified_bytes, 8388608, 1024,
                   4294967296LL,
                   "of those, bytes of bodies not yet authenticated (counted as they arrive)"),
    ARB_CONF_INT64("max_record_bytes", H, max_record_bytes, 8388608, 1024, 4294967296LL,
                   "the records of one event at most; a larger event is refused with 413"),
    ARB_CONF_INT("max_records", H, max_records, 10000, 1, 1000000,
                 "records (messages) of one event at most; more are refused with 413"),
    ARB_CONF_BOOL("access_log", H, access_log, true,
                  "log one line per event request (status, bytes, duration, call_id)"),
    ARB_CONF_STRING("tls_cert", H, tls_cert, "", NULL,
                    "PEM certificate file; \"\" = plain HTTP (set with tls_key)"),
    ARB_CONF_STRING("tls_key", H, tls_key, "", NULL, "PEM private key file (set with tls_cert)"),
};
#undef H
static const struct arb_conf_group http_group =
    ARB_CONF_GROUP_OF(struct arb_http_conf, http_keys, check_http);

/* ---- endpoints ---- */

#define T struct arb_token_conf
static const struct arb_conf_key token_keys[] = {
    ARB_CONF_STRING("header", T, header, "", NULL,
                    "header carrying the token; \"\" = the path's last segment, {token}"),
    ARB_CONF_KEY("secrets", T, secrets, "list of strings", NULL,
                 "accepted tokens (\"file:PATH\" reads one from a file)",
                 .load = arb_conf_load_secrets, .release = arb_conf_release_secrets,
                 .count_offset = offsetof(T, nsecrets)),
};
#undef T
static const struct arb_conf_group token_group =
    ARB_CONF_GROUP_OF(struct arb_token_conf, token_keys, NULL);

static int load_password(struct arb_conf_ctx *ctx, const struct arb_conf_key *key,
                         const char *path, const config_setting_t *s, void *field)
{
    struct arb_credential *user =
        (struct arb_credential *)((char *)field - offsetof(struct arb_credential, password));
    (void)key;
    if (arb_conf_secret(ctx, s, path, &user->password, &user->password_len) != 0)
        return -1;
    return user->password_len > 0 ? 0 : arb_conf_fail(ctx, s, path, "must not be empty");
}

static void release_password(const struct arb_conf_key *key, void *field)
{
    struct arb_credential *user =
        (struct arb_credential *)((char *)field - offsetof(struct arb_credential, password));
    (void)key;
    arb_secret_cleanse(user->password, user->password_len);
    free(user->password);
    user->password = NULL;
}

/* RFC 7617: a user-id holds no colon (the first one ends it in the credentials). */
static int check_user_name(const char *value, struct arb_error *err)
{
    if (arb_conf_check_not_empty(value, err) != 0)
        return -1;
    if (strchr(value, ':') != NULL)
        return arb_error_set(err, ARB_E_INVALID, "must not contain ':'");
    return 0;
}

#define C struct arb_credential
static const struct arb_conf_key credential_keys[] = {
    ARB_CONF_KEY("user", C, user, "string", NULL, "user name (no ':')",
                 .load = arb_conf_load_string, .release = arb_conf_release_string,
                 .check = check_user_name, .required = true),
    ARB_CONF_KEY("password", C, password, "string", NULL,
                 "its password (\"file:PATH\" reads it from a file)", .load = load_password,
                 .release = release_password, .required = true),
};
#undef C
static const struct arb_conf_group credential_group =
    ARB_CONF_GROUP_OF(struct arb_credential, credential_keys, NULL);

#define B struct arb_basic_conf
static const struct arb_conf_key basic_keys[] = {
    ARB_CONF_LIST("users", B, users, nusers, "list of groups { user; password; }", "()",
                  credential_group, "accepted user names and passwords"),
};
#undef B
static const struct arb_conf_group basic_group =
    ARB_CONF_GROUP_OF(struct arb_basic_conf, basic_keys, NULL);

static bool ends_with(const char *text, const char *suffix)
{
    size_t len = strlen(text), suffix_len = strlen(suffix);
    return len >= suffix_len && strcmp(text + len - suffix_len, suffix) == 0;
}

/* What an endpoint needs of itself; the signature, which may be the top-level group's, is
 * checked by check_bridge. */
static void check_endpoint(struct arb_conf_ctx *ctx, const char *path,
                           const config_setting_t *group, void *object)
{
    struct arb_endpoint_conf *endpoint = object;
    char key[ARB_CONF_PATH_MAX];
    bool in_path = endpoint->path != NULL && ends_with(endpoint->path, TOKEN_SEGMENT);

    endpoint->has_signature = arb_conf_member(group, "signature") != NULL;
    arb_conf_path(key, path, "auth");
    if (arb_conf_failed(ctx, key) || endpoint->path == NULL || endpoint->token.header == NULL)
        return;
    if (endpoint->auth == ARB_AUTH_TOKEN) {
        arb_conf_path(key, path, "token.secrets");
        if (endpoint->token.nsecrets == 0 && !arb_conf_failed(ctx, key))
            arb_conf_fail(ctx, group, key, "at least one token is required when auth is token");
        arb_conf_path(key, path, "token.header");
        if (endpoint->token.header[0] == '\0' && !in_path)
            arb_conf_fail(ctx, group, key, "required unless the path ends with " TOKEN_SEGMENT);
        if (endpoint->token.header[0] != '\0' && in_path)
            arb_conf_fail(ctx, group, key, "not allowed with " TOKEN_SEGMENT " in the path");
    } else if (in_path) {
        arb_conf_path(key, path, "path");
        arb_conf_fail(ctx, arb_conf_member(group, "path"), key,
                      TOKEN_SEGMENT " is only for auth = \"token\"");
    }
    arb_conf_path(key, path, "basic.users");
    if (endpoint->auth == ARB_AUTH_BASIC && endpoint->basic.nusers == 0 &&
        !arb_conf_failed(ctx, key))
        arb_conf_fail(ctx, group, key, "at least one user is required when auth is basic");
}

#define E struct arb_endpoint_conf
static const struct arb_conf_key endpoint_keys[] = {
    ARB_CONF_REQUIRED_STRING("path", E, path, arb_conf_check_http_path,
                             "the path it answers (POST); a last segment {token} carries the "
                             "token of auth = \"token\""),
    ARB_CONF_STRING("event", E, event, "", NULL,
                    "event name of bodies without an event field; \"\" = none"),
    ARB_CONF_ENUM("schema", E, schema, "channel.message.sent", parse_schema,
                  "channel.message.sent, workflow.session.end, generic",
                  "the rules its bodies must follow"),
    ARB_CONF_ENUM("auth", E, auth, "signature", parse_auth, "signature, token, basic, none",
                  "how the sender is authenticated; none must be written out (logged loudly)"),
    ARB_CONF_KEY("signature", E, own_signature, "group", NULL,
                 "same keys as the top-level signature group, which it replaces for this "
                 "endpoint",
                 .load = arb_conf_load_group, .release = arb_conf_release_group,
                 .group = &arb_conf_signature_group),
    ARB_CONF_GROUP("token", E, token, token_group),
    ARB_CONF_GROUP("basic", E, basic, basic_group),
};
#undef E
static const struct arb_conf_group endpoint_group =
    ARB_CONF_GROUP_OF(struct arb_endpoint_conf, endpoint_keys, check_endpoint);

/* ---- routes, dedup ---- */

static int check_route_topic(const char *value, struct arb_error *err)
{
    return arb_route_check(value, err);
}

#define R struct arb_route
static const struct arb_conf_key route_keys[] = {
    ARB_CONF_REQUIRED_STRING("event", R, event, arb_conf_check_not_empty,
                             "an event name, or \"*\" for any"),
    ARB_CONF_REQUIRED_STRING("topic", R, topic, check_route_topic,
                             "the topic; may use {event}, {channel}, {company}"),
};
#undef R
static const struct arb_conf_group route_group =
    ARB_CONF_GROUP_OF(struct arb_route, route_keys, NULL);

static int load_routes(struct arb_conf_ctx *ctx, const struct arb_conf_key *key,
                       const char *path, const config_setting_t *s, void *field)
{
    if (arb_conf_load_list(ctx, key, path, s, field) != 0)
        return -1;
    if (config_setting_length(s) == 0)
        return arb_conf_fail(ctx, s, path, "at least one route is required");
    return 0;
}

#define D struct arb_dedup_conf
static const struct arb_conf_key dedup_keys[] = {
    ARB_CONF_INT("window_s", D, window_s, 600, 0, 86400,
                 "a request answered 200 is answered 200 again without writing, this long; "
                 "0 = off"),
    ARB_CONF_INT("max_entries", D, max_entries, 200000, 16, 100000000,
                 "request ids remembered at most (56 bytes each at most); the oldest go "
                 "first"),
};
#undef D
static const struct arb_conf_group dedup_group =
    ARB_CONF_GROUP_OF(struct arb_dedup_conf, dedup_keys, NULL);

/* ---- the whole file ---- */

/* Without endpoints: the one endpoint of http.path and the top-level signature. */
static void endpoint_of_http_path(struct arb_bridge_conf *conf)
{
    conf->endpoints = arb_xcalloc(1, sizeof(*conf->endpoints));
    conf->nendpoints = 1;
    conf->endpoints[0].path = arb_xstrdup(conf->http.path);
    conf->endpoints[0].event = arb_xstrdup("");
    conf->endpoints[0].token.header = arb_xstrdup("");
}

static bool reserved_path(const char *path)
{
    return strcmp(path, "/healthz") == 0 || strcmp(path, "/readyz") == 0 ||
           strcmp(path, "/metrics") == 0;
}

/* Paths: not an operator endpoint's, not twice. */
static void check_paths(struct arb_conf_ctx *ctx, const config_setting_t *list,
                        const struct arb_bridge_conf *conf)
{
    char key[ARB_CONF_PATH_MAX], element[ARB_CONF_PATH_MAX];
    for (size_t i = 0; i < conf->nendpoints; i++) {
        const char *path = conf->endpoints[i].path;
        const config_setting_t *elem = list != NULL ? config_setting_get_elem(list, (unsigned)i) : NULL;
        arb_conf_path_index(element, "endpoints", (int)i);
        arb_conf_path(key, element, "path");
        if (path == NULL)
            continue;
        if (reserved_path(path))
            arb_conf_fail(ctx, elem, key, "%s is the bridge's own", path);
        for (size_t j = 0; j < i; j++)
            if (conf->endpoints[j].path != NULL && strcmp(conf->endpoints[j].path, path) == 0)
                arb_conf_fail(ctx, elem, key, "duplicate path %s", path);
    }
}

/* A listed endpoint verifying with the top-level signature group, which has no secret: the
 * error names the endpoint (it has a line; a missing top-level group has none) and the ways
 * out, a secret or another auth. */
static void require_top_secret(struct arb_conf_ctx *ctx, const config_setting_t *elem,
                               const char *element, const struct arb_signature_conf *top)
{
    char key[ARB_CONF_PATH_MAX];
    arb_conf_path(key, element, "auth");
    if (top->mode != ARB_SIG_ENFORCE || top->nsecrets > 0 || arb_conf_failed(ctx, key) ||
        arb_conf_failed(ctx, "signature.mode") || arb_conf_failed(ctx, "signature.secrets"))
        return;
    arb_conf_fail(ctx, elem, key,
                  "signature%s needs a secret: set signature.secrets or %s.signature, or "
                  "choose auth = \"token\", \"basic\" or \"none\"",
                  arb_conf_member(elem, "auth") != NULL ? "" : " (the default)", element);
}

/* Every endpoint authenticating by signature has a secret to verify with. */
static void check_signatures(struct arb_conf_ctx *ctx, const config_setting_t *root,
                             const config_setting_t *list, struct arb_bridge_conf *conf,
                             bool listed)
{
    const config_setting_t *top = arb_conf_member(root, "signature");
    char key[ARB_CONF_PATH_MAX], element[ARB_CONF_PATH_MAX];
    bool top_checked = false;

    for (size_t i = 0; i < conf->nendpoints; i++) {
        struct arb_endpoint_conf *endpoint = &conf->endpoints[i];
        const config_setting_t *elem = listed ? config_setting_get_elem(list, (unsigned)i) : NULL;
        endpoint->signature = endpoint->has_signature ? &endpoint->own_signature
                                                      : &conf->signature;
        if (endpoint->auth != ARB_AUTH_SIGNATURE)
            continue;
        arb_conf_path_index(element, "endpoints", (int)i);
        if (endpoint->has_signature) {
            arb_conf_path(key, element, "signature");
            arb_conf_require_secret(ctx, key, arb_conf_member(elem, "signature"), elem,
                                    endpoint->signature);
        } else if (listed) {
            require_top_secret(ctx, elem, element, &conf->signature);
        } else if (!top_checked) {
            arb_conf_require_secret(ctx, "signature", top, root, &conf->signature);
            top_checked = true;
        }
    }
}

/* A body must fit the budget of bodies not yet authenticated, which is part of the whole. */
static void check_budgets(struct arb_conf_ctx *ctx, const config_setting_t *root,
                          const struct arb_http_conf *http)
{
    const config_setting_t *group = arb_conf_member(root, "http");
    const config_setting_t *at = group != NULL ? group : root;
    if (arb_conf_failed(ctx, "http.max_unverified_bytes") ||
        arb_conf_failed(ctx, "http.max_in_flight_bytes") ||
        arb_conf_failed(ctx, "http.max_body_bytes") ||
        arb_conf_failed(ctx, "http.max_record_bytes"))
        return;
    if (http->max_unverified_bytes > http->max_in_flight_bytes)
        arb_conf_fail(ctx, at, "http.max_unverified_bytes",
                      "must not be larger than http.max_in_flight_bytes (%lld)",
                      (long long)http->max_in_flight_bytes);
    if (http->max_body_bytes > http->max_unverified_bytes)
        arb_conf_fail(ctx, at, "http.max_body_bytes",
                      "must not be larger than http.max_unverified_bytes (%lld)",
                      (long long)http->max_unverified_bytes);
    if (http->max_record_bytes > http->max_in_flight_bytes)
        arb_conf_fail(ctx, at, "http.max_record_bytes",
                      "must not be larger than http.max_in_flight_bytes (%lld)",
                      (long long)http->max_in_flight_bytes);
}

static void check_bridge(struct arb_conf_ctx *ctx, const char *path, const config_setting_t *root,
                         void *object)
{
    struct arb_bridge_conf *conf = object;
    const config_setting_t *list = arb_conf_member(root, "endpoints");
    (void)path;

    if (list == NULL) {
        if (conf->http.path == NULL)
            return;
        endpoint_of_http_path(conf);
    } else if (arb_conf_member(arb_conf_member(root, "http"), "path") != NULL) {
        arb_conf_fail(ctx, arb_conf_member(arb_conf_member(root, "http"), "path"), "http.path",
                      "not allowed with endpoints (each endpoint has its path)");
    } else if (conf->nendpoints == 0) {
        arb_conf_fail(ctx, list, "endpoints", "at least one endpoint is required");
    }
    check_paths(ctx, list, conf);
    check_signatures(ctx, root, list, conf, list != NULL);
    check_budgets(ctx, root, &conf->http);
}

#define BR struct arb_bridge_conf
static const struct arb_conf_key bridge_keys[] = {
    ARB_CONF_GROUP("http", BR, http, http_group),
    ARB_CONF_GROUP("signature", BR, signature, arb_conf_signature_group),
    ARB_CONF_LIST("endpoints", BR, endpoints, nendpoints, "list of groups { path; ... }", NULL,
                  endpoint_group,
                  "the webhook endpoints; without it, http.path with signature is the one"),
    ARB_CONF_KEY("routes", BR, routes, "list of groups { event; topic; }",
                 "( { event = \"*\"; topic = \"airudder.messages\"; } )",
                 "first match wins; event \"*\" matches any; topic may use {event}, {channel}, "
                 "{company}",
                 .load = load_routes, .release = arb_conf_release_list, .group = &route_group,
                 .count_offset = offsetof(BR, nroutes)),
    ARB_CONF_GROUP("kafka", BR, kafka, arb_conf_kafka_group),
    ARB_CONF_GROUP("deadletter", BR, deadletter, arb_conf_deadletter_group),
    ARB_CONF_GROUP("dedup", BR, dedup, dedup_group),
    ARB_CONF_GROUP("log", BR, log, arb_conf_log_group),
    ARB_CONF_INT("shutdown_timeout_s", BR, shutdown_timeout_s, 30, 1, 3600,
                 "longest graceful stop before exiting anyway"),
};
#undef BR
static const struct arb_conf_group bridge_group =
    ARB_CONF_GROUP_OF(struct arb_bridge_conf, bridge_keys, check_bridge);

int arb_bridge_conf_parse(const char *file, const char *text, const struct arb_resolver *resolver,
                          struct arb_bridge_conf **out, struct arb_conf_errors *errors)
{
    struct arb_bridge_conf *conf = arb_xcalloc(1, sizeof(*conf));
    *out = NULL;
    if (arb_conf_parse(file, text, &bridge_group, conf, resolver, errors) != 0) {
        free(conf);
        return -1;
    }
    conf->file = arb_xstrdup(file);
    *out = conf;
    return 0;
}

void arb_bridge_conf_destroy(struct arb_bridge_conf *conf)
{
    if (conf == NULL)
        return;
    arb_conf_release(&bridge_group, conf);
    free(conf->file);
    free(conf);
}

void arb_bridge_conf_describe(arb_conf_doc_fn *fn, void *opaque)
{
    arb_conf_describe(&bridge_group, fn, opaque);
}
