/* config.c - loading the configuration files of both binaries (see config.h).
 *
 * Each binary has one table of keys (bridge_keys, replay_keys). A row names a key by its
 * dotted path and says how to load it (a loader: string, integer, enum, ... or a custom one for
 * lists and free-form groups), where the value goes (an offset into the conf struct), its
 * default written in libconfig syntax, its bounds and one line of documentation. Rows shared by
 * the two binaries (kafka.*, log.*, the signature group, deadletter.topic, shutdown_timeout_s)
 * are written once, as macros over the struct type. The same rows give arb_*_conf_docs().
 *
 * Loading makes three passes over the libconfig tree: walk every setting of the file and
 * report those no row describes; load every row, from the file or else from its default (the
 * default text is parsed by libconfig too, so both take the same path and the bounds check
 * covers the defaults); then check what involves two keys. Errors are collected with their
 * line, sorted by line, and handed over all at once. Destroying walks the same table. */
#include "arb/config.h"
#include "arb/buf.h"
#include "arb/mem.h"

#include <assert.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define KEY_MAX 256            /* a key path in a message, e.g. "routes[3].topic" */
#define SECRET_FILE_MAX 65536  /* "file:" values are secrets, not documents */

/* Enum fields are written through an int (load_enum). */
#define ENUM_IS_INT(e) _Static_assert(sizeof(enum e) == sizeof(int), #e " is not int-sized")
ENUM_IS_INT(arb_sig_mode);
ENUM_IS_INT(arb_sig_algorithm);
ENUM_IS_INT(arb_sig_encoding);
ENUM_IS_INT(arb_log_level);
ENUM_IS_INT(arb_log_format);
ENUM_IS_INT(arb_desk_format);

/* ---- errors ------------------------------------------------------------------------------ */

struct conf_error {
    const char *file; /* owned by the libconfig tree or the caller */
    int line;         /* 0 = no line */
    size_t seq;       /* keeps the order of errors on one line */
    char *text;       /* "key: message" */
};

struct conf_key;

/* The state of one load. */
struct loader {
    const char *file;
    config_t config;
    const struct conf_key *keys;
    size_t nkeys;
    bool *failed; /* per row: loading it reported an error */
    struct conf_error *errors;
    size_t nerrors;
};

__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(NULL, 0, fmt, copy);
    va_end(copy);
    size_t size = n > 0 ? (size_t)n + 1 : 1;
    char *text = arb_xmalloc(size);
    text[0] = '\0';
    if (n > 0)
        vsnprintf(text, size, fmt, ap);
    return text;
}

void arb_conf_errors_add(struct arb_conf_errors *errors, const char *file, int line,
                         const char *fmt, ...)
{
    struct arb_buf text;
    va_list ap;
    va_start(ap, fmt);
    char *message = vformat(fmt, ap);
    va_end(ap);

    arb_buf_init(&text);
    if (line > 0)
        arb_buf_printf(&text, "%s:%d: %s", file, line, message);
    else
        arb_buf_printf(&text, "%s: %s", file, message);
    free(message);
    errors->messages = arb_xrealloc(errors->messages, (errors->count + 1) * sizeof(char *));
    errors->messages[errors->count++] = arb_buf_detach(&text, NULL);
}

void arb_conf_errors_clear(struct arb_conf_errors *errors)
{
    if (errors == NULL)
        return;
    for (size_t i = 0; i < errors->count; i++)
        free(errors->messages[i]);
    free(errors->messages);
    errors->messages = NULL;
    errors->count = 0;
}

/* Record "key: message" (or just the message when key is NULL); always returns -1. */
static int push_error(struct loader *ld, const char *file, int line, const char *key,
                      const char *message)
{
    struct arb_buf text;
    arb_buf_init(&text);
    if (key != NULL)
        arb_buf_printf(&text, "%s: ", key);
    arb_buf_puts(&text, message);
    ld->errors = arb_xrealloc(ld->errors, (ld->nerrors + 1) * sizeof(*ld->errors));
    ld->errors[ld->nerrors] = (struct conf_error){file, line, ld->nerrors,
                                                  arb_buf_detach(&text, NULL)};
    ld->nerrors++;
    return -1;
}

/* Report at setting s, or without a line when s is NULL. */
__attribute__((format(printf, 4, 0))) static int
vfail(struct loader *ld, const config_setting_t *s, const char *key, const char *fmt, va_list ap)
{
    const char *file = s != NULL ? config_setting_source_file(s) : NULL;
    int line = s != NULL ? (int)config_setting_source_line(s) : 0;
    char *message = vformat(fmt, ap);
    push_error(ld, file != NULL ? file : ld->file, line, key, message);
    free(message);
    return -1;
}

__attribute__((format(printf, 4, 5))) static int
fail(struct loader *ld, const config_setting_t *s, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(ld, s, key, fmt, ap);
    va_end(ap);
    return -1;
}

static int error_order(const void *a, const void *b)
{
    const struct conf_error *x = a, *y = b;
    int lx = x->line > 0 ? x->line : INT_MAX, ly = y->line > 0 ? y->line : INT_MAX;
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Hand the errors to the caller in line order (those without a line last). */
static void flush_errors(struct loader *ld, struct arb_conf_errors *errors)
{
    if (ld->nerrors > 0)
        qsort(ld->errors, ld->nerrors, sizeof(*ld->errors), error_order);
    for (size_t i = 0; i < ld->nerrors; i++) {
        arb_conf_errors_add(errors, ld->errors[i].file, ld->errors[i].line, "%s",
                            ld->errors[i].text);
        free(ld->errors[i].text);
    }
    free(ld->errors);
    ld->errors = NULL;
    ld->nerrors = 0;
}

/* ---- finding settings -------------------------------------------------------------------- */

/* Format a key path into out (KEY_MAX bytes); a longer one is cut, it only names things. */
__attribute__((format(printf, 2, 3))) static void key_format(char *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, KEY_MAX, fmt, ap);
    va_end(ap);
}

/* The setting at a dotted path, or NULL; *group is the deepest enclosing group that exists
 * (NULL for the root). */
