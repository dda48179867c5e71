/* conf_replay.c - airudder-replay's configuration: its key tables and the checks that
 * involve several keys (see config.h; the engine is conf_engine.c). */
#include "arb/conf_shared.h"
#include "arb/listen_addr.h"
#include "arb/mem.h"

#include <stdlib.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

_Static_assert(sizeof(enum arb_desk_format) == sizeof(int), "arb_desk_format is not int-sized");

static int parse_desk_format(const char *name, int *value)
{
    static const char *const names[] = {"event", "record"};
    return arb_conf_parse_name(name, names, (int)COUNT(names), value);
}

/* A topic name, or a "^regex" (checked when the consumer compiles it). */
static int check_topic_or_regex(const char *value, struct arb_error *err)
{
    return value[0] == '^' ? 0 : arb_conf_check_plain_topic(value, err);
}

/* ---- replay ---- */

/* Names, or a single regex. */
static void check_replay(struct arb_conf_ctx *ctx, const char *path,
                         const config_setting_t *group, void *object)
{
    const struct arb_replay_section *replay = object;
    const config_setting_t *topics = arb_conf_member(group, "topics");
    bool regex = false;
    (void)path;

    if (arb_conf_failed(ctx, "replay.topics") || replay->topics == NULL)
        return;
    if (replay->ntopics == 0) {
        arb_conf_fail(ctx, topics, "replay.topics", "must not be empty");
        return;
    }
    for (size_t i = 0; i < replay->ntopics; i++)
        regex = regex || replay->topics[i][0] == '^';
    if (regex && replay->ntopics > 1)
        arb_conf_fail(ctx, topics, "replay.topics",
                      "a regex (starting with '^') must be the only entry");
}

#define RS struct arb_replay_section
static const struct arb_conf_key replay_keys[] = {
    ARB_CONF_STRING("group", RS, group, "airudder-replay", arb_conf_check_not_empty,
                    "Kafka consumer group"),
    ARB_CONF_STRINGS("topics", RS, topics, ntopics, "[ \"airudder.messages\" ]",
                     check_topic_or_regex,
                     "topics to consume: names, or one regex starting with '^'"),
    ARB_CONF_STRING("admin_listen", RS, admin_listen, "127.0.0.1:8081",
                    arb_conf_check_listen_or_empty,
                    "address of /healthz, /readyz, /metrics; \"\" = none"),
    ARB_CONF_INT("max_buffered", RS, max_buffered, 2000, 16, 1000000,
                 "records held in memory at most; when full, no more are taken, and after 2 s "
                 "the partitions filling it are paused"),
};
#undef RS
static const struct arb_conf_group replay_group =
    ARB_CONF_GROUP_OF(struct arb_replay_section, replay_keys, check_replay);

/* ---- desk ---- */

static void check_desk(struct arb_conf_ctx *ctx, const char *path, const config_setting_t *group,
                       void *object)
{
    const struct arb_desk_conf *desk = object;
    (void)path;
    arb_conf_require_secret(ctx, "desk.signature", arb_conf_member(group, "signature"), group,
                            &desk->signature);
    if (arb_conf_failed(ctx, "desk.retry_base_ms") || arb_conf_failed(ctx, "desk.retry_cap_ms"))
        return;
    if (desk->retry_cap_ms < desk->retry_base_ms)
        arb_conf_fail(ctx, arb_conf_member(group, "retry_cap_ms"), "desk.retry_cap_ms",
                      "must be at least desk.retry_base_ms (%d)", desk->retry_base_ms);
}

#define DK struct arb_desk_conf
static const struct arb_conf_key desk_keys[] = {
    ARB_CONF_REQUIRED_STRING("url", DK, url, arb_conf_check_url,
                             "the desk's webhook URL, http:// or https://"),
    ARB_CONF_ENUM("format", DK, format, "event", parse_desk_format, "event, record",
                  "post a rebuilt AIRudder event, or the record as stored"),
    ARB_CONF_GROUP("signature", DK, signature, arb_conf_signature_group),
    ARB_CONF_INT("max_in_flight", DK, max_in_flight, 64, 1, 10000,
                 "concurrent deliveries (one per conversation at a time)"),
    ARB_CONF_INT("max_retry_s", DK, max_retry_s, 60, 0, 604800,
                 "retry a record this long, then dead-letter it"),
    ARB_CONF_INT("timeout_ms", DK, timeout_ms, 10000, 100, 600000,
                 "timeout of one request to the desk"),
    ARB_CONF_INT("retry_base_ms", DK, retry_base_ms, 100, 1, 60000, "first backoff ceiling"),
    ARB_CONF_INT("retry_cap_ms", DK, retry_cap_ms, 30000, 1, 3600000,
                 "largest backoff ceiling (at least retry_base_ms)"),
    ARB_CONF_FLOAT("rate_limit_rps", DK, rate_limit_rps, 0, 0, 1000000,
                   "requests per second at most; 0 = unlimited"),
    ARB_CONF_STRING("ca_file", DK, ca_file, "", NULL,
                    "CA bundle for https; \"\" = the system store"),
    ARB_CONF_BOOL("insecure_skip_verify", DK, insecure_skip_verify, false,
                  "do not verify the desk's TLS certificate (testing only)"),
};
#undef DK
static const struct arb_conf_group desk_group =
    ARB_CONF_GROUP_OF(struct arb_desk_conf, desk_keys, check_desk);

