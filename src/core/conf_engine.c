/* conf_engine.c - the configuration table engine (see conf_engine.h).
 *
 * A load walks the root group: every member of the file's group that no key describes is
 * reported, then every key is loaded from the file or else from its default (parsed by
 * libconfig too, so both take the same path and the bounds check covers the defaults),
 * then the group's check runs. Nested groups and the elements of lists are walked the same
 * way. Errors are collected with their line, sorted by line, and handed over all at once;
 * the paths whose load failed are remembered, so checks do not pile a second message on a
 * value that was already refused. */
#include "arb/conf_engine.h"
#include "arb/mem.h"

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct conf_error {
    const char *file; /* owned by the libconfig tree or the caller */
    int line;         /* 0 = no line */
    size_t seq;       /* keeps the order of errors on one line */
    char *text;       /* "key: message" */
};

struct arb_conf_ctx {
    const char *name;
    const struct arb_resolver *resolver;
    config_t config;
    struct conf_error *errors;
    size_t nerrors;
    char **failed;
    size_t nfailed;
};

/* ---- errors ---- */

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

static void push_error(struct arb_conf_ctx *ctx, const char *file, int line, const char *path,
                       const char *message)
{
    struct arb_buf text;
    arb_buf_init(&text);
    if (path != NULL)
        arb_buf_printf(&text, "%s: ", path);
    arb_buf_puts(&text, message);
    ctx->errors = arb_xrealloc(ctx->errors, (ctx->nerrors + 1) * sizeof(*ctx->errors));
    ctx->errors[ctx->nerrors] = (struct conf_error){file, line, ctx->nerrors,
                                                    arb_buf_detach(&text, NULL)};
    ctx->nerrors++;
}

int arb_conf_fail(struct arb_conf_ctx *ctx, const config_setting_t *s, const char *path,
                  const char *fmt, ...)
{
    const char *file = s != NULL ? config_setting_source_file(s) : NULL;
    int line = s != NULL ? (int)config_setting_source_line(s) : 0;
    va_list ap;
    va_start(ap, fmt);
    char *message = vformat(fmt, ap);
    va_end(ap);
    push_error(ctx, file != NULL ? file : ctx->name, line, path, message);
    free(message);
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
static void flush_errors(struct arb_conf_ctx *ctx, struct arb_conf_errors *errors)
{
    if (ctx->nerrors > 0)
        qsort(ctx->errors, ctx->nerrors, sizeof(*ctx->errors), error_order);
    for (size_t i = 0; i < ctx->nerrors; i++) {
        arb_conf_errors_add(errors, ctx->errors[i].file, ctx->errors[i].line, "%s",
                            ctx->errors[i].text);
        free(ctx->errors[i].text);
    }
    free(ctx->errors);
    ctx->errors = NULL;
    ctx->nerrors = 0;
}

static void mark_failed(struct arb_conf_ctx *ctx, const char *path)
{
    ctx->failed = arb_xrealloc(ctx->failed, (ctx->nfailed + 1) * sizeof(*ctx->failed));
    ctx->failed[ctx->nfailed++] = arb_xstrdup(path);
}

bool arb_conf_failed(const struct arb_conf_ctx *ctx, const char *path)
{
    for (size_t i = 0; i < ctx->nfailed; i++)
        if (strcmp(ctx->failed[i], path) == 0)
            return true;
    return false;
}

/* ---- paths and settings ---- */

void arb_conf_path(char *out, const char *base, const char *name)
{
    snprintf(out, ARB_CONF_PATH_MAX, "%s%s%s", base, base[0] != '\0' ? "." : "", name);
}

void arb_conf_path_index(char *out, const char *base, int index)
{
    snprintf(out, ARB_CONF_PATH_MAX, "%s[%d]", base, index);
}

const config_setting_t *arb_conf_member(const config_setting_t *group, const char *name)
{
    if (group == NULL || !config_setting_is_group(group))
        return NULL;
    return config_setting_get_member(group, name);
}

/* ---- plain values ---- */

int arb_conf_load_string(struct arb_conf_ctx *ctx, const struct arb_conf_key *key,
                         const char *path, const config_setting_t *s, void *field)
{
    struct arb_error err;
    char *value = arb_conf_string(ctx, s, path);
    if (value == NULL)
        return -1;
    if (key->check != NULL && key->check(value, &err) != 0) {
        free(value);
        return arb_conf_fail(ctx, s, path, "%s", err.message);
    }
    *(char **)field = value;
    return 0;
}

void arb_conf_release_string(const struct arb_conf_key *key, void *field)
{
    (void)key;
    free(*(char **)field);
    *(char **)field = NULL;
}

static int integer_value(struct arb_conf_ctx *ctx, const struct arb_conf_key *key,
                         const char *path, const config_setting_t *s, long long *out)
{
    int type = config_setting_type(s);
    if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
        return arb_conf_fail(ctx, s, path, "expected integer");
    *out = config_setting_get_int64(s);
    if (*out < key->min || *out > key->max)
        return arb_conf_fail(ctx, s, path, "must be between %lld and %lld", key->min, key->max);
    return 0;
}

int arb_conf_load_int(struct arb_conf_ctx *ctx, const struct arb_conf_key *key,
                      const char *path, const config_setting_t *s, void *field)
{
    long long value = 0;
    if (integer_value(ctx, key, path, s, &value) != 0)
        return -1;
    *(int *)field = (int)value;
    return 0;
}

int arb_conf_load_int64(struct arb_conf_ctx *ctx, const struct arb_conf_key *key,
                        const char *path, const config_setting_t *s, void *field)
{
    long long value = 0;
    if (integer_value(ctx, key, path, s, &value) != 0)
        return -1;
    *(int64_t *)field = value;
    return 0;
}

/* An integer or a float. */
int arb_conf_load_float(struct arb_conf_ctx *ctx, const struct arb_conf_key *key,
                        const char *path, const config_setting_t *s, void *field)
{
    int type = config_setting_type(s);
    double value;

    if (type == CONFIG_TYPE_FLOAT)
        value = config_setting_get_float(s);
    else if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64)
        value = (double)config_setting_get_int64(s);
    else
        return arb_conf_fail(ctx, s, path, "expected number");
    if (!(value >= (double)key->min && value <= (double)key->max))
        return arb_conf_fail(ctx, s, path, "must be between %lld and %lld", key->min, key->max);
    *(double *)field = value;
    return 0;
}