static const config_setting_t *find_setting(const struct loader *ld, const char *path,
                                            const config_setting_t **group)
{
    const config_setting_t *s = config_root_setting(&ld->config);
    *group = NULL;
    for (;;) {
        char name[KEY_MAX];
        size_t len = strcspn(path, ".");
        key_format(name, "%.*s", (int)len, path);
        s = config_setting_get_member(s, name);
        if (s == NULL || path[len] == '\0')
            return s;
        if (!config_setting_is_group(s))
            return NULL;
        *group = s;
        path += len + 1;
    }
}

/* Report at the setting of path or, when it is absent, at its enclosing group. */
__attribute__((format(printf, 4, 5))) static int
fail_near(struct loader *ld, const char *path, const char *key, const char *fmt, ...)
{
    const config_setting_t *group;
    const config_setting_t *s = find_setting(ld, path, &group);
    va_list ap;
    va_start(ap, fmt);
    vfail(ld, s != NULL ? s : group, key, fmt, ap);
    va_end(ap);
    return -1;
}

static bool is_list_or_array(const config_setting_t *s)
{
    return config_setting_is_list(s) || config_setting_is_array(s);
}

/* "base[i]" and "base.name". */
static void element_key(char *out, const char *base, int index)
{
    key_format(out, "%s[%d]", base, index);
}

static void member_key(char *out, const char *base, const char *name)
{
    key_format(out, "%s.%s", base, name);
}

/* ---- strings: ${NAME} and file: ---------------------------------------------------------- */

static bool env_name_char(char c, bool first)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

static size_t env_name_length(const char *text)
{
    size_t len = 0;
    while (env_name_char(text[len], len == 0))
        len++;
    return len;
}

/* text with every ${NAME} replaced by the environment variable; NULL after reporting. */
static char *expand_env(struct loader *ld, const config_setting_t *s, const char *key,
                        const char *text)
{
    struct arb_buf out;
    char *result = NULL;
    const char *ref;

    arb_buf_init(&out);
    while ((ref = strstr(text, "${")) != NULL) {
        size_t len = env_name_length(ref + 2);
        arb_buf_append(&out, text, (size_t)(ref - text));
        if (len == 0 || ref[2 + len] != '}') {
            fail(ld, s, key, "malformed environment reference (expected ${NAME})");
            goto out;
        }
        char *name = arb_xstrndup(ref + 2, len);
        const char *value = getenv(name);
        if (value == NULL)
            fail(ld, s, key, "environment variable %s is not set", name);
        free(name);
        if (value == NULL)
            goto out;
        arb_buf_puts(&out, value);
        text = ref + len + 3;
    }
    arb_buf_puts(&out, text);
    result = arb_buf_detach(&out, NULL);
out:
    arb_buf_free(&out);
    return result;
}

/* The string value of s, ${NAME} expanded (malloc'd); NULL after reporting. */
static char *string_value(struct loader *ld, const config_setting_t *s, const char *key)
{
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        fail(ld, s, key, "expected string");
        return NULL;
    }
    return expand_env(ld, s, key, config_setting_get_string(s));
}

/* Read a small file whole into buf; -1 with errno set. */
static int read_small_file(const char *path, struct arb_buf *buf)
{
    char chunk[4096];
    size_t n;
    int rc = -1, saved_errno;
    FILE *fp = fopen(path, "rb");

    if (fp == NULL)
        return -1;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        arb_buf_append(buf, chunk, n);
        if (buf->len > SECRET_FILE_MAX) {
            errno = EFBIG;
            goto out;
        }
    }
    if (ferror(fp))
        goto out;
    rc = 0;
out:
    saved_errno = errno;
    fclose(fp);
    errno = saved_errno;
    return rc;
}

/* A value "file:PATH" becomes the contents of PATH without trailing CR/LF; *len is set
 * either way. */
static int resolve_file(struct loader *ld, const config_setting_t *s, const char *key,
                        char **value, size_t *len)
{
    struct arb_buf contents;
    const char *path;

    *len = strlen(*value);
    if (strncmp(*value, "file:", strlen("file:")) != 0)
        return 0;
    path = *value + strlen("file:");
    arb_buf_init(&contents);
    if (read_small_file(path, &contents) != 0) {
        fail(ld, s, key, "cannot read %s: %s", path, strerror(errno));
        arb_buf_free(&contents);
        return -1;
    }
    while (contents.len > 0 &&
           (contents.data[contents.len - 1] == '\n' || contents.data[contents.len - 1] == '\r'))
        contents.len--;
    free(*value);
    *value = arb_buf_detach(&contents, len);
    (*value)[*len] = '\0';
    return 0;
}

/* ---- the key table ----------------------------------------------------------------------- */

typedef int load_fn(struct loader *ld, const struct conf_key *key, const config_setting_t *s,
                    void *field);
typedef void release_fn(void *field);
typedef void check_fn(struct loader *ld, void *conf);

struct conf_key {
    struct arb_conf_doc doc; /* key path, type, default (libconfig syntax), documentation */
    load_fn *load;           /* s is the file's setting or the parsed default */
    release_fn *release;     /* frees what load stored; NULL when nothing is owned */
    size_t offset;           /* of the field in the conf struct */
    long long min, max;      /* integers and numbers */
    int (*parse)(const char *name, int *value); /* enums */
    const char *choices;                        /* enums: the names, for messages */
    int (*check)(const char *value, struct arb_error *err); /* strings, optional */
    bool required;
};

/* One macro per kind of row. Defaults are written as C tokens and stringified with #def,
 * which is libconfig syntax: "x" gives "\"x\"", 30 gives "30", false gives "false". Bounds
 * are stringified into the documented type the same way. */
#define KEY(path, T, member, type, def, doc_, ...)                                            \
    {.doc = {path, type, def, doc_}, .offset = offsetof(T, member), __VA_ARGS__}
#define STRING_KEY(path, T, member, def, check_, doc)                                          \
    KEY(path, T, member, "string", #def, doc, .load = load_string,                            \
        .release = release_string, .check = check_)
#define REQUIRED_STRING_KEY(path, T, member, check_, doc)                                      \
    KEY(path, T, member, "string", NULL, doc, .load = load_string,                            \
        .release = release_string, .check = check_, .required = true)
#define INT_KEY(path, T, member, def, lo, hi, doc)                                             \
    KEY(path, T, member, "integer " #lo ".." #hi, #def, doc, .load = load_int, .min = lo,      \
        .max = hi)
#define INT64_KEY(path, T, member, def, lo, hi, doc)                                           \
    KEY(path, T, member, "integer " #lo ".." #hi, #def, doc, .load = load_int64, .min = lo,    \
        .max = hi)
