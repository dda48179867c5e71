/* conf_shared.c - the configuration groups both binaries share (see conf_shared.h): kafka
 * with its free-form properties, log, deadletter, and the signature group (the bridge's
 * signature and each endpoint's, the replay's desk.signature), whose secrets may be named by
 * id; and the checks of single values that several tables use. */
#include "arb/conf_shared.h"
#include "arb/listen_addr.h"
#include "arb/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Enum fields are written through an int (arb_conf_load_enum). */
#define ENUM_IS_INT(e) _Static_assert(sizeof(enum e) == sizeof(int), #e " is not int-sized")
ENUM_IS_INT(arb_sig_mode);
ENUM_IS_INT(arb_sig_algorithm);
ENUM_IS_INT(arb_sig_encoding);
ENUM_IS_INT(arb_log_level);
ENUM_IS_INT(arb_log_format);

/* ---- checks of single values ---- */

int arb_conf_parse_name(const char *name, const char *const *names, int count, int *value)
{
    for (int i = 0; i < count; i++) {
        if (strcasecmp(name, names[i]) == 0) {
            *value = i;
            return 0;
        }
    }
    return -1;
}

int arb_conf_check_not_empty(const char *value, struct arb_error *err)
{
    return value[0] != '\0' ? 0 : arb_error_set(err, ARB_E_INVALID, "must not be empty");
}

int arb_conf_check_listen(const char *value, struct arb_error *err)
{
    char host[256];
    int port;
    if (arb_listen_parse(value, host, sizeof(host), &port) == 0)
        return 0;
    return arb_error_set(err, ARB_E_INVALID,
                         "expected host:port or [ipv6]:port with a port in 1..65535");
}

int arb_conf_check_listen_or_empty(const char *value, struct arb_error *err)
{
    return value[0] == '\0' ? 0 : arb_conf_check_listen(value, err);
}

int arb_conf_check_http_path(const char *value, struct arb_error *err)
{
    return value[0] == '/' ? 0 : arb_error_set(err, ARB_E_INVALID, "must start with '/'");
}

int arb_conf_check_url(const char *value, struct arb_error *err)
{
    if ((strncmp(value, "http://", 7) == 0 && value[7] != '\0') ||
        (strncmp(value, "https://", 8) == 0 && value[8] != '\0'))
        return 0;
    return arb_error_set(err, ARB_E_INVALID, "must start with http:// or https://");
}

/* A topic name without placeholders. */
int arb_conf_check_plain_topic(const char *value, struct arb_error *err)
{
    if (strchr(value, '{') != NULL)
        return arb_error_set(err, ARB_E_INVALID, "placeholders are not allowed here");
    return arb_route_check(value, err);
}

int arb_conf_check_topic_or_empty(const char *value, struct arb_error *err)
{
    return value[0] == '\0' ? 0 : arb_conf_check_plain_topic(value, err);
}

void arb_conf_check_together(struct arb_conf_ctx *ctx, const config_setting_t *group,
                             const char *base, const char *a_name, const char *a,
                             const char *b_name, const char *b)
{
    char a_path[ARB_CONF_PATH_MAX], b_path[ARB_CONF_PATH_MAX];
    if (a == NULL || b == NULL)
        return;
    arb_conf_path(a_path, base, a_name);
    arb_conf_path(b_path, base, b_name);
    if (a[0] != '\0' && b[0] == '\0')
        arb_conf_fail(ctx, arb_conf_member(group, a_name), b_path, "required when %s is set",
                      a_path);
    if (b[0] != '\0' && a[0] == '\0')
        arb_conf_fail(ctx, arb_conf_member(group, b_name), a_path, "required when %s is set",
                      b_path);
}

/* ---- enums ---- */

#define NAME_PARSER(fn, ...)                                                                 \
    static int fn(const char *name, int *value)                                              \
    {                                                                                        \
        static const char *const names[] = {__VA_ARGS__};                                    \
        return arb_conf_parse_name(name, names, (int)COUNT(names), value);                   \
    }
/* In the order of the enums' values. */
NAME_PARSER(parse_sig_mode, "enforce", "off")
NAME_PARSER(parse_sig_algorithm, "sha256", "sha1", "sha512", "md5")
NAME_PARSER(parse_sig_encoding, "hex", "base64")
NAME_PARSER(parse_log_level, "error", "warn", "info", "debug")
NAME_PARSER(parse_log_format, "text", "json")