int arb_conf_load_bool(struct arb_conf_ctx *ctx, const struct arb_conf_key *key,
                       const char *path, const config_setting_t *s, void *field)
{
    (void)key;
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return arb_conf_fail(ctx, s, path, "expected boolean");
    *(bool *)field = config_setting_get_bool(s) != 0;
    return 0;
}

int arb_conf_load_enum(struct arb_conf_ctx *ctx, const struct arb_conf_key *key,
                       const char *path, const config_setting_t *s, void *field)
{
    int value, rc;
    char *name = arb_conf_string(ctx, s, path);

    if (name == NULL)
        return -1;
    rc = key->parse(name, &value);
    free(name);
    if (rc != 0)
        return arb_conf_fail(ctx, s, path, "must be one of %s", key->choices);
    *(int *)field = value;
    return 0;
}

/* ---- lists of strings ---- */

int arb_conf_load_strings(struct arb_conf_ctx *ctx, const struct arb_conf_key *key,
                          const char *path, const config_setting_t *s, void *field)
{
    char ***list = field;
    size_t *count = (size_t *)((char *)field - key->offset + key->count_offset);
    char elem_path[ARB_CONF_PATH_MAX];
    int rc = 0;

    if (!config_setting_is_list(s) && !config_setting_is_array(s))
        return arb_conf_fail(ctx, s, path, "expected a list of strings");
    int n = config_setting_length(s);
    *list = arb_xcalloc((size_t)n, sizeof(char *));
    for (int i = 0; i < n; i++) {
        const config_setting_t *elem = config_setting_get_elem(s, (unsigned)i);
        struct arb_error err;
        arb_conf_path_index(elem_path, path, i);
        char *value = arb_conf_string(ctx, elem, elem_path);
        if (value == NULL) {
            rc = -1;
            continue;
        }
        (*list)[(*count)++] = value;
        if (key->check != NULL && key->check(value, &err) != 0)
            rc = arb_conf_fail(ctx, elem, elem_path, "%s", err.message);
    }
    return rc;
}

void arb_conf_release_strings(const struct arb_conf_key *key, void *field)
{
    char ***list = field;
    size_t *count = (size_t *)((char *)field - key->offset + key->count_offset);
    for (size_t i = 0; i < *count; i++)
        free((*list)[i]);
    free(*list);
    *list = NULL;
    *count = 0;
}