#define FLOAT_KEY(path, T, member, def, lo, hi, doc)                                           \
    KEY(path, T, member, "number " #lo ".." #hi, #def, doc, .load = load_float, .min = lo,     \
        .max = hi)
#define BOOL_KEY(path, T, member, def, doc)                                                    \
    KEY(path, T, member, "boolean", #def, doc, .load = load_bool)
#define ENUM_KEY(path, T, member, def, parse_, choices_, doc)                                  \
    KEY(path, T, member, "one of " choices_, #def, doc, .load = load_enum, .parse = parse_,    \
        .choices = choices_)
/* def is libconfig text here (a list or a group), NULL for none. */
#define CUSTOM_KEY(path, T, member, type, def, load_, release_, doc)                           \
    KEY(path, T, member, type, def, doc, .load = load_, .release = release_)

/* ---- loaders of plain values ------------------------------------------------------------- */

static int load_string(struct loader *ld, const struct conf_key *key, const config_setting_t *s,
                       void *field)
{
    struct arb_error err;
    char *value = string_value(ld, s, key->doc.key);

    if (value == NULL)
        return -1;
    if (key->check != NULL && key->check(value, &err) != 0) {
        free(value);
        return fail(ld, s, key->doc.key, "%s", err.message);
    }
    *(char **)field = value;
    return 0;
}

static void release_string(void *field)
{
    free(*(char **)field);
    *(char **)field = NULL;
}

static int integer_value(struct loader *ld, const struct conf_key *key,
                         const config_setting_t *s, long long *out)
{
    int type = config_setting_type(s);
    if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
        return fail(ld, s, key->doc.key, "expected integer");
    *out = config_setting_get_int64(s);
    if (*out < key->min || *out > key->max)
        return fail(ld, s, key->doc.key, "must be between %lld and %lld", key->min, key->max);
    return 0;
}

static int load_int(struct loader *ld, const struct conf_key *key, const config_setting_t *s,
                    void *field)
{
    long long value = 0;
    if (integer_value(ld, key, s, &value) != 0)
        return -1;
    *(int *)field = (int)value;
    return 0;
}

static int load_int64(struct loader *ld, const struct conf_key *key, const config_setting_t *s,
                      void *field)
{
    long long value = 0;
    if (integer_value(ld, key, s, &value) != 0)
        return -1;
    *(int64_t *)field = value;
    return 0;
}

/* An integer or a float. */
static int load_float(struct loader *ld, const struct conf_key *key, const config_setting_t *s,
                      void *field)
{
    int type = config_setting_type(s);
    double value;

    if (type == CONFIG_TYPE_FLOAT)
        value = config_setting_get_float(s);
    else if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64)
        value = (double)config_setting_get_int64(s);
    else
        return fail(ld, s, key->doc.key, "expected number");
    if (!(value >= (double)key->min && value <= (double)key->max))
        return fail(ld, s, key->doc.key, "must be between %lld and %lld", key->min, key->max);
    *(double *)field = value;
    return 0;
}

static int load_bool(struct loader *ld, const struct conf_key *key, const config_setting_t *s,
                     void *field)
{
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return fail(ld, s, key->doc.key, "expected boolean");
    *(bool *)field = config_setting_get_bool(s) != 0;
    return 0;
}

static int load_enum(struct loader *ld, const struct conf_key *key, const config_setting_t *s,
                     void *field)
{
    int value, rc;
    char *name = string_value(ld, s, key->doc.key);

    if (name == NULL)
        return -1;
    rc = key->parse(name, &value);
    free(name);
    if (rc != 0)
        return fail(ld, s, key->doc.key, "must be one of %s", key->choices);
    *(int *)field = value;
    return 0;
}

/* ---- enum names -------------------------------------------------------------------------- */

#define SIG_ENUM_PARSER(fn, type, parse)                                                        \
    static int fn(const char *name, int *value)                                                \
    {                                                                                          \
        type parsed;                                                                           \
        if (parse(name, &parsed) != 0)                                                         \
            return -1;                                                                         \
        *value = (int)parsed;                                                                  \
        return 0;                                                                              \
    }
SIG_ENUM_PARSER(parse_sig_mode, enum arb_sig_mode, arb_sig_mode_parse)
SIG_ENUM_PARSER(parse_sig_algorithm, enum arb_sig_algorithm, arb_sig_algorithm_parse)
SIG_ENUM_PARSER(parse_sig_encoding, enum arb_sig_encoding, arb_sig_encoding_parse)

/* The index of name in names (indexed by enum value), like arb_sig_*_parse. */
static int parse_index(const char *name, const char *const *names, int count, int *value)
{
    for (int i = 0; i < count; i++) {
        if (strcasecmp(name, names[i]) == 0) {
            *value = i;
            return 0;
        }
    }
    return -1;
}

static int parse_log_level(const char *name, int *value)
{
    static const char *const names[] = {
        [ARB_LOG_ERROR] = "error", [ARB_LOG_WARN] = "warn", [ARB_LOG_INFO] = "info",
        [ARB_LOG_DEBUG] = "debug"};
    return parse_index(name, names, (int)COUNT(names), value);
}

static int parse_log_format(const char *name, int *value)
{
    static const char *const names[] = {[ARB_LOG_TEXT] = "text", [ARB_LOG_JSON] = "json"};
    return parse_index(name, names, (int)COUNT(names), value);
}

static int parse_desk_format(const char *name, int *value)
{
    static const char *const names[] = {[ARB_DESK_EVENT] = "event", [ARB_DESK_RECORD] = "record"};
    return parse_index(name, names, (int)COUNT(names), value);
}

/* ---- checks of single string values ------------------------------------------------------ */

static int check_not_empty(const char *value, struct arb_error *err)
{
    return value[0] != '\0' ? 0 : arb_error_set(err, ARB_E_INVALID, "must not be empty");
}

static int check_listen(const char *value, struct arb_error *err)
{
    char host[256];
    int port;
    if (arb_listen_parse(value, host, sizeof(host), &port) == 0)
        return 0;
    return arb_error_set(err, ARB_E_INVALID,
                         "expected host:port or [ipv6]:port with a port in 1..65535");
}

static int check_listen_or_empty(const char *value, struct arb_error *err)
{
    return value[0] == '\0' ? 0 : check_listen(value, err);
}