/* ---- secrets ---- */

/* A group { id; secret; } element: its parts, and the setting of the secret. */
static int secret_group(struct arb_conf_ctx *ctx, const config_setting_t *elem,
                        const char *path, char **id, char **value, size_t *len,
                        const config_setting_t **at)
{
    char member_path[ARB_CONF_PATH_MAX];
    const config_setting_t *id_setting = arb_conf_member(elem, "id");
    int rc = 0;

    for (int i = 0; i < config_setting_length(elem); i++) {
        const char *name = config_setting_name(config_setting_get_elem(elem, (unsigned)i));
        if (strcmp(name, "id") != 0 && strcmp(name, "secret") != 0) {
            arb_conf_path(member_path, path, name);
            rc = arb_conf_fail(ctx, config_setting_get_elem(elem, (unsigned)i), NULL,
                               "unknown key '%s'", member_path);
        }
    }
    *at = arb_conf_member(elem, "secret");
    if (*at == NULL) {
        arb_conf_path(member_path, path, "secret");
        return arb_conf_fail(ctx, elem, member_path, "required");
    }
    if (rc != 0)
        return -1;
    if (id_setting != NULL) {
        arb_conf_path(member_path, path, "id");
        if ((*id = arb_conf_string(ctx, id_setting, member_path)) == NULL)
            return -1;
    }
    return arb_conf_secret(ctx, *at, path, value, len);
}

static int load_secret(struct arb_conf_ctx *ctx, const config_setting_t *elem, const char *path,
                       struct arb_secret *secret)
{
    char *id = NULL, *value = NULL;
    const config_setting_t *at = elem;
    size_t len = 0;
    int rc;

    if (config_setting_type(elem) == CONFIG_TYPE_STRING)
        rc = arb_conf_secret(ctx, elem, path, &value, &len);
    else if (config_setting_is_group(elem))
        rc = secret_group(ctx, elem, path, &id, &value, &len, &at);
    else
        rc = arb_conf_fail(ctx, elem, path, "expected a string or a group { id = \"...\"; "
                                            "secret = \"...\"; }");
    if (rc == 0 && len == 0)
        rc = arb_conf_fail(ctx, at, path, "secret is empty");
    if (rc == 0 && id != NULL && id[0] == '\0')
        rc = arb_conf_fail(ctx, elem, path, "id must not be empty");
    if (rc != 0) {
        free(id);
        free(value);
        return -1;
    }
    *secret = (struct arb_secret){.id = id, .value = value, .len = len};
    return 0;
}

/* field: the secrets member of a struct whose next member is the count. */
int arb_conf_load_secrets(struct arb_conf_ctx *ctx, const struct arb_conf_key *key,
                          const char *path, const config_setting_t *s, void *field)
{
    struct arb_secret **secrets = field;
    size_t *count = (size_t *)((char *)field - key->offset + key->count_offset);
    char elem_path[ARB_CONF_PATH_MAX];
    int rc = 0;

    if (s == NULL)
        return 0;
    if (!config_setting_is_list(s) && !config_setting_is_array(s))
        return arb_conf_fail(ctx, s, path, "expected a list of strings or of groups "
                                           "{ id = \"...\"; secret = \"...\"; }");
    int n = config_setting_length(s);
    *secrets = arb_xcalloc((size_t)n, sizeof(**secrets));
    for (int i = 0; i < n; i++) {
        arb_conf_path_index(elem_path, path, i);
        if (load_secret(ctx, config_setting_get_elem(s, (unsigned)i), elem_path,
                        &(*secrets)[*count]) == 0)
            (*count)++;
        else
            rc = -1;
    }
    return rc;
}

void arb_conf_release_secrets(const struct arb_conf_key *key, void *field)
{
    struct arb_secret **secrets = field;
    size_t *count = (size_t *)((char *)field - key->offset + key->count_offset);
    arb_secrets_free(*secrets, *count);
    *secrets = NULL;
    *count = 0;
}

