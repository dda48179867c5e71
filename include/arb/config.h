/* config.h - the configuration of both binaries, parsed from libconfig text.
 *
 * The tables that describe every key (name, type, default, bounds, one line of
 * documentation) are in conf_bridge.c, conf_replay.c and, for the groups both share,
 * conf_shared.c; the engine that loads them is conf_engine.c. Parsing checks every setting,
 * resolves ${ENV} and "file:PATH" secrets through the caller's resolver, and reports every
 * problem as "file:line: message", all of them. Unknown keys are errors. The result is a
 * read-only struct. Reading the file is the platform's business (platform/conf_file.c). */
#ifndef ARB_CONFIG_H
#define ARB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arb/log_level.h"
#include "arb/resolver.h"
#include "arb/route.h"
#include "arb/signature.h"

/* A librdkafka property from kafka.properties: name with '_' written for '.'. */
struct arb_kv {
    char *key;   /* the librdkafka name, e.g. "compression.type" */
    char *value; /* as text */
    int line;    /* where it was set, for errors librdkafka reports later */
};

struct arb_log_conf {
    enum arb_log_level level;
    enum arb_log_format format;
    char *file; /* "" = stderr */
};

struct arb_kafka_conf {
    char *bootstrap;
    int ack_timeout_ms; /* bridge: 503 when not every record is acknowledged by then */
    struct arb_kv *properties;
    size_t nproperties;
};

struct arb_deadletter_conf {
    char *topic;
};

/* A bounded memory of what was already done: at most max_entries, none older than window_s. */
struct arb_dedup_conf {
    int window_s;
    int max_entries;
};

struct arb_http_conf {
    char *listen;          /* host:port */
    char *path;            /* the events endpoint, when no endpoints are listed */
    int64_t max_body_bytes;
    int threads;           /* 0 = one per CPU */
    int max_connections;
    int max_connections_per_ip;
    int idle_timeout_s;
    int header_timeout_s;  /* the request line and headers must be in by then */
    int body_timeout_s;    /* ... and the body by then, plus 1 s per body_min_rate bytes */
    int64_t body_min_rate;
    int max_in_flight;     /* verified event requests in progress; beyond it: 503 at once */
    int64_t max_in_flight_bytes;  /* bodies and records of those; beyond it: 503 at once */
    int64_t max_unverified_bytes; /* bodies not yet authenticated, counted as they arrive */
    int64_t max_record_bytes; /* the records of one event at most; beyond: 413 */
    int max_records;          /* records of one event at most; beyond: 413 */
    bool access_log;       /* one info line per event request */
    char *tls_cert;        /* "" = plain HTTP */
    char *tls_key;
};

enum arb_schema { ARB_SCHEMA_CHANNEL_MESSAGE_SENT = 0, ARB_SCHEMA_WORKFLOW_SESSION_END, ARB_SCHEMA_GENERIC };
enum arb_auth { ARB_AUTH_SIGNATURE = 0, ARB_AUTH_TOKEN, ARB_AUTH_BASIC, ARB_AUTH_NONE };

/* A shared secret in a header, or as the {token} segment of the endpoint's path. */
struct arb_token_conf {
    char *header; /* "" = in the path */
    struct arb_secret *secrets;
    size_t nsecrets;
};

struct arb_credential {
    char *user;
    char *password;
    size_t password_len;
};

struct arb_basic_conf {
    struct arb_credential *users;
    size_t nusers;
};

struct arb_endpoint_conf {
    char *path;
    char *event; /* the event name of bodies without one; "" = none */
    enum arb_schema schema;
    enum arb_auth auth;
    struct arb_signature_conf own_signature; /* this endpoint's signature group, if given */
    bool has_signature;
    const struct arb_signature_conf *signature; /* own_signature, or the top-level group */
    struct arb_token_conf token;
    struct arb_basic_conf basic;
};

struct arb_bridge_conf {
    char *file;
    struct arb_http_conf http;
    struct arb_signature_conf signature;
    struct arb_endpoint_conf *endpoints; /* as listed, or the one of http.path */
    size_t nendpoints;
    struct arb_kafka_conf kafka;
    struct arb_route *routes;
    size_t nroutes;
    struct arb_deadletter_conf deadletter;
    struct arb_dedup_conf dedup;
    struct arb_log_conf log;
    int shutdown_timeout_s;
};

enum arb_desk_format { ARB_DESK_EVENT = 0, ARB_DESK_RECORD };

struct arb_desk_conf {
    char *url;
    enum arb_desk_format format;
    struct arb_signature_conf signature;
    int max_in_flight;
    int max_retry_s;
    int timeout_ms;
    int retry_base_ms;
    int retry_cap_ms;
    double rate_limit_rps; /* 0 = unlimited */
    char *ca_file;         /* "" = system store */
    bool insecure_skip_verify;
};

struct arb_replay_section {
    char *group;
    char **topics; /* names, or one "^regex" */
    size_t ntopics;
    char *admin_listen; /* host:port, "" = no admin endpoint */
    int max_buffered;   /* records held at most; see core/flow.c for the flow control */
};

struct arb_delivery_log_conf {
    char *topic; /* "" = none */
};

struct arb_viewer_conf {
    char *listen; /* host:port of --view */
    char *token;  /* "" = none: reading only, and only on loopback */
    size_t token_len;
    int max_records; /* a conversation page shows at most this many */
};

struct arb_replay_conf {
    char *file;
    struct arb_kafka_conf kafka;
    struct arb_replay_section replay;
    struct arb_desk_conf desk;
    struct arb_deadletter_conf deadletter;
    struct arb_dedup_conf dedup;
    struct arb_delivery_log_conf delivery_log;
    struct arb_viewer_conf viewer;
    struct arb_log_conf log;
    int shutdown_timeout_s;
};

/* Every problem found, each "file:line: message": the configuration's error channel. */
struct arb_conf_errors {
    char **messages;
    size_t count;
};

void arb_conf_errors_add(struct arb_conf_errors *errors, const char *file, int line,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void arb_conf_errors_clear(struct arb_conf_errors *errors);

/* Parse text, named file in messages. On success *out is set and errors stays empty; on
 * failure *out is NULL and errors holds every problem. */
int arb_bridge_conf_parse(const char *file, const char *text, const struct arb_resolver *resolver,
                          struct arb_bridge_conf **out, struct arb_conf_errors *errors);
void arb_bridge_conf_destroy(struct arb_bridge_conf *conf);

int arb_replay_conf_parse(const char *file, const char *text, const struct arb_resolver *resolver,
                          struct arb_replay_conf **out, struct arb_conf_errors *errors);
void arb_replay_conf_destroy(struct arb_replay_conf *conf);

/* One documented key, for the README and the test that keeps it in step with the code. */
struct arb_conf_doc {
    const char *key; /* valid during the call only */
    const char *type;
    const char *default_value; /* NULL when required, or when there is none */
    const char *doc;
    bool required;
};
typedef void arb_conf_doc_fn(void *opaque, const struct arb_conf_doc *doc);
void arb_bridge_conf_describe(arb_conf_doc_fn *fn, void *opaque);
void arb_replay_conf_describe(arb_conf_doc_fn *fn, void *opaque);

#endif