static int check_http_path(const char *value, struct arb_error *err)
{
    return value[0] == '/' ? 0 : arb_error_set(err, ARB_E_INVALID, "must start with '/'");
}

static int check_url(const char *value, struct arb_error *err)
{
    if ((strncmp(value, "http://", 7) == 0 && value[7] != '\0') ||
        (strncmp(value, "https://", 8) == 0 && value[8] != '\0'))
        return 0;
    return arb_error_set(err, ARB_E_INVALID, "must start with http:// or https://");
}

/* A topic name without placeholders. */
static int check_plain_topic(const char *value, struct arb_error *err)
{
    if (strchr(value, '{') != NULL)
        return arb_error_set(err, ARB_E_INVALID, "placeholders are not allowed here");
    return arb_route_check(value, err);
}

/* ---- rows by path ------------------------------------------------------------------------ */

static const struct conf_key *find_key(const struct loader *ld, const char *path)
{
    for (size_t i = 0; i < ld->nkeys; i++)
        if (strcmp(ld->keys[i].doc.key, path) == 0)
            return &ld->keys[i];
    return NULL;
}

/* Whether loading the row of path reported an error (its field then holds nothing useful). */
static bool key_failed(const struct loader *ld, const char *path)
{
    const struct conf_key *key = find_key(ld, path);
    return key != NULL && ld->failed[key - ld->keys];
}

/* ---- groups with fixed string members (routes, secrets given as groups) ------------------ */

struct member {
    const char *name;
    bool required;
    const config_setting_t *setting; /* set by load_members */
    char *value;                     /* set by load_members; the caller owns it */
};

static struct member *find_member(struct member *members, size_t count, const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(members[i].name, name) == 0)
            return &members[i];
    return NULL;
}

/* Load the string members of group (called key in messages). On error every value is freed. */
static int load_members(struct loader *ld, const config_setting_t *group, const char *key,
                        struct member *members, size_t count)
{
    char name[KEY_MAX];
    int rc = 0;

    for (int i = 0; i < config_setting_length(group); i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        struct member *m = find_member(members, count, config_setting_name(s));
        member_key(name, key, config_setting_name(s));
        if (m == NULL) {
            rc = fail(ld, s, NULL, "unknown key '%s'", name);
            continue;
        }
        m->setting = s;
        if ((m->value = string_value(ld, s, name)) == NULL)
            rc = -1;
    }
    for (size_t i = 0; i < count; i++) {
        member_key(name, key, members[i].name);
        if (members[i].required && members[i].setting == NULL)
            rc = fail(ld, group, name, "required");
    }
    for (size_t i = 0; rc != 0 && i < count; i++) {
        free(members[i].value);
        members[i].value = NULL;
    }
    return rc;
}

/* ---- signature secrets ------------------------------------------------------------------- */

/* "signature.secrets" -> "signature.<name>". */
static void sibling_key(char *out, const char *secrets_key, const char *name)
{
    int prefix_len = (int)(strlen(secrets_key) - strlen("secrets"));
    key_format(out, "%.*s%s", prefix_len, secrets_key, name);
}

/* The id (may stay NULL) and value of one element, and the setting the value came from. */
static int secret_parts(struct loader *ld, const config_setting_t *elem, const char *key,
                        char **id, char **value, const config_setting_t **at)
{
    struct member members[] = {{"id", false, NULL, NULL}, {"secret", true, NULL, NULL}};

    *at = elem;
    if (config_setting_type(elem) == CONFIG_TYPE_STRING)
        return (*value = string_value(ld, elem, key)) != NULL ? 0 : -1;
    if (!config_setting_is_group(elem))
        return fail(ld, elem, key, "expected a string or a group { id = \"...\"; "
                                   "secret = \"...\"; }");
    if (load_members(ld, elem, key, members, COUNT(members)) != 0)
        return -1;
    *id = members[0].value;
    *value = members[1].value;
    *at = members[1].setting;
    return 0;
}

/* Ids: required when the key header is set, never empty, never twice. */
static int check_secret_id(struct loader *ld, const struct arb_signature_conf *sig,
                           const config_setting_t *elem, const char *key,
                           const char *secrets_key, const char *id)
{
    char key_header[KEY_MAX];

    sibling_key(key_header, secrets_key, "key_header");
    if (id == NULL && sig->key_header != NULL && sig->key_header[0] != '\0')
        return fail(ld, elem, key, "id is required when %s is set", key_header);
    if (id != NULL && id[0] == '\0')
        return fail(ld, elem, key, "id must not be empty");
    for (size_t i = 0; id != NULL && i < sig->nsecrets; i++)
        if (sig->secrets[i].id != NULL && strcmp(sig->secrets[i].id, id) == 0)
            return fail(ld, elem, key, "duplicate id '%s'", id);
    return 0;
}

/* Load element index of the secrets list and append it to sig. */
static int load_secret(struct loader *ld, const struct conf_key *key,
                       const config_setting_t *elem, int index, struct arb_signature_conf *sig)
{
    char name[KEY_MAX];
    char *id = NULL, *value = NULL;
    const config_setting_t *at;
    size_t len;
    int rc = -1;

    element_key(name, key->doc.key, index);
    if (secret_parts(ld, elem, name, &id, &value, &at) != 0 ||
        resolve_file(ld, at, name, &value, &len) != 0)
        goto out;
    if (len == 0) {
        fail(ld, at, name, "secret is empty");
        goto out;
    }
    if (check_secret_id(ld, sig, elem, name, key->doc.key, id) != 0)
        goto out;
    sig->secrets[sig->nsecrets++] = (struct arb_secret){.id = id, .value = value, .len = len};
    id = value = NULL;
    rc = 0;
out:
    free(id);
    free(value);
    return rc;
}

/* In enforce mode there must be a secret to verify (or sign) with. */
static int require_secret(struct loader *ld, const struct conf_key *key,
                          const struct arb_signature_conf *sig)
{
    char mode_key[KEY_MAX];
    sibling_key(mode_key, key->doc.key, "mode");
    if (sig->mode != ARB_SIG_ENFORCE || key_failed(ld, mode_key))
        return 0;
    return fail_near(ld, key->doc.key, key->doc.key,
                     "at least one secret is required when %s is enforce", mode_key);
}

