/* test_config.c - the configuration loader: the minimal configs of contract section 6, every
 * key landing in its field, defaults, ${ENV} and file: values, kafka.properties, secrets as
 * groups, the example files in conf/, and one table of bad files, each with the exact
 * "file:line: message" list it must produce. Files are written to a temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf_load.h"
#include "arb/listen_addr.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_EXPECTED 6
#define ARB_DOC_KEY_MAX 128
#define ARB_BRIDGE_DOCS 49
#define ARB_REPLAY_DOCS 35

static char test_dir[256];

/* ---- helpers ----------------------------------------------------------------------------- */

/* dir/name, in one of a few rotating buffers. */
static const char *path_of(const char *name)
{
    static char paths[4][512];
    static int next;
    char *path = paths[next++ % 4];
    snprintf(path, sizeof(paths[0]), "%s/%s", test_dir, name);
    return path;
}

static const char *write_file(const char *name, const char *text)
{
    const char *path = path_of(name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
    return path;
}

static void print_errors(const struct arb_conf_errors *errors)
{
    for (size_t i = 0; i < errors->count; i++)
        print_message("  error: %s\n", errors->messages[i]);
}

static struct arb_bridge_conf *load_bridge(const char *path)
{
    struct arb_conf_errors errors = {0};
    struct arb_bridge_conf *conf = NULL;
    int rc = arb_bridge_conf_load(path, &conf, &errors);
    print_errors(&errors);
    assert_int_equal(rc, 0);
    assert_int_equal(errors.count, 0);
    assert_non_null(conf);
    return conf;
}

static struct arb_replay_conf *load_replay(const char *path)
{
    struct arb_conf_errors errors = {0};
    struct arb_replay_conf *conf = NULL;
    int rc = arb_replay_conf_load(path, &conf, &errors);
    print_errors(&errors);
    assert_int_equal(rc, 0);
    assert_int_equal(errors.count, 0);
    assert_non_null(conf);
    return conf;
}

static void assert_secret(const struct arb_secret *secret, const char *id, const char *value)
{
    if (id == NULL)
        assert_null(secret->id);
    else
        assert_string_equal(secret->id, id);
    assert_int_equal(secret->len, strlen(value));
    assert_memory_equal(secret->value, value, strlen(value));
}

static void assert_property(const struct arb_kv *kv, const char *key, const char *value, int line)
{
    assert_string_equal(kv->key, key);
    assert_string_equal(kv->value, value);
    assert_int_equal(kv->line, line);
}

/* ---- the contract's minimal configurations, and defaults --------------------------------- */

static const char minimal_bridge[] =
    "# airudder-bridge\n"
    "http      = { listen = \"127.0.0.1:8080\"; path = \"/v1/events\"; "
    "max_body_bytes = 1048576; };\n"
    "signature = { secrets = [ \"${AIRUDDER_SIGN_SECRET}\" ]; };\n"
    "kafka     = { bootstrap = \"127.0.0.1:9092\"; ack_timeout_ms = 5000; };\n"
    "routes    = ( { event = \"*\"; topic = \"airudder.messages\"; } );\n"
    "deadletter = { topic = \"airudder.deadletter\"; };\n";

static const char minimal_replay[] =
    "# airudder-replay\n"
    "kafka  = { bootstrap = \"127.0.0.1:9092\"; };\n"
    "replay = { group = \"airudder-replay\"; topics = [ \"airudder.messages\" ];\n"
    "           admin_listen = \"127.0.0.1:8081\"; };\n"
    "desk   = { url = \"http://127.0.0.1:9000/events\";\n"
    "           signature = { secrets = [ \"${DESK_SIGN_SECRET}\" ]; };\n"
    "           max_in_flight = 64; max_retry_s = 60; };\n"
    "deadletter = { topic = \"airudder.deadletter\"; };\n";

static void assert_shared_defaults(const struct arb_kafka_conf *kafka, const char *deadletter,
                                   const struct arb_log_conf *log, int shutdown_timeout_s)
{
    assert_string_equal(kafka->bootstrap, "127.0.0.1:9092");
    assert_int_equal(kafka->ack_timeout_ms, 5000);
    assert_int_equal(kafka->nproperties, 0);
    assert_string_equal(deadletter, "airudder.deadletter");
    assert_int_equal(log->level, ARB_LOG_INFO);
    assert_int_equal(log->format, ARB_LOG_JSON);
    assert_string_equal(log->file, "");
    assert_int_equal(shutdown_timeout_s, 30);
}

static void assert_signature_defaults(const struct arb_signature_conf *sig)
{
    assert_int_equal(sig->mode, ARB_SIG_ENFORCE);
    assert_int_equal(sig->algorithm, ARB_SIG_SHA256);
    assert_int_equal(sig->encoding, ARB_SIG_HEX);
    assert_string_equal(sig->header, "X-AIRudder-Sign");
    assert_string_equal(sig->prefix, "");
    assert_string_equal(sig->key_header, "");
}

static void test_minimal_bridge(void **state)
{
    (void)state;
    const char *path = write_file("minimal-bridge.conf", minimal_bridge);
    struct arb_bridge_conf *conf = load_bridge(path);

    assert_string_equal(conf->file, path);
    assert_string_equal(conf->http.listen, "127.0.0.1:8080");
    assert_string_equal(conf->http.path, "/v1/events");
    assert_int_equal(conf->http.max_body_bytes, 1048576);
    assert_int_equal(conf->http.threads, 0);
    assert_int_equal(conf->http.max_connections, 4096);
    assert_int_equal(conf->http.idle_timeout_s, 30);
    assert_int_equal(conf->http.max_in_flight, 1000);
    assert_int_equal(conf->http.max_in_flight_bytes, 16777216);
    assert_true(conf->http.access_log);
    assert_string_equal(conf->http.tls_cert, "");
    assert_string_equal(conf->http.tls_key, "");
    assert_signature_defaults(&conf->signature);
    assert_int_equal(conf->signature.nsecrets, 1);
    assert_secret(&conf->signature.secrets[0], NULL, "bridge-secret");
    assert_int_equal(conf->nroutes, 1);
    assert_string_equal(conf->routes[0].event, "*");
    assert_string_equal(conf->routes[0].topic, "airudder.messages");
    assert_shared_defaults(&conf->kafka, conf->deadletter.topic, &conf->log,
                           conf->shutdown_timeout_s);
    arb_bridge_conf_destroy(conf);
}

static void test_minimal_replay(void **state)
{
    (void)state;
    struct arb_replay_conf *conf = load_replay(write_file("minimal-replay.conf", minimal_replay));

    assert_string_equal(conf->replay.group, "airudder-replay");
    assert_int_equal(conf->replay.ntopics, 1);
    assert_string_equal(conf->replay.topics[0], "airudder.messages");
    assert_string_equal(conf->replay.admin_listen, "127.0.0.1:8081");
    assert_int_equal(conf->replay.max_buffered, 2000);
    assert_string_equal(conf->desk.url, "http://127.0.0.1:9000/events");
    assert_int_equal(conf->desk.format, ARB_DESK_EVENT);
    assert_signature_defaults(&conf->desk.signature);
    assert_int_equal(conf->desk.signature.nsecrets, 1);
    assert_secret(&conf->desk.signature.secrets[0], NULL, "desk-secret");
    assert_int_equal(conf->desk.max_in_flight, 64);
    assert_int_equal(conf->desk.max_retry_s, 60);
    assert_int_equal(conf->desk.timeout_ms, 10000);
    assert_int_equal(conf->desk.retry_base_ms, 100);
    assert_int_equal(conf->desk.retry_cap_ms, 30000);
    assert_true(conf->desk.rate_limit_rps == 0.0);
    assert_string_equal(conf->desk.ca_file, "");
    assert_false(conf->desk.insecure_skip_verify);
    assert_shared_defaults(&conf->kafka, conf->deadletter.topic, &conf->log,
                           conf->shutdown_timeout_s);
    arb_replay_conf_destroy(conf);
}

/* Only what has no default: every other key takes its default. */
static void test_defaults(void **state)
{
    (void)state;
    struct arb_bridge_conf *bridge =
        load_bridge(write_file("defaults-bridge.conf", "signature = { mode = \"off\"; };\n"));
    struct arb_replay_conf *replay =
        load_replay(write_file("defaults-replay.conf", "desk = { url = \"https://d\"; "
                                                       "signature = { mode = \"off\"; }; };\n"));

    assert_int_equal(bridge->signature.mode, ARB_SIG_OFF);
    assert_int_equal(bridge->signature.nsecrets, 0);
    assert_string_equal(bridge->http.listen, "127.0.0.1:8080");
    assert_string_equal(bridge->http.path, "/v1/events");
    assert_int_equal(bridge->http.max_body_bytes, 1048576);
    assert_int_equal(bridge->nroutes, 1);
    assert_string_equal(bridge->routes[0].event, "*");
    assert_string_equal(bridge->routes[0].topic, "airudder.messages");
    assert_shared_defaults(&bridge->kafka, bridge->deadletter.topic, &bridge->log,
                           bridge->shutdown_timeout_s);
    assert_string_equal(replay->replay.group, "airudder-replay");
    assert_int_equal(replay->replay.ntopics, 1);
    assert_string_equal(replay->replay.topics[0], "airudder.messages");
    assert_string_equal(replay->replay.admin_listen, "127.0.0.1:8081");
    assert_int_equal(replay->desk.signature.mode, ARB_SIG_OFF);
    assert_int_equal(replay->desk.max_in_flight, 64);
    assert_shared_defaults(&replay->kafka, replay->deadletter.topic, &replay->log,
                           replay->shutdown_timeout_s);
    arb_bridge_conf_destroy(bridge);
    arb_replay_conf_destroy(replay);
}

/* ---- every key lands in its own field ---------------------------------------------------- */

static void test_bridge_every_key(void **state)
{
    (void)state;
    const char *text =
        "http = { listen = \"[::1]:9090\"; path = \"/hook\"; max_body_bytes = 2048;\n"
        "         threads = 4; max_connections = 100; idle_timeout_s = 5; max_in_flight = 7;\n"
        "         tls_cert = \"/c.pem\"; tls_key = \"/k.pem\"; };\n"
        "signature = { mode = \"off\"; algorithm = \"sha512\"; encoding = \"base64\";\n"
        "              header = \"X-Sig\"; prefix = \"sha512=\"; key_header = \"X-Key\";\n"
        "              secrets = ( { id = \"a\"; secret = \"one\"; } ); };\n"
        "kafka = { bootstrap = \"k1:9092,k2:9092\"; ack_timeout_ms = 1000;\n"
        "          properties = { client_id = \"bridge\"; }; };\n"
        "routes = ( { event = \"message.send\"; topic = \"sent.{channel}\"; },\n"
        "           { event = \"*\"; topic = \"other\"; } );\n"
        "deadletter = { topic = \"dl\"; };\n"
        "log = { level = \"debug\"; format = \"text\"; file = \"/var/log/b.log\"; };\n"
        "shutdown_timeout_s = 9;\n";
    struct arb_bridge_conf *conf = load_bridge(write_file("every-bridge.conf", text));

    assert_string_equal(conf->http.listen, "[::1]:9090");
    assert_string_equal(conf->http.path, "/hook");
    assert_int_equal(conf->http.max_body_bytes, 2048);
    assert_int_equal(conf->http.threads, 4);
    assert_int_equal(conf->http.max_connections, 100);
    assert_int_equal(conf->http.idle_timeout_s, 5);
    assert_int_equal(conf->http.max_in_flight, 7);
    assert_string_equal(conf->http.tls_cert, "/c.pem");
    assert_string_equal(conf->http.tls_key, "/k.pem");
    assert_int_equal(conf->signature.mode, ARB_SIG_OFF);
    assert_int_equal(conf->signature.algorithm, ARB_SIG_SHA512);
    assert_int_equal(conf->signature.encoding, ARB_SIG_BASE64);
    assert_string_equal(conf->signature.header, "X-Sig");
    assert_string_equal(conf->signature.prefix, "sha512=");
    assert_string_equal(conf->signature.key_header, "X-Key");
    assert_int_equal(conf->signature.nsecrets, 1);
    assert_secret(&conf->signature.secrets[0], "a", "one");
    assert_string_equal(conf->kafka.bootstrap, "k1:9092,k2:9092");
    assert_int_equal(conf->kafka.ack_timeout_ms, 1000);
    assert_int_equal(conf->kafka.nproperties, 1);
    assert_property(&conf->kafka.properties[0], "client.id", "bridge", 8);
    assert_int_equal(conf->nroutes, 2);
    assert_string_equal(conf->routes[0].event, "message.send");
    assert_string_equal(conf->routes[0].topic, "sent.{channel}");
    assert_string_equal(conf->routes[1].event, "*");
    assert_string_equal(conf->routes[1].topic, "other");
    assert_string_equal(conf->deadletter.topic, "dl");
    assert_int_equal(conf->log.level, ARB_LOG_DEBUG);
    assert_int_equal(conf->log.format, ARB_LOG_TEXT);
    assert_string_equal(conf->log.file, "/var/log/b.log");
    assert_int_equal(conf->shutdown_timeout_s, 9);
    arb_bridge_conf_destroy(conf);
}

static void test_replay_every_key(void **state)
{
    (void)state;
    const char *text =
        "kafka = { bootstrap = \"k:9093\"; ack_timeout_ms = 200; };\n"
        "replay = { group = \"g\"; topics = [ \"t1\", \"t2\" ]; admin_listen = \"\"; };\n"
        "desk = { url = \"https://desk.example/hook\"; format = \"record\";\n"
        "         signature = { algorithm = \"md5\"; encoding = \"hex\"; header = \"X-S\";\n"
        "                       prefix = \"md5=\"; key_header = \"\";\n"
        "                       secrets = [ \"s1\", \"s2\" ]; };\n"
        "         max_in_flight = 3; max_retry_s = 0; timeout_ms = 100; retry_base_ms = 7;\n"
        "         retry_cap_ms = 7; rate_limit_rps = 2.5; ca_file = \"/ca.pem\";\n"
        "         insecure_skip_verify = true; };\n"
        "deadletter = { topic = \"replay.dl\"; };\n"
        "log = { level = \"warn\"; format = \"json\"; file = \"/r.log\"; };\n"
        "shutdown_timeout_s = 3600;\n";
    struct arb_replay_conf *conf = load_replay(write_file("every-replay.conf", text));

    assert_string_equal(conf->kafka.bootstrap, "k:9093");
    assert_int_equal(conf->kafka.ack_timeout_ms, 200);
    assert_string_equal(conf->replay.group, "g");
    assert_int_equal(conf->replay.ntopics, 2);
    assert_string_equal(conf->replay.topics[0], "t1");
    assert_string_equal(conf->replay.topics[1], "t2");
    assert_string_equal(conf->replay.admin_listen, "");
    assert_string_equal(conf->desk.url, "https://desk.example/hook");
    assert_int_equal(conf->desk.format, ARB_DESK_RECORD);
    assert_int_equal(conf->desk.signature.mode, ARB_SIG_ENFORCE);
    assert_int_equal(conf->desk.signature.algorithm, ARB_SIG_MD5);
    assert_int_equal(conf->desk.signature.encoding, ARB_SIG_HEX);
    assert_string_equal(conf->desk.signature.header, "X-S");
    assert_string_equal(conf->desk.signature.prefix, "md5=");
    assert_int_equal(conf->desk.signature.nsecrets, 2);
    assert_secret(&conf->desk.signature.secrets[1], NULL, "s2");
    assert_int_equal(conf->desk.max_in_flight, 3);
    assert_int_equal(conf->desk.max_retry_s, 0);
    assert_int_equal(conf->desk.timeout_ms, 100);
    assert_int_equal(conf->desk.retry_base_ms, 7);
    assert_int_equal(conf->desk.retry_cap_ms, 7);
    assert_true(conf->desk.rate_limit_rps == 2.5);
    assert_string_equal(conf->desk.ca_file, "/ca.pem");
    assert_true(conf->desk.insecure_skip_verify);
    assert_string_equal(conf->deadletter.topic, "replay.dl");
    assert_int_equal(conf->log.level, ARB_LOG_WARN);
    assert_int_equal(conf->log.format, ARB_LOG_JSON);
    assert_string_equal(conf->log.file, "/r.log");
    assert_int_equal(conf->shutdown_timeout_s, 3600);
    arb_replay_conf_destroy(conf);
}

/* An integer is accepted where a number is expected; one regex instead of names. */
static void test_replay_regex_and_integer_rate(void **state)
{
    (void)state;
    const char *text =
        "replay = { topics = [ \"^airudder\\\\..*\" ]; admin_listen = \"[::]:8081\"; };\n"
        "desk = { url = \"http://d\"; rate_limit_rps = 3; signature = { mode = \"off\"; }; };\n";
    struct arb_replay_conf *conf = load_replay(write_file("regex-replay.conf", text));

    assert_int_equal(conf->replay.ntopics, 1);
    assert_string_equal(conf->replay.topics[0], "^airudder\\..*");
    assert_string_equal(conf->replay.admin_listen, "[::]:8081");
    assert_true(conf->desk.rate_limit_rps == 3.0);
    arb_replay_conf_destroy(conf);
}

/* ---- ${ENV}, file: and secrets ----------------------------------------------------------- */

static void test_env_and_file_secrets(void **state)
{
    (void)state;
    write_file("secret.txt", "from-file\r\n");
    const char *text =
        "signature = {\n"
        "  prefix = \"$notvar-${ARB_TEST_WORD}$ {x}\";\n"
        "  secrets = [ \"${ARB_TEST_WORD}-${ARB_TEST_WORD}\",\n"
        "              \"file:${ARB_TEST_DIR}/secret.txt\", \"a$b\" ];\n"
        "};\n"
        "kafka = { bootstrap = \"${ARB_TEST_WORD}.example:9092\"; };\n";
    struct arb_bridge_conf *conf = load_bridge(write_file("env.conf", text));

    assert_string_equal(conf->signature.prefix, "$notvar-pre$ {x}");
    assert_string_equal(conf->kafka.bootstrap, "pre.example:9092");
    assert_int_equal(conf->signature.nsecrets, 3);
    assert_secret(&conf->signature.secrets[0], NULL, "pre-pre");
    assert_secret(&conf->signature.secrets[1], NULL, "from-file");
    assert_secret(&conf->signature.secrets[2], NULL, "a$b");
    arb_bridge_conf_destroy(conf);
}

static void test_secret_groups(void **state)
{
    (void)state;
    write_file("secret.txt", "from-file\n");
    const char *text =
        "signature = { key_header = \"X-AIRudder-Sign-Key\";\n"
        "  secrets = ( { id = \"2024\"; secret = \"old\"; },\n"
        "              { id = \"${ARB_TEST_WORD}\";\n"
        "                secret = \"file:${ARB_TEST_DIR}/secret.txt\"; } );\n"
        "};\n";
    struct arb_bridge_conf *conf = load_bridge(write_file("groups.conf", text));

    assert_string_equal(conf->signature.key_header, "X-AIRudder-Sign-Key");
    assert_int_equal(conf->signature.nsecrets, 2);
    assert_secret(&conf->signature.secrets[0], "2024", "old");
    assert_secret(&conf->signature.secrets[1], "pre", "from-file");
    arb_bridge_conf_destroy(conf);
}

static void test_kafka_properties(void **state)
{
    (void)state;
    write_file("password.txt", "hunter2\n");
    const char *text =
        "signature = { mode = \"off\"; };\n"
        "kafka = { properties = {\n"
        "  compression_type = \"zstd\";\n"
        "  linger_ms = 5;\n"
        "  message_max_bytes = 2000000000L;\n"
        "  queue_buffering_max_ms = 0.5;\n"
        "  enable_idempotence = true;\n"
        "  socket_keepalive_enable = false;\n"
        "  sasl_password = \"file:${ARB_TEST_DIR}/password.txt\";\n"
        "  ssl_key_password = \"plain\";\n"
        "  client_id = \"${ARB_TEST_WORD}-bridge\";\n"
        "  ssl_ca_location = \"file:not-a-password\";\n"
        "}; };\n";
    struct arb_bridge_conf *conf = load_bridge(write_file("properties.conf", text));
    const struct arb_kv *kv = conf->kafka.properties;

    assert_int_equal(conf->kafka.nproperties, 10);
    assert_property(&kv[0], "compression.type", "zstd", 3);
    assert_property(&kv[1], "linger.ms", "5", 4);
    assert_property(&kv[2], "message.max.bytes", "2000000000", 5);
    assert_property(&kv[3], "queue.buffering.max.ms", "0.5", 6);
    assert_property(&kv[4], "enable.idempotence", "true", 7);
    assert_property(&kv[5], "socket.keepalive.enable", "false", 8);
    assert_property(&kv[6], "sasl.password", "hunter2", 9);
    assert_property(&kv[7], "ssl.key.password", "plain", 10);
    assert_property(&kv[8], "client.id", "pre-bridge", 11);
    assert_property(&kv[9], "ssl.ca.location", "file:not-a-password", 12);
    arb_bridge_conf_destroy(conf);
}

/* ---- the example files ------------------------------------------------------------------- */

static void test_example_configs(void **state)
{
    (void)state;
    struct arb_bridge_conf *bridge = load_bridge(ARB_SOURCE_DIR "/conf/airudder-bridge.conf");
    struct arb_replay_conf *replay = load_replay(ARB_SOURCE_DIR "/conf/airudder-replay.conf");

    assert_string_equal(bridge->kafka.bootstrap, "127.0.0.1:9092");
    assert_int_equal(bridge->signature.nsecrets, 1);
    assert_secret(&bridge->signature.secrets[0], NULL, "bridge-secret");
    assert_string_equal(replay->kafka.bootstrap, "127.0.0.1:9092");
    assert_string_equal(replay->desk.url, "http://127.0.0.1:9000/events");
    assert_int_equal(replay->desk.signature.nsecrets, 1);
    assert_secret(&replay->desk.signature.secrets[0], NULL, "desk-secret");
    arb_bridge_conf_destroy(bridge);
    arb_replay_conf_destroy(replay);
}

/* ---- errors ------------------------------------------------------------------------------ */

enum binary { BRIDGE, REPLAY };

/* expected: what follows the file name in each message; "%s" stands for the test directory. */
struct error_case {
    const char *name;
    enum binary binary;
    const char *text;
    const char *expected[MAX_EXPECTED];
};

/* Line 1 of bridge cases that are about something else. */
#define SIGNED "signature = { secrets = [ \"s\" ]; };\n"
/* Line 1 of replay cases that do not touch desk. */
#define DESK "desk = { url = \"http://d\"; signature = { mode = \"off\"; }; };\n"
#define NOT_ALLOWED "is not allowed (use A-Z a-z 0-9 . _ -)"
#define NEED_SECRET "at least one secret is required when signature.mode is enforce"
#define NEED_ENDPOINT_SECRET(e)                                                              \
    "needs a secret: set signature.secrets or " e ".signature, or choose auth = \"token\", "  \
    "\"basic\" or \"none\""
#define NEED_DESK_SECRET \
    "desk.signature.secrets: at least one secret is required when desk.signature.mode is enforce"

static struct error_case error_cases[] = {
    {"syntax error", BRIDGE, "http = {\n  listen = ;\n};\n", {":2: syntax error"}},
    {"unknown key", BRIDGE, SIGNED "foo = 1;\n", {":2: unknown key 'foo'"}},
    {"unknown nested key", BRIDGE,
     SIGNED "http = {\n  listen = \"127.0.0.1:80\";\n  bogus = 2;\n};\n",
     {":4: unknown key 'http.bogus'"}},
    {"bridge key in replay", REPLAY, DESK "http = { listen = \"a:1\"; };\n",
     {":2: unknown key 'http'"}},
    {"scalar for a group", BRIDGE, SIGNED "http = 5;\n", {":2: http: expected a group"}},
    {"group for a scalar", BRIDGE, SIGNED "http = { threads = { n = 1; }; };\n",
     {":2: http.threads: expected integer"}},
    {"string for integer", BRIDGE, SIGNED "http = { threads = \"4\"; };\n",
     {":2: http.threads: expected integer"}},
    {"integer for string", BRIDGE, SIGNED "http = { listen = 8080; };\n",
     {":2: http.listen: expected string"}},
    {"integer above bound", BRIDGE, SIGNED "http = { threads = 65; };\n",
     {":2: http.threads: must be between 0 and 64"}},
    {"integer below bound", BRIDGE, SIGNED "http = { max_connections = 15; };\n",
     {":2: http.max_connections: must be between 16 and 65536"}},
    {"int64 above bound", BRIDGE, SIGNED "http = { max_body_bytes = 100000000000L; };\n",
     {":2: http.max_body_bytes: must be between 1024 and 67108864"}},
    {"float below bound", REPLAY,
     "desk = { url = \"http://d\"; signature = { mode = \"off\"; };\n"
     "         rate_limit_rps = -0.5; };\n",
     {":2: desk.rate_limit_rps: must be between 0 and 1000000"}},
    {"string for number", REPLAY,
     "desk = { url = \"http://d\"; signature = { mode = \"off\"; }; rate_limit_rps = \"x\"; };\n",
     {":1: desk.rate_limit_rps: expected number"}},
    {"string for boolean", REPLAY,
     "desk = { url = \"http://d\"; signature = { mode = \"off\"; };\n"
     "         insecure_skip_verify = \"yes\"; };\n",
     {":2: desk.insecure_skip_verify: expected boolean"}},
    {"bad enum", BRIDGE, "signature = { mode = \"strict\"; secrets = [ \"s\" ]; };\n",
     {":1: signature.mode: must be one of enforce, off"}},
    {"bad log level", BRIDGE, SIGNED "log = { level = \"trace\"; };\n",
     {":2: log.level: must be one of error, warn, info, debug"}},
    {"unset variable", BRIDGE, "signature = { secrets = [ \"${ARB_TEST_UNSET}\" ]; };\n",
     {":1: signature.secrets[0]: environment variable ARB_TEST_UNSET is not set"}},
    {"unset variable in a scalar", BRIDGE,
     SIGNED "kafka = { bootstrap = \"${ARB_TEST_UNSET}:9092\"; };\n",
     {":2: kafka.bootstrap: environment variable ARB_TEST_UNSET is not set"}},
    {"malformed reference", BRIDGE, SIGNED "log = { file = \"${1X}\"; };\n",
     {":2: log.file: malformed environment reference (expected ${NAME})"}},
    {"unterminated reference", BRIDGE, SIGNED "log = { file = \"${X\"; };\n",
     {":2: log.file: malformed environment reference (expected ${NAME})"}},
    {"required, group present", REPLAY, "desk = {\n  max_in_flight = 3;\n};\n",
     {":1: desk.url: required", ":1: " NEED_DESK_SECRET}},
    {"required, no group", REPLAY, "kafka = { bootstrap = \"k:9092\"; };\n",
     {": desk.url: required", ": " NEED_DESK_SECRET}},
    {"no secret, no group", BRIDGE, "", {": signature.secrets: " NEED_SECRET}},
    {"no secret, group present", BRIDGE, "\nsignature = {\n  header = \"X-Sig\";\n};\n",
     {":2: signature.secrets: " NEED_SECRET}},
    {"empty secret list", BRIDGE, "signature = {\n  secrets = [];\n};\n",
     {":2: signature.secrets: " NEED_SECRET}},
    {"endpoint without auth, no secret", BRIDGE,
     "endpoints = (\n  { path = \"/a\"; auth = \"none\"; },\n"
     "  { path = \"/wf\"; schema = \"workflow.session.end\"; }\n);\n",
     {":3: endpoints[1].auth: signature (the default) " NEED_ENDPOINT_SECRET("endpoints[1]")}},
    {"endpoint signature, empty top-level group", BRIDGE,
     "signature = { header = \"X-Sig\"; };\n"
     "endpoints = ( { path = \"/a\";\n  auth = \"signature\"; } );\n",
     {":2: endpoints[0].auth: signature " NEED_ENDPOINT_SECRET("endpoints[0]")}},
    {"endpoint with a bad auth", BRIDGE, "endpoints = ( { path = \"/a\"; auth = \"open\"; } );\n",
     {":1: endpoints[0].auth: must be one of signature, token, basic, none"}},
    {"unreadable file secret", BRIDGE,
     "signature = { secrets = [ \"file:${ARB_TEST_DIR}/missing\" ]; };\n",
     {":1: signature.secrets[0]: cannot read %s/missing: No such file or directory"}},
    {"empty secret", BRIDGE, "signature = { secrets = [ \"ok\", \"\" ]; };\n",
     {":1: signature.secrets[1]: secret is empty"}},
    {"empty file secret", BRIDGE,
     "signature = { secrets = [ \"file:${ARB_TEST_DIR}/empty.txt\" ]; };\n",
     {":1: signature.secrets[0]: secret is empty"}},
    {"secret of wrong type", BRIDGE, "signature = { secrets = ( 5 ); };\n",
     {":1: signature.secrets[0]: expected a string or a group { id = \"...\"; "
      "secret = \"...\"; }"}},
    {"key header without id", BRIDGE,
     "signature = {\n  key_header = \"X-Key\";\n"
     "  secrets = ( { id = \"k\"; secret = \"b\"; },\n  \"a\" );\n};\n",
     {":4: signature.secrets[1]: id is required when signature.key_header is set"}},
    {"duplicate id", BRIDGE,
     "signature = { secrets = ( { id = \"k\"; secret = \"a\"; },\n"
     "                          { id = \"k\"; secret = \"b\"; } ); };\n",
     {":2: signature.secrets[1]: duplicate id 'k'"}},
    {"secret group without secret", BRIDGE,
     "signature = { secrets = ( { id = \"k\"; value = \"x\"; } ); };\n",
     {":1: unknown key 'signature.secrets[0].value'",
      ":1: signature.secrets[0].secret: required"}},
    {"desk secret missing in enforce mode", REPLAY,
     "desk = { url = \"http://d\";\n  signature = { prefix = \"p\"; };\n};\n",
     {":2: " NEED_DESK_SECRET}},
    {"bad route topic", BRIDGE,
     SIGNED "routes = (\n  { event = \"*\"; topic = \"bad topic\"; }\n);\n",
     {":3: routes[0].topic: topic \"bad topic\": ' ' " NOT_ALLOWED}},
    {"route without event", BRIDGE, SIGNED "routes = ( { topic = \"t\"; } );\n",
     {":2: routes[0].event: required"}},
    {"route with unknown member", BRIDGE,
     SIGNED "routes = ( { event = \"e\"; topic = \"t\"; },\n"
            "           { event = \"*\"; topic = \"u\"; key = \"k\"; } );\n",
     {":3: unknown key 'routes[1].key'"}},
    {"routes not a list", BRIDGE, SIGNED "routes = { event = \"*\"; };\n",
     {":2: routes: expected a list of groups ( { event = \"...\"; topic = \"...\"; } )"}},
    {"no routes", BRIDGE, SIGNED "routes = ();\n", {":2: routes: at least one route is required"}},
    {"dead-letter placeholder", BRIDGE, SIGNED "deadletter = { topic = \"dl.{event}\"; };\n",
     {":2: deadletter.topic: placeholders are not allowed here"}},
    {"tls cert without key", BRIDGE, SIGNED "http = {\n  tls_cert = \"/c.pem\";\n};\n",
     {":3: http.tls_key: required when http.tls_cert is set"}},
    {"tls key without cert", BRIDGE, SIGNED "http = {\n  tls_key = \"/k.pem\";\n};\n",
     {":3: http.tls_cert: required when http.tls_key is set"}},
    {"path without slash", BRIDGE, SIGNED "http = { path = \"v1\"; };\n",
     {":2: http.path: must start with '/'"}},
    {"bad listen", BRIDGE, SIGNED "http = { listen = \"localhost\"; };\n",
     {":2: http.listen: expected host:port or [ipv6]:port with a port in 1..65535"}},
    {"bad admin listen", REPLAY, DESK "replay = { admin_listen = \"127.0.0.1:0\"; };\n",
     {":2: replay.admin_listen: expected host:port or [ipv6]:port with a port in 1..65535"}},
    {"bad desk url", REPLAY, "desk = { url = \"ftp://d\"; signature = { mode = \"off\"; }; };\n",
     {":1: desk.url: must start with http:// or https://"}},
    {"retry cap below base", REPLAY,
     "desk = { url = \"http://d\"; signature = { mode = \"off\"; };\n"
     "  retry_base_ms = 500;\n  retry_cap_ms = 100;\n};\n",
     {":3: desk.retry_cap_ms: must be at least desk.retry_base_ms (500)"}},
    {"no topics", REPLAY, DESK "replay = { topics = []; };\n",
     {":2: replay.topics: must not be empty"}},
    {"regex and names", REPLAY, DESK "replay = { topics = [ \"^a.*\", \"b\" ]; };\n",
     {":2: replay.topics: a regex (starting with '^') must be the only entry"}},
    {"bad topic name", REPLAY, DESK "replay = { topics = [ \"ok\",\n  \"a b\" ]; };\n",
     {":3: replay.topics[1]: topic \"a b\": ' ' " NOT_ALLOWED}},
    {"property of wrong type", BRIDGE, SIGNED "kafka = { properties = { foo = [ 1 ]; }; };\n",
     {":2: kafka.properties.foo: expected a string, number or boolean"}},
    {"properties not a group", BRIDGE, SIGNED "kafka = { properties = [ \"a\" ]; };\n",
     {":2: kafka.properties: expected a group"}},
    {"unreadable password file", BRIDGE,
     SIGNED "kafka = { properties = {\n"
            "  sasl_password = \"file:${ARB_TEST_DIR}/missing\"; }; };\n",
     {":3: kafka.properties.sasl_password: cannot read %s/missing: No such file or directory"}},
    {"several errors in line order", BRIDGE,
     "http = {\n"
     "  threads = 100;\n"
     "  path = \"nope\";\n"
     "};\n"
     "signature = { mode = \"loud\"; };\n"
     "bogus = true;\n"
     "routes = ( { event = \"*\"; topic = \"a/b\"; } );\n"
     "desk = { url = \"http://d\"; };\n",
     {":2: http.threads: must be between 0 and 64", ":3: http.path: must start with '/'",
      ":5: signature.mode: must be one of enforce, off", ":6: unknown key 'bogus'",
      ":7: routes[0].topic: topic \"a/b\": '/' " NOT_ALLOWED, ":8: unknown key 'desk'"}},
};

static void test_error_case(void **state)
{
    const struct error_case *c = *state;
    const char *path = write_file("case.conf", c->text);
    struct arb_conf_errors errors = {0};
    size_t expected = 0;
    int rc;

    write_file("empty.txt", "\r\n");
    if (c->binary == BRIDGE) {
        struct arb_bridge_conf *conf = (struct arb_bridge_conf *)1;
        rc = arb_bridge_conf_load(path, &conf, &errors);
        assert_null(conf);
    } else {
        struct arb_replay_conf *conf = (struct arb_replay_conf *)1;
        rc = arb_replay_conf_load(path, &conf, &errors);
        assert_null(conf);
    }
    assert_int_equal(rc, -1);
    while (expected < MAX_EXPECTED && c->expected[expected] != NULL)
        expected++;
    if (errors.count != expected)
        print_errors(&errors);
    assert_int_equal(errors.count, expected);
    for (size_t i = 0; i < expected; i++) {
        char suffix[512], want[1024];
        snprintf(suffix, sizeof(suffix), c->expected[i], test_dir);
        snprintf(want, sizeof(want), "%s%s", path, suffix);
        assert_string_equal(errors.messages[i], want);
    }
    arb_conf_errors_clear(&errors);
    assert_int_equal(errors.count, 0);
    assert_null(errors.messages);
}

static void test_missing_file(void **state)
{
    (void)state;
    struct arb_conf_errors errors = {0};
    struct arb_replay_conf *conf = NULL;
    char want[600];

    snprintf(want, sizeof(want), "%s: cannot open: No such file or directory",
             path_of("nonexistent.conf"));
    assert_int_equal(arb_replay_conf_load(path_of("nonexistent.conf"), &conf, &errors), -1);
    assert_null(conf);
    assert_int_equal(errors.count, 1);
    assert_string_equal(errors.messages[0], want);
    arb_conf_errors_clear(&errors);
}

/* Errors are appended to what the caller already has. */
static void test_errors_accumulate(void **state)
{
    (void)state;
    struct arb_conf_errors errors = {0};
    struct arb_bridge_conf *conf = NULL;
    const char *path = write_file("accumulate.conf", "foo = 1;\n");

    arb_conf_errors_add(&errors, "x.conf", 0, "first %d", 1);
    arb_conf_errors_add(&errors, "x.conf", 7, "second");
    assert_int_equal(arb_bridge_conf_load(path, &conf, &errors), -1);
    assert_int_equal(errors.count, 4);
    assert_string_equal(errors.messages[0], "x.conf: first 1");
    assert_string_equal(errors.messages[1], "x.conf:7: second");
    arb_conf_errors_clear(&errors);
    arb_conf_errors_clear(NULL);
}

static void test_destroy_null(void **state)
{
    (void)state;
    arb_bridge_conf_destroy(NULL);
    arb_replay_conf_destroy(NULL);
}

/* ---- listen addresses and the documentation table ---------------------------------------- */

static void test_listen_parse(void **state)
{
    (void)state;
    static const struct {
        const char *listen;
        int rc;
        const char *host;
        int port;
    } cases[] = {
        {"127.0.0.1:8080", 0, "127.0.0.1", 8080}, {"localhost:1", 0, "localhost", 1},
        {"[::1]:65535", 0, "::1", 65535},         {"[::]:80", 0, "::", 80},
        {"0.0.0.0:08080", 0, "0.0.0.0", 8080},    {"127.0.0.1", -1, NULL, 0},
        {":8080", -1, NULL, 0},                   {"host:", -1, NULL, 0},
        {"host:0", -1, NULL, 0},                  {"host:65536", -1, NULL, 0},
        {"host:123456", -1, NULL, 0},             {"host:+80", -1, NULL, 0},
        {"host:80x", -1, NULL, 0},                {"::1:80", -1, NULL, 0},
        {"[::1]80", -1, NULL, 0},                 {"[]:80", -1, NULL, 0},
        {"[::1:80", -1, NULL, 0},                 {"", -1, NULL, 0},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        char host[64] = "";
        int port = 0;
        int rc = arb_listen_parse(cases[i].listen, host, sizeof(host), &port);
        if (rc != cases[i].rc)
            print_message("listen \"%s\"\n", cases[i].listen);
        assert_int_equal(rc, cases[i].rc);
        if (rc == 0) {
            assert_string_equal(host, cases[i].host);
            assert_int_equal(port, cases[i].port);
        }
    }
    char small[4];
    int port;
    assert_int_equal(arb_listen_parse("localhost:80", small, sizeof(small), &port), -1);
}

/* The documented keys, copied out of the describe callback. */
struct docs {
    struct arb_conf_doc rows[128];
    char keys[128][ARB_DOC_KEY_MAX];
    size_t count;
};

static void collect(void *opaque, const struct arb_conf_doc *doc)
{
    struct docs *docs = opaque;
    assert_true(docs->count < COUNT(docs->rows));
    snprintf(docs->keys[docs->count], ARB_DOC_KEY_MAX, "%s", doc->key);
    docs->rows[docs->count] = *doc;
    docs->rows[docs->count].key = docs->keys[docs->count];
    docs->count++;
}

static const struct arb_conf_doc *find_doc(const struct docs *docs, const char *key)
{
    for (size_t i = 0; i < docs->count; i++)
        if (strcmp(docs->rows[i].key, key) == 0)
            return &docs->rows[i];
    return NULL;
}

static void assert_docs_unique(const struct docs *docs)
{
    for (size_t i = 0; i < docs->count; i++) {
        assert_non_null(docs->rows[i].type);
        assert_non_null(docs->rows[i].doc);
        assert_true(strlen(docs->rows[i].doc) > 0);
        for (size_t j = i + 1; j < docs->count; j++)
            assert_string_not_equal(docs->rows[i].key, docs->rows[j].key);
    }
}

static void test_docs(void **state)
{
    (void)state;
    static struct docs bridge, replay;

    arb_bridge_conf_describe(collect, &bridge);
    arb_replay_conf_describe(collect, &replay);
    print_message("%zu bridge keys, %zu replay keys\n", bridge.count, replay.count);
    assert_int_equal(bridge.count, ARB_BRIDGE_DOCS);
    assert_int_equal(replay.count, ARB_REPLAY_DOCS);
    assert_docs_unique(&bridge);
    assert_docs_unique(&replay);
    assert_string_equal(find_doc(&bridge, "http.listen")->default_value, "\"127.0.0.1:8080\"");
    assert_string_equal(find_doc(&bridge, "http.threads")->type, "integer 0..64");
    assert_string_equal(find_doc(&bridge, "http.threads")->default_value, "0");
    assert_string_equal(find_doc(&bridge, "signature.mode")->type, "one of enforce, off");
    assert_null(find_doc(&bridge, "signature.secrets")->default_value);
    assert_non_null(find_doc(&bridge, "endpoints[].path"));
    assert_non_null(find_doc(&bridge, "endpoints[].token.header"));
    assert_non_null(find_doc(&bridge, "routes[].topic"));
    assert_null(find_doc(&bridge, "desk.url"));
    assert_null(find_doc(&replay, "desk.url")->default_value);
    assert_string_equal(find_doc(&replay, "desk.signature.mode")->default_value,
                        "\"enforce\"");
    assert_string_equal(find_doc(&replay, "desk.insecure_skip_verify")->default_value, "false");
    assert_non_null(find_doc(&replay, "kafka.properties"));
    assert_null(find_doc(&replay, "routes"));
}

/* ---- runner ------------------------------------------------------------------------------ */

static void remove_test_dir(void)
{
    DIR *dir = opendir(test_dir);
    struct dirent *entry;
    if (dir == NULL)
        return;
    while ((entry = readdir(dir)) != NULL)
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0)
            unlink(path_of(entry->d_name));
    closedir(dir);
    rmdir(test_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_bridge),
        cmocka_unit_test(test_minimal_replay),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_bridge_every_key),
        cmocka_unit_test(test_replay_every_key),
        cmocka_unit_test(test_replay_regex_and_integer_rate),
        cmocka_unit_test(test_env_and_file_secrets),
        cmocka_unit_test(test_secret_groups),
        cmocka_unit_test(test_kafka_properties),
        cmocka_unit_test(test_example_configs),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_errors_accumulate),
        cmocka_unit_test(test_destroy_null),
        cmocka_unit_test(test_listen_parse),
        cmocka_unit_test(test_docs),
    };
    struct CMUnitTest error_tests[COUNT(error_cases)];
    int failures;

    snprintf(test_dir, sizeof(test_dir), "%s/arb-test-config-XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(test_dir) == NULL)
        return 1;
    setenv("AIRUDDER_SIGN_SECRET", "bridge-secret", 1);
    setenv("DESK_SIGN_SECRET", "desk-secret", 1);
    setenv("ARB_TEST_DIR", test_dir, 1);
    setenv("ARB_TEST_WORD", "pre", 1);
    unsetenv("ARB_TEST_UNSET");
    for (size_t i = 0; i < COUNT(error_cases); i++)
        error_tests[i] = (struct CMUnitTest){error_cases[i].name, test_error_case, NULL, NULL,
                                             &error_cases[i]};

    failures = cmocka_run_group_tests(tests, NULL, NULL);
    failures += cmocka_run_group_tests(error_tests, NULL, NULL);
    remove_test_dir();
    return failures == 0 ? 0 : 1;
}
