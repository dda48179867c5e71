/* conf_input.c - see conf_input.h. */
#define _GNU_SOURCE /* memmem */
#include "conf_input.h"

#include <stdlib.h>
#include <string.h>

/* The environment and files a fuzzed configuration may refer to. */
static const char *env(void *opaque, const char *name)
{
    static const char *const vars[][2] = {
        {"AIRUDDER_SIGN_SECRET", "fuzz-sign-secret"},
        {"AIRUDDER_SIGN_SECRET_OLD", "fuzz-old-secret"},
        {"DESK_SIGN_SECRET", "fuzz-desk-secret"},
        {"ARB_SIGN_SECRET", "fuzz-arb-secret"},
    };
    (void)opaque;
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        if (strcmp(name, vars[i][0]) == 0)
            return vars[i][1];
    return NULL;
}

static int read_file(void *opaque, const char *path, size_t max, struct arb_buf *out,
                     struct arb_error *err)
{
    (void)opaque;
    if (strcmp(path, "secret") != 0 || max < 16)
        return arb_error_set(err, ARB_E_IO, "cannot read %s: No such file or directory", path);
    arb_buf_puts(out, "file-secret\n");
    return 0;
}

static const struct arb_resolver resolver = {env, read_file, NULL};

const struct arb_resolver *arb_fuzz_resolver(void)
{
    return &resolver;
}

char *arb_fuzz_conf_text(const uint8_t *data, size_t size)
{
    /* libconfig reads @include files itself; the loader is what is fuzzed */
    if (memmem(data, size, "@include", strlen("@include")) != NULL ||
        memchr(data, '\0', size) != NULL)
        return NULL;
    char *text = malloc(size + 1);
    if (text == NULL)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    return text;
}