/* field: the struct arb_signature_conf. Its mode and key_header rows come first. */
static int load_secrets(struct loader *ld, const struct conf_key *key, const config_setting_t *s,
                        void *field)
{
    struct arb_signature_conf *sig = field;
    int count = s != NULL ? config_setting_length(s) : 0;
    int rc = 0;

    if (s != NULL && !is_list_or_array(s))
        return fail(ld, s, key->doc.key, "expected a list of strings or of groups "
                                         "{ id = \"...\"; secret = \"...\"; }");
    sig->secrets = arb_xcalloc((size_t)count, sizeof(*sig->secrets));
    for (int i = 0; i < count; i++)
        if (load_secret(ld, key, config_setting_get_elem(s, (unsigned)i), i, sig) != 0)
            rc = -1;
    if (count == 0 && require_secret(ld, key, sig) != 0)
        rc = -1;
    return rc;
}

static void release_secrets(void *field)
{
    arb_signature_conf_clear(field);
}

/* ---- kafka.properties -------------------------------------------------------------------- */

static bool ends_with(const char *text, const char *suffix)
{
    size_t len = strlen(text), suffix_len = strlen(suffix);
    return len >= suffix_len && strcmp(text + len - suffix_len, suffix) == 0;
}

/* A property's value as librdkafka text; "file:" for ...password properties. */
static char *property_value(struct loader *ld, const config_setting_t *s, const char *key)
{
    struct arb_buf text;
    char *value;
    size_t len;

    arb_buf_init(&text);
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_STRING:
        value = string_value(ld, s, key);
        if (value != NULL && ends_with(key, "password") &&
            resolve_file(ld, s, key, &value, &len) != 0) {
            free(value);
            value = NULL;
        }
        return value;
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: arb_buf_printf(&text, "%lld", config_setting_get_int64(s)); break;
    case CONFIG_TYPE_FLOAT: arb_buf_printf(&text, "%.15g", config_setting_get_float(s)); break;
    case CONFIG_TYPE_BOOL: arb_buf_puts(&text, config_setting_get_bool(s) ? "true" : "false");
        break;
    default: fail(ld, s, key, "expected a string, number or boolean"); return NULL;
    }
    return arb_buf_detach(&text, NULL);
}

static int load_property(struct loader *ld, const struct conf_key *key,
                         const config_setting_t *s, struct arb_kv *kv)
{
    char name[KEY_MAX];
    char *value;

    member_key(name, key->doc.key, config_setting_name(s));
    if ((value = property_value(ld, s, name)) == NULL)
        return -1;
    kv->key = arb_xstrdup(config_setting_name(s));
    for (char *p = kv->key; *p != '\0'; p++)
        if (*p == '_')
            *p = '.';
    kv->value = value;
    kv->line = (int)config_setting_source_line(s);
    return 0;
}

/* field: the struct arb_kafka_conf. Names are not checked here: librdkafka does it. */
static int load_properties(struct loader *ld, const struct conf_key *key,
                           const config_setting_t *s, void *field)
{
    struct arb_kafka_conf *kafka = field;
    int rc = 0;

    if (!config_setting_is_group(s))
        return fail(ld, s, key->doc.key, "expected a group");
    int count = config_setting_length(s);
    kafka->properties = arb_xcalloc((size_t)count, sizeof(*kafka->properties));
    for (int i = 0; i < count; i++) {
        const config_setting_t *property = config_setting_get_elem(s, (unsigned)i);
        if (load_property(ld, key, property, &kafka->properties[kafka->nproperties]) == 0)
            kafka->nproperties++;
        else
            rc = -1;
    }
    return rc;
}

static void release_properties(void *field)
{
    struct arb_kafka_conf *kafka = field;
    for (size_t i = 0; i < kafka->nproperties; i++) {
        free(kafka->properties[i].key);
        free(kafka->properties[i].value);
    }
    free(kafka->properties);
    kafka->properties = NULL;
    kafka->nproperties = 0;
}

/* ---- routes ------------------------------------------------------------------------------ */

static int load_route(struct loader *ld, const config_setting_t *elem, const char *key,
                      struct arb_route *route)
{
    struct member members[] = {{"event", true, NULL, NULL}, {"topic", true, NULL, NULL}};
    struct arb_error err;
    char name[KEY_MAX];
    int rc = -1;

    if (!config_setting_is_group(elem))
        return fail(ld, elem, key, "expected a group { event = \"...\"; topic = \"...\"; }");
    if (load_members(ld, elem, key, members, COUNT(members)) != 0)
        return -1;
    if (members[0].value[0] == '\0') {
        member_key(name, key, "event");
        fail(ld, members[0].setting, name, "must not be empty");
        goto out;
    }
    if (arb_route_check(members[1].value, &err) != 0) {
        member_key(name, key, "topic");
        fail(ld, members[1].setting, name, "%s", err.message);
        goto out;
    }
    *route = (struct arb_route){members[0].value, members[1].value};
    members[0].value = members[1].value = NULL;
    rc = 0;
out:
    free(members[0].value);
    free(members[1].value);
    return rc;
}

static struct arb_bridge_conf *bridge_of_routes(void *field)
{
    return (struct arb_bridge_conf *)((char *)field - offsetof(struct arb_bridge_conf, routes));
}

/* field: the routes member of struct arb_bridge_conf (nroutes is reached from it). */
static int load_routes(struct loader *ld, const struct conf_key *key, const config_setting_t *s,
                       void *field)
{
    struct arb_bridge_conf *conf = bridge_of_routes(field);
    char name[KEY_MAX];
    int rc = 0;

    if (!config_setting_is_list(s))
        return fail(ld, s, key->doc.key, "expected a list of groups "
                                         "( { event = \"...\"; topic = \"...\"; } )");
    int count = config_setting_length(s);
    if (count == 0)
        return fail(ld, s, key->doc.key, "at least one route is required");
    conf->routes = arb_xcalloc((size_t)count, sizeof(*conf->routes));
    for (int i = 0; i < count; i++) {
        element_key(name, key->doc.key, i);
        if (load_route(ld, config_setting_get_elem(s, (unsigned)i), name,
                       &conf->routes[conf->nroutes]) == 0)
            conf->nroutes++;
        else
            rc = -1;
    }
    return rc;
}

static void release_routes(void *field)
{
    struct arb_bridge_conf *conf = bridge_of_routes(field);
    arb_routes_free(conf->routes, conf->nroutes);
    conf->routes = NULL;
    conf->nroutes = 0;
}