/* ---- dedup, delivery log, viewer ---- */

#define DD struct arb_dedup_conf
static const struct arb_conf_key dedup_keys[] = {
    ARB_CONF_INT("window_s", DD, window_s, 600, 0, 86400,
                 "a record whose Idempotency-Key was delivered this recently is not sent "
                 "again (debug re-sends always are); 0 = off"),
    ARB_CONF_INT("max_entries", DD, max_entries, 10000, 16, 10000000,
                 "keys remembered per partition at most (56 bytes each at most); the oldest "
                 "go first"),
};
#undef DD
static const struct arb_conf_group dedup_group =
    ARB_CONF_GROUP_OF(struct arb_dedup_conf, dedup_keys, NULL);

#define DL struct arb_delivery_log_conf
static const struct arb_conf_key delivery_log_keys[] = {
    ARB_CONF_STRING("topic", DL, topic, "airudder.deliveries", arb_conf_check_topic_or_empty,
                    "topic of one small record per delivery outcome (the viewer reads it); "
                    "\"\" = none"),
};
#undef DL
static const struct arb_conf_group delivery_log_group =
    ARB_CONF_GROUP_OF(struct arb_delivery_log_conf, delivery_log_keys, NULL);

static int load_token(struct arb_conf_ctx *ctx, const struct arb_conf_key *key,
                      const char *path, const config_setting_t *s, void *field)
{
    struct arb_viewer_conf *viewer =
        (struct arb_viewer_conf *)((char *)field - offsetof(struct arb_viewer_conf, token));
    (void)key;
    return arb_conf_secret(ctx, s, path, &viewer->token, &viewer->token_len);
}

static void release_token(const struct arb_conf_key *key, void *field)
{
    struct arb_viewer_conf *viewer =
        (struct arb_viewer_conf *)((char *)field - offsetof(struct arb_viewer_conf, token));
    (void)key;
    arb_secret_cleanse(viewer->token, viewer->token_len);
    free(viewer->token);
    viewer->token = NULL;
}

/* Exposed beyond loopback only with a token. */
static void check_viewer(struct arb_conf_ctx *ctx, const char *path,
                         const config_setting_t *group, void *object)
{
    const struct arb_viewer_conf *viewer = object;
    char host[256];
    int port;
    (void)path;
    if (viewer->listen == NULL || viewer->token == NULL ||
        arb_listen_parse(viewer->listen, host, sizeof(host), &port) != 0)
        return;
    if (!arb_listen_is_loopback(host) && viewer->token_len == 0)
        arb_conf_fail(ctx, arb_conf_member(group, "listen"), "viewer.token",
                      "required when viewer.listen is not a loopback address");
}

#define V struct arb_viewer_conf
static const struct arb_conf_key viewer_keys[] = {
    ARB_CONF_STRING("listen", V, listen, "127.0.0.1:8082", arb_conf_check_listen,
                    "address of the conversation viewer (airudder-replay --view)"),
    ARB_CONF_CUSTOM("token", V, token, "string", "\"\"", load_token, release_token,
                    "required to re-send, and to serve beyond loopback; \"file:PATH\" reads it "
                    "from a file"),
    ARB_CONF_INT("max_records", V, max_records, 2000, 1, 100000,
                 "records one conversation page shows at most"),
};
#undef V
static const struct arb_conf_group viewer_group =
    ARB_CONF_GROUP_OF(struct arb_viewer_conf, viewer_keys, check_viewer);

/* ---- the whole file ---- */

#define R struct arb_replay_conf
static const struct arb_conf_key root_keys[] = {
    ARB_CONF_GROUP("replay", R, replay, replay_group),
    ARB_CONF_GROUP("desk", R, desk, desk_group),
    ARB_CONF_GROUP("dedup", R, dedup, dedup_group),
    ARB_CONF_GROUP("delivery_log", R, delivery_log, delivery_log_group),
    ARB_CONF_GROUP("viewer", R, viewer, viewer_group),
    ARB_CONF_GROUP("kafka", R, kafka, arb_conf_kafka_group),
    ARB_CONF_GROUP("deadletter", R, deadletter, arb_conf_deadletter_group),
    ARB_CONF_GROUP("log", R, log, arb_conf_log_group),
    ARB_CONF_INT("shutdown_timeout_s", R, shutdown_timeout_s, 30, 1, 3600,
                 "longest graceful stop before exiting anyway"),
};
#undef R
static const struct arb_conf_group root_group =
    ARB_CONF_GROUP_OF(struct arb_replay_conf, root_keys, NULL);

int arb_replay_conf_parse(const char *file, const char *text, const struct arb_resolver *resolver,
                          struct arb_replay_conf **out, struct arb_conf_errors *errors)
{
    struct arb_replay_conf *conf = arb_xcalloc(1, sizeof(*conf));
    *out = NULL;
    if (arb_conf_parse(file, text, &root_group, conf, resolver, errors) != 0) {
        free(conf);
        return -1;
    }
    conf->file = arb_xstrdup(file);
    *out = conf;
    return 0;
}

void arb_replay_conf_destroy(struct arb_replay_conf *conf)
{
    if (conf == NULL)
        return;
    arb_conf_release(&root_group, conf);
    free(conf->file);
    free(conf);
}

void arb_replay_conf_describe(arb_conf_doc_fn *fn, void *opaque)
{
    arb_conf_describe(&root_group, fn, opaque);
}