/* Ids: required when the key header is set, never twice. Reported at the element. */
static void check_signature(struct arb_conf_ctx *ctx, const char *path,
                            const config_setting_t *group, void *object)
{
    const struct arb_signature_conf *sig = object;
    const config_setting_t *list = arb_conf_member(group, "secrets");
    char key_header[ARB_CONF_PATH_MAX], elem_path[ARB_CONF_PATH_MAX], secrets[ARB_CONF_PATH_MAX];

    arb_conf_path(key_header, path, "key_header");
    arb_conf_path(secrets, path, "secrets");
    if (arb_conf_failed(ctx, key_header) || arb_conf_failed(ctx, secrets))
        return;
    for (size_t i = 0; i < sig->nsecrets; i++) {
        const config_setting_t *elem =
            list != NULL ? config_setting_get_elem(list, (unsigned)i) : NULL;
        arb_conf_path_index(elem_path, secrets, (int)i);
        if (sig->secrets[i].id == NULL && sig->key_header[0] != '\0')
            arb_conf_fail(ctx, elem, elem_path, "id is required when %s is set", key_header);
        for (size_t j = 0; sig->secrets[i].id != NULL && j < i; j++)
            if (sig->secrets[j].id != NULL && strcmp(sig->secrets[j].id, sig->secrets[i].id) == 0)
                arb_conf_fail(ctx, elem, elem_path, "duplicate id '%s'", sig->secrets[i].id);
    }
}

void arb_conf_require_secret(struct arb_conf_ctx *ctx, const char *path,
                             const config_setting_t *group, const config_setting_t *parent,
                             const struct arb_signature_conf *sig)
{
    char mode[ARB_CONF_PATH_MAX], secrets[ARB_CONF_PATH_MAX];
    arb_conf_path(mode, path, "mode");
    arb_conf_path(secrets, path, "secrets");
    if (sig->mode != ARB_SIG_ENFORCE || sig->nsecrets > 0 || arb_conf_failed(ctx, mode) ||
        arb_conf_failed(ctx, secrets))
        return;
    const config_setting_t *at = arb_conf_member(group, "secrets");
    if (at == NULL)
        at = group != NULL ? group : parent;
    arb_conf_fail(ctx, at, secrets, "at least one secret is required when %s is enforce", mode);
}

#define S struct arb_signature_conf
static const struct arb_conf_key signature_keys[] = {
    ARB_CONF_ENUM("mode", S, mode, "enforce", parse_sig_mode, "enforce, off",
                  "enforce: only correctly signed requests pass; off: no signature (logged "
                  "loudly)"),
    ARB_CONF_ENUM("algorithm", S, algorithm, "sha256", parse_sig_algorithm,
                  "sha256, sha1, sha512, md5", "HMAC digest"),
    ARB_CONF_ENUM("encoding", S, encoding, "hex", parse_sig_encoding, "hex, base64",
                  "encoding of the digest in the header (hex is case-insensitive on input)"),
    ARB_CONF_STRING("header", S, header, "X-AIRudder-Sign", arb_conf_check_not_empty,
                    "header carrying the signature"),
    ARB_CONF_STRING("prefix", S, prefix, "", NULL,
                    "literal prefix before the digest, e.g. \"sha256=\""),
    ARB_CONF_STRING("key_header", S, key_header, "", NULL,
                    "header naming the secret's id; \"\" = try every secret"),
    ARB_CONF_KEY("secrets", S, secrets, "list of strings or of groups { id; secret; }", NULL,
                 "secrets (\"file:PATH\" reads one from a file); required in enforce mode; "
                 "ids required when key_header is set",
                 .load = arb_conf_load_secrets, .release = arb_conf_release_secrets,
                 .count_offset = offsetof(S, nsecrets)),
};
#undef S
const struct arb_conf_group arb_conf_signature_group =
    ARB_CONF_GROUP_OF(struct arb_signature_conf, signature_keys, check_signature);

/* ---- kafka ---- */

static bool ends_with(const char *text, const char *suffix)
{
    size_t len = strlen(text), suffix_len = strlen(suffix);
    return len >= suffix_len && strcmp(text + len - suffix_len, suffix) == 0;
}

/* A property's value as librdkafka text; "file:" for ...password properties. */
static char *property_value(struct arb_conf_ctx *ctx, const config_setting_t *s,
                            const char *path)
{
    struct arb_buf text;
    char *value = NULL;
    size_t len;

    arb_buf_init(&text);
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_STRING:
        if (ends_with(path, "password"))
            arb_conf_secret(ctx, s, path, &value, &len);
        else
            value = arb_conf_string(ctx, s, path);
        return value;
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: arb_buf_printf(&text, "%lld", config_setting_get_int64(s)); break;
    case CONFIG_TYPE_FLOAT: arb_buf_printf(&text, "%.15g", config_setting_get_float(s)); break;
    case CONFIG_TYPE_BOOL: arb_buf_puts(&text, config_setting_get_bool(s) ? "true" : "false");
        break;
    default: arb_conf_fail(ctx, s, path, "expected a string, number or boolean"); return NULL;
    }
    return arb_buf_detach(&text, NULL);
}