/* ---- replay.topics ----------------------------------------------------------------------- */

/* Topic names, or a single "^regex". */
static int load_topic(struct loader *ld, const config_setting_t *elem, const char *key,
                      struct arb_replay_section *replay)
{
    struct arb_error err;
    char *topic = string_value(ld, elem, key);

    if (topic == NULL)
        return -1;
    replay->topics[replay->ntopics++] = topic;
    if (topic[0] != '^' && check_plain_topic(topic, &err) != 0)
        return fail(ld, elem, key, "%s", err.message);
    return 0;
}

/* field: the struct arb_replay_section. */
static int load_topics(struct loader *ld, const struct conf_key *key, const config_setting_t *s,
                       void *field)
{
    struct arb_replay_section *replay = field;
    char name[KEY_MAX];
    bool regex = false;
    int rc = 0;

    if (!is_list_or_array(s))
        return fail(ld, s, key->doc.key, "expected a list of strings");
    int count = config_setting_length(s);
    if (count == 0)
        return fail(ld, s, key->doc.key, "must not be empty");
    replay->topics = arb_xcalloc((size_t)count, sizeof(char *));
    for (int i = 0; i < count; i++) {
        element_key(name, key->doc.key, i);
        if (load_topic(ld, config_setting_get_elem(s, (unsigned)i), name, replay) != 0)
            rc = -1;
    }
    for (size_t i = 0; i < replay->ntopics; i++)
        regex = regex || replay->topics[i][0] == '^';
    if (regex && count > 1)
        rc = fail(ld, s, key->doc.key, "a regex (starting with '^') must be the only entry");
    return rc;
}

static void release_topics(void *field)
{
    struct arb_replay_section *replay = field;
    for (size_t i = 0; i < replay->ntopics; i++)
        free(replay->topics[i]);
    free(replay->topics);
    replay->topics = NULL;
    replay->ntopics = 0;
}

/* ---- the tables -------------------------------------------------------------------------- */

/* The signature group: `signature` in the bridge, `desk.signature` in the replay. mode and
 * key_header must come before secrets, whose loader checks against them. */
#define SIGNATURE_KEYS(T, m, p, mode_doc)                                                      \
    ENUM_KEY(p ".mode", T, m.mode, "enforce", parse_sig_mode, "enforce, off", mode_doc),       \
    ENUM_KEY(p ".algorithm", T, m.algorithm, "sha256", parse_sig_algorithm,                    \
             "sha256, sha1, sha512, md5", "HMAC digest"),                                      \
    ENUM_KEY(p ".encoding", T, m.encoding, "hex", parse_sig_encoding, "hex, base64",           \
             "encoding of the digest in the header (hex is case-insensitive on input)"),       \
    STRING_KEY(p ".header", T, m.header, "X-AIRudder-Sign", check_not_empty,                   \
               "header carrying the signature"),                                               \
    STRING_KEY(p ".prefix", T, m.prefix, "", NULL,                                             \
               "literal prefix before the digest, e.g. \"sha256=\""),                          \
    STRING_KEY(p ".key_header", T, m.key_header, "", NULL,                                     \
               "header naming the secret's id; \"\" = try every secret"),                      \
    CUSTOM_KEY(p ".secrets", T, m, "list of strings or of groups { id; secret; }", NULL,       \
               load_secrets, release_secrets,                                                  \
               "secrets (\"file:PATH\" reads one from a file); required in enforce mode; "     \
               "ids required when key_header is set")

/* Keys both binaries have. */
#define SHARED_KEYS(T)                                                                         \
    STRING_KEY("kafka.bootstrap", T, kafka.bootstrap, "127.0.0.1:9092", check_not_empty,       \
               "Kafka bootstrap servers, host:port[,host:port...]"),                           \
    INT_KEY("kafka.ack_timeout_ms", T, kafka.ack_timeout_ms, 5000, 100, 300000,                \
            "how long to wait for Kafka to acknowledge a record (bridge: then answer 503)"),   \
    CUSTOM_KEY("kafka.properties", T, kafka, "group", "{}", load_properties,                   \
               release_properties,                                                             \
               "librdkafka properties, '_' standing for '.': compression_type = \"zstd\""),    \
    STRING_KEY("deadletter.topic", T, deadletter_topic, "airudder.deadletter",                 \
               check_plain_topic, "topic for what cannot be delivered"),                      \
    ENUM_KEY("log.level", T, log.level, "info", parse_log_level, "error, warn, info, debug",   \
             "least severe level logged"),                                                     \
    ENUM_KEY("log.format", T, log.format, "json", parse_log_format, "json, text",              \
             "JSON objects or text, one per line"),                                            \
    STRING_KEY("log.file", T, log.file, "", NULL,                                              \
               "append to this file (reopened on SIGHUP); \"\" = stderr"),                     \
    INT_KEY("shutdown_timeout_s", T, shutdown_timeout_s, 30, 1, 3600,                          \
            "longest graceful stop before exiting anyway")

#define B struct arb_bridge_conf
static const struct conf_key bridge_keys[] = {
    STRING_KEY("http.listen", B, http.listen, "127.0.0.1:8080", check_listen,
               "address to listen on, host:port or [ipv6]:port"),
    STRING_KEY("http.path", B, http.path, "/v1/events", check_http_path,
               "path AIRudder posts events to"),
    INT64_KEY("http.max_body_bytes", B, http.max_body_bytes, 1048576, 1024, 67108864,
              "larger bodies are refused with 413 before being read"),
    INT_KEY("http.threads", B, http.threads, 0, 0, 64, "worker threads; 0 = one per CPU"),
    INT_KEY("http.max_connections", B, http.max_connections, 4096, 16, 65536,
            "open connections at most"),
    INT_KEY("http.idle_timeout_s", B, http.idle_timeout_s, 30, 1, 3600,
            "close a connection idle this long"),
    INT_KEY("http.max_in_flight", B, http.max_in_flight, 1000, 1, 1000000,
            "event requests in progress at most; beyond: 503 at once"),
    INT64_KEY("http.max_in_flight_bytes", B, http.max_in_flight_bytes, 16777216, 65536,
              4294967296LL, "bytes of event bodies in progress at most; beyond: 503 at once"),
    BOOL_KEY("http.access_log", B, http.access_log, true,
             "log one line per event request (status, bytes, duration, call_id)"),
    STRING_KEY("http.tls_cert", B, http.tls_cert, "", NULL,
               "PEM certificate file; \"\" = plain HTTP (set with tls_key)"),
    STRING_KEY("http.tls_key", B, http.tls_key, "", NULL,
               "PEM private key file (set with tls_cert)"),
    SIGNATURE_KEYS(B, signature, "signature",
                   "enforce: reject requests without a valid signature; off: accept all"),
    CUSTOM_KEY("routes", B, routes, "list of groups { event; topic; }",
               "( { event = \"*\"; topic = \"airudder.messages\"; } )", load_routes,
               release_routes,
               "first match wins; event \"*\" matches any; topic may use {event}, {channel}, "
               "{company}"),
    SHARED_KEYS(B),
};
#undef B

