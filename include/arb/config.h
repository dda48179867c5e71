/* config.h - the configuration of both binaries, loaded from a libconfig file.
 *
 * One table per binary (config.c) lists every key: name, type, default, bounds and a line of
 * documentation. Loading checks every setting against the table, expands ${ENV} in strings
 * and reads "file:PATH" secrets, and reports every problem as "file:line: message", all of
 * them, not just the first. Unknown keys are errors. The result is a read-only struct. */
#ifndef ARB_CONFIG_H
#define ARB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arb/log.h"
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

struct arb_http_conf {
    char *listen;          /* host:port */
    char *path;            /* the events endpoint */
    int64_t max_body_bytes;
    int threads;           /* 0 = one per CPU */
    int max_connections;
    int idle_timeout_s;
    int max_in_flight;     /* event requests in progress; beyond it: 503 at once */
    int64_t max_in_flight_bytes; /* their bodies' bytes; beyond it: 503 at once */
    bool access_log;       /* one info line per event request */
    char *tls_cert;        /* "" = plain HTTP */
    char *tls_key;
};

struct arb_bridge_conf {
    char *file;
    struct arb_http_conf http;
    struct arb_signature_conf signature;
    struct arb_kafka_conf kafka;
    struct arb_route *routes;
    size_t nroutes;
    char *deadletter_topic;
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
    int max_buffered;   /* records held at most; see service.c for the flow control */
};

struct arb_replay_conf {
    char *file;
    struct arb_kafka_conf kafka;
    struct arb_replay_section replay;
    struct arb_desk_conf desk;
    char *deadletter_topic;
    struct arb_log_conf log;
    int shutdown_timeout_s;
};

/* Every problem found, each "file:line: message". */
struct arb_conf_errors {
    char **messages;
    size_t count;
};

void arb_conf_errors_add(struct arb_conf_errors *errors, const char *file, int line,
                         const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void arb_conf_errors_clear(struct arb_conf_errors *errors);

/* Load file. On success *out is set and errors stays empty; on failure *out is NULL and
 * errors holds every problem. */
int arb_bridge_conf_load(const char *file, struct arb_bridge_conf **out,
                         struct arb_conf_errors *errors);
void arb_bridge_conf_destroy(struct arb_bridge_conf *conf);

int arb_replay_conf_load(const char *file, struct arb_replay_conf **out,
                         struct arb_conf_errors *errors);
void arb_replay_conf_destroy(struct arb_replay_conf *conf);

/* The key table, for documentation and the test that keeps README in step with the code. */
struct arb_conf_doc {
    const char *key;
    const char *type;
    const char *default_value; /* NULL when required or computed */
    const char *doc;
};
const struct arb_conf_doc *arb_bridge_conf_docs(size_t *count);
const struct arb_conf_doc *arb_replay_conf_docs(size_t *count);

/* Split "host:port" or "[v6]:port" into host and port; -1 when malformed. */
int arb_listen_parse(const char *listen, char *host, size_t host_size, int *port);

#endif