/* field: the struct arb_kafka_conf's properties. Names are checked by librdkafka. */
static int load_properties(struct arb_conf_ctx *ctx, const struct arb_conf_key *key,
                           const char *path, const config_setting_t *s, void *field)
{
    struct arb_kafka_conf *kafka =
        (struct arb_kafka_conf *)((char *)field - offsetof(struct arb_kafka_conf, properties));
    char property_path[ARB_CONF_PATH_MAX];
    int rc = 0;
    (void)key;

    if (!config_setting_is_group(s))
        return arb_conf_fail(ctx, s, path, "expected a group");
    int n = config_setting_length(s);
    kafka->properties = arb_xcalloc((size_t)n, sizeof(*kafka->properties));
    for (int i = 0; i < n; i++) {
        const config_setting_t *property = config_setting_get_elem(s, (unsigned)i);
        arb_conf_path(property_path, path, config_setting_name(property));
        char *value = property_value(ctx, property, property_path);
        if (value == NULL) {
            rc = -1;
            continue;
        }
        struct arb_kv *kv = &kafka->properties[kafka->nproperties++];
        kv->key = arb_xstrdup(config_setting_name(property));
        for (char *p = kv->key; *p != '\0'; p++)
            if (*p == '_')
                *p = '.';
        kv->value = value;
        kv->line = (int)config_setting_source_line(property);
    }
    return rc;
}

static void release_properties(const struct arb_conf_key *key, void *field)
{
    struct arb_kafka_conf *kafka =
        (struct arb_kafka_conf *)((char *)field - offsetof(struct arb_kafka_conf, properties));
    (void)key;
    for (size_t i = 0; i < kafka->nproperties; i++) {
        free(kafka->properties[i].key);
        free(kafka->properties[i].value);
    }
    free(kafka->properties);
    kafka->properties = NULL;
    kafka->nproperties = 0;
}

#define K struct arb_kafka_conf
static const struct arb_conf_key kafka_keys[] = {
    ARB_CONF_STRING("bootstrap", K, bootstrap, "127.0.0.1:9092", arb_conf_check_not_empty,
                    "Kafka bootstrap servers, host:port[,host:port...]"),
    ARB_CONF_INT("ack_timeout_ms", K, ack_timeout_ms, 5000, 100, 300000,
                 "bridge: answer 503 when Kafka has not acknowledged every record by then; "
                 "replay: a dead letter not acknowledged by then is written again"),
    ARB_CONF_CUSTOM("properties", K, properties, "group", "{}", load_properties,
                    release_properties,
                    "librdkafka properties, '_' standing for '.': compression_type = \"zstd\""),
};
#undef K
const struct arb_conf_group arb_conf_kafka_group =
    ARB_CONF_GROUP_OF(struct arb_kafka_conf, kafka_keys, NULL);

/* ---- log, deadletter ---- */

#define L struct arb_log_conf
static const struct arb_conf_key log_keys[] = {
    ARB_CONF_ENUM("level", L, level, "info", parse_log_level, "error, warn, info, debug",
                  "least severe level logged"),
    ARB_CONF_ENUM("format", L, format, "json", parse_log_format, "json, text",
                  "JSON objects or text, one per line"),
    ARB_CONF_STRING("file", L, file, "", NULL,
                    "append to this file (reopened on SIGHUP); \"\" = stderr"),
};
#undef L
const struct arb_conf_group arb_conf_log_group =
    ARB_CONF_GROUP_OF(struct arb_log_conf, log_keys, NULL);

#define D struct arb_deadletter_conf
static const struct arb_conf_key deadletter_keys[] = {
    ARB_CONF_STRING("topic", D, topic, "airudder.deadletter", arb_conf_check_plain_topic,
                    "topic for what cannot be delivered"),
};
#undef D
const struct arb_conf_group arb_conf_deadletter_group =
    ARB_CONF_GROUP_OF(struct arb_deadletter_conf, deadletter_keys, NULL);