/* ---- groups ---- */

static const struct arb_conf_key *find_key(const struct arb_conf_group *group, const char *name)
{
    for (size_t i = 0; i < group->nkeys; i++)
        if (strcmp(group->keys[i].name, name) == 0)
            return &group->keys[i];
    return NULL;
}

static void report_unknown(struct arb_conf_ctx *ctx, const char *path,
                           const config_setting_t *s, const struct arb_conf_group *group)
{
    char member_path[ARB_CONF_PATH_MAX];
    for (int i = 0; i < config_setting_length(s); i++) {
        const config_setting_t *member = config_setting_get_elem(s, (unsigned)i);
        if (find_key(group, config_setting_name(member)) != NULL)
            continue;
        arb_conf_path(member_path, path, config_setting_name(member));
        arb_conf_fail(ctx, member, NULL, "unknown key '%s'", member_path);
    }
}

/* The defaults of a group's keys that its setting leaves out, parsed by libconfig at once
 * into defaults, as "k<index> = <default>;": one parse a group, not one a key. */
static void parse_defaults(config_t *defaults, const struct arb_conf_group *group,
                           const config_setting_t *s)
{
    struct arb_buf text;
    arb_buf_init(&text);
    for (size_t i = 0; i < group->nkeys; i++)
        if (group->keys[i].default_value != NULL &&
            arb_conf_member(s, group->keys[i].name) == NULL)
            arb_buf_printf(&text, "k%zu = %s;\n", i, group->keys[i].default_value);
    int ok = text.len == 0 || config_read_string(defaults, text.data);
    arb_buf_free(&text);
    assert(ok == CONFIG_TRUE && "a default in a key table does not parse");
    (void)ok;
}

static const config_setting_t *default_of(const config_t *defaults, size_t index)
{
    char name[24];
    snprintf(name, sizeof(name), "k%zu", index);
    return config_lookup(defaults, name);
}

static bool is_group_key(const struct arb_conf_key *key)
{
    return key->load == arb_conf_load_group;
}

/* Load key number index of a group whose setting is group (NULL when left out). */
static void load_key(struct arb_conf_ctx *ctx, const struct arb_conf_key *key, size_t index,
                     const char *path, const config_setting_t *group, const config_t *defaults,
                     void *object)
{
    const config_setting_t *s = arb_conf_member(group, key->name);
    int rc;

    if (s == NULL && key->default_value != NULL)
        s = default_of(defaults, index);
    if (s == NULL && key->required)
        rc = arb_conf_fail(ctx, group, path, "required");
    else /* groups and custom loaders are called without a setting when it is left out */
        rc = key->load(ctx, key, path, s, (char *)object + key->offset);
    if (rc != 0)
        mark_failed(ctx, path);
}

static int load_group(struct arb_conf_ctx *ctx, const char *path, const config_setting_t *s,
                      const struct arb_conf_group *group, void *object)
{
    char key_path[ARB_CONF_PATH_MAX];
    size_t errors = ctx->nerrors;

    if (s != NULL && !config_setting_is_group(s))
        return arb_conf_fail(ctx, s, path, "expected a group");
    if (s != NULL)
        report_unknown(ctx, path, s, group);
    config_t defaults;
    config_init(&defaults);
    parse_defaults(&defaults, group, s);
    for (size_t i = 0; i < group->nkeys; i++) {
        arb_conf_path(key_path, path, group->keys[i].name);
        load_key(ctx, &group->keys[i], i, key_path, s, &defaults, object);
    }
    config_destroy(&defaults);
    if (group->check != NULL)
        group->check(ctx, path, s, object);
    return ctx->nerrors == errors ? 0 : -1;
}

int arb_conf_load_group(struct arb_conf_ctx *ctx, const struct arb_conf_key *key,
                        const char *path, const config_setting_t *s, void *field)
{
    return load_group(ctx, path, s, key->group, field);
}

static void release_group(const struct arb_conf_group *group, void *object)
{
    for (size_t i = 0; i < group->nkeys; i++)
        if (group->keys[i].release != NULL)
            group->keys[i].release(&group->keys[i], (char *)object + group->keys[i].offset);
}

void arb_conf_release_group(const struct arb_conf_key *key, void *field)
{
    release_group(key->group, field);
}

