/* conf_engine.h - the table engine under both binaries' configuration (conf_bridge.c,
 * conf_replay.c, conf_shared.c).
 *
 * A group is a table of keys; a key says how its value is loaded (a string, an integer in
 * bounds, an enum, a nested group, a list of groups, or a loader of its own), where it goes
 * (an offset into the group's struct), its default in libconfig syntax and one line of
 * documentation. A group may have a check for what involves several of its keys, run once
 * its keys are loaded, whatever their order. Loading reads libconfig text (never a file:
 * the caller reads it), resolves ${NAME} and "file:PATH" through a resolver the caller
 * passes, reports every problem as "file:line: message", all of them, sorted by line, and
 * treats unknown keys as errors. The same tables describe the keys for the README. */
#ifndef ARB_CONF_ENGINE_H
#define ARB_CONF_ENGINE_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#include "arb/buf.h"
#include "arb/config.h"
#include "arb/error.h"
#include "arb/resolver.h"

#define ARB_CONF_PATH_MAX 256 /* a key path in a message, e.g. "routes[3].topic" */

struct arb_conf_ctx; /* one load */
struct arb_conf_key;

/* s is the file's setting, or the parsed default; path names it in messages. */
typedef int arb_conf_load_fn(struct arb_conf_ctx *ctx, const struct arb_conf_key *key,
                             const char *path, const config_setting_t *s, void *field);
typedef void arb_conf_release_fn(const struct arb_conf_key *key, void *field);
/* group is the group's setting in the file, or NULL when it was left out. */
typedef void arb_conf_check_fn(struct arb_conf_ctx *ctx, const char *path,
                               const config_setting_t *group, void *object);

struct arb_conf_group {
    const struct arb_conf_key *keys;
    size_t nkeys;
    size_t size; /* of the struct it fills: list elements are allocated by it */
    arb_conf_check_fn *check;
};

struct arb_conf_key {
    const char *name;          /* the member's name in its group */
    const char *type;          /* as documented */
    const char *default_value; /* libconfig syntax; NULL: none (required, or custom) */
    const char *doc;
    arb_conf_load_fn *load;
    arb_conf_release_fn *release; /* NULL when nothing is owned */
    size_t offset;
    long long min, max;                         /* integers and numbers */
    int (*parse)(const char *name, int *value); /* enums */
    const char *choices;                        /* enums, for messages */
    int (*check)(const char *value, struct arb_error *err); /* strings */
    bool required;
    const struct arb_conf_group *group; /* nested groups, and the elements of lists */
    size_t count_offset;                /* lists of groups: where the count goes */
};

/* The loaders and releases keys refer to. */
arb_conf_load_fn arb_conf_load_string, arb_conf_load_int, arb_conf_load_int64,
    arb_conf_load_float, arb_conf_load_bool, arb_conf_load_enum, arb_conf_load_group,
    arb_conf_load_list, arb_conf_load_strings;
arb_conf_release_fn arb_conf_release_string, arb_conf_release_group, arb_conf_release_list,
    arb_conf_release_strings;

/* Rows of a table; every plain value has a default or is required. Defaults are written as C tokens and stringified, which is libconfig
 * syntax: "x" gives "\"x\"", 30 gives "30", false gives "false"; bounds likewise. */
#define ARB_CONF_KEY(name_, T, member, type_, def, doc_, ...)                                  \
    {.name = name_, .type = type_, .default_value = def, .doc = doc_,                         \
     .offset = offsetof(T, member), __VA_ARGS__}
#define ARB_CONF_STRING(name, T, member, def, check_, doc)                                     \
    ARB_CONF_KEY(name, T, member, "string", #def, doc, .load = arb_conf_load_string,          \
                 .release = arb_conf_release_string, .check = check_)
#define ARB_CONF_REQUIRED_STRING(name, T, member, check_, doc)                                 \
    ARB_CONF_KEY(name, T, member, "string", NULL, doc, .load = arb_conf_load_string,          \
                 .release = arb_conf_release_string, .check = check_, .required = true)
#define ARB_CONF_INT(name, T, member, def, lo, hi, doc)                                        \
    ARB_CONF_KEY(name, T, member, "integer " #lo ".." #hi, #def, doc,                         \
                 .load = arb_conf_load_int, .min = lo, .max = hi)