#define R struct arb_replay_conf
static const struct conf_key replay_keys[] = {
    STRING_KEY("replay.group", R, replay.group, "airudder-replay", check_not_empty,
               "Kafka consumer group"),
    CUSTOM_KEY("replay.topics", R, replay, "list of strings", "[ \"airudder.messages\" ]",
               load_topics, release_topics,
               "topics to consume: names, or one regex starting with '^'"),
    STRING_KEY("replay.admin_listen", R, replay.admin_listen, "127.0.0.1:8081",
               check_listen_or_empty, "address of /healthz, /readyz, /metrics; \"\" = none"),
    INT_KEY("replay.max_buffered", R, replay.max_buffered, 2000, 16, 1000000,
            "records held in memory at most; when full, no more are taken, and after 2 s "
            "the partitions filling it are paused"),
    REQUIRED_STRING_KEY("desk.url", R, desk.url, check_url,
                        "the desk's webhook URL, http:// or https://"),
    ENUM_KEY("desk.format", R, desk.format, "event", parse_desk_format, "event, record",
             "post a rebuilt AIRudder event, or the record as stored"),
    SIGNATURE_KEYS(R, desk.signature, "desk.signature",
                   "enforce: sign every request; off: do not sign"),
    INT_KEY("desk.max_in_flight", R, desk.max_in_flight, 64, 1, 10000,
            "concurrent deliveries (one per conversation at a time)"),
    INT_KEY("desk.max_retry_s", R, desk.max_retry_s, 60, 0, 604800,
            "retry a record this long, then dead-letter it"),
    INT_KEY("desk.timeout_ms", R, desk.timeout_ms, 10000, 100, 600000,
            "timeout of one request to the desk"),
    INT_KEY("desk.retry_base_ms", R, desk.retry_base_ms, 100, 1, 60000,
            "first backoff ceiling"),
    INT_KEY("desk.retry_cap_ms", R, desk.retry_cap_ms, 30000, 1, 3600000,
            "largest backoff ceiling (at least retry_base_ms)"),
    FLOAT_KEY("desk.rate_limit_rps", R, desk.rate_limit_rps, 0, 0, 1000000,
              "requests per second at most; 0 = unlimited"),
    STRING_KEY("desk.ca_file", R, desk.ca_file, "", NULL,
               "CA bundle for https; \"\" = the system store"),
    BOOL_KEY("desk.insecure_skip_verify", R, desk.insecure_skip_verify, false,
             "do not verify the desk's TLS certificate (testing only)"),
    SHARED_KEYS(R),
};
#undef R

/* ---- loading ----------------------------------------------------------------------------- */

/* A path that some key lives under, such as "http" or "desk.signature". */
static bool is_group_path(const struct loader *ld, const char *path)
{
    size_t len = strlen(path);
    for (size_t i = 0; i < ld->nkeys; i++)
        if (strncmp(ld->keys[i].doc.key, path, len) == 0 && ld->keys[i].doc.key[len] == '.')
            return true;
    return false;
}

/* Report every setting under group (at prefix, "" for the root) that no key describes. The
 * contents of keys (lists, kafka.properties) are their loaders' business. */
static void walk_group(struct loader *ld, const config_setting_t *group, const char *prefix)
{
    char path[KEY_MAX];

    for (int i = 0; i < config_setting_length(group); i++) {
        const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        key_format(path, "%s%s%s", prefix, prefix[0] ? "." : "", config_setting_name(s));
        if (find_key(ld, path) != NULL)
            continue;
        if (!is_group_path(ld, path))
            fail(ld, s, NULL, "unknown key '%s'", path);
        else if (!config_setting_is_group(s))
            fail(ld, s, path, "expected a group");
        else
            walk_group(ld, s, path);
    }
}

/* Parse the row's default with libconfig, into defaults. */
static const config_setting_t *default_setting(config_t *defaults, const struct conf_key *key)
{
    struct arb_buf text;
    arb_buf_init(&text);
    arb_buf_printf(&text, "default = %s;", key->doc.default_value);
    int ok = config_read_string(defaults, text.data);
    arb_buf_free(&text);
    assert(ok == CONFIG_TRUE && "a default in the key table does not parse");
    (void)ok;
    return config_lookup(defaults, "default");
}

static int load_key(struct loader *ld, const struct conf_key *key, void *conf)
{
    const config_setting_t *group;
    const config_setting_t *s = find_setting(ld, key->doc.key, &group);
    config_t defaults;
    int rc;

    config_init(&defaults);
    if (s == NULL && key->doc.default_value != NULL)
        s = default_setting(&defaults, key);
    if (s == NULL && key->required)
        rc = fail(ld, group, key->doc.key, "required");
    else
        rc = key->load(ld, key, s, (char *)conf + key->offset);
    config_destroy(&defaults);
    return rc;
}

static int read_file(struct loader *ld)
{
    FILE *fp = fopen(ld->file, "r");
    if (fp == NULL) {
        char message[256];
        snprintf(message, sizeof(message), "cannot open: %s", strerror(errno));
        return push_error(ld, ld->file, 0, NULL, message);
    }
    fclose(fp);
    if (config_read_file(&ld->config, ld->file) == CONFIG_TRUE)
        return 0;
    const char *file = config_error_file(&ld->config);
    return push_error(ld, file != NULL ? file : ld->file, config_error_line(&ld->config), NULL,
                      config_error_text(&ld->config));
}