/* "( { a = "..."; b = "..."; } )", from the required members of the element group. */
static void list_shape(const struct arb_conf_group *group, struct arb_buf *out)
{
    arb_buf_puts(out, "( {");
    for (size_t i = 0; i < group->nkeys; i++)
        if (group->keys[i].required)
            arb_buf_printf(out, " %s = \"...\";", group->keys[i].name);
    arb_buf_puts(out, " } )");
}

int arb_conf_load_list(struct arb_conf_ctx *ctx, const struct arb_conf_key *key,
                       const char *path, const config_setting_t *s, void *field)
{
    void **elements = field;
    size_t *count = (size_t *)((char *)field - key->offset + key->count_offset);
    const struct arb_conf_group *group = key->group;
    char elem_path[ARB_CONF_PATH_MAX];
    int rc = 0;

    if (s == NULL) /* left out, and no default: no elements */
        return 0;
    if (!config_setting_is_list(s)) {
        struct arb_buf shape;
        arb_buf_init(&shape);
        list_shape(group, &shape);
        arb_conf_fail(ctx, s, path, "expected a list of groups %s", shape.data);
        arb_buf_free(&shape);
        return -1;
    }
    int n = config_setting_length(s);
    *elements = arb_xcalloc((size_t)n, group->size);
    *count = (size_t)n; /* all of them, loaded or not, so release covers each */
    for (int i = 0; i < n; i++) {
        arb_conf_path_index(elem_path, path, i);
        if (load_group(ctx, elem_path, config_setting_get_elem(s, (unsigned)i), group,
                       (char *)*elements + (size_t)i * group->size) != 0)
            rc = -1;
    }
    return rc;
}

void arb_conf_release_list(const struct arb_conf_key *key, void *field)
{
    void **elements = field;
    size_t *count = (size_t *)((char *)field - key->offset + key->count_offset);
    for (size_t i = 0; *elements != NULL && i < *count; i++)
        release_group(key->group, (char *)*elements + i * key->group->size);
    free(*elements);
    *elements = NULL;
    *count = 0;
}

/* ---- a whole load ---- */

int arb_conf_parse(const char *name, const char *text, const struct arb_conf_group *root,
                   void *object, const struct arb_resolver *resolver,
                   struct arb_conf_errors *errors)
{
    struct arb_conf_ctx ctx = {.name = name, .resolver = resolver};

    config_init(&ctx.config);
    if (config_read_string(&ctx.config, text) == CONFIG_TRUE) {
        load_group(&ctx, "", config_root_setting(&ctx.config), root, object);
    } else {
        const char *file = config_error_file(&ctx.config);
        push_error(&ctx, file != NULL ? file : name, config_error_line(&ctx.config), NULL,
                   config_error_text(&ctx.config));
    }
    int rc = ctx.nerrors == 0 ? 0 : -1;
    flush_errors(&ctx, errors);
    config_destroy(&ctx.config);
    for (size_t i = 0; i < ctx.nfailed; i++)
        free(ctx.failed[i]);
    free(ctx.failed);
    if (rc != 0)
        release_group(root, object);
    return rc;
}

void arb_conf_release(const struct arb_conf_group *root, void *object)
{
    release_group(root, object);
}

/* ---- documentation ---- */

static void describe(const struct arb_conf_group *group, const char *prefix,
                     arb_conf_doc_fn *fn, void *opaque)
{
    char path[ARB_CONF_PATH_MAX], elements[ARB_CONF_PATH_MAX + 2];
    for (size_t i = 0; i < group->nkeys; i++) {
        const struct arb_conf_key *key = &group->keys[i];
        arb_conf_path(path, prefix, key->name);
        if (is_group_key(key) && key->doc == NULL) { /* documented by its members */
            describe(key->group, path, fn, opaque);
            continue;
        }
        const struct arb_conf_doc doc = {path, key->type, key->default_value, key->doc,
                                         key->required};
        fn(opaque, &doc);
        if (key->group != NULL && !is_group_key(key)) { /* a list: its elements' keys */
            snprintf(elements, sizeof(elements), "%s[]", path);
            describe(key->group, elements, fn, opaque);
        }
    }
}

void arb_conf_describe(const struct arb_conf_group *root, arb_conf_doc_fn *fn, void *opaque)
{
    describe(root, "", fn, opaque);
}

const struct arb_resolver *arb_conf_resolver(const struct arb_conf_ctx *ctx)
{
    return ctx->resolver;
}