#define ARB_CONF_INT64(name, T, member, def, lo, hi, doc)                                      \
    ARB_CONF_KEY(name, T, member, "integer " #lo ".." #hi, #def, doc,                         \
                 .load = arb_conf_load_int64, .min = lo, .max = hi)
#define ARB_CONF_FLOAT(name, T, member, def, lo, hi, doc)                                      \
    ARB_CONF_KEY(name, T, member, "number " #lo ".." #hi, #def, doc,                          \
                 .load = arb_conf_load_float, .min = lo, .max = hi)
#define ARB_CONF_BOOL(name, T, member, def, doc)                                               \
    ARB_CONF_KEY(name, T, member, "boolean", #def, doc, .load = arb_conf_load_bool)
#define ARB_CONF_ENUM(name, T, member, def, parse_, choices_, doc)                             \
    ARB_CONF_KEY(name, T, member, "one of " choices_, #def, doc, .load = arb_conf_load_enum,  \
                 .parse = parse_, .choices = choices_)
#define ARB_CONF_GROUP(name, T, member, group_)                                                \
    ARB_CONF_KEY(name, T, member, "group", NULL, NULL, .load = arb_conf_load_group,           \
                 .release = arb_conf_release_group, .group = &(group_))
/* A list of groups into member (a pointer) and count (a size_t). */
#define ARB_CONF_LIST(name, T, member, count, type_, def, group_, doc)                         \
    ARB_CONF_KEY(name, T, member, type_, def, doc, .load = arb_conf_load_list,                \
                 .release = arb_conf_release_list, .group = &(group_),                        \
                 .count_offset = offsetof(T, count))
/* A list of strings into member (char **) and count (a size_t); check_ applies to each. */
#define ARB_CONF_STRINGS(name, T, member, count, def, check_, doc)                             \
    ARB_CONF_KEY(name, T, member, "list of strings", def, doc, .load = arb_conf_load_strings, \
                 .release = arb_conf_release_strings, .check = check_,                        \
                 .count_offset = offsetof(T, count))
#define ARB_CONF_CUSTOM(name, T, member, type_, def, load_, release_, doc)                     \
    ARB_CONF_KEY(name, T, member, type_, def, doc, .load = load_, .release = release_)

#define ARB_CONF_GROUP_OF(T, keys_, check_)                                                    \
    {.keys = keys_, .nkeys = sizeof(keys_) / sizeof((keys_)[0]), .size = sizeof(T),           \
     .check = check_}

/* Parse text (named name in messages) into object (zeroed, root's struct) with root. On
 * failure every problem is appended to errors, object is released, and -1 is returned. */
int arb_conf_parse(const char *name, const char *text, const struct arb_conf_group *root,
                   void *object, const struct arb_resolver *resolver,
                   struct arb_conf_errors *errors);
void arb_conf_release(const struct arb_conf_group *root, void *object);

/* Every documented key under root, depth first, list elements as "name[].key". */
void arb_conf_describe(const struct arb_conf_group *root, arb_conf_doc_fn *fn, void *opaque);

/* ---- for loaders and checks ---- */

/* Report at setting s (no line when NULL); always returns -1. */
int arb_conf_fail(struct arb_conf_ctx *ctx, const config_setting_t *s, const char *path,
                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The string value of s with ${NAME} resolved (malloc'd), or NULL after reporting. */
char *arb_conf_string(struct arb_conf_ctx *ctx, const config_setting_t *s, const char *path);
/* A secret: a string as above, "file:PATH" replaced by the file's contents (trailing CR/LF
 * dropped). *len is its length. -1 after reporting. */
int arb_conf_secret(struct arb_conf_ctx *ctx, const config_setting_t *s, const char *path,
                    char **value, size_t *len);
/* Whether loading path reported an error (its field then holds nothing useful). */
bool arb_conf_failed(const struct arb_conf_ctx *ctx, const char *path);
/* The member of a group setting, or NULL (group may be NULL). */
const config_setting_t *arb_conf_member(const config_setting_t *group, const char *name);
/* The resolver of this load (conf_value.c resolves ${NAME} and file: with it). */
const struct arb_resolver *arb_conf_resolver(const struct arb_conf_ctx *ctx);
/* base.name and base[index] into out (ARB_CONF_PATH_MAX bytes). */
void arb_conf_path(char *out, const char *base, const char *name);
void arb_conf_path_index(char *out, const char *base, int index);

#endif