/* Load file into conf (zeroed) with keys, then run check; every error goes to errors. */
static int conf_load(const char *file, const struct conf_key *keys, size_t nkeys, void *conf,
                     check_fn *check, struct arb_conf_errors *errors)
{
    struct loader ld = {.file = file, .keys = keys, .nkeys = nkeys};
    int rc;

    ld.failed = arb_xcalloc(nkeys, sizeof(*ld.failed));
    config_init(&ld.config);
    if (read_file(&ld) == 0) {
        walk_group(&ld, config_root_setting(&ld.config), "");
        for (size_t i = 0; i < nkeys; i++)
            ld.failed[i] = load_key(&ld, &keys[i], conf) != 0;
        check(&ld, conf);
    }
    rc = ld.nerrors == 0 ? 0 : -1;
    flush_errors(&ld, errors);
    config_destroy(&ld.config);
    free(ld.failed);
    return rc;
}

static void release_keys(const struct conf_key *keys, size_t nkeys, void *conf)
{
    for (size_t i = 0; i < nkeys; i++)
        if (keys[i].release != NULL)
            keys[i].release((char *)conf + keys[i].offset);
}

/* ---- checks across keys ------------------------------------------------------------------ */

/* Two strings that must be set together (NULL: failed to load, already reported). */
static void check_together(struct loader *ld, const char *a_key, const char *a,
                           const char *b_key, const char *b)
{
    if (a == NULL || b == NULL)
        return;
    if (a[0] != '\0' && b[0] == '\0')
        fail_near(ld, a_key, b_key, "required when %s is set", a_key);
    if (b[0] != '\0' && a[0] == '\0')
        fail_near(ld, b_key, a_key, "required when %s is set", b_key);
}

static void check_bridge(struct loader *ld, void *conf)
{
    const struct arb_bridge_conf *bridge = conf;
    check_together(ld, "http.tls_cert", bridge->http.tls_cert, "http.tls_key",
                   bridge->http.tls_key);
}

static void check_replay(struct loader *ld, void *conf)
{
    const struct arb_desk_conf *desk = &((const struct arb_replay_conf *)conf)->desk;
    if (key_failed(ld, "desk.retry_base_ms") || key_failed(ld, "desk.retry_cap_ms"))
        return;
    if (desk->retry_cap_ms < desk->retry_base_ms)
        fail_near(ld, "desk.retry_cap_ms", "desk.retry_cap_ms",
                  "must be at least desk.retry_base_ms (%d)", desk->retry_base_ms);
}

/* ---- the public functions ---------------------------------------------------------------- */

int arb_bridge_conf_load(const char *file, struct arb_bridge_conf **out,
                         struct arb_conf_errors *errors)
{
    struct arb_bridge_conf *conf = arb_xcalloc(1, sizeof(*conf));
    conf->file = arb_xstrdup(file);
    if (conf_load(file, bridge_keys, COUNT(bridge_keys), conf, check_bridge, errors) != 0) {
        arb_bridge_conf_destroy(conf);
        conf = NULL;
    }
    *out = conf;
    return conf != NULL ? 0 : -1;
}

void arb_bridge_conf_destroy(struct arb_bridge_conf *conf)
{
    if (conf == NULL)
        return;
    release_keys(bridge_keys, COUNT(bridge_keys), conf);
    free(conf->file);
    free(conf);
}

int arb_replay_conf_load(const char *file, struct arb_replay_conf **out,
                         struct arb_conf_errors *errors)
{
    struct arb_replay_conf *conf = arb_xcalloc(1, sizeof(*conf));
    conf->file = arb_xstrdup(file);
    if (conf_load(file, replay_keys, COUNT(replay_keys), conf, check_replay, errors) != 0) {
        arb_replay_conf_destroy(conf);
        conf = NULL;
    }
    *out = conf;
    return conf != NULL ? 0 : -1;
}

void arb_replay_conf_destroy(struct arb_replay_conf *conf)
{
    if (conf == NULL)
        return;
    release_keys(replay_keys, COUNT(replay_keys), conf);
    free(conf->file);
    free(conf);
}

/* The docs are the rows' first member, copied out once. */
static struct arb_conf_doc bridge_docs[COUNT(bridge_keys)];
static struct arb_conf_doc replay_docs[COUNT(replay_keys)];
static pthread_once_t bridge_docs_once = PTHREAD_ONCE_INIT;
static pthread_once_t replay_docs_once = PTHREAD_ONCE_INIT;

static void copy_docs(const struct conf_key *keys, size_t nkeys, struct arb_conf_doc *docs)
{
    for (size_t i = 0; i < nkeys; i++)
        docs[i] = keys[i].doc;
}

static void fill_bridge_docs(void)
{
    copy_docs(bridge_keys, COUNT(bridge_keys), bridge_docs);
}

static void fill_replay_docs(void)
{
    copy_docs(replay_keys, COUNT(replay_keys), replay_docs);
}

const struct arb_conf_doc *arb_bridge_conf_docs(size_t *count)
{
    pthread_once(&bridge_docs_once, fill_bridge_docs);
    *count = COUNT(bridge_docs);
    return bridge_docs;
}

const struct arb_conf_doc *arb_replay_conf_docs(size_t *count)
{
    pthread_once(&replay_docs_once, fill_replay_docs);
    *count = COUNT(replay_docs);
    return replay_docs;
}

/* ---- listen addresses -------------------------------------------------------------------- */

/* 1..65535, digits only. */
static int parse_port(const char *text, int *port)
{
    size_t len = strspn(text, "0123456789");
    if (len == 0 || len > 5 || text[len] != '\0')
        return -1;
    long value = strtol(text, NULL, 10);
    if (value < 1 || value > 65535)
        return -1;
    *port = (int)value;
    return 0;
}

int arb_listen_parse(const char *listen, char *host, size_t host_size, int *port)
{
    const char *start = listen, *end, *colon;

    if (listen[0] == '[') {
        start = listen + 1;
        end = strchr(start, ']');
        if (end == NULL || end[1] != ':')
            return -1;
        colon = end + 1;
    } else {
        colon = end = strchr(listen, ':');
        if (colon == NULL || strchr(colon + 1, ':') != NULL)
            return -1;
    }
    size_t len = (size_t)(end - start);
    if (len == 0 || len >= host_size || memchr(start, '[', len) != NULL ||
        memchr(start, ']', len) != NULL || parse_port(colon + 1, port) != 0)
        return -1;
    memcpy(host, start, len);
    host[len] = '\0';
    return 0;
}
