/* conf_value.c - what a configuration string means: ${NAME} is the environment variable
 * (an unset one is an error), and a secret "file:PATH" is the file's contents. Both go
 * through the load's resolver, so the loader itself reads nothing. */
#include "arb/conf_engine.h"
#include "arb/mem.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SECRET_FILE_MAX 65536 /* "file:" values are secrets, not documents */

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

/* text with every ${NAME} replaced; NULL after reporting. */
static char *expand_env(struct arb_conf_ctx *ctx, const config_setting_t *s, const char *path,
                        const char *text)
{
    const struct arb_resolver *resolver = arb_conf_resolver(ctx);
    struct arb_buf out;
    char *result = NULL;
    const char *ref;

    arb_buf_init(&out);
    while ((ref = strstr(text, "${")) != NULL) {
        size_t len = env_name_length(ref + 2);
        arb_buf_append(&out, text, (size_t)(ref - text));
        if (len == 0 || ref[2 + len] != '}') {
            arb_conf_fail(ctx, s, path, "malformed environment reference (expected ${NAME})");
            goto out;
        }
        char *name = arb_xstrndup(ref + 2, len);
        const char *value = resolver->env(resolver->opaque, name);
        if (value == NULL)
            arb_conf_fail(ctx, s, path, "environment variable %s is not set", name);
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

char *arb_conf_string(struct arb_conf_ctx *ctx, const config_setting_t *s, const char *path)
{
    if (s == NULL || config_setting_type(s) != CONFIG_TYPE_STRING) {
        arb_conf_fail(ctx, s, path, "expected string");
        return NULL;
    }
    return expand_env(ctx, s, path, config_setting_get_string(s));
}

int arb_conf_secret(struct arb_conf_ctx *ctx, const config_setting_t *s, const char *path,
                    char **value, size_t *len)
{
    const struct arb_resolver *resolver = arb_conf_resolver(ctx);
    struct arb_buf contents;
    struct arb_error err;

    *value = arb_conf_string(ctx, s, path);
    if (*value == NULL)
        return -1;
    *len = strlen(*value);
    if (strncmp(*value, "file:", strlen("file:")) != 0)
        return 0;
    arb_buf_init(&contents);
    if (resolver->read_file(resolver->opaque, *value + strlen("file:"), SECRET_FILE_MAX,
                            &contents, &err) != 0) {
        arb_conf_fail(ctx, s, path, "%s", err.message);
        arb_buf_free(&contents);
        free(*value);
        *value = NULL;
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
